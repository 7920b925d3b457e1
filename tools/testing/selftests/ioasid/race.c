// SPDX-License-Identifier: GPL-2.0
/*
 * Races (issue 12, "Hostile input and races"): several threads on one
 * context while the mock IOMMU attaches, replaces, detaches and
 * unregisters devices, software-nested children come and go under their
 * parent's MAP/UNMAP, faults are injected and answered while devices detach
 * and files close, and the /dev/ioasid and /dev/ioasid_mock files are closed
 * while ioctls are inside. A debugfs reader runs through every test.
 *
 * Every test runs for a bounded time, counts each thread's calls and the
 * errnos they got, fails on an errno the contract does not allow for that
 * race, checks that the stress did real work, and ends with nothing pinned
 * or charged, no context of this process left, no WARN/BUG/KASAN taint and
 * lock debugging still on. The kernel log is the rest of the verdict.
 *
 * Another thread's file is "closed" with dup2() of an O_PATH descriptor
 * over it: the kernel releases the file just as close() does (once the
 * calls inside have returned), while the number cannot be reused by a
 * concurrent open() and reach some other file; later calls get EBADF.
 */
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define PSZ		4096UL
#define MB		(1UL << 20)
#define BUF_SIZE	(24 * MB)
#define BIG_MAP		(16 * MB)	/* test close_while_ioctls_inside */
#define REC		sizeof(struct ioasid_fault)
#define DEBUGFS_DIR	"/sys/kernel/debug/ioasid"

enum race_op {
	OP_MAP,
	OP_UNMAP,
	OP_COPY,
	OP_IOAS_ALLOC,
	OP_CHILD_ALLOC,
	OP_DESTROY,
	OP_DESTROY_DEV,
	OP_ATTACH,
	OP_DETACH,
	OP_MOCK_ATTACH,
	OP_MOCK_DETACH,
	OP_DEV_ADD,
	OP_DEV_DEL,
	OP_DEV_INFO,
	OP_INJECT,
	OP_RESPONSES,
	OP_POLL,
	OP_FREAD,
	OP_FWRITE,
	OP_DEBUGFS,
	NR_OPS,
};

static const char *const op_name[NR_OPS] = {
	[OP_MAP] = "MAP",
	[OP_UNMAP] = "UNMAP",
	[OP_COPY] = "COPY",
	[OP_IOAS_ALLOC] = "IOAS_ALLOC",
	[OP_CHILD_ALLOC] = "CHILD_ALLOC",
	[OP_DESTROY] = "DESTROY",
	[OP_DESTROY_DEV] = "DESTROY(dev)",
	[OP_ATTACH] = "ATTACH",
	[OP_DETACH] = "DETACH",
	[OP_MOCK_ATTACH] = "mock ATTACH",
	[OP_MOCK_DETACH] = "mock DETACH",
	[OP_DEV_ADD] = "mock DEV_ADD",
	[OP_DEV_DEL] = "mock DEV_DEL",
	[OP_DEV_INFO] = "DEVICE_INFO",
	[OP_INJECT] = "mock FAULT_INJECT",
	[OP_RESPONSES] = "mock FAULT_RESPONSES",
	[OP_POLL] = "poll(fault)",
	[OP_FREAD] = "read(fault)",
	[OP_FWRITE] = "write(fault)",
	[OP_DEBUGFS] = "debugfs read",
};

#define ERRNO_MAX	134	/* larger errnos are counted here */
#define NR_ALLOWED	4

/* The errnos each call may fail with in a test; 0 ends a list. */
struct allowed {
	int err[NR_OPS][NR_ALLOWED];
};

/* What one thread did: calls, successes and failures by errno. */
struct stats {
	unsigned long calls[NR_OPS];
	unsigned long ok[NR_OPS];
	unsigned long err[NR_OPS][ERRNO_MAX + 1];
};

/* Count a call's result (>= 0: success, else -errno) and return it. */
static int note(struct stats *s, enum race_op op, int rc)
{
	s->calls[op]++;
	if (rc >= 0)
		s->ok[op]++;
	else
		s->err[op][-rc > ERRNO_MAX ? ERRNO_MAX : -rc]++;
	return rc;
}

/* A syscall's result as 0 or more, or -errno. */
static int sysrc(long n)
{
	return n < 0 ? -errno : (int)n;
}

static void stats_add(struct stats *sum, const struct stats *s)
{
	int op, e;

	for (op = 0; op < NR_OPS; op++) {
		sum->calls[op] += s->calls[op];
		sum->ok[op] += s->ok[op];
		for (e = 0; e <= ERRNO_MAX; e++)
			sum->err[op][e] += s->err[op][e];
	}
}

static bool is_allowed(const struct allowed *allowed, int op, int e)
{
	int i;

	for (i = 0; i < NR_ALLOWED && allowed->err[op][i]; i++)
		if (allowed->err[op][i] == e)
			return true;
	return false;
}

static const char *errname(int e)
{
	const char *name = strerrorname_np(e);

	return name ?: "E?";
}

/*
 * Log one thread's counts, "OP ok/calls [ERRNO n ...]", and every errno it
 * got that @allowed does not list. Returns how many such failures it saw.
 */
static unsigned long stats_log(struct __test_metadata *_metadata,
			       const char *who, const struct stats *s,
			       const struct allowed *allowed)
{
	unsigned long bad = 0;
	char line[1024];
	int op, e, len;

	len = snprintf(line, sizeof(line), "%s:", who);
	for (op = 0; op < NR_OPS; op++) {
		if (!s->calls[op])
			continue;
		len += snprintf(line + len, sizeof(line) - len, " %s %lu/%lu",
				op_name[op], s->ok[op], s->calls[op]);
		for (e = 1; e <= ERRNO_MAX; e++) {
			if (!s->err[op][e])
				continue;
			len += snprintf(line + len, sizeof(line) - len, " %s %lu",
					errname(e), s->err[op][e]);
			if (!is_allowed(allowed, op, e)) {
				TH_LOG("%s: %s failed with %s %lu times: not expected",
				       who, op_name[op], errname(e), s->err[op][e]);
				bad += s->err[op][e];
			}
		}
		len += snprintf(line + len, sizeof(line) - len, ";");
		if (len >= (int)sizeof(line) - 64)
			break;
	}
	TH_LOG("%s", line);
	return bad;
}

