// SPDX-License-Identifier: GPL-2.0
/*
 * Differential test of ioasid_vfio's type1 compatibility against VFIO's own
 * vfio_iommu_type1, in one boot: every sequence of the table below runs on
 * a fresh container twice, once served by type1 (ioasid_vfio's
 * type1_compat=N) and once by ioasid_vfio (type1_compat=Y), and every
 * return value, errno and returned size, GET_INFO field and capability,
 * CHECK_EXTENSION answer and mdev pin/rw result is recorded as a row of
 * "key: value". After each sequence the edu DMA device writes a marker to
 * a few IOVAs and the rows say where in the test's memory it landed, or
 * that the IOMMU blocked it. The two tables of rows must be identical but
 * for the deliberate differences listed in deliberate[] (their reasons are
 * the DOC section below, which Documentation/userspace-api/ioasid.rst
 * pulls in). A difference prints both rows; a sequence with one fails.
 *
 * The whole table runs for each container type type1 offers: the fixture
 * variants are VFIO_TYPE1_IOMMU (v1, type1's coalescing-era unmap rules)
 * and VFIO_TYPE1v2_IOMMU. Which backend served a container is checked
 * after each VFIO_SET_IOMMU with CHECK_EXTENSION(VFIO_IOASID_IOMMU), 1 only
 * on ioasid_vfio: a container ioasid_vfio did not take in its run is a
 * difference ("backend"), one it took in type1's run fails the test.
 *
 * /init loads vfio_iommu_type1 before ioasid_vfio (VFIO asks the newest
 * backend first), binds the edu devices to vfio-pci and loads ioasid_mdev,
 * whose emulated-IOMMU device the mdev sequences drive. The fixture puts
 * type1_compat and the dma_entry_limit parameters back as it found them.
 */
#include <dirent.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <sys/mman.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/ioasid_vfio.h>

#include "kselftest_harness.h"
#include "ioasid_utils.h"
#include "ioasid_mdev.h"
#include "edu.h"

#define PSZ		4096UL
#define NPAGES		64		/* the memory the sequences map from */
#define MAX_STEPS	24
#define MAX_PROBES	6
#define MAX_ROWS	192
#define ENTRY_LIMIT	8		/* dma_entry_limit of the DMA_AVAIL sequence */
#define EXT_MAX		16		/* CHECK_EXTENSION 0..EXT_MAX */

#define PCI_SYSFS	"/sys/bus/pci"
#define TYPE1_MOD	"/sys/module/vfio_iommu_type1"
#define IOASID_VFIO	"/sys/module/ioasid_vfio"
#define TYPE1_COMPAT	IOASID_VFIO "/parameters/type1_compat"
#define TYPE1_LIMIT	TYPE1_MOD "/parameters/dma_entry_limit"
#define IOASID_LIMIT	IOASID_VFIO "/parameters/dma_entry_limit"
#define MDEV_TYPES	"/sys/class/mdev_bus/" IOASID_MDEV_PARENT "/mdev_supported_types"
#define MDEV_UUID	"83b8f4f2-509f-382f-3c1e-e6bfe0fa1002"

/* A control mapping no sequence touches: it loads the edu's marker. */
#define CTRL_IOVA	0xff00000ULL
#define MARKER_LEN	64
#define UNTOUCHED	0xa5

/* The IOVAs the sequences use (all below the edu's 28-bit DMA limit). */
#define A		0x100000ULL
#define B		(A + 4 * PSZ)		/* right after a 4-page A */
#define C		(A + 0x10000)

/**
 * DOC: deliberate differences from vfio_iommu_type1
 *
 * The ``vfio_diff`` selftest runs the same ioctl sequences on a container
 * served by ``vfio_iommu_type1`` and on one served by ``ioasid_vfio`` and
 * fails on any difference in return values, errnos, returned sizes,
 * ``VFIO_IOMMU_GET_INFO`` contents, ``VFIO_CHECK_EXTENSION`` answers, mdev
 * pin/rw results or in what the edu device's DMA reaches afterwards --
 * except these, each an entry of the test's ``deliberate[]`` table by the
 * tag in brackets (the last two are not rows the test can compare):
 *
 * - [charge_once] the same memory mapped twice (at two IOVAs of a
 *   container, or into two containers of one process): type1 charges
 *   ``locked_vm`` for each mapping, ioasid once (see *pins are charged
 *   once per process* above), so a second map that type1 refuses with
 *   ``ENOMEM`` over ``RLIMIT_MEMLOCK`` succeeds. A VM with several
 *   containers needs its memory limit once, not once per container.
 * - [pin_at_map] memory is pinned at map time even in a container with no
 *   IOMMU domain (only emulated-IOMMU devices; type1 pins there only when
 *   an mdev pins): a bad user address is ``EFAULT`` at once, not when a
 *   device first touches it, and the mapping is charged from the start.
 * - [migration] ``VFIO_IOMMU_GET_INFO``: type1 reports a
 *   ``VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION`` capability, ioasid none (so the
 *   size a short ``argsz`` is raised to is smaller by that capability's 32
 *   bytes). ioasid has no dirty page tracking yet; reporting the capability
 *   would invite a VMM to start a migration that cannot work.
 * - [dirty] ``VFIO_IOMMU_DIRTY_PAGES``: type1 starts, stops and reports
 *   dirty tracking (``EACCES`` on v1 containers), ioasid answers
 *   ``ENOTTY``, the answer for an ioctl the backend does not have. Same
 *   reason.
 * - [update_vaddr] ``VFIO_UPDATE_VADDR``: type1 answers
 *   ``VFIO_CHECK_EXTENSION`` with 1 (without mdev devices) and honours
 *   ``VFIO_DMA_MAP_FLAG_VADDR`` and ``VFIO_DMA_UNMAP_FLAG_VADDR``; ioasid
 *   answers 0 and refuses the flags with ``EINVAL``. Updating the virtual
 *   address of a pinned mapping belongs to live update, which ioasid does
 *   not offer yet; type1's implementation lets a device DMA to pages
 *   the process no longer maps, with nothing accounted.
 * - [nesting] ``VFIO_CHECK_EXTENSION(VFIO_TYPE1_NESTING_IOMMU)``: type1
 *   answers 1 in every container, ioasid 0 and never serves the type. No
 *   6.12 x86 IOMMU driver implements ``iommu_enable_nesting()``, so type1
 *   fails such a container when a group joins it; upstream removed the type
 *   in 6.13. Hardware nesting is ``IOASID_NESTED_ALLOC`` on /dev/ioasid.
 * - [unmap_notice] an unmap of pinned memory: type1 calls an mdev driver's
 *   ``dma_unmap`` once for each mapping that holds pins, with the range of
 *   that mapping; ioasid once for the unmap, with the range unmapped. Both
 *   call it before the unmap returns, for every unmap that removes a pin,
 *   and only then, and both ranges cover every pin removed, which is all a
 *   driver may rely on (it unpins what it pinned in the range): ioasid
 *   tracks pins per device access, not per mapping. The pins left after
 *   every step must be the same.
 * - an unmap of a range an mdev driver keeps pinned fails with ``EBUSY``
 *   after ``access_unmap_timeout_ms``; type1 asks again and again, then
 *   crashes the kernel (``BUG_ON`` after 10 retries).
 * - MSI isolation is checked against ioasid's ``allow_unsafe_interrupts``,
 *   not type1's parameter of the same name, and devices whose IOMMU cannot
 *   enforce cache coherency are refused.
 */

