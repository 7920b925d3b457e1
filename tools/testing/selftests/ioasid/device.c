// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: registration through the consumer kAPI (driven by the mock
 * IOMMU's control surface), IOASID_DEVICE_INFO, IOASID_ATTACH with hitless
 * replace, IOASID_DETACH, PASIDs and sub-devices sharing a PASID, and the
 * lifetime rules between devices, IOAS and contexts.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define PSZ	4096UL
#define MB	(1UL << 20)

FIXTURE(dev) {
	int fd;
	int mfd;
	__u32 ioas[2];
	char *buf;
	long vmlck;
};

FIXTURE_SETUP(dev)
{
	if (!MOCK_FIXTURE_SETUP(self))
		return;
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas[0]));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->ioas[1]));
	self->buf = fixture_buf(2 * MB, 0x3c);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* Each IOAS maps a different half of the buffer at the same IOVA. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas[0], self->buf, MB, 0));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas[1], self->buf + MB, MB, 0));
}

FIXTURE_TEARDOWN(dev)
{
	MOCK_FIXTURE_TEARDOWN(self, 2 * MB);
}

TEST_F(dev, device_info)
{
	struct ioasid_device_entry e[4];
	__u32 m[2], id[2], num = 0;

	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(0, num);
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m[0], &id[0]));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_INSTANCE2 |
				  IOASID_MOCK_DEV_HUGE, &m[1], &id[1]));
	ASSERT_NE(id[0], id[1]);
	ASSERT_EQ(-EMSGSIZE, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(2, num);
	num = 4;
	memset(e, 0xff, sizeof(e));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id[1], IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(2, num);
	ASSERT_EQ(id[0], e[0].dev_id);
	ASSERT_EQ(id[1], e[1].dev_id);
	ASSERT_EQ(IOASID_PASID_NONE, e[0].pasid);
	ASSERT_STREQ("mock", e[0].subsystem);
	ASSERT_EQ(0, strncmp(e[0].name, "ioasid_mock", 11));
	ASSERT_STREQ("ioasid_mock0", e[0].iommu);
	ASSERT_STREQ("ioasid_mock1", e[1].iommu);
	ASSERT_EQ(IOASID_MOCK_PAGE_SIZE, e[0].pgsize_bitmap);
	ASSERT_EQ(IOASID_MOCK_PAGE_SIZE | IOASID_MOCK_HUGE_SIZE, e[1].pgsize_bitmap);
	ASSERT_EQ(0, e[0].aperture_start);
	ASSERT_EQ(IOASID_MOCK_APERTURE_LAST, e[0].aperture_last);
	ASSERT_EQ(0, e[0].attached_pt_id);
	ASSERT_EQ(self->ioas[1], e[1].attached_pt_id);
	ASSERT_EQ(0, e[0].nesting_formats);

	/* A short entry gets only what it has room for. */
	memset(e, 0xff, sizeof(e));
	num = 4;
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, 8));
	ASSERT_EQ(id[0], ((__u32 *)e)[0]);
	ASSERT_EQ(IOASID_PASID_NONE, ((__u32 *)e)[1]);
	ASSERT_EQ(id[1], ((__u32 *)e)[2]);
	ASSERT_EQ(0xffffffff, ((__u32 *)e)[4]);
	ASSERT_EQ(-EINVAL, ioasid_device_info(self->fd, e, &num, 3));
	num = 4;
	ASSERT_EQ(-EFAULT, ioasid_device_info(self->fd, (void *)8, &num, sizeof(e[0])));

	/* A device leaving disappears from the list. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m[1]));
	num = 4;
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(1, num);
	ASSERT_EQ(id[0], e[0].dev_id);
	/* And its IOAS is free to go. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
}

TEST_F(dev, attach_detach)
{
	struct ioasid_attach cmd = { .size = sizeof(cmd), .pasid = IOASID_PASID_NONE };
	__u32 m, id;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m));
	ASSERT_EQ(-ENOENT, ioasid_detach_pasid(self->fd, id, IOASID_PASID_NONE));
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, id + 100, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, 999));
	/* A device ID is not an IOAS, nor an IOAS a device. */
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, id));
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, self->ioas[0], IOASID_PASID_NONE, self->ioas[0]));
	/* A PASID on a device without PASID support. */
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id, 1, self->ioas[0]));
	cmd.dev_id = id;
	cmd.pt_id = self->ioas[0];
	cmd.flags = 1;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_ATTACH, &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_ATTACH, &cmd));
	cmd.__reserved = 0;
	ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, IOASID_DETACH, &cmd));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	/* Attaching again to the same IOAS changes nothing. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	/* Attached: neither the device nor the IOAS can be destroyed. */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, id));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[0]));
	/* The kAPI's plain attach refuses an attached device. */
	ASSERT_EQ(-EBUSY, mock_attach(self->mfd, m, self->ioas[1]));

	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id, IOASID_PASID_NONE));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 0, self->buf, PSZ, NULL));
	ASSERT_EQ(-ENOENT, ioasid_detach_pasid(self->fd, id, IOASID_PASID_NONE));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, id));
}

/* Replace moves the RID without a blocked window; failures leave it as it was. */
TEST_F(dev, replace)
{
	__u64 first, second;
	__u32 m, id, resv, rid, ioas3;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	first = mock_domain_serial(self->mfd, m);
	ASSERT_NE(0, first);
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[1]));
	second = mock_domain_serial(self->mfd, m);
	ASSERT_NE(0, second);
	ASSERT_NE(first, second);
	/* Same IOVA, now the other half of the buffer. */
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(-EINVAL, mock_check_map(self->mfd, m, 0, self->buf, PSZ, NULL));
	/* The old IOAS let go of its domain and may be destroyed. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));

	/* A replace that cannot work leaves the device where it was. */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas3));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_RESV, &resv, &rid));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas3, self->buf, PSZ, IOASID_MOCK_RESV_START));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, rid, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map(self->mfd, resv, 0, self->buf + MB, MB, NULL));
	first = mock_domain_serial(self->mfd, resv);
	ASSERT_EQ(-EADDRINUSE, ioasid_attach_pasid(self->fd, rid, IOASID_PASID_NONE, ioas3));
	ASSERT_EQ(0, mock_check_map(self->mfd, resv, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(first, mock_domain_serial(self->mfd, resv));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[1]));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas3));
	ASSERT_EQ(second, mock_domain_serial(self->mfd, m));
}

