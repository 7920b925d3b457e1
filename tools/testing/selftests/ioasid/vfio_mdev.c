// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO devices without an IOMMU of their own (mdev-style, emulated IOMMU
 * groups) are refused cleanly by ioasid_vfio: a native ioasid container
 * cannot take their group (EOPNOTSUPP, nothing left behind), and a TYPE1v2
 * container falls through to VFIO's type1, which serves them. Uses the
 * kernel's mtty mdev sample (the project kernel builds it).
 */
#include <dirent.h>
#include <linux/vfio.h>
#include <linux/ioasid_vfio.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define MTTY_TYPES "/sys/class/mdev_bus/mtty/mdev_supported_types"
#define MTTY_UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

FIXTURE(mdev) {
	int group;
	int container;
	char uuid_path[128];
};

FIXTURE_SETUP(mdev)
{
	char path[256], link[256];
	ssize_t n;

	self->group = -1;
	self->container = -1;
	if (access("/sys/module/ioasid_vfio", F_OK))
		SKIP(return, "ioasid_vfio is not loaded");
	if (access("/sys/module/mtty", F_OK) && system("modprobe mtty 2>/dev/null"))
		SKIP(return, "no mtty mdev sample in this kernel");
	if (access("/sys/class/mdev_bus/mtty", F_OK))
		SKIP(return, "no mtty mdev sample in this kernel");
	snprintf(self->uuid_path, sizeof(self->uuid_path), "/sys/bus/mdev/devices/%s",
		 MTTY_UUID);
	if (access(self->uuid_path, F_OK))
		ASSERT_EQ(0, write_file(MTTY_TYPES "/mtty-1/create", MTTY_UUID));
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
}

FIXTURE_TEARDOWN(mdev)
{
	char path[160];

	if (self->container >= 0)
		close(self->container);
	if (self->group >= 0)
		close(self->group);
	snprintf(path, sizeof(path), "%s/remove", self->uuid_path);
	write_file(path, "1");
}

static long vfio_refcnt(void)
{
	return read_long_file("/sys/module/ioasid_vfio/refcnt");
}

TEST_F(mdev, native_container_refuses_emulated_group)
{
	long before = vfio_refcnt();

	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION, VFIO_IOASID_IOMMU));
	ASSERT_EQ(-1, ioctl(self->container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU));
	ASSERT_EQ(EOPNOTSUPP, errno);
	/* Nothing of ioasid_vfio stays behind the container. */
	ASSERT_EQ(before, vfio_refcnt());
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOASID_BIND, &(int){ 0 }));
}

TEST_F(mdev, type1v2_falls_through_to_type1)
{
	long before = vfio_refcnt();
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* type1, not ioasid_vfio, serves the container. */
	ASSERT_EQ(before, vfio_refcnt());
	ASSERT_EQ(0, ioctl(self->container, VFIO_IOMMU_GET_INFO, &info));
}

TEST_HARNESS_MAIN
