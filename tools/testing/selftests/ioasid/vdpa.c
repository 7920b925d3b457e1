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
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"
#include "vdpa_utils.h"

#define BUF_LEN		0x10000
#define BUF_IOVA	0x100000ULL

/* vdpa_sim's use_va parameter is Y. */
static bool vdpa_sim_use_va(void)
{
	char c = 0;
	int fd = open("/sys/module/vdpa_sim/parameters/use_va", O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = 0;
	close(fd);
	return c == 'Y';
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
	self->buf = fixture_buf(BUF_LEN, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* A parent translating by VA has no pages to mirror: refused. */
	if (!variant->platform && vdpa_sim_use_va()) {
		ASSERT_EQ(-EOPNOTSUPP, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
		SKIP(return, "vdpa_sim translates by VA (use_va=Y): the VM loads it with use_va=0");
	}
}

FIXTURE_TEARDOWN(vdpa)
{
	if (self->vfd >= 0)
		close(self->vfd);
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_TEARDOWN_CLEAN(0, self->buf != MAP_FAILED ? self->buf : NULL, BUF_LEN);
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

/* A legacy IOTLB message: map the first page of @buf at BUF_IOVA. */
static struct vhost_msg_v2 iotlb_update(void *buf)
{
	struct vhost_msg_v2 msg = {
		.type = VHOST_IOTLB_MSG_V2,
		.iotlb = {
			.iova = BUF_IOVA,
			.size = 4096,
			.uaddr = (uintptr_t)buf,
			.perm = VHOST_ACCESS_RW,
			.type = VHOST_IOTLB_UPDATE,
		},
	};

	return msg;
}

/*
 * After the bind, the legacy IOTLB messages are refused: the handler says
 * EPERM, vhost_chr_write_iter() turns it into EFAULT for user space.
 */
TEST_F(vdpa, iotlb_refused_after_bind)
{
	struct vhost_msg_v2 msg = iotlb_update(self->buf);
	__u64 features = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;
	__u32 dev_id = 0;

	ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_BACKEND_FEATURES, &features));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, &dev_id));
	/* A device is registered only for a platform-IOMMU parent. */
	EXPECT_EQ(variant->platform, dev_id != 0);
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
	struct vhost_msg_v2 msg = iotlb_update(self->buf);
	__u64 features = 1ULL << VHOST_BACKEND_F_IOTLB_MSG_V2;

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

/*
 * Allocation failures at every point of the bind: each fails with ENOMEM
 * and leaves the device as it was (a later bind works, nothing pinned or
 * charged beyond the IOAS's own mappings).
 */
TEST_F_TIMEOUT(vdpa, bind_fail_nth, 300)
{
	unsigned int nth;
	long mapped, pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	/*
	 * A platform-IOMMU bind first returns the device from vhost-vdpa's
	 * domain to its default one, which the IOMMU core requires to succeed
	 * (it WARNs when the driver's allocation for it fails): injecting
	 * there tests the core, not the bind. The register/attach half of that
	 * bind is ioasid's, and device.c injects failures into it.
	 */
	if (variant->platform)
		SKIP(return, "%s: the IOMMU core's must-succeed detach is not ours to fail", variant->what);
	ASSERT_EQ(0, fail_nth_setup());
	/* Two mappings: a mirroring parent replays both at bind. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, BUF_LEN / 2,
				      BUF_IOVA));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, (char *)self->buf + BUF_LEN / 2,
				      BUF_LEN / 2, BUF_IOVA + BUF_LEN / 2));
	mapped = vm_locked_kb();
	TEST_FAIL_NTH(nth, 3000, pending) {
		int rc = 0;

		FAIL_NTH_CALL(nth, pending,
			      rc = vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
		if (rc)
			ASSERT_EQ(-ENOMEM, rc) TH_LOG("injection %u", nth);
		ASSERT_EQ(mapped, vm_locked_kb());
		/* Bound or not, a fresh open of the device binds. */
		close(self->vfd);
		self->vfd = open(self->path, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->vfd);
		ASSERT_EQ(0, ioctl(self->vfd, VHOST_SET_OWNER));
	}
	TH_LOG("%u injection points", nth - 1);
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	ASSERT_EQ(mapped, vm_locked_kb());
}

/* Broadcast destination, a test source MAC, a local ethertype, random bytes. */
static void make_frame(__u8 *frame, __u8 id)
{
	unsigned int i;

	memset(frame, 0xff, 6);
	memcpy(frame + 6, "\x02\x10\xa5\x1d\x00", 5);
	frame[11] = id;
	frame[12] = 0x88;
	frame[13] = 0xb5;
	for (i = 14; i < VDPA_FRAME_LEN; i++)
		frame[i] = rand();
}