/* What the deliberate differences allow, by the tag of the DOC list above. */
struct deliberate {
	const char *seq;	/* glob of sequence names */
	const char *key;	/* glob of row keys */
	const char *type1;	/* glob of type1's value; NULL: see @rel */
	const char *ioasid;	/* glob of ioasid's value */
	/* a relation between the two values, instead of the globs */
	bool (*rel)(const char *type1, const char *ioasid);
	const char *tag;
};

/* ioasid's GET_INFO needs type1's size minus the migration capability. */
static bool argsz_without_migration(const char *type1, const char *ioasid)
{
	char *end1, *end2;
	unsigned long t = strtoul(type1, &end1, 0), i = strtoul(ioasid, &end2, 0);

	return !*end1 && !*end2 &&
	       t == i + sizeof(struct vfio_iommu_type1_info_cap_migration);
}

/* ioasid charged no more than type1 (VmLck growth, in kB). */
static bool charged_no_more(const char *type1, const char *ioasid)
{
	char *end1, *end2;
	long t = strtol(type1, &end1, 10), i = strtol(ioasid, &end2, 10);

	return *type1 && *ioasid && !*end1 && !*end2 && i >= 0 && i <= t;
}

/* Both backends called the mdev's dma_unmap, or neither did. */
static bool notified_alike(const char *type1, const char *ioasid)
{
	unsigned int c1 = ~0U, c2 = ~0U;

	return sscanf(type1, "calls=%u", &c1) == 1 && sscanf(ioasid, "calls=%u", &c2) == 1 &&
	       !c1 == !c2;
}

static const struct deliberate deliberate[] = {
	{ "*", "*.info.cap.migration", "v1 *", "absent", NULL, "migration" },
	{ "*", "*.info.argsz", NULL, NULL, argsz_without_migration, "migration" },
	{ "*", "*.dirty", "*", "ENOTTY", NULL, "dirty" },
	{ "*", "*.ext.10", "1", "0", NULL, "update_vaddr" },
	{ "*", "*.map_vaddr", "*", "EINVAL", NULL, "update_vaddr" },
	{ "*", "*.unmap_vaddr", "*", "EINVAL *", NULL, "update_vaddr" },
	{ "*", "*.ext.6", "1", "0", NULL, "nesting" },
	{ "*", "*.notice", NULL, NULL, notified_alike, "unmap_notice" },
	{ "*", "*.vmlck", NULL, NULL, charged_no_more, "charge_once" },
	{ "mdev_*", "*.map", "0", "EFAULT", NULL, "pin_at_map" },
	{ "mdev_no_map", "*.vmlck", "0", "*", NULL, "pin_at_map" },
};

/* ---- the table of sequences ---- */

enum op {
	OP_END,
	OP_MAP,		/* VFIO_IOMMU_MAP_DMA: iova, size, page/off or vaddr, flags, argsz */
	OP_UNMAP,	/* VFIO_IOMMU_UNMAP_DMA: iova, size, flags, argsz */
	OP_INFO,	/* VFIO_IOMMU_GET_INFO: argsz */
	OP_EXT,		/* VFIO_CHECK_EXTENSION of every number 0..EXT_MAX */
	OP_DIRTY,	/* VFIO_IOMMU_DIRTY_PAGES: flags */
	OP_OPEN_DEV,	/* open the device now (else before the first step) */
	OP_PIN,		/* mdev: pin iova, size pages, argsz bytes copied, flags */
	OP_UNPIN,	/* mdev: unpin iova, size pages */
	OP_RW,		/* mdev: vfio_dma_rw() of size bytes at iova, flags */
	OP_VMLCK,	/* VmLck now minus before the container, in kB */
};

struct step {
	enum op op;
	__u64 iova;
	__u64 size;
	__u32 flags;
	__u32 argsz;	/* 0: the structure's size */
	int page;	/* MAP: vaddr = the test memory + page * PSZ + off */
	long off;
	__u64 vaddr;	/* MAP: with @abs, this vaddr instead */
	bool abs;
};

#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define MAP(i, n, p)	{ .op = OP_MAP, .iova = (i), .size = (n) * PSZ, .flags = RW, .page = (p) }
#define MAPX(i, s, p, o, f, a) \
	{ .op = OP_MAP, .iova = (i), .size = (s), .page = (p), .off = (o), .flags = (f), .argsz = (a) }
#define MAPV(i, s, v)	{ .op = OP_MAP, .iova = (i), .size = (s), .flags = RW, .vaddr = (v), .abs = true }
#define UNMAP(i, s)	{ .op = OP_UNMAP, .iova = (i), .size = (s) }
#define UNMAPX(i, s, f, a) { .op = OP_UNMAP, .iova = (i), .size = (s), .flags = (f), .argsz = (a) }
#define UNMAP_ALL	UNMAPX(0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0)
#define INFO(a)		{ .op = OP_INFO, .argsz = (a) }
#define EXT		{ .op = OP_EXT }
#define DIRTY(f, a)	{ .op = OP_DIRTY, .flags = (f), .argsz = (a) }
#define OPEN_DEV	{ .op = OP_OPEN_DEV }
#define VMLCK		{ .op = OP_VMLCK }
#define PIN(i, n, len, f) { .op = OP_PIN, .iova = (i), .size = (n), .argsz = (len), .flags = (f) }
#define UNPIN(i, n)	{ .op = OP_UNPIN, .iova = (i), .size = (n) }
#define RWD(i, len, f)	{ .op = OP_RW, .iova = (i), .size = (len), .flags = (f) }

enum dev_kind { DEV_EDU, DEV_MDEV };

struct seq {
	const char *name;
	enum dev_kind dev;
	__u32 type;		/* a container type for both variants (0: the variant's) */
	bool pre_ext;		/* CHECK_EXTENSION 0..EXT_MAX before VFIO_SET_IOMMU too */
	bool limit;		/* dma_entry_limit=ENTRY_LIMIT while the container opens */
	bool unpins_in_unmap;	/* type1 v2 calls dma_unmap and the mdev unpins */
	struct step steps[MAX_STEPS];
	__u64 probes[MAX_PROBES];	/* edu: IOVAs written after the steps (0 ends) */
};

/* A sequence's edu probes: IOVA 0 is written as ~0 (never a real probe). */
#define IOVA0	(~0ULL)

static const struct seq seq_map_unmap = {
	.name = "map_unmap",
	.steps = { MAP(A, 4, 0), INFO(4096), UNMAP(A, 4 * PSZ), UNMAP(A, 4 * PSZ),
		   MAP(A, 4, 4), MAP(C, 2, 8) },
	.probes = { A, A + 3 * PSZ, A + 4 * PSZ, C + PSZ },
};

static const struct seq seq_overlap = {
	.name = "overlap",
	.steps = { MAP(A, 4, 0), MAP(A + 2 * PSZ, 4, 8), MAP(A, 4, 8), MAP(A - PSZ, 2, 12),
		   MAP(A + PSZ, 1, 16), MAP(A - 2 * PSZ, 2, 12), MAP(B, 2, 14),
		   MAP(A - 8 * PSZ, 16, 20) },
	.probes = { A - 2 * PSZ, A + PSZ, B + PSZ, B + 2 * PSZ },
};

/* type1 v1: an unmap that starts inside a mapping unmaps nothing. */
static const struct seq seq_unmap_cut_start = {
	.name = "unmap_cut_start",
	.steps = { MAP(A, 4, 0), UNMAP(A + PSZ, 2 * PSZ), UNMAP(A + PSZ, 3 * PSZ),
		   UNMAP(A + PSZ, 8 * PSZ) },
	.probes = { A, A + PSZ, A + 3 * PSZ },
};