/*
 * A device registered with a domain of its own translates through exactly
 * that domain: the context replays the IOAS into it, keeps it in sync,
 * never shares it with other devices and never frees it.
 */
TEST_F(dev, own_domain)
{
	__u32 m1, id1, m2, id2, m3, id3;
	__u64 s1, s2, s3;
	long locked = vm_locked_kb();

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_OWN_DOMAIN, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_OWN_DOMAIN, &m2, &id2));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_OWN_DOMAIN, &m3, &id3));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m1));

	/* Replayed into the owned domain. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[0]));
	s1 = mock_domain_serial(self->mfd, m1);
	ASSERT_NE(0, s1);
	ASSERT_EQ(0, mock_check_map(self->mfd, m1, 0, self->buf, MB, NULL));

	/* Same flags, same IOAS: still never sharing an owned domain. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[0]));
	s2 = mock_domain_serial(self->mfd, m2);
	ASSERT_NE(0, s2);
	ASSERT_NE(s1, s2);
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));

	/* MAP and UNMAP reach every owned domain; pages charged once. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas[0], self->buf + MB,
				      PSZ, 4 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, m1, 4 * MB, self->buf + MB, PSZ, NULL));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 4 * MB, self->buf + MB, PSZ, NULL));
	/* One new page, two domains: charged once. */
	ASSERT_EQ(locked + PSZ / 1024, vm_locked_kb());
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas[0], 4 * MB, PSZ, NULL));
	ASSERT_EQ(locked, vm_locked_kb());
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m1, 4 * MB, self->buf + MB, PSZ, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m2, 4 * MB, self->buf + MB, PSZ, NULL));

	/* An owned domain feeds one IOAS: a replace elsewhere is refused. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(s2, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));

	/* Detach empties it; the next attach refills the same domain. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id1, IOASID_PASID_NONE));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m1));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(s1, mock_domain_serial(self->mfd, m1));
	ASSERT_EQ(0, mock_check_map(self->mfd, m1, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[1]));

	/* A third owned domain, attached to the IOAS the second left. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id2, IOASID_PASID_NONE));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id3, IOASID_PASID_NONE, self->ioas[1]));
	s3 = mock_domain_serial(self->mfd, m3);
	ASSERT_NE(s1, s3);
	ASSERT_NE(s2, s3);
	ASSERT_EQ(0, mock_check_map(self->mfd, m3, 0, self->buf + MB, MB, NULL));

	/* Unregistering while attached leaves nothing behind. */
	ASSERT_EQ(0, mock_dev_cmd(self->mfd, IOASID_MOCK_DEV_DEL, m1, 0));
	ASSERT_EQ(0, mock_dev_cmd(self->mfd, IOASID_MOCK_DEV_DEL, m2, 0));
	ASSERT_EQ(0, mock_dev_cmd(self->mfd, IOASID_MOCK_DEV_DEL, m3, 0));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
}

/*
 * Devices of one IOMMU group share its RID attachment: same IOAS only, it
 * lasts until the last of them detaches, and the group has one DMA owner.
 */
TEST_F(dev, group_shares_rid)
{
	const __u32 f = IOASID_MOCK_DEV_SHARED_GROUP;
	__u32 m1, id1, m2, id2, m3, id3;
	__u64 s1;
	int fd2;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m2, &id2));
	/* Another context cannot own a device of the same group. */
	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(-EBUSY, mock_dev_add(self->mfd, fd2, f, &m3, &id3));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[0]));
	s1 = mock_domain_serial(self->mfd, m1);
	ASSERT_NE(0, s1);
	/* The IOMMU attached the whole group: m2 translates already. */
	ASSERT_EQ(s1, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));
	/* m2 may join in the same IOAS, not move the group elsewhere. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(s1, mock_domain_serial(self->mfd, m2));
	/* Nor may a shared attachment be replaced through one member. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[0]));

	/* The first to leave leaves the group translating for the other. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id1, IOASID_PASID_NONE));
	ASSERT_EQ(-ENOENT, ioasid_detach_pasid(self->fd, id1, IOASID_PASID_NONE));
	ASSERT_EQ(s1, mock_domain_serial(self->mfd, m1));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));
	/* The last blocks the whole group. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id2, IOASID_PASID_NONE));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m1));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));

	/* With both gone the group is free for another context. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(-EBUSY, mock_dev_add(self->mfd, fd2, f, &m3, &id3));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	ASSERT_EQ(0, mock_dev_add(self->mfd, fd2, f, &m3, &id3));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m3));
	close(fd2);
}

/*
 * The group's RID attachment outlives the device that made it: the member
 * that stays can still move it, and nothing refers to the departed device
 * (KASAN: no use-after-free of the deleted platform device).
 */
TEST_F(dev, group_rid_outlives_creator)
{
	const __u32 f = IOASID_MOCK_DEV_SHARED_GROUP;
	__u32 m1, id1, m2, id2, m3, id3;
	__u64 s1;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[0]));
	s1 = mock_domain_serial(self->mfd, m2);
	ASSERT_NE(0, s1);

	/* The creator leaves; the group keeps translating for m2. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(s1, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));

	/* m2 moves it into IOAS 1, which has mappings and no domain yet. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_NE(s1, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));

	/* A new member joins, the old one leaves: the newcomer carries it. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m3, &id3));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id3, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m3, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id3, IOASID_PASID_NONE));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m3));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m3));
}

static int fault_inject(int mfd, __u32 mock_id, __u32 grpid)
{
	return mock_fault_inject_perm(mfd, mock_id, IOASID_MOCK_FAULT_LAST, 0, grpid,
				      0x1000, IOASID_FAULT_PERM_READ);
}

/*
 * A fault-delivering group RID: every member's page requests reach the
 * queue, each member's IOPF is its own (the mock warns about a device
 * released with IOPF still enabled), and once the creator is gone the
 * faults name a registration that is still there.
 */
