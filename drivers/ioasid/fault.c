// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: fault queues - I/O page faults of (device, PASID) attachments,
 * delivered to user space through a file and answered through it.
 *
 * Faults arrive through the IOMMU core's iopf path: the IOMMU driver calls
 * iommu_report_device_fault(), the core finds the attach handle of the
 * faulting (device, PASID) and calls the iopf_handler of its domain, which
 * for domains of a fault-delivering IOAS or nested object is
 * ioasid_fault_iopf_handler(). The attach handle is embedded in the
 * attachment (struct ioasid_attachment), so routing never guesses.
 *
 * A group lives on the queue's deliver list until read(), then in the
 * response xarray under its cookie until write() answers it - or until its
 * attachment goes, or the file is closed, which answer it "invalid".
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ioasid_private.h"

/* Devices with IOPF enabled -> how many fault-delivering attachments. */
static DEFINE_XARRAY(ioasid_iopf_devs);

/**
 * ioasid_iopf_enable() - make a device's IOMMU deliver its page requests
 * @igroup: the device's group, locked: every count of a device changes
 *	under its one group's lock
 * @dev: the device
 *
 * Counted: the first of a device's fault-delivering attachments enables
 * IOMMU_DEV_FEAT_IOPF, the last to go disables it.
 *
 * Return: 0, -EOPNOTSUPP if the IOMMU cannot (no PRI), -ENOMEM.
 */
int ioasid_iopf_enable(struct ioasid_group *igroup, struct device *dev)
{
	unsigned long n = xa_to_value(xa_load(&ioasid_iopf_devs, (unsigned long)dev) ?:
				      xa_mk_value(0));
	int rc;

	lockdep_assert_held(&igroup->lock);
	if (!n) {
		rc = iommu_dev_enable_feature(dev, IOMMU_DEV_FEAT_IOPF);
		if (rc)
			return rc == -ENOMEM ? rc : -EOPNOTSUPP;
	}
	rc = xa_err(xa_store(&ioasid_iopf_devs, (unsigned long)dev,
			     xa_mk_value(n + 1), GFP_KERNEL_ACCOUNT));
	if (rc && !n)
		iommu_dev_disable_feature(dev, IOMMU_DEV_FEAT_IOPF);
	return rc;
}

/**
 * ioasid_iopf_disable() - drop one fault-delivering attachment of a device
 * @igroup: the device's group, locked
 * @dev: the device
 */
void ioasid_iopf_disable(struct ioasid_group *igroup, struct device *dev)
{
	unsigned long n = xa_to_value(xa_load(&ioasid_iopf_devs, (unsigned long)dev) ?:
				      xa_mk_value(0));

	lockdep_assert_held(&igroup->lock);
	if (WARN_ON(!n))
		return;
	if (n > 1) {
		/* Replaces an existing entry: no allocation, cannot fail. */
		xa_store(&ioasid_iopf_devs, (unsigned long)dev, xa_mk_value(n - 1),
			 GFP_KERNEL);
		return;
	}
	xa_erase(&ioasid_iopf_devs, (unsigned long)dev);
	iommu_dev_disable_feature(dev, IOMMU_DEV_FEAT_IOPF);
}

static enum iommu_page_response_code ioasid_fault_code(u32 code)
{
	switch (code) {
	case IOASID_FAULT_RESPONSE_SUCCESS:
		return IOMMU_PAGE_RESP_SUCCESS;
	case IOASID_FAULT_RESPONSE_INVALID:
		return IOMMU_PAGE_RESP_INVALID;
	default:
		return IOMMU_PAGE_RESP_FAILURE;
	}
}

/* Answer a group and let it go; the queue's mutex is held. */
static void ioasid_fault_answer(struct ioasid_fault_queue *fq,
				struct iopf_group *group,
				enum iommu_page_response_code code)
{
	lockdep_assert_held(&fq->mutex);
	iopf_group_response(group, code);
	iopf_free_group(group);
	fq->depth--;
}

/*
 * The iopf_handler of every domain that delivers to a queue. While a group
 * is queued its cookie holds the dev_id of the attachment (read() gives it
 * a real cookie), so nothing dereferences the attachment later.
 */
