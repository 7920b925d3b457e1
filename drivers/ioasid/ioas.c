// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: I/O address spaces (IOAS) - the kernel-managed address spaces that
 * user space maps memory into and devices translate through. This file owns
 * the IOAS ioctls and the life of areas; iova.c decides where areas may go,
 * pages.c pins, domain.c mirrors areas into the domains.
 */
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "ioasid_private.h"

#define IOASID_MAP_PROT (IOASID_MAP_READ | IOASID_MAP_WRITE)

/* Phase one of a new IOAS: built, ID reserved, not yet published. */
static struct ioasid_ioas *ioasid_ioas_new(struct ioasid_ctx *ctx)
{
	struct ioasid_ioas *ioas = ioasid_obj_alloc(ctx, ioas, IOASID_OBJ_IOAS);

	if (IS_ERR(ioas))
		return ioas;
	mutex_init(&ioas->mutex);
	ioas->areas = RB_ROOT_CACHED;
	INIT_LIST_HEAD(&ioas->domains);
	INIT_LIST_HEAD(&ioas->resv);
	INIT_LIST_HEAD(&ioas->children);
	INIT_LIST_HEAD(&ioas->child_node);
	INIT_LIST_HEAD(&ioas->accesses);
	ioas->iova_alignment = PAGE_SIZE;
	ioas->aperture_last = ULONG_MAX;
	return ioas;
}

/* Leave the parent's children, if this is a software-nested child. */
static void ioasid_ioas_unlink(struct ioasid_ioas *ioas)
{
	if (!ioas->parent)
		return;
	mutex_lock(&ioas->parent->mutex);
	list_del_init(&ioas->child_node);
	mutex_unlock(&ioas->parent->mutex);
}

/* Drop the references an IOAS holds (the tail of abort and destroy). */
static void ioasid_ioas_release(struct ioasid_ioas *ioas)
{
	mutex_destroy(&ioas->mutex);
	if (ioas->fault)
		ioasid_put_fault_queue(ioas->fault);
	if (ioas->parent)
		ioasid_put_ioas(ioas->parent);
}

/* The abort step of an IOAS never published: it has no area or domain. */
void ioasid_ioas_abort(struct ioasid_obj *obj)
{
	struct ioasid_ioas *ioas = container_of(obj, struct ioasid_ioas, obj);

	ioasid_ioas_unlink(ioas);
	ioasid_ioas_release(ioas);
}

