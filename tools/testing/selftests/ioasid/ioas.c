// SPDX-License-Identifier: GPL-2.0
/*
 * I/O address spaces: MAP, UNMAP, COPY, IOVA_RANGES and IOAS_OPTION, with
 * mock IOMMU domains behind them (through the real iommu core): contents
 * read back from the domains, pin counts and locked_vm read back after every
 * step, replay into late domains, reserved regions, apertures, the memlock
 * limit, concurrency and allocation failures.
 */
#include <poll.h>
#include <pthread.h>
#include <time.h>
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define BUF_SIZE	(4UL << 20)
#define PSZ		4096UL
#define MB		(1UL << 20)

static void *alloc_buf(size_t len, size_t align)
{
	char *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *a;

	if (p == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)p + align - 1) & ~(align - 1));
	/*
	 * Small pages: a THP's pin count is per folio, so counting pins of
	 * part of one would count the whole folio's.
	 */
	madvise(a, len, MADV_NOHUGEPAGE);
	memset(a, 0x5a, len);
	return a;
}

FIXTURE(ioas) {
	int fd;
	int mfd;
	int chk;	/* a second mock file for pin counts, outliving mfd */
	__u32 ioas;
	__u32 mock[2];
	char *buf;
	long vmlck;
};

FIXTURE_VARIANT(ioas) {
	int ndev;		/* mock devices attached in setup */
	__u32 flags[2];		/* their flags */
	bool tiny_batch;	/* pin one page per pin_user_pages call */
};

FIXTURE_VARIANT_ADD(ioas, no_domain) {
	.ndev = 0,
};

FIXTURE_VARIANT_ADD(ioas, one_domain) {
	.ndev = 1,
};

FIXTURE_VARIANT_ADD(ioas, two_domains) {
	.ndev = 2,
	.flags = { 0, IOASID_MOCK_DEV_INSTANCE2 },
};

FIXTURE_VARIANT_ADD(ioas, huge) {
	.ndev = 1,
	.flags = { IOASID_MOCK_DEV_HUGE },
};

FIXTURE_VARIANT_ADD(ioas, tiny_batch) {
	.ndev = 1,
	.tiny_batch = true,
};

FIXTURE_SETUP(ioas)
{
	int i;

	if (!MOCK_FIXTURE_SETUP(self))
		return;
	self->chk = mock_open();
	ASSERT_LE(0, self->chk);
	ASSERT_EQ(0, write_param("pin_batch", variant->tiny_batch ? "1" : "512"));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas));
	for (i = 0; i < variant->ndev; i++) {
		ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, variant->flags[i],
					  &self->mock[i], NULL));
		ASSERT_EQ(0, mock_attach(self->mfd, self->mock[i], self->ioas));
	}
	self->buf = alloc_buf(BUF_SIZE, 2 * MB);
	ASSERT_NE(NULL, self->buf);
	/* Neither devices nor an IOAS without mappings charge anything. */
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

FIXTURE_TEARDOWN(ioas)
{
	/* Nothing stays pinned or charged once everything is closed. */
	MOCK_FIXTURE_TEARDOWN(self, BUF_SIZE);
	EXPECT_EQ(0, mock_pin_max(self->chk, self->buf, BUF_SIZE));
	close(self->chk);
	write_param("pin_batch", "512");
}

/* Every device of the fixture sees [iova, iova + len) as va. */
static int check_all(FIXTURE_DATA(ioas) *self, int ndev, __u64 iova, void *va,
		     __u64 len)
{
	int i, rc;

	for (i = 0; i < ndev; i++) {
		rc = mock_check_map(self->mfd, self->mock[i], iova, va, len, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

TEST_F(ioas, map_unmap)
{
	__u64 unmapped = 0;

	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 16 * MB));
	ASSERT_EQ(0, check_all(self, variant->ndev, 16 * MB, self->buf, MB));
	ASSERT_PINNED(self->chk, self->buf, MB, 1);
	ASSERT_EQ(self->vmlck + (long)(MB / 1024), vm_locked_kb());
	/* The rest of the buffer is not pinned. */
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf + MB, MB));

	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 16 * MB, MB, &unmapped));
	ASSERT_EQ(MB, unmapped);
	if (variant->ndev) {
		ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, self->mock[0], 16 * MB,
						  self->buf, PSZ, NULL));
	}
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, MB));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(-ENOENT, ioasid_unmap(self->fd, self->ioas, 16 * MB, MB, NULL));
}

TEST_F(ioas, map_contents_every_page)
{
	__u64 iova = 64 * MB;
	unsigned long off;

	/* Scatter the physical pages: map page-sized pieces of a fresh buffer. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, BUF_SIZE, iova));
	ASSERT_EQ(0, check_all(self, variant->ndev, iova, self->buf, BUF_SIZE));
	ASSERT_PINNED(self->chk, self->buf, BUF_SIZE, 1);
	/* The first and the last page of the run. */
	ASSERT_EQ(0, check_all(self, variant->ndev, iova, self->buf, PSZ));
	ASSERT_EQ(0, check_all(self, variant->ndev, iova + BUF_SIZE - PSZ,
			       self->buf + BUF_SIZE - PSZ, PSZ));
	for (off = 0; off < BUF_SIZE; off += 64 * PSZ) {
		ASSERT_EQ(0, check_all(self, variant->ndev, iova + off,
				       self->buf + off, PSZ));
	}
	/* A wrong expectation is caught: the mock compares frames. */
	if (variant->ndev) {
		ASSERT_EQ(-EINVAL, mock_check_map(self->mfd, self->mock[0], iova,
						  self->buf + PSZ, PSZ, NULL));
	}
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_PINNED(self->chk, self->buf, BUF_SIZE, 0);
}

