// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/ioasid uAPI contract: contexts, GET_INFO, the size rules every
 * ioctl follows, unknown ioctls and flags, DESTROY, object lifetime across
 * close, module references, concurrency and allocation failures.
 */
#include <pthread.h>
#include <stddef.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define MODULE_REFCNT "/sys/module/ioasid/refcnt"

/* One implemented command: how to build a valid argument for it. */
struct cmd_desc {
	const char *name;
	unsigned long ioctl;
	unsigned int size;	/* sizeof() of the struct in this header */
	unsigned int min_size;	/* size of the first version */
	/* Fill @buf with a valid argument; returns 0 or -errno. */
	int (*prepare)(int fd, void *buf);
};

#define OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* IOAS IDs prepare() and successful calls created; destroyed after each. */
static __u32 tracked[8];
static unsigned int ntracked;

static int track_new_ioas(int fd, __u32 *id)
{
	int rc = ioasid_ioas_alloc(fd, id);

	if (!rc)
		tracked[ntracked++] = *id;
	return rc;
}

static __u32 mock_dev_id;

static void drop_tracked(int fd)
{
	struct ioasid_attach det = { .size = sizeof(det), .dev_id = mock_dev_id,
				     .pasid = IOASID_PASID_NONE };

	/* The test's device may still be attached to a tracked IOAS. */
	if (mock_dev_id)
		ioasid_ioctl(fd, IOASID_DETACH, &det);
	while (ntracked)
		ioasid_destroy(fd, tracked[--ntracked]);
}

static char page[4096] __attribute__((aligned(4096)));

static int prep_get_info(int fd, void *buf)
{
	return 0;
}

static int prep_destroy(int fd, void *buf)
{
	struct ioasid_destroy *cmd = buf;

	return track_new_ioas(fd, &cmd->id);
}

static int prep_ioas_alloc(int fd, void *buf)
{
	return 0;
}

static int prep_map(int fd, void *buf)
{
	struct ioasid_map *cmd = buf;

	cmd->flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE;
	cmd->user_va = (uintptr_t)page;
	cmd->length = sizeof(page);
	cmd->iova = 1 << 20;
	return track_new_ioas(fd, &cmd->ioas_id);
}

static int prep_unmap(int fd, void *buf)
{
	struct ioasid_unmap *cmd = buf;
	int rc = track_new_ioas(fd, &cmd->ioas_id);

	cmd->iova = 1 << 20;
	cmd->length = sizeof(page);
	return rc ?: ioasid_map_fixed(fd, cmd->ioas_id, page, sizeof(page), cmd->iova);
}

static int prep_copy(int fd, void *buf)
{
	struct ioasid_copy *cmd = buf;
	int rc;

	rc = track_new_ioas(fd, &cmd->src_ioas_id) ?:
	     track_new_ioas(fd, &cmd->dst_ioas_id) ?:
	     ioasid_map_fixed(fd, cmd->src_ioas_id, page, sizeof(page), 1 << 20);
	cmd->flags = IOASID_MAP_READ;
	cmd->length = sizeof(page);
	cmd->src_iova = 1 << 20;
	return rc;
}

static struct ioasid_iova_range ranges[4];

static int prep_iova_ranges(int fd, void *buf)
{
	struct ioasid_iova_ranges *cmd = buf;

	cmd->num_ranges = 4;
	cmd->ranges = (uintptr_t)ranges;
	return track_new_ioas(fd, &cmd->ioas_id);
}

static int prep_ioas_option(int fd, void *buf)
{
	struct ioasid_ioas_option *cmd = buf;

	cmd->op = IOASID_OPTION_OP_GET;
	cmd->option = IOASID_OPTION_HUGE_PAGES;
	return track_new_ioas(fd, &cmd->ioas_id);
}

/* A mock device for ATTACH/DETACH, when the mock IOMMU is loaded. */
static int mock_fd = -1;

static int prep_device(int fd, __u32 *dev_id)
{
	__u32 mock_id;
	int rc;

	if (mock_fd < 0) {
		mock_fd = mock_open();
		if (mock_fd < 0)
			return -ENODEV;
		write_param("allow_unsafe_interrupts", "1");
		rc = mock_dev_add(mock_fd, fd, IOASID_MOCK_DEV_NESTING, &mock_id,
				  &mock_dev_id);
		write_param("allow_unsafe_interrupts", "0");
		if (rc)
			return rc;
	}
	*dev_id = mock_dev_id;
	return 0;
}

static int prep_device_info(int fd, void *buf)
{
	struct ioasid_device_info *cmd = buf;
	static struct ioasid_device_entry entries[4];

	cmd->entry_size = sizeof(entries[0]);
	cmd->num_devices = 4;
	cmd->devices = (uintptr_t)entries;
	return 0;
}

