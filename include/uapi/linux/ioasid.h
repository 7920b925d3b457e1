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
 *   (the numbers below are stable; GET_INFO reports which are implemented).
 *   A request is exactly _IO(IOASID_TYPE, nr): a reserved number, another
 *   ioctl type or the same number encoded with a direction or size
 *   (_IOR/_IOW/_IOWR) fails with ENOTTY too;
 * - an unreadable argument fails with EFAULT;
 * - ``size`` smaller than the first version of the struct fails with EINVAL;
 * - ``size`` larger than the struct this kernel knows is accepted only when
 *   every byte beyond it (up to ``size``) is zero, which behaves exactly like
 *   the base struct; a non-zero byte there fails with E2BIG. Bytes beyond
 *   ``size`` are never looked at, and a ``size`` between the first version
 *   and the kernel's struct is zero-extended;
 * - a flag bit this kernel does not know, or a non-zero reserved field
 *   (``__reserved*``), fails with EOPNOTSUPP.
 *
 * Only then does the command itself run and add the errors of its own
 * inputs. Output fields are written back only on success, and only within
 * ``size``: the kernel copies min(``size``, its struct) bytes back, so a
 * larger user struct never has its tail written and an older, smaller one is
 * never overrun. Two exceptions: IOASID_IOVA_RANGES and IOASID_DEVICE_INFO
 * failing with EMSGSIZE write the struct back (with the count needed); and
 * the write-back itself can fail, with EFAULT (a struct that runs into memory
 * user space cannot write) - a command that would have created something
 * then creates nothing: IOAS_ALLOC, NESTED_ALLOC and FAULT_QUEUE_ALLOC free
 * the new object, install no file descriptor and leave the struct as it was
 * (no output ID is left behind); MAP and COPY remove the new mapping, after
 * a prefix of the struct may have been stored; UNMAP cannot undo its work.
 * Each errno has one meaning across the API:
 *
 * ============ ==========================================================
 * ENOTTY       unknown ioctl number
 * EFAULT       a user pointer could not be read or written (for
 *              IOASID_MAP: the memory to pin is not there, or not writable
 *              for a writable mapping)
 * EINVAL       ``size`` too small, or a field holds a value that is never
 *              valid
 * E2BIG        non-zero bytes beyond the struct this kernel knows
 * EOPNOTSUPP   unknown flag, non-zero reserved field, or a feature this
 *              kernel or this device does not support
 * ENOENT       an ID names no object of the required type in this context
 *              (UNMAP and COPY: also an IOVA range that holds no mapping)
 * EBUSY        the object is in use (by another object or a concurrent call)
 * ENOMEM       out of memory, or pinning would exceed RLIMIT_MEMLOCK
 * EEXIST       the IOVA range overlaps an existing mapping
 * EADDRINUSE   the IOVA range overlaps a reserved region of an attached
 *              device (an MSI window, a firmware region)
 * ERANGE       the IOVA range lies outside what every attached device can
 *              translate (its aperture or page-size alignment)
 * ENOSPC       no free IOVA range of the requested length and alignment
 * EMSGSIZE     a user array is too small; the needed count is written back
 * EPERM        asks for more access than the memory was pinned with
 * ============ ==========================================================
 *
 * Later commands add meanings for their own inputs (documented at each
 * struct) without changing these. Errors of the IOMMU driver while mapping
 * into a domain are passed through unchanged.
 *
 * Object lifetime: an object is created fully or not at all; a half-built
 * object is never visible to another call. IOASID_DESTROY removes an object
 * that nothing else uses; once it has returned 0 the ID is free and may be
 * reused by a later allocation.
 */

#define IOASID_TYPE		0xB8
#define IOASID_CMD_BASE		0x80

/*
 * Command numbers are stable, each written out: a number is never reused or
 * renumbered. A number listed here but not reported in
 * ioasid_get_info.out_ioctl_mask is reserved for a later version and fails
 * with ENOTTY; so does every number not listed (the highest implemented one
 * is the highest bit of out_ioctl_mask).
 */
enum {
	IOASID_CMD_GET_INFO = 0x80,
	IOASID_CMD_DESTROY = 0x81,
	IOASID_CMD_IOAS_ALLOC = 0x82,
	IOASID_CMD_MAP = 0x83,
	IOASID_CMD_UNMAP = 0x84,
	IOASID_CMD_COPY = 0x85,
	IOASID_CMD_IOVA_RANGES = 0x86,
	IOASID_CMD_IOAS_OPTION = 0x87,
	IOASID_CMD_DEVICE_INFO = 0x88,
	IOASID_CMD_ATTACH = 0x89,
	IOASID_CMD_DETACH = 0x8a,
	IOASID_CMD_NESTED_ALLOC = 0x8b,
	IOASID_CMD_INVALIDATE = 0x8c,
	IOASID_CMD_FAULT_QUEUE_ALLOC = 0x8d,
};

/* The interface version reported by IOASID_GET_INFO. */
#define IOASID_API_VERSION	1

