// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mock: a test-only mock IOMMU and its control surface,
 * /dev/ioasid_mock (the contract is ioasid_mock.h). Never loaded outside the
 * test VM.
 *
 * Two mock IOMMU instances are registered with the real iommu core, each
 * named by its own software-node fwnode. A mock device is a platform device
 * whose dev->iommu points at one of those fwnodes, so the core probes it with
 * the mock ops even when another IOMMU driver (intel-iommu) is present. The
 * control surface registers each mock device with an ioasid context through
 * the consumer kAPI (include/linux/ioasid.h) and lets the tests read back
 * what ioasid programmed into the device's domain.
 *
 * IOASID_MOCK_DEV_PASID devices also take paging domains on PASIDs
 * (set_dev_pasid/remove_dev_pasid); each device records which domain every
 * PASID is attached to, as it records its RID's. A sub-device is a second
 * registration of such a device's platform device, bound to one PASID
 * (IOASID_OPS_SUBDEV); it has no platform device of its own.
 *
 * The benchmark floor (IOASID_MOCK_FLOOR_MAP) pins and maps user memory into
 * a private domain of a mock device; IOASID_MOCK_FLOOR_MAP_DEV does the same
 * for a real PCI device (behind VT-d in the test VM), the only command that
 * touches a device the mock did not create. Both share one implementation.
 *
 * Lock order (outer first):
 *   mock_file->lock (rwsem)   the device table of one open file; held for
 *                             write to add or delete devices and
 *                             sub-devices, for read by every command on one
 *                             device
 *   mock_floor->lock          the benchmark floor state of one device
 *   group->mutex              iommu core; held around probe, release,
 *                             attach_dev, set_dev_pasid and remove_dev_pasid
 *   mock_iommu_dev->lock      which domain a device's RID and each of its
 *                             PASIDs are attached to
 *   mock_iommu_dev->pasids.xa_lock, mock_domain->ptes.xa_lock
 *                             (never nested in each other) the PASID table's
 *                             nodes; a domain's page table and its counters
 *
 * mock_file->floor_lock (the file's list of real-device floors) nests
 * inside mock_file->lock; no other mock lock is taken under it.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/atomic.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>
#include <linux/log2.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/property.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

/* The iommu core internals mirrored, and the kernel version checked. */
#include "../compat.h"
#include "ioasid_mock.h"

/* The IOPTE encoding below needs 64-bit xarray value entries. */
static_assert(BITS_PER_LONG == 64);

#define MOCK_NR_IOMMUS	2

#define MOCK_DEV_FLAGS	(IOASID_MOCK_DEV_HUGE | IOASID_MOCK_DEV_INSTANCE2 | \
			 IOASID_MOCK_DEV_RESV | IOASID_MOCK_DEV_BIG_PGSIZE | \
			 IOASID_MOCK_DEV_SMALL_APERTURE | IOASID_MOCK_DEV_PASID | \
			 IOASID_MOCK_DEV_NESTING | IOASID_MOCK_DEV_IOPF | \
			 IOASID_MOCK_DEV_OWN_DOMAIN | IOASID_MOCK_DEV_SHARED_GROUP)
#define MOCK_SELECT_FLAGS	IOASID_MOCK_PASID_VALID

/* Pages handled per batch by the commands that read user memory. */
#define MOCK_BATCH		(PAGE_SIZE / sizeof(struct page *))
/* Pages pinned per pin_user_pages_fast() call by the benchmark floor. */
#define MOCK_FLOOR_PIN_CHUNK	16384

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

/*
 * Create a platform device behind the mock instance @flags selects. Once it
 * is added the core owns dev->iommu and frees it when the device goes away.
 *
 * An IOASID_MOCK_DEV_PASID device gets a managed software node (a copy of
 * mock_pasid_props) as its fwnode before the add, so the core's probe sees
 * "pasid-num-bits". device_del() frees a managed node; until the device is
 * added it is ours to remove.
 */
static struct platform_device *mock_pdev_create(u32 flags)
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

/* The control surface */

enum {
	/* The device was unregistered from its ioasid context. */
	MOCK_DEV_UNREGISTERED,
};

/**
 * struct mock_floor - the benchmark floor of one device: what one
 *	IOASID_MOCK_FLOOR_MAP(_DEV) pinned and mapped
 * @lock: protects the members below
 * @domain: private paging domain for the device (never attached),
 *	allocated on the first map and kept until the floor is destroyed
 * @pages: pages the current map pinned, NULL when none
 * @npages: how many
 * @iova: where they are mapped
 */
struct mock_floor {
	struct mutex lock;
	struct iommu_domain *domain;
	struct page **pages;
	unsigned long npages;
	unsigned long iova;
};

/**
 * struct mock_dev - a device created by IOASID_MOCK_DEV_ADD, or a sub-device
 *	created by IOASID_MOCK_SUBDEV_ADD
 * @id: its mock_id, the index in mock_file->devices
 * @pdev: the platform device behind a mock IOMMU; NULL for a sub-device,
 *	which uses its parent's (mock_dev_pdev())
 * @parent: a sub-device's parent, NULL for a device
 * @nr_subdevs: the sub-devices of a device (under mock_file->lock)
 * @ctx: the ioasid context it is registered with (referenced)
 * @ctx_file: the /dev/ioasid file of @ctx, alive while @ctx is referenced;
 *	where a sub-device gets its own reference to the same context
 * @idev: the ioasid handle of the registration
 * @own_domain: with IOASID_MOCK_DEV_OWN_DOMAIN, the paging domain the mock
 *	allocated and registered the device with (a subsystem-owned domain);
 *	freed after the device is unregistered
 * @global_pasid: a sub-device's PASID from ioasid_alloc_global_pasid()
 *	(IOASID_MOCK_PASID_GLOBAL), freed with it; else 0
 * @state: MOCK_DEV_* bits
 * @floor: the benchmark floor of its platform device (IOASID_MOCK_FLOOR_MAP)
 */
struct mock_dev {
	u32 id;
	struct platform_device *pdev;
	struct mock_dev *parent;
	unsigned int nr_subdevs;
	struct ioasid_ctx *ctx;
	struct file *ctx_file;
	struct ioasid_device *idev;
	struct iommu_domain *own_domain;
	u32 global_pasid;
	unsigned long state;
	struct mock_floor floor;
};