static int prep_attach(int fd, void *buf)
{
	struct ioasid_attach *cmd = buf;
	struct ioasid_attach det = { .size = sizeof(det), .pasid = IOASID_PASID_NONE };
	int rc = prep_device(fd, &cmd->dev_id) ?: track_new_ioas(fd, &cmd->pt_id);

	cmd->pasid = IOASID_PASID_NONE;
	det.dev_id = cmd->dev_id;
	ioasid_ioctl(fd, IOASID_DETACH, &det);
	return rc;
}

static int prep_detach(int fd, void *buf)
{
	struct ioasid_attach *cmd = buf;
	int rc = prep_attach(fd, buf);

	if (rc)
		return rc;
	cmd->size = sizeof(*cmd);
	rc = ioasid_ioctl(fd, IOASID_ATTACH, cmd);
	cmd->pt_id = 0;
	return rc;
}

static struct ioasid_mock_nested_data nested_data = { .iotlb = 1 };

static int prep_nested_alloc(int fd, void *buf)
{
	struct ioasid_nested_alloc *cmd = buf;

	cmd->data_type = IOASID_NESTED_DATA_MOCK;
	cmd->data_len = sizeof(nested_data);
	cmd->data_uptr = (uintptr_t)&nested_data;
	return prep_device(fd, &cmd->dev_id) ?: track_new_ioas(fd, &cmd->parent_id);
}

static struct ioasid_mock_inv_entry inv_entry = { .iotlb_id = 1 };

static int prep_invalidate(int fd, void *buf)
{
	struct ioasid_invalidate *cmd = buf;
	struct ioasid_nested_alloc na = { .size = sizeof(na) };
	int rc = prep_nested_alloc(fd, &na) ?: ioasid_ioctl(fd, IOASID_NESTED_ALLOC, &na);

	if (rc)
		return rc;
	/* Destroyed before its parent: tracked IDs go in reverse. */
	tracked[ntracked++] = na.out_nested_id;
	cmd->id = na.out_nested_id;
	cmd->data_type = IOASID_MOCK_INV_DATA;
	cmd->entry_len = sizeof(inv_entry);
	cmd->entry_num = 1;
	cmd->data_uptr = (uintptr_t)&inv_entry;
	return 0;
}

static int prep_fault_queue_alloc(int fd, void *buf)
{
	return 0;
}

/* After a successful call: destroy what IOAS_ALLOC created. */
static void after_success(int fd, unsigned long ioc, void *buf)
{
	struct ioasid_attach *at = buf;

	if (ioc == IOASID_IOAS_ALLOC)
		ioasid_destroy(fd, ((struct ioasid_ioas_alloc *)buf)->out_ioas_id);
	if (ioc == IOASID_NESTED_ALLOC)
		ioasid_destroy(fd, ((struct ioasid_nested_alloc *)buf)->out_nested_id);
	if (ioc == IOASID_FAULT_QUEUE_ALLOC) {
		struct ioasid_fault_queue_alloc *qa = buf;

		close(qa->out_fault_fd);
		ioasid_destroy(fd, qa->out_fault_id);
	}
	if (ioc == IOASID_ATTACH) {
		at->pt_id = 0;
		ioasid_ioctl(fd, IOASID_DETACH, at);
	}
}

#define CMD(_name, _struct, _last, _prep)				\
	{ #_name, IOASID_##_name, sizeof(struct _struct),		\
	  OFFSETOFEND(struct _struct, _last), _prep }

static const struct cmd_desc cmds[] = {
	CMD(GET_INFO, ioasid_get_info, out_ioctl_mask, prep_get_info),
	CMD(DESTROY, ioasid_destroy, id, prep_destroy),
	CMD(IOAS_ALLOC, ioasid_ioas_alloc, parent_id, prep_ioas_alloc),
	CMD(MAP, ioasid_map, iova, prep_map),
	CMD(UNMAP, ioasid_unmap, length, prep_unmap),
	CMD(COPY, ioasid_copy, src_iova, prep_copy),
	CMD(IOVA_RANGES, ioasid_iova_ranges, out_iova_alignment, prep_iova_ranges),
	CMD(IOAS_OPTION, ioasid_ioas_option, val, prep_ioas_option),
	CMD(DEVICE_INFO, ioasid_device_info, devices, prep_device_info),
	CMD(ATTACH, ioasid_attach, __reserved, prep_attach),
	CMD(DETACH, ioasid_attach, __reserved, prep_detach),
	CMD(NESTED_ALLOC, ioasid_nested_alloc, out_nested_id, prep_nested_alloc),
	CMD(INVALIDATE, ioasid_invalidate, data_uptr, prep_invalidate),
	CMD(FAULT_QUEUE_ALLOC, ioasid_fault_queue_alloc, out_fault_fd,
	    prep_fault_queue_alloc),
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))
#define TAIL 64

FIXTURE(ctx) {
	int fd;
};

