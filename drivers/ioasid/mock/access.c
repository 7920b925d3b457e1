// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_mock: emulated-device accesses, the ioasid_access_* kAPI as a
 * driver (an mdev, a vDPA parent) uses it: IOASID_MOCK_ACCESS_CREATE makes
 * an access on an IOAS of a /dev/ioasid context, the other ACCESS_*
 * commands pin, unpin, read and write through it and report the callbacks
 * it got.
 */
#define pr_fmt(fmt) "ioasid_mock: " fmt

#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/ioasid.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mock_private.h"

/**
 * struct mock_access_pin - a pin a mock access holds
 * @node: in mock_access->pins
 * @iova: as pinned
 * @length: as pinned
 */
struct mock_access_pin {
	struct list_head node;
	unsigned long iova;
	unsigned long length;
};

/**
 * struct mock_access - an emulated device created by IOASID_MOCK_ACCESS_CREATE
 * @id: its access_id, the index in mock_file->accesses
 * @flags: enum ioasid_mock_access_flags
 * @ctx: the context (referenced)
 * @access: the ioasid access
 * @lock: protects @pins; taken before the IOAS lock (pin and unpin), and by
 *	the unmap callback, which runs without ioasid locks
 * @pins: struct mock_access_pin
 * @unmap_calls: unmap callbacks so far
 * @map_calls: map callbacks so far
 * @last_unmap_iova: the last unmap callback's range
 * @last_unmap_length: its length
 */
struct mock_access {
	u32 id;
	u32 flags;
	struct ioasid_ctx *ctx;
	struct ioasid_access *access;
	struct mutex lock;
	struct list_head pins;
	unsigned int unmap_calls;
	unsigned int map_calls;
	unsigned long last_unmap_iova;
	unsigned long last_unmap_length;
};

static void mock_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	struct mock_access *ma = data;
	struct mock_access_pin *pin, *next;

	mutex_lock(&ma->lock);
	ma->unmap_calls++;
	ma->last_unmap_iova = iova;
	ma->last_unmap_length = length;
	if (!(ma->flags & IOASID_MOCK_ACCESS_NO_UNPIN)) {
		list_for_each_entry_safe(pin, next, &ma->pins, node) {
			if (pin->iova > iova + length - 1 ||
			    pin->iova + pin->length - 1 < iova)
				continue;
			ioasid_access_unpin_pages(ma->access, pin->iova,
						  pin->length);
			list_del(&pin->node);
			kfree(pin);
		}
	}
	mutex_unlock(&ma->lock);
}

static void mock_access_map(void *data, unsigned long iova,
			    unsigned long length)
{
	struct mock_access *ma = data;

	mutex_lock(&ma->lock);
	ma->map_calls++;
	mutex_unlock(&ma->lock);
}

static const struct ioasid_access_ops mock_access_pin_ops = {
	.needs_pin_pages = 1,
	.unmap = mock_access_unmap,
	.map = mock_access_map,
};

static const struct ioasid_access_ops mock_access_rw_ops = {
	.map = mock_access_map,
};

static const struct ioasid_access_ops mock_access_bad_ops = {
	.needs_pin_pages = 1,
};

static void mock_access_free(struct mock_access *ma)
{
	struct mock_access_pin *pin, *next;

	/* A test may leave pins behind: release them as a driver must. */
	mutex_lock(&ma->lock);
	list_for_each_entry_safe(pin, next, &ma->pins, node) {
		ioasid_access_unpin_pages(ma->access, pin->iova, pin->length);
		kfree(pin);
	}
	INIT_LIST_HEAD(&ma->pins);
	mutex_unlock(&ma->lock);
	ioasid_access_destroy(ma->access);
	ioasid_ctx_put(ma->ctx);
	mutex_destroy(&ma->lock);
	kfree(ma);
}

