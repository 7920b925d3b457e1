// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: emulated-device access. A device that translates in software
 * (an mdev-style VFIO device, a vDPA parent with its own IOTLB) reads and
 * writes an IOAS by IOVA through an access instead of an iommu_domain.
 *
 * The pages behind an IOAS are pinned and charged when they are mapped
 * (pages.c), so an access pin pins and charges nothing more: it takes a
 * reference on the pinned runs it covers, which keeps them pinned even if
 * the areas go, and records the range so the IOAS knows it is in use.
 *
 * The rule of ../shared/seeds/2016-10-mdev-pinned-page-invalidation: when a
 * range an access has pinned is about to leave the IOAS (UNMAP, a software-
 * nesting parent's UNMAP), the access's unmap callback runs synchronously,
 * with no ioasid lock held, and the driver unpins. UNMAP waits a bounded
 * time (access_unmap_timeout_ms) for the pins to go and otherwise fails
 * with -EBUSY, leaving the mapping in place: pages are never freed under a
 * driver and UNMAP never hangs.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/interval_tree.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "ioasid_private.h"

static unsigned int access_unmap_timeout_ms = 1000;
module_param(access_unmap_timeout_ms, uint, 0644);
MODULE_PARM_DESC(access_unmap_timeout_ms,
		 "how long UNMAP waits for emulated devices to unpin (ms)");

/* Woken on every unpin; unmaps waiting for pins to go sleep on it. */
static DECLARE_WAIT_QUEUE_HEAD(ioasid_access_wait);
static atomic_t ioasid_access_unpins = ATOMIC_INIT(0);

/**
 * struct ioasid_access - an emulated device reading an IOAS
 * @ctx: the context; the access holds a reference on its file
 * @ioas: the IOAS, referenced (it cannot be destroyed under the access)
 * @ops: the driver's callbacks
 * @data: the driver's cookie
 * @node: in ioas->accesses, under ioas->mutex
 * @pins: interval tree of struct ioasid_access_pin, under ioas->mutex
 * @users: 1 for the driver, plus one per unmap notification in flight
 * @released: completed when a notification drops the last of @users
 */
struct ioasid_access {
	struct ioasid_ctx *ctx;
	struct ioasid_ioas *ioas;
	const struct ioasid_access_ops *ops;
	void *data;
	struct list_head node;
	struct rb_root_cached pins;
	refcount_t users;
	struct completion released;
};

/**
 * struct ioasid_access_pin - ranges pinned by ioasid_access_pin_pages()
 * @node: [first page's IOVA, last byte of the last page] in access->pins
 * @iova: the IOVA the caller pinned (exact match for unpin)
 * @length: the length the caller pinned
 * @count: how many times this exact range is pinned
 * @nr_pages: entries of @pages
 * @pages: the pinned runs it covers, one reference each
 */
struct ioasid_access_pin {
	struct interval_tree_node node;
	unsigned long iova;
	unsigned long length;
	unsigned int count;
	unsigned int nr_pages;
	struct ioasid_pages *pages[] __counted_by(nr_pages);
};

/* An unmap callback to make once the IOAS locks are dropped. */
struct ioasid_access_notice {
	struct list_head node;
	struct ioasid_access *access;
	unsigned long iova;
	unsigned long last;
};

/*
 * A software-nested IOAS translates through its parent: lock the parent
 * first, so a parent UNMAP (which holds it across its check and its
 * removal of dependent child areas) never races a pin of the child.
 */
static void ioasid_access_lock(struct ioasid_ioas *ioas)
{
	if (ioas->parent) {
		mutex_lock(&ioas->parent->mutex);
		mutex_lock_nested(&ioas->mutex, SINGLE_DEPTH_NESTING);
	} else {
		mutex_lock(&ioas->mutex);
	}
}

static void ioasid_access_unlock(struct ioasid_ioas *ioas)
{
	mutex_unlock(&ioas->mutex);
	if (ioas->parent)
		mutex_unlock(&ioas->parent->mutex);
}

static void ioasid_access_put(struct ioasid_access *access)
{
	if (refcount_dec_and_test(&access->users))
		complete(&access->released);
}

/* Queue a callback to @access about [iova, last], holding a user of it. */
static int ioasid_access_notice_add(struct list_head *notices,
				    struct ioasid_access *access,
				    unsigned long iova, unsigned long last)
{
	struct ioasid_access_notice *notice;

	notice = kzalloc(sizeof(*notice), GFP_KERNEL);
	if (!notice)
		return -ENOMEM;
	refcount_inc(&access->users);
	notice->access = access;
	notice->iova = iova;
	notice->last = last;
	list_add_tail(&notice->node, notices);
	return 0;
}

/*
 * Note every access of @ioas with a pin in [iova, last]. With @notices
 * NULL only count them. Returns the count or -ENOMEM.
 */
static int ioasid_access_note(struct ioasid_ioas *ioas, unsigned long iova,
			      unsigned long last, struct list_head *notices)
{
	struct ioasid_access *access;
	int n = 0;

	lockdep_assert_held(&ioas->mutex);
	list_for_each_entry(access, &ioas->accesses, node) {
		if (!interval_tree_iter_first(&access->pins, iova, last))
			continue;
		n++;
		if (notices && ioasid_access_notice_add(notices, access, iova, last))
			return -ENOMEM;
	}
	return n;
}

/*
 * Every access pin that removing [iova, last] from @ioas would take away:
 * in @ioas itself, and in the software-nested children whose areas depend
 * on the range (noted by the child's area, which goes whole).
 */
static int ioasid_access_collect(struct ioasid_ioas *ioas, unsigned long iova,
				 unsigned long last, struct list_head *notices)
{
	struct ioasid_ioas *child;
	struct ioasid_area *area;
	int n, total;

	lockdep_assert_held(&ioas->mutex);
	total = ioasid_access_note(ioas, iova, last, notices);
	if (total < 0)
		return total;
	list_for_each_entry(child, &ioas->children, child_node) {
		mutex_lock_nested(&child->mutex, SINGLE_DEPTH_NESTING);
		for_each_ioasid_area(area, &child->areas, 0, ULONG_MAX) {
			if (!ioasid_area_depends_on(area, iova, last))
				continue;
			n = ioasid_access_note(child, area->iova, area->last,
					       notices);
			if (n < 0) {
				mutex_unlock(&child->mutex);
				return n;
			}
			total += n;
		}
		mutex_unlock(&child->mutex);
	}
	return total;
}

static void ioasid_access_notices_free(struct list_head *notices)
{
	struct ioasid_access_notice *notice, *next;

	list_for_each_entry_safe(notice, next, notices, node) {
		ioasid_access_put(notice->access);
		kfree(notice);
	}
}

/**
 * ioasid_access_unmap_begin() - let accesses release what an unmap removes
 * @ioas: the IOAS, locked by the caller; locked again when this returns
 * @iova: first IOVA to be removed
 * @last: last IOVA to be removed
 *
 * Called with @ioas locked, returns with it locked, whatever it returns:
 * the lock is dropped in between only if an access pins part of the range,
 * around its unmap callback (which unpins, taking the lock) and the wait
 * for the unpins.
 *
 * Return: 0 when no access pins anything in the range: the lock was held
 * throughout and the caller removes the range. Otherwise every such
 * access's unmap callback has been called with no ioasid lock held, and the
 * return value says what next: -EAGAIN the pins went (none is left, and
 * none can come while the caller keeps the lock), but the IOAS may have
 * changed while it was unlocked: check the range again; -EBUSY they did not
 * go within access_unmap_timeout_ms; -ENOMEM.
 */
int ioasid_access_unmap_begin(struct ioasid_ioas *ioas, unsigned long iova,
			      unsigned long last)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(access_unmap_timeout_ms);
	struct ioasid_access_notice *notice;
	LIST_HEAD(notices);
	int rc, seen;

	lockdep_assert_held(&ioas->mutex);
	rc = ioasid_access_collect(ioas, iova, last, &notices);
	if (rc <= 0)
		goto out_free;
	mutex_unlock(&ioas->mutex);

	list_for_each_entry(notice, &notices, node)
		notice->access->ops->unmap(notice->access->data, notice->iova,
					   notice->last - notice->iova + 1);

	/*
	 * The callbacks should have unpinned; give stragglers a bounded wait.
	 * Whatever the outcome, it is decided with the lock held, and the
	 * lock stays held from there: the caller removes the range before a
	 * new pin can come in.
	 */
	for (;;) {
		seen = atomic_read(&ioasid_access_unpins);
		mutex_lock(&ioas->mutex);
		rc = ioasid_access_collect(ioas, iova, last, NULL);
		if (!rc) {
			rc = -EAGAIN;
			break;
		}
		if (time_after_eq(jiffies, deadline)) {
			rc = -EBUSY;
			break;
		}
		mutex_unlock(&ioas->mutex);
		wait_event_timeout(ioasid_access_wait,
				   atomic_read(&ioasid_access_unpins) != seen,
				   max_t(long, deadline - jiffies, 1));
	}
out_free:
	/* Dropping a notice's reference only completes, never sleeps. */
	ioasid_access_notices_free(&notices);
	return rc;
}

