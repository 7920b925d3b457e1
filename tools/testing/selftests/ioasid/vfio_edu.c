// SPDX-License-Identifier: GPL-2.0
/*
 * Real DMA through VFIO: QEMU's edu test device (PCI 1234:11e8) behind the
 * emulated VT-d, driven from user space through vfio-pci.
 *
 * Container modes (fixture variants):
 *   type1       VFIO_TYPE1v2_IOMMU with VFIO_IOMMU_MAP_DMA/UNMAP_DMA. With
 *               ioasid_vfio loaded (type1_compat=Y) this is ioasid's type1
 *               compatibility mode; without it, VFIO's own type1.
 *   type1_real  the same with ioasid_vfio's type1_compat=N while the
 *               container picks its IOMMU driver: VFIO's own type1.
 *   native      VFIO_IOASID_IOMMU bound to a /dev/ioasid context; the
 *               devices are attached and memory mapped through /dev/ioasid.
 *
 * The edu device copies between its 4 KiB internal buffer (device address
 * 0x40000) and an IOVA, one transfer at a time; it completes a transfer
 * from a 100 ms timer and reports nothing but "done", so every check here
 * compares bytes in memory. QEMU aborts on a transfer outside the internal
 * buffer and truncates IOVAs to 28 bits: edu_dma() refuses both.
 *
 * /init binds every edu on the root bus to vfio-pci before the tests run.
 * The edu_unplug tests remove the VM's third edu, the one behind a
 * hot-pluggable root port (run-vm), with QEMU's device_del (through the
 * host's scripts/qmp-hotplug) or through sysfs, while it DMAs, and bring it
 * back; the other tests never use it. The hot-remove test removes a root-bus
 * device and rescans the bus; it is the last fixture, so it runs after
 * every other test, and it binds the new device to vfio-pci again for
 * whatever runs next.
 */
#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/ioasid_vfio.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"
#include "vdpa_utils.h"
#include "edu.h"

#define PSZ		4096UL

#define MAX_EDU		2

#define PCI_SYSFS	"/sys/bus/pci"
#define VFIO_CONTAINER	"/dev/vfio/vfio"
#define IOASID_VFIO	"/sys/module/ioasid_vfio"
#define TYPE1_COMPAT	IOASID_VFIO "/parameters/type1_compat"

/* Byte patterns: data bytes stay below 0x80, sentinels are above. */
#define UNTOUCHED	0xa5
#define POISON		0xc3

enum edu_mode { EDU_TYPE1, EDU_NATIVE };

struct edu {
	char bdf[32];
	int group_id;
	int group;		/* /dev/vfio/<group_id>; -1 when shared */
	int dev;		/* the VFIO device fd */
	void *bar;		/* BAR0, mmap()ed from the device fd */
	size_t bar_size;
	__u32 dev_id;		/* native: its ID in the ioasid context */
};

struct edu_ctx {
	enum edu_mode mode;
	int container;
	int ioasid;		/* native: the /dev/ioasid fd */
	__u32 ioas;		/* native: the IOAS every device is attached to */
	int nedu;
	struct edu edu[MAX_EDU];
	const char *step;	/* what edu_ctx_open() did last, for logs */
	bool by_ioasid;		/* ioasid_vfio took the container */
};

static int vioctl(int fd, unsigned long cmd, unsigned long arg)
{
	int rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

/* Copy @src into @dst of @len bytes, truncated and NUL-terminated. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

/* The basename of the link at @fmt (a printf format with one string). */
static int read_link_name(const char *fmt, const char *arg, char *out, size_t len)
{
	char path[256], target[256];
	ssize_t n;
	char *p;

	snprintf(path, sizeof(path), fmt, arg);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	p = strrchr(target, '/');
	copy_str(out, len, p ? p + 1 : target);
	return 0;
}

static bool is_edu(const char *bdf)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%.32s/vendor", bdf);
	if (read_long_file(path) != EDU_VENDOR)
		return false;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%.32s/device", bdf);
	return read_long_file(path) == EDU_DEVICE;
}

/*
 * Whether @bdf sits behind a PCI bridge (a root port) rather than on the
 * root bus: its sysfs parent is another PCI device, not "pci<dom>:<bus>".
 */
static bool behind_port(const char *bdf)
{
	char path[256], real[PATH_MAX], *p;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%.32s", bdf);
	if (!realpath(path, real))
		return false;
	p = strrchr(real, '/');
	if (!p)
		return false;
	*p = 0;
	p = strrchr(real, '/');
	return p && strncmp(p + 1, "pci", 3);
}

/*
 * The PCI addresses of the edu devices on the root bus (or, @ported, the
 * ones behind a root port: the VM's hot-pluggable edu), in bus order;
 * returns how many.
 */
static int edu_find_on(char bdf[][32], int max, bool ported)
{
	struct dirent **ents;
	int i, n, found = 0;

	n = scandir(PCI_SYSFS "/devices", &ents, NULL, alphasort);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.' && found < max &&
		    is_edu(ents[i]->d_name) &&
		    behind_port(ents[i]->d_name) == ported)
			copy_str(bdf[found++], 32, ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return found;
}

static int edu_find(char bdf[][32], int max)
{
	return edu_find_on(bdf, max, false);
}

static bool bound_to_vfio(const char *bdf)
{
	char drv[64];

	return !read_link_name(PCI_SYSFS "/devices/%s/driver", bdf, drv, sizeof(drv)) &&
	       !strcmp(drv, "vfio-pci");
}

/* Hand @bdf to vfio-pci as /init does: driver_override, then drivers_probe. */
static int edu_bind_vfio(const char *bdf)
{
	char path[256];
	int rc;

	if (bound_to_vfio(bdf))
		return 0;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver/unbind", bdf);
	if (!access(path, W_OK)) {
		rc = write_file(path, bdf);
		if (rc)
			return rc;
	}
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver_override", bdf);
	rc = write_file(path, "vfio-pci");
	if (rc)
		return rc;
	rc = write_file(PCI_SYSFS "/drivers_probe", bdf);
	if (rc)
		return rc;
	return bound_to_vfio(bdf) ? 0 : -ENODEV;
}

/* Rescan the bus if @bdf is gone and bind it to vfio-pci again. */
static int edu_restore(const char *bdf)
{
	char path[256];
	int rc;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", bdf);
	if (access(path, F_OK)) {
		rc = write_file(PCI_SYSFS "/rescan", "1");
		if (rc)
			return rc;
		if (access(path, F_OK))
			return -ENODEV;
	}
	return edu_bind_vfio(bdf);
}

/* Returns "Y" or "N" of ioasid_vfio's type1_compat in @val, or -errno. */
static int read_type1_compat(char *val)
{
	char buf[8] = "";
	int fd = open(TYPE1_COMPAT, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	val[0] = buf[0];
	val[1] = 0;
	return 0;
}

/* ---- the device: BAR0, bus mastering, DMA ---- */

static int edu_region(struct edu *e, unsigned int index,
		      struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return vioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, (unsigned long)info);
}

/*
 * vfio-pci enables the device but leaves the virtual command register to
 * user space (as for a guest): set memory decoding, or BAR accesses fault,
 * and bus mastering, or the device's DMA goes nowhere.
 */