FIXTURE_SETUP(ctx)
{
	self->fd = ioasid_open();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(ctx)
{
	close(self->fd);
	EXPECT_TEARDOWN_CLEAN(0, NULL, 0);
}

TEST(open_close_many)
{
	static int fds[512];
	int i, round;

	for (round = 0; round < 4; round++) {
		for (i = 0; i < 512; i++) {
			fds[i] = ioasid_open();
			ASSERT_LE(0, fds[i]);
		}
		/* Each context is independent: IDs start over in each. */
		for (i = 0; i < 512; i += 64) {
			__u32 id;

			ASSERT_EQ(0, ioasid_ioas_alloc(fds[i], &id));
			ASSERT_EQ(1, id);
		}
		for (i = 0; i < 512; i++)
			ASSERT_EQ(0, close(fds[i]));
	}
	ASSERT_EQ(-1, ioasid_debugfs_my_objects());
}

TEST_F(ctx, get_info)
{
	struct ioasid_get_info info = { .size = sizeof(info) };
	__u64 expect_mask = 0;
	unsigned int i;

	info.out_version = 0xdead;
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_GET_INFO, &info));
	ASSERT_EQ(IOASID_API_VERSION, info.out_version);
	ASSERT_EQ(IOASID_CAP_IOAS | IOASID_CAP_DEVICE | IOASID_CAP_NESTING |
		  IOASID_CAP_FAULT | IOASID_CAP_SW_NESTING, info.out_caps);
	/* Every command this test knows is implemented, and no other. */
	ASSERT_EQ(sizeof(info), info.size);
	for (i = 0; i < NCMDS; i++)
		expect_mask |= 1ULL << (_IOC_NR(cmds[i].ioctl) - IOASID_CMD_BASE);
	/* The mask reports exactly the commands this test knows work. */
	ASSERT_EQ(expect_mask, info.out_ioctl_mask);
}

/* Every number the mask reports is implemented; every other is ENOTTY. */
TEST_F(ctx, ioctl_mask_matches_dispatch)
{
	struct ioasid_get_info info = { .size = sizeof(info) };
	__u32 zero_size = 0;
	unsigned int nr;

	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_GET_INFO, &info));
	for (nr = 0; nr < 64; nr++) {
		unsigned long cmd = _IO(IOASID_TYPE, IOASID_CMD_BASE + nr);
		int rc = ioasid_ioctl(self->fd, cmd, &zero_size);

		if (info.out_ioctl_mask & (1ULL << nr)) {
			ASSERT_EQ(-EINVAL, rc);
		} else {
			ASSERT_EQ(-ENOTTY, rc);
		}
	}
}

TEST_F(ctx, unknown_ioctl)
{
	struct ioasid_get_info info = { .size = sizeof(info) };
	__u32 arg[16] = { sizeof(arg) };
	unsigned int past_last;

	/* The number after the highest one implemented. */
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_GET_INFO, &info));
	ASSERT_NE(0, info.out_ioctl_mask);
	past_last = IOASID_CMD_BASE + 64 - __builtin_clzll(info.out_ioctl_mask);

	/* Below the command base, other types, and encoded direction/size. */
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, 0), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, IOASID_CMD_BASE - 1), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, past_last), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE, 0xff), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IO(IOASID_TYPE + 1, IOASID_CMD_GET_INFO), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IOWR(IOASID_TYPE, IOASID_CMD_GET_INFO,
							 struct ioasid_get_info), arg));
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, _IOR(IOASID_TYPE, IOASID_CMD_DESTROY, __u32), arg));
	/* Generic file ioctls are not ours either. */
	ASSERT_EQ(-ENOTTY, ioasid_ioctl(self->fd, TCGETS, arg));
}

/* Prepare a fresh argument of @c into @buf with the given size. */
static int prepare(int fd, const struct cmd_desc *c, __u8 *buf, size_t bufsize,
		   __u32 size)
{
	int rc;

	drop_tracked(fd);
	memset(buf, 0, bufsize);
	rc = c->prepare(fd, buf);
	*(__u32 *)buf = size;
	return rc;
}

/* Close the mock device a test created for ATTACH/DETACH. */
static void drop_mock(void)
{
	if (mock_fd >= 0)
		close(mock_fd);
	mock_fd = -1;
	mock_dev_id = 0;
}

