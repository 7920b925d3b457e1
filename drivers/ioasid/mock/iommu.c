// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mock: the mock IOMMU driver.
 *
 * Two mock IOMMU instances are registered with the real iommu core, each
 * named by its own software-node fwnode. A mock device is a platform device
 * whose dev->iommu points at one of those fwnodes, so the core probes it with
 * the mock ops even when another IOMMU driver (intel-iommu) is present.
 *
 * IOASID_MOCK_DEV_PASID devices also take paging domains on PASIDs
 * (set_dev_pasid/remove_dev_pasid); each device records which domain every
 * PASID is attached to, as it records its RID's.
 *
 * The control surface (ctl.c) reads the state of a device's IOMMU back only
 * through the mock_iommu_*() functions at the end of this file; the types
 * below are this file's own. The lock order is in mock_private.h.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/atomic.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

/* The iommu core internals mirrored, and the kernel version checked. */
#include "../compat.h"
#include "mock_private.h"

/* The IOPTE encoding below needs 64-bit xarray value entries. */
static_assert(BITS_PER_LONG == 64);

#define MOCK_NR_IOMMUS	2

/*
 * An IOPTE is an xarray value entry at index (first IOVA >> domain shift):
 * bits 0-5 hold its IOMMU_* prot bits, bit 6 is set for a huge
 * (IOASID_MOCK_HUGE_SIZE) IOPTE and the rest is the physical address >>
 * IOASID_MOCK_PAGE_SHIFT. A huge IOPTE sits at the index of its (aligned)
 * first IOVA and no other IOPTE may sit inside its range, so the IOPTE
 * covering an IOVA is either at the index of the IOVA's huge-aligned start
 * (if huge) or at the IOVA's own index.
 */
#define MOCK_PTE_PROT_MASK	GENMASK(5, 0)
#define MOCK_PTE_HUGE		BIT(6)
#define MOCK_PTE_PFN_SHIFT	7

/**
 * struct mock_iommu - one mock IOMMU instance
 * @iommu: the core's view
 * @fwnode: the software node naming this instance in device fwspecs
 * @iopf_queue: the iopf queue of its IOASID_MOCK_DEV_IOPF devices
 */
struct mock_iommu {
	struct iommu_device iommu;
	struct fwnode_handle *fwnode;
	struct iopf_queue *iopf_queue;
};

/**
 * struct mock_iommu_dev - what a mock IOMMU knows about a probed device
 * @mi: the instance the device is behind
 * @flags: enum ioasid_mock_dev_flags, from the device's fwspec
 * @lock: protects @domain and the entries of @pasids; held by readers for
 *	as long as they use the domain they found
 * @domain: the mock paging domain the device (its RID) is attached to, NULL
 *	when it is blocked. A domain cannot be freed while a device or PASID is
 *	attached to it, and detaching takes @lock, so holding @lock keeps it
 *	alive.
 * @pasids: PASID -> the mock paging domain attached to it; no entry when
 *	blocked. Only the iommu core's set_dev_pasid and remove_dev_pasid
 *	(under the group mutex) change it, always with @lock held.
 * @nested: the mock nested domain the RID is attached to, NULL when none;
 *	under @lock, like @domain (then the nesting parent)
 * @prq_lock: the page request path: held for read while a request is being
 *	reported, for write while the translation of the RID or a PASID
 *	changes. As an IOMMU drains its page request queue when it blocks a
 *	requester, a request in flight is reported before a detach or replace
 *	returns, and one of a blocked RID or PASID never reaches the core:
 *	the core's attach handle is only good until then
 * @iopf_users: how many fault-delivering attachments enabled
 *	IOMMU_DEV_FEAT_IOPF; the device is on the instance's iopf queue while
 *	this is not 0 (ioasid serializes the calls)
 * @responses: ring of the page responses the device was sent, for
 *	IOASID_MOCK_FAULT_RESPONSES; under @lock
 * @resp_head: index of the oldest entry of @responses
 * @resp_count: entries in @responses
 * @resp_dropped: responses dropped, oldest first, because the ring was full
 *	and nobody read it
 */
struct mock_iommu_dev {
	struct mock_iommu *mi;
	u32 flags;
	spinlock_t lock;
	struct rw_semaphore prq_lock;
	struct mock_domain *domain;
	struct mock_nested *nested;
	struct xarray pasids;
	unsigned int iopf_users;
	struct ioasid_mock_fault_response responses[IOASID_MOCK_FAULT_RESPONSES_MAX];
	unsigned int resp_head, resp_count, resp_dropped;
};

/**
 * struct mock_nested - a mock nested domain (stage 1 on a mock nesting parent)
 * @domain: the core's view
 * @parent: the nesting-parent paging domain; outlives this domain
 * @serial: names the domain in IOASID_MOCK_NESTED_INFO; never reused
 * @users: RIDs attached to it
 * @lock: protects @iotlb and @invalidations
 * @iotlb: the mock IOTLB, set from the payload and cleared by invalidations
 * @invalidations: invalidation entries handled
 */
struct mock_nested {
	struct iommu_domain domain;
	struct mock_domain *parent;
	u64 serial;
	atomic_t users;
	spinlock_t lock;
	u32 iotlb[IOASID_MOCK_NESTED_IOTLB_NUM];
	u64 invalidations;
};

/**
 * struct mock_domain - a mock paging domain
 * @domain: the core's view
 * @mi: the instance of the device the domain was allocated for
 * @flags: the flags of that device; attach requires the same @mi and @flags
 * @serial: names the domain in IOASID_MOCK_DOMAIN_INFO; never reused
 * @shift: log2 of the smallest IOPTE size; an IOPTE at IOVA x has index
 *	x >> @shift
 * @huge: the domain also has IOASID_MOCK_HUGE_SIZE IOPTEs
 * @users: devices whose RID is attached to the domain
 * @pasid_users: (device, PASID) pairs attached to the domain
 * @ptes: the page table, see MOCK_PTE_*; its xa_lock also protects the
 *	counters below
 * @nr_ioptes: IOPTEs in @ptes
 * @nr_huge: how many of them are huge
 * @mapped: bytes they map
 * @unsynced: bytes unmapped since the last IOTLB sync (iotlb_sync or
 *	flush_iotlb_all): the mock IOTLB may still translate them
 * @stale_start: with @unsynced, the first IOVA of the window they lie in
 *	(merged, as the core's iotlb_gather merges)
 * @stale_last: with @unsynced, the last IOVA of that window
 * @nest_parent: allocated with IOMMU_HWPT_ALLOC_NEST_PARENT: mock nested
 *	domains may be allocated on it
 * @nested_users: mock nested domains on this nesting parent; it cannot be
 *	freed while there are any
 */