/**
 * struct mock_floor_dev - the benchmark floor of a real PCI device
 * @node: in mock_file->floor_devs
 * @dev: the device, referenced until the file is closed
 * @floor: its floor (IOASID_MOCK_FLOOR_MAP_DEV)
 */
struct mock_floor_dev {
	struct list_head node;
	struct device *dev;
	struct mock_floor floor;
};

/**
 * struct mock_file - one open of /dev/ioasid_mock
 * @lock: held for write to add or remove devices, for read while a command
 *	uses one, so commands on devices run concurrently
 * @devices: mock_id -> struct mock_dev, devices and sub-devices alike
 * @floor_lock: protects @floor_devs
 * @floor_devs: struct mock_floor_dev of every real device a
 *	IOASID_MOCK_FLOOR_MAP_DEV named; entries stay until the file is closed
 * @accesses: access_id -> struct mock_access; changed under @lock for write
 */
struct mock_file {
	struct rw_semaphore lock;
	struct xarray devices;
	struct mutex floor_lock;
	struct list_head floor_devs;
	struct xarray accesses;
};

/* One ioctl call being executed; @cmd is the kernel copy of the argument. */
struct mock_ucmd {
	struct mock_file *mf;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

static int mock_respond(struct mock_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

static struct mock_dev *mock_dev_find(struct mock_ucmd *ucmd, u32 mock_id)
{
	struct mock_dev *mdev;

	lockdep_assert_held(&ucmd->mf->lock);
	mdev = xa_load(&ucmd->mf->devices, mock_id);
	return mdev ?: ERR_PTR(-ENOENT);
}

/* The platform device behind @mdev: a sub-device's is its parent's. */
static struct platform_device *mock_dev_pdev(struct mock_dev *mdev)
{
	return mdev->parent ? mdev->parent->pdev : mdev->pdev;
}

/* Valid while the device exists: the core frees it on release. */
static struct mock_iommu_dev *mock_dev_iommu(struct mock_dev *mdev)
{
	return dev_iommu_priv_get(&mock_dev_pdev(mdev)->dev);
}

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

static const struct ioasid_device_ops mock_ioasid_ops = {
	.name = "mock",
};

static const struct ioasid_device_ops mock_subdev_ops = {
	.name = "mock",
	.flags = IOASID_OPS_SUBDEV,
};

/* Take a reference (no FOLL_PIN) on each of the @n user pages at @uaddr. */
static int mock_get_user_pages(unsigned long uaddr, unsigned long n,
			       struct page **pages)
{
	unsigned long got = 0;
	int rc;

	while (got < n) {
		rc = get_user_pages_fast(uaddr + got * PAGE_SIZE, n - got, 0,
					 pages + got);
		if (rc <= 0) {
			while (got)
				put_page(pages[--got]);
			return rc ?: -EFAULT;
		}
		got += rc;
	}
	return 0;
}

static void mock_put_user_pages(struct page **pages, unsigned long n)
{
	while (n)
		put_page(pages[--n]);
}

/* A PAGE_SIZE aligned, non-empty range that does not wrap. */
static bool mock_range_valid(u64 start, u64 length)
{
	u64 last;

	return length && PAGE_ALIGNED(start | length) &&
	       !check_add_overflow(start, length - 1, &last) &&
	       last <= ULONG_MAX;
}

static void mock_floor_init(struct mock_floor *floor);
static void mock_floor_destroy(struct mock_floor *floor);

static void mock_dev_destroy(struct mock_dev *mdev)
{
	mock_floor_destroy(&mdev->floor);

	if (!test_and_set_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		ioasid_unregister_device(mdev->idev);
	if (mdev->own_domain)
		iommu_domain_free(mdev->own_domain);
	if (mdev->global_pasid)
		ioasid_free_global_pasid(mdev->global_pasid);
	if (mdev->parent)
		mdev->parent->nr_subdevs--;
	else
		platform_device_unregister(mdev->pdev);
	ioasid_ctx_put(mdev->ctx);
	kfree(mdev);
}

static int mock_dev_add(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev_add *cmd = ucmd->cmd;
	struct mock_file *mf = ucmd->mf;
	struct mock_dev *mdev;
	struct file *file;
	int rc;

	lockdep_assert_held_write(&mf->lock);
	if ((cmd->flags & ~MOCK_DEV_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	/* A PASID-capable device has a group of its own (see the header). */
	if ((cmd->flags & IOASID_MOCK_DEV_SHARED_GROUP) &&
	    (cmd->flags & IOASID_MOCK_DEV_PASID))
		return -EINVAL;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL_ACCOUNT);
	if (!mdev)
		return -ENOMEM;
	mock_floor_init(&mdev->floor);

	file = fget(cmd->ioasid_fd);
	if (!file) {
		rc = -EBADF;
		goto err_free;
	}
	/* The context reference keeps the file alive from here on. */
	mdev->ctx = get_ioasid_from_file(file);
	fput(file);
	if (IS_ERR(mdev->ctx)) {
		rc = PTR_ERR(mdev->ctx);
		goto err_free;
	}
	mdev->ctx_file = file;

	mdev->pdev = mock_pdev_create(cmd->flags);
	if (IS_ERR(mdev->pdev)) {
		rc = PTR_ERR(mdev->pdev);
		goto err_ctx;
	}

	if (cmd->flags & IOASID_MOCK_DEV_OWN_DOMAIN) {
		mdev->own_domain = iommu_paging_domain_alloc(&mdev->pdev->dev);
		if (IS_ERR(mdev->own_domain)) {
			rc = PTR_ERR(mdev->own_domain);
			mdev->own_domain = NULL;
			goto err_pdev;
		}
	}
	mdev->idev = register_device_to_pasid(mdev->ctx, IOASID_PASID_NONE,
					      &mdev->pdev->dev, mdev->own_domain,
					      &mock_ioasid_ops, mdev,
					      &cmd->out_dev_id);
	if (IS_ERR(mdev->idev)) {
		rc = PTR_ERR(mdev->idev);
		goto err_domain;
	}

	rc = xa_alloc(&mf->devices, &mdev->id, mdev, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_unregister;

	cmd->out_mock_id = mdev->id;
	rc = mock_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_erase;
	return 0;

err_erase:
	xa_erase(&mf->devices, mdev->id);
err_unregister:
	if (!test_and_set_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		ioasid_unregister_device(mdev->idev);
err_domain:
	if (mdev->own_domain)
		iommu_domain_free(mdev->own_domain);
err_pdev:
	platform_device_unregister(mdev->pdev);
err_ctx:
	ioasid_ctx_put(mdev->ctx);
err_free:
	mock_floor_destroy(&mdev->floor);
	kfree(mdev);
	return rc;
}

static int mock_subdev_add(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_subdev_add *cmd = ucmd->cmd;
	struct mock_file *mf = ucmd->mf;
	struct mock_dev *parent, *sub;
	int rc;

	lockdep_assert_held_write(&mf->lock);
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	parent = mock_dev_find(ucmd, cmd->parent_mock_id);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	/* Sub-devices hang off a platform device, never off each other. */
	if (parent->parent)
		return -EINVAL;

	sub = kzalloc(sizeof(*sub), GFP_KERNEL_ACCOUNT);
	if (!sub)
		return -ENOMEM;
	sub->parent = parent;
	mock_floor_init(&sub->floor);

	/* A reference of its own to the parent's context, the same context. */
	sub->ctx = get_ioasid_from_file(parent->ctx_file);
	if (IS_ERR(sub->ctx)) {
		rc = PTR_ERR(sub->ctx);
		goto err_free;
	}
	sub->ctx_file = parent->ctx_file;

	if (cmd->pasid == IOASID_MOCK_PASID_GLOBAL) {
		rc = ioasid_alloc_global_pasid(&parent->pdev->dev, &cmd->pasid);
		if (rc)
			goto err_ctx;
		sub->global_pasid = cmd->pasid;
	}
	sub->idev = register_device_to_pasid(sub->ctx, cmd->pasid,
					     &parent->pdev->dev, NULL,
					     &mock_subdev_ops, sub,
					     &cmd->out_dev_id);
	if (IS_ERR(sub->idev)) {
		rc = PTR_ERR(sub->idev);
		goto err_pasid;
	}

	rc = xa_alloc(&mf->devices, &sub->id, sub, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_unregister;

	cmd->out_mock_id = sub->id;
	rc = mock_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_erase;
	parent->nr_subdevs++;
	return 0;

err_erase:
	xa_erase(&mf->devices, sub->id);
err_unregister:
	ioasid_unregister_device(sub->idev);
err_pasid:
	if (sub->global_pasid)
		ioasid_free_global_pasid(sub->global_pasid);
err_ctx:
	ioasid_ctx_put(sub->ctx);
err_free:
	mock_floor_destroy(&sub->floor);
	kfree(sub);
	return rc;
}

static int mock_dev_del(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	lockdep_assert_held_write(&ucmd->mf->lock);
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (mdev->nr_subdevs)
		return -EBUSY;
	xa_erase(&ucmd->mf->devices, mdev->id);
	mock_dev_destroy(mdev);
	return 0;
}

static int mock_attach(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (test_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		return -ENODEV;
	return ioasid_device_attach(mdev->idev, cmd->pt_id);
}

static int mock_detach(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (test_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		return -ENODEV;
	ioasid_device_detach(mdev->idev);
	return 0;
}

/* What IOASID_MOCK_CHECK_MAP looks at and has seen so far. */
struct mock_check {
	u32 flags;
	u32 pasid;
	u64 serial;
	unsigned long last_pte;
	u64 ioptes;
	u64 huge;
};

/*
 * Check that the device's domain (of its RID or of chk->pasid) translates
 * the @n CPU pages at @iova to @pages. Holds mid->lock, so the domain stays
 * attached and alive; the lookups themselves need no lock.
 */
static int mock_check_batch(struct mock_iommu_dev *mid, struct mock_check *chk,
			    unsigned long iova, struct page **pages,
			    unsigned long n)
{
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

static int mock_check_map(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_check_map *cmd = ucmd->cmd;
	struct mock_check chk = { .flags = cmd->flags, .pasid = cmd->pasid };
	unsigned long npages, done, n;
	struct mock_iommu_dev *mid;
	struct mock_dev *mdev;
	struct page **pages;
	int rc = 0;

	if (cmd->flags & ~MOCK_SELECT_FLAGS)
		return -EOPNOTSUPP;
	if (!mock_range_valid(cmd->iova, cmd->length) ||
	    !mock_range_valid(cmd->uptr, cmd->length))
		return -EINVAL;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mid = mock_dev_iommu(mdev);

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	npages = cmd->length >> PAGE_SHIFT;
	for (done = 0; done < npages; done += n) {
		n = min(npages - done, MOCK_BATCH);
		/* Get the pages first: no user memory access under mid->lock. */
		rc = mock_get_user_pages(cmd->uptr + done * PAGE_SIZE, n, pages);
		if (rc)
			break;
		rc = mock_check_batch(mid, &chk, cmd->iova + done * PAGE_SIZE,
				      pages, n);
		mock_put_user_pages(pages, n);
		if (rc)
			break;
		cond_resched();
	}
	free_page((unsigned long)pages);
	if (rc)
		return rc;

	cmd->out_ioptes = chk.ioptes;
	cmd->out_huge_ioptes = chk.huge;
	return mock_respond(ucmd, sizeof(*cmd));
}

/* How many times @page is pinned with FOLL_PIN. */
static u64 mock_pin_count(struct page *page)
{
	struct folio *folio = page_folio(page);

	/* Large folios count pins exactly (test-only use of _pincount). */
	if (folio_has_pincount(folio))
		return atomic_read(&folio->_pincount);
	/* Our own reference adds 1, which the division drops. */
	return folio_ref_count(folio) / GUP_PIN_COUNTING_BIAS;
}

static int mock_pin_count_ioctl(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_pin_count *cmd = ucmd->cmd;
	u64 min_pins = U64_MAX, max_pins = 0;
	unsigned long npages, done, n, i;
	struct page **pages;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (!mock_range_valid(cmd->uptr, cmd->length))
		return -EINVAL;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	npages = cmd->length >> PAGE_SHIFT;
	for (done = 0; done < npages; done += n) {
		n = min(npages - done, MOCK_BATCH);
		rc = mock_get_user_pages(cmd->uptr + done * PAGE_SIZE, n, pages);
		if (rc)
			break;
		for (i = 0; i < n; i++) {
			u64 pins = mock_pin_count(pages[i]);

			min_pins = min(min_pins, pins);
			max_pins = max(max_pins, pins);
		}
		mock_put_user_pages(pages, n);
		cond_resched();
	}
	free_page((unsigned long)pages);
	if (rc)
		return rc;

	cmd->out_min = min_pins;
	cmd->out_max = max_pins;
	return mock_respond(ucmd, sizeof(*cmd));
}

/*
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
 */
static int mock_report_fault(struct device *dev, struct iopf_fault *evt)
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

static int mock_fault_inject(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_fault_inject *cmd = ucmd->cmd;
	struct iopf_fault evt = {};
	struct mock_dev *mdev;

	if (cmd->flags & ~(IOASID_MOCK_FAULT_PASID | IOASID_MOCK_FAULT_LAST))
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);

	evt.fault.type = IOMMU_FAULT_PAGE_REQ;
	if (cmd->flags & IOASID_MOCK_FAULT_PASID) {
		/* PCIe PRI: a response to a PASID request carries the PASID. */
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
				       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
		evt.fault.prm.pasid = cmd->pasid;
	}
	if (cmd->flags & IOASID_MOCK_FAULT_LAST)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	evt.fault.prm.grpid = cmd->grpid;
	evt.fault.prm.perm = cmd->perm;
	evt.fault.prm.addr = cmd->addr;
	return mock_report_fault(&mock_dev_pdev(mdev)->dev, &evt);
}

static int mock_fault_responses(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_fault_responses *cmd = ucmd->cmd;
	struct ioasid_mock_fault_response *buf;
	struct mock_iommu_dev *mid;
	struct mock_dev *mdev;
	unsigned int n, i;
	int rc = 0;

	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mid = mock_dev_iommu(mdev);
	n = min_t(u32, cmd->num, IOASID_MOCK_FAULT_RESPONSES_MAX);
	buf = kcalloc(n ?: 1, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	spin_lock(&mid->lock);
	n = min(n, mid->resp_count);
	for (i = 0; i < n; i++)
		buf[i] = mid->responses[(mid->resp_head + i) %
					IOASID_MOCK_FAULT_RESPONSES_MAX];
	mid->resp_head = (mid->resp_head + n) % IOASID_MOCK_FAULT_RESPONSES_MAX;
	mid->resp_count -= n;
	cmd->out_dropped = mid->resp_dropped;
	mid->resp_dropped = 0;
	spin_unlock(&mid->lock);

	if (n && copy_to_user(u64_to_user_ptr(cmd->uptr), buf, n * sizeof(*buf)))
		rc = -EFAULT;
	kfree(buf);
	if (rc)
		return rc;
	cmd->num = n;
	return mock_respond(ucmd, sizeof(*cmd));
}

static int mock_nested_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_nested_info *cmd = ucmd->cmd;
	struct mock_iommu_dev *mid;
	struct mock_nested *mn;
	struct mock_dev *mdev;

	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mid = mock_dev_iommu(mdev);

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
	return mock_respond(ucmd, sizeof(*cmd));
}

static int mock_domain_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_domain_info *cmd = ucmd->cmd;
	struct mock_iommu_dev *mid;
	struct mock_domain *md;
	struct mock_dev *mdev;

	if (cmd->flags & ~MOCK_SELECT_FLAGS)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mid = mock_dev_iommu(mdev);

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
	return mock_respond(ucmd, sizeof(*cmd));
}

/*
 * The benchmark floor: the least an IOAS implementation has to do to map
 * user memory - pin it and map each physically contiguous run with one
 * iommu_map() - with none of the bookkeeping. The same code serves mock
 * devices (IOASID_MOCK_FLOOR_MAP) and real PCI devices
 * (IOASID_MOCK_FLOOR_MAP_DEV); only how the device is found differs.
 */

static void mock_floor_init(struct mock_floor *floor)
{
	mutex_init(&floor->lock);
}

/* Unmap and unpin what the last map of @floor pinned, if anything. */
static void mock_floor_release(struct mock_floor *floor)
{
	size_t length = floor->npages << PAGE_SHIFT;

	lockdep_assert_held(&floor->lock);
	if (!floor->pages)
		return;
	WARN_ON(iommu_unmap(floor->domain, floor->iova, length) != length);
	unpin_user_pages(floor->pages, floor->npages);
	kvfree(floor->pages);
	floor->pages = NULL;
	floor->npages = 0;
}

/* Release the map and the domain of @floor; it may be reused after init. */
static void mock_floor_destroy(struct mock_floor *floor)
{
	mutex_lock(&floor->lock);
	mock_floor_release(floor);
	if (floor->domain)
		iommu_domain_free(floor->domain);
	floor->domain = NULL;
	mutex_unlock(&floor->lock);
	mutex_destroy(&floor->lock);
}

/*
 * A paging domain for @dev, sized for the IOMMU @dev is behind the way
 * iommufd allocates one: with the IOMMU driver's domain_alloc_user() when
 * it has one. Its fallback, iommu_paging_domain_alloc(), gets VT-d's legacy
 * domain_alloc(), whose domains learn the IOMMU's superpage sizes (and
 * address width) only when attached - and the floor's domain never is, so
 * it would map everything with 4 KiB IOPTEs. Mock IOMMUs have no
 * domain_alloc_user().
 */
static struct iommu_domain *mock_floor_domain_alloc(struct device *dev)
{
	const struct iommu_ops *ops = NULL;
	struct iommu_domain *domain;

	if (dev->iommu && dev->iommu->iommu_dev)
		ops = dev->iommu->iommu_dev->ops;
	if (!ops || !ops->domain_alloc_user)
		return iommu_paging_domain_alloc(dev);
	domain = ops->domain_alloc_user(dev, 0, NULL, NULL);
	if (IS_ERR(domain))
		return domain;
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->owner = ops;
	return domain;
}

/*
 * Pin @length bytes at @uptr and map them at @iova of the floor's private
 * domain for @dev, one iommu_map() per physically contiguous run.
 */
static int mock_floor_map_pages(struct mock_floor *floor, struct device *dev,
				unsigned long uptr, unsigned long length,
				unsigned long iova)
{
	unsigned long npages = length >> PAGE_SHIFT;
	unsigned long pinned, i, end;
	struct iommu_domain *domain;
	struct page **pages;
	int rc;

	lockdep_assert_held(&floor->lock);
	if (floor->pages)
		return -EBUSY;

	if (!floor->domain) {
		domain = mock_floor_domain_alloc(dev);
		if (IS_ERR(domain))
			return PTR_ERR(domain);
		floor->domain = domain;
	}
	domain = floor->domain;

	/*
	 * More than RAM can never be pinned; refusing it first also keeps
	 * the user-sized array below kvmalloc()'s limit, whose WARN a user
	 * must not reach.
	 */
	if (npages > totalram_pages())
		return -ENOMEM;
	pages = kvmalloc_array(npages, sizeof(*pages),
			       GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages)
		return -ENOMEM;
	for (pinned = 0; pinned < npages; pinned += rc) {
		rc = pin_user_pages_fast(uptr + pinned * PAGE_SIZE,
					 min(npages - pinned, MOCK_FLOOR_PIN_CHUNK),
					 FOLL_LONGTERM | FOLL_WRITE,
					 pages + pinned);
		if (rc <= 0) {
			rc = rc ?: -EFAULT;
			goto err_unpin;
		}
	}

	for (i = 0; i < npages; i = end) {
		unsigned long pfn = page_to_pfn(pages[i]);

		for (end = i + 1; end < npages &&
		     page_to_pfn(pages[end]) == pfn + (end - i); end++)
			;
		rc = iommu_map(domain, iova + i * PAGE_SIZE, PFN_PHYS(pfn),
			       (end - i) * PAGE_SIZE, IOMMU_READ | IOMMU_WRITE,
			       GFP_KERNEL_ACCOUNT);
		if (rc)
			goto err_unmap;
		cond_resched();
	}

	floor->pages = pages;
	floor->npages = npages;
	floor->iova = iova;
	return 0;

err_unmap:
	if (i)
		WARN_ON(iommu_unmap(domain, iova, i * PAGE_SIZE) !=
			i * PAGE_SIZE);
err_unpin:
	unpin_user_pages(pages, pinned);
	kvfree(pages);
	return rc;
}

/* Whether the map arguments of a floor command are usable. */
static bool mock_floor_args_valid(u32 flags, u64 uptr, u64 length, u64 iova)
{
	if (flags & IOASID_MOCK_FLOOR_UNMAP)
		return true;
	return mock_range_valid(uptr, length) && mock_range_valid(iova, length);
}

/* Execute one floor command (map, or with IOASID_MOCK_FLOOR_UNMAP unmap). */
static int mock_floor_execute(struct mock_floor *floor, struct device *dev,
			      u32 flags, u64 uptr, u64 length, u64 iova)
{
	int rc;

	mutex_lock(&floor->lock);
	if (flags & IOASID_MOCK_FLOOR_UNMAP) {
		rc = floor->pages ? 0 : -ENOENT;
		mock_floor_release(floor);
	} else {
		rc = mock_floor_map_pages(floor, dev, uptr, length, iova);
	}
	mutex_unlock(&floor->lock);
	return rc;
}

static int mock_floor_map(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_floor_map *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if ((cmd->flags & ~IOASID_MOCK_FLOOR_UNMAP) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!mock_floor_args_valid(cmd->flags, cmd->uptr, cmd->length,
				   cmd->iova))
		return -EINVAL;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	return mock_floor_execute(&mdev->floor, &mock_dev_pdev(mdev)->dev,
				  cmd->flags, cmd->uptr, cmd->length,
				  cmd->iova);
}

static void mock_floor_dev_free(struct mock_floor_dev *fdev)
{
	list_del(&fdev->node);
	mock_floor_destroy(&fdev->floor);
	put_device(fdev->dev);
	kfree(fdev);
}

/*
 * The floor of the PCI device @name in @mf, created (with a reference to
 * the device) when @create and there is none yet. Entries are removed only
 * when the file is closed, so the result stays valid for the command.
 */
static struct mock_floor_dev *mock_floor_dev_get(struct mock_file *mf,
						 const char *name, bool create)
{
	struct mock_floor_dev *fdev;
	struct device *dev;
	int rc;

	mutex_lock(&mf->floor_lock);
	list_for_each_entry(fdev, &mf->floor_devs, node)
		if (!strcmp(dev_name(fdev->dev), name))
			goto out_unlock;
	rc = -ENOENT;
	if (!create)
		goto err_unlock;

	rc = -ENODEV;
	dev = bus_find_device_by_name(&pci_bus_type, NULL, name);
	if (!dev)
		goto err_unlock;
	rc = -ENOMEM;
	fdev = kzalloc(sizeof(*fdev), GFP_KERNEL_ACCOUNT);
	if (!fdev)
		goto err_put;
	fdev->dev = dev;
	mock_floor_init(&fdev->floor);
	list_add_tail(&fdev->node, &mf->floor_devs);
out_unlock:
	mutex_unlock(&mf->floor_lock);
	return fdev;

err_put:
	put_device(dev);
err_unlock:
	mutex_unlock(&mf->floor_lock);
	return ERR_PTR(rc);
}

static int mock_floor_map_dev(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_floor_map_dev *cmd = ucmd->cmd;
	bool unmap = cmd->flags & IOASID_MOCK_FLOOR_UNMAP;
	struct mock_floor_dev *fdev;

	if (cmd->flags & ~IOASID_MOCK_FLOOR_UNMAP)
		return -EOPNOTSUPP;
	if (!memchr(cmd->name, 0, sizeof(cmd->name)) ||
	    !mock_floor_args_valid(cmd->flags, cmd->uptr, cmd->length,
				   cmd->iova))
		return -EINVAL;
	fdev = mock_floor_dev_get(ucmd->mf, cmd->name, !unmap);
	if (IS_ERR(fdev))
		return PTR_ERR(fdev);
	return mock_floor_execute(&fdev->floor, fdev->dev, cmd->flags,
				  cmd->uptr, cmd->length, cmd->iova);
}

/* Emulated-device accesses: the ioasid_access_* kAPI as a driver uses it */

/**
 * struct mock_access_pin - a pin a mock access holds
 * @node: in mock_access->pins
 * @iova: as pinned
 * @length: as pinned
 */
struct mock_access_pin {
	struct list_head node;
	unsigned long iova;
	unsigned long length;
};

/**
 * struct mock_access - an emulated device created by IOASID_MOCK_ACCESS_CREATE
 * @id: its access_id, the index in mock_file->accesses
 * @flags: enum ioasid_mock_access_flags
 * @ctx: the context (referenced)
 * @access: the ioasid access
 * @lock: protects @pins; taken before the IOAS lock (pin and unpin), and by
 *	the unmap callback, which runs without ioasid locks
 * @pins: struct mock_access_pin
 * @unmap_calls: unmap callbacks so far
 * @map_calls: map callbacks so far
 * @last_unmap_iova: the last unmap callback's range
 * @last_unmap_length: its length
 */
struct mock_access {
	u32 id;
	u32 flags;
	struct ioasid_ctx *ctx;
	struct ioasid_access *access;
	struct mutex lock;
	struct list_head pins;
	unsigned int unmap_calls;
	unsigned int map_calls;
	unsigned long last_unmap_iova;
	unsigned long last_unmap_length;
};

static void mock_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	struct mock_access *ma = data;
	struct mock_access_pin *pin, *next;

	mutex_lock(&ma->lock);
	ma->unmap_calls++;
	ma->last_unmap_iova = iova;
	ma->last_unmap_length = length;
	if (!(ma->flags & IOASID_MOCK_ACCESS_NO_UNPIN)) {
		list_for_each_entry_safe(pin, next, &ma->pins, node) {
			if (pin->iova > iova + length - 1 ||
			    pin->iova + pin->length - 1 < iova)
				continue;
			ioasid_access_unpin_pages(ma->access, pin->iova,
						  pin->length);
			list_del(&pin->node);
			kfree(pin);
		}
	}
	mutex_unlock(&ma->lock);
}

static void mock_access_map(void *data, unsigned long iova,
			    unsigned long length)
{
	struct mock_access *ma = data;

	mutex_lock(&ma->lock);
	ma->map_calls++;
	mutex_unlock(&ma->lock);
}

static const struct ioasid_access_ops mock_access_pin_ops = {
	.needs_pin_pages = 1,
	.unmap = mock_access_unmap,
	.map = mock_access_map,
};

static const struct ioasid_access_ops mock_access_rw_ops = {
	.map = mock_access_map,
};

static const struct ioasid_access_ops mock_access_bad_ops = {
	.needs_pin_pages = 1,
};

static void mock_access_free(struct mock_access *ma)
{
	struct mock_access_pin *pin, *next;

	/* A test may leave pins behind: release them as a driver must. */
	mutex_lock(&ma->lock);
	list_for_each_entry_safe(pin, next, &ma->pins, node) {
		ioasid_access_unpin_pages(ma->access, pin->iova, pin->length);
		kfree(pin);
	}
	INIT_LIST_HEAD(&ma->pins);
	mutex_unlock(&ma->lock);
	ioasid_access_destroy(ma->access);
	ioasid_ctx_put(ma->ctx);
	mutex_destroy(&ma->lock);
	kfree(ma);
}

static int mock_access_create(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_create *cmd = ucmd->cmd;
	const struct ioasid_access_ops *ops = &mock_access_rw_ops;
	struct mock_access *ma;
	struct file *file;
	int rc;

	if ((cmd->flags & ~(IOASID_MOCK_ACCESS_PIN | IOASID_MOCK_ACCESS_NO_UNPIN |
			    IOASID_MOCK_ACCESS_NO_UNMAP_OP |
			    IOASID_MOCK_ACCESS_REPLAY)) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_MOCK_ACCESS_NO_UNMAP_OP)
		ops = &mock_access_bad_ops;
	else if (cmd->flags & IOASID_MOCK_ACCESS_PIN)
		ops = &mock_access_pin_ops;

	ma = kzalloc(sizeof(*ma), GFP_KERNEL_ACCOUNT);
	if (!ma)
		return -ENOMEM;
	ma->flags = cmd->flags;
	mutex_init(&ma->lock);
	INIT_LIST_HEAD(&ma->pins);
	file = fget(cmd->ioasid_fd);
	if (!file) {
		rc = -EBADF;
		goto err_free;
	}
	ma->ctx = get_ioasid_from_file(file);
	fput(file);
	if (IS_ERR(ma->ctx)) {
		rc = PTR_ERR(ma->ctx);
		goto err_free;
	}
	ma->access = ioasid_access_create(ma->ctx, cmd->ioas_id, ops, ma);
	if (IS_ERR(ma->access)) {
		rc = PTR_ERR(ma->access);
		goto err_ctx;
	}
	if (cmd->flags & IOASID_MOCK_ACCESS_REPLAY) {
		rc = ioasid_access_replay(ma->access);
		if (rc)
			goto err_access;
	}
	rc = xa_alloc(&ucmd->mf->accesses, &ma->id, ma, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_access;
	cmd->out_access_id = ma->id;
	rc = mock_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_erase;
	return 0;

err_erase:
	xa_erase(&ucmd->mf->accesses, ma->id);
err_access:
	ioasid_access_destroy(ma->access);
err_ctx:
	ioasid_ctx_put(ma->ctx);
err_free:
	mutex_destroy(&ma->lock);
	kfree(ma);
	return rc;
}

static int mock_access_destroy(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_info *cmd = ucmd->cmd;
	struct mock_access *ma;

	lockdep_assert_held_write(&ucmd->mf->lock);
	ma = xa_erase(&ucmd->mf->accesses, cmd->access_id);
	if (!ma)
		return -ENOENT;
	mock_access_free(ma);
	return 0;
}

static struct mock_access *mock_access_find(struct mock_ucmd *ucmd, u32 id)
{
	lockdep_assert_held(&ucmd->mf->lock);
	return xa_load(&ucmd->mf->accesses, id) ?: ERR_PTR(-ENOENT);
}

/* Copy between the user buffer and the pinned pages, page by page. */
static int mock_access_copy_pages(struct page **pages, unsigned long iova,
				  unsigned long length, u64 uptr, bool to_pages)
{
	void __user *ubuf = u64_to_user_ptr(uptr);
	unsigned long done = 0, i = 0, off = offset_in_page(iova);

	while (done < length) {
		size_t n = min_t(size_t, PAGE_SIZE - off, length - done);
		void *va = kmap_local_page(pages[i]);
		unsigned long left;

		if (to_pages)
			left = copy_from_user(va + off, ubuf + done, n);
		else
			left = copy_to_user(ubuf + done, va + off, n);
		kunmap_local(va);
		if (left)
			return -EFAULT;
		done += n;
		off = 0;
		i++;
	}
	return 0;
}

static int mock_access_pin(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	bool write = cmd->flags & IOASID_MOCK_ACCESS_WRITE;
	struct mock_access_pin *pin;
	struct mock_access *ma;
	struct page **pages;
	unsigned long npages;
	u64 last;
	int rc;

	if ((cmd->flags & ~IOASID_MOCK_ACCESS_WRITE) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || check_add_overflow(cmd->iova, cmd->length - 1, &last) ||
	    last > ULONG_MAX || cmd->length > SZ_16M)
		return -EINVAL;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	npages = (last >> PAGE_SHIFT) - (cmd->iova >> PAGE_SHIFT) + 1;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pages || !pin) {
		rc = -ENOMEM;
		goto out_free;
	}
	mutex_lock(&ma->lock);
	rc = ioasid_access_pin_pages(ma->access, cmd->iova, cmd->length, pages,
				     write ? IOASID_ACCESS_WRITE : 0);
	if (rc)
		goto out_unlock;
	if (cmd->uptr) {
		rc = mock_access_copy_pages(pages, cmd->iova, cmd->length,
					    cmd->uptr, write);
		if (rc) {
			ioasid_access_unpin_pages(ma->access, cmd->iova,
						  cmd->length);
			goto out_unlock;
		}
	}
	pin->iova = cmd->iova;
	pin->length = cmd->length;
	list_add_tail(&pin->node, &ma->pins);
	pin = NULL;
out_unlock:
	mutex_unlock(&ma->lock);
out_free:
	kfree(pin);
	kvfree(pages);
	return rc;
}

static int mock_access_unpin(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	struct mock_access_pin *pin;
	struct mock_access *ma;
	int rc = -ENOENT;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	mutex_lock(&ma->lock);
	list_for_each_entry(pin, &ma->pins, node) {
		if (pin->iova != cmd->iova || pin->length != cmd->length)
			continue;
		ioasid_access_unpin_pages(ma->access, pin->iova, pin->length);
		list_del(&pin->node);
		kfree(pin);
		rc = 0;
		break;
	}
	mutex_unlock(&ma->lock);
	return rc;
}

static int mock_access_rw(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	bool write = cmd->flags & IOASID_MOCK_ACCESS_WRITE;
	void __user *ubuf = u64_to_user_ptr(cmd->uptr);
	struct mock_access *ma;
	void *buf;
	int rc;

	if ((cmd->flags & ~IOASID_MOCK_ACCESS_WRITE) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || cmd->length > SZ_1M)
		return -EINVAL;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	buf = kvzalloc(cmd->length, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, ubuf, cmd->length)) {
		rc = -EFAULT;
		goto out;
	}
	rc = ioasid_access_rw(ma->access, cmd->iova, buf, cmd->length,
			      write ? IOASID_ACCESS_WRITE : 0);
	if (!rc && !write && copy_to_user(ubuf, buf, cmd->length))
		rc = -EFAULT;
out:
	kvfree(buf);
	return rc;
}

static int mock_access_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_info *cmd = ucmd->cmd;
	struct mock_access_pin *pin;
	struct mock_access *ma;

	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	mutex_lock(&ma->lock);
	cmd->out_unmap_calls = ma->unmap_calls;
	cmd->out_map_calls = ma->map_calls;
	cmd->out_pins = 0;
	list_for_each_entry(pin, &ma->pins, node)
		cmd->out_pins++;
	cmd->out_last_unmap_iova = ma->last_unmap_iova;
	cmd->out_last_unmap_length = ma->last_unmap_length;
	mutex_unlock(&ma->lock);
	return mock_respond(ucmd, sizeof(*cmd));
}

struct mock_ioctl_op {
	unsigned int min_size;
	unsigned int size;
	bool exclusive;
	int (*execute)(struct mock_ucmd *ucmd);
};

/* The kernel copy of every command's argument: MOCK_IOCTL_OP() checks it fits. */
union mock_ucmd_buffer {
	struct ioasid_mock_dev_add dev_add;
	struct ioasid_mock_dev dev;
	struct ioasid_mock_check_map check_map;
	struct ioasid_mock_pin_count pin_count;
	struct ioasid_mock_domain_info domain_info;
	struct ioasid_mock_floor_map floor_map;
	struct ioasid_mock_subdev_add subdev_add;
	struct ioasid_mock_floor_map_dev floor_map_dev;
	struct ioasid_mock_nested_info nested_info;
	struct ioasid_mock_fault_inject fault_inject;
	struct ioasid_mock_fault_responses fault_responses;
	struct ioasid_mock_access_create access_create;
	struct ioasid_mock_access_pin access_pin;
	struct ioasid_mock_access_info access_info;
};

#define MOCK_IOCTL_OP(_nr, _fn, _struct, _last, _exclusive)		\
	[IOASID_MOCK_CMD_##_nr - IOASID_MOCK_CMD_BASE] = {		\
		.min_size = offsetofend(struct _struct, _last),		\
		.size = sizeof(struct _struct) +			\
			BUILD_BUG_ON_ZERO(sizeof(union mock_ucmd_buffer) < \
					  sizeof(struct _struct)),	\
		.exclusive = _exclusive,				\
		.execute = _fn,						\
	}

/* min_size is the end of the first version of each struct: never change it. */
static const struct mock_ioctl_op mock_ioctl_ops[] = {
	MOCK_IOCTL_OP(DEV_ADD, mock_dev_add, ioasid_mock_dev_add, __reserved,
		      true),
	MOCK_IOCTL_OP(DEV_DEL, mock_dev_del, ioasid_mock_dev, __reserved, true),
	MOCK_IOCTL_OP(ATTACH, mock_attach, ioasid_mock_dev, __reserved, false),
	MOCK_IOCTL_OP(DETACH, mock_detach, ioasid_mock_dev, __reserved, false),
	MOCK_IOCTL_OP(CHECK_MAP, mock_check_map, ioasid_mock_check_map,
		      out_huge_ioptes, false),
	MOCK_IOCTL_OP(PIN_COUNT, mock_pin_count_ioctl, ioasid_mock_pin_count,
		      out_max, false),
	MOCK_IOCTL_OP(DOMAIN_INFO, mock_domain_info, ioasid_mock_domain_info,
		      out_domains, false),
	MOCK_IOCTL_OP(FLOOR_MAP, mock_floor_map, ioasid_mock_floor_map, iova,
		      false),
	MOCK_IOCTL_OP(SUBDEV_ADD, mock_subdev_add, ioasid_mock_subdev_add,
		      __reserved, true),
	MOCK_IOCTL_OP(FLOOR_MAP_DEV, mock_floor_map_dev,
		      ioasid_mock_floor_map_dev, iova, false),
	MOCK_IOCTL_OP(NESTED_INFO, mock_nested_info, ioasid_mock_nested_info,
		      out_nested_domains, false),
	MOCK_IOCTL_OP(FAULT_INJECT, mock_fault_inject, ioasid_mock_fault_inject,
		      addr, false),
	MOCK_IOCTL_OP(FAULT_RESPONSES, mock_fault_responses,
		      ioasid_mock_fault_responses, uptr, false),
	MOCK_IOCTL_OP(ACCESS_CREATE, mock_access_create,
		      ioasid_mock_access_create, __reserved, true),
	MOCK_IOCTL_OP(ACCESS_DESTROY, mock_access_destroy,
		      ioasid_mock_access_info, access_id, true),
	MOCK_IOCTL_OP(ACCESS_PIN, mock_access_pin, ioasid_mock_access_pin, uptr,
		      false),
	MOCK_IOCTL_OP(ACCESS_UNPIN, mock_access_unpin, ioasid_mock_access_pin,
		      uptr, false),
	MOCK_IOCTL_OP(ACCESS_RW, mock_access_rw, ioasid_mock_access_pin, uptr,
		      false),
	MOCK_IOCTL_OP(ACCESS_INFO, mock_access_info, ioasid_mock_access_info,
		      out_last_unmap_length, false),
};

static long mock_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct mock_ucmd ucmd = { .mf = filp->private_data,
				  .ubuffer = (void __user *)arg };
	const struct mock_ioctl_op *op;
	union mock_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (nr < IOASID_MOCK_CMD_BASE ||
	    nr >= IOASID_MOCK_CMD_BASE + ARRAY_SIZE(mock_ioctl_ops) ||
	    cmd != _IO(IOASID_MOCK_TYPE, nr))
		return -ENOTTY;
	op = &mock_ioctl_ops[nr - IOASID_MOCK_CMD_BASE];
	if (!op->execute)
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* Zero-fills what user space did not pass; E2BIG on a non-zero tail. */
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;

	if (op->exclusive)
		down_write(&ucmd.mf->lock);
	else
		down_read(&ucmd.mf->lock);
	rc = op->execute(&ucmd);
	if (op->exclusive)
		up_write(&ucmd.mf->lock);
	else
		up_read(&ucmd.mf->lock);
	return rc;
}

static int mock_fops_open(struct inode *inode, struct file *filp)
{
	struct mock_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	init_rwsem(&mf->lock);
	xa_init_flags(&mf->devices, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	mutex_init(&mf->floor_lock);
	INIT_LIST_HEAD(&mf->floor_devs);
	xa_init_flags(&mf->accesses, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	filp->private_data = mf;
	return 0;
}

static int mock_fops_release(struct inode *inode, struct file *filp)
{
	struct mock_file *mf = filp->private_data;
	struct mock_floor_dev *fdev, *next;
	struct mock_access *ma;
	struct mock_dev *mdev;
	unsigned long index;

	/*
	 * Probed devices pin this module: destroy them all before rmmod.
	 * Sub-devices use their parents' platform devices: they go first.
	 */
	down_write(&mf->lock);
	xa_for_each(&mf->accesses, index, ma) {
		xa_erase(&mf->accesses, index);
		mock_access_free(ma);
	}
	xa_destroy(&mf->accesses);
	xa_for_each(&mf->devices, index, mdev) {
		if (!mdev->parent)
			continue;
		xa_erase(&mf->devices, index);
		mock_dev_destroy(mdev);
	}
	xa_for_each(&mf->devices, index, mdev) {
		WARN_ON(mdev->nr_subdevs);
		xa_erase(&mf->devices, index);
		mock_dev_destroy(mdev);
	}
	up_write(&mf->lock);
	xa_destroy(&mf->devices);
	/* No command runs any more: nothing else can see the list. */
	list_for_each_entry_safe(fdev, next, &mf->floor_devs, node)
		mock_floor_dev_free(fdev);
	mutex_destroy(&mf->floor_lock);
	kfree(mf);
	return 0;
}

static const struct file_operations mock_fops = {
	.owner = THIS_MODULE,
	.open = mock_fops_open,
	.release = mock_fops_release,
	.unlocked_ioctl = mock_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice mock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid_mock",
	.fops = &mock_fops,
	.nodename = "ioasid_mock",
	.mode = 0600,
};

static int __init mock_init(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i < MOCK_NR_IOMMUS; i++) {
		rc = mock_iommu_register(&mock_iommus[i], i);
		if (rc)
			goto err_iommus;
	}
	rc = misc_register(&mock_misc);
	if (rc)
		goto err_iommus;
	return 0;

err_iommus:
	while (i--)
		mock_iommu_unregister(&mock_iommus[i]);
	return rc;
}

static void __exit mock_exit(void)
{
	unsigned int i = MOCK_NR_IOMMUS;

	misc_deregister(&mock_misc);
	if (mock_shared_group)
		iommu_group_put(mock_shared_group);
	while (i--)
		mock_iommu_unregister(&mock_iommus[i]);
}

module_init(mock_init);
module_exit(mock_exit);

MODULE_DESCRIPTION("ioasid: test-only mock IOMMU (/dev/ioasid_mock)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IOASID);
