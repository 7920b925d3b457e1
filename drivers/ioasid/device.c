// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: devices. A subsystem that owns a device (VFIO, vDPA, the test
 * mock) turns a /dev/ioasid file into a context, registers the device with
 * it, and from then on the device is attached - by its RID or by PASIDs - to
 * I/O address spaces, by user space (IOASID_ATTACH) or by the subsystem (the
 * kAPI). The attach path is written here once; subsystems only wrap it.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "ioasid_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "UNSAFE: register devices whose MSIs the platform cannot isolate (a device could then raise arbitrary interrupts)");

/*
 * The group objects, one per IOMMU group with a registered device. The lock
 * covers only looking one up, creating and freeing it: what is attached in
 * a group is under the group's own lock.
 */
static DEFINE_MUTEX(ioasid_groups_lock);
static LIST_HEAD(ioasid_groups);

/*
 * The object of @group, with a reference for one registration: the one
 * there is, or a new one. NULL when out of memory.
 */
static struct ioasid_group *ioasid_group_get(struct iommu_group *group)
{
	struct ioasid_group *igroup;

	mutex_lock(&ioasid_groups_lock);
	list_for_each_entry(igroup, &ioasid_groups, node) {
		if (igroup->group == group) {
			igroup->users++;
			goto out_unlock;
		}
	}
	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup)
		goto out_unlock;
	igroup->users = 1;
	igroup->group = iommu_group_ref_get(group);
	mutex_init(&igroup->lock);
	INIT_LIST_HEAD(&igroup->attachments);
	list_add(&igroup->node, &ioasid_groups);
out_unlock:
	mutex_unlock(&ioasid_groups_lock);
	return igroup;
}

/* Drop a registration's reference; the last frees the (empty) object. */
static void ioasid_group_put(struct ioasid_group *igroup)
{
	mutex_lock(&ioasid_groups_lock);
	if (--igroup->users) {
		mutex_unlock(&ioasid_groups_lock);
		return;
	}
	list_del(&igroup->node);
	mutex_unlock(&ioasid_groups_lock);
	WARN_ON(!list_empty(&igroup->attachments));
	mutex_destroy(&igroup->lock);
	iommu_group_put(igroup->group);
	kfree(igroup);
}

/* What a paging domain for @dev offers, for IOASID_DEVICE_INFO. */
static void ioasid_device_probe_domain(struct ioasid_device *idev)
{
	struct iommu_domain *domain = ioasid_paging_domain_alloc(idev->dev, 0);

	if (IS_ERR(domain))
		return;
	idev->pgsize_bitmap = domain->pgsize_bitmap;
	if (domain->geometry.force_aperture) {
		idev->aperture_start = domain->geometry.aperture_start;
		idev->aperture_last = domain->geometry.aperture_end;
	} else {
		idev->aperture_last = ULONG_MAX;
	}
	iommu_domain_free(domain);
}

