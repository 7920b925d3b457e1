// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_vfio: the VFIO container IOMMU backend on ioasid. The uAPI is
 * include/uapi/linux/ioasid_vfio.h; the kAPI it consumes is
 * include/linux/ioasid.h.
 *
 * One struct vfio_iommu_driver_ops, "ioasid", serves two kinds of container.
 *
 * Native (VFIO_IOASID_IOMMU):
 *
 *   SET_IOMMU -> UNBOUND --VFIO_IOASID_BIND--> BOUND -> released
 *
 *   While unbound, the devices VFIO opens are only remembered. BIND takes a
 *   reference on the context behind an open /dev/ioasid and registers every
 *   remembered device with it, all or nothing. Once bound, each device is
 *   registered when VFIO opens it and unregistered when VFIO closes it. The
 *   devices are registered, never attached: user space finds them in
 *   IOASID_DEVICE_INFO and attaches them with IOASID_ATTACH. A container is
 *   bound at most once (EBUSY) and stays bound until it is released.
 *
 * Compatibility (VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU, while the module
 * parameter type1_compat is set):
 *
 *   SET_IOMMU -> OPEN -> released
 *
 *   open creates an internal context (no user fd) with one IOAS. Each device
 *   VFIO opens is registered with that context and attached to the IOAS;
 *   VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA act on
 *   the IOAS with type1's semantics for the container's version: v1 unmaps
 *   whole every mapping that begins in the range and nothing when the range
 *   begins inside one, v2 refuses a range that cuts a mapping. Neither ever
 *   splits a mapping, so both keep huge IOPTEs. ioasid pins at map time
 *   and replays the IOAS into the domain of each device that attaches
 *   later. Maps share pins across the compat containers of one process
 *   (IOASID_KERN_MAP_SHARE_PINS): a VMM with one container per address
 *   space pins and charges guest RAM once, not once per container. As in
 *   type1, a container holds at most dma_entry_limit mappings (read at
 *   open; VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL reports what is left).
 *
 * VFIO's register_device callback cannot fail. A device that cannot be
 * registered (or, in compatibility mode, attached) is warned about and stays
 * open without DMA translation: blocked, and absent from IOASID_DEVICE_INFO.
 * BIND, which can fail, returns the error of the first device it cannot
 * register instead.
 *
 * Groups: VFIO_IOMMU and VFIO_EMULATED_IOMMU groups are accepted,
 * VFIO_NO_IOMMU groups refused with EINVAL (VFIO then goes on to the next
 * backend). An emulated-IOMMU (mdev-style) device has no IOMMU to register:
 * it reads the IOAS through one emulated-device access of the container
 * (ioasid_access_create(), made when the first such device opens, ended
 * when the container is released), on the compat IOAS or, in a native
 * container, on the IOAS named with VFIO_IOASID_BIND_EMULATED_IOAS.
 * pin_pages, unpin_pages and dma_rw go to that access; when a range the
 * access pinned is unmapped, every emulated device of the container gets
 * its dma_unmap callback before the unmap returns, and must unpin (UNMAP
 * fails with EBUSY if it does not). Pins are released by exactly the
 * (iova, npage) they were made with.
 *
 * Locking. VFIO calls
 *  - open, release, attach_group, detach_group under container->group_lock
 *    (held for write);
 *  - register_device, unregister_device under the vfio_group's group_lock
 *    and the device set's lock, but not under container->group_lock: they
 *    race with container ioctls and with other groups' attach and detach;
 *  - ioctl with no VFIO lock held (CHECK_EXTENSION: container->group_lock
 *    held for read).
 * struct ioasid_vfio::lock protects the group and device lists and the
 * native binding. It nests inside all VFIO locks and is held across calls
 * into ioasid (register, attach, unregister), which never call back into
 * VFIO or into this module:
 *
 *   VFIO's locks -> ioasid_vfio::lock -> ioasid's locks
 *
 * The compatibility context and IOAS never change after open, so MAP, UNMAP
 * and GET_INFO take no lock of ours; ioasid serialises them.
 *
 * release runs when the last group leaves the container (or when SET_IOMMU
 * unwinds). A group leaves only when none of its devices is open, so every
 * device has been unregistered by then.
 *
 * Lifetime. VFIO passes container ioctls to the backend with no lock and no
 * reference: vfio_fops_unl_ioctl() loads container->iommu_driver and
 * container->iommu_data, one after the other, and calls ops->ioctl. So
 * release - VFIO_GROUP_UNSET_CONTAINER or the close of the last group's
 * file, in another thread - can run while an ioctl is on its way in or
 * inside (type1 frees its state in release and has exactly this
 * use-after-free), and the ioctl may even be handed the NULL (or the next
 * backend's data) that VFIO stored after release, with this driver's
 * ops. Three rules make that safe:
 *  - an ioctl uses @iommu_data only if it is in ioasid_vfio_live, the set
 *    of states VFIO holds (added by open, removed first thing in release),
 *    and takes a reference under the set's lock; anything else is -EINVAL,
 *    as VFIO answers a container with no backend;
 *  - the state is refcounted: VFIO's reference is dropped by release, each
 *    ioctl holds one while it runs, and the last one ends the context;
 *  - the memory is freed only after two RCU Tasks grace periods, so that
 *    no new state can reuse the address of one an ioctl is still on its
 *    way in with: between VFIO's load and the lookup an ioctl runs a few
 *    instructions with no voluntary context switch, which RCU Tasks waits
 *    for. The first period ends after release's thread has gone on to
 *    clear iommu_data (it is running in the kernel when the free is
 *    queued), the second after every ioctl that loaded the old pointer has
 *    looked it up.
 *
 * The access's unmap callback runs with no ioasid lock held and takes
 * ioasid_vfio::emu_lock (the list of emulated devices) around the
 * devices' dma_unmap, which take their drivers' locks and unpin:
 *
 *   ioasid_vfio::emu_lock -> mdev driver locks -> ioasid's locks
 *
 * pin_pages, unpin_pages and dma_rw take no lock of ours (the access
 * pointer is set once, under ioasid_vfio::lock, and lives until release).
 * group_iommu_domain is not provided: nothing in 6.12 calls it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <uapi/linux/ioasid_vfio.h>

/* drivers/vfio/vfio.h of KSRC: struct vfio_iommu_driver_ops */
#include "vfio.h"

static bool type1_compat = true;
module_param(type1_compat, bool, 0644);
MODULE_PARM_DESC(type1_compat,
		 "Serve VFIO_TYPE1_IOMMU and VFIO_TYPE1v2_IOMMU containers on ioasid (default: Y); read at each VFIO_SET_IOMMU");

/*
 * type1's limit on the mappings of one container, with its name, meaning and
 * default: each mapping costs kernel memory that RLIMIT_MEMLOCK does not
 * bound (CVE-2019-3882), so a user mapping page by page stops at ENOSPC.
 */
static unsigned int dma_entry_limit = U16_MAX;
module_param(dma_entry_limit, uint, 0644);
MODULE_PARM_DESC(dma_entry_limit,
		 "Maximum number of user DMA mappings per compatibility container (65535); read at VFIO_SET_IOMMU");

/* GET_INFO gives up on IOVA ranges that keep changing under it. */
#define IOASID_VFIO_RANGES_TRIES	8

/**
 * struct ioasid_vfio_group - an IOMMU group of the container
 * @node: in ioasid_vfio::groups
 * @iommu_group: the group, as VFIO passed it to attach_group
 * @emulated: a VFIO_EMULATED_IOMMU group (mdev-style devices)
 */
struct ioasid_vfio_group {
	struct list_head node;
	struct iommu_group *iommu_group;
	bool emulated;
};

/**
 * struct ioasid_vfio_device - a device VFIO has opened in the container
 * @node: in ioasid_vfio::devices
 * @vdev: the VFIO device
 * @idev: its registration; NULL while the native container is unbound or
 *	when registration (compat: attachment) failed
 * @dev_id: its ID in the context, valid with @idev
 * @emu_node: for a device of an emulated-IOMMU group, in
 *	ioasid_vfio::emulated (empty otherwise)
 */
struct ioasid_vfio_device {
	struct list_head node;
	struct vfio_device *vdev;
	struct ioasid_device *idev;
	u32 dev_id;
	struct list_head emu_node;
};

/**
 * struct ioasid_vfio - a container's backend state (VFIO's iommu_data)
 * @live_node: in ioasid_vfio_live from open until release
 * @users: VFIO's reference (dropped by release) and one per running ioctl;
 *	the last one ends the context
 * @rcu: frees the memory two RCU Tasks grace periods after the last put
 * @rcu_again: the first of the two grace periods has passed
 * @compat: a VFIO_TYPE1_IOMMU or VFIO_TYPE1v2_IOMMU container; else
 *	VFIO_IOASID_IOMMU
 * @v1: compat only: VFIO_TYPE1_IOMMU
 * @dma_avail: compat only: mappings it may still make (dma_entry_limit at
 *	open, one taken by each MAP_DMA, given back by UNMAP_DMA)
 * @ioas_id: compat only: the IOAS every device is attached to
 * @lock: protects @ctx of a native container, @groups and @devices
 * @ctx: the context; compat: created by open, constant; native: NULL until
 *	VFIO_IOASID_BIND, then constant
 * @groups: struct ioasid_vfio_group, the groups VFIO attached
 * @devices: struct ioasid_vfio_device, the devices VFIO has open
 * @emu_ioas_id: the IOAS emulated devices read: compat: @ioas_id; native:
 *	from VFIO_IOASID_BIND_EMULATED_IOAS, 0 without it
 * @access: the emulated-device access, made by the first emulated device
 *	(under @lock), constant from then until release
 * @emu_lock: protects @emulated
 * @emulated: struct ioasid_vfio_device of emulated-IOMMU devices, by emu_node
 */
struct ioasid_vfio {
	struct list_head live_node;
	refcount_t users;
	struct rcu_head rcu;
	bool rcu_again;
	bool compat;
	bool v1;
	atomic_t dma_avail;
	u32 ioas_id;
	struct mutex lock; /* protects ctx (native), groups, devices */
	struct ioasid_ctx *ctx;
	struct list_head groups;
	struct list_head devices;
	u32 emu_ioas_id;
	struct ioasid_access *access;
	struct mutex emu_lock; /* protects emulated */
	struct list_head emulated;
};

/* The states VFIO holds: what an ioctl's iommu_data may be. */
static LIST_HEAD(ioasid_vfio_live);
static DEFINE_SPINLOCK(ioasid_vfio_live_lock);

static void ioasid_vfio_publish(struct ioasid_vfio *iv)
{
	spin_lock(&ioasid_vfio_live_lock);
	list_add(&iv->live_node, &ioasid_vfio_live);
	spin_unlock(&ioasid_vfio_live_lock);
}

/*
 * The state @iommu_data names, with a reference, if VFIO still holds it
 * (release has not begun); else NULL. Never dereferences @iommu_data
 * before finding it in the set.
 */
static struct ioasid_vfio *ioasid_vfio_get(void *iommu_data)
{
	struct ioasid_vfio *iv, *found = NULL;

	spin_lock(&ioasid_vfio_live_lock);
	list_for_each_entry(iv, &ioasid_vfio_live, live_node) {
		if (iv == iommu_data) {
			/* In the set, VFIO's reference is held. */
			refcount_inc(&iv->users);
			found = iv;
			break;
		}
	}
	spin_unlock(&ioasid_vfio_live_lock);
	return found;
}

static const struct ioasid_device_ops ioasid_vfio_dev_ops = {
	.name = "vfio",
	.flags = IOASID_OPS_DMA_OWNED,
};

static struct ioasid_vfio *ioasid_vfio_alloc(bool compat)
{
	struct ioasid_vfio *iv;

	iv = kzalloc(sizeof(*iv), GFP_KERNEL_ACCOUNT);
	if (!iv)
		return NULL;
	refcount_set(&iv->users, 1);
	iv->compat = compat;
	mutex_init(&iv->lock);
	INIT_LIST_HEAD(&iv->groups);
	INIT_LIST_HEAD(&iv->devices);
	mutex_init(&iv->emu_lock);
	INIT_LIST_HEAD(&iv->emulated);
	return iv;
}

static void ioasid_vfio_free(struct ioasid_vfio *iv)
{
	mutex_destroy(&iv->emu_lock);
	mutex_destroy(&iv->lock);
	kfree(iv);
}

/* Two RCU Tasks grace periods after the last put: no ioctl can reach @iv. */
static void ioasid_vfio_free_rcu(struct rcu_head *head)
{
	struct ioasid_vfio *iv = container_of(head, struct ioasid_vfio, rcu);

	if (!iv->rcu_again) {
		iv->rcu_again = true;
		call_rcu_tasks(&iv->rcu, ioasid_vfio_free_rcu);
		return;
	}
	kfree(iv);
}

/*
 * Drops a reference; the last one ends the emulated-device access and the
 * context (unpinning what the container mapped), and frees the state once
 * no ioctl can still be on its way in.
 */
static void ioasid_vfio_put(struct ioasid_vfio *iv)
{
	if (!refcount_dec_and_test(&iv->users))
		return;
	if (iv->access)
		ioasid_access_destroy(iv->access);
	if (iv->ctx)
		ioasid_ctx_put(iv->ctx);
	mutex_destroy(&iv->emu_lock);
	mutex_destroy(&iv->lock);
	call_rcu_tasks(&iv->rcu, ioasid_vfio_free_rcu);
}

/**
 * ioasid_vfio_open() - vfio_iommu_driver_ops.open, for VFIO_SET_IOMMU
 * @arg: the container type user space asked for
 *
 * Return: the backend state; ERR_PTR(-EINVAL) for a type this backend does
 * not serve (VFIO then tries the next backend), ERR_PTR(-ENOMEM), or the
 * error of creating the compatibility context or IOAS.
 */
static void *ioasid_vfio_open(unsigned long arg)
{
	struct ioasid_ctx *ctx;
	struct ioasid_vfio *iv;
	int rc;

	switch (arg) {
	case VFIO_IOASID_IOMMU:
		iv = ioasid_vfio_alloc(false);
		if (!iv)
			return ERR_PTR(-ENOMEM);
		ioasid_vfio_publish(iv);
		return iv;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
		if (!READ_ONCE(type1_compat))
			return ERR_PTR(-EINVAL);
		break;
	default:
		return ERR_PTR(-EINVAL);
	}

	iv = ioasid_vfio_alloc(true);
	if (!iv)
		return ERR_PTR(-ENOMEM);
	iv->v1 = arg == VFIO_TYPE1_IOMMU;
	atomic_set(&iv->dma_avail, min_t(unsigned int, READ_ONCE(dma_entry_limit),
					 INT_MAX));
	ctx = ioasid_ctx_create();
	if (IS_ERR(ctx)) {
		rc = PTR_ERR(ctx);
		goto err_free;
	}
	rc = ioasid_kern_ioas_alloc(ctx, &iv->ioas_id);
	if (rc)
		goto err_ctx;
	iv->ctx = ctx;
	iv->emu_ioas_id = iv->ioas_id;
	ioasid_vfio_publish(iv);
	return iv;

err_ctx:
	ioasid_ctx_put(ctx);
err_free:
	ioasid_vfio_free(iv);
	return ERR_PTR(rc);
}

/*
 * The access's unmap callback: [iova, iova + length) leaves the IOAS.
 * Every emulated device of the container stops using it and unpins.
 */
static void ioasid_vfio_access_unmap(void *data, unsigned long iova,
				     unsigned long length)
{
	struct ioasid_vfio *iv = data;
	struct ioasid_vfio_device *vd;

	mutex_lock(&iv->emu_lock);
	list_for_each_entry(vd, &iv->emulated, emu_node) {
		if (!vd->vdev->ops->dma_unmap)
			continue;
		/*
		 * An unmap of everything comes as length 0 (2^64 wrapped);
		 * dma_unmap has no such convention: two halves.
		 */
		if (!length) {
			vd->vdev->ops->dma_unmap(vd->vdev, iova, 1ULL << 63);
			vd->vdev->ops->dma_unmap(vd->vdev, iova + (1ULL << 63), 1ULL << 63);
		} else {
			vd->vdev->ops->dma_unmap(vd->vdev, iova, length);
		}
	}
	mutex_unlock(&iv->emu_lock);
}

static const struct ioasid_access_ops ioasid_vfio_access_ops = {
	.needs_pin_pages = 1,
	.unmap = ioasid_vfio_access_unmap,
};

/* Is @vdev in one of the container's emulated-IOMMU groups? */
static bool ioasid_vfio_is_emulated(struct ioasid_vfio *iv,
				    struct vfio_device *vdev)
{
	struct iommu_group *group = iommu_group_get(vdev->dev);
	struct ioasid_vfio_group *ig;
	bool emulated = false;

	lockdep_assert_held(&iv->lock);
	if (!group)
		return false;
	list_for_each_entry(ig, &iv->groups, node) {
		if (ig->iommu_group == group) {
			emulated = ig->emulated;
			break;
		}
	}
	iommu_group_put(group);
	return emulated;
}

/*
 * An emulated-IOMMU device: nothing to register with the context; it
 * reads the IOAS through the container's access, made on first use.
 * Without an IOAS for emulated devices (a native container bound without
 * VFIO_IOASID_BIND_EMULATED_IOAS) it stays without DMA: vfio_pin_pages()
 * and vfio_dma_rw() fail with EINVAL.
 */
static int ioasid_vfio_register_emulated(struct ioasid_vfio *iv,
					 struct ioasid_ctx *ctx,
					 struct ioasid_vfio_device *vd)
{
	struct ioasid_access *access;

	lockdep_assert_held(&iv->lock);
	if (!iv->emu_ioas_id)
		return 0;
	if (!iv->access) {
		access = ioasid_access_create(ctx, iv->emu_ioas_id,
					      &ioasid_vfio_access_ops, iv);
		if (IS_ERR(access))
			return PTR_ERR(access);
		WRITE_ONCE(iv->access, access);
	}
	mutex_lock(&iv->emu_lock);
	list_add_tail(&vd->emu_node, &iv->emulated);
	mutex_unlock(&iv->emu_lock);
	return 0;
}

/*
 * Register @vd with @ctx and, in a compat container, attach it to the IOAS.
 * On failure the device is left unregistered.
 */
static int ioasid_vfio_register(struct ioasid_vfio *iv, struct ioasid_ctx *ctx,
				struct ioasid_vfio_device *vd)
{
	struct ioasid_device *idev;
	int rc;

	lockdep_assert_held(&iv->lock);
	if (ioasid_vfio_is_emulated(iv, vd->vdev))
		return ioasid_vfio_register_emulated(iv, ctx, vd);

	idev = register_device_to_pasid(ctx, IOASID_PASID_NONE, vd->vdev->dev,
					NULL, &ioasid_vfio_dev_ops, vd->vdev,
					&vd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	if (iv->compat) {
		rc = ioasid_device_attach(idev, iv->ioas_id);
		if (rc) {
			ioasid_unregister_device(idev);
			return rc;
		}
	}
	vd->idev = idev;
	return 0;
}

static void ioasid_vfio_unregister(struct ioasid_vfio *iv,
				   struct ioasid_vfio_device *vd)
{
	lockdep_assert_held(&iv->lock);

	if (!list_empty(&vd->emu_node)) {
		mutex_lock(&iv->emu_lock);
		list_del_init(&vd->emu_node);
		mutex_unlock(&iv->emu_lock);
	}
	if (vd->idev) {
		ioasid_unregister_device(vd->idev);
		vd->idev = NULL;
	}
}

/**
 * ioasid_vfio_register_device() - vfio_iommu_driver_ops.register_device
 * @iommu_data: the backend state
 * @vdev: the device VFIO is opening for the first time
 *
 * Registers @vdev with the context (compat: and attaches it to the IOAS);
 * an unbound native container only remembers it for VFIO_IOASID_BIND.
 * Failures are warned about: the device then has no DMA translation.
 */
static void ioasid_vfio_register_device(void *iommu_data,
					struct vfio_device *vdev)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_vfio_device *vd;
	int rc;

	/* Out of memory (the allocator has warned): no DMA translation. */
	vd = kzalloc(sizeof(*vd), GFP_KERNEL_ACCOUNT);
	if (!vd)
		return;
	vd->vdev = vdev;
	INIT_LIST_HEAD(&vd->emu_node);

	mutex_lock(&iv->lock);
	if (iv->ctx) {
		rc = ioasid_vfio_register(iv, iv->ctx, vd);
		if (rc)
			dev_warn(vdev->dev, "ioasid_vfio: cannot %s the device (%d); it has no DMA translation\n",
				 iv->compat ? "register and attach" : "register",
				 rc);
	}
	list_add_tail(&vd->node, &iv->devices);
	mutex_unlock(&iv->lock);
}

/**
 * ioasid_vfio_unregister_device() - vfio_iommu_driver_ops.unregister_device
 * @iommu_data: the backend state
 * @vdev: the device VFIO has closed for the last time
 *
 * Unregisters @vdev from the context if it is registered (it is left
 * blocked from DMA) and forgets it.
 */
static void ioasid_vfio_unregister_device(void *iommu_data,
					  struct vfio_device *vdev)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_vfio_device *vd;

	mutex_lock(&iv->lock);
	list_for_each_entry(vd, &iv->devices, node) {
		if (vd->vdev == vdev) {
			ioasid_vfio_unregister(iv, vd);
			list_del(&vd->node);
			kfree(vd);
			break;
		}
	}
	/* Not found: register_device ran out of memory; nothing to undo. */
	mutex_unlock(&iv->lock);
}