struct mock_domain {
	struct iommu_domain domain;
	struct mock_iommu *mi;
	u32 flags;
	u64 serial;
	unsigned int shift;
	bool huge;
	atomic_t users;
	atomic_t pasid_users;
	struct xarray ptes;
	u64 nr_ioptes;
	u64 nr_huge;
	u64 mapped;
	u64 unsynced;
	unsigned long stale_start;
	unsigned long stale_last;
	bool nest_parent;
	atomic_t nested_users;
};

/* A decoded IOPTE. */
struct mock_pte {
	unsigned long iova;
	size_t size;
	phys_addr_t phys;
	int prot;
	bool huge;
};

static struct mock_iommu mock_iommus[MOCK_NR_IOMMUS];
static atomic64_t mock_domain_serial = ATOMIC64_INIT(0);
/* Mock paging domains that exist right now. */
static atomic_long_t mock_nr_domains = ATOMIC_LONG_INIT(0);

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

static struct mock_iommu *mock_iommu_from_fwnode(struct fwnode_handle *fwnode)
{
	unsigned int i;

	for (i = 0; i < MOCK_NR_IOMMUS; i++)
		if (fwnode && mock_iommus[i].fwnode == fwnode)
			return &mock_iommus[i];
	return NULL;
}

/* Page table */

static unsigned long mock_pte_encode(phys_addr_t phys, int prot, bool huge)
{
	return (unsigned long)(phys >> IOASID_MOCK_PAGE_SHIFT) << MOCK_PTE_PFN_SHIFT |
	       (huge ? MOCK_PTE_HUGE : 0) | (prot & MOCK_PTE_PROT_MASK);
}

static bool mock_pte_decode(struct mock_domain *md, unsigned long index,
			    void *entry, struct mock_pte *pte)
{
	unsigned long val;

	if (!xa_is_value(entry))
		return false;
	val = xa_to_value(entry);
	pte->iova = index << md->shift;
	pte->huge = val & MOCK_PTE_HUGE;
	pte->size = pte->huge ? IOASID_MOCK_HUGE_SIZE : 1UL << md->shift;
	pte->phys = (phys_addr_t)(val >> MOCK_PTE_PFN_SHIFT) << IOASID_MOCK_PAGE_SHIFT;
	pte->prot = val & MOCK_PTE_PROT_MASK;
	return true;
}

/*
 * Find the IOPTE that translates @iova. Safe without the xa_lock (xa_load()
 * takes the RCU read lock), although a concurrent map or unmap may then be
 * seen half done.
 */
static bool mock_pte_lookup(struct mock_domain *md, unsigned long iova,
			    struct mock_pte *pte)
{
	unsigned long index;
	void *entry;

	if (md->huge) {
		index = ALIGN_DOWN(iova, IOASID_MOCK_HUGE_SIZE) >> md->shift;
		entry = xa_load(&md->ptes, index);
		if (xa_is_value(entry) && (xa_to_value(entry) & MOCK_PTE_HUGE))
			return mock_pte_decode(md, index, entry, pte);
	}
	index = iova >> md->shift;
	return mock_pte_decode(md, index, xa_load(&md->ptes, index), pte);
}

/* Whether no IOPTE translates any of [iova, iova + size). */
static bool mock_range_free(struct mock_domain *md, unsigned long iova,
			    size_t size)
{
	unsigned long index = iova >> md->shift;
	unsigned long last = (iova + size - 1) >> md->shift;
	struct mock_pte pte;

	lockdep_assert_held(&md->ptes.xa_lock);
	if (mock_pte_lookup(md, iova, &pte))
		return false;
	return !xa_find(&md->ptes, &index, last, XA_PRESENT);
}

static bool mock_in_aperture(struct iommu_domain *domain, unsigned long iova,
			     size_t size)
{
	unsigned long last;

	if (!size || check_add_overflow(iova, size - 1, &last))
		return false;
	return iova >= domain->geometry.aperture_start &&
	       last <= domain->geometry.aperture_end;
}

/* Paging domains */

static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev);
static int mock_domain_set_dev_pasid(struct iommu_domain *domain,
				     struct device *dev, ioasid_t pasid,
				     struct iommu_domain *old);
static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped);
static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather);
static phys_addr_t mock_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova);
static void mock_domain_flush_iotlb_all(struct iommu_domain *domain);
static void mock_domain_iotlb_sync(struct iommu_domain *domain,
				   struct iommu_iotlb_gather *gather);
static bool mock_domain_enforce_cache_coherency(struct iommu_domain *domain);
static void mock_domain_free(struct iommu_domain *domain);

static const struct iommu_domain_ops mock_paging_ops = {
	.attach_dev = mock_domain_attach_dev,
	.set_dev_pasid = mock_domain_set_dev_pasid,
	.map_pages = mock_domain_map_pages,
	.unmap_pages = mock_domain_unmap_pages,
	.flush_iotlb_all = mock_domain_flush_iotlb_all,
	.iotlb_sync = mock_domain_iotlb_sync,
	.iova_to_phys = mock_domain_iova_to_phys,
	.enforce_cache_coherency = mock_domain_enforce_cache_coherency,
	.free = mock_domain_free,
};

/*
 * Record that the device of @mid now translates through @md (NULL: blocked),
 * under nested domain @mn whose parent @md is, or directly (@mn NULL).
 */
static void mock_dev_set_domain(struct mock_iommu_dev *mid,
				struct mock_domain *md, struct mock_nested *mn)
{
	struct mock_domain *old;

	down_write(&mid->prq_lock);	/* no page request in flight */
	spin_lock(&mid->lock);
	old = mid->domain;
	if (old != md) {
		if (md)
			atomic_inc(&md->users);
		if (old)
			atomic_dec(&old->users);
		mid->domain = md;
	}
	if (mid->nested != mn) {
		if (mn)
			atomic_inc(&mn->users);
		if (mid->nested)
			atomic_dec(&mid->nested->users);
		mid->nested = mn;
	}
	spin_unlock(&mid->lock);
	up_write(&mid->prq_lock);
}

