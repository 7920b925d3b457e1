// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated-IOMMU (mdev-style) VFIO devices on ioasid_vfio: the test-only
 * ioasid_mdev device pins, unpins and reads/writes by IOVA through
 * vfio_pin_pages()/vfio_dma_rw(), which ioasid_vfio serves from an
 * emulated-device access on the IOAS - in a TYPE1v2 compatibility container
 * and in a native container bound with VFIO_IOASID_BIND_EMULATED_IOAS.
 * Unmapping a pinned range calls the device's dma_unmap before the unmap
 * returns; pages stay pinned and charged once.
 */
#include <pthread.h>
#include <sys/mman.h>
#include <linux/vfio.h>
#include <linux/ioasid_vfio.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"
#include "ioasid_mdev.h"

#define MDEV_TYPES "/sys/class/mdev_bus/" IOASID_MDEV_PARENT "/mdev_supported_types"
#define MDEV_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
#define PSZ 4096UL
#define LEN (8 * PSZ)
#define IOVA 0x200000UL

FIXTURE(mdev) {
	int group;
	int container;
	int dev;
	unsigned char *buf;
	long vmlck;
	char uuid_path[128];
};

FIXTURE_SETUP(mdev)
{
	char path[256], link[256];
	ssize_t n;

	self->group = -1;
	self->container = -1;
	self->dev = -1;
	if (access("/sys/module/ioasid_vfio", F_OK))
		SKIP(return, "ioasid_vfio is not loaded");
	if (access("/sys/class/mdev_bus/" IOASID_MDEV_PARENT, F_OK))
		SKIP(return, "ioasid_mdev is not loaded (no mdev in this kernel?)");
	snprintf(self->uuid_path, sizeof(self->uuid_path), "/sys/bus/mdev/devices/%s",
		 MDEV_UUID);
	if (access(self->uuid_path, F_OK))
		ASSERT_EQ(0, write_file(MDEV_TYPES "/" IOASID_MDEV_TYPE "/create", MDEV_UUID));
	snprintf(path, sizeof(path), "%s/iommu_group", self->uuid_path);
	n = readlink(path, link, sizeof(link) - 1);
	ASSERT_LT(0, n);
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	self->group = open(path, O_RDWR);
	ASSERT_LE(0, self->group);
	self->container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER, &self->container));
	ASSERT_EQ(0, write_file("/sys/module/ioasid_vfio/parameters/type1_compat", "1"));

	self->buf = fixture_buf(LEN, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	for (n = 0; n < (ssize_t)LEN; n++)
		self->buf[n] = (unsigned char)(n * 13 + 5);
	self->vmlck = vm_locked_kb();
}

FIXTURE_TEARDOWN(mdev)
{
	char path[160];

	if (self->dev >= 0)
		close(self->dev);
	if (self->container >= 0)
		close(self->container);
	if (self->group >= 0)
		close(self->group);
	snprintf(path, sizeof(path), "%s/remove", self->uuid_path);
	write_file(path, "1");
	write_file("/sys/module/ioasid_vfio/parameters/type1_compat", "1");
	/* Nothing stays pinned or charged once the files are closed. */
	EXPECT_TEARDOWN_CLEAN(self->vmlck, self->buf, LEN);
}

static long vfio_refcnt(void)
{
	return read_long_file("/sys/module/ioasid_vfio/refcnt");
}

static int mdev_cmd(int dev, __u32 op, __u32 flags, __u64 iova, __u32 npage,
		    const void *data, __u32 len)
{
	struct ioasid_mdev_cmd cmd = {
		.op = op, .flags = flags, .iova = iova, .npage = npage, .length = len,
	};

	if (data)
		memcpy(cmd.data, data, len);
	return pwrite(dev, &cmd, sizeof(cmd), 0) == sizeof(cmd) ? 0 : -errno;
}

static struct ioasid_mdev_cmd mdev_state(int dev)
{
	struct ioasid_mdev_cmd cmd;

	memset(&cmd, 0xff, sizeof(cmd));
	if (pread(dev, &cmd, sizeof(cmd), 0) != sizeof(cmd))
		cmd.out_pins = ~0U;
	return cmd;
}

/*
 * The device's DMA through whatever serves its container: pin and read,
 * write through a pin, dma_rw both ways; nothing charged beyond the map.
 */