/**
 * ioasid_access_map_notify() - tell accesses with a map callback of a new range
 * @ioas: the IOAS, not locked
 * @iova: first IOVA mapped
 * @length: bytes mapped
 *
 * For consumers that mirror the IOAS into a translation of their own.
 * Best effort: an allocation failure skips the notification (the consumer
 * still finds the range with ioasid_access_rw()/pin).
 */
void ioasid_access_map_notify(struct ioasid_ioas *ioas, unsigned long iova,
			      unsigned long length)
{
	struct ioasid_access_notice *notice;
	struct ioasid_access *access;
	LIST_HEAD(notices);

	mutex_lock(&ioas->mutex);
	list_for_each_entry(access, &ioas->accesses, node)
		if (access->ops->map &&
		    ioasid_access_notice_add(&notices, access, iova, iova + length - 1))
			break;
	mutex_unlock(&ioas->mutex);
	list_for_each_entry(notice, &notices, node)
		notice->access->ops->map(notice->access->data, iova, length);
	ioasid_access_notices_free(&notices);
}

/**
 * ioasid_access_replay() - call the map callback for what is mapped now
 * @access: an access whose ops have @map
 *
 * For consumers that mirror the IOAS: after ioasid_access_create() they
 * learn the existing mappings from this, and later ones from @map. A range
 * mapped concurrently may be reported twice.
 *
 * Return: 0, -EINVAL without a map callback, -ENOMEM.
 */