/* type1 v1: mappings that start in the range go whole, even past its end. */
static const struct seq seq_unmap_cut_end = {
	.name = "unmap_cut_end",
	.steps = { MAP(A, 4, 0), MAP(B, 4, 4), UNMAP(A, 5 * PSZ), UNMAP(A, 2 * PSZ) },
	.probes = { A, A + 3 * PSZ, B, B + 3 * PSZ },
};

/* type1 v1: a range starting inside the first mapping stops right there. */
static const struct seq seq_unmap_span = {
	.name = "unmap_span",
	.steps = { MAP(A, 4, 0), MAP(C, 2, 8), UNMAP(A + 2 * PSZ, 0x20000),
		   UNMAP(A + 0x8000, 0x10000), UNMAP(A, 0x20000) },
	.probes = { A, C },
};

static const struct seq seq_unmap_unmapped = {
	.name = "unmap_unmapped",
	.steps = { UNMAP(A, 4 * PSZ), MAP(C, 2, 8), UNMAP(A, 4 * PSZ), UNMAP(C + 2 * PSZ, PSZ),
		   UNMAP(C - PSZ, PSZ), UNMAP(1ULL << 40, PSZ) },
	.probes = { C, C + PSZ },
};

static const struct seq seq_unmap_all = {
	.name = "unmap_all",
	.steps = { MAP(A, 4, 0), MAP(B, 4, 4), MAP(C, 2, 8), UNMAP_ALL, UNMAP_ALL,
		   MAP(A, 4, 0), UNMAPX(A, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0),
		   UNMAPX(0, 4 * PSZ, VFIO_DMA_UNMAP_FLAG_ALL, 0), UNMAPX(0, 0, 0, 0),
		   MAP(C, 2, 8) },
	.probes = { A, B, C },
};

static const struct seq seq_bad_flags = {
	.name = "bad_flags",
	.steps = { MAPX(A, 4 * PSZ, 0, 0, 0, 0), MAPX(A, 4 * PSZ, 0, 0, RW | 0x80, 0),
		   MAPX(A, 4 * PSZ, 0, 0, RW | 0x80000000, 0),
		   MAPX(A, 4 * PSZ, 0, 0, VFIO_DMA_MAP_FLAG_READ, 0),
		   MAPX(B, 4 * PSZ, 4, 0, VFIO_DMA_MAP_FLAG_WRITE, 0),
		   MAPX(C, 2 * PSZ, 8, 0, RW, 8), MAPX(C, 2 * PSZ, 8, 0, RW, 31),
		   MAPX(C, 2 * PSZ, 8, 0, RW, 64),
		   UNMAPX(C, 2 * PSZ, 0x80, 0), UNMAPX(C, 2 * PSZ, 0x80000000, 0),
		   UNMAPX(C, 2 * PSZ, 0, 8), UNMAPX(C, 2 * PSZ, 0, 23) },
	.probes = { A, B, C },
};

static const struct seq seq_zero_sizes = {
	.name = "zero_sizes",
	.steps = { MAP(A, 0, 0), MAPX(A, 0x800, 0, 0, RW, 0), MAPX(A + 0x800, PSZ, 0, 0, RW, 0),
		   MAPX(A, PSZ, 0, 0x800, RW, 0), MAPX(A, 5 * PSZ + 0x10, 0, 0, RW, 0),
		   MAP(A, 4, 0), UNMAP(A, 0), UNMAP(A, 0x800), UNMAP(A + 0x800, PSZ),
		   UNMAP(A, 4 * PSZ - 1), UNMAP(A + 4 * PSZ, 0) },
	.probes = { A, A + 3 * PSZ },
};

static const struct seq seq_wrapping = {
	.name = "wrapping",
	.steps = { MAP(~0ULL - PSZ + 1, 2, 0), MAP(~0ULL - 2 * PSZ + 1, 2, 0),
		   MAPV(A, 2 * PSZ, ~0ULL - PSZ + 1), MAPV(A, 2 * PSZ, 0),
		   UNMAP(~0ULL - PSZ + 1, 2 * PSZ), UNMAP(~0ULL - 2 * PSZ + 1, 2 * PSZ),
		   UNMAP(PSZ, ~0ULL - PSZ + 1), UNMAP(A, ~0ULL - A - PSZ + 1),
		   MAP(A, 4, 0), UNMAP(A, ~0ULL - PSZ + 1) },
	.probes = { A, A + PSZ },
};

static const struct seq seq_out_of_range = {
	.name = "out_of_range",
	.steps = { MAP(1ULL << 47, 1, 0), MAP(1ULL << 48, 1, 1), MAP((1ULL << 48) - PSZ, 1, 2),
		   MAP((1ULL << 48) - PSZ, 2, 10), MAP(1ULL << 52, 1, 12), MAP(1ULL << 63, 1, 13),
		   MAP(0xfee00000ULL, 1, 3), MAP(0xfedff000ULL, 2, 4), MAP(0xfeeff000ULL, 2, 6),
		   MAP(0, 1, 8), MAP(0xfed00000ULL, 1, 9), UNMAP(1ULL << 48, PSZ),
		   UNMAP(0xfee00000ULL, PSZ), INFO(4096) },
	.probes = { IOVA0, PSZ },
};

static const struct seq seq_get_info = {
	.name = "get_info",
	.steps = { INFO(8), INFO(15), INFO(16), INFO(20), INFO(24), INFO(32), INFO(4096),
		   MAP(A, 4, 0), INFO(24), INFO(4096) },
	.probes = { A },
};

static const struct seq seq_extensions = {
	.name = "extensions",
	.pre_ext = true,
	.steps = { EXT, MAP(A, 4, 0), EXT },
	.probes = { A },
};

static const struct seq seq_dma_avail = {
	.name = "dma_avail",
	.limit = true,
	.steps = { INFO(4096), MAP(A, 1, 0), MAP(A + PSZ, 1, 1), INFO(4096),
		   MAP(A + 2 * PSZ, 1, 2), MAP(A + 3 * PSZ, 1, 3), MAP(A + 4 * PSZ, 1, 4),
		   MAP(A + 5 * PSZ, 1, 5), MAP(A + 6 * PSZ, 1, 6), MAP(A + 7 * PSZ, 1, 7),
		   INFO(4096), MAP(A + 8 * PSZ, 1, 8), MAP(A + 0, 1, 8),
		   UNMAP(A + 3 * PSZ, PSZ), INFO(4096), MAP(A + 8 * PSZ, 1, 8),
		   MAP(A + 9 * PSZ, 1, 9), UNMAP(A, 3 * PSZ), INFO(4096), UNMAP_ALL, INFO(4096) },
	.probes = { A + 3 * PSZ, A + 8 * PSZ, A + 9 * PSZ },
};

static const struct seq seq_vaddr = {
	.name = "vaddr",
	.steps = { MAP(A, 4, 0), MAPX(B, 4 * PSZ, 4, 0, VFIO_DMA_MAP_FLAG_VADDR, 0),
		   MAPX(A, 4 * PSZ, 8, 0, VFIO_DMA_MAP_FLAG_VADDR, 0),
		   UNMAPX(A, 4 * PSZ, VFIO_DMA_UNMAP_FLAG_VADDR, 0),
		   MAPX(A, 4 * PSZ, 0, 0, VFIO_DMA_MAP_FLAG_VADDR, 0) },
	.probes = { A, A + 3 * PSZ },
};

static const struct seq seq_dirty = {
	.name = "dirty",
	.steps = { MAP(A, 4, 0), DIRTY(VFIO_IOMMU_DIRTY_PAGES_FLAG_START, 0),
		   DIRTY(VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP, 0), DIRTY(0, 0),
		   UNMAPX(A, 4 * PSZ, VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, 0) },
	.probes = { A },
};

