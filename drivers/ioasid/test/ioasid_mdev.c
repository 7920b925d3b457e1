// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mdev: a test-only emulated-IOMMU VFIO device (see ioasid_mdev.h).
 * It exercises the VFIO container backend's pin_pages, unpin_pages and
 * dma_rw, and the dma_unmap callback, on both test kernels (Debian's has
 * mdev but no sample mdev driver that pins).
 */
#include <linux/device.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vfio.h>

#include "ioasid_mdev.h"

#define IOASID_MDEV_MAX_PIN	16

/**
 * struct ioasid_mdev_pin - a pin the device holds
 * @node: in ioasid_mdev_state::pins
 * @iova: as pinned (page aligned)
 * @npage: as pinned
 */
struct ioasid_mdev_pin {
	struct list_head node;
	dma_addr_t iova;
	int npage;
};

/**
 * struct ioasid_mdev_state - one device
 * @vdev: the VFIO device
 * @lock: protects everything below; taken by dma_unmap too, never held
 *	across a call into VFIO
 * @pins: struct ioasid_mdev_pin
 * @last: the last command with the counters
 */
struct ioasid_mdev_state {
	struct vfio_device vdev;
	struct mutex lock;
	struct list_head pins;
	struct ioasid_mdev_cmd last;
};

/* The parent's class names its mdev types: "ioasid_mdev-dma". */
static const struct class ioasid_mdev_class = {
	.name = IOASID_MDEV_PARENT,
};

static struct device ioasid_mdev_parent_dev;
static struct mdev_parent ioasid_mdev_parent;
static const struct vfio_device_ops ioasid_mdev_ops;

/*
 * st->lock is never held across a call into VFIO (pin, unpin, rw): type1
 * takes its iommu->lock there and calls dma_unmap with its
 * device_list_lock held, which it takes inside iommu->lock, so a driver
 * lock held across those calls and taken in dma_unmap closes a cycle
 * (lockdep). Pins leave the list under the lock and are unpinned after.
 */
static void ioasid_mdev_take_locked(struct ioasid_mdev_state *st,
				    struct ioasid_mdev_pin *pin, struct list_head *gone)
{
	lockdep_assert_held(&st->lock);
	list_move_tail(&pin->node, gone);
	st->last.out_pins--;
}

static void ioasid_mdev_release(struct ioasid_mdev_state *st, struct list_head *gone)
{
	struct ioasid_mdev_pin *pin, *next;

	list_for_each_entry_safe(pin, next, gone, node) {
		vfio_unpin_pages(&st->vdev, pin->iova, pin->npage);
		list_del(&pin->node);
		kfree(pin);
	}
}

static void ioasid_mdev_dma_unmap(struct vfio_device *vdev, u64 iova, u64 length)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);
	struct ioasid_mdev_pin *pin, *next;
	LIST_HEAD(gone);

	mutex_lock(&st->lock);
	st->last.out_unmap_calls++;
	st->last.out_last_unmap_iova = iova;
	st->last.out_last_unmap_length = length;
	list_for_each_entry_safe(pin, next, &st->pins, node)
		if (pin->iova < iova + length &&
		    pin->iova + ((u64)pin->npage << PAGE_SHIFT) > iova)
			ioasid_mdev_take_locked(st, pin, &gone);
	mutex_unlock(&st->lock);
	ioasid_mdev_release(st, &gone);
}

/* Copy between @cmd->data and the pinned pages, from @cmd->iova on. */
static void ioasid_mdev_copy(struct page **pages, struct ioasid_mdev_cmd *cmd)
{
	size_t done = 0, off = offset_in_page(cmd->iova);
	unsigned int i = 0;

	while (done < cmd->length) {
		size_t n = min_t(size_t, PAGE_SIZE - off, cmd->length - done);

		if (cmd->flags & IOASID_MDEV_WRITE)
			memcpy_to_page(pages[i], off, cmd->data + done, n);
		else
			memcpy_from_page(cmd->data + done, pages[i], off, n);
		done += n;
		off = 0;
		i++;
	}
}