/* Whether @md may be attached to (a PASID of) the device of @mid. */
static bool mock_domain_compatible(struct mock_domain *md,
				   struct mock_iommu_dev *mid)
{
	return md->mi == mid->mi && md->flags == mid->flags;
}

static int mock_domain_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_domain *md = to_mock_domain(domain);

	/* How ioasid learns that a device needs a domain of its own. */
	if (!mock_domain_compatible(md, mid))
		return -EINVAL;
	mock_dev_set_domain(mid, md, NULL);
	return 0;
}

/*
 * Attach @domain to @pasid of @dev; the core has checked @pasid against the
 * device's max_pasids. 6.12's core never replaces (@old is NULL), but a
 * replace would work: the previous domain of @pasid loses this user.
 */
static int mock_domain_set_dev_pasid(struct iommu_domain *domain,
				     struct device *dev, ioasid_t pasid,
				     struct iommu_domain *old)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_domain *md = to_mock_domain(domain);
	struct mock_domain *prev;
	int rc;

	if (!mock_domain_compatible(md, mid))
		return -EINVAL;
	/* Allocate the slot first, so the store under mid->lock cannot fail. */
	rc = xa_reserve(&mid->pasids, pasid, GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;

	down_write(&mid->prq_lock);
	spin_lock(&mid->lock);
	prev = xa_store(&mid->pasids, pasid, md, GFP_NOWAIT);
	if (WARN_ON(xa_is_err(prev))) {
		/* Unreachable: the entry was reserved or present. */
		xa_release(&mid->pasids, pasid);
		spin_unlock(&mid->lock);
		up_write(&mid->prq_lock);
		return xa_err(prev);
	}
	if (prev != md) {
		atomic_inc(&md->pasid_users);
		if (prev)
			atomic_dec(&prev->pasid_users);
	}
	spin_unlock(&mid->lock);
	up_write(&mid->prq_lock);
	/* The core's view and ours must agree on what was attached before. */
	WARN_ON((prev ? &prev->domain : NULL) != old);
	return 0;
}

/* Block @pasid of @dev, to which the core attached @domain. */
static void mock_remove_dev_pasid(struct device *dev, ioasid_t pasid,
				  struct iommu_domain *domain)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_domain *md;

	down_write(&mid->prq_lock);	/* drain: nothing of @pasid in flight */
	spin_lock(&mid->lock);
	md = xa_erase(&mid->pasids, pasid);
	if (md)
		atomic_dec(&md->pasid_users);
	spin_unlock(&mid->lock);
	up_write(&mid->prq_lock);
	/* Removing what was never attached is a bookkeeping bug. */
	WARN_ON(!md || &md->domain != domain);
}

static int mock_domain_map_pages(struct iommu_domain *domain,
				 unsigned long iova, phys_addr_t paddr,
				 size_t pgsize, size_t pgcount, int prot,
				 gfp_t gfp, size_t *mapped)
{
	struct mock_domain *md = to_mock_domain(domain);
	bool huge = pgsize == IOASID_MOCK_HUGE_SIZE;
	XA_STATE(xas, &md->ptes, 0);
	size_t total, done = 0;
	int rc = 0;

	if (WARN_ON(!is_power_of_2(pgsize) || !(pgsize & domain->pgsize_bitmap) ||
		    !IS_ALIGNED(iova | paddr, pgsize)) ||
	    WARN_ON(check_mul_overflow(pgsize, pgcount, &total) ||
		    !mock_in_aperture(domain, iova, total)))
		return -EINVAL;

	/*
	 * Check and store each IOPTE under the xa_lock; when the xarray needs
	 * memory, drop the lock, allocate with the caller's gfp and check the
	 * IOPTE again.
	 */
	do {
		xas_lock(&xas);
		while (done < pgcount) {
			unsigned long cur = iova + done * pgsize;

			/* Mapping over an IOPTE is an ioasid bug. */
			if (WARN_ON(!mock_range_free(md, cur, pgsize))) {
				rc = -EEXIST;
				break;
			}
			xas_set(&xas, cur >> md->shift);
			xas_store(&xas, xa_mk_value(mock_pte_encode(paddr + done * pgsize,
								    prot, huge)));
			if (xas_error(&xas))
				break;
			md->nr_ioptes++;
			md->nr_huge += huge;
			md->mapped += pgsize;
			done++;
		}
		xas_unlock(&xas);
	} while (xas_nomem(&xas, gfp));

	*mapped = done * pgsize;
	return rc ?: xas_error(&xas);
}

/*
 * Unmap the IOPTEs in [iova, iova + pgsize * pgcount), which must neither
 * start nor end inside an IOPTE: splitting one WARNs and stops there. Like
 * real hardware the walk also stops at the first IOVA that is not mapped.
 * Returns the bytes unmapped, so a short return tells the caller where it
 * stopped.
 *
 * Like real hardware the mock has an IOTLB: what is unmapped here may still
 * be translated until the caller syncs it (iotlb_sync, flush_iotlb_all), as
 * iommu_unmap() does before it returns. CHECK_MAP and DOMAIN_INFO report
 * what is not synced yet (an IOVA in the window fails CHECK_MAP with EBUSY).
 */
static size_t mock_domain_unmap_pages(struct iommu_domain *domain,
				      unsigned long iova, size_t pgsize,
				      size_t pgcount,
				      struct iommu_iotlb_gather *gather)
{
	struct mock_domain *md = to_mock_domain(domain);
	size_t total, unmapped = 0;
	struct mock_pte pte;

	if (WARN_ON(check_mul_overflow(pgsize, pgcount, &total) || !total ||
		    iova + (total - 1) < iova))
		return 0;