/* The size rules, for every implemented command. */
TEST_F(ctx, size_contract)
{
	static __u8 buf[4096], ref[4096];
	unsigned int i, j;

	for (i = 0; i < NCMDS; i++) {
		const struct cmd_desc *c = &cmds[i];

		TH_LOG("%s", c->name);
		if (prepare(self->fd, c, buf, sizeof(buf), 0) == -ENODEV) {
			TH_LOG("%s: no mock IOMMU for a device; size rules unchecked", c->name);
			continue;
		}

		/* size 0, 4, one byte short of the first version */
		ASSERT_EQ(0, prepare(self->fd, c, buf, sizeof(buf), 0));
		ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, c->ioctl, buf));
		*(__u32 *)buf = 4;
		ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, c->ioctl, buf));
		*(__u32 *)buf = c->min_size - 1;
		ASSERT_EQ(-EINVAL, ioasid_ioctl(self->fd, c->ioctl, buf));

		/* exact size succeeds */
		ASSERT_EQ(0, prepare(self->fd, c, buf, sizeof(buf), c->size));
		ASSERT_EQ(0, ioasid_ioctl(self->fd, c->ioctl, buf));
		memcpy(ref, buf, c->size);
		after_success(self->fd, c->ioctl, buf);

		/* larger, zero-filled: same result as the base */
		ASSERT_EQ(0, prepare(self->fd, c, buf, sizeof(buf), c->size + TAIL));
		ASSERT_EQ(0, ioasid_ioctl(self->fd, c->ioctl, buf));
		ASSERT_EQ(c->size + TAIL, *(__u32 *)buf);
		if (c->ioctl == IOASID_GET_INFO) {
			*(__u32 *)buf = c->size;
			ASSERT_EQ(0, memcmp(ref, buf, c->size));
		}
		/* nothing written beyond the kernel's struct */
		for (j = c->size; j < c->size + TAIL; j++)
			ASSERT_EQ(0, buf[j]);
		after_success(self->fd, c->ioctl, buf);

		/* a page-sized argument is fine when zero */
		ASSERT_EQ(0, prepare(self->fd, c, buf, sizeof(buf), sizeof(buf)));
		ASSERT_EQ(0, ioasid_ioctl(self->fd, c->ioctl, buf));
		after_success(self->fd, c->ioctl, buf);

		/* any non-zero byte beyond the kernel's struct: E2BIG */
		ASSERT_EQ(0, prepare(self->fd, c, buf, sizeof(buf), c->size + 1));
		buf[c->size] = 1;
		ASSERT_EQ(-E2BIG, ioasid_ioctl(self->fd, c->ioctl, buf));
		buf[c->size] = 0;
		buf[c->size + TAIL - 1] = 0x80;
		*(__u32 *)buf = c->size + TAIL;
		ASSERT_EQ(-E2BIG, ioasid_ioctl(self->fd, c->ioctl, buf));
		/* ... but a byte beyond the declared size is not looked at */
		*(__u32 *)buf = c->size + TAIL - 1;
		ASSERT_EQ(0, ioasid_ioctl(self->fd, c->ioctl, buf));
		after_success(self->fd, c->ioctl, buf);

		/* an unreadable argument */
		ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, c->ioctl, NULL));
	}
	drop_tracked(self->fd);
	drop_mock();
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
}

/* Output that cannot be written back fails the call and creates nothing. */
TEST_F(ctx, readonly_argument)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct ioasid_ioas_alloc *alloc;
	struct ioasid_get_info *info;
	void *page;

	page = mmap(NULL, psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, page);
	info = page;
	info->size = sizeof(*info);
	alloc = (void *)((char *)page + 256);
	alloc->size = sizeof(*alloc);
	ASSERT_EQ(0, mprotect(page, psz, PROT_READ));
	ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, IOASID_GET_INFO, info));
	ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, alloc));
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
	/* The ID reserved by the failed call was released. */
	ASSERT_EQ(0, mprotect(page, psz, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, alloc));
	ASSERT_EQ(1, alloc->out_ioas_id);
	munmap(page, psz);
}

/*
 * A creating call whose write-back fails (its struct straddles into a page
 * it cannot write) fails with EFAULT, creates nothing, and leaves the
 * output fields as they were - also those on the writable page.
 */
TEST_F(ctx, failed_write_back_leaves_output)
{
	const size_t qa_fd_off = offsetof(struct ioasid_fault_queue_alloc, out_fault_fd);
	const size_t ia_end = offsetof(struct ioasid_ioas_alloc, parent_id);
	long psz = sysconf(_SC_PAGESIZE);
	struct ioasid_fault_queue_alloc *qa, *qa2;
	struct ioasid_ioas_alloc *ia;
	int probe, next_fd;
	char *mem;

	/* Pages 0 and 2 writable, 1 and 3 read-only. */
	mem = mmap(NULL, 4 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0, 4 * psz);
	/* out_ioas_id writable, what follows it read-only. */
	ia = (void *)(mem + psz - ia_end);
	ia->size = sizeof(*ia);
	ia->out_ioas_id = 0x5a5a5a5a;
	/* out_fault_id writable, out_fault_fd read-only. */
	qa = (void *)(mem + 3 * psz - qa_fd_off);
	qa->size = sizeof(*qa);
	qa->out_fault_id = 0x5a5a5a5a;
	qa->out_fault_fd = -2;
	/* out_fault_id read-only, out_fault_fd writable. */
	qa2 = (void *)(mem + 2 * psz - qa_fd_off);
	qa2->size = sizeof(*qa2);
	qa2->out_fault_id = 0x5a5a5a5a;
	qa2->out_fault_fd = -2;
	ASSERT_EQ(0, mprotect(mem + psz, psz, PROT_READ));
	ASSERT_EQ(0, mprotect(mem + 3 * psz, psz, PROT_READ));

	next_fd = dup(0);
	ASSERT_LE(0, next_fd);
	close(next_fd);
	ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, ia));
	EXPECT_EQ(0x5a5a5a5a, ia->out_ioas_id);
	ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, IOASID_FAULT_QUEUE_ALLOC, qa));
	EXPECT_EQ(0x5a5a5a5a, qa->out_fault_id);
	EXPECT_EQ(-2, qa->out_fault_fd);
	ASSERT_EQ(-EFAULT, ioasid_ioctl(self->fd, IOASID_FAULT_QUEUE_ALLOC, qa2));
	EXPECT_EQ(0x5a5a5a5a, qa2->out_fault_id);
	EXPECT_EQ(-2, qa2->out_fault_fd);
	/* Nothing was created: no object, no file descriptor. */
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
	probe = dup(0);
	ASSERT_EQ(next_fd, probe);
	close(probe);

	/* Writable again, the same calls succeed with the first IDs. */
	ASSERT_EQ(0, mprotect(mem, 4 * psz, PROT_READ | PROT_WRITE));
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, ia));
	ASSERT_EQ(1, ia->out_ioas_id);
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_FAULT_QUEUE_ALLOC, qa));
	ASSERT_EQ(2, qa->out_fault_id);
	ASSERT_EQ(next_fd, qa->out_fault_fd);
	close(qa->out_fault_fd);
	munmap(mem, 4 * psz);
}

