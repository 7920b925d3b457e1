// SPDX-License-Identifier: GPL-2.0
/*
 * l2-maptime.so: preloaded (LD_PRELOAD) into an unmodified QEMU by
 * ioasid-bench-l2, it times every VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA
 * ioctl QEMU makes on its VFIO container - the direct measure of how long the
 * container backend (vfio_iommu_type1 or ioasid_vfio) takes to pin and map
 * QEMU's guest RAM - and appends one line per call to the file
 * $L2_MAPTIME_LOG:
 *
 *	map|unmap <iova> <size> <ns> <return value>
 *
 * Everything else passes straight through to the C library's ioctl().
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/vfio.h>

/* Declared here, not from <sys/ioctl.h>: this is the definition. */
int ioctl(int fd, unsigned long request, ...);

static int (*real_ioctl)(int, unsigned long, ...);
static int log_fd = -1;

__attribute__((constructor)) static void maptime_init(void)
{
	const char *path = getenv("L2_MAPTIME_LOG");

	real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
	if (path)
		log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int ioctl(int fd, unsigned long request, ...)
{
	struct vfio_iommu_type1_dma_map *map;
	struct vfio_iommu_type1_dma_unmap *unmap;
	unsigned long long iova, size;
	long long t0, t1;
	char line[128];
	va_list ap;
	void *arg;
	int ret, len, err;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!real_ioctl)
		maptime_init();
	if (log_fd < 0 || (request != VFIO_IOMMU_MAP_DMA && request != VFIO_IOMMU_UNMAP_DMA))
		return real_ioctl(fd, request, arg);

	if (request == VFIO_IOMMU_MAP_DMA) {
		map = arg;
		iova = map->iova;
		size = map->size;
	} else {
		unmap = arg;
		iova = unmap->iova;
		size = unmap->size;
	}
	t0 = now_ns();
	ret = real_ioctl(fd, request, arg);
	t1 = now_ns();
	/* QEMU reads errno after a failed map: keep it from the ioctl. */
	err = errno;
	len = snprintf(line, sizeof(line), "%s 0x%llx 0x%llx %lld %d\n",
		       request == VFIO_IOMMU_MAP_DMA ? "map" : "unmap", iova, size,
		       t1 - t0, ret);
	if (write(log_fd, line, len) != len)
		len = 0;	/* a short log line: the benchmark says so */
	errno = err;
	return ret;
}
