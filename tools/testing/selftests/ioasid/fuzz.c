// SPDX-License-Identifier: GPL-2.0
/*
 * A bounded, seeded ioctl fuzzer for /dev/ioasid, the mock IOMMU's control
 * surface (/dev/ioasid_mock), ioasid_vfio's container ioctls, fault queue
 * fds and the debugfs view.
 *
 * Each seed generates a sequence of entries; an entry is a generator (one
 * per command) and a 64-bit seed for its arguments, so a sequence replays
 * the same way with entries left out: IDs are drawn at run time from pools
 * of live and destroyed objects of two contexts. A few entries run several
 * threads on the same fds, fork (the child makes a few calls and exits) or
 * close and reopen a context or the mock file. Sizes are drawn at and
 * beyond the contract's boundaries, flags and reserved fields at random,
 * pointers valid, NULL, unmapped, read-only or in the kernel.
 *
 * Every sequence runs in a child process. After it everything is closed and
 * the child checks that VmLck is back where it started, that the mock sees
 * no page of its buffers pinned, that no debugfs context of its pids is
 * left and that no module reference is kept. The parent fails the seed on a
 * call that hangs (FUZZ_HANG seconds), a kernel report in /dev/kmsg (the
 * verdict's patterns), a leak, or a refusal the contract makes
 * unconditional (ENOTTY for unknown numbers, EINVAL below the first
 * version's size, E2BIG for a non-zero tail). A failing seed is replayed
 * with entries removed (delta debugging) and the shortest sequence that
 * still fails is printed, one call a line.
 *
 * Budget: FUZZ_SEEDS (a count "8", a range "100-119" or a list "3,17,"),
 * FUZZ_CALLS (entries per seed), FUZZ_SECONDS (cap for the whole run),
 * FUZZ_HANG; from the kernel command line as ioasid_fuzz_seeds= etc., or
 * as arguments seeds=... calls=... seconds=... .
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <linux/ioasid_vfio.h>

#include "kselftest.h"
#include "ioasid_utils.h"

#define PAGE		4096UL
#define ARENA_PAGES	1024		/* 4 MiB of user memory to map */
#define NSLOT		8		/* 0 main, 1-3 threads, 4 fork child */
#define DBUF		(64 * 1024)
#define MAXOBJ		64
#define MAXDEV		32
#define MAXMAP		64
#define NERR		134
/* The end of member @m of the struct object @st: its first version's size. */
#define END_OF(st, m) ((uint32_t)((char *)&(st).m - (char *)&(st) + sizeof((st).m)))

/* ---- PRNG: splitmix64 ---- */
struct rng { uint64_t s; };
static uint64_t rnext(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
static uint32_t rn(struct rng *r, uint32_t n) { return n ? rnext(r) % n : 0; }
static int rp(struct rng *r, unsigned int pct) { return rn(r, 100) < pct; }

/* ---- the generators ---- */
enum kind {
	K_GET_INFO, K_DESTROY, K_IOAS_ALLOC, K_MAP, K_UNMAP, K_COPY,
	K_IOVA_RANGES, K_IOAS_OPTION, K_DEVICE_INFO, K_ATTACH, K_DETACH,
	K_NESTED_ALLOC, K_INVALIDATE, K_FAULT_QUEUE_ALLOC, K_BAD_IOCTL,
	K_FQ_READ, K_FQ_WRITE, K_FQ_POLL,
	K_M_DEV_ADD, K_M_DEV_DEL, K_M_ATTACH, K_M_DETACH, K_M_CHECK_MAP,
	K_M_PIN_COUNT, K_M_DOMAIN_INFO, K_M_FLOOR_MAP, K_M_SUBDEV_ADD,
	K_M_FLOOR_MAP_DEV, K_M_NESTED_INFO, K_M_FAULT_INJECT,
	K_M_FAULT_RESPONSES, K_M_ACCESS_CREATE, K_M_ACCESS_DESTROY,
	K_M_ACCESS_PIN, K_M_ACCESS_UNPIN, K_M_ACCESS_RW, K_M_ACCESS_INFO,
	K_M_BAD_IOCTL,
	K_V_OPEN, K_V_GROUP, K_V_SET_IOMMU, K_V_BIND, K_V_EXTENSION,
	K_V_IOMMU_INFO, K_V_MAP_DMA, K_V_UNMAP_DMA, K_V_DEVICE, K_V_CLOSE,
	K_DEBUGFS, K_REOPEN, K_MOCK_REOPEN,
	K_FORK, K_THREADS,
	NKIND
};

static const char *const kname[NKIND] = {
	"IOASID_GET_INFO", "IOASID_DESTROY", "IOASID_IOAS_ALLOC", "IOASID_MAP",
	"IOASID_UNMAP", "IOASID_COPY", "IOASID_IOVA_RANGES", "IOASID_IOAS_OPTION",
	"IOASID_DEVICE_INFO", "IOASID_ATTACH", "IOASID_DETACH",
	"IOASID_NESTED_ALLOC", "IOASID_INVALIDATE", "IOASID_FAULT_QUEUE_ALLOC",
	"ioasid_unknown_ioctl", "fault_read", "fault_write", "fault_poll",
	"MOCK_DEV_ADD", "MOCK_DEV_DEL", "MOCK_ATTACH", "MOCK_DETACH",
	"MOCK_CHECK_MAP", "MOCK_PIN_COUNT", "MOCK_DOMAIN_INFO", "MOCK_FLOOR_MAP",
	"MOCK_SUBDEV_ADD", "MOCK_FLOOR_MAP_DEV", "MOCK_NESTED_INFO",
	"MOCK_FAULT_INJECT", "MOCK_FAULT_RESPONSES", "MOCK_ACCESS_CREATE",
	"MOCK_ACCESS_DESTROY", "MOCK_ACCESS_PIN", "MOCK_ACCESS_UNPIN",
	"MOCK_ACCESS_RW", "MOCK_ACCESS_INFO", "mock_unknown_ioctl",
	"vfio_open_container", "vfio_group", "VFIO_SET_IOMMU", "VFIO_IOASID_BIND",
	"VFIO_CHECK_EXTENSION", "VFIO_IOMMU_GET_INFO", "VFIO_IOMMU_MAP_DMA",
	"VFIO_IOMMU_UNMAP_DMA", "VFIO_GROUP_GET_DEVICE_FD", "vfio_close",
	"debugfs_read", "ioasid_reopen", "mock_reopen", "fork", "threads",
};

/* Relative weights of the generators. */
static const unsigned char kweight[NKIND] = {
	[K_GET_INFO] = 2, [K_DESTROY] = 6, [K_IOAS_ALLOC] = 8, [K_MAP] = 12,
	[K_UNMAP] = 8, [K_COPY] = 5, [K_IOVA_RANGES] = 3, [K_IOAS_OPTION] = 3,
	[K_DEVICE_INFO] = 3, [K_ATTACH] = 8, [K_DETACH] = 5,
	[K_NESTED_ALLOC] = 4, [K_INVALIDATE] = 3, [K_FAULT_QUEUE_ALLOC] = 3,
	[K_BAD_IOCTL] = 1, [K_FQ_READ] = 3, [K_FQ_WRITE] = 3, [K_FQ_POLL] = 1,
	[K_M_DEV_ADD] = 6, [K_M_DEV_DEL] = 3, [K_M_ATTACH] = 4, [K_M_DETACH] = 2,
	[K_M_CHECK_MAP] = 2, [K_M_PIN_COUNT] = 2, [K_M_DOMAIN_INFO] = 2,
	[K_M_FLOOR_MAP] = 1, [K_M_SUBDEV_ADD] = 3, [K_M_FLOOR_MAP_DEV] = 1,
	[K_M_NESTED_INFO] = 1, [K_M_FAULT_INJECT] = 5, [K_M_FAULT_RESPONSES] = 2,
	[K_M_ACCESS_CREATE] = 3, [K_M_ACCESS_DESTROY] = 2, [K_M_ACCESS_PIN] = 3,
	[K_M_ACCESS_UNPIN] = 2, [K_M_ACCESS_RW] = 2, [K_M_ACCESS_INFO] = 1,
	[K_M_BAD_IOCTL] = 1,
	[K_V_OPEN] = 1, [K_V_GROUP] = 2, [K_V_SET_IOMMU] = 2, [K_V_BIND] = 2,
	[K_V_EXTENSION] = 1, [K_V_IOMMU_INFO] = 1, [K_V_MAP_DMA] = 2,
	[K_V_UNMAP_DMA] = 1, [K_V_DEVICE] = 1, [K_V_CLOSE] = 1,
	[K_DEBUGFS] = 2, [K_REOPEN] = 1, [K_MOCK_REOPEN] = 1,
	[K_FORK] = 1, [K_THREADS] = 1,
};

/* ---- state shared by the parent and the runner processes ---- */
enum fail_class {
	F_NONE, F_CONTRACT, F_LEAK_VMLCK, F_LEAK_PIN, F_LEAK_CTX, F_LEAK_REF,
	F_HANG, F_SPLAT, F_CRASH,
};
static const char *const fname[] = {
	"none", "contract", "leak: VmLck", "leak: pinned pages",
	"leak: debugfs context", "leak: module reference", "hang",
	"kernel report", "runner died",
};

struct slot {
	uint64_t start_ns;	/* of the call in flight, 0 when none (atomic) */
	int entry;		/* atomic */
	char desc[400];
};

struct shared {
	uint32_t cov[NKIND][NERR + 1];	/* errno 0..NERR-1, NERR: other */
	uint64_t calls;
	int count;			/* coverage is counted */
	int fail;			/* enum fail_class */
	int fail_kind;
	int fail_entry;
	char fail_msg[512];
	struct slot slot[NSLOT];
};
static struct shared *sh;

struct entry { uint8_t kind; uint64_t seed; };

/* ---- runner state ---- */
enum otype { T_IOAS, T_CHILD, T_FIOAS, T_DEV, T_NESTED, T_FAULT, NTYPE };
struct obj { uint32_t id; uint8_t type, alive; int fd; };
struct ctx { int fd; unsigned int n; struct obj o[MAXOBJ]; };
struct mdev { uint32_t mock_id, dev_id; int c, sub, alive; };
struct mapping { int c; uint32_t ioas; uint64_t iova, len; };

static struct ctx ctx[2];
static int mock_fd = -1;
static struct mdev mdevs[MAXDEV];
static unsigned int nmdev;
static uint32_t accs[16];
static unsigned int nacc;
static struct mapping maps[MAXMAP];
static unsigned int nmap;
static uint32_t cookies[32];
static unsigned int ncookie;
static int vcont[2] = { -1, -1 }, vgrp[4] = { -1, -1, -1, -1 }, vdev[4] = { -1, -1, -1, -1 };
static int ngroups, group_id[4];
static char group_bdf[4][32];
static pid_t kids[64];
static unsigned int nkids;
static uint64_t ioctl_mask;
static int threaded;
static pthread_mutex_t pool = PTHREAD_MUTEX_INITIALIZER;
static __thread int my_slot;
static __thread struct rng *my_rng;
static int printing;
static const struct entry *cur_entries;
static uint64_t run_deadline;

static uint8_t *arena, *ro_page, *guard;
struct tbuf { uint8_t *arg; uint8_t *ro; uint8_t *data; };
static struct tbuf tb[NSLOT];

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define LOCK() do { if (threaded) pthread_mutex_lock(&pool); } while (0)
#define UNLOCK() do { if (threaded) pthread_mutex_unlock(&pool); } while (0)

static void desc(const char *fmt, ...)
{
	struct slot *s = &sh->slot[my_slot];
	size_t len = strlen(s->desc);
	va_list ap;

	if (len >= sizeof(s->desc) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(s->desc + len, sizeof(s->desc) - len, fmt, ap);
	va_end(ap);
}

static void fail(int class, int kind, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_exchange_n(&sh->fail, class, __ATOMIC_SEQ_CST) != F_NONE)
		return;
	sh->fail_kind = kind;
	sh->fail_entry = __atomic_load_n(&sh->slot[my_slot].entry, __ATOMIC_RELAXED);
	va_start(ap, fmt);
	vsnprintf(sh->fail_msg, sizeof(sh->fail_msg), fmt, ap);
	va_end(ap);
}

static void cov(int kind, int rc)
{
	int e = rc < 0 ? -rc : 0;

	__atomic_add_fetch(&sh->calls, 1, __ATOMIC_RELAXED);
	if (!sh->count)
		return;
	if (e > NERR - 1)
		e = NERR;
	__atomic_add_fetch(&sh->cov[kind][e], 1, __ATOMIC_RELAXED);
}

static const char *ename(int rc)
{
	static __thread char b[16];
	const char *n;

	if (rc >= 0) {
		snprintf(b, sizeof(b), "%d", rc);
		return b;
	}
	n = strerrorname_np(-rc);
	return n ? n : "E?";
}

/* ---- pools ---- */
static void obj_add(int c, uint32_t id, int type, int fd)
{
	struct ctx *x = &ctx[c];
	struct obj *o = &x->o[x->n++ % MAXOBJ];

	/* A replaced fault queue's fd stays open: everything is closed at the end. */
	o->id = id;
	o->type = type;
	o->alive = 1;
	o->fd = fd;
}

static struct obj *obj_find(int c, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < MAXOBJ && i < ctx[c].n; i++)
		if (ctx[c].o[i].id == id && ctx[c].o[i].alive)
			return &ctx[c].o[i];
	return NULL;
}

