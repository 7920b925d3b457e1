// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queues on the mock IOMMU: page requests injected through the real
 * iommu_report_device_fault(), routed by attach handle to the queue of the
 * IOAS or nested object the (device, PASID) is attached to, read, answered,
 * and answered "invalid" by detach, replace and close.
 */
#include <poll.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"

#define PSZ	4096UL
#define MB	(1UL << 20)
#define REC	sizeof(struct ioasid_fault)

#define LAST	IOASID_MOCK_FAULT_LAST

static int respond(int ffd, __u32 cookie, __u32 code)
{
	struct ioasid_fault_response r = { .cookie = cookie, .code = code };
	ssize_t n = write(ffd, &r, sizeof(r));

	return n < 0 ? -errno : (int)n;
}

static ssize_t read_faults(int ffd, struct ioasid_fault *f, unsigned int max)
{
	ssize_t n = read(ffd, f, max * REC);

	return n < 0 ? -errno : n / (ssize_t)REC;
}

static bool readable(int ffd)
{
	struct pollfd p = { .fd = ffd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

FIXTURE(fq) {
	int fd, mfd, ffd;
	__u32 fault_id, ioas, plain;
	__u32 m, dev_id;
	char *buf;
	long vmlck;
};

FIXTURE_SETUP(fq)
{
	if (!MOCK_FIXTURE_SETUP(self))
		return;
	ASSERT_EQ(0, ioasid_fault_queue_alloc(self->fd, &self->fault_id, &self->ffd));
	ASSERT_LE(0, self->ffd);
	ASSERT_EQ(0, ioasid_ioas_alloc_fault(self->fd, self->fault_id, &self->ioas));
	ASSERT_EQ(0, ioasid_ioas_alloc(self->fd, &self->plain));
	self->buf = fixture_buf(MB, 1);
	ASSERT_NE(MAP_FAILED, self->buf);
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->ioas, self->buf, MB, 0));
	ASSERT_EQ(0, ioasid_map_fixed(self->fd, self->plain, self->buf, MB, 0));
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd,
				  IOASID_MOCK_DEV_IOPF | IOASID_MOCK_DEV_PASID,
				  &self->m, &self->dev_id));
}

FIXTURE_TEARDOWN(fq)
{
	/* The devices go first, then the queue's file, then the context. */
	close(self->mfd);
	self->mfd = -1;
	if (self->ffd >= 0)
		close(self->ffd);
	MOCK_FIXTURE_TEARDOWN(self, MB);
}