/**
 * ioasid_vfio_attach_group() - vfio_iommu_driver_ops.attach_group
 * @iommu_data: the backend state
 * @iommu_group: the group joining the container; VFIO owns its DMA
 * @type: what backs the group
 *
 * Return: 0; -EINVAL for a no-IOMMU group, -ENOMEM.
 */
static int ioasid_vfio_attach_group(void *iommu_data,
				    struct iommu_group *iommu_group,
				    enum vfio_group_type type)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_vfio_group *ig;

	if (type != VFIO_IOMMU && type != VFIO_EMULATED_IOMMU)
		return -EINVAL;

	ig = kzalloc(sizeof(*ig), GFP_KERNEL_ACCOUNT);
	if (!ig)
		return -ENOMEM;
	ig->iommu_group = iommu_group;
	ig->emulated = type == VFIO_EMULATED_IOMMU;

	mutex_lock(&iv->lock);
	list_add_tail(&ig->node, &iv->groups);
	mutex_unlock(&iv->lock);
	return 0;
}

/**
 * ioasid_vfio_detach_group() - vfio_iommu_driver_ops.detach_group
 * @iommu_data: the backend state
 * @iommu_group: a group attach_group accepted; none of its devices is open
 */
static void ioasid_vfio_detach_group(void *iommu_data,
				     struct iommu_group *iommu_group)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_vfio_group *ig;

	mutex_lock(&iv->lock);
	list_for_each_entry(ig, &iv->groups, node) {
		if (ig->iommu_group == iommu_group) {
			list_del(&ig->node);
			kfree(ig);
			mutex_unlock(&iv->lock);
			return;
		}
	}
	mutex_unlock(&iv->lock);
	WARN_ON_ONCE(1);
}

