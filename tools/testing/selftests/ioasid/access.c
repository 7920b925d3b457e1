// SPDX-License-Identifier: GPL-2.0
/*
 * Emulated-device access (the ioasid_access_* kAPI), driven through the
 * mock's ACCESS commands: read/write by IOVA, pins that share the IOAS's
 * pin and charge, the synchronous unmap callback (also from a software-
 * nesting parent's UNMAP), EBUSY from a driver that keeps its pins, the
 * map callback, lifetimes against IOAS destroy and close, a stress run and
 * allocation failures.
 */
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define PSZ		4096UL
#define NPAGES		16
#define LEN		(NPAGES * PSZ)
#define IOVA		0x100000UL

static int access_create(int mfd, int fd, __u32 ioas, __u32 flags, __u32 *id)
{
	struct ioasid_mock_access_create cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid_fd = fd,
		.ioas_id = ioas,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_ACCESS_CREATE, &cmd);

	if (!rc)
		*id = cmd.out_access_id;
	return rc;
}

static int access_op(int mfd, unsigned long ioc, __u32 id, __u64 iova,
		     __u64 len, void *buf, __u32 flags)
{
	struct ioasid_mock_access_pin cmd = {
		.size = sizeof(cmd),
		.access_id = id,
		.flags = flags,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)buf,
	};

	return ioasid_ioctl(mfd, ioc, &cmd);
}

#define acc_pin(mfd, id, iova, len, buf, fl) \
	access_op(mfd, IOASID_MOCK_ACCESS_PIN_PAGES, id, iova, len, buf, fl)
#define acc_unpin(mfd, id, iova, len) \
	access_op(mfd, IOASID_MOCK_ACCESS_UNPIN, id, iova, len, NULL, 0)
#define acc_rw(mfd, id, iova, len, buf, fl) \
	access_op(mfd, IOASID_MOCK_ACCESS_RW, id, iova, len, buf, fl)

static struct ioasid_mock_access_info access_info(int mfd, __u32 id)
{
	struct ioasid_mock_access_info cmd = { .size = sizeof(cmd), .access_id = id };

	if (ioasid_ioctl(mfd, IOASID_MOCK_ACCESS_INFO, &cmd))
		cmd.out_pins = ~0U;
	return cmd;
}

static int access_destroy(int mfd, __u32 id)
{
	struct ioasid_mock_access_info cmd = { .size = sizeof(cmd), .access_id = id };

	return ioasid_ioctl(mfd, IOASID_MOCK_ACCESS_DESTROY, &cmd);
}

static void fill(unsigned char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 7 + seed);
}

/*
 * The first and the last page of [iova, iova + len), read through the
 * access, hold what the memory at @va holds: 0, -EIO on a mismatch, or the
 * error of the read.
 */
static int check_ends(int mfd, __u32 id, __u64 iova, const unsigned char *va,
		      __u64 len)
{
	unsigned char b[PSZ];
	int rc;

	rc = acc_rw(mfd, id, iova, PSZ, b, 0);
	if (rc)
		return rc;
	if (memcmp(b, va, PSZ))
		return -EIO;
	rc = acc_rw(mfd, id, iova + len - PSZ, PSZ, b, 0);
	if (rc)
		return rc;
	return memcmp(b, va + len - PSZ, PSZ) ? -EIO : 0;
}

FIXTURE(access) {
	int fd;
	int mfd;
	__u32 ioas;
	unsigned char *buf;
	long vmlck;
};

FIXTURE_SETUP(access)
{
	if (!MOCK_FIXTURE_SETUP(self))
		return;
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas));
	self->buf = fixture_buf(LEN, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	fill(self->buf, LEN, 1);
	ASSERT_EQ(0, write_param("access_unmap_timeout_ms", "1000"));
}

FIXTURE_TEARDOWN(access)
{
	/* Everything the test pinned is gone with the files. */
	MOCK_FIXTURE_TEARDOWN(self, LEN);
	munmap(self->buf, LEN);
}

