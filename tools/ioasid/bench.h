/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ioasid benchmarks: a monotonic clock in
 * microseconds, the median of a set of samples, and test buffers.
 */
#ifndef __IOASID_BENCH_H
#define __IOASID_BENCH_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static inline double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static inline int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v in place. */
static inline double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * A buffer of @len bytes, 2 MiB aligned, backed by transparent huge pages
 * (@thp) or by 4 KiB pages only, every page touched. Exits on failure.
 */
static inline char *get_buf(size_t len, int thp)
{
	size_t align = 2UL << 20;
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	memset(p, 0x11, len);
	return p;
}

/* Mock devices have no MSI isolation: allow them for the run (test VM only). */
static inline void allow_unsafe_interrupts(const char *val)
{
	int fd = open("/sys/module/ioasid/parameters/allow_unsafe_interrupts", O_WRONLY);

	if (fd < 0 || write(fd, val, 1) != 1)
		perror("allow_unsafe_interrupts");
	if (fd >= 0)
		close(fd);
}

#endif /* __IOASID_BENCH_H */