int ioasid_ioas_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_ioas_alloc *cmd = ucmd->cmd;
	const struct ioasid_ioas_alloc orig = *cmd;
	struct ioasid_fault_queue *fq;
	struct ioasid_ioas *ioas, *parent;
	int rc;

	if ((cmd->flags & ~(IOASID_IOAS_ALLOC_FAULT | IOASID_IOAS_ALLOC_SW_NESTED)) ||
	    (!(cmd->flags & IOASID_IOAS_ALLOC_SW_NESTED) && cmd->parent_id) ||
	    (!(cmd->flags & IOASID_IOAS_ALLOC_FAULT) && cmd->fault_id) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = ioasid_ioas_new(ucmd->ctx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (cmd->flags & IOASID_IOAS_ALLOC_FAULT) {
		fq = ioasid_get_fault_queue(ucmd->ctx, cmd->fault_id);
		if (IS_ERR(fq)) {
			rc = PTR_ERR(fq);
			goto out_abort;
		}
		/* Every domain this IOAS allocates delivers to the queue. */
		ioas->fault = fq;
	}
	if (cmd->flags & IOASID_IOAS_ALLOC_SW_NESTED) {
		parent = ioasid_get_ioas(ucmd->ctx, cmd->parent_id);
		if (IS_ERR(parent)) {
			rc = PTR_ERR(parent);
			goto out_abort;
		}
		/* The child keeps the reference on its parent. */
		ioas->parent = parent;
		/* One level: a child's IOVAs are guest IOVAs, never GPAs. */
		if (parent->parent) {
			rc = -EINVAL;
			goto out_abort;
		}
		mutex_lock(&parent->mutex);
		list_add_tail(&ioas->child_node, &parent->children);
		mutex_unlock(&parent->mutex);
	}

	cmd->out_ioas_id = ioas->obj.id;
	rc = ioasid_ucmd_respond_new(ucmd, sizeof(*cmd), &orig);
	if (rc)
		goto out_abort;
	ioasid_obj_publish(ucmd->ctx, &ioas->obj);
	return 0;

out_abort:
	ioasid_obj_abort(ucmd->ctx, &ioas->obj);
	return rc;
}

static void ioasid_area_free(struct ioasid_ioas *ioas, struct ioasid_area *area)
{
	WRITE_ONCE(ioas->nr_areas, ioas->nr_areas - 1);
	WRITE_ONCE(ioas->mapped, ioas->mapped - (area->last - area->iova + 1));
	ioasid_pages_put(area->pages);
	kfree(area);
}

/* Remove one area from the domains and the tree, and drop its pages. */
static void ioasid_area_remove(struct ioasid_ioas *ioas, struct ioasid_area *area)
{
	lockdep_assert_held(&ioas->mutex);
	ioasid_area_unmap_domains(ioas, area);
	interval_tree_remove(&area->node, &ioas->areas);
	ioasid_area_free(ioas, area);
}

/* A piece of pinned memory to become an area: pages[pgoff, pgoff + npages). */
struct ioasid_piece {
	struct ioasid_pages *pages;
	unsigned long pgoff;
	unsigned long npages;
	unsigned long src_iova;
};

/*
 * Insert pieces as consecutive areas from @iova on, and map them into every
 * domain. Takes a pages reference for each area it keeps. All or nothing.
 */
static int ioasid_ioas_insert(struct ioasid_ioas *ioas, unsigned long iova,
			      struct ioasid_piece *pieces, unsigned int n,
			      int prot)
{
	unsigned int i;
	int rc = 0;

	lockdep_assert_held(&ioas->mutex);
	for (i = 0; i < n; i++) {
		struct ioasid_area *area;

		area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);
		if (!area) {
			rc = -ENOMEM;
			goto err;
		}
		area->iova = iova;
		area->last = iova + pieces[i].npages * PAGE_SIZE - 1;
		area->node.start = area->iova;
		area->node.last = area->last;
		area->pages = pieces[i].pages;
		area->pgoff = pieces[i].pgoff;
		area->src_iova = pieces[i].src_iova;
		area->prot = prot;
		rc = ioasid_area_map_domains(ioas, area);
		if (rc) {
			kfree(area);
			goto err;
		}
		interval_tree_insert(&area->node, &ioas->areas);
		ioasid_pages_get(area->pages);
		WRITE_ONCE(ioas->nr_areas, ioas->nr_areas + 1);
		WRITE_ONCE(ioas->mapped, ioas->mapped + (area->last - area->iova + 1));
		iova = area->last + 1;
	}
	return 0;

err:
	while (i--) {
		struct ioasid_area *area;

		iova -= pieces[i].npages * PAGE_SIZE;
		area = ioasid_area_first(&ioas->areas, iova, iova);
		ioasid_area_remove(ioas, area);
	}
	return rc;
}

/*
 * Choose the IOVA of a new mapping: check a fixed one, or find a free one,
 * preferring an alignment that lets the memory use huge IOPTEs (the
 * alignment of @hint, up to the mapping's size) and falling back to the
 * IOAS's own.
 */
static int ioasid_ioas_place(struct ioasid_ioas *ioas, u32 flags,
			     unsigned long length, unsigned long hint,
			     unsigned long *iova)
{
	unsigned long align;
	int rc;

	lockdep_assert_held(&ioas->mutex);
	if (flags & IOASID_MAP_FIXED_IOVA)
		return ioasid_iova_check(ioas, *iova, length);
	if (!IS_ALIGNED(length, ioas->iova_alignment))
		return -ERANGE;
	align = min_t(unsigned long, roundup_pow_of_two(length), SZ_1G);
	if (hint)
		align = min(align, 1UL << __ffs(hint));
	align = max(align, ioas->iova_alignment);
	rc = ioasid_iova_alloc(ioas, length, align, iova);
	if (rc && align > ioas->iova_alignment)
		rc = ioasid_iova_alloc(ioas, length, ioas->iova_alignment, iova);
	return rc;
}

static int ioasid_map_prot(u32 flags)
{
	return (flags & IOASID_MAP_READ ? IOMMU_READ : 0) |
	       (flags & IOASID_MAP_WRITE ? IOMMU_WRITE : 0) | IOMMU_CACHE;
}

/*
 * Flags and range checks common to MAP and COPY: the length always, the
 * IOVA only when it is fixed (else the IOAS places the range).
 */
