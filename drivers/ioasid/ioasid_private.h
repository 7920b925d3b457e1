/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ioasid: types shared by the files of the driver. Not a contract: the
 * contracts are include/uapi/linux/ioasid.h and include/linux/ioasid.h.
 *
 * Lock order (outer first):
 *   ioasid_ctx_list_lock   the list of open contexts (debugfs only)
 *   ctx->objects xa_lock   the object table; held only to look up, publish or
 *                          remove an entry, never across a call out
 */
#ifndef __IOASID_PRIVATE_H
#define __IOASID_PRIVATE_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <uapi/linux/ioasid.h>

enum ioasid_obj_type {
	IOASID_OBJ_NONE,
	IOASID_OBJ_ANY = IOASID_OBJ_NONE,
	IOASID_OBJ_IOAS,
	IOASID_OBJ_MAX,
};

/**
 * struct ioasid_obj - header of every object in a context's table
 * @type: what the object is; selects its ops
 * @id: index in ctx->objects, what user space names it by
 * @users: 1 for the table's own reference, plus one for each ioctl in flight
 *	and each object that depends on this one. Destroy succeeds only when
 *	the table holds the last reference.
 */
struct ioasid_obj {
	enum ioasid_obj_type type;
	u32 id;
	refcount_t users;
};

/**
 * struct ioasid_ctx - one open of /dev/ioasid
 * @file: the file this context belongs to; its lifetime is the file's
 * @objects: ID -> struct ioasid_obj; reserved (zero) entries are objects
 *	being built, invisible to lookups
 * @node: entry in the list of open contexts (debugfs)
 * @pid: thread group of the opener, for debugfs
 * @comm: command name of the opener, for debugfs
 */
struct ioasid_ctx {
	struct file *file;
	struct xarray objects;
	struct list_head node;
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/**
 * struct ioasid_ucmd - one ioctl call being executed
 * @ctx: the context the call was made on
 * @ubuffer: the user's argument
 * @user_size: the size user space declared in the argument
 * @cmd: kernel copy of the argument, at least the kernel's struct size,
 *	zero-filled past what user space passed
 */
struct ioasid_ucmd {
	struct ioasid_ctx *ctx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int ioasid_ucmd_respond(struct ioasid_ucmd *ucmd, size_t len);

/* Object table (main.c) */
struct ioasid_obj *__ioasid_obj_alloc(struct ioasid_ctx *ctx,
				      enum ioasid_obj_type type, size_t size);
/* Allocates a struct whose first member is a struct ioasid_obj named obj. */
#define ioasid_obj_alloc(ctx, ptr, type)					\
	({									\
		static_assert(offsetof(typeof(*(ptr)), obj) == 0);		\
		(typeof(ptr))__ioasid_obj_alloc(ctx, type, sizeof(*(ptr)));	\
	})
void ioasid_obj_publish(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
void ioasid_obj_abort(struct ioasid_ctx *ctx, struct ioasid_obj *obj);
struct ioasid_obj *ioasid_obj_get(struct ioasid_ctx *ctx, u32 id,
				  enum ioasid_obj_type type);
void ioasid_obj_put(struct ioasid_obj *obj);
const char *ioasid_obj_type_name(enum ioasid_obj_type type);

/* Contexts (main.c), walked by debugfs */
extern struct mutex ioasid_ctx_list_lock;
extern struct list_head ioasid_ctx_list;

/* I/O address spaces (ioas.c) */
struct ioasid_ioas {
	struct ioasid_obj obj;
};

int ioasid_ioas_alloc_ioctl(struct ioasid_ucmd *ucmd);
void ioasid_ioas_destroy(struct ioasid_obj *obj);

/* debugfs (debugfs.c) */
void ioasid_debugfs_init(void);
void ioasid_debugfs_exit(void);

#endif /* __IOASID_PRIVATE_H */
