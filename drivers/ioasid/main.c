// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: the /dev/ioasid misc device, its contexts, the object table of each
 * context and the one ioctl dispatcher that enforces the uAPI contract.
 */
#define pr_fmt(fmt) "ioasid: " fmt

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "ioasid_private.h"

/* Protects ioasid_ctx_list, the open contexts (walked by debugfs). */
DEFINE_MUTEX(ioasid_ctx_list_lock);
LIST_HEAD(ioasid_ctx_list);

/* Woken when an object loses a user, for ioasid_obj_remove_wait(). */
static DECLARE_WAIT_QUEUE_HEAD(ioasid_obj_wq);

/**
 * struct ioasid_obj_ops - what the object table does with one type of object
 * @name: the type's name in debugfs and in warnings
 * @destroy: tear down a published object and free it, once the table has
 *	given up its reference and nothing else holds one (IOASID_DESTROY,
 *	close). Destroy never fails: whatever must be refused (the object is
 *	in use) is refused before the object leaves the table, so @destroy
 *	returns nothing and must release everything, whatever state the
 *	hardware or other objects are in.
 * @abort: undo the building of an object that was never published, from any
 *	point of its create path after ioasid_obj_alloc(): members the path had
 *	not set yet are still zero (NULL). Releases what the object holds but
 *	not the object itself, which ioasid_obj_abort() frees with its ID; like
 *	@destroy it never fails. NULL when the allocation is all there is to
 *	undo.
 * @show: print what is specific to the type (debugfs); may sleep
 */
struct ioasid_obj_ops {
	const char *name;
	void (*destroy)(struct ioasid_obj *obj);
	void (*abort)(struct ioasid_obj *obj);
	void (*show)(struct seq_file *m, struct ioasid_obj *obj);
};

static const struct ioasid_obj_ops ioasid_obj_ops[IOASID_OBJ_MAX] = {
	[IOASID_OBJ_IOAS] = { .name = "ioas", .destroy = ioasid_ioas_destroy,
			      .abort = ioasid_ioas_abort,
			      .show = ioasid_ioas_show },
	[IOASID_OBJ_DEVICE] = { .name = "device", .destroy = ioasid_device_destroy,
				.show = ioasid_device_show },
	[IOASID_OBJ_NESTED] = { .name = "nested", .destroy = ioasid_nested_destroy,
				.abort = ioasid_nested_abort,
				.show = ioasid_nested_show },
	[IOASID_OBJ_FAULT_QUEUE] = { .name = "fault_queue",
				     .destroy = ioasid_fault_queue_destroy,
				     .abort = ioasid_fault_queue_abort,
				     .show = ioasid_fault_queue_show },
};

const char *ioasid_obj_type_name(enum ioasid_obj_type type)
{
	if (type <= IOASID_OBJ_NONE || type >= IOASID_OBJ_MAX)
		return "?";
	return ioasid_obj_ops[type].name;
}

/*
 * Phase one of creating an object: allocate it and reserve its ID. The
 * reserved entry reads as empty, so nothing can look the object up until
 * ioasid_obj_publish(); until then ioasid_obj_abort() undoes this.
 */
struct ioasid_obj *__ioasid_obj_alloc(struct ioasid_ctx *ctx,
				      enum ioasid_obj_type type, size_t size)
{
	struct ioasid_obj *obj;
	int rc;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->users, 1);
	rc = xa_alloc(&ctx->objects, &obj->id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc == -EBUSY ? -ENOMEM : rc);
	}
	return obj;
}

/* Phase two: make a fully built object visible. Cannot fail. */
void ioasid_obj_publish(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	void *old;

	/* Replacing a reserved entry never allocates. */
	old = xa_store(&ctx->objects, obj->id, obj, GFP_KERNEL);
	WARN_ON(old);
}

/**
 * ioasid_obj_abort() - drop an object that was built but never published
 * @ctx: the context
 * @obj: from ioasid_obj_alloc(), not published; the caller's is its only
 *	reference
 *
 * The one error path of a create call once its object exists: runs the
 * type's abort step (struct ioasid_obj_ops) on whatever part of the object
 * was built, then frees the reserved ID and the object. Never fails.
 */
