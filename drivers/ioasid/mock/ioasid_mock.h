/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioasid_mock: the control surface of the test-only mock IOMMU
 * (/dev/ioasid_mock). Shared by the mock module and the selftests; never part
 * of the production uAPI, never loaded outside the test VM.
 *
 * The mock registers two IOMMU instances with the real iommu core. A mock
 * device is a platform device behind one of them; its domains are real
 * iommu_domains whose page table is an xarray the tests can read back.
 * Every ioctl follows the ioasid size contract (leading __u32 size).
 */
#ifndef _IOASID_MOCK_H
#define _IOASID_MOCK_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define IOASID_MOCK_TYPE	0xB9
#define IOASID_MOCK_CMD_BASE	0x80

/* The granule of mock IOPTEs: half a CPU page, to exercise alignment. */
#define IOASID_MOCK_PAGE_SHIFT	11
#define IOASID_MOCK_PAGE_SIZE	(1UL << IOASID_MOCK_PAGE_SHIFT)
/* The huge IOPTE of IOASID_MOCK_DEV_HUGE devices. */
#define IOASID_MOCK_HUGE_SIZE	(1UL << 21)
/* The minimum IOPTE of IOASID_MOCK_DEV_BIG_PGSIZE devices. */
#define IOASID_MOCK_BIG_PGSIZE	(1UL << 14)
/* The reserved region IOASID_MOCK_DEV_RESV devices report. */
#define IOASID_MOCK_RESV_START	0x8000000UL
#define IOASID_MOCK_RESV_LAST	0x80fffffUL
/* The aperture of IOASID_MOCK_DEV_SMALL_APERTURE devices: [0, 4 GiB). */
#define IOASID_MOCK_SMALL_APERTURE_LAST 0xffffffffUL
/* The aperture of every other mock domain: 48 bits. */
#define IOASID_MOCK_APERTURE_LAST ((1ULL << 48) - 1)
/* The PASID width of IOASID_MOCK_DEV_PASID devices: PASIDs 1-255. */
#define IOASID_MOCK_PASID_BITS	8

enum {
	IOASID_MOCK_CMD_DEV_ADD = IOASID_MOCK_CMD_BASE,
	IOASID_MOCK_CMD_DEV_DEL,
	IOASID_MOCK_CMD_ATTACH,
	IOASID_MOCK_CMD_DETACH,
	IOASID_MOCK_CMD_CHECK_MAP,
	IOASID_MOCK_CMD_PIN_COUNT,
	IOASID_MOCK_CMD_DOMAIN_INFO,
	IOASID_MOCK_CMD_FLOOR_MAP,
	IOASID_MOCK_CMD_SUBDEV_ADD,
	IOASID_MOCK_CMD_FLOOR_MAP_DEV,
	IOASID_MOCK_CMD_NESTED_INFO,	/* nesting: what a nested domain was told */
	IOASID_MOCK_CMD_FAULT_INJECT,	/* faults: iommu_report_device_fault() */
	IOASID_MOCK_CMD_FAULT_RESPONSES, /* faults: the page responses seen */
	IOASID_MOCK_CMD_ACCESS_CREATE,	/* accesses: an emulated device */
	IOASID_MOCK_CMD_ACCESS_DESTROY,
	IOASID_MOCK_CMD_ACCESS_PIN,
	IOASID_MOCK_CMD_ACCESS_UNPIN,
	IOASID_MOCK_CMD_ACCESS_RW,
	IOASID_MOCK_CMD_ACCESS_INFO,
};

