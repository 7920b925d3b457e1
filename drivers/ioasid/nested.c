// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: nested objects - a user-owned stage-1 table (the guest's) on a
 * nesting-parent domain of an IOAS (the host's stage 2). The parent is an
 * ordinary domain of the IOAS, filled and kept in sync like every other,
 * but allocated as a nesting parent from the start; the child is whatever
 * the IOMMU driver makes of the user's payload. The context only routes:
 * the driver validates the format, and invalidations go straight to it.
 */
#include <linux/iommu.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "ioasid_private.h"
/*
 * The test mock's format, payload and hw_info types, which the uAPI only
 * reserves: the core maps them as it maps a real IOMMU's.
 */
#include "mock/ioasid_mock.h"

/* The largest payload NESTED_ALLOC and one INVALIDATE entry may carry. */
#define IOASID_NESTED_DATA_MAX		4096
/* The most entries one INVALIDATE may hand over. */
#define IOASID_INVALIDATE_MAX_ENTRIES	65536

static const struct iommu_ops *ioasid_dev_iommu_ops(struct device *dev)
{
	if (!dev->iommu || !dev->iommu->iommu_dev)
		return NULL;
	return dev->iommu->iommu_dev->ops;
}

/*
 * A child of @ioas for @dev's IOMMU: on an existing nesting parent the
 * driver accepts, or on a new one. Returns the child with the parent it
 * hangs on counted as used in @parent.
 *
 * The driver reads the payload (@data) from user memory, which user space
 * can make wait (userfaultfd): the IOAS is not locked across
 * domain_alloc_user(); a use of the parent being tried keeps it (and its
 * place in the list) instead.
 */
static struct iommu_domain *ioasid_nested_domain_alloc(struct ioasid_ioas *ioas,
						       struct device *dev,
						       const struct iommu_user_data *data,
						       struct ioasid_domain **parent)
{
	const struct iommu_ops *ops = ioasid_dev_iommu_ops(dev);
	struct ioasid_domain *idom, *next;
	struct iommu_domain *child;
	bool fresh = false;

	if (!ops || !ops->domain_alloc_user)
		return ERR_PTR(-EOPNOTSUPP);

	mutex_lock(&ioas->mutex);
	idom = list_first_entry(&ioas->domains, struct ioasid_domain, node);
	for (;;) {
		while (!list_entry_is_head(idom, &ioas->domains, node) &&
		       (!idom->nest_parent || idom->domain->owner != ops))
			idom = list_next_entry(idom, node);
		if (list_entry_is_head(idom, &ioas->domains, node)) {
			idom = ioasid_domain_new_nest_parent(ioas, dev);
			if (IS_ERR(idom)) {
				child = ERR_CAST(idom);
				goto out_unlock;
			}
			fresh = true;
		} else {
			idom->users++;
		}
		mutex_unlock(&ioas->mutex);
		child = ops->domain_alloc_user(dev, 0, idom->domain, data);
		mutex_lock(&ioas->mutex);
		if (!IS_ERR_OR_NULL(child))
			break;
		next = list_next_entry(idom, node);
		ioasid_domain_unuse(ioas, idom);
		/* -EINVAL: another instance's parent; anything else is final. */
		if (fresh || PTR_ERR(child) != -EINVAL) {
			child = child ?: ERR_PTR(-ENOMEM);
			goto out_unlock;
		}
		idom = next;
	}
	child->owner = ops;
	*parent = idom;
out_unlock:
	mutex_unlock(&ioas->mutex);
	return child;
}

/* The enum ioasid_nested_format bit of a payload type, 0 if none. */
static u32 ioasid_nested_data_format(u32 type)
{
	switch (type) {
	case IOASID_NESTED_DATA_VTD_S1:
		return IOASID_NESTED_FMT_VTD_S1;
	case IOASID_NESTED_DATA_MOCK:
		return IOASID_NESTED_FMT_MOCK;
	default:
		return 0;
	}
}

static u32 ioasid_nested_data_type(u32 type)
{
	switch (type) {
	case IOASID_NESTED_DATA_VTD_S1:
		return IOMMU_HWPT_DATA_VTD_S1;
	case IOASID_NESTED_DATA_MOCK:
		return IOASID_NESTED_DATA_MOCK;
	default:
		return IOMMU_HWPT_DATA_NONE;
	}
}

int ioasid_nested_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_nested_alloc *cmd = ucmd->cmd;
	const struct ioasid_nested_alloc orig = *cmd;
	struct iommu_user_data data = {
		.type = ioasid_nested_data_type(cmd->data_type),
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	struct ioasid_fault_queue *fq;
	struct ioasid_nested *nested;
	struct iommu_domain *domain;
	struct ioasid_device *idev;
	struct ioasid_ioas *ioas;
	int rc;

	if ((cmd->flags & ~IOASID_NESTED_ALLOC_FAULT) ||
	    (!(cmd->flags & IOASID_NESTED_ALLOC_FAULT) && cmd->fault_id))
		return -EOPNOTSUPP;
	if (data.type == IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;
	if (!cmd->data_len || cmd->data_len > IOASID_NESTED_DATA_MAX)
		return -EINVAL;

	idev = ioasid_get_device(ucmd->ctx, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	ioas = ioasid_get_ioas(ucmd->ctx, cmd->parent_id);
	if (IS_ERR(ioas)) {
		rc = PTR_ERR(ioas);
		goto out_dev;
	}
	/* A format the IOMMU does not take is never the driver's to judge. */
	if (!(idev->nesting_formats & ioasid_nested_data_format(cmd->data_type))) {
		rc = -EOPNOTSUPP;
		goto out_ioas;
	}

	nested = ioasid_obj_alloc(ucmd->ctx, nested, IOASID_OBJ_NESTED);
	if (IS_ERR(nested)) {
		rc = PTR_ERR(nested);
		goto out_ioas;
	}
	/* The nested object keeps the reference on its parent IOAS. */
	nested->ioas = ioas;
	nested->data_type = cmd->data_type;
	if (cmd->flags & IOASID_NESTED_ALLOC_FAULT) {
		fq = ioasid_get_fault_queue(ucmd->ctx, cmd->fault_id);
		if (IS_ERR(fq)) {
			rc = PTR_ERR(fq);
			goto out_abort;
		}
		nested->fault = fq;
	}
	domain = ioasid_nested_domain_alloc(ioas, idev->dev, &data, &nested->parent);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto out_abort;
	}
	nested->domain = domain;
	if (nested->fault)
		ioasid_fault_domain_init(nested->domain, nested->fault);

	cmd->out_nested_id = nested->obj.id;
	rc = ioasid_ucmd_respond_new(ucmd, sizeof(*cmd), &orig);
	if (rc)
		goto out_abort;
	ioasid_obj_publish(ucmd->ctx, &nested->obj);
	ioasid_put_device(idev);
	return 0;

out_abort:
	/* The object took over the reference on the IOAS. */
	ioasid_obj_abort(ucmd->ctx, &nested->obj);
	goto out_dev;
out_ioas:
	ioasid_put_ioas(ioas);
out_dev:
	ioasid_put_device(idev);
	return rc;
}

int ioasid_invalidate_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_invalidate *cmd = ucmd->cmd;
	struct iommu_user_data_array array = {
		.type = cmd->data_type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.entry_len = cmd->entry_len,
		.entry_num = cmd->entry_num,
	};
	struct ioasid_nested *nested;
	int rc, rc2;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->entry_len || cmd->entry_len > IOASID_NESTED_DATA_MAX ||
	    cmd->entry_num > IOASID_INVALIDATE_MAX_ENTRIES)
		return -EINVAL;
	nested = ioasid_get_nested(ucmd->ctx, cmd->id);
	if (IS_ERR(nested))
		return PTR_ERR(nested);

	if (!cmd->entry_num) {
		rc = 0;
	} else if (!nested->domain->ops->cache_invalidate_user) {
		array.entry_num = 0;
		rc = -EOPNOTSUPP;
	} else {
		rc = nested->domain->ops->cache_invalidate_user(nested->domain,
								&array);
		/* A driver never claims more than it was given. */
		if (WARN_ON(array.entry_num > cmd->entry_num))
			array.entry_num = cmd->entry_num;
	}
	cmd->entry_num = array.entry_num;
	rc2 = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	ioasid_put_nested(nested);
	return rc ?: rc2;
}