	xa_lock(&md->ptes);
	while (unmapped < total &&
	       mock_pte_lookup(md, iova + unmapped, &pte)) {
		/* Would split an IOPTE: an ioasid bug. */
		if (WARN_ON(pte.iova != iova + unmapped ||
			    pte.size > total - unmapped))
			break;
		__xa_erase(&md->ptes, pte.iova >> md->shift);
		md->nr_ioptes--;
		md->nr_huge -= pte.huge;
		md->mapped -= pte.size;
		unmapped += pte.size;
	}
	if (unmapped) {
		if (!md->unsynced) {
			md->stale_start = iova;
			md->stale_last = iova + unmapped - 1;
		} else {
			md->stale_start = min(md->stale_start, iova);
			md->stale_last = max(md->stale_last, iova + unmapped - 1);
		}
		md->unsynced += unmapped;
		iommu_iotlb_gather_add_range(gather, iova, unmapped);
	}
	xa_unlock(&md->ptes);
	return unmapped;
}

/* The IOTLB forgets every translation of the domain. */
static void mock_domain_flush_iotlb_all(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	xa_lock(&md->ptes);
	md->unsynced = 0;
	xa_unlock(&md->ptes);
}

/* A sync flushes the whole mock IOTLB, whatever @gather covers. */
static void mock_domain_iotlb_sync(struct iommu_domain *domain,
				   struct iommu_iotlb_gather *gather)
{
	mock_domain_flush_iotlb_all(domain);
}

/* Whether the mock IOTLB may still translate @iova, which is not mapped. */
static bool mock_iova_stale(struct mock_domain *md, unsigned long iova)
{
	bool stale;

	xa_lock(&md->ptes);
	stale = md->unsynced && iova >= md->stale_start && iova <= md->stale_last;
	xa_unlock(&md->ptes);
	return stale;
}

static phys_addr_t mock_domain_iova_to_phys(struct iommu_domain *domain,
					    dma_addr_t iova)
{
	struct mock_domain *md = to_mock_domain(domain);
	struct mock_pte pte;

	if (!mock_pte_lookup(md, iova, &pte))
		return 0;
	return pte.phys + (iova - pte.iova);
}

static bool mock_domain_enforce_cache_coherency(struct iommu_domain *domain)
{
	/* Mock IOPTEs are always coherent. */
	return true;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *md = to_mock_domain(domain);

	/*
	 * Freeing a domain still attached to a RID or a PASID, or still
	 * mapping, is an ioasid bug.
	 */
	WARN_ON(atomic_read(&md->users));
	WARN_ON(atomic_read(&md->pasid_users));
	/* A nesting parent outlives its nested domains. */
	WARN_ON(atomic_read(&md->nested_users));
	WARN_ON(!xa_empty(&md->ptes));
	xa_destroy(&md->ptes);
	atomic_long_dec(&mock_nr_domains);
	kfree(md);
}

static struct iommu_domain *mock_domain_alloc_paging(struct device *dev)
{
	struct mock_iommu_dev *mid = dev ? dev_iommu_priv_get(dev) : NULL;
	unsigned long granule = IOASID_MOCK_PAGE_SIZE;
	struct mock_domain *md;

	/* The legacy bus-wide allocation passes no device. */
	if (!mid)
		return ERR_PTR(-EOPNOTSUPP);

	md = kzalloc(sizeof(*md), GFP_KERNEL_ACCOUNT);
	if (!md)
		return ERR_PTR(-ENOMEM);
	md->mi = mid->mi;
	md->flags = mid->flags;
	if (md->flags & IOASID_MOCK_DEV_BIG_PGSIZE)
		granule = IOASID_MOCK_BIG_PGSIZE;
	md->shift = ilog2(granule);
	md->huge = md->flags & IOASID_MOCK_DEV_HUGE;
	md->domain.ops = &mock_paging_ops;
	md->domain.pgsize_bitmap = granule | (md->huge ? IOASID_MOCK_HUGE_SIZE : 0);
	md->domain.geometry.aperture_start = 0;
	if (md->flags & IOASID_MOCK_DEV_SMALL_APERTURE)
		md->domain.geometry.aperture_end = IOASID_MOCK_SMALL_APERTURE_LAST;
	else
		md->domain.geometry.aperture_end = IOASID_MOCK_APERTURE_LAST;
	md->domain.geometry.force_aperture = true;
	xa_init_flags(&md->ptes, XA_FLAGS_ACCOUNT);
	md->serial = atomic64_inc_return(&mock_domain_serial);
	atomic_long_inc(&mock_nr_domains);
	return &md->domain;
}

/* Nested domains (IOASID_MOCK_DEV_NESTING) */

static atomic_long_t mock_nr_nested = ATOMIC_LONG_INIT(0);

static struct mock_nested *to_mock_nested(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_nested, domain);
}

/* A nested domain translates a RID through its parent's (mock) table. */
static int mock_nested_attach_dev(struct iommu_domain *domain,
				  struct device *dev)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_nested *mn = to_mock_nested(domain);

	if (!mock_domain_compatible(mn->parent, mid))
		return -EINVAL;
	mock_dev_set_domain(mid, mn->parent, mn);
	return 0;
}

/*
 * Handle IOASID_MOCK_INV_DATA entries in order, stopping at the first that
 * is refused; array->entry_num returns how many were handled.
 */
static int mock_nested_cache_invalidate_user(struct iommu_domain *domain,
					     struct iommu_user_data_array *array)
{
	struct mock_nested *mn = to_mock_nested(domain);
	struct ioasid_mock_inv_entry inv;
	u32 i;
	int rc = 0;