/**
 * register_device_to_pasid() - hand a device to an IOASID context
 * @ctx: the context, from get_ioasid_from_file()
 * @pasid: IOASID_PASID_NONE for the whole device; otherwise the one PASID of
 *	@dev this registration may attach (a sub-device of @dev when @ops has
 *	IOASID_OPS_SUBDEV)
 * @dev: the device; it must have an IOMMU group
 * @domain: NULL: the context allocates and manages the domains. Or a
 *	paging domain the subsystem allocated for @dev and keeps owning: every
 *	attachment of this registration then translates through it (the
 *	context maps the IOAS into it). The subsystem must not attach it
 *	itself, must keep it until ioasid_unregister_device() returned, and it
 *	feeds one IOAS at a time (-EBUSY, also for a replace into another
 *	IOAS: detach first)
 * @ops: the subsystem's name and flags; must outlive the registration
 * @data: the subsystem's cookie
 * @dev_id: returns the ID user space names the device by
 *
 * Unless @ops has IOASID_OPS_DMA_OWNED, claims DMA ownership of @dev's group
 * with the context as owner cookie (so sub-devices of one device in one
 * context share the claim): the device is blocked from DMA until attached.
 * On success the device appears in IOASID_DEVICE_INFO, with the page sizes
 * and aperture of a paging domain of its IOMMU (probed once, here), and the
 * registration holds a reference on the context until
 * ioasid_unregister_device(). The errors are checked in the order listed.
 *
 * Return:
 * * the registration handle, on success; otherwise an ERR_PTR() of
 * * -EINVAL: @domain is not a paging domain; @ops or @ops->name is NULL,
 *   @ops->flags has an unknown bit, or IOASID_OPS_SUBDEV with
 *   IOASID_PASID_NONE; the device's IOMMU cannot enforce cache coherency
 *   (IOMMU_CAP_CACHE_COHERENCY)
 * * -EOPNOTSUPP: a PASID for a device without PASID support
 * * -EINVAL: PASID 0 (IOMMU_NO_PASID, the RID's) or a PASID at or beyond
 *   the device's width
 * * -ENODEV: the device has no IOMMU group
 * * -EPERM: the platform cannot isolate the device's MSIs and the module
 *   parameter allow_unsafe_interrupts is not set (a warning is logged)
 * * -EBUSY: without IOASID_OPS_DMA_OWNED, another owner has the group (a
 *   kernel driver using the DMA API, another context or subsystem)
 * * -ENOMEM: out of memory, or the context holds INT_MAX objects already
 */
struct ioasid_device *register_device_to_pasid(struct ioasid_ctx *ctx, u32 pasid,
					       struct device *dev,
					       struct iommu_domain *domain,
					       const struct ioasid_device_ops *ops,
					       void *data, u32 *dev_id)
{
	bool owned = ops && (ops->flags & IOASID_OPS_DMA_OWNED);
	struct ioasid_group *igroup;
	struct ioasid_device *idev;
	struct iommu_group *group;
	int rc;

	if (domain && !(domain->type & __IOMMU_DOMAIN_PAGING))
		return ERR_PTR(-EINVAL);
	if (!ops || !ops->name || (ops->flags & ~(IOASID_OPS_DMA_OWNED | IOASID_OPS_SUBDEV)))
		return ERR_PTR(-EINVAL);
	if ((ops->flags & IOASID_OPS_SUBDEV) && pasid == IOASID_PASID_NONE)
		return ERR_PTR(-EINVAL);
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);
	if (pasid != IOASID_PASID_NONE) {
		if (!dev->iommu || !dev->iommu->max_pasids)
			return ERR_PTR(-EOPNOTSUPP);
		if (pasid == IOMMU_NO_PASID || pasid >= dev->iommu->max_pasids)
			return ERR_PTR(-EINVAL);
	}
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	if (!iommu_group_has_isolated_msi(group) && !allow_unsafe_interrupts) {
		dev_warn(dev, "ioasid: no interrupt isolation; see allow_unsafe_interrupts\n");
		rc = -EPERM;
		goto err_group;
	}
	if (!owned) {
		rc = iommu_device_claim_dma_owner(dev, ctx);
		if (rc == -EPERM)
			rc = -EBUSY;	/* the group has another owner */
		if (rc)
			goto err_group;
	}

	igroup = ioasid_group_get(group);
	if (!igroup) {
		rc = -ENOMEM;
		goto err_owner;
	}
	idev = ioasid_obj_alloc(ctx, idev, IOASID_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto err_igroup;
	}
	idev->ctx = ctx;
	idev->dev = dev;
	idev->group = group;
	idev->igroup = igroup;
	idev->pasid = pasid;
	idev->ops = ops;
	idev->data = data;
	xa_init(&idev->attached);
	INIT_LIST_HEAD(&idev->member_node);
	idev->max_pasids = dev->iommu ? dev->iommu->max_pasids : 0;
	idev->own_domain = domain;
	ioasid_device_probe_domain(idev);
	idev->nesting_formats = ioasid_nested_formats(dev);
	/* The subsystem's handle is a user of the object, as the table is. */
	refcount_inc(&idev->obj.users);
	get_file(ctx->file);
	*dev_id = idev->obj.id;
	ioasid_obj_publish(ctx, &idev->obj);
	return idev;

