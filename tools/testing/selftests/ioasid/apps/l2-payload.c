// SPDX-License-Identifier: GPL-2.0
/*
 * The L2 guest of apps/l2-qemu: a freestanding multiboot (v1) program that
 * QEMU loads with -kernel. It drives an edu DMA device (PCI 1234:11e8) that
 * the L2 QEMU passes through with vfio-pci, so every DMA it starts crosses
 * the whole chain: L2 guest-physical address = IOVA of the L1 VFIO
 * container (ioasid_vfio or type1) -> L1 guest-physical address through the
 * emulated VT-d -> L0 memory.
 *
 * It finds the edu by PCI configuration cycles (0xcf8/0xcfc), assigns BAR0
 * and enables memory decode and bus mastering itself when the firmware did
 * not, checks the identification, liveness and factorial registers, fills a
 * page of RAM with a pattern that is new on every run, copies it RAM -> edu
 * buffer -> two other RAM pages (one near the top of RAM) and compares byte
 * by byte. Everything it says goes to COM1 (0x3f8), one line each, with the
 * markers
 *
 *	L2-PAYLOAD-START run=N
 *	L2-EDU-DMA-OK run=N ...
 *	L2-EDU-DMA-FAIL run=N <what>
 *
 * then it halts. N counts the runs since QEMU started (a counter kept in RAM,
 * which a system_reset does not clear): the test resets the L2 machine and
 * expects run=2. The pattern depends on the TSC as well as the run, so a
 * stale edu buffer or stale RAM from the run before can never compare equal.
 */
#include <stdint.h>

#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00000002	/* bit 1: the memory fields of the info */
#define MB_BOOT_MAGIC	0x2badb002

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define EDU_ID		0x00
#define EDU_LIVE	0x04
#define EDU_FACT	0x08
#define EDU_STATUS	0x20
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_START	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096
#define EDU_DMA_LIMIT	(1u << 28)	/* the edu's DMA mask: 28 bits */

/* Where BAR0 goes when the firmware left it unassigned: in q35's PCI hole. */
#define BAR0_FALLBACK	0xfe000000u

#define SRC_ADDR	0x00200000u
#define DST_LOW_ADDR	0x00300000u
#define RUN_ADDR	0x00400000u	/* the run counter, outside the image */
#define RUN_MAGIC	0x4c32454du	/* "L2EM" */

#define TIMEOUT_S	20

#define STR_(x)		#x
#define STR(x)		STR_(x)

__asm__(
	".section .multiboot, \"a\"\n"
	".align 4\n"
	".long " STR(MB_MAGIC) "\n"
	".long " STR(MB_FLAGS) "\n"
	".long -(" STR(MB_MAGIC) " + " STR(MB_FLAGS) ")\n"
	".bss\n"
	".align 16\n"
	"l2_stack:\n"
	".skip 16384\n"
	"l2_stack_top:\n"
	".text\n"
	".globl l2_entry\n"
	"l2_entry:\n"
	"	cli\n"
	"	mov $l2_stack_top, %esp\n"
	"	push %ebx\n"			/* the multiboot information */
	"	push %eax\n"			/* the loader's magic */
	"	call l2_main\n"
	"1:	cli\n"
	"	hlt\n"
	"	jmp 1b\n");

struct mb_info {
	uint32_t flags;
	uint32_t mem_lower;	/* KiB below 1 MiB */
	uint32_t mem_upper;	/* KiB above 1 MiB, up to the first hole */
};

struct run_counter {
	uint32_t magic;
	uint32_t run;
	uint32_t check;
};

