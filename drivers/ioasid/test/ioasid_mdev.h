/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioasid_mdev: a test-only mdev (emulated-IOMMU VFIO device) that does
 * "DMA" the way mdev drivers do: vfio_pin_pages(), vfio_unpin_pages(),
 * vfio_dma_rw(), and a dma_unmap callback that unpins what it is told.
 * Shared by the module and the selftests; never loaded outside the test VM.
 *
 * The device's only interface is its VFIO device fd: pwrite() of a
 * struct ioasid_mdev_cmd at offset 0 runs the command and returns its size
 * or the command's errno; pread() at offset 0 returns the struct with the
 * results of the last command and the device's counters.
 */
#ifndef _IOASID_MDEV_H
#define _IOASID_MDEV_H

#include <linux/types.h>

#define IOASID_MDEV_PARENT	"ioasid_mdev"
#define IOASID_MDEV_TYPE	"ioasid_mdev-dma"
#define IOASID_MDEV_DATA	256

/**
 * enum ioasid_mdev_op - what a struct ioasid_mdev_cmd asks
 * @IOASID_MDEV_PIN: vfio_pin_pages(@iova, @npage) and keep the pin; the
 *	first @length (<= IOASID_MDEV_DATA) bytes at @iova are then copied
 *	from the pages to @data (or, with IOASID_MDEV_WRITE, from @data into
 *	the pages)
 * @IOASID_MDEV_UNPIN: vfio_unpin_pages() of a pin @iova, @npage holds
 * @IOASID_MDEV_RW: vfio_dma_rw() of @length bytes at @iova to/from @data
 */
enum ioasid_mdev_op {
	IOASID_MDEV_PIN = 1,
	IOASID_MDEV_UNPIN,
	IOASID_MDEV_RW,
};

#define IOASID_MDEV_WRITE	(1 << 0)

/**
 * struct ioasid_mdev_cmd - a command, and the device's state read back
 * @op: enum ioasid_mdev_op
 * @flags: IOASID_MDEV_WRITE
 * @iova: IOVA
 * @npage: pages, for PIN and UNPIN
 * @length: bytes of @data used
 * @out_pins: pins the device holds
 * @out_unmap_calls: dma_unmap callbacks so far
 * @out_last_unmap_iova: the last dma_unmap's IOVA
 * @out_last_unmap_length: its length
 * @data: the transfer buffer
 */
struct ioasid_mdev_cmd {
	__u32 op;
	__u32 flags;
	__aligned_u64 iova;
	__u32 npage;
	__u32 length;
	__u32 out_pins;
	__u32 out_unmap_calls;
	__aligned_u64 out_last_unmap_iova;
	__aligned_u64 out_last_unmap_length;
	__u8 data[IOASID_MDEV_DATA];
};

#endif /* _IOASID_MDEV_H */