err_igroup:
	ioasid_group_put(igroup);
err_owner:
	if (!owned)
		iommu_device_release_dma_owner(dev);
err_group:
	iommu_group_put(group);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL_NS_GPL(register_device_to_pasid, IOASID);

/* Which PASID a call names: the registration's own for a bound one. */
static int ioasid_device_check_pasid(struct ioasid_device *idev, u32 pasid)
{
	if (idev->pasid != IOASID_PASID_NONE)
		return pasid == idev->pasid ? 0 : -EINVAL;
	if (pasid == IOASID_PASID_NONE)
		return 0;
	if (!idev->max_pasids)
		return -EOPNOTSUPP;
	if (pasid == IOMMU_NO_PASID || pasid >= idev->max_pasids)
		return -EINVAL;
	return 0;
}

/*
 * The attachment @idev would share: the RID is attached per IOMMU group, so
 * every device of a group shares its RID attachment; a PASID is per device.
 * Only @idev's group has either.
 */
static struct ioasid_attachment *ioasid_att_find(struct ioasid_device *idev,
						 u32 pasid)
{
	struct ioasid_attachment *att;

	lockdep_assert_held(&idev->igroup->lock);
	list_for_each_entry(att, &idev->igroup->attachments, node) {
		if (att->pasid != pasid)
			continue;
		if (pasid == IOASID_PASID_NONE || att->dev == idev->dev)
			return att;
	}
	return NULL;
}

static void ioasid_device_set_pt(struct ioasid_device *idev, u32 pasid, u32 pt_id)
{
	if (pasid == idev->pasid)
		WRITE_ONCE(idev->attached_pt_id, pt_id);
}

/* What an attachment can translate through, by object type. */
static const struct ioasid_target_ops *const ioasid_target_ops[IOASID_OBJ_MAX] = {
	[IOASID_OBJ_IOAS] = &ioasid_ioas_target_ops,
	[IOASID_OBJ_NESTED] = &ioasid_nested_target_ops,
};

/* The object @pt_id names as a target, referenced in @t->obj. */
static int ioasid_target_get(struct ioasid_ctx *ctx, u32 pt_id,
			     struct ioasid_target *t)
{
	struct ioasid_obj *obj = ioasid_obj_get(ctx, pt_id, IOASID_OBJ_ANY);

	if (IS_ERR(obj))
		return PTR_ERR(obj);
	t->ops = ioasid_target_ops[obj->type];
	if (!t->ops) {
		ioasid_obj_put(obj);
		return -ENOENT;
	}
	t->obj = obj;
	t->idom = NULL;
	return 0;
}

/*
 * Point @att at @t, installing the handle ioasid_att_handle(@att, @replace).
 * A target with a fault queue needs the device's IOMMU to deliver page
 * requests (IOPF), enabled before the hardware may fault through it;
 * *@iopf says whether this call enabled it.
 */
static int ioasid_att_attach(struct ioasid_attachment *att,
			     struct ioasid_target *t, bool replace, bool *iopf)
{
	int rc;

	lockdep_assert_held(&att->igroup->lock);
	*iopf = false;
	if (t->ops->fault(t)) {
		/* An owned domain has no fault routing of ours. */
		if (att->own_domain)
			return -EOPNOTSUPP;
		rc = ioasid_iopf_enable(att->igroup, att->dev);
		if (rc)
			return rc;
		*iopf = true;
	}
	rc = t->ops->attach(att, t, replace);
	if (rc && *iopf) {
		ioasid_iopf_disable(att->igroup, att->dev);
		*iopf = false;
	}
	return rc;
}

/*
 * The hardware left att's current target: answer the faults still pending
 * through it and stop IOPF on its behalf.
 */
static void ioasid_att_fault_done(struct ioasid_attachment *att)
{
	struct ioasid_fault_queue *fq = att->target.ops->fault(&att->target);

	lockdep_assert_held(&att->igroup->lock);
	if (fq)
		ioasid_fault_purge(fq, ioasid_att_handle(att, false));
	if (att->iopf) {
		ioasid_iopf_disable(att->igroup, att->dev);
		att->iopf = false;
	}
}

