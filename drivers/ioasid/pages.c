// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: pinned user memory. This is the only file that pins, unpins or
 * charges memory. A struct ioasid_pages is one pinned run of user pages,
 * charged once to the mapping process's locked_vm; areas of any number of
 * IOAS (through COPY) reference it, and every domain is filled from it, so a
 * page is pinned and charged once however many consumers see it.
 */
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "ioasid_private.h"

/* Pages pinned per pin_user_pages_fast() call; tests shrink it to 1. */
static unsigned int pin_batch = 512;
module_param(pin_batch, uint, 0644);
MODULE_PARM_DESC(pin_batch, "pages pinned per pin_user_pages call (>= 1; testing)");

static void ioasid_pages_release(struct kref *kref)
{
	struct ioasid_pages *pages = container_of(kref, struct ioasid_pages, kref);

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
	unsigned int flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	struct mm_struct *mm = current->mm;
	unsigned long done = 0;
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
	kref_init(&pages->kref);
	pages->npages = npages;
	pages->writable = writable;
	pages->mm = mm;
	mmgrab(mm);

	while (done < npages) {
		unsigned long n = min_t(unsigned long, npages - done,
					max(pin_batch, 1U));
		long pinned;

		pinned = pin_user_pages_fast(uaddr + done * PAGE_SIZE, n, flags,
					     pages->pages + done);
		if (pinned <= 0) {
			rc = pinned ? pinned : -EFAULT;
			goto err_unpin;
		}
		done += pinned;
		cond_resched();
	}
	return pages;

err_unpin:
	unpin_user_pages(pages->pages, done);
	mmdrop(mm);
	kvfree(pages->pages);
err_free:
	kfree(pages);
err_uncharge:
	account_locked_vm(mm, npages, false);
	return ERR_PTR(rc);
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
