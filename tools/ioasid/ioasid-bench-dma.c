// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-bench-dma: the head-to-head benchmark. Times MAP and UNMAP of the
 * same user memory for the same real device - QEMU's edu (PCI 1234:11e8)
 * behind the emulated VT-d, bound to vfio-pci - through
 *
 *   ioasid   a VFIO_IOASID_IOMMU container bound to /dev/ioasid
 *            (VFIO_IOASID_BIND), the edu attached by dev_id (IOASID_ATTACH),
 *            IOASID_MAP / IOASID_UNMAP
 *   iommufd  the edu's VFIO cdev bound to /dev/iommu
 *            (VFIO_DEVICE_BIND_IOMMUFD), attached to an IOAS
 *            (VFIO_DEVICE_ATTACH_IOMMUFD_PT), IOMMU_IOAS_MAP / _UNMAP
 *   type1    VFIO's own type1 (ioasid_vfio's type1_compat=N while the
 *            container picks its driver), VFIO_IOMMU_MAP_DMA / _UNMAP_DMA
 *   io-v1    a VFIO_TYPE1_IOMMU (v1) container served by ioasid_vfio, as
 *            DPDK opens one: type1's v1 unmap never splits a mapping, so
 *            huge IOPTEs stay
 *   fd-4k    iommufd with IOMMU_OPTION_HUGE_PAGES off: what iommufd's own
 *            type1 emulation does to every v1 container (it splits
 *            mappings, so it disables huge IOPTEs)
 *   floor    pin + one iommu_map() per physically contiguous run into a
 *            private, never attached domain of the edu
 *            (IOASID_MOCK_FLOOR_MAP_DEV): the least any of them must do
 *
 * for 4 KiB, 2 MiB, 64 MiB and 1 GiB, 4K-backed (MADV_NOHUGEPAGE) and
 * THP-backed (MADV_HUGEPAGE, 2 MiB aligned, touched) memory, always at IOVA
 * 4 GiB. The buffers are allocated once, so every method maps the same
 * physical pages. Each method gets the device to itself (the group path
 * and the cdev cannot use it at once): it is set up, runs every size, and
 * is torn down before the next. That is repeated in ROUNDS rounds, each
 * starting with another method, so drift of the (shared) host is spread
 * over all methods. Prints medians and minimums (microseconds) of all
 * rounds' samples and ioasid's ratios to the others, of the medians and of
 * the minimums (host noise only ever adds time); TCG makes absolute times
 * meaningless. Not a test: it never fails on speed. The floor's domain is
 * never attached, so unlike the others it pays no IOTLB invalidation (with
 * the emulated VT-d's caching mode, one per iommu_map() call).
 *
 * Before timing, each device path proves the device really translates
 * through what is being timed: the edu copies a page to another through a
 * small mapping below its 28-bit DMA limit.
 *
 * Also reported: how many physically contiguous runs, and how many 2 MiB
 * chunks a 2 MiB IOPTE could map, each buffer has (from /proc/self/pagemap);
 * the IOPTE sizes VT-d offers (iommufd's IOMMU_GET_HW_INFO, ioasid's
 * IOASID_DEVICE_INFO); and, since the VT-d page table cannot be read back
 * (the perf kernel has no CONFIG_INTEL_IOMMU_DEBUGFS), how many 2 MiB IOPTEs
 * ioasid really used for the largest THP buffer, on the mock IOMMU's HUGE
 * device (IOASID_MOCK_CHECK_MAP).
 *
 *   ioasid-bench-dma [max_size_mb]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/ioasid.h>
#include <linux/ioasid_vfio.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include "ioasid_mock.h"
#include "bench.h"
#include "edu.h"

#define KB		(1UL << 10)
#define MB		(1UL << 20)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define GB		(1UL << 30)
#define PSZ		4096UL

#define BENCH_IOVA	(4 * GB)
/* The DMA check's mapping: below the edu's 28-bit DMA limit. */
#define CHECK_IOVA	(1 * MB)


#define PCI_SYSFS	"/sys/bus/pci/devices"
#define IOASID_VFIO	"/sys/module/ioasid_vfio"
#define TYPE1_COMPAT	IOASID_VFIO "/parameters/type1_compat"
#define UNSAFE_IRQS	"/sys/module/ioasid/parameters/allow_unsafe_interrupts"

#define ROUNDS		5
#define MAX_SAMPLES	(ROUNDS * 5)

/* ---- small helpers ---- */

/* ioctl() returning 0 (or a non-negative result) or -errno. */
static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

static long read_long(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? strtol(buf, NULL, 0) : -1;
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The basename of the symlink @path points to, in @out. */
static int link_name(const char *path, char *out, size_t len)
{
	char target[256];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	char *p;

	if (n < 0)
		return -errno;
	target[n] = 0;
	p = strrchr(target, '/');
	p = p ? p + 1 : target;
	if (strlen(p) >= len)
		return -ENAMETOOLONG;
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

static const char *size_label(size_t len, char *buf, size_t n)
{
	if (len >= GB)
		snprintf(buf, n, "%zuG", len / GB);
	else if (len >= MB)
		snprintf(buf, n, "%zuM", len / MB);
	else
		snprintf(buf, n, "%zuK", len / KB);
	return buf;
}

/* ---- the device ---- */

struct edu {
	char bdf[32];
	int group_id;
	char cdev[64];		/* /dev/vfio/devices/vfioN, "" if none */
};

/* The edu after @skip others (in bus order) bound to vfio-pci. */
static int edu_find_nth(struct edu *e, int skip)
{
	struct dirent **ents;
	char path[512], name[64];
	int i, n, rc = -ENODEV;

	n = scandir(PCI_SYSFS, &ents, NULL, alphasort);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		const char *bdf = ents[i]->d_name;
		DIR *dir;
		struct dirent *d;

		if (rc == -ENODEV && bdf[0] != '.') {
			snprintf(path, sizeof(path), PCI_SYSFS "/%s/vendor", bdf);
			if (read_long(path) != EDU_VENDOR)
				goto next;
			snprintf(path, sizeof(path), PCI_SYSFS "/%s/device", bdf);
			if (read_long(path) != EDU_DEVICE)
				goto next;
			snprintf(path, sizeof(path), PCI_SYSFS "/%s/driver", bdf);
			if (link_name(path, name, sizeof(name)) || strcmp(name, "vfio-pci"))
				goto next;
			snprintf(path, sizeof(path), PCI_SYSFS "/%s/iommu_group", bdf);
			if (link_name(path, name, sizeof(name)))
				goto next;
			if (skip-- > 0)
				goto next;
			snprintf(e->bdf, sizeof(e->bdf), "%.31s", bdf);
			e->group_id = atoi(name);
			e->cdev[0] = 0;
			snprintf(path, sizeof(path), PCI_SYSFS "/%s/vfio-dev", bdf);
			dir = opendir(path);
			while (dir && (d = readdir(dir)))
				if (!strncmp(d->d_name, "vfio", 4))
					snprintf(e->cdev, sizeof(e->cdev),
						 "/dev/vfio/devices/%.40s", d->d_name);
			if (dir)
				closedir(dir);
			rc = 0;
		}
next:
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int edu_find(struct edu *e)
{
	return edu_find_nth(e, 0);
}

/* ---- one method's state ---- */

struct ctx {
	struct edu *edu;
	int container, group, dev, ioasid, iommufd, mock;
	__u32 ioas, dev_id;
	bool floor_mapped;
	const char *step;	/* what failed */
	char info[160];		/* what the method learnt about the device */
};

static void ctx_init(struct ctx *c, struct edu *e)
{
	memset(c, 0, sizeof(*c));
	c->edu = e;
	c->container = c->group = c->dev = c->ioasid = c->iommufd = c->mock = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void ctx_close(struct ctx *c)
{
	close_fd(&c->dev);
	close_fd(&c->group);
	close_fd(&c->container);
	close_fd(&c->ioasid);
	close_fd(&c->iommufd);
	close_fd(&c->mock);
}

/* Container + group, then VFIO_SET_IOMMU of @type; @real_type1: VFIO's own. */
static int vfio_container_open(struct ctx *c, unsigned long type, bool real_type1)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64], compat[8] = "";
	long refs;
	int fd, rc, rc2;

	c->step = "open /dev/vfio/vfio";
	c->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c->container < 0)
		return -errno;
	c->step = "VFIO_CHECK_EXTENSION";
	rc = xioctl(c->container, VFIO_CHECK_EXTENSION, (void *)type);
	if (rc <= 0)
		return rc ?: -EOPNOTSUPP;
	c->step = "open the group";
	snprintf(path, sizeof(path), "/dev/vfio/%d", c->edu->group_id);
	c->group = open(path, O_RDWR | O_CLOEXEC);
	if (c->group < 0)
		return -errno;
	c->step = "VFIO_GROUP_GET_STATUS";
	rc = xioctl(c->group, VFIO_GROUP_GET_STATUS, &status);
	if (rc)
		return rc;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EPERM;
	c->step = "VFIO_GROUP_SET_CONTAINER";
	rc = xioctl(c->group, VFIO_GROUP_SET_CONTAINER, &c->container);
	if (rc)
		return rc;

	/* ioasid_vfio serves TYPE1v2 unless type1_compat is N right now. */
	fd = open(TYPE1_COMPAT, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, compat, sizeof(compat) - 1) < 0)
			compat[0] = 0;
		close(fd);
	}
	if (real_type1 && compat[0] == 'Y') {
		c->step = "type1_compat=N";
		rc = write_str(TYPE1_COMPAT, "N");
		if (rc)
			return rc;
	}
	refs = read_long(IOASID_VFIO "/refcnt");
	c->step = "VFIO_SET_IOMMU";
	rc = xioctl(c->container, VFIO_SET_IOMMU, (void *)type);
	if (real_type1 && compat[0] == 'Y') {
		rc2 = write_str(TYPE1_COMPAT, "Y");
		if (!rc && rc2) {
			c->step = "type1_compat=Y";
			rc = rc2;
		}
	}
	if (rc)
		return rc;
	/* The driver that took the container holds a module reference. */
	if (real_type1 && refs >= 0 && read_long(IOASID_VFIO "/refcnt") > refs) {
		c->step = "type1 container served by ioasid_vfio, not VFIO's type1";
		return -EPROTO;
	}
	return 0;
}