TEST_F(ioas, map_auto_iova)
{
	__u64 a = 0, b = 0, c = 0;

	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf, 2 * MB, &a, MAP_RW));
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf + 2 * MB, PSZ, &b, MAP_RW));
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf + 3 * MB, MB, &c, MAP_RW));
	/* Aligned for huge IOPTEs where the memory allows, and disjoint. */
	ASSERT_EQ(0, a % (2 * MB));
	ASSERT_EQ(0, c % MB);
	ASSERT_TRUE(b + PSZ <= a || b >= a + 2 * MB);
	ASSERT_TRUE(c + MB <= a || c >= a + 2 * MB);
	ASSERT_TRUE(c + MB <= b || c >= b + PSZ);
	ASSERT_EQ(0, check_all(self, variant->ndev, a, self->buf, 2 * MB));
	ASSERT_EQ(0, check_all(self, variant->ndev, b, self->buf + 2 * MB, PSZ));
	ASSERT_EQ(0, check_all(self, variant->ndev, c, self->buf + 3 * MB, MB));
	ASSERT_PINNED(self->chk, self->buf, 2 * MB + PSZ, 1);
	ASSERT_PINNED(self->chk, self->buf + 2 * MB + PSZ, MB - PSZ, 0);
	ASSERT_PINNED(self->chk, self->buf + 3 * MB, MB, 1);
	/* The last page of each run. */
	ASSERT_EQ(0, check_all(self, variant->ndev, a + 2 * MB - PSZ,
			       self->buf + 2 * MB - PSZ, PSZ));
	ASSERT_EQ(0, check_all(self, variant->ndev, c + MB - PSZ,
			       self->buf + 4 * MB - PSZ, PSZ));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_PINNED(self->chk, self->buf, BUF_SIZE, 0);
}

TEST_F(ioas, map_errors)
{
	struct ioasid_map cmd = { .size = sizeof(cmd), .flags = MAP_FIXED_RW,
				  .ioas_id = self->ioas, .user_va = (uintptr_t)self->buf,
				  .length = MB, .iova = 32 * MB };
	struct ioasid_map c;
	void *ro, *hole;
	__u64 iova;

	c = cmd; c.length = 0;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.length = PSZ + 1;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.user_va += 1;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.iova += 512;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.flags = IOASID_MAP_FIXED_IOVA;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.iova = -PSZ;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.user_va = -PSZ;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.flags |= 1 << 8;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.ioas_id = 0;
	ASSERT_EQ(-ENOENT, ioasid_ioctl(self->fd, IOASID_MAP, &c));
	c = cmd; c.ioas_id = self->ioas + 100;
	ASSERT_EQ(-ENOENT, ioasid_ioctl(self->fd, IOASID_MAP, &c));

	/* Memory that is not there, or not writable for a WRITE mapping. */
	hole = mmap(NULL, 4 * PSZ, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	ASSERT_EQ(-EFAULT, ioasid_map_fixed(self->fd, self->ioas, hole, 4 * PSZ, 32 * MB));
	ro = mmap(NULL, 4 * PSZ, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_EQ(-EFAULT, ioasid_map_fixed(self->fd, self->ioas, ro, 4 * PSZ, 32 * MB));
	iova = 32 * MB;
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, ro, 4 * PSZ, &iova,
				IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 32 * MB, 4 * PSZ, NULL));
	/* The first pages there, the last not: nothing stays pinned. */
	ASSERT_EQ(0, mprotect(hole, 3 * PSZ, PROT_READ | PROT_WRITE));
	memset(hole, 1, 3 * PSZ);
	ASSERT_EQ(-EFAULT, ioasid_map_fixed(self->fd, self->ioas, hole, 4 * PSZ, 32 * MB));
	ASSERT_EQ(0, mock_pin_max(self->chk, hole, 3 * PSZ));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	munmap(hole, 4 * PSZ);

	/* Overlaps of every shape: EEXIST, and nothing changes. */
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_MAP, &cmd));
	ASSERT_EQ(-EEXIST, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 32 * MB));
	ASSERT_EQ(-EEXIST, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, 33 * MB - PSZ));
	ASSERT_EQ(-EEXIST, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 32 * MB - PSZ));
	ASSERT_EQ(-EEXIST, ioasid_map_fixed(self->fd, self->ioas, self->buf, 4 * MB, 30 * MB));
	ASSERT_EQ(-EEXIST, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, 32 * MB + 8 * PSZ));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, PSZ, 33 * MB));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, PSZ, 32 * MB - PSZ));
	ASSERT_EQ(self->vmlck + (long)(MB + 2 * PSZ) / 1024, vm_locked_kb());
	ASSERT_EQ(0, check_all(self, variant->ndev, 32 * MB, self->buf, MB));
	/* Two MAPs of one page pin it twice; the failed ones not at all. */
	ASSERT_PINNED(self->chk, self->buf, MB, 1);
	ASSERT_PINNED(self->chk, self->buf + MB, PSZ, 2);
	ASSERT_PINNED(self->chk, self->buf + MB + PSZ, BUF_SIZE - MB - PSZ, 0);
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	munmap(ro, 4 * PSZ);
}

