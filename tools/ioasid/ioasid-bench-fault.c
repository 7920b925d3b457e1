// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-bench-fault: the I/O page fault round trip through /dev/ioasid on
 * the mock IOMMU - inject (the mock calls the real
 * iommu_report_device_fault()), read the record from the fault queue,
 * write the response, which reaches the mock's page_response - with 1 and
 * with 64 groups in flight. Prints the median round trip and the rate.
 * Not a test: it never fails on speed.
 *
 *   ioasid-bench-fault [rounds]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ioasid.h>
#include "ioasid_mock.h"
#include "bench.h"

#define INFLIGHT_MAX	64

static void xioctl(int fd, unsigned long cmd, void *arg, const char *what)
{
	if (ioctl(fd, cmd, arg)) {
		fprintf(stderr, "ioasid-bench-fault: %s: %s\n", what, strerror(errno));
		exit(1);
	}
}

static void inject(int mfd, __u32 mock_id, __u32 grpid)
{
	struct ioasid_mock_fault_inject cmd = {
		.size = sizeof(cmd), .mock_id = mock_id,
		.flags = IOASID_MOCK_FAULT_LAST, .grpid = grpid,
		.perm = IOASID_FAULT_PERM_READ, .addr = 0x1000,
	};

	xioctl(mfd, IOASID_MOCK_FAULT_INJECT, &cmd, "FAULT_INJECT");
}

/* Forget the responses the mock recorded; check they were successes. */
static void drain(int mfd, __u32 mock_id, unsigned int expect)
{
	static struct ioasid_mock_fault_response r[IOASID_MOCK_FAULT_RESPONSES_MAX];
	struct ioasid_mock_fault_responses cmd = {
		.size = sizeof(cmd), .mock_id = mock_id,
		.num = IOASID_MOCK_FAULT_RESPONSES_MAX, .uptr = (uintptr_t)r,
	};
	unsigned int i;

	xioctl(mfd, IOASID_MOCK_FAULT_RESPONSES, &cmd, "FAULT_RESPONSES");
	for (i = 0; i < cmd.num; i++)
		if (r[i].code)
			fprintf(stderr, "ioasid-bench-fault: response %u code %u\n",
				r[i].grpid, r[i].code);
	if (cmd.num != expect || cmd.out_dropped) {
		fprintf(stderr, "ioasid-bench-fault: %u responses, expected %u\n",
			cmd.num, expect);
		exit(1);
	}
}

/* One round of @n groups in flight: inject all, read all, answer all. */
static double round_trip(int mfd, int ffd, __u32 mock_id, unsigned int n)
{
	struct ioasid_fault f[INFLIGHT_MAX];
	struct ioasid_fault_response r[INFLIGHT_MAX];
	unsigned int i, got = 0;
	double t0 = now_us();

	for (i = 0; i < n; i++)
		inject(mfd, mock_id, i);
	while (got < n) {
		ssize_t len = read(ffd, f + got, (INFLIGHT_MAX - got) * sizeof(f[0]));

		if (len <= 0) {
			fprintf(stderr, "ioasid-bench-fault: read: %zd\n", len);
			exit(1);
		}
		got += len / sizeof(f[0]);
	}
	for (i = 0; i < n; i++) {
		r[i].cookie = f[i].cookie;
		r[i].code = IOASID_FAULT_RESPONSE_SUCCESS;
	}
	if (write(ffd, r, n * sizeof(r[0])) != (ssize_t)(n * sizeof(r[0]))) {
		perror("ioasid-bench-fault: write");
		exit(1);
	}
	return now_us() - t0;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? strtoul(argv[1], NULL, 0) : 2000;
	static const unsigned int inflight[] = { 1, 64 };
	struct ioasid_fault_queue_alloc qa = { .size = sizeof(qa) };
	struct ioasid_ioas_alloc ia = { .size = sizeof(ia),
					.flags = IOASID_IOAS_ALLOC_FAULT };
	struct ioasid_mock_dev_add add = { .size = sizeof(add),
					   .flags = IOASID_MOCK_DEV_IOPF };
	struct ioasid_attach at = { .size = sizeof(at), .pasid = IOASID_PASID_NONE };
	unsigned int k, i;
	double *t;
	int fd, mfd;

	fd = open("/dev/ioasid", O_RDWR);
	mfd = open("/dev/ioasid_mock", O_RDWR);
	if (fd < 0 || mfd < 0) {
		printf("ioasid-bench-fault: no /dev/ioasid or mock: skipped\n");
		return 0;
	}
	allow_unsafe_interrupts("1");
	xioctl(fd, IOASID_FAULT_QUEUE_ALLOC, &qa, "FAULT_QUEUE_ALLOC");
	ia.fault_id = qa.out_fault_id;
	xioctl(fd, IOASID_IOAS_ALLOC, &ia, "IOAS_ALLOC");
	add.ioasid_fd = fd;
	xioctl(mfd, IOASID_MOCK_DEV_ADD, &add, "MOCK_DEV_ADD");
	at.dev_id = add.out_dev_id;
	at.pt_id = ia.out_ioas_id;
	xioctl(fd, IOASID_ATTACH, &at, "ATTACH");

	t = calloc(rounds, sizeof(*t));
	if (!t)
		return 1;
	printf("I/O page fault round trip (inject -> read -> respond), mock IOMMU, %u rounds\n",
	       rounds);
	printf("%-9s | %14s %14s | %16s\n", "in flight", "median us/grp", "min us/grp",
	       "groups per s");
	for (k = 0; k < sizeof(inflight) / sizeof(inflight[0]); k++) {
		unsigned int n = inflight[k], r = n == 1 ? rounds : rounds / n + 1;
		double total = 0, min = 1e18;

		for (i = 0; i < r; i++) {
			t[i] = round_trip(mfd, qa.out_fault_fd, add.out_mock_id, n) / n;
			total += t[i] * n;
			if (t[i] < min)
				min = t[i];
			drain(mfd, add.out_mock_id, n);
		}
		printf("%-9u | %14.2f %14.2f | %16.0f\n", n, median(t, r), min,
		       r * n / (total / 1e6));
	}
	printf("iommufd: not measured (its selftest mock needs a VM without the vIOMMU)\n");
	free(t);
	close(mfd);
	close(qa.out_fault_fd);
	close(fd);
	allow_unsafe_interrupts("0");
	return 0;
}
