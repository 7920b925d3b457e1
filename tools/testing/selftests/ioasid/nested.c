// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware nesting on the mock IOMMU: IOASID_NESTED_ALLOC, attach and
 * replace through nested objects, IOASID_INVALIDATE forwarded to the IOMMU
 * driver, destroy order, DEVICE_INFO formats, and fail-nth. The emulated
 * VT-d has no nesting; vfio_edu checks that NESTED_ALLOC refuses it.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define PSZ	4096UL
#define MB	(1UL << 20)

FIXTURE(nest) {
	int fd;
	int mfd;
	__u32 ioas;
	__u32 m, dev_id;
	char *buf;
	long vmlck;
};

FIXTURE_SETUP(nest)
{
	if (!MOCK_FIXTURE_SETUP(self))
		return;
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas));
	self->buf = fixture_buf(2 * MB, 0x5a);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 0));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_NESTING,
				  &self->m, &self->dev_id));
}

FIXTURE_TEARDOWN(nest)
{
	MOCK_FIXTURE_TEARDOWN(self, 2 * MB);
}

static int nested_alloc_data(int fd, __u32 parent, __u32 dev_id, __u32 type,
			     void *data, __u32 len, __u32 *id)
{
	struct ioasid_nested_alloc cmd = {
		.size = sizeof(cmd), .parent_id = parent, .dev_id = dev_id,
		.data_type = type, .data_len = len, .data_uptr = (uintptr_t)data,
	};
	int rc = ioasid_ioctl(fd, IOASID_NESTED_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_nested_id;
	return rc;
}

static int nested_alloc(int fd, __u32 parent, __u32 dev_id, __u32 iotlb, __u32 *id)
{
	struct ioasid_mock_nested_data data = { .iotlb = iotlb };

	return nested_alloc_data(fd, parent, dev_id, IOASID_NESTED_DATA_MOCK,
				 &data, sizeof(data), id);
}

static int invalidate(int fd, __u32 id, __u32 type, void *entries,
		      __u32 entry_len, __u32 *num)
{
	struct ioasid_invalidate cmd = {
		.size = sizeof(cmd), .id = id, .data_type = type,
		.entry_len = entry_len, .entry_num = *num,
		.data_uptr = (uintptr_t)entries,
	};
	int rc = ioasid_ioctl(fd, IOASID_INVALIDATE, &cmd);

	*num = cmd.entry_num;
	return rc;
}

static struct ioasid_mock_nested_info ninfo(int mfd, __u32 mock_id)
{
	struct ioasid_mock_nested_info info = { .size = sizeof(info), .mock_id = mock_id };

	if (ioasid_ioctl(mfd, IOASID_MOCK_NESTED_INFO, &info))
		info.out_nested_serial = ~0ULL;
	return info;
}

static __u64 nr_domains(int mfd, __u32 mock_id)
{
	struct ioasid_mock_domain_info info;

	if (mock_domain_info(mfd, mock_id, &info))
		return ~0ULL;
	return info.out_domains;
}

/* Allocate, attach, forward invalidations, detach, destroy. */
TEST_F(nest, alloc_attach_invalidate)
{
	struct ioasid_mock_inv_entry inv[3] = {};
	struct {
		struct ioasid_mock_inv_entry e;
		__u32 tail[2];	/* past the kernel's entry */
	} big = {};
	struct ioasid_mock_nested_info info;
	__u64 domains = nr_domains(self->mfd, self->m);
	__u32 n, num;

	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, self->dev_id, 5, &n));
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(0, info.out_nested_serial);
	ASSERT_EQ(1, info.out_nested_domains);
	/* The nesting parent is a new domain of the IOAS, already filled. */
	ASSERT_EQ(domains + 1, nr_domains(self->mfd, self->m));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n));
	info = ninfo(self->mfd, self->m);
	ASSERT_NE(0, info.out_nested_serial);
	ASSERT_EQ(mock_domain_serial(self->mfd, self->m), info.out_parent_serial);
	ASSERT_EQ(5, info.out_iotlb[0]);
	ASSERT_EQ(5, info.out_iotlb[3]);
	/* Stage 2 is the IOAS, kept in sync with MAP and UNMAP. */
	ASSERT_EQ(0, mock_check_map(self->mfd, self->m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, PSZ, 4 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, self->m, 4 * MB, self->buf + MB, PSZ, NULL));
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 4 * MB, PSZ, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, self->m, 4 * MB, self->buf + MB, PSZ, NULL));

	/* Two entries, handled in order. */
	inv[0].iotlb_id = 1;
	inv[1].iotlb_id = 2;
	num = 2;
	ASSERT_EQ(0, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(2, num);
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(5, info.out_iotlb[0]);
	ASSERT_EQ(0, info.out_iotlb[1]);
	ASSERT_EQ(0, info.out_iotlb[2]);
	ASSERT_EQ(5, info.out_iotlb[3]);
	ASSERT_EQ(2, info.out_invalidations);

	/* Stops at the first bad entry; says how many were handled. */
	inv[0].iotlb_id = 3;
	inv[1].iotlb_id = IOASID_MOCK_NESTED_IOTLB_NUM;
	inv[2].iotlb_id = 0;
	num = 3;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(1, num);
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(5, info.out_iotlb[0]);
	ASSERT_EQ(0, info.out_iotlb[3]);
	ASSERT_EQ(3, info.out_invalidations);
	inv[0].flags = 1 << 5;
	num = 3;
	ASSERT_EQ(-EOPNOTSUPP, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(0, num);
	/* A format the driver does not take, a short entry: nothing done. */
	inv[0].flags = IOASID_MOCK_INV_ALL;
	num = 1;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, 0x1234, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(0, num);
	num = 1;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, 4, &num));
	ASSERT_EQ(0, num);
	ASSERT_EQ(5, ninfo(self->mfd, self->m).out_iotlb[0]);
	num = 1;
	ASSERT_EQ(-EFAULT, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, NULL, sizeof(inv[0]), &num));
	ASSERT_EQ(0, num);
	/* The context's own checks. */
	num = 1;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, 0, &num));
	num = 1;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, 4097, &num));
	num = 65537;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	num = 1;
	ASSERT_EQ(-ENOENT, invalidate(self->fd, self->ioas, IOASID_MOCK_INV_DATA, inv,
				      sizeof(inv[0]), &num));
	num = 1;
	ASSERT_EQ(-ENOENT, invalidate(self->fd, n + 100, IOASID_MOCK_INV_DATA, inv,
				      sizeof(inv[0]), &num));
	num = 0;
	ASSERT_EQ(0, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(0, num);
	/* An entry longer than the driver knows is refused (6.12's core). */
	big.e.flags = IOASID_MOCK_INV_ALL;
	num = 1;
	ASSERT_EQ(-EINVAL, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, &big, sizeof(big), &num));
	ASSERT_EQ(0, num);
	/* INV_ALL clears every entry. */
	num = 1;
	ASSERT_EQ(0, invalidate(self->fd, n, IOASID_MOCK_INV_DATA, inv, sizeof(inv[0]), &num));
	ASSERT_EQ(1, num);
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(0, info.out_iotlb[0]);
	ASSERT_EQ(4, info.out_invalidations);

	/* Destroy order: nothing in use goes away. */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, n));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, ioasid_detach(self->fd, self->dev_id));
	ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_serial);
	ASSERT_EQ(0, mock_domain_serial(self->mfd, self->m));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n));
	ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_domains);
	ASSERT_EQ(domains, nr_domains(self->mfd, self->m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
}

struct stalled_alloc {
	int fd;
	__u32 parent, dev_id, id;
	void *data;
	int rc;
	volatile bool done;
};

static void *stalled_alloc_thread(void *p)
{
	struct stalled_alloc *a = p;

	a->rc = nested_alloc_data(a->fd, a->parent, a->dev_id, IOASID_NESTED_DATA_MOCK,
				  a->data, sizeof(struct ioasid_mock_nested_data), &a->id);
	return NULL;
}

static void *unmap_thread(void *p)
{
	struct stalled_alloc *a = p;

	a->rc = ioasid_unmap(a->fd, a->parent, 64 * MB, PSZ, NULL);
	a->done = true;
	return NULL;
}

/*
 * The IOMMU driver reads NESTED_ALLOC's payload from user memory; while
 * that read waits on a missing userfaultfd page, the parent IOAS is not
 * locked: an UNMAP of an unrelated mapping in it completes. Round 0 makes
 * the nesting parent, round 1 reuses it.
 */
TEST_F(nest, alloc_payload_stalled_by_userfaultfd)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	struct ioasid_mock_nested_data data = { .iotlb = 1 };
	char *pages;
	int uffd, round, i;

	uffd = uffd_open();
	if (uffd < 0)
		SKIP(return, "no userfaultfd for kernel faults (%s)", strerror(-uffd));
	pages = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 0);
	ASSERT_NE(MAP_FAILED, pages);
	reg.range.start = (uintptr_t)pages;
	reg.range.len = 2 * PSZ;
	ASSERT_EQ(0, ioctl(uffd, UFFDIO_REGISTER, &reg));
	for (round = 0; round < 2; round++) {
		struct stalled_alloc a = { .fd = self->fd, .parent = self->ioas,
					   .dev_id = self->dev_id,
					   .data = pages + round * PSZ };
		struct stalled_alloc u = { .fd = self->fd, .parent = self->ioas };
		struct pollfd pfd = { .fd = uffd, .events = POLLIN };
		struct uffdio_copy copy = {
			.dst = (uintptr_t)a.data, .src = (uintptr_t)self->buf + MB,
			.len = PSZ,
		};
		struct uffd_msg msg;
		pthread_t at, ut;

		ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf + MB, PSZ,
					      64 * MB));
		ASSERT_EQ(0, pthread_create(&at, NULL, stalled_alloc_thread, &a));
		ASSERT_EQ(1, poll(&pfd, 1, 30000));
		ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
		ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

		ASSERT_EQ(0, pthread_create(&ut, NULL, unmap_thread, &u));
		for (i = 0; i < 1000 && !u.done; i++)
			usleep(10000);
		EXPECT_TRUE(u.done);
		/* The payload arrives: the allocation goes on. */
		memcpy(self->buf + MB, &data, sizeof(data));
		ASSERT_EQ(0, ioctl(uffd, UFFDIO_COPY, &copy));
		ASSERT_EQ(0, pthread_join(ut, NULL));
		ASSERT_EQ(0, pthread_join(at, NULL));
		ASSERT_EQ(0, u.rc);
		ASSERT_EQ(0, a.rc);
		ASSERT_EQ(0, ioasid_attach(self->fd, self->dev_id, a.id));
		ASSERT_EQ(0, ioasid_detach(self->fd, self->dev_id));
		ASSERT_EQ(0, ioasid_destroy(self->fd, a.id));
	}
	munmap(pages, 2 * PSZ);
	close(uffd);
}

