# SPDX-License-Identifier: GPL-2.0
#
# kipsec: top-level targets. `make help` lists them.

TOP      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CACHE    ?= $(TOP)/.cache
KERNELS  ?= 6.1 6.12
TESTS    ?=
PREFIX   ?= /usr/local

kdir_of   = $(shell cat $(CACHE)/kernels/$(1)/kdir 2>/dev/null)
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR     ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(call kdir_of,6.1))

.PHONY: all help module module-debug kbuild tools kernels check stress bench \
	demo style clean install uninstall

all: module tools

help:
	@echo 'make module [KDIR=...]   build ./kipsec.ko (running kernel, else cached 6.1)'
	@echo 'make module-debug        the same with in-module self-tests (KIPSEC_DEBUG)'
	@echo 'make tools               build tools/kipsec (needs libmnl-dev)'
	@echo 'make kernels             fetch Debian 6.1 and 6.12 into .cache/ (apt-get download)'
	@echo 'make check [TESTS=..] [KERNELS=..]   selftests in QEMU on both kernels'
	@echo 'make style               W=1 C=1 builds for both kernels, checkpatch --strict'
	@echo 'make demo                gateway-to-gateway VPN in QEMU with strongSwan'
	@echo 'make bench               benchmarks against the native XFRM stack'

# Build in a per-kernel tree of symlinks so objects for different kernels
# never mix: build/<name>/{Kbuild,kmod,uapi,selftests/testmod}.
# Variables: KDIR, BUILD (output dir), DEBUG=1, TESTMOD=1, EXTRA (make args).
BUILD ?= $(TOP)/build/default
kbuild:
	@test -f "$(KDIR)/Makefile" || { echo "kipsec: no kernel headers in '$(KDIR)' (run make kernels, or pass KDIR=)" >&2; exit 1; }
	@mkdir -p $(BUILD)/selftests
	@ln -sfn $(TOP)/Kbuild $(BUILD)/Kbuild
	@cp -rsf $(TOP)/kmod $(TOP)/uapi $(BUILD)/
	@cp -rsf $(TOP)/selftests/testmod $(BUILD)/selftests/
	$(MAKE) -C $(KDIR) M=$(BUILD) KIPSEC_DEBUG=$(DEBUG) KIPSEC_TESTMOD=$(TESTMOD) $(EXTRA) modules

# build/<kernel release>/ for the release build, build/debug-<release>/
# for the debug one; ./kipsec.ko is the last one built.
# The release (uname -r) from the headers' path: /lib/modules/<rel>/build
# or .../linux-headers-<rel> (Debian's include/config/kernel.release holds
# the upstream version, not the ABI name the modules directory uses).
KDIR_ABS := $(abspath $(KDIR))
KREL ?= $(if $(filter build,$(notdir $(KDIR_ABS))),$(notdir $(patsubst %/build,%,$(KDIR_ABS))),$(patsubst linux-headers-%,%,$(notdir $(KDIR_ABS))))
KNAME = $(KREL)

module:
	$(MAKE) kbuild BUILD=$(TOP)/build/$(KNAME) DEBUG=
	@cp $(TOP)/build/$(KNAME)/kipsec.ko $(TOP)/kipsec.ko
	@echo "kipsec: built $(TOP)/kipsec.ko for $(KDIR)"

module-debug:
	$(MAKE) kbuild BUILD=$(TOP)/build/debug-$(KNAME) DEBUG=1 TESTMOD=1
	@cp $(TOP)/build/debug-$(KNAME)/kipsec.ko $(TOP)/kipsec.ko
	@echo "kipsec: built $(TOP)/kipsec.ko (debug) for $(KDIR)"

tools:
	$(MAKE) -C tools

kernels:
	$(TOP)/selftests/kernels.sh $(KERNELS)

check:
	$(TOP)/selftests/run.sh --kernels "$(KERNELS)" $(if $(TESTS),--tests "$(TESTS)")

stress:
	$(TOP)/selftests/run.sh --kernels "$(KERNELS)" --stress $(if $(TESTS),--tests "$(TESTS)")

bench:
	@echo "kipsec: make bench is not yet available (issue: benchmarks)"; exit 1

demo:
	@$(TOP)/selftests/demo/run.sh

style:
	$(TOP)/selftests/style.sh

# make install [KDIR=...] [DESTDIR=...]: the module into
# /lib/modules/<release>/extra (then depmod), the CLI, man page and
# completion under $(PREFIX).
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/extra
install: module tools
	install -D -m 0644 $(TOP)/kipsec.ko $(MODDIR)/kipsec.ko
	$(if $(DESTDIR),,depmod -a $(KREL))
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

uninstall:
	rm -f $(MODDIR)/kipsec.ko
	$(if $(DESTDIR),,depmod -a $(KREL))
	$(MAKE) -C tools uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

clean:
	rm -rf $(TOP)/build $(TOP)/kipsec.ko
	-$(MAKE) -C tools clean