/* Mapped before the device opens: replayed into its domain. */
static const struct seq seq_late_device = {
	.name = "late_device",
	.steps = { MAP(A, 4, 0), MAP(B, 4, 4), UNMAP(B, 4 * PSZ), MAP(C, 2, 8), OPEN_DEV,
		   UNMAP(C, 2 * PSZ) },
	.probes = { A, B, C },
};

/* The same pages at two IOVAs: charged twice by type1 [charge_once]. */
static const struct seq seq_same_pages = {
	.name = "same_pages",
	.steps = { VMLCK, MAP(A, 4, 0), VMLCK, MAP(C, 4, 0), VMLCK, MAP(B, 2, 2), VMLCK,
		   UNMAP(A, 4 * PSZ), VMLCK, UNMAP_ALL, VMLCK },
	.probes = { A, C + 3 * PSZ },
};

static const struct seq seq_nesting_type = {
	.name = "nesting_type",
	.type = VFIO_TYPE1_NESTING_IOMMU,
	.steps = { MAP(A, 4, 0) },
	.probes = { A },
};

/* ---- mdev: an emulated-IOMMU device pins and reads by IOVA ---- */

static const struct seq seq_mdev_pin_rw = {
	.name = "mdev_pin_rw",
	.dev = DEV_MDEV,
	.unpins_in_unmap = true,
	.steps = { MAP(A, 4, 0), PIN(A + PSZ + 40, 2, 200, 0),
		   PIN(A + 3 * PSZ, 1, 100, IOASID_MDEV_WRITE), UNPIN(A + 3 * PSZ, 1),
		   RWD(A + 2 * PSZ - 50, 100, 0), RWD(A + 2 * PSZ - 50, 100, IOASID_MDEV_WRITE),
		   PIN(A + 4 * PSZ, 1, 0, 0), RWD(A + 4 * PSZ - 8, 16, 0), PIN(A + 3 * PSZ, 2, 0, 0),
		   UNMAP(A, 4 * PSZ), RWD(A, 16, 0), PIN(A, 1, 16, 0),
		   MAPX(C, 2 * PSZ, 8, 0, VFIO_DMA_MAP_FLAG_READ, 0), PIN(C, 1, 16, 0),
		   PIN(C + PSZ, 1, 16, IOASID_MDEV_WRITE), RWD(C, 16, 0),
		   RWD(C, 16, IOASID_MDEV_WRITE), UNMAP_ALL },
};

static const struct seq seq_mdev_no_map = {
	.name = "mdev_no_map",
	.dev = DEV_MDEV,
	.steps = { PIN(A, 1, 16, 0), RWD(A, 16, 0), INFO(4096), INFO(16), EXT,
		   UNMAP(A, 4 * PSZ), UNMAP_ALL, MAP(A, 2, 0), VMLCK, UNMAP_ALL,
		   MAPV(A, 2 * PSZ, 0) },
};

static const struct seq seq_mdev_unmap = {
	.name = "mdev_unmap",
	.dev = DEV_MDEV,
	.unpins_in_unmap = true,
	.steps = { MAP(A, 4, 0), MAP(B, 2, 4), PIN(A + PSZ, 1, 16, 0), UNMAP(A + PSZ, PSZ),
		   UNMAP(A, 5 * PSZ), UNMAP(A, 4 * PSZ), PIN(B, 1, 16, 0), MAP(A, 4, 0),
		   PIN(A + 2 * PSZ, 2, 16, 0), UNMAP_ALL, RWD(B, 16, 0) },
};

/* ---- recording ---- */

struct row {
	char key[40];
	char val[200];
};

struct rows {
	int n;
	struct row r[MAX_ROWS];
};

static void rec(struct rows *t, const char *key, const char *fmt, ...)
{
	struct row *r;
	va_list ap;

	if (t->n >= MAX_ROWS)
		return;
	r = &t->r[t->n++];
	snprintf(r->key, sizeof(r->key), "%s", key);
	va_start(ap, fmt);
	vsnprintf(r->val, sizeof(r->val), fmt, ap);
	va_end(ap);
}

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case ENODEV: return "ENODEV";
	case EINVAL: return "EINVAL";
	case ENOSPC: return "ENOSPC";
	case ENOTTY: return "ENOTTY";
	case ERANGE: return "ERANGE";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EADDRINUSE: return "EADDRINUSE";
	case ETIMEDOUT: return "ETIMEDOUT";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* ---- one run of a sequence on one backend ---- */

enum backend { BE_TYPE1, BE_IOASID };
static const char *const be_name[] = { "type1", "ioasid" };

struct run {
	int container, group, dev;
	void *bar;
	size_t bar_size;
	unsigned char *mem;	/* NPAGES the steps map from */
	unsigned char *ctrl;	/* the control page, holding the marker */
	bool backend_ok;	/* the container went where this run asked */
	bool dev_open;
	long vmlck;		/* VmLck before the container, kB */
	const char *fail;	/* setup that failed, for the log */
	struct rows rows;
};

FIXTURE(diff) {
	char bdf[32];		/* the edu, bound to vfio-pci */
	int edu_group;
	int mdev_group;		/* -1: no ioasid_mdev */
	char compat[4], limit1[16], limit2[16];
	bool mdev_created;
	struct run run[2];
};

FIXTURE_VARIANT(diff) {
	__u32 type;
};

FIXTURE_VARIANT_ADD(diff, v1) {
	.type = VFIO_TYPE1_IOMMU,
};

FIXTURE_VARIANT_ADD(diff, v2) {
	.type = VFIO_TYPE1v2_IOMMU,
};

static int read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return 0;
}

static int link_number(const char *path)
{
	char target[256], *p;
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = 0;
	p = strrchr(target, '/');
	return atoi(p ? p + 1 : target);
}

static bool is_edu_on_root_bus(const char *bdf)
{
	char path[PATH_MAX], real[PATH_MAX], drv[PATH_MAX], *p;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/vendor", bdf);
	if (read_long_file(path) != EDU_VENDOR)
		return false;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/device", bdf);
	if (read_long_file(path) != EDU_DEVICE)
		return false;
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/driver", bdf);
	n = readlink(path, drv, sizeof(drv) - 1);
	if (n < 0)
		return false;
	drv[n] = 0;
	p = strrchr(drv, '/');
	if (!p || strcmp(p + 1, "vfio-pci"))
		return false;
	/* Not the hot-pluggable one behind a root port (vfio_edu's). */
	snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s", bdf);
	if (!realpath(path, real))
		return false;
	p = strrchr(real, '/');
	if (!p)
		return false;
	*p = 0;
	p = strrchr(real, '/');
	return p && !strncmp(p + 1, "pci", 3);
}

/* The first edu on the root bus bound to vfio-pci, in bus order. */
static int edu_find_one(char *bdf, size_t len)
{
	struct dirent **ents;
	int i, n, found = 0;

	n = scandir(PCI_SYSFS "/devices", &ents, NULL, alphasort);
	for (i = 0; i < n; i++) {
		if (!found && ents[i]->d_name[0] != '.' && is_edu_on_root_bus(ents[i]->d_name)) {
			snprintf(bdf, len, "%.31s", ents[i]->d_name);
			found = 1;
		}
		free(ents[i]);
	}
	if (n >= 0)
		free(ents);
	return found ? 0 : -ENODEV;
}

static int vfio_cmd(int fd, unsigned long cmd, void *arg)
{
	int rc = ioctl(fd, cmd, arg);

	return rc < 0 ? -errno : rc;
}

/*
 * Memory whose bytes tell where an mdev read came from: 32-bit words all
 * different, so a few bytes of it are found at one offset only.
 */
static void mem_fill(unsigned char *mem)
{
	__u32 *w = (__u32 *)mem;
	size_t i;

	for (i = 0; i < NPAGES * PSZ / 4; i++)
		w[i] = (__u32)(i + 1) * 2654435761u;
}