void ioasid_obj_abort(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	const struct ioasid_obj_ops *ops = &ioasid_obj_ops[obj->type];

	if (ops->abort)
		ops->abort(obj);
	/* A reserved entry reads as empty: the ID was never published. */
	WARN_ON(xa_erase(&ctx->objects, obj->id));
	kfree(obj);
}

/**
 * ioasid_obj_get() - look up an object and take a user reference on it
 * @ctx: the context
 * @id: the ID user space passed
 * @type: the type required, or IOASID_OBJ_ANY
 *
 * Return: the object, which the caller releases with ioasid_obj_put(), or
 * ERR_PTR(-ENOENT) if @id names no published object of @type.
 */
struct ioasid_obj *ioasid_obj_get(struct ioasid_ctx *ctx, u32 id,
				  enum ioasid_obj_type type)
{
	struct ioasid_obj *obj;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, id);
	if (!obj || (type != IOASID_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->users))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ctx->objects);
	return obj;
}

void ioasid_obj_put(struct ioasid_obj *obj)
{
	/* The table's own reference keeps this from reaching zero. */
	WARN_ON(refcount_dec_and_test(&obj->users));
	if (wq_has_sleeper(&ioasid_obj_wq))
		wake_up(&ioasid_obj_wq);
}

/*
 * Wait for the debugfs walks that may have found an object before it was
 * unpublished; none finds it afterwards, so it may be freed once this
 * returns.
 */
static void ioasid_obj_sync_show(struct ioasid_ctx *ctx)
{
	down_write(&ctx->show_sem);
	up_write(&ctx->show_sem);
}

/**
 * ioasid_obj_remove_wait() - remove an object whatever uses it
 * @ctx: the context
 * @obj: a published object; the caller holds a reference of its own
 *
 * For objects whose removal may not fail (devices a subsystem unregisters).
 * Removes @obj from the table and drops the caller's reference in one step,
 * under the table's lock: no lookup finds @obj afterwards, and no
 * IOASID_DESTROY can see the table's reference as the last one in between
 * and destroy @obj under its owner. Then waits until every other user has
 * put its reference. The table's reference is left, and the caller frees
 * @obj.
 *
 * The wait ends when the ioctls in flight finish; it sleeps without
 * counting as a hung task, and warns (once) when some user still holds
 * @obj after IOASID_WAIT_WARN_SECS - a reference leak, or an ioctl
 * stuck that long.
 */
void ioasid_obj_remove_wait(struct ioasid_ctx *ctx, struct ioasid_obj *obj)
{
	unsigned long start = jiffies;
	bool warned = false;

	xa_lock(&ctx->objects);
	WARN_ON(__xa_erase(&ctx->objects, obj->id) != obj);
	/* The table's reference remains: this never reaches zero. */
	WARN_ON(refcount_dec_and_test(&obj->users));
	xa_unlock(&ctx->objects);
	ioasid_obj_sync_show(ctx);

	while (!wait_event_idle_timeout(ioasid_obj_wq,
					refcount_read(&obj->users) == 1,
					10 * HZ)) {
		if (!warned &&
		    time_after(jiffies, start + IOASID_WAIT_WARN_SECS * HZ)) {
			WARN(1, "ioasid: %s %u still has %u users after %d s\n",
			     ioasid_obj_type_name(obj->type), obj->id,
			     refcount_read(&obj->users) - 1,
			     IOASID_WAIT_WARN_SECS);
			warned = true;
		}
	}
}

/**
 * ioasid_obj_find_shown() - the next published object of a context, to print
 * @ctx: the context, its @show_sem held for read
 * @index: the ID to look from; returns the ID of the object found
 *
 * For the debugfs walk, which prints each object without a lock of the
 * table held (printing may sleep: a queue's mutex) and without a reference
 * (which would make a concurrent IOASID_DESTROY of it fail with EBUSY):
 * @show_sem keeps the object from being freed until the walk ends, since
 * every path that frees a published object first waits for the walks with
 * ioasid_obj_sync_show().
 *
 * Return: the object, or NULL when there is none at or after *@index.
 */
struct ioasid_obj *ioasid_obj_find_shown(struct ioasid_ctx *ctx,
					 unsigned long *index)
{
	lockdep_assert_held_read(&ctx->show_sem);
	/* Reserved (zero) entries are skipped. */
	return xa_find(&ctx->objects, index, ULONG_MAX, XA_PRESENT);
}