int ioasid_access_replay(struct ioasid_access *access)
{
	struct ioasid_ioas *ioas = access->ioas;
	struct ioasid_area *area;
	unsigned long *ranges, n = 0, i;

	if (!access->ops->map)
		return -EINVAL;
	ioasid_access_lock(ioas);
	ranges = kvmalloc_array(max(READ_ONCE(ioas->nr_areas), 1UL), 2 * sizeof(*ranges),
				GFP_KERNEL);
	if (!ranges) {
		ioasid_access_unlock(ioas);
		return -ENOMEM;
	}
	for_each_ioasid_area(area, &ioas->areas, 0, ULONG_MAX) {
		ranges[2 * n] = area->iova;
		ranges[2 * n + 1] = area->last - area->iova + 1;
		n++;
	}
	ioasid_access_unlock(ioas);
	for (i = 0; i < n; i++)
		access->ops->map(access->data, ranges[2 * i], ranges[2 * i + 1]);
	kvfree(ranges);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_replay, IOASID);

/**
 * ioasid_access_create() - an emulated-device access to an IOAS
 * @ctx: a context (from get_ioasid_from_file() or ioasid_ctx_create())
 * @ioas_id: the IOAS in @ctx
 * @ops: the driver's callbacks; @ops->unmap is mandatory with
 *	@ops->needs_pin_pages
 * @data: passed to the callbacks
 *
 * The access holds the IOAS (IOASID_DESTROY of it fails with -EBUSY) and
 * the context until ioasid_access_destroy().
 *
 * Return: the access, or ERR_PTR(): -EINVAL for bad @ops, -ENOENT for no
 * such IOAS, -ENOMEM.
 */
struct ioasid_access *ioasid_access_create(struct ioasid_ctx *ctx, u32 ioas_id,
					   const struct ioasid_access_ops *ops,
					   void *data)
{
	struct ioasid_access *access;
	struct ioasid_ioas *ioas;

	if (!ops || (ops->needs_pin_pages && !ops->unmap))
		return ERR_PTR(-EINVAL);
	access = kzalloc(sizeof(*access), GFP_KERNEL_ACCOUNT);
	if (!access)
		return ERR_PTR(-ENOMEM);
	ioas = ioasid_get_ioas(ctx, ioas_id);
	if (IS_ERR(ioas)) {
		kfree(access);
		return ERR_CAST(ioas);
	}
	access->ioas = ioas;
	access->ctx = ctx;
	get_file(ctx->file);
	access->ops = ops;
	access->data = data;
	access->pins = RB_ROOT_CACHED;
	refcount_set(&access->users, 1);
	init_completion(&access->released);

	mutex_lock(&access->ioas->mutex);
	list_add_tail(&access->node, &access->ioas->accesses);
	WRITE_ONCE(access->ioas->nr_accesses, access->ioas->nr_accesses + 1);
	mutex_unlock(&access->ioas->mutex);
	return access;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_create, IOASID);

