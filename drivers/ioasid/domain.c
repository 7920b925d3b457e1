// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: the paging domains an IOAS feeds. Every domain of an IOAS holds
 * every area of it. A device whose IOMMU cannot use an existing domain gets
 * a new one, filled with every existing area (the replay) before the device
 * is attached; a domain whose last device leaves is emptied and freed. Pages
 * are never unpinned here: that happens only when an area goes (ioas.c).
 */
#include <linux/iommu.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "compat.h"
#include "ioasid_private.h"

static struct ioasid_ioas *ioasid_target_ioas(const struct ioasid_target *t)
{
	return container_of(t->obj, struct ioasid_ioas, obj);
}

/* Scatterlist entries per iommu_map_sg() call when filling a domain. */
#define IOASID_MAP_SG_NENTS	256
/* The largest run one entry describes (scatterlist lengths are 32 bits). */
#define IOASID_MAP_SG_MAX_PAGES	(SZ_1G >> PAGE_SHIFT)

/* Undo the first @done pages of an area's mapping in @domain. */
static void ioasid_area_unmap_partial(struct ioasid_area *area,
				      struct iommu_domain *domain,
				      unsigned long done)
{
	if (done)
		iommu_unmap(domain, area->iova, done * PAGE_SIZE);
}

/* The smallest IOPTE of @domain. */
static unsigned long ioasid_domain_min_pgsize(struct iommu_domain *domain)
{
	return 1UL << __ffs(domain->pgsize_bitmap);
}

/*
 * Can @domain map the memory of @area? Its smallest IOPTE must divide the
 * physical address and the length of every physically contiguous run of
 * the area's pages (the IOVAs are aligned by the IOAS's own rules). Checked
 * before anything is mapped, so the IOMMU core is never asked for an
 * unaligned map.
 */
static int ioasid_area_check_phys(struct ioasid_area *area,
				  struct iommu_domain *domain)
{
	unsigned long pgsize = ioasid_domain_min_pgsize(domain);
	unsigned long npages = ioasid_area_npages(area), done = 0;

	if (pgsize <= PAGE_SIZE)
		return 0;
	while (done < npages) {
		phys_addr_t phys;
		unsigned long n;

		n = ioasid_pages_run(area->pages, area->pgoff + done,
				     npages - done, &phys);
		if (!IS_ALIGNED(phys | (n << PAGE_SHIFT), pgsize))
			return -EINVAL;
		done += n;
		cond_resched();
	}
	return 0;
}

/*
 * One iommu_map() per smallest IOPTE of the domain: the IOAS forbids huge
 * IOPTEs. ioasid_area_check_phys() made sure each is physically contiguous.
 */
static int ioasid_area_map_domain_small(struct ioasid_area *area,
					struct iommu_domain *domain)
{
	unsigned long npages = ioasid_area_npages(area), done;
	size_t pgsize = max(ioasid_domain_min_pgsize(domain), PAGE_SIZE);
	int rc;

	for (done = 0; done < npages; done += pgsize >> PAGE_SHIFT) {
		rc = iommu_map(domain, area->iova + done * PAGE_SIZE,
			       page_to_phys(ioasid_pages_page(area->pages,
							      area->pgoff + done)),
			       pgsize, area->prot, GFP_KERNEL_ACCOUNT);
		if (rc) {
			ioasid_area_unmap_partial(area, domain, done);
			return rc;
		}
		cond_resched();
	}
	return 0;
}

/*
 * Map an area into one domain. Physically contiguous runs go to the IOMMU
 * driver whole, so it can pick its largest IOPTEs; up to
 * IOASID_MAP_SG_NENTS runs go in one iommu_map_sg() call, which flushes
 * the IOTLB (iotlb_sync_map: a queued invalidation per call on a VT-d in
 * caching mode) once per call instead of once per run - for memory backed
 * by 4 KiB pages that is the difference between one flush per page and one
 * per 256 pages. Unless the IOAS forbids huge IOPTEs: then one per page.
 */
