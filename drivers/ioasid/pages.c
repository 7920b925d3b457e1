// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: pinned user memory. This is the only file that pins, unpins or
 * charges memory. A struct ioasid_pages is one pinned run of user pages,
 * charged once to the mapping process's locked_vm; areas of any number of
 * IOAS (through COPY) reference it, and every domain is filled from it, so a
 * page is pinned and charged once however many consumers see it.
 *
 * Maps with IOASID_KERN_MAP_SHARE_PINS (VFIO type1 compatibility containers,
 * of which a VMM with a vIOMMU opens one per address space) share runs
 * across IOASes and contexts of one process: each such run is entered, by
 * user address, in a tree of its mm, and a later such map of a range that
 * lies whole inside one of them - same mm, same pages there now, writable
 * if it needs to be - takes a reference on it instead of pinning and
 * charging again.
 */
#include <linux/hashtable.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "ioasid_private.h"

/* Pages pinned per pin_user_pages_fast() call; tests shrink it to 1. */
static unsigned int pin_batch = 512;
module_param(pin_batch, uint, 0644);
MODULE_PARM_DESC(pin_batch, "pages pinned per pin_user_pages call (>= 1; testing)");

/**
 * struct ioasid_pin_mm - the shareable runs of one process
 * @node: in ioasid_pin_mms, hashed by @mm
 * @mm: the process's mm (each run holds a grab on it)
 * @runs: struct ioasid_pages by @share_node; never empty (freed with the
 *	last run)
 */
struct ioasid_pin_mm {
	struct hlist_node node;
	struct mm_struct *mm;
	struct rb_root_cached runs;
};

/* Protects ioasid_pin_mms and every run's @share_node. A leaf lock. */
static DEFINE_MUTEX(ioasid_pin_share_lock);
static DEFINE_HASHTABLE(ioasid_pin_mms, 6);

static struct ioasid_pin_mm *ioasid_pin_mm_find(struct mm_struct *mm)
{
	struct ioasid_pin_mm *pm;

	lockdep_assert_held(&ioasid_pin_share_lock);
	hash_for_each_possible(ioasid_pin_mms, pm, node, (unsigned long)mm)
		if (pm->mm == mm)
			return pm;
	return NULL;
}

/* Enter @pages in its mm's tree; out of memory, it just is not shared. */
static void ioasid_pages_share(struct ioasid_pages *pages)
{
	struct ioasid_pin_mm *pm;

	mutex_lock(&ioasid_pin_share_lock);
	pm = ioasid_pin_mm_find(pages->mm);
	if (!pm) {
		pm = kzalloc(sizeof(*pm), GFP_KERNEL_ACCOUNT);
		if (!pm)
			goto out_unlock;
		pm->mm = pages->mm;
		pm->runs = RB_ROOT_CACHED;
		hash_add(ioasid_pin_mms, &pm->node, (unsigned long)pm->mm);
	}
	pages->share_node.start = pages->uaddr;
	pages->share_node.last = pages->uaddr + pages->npages * PAGE_SIZE - 1;
	interval_tree_insert(&pages->share_node, &pm->runs);
	pages->share = pm;
out_unlock:
	mutex_unlock(&ioasid_pin_share_lock);
}

static void ioasid_pages_unshare(struct ioasid_pages *pages)
{
	struct ioasid_pin_mm *pm = pages->share;

	if (!pm)
		return;
	mutex_lock(&ioasid_pin_share_lock);
	interval_tree_remove(&pages->share_node, &pm->runs);
	if (RB_EMPTY_ROOT(&pm->runs.rb_root)) {
		hash_del(&pm->node);
		kfree(pm);
	}
	mutex_unlock(&ioasid_pin_share_lock);
}

/*
 * A shared run of @mm that holds [uaddr, last] whole (writable, if @writable),
 * with a reference; NULL if there is none.
 */