static int ioasid_mdev_pin(struct ioasid_mdev_state *st, struct ioasid_mdev_cmd *cmd)
{
	struct page *pages[IOASID_MDEV_MAX_PIN];
	int prot = IOMMU_READ | (cmd->flags & IOASID_MDEV_WRITE ? IOMMU_WRITE : 0);
	struct ioasid_mdev_pin *pin;
	int rc;

	if (!cmd->npage || cmd->npage > IOASID_MDEV_MAX_PIN ||
	    offset_in_page(cmd->iova) + cmd->length > (size_t)cmd->npage << PAGE_SHIFT)
		return -EINVAL;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	/*
	 * By the page's IOVA, as mdev drivers pin (gfn << PAGE_SHIFT) and as
	 * the pin is released: type1 keys its pins by the exact IOVA given,
	 * so an unpin by another IOVA of the page would release nothing.
	 */
	pin->iova = ALIGN_DOWN(cmd->iova, PAGE_SIZE);
	rc = vfio_pin_pages(&st->vdev, pin->iova, cmd->npage, prot, pages);
	if (rc != cmd->npage) {
		kfree(pin);
		return rc < 0 ? rc : -EFAULT;
	}
	ioasid_mdev_copy(pages, cmd);
	pin->npage = cmd->npage;
	/*
	 * Listed once pinned: an unmap racing with this pin would miss it
	 * (the tests do not race the two on this device).
	 */
	mutex_lock(&st->lock);
	list_add_tail(&pin->node, &st->pins);
	st->last.out_pins++;
	mutex_unlock(&st->lock);
	return 0;
}

static int ioasid_mdev_unpin(struct ioasid_mdev_state *st, struct ioasid_mdev_cmd *cmd)
{
	struct ioasid_mdev_pin *pin;
	LIST_HEAD(gone);

	mutex_lock(&st->lock);
	list_for_each_entry(pin, &st->pins, node) {
		if (pin->iova == ALIGN_DOWN(cmd->iova, PAGE_SIZE) &&
		    pin->npage == cmd->npage) {
			ioasid_mdev_take_locked(st, pin, &gone);
			break;
		}
	}
	mutex_unlock(&st->lock);
	if (list_empty(&gone))
		return -ENOENT;
	ioasid_mdev_release(st, &gone);
	return 0;
}

static ssize_t ioasid_mdev_write(struct vfio_device *vdev, const char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);
	struct ioasid_mdev_cmd cmd;
	int rc;

	if (*ppos || count != sizeof(cmd))
		return -EINVAL;
	if (copy_from_user(&cmd, buf, sizeof(cmd)))
		return -EFAULT;
	if (cmd.length > IOASID_MDEV_DATA || (cmd.flags & ~IOASID_MDEV_WRITE))
		return -EINVAL;

	switch (cmd.op) {
	case IOASID_MDEV_PIN:
		rc = ioasid_mdev_pin(st, &cmd);
		break;
	case IOASID_MDEV_UNPIN:
		rc = ioasid_mdev_unpin(st, &cmd);
		break;
	case IOASID_MDEV_RW:
		rc = cmd.length ? vfio_dma_rw(vdev, cmd.iova, cmd.data, cmd.length,
					      cmd.flags & IOASID_MDEV_WRITE) : -EINVAL;
		break;
	default:
		rc = -EINVAL;
	}
	mutex_lock(&st->lock);
	if (!rc) {
		st->last.op = cmd.op;
		st->last.flags = cmd.flags;
		st->last.iova = cmd.iova;
		st->last.npage = cmd.npage;
		st->last.length = cmd.length;
		memcpy(st->last.data, cmd.data, sizeof(cmd.data));
	}
	mutex_unlock(&st->lock);
	return rc ?: sizeof(cmd);
}

static ssize_t ioasid_mdev_read(struct vfio_device *vdev, char __user *buf,
				size_t count, loff_t *ppos)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);
	int rc = 0;

	if (*ppos || count != sizeof(st->last))
		return -EINVAL;
	mutex_lock(&st->lock);
	if (copy_to_user(buf, &st->last, sizeof(st->last)))
		rc = -EFAULT;
	mutex_unlock(&st->lock);
	return rc ?: sizeof(st->last);
}

/* A driver unpins everything when the device is closed. */
static void ioasid_mdev_close(struct vfio_device *vdev)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);
	struct ioasid_mdev_pin *pin, *next;
	LIST_HEAD(gone);

	mutex_lock(&st->lock);
	list_for_each_entry_safe(pin, next, &st->pins, node)
		ioasid_mdev_take_locked(st, pin, &gone);
	memset(&st->last, 0, sizeof(st->last));
	mutex_unlock(&st->lock);
	ioasid_mdev_release(st, &gone);
}

static int ioasid_mdev_init_dev(struct vfio_device *vdev)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);

	mutex_init(&st->lock);
	INIT_LIST_HEAD(&st->pins);
	return 0;
}

