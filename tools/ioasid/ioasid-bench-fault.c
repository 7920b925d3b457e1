// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid-bench-fault: the I/O page fault round trip through /dev/ioasid on
 * the mock IOMMU - inject (the mock calls the real
 * iommu_report_device_fault()), read the record from the fault queue,
 * write the response, which reaches the mock's page_response - with 1 and
 * with 64 groups in flight. Prints the median round trip and the rate.
 * Built with IOASID_BENCH_IOMMUFD (make KHDR=... KSRC=...), "iommufd" as
 * the first argument times the same round trip through iommufd's fault
 * queue and its selftest mock instead. Not a test: it never fails on speed.
 *
 *   ioasid-bench-fault [ioasid|iommufd] [rounds]
 */
#include <errno.h>
#include <stdbool.h>
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

#ifdef IOASID_BENCH_IOMMUFD
/*
 * The same round trip through iommufd's fault queue, with its selftest mock
 * (CONFIG_IOMMUFD_TEST): a mock device on a nesting parent, a nested HWPT
 * delivering to a fault queue, IOMMU_TEST_OP_TRIGGER_IOPF as the injector.
 * The mock's devices are taken by VT-d when a vIOMMU is present, so this
 * runs in a VM without one.
 */
#include <linux/iommufd.h>
#include "iommufd_test.h"

static int iommufd_fd, iommufd_ffd;
static __u32 iommufd_dev_id;