	for (i = 0; i < array->entry_num; i++) {
		rc = iommu_copy_struct_from_user_array(&inv, array,
						       IOASID_MOCK_INV_DATA,
						       i, iotlb_id);
		if (rc)
			break;
		if (inv.flags & ~IOASID_MOCK_INV_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		if (!(inv.flags & IOASID_MOCK_INV_ALL) &&
		    inv.iotlb_id >= IOASID_MOCK_NESTED_IOTLB_NUM) {
			rc = -EINVAL;
			break;
		}
		spin_lock(&mn->lock);
		if (inv.flags & IOASID_MOCK_INV_ALL)
			memset(mn->iotlb, 0, sizeof(mn->iotlb));
		else
			mn->iotlb[inv.iotlb_id] = 0;
		mn->invalidations++;
		spin_unlock(&mn->lock);
	}
	array->entry_num = i;
	return rc;
}

static void mock_nested_free(struct iommu_domain *domain)
{
	struct mock_nested *mn = to_mock_nested(domain);

	/* Freeing a nested domain a RID still uses is an ioasid bug. */
	WARN_ON(atomic_read(&mn->users));
	atomic_dec(&mn->parent->nested_users);
	atomic_long_dec(&mock_nr_nested);
	kfree(mn);
}

static const struct iommu_domain_ops mock_nested_ops = {
	.attach_dev = mock_nested_attach_dev,
	.cache_invalidate_user = mock_nested_cache_invalidate_user,
	.free = mock_nested_free,
};

static struct iommu_domain *
mock_nested_alloc(struct mock_iommu_dev *mid, u32 flags,
		  struct iommu_domain *parent,
		  const struct iommu_user_data *user_data)
{
	struct ioasid_mock_nested_data data;
	struct mock_domain *pmd;
	struct mock_nested *mn;
	int rc, i;

	if (!(mid->flags & IOASID_MOCK_DEV_NESTING) || flags)
		return ERR_PTR(-EOPNOTSUPP);
	if (parent->ops != &mock_paging_ops || !user_data)
		return ERR_PTR(-EINVAL);
	pmd = to_mock_domain(parent);
	if (!pmd->nest_parent || !mock_domain_compatible(pmd, mid))
		return ERR_PTR(-EINVAL);
	rc = iommu_copy_struct_from_user(&data, user_data,
					 IOASID_NESTED_DATA_MOCK, iotlb);
	if (rc)
		return ERR_PTR(rc);
	if (data.__reserved)
		return ERR_PTR(-EOPNOTSUPP);
	if (data.iotlb > IOASID_MOCK_NESTED_IOTLB_MAX)
		return ERR_PTR(-EINVAL);

	mn = kzalloc(sizeof(*mn), GFP_KERNEL_ACCOUNT);
	if (!mn)
		return ERR_PTR(-ENOMEM);
	mn->parent = pmd;
	atomic_inc(&pmd->nested_users);
	spin_lock_init(&mn->lock);
	for (i = 0; i < IOASID_MOCK_NESTED_IOTLB_NUM; i++)
		mn->iotlb[i] = data.iotlb;
	mn->serial = atomic64_inc_return(&mock_domain_serial);
	mn->domain.type = IOMMU_DOMAIN_NESTED;
	mn->domain.ops = &mock_nested_ops;
	atomic_long_inc(&mock_nr_nested);
	return &mn->domain;
}

/*
 * Paging domains (nesting parents with IOMMU_HWPT_ALLOC_NEST_PARENT, on
 * IOASID_MOCK_DEV_NESTING devices) and, with @parent, nested domains.
 */
static struct iommu_domain *
mock_domain_alloc_user(struct device *dev, u32 flags,
		       struct iommu_domain *parent,
		       const struct iommu_user_data *user_data)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct iommu_domain *domain;

	if (parent)
		return mock_nested_alloc(mid, flags, parent, user_data);
	if ((flags & ~IOMMU_HWPT_ALLOC_NEST_PARENT) || user_data)
		return ERR_PTR(-EOPNOTSUPP);
	if ((flags & IOMMU_HWPT_ALLOC_NEST_PARENT) &&
	    !(mid->flags & IOASID_MOCK_DEV_NESTING))
		return ERR_PTR(-EOPNOTSUPP);
	domain = mock_domain_alloc_paging(dev);
	if (IS_ERR(domain))
		return domain;
	domain->type = IOMMU_DOMAIN_UNMANAGED;
	to_mock_domain(domain)->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;
	return domain;
}

/* What user space learns about a nesting mock IOMMU: just its type. */
static void *mock_hw_info(struct device *dev, u32 *length, u32 *type)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	u32 *info;

	if (!(mid->flags & IOASID_MOCK_DEV_NESTING))
		return ERR_PTR(-EOPNOTSUPP);
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	*length = sizeof(*info);
	*type = IOASID_MOCK_HW_INFO_TYPE;
	return info;
}

/* I/O page faults (IOASID_MOCK_DEV_IOPF) */

static int mock_dev_enable_feat(struct device *dev, enum iommu_dev_features feat)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	int rc;

	if (feat != IOMMU_DEV_FEAT_IOPF || !(mid->flags & IOASID_MOCK_DEV_IOPF))
		return -ENODEV;
	/* The core calls this under no lock of ours: ioasid serializes. */
	if (mid->iopf_users++)
		return 0;
	rc = iopf_queue_add_device(mid->mi->iopf_queue, dev);
	if (rc)
		mid->iopf_users = 0;
	return rc;
}

static int mock_dev_disable_feat(struct device *dev, enum iommu_dev_features feat)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);

	if (feat != IOMMU_DEV_FEAT_IOPF || WARN_ON(!mid->iopf_users))
		return -EINVAL;
	if (!--mid->iopf_users)
		iopf_queue_remove_device(mid->mi->iopf_queue, dev);
	return 0;
}

/* Record a response; the oldest are dropped when nobody reads them. */
static void mock_page_response(struct device *dev, struct iopf_fault *evt,
			       struct iommu_page_response *msg)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct ioasid_mock_fault_response *r;

	spin_lock(&mid->lock);
	if (mid->resp_count == IOASID_MOCK_FAULT_RESPONSES_MAX) {
		mid->resp_head = (mid->resp_head + 1) % IOASID_MOCK_FAULT_RESPONSES_MAX;
		mid->resp_count--;
		mid->resp_dropped++;
	}
	r = &mid->responses[(mid->resp_head + mid->resp_count) %
			    IOASID_MOCK_FAULT_RESPONSES_MAX];
	r->grpid = msg->grpid;
	r->pasid = msg->pasid;
	r->code = msg->code;
	/* 6.12 sends the PASID back when the request said it needs it. */
	r->pasid_valid = !!(evt->fault.prm.flags &
			    IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID);
	mid->resp_count++;
	spin_unlock(&mid->lock);
}

/* The blocked domain: also the default and the release domain. */

static int mock_blocked_attach_dev(struct iommu_domain *domain,
				   struct device *dev)
{
	mock_dev_set_domain(dev_iommu_priv_get(dev), NULL, NULL);
	return 0;
}

static const struct iommu_domain_ops mock_blocked_ops = {
	.attach_dev = mock_blocked_attach_dev,
};