TEST_F(dev, group_rid_faults_outlive_creator)
{
	const __u32 f = IOASID_MOCK_DEV_SHARED_GROUP | IOASID_MOCK_DEV_IOPF;
	struct ioasid_ioas_alloc ia = { .size = sizeof(ia),
					.flags = IOASID_IOAS_ALLOC_FAULT };
	struct ioasid_fault rec;
	__u32 m1, id1, m2, id2;
	int ffd;

	ASSERT_EQ(0, ioasid_fault_queue_alloc(self->fd, &ia.fault_id, &ffd));
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, &ia));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ia.out_ioas_id, self->buf, MB, 0));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, ia.out_ioas_id));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, ia.out_ioas_id));

	/* The joining member's requests are delivered too. */
	ASSERT_EQ(0, fault_inject(self->mfd, m2, 1));
	ASSERT_EQ(sizeof(rec), read(ffd, &rec, sizeof(rec)));
	ASSERT_EQ(id1, rec.dev_id);

	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(0, fault_inject(self->mfd, m2, 2));
	ASSERT_EQ(sizeof(rec), read(ffd, &rec, sizeof(rec)));
	ASSERT_EQ(2, rec.grpid);
	ASSERT_EQ(id2, rec.dev_id);
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	close(ffd);
}

/*
 * A device that shares its IOMMU group has no PASIDs: 6.12's core attaches
 * a PASID for every member of the group and asks the IOMMU to remove it
 * from every member, also one that joined after the attach (the fuzzer's
 * seed 4: a WARN in the mock's remove_dev_pasid when the context closed).
 */
TEST_F(dev, group_member_has_no_pasid)
{
	const __u32 f = IOASID_MOCK_DEV_SHARED_GROUP;
	__u32 m1, id1, m2, id2;

	ASSERT_EQ(-EINVAL, mock_dev_add(self->mfd, self->fd, f | IOASID_MOCK_DEV_PASID,
					&m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m1, &id1));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id1, 1, self->ioas[0]));
	ASSERT_EQ(-EINVAL, mock_dev_add(self->mfd, self->fd, f | IOASID_MOCK_DEV_PASID,
					&m2, &id2));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, f, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id2, 1, self->ioas[0]));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
}

/* Unregistering an attached device cleans up after it. */
TEST_F(dev, unregister_while_attached)
{
	long vmlck = vm_locked_kb();
	__u32 m, id;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_INSTANCE2, &m, &id));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, id));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
	ASSERT_EQ(vmlck - 1024, vm_locked_kb());
}

/*
 * Hot-remove of a mapped device beside another one on the same domain:
 * the other keeps translating through it (the same domain), the departed
 * one is gone from DEVICE_INFO and debugfs, nothing is pinned or charged
 * twice or left behind, and the IOAS goes on mapping for the device that
 * stays and for one that arrives.
 */
TEST_F(dev, dev_del_mapped_context_goes_on)
{
	struct ioasid_device_entry e[4];
	__u32 m1, id1, m2, id2, m3, id3, num = 4;
	long vmlck = vm_locked_kb();
	__u64 serial;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m1, &id1));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[0]));
	serial = mock_domain_serial(self->mfd, m1);
	ASSERT_NE(0, serial);
	ASSERT_EQ(serial, mock_domain_serial(self->mfd, m2));
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 1);
	ASSERT_EQ(2, ioasid_debugfs_count("object", " type device"));

	ASSERT_EQ(0, mock_dev_del(self->mfd, m1));
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(1, num);
	ASSERT_EQ(id2, e[0].dev_id);
	ASSERT_EQ(self->ioas[0], e[0].attached_pt_id);
	ASSERT_EQ(1, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(self->fd, id1, IOASID_PASID_NONE, self->ioas[1]));
	/* The same domain, whole; nothing pinned or charged again. */
	ASSERT_EQ(serial, mock_domain_serial(self->mfd, m2));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 1);
	ASSERT_EQ(vmlck, vm_locked_kb());

	/* The context goes on: new mappings, a new device, a move. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas[0], self->buf + MB, MB, 4 * MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 4 * MB, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m3, &id3));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id3, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(serial, mock_domain_serial(self->mfd, m3));
	ASSERT_EQ(0, mock_check_map(self->mfd, m3, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_check_map(self->mfd, m3, 4 * MB, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas[0], 4 * MB, MB, NULL));
	ASSERT_EQ(vmlck, vm_locked_kb());

	/* The rest leave as well: the IOASes hold only their own pins. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m3));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	ASSERT_EQ(0, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(2, ioasid_debugfs_count("object", " domains 0 "));
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 1);
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
	ASSERT_EQ(vmlck - 2048, vm_locked_kb());
	ASSERT_EQ(0, mock_pin_max(self->mfd, self->buf, 2 * MB));
}

/* A registered device keeps its context alive after user space closes it. */
TEST_F(dev, context_outlives_fd)
{
	int before = ioasid_debugfs_count("context", NULL);
	int fd = ioasid_open();
	__u32 m, id, ioas;
	char line[64];

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_ioas_alloc(fd, &ioas));
	ASSERT_EQ(0, mock_dev_add(self->mfd, fd, 0, &m, &id));
	ASSERT_EQ(0, ioasid_attach_pasid(fd, id, IOASID_PASID_NONE, ioas));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(before + 1, ioasid_debugfs_count("context", NULL));
	snprintf(line, sizeof(line), "attached %u", ioas);
	ASSERT_EQ(1, ioasid_debugfs_count("object", line));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(before, ioasid_debugfs_count("context", NULL));
}