static void obj_kill(int c, uint32_t id)
{
	struct obj *o = obj_find(c, id);

	if (o)
		o->alive = 0;
}

static struct obj *obj_pick(struct rng *r, int c, int type, int alive)
{
	unsigned int n = ctx[c].n < MAXOBJ ? ctx[c].n : MAXOBJ, i, start;

	if (!n)
		return NULL;
	start = rn(r, n);
	for (i = 0; i < n; i++) {
		struct obj *o = &ctx[c].o[(start + i) % n];

		if ((type < 0 || o->type == type ||
		     (type == T_IOAS && (o->type == T_CHILD || o->type == T_FIOAS))) &&
		    (alive < 0 || o->alive == alive))
			return o;
	}
	return NULL;
}

static const char *const tname[NTYPE] = { "ioas", "child", "fioas", "dev", "nested", "fault" };

/* An ID for a field that names an object of @type in context @c. */
static uint32_t pick_id(struct rng *r, int c, int type)
{
	static const uint32_t odd[] = { 0, 0xffffffff, 0x7fffffff, 0x80000000, 1024 };
	unsigned int p = rn(r, 100);
	struct obj *o = NULL;
	uint32_t id;

	if (p < 62)
		o = obj_pick(r, c, type, 1);
	else if (p < 70)
		o = obj_pick(r, c, -1, 1);
	else if (p < 80)
		o = obj_pick(r, c, -1, 0);
	else if (p < 88)
		o = obj_pick(r, !c, rp(r, 50) ? type : -1, -1);
	if (o) {
		desc("%u(%s%s%s)", o->id, o->alive ? "" : "stale ", tname[o->type],
		     o >= ctx[!c].o && o < ctx[!c].o + MAXOBJ ? " of other ctx" : "");
		return o->id;
	}
	id = p < 95 ? rn(r, 16) : odd[rn(r, 5)];
	desc("%u", id);
	return id;
}

static int pick_ctx(struct rng *r) { return rp(r, 85) ? 0 : 1; }

/* The fd a /dev/ioasid command goes to; *kind 1 when it is ctx @c's. */
static int pick_ioasid_fd(struct rng *r, int c, int *ok)
{
	unsigned int p = rn(r, 100);

	*ok = 0;
	if (p < 95) {
		*ok = ctx[c].fd >= 0;
		desc(" ctx%c", 'A' + c);
		return ctx[c].fd;
	}
	if (p < 97) {
		desc(" mockfd");
		return mock_fd;
	}
	desc(" badfd");
	return rp(r, 50) ? -1 : 1000;
}

static uint64_t pick_len(struct rng *r)
{
	unsigned int p = rn(r, 100);

	if (p < 80)
		return (1 + rn(r, rp(r, 80) ? 8 : 64)) * PAGE;
	if (p < 85)
		return 512 * PAGE;
	if (p < 88)
		return 0;
	if (p < 92)
		return 1ULL << (30 + rn(r, 12));	/* 1 GiB - 2 TiB */
	if (p < 95)
		return ~0ULL - rn(r, 2) * (PAGE - 1);
	return rn(r, 3 * PAGE) + 1;
}

static uint64_t pick_va(struct rng *r, uint64_t len)
{
	unsigned int p = rn(r, 100);
	uint64_t pages = (len + PAGE - 1) / PAGE;

	if (p < 85 && pages && pages <= ARENA_PAGES) {
		uint64_t va = (uintptr_t)arena + rn(r, ARENA_PAGES - pages + 1) * PAGE;

		if (p > 80)
			va += rn(r, PAGE);
		return va;
	}
	if (p < 88)
		return 0;
	if (p < 91)
		return (uintptr_t)guard;
	if (p < 94)
		return (uintptr_t)ro_page;
	if (p < 96)
		return (uintptr_t)arena + (ARENA_PAGES - 1) * PAGE;
	if (p < 98)
		return 0xffff888000000000ULL;
	return rnext(r);
}

static struct mapping *map_pick(struct rng *r, int c)
{
	unsigned int n = nmap < MAXMAP ? nmap : MAXMAP, i, s;

	if (!n)
		return NULL;
	s = rn(r, n);
	for (i = 0; i < n; i++)
		if (maps[(s + i) % n].c == c || rp(r, 10))
			return &maps[(s + i) % n];
	return NULL;
}

static void map_add(int c, uint32_t ioas, uint64_t iova, uint64_t len)
{
	maps[nmap++ % MAXMAP] = (struct mapping){ c, ioas, iova, len };
}

static uint64_t pick_iova(struct rng *r, int c, uint64_t *len)
{
	static const uint64_t edge[] = {
		0, PAGE, IOASID_MOCK_RESV_START, 0xfffff000ULL, 0x100000000ULL,
		(1ULL << 48) - PAGE, 1ULL << 48, ~0ULL & ~(PAGE - 1), ~0ULL,
	};
	unsigned int p = rn(r, 100);
	struct mapping *m;

	m = p < 45 ? map_pick(r, c) : NULL;
	if (m) {
		if (len && rp(r, 70))
			*len = m->len;
		if (rp(r, 20) && m->len > PAGE)
			return m->iova + PAGE * rn(r, m->len / PAGE);
		return m->iova;
	}
	if (p < 80)
		return (0x100000 + rn(r, 4096) * PAGE);
	if (p < 95)
		return edge[rn(r, ARRAY_SIZE(edge))];
	return rnext(r);
}

static uint32_t pick_flags(struct rng *r, uint32_t valid)
{
	unsigned int p = rn(r, 100);

	if (p < 85)
		return valid & (uint32_t)rnext(r);
	if (p < 95)
		return 1u << rn(r, 32);
	return (uint32_t)rnext(r);
}

static uint32_t pick_rsv(struct rng *r) { return rp(r, 95) ? 0 : (uint32_t)rnext(r) | 1; }

static struct mdev *mdev_pick(struct rng *r, int alive)
{
	unsigned int n = nmdev < MAXDEV ? nmdev : MAXDEV, i, s;

	if (!n)
		return NULL;
	s = rn(r, n);
	for (i = 0; i < n; i++)
		if (alive < 0 || mdevs[(s + i) % n].alive == alive)
			return &mdevs[(s + i) % n];
	return NULL;
}

static uint32_t pick_mock_id(struct rng *r, int *c)
{
	unsigned int p = rn(r, 100);
	struct mdev *d = NULL;
	uint32_t id;

	if (p < 75)
		d = mdev_pick(r, 1);
	else if (p < 88)
		d = mdev_pick(r, 0);
	if (d) {
		if (c)
			*c = d->c;
		desc("%u(%s%sdev)", d->mock_id, d->alive ? "" : "stale ", d->sub ? "sub" : "");
		return d->mock_id;
	}
	id = p < 95 ? rn(r, 8) : (uint32_t)rnext(r);
	desc("%u", id);
	return id;
}

/* ---- the size contract and the argument's placement ---- */
enum fdkind { FD_OTHER, FD_IOASID, FD_MOCK };

/*
 * Send a size-contract command: choose the size and the placement of the
 * struct, issue it, check what the contract makes unconditional, copy the
 * result back on success.
 */