/**
 * enum ioasid_caps - capability bits of ioasid_get_info.out_caps
 * @IOASID_CAP_IOAS: I/O address spaces: IOAS_ALLOC, MAP, UNMAP, COPY,
 *	IOVA_RANGES and IOAS_OPTION
 * @IOASID_CAP_DEVICE: devices registered by kernel subsystems: DEVICE_INFO,
 *	ATTACH (with hitless replace) and DETACH, for the RID and PASIDs
 * @IOASID_CAP_NESTING: user-owned stage-1 tables on a nesting parent:
 *	NESTED_ALLOC and INVALIDATE
 * @IOASID_CAP_FAULT: fault queues: FAULT_QUEUE_ALLOC and fault_id on
 *	nested objects and I/O address spaces
 * @IOASID_CAP_SW_NESTING: software nesting: an IOAS whose translations are
 *	composed with a parent IOAS by the kernel
 *
 * A bit is reported only when the feature works in the running module.
 */
enum ioasid_caps {
	IOASID_CAP_IOAS = 1 << 0,
	IOASID_CAP_DEVICE = 1 << 1,
	IOASID_CAP_NESTING = 1 << 2,
	IOASID_CAP_FAULT = 1 << 3,
	IOASID_CAP_SW_NESTING = 1 << 4,
};

/**
 * struct ioasid_get_info - ioctl(IOASID_GET_INFO)
 * @size: sizeof(struct ioasid_get_info); 32 in the first version, below which the
 *	call fails with EINVAL
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
 * @size: sizeof(struct ioasid_destroy); 8 in the first version, below which the
 *	call fails with EINVAL
 * @id: ID of any object of this context
 *
 * Destroys the object. Nothing is written back. Destroying an IOAS unmaps
 * everything it still maps, releasing pins and charges as IOASID_UNMAP does.
 * ENOENT if @id names no published object of this context (0, or an object
 * still being created, included); EBUSY if another object still depends on
 * it (e.g. a device attached to an IOAS), if @id is a device's (devices go
 * when their subsystem unregisters them), or if a concurrent call is using
 * it; the object is then left unchanged. A read of the debugfs view never
 * makes it fail (a DESTROY waits for a read that is printing the object).
 */
struct ioasid_destroy {
	__u32 size;
	__u32 id;
};

#define IOASID_DESTROY		_IO(IOASID_TYPE, IOASID_CMD_DESTROY)

/**
 * enum ioasid_ioas_alloc_flags - flags of IOASID_IOAS_ALLOC
 * @IOASID_IOAS_ALLOC_SW_NESTED: a software-nested child of @parent_id: its
 *	IOVAs (guest IOVAs) map to IOVAs of the parent (guest physical
 *	addresses) and the kernel composes both (IOASID_CAP_SW_NESTING). The
 *	child is mapped only with IOASID_COPY from the parent (MAP, COPY from
 *	elsewhere and COPY out of it: EINVAL); a parent UNMAP removes every
 *	child mapping that depended on the range before it returns; a child
 *	cannot be a parent (EINVAL); the parent cannot be destroyed while it
 *	has children (EBUSY)
 * @IOASID_IOAS_ALLOC_FAULT: I/O page faults of devices attached to this
 *	IOAS are delivered to fault queue @fault_id (IOASID_CAP_FAULT)
 */
enum ioasid_ioas_alloc_flags {
	IOASID_IOAS_ALLOC_SW_NESTED = 1 << 0,
	IOASID_IOAS_ALLOC_FAULT = 1 << 1,
};

/**
 * struct ioasid_ioas_alloc - ioctl(IOASID_IOAS_ALLOC)
 * @size: sizeof(struct ioasid_ioas_alloc); 16 in the first version, below which the
 *	call fails with EINVAL
 * @flags: enum ioasid_ioas_alloc_flags
 * @out_ioas_id: ID of the new, empty I/O address space
 * @parent_id: with IOASID_IOAS_ALLOC_SW_NESTED the parent IOAS, else 0
 * @fault_id: with IOASID_IOAS_ALLOC_FAULT the fault queue, else 0
 * @__reserved: must be 0
 *
 * Allocates a kernel-managed I/O address space. It is empty: no mappings and
 * no domains, so every IOVA from 0 to 2^64 - 1 is usable at PAGE_SIZE
 * alignment, and huge IOPTEs are allowed. ENOMEM when the kernel is
 * out of memory or the context already holds INT_MAX objects; EOPNOTSUPP
 * for an unknown flag, or @parent_id / @fault_id without their flag;
 * ENOENT when @parent_id names no IOAS or @fault_id no fault queue.
 */
struct ioasid_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
	__u32 parent_id;
	__u32 fault_id;
	__u32 __reserved;
};

#define IOASID_IOAS_ALLOC	_IO(IOASID_TYPE, IOASID_CMD_IOAS_ALLOC)