static void ioasid_access_pin_free(struct ioasid_access_pin *pin)
{
	unsigned int i;

	for (i = 0; i < pin->nr_pages; i++)
		ioasid_pages_put(pin->pages[i]);
	kfree(pin);
}

/**
 * ioasid_access_destroy() - end an access
 * @access: from ioasid_access_create()
 *
 * Waits for unmap callbacks in flight (warning if one still runs after
 * IOASID_WAIT_WARN_SECS). Pins still held are a driver bug:
 * they are released (with a warning) so nothing stays pinned.
 */
void ioasid_access_destroy(struct ioasid_access *access)
{
	struct ioasid_ioas *ioas = access->ioas;
	unsigned long start = jiffies;
	struct interval_tree_node *node;

	ioasid_access_lock(ioas);
	list_del(&access->node);
	WRITE_ONCE(ioas->nr_accesses, ioas->nr_accesses - 1);
	while ((node = interval_tree_iter_first(&access->pins, 0, ULONG_MAX))) {
		WARN_ONCE(1, "ioasid: access destroyed with pages pinned\n");
		interval_tree_remove(node, &access->pins);
		ioasid_access_pin_free(container_of(node, struct ioasid_access_pin,
						    node));
	}
	ioasid_access_unlock(ioas);
	atomic_inc(&ioasid_access_unpins);
	wake_up_all(&ioasid_access_wait);

	ioasid_access_put(access);
	/* Bounded in what it tolerates: a callback stuck that long warns. */
	while (!wait_for_completion_timeout(&access->released, 10 * HZ)) {
		WARN_ONCE(time_after(jiffies, start + IOASID_WAIT_WARN_SECS * HZ),
			  "ioasid: an unmap callback of an access still runs after %d s\n",
			  IOASID_WAIT_WARN_SECS);
	}
	ioasid_put_ioas(ioas);
	fput(access->ctx->file);
	kfree(access);
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_destroy, IOASID);

/* The permission a pin or copy with @flags needs of the mapping. */
static int ioasid_access_prot(unsigned int flags)
{
	return (flags & IOASID_ACCESS_WRITE) ? IOMMU_WRITE : IOMMU_READ;
}

/**
 * ioasid_access_pin_pages() - the pages behind an IOVA range, kept pinned
 * @access: an access whose ops set needs_pin_pages
 * @iova: first IOVA (need not be page aligned)
 * @length: bytes, non-zero
 * @out_pages: receives one struct page per page the range touches
 * @flags: IOASID_ACCESS_WRITE if the device will write
 *
 * The pages stay pinned until ioasid_access_unpin_pages() of exactly
 * (@iova, @length), even if the range is unmapped meanwhile - which the
 * unmap callback announces first. Nothing more is charged: the IOAS's
 * pin is shared.
 *
 * Return: 0; -EINVAL for a bad range or an access without
 * needs_pin_pages; -ENOENT if part of the range is not mapped; -EPERM if
 * the mapping lacks the permission; -ENOMEM.
 */
int ioasid_access_pin_pages(struct ioasid_access *access, unsigned long iova,
			    unsigned long length, struct page **out_pages,
			    unsigned int flags)
{
	struct ioasid_ioas *ioas = access->ioas;
	struct interval_tree_node *node;
	struct ioasid_access_pin *pin;
	struct ioasid_area *area;
	unsigned long last, first_page, out = 0;
	unsigned int i = 0;
	int n;

	if (!access->ops->needs_pin_pages ||
	    (flags & ~(IOASID_ACCESS_WRITE | IOASID_ACCESS_KTHREAD)) ||
	    ioasid_range_last(iova, length, 1, &last))
		return -EINVAL;
	first_page = ALIGN_DOWN(iova, PAGE_SIZE);
	last = ALIGN(last + 1, PAGE_SIZE) - 1;
	if (!last)
		return -EINVAL;

	ioasid_access_lock(ioas);
	/* The same range pinned again only counts. */
	for (node = interval_tree_iter_first(&access->pins, first_page, last); node;
	     node = interval_tree_iter_next(node, first_page, last)) {
		pin = container_of(node, struct ioasid_access_pin, node);
		if (pin->iova == iova && pin->length == length)
			break;
	}
	n = ioasid_ioas_span(ioas, first_page, last, false, ioasid_access_prot(flags));
	if (n < 0)
		goto out_unlock;
	if (node) {
		pin->count++;
	} else {
		pin = kzalloc(struct_size(pin, pages, n), GFP_KERNEL_ACCOUNT);
		if (!pin) {
			n = -ENOMEM;
			goto out_unlock;
		}
		pin->nr_pages = n;
		pin->iova = iova;
		pin->length = length;
		pin->count = 1;
		pin->node.start = first_page;
		pin->node.last = last;
	}
	for_each_ioasid_area(area, &ioas->areas, first_page, last) {
		unsigned long start = max(first_page, area->iova);
		unsigned long end = min(last, area->last);
		unsigned long idx = area->pgoff + ((start - area->iova) >> PAGE_SHIFT);
		unsigned long k, npages = (end - start + 1) >> PAGE_SHIFT;

		for (k = 0; k < npages; k++)
			out_pages[out++] = ioasid_pages_page(area->pages, idx + k);
		if (!node) {
			ioasid_pages_get(area->pages);
			pin->pages[i++] = area->pages;
		}
	}
	if (!node)
		interval_tree_insert(&pin->node, &access->pins);
	n = 0;
out_unlock:
	ioasid_access_unlock(ioas);
	return n;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_pin_pages, IOASID);

