/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vhost-vdpa helpers shared by the selftests that drive a vDPA device's
 * TX virtqueue with its rings and buffers mapped only through /dev/ioasid
 * (vdpa.c; vfio_edu.c's IOAS shared by an edu and a vDPA device).
 *
 * Layout of the buffer at iova: the TX queue's split rings at
 * OFF_DESC/OFF_AVAIL/OFF_USED, the TX frame page at OFF_FRAME (a
 * virtio_net_hdr_mrg_rxbuf, then the frame), the RX queue's rings at
 * OFF_RX_*, its buffers from OFF_RX_BUF on.
 */
#ifndef __IOASID_VDPA_UTILS_H
#define __IOASID_VDPA_UTILS_H

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <linux/ioasid_vdpa.h>

#define VDPA_QSZ	16
#define VDPA_OFF_DESC	0x0
#define VDPA_OFF_AVAIL	0x1000
#define VDPA_OFF_USED	0x2000
#define VDPA_OFF_FRAME	0x3000
#define VDPA_FRAME_LEN	60
#define VDPA_HDR_LEN	12	/* virtio_net_hdr_mrg_rxbuf, VERSION_1 */
#define VDPA_TXQ	1
#define VDPA_RXQ	0
#define VDPA_OFF_RX_DESC	0x4000
#define VDPA_OFF_RX_AVAIL	0x5000
#define VDPA_OFF_RX_USED	0x6000
#define VDPA_OFF_RX_BUF		0x8000
#define VDPA_RX_BUF_LEN		0x800
#define VDPA_RX_BUFS		4

/* The /dev node of vDPA device @name's vhost-vdpa, or -ENOENT/-ENODEV. */
static inline int vhost_vdpa_path(const char *name, char *path, size_t len)
{
	char dir[128];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/bus/vdpa/devices/%s", name);
	d = opendir(dir);
	if (!d)
		return -ENOENT;
	while ((e = readdir(d))) {
		if (!strncmp(e->d_name, "vhost-vdpa", 10)) {
			snprintf(path, len, "/dev/%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	closedir(d);
	return -ENODEV;
}

static inline int vdpa_bind(int vfd, int ioasid_fd, __u32 asid, __u32 ioas,
			    __u32 *dev_id)
{
	struct vhost_vdpa_ioasid_bind bind = {
		.argsz = sizeof(bind),
		.ioasid_fd = ioasid_fd,
		.asid = asid,
		.ioas_id = ioas,
	};
	int rc = ioctl(vfd, VHOST_VDPA_IOASID_BIND, &bind) ? -errno : 0;

	if (!rc && dev_id)
		*dev_id = bind.out_dev_id;
	return rc;
}

static inline int vdpa_set_status(int vfd, __u8 status)
{
	return ioctl(vfd, VHOST_VDPA_SET_STATUS, &status) ? -errno : 0;
}

/* Wait up to 2 s for the used index of a ring to reach @idx. */
static inline bool vdpa_wait_used(volatile struct vring_used *used, __u16 idx)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 2000; i++) {
		if (used->idx == idx)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/**
 * struct vdpa_tx - a running TX queue
 * @vfd: the vhost-vdpa fd
 * @buf: the buffer (user VA) mapped at the IOVA the queue was started with
 * @kick: eventfd kicking the queue
 * @call: eventfd the device signals
 * @next: the next avail index
 * @rx: the RX queue runs too, with VDPA_RX_BUFS buffers posted
 * @rx_kick: eventfd of the RX queue
 * @rx_call: eventfd the device signals for RX
 */
struct vdpa_tx {
	int vfd;
	char *buf;
	int kick;
	int call;
	__u16 next;
	bool rx;
	int rx_kick;
	int rx_call;
};

/* Set up queue @index with its rings at @iova + @off_*, @num entries. */
static inline int vdpa_vq_setup(int vfd, unsigned int index, __u64 iova,
				__u64 off_desc, __u64 off_avail, __u64 off_used,
				int *kickfd, int *callfd)
{
	struct vhost_vring_state st = { .index = index, .num = VDPA_QSZ };
	struct vhost_vring_addr addr = {
		.index = index,
		.desc_user_addr = iova + off_desc,
		.avail_user_addr = iova + off_avail,
		.used_user_addr = iova + off_used,
	};
	struct vhost_vring_file kick = { .index = index }, call = { .index = index };

	if (ioctl(vfd, VHOST_SET_VRING_NUM, &st) ||
	    ioctl(vfd, VHOST_SET_VRING_ADDR, &addr))
		return -errno;
	st.num = 0;
	if (ioctl(vfd, VHOST_SET_VRING_BASE, &st))
		return -errno;
	*kickfd = kick.fd = eventfd(0, EFD_CLOEXEC);
	*callfd = call.fd = eventfd(0, EFD_CLOEXEC);
	if (kick.fd < 0 || call.fd < 0)
		return -errno;
	if (ioctl(vfd, VHOST_SET_VRING_KICK, &kick) ||
	    ioctl(vfd, VHOST_SET_VRING_CALL, &call))
		return -errno;
	st.num = 1;
	return ioctl(vfd, VHOST_VDPA_SET_VRING_ENABLE, &st) ? -errno : 0;
}

/*
 * Negotiate VERSION_1 | ACCESS_PLATFORM and start the TX queue (and with
 * @rx the RX queue, its buffers posted) with everything at @iova (the
 * buffer @buf mapped there). 0 or -errno.
 */
static inline int vdpa_tx_start(struct vdpa_tx *tx, int vfd, char *buf, __u64 iova,
				bool rx)
{
	__u64 features = (1ULL << VIRTIO_F_VERSION_1) |
			 (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	const __u8 s = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
		       VIRTIO_CONFIG_S_FEATURES_OK;
	__u64 got = 0;
	int rc;

	memset(tx, 0, sizeof(*tx));
	tx->vfd = vfd;
	tx->buf = buf;
	tx->rx = rx;
	tx->kick = tx->call = tx->rx_kick = tx->rx_call = -1;
	if (ioctl(vfd, VHOST_GET_FEATURES, &got))
		return -errno;
	if ((got & features) != features)
		return -EOPNOTSUPP;
	if (ioctl(vfd, VHOST_SET_FEATURES, &features))
		return -errno;
	/* vp_vdpa takes a ring base only between FEATURES_OK and enable. */
	if (vdpa_set_status(vfd, s))
		return -errno;
	if (rx) {
		struct vring_desc *desc = (void *)(buf + VDPA_OFF_RX_DESC);
		struct vring_avail *avail = (void *)(buf + VDPA_OFF_RX_AVAIL);
		unsigned int i;

		for (i = 0; i < VDPA_RX_BUFS; i++) {
			desc[i].addr = iova + VDPA_OFF_RX_BUF + i * VDPA_RX_BUF_LEN;
			desc[i].len = VDPA_RX_BUF_LEN;
			desc[i].flags = VRING_DESC_F_WRITE;
			avail->ring[i] = i;
		}
		avail->idx = VDPA_RX_BUFS;
		rc = vdpa_vq_setup(vfd, VDPA_RXQ, iova, VDPA_OFF_RX_DESC,
				   VDPA_OFF_RX_AVAIL, VDPA_OFF_RX_USED,
				   &tx->rx_kick, &tx->rx_call);
		if (rc)
			return rc;
	}
	rc = vdpa_vq_setup(vfd, VDPA_TXQ, iova, VDPA_OFF_DESC, VDPA_OFF_AVAIL,
			   VDPA_OFF_USED, &tx->kick, &tx->call);
	if (rc)
		return rc;
	return vdpa_set_status(vfd, s | VIRTIO_CONFIG_S_DRIVER_OK);
}

/*
 * Wait for the RX queue to use its @n-th buffer (1-based); returns the
 * bytes the device wrote to it (header included), or -1.
 */
static inline long vdpa_rx_wait(struct vdpa_tx *tx, __u16 n)
{
	volatile struct vring_used *used = (void *)(tx->buf + VDPA_OFF_RX_USED);

	if (!vdpa_wait_used(used, n))
		return -1;
	return used->ring[n - 1].len;
}

/* The @n-th (1-based) RX buffer's frame, past the virtio-net header. */
static inline __u8 *vdpa_rx_frame(struct vdpa_tx *tx, __u16 n)
{
	return (__u8 *)tx->buf + VDPA_OFF_RX_BUF + (n - 1) * VDPA_RX_BUF_LEN +
	       VDPA_HDR_LEN;
}

/*
 * Queue the frame at VDPA_OFF_FRAME + VDPA_HDR_LEN (VDPA_FRAME_LEN bytes),
 * kick, and wait for the device to use it: true when it did.
 */
static inline bool vdpa_tx_send(struct vdpa_tx *tx, __u64 iova)
{
	struct vring_desc *desc = (void *)(tx->buf + VDPA_OFF_DESC);
	struct vring_avail *avail = (void *)(tx->buf + VDPA_OFF_AVAIL);
	volatile struct vring_used *used = (void *)(tx->buf + VDPA_OFF_USED);
	__u16 slot = tx->next % VDPA_QSZ;
	__u64 one = 1;

	desc[slot].addr = iova + VDPA_OFF_FRAME;
	desc[slot].len = VDPA_HDR_LEN + VDPA_FRAME_LEN;
	desc[slot].flags = 0;
	avail->ring[slot] = slot;
	tx->next++;
	__atomic_store_n(&avail->idx, tx->next, __ATOMIC_RELEASE);
	if (write(tx->kick, &one, sizeof(one)) != sizeof(one))
		return false;
	return vdpa_wait_used(used, tx->next);
}

static inline void vdpa_tx_stop(struct vdpa_tx *tx)
{
	vdpa_set_status(tx->vfd, 0);
	if (tx->kick >= 0)
		close(tx->kick);
	if (tx->call >= 0)
		close(tx->call);
	if (tx->rx_kick >= 0)
		close(tx->rx_kick);
	if (tx->rx_call >= 0)
		close(tx->rx_call);
	tx->kick = tx->call = tx->rx_kick = tx->rx_call = -1;
}

/* Print the frame as the runner's pcap check expects: @tag FRAME/UNREACHABLE. */
static inline void vdpa_print_frame(const char *tag, const __u8 *frame)
{
	char hex[2 * VDPA_FRAME_LEN + 1];
	unsigned int i;

	for (i = 0; i < VDPA_FRAME_LEN; i++)
		sprintf(hex + 2 * i, "%02x", frame[i]);
	printf("# IOASID-VDPA-%s %s\n", tag, hex);
	fflush(stdout);
}

#endif /* __IOASID_VDPA_UTILS_H */