static int group_device_open(struct ctx *c)
{
	c->step = "VFIO_GROUP_GET_DEVICE_FD";
	c->dev = xioctl(c->group, VFIO_GROUP_GET_DEVICE_FD, c->edu->bdf);
	if (c->dev < 0) {
		int rc = c->dev;

		c->dev = -1;
		return rc;
	}
	return 0;
}

/* ---- ioasid ---- */

static int ioasid_open_ctx(struct ctx *c)
{
	struct vfio_ioasid_bind bind = { .argsz = sizeof(bind) };
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_device_entry ents[16];
	struct ioasid_device_info info = {
		.size = sizeof(info), .entry_size = sizeof(ents[0]),
		.num_devices = 16, .devices = (uintptr_t)ents,
	};
	struct ioasid_attach at = { .size = sizeof(at), .pasid = IOASID_PASID_NONE };
	unsigned int i;
	int rc;

	rc = vfio_container_open(c, VFIO_IOASID_IOMMU, false);
	if (rc)
		return rc;
	c->step = "open /dev/ioasid";
	c->ioasid = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (c->ioasid < 0)
		return -errno;
	c->step = "VFIO_IOASID_BIND";
	bind.ioasid_fd = c->ioasid;
	rc = xioctl(c->container, VFIO_IOASID_BIND, &bind);
	if (rc)
		return rc;
	c->step = "IOASID_IOAS_ALLOC";
	rc = xioctl(c->ioasid, IOASID_IOAS_ALLOC, &alloc);
	if (rc)
		return rc;
	c->ioas = alloc.out_ioas_id;
	rc = group_device_open(c);
	if (rc)
		return rc;
	c->step = "IOASID_DEVICE_INFO";
	memset(ents, 0, sizeof(ents));
	rc = xioctl(c->ioasid, IOASID_DEVICE_INFO, &info);
	if (rc)
		return rc;
	for (i = 0; i < info.num_devices && i < 16; i++)
		if (!strncmp(ents[i].name, c->edu->bdf, sizeof(ents[i].name)))
			break;
	if (i == info.num_devices || i == 16)
		return -ENOENT;
	c->dev_id = ents[i].dev_id;
	snprintf(c->info, sizeof(c->info),
		 "IOASID_DEVICE_INFO: %s on %s, pgsize_bitmap 0x%llx",
		 ents[i].name, ents[i].iommu,
		 (unsigned long long)ents[i].pgsize_bitmap);
	c->step = "IOASID_ATTACH";
	at.dev_id = c->dev_id;
	at.pt_id = c->ioas;
	return xioctl(c->ioasid, IOASID_ATTACH, &at);
}