/**
 * DOC: I/O address spaces and memory accounting
 *
 * An IOAS maps IOVA ranges to user memory. IOASID_MAP pins the user pages
 * (FOLL_LONGTERM) once, when the mapping is made, and charges them once to
 * the mapping process's locked_vm (VmLck in /proc/PID/status) against
 * RLIMIT_MEMLOCK; CAP_IPC_LOCK lifts the limit but not the charge, as with
 * mlock() and VFIO. Everything that later uses those pages - every
 * iommu_domain the IOAS feeds, every IOAS they are copied into with
 * IOASID_COPY - shares the one pin and the one charge. The pin and charge
 * end when the last mapping that uses the pages is unmapped, its IOAS
 * destroyed or the context closed; the charge goes back to the process that
 * mapped, even when another process closes the file.
 *
 * Every IOVA and length is a multiple of the IOAS's IOVA alignment:
 * PAGE_SIZE, or the smallest page size of a domain the IOAS feeds when that
 * is larger (see IOASID_IOVA_RANGES); user addresses are PAGE_SIZE aligned.
 * Unmapping works on whole mappings: a range that cuts through one is
 * refused.
 */

/**
 * enum ioasid_map_flags - flags of IOASID_MAP and IOASID_COPY
 * @IOASID_MAP_FIXED_IOVA: map at the IOVA given; otherwise the kernel picks
 *	a free IOVA (aligned for the largest IOPTEs the memory allows) and
 *	writes it back
 * @IOASID_MAP_READ: devices may read the memory
 * @IOASID_MAP_WRITE: devices may write the memory
 */
enum ioasid_map_flags {
	IOASID_MAP_FIXED_IOVA = 1 << 0,
	IOASID_MAP_READ = 1 << 1,
	IOASID_MAP_WRITE = 1 << 2,
};

/**
 * struct ioasid_map - ioctl(IOASID_MAP)
 * @size: sizeof(struct ioasid_map); 40 in the first version, below which the
 *	call fails with EINVAL
 * @flags: enum ioasid_map_flags; READ, WRITE or both
 * @ioas_id: the IOAS
 * @__reserved: must be 0
 * @user_va: start of the user memory
 * @length: bytes, non-zero
 * @iova: with IOASID_MAP_FIXED_IOVA the IOVA to map at; on return the IOVA
 *	the memory is mapped at
 *
 * Pins the memory and maps it into every domain the IOAS feeds. Pinning
 * comes before the IOVA checks, so a call wrong on both counts reports the
 * pinning error. On error nothing is mapped, pinned or charged. Errors, in
 * the order they are checked:
 *
 * - EOPNOTSUPP: an unknown flag bit, or @__reserved non-zero;
 * - EINVAL: neither READ nor WRITE; @length 0 or not a multiple of
 *   PAGE_SIZE; @user_va, or @iova with IOASID_MAP_FIXED_IOVA, not PAGE_SIZE
 *   aligned, or the range wrapping;
 * - ENOENT: @ioas_id names no IOAS of this context;
 * - ENOMEM: the charge would exceed RLIMIT_MEMLOCK (without CAP_IPC_LOCK),
 *   @length is more than the machine's RAM (with CAP_IPC_LOCK too), or out
 *   of memory; the first two are checked before anything is allocated;
 * - EFAULT: a page of the range is not mapped in the process, or not
 *   writable while IOASID_MAP_WRITE was asked for (other errors of
 *   pin_user_pages_fast() are passed through);
 * - ERANGE: @iova (with IOASID_MAP_FIXED_IOVA) or @length not a multiple of
 *   the IOAS alignment, or the range leaves the aperture;
 * - EADDRINUSE, EEXIST (with IOASID_MAP_FIXED_IOVA): the range overlaps a
 *   reserved region of an attached device, or an existing mapping;
 * - ENOSPC (without it): no free range of that length;
 * - EINVAL: a domain of the IOAS has a smallest page larger than PAGE_SIZE
 *   (IOASID_IOVA_RANGES' alignment) and the memory is not physically
 *   contiguous and aligned in such pages - 4 KiB pages under an IOMMU whose
 *   smallest page is 16 KiB, say; back such mappings with huge pages. The
 *   memory is checked before anything is written into a domain;
 * - ENOMEM or another IOMMU driver error: writing the mapping into a domain
 *   failed;
 * - EFAULT: @iova could not be written back; the mapping is removed again.
 */
struct ioasid_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};

#define IOASID_MAP		_IO(IOASID_TYPE, IOASID_CMD_MAP)

/**
 * enum ioasid_unmap_flags - flags of IOASID_UNMAP
 * @IOASID_UNMAP_ALL: unmap everything; @iova and @length must be 0
 */
enum ioasid_unmap_flags {
	IOASID_UNMAP_ALL = 1 << 0,
};