/**
 * enum ioasid_mock_dev_flags - what a mock device's IOMMU looks like
 * @IOASID_MOCK_DEV_HUGE: its domains also support 2 MiB IOPTEs
 * @IOASID_MOCK_DEV_INSTANCE2: behind the second mock IOMMU instance, whose
 *	domains the first instance's devices cannot attach to (and back)
 * @IOASID_MOCK_DEV_RESV: reports the reserved region IOASID_MOCK_RESV_*
 * @IOASID_MOCK_DEV_BIG_PGSIZE: its domains' smallest IOPTE is 16 KiB
 * @IOASID_MOCK_DEV_SMALL_APERTURE: its domains translate only [0, 4 GiB)
 * @IOASID_MOCK_DEV_PASID: supports PASIDs IOASID_MOCK_PASID_BITS wide (the
 *	platform device gets the property "pasid-num-bits"); without it the
 *	device's max_pasids is 0
 * @IOASID_MOCK_DEV_NESTING: its IOMMU allocates nesting parents and nested
 *	domains (domain_alloc_user) with the IOASID_NESTED_DATA_MOCK payload,
 *	takes IOASID_MOCK_INV_DATA invalidations, and reports the format
 *	IOASID_NESTED_FMT_MOCK; nested domains attach to RIDs only
 * @IOASID_MOCK_DEV_IOPF: its IOMMU delivers I/O page faults
 *	(IOMMU_DEV_FEAT_IOPF, an iopf queue per instance) and records the page
 *	responses it gets (IOASID_MOCK_FAULT_INJECT, IOASID_MOCK_FAULT_RESPONSES)
 * @IOASID_MOCK_DEV_OWN_DOMAIN: the mock allocates a paging domain of its own
 *	for the device and registers the device with it (a subsystem-owned
 *	domain, as vhost-vdpa has); it is freed only when the device is
 *	destroyed, so DOMAIN_INFO shows the same serial across detach/attach
 * @IOASID_MOCK_DEV_SHARED_GROUP: every device with this flag is in one IOMMU
 *	group (as the functions of a multi-function PCI device without ACS):
 *	the IOMMU translates their RIDs as one. Not with IOASID_MOCK_DEV_PASID
 *	(EINVAL): as on PCI, where PASID needs ACS isolation, a device that
 *	shares its group has no PASIDs (6.12's core attaches a PASID for every
 *	member of a group and never for one that joins later)
 *
 * A domain is compatible with a device (attach succeeds) only when it was
 * allocated for a device with the same flags; otherwise attach fails with
 * -EINVAL, which is what makes ioasid allocate a second domain. The same
 * rule holds for attaching a domain to a PASID of the device.
 */
enum ioasid_mock_dev_flags {
	IOASID_MOCK_DEV_HUGE = 1 << 0,
	IOASID_MOCK_DEV_INSTANCE2 = 1 << 1,
	IOASID_MOCK_DEV_RESV = 1 << 2,
	IOASID_MOCK_DEV_BIG_PGSIZE = 1 << 3,
	IOASID_MOCK_DEV_SMALL_APERTURE = 1 << 4,
	IOASID_MOCK_DEV_PASID = 1 << 5,
	IOASID_MOCK_DEV_NESTING = 1 << 6,
	IOASID_MOCK_DEV_IOPF = 1 << 7,
	IOASID_MOCK_DEV_OWN_DOMAIN = 1 << 8,
	IOASID_MOCK_DEV_SHARED_GROUP = 1 << 9,
};

/**
 * struct ioasid_mock_dev_add - create a mock device and register it
 * @size: sizeof(struct ioasid_mock_dev_add)
 * @flags: enum ioasid_mock_dev_flags
 * @ioasid_fd: an open /dev/ioasid; the device is registered with its context
 *	through the consumer kAPI (get_ioasid_from_file,
 *	register_device_to_pasid)
 * @out_mock_id: the handle for the other mock commands
 * @out_dev_id: the dev_id the ioasid context gave the device
 * @__reserved: must be 0
 *
 * The device lives until IOASID_MOCK_DEV_DEL or until the /dev/ioasid_mock
 * file that created it is closed. IOASID_MOCK_DEV_DEL fails with EBUSY while
 * the device has sub-devices (IOASID_MOCK_SUBDEV_ADD).
 */
struct ioasid_mock_dev_add {
	__u32 size;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 out_mock_id;
	__u32 out_dev_id;
	__u32 __reserved;
};

#define IOASID_MOCK_DEV_ADD	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_DEV_ADD)

/**
 * struct ioasid_mock_dev - a command naming one mock device
 * @size: sizeof(struct ioasid_mock_dev)
 * @mock_id: from IOASID_MOCK_DEV_ADD
 * @pt_id: IOASID_MOCK_ATTACH only: the ioasid object to attach to
 * @__reserved: must be 0
 *
 * IOASID_MOCK_DEV_DEL unregisters and destroys the device (a sub-device is
 * only unregistered; EBUSY for a device that still has sub-devices).
 * IOASID_MOCK_ATTACH calls ioasid_device_attach(), IOASID_MOCK_DETACH
 * ioasid_device_detach(); they return what those return.
 */