/* Print what is specific to the object's type (debugfs, referenced, may sleep). */
void ioasid_obj_show(struct seq_file *m, struct ioasid_obj *obj)
{
	if (ioasid_obj_ops[obj->type].show)
		ioasid_obj_ops[obj->type].show(m, obj);
}

/*
 * Remove @obj from the table if the table holds its only reference.
 * Called with the table's xa_lock held.
 */
static bool ioasid_obj_unpublish_locked(struct ioasid_ctx *ctx,
					struct ioasid_obj *obj)
{
	lockdep_assert_held(&ctx->objects.xa_lock);
	if (!refcount_dec_if_one(&obj->users))
		return false;
	__xa_erase(&ctx->objects, obj->id);
	return true;
}

static void ioasid_obj_destroy(struct ioasid_obj *obj)
{
	ioasid_obj_ops[obj->type].destroy(obj);
}

static int ioasid_destroy_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_destroy *cmd = ucmd->cmd;
	struct ioasid_ctx *ctx = ucmd->ctx;
	struct ioasid_obj *obj;
	int rc = 0;

	xa_lock(&ctx->objects);
	obj = xa_load(&ctx->objects, cmd->id);
	if (!obj)
		rc = -ENOENT;
	else if (!ioasid_obj_unpublish_locked(ctx, obj))
		rc = -EBUSY;
	xa_unlock(&ctx->objects);
	if (rc)
		return rc;
	ioasid_obj_sync_show(ctx);
	ioasid_obj_destroy(obj);
	return 0;
}

static int ioasid_get_info_ioctl(struct ioasid_ucmd *ucmd);

/**
 * struct ioasid_ioctl_op - how the dispatcher runs one command
 * @ioctl_num: the request, exactly: _IO(IOASID_TYPE, nr)
 * @min_size: the size of the first version of the command's struct
 * @size: the size of the struct this kernel knows
 * @execute: the command
 */
struct ioasid_ioctl_op {
	unsigned int ioctl_num;
	unsigned int min_size;
	unsigned int size;
	int (*execute)(struct ioasid_ucmd *ucmd);
};

/*
 * The kernel copy of every command's argument: it must hold the struct of
 * every op (IOASID_IOCTL_OP() refuses to build otherwise).
 */
union ioasid_ucmd_buffer {
	struct ioasid_get_info get_info;
	struct ioasid_destroy destroy;
	struct ioasid_ioas_alloc ioas_alloc;
	struct ioasid_map map;
	struct ioasid_unmap unmap;
	struct ioasid_copy copy;
	struct ioasid_iova_ranges iova_ranges;
	struct ioasid_ioas_option ioas_option;
	struct ioasid_device_info device_info;
	struct ioasid_attach attach;
	struct ioasid_nested_alloc nested_alloc;
	struct ioasid_invalidate invalidate;
	struct ioasid_fault_queue_alloc fault_queue_alloc;
};

/*
 * The table lists every command once, in the order of the numbers: its n-th
 * entry is command IOASID_CMD_BASE + n, so the dispatcher finds command nr
 * at index nr - IOASID_CMD_BASE and ARRAY_SIZE() of the table is the number
 * of commands. IOASID_IOCTL_OP() checks that at build time, counting the
 * entries with __COUNTER__ (which nothing else in the table may use): a
 * hole, a command listed twice or out of order, or a number the uAPI gave
 * another command, does not build. min_size is the end of the first version
 * of each struct: never change it.
 */
enum { IOASID_IOCTL_FIRST = __COUNTER__ + 1 };

#define IOASID_IOCTL_OP(_ioctl, _fn, _struct, _last)			\
	{								\
		.ioctl_num = _ioctl +					\
			BUILD_BUG_ON_ZERO(_ioctl != _IO(IOASID_TYPE, _IOC_NR(_ioctl)) || \
					  _IOC_NR(_ioctl) - IOASID_CMD_BASE != \
					  __COUNTER__ - IOASID_IOCTL_FIRST), \
		.min_size = offsetofend(struct _struct, _last),		\
		.size = sizeof(struct _struct) +			\
			BUILD_BUG_ON_ZERO(sizeof(union ioasid_ucmd_buffer) < \
					  sizeof(struct _struct)),	\
		.execute = _fn,						\
	}