/* One stress thread: what it runs on, what it did. */
struct worker {
	void *t;		/* the test's shared state */
	int idx;
	char name[32];
	struct stats st;
	pthread_t th;
};

static int start(struct worker *w, void *t, int idx, const char *name,
		 void *(*fn)(void *))
{
	memset(w, 0, sizeof(*w));
	w->t = t;
	w->idx = idx;
	snprintf(w->name, sizeof(w->name), "%s%d", name, idx);
	return pthread_create(&w->th, NULL, fn, w);
}

/* A thread of a test: its name, its index among its kind, what it runs. */
struct role {
	const char *name;
	int idx;
	void *(*fn)(void *arg);
};

/* Start one worker per role, all on @t. */
static int start_all(struct worker *w, void *t, const struct role *roles, int n)
{
	int i, rc;

	for (i = 0; i < n; i++) {
		rc = start(&w[i], t, roles[i].idx, roles[i].name, roles[i].fn);
		if (rc)
			return rc;
	}
	return 0;
}

/* Join @n workers, log them, add them to @sum; unexpected errnos or -1. */
static long join_all(struct __test_metadata *_metadata, struct worker *w,
		     int n, struct stats *sum, const struct allowed *allowed)
{
	unsigned long bad = 0;
	int i;

	for (i = 0; i < n; i++)
		if (pthread_join(w[i].th, NULL))
			return -1;
	for (i = 0; i < n; i++) {
		bad += stats_log(_metadata, w[i].name, &w[i].st, allowed);
		stats_add(sum, &w[i].st);
	}
	return bad;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A descriptor to dup2() over a file that is to be closed under its users. */
static int closed_fd(void)
{
	return open("/", O_PATH | O_CLOEXEC);
}

/* "Close" @fd under the threads using it; the number now gives EBADF. */
static int close_under(int fd, int placeholder)
{
	return dup2(placeholder, fd) == fd ? 0 : -errno;
}

/* Read every file of the ioasid debugfs directory once. */
static void read_debugfs(struct stats *st, unsigned long *bytes)
{
	char path[300], buf[4096];
	struct dirent *e;
	DIR *d;

	d = opendir(DEBUGFS_DIR);
	if (!d) {
		note(st, OP_DEBUGFS, -errno);
		return;
	}
	while ((e = readdir(d))) {
		ssize_t n;
		int fd;

		if (e->d_name[0] == '.' || e->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", DEBUGFS_DIR, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			note(st, OP_DEBUGFS, -errno);
			continue;
		}
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			*bytes += n;
		note(st, OP_DEBUGFS, sysrc(n));
		close(fd);
	}
	closedir(d);
}

struct debugfs_reader {
	volatile bool stop;
	bool running;
	unsigned long bytes;
	struct stats st;
	pthread_t th;
};

static void *debugfs_thread(void *p)
{
	struct debugfs_reader *r = p;

	while (!r->stop)
		read_debugfs(&r->st, &r->bytes);
	return NULL;
}

/* The debugfs reader may fail with nothing. */
static const struct allowed debugfs_allowed;

FIXTURE(race) {
	int fd, mfd;
	char *buf;
	long vmlck;
	unsigned long taint;
	int locks;
	struct debugfs_reader dbg;
};

FIXTURE_SETUP(race)
{
	self->taint = kernel_taint();
	self->locks = debug_locks();
	if (!MOCK_FIXTURE_SETUP(self))
		return;
	self->buf = fixture_buf(BUF_SIZE, 0x5a);
	ASSERT_NE(MAP_FAILED, self->buf);
	if (!access(DEBUGFS_DIR, R_OK)) {
		ASSERT_EQ(0, pthread_create(&self->dbg.th, NULL, debugfs_thread,
					    &self->dbg));
		self->dbg.running = true;
	}
}

FIXTURE_TEARDOWN(race)
{
	if (self->dbg.running) {
		self->dbg.stop = true;
		pthread_join(self->dbg.th, NULL);
	}
	/* A test that failed before FINISH(): its context goes first. */
	if (self->fd >= 0)
		close(self->fd);
	self->fd = -1;
	MOCK_FIXTURE_TEARDOWN(self, BUF_SIZE);
}

/*
 * The end of every test: the debugfs reader read and got no error; with
 * the context closed nothing of it is left, pinned or charged; no splat
 * tainted the kernel or switched lock debugging off.
 */
#define FINISH()								\
	do {									\
		if (self->dbg.running) {					\
			self->dbg.stop = true;					\
			ASSERT_EQ(0, pthread_join(self->dbg.th, NULL));		\
			self->dbg.running = false;				\
			ASSERT_EQ(0, stats_log(_metadata, "debugfs",		\
					       &self->dbg.st,			\
					       &debugfs_allowed));		\
			ASSERT_LT(0, self->dbg.st.ok[OP_DEBUGFS]);		\
		}								\
		if (self->fd >= 0)						\
			ASSERT_EQ(0, close(self->fd));				\
		self->fd = -1;							\
		ASSERT_EQ(-1, ioasid_debugfs_my_objects());			\
		ASSERT_PINNED(self->mfd, self->buf, BUF_SIZE, 0);		\
		ASSERT_EQ(self->vmlck, vm_locked_kb());				\
		ASSERT_EQ(0, (kernel_taint() & ~self->taint) & TAINT_SPLAT);	\
		if (self->locks == 1)						\
			ASSERT_EQ(1, debug_locks());				\
	} while (0)

/*
 * 1. MAP/UNMAP/COPY/DESTROY on one IOAS, devices attaching, replacing,
 * detaching and being unregistered.
 */
struct ioas_race {
	int fd;
	volatile __u32 ioas;	/* destroyed and replaced by the destroyer */
	__u32 ioas_b;		/* the other IOAS: replace target, COPY target */
	char *buf;
	volatile bool stop;
	volatile __u32 dev_id[2];	/* the devices of the device threads */
};

/* MAP and UNMAP, at fixed IOVAs (own and shared) and kernel-picked ones. */
static void *ioas_mapper(void *p)
{
	struct worker *w = p;
	struct ioas_race *t = w->t;
	char *va = t->buf + (1 + w->idx) * MB;
	__u64 own = (16 + 16 * w->idx) * MB;

	while (!t->stop) {
		__u32 ioas = t->ioas;
		__u64 iova = 0;

		if (!note(&w->st, OP_MAP,
			  ioasid_map_fixed(t->fd, ioas, va, 64 * PSZ, own)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, ioas, own, 64 * PSZ, NULL));
		if (!note(&w->st, OP_MAP,
			  ioasid_map(t->fd, ioas, va, 16 * PSZ, &iova, MAP_RW)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, ioas, iova, 16 * PSZ, NULL));
		/* Both mappers at once: one wins, or UNMAP takes the other's. */
		if (!note(&w->st, OP_MAP,
			  ioasid_map_fixed(t->fd, ioas, va, 16 * PSZ, 64 * MB)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, ioas, 64 * MB, 16 * PSZ, NULL));
	}
	return NULL;
}

/* COPY out of the mappers' ranges: into the other IOAS and within. */
static void *ioas_copier(void *p)
{
	struct worker *w = p;
	struct ioas_race *t = w->t;

	while (!t->stop) {
		__u32 ioas = t->ioas;

		if (!note(&w->st, OP_COPY,
			  ioasid_copy_fixed(t->fd, t->ioas_b, ioas, 16 * MB,
					    64 * PSZ, 128 * MB)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, t->ioas_b, 128 * MB, 64 * PSZ, NULL));
		if (!note(&w->st, OP_COPY,
			  ioasid_copy_fixed(t->fd, ioas, ioas, 32 * MB, 64 * PSZ,
					    96 * MB)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, ioas, 96 * MB, 64 * PSZ, NULL));
	}
	return NULL;
}

/*
 * DESTROY the contended IOAS (EBUSY while a device or a call uses it) and
 * put a new one in its place; DESTROY the devices' IDs, which never works.
 */
static void *ioas_destroyer(void *p)
{
	struct worker *w = p;
	struct ioas_race *t = w->t;
	unsigned int i = 0;

	while (!t->stop) {
		__u32 id;

		usleep(2000);
		if (!note(&w->st, OP_DESTROY, ioasid_destroy(t->fd, t->ioas)) &&
		    !note(&w->st, OP_IOAS_ALLOC, ioasid_ioas_alloc(t->fd, &id)))
			t->ioas = id;
		/* Read after any allocation above: a live device's, or 0. */
		id = t->dev_id[i++ & 1];
		if (id)
			note(&w->st, OP_DESTROY_DEV, ioasid_destroy(t->fd, id));
	}
	return NULL;
}

/*
 * Devices from a mock file of this thread's own: added, attached, replaced,
 * detached through both the uAPI and the kAPI, and unregistered while
 * attached. Thread 1 makes pairs in one IOMMU group sharing their RID, and
 * unregisters the pair's maker first.
 */
static void *ioas_devices(void *p)
{
	struct worker *w = p;
	struct ioas_race *t = w->t;
	unsigned int round = 0;
	int mfd = mock_open();

	while (mfd >= 0 && !t->stop) {
		__u32 ioas = t->ioas, m, id, m2, id2;
		__u32 flags = round & 1 ? IOASID_MOCK_DEV_PASID : 0;

		round++;
		if (w->idx == 1)
			flags = IOASID_MOCK_DEV_SHARED_GROUP;
		if (note(&w->st, OP_DEV_ADD, mock_dev_add(mfd, t->fd, flags, &m, &id)))
			continue;
		t->dev_id[w->idx] = id;
		note(&w->st, OP_ATTACH, ioasid_attach(t->fd, id, ioas));
		if (w->idx == 1) {
			if (!note(&w->st, OP_DEV_ADD,
				  mock_dev_add(mfd, t->fd, flags, &m2, &id2))) {
				/* Joins the group's RID: same IOAS only. */
				note(&w->st, OP_ATTACH, ioasid_attach(t->fd, id2, ioas));
				/* Shared: replace is refused. */
				note(&w->st, OP_ATTACH, ioasid_attach(t->fd, id, t->ioas_b));
				t->dev_id[w->idx] = 0;
				note(&w->st, OP_DEV_DEL, mock_dev_del(mfd, m));
				/* Alone on the RID now: it may move. */
				note(&w->st, OP_ATTACH, ioasid_attach(t->fd, id2, t->ioas_b));
				m = m2;
				id = id2;
				t->dev_id[w->idx] = id;
			}
		} else {
			note(&w->st, OP_ATTACH, ioasid_attach(t->fd, id, t->ioas_b));
			if (flags & IOASID_MOCK_DEV_PASID)
				note(&w->st, OP_ATTACH,
				     ioasid_attach_pasid(t->fd, id, 7, ioas));
		}
		switch (round % 3) {
		case 0:
			note(&w->st, OP_DETACH, ioasid_detach(t->fd, id));
			break;
		case 1:
			note(&w->st, OP_MOCK_DETACH, mock_detach(mfd, m));
			note(&w->st, OP_MOCK_ATTACH, mock_attach(mfd, m, ioas));
			break;
		default:
			break;	/* unregistered while attached */
		}
		t->dev_id[w->idx] = 0;
		note(&w->st, OP_DEV_DEL, mock_dev_del(mfd, m));
	}
	if (mfd >= 0)
		close(mfd);
	return NULL;
}

/* Attach the device threads' devices from here, and list them all. */
static void *ioas_attacher(void *p)
{
	struct ioasid_device_entry e[8];
	struct worker *w = p;
	struct ioas_race *t = w->t;
	unsigned int i = 0;

	while (!t->stop) {
		struct ioasid_device_info info = {
			.size = sizeof(info), .entry_size = sizeof(e[0]),
			.num_devices = 8, .devices = (uintptr_t)e,
		};
		__u32 id = t->dev_id[i & 1];

		if (id) {
			note(&w->st, OP_ATTACH,
			     ioasid_attach(t->fd, id, i & 2 ? t->ioas : t->ioas_b));
			if (i % 5 == 0)
				note(&w->st, OP_DETACH, ioasid_detach(t->fd, id));
		}
		note(&w->st, OP_DEV_INFO, ioasid_ioctl(t->fd, IOASID_DEVICE_INFO, &info));
		i++;
		sched_yield();
	}
	return NULL;
}

/*
 * ENOENT: the contended IOAS was destroyed (its ID may now name a device),
 * the device was unregistered, or a range was unmapped by another thread;
 * EEXIST: the range both mappers use; EBUSY: an IOAS in use, a device ID,
 * a group's shared RID, a kAPI attach of an attached device.
 */
static const struct allowed ioas_allowed = {
	.err = {
		[OP_MAP] = { ENOENT, EEXIST },
		[OP_UNMAP] = { ENOENT },
		[OP_COPY] = { ENOENT, EEXIST },
		[OP_DESTROY] = { EBUSY },
		[OP_DESTROY_DEV] = { EBUSY, ENOENT },
		[OP_ATTACH] = { ENOENT, EBUSY },
		[OP_DETACH] = { ENOENT },
		[OP_MOCK_ATTACH] = { ENOENT, EBUSY },
	},
};

static const struct role ioas_roles[] = {
	{ "mapper", 0, ioas_mapper },
	{ "mapper", 1, ioas_mapper },
	{ "copier", 0, ioas_copier },
	{ "destroyer", 0, ioas_destroyer },
	{ "devices", 0, ioas_devices },
	{ "devices", 1, ioas_devices },
	{ "attacher", 0, ioas_attacher },
};

TEST_F_TIMEOUT(race, ioas_ops_vs_devices, 180)
{
	struct ioas_race t = { .fd = self->fd, .buf = self->buf };
	struct worker w[7];
	struct stats sum = {};
	__u32 ioas;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas));
	t.ioas = ioas;
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &t.ioas_b));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, t.ioas_b, self->buf, MB, 0));
	ASSERT_EQ(0, start_all(w, &t, ioas_roles, 7));
	sleep(8);
	t.stop = true;
	ASSERT_EQ(0, join_all(_metadata, w, 7, &sum, &ioas_allowed));
	/* Never through the table: devices go when the mock says so. */
	ASSERT_EQ(0, sum.ok[OP_DESTROY_DEV]);
	ASSERT_LT(0, sum.ok[OP_MAP]);
	ASSERT_LT(0, sum.ok[OP_UNMAP]);
	ASSERT_LT(0, sum.ok[OP_COPY]);
	ASSERT_LT(0, sum.ok[OP_ATTACH]);
	ASSERT_LT(0, sum.ok[OP_DETACH]);
	ASSERT_LT(0, sum.ok[OP_DEV_DEL]);
	ASSERT_LT(0, sum.calls[OP_DESTROY]);
	/* Every device is gone: both IOAS are free to go. */
	ASSERT_EQ(0, ioasid_destroy(self->fd, t.ioas));
	ASSERT_EQ(0, ioasid_destroy(self->fd, t.ioas_b));
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
	FINISH();
}