static int ioasid_map_mem(struct ctx *c, void *va, size_t len, __u64 iova)
{
	struct ioasid_map map = {
		.size = sizeof(map), .ioas_id = c->ioas,
		.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE,
		.user_va = (uintptr_t)va, .length = len, .iova = iova,
	};

	return xioctl(c->ioasid, IOASID_MAP, &map);
}

static int ioasid_unmap_mem(struct ctx *c, __u64 iova, size_t len)
{
	struct ioasid_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = c->ioas,
		.iova = iova, .length = len,
	};

	return xioctl(c->ioasid, IOASID_UNMAP, &unmap);
}

/* ---- iommufd ---- */

static int iommufd_open_ctx(struct ctx *c)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt at = { .argsz = sizeof(at) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_hw_info_vtd vtd = { 0 };
	struct iommu_hw_info hw = {
		.size = sizeof(hw), .data_len = sizeof(vtd),
		.data_uptr = (uintptr_t)&vtd,
	};
	int rc;

	c->step = "the edu's VFIO cdev (/sys/bus/pci/devices/<bdf>/vfio-dev)";
	if (!c->edu->cdev[0])
		return -ENODEV;
	c->step = "open /dev/iommu";
	c->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (c->iommufd < 0)
		return -errno;
	c->step = "open the VFIO cdev";
	c->dev = open(c->edu->cdev, O_RDWR | O_CLOEXEC);
	if (c->dev < 0)
		return -errno;
	c->step = "VFIO_DEVICE_BIND_IOMMUFD";
	bind.iommufd = c->iommufd;
	rc = xioctl(c->dev, VFIO_DEVICE_BIND_IOMMUFD, &bind);
	if (rc)
		return rc;
	c->dev_id = bind.out_devid;
	c->step = "IOMMU_IOAS_ALLOC";
	rc = xioctl(c->iommufd, IOMMU_IOAS_ALLOC, &alloc);
	if (rc)
		return rc;
	c->ioas = alloc.out_ioas_id;
	c->step = "VFIO_DEVICE_ATTACH_IOMMUFD_PT";
	at.pt_id = c->ioas;
	rc = xioctl(c->dev, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at);
	if (rc)
		return rc;
	/* What VT-d offers: SLLPS (cap bits 34, 35) are 2 MiB and 1 GiB IOPTEs. */
	hw.dev_id = c->dev_id;
	if (!xioctl(c->iommufd, IOMMU_GET_HW_INFO, &hw) &&
	    hw.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD)
		snprintf(c->info, sizeof(c->info),
			 "IOMMU_GET_HW_INFO: VT-d cap 0x%llx: second-stage IOPTEs 4K%s%s",
			 (unsigned long long)vtd.cap_reg,
			 vtd.cap_reg & (1ULL << 34) ? " 2M" : "",
			 vtd.cap_reg & (1ULL << 35) ? " 1G" : "");
	return 0;
}