static int contract_ioctl(struct rng *r, int kind, int fd, int fdk, unsigned long cmd,
			  void *st, uint32_t ksize, uint32_t min_size)
{
	struct tbuf *t = &tb[my_slot];
	unsigned int p = rn(r, 100), place = rn(r, 100);
	uint32_t size = ksize;
	uint8_t *arg = t->arg;
	int tail = 0, readable = 1, rc;
	uint32_t i;

	if (p >= 75) {
		switch (rn(r, 10)) {
		case 0:
			size = 0;
			break;
		case 1:
			size = 4;
			break;
		case 2:
			size = min_size - 1;
			break;
		case 3:
			size = min_size;
			break;
		case 4:
			size = ksize + 8;
			break;
		case 5:
			size = ksize + 8;
			tail = 1;
			break;
		case 6:
			size = ksize + 1 + rn(r, 256);
			tail = 1;
			break;
		case 7:
			size = 2 * PAGE;
			break;
		case 8:
			size = 0xffffffff;
			break;
		default:
			size = ksize - 1 - rn(r, 4);
			break;
		}
	}
	desc(" size=%u%s", size, tail ? "+tail" : "");
	if (place < 92) {
		/* at the start of two readable pages (a guard page follows) */
	} else if (place < 95) {
		arg = t->arg + 2 * PAGE - ksize / 2;	/* runs into the guard */
		readable = 0;
		desc(" arg=@guard");
	} else if (place < 97) {
		arg = t->ro;
		readable = 0;	/* output cannot be written back */
		desc(" arg=ro");
	} else if (place < 99) {
		arg = NULL;
		readable = 0;
		desc(" arg=NULL");
	} else {
		arg = (uint8_t *)0xffff888000000000ULL;
		readable = 0;
		desc(" arg=kernel");
	}
	if (size > ksize && (uint64_t)size > 2 * PAGE)
		readable = 0;
	if (arg == t->arg) {
		memset(arg, 0, 2 * PAGE);
		memcpy(arg, st, ksize);
		*(uint32_t *)arg = size;
		if (tail && size > ksize)
			arg[ksize + rn(r, size - ksize)] = 1 + rn(r, 255);
	} else if (arg == t->ro) {
		mprotect(t->ro, PAGE, PROT_READ | PROT_WRITE);
		memset(t->ro, 0, PAGE);
		memcpy(t->ro, st, ksize);
		*(uint32_t *)t->ro = size;
		mprotect(t->ro, PAGE, PROT_READ);
	} else if (!readable && arg && arg != (uint8_t *)0xffff888000000000ULL) {
		memcpy(arg, st, ksize / 2);
		*(uint32_t *)arg = size;
	}
	rc = ioctl(fd, cmd, arg) ? -errno : 0;
	cov(kind, rc);
	if (readable && !threaded && fdk != FD_OTHER && (cmd >> 8 & 0xff) ==
	    (fdk == FD_IOASID ? IOASID_TYPE : IOASID_MOCK_TYPE) &&
	    (fdk == FD_MOCK || (ioctl_mask >> (_IOC_NR(cmd) - IOASID_CMD_BASE) & 1))) {
		int want = 1;

		if (size < min_size)
			want = -EINVAL;
		else if (size > ksize)
			for (i = ksize; i < size; i++)
				if (arg[i])
					want = -E2BIG;
		if (want <= 0 && rc != want)
			fail(F_CONTRACT, kind, "%s with size %u (kernel struct %u, first version %u): %s, the contract says %s",
			     kname[kind], size, ksize, min_size, ename(rc), ename(want));
	}
	if (!rc && arg == t->arg)
		memcpy(st, arg, ksize);
	return rc;
}

#define IOASID_CALL(kind, fd, ok, cmd, st, last)				\
	contract_ioctl(r, kind, fd, ok ? FD_IOASID : FD_OTHER, cmd, &(st),	\
		       sizeof(st), END_OF(st, last))
#define MOCK_CALL(kind, cmd, st, last)						\
	contract_ioctl(r, kind, mock_fd, mock_fd >= 0 ? FD_MOCK : FD_OTHER, cmd,	\
		       &(st), sizeof(st), END_OF(st, last))

/* ---- /dev/ioasid generators ---- */
static int g_get_info(struct rng *r, int k)
{
	struct ioasid_get_info a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok);

	a.flags = pick_flags(r, 0);
	a.__reserved = pick_rsv(r);
	return IOASID_CALL(k, fd, ok, IOASID_GET_INFO, a, out_ioctl_mask);
}

static int g_destroy(struct rng *r, int k)
{
	struct ioasid_destroy a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;

	LOCK();
	desc(" id=");
	a.id = pick_id(r, c, rp(r, 30) ? T_DEV : -1);
	UNLOCK();
	rc = IOASID_CALL(k, fd, ok, IOASID_DESTROY, a, id);
	if (!rc && ok) {
		LOCK();
		obj_kill(c, a.id);
		UNLOCK();
	}
	return rc;
}

static int g_ioas_alloc(struct rng *r, int k)
{
	static const uint32_t fl[] = { 0, 0, 0, IOASID_IOAS_ALLOC_SW_NESTED,
		IOASID_IOAS_ALLOC_FAULT, IOASID_IOAS_ALLOC_SW_NESTED | IOASID_IOAS_ALLOC_FAULT };
	struct ioasid_ioas_alloc a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;

	a.flags = rp(r, 92) ? fl[rn(r, 6)] : pick_flags(r, 3);
	LOCK();
	desc(" flags=%#x parent=", a.flags);
	a.parent_id = a.flags & IOASID_IOAS_ALLOC_SW_NESTED || rp(r, 5) ? pick_id(r, c, T_IOAS) : 0;
	desc(" fault=");
	a.fault_id = a.flags & IOASID_IOAS_ALLOC_FAULT || rp(r, 5) ? pick_id(r, c, T_FAULT) : 0;
	UNLOCK();
	a.__reserved = pick_rsv(r);
	rc = IOASID_CALL(k, fd, ok, IOASID_IOAS_ALLOC, a, parent_id);
	if (!rc && ok) {
		desc(" -> id %u", a.out_ioas_id);
		LOCK();
		obj_add(c, a.out_ioas_id, a.flags & IOASID_IOAS_ALLOC_SW_NESTED ? T_CHILD :
			a.flags & IOASID_IOAS_ALLOC_FAULT ? T_FIOAS : T_IOAS, -1);
		UNLOCK();
	}
	return rc;
}

static int g_map(struct rng *r, int k)
{
	static const uint32_t fl[] = { MAP_FIXED_RW, MAP_FIXED_RW, MAP_RW, IOASID_MAP_READ | IOASID_MAP_FIXED_IOVA,
		IOASID_MAP_FIXED_IOVA, 0 };
	struct ioasid_map a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;

	a.flags = rp(r, 95) ? fl[rn(r, 6)] : pick_flags(r, 7);
	LOCK();
	desc(" flags=%#x ioas=", a.flags);
	a.ioas_id = pick_id(r, c, T_IOAS);
	a.length = pick_len(r);
	a.user_va = pick_va(r, a.length);
	a.iova = a.flags & IOASID_MAP_FIXED_IOVA ? pick_iova(r, c, NULL) : rn(r, 2) * rnext(r);
	UNLOCK();
	a.__reserved = pick_rsv(r);
	desc(" va=%#llx len=%#llx iova=%#llx", (unsigned long long)a.user_va,
	     (unsigned long long)a.length, (unsigned long long)a.iova);
	rc = IOASID_CALL(k, fd, ok, IOASID_MAP, a, iova);
	if (!rc && ok) {
		desc(" -> iova %#llx", (unsigned long long)a.iova);
		LOCK();
		map_add(c, a.ioas_id, a.iova, a.length);
		UNLOCK();
	}
	return rc;
}

static int g_unmap(struct rng *r, int k)
{
	struct ioasid_unmap a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok);
	uint64_t len = pick_len(r);

	a.flags = rp(r, 15) ? IOASID_UNMAP_ALL : rp(r, 95) ? 0 : pick_flags(r, 1);
	LOCK();
	desc(" flags=%#x ioas=", a.flags);
	a.ioas_id = pick_id(r, c, T_IOAS);
	if (!(a.flags & IOASID_UNMAP_ALL) || rp(r, 5)) {
		a.iova = pick_iova(r, c, &len);
		a.length = len;
	}
	UNLOCK();
	a.__reserved = pick_rsv(r);
	desc(" iova=%#llx len=%#llx", (unsigned long long)a.iova, (unsigned long long)a.length);
	return IOASID_CALL(k, fd, ok, IOASID_UNMAP, a, length);
}

static int g_copy(struct rng *r, int k)
{
	struct ioasid_copy a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;
	uint64_t len = pick_len(r);

	a.flags = rp(r, 95) ? (rp(r, 50) ? MAP_FIXED_RW : MAP_RW) : pick_flags(r, 7);
	LOCK();
	desc(" flags=%#x dst=", a.flags);
	a.dst_ioas_id = pick_id(r, c, rp(r, 50) ? T_CHILD : T_IOAS);
	desc(" src=");
	a.src_ioas_id = pick_id(r, c, T_IOAS);
	a.src_iova = pick_iova(r, c, &len);
	a.length = len;
	a.dst_iova = a.flags & IOASID_MAP_FIXED_IOVA ? (rp(r, 50) ? a.src_iova : pick_iova(r, c, NULL)) : 0;
	UNLOCK();
	desc(" src_iova=%#llx len=%#llx dst_iova=%#llx", (unsigned long long)a.src_iova,
	     (unsigned long long)a.length, (unsigned long long)a.dst_iova);
	rc = IOASID_CALL(k, fd, ok, IOASID_COPY, a, src_iova);
	if (!rc && ok) {
		LOCK();
		map_add(c, a.dst_ioas_id, a.dst_iova, a.length);
		UNLOCK();
	}
	return rc;
}

static int g_iova_ranges(struct rng *r, int k)
{
	struct ioasid_iova_ranges a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok);

	LOCK();
	desc(" ioas=");
	a.ioas_id = pick_id(r, c, T_IOAS);
	UNLOCK();
	a.num_ranges = rp(r, 90) ? rn(r, 5) : (uint32_t)rnext(r);
	a.ranges = rp(r, 90) ? (uintptr_t)tb[my_slot].data : pick_va(r, PAGE);
	a.__reserved = pick_rsv(r);
	desc(" num=%u", a.num_ranges);
	return IOASID_CALL(k, fd, ok, IOASID_IOVA_RANGES, a, out_iova_alignment);
}

static int g_ioas_option(struct rng *r, int k)
{
	struct ioasid_ioas_option a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok);

	a.op = rp(r, 90) ? rn(r, 2) : (uint32_t)rnext(r);
	a.option = rp(r, 90) ? IOASID_OPTION_HUGE_PAGES : rn(r, 4);
	a.val = rp(r, 90) ? rn(r, 2) : rnext(r);
	LOCK();
	desc(" op=%u option=%u val=%llu ioas=", a.op, a.option, (unsigned long long)a.val);
	a.ioas_id = pick_id(r, c, T_IOAS);
	UNLOCK();
	return IOASID_CALL(k, fd, ok, IOASID_IOAS_OPTION, a, val);
}

static int g_device_info(struct rng *r, int k)
{
	struct ioasid_device_info a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;
	uint32_t i, esz = sizeof(struct ioasid_device_entry);

	a.entry_size = rp(r, 80) ? esz : rp(r, 50) ? rn(r, esz + 64) : (uint32_t)rnext(r);
	a.num_devices = rp(r, 80) ? rn(r, 8) : (uint32_t)rnext(r);
	if (a.entry_size * (uint64_t)a.num_devices <= DBUF && rp(r, 90))
		a.devices = (uintptr_t)tb[my_slot].data;
	else
		a.devices = pick_va(r, PAGE);
	a.__reserved = pick_rsv(r);
	desc(" entry_size=%u num=%u", a.entry_size, a.num_devices);
	rc = IOASID_CALL(k, fd, ok, IOASID_DEVICE_INFO, a, devices);
	/* Learn the devices VFIO registered. */
	if (!rc && ok && a.entry_size >= 4 && a.devices == (uintptr_t)tb[my_slot].data) {
		LOCK();
		for (i = 0; i < a.num_devices && i < 8 && i * a.entry_size < DBUF; i++) {
			uint32_t id = *(uint32_t *)(tb[my_slot].data + i * a.entry_size);

			if (id && !obj_find(c, id))
				obj_add(c, id, T_DEV, -1);
		}
		UNLOCK();
	}
	return rc;
}