struct ioasid_mock_dev {
	__u32 size;
	__u32 mock_id;
	__u32 pt_id;
	__u32 __reserved;
};

#define IOASID_MOCK_DEV_DEL	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_DEV_DEL)
#define IOASID_MOCK_ATTACH	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ATTACH)
#define IOASID_MOCK_DETACH	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_DETACH)

/**
 * enum ioasid_mock_select_flags - which translation of a device to read back
 * @IOASID_MOCK_PASID_VALID: the domain attached to PASID @pasid of the
 *	device, instead of the domain attached to its RID
 *
 * The read-back commands (CHECK_MAP, DOMAIN_INFO) look at the platform
 * device behind the mock IOMMU: for a sub-device's mock_id that is its
 * parent's, so without IOASID_MOCK_PASID_VALID they read the parent's RID.
 * A PASID nothing is attached to reads like a detached RID.
 */
enum ioasid_mock_select_flags {
	IOASID_MOCK_PASID_VALID = 1 << 0,
};

/**
 * struct ioasid_mock_check_map - compare a device's domain with user memory
 * @size: sizeof(struct ioasid_mock_check_map)
 * @mock_id: the device; the domain its RID (or @pasid) is attached to now
 *	is read
 * @iova: start of the range, PAGE_SIZE aligned
 * @length: length of the range, PAGE_SIZE aligned
 * @uptr: user memory that must back [iova, iova + length), PAGE_SIZE aligned
 * @out_ioptes: number of IOPTEs that cover the range
 * @out_huge_ioptes: how many of them are IOASID_MOCK_HUGE_SIZE
 * @flags: enum ioasid_mock_select_flags (0: the RID); EOPNOTSUPP for others
 * @pasid: with IOASID_MOCK_PASID_VALID, the PASID whose domain is read
 *
 * Succeeds when every CPU page of @uptr is what the domain translates the
 * corresponding IOVA to. ENOENT if some IOVA is not mapped (or the device or
 * PASID is not attached), EINVAL if some IOVA maps to other memory, EBUSY
 * if some IOVA is not mapped but the mock IOTLB may still translate it (it
 * was unmapped and the IOTLB was not synced since: iommu_unmap() always
 * syncs before it returns). @flags and @pasid were added later: a struct
 * that ends at @out_huge_ioptes reads the RID.
 */
struct ioasid_mock_check_map {
	__u32 size;
	__u32 mock_id;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
	__aligned_u64 out_ioptes;
	__aligned_u64 out_huge_ioptes;
	__u32 flags;
	__u32 pasid;
};

#define IOASID_MOCK_CHECK_MAP	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_CHECK_MAP)

/**
 * struct ioasid_mock_pin_count - how often user pages are pinned (FOLL_PIN)
 * @size: sizeof(struct ioasid_mock_pin_count)
 * @__reserved: must be 0
 * @uptr: start, PAGE_SIZE aligned
 * @length: length, PAGE_SIZE aligned
 * @out_min: the smallest pin count of a page in the range
 * @out_max: the largest pin count of a page in the range
 */
struct ioasid_mock_pin_count {
	__u32 size;
	__u32 __reserved;
	__aligned_u64 uptr;
	__aligned_u64 length;
	__aligned_u64 out_min;
	__aligned_u64 out_max;
};

#define IOASID_MOCK_PIN_COUNT	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_PIN_COUNT)

/**
 * struct ioasid_mock_domain_info - the domain a mock device is attached to
 * @size: sizeof(struct ioasid_mock_domain_info)
 * @mock_id: the device
 * @out_domain_serial: a number naming the domain (0 when blocked/detached);
 *	two devices report the same number when they share a domain
 * @out_ioptes: IOPTEs in that domain
 * @out_mapped: bytes mapped in that domain
 * @out_domains: mock paging domains that exist right now (all devices)
 * @flags: enum ioasid_mock_select_flags (0: the RID); EOPNOTSUPP for others
 * @pasid: with IOASID_MOCK_PASID_VALID, the PASID whose domain is reported
 * @out_unsynced: bytes unmapped from that domain whose IOTLB invalidation
 *	(iotlb_sync or flush_iotlb_all) has not happened yet; 0 whenever no
 *	iommu_unmap() is in progress
 *
 * @flags and @pasid were added later: a struct that ends at @out_domains
 * reports the RID. @out_unsynced was added after them.
 */