/*
 * One frame on the TX queue, rings and buffers mapped only through
 * /dev/ioasid (the TX frame page as a mapping of its own).
 * vp_vdpa: the device completes it; QEMU's filter-dump has it for the
 * runner, which compares the bytes printed here. vdpa_sim_net loops it
 * back: it arrives on RX byte-exact.
 * Then the frame page is unmapped under the running device and a new
 * frame queued there: the device can no longer reach it (vp_vdpa: the
 * IOMMU faults, QEMU may still send zeroes; vdpa_sim: the mirror no
 * longer has it), so these bytes must never leave the VM (the runner
 * checks the pcap) nor come back on RX - and nothing may crash.
 */
TEST_F(vdpa, tx_frame_through_ioas)
{
	char *b = self->buf;
	__u8 *frame = (__u8 *)b + VDPA_OFF_FRAME + VDPA_HDR_LEN;
	const bool rx = !variant->platform;
	struct vdpa_tx tx;
	__u64 iova;
	__u32 src;
	long got;

	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, b, VDPA_OFF_FRAME, BUF_IOVA));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	/*
	 * Mapped after the bind - a mirroring parent learns them as they
	 * come: the frame page by MAP, the RX rings and buffers by COPY from
	 * another IOAS (sharing its pin).
	 */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, b + VDPA_OFF_FRAME, 0x1000,
				      BUF_IOVA + VDPA_OFF_FRAME));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &src));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, src, b + VDPA_OFF_FRAME + 0x1000,
				      BUF_LEN - VDPA_OFF_FRAME - 0x1000, 0x40000000));
	iova = BUF_IOVA + VDPA_OFF_FRAME + 0x1000;
	ASSERT_EQ(0, ioasid_copy(self->fd, self->ioas, src, 0x40000000,
				 BUF_LEN - VDPA_OFF_FRAME - 0x1000, &iova, MAP_FIXED_RW));

	srand(time(NULL));
	make_frame(frame, 1);
	ASSERT_EQ(0, vdpa_tx_start(&tx, self->vfd, b, BUF_IOVA, rx));
	EXPECT_TRUE(vdpa_tx_send(&tx, BUF_IOVA));
	if (rx) {
		got = vdpa_rx_wait(&tx, 1);
		ASSERT_EQ(VDPA_HDR_LEN + VDPA_FRAME_LEN, got);
		ASSERT_EQ(0, memcmp(vdpa_rx_frame(&tx, 1), frame, VDPA_FRAME_LEN));
	} else {
		vdpa_print_frame("FRAME", frame);
	}

	make_frame(frame, 2);
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, BUF_IOVA + VDPA_OFF_FRAME,
				  0x1000, NULL));
	vdpa_tx_send(&tx, BUF_IOVA);
	if (rx) {
		/* Nothing of it on RX (whatever arrives, it is not these bytes). */
		vdpa_rx_wait(&tx, 2);
		EXPECT_NE(0, memcmp(vdpa_rx_frame(&tx, 2), frame, VDPA_FRAME_LEN));
	} else {
		vdpa_print_frame("UNREACHABLE", frame);
	}
	vdpa_tx_stop(&tx);
}

/*
 * A reset of the device while bound (VHOST_VDPA_SET_STATUS 0, as a VMM
 * does) must not lose the IOAS: vdpa_sim cleans its maps to passthrough
 * on reset, and vhost-vdpa gives it the mirror again. The device is
 * started twice; the second frame loops back byte-exact too.
 */
TEST_F(vdpa, reset_keeps_ioas)
{
	__u8 *frame = (__u8 *)self->buf + VDPA_OFF_FRAME + VDPA_HDR_LEN;
	struct vdpa_tx tx;
	int round;

	if (variant->platform)
		SKIP(return, "%s: frames leave the VM; tx_frame_through_ioas covers it",
		     variant->what);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, BUF_LEN, BUF_IOVA));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	srand(time(NULL) ^ 0x7e5e7);
	for (round = 0; round < 2; round++) {
		/* Fresh rings for a fresh start. */
		memset(self->buf, 0, VDPA_OFF_FRAME);
		memset((char *)self->buf + VDPA_OFF_RX_DESC, 0,
		       VDPA_OFF_RX_BUF - VDPA_OFF_RX_DESC);
		make_frame(frame, 4 + round);
		ASSERT_EQ(0, vdpa_tx_start(&tx, self->vfd, self->buf, BUF_IOVA, true));
		EXPECT_TRUE(vdpa_tx_send(&tx, BUF_IOVA));
		ASSERT_EQ(VDPA_HDR_LEN + VDPA_FRAME_LEN, vdpa_rx_wait(&tx, 1))
			TH_LOG("round %d", round);
		ASSERT_EQ(0, memcmp(vdpa_rx_frame(&tx, 1), frame, VDPA_FRAME_LEN));
		vdpa_tx_stop(&tx);	/* status 0: a reset */
	}
}

/*
 * A parent with several address spaces (vdpa_sim_net: RX/TX in group 0,
 * the control queue in group 1): each binds to its own IOAS of one
 * context, and moving the data group to address space 1 moves its
 * translation to that IOAS.
 */