static uint32_t pick_pasid(struct rng *r)
{
	unsigned int p = rn(r, 100);

	if (p < 55)
		return IOASID_PASID_NONE;
	if (p < 90)
		return 1 + rn(r, 4);
	if (p < 95)
		return rp(r, 50) ? 0 : 255 + rn(r, 2);
	return (uint32_t)rnext(r);
}

static int g_attach(struct rng *r, int k)
{
	struct ioasid_attach a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok);

	LOCK();
	desc(" dev=");
	a.dev_id = pick_id(r, c, T_DEV);
	a.pasid = pick_pasid(r);
	desc(" pasid=%#x pt=", a.pasid);
	a.pt_id = k == K_DETACH && rp(r, 90) ? 0 : pick_id(r, c, rp(r, 20) ? T_NESTED : T_IOAS);
	UNLOCK();
	a.flags = pick_flags(r, 0);
	a.__reserved = pick_rsv(r);
	return IOASID_CALL(k, fd, ok, k == K_ATTACH ? IOASID_ATTACH : IOASID_DETACH, a, __reserved);
}

static int g_nested_alloc(struct rng *r, int k)
{
	struct ioasid_nested_alloc a = { 0 };
	struct ioasid_mock_nested_data *d = (void *)tb[my_slot].data;
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;

	a.flags = rp(r, 80) ? 0 : rp(r, 70) ? IOASID_NESTED_ALLOC_FAULT : pick_flags(r, 1);
	LOCK();
	desc(" flags=%#x parent=", a.flags);
	a.parent_id = pick_id(r, c, T_IOAS);
	desc(" dev=");
	a.dev_id = pick_id(r, c, T_DEV);
	desc(" fault=");
	a.fault_id = a.flags || rp(r, 5) ? pick_id(r, c, T_FAULT) : 0;
	UNLOCK();
	a.data_type = rp(r, 85) ? IOASID_NESTED_DATA_MOCK : rp(r, 50) ? IOASID_NESTED_DATA_VTD_S1 : rn(r, 0x10000);
	a.data_len = rp(r, 85) ? sizeof(*d) : rn(r, 64);
	d->iotlb = rp(r, 90) ? rn(r, 1000) : (uint32_t)rnext(r);
	d->__reserved = pick_rsv(r);
	a.data_uptr = rp(r, 90) ? (uintptr_t)d : pick_va(r, PAGE);
	desc(" type=%#x len=%u", a.data_type, a.data_len);
	rc = IOASID_CALL(k, fd, ok, IOASID_NESTED_ALLOC, a, out_nested_id);
	if (!rc && ok) {
		desc(" -> id %u", a.out_nested_id);
		LOCK();
		obj_add(c, a.out_nested_id, T_NESTED, -1);
		UNLOCK();
	}
	return rc;
}

static int g_invalidate(struct rng *r, int k)
{
	struct ioasid_invalidate a = { 0 };
	struct ioasid_mock_inv_entry *e = (void *)tb[my_slot].data;
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), i;

	LOCK();
	desc(" id=");
	a.id = pick_id(r, c, T_NESTED);
	UNLOCK();
	a.data_type = rp(r, 90) ? IOASID_MOCK_INV_DATA : (uint32_t)rnext(r);
	a.entry_len = rp(r, 85) ? sizeof(*e) : rn(r, 32);
	a.entry_num = rp(r, 90) ? rn(r, 5) : (uint32_t)rnext(r);
	for (i = 0; i < 8; i++) {
		e[i].flags = rp(r, 80) ? rn(r, 2) : (uint32_t)rnext(r);
		e[i].iotlb_id = rn(r, 6);
	}
	a.data_uptr = rp(r, 90) ? (uintptr_t)e : pick_va(r, PAGE);
	a.__reserved = pick_rsv(r);
	desc(" type=%#x entry_len=%u num=%u", a.data_type, a.entry_len, a.entry_num);
	return IOASID_CALL(k, fd, ok, IOASID_INVALIDATE, a, data_uptr);
}

static int g_fault_queue_alloc(struct rng *r, int k)
{
	struct ioasid_fault_queue_alloc a = { 0 };
	int c = pick_ctx(r), ok, fd = pick_ioasid_fd(r, c, &ok), rc;

	a.flags = pick_flags(r, 0);
	rc = IOASID_CALL(k, fd, ok, IOASID_FAULT_QUEUE_ALLOC, a, out_fault_fd);
	if (!rc && ok) {
		desc(" -> id %u fd %d", a.out_fault_id, a.out_fault_fd);
		LOCK();
		obj_add(c, a.out_fault_id, T_FAULT, a.out_fault_fd);
		UNLOCK();
	}
	return rc;
}

/* Numbers no /dev/ioasid or mock command has: ENOTTY, always. */
static int g_bad_ioctl(struct rng *r, int k)
{
	int mock = k == K_M_BAD_IOCTL, c = pick_ctx(r);
	int fd = mock ? mock_fd : ctx[c].fd, rc;
	unsigned int type = mock ? IOASID_MOCK_TYPE : IOASID_TYPE;
	/* The first number past the last command (GET_INFO's mask, for ioasid). */
	unsigned int last = mock ? IOASID_MOCK_CMD_ACCESS_INFO + 1 :
			    IOASID_CMD_BASE + 64 - __builtin_clzll(ioctl_mask);
	unsigned long cmd;
	__u32 arg[64] = { sizeof(arg) };

	switch (rn(r, 5)) {
	case 0:
		cmd = _IO(type, rn(r, IOASID_CMD_BASE));
		break;
	case 1:
		cmd = _IO(type, last + rn(r, 256 - last));
		break;
	case 2:
		cmd = _IOWR(type, IOASID_CMD_BASE + rn(r, last - IOASID_CMD_BASE), struct ioasid_map);
		break;
	case 3:
		cmd = _IOR(type, IOASID_CMD_BASE + rn(r, last - IOASID_CMD_BASE), __u32);
		break;
	default:
		cmd = _IO(type ^ (1 + rn(r, 255)), IOASID_CMD_BASE + rn(r, 16));
		break;
	}
	desc(" %s cmd=%#lx", mock ? "mockfd" : c ? "ctxB" : "ctxA", cmd);
	rc = ioctl(fd, cmd, arg) ? -errno : 0;
	cov(k, rc);
	if (!threaded && fd >= 0 && rc != -ENOTTY)
		fail(F_CONTRACT, k, "unknown ioctl %#lx on %s: %s, the contract says ENOTTY",
		     cmd, mock ? "/dev/ioasid_mock" : "/dev/ioasid", ename(rc));
	return rc;
}

static int pick_fault_fd(struct rng *r)
{
	struct obj *o = NULL;
	int c = pick_ctx(r);

	LOCK();
	o = obj_pick(r, c, T_FAULT, rp(r, 90) ? 1 : -1);
	UNLOCK();
	if (!o || o->type != T_FAULT)
		return rp(r, 50) ? -1 : ctx[c].fd;
	desc(" fault %u fd %d", o->id, o->fd);
	return o->fd;
}

static int g_fq_read(struct rng *r, int k)
{
	struct ioasid_fault *f = (void *)tb[my_slot].data;
	int fd = pick_fault_fd(r), rc, i;
	size_t n = rp(r, 80) ? sizeof(*f) * (1 + rn(r, 16)) : rn(r, 64);

	desc(" count=%zu", n);
	rc = read(fd, rp(r, 95) ? (void *)f : (void *)guard, n);
	rc = rc < 0 ? -errno : rc;
	cov(k, rc < 0 ? rc : 0);
	LOCK();
	for (i = 0; rc > 0 && i < rc / (int)sizeof(*f); i++)
		cookies[ncookie++ % 32] = f[i].cookie;
	UNLOCK();
	return rc;
}

static int g_fq_write(struct rng *r, int k)
{
	struct ioasid_fault_response *w = (void *)tb[my_slot].data;
	int fd = pick_fault_fd(r), rc, i, n = 1 + rn(r, 3);

	LOCK();
	for (i = 0; i < n; i++) {
		w[i].cookie = ncookie && rp(r, 80) ? cookies[rn(r, ncookie < 32 ? ncookie : 32)] : rn(r, 4);
		w[i].code = rp(r, 90) ? rn(r, 3) : (uint32_t)rnext(r);
		desc(" {cookie %u code %u}", w[i].cookie, w[i].code);
	}
	UNLOCK();
	rc = write(fd, w, rp(r, 90) ? n * sizeof(*w) : rn(r, 20));
	rc = rc < 0 ? -errno : rc;
	cov(k, rc < 0 ? rc : 0);
	return rc;
}

static int g_fq_poll(struct rng *r, int k)
{
	struct pollfd p = { .fd = pick_fault_fd(r), .events = POLLIN | POLLOUT };
	int rc = poll(&p, 1, 0);

	rc = rc < 0 ? -errno : 0;
	cov(k, rc);
	return rc;
}

/* ---- mock generators ---- */
static int g_m_dev_add(struct rng *r, int k)
{
	struct ioasid_mock_dev_add a = { 0 };
	int c = pick_ctx(r), rc;

	a.flags = rp(r, 95) ? ((uint32_t)rnext(r) & 0x3ff & ~(rp(r, 80) ? IOASID_MOCK_DEV_INSTANCE2 : 0)) |
		  (rp(r, 60) ? IOASID_MOCK_DEV_PASID | IOASID_MOCK_DEV_IOPF | IOASID_MOCK_DEV_NESTING : 0)
			    : (uint32_t)rnext(r);
	a.ioasid_fd = rp(r, 95) ? ctx[c].fd : rp(r, 50) ? -1 : mock_fd;
	a.__reserved = pick_rsv(r);
	desc(" flags=%#x ctx%c", a.flags, 'A' + c);
	rc = MOCK_CALL(k, IOASID_MOCK_DEV_ADD, a, __reserved);
	if (!rc) {
		desc(" -> mock %u dev %u", a.out_mock_id, a.out_dev_id);
		LOCK();
		mdevs[nmdev++ % MAXDEV] = (struct mdev){ a.out_mock_id, a.out_dev_id, c, 0, 1 };
		obj_add(c, a.out_dev_id, T_DEV, -1);
		UNLOCK();
	}
	return rc;
}

static int g_m_dev(struct rng *r, int k)
{
	static const unsigned long cmds[] = {
		[K_M_DEV_DEL] = IOASID_MOCK_DEV_DEL, [K_M_ATTACH] = IOASID_MOCK_ATTACH,
		[K_M_DETACH] = IOASID_MOCK_DETACH,
	};
	struct ioasid_mock_dev a = { 0 };
	int c = 0, rc;

	LOCK();
	desc(" mock=");
	a.mock_id = pick_mock_id(r, &c);
	if (k == K_M_ATTACH) {
		desc(" pt=");
		a.pt_id = pick_id(r, rp(r, 90) ? c : !c, rp(r, 20) ? T_NESTED : T_IOAS);
	}
	UNLOCK();
	a.__reserved = pick_rsv(r);
	rc = MOCK_CALL(k, cmds[k], a, __reserved);
	if (!rc && k == K_M_DEV_DEL) {
		unsigned int i;

		LOCK();
		for (i = 0; i < MAXDEV && i < nmdev; i++)
			if (mdevs[i].alive && mdevs[i].mock_id == a.mock_id) {
				mdevs[i].alive = 0;
				obj_kill(mdevs[i].c, mdevs[i].dev_id);
			}
		UNLOCK();
	}
	return rc;
}