static int ioasid_area_map_domain(struct ioasid_ioas *ioas,
				  struct ioasid_area *area,
				  struct iommu_domain *domain)
{
	unsigned long npages = ioasid_area_npages(area), done = 0;
	struct scatterlist *sgl;
	unsigned int max_nents;
	int rc;

	rc = ioasid_area_check_phys(area, domain);
	if (rc)
		return rc;
	if (ioas->no_huge)
		return ioasid_area_map_domain_small(area, domain);

	/* A run is at least a page: small areas need a short list. */
	max_nents = min_t(unsigned long, npages, IOASID_MAP_SG_NENTS);
	sgl = kmalloc_array(max_nents, sizeof(*sgl), GFP_KERNEL);
	if (!sgl)
		return -ENOMEM;
	while (done < npages) {
		unsigned long chunk = 0;
		unsigned int nents = 0;
		ssize_t mapped;

		sg_init_table(sgl, max_nents);
		while (nents < max_nents && done + chunk < npages) {
			unsigned long n;
			phys_addr_t phys;

			n = ioasid_pages_run(area->pages, area->pgoff + done + chunk,
					     min(npages - done - chunk,
						 IOASID_MAP_SG_MAX_PAGES), &phys);
			sg_set_page(&sgl[nents++], pfn_to_page(PHYS_PFN(phys)),
				    n << PAGE_SHIFT, 0);
			chunk += n;
		}
		sg_mark_end(&sgl[nents - 1]);
		mapped = iommu_map_sg(domain, area->iova + done * PAGE_SIZE, sgl,
				      nents, area->prot, GFP_KERNEL_ACCOUNT);
		if (mapped < 0) {
			rc = mapped;
			break;
		}
		if (WARN_ON(mapped != chunk << PAGE_SHIFT)) {
			iommu_unmap(domain, area->iova + done * PAGE_SIZE, mapped);
			rc = -EIO;
			break;
		}
		done += chunk;
		cond_resched();
	}
	kfree(sgl);
	if (rc)
		ioasid_area_unmap_partial(area, domain, done);
	return rc;
}

static void ioasid_area_unmap_domain(struct ioasid_area *area,
				     struct iommu_domain *domain)
{
	size_t len = area->last - area->iova + 1;

	WARN_ON(iommu_unmap(domain, area->iova, len) != len);
}

/**
 * ioasid_area_map_domains() - map a new area into every domain of its IOAS
 * @ioas: the IOAS, locked
 * @area: the area
 *
 * Return: 0, or the error of the domain that failed; the area is then in
 * no domain.
 */
int ioasid_area_map_domains(struct ioasid_ioas *ioas, struct ioasid_area *area)
{
	struct ioasid_domain *idom;
	int rc;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(idom, &ioas->domains, node) {
		rc = ioasid_area_map_domain(ioas, area, idom->domain);
		if (rc)
			goto err;
	}
	return 0;

err:
	list_for_each_entry_continue_reverse(idom, &ioas->domains, node)
		ioasid_area_unmap_domain(area, idom->domain);
	return rc;
}

/**
 * ioasid_area_unmap_domains() - remove an area from every domain
 * @ioas: the IOAS, locked
 * @area: the area
 */
void ioasid_area_unmap_domains(struct ioasid_ioas *ioas, struct ioasid_area *area)
{
	struct ioasid_domain *idom;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(idom, &ioas->domains, node)
		ioasid_area_unmap_domain(area, idom->domain);
}

/* Remove the areas below @end (all when ULONG_MAX) from @domain. */
static void ioasid_domain_unfill(struct ioasid_ioas *ioas,
				 struct iommu_domain *domain, unsigned long end)
{
	struct ioasid_area *area;

	if (!end)
		return;
	for_each_ioasid_area(area, &ioas->areas, 0, end - 1)
		ioasid_area_unmap_domain(area, domain);
}

/* The replay: map every area of the IOAS into a new domain. */
static int ioasid_domain_fill(struct ioasid_ioas *ioas, struct iommu_domain *domain)
{
	struct ioasid_area *area;
	int rc;

	for_each_ioasid_area(area, &ioas->areas, 0, ULONG_MAX) {
		rc = ioasid_area_map_domain(ioas, area, domain);
		if (rc) {
			ioasid_domain_unfill(ioas, domain, area->iova);
			return rc;
		}
	}
	return 0;
}