/* Every refusal of NESTED_ALLOC, each leaving nothing behind. */
TEST_F(nest, alloc_errors)
{
	struct ioasid_mock_nested_data data = { .iotlb = 1 };
	struct ioasid_nested_alloc cmd = {
		.size = sizeof(cmd), .parent_id = self->ioas, .dev_id = self->dev_id,
		.data_type = IOASID_NESTED_DATA_MOCK, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	__u64 domains = nr_domains(self->mfd, self->m);
	__u32 plain, plain_id, small, small_id, n, ioas2;

	/* Fault queue 0 does not exist (fault.c tests working queues). */
	cmd.flags = IOASID_NESTED_ALLOC_FAULT;
	ASSERT_EQ(-ENOENT, ioasid_ioctl(self->fd, IOASID_NESTED_ALLOC, &cmd));
	cmd.flags = 1 << 7;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_NESTED_ALLOC, &cmd));
	cmd.flags = 0;
	cmd.fault_id = 1;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_NESTED_ALLOC, &cmd));
	cmd.fault_id = 0;

	ASSERT_EQ(-EOPNOTSUPP, nested_alloc_data(self->fd, self->ioas, self->dev_id, 0,
						 &data, sizeof(data), &n));
	ASSERT_EQ(-EOPNOTSUPP, nested_alloc_data(self->fd, self->ioas, self->dev_id, 7,
						 &data, sizeof(data), &n));
	ASSERT_EQ(-EINVAL, nested_alloc_data(self->fd, self->ioas, self->dev_id,
					     IOASID_NESTED_DATA_MOCK, &data, 0, &n));
	ASSERT_EQ(-EINVAL, nested_alloc_data(self->fd, self->ioas, self->dev_id,
					     IOASID_NESTED_DATA_MOCK, &data, 4097, &n));
	/* The driver's checks of the payload. */
	ASSERT_EQ(-EINVAL, nested_alloc_data(self->fd, self->ioas, self->dev_id,
					     IOASID_NESTED_DATA_MOCK, &data, 2, &n));
	ASSERT_EQ(-EFAULT, nested_alloc_data(self->fd, self->ioas, self->dev_id,
					     IOASID_NESTED_DATA_MOCK, NULL, sizeof(data), &n));
	ASSERT_EQ(-EINVAL, nested_alloc(self->fd, self->ioas, self->dev_id,
					IOASID_MOCK_NESTED_IOTLB_MAX + 1, &n));
	data.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, nested_alloc_data(self->fd, self->ioas, self->dev_id,
						 IOASID_NESTED_DATA_MOCK, &data, sizeof(data), &n));
	/*
	 * A VT-d payload is not the mock's format: a data type this IOMMU
	 * does not take is EOPNOTSUPP, before the driver sees it.
	 */
	ASSERT_EQ(-EOPNOTSUPP, nested_alloc_data(self->fd, self->ioas, self->dev_id,
						 IOASID_NESTED_DATA_VTD_S1, &data,
						 sizeof(data), &n));
	/* Names that are no IOAS, no device. */
	ASSERT_EQ(-ENOENT, nested_alloc(self->fd, self->ioas + 100, self->dev_id, 1, &n));
	ASSERT_EQ(-ENOENT, nested_alloc(self->fd, self->dev_id, self->dev_id, 1, &n));
	ASSERT_EQ(-ENOENT, nested_alloc(self->fd, self->ioas, self->ioas, 1, &n));
	/* An IOMMU that cannot nest. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &plain, &plain_id));
	ASSERT_EQ(-EOPNOTSUPP, nested_alloc(self->fd, self->ioas, plain_id, 1, &n));
	/* A nesting parent that cannot hold the IOAS (an area above 4 GiB). */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd,
				  IOASID_MOCK_DEV_NESTING | IOASID_MOCK_DEV_SMALL_APERTURE,
				  &small, &small_id));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas2, self->buf, PSZ, 1UL << 33));
	ASSERT_EQ(-ERANGE, nested_alloc(self->fd, ioas2, small_id, 1, &n));

	ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_domains);
	ASSERT_EQ(domains, nr_domains(self->mfd, self->m));
	/* A nested object of another device's IOMMU takes only its devices. */
	ASSERT_EQ(0, nested_alloc(self->fd, ioas2, self->dev_id, 1, &n));
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, small_id, IOASID_PASID_NONE, n));
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, plain_id, IOASID_PASID_NONE, n));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas2));
}

