/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioasid_mock: what the files of the test-only mock module share. Not a
 * contract: the contract with the tests is ioasid_mock.h.
 *
 *   iommu.c   the mock IOMMU driver: two instances, their iommu_ops, paging
 *             and nested domains, the page table, page requests and
 *             responses, the platform devices behind the instances
 *   ctl.c     the control surface /dev/ioasid_mock: its dispatcher, mock
 *             devices and sub-devices, the read-back commands, the module
 *   floor.c   the benchmark floor (IOASID_MOCK_FLOOR_MAP[_DEV])
 *   access.c  an emulated-device consumer of the ioasid_access_* kAPI
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
#ifndef _IOASID_MOCK_PRIVATE_H
#define _IOASID_MOCK_PRIVATE_H

#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include "ioasid_mock.h"

struct device;
struct iopf_fault;
struct page;
struct platform_device;

/* iommu.c: the mock IOMMU driver */

int mock_iommus_register(void);
void mock_iommus_unregister(void);
struct platform_device *mock_pdev_create(u32 flags);

/**
 * struct mock_check - what IOASID_MOCK_CHECK_MAP looks at and has seen
 * @flags: enum ioasid_mock_select_flags
 * @pasid: with IOASID_MOCK_PASID_VALID, the PASID whose domain is checked
 * @serial: the serial of the domain checked so far, 0 before the first batch
 * @last_pte: the first IOVA of the last IOPTE seen
 * @ioptes: distinct IOPTEs seen
 * @huge: how many of them are huge
 */
struct mock_check {
	u32 flags;
	u32 pasid;
	u64 serial;
	unsigned long last_pte;
	u64 ioptes;
	u64 huge;
};

int mock_iommu_check_batch(struct device *dev, struct mock_check *chk,
			   unsigned long iova, struct page **pages,
			   unsigned long n);
void mock_iommu_domain_info(struct device *dev,
			    struct ioasid_mock_domain_info *cmd);
void mock_iommu_nested_info(struct device *dev,
			    struct ioasid_mock_nested_info *cmd);
int mock_report_fault(struct device *dev, struct iopf_fault *evt);
unsigned int mock_iommu_fault_responses(struct device *dev,
					struct ioasid_mock_fault_response *buf,
					unsigned int n, u32 *dropped);

/* ctl.c: the control surface */

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

/**
 * struct mock_ucmd - one ioctl call being executed
 * @mf: the file it was made on
 * @ubuffer: the user argument
 * @user_size: the size user space declared in it
 * @cmd: the kernel copy of the argument
 */
struct mock_ucmd {
	struct mock_file *mf;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int mock_respond(struct mock_ucmd *ucmd, size_t len);
struct mock_dev *mock_dev_find(struct mock_ucmd *ucmd, u32 mock_id);
struct platform_device *mock_dev_pdev(struct mock_dev *mdev);

/* A PAGE_SIZE aligned, non-empty range that does not wrap. */
static inline bool mock_range_valid(u64 start, u64 length)
{
	u64 last;

	return length && PAGE_ALIGNED(start | length) &&
	       !check_add_overflow(start, length - 1, &last) &&
	       last <= ULONG_MAX;
}

/* floor.c: the benchmark floor */

void mock_floor_init(struct mock_floor *floor);
void mock_floor_destroy(struct mock_floor *floor);
void mock_floor_file_init(struct mock_file *mf);
void mock_floor_file_release(struct mock_file *mf);
int mock_floor_map(struct mock_ucmd *ucmd);
int mock_floor_map_dev(struct mock_ucmd *ucmd);

/* access.c: the emulated-device access consumer */

void mock_access_file_init(struct mock_file *mf);
void mock_access_file_release(struct mock_file *mf);
int mock_access_create(struct mock_ucmd *ucmd);
int mock_access_destroy(struct mock_ucmd *ucmd);
int mock_access_pin(struct mock_ucmd *ucmd);
int mock_access_unpin(struct mock_ucmd *ucmd);
int mock_access_rw(struct mock_ucmd *ucmd);
int mock_access_info(struct mock_ucmd *ucmd);

#endif /* _IOASID_MOCK_PRIVATE_H */