/* Inject, read every field, respond: the device gets that response. */
TEST_F(fq, rid_round_trip)
{
	struct ioasid_mock_fault_response r[4];
	struct ioasid_fault f[2];
	__u32 cookie;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(0, read_faults(self->ffd, f, 2));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0x5000));
	ASSERT_TRUE(readable(self->ffd));
	/* A buffer that cannot hold one record. */
	ASSERT_EQ(-1, read(self->ffd, f, REC - 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(IOASID_FAULT_LAST_PAGE, f[0].flags);
	ASSERT_EQ(self->dev_id, f[0].dev_id);
	ASSERT_EQ(0, f[0].pasid);
	ASSERT_EQ(3, f[0].grpid);
	ASSERT_EQ(IOASID_FAULT_PERM_READ | IOASID_FAULT_PERM_WRITE, f[0].perm);
	ASSERT_EQ(0x5000, f[0].addr);
	cookie = f[0].cookie;
	ASSERT_FALSE(readable(self->ffd));
	/* Nothing answered yet. */
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));

	/* Bad responses change nothing. */
	ASSERT_EQ(-EINVAL, respond(self->ffd, cookie, 3));
	ASSERT_EQ(-ENOENT, respond(self->ffd, cookie + 1, 0));
	ASSERT_EQ(-1, write(self->ffd, r, 5));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));

	ASSERT_EQ(8, respond(self->ffd, cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(0, r[0].code);
	ASSERT_EQ(0, r[0].pasid_valid);
	/* A cookie answers once. */
	ASSERT_EQ(-ENOENT, respond(self->ffd, cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/*
 * A read whose buffer faults delivers nothing and loses nothing: the group
 * stays queued (first) and comes back with a new cookie; the old cookie
 * answers nothing.
 */
TEST_F(fq, read_efault_requeues)
{
	struct ioasid_mock_fault_response r[4];
	struct ioasid_fault f[4];
	char *two, *ro;

	/* A writable page followed by an inaccessible one. */
	two = mmap(NULL, 2 * PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ro = two + PSZ;
	ASSERT_EQ(0, mprotect(ro, PSZ, PROT_NONE));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0x1000));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 2, 0x2000));
	ASSERT_EQ(-EFAULT, read_faults(self->ffd, (struct ioasid_fault *)ro, 2));
	ASSERT_EQ(-EFAULT, read_faults(self->ffd, (struct ioasid_fault *)PSZ, 2));
	ASSERT_TRUE(readable(self->ffd));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	ASSERT_EQ(1, f[0].grpid);
	/* Room for two, the second faults: the first is delivered alone. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0x3000));
	ASSERT_EQ(1, read_faults(self->ffd, (struct ioasid_fault *)(ro - REC), 2));
	ASSERT_EQ(2, ((struct ioasid_fault *)(ro - REC))->grpid);
	f[1] = *(struct ioasid_fault *)(ro - REC);
	ASSERT_EQ(1, read_faults(self->ffd, &f[2], 2));
	ASSERT_EQ(3, f[2].grpid);
	ASSERT_NE(f[1].cookie, f[2].cookie);
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(8, respond(self->ffd, f[1].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(8, respond(self->ffd, f[2].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(3, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(1, r[0].grpid);
	ASSERT_EQ(2, r[1].grpid);
	ASSERT_EQ(3, r[2].grpid);
	ASSERT_FALSE(readable(self->ffd));
	/* A write whose second response faults applies the first only. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 4, 0x4000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	*(struct ioasid_fault_response *)(ro - 8) =
		(struct ioasid_fault_response){ .cookie = f[0].cookie };
	ASSERT_EQ(8, write(self->ffd, ro - 8, 16));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(4, r[0].grpid);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	munmap(two, 2 * PSZ);
}

struct fq_stalled {
	int ffd, mfd;
	__u32 m;
	void *buf;
	ssize_t n;
	int inject_rc, respond_rc;
	bool readable;
	volatile bool done;
};

static void *stalled_read_thread(void *p)
{
	struct fq_stalled *s = p;

	s->n = read(s->ffd, s->buf, REC);
	return NULL;
}

static void *fault_path_thread(void *p)
{
	struct fq_stalled *s = p;

	s->inject_rc = mock_fault_inject(s->mfd, s->m, LAST, 0, 2, 0x2000);
	s->readable = readable(s->ffd);
	s->respond_rc = respond(s->ffd, 0x7fffffff, IOASID_FAULT_RESPONSE_SUCCESS);
	s->done = true;
	return NULL;
}

/*
 * No queue lock is held across the copy to the reader: while a read()
 * waits on a write-protected userfaultfd page, the IOMMU still delivers
 * (the mock's injection runs the queue's handler), poll() and write() still
 * answer, and the stalled reader gets its group once the page is released.
 */
TEST_F(fq, read_stalled_by_userfaultfd)
{
	struct fq_stalled s = { .ffd = self->ffd, .mfd = self->mfd, .m = self->m };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_WP };
	struct pollfd pfd;
	struct uffd_msg msg;
	struct ioasid_fault f[2];
	pthread_t rt, ft;
	int uffd, i;

	uffd = uffd_open();
	if (uffd < 0)
		SKIP(return, "no userfaultfd for kernel faults (%s)", strerror(-uffd));
	s.buf = mmap(NULL, PSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, s.buf);
	memset(s.buf, 0, PSZ);
	reg.range.start = (uintptr_t)s.buf;
	reg.range.len = PSZ;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		SKIP(return, "no userfaultfd write protection (%s)", strerror(errno));
	ASSERT_EQ(0, uffd_wp(uffd, s.buf, true));

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0x1000));
	ASSERT_EQ(0, pthread_create(&rt, NULL, stalled_read_thread, &s));
	pfd = (struct pollfd){ .fd = uffd, .events = POLLIN };
	ASSERT_EQ(1, poll(&pfd, 1, 30000));
	ASSERT_EQ(sizeof(msg), read(uffd, &msg, sizeof(msg)));
	ASSERT_EQ(UFFD_EVENT_PAGEFAULT, msg.event);

	/* The reader is held; the fault path must not wait for it. */
	ASSERT_EQ(0, pthread_create(&ft, NULL, fault_path_thread, &s));
	for (i = 0; i < 1000 && !s.done; i++)
		usleep(10000);
	EXPECT_TRUE(s.done);
	ASSERT_EQ(0, uffd_wp(uffd, s.buf, false));
	ASSERT_EQ(0, pthread_join(ft, NULL));
	ASSERT_EQ(0, pthread_join(rt, NULL));
	ASSERT_EQ(0, s.inject_rc);
	ASSERT_TRUE(s.readable);
	ASSERT_EQ(-ENOENT, s.respond_rc);
	ASSERT_EQ(REC, s.n);
	ASSERT_EQ(1, ((struct ioasid_fault *)s.buf)->grpid);
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(2, f[0].grpid);
	ASSERT_EQ(8, respond(self->ffd, ((struct ioasid_fault *)s.buf)->cookie, 0));
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, 0));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	munmap(s.buf, PSZ);
	close(uffd);
}

