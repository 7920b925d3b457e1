// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: a read-only debugfs view of the open contexts and their objects,
 * read by tools/ioasid/ioasidctl. One line per item, "key value" pairs, so
 * the format can grow without breaking the parser:
 *
 *   context <n> pid <pid> objects <count> comm <comm, to the end of line>
 *     object <id> type <name> users <refs> [type-specific pairs]
 *
 * IOAS: areas <n> mapped <bytes> domains <n>
 * device: subsystem <name> dev <device name> [pasid <n>] attached <IOAS or 0>
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "ioasid_private.h"

static struct dentry *ioasid_debugfs_dir;

static void ioasid_debugfs_show_ctx(struct seq_file *m, struct ioasid_ctx *ctx,
				    unsigned int n)
{
	unsigned long index, count = 0;
	struct ioasid_obj *obj;

	/* Counting sleeps nowhere; printing an object may (a queue's mutex). */
	xa_lock(&ctx->objects);
	xa_for_each(&ctx->objects, index, obj)
		count++;
	xa_unlock(&ctx->objects);
	seq_printf(m, "context %u pid %d objects %lu comm %s\n", n, ctx->pid,
		   count, ctx->comm);
	/*
	 * No lock of the table held while an object prints, and no reference
	 * taken (a DESTROY meanwhile must not fail with EBUSY): show_sem
	 * keeps what the walk finds from being freed.
	 */
	down_read(&ctx->show_sem);
	for (index = 0; (obj = ioasid_obj_find_shown(ctx, &index)); index++) {
		seq_printf(m, "  object %u type %s users %u", obj->id,
			   ioasid_obj_type_name(obj->type),
			   refcount_read(&obj->users));
		ioasid_obj_show(m, obj);
		seq_putc(m, '\n');
	}
	up_read(&ctx->show_sem);
}

static int ioasid_contexts_show(struct seq_file *m, void *unused)
{
	struct ioasid_ctx *ctx;
	unsigned int n = 0;

	mutex_lock(&ioasid_ctx_list_lock);
	list_for_each_entry(ctx, &ioasid_ctx_list, node)
		ioasid_debugfs_show_ctx(m, ctx, n++);
	mutex_unlock(&ioasid_ctx_list_lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ioasid_contexts);

void ioasid_debugfs_init(void)
{
	ioasid_debugfs_dir = debugfs_create_dir("ioasid", NULL);
	debugfs_create_file("contexts", 0400, ioasid_debugfs_dir, NULL,
			    &ioasid_contexts_fops);
}

void ioasid_debugfs_exit(void)
{
	debugfs_remove_recursive(ioasid_debugfs_dir);
}
