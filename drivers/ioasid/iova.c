// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: the IOVA space of an IOAS - which ranges are taken by areas, which
 * are reserved by attached devices, which lie outside what every domain can
 * translate, and where a new mapping of a given size fits.
 */
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "ioasid_private.h"

/**
 * struct ioasid_resv - a reserved IOVA region of an attached device
 * @node: in ioas->resv
 * @start: first IOVA
 * @last: last IOVA (inclusive)
 * @owner: the device whose attachment reported it
 */
struct ioasid_resv {
	struct list_head node;
	unsigned long start;
	unsigned long last;
	const void *owner;
};

static bool ioasid_resv_overlaps(struct ioasid_ioas *ioas, unsigned long start,
				 unsigned long last, unsigned long *conflict_last)
{
	struct ioasid_resv *resv;
	bool found = false;

	list_for_each_entry(resv, &ioas->resv, node) {
		if (resv->start > last || resv->last < start)
			continue;
		if (!found || resv->last > *conflict_last)
			*conflict_last = resv->last;
		found = true;
	}
	return found;
}

/**
 * ioasid_iova_check() - can [iova, iova + length) take a new area?
 * @ioas: the IOAS, locked
 * @iova: start
 * @length: non-zero length; iova + length does not wrap
 *
 * Return: 0; -ERANGE if the range is misaligned for a domain of the IOAS or
 * outside a domain's aperture; -EADDRINUSE if it overlaps a reserved region;
 * -EEXIST if it overlaps an area.
 */
int ioasid_iova_check(struct ioasid_ioas *ioas, unsigned long iova,
		      unsigned long length)
{
	unsigned long last = iova + length - 1, unused;

	lockdep_assert_held(&ioas->mutex);
	if (!IS_ALIGNED(iova | length, ioas->iova_alignment))
		return -ERANGE;
	if (iova < ioas->aperture_start || last > ioas->aperture_last)
		return -ERANGE;
	if (ioasid_resv_overlaps(ioas, iova, last, &unused))
		return -EADDRINUSE;
	if (ioasid_area_first(&ioas->areas, iova, last))
		return -EEXIST;
	return 0;
}

/**
 * ioasid_iova_alloc() - find a free IOVA range
 * @ioas: the IOAS, locked
 * @length: non-zero length, a multiple of the IOAS's alignment
 * @align: power-of-two alignment of the start, at least the IOAS's
 * @iova: returns the start
 *
 * First fit from the bottom of the aperture, stepping over areas and
 * reserved regions.
 *
 * Return: 0, or -ENOSPC when no such range is free.
 */
int ioasid_iova_alloc(struct ioasid_ioas *ioas, unsigned long length,
		      unsigned long align, unsigned long *iova)
{
	unsigned long start, last, next;

	lockdep_assert_held(&ioas->mutex);
	start = ALIGN(ioas->aperture_start, align);
	while (start >= ioas->aperture_start &&
	       !check_add_overflow(start, length - 1, &last) &&
	       last <= ioas->aperture_last) {
		unsigned long conflict = 0;
		struct ioasid_area *area;
		bool busy = false;

		area = ioasid_area_first(&ioas->areas, start, last);
		if (area) {
			busy = true;
			conflict = area->last;
		}
		if (ioasid_resv_overlaps(ioas, start, last, &next)) {
			busy = true;
			conflict = max(conflict, next);
		}
		if (!busy) {
			*iova = start;
			return 0;
		}
		if (conflict == ULONG_MAX)
			break;
		next = ALIGN(conflict + 1, align);
		if (next <= start)
			break;
		start = next;
		cond_resched();
	}
	return -ENOSPC;
}

/**
 * ioasid_iova_add_resv() - carve out the reserved regions of a device
 * @ioas: the IOAS, locked
 * @dev: the device (for the error message)
 * @group: its group, whose reserved regions are read
 * @owner: a cookie to remove them by later
 *
 * Return: 0; -EADDRINUSE if an area overlaps a region (nothing is added);
 * -ENOMEM.
 */
