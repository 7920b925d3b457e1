// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mock: a test-only mock IOMMU and its control surface,
 * /dev/ioasid_mock (the contract is ioasid_mock.h). Never loaded outside the
 * test VM.
 *
 * This file is the control surface: it creates mock devices (platform
 * devices behind the mock IOMMU of iommu.c), registers each with an ioasid
 * context through the consumer kAPI (include/linux/ioasid.h) and lets the
 * tests read back what ioasid programmed into the device's domain. A
 * sub-device is a second registration of an IOASID_MOCK_DEV_PASID device's
 * platform device, bound to one PASID (IOASID_OPS_SUBDEV); it has no
 * platform device of its own. The benchmark floor is floor.c, the
 * emulated-device access consumer access.c; the lock order is in
 * mock_private.h.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ioasid.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>

#include "mock_private.h"

#define MOCK_DEV_FLAGS	(IOASID_MOCK_DEV_HUGE | IOASID_MOCK_DEV_INSTANCE2 | \
			 IOASID_MOCK_DEV_RESV | IOASID_MOCK_DEV_BIG_PGSIZE | \
			 IOASID_MOCK_DEV_SMALL_APERTURE | IOASID_MOCK_DEV_PASID | \
			 IOASID_MOCK_DEV_NESTING | IOASID_MOCK_DEV_IOPF | \
			 IOASID_MOCK_DEV_OWN_DOMAIN | IOASID_MOCK_DEV_SHARED_GROUP)
#define MOCK_SELECT_FLAGS	IOASID_MOCK_PASID_VALID

/* Pages handled per batch by the commands that read user memory. */
#define MOCK_BATCH		(PAGE_SIZE / sizeof(struct page *))

enum {
	/* The device was unregistered from its ioasid context. */
	MOCK_DEV_UNREGISTERED,
};

/**
 * mock_respond() - copy a command's output back to user space
 * @ucmd: the call
 * @len: the kernel's size of the command struct
 *
 * Copies no more than user space declared in its size field.
 *
 * Return: 0, or -EFAULT.
 */