/* Replace: child to child, child to IOAS and back, to another IOAS. */
TEST_F(nest, replace)
{
	struct ioasid_mock_nested_info info;
	__u32 n1, n2, n3, ioas2;
	__u64 parent;

	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, self->dev_id, 1, &n1));
	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, self->dev_id, 2, &n2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n1));
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(1, info.out_iotlb[0]);
	parent = info.out_parent_serial;

	/* Both children share the IOAS's one nesting parent for this IOMMU. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n2));
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(2, info.out_iotlb[0]);
	ASSERT_EQ(parent, info.out_parent_serial);
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, n2));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n1));

	/* To the plain IOAS: its compatible domain is that same parent. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_serial);
	ASSERT_EQ(parent, mock_domain_serial(self->mfd, self->m));
	ASSERT_EQ(0, mock_check_map(self->mfd, self->m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n2));
	ASSERT_EQ(2, ninfo(self->mfd, self->m).out_iotlb[0]);

	/* To a child of another IOAS: another parent, that IOAS's pages. */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas2));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas2, self->buf + MB, MB, 0));
	ASSERT_EQ(0, nested_alloc(self->fd, ioas2, self->dev_id, 3, &n3));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n3));
	info = ninfo(self->mfd, self->m);
	ASSERT_EQ(3, info.out_iotlb[0]);
	ASSERT_NE(parent, info.out_parent_serial);
	ASSERT_EQ(0, mock_check_map(self->mfd, self->m, 0, self->buf + MB, MB, NULL));
	/* The old child and its IOAS are free again. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, n2));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, ioas2));
	ASSERT_EQ(0, ioasid_detach(self->fd, self->dev_id));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n3));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas2));
	ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_domains);
}

/*
 * A device's reserved regions stay carved out of the parent IOAS across
 * every replace between targets that share it: a child and its parent,
 * and two children of one parent (whose regions a replace adds before it
 * drops the old ones).
 */