/* Registration refuses what it must. */
TEST_F(dev, register_errors)
{
	__u32 m, id;
	int nulfd = open("/dev/null", O_RDWR);

	ASSERT_LE(0, nulfd);
	ASSERT_EQ(-EBADF, mock_dev_add(self->mfd, nulfd, 0, &m, &id));
	ASSERT_EQ(-EBADF, mock_dev_add(self->mfd, 9999, 0, &m, &id));
	ASSERT_EQ(-EBADF, mock_dev_add(self->mfd, self->mfd, 0, &m, &id));
	close(nulfd);
	/* Without interrupt isolation, only when the admin allows it. */
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "0"));
	ASSERT_EQ(-EPERM, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
}

static int floor_map(int mfd, __u32 flags, __u32 mock_id, void *va,
		     __u64 length, __u64 iova)
{
	struct ioasid_mock_floor_map cmd = {
		.size = sizeof(cmd), .flags = flags, .mock_id = mock_id,
		.uptr = (uintptr_t)va, .length = length, .iova = iova,
	};

	return ioasid_ioctl(mfd, IOASID_MOCK_FLOOR_MAP, &cmd);
}

/*
 * The benchmark floor's map (IOASID_MOCK_FLOOR_MAP): pins what it maps
 * until its unmap, one map at a time, and answers every bad argument with
 * its errno - a length larger than RAM with ENOMEM before anything is
 * allocated, never with kvmalloc()'s WARN. 1 TiB and 64 GiB are only
 * reserved (PROT_NONE): nothing may touch them.
 */
TEST_F(dev, floor_map)
{
	static const __u64 huge[] = { 1ULL << 40, 64ULL << 30 };
	unsigned long taint = kernel_taint();
	struct ioasid_mock_floor_map bad;
	unsigned int i;
	__u32 m;
	char *va;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, NULL));
	ASSERT_EQ(-EOPNOTSUPP, floor_map(self->mfd, 2, m, self->buf, MB, 0));
	bad = (struct ioasid_mock_floor_map){ .size = sizeof(bad), .mock_id = m,
		.__reserved = 1, .uptr = (uintptr_t)self->buf, .length = MB };
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->mfd, IOASID_MOCK_FLOOR_MAP, &bad));
	ASSERT_EQ(-EINVAL, floor_map(self->mfd, 0, m, self->buf + 8, MB, 0));
	ASSERT_EQ(-EINVAL, floor_map(self->mfd, 0, m, self->buf, MB - 8, 0));
	ASSERT_EQ(-EINVAL, floor_map(self->mfd, 0, m, self->buf, 0, 0));
	ASSERT_EQ(-EINVAL, floor_map(self->mfd, 0, m, self->buf, MB, -PSZ));
	ASSERT_EQ(-ENOENT, floor_map(self->mfd, 0, m + 100, self->buf, MB, 0));
	ASSERT_EQ(-ENOENT, floor_map(self->mfd, IOASID_MOCK_FLOOR_UNMAP, m, NULL, 0, 0));

	ASSERT_EQ(0, floor_map(self->mfd, 0, m, self->buf, MB, 16 * MB));
	/* The fixture's two IOAS maps pin every page once; the floor once more. */
	ASSERT_PINNED(self->mfd, self->buf, MB, 2);
	ASSERT_PINNED(self->mfd, self->buf + MB, MB, 1);
	ASSERT_EQ(-EBUSY, floor_map(self->mfd, 0, m, self->buf + MB, MB, 32 * MB));
	ASSERT_EQ(0, floor_map(self->mfd, IOASID_MOCK_FLOOR_UNMAP, m, NULL, 0, 0));
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 1);
	ASSERT_EQ(-ENOENT, floor_map(self->mfd, IOASID_MOCK_FLOOR_UNMAP, m, NULL, 0, 0));

	va = mmap(NULL, huge[0], PROT_NONE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, va);
	for (i = 0; i < 2; i++) {
		long pending = 1;
		int rc;

		if (fail_nth_supported()) {
			ASSERT_EQ(0, fail_nth_setup());
			ASSERT_EQ(0, fail_nth_arm(1));
		}
		rc = floor_map(self->mfd, 0, m, va, huge[i], 0);
		if (fail_nth_supported()) {
			pending = fail_nth_pending();
			fail_nth_arm(0);
		}
		EXPECT_EQ(-ENOMEM, rc) TH_LOG("floor map of %llu GiB", huge[i] >> 30);
		/* Refused before anything was allocated. */
		EXPECT_EQ(1, pending) TH_LOG("floor map of %llu GiB", huge[i] >> 30);
	}
	munmap(va, huge[0]);
	ASSERT_EQ(0, (kernel_taint() & ~taint) & TAINT_WARN_BIT);
	/* The floor still works after the refusals. */
	ASSERT_EQ(0, floor_map(self->mfd, 0, m, self->buf, 2 * MB, 0));
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 2);
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	/* Deleting the device ends its floor map. */
	ASSERT_PINNED(self->mfd, self->buf, 2 * MB, 1);
}

/* Two contexts: neither sees nor attaches the other's devices. */
TEST_F(dev, contexts_are_isolated)
{
	struct ioasid_device_entry e[2];
	__u32 m, id, num = 2, ioas;
	int other = ioasid_open();

	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_ioas_alloc(other, &ioas));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, ioasid_device_info(other, e, &num, sizeof(e[0])));
	ASSERT_EQ(0, num);
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(other, id, IOASID_PASID_NONE, ioas));
	/* The IOAS of another context is not a target either. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	close(other);
}

/*
 * The kAPI resolves an IOAS ID in the context the device was registered
 * with: IDs are per context, so a number taken from another context names
 * this context's object of that number, or nothing (ENOENT); the other
 * context's IOAS is never attached or referenced.
 */