/* PASIDs: routed by (device, PASID); an unattached PASID never queues. */
TEST_F(fq, pasid)
{
	struct ioasid_mock_fault_response r[4];
	struct ioasid_fault f[2];

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, 5, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST | IOASID_MOCK_FAULT_PASID, 5, 7, 0x9000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(IOASID_FAULT_LAST_PAGE | IOASID_FAULT_PASID_VALID, f[0].flags);
	ASSERT_EQ(5, f[0].pasid);
	ASSERT_EQ(7, f[0].grpid);
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_INVALID));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(7, r[0].grpid);
	ASSERT_EQ(5, r[0].pasid);
	ASSERT_EQ(1, r[0].code);
	ASSERT_EQ(1, r[0].pasid_valid);

	/* PASID 6 and the RID are attached nowhere: the core answers. */
	ASSERT_EQ(-EINVAL, mock_fault_inject(self->mfd, self->m, LAST | IOASID_MOCK_FAULT_PASID, 6, 8, 0));
	ASSERT_EQ(-EINVAL, mock_fault_inject(self->mfd, self->m, LAST, 0, 9, 0));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(2, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(8, r[0].grpid);
	ASSERT_EQ(1, r[0].code);
	ASSERT_EQ(9, r[1].grpid);
	/* A RID attached to an IOAS without a queue: answered by the core. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->plain));
	ASSERT_EQ(-EINVAL, mock_fault_inject(self->mfd, self->m, LAST, 0, 10, 0));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, 5));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/* A group of three requests: read whole, answered once. */
TEST_F(fq, group)
{
	struct ioasid_mock_fault_response r[4];
	struct ioasid_fault f[4];
	int i;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, 0, 0, 4, 0x1000));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, 0, 0, 4, 0x2000));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 4, 0x3000));
	/* Two records of room: the group does not fit. */
	ASSERT_EQ(-EINVAL, read_faults(self->ffd, f, 2));
	ASSERT_EQ(3, read_faults(self->ffd, f, 4));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(4, f[i].grpid);
		ASSERT_EQ(f[0].cookie, f[i].cookie);
	}
	ASSERT_EQ(0, f[0].flags);
	ASSERT_EQ(IOASID_FAULT_LAST_PAGE, f[2].flags);
	ASSERT_EQ(0x3000, f[2].addr);
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(4, r[0].grpid);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/*
 * A cookie names one group: once answered it is stale, and a repeated
 * answer is ENOENT - it never reaches the group that came next.
 */