TEST_F(nest, replace_keeps_reserved_regions)
{
	__u32 m, id, n1, n2;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_NESTING |
				  IOASID_MOCK_DEV_RESV, &m, &id));
	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, id, 1, &n1));
	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, id, 2, &n2));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, n1));
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
						IOASID_MOCK_RESV_START));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, n2));
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
						IOASID_MOCK_RESV_START));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, self->ioas));
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
						IOASID_MOCK_RESV_START));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, n1));
	ASSERT_EQ(-EADDRINUSE, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
						IOASID_MOCK_RESV_START));
	/* Detached, the regions go with the attachment. */
	ASSERT_EQ(0, ioasid_detach(self->fd, id));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, PSZ,
				      IOASID_MOCK_RESV_START));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n1));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n2));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
}

/* The mock nests RIDs only; its PASIDs stay on plain IOASes. */
TEST_F(nest, pasid)
{
	__u32 m, id, n;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd,
				  IOASID_MOCK_DEV_NESTING | IOASID_MOCK_DEV_PASID, &m, &id));
	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, id, 1, &n));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id, 7, n));
	ASSERT_EQ(-ENOENT, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf, PSZ));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, 7, self->ioas));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf, MB));
	/* A PASID cannot be replaced onto a nested object: it keeps its IOAS. */
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id, 7, n));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf, MB));
	/* The RID of the same device nests. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, n));
	ASSERT_NE(0, ninfo(self->mfd, m).out_nested_serial);
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n));
}

static int find_entry(int fd, __u32 dev_id, struct ioasid_device_entry *out)
{
	struct ioasid_device_entry e[8];
	__u32 num = 8;
	unsigned int i;
	int rc = ioasid_device_info(fd, e, &num, sizeof(e[0]));

	if (rc)
		return rc;
	for (i = 0; i < num; i++) {
		if (e[i].dev_id == dev_id) {
			*out = e[i];
			return 0;
		}
	}
	return -ENOENT;
}

/* DEVICE_INFO says which devices can nest, and in what format. */
TEST_F(nest, device_info)
{
	struct ioasid_device_entry e;
	__u32 plain, plain_id;

	ASSERT_EQ(0, find_entry(self->fd, self->dev_id, &e));
	ASSERT_NE(0, e.flags & IOASID_DEVICE_NESTING);
	ASSERT_EQ(IOASID_NESTED_FMT_MOCK, e.nesting_formats);
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &plain, &plain_id));
	ASSERT_EQ(0, find_entry(self->fd, plain_id, &e));
	ASSERT_EQ(0, e.flags & IOASID_DEVICE_NESTING);
	ASSERT_EQ(0, e.nesting_formats);
}