TEST_F(dev, kapi_attach_resolves_in_own_context)
{
	__u32 m, id, o[4], i, num = 4;
	struct ioasid_device_entry e[4];
	int other = ioasid_open();
	char *obuf;

	ASSERT_LE(0, other);
	obuf = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, obuf);
	memset(obuf, 0x5a, MB);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, ioasid_ioas_alloc(other, &o[i]));
		ASSERT_EQ(0, ioasid_map_fixed(other, o[i], obuf, MB, 0));
	}
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	/* This context: ioas[0], ioas[1], the device; the other's o[3] is free here. */
	ASSERT_EQ(self->ioas[0], o[0]);
	ASSERT_EQ(self->ioas[1], o[1]);
	ASSERT_EQ(id, o[2]);
	ASSERT_EQ(-ENOENT, mock_attach(self->mfd, m, o[3]));
	ASSERT_EQ(-ENOENT, mock_attach(self->mfd, m, o[2]));
	ASSERT_EQ(0, mock_domain_serial(self->mfd, m));
	/* The user API is no way around it either. */
	ASSERT_EQ(-ENOENT, ioasid_attach_pasid(other, id, IOASID_PASID_NONE, o[0]));
	ASSERT_EQ(0, ioasid_device_info(other, e, &num, sizeof(e[0])));
	ASSERT_EQ(0, num);

	/* The number of the other's first IOAS is this context's first IOAS. */
	ASSERT_EQ(0, mock_attach(self->mfd, m, o[0]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(-EINVAL, mock_check_map(self->mfd, m, 0, obuf, PSZ, NULL));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[0]));
	/* Nothing holds the other context's IOAS: all of them go. */
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, ioasid_destroy(other, o[i]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_detach(self->mfd, m));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	close(other);
	munmap(obuf, MB);
}

static __u64 pasid_serial(int mfd, __u32 mock_id, __u32 pasid)
{
	struct ioasid_mock_domain_info info = { .size = sizeof(info), .mock_id = mock_id,
						.flags = IOASID_MOCK_PASID_VALID,
						.pasid = pasid };

	if (ioasid_ioctl(mfd, IOASID_MOCK_DOMAIN_INFO, &info))
		return ~0ULL;
	return info.out_domain_serial;
}

/* The RID and PASIDs of one device translate through different IOAS. */
TEST_F(dev, pasid_attach)
{
	struct ioasid_device_entry e[1];
	__u32 m, id, num = 1, max = 1U << IOASID_MOCK_PASID_BITS;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &m, &id));
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(IOASID_DEVICE_PASID, e[0].flags);
	ASSERT_EQ(IOASID_MOCK_PASID_BITS, e[0].max_pasid_bits);

	/* PASID 0 is the RID's; the width is enforced. */
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, id, 0, self->ioas[0]));
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, id, max, self->ioas[0]));
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, id, 0x7fffffff, self->ioas[0]));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, 5, self->ioas[1]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, max - 1, self->ioas[0]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 5, 0, self->buf + MB, MB));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, max - 1, 0, self->buf, MB));
	/* The RID and PASID max-1 share the IOAS's domain. */
	ASSERT_EQ(mock_domain_serial(self->mfd, m), pasid_serial(self->mfd, m, max - 1));
	ASSERT_NE(0, pasid_serial(self->mfd, m, 5));
	ASSERT_EQ(0, pasid_serial(self->mfd, m, 6));

	/* Replace a PASID's IOAS; the RID is untouched. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, 5, self->ioas[0]));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 5, 0, self->buf, MB));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	/* ioas[1] lost its last user: it can go. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));

	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id, 5));
	ASSERT_EQ(-ENOENT, ioasid_detach_pasid(self->fd, id, 5));
	ASSERT_EQ(0, pasid_serial(self->mfd, m, 5));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[0]));
	/* Unregistering detaches the rest. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
}

/*
 * An UNMAP syncs the IOTLB of the domain of every attachment: a RID's and a
 * PASID's, each of its own IOAS (the mock IOTLB would otherwise still
 * translate the IOVAs: CHECK_MAP says EBUSY).
 */
TEST_F(dev, unmap_syncs_pasid_and_rid_iotlb)
{
	__u32 m, id;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &m, &id));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, self->ioas[0]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, 7, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf + MB, MB));

	ASSERT_EQ(0, ioasid_unmap(self->fd, self->ioas[1], 0, MB, NULL));
	ASSERT_EQ(0, mock_unsynced(self->mfd, m, IOASID_MOCK_PASID_VALID, 7));
	ASSERT_EQ(-ENOENT, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf + MB, PSZ));
	/* The RID's domain (another IOAS) kept its mapping. */
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));

	ASSERT_EQ(0, ioasid_unmap_all(self->fd, self->ioas[0], NULL));
	ASSERT_EQ(0, mock_unsynced(self->mfd, m, 0, 0));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, MB - PSZ, self->buf + MB - PSZ, PSZ,
					  NULL));

	/* Mapped again, it translates again. */
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas[1], self->buf, MB, 0));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, 7, 0, self->buf, MB));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
}

/*
 * The seed's rule: sub-devices of one parent binding the same PASID share
 * the binding, and one unbinding leaves the others working; any other
 * second binding of an attached (device, PASID) is refused with EBUSY.
 */