/* Map the buffer as two adjacent areas: [IOVA, +LEN/2) and [+LEN/2, +LEN). */
static int map_two(int fd, __u32 ioas, unsigned char *buf, __u32 flags)
{
	return ioasid_map_fixed(fd, ioas, buf, LEN / 2, IOVA) ?:
	       ioasid_map(fd, ioas, buf + LEN / 2, LEN / 2,
			  &(__u64){ IOVA + LEN / 2 }, IOASID_MAP_FIXED_IOVA | flags);
}

TEST_F(access, create_errors)
{
	int other = open("/dev/null", O_RDWR);
	__u32 id;

	ASSERT_LE(0, other);
	EXPECT_EQ(-EBADF, access_create(self->mfd, -1, self->ioas, 0, &id));
	EXPECT_EQ(-EBADF, access_create(self->mfd, other, self->ioas, 0, &id));
	EXPECT_EQ(-ENOENT, access_create(self->mfd, self->fd, self->ioas + 100, 0, &id));
	EXPECT_EQ(-EINVAL, access_create(self->mfd, self->fd, self->ioas,
					 IOASID_MOCK_ACCESS_NO_UNMAP_OP, &id));
	EXPECT_EQ(-EOPNOTSUPP, access_create(self->mfd, self->fd, self->ioas, 1 << 7, &id));
	EXPECT_EQ(-ENOENT, access_destroy(self->mfd, 12345));
	/* An access without needs_pin_pages cannot pin. */
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas, 0, &id));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	EXPECT_EQ(-EINVAL, acc_pin(self->mfd, id, IOVA, PSZ, NULL, 0));
	EXPECT_EQ(0, access_destroy(self->mfd, id));
	close(other);
}

TEST_F(access, rw)
{
	unsigned char out[3 * PSZ], in[3 * PSZ];
	__u64 iova = IOVA + LEN / 2 - PSZ - 100;	/* crosses both areas */
	__u32 id;

	ASSERT_EQ(0, map_two(self->fd, self->ioas, self->buf, MAP_RW));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas, 0, &id));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	/* The first and the last page of each area. */
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA, self->buf, LEN / 2));
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA + LEN / 2, self->buf + LEN / 2,
				LEN / 2));

	ASSERT_EQ(0, acc_rw(self->mfd, id, iova, sizeof(out), out, 0));
	ASSERT_EQ(0, memcmp(out, self->buf + (iova - IOVA), sizeof(out)));

	fill(in, sizeof(in), 77);
	ASSERT_EQ(0, acc_rw(self->mfd, id, iova, sizeof(in), in,
			       IOASID_MOCK_ACCESS_WRITE));
	ASSERT_EQ(0, memcmp(in, self->buf + (iova - IOVA), sizeof(in)));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* A hole, past the end, a wrapping range. */
	EXPECT_EQ(-ENOENT, acc_rw(self->mfd, id, IOVA - PSZ, 2 * PSZ, out, 0));
	EXPECT_EQ(-ENOENT, acc_rw(self->mfd, id, IOVA + LEN - 8, 16, out, 0));
	EXPECT_EQ(-EINVAL, acc_rw(self->mfd, id, ~0ULL - 8, 16, out, 0));
	EXPECT_EQ(-EOPNOTSUPP, acc_rw(self->mfd, id, IOVA, 16, out, 1 << 5));
	EXPECT_EQ(0, access_destroy(self->mfd, id));
}

TEST_F(access, rw_read_only_mapping)
{
	unsigned char b[64];
	__u32 id;

	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf, LEN,
				&(__u64){ IOVA }, IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &id));
	EXPECT_EQ(0, acc_rw(self->mfd, id, IOVA, sizeof(b), b, 0));
	EXPECT_EQ(-EPERM, acc_rw(self->mfd, id, IOVA, sizeof(b), b,
				    IOASID_MOCK_ACCESS_WRITE));
	EXPECT_EQ(-EPERM, acc_pin(self->mfd, id, IOVA, PSZ, NULL,
				     IOASID_MOCK_ACCESS_WRITE));
	EXPECT_EQ(0, acc_pin(self->mfd, id, IOVA, PSZ, NULL, 0));
	EXPECT_EQ(1, access_info(self->mfd, id).out_pins);
}