/* Unregistering a device attached to a nested object cleans up. */
TEST_F(nest, unregister_while_nested)
{
	__u32 n;

	ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, self->dev_id, 1, &n));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n));
	ASSERT_EQ(0, mock_dev_del(self->mfd, self->m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, n));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
}

/*
 * Software nesting on the mock: a child maps GIOVA -> parent IOVA with
 * COPY from its parent; devices attached to the child translate GIOVA to
 * the parent's memory; parent UNMAP removes dependent child mappings
 * synchronously, child UNMAP only its own; pins and charges stay once.
 */
TEST_F(nest, software_nesting)
{
	long locked = vm_locked_kb();
	__u32 child, other, grandchild, m, id;
	__u64 unmapped;

	ASSERT_EQ(0, ioasid_sw_child_alloc(self->fd, self->ioas, &child));
	ASSERT_EQ(-ENOENT, ioasid_sw_child_alloc(self->fd, self->ioas + 100, &other));
	ASSERT_EQ(-EINVAL, ioasid_sw_child_alloc(self->fd, child, &grandchild));
	/* A child maps only its parent's IOVAs. */
	ASSERT_EQ(-EINVAL, ioasid_map_fixed(self->fd, child, self->buf, PSZ, 0));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, other, self->buf, PSZ, 0));
	ASSERT_EQ(-EINVAL, ioasid_copy_fixed(self->fd, child, other, 0, PSZ, 0x100000));
	locked = vm_locked_kb();

	/* GIOVA 1M + [0, 64K) -> parent [128K, 192K); GIOVA 2M -> parent 0. */
	ASSERT_EQ(0, ioasid_copy_fixed(self->fd, child, self->ioas, 0x20000, 0x10000,
				 0x100000));
	ASSERT_EQ(0, ioasid_copy_fixed(self->fd, child, self->ioas, 0, PSZ, 0x200000));
	/* Nothing is copied out of a child. */
	ASSERT_EQ(-EINVAL, ioasid_copy_fixed(self->fd, other, child, 0x100000, PSZ,
				       0x300000));
	ASSERT_EQ(locked, vm_locked_kb());
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, child));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0x100000, self->buf + 0x20000,
				    0x10000, NULL));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0x200000, self->buf, PSZ, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 0, self->buf, PSZ, NULL));

	/* A child unmap takes only the child's mapping. */
	ASSERT_EQ(0, ioasid_unmap(self->fd, child, 0x200000, PSZ, &unmapped));
	ASSERT_EQ(PSZ, unmapped);
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 0x200000, self->buf, PSZ, NULL));
	ASSERT_EQ(0, ioasid_copy_fixed(self->fd, child, self->ioas, 0, PSZ, 0x200000));

	/* The parent's unmap of [0, 1M) takes both dependent child mappings. */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas, 0, MB, &unmapped));
	ASSERT_EQ(MB, unmapped);
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 0x100000, self->buf + 0x20000,
					  PSZ, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 0x200000, self->buf, PSZ, NULL));
	ASSERT_EQ(-ENOENT, ioasid_unmap(self->fd, child, 0, 1ULL << 32, &unmapped));
	/* Only the page "other" maps stays pinned. */
	ASSERT_EQ(0, mock_pin_max(self->mfd, self->buf + PSZ, MB - PSZ));
	ASSERT_EQ(1, mock_pin_max(self->mfd, self->buf, PSZ));
	ASSERT_GT(locked, vm_locked_kb());

	ASSERT_EQ(0, ioasid_detach(self->fd, id));
	ASSERT_EQ(0, ioasid_destroy(self->fd, child));
	ASSERT_EQ(0, ioasid_destroy(self->fd, other));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
}