static int iommufd_map_mem(struct ctx *c, void *va, size_t len, __u64 iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map), .ioas_id = c->ioas,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)va, .length = len, .iova = iova,
	};

	return xioctl(c->iommufd, IOMMU_IOAS_MAP, &map);
}

static int iommufd_unmap_mem(struct ctx *c, __u64 iova, size_t len)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap), .ioas_id = c->ioas,
		.iova = iova, .length = len,
	};

	return xioctl(c->iommufd, IOMMU_IOAS_UNMAP, &unmap);
}

/* ---- VFIO type1 ---- */

static int type1_open_ctx(struct ctx *c)
{
	int rc = vfio_container_open(c, VFIO_TYPE1v2_IOMMU, true);

	if (rc)
		return rc;
	snprintf(c->info, sizeof(c->info), "VFIO_TYPE1v2_IOMMU served by VFIO's type1");
	return group_device_open(c);
}

static int type1_map_mem(struct ctx *c, void *va, size_t len, __u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va, .iova = iova, .size = len,
	};

	return xioctl(c->container, VFIO_IOMMU_MAP_DMA, &map);
}

static int type1_unmap_mem(struct ctx *c, __u64 iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = iova, .size = len,
	};
	int rc = xioctl(c->container, VFIO_IOMMU_UNMAP_DMA, &unmap);

	return rc ?: (unmap.size == len ? 0 : -EIO);
}

/* ---- v1 on ioasid_vfio ---- */

static int io_v1_open_ctx(struct ctx *c)
{
	long refs = read_long(IOASID_VFIO "/refcnt");
	int rc = vfio_container_open(c, VFIO_TYPE1_IOMMU, false);

	if (rc)
		return rc;
	if (refs < 0 || read_long(IOASID_VFIO "/refcnt") <= refs) {
		c->step = "the v1 container is not ioasid_vfio's";
		return -EPROTO;
	}
	snprintf(c->info, sizeof(c->info), "VFIO_TYPE1_IOMMU served by ioasid_vfio");
	return group_device_open(c);
}

/* ---- iommufd without huge IOPTEs ---- */

static int fd_4k_open_ctx(struct ctx *c)
{
	struct iommu_option opt = {
		.size = sizeof(opt), .option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_SET, .val64 = 0,
	};
	int rc = iommufd_open_ctx(c);

	if (rc)
		return rc;
	c->step = "IOMMU_OPTION_HUGE_PAGES=0";
	opt.object_id = c->ioas;
	rc = xioctl(c->iommufd, IOMMU_OPTION, &opt);
	if (rc)
		return rc;
	snprintf(c->info, sizeof(c->info),
		 "iommufd IOAS with IOMMU_OPTION_HUGE_PAGES=0 (its type1 v1 emulation)");
	return 0;
}

/* ---- the floor ---- */

static int floor_open_ctx(struct ctx *c)
{
	c->step = "open /dev/ioasid_mock";
	c->mock = open("/dev/ioasid_mock", O_RDWR | O_CLOEXEC);
	if (c->mock < 0)
		return -errno;
	snprintf(c->info, sizeof(c->info),
		 "IOASID_MOCK_FLOOR_MAP_DEV: private domain of %s, never attached",
		 c->edu->bdf);
	return 0;
}

static int floor_cmd(struct ctx *c, __u32 flags, void *va, size_t len, __u64 iova)
{
	struct ioasid_mock_floor_map_dev fm = {
		.size = sizeof(fm), .flags = flags,
		.uptr = (uintptr_t)va, .length = len, .iova = iova,
	};

	snprintf(fm.name, sizeof(fm.name), "%s", c->edu->bdf);
	return xioctl(c->mock, IOASID_MOCK_FLOOR_MAP_DEV, &fm);
}