static inline void pio_w8(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t pio_r8(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void pio_w32(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t pio_r32(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t rdtsc_low(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return lo ^ hi;
}

/* COM1, polled: QEMU's 16550 needs no setup to transmit. */
static void putc_serial(char c)
{
	int i;

	for (i = 0; i < 100000 && !(pio_r8(0x3f8 + 5) & 0x20); i++)
		;
	pio_w8(0x3f8, c);
}

static void puts_serial(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s);
	}
}

static void put_hex(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	int i;

	puts_serial("0x");
	for (i = 28; i >= 0; i -= 4)
		putc_serial(digits[(v >> i) & 0xf]);
}

static void put_hex2(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";

	putc_serial(digits[(v >> 4) & 0xf]);
	putc_serial(digits[v & 0xf]);
}

static void put_dec(uint32_t v)
{
	char buf[11];
	int i = 10;

	buf[i] = 0;
	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v);
	puts_serial(&buf[i]);
}

/* The CMOS clock's seconds: a time base that needs no calibration. */
static uint8_t rtc_seconds(void)
{
	pio_w8(0x70, 0x00);
	return pio_r8(0x71);
}

struct deadline {
	uint8_t last;
	int left;
};

static void deadline_start(struct deadline *d, int seconds)
{
	d->last = rtc_seconds();
	d->left = seconds;
}

/* True once the clock ticked @seconds times since deadline_start(). */
static int deadline_passed(struct deadline *d)
{
	uint8_t now = rtc_seconds();

	if (now != d->last) {
		d->last = now;
		d->left--;
	}
	return d->left <= 0;
}

static uint32_t pci_addr(int bus, int dev, int fn, int reg)
{
	return 0x80000000u | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

static uint32_t pci_read(int bus, int dev, int fn, int reg)
{
	pio_w32(0xcf8, pci_addr(bus, dev, fn, reg));
	return pio_r32(0xcfc);
}

static void pci_write(int bus, int dev, int fn, int reg, uint32_t v)
{
	pio_w32(0xcf8, pci_addr(bus, dev, fn, reg));
	pio_w32(0xcfc, v);
}

/* One 32-bit access each, never merged or elided (the edu takes 4 or 8). */
static inline uint32_t mmio_r32(uint32_t base, uint32_t reg)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(base + reg) : "memory");
	return v;
}

static inline void mmio_w32(uint32_t base, uint32_t reg, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(base + reg) : "memory");
}

/*
 * The edu writes RAM behind the compiler's back: memory is read again after
 * this (every MMIO access above is one too).
 */
static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static uint32_t run;

static void fail(const char *what, uint32_t v)
{
	puts_serial("L2-EDU-DMA-FAIL run=");
	put_dec(run);
	puts_serial(" ");
	puts_serial(what);
	puts_serial(" ");
	put_hex(v);
	puts_serial("\n");
}

/* The edu on bus 0 (q35's pcie.0 and pc's bus 0 both are bus 0). */
static int find_edu(int *dev_out, int *fn_out)
{
	int dev, fn;

	for (dev = 0; dev < 32; dev++) {
		for (fn = 0; fn < 8; fn++) {
			uint32_t id = pci_read(0, dev, fn, 0x00);

			if (id == 0xffffffffu) {
				if (fn == 0)
					break;
				continue;
			}
			if ((id & 0xffff) == EDU_VENDOR && id >> 16 == EDU_DEVICE) {
				*dev_out = dev;
				*fn_out = fn;
				return 0;
			}
			/* Functions 1-7 exist only on multi-function devices. */
			if (fn == 0 && !(pci_read(0, dev, 0, 0x0c) & 0x00800000))
				break;
		}
	}
	return -1;
}

/* BAR0's address, assigning one when the firmware did not. */
static uint32_t setup_bar0(int dev, int fn)
{
	uint32_t bar = pci_read(0, dev, fn, 0x10), cmd;

	if (bar & 1)
		return 0;	/* an I/O BAR: not an edu */
	if (!(bar & ~0xfu)) {
		pci_write(0, dev, fn, 0x10, BAR0_FALLBACK);
		if ((bar & 0x6) == 0x4)
			pci_write(0, dev, fn, 0x14, 0);
		bar = pci_read(0, dev, fn, 0x10);
		puts_serial("L2: assigned edu BAR0 ");
		put_hex(bar & ~0xfu);
		puts_serial("\n");
	}
	cmd = pci_read(0, dev, fn, 0x04);
	if ((cmd & 0x6) != 0x6)
		pci_write(0, dev, fn, 0x04, (cmd & 0xffff) | 0x6);	/* memory, master */
	return bar & ~0xfu;
}

