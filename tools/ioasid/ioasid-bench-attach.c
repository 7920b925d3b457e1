// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-bench-attach: how long an attach of one IOMMU group takes while
 * another group's attach replays a large IOAS. Context B attaches (and
 * detaches) a mock device to a small IOAS, over and over: first alone, then
 * while context A, in another thread, attaches a device of another group to
 * an IOAS of 4 KiB pages (made non-contiguous) - each of A's attaches
 * replays all of it into a new domain. B's attaches that start during one
 * of A's replays - once A's new domain exists (the mock counts its
 * domains), so A is past its lookups and any lock it takes - make the
 * second line, which also says how many of them ended before that replay
 * did. Prints medians. Not a test: it never fails on speed.
 *
 *   ioasid-bench-attach [size_mb]   (A's IOAS; default 256, at most 1024)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/ioasid.h>
#include "ioasid_mock.h"
#include "bench.h"

#define MB		(1UL << 20)
#define PSZ		4096UL
#define BIG_IOVA	(1UL << 32)
#define SAMPLES		21
#define A_ROUNDS	5

static int xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg)) {
		fprintf(stderr, "ioasid-bench-attach: %s: %s\n", what, strerror(errno));
		exit(1);
	}
	return 0;
}

/* A context with one IOAS mapping @len of @buf at @iova and one mock device. */
struct ctx {
	int fd;
	int mfd;
	__u32 ioas;
	__u32 dev_id;
	__u32 mock_id;
};

static void ctx_init(struct ctx *c, char *buf, size_t len, __u64 iova)
{
	struct ioasid_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct ioasid_map map = {
		.size = sizeof(map),
		.flags = IOASID_MAP_FIXED_IOVA | IOASID_MAP_READ | IOASID_MAP_WRITE,
		.user_va = (uintptr_t)buf, .length = len, .iova = iova,
	};
	struct ioasid_mock_dev_add add = { .size = sizeof(add) };

	c->fd = open("/dev/ioasid", O_RDWR);
	c->mfd = open("/dev/ioasid_mock", O_RDWR);
	if (c->fd < 0 || c->mfd < 0) {
		perror("/dev/ioasid or /dev/ioasid_mock");
		exit(1);
	}
	xioctl(c->fd, IOASID_IOAS_ALLOC, &alloc, "IOAS_ALLOC");
	c->ioas = alloc.out_ioas_id;
	map.ioas_id = c->ioas;
	xioctl(c->fd, IOASID_MAP, &map, "MAP");
	add.ioasid_fd = c->fd;
	xioctl(c->mfd, IOASID_MOCK_DEV_ADD, &add, "MOCK_DEV_ADD");
	c->dev_id = add.out_dev_id;
	c->mock_id = add.out_mock_id;
}

static void ctx_fini(struct ctx *c)
{
	close(c->mfd);
	close(c->fd);
}

/* How many mock paging domains exist (asked through B's device). */
static __u64 mock_domains(struct ctx *c, __u32 mock_id)
{
	struct ioasid_mock_domain_info info = { .size = sizeof(info),
						.mock_id = mock_id };

	xioctl(c->mfd, IOASID_MOCK_DOMAIN_INFO, &info, "MOCK_DOMAIN_INFO");
	return info.out_domains;
}

/* IOASID_ATTACH (the RID) to the context's IOAS, and IOASID_DETACH. */
static double attach_us(struct ctx *c, bool detach)
{
	struct ioasid_attach at = { .size = sizeof(at), .dev_id = c->dev_id,
				    .pasid = IOASID_PASID_NONE, .pt_id = c->ioas };
	double t0, t1;

	t0 = now_us();
	xioctl(c->fd, IOASID_ATTACH, &at, "ATTACH");
	t1 = now_us();
	if (detach) {
		at.pt_id = 0;
		xioctl(c->fd, IOASID_DETACH, &at, "DETACH");
	}
	return t1 - t0;
}

static struct ctx a, b;
/* A's replays so far, odd while one is in progress. */
static unsigned long a_seq;
static int a_stop, a_done, a_rounds;
static double a_us[A_ROUNDS];

static void a_detach(void)
{
	struct ioasid_attach at = { .size = sizeof(at), .dev_id = a.dev_id,
				    .pasid = IOASID_PASID_NONE };

	xioctl(a.fd, IOASID_DETACH, &at, "DETACH");
}

static void *replayer(void *p __attribute__((unused)))
{
	int i;

	for (i = 0; i < A_ROUNDS && !__atomic_load_n(&a_stop, __ATOMIC_SEQ_CST); i++) {
		__atomic_add_fetch(&a_seq, 1, __ATOMIC_SEQ_CST);
		a_us[i] = attach_us(&a, false);
		__atomic_add_fetch(&a_seq, 1, __ATOMIC_SEQ_CST);
		a_detach();
	}
	a_rounds = i;
	__atomic_store_n(&a_done, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 256) * MB;
	double idle[SAMPLES], busy[SAMPLES];
	int n_busy = 0, n_within = 0, i;
	__u64 domains;
	pthread_t th;
	size_t off;
	char *big;

	if (len > 1024 * MB)
		len = 1024 * MB;
	allow_unsafe_interrupts("1");
	big = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (big == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	madvise(big, len, MADV_NOHUGEPAGE);
	/* Even pages first, then odd ones: neighbours are not contiguous. */
	for (off = 0; off < len; off += 2 * PSZ)
		big[off] = 1;
	for (off = PSZ; off < len; off += 2 * PSZ)
		big[off] = 1;
	ctx_init(&a, big, len, BIG_IOVA);
	ctx_init(&b, get_buf(MB, 0), MB, 0);

	for (i = 0; i < SAMPLES; i++)
		idle[i] = attach_us(&b, true);
	/* Nothing attached: every domain more than these is A's new one. */
	domains = mock_domains(&b, b.mock_id);

	if (pthread_create(&th, NULL, replayer, NULL)) {
		perror("pthread_create");
		return 1;
	}
	while (n_busy < SAMPLES && !__atomic_load_n(&a_done, __ATOMIC_SEQ_CST)) {
		unsigned long seq = __atomic_load_n(&a_seq, __ATOMIC_SEQ_CST);

		if (!(seq & 1) || mock_domains(&b, b.mock_id) <= domains) {
			sched_yield();
			continue;
		}
		busy[n_busy++] = attach_us(&b, true);
		/* Did it end within the replay it started in? */
		if (__atomic_load_n(&a_seq, __ATOMIC_SEQ_CST) == seq)
			n_within++;
	}
	__atomic_store_n(&a_stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(th, NULL);

	printf("attach latency of B (another group, 1M IOAS), A replaying %zuM of 4K pages\n",
	       len / MB);
	printf("%-30s %12s %8s\n", "", "median", "samples");
	printf("%-30s %10.0fus %8d\n", "A's attach (the replay)",
	       median(a_us, a_rounds), a_rounds);
	printf("%-30s %10.0fus %8d\n", "B's attach, A idle", median(idle, SAMPLES),
	       SAMPLES);
	if (n_busy)
		printf("%-30s %10.0fus %8d  (%d ended before A's replay)\n",
		       "B's attach, during A's replay", median(busy, n_busy), n_busy,
		       n_within);
	ctx_fini(&a);
	ctx_fini(&b);
	allow_unsafe_interrupts("0");
	return 0;
}