static int ioasid_map_validate(u32 flags, u64 length, u64 iova)
{
	unsigned long last;

	if (flags & ~(IOASID_MAP_FIXED_IOVA | IOASID_MAP_PROT))
		return -EOPNOTSUPP;
	if (!(flags & IOASID_MAP_PROT))
		return -EINVAL;
	return ioasid_range_last(flags & IOASID_MAP_FIXED_IOVA ? iova : 0,
				 length, PAGE_SIZE, &last);
}

/**
 * ioasid_ioas_map_user() - pin user memory and map it into an IOAS
 * @ioas: the IOAS (referenced, not locked)
 * @uaddr: page-aligned user address in the current process
 * @length: page-aligned, non-zero length
 * @iova: the IOVA with IOASID_MAP_FIXED_IOVA; returns the IOVA used
 * @flags: enum ioasid_map_flags
 * @kflags: enum ioasid_kern_map_flags
 *
 * Return: 0 or the errno of IOASID_MAP; on error nothing is pinned.
 */
int ioasid_ioas_map_user(struct ioasid_ioas *ioas, unsigned long uaddr,
			 unsigned long length, unsigned long *iova, u32 flags,
			 u32 kflags)
{
	struct ioasid_piece piece = { .npages = length >> PAGE_SHIFT };
	bool writable = flags & IOASID_MAP_WRITE;
	int rc;

	/* A software-nested IOAS maps only its parent's IOVAs (COPY). */
	if (ioas->parent)
		return -EINVAL;
	/* Pin before taking the lock: it may take long and fault. */
	if (kflags & IOASID_KERN_MAP_SHARE_PINS)
		piece.pages = ioasid_pages_pin_shared(uaddr, piece.npages,
						      writable, &piece.pgoff);
	else
		piece.pages = ioasid_pages_pin(uaddr, piece.npages, writable);
	if (IS_ERR(piece.pages))
		return PTR_ERR(piece.pages);

	mutex_lock(&ioas->mutex);
	rc = ioasid_ioas_place(ioas, flags, length, uaddr, iova);
	if (!rc)
		rc = ioasid_ioas_insert(ioas, *iova, &piece, 1, ioasid_map_prot(flags));
	mutex_unlock(&ioas->mutex);
	/* The area holds its own reference now. */
	ioasid_pages_put(piece.pages);
	if (!rc)
		ioasid_access_map_notify(ioas, *iova, length);
	return rc;
}

/* Check a user address range: page aligned, non-wrapping. */
static int ioasid_check_uaddr(u64 uaddr, u64 length)
{
	unsigned long last;

	return ioasid_range_last(uaddr, length, PAGE_SIZE, &last);
}

int ioasid_map_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_map *cmd = ucmd->cmd;
	struct ioasid_unmapped unmapped;
	unsigned long iova = cmd->iova;
	struct ioasid_ioas *ioas;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	rc = ioasid_map_validate(cmd->flags, cmd->length, cmd->iova) ?:
	     ioasid_check_uaddr(cmd->user_va, cmd->length);
	if (rc)
		return rc;

	ioas = ioasid_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioasid_ioas_map_user(ioas, cmd->user_va, cmd->length, &iova,
				  cmd->flags, 0);
	if (!rc) {
		cmd->iova = iova;
		rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
		if (rc)
			ioasid_ioas_unmap_range(ioas, iova, iova + cmd->length - 1,
						0, &unmapped);
	}
	ioasid_put_ioas(ioas);
	return rc;
}

/*
 * Software nesting: the parent's [iova, last] is gone, so every area of a
 * child that translates to any of it goes too, before the parent's UNMAP
 * returns. A child area is the unit: one that depends on the range only in
 * part is removed whole. Each child is locked inside its parent.
 */
static void ioasid_ioas_unmap_children(struct ioasid_ioas *ioas,
				       unsigned long iova, unsigned long last)
{
	struct ioasid_area *area, *next;
	struct ioasid_ioas *child;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(child, &ioas->children, child_node) {
		mutex_lock_nested(&child->mutex, SINGLE_DEPTH_NESTING);
		for (area = ioasid_area_first(&child->areas, 0, ULONG_MAX); area;
		     area = next) {
			next = ioasid_area_next(area, 0, ULONG_MAX);
			if (ioasid_area_depends_on(area, iova, last))
				ioasid_area_remove(child, area);
		}
		mutex_unlock(&child->mutex);
		cond_resched();
	}
}