#define MANY_DEVICES 1101

/* DEVICE_INFO lists any number of devices that fits the array. */
TEST_F_TIMEOUT(ctx, device_info_many_devices, 900)
{
	const size_t esz = sizeof(struct ioasid_device_entry);
	struct ioasid_device_entry *e;
	__u32 m, id, num, prev = 0;
	unsigned int i;
	int mfd;

	mfd = mock_open();
	if (mfd < 0)
		SKIP(return, "no mock IOMMU (%s)", strerror(errno));
	e = calloc(2048, esz);
	ASSERT_NE(NULL, e);
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	for (i = 0; i < MANY_DEVICES; i++)
		ASSERT_EQ(0, mock_dev_add(mfd, self->fd, 0, &m, &id));
	write_param("allow_unsafe_interrupts", "0");

	num = 2048;
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, esz));
	ASSERT_EQ(MANY_DEVICES, num);
	for (i = 0; i < MANY_DEVICES; i++) {
		ASSERT_LT(prev, e[i].dev_id);
		ASSERT_STREQ("mock", e[i].subsystem);
		prev = e[i].dev_id;
	}
	ASSERT_EQ(id, prev);
	/* One entry short: EMSGSIZE and the count, with which the retry works. */
	num = MANY_DEVICES - 1;
	ASSERT_EQ(-EMSGSIZE, ioasid_device_info(self->fd, e, &num, esz));
	ASSERT_EQ(MANY_DEVICES, num);
	ASSERT_EQ(0, ioasid_device_info(self->fd, e, &num, esz));
	ASSERT_EQ(MANY_DEVICES, num);
	ASSERT_EQ(id, e[MANY_DEVICES - 1].dev_id);
	close(mfd);
	free(e);
}

static bool all_bytes(const __u8 *p, size_t len, __u8 val)
{
	while (len--)
		if (*p++ != val)
			return false;
	return true;
}

/*
 * DEVICE_INFO writes min(entry_size, its entry) bytes of each entry and
 * nothing else; entry sizes above 4096 are EINVAL.
 */
TEST_F(ctx, device_info_entry_size)
{
	const size_t esz = sizeof(struct ioasid_device_entry);
	long psz = sysconf(_SC_PAGESIZE);
	struct ioasid_device_entry *e;
	__u32 m[2], id[2], num;
	__u8 *mem;
	int mfd;

	mfd = mock_open();
	if (mfd < 0)
		SKIP(return, "no mock IOMMU (%s)", strerror(errno));
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	ASSERT_EQ(0, mock_dev_add(mfd, self->fd, 0, &m[0], &id[0]));
	ASSERT_EQ(0, mock_dev_add(mfd, self->fd, 0, &m[1], &id[1]));
	write_param("allow_unsafe_interrupts", "0");
	/* Three pages, then a guard page. */
	mem = mmap(NULL, 4 * psz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, mprotect(mem + 3 * psz, psz, PROT_NONE));

	/* A longer entry than the kernel's: its tail is not written. */
	memset(mem, 0xa5, 3 * psz);
	num = 2;
	ASSERT_EQ(0, ioasid_device_info(self->fd, mem, &num, esz + 40));
	ASSERT_EQ(2, num);
	e = (void *)mem;
	ASSERT_EQ(id[0], e->dev_id);
	ASSERT_STREQ("mock", e->subsystem);
	EXPECT_TRUE(all_bytes(mem + esz, 40, 0xa5));
	e = (void *)(mem + esz + 40);
	ASSERT_EQ(id[1], e->dev_id);
	EXPECT_TRUE(all_bytes(mem + 2 * esz + 40, 3 * psz - 2 * esz - 40, 0xa5));

	/* 4096 is the largest entry size. */
	memset(mem, 0xa5, 3 * psz);
	ASSERT_EQ(0, ioasid_device_info(self->fd, mem, &num, 4096));
	ASSERT_EQ(id[0], ((struct ioasid_device_entry *)mem)->dev_id);
	ASSERT_EQ(id[1], ((struct ioasid_device_entry *)(mem + 4096))->dev_id);
	EXPECT_TRUE(all_bytes(mem + esz, 4096 - esz, 0xa5));
	EXPECT_TRUE(all_bytes(mem + 4096 + esz, 3 * psz - 4096 - esz, 0xa5));

	/* Absurd sizes: EINVAL, nothing written. */
	memset(mem, 0xa5, 3 * psz);
	num = 1;
	ASSERT_EQ(-EINVAL, ioasid_device_info(self->fd, mem, &num, 4097));
	num = 1;
	ASSERT_EQ(-EINVAL, ioasid_device_info(self->fd, mem, &num, 0xffffffff));
	EXPECT_TRUE(all_bytes(mem, 3 * psz, 0xa5));
	munmap(mem, 4 * psz);
	close(mfd);
}