/*
 * 2. Software-nested children allocated, filled and destroyed while their
 * parent is mapped and unmapped (a parent UNMAP walks and locks its
 * children): the regression guard of the destroyed-mutex bug.
 */
struct nest_race {
	int fd;
	__u32 parent;
	char *buf;
	volatile bool stop;
};

/* {allocate a child, COPY into it, DESTROY it}. */
static void *child_churn(void *p)
{
	struct worker *w = p;
	struct nest_race *t = w->t;
	__u64 churned = (16 + 16 * w->idx) * MB;

	while (!t->stop) {
		__u32 child;
		int rc;

		if (note(&w->st, OP_CHILD_ALLOC,
			 ioasid_sw_child_alloc(t->fd, t->parent, &child)))
			continue;
		/* The parent's stable mapping: always there. */
		note(&w->st, OP_COPY,
		     ioasid_copy_fixed(t->fd, child, t->parent, 0, 16 * PSZ, 0));
		/* A parent thread's: mapped or not, at this instant. */
		note(&w->st, OP_COPY,
		     ioasid_copy_fixed(t->fd, child, t->parent, churned,
				       16 * PSZ, MB));
		/* EBUSY while the debugfs reader prints it. */
		do {
			rc = note(&w->st, OP_DESTROY, ioasid_destroy(t->fd, child));
		} while (rc == -EBUSY);
	}
	return NULL;
}