static int edu_enable(struct edu *e)
{
	struct vfio_region_info cfg;
	__u16 cmd;
	int rc;

	rc = edu_region(e, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (rc)
		return rc;
	if (pread(e->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(e->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	return 0;
}

static int edu_map_bar(struct edu *e)
{
	struct vfio_region_info bar;
	void *p;
	int rc;

	rc = edu_region(e, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (rc)
		return rc;
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < EDU_DMA_CMD + 8)
		return -EOPNOTSUPP;
	p = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, e->dev, bar.offset);
	if (p == MAP_FAILED)
		return -errno;
	e->bar = p;
	e->bar_size = bar.size;
	return 0;
}

/* RAM (@iova) -> the internal buffer at @off. */
static int edu_to_dev(struct edu *e, __u64 iova, __u32 off, __u32 len)
{
	return edu_dma(e->bar, iova, EDU_BUF + off, len, false);
}

/* The internal buffer at @off -> RAM (@iova). */
static int edu_to_ram(struct edu *e, __u32 off, __u64 iova, __u32 len)
{
	return edu_dma(e->bar, EDU_BUF + off, iova, len, true);
}

/* ---- ioasid devices ---- */

static int ioasid_find_device(int fd, const char *name,
			      struct ioasid_device_entry *out)
{
	struct ioasid_device_entry ents[16];
	__u32 num = 16;
	unsigned int i;
	int rc;

	memset(ents, 0, sizeof(ents));
	rc = ioasid_device_info(fd, ents, &num, sizeof(ents[0]));
	if (rc)
		return rc;
	for (i = 0; i < num && i < 16; i++) {
		if (!strncmp(ents[i].name, name, sizeof(ents[i].name))) {
			if (out)
				*out = ents[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- a container with edu devices in it ---- */

static void edu_ctx_init(struct edu_ctx *c)
{
	int i;

	memset(c, 0, sizeof(*c));
	c->container = c->ioasid = -1;
	for (i = 0; i < MAX_EDU; i++)
		c->edu[i].group = c->edu[i].dev = -1;
}

static int set_iommu(struct edu_ctx *c, bool real_type1)
{
	unsigned long type = c->mode == EDU_NATIVE ? VFIO_IOASID_IOMMU :
						     VFIO_TYPE1v2_IOMMU;
	char compat[2] = "";
	long refs;
	int rc, rc2;

	/*
	 * ioasid_vfio serves TYPE1v2 containers unless type1_compat is N; the
	 * parameter only matters while the container picks its driver.
	 */
	if (real_type1 && !read_type1_compat(compat) && compat[0] == 'Y') {
		c->step = "type1_compat=N";
		rc = write_file(TYPE1_COMPAT, "N");
		if (rc)
			return rc;
	}
	/* The driver that takes the container holds a module reference. */
	refs = read_long_file(IOASID_VFIO "/refcnt");
	c->step = "VFIO_SET_IOMMU";
	rc = vioctl(c->container, VFIO_SET_IOMMU, type);
	c->by_ioasid = !rc && refs >= 0 && read_long_file(IOASID_VFIO "/refcnt") > refs;
	if (compat[0] == 'Y') {
		rc2 = write_file(TYPE1_COMPAT, "Y");
		if (!rc && rc2) {
			c->step = "type1_compat=Y";
			rc = rc2;
		}
	}
	return rc;
}

/*
 * Open a container of @mode with the edu devices @bdf in it: groups,
 * IOMMU driver, (native) the ioasid context, an IOAS and the attachment of
 * every device to it, device fds, BAR0, bus mastering. Returns 0, or
 * -errno with c->step naming what failed; -EOPNOTSUPP when no IOMMU driver
 * offers @mode.
 */
static int edu_ctx_open(struct edu_ctx *c, enum edu_mode mode, bool real_type1,
			char bdf[][32], int nedu)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_ioasid_bind bind = { .argsz = sizeof(bind) };
	struct ioasid_device_entry ent;
	char path[64], name[32];
	int i, j, rc;

	edu_ctx_init(c);
	c->mode = mode;
	c->step = "open " VFIO_CONTAINER;
	c->container = open(VFIO_CONTAINER, O_RDWR | O_CLOEXEC);
	if (c->container < 0)
		return -errno;
	c->step = "VFIO_GET_API_VERSION";
	if (vioctl(c->container, VFIO_GET_API_VERSION, 0) != VFIO_API_VERSION)
		return -EPROTO;
	c->step = "VFIO_CHECK_EXTENSION";
	rc = vioctl(c->container, VFIO_CHECK_EXTENSION,
		    mode == EDU_NATIVE ? VFIO_IOASID_IOMMU : VFIO_TYPE1v2_IOMMU);
	if (rc <= 0)
		return rc < 0 ? rc : -EOPNOTSUPP;

	for (i = 0; i < nedu && i < MAX_EDU; i++) {
		struct edu *e = &c->edu[i];

		copy_str(e->bdf, sizeof(e->bdf), bdf[i]);
		c->nedu++;
		c->step = "device bound to vfio-pci";
		if (!bound_to_vfio(e->bdf))
			return -ENODEV;
		c->step = "iommu_group link";
		rc = read_link_name(PCI_SYSFS "/devices/%s/iommu_group", e->bdf,
				    name, sizeof(name));
		if (rc)
			return rc;
		e->group_id = atoi(name);
		for (j = 0; j < i; j++)
			if (c->edu[j].group_id == e->group_id)
				break;
		if (j < i)
			continue;	/* same group as edu[j]: already in */
		c->step = "open group";
		snprintf(path, sizeof(path), "/dev/vfio/%d", e->group_id);
		e->group = open(path, O_RDWR | O_CLOEXEC);
		if (e->group < 0)
			return -errno;
		c->step = "VFIO_GROUP_GET_STATUS";
		rc = vioctl(e->group, VFIO_GROUP_GET_STATUS, (unsigned long)&status);
		if (rc)
			return rc;
		if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
			return -EPERM;
		c->step = "VFIO_GROUP_SET_CONTAINER";
		rc = vioctl(e->group, VFIO_GROUP_SET_CONTAINER,
			    (unsigned long)&c->container);
		if (rc)
			return rc;
		if (i == 0) {
			rc = set_iommu(c, real_type1);
			if (rc)
				return rc;
		}
	}

	if (mode == EDU_NATIVE) {
		c->step = "open " IOASID_DEV;
		c->ioasid = ioasid_open();
		if (c->ioasid < 0)
			return -errno;
		c->step = "VFIO_IOASID_BIND";
		bind.ioasid_fd = c->ioasid;
		rc = vioctl(c->container, VFIO_IOASID_BIND, (unsigned long)&bind);
		if (rc)
			return rc;
		c->step = "IOASID_IOAS_ALLOC";
		rc = ioasid_ioas_alloc(c->ioasid, &c->ioas);
		if (rc)
			return rc;
	}

	for (i = 0; i < c->nedu; i++) {
		struct edu *e = &c->edu[i];
		int group = e->group;

		for (j = 0; group < 0 && j < i; j++)
			if (c->edu[j].group_id == e->group_id)
				group = c->edu[j].group;
		c->step = "VFIO_GROUP_GET_DEVICE_FD";
		e->dev = vioctl(group, VFIO_GROUP_GET_DEVICE_FD, (unsigned long)e->bdf);
		if (e->dev < 0) {
			rc = e->dev;
			e->dev = -1;
			return rc;
		}
		c->step = "enable memory and bus mastering";
		rc = edu_enable(e);
		if (rc)
			return rc;
		c->step = "mmap BAR0";
		rc = edu_map_bar(e);
		if (rc)
			return rc;
		if (mode != EDU_NATIVE)
			continue;
		c->step = "IOASID_DEVICE_INFO";
		rc = ioasid_find_device(c->ioasid, e->bdf, &ent);
		if (rc)
			return rc;
		e->dev_id = ent.dev_id;
		c->step = "IOASID_ATTACH";
		rc = ioasid_attach(c->ioasid, e->dev_id, c->ioas);
		if (rc)
			return rc;
	}
	c->step = "done";
	return 0;
}

static void edu_close_dev(struct edu *e)
{
	if (e->bar)
		munmap(e->bar, e->bar_size);
	e->bar = NULL;
	if (e->dev >= 0)
		close(e->dev);
	e->dev = -1;
}

static void edu_ctx_close(struct edu_ctx *c)
{
	int i;

	for (i = 0; i < MAX_EDU; i++) {
		edu_close_dev(&c->edu[i]);
		if (c->edu[i].group >= 0)
			close(c->edu[i].group);
		c->edu[i].group = -1;
	}
	if (c->container >= 0)
		close(c->container);
	if (c->ioasid >= 0)
		close(c->ioasid);
	c->container = c->ioasid = -1;
}

/* Map @len bytes at @va to @iova: in IOAS @ioas (0: the default) when native. */
static int ctx_map(struct edu_ctx *c, __u32 ioas, void *va, size_t len, __u64 iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)va,
		.iova = iova,
		.size = len,
	};

	if (c->mode == EDU_NATIVE)
		return ioasid_map_fixed(c->ioasid, ioas ?: c->ioas, va, len, iova);
	return vioctl(c->container, VFIO_IOMMU_MAP_DMA, (unsigned long)&map);
}

static int ctx_unmap(struct edu_ctx *c, __u32 ioas, __u64 iova, __u64 len,
		     __u64 *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};
	int rc;

	if (c->mode == EDU_NATIVE)
		return ioasid_unmap(c->ioasid, ioas ?: c->ioas, iova, len, unmapped);
	rc = vioctl(c->container, VFIO_IOMMU_UNMAP_DMA, (unsigned long)&unmap);
	if (!rc && unmapped)
		*unmapped = unmap.size;
	return rc;
}

static char *alloc_pages(size_t npages)
{
	char *p = mmap(NULL, npages * PSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, npages * PSZ, MADV_NOHUGEPAGE);
	memset(p, UNTOUCHED, npages * PSZ);
	return p;
}

/* Data bytes below 0x80, different for each seed. */
static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (seed * 37 + i * 13 + (i >> 7)) & 0x7f;
}

/* The index of the first byte of @p that is not @c, or -1. */
static long first_not(const char *p, size_t len, unsigned char c)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] != c)
			return i;
	return -1;
}

static const char *mode_name(enum edu_mode mode)
{
	return mode == EDU_NATIVE ? "native" : "type1";
}

/*
 * For the FIXTURE_SETUPs: open the context of @mode with every edu (with
 * the last one only if @last_only), or skip the test.
 */
static void open_or_skip(struct __test_metadata *_metadata, struct edu_ctx *c,
			 enum edu_mode mode, bool real_type1, bool last_only)
{
	char bdf[MAX_EDU][32];
	int n = edu_find(bdf, MAX_EDU), rc;

	edu_ctx_init(c);
	if (!n)
		SKIP(return, "no edu device (PCI 1234:11e8)");
	if (last_only && n > 1) {
		memcpy(bdf[0], bdf[n - 1], sizeof(bdf[0]));
		n = 1;
	}
	rc = edu_ctx_open(c, mode, real_type1, bdf, n);
	if (rc == -EOPNOTSUPP && mode == EDU_NATIVE &&
	    !strcmp(c->step, "VFIO_CHECK_EXTENSION"))
		SKIP(return, "no VFIO_IOASID_IOMMU container type: ioasid_vfio is not loaded");
	ASSERT_EQ(0, rc)
		TH_LOG("%s container: %s failed: %s", mode_name(mode), c->step,
		       strerror(-rc));
}

/* ---- every container mode ---- */

FIXTURE(edu) {
	struct edu_ctx c;
};

FIXTURE_VARIANT(edu) {
	enum edu_mode mode;
	bool real_type1;
};

FIXTURE_VARIANT_ADD(edu, type1) {
	.mode = EDU_TYPE1,
};

FIXTURE_VARIANT_ADD(edu, type1_real) {
	.mode = EDU_TYPE1,
	.real_type1 = true,
};

FIXTURE_VARIANT_ADD(edu, native) {
	.mode = EDU_NATIVE,
};