TEST_F(access, pin_shares_the_charge)
{
	unsigned char out[2 * PSZ], in[PSZ];
	long pins, locked;
	__u32 id;

	ASSERT_EQ(0, map_two(self->fd, self->ioas, self->buf, MAP_RW));
	locked = vm_locked_kb();
	ASSERT_EQ(self->vmlck + (long)(LEN / 1024), locked);
	/* Every page of both areas pinned once. */
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	pins = mock_pin_max(self->mfd, self->buf, LEN);
	ASSERT_EQ(1, pins);
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &id));

	/* Across the two areas, unaligned: the pages are the buffer's. */
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA + LEN / 2 - PSZ + 8,
				sizeof(out) - 16, out, 0));
	ASSERT_EQ(0, memcmp(out, self->buf + LEN / 2 - PSZ + 8, sizeof(out) - 16));
	/* Pinned again, and for writing: the device's write lands in memory. */
	fill(in, sizeof(in), 9);
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA, PSZ, in, IOASID_MOCK_ACCESS_WRITE));
	ASSERT_EQ(0, memcmp(in, self->buf, PSZ));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA, PSZ, NULL, 0));
	EXPECT_EQ(3, access_info(self->mfd, id).out_pins);

	/* No second pin and no second charge. */
	EXPECT_EQ(locked, vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA, self->buf, LEN / 2));
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA + LEN / 2, self->buf + LEN / 2,
				LEN / 2));

	EXPECT_EQ(-ENOENT, acc_pin(self->mfd, id, IOVA + LEN, PSZ, NULL, 0));
	EXPECT_EQ(-EINVAL, acc_pin(self->mfd, id, IOVA, 0, NULL, 0));
	EXPECT_EQ(-ENOENT, acc_unpin(self->mfd, id, IOVA, 2 * PSZ));
	EXPECT_EQ(0, acc_unpin(self->mfd, id, IOVA, PSZ));
	EXPECT_EQ(0, acc_unpin(self->mfd, id, IOVA, PSZ));
	EXPECT_EQ(1, access_info(self->mfd, id).out_pins);
	EXPECT_EQ(0, access_info(self->mfd, id).out_unmap_calls);
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	EXPECT_EQ(0, access_destroy(self->mfd, id));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* Pins do not outlive the mapping's own: unmap returns everything. */
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &(__u64){ 0 }));
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_EQ(0, mock_pin_max(self->mfd, self->buf, LEN));
}