static struct ioasid_nested *ioasid_target_nested(const struct ioasid_target *t)
{
	return container_of(t->obj, struct ioasid_nested, obj);
}

/**
 * ioasid_nested_attach() - translate a device (RID or PASID) through a nested object
 * @att: the attachment
 * @t: the nested object, referenced by the caller
 * @replace: a replace (see ioasid_hw_attach())
 *
 * The device's reserved regions are carved out of the parent IOAS (stage 2
 * must never map them), owned by the handle being installed; on failure
 * nothing changed.
 *
 * Return: 0; -EOPNOTSUPP if the registration brought its own domain (that
 * is what it must translate through); -EADDRINUSE if a reserved region is
 * mapped in the parent; or the IOMMU driver's error (-EINVAL for a device
 * behind another IOMMU, -EOPNOTSUPP for a PASID when the driver cannot nest
 * PASIDs).
 */
static int ioasid_nested_attach(struct ioasid_attachment *att,
				struct ioasid_target *t, bool replace)
{
	struct ioasid_nested *nested = ioasid_target_nested(t);
	const void *owner = ioasid_att_handle(att, replace);
	struct ioasid_ioas *ioas = nested->ioas;
	int rc;

	if (att->own_domain)
		return -EOPNOTSUPP;
	mutex_lock(&ioas->mutex);
	rc = ioasid_iova_add_resv(ioas, att->dev, att->igroup->group, owner);
	if (rc)
		goto out_unlock;
	rc = ioasid_hw_attach(nested->domain, att, replace);
	if (rc)
		ioasid_iova_remove_resv(ioas, owner);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

/**
 * ioasid_nested_put() - forget an attachment the hardware no longer uses
 * @att: the attachment, whose current target is a nested object
 */
static void ioasid_nested_put(struct ioasid_attachment *att)
{
	struct ioasid_ioas *ioas = ioasid_target_nested(&att->target)->ioas;

	mutex_lock(&ioas->mutex);
	ioasid_iova_remove_resv(ioas, ioasid_att_handle(att, false));
	mutex_unlock(&ioas->mutex);
}

/**
 * ioasid_nested_detach() - detach a device (RID or PASID) from a nested object
 * @att: the attachment, whose current target is a nested object; a
 *	detached RID is left in the blocking domain
 */
static void ioasid_nested_detach(struct ioasid_attachment *att)
{
	ioasid_hw_detach(ioasid_target_nested(&att->target)->domain, att);
	ioasid_nested_put(att);
}

static struct ioasid_fault_queue *ioasid_nested_target_fault(const struct ioasid_target *t)
{
	return ioasid_target_nested(t)->fault;
}

static struct iommu_domain *ioasid_nested_target_domain(const struct ioasid_target *t)
{
	return ioasid_target_nested(t)->domain;
}

/* An attachment to a nested object's domain. */
const struct ioasid_target_ops ioasid_nested_target_ops = {
	.fault = ioasid_nested_target_fault,
	.domain = ioasid_nested_target_domain,
	.attach = ioasid_nested_attach,
	.put = ioasid_nested_put,
	.detach = ioasid_nested_detach,
};

/*
 * The abort step of a nested object never published, and the body of its
 * destroy: nothing is attached (attachments hold references).
 */
void ioasid_nested_abort(struct ioasid_obj *obj)
{
	struct ioasid_nested *nested = container_of(obj, struct ioasid_nested, obj);
	struct ioasid_ioas *ioas = nested->ioas;

	if (nested->domain) {
		mutex_lock(&ioas->mutex);
		iommu_domain_free(nested->domain);
		ioasid_domain_unuse(ioas, nested->parent);
		mutex_unlock(&ioas->mutex);
	}
	if (nested->fault)
		ioasid_put_fault_queue(nested->fault);
	ioasid_put_ioas(ioas);
}

void ioasid_nested_destroy(struct ioasid_obj *obj)
{
	ioasid_nested_abort(obj);
	kfree(container_of(obj, struct ioasid_nested, obj));
}

void ioasid_nested_show(struct seq_file *m, struct ioasid_obj *obj)
{
	struct ioasid_nested *nested = container_of(obj, struct ioasid_nested, obj);

	seq_printf(m, " parent %u data_type %#x", nested->ioas->obj.id,
		   nested->data_type);
}

/**
 * ioasid_nested_formats() - which stage-1 formats the IOMMU of @dev takes
 * @dev: the device
 *
 * Probes by allocating (and freeing) a nesting parent for @dev; the format
 * follows from the IOMMU driver's hw_info type.
 *
 * Return: enum ioasid_nested_format bits, 0 when the IOMMU cannot nest.
 */
u32 ioasid_nested_formats(struct device *dev)
{
	const struct iommu_ops *ops = ioasid_dev_iommu_ops(dev);
	struct iommu_domain *parent;
	u32 len = 0, type = IOMMU_HW_INFO_TYPE_NONE;
	void *info;

	if (!ops || !ops->domain_alloc_user || !ops->hw_info)
		return 0;
	parent = ioasid_paging_domain_alloc(dev, IOMMU_HWPT_ALLOC_NEST_PARENT);
	if (IS_ERR(parent))
		return 0;
	iommu_domain_free(parent);
	info = ops->hw_info(dev, &len, &type);
	if (IS_ERR(info))
		return 0;
	kfree(info);
	switch (type) {
	case IOMMU_HW_INFO_TYPE_INTEL_VTD:
		return IOASID_NESTED_FMT_VTD_S1;
	case IOASID_MOCK_HW_INFO_TYPE:
		return IOASID_NESTED_FMT_MOCK;
	default:
		return 0;
	}
}