/**
 * struct ioasid_unmap - ioctl(IOASID_UNMAP)
 * @size: sizeof(struct ioasid_unmap); 32 in the first version, below which the
 *	call fails with EINVAL
 * @flags: enum ioasid_unmap_flags
 * @ioas_id: the IOAS
 * @__reserved: must be 0
 * @iova: start of the range
 * @length: length of the range; on return the bytes unmapped
 *
 * Removes every mapping inside [@iova, @iova + @length) from the IOAS and
 * from every domain it feeds, and releases pages nothing else uses. Holes in
 * the range are fine, so one call can remove many mappings; a mapping made
 * by IOASID_COPY from several source mappings is one mapping per source
 * mapping, each of which can be unmapped on its own. There is no check
 * against the IOAS alignment: whole mappings are always aligned. EINVAL
 * also for @length 0, @iova or @length not PAGE_SIZE aligned, a wrapping
 * range, or IOASID_UNMAP_ALL with @iova or @length non-zero. Every
 * mapping the range touches must lie wholly inside it: a range that would
 * split a mapping fails with EINVAL and unmaps nothing. ENOENT when the
 * range holds no mapping. Emulated devices (mdev-style VFIO devices, vDPA
 * parents with their own translation) that hold pages of the range are
 * told first and must let go before the call returns; one that does not
 * within the ioasid module parameter access_unmap_timeout_ms makes the
 * call fail with EBUSY and unmap nothing. (If @length cannot be written
 * back the call fails with EFAULT after having unmapped.)
 */
struct ioasid_unmap {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
};

#define IOASID_UNMAP		_IO(IOASID_TYPE, IOASID_CMD_UNMAP)

/**
 * struct ioasid_copy - ioctl(IOASID_COPY)
 * @size: sizeof(struct ioasid_copy); 40 in the first version, below which the
 *	call fails with EINVAL
 * @flags: enum ioasid_map_flags, for the new mapping
 * @dst_ioas_id: the IOAS to map into
 * @src_ioas_id: the IOAS the memory is mapped in now (may be @dst_ioas_id)
 * @length: bytes
 * @dst_iova: as ioasid_map.iova
 * @src_iova: start of the source range; [@src_iova, @src_iova + @length)
 *	must be mapped without holes (it may span several mappings)
 *
 * Maps the memory behind a source range into the destination IOAS, sharing
 * the pages already pinned and charged: nothing is pinned or charged again.
 * The new mappings, one per source mapping the range touches, back to back,
 * keep working (and the memory stays pinned and charged to whoever mapped
 * it) when the source is unmapped. Without IOASID_MAP_FIXED_IOVA the
 * preferred alignment of @dst_iova comes from @src_iova. The source and the
 * destination are locked one after the other, never together: a concurrent
 * UNMAP of the source happens either before (ENOENT) or without effect on
 * the copy.
 * ENOENT if the source range has a hole; EPERM if @flags asks for WRITE on
 * memory that was not mapped writable; otherwise the errors of IOASID_MAP.
 */
struct ioasid_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};

#define IOASID_COPY		_IO(IOASID_TYPE, IOASID_CMD_COPY)

/**
 * struct ioasid_iova_range - an inclusive IOVA range
 * @start: first IOVA
 * @last: last IOVA
 */
struct ioasid_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct ioasid_iova_ranges - ioctl(IOASID_IOVA_RANGES)
 * @size: sizeof(struct ioasid_iova_ranges); 32 in the first version, below which the
 *	call fails with EINVAL
 * @ioas_id: the IOAS
 * @num_ranges: in: how many struct ioasid_iova_range @ranges has room for;
 *	out: how many there are
 * @__reserved: must be 0
 * @ranges: user pointer to an array of struct ioasid_iova_range
 * @out_iova_alignment: the alignment every IOVA and length must have
 *
 * The IOVA ranges MAP may use: the intersection of the apertures of all
 * domains the IOAS feeds, minus the reserved regions of attached devices, in
 * ascending order. The answer changes whenever a device attaches or
 * detaches; the ranges are not rounded to the alignment. An IOAS that feeds
 * no domain reports one range, [0, 2^64 - 1], and PAGE_SIZE. @num_ranges 0
 * (and @ranges 0) asks for the count. When @num_ranges is too small the call
 * fails with EMSGSIZE, writes nothing to the array and, like
 * IOASID_DEVICE_INFO, writes the struct back with the needed @num_ranges
 * (and @out_iova_alignment): allocate and call again, in a loop. Errors:
 * EOPNOTSUPP (@__reserved), ENOENT (@ioas_id), ENOMEM, EMSGSIZE, EFAULT (the
 * array or the struct could not be written).
 */
struct ioasid_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_ranges;
	__u32 __reserved;
	__aligned_u64 ranges;
	__aligned_u64 out_iova_alignment;
};

#define IOASID_IOVA_RANGES	_IO(IOASID_TYPE, IOASID_CMD_IOVA_RANGES)

/**
 * enum ioasid_option - options of IOASID_IOAS_OPTION
 * @IOASID_OPTION_HUGE_PAGES: 1 (the default) lets domains use IOPTEs larger
 *	than PAGE_SIZE where memory is physically contiguous; 0 maps every
 *	page with its own IOPTE. Can be changed only while the IOAS is empty
 *	(EBUSY otherwise) and no device is attached.
 */
enum ioasid_option {
	IOASID_OPTION_HUGE_PAGES = 1,
};

/**
 * enum ioasid_option_op - operations of IOASID_IOAS_OPTION
 * @IOASID_OPTION_OP_SET: set the option to @val
 * @IOASID_OPTION_OP_GET: write the option's value to @val
 */
enum ioasid_option_op {
	IOASID_OPTION_OP_SET = 0,
	IOASID_OPTION_OP_GET = 1,
};