/* Every area that intersects [iova, last] must lie inside it. */
static int ioasid_ioas_unmap_check(struct ioasid_ioas *ioas, unsigned long iova,
				   unsigned long last)
{
	struct ioasid_area *area;
	bool found = false;

	lockdep_assert_held(&ioas->mutex);
	for_each_ioasid_area(area, &ioas->areas, iova, last) {
		if (area->iova < iova || area->last > last)
			return -EINVAL;
		found = true;
	}
	return found ? 0 : -ENOENT;
}

/*
 * Remove the areas in [iova, last], and the child areas that depend on
 * them. Checked by the caller: every area that intersects the range lies
 * inside it. Adds what it removed to @res.
 */
static void ioasid_ioas_remove_range(struct ioasid_ioas *ioas,
				     unsigned long iova, unsigned long last,
				     struct ioasid_unmapped *res)
{
	struct ioasid_area *area, *next;

	lockdep_assert_held(&ioas->mutex);
	for (area = ioasid_area_first(&ioas->areas, iova, last); area; area = next) {
		next = ioasid_area_next(area, iova, last);
		res->bytes += area->last - area->iova + 1;
		res->mappings++;
		ioasid_area_remove(ioas, area);
		cond_resched();
	}
	ioasid_ioas_unmap_children(ioas, iova, last);
}

/*
 * IOASID_KERN_UNMAP_WHOLE: the range type1 v1 removes for [iova, *last]:
 * nothing (-ENOENT) if the first area it touches begins before @iova, else
 * every area that begins inside it, whole - *@last is moved to the end of
 * the last of them.
 */
static int ioasid_ioas_whole_range(struct ioasid_ioas *ioas, unsigned long iova,
				   unsigned long *last)
{
	struct ioasid_area *area, *end = NULL;

	lockdep_assert_held(&ioas->mutex);
	area = ioasid_area_first(&ioas->areas, iova, *last);
	if (!area || area->iova < iova)
		return -ENOENT;
	for (; area; area = ioasid_area_next(area, iova, *last))
		end = area;
	*last = max(*last, end->last);
	return 0;
}

/* How many times UNMAP lets emulated devices unpin before it gives up. */
#define IOASID_UNMAP_ACCESS_TRIES 3

/**
 * ioasid_ioas_unmap_range() - remove the mappings inside [iova, last]
 * @ioas: the IOAS (referenced, not locked)
 * @iova: first IOVA
 * @last: last IOVA
 * @flags: enum ioasid_kern_unmap_flags
 * @res: returns what was removed
 *
 * Emulated devices (accesses) that pinned part of the range are told
 * first and must unpin (access.c).
 *
 * Return: 0; -EINVAL if a mapping sticks out of the range (nothing is
 * unmapped then; with IOASID_KERN_UNMAP_WHOLE the range grows instead);
 * -ENOENT if the range holds no mapping (IOASID_KERN_UNMAP_WHOLE: none
 * that begins inside it, or the first begins before it); -EBUSY if an
 * access kept its pins (nothing is unmapped); -ENOMEM.
 */
int ioasid_ioas_unmap_range(struct ioasid_ioas *ioas, unsigned long iova,
			    unsigned long last, u32 flags,
			    struct ioasid_unmapped *res)
{
	unsigned long end = last;
	unsigned int tries = 0;
	int rc;

	*res = (struct ioasid_unmapped){};
	mutex_lock(&ioas->mutex);
	/*
	 * Check, let the accesses unpin, remove: all under the lock, which
	 * ioasid_access_unmap_begin() drops only around the unpinning and
	 * holds again when it returns; if it dropped it, check again.
	 */
	do {
		end = last;
		if (flags & IOASID_KERN_UNMAP_WHOLE)
			rc = ioasid_ioas_whole_range(ioas, iova, &end);
		else
			rc = ioasid_ioas_unmap_check(ioas, iova, end);
		if (rc)
			goto out_unlock;
		rc = ioasid_access_unmap_begin(ioas, iova, end);
	} while (rc == -EAGAIN && ++tries < IOASID_UNMAP_ACCESS_TRIES);
	if (rc == -EAGAIN)
		rc = -EBUSY;
	if (!rc)
		ioasid_ioas_remove_range(ioas, iova, end, res);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

int ioasid_unmap_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_unmap *cmd = ucmd->cmd;
	struct ioasid_unmapped unmapped;
	unsigned long iova, last;
	struct ioasid_ioas *ioas;
	int rc;