/*
 * Every allocation NESTED_ALLOC, an attach to a nested object and
 * INVALIDATE make can fail: each failure leaves everything as it was.
 */
TEST_F_TIMEOUT(nest, fail_nth, 300)
{
	struct ioasid_mock_inv_entry inv = { .flags = IOASID_MOCK_INV_ALL };
	unsigned int nth, step;
	long pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	for (step = 0; step < 3; step++) {
		TEST_FAIL_NTH(nth, 5000, pending) {
			__u64 domains = nr_domains(self->mfd, self->m);
			__u32 n = 0, num = 1;
			int rc = 0;

			if (step >= 1)
				ASSERT_EQ(0, nested_alloc(self->fd, self->ioas, self->dev_id, 9, &n));
			if (step == 2)
				ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, n));
			switch (step) {
			case 0:
				FAIL_NTH_CALL(nth, pending,
					      rc = nested_alloc(self->fd, self->ioas, self->dev_id,
								9, &n));
				break;
			case 1:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_attach(self->fd, self->dev_id, n));
				break;
			case 2:
				FAIL_NTH_CALL(nth, pending,
					      rc = invalidate(self->fd, n, IOASID_MOCK_INV_DATA,
							      &inv, sizeof(inv), &num));
				break;
			}
			if (rc)
				ASSERT_EQ(-ENOMEM, rc);
			switch (step) {
			case 0:
				if (rc) {
					ASSERT_EQ(domains, nr_domains(self->mfd, self->m));
					ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_domains);
				}
				break;
			case 1:
				ASSERT_EQ(rc ? 0 : 9, ninfo(self->mfd, self->m).out_iotlb[0]);
				break;
			case 2:
				ASSERT_EQ(rc ? 9 : 0, ninfo(self->mfd, self->m).out_iotlb[0]);
				break;
			}
			if (step >= 1 || !rc) {
				ioasid_detach(self->fd, self->dev_id);
				ASSERT_EQ(0, ioasid_destroy(self->fd, n));
			}
			ASSERT_EQ(0, ninfo(self->mfd, self->m).out_nested_domains);
		}
		TH_LOG("step %u: %u injection points", step, nth - 1);
	}
}

TEST_HARNESS_MAIN