TEST_F(fq, cookies_are_not_reused)
{
	struct ioasid_mock_fault_response r[4];
	struct ioasid_fault f[2];
	__u32 a, b, c, prev;
	unsigned int i;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	/* A is read and answered. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0x1000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	a = f[0].cookie;
	ASSERT_EQ(8, respond(self->ffd, a, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(1, r[0].grpid);
	/* B arrives after: its cookie is not A's. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 2, 0x2000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	b = f[0].cookie;
	TH_LOG("cookie of A %u, of B %u", a, b);
	ASSERT_NE(a, b);
	/* A repeated answer for A: ENOENT, and B is still pending. */
	ASSERT_EQ(-ENOENT, respond(self->ffd, a, IOASID_FAULT_RESPONSE_FAILURE));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));
	/* Cookie 0 is never issued: ENOENT, nothing answered. */
	if (b)
		ASSERT_EQ(-ENOENT, respond(self->ffd, 0, IOASID_FAULT_RESPONSE_FAILURE));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));
	/* C, after the answer to cookie 0, gets a new cookie too. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0x3000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	c = f[0].cookie;
	TH_LOG("cookie of C %u", c);
	ASSERT_NE(0, c);
	ASSERT_NE(a, c);
	ASSERT_NE(b, c);
	/* B's answer reaches B, C's reaches C. */
	ASSERT_EQ(8, respond(self->ffd, b, IOASID_FAULT_RESPONSE_INVALID));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(2, r[0].grpid);
	ASSERT_EQ(IOASID_FAULT_RESPONSE_INVALID, r[0].code);
	ASSERT_EQ(-ENOENT, respond(self->ffd, b, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(8, respond(self->ffd, c, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));

	/* One group at a time, many times: every cookie new and non-zero. */
	prev = c;
	for (i = 0; i < 300; i++) {
		ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, i % 512, 0));
		ASSERT_EQ(1, read_faults(self->ffd, f, 2));
		ASSERT_NE(0, f[0].cookie);
		ASSERT_LT(prev, f[0].cookie);
		ASSERT_EQ(8, respond(self->ffd, f[0].cookie, 0));
		ASSERT_EQ(-ENOENT, respond(self->ffd, prev, 0));
		ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
		prev = f[0].cookie;
	}
	/* A cookie of a group purged by detach is stale as well. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 5, 0x5000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(IOASID_FAULT_RESPONSE_INVALID, r[0].code);
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 6, 0x6000));
	ASSERT_EQ(1, read_faults(self->ffd, f + 1, 1));
	ASSERT_NE(f[0].cookie, f[1].cookie);
	ASSERT_EQ(-ENOENT, respond(self->ffd, f[0].cookie, 0));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(8, respond(self->ffd, f[1].cookie, 0));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(6, r[0].grpid);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

static unsigned int count_code(struct ioasid_mock_fault_response *r, int n, __u32 code)
{
	unsigned int c = 0;
	int i;

	for (i = 0; i < n; i++)
		c += r[i].code == code;
	return c;
}

/* Detach and replace answer what is pending, read or not. */
TEST_F(fq, detach_and_replace_answer_pending)
{
	struct ioasid_mock_fault_response r[8];
	struct ioasid_fault f[4];
	__u32 cookie;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	cookie = f[0].cookie;
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 2, 0));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	ASSERT_EQ(2, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(2, count_code(r, 2, 1));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(-ENOENT, respond(self->ffd, cookie, IOASID_FAULT_RESPONSE_SUCCESS));

	/* Replace into an IOAS without a queue. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->plain));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(1, r[0].code);
	ASSERT_FALSE(readable(self->ffd));
	/* And back: the attachment delivers again. */
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 4, 0));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	ASSERT_EQ(4, f[0].grpid);
	/* Unregistering the device answers too. */
	ASSERT_EQ(0, mock_dev_del(self->mfd, self->m));
	ASSERT_EQ(-ENOENT, respond(self->ffd, f[0].cookie, 0));
}

/* Lines of the debugfs view naming a fault queue with "pending <n>". */
static int debugfs_fault_queues(int pending)
{
	char want[32];

	snprintf(want, sizeof(want), " pending %d ", pending);
	return ioasid_debugfs_count("object", pending < 0 ? "type fault_queue" : want);
}

/* The grpids of responses r[0..n) with code @code, as a bit mask. */
static unsigned long grpids_with_code(const struct ioasid_mock_fault_response *r,
				      int n, __u32 code)
{
	unsigned long mask = 0;
	int i;

	for (i = 0; i < n; i++)
		if (r[i].code == code && r[i].grpid < 8 * sizeof(mask))
			mask |= 1UL << r[i].grpid;
	return mask;
}

/*
 * A registration leaves with faults pending: a sub-device (its PASID's
 * requests come from the parent, which stays and records the responses)
 * with one group read and awaiting its response and one still queued.
 * Both are answered "invalid" at once and dropped - a late response is
 * ENOENT, a read finds nothing of them - while the parent's own group,
 * pending in the same queue, waits for its response as before.
 */
