// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid: I/O address spaces (IOAS) - the kernel-managed address spaces that
 * user space maps memory into and devices translate through.
 */
#include <linux/slab.h>

#include "ioasid_private.h"

int ioasid_ioas_alloc_ioctl(struct ioasid_ucmd *ucmd)
{
	struct ioasid_ioas_alloc *cmd = ucmd->cmd;
	struct ioasid_ioas *ioas;
	int rc;

	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;

	ioas = ioasid_obj_alloc(ucmd->ctx, ioas, IOASID_OBJ_IOAS);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	cmd->out_ioas_id = ioas->obj.id;
	rc = ioasid_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		ioasid_obj_abort(ucmd->ctx, &ioas->obj);
		return rc;
	}
	ioasid_obj_publish(ucmd->ctx, &ioas->obj);
	return 0;
}

void ioasid_ioas_destroy(struct ioasid_obj *obj)
{
	struct ioasid_ioas *ioas = container_of(obj, struct ioasid_ioas, obj);

	kfree(ioas);
}