/* MAP and UNMAP the parent; each UNMAP walks the children. */
static void *parent_churn(void *p)
{
	struct worker *w = p;
	struct nest_race *t = w->t;
	char *va = t->buf + (1 + w->idx) * MB;
	__u64 iova = (16 + 16 * w->idx) * MB;

	while (!t->stop) {
		__u64 unmapped = 0;

		if (note(&w->st, OP_MAP,
			 ioasid_map_fixed(t->fd, t->parent, va, 16 * PSZ, iova)))
			continue;
		note(&w->st, OP_UNMAP,
		     ioasid_unmap(t->fd, t->parent, iova, 16 * PSZ, &unmapped));
		if (unmapped != 16 * PSZ)
			note(&w->st, OP_UNMAP, -ERANGE);	/* not expected */
	}
	return NULL;
}

/* ENOENT: a parent range unmapped at that instant; EBUSY: debugfs. */
static const struct allowed nest_allowed = {
	.err = {
		[OP_COPY] = { ENOENT },
		[OP_DESTROY] = { EBUSY },
	},
};

TEST_F_TIMEOUT(race, sw_nested_child_vs_parent, 120)
{
	struct nest_race t = { .fd = self->fd, .buf = self->buf };
	struct stats sum = {};
	struct worker w[4];
	__u32 m, id;
	int i;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &t.parent));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, t.parent, self->buf, 16 * PSZ, 0));
	/* A device on the parent: its UNMAPs go to a domain too. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(0, ioasid_attach(self->fd, id, t.parent));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, start(&w[i], &t, i % 2, i < 2 ? "parent" : "child",
				   i < 2 ? parent_churn : child_churn));
	sleep(5);
	t.stop = true;
	ASSERT_EQ(0, join_all(_metadata, w, 4, &sum, &nest_allowed));
	ASSERT_LT(0, sum.ok[OP_MAP]);
	ASSERT_LT(0, sum.ok[OP_UNMAP]);
	ASSERT_LT(0, sum.ok[OP_CHILD_ALLOC]);
	ASSERT_EQ(sum.ok[OP_CHILD_ALLOC], sum.ok[OP_DESTROY]);
	/* Each child got the stable mapping, and some the churned one. */
	ASSERT_LT(sum.ok[OP_CHILD_ALLOC], sum.ok[OP_COPY]);
	/* Only the parent, its stable mapping and the device are left. */
	ASSERT_EQ(2, ioasid_debugfs_my_objects());
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, 16 * PSZ, NULL));
	ASSERT_EQ(-ENOENT, mock_check_map(self->mfd, m, 16 * MB, self->buf + MB,
					  PSZ, NULL));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	ASSERT_EQ(0, ioasid_destroy(self->fd, t.parent));
	FINISH();
}