static struct iommu_domain mock_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &mock_blocked_ops,
};

/* The IOMMU driver */

static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
	case IOMMU_CAP_ENFORCE_CACHE_COHERENCY:
		return true;
	default:
		return false;
	}
}

static struct iommu_device *mock_probe_device(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct mock_iommu_dev *mid;
	struct mock_iommu *mi;

	mi = fwspec ? mock_iommu_from_fwnode(fwspec->iommu_fwnode) : NULL;
	if (!mi || fwspec->num_ids != 1)
		return ERR_PTR(-ENODEV);

	mid = kzalloc(sizeof(*mid), GFP_KERNEL);
	if (!mid)
		return ERR_PTR(-ENOMEM);
	mid->mi = mi;
	mid->flags = fwspec->ids[0];
	spin_lock_init(&mid->lock);
	init_rwsem(&mid->prq_lock);
	xa_init(&mid->pasids);
	dev_iommu_priv_set(dev, mid);
	return &mi->iommu;
}

static void mock_release_device(struct device *dev)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);

	/* The core attached the release (blocked) domain first. */
	WARN_ON(mid->domain);
	/*
	 * Every PASID must have been detached before the device goes away (the
	 * core keeps no PASID attachment past DMA ownership); a leftover is an
	 * ioasid bug. Its domain may be gone already: only drop the table.
	 */
	WARN_ON(!xa_empty(&mid->pasids));
	xa_destroy(&mid->pasids);
	/* IOPF is disabled with the last fault-delivering attachment. */
	WARN_ON(mid->iopf_users);
	kfree(mid);
}

static void mock_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct iommu_resv_region *region;

	if (!(mid->flags & IOASID_MOCK_DEV_RESV))
		return;
	region = iommu_alloc_resv_region(IOASID_MOCK_RESV_START,
					 IOASID_MOCK_RESV_LAST - IOASID_MOCK_RESV_START + 1,
					 0, IOMMU_RESV_RESERVED, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

/*
 * The one IOMMU group of all IOASID_MOCK_DEV_SHARED_GROUP devices. The
 * module holds a reference from its creation to rmmod, so devices may come
 * and go while it lasts.
 */
static struct iommu_group *mock_shared_group;
static DEFINE_MUTEX(mock_shared_group_lock);

static struct iommu_group *mock_device_group(struct device *dev)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct iommu_group *group;

	if (!(mid->flags & IOASID_MOCK_DEV_SHARED_GROUP))
		return generic_device_group(dev);

	mutex_lock(&mock_shared_group_lock);
	if (!mock_shared_group) {
		group = iommu_group_alloc();
		if (IS_ERR(group))
			goto out_unlock;
		mock_shared_group = group;
	}
	group = iommu_group_ref_get(mock_shared_group);
out_unlock:
	mutex_unlock(&mock_shared_group_lock);
	return group;
}

static const struct iommu_ops mock_ops = {
	.owner = THIS_MODULE,
	.capable = mock_capable,
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_user = mock_domain_alloc_user,
	.hw_info = mock_hw_info,
	.dev_enable_feat = mock_dev_enable_feat,
	.dev_disable_feat = mock_dev_disable_feat,
	.page_response = mock_page_response,
	.probe_device = mock_probe_device,
	.release_device = mock_release_device,
	.device_group = mock_device_group,
	.get_resv_regions = mock_get_resv_regions,
	.remove_dev_pasid = mock_remove_dev_pasid,
	.default_domain_ops = &mock_paging_ops,
	/*
	 * Mock devices never use the DMA API: they start blocked, go back to
	 * blocked when their owner releases them and are blocked before the
	 * core releases them.
	 */
	.default_domain = &mock_blocked_domain,
	.blocked_domain = &mock_blocked_domain,
	.release_domain = &mock_blocked_domain,
};

static int mock_iommu_register(struct mock_iommu *mi, unsigned int index)
{
	int rc;

	mi->fwnode = fwnode_create_software_node(NULL, NULL);
	if (IS_ERR(mi->fwnode))
		return PTR_ERR(mi->fwnode);
	/* A fwnode of its own keeps the mock from claiming other devices. */
	mi->iommu.fwnode = mi->fwnode;
	/* Devices without "pasid-num-bits" still get max_pasids 0. */
	mi->iommu.max_pasids = 1U << IOASID_MOCK_PASID_BITS;

	mi->iopf_queue = iopf_queue_alloc("ioasid_mock");
	if (!mi->iopf_queue) {
		rc = -ENOMEM;
		goto err_fwnode;
	}
	rc = iommu_device_sysfs_add(&mi->iommu, NULL, NULL, "ioasid_mock%u",
				    index);
	if (rc)
		goto err_queue;
	rc = iommu_device_register(&mi->iommu, &mock_ops, NULL);
	if (rc)
		goto err_sysfs;
	return 0;

err_sysfs:
	iommu_device_sysfs_remove(&mi->iommu);
err_queue:
	iopf_queue_free(mi->iopf_queue);
err_fwnode:
	fwnode_remove_software_node(mi->fwnode);
	return rc;
}

static void mock_iommu_unregister(struct mock_iommu *mi)
{
	iommu_device_unregister(&mi->iommu);
	iommu_device_sysfs_remove(&mi->iommu);
	iopf_queue_free(mi->iopf_queue);
	fwnode_remove_software_node(mi->fwnode);
}

/*
 * Give @dev the firmware description that makes the iommu core probe it with
 * @mi when it is added: what 6.12's dev_iommu_get() and iommu_fwspec_init()
 * build. Their lock (iommu_probe_device_lock, not exported) protects
 * dev->iommu from concurrent probes; before platform_device_add() nothing
 * else can see the device. The fwspec's one ID carries the device's flags.
 */
static int mock_dev_iommu_init(struct device *dev, struct mock_iommu *mi,
			       u32 flags)
{
	struct iommu_fwspec *fwspec;
	struct dev_iommu *param;

	param = kzalloc(sizeof(*param), GFP_KERNEL);
	if (!param)
		return -ENOMEM;
	fwspec = kzalloc(struct_size(fwspec, ids, 1), GFP_KERNEL);
	if (!fwspec) {
		kfree(param);
		return -ENOMEM;
	}
	mutex_init(&param->lock);
	fwspec->iommu_fwnode = fwnode_handle_get(mi->fwnode);
	fwspec->num_ids = 1;
	fwspec->ids[0] = flags;
	param->fwspec = fwspec;
	dev->iommu = param;
	return 0;
}