TEST_F(access, unmap_calls_back)
{
	__u64 unmapped = 0;
	__u32 id, other;
	struct ioasid_mock_access_info info;

	ASSERT_EQ(0, map_two(self->fd, self->ioas, self->buf, MAP_RW));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &id));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &other));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA + PSZ, 2 * PSZ, NULL, 0));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA + LEN / 2, PSZ, NULL, 0));
	ASSERT_EQ(0, acc_pin(self->mfd, other, IOVA + LEN / 2, PSZ, NULL, 0));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* Unmapping the first area tells only the access that pins in it. */
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, IOVA, LEN / 2, &unmapped));
	EXPECT_EQ(LEN / 2, unmapped);
	info = access_info(self->mfd, id);
	EXPECT_EQ(1, info.out_unmap_calls);
	EXPECT_EQ(IOVA, info.out_last_unmap_iova);
	EXPECT_EQ(LEN / 2, info.out_last_unmap_length);
	EXPECT_EQ(1, info.out_pins);
	EXPECT_EQ(0, access_info(self->mfd, other).out_unmap_calls);
	EXPECT_EQ(self->vmlck + (long)(LEN / 2048), vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN / 2, 0);
	ASSERT_PINNED(self->mfd, self->buf + LEN / 2, LEN / 2, 1);
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA + LEN / 2, self->buf + LEN / 2,
				LEN / 2));

	/* Unmap-all: both are told, both unpin, nothing stays pinned. */
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	EXPECT_EQ(2, access_info(self->mfd, id).out_unmap_calls);
	EXPECT_EQ(1, access_info(self->mfd, other).out_unmap_calls);
	EXPECT_EQ(0, access_info(self->mfd, id).out_pins);
	EXPECT_EQ(0, access_info(self->mfd, other).out_pins);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_EQ(0, mock_pin_max(self->mfd, self->buf, LEN));
	/* A range without pins costs no callback. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	EXPECT_EQ(2, access_info(self->mfd, id).out_unmap_calls);
}

TEST_F(access, driver_keeps_pins)
{
	unsigned char b[16];
	__u64 unmapped = 0;
	__u32 id;

	ASSERT_EQ(0, write_param("access_unmap_timeout_ms", "200"));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN | IOASID_MOCK_ACCESS_NO_UNPIN,
				   &id));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA, PSZ, NULL, 0));

	/* Told, does not unpin: UNMAP fails and the mapping stays whole. */
	EXPECT_EQ(-EBUSY, ioasid_unmap(self->fd, self->ioas, IOVA, LEN, &unmapped));
	EXPECT_LE(1, access_info(self->mfd, id).out_unmap_calls);
	EXPECT_EQ(0, acc_rw(self->mfd, id, IOVA + LEN - sizeof(b), sizeof(b), b, 0));
	EXPECT_EQ(0, memcmp(b, self->buf + LEN - sizeof(b), sizeof(b)));
	EXPECT_EQ(-EBUSY, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	EXPECT_EQ(self->vmlck + (long)(LEN / 1024), vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA, self->buf, LEN));

	/* Once it lets go, UNMAP works. */
	ASSERT_EQ(0, acc_unpin(self->mfd, id, IOVA, PSZ));
	EXPECT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	EXPECT_EQ(LEN, unmapped);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 0);
}

TEST_F(access, map_calls_back)
{
	__u32 id, dst;
	__u64 iova = IOVA;

	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas, 0, &id));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, dst, self->buf, LEN, IOVA));
	EXPECT_EQ(0, access_info(self->mfd, id).out_map_calls);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	EXPECT_EQ(1, access_info(self->mfd, id).out_map_calls);
	iova = IOVA + LEN;
	ASSERT_EQ(0, ioasid_copy(self->fd, self->ioas, dst, IOVA, LEN, &iova,
				 MAP_FIXED_RW));
	EXPECT_EQ(2, access_info(self->mfd, id).out_map_calls);

	/* A mirror made later learns the two existing mappings by replay. */
	ASSERT_EQ(0, access_destroy(self->mfd, id));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_REPLAY, &id));
	EXPECT_EQ(2, access_info(self->mfd, id).out_map_calls);
}

TEST_F(access, holds_ioas_and_context)
{
	unsigned char b[32];
	__u32 id;

	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &id));
	/* debugfs counts the IOAS's accesses. */
	EXPECT_EQ(1, ioasid_debugfs_count("object", " accesses 1"));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA, 2 * PSZ, NULL, 0));
	EXPECT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas));

	/* The context outlives its fd while the access holds it. */
	close(self->fd);
	self->fd = ioasid_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, acc_rw(self->mfd, id, IOVA + 5, sizeof(b), b, 0));
	ASSERT_EQ(0, memcmp(b, self->buf + 5, sizeof(b)));
	EXPECT_EQ(self->vmlck + (long)(LEN / 1024), vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA, self->buf, LEN));

	/* The driver goes (with its pins unpinned as it must): all released. */
	ASSERT_EQ(0, access_destroy(self->mfd, id));
	EXPECT_EQ(0, ioasid_debugfs_count("object", " accesses 1"));
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_EQ(0, mock_pin_max(self->mfd, self->buf, LEN));
}