	if (cmd->__reserved || (cmd->flags & ~IOASID_UNMAP_ALL))
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_UNMAP_ALL) {
		if (cmd->iova || cmd->length)
			return -EINVAL;
		iova = 0;
		last = ULONG_MAX;
	} else {
		rc = ioasid_range_last(cmd->iova, cmd->length, PAGE_SIZE, &last);
		if (rc)
			return rc;
		iova = cmd->iova;
	}

	ioas = ioasid_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioasid_ioas_unmap_range(ioas, iova, last, 0, &unmapped);
	ioasid_put_ioas(ioas);
	if (rc)
		return rc;
	cmd->length = unmapped.bytes;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/**
 * ioasid_ioas_span() - the areas that cover a range without a hole
 * @ioas: the IOAS, locked
 * @iova: first IOVA
 * @last: last IOVA
 * @writable: every area's pages must be pinned writable
 * @prot: IOMMU_READ and/or IOMMU_WRITE every area must be mapped with
 *
 * Return: how many areas cover [@iova, @last]; -ENOENT for a hole, -EPERM
 * for an area without the permission.
 */
int ioasid_ioas_span(struct ioasid_ioas *ioas, unsigned long iova,
		     unsigned long last, bool writable, int prot)
{
	struct ioasid_area *area, *prev = NULL;
	unsigned long next = iova;
	int n = 0;

	lockdep_assert_held(&ioas->mutex);
	for_each_ioasid_area(area, &ioas->areas, iova, last) {
		if (area->iova > next)
			return -ENOENT;
		if ((writable && !area->pages->writable) || (area->prot & prot) != prot)
			return -EPERM;
		n++;
		prev = area;
		if (area->last >= last)
			break;
		next = area->last + 1;
	}
	if (!prev || prev->last < last)
		return -ENOENT;
	return n;
}

/*
 * Collect the pages behind [iova, last] of @ioas as pieces, each holding a
 * pages reference. -ENOENT on a hole, -EPERM if @writable is asked of pages
 * that were not pinned writable.
 */
static int ioasid_ioas_collect(struct ioasid_ioas *ioas, unsigned long iova,
			       unsigned long last, bool writable,
			       struct ioasid_piece **out, unsigned int *nout)
{
	struct ioasid_piece *pieces;
	struct ioasid_area *area;
	unsigned int n, i = 0;
	int rc;

	lockdep_assert_held(&ioas->mutex);
	rc = ioasid_ioas_span(ioas, iova, last, writable, 0);
	if (rc < 0)
		return rc;
	n = rc;

	pieces = kvcalloc(n, sizeof(*pieces), GFP_KERNEL_ACCOUNT);
	if (!pieces)
		return -ENOMEM;
	for_each_ioasid_area(area, &ioas->areas, iova, last) {
		unsigned long start = max(iova, area->iova);
		unsigned long end = min(last, area->last);

		if (WARN_ON(i >= n)) {
			rc = -EINVAL;
			goto err;
		}
		pieces[i].pages = area->pages;
		pieces[i].pgoff = area->pgoff + ((start - area->iova) >> PAGE_SHIFT);
		pieces[i].npages = (end - start + 1) >> PAGE_SHIFT;
		pieces[i].src_iova = start;
		ioasid_pages_get(area->pages);
		i++;
	}
	*out = pieces;
	*nout = i;
	return 0;

err:
	while (i--)
		ioasid_pages_put(pieces[i].pages);
	kvfree(pieces);
	return rc;
}