TEST_F(dev, subdevices_share_a_pasid)
{
	struct ioasid_device_entry e[4];
	__u32 parent, pid, s1, s1id, s2, s2id, s3, s3id, num = 4;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &parent, &pid));
	ASSERT_EQ(0, mock_subdev_add(self->mfd, parent, 7, &s1, &s1id));
	ASSERT_EQ(0, mock_subdev_add(self->mfd, parent, 7, &s2, &s2id));
	ASSERT_EQ(0, mock_subdev_add(self->mfd, parent, 9, &s3, &s3id));
	ASSERT_EQ(-EINVAL, mock_subdev_add(self->mfd, parent, 1U << IOASID_MOCK_PASID_BITS,
					   &s3, &s3id));
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, sizeof(e[0])));
	ASSERT_EQ(4, num);
	ASSERT_EQ(7, e[1].pasid);
	ASSERT_EQ(IOASID_DEVICE_SUBDEV, e[1].flags);
	ASSERT_STREQ(e[0].name, e[1].name);

	/* A sub-device may only use its own PASID. */
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, s1id, IOASID_PASID_NONE, self->ioas[0]));
	ASSERT_EQ(-EINVAL, ioasid_attach_pasid(self->fd, s1id, 9, self->ioas[0]));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, s1id, 7, self->ioas[0]));
	/* The second sub-device shares it, to the same IOAS only. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, s2id, 7, self->ioas[1]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, s2id, 7, self->ioas[0]));
	/* The whole device cannot take the PASID its sub-devices hold. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, pid, 7, self->ioas[0]));
	/* A shared binding is not replaced from under the others. */
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, s1id, 7, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, parent, 7, 0, self->buf, MB));

	/* One unbinding leaves the other working. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, s1id, 7));
	ASSERT_EQ(-ENOENT, ioasid_detach_pasid(self->fd, s1id, 7));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, parent, 7, 0, self->buf, MB));
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->ioas[0]));
	/* The last one unbinding blocks the PASID. */
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, s2id, 7));
	ASSERT_EQ(0, pasid_serial(self->mfd, parent, 7));
	ASSERT_EQ(-ENOENT, mock_check_map_pasid(self->mfd, parent, 7, 0, self->buf, PSZ));

	/* The same non-sub-device binding a PASID a second time: EBUSY. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, pid, 9 + 1, self->ioas[1]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, s3id, 9, self->ioas[1]));
	ASSERT_EQ(-EBUSY, ioasid_attach_pasid(self->fd, pid, 9, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, parent, 9, 0, self->buf + MB, MB));
	/* A parent with sub-devices cannot go first. */
	ASSERT_EQ(-EBUSY, mock_dev_del(self->mfd, parent));
	ASSERT_EQ(0, mock_dev_del(self->mfd, s3));
	ASSERT_EQ(0, pasid_serial(self->mfd, parent, 9));
	ASSERT_EQ(0, mock_dev_del(self->mfd, s2));
	ASSERT_EQ(0, mock_dev_del(self->mfd, s1));
	ASSERT_EQ(0, mock_dev_del(self->mfd, parent));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
}

/* Sub-devices need a parent with PASIDs. */
/* A sub-device's PASID from the global allocator: unique, attachable. */
TEST_F(dev, global_pasid)
{
	struct ioasid_mock_subdev_add sa = { .size = sizeof(sa) };
	__u32 m, id, plain, pid, s[2], sid[2], p[2];
	int i;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &plain, &pid));
	ASSERT_EQ(-EOPNOTSUPP, mock_subdev_add(self->mfd, plain,
					       IOASID_MOCK_PASID_GLOBAL, &s[0], &sid[0]));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &m, &id));
	for (i = 0; i < 2; i++) {
		sa.parent_mock_id = m;
		sa.pasid = IOASID_MOCK_PASID_GLOBAL;
		ASSERT_EQ(0, ioasid_ioctl(self->mfd, IOASID_MOCK_SUBDEV_ADD, &sa));
		s[i] = sa.out_mock_id;
		sid[i] = sa.out_dev_id;
		p[i] = sa.pasid;
		ASSERT_LT(0, p[i]);
		ASSERT_GT(1U << IOASID_MOCK_PASID_BITS, p[i]);
	}
	ASSERT_NE(p[0], p[1]);
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, sid[0], p[0], self->ioas[0]));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, sid[1], p[1], self->ioas[1]));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, p[0], 0, self->buf, MB));
	ASSERT_EQ(0, mock_check_map_pasid(self->mfd, m, p[1], 0, self->buf + MB, MB));
	/* Freed with its sub-device: the PASID detached first. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, s[0]));
	ASSERT_EQ(-ENOENT, mock_check_map_pasid(self->mfd, m, p[0], 0, self->buf, PSZ));
	ASSERT_EQ(0, mock_dev_del(self->mfd, s[1]));
}

TEST_F(dev, subdevice_errors)
{
	__u32 m, id, s, sid;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(-EOPNOTSUPP, mock_subdev_add(self->mfd, m, 3, &s, &sid));
	ASSERT_EQ(-ENOENT, mock_subdev_add(self->mfd, m + 100, 3, &s, &sid));
}

struct racer {
	int fd;
	int mfd;
	__u32 dev_id;
	__u32 mock_id;
	__u32 ioas[2];
	char *buf;
	int rounds;
	int errors;
};

/* Attach, replace and detach the RID and a PASID, over and over. */
static void *attacher(void *p)
{
	struct racer *r = p;
	int i;

	for (i = 0; i < r->rounds; i++) {
		if (ioasid_attach_pasid(r->fd, r->dev_id, IOASID_PASID_NONE, r->ioas[i & 1]) ||
		    ioasid_attach_pasid(r->fd, r->dev_id, 3, r->ioas[!(i & 1)]))
			r->errors++;
		if (i % 3 == 0 && (ioasid_detach_pasid(r->fd, r->dev_id, IOASID_PASID_NONE) ||
				   ioasid_detach_pasid(r->fd, r->dev_id, 3)))
			r->errors++;
	}
	return NULL;
}