TEST_F(ioas, unmap_rules)
{
	struct ioasid_unmap cmd = { .size = sizeof(cmd), .ioas_id = self->ioas };
	__u64 unmapped;

	ASSERT_EQ(-ENOENT, ioasid_unmap(self->fd, self->ioas, 0, MB, NULL));
	ASSERT_EQ(-ENOENT, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 0, 0, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 100, PSZ, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, -PSZ, 2 * PSZ, NULL));
	cmd.flags = IOASID_UNMAP_ALL;
	cmd.iova = PSZ;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_UNMAP, &cmd));
	cmd.flags = 2;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_UNMAP, &cmd));
	ASSERT_EQ(-ENOENT, ioasid_unmap(self->fd, self->ioas + 100, 0, PSZ, NULL));

	/* Three mappings with holes between them. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 8 * MB));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, MB, 10 * MB));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + 2 * MB, MB, 12 * MB));

	/* A range that cuts a mapping unmaps nothing. */
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 8 * MB, PSZ, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 9 * MB - PSZ, 2 * MB, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 7 * MB, 5 * MB + PSZ, NULL));
	ASSERT_EQ(-EINVAL, ioasid_unmap(self->fd, self->ioas, 8 * MB, 5 * MB - PSZ, NULL));
	ASSERT_EQ(0, check_all(self, variant->ndev, 8 * MB, self->buf, MB));
	ASSERT_EQ(0, check_all(self, variant->ndev, 12 * MB, self->buf + 2 * MB, MB));
	ASSERT_EQ(self->vmlck + 3 * 1024, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf, 3 * MB, 1);

	/* A range covering whole mappings and holes unmaps those mappings. */
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 4 * MB, 7 * MB, &unmapped));
	ASSERT_EQ(2 * MB, unmapped);
	ASSERT_EQ(self->vmlck + 1024, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf, 2 * MB, 0);
	ASSERT_PINNED(self->chk, self->buf + 2 * MB, MB, 1);
	ASSERT_EQ(0, check_all(self, variant->ndev, 12 * MB, self->buf + 2 * MB, MB));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, &unmapped));
	ASSERT_EQ(MB, unmapped);
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, BUF_SIZE));
}

/* COPY shares the pin and the charge, across IOAS and within one. */
TEST_F(ioas, copy_shares_pages)
{
	__u32 other;
	__u64 dst = 100 * MB, unmapped;
	int other_mock = 0;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	if (variant->ndev) {
		ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, (__u32 *)&other_mock, NULL));
		ASSERT_EQ(0, mock_attach(self->mfd, other_mock, other));
	}
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 8 * MB));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, MB, 9 * MB));
	ASSERT_EQ(self->vmlck + 2048, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf, 2 * MB, 1);

	/* A range spanning two mappings, partly: one piece each. */
	ASSERT_EQ(0, ioasid_copy(self->fd, other, self->ioas, 8 * MB + 64 * PSZ, MB,
				 &dst, MAP_FIXED_RW));
	ASSERT_EQ(100 * MB, dst);
	ASSERT_EQ(self->vmlck + 2048, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf, 2 * MB, 1);
	if (variant->ndev) {
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, dst,
					    self->buf + 64 * PSZ, MB, NULL));
		/* The first and the last page of each piece. */
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, dst,
					    self->buf + 64 * PSZ, PSZ, NULL));
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, dst + MB - 64 * PSZ - PSZ,
					    self->buf + MB - PSZ, PSZ, NULL));
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, dst + MB - 64 * PSZ,
					    self->buf + MB, PSZ, NULL));
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, dst + MB - PSZ,
					    self->buf + MB + 63 * PSZ, PSZ, NULL));
	}
	/* Within the same IOAS, at an IOVA the kernel picks. */
	dst = 0;
	ASSERT_EQ(0, ioasid_copy(self->fd, self->ioas, self->ioas, 8 * MB, 2 * MB, &dst, MAP_RW));
	ASSERT_EQ(0, check_all(self, variant->ndev, dst, self->buf, 2 * MB));
	ASSERT_PINNED(self->chk, self->buf, 2 * MB, 1);

	/* The source going away leaves the copies working and pinned. */
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 8 * MB, 2 * MB, &unmapped));
	ASSERT_EQ(2 * MB, unmapped);
	ASSERT_EQ(self->vmlck + 2048, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf + 64 * PSZ, MB, 1);
	if (variant->ndev) {
		ASSERT_EQ(0, mock_check_map(self->mfd, other_mock, 100 * MB,
					    self->buf + 64 * PSZ, MB, NULL));
	}
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	/* Only pages no mapping uses are released, as a whole run. */
	ASSERT_EQ(self->vmlck + 2048, vm_locked_kb());
	ASSERT_PINNED(self->chk, self->buf, 2 * MB, 1);
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, other, &unmapped));
	ASSERT_EQ(MB, unmapped);
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, 2 * MB));
	if (variant->ndev) {
		ASSERT_EQ(0, mock_detach(self->mfd, other_mock));
	}
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
}

