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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/ioasid.h>

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

static inline int fail_nth_write_file(const char *path, const char *val)
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
		rc = fail_nth_write_file(attrs[i][0], attrs[i][1]);
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

#endif /* __IOASID_UTILS_H */
