# SPDX-License-Identifier: GPL-2.0
#
# kipsec: top-level targets. `make help` lists them.

TOP      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
CACHE    ?= $(or $(KIPSEC_CACHE),$(TOP)/.cache)
KERNELS  ?= 6.1 6.12
TESTS    ?=
PREFIX   ?= /usr/local

kdir_of   = $(shell cat $(CACHE)/kernels/$(1)/kdir 2>/dev/null)
RUNNING_KDIR := /lib/modules/$(shell uname -r)/build
KDIR     ?= $(if $(wildcard $(RUNNING_KDIR)/Makefile),$(RUNNING_KDIR),$(call kdir_of,6.1))

.PHONY: all help module module-debug kbuild tools kernels check stress bench icount \
	demo style clean install uninstall dkms dkms-source dkms-remove dkms-check

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
	@echo 'make icount              guest instructions per packet and function, kipsec and native'
	@echo 'make install [KDIR=..] [DESTDIR=..] [PREFIX=/usr/local]   module, CLI, man page, completion'
	@echo 'make uninstall [KDIR=..] [DESTDIR=..]   remove what make install put there'
	@echo 'make dkms [KDIR=..]      register, build and install the module with DKMS'
	@echo 'make dkms-source         only stage the DKMS source tree (/usr/src/kipsec-<version>)'
	@echo 'make dkms-remove         unregister from DKMS and delete the source tree'
	@echo 'make dkms-check          host check: DKMS builds for the cached kernels, install layout'

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
# The release (uname -r) of the headers: UTS_RELEASE, which is also what
# the module's vermagic and modprobe's /lib/modules/<release> use. Debian's
# include/config/kernel.release holds the upstream version (6.1.192), not
# the ABI name, so it is not used. Without utsrelease.h (an unconfigured
# tree), from the path: /lib/modules/<rel>/build or .../linux-headers-<rel>.
KDIR_ABS := $(abspath $(KDIR))
KREL_UTS := $(shell sed -n 's/.*UTS_RELEASE "\(.*\)".*/\1/p' $(KDIR_ABS)/include/generated/utsrelease.h 2>/dev/null)
KREL_PATH := $(if $(filter build,$(notdir $(KDIR_ABS))),$(notdir $(patsubst %/build,%,$(KDIR_ABS))),$(patsubst linux-headers-%,%,$(notdir $(KDIR_ABS))))
KREL ?= $(or $(KREL_UTS),$(KREL_PATH))
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
	$(TOP)/selftests/run.sh --bench --kernels "$(KERNELS)" $(if $(TESTS),--tests "$(TESTS)")

icount:
	$(TOP)/selftests/run.sh --icount --kernels "$(KERNELS)"

demo:
	@$(TOP)/selftests/demo/run.sh

style:
	$(TOP)/selftests/style.sh

# make install [KDIR=...] [DESTDIR=...] [PREFIX=...]: the module for the
# kernel of KDIR into <DESTDIR>/lib/modules/<release>/extra (then depmod,
# unless DESTDIR is set: a staged tree is depmod'ed where it lands), the
# CLI, man page and bash completion under <DESTDIR><PREFIX>.
MODDIR = $(DESTDIR)/lib/modules/$(KREL)/extra
install: module tools
	install -D -m 0644 $(TOP)/build/$(KNAME)/kipsec.ko $(MODDIR)/kipsec.ko
	$(if $(DESTDIR),,depmod -a $(KREL))
	$(MAKE) -C tools install PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

uninstall:
	rm -f $(MODDIR)/kipsec.ko
	-rmdir --ignore-fail-on-non-empty $(MODDIR) 2>/dev/null
	$(if $(DESTDIR),,depmod -a $(KREL))
	$(MAKE) -C tools uninstall PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

# DKMS. The layout keeps the top level to the files DESIGN.md lists, and
# dkms.conf must name the version the module reports (kmod/kipsec.h), so
# dkms.conf is generated here, into a source tree that holds only what
# kbuild needs: <DESTDIR>/usr/src/kipsec-<version>/{dkms.conf,Kbuild,kmod,uapi}.
# Then `dkms add|build|install kipsec/<version>` work as usual; `make dkms`
# runs the three for the kernel of KDIR.
VERSION := $(shell sed -n 's/.*KIPSEC_VERSION "\(.*\)".*/\1/p' $(TOP)/kmod/kipsec.h)
DKMS_SRCDIR ?= /usr/src
DKMS_SRC = $(DESTDIR)$(DKMS_SRCDIR)/kipsec-$(VERSION)
DKMS_MAKE = make -C $${kernel_source_dir} M=$${dkms_tree}/$${PACKAGE_NAME}/$${PACKAGE_VERSION}/build
dkms-source:
	@test -n "$(VERSION)" || { echo "kipsec: no KIPSEC_VERSION in kmod/kipsec.h" >&2; exit 1; }
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)/kmod/selftest $(DKMS_SRC)/uapi/linux
	install -m 0644 $(TOP)/Kbuild $(DKMS_SRC)/Kbuild
	install -m 0644 $(wildcard $(TOP)/kmod/*.[ch]) $(DKMS_SRC)/kmod/
	install -m 0644 $(wildcard $(TOP)/kmod/selftest/*.c) $(DKMS_SRC)/kmod/selftest/
	install -m 0644 $(TOP)/uapi/linux/kipsec.h $(DKMS_SRC)/uapi/linux/
	printf '%s\n' \
		'# Generated by kipsec'"'"'s make dkms-source.' \
		'PACKAGE_NAME="kipsec"' \
		'PACKAGE_VERSION="$(VERSION)"' \
		'BUILT_MODULE_NAME[0]="kipsec"' \
		'BUILT_MODULE_LOCATION[0]="."' \
		'DEST_MODULE_LOCATION[0]="/extra"' \
		'MAKE[0]="$(DKMS_MAKE) modules"' \
		'CLEAN="$(DKMS_MAKE) clean"' \
		'AUTOINSTALL="yes"' >$(DKMS_SRC)/dkms.conf
	@echo "kipsec: DKMS source in $(DKMS_SRC)"

dkms: dkms-source
	dkms status kipsec/$(VERSION) | grep -q . || dkms add kipsec/$(VERSION)
	dkms build kipsec/$(VERSION) -k $(KREL) --kernelsourcedir $(KDIR_ABS)
	dkms install kipsec/$(VERSION) -k $(KREL)

dkms-remove:
	-dkms remove kipsec/$(VERSION) --all
	rm -rf $(DKMS_SRC)

# Host-side check run by CI before `make check`: DKMS builds against the
# cached 6.1 and 6.12 headers in a private DKMS tree, and the files
# `make install DESTDIR=...` lays out. KTAP, then "N passed, N failed".
dkms-check:
	KERNELS="$(KERNELS)" $(TOP)/selftests/install.sh

clean:
	rm -rf $(TOP)/build $(TOP)/kipsec.ko
	-$(MAKE) -C tools clean
