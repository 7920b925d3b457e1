// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-demo: what a VMM does first with /dev/ioasid. Opens a context,
 * asks what the module offers, creates two I/O address spaces, shows them
 * through ioasidctl, and tears everything down again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
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
	/* Guest RAM, as a VMM would have it: mapped once, at IOVA 0. */
	{
		size_t len = 1 << 20;
		void *ram = mmap(NULL, len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		struct ioasid_map map = {
			.size = sizeof(map), .ioas_id = ids[0],
			.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE,
			.user_va = (uintptr_t)ram, .length = len, .iova = 0,
		};
		struct ioasid_copy copy = {
			.size = sizeof(copy), .dst_ioas_id = ids[1], .src_ioas_id = ids[0],
			.flags = IOASID_MAP_READ, .length = len,
		};

		if (ram == MAP_FAILED || ioctl(fd, IOASID_MAP, &map)) {
			fprintf(stderr, "ioasid-demo: MAP: %s\n", strerror(errno));
			return 1;
		}
		printf("ioasid-demo: mapped 1 MiB of memory at IOVA 0 of %u (pinned and charged once)\n",
		       ids[0]);
		if (ioctl(fd, IOASID_COPY, &copy)) {
			fprintf(stderr, "ioasid-demo: COPY: %s\n", strerror(errno));
			return 1;
		}
		printf("ioasid-demo: copied it read-only into %u at IOVA 0x%llx, sharing the pin\n",
		       ids[1], (unsigned long long)copy.dst_iova);
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