/* Where @len bytes at @data are in the test memory: "mem+0x..." or "nowhere". */
static void mem_where(const unsigned char *mem, const void *data, size_t len,
		      char *out, size_t outlen)
{
	const unsigned char *p = memmem(mem, NPAGES * PSZ, data, len);

	if (p)
		snprintf(out, outlen, "mem+%#lx", (unsigned long)(p - mem));
	else
		snprintf(out, outlen, "nowhere");
}

/* The device's config space: memory decoding and bus mastering on. */
static int edu_enable(struct run *r)
{
	struct vfio_region_info reg = { .argsz = sizeof(reg) };
	__u16 cmd;
	void *p;
	int rc;

	reg.index = VFIO_PCI_CONFIG_REGION_INDEX;
	rc = vfio_cmd(r->dev, VFIO_DEVICE_GET_REGION_INFO, &reg);
	if (rc)
		return rc;
	if (pread(r->dev, &cmd, sizeof(cmd), reg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(r->dev, &cmd, sizeof(cmd), reg.offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	memset(&reg, 0, sizeof(reg));
	reg.argsz = sizeof(reg);
	reg.index = VFIO_PCI_BAR0_REGION_INDEX;
	rc = vfio_cmd(r->dev, VFIO_DEVICE_GET_REGION_INFO, &reg);
	if (rc)
		return rc;
	if (!(reg.flags & VFIO_REGION_INFO_FLAG_MMAP) || reg.size < EDU_DMA_CMD + 8)
		return -EOPNOTSUPP;
	p = mmap(NULL, reg.size, PROT_READ | PROT_WRITE, MAP_SHARED, r->dev, reg.offset);
	if (p == MAP_FAILED)
		return -errno;
	r->bar = p;
	r->bar_size = reg.size;
	return 0;
}

static int ctrl_map(struct run *r, bool map)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW, .vaddr = (uintptr_t)r->ctrl,
		.iova = CTRL_IOVA, .size = PSZ,
	};
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = CTRL_IOVA, .size = PSZ,
	};
	int rc;

	if (map)
		return vfio_cmd(r->container, VFIO_IOMMU_MAP_DMA, &m);
	rc = vfio_cmd(r->container, VFIO_IOMMU_UNMAP_DMA, &u);
	return rc ?: u.size == PSZ ? 0 : -EIO;
}

/*
 * Open the device of the run; an edu is enabled and gets the marker in its
 * internal buffer, through the control mapping (gone again afterwards).
 */
static int run_open_dev(struct run *r, struct _test_data_diff *self, const struct seq *s)
{
	int rc;

	r->dev_open = true;
	if (s->dev == DEV_MDEV) {
		r->dev = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, MDEV_UUID);
		rec(&r->rows, "device", "%s", r->dev < 0 ? errname(errno) : "open");
		return r->dev < 0 ? -errno : 0;
	}
	r->dev = ioctl(r->group, VFIO_GROUP_GET_DEVICE_FD, self->bdf);
	rec(&r->rows, "device", "%s", r->dev < 0 ? errname(errno) : "open");
	if (r->dev < 0)
		return -errno;
	r->fail = "edu: enable, map BAR0";
	rc = edu_enable(r);
	if (rc)
		return rc;
	r->fail = "edu: load the marker through the control mapping";
	rc = ctrl_map(r, true);
	if (rc)
		return rc;
	rc = edu_dma(r->bar, CTRL_IOVA, EDU_BUF, MARKER_LEN, false);
	if (!rc)
		rc = ctrl_map(r, false);
	if (!rc)
		r->fail = NULL;
	return rc;
}

static void run_close(struct run *r)
{
	if (r->bar)
		munmap(r->bar, r->bar_size);
	if (r->dev >= 0)
		close(r->dev);
	if (r->group >= 0)
		close(r->group);
	if (r->container >= 0)
		close(r->container);
	if (r->mem)
		munmap(r->mem, NPAGES * PSZ);
	if (r->ctrl)
		munmap(r->ctrl, PSZ);
	r->bar = NULL;
	r->mem = r->ctrl = NULL;
	r->dev = r->group = r->container = -1;
}

static void fmt_rc(char *buf, size_t len, int rc)
{
	if (rc < 0)
		snprintf(buf, len, "%s", errname(-rc));
	else
		snprintf(buf, len, "%d", rc);
}

static void step_map(struct run *r, const struct step *st, const char *key)
{
	union {
		struct vfio_iommu_type1_dma_map m;
		char bytes[64];
	} u;
	char k[40];
	int rc;

	memset(&u, 0, sizeof(u));
	u.m.argsz = st->argsz ?: sizeof(u.m);
	u.m.flags = st->flags;
	u.m.vaddr = st->abs ? st->vaddr : (uintptr_t)(r->mem + st->page * PSZ + st->off);
	u.m.iova = st->iova;
	u.m.size = st->size;
	rc = vfio_cmd(r->container, VFIO_IOMMU_MAP_DMA, &u);
	snprintf(k, sizeof(k), "%s%s", key, st->flags & VFIO_DMA_MAP_FLAG_VADDR ? "_vaddr" : "");
	rec(&r->rows, k, "%s", rc < 0 ? errname(-rc) : "0");
}

/*
 * The mdev's pins, and after an unmap the dma_unmap calls it got so far
 * and the range of the last (see [unmap_notice]).
 */
static void mdev_state_row(struct run *r, const char *key, bool unmap)
{
	struct ioasid_mdev_cmd cmd;
	char k[48];

	snprintf(k, sizeof(k), "%s.pins", key);
	memset(&cmd, 0, sizeof(cmd));
	if (pread(r->dev, &cmd, sizeof(cmd), 0) != sizeof(cmd)) {
		rec(&r->rows, k, "pread %s", errname(errno));
		return;
	}
	rec(&r->rows, k, "%u", cmd.out_pins);
	if (!unmap)
		return;
	snprintf(k, sizeof(k), "%s.notice", key);
	rec(&r->rows, k, "calls=%u last=%#llx+%#llx", cmd.out_unmap_calls,
	    (unsigned long long)cmd.out_last_unmap_iova,
	    (unsigned long long)cmd.out_last_unmap_length);
}

static void step_unmap(struct run *r, const struct step *st, const char *key,
		       const struct seq *s)
{
	union {
		struct vfio_iommu_type1_dma_unmap u;
		char bytes[64];
	} u;
	char k[40];
	int rc;

	memset(&u, 0, sizeof(u));
	u.u.argsz = st->argsz ?: sizeof(u.u);
	u.u.flags = st->flags;
	u.u.iova = st->iova;
	u.u.size = st->size;
	rc = vfio_cmd(r->container, VFIO_IOMMU_UNMAP_DMA, &u);
	snprintf(k, sizeof(k), "%s%s", key, st->flags & VFIO_DMA_UNMAP_FLAG_VADDR ? "_vaddr" : "");
	/* size is written back on success only (both backends). */
	if (rc < 0)
		rec(&r->rows, k, "%s size=%#llx", errname(-rc), (unsigned long long)u.u.size);
	else
		rec(&r->rows, k, "%d size=%#llx", rc, (unsigned long long)u.u.size);
	if (s->dev == DEV_MDEV && r->dev >= 0)
		mdev_state_row(r, key, true);
}

static void cap_row(struct run *r, const char *key, const char *name, bool found,
		    const char *fmt, ...)
{
	char k[40], v[200];
	va_list ap;

	snprintf(k, sizeof(k), "%s.cap.%s", key, name);
	if (!found) {
		rec(&r->rows, k, "absent");
		return;
	}
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	rec(&r->rows, k, "%s", v);
}

