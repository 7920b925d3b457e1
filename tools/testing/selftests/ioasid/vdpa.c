// SPDX-License-Identifier: GPL-2.0
/*
 * vDPA devices on /dev/ioasid: VHOST_VDPA_IOASID_BIND on a vhost-vdpa fd
 * (include/uapi/linux/ioasid_vdpa.h), virtqueues driven through the vhost
 * ioctls with every buffer mapped only through /dev/ioasid.
 *
 * vm-init creates vdpa0 (vp_vdpa on the VM's virtio-net-pci behind VT-d)
 * and vdpasim0 (vdpa_sim_net) when the kernel has the pieces; a missing
 * device SKIPs with the reason. The TX test prints the frame it sent as
 * "# IOASID-VDPA-FRAME <hex>" for the runner to compare with QEMU's pcap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/ioasid_vdpa.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define BUF_LEN		0x10000
#define BUF_IOVA	0x100000ULL
#define QSZ		16
#define OFF_DESC	0x0
#define OFF_AVAIL	0x1000
#define OFF_USED	0x2000
#define OFF_FRAME	0x3000
#define FRAME_LEN	60
#define HDR_LEN		12	/* virtio_net_hdr_mrg_rxbuf, VERSION_1 */
#define TXQ		1

/* The /dev node of vDPA device @name's vhost-vdpa, or -ENOENT. */
static int vhost_vdpa_path(const char *name, char *path, size_t len)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", name);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vhost-vdpa", 10)) {
			snprintf(path, len, "/dev/%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENODEV;
}

static int vdpa_bind(int vfd, int ioasid_fd, __u32 asid, __u32 ioas,
		     __u32 *dev_id)
{
	struct vhost_vdpa_ioasid_bind bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
		.asid = asid,
		.ioas_id = ioas,
	};
	int rc = ioctl(vfd, VHOST_VDPA_IOASID_BIND, &bind) ? -errno : 0;

	if (!rc && dev_id)
		*dev_id = bind.out_dev_id;
	return rc;
}

FIXTURE(vdpa) {
	int fd;		/* /dev/ioasid */
	int vfd;	/* /dev/vhost-vdpa-N */
	__u32 ioas;
	char path[300];
	void *buf;
};

FIXTURE_VARIANT(vdpa) {
	const char *name;
	const char *what;
	bool platform;	/* translates through the platform IOMMU */
};

FIXTURE_VARIANT_ADD(vdpa, vp_vdpa) {
	.name = "vdpa0",
	.what = "vp_vdpa on the virtio-net-pci",
	.platform = true,
};

FIXTURE_VARIANT_ADD(vdpa, vdpa_sim_net) {
	.name = "vdpasim0",
	.what = "vdpa_sim_net",
	.platform = false,
};

FIXTURE_SETUP(vdpa)
{
	self->vfd = -1;
	self->fd = -1;
	self->buf = MAP_FAILED;
	if (vhost_vdpa_path(variant->name, self->path, sizeof(self->path)))
		SKIP(return, "no vDPA device %s with vhost-vdpa (%s or the patched vhost_vdpa missing on this kernel)",
		     variant->name, variant->what);
	self->vfd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->vfd) TH_LOG("%s: %s", self->path, strerror(errno));
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_OWNER));
	self->fd = ioasid_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas));
	self->buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	memset(self->buf, 0, BUF_LEN);
}

FIXTURE_TEARDOWN(vdpa)
{
	if (self->vfd >= 0)
		close(self->vfd);
	if (self->fd >= 0)
		close(self->fd);
	if (self->buf != MAP_FAILED)
		munmap(self->buf, BUF_LEN);
}