/**
 * ioasid_access_unpin_pages() - release a range ioasid_access_pin_pages() pinned
 * @access: the access
 * @iova: the IOVA it was pinned with
 * @length: the length it was pinned with
 *
 * A range that was not pinned is a driver bug: warned about, ignored.
 */
void ioasid_access_unpin_pages(struct ioasid_access *access,
			       unsigned long iova, unsigned long length)
{
	struct ioasid_ioas *ioas = access->ioas;
	struct interval_tree_node *node;
	struct ioasid_access_pin *pin = NULL;
	unsigned long last;

	if (WARN_ON(ioasid_range_last(iova, length, 1, &last)))
		return;
	ioasid_access_lock(ioas);
	for (node = interval_tree_iter_first(&access->pins, iova, last); node;
	     node = interval_tree_iter_next(node, iova, last)) {
		pin = container_of(node, struct ioasid_access_pin, node);
		if (pin->iova == iova && pin->length == length)
			break;
	}
	if (WARN_ON(!node)) {
		ioasid_access_unlock(ioas);
		return;
	}
	if (!--pin->count)
		interval_tree_remove(&pin->node, &access->pins);
	else
		pin = NULL;
	ioasid_access_unlock(ioas);
	if (pin)
		ioasid_access_pin_free(pin);
	atomic_inc(&ioasid_access_unpins);
	wake_up_all(&ioasid_access_wait);
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_unpin_pages, IOASID);

/**
 * ioasid_access_rw() - copy to or from an IOAS by IOVA
 * @access: the access
 * @iova: first IOVA
 * @data: kernel buffer
 * @length: bytes
 * @flags: IOASID_ACCESS_WRITE to write the IOAS (from @data), else read it
 *	into @data; IOASID_ACCESS_KTHREAD is accepted (the pages are pinned
 *	already, no mm is needed)
 *
 * For small transfers: no pin outlives the call (the IOAS lock is held
 * while copying, so an UNMAP waits for it).
 *
 * Return: 0; -EINVAL for a bad range; -ENOENT if part of it is not
 * mapped; -EPERM if the mapping lacks the permission.
 */
int ioasid_access_rw(struct ioasid_access *access, unsigned long iova,
		     void *data, size_t length, unsigned int flags)
{
	struct ioasid_ioas *ioas = access->ioas;
	struct ioasid_area *area;
	unsigned long last;
	int rc;

	if ((flags & ~(IOASID_ACCESS_WRITE | IOASID_ACCESS_KTHREAD)) ||
	    ioasid_range_last(iova, length, 1, &last))
		return -EINVAL;

	ioasid_access_lock(ioas);
	rc = ioasid_ioas_span(ioas, iova, last, false, ioasid_access_prot(flags));
	if (rc < 0)
		goto out_unlock;
	rc = 0;
	for_each_ioasid_area(area, &ioas->areas, iova, last) {
		unsigned long pos = max(iova, area->iova);
		unsigned long end = min(last, area->last);

		while (pos <= end) {
			unsigned long idx = area->pgoff + ((pos - area->iova) >> PAGE_SHIFT);
			size_t off = offset_in_page(pos);
			size_t n = min_t(size_t, PAGE_SIZE - off, end - pos + 1);
			struct page *page = ioasid_pages_page(area->pages, idx);

			if (flags & IOASID_ACCESS_WRITE)
				memcpy_to_page(page, off, data, n);
			else
				memcpy_from_page(data, page, off, n);
			data += n;
			pos += n;
			if (!pos)
				break;
		}
	}
out_unlock:
	ioasid_access_unlock(ioas);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_access_rw, IOASID);
