/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the ioasid selftests. Each helper returns what the
 * kernel returned (0 or -errno) so tests can assert on the errno directly.
 */
#ifndef __IOASID_UTILS_H
#define __IOASID_UTILS_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/capability.h>
#include <linux/userfaultfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ioasid.h>
#include "ioasid_mock.h"

#define IOASID_DEV "/dev/ioasid"
#define IOASID_DEBUGFS "/sys/kernel/debug/ioasid/contexts"

/* ioctl() returning 0 or -errno. */
static inline int ioasid_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline int ioasid_open(void)
{
	return open(IOASID_DEV, O_RDWR | O_CLOEXEC);
}

static inline int ioasid_ioas_alloc(int fd, __u32 *id)
{
	struct ioasid_ioas_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioasid_ioctl(fd, IOASID_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

static inline int ioasid_destroy(int fd, __u32 id)
{
	struct ioasid_destroy cmd = { .size = sizeof(cmd), .id = id };

	return ioasid_ioctl(fd, IOASID_DESTROY, &cmd);
}

static inline int ioasid_map(int fd, __u32 ioas, void *va, size_t len,
			     __u64 *iova, __u32 flags)
{
	struct ioasid_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = *iova,
	};
	int rc = ioasid_ioctl(fd, IOASID_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

#define MAP_RW (IOASID_MAP_READ | IOASID_MAP_WRITE)
#define MAP_FIXED_RW (IOASID_MAP_FIXED_IOVA | MAP_RW)

static inline int ioasid_map_fixed(int fd, __u32 ioas, void *va, size_t len,
				   __u64 iova)
{
	return ioasid_map(fd, ioas, va, len, &iova, MAP_FIXED_RW);
}

/* Returns 0 or -errno; *unmapped gets the bytes unmapped. */
static inline int ioasid_unmap(int fd, __u32 ioas, __u64 iova, __u64 len,
			       __u64 *unmapped)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = ioasid_ioctl(fd, IOASID_UNMAP, &cmd);

	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

static inline int ioasid_unmap_all(int fd, __u32 ioas, __u64 *unmapped)
{
	struct ioasid_unmap cmd = {
		.size = sizeof(cmd),
		.flags = IOASID_UNMAP_ALL,
		.ioas_id = ioas,
	};
	int rc = ioasid_ioctl(fd, IOASID_UNMAP, &cmd);

	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

static inline int ioasid_copy(int fd, __u32 dst, __u32 src, __u64 src_iova,
			      __u64 len, __u64 *dst_iova, __u32 flags)
{
	struct ioasid_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = *dst_iova,
		.src_iova = src_iova,
	};
	int rc = ioasid_ioctl(fd, IOASID_COPY, &cmd);

	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

/* IOASID_COPY at a fixed IOVA, read/write: what a software-nested child maps. */
static inline int ioasid_copy_fixed(int fd, __u32 dst, __u32 src, __u64 src_iova,
				    __u64 len, __u64 dst_iova)
{
	return ioasid_copy(fd, dst, src, src_iova, len, &dst_iova,
			   IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE);
}

/* A software-nested child of IOAS @parent (IOASID_IOAS_ALLOC_SW_NESTED). */
static inline int ioasid_sw_child_alloc(int fd, __u32 parent, __u32 *id)
{
	struct ioasid_ioas_alloc cmd = { .size = sizeof(cmd),
					 .flags = IOASID_IOAS_ALLOC_SW_NESTED,
					 .parent_id = parent };
	int rc = ioasid_ioctl(fd, IOASID_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

/* IOASID_ATTACH of (@dev_id, @pasid) to @pt_id; IOASID_PASID_NONE: the RID. */
static inline int ioasid_attach_pasid(int fd, __u32 dev_id, __u32 pasid, __u32 pt_id)
{
	struct ioasid_attach cmd = { .size = sizeof(cmd), .dev_id = dev_id,
				     .pasid = pasid, .pt_id = pt_id };

	return ioasid_ioctl(fd, IOASID_ATTACH, &cmd);
}

static inline int ioasid_detach_pasid(int fd, __u32 dev_id, __u32 pasid)
{
	struct ioasid_attach cmd = { .size = sizeof(cmd), .dev_id = dev_id,
				     .pasid = pasid };

	return ioasid_ioctl(fd, IOASID_DETACH, &cmd);
}

#define ioasid_attach(fd, dev_id, pt_id) \
	ioasid_attach_pasid(fd, dev_id, IOASID_PASID_NONE, pt_id)
#define ioasid_detach(fd, dev_id) ioasid_detach_pasid(fd, dev_id, IOASID_PASID_NONE)

/* IOASID_FAULT_QUEUE_ALLOC: the queue's object ID in *@id, its fd in *@ffd. */
static inline int ioasid_fault_queue_alloc(int fd, __u32 *id, int *ffd)
{
	struct ioasid_fault_queue_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioasid_ioctl(fd, IOASID_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*id = cmd.out_fault_id;
		*ffd = cmd.out_fault_fd;
	}
	return rc;
}

/* An IOAS whose I/O page faults go to fault queue @fault_id. */
static inline int ioasid_ioas_alloc_fault(int fd, __u32 fault_id, __u32 *id)
{
	struct ioasid_ioas_alloc cmd = { .size = sizeof(cmd),
					 .flags = IOASID_IOAS_ALLOC_FAULT,
					 .fault_id = fault_id };
	int rc = ioasid_ioctl(fd, IOASID_IOAS_ALLOC, &cmd);

	if (!rc)
		*id = cmd.out_ioas_id;
	return rc;
}

/*
 * IOASID_DEVICE_INFO into @e, *@num entries of @entry_size bytes; *@num
 * gets the number of devices the context has, whatever the call returned.
 */
static inline int ioasid_device_info(int fd, void *e, __u32 *num, __u32 entry_size)
{
	struct ioasid_device_info cmd = { .size = sizeof(cmd), .entry_size = entry_size,
					  .num_devices = *num, .devices = (uintptr_t)e };
	int rc = ioasid_ioctl(fd, IOASID_DEVICE_INFO, &cmd);

	*num = cmd.num_devices;
	return rc;
}

/*
 * The number after "@key:" on the last line of the file @path that has it
 * (/proc's "key: value" files), or -1.
 */
static inline long read_key_long(const char *path, const char *key)
{
	size_t len = strlen(key);
	char line[256], *p;
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, key);
		if (p && p[len] == ':')
			v = strtol(p + len + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

/* The VmLck of this process, in KiB. */
static inline long vm_locked_kb(void)
{
	return read_key_long("/proc/self/status", "VmLck");
}

/*
 * Make RLIMIT_MEMLOCK bind this process: drop CAP_IPC_LOCK from its
 * effective set (root keeps every other capability) and, unless @limit is
 * RLIM_INFINITY, set the limit to @limit bytes. Returns 0 or -errno; for a
 * forked child of a test.
 */
static inline int memlock_bind(rlim_t limit)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2] = {};
	struct rlimit rl = { limit, limit };

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[0].effective &= ~(1U << CAP_IPC_LOCK);
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	if (limit != RLIM_INFINITY && setrlimit(RLIMIT_MEMLOCK, &rl))
		return -errno;
	return 0;
}

#define IOASID_MOCK_DEV "/dev/ioasid_mock"

static inline int mock_open(void)
{
	return open(IOASID_MOCK_DEV, O_RDWR | O_CLOEXEC);
}

static inline int mock_dev_add(int mfd, int ioasid_fd, __u32 flags,
			       __u32 *mock_id, __u32 *dev_id)
{
	struct ioasid_mock_dev_add cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioasid_fd = ioasid_fd,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_DEV_ADD, &cmd);

	if (!rc) {
		*mock_id = cmd.out_mock_id;
		if (dev_id)
			*dev_id = cmd.out_dev_id;
	}
	return rc;
}

static inline int mock_dev_cmd(int mfd, unsigned long ioc, __u32 mock_id,
			       __u32 pt_id)
{
	struct ioasid_mock_dev cmd = {
		.size = sizeof(cmd),
		.mock_id = mock_id,
		.pt_id = pt_id,
	};

	return ioasid_ioctl(mfd, ioc, &cmd);
}

#define mock_attach(mfd, id, pt) mock_dev_cmd(mfd, IOASID_MOCK_ATTACH, id, pt)
#define mock_detach(mfd, id) mock_dev_cmd(mfd, IOASID_MOCK_DETACH, id, 0)
#define mock_dev_del(mfd, id) mock_dev_cmd(mfd, IOASID_MOCK_DEV_DEL, id, 0)

/* 0 when the device's domain maps [iova, iova + len) to @va. */
static inline int mock_check_map(int mfd, __u32 mock_id, __u64 iova, void *va,
				 __u64 len, __u64 *huge)
{
	struct ioasid_mock_check_map cmd = {
		.size = sizeof(cmd),
		.mock_id = mock_id,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)va,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_CHECK_MAP, &cmd);

	if (!rc && huge)
		*huge = cmd.out_huge_ioptes;
	return rc;
}

/* The largest FOLL_PIN count of the pages of [va, va + len), or -errno. */
static inline long mock_pin_max(int mfd, void *va, __u64 len)
{
	struct ioasid_mock_pin_count cmd = {
		.size = sizeof(cmd),
		.uptr = (uintptr_t)va,
		.length = len,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_PIN_COUNT, &cmd);

	return rc ? rc : (long)cmd.out_max;
}

/*
 * The smallest and largest FOLL_PIN counts of the pages of [va, va + len):
 * 0 or -errno.
 */
static inline int mock_pin_range(int mfd, void *va, __u64 len, long *min,
				 long *max)
{
	struct ioasid_mock_pin_count cmd = {
		.size = sizeof(cmd),
		.uptr = (uintptr_t)va,
		.length = len,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_PIN_COUNT, &cmd);

	if (!rc) {
		*min = cmd.out_min;
		*max = cmd.out_max;
	}
	return rc;
}

/*
 * Every page of [va, va + len) is pinned exactly @n times: the smallest
 * and the largest pin count are both @n. For kselftest_harness tests.
 */
#define ASSERT_PINNED(mfd, va, len, n)							do {											long __pin_min = -1, __pin_max = -1;																ASSERT_EQ(0, mock_pin_range(mfd, va, len, &__pin_min,							    &__pin_max));					ASSERT_EQ((long)(n), __pin_min);						ASSERT_EQ((long)(n), __pin_max);					} while (0)

/* mock_check_map() for the domain attached to PASID @pasid of the device. */
static inline int mock_check_map_pasid(int mfd, __u32 mock_id, __u32 pasid,
				       __u64 iova, void *va, __u64 len)
{
	struct ioasid_mock_check_map cmd = {
		.size = sizeof(cmd),
		.mock_id = mock_id,
		.iova = iova,
		.length = len,
		.uptr = (uintptr_t)va,
		.flags = IOASID_MOCK_PASID_VALID,
		.pasid = pasid,
	};

	return ioasid_ioctl(mfd, IOASID_MOCK_CHECK_MAP, &cmd);
}

static inline int mock_subdev_add(int mfd, __u32 parent, __u32 pasid,
				  __u32 *mock_id, __u32 *dev_id)
{
	struct ioasid_mock_subdev_add cmd = {
		.size = sizeof(cmd),
		.parent_mock_id = parent,
		.pasid = pasid,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_SUBDEV_ADD, &cmd);

	if (!rc) {
		*mock_id = cmd.out_mock_id;
		*dev_id = cmd.out_dev_id;
	}
	return rc;
}

static inline int mock_domain_info(int mfd, __u32 mock_id,
				   struct ioasid_mock_domain_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->mock_id = mock_id;
	return ioasid_ioctl(mfd, IOASID_MOCK_DOMAIN_INFO, info);
}

/*
 * Bytes unmapped from the domain of the device's RID (or, with
 * IOASID_MOCK_PASID_VALID in @flags, of its PASID @pasid) whose IOTLB sync
 * is still due - 0 whenever no unmap is in progress - or -errno.
 */
static inline long mock_unsynced(int mfd, __u32 mock_id, __u32 flags, __u32 pasid)
{
	struct ioasid_mock_domain_info info;
	int rc;

	memset(&info, 0, sizeof(info));
	info.size = sizeof(info);
	info.mock_id = mock_id;
	info.flags = flags;
	info.pasid = pasid;
	rc = ioasid_ioctl(mfd, IOASID_MOCK_DOMAIN_INFO, &info);
	return rc ? rc : (long)info.out_unsynced;
}

/* The serial of the domain of the device's RID, ~0 when there is none. */
static inline __u64 mock_domain_serial(int mfd, __u32 mock_id)
{
	struct ioasid_mock_domain_info info;

	if (mock_domain_info(mfd, mock_id, &info))
		return ~0ULL;
	return info.out_domain_serial;
}

/* A page request from the mock device, with permissions @perm. */
static inline int mock_fault_inject_perm(int mfd, __u32 mock_id, __u32 flags,
					 __u32 pasid, __u32 grpid, __u64 addr,
					 __u32 perm)
{
	struct ioasid_mock_fault_inject cmd = {
		.size = sizeof(cmd), .mock_id = mock_id, .flags = flags,
		.pasid = pasid, .grpid = grpid, .addr = addr, .perm = perm,
	};

	return ioasid_ioctl(mfd, IOASID_MOCK_FAULT_INJECT, &cmd);
}

/* A read/write page request from the mock device. */
static inline int mock_fault_inject(int mfd, __u32 mock_id, __u32 flags,
				    __u32 pasid, __u32 grpid, __u64 addr)
{
	return mock_fault_inject_perm(mfd, mock_id, flags, pasid, grpid, addr,
				      IOASID_FAULT_PERM_READ | IOASID_FAULT_PERM_WRITE);
}

/*
 * The page responses the mock device saw since the last call, at most
 * @max of them into @r: their number, or -errno.
 */
static inline int mock_fault_responses(int mfd, __u32 mock_id,
				       struct ioasid_mock_fault_response *r,
				       unsigned int max)
{
	struct ioasid_mock_fault_responses cmd = {
		.size = sizeof(cmd), .mock_id = mock_id, .num = max,
		.uptr = (uintptr_t)r,
	};
	int rc = ioasid_ioctl(mfd, IOASID_MOCK_FAULT_RESPONSES, &cmd);

	return rc ?: (int)cmd.num;
}

static inline int write_param(const char *name, const char *val)
{
	char path[128];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/sys/module/ioasid/parameters/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Count lines of the debugfs view that start with @prefix after spaces. */
static inline int ioasid_debugfs_count(const char *prefix, const char *contains)
{
	char line[512];
	int count = 0;
	FILE *f;

	f = fopen(IOASID_DEBUGFS, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, " ");

		if (!strncmp(p, prefix, strlen(prefix)) &&
		    (!contains || strstr(p, contains)))
			count++;
	}
	fclose(f);
	return count;
}

/* How many ioasid contexts of process @pid debugfs lists, or -errno. */
static inline int ioasid_debugfs_contexts_of(pid_t pid)
{
	char pat[32];

	snprintf(pat, sizeof(pat), " pid %d ", (int)pid);
	return ioasid_debugfs_count("context", pat);
}

/*
 * The check of every fixture's teardown, once it closed its files: nothing
 * stays pinned or charged - VmLck is back at @vmlck0, the fixture's setup
 * baseline (0 where the setup recorded none), and that is 0 (no test
 * mlocks; ioasid, ioasid_vfio and VFIO's type1 charge their pins there),
 * no page of [@va, @va + @len) is pinned as the mock sees it (when @va is
 * given and the mock is loaded) - and no ioasid context of this process
 * is left.
 */
#define EXPECT_TEARDOWN_CLEAN(vmlck0, va, len) do {				\
	int __chk = (va) ? mock_open() : -1;					\
	long __vmlck = vm_locked_kb();						\
										\
	EXPECT_EQ((long)(vmlck0), __vmlck);					\
	EXPECT_EQ(0, __vmlck);							\
	if (__chk >= 0) {							\
		EXPECT_EQ(0, mock_pin_max(__chk, (va), (len)));			\
		close(__chk);							\
	}									\
	EXPECT_EQ(0, ioasid_debugfs_contexts_of(getpid()));			\
} while (0)

/*
 * The buffer of a fixture: @len bytes of private anonymous memory in small
 * pages (the mock counts pins per page, not per folio), every byte @c.
 * MAP_FAILED when mmap() fails.
 */
static inline void *fixture_buf(size_t len, int c)
{
	void *buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (buf == MAP_FAILED)
		return buf;
	madvise(buf, len, MADV_NOHUGEPAGE);
	memset(buf, c, len);
	return buf;
}

#ifdef __KSELFTEST_HARNESS_H
/*
 * The setup every fixture on the mock IOMMU starts with: the mock's file
 * in *@mfd, unsafe interrupts allowed for the mock's devices, a new ioasid
 * context in *@fd and in *@vmlck the VmLck baseline the teardown check
 * expects back. False when the test is skipped (no mock): the fixture's
 * setup returns.
 */
static inline bool mock_fixture_setup(struct __test_metadata *_metadata,
				      int *mfd, int *fd, long *vmlck)
{
	*mfd = mock_open();
	if (*mfd < 0)
		SKIP(return false, "no mock IOMMU (%s)", strerror(errno));
	ASSERT_EQ(0, write_param("allow_unsafe_interrupts", "1"));
	*fd = ioasid_open();
	ASSERT_LE(0, *fd);
	*vmlck = vm_locked_kb();
	ASSERT_LE(0, *vmlck);
	return true;
}
#endif

/* mock_fixture_setup() for a fixture with the fields mfd, fd and vmlck. */
#define MOCK_FIXTURE_SETUP(self)						\
	mock_fixture_setup(_metadata, &(self)->mfd, &(self)->fd, &(self)->vmlck)

/*
 * The teardown of a fixture mock_fixture_setup() set up: the mock's file
 * closed first (its devices hold the context), then the context (unless
 * the fixture closed either already: -1), unsafe interrupts refused
 * again, and the one check, EXPECT_TEARDOWN_CLEAN() on the buffer
 * [buf, buf + @len).
 */
#define MOCK_FIXTURE_TEARDOWN(self, len) do {					\
	if ((self)->mfd >= 0)							\
		close((self)->mfd);						\
	if ((self)->fd >= 0)							\
		close((self)->fd);						\
	write_param("allow_unsafe_interrupts", "0");				\
	EXPECT_TEARDOWN_CLEAN((self)->vmlck, (self)->buf, (len));		\
} while (0)

/* The "objects <n>" of the context opened by this process, or -1. */
static inline int ioasid_debugfs_my_objects(void)
{
	char line[512], pid[32];
	int objects = -1;
	FILE *f;

	snprintf(pid, sizeof(pid), " pid %d ", getpid());
	f = fopen(IOASID_DEBUGFS, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p;

		if (strncmp(line, "context ", 8) || !strstr(line, pid))
			continue;
		p = strstr(line, " objects ");
		if (p)
			objects = atoi(p + 9);
	}
	fclose(f);
	return objects;
}

static inline long read_long_file(const char *path)
{
	char buf[64] = "";
	long v = -1;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (read(fd, buf, sizeof(buf) - 1) > 0)
		v = strtol(buf, NULL, 0);
	close(fd);
	return v;
}

/*
 * 1 while lock debugging is on, 0 once a lock splat switched it off, -1
 * without lockdep.
 */
static inline int debug_locks(void)
{
	return read_key_long("/proc/lockdep_stats", "debug_locks");
}

/* The kernel's taint flags: bit 9 (W) is set by any WARN or might_sleep splat. */
#define TAINT_WARN_BIT	(1UL << 9)
/* Taint bits a splat sets: B (bad page, KASAN), D (die), W (warn). */
#define TAINT_SPLAT	((1UL << 5) | (1UL << 7) | TAINT_WARN_BIT)

static inline unsigned long kernel_taint(void)
{
	long v = read_long_file("/proc/sys/kernel/tainted");

	return v < 0 ? 0 : (unsigned long)v;
}

/*
 * The fail-nth file of this thread, opened once: opening it later would
 * itself allocate and consume the armed count. Reads and writes of an open
 * fail-nth file do not allocate.
 */
static inline int fail_nth_fd(void)
{
	static __thread int fd = -1;
	char path[64];

	if (fd < 0) {
		snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
			 (long)syscall(SYS_gettid));
		fd = open(path, O_RDWR | O_CLOEXEC);
	}
	return fd;
}

