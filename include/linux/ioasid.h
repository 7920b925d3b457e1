/* SPDX-License-Identifier: GPL-2.0 */
/**
 * DOC: The in-kernel consumer API
 *
 * The API for subsystems that own devices (VFIO, vDPA, the test mock) and
 * hand them to an IOASID context. User space opens /dev/ioasid and passes
 * the fd to the subsystem; the subsystem turns it into a context with
 * get_ioasid_from_file() and registers its devices, after which user space
 * attaches them to I/O address spaces by dev_id.
 *
 * The real functions are declared when IS_ENABLED(CONFIG_IOASID) is true,
 * that is when CONFIG_IOASID or CONFIG_IOASID_MODULE is defined. Otherwise
 * every function is a static inline stub, so a consumer needs no #ifdef of
 * its own: functions returning a pointer return ERR_PTR(-EOPNOTSUPP),
 * functions returning int return -EOPNOTSUPP, and the void ones do nothing
 * (they can only be reached with a handle or PASID a stub never hands out).
 *
 * The functions are exported GPL-only in the IOASID symbol namespace: a
 * consumer module declares MODULE_IMPORT_NS(IOASID). Every function may
 * sleep and is called from process context; errors are negative errnos
 * (ERR_PTR() for pointers). ioasid never calls back into a consumer, except
 * through the callbacks of an emulated-device access (struct
 * ioasid_access_ops).
 */
#ifndef __LINUX_IOASID_H
#define __LINUX_IOASID_H

#include <linux/err.h>
#include <linux/errno.h>
#include <linux/types.h>

struct device;
struct file;
struct iommu_domain;
struct ioasid_ctx;
struct ioasid_device;

#include <uapi/linux/ioasid.h>

struct ioasid_iova_range;
struct page;

struct ioasid_access;

/**
 * enum ioasid_access_flags - flags of ioasid_access_pin_pages/ioasid_access_rw
 * @IOASID_ACCESS_WRITE: the caller will write to the memory (a mapping
 *	without IOASID_MAP_WRITE is refused with -EPERM)
 * @IOASID_ACCESS_KTHREAD: the caller is a kernel thread without the owner's
 *	mm; accepted and changes nothing, since the pages are pinned already
 *	and no mm is needed
 */
enum ioasid_access_flags {
	IOASID_ACCESS_WRITE = 1 << 0,
	IOASID_ACCESS_KTHREAD = 1 << 1,
};

/**
 * struct ioasid_access_ops - an emulated device that reads an IOAS by IOVA
 * @needs_pin_pages: the access calls ioasid_access_pin_pages(); @unmap is
 *	then mandatory
 * @unmap: [iova, iova + length) is being removed from the IOAS (user
 *	UNMAP, IOAS destroy, a parent unmap under software nesting) and this
 *	access has pinned part of it; accesses without pins there are not
 *	called (a software-nested child's access is told the child's range).
 *	Called synchronously, without ioasid locks that pin/unpin take; the driver
 *	must stop using the range and ioasid_access_unpin_pages() every pin
 *	in it before returning (or very soon after: UNMAP waits a bounded
 *	time, then fails with -EBUSY and leaves the mapping in place)
 * @map: optional; [iova, iova + length) was just mapped into the IOAS
 *	(MAP or COPY), for consumers that mirror the IOAS into their own
 *	translation (vDPA parents with set_map/dma_map)
 */
struct ioasid_access_ops {
	u8 needs_pin_pages : 1;
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
	void (*map)(void *data, unsigned long iova, unsigned long length);
};

/**
 * enum ioasid_kern_map_flags - flags of ioasid_kern_map()
 * @IOASID_KERN_MAP_SHARE_PINS: pin once per process: when an earlier map
 *	with this flag, by the same mm, in any IOAS of any context, pinned a
 *	user range that contains this one whole, with the very pages this
 *	range has now and (for a writable map) writable, the new mapping
 *	shares that pin and nothing more is charged to RLIMIT_MEMLOCK; the
 *	pin lasts while any mapping uses it. Otherwise the range is pinned
 *	and charged as without the flag, and later maps may share it.
 */
