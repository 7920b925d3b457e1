/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioasid_vfio: the VFIO container IOMMU backend of ioasid.
 */
#ifndef _UAPI_LINUX_IOASID_VFIO_H
#define _UAPI_LINUX_IOASID_VFIO_H

#include <linux/ioctl.h>
#include <linux/types.h>
#include <linux/vfio.h>

/**
 * DOC: VFIO on ioasid
 *
 * ioasid_vfio.ko registers a VFIO container IOMMU driver that serves two
 * container types:
 *
 * - VFIO_IOASID_IOMMU (native): after VFIO_SET_IOMMU, VFIO_IOASID_BIND
 *   binds the container to an open /dev/ioasid. Every device of the
 *   container's groups is registered with that context when it is opened
 *   (and unregistered when it is closed); user space finds it in
 *   IOASID_DEVICE_INFO by its PCI name and attaches it with IOASID_ATTACH.
 *   DMA mapping happens on /dev/ioasid, never on the container.
 *
 * - VFIO_TYPE1v2_IOMMU (compatibility): unmodified type1 users get an
 *   internal ioasid context with one IOAS behind the container:
 *   VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA
 *   (including VFIO_DMA_UNMAP_FLAG_ALL) keep type1's semantics, with
 *   ioasid's pin-once accounting underneath.
 *
 * VFIO asks container IOMMU drivers newest first: when ioasid_vfio is loaded
 * after vfio_iommu_type1 (or type1 is built in) it serves TYPE1v2
 * containers. Its module parameter type1_compat=0 (writable at run time)
 * makes it decline them, so type1 serves them instead.
 */

/* The container type of the native mode, for VFIO_SET_IOMMU. */
#define VFIO_IOASID_IOMMU	0x10a5

/**
 * struct vfio_ioasid_bind - ioctl(VFIO_IOASID_BIND) on a container
 * @argsz: sizeof(struct vfio_ioasid_bind)
 * @flags: must be 0
 * @ioasid_fd: an open /dev/ioasid
 * @__reserved: must be 0
 *
 * Binds a VFIO_IOASID_IOMMU container to the context of @ioasid_fd, once.
 * Devices opened before the bind are registered by it. EBADF if @ioasid_fd
 * is not /dev/ioasid, EBUSY if the container is bound already.
 */
struct vfio_ioasid_bind {
	__u32 argsz;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 __reserved;
};

#define VFIO_IOASID_BIND	_IO(VFIO_TYPE, VFIO_BASE + 27)

#endif /* _UAPI_LINUX_IOASID_VFIO_H */