TEST_F(ioas, copy_errors)
{
	__u64 dst = 100 * MB, iova = 8 * MB;
	__u32 other;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 8 * MB));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + 2 * MB, MB, 10 * MB));
	/* A hole in the source range. */
	ASSERT_EQ(-ENOENT, ioasid_copy(self->fd, other, self->ioas, 8 * MB, 3 * MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-ENOENT, ioasid_copy(self->fd, other, self->ioas, 9 * MB, MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-ENOENT, ioasid_copy(self->fd, other, self->ioas, 7 * MB, 2 * MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-ENOENT, ioasid_copy(self->fd, other, self->ioas + 100, 8 * MB, MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-ENOENT, ioasid_copy(self->fd, other + 100, self->ioas, 8 * MB, MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-EINVAL, ioasid_copy(self->fd, other, self->ioas, 8 * MB, 0, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-EINVAL, ioasid_copy(self->fd, other, self->ioas, 8 * MB + 1, PSZ, &dst, MAP_FIXED_RW));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_copy(self->fd, other, self->ioas, 8 * MB, PSZ, &dst, 1 << 9));
	/* Destination overlaps: EEXIST, also within the same IOAS. */
	ASSERT_EQ(-EEXIST, ioasid_copy(self->fd, self->ioas, self->ioas, 8 * MB, MB, &iova, MAP_FIXED_RW));
	/* Read-only memory cannot be copied writable. */
	iova = 20 * MB;
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf + 3 * MB, MB, &iova,
				IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(-EPERM, ioasid_copy(self->fd, other, self->ioas, 20 * MB, MB, &dst, MAP_FIXED_RW));
	ASSERT_EQ(0, ioasid_copy(self->fd, other, self->ioas, 20 * MB, MB, &dst,
				 IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ));
	ASSERT_EQ(self->vmlck + 3 * 1024, vm_locked_kb());
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

static int get_ranges(int fd, __u32 ioas, struct ioasid_iova_range *r,
		      __u32 *num, __u64 *align)
{
	struct ioasid_iova_ranges cmd = { .size = sizeof(cmd), .ioas_id = ioas,
					  .num_ranges = *num, .ranges = (uintptr_t)r };
	int rc = ioasid_ioctl(fd, IOASID_IOVA_RANGES, &cmd);

	*num = cmd.num_ranges;
	if (align)
		*align = cmd.out_iova_alignment;
	return rc;
}

TEST_F(ioas, iova_ranges)
{
	struct ioasid_iova_range r[4];
	__u32 num = 0, resv_mock;
	__u64 align;

	ASSERT_EQ(-EMSGSIZE, get_ranges(self->fd, self->ioas, NULL, &num, NULL));
	ASSERT_EQ(1, num);
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, &align));
	ASSERT_EQ(1, num);
	ASSERT_EQ(PSZ, align);	/* mock IOPTEs are 2K: the CPU page rules */
	ASSERT_EQ(0, r[0].start);
	if (variant->ndev) {
		ASSERT_EQ(IOASID_MOCK_APERTURE_LAST, r[0].last);
	} else {
		ASSERT_EQ(~0ULL, r[0].last);
	}
	ASSERT_EQ(-ENOENT, get_ranges(self->fd, self->ioas + 100, r, &num, NULL));

	/* A device with a reserved region splits the range. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_RESV, &resv_mock, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, resv_mock, self->ioas));
	num = 1;
	ASSERT_EQ(-EMSGSIZE, get_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(2, num);
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(2, num);
	ASSERT_EQ(0, r[0].start);
	ASSERT_EQ(IOASID_MOCK_RESV_START - 1, r[0].last);
	ASSERT_EQ(IOASID_MOCK_RESV_LAST + 1, r[1].start);
	ASSERT_EQ(IOASID_MOCK_APERTURE_LAST, r[1].last);
	/* Mapping into it is refused; auto IOVAs avoid it. */
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
						IOASID_MOCK_RESV_START));
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, 2 * MB,
						IOASID_MOCK_RESV_START - MB));
	ASSERT_EQ(0, mock_detach(self->mfd, resv_mock));
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
				      IOASID_MOCK_RESV_START));
	/* Now the region is mapped, the device cannot attach; nothing changes. */
	ASSERT_EQ(-EADDRINUSE, mock_attach(self->mfd, resv_mock, self->ioas));
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(1, num);
	ASSERT_EQ(0, check_all(self, variant->ndev, IOASID_MOCK_RESV_START, self->buf, PSZ));
	ASSERT_EQ(0, mock_dev_del(self->mfd, resv_mock));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
}

TEST_F(ioas, aperture_and_alignment)
{
	struct ioasid_iova_range r[4];
	__u32 small, big, num = 4;
	__u64 align, iova = 0;

	/* An area above 4 GiB keeps a 4 GiB-aperture device out. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, 8ULL << 30));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_SMALL_APERTURE, &small, NULL));
	ASSERT_EQ(-ERANGE, mock_attach(self->mfd, small, self->ioas));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, small, self->ioas));
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, NULL));
	ASSERT_EQ(1, num);
	ASSERT_EQ(IOASID_MOCK_SMALL_APERTURE_LAST, r[0].last);
	ASSERT_EQ(-ERANGE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, 8ULL << 30));
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf, MB, &iova, MAP_RW));
	ASSERT_LT(iova, 1ULL << 32);
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(0, mock_detach(self->mfd, small));

	/* A device whose smallest IOPTE is 16K raises the alignment. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, MB + PSZ));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_BIG_PGSIZE, &big, NULL));
	ASSERT_EQ(-ERANGE, mock_attach(self->mfd, big, self->ioas));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, big, self->ioas));
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, &align));
	ASSERT_EQ(IOASID_MOCK_BIG_PGSIZE, align);
	ASSERT_EQ(-ERANGE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ, MB));
	ASSERT_EQ(-ERANGE, ioasid_map_fixed(self->fd, self->ioas, self->buf, 4 * PSZ, MB + PSZ));
	ASSERT_EQ(0, mock_detach(self->mfd, big));
	num = 4;
	ASSERT_EQ(0, get_ranges(self->fd, self->ioas, r, &num, &align));
	ASSERT_EQ(PSZ, align);
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

/* A device arriving at a populated IOAS sees every existing mapping. */
TEST_F(ioas, replay_into_new_domain)
{
	struct ioasid_mock_domain_info info;
	__u32 late, first_serial = 0;
	__u64 iova = 0;

	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 8 * MB));
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf + 2 * MB, 2 * MB, &iova, MAP_RW));
	if (variant->ndev) {
		ASSERT_EQ(0, mock_domain_info(self->mfd, self->mock[0], &info));
		first_serial = info.out_domain_serial;
	}
	/* The second instance cannot share a domain: a new one is filled. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_INSTANCE2, &late, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, late, self->ioas));
	ASSERT_EQ(0, mock_check_map(self->mfd, late, 8 * MB, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_check_map(self->mfd, late, iova, self->buf + 2 * MB, 2 * MB, NULL));
	ASSERT_EQ(0, mock_domain_info(self->mfd, late, &info));
	ASSERT_NE(0, info.out_domain_serial);
	ASSERT_NE(first_serial, info.out_domain_serial);
	ASSERT_EQ(3 * MB, info.out_mapped);
	/* One pin, one charge, however many domains. */
	ASSERT_PINNED(self->chk, self->buf, MB, 1);
	ASSERT_PINNED(self->chk, self->buf + MB, MB, 0);
	ASSERT_PINNED(self->chk, self->buf + 2 * MB, 2 * MB, 1);
	ASSERT_EQ(self->vmlck + 3 * 1024, vm_locked_kb());

	/* New mappings reach every domain; unmaps leave every domain. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, MB, 64 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, late, 64 * MB, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, check_all(self, variant->ndev, 64 * MB, self->buf + MB, MB));
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 8 * MB, MB, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, late, 8 * MB, self->buf, PSZ, NULL));

	/* The device leaving empties and frees its domain, pins stay. */
	ASSERT_EQ(0, mock_detach(self->mfd, late));
	ASSERT_EQ(0, mock_domain_info(self->mfd, late, &info));
	ASSERT_EQ(0, info.out_domain_serial);
	ASSERT_PINNED(self->chk, self->buf + MB, MB, 1);
	ASSERT_EQ(0, check_all(self, variant->ndev, 64 * MB, self->buf + MB, MB));
	/* A same-instance device shares the existing domain. */
	if (variant->ndev && !variant->flags[0]) {
		__u32 twin;

		ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &twin, NULL));
		ASSERT_EQ(0, mock_attach(self->mfd, twin, self->ioas));
		ASSERT_EQ(0, mock_domain_info(self->mfd, twin, &info));
		ASSERT_EQ(first_serial, info.out_domain_serial);
		ASSERT_EQ(0, mock_dev_del(self->mfd, twin));
	}
	ASSERT_EQ(0, mock_dev_del(self->mfd, late));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
}