static struct ioasid_pages *ioasid_pages_find_shared(struct mm_struct *mm,
						     unsigned long uaddr,
						     unsigned long last,
						     bool writable)
{
	struct ioasid_pages *pages, *found = NULL;
	struct interval_tree_node *node;
	struct ioasid_pin_mm *pm;

	mutex_lock(&ioasid_pin_share_lock);
	pm = ioasid_pin_mm_find(mm);
	for (node = pm ? interval_tree_iter_first(&pm->runs, uaddr, last) : NULL;
	     node; node = interval_tree_iter_next(node, uaddr, last)) {
		pages = container_of(node, struct ioasid_pages, share_node);
		if (node->start > uaddr || node->last < last ||
		    (writable && !pages->writable))
			continue;
		/* Zero: its last mapping is going; it leaves the tree next. */
		if (kref_get_unless_zero(&pages->kref)) {
			found = pages;
			break;
		}
	}
	mutex_unlock(&ioasid_pin_share_lock);
	return found;
}

static void ioasid_pages_release(struct kref *kref)
{
	struct ioasid_pages *pages = container_of(kref, struct ioasid_pages, kref);

	ioasid_pages_unshare(pages);
	unpin_user_pages_dirty_lock(pages->pages, pages->npages, pages->writable);
	account_locked_vm(pages->mm, pages->npages, false);
	mmdrop(pages->mm);
	kvfree(pages->pages);
	kfree(pages);
}

/*
 * The most pages one run may have: its page array must stay within what
 * kvmalloc() accepts (INT_MAX bytes), and more than RAM can never be pinned.
 */
static bool ioasid_pages_too_many(unsigned long npages)
{
	return npages > INT_MAX / sizeof(struct page *) || npages > totalram_pages();
}

/*
 * Pin @npages of the current process from @uaddr into @out, in batches of
 * pin_batch pages. On failure nothing stays pinned.
 */
static int ioasid_pin_user(unsigned long uaddr, unsigned long npages,
			   bool writable, struct page **out)
{
	unsigned int flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned long done = 0;

	while (done < npages) {
		unsigned long n = min_t(unsigned long, npages - done,
					max(pin_batch, 1U));
		long pinned;

		pinned = pin_user_pages_fast(uaddr + done * PAGE_SIZE, n, flags,
					     out + done);
		if (pinned <= 0) {
			unpin_user_pages(out, done);
			return pinned ? pinned : -EFAULT;
		}
		done += pinned;
		cond_resched();
	}
	return 0;
}

/**
 * ioasid_pages_pin() - pin and charge a run of the current process's memory
 * @uaddr: page-aligned start
 * @npages: number of pages, non-zero
 * @writable: pin for device writes too
 *
 * Refuses a run larger than RAM or than one page array can describe, then
 * charges @npages to current->mm's locked_vm (-ENOMEM over RLIMIT_MEMLOCK
 * without CAP_IPC_LOCK), both before allocating anything, then pins with
 * FOLL_LONGTERM in batches of pin_batch pages. On failure nothing stays
 * pinned or charged.
 *
 * Return: the pages with one reference, or an ERR_PTR().
 */
struct ioasid_pages *ioasid_pages_pin(unsigned long uaddr, unsigned long npages,
				      bool writable)
{
	struct mm_struct *mm = current->mm;
	struct ioasid_pages *pages;
	int rc;

	if (!mm)
		return ERR_PTR(-EFAULT);
	if (ioasid_pages_too_many(npages))
		return ERR_PTR(-ENOMEM);
	rc = account_locked_vm(mm, npages, true);
	if (rc)
		return ERR_PTR(rc);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		rc = -ENOMEM;
		goto err_uncharge;
	}
	/* User-sized: failing is an answer (ENOMEM), not a kernel warning. */
	pages->pages = kvmalloc_array(npages, sizeof(*pages->pages),
				      GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages->pages) {
		rc = -ENOMEM;
		goto err_free;
	}
	rc = ioasid_pin_user(uaddr, npages, writable, pages->pages);
	if (rc)
		goto err_free_array;
	kref_init(&pages->kref);
	pages->npages = npages;
	pages->writable = writable;
	pages->uaddr = uaddr;
	pages->mm = mm;
	mmgrab(mm);
	return pages;

err_free_array:
	kvfree(pages->pages);
err_free:
	kfree(pages);