/**
 * ioasid_vfio_release() - vfio_iommu_driver_ops.release
 * @iommu_data: the backend state
 *
 * Unregisters whatever is still registered (nothing, when VFIO keeps its
 * rules) and drops VFIO's reference: the context ends now, or when the
 * last ioctl still running on the container returns.
 */
static void ioasid_vfio_release(void *iommu_data)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_vfio_device *vd, *vd_next;
	struct ioasid_vfio_group *ig, *ig_next;

	/* From now on no ioctl finds @iv; those inside hold references. */
	spin_lock(&ioasid_vfio_live_lock);
	list_del(&iv->live_node);
	spin_unlock(&ioasid_vfio_live_lock);

	mutex_lock(&iv->lock);
	WARN_ON_ONCE(!list_empty(&iv->devices));
	list_for_each_entry_safe(vd, vd_next, &iv->devices, node) {
		ioasid_vfio_unregister(iv, vd);
		list_del(&vd->node);
		kfree(vd);
	}
	WARN_ON_ONCE(!list_empty(&iv->groups));
	list_for_each_entry_safe(ig, ig_next, &iv->groups, node) {
		list_del(&ig->node);
		kfree(ig);
	}
	mutex_unlock(&iv->lock);

	/* No device is open: no callback, pin or rw can run any more. */
	ioasid_vfio_put(iv);
}