FIXTURE_SETUP(edu)
{
	open_or_skip(_metadata, &self->c, variant->mode, variant->real_type1, false);
}

FIXTURE_TEARDOWN(edu)
{
	edu_ctx_close(&self->c);
	EXPECT_TEARDOWN_CLEAN(0, NULL, 0);
}

/*
 * The container went to the intended IOMMU driver: ioasid_vfio for native,
 * and for type1 when it is loaded with type1_compat=Y; VFIO's type1 for
 * type1_real.
 */
TEST_F(edu, backend)
{
	char compat[2] = "";
	bool loaded = !access(IOASID_VFIO, F_OK);
	bool want = variant->mode == EDU_NATIVE ||
		    (loaded && !variant->real_type1 &&
		     !read_type1_compat(compat) && compat[0] == 'Y');

	ASSERT_EQ(want, self->c.by_ioasid)
		TH_LOG("ioasid_vfio %s, type1_compat %s: container %s by ioasid_vfio",
		       loaded ? "loaded" : "absent", compat[0] ? compat : "-",
		       self->c.by_ioasid ? "taken" : "not taken");
}

/*
 * RAM -> device -> RAM, byte-exact, at IOVAs across the 28-bit range the
 * edu can address, for 1, 64 and 4096 bytes at offsets that put the RAM
 * side inside a page, across a page boundary and over two pages. Bytes
 * around the destination stay untouched.
 */
TEST_F_TIMEOUT(edu, round_trip, 120)
{
	static const __u64 iovas[] = { 0x100000, 0x1234000, 0xff00000 };
	static const struct {
		__u32 off;	/* in the source and destination pages */
		__u32 dev_off;	/* in the device's buffer */
		__u32 len;
	} cases[] = {
		{ 0x7ff, 0xabc, 1 },
		{ 0xfe0, 0x40, 64 },
		{ 0, 0, 4096 },
		{ 0x800, 0, 4096 },
		{ 0x10, 0xfc0, 64 },
	};
	struct edu *e = &self->c.edu[0];
	char *buf = alloc_pages(4);	/* source: pages 0-1, destination: 2-3 */
	char *src = buf, *dst = buf + 2 * PSZ;
	unsigned int i, j;
	__u64 unmapped;
	long bad;

	ASSERT_NE(NULL, buf);
	for (i = 0; i < ARRAY_SIZE(iovas); i++) {
		__u64 iova = iovas[i];

		ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 4 * PSZ, iova))
			TH_LOG("map at %#llx", (unsigned long long)iova);
		for (j = 0; j < ARRAY_SIZE(cases); j++) {
			__u32 off = cases[j].off, len = cases[j].len;

			memset(buf, UNTOUCHED, 4 * PSZ);
			fill(src + off, len, i * 16 + j + 1);
			ASSERT_EQ(0, edu_to_dev(e, iova + off, cases[j].dev_off, len));
			ASSERT_EQ(0, edu_to_ram(e, cases[j].dev_off,
						iova + 2 * PSZ + off, len));
			ASSERT_EQ(0, memcmp(src + off, dst + off, len))
				TH_LOG("iova %#llx off %#x len %u: data differs",
				       (unsigned long long)iova, off, len);
			bad = first_not(dst, off, UNTOUCHED);
			ASSERT_EQ(-1, bad) TH_LOG("wrote before the range");
			bad = first_not(dst + off + len, 2 * PSZ - off - len, UNTOUCHED);
			ASSERT_EQ(-1, bad) TH_LOG("wrote past the range");
		}
		ASSERT_EQ(0, ctx_unmap(&self->c, 0, iova, 4 * PSZ, &unmapped));
		ASSERT_EQ(4 * PSZ, unmapped);
	}
	munmap(buf, 4 * PSZ);
}

/*
 * After UNMAP the device's DMA no longer reaches the page, in either
 * direction. The VT-d blocks it: the guest logs a DMAR fault ("DMAR:
 * [DMA Write NO_PASID] Request device [..] fault addr ..."), QEMU an
 * error, and the edu completes the transfer regardless. A page that stays
 * mapped shows the device held the data all along.
 */
TEST_F_TIMEOUT(edu, unmap_blocks_dma, 120)
{
	const __u64 victim = 0x200000, witness = 0x300000;
	struct edu *e = &self->c.edu[0];
	char *buf = alloc_pages(2);
	char *vp = buf, *wp = buf + PSZ;
	__u64 unmapped;
	size_t i;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, vp, PSZ, victim));
	ASSERT_EQ(0, ctx_map(&self->c, 0, wp, PSZ, witness));
	fill(vp, PSZ, 7);
	ASSERT_EQ(0, edu_to_dev(e, victim, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, witness, PSZ));
	ASSERT_EQ(0, memcmp(vp, wp, PSZ));

	ASSERT_EQ(0, ctx_unmap(&self->c, 0, victim, PSZ, &unmapped));
	ASSERT_EQ(PSZ, unmapped);

	/* Device -> unmapped IOVA: the page keeps its bytes. */
	memset(vp, UNTOUCHED, PSZ);
	ASSERT_EQ(0, edu_to_ram(e, 0, victim, PSZ));
	ASSERT_EQ(-1, first_not(vp, PSZ, UNTOUCHED))
		TH_LOG("DMA to an unmapped IOVA reached memory");
	memset(wp, UNTOUCHED, PSZ);
	ASSERT_EQ(0, edu_to_ram(e, 0, witness, PSZ));
	fill(vp, PSZ, 7);
	ASSERT_EQ(0, memcmp(vp, wp, PSZ)) TH_LOG("the device lost its data");

	/* Unmapped IOVA -> device: the device never sees the page's bytes. */
	memset(vp, POISON, PSZ);
	ASSERT_EQ(0, edu_to_dev(e, victim, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, witness, PSZ));
	for (i = 0; i < PSZ; i++)
		ASSERT_NE(POISON, (unsigned char)wp[i])
			TH_LOG("DMA read an unmapped IOVA (byte %zu)", i);

	munmap(buf, 2 * PSZ);
}

/*
 * Two devices behind one set of mappings (native: attached to the same
 * IOAS; type1: their groups in one container) both DMA correctly, and the
 * memory is pinned and counted in VmLck once.
 */
TEST_F_TIMEOUT(edu, two_devices, 120)
{
	const __u64 iova = 0x400000;
	struct edu *e0 = &self->c.edu[0], *e1 = &self->c.edu[1];
	long base = vm_locked_kb();
	char *buf;
	__u64 unmapped;

	if (self->c.nedu < 2)
		SKIP(return, "needs two edu devices");
	ASSERT_LE(0, base);
	buf = alloc_pages(4);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 4 * PSZ, iova));
	ASSERT_EQ(base + 16, vm_locked_kb());

	fill(buf, PSZ, 1);
	fill(buf + PSZ, PSZ, 2);
	ASSERT_EQ(0, edu_to_dev(e0, iova, 0, PSZ));
	ASSERT_EQ(0, edu_to_dev(e1, iova + PSZ, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e0, 0, iova + 2 * PSZ, PSZ));
	ASSERT_EQ(0, edu_to_ram(e1, 0, iova + 3 * PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + 2 * PSZ, PSZ)) TH_LOG("edu0's copy differs");
	ASSERT_EQ(0, memcmp(buf + PSZ, buf + 3 * PSZ, PSZ)) TH_LOG("edu1's copy differs");

	/* Each reads what the other wrote. */
	memset(buf + 2 * PSZ, UNTOUCHED, 2 * PSZ);
	ASSERT_EQ(0, edu_to_ram(e1, 0, iova + 2 * PSZ, PSZ));
	ASSERT_EQ(0, edu_to_ram(e0, 0, iova + 3 * PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf + PSZ, buf + 2 * PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + 3 * PSZ, PSZ));

	ASSERT_EQ(base + 16, vm_locked_kb());
	ASSERT_EQ(0, ctx_unmap(&self->c, 0, iova, 4 * PSZ, &unmapped));
	ASSERT_EQ(4 * PSZ, unmapped);
	ASSERT_EQ(base, vm_locked_kb());
	munmap(buf, 4 * PSZ);
}

/* ---- two type1 containers of one process: pins charged once ---- */

/*
 * A VMM with a vIOMMU opens one container per address space and maps the
 * same guest RAM into each. type1 charges every container for it;
 * ioasid_vfio shares the pins (same mm, same range, same pages) and charges
 * once. Container A holds edu0, B edu1; both map one buffer.
 */
FIXTURE(edu_pair) {
	char bdf[MAX_EDU][32];
};

FIXTURE_VARIANT(edu_pair) {
	bool real_type1;
};

FIXTURE_VARIANT_ADD(edu_pair, ioasid) {
	.real_type1 = false,
};

FIXTURE_VARIANT_ADD(edu_pair, type1_real) {
	.real_type1 = true,
};

FIXTURE_SETUP(edu_pair)
{
	if (edu_find(self->bdf, MAX_EDU) < 2)
		SKIP(return, "needs two edu devices");
	if (!variant->real_type1 && access(IOASID_VFIO, F_OK))
		SKIP(return, "ioasid_vfio is not loaded");
}

FIXTURE_TEARDOWN(edu_pair)
{
	EXPECT_TEARDOWN_CLEAN(0, NULL, 0);
}

#define PAIR_PAGES	16
#define PAIR_IOVA_A	0x500000
#define PAIR_IOVA_B	0x600000