/* The number of lines of the kernel log containing @needle. */
static int klog_count(const char *needle)
{
	int len = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	int count = 0;
	char *buf, *p;

	if (len <= 0)
		return -1;
	buf = calloc(1, len + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, len);
	if (len < 0) {
		free(buf);
		return -1;
	}
	for (p = buf; (p = strstr(p, needle)); p += strlen(needle))
		count++;
	free(buf);
	return count;
}

/* Whether the @n pages at @va are physically contiguous from an @align boundary. */
static int phys_contiguous(void *va, unsigned int n, unsigned long align)
{
	long psz = sysconf(_SC_PAGESIZE);
	__u64 ent, first = 0;
	unsigned int i;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -1;
	for (i = 0; i < n; i++) {
		off_t off = ((uintptr_t)va / psz + i) * sizeof(ent);
		__u64 pfn;

		if (pread(fd, &ent, sizeof(ent), off) != sizeof(ent) || !(ent & (1ULL << 63))) {
			close(fd);
			return -1;
		}
		pfn = ent & ((1ULL << 55) - 1);
		if (!i)
			first = pfn;
		if (pfn != first + i || !pfn) {
			close(fd);
			return !pfn ? -1 : 0;
		}
	}
	close(fd);
	return !((first * psz) % align);
}

/*
 * A domain whose smallest IOPTE is 16 KiB cannot map memory that is not
 * physically contiguous in 16 KiB pages: MAP, and ATTACH over existing
 * mappings, fail with EINVAL (the MAP contract), and the IOMMU core is never
 * asked for an unaligned map (it would log "unaligned").
 */
TEST_F(ctx, big_iommu_page_over_small_pages)
{
	const unsigned long big = IOASID_MOCK_BIG_PGSIZE;
	long psz = sysconf(_SC_PAGESIZE);
	unsigned int i, n = big / psz;
	int mfd, memfd, klog, contig;
	__u32 ioas, bm, bid;
	char *va, *thp, *huge;
	long vmlck;

	mfd = mock_open();
	if (mfd < 0)
		SKIP(return, "no mock IOMMU (%s)", strerror(errno));
	klog = klog_count("unaligned: iova");
	ASSERT_LE(0, klog);
	/* 16 KiB of VA backed by one 4 KiB page, four times. */
	memfd = memfd_create("ioasid-page", 0);
	ASSERT_LE(0, memfd);
	ASSERT_EQ(0, ftruncate(memfd, psz));
	va = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, va);
	for (i = 0; i < n; i++)
		ASSERT_EQ(va + i * psz, mmap(va + i * psz, psz, PROT_READ | PROT_WRITE,
					     MAP_SHARED | MAP_FIXED, memfd, 0));
	memset(va, 0x11, psz);
	vmlck = vm_locked_kb();

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas));
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	ASSERT_EQ(0, mock_dev_add(mfd, self->fd, IOASID_MOCK_DEV_BIG_PGSIZE, &bm, &bid));
	write_param("allow_unsafe_interrupts", "0");
	ASSERT_EQ(0, ioasid_attach(self->fd, bid, ioas));
	ASSERT_EQ(-EINVAL, ioasid_map_fixed(self->fd, ioas, va, big, 0));
	ASSERT_EQ(vmlck, vm_locked_kb());
	ASSERT_EQ(klog, klog_count("unaligned: iova"));

	/* Mapped while no domain needs 16 KiB: the attach fails instead. */
	ASSERT_EQ(0, ioasid_detach(self->fd, bid));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas, va, big, 0));
	ASSERT_EQ(-EINVAL, ioasid_attach(self->fd, bid, ioas));
	ASSERT_EQ(-EINVAL, mock_attach(mfd, bm, ioas));
	ASSERT_EQ(klog, klog_count("unaligned: iova"));
	ASSERT_EQ(0, ioasid_unmap_all(self->fd, ioas, NULL));
	ASSERT_EQ(vmlck, vm_locked_kb());

	/* Memory that is contiguous in 16 KiB pages maps (a huge page). */
	thp = mmap(NULL, 4UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, thp);
	huge = (char *)(((uintptr_t)thp + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	madvise(huge, 2UL << 20, MADV_HUGEPAGE);
	memset(huge, 0x22, 2UL << 20);
	contig = phys_contiguous(huge, n, big);
	ASSERT_LE(0, contig);
	TH_LOG("16 KiB at %p %s physically contiguous", huge, contig ? "is" : "is not");
	ASSERT_EQ(0, ioasid_attach(self->fd, bid, ioas));
	ASSERT_EQ(contig ? 0 : -EINVAL, ioasid_map_fixed(self->fd, ioas, huge, big, 0));
	if (contig)
		ASSERT_EQ(0, mock_check_map(mfd, bm, 0, huge, big, NULL));
	ASSERT_EQ(klog, klog_count("unaligned: iova"));
	ASSERT_EQ(0, ioasid_detach(self->fd, bid));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas));
	ASSERT_EQ(vmlck, vm_locked_kb());
	close(mfd);
	munmap(thp, 4UL << 20);
	munmap(va, big);
	close(memfd);
}