/* The hardware left att's target: drop its bookkeeping and reference. */
static void ioasid_att_put_target(struct ioasid_attachment *att)
{
	ioasid_att_fault_done(att);
	att->target.ops->put(att);
	ioasid_obj_put(att->target.obj);
}

/* Block att's RID or (device, PASID) and drop its target. */
static void ioasid_att_detach_target(struct ioasid_attachment *att)
{
	att->target.ops->detach(att);
	ioasid_att_fault_done(att);
	ioasid_obj_put(att->target.obj);
}

/* A new attachment of (idev->dev, pasid) to @t, taking over @t's reference. */
static int ioasid_att_new(struct ioasid_device *idev, u32 pasid,
			  struct ioasid_target *t)
{
	struct ioasid_attachment *att;
	bool iopf;
	int rc;

	att = kzalloc(sizeof(*att), GFP_KERNEL_ACCOUNT);
	if (!att)
		return -ENOMEM;
	rc = xa_insert(&idev->attached, pasid, att, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_free;

	att->dev = idev->dev;
	att->igroup = idev->igroup;
	att->pasid = pasid;
	att->ctx = idev->ctx;
	att->own_domain = idev->own_domain;
	att->dev_id = idev->obj.id;
	INIT_LIST_HEAD(&att->members);
	att->handles[0].att = att;
	att->handles[1].att = att;
	rc = ioasid_att_attach(att, t, false, &iopf);
	if (rc)
		goto err_erase;
	att->target = *t;
	att->iopf = iopf;
	att->users = 1;
	att->shared = idev->ops->flags & IOASID_OPS_SUBDEV;
	/* Only the registration's own PASID (or RID) can be shared. */
	if (pasid == idev->pasid)
		list_add_tail(&idev->member_node, &att->members);
	list_add_tail(&att->node, &idev->igroup->attachments);
	return 0;

err_erase:
	xa_erase(&idev->attached, pasid);
err_free:
	kfree(att);
	return rc;
}

/*
 * @idev joins the shared attachment @att: a fault-delivering one needs IOPF
 * for its device too, whose page requests it routes from now on.
 */
static int ioasid_att_join(struct ioasid_attachment *att, struct ioasid_device *idev)
{
	int rc;

	lockdep_assert_held(&att->igroup->lock);
	if (att->iopf) {
		rc = ioasid_iopf_enable(att->igroup, idev->dev);
		if (rc)
			return rc;
	}
	rc = xa_insert(&idev->attached, idev->pasid, att, GFP_KERNEL_ACCOUNT);
	if (rc) {
		if (att->iopf)
			ioasid_iopf_disable(att->igroup, idev->dev);
		return rc;
	}
	list_add_tail(&idev->member_node, &att->members);
	att->users++;
	return 0;
}

/*
 * @idev left the shared attachment @att (and its @members), which others
 * still use. Its device may go away as soon as it is unregistered: stop
 * IOPF on its behalf, and hand the attachment over to the oldest
 * registration that stays, so it never names a departed device (or its
 * dev_id).
 */
static void ioasid_att_leave(struct ioasid_attachment *att, struct ioasid_device *idev)
{
	struct ioasid_device *first;

	lockdep_assert_held(&att->igroup->lock);
	if (att->iopf)
		ioasid_iopf_disable(att->igroup, idev->dev);
	first = list_first_entry_or_null(&att->members, struct ioasid_device,
					 member_node);
	if (WARN_ON(!first))
		return;
	att->dev = first->dev;
	WRITE_ONCE(att->dev_id, first->obj.id);
}

/*
 * Move an attachment to @t, taking over @t's reference. The RID moves
 * atomically; a PASID is detached and attached again (6.12 has no PASID
 * replace), and if the new attachment fails the old one is restored.
 */
static int ioasid_att_replace(struct ioasid_attachment *att,
			      struct ioasid_target *t)
{
	struct iommu_domain *old = att->target.ops->domain(&att->target);
	bool rid = att->pasid == IOASID_PASID_NONE;
	bool iopf;
	int rc;