/*
 * UNMAP returns only once every domain's IOTLB is synced: the mock IOTLB
 * would otherwise still translate the unmapped IOVAs (CHECK_MAP: EBUSY).
 * Partial unmaps and UNMAP_ALL, in the fixture's domains and in those of a
 * second IOAS.
 */
TEST_F(ioas, unmap_syncs_iotlb)
{
	__u64 iova = 0;
	__u32 other, m;
	int i;

	if (!variant->ndev)
		SKIP(return, "no domain to sync");
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 16 * MB));
	ASSERT_EQ(0, ioasid_map(self->fd, self->ioas, self->buf + 2 * MB, 2 * MB, &iova, MAP_RW));
	ASSERT_EQ(0, check_all(self, variant->ndev, 16 * MB, self->buf, MB));
	for (i = 0; i < variant->ndev; i++)
		ASSERT_EQ(0, mock_unsynced(self->mfd, self->mock[i], 0, 0));

	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 16 * MB, MB, NULL));
	for (i = 0; i < variant->ndev; i++) {
		ASSERT_EQ(0, mock_unsynced(self->mfd, self->mock[i], 0, 0));
		ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, self->mock[i], 16 * MB,
						  self->buf, PSZ, NULL));
		ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, self->mock[i], 17 * MB - PSZ,
						  self->buf + MB - PSZ, PSZ, NULL));
	}
	ASSERT_EQ(0, check_all(self, variant->ndev, iova, self->buf + 2 * MB, 2 * MB));

	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	for (i = 0; i < variant->ndev; i++) {
		ASSERT_EQ(0, mock_unsynced(self->mfd, self->mock[i], 0, 0));
		ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, self->mock[i], iova,
						  self->buf + 2 * MB, PSZ, NULL));
	}

	/* A second IOAS, with a device of its own, the same memory mapped. */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, other, self->buf, MB, 32 * MB));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, variant->flags[0], &m, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, m, other));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 32 * MB, self->buf, MB, NULL));
	ASSERT_EQ(0, ioasid_unmap(self->fd, other, 32 * MB, MB, NULL));
	ASSERT_EQ(0, mock_unsynced(self->mfd, m, 0, 0));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 32 * MB, self->buf, PSZ, NULL));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

TEST_F(ioas, destroy_while_attached)
{
	__u32 other, m;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, m, other));
	ASSERT_EQ(-EBUSY, mock_attach(self->mfd, m, self->ioas));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, other));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, other, self->buf, MB, 0));
	ASSERT_PINNED(self->chk, self->buf, MB, 1);
	ASSERT_EQ(0, mock_detach(self->mfd, m));
	ASSERT_EQ(0, mock_detach(self->mfd, m));
	/* Destroying an IOAS with mappings releases them. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, MB));
	ASSERT_EQ(-ENOENT, mock_attach(self->mfd, m, other));
	/* A device's ID is not destroyable by user space. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
}

TEST_F(ioas, huge_ioptes)
{
	struct ioasid_ioas_option opt = { .size = sizeof(opt), .op = IOASID_OPTION_OP_GET,
					  .option = IOASID_OPTION_HUGE_PAGES,
					  .ioas_id = self->ioas };
	__u64 huge = 0;
	char *thp;
	__u32 m, ioas2;

	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	ASSERT_EQ(1, opt.val);
	opt.op = 7;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	opt.op = IOASID_OPTION_OP_SET;
	opt.option = 9;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	opt.option = IOASID_OPTION_HUGE_PAGES;
	opt.val = 2;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	opt.val = 0;
	if (variant->ndev) {
		ASSERT_EQ(-EBUSY, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	}

	if (access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK))
		SKIP(return, "no transparent huge pages in this kernel");
	thp = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, thp);
	thp = (char *)(((uintptr_t)thp + 2 * MB - 1) & ~(2 * MB - 1));
	ASSERT_EQ(0, madvise(thp, 4 * MB, MADV_HUGEPAGE));
	memset(thp, 1, 4 * MB);

	/* A huge-capable device on an IOAS with huge IOPTEs allowed... */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_HUGE, &m, NULL));
	ASSERT_EQ(0, mock_attach(self->mfd, m, ioas2));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas2, thp, 4 * MB, 4 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 4 * MB, thp, 4 * MB, &huge));
	TH_LOG("THP-backed 4 MiB: %llu huge IOPTEs", (unsigned long long)huge);
	ASSERT_LT(0, huge);
	ASSERT_EQ(0, mock_detach(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas2));

	/* ...and with them forbidden: only small IOPTEs. */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas2));
	opt.ioas_id = ioas2;
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	opt.op = IOASID_OPTION_OP_GET;
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_OPTION, &opt));
	ASSERT_EQ(0, opt.val);
	ASSERT_EQ(0, mock_attach(self->mfd, m, ioas2));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas2, thp, 4 * MB, 4 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 4 * MB, thp, 4 * MB, &huge));
	ASSERT_EQ(0, huge);
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas2));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