TEST_F(ctx, unknown_flags_and_reserved)
{
	struct ioasid_get_info info = { .size = sizeof(info) };
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		info.flags = 1U << bit;
		ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_GET_INFO, &info));
		alloc.flags = 1U << bit;
		/* The two flags work: fault_id and parent_id 0 name nothing. */
		ASSERT_EQ(alloc.flags == IOASID_IOAS_ALLOC_FAULT ||
			  alloc.flags == IOASID_IOAS_ALLOC_SW_NESTED ? -ENOENT : -EOPNOTSUPP,
			  ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, &alloc));
	}
	info.flags = 0;
	info.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_GET_INFO, &info));
	alloc.flags = 0;
	alloc.__reserved = 0x80000000;
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, &alloc));
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
}

TEST_F(ctx, destroy)
{
	__u32 a, b, c;

	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, 0));
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, 1));
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, 0xffffffff));
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, 0x7fffffff));

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &a));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &b));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &c));
	ASSERT_NE(0, a);
	ASSERT_NE(a, b);
	ASSERT_NE(b, c);
	ASSERT_EQ(3, ioasid_debugfs_my_objects());
	ASSERT_EQ(1, ioasid_debugfs_count("object", " type ioas ") >= 3);

	ASSERT_EQ(0, ioasid_destroy(self->fd, b));
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, b));
	ASSERT_EQ(2, ioasid_debugfs_my_objects());
	/* A freed ID is reused by the next allocation. */
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &b));
	ASSERT_EQ(0, ioasid_destroy(self->fd, a));
	ASSERT_EQ(0, ioasid_destroy(self->fd, b));
	ASSERT_EQ(0, ioasid_destroy(self->fd, c));
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
}

/* IDs are per context: one context cannot name another's objects. */
TEST_F(ctx, ids_are_per_context)
{
	int other = ioasid_open();
	__u32 id, oid;

	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &id));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &id));
	ASSERT_EQ(-ENOENT, ioasid_destroy(other, id));
	ASSERT_EQ(0, ioasid_ioas_alloc(other, &oid));
	ASSERT_EQ(1, oid);
	ASSERT_EQ(0, ioasid_destroy(other, oid));
	ASSERT_EQ(0, ioasid_destroy(self->fd, id));
	close(other);
}

TEST(close_with_objects_alive)
{
	int fd, i, before;
	__u32 id;

	before = ioasid_debugfs_count("context", NULL);
	ASSERT_LE(0, before);
	fd = ioasid_open();
	ASSERT_LE(0, fd);
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, ioasid_ioas_alloc(fd, &id));
	ASSERT_EQ(1000, ioasid_debugfs_my_objects());
	ASSERT_EQ(before + 1, ioasid_debugfs_count("context", NULL));
	ASSERT_EQ(0, close(fd));
	/* The context and its objects are gone (kmemleak checks the rest). */
	ASSERT_EQ(-1, ioasid_debugfs_my_objects());
	ASSERT_EQ(before, ioasid_debugfs_count("context", NULL));
}

/* The fd holds the module: it cannot be unloaded while a context is open. */
TEST(module_refcount_while_open)
{
	long base, now;
	int fd[3], i;

	base = read_long_file(MODULE_REFCNT);
	if (base < 0)
		SKIP(return, "ioasid is built in (no %s)", MODULE_REFCNT);
	for (i = 0; i < 3; i++) {
		fd[i] = ioasid_open();
		ASSERT_LE(0, fd[i]);
		now = read_long_file(MODULE_REFCNT);
		ASSERT_EQ(base + i + 1, now);
	}
	ASSERT_EQ(-1, syscall(SYS_delete_module, "ioasid", O_NONBLOCK));
	ASSERT_EQ(EWOULDBLOCK, errno);
	ASSERT_EQ(0, access(IOASID_DEV, F_OK));
	for (i = 0; i < 3; i++)
		close(fd[i]);
	ASSERT_EQ(base, read_long_file(MODULE_REFCNT));
}

