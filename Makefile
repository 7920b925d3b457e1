# SPDX-License-Identifier: GPL-2.0
#
# ioasid: top-level targets. The modules are built with kbuild against KDIR
# (default: the project's debug test kernel, built and cached by
# scripts/build-kernel); everything that needs a kernel runs in a QEMU VM.
#
#   make check     install what is missing, build, run the suite on the
#                  project debug kernel and Debian's stock kernel, lint
#   make run       boot the stock-kernel VM with ioasid.ko and run the demo
#   make shell     the same VM with an interactive shell
#   make modules   build the modules against KDIR (in place)
#   make kernel    build the project kernel (FLAVOUR=debug|perf)
#   make lint      checkpatch, kernel-doc, the documentation, sparse
#   make docs      the documentation (Sphinx + kernel-doc) into out/docs/html
#   make bench     the benchmark, on the non-debug project kernel
#   make fuzz      the ioctl fuzzer alone on the debug kernel, a long budget:
#                  SEEDS=20 (count, a-b, or a,b,) CALLS=50000 [SECONDS=...]
#   make mutate    plant each bug of scripts/mutations in a scratch copy and
#                  run its tests on the debug kernel; fails unless every one
#                  is killed by 2+ tests (MUTATIONS="skip_charge ..." picks;
#                  slow: not part of make check)
#   make setup     install packages and fetch the kernel (as root)

FLAVOUR ?= debug
SCRIPTS := $(CURDIR)/scripts

# Resolved only when a target needs it.
KDIR ?= $(shell $(SCRIPTS)/build-kernel $(FLAVOUR))
# The unpacked linux-source (the VFIO backend includes drivers/vfio/vfio.h).
KSRC ?= $(shell . $(SCRIPTS)/lib.sh && load_env && echo $$KSRC)

all: modules

setup:
	$(SCRIPTS)/setup

kernel: setup
	$(SCRIPTS)/build-kernel $(FLAVOUR)

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/drivers/ioasid KSRC=$(KSRC) modules

check:
	$(SCRIPTS)/check

run:
	@$(SCRIPTS)/run-demo demo

shell:
	@$(SCRIPTS)/run-demo shell

lint: setup
	$(SCRIPTS)/lint $(CURDIR)/out/lint

bench:
	$(SCRIPTS)/bench

fuzz:
	SEEDS="$(SEEDS)" CALLS="$(CALLS)" SECONDS_BUDGET="$(SECONDS)" $(SCRIPTS)/fuzz

mutate:
	$(SCRIPTS)/mutate $(MUTATIONS)

docs:
	$(SCRIPTS)/docs

clean:
	$(MAKE) -C drivers/ioasid -f /dev/null clean 2>/dev/null || true
	find drivers -name '*.o' -o -name '*.ko' -o -name '*.mod*' -o -name '.*.cmd' \
		-o -name '*.symvers' -o -name '*.order' | xargs rm -f
	rm -rf out

.PHONY: all setup kernel modules check run shell lint bench fuzz mutate docs clean