int mock_respond(struct mock_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

/**
 * mock_dev_find() - the device or sub-device of a mock_id
 * @ucmd: the call; holds mock_file->lock
 * @mock_id: the mock_id
 *
 * Return: the device, valid while the lock is held, or ERR_PTR(-ENOENT).
 */
struct mock_dev *mock_dev_find(struct mock_ucmd *ucmd, u32 mock_id)
{
	struct mock_dev *mdev;

	lockdep_assert_held(&ucmd->mf->lock);
	mdev = xa_load(&ucmd->mf->devices, mock_id);
	return mdev ?: ERR_PTR(-ENOENT);
}

/**
 * mock_dev_pdev() - the platform device behind a mock device
 * @mdev: the device or sub-device
 *
 * Return: its platform device; a sub-device's is its parent's.
 */
struct platform_device *mock_dev_pdev(struct mock_dev *mdev)
{
	return mdev->parent ? mdev->parent->pdev : mdev->pdev;
}

static const struct ioasid_device_ops mock_ioasid_ops = {
	.name = "mock",
};

static const struct ioasid_device_ops mock_subdev_ops = {
	.name = "mock",
	.flags = IOASID_OPS_SUBDEV,
};

/* Take a reference (no FOLL_PIN) on each of the @n user pages at @uaddr. */
static int mock_get_user_pages(unsigned long uaddr, unsigned long n,
			       struct page **pages)
{
	unsigned long got = 0;
	int rc;

	while (got < n) {
		rc = get_user_pages_fast(uaddr + got * PAGE_SIZE, n - got, 0,
					 pages + got);
		if (rc <= 0) {
			while (got)
				put_page(pages[--got]);
			return rc ?: -EFAULT;
		}
		got += rc;
	}
	return 0;
}

static void mock_put_user_pages(struct page **pages, unsigned long n)
{
	while (n)
		put_page(pages[--n]);
}

/*
 * Destroy a device or sub-device, or undo the part of mock_dev_alloc(),
 * the caller and mock_dev_publish() built of one that was never published:
 * every member a step did not set up is still 0.
 */
static void mock_dev_destroy(struct mock_dev *mdev)
{
	mock_floor_destroy(&mdev->floor);

	if (mdev->idev && !test_and_set_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		ioasid_unregister_device(mdev->idev);
	if (mdev->own_domain)
		iommu_domain_free(mdev->own_domain);
	if (mdev->global_pasid)
		ioasid_free_global_pasid(mdev->global_pasid);
	if (mdev->parent)
		mdev->parent->nr_subdevs--;
	else
		platform_device_unregister(mdev->pdev);
	if (mdev->ctx)
		ioasid_ctx_put(mdev->ctx);
	kfree(mdev);
}

/*
 * The first step of adding a device (@parent NULL) or a sub-device of
 * @parent: a new mock_dev with a reference of its own to the context of
 * @ctx_file. The caller builds the rest, mock_dev_publish() registers it and
 * mock_dev_destroy() undoes any part.
 */
static struct mock_dev *mock_dev_alloc(struct file *ctx_file,
				       struct mock_dev *parent)
{
	struct mock_dev *mdev;
	struct ioasid_ctx *ctx;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL_ACCOUNT);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mock_floor_init(&mdev->floor);
	/* Counted from here: mock_dev_destroy() drops it again. */
	mdev->parent = parent;
	if (parent)
		parent->nr_subdevs++;

	/* The context reference keeps the file alive from here on. */
	ctx = get_ioasid_from_file(ctx_file);
	if (IS_ERR(ctx)) {
		mock_dev_destroy(mdev);
		return ERR_CAST(ctx);
	}
	mdev->ctx = ctx;
	mdev->ctx_file = ctx_file;
	return mdev;
}

/*
 * The last step of adding a device or sub-device: register it with its
 * context (on @pasid of its platform device, IOASID_PASID_NONE for a
 * device), give it a mock_id and tell user space both through the command
 * (@len bytes), whose @out_dev_id and @out_mock_id they go to. On error the
 * caller destroys @mdev.
 */
static int mock_dev_publish(struct mock_ucmd *ucmd, struct mock_dev *mdev,
			    u32 pasid, u32 *out_dev_id, u32 *out_mock_id,
			    size_t len)
{
	struct mock_file *mf = ucmd->mf;
	struct ioasid_device *idev;
	int rc;

	lockdep_assert_held_write(&mf->lock);
	idev = register_device_to_pasid(mdev->ctx, pasid,
					&mock_dev_pdev(mdev)->dev,
					mdev->own_domain,
					mdev->parent ? &mock_subdev_ops :
						       &mock_ioasid_ops,
					mdev, out_dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	mdev->idev = idev;

	rc = xa_alloc(&mf->devices, &mdev->id, mdev, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		return rc;
	*out_mock_id = mdev->id;
	rc = mock_respond(ucmd, len);
	if (rc)
		xa_erase(&mf->devices, mdev->id);
	return rc;
}

static int mock_dev_add(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev_add *cmd = ucmd->cmd;
	struct platform_device *pdev;
	struct iommu_domain *domain;
	struct mock_dev *mdev;
	struct file *file;
	int rc;

	lockdep_assert_held_write(&ucmd->mf->lock);
	if ((cmd->flags & ~MOCK_DEV_FLAGS) || cmd->__reserved)
		return -EOPNOTSUPP;
	/* A PASID-capable device has a group of its own (see the header). */
	if ((cmd->flags & IOASID_MOCK_DEV_SHARED_GROUP) &&
	    (cmd->flags & IOASID_MOCK_DEV_PASID))
		return -EINVAL;

	file = fget(cmd->ioasid_fd);
	if (!file)
		return -EBADF;
	mdev = mock_dev_alloc(file, NULL);
	fput(file);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);

	pdev = mock_pdev_create(cmd->flags);
	if (IS_ERR(pdev)) {
		rc = PTR_ERR(pdev);
		goto err_destroy;
	}
	mdev->pdev = pdev;

	if (cmd->flags & IOASID_MOCK_DEV_OWN_DOMAIN) {
		domain = iommu_paging_domain_alloc(&pdev->dev);
		if (IS_ERR(domain)) {
			rc = PTR_ERR(domain);
			goto err_destroy;
		}
		mdev->own_domain = domain;
	}

	rc = mock_dev_publish(ucmd, mdev, IOASID_PASID_NONE, &cmd->out_dev_id,
			      &cmd->out_mock_id, sizeof(*cmd));
	if (rc)
		goto err_destroy;
	return 0;

err_destroy:
	mock_dev_destroy(mdev);
	return rc;
}

static int mock_subdev_add(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_subdev_add *cmd = ucmd->cmd;
	struct mock_dev *parent, *sub;
	int rc;

	lockdep_assert_held_write(&ucmd->mf->lock);
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	parent = mock_dev_find(ucmd, cmd->parent_mock_id);
	if (IS_ERR(parent))
		return PTR_ERR(parent);
	/* Sub-devices hang off a platform device, never off each other. */
	if (parent->parent)
		return -EINVAL;

	/* A reference of its own to the parent's context, the same context. */
	sub = mock_dev_alloc(parent->ctx_file, parent);
	if (IS_ERR(sub))
		return PTR_ERR(sub);

	if (cmd->pasid == IOASID_MOCK_PASID_GLOBAL) {
		rc = ioasid_alloc_global_pasid(&parent->pdev->dev, &cmd->pasid);
		if (rc)
			goto err_destroy;
		sub->global_pasid = cmd->pasid;
	}

	rc = mock_dev_publish(ucmd, sub, cmd->pasid, &cmd->out_dev_id,
			      &cmd->out_mock_id, sizeof(*cmd));
	if (rc)
		goto err_destroy;
	return 0;

err_destroy:
	mock_dev_destroy(sub);
	return rc;
}

static int mock_dev_del(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	lockdep_assert_held_write(&ucmd->mf->lock);
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (mdev->nr_subdevs)
		return -EBUSY;
	xa_erase(&ucmd->mf->devices, mdev->id);
	mock_dev_destroy(mdev);
	return 0;
}

static int mock_attach(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (test_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		return -ENODEV;
	return ioasid_device_attach(mdev->idev, cmd->pt_id);
}

static int mock_detach(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_dev *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	if (test_bit(MOCK_DEV_UNREGISTERED, &mdev->state))
		return -ENODEV;
	ioasid_device_detach(mdev->idev);
	return 0;
}


static int mock_check_map(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_check_map *cmd = ucmd->cmd;
	struct mock_check chk = { .flags = cmd->flags, .pasid = cmd->pasid };
	unsigned long npages, done, n;
	struct mock_dev *mdev;
	struct page **pages;
	int rc = 0;

	if (cmd->flags & ~MOCK_SELECT_FLAGS)
		return -EOPNOTSUPP;
	if (!mock_range_valid(cmd->iova, cmd->length) ||
	    !mock_range_valid(cmd->uptr, cmd->length))
		return -EINVAL;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	npages = cmd->length >> PAGE_SHIFT;
	for (done = 0; done < npages; done += n) {
		n = min(npages - done, MOCK_BATCH);
		/* Get the pages first: none of it under a lock of the IOMMU. */
		rc = mock_get_user_pages(cmd->uptr + done * PAGE_SIZE, n, pages);
		if (rc)
			break;
		rc = mock_iommu_check_batch(&mock_dev_pdev(mdev)->dev, &chk,
					    cmd->iova + done * PAGE_SIZE,
					    pages, n);
		mock_put_user_pages(pages, n);
		if (rc)
			break;
		cond_resched();
	}
	free_page((unsigned long)pages);
	if (rc)
		return rc;

	cmd->out_ioptes = chk.ioptes;
	cmd->out_huge_ioptes = chk.huge;
	return mock_respond(ucmd, sizeof(*cmd));
}


/* How many times @page is pinned with FOLL_PIN. */
static u64 mock_pin_count(struct page *page)
{
	struct folio *folio = page_folio(page);

	/* Large folios count pins exactly (test-only use of _pincount). */
	if (folio_has_pincount(folio))
		return atomic_read(&folio->_pincount);
	/* Our own reference adds 1, which the division drops. */
	return folio_ref_count(folio) / GUP_PIN_COUNTING_BIAS;
}

static int mock_pin_count_ioctl(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_pin_count *cmd = ucmd->cmd;
	u64 min_pins = U64_MAX, max_pins = 0;
	unsigned long npages, done, n, i;
	struct page **pages;
	int rc = 0;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if (!mock_range_valid(cmd->uptr, cmd->length))
		return -EINVAL;

	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	npages = cmd->length >> PAGE_SHIFT;
	for (done = 0; done < npages; done += n) {
		n = min(npages - done, MOCK_BATCH);
		rc = mock_get_user_pages(cmd->uptr + done * PAGE_SIZE, n, pages);
		if (rc)
			break;
		for (i = 0; i < n; i++) {
			u64 pins = mock_pin_count(pages[i]);

			min_pins = min(min_pins, pins);
			max_pins = max(max_pins, pins);
		}
		mock_put_user_pages(pages, n);
		cond_resched();
	}
	free_page((unsigned long)pages);
	if (rc)
		return rc;

	cmd->out_min = min_pins;
	cmd->out_max = max_pins;
	return mock_respond(ucmd, sizeof(*cmd));
}

static int mock_fault_inject(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_fault_inject *cmd = ucmd->cmd;
	struct iopf_fault evt = {};
	struct mock_dev *mdev;

	if (cmd->flags & ~(IOASID_MOCK_FAULT_PASID | IOASID_MOCK_FAULT_LAST))
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);

	evt.fault.type = IOMMU_FAULT_PAGE_REQ;
	if (cmd->flags & IOASID_MOCK_FAULT_PASID) {
		/* PCIe PRI: a response to a PASID request carries the PASID. */
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_PASID_VALID |
				       IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID;
		evt.fault.prm.pasid = cmd->pasid;
	}
	if (cmd->flags & IOASID_MOCK_FAULT_LAST)
		evt.fault.prm.flags |= IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE;
	evt.fault.prm.grpid = cmd->grpid;
	evt.fault.prm.perm = cmd->perm;
	evt.fault.prm.addr = cmd->addr;
	return mock_report_fault(&mock_dev_pdev(mdev)->dev, &evt);
}

static int mock_fault_responses(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_fault_responses *cmd = ucmd->cmd;
	struct ioasid_mock_fault_response *buf;
	struct mock_dev *mdev;
	unsigned int n;
	int rc = 0;

	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	n = min_t(u32, cmd->num, IOASID_MOCK_FAULT_RESPONSES_MAX);
	buf = kcalloc(n ?: 1, sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	n = mock_iommu_fault_responses(&mock_dev_pdev(mdev)->dev, buf, n,
				       &cmd->out_dropped);
	if (n && copy_to_user(u64_to_user_ptr(cmd->uptr), buf, n * sizeof(*buf)))
		rc = -EFAULT;
	kfree(buf);
	if (rc)
		return rc;
	cmd->num = n;
	return mock_respond(ucmd, sizeof(*cmd));
}

static int mock_nested_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_nested_info *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mock_iommu_nested_info(&mock_dev_pdev(mdev)->dev, cmd);
	return mock_respond(ucmd, sizeof(*cmd));
}

static int mock_domain_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_domain_info *cmd = ucmd->cmd;
	struct mock_dev *mdev;

	if (cmd->flags & ~MOCK_SELECT_FLAGS)
		return -EOPNOTSUPP;
	mdev = mock_dev_find(ucmd, cmd->mock_id);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mock_iommu_domain_info(&mock_dev_pdev(mdev)->dev, cmd);
	return mock_respond(ucmd, sizeof(*cmd));
}

struct mock_ioctl_op {
	unsigned int min_size;
	unsigned int size;
	bool exclusive;
	int (*execute)(struct mock_ucmd *ucmd);
};

/* The kernel copy of every command's argument: MOCK_IOCTL_OP() checks it fits. */
union mock_ucmd_buffer {
	struct ioasid_mock_dev_add dev_add;
	struct ioasid_mock_dev dev;
	struct ioasid_mock_check_map check_map;
	struct ioasid_mock_pin_count pin_count;
	struct ioasid_mock_domain_info domain_info;
	struct ioasid_mock_floor_map floor_map;
	struct ioasid_mock_subdev_add subdev_add;
	struct ioasid_mock_floor_map_dev floor_map_dev;
	struct ioasid_mock_nested_info nested_info;
	struct ioasid_mock_fault_inject fault_inject;
	struct ioasid_mock_fault_responses fault_responses;
	struct ioasid_mock_access_create access_create;
	struct ioasid_mock_access_pin access_pin;
	struct ioasid_mock_access_info access_info;
};

#define MOCK_IOCTL_OP(_nr, _fn, _struct, _last, _exclusive)		\
	[IOASID_MOCK_CMD_##_nr - IOASID_MOCK_CMD_BASE] = {		\
		.min_size = offsetofend(struct _struct, _last),		\
		.size = sizeof(struct _struct) +			\
			BUILD_BUG_ON_ZERO(sizeof(union mock_ucmd_buffer) < \
					  sizeof(struct _struct)),	\
		.exclusive = _exclusive,				\
		.execute = _fn,						\
	}

/* min_size is the end of the first version of each struct: never change it. */
static const struct mock_ioctl_op mock_ioctl_ops[] = {
	MOCK_IOCTL_OP(DEV_ADD, mock_dev_add, ioasid_mock_dev_add, __reserved,
		      true),
	MOCK_IOCTL_OP(DEV_DEL, mock_dev_del, ioasid_mock_dev, __reserved, true),
	MOCK_IOCTL_OP(ATTACH, mock_attach, ioasid_mock_dev, __reserved, false),
	MOCK_IOCTL_OP(DETACH, mock_detach, ioasid_mock_dev, __reserved, false),
	MOCK_IOCTL_OP(CHECK_MAP, mock_check_map, ioasid_mock_check_map,
		      out_huge_ioptes, false),
	MOCK_IOCTL_OP(PIN_COUNT, mock_pin_count_ioctl, ioasid_mock_pin_count,
		      out_max, false),
	MOCK_IOCTL_OP(DOMAIN_INFO, mock_domain_info, ioasid_mock_domain_info,
		      out_domains, false),
	MOCK_IOCTL_OP(FLOOR_MAP, mock_floor_map, ioasid_mock_floor_map, iova,
		      false),
	MOCK_IOCTL_OP(SUBDEV_ADD, mock_subdev_add, ioasid_mock_subdev_add,
		      __reserved, true),
	MOCK_IOCTL_OP(FLOOR_MAP_DEV, mock_floor_map_dev,
		      ioasid_mock_floor_map_dev, iova, false),
	MOCK_IOCTL_OP(NESTED_INFO, mock_nested_info, ioasid_mock_nested_info,
		      out_nested_domains, false),
	MOCK_IOCTL_OP(FAULT_INJECT, mock_fault_inject, ioasid_mock_fault_inject,
		      addr, false),
	MOCK_IOCTL_OP(FAULT_RESPONSES, mock_fault_responses,
		      ioasid_mock_fault_responses, uptr, false),
	MOCK_IOCTL_OP(ACCESS_CREATE, mock_access_create,
		      ioasid_mock_access_create, __reserved, true),
	MOCK_IOCTL_OP(ACCESS_DESTROY, mock_access_destroy,
		      ioasid_mock_access_info, access_id, true),
	MOCK_IOCTL_OP(ACCESS_PIN, mock_access_pin, ioasid_mock_access_pin, uptr,
		      false),
	MOCK_IOCTL_OP(ACCESS_UNPIN, mock_access_unpin, ioasid_mock_access_pin,
		      uptr, false),
	MOCK_IOCTL_OP(ACCESS_RW, mock_access_rw, ioasid_mock_access_pin, uptr,
		      false),
	MOCK_IOCTL_OP(ACCESS_INFO, mock_access_info, ioasid_mock_access_info,
		      out_last_unmap_length, false),
};

static long mock_fops_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct mock_ucmd ucmd = { .mf = filp->private_data,
				  .ubuffer = (void __user *)arg };
	const struct mock_ioctl_op *op;
	union mock_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (nr < IOASID_MOCK_CMD_BASE ||
	    nr >= IOASID_MOCK_CMD_BASE + ARRAY_SIZE(mock_ioctl_ops) ||
	    cmd != _IO(IOASID_MOCK_TYPE, nr))
		return -ENOTTY;
	op = &mock_ioctl_ops[nr - IOASID_MOCK_CMD_BASE];
	if (!op->execute)
		return -ENOTTY;

	rc = ioasid_ucmd_copy_from_user(&buf, op->size, op->min_size,
					ucmd.ubuffer, &ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;

	if (op->exclusive)
		down_write(&ucmd.mf->lock);
	else
		down_read(&ucmd.mf->lock);
	rc = op->execute(&ucmd);
	if (op->exclusive)
		up_write(&ucmd.mf->lock);
	else
		up_read(&ucmd.mf->lock);
	return rc;
}

static int mock_fops_open(struct inode *inode, struct file *filp)
{
	struct mock_file *mf;

	mf = kzalloc(sizeof(*mf), GFP_KERNEL_ACCOUNT);
	if (!mf)
		return -ENOMEM;
	init_rwsem(&mf->lock);
	xa_init_flags(&mf->devices, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	mock_floor_file_init(mf);
	mock_access_file_init(mf);
	filp->private_data = mf;
	return 0;
}

static int mock_fops_release(struct inode *inode, struct file *filp)
{
	struct mock_file *mf = filp->private_data;
	struct mock_dev *mdev;
	unsigned long index;

	/*
	 * Probed devices pin this module: destroy them all before rmmod.
	 * Sub-devices use their parents' platform devices: they go first.
	 */
	down_write(&mf->lock);
	mock_access_file_release(mf);
	xa_for_each(&mf->devices, index, mdev) {
		if (!mdev->parent)
			continue;
		xa_erase(&mf->devices, index);
		mock_dev_destroy(mdev);
	}
	xa_for_each(&mf->devices, index, mdev) {
		WARN_ON(mdev->nr_subdevs);
		xa_erase(&mf->devices, index);
		mock_dev_destroy(mdev);
	}
	up_write(&mf->lock);
	xa_destroy(&mf->devices);
	mock_floor_file_release(mf);
	kfree(mf);
	return 0;
}

static const struct file_operations mock_fops = {
	.owner = THIS_MODULE,
	.open = mock_fops_open,
	.release = mock_fops_release,
	.unlocked_ioctl = mock_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice mock_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid_mock",
	.fops = &mock_fops,
	.nodename = "ioasid_mock",
	.mode = 0600,
};

static int __init mock_init(void)
{
	int rc;

	rc = mock_iommus_register();
	if (rc)
		return rc;
	rc = misc_register(&mock_misc);
	if (rc)
		goto err_iommus;
	return 0;

err_iommus:
	mock_iommus_unregister();
	return rc;
}

static void __exit mock_exit(void)
{
	misc_deregister(&mock_misc);
	mock_iommus_unregister();
}

module_init(mock_init);
module_exit(mock_exit);

MODULE_DESCRIPTION("ioasid: test-only mock IOMMU (/dev/ioasid_mock)");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(IOASID);
