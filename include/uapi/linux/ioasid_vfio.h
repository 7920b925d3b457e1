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
 *   ioasid's pin-once accounting underneath. Emulated-IOMMU (mdev-style)
 *   devices in such a container read the same IOAS through vfio_pin_pages()
 *   and vfio_dma_rw().
 *
 * VFIO asks container IOMMU drivers newest first: when ioasid_vfio is loaded
 * after vfio_iommu_type1 (or type1 is built in) it serves TYPE1v2
 * containers. Its module parameter type1_compat=0 (writable at run time)
 * makes it decline them, so type1 serves them instead.
 */

/* The container type of the native mode, for VFIO_SET_IOMMU. */
#define VFIO_IOASID_IOMMU	0x10a5

/**
 * enum vfio_ioasid_bind_flags - flags of struct vfio_ioasid_bind
 * @VFIO_IOASID_BIND_EMULATED_IOAS: @ioas_id names the IOAS that the
 *	container's emulated-IOMMU (mdev-style) devices read and write
 *	(vfio_pin_pages(), vfio_dma_rw()); without it they have no DMA
 */
enum vfio_ioasid_bind_flags {
	VFIO_IOASID_BIND_EMULATED_IOAS = 1 << 0,
};

/**
 * struct vfio_ioasid_bind - ioctl(VFIO_IOASID_BIND) on a container
 * @argsz: sizeof(struct vfio_ioasid_bind), 16; as for VFIO's own ioctls the
 *	kernel reads the 16 bytes it knows, and a larger @argsz is accepted
 * @flags: enum vfio_ioasid_bind_flags
 * @ioasid_fd: an open /dev/ioasid
 * @ioas_id: with VFIO_IOASID_BIND_EMULATED_IOAS an IOAS of that context,
 *	else 0
 *
 * Binds a VFIO_IOASID_IOMMU container to the context of @ioasid_fd, once.
 * Devices opened before the bind are registered by it. Devices of
 * emulated-IOMMU groups are not registered (they have no IOMMU and do not
 * appear in IOASID_DEVICE_INFO): they read the IOAS @ioas_id through an
 * emulated-device access; when user space unmaps a range they pinned, their
 * driver is told (dma_unmap) and must unpin before IOASID_UNMAP returns, or
 * IOASID_UNMAP fails with EBUSY. Without VFIO_IOASID_BIND_EMULATED_IOAS such
 * devices have no DMA (vfio_pin_pages() fails with EINVAL). A device that
 * cannot be registered when it is opened after the bind stays open, blocked
 * and absent from IOASID_DEVICE_INFO (the kernel log says why). The
 * container keeps its own reference on the context: closing @ioasid_fd does
 * not unbind it; it stays bound until it is released.
 *
 * Errors:
 *
 * - EINVAL: the container has no IOMMU driver yet (VFIO's answer before
 *   VFIO_SET_IOMMU); @argsz below 16; an unknown flag; @ioas_id 0 with
 *   VFIO_IOASID_BIND_EMULATED_IOAS or non-zero without it
 * - ENOENT: an emulated-IOMMU device was open and @ioas_id names no IOAS of
 *   the context (nothing is bound)
 * - ENOTTY: not a VFIO_IOASID_IOMMU container (a TYPE1v2 one, whoever
 *   serves it)
 * - EFAULT: the argument cannot be read
 * - EBADF: @ioasid_fd is not an open file descriptor of /dev/ioasid
 * - EBUSY: the container is bound already
 * - the error of registering a device opened before the bind: EPERM (no
 *   interrupt isolation, see ioasid's allow_unsafe_interrupts), EINVAL (its
 *   IOMMU cannot enforce cache coherency), ENOMEM; nothing is bound or
 *   registered then
 */
struct vfio_ioasid_bind {
	__u32 argsz;
	__u32 flags;
	__s32 ioasid_fd;
	__u32 ioas_id;
};

#define VFIO_IOASID_BIND	_IO(VFIO_TYPE, VFIO_BASE + 27)

#endif /* _UAPI_LINUX_IOASID_VFIO_H */