static int floor_map_mem(struct ctx *c, void *va, size_t len, __u64 iova)
{
	return floor_cmd(c, 0, va, len, iova);
}

/* The floor unmaps whatever its last map mapped. */
static int floor_unmap_mem(struct ctx *c, __u64 iova __attribute__((unused)),
			   size_t len __attribute__((unused)))
{
	return floor_cmd(c, IOASID_MOCK_FLOOR_UNMAP, NULL, 0, 0);
}

/* ---- the methods ---- */

struct method {
	const char *name;
	int (*open)(struct ctx *c);
	int (*map)(struct ctx *c, void *va, size_t len, __u64 iova);
	int (*unmap)(struct ctx *c, __u64 iova, size_t len);
	bool dma_check;		/* the device translates through it */
};

enum { M_IOASID, M_IOMMUFD, M_TYPE1, M_IO_V1, M_FD_4K, M_FLOOR, NR_METHODS };

static const struct method methods[NR_METHODS] = {
	[M_IOASID] = { "ioasid", ioasid_open_ctx, ioasid_map_mem, ioasid_unmap_mem, true },
	[M_IOMMUFD] = { "iommufd", iommufd_open_ctx, iommufd_map_mem, iommufd_unmap_mem, true },
	[M_TYPE1] = { "type1", type1_open_ctx, type1_map_mem, type1_unmap_mem, true },
	[M_IO_V1] = { "io-v1", io_v1_open_ctx, type1_map_mem, type1_unmap_mem, true },
	[M_FD_4K] = { "fd-4k", fd_4k_open_ctx, iommufd_map_mem, iommufd_unmap_mem, true },
	[M_FLOOR] = { "floor", floor_open_ctx, floor_map_mem, floor_unmap_mem, false },
};

/* ---- the DMA check ---- */

static int edu_region(int dev, unsigned int index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return xioctl(dev, VFIO_DEVICE_GET_REGION_INFO, info);
}

/*
 * Map two pages at CHECK_IOVA through @m, enable the edu (memory decoding,
 * bus mastering), have it copy the first page to the second through its
 * internal buffer, and compare.
 */