/* Can @domain hold every existing area and keep the IOAS's rules? */
static int ioasid_domain_compatible(struct ioasid_ioas *ioas,
				    struct iommu_domain *domain)
{
	unsigned long align = 1UL << __ffs(domain->pgsize_bitmap);
	unsigned long start = domain->geometry.aperture_start;
	unsigned long end = domain->geometry.aperture_end;
	struct ioasid_area *area;

	if (domain->geometry.force_aperture) {
		if (start && ioasid_area_first(&ioas->areas, 0, start - 1))
			return -ERANGE;
		if (end != ULONG_MAX &&
		    ioasid_area_first(&ioas->areas, end + 1, ULONG_MAX))
			return -ERANGE;
	}
	if (align <= ioas->iova_alignment)
		return 0;
	for_each_ioasid_area(area, &ioas->areas, 0, ULONG_MAX)
		if (!IS_ALIGNED(area->iova | (area->last + 1), align))
			return -ERANGE;
	return 0;
}

/* Recompute what the domains allow: alignment and the common aperture. */
static void ioasid_ioas_recalc(struct ioasid_ioas *ioas)
{
	struct ioasid_domain *idom;

	ioas->iova_alignment = PAGE_SIZE;
	ioas->aperture_start = 0;
	ioas->aperture_last = ULONG_MAX;
	list_for_each_entry(idom, &ioas->domains, node) {
		struct iommu_domain *domain = idom->domain;

		ioas->iova_alignment = max(ioas->iova_alignment,
					   1UL << __ffs(domain->pgsize_bitmap));
		if (!domain->geometry.force_aperture)
			continue;
		ioas->aperture_start = max_t(unsigned long, ioas->aperture_start,
					     domain->geometry.aperture_start);
		ioas->aperture_last = min_t(unsigned long, ioas->aperture_last,
					    domain->geometry.aperture_end);
	}
	WRITE_ONCE(ioas->nr_domains, list_count_nodes(&ioas->domains));
}

/* Whether a domain ioasid_paging_domain_alloc() made for @dev enforces coherency. */
static bool ioasid_domain_enforces_cc(struct device *dev,
				      struct iommu_domain *domain)
{
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY) &&
	       domain->ops->enforce_cache_coherency;
}

/**
 * ioasid_paging_domain_alloc() - a paging domain for the IOMMU behind @dev
 * @dev: the device
 * @flags: IOMMU_HWPT_ALLOC_* flags for the IOMMU driver; 0 for a plain one
 *
 * Uses the IOMMU driver's domain_alloc_user() when it has one: such a domain
 * is sized for @dev's IOMMU when it is allocated. The generic
 * iommu_paging_domain_alloc() gets VT-d's legacy allocation on 6.12, whose
 * domains learn the IOMMU's superpage sizes and address width only at their
 * first attach - too late for an IOAS that fills a domain before attaching
 * it, which would then map only 4 KiB IOPTEs.
 *
 * When @dev's IOMMU can enforce cache coherency the domain is made to, before
 * anything is mapped (some drivers set a per-IOPTE snoop bit).
 *
 * Return: the domain, or an ERR_PTR(); -EOPNOTSUPP when @flags are asked of
 * a driver without domain_alloc_user().
 */
struct iommu_domain *ioasid_paging_domain_alloc(struct device *dev, u32 flags)
{
	const struct iommu_ops *ops = NULL;
	struct iommu_domain *domain;

	if (dev->iommu && dev->iommu->iommu_dev)
		ops = dev->iommu->iommu_dev->ops;
	if (ops && ops->domain_alloc_user) {
		domain = ops->domain_alloc_user(dev, flags, NULL, NULL);
		if (!domain)
			domain = ERR_PTR(-ENOMEM);
		if (IS_ERR(domain))
			return domain;
		domain->owner = ops;
	} else {
		if (flags)
			return ERR_PTR(-EOPNOTSUPP);
		domain = iommu_paging_domain_alloc(dev);
		if (IS_ERR(domain))
			return domain;
	}
	if (ioasid_domain_enforces_cc(dev, domain) &&
	    !domain->ops->enforce_cache_coherency(domain)) {
		iommu_domain_free(domain);
		return ERR_PTR(-EINVAL);
	}
	return domain;
}