TEST_F(fq, unregister_answers_pending)
{
	struct ioasid_mock_fault_response r[8];
	struct ioasid_fault f[4];
	__u32 s, sid, cookie_s, cookie_p;
	int n;

	ASSERT_EQ(0, mock_subdev_add(self->mfd, self->m, 5, &s, &sid));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, sid, 5, self->ioas));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST | IOASID_MOCK_FAULT_PASID, 5, 1, 0x1000));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0x3000));
	ASSERT_EQ(2, read_faults(self->ffd, f, 4));
	ASSERT_EQ(sid, f[0].dev_id);
	ASSERT_EQ(self->dev_id, f[1].dev_id);
	cookie_s = f[0].cookie;
	cookie_p = f[1].cookie;
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST | IOASID_MOCK_FAULT_PASID, 5, 2, 0x2000));
	ASSERT_EQ(1, debugfs_fault_queues(3));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 8));

	ASSERT_EQ(0, mock_dev_del(self->mfd, s));
	n = mock_fault_responses(self->mfd, self->m, r, 8);
	ASSERT_EQ(2, n);
	ASSERT_EQ((1UL << 1) | (1UL << 2), grpids_with_code(r, n, IOASID_FAULT_RESPONSE_INVALID));
	ASSERT_EQ(5, r[0].pasid);
	ASSERT_EQ(5, r[1].pasid);
	ASSERT_EQ(1, debugfs_fault_queues(1));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(0, read_faults(self->ffd, f, 4));
	ASSERT_EQ(-ENOENT, respond(self->ffd, cookie_s, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(0, mock_fault_responses(self->mfd, self->m, r, 8));
	/* Its PASID leads nowhere now: the core answers. */
	ASSERT_EQ(-EINVAL, mock_fault_inject(self->mfd, self->m, LAST | IOASID_MOCK_FAULT_PASID, 5, 4, 0));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_FALSE(readable(self->ffd));

	/* The parent's group is untouched, and the queue goes on. */
	ASSERT_EQ(8, respond(self->ffd, cookie_p, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(IOASID_FAULT_RESPONSE_SUCCESS, r[0].code);
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 5, 0x5000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 4));
	ASSERT_EQ(self->dev_id, f[0].dev_id);
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(1, debugfs_fault_queues(0));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/*
 * A device destroyed (its platform device gone) with a group read and one
 * queued, beside another device of the same queue and IOAS: no hang, its
 * groups are dropped (ENOENT, nothing to read), nothing is charged twice,
 * and the other device's faults and translations go on.
 */
TEST_F(fq, dev_del_with_faults_pending)
{
	struct ioasid_mock_fault_response r[8];
	struct ioasid_fault f[4];
	long vmlck = vm_locked_kb();
	__u32 m2, id2, cookie;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, IOASID_MOCK_DEV_IOPF, &m2, &id2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id2, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0x1000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 4));
	cookie = f[0].cookie;
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 2, 0x2000));
	ASSERT_EQ(1, debugfs_fault_queues(2));

	ASSERT_EQ(0, mock_dev_del(self->mfd, self->m));
	ASSERT_EQ(1, debugfs_fault_queues(0));
	ASSERT_FALSE(readable(self->ffd));
	ASSERT_EQ(-ENOENT, respond(self->ffd, cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(vmlck, vm_locked_kb());

	ASSERT_EQ(0, mock_check_map(self->mfd, m2, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, m2, LAST, 0, 3, 0x3000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 4));
	ASSERT_EQ(id2, f[0].dev_id);
	ASSERT_EQ(3, f[0].grpid);
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, m2, r, 8));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(IOASID_FAULT_RESPONSE_SUCCESS, r[0].code);
	ASSERT_EQ(1, debugfs_fault_queues(0));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	ASSERT_EQ(0, ioasid_debugfs_count("object", " type device"));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
	ASSERT_EQ(vmlck - 1024, vm_locked_kb());
}

/* Closing the queue's file answers everything; later faults fail. */
TEST_F(fq, close_queue)
{
	struct ioasid_mock_fault_response r[8];
	struct ioasid_fault f[4];

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 2, 0));
	/* In use by the file and the IOAS. */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->fault_id));
	ASSERT_EQ(0, close(self->ffd));
	self->ffd = -1;
	ASSERT_EQ(2, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(2, count_code(r, 2, 1));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 3, 0));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
	ASSERT_EQ(3, r[0].grpid);
	ASSERT_EQ(2, r[0].code);	/* failure */
	ASSERT_EQ(-EBUSY, ioasid_destroy(self->fd, self->fault_id));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->ioas));
	ASSERT_EQ(0, ioasid_destroy(self->fd, self->fault_id));
}