/* Map and unmap in both IOAS while the device moves between them. */
static void *mapper(void *p)
{
	struct racer *r = p;
	int i;

	for (i = 0; i < r->rounds; i++) {
		__u32 ioas = r->ioas[i & 1];

		if (ioasid_map_fixed(r->fd, ioas, r->buf, 64 * PSZ, 16 * MB) ||
		    ioasid_unmap(r->fd, ioas, 16 * MB, 64 * PSZ, NULL))
			r->errors++;
	}
	return NULL;
}

/* Readers of device state while it changes. */
static void *lister(void *p)
{
	struct racer *r = p;
	struct ioasid_device_entry e[2];
	int i;

	for (i = 0; i < r->rounds * 2; i++) {
		__u32 num = 2;

		if (ioasid_device_info(r->fd, e, &num, sizeof(e[0])))
			r->errors++;
		ioasid_debugfs_count("object", NULL);
	}
	return NULL;
}

TEST_F(dev, stress_attach_replace_map)
{
	struct racer r[3];
	pthread_t th[3];
	void *(*fn[3])(void *) = { attacher, mapper, lister };
	long vmlck = vm_locked_kb();
	__u32 m, id;
	int i;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &m, &id));
	for (i = 0; i < 3; i++) {
		r[i] = (struct racer){ .fd = self->fd, .mfd = self->mfd, .dev_id = id,
				       .mock_id = m, .ioas = { self->ioas[0], self->ioas[1] },
				       .buf = self->buf, .rounds = 150 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, fn[i], &r[i]));
	}
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, r[i].errors);
	}
	/* Whatever the interleaving, the end state is consistent. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[1]));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf + MB, MB, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 16 * MB, self->buf, PSZ, NULL));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(vmlck, vm_locked_kb());
}

/* A large IOAS, for a replay that takes seconds (TCG). */
#define REPLAY_LEN	(256 * MB)
#define REPLAY_IOVA	(1UL << 32)

struct replayer {
	int fd;
	__u32 dev_id;
	__u32 ioas;
	int rc;
	volatile int done;
};

/* Attach (the replay of REPLAY_LEN into a new domain), then say so. */
static void *replayer(void *p)
{
	struct replayer *r = p;

	r->rc = ioasid_attach(r->fd, r->dev_id, r->ioas);
	__atomic_store_n(&r->done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/*
 * Attaches of different IOMMU groups do not wait for each other: context
 * A attaches a device to an IOAS holding REPLAY_LEN of non-contiguous 4 KiB
 * pages, whose replay into the new domain takes long; once A's domain
 * exists (the mock counts its domains), context B attaches a device of
 * another group to a small IOAS, and that attach returns before A's does.
 * Under one global attach lock held across the replay, B's attach would
 * return only after A's. An ordering, not a timing: how long either takes
 * is for 'make bench' (ioasid-bench-attach).
 */
TEST_F_TIMEOUT(dev, attach_during_other_group_replay, 300)
{
	struct ioasid_mock_domain_info info;
	struct replayer r = { .fd = -1 };
	__u32 ma, mb, idb;
	__u64 domains;
	pthread_t th;
	size_t off;
	int mfd_a, b_first;
	char *big;

	/* Context A: its own files, a large IOAS and a device. */
	r.fd = ioasid_open();
	ASSERT_LE(0, r.fd);
	mfd_a = mock_open();
	ASSERT_LE(0, mfd_a);
	big = mmap(NULL, REPLAY_LEN, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, big);
	madvise(big, REPLAY_LEN, MADV_NOHUGEPAGE);
	/* Even pages first, then odd ones: neighbours are not contiguous. */
	for (off = 0; off < REPLAY_LEN; off += 2 * PSZ)
		big[off] = 1;
	for (off = PSZ; off < REPLAY_LEN; off += 2 * PSZ)
		big[off] = 1;
	ASSERT_EQ(0, ioasid_ioas_alloc(r.fd, &r.ioas));
	ASSERT_EQ(0, ioasid_map_fixed(r.fd, r.ioas, big, REPLAY_LEN, REPLAY_IOVA));
	ASSERT_EQ(0, mock_dev_add(mfd_a, r.fd, 0, &ma, &r.dev_id));

	/* Context B (the fixture's): a device of another group, small IOAS. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &mb, &idb));
	ASSERT_EQ(0, mock_domain_info(self->mfd, mb, &info));
	domains = info.out_domains;

	ASSERT_EQ(0, pthread_create(&th, NULL, replayer, &r));
	/* A's new domain exists: A is in its replay (or attaching). */
	do {
		ASSERT_EQ(0, mock_domain_info(self->mfd, mb, &info));
		if (info.out_domains > domains)
			break;
		sched_yield();
	} while (!__atomic_load_n(&r.done, __ATOMIC_SEQ_CST));
	ASSERT_GT(info.out_domains, domains) {
		TH_LOG("A's attach finished before its domain was seen");
	}
	ASSERT_EQ(0, ioasid_attach(self->fd, idb, self->ioas[0]));
	b_first = !__atomic_load_n(&r.done, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, pthread_join(th, NULL));
	ASSERT_EQ(0, r.rc);
	ASSERT_TRUE(b_first) {
		TH_LOG("B's attach waited for A's replay");
	}
	ASSERT_EQ(0, mock_check_map(self->mfd, mb, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_check_map(mfd_a, ma, REPLAY_IOVA, big, 2 * MB, NULL));
	ASSERT_EQ(0, mock_check_map(mfd_a, ma, REPLAY_IOVA + REPLAY_LEN - 2 * MB,
				    big + REPLAY_LEN - 2 * MB, 2 * MB, NULL));

	ASSERT_EQ(0, mock_dev_del(self->mfd, mb));
	ASSERT_EQ(0, mock_dev_del(mfd_a, ma));
	close(mfd_a);
	close(r.fd);
	ASSERT_EQ(0, munmap(big, REPLAY_LEN));
}

struct destroyer {
	int fd;
	volatile __u32 *dev_id;
	volatile int *armed;
	volatile int *stop;
	unsigned long calls;
	unsigned long destroyed;
	unsigned long other;
};

/*
 * DESTROY the device's ID while the mock unregisters it, over and over:
 * EBUSY while it is registered, ENOENT once it is gone.
 */
static void *destroyer(void *p)
{
	struct destroyer *d = p;

	while (!*d->stop) {
		__u32 id = *d->dev_id;
		int rc;

		if (!*d->armed) {
			sched_yield();	/* let the device be created */
			continue;
		}
		rc = ioasid_destroy(d->fd, id);
		d->calls++;
		if (!rc) {
			d->destroyed++;
			fprintf(stderr, "# DESTROY(%u) of a registered device succeeded\n", id);
		} else if (rc != -EBUSY && rc != -ENOENT) {
			d->other++;
		}
	}
	return NULL;
}

/*
 * The mock unregisters a device while threads DESTROY its ID: the ID is
 * never destroyed through the table (the subsystem's reference and the
 * table entry go in one step), and unregistering always returns. Mostly
 * sub-devices, which register and unregister without a platform device
 * being made, so thousands of rounds fit; every 16th a whole device.
 */
TEST_F_TIMEOUT(dev, unregister_races_destroy, 180)
{
	struct destroyer d[2];
	volatile __u32 dev_id = 0;
	volatile int armed = 0, stop = 0;
	pthread_t th[2];
	struct timespec t0, t;
	unsigned int rounds;
	__u32 parent, m, id;
	int i;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID, &parent, NULL));
	for (i = 0; i < 2; i++) {
		d[i] = (struct destroyer){ .fd = self->fd, .dev_id = &dev_id,
					   .armed = &armed, .stop = &stop };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, destroyer, &d[i]));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (rounds = 0; rounds < 4000; rounds++) {
		if (rounds % 16) {
			ASSERT_EQ(0, mock_subdev_add(self->mfd, parent, 1 + rounds % 200, &m, &id));
		} else {
			ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
		}
		dev_id = id;
		if (rounds % 8 == 0) {
			ASSERT_EQ(0, mock_attach(self->mfd, m, self->ioas[rounds & 8 ? 1 : 0]));
		}
		armed = 1;
		ASSERT_EQ(0, mock_dev_del(self->mfd, m));
		armed = 0;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= 90)
			break;
	}
	stop = 1;
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		TH_LOG("destroyer %d: %lu calls", i, d[i].calls);
		ASSERT_EQ(0, d[i].destroyed);
		ASSERT_EQ(0, d[i].other);
	}
	TH_LOG("%u rounds in %ld s", rounds, (long)(t.tv_sec - t0.tv_sec));
	/* Bounded in time: a loaded host may not finish them all. */
	ASSERT_LE(1000, rounds);
	/* Nothing is left of the devices; both IOAS are free. */
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, id));
	ASSERT_EQ(0, mock_dev_del(self->mfd, parent));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
}