static void check_dma(struct __test_metadata *_metadata, int dev,
		      unsigned char *buf, long locked)
{
	unsigned char in[100];
	struct ioasid_mdev_cmd st;
	unsigned int i;

	ASSERT_EQ(0, mdev_cmd(dev, IOASID_MDEV_PIN, 0, IOVA + PSZ + 40, 2, NULL, 200));
	st = mdev_state(dev);
	ASSERT_EQ(1, st.out_pins);
	ASSERT_EQ(0, memcmp(st.data, buf + PSZ + 40, 200));

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)(0xa0 + i);
	ASSERT_EQ(0, mdev_cmd(dev, IOASID_MDEV_PIN, IOASID_MDEV_WRITE, IOVA + 3 * PSZ,
			      1, in, sizeof(in)));
	ASSERT_EQ(0, memcmp(buf + 3 * PSZ, in, sizeof(in)));
	ASSERT_EQ(0, mdev_cmd(dev, IOASID_MDEV_UNPIN, 0, IOVA + 3 * PSZ, 1, NULL, 0));
	ASSERT_EQ(1, mdev_state(dev).out_pins);

	/* dma_rw across a page boundary, both ways. */
	ASSERT_EQ(0, mdev_cmd(dev, IOASID_MDEV_RW, 0, IOVA + 5 * PSZ - 50, 0, NULL, 100));
	ASSERT_EQ(0, memcmp(mdev_state(dev).data, buf + 5 * PSZ - 50, 100));
	ASSERT_EQ(0, mdev_cmd(dev, IOASID_MDEV_RW, IOASID_MDEV_WRITE, IOVA + 6 * PSZ - 50,
			      0, in, sizeof(in)));
	ASSERT_EQ(0, memcmp(buf + 6 * PSZ - 50, in, sizeof(in)));

	/* Outside the mapping. */
	ASSERT_NE(0, mdev_cmd(dev, IOASID_MDEV_PIN, 0, IOVA + LEN, 1, NULL, 0));
	ASSERT_NE(0, mdev_cmd(dev, IOASID_MDEV_RW, 0, IOVA + LEN - 8, 0, NULL, 16));
	ASSERT_EQ(1, mdev_state(dev).out_pins);
	/* Pin once, charge once: the device's pins cost nothing more. */
	ASSERT_EQ(locked, vm_locked_kb());
}

TEST_F(mdev, type1v2_compat)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = 0, .iova = IOVA, .size = LEN,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = IOVA, .size = LEN,
	};
	long before = vfio_refcnt();
	struct ioasid_mdev_cmd st;

	map.vaddr = (uintptr_t)self->buf;
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* ioasid_vfio, not type1, serves it. */
	ASSERT_EQ(before + 1, vfio_refcnt());
	self->dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ASSERT_LE(0, self->dev);
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(self->vmlck + (long)(LEN / 1024), vm_locked_kb());

	check_dma(_metadata, self->dev, self->buf, self->vmlck + LEN / 1024);

	/* UNMAP_DMA: the device is told and unpins before it returns. */
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_UNMAP_DMA, &unmap));
	ASSERT_EQ(LEN, unmap.size);
	st = mdev_state(self->dev);
	EXPECT_EQ(1, st.out_unmap_calls);
	EXPECT_EQ(IOVA, st.out_last_unmap_iova);
	EXPECT_EQ(LEN, st.out_last_unmap_length);
	EXPECT_EQ(0, st.out_pins);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_NE(0, mdev_cmd(self->dev, IOASID_MDEV_RW, 0, IOVA, 0, NULL, 16));
}

TEST_F(mdev, native_bound_to_an_ioas)
{
	struct vfio_ioasid_bind bind = { .argsz = sizeof(bind) };
	struct ioasid_mdev_cmd st;
	__u64 unmapped = 0;
	__u32 ioas;
	int fd;

	fd = ioasid_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioasid_map_fixed(fd, ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU));

	/* The IOAS is named with its flag, and only with it. */
	bind.ioasid_fd = fd;
	bind.ioas_id = ioas;
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	ASSERT_EQ(EINVAL, errno);
	bind.flags = VFIO_IOASID_BIND_EMULATED_IOAS;
	bind.ioas_id = 0;
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	ASSERT_EQ(EINVAL, errno);
	bind.ioas_id = ioas;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	ASSERT_EQ(EBUSY, errno);

	self->dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ASSERT_LE(0, self->dev);
	check_dma(_metadata, self->dev, self->buf, self->vmlck + LEN / 1024);

	/* The IOAS is in use by the device's access. */
	EXPECT_EQ(-EBUSY, ioasid_destroy(fd, ioas));
	/* IOASID_UNMAP on /dev/ioasid reaches the device's dma_unmap. */
	ASSERT_EQ(0, ioasid_unmap(fd, ioas, IOVA, LEN, &unmapped));
	st = mdev_state(self->dev);
	EXPECT_EQ(1, st.out_unmap_calls);
	EXPECT_EQ(0, st.out_pins);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	close(fd);
}