/**
 * ioasid_hw_attach() - point the hardware at a domain
 * @domain: the domain
 * @att: the attachment: its RID (of its group, DMA-owned by the caller) or
 *	(device, PASID)
 * @replace: install the attachment's other handle (ioasid_att_handle()):
 *	the RID is attached elsewhere now and switches atomically; a PASID
 *	was detached by the caller (6.12 has no PASID replace)
 *
 * The handle is what the IOMMU core routes the (device, PASID)'s page faults
 * by.
 *
 * Return: 0 or the IOMMU core's error.
 */
int ioasid_hw_attach(struct iommu_domain *domain, struct ioasid_attachment *att,
		     bool replace)
{
	struct iommu_attach_handle *handle = ioasid_att_handle(att, replace);

	if (att->pasid != IOASID_PASID_NONE)
		return iommu_attach_device_pasid(domain, att->dev, att->pasid,
						 handle);
	if (replace)
		return iommu_replace_group_handle(att->igroup->group, domain, handle);
	return iommu_attach_group_handle(domain, att->igroup->group, handle);
}

/**
 * ioasid_hw_detach() - block what ioasid_hw_attach() attached
 * @domain: the domain
 * @att: the attachment; a detached RID is left in the blocking domain
 */
void ioasid_hw_detach(struct iommu_domain *domain, struct ioasid_attachment *att)
{
	if (att->pasid != IOASID_PASID_NONE)
		iommu_detach_device_pasid(domain, att->dev, att->pasid);
	else
		iommu_detach_group_handle(domain, att->igroup->group);
}

/*
 * Domains subsystems own (register_device_to_pasid() with a domain), each
 * mapped to the IOAS it feeds: xa_insert() is the "only one IOAS" check.
 */
static DEFINE_XARRAY(ioasid_borrowed_domains);

/* Free a domain ioasid allocated, or hand a borrowed one back. */
static void ioasid_domain_release(struct ioasid_domain *idom,
				  struct iommu_domain *domain)
{
	if (idom->borrowed)
		xa_erase(&ioasid_borrowed_domains, (unsigned long)domain);
	else
		iommu_domain_free(domain);
}

/*
 * The one "new domain" sequence: a domain of @ioas for @dev's IOMMU -
 * allocated with IOMMU_HWPT_ALLOC_* @flags and made to deliver to the
 * IOAS's fault queue, or the subsystem's @own one, claimed for this IOAS -
 * checked against every area (aperture, alignment) and filled with them
 * (the replay). Not listed in the IOAS yet: ioasid_domain_add() once it is
 * in use, ioasid_domain_discard() if it never gets there.
 *
 * Return: the domain, or an ERR_PTR(): -EBUSY (@own feeds another IOAS),
 * -ERANGE (an area does not fit it), or the driver's error.
 */
static struct ioasid_domain *ioasid_domain_new(struct ioasid_ioas *ioas,
					       struct device *dev, u32 flags,
					       struct iommu_domain *own)
{
	struct ioasid_domain *idom;
	struct iommu_domain *domain;
	int rc;