/**
 * ioasid_vfio_pin_pages() - vfio_iommu_driver_ops.pin_pages
 * @iommu_data: the backend state
 * @iommu_group: the emulated device's group
 * @user_iova: IOVA; VFIO ignores its offset in the page
 * @npage: pages from the page holding @user_iova
 * @prot: IOMMU_READ and/or IOMMU_WRITE
 * @pages: receives the pages
 *
 * Return: @npage; -EACCES in a VFIO_TYPE1_IOMMU container (type1 pins for
 * v2 only); -EINVAL without an access (no emulated device, or a native
 * container without an IOAS for them); the errors of
 * ioasid_access_pin_pages().
 */
static int ioasid_vfio_pin_pages(void *iommu_data, struct iommu_group *iommu_group,
				 dma_addr_t user_iova, int npage, int prot,
				 struct page **pages)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_access *access = READ_ONCE(iv->access);
	int rc;

	if (iv->v1)
		return -EACCES;
	if (!access || npage <= 0 || user_iova > ULONG_MAX)
		return -EINVAL;
	rc = ioasid_access_pin_pages(access, ALIGN_DOWN(user_iova, PAGE_SIZE),
				     (unsigned long)npage << PAGE_SHIFT, pages,
				     prot & IOMMU_WRITE ? IOASID_ACCESS_WRITE : 0);
	/* type1: EINVAL for an IOVA no mapping covers */
	if (rc == -ENOENT)
		rc = -EINVAL;
	return rc ?: npage;
}

