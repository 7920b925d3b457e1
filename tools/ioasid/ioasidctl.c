// SPDX-License-Identifier: GPL-2.0
/*
 * ioasidctl: inspect ioasid state.
 *
 *   ioasidctl [show]   the open contexts and their objects (from debugfs)
 *   ioasidctl info     what /dev/ioasid offers (IOASID_GET_INFO)
 *
 * debugfs is found through libmount; when it is not mounted, ioasidctl
 * mounts it at /sys/kernel/debug.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <libmount/libmount.h>
#include <linux/ioasid.h>

static const char *const cmd_names[] = {
	"GET_INFO", "DESTROY", "IOAS_ALLOC", "MAP", "UNMAP", "COPY",
	"IOVA_RANGES", "IOAS_OPTION", "DEVICE_INFO", "ATTACH", "DETACH",
	"NESTED_ALLOC", "INVALIDATE", "FAULT_QUEUE_ALLOC",
};

static const char *const cap_names[] = { "ioas", "device", "nesting", "fault",
					   "sw_nesting" };

/* The debugfs mount point, mounting debugfs if needed; NULL on failure. */
static char *find_debugfs(void)
{
	struct libmnt_table *tb;
	struct libmnt_iter *itr;
	struct libmnt_fs *fs;
	struct libmnt_context *cxt;
	char *target = NULL;

	tb = mnt_new_table_from_file("/proc/self/mountinfo");
	itr = mnt_new_iter(MNT_ITER_FORWARD);
	if (tb && itr) {
		while (!target && mnt_table_next_fs(tb, itr, &fs) == 0) {
			const char *type = mnt_fs_get_fstype(fs);

			if (type && !strcmp(type, "debugfs"))
				target = strdup(mnt_fs_get_target(fs));
		}
	}
	mnt_free_iter(itr);
	mnt_unref_table(tb);
	if (target)
		return target;

	cxt = mnt_new_context();
	if (!cxt)
		return NULL;
	if (!mnt_context_set_fstype(cxt, "debugfs") &&
	    !mnt_context_set_source(cxt, "debugfs") &&
	    !mnt_context_set_target(cxt, "/sys/kernel/debug") &&
	    !mnt_context_mount(cxt) && mnt_context_get_status(cxt) == 1)
		target = strdup("/sys/kernel/debug");
	mnt_free_context(cxt);
	if (target)
		fprintf(stderr, "ioasidctl: mounted debugfs at %s\n", target);
	return target;
}

/* Value of "key <value>" in a debugfs line, copied into @buf. */
static const char *field(const char *line, const char *key, char *buf, size_t len)
{
	char pat[64];
	const char *p;
	size_t n;

	snprintf(pat, sizeof(pat), " %s ", key);
	p = strstr(line, pat);
	if (!p) {
		snprintf(buf, len, "-");
		return buf;
	}
	p += strlen(pat);
	n = strcspn(p, " \n");
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = 0;
	return buf;
}

/* The text after "key " up to the end of the line. */
static const char *rest(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? p + strlen(key) : "";
}

static int cmd_show(void)
{
	char *dbg = find_debugfs(), path[512], line[512];
	char a[64], b[64], c[64];
	int contexts = 0;
	FILE *f;

	if (!dbg) {
		fprintf(stderr, "ioasidctl: cannot find or mount debugfs\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ioasid/contexts", dbg);
	free(dbg);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "ioasidctl: %s: %s (is ioasid loaded?)\n", path,
			strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "context ", 8)) {
			char tmp[520];

			snprintf(tmp, sizeof(tmp), " %s", line);
			printf("%scontext %s  pid %s  objects %s  comm %s\n",
			       contexts ? "\n" : "", field(tmp, "context", a, sizeof(a)),
			       field(tmp, "pid", b, sizeof(b)),
			       field(tmp, "objects", c, sizeof(c)),
			       rest(line, " comm "));
			printf("  %-6s %-8s %-6s %s\n", "ID", "TYPE", "USERS", "DETAILS");
			contexts++;
		} else if (strstr(line, "object ")) {
			/* Type-specific pairs follow the users count. */
			const char *details = rest(line, " users ");

			details += strcspn(details, " ");
			details += strspn(details, " ");
			printf("  %-6s %-8s %-6s %s\n", field(line, "object", a, sizeof(a)),
			       field(line, "type", b, sizeof(b)),
			       field(line, "users", c, sizeof(c)), details);
		}
	}
	fclose(f);
	if (!contexts)
		printf("no open ioasid contexts\n");
	return 0;
}

static int cmd_info(void)
{
	struct ioasid_get_info info = { .size = sizeof(info) };
	unsigned int i;
	int fd;

	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "ioasidctl: /dev/ioasid: %s\n", strerror(errno));
		return 1;
	}
	if (ioctl(fd, IOASID_GET_INFO, &info)) {
		fprintf(stderr, "ioasidctl: IOASID_GET_INFO: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	printf("ioasid API version %u\n", info.out_version);
	printf("capabilities:");
	for (i = 0; i < 64; i++) {
		if (!(info.out_caps & (1ULL << i)))
			continue;
		if (i < sizeof(cap_names) / sizeof(cap_names[0]))
			printf(" %s", cap_names[i]);
		else
			printf(" bit%u", i);
	}
	printf("\nioctls:");
	for (i = 0; i < 64; i++) {
		if (!(info.out_ioctl_mask & (1ULL << i)))
			continue;
		if (i < sizeof(cmd_names) / sizeof(cmd_names[0]))
			printf(" %s", cmd_names[i]);
		else
			printf(" 0x%x", IOASID_CMD_BASE + i);
	}
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "show";

	if (!strcmp(cmd, "show"))
		return cmd_show();
	if (!strcmp(cmd, "info"))
		return cmd_info();
	fprintf(stderr, "usage: ioasidctl [show|info]\n");
	return 2;
}