/*
 * Hot-remove of the devices of an IOAS while an emulated access holds pins
 * on it: the devices leave (the last one takes the IOAS's domain with it),
 * the access keeps its pins and its view of the memory, nothing is pinned
 * or charged twice, a device attached afterwards gets every mapping, and
 * the unmap that follows still calls the access back and releases it all.
 */
TEST_F(access, dev_del_while_pinned)
{
	unsigned char b[64];
	__u32 m1, m2, m3, id1, id2, id3, id;
	long locked;

	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	locked = vm_locked_kb();
	ASSERT_EQ(self->vmlck + (long)(LEN / 1024), locked);
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &id));
	ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA + PSZ, 2 * PSZ, NULL, 0));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* The device that made the domain leaves; the other keeps it. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(1, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, IOVA, self->buf, LEN, NULL));
	ASSERT_EQ(0, acc_rw(self->mfd, id, IOVA + PSZ + 3, sizeof(b), b, 0));
	ASSERT_EQ(0, memcmp(b, self->buf + PSZ + 3, sizeof(b)));
	EXPECT_EQ(1, access_info(self->mfd, id).out_pins);

	/* The last device leaves: the domain goes, the access stays. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	ASSERT_EQ(0, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(1, ioasid_debugfs_count("object", " domains 0 accesses 1"));
	ASSERT_EQ(0, check_ends(self->mfd, id, IOVA, self->buf, LEN));
	EXPECT_EQ(1, access_info(self->mfd, id).out_pins);
	EXPECT_EQ(0, access_info(self->mfd, id).out_unmap_calls);
	EXPECT_EQ(locked, vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* A device attached now gets every mapping, from the same pins. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m3, &id3));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id3, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_check_map(self->mfd, m3, IOVA, self->buf, LEN, NULL));
	EXPECT_EQ(locked, vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);

	/* UNMAP calls the access back and releases everything. */
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &(__u64){ 0 }));
	EXPECT_EQ(1, access_info(self->mfd, id).out_unmap_calls);
	EXPECT_EQ(0, access_info(self->mfd, id).out_pins);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_EQ(0, mock_pin_max(self->mfd, self->buf, LEN));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m3, IOVA, self->buf, PSZ, NULL));
	ASSERT_EQ(0, access_destroy(self->mfd, id));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m3));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
	write_param("allow_unsafe_interrupts", "0");
}

TEST_F(access, software_nesting_parent_unmap)
{
	struct ioasid_mock_access_info info;
	__u64 giova = 0x40000000UL, unmapped;
	unsigned char b[64];
	__u32 id, child;

	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	ASSERT_EQ(0, ioasid_sw_child_alloc(self->fd, self->ioas, &child));
	/* GIOVA -> the second half of the parent's range. */
	ASSERT_EQ(0, ioasid_copy_fixed(self->fd, child, self->ioas, IOVA + LEN / 2,
				       LEN / 2, giova));
	ASSERT_EQ(0, access_create(self->mfd, self->fd, child,
				   IOASID_MOCK_ACCESS_PIN, &id));
	ASSERT_EQ(0, acc_rw(self->mfd, id, giova, sizeof(b), b, 0));
	ASSERT_EQ(0, memcmp(b, self->buf + LEN / 2, sizeof(b)));
	ASSERT_EQ(0, acc_pin(self->mfd, id, giova + PSZ, PSZ, NULL, 0));
	ASSERT_PINNED(self->mfd, self->buf, LEN, 1);
	ASSERT_EQ(0, check_ends(self->mfd, id, giova, self->buf + LEN / 2, LEN / 2));

	/* The parent's UNMAP tells the child's access, by the child's IOVA. */
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	info = access_info(self->mfd, id);
	EXPECT_EQ(1, info.out_unmap_calls);
	EXPECT_EQ(giova, info.out_last_unmap_iova);
	EXPECT_EQ(LEN / 2, info.out_last_unmap_length);
	EXPECT_EQ(0, info.out_pins);
	EXPECT_EQ(-ENOENT, acc_rw(self->mfd, id, giova, sizeof(b), b, 0));
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_PINNED(self->mfd, self->buf, LEN, 0);
	ASSERT_EQ(0, access_destroy(self->mfd, id));
	ASSERT_EQ(0, ioasid_destroy(self->fd, child));
}