/*
 * fail-nth over registration, RID attach, replace and PASID attach: each
 * call succeeds or fails with ENOMEM, and a failed one changes nothing.
 */
TEST_F_TIMEOUT(dev, fail_nth, 300)
{
	unsigned int nth, step, tolerated;
	__u32 m = 0, id = 0;
	long pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	for (step = 0; step < 4; step++) {
		tolerated = 0;
		TEST_FAIL_NTH(nth, 5000, pending) {
			__u64 serial = 0;
			int rc = 0;

			if (step >= 1) {
				ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID,
							  &m, &id));
			}
			if (step == 2) {
				ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas[0]));
				serial = mock_domain_serial(self->mfd, m);
			}
			switch (step) {
			case 0:
				/*
				 * Without a PASID property: 6.12's software
				 * node code drops a reference it never took when
				 * an injected failure hits its sysfs link in
				 * device_add(), and then frees the node twice.
				 */
				FAIL_NTH_CALL(nth, pending,
					      rc = mock_dev_add(self->mfd, self->fd, 0, &m, &id));
				break;
			case 1:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_attach(self->fd, id, self->ioas[0]));
				break;
			case 2:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_attach(self->fd, id, self->ioas[1]));
				break;
			case 3:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_attach_pasid(self->fd, id, 11, self->ioas[1]));
				break;
			}
			/*
			 * Registration may also fail with what the iommu core's
			 * failed probe leaves (a device without an IOMMU is not
			 * cache coherent: EINVAL; the mock: ENODEV).
			 */
			if (rc && step) {
				ASSERT_EQ(-ENOMEM, rc);
			} else if (!rc && !pending) {
				tolerated++;
			}
			switch (step) {
			case 0:
				if (rc) {
					__u32 num = 0;

					ASSERT_EQ(0, ioasid_device_info(self->fd, NULL, &num, 8));
					ASSERT_EQ(0, num);
				}
				break;
			case 1:
				ASSERT_EQ(rc ? -ENOENT : 0,
					  mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
				break;
			case 2:
				/* Replace failed: still on the first IOAS's domain. */
				if (rc) {
					ASSERT_EQ(serial, mock_domain_serial(self->mfd, m));
				}
				ASSERT_EQ(0, mock_check_map(self->mfd, m, 0,
							    self->buf + (rc ? 0 : MB), MB, NULL));
				break;
			case 3:
				ASSERT_EQ(rc ? -ENOENT : 0,
					  mock_check_map_pasid(self->mfd, m, 11, 0, self->buf + MB, MB));
				break;
			}
			if (!rc || step)
				ASSERT_EQ(0, mock_dev_del(self->mfd, m));
			/* Both IOAS are free again: nothing leaked a reference. */
			ASSERT_EQ(0, ioasid_debugfs_count("object", " attached ") -
				     ioasid_debugfs_count("object", " attached 0"));
		}
		TH_LOG("step %u: %u injection points, %u tolerated", step, nth - 1, tolerated);
	}
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[0]));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas[1]));
}

TEST_HARNESS_MAIN