/* A full queue answers new groups "failure" and keeps the rest. */
TEST_F(fq, overflow)
{
	static struct ioasid_mock_fault_response r[IOASID_MOCK_FAULT_RESPONSES_MAX];
	static struct ioasid_fault f[IOASID_FAULT_QUEUE_DEPTH + 1];
	int i, n;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	for (i = 0; i < IOASID_FAULT_QUEUE_DEPTH + 1; i++)
		ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, i % 512, 0));
	n = mock_fault_responses(self->mfd, self->m, r, IOASID_MOCK_FAULT_RESPONSES_MAX);
	ASSERT_EQ(1, n);
	ASSERT_EQ(IOASID_FAULT_QUEUE_DEPTH % 512, r[0].grpid);
	ASSERT_EQ(2, r[0].code);
	ASSERT_EQ(IOASID_FAULT_QUEUE_DEPTH,
		  read_faults(self->ffd, f, IOASID_FAULT_QUEUE_DEPTH + 1));
	/* Read but unanswered groups still count against the depth. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 500, 0));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(2, r[0].code);
	for (i = 0; i < IOASID_FAULT_QUEUE_DEPTH; i++)
		ASSERT_EQ(8, respond(self->ffd, f[i].cookie, 0));
	n = mock_fault_responses(self->mfd, self->m, r, IOASID_MOCK_FAULT_RESPONSES_MAX);
	ASSERT_EQ(IOASID_FAULT_QUEUE_DEPTH, n);
	ASSERT_EQ(IOASID_FAULT_QUEUE_DEPTH, count_code(r, n, 0));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 501, 0));
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/* Two contexts, interleaved: each sees exactly its own device's faults. */
TEST_F(fq, contexts_are_isolated)
{
	struct ioasid_fault f[16];
	__u32 fid2, ioas2, m2, dev2;
	int fd2, ffd2, i, n;

	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioasid_fault_queue_alloc(fd2, &fid2, &ffd2));
	ASSERT_EQ(0, ioasid_ioas_alloc_fault(fd2, fid2, &ioas2));
	ASSERT_EQ(0, mock_dev_add(self->mfd, fd2, IOASID_MOCK_DEV_IOPF, &m2, &dev2));
	ASSERT_EQ(0, ioasid_attach_pasid(fd2, dev2, IOASID_PASID_NONE, ioas2));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	for (i = 0; i < 8; i++)
		ASSERT_EQ(0, mock_fault_inject(self->mfd, i % 2 ? m2 : self->m, LAST, 0, i, 0));
	n = read_faults(self->ffd, f, 16);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(self->dev_id, f[i].dev_id);
		ASSERT_EQ(2 * i, f[i].grpid);
	}
	n = read_faults(ffd2, f, 16);
	ASSERT_EQ(4, n);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(dev2, f[i].dev_id);
		ASSERT_EQ(2 * i + 1, f[i].grpid);
		/* The other context's cookies mean nothing here. */
		ASSERT_EQ(8, respond(ffd2, f[i].cookie, 0));
	}
	ASSERT_EQ(0, mock_dev_del(self->mfd, m2));
	close(ffd2);
	close(fd2);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/* Nested objects deliver their faults to their queue too. */
TEST_F(fq, nested)
{
	struct ioasid_mock_nested_data data = { .iotlb = 1 };
	struct ioasid_nested_alloc na = {
		.size = sizeof(na), .parent_id = self->plain,
		.data_type = IOASID_NESTED_DATA_MOCK, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data, .flags = IOASID_NESTED_ALLOC_FAULT,
	};
	struct ioasid_fault f[2];
	__u32 m, id;

	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd,
				  IOASID_MOCK_DEV_IOPF | IOASID_MOCK_DEV_NESTING, &m, &id));
	na.dev_id = id;
	na.fault_id = self->plain;	/* an IOAS is no fault queue */
	ASSERT_EQ(-ENOENT, ioasid_ioctl(self->fd, IOASID_NESTED_ALLOC, &na));
	na.fault_id = self->fault_id;
	ASSERT_EQ(0, ioasid_ioctl(self->fd, IOASID_NESTED_ALLOC, &na));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, na.out_nested_id));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, m, LAST, 0, 11, 0x7000));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(id, f[0].dev_id);
	ASSERT_EQ(11, f[0].grpid);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, id, IOASID_PASID_NONE));
	ASSERT_EQ(-ENOENT, respond(self->ffd, f[0].cookie, 0));
	ASSERT_EQ(0, ioasid_destroy(self->fd, na.out_nested_id));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
}

/* epoll wakes on arrival, not before. */
TEST_F(fq, epoll)
{
	struct epoll_event ev = { .events = EPOLLIN }, out;
	struct ioasid_fault f[1];
	int ep = epoll_create1(0);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->ffd, &ev));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0));
	ASSERT_EQ(1, epoll_wait(ep, &out, 1, 1000));
	ASSERT_NE(0, out.events & EPOLLIN);
	ASSERT_EQ(1, read_faults(self->ffd, f, 1));
	ASSERT_EQ(0, epoll_wait(ep, &out, 1, 0));
	close(ep);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