static const struct ioasid_ioctl_op ioasid_ioctl_ops[] = {
	IOASID_IOCTL_OP(IOASID_GET_INFO, ioasid_get_info_ioctl, ioasid_get_info,
			out_ioctl_mask),
	IOASID_IOCTL_OP(IOASID_DESTROY, ioasid_destroy_ioctl, ioasid_destroy, id),
	IOASID_IOCTL_OP(IOASID_IOAS_ALLOC, ioasid_ioas_alloc_ioctl,
			ioasid_ioas_alloc, parent_id),
	IOASID_IOCTL_OP(IOASID_MAP, ioasid_map_ioctl, ioasid_map, iova),
	IOASID_IOCTL_OP(IOASID_UNMAP, ioasid_unmap_ioctl, ioasid_unmap, length),
	IOASID_IOCTL_OP(IOASID_COPY, ioasid_copy_ioctl, ioasid_copy, src_iova),
	IOASID_IOCTL_OP(IOASID_IOVA_RANGES, ioasid_iova_ranges_ioctl,
			ioasid_iova_ranges, out_iova_alignment),
	IOASID_IOCTL_OP(IOASID_IOAS_OPTION, ioasid_ioas_option_ioctl,
			ioasid_ioas_option, val),
	IOASID_IOCTL_OP(IOASID_DEVICE_INFO, ioasid_device_info_ioctl,
			ioasid_device_info, devices),
	IOASID_IOCTL_OP(IOASID_ATTACH, ioasid_attach_ioctl, ioasid_attach,
			__reserved),
	IOASID_IOCTL_OP(IOASID_DETACH, ioasid_detach_ioctl, ioasid_attach,
			__reserved),
	IOASID_IOCTL_OP(IOASID_NESTED_ALLOC, ioasid_nested_alloc_ioctl,
			ioasid_nested_alloc, out_nested_id),
	IOASID_IOCTL_OP(IOASID_INVALIDATE, ioasid_invalidate_ioctl,
			ioasid_invalidate, data_uptr),
	IOASID_IOCTL_OP(IOASID_FAULT_QUEUE_ALLOC, ioasid_fault_queue_alloc_ioctl,
			ioasid_fault_queue_alloc, out_fault_fd),
};

/* Every command has its bit in ioasid_get_info.out_ioctl_mask. */
static_assert(ARRAY_SIZE(ioasid_ioctl_ops) <= BITS_PER_TYPE(u64));

static int ioasid_get_info_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_get_info *cmd = ucmd->cmd;
	unsigned int i;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	cmd->out_version = IOASID_API_VERSION;
	cmd->out_caps = IOASID_CAP_IOAS | IOASID_CAP_DEVICE | IOASID_CAP_NESTING |
			IOASID_CAP_FAULT | IOASID_CAP_SW_NESTING;
	cmd->out_ioctl_mask = 0;
	for (i = 0; i < ARRAY_SIZE(ioasid_ioctl_ops); i++)
		if (ioasid_ioctl_ops[i].execute)
			cmd->out_ioctl_mask |= BIT_ULL(i);
	return ioasid_ucmd_respond(ucmd, sizeof(*cmd));
}

/**
 * ioasid_ucmd_respond() - copy a command's output back to user space
 * @ucmd: the call
 * @len: the kernel's size of the command struct
 *
 * Copies no more than user space declared in its size field.
 *
 * Return: 0, or -EFAULT.
 */
int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd, min_t(size_t, ucmd->user_size, len)))
		return -EFAULT;
	return 0;
}

/**
 * ioasid_ucmd_respond_new() - write back the output of a call that creates
 * @ucmd: the call
 * @len: the kernel's size of the command struct
 * @orig: the command struct as user space passed it (before any output
 *	field was set)
 *
 * As ioasid_ucmd_respond(), for a call that fails and creates nothing when
 * the write-back fails: the write-back can fail part way (a struct that
 * runs into a page user space cannot write), after storing the output
 * fields before the fault; those bytes are then put back as they were, so
 * the failed call leaves the struct unchanged.
 *
 * Return: 0, or -EFAULT.
 */
