/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/**
 * DOC: vhost-vdpa on an IOAS
 *
 * ioasid_vdpa: binding a vhost-vdpa device to an /dev/ioasid I/O address
 * space. The ioctl is issued on an open /dev/vhost-vdpa-N fd.
 *
 * Number choice: the command uses the ioasid ioctl type (IOASID_TYPE, 0xB8)
 * with nr 0xF0, at the top of the range /dev/ioasid itself never uses (its
 * commands grow upward from IOASID_CMD_BASE, 0x80). Upstream vhost owns the
 * VHOST_VIRTIO type (0xAF) and allocates new numbers there, so any number of
 * ours in 0xAF could collide with a future vhost ioctl; a number in the
 * ioasid type cannot, and vhost_dev_ioctl() answers it -ENOIOCTLCMD on a
 * vhost-vdpa that does not know it (user space sees ENOTTY).
 */
#ifndef _UAPI_LINUX_IOASID_VDPA_H
#define _UAPI_LINUX_IOASID_VDPA_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define VHOST_VDPA_IOASID_TYPE	0xB8	/* IOASID_TYPE */
#define VHOST_VDPA_IOASID_NR	0xF0

/**
 * struct vhost_vdpa_ioasid_bind - VHOST_VDPA_IOASID_BIND
 * @argsz: sizeof(struct vhost_vdpa_ioasid_bind)
 * @flags: must be 0
 * @ioasid_fd: an open /dev/ioasid file descriptor
 * @asid: the vDPA address-space ID to bind (0 when the parent has one)
 * @ioas_id: the IOAS of @ioasid_fd that address space translates through
 * @out_dev_id: the dev_id the context gave the device (platform-IOMMU
 *	parents; 0 for parents with their own translation)
 *
 * Binds vDPA address space @asid of the vhost-vdpa device to IOAS @ioas_id.
 * The device must be owned (VHOST_SET_OWNER), reset (status 0) and have no
 * IOTLB mappings in @asid. From then on the IOAS alone decides what the
 * device can reach: mapping and unmapping is done with IOASID_MAP /
 * IOASID_UNMAP / IOASID_COPY on @ioasid_fd, and VHOST_IOTLB_MSG(_V2)
 * messages are refused (vhost-vdpa's handler fails them with -EPERM; the
 * vhost core reports every failed IOTLB message to write() as EFAULT, so
 * that is the errno user space sees). The binding ends when the
 * vhost-vdpa fd is closed, after the device is reset.
 *
 * Platform-IOMMU parents (vp_vdpa and other parents without set_map or
 * dma_map): the DMA device is registered with the context
 * (register_device_to_pasid, the context allocating the domain) and
 * attached to @ioas_id; vhost-vdpa's own domain is released. Only @asid 0
 * exists for them.
 *
 * Parents with their own translation (set_map/dma_map, e.g. vdpa_sim) get
 * the IOAS mirrored into it through an emulated-device access
 * (ioasid_access_create()): what is mapped at bind time is replayed, later
 * MAP/COPY are pushed as they happen, and an UNMAP takes the range back
 * from the parent (and unpins it) before it returns. The pages are pinned
 * and charged once, by the IOAS. There is no IOMMU device to register:
 * @out_dev_id is 0. Each address space binds once, on its own (the legacy
 * IOTLB stays usable for unbound ones), and all of a device's bound
 * address spaces belong to one context (another: EINVAL). A device reset
 * while bound keeps the translation. Parents translating by virtual
 * address (use_va, VDUSE) are refused with EOPNOTSUPP.
 *
 * Errors:
 *
 * - EFAULT: the struct could not be read or written
 * - EINVAL: @argsz too small, @asid beyond the parent's address spaces, a
 *   bound address space, or @ioasid_fd another context than the device's
 *   other bound address spaces'
 * - EOPNOTSUPP: @flags or bytes past the known struct not zero; a parent
 *   translating by virtual address
 * - EBADF: @ioasid_fd is not /dev/ioasid
 * - EBUSY: the device is not reset, or @asid already has IOTLB mappings
 * - EPERM: not the owner (VHOST_SET_OWNER first)
 * - ENOENT: @ioas_id is not an IOAS of @ioasid_fd
 * - others: those of IOASID_ATTACH for the device
 */
struct vhost_vdpa_ioasid_bind {
	__u32 argsz;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 asid;
	__u32 ioas_id;
	__u32 out_dev_id;
};

#define VHOST_VDPA_IOASID_BIND	_IO(VHOST_VDPA_IOASID_TYPE, VHOST_VDPA_IOASID_NR)

#endif /* _UAPI_LINUX_IOASID_VDPA_H */