/* What a child saw; VmLck in KiB above its baseline, -1 where not reached. */
struct pair_result {
	int setup;		/* 0, or the -errno of opening a container */
	int map_a, map_b;
	long lck_a, lck_b;	/* after A's map, after B's */
	int b_reads;		/* edu1 read the buffer through B (1) or not */
	int unmap_a;
	long lck_unmap_a;	/* A unmapped, B still maps it */
	int a_blocked;		/* edu0's DMA to A's old IOVA did not land */
	int b_still_reads;	/* edu1 still reads it through B */
	int unmap_b;
	long lck_end;
};

/* edu @e copies page 0 of the buffer (at @iova) to page 1; did it? */
static int pair_copy_ok(struct edu *e, char *buf, __u64 iova, unsigned int seed)
{
	fill(buf, PSZ, seed);
	memset(buf + PSZ, UNTOUCHED, PSZ);
	if (edu_to_dev(e, iova, 0, PSZ) || edu_to_ram(e, 0, iova + PSZ, PSZ))
		return 0;
	return !memcmp(buf, buf + PSZ, PSZ);
}

/*
 * @remap: between the two maps, replace the buffer's memory with new pages
 * at the same address, as a VMM that frees and reallocates guest RAM would.
 */
static void pair_child(char bdf[][32], bool real_type1, rlim_t limit,
		       bool remap, struct pair_result *r)
{
	size_t len = PAIR_PAGES * PSZ;
	struct edu_ctx a, b;
	char *buf;
	long base;

	memset(r, 0xff, sizeof(*r));	/* -1: not reached */
	edu_ctx_init(&a);
	edu_ctx_init(&b);
	r->setup = memlock_bind(limit);
	if (r->setup)
		return;
	base = vm_locked_kb();
	r->setup = edu_ctx_open(&a, EDU_TYPE1, real_type1, bdf, 1) ?:
		   edu_ctx_open(&b, EDU_TYPE1, real_type1, bdf + 1, 1);
	if (!r->setup && (a.by_ioasid == real_type1 || b.by_ioasid == real_type1))
		r->setup = -EPROTO;	/* the wrong backend took a container */
	buf = alloc_pages(PAIR_PAGES);
	if (!r->setup && !buf)
		r->setup = -ENOMEM;
	if (r->setup)
		goto out;

	r->map_a = ctx_map(&a, 0, buf, len, PAIR_IOVA_A);
	r->lck_a = vm_locked_kb() - base;
	if (remap && (mmap(buf, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != buf ||
		      madvise(buf, len, MADV_NOHUGEPAGE))) {
		r->setup = -errno;
		goto out;
	}
	if (remap)
		memset(buf, UNTOUCHED, len);
	r->map_b = ctx_map(&b, 0, buf, len, PAIR_IOVA_B);
	r->lck_b = vm_locked_kb() - base;
	if (r->map_a || r->map_b)
		goto out;
	r->b_reads = pair_copy_ok(&b.edu[0], buf, PAIR_IOVA_B, 1);
	r->unmap_a = ctx_unmap(&a, 0, PAIR_IOVA_A, len, NULL);
	r->lck_unmap_a = vm_locked_kb() - base;
	memset(buf + 2 * PSZ, UNTOUCHED, PSZ);
	edu_to_ram(&a.edu[0], 0, PAIR_IOVA_A + 2 * PSZ, PSZ);
	r->a_blocked = first_not(buf + 2 * PSZ, PSZ, UNTOUCHED) == -1;
	r->b_still_reads = pair_copy_ok(&b.edu[0], buf, PAIR_IOVA_B, 2);
	r->unmap_b = ctx_unmap(&b, 0, PAIR_IOVA_B, len, NULL);
	r->lck_end = vm_locked_kb() - base;
out:
	edu_ctx_close(&b);
	edu_ctx_close(&a);
}

/* Runs pair_child() in a child process (its own mm, rlimit, capabilities). */
static int pair_run(char bdf[][32], bool real_type1, rlim_t limit,
		    bool remap, struct pair_result *r)
{
	int status, fds[2];
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(fds[0]);
		pair_child(bdf, real_type1, limit, remap, r);
		_exit(write(fds[1], r, sizeof(*r)) == sizeof(*r) ? 0 : 1);
	}
	close(fds[1]);
	if (read(fds[0], r, sizeof(*r)) != sizeof(*r))
		memset(r, 0xff, sizeof(*r));
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		return -ECHILD;
	return 0;
}

/*
 * Without a binding limit: both maps work; VmLck is the buffer once on
 * ioasid_vfio, twice on type1. Unmapping in A leaves B's mapping (and its
 * pins and charge) alone and cuts edu0 off; the charge goes with B's unmap.
 */
TEST_F_TIMEOUT(edu_pair, charged_once, 120)
{
	long kb = PAIR_PAGES * PSZ / 1024;
	struct pair_result r;

	ASSERT_EQ(0, pair_run(self->bdf, variant->real_type1, 4 * kb * 1024,
			      false, &r));
	ASSERT_EQ(0, r.setup) TH_LOG("opening the containers: %s", strerror(-r.setup));
	ASSERT_EQ(0, r.map_a);
	ASSERT_EQ(0, r.map_b);
	EXPECT_EQ(kb, r.lck_a);
	EXPECT_EQ(variant->real_type1 ? 2 * kb : kb, r.lck_b)
		TH_LOG("VmLck with the buffer in two containers: %ld KiB", r.lck_b);
	EXPECT_EQ(1, r.b_reads);
	EXPECT_EQ(0, r.unmap_a);
	EXPECT_EQ(kb, r.lck_unmap_a);
	EXPECT_EQ(1, r.a_blocked) TH_LOG("edu0 still reached the buffer after A's unmap");
	EXPECT_EQ(1, r.b_still_reads) TH_LOG("A's unmap cut B's mapping");
	EXPECT_EQ(0, r.unmap_b);
	EXPECT_EQ(0, r.lck_end);
}

/*
 * RLIMIT_MEMLOCK of exactly the buffer: enough for both containers on
 * ioasid_vfio; type1 refuses the second map with ENOMEM.
 */
TEST_F_TIMEOUT(edu_pair, limit_of_one_buffer, 120)
{
	struct pair_result r;

	ASSERT_EQ(0, pair_run(self->bdf, variant->real_type1, PAIR_PAGES * PSZ,
			      false, &r));
	ASSERT_EQ(0, r.setup) TH_LOG("opening the containers: %s", strerror(-r.setup));
	ASSERT_EQ(0, r.map_a);
	ASSERT_EQ(variant->real_type1 ? -ENOMEM : 0, r.map_b)
		TH_LOG("second container's map: %s", strerror(-r.map_b));
	if (!variant->real_type1) {
		EXPECT_EQ(1, r.b_reads);
		EXPECT_EQ(0, r.lck_end);
	}
}

/*
 * The buffer's memory is replaced (new pages at the same address) between
 * A's map and B's: B must map the new pages, pinned and charged anew - the
 * device reads what the process wrote - while A keeps the old ones.
 */
TEST_F_TIMEOUT(edu_pair, remapped_range_not_shared, 120)
{
	long kb = PAIR_PAGES * PSZ / 1024;
	struct pair_result r;

	ASSERT_EQ(0, pair_run(self->bdf, variant->real_type1, 4 * kb * 1024,
			      true, &r));
	ASSERT_EQ(0, r.setup) TH_LOG("setup: %s", strerror(-r.setup));
	ASSERT_EQ(0, r.map_a);
	ASSERT_EQ(0, r.map_b);
	EXPECT_EQ(2 * kb, r.lck_b) TH_LOG("the new pages are charged too");
	EXPECT_EQ(1, r.b_reads) TH_LOG("B maps the old pages, not the process's memory");
	EXPECT_EQ(1, r.b_still_reads);
	EXPECT_EQ(0, r.lck_end);
}

/* ---- native only: devices in the ioasid context ---- */

FIXTURE(edu_native) {
	struct edu_ctx c;
};

FIXTURE_SETUP(edu_native)
{
	open_or_skip(_metadata, &self->c, EDU_NATIVE, false, false);
}

FIXTURE_TEARDOWN(edu_native)
{
	edu_ctx_close(&self->c);
	EXPECT_TEARDOWN_CLEAN(0, NULL, 0);
}

/* Each opened edu is in DEVICE_INFO under its PCI name, attached. */
TEST_F(edu_native, device_info)
{
	struct ioasid_device_entry ent;
	int i;

	for (i = 0; i < self->c.nedu; i++) {
		ASSERT_EQ(0, ioasid_find_device(self->c.ioasid, self->c.edu[i].bdf, &ent));
		EXPECT_STREQ("vfio", ent.subsystem);
		EXPECT_EQ(IOASID_PASID_NONE, ent.pasid);
		EXPECT_EQ(0, ent.flags & IOASID_DEVICE_SUBDEV);
		EXPECT_EQ(self->c.ioas, ent.attached_pt_id);
		EXPECT_NE(0, ent.dev_id);
		EXPECT_NE(0, ent.pgsize_bitmap & PSZ);
		EXPECT_LE(ent.aperture_start, 0x100000);
		EXPECT_GE(ent.aperture_last, EDU_IOVA_LIMIT - 1);
		/*
		 * What a domain for this VT-d really offers, known before any
		 * attach: the emulated VT-d has 2 MiB superpages and a 48-bit
		 * (or smaller) address width, not a generic 4K/57-bit guess.
		 */
		ksft_print_msg("%s: pgsize_bitmap %#llx aperture_last %#llx\n",
			       self->c.edu[i].bdf,
			       (unsigned long long)ent.pgsize_bitmap,
			       (unsigned long long)ent.aperture_last);
		EXPECT_NE(0, ent.pgsize_bitmap & (2UL << 20));
		EXPECT_LT(ent.aperture_last, 1ULL << 48);
		/* The emulated VT-d has no nesting capability (ecap NEST=0). */
		EXPECT_EQ(0, ent.flags & IOASID_DEVICE_NESTING);
		EXPECT_EQ(0, ent.nesting_formats);
	}
	/* Closing the device unregisters it from the context. */
	edu_close_dev(&self->c.edu[0]);
	ASSERT_EQ(-ENOENT, ioasid_find_device(self->c.ioasid, self->c.edu[0].bdf, NULL));
}