err_uncharge:
	account_locked_vm(mm, npages, false);
	return ERR_PTR(rc);
}

/*
 * Whether [uaddr, + npages) of the current process holds, right now, the
 * pages @run has from @uaddr on: 1 if so, 0 if not (the range was remapped
 * since @run was pinned), or an errno. Pins one batch at a time to look
 * and unpins it at once.
 */
static int ioasid_pages_same(struct ioasid_pages *run, unsigned long uaddr,
			     unsigned long npages, bool writable)
{
	unsigned long batch = PAGE_SIZE / sizeof(struct page *);
	unsigned long index = (uaddr - run->uaddr) >> PAGE_SHIFT;
	unsigned long done = 0, i, n;
	struct page **tmp;
	int rc = 1;

	tmp = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!tmp)
		return -ENOMEM;
	while (rc == 1 && done < npages) {
		n = min(npages - done, batch);
		rc = ioasid_pin_user(uaddr + done * PAGE_SIZE, n, writable, tmp);
		if (rc)
			break;
		rc = 1;
		for (i = 0; i < n; i++)
			if (tmp[i] != run->pages[index + done + i])
				rc = 0;
		unpin_user_pages(tmp, n);
		done += n;
	}
	kfree(tmp);
	return rc;
}

/**
 * ioasid_pages_pin_shared() - pin a run of the current process's memory once
 * @uaddr: page-aligned start
 * @npages: number of pages, non-zero
 * @writable: pin for device writes too
 * @pgoff: returns the index of @uaddr's page in the run returned
 *
 * The rule of IOASID_KERN_MAP_SHARE_PINS: if a run shared earlier by the
 * same mm holds the whole range, with the pages the range has now (and
 * writable, if @writable), that run is returned with a new reference and
 * nothing more is pinned or charged. Otherwise as ioasid_pages_pin(), and
 * the new run is entered for later maps to share.
 *
 * Return: the pages with one reference, or an ERR_PTR().
 */
struct ioasid_pages *ioasid_pages_pin_shared(unsigned long uaddr,
					     unsigned long npages, bool writable,
					     unsigned long *pgoff)
{
	unsigned long last = uaddr + npages * PAGE_SIZE - 1;
	struct mm_struct *mm = current->mm;
	struct ioasid_pages *pages;
	int rc;

	*pgoff = 0;
	if (!mm)
		return ERR_PTR(-EFAULT);
	if (ioasid_pages_too_many(npages))
		return ERR_PTR(-ENOMEM);
	pages = ioasid_pages_find_shared(mm, uaddr, last, writable);
	if (pages) {
		rc = ioasid_pages_same(pages, uaddr, npages, writable);
		if (rc == 1) {
			*pgoff = (uaddr - pages->uaddr) >> PAGE_SHIFT;
			return pages;
		}
		ioasid_pages_put(pages);
		if (rc < 0)
			return ERR_PTR(rc);
	}
	pages = ioasid_pages_pin(uaddr, npages, writable);
	if (!IS_ERR(pages))
		ioasid_pages_share(pages);
	return pages;
}

void ioasid_pages_get(struct ioasid_pages *pages)
{
	kref_get(&pages->kref);
}

/**
 * ioasid_pages_put() - drop a reference; the last one unpins and uncharges
 * @pages: the pages
 */
void ioasid_pages_put(struct ioasid_pages *pages)
{
	kref_put(&pages->kref, ioasid_pages_release);
}

/**
 * ioasid_pages_run() - a physically contiguous run of pinned pages
 * @pages: the pages
 * @index: first page of the run
 * @max: the run ends after at most @max pages
 * @phys: returns the physical address of page @index
 *
 * Return: the number of pages from @index on whose frames are consecutive,
 * at least 1.
 */
unsigned long ioasid_pages_run(struct ioasid_pages *pages, unsigned long index,
			       unsigned long max, phys_addr_t *phys)
{
	unsigned long pfn = page_to_pfn(pages->pages[index]);
	unsigned long n = 1;

	*phys = PFN_PHYS(pfn);
	while (n < max && page_to_pfn(pages->pages[index + n]) == pfn + n)
		n++;
	return n;
}