int ioasid_copy_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_copy *cmd = ucmd->cmd;
	struct ioasid_ioas *src, *dst;
	struct ioasid_piece *pieces;
	struct ioasid_unmapped unmapped;
	unsigned long iova = cmd->dst_iova;
	unsigned int n, i;
	u64 src_last;
	int rc;

	rc = ioasid_map_validate(cmd->flags, cmd->length, cmd->dst_iova) ?:
	     ioasid_check_uaddr(cmd->src_iova, cmd->length);
	if (rc)
		return rc;
	src_last = cmd->src_iova + cmd->length - 1;

	src = ioasid_get_ioas(ucmd->ctx, cmd->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	dst = ioasid_get_ioas(ucmd->ctx, cmd->dst_ioas_id);
	if (IS_ERR(dst)) {
		rc = PTR_ERR(dst);
		goto out_src;
	}

	/*
	 * A software-nested IOAS takes only its parent's IOVAs, and nothing
	 * is copied out of one: its areas live only as long as the parent's.
	 */
	if (src->parent || (dst->parent && dst->parent != src)) {
		rc = -EINVAL;
		goto out_dst;
	}
	/*
	 * One IOAS locked at a time (the pieces keep the pages alive) - except
	 * into a child, where the parent stays locked until the new areas are
	 * in, so a parent UNMAP cannot slip between and leave them behind.
	 */
	mutex_lock(&src->mutex);
	rc = ioasid_ioas_collect(src, cmd->src_iova, src_last,
				 cmd->flags & IOASID_MAP_WRITE, &pieces, &n);
	if (!dst->parent)
		mutex_unlock(&src->mutex);
	if (rc) {
		if (dst->parent)
			mutex_unlock(&src->mutex);
		goto out_dst;
	}

	mutex_lock_nested(&dst->mutex, dst->parent ? SINGLE_DEPTH_NESTING : 0);
	rc = ioasid_ioas_place(dst, cmd->flags, cmd->length, cmd->src_iova, &iova);
	if (!rc)
		rc = ioasid_ioas_insert(dst, iova, pieces, n,
					ioasid_map_prot(cmd->flags));
	mutex_unlock(&dst->mutex);
	if (dst->parent)
		mutex_unlock(&src->mutex);
	for (i = 0; i < n; i++)
		ioasid_pages_put(pieces[i].pages);
	kvfree(pieces);
	if (rc)
		goto out_dst;
	ioasid_access_map_notify(dst, iova, cmd->length);

	/*
	 * Written back with no IOAS locked, as for MAP: user space can stall
	 * the write (userfaultfd) as long as it likes.
	 */
	cmd->dst_iova = iova;
	rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		ioasid_ioas_unmap_range(dst, iova, iova + cmd->length - 1,
					0, &unmapped);
out_dst:
	ioasid_put_ioas(dst);
out_src:
	ioasid_put_ioas(src);
	return rc;
}

int ioasid_iova_ranges_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_iova_ranges *cmd = ucmd->cmd;
	struct ioasid_iova_range *ranges = NULL;
	struct ioasid_ioas *ioas;
	unsigned int max;
	int n, rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	ioas = ioasid_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	/* Ranges are few (one per reserved region, plus one). */
	max = min_t(u32, cmd->num_ranges, 4096);
	if (max) {
		ranges = kvcalloc(max, sizeof(*ranges), GFP_KERNEL);
		if (!ranges) {
			rc = -ENOMEM;
			goto out_put;
		}
	}
	mutex_lock(&ioas->mutex);
	n = ioasid_iova_ranges(ioas, ranges, max);
	cmd->out_iova_alignment = ioas->iova_alignment;
	mutex_unlock(&ioas->mutex);
	if (n < 0) {
		rc = n;
		goto out_free;
	}
	if (n > max) {
		cmd->num_ranges = n;
		rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
		rc = rc ?: -EMSGSIZE;
		goto out_free;
	}
	if (n && copy_to_user(u64_to_user_ptr(cmd->ranges), ranges,
			      n * sizeof(*ranges))) {
		rc = -EFAULT;
		goto out_free;
	}
	cmd->num_ranges = n;
	rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kvfree(ranges);
out_put:
	ioasid_put_ioas(ioas);
	return rc;
}