/**
 * struct ioasid_ioas_option - ioctl(IOASID_IOAS_OPTION)
 * @size: sizeof(struct ioasid_ioas_option); 24 in the first version, below which the
 *	call fails with EINVAL
 * @op: enum ioasid_option_op
 * @option: enum ioasid_option
 * @ioas_id: the IOAS
 * @val: the value
 *
 * The struct is written back on success, for both operations. EOPNOTSUPP
 * for an unknown @op or @option, EINVAL for a value the option does not
 * take, ENOENT (@ioas_id), EBUSY (SET while the IOAS has mappings or
 * attached devices).
 */
struct ioasid_ioas_option {
	__u32 size;
	__u32 op;
	__u32 option;
	__u32 ioas_id;
	__aligned_u64 val;
};

#define IOASID_IOAS_OPTION	_IO(IOASID_TYPE, IOASID_CMD_IOAS_OPTION)

/**
 * DOC: Devices
 *
 * User space never creates devices. A kernel subsystem that owns a device
 * (VFIO, vDPA) registers it with the context whose /dev/ioasid fd user space
 * handed to that subsystem; the device then appears in IOASID_DEVICE_INFO
 * with a dev_id. A device registered for its whole function may be attached
 * by its RID (IOASID_PASID_NONE) and by PASIDs below its PASID width; a
 * sub-device registered for one PASID of its parent only by that PASID.
 * Several sub-devices of one parent attaching the same PASID to the same
 * IOAS share the attachment, which lasts until the last of them detaches;
 * any other second attachment of a (device, PASID) that is already attached
 * through another registration fails with EBUSY. A device a subsystem
 * unregisters disappears from the context; DESTROY of a dev_id is EBUSY.
 */

/* The RID: requests without a PASID. */
#define IOASID_PASID_NONE	0xffffffffU

/**
 * enum ioasid_device_flags - what a device's IOMMU offers
 * @IOASID_DEVICE_PASID: PASIDs can be attached (see max_pasid_bits)
 * @IOASID_DEVICE_SUBDEV: the registration is a sub-device bound to one PASID
 *	of its parent
 * @IOASID_DEVICE_NESTING: its IOMMU can hold user-owned stage-1 tables on a
 *	kernel-owned nesting parent (IOASID_NESTED_ALLOC); nesting_formats
 *	says which table formats
 */
enum ioasid_device_flags {
	IOASID_DEVICE_PASID = 1 << 0,
	IOASID_DEVICE_SUBDEV = 1 << 1,
	IOASID_DEVICE_NESTING = 1 << 2,
};

/**
 * enum ioasid_nested_format - stage-1 formats in ioasid_device_entry
 * @IOASID_NESTED_FMT_VTD_S1: Intel VT-d first-stage tables
 *	(IOASID_NESTED_DATA_VTD_S1)
 *
 * Bits 24 to 31 are reserved for test-only IOMMU drivers, which define
 * their formats in their own headers.
 */
enum ioasid_nested_format {
	IOASID_NESTED_FMT_VTD_S1 = 1 << 0,
};

/**
 * struct ioasid_device_entry - one registered device
 * @dev_id: the ID to attach it by
 * @pasid: IOASID_PASID_NONE for a whole device, else the sub-device's PASID
 * @flags: enum ioasid_device_flags
 * @max_pasid_bits: width of the PASIDs it may use (0: none)
 * @pgsize_bitmap: page sizes a paging domain of its IOMMU supports, probed
 *	at registration: what an IOAS allows once the device is attached (0
 *	when no paging domain could be allocated, as the aperture then)
 * @aperture_start: first IOVA that IOMMU translates
 * @aperture_last: last IOVA that IOMMU translates
 * @attached_pt_id: what its RID (or its PASID, for a sub-device) is
 *	attached to, 0 if nothing; the PASIDs of a whole device are not
 *	reported
 * @nesting_formats: with IOASID_DEVICE_NESTING, enum ioasid_nested_format
 *	bits of the stage-1 formats its IOMMU takes; else 0
 * @subsystem: who registered it ("vfio", "vdpa", "mock"), NUL-terminated
 * @name: its device name in sysfs (e.g. a PCI address), NUL-terminated
 * @iommu: the name of its IOMMU instance in /sys/class/iommu (e.g.
 *	"dmar0"), or empty; the strings are NUL-terminated and truncated to fit
 *
 * Every field added later treats 0 as "absent".
 */
struct ioasid_device_entry {
	__u32 dev_id;
	__u32 pasid;
	__u32 flags;
	__u32 max_pasid_bits;
	__aligned_u64 pgsize_bitmap;
	__aligned_u64 aperture_start;
	__aligned_u64 aperture_last;
	__u32 attached_pt_id;
	__u32 nesting_formats;
	char subsystem[16];
	char name[64];
	char iommu[32];
};

/* The largest entry_size IOASID_DEVICE_INFO takes. */
#define IOASID_DEVICE_ENTRY_SIZE_MAX	4096