/*
 * The emulated VT-d cannot nest: NESTED_ALLOC with a VT-d stage-1 payload
 * fails with EOPNOTSUPP, and neither a nested object nor a nesting parent
 * is left behind; DMA through the IOAS goes on.
 */
TEST_F(edu_native, no_nesting)
{
	__u64 s1[3] = {};	/* struct iommu_hwpt_vtd_s1 */
	struct ioasid_nested_alloc cmd = {
		.size = sizeof(cmd), .parent_id = self->c.ioas,
		.data_type = IOASID_NESTED_DATA_VTD_S1, .data_len = sizeof(s1),
		.data_uptr = (uintptr_t)s1,
	};
	const __u64 iova = 0x300000;
	struct edu *e = &self->c.edu[0];
	struct ioasid_device_entry ent;
	char *buf;
	int objects = ioasid_debugfs_count("object", NULL);
	int domains = ioasid_debugfs_count("object", " domains 1");

	ASSERT_EQ(0, ioasid_find_device(self->c.ioasid, self->c.edu[0].bdf, &ent));
	cmd.dev_id = ent.dev_id;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->c.ioasid, IOASID_NESTED_ALLOC, &cmd));
	ASSERT_EQ(objects, ioasid_debugfs_count("object", NULL));
	ASSERT_EQ(0, ioasid_debugfs_count("object", " type nested"));
	ASSERT_EQ(domains, ioasid_debugfs_count("object", " domains 1"));

	buf = alloc_pages(2);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 2 * PSZ, iova));
	fill(buf, PSZ, 5);
	ASSERT_EQ(0, edu_to_dev(e, iova, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + PSZ, PSZ));
	munmap(buf, 2 * PSZ);
}

/* DETACH blocks the device's DMA; ATTACH lets it through again. */
TEST_F_TIMEOUT(edu_native, detach_blocks_dma, 60)
{
	const __u64 iova = 0x500000;
	struct edu *e = &self->c.edu[0];
	struct ioasid_device_entry ent;
	char *buf = alloc_pages(2);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 2 * PSZ, iova));
	fill(buf, PSZ, 3);
	ASSERT_EQ(0, edu_to_dev(e, iova, 0, PSZ));

	ASSERT_EQ(0, ioasid_detach(self->c.ioasid, e->dev_id));
	ASSERT_EQ(0, ioasid_find_device(self->c.ioasid, e->bdf, &ent));
	ASSERT_EQ(0, ent.attached_pt_id);
	ASSERT_EQ(-ENOENT, ioasid_detach(self->c.ioasid, e->dev_id));
	/* Blocked: a DMAR fault in the guest log, the page untouched. */
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + PSZ, PSZ));
	ASSERT_EQ(-1, first_not(buf + PSZ, PSZ, UNTOUCHED));

	ASSERT_EQ(0, ioasid_attach(self->c.ioasid, e->dev_id, self->c.ioas));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + PSZ, PSZ));
	munmap(buf, 2 * PSZ);
}

/*
 * ATTACH of an attached device to another IOAS replaces its translation:
 * the same IOVA then lands in the other IOAS's memory, and back.
 */
TEST_F_TIMEOUT(edu_native, replace, 60)
{
	const __u64 src_iova = 0x600000, iova = 0x700000;
	struct edu *e = &self->c.edu[0];
	struct ioasid_device_entry ent;
	char *buf = alloc_pages(3);
	char *src = buf, *a = buf + PSZ, *b = buf + 2 * PSZ;
	__u32 ioas_a = self->c.ioas, ioas_b;

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioasid_ioas_alloc(self->c.ioasid, &ioas_b));
	ASSERT_EQ(0, ctx_map(&self->c, ioas_a, src, PSZ, src_iova));
	ASSERT_EQ(0, ctx_map(&self->c, ioas_a, a, PSZ, iova));
	ASSERT_EQ(0, ctx_map(&self->c, ioas_b, b, PSZ, iova));

	fill(src, PSZ, 5);
	ASSERT_EQ(0, edu_to_dev(e, src_iova, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova, PSZ));
	ASSERT_EQ(0, memcmp(src, a, PSZ)) TH_LOG("IOAS A did not get the data");
	ASSERT_EQ(-1, first_not(b, PSZ, UNTOUCHED));

	/* Idle device: replace A by B. */
	memset(a, UNTOUCHED, PSZ);
	ASSERT_EQ(0, ioasid_attach(self->c.ioasid, e->dev_id, ioas_b));
	ASSERT_EQ(0, ioasid_find_device(self->c.ioasid, e->bdf, &ent));
	ASSERT_EQ(ioas_b, ent.attached_pt_id);
	ASSERT_EQ(0, edu_to_ram(e, 0, iova, PSZ));
	ASSERT_EQ(0, memcmp(src, b, PSZ)) TH_LOG("IOAS B did not get the data");
	ASSERT_EQ(-1, first_not(a, PSZ, UNTOUCHED)) TH_LOG("IOAS A still reached");

	/* And back. */
	memset(b, UNTOUCHED, PSZ);
	ASSERT_EQ(0, ioasid_attach(self->c.ioasid, e->dev_id, ioas_a));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova, PSZ));
	ASSERT_EQ(0, memcmp(src, a, PSZ));
	ASSERT_EQ(-1, first_not(b, PSZ, UNTOUCHED));

	/* The IOAS a device is attached to cannot go; the other one can. */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->c.ioasid, ioas_a));
	ASSERT_EQ(0, ioasid_destroy(self->c.ioasid, ioas_b));
	munmap(buf, 3 * PSZ);
}

/*
 * One IOAS shared by a VFIO device and a vDPA device (vp_vdpa on the
 * virtio-net-pci, bound with VHOST_VDPA_IOASID_BIND): the edu DMAs a frame
 * into the IOAS, the vDPA device transmits it from there - the runner finds
 * it byte-exact in QEMU's pcap - and the memory is pinned and charged once.
 */
TEST_F_TIMEOUT(edu_native, shared_with_vdpa, 90)
{
	const __u64 iova = 0x800000, staging = iova + 8 * PSZ;
	const __u32 len = VDPA_HDR_LEN + VDPA_FRAME_LEN;
	struct edu *e = &self->c.edu[0];
	long before, mapped;
	struct vdpa_tx tx;
	char path[300];
	__u32 dev_id = 0;
	unsigned int i;
	__u8 *frame;
	char *buf;
	int vfd;

	if (vhost_vdpa_path("vdpa0", path, sizeof(path)))
		SKIP(return, "no vDPA device vdpa0 (vp_vdpa) with the patched vhost-vdpa");
	vfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, vfd);
	ASSERT_EQ(0, ioctl(vfd, VHOST_SET_OWNER));
	buf = alloc_pages(16);
	ASSERT_NE(NULL, buf);
	memset(buf, 0, VDPA_OFF_FRAME + PSZ);	/* rings and frame page */

	before = vm_locked_kb();
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 16 * PSZ, iova));
	mapped = vm_locked_kb();
	EXPECT_EQ(before + 16 * (long)PSZ / 1024, mapped);
	ASSERT_EQ(0, vdpa_bind(vfd, self->c.ioasid, 0, self->c.ioas, &dev_id));
	EXPECT_NE(0, dev_id);
	EXPECT_NE(e->dev_id, dev_id);
	/* The second device of the IOAS pins and charges nothing more. */
	EXPECT_EQ(mapped, vm_locked_kb());

	/* The frame: header zeroes, broadcast, a test MAC, random payload. */
	frame = (__u8 *)buf + 8 * PSZ;
	memset(frame, 0, VDPA_HDR_LEN);
	memset(frame + VDPA_HDR_LEN, 0xff, 6);
	memcpy(frame + VDPA_HDR_LEN + 6, "\x02\x10\xa5\x1d\x00\x02", 6);
	frame[VDPA_HDR_LEN + 12] = 0x88;
	frame[VDPA_HDR_LEN + 13] = 0xb5;
	srand(time(NULL) ^ 0x5eed);
	for (i = VDPA_HDR_LEN + 14; i < len; i++)
		frame[i] = rand();
	/* edu: staging page -> its buffer -> the frame slot the ring names. */
	ASSERT_EQ(0, edu_to_dev(e, staging, 0, len));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + VDPA_OFF_FRAME, len));
	ASSERT_EQ(0, memcmp(buf + VDPA_OFF_FRAME, frame, len));

	ASSERT_EQ(0, vdpa_tx_start(&tx, vfd, buf, iova, false));
	EXPECT_TRUE(vdpa_tx_send(&tx, iova));
	vdpa_print_frame("FRAME", (__u8 *)buf + VDPA_OFF_FRAME + VDPA_HDR_LEN);
	vdpa_tx_stop(&tx);
	close(vfd);

	/* The edu still translates through the IOAS the vDPA device left. */
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + 9 * PSZ, len));
	ASSERT_EQ(0, memcmp(buf + 9 * PSZ, frame, len));
	EXPECT_EQ(mapped, vm_locked_kb());
	ASSERT_EQ(0, ctx_unmap(&self->c, 0, iova, 16 * PSZ, NULL));
	EXPECT_EQ(before, vm_locked_kb());
	munmap(buf, 16 * PSZ);
}