/* Over RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM, nothing charged. */
TEST_F(ioas, memlock_limit)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		long base;

		if (memlock_bind(256 * 1024))
			_exit(11);
		base = vm_locked_kb();
		if (ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 0) != -ENOMEM)
			_exit(12);
		if (vm_locked_kb() != base || mock_pin_max(self->chk, self->buf, MB) != 0)
			_exit(13);
		if (ioasid_map_fixed(self->fd, self->ioas, self->buf, 128 * 1024, 0))
			_exit(14);
		if (vm_locked_kb() != base + 128)
			_exit(15);
		/* Together over the limit. */
		if (ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, 192 * 1024, MB) != -ENOMEM)
			_exit(16);
		if (ioasid_unmap_all(self->fd, self->ioas, NULL) || vm_locked_kb() != base)
			_exit(17);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

/* The charge goes back to the process that mapped, whoever closes. */
TEST_F(ioas, charge_follows_mapper)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		/* The child maps its own copy-on-write copy of the buffer. */
		if (ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 0))
			_exit(1);
		if (vm_locked_kb() != self->vmlck + 1024)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	/* The parent was not charged; the unmap uncharges the dead child. */
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
}

struct mapper {
	int fd;
	__u32 ioas;
	char *buf;
	__u64 base;
	int rounds;
	int errors;
};

static void *mapper_thread(void *p)
{
	struct mapper *m = p;
	int i;

	for (i = 0; i < m->rounds; i++) {
		__u64 iova = m->base + (i % 8) * MB, unmapped = 0, auto_iova = 0;

		if (ioasid_map_fixed(m->fd, m->ioas, m->buf + (i % 4) * PSZ * 16,
				     16 * PSZ, iova))
			m->errors++;
		if (ioasid_map(m->fd, m->ioas, m->buf, PSZ, &auto_iova, MAP_RW))
			m->errors++;
		/* Cutting into the other thread's mappings never succeeds. */
		if (!ioasid_unmap(m->fd, m->ioas, m->base ^ (64 * MB), PSZ, NULL))
			m->errors++;
		if (ioasid_unmap(m->fd, m->ioas, iova, 16 * PSZ, &unmapped) ||
		    unmapped != 16 * PSZ)
			m->errors++;
		if (ioasid_unmap(m->fd, m->ioas, auto_iova, PSZ, NULL))
			m->errors++;
	}
	return NULL;
}

TEST_F(ioas, concurrent_map_unmap)
{
	struct mapper m[2];
	pthread_t th[2];
	int i;

	for (i = 0; i < 2; i++) {
		m[i] = (struct mapper){ .fd = self->fd, .ioas = self->ioas,
					.buf = self->buf + i * MB,
					.base = (1ULL << 32) + i * 64 * MB, .rounds = 200 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mapper_thread, &m[i]));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, m[i].errors);
	}
	ASSERT_EQ(-ENOENT, ioasid_unmap_all(self->fd, self->ioas, NULL));
	ASSERT_EQ(self->vmlck, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, 2 * MB));
}

/*
 * fail-nth over MAP, COPY, UNMAP and attach: every allocation on the way
 * fails in turn; a failed call leaves no mapping, pin or charge behind and
 * the IOAS keeps working.
 */
TEST_F_TIMEOUT(ioas, fail_nth, 300)
{
	unsigned int nth, step, tolerated;
	__u32 other, late = 0;
	long pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_INSTANCE2, &late, NULL));

	for (step = 0; step < 4; step++) {
		tolerated = 0;
		TEST_FAIL_NTH(nth, 5000, pending) {
			__u64 dst = 32 * MB, unmapped = 0;
			int rc = 0;

			/* The state each step starts from. */
			if (step >= 1) {
				ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas,
							      self->buf, 2 * MB, 0));
			}
			switch (step) {
			case 0:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_map_fixed(self->fd, self->ioas,
								    self->buf, 2 * MB, 0));
				break;
			case 1:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_copy(self->fd, other, self->ioas, 0,
							       2 * MB, &dst, MAP_FIXED_RW));
				break;
			case 2:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_unmap(self->fd, self->ioas, 0, 2 * MB,
								&unmapped));
				break;
			case 3:
				FAIL_NTH_CALL(nth, pending,
					      rc = mock_attach(self->mfd, late, self->ioas));
				break;
			}
			if (rc) {
				ASSERT_EQ(-ENOMEM, rc);
			} else if (!pending) {
				tolerated++;
			}

			/* The call happened completely or not at all. */
			switch (step) {
			case 0:
				ASSERT_EQ(rc ? -ENOENT : 0,
					  ioasid_unmap(self->fd, self->ioas, 0, 2 * MB, NULL));
				break;
			case 1:
				ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 0, 2 * MB, NULL));
				ASSERT_EQ(rc ? -ENOENT : 0,
					  ioasid_unmap(self->fd, other, 32 * MB, 2 * MB, NULL));
				break;
			case 2:
				ASSERT_EQ(rc ? 0 : -ENOENT,
					  ioasid_unmap(self->fd, self->ioas, 0, 2 * MB, NULL));
				break;
			case 3:
				if (!rc) {
					ASSERT_EQ(0, mock_check_map(self->mfd, late, 0,
								    self->buf, 2 * MB, NULL));
					ASSERT_EQ(0, mock_detach(self->mfd, late));
				} else {
					ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, late, 0,
									  self->buf, PSZ, NULL));
				}
				ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 0, 2 * MB, NULL));
				break;
			}
			ASSERT_EQ(self->vmlck, vm_locked_kb());
			ASSERT_EQ(0, mock_pin_max(self->chk, self->buf, 2 * MB));
		}
		TH_LOG("step %u: %u injection points, %u tolerated", step,
		       nth - 1, tolerated);
	}
	ASSERT_EQ(0, mock_dev_del(self->mfd, late));
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
}