/* Fault queues, devices and files of one round of the fault tests. */
struct fault_race {
	int fd, mfd, ffd;
	__u32 fault_id, ioas, plain;
	__u32 m, dev_id;
	char *buf;
	unsigned int del_at;	/* the detacher unregisters the device here */
	volatile bool stop;
	volatile bool inside[4];	/* which thread is in a call now */
};

/* The responses the mock saw: their number, or -errno. */
static int responses(int mfd, __u32 mock_id)
{
	static __thread struct ioasid_mock_fault_response r[64];

	return mock_fault_responses(mfd, mock_id, r, 64);
}

/*
 * A round's context: a fault queue, an IOAS delivering to it, a plain one,
 * both mapping the first MiB of @buf, and a mock device (from a mock file
 * of the round's own) with PRI and PASIDs attached by RID and PASID 5.
 */
static int fault_round_setup(struct fault_race *t, char *buf)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->buf = buf;
	t->ffd = -1;
	t->fd = ioasid_open();
	t->mfd = mock_open();
	if (t->fd < 0 || t->mfd < 0)
		return -errno;
	rc = ioasid_fault_queue_alloc(t->fd, &t->fault_id, &t->ffd) ?:
	     ioasid_ioas_alloc_fault(t->fd, t->fault_id, &t->ioas) ?:
	     ioasid_ioas_alloc(t->fd, &t->plain) ?:
	     ioasid_map_fixed(t->fd, t->ioas, buf, MB, 0) ?:
	     ioasid_map_fixed(t->fd, t->plain, buf, MB, 0) ?:
	     mock_dev_add(t->mfd, t->fd, IOASID_MOCK_DEV_IOPF | IOASID_MOCK_DEV_PASID,
			  &t->m, &t->dev_id) ?:
	     ioasid_attach(t->fd, t->dev_id, t->ioas) ?:
	     ioasid_attach_pasid(t->fd, t->dev_id, 5, t->ioas);
	return rc;
}

static void fault_round_close(struct fault_race *t)
{
	if (t->ffd >= 0)
		close(t->ffd);
	if (t->fd >= 0)
		close(t->fd);
	if (t->mfd >= 0)
		close(t->mfd);
}

/* Page requests by RID and PASID, single and two-page groups. */
static void *fault_injector(void *p)
{
	struct worker *w = p;
	struct fault_race *t = w->t;
	unsigned int g = 0;

	while (!t->stop) {
		t->inside[w->idx] = true;
		note(&w->st, OP_INJECT,
		     mock_fault_inject(t->mfd, t->m, IOASID_MOCK_FAULT_LAST, 0, g++ % 512, 0x1000));
		note(&w->st, OP_INJECT,
		     mock_fault_inject(t->mfd, t->m, IOASID_MOCK_FAULT_PASID | IOASID_MOCK_FAULT_LAST,
			    5, g++ % 512, 0x2000));
		note(&w->st, OP_INJECT, mock_fault_inject(t->mfd, t->m, 0, 0, g % 512, 0x3000));
		note(&w->st, OP_INJECT,
		     mock_fault_inject(t->mfd, t->m, IOASID_MOCK_FAULT_LAST, 0, g++ % 512, 0x4000));
		if (g % 16 < 4)
			note(&w->st, OP_RESPONSES, responses(t->mfd, t->m));
		t->inside[w->idx] = false;
	}
	return NULL;
}