/*
 * Software nesting with real DMA: the parent maps GPA -> memory, the child
 * GIOVA -> GPA, the edu device is attached to the child and DMAs by GIOVA
 * through what the kernel composed. A parent UNMAP of the GPA takes the
 * child's translation with it before it returns: the DMA is then blocked.
 */
TEST_F_TIMEOUT(edu_native, software_nesting, 60)
{
	const __u64 gpa = 0x40000000, giova = 0x900000;
	struct edu *e = &self->c.edu[0];
	long locked = vm_locked_kb();
	__u32 parent, child;
	char *buf = alloc_pages(2);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ioasid_ioas_alloc(self->c.ioasid, &parent));
	ASSERT_EQ(0, ctx_map(&self->c, parent, buf, 2 * PSZ, gpa));
	ASSERT_EQ(0, ioasid_sw_child_alloc(self->c.ioasid, parent, &child));
	/* GIOVA page 0 -> GPA page 1, GIOVA page 1 -> GPA page 0. */
	ASSERT_EQ(0, ioasid_copy_fixed(self->c.ioasid, child, parent, gpa + PSZ, PSZ, giova));
	ASSERT_EQ(0, ioasid_copy_fixed(self->c.ioasid, child, parent, gpa, PSZ, giova + PSZ));
	/* Composed from the parent's pins: charged once. */
	ASSERT_EQ(locked + 2 * PSZ / 1024, vm_locked_kb());
	ASSERT_EQ(0, ioasid_attach(self->c.ioasid, e->dev_id, child));

	fill(buf + PSZ, PSZ, 9);
	ASSERT_EQ(0, edu_to_dev(e, giova, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, giova + PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + PSZ, PSZ)) TH_LOG("GIOVA did not reach GPA");

	/* The parent unmaps GPA page 0: GIOVA page 1 is gone with it. */
	memset(buf, UNTOUCHED, PSZ);
	ASSERT_EQ(0, ioasid_unmap(self->c.ioasid, parent, gpa, 2 * PSZ, NULL));
	ASSERT_EQ(0, edu_to_ram(e, 0, giova + PSZ, PSZ));
	ASSERT_EQ(-1, first_not(buf, PSZ, UNTOUCHED)) TH_LOG("DMA after parent unmap");
	ASSERT_EQ(locked, vm_locked_kb());

	ASSERT_EQ(0, ioasid_attach(self->c.ioasid, e->dev_id, self->c.ioas));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->c.ioasid, parent));
	ASSERT_EQ(0, ioasid_destroy(self->c.ioasid, child));
	ASSERT_EQ(0, ioasid_destroy(self->c.ioasid, parent));
	munmap(buf, 2 * PSZ);
}

/*
 * ---- hot-remove of the edu behind the VM's hot-pluggable root port ----
 *
 * run-vm gives the VM a third edu (QEMU id edu2) behind a pcie-root-port
 * (rp0) and says so on the kernel command line (ioasid_hotplug=edu2:rp0)
 * when its watcher (scripts/qmp-hotplug) follows the test stream: a line
 * "ioasid-hotplug: device_del id=edu2" makes QEMU unplug the device, the
 * guest's hotplug driver (pciehp or acpiphp) removes it, and vfio-pci's
 * remove waits for the user to close the device, asking for it on the
 * device's request eventfd (VFIO_PCI_REQ_IRQ_INDEX) every 10 seconds. The
 * sysfs variants remove the device through its "remove" attribute instead,
 * the same path in the kernel without QEMU: they also run where the kernel
 * has no PCI hotplug driver.
 *
 * The context (a native one, or type1 through ioasid_vfio's compatibility
 * mode) holds the hot-pluggable edu and the first root-bus edu, attached
 * to one IOAS with memory mapped; the hot-pluggable one is DMAing when its
 * removal is asked for.
 */

#define UNPLUG_WAIT_MS		60000	/* pciehp waits 5 s, TCG is slow */
#define UNPLUG_PAGES		8

struct unplug_dma {
	struct edu *e;
	char *buf;		/* page 0: source, page 1: destination */
	__u64 iova;
	bool stop;		/* __atomic: the thread polls it */
	unsigned long done;
	int rc;			/* the first error, or 1 for bad data */
	pthread_t thread;
};

/* Round trips through the device until told to stop. */
static void *unplug_dma_loop(void *arg)
{
	struct unplug_dma *d = arg;
	unsigned int seed = 1;

	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED) && !d->rc) {
		fill(d->buf, PSZ, seed);
		memset(d->buf + PSZ, UNTOUCHED, PSZ);
		d->rc = edu_to_dev(d->e, d->iova, 0, PSZ);
		if (!d->rc)
			d->rc = edu_to_ram(d->e, 0, d->iova + PSZ, PSZ);
		if (!d->rc && memcmp(d->buf, d->buf + PSZ, PSZ))
			d->rc = 1;
		if (!d->rc)
			d->done++;
		seed++;
	}
	return NULL;
}

FIXTURE(edu_unplug) {
	struct edu_ctx c;
	char bdf[32];		/* the hot-pluggable edu (c.edu[1]) */
	char qemu_id[32], qemu_bus[32];
	char *buf;
	long base;		/* VmLck before the test mapped anything */
	int contexts;		/* ioasid contexts (debugfs) before it opened one */
	int efd;		/* the hot-pluggable edu's request eventfd */
	pid_t remover;		/* sysfs: the child writing "remove" */
	bool requested;		/* its removal was asked for */
	struct unplug_dma dma;
	bool dma_running;
};

FIXTURE_VARIANT(edu_unplug) {
	enum edu_mode mode;
	bool qemu;		/* QEMU's device_del, not sysfs "remove" */
};

FIXTURE_VARIANT_ADD(edu_unplug, native_qemu) {
	.mode = EDU_NATIVE, .qemu = true,
};

FIXTURE_VARIANT_ADD(edu_unplug, type1_qemu) {
	.mode = EDU_TYPE1, .qemu = true,
};

FIXTURE_VARIANT_ADD(edu_unplug, native_sysfs) {
	.mode = EDU_NATIVE,
};

FIXTURE_VARIANT_ADD(edu_unplug, type1_sysfs) {
	.mode = EDU_TYPE1,
};

/* ioasid_hotplug=<qemu id>:<bus> from the kernel command line. */
static bool hotplug_cmdline(char *id, size_t idlen, char *bus, size_t buslen)
{
	char line[4096], *p, *colon, *end;
	FILE *f = fopen("/proc/cmdline", "r");
	bool ok = false;

	if (!f)
		return false;
	if (fgets(line, sizeof(line), f)) {
		p = strstr(line, "ioasid_hotplug=");
		if (p) {
			p += strlen("ioasid_hotplug=");
			end = p + strcspn(p, "\n ");
			*end = 0;
			colon = strchr(p, ':');
			if (colon && colon > p && colon[1]) {
				*colon = 0;
				copy_str(id, idlen, p);
				copy_str(bus, buslen, colon + 1);
				ok = true;
			}
		}
	}
	fclose(f);
	return ok;
}

/*
 * Whether a hotplug driver (pciehp, acpiphp) serves the slot of @bdf: a
 * slot in /sys/bus/pci/slots at its address with a "power" attribute,
 * which only hotplug drivers' slots have.
 */
static bool hotplug_slot(const char *bdf)
{
	struct dirent *de;
	char path[300], addr[32];
	bool found = false;
	DIR *d = opendir(PCI_SYSFS "/slots");
	FILE *f;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), PCI_SYSFS "/slots/%s/address", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(addr, sizeof(addr), f)) {
			addr[strcspn(addr, "\n")] = 0;
			/* "dddd:bb:ss" against "dddd:bb:ss.f" */
			found = !strncmp(addr, bdf, strlen(addr)) &&
				bdf[strlen(addr)] == '.';
		}
		fclose(f);
		snprintf(path, sizeof(path), PCI_SYSFS "/slots/%s/power", de->d_name);
		found = found && !access(path, F_OK);
	}
	closedir(d);
	return found;
}

/* A request line for scripts/qmp-hotplug, in one write. */
static void hotplug_request(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "# ioasid-hotplug: ");
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	fflush(stdout);
	fflush(stderr);
	if (write(STDERR_FILENO, line, n) != n)
		return;
}

static bool pci_present(const char *bdf)
{
	char path[256];

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", bdf);
	return !access(path, F_OK);
}

/* Wait up to @ms for @bdf to be present (or gone); true if it is so. */
static bool pci_wait(const char *bdf, bool present, long ms)
{
	long long deadline = edu_now_ms() + ms;

	while (pci_present(bdf) != present) {
		if (edu_now_ms() > deadline)
			return false;
		usleep(50000);
	}
	return true;
}

/* Registrations of @bdf in every ioasid context (debugfs). */
static int ioasid_dev_objects(const char *bdf)
{
	char pat[64];

	snprintf(pat, sizeof(pat), " dev %s ", bdf);
	return ioasid_debugfs_count("object", pat);
}

/*
 * The Power Indicator Control of the slot @bdf sits in (its port's Slot
 * Control), or -1. pciehp blinks it while it powers the slot up or down;
 * QEMU refuses a device_del meanwhile ("guest is busy"), so a removal is
 * only asked for while it does not blink.
 */