	lockdep_assert_held(&ioas->mutex);
	idom = kzalloc(sizeof(*idom), GFP_KERNEL_ACCOUNT);
	if (!idom)
		return ERR_PTR(-ENOMEM);
	if (own) {
		/* Claim it for this IOAS; it feeds no other. */
		rc = xa_insert(&ioasid_borrowed_domains, (unsigned long)own,
			       ioas, GFP_KERNEL_ACCOUNT);
		if (rc)
			goto err_free;
		domain = own;
		idom->borrowed = true;
	} else {
		domain = ioasid_paging_domain_alloc(dev, flags);
		if (IS_ERR(domain)) {
			rc = PTR_ERR(domain);
			goto err_free;
		}
		if (ioas->fault)
			ioasid_fault_domain_init(domain, ioas->fault);
		idom->enforce_cc = ioasid_domain_enforces_cc(dev, domain);
	}
	rc = ioasid_domain_compatible(ioas, domain);
	if (rc)
		goto err_domain;
	rc = ioasid_domain_fill(ioas, domain);
	if (rc)
		goto err_domain;
	idom->domain = domain;
	return idom;

err_domain:
	ioasid_domain_release(idom, domain);
err_free:
	kfree(idom);
	return ERR_PTR(rc);
}

/* List a domain from ioasid_domain_new() in its IOAS, with one use. */
static void ioasid_domain_add(struct ioasid_ioas *ioas, struct ioasid_domain *idom)
{
	lockdep_assert_held(&ioas->mutex);
	idom->users = 1;
	list_add_tail(&idom->node, &ioas->domains);
	ioasid_ioas_recalc(ioas);
}

/* Empty and free (or hand back) a domain ioasid_domain_new() made. */
static void ioasid_domain_discard(struct ioasid_ioas *ioas,
				  struct ioasid_domain *idom)
{
	lockdep_assert_held(&ioas->mutex);
	ioasid_domain_unfill(ioas, idom->domain, ULONG_MAX);
	ioasid_domain_release(idom, idom->domain);
	kfree(idom);
}

/**
 * ioasid_domain_attach() - attach a device (RID or PASID) to a domain of an IOAS
 * @att: the attachment; with @att->own_domain (a domain the registering
 *	subsystem owns and wants used) only that one is used
 * @t: the IOAS; gets the domain used in @t->idom
 * @replace: a replace (see ioasid_hw_attach())
 *
 * Tries every existing domain first; a domain the IOMMU driver refuses with
 * -EINVAL is incompatible with the device and skipped. If none fits, a new
 * paging domain is allocated, checked against the existing areas, filled
 * with them, and only then attached. The device's reserved regions are
 * carved out of the IOAS first; on any failure everything is as before
 * (with @replace, the RID still translates through its old domain). The
 * reserved regions are owned by the handle being installed.
 *
 * With an owned domain, only that domain is used: if it already serves this IOAS it is
 * shared, otherwise it is checked, filled and attached like a new domain -
 * but it is never freed here, and it can feed only one IOAS at a time.
 *
 * Return: 0, -EADDRINUSE (a reserved region is mapped), -ERANGE (an area
 * lies outside the new domain's aperture or alignment), -EBUSY (the owned
 * domain feeds another IOAS), or the IOMMU driver's error.
 */
static int ioasid_domain_attach(struct ioasid_attachment *att,
				struct ioasid_target *t, bool replace)
{
	struct ioasid_ioas *ioas = ioasid_target_ioas(t);
	const void *owner = ioasid_att_handle(att, replace);
	struct iommu_domain *own = att->own_domain;
	struct ioasid_domain *idom;
	int rc;

	mutex_lock(&ioas->mutex);
	rc = ioasid_iova_add_resv(ioas, att->dev, att->igroup->group, owner);
	if (rc)
		goto out_unlock;

	list_for_each_entry(idom, &ioas->domains, node) {
		/* A borrowed domain serves only its owner's devices. */
		if (own ? idom->domain != own : idom->borrowed)
			continue;
		rc = ioasid_hw_attach(idom->domain, att, replace);
		if (!rc) {
			idom->users++;
			goto out_done;
		}
		if (rc != -EINVAL || own)
			goto err_resv;
	}