static int iommufd_setup(void)
{
	struct iommu_ioas_alloc ia = { .size = sizeof(ia) };
	struct iommu_test_cmd md = { .size = sizeof(md), .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_hwpt_alloc parent = { .size = sizeof(parent),
					   .flags = IOMMU_HWPT_ALLOC_NEST_PARENT };
	struct iommu_fault_alloc fa = { .size = sizeof(fa) };
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc nested = {
		.size = sizeof(nested), .flags = IOMMU_HWPT_FAULT_ID_VALID,
		.data_type = IOMMU_HWPT_DATA_SELFTEST, .data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};
	struct iommu_test_cmd rep = { .size = sizeof(rep),
				      .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE };

	iommufd_fd = open("/dev/iommu", O_RDWR);
	if (iommufd_fd < 0)
		return -errno;
	if (ioctl(iommufd_fd, IOMMU_IOAS_ALLOC, &ia))
		return -errno;
	md.id = ia.out_ioas_id;
	if (ioctl(iommufd_fd, IOMMU_TEST_CMD, &md))
		return -errno;
	iommufd_dev_id = md.mock_domain.out_idev_id;
	parent.dev_id = iommufd_dev_id;
	parent.pt_id = ia.out_ioas_id;
	if (ioctl(iommufd_fd, IOMMU_HWPT_ALLOC, &parent) ||
	    ioctl(iommufd_fd, IOMMU_FAULT_QUEUE_ALLOC, &fa))
		return -errno;
	nested.dev_id = iommufd_dev_id;
	nested.pt_id = parent.out_hwpt_id;
	nested.fault_id = fa.out_fault_id;
	if (ioctl(iommufd_fd, IOMMU_HWPT_ALLOC, &nested))
		return -errno;
	rep.id = md.mock_domain.out_stdev_id;
	rep.mock_domain_replace.pt_id = nested.out_hwpt_id;
	if (ioctl(iommufd_fd, IOMMU_TEST_CMD, &rep))
		return -errno;
	iommufd_ffd = fa.out_fault_fd;
	return 0;
}

static double iommufd_round_trip(unsigned int n)
{
	struct iommu_test_cmd t = {
		.size = sizeof(t), .op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = { .dev_id = iommufd_dev_id, .pasid = 0,
				  .perm = IOMMU_PGFAULT_PERM_READ, .addr = 0x1000 },
	};
	struct iommu_hwpt_pgfault f[INFLIGHT_MAX];
	struct iommu_hwpt_page_response r[INFLIGHT_MAX];
	unsigned int i, got = 0;
	double t0 = now_us();

	for (i = 0; i < n; i++) {
		t.trigger_iopf.grpid = i;
		xioctl(iommufd_fd, IOMMU_TEST_CMD, &t, "IOMMU_TEST_OP_TRIGGER_IOPF");
	}
	while (got < n) {
		ssize_t len = read(iommufd_ffd, f + got, (n - got) * sizeof(f[0]));

		if (len <= 0) {
			fprintf(stderr, "ioasid-bench-fault: iommufd read: %zd\n", len);
			exit(1);
		}
		got += len / sizeof(f[0]);
	}
	for (i = 0; i < n; i++) {
		r[i].cookie = f[i].cookie;
		r[i].code = IOMMUFD_PAGE_RESP_SUCCESS;
	}
	if (write(iommufd_ffd, r, n * sizeof(r[0])) != (ssize_t)(n * sizeof(r[0]))) {
		perror("ioasid-bench-fault: iommufd write");
		exit(1);
	}
	return now_us() - t0;
}
#endif /* IOASID_BENCH_IOMMUFD */

/* One measurement: @rounds groups, @n at a time. */
static void measure(const char *name, double (*one)(unsigned int n),
		    void (*after)(unsigned int n), unsigned int n, unsigned int rounds,
		    double *t)
{
	unsigned int r = n == 1 ? rounds : rounds / n + 1, i;
	double total = 0, min = 1e18;

	for (i = 0; i < r; i++) {
		t[i] = one(n) / n;
		total += t[i] * n;
		if (t[i] < min)
			min = t[i];
		if (after)
			after(n);
	}
	printf("%-8s %-9u | %14.2f %14.2f | %16.0f\n", name, n, median(t, r), min,
	       r * n / (total / 1e6));
}

static int mock_fd, fault_fd;
static __u32 mock_id;

static double ioasid_round_trip(unsigned int n)
{
	return round_trip(mock_fd, fault_fd, mock_id, n);
}

static void ioasid_drain(unsigned int n)
{
	drain(mock_fd, mock_id, n);
}

int main(int argc, char **argv)
{
	bool iommufd = argc > 1 && !strcmp(argv[1], "iommufd");
	unsigned int rounds = argc > 2 ? strtoul(argv[2], NULL, 0) : 2000;
	static const unsigned int inflight[] = { 1, 64 };
	struct ioasid_fault_queue_alloc qa = { .size = sizeof(qa) };
	struct ioasid_ioas_alloc ia = { .size = sizeof(ia),
					.flags = IOASID_IOAS_ALLOC_FAULT };
	struct ioasid_mock_dev_add add = { .size = sizeof(add),
					   .flags = IOASID_MOCK_DEV_IOPF };
	struct ioasid_attach at = { .size = sizeof(at), .pasid = IOASID_PASID_NONE };
	unsigned int k;
	double *t;
	int fd;

	t = calloc(rounds + 1, sizeof(*t));
	if (!t)
		return 1;
	if (iommufd) {
#ifdef IOASID_BENCH_IOMMUFD
		int rc = iommufd_setup();

		if (rc) {
			printf("iommufd: not measured: setup: %s\n", strerror(-rc));
			return 0;
		}
		for (k = 0; k < sizeof(inflight) / sizeof(inflight[0]); k++)
			measure("iommufd", iommufd_round_trip, NULL, inflight[k], rounds, t);
#else
		printf("iommufd: not measured (built without KHDR/KSRC)\n");
#endif
		free(t);
		return 0;
	}

	fd = open("/dev/ioasid", O_RDWR);
	mock_fd = open("/dev/ioasid_mock", O_RDWR);
	if (fd < 0 || mock_fd < 0) {
		printf("ioasid-bench-fault: no /dev/ioasid or mock: skipped\n");
		return 0;
	}
	allow_unsafe_interrupts("1");
	xioctl(fd, IOASID_FAULT_QUEUE_ALLOC, &qa, "FAULT_QUEUE_ALLOC");
	ia.fault_id = qa.out_fault_id;
	xioctl(fd, IOASID_IOAS_ALLOC, &ia, "IOAS_ALLOC");
	add.ioasid_fd = fd;
	xioctl(mock_fd, IOASID_MOCK_DEV_ADD, &add, "MOCK_DEV_ADD");
	at.dev_id = add.out_dev_id;
	at.pt_id = ia.out_ioas_id;
	xioctl(fd, IOASID_ATTACH, &at, "ATTACH");
	fault_fd = qa.out_fault_fd;
	mock_id = add.out_mock_id;

	printf("I/O page fault round trip (inject -> read -> respond), mock IOMMUs, %u groups\n",
	       rounds);
	printf("%-8s %-9s | %14s %14s | %16s\n", "path", "in flight", "median us/grp",
	       "min us/grp", "groups per s");
	for (k = 0; k < sizeof(inflight) / sizeof(inflight[0]); k++)
		measure("ioasid", ioasid_round_trip, ioasid_drain, inflight[k], rounds, t);
	free(t);
	close(mock_fd);
	close(fault_fd);
	close(fd);
	allow_unsafe_interrupts("0");
	return 0;
}