static int slot_power_indicator(const char *bdf)
{
	char dev[256], *port, path[320];
	__u8 cfg[256];
	int fd, pos, n, guard = 48;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", bdf);
	if (!realpath(path, dev))
		return -1;
	port = strrchr(dev, '/');
	if (!port)
		return -1;
	*port = 0;
	snprintf(path, sizeof(path), "%s/config", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	if (n != sizeof(cfg))
		return -1;
	for (pos = cfg[PCI_CAPABILITY_LIST] & ~3; pos && guard--;
	     pos = cfg[pos + PCI_CAP_LIST_NEXT] & ~3) {
		if (pos + PCI_EXP_SLTCTL + 2 > (int)sizeof(cfg))
			return -1;
		if (cfg[pos + PCI_CAP_LIST_ID] == PCI_CAP_ID_EXP)
			return (cfg[pos + PCI_EXP_SLTCTL] |
				cfg[pos + PCI_EXP_SLTCTL + 1] << 8) &
			       PCI_EXP_SLTCTL_PIC;
	}
	return -1;
}

/* Wait up to @ms for pciehp to leave @bdf's slot alone; true if it does. */
static bool slot_wait_settled(const char *bdf, long ms)
{
	long long deadline = edu_now_ms() + ms;

	while (slot_power_indicator(bdf) == PCI_EXP_SLTCTL_PWR_IND_BLINK) {
		if (edu_now_ms() > deadline)
			return false;
		usleep(50000);
	}
	return true;
}

/* Ask for the removal of the hot-pluggable edu; it completes once closed. */
static int unplug_request(struct __test_metadata *_metadata,
			  struct _test_data_edu_unplug *self, bool qemu)
{
	char path[256];
	pid_t pid;

	self->requested = true;
	if (qemu) {
		/* A hot-add (the last test's restore) may still be finishing. */
		if (!slot_wait_settled(self->bdf, UNPLUG_WAIT_MS))
			return -EBUSY;
		hotplug_request("device_del id=%s", self->qemu_id);
		return 0;
	}
	/*
	 * The removing write blocks until the device is closed: a child
	 * without a reference to the device does it (no fds, no BAR).
	 */
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/remove", self->bdf);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		munmap(self->c.edu[1].bar, self->c.edu[1].bar_size);
		close_range(3, ~0U, 0);
		_exit(write_file(path, "1") ? 1 : 0);
	}
	self->remover = pid;
	return 0;
}

/* Reap the sysfs remover; 0 if it removed the device. */
static int unplug_reap(struct _test_data_edu_unplug *self, long ms)
{
	long long deadline = edu_now_ms() + ms;
	int status = -1;
	pid_t rc;

	if (self->remover <= 0)
		return 0;
	while ((rc = waitpid(self->remover, &status, WNOHANG)) == 0 &&
	       edu_now_ms() < deadline)
		usleep(10000);
	if (rc == 0)
		return -ETIMEDOUT;
	self->remover = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Bring the hot-pluggable edu back and hand it to vfio-pci. */
static int unplug_restore(struct _test_data_edu_unplug *self, bool qemu)
{
	long long deadline = edu_now_ms() + UNPLUG_WAIT_MS;
	int rc;

	if (!self->bdf[0])
		return 0;
	/*
	 * QEMU may still be finishing the removal the guest completed (the
	 * id is busy until then): ask again until the device is back.
	 */
	while (!pci_present(self->bdf) && edu_now_ms() < deadline) {
		if (qemu)
			hotplug_request("device_add driver=edu id=%s bus=%s",
					self->qemu_id, self->qemu_bus);
		else
			write_file(PCI_SYSFS "/rescan", "1");
		pci_wait(self->bdf, true, 10000);
	}
	if (!pci_present(self->bdf))
		return -ENODEV;
	/*
	 * The device shows in sysfs before the PCI core lets drivers bind
	 * to it (and before its IOMMU group exists): try until it binds.
	 */
	while ((rc = edu_bind_vfio(self->bdf)) && edu_now_ms() < deadline)
		usleep(100000);
	return rc;
}

/* VFIO's device requests (remove: give the device back) to @efd. */
static int edu_set_req_eventfd(struct edu *e, int efd)
{
	char irqbuf[sizeof(struct vfio_irq_set) + sizeof(__s32)];
	struct vfio_irq_set *irq = (struct vfio_irq_set *)irqbuf;

	irq->argsz = sizeof(irqbuf);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_REQ_IRQ_INDEX;
	irq->start = 0;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof(efd));
	return vioctl(e->dev, VFIO_DEVICE_SET_IRQS, (unsigned long)irq);
}

FIXTURE_SETUP(edu_unplug)
{
	char bdf[2][32];
	int rc;

	edu_ctx_init(&self->c);
	self->efd = -1;
	if (!hotplug_cmdline(self->qemu_id, sizeof(self->qemu_id),
			     self->qemu_bus, sizeof(self->qemu_bus)))
		SKIP(return, "no hot-pluggable edu (run-vm's ioasid_hotplug=)");
	if (edu_find_on(&bdf[1], 1, true) != 1)
		SKIP(return, "no edu behind a root port");
	if (edu_find(bdf, 1) != 1)
		SKIP(return, "no edu on the root bus");
	if (variant->qemu && !hotplug_slot(bdf[1]))
		SKIP(return, "no PCI hotplug driver for the slot of %s (kernel without CONFIG_HOTPLUG_PCI_PCIE/ACPI)",
		     bdf[1]);
	copy_str(self->bdf, sizeof(self->bdf), bdf[1]);
	ASSERT_EQ(0, edu_bind_vfio(self->bdf)) TH_LOG("bind %s to vfio-pci", self->bdf);

	self->base = vm_locked_kb();
	ASSERT_LE(0, self->base);
	self->contexts = ioasid_debugfs_count("context", NULL);
	rc = edu_ctx_open(&self->c, variant->mode, false, bdf, 2);
	if (rc == -EOPNOTSUPP && variant->mode == EDU_NATIVE &&
	    !strcmp(self->c.step, "VFIO_CHECK_EXTENSION"))
		SKIP(return, "no VFIO_IOASID_IOMMU container type: ioasid_vfio is not loaded");
	ASSERT_EQ(0, rc) TH_LOG("%s container: %s failed: %s", mode_name(variant->mode),
				self->c.step, strerror(-rc));
	ASSERT_EQ(2, self->c.nedu);
	ASSERT_EQ(1, ioasid_dev_objects(self->bdf));

	self->buf = alloc_pages(UNPLUG_PAGES);
	ASSERT_NE(NULL, self->buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, self->buf, UNPLUG_PAGES * PSZ, 0x800000));
	ASSERT_EQ(self->base + UNPLUG_PAGES * (long)PSZ / 1024, vm_locked_kb());

	self->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, self->efd);
	ASSERT_EQ(0, edu_set_req_eventfd(&self->c.edu[1], self->efd));
}

static void unplug_dma_stop(struct _test_data_edu_unplug *self)
{
	if (!self->dma_running)
		return;
	__atomic_store_n(&self->dma.stop, true, __ATOMIC_RELAXED);
	pthread_join(self->dma.thread, NULL);
	self->dma_running = false;
}

FIXTURE_TEARDOWN(edu_unplug)
{
	unplug_dma_stop(self);
	edu_ctx_close(&self->c);
	if (self->efd >= 0)
		close(self->efd);
	if (self->requested) {
		unplug_reap(self, UNPLUG_WAIT_MS);
		pci_wait(self->bdf, false, UNPLUG_WAIT_MS);
	}
	if (self->buf)
		munmap(self->buf, UNPLUG_PAGES * PSZ);
	EXPECT_TEARDOWN_CLEAN(self->base, NULL, 0);
	if (unplug_restore(self, variant->qemu))
		ksft_print_msg("%s did not come back\n", self->bdf);
}

/* Start the hot-pluggable edu DMAing through pages 0-1 of the mapping. */
static void unplug_dma_start(struct __test_metadata *_metadata,
			     struct _test_data_edu_unplug *self)
{
	self->dma = (struct unplug_dma){
		.e = &self->c.edu[1], .buf = self->buf, .iova = 0x800000,
	};
	ASSERT_EQ(0, pthread_create(&self->dma.thread, NULL, unplug_dma_loop, &self->dma));
	self->dma_running = true;
	/* Under way before the removal is asked for. */
	while (!self->dma.done && !self->dma.rc)
		usleep(1000);
	ASSERT_EQ(0, self->dma.rc);
}

/* Wait up to @ms for the request eventfd; returns its count (0: none). */
static __u64 unplug_wait_request(int efd, long ms)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	__u64 n = 0;

	if (poll(&pfd, 1, ms) != 1 || read(efd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/*
 * Wait for VFIO's first request for the hot-pluggable edu; its count, or 0
 * after UNPLUG_WAIT_MS. A device_del that QEMU dropped (the guest was busy
 * with the slot after all) leaves no removal under way - pciehp blinks the
 * indicator from the button press until the slot is off - so with the
 * indicator steady it is asked for again.
 */
static __u64 unplug_wait_first_request(struct _test_data_edu_unplug *self,
				       bool qemu)
{
	long long deadline = edu_now_ms() + UNPLUG_WAIT_MS;
	__u64 n;

	while (!(n = unplug_wait_request(self->efd, 15000)) &&
	       edu_now_ms() < deadline) {
		if (qemu && slot_power_indicator(self->bdf) != PCI_EXP_SLTCTL_PWR_IND_BLINK) {
			ksft_print_msg("%s: no removal under way, device_del again\n",
				       self->bdf);
			hotplug_request("device_del id=%s", self->qemu_id);
		}
	}
	return n;
}

/* A fresh mapping DMAed through by the root-bus edu, then unmapped. */
static void unplug_check_other(struct __test_metadata *_metadata,
			       struct _test_data_edu_unplug *self, __u64 iova)
{
	struct edu *e = &self->c.edu[0];
	char *buf = alloc_pages(2);
	__u64 unmapped = 0;
	long locked = vm_locked_kb();

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 2 * PSZ, iova));
	ASSERT_EQ(locked + 8, vm_locked_kb());
	fill(buf, PSZ, 11);
	ASSERT_EQ(0, edu_to_dev(e, iova, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + PSZ, PSZ)) TH_LOG("%s: DMA at %#llx", e->bdf,
							(unsigned long long)iova);
	ASSERT_EQ(0, ctx_unmap(&self->c, 0, iova, 2 * PSZ, &unmapped));
	ASSERT_EQ(2 * PSZ, unmapped);
	ASSERT_EQ(locked, vm_locked_kb());
	munmap(buf, 2 * PSZ);
}