/* Undo mock_dev_iommu_init() for a device that was never added. */
static void mock_dev_iommu_free(struct device *dev)
{
	struct dev_iommu *param = dev->iommu;

	dev->iommu = NULL;
	fwnode_handle_put(param->fwspec->iommu_fwnode);
	kfree(param->fwspec);
	mutex_destroy(&param->lock);
	kfree(param);
}

/* What the iommu core reads for max_pasids of a non-PCI device. */
static const struct property_entry mock_pasid_props[] = {
	PROPERTY_ENTRY_U32("pasid-num-bits", IOASID_MOCK_PASID_BITS),
	{ }
};

/**
 * mock_pdev_create() - create a platform device behind a mock IOMMU
 * @flags: enum ioasid_mock_dev_flags; IOASID_MOCK_DEV_INSTANCE2 selects the
 *	instance
 *
 * Once it is added the core owns dev->iommu and frees it when the device
 * goes away; platform_device_unregister() removes it.
 *
 * An IOASID_MOCK_DEV_PASID device gets a managed software node (a copy of
 * mock_pasid_props) as its fwnode before the add, so the core's probe sees
 * "pasid-num-bits". device_del() frees a managed node; until the device is
 * added it is ours to remove.
 *
 * Return: the probed device, or an ERR_PTR().
 */
struct platform_device *mock_pdev_create(u32 flags)
{
	struct mock_iommu *mi;
	struct platform_device *pdev;
	int rc;

	mi = &mock_iommus[flags & IOASID_MOCK_DEV_INSTANCE2 ? 1 : 0];
	pdev = platform_device_alloc("ioasid_mock", PLATFORM_DEVID_AUTO);
	if (!pdev)
		return ERR_PTR(-ENOMEM);
	if (flags & IOASID_MOCK_DEV_PASID) {
		rc = device_create_managed_software_node(&pdev->dev,
							 mock_pasid_props,
							 NULL);
		if (rc)
			goto err_put;
	}
	rc = mock_dev_iommu_init(&pdev->dev, mi, flags);
	if (rc)
		goto err_swnode;
	rc = platform_device_add(pdev);
	if (rc)
		goto err_iommu;

	/* The core probes from a bus notifier and does not report failure. */
	if (!pdev->dev.iommu || pdev->dev.iommu->iommu_dev != &mi->iommu) {
		platform_device_unregister(pdev);
		return ERR_PTR(-ENODEV);
	}
	return pdev;

err_iommu:
	/* device_add() fails before the core's probe can see dev->iommu. */
	if (pdev->dev.iommu)
		mock_dev_iommu_free(&pdev->dev);
err_swnode:
	/*
	 * A failed device_add() that got as far as notifying the platform has
	 * freed the managed node already; then there is nothing left here.
	 */
	device_remove_software_node(&pdev->dev);
err_put:
	platform_device_put(pdev);
	return ERR_PTR(rc);
}


/* What the control surface reads back */

/*
 * The domain the read-back commands look at: the one attached to the RID,
 * or with IOASID_MOCK_PASID_VALID to @pasid. NULL when blocked.
 */
static struct mock_domain *mock_dev_domain(struct mock_iommu_dev *mid,
					   u32 flags, u32 pasid)
{
	lockdep_assert_held(&mid->lock);
	if (flags & IOASID_MOCK_PASID_VALID)
		return xa_load(&mid->pasids, pasid);
	return mid->domain;
}

/**
 * mock_iommu_check_batch() - compare a mock device's domain with user pages
 * @dev: the mock device (its platform device)
 * @chk: which domain to check (of the RID or of chk->pasid), and what the
 *	previous batches of the same command saw
 * @iova: the first IOVA of the batch
 * @pages: the CPU pages that should back @iova on
 * @n: how many
 *
 * Checks that the domain translates the @n CPU pages at @iova to @pages.
 * Holds mid->lock, so the domain stays attached and alive; the lookups
 * themselves need no lock.
 *
 * Return: 0; -ENOENT if the device is blocked or an IOVA is not mapped,
 * -EBUSY if it is unmapped but not synced, -EINVAL if it translates
 * elsewhere, -EAGAIN if the domain changed since the last batch.
 */
int mock_iommu_check_batch(struct device *dev, struct mock_check *chk,
			   unsigned long iova, struct page **pages,
			   unsigned long n)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	unsigned long i, off, step;
	struct mock_domain *md;
	struct mock_pte pte;
	int rc = 0;

	spin_lock(&mid->lock);
	md = mock_dev_domain(mid, chk->flags, chk->pasid);
	if (!md) {
		rc = -ENOENT;
		goto out;
	}
	/* Attached elsewhere since the last batch: the test raced itself. */
	if (chk->serial && chk->serial != md->serial) {
		rc = -EAGAIN;
		goto out;
	}
	chk->serial = md->serial;

	/* Look at every IOPTE granule inside every CPU page. */
	step = min_t(unsigned long, PAGE_SIZE, 1UL << md->shift);
	for (i = 0; i < n; i++) {
		for (off = 0; off < PAGE_SIZE; off += step) {
			unsigned long cur = iova + i * PAGE_SIZE + off;

			if (!mock_pte_lookup(md, cur, &pte)) {
				rc = mock_iova_stale(md, cur) ? -EBUSY : -ENOENT;
				goto out;
			}
			if (pte.phys + (cur - pte.iova) !=
			    page_to_phys(pages[i]) + off) {
				rc = -EINVAL;
				goto out;
			}
			/* IOPTEs do not overlap: a new start is a new IOPTE. */
			if (!chk->ioptes || pte.iova != chk->last_pte) {
				chk->ioptes++;
				chk->huge += pte.huge;
				chk->last_pte = pte.iova;
			}
		}
	}
out:
	spin_unlock(&mid->lock);
	return rc;
}

/**
 * mock_iommu_domain_info() - fill the output of IOASID_MOCK_DOMAIN_INFO
 * @dev: the mock device (its platform device)
 * @cmd: the command; @cmd->flags and @cmd->pasid select the domain
 */