/* Wait for faults, read them, answer each group (a detach may have). */
static void *fault_responder(void *p)
{
	struct worker *w = p;
	struct fault_race *t = w->t;
	struct ioasid_fault f[64];

	while (!t->stop) {
		struct pollfd pfd = { .fd = t->ffd, .events = POLLIN };
		int n, i;

		t->inside[w->idx] = true;
		n = note(&w->st, OP_POLL, sysrc(poll(&pfd, 1, 10)));
		if (n <= 0 || !(pfd.revents & POLLIN)) {
			t->inside[w->idx] = false;
			if (pfd.revents & POLLNVAL)
				usleep(1000);
			continue;
		}
		n = note(&w->st, OP_FREAD, sysrc(read(t->ffd, f, sizeof(f))));
		for (i = 0; i < n / (int)REC; i++) {
			struct ioasid_fault_response r = { .cookie = f[i].cookie };

			if (!(f[i].flags & IOASID_FAULT_LAST_PAGE))
				continue;
			note(&w->st, OP_FWRITE, sysrc(write(t->ffd, &r, sizeof(r))));
		}
		t->inside[w->idx] = false;
	}
	return NULL;
}

/* Detach, re-attach and replace the faulting device; unregister it once. */
static void *fault_detacher(void *p)
{
	struct worker *w = p;
	struct fault_race *t = w->t;
	unsigned int i = 0;

	while (!t->stop) {
		t->inside[w->idx] = true;
		note(&w->st, OP_DETACH, ioasid_detach(t->fd, t->dev_id));
		note(&w->st, OP_ATTACH, ioasid_attach(t->fd, t->dev_id, t->ioas));
		note(&w->st, OP_DETACH, ioasid_detach_pasid(t->fd, t->dev_id, 5));
		note(&w->st, OP_ATTACH,
		     ioasid_attach_pasid(t->fd, t->dev_id, 5, t->ioas));
		/* Replace: the queue's pending groups of the RID are answered. */
		note(&w->st, OP_ATTACH, ioasid_attach(t->fd, t->dev_id, t->plain));
		note(&w->st, OP_ATTACH, ioasid_attach(t->fd, t->dev_id, t->ioas));
		if (++i == t->del_at)
			note(&w->st, OP_DEV_DEL, mock_dev_del(t->mfd, t->m));
		t->inside[w->idx] = false;
		usleep(500);
	}
	return NULL;
}

/*
 * EBADF: a file closed under the call; EINVAL: the injected (device,
 * PASID) has nothing fault-capable attached (detached, replaced, closed);
 * ENOENT: the device was unregistered, or a group was answered by a detach
 * before its response.
 */
static const struct allowed fault_allowed = {
	.err = {
		[OP_INJECT] = { EINVAL, ENOENT, EBADF },
		[OP_RESPONSES] = { ENOENT, EBADF },
		[OP_POLL] = { 0 },
		[OP_FREAD] = { EBADF },
		[OP_FWRITE] = { ENOENT, EBADF },
		[OP_ATTACH] = { ENOENT, EBADF },
		[OP_DETACH] = { ENOENT, EBADF },
		[OP_DEV_DEL] = { EBADF },
	},
};

/*
 * 3. Faults injected and answered while the device detaches, is replaced
 * and unregistered, and the fault queue's file, the context's and the
 * mock's are closed, in a different order each round.
 */
static const struct role fault_roles[] = {
	{ "injector", 0, fault_injector },
	{ "responder", 1, fault_responder },
	{ "detacher", 2, fault_detacher },
};

/* Every outcome faults_vs_detach_and_close must have seen. */
static bool fault_race_done(const struct stats *s)
{
	return s->ok[OP_INJECT] && s->ok[OP_FREAD] && s->ok[OP_FWRITE] &&
	       s->ok[OP_DETACH] && s->ok[OP_ATTACH] && s->ok[OP_DEV_DEL] &&
	       s->err[OP_FREAD][EBADF] + s->err[OP_FWRITE][EBADF] +
	       s->err[OP_ATTACH][EBADF];
}

/*
 * Rounds go on for @secs, and past it (up to RACE_ROUNDS_CAP more
 * seconds) until @done: on a loaded machine a round does less, and a
 * stress test must not fail for having met too few of the outcomes it
 * checks for.
 */
#define RACE_ROUNDS_CAP	100
static bool race_more_rounds(double start, double secs, bool done)
{
	double t = now_s() - start;

	return t < secs || (!done && t < secs + RACE_ROUNDS_CAP);
}

TEST_F_TIMEOUT(race, faults_vs_detach_and_close, 180)
{
	unsigned int seed = 1, round;
	struct stats sum = {};
	int placeholder = closed_fd();
	double start = now_s();
	struct fault_race t;
	struct worker w[3];
	int i;

	ASSERT_LE(0, placeholder);
	for (round = 0; race_more_rounds(start, 12, fault_race_done(&sum)); round++) {
		int order = round % 3, fds[3];

		ASSERT_EQ(0, fault_round_setup(&t, self->buf));
		t.del_at = 1 + rand_r(&seed) % 4;
		ASSERT_EQ(0, start_all(w, &t, fault_roles, 3));
		usleep(20000 + rand_r(&seed) % 100000);
		/* The queue, the context, the mock: rotated each round. */
		fds[0] = t.ffd;
		fds[1] = t.fd;
		fds[2] = t.mfd;
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, close_under(fds[(order + i) % 3], placeholder));
			usleep(rand_r(&seed) % 5000);
		}
		usleep(2000);
		t.stop = true;
		for (i = 0; i < 3; i++) {
			ASSERT_EQ(0, pthread_join(w[i].th, NULL));
			stats_add(&sum, &w[i].st);
		}
		fault_round_close(&t);
	}
	close(placeholder);
	TH_LOG("%u rounds", round);
	ASSERT_EQ(0, stats_log(_metadata, "all threads", &sum, &fault_allowed));
	ASSERT_LT(0, sum.ok[OP_INJECT]);
	ASSERT_LT(0, sum.ok[OP_FREAD]);
	ASSERT_LT(0, sum.ok[OP_FWRITE]);
	ASSERT_LT(0, sum.ok[OP_DETACH]);
	ASSERT_LT(0, sum.ok[OP_ATTACH]);
	ASSERT_LT(0, sum.ok[OP_DEV_DEL]);
	ASSERT_LT(0, sum.err[OP_FREAD][EBADF] + sum.err[OP_FWRITE][EBADF] +
		     sum.err[OP_ATTACH][EBADF]);
	FINISH();
}

