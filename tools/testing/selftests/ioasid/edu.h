/* SPDX-License-Identifier: GPL-2.0 */
/*
 * QEMU's edu DMA test device (PCI 1234:11e8) as the tests, the demo and the
 * benchmark drive it through a VFIO device's BAR0: the registers and one
 * DMA transfer between the device's internal buffer and an IOVA.
 */
#ifndef IOASID_SELFTEST_EDU_H
#define IOASID_SELFTEST_EDU_H

#include <errno.h>
#include <stdbool.h>
#include <time.h>
#include <linux/types.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2	/* direction: internal buffer -> IOVA */
#define EDU_BUF		0x40000	/* device address of the internal buffer */
#define EDU_BUF_SIZE	4096
#define EDU_IOVA_LIMIT	(1ULL << 28)	/* the edu's DMA mask: 28 bits */
#define EDU_TIMEOUT_MS	5000

static inline void edu_w64(void *bar, unsigned int reg, __u64 val)
{
	*(volatile __u64 *)((char *)bar + reg) = val;
}

static inline __u64 edu_r64(void *bar, unsigned int reg)
{
	return *(volatile __u64 *)((char *)bar + reg);
}

static inline long long edu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * One transfer of @len bytes from @src to @dst, @to_ram: from the internal
 * buffer to an IOVA (else the other way). Returns 0 once the device reports
 * it done, -EINVAL for a transfer the edu cannot do (QEMU aborts the VM on a
 * buffer offset outside the 4 KiB buffer), -EBUSY if one is running, or
 * -ETIMEDOUT. The edu completes a transfer the IOMMU refused as well: only
 * memory tells whether it arrived.
 */
static inline int edu_dma(void *bar, __u64 src, __u64 dst, __u32 len, bool to_ram)
{
	__u64 buf = to_ram ? src : dst, iova = to_ram ? dst : src;
	const struct timespec tick = { .tv_nsec = 1000000 };
	long long deadline;

	if (!len || buf < EDU_BUF || buf + len > EDU_BUF + EDU_BUF_SIZE ||
	    iova + len > EDU_IOVA_LIMIT)
		return -EINVAL;
	if (edu_r64(bar, EDU_DMA_CMD) & EDU_CMD_START)
		return -EBUSY;
	edu_w64(bar, EDU_DMA_SRC, src);
	edu_w64(bar, EDU_DMA_DST, dst);
	edu_w64(bar, EDU_DMA_CNT, len);
	edu_w64(bar, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	deadline = edu_now_ms() + EDU_TIMEOUT_MS;
	while (edu_r64(bar, EDU_DMA_CMD) & EDU_CMD_START) {
		if (edu_now_ms() > deadline)
			return -ETIMEDOUT;
		nanosleep(&tick, NULL);
	}
	__sync_synchronize();
	return 0;
}

#endif /* IOASID_SELFTEST_EDU_H */