/**
 * ioasid_vfio_unpin_pages() - vfio_iommu_driver_ops.unpin_pages
 * @iommu_data: the backend state
 * @user_iova: as pinned
 * @npage: as pinned
 */
static void ioasid_vfio_unpin_pages(void *iommu_data, dma_addr_t user_iova,
				    int npage)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_access *access = READ_ONCE(iv->access);

	if (WARN_ON_ONCE(!access))
		return;
	ioasid_access_unpin_pages(access, ALIGN_DOWN(user_iova, PAGE_SIZE),
				  (unsigned long)npage << PAGE_SHIFT);
}

/**
 * ioasid_vfio_dma_rw() - vfio_iommu_driver_ops.dma_rw
 * @iommu_data: the backend state
 * @user_iova: IOVA
 * @data: kernel buffer
 * @count: bytes
 * @write: write the IOAS from @data, else read it into @data
 *
 * Return: 0, -EINVAL without an access, or the errors of ioasid_access_rw().
 */
static int ioasid_vfio_dma_rw(void *iommu_data, dma_addr_t user_iova,
			      void *data, size_t count, bool write)
{
	struct ioasid_vfio *iv = iommu_data;
	struct ioasid_access *access = READ_ONCE(iv->access);
	int rc;

	if (!access || user_iova > ULONG_MAX)
		return -EINVAL;
	rc = ioasid_access_rw(access, user_iova, data, count,
			      write ? IOASID_ACCESS_WRITE : 0);
	/* type1: EINVAL for an IOVA no mapping covers */
	return rc == -ENOENT ? -EINVAL : rc;
}