/*
 * 5. The context's, the mock's and the queue's files closed while calls
 * are inside: MAPs pinning 16 MiB (long under KASAN), COPYs of them, fault
 * reads and injections, the device attached to the IOAS being filled.
 */
static void *busy_mapper(void *p)
{
	struct worker *w = p;
	struct fault_race *t = w->t;

	while (!t->stop) {
		t->inside[w->idx] = true;
		if (!note(&w->st, OP_MAP,
			  ioasid_map_fixed(t->fd, t->ioas, t->buf, BIG_MAP, 1ULL << 30)))
			note(&w->st, OP_UNMAP, ioasid_unmap_all(t->fd, t->ioas, NULL));
		t->inside[w->idx] = false;
	}
	return NULL;
}

static void *busy_copier(void *p)
{
	struct worker *w = p;
	struct fault_race *t = w->t;
	__u64 len = BIG_MAP >> (w->idx & 3);

	while (!t->stop) {
		t->inside[w->idx] = true;
		if (!note(&w->st, OP_COPY,
			  ioasid_copy_fixed(t->fd, t->plain, t->ioas, 1ULL << 30,
					    len, 2ULL << 30)))
			note(&w->st, OP_UNMAP,
			     ioasid_unmap(t->fd, t->plain, 2ULL << 30, len, NULL));
		t->inside[w->idx] = false;
		sched_yield();
	}
	return NULL;
}

/*
 * EBADF: the file was closed; ENOENT: COPY of a range not mapped at that
 * instant, an unregistered device (the mock's file closed first), a group
 * answered by the context's teardown; EINVAL: a fault for a (device,
 * PASID) without a fault-capable attachment.
 */
static const struct allowed busy_allowed = {
	.err = {
		[OP_MAP] = { EBADF },
		[OP_UNMAP] = { EBADF },
		[OP_COPY] = { ENOENT, EBADF },
		[OP_INJECT] = { EINVAL, ENOENT, EBADF },
		[OP_RESPONSES] = { ENOENT, EBADF },
		[OP_FREAD] = { EBADF },
		[OP_FWRITE] = { ENOENT, EBADF },
	},
};

static const struct role busy_roles[] = {
	{ "mapper", 0, busy_mapper },
	{ "copier", 1, busy_copier },
	{ "responder", 2, fault_responder },
	{ "injector", 3, fault_injector },
};

TEST_F_TIMEOUT(race, close_while_ioctls_inside, 180)
{
	unsigned int seed = 7, round, inside[4] = {};
	int placeholder = closed_fd();
	double start = now_s();
	struct stats sum = {};
	struct fault_race t;
	struct worker w[4];
	int i;

	ASSERT_LE(0, placeholder);
	for (round = 0;
	     race_more_rounds(start, 15, sum.ok[OP_MAP] && sum.ok[OP_COPY] &&
			      sum.ok[OP_INJECT] && sum.err[OP_MAP][EBADF] && inside[0]);
	     round++) {
		ASSERT_EQ(0, fault_round_setup(&t, self->buf));
		ASSERT_EQ(0, start_all(w, &t, busy_roles, 4));
		usleep(rand_r(&seed) % 150000);
		for (i = 0; i < 4; i++)
			inside[i] += t.inside[i];
		/* Mostly the context first; every third round the mock's. */
		if (round % 3 == 2)
			ASSERT_EQ(0, close_under(t.mfd, placeholder));
		ASSERT_EQ(0, close_under(t.fd, placeholder));
		ASSERT_EQ(0, close_under(t.ffd, placeholder));
		ASSERT_EQ(0, close_under(t.mfd, placeholder));
		usleep(5000);
		t.stop = true;
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(0, pthread_join(w[i].th, NULL));
			stats_add(&sum, &w[i].st);
		}
		fault_round_close(&t);
	}
	close(placeholder);
	TH_LOG("%u rounds; closed with a call inside: mapper %u copier %u responder %u injector %u",
	       round, inside[0], inside[1], inside[2], inside[3]);
	ASSERT_EQ(0, stats_log(_metadata, "all threads", &sum, &busy_allowed));
	ASSERT_LT(0, sum.ok[OP_MAP]);
	ASSERT_LT(0, sum.ok[OP_COPY]);
	ASSERT_LT(0, sum.ok[OP_INJECT]);
	ASSERT_LT(0, sum.err[OP_MAP][EBADF]);
	/* The point: some closes came while a MAP was pinning. */
	ASSERT_LT(0, inside[0]);
	FINISH();
}

/*
 * 6. DESTROY of a device's ID while the mock unregisters it, thousands of
 * rounds: EBUSY while it is registered, ENOENT once gone, never success
 * (the subsystem's reference and the table entry go in one step).
 */
struct unreg_race {
	int fd;
	volatile __u32 dev_id;
	volatile bool armed;
	volatile bool stop;
	unsigned long armed_calls;	/* __atomic: DESTROYs issued armed */
};