static int g_m_check_map(struct rng *r, int k)
{
	struct ioasid_mock_check_map a = { 0 };
	uint64_t len = pick_len(r);

	LOCK();
	desc(" mock=");
	a.mock_id = pick_mock_id(r, NULL);
	a.iova = pick_iova(r, 0, &len);
	UNLOCK();
	a.length = len;
	a.uptr = pick_va(r, len);
	a.flags = rp(r, 70) ? 0 : rp(r, 80) ? IOASID_MOCK_PASID_VALID : pick_flags(r, 1);
	a.pasid = 1 + rn(r, 4);
	desc(" iova=%#llx len=%#llx", (unsigned long long)a.iova, (unsigned long long)a.length);
	return MOCK_CALL(k, IOASID_MOCK_CHECK_MAP, a, out_huge_ioptes);
}

static int g_m_pin_count(struct rng *r, int k)
{
	struct ioasid_mock_pin_count a = { 0 };

	a.length = pick_len(r);
	a.uptr = pick_va(r, a.length);
	a.__reserved = pick_rsv(r);
	desc(" uptr=%#llx len=%#llx", (unsigned long long)a.uptr, (unsigned long long)a.length);
	return MOCK_CALL(k, IOASID_MOCK_PIN_COUNT, a, out_max);
}

static int g_m_info(struct rng *r, int k)
{
	struct ioasid_mock_domain_info a = { 0 };
	struct ioasid_mock_nested_info n = { 0 };

	LOCK();
	desc(" mock=");
	a.mock_id = n.mock_id = pick_mock_id(r, NULL);
	UNLOCK();
	if (k == K_M_NESTED_INFO)
		return MOCK_CALL(k, IOASID_MOCK_NESTED_INFO, n, out_nested_domains);
	a.flags = rp(r, 70) ? 0 : rp(r, 80) ? IOASID_MOCK_PASID_VALID : pick_flags(r, 1);
	a.pasid = 1 + rn(r, 4);
	return MOCK_CALL(k, IOASID_MOCK_DOMAIN_INFO, a, out_domains);
}

static int g_m_floor_map(struct rng *r, int k)
{
	struct ioasid_mock_floor_map a = { 0 };
	struct ioasid_mock_floor_map_dev d = { 0 };

	a.flags = d.flags = rp(r, 50) ? 0 : rp(r, 90) ? IOASID_MOCK_FLOOR_UNMAP : pick_flags(r, 1);
	a.length = d.length = rp(r, 90) ? (1 + rn(r, 8)) * PAGE : pick_len(r);
	a.uptr = d.uptr = pick_va(r, a.length);
	a.iova = d.iova = 0x100000 + rn(r, 64) * PAGE;
	desc(" flags=%#x uptr=%#llx len=%#llx", a.flags, (unsigned long long)a.uptr,
	     (unsigned long long)a.length);
	if (k == K_M_FLOOR_MAP_DEV) {
		if (ngroups && rp(r, 80))
			snprintf(d.name, sizeof(d.name), "%s", group_bdf[rn(r, ngroups)]);
		else if (rp(r, 50))
			snprintf(d.name, sizeof(d.name), "0000:00:%02x.0", rn(r, 8));
		else
			memset(d.name, 'x', sizeof(d.name));	/* not terminated */
		desc(" name=%.32s", d.name);
		return MOCK_CALL(k, IOASID_MOCK_FLOOR_MAP_DEV, d, iova);
	}
	LOCK();
	desc(" mock=");
	a.mock_id = pick_mock_id(r, NULL);
	UNLOCK();
	return MOCK_CALL(k, IOASID_MOCK_FLOOR_MAP, a, iova);
}

static int g_m_subdev_add(struct rng *r, int k)
{
	struct ioasid_mock_subdev_add a = { 0 };
	int c = 0, rc;

	LOCK();
	desc(" parent=");
	a.parent_mock_id = pick_mock_id(r, &c);
	UNLOCK();
	a.pasid = rp(r, 30) ? IOASID_MOCK_PASID_GLOBAL : rp(r, 90) ? 1 + rn(r, 4) : (uint32_t)rnext(r);
	a.__reserved = pick_rsv(r);
	desc(" pasid=%#x", a.pasid);
	rc = MOCK_CALL(k, IOASID_MOCK_SUBDEV_ADD, a, __reserved);
	if (!rc) {
		desc(" -> mock %u dev %u pasid %u", a.out_mock_id, a.out_dev_id, a.pasid);
		LOCK();
		mdevs[nmdev++ % MAXDEV] = (struct mdev){ a.out_mock_id, a.out_dev_id, c, 1, 1 };
		obj_add(c, a.out_dev_id, T_DEV, -1);
		UNLOCK();
	}
	return rc;
}

static int g_m_fault_inject(struct rng *r, int k)
{
	struct ioasid_mock_fault_inject a = { 0 };

	LOCK();
	desc(" mock=");
	a.mock_id = pick_mock_id(r, NULL);
	UNLOCK();
	a.flags = rp(r, 90) ? (rn(r, 2) ? IOASID_MOCK_FAULT_PASID : 0) |
		  (rp(r, 80) ? IOASID_MOCK_FAULT_LAST : 0) : pick_flags(r, 3);
	a.pasid = rp(r, 90) ? 1 + rn(r, 4) : (uint32_t)rnext(r);
	a.grpid = rn(r, 8);
	a.perm = rn(r, 16);
	a.addr = rp(r, 90) ? 0x100000 + rn(r, 64) * PAGE : rnext(r);
	desc(" flags=%#x pasid=%u grp=%u", a.flags, a.pasid, a.grpid);
	return MOCK_CALL(k, IOASID_MOCK_FAULT_INJECT, a, addr);
}

static int g_m_fault_responses(struct rng *r, int k)
{
	struct ioasid_mock_fault_responses a = { 0 };

	LOCK();
	desc(" mock=");
	a.mock_id = pick_mock_id(r, NULL);
	UNLOCK();
	a.num = rp(r, 90) ? rn(r, 16) : (uint32_t)rnext(r);
	a.uptr = a.num <= DBUF / sizeof(struct ioasid_mock_fault_response) && rp(r, 90) ?
		 (uintptr_t)tb[my_slot].data : pick_va(r, PAGE);
	desc(" num=%u", a.num);
	return MOCK_CALL(k, IOASID_MOCK_FAULT_RESPONSES, a, uptr);
}

static int g_m_access_create(struct rng *r, int k)
{
	struct ioasid_mock_access_create a = { 0 };
	int c = pick_ctx(r), rc;

	a.flags = rp(r, 95) ? rn(r, 16) & ~(rp(r, 70) ? IOASID_MOCK_ACCESS_NO_UNPIN : 0) : pick_flags(r, 15);
	a.ioasid_fd = rp(r, 95) ? ctx[c].fd : -1;
	LOCK();
	desc(" flags=%#x ctx%c ioas=", a.flags, 'A' + c);
	a.ioas_id = pick_id(r, c, T_IOAS);
	UNLOCK();
	a.__reserved = pick_rsv(r);
	rc = MOCK_CALL(k, IOASID_MOCK_ACCESS_CREATE, a, __reserved);
	if (!rc) {
		desc(" -> access %u", a.out_access_id);
		LOCK();
		accs[nacc++ % 16] = a.out_access_id;
		UNLOCK();
	}
	return rc;
}

static uint32_t pick_access(struct rng *r)
{
	uint32_t id = nacc && rp(r, 90) ? accs[rn(r, nacc < 16 ? nacc : 16)] : rn(r, 8);

	desc(" access=%u", id);
	return id;
}

static int g_m_access(struct rng *r, int k)
{
	struct ioasid_mock_access_pin a = { 0 };
	struct ioasid_mock_access_info i = { 0 };
	uint64_t len = rp(r, 80) ? (1 + rn(r, 4)) * PAGE : pick_len(r);

	LOCK();
	a.access_id = i.access_id = pick_access(r);
	a.iova = pick_iova(r, 0, &len);
	UNLOCK();
	if (k == K_M_ACCESS_INFO)
		return MOCK_CALL(k, IOASID_MOCK_ACCESS_INFO, i, out_last_unmap_length);
	if (k == K_M_ACCESS_DESTROY) {
		i.__reserved = pick_rsv(r);
		return MOCK_CALL(k, IOASID_MOCK_ACCESS_DESTROY, i, access_id);
	}
	if (k == K_M_ACCESS_RW && rp(r, 80))
		len = rn(r, 2 * PAGE) + 1;
	a.length = len;
	a.flags = rp(r, 90) ? rn(r, 2) : pick_flags(r, 1);
	a.uptr = len <= DBUF && rp(r, 85) ? (uintptr_t)tb[my_slot].data :
		 k == K_M_ACCESS_PIN && rp(r, 50) ? 0 : pick_va(r, len);
	a.__reserved = pick_rsv(r);
	desc(" flags=%#x iova=%#llx len=%#llx", a.flags, (unsigned long long)a.iova,
	     (unsigned long long)a.length);
	return MOCK_CALL(k, k == K_M_ACCESS_PIN ? IOASID_MOCK_ACCESS_PIN_PAGES :
			 k == K_M_ACCESS_UNPIN ? IOASID_MOCK_ACCESS_UNPIN : IOASID_MOCK_ACCESS_RW,
			 a, uptr);
}

/* ---- VFIO container generators ---- */
static int vret(int k, int rc)
{
	rc = rc < 0 ? -errno : rc;
	cov(k, rc < 0 ? rc : 0);
	return rc;
}

static int *pick_vfd(struct rng *r, int *arr, int n)
{
	return &arr[rn(r, n)];
}