static int ioasid_fault_iopf_handler(struct iopf_group *group)
{
	struct iommu_attach_handle *handle = group->attach_handle;
	struct ioasid_fault_queue *fq = handle->domain->fault_data;
	struct ioasid_attachment *att = container_of(handle, struct ioasid_handle,
						     handle)->att;
	int rc = 0;

	mutex_lock(&fq->mutex);
	if (fq->closed || fq->depth >= IOASID_FAULT_QUEUE_DEPTH) {
		fq->overflows++;
		rc = -ENOSPC;	/* the core answers "failure" */
		goto out_unlock;
	}
	group->cookie = READ_ONCE(att->dev_id);
	list_add_tail(&group->node, &fq->deliver);
	fq->depth++;
	fq->delivered++;
out_unlock:
	mutex_unlock(&fq->mutex);
	if (!rc)
		wake_up_interruptible(&fq->wait);
	return rc;
}

/**
 * ioasid_fault_domain_init() - make a domain deliver its faults to a queue
 * @domain: a domain no device uses yet
 * @fq: the queue; the domain's owner (an IOAS or nested object) holds a
 *	reference on it for as long as the domain lives
 */
void ioasid_fault_domain_init(struct iommu_domain *domain,
			      struct ioasid_fault_queue *fq)
{
	domain->iopf_handler = ioasid_fault_iopf_handler;
	domain->fault_data = fq;
}

/**
 * ioasid_fault_purge() - answer every group of an attachment "invalid"
 * @fq: the queue its domain delivered to
 * @handle: the attachment's handle, no longer attached there
 *
 * Called after the hardware left the domain (detach or replace), so no new
 * group of it can reach @fq through that domain.
 */
void ioasid_fault_purge(struct ioasid_fault_queue *fq,
			struct iommu_attach_handle *handle)
{
	struct iopf_group *group, *next;
	unsigned long index;

	mutex_lock(&fq->mutex);
	list_for_each_entry_safe(group, next, &fq->deliver, node) {
		if (group->attach_handle != handle)
			continue;
		list_del(&group->node);
		ioasid_fault_answer(fq, group, IOMMU_PAGE_RESP_INVALID);
	}
	xa_for_each(&fq->response, index, group) {
		if (group->attach_handle != handle)
			continue;
		xa_erase(&fq->response, index);
		ioasid_fault_answer(fq, group, IOMMU_PAGE_RESP_INVALID);
	}
	mutex_unlock(&fq->mutex);
}

/* Answer everything "invalid"; the mutex is held. */
static void ioasid_fault_answer_all(struct ioasid_fault_queue *fq)
{
	struct iopf_group *group, *next;
	unsigned long index;

	lockdep_assert_held(&fq->mutex);
	list_for_each_entry_safe(group, next, &fq->deliver, node) {
		list_del(&group->node);
		ioasid_fault_answer(fq, group, IOMMU_PAGE_RESP_INVALID);
	}
	xa_for_each(&fq->response, index, group) {
		xa_erase(&fq->response, index);
		ioasid_fault_answer(fq, group, IOMMU_PAGE_RESP_INVALID);
	}
}

static void ioasid_fault_fill(struct ioasid_fault *rec, struct iopf_fault *iopf,
			      u32 dev_id, u32 cookie)
{
	struct iommu_fault_page_request *prm = &iopf->fault.prm;

	memset(rec, 0, sizeof(*rec));
	if (prm->flags & IOMMU_FAULT_PAGE_REQUEST_PASID_VALID) {
		rec->flags |= IOASID_FAULT_PASID_VALID;
		rec->pasid = prm->pasid;
	}
	if (prm->flags & IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE)
		rec->flags |= IOASID_FAULT_LAST_PAGE;
	rec->dev_id = dev_id;
	rec->grpid = prm->grpid;
	rec->perm = prm->perm & (IOASID_FAULT_PERM_READ | IOASID_FAULT_PERM_WRITE |
				 IOASID_FAULT_PERM_EXEC | IOASID_FAULT_PERM_PRIV);
	rec->cookie = cookie;
	rec->addr = prm->addr;
}

/*
 * Take the first queued group for a reader with @room bytes: give it a
 * cookie, fill its records into a new buffer and take it off the delivery
 * list (it waits for its answer in fq->response, where a purge still finds
 * it). Returns the buffer (its size in @len, the group in @gp), NULL when
 * nothing is queued, or an ERR_PTR: -EMSGSIZE when the group does not fit.
 * @dev_id gets the device ID the group's cookie held while it was queued.
 */
static struct ioasid_fault *ioasid_fault_take(struct ioasid_fault_queue *fq,
					      size_t room, size_t *len,
					      struct iopf_group **gp, u32 *dev_id)
{
	const size_t rsz = sizeof(struct ioasid_fault);
	struct ioasid_fault *recs = NULL;
	struct iopf_group *group;
	struct iopf_fault *iopf;
	u32 cookie, i = 0;
	int rc;