/*
 * A MAP far over RLIMIT_MEMLOCK fails with ENOMEM at once: the limit is
 * checked before anything is allocated, and no size user space passes
 * reaches a WARN (kvmalloc's above INT_MAX). 1 TiB and 64 GiB of address
 * space are only reserved (PROT_NONE): nothing may touch them.
 */
TEST(map_huge_over_memlock)
{
	static const unsigned long sizes[] = { 1UL << 40, 64UL << 30 };
	unsigned long taint = kernel_taint();
	int status, fd;
	__u32 ioas;
	char *va;
	pid_t pid;

	fd = ioasid_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &ioas));
	va = mmap(NULL, sizes[0], PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, va);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static const rlim_t limits[] = { 0, 64 * 1024 };
		bool injecting = fail_nth_supported() && !fail_nth_setup();
		unsigned int i, j;
		long base;

		if (memlock_bind(RLIM_INFINITY))
			_exit(11);
		base = vm_locked_kb();
		for (i = 0; i < 2; i++) {
			struct rlimit rl = { limits[i], limits[i] };

			if (setrlimit(RLIMIT_MEMLOCK, &rl))
				_exit(12);
			for (j = 0; j < 2; j++) {
				long pending = 1;
				int rc;

				/*
				 * Nothing is allocated on the way: the first
				 * allocation, armed to fail, stays pending.
				 */
				if (injecting && fail_nth_arm(1))
					_exit(13);
				rc = ioasid_map_fixed(fd, ioas, va, sizes[j], 0);
				if (injecting) {
					pending = fail_nth_pending();
					fail_nth_arm(0);
				}
				fprintf(stderr, "#   memlock %lu KiB, MAP of %lu GiB: %s%s\n",
					(unsigned long)limits[i] / 1024, sizes[j] >> 30,
					strerror(-rc), !injecting ? "" :
					pending ? ", nothing allocated" : ", allocated");
				if (rc != -ENOMEM)
					_exit(20 + 2 * j + i);
				if (!pending)
					_exit(30 + 2 * j + i);
			}
		}
		if (vm_locked_kb() != base)
			_exit(40);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/*
	 * With CAP_IPC_LOCK and no limit, 1 TiB still fails cleanly: its page
	 * array alone would be 2 GiB.
	 */
	ASSERT_EQ(-ENOMEM, ioasid_map_fixed(fd, ioas, va, sizes[0], 0));
	ASSERT_EQ(-ENOENT, ioasid_unmap_all(fd, ioas, NULL));
	/* No WARN (or any other splat that taints) on the way. */
	ASSERT_EQ(0, (kernel_taint() & ~taint) & TAINT_WARN_BIT);
	munmap(va, sizes[0]);
	close(fd);
}

struct stalled_copy {
	int fd;
	struct ioasid_copy *cmd;
	int rc;
};

static void *stalled_copy_thread(void *p)
{
	struct stalled_copy *c = p;

	c->rc = ioasid_ioctl(c->fd, IOASID_COPY, c->cmd);
	return NULL;
}

struct held_unmap {
	int fd;
	__u32 ioas;
	__u64 iova;
	int rc;
	volatile bool done;
};

static void *held_unmap_thread(void *p)
{
	struct held_unmap *u = p;

	u->rc = ioasid_unmap(u->fd, u->ioas, u->iova, PSZ, NULL);
	u->done = true;
	return NULL;
}

/*
 * No ioasid lock is held across a user-memory access user space can stall:
 * a COPY whose write-back of dst_iova faults on a write-protected
 * userfaultfd page waits for user space with no IOAS locked, so an UNMAP of
 * an unrelated mapping of the same IOAS (for a software-nested child: of
 * its parent, which the COPY locks too) completes while the fault is held.
 */
TEST(copy_writeback_stalled_by_userfaultfd)
{
	int fd, uffd, round, i;
	char *buf, *page;
	__u32 src, dst;

	uffd = uffd_open();
	if (uffd < 0)
		SKIP(return, "no userfaultfd for kernel faults (%s)", strerror(-uffd));
	fd = ioasid_open();
	ASSERT_LE(0, fd);
	buf = alloc_buf(2 * MB, PSZ);
	ASSERT_NE(NULL, buf);
	page = mmap(NULL, PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	memset(page, 0, PSZ);
	{
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)page, .len = PSZ },
			.mode = UFFDIO_REGISTER_MODE_WP,
		};

		if (ioctl(uffd, UFFDIO_REGISTER, &reg))
			SKIP(return, "no userfaultfd write protection (%s)",
			     strerror(errno));
	}

	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &src));
	ASSERT_EQ(0, ioasid_map_fixed(fd, src, buf, MB, 0));
	for (round = 0; round < 2; round++) {
		struct ioasid_copy *cmd = (struct ioasid_copy *)page;
		struct stalled_copy c = { .fd = fd, .cmd = cmd };
		struct pollfd pfd = { .fd = uffd, .events = POLLIN };
		struct held_unmap u = { .fd = fd, .iova = 64 * MB };
		struct uffd_msg msg;
		pthread_t ct, ut;
		__u64 unmapped;

		/* Round 0: into another IOAS; round 1: into a child of src. */
		if (round) {
			ASSERT_EQ(0, ioasid_sw_child_alloc(fd, src, &dst));
		} else {
			ASSERT_EQ(0, ioasid_ioas_alloc(fd, &dst));
		}
		/* The unrelated mapping: in dst, or in the parent a child COPY locks. */
		u.ioas = round ? src : dst;
		ASSERT_EQ(0, ioasid_map_fixed(fd, u.ioas, buf + MB, PSZ, u.iova));

		*cmd = (struct ioasid_copy){ .size = sizeof(*cmd), .flags = MAP_RW,
					     .dst_ioas_id = dst, .src_ioas_id = src,
					     .length = 16 * PSZ, .src_iova = 0 };
		ASSERT_EQ(0, uffd_wp(uffd, page, true));
		ASSERT_EQ(0, pthread_create(&ct, NULL, stalled_copy_thread, &c));
		/* The write-back of dst_iova faults and waits for us. */
		ASSERT_EQ(1, poll(&pfd, 1, 30000));
		ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
		ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);
		ASSERT_TRUE(msg.arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP);

		/* The UNMAP must end while the fault is held (10 s at most). */
		ASSERT_EQ(0, pthread_create(&ut, NULL, held_unmap_thread, &u));
		for (i = 0; i < 1000 && !u.done; i++)
			usleep(10000);
		EXPECT_TRUE(u.done) TH_LOG("%s: the UNMAP waited for the held write-back",
					   round ? "child" : "plain");
		ASSERT_EQ(0, uffd_wp(uffd, page, false));
		ASSERT_EQ(0, pthread_join(ut, NULL));
		ASSERT_EQ(0, pthread_join(ct, NULL));
		ASSERT_EQ(0, u.rc);

		/* The COPY itself completed and reported where it mapped. */
		ASSERT_EQ(0, c.rc);
		ASSERT_EQ(0, ioasid_unmap(fd, dst, cmd->dst_iova, 16 * PSZ, &unmapped));
		ASSERT_EQ(16 * PSZ, unmapped);
		ASSERT_EQ(0, ioasid_destroy(fd, dst));
	}
	ASSERT_EQ(0, ioasid_destroy(fd, src));
	close(uffd);
	close(fd);
	munmap(page, PSZ);
}