/* The errors of FAULT_QUEUE_ALLOC, IOAS_ALLOC's fault_id and attach. */
TEST_F(fq, errors)
{
	struct ioasid_fault_queue_alloc qa = { .size = sizeof(qa), .flags = 1 };
	struct ioasid_ioas_alloc ia = { .size = sizeof(ia), .fault_id = self->fault_id };
	__u32 m, id, ioas;

	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_FAULT_QUEUE_ALLOC, &qa));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_ioctl(self->fd, IOASID_IOAS_ALLOC, &ia));
	ASSERT_EQ(-ENOENT, ioasid_ioas_alloc_fault(self->fd, self->plain, &ioas));
	ASSERT_EQ(-ENOENT, ioasid_ioas_alloc_fault(self->fd, 0, &ioas));
	/* A device whose IOMMU cannot deliver page requests. */
	ASSERT_EQ(0, mock_dev_add(self->mfd, self->fd, 0, &m, &id));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->plain));
	ASSERT_EQ(-EOPNOTSUPP, ioasid_attach_pasid(self->fd, id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, mock_check_map(self->mfd, m, 0, self->buf, MB, NULL));
	ASSERT_EQ(0, mock_dev_del(self->mfd, m));
	/* Several IOASes may share one queue. */
	ASSERT_EQ(0, ioasid_ioas_alloc_fault(self->fd, self->fault_id, &ioas));
	ASSERT_EQ(0, ioasid_destroy(self->fd, ioas));
}

struct stress {
	int mfd, ffd;
	__u32 m;
	unsigned int n;
	volatile int done;
	unsigned int success, failure, other, dropped;
};

static void stress_drain(struct stress *s)
{
	static struct ioasid_mock_fault_response r[IOASID_MOCK_FAULT_RESPONSES_MAX];
	struct ioasid_mock_fault_responses cmd = {
		.size = sizeof(cmd), .mock_id = s->m,
		.num = IOASID_MOCK_FAULT_RESPONSES_MAX, .uptr = (uintptr_t)r,
	};
	int n, i;

	/*
	 * The injector can outrun this thread by more responses than the
	 * mock keeps (queue-full answers come at once): those are counted,
	 * not recorded, and must count too or the loop never ends.
	 */
	if (ioasid_ioctl(s->mfd, IOASID_MOCK_FAULT_RESPONSES, &cmd)) {
		s->other++;
		return;
	}
	n = cmd.num;
	s->dropped += cmd.out_dropped;
	for (i = 0; i < n; i++) {
		if (r[i].code == 0)
			s->success++;
		else if (r[i].code == 2)
			s->failure++;
		else
			s->other++;
	}
}

static void *stress_responder(void *p)
{
	struct stress *s = p;
	struct ioasid_fault f[64];

	/*
	 * The last requests may all be answered by the core (queue full) and
	 * never become readable: wait for one at most 100 ms, never block in
	 * read(), and count the answers either way.
	 */
	while (s->success + s->failure + s->other + s->dropped < s->n) {
		struct pollfd pfd = { .fd = s->ffd, .events = POLLIN };
		ssize_t n = 0, i;

		if (poll(&pfd, 1, 100) == 1 && (pfd.revents & POLLIN))
			n = read_faults(s->ffd, f, 64);
		for (i = 0; i < n; i++)
			respond(s->ffd, f[i].cookie, 0);
		stress_drain(s);
	}
	return NULL;
}

/* An injector and a reader/responder at once: every request answered. */
TEST_F_TIMEOUT(fq, stress, 120)
{
	struct stress s = { .mfd = self->mfd, .ffd = self->ffd, .m = self->m, .n = 3000 };
	pthread_t t;
	unsigned int i;

	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(0, pthread_create(&t, NULL, stress_responder, &s));
	for (i = 0; i < s.n; i++)
		ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, i % 512, 0));
	ASSERT_EQ(0, pthread_join(t, NULL));
	TH_LOG("%u answered success, %u failure (queue full), %u not kept by the mock",
	       s.success, s.failure, s.dropped);
	ASSERT_EQ(s.n, s.success + s.failure + s.dropped);
	ASSERT_EQ(0, s.other);
	ASSERT_LT(0, s.success);
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
}

struct faulter {
	int mfd, ffd;
	__u32 m;
	volatile bool stop;
	unsigned int rounds, errors;
};

/* Inject a group, read it, answer it, until told to stop. */
static void *faulter_thread(void *p)
{
	struct ioasid_mock_fault_response r[4];
	struct faulter *t = p;
	struct ioasid_fault f[2];

	while (!t->stop) {
		if (mock_fault_inject(t->mfd, t->m, LAST, 0, t->rounds % 512, 0x1000) ||
		    read_faults(t->ffd, f, 2) != 1 ||
		    respond(t->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS) != 8 ||
		    mock_fault_responses(t->mfd, t->m, r, 4) != 1)
			t->errors++;
		t->rounds++;
	}
	return NULL;
}

/*
 * The debugfs view of a context with a fault queue: printed without
 * sleeping under the object table's spinlock, while groups arrive, are read
 * and answered from another thread (the queue's mutex contended).
 */
