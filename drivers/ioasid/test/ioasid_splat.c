// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_splat: a test-only module whose load raises one WARN. The test VM
 * loads it in a negative-control run to prove that the log verdict fails a
 * run on a kernel warning even when every test passed. Loading always fails
 * afterwards so the module never stays resident.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init ioasid_splat_init(void)
{
	WARN(1, "ioasid_splat: deliberate warning for the splat detector\n");
	return -EAGAIN;
}
module_init(ioasid_splat_init);

MODULE_DESCRIPTION("ioasid test: deliberate WARN for the log verdict self-test");
MODULE_LICENSE("GPL");