/*
 * VFIO_CHECK_EXTENSION. Without a container (@iv NULL, VFIO polling the
 * backends) the answers describe the backend: VFIO_IOASID_IOMMU always,
 * VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU and VFIO_UNMAP_ALL while
 * type1_compat is set. With a container they describe that container: a
 * native one has no type1 ioctls, a compat one keeps them whatever
 * type1_compat says now, and answers VFIO_DMA_CC_IOMMU as type1 does:
 * whether every domain of its IOAS enforces cache coherency (yes while it
 * has none). VFIO calls this with container->group_lock held for read, so
 * @iv cannot be released under it.
 */
static long ioasid_vfio_check_extension(struct ioasid_vfio *iv,
					unsigned long ext)
{
	switch (ext) {
	case VFIO_IOASID_IOMMU:
		return 1;
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		if (!iv)
			return READ_ONCE(type1_compat) ? 1 : 0;
		return iv->compat ? 1 : 0;
	case VFIO_DMA_CC_IOMMU:
		if (!iv || !iv->compat)
			return 0;
		return ioasid_kern_ioas_coherent(iv->ctx, iv->ioas_id) == 1;
	default:
		return 0;
	}
}

/*
 * VFIO_IOASID_BIND on a native container. Errors: EFAULT; EINVAL (argsz
 * below the structure, flags or __reserved not 0); EBADF (ioasid_fd is not
 * an open /dev/ioasid); EBUSY (bound already); or the error of registering
 * a device opened before, in which case nothing is bound or registered.
 */
static int ioasid_vfio_bind(struct ioasid_vfio *iv, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_ioasid_bind, ioas_id);
	struct ioasid_vfio_device *vd;
	struct vfio_ioasid_bind bind;
	struct ioasid_ctx *ctx;
	struct file *file;
	int rc;

	if (copy_from_user(&bind, uarg, minsz))
		return -EFAULT;
	if (bind.argsz < minsz || (bind.flags & ~VFIO_IOASID_BIND_EMULATED_IOAS) ||
	    (!(bind.flags & VFIO_IOASID_BIND_EMULATED_IOAS) && bind.ioas_id) ||
	    ((bind.flags & VFIO_IOASID_BIND_EMULATED_IOAS) && !bind.ioas_id))
		return -EINVAL;

	file = fget(bind.ioasid_fd);
	if (!file)
		return -EBADF;
	ctx = get_ioasid_from_file(file);
	fput(file);
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);

	mutex_lock(&iv->lock);
	if (iv->ctx) {
		rc = -EBUSY;
		goto err_unlock;
	}
	iv->emu_ioas_id = bind.ioas_id;
	list_for_each_entry(vd, &iv->devices, node) {
		rc = ioasid_vfio_register(iv, ctx, vd);
		if (rc) {
			dev_dbg(vd->vdev->dev, "ioasid_vfio: bind: cannot register the device (%d)\n",
				rc);
			goto err_unwind;
		}
	}
	iv->ctx = ctx;
	mutex_unlock(&iv->lock);
	return 0;

err_unwind:
	list_for_each_entry_continue_reverse(vd, &iv->devices, node)
		ioasid_vfio_unregister(iv, vd);
	iv->emu_ioas_id = 0;
	if (iv->access) {
		ioasid_access_destroy(iv->access);
		iv->access = NULL;
	}
err_unlock:
	mutex_unlock(&iv->lock);
	ioasid_ctx_put(ctx);
	return rc;
}

/*
 * The IOVA ranges of the compat IOAS, in a kmalloc()ed array the caller
 * frees. Returns their number (*@out is NULL when there are none) or an
 * errno; -EAGAIN if they keep changing while being read.
 */
static int ioasid_vfio_get_ranges(struct ioasid_vfio *iv,
				  struct ioasid_iova_range **out,
				  unsigned long *pgsizes)
{
	struct ioasid_iova_range *ranges = NULL;
	unsigned int max = 0;
	int tries, n;

	for (tries = 0; tries < IOASID_VFIO_RANGES_TRIES; tries++) {
		n = ioasid_kern_iova_ranges(iv->ctx, iv->ioas_id, ranges, max,
					    pgsizes);
		if (n < 0)
			break;
		if ((unsigned int)n <= max) {
			if (!n) {
				kfree(ranges);
				ranges = NULL;
			}
			*out = ranges;
			return n;
		}
		kfree(ranges);
		max = n;
		ranges = kcalloc(max, sizeof(*ranges), GFP_KERNEL);
		if (!ranges)
			return -ENOMEM;
	}
	kfree(ranges);
	return n < 0 ? n : -EAGAIN;
}

/* Whether a group behind a real IOMMU is in the container. */
static bool ioasid_vfio_has_iommu_group(struct ioasid_vfio *iv)
{
	struct ioasid_vfio_group *ig;
	bool found = false;

	mutex_lock(&iv->lock);
	list_for_each_entry(ig, &iv->groups, node)
		if (!ig->emulated)
			found = true;
	mutex_unlock(&iv->lock);
	return found;
}

/*
 * The capability chain of VFIO_IOMMU_GET_INFO: the DMA mappings available
 * and the usable IOVA ranges. Unlike type1 there is no migration capability:
 * dirty page tracking is not supported.
 */
