// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: the consumer kAPI. A subsystem that owns a device (VFIO, vDPA, the
 * test mock) turns a /dev/ioasid file into a context, registers the device
 * with it, and attaches it to I/O address spaces. The attach path is written
 * here once; subsystems only wrap it.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/msi.h>
#include <linux/pci.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "ioasid_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "UNSAFE: register devices whose MSIs the platform cannot isolate (a device could then raise arbitrary interrupts)");

/**
 * get_ioasid_from_file() - the IOASID context behind an open /dev/ioasid
 * @file: a file user space passed to the subsystem
 *
 * Return: the context with a reference (a reference on @file), to be
 * released with ioasid_ctx_put(); ERR_PTR(-EBADF) if @file is not an open
 * /dev/ioasid.
 */
struct ioasid_ctx *get_ioasid_from_file(struct file *file)
{
	if (!file || !ioasid_file_is_ctx(file))
		return ERR_PTR(-EBADF);
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(get_ioasid_from_file, IOASID);

/**
 * ioasid_ctx_put() - release a reference from get_ioasid_from_file()
 * @ctx: the context
 */
void ioasid_ctx_put(struct ioasid_ctx *ctx)
{
	fput(ctx->file);
}
EXPORT_SYMBOL_NS_GPL(ioasid_ctx_put, IOASID);

/**
 * register_device_to_pasid() - hand a device to an IOASID context
 * @ctx: the context, from get_ioasid_from_file()
 * @pasid: IOASID_PASID_NONE (the whole device); PASIDs are not supported yet
 * @dev: the device; it must have an IOMMU group
 * @domain: NULL: the context allocates and manages the device's domains.
 *	Subsystem-owned domains are not supported yet.
 * @ops: the subsystem's callbacks and name; must outlive the registration
 * @data: passed back to @ops
 * @dev_id: returns the ID user space names the device by
 *
 * Claims DMA ownership of @dev for the context: the device is blocked from
 * DMA until it is attached. The device is refused when its IOMMU cannot
 * enforce cache coherency (-EINVAL), when the platform cannot isolate its
 * MSIs and the module parameter allow_unsafe_interrupts is not set (-EPERM),
 * or when another owner (a kernel driver using the DMA API, another
 * context) has it (-EBUSY). The registration holds a reference on the
 * context until ioasid_unregister_device().
 *
 * Return: the registration handle, or an ERR_PTR().
 */
struct ioasid_device *register_device_to_pasid(struct ioasid_ctx *ctx, u32 pasid,
					       struct device *dev,
					       struct iommu_domain *domain,
					       const struct ioasid_device_ops *ops,
					       void *data, u32 *dev_id)
{
	struct ioasid_device *idev;
	struct iommu_group *group;
	int rc;

	if (pasid != IOASID_PASID_NONE || domain)
		return ERR_PTR(-EOPNOTSUPP);
	if (!ops || !ops->name)
		return ERR_PTR(-EINVAL);
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	if (!iommu_group_has_isolated_msi(group) && !allow_unsafe_interrupts) {
		dev_warn(dev, "ioasid: no interrupt isolation; see allow_unsafe_interrupts\n");
		rc = -EPERM;
		goto err_group;
	}
	rc = iommu_device_claim_dma_owner(dev, ctx);
	if (rc)
		goto err_group;

	idev = ioasid_obj_alloc(ctx, idev, IOASID_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto err_owner;
	}
	idev->ctx = ctx;
	idev->dev = dev;
	idev->group = group;
	idev->pasid = pasid;
	idev->ops = ops;
	idev->data = data;
	mutex_init(&idev->lock);
	/* The subsystem's handle is a user of the object, as the table is. */
	refcount_inc(&idev->obj.users);
	get_file(ctx->file);
	*dev_id = idev->obj.id;
	ioasid_obj_publish(ctx, &idev->obj);
	return idev;

err_owner:
	iommu_device_release_dma_owner(dev);
err_group:
	iommu_group_put(group);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL_NS_GPL(register_device_to_pasid, IOASID);

/**
 * ioasid_unregister_device() - take a device back from its context
 * @idev: the handle from register_device_to_pasid()
 *
 * Always succeeds. Detaches the device (leaving it blocked), removes its
 * dev_id, waits for ioctls that are using it to finish, releases DMA
 * ownership and the context reference. @idev is invalid afterwards.
 */
void ioasid_unregister_device(struct ioasid_device *idev)
{
	struct ioasid_ctx *ctx = idev->ctx;

	ioasid_device_detach(idev);
	/* Drop the subsystem's reference; wait for the rest but the table's. */
	ioasid_obj_put(&idev->obj);
	ioasid_obj_remove_wait(ctx, &idev->obj);
	iommu_device_release_dma_owner(idev->dev);
	iommu_group_put(idev->group);
	mutex_destroy(&idev->lock);
	kfree(idev);
	fput(ctx->file);
}
EXPORT_SYMBOL_NS_GPL(ioasid_unregister_device, IOASID);

/* Devices are destroyed by their subsystem, never through the table. */
void ioasid_device_destroy(struct ioasid_obj *obj)
{
	WARN(1, "ioasid: device %u destroyed through the table\n", obj->id);
}

/**
 * ioasid_device_attach() - translate a device's DMA through an IOAS
 * @idev: the registered device, not attached
 * @pt_id: the ID of an IOAS in the device's context
 *
 * Reuses a domain of the IOAS the device's IOMMU accepts, or allocates one
 * and replays every mapping of the IOAS into it before the device is
 * attached. While attached, the IOAS cannot be destroyed.
 *
 * Return: 0; -EBUSY if already attached; -ENOENT if @pt_id names no IOAS;
 * -EADDRINUSE if a reserved region of the device is mapped in the IOAS;
 * -ERANGE if a mapping lies outside what the device's IOMMU can translate;
 * or the IOMMU driver's error. On error nothing changed.
 */
int ioasid_device_attach(struct ioasid_device *idev, u32 pt_id)
{
	struct ioasid_domain *idom;
	struct ioasid_ioas *ioas;
	struct ioasid_obj *obj;
	int rc = 0;

	mutex_lock(&idev->lock);
	if (idev->ioas) {
		rc = -EBUSY;
		goto out_unlock;
	}
	obj = ioasid_obj_get(idev->ctx, pt_id, IOASID_OBJ_IOAS);
	if (IS_ERR(obj)) {
		rc = PTR_ERR(obj);
		goto out_unlock;
	}
	ioas = container_of(obj, struct ioasid_ioas, obj);

	mutex_lock(&ioas->mutex);
	idom = ioasid_domain_attach(ioas, idev->dev, idev->group);
	mutex_unlock(&ioas->mutex);
	if (IS_ERR(idom)) {
		rc = PTR_ERR(idom);
		ioasid_obj_put(obj);
		goto out_unlock;
	}
	/* The reference from ioasid_obj_get() stays while attached. */
	idev->ioas = ioas;
	idev->idom = idom;
out_unlock:
	mutex_unlock(&idev->lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_attach, IOASID);

/**
 * ioasid_device_replace() - move an attached device to another IOAS
 * @idev: the registered device
 * @pt_id: the new IOAS
 *
 * Not supported yet.
 *
 * Return: -EOPNOTSUPP.
 */
int ioasid_device_replace(struct ioasid_device *idev, u32 pt_id)
{
	return -EOPNOTSUPP;
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_replace, IOASID);

/**
 * ioasid_device_detach() - stop translating a device through its IOAS
 * @idev: the registered device; nothing happens if it is not attached
 *
 * The device is left blocked from DMA. The domain it used is freed if no
 * other device uses it.
 */
void ioasid_device_detach(struct ioasid_device *idev)
{
	struct ioasid_ioas *ioas;

	mutex_lock(&idev->lock);
	ioas = idev->ioas;
	if (ioas) {
		mutex_lock(&ioas->mutex);
		ioasid_domain_detach(ioas, idev->idom, idev->group);
		mutex_unlock(&ioas->mutex);
		idev->ioas = NULL;
		idev->idom = NULL;
		ioasid_obj_put(&ioas->obj);
	}
	mutex_unlock(&idev->lock);
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_detach, IOASID);

void ioasid_device_show(struct seq_file *m, struct ioasid_obj *obj)
{
	struct ioasid_device *idev = container_of(obj, struct ioasid_device, obj);
	struct ioasid_ioas *ioas = READ_ONCE(idev->ioas);

	seq_printf(m, " subsystem %s dev %s ioas %u", idev->ops->name,
		   dev_name(idev->dev), ioas ? ioas->obj.id : 0);
}
