/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioasid: user API of /dev/ioasid.
 */
#ifndef _UAPI_LINUX_IOASID_H
#define _UAPI_LINUX_IOASID_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: The ioasid user API contract
 *
 * Opening /dev/ioasid creates an IOASID context. The context owns objects
 * (I/O address spaces, devices registered by VFIO or vDPA, nested address
 * spaces, fault queues), each named by a 32-bit ID that is unique within the
 * context and never 0. Closing the file destroys every object the context
 * still holds; nothing stays pinned or charged afterwards.
 *
 * Every ioctl takes a pointer to a struct whose first member is ``__u32
 * size``, set by user space to sizeof() of the struct it was compiled with.
 * One dispatcher enforces, for every command, in this order:
 *
 * - an ioctl number this kernel does not implement fails with ENOTTY
 *   (the numbers below are stable; GET_INFO reports which are implemented);
 * - an unreadable argument fails with EFAULT;
 * - ``size`` smaller than the first version of the struct fails with EINVAL;
 * - ``size`` larger than the struct this kernel knows is accepted only when
 *   every byte beyond it is zero, which behaves exactly like the base struct;
 *   a non-zero byte there fails with E2BIG;
 * - a flag bit this kernel does not know, or a non-zero reserved field
 *   (``__reserved*``), fails with EOPNOTSUPP.
 *
 * Output fields are written back only on success, and only within ``size``.
 * Each errno has one meaning across the API:
 *
 * ======== ==============================================================
 * ENOTTY   unknown ioctl number
 * EFAULT   a user pointer could not be read or written
 * EINVAL   ``size`` too small, or a field holds a value that is never valid
 * E2BIG    non-zero bytes beyond the struct this kernel knows
 * EOPNOTSUPP unknown flag, non-zero reserved field, or a feature this
 *          kernel or this device does not support
 * ENOENT   an ID names no object of the required type in this context
 * EBUSY    the object is in use (by another object or a concurrent call)
 * ENOMEM   out of memory
 * ======== ==============================================================
 *
 * Later commands add meanings for their own inputs (documented at each
 * struct) without changing these.
 *
 * Object lifetime: an object is created fully or not at all; a half-built
 * object is never visible to another call. IOASID_DESTROY removes an object
 * that nothing else uses; once it has returned 0 the ID is free and may be
 * reused by a later allocation.
 */

#define IOASID_TYPE		0xB8
#define IOASID_CMD_BASE		0x80

/*
 * Command numbers are stable. A number listed here but not reported in
 * ioasid_get_info.out_ioctl_mask is reserved for a later version and fails
 * with ENOTTY.
 */
enum {
	IOASID_CMD_GET_INFO = IOASID_CMD_BASE,
	IOASID_CMD_DESTROY,
	IOASID_CMD_IOAS_ALLOC,
	IOASID_CMD_MAP,
	IOASID_CMD_UNMAP,
	IOASID_CMD_COPY,
	IOASID_CMD_IOVA_RANGES,
	IOASID_CMD_IOAS_OPTION,
	IOASID_CMD_DEVICE_INFO,
	IOASID_CMD_ATTACH,
	IOASID_CMD_DETACH,
	IOASID_CMD_NESTED_ALLOC,
	IOASID_CMD_INVALIDATE,
	IOASID_CMD_FAULT_QUEUE_ALLOC,
	IOASID_CMD_LAST,
};

/* The interface version reported by IOASID_GET_INFO. */
#define IOASID_API_VERSION	1

/**
 * enum ioasid_caps - capability bits of ioasid_get_info.out_caps
 * @IOASID_CAP_IOAS: I/O address spaces can be allocated and destroyed
 *
 * A bit is reported only when the feature works in the running module.
 */
enum ioasid_caps {
	IOASID_CAP_IOAS = 1 << 0,
};

/**
 * struct ioasid_get_info - ioctl(IOASID_GET_INFO)
 * @size: sizeof(struct ioasid_get_info)
 * @flags: must be 0
 * @out_version: IOASID_API_VERSION of the running module
 * @__reserved: must be 0
 * @out_caps: IOASID_CAP_* bits of features that work
 * @out_ioctl_mask: bit n is set when command IOASID_CMD_BASE + n is
 *	implemented; other numbers fail with ENOTTY
 *
 * Describes the interface. Never fails for a well-formed argument.
 */
struct ioasid_get_info {
	__u32 size;
	__u32 flags;
	__u32 out_version;
	__u32 __reserved;
	__aligned_u64 out_caps;
	__aligned_u64 out_ioctl_mask;
};

#define IOASID_GET_INFO		_IO(IOASID_TYPE, IOASID_CMD_GET_INFO)

/**
 * struct ioasid_destroy - ioctl(IOASID_DESTROY)
 * @size: sizeof(struct ioasid_destroy)
 * @id: ID of any object of this context
 *
 * Destroys the object. ENOENT if @id names no object of this context, EBUSY
 * if another object still depends on it (e.g. a device attached to an IOAS)
 * or a concurrent call is using it; the object is then left unchanged.
 */
struct ioasid_destroy {
	__u32 size;
	__u32 id;
};

#define IOASID_DESTROY		_IO(IOASID_TYPE, IOASID_CMD_DESTROY)

/**
 * struct ioasid_ioas_alloc - ioctl(IOASID_IOAS_ALLOC)
 * @size: sizeof(struct ioasid_ioas_alloc)
 * @flags: must be 0
 * @out_ioas_id: ID of the new, empty I/O address space
 * @__reserved: must be 0
 *
 * Allocates a kernel-managed I/O address space. ENOMEM when the kernel is
 * out of memory or the context already holds INT_MAX objects.
 */
struct ioasid_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
	__u32 __reserved;
};

#define IOASID_IOAS_ALLOC	_IO(IOASID_TYPE, IOASID_CMD_IOAS_ALLOC)

#endif /* _UAPI_LINUX_IOASID_H */