	if (!rid)
		iommu_detach_device_pasid(old, att->dev, att->pasid);
	rc = ioasid_att_attach(att, t, true, &iopf);
	if (rc) {
		if (!rid)
			WARN_ON(iommu_attach_device_pasid(old, att->dev, att->pasid,
							  ioasid_att_handle(att, false)));
		return rc;
	}
	/* The old target's faults went by the old handle. */
	ioasid_att_put_target(att);
	att->cur = !att->cur;
	att->target = *t;
	att->iopf = iopf;
	return 0;
}

/**
 * ioasid_device_attach_pasid() - translate a device's RID or PASID through an IOAS
 * @idev: the registered device
 * @pasid: IOASID_PASID_NONE for the RID, or a PASID below the device's width;
 *	a registration bound to one PASID may name only that one
 * @pt_id: the ID of an IOAS or a nested object in the device's context: the
 *	one it was registered with. IDs are per context: an ID taken from
 *	another context names this context's object of that number, or
 *	nothing (-ENOENT); no call attaches a device to another context's
 *	objects
 *
 * What IOASID_ATTACH calls. Reuses a domain of the IOAS the device's IOMMU
 * accepts, or allocates one and replays every mapping of the IOAS into it
 * before attaching. Attaching to what the (device, PASID) is attached to
 * already succeeds and changes nothing; if it is attached elsewhere through
 * this registration, its translation is replaced (atomically for the RID;
 * a PASID is detached and attached again, 6.12 has no PASID replace).
 * Sub-devices of one parent attaching the same PASID
 * to the same IOAS share the attachment, and so do the devices of one IOMMU
 * group attaching their RIDs (the IOMMU translates a group as one); a shared
 * attachment lasts until its last user detaches. The attachment holds a
 * reference on the IOAS, which cannot be destroyed meanwhile. On error
 * nothing changed: a replaced RID still translates through its old IOAS,
 * and so does a replaced PASID (its old attachment is restored). The errors
 * are checked in the order listed.
 *
 * Return:
 * * 0, on success; otherwise
 * * -EINVAL: a PASID registration naming another PASID (or the RID); PASID
 *   0, or one at or beyond the device's width
 * * -EOPNOTSUPP: a PASID on a device without PASID support
 * * -ENOENT: @pt_id names no IOAS or nested object of the context
 * * -EBUSY: the (device, PASID) is attached through another registration,
 *   or is shared by sub-devices and this call would replace it; for the
 *   RID, another device of the group has the group attached elsewhere
 * * -EADDRINUSE: a reserved region of the device's group is mapped in the
 *   IOAS
 * * -ERANGE: a mapping of the IOAS lies outside the new domain's aperture
 *   or is not aligned to its smallest page size
 * * -ENOMEM, or the IOMMU driver's error from allocating the domain,
 *   iommu_map() (replay) or the attach itself
 */
int ioasid_device_attach_pasid(struct ioasid_device *idev, u32 pasid, u32 pt_id)
{
	struct ioasid_attachment *att;
	struct ioasid_target t;
	int rc;

	rc = ioasid_device_check_pasid(idev, pasid);
	if (rc)
		return rc;
	rc = ioasid_target_get(idev->ctx, pt_id, &t);
	if (rc)
		return rc;

	mutex_lock(&idev->igroup->lock);
	att = xa_load(&idev->attached, pasid);
	if (att) {
		if (att->target.obj == t.obj)
			goto out_put;	/* already there */
		if (att->users > 1) {
			rc = -EBUSY;	/* shared by sub-devices: detach first */
			goto out_put;
		}
		rc = ioasid_att_replace(att, &t);
		if (rc)
			goto out_put;
		goto out_done;	/* the attachment took over the reference */
	}

	att = ioasid_att_find(idev, pasid);
	if (att) {
		/*
		 * Devices of one group share its RID; sub-devices of one
		 * parent share a PASID. Only into the same IOAS.
		 */
		bool share = pasid == idev->pasid &&
			     (pasid == IOASID_PASID_NONE ||
			      (att->shared && (idev->ops->flags & IOASID_OPS_SUBDEV)));

		if (!share || att->ctx != idev->ctx || att->target.obj != t.obj ||
		    att->own_domain != idev->own_domain) {
			rc = -EBUSY;
			goto out_put;
		}
		rc = ioasid_att_join(att, idev);
		goto out_put;	/* the attachment holds its own reference */
	}

	rc = ioasid_att_new(idev, pasid, &t);
	if (rc)
		goto out_put;
out_done:
	ioasid_device_set_pt(idev, pasid, pt_id);
	mutex_unlock(&idev->igroup->lock);
	return 0;

out_put:
	if (!rc)
		ioasid_device_set_pt(idev, pasid, pt_id);
	mutex_unlock(&idev->igroup->lock);
	ioasid_obj_put(t.obj);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_attach_pasid, IOASID);

/**
 * ioasid_device_detach_pasid() - stop translating a device's RID or PASID
 * @idev: the registered device
 * @pasid: IOASID_PASID_NONE for the RID, or the PASID
 *
 * The (device, PASID) is left blocked from DMA - unless other sub-devices
 * still share the attachment, which then stays. A domain no other device
 * uses is emptied and freed.
 *
 * Return: 0, or -ENOENT if it was not attached through this registration.
 */
int ioasid_device_detach_pasid(struct ioasid_device *idev, u32 pasid)
{
	struct ioasid_attachment *att;

	mutex_lock(&idev->igroup->lock);
	att = xa_erase(&idev->attached, pasid);
	if (!att) {
		mutex_unlock(&idev->igroup->lock);
		return -ENOENT;
	}
	ioasid_device_set_pt(idev, pasid, 0);
	if (pasid == idev->pasid)
		list_del(&idev->member_node);
	if (--att->users) {
		ioasid_att_leave(att, idev);
		mutex_unlock(&idev->igroup->lock);
		return 0;
	}
	ioasid_att_detach_target(att);
	list_del(&att->node);
	mutex_unlock(&idev->igroup->lock);
	kfree(att);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_detach_pasid, IOASID);

/**
 * ioasid_device_attach() - attach a registration's own RID or PASID
 * @idev: the registered device
 * @pt_id: the IOAS (or nested object), in the device's context
 *
 * ioasid_device_attach_pasid() for the PASID the device was registered with
 * (IOASID_PASID_NONE for a whole device), except that an attached device is
 * refused with -EBUSY rather than replaced.
 *
 * Return: as ioasid_device_attach_pasid().
 */
int ioasid_device_attach(struct ioasid_device *idev, u32 pt_id)
{
	if (READ_ONCE(idev->attached_pt_id))
		return -EBUSY;
	return ioasid_device_attach_pasid(idev, idev->pasid, pt_id);
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_attach, IOASID);

/**
 * ioasid_device_replace() - move a registration's own RID or PASID to another IOAS
 * @idev: the registered device
 * @pt_id: the new IOAS (or nested object), in the device's context
 *
 * Return: as ioasid_device_attach_pasid(); -ENOENT if it is not attached.
 */
int ioasid_device_replace(struct ioasid_device *idev, u32 pt_id)
{
	if (!READ_ONCE(idev->attached_pt_id))
		return -ENOENT;
	return ioasid_device_attach_pasid(idev, idev->pasid, pt_id);
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_replace, IOASID);

/**
 * ioasid_device_detach() - detach a registration's own RID or PASID
 * @idev: the registered device; nothing happens if it is not attached
 */
void ioasid_device_detach(struct ioasid_device *idev)
{
	ioasid_device_detach_pasid(idev, idev->pasid);
}
EXPORT_SYMBOL_NS_GPL(ioasid_device_detach, IOASID);

/**
 * ioasid_unregister_device() - take a device back from its context
 * @idev: the handle from register_device_to_pasid()
 *
 * Always succeeds, in any state. Removes the dev_id from the context (no new
 * ioctl finds it), waits for the ioctls already using it to finish (an
 * IOASID_ATTACH in flight, say), detaches every RID and PASID attachment of
 * the registration - leaving them blocked, never translating through a
 * domain about to be freed; a PASID other sub-devices share stays attached
 * for them - then releases DMA ownership (unless the subsystem owns it) and
 * the context reference. The I/O address spaces, their mappings and pins
 * are untouched. @idev is invalid afterwards: call it once per registration.
 */
void ioasid_unregister_device(struct ioasid_device *idev)
{
	struct ioasid_ctx *ctx = idev->ctx;
	struct ioasid_attachment *att;
	unsigned long pasid;

	/*
	 * Leave the table and drop the subsystem's reference in one step (no
	 * IOASID_DESTROY in between); wait for the rest but the table's.
	 */
	ioasid_obj_remove_wait(ctx, &idev->obj);
	/* No ioctl can reach the device now: detach what it left attached. */
	xa_for_each(&idev->attached, pasid, att)
		ioasid_device_detach_pasid(idev, pasid);
	xa_destroy(&idev->attached);
	ioasid_group_put(idev->igroup);
	if (!(idev->ops->flags & IOASID_OPS_DMA_OWNED))
		iommu_device_release_dma_owner(idev->dev);
	iommu_group_put(idev->group);
	kfree(idev);
	fput(ctx->file);
}
EXPORT_SYMBOL_NS_GPL(ioasid_unregister_device, IOASID);

/**
 * ioasid_alloc_global_pasid() - a PASID unique across the system, for a device
 * @dev: the device that will use it (its PASID width bounds the value)
 * @pasid: returns the PASID
 *
 * For subsystems whose devices need a PASID the guest does not choose, e.g.
 * a sub-device's default PASID: drawn from the IOMMU core's global space
 * (iommu_alloc_global_pasid()), which the kernel's other PASID users (SVA)
 * share, so no two devices' sub-devices and no other kernel user get the
 * same value. It lies between 1 and @dev's PASID width minus one. Allocating
 * neither registers nor attaches anything: pass it to
 * register_device_to_pasid(). Release with ioasid_free_global_pasid().
 *
 * Return: 0; -EOPNOTSUPP if @dev has no PASID support; -ENOSPC if none is
 * free in that range (or the allocator is out of memory).
 */
int ioasid_alloc_global_pasid(struct device *dev, u32 *pasid)
{
	ioasid_t id;

	if (!dev->iommu || !dev->iommu->max_pasids)
		return -EOPNOTSUPP;
	id = iommu_alloc_global_pasid(dev);
	if (id == IOMMU_PASID_INVALID)
		return -ENOSPC;
	*pasid = id;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(ioasid_alloc_global_pasid, IOASID);

/**
 * ioasid_free_global_pasid() - release a PASID from ioasid_alloc_global_pasid()
 * @pasid: the PASID; nothing may be attached to it any more (unregister the
 *	registrations that use it first)
 */
void ioasid_free_global_pasid(u32 pasid)
{
	iommu_free_global_pasid(pasid);
}
EXPORT_SYMBOL_NS_GPL(ioasid_free_global_pasid, IOASID);

/* Devices are destroyed by their subsystem, never through the table. */
void ioasid_device_destroy(struct ioasid_obj *obj)
{
	WARN(1, "ioasid: device %u destroyed through the table\n", obj->id);
}

int ioasid_attach_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_attach *cmd = ucmd->cmd;
	struct ioasid_device *idev;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	idev = ioasid_get_device(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = ioasid_device_attach_pasid(idev, cmd->pasid, cmd->pt_id);
	ioasid_put_device(idev);
	return rc;
}

int ioasid_detach_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_attach *cmd = ucmd->cmd;
	struct ioasid_device *idev;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->pt_id)
		return -EINVAL;
	idev = ioasid_get_device(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = ioasid_device_check_pasid(idev, cmd->pasid);
	if (!rc)
		rc = ioasid_device_detach_pasid(idev, cmd->pasid);
	ioasid_put_device(idev);
	return rc;
}

static void ioasid_device_fill_entry(struct ioasid_device *idev,
				     struct ioasid_device_entry *e)
{
	struct iommu_device *iommu = idev->dev->iommu ? idev->dev->iommu->iommu_dev : NULL;