static int dma_check(const struct method *m, struct ctx *c)
{
	struct vfio_region_info cfg, bar0;
	void *bar = NULL;
	char *p = NULL;
	__u16 cmd;
	size_t i;
	int rc;

	c->step = "DMA check: region info";
	rc = edu_region(c->dev, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (!rc)
		rc = edu_region(c->dev, VFIO_PCI_BAR0_REGION_INDEX, &bar0);
	if (rc)
		return rc;
	c->step = "DMA check: enable bus mastering";
	if (pread(c->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(c->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	c->step = "DMA check: mmap BAR0";
	bar = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED, c->dev,
		   bar0.offset);
	if (bar == MAP_FAILED)
		return -errno;
	p = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rc = -errno;
		goto out_bar;
	}
	for (i = 0; i < PSZ; i++)
		p[i] = (i * 7 + 3) & 0x7f;
	memset(p + PSZ, 0xa5, PSZ);
	c->step = "DMA check: map";
	rc = m->map(c, p, 2 * PSZ, CHECK_IOVA);
	if (rc)
		goto out_mem;
	c->step = "DMA check: RAM -> edu";
	rc = edu_dma(bar, CHECK_IOVA, EDU_BUF, PSZ, false);
	if (!rc) {
		c->step = "DMA check: edu -> RAM";
		rc = edu_dma(bar, EDU_BUF, CHECK_IOVA + PSZ, PSZ, true);
	}
	if (!rc && memcmp(p, p + PSZ, PSZ)) {
		c->step = "DMA check: the copy differs (DMA did not go through the mapping)";
		rc = -EIO;
	}
	if (m->unmap(c, CHECK_IOVA, 2 * PSZ) && !rc) {
		c->step = "DMA check: unmap";
		rc = -EIO;
	}
out_mem:
	munmap(p, 2 * PSZ);
out_bar:
	munmap(bar, bar0.size);
	return rc;
}

/* ---- memory ---- */

struct buf {
	size_t len;
	int thp;
	char *p;
	unsigned long runs;	/* physically contiguous runs */
	unsigned long huge_ok;	/* 2 MiB chunks one 2 MiB IOPTE can map */
};

/*
 * Count @b's physically contiguous runs and the 2 MiB-aligned chunks that
 * are one physically contiguous, 2 MiB-aligned run (mapped at a 2 MiB
 * aligned IOVA, a 2 MiB IOPTE can map them). Needs CAP_SYS_ADMIN for PFNs.
 */
static void buf_layout(struct buf *b)
{
	unsigned long npages = b->len / PSZ, i, chunk_start = 0;
	__u64 *pm = malloc(npages * sizeof(*pm)), prev = 0;
	bool chunk_ok = false;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	b->runs = b->huge_ok = 0;
	if (!pm || fd < 0 ||
	    pread(fd, pm, npages * sizeof(*pm),
		  (uintptr_t)b->p / PSZ * sizeof(*pm)) != (ssize_t)(npages * sizeof(*pm)))
		goto out;
	for (i = 0; i < npages; i++) {
		__u64 pfn = pm[i] & ((1ULL << 55) - 1);

		if (!(pm[i] >> 63) || !pfn) {
			b->runs = b->huge_ok = 0;	/* no PFNs: unknown */
			goto out;
		}
		if (!i || pfn != prev + 1)
			b->runs++;
		if (i % 512 == 0) {
			chunk_start = i;
			chunk_ok = !(pfn % 512);
		} else if (pfn != prev + 1) {
			chunk_ok = false;
		}
		if (i - chunk_start == 511 && chunk_ok)
			b->huge_ok++;
		prev = pfn;
	}
out:
	if (fd >= 0)
		close(fd);
	free(pm);
}

/* ---- timing ---- */

/*
 * The samples of one (buffer, method), gathered over ROUNDS rounds. Each
 * round sets every method up in turn (starting with a different one each
 * round), so slow drift of the host - TCG shares its CPUs - spreads over
 * all methods instead of favouring whichever ran last.
 */
struct result {
	int n;
	bool failed;
	double map[MAX_SAMPLES], unmap[MAX_SAMPLES];
	double map_med, map_min, unmap_med, unmap_min;
};

/* Timed repetitions per round: 25 in all for small sizes, 10 for 64M, 5 for 1G. */
static int reps_per_round(size_t len)
{
	if (len >= GB)
		return 1;
	return len >= 64 * MB ? 2 : 5;
}

/* One warm-up map/unmap, then this round's timed ones. */
static int time_round(const struct method *m, struct ctx *c, struct buf *b,
		      struct result *r)
{
	int reps = reps_per_round(b->len), i, rc;

	for (i = -1; i < reps && r->n < MAX_SAMPLES; i++) {
		double t0, t1, t2;

		t0 = now_us();
		rc = m->map(c, b->p, b->len, BENCH_IOVA);
		t1 = now_us();
		if (rc) {
			c->step = "map";
			return rc;
		}
		rc = m->unmap(c, BENCH_IOVA, b->len);
		t2 = now_us();
		if (rc) {
			c->step = "unmap";
			return rc;
		}
		if (i >= 0) {
			r->map[r->n] = t1 - t0;
			r->unmap[r->n] = t2 - t1;
			r->n++;
		}
	}
	return 0;
}

static void result_finish(struct result *r)
{
	if (!r->n || r->failed)
		return;
	/* median() sorts: the minimum is first afterwards. */
	r->map_med = median(r->map, r->n);
	r->map_min = r->map[0];
	r->unmap_med = median(r->unmap, r->n);
	r->unmap_min = r->unmap[0];
}

/* ---- ioasid's IOPTE sizes, on the mock's HUGE device ---- */

static void set_unsafe_irqs(const char *val)
{
	if (write_str(UNSAFE_IRQS, val))
		fprintf(stderr, "ioasid-bench-dma: %s: cannot write\n", UNSAFE_IRQS);
}

/*
 * Map @b through ioasid into an IOAS whose only device is a mock device
 * with 2 MiB IOPTEs, and read back how many IOPTEs (and how many of them
 * 2 MiB) cover it. Mock devices have no MSI isolation: allow them briefly.
 */
static void report_mock_huge(struct buf *b)
{
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_mock_dev_add add = { .size = sizeof(add),
					   .flags = IOASID_MOCK_DEV_HUGE };
	struct ioasid_mock_check_map chk = { .size = sizeof(chk) };
	struct ioasid_mock_dev at = { .size = sizeof(at) };
	struct ctx c;
	const char *step;
	char label[16];
	int mfd, rc;

	ctx_init(&c, NULL);
	step = "open /dev/ioasid_mock";
	mfd = open("/dev/ioasid_mock", O_RDWR | O_CLOEXEC);
	if (mfd < 0) {
		rc = -errno;
		goto out;
	}
	step = "open /dev/ioasid";
	c.ioasid = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (c.ioasid < 0) {
		rc = -errno;
		goto out;
	}
	set_unsafe_irqs("1");
	step = "IOASID_IOAS_ALLOC";
	rc = xioctl(c.ioasid, IOASID_IOAS_ALLOC, &alloc);
	if (rc)
		goto out_irqs;
	c.ioas = alloc.out_ioas_id;
	step = "IOASID_MOCK_DEV_ADD";
	add.ioasid_fd = c.ioasid;
	rc = xioctl(mfd, IOASID_MOCK_DEV_ADD, &add);
	if (rc)
		goto out_irqs;
	step = "IOASID_MOCK_ATTACH";
	at.mock_id = add.out_mock_id;
	at.pt_id = c.ioas;
	rc = xioctl(mfd, IOASID_MOCK_ATTACH, &at);
	if (rc)
		goto out_irqs;
	step = "IOASID_MAP";
	rc = ioasid_map_mem(&c, b->p, b->len, BENCH_IOVA);
	if (rc)
		goto out_irqs;
	step = "IOASID_MOCK_CHECK_MAP";
	chk.mock_id = add.out_mock_id;
	chk.iova = BENCH_IOVA;
	chk.length = b->len;
	chk.uptr = (uintptr_t)b->p;
	rc = xioctl(mfd, IOASID_MOCK_CHECK_MAP, &chk);
	ioasid_unmap_mem(&c, BENCH_IOVA, b->len);
out_irqs:
	set_unsafe_irqs("0");
out:
	if (rc)
		printf("THP 2M IOPTEs: not measured (%s: %s)\n", step, strerror(-rc));
	else
		printf("THP 2M IOPTEs (ioasid, %s THP buffer, mock IOMMU with 2M IOPTEs): %llu of %llu IOPTEs are 2M; the memory allows %lu\n",
		       size_label(b->len, label, sizeof(label)),
		       (unsigned long long)chk.out_huge_ioptes,
		       (unsigned long long)chk.out_ioptes, b->huge_ok);
	if (mfd >= 0)
		close(mfd);
	ctx_close(&c);
}

/* ---- main ---- */

static void print_table(const char *what, struct buf *bufs, int nbufs,
			struct result res[][NR_METHODS], bool unmap)
{
	char label[16], cell[32];
	int i, k;

	printf("\n%s (microseconds: median / min of %d rounds; ratios: of the medians (of the minimums))\n",
	       what, ROUNDS);
	printf("%-5s %-4s |", "size", "mem");
	for (k = 0; k < NR_METHODS; k++)
		printf(" %17s", methods[k].name);
	printf(" |");
	for (k = M_IOMMUFD; k < NR_METHODS; k++) {
		snprintf(cell, sizeof(cell), "io/%s", methods[k].name);
		printf(" %12s", cell);
	}
	printf(" | %12s %12s\n", "v1/t1", "v1/fd-4k");
	for (i = 0; i < nbufs; i++) {
		struct result *r = res[i];
		double med[NR_METHODS], min[NR_METHODS];

		printf("%-5s %-4s |", size_label(bufs[i].len, label, sizeof(label)),
		       bufs[i].thp ? "THP" : "4K");
		for (k = 0; k < NR_METHODS; k++) {
			med[k] = unmap ? r[k].unmap_med : r[k].map_med;
			min[k] = unmap ? r[k].unmap_min : r[k].map_min;
			if (r[k].n && !r[k].failed)
				snprintf(cell, sizeof(cell), "%.0f / %.0f", med[k], min[k]);
			else
				snprintf(cell, sizeof(cell), "-");
			printf(" %17s", cell);
		}
		printf(" |");
		for (k = M_IOMMUFD; k < NR_METHODS; k++) {
			if (r[M_IOASID].n && !r[M_IOASID].failed &&
			    r[k].n && !r[k].failed && med[k] > 0 && min[k] > 0)
				snprintf(cell, sizeof(cell), "%.2f (%.2f)",
					 med[M_IOASID] / med[k], min[M_IOASID] / min[k]);
			else
				snprintf(cell, sizeof(cell), "-");
			printf(" %12s", cell);
		}
		/* The v1 container against type1 and against iommufd's v1. */
		printf(" |");
		for (k = M_TYPE1; k <= M_FD_4K; k += M_FD_4K - M_TYPE1) {
			if (r[M_IO_V1].n && !r[M_IO_V1].failed &&
			    r[k].n && !r[k].failed && med[k] > 0 && min[k] > 0)
				snprintf(cell, sizeof(cell), "%.2f (%.2f)",
					 med[M_IO_V1] / med[k], min[M_IO_V1] / min[k]);
			else
				snprintf(cell, sizeof(cell), "-");
			printf(" %12s", cell);
		}
		printf("\n");
	}
}

static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			kb = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kb;
}

/*
 * What a VMM with a vIOMMU pays: one buffer mapped into two type1
 * containers (edu0 in one, edu1 in the other), VmLck read back, on
 * ioasid_vfio and on VFIO's type1. Returns the KiB charged, or -errno.
 */
static long charge_two_containers(bool real_type1, void *buf, size_t len,
				  const char **step)
{
	struct edu e[2];
	struct ctx c[2];
	long base, kb = 0;
	int i, rc = 0;

	if (edu_find_nth(&e[0], 0) || edu_find_nth(&e[1], 1)) {
		*step = "two edu devices bound to vfio-pci";
		return -ENODEV;
	}
	ctx_init(&c[0], &e[0]);
	ctx_init(&c[1], &e[1]);
	base = vm_locked_kb();
	for (i = 0; i < 2; i++) {
		rc = vfio_container_open(&c[i], VFIO_TYPE1v2_IOMMU, real_type1) ?:
		     group_device_open(&c[i]);
		if (!rc) {
			c[i].step = "VFIO_IOMMU_MAP_DMA";
			rc = type1_map_mem(&c[i], buf, len, BENCH_IOVA);
		}
		if (rc) {
			*step = c[i].step;
			break;
		}
	}
	if (!rc)
		kb = vm_locked_kb() - base;
	ctx_close(&c[1]);
	ctx_close(&c[0]);
	return rc ?: kb;
}

static void report_charge(struct buf *b)
{
	long kb[2];
	int k;

	for (k = 0; k < 2; k++) {
		const char *step = "";

		kb[k] = charge_two_containers(k, b->p, b->len, &step);
		if (kb[k] < 0) {
			printf("charge with two containers: not measured (%s: %s)\n",
			       step, strerror(-kb[k]));
			return;
		}
	}
	printf("charge with two containers, one %zu MiB buffer mapped in both: ioasid_vfio %ld MiB, type1 %ld MiB (io/t1 %.2f)\n",
	       b->len / MB, kb[0] / 1024, kb[1] / 1024,
	       kb[1] ? (double)kb[0] / kb[1] : 0);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 4 * KB, 2 * MB, 64 * MB, 1 * GB };
	size_t max = argc > 1 ? strtoul(argv[1], NULL, 0) * MB : GB;
	struct result (*res)[NR_METHODS];
	struct buf bufs[2 * 4];
	bool skipped[NR_METHODS] = { false };
	int nbufs, i, j, k, thp, rc, round;
	unsigned int s, nsizes = 0;
	char label[16];
	struct edu edu;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = edu_find(&edu);
	if (rc) {
		printf("ioasid-bench-dma: no edu device bound to vfio-pci: skipped\n");
		return 0;
	}
	printf("ioasid-bench-dma: edu %s, IOMMU group %d, VFIO cdev %s; IOVA 0x%lx\n",
	       edu.bdf, edu.group_id, edu.cdev[0] ? edu.cdev : "none", BENCH_IOVA);

	for (s = 0; s < ARRAY_SIZE(sizes); s++)
		nsizes += sizes[s] <= max;
	nbufs = 2 * nsizes;
	/*
	 * Table order: 4K-backed first; but THP-backed buffers are allocated
	 * first, before the 4K-backed ones fragment memory.
	 */
	for (thp = 1; thp >= 0; thp--) {
		for (s = 0; s < nsizes; s++) {
			struct buf *b = &bufs[thp * nsizes + s];

			b->len = sizes[s];
			b->thp = thp;
			b->p = get_buf(b->len, thp);
			buf_layout(b);
		}
	}
	for (i = 0; i < nbufs; i++)
		printf("buffer %-5s %-4s: %lu physically contiguous runs, %lu of %lu 2M chunks 2M-mappable\n",
		       size_label(bufs[i].len, label, sizeof(label)),
		       bufs[i].thp ? "THP" : "4K", bufs[i].runs, bufs[i].huge_ok,
		       bufs[i].len / (2 * MB));

	res = calloc(nbufs, sizeof(*res));
	if (!res)
		return 1;
	for (round = 0; round < ROUNDS; round++) {
		for (j = 0; j < NR_METHODS; j++) {
			const struct method *m;
			struct ctx c;

			k = (round + j) % NR_METHODS;
			m = &methods[k];
			if (skipped[k])
				continue;
			ctx_init(&c, &edu);
			rc = m->open(&c);
			/* Prove, once, that the device translates through it. */
			if (!rc && !round && m->dma_check)
				rc = dma_check(m, &c);
			if (rc) {
				printf("%-8s skipped: %s: %s\n", m->name, c.step,
				       strerror(-rc));
				skipped[k] = true;
				ctx_close(&c);
				continue;
			}
			if (!round)
				printf("%-8s %s%s\n", m->name, c.info,
				       m->dma_check ? "; DMA through it: ok" : "");
			for (i = 0; i < nbufs; i++) {
				if (res[i][k].failed)
					continue;
				rc = time_round(m, &c, &bufs[i], &res[i][k]);
				if (rc) {
					printf("%-8s %s of %s %s failed: %s\n", m->name,
					       c.step, size_label(bufs[i].len, label,
								  sizeof(label)),
					       bufs[i].thp ? "THP" : "4K", strerror(-rc));
					res[i][k].failed = true;
				}
			}
			ctx_close(&c);
		}
	}
	for (i = 0; i < nbufs; i++)
		for (k = 0; k < NR_METHODS; k++)
			result_finish(&res[i][k]);

	print_table("MAP", bufs, nbufs, res, false);
	print_table("UNMAP", bufs, nbufs, res, true);
	printf("\n");
	if (nsizes) {
		report_mock_huge(&bufs[nbufs - 1]);
		report_charge(&bufs[nsizes - 1]);
	}
	free(res);
	return 0;
}