void mock_iommu_domain_info(struct device *dev,
			    struct ioasid_mock_domain_info *cmd)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_domain *md;

	cmd->out_domain_serial = 0;
	cmd->out_ioptes = 0;
	cmd->out_mapped = 0;
	cmd->out_unsynced = 0;
	spin_lock(&mid->lock);
	md = mock_dev_domain(mid, cmd->flags, cmd->pasid);
	if (md) {
		xa_lock(&md->ptes);
		cmd->out_domain_serial = md->serial;
		cmd->out_ioptes = md->nr_ioptes;
		cmd->out_mapped = md->mapped;
		cmd->out_unsynced = md->unsynced;
		xa_unlock(&md->ptes);
	}
	spin_unlock(&mid->lock);
	cmd->out_domains = atomic_long_read(&mock_nr_domains);
}

/**
 * mock_iommu_nested_info() - fill the output of IOASID_MOCK_NESTED_INFO
 * @dev: the mock device (its platform device)
 * @cmd: the command
 */
void mock_iommu_nested_info(struct device *dev,
			    struct ioasid_mock_nested_info *cmd)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct mock_nested *mn;

	cmd->out_nested_serial = 0;
	cmd->out_parent_serial = 0;
	memset(cmd->out_iotlb, 0, sizeof(cmd->out_iotlb));
	cmd->out_invalidations = 0;
	spin_lock(&mid->lock);
	mn = mid->nested;
	if (mn) {
		cmd->out_nested_serial = mn->serial;
		cmd->out_parent_serial = mn->parent->serial;
		spin_lock(&mn->lock);
		memcpy(cmd->out_iotlb, mn->iotlb, sizeof(cmd->out_iotlb));
		cmd->out_invalidations = mn->invalidations;
		spin_unlock(&mn->lock);
	}
	spin_unlock(&mid->lock);
	cmd->out_nested_domains = atomic_long_read(&mock_nr_nested);
}

/**
 * mock_report_fault() - report a page request of a mock device
 * @dev: the mock device (its platform device)
 * @evt: the request
 *
 * Report a page request of @dev as its IOMMU's page request queue would:
 * not while its translation changes (see mock_iommu_dev.prq_lock), and
 * only through the domain the RID or PASID translates through now. The
 * IOMMU answers a request of a blocked one itself - "invalid", as the core
 * answers one nothing handles, with the same -EINVAL - and so one that
 * comes while the core's attach handle still names the previous domain
 * (the core installs a replace's handle after the driver's callback, and
 * removes a detached one after it): that handle's owner may be about to
 * forget it. A handle found under @prq_lock is not freed before it is
 * unlocked: that takes a detach, whose callback waits.
 *
 * Return: what iommu_report_device_fault() returns, -EINVAL if blocked.
 */
int mock_report_fault(struct device *dev, struct iopf_fault *evt)
{
	struct iommu_fault_page_request *prm = &evt->fault.prm;
	bool pasid = prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID;
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	struct iommu_page_response resp = {
		.pasid = prm->pasid,
		.grpid = prm->grpid,
		.code = IOMMU_PAGE_RESP_INVALID,
	};
	struct iommu_attach_handle *handle;
	struct iommu_domain *cur = NULL;
	struct mock_domain *md;
	bool blocked;
	int rc;

	down_read(&mid->prq_lock);
	spin_lock(&mid->lock);
	if (pasid) {
		md = xa_load(&mid->pasids, prm->pasid);
		if (md)
			cur = &md->domain;
	} else if (mid->nested) {
		cur = &mid->nested->domain;
	} else if (mid->domain) {
		cur = &mid->domain->domain;
	}
	spin_unlock(&mid->lock);
	blocked = !cur;
	if (!blocked) {
		handle = iommu_attach_handle_get(dev->iommu_group,
						 pasid ? prm->pasid : IOMMU_NO_PASID,
						 0);
		blocked = IS_ERR(handle) || handle->domain != cur;
	}
	if (blocked) {
		mock_page_response(dev, evt, &resp);
		rc = -EINVAL;
	} else {
		rc = iommu_report_device_fault(dev, evt);
	}
	up_read(&mid->prq_lock);
	return rc;
}

/**
 * mock_iommu_fault_responses() - take the oldest page responses a device
 *	was sent
 * @dev: the mock device (its platform device)
 * @buf: where to put them
 * @n: room in @buf
 * @dropped: returns how many were dropped, oldest first, since the last
 *	call because the ring was full; the count starts again at 0
 *
 * Return: how many responses were put in @buf.
 */
unsigned int mock_iommu_fault_responses(struct device *dev,
					struct ioasid_mock_fault_response *buf,
					unsigned int n, u32 *dropped)
{
	struct mock_iommu_dev *mid = dev_iommu_priv_get(dev);
	unsigned int i;

	spin_lock(&mid->lock);
	n = min(n, mid->resp_count);
	for (i = 0; i < n; i++)
		buf[i] = mid->responses[(mid->resp_head + i) %
					IOASID_MOCK_FAULT_RESPONSES_MAX];
	mid->resp_head = (mid->resp_head + n) % IOASID_MOCK_FAULT_RESPONSES_MAX;
	mid->resp_count -= n;
	*dropped = mid->resp_dropped;
	mid->resp_dropped = 0;
	spin_unlock(&mid->lock);
	return n;
}

/**
 * mock_iommus_register() - register the mock IOMMU instances with the core
 *
 * Return: 0, or an errno; then none is registered.
 */
int mock_iommus_register(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i < MOCK_NR_IOMMUS; i++) {
		rc = mock_iommu_register(&mock_iommus[i], i);
		if (rc)
			goto err_iommus;
	}
	return 0;

err_iommus:
	while (i--)
		mock_iommu_unregister(&mock_iommus[i]);
	return rc;
}

/**
 * mock_iommus_unregister() - undo mock_iommus_register(), at rmmod
 *
 * Every mock device must be gone (they pin the module).
 */
void mock_iommus_unregister(void)
{
	unsigned int i = MOCK_NR_IOMMUS;

	if (mock_shared_group)
		iommu_group_put(mock_shared_group);
	while (i--)
		mock_iommu_unregister(&mock_iommus[i]);
}
