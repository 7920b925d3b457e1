// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-bench: time IOASID_MAP and IOASID_UNMAP against the floor (the
 * mock's pin + iommu_map of the same runs with no bookkeeping), for several
 * sizes, 4K-backed and THP-backed memory, an IOAS feeding one and two mock
 * domains. Prints medians and ratios. Not a test: it never fails on speed.
 *
 *   ioasid-bench [max_size_mb]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>
#include "ioasid_mock.h"
#include "bench.h"

#define MB (1UL << 20)

static int xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg)) {
		fprintf(stderr, "ioasid-bench: %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return 0;
}

static __u32 mock_add(int mfd, int fd, __u32 flags)
{
	struct ioasid_mock_dev_add add = { .size = sizeof(add), .flags = flags,
					   .ioasid_fd = fd };

	xioctl(mfd, IOASID_MOCK_DEV_ADD, &add, "MOCK_DEV_ADD");
	return add.out_mock_id;
}

/* One configuration: ndom 0 is the floor, 1 or 2 an IOAS with that many domains. */
static void run(int mfd, char *buf, size_t len, int ndom, int reps,
		double *map_us, double *unmap_us)
{
	double m[64], u[64];
	__u32 ioas = 0, mock[2];
	int fd, i;

	fd = open("/dev/ioasid", O_RDWR);
	if (fd < 0) {
		perror("/dev/ioasid");
		exit(1);
	}
	if (ndom) {
		struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };

		xioctl(fd, IOASID_IOAS_ALLOC, &alloc, "IOAS_ALLOC");
		ioas = alloc.out_ioas_id;
	}
	for (i = 0; i < (ndom ? ndom : 1); i++) {
		mock[i] = mock_add(mfd, fd, IOASID_MOCK_DEV_HUGE |
				   (i ? IOASID_MOCK_DEV_INSTANCE2 : 0));
		if (ndom) {
			struct ioasid_mock_dev at = { .size = sizeof(at),
						      .mock_id = mock[i], .pt_id = ioas };

			xioctl(mfd, IOASID_MOCK_ATTACH, &at, "MOCK_ATTACH");
		}
	}
	for (i = 0; i < reps; i++) {
		double t0, t1, t2;

		if (ndom) {
			struct ioasid_map map = {
				.size = sizeof(map), .ioas_id = ioas,
				.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ |
					 IOASID_MAP_WRITE,
				.user_va = (uintptr_t)buf, .length = len, .iova = 1UL << 30,
			};
			struct ioasid_unmap unmap = {
				.size = sizeof(unmap), .ioas_id = ioas,
				.iova = 1UL << 30, .length = len,
			};

			t0 = now_us();
			xioctl(fd, IOASID_MAP, &map, "MAP");
			t1 = now_us();
			xioctl(fd, IOASID_UNMAP, &unmap, "UNMAP");
			t2 = now_us();
		} else {
			struct ioasid_mock_floor_map fm = {
				.size = sizeof(fm), .mock_id = mock[0],
				.uptr = (uintptr_t)buf, .length = len, .iova = 1UL << 30,
			};

			t0 = now_us();
			xioctl(mfd, IOASID_MOCK_FLOOR_MAP, &fm, "FLOOR_MAP");
			t1 = now_us();
			fm.flags = IOASID_MOCK_FLOOR_UNMAP;
			xioctl(mfd, IOASID_MOCK_FLOOR_MAP, &fm, "FLOOR_UNMAP");
			t2 = now_us();
		}
		m[i] = t1 - t0;
		u[i] = t2 - t1;
	}
	*map_us = median(m, reps);
	*unmap_us = median(u, reps);
	for (i = 0; i < (ndom ? ndom : 1); i++) {
		struct ioasid_mock_dev del = { .size = sizeof(del), .mock_id = mock[i] };

		xioctl(mfd, IOASID_MOCK_DEV_DEL, &del, "MOCK_DEV_DEL");
	}
	close(fd);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 2 * MB, 64 * MB, 1024 * MB };
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 0) * MB : 1024 * MB;
	int mfd, thp;
	unsigned int s;

	mfd = open("/dev/ioasid_mock", O_RDWR);
	if (mfd < 0) {
		perror("/dev/ioasid_mock");
		return 1;
	}
	allow_unsafe_interrupts("1");
	printf("%-8s %-4s | %12s %12s %12s | %12s %12s %12s | %6s %6s %6s %6s\n",
	       "size", "mem", "floor map", "1dom map", "2dom map",
	       "floor unmap", "1dom unmap", "2dom unmap",
	       "map1/f", "map2/f", "unm1/f", "unm2/f");
	for (thp = 0; thp < 2; thp++) {
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			size_t len = sizes[s];
			int reps = len >= 64 * MB ? 5 : 21;
			double fm, fu, m1, u1, m2, u2;
			char *buf, label[16];

			if (len > max)
				continue;
			buf = get_buf(len, thp);
			run(mfd, buf, len, 0, reps, &fm, &fu);
			run(mfd, buf, len, 1, reps, &m1, &u1);
			run(mfd, buf, len, 2, reps, &m2, &u2);
			munmap(buf, len);
			if (len >= MB)
				snprintf(label, sizeof(label), "%zuM", len / MB);
			else
				snprintf(label, sizeof(label), "%zuK", len / 1024);
			printf("%-8s %-4s | %10.0fus %10.0fus %10.0fus | %10.0fus %10.0fus %10.0fus | %6.2f %6.2f %6.2f %6.2f\n",
			       label, thp ? "THP" : "4K", fm, m1, m2, fu, u1, u2,
			       m1 / fm, m2 / fm, u1 / fu, u2 / fu);
			fflush(stdout);
		}
	}
	allow_unsafe_interrupts("0");
	close(mfd);
	return 0;
}