/**
 * struct ioasid_device_info - ioctl(IOASID_DEVICE_INFO)
 * @size: sizeof(struct ioasid_device_info); 24 in the first version, below which the
 *	call fails with EINVAL
 * @entry_size: sizeof(struct ioasid_device_entry) as user space knows it,
 *	4 to IOASID_DEVICE_ENTRY_SIZE_MAX; the kernel writes min(@entry_size,
 *	its own) bytes of each entry
 * @num_devices: in: room in @devices; out: how many devices there are
 * @__reserved: must be 0
 * @devices: user pointer to an array of struct ioasid_device_entry
 *
 * Lists the devices of the context in dev_id order, entries @entry_size
 * bytes apart: the kernel writes min(@entry_size, its own entry size) bytes
 * of each and nothing else, so an older, shorter struct gets the fields it
 * knows, and a newer, longer one keeps in its tail what user space put
 * there (zero the array first to read unknown fields as "absent"), as with
 * the size rule of every struct. Every device is listed in one call, however
 * many there are, when @num_devices has room for them. EMSGSIZE when the
 * array is too small: nothing is written to it and the struct is written
 * back with the needed @num_devices (devices can come and go: call again in
 * a loop; a call with that much room succeeds unless more devices came).
 * EINVAL for an @entry_size below 4 (not even @dev_id) or above
 * IOASID_DEVICE_ENTRY_SIZE_MAX (no entry will ever be that large). ENOMEM
 * when the kernel cannot hold the list. EFAULT when the array or the struct
 * could not be written (some entries may have been).
 */
struct ioasid_device_info {
	__u32 size;
	__u32 entry_size;
	__u32 num_devices;
	__u32 __reserved;
	__aligned_u64 devices;
};

#define IOASID_DEVICE_INFO	_IO(IOASID_TYPE, IOASID_CMD_DEVICE_INFO)

/**
 * struct ioasid_attach - ioctl(IOASID_ATTACH) and ioctl(IOASID_DETACH)
 * @size: sizeof(struct ioasid_attach); 24 in the first version, below which the
 *	call fails with EINVAL
 * @flags: must be 0
 * @dev_id: the device
 * @pasid: IOASID_PASID_NONE for the RID, or a PASID
 * @pt_id: ATTACH: the IOAS or nested object to translate through; DETACH:
 *	must be 0
 * @__reserved: must be 0
 *
 * Nothing is written back. ATTACH of a (device, PASID) attached to @pt_id
 * already succeeds and changes nothing; ATTACH of one attached elsewhere
 * replaces its translation; for the RID the device never passes through "no translation"
 * (the IOMMU switches tables atomically), for a PASID it may briefly be
 * blocked. DETACH leaves it blocked from DMA. Errors: ENOENT (@dev_id,
 * @pt_id), EINVAL (a PASID beyond the device's width, or the wrong PASID
 * for a sub-device), EOPNOTSUPP (the device has no PASID support), EBUSY
 * (attached through another registration), EADDRINUSE and ERANGE (the
 * device's reserved regions or limits conflict with the IOAS's mappings),
 * EINVAL (the device needs a new domain whose smallest page the memory of
 * the IOAS's mappings is not physically contiguous in, as for IOASID_MAP),
 * ENOENT on DETACH of something not attached. A nested object accepts only
 * devices behind the IOMMU it was allocated for (the IOMMU driver's EINVAL
 * otherwise); whether PASIDs may attach to it is the driver's choice
 * (EOPNOTSUPP when not). While anything is attached to it, an IOAS or a
 * nested object cannot be destroyed (EBUSY). A failed ATTACH changes
 * nothing: a device being replaced still translates through its old
 * target. DETACH checks, in order: EOPNOTSUPP (@flags, @__reserved), EINVAL
 * (@pt_id non-zero), ENOENT (@dev_id), EINVAL or EOPNOTSUPP (a PASID the
 * device cannot use, as for ATTACH), ENOENT (not attached through this
 * @dev_id).
 */
struct ioasid_attach {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 pt_id;
	__u32 __reserved;
};

#define IOASID_ATTACH		_IO(IOASID_TYPE, IOASID_CMD_ATTACH)
#define IOASID_DETACH		_IO(IOASID_TYPE, IOASID_CMD_DETACH)

/**
 * DOC: Nesting
 *
 * A guest with a virtual IOMMU owns its I/O page tables (stage 1, guest IOVA
 * to guest physical); the host keeps isolation with a stage 2 it owns (guest
 * physical to host physical). Here stage 2 is an IOAS: the VMM maps guest
 * RAM into it as for any device. IOASID_NESTED_ALLOC creates a nested object
 * on that IOAS for the IOMMU of one device: the kernel allocates (or reuses)
 * a nesting-parent domain of the IOAS for that IOMMU - a domain chosen as a
 * parent when it is allocated, filled with the IOAS like any other - and
 * asks the IOMMU driver for a child whose stage-1 table is the guest's,
 * described by a driver-specific payload the driver validates. Devices of
 * that IOMMU attach to the nested object with IOASID_ATTACH, replace between
 * nested objects and plain IOASes hitlessly, and detach as from an IOAS.
 * The guest's IOTLB invalidations go to IOASID_INVALIDATE, which hands them
 * to the driver. An IOMMU without nesting (the emulated VT-d, which has no
 * nesting capability) fails IOASID_NESTED_ALLOC with EOPNOTSUPP and leaves
 * nothing behind.
 */

