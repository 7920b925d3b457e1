// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-demo: what /dev/ioasid is for, end to end, with QEMU's edu DMA
 * test devices (PCI 1234:11e8) behind the emulated VT-d, bound to vfio-pci.
 *
 * It opens a context, hands the edu devices to it through a VFIO container
 * of ioasid_vfio's native type (VFIO_IOASID_IOMMU + VFIO_IOASID_BIND), lists
 * them (IOASID_DEVICE_INFO), maps user memory into one I/O address space
 * (pinned and charged once) and attaches both devices to it. The devices then
 * copy a message by DMA through the IOMMU: from one page of that memory into
 * their internal buffer and back into another page, where the demo prints
 * it. After IOASID_UNMAP the same DMA is refused by the IOMMU: the page keeps
 * its bytes and the kernel logs a DMAR fault, which the demo prints from
 * /dev/kmsg. Closing the context leaves nothing behind.
 *
 *   ioasid-demo [IOASIDCTL]
 *
 * The edu copies between its 4 KiB internal buffer (device address 0x40000)
 * and an IOVA below 1 << 28, one transfer at a time, completed by a 100 ms
 * timer (BAR0: 0x80 source, 0x88 destination, 0x90 count, 0x98 command).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>
#include <linux/ioasid_vfio.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "edu.h"

#define PSZ		4096UL

#define MAX_EDU		2

#define PCI_DEVICES	"/sys/bus/pci/devices"

#define RAM_SIZE	(1UL << 20)
#define IOVA		0x100000ULL	/* the edu reaches IOVAs below 1 << 28 */
#define MSG_LEN		128		/* bytes each DMA moves */
#define BLOCKED_TEXT	"untouched since the unmap"

struct edu {
	char bdf[32];
	int group_id;
	int group;		/* /dev/vfio/<group_id>, -1 if edu[0] has it */
	int dev;		/* the VFIO device fd */
	void *bar;		/* BAR0 */
	size_t bar_size;
	__u32 dev_id;		/* its ID in the ioasid context */
};

static const char *ctl = "/tools/ioasidctl";