TEST_F(vdpa, address_spaces)
{
	struct vhost_vring_state group = { .index = 0, .num = 1 };
	__u8 *frame = (__u8 *)self->buf + VDPA_OFF_FRAME + VDPA_HDR_LEN;
	__u32 nas = 0, ioas2, foreign;
	struct vdpa_tx tx;
	int other;

	if (variant->platform)
		SKIP(return, "%s: one address space", variant->what);
	ASSERT_EQ(0, ioctl(self->vfd, VHOST_VDPA_GET_AS_NUM, &nas));
	ASSERT_LE(2, nas);
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas2, self->buf, BUF_LEN, BUF_IOVA));

	/* Address space 0 on an empty IOAS, 1 on the one with the rings. */
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	EXPECT_EQ(-EINVAL, vdpa_bind(self->vfd, self->fd, 0, ioas2, NULL));
	/* All address spaces of a device bind to one context. */
	other = ioasid_open();
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_ioas_alloc(other, &foreign));
	EXPECT_EQ(-EINVAL, vdpa_bind(self->vfd, other, 1, foreign, NULL));
	close(other);
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 1, ioas2, NULL));
	EXPECT_EQ(-EBUSY, ioasid_destroy(self->fd, ioas2));

	ASSERT_EQ(0, ioctl(self->vfd, VHOST_VDPA_SET_GROUP_ASID, &group));
	srand(time(NULL) ^ 0xa5);
	make_frame(frame, 6);
	ASSERT_EQ(0, vdpa_tx_start(&tx, self->vfd, self->buf, BUF_IOVA, true));
	EXPECT_TRUE(vdpa_tx_send(&tx, BUF_IOVA));
	ASSERT_EQ(VDPA_HDR_LEN + VDPA_FRAME_LEN, vdpa_rx_wait(&tx, 1));
	ASSERT_EQ(0, memcmp(vdpa_rx_frame(&tx, 1), frame, VDPA_FRAME_LEN));
	vdpa_tx_stop(&tx);
}


struct churn {
	int fd;
	__u32 ioas;
	void *buf;
	volatile bool stop;
	volatile unsigned int rounds;
	volatile int err;
};

/* MAP and UNMAP a scratch range of the bound IOAS until told to stop. */
static void *churn_thread(void *arg)
{
	struct churn *c = arg;

	while (!c->stop && !c->err) {
		c->err = ioasid_map_fixed(c->fd, c->ioas, c->buf, 0x10000, 0x40000000) ?:
			 ioasid_unmap(c->fd, c->ioas, 0x40000000, 0x10000, NULL);
		c->rounds++;
	}
	return NULL;
}

/*
 * The mirror changes under a running device: another thread maps and
 * unmaps a scratch range of the bound IOAS (map and unmap callbacks into
 * the parent) while frames go through the rings, each looped back
 * byte-exact. lockdep and KASAN watch the callbacks race the device.
 */
TEST_F(vdpa, stress_mirror_while_running)
{
	__u8 *frame = (__u8 *)self->buf + VDPA_OFF_FRAME + VDPA_HDR_LEN;
	struct churn c = { .fd = self->fd, .ioas = self->ioas };
	struct vdpa_tx tx;
	pthread_t t;
	int i;

	if (variant->platform)
		SKIP(return, "%s: frames leave the VM; the mirror is vdpa_sim's", variant->what);
	c.buf = mmap(NULL, 0x10000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, c.buf);
	memset(c.buf, 0x5a, 0x10000);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, BUF_LEN, BUF_IOVA));
	ASSERT_EQ(0, vdpa_bind(self->vfd, self->fd, 0, self->ioas, NULL));
	ASSERT_EQ(0, vdpa_tx_start(&tx, self->vfd, self->buf, BUF_IOVA, true));
	ASSERT_EQ(0, pthread_create(&t, NULL, churn_thread, &c));
	srand(time(NULL) ^ 0x57e55);
	for (i = 1; i <= VDPA_RX_BUFS; i++) {
		struct timespec ms = { 0, 1000000 };
		int wait;

		/* Interleave: let the mirror change a few times per frame. */
		for (wait = 0; wait < 5000 && c.rounds < 10U * i && !c.err; wait++)
			nanosleep(&ms, NULL);
		make_frame(frame, 10 + i);
		EXPECT_TRUE(vdpa_tx_send(&tx, BUF_IOVA));
		EXPECT_EQ(VDPA_HDR_LEN + VDPA_FRAME_LEN, vdpa_rx_wait(&tx, i));
		EXPECT_EQ(0, memcmp(vdpa_rx_frame(&tx, i), frame, VDPA_FRAME_LEN));
	}
	c.stop = true;
	pthread_join(t, NULL);
	vdpa_tx_stop(&tx);
	TH_LOG("%u map/unmap rounds while %d frames looped back", c.rounds, VDPA_RX_BUFS);
	EXPECT_EQ(0, c.err);
	EXPECT_LE(10U * VDPA_RX_BUFS, c.rounds);
	munmap(c.buf, 0x10000);
}

TEST_HARNESS_MAIN