static void ioasid_mdev_release_dev(struct vfio_device *vdev)
{
	struct ioasid_mdev_state *st = container_of(vdev, struct ioasid_mdev_state, vdev);

	mutex_destroy(&st->lock);
}

static const struct vfio_device_ops ioasid_mdev_ops = {
	.name = "ioasid-mdev",
	.init = ioasid_mdev_init_dev,
	.release = ioasid_mdev_release_dev,
	.read = ioasid_mdev_read,
	.write = ioasid_mdev_write,
	.close_device = ioasid_mdev_close,
	.dma_unmap = ioasid_mdev_dma_unmap,
	/* VFIO requires these where iommufd is built (NULL elsewhere). */
	.bind_iommufd = vfio_iommufd_emulated_bind,
	.unbind_iommufd = vfio_iommufd_emulated_unbind,
	.attach_ioas = vfio_iommufd_emulated_attach_ioas,
	.detach_ioas = vfio_iommufd_emulated_detach_ioas,
};

static int ioasid_mdev_probe(struct mdev_device *mdev)
{
	struct ioasid_mdev_state *st;
	int rc;

	st = vfio_alloc_device(ioasid_mdev_state, vdev, &mdev->dev, &ioasid_mdev_ops);
	if (IS_ERR(st))
		return PTR_ERR(st);
	rc = vfio_register_emulated_iommu_dev(&st->vdev);
	if (rc) {
		vfio_put_device(&st->vdev);
		return rc;
	}
	dev_set_drvdata(&mdev->dev, st);
	return 0;
}

static void ioasid_mdev_remove(struct mdev_device *mdev)
{
	struct ioasid_mdev_state *st = dev_get_drvdata(&mdev->dev);

	vfio_unregister_group_dev(&st->vdev);
	vfio_put_device(&st->vdev);
}

static struct mdev_type ioasid_mdev_type = {
	.sysfs_name = "dma",
	.pretty_name = "ioasid test DMA device",
};

static struct mdev_type *ioasid_mdev_types[] = { &ioasid_mdev_type };

static struct mdev_driver ioasid_mdev_driver = {
	.device_api = VFIO_DEVICE_API_PLATFORM_STRING,
	.driver = {
		.name = "ioasid_mdev",
		.owner = THIS_MODULE,
		.mod_name = KBUILD_MODNAME,
	},
	.max_instances = 4,
	.probe = ioasid_mdev_probe,
	.remove = ioasid_mdev_remove,
};

static void ioasid_mdev_parent_release(struct device *dev)
{
}

static int __init ioasid_mdev_init(void)
{
	int rc;

	rc = mdev_register_driver(&ioasid_mdev_driver);
	if (rc)
		return rc;
	rc = class_register(&ioasid_mdev_class);
	if (rc)
		goto err_driver;
	device_initialize(&ioasid_mdev_parent_dev);
	ioasid_mdev_parent_dev.class = &ioasid_mdev_class;
	ioasid_mdev_parent_dev.release = ioasid_mdev_parent_release;
	rc = dev_set_name(&ioasid_mdev_parent_dev, IOASID_MDEV_PARENT);
	if (rc)
		goto err_put;
	rc = device_add(&ioasid_mdev_parent_dev);
	if (rc)
		goto err_put;
	rc = mdev_register_parent(&ioasid_mdev_parent, &ioasid_mdev_parent_dev,
				  &ioasid_mdev_driver, ioasid_mdev_types,
				  ARRAY_SIZE(ioasid_mdev_types));
	if (rc)
		goto err_del;
	return 0;

err_del:
	device_del(&ioasid_mdev_parent_dev);
err_put:
	put_device(&ioasid_mdev_parent_dev);
	class_unregister(&ioasid_mdev_class);
err_driver:
	mdev_unregister_driver(&ioasid_mdev_driver);
	return rc;
}

static void __exit ioasid_mdev_exit(void)
{
	mdev_unregister_parent(&ioasid_mdev_parent);
	device_unregister(&ioasid_mdev_parent_dev);
	class_unregister(&ioasid_mdev_class);
	mdev_unregister_driver(&ioasid_mdev_driver);
}

module_init(ioasid_mdev_init);
module_exit(ioasid_mdev_exit);

MODULE_DESCRIPTION("ioasid: test-only emulated-IOMMU VFIO device (pin_pages, dma_rw)");
MODULE_LICENSE("GPL");