int ioasid_ucmd_respond_new(struct ioasid_ucmd *ucmd, size_t len,
			    const void *orig)
{
	size_t n = min_t(size_t, ucmd->user_size, len);
	unsigned long left = copy_to_user(ucmd->ubuffer, ucmd->cmd, n);

	if (!left)
		return 0;
	/* Put back what was stored: this copy stops where the first did. */
	if (left < n)
		left = copy_to_user(ucmd->ubuffer, orig, n);
	return -EFAULT;
}

/**
 * ioasid_ucmd_copy_from_user() - copy in an ioctl argument under the size
 *	contract
 * @buf: the kernel copy of the argument, @size bytes
 * @size: the kernel's size of the command struct
 * @min_size: the end of the struct's first version
 * @ubuffer: the user argument, which starts with its __u32 size
 * @user_size: returns the size user space declared
 *
 * The size contract of every /dev/ioasid ioctl (include/uapi/linux/ioasid.h),
 * for the dispatchers of other modules whose ioctls follow it: a declared
 * size below @min_size fails; what user space did not pass is zero-filled; a
 * larger struct must be zero past @size.
 *
 * Return: 0; -EFAULT, -EINVAL (below @min_size) or -E2BIG (a non-zero byte
 * past @size).
 */
int ioasid_ucmd_copy_from_user(void *buf, size_t size, size_t min_size,
			       void __user *ubuffer, u32 *user_size)
{
	if (get_user(*user_size, (u32 __user *)ubuffer))
		return -EFAULT;
	if (*user_size < min_size)
		return -EINVAL;
	return copy_struct_from_user(buf, size, ubuffer, *user_size);
}
EXPORT_SYMBOL_NS_GPL(ioasid_ucmd_copy_from_user, IOASID);

static long ioasid_fops_ioctl(struct file *filp, unsigned int cmd,
			      unsigned long arg)
{
	struct ioasid_ucmd ucmd = { .ctx = filp->private_data,
				    .ubuffer = (void __user *)arg };
	const struct ioasid_ioctl_op *op;
	union ioasid_ucmd_buffer buf;
	unsigned int nr = _IOC_NR(cmd);
	int rc;

	if (nr < IOASID_CMD_BASE || nr >= IOASID_CMD_BASE + ARRAY_SIZE(ioasid_ioctl_ops))
		return -ENOTTY;
	op = &ioasid_ioctl_ops[nr - IOASID_CMD_BASE];
	/* Another type, or the number with a direction or size encoded. */
	if (cmd != op->ioctl_num)
		return -ENOTTY;

	rc = ioasid_ucmd_copy_from_user(&buf, op->size, op->min_size,
					ucmd.ubuffer, &ucmd.user_size);
	if (rc)
		return rc;
	ucmd.cmd = &buf;
	return op->execute(&ucmd);
}

/* A new context, listed; the caller ties it to a file. */
static struct ioasid_ctx *ioasid_ctx_alloc(void)
{
	struct ioasid_ctx *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return NULL;
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_rwsem(&ctx->show_sem);
	ctx->pid = task_tgid_nr(current);
	get_task_comm(ctx->comm, current);

	mutex_lock(&ioasid_ctx_list_lock);
	list_add_tail(&ctx->node, &ioasid_ctx_list);
	mutex_unlock(&ioasid_ctx_list_lock);
	return ctx;
}

static int ioasid_fops_open(struct inode *inode, struct file *filp)
{
	struct ioasid_ctx *ctx = ioasid_ctx_alloc();

	if (!ctx)
		return -ENOMEM;
	ctx->file = filp;
	filp->private_data = ctx;
	return 0;
}


/*
 * Destroy every object. Objects may hold references on each other, so take
 * the ones nothing else uses, and repeat until the table is empty: each pass
 * destroys at least the objects at the end of every dependency chain.
 */
static void ioasid_ctx_destroy_objects(struct ioasid_ctx *ctx)
{
	struct ioasid_obj *obj;
	unsigned long index;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ctx->objects, index, obj) {
			bool gone;

			xa_lock(&ctx->objects);
			gone = ioasid_obj_unpublish_locked(ctx, obj);
			xa_unlock(&ctx->objects);
			if (gone) {
				ioasid_obj_destroy(obj);
				progress = true;
			}
		}
	} while (progress);
	/* Anything left is a reference leak: keep it rather than free it. */
	WARN_ON(!xa_empty(&ctx->objects));
}