TEST_F(mdev, native_without_emulated_ioas)
{
	struct vfio_ioasid_bind bind = { .argsz = sizeof(bind) };
	int fd = ioasid_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU));
	bind.ioasid_fd = fd;
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	self->dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ASSERT_LE(0, self->dev);
	/* No IOAS for emulated devices: no DMA, and nothing else breaks. */
	EXPECT_EQ(-EINVAL, mdev_cmd(self->dev, IOASID_MDEV_PIN, 0, IOVA, 1, NULL, 0));
	EXPECT_EQ(-EINVAL, mdev_cmd(self->dev, IOASID_MDEV_RW, 0, IOVA, 0, NULL, 8));
	close(fd);
}

TEST_F(mdev, native_bind_unknown_ioas)
{
	struct vfio_ioasid_bind bind = {
		.argsz = sizeof(bind),
		.flags = VFIO_IOASID_BIND_EMULATED_IOAS,
		.ioas_id = 4242,
	};
	int fd = ioasid_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU));
	/* Opened before the bind: the bind makes its access, or fails whole. */
	self->dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ASSERT_LE(0, self->dev);
	bind.ioasid_fd = fd;
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOASID_BIND, &bind));
	ASSERT_EQ(ENOENT, errno);
	EXPECT_EQ(-EINVAL, mdev_cmd(self->dev, IOASID_MDEV_RW, 0, IOVA, 0, NULL, 8));
	close(fd);
}

/*
 * Allocation failures in the emulated-device paths: a native bind that
 * makes the access for an open device, then a pin through it. Each
 * failure is ENOMEM and leaves everything as it was; the next try works.
 */
TEST_F_TIMEOUT(mdev, native_fail_nth, 300)
{
	struct vfio_ioasid_bind bind = {
		.argsz = sizeof(bind),
		.flags = VFIO_IOASID_BIND_EMULATED_IOAS,
	};
	unsigned int nth, step;
	long pending;
	__u32 ioas;
	int fd;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	fd = ioasid_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, ioasid_map_fixed(fd, ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU));
	self->dev = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
	ASSERT_LE(0, self->dev);
	bind.ioasid_fd = fd;
	bind.ioas_id = ioas;
	for (step = 0; step < 2; step++) {
		TEST_FAIL_NTH(nth, 1000, pending) {
			int rc = 0;

			if (step == 0)
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_ioctl(self->container, VFIO_IOASID_BIND,
								&bind));
			else
				FAIL_NTH_CALL(nth, pending,
					      rc = mdev_cmd(self->dev, IOASID_MDEV_PIN, 0, IOVA, 2,
							    NULL, 16));
			if (rc) {
				ASSERT_EQ(-ENOMEM, rc) TH_LOG("step %u injection %u", step, nth);
				/* Nothing half done: still unbound, or no pin. */
				ASSERT_EQ(0, mdev_state(self->dev).out_pins);
			} else if (step == 1) {
				ASSERT_EQ(1, mdev_state(self->dev).out_pins);
				ASSERT_EQ(0, memcmp(mdev_state(self->dev).data, self->buf, 16));
				ASSERT_EQ(0, mdev_cmd(self->dev, IOASID_MDEV_UNPIN, 0, IOVA, 2,
						      NULL, 0));
			}
			ASSERT_EQ(self->vmlck + (long)(LEN / 1024), vm_locked_kb());
			if (!rc && step == 0)
				break;
		}
		TH_LOG("step %u: %u injection points", step, nth - 1);
	}
	ASSERT_EQ(0, ioasid_unmap(fd, ioas, IOVA, LEN, NULL));
	close(fd);
}

/* A thread of ioctls_vs_unset_container and what it saw. */
struct cont_racer {
	int container;
	int ioasid_fd;
	unsigned char *buf;
	size_t len;
	__u64 iova;
	const volatile int *stop;
	/* 0: no backend; 1: a compat one; 2: a native one (main thread). */
	const volatile int *phase;
	/* MAPs that succeeded, and were refused with ENOTTY, by phase. */
	unsigned long maps[3], enotty[3];
	unsigned long calls, bad;
	int bad_errno, bad_op;
};

/* One call of @op; every argument is built afresh (the kernel writes some). */
static int cont_race_call(struct cont_racer *a, unsigned int op)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)a->buf, .iova = a->iova, .size = a->len,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = a->iova, .size = a->len,
	};
	struct vfio_ioasid_bind bind = {
		.argsz = sizeof(bind), .ioasid_fd = a->ioasid_fd,
	};

	switch (op) {
	case 0:
		return ioctl(a->container, VFIO_IOMMU_MAP_DMA, &map);
	case 1:
		return ioctl(a->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
	case 2:
		return ioctl(a->container, VFIO_IOMMU_GET_INFO, &info);
	default:
		return ioctl(a->container, VFIO_IOASID_BIND, &bind);
	}
}