static void say(const char *fmt, ...)
{
	va_list ap;

	printf("ioasid-demo: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* Report what failed, with errno's words, and give up. */
static void __attribute__((noreturn)) die(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "ioasid-demo: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

static void run_ctl(const char *arg)
{
	char cmd[256];

	printf("\n$ ioasidctl %s\n", arg);
	fflush(stdout);
	snprintf(cmd, sizeof(cmd), "%s %s", ctl, arg);
	if (system(cmd)) {
		errno = EIO;
		die("%s failed", cmd);
	}
	putchar('\n');
}

static long vm_locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		die("/proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmLck:", 6))
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

/* Copy @src into @dst of @len bytes, truncated and NUL-terminated. */
static void copy_str(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
}

static long read_hex(const char *bdf, const char *attr)
{
	char path[256], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return strtol(buf, NULL, 0);
}

/* The last component of the link PCI_DEVICES/@bdf/@link, or "" if none. */
static void link_name(const char *bdf, const char *link, char *out, size_t len)
{
	char path[256], target[256];
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, link);
	n = readlink(path, target, sizeof(target) - 1);
	target[n < 0 ? 0 : n] = 0;
	p = strrchr(target, '/');
	copy_str(out, len, p ? p + 1 : target);
}

/* The edu devices, in bus order; returns how many (at most @max). */
static int edu_find(struct edu *edu, int max)
{
	struct dirent **ents;
	int i, n, found = 0;

	n = scandir(PCI_DEVICES, &ents, NULL, alphasort);
	if (n < 0)
		die(PCI_DEVICES);
	for (i = 0; i < n; i++) {
		const char *bdf = ents[i]->d_name;

		if (bdf[0] != '.' && found < max &&
		    read_hex(bdf, "vendor") == EDU_VENDOR &&
		    read_hex(bdf, "device") == EDU_DEVICE)
			copy_str(edu[found++].bdf, sizeof(edu->bdf), bdf);
		free(ents[i]);
	}
	free(ents);
	return found;
}

/* ---- the edu device: BAR0 and DMA ---- */

static void edu_region(struct edu *e, unsigned int index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	if (ioctl(e->dev, VFIO_DEVICE_GET_REGION_INFO, info))
		die("%s: VFIO_DEVICE_GET_REGION_INFO", e->bdf);
}

/*
 * vfio-pci leaves the command register to user space, as to a guest: turn
 * on memory decoding (BAR0) and bus mastering (DMA), then map BAR0.
 */
static void edu_enable(struct edu *e)
{
	struct vfio_region_info cfg, bar;
	__u16 cmd;

	edu_region(e, VFIO_PCI_CONFIG_REGION_INDEX, &cfg);
	if (pread(e->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		die("%s: reading PCI_COMMAND", e->bdf);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(e->dev, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND) != sizeof(cmd))
		die("%s: writing PCI_COMMAND", e->bdf);

	edu_region(e, VFIO_PCI_BAR0_REGION_INDEX, &bar);
	if (!(bar.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar.size < EDU_DMA_CMD + 8) {
		errno = EOPNOTSUPP;
		die("%s: BAR0 cannot be mapped", e->bdf);
	}
	e->bar = mmap(NULL, bar.size, PROT_READ | PROT_WRITE, MAP_SHARED, e->dev,
		      bar.offset);
	if (e->bar == MAP_FAILED)
		die("%s: mmap BAR0", e->bdf);
	e->bar_size = bar.size;
}

/*
 * One transfer of MSG_LEN bytes between the internal buffer and @iova, to
 * RAM or from it; returns once the device reports it done. The edu
 * completes a transfer the IOMMU refused as well: only memory tells.
 */
static void edu_dma_msg(struct edu *e, __u64 iova, int to_ram)
{
	int rc = to_ram ? edu_dma(e->bar, EDU_BUF, iova, MSG_LEN, true) :
			  edu_dma(e->bar, iova, EDU_BUF, MSG_LEN, false);

	if (rc) {
		errno = -rc;
		die("%s: DMA did not complete", e->bdf);
	}
}

/* ---- the kernel log: the IOMMU's fault report ---- */

/* /dev/kmsg positioned after what the kernel logged so far. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		die("/dev/kmsg");
	lseek(fd, 0, SEEK_END);
	return fd;
}

/* Print the first DMAR fault logged within @ms; 0 if there was one. */
static int kmsg_print_fault(int fd, int ms)
{
	long long deadline = edu_now_ms() + ms;
	char rec[1024];

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *end;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (n < 0) {
			long long left = deadline - edu_now_ms();

			if (errno != EAGAIN || left <= 0)
				return -1;
			poll(&pfd, 1, left);
			continue;
		}
		rec[n] = 0;
		/* "prio,seq,usec,flags;message\n" and continuation lines */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		end = strchr(msg, '\n');
		if (end)
			*end = 0;
		if (strstr(msg, "DMAR") && strstr(msg, "fault addr")) {
			printf("kernel: %s\n", msg);
			return 0;
		}
	}
}

/* ---- the demo ---- */

static void list_devices(int fd, struct edu *edu, int nedu)
{
	struct ioasid_device_entry ents[16];
	struct ioasid_device_info info = {
		.size = sizeof(info),
		.entry_size = sizeof(ents[0]),
		.num_devices = 16,
		.devices = (uintptr_t)ents,
	};
	unsigned int i;
	int j;

	memset(ents, 0, sizeof(ents));
	if (ioctl(fd, IOASID_DEVICE_INFO, &info))
		die("IOASID_DEVICE_INFO");
	say("IOASID_DEVICE_INFO lists %u device%s:", info.num_devices,
	    info.num_devices == 1 ? "" : "s");
	for (i = 0; i < info.num_devices && i < 16; i++) {
		printf("    dev_id %u  %s %s  behind %s  attached to %s\n",
		       ents[i].dev_id, ents[i].subsystem, ents[i].name,
		       ents[i].iommu, ents[i].attached_pt_id ? "an IOAS" : "nothing");
		for (j = 0; j < nedu; j++)
			if (!strncmp(ents[i].name, edu[j].bdf, sizeof(ents[i].name)))
				edu[j].dev_id = ents[i].dev_id;
	}
	for (j = 0; j < nedu; j++) {
		if (!edu[j].dev_id) {
			errno = ENOENT;
			die("edu%d (%s) is not in IOASID_DEVICE_INFO", j, edu[j].bdf);
		}
	}
}

/* What the devices find in memory: printable, up to the first NUL. */
static void print_page(const char *who, const char *p)
{
	int i;

	printf("%s \"", who);
	for (i = 0; i < MSG_LEN && p[i]; i++)
		putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
	printf("\"\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_ioasid_bind bind = { .argsz = sizeof(bind) };
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_map map = { .size = sizeof(map) };
	struct ioasid_unmap unmap = { .size = sizeof(unmap) };
	struct ioasid_attach attach = { .size = sizeof(attach) };
	struct edu edu[MAX_EDU];
	char *ram, *msg, *page[MAX_EDU], name[32], path[64];
	int fd, container, kmsg, nedu, i, j;
	long locked0;
	__u32 ioas;

	if (argc > 1)
		ctl = argv[1];
	memset(edu, 0, sizeof(edu));
	for (i = 0; i < MAX_EDU; i++)
		edu[i].group = edu[i].dev = -1;
	nedu = edu_find(edu, MAX_EDU);
	if (nedu < 1) {
		errno = ENODEV;
		die("no edu device (PCI %04x:%04x)", EDU_VENDOR, EDU_DEVICE);
	}

	/* 1. The context, and the devices handed to it by VFIO. */
	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("/dev/ioasid");
	say("opened /dev/ioasid: a new IOASID context");

	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (container < 0)
		die("/dev/vfio/vfio");
	if (ioctl(container, VFIO_CHECK_EXTENSION, VFIO_IOASID_IOMMU) <= 0) {
		errno = EOPNOTSUPP;
		die("no VFIO_IOASID_IOMMU containers: is ioasid_vfio loaded?");
	}
	for (i = 0; i < nedu; i++) {
		struct edu *e = &edu[i];

		link_name(e->bdf, "driver", name, sizeof(name));
		if (strcmp(name, "vfio-pci")) {
			errno = ENODEV;
			die("edu%d (%s) is not bound to vfio-pci", i, e->bdf);
		}
		link_name(e->bdf, "iommu_group", name, sizeof(name));
		e->group_id = atoi(name);
		for (j = 0; j < i; j++)
			if (edu[j].group_id == e->group_id)
				break;
		if (j < i)
			continue;	/* in edu[j]'s group: already in the container */
		snprintf(path, sizeof(path), "/dev/vfio/%d", e->group_id);
		e->group = open(path, O_RDWR | O_CLOEXEC);
		if (e->group < 0)
			die("%s", path);
		if (ioctl(e->group, VFIO_GROUP_GET_STATUS, &status))
			die("%s: VFIO_GROUP_GET_STATUS", path);
		if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
			errno = EPERM;
			die("IOMMU group %d is not viable", e->group_id);
		}
		if (ioctl(e->group, VFIO_GROUP_SET_CONTAINER, &container))
			die("%s: VFIO_GROUP_SET_CONTAINER", path);
		if (i == 0 && ioctl(container, VFIO_SET_IOMMU, VFIO_IOASID_IOMMU))
			die("VFIO_SET_IOMMU(VFIO_IOASID_IOMMU)");
	}
	bind.ioasid_fd = fd;
	if (ioctl(container, VFIO_IOASID_BIND, &bind))
		die("VFIO_IOASID_BIND");
	say("VFIO container of type VFIO_IOASID_IOMMU with %d edu device%s, bound to the context",
	    nedu, nedu == 1 ? "" : "s");
	for (i = 0; i < nedu; i++) {
		struct edu *e = &edu[i];
		int group = e->group;

		for (j = 0; group < 0 && j < i; j++)
			if (edu[j].group_id == e->group_id)
				group = edu[j].group;
		e->dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, e->bdf);
		if (e->dev < 0)
			die("%s: VFIO_GROUP_GET_DEVICE_FD", e->bdf);
		edu_enable(e);
		say("opened edu%d (%s, IOMMU group %d) through VFIO: registered with the context",
		    i, e->bdf, e->group_id);
	}
	list_devices(fd, edu, nedu);

	/* 2. An I/O address space with user memory in it, both devices on it. */
	if (ioctl(fd, IOASID_IOAS_ALLOC, &alloc))
		die("IOASID_IOAS_ALLOC");
	ioas = alloc.out_ioas_id;
	say("allocated I/O address space %u", ioas);

	ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (ram == MAP_FAILED)
		die("mmap");
	memset(ram, 0, RAM_SIZE);
	msg = ram;
	for (i = 0; i < MAX_EDU; i++)
		page[i] = ram + (i + 1) * PSZ;
	locked0 = vm_locked_kb();
	map.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE;
	map.ioas_id = ioas;
	map.user_va = (uintptr_t)ram;
	map.length = RAM_SIZE;
	map.iova = IOVA;
	if (ioctl(fd, IOASID_MAP, &map))
		die("IOASID_MAP");
	say("mapped 1 MiB of this process's memory at IOVA %#llx of IOAS %u",
	    IOVA, ioas);
	say("VmLck %ld kB before IOASID_MAP, %ld kB after: the pages are pinned and charged",
	    locked0, vm_locked_kb());

	for (i = 0; i < nedu; i++) {
		attach.dev_id = edu[i].dev_id;
		attach.pasid = IOASID_PASID_NONE;
		attach.pt_id = ioas;
		if (ioctl(fd, IOASID_ATTACH, &attach))
			die("IOASID_ATTACH edu%d", i);
		say("attached edu%d (dev_id %u) to IOAS %u", i, edu[i].dev_id, ioas);
	}
	say("VmLck %ld kB with %d device%s attached: pinned and charged once for all",
	    vm_locked_kb(), nedu, nedu == 1 ? "" : "s");

	/* 3. DMA through the IOMMU: user memory -> device -> user memory. */
	snprintf(msg, MSG_LEN, "Hello from user memory, read and written by DMA through IOAS %u",
		 ioas);
	putchar('\n');
	say("wrote a message into that memory at IOVA %#llx", IOVA);
	for (i = 0; i < nedu; i++) {
		__u64 dst = IOVA + (i + 1) * PSZ;

		say("edu%d: DMA from IOVA %#llx into its buffer, then from it to IOVA %#llx",
		    i, IOVA, dst);
		edu_dma_msg(&edu[i], IOVA, 0);
		edu_dma_msg(&edu[i], dst, 1);
		snprintf(name, sizeof(name), "edu%d wrote:", i);
		print_page(name, page[i]);
		if (memcmp(page[i], msg, MSG_LEN)) {
			errno = EIO;
			die("edu%d's copy differs from the message", i);
		}
	}

	run_ctl("show");

	/* 4. UNMAP: the same DMA is refused by the IOMMU. */
	unmap.ioas_id = ioas;
	unmap.iova = IOVA;
	unmap.length = RAM_SIZE;
	if (ioctl(fd, IOASID_UNMAP, &unmap))
		die("IOASID_UNMAP");
	say("unmapped IOVA %#llx-%#llx: VmLck %ld kB (unpinned and uncharged)",
	    IOVA, IOVA + RAM_SIZE - 1, vm_locked_kb());
	snprintf(page[0], MSG_LEN, "%s", BLOCKED_TEXT);
	say("wrote \"%s\" into edu0's page", BLOCKED_TEXT);
	say("edu0: DMA from its buffer to IOVA %#llx again", IOVA + PSZ);
	kmsg = kmsg_open();
	edu_dma_msg(&edu[0], IOVA + PSZ, 1);
	print_page("edu0's page:", page[0]);
	if (strcmp(page[0], BLOCKED_TEXT)) {
		errno = EFAULT;
		die("the DMA reached memory after IOASID_UNMAP");
	}
	say("the IOMMU refused the write; the kernel logged the fault:");
	if (kmsg_print_fault(kmsg, 3000)) {
		errno = ENOENT;
		die("no DMAR fault in the kernel log");
	}
	close(kmsg);

	/* 5. Closing releases everything. */
	for (i = 0; i < nedu; i++) {
		munmap(edu[i].bar, edu[i].bar_size);
		close(edu[i].dev);
		if (edu[i].group >= 0)
			close(edu[i].group);
	}
	close(container);
	close(fd);
	munmap(ram, RAM_SIZE);
	putchar('\n');
	say("closed the devices, the VFIO container and the context");
	run_ctl("show");
	say("done");
	return 0;
}