int ioasid_ioas_option_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_ioas_option *cmd = ucmd->cmd;
	struct ioasid_ioas *ioas;
	int rc = 0;

	if (cmd->op != IOASID_OPTION_OP_SET && cmd->op != IOASID_OPTION_OP_GET)
		return -EOPNOTSUPP;
	if (cmd->option != IOASID_OPTION_HUGE_PAGES)
		return -EOPNOTSUPP;
	if (cmd->op == IOASID_OPTION_OP_SET && cmd->val > 1)
		return -EINVAL;

	ioas = ioasid_get_ioas(ucmd->ctx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	if (cmd->op == IOASID_OPTION_OP_GET) {
		cmd->val = !ioas->no_huge;
	} else if (!RB_EMPTY_ROOT(&ioas->areas.rb_root) ||
		   !list_empty(&ioas->domains)) {
		rc = -EBUSY;
	} else {
		ioas->no_huge = !cmd->val;
	}
	mutex_unlock(&ioas->mutex);
	ioasid_put_ioas(ioas);
	if (rc)
		return rc;
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

void ioasid_ioas_destroy(struct ioasid_obj *obj)
{
	struct ioasid_ioas *ioas = container_of(obj, struct ioasid_ioas, obj);
	struct ioasid_unmapped removed = {};

	/*
	 * Leave the parent's children first: a parent UNMAP walks them and
	 * locks each, so nothing may be torn down while the parent can still
	 * find this IOAS. (A parent has no children here: each holds it.)
	 */
	ioasid_ioas_unlink(ioas);
	/* No device is attached (they hold references), so no domain is left. */
	mutex_lock(&ioas->mutex);
	WARN_ON(!list_empty(&ioas->domains) || !list_empty(&ioas->children));
	ioasid_ioas_remove_range(ioas, 0, ULONG_MAX, &removed);
	mutex_unlock(&ioas->mutex);
	ioasid_ioas_release(ioas);
	kfree(ioas);
}

void ioasid_ioas_show(struct seq_file *m, struct ioasid_obj *obj)
{
	struct ioasid_ioas *ioas = container_of(obj, struct ioasid_ioas, obj);

	seq_printf(m, " areas %lu mapped %lu domains %u accesses %u",
		   READ_ONCE(ioas->nr_areas), READ_ONCE(ioas->mapped),
		   READ_ONCE(ioas->nr_domains), READ_ONCE(ioas->nr_accesses));
}

/* The kAPI for in-kernel users of a context (VFIO's type1 compatibility). */

/**
 * ioasid_kern_ioas_alloc() - IOASID_IOAS_ALLOC for an in-kernel user
 * @ctx: the context
 * @ioas_id: returns the new, empty IOAS's ID
 *
 * Return: 0 or -ENOMEM.
 */
int ioasid_kern_ioas_alloc(struct ioasid_ctx *ctx, u32 *ioas_id)
{
	struct ioasid_ioas *ioas = ioasid_ioas_new(ctx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*ioas_id = ioas->obj.id;
	ioasid_obj_publish(ctx, &ioas->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_ioas_alloc, IOASID);

/**
 * ioasid_kern_map() - IOASID_MAP at a fixed IOVA for an in-kernel user
 * @ctx: the context
 * @ioas_id: the IOAS
 * @uaddr: user address in the calling process, page aligned
 * @length: bytes, a non-zero multiple of PAGE_SIZE
 * @iova: the IOVA to map at
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @kflags: enum ioasid_kern_map_flags
 *
 * Pins the memory of the calling process (FOLL_LONGTERM), charges it to its
 * locked_vm against RLIMIT_MEMLOCK (unless IOASID_KERN_MAP_SHARE_PINS finds
 * it pinned already) and maps it at @iova into every domain of the IOAS.
 * All or nothing.
 *
 * Return: 0 or the errno of IOASID_MAP: -EINVAL (no access bit, zero
 * length, misaligned or wrapping values, an unknown flag), -ENOENT
 * (@ioas_id names no IOAS of @ctx), -ENOMEM (also over the memlock limit),
 * -EFAULT, -ERANGE, -EADDRINUSE, -EEXIST, or an IOMMU driver error.
 */
int ioasid_kern_map(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long uaddr,
		    unsigned long length, unsigned long iova, int prot,
		    u32 kflags)
{
	u32 flags = IOASID_MAP_FIXED_IOVA |
		    (prot & IOMMU_READ ? IOASID_MAP_READ : 0) |
		    (prot & IOMMU_WRITE ? IOASID_MAP_WRITE : 0);
	struct ioasid_ioas *ioas;
	int rc;

	if (kflags & ~IOASID_KERN_MAP_SHARE_PINS)
		return -EINVAL;
	rc = ioasid_map_validate(flags, length, iova) ?:
	     ioasid_check_uaddr(uaddr, length);
	if (rc)
		return rc;
	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioasid_ioas_map_user(ioas, uaddr, length, &iova, flags, kflags);
	ioasid_put_ioas(ioas);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_map, IOASID);

/**
 * ioasid_kern_unmap() - IOASID_UNMAP for an in-kernel user
 * @ctx: the context
 * @ioas_id: the IOAS
 * @iova: start; with @length 0 as well, everything is unmapped
 * @length: bytes
 * @flags: enum ioasid_kern_unmap_flags
 * @unmapped: returns what was removed (zeroes on error)
 *
 * Removes the whole mappings inside [@iova, @iova + @length); with
 * IOASID_KERN_UNMAP_WHOLE, those that begin inside it (type1 v1).
 *
 * Return: 0; -EINVAL for a misaligned or wrapping range, an unknown flag,
 * or (without IOASID_KERN_UNMAP_WHOLE) a range that would split a mapping
 * (nothing is unmapped then); -ENOENT if @ioas_id names no IOAS of @ctx or
 * nothing was mapped there (also for an empty IOAS), or with
 * IOASID_KERN_UNMAP_WHOLE when the first mapping touched begins before
 * @iova; -EBUSY if an emulated device kept its pins in the range (nothing
 * is unmapped); -ENOMEM.
 */
int ioasid_kern_unmap(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long iova,
		      unsigned long length, u32 flags,
		      struct ioasid_unmapped *unmapped)
{
	unsigned long last = ULONG_MAX;
	struct ioasid_ioas *ioas;
	int rc;

	*unmapped = (struct ioasid_unmapped){};
	if (flags & ~IOASID_KERN_UNMAP_WHOLE)
		return -EINVAL;
	if (length || iova) {
		rc = ioasid_range_last(iova, length, PAGE_SIZE, &last);
		if (rc)
			return rc;
	}
	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	rc = ioasid_ioas_unmap_range(ioas, iova, last, flags, unmapped);
	ioasid_put_ioas(ioas);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_unmap, IOASID);

/**
 * ioasid_kern_iova_ranges() - IOASID_IOVA_RANGES for an in-kernel user
 * @ctx: the context
 * @ioas_id: the IOAS
 * @ranges: array to fill (may be NULL when @max is 0)
 * @max: its capacity
 * @pgsize_bitmap: returns the page sizes every domain of the IOAS supports,
 *	from the IOAS's alignment up (PAGE_MASK for an IOAS without domains)
 *
 * Return: the number of ranges there are - only @max are written, so a
 * caller retries with a larger array when the result exceeds @max - or
 * -ENOENT if @ioas_id names no IOAS of @ctx, or -ENOMEM.
 */
int ioasid_kern_iova_ranges(struct ioasid_ctx *ctx, u32 ioas_id,
			    struct ioasid_iova_range *ranges, unsigned int max,
			    unsigned long *pgsize_bitmap)
{
	struct ioasid_domain *idom;
	struct ioasid_ioas *ioas;
	unsigned long pgsizes = ULONG_MAX;
	int n;

	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	n = ioasid_iova_ranges(ioas, ranges, max);
	list_for_each_entry(idom, &ioas->domains, node)
		pgsizes &= idom->domain->pgsize_bitmap;
	*pgsize_bitmap = pgsizes & ~(ioas->iova_alignment - 1);
	mutex_unlock(&ioas->mutex);
	ioasid_put_ioas(ioas);
	return n;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_iova_ranges, IOASID);

/**
 * ioasid_kern_ioas_coherent() - whether an IOAS's DMA is always cache coherent
 * @ctx: the context
 * @ioas_id: the IOAS
 *
 * VFIO_DMA_CC_IOMMU: whether every domain of the IOAS enforces cache
 * coherency (no-snoop requests are snooped anyway), as VFIO type1 answers
 * it for its domains - so also when the IOAS has no domain yet.
 *
 * Return: 1 or 0, or -ENOENT if @ioas_id names no IOAS of @ctx.
 */
int ioasid_kern_ioas_coherent(struct ioasid_ctx *ctx, u32 ioas_id)
{
	struct ioasid_domain *idom;
	struct ioasid_ioas *ioas;
	int coherent = 1;

	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(idom, &ioas->domains, node)
		if (!idom->enforce_cc)
			coherent = 0;
	mutex_unlock(&ioas->mutex);
	ioasid_put_ioas(ioas);
	return coherent;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_ioas_coherent, IOASID);

/**
 * ioasid_kern_mapped() - whether anything is mapped in an IOVA range
 * @ctx: the context
 * @ioas_id: the IOAS
 * @iova: first IOVA
 * @length: bytes, non-zero; the range must not wrap
 *
 * For a consumer whose user API checks overlap before anything else (VFIO
 * type1 answers EEXIST before its limit and range checks, and before it
 * pins). A snapshot: a map racing with the caller may change the answer.
 *
 * Return: 1 if a mapping intersects [@iova, @iova + @length), 0 if none
 * does, -EINVAL for an empty or wrapping range, -ENOENT if @ioas_id names no
 * IOAS of @ctx.
 */
int ioasid_kern_mapped(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long iova,
		       unsigned long length)
{
	struct ioasid_ioas *ioas;
	int mapped;

	if (!length || iova + length - 1 < iova)
		return -EINVAL;
	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	mapped = !!ioasid_area_first(&ioas->areas, iova, iova + length - 1);
	mutex_unlock(&ioas->mutex);
	ioasid_put_ioas(ioas);
	return mapped;
}
EXPORT_SYMBOL_NS_GPL(ioasid_kern_mapped, IOASID);