int ioasid_iova_add_resv(struct ioasid_ioas *ioas, struct device *dev,
			 struct iommu_group *group, const void *owner)
{
	struct iommu_resv_region *region;
	LIST_HEAD(regions);
	LIST_HEAD(added);
	int rc;

	lockdep_assert_held(&ioas->mutex);
	rc = iommu_get_group_resv_regions(group, &regions);
	if (rc)
		goto out;
	list_for_each_entry(region, &regions, list) {
		unsigned long last = region->start + region->length - 1;
		struct ioasid_resv *resv;

		if (!region->length)
			continue;
		if (ioasid_area_first(&ioas->areas, region->start, last)) {
			dev_dbg(dev, "ioasid: reserved region %pa+%zx is mapped\n",
				&region->start, region->length);
			rc = -EADDRINUSE;
			goto err;
		}
		resv = kzalloc(sizeof(*resv), GFP_KERNEL_ACCOUNT);
		if (!resv) {
			rc = -ENOMEM;
			goto err;
		}
		resv->start = region->start;
		resv->last = last;
		resv->owner = owner;
		list_add_tail(&resv->node, &added);
	}
	list_splice_tail(&added, &ioas->resv);
	goto out;

err:
	while (!list_empty(&added)) {
		struct ioasid_resv *resv = list_first_entry(&added, struct ioasid_resv, node);

		list_del(&resv->node);
		kfree(resv);
	}
out:
	iommu_put_resv_regions(NULL, &regions);
	return rc;
}

/**
 * ioasid_iova_remove_resv() - drop the reserved regions a device added
 * @ioas: the IOAS, locked
 * @owner: the cookie given to ioasid_iova_add_resv()
 */
void ioasid_iova_remove_resv(struct ioasid_ioas *ioas, const void *owner)
{
	struct ioasid_resv *resv, *tmp;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry_safe(resv, tmp, &ioas->resv, node) {
		if (resv->owner != owner)
			continue;
		list_del(&resv->node);
		kfree(resv);
	}
}

static int ioasid_range_cmp(const void *a, const void *b)
{
	const struct ioasid_iova_range *ra = a, *rb = b;

	if (ra->start != rb->start)
		return ra->start < rb->start ? -1 : 1;
	return 0;
}

/**
 * ioasid_iova_ranges() - the usable IOVA ranges, ascending
 * @ioas: the IOAS, locked
 * @out: array to fill, may be NULL when @max is 0
 * @max: capacity of @out
 *
 * The aperture minus the reserved regions.
 *
 * Return: the number of ranges (which may exceed @max; only @max are
 * written), or -ENOMEM.
 */
int ioasid_iova_ranges(struct ioasid_ioas *ioas, struct ioasid_iova_range *out,
		       unsigned int max)
{
	struct ioasid_iova_range *holes;
	struct ioasid_resv *resv;
	unsigned long cursor = ioas->aperture_start;
	unsigned int nholes = 0, i, n = 0;
	bool done = false;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(resv, &ioas->resv, node)
		nholes++;
	holes = kcalloc(nholes, sizeof(*holes), GFP_KERNEL);
	if (nholes && !holes)
		return -ENOMEM;
	i = 0;
	list_for_each_entry(resv, &ioas->resv, node)
		holes[i++] = (struct ioasid_iova_range){ resv->start, resv->last };
	sort(holes, nholes, sizeof(*holes), ioasid_range_cmp, NULL);

	for (i = 0; i < nholes; i++) {
		if (holes[i].last < cursor)
			continue;
		if (holes[i].start > ioas->aperture_last)
			break;
		if (holes[i].start > cursor) {
			if (n < max)
				out[n] = (struct ioasid_iova_range){ cursor, holes[i].start - 1 };
			n++;
		}
		if (holes[i].last >= ioas->aperture_last) {
			done = true;
			break;
		}
		cursor = holes[i].last + 1;
	}
	if (!done) {
		if (n < max)
			out[n] = (struct ioasid_iova_range){ cursor, ioas->aperture_last };
		n++;
	}
	kfree(holes);
	return n;
}