static int edu_dma(uint32_t bar, uint32_t src, uint32_t dst, int to_ram)
{
	struct deadline d;

	/* 32-bit writes: the edu zero-extends them into its 64-bit registers. */
	mmio_w32(bar, EDU_DMA_SRC, src);
	mmio_w32(bar, EDU_DMA_DST, dst);
	mmio_w32(bar, EDU_DMA_CNT, EDU_BUF_SIZE);
	mmio_w32(bar, EDU_DMA_CMD, EDU_CMD_START | (to_ram ? EDU_CMD_TO_RAM : 0));
	deadline_start(&d, TIMEOUT_S);
	while (mmio_r32(bar, EDU_DMA_CMD) & EDU_CMD_START) {
		if (deadline_passed(&d))
			return -1;
	}
	return 0;
}

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Byte offset of the first difference between @a and the pattern, or -1. */
static int compare(const uint8_t *a, const uint8_t *b, int len)
{
	int i;

	for (i = 0; i < len; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

static void count_run(void)
{
	struct run_counter *c = (struct run_counter *)RUN_ADDR;

	if (c->magic == RUN_MAGIC && c->check == ~c->run)
		run = c->run + 1;
	else
		run = 1;
	c->magic = RUN_MAGIC;
	c->run = run;
	c->check = ~run;
}

void l2_main(uint32_t magic, const struct mb_info *mbi);

void l2_main(uint32_t magic, const struct mb_info *mbi)
{
	uint8_t *src = (uint8_t *)SRC_ADDR, *dst;
	uint32_t dsts[2], top, bar, v, seed;
	int dev, fn, i, j, off;
	struct deadline d;

	count_run();
	puts_serial("L2-PAYLOAD-START run=");
	put_dec(run);
	puts_serial("\n");

	if (magic != MB_BOOT_MAGIC || !(mbi->flags & 1)) {
		fail("no multiboot memory information, magic", magic);
		return;
	}
	/* The highest page below both the end of RAM and the edu's DMA mask. */
	top = 0x100000u + mbi->mem_upper * 1024u;
	if (top > EDU_DMA_LIMIT)
		top = EDU_DMA_LIMIT;
	dsts[0] = DST_LOW_ADDR;
	dsts[1] = (top & ~0xfffu) - 2 * EDU_BUF_SIZE;
	if (dsts[1] <= RUN_ADDR) {
		fail("too little RAM, top", top);
		return;
	}

	if (find_edu(&dev, &fn)) {
		fail("no edu (1234:11e8) on bus 0, devices scanned", 32);
		return;
	}
	bar = setup_bar0(dev, fn);
	puts_serial("L2: edu at 00:");
	put_hex2(dev);
	puts_serial(".");
	put_dec(fn);
	puts_serial(" BAR0 ");
	put_hex(bar);
	puts_serial(" command ");
	put_hex(pci_read(0, dev, fn, 0x04) & 0xffff);
	puts_serial("\n");
	if (!bar) {
		fail("no memory BAR0", pci_read(0, dev, fn, 0x10));
		return;
	}

	/* 0xRRrr00ed: major, minor, 0, 0xed. */
	v = mmio_r32(bar, EDU_ID);
	if ((v & 0xffff) != 0x00ed) {
		fail("identification", v);
		return;
	}
	seed = rdtsc_low() ^ (run * 0x9e3779b9u);
	if (!seed)
		seed = 1;
	mmio_w32(bar, EDU_LIVE, seed);
	v = mmio_r32(bar, EDU_LIVE);
	if (v != ~seed) {
		fail("liveness: not the inverse of what was written, read", v);
		return;
	}
	mmio_w32(bar, EDU_FACT, 10);
	deadline_start(&d, TIMEOUT_S);
	while (mmio_r32(bar, EDU_STATUS) & 1) {
		if (deadline_passed(&d)) {
			fail("factorial: still computing, status", mmio_r32(bar, EDU_STATUS));
			return;
		}
	}
	v = mmio_r32(bar, EDU_FACT);
	if (v != 3628800) {
		fail("factorial of 10", v);
		return;
	}

	for (i = 0; i < EDU_BUF_SIZE; i++)
		src[i] = xorshift(&seed);
	/* Poison that differs from the pattern in every byte. */
	for (j = 0; j < 2; j++)
		for (i = 0; i < EDU_BUF_SIZE; i++)
			((uint8_t *)dsts[j])[i] = ~src[i];

	if (edu_dma(bar, SRC_ADDR, EDU_BUF, 0)) {
		fail("DMA RAM -> edu timed out, cmd", mmio_r32(bar, EDU_DMA_CMD));
		return;
	}
	for (j = 0; j < 2; j++) {
		if (edu_dma(bar, EDU_BUF, dsts[j], 1)) {
			fail("DMA edu -> RAM timed out, cmd", mmio_r32(bar, EDU_DMA_CMD));
			return;
		}
		barrier();
		dst = (uint8_t *)dsts[j];
		off = compare(dst, src, EDU_BUF_SIZE);
		if (off >= 0) {
			puts_serial("L2: destination ");
			put_hex(dsts[j]);
			puts_serial(" differs at offset ");
			put_hex(off);
			puts_serial(": read ");
			put_hex(dst[off]);
			puts_serial(" expected ");
			put_hex(src[off]);
			puts_serial("\n");
			fail("data differs after RAM -> edu -> RAM, destination", dsts[j]);
			return;
		}
	}
	puts_serial("L2-EDU-DMA-OK run=");
	put_dec(run);
	puts_serial(" bytes=");
	put_dec(EDU_BUF_SIZE);
	puts_serial(" src=");
	put_hex(SRC_ADDR);
	puts_serial(" dst=");
	put_hex(dsts[0]);
	puts_serial(",");
	put_hex(dsts[1]);
	puts_serial("\n");
}