/*
 * GET_INFO with @argsz: the return, argsz as returned, flags and page sizes
 * (bytes the kernel did not write keep 0xee), cap_offset, and each
 * capability by ID, whatever its place in the chain.
 */
static void step_info(struct run *r, const struct step *st, const char *key)
{
	static unsigned char buf[4096];
	struct vfio_iommu_type1_info *info = (void *)buf;
	struct vfio_info_cap_header *h;
	struct vfio_iommu_type1_info_cap_iova_range *ir = NULL;
	struct vfio_iommu_type1_info_dma_avail *da = NULL;
	struct vfio_iommu_type1_info_cap_migration *mg = NULL;
	char k[40], v[200] = "", ranges[160] = "";
	__u32 off, hops = 0;
	int rc, i;

	memset(buf, 0xee, sizeof(buf));
	info->argsz = st->argsz;
	rc = vfio_cmd(r->container, VFIO_IOMMU_GET_INFO, info);
	if (rc < 0) {
		rec(&r->rows, key, "%s", errname(-rc));
		return;
	}
	rec(&r->rows, key, "%d flags=%#x pgsizes=%#llx cap_offset=%#x", rc, info->flags,
	    (unsigned long long)info->iova_pgsizes,
	    info->cap_offset);
	snprintf(k, sizeof(k), "%s.argsz", key);
	rec(&r->rows, k, "%u", info->argsz);
	if (st->argsz < sizeof(*info) || info->argsz > st->argsz ||
	    !(info->flags & VFIO_IOMMU_INFO_CAPS))
		return;
	for (off = info->cap_offset; off && off + sizeof(*h) <= st->argsz && hops < 16; hops++) {
		h = (void *)(buf + off);
		switch (h->id) {
		case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
			ir = (void *)h;
			break;
		case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
			da = (void *)h;
			break;
		case VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION:
			mg = (void *)h;
			break;
		default:
			snprintf(k, sizeof(k), "%.20s.cap.%u", key, h->id);
			rec(&r->rows, k, "v%u", h->version);
		}
		off = h->next;
	}
	if (ir) {
		for (i = 0; i < (int)ir->nr_iovas && i < 4; i++) {
			size_t n = strlen(ranges);

			snprintf(ranges + n, sizeof(ranges) - n, " [%#llx-%#llx]",
				 (unsigned long long)ir->iova_ranges[i].start,
				 (unsigned long long)ir->iova_ranges[i].end);
		}
		snprintf(v, sizeof(v), "v%u n=%u%s", ir->header.version, ir->nr_iovas, ranges);
	}
	cap_row(r, key, "iova_range", ir, "%s", v);
	cap_row(r, key, "dma_avail", da, "v%u avail=%u", da ? da->header.version : 0,
		da ? da->avail : 0);
	cap_row(r, key, "migration", mg, "v%u flags=%#x pgsize=%#llx max_bitmap=%#llx",
		mg ? mg->header.version : 0, mg ? mg->flags : 0,
		mg ? (unsigned long long)mg->pgsize_bitmap : 0ULL,
		mg ? (unsigned long long)mg->max_dirty_bitmap_size : 0ULL);
}

static void step_ext(struct run *r, const char *key)
{
	char k[40], v[16];
	unsigned int e;

	for (e = 0; e <= EXT_MAX; e++) {
		snprintf(k, sizeof(k), "%s.ext.%u", key, e);
		fmt_rc(v, sizeof(v), vfio_cmd(r->container, VFIO_CHECK_EXTENSION,
					      (void *)(unsigned long)e));
		rec(&r->rows, k, "%s", v);
	}
}

static void step_dirty(struct run *r, const struct step *st, const char *key)
{
	struct vfio_iommu_type1_dirty_bitmap d = {
		.argsz = st->argsz ?: sizeof(d), .flags = st->flags,
	};
	char k[40], v[16];

	snprintf(k, sizeof(k), "%.30s.dirty", key);
	fmt_rc(v, sizeof(v), vfio_cmd(r->container, VFIO_IOMMU_DIRTY_PAGES, &d));
	rec(&r->rows, k, "%s", v);
}

/* mdev PIN, UNPIN and RW: the result, the bytes read or written, the state. */
static void step_mdev(struct run *r, const struct step *st, const char *key)
{
	struct ioasid_mdev_cmd cmd = {
		.iova = st->iova, .flags = st->flags,
	};
	char where[48] = "", v[16];
	unsigned int i;
	int rc;

	if (r->dev < 0) {
		rec(&r->rows, key, "no device");
		return;
	}
	switch (st->op) {
	case OP_PIN:
		cmd.op = IOASID_MDEV_PIN;
		cmd.npage = st->size;
		cmd.length = st->argsz;
		break;
	case OP_UNPIN:
		cmd.op = IOASID_MDEV_UNPIN;
		cmd.npage = st->size;
		break;
	default:
		cmd.op = IOASID_MDEV_RW;
		cmd.length = st->size;
	}
	if (cmd.flags & IOASID_MDEV_WRITE)
		for (i = 0; i < cmd.length && i < IOASID_MDEV_DATA; i++)
			cmd.data[i] = (unsigned char)(0x80 + i * 7);
	rc = pwrite(r->dev, &cmd, sizeof(cmd), 0) == sizeof(cmd) ? 0 : -errno;
	fmt_rc(v, sizeof(v), rc);
	if (!rc && cmd.length) {
		if (cmd.flags & IOASID_MDEV_WRITE) {
			mem_where(r->mem, cmd.data, cmd.length, where, sizeof(where));
			mem_fill(r->mem);
		} else {
			struct ioasid_mdev_cmd st2;

			memset(&st2, 0, sizeof(st2));
			if (pread(r->dev, &st2, sizeof(st2), 0) == sizeof(st2))
				mem_where(r->mem, st2.data, cmd.length, where, sizeof(where));
		}
	}
	rec(&r->rows, key, "%s%s%s", v, where[0] ? " data@" : "", where);
	mdev_state_row(r, key, false);
}

/* The edu writes the marker to @iova: where it landed in the memory. */
static void edu_probe(struct run *r, __u64 iova)
{
	unsigned char marker[MARKER_LEN];
	char k[40], where[48];
	int rc;

	if (iova == IOVA0)
		iova = 0;
	snprintf(k, sizeof(k), "probe.%#llx", (unsigned long long)iova);
	if (r->dev < 0 || !r->bar || r->fail) {
		rec(&r->rows, k, "no device");
		return;
	}
	memset(r->mem, UNTOUCHED, NPAGES * PSZ);
	rc = edu_dma(r->bar, EDU_BUF, iova, MARKER_LEN, true);
	if (rc) {
		rec(&r->rows, k, "edu %s", errname(-rc));
		return;
	}
	memcpy(marker, r->ctrl, MARKER_LEN);
	mem_where(r->mem, marker, MARKER_LEN, where, sizeof(where));
	rec(&r->rows, k, "%s", strcmp(where, "nowhere") ? where : "blocked");
}

static int set_param(const char *path, const char *val)
{
	return access(path, F_OK) ? 0 : write_file(path, val);
}

/*
 * One run: a fresh container of the sequence's type on @be, the steps, the
 * probes, everything closed. Returns 0, or -errno for a setup step that
 * cannot fail (r->fail says which).
 */