enum ioasid_kern_map_flags {
	IOASID_KERN_MAP_SHARE_PINS = 1 << 0,
};

/**
 * enum ioasid_kern_unmap_flags - flags of ioasid_kern_unmap()
 * @IOASID_KERN_UNMAP_WHOLE: VFIO type1 v1's rule instead of a cut being an
 *	error: every mapping that begins inside the range is removed whole,
 *	also where it extends past the range's end; if the first mapping the
 *	range touches begins before the range, nothing is removed (-ENOENT).
 *	Mappings are never split, so huge IOPTEs never need to be.
 */
enum ioasid_kern_unmap_flags {
	IOASID_KERN_UNMAP_WHOLE = 1 << 0,
};

/**
 * struct ioasid_unmapped - what an unmap removed
 * @bytes: bytes unmapped
 * @mappings: mappings removed (each MAP, or each piece of a COPY, is one)
 */
struct ioasid_unmapped {
	unsigned long bytes;
	unsigned long mappings;
};

/**
 * enum ioasid_device_ops_flags - how a subsystem hands over its devices
 * @IOASID_OPS_DMA_OWNED: the subsystem already owns DMA of the device's
 *	group (VFIO's group path claims it before the IOMMU backend runs);
 *	ioasid then neither claims nor releases ownership
 * @IOASID_OPS_SUBDEV: registrations are sub-devices of @dev, each bound to
 *	the PASID it was registered with; several sub-devices of one parent
 *	attaching the same PASID to the same IOAS share the attachment
 */
enum ioasid_device_ops_flags {
	IOASID_OPS_DMA_OWNED = 1 << 0,
	IOASID_OPS_SUBDEV = 1 << 1,
};

/**
 * struct ioasid_device_ops - the subsystem that registered a device
 * @name: the subsystem, as reported to user space ("vfio", "vdpa", "mock";
 *	at most 15 characters are)
 * @flags: enum ioasid_device_ops_flags
 *
 * Must outlive the registration; a static const struct is the norm.
 */
struct ioasid_device_ops {
	const char *name;
	unsigned int flags;
};

#if IS_ENABLED(CONFIG_IOASID)

/* The kernel-doc of each function is at its definition, drivers/ioasid/. */
struct ioasid_ctx *get_ioasid_from_file(struct file *file);
void ioasid_ctx_put(struct ioasid_ctx *ctx);

struct ioasid_device *register_device_to_pasid(struct ioasid_ctx *ctx, u32 pasid,
					       struct device *dev,
					       struct iommu_domain *domain,
					       const struct ioasid_device_ops *ops,
					       void *data, u32 *dev_id);
void ioasid_unregister_device(struct ioasid_device *idev);

int ioasid_device_attach(struct ioasid_device *idev, u32 pt_id);
int ioasid_device_replace(struct ioasid_device *idev, u32 pt_id);
void ioasid_device_detach(struct ioasid_device *idev);
int ioasid_device_attach_pasid(struct ioasid_device *idev, u32 pasid, u32 pt_id);
int ioasid_device_detach_pasid(struct ioasid_device *idev, u32 pasid);
int ioasid_alloc_global_pasid(struct device *dev, u32 *pasid);
void ioasid_free_global_pasid(u32 pasid);

struct ioasid_ctx *ioasid_ctx_create(void);
int ioasid_kern_ioas_alloc(struct ioasid_ctx *ctx, u32 *ioas_id);
int ioasid_kern_map(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long uaddr,
		    unsigned long length, unsigned long iova, int prot,
		    u32 flags);
int ioasid_kern_unmap(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long iova,
		      unsigned long length, u32 flags,
		      struct ioasid_unmapped *unmapped);
int ioasid_kern_ioas_coherent(struct ioasid_ctx *ctx, u32 ioas_id);
int ioasid_kern_mapped(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long iova,
		       unsigned long length);
int ioasid_kern_iova_ranges(struct ioasid_ctx *ctx, u32 ioas_id,
			    struct ioasid_iova_range *ranges, unsigned int max,
			    unsigned long *pgsize_bitmap);