/* After the hot-pluggable edu is gone: nothing of it is left. */
static void unplug_check_gone(struct __test_metadata *_metadata,
			      struct _test_data_edu_unplug *self, bool qemu)
{
	ASSERT_EQ(0, unplug_reap(self, UNPLUG_WAIT_MS)) TH_LOG("sysfs remove of %s", self->bdf);
	ASSERT_TRUE(pci_wait(self->bdf, false, UNPLUG_WAIT_MS))
		TH_LOG("%s still present %d s after it was closed", self->bdf,
		       UNPLUG_WAIT_MS / 1000);
	ASSERT_EQ(0, ioasid_dev_objects(self->bdf));
	if (self->c.mode == EDU_NATIVE)
		ASSERT_EQ(-ENOENT, ioasid_find_device(self->c.ioasid, self->bdf, NULL));
	/* The IOAS keeps its mapping and its charge, once. */
	ASSERT_EQ(self->base + UNPLUG_PAGES * (long)PSZ / 1024, vm_locked_kb());

	/* The context goes on for the other device. */
	ASSERT_EQ(1, ioasid_dev_objects(self->c.edu[0].bdf));
	unplug_check_other(_metadata, self, 0x1000000);
	ASSERT_EQ(0, ctx_unmap(&self->c, 0, 0x800000, UNPLUG_PAGES * PSZ, NULL));
	ASSERT_EQ(self->base, vm_locked_kb());
	edu_ctx_close(&self->c);
	ASSERT_EQ(0, ioasid_dev_objects(self->c.edu[0].bdf));
	ASSERT_EQ(self->contexts, ioasid_debugfs_count("context", NULL));
	ASSERT_EQ(self->base, vm_locked_kb());

	ASSERT_EQ(0, unplug_restore(self, qemu)) TH_LOG("%s did not come back", self->bdf);
	self->requested = false;
}

/*
 * A well-behaved user: the device's request eventfd fires while it DMAs,
 * the user stops it and closes the device, the removal completes; the
 * IOAS keeps its mappings and charge, and the context DMAs through the
 * other device.
 */
TEST_F_TIMEOUT(edu_unplug, close_on_request, 300)
{
	struct edu *e = &self->c.edu[1];
	unsigned long done;

	unplug_dma_start(_metadata, self);
	ASSERT_EQ(0, unplug_request(_metadata, self, variant->qemu))
		TH_LOG("the slot of %s: power indicator still blinking", self->bdf);
	ASSERT_NE(0, unplug_wait_first_request(self, variant->qemu))
		TH_LOG("no device request for %s in %d s", self->bdf, UNPLUG_WAIT_MS / 1000);
	/* Still registered and working: the removal waits for the user. */
	ASSERT_EQ(1, ioasid_dev_objects(self->bdf));
	done = self->dma.done;
	unplug_dma_stop(self);
	ASSERT_EQ(0, self->dma.rc) TH_LOG("DMA of %s failed after %lu round trips",
					  self->bdf, self->dma.done);
	ksft_print_msg("%s: %lu round trips, %lu of them before the request\n",
		       self->bdf, self->dma.done, done);
	edu_close_dev(e);
	unplug_check_gone(_metadata, self, variant->qemu);
}

/*
 * A user that does not close the device on the request: the removal waits
 * (VFIO asks again after 10 s), and meanwhile the context, both devices
 * and the IOAS keep working - the hot-pluggable edu DMAs on. Only when the
 * user closes the device does the removal complete, cleanly.
 */
TEST_F_TIMEOUT(edu_unplug, ignore_request, 300)
{
	struct edu *e = &self->c.edu[1];
	__u64 n;

	unplug_dma_start(_metadata, self);
	ASSERT_EQ(0, unplug_request(_metadata, self, variant->qemu))
		TH_LOG("the slot of %s: power indicator still blinking", self->bdf);
	ASSERT_NE(0, unplug_wait_first_request(self, variant->qemu))
		TH_LOG("no device request for %s in %d s", self->bdf, UNPLUG_WAIT_MS / 1000);

	/* Ignored: the context serves both devices while it waits. */
	unplug_check_other(_metadata, self, 0x1000000);
	ASSERT_TRUE(pci_present(self->bdf));
	ASSERT_EQ(1, ioasid_dev_objects(self->bdf));
	if (self->c.mode == EDU_NATIVE)
		ASSERT_EQ(0, ioasid_find_device(self->c.ioasid, self->bdf, NULL));
	n = unplug_wait_request(self->efd, 30000);
	ASSERT_NE(0, n) TH_LOG("VFIO asked for %s only once in 30 s", self->bdf);
	unplug_dma_stop(self);
	ASSERT_EQ(0, self->dma.rc) TH_LOG("DMA of %s failed after %lu round trips",
					  self->bdf, self->dma.done);
	ASSERT_TRUE(pci_present(self->bdf));
	unplug_check_other(_metadata, self, 0x1000000);
	ksft_print_msg("%s: %lu round trips while its removal waited\n",
		       self->bdf, self->dma.done);

	edu_close_dev(e);
	unplug_check_gone(_metadata, self, variant->qemu);
}

/* ---- native: hot-remove. The last fixture: it removes a device. ---- */

FIXTURE(edu_hotplug) {
	struct edu_ctx c;
	char bdf[32];
};

FIXTURE_SETUP(edu_hotplug)
{
	/* The last edu, so a failed rescan leaves the first one. */
	open_or_skip(_metadata, &self->c, EDU_NATIVE, false, true);
	copy_str(self->bdf, sizeof(self->bdf), self->c.edu[0].bdf);
}

FIXTURE_TEARDOWN(edu_hotplug)
{
	edu_ctx_close(&self->c);
	if (self->bdf[0])
		edu_restore(self->bdf);
	EXPECT_TEARDOWN_CLEAN(0, NULL, 0);
}

/*
 * Remove the PCI device while it is open, attached and has memory mapped,
 * as a VMM sees it: VFIO relays the removal as a device request on an
 * eventfd, and the removal completes once the VMM closes the device.
 * The removing write runs in a child that holds no reference to the
 * device (it drops its copy of BAR0's mapping and every fd first), else
 * the removal could wait on the very process that performs it.
 */
TEST_F_TIMEOUT(edu_hotplug, hot_remove, 180)
{
	const __u64 iova = 0x800000;
	struct edu *e = &self->c.edu[0];
	struct vfio_irq_set *irq;
	char irqbuf[sizeof(*irq) + sizeof(__s32)];
	char path[256];
	long base = vm_locked_kb(), deadline;
	struct pollfd pfd;
	int efd, status = -1;
	pid_t pid;
	char *buf;

	ASSERT_LE(0, base);
	buf = alloc_pages(2);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, ctx_map(&self->c, 0, buf, 2 * PSZ, iova));
	ASSERT_EQ(base + 8, vm_locked_kb());
	fill(buf, PSZ, 9);
	ASSERT_EQ(0, edu_to_dev(e, iova, 0, PSZ));
	ASSERT_EQ(0, edu_to_ram(e, 0, iova + PSZ, PSZ));
	ASSERT_EQ(0, memcmp(buf, buf + PSZ, PSZ));

	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	irq = (struct vfio_irq_set *)irqbuf;
	irq->argsz = sizeof(irqbuf);
	irq->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	irq->index = VFIO_PCI_REQ_IRQ_INDEX;
	irq->start = 0;
	irq->count = 1;
	memcpy(irq->data, &efd, sizeof(efd));
	ASSERT_EQ(0, vioctl(e->dev, VFIO_DEVICE_SET_IRQS, (unsigned long)irq));

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/remove", self->bdf);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		munmap(e->bar, e->bar_size);
		close_range(3, ~0U, 0);
		_exit(write_file(path, "1") ? 1 : 0);
	}

	/* VFIO asks for the device back. */
	pfd.fd = efd;
	pfd.events = POLLIN;
	EXPECT_EQ(1, poll(&pfd, 1, 10000)) TH_LOG("no device request from VFIO");
	/* Still registered: the removal waits for us. */
	EXPECT_EQ(0, ioasid_find_device(self->c.ioasid, self->bdf, NULL));
	close(efd);
	edu_close_dev(e);

	deadline = edu_now_ms() + 60000;
	while (waitpid(pid, &status, WNOHANG) == 0 && edu_now_ms() < deadline)
		usleep(10000);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("the removal did not complete (status %#x)", status);
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", self->bdf);
	ASSERT_NE(0, access(path, F_OK));
	ASSERT_EQ(-ENOENT, ioasid_find_device(self->c.ioasid, self->bdf, NULL));

	/* The IOAS keeps its mapping and its pin until it goes. */
	ASSERT_EQ(base + 8, vm_locked_kb());
	edu_ctx_close(&self->c);
	ASSERT_EQ(base, vm_locked_kb());

	ASSERT_EQ(0, edu_restore(self->bdf)) TH_LOG("rescan and rebind of %s", self->bdf);
	ASSERT_TRUE(bound_to_vfio(self->bdf));
	munmap(buf, 2 * PSZ);
}

TEST_HARNESS_MAIN