	mutex_lock(&fq->mutex);
	group = list_first_entry_or_null(&fq->deliver, struct iopf_group, node);
	if (!group)
		goto out_unlock;
	if (group->fault_count > room / rsz) {
		recs = ERR_PTR(-EMSGSIZE);
		goto out_unlock;
	}
	recs = kcalloc(group->fault_count, rsz, GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!recs) {
		recs = ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	/*
	 * Cyclic, never 0: a cookie is not issued again until the 32-bit
	 * space wraps, so a stale or repeated answer finds nothing (ENOENT)
	 * instead of reaching a later group.
	 */
	rc = xa_alloc_cyclic(&fq->response, &cookie, group, XA_LIMIT(1, U32_MAX),
			     &fq->next_cookie, GFP_KERNEL_ACCOUNT);
	if (rc < 0) {
		kfree(recs);
		recs = ERR_PTR(rc);
		goto out_unlock;
	}
	*dev_id = group->cookie;
	list_for_each_entry(iopf, &group->faults, list)
		ioasid_fault_fill(&recs[i++], iopf, *dev_id, cookie);
	group->cookie = cookie;
	list_del(&group->node);
	*len = i * rsz;
	*gp = group;
out_unlock:
	mutex_unlock(&fq->mutex);
	return recs;
}

/*
 * The records of @group did not reach the reader: queue it again, first,
 * unless it was answered meanwhile (a purge, or a guessed cookie).
 */
static void ioasid_fault_untake(struct ioasid_fault_queue *fq,
				struct iopf_group *group, u32 dev_id)
{
	mutex_lock(&fq->mutex);
	if (xa_load(&fq->response, group->cookie) == group) {
		xa_erase(&fq->response, group->cookie);
		group->cookie = dev_id;
		list_add(&group->node, &fq->deliver);
	}
	mutex_unlock(&fq->mutex);
}

/*
 * Whole groups, as many as fit. The mutex is never held across the copy to
 * user space: a reader whose buffer faults (userfaultfd, say) stalls only
 * itself, not the IOMMU's fault path or other readers.
 */
static ssize_t ioasid_fault_read(struct file *filep, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct ioasid_fault_queue *fq = filep->private_data;
	struct ioasid_fault *recs;
	struct iopf_group *group;
	size_t done = 0, len;
	u32 dev_id;
	int rc = 0;

	if (*ppos)
		return -EINVAL;
	for (;;) {
		recs = ioasid_fault_take(fq, count - done, &len, &group, &dev_id);
		if (IS_ERR_OR_NULL(recs)) {
			rc = PTR_ERR_OR_ZERO(recs);
			if (rc == -EMSGSIZE)
				rc = -EINVAL;	/* not even one group fits */
			break;
		}
		if (copy_to_user(buf + done, recs, len)) {
			ioasid_fault_untake(fq, group, dev_id);
			kfree(recs);
			rc = -EFAULT;
			break;
		}
		kfree(recs);
		done += len;
	}
	return done ?: rc;
}

/* Responses are read in chunks and applied with the mutex held. */
#define IOASID_FAULT_RESP_CHUNK	16

static ssize_t ioasid_fault_write(struct file *filep, const char __user *buf,
				  size_t count, loff_t *ppos)
{
	struct ioasid_fault_queue *fq = filep->private_data;
	const size_t rsz = sizeof(struct ioasid_fault_response);
	struct ioasid_fault_response resp[IOASID_FAULT_RESP_CHUNK];
	struct iopf_group *group;
	size_t done = 0, n, got, i;
	int rc = 0;

	if (*ppos || !count || count % rsz)
		return -EINVAL;
	while (!rc && done < count) {
		n = min_t(size_t, (count - done) / rsz, ARRAY_SIZE(resp));
		got = n - DIV_ROUND_UP(copy_from_user(resp, buf + done, n * rsz), rsz);
		if (got < n)
			rc = -EFAULT;
		mutex_lock(&fq->mutex);
		for (i = 0; i < got; i++) {
			if (resp[i].code > IOASID_FAULT_RESPONSE_FAILURE) {
				rc = -EINVAL;
				break;
			}
			group = xa_erase(&fq->response, resp[i].cookie);
			if (!group) {
				rc = -ENOENT;
				break;
			}
			ioasid_fault_answer(fq, group, ioasid_fault_code(resp[i].code));
			done += rsz;
		}
		mutex_unlock(&fq->mutex);
	}
	return done ?: rc;
}

static __poll_t ioasid_fault_poll(struct file *filep, poll_table *wait)
{
	struct ioasid_fault_queue *fq = filep->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(filep, &fq->wait, wait);
	mutex_lock(&fq->mutex);
	if (!list_empty(&fq->deliver))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&fq->mutex);
	return mask;
}