static void *cont_race_thread(void *p)
{
	struct cont_racer *a = p;
	unsigned int i;

	for (i = 0; !*a->stop; i++) {
		int ph = *a->phase, rc = cont_race_call(a, i % 4);

		a->calls++;
		/* A MAP that began and ended with one backend in place. */
		if (i % 4 == 0 && ph == *a->phase) {
			if (!rc)
				a->maps[ph]++;
			else if (errno == ENOTTY)
				a->enotty[ph]++;
		}
		/*
		 * No backend (EINVAL), the other container kind (ENOTTY),
		 * bound already (EBUSY), mapped already (EEXIST, from a MAP
		 * that went to the next container): anything else is a bug.
		 */
		if (rc && errno != EINVAL && errno != ENOTTY && errno != EBUSY &&
		    errno != EEXIST) {
			a->bad++;
			a->bad_errno = errno;
			a->bad_op = i % 4;
		}
	}
	return NULL;
}

/* MAP_DMA and UNMAP_DMA of @len at IOVA on a fresh compat container. */
static int cont_compat_map_once(int group, int container, void *buf, size_t len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf, .iova = IOVA, .size = len,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap), .iova = IOVA, .size = len,
	};

	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ||
	    ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ||
	    ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) || unmap.size != len ||
	    ioctl(group, VFIO_GROUP_UNSET_CONTAINER) ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, &container))
		return -errno ?: -EIO;
	return 0;
}

/*
 * VFIO passes container ioctls to the backend with no lock and no
 * reference, so VFIO_GROUP_UNSET_CONTAINER in one thread releases the
 * backend while MAP_DMA, UNMAP_DMA, GET_INFO and VFIO_IOASID_BIND run in
 * others - and may hand them the NULL it stores afterwards: each must
 * finish on the state it started with (no use after free; KASAN reported
 * one in the fuzzer) or fail with EINVAL, and the last of them ends the
 * context, so nothing stays pinned or charged. Compatibility and native
 * containers take turns.
 */
TEST_F_TIMEOUT(mdev, ioctls_vs_unset_container, 180)
{
	const size_t len = 1UL << 20;
	unsigned long taint = kernel_taint(), calls = 0, maps = 0, enotty = 0;
	volatile int stop = 0, phase = 0;
	struct cont_racer t[3];
	pthread_t th[3];
	unsigned int i, n;
	unsigned char *buf;
	int fd;

	fd = ioasid_open();
	ASSERT_LE(0, fd);
	buf = mmap(NULL, 3 * len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	/* Unraced, the same calls work. */
	ASSERT_EQ(0, cont_compat_map_once(self->group, self->container, buf, len));

	for (i = 0; i < 3; i++) {
		t[i] = (struct cont_racer){
			.container = self->container, .ioasid_fd = fd,
			.buf = buf + i * len, .len = len, .iova = IOVA + i * len,
			.stop = &stop, .phase = &phase,
		};
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cont_race_thread, &t[i]));
	}
	for (n = 0; n < 400; n++) {
		bool native = n % 4 == 3;

		ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
				   native ? VFIO_IOASID_IOMMU : VFIO_TYPE1v2_IOMMU));
		phase = native ? 2 : 1;
		/* Long enough for some ioctls to finish, short for others. */
		usleep(1000 + n % 9 * 700);
		phase = 0;
		ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_UNSET_CONTAINER));
		ASSERT_EQ(0, ioctl(self->group, VFIO_GROUP_SET_CONTAINER,
				   &self->container));
	}
	stop = 1;
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		EXPECT_EQ(0, t[i].bad) TH_LOG("thread %u: %lu calls failed, the last (op %d) with %s",
					      i, t[i].bad, t[i].bad_op, strerror(t[i].bad_errno));
		calls += t[i].calls;
		maps += t[i].maps[1];
		enotty += t[i].enotty[2];
	}
	TH_LOG("%u releases, %lu calls; %lu MAPs made by compat containers, %lu refused by native ones",
	       n, calls, maps, enotty);
	/* The threads did reach live backends of both kinds. */
	EXPECT_LT(0, maps);
	EXPECT_LT(0, enotty);
	ASSERT_EQ(0, (kernel_taint() & ~taint) & TAINT_SPLAT);
	/* Every context ended with its container: nothing pinned or charged. */
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	close(fd);
	EXPECT_TEARDOWN_CLEAN(self->vmlck, buf, 3 * len);
	munmap(buf, 3 * len);
}

TEST_F(mdev, type1v2_falls_through_when_compat_is_off)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	long before = vfio_refcnt();

	ASSERT_EQ(0, write_file("/sys/module/ioasid_vfio/parameters/type1_compat", "0"));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* type1, not ioasid_vfio, serves the container. */
	ASSERT_EQ(before, vfio_refcnt());
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, &info));
}

TEST_HARNESS_MAIN