static int run_seq(struct _test_data_diff *self, const struct seq *s, __u32 type,
		   enum backend be, struct run *r)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char key[16], limit[16];
	bool want_ioasid, is_ioasid, late = false;
	int i, rc;

	memset(r, 0, sizeof(*r));
	r->container = r->group = r->dev = -1;
	r->fail = "memory";
	r->mem = mmap(NULL, NPAGES * PSZ, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	r->ctrl = mmap(NULL, PSZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (r->mem == MAP_FAILED || r->ctrl == MAP_FAILED) {
		r->mem = r->mem == MAP_FAILED ? NULL : r->mem;
		r->ctrl = r->ctrl == MAP_FAILED ? NULL : r->ctrl;
		return -ENOMEM;
	}
	mem_fill(r->mem);
	for (i = 0; i < MARKER_LEN; i++)
		r->ctrl[i] = (unsigned char)(0x40 + i);

	r->fail = "type1_compat";
	rc = write_file(TYPE1_COMPAT, be == BE_IOASID ? "Y" : "N");
	if (rc)
		return rc;
	r->fail = "dma_entry_limit";
	snprintf(limit, sizeof(limit), "%u", ENTRY_LIMIT);
	rc = set_param(TYPE1_LIMIT, s->limit ? limit : self->limit1);
	if (!rc)
		rc = set_param(IOASID_LIMIT, s->limit ? limit : self->limit2);
	if (rc)
		return rc;

	r->vmlck = vm_locked_kb();
	r->fail = "open /dev/vfio/vfio";
	r->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (r->container < 0)
		return -errno;
	r->fail = "open the group";
	snprintf(key, sizeof(key), "/dev/vfio/%d",
		 s->dev == DEV_MDEV ? self->mdev_group : self->edu_group);
	r->group = open(key, O_RDWR | O_CLOEXEC);
	if (r->group < 0)
		return -errno;
	r->fail = "VFIO_GROUP_GET_STATUS";
	rc = vfio_cmd(r->group, VFIO_GROUP_GET_STATUS, &status);
	if (rc)
		return rc;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EPERM;
	r->fail = "VFIO_GROUP_SET_CONTAINER";
	rc = vfio_cmd(r->group, VFIO_GROUP_SET_CONTAINER, &r->container);
	if (rc)
		return rc;
	r->fail = NULL;
	if (s->pre_ext)
		step_ext(r, "pre");

	rc = vfio_cmd(r->container, VFIO_SET_IOMMU, (void *)(unsigned long)type);
	rec(&r->rows, "set_iommu", "%s", rc < 0 ? errname(-rc) : "0");
	/*
	 * Which backend took it: only ioasid_vfio answers its own type. It
	 * never serves VFIO_TYPE1_NESTING_IOMMU (see [nesting]).
	 */
	is_ioasid = !rc && vfio_cmd(r->container, VFIO_CHECK_EXTENSION,
				    (void *)(unsigned long)VFIO_IOASID_IOMMU) == 1;
	want_ioasid = be == BE_IOASID && type != VFIO_TYPE1_NESTING_IOMMU;
	r->backend_ok = rc || is_ioasid == want_ioasid;
	rec(&r->rows, "backend", "%s", rc ? "none" : r->backend_ok ? "as asked" :
	    is_ioasid ? "ioasid served it, not type1" : "type1 served it, not ioasid");
	if (rc)
		return 0;	/* no steps without a backend */

	for (i = 0; i < MAX_STEPS && s->steps[i].op; i++)
		late |= s->steps[i].op == OP_OPEN_DEV;
	if (!late) {
		rc = run_open_dev(r, self, s);
		if (rc && r->fail)
			return rc;
	}
	for (i = 0; i < MAX_STEPS && s->steps[i].op; i++) {
		const struct step *st = &s->steps[i];

		snprintf(key, sizeof(key), "%02d.", i);
		switch (st->op) {
		case OP_MAP:
			strcat(key, "map");
			step_map(r, st, key);
			break;
		case OP_UNMAP:
			strcat(key, st->flags & VFIO_DMA_UNMAP_FLAG_ALL ? "unmap_all" : "unmap");
			step_unmap(r, st, key, s);
			break;
		case OP_INFO:
			strcat(key, "info");
			step_info(r, st, key);
			break;
		case OP_EXT:
			key[2] = 0;
			step_ext(r, key);
			break;
		case OP_DIRTY:
			key[2] = 0;
			step_dirty(r, st, key);
			break;
		case OP_OPEN_DEV:
			rc = run_open_dev(r, self, s);
			if (rc && r->fail)
				return rc;
			break;
		case OP_PIN:
			strcat(key, "pin");
			step_mdev(r, st, key);
			break;
		case OP_UNPIN:
			strcat(key, "unpin");
			step_mdev(r, st, key);
			break;
		case OP_RW:
			strcat(key, "rw");
			step_mdev(r, st, key);
			break;
		case OP_VMLCK:
			strcat(key, "vmlck");
			rec(&r->rows, key, "%ld", vm_locked_kb() - r->vmlck);
			break;
		case OP_END:
			break;
		}
	}
	for (i = 0; i < MAX_PROBES && s->probes[i]; i++)
		edu_probe(r, s->probes[i]);
	return 0;
}

static const struct deliberate *deliberate_for(const struct seq *s, const char *key,
					       const char *t1, const char *io)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(deliberate); i++) {
		const struct deliberate *d = &deliberate[i];

		if (fnmatch(d->seq, s->name, 0) || fnmatch(d->key, key, 0))
			continue;
		if (d->rel ? d->rel(t1, io) :
			     !fnmatch(d->type1, t1, 0) && !fnmatch(d->ioasid, io, 0))
			return d;
	}
	return NULL;
}

static const char *row_val(const struct rows *t, const char *key)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->r[i].key, key))
			return t->r[i].val;
	return NULL;
}

/*
 * Compare type1's rows with ioasid's, in type1's order and then the keys
 * only ioasid has; print each difference as the two rows. Returns the
 * number of differences that are not deliberate.
 */
static int compare(const struct seq *s, const char *variant, const struct rows *t1,
		   const struct rows *io)
{
	int i, bad = 0, good = 0;

	for (i = 0; i < t1->n + io->n; i++) {
		const struct row *r = i < t1->n ? &t1->r[i] : &io->r[i - t1->n];
		const char *a = row_val(t1, r->key), *b = row_val(io, r->key);
		const struct deliberate *d;

		if (i >= t1->n && a)
			continue;	/* compared already */
		if (a && b && !strcmp(a, b)) {
			good++;
			continue;
		}
		d = a && b ? deliberate_for(s, r->key, a, b) : NULL;
		if (d) {
			ksft_print_msg("%s/%s deliberate [%s] %s\n", s->name, variant, d->tag, r->key);
			ksft_print_msg("    type1:  %s\n", a);
			ksft_print_msg("    ioasid: %s\n", b);
			continue;
		}
		bad++;
		ksft_print_msg("%s/%s DIFFERENCE %s\n", s->name, variant, r->key);
		ksft_print_msg("    type1:  %s\n", a ?: "(no row)");
		ksft_print_msg("    ioasid: %s\n", b ?: "(no row)");
	}
	ksft_print_msg("%s/%s: %d rows, %d the same, %d differences not on the deliberate list\n",
		       s->name, variant, t1->n, good, bad);
	return bad;
}

static void dump(const char *label, const struct rows *t)
{
	int i;

	for (i = 0; i < t->n; i++)
		ksft_print_msg("  %s %-24s %s\n", label, t->r[i].key, t->r[i].val);
}