/* Closing the file answers everything; later faults fail at once. */
static int ioasid_fault_release(struct inode *inode, struct file *filep)
{
	struct ioasid_fault_queue *fq = filep->private_data;
	struct file *ctx_file;

	if (!fq)	/* of a FAULT_QUEUE_ALLOC that failed: it holds nothing */
		return 0;
	ctx_file = fq->ctx->file;
	mutex_lock(&fq->mutex);
	fq->closed = true;
	ioasid_fault_answer_all(fq);
	mutex_unlock(&fq->mutex);
	ioasid_put_fault_queue(fq);
	fput(ctx_file);
	return 0;
}

static const struct file_operations ioasid_fault_fops = {
	.owner = THIS_MODULE,
	.read = ioasid_fault_read,
	.write = ioasid_fault_write,
	.poll = ioasid_fault_poll,
	.release = ioasid_fault_release,
};

int ioasid_fault_queue_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_fault_queue_alloc *cmd = ucmd->cmd;
	const struct ioasid_fault_queue_alloc orig = *cmd;
	struct ioasid_fault_queue *fq;
	struct file *filep;
	int fdno, rc;

	if (cmd->flags)
		return -EOPNOTSUPP;
	fdno = get_unused_fd_flags(O_CLOEXEC);
	if (fdno < 0)
		return fdno;
	/* Without a queue until the call succeeds: its release does nothing. */
	filep = anon_inode_getfile("[ioasid-fault]", &ioasid_fault_fops, NULL,
				   O_RDWR);
	if (IS_ERR(filep)) {
		rc = PTR_ERR(filep);
		goto out_fd;
	}
	fq = ioasid_obj_alloc(ucmd->ctx, fq, IOASID_OBJ_FAULT_QUEUE);
	if (IS_ERR(fq)) {
		rc = PTR_ERR(fq);
		goto out_file;
	}
	fq->ctx = ucmd->ctx;
	mutex_init(&fq->mutex);
	INIT_LIST_HEAD(&fq->deliver);
	xa_init_flags(&fq->response, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&fq->wait);

	cmd->out_fault_id = fq->obj.id;
	cmd->out_fault_fd = fdno;
	rc = ioasid_ucmd_respond_new(ucmd, sizeof(*cmd), &orig);
	if (rc)
		goto out_abort;
	/* The file keeps the queue and the context alive until it closes. */
	refcount_inc(&fq->obj.users);
	get_file(ucmd->ctx->file);
	filep->private_data = fq;
	ioasid_obj_publish(ucmd->ctx, &fq->obj);
	fd_install(fdno, filep);
	return 0;

out_abort:
	ioasid_obj_abort(ucmd->ctx, &fq->obj);
out_file:
	fput(filep);
out_fd:
	put_unused_fd(fdno);
	return rc;
}

/* The abort step of a queue never published: no file, nothing queued. */
void ioasid_fault_queue_abort(struct ioasid_obj *obj)
{
	struct ioasid_fault_queue *fq = container_of(obj, struct ioasid_fault_queue, obj);

	xa_destroy(&fq->response);
	mutex_destroy(&fq->mutex);
}

void ioasid_fault_queue_destroy(struct ioasid_obj *obj)
{
	struct ioasid_fault_queue *fq = container_of(obj, struct ioasid_fault_queue, obj);

	/* The file is closed and no domain delivers here any more. */
	WARN_ON(!list_empty(&fq->deliver) || !xa_empty(&fq->response));
	ioasid_fault_queue_abort(obj);
	kfree(fq);
}

void ioasid_fault_queue_show(struct seq_file *m, struct ioasid_obj *obj)
{
	struct ioasid_fault_queue *fq = container_of(obj, struct ioasid_fault_queue, obj);

	mutex_lock(&fq->mutex);
	seq_printf(m, " pending %u delivered %llu overflows %llu%s", fq->depth,
		   fq->delivered, fq->overflows, fq->closed ? " closed" : "");
	mutex_unlock(&fq->mutex);
}