/**
 * enum ioasid_nested_data_type - stage-1 payload formats
 * @IOASID_NESTED_DATA_VTD_S1: struct iommu_hwpt_vtd_s1 (linux/iommufd.h),
 *	for Intel VT-d
 *
 * The values are those of enum iommu_hwpt_data_type of the iommufd uAPI, so
 * the IOMMU drivers' payloads pass through unchanged. Values 0xd000 to
 * 0xdfff are reserved for test-only IOMMU drivers, which define their
 * payloads in their own headers.
 */
enum ioasid_nested_data_type {
	IOASID_NESTED_DATA_VTD_S1 = 1,
};

/**
 * enum ioasid_nested_alloc_flags - flags of IOASID_NESTED_ALLOC
 * @IOASID_NESTED_ALLOC_FAULT: deliver the I/O page faults of devices
 *	attached to the nested object to fault queue @fault_id
 */
enum ioasid_nested_alloc_flags {
	IOASID_NESTED_ALLOC_FAULT = 1 << 0,
};

/**
 * struct ioasid_nested_alloc - ioctl(IOASID_NESTED_ALLOC)
 * @size: sizeof(struct ioasid_nested_alloc); 40 in the first version, below which the
 *	call fails with EINVAL
 * @flags: enum ioasid_nested_alloc_flags
 * @parent_id: the IOAS that is stage 2
 * @dev_id: a device whose IOMMU the nested object is for
 * @data_type: enum ioasid_nested_data_type of @data_uptr
 * @data_len: length of the payload at @data_uptr (1 to 4096)
 * @data_uptr: the driver-specific stage-1 description
 * @fault_id: with IOASID_NESTED_ALLOC_FAULT, a fault queue; else 0
 * @out_nested_id: the new nested object
 *
 * Errors: ENOENT (@parent_id is no IOAS, @dev_id no device, @fault_id no
 * fault queue), EOPNOTSUPP (an unknown flag or @data_type, a @fault_id
 * without IOASID_NESTED_ALLOC_FAULT, or the device's IOMMU cannot nest or
 * does not take @data_type), EINVAL (@data_len out of range, or the driver refused
 * the payload), EFAULT, ENOMEM, and the errors of filling a new parent
 * domain with the IOAS (ERANGE when an area lies outside it, EINVAL when
 * its memory is not physically contiguous in the parent's smallest page, as
 * for IOASID_MAP). On error nothing was created.
 */
struct ioasid_nested_alloc {
	__u32 size;
	__u32 flags;
	__u32 parent_id;
	__u32 dev_id;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 out_nested_id;
};

#define IOASID_NESTED_ALLOC	_IO(IOASID_TYPE, IOASID_CMD_NESTED_ALLOC)

/**
 * struct ioasid_invalidate - ioctl(IOASID_INVALIDATE)
 * @size: sizeof(struct ioasid_invalidate); 32 in the first version, below which the
 *	call fails with EINVAL
 * @id: the nested object
 * @data_type: the format of the entries, defined by the IOMMU driver; the
 *	values are those of enum iommu_hwpt_invalidate_data_type of the
 *	iommufd uAPI
 * @entry_len: size of one entry in bytes (1 to 4096)
 * @entry_num: in: number of entries; out: how many were handled
 * @__reserved: must be 0
 * @data_uptr: user pointer to the entries
 *
 * Forwards a guest's stage-1 cache invalidations to the IOMMU driver, which
 * handles them in order and stops at the first it cannot. @entry_num is
 * always written back; an error says why the first unhandled entry failed
 * (EINVAL or EOPNOTSUPP from the driver, EFAULT). ENOENT if @id is no nested
 * object; EINVAL for an @entry_len out of range or an @entry_num above
 * 65536, and (6.12's core) for entries longer than the driver's own struct. An @entry_num of 0 succeeds and does nothing.
 */
struct ioasid_invalidate {
	__u32 size;
	__u32 id;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};

#define IOASID_INVALIDATE	_IO(IOASID_TYPE, IOASID_CMD_INVALIDATE)