static int g_v(struct rng *r, int k)
{
	int *cont = pick_vfd(r, vcont, 2), rc = 0, c = pick_ctx(r);
	char path[64];

	switch (k) {
	case K_V_OPEN:
		LOCK();
		if (*cont >= 0)
			close(*cont);
		*cont = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
		rc = *cont < 0 ? -errno : 0;
		UNLOCK();
		cov(k, rc);
		desc(" -> %d", *cont);
		return rc;
	case K_V_GROUP: {
		int g = ngroups ? (int)rn(r, ngroups) : 0, *gfd = &vgrp[g];
		struct vfio_group_status st = { .argsz = sizeof(st) };

		if (!ngroups)
			return 0;
		desc(" group %d", group_id[g]);
		if (*gfd < 0 || rp(r, 10)) {
			LOCK();
			if (*gfd >= 0)
				close(*gfd);
			snprintf(path, sizeof(path), "/dev/vfio/%d", group_id[g]);
			*gfd = open(path, O_RDWR | O_CLOEXEC);
			UNLOCK();
			if (*gfd < 0)
				return vret(k, -1);
		}
		switch (rn(r, 4)) {
		case 0:
			desc(" GET_STATUS");
			return vret(k, ioctl(*gfd, VFIO_GROUP_GET_STATUS, &st));
		case 1:
			desc(" UNSET_CONTAINER");
			return vret(k, ioctl(*gfd, VFIO_GROUP_UNSET_CONTAINER));
		default:
			desc(" SET_CONTAINER %d", *cont);
			return vret(k, ioctl(*gfd, VFIO_GROUP_SET_CONTAINER, cont));
		}
	}
	case K_V_SET_IOMMU: {
		unsigned long type = rp(r, 40) ? VFIO_IOASID_IOMMU :
				     rp(r, 45) ? VFIO_TYPE1v2_IOMMU :
				     rp(r, 80) ? VFIO_TYPE1_IOMMU : rn(r, 20);

		desc(" cont %d type %#lx", *cont, type);
		return vret(k, ioctl(*cont, VFIO_SET_IOMMU, type));
	}
	case K_V_BIND: {
		struct vfio_ioasid_bind b = { .argsz = sizeof(b) };

		b.argsz = rp(r, 85) ? sizeof(b) : rn(r, 32);
		b.flags = rp(r, 80) ? 0 : rp(r, 70) ? VFIO_IOASID_BIND_EMULATED_IOAS : (uint32_t)rnext(r);
		b.ioasid_fd = rp(r, 90) ? ctx[c].fd : rp(r, 50) ? mock_fd : -1;
		LOCK();
		desc(" cont %d argsz %u flags %#x ctx%c ioas=", *cont, b.argsz, b.flags, 'A' + c);
		b.ioas_id = b.flags ? pick_id(r, c, T_IOAS) : 0;
		UNLOCK();
		return vret(k, ioctl(*cont, VFIO_IOASID_BIND, &b));
	}
	case K_V_EXTENSION:
		if (rp(r, 30))
			return vret(k, ioctl(*cont, VFIO_GET_API_VERSION));
		return vret(k, ioctl(*cont, VFIO_CHECK_EXTENSION,
				     rp(r, 70) ? VFIO_IOASID_IOMMU : rn(r, 32)));
	case K_V_IOMMU_INFO: {
		struct vfio_iommu_type1_info *i = (void *)tb[my_slot].data;

		memset(i, 0, 256);
		i->argsz = rp(r, 70) ? sizeof(*i) : rp(r, 50) ? 256 : rn(r, 16);
		desc(" cont %d argsz %u", *cont, i->argsz);
		return vret(k, ioctl(*cont, VFIO_IOMMU_GET_INFO, i));
	}
	case K_V_MAP_DMA: {
		struct vfio_iommu_type1_dma_map m = { .argsz = sizeof(m) };

		m.flags = rp(r, 90) ? VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE : (uint32_t)rnext(r);
		m.size = pick_len(r);
		m.vaddr = pick_va(r, m.size);
		m.iova = pick_iova(r, 0, NULL);
		if (rp(r, 5))
			m.argsz = rn(r, 64);
		desc(" cont %d vaddr %#llx size %#llx iova %#llx", *cont, (unsigned long long)m.vaddr,
		     (unsigned long long)m.size, (unsigned long long)m.iova);
		return vret(k, ioctl(*cont, VFIO_IOMMU_MAP_DMA, &m));
	}
	case K_V_UNMAP_DMA: {
		struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u) };
		uint64_t len = pick_len(r);

		u.flags = rp(r, 20) ? VFIO_DMA_UNMAP_FLAG_ALL : rp(r, 90) ? 0 : (uint32_t)rnext(r);
		if (!(u.flags & VFIO_DMA_UNMAP_FLAG_ALL)) {
			u.iova = pick_iova(r, 0, &len);
			u.size = len;
		}
		desc(" cont %d flags %#x iova %#llx size %#llx", *cont, u.flags,
		     (unsigned long long)u.iova, (unsigned long long)u.size);
		return vret(k, ioctl(*cont, VFIO_IOMMU_UNMAP_DMA, &u));
	}
	case K_V_DEVICE: {
		int g = ngroups ? (int)rn(r, ngroups) : 0, *d = pick_vfd(r, vdev, 4), fd;

		if (!ngroups)
			return 0;
		desc(" group %d %s", group_id[g], group_bdf[g]);
		fd = ioctl(vgrp[g], VFIO_GROUP_GET_DEVICE_FD, rp(r, 90) ? group_bdf[g] : "0000:00:1f.7");
		rc = vret(k, fd);
		if (fd >= 0) {
			LOCK();
			if (*d >= 0)
				close(*d);
			*d = fd;
			UNLOCK();
		}
		return rc < 0 ? rc : 0;
	}
	case K_V_CLOSE: {
		int *arr[] = { vcont, vgrp, vdev }, w = rn(r, 3);
		int *f = &arr[w][rn(r, w ? 4 : 2)];

		LOCK();
		desc(" %s %d", w == 0 ? "container" : w == 1 ? "group" : "device", *f);
		if (*f >= 0)
			rc = close(*f);
		*f = -1;
		UNLOCK();
		cov(k, rc < 0 ? -errno : 0);
		return 0;
	}
	}
	return 0;
}

/* ---- the rest ---- */
static int g_debugfs(struct rng *r, int k)
{
	char buf[4096];
	int fd = open(IOASID_DEBUGFS, O_RDONLY), rc = 0;
	ssize_t n;

	if (fd < 0)
		rc = -errno;
	else {
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0)
			rc = -errno;
		close(fd);
	}
	cov(k, rc);
	return rc;
}

static int g_reopen(struct rng *r, int k)
{
	int c = pick_ctx(r), rc = 0;
	unsigned int i;

	LOCK();
	if (k == K_MOCK_REOPEN) {
		desc(" mock");
		close(mock_fd);
		mock_fd = mock_open();
		rc = mock_fd < 0 ? -errno : 0;
		for (i = 0; i < MAXDEV; i++)
			if (mdevs[i].alive) {
				mdevs[i].alive = 0;
				obj_kill(mdevs[i].c, mdevs[i].dev_id);
			}
		nacc = 0;
	} else {
		desc(" ctx%c", 'A' + c);
		close(ctx[c].fd);
		ctx[c].fd = ioasid_open();
		rc = ctx[c].fd < 0 ? -errno : 0;
		for (i = 0; i < MAXOBJ; i++)
			if (ctx[c].o[i].type != T_FAULT)
				ctx[c].o[i].alive = 0;	/* fault fds outlive it */
	}
	UNLOCK();
	cov(k, rc);
	return rc;
}

typedef int (*gen_fn)(struct rng *r, int k);
static const gen_fn gens[NKIND] = {
	[K_GET_INFO] = g_get_info, [K_DESTROY] = g_destroy, [K_IOAS_ALLOC] = g_ioas_alloc,
	[K_MAP] = g_map, [K_UNMAP] = g_unmap, [K_COPY] = g_copy,
	[K_IOVA_RANGES] = g_iova_ranges, [K_IOAS_OPTION] = g_ioas_option,
	[K_DEVICE_INFO] = g_device_info, [K_ATTACH] = g_attach, [K_DETACH] = g_attach,
	[K_NESTED_ALLOC] = g_nested_alloc, [K_INVALIDATE] = g_invalidate,
	[K_FAULT_QUEUE_ALLOC] = g_fault_queue_alloc, [K_BAD_IOCTL] = g_bad_ioctl,
	[K_FQ_READ] = g_fq_read, [K_FQ_WRITE] = g_fq_write, [K_FQ_POLL] = g_fq_poll,
	[K_M_DEV_ADD] = g_m_dev_add, [K_M_DEV_DEL] = g_m_dev, [K_M_ATTACH] = g_m_dev,
	[K_M_DETACH] = g_m_dev, [K_M_CHECK_MAP] = g_m_check_map,
	[K_M_PIN_COUNT] = g_m_pin_count, [K_M_DOMAIN_INFO] = g_m_info,
	[K_M_FLOOR_MAP] = g_m_floor_map, [K_M_SUBDEV_ADD] = g_m_subdev_add,
	[K_M_FLOOR_MAP_DEV] = g_m_floor_map, [K_M_NESTED_INFO] = g_m_info,
	[K_M_FAULT_INJECT] = g_m_fault_inject, [K_M_FAULT_RESPONSES] = g_m_fault_responses,
	[K_M_ACCESS_CREATE] = g_m_access_create, [K_M_ACCESS_DESTROY] = g_m_access,
	[K_M_ACCESS_PIN] = g_m_access, [K_M_ACCESS_UNPIN] = g_m_access,
	[K_M_ACCESS_RW] = g_m_access, [K_M_ACCESS_INFO] = g_m_access,
	[K_M_BAD_IOCTL] = g_bad_ioctl,
	[K_V_OPEN] = g_v, [K_V_GROUP] = g_v, [K_V_SET_IOMMU] = g_v, [K_V_BIND] = g_v,
	[K_V_EXTENSION] = g_v, [K_V_IOMMU_INFO] = g_v, [K_V_MAP_DMA] = g_v,
	[K_V_UNMAP_DMA] = g_v, [K_V_DEVICE] = g_v, [K_V_CLOSE] = g_v,
	[K_DEBUGFS] = g_debugfs, [K_REOPEN] = g_reopen, [K_MOCK_REOPEN] = g_reopen,
};

static unsigned int wtotal;
static int pick_kind(struct rng *r, int simple)
{
	unsigned int w, k;

	do {
		w = rn(r, wtotal);
		for (k = 0; k < NKIND; k++) {
			if (w < kweight[k])
				break;
			w -= kweight[k];
		}
	} while (simple && (k == K_FORK || k == K_THREADS));
	return k;
}

/* One call, in the calling thread's slot. */
static void one_call(int entry, int sub, int kind, uint64_t seed)
{
	struct slot *s = &sh->slot[my_slot];
	struct rng r = { seed };
	int rc;

	s->desc[0] = 0;
	__atomic_store_n(&s->entry, entry, __ATOMIC_RELAXED);
	desc("[%d", entry);
	if (sub >= 0)
		desc(".t%d.%d", my_slot, sub);
	desc("] %s", kname[kind]);
	__atomic_store_n(&s->start_ns, now_ns(), __ATOMIC_RELEASE);
	my_rng = &r;
	rc = gens[kind](&r, kind);
	__atomic_store_n(&s->start_ns, 0, __ATOMIC_RELEASE);
	desc(" = %s", ename(rc));
	if (printing)
		printf("#   %s\n", s->desc);
}

struct thr { int slot, entry; uint64_t seed; int n; };

static void *thread_fn(void *arg)
{
	struct thr *t = arg;
	struct rng r = { t->seed };
	int i;

	my_slot = t->slot;
	for (i = 0; i < t->n && !sh->fail; i++) {
		int k = pick_kind(&r, 1);

		one_call(t->entry, i, k, rnext(&r));
	}
	return NULL;
}

