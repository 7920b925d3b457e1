// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-demo: what a VMM does first with /dev/ioasid. Opens a context,
 * asks what the module offers, creates two I/O address spaces, shows them
 * through ioasidctl, and tears everything down again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ioasid.h>

static int run(const char *what, const char *cmd)
{
	printf("\n$ %s\n", what);
	fflush(stdout);
	return system(cmd);
}

int main(int argc, char **argv)
{
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_destroy destroy = { .size = sizeof(destroy) };
	const char *ctl = argc > 1 ? argv[1] : "/tools/ioasidctl";
	char cmd[256];
	__u32 ids[2];
	int fd, i;

	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ioasid-demo: /dev/ioasid: %s\n", strerror(errno));
		return 1;
	}
	printf("ioasid-demo: opened /dev/ioasid (a new IOASID context)\n");
	snprintf(cmd, sizeof(cmd), "%s info", ctl);
	run("ioasidctl info", cmd);

	for (i = 0; i < 2; i++) {
		if (ioctl(fd, IOASID_IOAS_ALLOC, &alloc)) {
			fprintf(stderr, "ioasid-demo: IOAS_ALLOC: %s\n", strerror(errno));
			return 1;
		}
		ids[i] = alloc.out_ioas_id;
		printf("ioasid-demo: allocated I/O address space %u\n", ids[i]);
	}
	snprintf(cmd, sizeof(cmd), "%s show", ctl);
	run("ioasidctl show", cmd);

	destroy.id = ids[0];
	if (ioctl(fd, IOASID_DESTROY, &destroy)) {
		fprintf(stderr, "ioasid-demo: DESTROY: %s\n", strerror(errno));
		return 1;
	}
	printf("\nioasid-demo: destroyed %u; closing the context frees %u\n",
	       ids[0], ids[1]);
	close(fd);
	run("ioasidctl show", cmd);
	printf("\nioasid-demo: done\n");
	return 0;
}