struct ioasid_mock_domain_info {
	__u32 size;
	__u32 mock_id;
	__aligned_u64 out_domain_serial;
	__aligned_u64 out_ioptes;
	__aligned_u64 out_mapped;
	__aligned_u64 out_domains;
	__u32 flags;
	__u32 pasid;
	__aligned_u64 out_unsynced;
};

#define IOASID_MOCK_DOMAIN_INFO	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_DOMAIN_INFO)

/**
 * struct ioasid_mock_floor_map - the benchmark floor
 * @size: sizeof(struct ioasid_mock_floor_map)
 * @flags: 0 to pin and map, IOASID_MOCK_FLOOR_UNMAP to unmap and unpin what
 *	the last map on this device pinned
 * @mock_id: a mock device (its flags choose the domain's page sizes)
 * @__reserved: must be 0
 * @uptr: user memory to pin (map only)
 * @length: bytes (map only)
 * @iova: where to map (map only)
 *
 * Pins with pin_user_pages_fast(FOLL_LONGTERM | FOLL_WRITE) and maps each
 * physically contiguous run with one iommu_map() into a private domain
 * allocated for the device (never attached): the least any IOAS
 * implementation has to do, with none of the bookkeeping. Test-only, for
 * `make bench`. @uptr, @length and @iova must be PAGE_SIZE aligned (EINVAL);
 * on IOASID_MOCK_DEV_BIG_PGSIZE devices iommu_map() also needs every
 * physically contiguous run 16 KiB aligned. ENOMEM for more than the
 * machine's RAM (refused before anything is allocated). EBUSY if a floor
 * map of this device is still in place; IOASID_MOCK_FLOOR_UNMAP fails with
 * ENOENT when there is none.
 */