static void ioasid_ctx_free(struct ioasid_ctx *ctx)
{
	/* Off the list under the lock every debugfs walk holds: none is left. */
	mutex_lock(&ioasid_ctx_list_lock);
	list_del(&ctx->node);
	mutex_unlock(&ioasid_ctx_list_lock);

	ioasid_ctx_destroy_objects(ctx);
	xa_destroy(&ctx->objects);
	kfree(ctx);
}

static int ioasid_fops_release(struct inode *inode, struct file *filp)
{
	ioasid_ctx_free(filp->private_data);
	return 0;
}

static const struct file_operations ioasid_fops = {
	.owner = THIS_MODULE,
	.open = ioasid_fops_open,
	.release = ioasid_fops_release,
	.unlocked_ioctl = ioasid_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/**
 * ioasid_ctx_create() - a context without a user file descriptor
 *
 * For a subsystem that presents its own API on top of ioasid (VFIO's type1
 * compatibility). The context lives on an anonymous file; the caller owns
 * the one reference and releases it with ioasid_ctx_put(), which destroys
 * the context and everything in it.
 *
 * Return: the context, or ERR_PTR(-ENOMEM) (or the error of creating the
 * anonymous file).
 */
struct ioasid_ctx *ioasid_ctx_create(void)
{
	struct ioasid_ctx *ctx = ioasid_ctx_alloc();
	struct file *file;

	if (!ctx)
		return ERR_PTR(-ENOMEM);
	file = anon_inode_getfile("[ioasid]", &ioasid_fops, ctx, O_RDWR);
	if (IS_ERR(file)) {
		ioasid_ctx_free(ctx);
		return ERR_CAST(file);
	}
	ctx->file = file;
	return ctx;
}
EXPORT_SYMBOL_NS_GPL(ioasid_ctx_create, IOASID);

/**
 * get_ioasid_from_file() - the IOASID context behind an open /dev/ioasid
 * @file: a file user space passed to the subsystem, from fget() of the
 *	descriptor it passed (fget() returning NULL is the subsystem's -EBADF
 *	too)
 *
 * A context reference is a reference on its file: the caller's own fget()
 * reference may be dropped right after this call.
 *
 * Return: the context with a reference (a reference on @file), to be
 * released with ioasid_ctx_put(); ERR_PTR(-EBADF) if @file is NULL or not
 * an open /dev/ioasid.
 */
struct ioasid_ctx *get_ioasid_from_file(struct file *file)
{
	if (!file || file->f_op != &ioasid_fops)
		return ERR_PTR(-EBADF);
	get_file(file);
	return file->private_data;
}
EXPORT_SYMBOL_NS_GPL(get_ioasid_from_file, IOASID);

/**
 * ioasid_ctx_put() - release a context reference
 * @ctx: the context, from get_ioasid_from_file() or ioasid_ctx_create()
 *
 * The context and everything in it is destroyed when the last reference to
 * its file goes (user space closing its descriptor is just one of them),
 * from fput()'s deferred work, not inside this call.
 */
void ioasid_ctx_put(struct ioasid_ctx *ctx)
{
	fput(ctx->file);
}
EXPORT_SYMBOL_NS_GPL(ioasid_ctx_put, IOASID);

static struct miscdevice ioasid_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ioasid",
	.fops = &ioasid_fops,
	.nodename = "ioasid",
	/* Root only by default; a udev rule may hand it to a VMM group. */
	.mode = 0600,
};

static int __init ioasid_init(void)
{
	int rc;

	rc = misc_register(&ioasid_misc);
	if (rc)
		return rc;
	ioasid_debugfs_init();
	return 0;
}

static void __exit ioasid_exit(void)
{
	ioasid_debugfs_exit();
	misc_deregister(&ioasid_misc);
}

module_init(ioasid_init);
module_exit(ioasid_exit);

MODULE_DESCRIPTION("ioasid: I/O address spaces shared by VFIO and vDPA devices");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOASID_VERSION);