TEST_F(fq, debugfs_while_faulting)
{
	unsigned long taint = read_long_file("/proc/sys/kernel/tainted");
	struct faulter t = { .mfd = self->mfd, .ffd = self->ffd, .m = self->m };
	struct ioasid_mock_fault_response r[4];
	unsigned int reads = 0;
	struct ioasid_fault f[2];
	pthread_t th;
	time_t end;

	if (access(IOASID_DEBUGFS, R_OK))
		SKIP(return, "no debugfs view (%s)", strerror(errno));
	ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE, self->ioas));
	ASSERT_EQ(1, debugfs_fault_queues(-1));
	ASSERT_EQ(1, debugfs_fault_queues(0));
	/* One group pending: the queue's line says so. */
	ASSERT_EQ(0, mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0x2000));
	ASSERT_EQ(1, debugfs_fault_queues(1));
	ASSERT_EQ(1, read_faults(self->ffd, f, 2));
	ASSERT_EQ(1, debugfs_fault_queues(1));
	ASSERT_EQ(8, respond(self->ffd, f[0].cookie, IOASID_FAULT_RESPONSE_SUCCESS));
	ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 4));
	ASSERT_EQ(1, debugfs_fault_queues(0));

	ASSERT_EQ(0, pthread_create(&th, NULL, faulter_thread, &t));
	end = time(NULL) + 3;
	while (time(NULL) < end) {
		ASSERT_EQ(1, debugfs_fault_queues(-1));
		reads++;
	}
	t.stop = true;
	ASSERT_EQ(0, pthread_join(th, NULL));
	TH_LOG("%u debugfs reads while %u groups went round", reads, t.rounds);
	ASSERT_EQ(0, t.errors);
	ASSERT_LT(0, t.rounds);
	ASSERT_EQ(1, debugfs_fault_queues(0));
	ASSERT_EQ(0, ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE));
	/* No splat on the way: might_sleep and lockdep taint with W (bit 9). */
	ASSERT_EQ(0, (read_long_file("/proc/sys/kernel/tainted") & ~taint) & (1UL << 9));
}

/* Injected allocation failures in queue allocation, attach and delivery. */
TEST_F_TIMEOUT(fq, fail_nth, 300)
{
	struct ioasid_mock_fault_response r[8];
	struct ioasid_fault f[2];
	unsigned int nth, step;
	long pending;

	if (!fail_nth_supported())
		SKIP(return, "no fault injection in this kernel");
	ASSERT_EQ(0, fail_nth_setup());
	for (step = 0; step < 3; step++) {
		TEST_FAIL_NTH(nth, 5000, pending) {
			__u32 id = 0;
			int rc = 0, ffd = -1, n;

			if (step == 2)
				ASSERT_EQ(0, ioasid_attach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE,
						    self->ioas));
			switch (step) {
			case 0:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_fault_queue_alloc(self->fd, &id, &ffd));
				break;
			case 1:
				FAIL_NTH_CALL(nth, pending,
					      rc = ioasid_attach(self->fd, self->dev_id, self->ioas));
				break;
			case 2:
				FAIL_NTH_CALL(nth, pending,
					      rc = mock_fault_inject(self->mfd, self->m, LAST, 0,
								     nth % 512, 0));
				break;
			}
			switch (step) {
			case 0:
				if (rc) {
					ASSERT_TRUE(rc == -ENOMEM || rc == -EMFILE);
				} else {
					close(ffd);
					ASSERT_EQ(0, ioasid_destroy(self->fd, id));
				}
				break;
			case 1:
				if (rc)
					ASSERT_EQ(-ENOMEM, rc);
				/* Attached or not: nothing delivers otherwise. */
				rc = mock_fault_inject(self->mfd, self->m, LAST, 0, 1, 0);
				n = read_faults(self->ffd, f, 2);
				ASSERT_EQ(rc ? 0 : 1, n);
				if (n == 1)
					ASSERT_EQ(8, respond(self->ffd, f[0].cookie, 0));
				break;
			case 2:
				/* Queued, or answered at once by the core. */
				n = read_faults(self->ffd, f, 2);
				if (n == 1)
					ASSERT_EQ(8, respond(self->ffd, f[0].cookie, 0));
				ASSERT_EQ(1, mock_fault_responses(self->mfd, self->m, r, 8));
				break;
			}
			ioasid_detach_pasid(self->fd, self->dev_id, IOASID_PASID_NONE);
			mock_fault_responses(self->mfd, self->m, r, 8);
			ASSERT_FALSE(readable(self->ffd));
		}
		TH_LOG("step %u: %u injection points", step, nth - 1);
	}
}

TEST_HARNESS_MAIN
