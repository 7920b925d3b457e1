/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioasid: the in-kernel API for subsystems that own devices (VFIO, vDPA, the
 * test mock) and hand them to an IOASID context. User space opens
 * /dev/ioasid and passes the fd to the subsystem; the subsystem turns it
 * into a context with get_ioasid_from_file() and registers its devices,
 * after which user space attaches them to I/O address spaces by dev_id.
 *
 * Consumers are built with CONFIG_IOASID (or CONFIG_IOASID_MODULE) defined
 * when ioasid is available; otherwise every call below compiles to a stub
 * that fails with -EOPNOTSUPP, so a subsystem needs no #ifdefs of its own.
 * The exported symbols live in the IOASID symbol namespace.
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
 * @IOASID_ACCESS_KTHREAD: ioasid_access_rw() from a kernel thread without the
 *	owner's mm (the access uses the mm of the context's pages)
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
 *	UNMAP, IOAS destroy, a parent unmap under software nesting). Called
 *	synchronously, without ioasid locks that pin/unpin take; the driver
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
 * @name: the subsystem, as reported to user space ("vfio", "vdpa", "mock")
 * @flags: enum ioasid_device_ops_flags
 */
struct ioasid_device_ops {
	const char *name;
	unsigned int flags;
};

#if IS_ENABLED(CONFIG_IOASID)

/*
 * The contracts, in short (kernel-doc at each definition has the detail):
 *
 * get_ioasid_from_file() - the context behind an open /dev/ioasid file.
 *	Returns a referenced context, ERR_PTR(-EBADF) if @file is not
 *	/dev/ioasid. The reference keeps the context (and the file) alive
 *	until ioasid_ctx_put().
 *
 * register_device_to_pasid() - hand (@dev, @pasid) to @ctx. @pasid is
 *	IOASID_PASID_NONE for the whole device. @domain NULL: the context
 *	allocates and manages the domains; or a paging domain the subsystem
 *	owns, which every attachment then translates through (the context
 *	fills it with the IOAS, never frees it; one IOAS at a time).
 *	Claims DMA ownership of @dev; refuses devices whose IOMMU cannot
 *	enforce cache coherency (-EINVAL) and unisolated MSI unless the
 *	module parameter allow_unsafe_interrupts is set (-EPERM). Returns the
 *	handle and writes the dev_id user space names the device by.
 *
 * ioasid_unregister_device() - always succeeds; the device is left blocked
 *	from DMA and its dev_id disappears.
 *
 * ioasid_device_attach() / ioasid_device_replace() - translate the
 *	registered (device, PASID) through object @pt_id (an IOAS or a
 *	nested object, IOASID_NESTED_ALLOC). Replace never passes through
 *	"no translation". ioasid_device_detach() leaves the device blocked.
 *	The _pasid variants name the PASID of a whole-device registration
 *	(IOASID_PASID_NONE is the RID).
 *
 * ioasid_ctx_create() - a context with no user fd, for a subsystem that
 *	presents its own API on top (VFIO's type1 compatibility). The
 *	ioasid_kern_*() calls are the IOAS ioctls for such users: user
 *	addresses are the calling process's, errors are the ioctls'.
 *
 * ioasid_access_create() - an emulated-device access to IOAS @ioas_id of
 *	@ctx; @ops->unmap is called whenever a range leaves the IOAS.
 *	ioasid_access_pin_pages() pins the pages behind [iova, iova + length)
 *	(charged once with every other user of the same pages) and returns
 *	them; ioasid_access_unpin_pages() releases exactly such a range.
 *	ioasid_access_rw() copies to or from the IOAS by IOVA without a
 *	long-term pin. ioasid_access_destroy() requires every pin released.
 *	ioasid_access_replay() calls @ops->map for every current mapping, for
 *	consumers that mirror the IOAS into a translation of their own.
 */
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
		    unsigned long length, unsigned long iova, int prot);
int ioasid_kern_unmap(struct ioasid_ctx *ctx, u32 ioas_id, unsigned long iova,
		      unsigned long length, unsigned long *unmapped);
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
				  unsigned long iova, int prot)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_kern_unmap(struct ioasid_ctx *ctx, u32 ioas_id,
				    unsigned long iova, unsigned long length,
				    unsigned long *unmapped)
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

#endif /* CONFIG_IOASID */
#endif /* __LINUX_IOASID_H */