struct stress_arg {
	int mfd;
	__u32 id;
	volatile bool stop;
	unsigned long pins;
};

static void *pinner(void *p)
{
	struct stress_arg *a = p;
	unsigned char b[64];
	unsigned int i = 0;

	while (!a->stop) {
		__u64 iova = IOVA + (i++ % NPAGES) * PSZ;

		if (!acc_pin(a->mfd, a->id, iova, PSZ, NULL, 0)) {
			a->pins++;
			/* Either still pinned, or the unmap callback took it. */
			acc_unpin(a->mfd, a->id, iova, PSZ);
		}
		acc_rw(a->mfd, a->id, iova, sizeof(b), b, 0);
	}
	return NULL;
}

TEST_F(access, stress_pin_against_unmap)
{
	struct stress_arg a = { .mfd = self->mfd };
	pthread_t t[2];
	unsigned int i;
	__u64 unmapped;

	ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
				   IOASID_MOCK_ACCESS_PIN, &a.id));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, pinner, &a));
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
		ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
		ASSERT_EQ(LEN, unmapped);
	}
	a.stop = true;
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	TH_LOG("%lu pins raced 300 map/unmap rounds", a.pins);
	EXPECT_EQ(0, access_info(self->mfd, a.id).out_pins);
	EXPECT_EQ(self->vmlck, vm_locked_kb());
	EXPECT_EQ(0, mock_pin_max(self->mfd, self->buf, LEN));
	EXPECT_EQ(0, access_destroy(self->mfd, a.id));
}

TEST_F_TIMEOUT(access, fail_nth, 300)
{
	unsigned int nth, step;
	long pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, LEN, IOVA));
	for (step = 0; step < 3; step++) {
		TEST_FAIL_NTH(nth, 2000, pending) {
			__u64 unmapped = 0;
			__u32 id = 0;
			int rc = 0;

			if (step >= 1)
				ASSERT_EQ(0, access_create(self->mfd, self->fd, self->ioas,
							   IOASID_MOCK_ACCESS_PIN, &id));
			if (step == 2)
				ASSERT_EQ(0, acc_pin(self->mfd, id, IOVA, 2 * PSZ, NULL, 0));
			switch (step) {
			case 0:
				FAIL_NTH_CALL(nth, pending,
					      rc = access_create(self->mfd, self->fd, self->ioas,
								 IOASID_MOCK_ACCESS_PIN, &id));
				break;
			case 1:
				FAIL_NTH_CALL(nth, pending,
					      rc = acc_pin(self->mfd, id, IOVA, 2 * PSZ, NULL, 0));
				break;
			case 2:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_unmap_all(self->fd, self->ioas, &unmapped));
				break;
			}
			if (rc)
				ASSERT_EQ(-ENOMEM, rc);
			switch (step) {
			case 0:
				if (!rc)
					ASSERT_EQ(0, access_destroy(self->mfd, id));
				break;
			case 1:
				ASSERT_EQ(rc ? 0 : 1, access_info(self->mfd, id).out_pins);
				ASSERT_EQ(0, access_destroy(self->mfd, id));
				break;
			case 2:
				/* Failed: nothing unmapped, the pin stays. */
				ASSERT_EQ(rc ? 1 : 0, access_info(self->mfd, id).out_pins);
				ASSERT_EQ(0, access_destroy(self->mfd, id));
				if (!rc)
					ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas,
								      self->buf, LEN, IOVA));
				break;
			}
			ASSERT_EQ(self->vmlck + (long)(LEN / 1024), vm_locked_kb());
		}
		TH_LOG("step %u: %u injection points", step, nth - 1);
	}
}

TEST_HARNESS_MAIN