static void *unreg_destroyer(void *p)
{
	struct worker *w = p;
	struct unreg_race *t = w->t;

	while (!t->stop) {
		if (!t->armed) {
			sched_yield();	/* let the device be created */
			continue;
		}
		note(&w->st, OP_DESTROY_DEV, ioasid_destroy(t->fd, t->dev_id));
		__atomic_add_fetch(&t->armed_calls, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static const struct allowed unreg_allowed = {
	.err = {
		[OP_DESTROY_DEV] = { EBUSY, ENOENT },
	},
};

TEST_F_TIMEOUT(race, destroy_vs_unregister, 180)
{
	struct unreg_race t = { .fd = self->fd };
	double t0 = now_s(), end = t0 + 25;
	__u32 parent, ioas[2], m, id = 0;
	struct stats sum = {};
	unsigned long calls;
	unsigned int rounds;
	struct worker w[2];
	int i;

	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas[0]));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas[1]));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas[1], self->buf, MB, 0));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_PASID,
				  &parent, NULL));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, start(&w[i], &t, i, "destroyer", unreg_destroyer));
	/*
	 * Mostly sub-devices, which need no platform device, so thousands of
	 * rounds fit; every 16th a whole device; every 8th attached.
	 */
	for (rounds = 0; rounds < 3000 && now_s() < end; rounds++) {
		if (rounds % 16) {
			ASSERT_EQ(0, mock_subdev_add(self->mfd, parent,
						     1 + rounds % 200, &m, &id));
		} else {
			ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
		}
		t.dev_id = id;
		if (rounds % 8 == 0)
			ASSERT_EQ(0, mock_attach(self->mfd, m, ioas[rounds & 8 ? 1 : 0]));
		/* Registered: DESTROY of its ID is EBUSY from here on. */
		t.armed = true;
		/*
		 * Every 4th round a DESTROY surely meets the registered
		 * device (a fast kernel may otherwise unregister before any
		 * does); the others race the unregister from the start.
		 */
		calls = __atomic_load_n(&t.armed_calls, __ATOMIC_RELAXED);
		while (rounds % 4 == 0 && now_s() < end &&
		       __atomic_load_n(&t.armed_calls, __ATOMIC_RELAXED) < calls + 2)
			sched_yield();
		ASSERT_EQ(0, mock_dev_del(self->mfd, m));
		t.armed = false;
	}
	t.stop = true;
	ASSERT_EQ(0, join_all(_metadata, w, 2, &sum, &unreg_allowed));
	TH_LOG("%u rounds in %.1f s", rounds, now_s() - t0);
	ASSERT_EQ(0, sum.ok[OP_DESTROY_DEV]);
	ASSERT_LT(0, sum.err[OP_DESTROY_DEV][EBUSY]);
	ASSERT_LT(0, sum.err[OP_DESTROY_DEV][ENOENT]);
	/* Bounded in time: a loaded host may not finish them all. */
	ASSERT_LE(500, rounds);
	ASSERT_EQ(-ENOENT, ioasid_destroy(self->fd, id));
	ASSERT_EQ(0, mock_dev_del(self->mfd, parent));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas[0]));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas[1]));
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
	FINISH();
}

/*
 * DESTROY @id, which nothing but transient readers use: retry while it is
 * EBUSY, return how many times it was, fail on any other error.
 */
static unsigned int destroy_counting_busy(int fd, __u32 id)
{
	unsigned int busy = 0;
	int rc;

	while ((rc = ioasid_destroy(fd, id)) == -EBUSY) {
		busy++;
		usleep(1000);
	}
	return rc ? 1000000 : busy;
}

/*
 * 7. DESTROY while debugfs prints the object: the walk must not hold the
 * object the way a user does, so every DESTROY of an object nothing else
 * uses succeeds however busy the readers are (an IOAS with a mapping and
 * a fault queue, whose printing sleeps on its mutex).
 */
TEST_F_TIMEOUT(race, destroy_while_debugfs_reads, 120)
{
	double t0 = now_s(), end = t0 + 10;
	struct debugfs_reader more[2] = {};
	unsigned int rounds, busy = 0;
	__u32 ioas, fq, m;
	int i, ffd;

	if (!self->dbg.running)
		SKIP(return, "no ioasid debugfs");
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&more[i].th, NULL, debugfs_thread,
					    &more[i]));
	for (rounds = 0; rounds < 4000 && now_s() < end; rounds++) {
		ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &ioas));
		ASSERT_EQ(0, ioasid_map_fixed(self->fd, ioas, self->buf, PSZ, 0));
		ASSERT_EQ(0, ioasid_fault_queue_alloc(self->fd, &fq, &ffd));
		if (rounds % 32 == 0) {
			ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, NULL));
			ASSERT_EQ(0, mock_attach(self->mfd, m, ioas));
			ASSERT_EQ(0, mock_dev_del(self->mfd, m));
		}
		ASSERT_EQ(0, close(ffd));
		busy += destroy_counting_busy(self->fd, fq);
		busy += destroy_counting_busy(self->fd, ioas);
	}
	for (i = 0; i < 2; i++) {
		more[i].stop = true;
		ASSERT_EQ(0, pthread_join(more[i].th, NULL));
	}
	TH_LOG("%u rounds in %.1f s, %lu and %lu more debugfs reads, %u DESTROYs EBUSY",
	       rounds, now_s() - t0, more[0].st.ok[OP_DEBUGFS],
	       more[1].st.ok[OP_DEBUGFS], busy);
	ASSERT_EQ(0, busy);
	ASSERT_LE(200, rounds);
	ASSERT_LT(0, more[0].st.ok[OP_DEBUGFS] + more[1].st.ok[OP_DEBUGFS]);
	ASSERT_EQ(0, ioasid_debugfs_my_objects());
	FINISH();
}

TEST_HARNESS_MAIN