	memset(e, 0, sizeof(*e));
	e->dev_id = idev->obj.id;
	e->pasid = idev->pasid;
	if (idev->max_pasids && idev->pasid == IOASID_PASID_NONE)
		e->flags |= IOASID_DEVICE_PASID;
	if (idev->ops->flags & IOASID_OPS_SUBDEV)
		e->flags |= IOASID_DEVICE_SUBDEV;
	e->max_pasid_bits = idev->max_pasids ? ilog2(idev->max_pasids) : 0;
	e->pgsize_bitmap = idev->pgsize_bitmap;
	e->aperture_start = idev->aperture_start;
	e->aperture_last = idev->aperture_last;
	e->attached_pt_id = READ_ONCE(idev->attached_pt_id);
	if (idev->nesting_formats) {
		e->flags |= IOASID_DEVICE_NESTING;
		e->nesting_formats = idev->nesting_formats;
	}
	strscpy(e->subsystem, idev->ops->name, sizeof(e->subsystem));
	strscpy(e->name, dev_name(idev->dev), sizeof(e->name));
	if (iommu && iommu->dev)
		strscpy(e->iommu, dev_name(iommu->dev), sizeof(e->iommu));
}

int ioasid_device_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_device_info *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	struct ioasid_device_entry *entries = NULL;
	unsigned int room = 0, n, i, esize;
	struct ioasid_device *idev;
	struct ioasid_obj *obj;
	unsigned long index;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->entry_size < sizeof(u32) ||
	    cmd->entry_size > IOASID_DEVICE_ENTRY_SIZE_MAX)
		return -EINVAL;
	esize = min_t(u32, cmd->entry_size, sizeof(*entries));
	/*
	 * The buffer is sized by the devices there are (the user's room only
	 * bounds them): count, allocate, fill; if devices registered in the
	 * meantime and still fit the user's array, look again with more room.
	 */
	for (;;) {
		n = 0;
		/* Devices are freed only after leaving the table under this lock. */
		xa_lock(&ctx->objects);
		xa_for_each(&ctx->objects, index, obj) {
			if (obj->type != IOASID_OBJ_DEVICE)
				continue;
			idev = container_of(obj, struct ioasid_device, obj);
			if (n < room)
				ioasid_device_fill_entry(idev, &entries[n]);
			n++;
		}
		xa_unlock(&ctx->objects);
		if (n <= room || n > cmd->num_devices)
			break;
		kvfree(entries);
		room = n;
		entries = kvcalloc(room, sizeof(*entries), GFP_KERNEL | __GFP_NOWARN);
		if (!entries)
			return -ENOMEM;
		cond_resched();
	}

	if (n > cmd->num_devices) {
		cmd->num_devices = n;
		rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd)) ?: -EMSGSIZE;
		goto out;
	}
	/* Only min(entry_size, ours) bytes of each entry: the rest is not ours. */
	for (i = 0; i < n; i++) {
		void __user *dst = u64_to_user_ptr(cmd->devices) +
				   (u64)i * cmd->entry_size;

		if (copy_to_user(dst, &entries[i], esize)) {
			rc = -EFAULT;
			goto out;
		}
	}
	cmd->num_devices = n;
	rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
out:
	kvfree(entries);
	return rc;
}

void ioasid_device_show(struct seq_file *m, struct ioasid_obj *obj)
{
	struct ioasid_device *idev = container_of(obj, struct ioasid_device, obj);

	seq_printf(m, " subsystem %s dev %s", idev->ops->name, dev_name(idev->dev));
	if (idev->pasid != IOASID_PASID_NONE)
		seq_printf(m, " pasid %u", idev->pasid);
	seq_printf(m, " attached %u", READ_ONCE(idev->attached_pt_id));
}