/*
 * Fault injection: arm /proc/self/task/<tid>/fail-nth so that the nth
 * allocation (failslab or fail_page_alloc) of this task fails. Returns false
 * when the kernel has no fault injection.
 */
static inline bool fail_nth_supported(void)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return access(path, W_OK) == 0 && fail_nth_fd() >= 0 &&
	       access("/sys/kernel/debug/failslab/ignore-gfp-wait", W_OK) == 0;
}

/* Write @val to a sysfs/debugfs/proc file: 0 or -errno. */
static inline int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/*
 * fail-nth bypasses the probability and task filters, but failslab and
 * fail_page_alloc by default skip sleeping (GFP_KERNEL) allocations and
 * fail_page_alloc skips order 0: lift both so every allocation counts.
 * Probability stays 0, so nothing fails unless a task arms fail-nth.
 */
static inline int fail_nth_setup(void)
{
	static const char *const attrs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};
	unsigned int i;
	int rc;

	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		rc = write_file(attrs[i][0], attrs[i][1]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Make the nth fault-injectable allocation of this thread fail (0 disarms). */
static inline int fail_nth_arm(unsigned int nth)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", nth);

	return pwrite(fail_nth_fd(), val, len, 0) == len ? 0 : -errno;
}

/* Nonzero while the armed failure has not fired yet. */
static inline long fail_nth_pending(void)
{
	char buf[32] = "";

	if (pread(fail_nth_fd(), buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return strtol(buf, NULL, 0);
}

/*
 * @call with the nth fault-injectable allocation of this thread armed to
 * fail: @pending gets whether the failure is still pending after it (the
 * call allocated fewer than @nth times), and fail-nth is disarmed again.
 */
#define FAIL_NTH_CALL(nth, pending, call) do {					\
	ASSERT_EQ(0, fail_nth_arm(nth));					\
	call;									\
	(pending) = fail_nth_pending();						\
	ASSERT_EQ(0, fail_nth_arm(0));						\
} while (0)

/*
 * TEST_FAIL_NTH(nth, max, pending) { body }: the fail-nth loop. For nth =
 * 1, 2, ... the body sets up what its operation needs, runs the operation
 * with FAIL_NTH_CALL() and checks what each outcome must leave: the errno
 * of a failure, the effect of a success, nothing leaked either way. The
 * loop ends after the body of the first nth whose operation got through
 * every allocation with the armed failure still pending, and asserts
 * that it ended before @max (a break in the body leaves it earlier).
 */
#define TEST_FAIL_NTH(nth, max, pending)					\
	for ((nth) = 0, (pending) = 0;						\
	     ((pending) <= 0 && ++(nth) < (max)) ||				\
	     ({ ASSERT_LT((nth), (max)); 0; });)

/*
 * userfaultfd for kernel-mode faults: as root, the syscall (whatever
 * vm.unprivileged_userfaultfd says), else /dev/userfaultfd. -errno when the
 * kernel has none (CONFIG_USERFAULTFD off) or refuses.
 */
static inline int uffd_open(void)
{
	struct uffdio_api api = { .api = UFFD_API };
	int fd, dev;

	fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
		if (dev < 0)
			return -errno;
		fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
		close(dev);
		if (fd < 0)
			return -errno;
	}
	if (ioctl(fd, UFFDIO_API, &api)) {
		close(fd);
		return -errno;
	}
	return fd;
}

/* Write-protect (or release) one page registered with UFFDIO_REGISTER_MODE_WP. */
static inline int uffd_wp(int uffd, void *page, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)page, .len = getpagesize() },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

#endif /* __IOASID_UTILS_H */