/**
 * mock_access_create() - IOASID_MOCK_ACCESS_CREATE: an emulated device on an IOAS
 * @ucmd: the call; struct ioasid_mock_access_create
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_create(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_create *cmd = ucmd->cmd;
	const struct ioasid_access_ops *ops = &mock_access_rw_ops;
	struct mock_access *ma;
	struct file *file;
	int rc;

	if ((cmd->flags & ~(IOASID_MOCK_ACCESS_PIN | IOASID_MOCK_ACCESS_NO_UNPIN |
			    IOASID_MOCK_ACCESS_NO_UNMAP_OP |
			    IOASID_MOCK_ACCESS_REPLAY)) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (cmd->flags & IOASID_MOCK_ACCESS_NO_UNMAP_OP)
		ops = &mock_access_bad_ops;
	else if (cmd->flags & IOASID_MOCK_ACCESS_PIN)
		ops = &mock_access_pin_ops;

	ma = kzalloc(sizeof(*ma), GFP_KERNEL_ACCOUNT);
	if (!ma)
		return -ENOMEM;
	ma->flags = cmd->flags;
	mutex_init(&ma->lock);
	INIT_LIST_HEAD(&ma->pins);
	file = fget(cmd->ioasid_fd);
	if (!file) {
		rc = -EBADF;
		goto err_free;
	}
	ma->ctx = get_ioasid_from_file(file);
	fput(file);
	if (IS_ERR(ma->ctx)) {
		rc = PTR_ERR(ma->ctx);
		goto err_free;
	}
	ma->access = ioasid_access_create(ma->ctx, cmd->ioas_id, ops, ma);
	if (IS_ERR(ma->access)) {
		rc = PTR_ERR(ma->access);
		goto err_ctx;
	}
	if (cmd->flags & IOASID_MOCK_ACCESS_REPLAY) {
		rc = ioasid_access_replay(ma->access);
		if (rc)
			goto err_access;
	}
	rc = xa_alloc(&ucmd->mf->accesses, &ma->id, ma, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_access;
	cmd->out_access_id = ma->id;
	rc = mock_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_erase;
	return 0;

err_erase:
	xa_erase(&ucmd->mf->accesses, ma->id);
err_access:
	ioasid_access_destroy(ma->access);
err_ctx:
	ioasid_ctx_put(ma->ctx);
err_free:
	mutex_destroy(&ma->lock);
	kfree(ma);
	return rc;
}

/**
 * mock_access_destroy() - IOASID_MOCK_ACCESS_DESTROY
 * @ucmd: the call; struct ioasid_mock_access_info
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_destroy(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_info *cmd = ucmd->cmd;
	struct mock_access *ma;

	lockdep_assert_held_write(&ucmd->mf->lock);
	ma = xa_erase(&ucmd->mf->accesses, cmd->access_id);
	if (!ma)
		return -ENOENT;
	mock_access_free(ma);
	return 0;
}

static struct mock_access *mock_access_find(struct mock_ucmd *ucmd, u32 id)
{
	lockdep_assert_held(&ucmd->mf->lock);
	return xa_load(&ucmd->mf->accesses, id) ?: ERR_PTR(-ENOENT);
}

/* Copy between the user buffer and the pinned pages, page by page. */
static int mock_access_copy_pages(struct page **pages, unsigned long iova,
				  unsigned long length, u64 uptr, bool to_pages)
{
	void __user *ubuf = u64_to_user_ptr(uptr);
	unsigned long done = 0, i = 0, off = offset_in_page(iova);

	while (done < length) {
		size_t n = min_t(size_t, PAGE_SIZE - off, length - done);
		void *va = kmap_local_page(pages[i]);
		unsigned long left;

		if (to_pages)
			left = copy_from_user(va + off, ubuf + done, n);
		else
			left = copy_to_user(ubuf + done, va + off, n);
		kunmap_local(va);
		if (left)
			return -EFAULT;
		done += n;
		off = 0;
		i++;
	}
	return 0;
}