struct ioasid_access *ioasid_access_create(struct ioasid_ctx *ctx, u32 ioas_id,
					   const struct ioasid_access_ops *ops,
					   void *data);
void ioasid_access_destroy(struct ioasid_access *access);
int ioasid_access_replay(struct ioasid_access *access);
int ioasid_access_pin_pages(struct ioasid_access *access, unsigned long iova,
			    unsigned long length, struct page **out_pages,
			    unsigned int flags);
void ioasid_access_unpin_pages(struct ioasid_access *access,
			       unsigned long iova, unsigned long length);
int ioasid_access_rw(struct ioasid_access *access, unsigned long iova,
		     void *data, size_t length, unsigned int flags);

int ioasid_ucmd_copy_from_user(void *buf, size_t size, size_t min_size,
			       void __user *ubuffer, u32 *user_size);

#else /* !CONFIG_IOASID */

static inline struct ioasid_ctx *get_ioasid_from_file(struct file *file)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void ioasid_ctx_put(struct ioasid_ctx *ctx)
{
}

static inline struct ioasid_device *
register_device_to_pasid(struct ioasid_ctx *ctx, u32 pasid, struct device *dev,
			 struct iommu_domain *domain,
			 const struct ioasid_device_ops *ops, void *data,
			 u32 *dev_id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void ioasid_unregister_device(struct ioasid_device *idev)
{
}

static inline int ioasid_device_attach(struct ioasid_device *idev, u32 pt_id)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_device_replace(struct ioasid_device *idev, u32 pt_id)
{
	return -EOPNOTSUPP;
}

static inline void ioasid_device_detach(struct ioasid_device *idev)
{
}

static inline int ioasid_device_attach_pasid(struct ioasid_device *idev,
					     u32 pasid, u32 pt_id)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_device_detach_pasid(struct ioasid_device *idev, u32 pasid)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_alloc_global_pasid(struct device *dev, u32 *pasid)
{
	return -EOPNOTSUPP;
}

static inline void ioasid_free_global_pasid(u32 pasid)
{
}

static inline struct ioasid_ctx *ioasid_ctx_create(void)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline int ioasid_kern_ioas_alloc(struct ioasid_ctx *ctx, u32 *ioas_id)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_map(struct ioasid_ctx *ctx, u32 ioas_id,
				  unsigned long uaddr, unsigned long length,
				  unsigned long iova, int prot, u32 flags)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_unmap(struct ioasid_ctx *ctx, u32 ioas_id,
				    unsigned long iova, unsigned long length,
				    u32 flags, struct ioasid_unmapped *unmapped)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_ioas_coherent(struct ioasid_ctx *ctx, u32 ioas_id)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_mapped(struct ioasid_ctx *ctx, u32 ioas_id,
				     unsigned long iova, unsigned long length)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_iova_ranges(struct ioasid_ctx *ctx, u32 ioas_id,
					  struct ioasid_iova_range *ranges,
					  unsigned int max,
					  unsigned long *pgsize_bitmap)
{
	return -EOPNOTSUPP;
}

static inline struct ioasid_access *
ioasid_access_create(struct ioasid_ctx *ctx, u32 ioas_id,
		     const struct ioasid_access_ops *ops, void *data)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void ioasid_access_destroy(struct ioasid_access *access)
{
}

static inline int ioasid_access_replay(struct ioasid_access *access)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_access_pin_pages(struct ioasid_access *access,
					  unsigned long iova,
					  unsigned long length,
					  struct page **out_pages,
					  unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline void ioasid_access_unpin_pages(struct ioasid_access *access,
					     unsigned long iova,
					     unsigned long length)
{
}

static inline int ioasid_access_rw(struct ioasid_access *access,
				   unsigned long iova, void *data,
				   size_t length, unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_ucmd_copy_from_user(void *buf, size_t size,
					     size_t min_size,
					     void __user *ubuffer,
					     u32 *user_size)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_IOASID */
#endif /* __LINUX_IOASID_H */