TEST(device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(IOASID_DEV, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* Root only by default. */
	ASSERT_EQ(0600, st.st_mode & 0777);
	ASSERT_EQ(0, st.st_uid);
}

/* An unprivileged opener is refused by the node's mode. */
TEST(open_unprivileged)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		_exit(ioasid_open() < 0 && errno == EACCES ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

struct stress_arg {
	int fd;
	unsigned int seed;
	int iterations;
	int failures;
};

static void *stress_thread(void *p)
{
	struct stress_arg *a = p;
	int i;

	for (i = 0; i < a->iterations; i++) {
		struct ioasid_get_info info = { .size = sizeof(info) };
		__u32 id = rand_r(&a->seed) % 64 + 1;
		int rc;

		switch (rand_r(&a->seed) % 3) {
		case 0:
			rc = ioasid_ioas_alloc(a->fd, &id);
			break;
		case 1:
			rc = ioasid_destroy(a->fd, id);
			if (rc == -ENOENT || rc == -EBUSY)
				rc = 0;
			break;
		default:
			rc = ioasid_ioctl(a->fd, IOASID_GET_INFO, &info);
			break;
		}
		if (rc)
			a->failures++;
	}
	return NULL;
}

static void *debugfs_thread(void *p)
{
	volatile int *stop = p;

	while (!*stop)
		ioasid_debugfs_count("object", NULL);
	return NULL;
}

/* Threads allocating and destroying on one context, a debugfs reader. */
TEST_F(ctx, stress_alloc_destroy)
{
	struct stress_arg args[4];
	pthread_t th[4], reader;
	volatile int stop = 0;
	__u32 id;
	int i;

	ASSERT_EQ(0, pthread_create(&reader, NULL, debugfs_thread, (void *)&stop));
	for (i = 0; i < 4; i++) {
		args[i] = (struct stress_arg){ .fd = self->fd, .seed = i + 1,
					       .iterations = 3000 };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, stress_thread, &args[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, args[i].failures);
	}
	stop = 1;
	ASSERT_EQ(0, pthread_join(reader, NULL));
	for (id = 1; id <= 4 * 3000 + 1; id++)
		ioasid_destroy(self->fd, id);
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
}

/* Concurrent close of a context while other threads still use it. */
TEST(stress_close_while_busy)
{
	int round;

	for (round = 0; round < 50; round++) {
		struct stress_arg args[2];
		pthread_t th[2];
		int fd = ioasid_open(), i;

		ASSERT_LE(0, fd);
		for (i = 0; i < 2; i++) {
			args[i] = (struct stress_arg){ .fd = fd, .seed = round * 2 + i,
						       .iterations = 200 };
			ASSERT_EQ(0, pthread_create(&th[i], NULL, stress_thread, &args[i]));
		}
		/* The fd stays valid until the threads are done with it... */
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_join(th[i], NULL));
		/* ...and closing with whatever they left behind frees it. */
		ASSERT_EQ(0, close(fd));
	}
	ASSERT_EQ(-1, ioasid_debugfs_my_objects());
}

/*
 * fail-nth over open and IOAS_ALLOC: every allocation on the way fails in
 * turn; each call either succeeds or fails with ENOMEM, and a failed call
 * leaves no object behind (kmemleak and the debugfs count check the rest).
 */
TEST(fail_nth_open_and_alloc)
{
	unsigned int nth, ok_opens = 0, ok_allocs = 0;
	long pending;
	int fd, err;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());

	TEST_FAIL_NTH(nth, 1000, pending) {
		FAIL_NTH_CALL(nth, pending, fd = ioasid_open(); err = errno);
		if (pending > 0) {
			ASSERT_LE(0, fd);
			close(fd);
			break;
		}
		if (fd < 0) {
			ASSERT_EQ(ENOMEM, err);
		} else {
			ok_opens++;
			close(fd);
		}
	}
	TH_LOG("open: %u injection points, %u tolerated", nth - 1, ok_opens);

	fd = ioasid_open();
	ASSERT_LE(0, fd);
	TEST_FAIL_NTH(nth, 1000, pending) {
		__u32 id = 0;
		int rc = 0, objs;

		objs = ioasid_debugfs_my_objects();
		FAIL_NTH_CALL(nth, pending, rc = ioasid_ioas_alloc(fd, &id));
		if (pending > 0) {
			ASSERT_EQ(0, rc);
			ASSERT_EQ(objs + 1, ioasid_debugfs_my_objects());
			break;
		}
		if (rc) {
			ASSERT_EQ(-ENOMEM, rc);
			ASSERT_EQ(objs, ioasid_debugfs_my_objects());
		} else {
			ok_allocs++;
			ASSERT_EQ(objs + 1, ioasid_debugfs_my_objects());
		}
	}
	TH_LOG("IOAS_ALLOC: %u injection points, %u tolerated", nth - 1, ok_allocs);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(-1, ioasid_debugfs_my_objects());
}

TEST_HARNESS_MAIN
