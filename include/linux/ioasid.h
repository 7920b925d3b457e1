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

/* No PASID: the device's requests without a PASID (its RID). */
#define IOASID_PASID_NONE	((u32)-1)

/**
 * struct ioasid_device_ops - callbacks of the subsystem that registered a device
 * @name: the subsystem, as reported to user space ("vfio", "vdpa", "mock")
 * @unregistered: optional; the context is going away and has unregistered
 *	the device on the subsystem's behalf. Called without context locks
 *	held; the handle is invalid once it returns.
 */
struct ioasid_device_ops {
	const char *name;
	void (*unregistered)(struct ioasid_device *idev, void *data);
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
 *	IOASID_PASID_NONE for the whole device. @domain is NULL to let the
 *	context allocate and manage domains, or a domain the subsystem owns,
 *	which the context then fills from the IOAS the device attaches to.
 *	Claims DMA ownership of @dev; refuses devices whose IOMMU cannot
 *	enforce cache coherency (-EINVAL) and unisolated MSI unless the
 *	module parameter allow_unsafe_interrupts is set (-EPERM). Returns the
 *	handle and writes the dev_id user space names the device by.
 *
 * ioasid_unregister_device() - always succeeds; the device is left blocked
 *	from DMA and its dev_id disappears.
 *
 * ioasid_device_attach() / ioasid_device_replace() - translate the
 *	registered (device, PASID) through object @pt_id (an IOAS, later a
 *	nested address space). Replace never passes through "no translation".
 *	ioasid_device_detach() leaves the device blocked.
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

#endif /* CONFIG_IOASID */
#endif /* __LINUX_IOASID_H */