static void run_entry(int i, const struct entry *e)
{
	struct rng r = { e->seed };

	if (e->kind == K_THREADS) {
		struct thr t[3];
		pthread_t th[3];
		int n = 2 + rn(&r, 2), j;

		if (printing)
			printf("#   [%d] threads: %d threads on the same fds\n", i, n);
		threaded = 1;
		for (j = 0; j < n; j++) {
			t[j] = (struct thr){ 1 + j, i, rnext(&r), 8 + rn(&r, 24) };
			pthread_create(&th[j], NULL, thread_fn, &t[j]);
		}
		for (j = 0; j < n; j++)
			pthread_join(th[j], NULL);
		threaded = 0;
		return;
	}
	if (e->kind == K_FORK) {
		int n = 3 + rn(&r, 10), j, st;
		pid_t pid;

		if (printing)
			printf("#   [%d] fork: the child makes %d calls on the inherited fds and exits\n", i, n);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			my_slot = 4;
			for (j = 0; j < n && !sh->fail; j++) {
				int k = pick_kind(&r, 1);

				one_call(i, j, k, rnext(&r));
			}
			fflush(stdout);
			_exit(0);
		}
		if (pid > 0) {
			if (nkids < 64)
				kids[nkids++] = pid;
			waitpid(pid, &st, 0);
		}
		return;
	}
	one_call(i, -1, e->kind, e->seed);
}

static void find_groups(void)
{
	DIR *d = opendir("/sys/bus/pci/drivers/vfio-pci");
	struct dirent *de;
	char path[512], link[256];
	ssize_t n;

	if (!d)
		return;
	while ((de = readdir(d)) && ngroups < 4) {
		if (!strchr(de->d_name, ':'))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/%s/iommu_group", de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		group_id[ngroups] = atoi(strrchr(link, '/') + 1);
		snprintf(group_bdf[ngroups], sizeof(group_bdf[0]), "%.31s", de->d_name);
		ngroups++;
	}
	closedir(d);
}

static long modref(const char *m)
{
	char p[128];

	snprintf(p, sizeof(p), "/sys/module/%s/refcnt", m);
	return read_long_file(p);
}

static int debugfs_has_pid(pid_t pid)
{
	char line[512], pat[32];
	int found = 0;
	FILE *f = fopen(IOASID_DEBUGFS, "r");

	if (!f)
		return 0;
	snprintf(pat, sizeof(pat), " pid %d ", pid);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "context ", 8) && strstr(line, pat))
			found = 1;
	fclose(f);
	return found;
}

static const char *const mods[] = { "ioasid", "ioasid_mock", "ioasid_vfio" };

/* The runner: one sequence (the entries @keep selects), then the checks. */
static int runner(const struct entry *en, int n, const uint8_t *keep)
{
	long vmlck0, ref0[3], pins;
	struct ioasid_get_info gi = { .size = sizeof(gi) };
	struct ioasid_mock_pin_count pc = { .size = sizeof(pc) };
	unsigned int i;
	int fd, m;

	cur_entries = en;
	for (m = 0; m < 3; m++)
		ref0[m] = modref(mods[m]);
	vmlck0 = vm_locked_kb();
	for (i = 0; i < 2; i++)
		ctx[i].fd = ioasid_open();
	mock_fd = mock_open();
	if (ctx[0].fd < 0 || ioctl(ctx[0].fd, IOASID_GET_INFO, &gi))
		return fail(F_CRASH, 0, "cannot open /dev/ioasid: %s", strerror(errno)), 1;
	ioctl_mask = gi.out_ioctl_mask;
	find_groups();

	for (i = 0; i < (unsigned int)n && !sh->fail; i++) {
		if (keep && !keep[i])
			continue;
		if (now_ns() > run_deadline)
			break;
		run_entry(i, &en[i]);
	}

	/* Close everything: every fd but the standard ones. */
	for (fd = 3; fd < 1024; fd++)
		close(fd);
	if (sh->fail)
		return 1;

	my_slot = 0;
	__atomic_store_n(&sh->slot[0].entry, n, __ATOMIC_RELAXED);
	if (vm_locked_kb() != vmlck0)
		fail(F_LEAK_VMLCK, 0, "VmLck %ld kB after closing everything, %ld kB before",
		     vm_locked_kb(), vmlck0);
	for (m = 0; m < 3 && !sh->fail; m++)
		if (modref(mods[m]) != ref0[m])
			fail(F_LEAK_REF, 0, "%s refcnt %ld after closing everything, %ld before",
			     mods[m], modref(mods[m]), ref0[m]);
	for (i = 0; i < nkids && !sh->fail; i++)
		if (debugfs_has_pid(kids[i]))
			fail(F_LEAK_CTX, 0, "a debugfs context of forked child %d remains", kids[i]);
	if (!sh->fail && debugfs_has_pid(getpid()))
		fail(F_LEAK_CTX, 0, "a debugfs context of pid %d remains after closing everything", getpid());
	fd = mock_open();
	if (fd >= 0 && !sh->fail) {
		uint8_t *bufs[] = { arena, ro_page };
		uint64_t lens[] = { ARENA_PAGES * PAGE, PAGE };

		for (m = 0; m < 2; m++) {
			pc.uptr = (uintptr_t)bufs[m];
			pc.length = lens[m];
			pins = ioctl(fd, IOASID_MOCK_PIN_COUNT, &pc) ? -errno : (long)pc.out_max;
			if (pins)
				fail(F_LEAK_PIN, 0, "%s: pin count %ld after closing everything",
				     m ? "read-only page" : "arena", pins);
		}
	}
	if (fd >= 0)
		close(fd);
	return !!sh->fail;
}

/* ---- the parent ---- */
static int kmsg_fd = -1;
static char splat[2048], splat_sig[160], splat_inflight[NSLOT][400];

static int is_splat(const char *l)
{
	static const char *const pats[] = {
		"BUG: ", "WARNING: ", "KASAN: ", "UBSAN: ", "INFO: possible circular",
		"INFO: possible recursive", "INFO: trying to register non-static key",
		"INFO: lockdep is turned off", "inconsistent lock state", "Oops: ",
		"general protection fault", "INFO: task ", "kernel BUG at",
		"list_add corruption", "list_del corruption", "DEBUG_LOCKS_WARN_ON",
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(pats); i++)
		if (strstr(l, pats[i]))
			return 1;
	return 0;
}

/* Read what the kernel logged; 1 when it holds a report (kept in splat). */
static int kmsg_drain(void)
{
	static int lines_after;
	char rec[1024];
	int found = 0;
	ssize_t n;

	if (kmsg_fd < 0)
		return 0;
	while ((n = read(kmsg_fd, rec, sizeof(rec) - 1)) != 0) {
		char *msg;

		if (n < 0) {
			if (errno == EPIPE)
				continue;
			break;
		}
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		if (is_splat(msg) && !found) {
			found = 1;
			if (!splat[0]) {
				const char *at = strstr(msg, " at ");
				int i;

				lines_after = 20;
				/* "WARNING: CPU: 0 PID: 91 at mm/util.c:670 f+0x1": from " at " */
				snprintf(splat_sig, sizeof(splat_sig), "%.159s",
					 at && strstr(msg, "PID: ") ? at + 4 : msg);
				for (i = 0; i < NSLOT; i++)
					snprintf(splat_inflight[i], sizeof(splat_inflight[i]), "%s",
						 __atomic_load_n(&sh->slot[i].start_ns, __ATOMIC_ACQUIRE) ? sh->slot[i].desc : "");
			}
		}
		if (lines_after > 0 && strlen(splat) + strlen(msg) + 8 < sizeof(splat)) {
			strcat(splat, "#   | ");
			strcat(splat, msg);
			strcat(splat, "\n");
			lines_after--;
		}
	}
	return found;
}

static uint64_t hang_ns = 60ULL * 1000000000;
static int stuck;

/* Run the sequence in a child; returns the failure class. */
static int run_seq(const struct entry *en, int n, const uint8_t *keep, int print, int count)
{
	int st, i, got = 0, splatted;
	pid_t pid;

	memset(sh->slot, 0, sizeof(sh->slot));
	sh->fail = F_NONE;
	sh->fail_msg[0] = 0;
	sh->count = count;
	printing = print;
	kmsg_drain();
	splat[0] = splat_sig[0] = 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		if (kmsg_fd >= 0)
			close(kmsg_fd);
		_exit(runner(en, n, keep));
	}
	for (;;) {
		uint64_t t = now_ns();

		if (waitpid(pid, &st, WNOHANG) == pid) {
			got = 1;
			break;
		}
		kmsg_drain();
		for (i = 0; i < NSLOT; i++) {
			uint64_t s0 = __atomic_load_n(&sh->slot[i].start_ns, __ATOMIC_ACQUIRE);

			if (s0 && t > s0 && t - s0 > hang_ns) {
				if (sh->fail == F_NONE) {
					sh->fail = F_HANG;
					sh->fail_entry = __atomic_load_n(&sh->slot[i].entry, __ATOMIC_RELAXED);
					snprintf(sh->fail_msg, sizeof(sh->fail_msg),
						 "no return after %llu s: %s",
						 (unsigned long long)(hang_ns / 1000000000), sh->slot[i].desc);
				}
			}
		}
		if (sh->fail == F_HANG)
			break;
		usleep(100000);
	}
	if (!got) {
		kill(pid, SIGKILL);
		for (i = 0; i < 50 && waitpid(pid, &st, WNOHANG) != pid; i++)
			usleep(100000);
		if (i == 50)
			stuck = 1;	/* in D state: the kernel is wedged */
	}
	usleep(20000);
	splatted = kmsg_drain() || splat[0];
	if (got && sh->fail == F_NONE && (!WIFEXITED(st) || WEXITSTATUS(st) > 1)) {
		sh->fail = F_CRASH;
		snprintf(sh->fail_msg, sizeof(sh->fail_msg), "runner status %#x", st);
	}
	if (sh->fail == F_NONE && got && debugfs_has_pid(pid)) {
		sh->fail = F_LEAK_CTX;
		snprintf(sh->fail_msg, sizeof(sh->fail_msg),
			 "a debugfs context of pid %d remains after it exited", pid);
	}
	if (splatted && sh->fail == F_NONE) {
		sh->fail = F_SPLAT;
		sh->fail_entry = n;
		snprintf(sh->fail_msg, sizeof(sh->fail_msg), "the kernel logged a report: %s", splat_sig);
	}
	return sh->fail;
}

static void gen_seq(uint64_t seed, struct entry *en, int n)
{
	struct rng r = { seed * 0x2545F4914F6CDD1DULL + 1 };
	int i;

	for (i = 0; i < n; i++) {
		en[i].kind = pick_kind(&r, 0);
		en[i].seed = rnext(&r);
	}
}