/* Every refusal of the bind ioctl, as the header's errno table says. */
TEST_F(vdpa, bind_errors)
{
	struct vhost_vdpa_ioasid_bind bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = self->fd,
		.ioas_id = self->ioas,
	};
	int nfd = open("/dev/null", O_RDWR);
	__u32 nas = 0;

	ASSERT_LE(0, nfd);
	bind.argsz = sizeof(bind) - 4;
	EXPECT_EQ(-1, ioctl(self->vfd, VHOST_VDPA_IOASID_BIND, &bind));
	EXPECT_EQ(EINVAL, errno);
	bind.argsz = sizeof(bind);
	bind.flags = 1;
	EXPECT_EQ(-1, ioctl(self->vfd, VHOST_VDPA_IOASID_BIND, &bind));
	EXPECT_EQ(EOPNOTSUPP, errno);
	bind.flags = 0;

	ASSERT_EQ(0, ioctl(self->vfd, VHOST_VDPA_GET_AS_NUM, &nas));
	EXPECT_EQ(-EINVAL, vdpa_bind(self->vfd, self->fd, nas, self->ioas, NULL));

	if (!variant->platform) {
		/* Own translation: refused until the access path mirrors it. */
		EXPECT_EQ(-EOPNOTSUPP,
			  vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
		close(nfd);
		return;
	}
	EXPECT_EQ(-EBADF, vdpa_bind(self->vfd, nfd, 0, self->ioas, NULL));
	EXPECT_EQ(-EBADF, vdpa_bind(self->vfd, -1, 0, self->ioas, NULL));
	EXPECT_EQ(-ENOENT, vdpa_bind(self->vfd, self->fd, 0, 0xdead, NULL));
	close(nfd);

	/* Not the owner. */
	close(self->vfd);
	self->vfd = open(self->path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->vfd);
	EXPECT_EQ(-EPERM, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));

	/* Bound once, and a failed bind left the device usable. */
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_OWNER));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	EXPECT_EQ(-EINVAL, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
}

/*
 * After the bind, the legacy IOTLB messages are refused: the handler says
 * EPERM, vhost_chr_write_iter() turns it into EFAULT for user space.
 */
TEST_F(vdpa, iotlb_refused_after_bind)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = BUF_IOVA,
			.size = 4096,
			.uaddr = (uintptr_t)self->buf,
			.perm = VHOST_ACCESS_RW,
			.type = VHOST_IOTLB_UPDATE,
		},
	};
	__u64 features = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	__u32 dev_id = 0;

	if (!variant->platform)
		SKIP(return, "%s: bind needs the emulated-device access path", variant->what);
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_BACKEND_FEATURES, &features));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, &dev_id));
	EXPECT_NE(0, dev_id);
	/* vhost core reports every refused IOTLB message as EFAULT. */
	EXPECT_EQ(-1, write(self->vfd, &msg, sizeof(msg)));
	EXPECT_EQ(EFAULT, errno);
	msg.iotlb.type = VHOST_IOTLB_INVALIDATE;
	EXPECT_EQ(-1, write(self->vfd, &msg, sizeof(msg)));
	EXPECT_EQ(EFAULT, errno);
}

/* A bind is refused once IOTLB mappings exist: one source of truth. */
TEST_F(vdpa, bind_refused_with_iotlb_mappings)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = BUF_IOVA,
			.size = 4096,
			.uaddr = (uintptr_t)self->buf,
			.perm = VHOST_ACCESS_RW,
			.type = VHOST_IOTLB_UPDATE,
		},
	};
	__u64 features = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;

	if (!variant->platform)
		SKIP(return, "%s: bind needs the emulated-device access path", variant->what);
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_BACKEND_FEATURES, &features));
	ASSERT_EQ(sizeof(msg), write(self->vfd, &msg, sizeof(msg)));
	EXPECT_EQ(-EBUSY, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	msg.iotlb.type = VHOST_IOTLB_INVALIDATE;
	ASSERT_EQ(sizeof(msg), write(self->vfd, &msg, sizeof(msg)));
	EXPECT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
}

/*
 * The device joins the IOAS's pages: binding pins and charges nothing more
 * (VmLck read back), and closing the device leaves the charge to the IOAS.
 */
TEST_F(vdpa, bind_pins_nothing_more)
{
	long before, mapped, bound;

	if (!variant->platform)
		SKIP(return, "%s: bind needs the emulated-device access path", variant->what);
	before = vm_locked_kb();
	ASSERT_LE(0, before);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, BUF_LEN,
				      BUF_IOVA));
	mapped = vm_locked_kb();
	EXPECT_EQ(before + BUF_LEN / 1024, mapped);
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	bound = vm_locked_kb();
	EXPECT_EQ(mapped, bound);
	close(self->vfd);
	self->vfd = -1;
	EXPECT_EQ(mapped, vm_locked_kb());
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, BUF_IOVA, BUF_LEN, NULL));
	EXPECT_EQ(before, vm_locked_kb());
}

static int set_status(int vfd, __u8 status)
{
	return ioctl(vfd, VHOST_VDPA_SET_STATUS, &status) ? -errno : 0;
}