struct ioasid_mock_floor_map {
	__u32 size;
	__u32 flags;
	__u32 mock_id;
	__u32 __reserved;
	__aligned_u64 uptr;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOASID_MOCK_FLOOR_UNMAP	(1 << 0)
#define IOASID_MOCK_FLOOR_MAP	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_FLOOR_MAP)

/**
 * struct ioasid_mock_subdev_add - register a sub-device of a mock device
 * @size: sizeof(struct ioasid_mock_subdev_add)
 * @parent_mock_id: a device from IOASID_MOCK_DEV_ADD (not a sub-device)
 * @pasid: the PASID of the parent the sub-device is bound to; or
 *	IOASID_MOCK_PASID_GLOBAL to have one allocated with
 *	ioasid_alloc_global_pasid() (freed with the sub-device), returned here
 * @out_mock_id: the sub-device's handle for the other mock commands
 * @out_dev_id: the dev_id the ioasid context gave the sub-device
 * @__reserved: must be 0
 *
 * Registers, with the parent's ioasid context, a sub-device of the parent's
 * platform device bound to @pasid (register_device_to_pasid() with
 * IOASID_OPS_SUBDEV); the errors of that call are returned (e.g. EOPNOTSUPP
 * for a parent without IOASID_MOCK_DEV_PASID, EINVAL for a PASID outside
 * its width). No platform device is created: ATTACH and DETACH act on the
 * sub-device's registration, the read-back commands on the parent's
 * platform device. ENOENT if @parent_mock_id names no device, EINVAL if it
 * names a sub-device. The sub-device lives until IOASID_MOCK_DEV_DEL of its
 * mock_id or until the file is closed (sub-devices are destroyed before
 * their parents).
 */
struct ioasid_mock_subdev_add {
	__u32 size;
	__u32 parent_mock_id;
	__u32 pasid;
	__u32 out_mock_id;
	__u32 out_dev_id;
	__u32 __reserved;
};

#define IOASID_MOCK_PASID_GLOBAL	0

#define IOASID_MOCK_SUBDEV_ADD	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_SUBDEV_ADD)

/**
 * struct ioasid_mock_floor_map_dev - the benchmark floor on a real device
 * @size: sizeof(struct ioasid_mock_floor_map_dev)
 * @flags: 0 to pin and map, IOASID_MOCK_FLOOR_UNMAP to unmap and unpin what
 *	the last map on this device pinned
 * @name: a PCI device by its name (e.g. "0000:00:03.0"), NUL-terminated
 * @uptr: user memory to pin (map only)
 * @length: bytes (map only)
 * @iova: where to map (map only)
 *
 * IOASID_MOCK_FLOOR_MAP for a device behind a real IOMMU (e.g. the emulated
 * VT-d), so the floor can be compared with ioasid, VFIO type1 and iommufd
 * on the same device: the same pin and one iommu_map() per physically
 * contiguous run, into a private paging domain allocated for the device
 * (as iommufd allocates one: the IOMMU driver's domain_alloc_user() when it
 * has one) and never attached, so neither the device's current attachment
 * nor its driver matters. The domain and a reference to the device are
 * kept in the /dev/ioasid_mock file until it is closed; the pinned pages
 * until IOASID_MOCK_FLOOR_UNMAP or the close. A never-attached domain has
 * no IOTLB to invalidate: the floor does not pay for IOTLB flushes.
 * Errors as IOASID_MOCK_FLOOR_MAP, and EINVAL if @name is not
 * NUL-terminated, ENODEV if no PCI device has that name (or it has no
 * IOMMU), ENOENT for IOASID_MOCK_FLOOR_UNMAP of a device never mapped.
 */
struct ioasid_mock_floor_map_dev {
	__u32 size;
	__u32 flags;
	char name[32];
	__aligned_u64 uptr;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOASID_MOCK_FLOOR_MAP_DEV \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_FLOOR_MAP_DEV)

/* Nesting */

/* The mock's stage-1 "IOTLB": entries a nested domain caches. */
#define IOASID_MOCK_NESTED_IOTLB_NUM	4
#define IOASID_MOCK_NESTED_IOTLB_MAX	0xffffff

/**
 * enum ioasid_mock_nested_format - the mock's stage-1 format
 * @IOASID_NESTED_FMT_MOCK: the enum ioasid_nested_format bit a nesting mock
 *	device reports in nesting_formats (IOASID_DEVICE_INFO), in the bits
 *	the uAPI reserves for test-only drivers
 */
enum ioasid_mock_nested_format {
	IOASID_NESTED_FMT_MOCK = 1 << 31,
};

/**
 * enum ioasid_mock_nested_data_type - the mock's stage-1 payload type
 * @IOASID_NESTED_DATA_MOCK: the enum ioasid_nested_data_type of struct
 *	ioasid_mock_nested_data (IOASID_NESTED_ALLOC), in the range the uAPI
 *	reserves for test-only drivers (iommufd's selftest value)
 */
enum ioasid_mock_nested_data_type {
	IOASID_NESTED_DATA_MOCK = 0xdead,
};

/**
 * struct ioasid_mock_nested_data - IOASID_NESTED_DATA_MOCK payload
 * @iotlb: the value every entry of the nested domain's mock IOTLB starts
 *	with; at most IOASID_MOCK_NESTED_IOTLB_MAX (EINVAL)
 * @__reserved: must be 0 (EOPNOTSUPP)
 */
struct ioasid_mock_nested_data {
	__u32 iotlb;
	__u32 __reserved;
};

/* The hw_info type of a nesting mock IOMMU (as iommufd's selftest's). */
#define IOASID_MOCK_HW_INFO_TYPE	0xfeedbeef

/* The invalidation data_type the mock takes (IOASID_INVALIDATE). */
#define IOASID_MOCK_INV_DATA	0xdeadbeef

/**
 * struct ioasid_mock_inv_entry - one IOASID_MOCK_INV_DATA invalidation
 * @flags: IOASID_MOCK_INV_ALL clears every IOTLB entry; other bits are
 *	refused with EOPNOTSUPP
 * @iotlb_id: without IOASID_MOCK_INV_ALL, the entry to clear; EINVAL when
 *	not below IOASID_MOCK_NESTED_IOTLB_NUM
 */
struct ioasid_mock_inv_entry {
	__u32 flags;
	__u32 iotlb_id;
};

#define IOASID_MOCK_INV_ALL	(1 << 0)

/**
 * struct ioasid_mock_nested_info - the nested domain a mock device's RID uses
 * @size: sizeof(struct ioasid_mock_nested_info)
 * @mock_id: the device
 * @out_nested_serial: a number naming the nested domain, 0 if the RID is not
 *	attached to one
 * @out_parent_serial: the DOMAIN_INFO serial of its parent (0 if none)
 * @out_iotlb: the nested domain's IOTLB entries
 * @out_invalidations: invalidation entries it has handled
 * @out_nested_domains: nested domains the mock holds now
 */
struct ioasid_mock_nested_info {
	__u32 size;
	__u32 mock_id;
	__aligned_u64 out_nested_serial;
	__aligned_u64 out_parent_serial;
	__u32 out_iotlb[IOASID_MOCK_NESTED_IOTLB_NUM];
	__aligned_u64 out_invalidations;
	__aligned_u64 out_nested_domains;
};

#define IOASID_MOCK_NESTED_INFO	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_NESTED_INFO)

/* Faults */

/**
 * enum ioasid_mock_fault_flags - flags of IOASID_MOCK_FAULT_INJECT
 * @IOASID_MOCK_FAULT_PASID: the request carries @pasid
 * @IOASID_MOCK_FAULT_LAST: the last request of its group (a group is
 *	delivered when its last request arrives)
 */
enum ioasid_mock_fault_flags {
	IOASID_MOCK_FAULT_PASID = 1 << 0,
	IOASID_MOCK_FAULT_LAST = 1 << 1,
};

/**
 * struct ioasid_mock_fault_inject - a page request from a mock device
 * @size: sizeof(struct ioasid_mock_fault_inject)
 * @mock_id: the device (a sub-device's requests come from its parent)
 * @flags: enum ioasid_mock_fault_flags
 * @pasid: with IOASID_MOCK_FAULT_PASID, the PASID
 * @grpid: the page-request group index
 * @perm: IOMMU_FAULT_PERM_* bits (the same as IOASID_FAULT_PERM_*)
 * @addr: the faulting address
 *
 * Calls the real iommu_report_device_fault() and returns what it returns:
 * EINVAL when no fault-delivering domain is attached to the (device,
 * PASID) - the core has then answered the request itself.
 */
struct ioasid_mock_fault_inject {
	__u32 size;
	__u32 mock_id;
	__u32 flags;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__aligned_u64 addr;
};

#define IOASID_MOCK_FAULT_INJECT _IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_FAULT_INJECT)

/**
 * struct ioasid_mock_fault_response - a page response the mock IOMMU got
 * @grpid: the group it answers
 * @pasid: its PASID (when @pasid_valid)
 * @code: enum iommu_page_response_code: 0 success, 1 invalid, 2 failure
 * @pasid_valid: the response carried a PASID
 */
struct ioasid_mock_fault_response {
	__u32 grpid;
	__u32 pasid;
	__u32 code;
	__u32 pasid_valid;
};

/* How many responses a mock device keeps until they are read. */
#define IOASID_MOCK_FAULT_RESPONSES_MAX	512

/**
 * struct ioasid_mock_fault_responses - read and forget a device's responses
 * @size: sizeof(struct ioasid_mock_fault_responses)
 * @mock_id: the device
 * @num: in: room at @uptr; out: how many were copied (oldest first)
 * @out_dropped: responses lost because more than
 *	IOASID_MOCK_FAULT_RESPONSES_MAX were waiting
 * @uptr: user pointer to struct ioasid_mock_fault_response entries
 */
struct ioasid_mock_fault_responses {
	__u32 size;
	__u32 mock_id;
	__u32 num;
	__u32 out_dropped;
	__aligned_u64 uptr;
};

#define IOASID_MOCK_FAULT_RESPONSES \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_FAULT_RESPONSES)

/* Emulated-device accesses (the ioasid_access_* kAPI) */

/**
 * enum ioasid_mock_access_flags - how a mock emulated device behaves
 * @IOASID_MOCK_ACCESS_PIN: it pins pages (ops.needs_pin_pages, with an unmap
 *	callback that unpins every pin of the range it is told about)
 * @IOASID_MOCK_ACCESS_NO_UNPIN: its unmap callback only counts the call and
 *	unpins nothing (a broken driver: UNMAP must fail with EBUSY)
 * @IOASID_MOCK_ACCESS_NO_UNMAP_OP: it pins but has no unmap callback
 *	(ioasid_access_create() must refuse it with EINVAL)
 * @IOASID_MOCK_ACCESS_REPLAY: once created, it calls ioasid_access_replay()
 *	(each current mapping counts as a map callback)
 */
enum ioasid_mock_access_flags {
	IOASID_MOCK_ACCESS_PIN = 1 << 0,
	IOASID_MOCK_ACCESS_NO_UNPIN = 1 << 1,
	IOASID_MOCK_ACCESS_NO_UNMAP_OP = 1 << 2,
	IOASID_MOCK_ACCESS_REPLAY = 1 << 3,
};

/**
 * struct ioasid_mock_access_create - ioasid_access_create() on an IOAS
 * @size: sizeof(struct ioasid_mock_access_create)
 * @flags: enum ioasid_mock_access_flags
 * @ioasid_fd: an open /dev/ioasid (get_ioasid_from_file())
 * @ioas_id: the IOAS in it
 * @out_access_id: the handle for the other ACCESS commands
 * @__reserved: must be 0
 *
 * The access lives until IOASID_MOCK_ACCESS_DESTROY or until the
 * /dev/ioasid_mock file is closed.
 */
struct ioasid_mock_access_create {
	__u32 size;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 ioas_id;
	__u32 out_access_id;
	__u32 __reserved;
};

#define IOASID_MOCK_ACCESS_CREATE \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_CREATE)

/**
 * struct ioasid_mock_access_pin - pin, unpin or copy through an access
 * @size: sizeof(struct ioasid_mock_access_pin)
 * @access_id: from IOASID_MOCK_ACCESS_CREATE
 * @flags: IOASID_MOCK_ACCESS_WRITE: the device writes
 * @__reserved: must be 0
 * @iova: first IOVA
 * @length: bytes
 * @uptr: ACCESS_PIN: 0, or a user buffer of @length bytes that is copied
 *	from the pinned pages (or into them with IOASID_MOCK_ACCESS_WRITE),
 *	so a test sees the pages are the right ones. ACCESS_RW: the buffer
 *	ioasid_access_rw() reads into or writes from (at most 1 MiB).
 *	ACCESS_UNPIN: unused.
 *
 * ACCESS_PIN calls ioasid_access_pin_pages() and records the pin;
 * ACCESS_UNPIN calls ioasid_access_unpin_pages() for a recorded pin
 * (ENOENT for none); ACCESS_RW calls ioasid_access_rw().
 */
struct ioasid_mock_access_pin {
	__u32 size;
	__u32 access_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 uptr;
};

#define IOASID_MOCK_ACCESS_WRITE	(1 << 0)

#define IOASID_MOCK_ACCESS_PIN_PAGES \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_PIN)
#define IOASID_MOCK_ACCESS_UNPIN \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_UNPIN)
#define IOASID_MOCK_ACCESS_RW \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_RW)

/**
 * struct ioasid_mock_access_info - what an access was told, and holds
 * @size: sizeof(struct ioasid_mock_access_info)
 * @access_id: the access (IOASID_MOCK_ACCESS_DESTROY takes only this)
 * @out_unmap_calls: unmap callbacks so far
 * @out_pins: pins it holds
 * @out_map_calls: map callbacks so far
 * @__reserved: must be 0
 * @out_last_unmap_iova: IOVA of the last unmap callback
 * @out_last_unmap_length: its length
 */
struct ioasid_mock_access_info {
	__u32 size;
	__u32 access_id;
	__u32 out_unmap_calls;
	__u32 out_pins;
	__u32 out_map_calls;
	__u32 __reserved;
	__aligned_u64 out_last_unmap_iova;
	__aligned_u64 out_last_unmap_length;
};

#define IOASID_MOCK_ACCESS_INFO \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_INFO)
#define IOASID_MOCK_ACCESS_DESTROY \
	_IO(IOASID_MOCK_TYPE, IOASID_MOCK_CMD_ACCESS_DESTROY)

#endif /* _IOASID_MOCK_H */