/**
 * DOC: Fault queues
 *
 * I/O page faults (PCIe page requests) of a device attached to an IOAS or a
 * nested object created with a fault queue are delivered to user space
 * through that queue, by (device, PASID) attachment: the IOMMU core finds
 * the attachment by its attach handle, never by guessing, so a fault of a
 * (device, PASID) attached in one context is never seen by another, and a
 * fault for a (device, PASID) nothing fault-capable is attached to is
 * answered "invalid" by the core without reaching any queue.
 *
 * IOASID_FAULT_QUEUE_ALLOC returns an object ID (for IOAS_ALLOC's and
 * NESTED_ALLOC's fault_id) and a file descriptor:
 *
 * - read() returns whole struct ioasid_fault records, in arrival order, as
 *   many whole page-request groups as fit (a group is the faults up to one
 *   with IOASID_FAULT_LAST_PAGE; they share one cookie). It never blocks:
 *   0 when nothing is queued; EINVAL when @count cannot hold the next
 *   group or the file position is not 0.
 * - poll()/epoll: EPOLLIN while records are queued; EPOLLOUT always.
 * - write() takes whole struct ioasid_fault_response records, handled in
 *   order, each answering the group of its cookie; it returns the bytes of
 *   the responses handled, or, if the first fails, the errno: EINVAL (a
 *   size that is not a multiple of the record, an unknown code), ENOENT (a
 *   cookie that was never read or is answered already: nothing changes),
 *   EFAULT. A group that was read waits for its response.
 * - At most IOASID_FAULT_QUEUE_DEPTH groups are queued or awaiting their
 *   response. A group that arrives when the queue is full is answered
 *   "failure" at once and never queued; the device sees a failed request
 *   (debugfs counts it in ``overflows``).
 * - When a (device, PASID) detaches or is replaced, or its device is
 *   unregistered, every group of it still queued or awaiting a response is
 *   answered "invalid" and dropped (a later response with its cookie is
 *   ENOENT). When
 *   the file is closed, every group is answered "invalid" and later faults
 *   are answered "failure" at once. The queue object can be destroyed only
 *   when the file is closed and no IOAS or nested object uses it (EBUSY).
 *
 * Attaching a device whose IOMMU cannot deliver page requests to a
 * fault-delivering IOAS or nested object fails with EOPNOTSUPP (ioasid
 * enables IOMMU_DEV_FEAT_IOPF with the first such attachment of a device and
 * disables it with the last).
 */

/* How many page-request groups a queue holds (queued plus unanswered). */
#define IOASID_FAULT_QUEUE_DEPTH	256

/**
 * struct ioasid_fault_queue_alloc - ioctl(IOASID_FAULT_QUEUE_ALLOC)
 * @size: sizeof(struct ioasid_fault_queue_alloc); 16 in the first version, below which the
 *	call fails with EINVAL
 * @flags: must be 0
 * @out_fault_id: the queue object
 * @out_fault_fd: the file descriptor to read faults from (O_CLOEXEC)
 *
 * Errors: EOPNOTSUPP (@flags), EMFILE, ENOMEM.
 */
struct ioasid_fault_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__s32 out_fault_fd;
};

#define IOASID_FAULT_QUEUE_ALLOC _IO(IOASID_TYPE, IOASID_CMD_FAULT_QUEUE_ALLOC)

/**
 * enum ioasid_fault_flags - flags of struct ioasid_fault
 * @IOASID_FAULT_PASID_VALID: the request carried a PASID (@pasid)
 * @IOASID_FAULT_LAST_PAGE: the last fault of its page-request group
 */
enum ioasid_fault_flags {
	IOASID_FAULT_PASID_VALID = 1 << 0,
	IOASID_FAULT_LAST_PAGE = 1 << 1,
};

/**
 * enum ioasid_fault_perm - access a fault asked for
 * @IOASID_FAULT_PERM_READ: read
 * @IOASID_FAULT_PERM_WRITE: write
 * @IOASID_FAULT_PERM_EXEC: execute
 * @IOASID_FAULT_PERM_PRIV: privileged
 */
enum ioasid_fault_perm {
	IOASID_FAULT_PERM_READ = 1 << 0,
	IOASID_FAULT_PERM_WRITE = 1 << 1,
	IOASID_FAULT_PERM_EXEC = 1 << 2,
	IOASID_FAULT_PERM_PRIV = 1 << 3,
};

/**
 * struct ioasid_fault - one I/O page fault, as read() returns it
 * @flags: enum ioasid_fault_flags
 * @dev_id: the device, as IOASID_DEVICE_INFO names it (for an attachment
 *	several registrations share, the one that made it; once that one has
 *	left, the earliest of those still sharing it - never a dev_id that is
 *	gone)
 * @pasid: with IOASID_FAULT_PASID_VALID, the PASID
 * @grpid: the page-request group index the device gave
 * @perm: enum ioasid_fault_perm
 * @cookie: names the group in the response
 * @addr: the faulting address (page aligned)
 */
struct ioasid_fault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 cookie;
	__aligned_u64 addr;
};

/**
 * enum ioasid_fault_response_code - how a group was handled
 * @IOASID_FAULT_RESPONSE_SUCCESS: the pages are there now: retry
 * @IOASID_FAULT_RESPONSE_INVALID: the request was invalid: do not retry
 * @IOASID_FAULT_RESPONSE_FAILURE: it cannot be handled: the device should
 *	stop asking
 */
enum ioasid_fault_response_code {
	IOASID_FAULT_RESPONSE_SUCCESS = 0,
	IOASID_FAULT_RESPONSE_INVALID = 1,
	IOASID_FAULT_RESPONSE_FAILURE = 2,
};

/**
 * struct ioasid_fault_response - one response, as write() takes it
 * @cookie: from the group's records
 * @code: enum ioasid_fault_response_code
 */
struct ioasid_fault_response {
	__u32 cookie;
	__u32 code;
};

#endif /* _UAPI_LINUX_IOASID_H */