/**
 * mock_access_pin() - IOASID_MOCK_ACCESS_PIN: pin through an access and copy
 * @ucmd: the call; struct ioasid_mock_access_pin
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_pin(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	bool write = cmd->flags & IOASID_MOCK_ACCESS_WRITE;
	struct mock_access_pin *pin;
	struct mock_access *ma;
	struct page **pages;
	unsigned long npages;
	u64 last;
	int rc;

	if ((cmd->flags & ~IOASID_MOCK_ACCESS_WRITE) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || check_add_overflow(cmd->iova, cmd->length - 1, &last) ||
	    last > ULONG_MAX || cmd->length > SZ_16M)
		return -EINVAL;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	npages = (last >> PAGE_SHIFT) - (cmd->iova >> PAGE_SHIFT) + 1;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pages || !pin) {
		rc = -ENOMEM;
		goto out_free;
	}
	mutex_lock(&ma->lock);
	rc = ioasid_access_pin_pages(ma->access, cmd->iova, cmd->length, pages,
				     write ? IOASID_ACCESS_WRITE : 0);
	if (rc)
		goto out_unlock;
	if (cmd->uptr) {
		rc = mock_access_copy_pages(pages, cmd->iova, cmd->length,
					    cmd->uptr, write);
		if (rc) {
			ioasid_access_unpin_pages(ma->access, cmd->iova,
						  cmd->length);
			goto out_unlock;
		}
	}
	pin->iova = cmd->iova;
	pin->length = cmd->length;
	list_add_tail(&pin->node, &ma->pins);
	pin = NULL;
out_unlock:
	mutex_unlock(&ma->lock);
out_free:
	kfree(pin);
	kvfree(pages);
	return rc;
}

/**
 * mock_access_unpin() - IOASID_MOCK_ACCESS_UNPIN: release one pin
 * @ucmd: the call; struct ioasid_mock_access_pin
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_unpin(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	struct mock_access_pin *pin;
	struct mock_access *ma;
	int rc = -ENOENT;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	mutex_lock(&ma->lock);
	list_for_each_entry(pin, &ma->pins, node) {
		if (pin->iova != cmd->iova || pin->length != cmd->length)
			continue;
		ioasid_access_unpin_pages(ma->access, pin->iova, pin->length);
		list_del(&pin->node);
		kfree(pin);
		rc = 0;
		break;
	}
	mutex_unlock(&ma->lock);
	return rc;
}

/**
 * mock_access_rw() - IOASID_MOCK_ACCESS_RW: read or write by IOVA
 * @ucmd: the call; struct ioasid_mock_access_pin
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_rw(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_pin *cmd = ucmd->cmd;
	bool write = cmd->flags & IOASID_MOCK_ACCESS_WRITE;
	void __user *ubuf = u64_to_user_ptr(cmd->uptr);
	struct mock_access *ma;
	void *buf;
	int rc;

	if ((cmd->flags & ~IOASID_MOCK_ACCESS_WRITE) || cmd->__reserved)
		return -EOPNOTSUPP;
	if (!cmd->length || cmd->length > SZ_1M)
		return -EINVAL;
	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	buf = kvzalloc(cmd->length, GFP_KERNEL_ACCOUNT);
	if (!buf)
		return -ENOMEM;
	if (write && copy_from_user(buf, ubuf, cmd->length)) {
		rc = -EFAULT;
		goto out;
	}
	rc = ioasid_access_rw(ma->access, cmd->iova, buf, cmd->length,
			      write ? IOASID_ACCESS_WRITE : 0);
	if (!rc && !write && copy_to_user(ubuf, buf, cmd->length))
		rc = -EFAULT;
out:
	kvfree(buf);
	return rc;
}

/**
 * mock_access_info() - IOASID_MOCK_ACCESS_INFO: the callbacks an access got
 * @ucmd: the call; struct ioasid_mock_access_info
 *
 * Return: 0 or an errno, as ioasid_mock.h says.
 */
int mock_access_info(struct mock_ucmd *ucmd)
{
	struct ioasid_mock_access_info *cmd = ucmd->cmd;
	struct mock_access_pin *pin;
	struct mock_access *ma;

	ma = mock_access_find(ucmd, cmd->access_id);
	if (IS_ERR(ma))
		return PTR_ERR(ma);
	mutex_lock(&ma->lock);
	cmd->out_unmap_calls = ma->unmap_calls;
	cmd->out_map_calls = ma->map_calls;
	cmd->out_pins = 0;
	list_for_each_entry(pin, &ma->pins, node)
		cmd->out_pins++;
	cmd->out_last_unmap_iova = ma->last_unmap_iova;
	cmd->out_last_unmap_length = ma->last_unmap_length;
	mutex_unlock(&ma->lock);
	return mock_respond(ucmd, sizeof(*cmd));
}

/**
 * mock_access_file_init() - initialize the accesses of a file
 * @mf: the new /dev/ioasid_mock file
 */
void mock_access_file_init(struct mock_file *mf)
{
	xa_init_flags(&mf->accesses, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
}

/**
 * mock_access_file_release() - destroy every access of a file
 * @mf: the /dev/ioasid_mock file being closed
 */
void mock_access_file_release(struct mock_file *mf)
{
	struct mock_access *ma;
	unsigned long index;

	lockdep_assert_held_write(&mf->lock);
	xa_for_each(&mf->accesses, index, ma) {
		xa_erase(&mf->accesses, index);
		mock_access_free(ma);
	}
	xa_destroy(&mf->accesses);
}