struct nest_racer {
	int fd;
	__u32 parent;
	char *buf;
	__u64 iova;		/* this parent churner's IOVA / the one a child copies */
	volatile bool *stop;
	long rounds;
	int errors;
};

/* {allocate a child, COPY into it, DESTROY it}, as fast as it goes. */
static void *child_churn(void *p)
{
	struct nest_racer *r = p;

	while (!*r->stop) {
		__u32 child;
		int rc;

		if (ioasid_sw_child_alloc(r->fd, r->parent, &child)) {
			r->errors++;
			continue;
		}
		/* The parent's stable mapping: always there. */
		if (ioasid_copy_fixed(r->fd, child, r->parent, 0, 16 * PSZ, 0))
			r->errors++;
		/* The churned one: mapped or not, at this instant. */
		rc = ioasid_copy_fixed(r->fd, child, r->parent, r->iova, 16 * PSZ, MB);
		if (rc && rc != -ENOENT)
			r->errors++;
		if (ioasid_destroy(r->fd, child))
			r->errors++;
		r->rounds++;
	}
	return NULL;
}

/* MAP and UNMAP the parent; each UNMAP walks the children. */
static void *parent_churn(void *p)
{
	struct nest_racer *r = p;

	while (!*r->stop) {
		__u64 unmapped = 0;

		if (ioasid_map_fixed(r->fd, r->parent, r->buf, 16 * PSZ, r->iova))
			r->errors++;
		if (ioasid_unmap(r->fd, r->parent, r->iova, 16 * PSZ, &unmapped) ||
		    unmapped != 16 * PSZ)
			r->errors++;
		r->rounds++;
	}
	return NULL;
}

/*
 * Software-nested children allocated, filled and destroyed while their
 * parent is mapped and unmapped: a destroyed child leaves the parent's
 * children before its mutex goes, so a parent UNMAP never locks a
 * destroyed mutex (DEBUG_LOCKS_WARN_ON(lock->magic != lock)).
 */
TEST(sw_nested_destroy_race)
{
	unsigned long taint = kernel_taint();
	int locks = debug_locks();
	struct nest_racer r[4];
	volatile bool stop = false;
	pthread_t th[4];
	__u32 parent;
	long vmlck;
	char *buf;
	int fd, mfd, i;

	mfd = mock_open();
	if (mfd < 0)
		SKIP(return, "no mock IOMMU (%s)", strerror(errno));
	fd = ioasid_open();
	ASSERT_LE(0, fd);
	buf = alloc_buf(MB, PSZ);
	ASSERT_NE(NULL, buf);
	vmlck = vm_locked_kb();
	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &parent));
	ASSERT_EQ(0, ioasid_map_fixed(fd, parent, buf, 16 * PSZ, 0));

	for (i = 0; i < 4; i++) {
		r[i] = (struct nest_racer){ .fd = fd, .parent = parent,
					    .buf = buf + (1 + i % 2) * 64 * PSZ,
					    .iova = (16 + 16 * (i % 2)) * MB,
					    .stop = &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL,
					    i < 2 ? parent_churn : child_churn, &r[i]));
	}
	sleep(3);
	stop = true;
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		TH_LOG("%s %d: %ld rounds, %d errors", i < 2 ? "parent" : "child",
		       i, r[i].rounds, r[i].errors);
	}
	for (i = 0; i < 4; i++) {
		ASSERT_LT(0, r[i].rounds);
		ASSERT_EQ(0, r[i].errors);
	}
	/* Only the parent and its stable mapping are left. */
	ASSERT_EQ(1, ioasid_debugfs_my_objects());
	ASSERT_EQ(0, ioasid_unmap_all(fd, parent, NULL));
	ASSERT_EQ(0, ioasid_destroy(fd, parent));
	ASSERT_EQ(vmlck, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(mfd, buf, MB));
	/* No lock debugging splat: it taints and switches lockdep off. */
	ASSERT_EQ(0, (kernel_taint() & ~taint) & TAINT_WARN_BIT);
	if (locks == 1)
		ASSERT_EQ(1, debug_locks());
	close(fd);
	close(mfd);
}

TEST_HARNESS_MAIN