static int ioasid_vfio_info_caps(struct ioasid_vfio *iv,
				 struct vfio_info_cap *caps,
				 unsigned long *pgsizes)
{
	struct vfio_iommu_type1_info_dma_avail dma_avail = {
		.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
		.header.version = 1,
		.avail = atomic_read(&iv->dma_avail),
	};
	struct vfio_iommu_type1_info_cap_iova_range *cap_iovas;
	struct vfio_info_cap_header *header;
	struct ioasid_iova_range *ranges;
	int rc, n, i;

	n = ioasid_vfio_get_ranges(iv, &ranges, pgsizes);
	if (n < 0)
		return n;

	rc = vfio_info_add_capability(caps, &dma_avail.header,
				      sizeof(dma_avail));
	if (rc)
		goto out_free;

	/*
	 * As type1: no capability when there is no range - and none while
	 * the container holds only emulated-IOMMU groups, whose IOAS no
	 * IOMMU limits (type1 learns its ranges from IOMMU domains only).
	 */
	if (!n || !ioasid_vfio_has_iommu_group(iv))
		goto out_free;
	header = vfio_info_cap_add(caps, struct_size(cap_iovas, iova_ranges, n),
				   VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE, 1);
	if (IS_ERR(header)) {
		rc = PTR_ERR(header);
		goto out_free;
	}
	cap_iovas = container_of(header,
				 struct vfio_iommu_type1_info_cap_iova_range,
				 header);
	cap_iovas->nr_iovas = n;
	for (i = 0; i < n; i++) {
		cap_iovas->iova_ranges[i].start = ranges[i].start;
		cap_iovas->iova_ranges[i].end = ranges[i].last;
	}

out_free:
	kfree(ranges);
	return rc;
}

/*
 * VFIO_IOMMU_GET_INFO, as type1: argsz must cover iova_pgsizes (else
 * EINVAL); at most argsz bytes of the structure are written back. When
 * argsz leaves no room for the capability chain, argsz is raised to the
 * size needed and cap_offset stays 0; otherwise the chain follows the
 * structure and cap_offset points at it.
 */
static int ioasid_vfio_get_info(struct ioasid_vfio *iv, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_info_cap caps = { .buf = NULL, .size = 0 };
	struct vfio_iommu_type1_info info = {};
	unsigned long pgsizes;
	int rc;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;
	minsz = min_t(size_t, info.argsz, sizeof(info));

	rc = ioasid_vfio_info_caps(iv, &caps, &pgsizes);
	if (rc)
		goto out_free;

	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = pgsizes;
	if (caps.size) {
		info.flags |= VFIO_IOMMU_INFO_CAPS;
		if (info.argsz < sizeof(info) + caps.size) {
			info.argsz = sizeof(info) + caps.size;
		} else {
			vfio_info_cap_shift(&caps, sizeof(info));
			if (copy_to_user(uarg + sizeof(info), caps.buf,
					 caps.size)) {
				rc = -EFAULT;
				goto out_free;
			}
			info.cap_offset = sizeof(info);
		}
	}
	if (copy_to_user(uarg, &info, minsz))
		rc = -EFAULT;

out_free:
	kfree(caps.buf);
	return rc;
}

/*
 * VFIO_IOMMU_MAP_DMA, as type1 (v1 and v2 alike) minus
 * VFIO_DMA_MAP_FLAG_VADDR (not offered: CHECK_EXTENSION(VFIO_UPDATE_VADDR)
 * is 0), which is refused with EINVAL like any flag the backend does not
 * know, as iommufd's type1 emulation does. The pins are shared with the
 * other compat maps of the process (IOASID_KERN_MAP_SHARE_PINS). Errors:
 * EFAULT; EINVAL (argsz, flags, neither READ nor WRITE, zero size,
 * misaligned or wrapping values, IOVA outside the usable ranges); ENOSPC
 * (dma_entry_limit mappings exist); EEXIST (overlaps a mapping); ENOMEM
 * (including over RLIMIT_MEMLOCK); otherwise ioasid's IOASID_MAP errors.
 */
