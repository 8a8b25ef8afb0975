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
KVER      = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

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

module:
	$(MAKE) kbuild BUILD=$(TOP)/build/$(notdir $(KDIR:/build=))$(if $(filter build,$(notdir $(KDIR))),-$(shell uname -r)) DEBUG=
	@cp $(TOP)/build/$(notdir $(KDIR:/build=))$(if $(filter build,$(notdir $(KDIR))),-$(shell uname -r))/kipsec.ko $(TOP)/kipsec.ko
	@echo "kipsec: built $(TOP)/kipsec.ko for $(KDIR)"

module-debug:
	$(MAKE) kbuild BUILD=$(TOP)/build/debug-$(notdir $(KDIR)) DEBUG=1 TESTMOD=1
	@cp $(TOP)/build/debug-$(notdir $(KDIR))/kipsec.ko $(TOP)/kipsec.ko
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
	@echo "kipsec: make demo is not yet available (issue: strongSwan)"; exit 1

style:
	$(TOP)/selftests/style.sh

clean:
	rm -rf $(TOP)/build $(TOP)/kipsec.ko
	-$(MAKE) -C tools clean