	idom = ioasid_domain_new(ioas, att->dev, 0, own);
	if (IS_ERR(idom)) {
		rc = PTR_ERR(idom);
		goto err_resv;
	}
	rc = ioasid_hw_attach(idom->domain, att, replace);
	if (rc)
		goto err_discard;
	ioasid_domain_add(ioas, idom);
out_done:
	t->idom = idom;
	mutex_unlock(&ioas->mutex);
	return 0;

err_discard:
	ioasid_domain_discard(ioas, idom);
err_resv:
	ioasid_iova_remove_resv(ioas, owner);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

/* The domain of an IOAS an attachment already in place uses. */
static void __ioasid_domain_put(struct ioasid_ioas *ioas,
				struct ioasid_attachment *att)
{
	lockdep_assert_held(&ioas->mutex);
	ioasid_iova_remove_resv(ioas, ioasid_att_handle(att, false));
	ioasid_domain_unuse(ioas, att->target.idom);
}

/**
 * ioasid_domain_put() - forget an attachment the hardware no longer uses
 * @att: the attachment, whose current target is an IOAS
 *
 * Drops the attachment's reserved regions and its use of its domain,
 * emptying and freeing the domain if it was the last. The caller has
 * already moved the hardware away (detach, or replace into another domain).
 */
static void ioasid_domain_put(struct ioasid_attachment *att)
{
	struct ioasid_ioas *ioas = ioasid_target_ioas(&att->target);

	mutex_lock(&ioas->mutex);
	__ioasid_domain_put(ioas, att);
	mutex_unlock(&ioas->mutex);
}

/**
 * ioasid_domain_unuse() - drop one use of a domain of an IOAS
 * @ioas: the IOAS, locked
 * @idom: the domain; emptied and freed (or handed back) with its last use
 */
void ioasid_domain_unuse(struct ioasid_ioas *ioas, struct ioasid_domain *idom)
{
	lockdep_assert_held(&ioas->mutex);
	if (--idom->users)
		return;
	list_del(&idom->node);
	ioasid_domain_discard(ioas, idom);
	ioasid_ioas_recalc(ioas);
}

/**
 * ioasid_domain_new_nest_parent() - a new nesting-parent domain of an IOAS
 * @ioas: the IOAS, locked
 * @dev: a device behind the IOMMU it is for
 *
 * Allocated as a nesting parent (IOMMU_HWPT_ALLOC_NEST_PARENT), checked and
 * filled with every area like any new domain, and listed with one use: the
 * caller's, dropped with ioasid_domain_unuse(). Devices attaching to the
 * IOAS itself may share it.
 *
 * Return: the domain, or an ERR_PTR(): -EOPNOTSUPP when the IOMMU cannot
 * nest, -ERANGE when an area does not fit it, or the driver's error.
 */
struct ioasid_domain *ioasid_domain_new_nest_parent(struct ioasid_ioas *ioas,
						    struct device *dev)
{
	struct ioasid_domain *idom;

	lockdep_assert_held(&ioas->mutex);
	idom = ioasid_domain_new(ioas, dev, IOMMU_HWPT_ALLOC_NEST_PARENT, NULL);
	if (IS_ERR(idom))
		return idom;
	idom->nest_parent = true;
	ioasid_domain_add(ioas, idom);
	return idom;
}

/**
 * ioasid_domain_detach() - detach a device (RID or PASID) from its domain
 * @att: the attachment, whose current target is an IOAS; a detached RID is
 *	left in the blocking domain
 */
static void ioasid_domain_detach(struct ioasid_attachment *att)
{
	struct ioasid_ioas *ioas = ioasid_target_ioas(&att->target);

	mutex_lock(&ioas->mutex);
	ioasid_hw_detach(att->target.idom->domain, att);
	__ioasid_domain_put(ioas, att);
	mutex_unlock(&ioas->mutex);
}

static struct ioasid_fault_queue *ioasid_ioas_target_fault(const struct ioasid_target *t)
{
	return ioasid_target_ioas(t)->fault;
}

static struct iommu_domain *ioasid_ioas_target_domain(const struct ioasid_target *t)
{
	return t->idom->domain;
}

/* An attachment to an IOAS, through one of its domains. */
const struct ioasid_target_ops ioasid_ioas_target_ops = {
	.fault = ioasid_ioas_target_fault,
	.domain = ioasid_ioas_target_domain,
	.attach = ioasid_domain_attach,
	.put = ioasid_domain_put,
	.detach = ioasid_domain_detach,
};