/* Delta debugging over the entries of a failing sequence. */
static int minimize(const struct entry *en, int n, int class, int kind, const char *sig,
		    uint8_t *keep, uint64_t deadline, int *trials)
{
	int idx[n], len = 0, chunks = 2, i, j;
	uint8_t *k2 = calloc(n, 1);

	for (i = 0; i < n; i++)
		if (keep[i])
			idx[len++] = i;
	while (len >= 2 && now_ns() < deadline && *trials < 300 && !stuck) {
		int size = (len + chunks - 1) / chunks, reduced = 0;

		for (j = 0; j < chunks && !reduced && now_ns() < deadline; j++) {
			int from = j * size, to = from + size, c;

			if (from >= len)
				break;
			memset(k2, 0, n);
			for (i = 0; i < len; i++)
				if (i < from || i >= to)
					k2[idx[i]] = 1;
			(*trials)++;
			c = run_seq(en, n, k2, 0, 0);
			if (c == class && (class != F_CONTRACT || sh->fail_kind == kind) &&
			    (class != F_SPLAT || !strcmp(sig, splat_sig))) {
				int nl = 0;

				for (i = 0; i < len; i++)
					if (i < from || i >= to)
						idx[nl++] = idx[i];
				len = nl;
				chunks = chunks > 2 ? chunks - 1 : 2;
				reduced = 1;
			}
		}
		if (!reduced) {
			if (chunks >= len)
				break;
			chunks = chunks * 2 < len ? chunks * 2 : len;
		}
	}
	memset(keep, 0, n);
	for (i = 0; i < len; i++)
		keep[idx[i]] = 1;
	free(k2);
	return len;
}

static const char *envv(const char *a, const char *b)
{
	const char *v = getenv(a);

	return v && *v ? v : getenv(b);
}

static uint64_t seeds[4096], fuzz_calls;
static char unsafe_irq[8];
static int nseeds;

static void parse_seeds(const char *s)
{
	char *end;

	if (!strchr(s, ',') && !strchr(s, '-')) {
		int i, n = atoi(s);

		for (i = 0; i < n && nseeds < 4096; i++)
			seeds[nseeds++] = i + 1;
		return;
	}
	while (*s && nseeds < 4096) {
		uint64_t a = strtoull(s, &end, 0), b = a;

		if (end == s)
			break;
		if (*end == '-')
			b = strtoull(end + 1, &end, 0);
		for (; a <= b && nseeds < 4096; a++)
			seeds[nseeds++] = a;
		s = *end ? end + 1 : end;
	}
}

int main(int argc, char **argv)
{
	const char *seeds_s = envv("FUZZ_SEEDS", "ioasid_fuzz_seeds");
	const char *calls_s = envv("FUZZ_CALLS", "ioasid_fuzz_calls");
	const char *secs_s = envv("FUZZ_SECONDS", "ioasid_fuzz_seconds");
	const char *hang_s = envv("FUZZ_HANG", "ioasid_fuzz_hang");
	int calls = 2500, secs = 150, i, j, k, failed = 0, ran = 0;
	uint64_t t0, deadline, e;
	struct entry *en;
	uint8_t *keep;

	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "seeds=", 6))
			seeds_s = argv[i] + 6;
		else if (!strncmp(argv[i], "calls=", 6))
			calls_s = argv[i] + 6;
		else if (!strncmp(argv[i], "seconds=", 8))
			secs_s = argv[i] + 8;
		else if (!strncmp(argv[i], "hang=", 5))
			hang_s = argv[i] + 5;
	}
	parse_seeds(seeds_s ? seeds_s : "12");
	if (calls_s)
		calls = atoi(calls_s);
	if (secs_s)
		secs = atoi(secs_s);
	if (hang_s)
		hang_ns = strtoull(hang_s, NULL, 0) * 1000000000ULL;
	if (calls < 1)
		calls = 1;
	for (k = 0; k < NKIND; k++)
		wtotal += kweight[k];

	ksft_print_header();
	if (access(IOASID_DEV, R_OK | W_OK) || access(IOASID_MOCK_DEV, R_OK | W_OK)) {
		ksft_set_plan(1);
		ksft_test_result_skip("fuzz: no /dev/ioasid or /dev/ioasid_mock\n");
		ksft_finished();
	}
	ksft_set_plan(nseeds);
	ksft_print_msg("fuzz: %d seeds x %d calls, at most %d s, a call hangs after %llu s\n",
		       nseeds, calls, secs, (unsigned long long)(hang_ns / 1000000000));

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	arena = mmap(NULL, (ARENA_PAGES + 3) * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED || arena == MAP_FAILED)
		ksft_exit_fail_msg("mmap\n");
	memset(arena, 0x5a, ARENA_PAGES * PAGE);
	guard = arena + ARENA_PAGES * PAGE;
	ro_page = guard + PAGE;
	mprotect(guard, PAGE, PROT_NONE);
	mprotect(ro_page, PAGE, PROT_READ);
	munmap(ro_page + PAGE, PAGE);
	for (i = 0; i < NSLOT; i++) {
		uint8_t *p = mmap(NULL, 4 * PAGE + DBUF, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			ksft_exit_fail_msg("mmap\n");
		tb[i].arg = p;
		mprotect(p + 2 * PAGE, PAGE, PROT_NONE);
		tb[i].ro = p + 3 * PAGE;
		tb[i].data = p + 4 * PAGE;
	}
	/* Mock devices register only when MSIs need not be isolated. */
	{
		int pfd = open("/sys/module/ioasid/parameters/allow_unsafe_interrupts", O_RDONLY);

		if (pfd >= 0) {
			if (read(pfd, unsafe_irq, sizeof(unsafe_irq) - 1) < 0)
				unsafe_irq[0] = 0;
			close(pfd);
		}
		write_param("allow_unsafe_interrupts", "1");
	}
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	en = calloc(calls, sizeof(*en));
	keep = calloc(calls, 1);

	t0 = now_ns();
	deadline = t0 + secs * 1000000000ULL;
	for (i = 0; i < nseeds; i++) {
		uint64_t s = seeds[i], ts = now_ns(), c0 = sh->calls;
		int class, len, trials = 0, fkind, replayable;
		char msg[512], sig[160];

		if (now_ns() >= deadline || stuck) {
			char name[32];

			snprintf(name, sizeof(name), "seed_%llu", (unsigned long long)s);
			ksft_test_result_code(KSFT_SKIP, name, "time budget of %d s used up\n",
					      secs);
			continue;
		}
		{
			int kfd = open("/dev/kmsg", O_WRONLY);

			if (kfd >= 0) {
				dprintf(kfd, "ioasid-fuzz: seed %llu, %d calls\n", (unsigned long long)s, calls);
				close(kfd);
			}
		}
		gen_seq(s, en, calls);
		run_deadline = deadline;
		class = run_seq(en, calls, NULL, 0, 1);
		ran++;
		ksft_print_msg("seed %llu: %llu calls in %.1f s\n", (unsigned long long)s,
			       (unsigned long long)(sh->calls - c0), (now_ns() - ts) / 1e9);
		fuzz_calls += sh->calls - c0;
		if (class == F_NONE) {
			ksft_test_result_pass("seed_%llu\n", (unsigned long long)s);
			continue;
		}
		failed++;
		snprintf(msg, sizeof(msg), "%s", sh->fail_msg);
		fkind = sh->fail_kind;
		ksft_print_msg("seed %llu FAILED (%s) at entry %d: %s\n", (unsigned long long)s,
			       fname[class], sh->fail_entry, msg);
		if (splat[0]) {
			printf("# kernel report:\n%s", splat);
			for (j = 0; j < NSLOT; j++)
				if (splat_inflight[j][0])
					printf("# in flight when it was logged: %s\n", splat_inflight[j]);
		}
		snprintf(sig, sizeof(sig), "%s", splat_sig);
		/* The entries up to the failing one; then fewer. */
		len = sh->fail_entry < calls ? sh->fail_entry + 1 : calls;
		memset(keep, 0, calls);
		memset(keep, 1, len);
		/*
		 * A report the kernel prints once per boot (WARN_ON_ONCE, KASAN
		 * without multi_shot) cannot come back: replay once before
		 * spending the budget on replays that cannot fail.
		 */
		replayable = class != F_HANG && !stuck;
		if (replayable && class == F_SPLAT) {
			run_deadline = ~0ULL;
			trials++;
			if (run_seq(en, len, keep, 0, 0) != F_SPLAT || strcmp(sig, splat_sig)) {
				ksft_print_msg("seed %llu: the report does not come back in a replay (printed once per boot?): not minimized\n",
					       (unsigned long long)s);
				replayable = 0;
			}
		}
		if (replayable) {
			run_deadline = ~0ULL;
			/* At most 120 s, and within the budget (30 s past it at most). */
			uint64_t md = now_ns() + 120ULL * 1000000000;

			if (md > deadline)
				md = deadline > now_ns() + 30ULL * 1000000000 ? deadline :
				     now_ns() + 30ULL * 1000000000;
			len = minimize(en, len, class, fkind, sig, keep, md, &trials);
		}
		ksft_print_msg("seed %llu: shortest failing sequence found: %d of %d entries (%d replays); replay: FUZZ_SEEDS=%llu, FUZZ_CALLS=%d\n",
			       (unsigned long long)s, len, calls, trials, (unsigned long long)s, calls);
		if (replayable) {
			int c2 = run_seq(en, calls, keep, 1, 0);

			ksft_print_msg("that sequence %s: %s\n", c2 == class ? "fails again" : "did not fail again",
				       c2 ? sh->fail_msg : "-");
			if (c2 == F_SPLAT)
				printf("# its kernel report (%s):\n%s", splat_sig, splat);
		} else {
			for (j = 0; j < len; j++)
				if (keep[j])
					printf("#   [%d] %s seed %#llx\n", j, kname[en[j].kind],
					       (unsigned long long)en[j].seed);
		}
		ksft_test_result_fail("seed_%llu # %s\n", (unsigned long long)s, fname[class]);
	}

	/* Coverage: every command with the errnos it returned. */
	e = now_ns() - t0;
	ksft_print_msg("coverage (command: errno x count): %llu calls over %d seeds (%llu more in replays), %.1f s, %.0f calls/s\n",
		       (unsigned long long)fuzz_calls, ran, (unsigned long long)(sh->calls - fuzz_calls),
		       e / 1e9, sh->calls / (e / 1e9));
	for (k = 0; k < NKIND; k++) {
		char line[1024];
		int len = 0;

		if (k == K_FORK || k == K_THREADS)
			continue;
		len = snprintf(line, sizeof(line), "%s:", kname[k]);
		for (j = 0; j <= NERR; j++)
			if (sh->cov[k][j] && len < (int)sizeof(line) - 40)
				len += snprintf(line + len, sizeof(line) - len, " %s x%u",
						j == NERR ? "other" : j ? strerrorname_np(j) ?: "E?" : "0",
						sh->cov[k][j]);
		printf("#   %s\n", line);
	}
	if (unsafe_irq[0])
		write_param("allow_unsafe_interrupts", unsafe_irq[0] == 'Y' || unsafe_irq[0] == '1' ? "1" : "0");
	ksft_finished();
	return failed ? 1 : 0;
}
