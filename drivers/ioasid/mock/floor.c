// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mock: the benchmark floor, the least an IOAS implementation has to
 * do to map user memory - pin it and map each physically contiguous run
 * with one iommu_map() - with none of the bookkeeping. `make bench`
 * (tools/ioasid/ioasid-bench*.c) times ioasid against it.
 *
 * IOASID_MOCK_FLOOR_MAP maps into a private domain of a mock device;
 * IOASID_MOCK_FLOOR_MAP_DEV does the same for a real PCI device (behind
 * VT-d in the test VM), the only command that touches a device the mock did
 * not create. Both share one implementation; only how the device is found
 * differs. The floor is part of the mock module because FLOOR_MAP names
 * mock devices by their mock_id, on the /dev/ioasid_mock file that created
 * them.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "mock_private.h"

/* Pages pinned per pin_user_pages_fast() call by the benchmark floor. */
#define MOCK_FLOOR_PIN_CHUNK	16384

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
 * mock_floor_init() - initialize the (empty) floor of a device
 * @floor: the floor
 */
void mock_floor_init(struct mock_floor *floor)
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

/**
 * mock_floor_destroy() - release the map and the domain of a floor
 * @floor: the floor; it may be reused after mock_floor_init()
 */
void mock_floor_destroy(struct mock_floor *floor)
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

/**
 * mock_floor_map() - IOASID_MOCK_FLOOR_MAP: the floor of a mock device
 * @ucmd: the call; struct ioasid_mock_floor_map
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_floor_map(struct mock_ucmd *ucmd)
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

/**
 * mock_floor_map_dev() - IOASID_MOCK_FLOOR_MAP_DEV: the floor of a real
 *	PCI device
 * @ucmd: the call; struct ioasid_mock_floor_map_dev
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_floor_map_dev(struct mock_ucmd *ucmd)
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

/**
 * mock_floor_file_init() - initialize the real-device floors of a file
 * @mf: the new /dev/ioasid_mock file
 */
void mock_floor_file_init(struct mock_file *mf)
{
	mutex_init(&mf->floor_lock);
	INIT_LIST_HEAD(&mf->floor_devs);
}

/**
 * mock_floor_file_release() - release the real-device floors of a file
 * @mf: the /dev/ioasid_mock file being closed; no command runs on it any
 *	more, so nothing else can see the list
 */
void mock_floor_file_release(struct mock_file *mf)
{
	struct mock_floor_dev *fdev, *next;

	list_for_each_entry_safe(fdev, next, &mf->floor_devs, node)
		mock_floor_dev_free(fdev);
	mutex_destroy(&mf->floor_lock);
}