FIXTURE_SETUP(diff)
{
	char path[256];

	self->edu_group = self->mdev_group = -1;
	self->run[0].container = self->run[1].container = -1;
	if (access(TYPE1_MOD, F_OK))
		SKIP(return, "vfio_iommu_type1 is not loaded");
	if (access(TYPE1_COMPAT, F_OK))
		SKIP(return, "ioasid_vfio is not loaded");
	ASSERT_EQ(0, read_str(TYPE1_COMPAT, self->compat, sizeof(self->compat)));
	ASSERT_EQ(0, read_str(TYPE1_LIMIT, self->limit1, sizeof(self->limit1)))
		TH_LOG("vfio_iommu_type1 has no dma_entry_limit parameter");
	/* ioasid_vfio's limit of the same name, when this build has it. */
	if (read_str(IOASID_LIMIT, self->limit2, sizeof(self->limit2)))
		self->limit2[0] = 0;

	if (!edu_find_one(self->bdf, sizeof(self->bdf))) {
		snprintf(path, sizeof(path), PCI_SYSFS "/devices/%s/iommu_group", self->bdf);
		self->edu_group = link_number(path);
	}
	if (!access("/sys/class/mdev_bus/" IOASID_MDEV_PARENT, F_OK)) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s", MDEV_UUID);
		if (access(path, F_OK)) {
			ASSERT_EQ(0, write_file(MDEV_TYPES "/" IOASID_MDEV_TYPE "/create", MDEV_UUID));
			self->mdev_created = true;
		}
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/iommu_group", MDEV_UUID);
		self->mdev_group = link_number(path);
		ASSERT_LE(0, self->mdev_group);
	}
}

FIXTURE_TEARDOWN(diff)
{
	char path[160];

	run_close(&self->run[0]);
	run_close(&self->run[1]);
	if (self->compat[0])
		write_file(TYPE1_COMPAT, self->compat);
	if (self->limit1[0])
		write_file(TYPE1_LIMIT, self->limit1);
	if (self->limit2[0])
		write_file(IOASID_LIMIT, self->limit2);
	if (self->mdev_created) {
		snprintf(path, sizeof(path), "/sys/bus/mdev/devices/%s/remove", MDEV_UUID);
		write_file(path, "1");
	}
}

/*
 * Run @s on type1, then on ioasid, and compare. Setup that fails in either
 * run fails the test (it would compare nothing); so does a type1 run that
 * ioasid_vfio served, whose rows would be no reference.
 */
static void diff_seq(struct __test_metadata *_metadata, struct _test_data_diff *self,
		     const struct _fixture_variant_diff *variant, const struct seq *s)
{
	const char *vname = variant->type == VFIO_TYPE1_IOMMU ? "v1" : "v2";
	__u32 type = s->type ?: variant->type;
	int be, rc, bad;

	if (s->dev == DEV_EDU && self->edu_group < 0)
		SKIP(return, "no edu device bound to vfio-pci on the root bus");
	if (s->dev == DEV_MDEV && self->mdev_group < 0)
		SKIP(return, "ioasid_mdev is not loaded (no mdev in this kernel?)");
	/*
	 * type1 calls dma_unmap with its device_list_lock held, and the
	 * driver's vfio_unpin_pages() takes iommu->lock, which
	 * register_device holds while it takes device_list_lock: an ABBA
	 * that lockdep reports (a device opened during an unmap of pinned
	 * memory can deadlock). With lockdep on, the type1 run would splat.
	 */
	if (s->unpins_in_unmap && type != VFIO_TYPE1_IOMMU && !access("/proc/lockdep", F_OK))
		SKIP(return, "lockdep kernel: type1's dma_unmap notification has a lock inversion (device_list_lock vs iommu->lock) lockdep reports; runs on kernels without lockdep");
	for (be = BE_TYPE1; be <= BE_IOASID; be++) {
		struct run *r = &self->run[be];

		rc = run_seq(self, s, type, be, r);
		ASSERT_EQ(0, rc) TH_LOG("%s on %s: %s failed: %s", s->name, be_name[be],
					r->fail ?: "?", strerror(-rc));
		if (be == BE_TYPE1)
			ASSERT_TRUE(r->backend_ok)
				TH_LOG("type1_compat=N, yet ioasid_vfio served the type1 run");
		run_close(r);
	}
	/* The reference run did something: the sequence is not a no-op. */
	ASSERT_LE(2, self->run[BE_TYPE1].rows.n);
	bad = compare(s, vname, &self->run[BE_TYPE1].rows, &self->run[BE_IOASID].rows);
	if (bad) {
		dump("type1 ", &self->run[BE_TYPE1].rows);
		dump("ioasid", &self->run[BE_IOASID].rows);
	}
	EXPECT_EQ(0, bad) TH_LOG("%s/%s: %d differences from type1 (above)", s->name, vname, bad);
}

TEST_F_TIMEOUT(diff, map_unmap, 120)
{
	diff_seq(_metadata, self, variant, &seq_map_unmap);
}

TEST_F_TIMEOUT(diff, overlap, 120)
{
	diff_seq(_metadata, self, variant, &seq_overlap);
}

TEST_F_TIMEOUT(diff, unmap_cut_start, 120)
{
	diff_seq(_metadata, self, variant, &seq_unmap_cut_start);
}

TEST_F_TIMEOUT(diff, unmap_cut_end, 120)
{
	diff_seq(_metadata, self, variant, &seq_unmap_cut_end);
}

TEST_F_TIMEOUT(diff, unmap_span, 120)
{
	diff_seq(_metadata, self, variant, &seq_unmap_span);
}

TEST_F_TIMEOUT(diff, unmap_unmapped, 120)
{
	diff_seq(_metadata, self, variant, &seq_unmap_unmapped);
}

TEST_F_TIMEOUT(diff, unmap_all, 120)
{
	diff_seq(_metadata, self, variant, &seq_unmap_all);
}

TEST_F_TIMEOUT(diff, bad_flags, 120)
{
	diff_seq(_metadata, self, variant, &seq_bad_flags);
}

TEST_F_TIMEOUT(diff, zero_sizes, 120)
{
	diff_seq(_metadata, self, variant, &seq_zero_sizes);
}

TEST_F_TIMEOUT(diff, wrapping, 120)
{
	diff_seq(_metadata, self, variant, &seq_wrapping);
}

TEST_F_TIMEOUT(diff, out_of_range, 120)
{
	diff_seq(_metadata, self, variant, &seq_out_of_range);
}

TEST_F_TIMEOUT(diff, get_info, 120)
{
	diff_seq(_metadata, self, variant, &seq_get_info);
}

TEST_F_TIMEOUT(diff, extensions, 120)
{
	diff_seq(_metadata, self, variant, &seq_extensions);
}

TEST_F_TIMEOUT(diff, dma_avail, 120)
{
	diff_seq(_metadata, self, variant, &seq_dma_avail);
}

TEST_F_TIMEOUT(diff, vaddr, 120)
{
	diff_seq(_metadata, self, variant, &seq_vaddr);
}

TEST_F_TIMEOUT(diff, dirty, 120)
{
	diff_seq(_metadata, self, variant, &seq_dirty);
}

TEST_F_TIMEOUT(diff, late_device, 120)
{
	diff_seq(_metadata, self, variant, &seq_late_device);
}

TEST_F_TIMEOUT(diff, same_pages, 120)
{
	diff_seq(_metadata, self, variant, &seq_same_pages);
}

TEST_F_TIMEOUT(diff, nesting_type, 120)
{
	diff_seq(_metadata, self, variant, &seq_nesting_type);
}

TEST_F_TIMEOUT(diff, mdev_pin_rw, 120)
{
	diff_seq(_metadata, self, variant, &seq_mdev_pin_rw);
}

TEST_F_TIMEOUT(diff, mdev_no_map, 120)
{
	diff_seq(_metadata, self, variant, &seq_mdev_no_map);
}

TEST_F_TIMEOUT(diff, mdev_unmap, 120)
{
	diff_seq(_metadata, self, variant, &seq_mdev_unmap);
}

TEST_HARNESS_MAIN