/* Wait up to 2 s for the used index of the TX ring to reach @idx. */
static bool wait_used(volatile struct vring_used *used, __u16 idx)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 2000; i++) {
		if (used->idx == idx)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/*
 * vp_vdpa: one frame on the TX queue, with ring and buffer mapped only
 * through /dev/ioasid. The device completes it; QEMU's filter-dump has it
 * for the runner, which compares the bytes printed here.
 */
TEST_F(vdpa, tx_frame_through_ioas)
{
	__u64 features = (1ULL << VIRTIO_F_VERSION_1) |
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	struct vhost_vring_state st = { .index = TXQ };
	struct vhost_vring_addr addr = {
		.index = TXQ,
		.desc_user_addr = BUF_IOVA + OFF_DESC,
		.avail_user_addr = BUF_IOVA + OFF_AVAIL,
		.used_user_addr = BUF_IOVA + OFF_USED,
	};
	struct vhost_vring_file kick = { .index = TXQ }, call = { .index = TXQ };
	char *b = self->buf, hex[2 * FRAME_LEN + 1];
	struct vring_desc *desc = (void *)(b + OFF_DESC);
	struct vring_avail *avail = (void *)(b + OFF_AVAIL);
	volatile struct vring_used *used = (void *)(b + OFF_USED);
	__u8 *frame = (__u8 *)b + OFF_FRAME + HDR_LEN;
	__u64 one = 1, got = 0;
	unsigned int i;

	if (!variant->platform)
		SKIP(return, "%s: bind needs the emulated-device access path", variant->what);

	ASSERT_EQ(0, ioctl(self->vfd, VHOST_GET_FEATURES, &got));
	ASSERT_EQ(features, got & features);
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_FEATURES, &features));
	/* Rings and the frame page separately: the frame page is unmapped. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, OFF_FRAME,
				      BUF_IOVA));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, b + OFF_FRAME,
				      BUF_LEN - OFF_FRAME, BUF_IOVA + OFF_FRAME));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));

	/* Broadcast destination, a test source MAC, a local ethertype. */
	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x10\xa5\x1d\x00\x01", 6);
	frame[12] = 0x88;
	frame[13] = 0xb5;
	srand(time(NULL));
	for (i = 14; i < FRAME_LEN; i++)
		frame[i] = rand();
	desc[0].addr = BUF_IOVA + OFF_FRAME;
	desc[0].len = HDR_LEN + FRAME_LEN;
	desc[0].flags = 0;
	avail->ring[0] = 0;
	avail->idx = 1;

	/* vp_vdpa takes a ring base only between FEATURES_OK and enable. */
	ASSERT_EQ(0, set_status(self->vfd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					   VIRTIO_CONFIG_S_DRIVER |
					   VIRTIO_CONFIG_S_FEATURES_OK));
	st.num = QSZ;
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_VRING_NUM, &st));
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_VRING_ADDR, &addr));
	st.num = 0;
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_VRING_BASE, &st));
	kick.fd = eventfd(0, EFD_CLOEXEC);
	call.fd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, kick.fd);
	ASSERT_LE(0, call.fd);
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_VRING_KICK, &kick));
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_VRING_CALL, &call));
	st.num = 1;
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_VDPA_SET_VRING_ENABLE, &st));
	ASSERT_EQ(0, set_status(self->vfd, VIRTIO_CONFIG_S_ACKNOWLEDGE |
					   VIRTIO_CONFIG_S_DRIVER |
					   VIRTIO_CONFIG_S_FEATURES_OK |
					   VIRTIO_CONFIG_S_DRIVER_OK));
	ASSERT_EQ(sizeof(one), write(kick.fd, &one, sizeof(one)));
	EXPECT_TRUE(wait_used(used, 1));

	for (i = 0; i < FRAME_LEN; i++)
		sprintf(hex + 2 * i, "%02x", frame[i]);
	printf("# IOASID-VDPA-FRAME %s\n", hex);
	fflush(stdout);

	/*
	 * Unmap the frame page under the running device, then queue a new
	 * frame there: the device can no longer reach it (the IOMMU faults;
	 * QEMU may still send zeroes), so these bytes must never leave the
	 * VM - the runner checks the pcap - and nothing may crash.
	 */
	for (i = 14; i < FRAME_LEN; i++)
		frame[i] = rand();
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, BUF_IOVA + OFF_FRAME,
				  BUF_LEN - OFF_FRAME, NULL));
	avail->ring[1] = 0;
	__atomic_store_n(&avail->idx, 2, __ATOMIC_RELEASE);
	ASSERT_EQ(sizeof(one), write(kick.fd, &one, sizeof(one)));
	wait_used(used, 2);
	for (i = 0; i < FRAME_LEN; i++)
		sprintf(hex + 2 * i, "%02x", frame[i]);
	printf("# IOASID-VDPA-UNREACHABLE %s\n", hex);
	fflush(stdout);

	EXPECT_EQ(0, set_status(self->vfd, 0));
	close(kick.fd);
	close(call.fd);
}

TEST_HARNESS_MAIN