static int ioasid_vfio_map_dma(struct ioasid_vfio *iv, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	int prot = 0;
	int rc;

	if (copy_from_user(&map, uarg, minsz))
		return -EFAULT;
	if (map.argsz < minsz ||
	    map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;

	/* READ/WRITE from the device's point of view */
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	if (!prot || !map.size)
		return -EINVAL;
	if (map.vaddr != (unsigned long)map.vaddr ||
	    map.iova != (unsigned long)map.iova ||
	    map.size != (unsigned long)map.size ||
	    map.iova + map.size - 1 < map.iova ||
	    map.vaddr + map.size - 1 < map.vaddr)
		return -EINVAL;

	/*
	 * type1's order: an overlap (EEXIST) before the mapping limit
	 * (ENOSPC), the IOVA ranges (EINVAL) and anything pinning finds. A
	 * map racing with this one may still lose to it with EEXIST below.
	 */
	if (ioasid_kern_mapped(iv->ctx, iv->ioas_id, map.iova, map.size) > 0)
		return -EEXIST;
	/* A mapping slot next, as type1 counts before it pins. */
	if (!atomic_add_unless(&iv->dma_avail, -1, 0))
		return -ENOSPC;
	rc = ioasid_kern_map(iv->ctx, iv->ioas_id, map.vaddr, map.size,
			     map.iova, prot, IOASID_KERN_MAP_SHARE_PINS);
	if (rc)
		atomic_inc(&iv->dma_avail);
	/*
	 * type1 refuses IOVAs outside its valid ranges (apertures minus
	 * reserved regions) with EINVAL; ioasid says which limit was hit.
	 */
	if (rc == -EADDRINUSE || rc == -ERANGE)
		rc = -EINVAL;
	return rc;
}

/*
 * VFIO_IOMMU_UNMAP_DMA, as type1. v2: every mapping the range touches must
 * lie inside it (EINVAL, nothing unmapped, otherwise). v1: the mappings
 * that begin inside the range go whole, also past its end, and nothing
 * goes when the range begins inside a mapping (IOASID_KERN_UNMAP_WHOLE).
 * Success with size 0 when nothing went; size returns the bytes unmapped.
 * VFIO_DMA_UNMAP_FLAG_ALL needs iova and size 0. GET_DIRTY_BITMAP and VADDR
 * are refused with EINVAL, type1's errno when dirty tracking is off and
 * iommufd's for flags it does not support. Errors: EFAULT; EINVAL (argsz,
 * flags, zero size, misaligned or wrapping range, v2: a mapping cut); EBUSY
 * (an emulated device kept its pins).
 */
static int ioasid_vfio_unmap_dma(struct ioasid_vfio *iv, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	u32 flags = iv->v1 ? IOASID_KERN_UNMAP_WHOLE : 0;
	struct vfio_iommu_type1_dma_unmap unmap;
	struct ioasid_unmapped unmapped;
	int rc;

	if (copy_from_user(&unmap, uarg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		if (unmap.iova || unmap.size)
			return -EINVAL;
		/* iova 0 and length 0: everything */
		rc = ioasid_kern_unmap(iv->ctx, iv->ioas_id, 0, 0, flags,
				       &unmapped);
	} else {
		if (!unmap.size || unmap.iova != (unsigned long)unmap.iova ||
		    unmap.size != (unsigned long)unmap.size ||
		    unmap.iova + unmap.size - 1 < unmap.iova)
			return -EINVAL;
		rc = ioasid_kern_unmap(iv->ctx, iv->ioas_id, unmap.iova,
				       unmap.size, flags, &unmapped);
	}
	/* Nothing to unmap: success, size 0, as type1. */
	if (rc == -ENOENT)
		rc = 0;
	if (rc)
		return rc;
	atomic_add(unmapped.mappings, &iv->dma_avail);

	unmap.size = unmapped.bytes;
	return copy_to_user(uarg, &unmap, minsz) ? -EFAULT : 0;
}

/* One container command, with a reference on @iv held. */
static long ioasid_vfio_do_ioctl(struct ioasid_vfio *iv, unsigned int cmd,
				 void __user *uarg)
{
	if (!iv->compat) {
		if (cmd == VFIO_IOASID_BIND)
			return ioasid_vfio_bind(iv, uarg);
		return -ENOTTY;
	}

	switch (cmd) {
	case VFIO_IOMMU_GET_INFO:
		return ioasid_vfio_get_info(iv, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return ioasid_vfio_map_dma(iv, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return ioasid_vfio_unmap_dma(iv, uarg);
	default:
		return -ENOTTY;
	}
}

/**
 * ioasid_vfio_ioctl() - vfio_iommu_driver_ops.ioctl
 * @iommu_data: the backend state; NULL for VFIO_CHECK_EXTENSION before
 *	VFIO_SET_IOMMU
 * @cmd: the container ioctl
 * @arg: its argument
 *
 * A native container takes VFIO_IOASID_BIND (DMA is mapped on /dev/ioasid);
 * a compat one VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and
 * VFIO_IOMMU_UNMAP_DMA. Both take VFIO_CHECK_EXTENSION, which VFIO passes
 * with container->group_lock held, so release cannot run under it; every
 * other command looks @iommu_data up and holds a reference on it while it
 * runs (see "Lifetime" above).
 *
 * Return: as the ioctl; -ENOTTY for a command the container does not take;
 * -EINVAL once release has begun (what VFIO answers on a container without
 * a backend).
 */
static long ioasid_vfio_ioctl(void *iommu_data, unsigned int cmd,
			      unsigned long arg)
{
	struct ioasid_vfio *iv;
	long rc;

	if (cmd == VFIO_CHECK_EXTENSION)
		return ioasid_vfio_check_extension(iommu_data, arg);
	iv = ioasid_vfio_get(iommu_data);
	if (!iv)
		return -EINVAL;
	rc = ioasid_vfio_do_ioctl(iv, cmd, (void __user *)arg);
	ioasid_vfio_put(iv);
	return rc;
}

static const struct vfio_iommu_driver_ops ioasid_vfio_ops = {
	.name			= "ioasid",
	.owner			= THIS_MODULE,
	.open			= ioasid_vfio_open,
	.release		= ioasid_vfio_release,
	.ioctl			= ioasid_vfio_ioctl,
	.attach_group		= ioasid_vfio_attach_group,
	.detach_group		= ioasid_vfio_detach_group,
	.register_device	= ioasid_vfio_register_device,
	.unregister_device	= ioasid_vfio_unregister_device,
	.pin_pages		= ioasid_vfio_pin_pages,
	.unpin_pages		= ioasid_vfio_unpin_pages,
	.dma_rw			= ioasid_vfio_dma_rw,
};

static int __init ioasid_vfio_init(void)
{
	return vfio_register_iommu_driver(&ioasid_vfio_ops);
}

static void __exit ioasid_vfio_exit(void)
{
	vfio_unregister_iommu_driver(&ioasid_vfio_ops);
	/* Twice: the first grace period's callbacks queue the second's. */
	rcu_barrier_tasks();
	rcu_barrier_tasks();
}

module_init(ioasid_vfio_init);
module_exit(ioasid_vfio_exit);

MODULE_DESCRIPTION("ioasid: VFIO container IOMMU backend (VFIO_IOASID_IOMMU, type1 compatibility)");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOASID_VERSION);
MODULE_IMPORT_NS(IOASID);
/* Loaded after type1, this backend is asked first (VFIO tries newest first). */
MODULE_SOFTDEP("pre: vfio_iommu_type1");
