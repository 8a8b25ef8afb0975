#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host-side packaging check (`make dkms-check`, run by CI before make
# check; nothing here loads a module): for each cached kernel
#   - the module builds through DKMS (`dkms add/build/install` with
#     --kernelsourcedir pointing at the cached headers), in a private DKMS
#     tree under a temporary directory, so the host's /var/lib/dkms,
#     /usr/src and /lib/modules are never touched;
#   - the module DKMS built has the kernel's vermagic and a description
#     for every parameter;
#   - `make install DESTDIR=...` lays out exactly the expected files (and
#     runs no depmod), `make uninstall DESTDIR=...` removes them all.
# Installs Debian's dkms package (without recommends: no kernel headers
# pulled in) when it is missing. KTAP, then "N passed, N failed".
#
#   install.sh            both cached kernels (KERNELS="6.1 6.12")

set -u

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KIPSEC_CACHE:-$TOP/.cache}
KERNELS=${KERNELS:-6.1 6.12}
N=0
FAILED=0

ok() { N=$((N + 1)); echo "ok $N $1"; }
nok() {
	N=$((N + 1)); FAILED=$((FAILED + 1)); echo "not ok $N $1"
	[ $# -lt 2 ] || printf '%s\n' "$2" | tail -n 20 | sed -e 's/^/# | /'
}
check() { # DESC CMD...: ok if CMD succeeds; its output on failure
	local d=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$d"; else nok "$d" "$out"; fi
}
eq() { # DESC GOT WANT
	if [ "$2" == "$3" ]; then ok "$1"; else nok "$1" "got:
$2
expected:
$3"; fi
}

need=()
for p in dkms dwarves make gcc libmnl-dev pkg-config kmod; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "# installing ${need[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${need[@]}"; } >/dev/null 2>&1 ||
		{ echo "install.sh: cannot install ${need[*]}" >&2; exit 1; }
fi
# shellcheck disable=SC2086
kout=$("$TOP/selftests/kernels.sh" $KERNELS 2>&1) ||
	{ printf '%s\n' "$kout" >&2; echo "install.sh: kernel fetch failed" >&2; exit 1; }

VERSION=$(sed -n 's/.*KIPSEC_VERSION "\(.*\)".*/\1/p' "$TOP/kmod/kipsec.h")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "KTAP version 1"
echo "# dkms $(dkms --version 2>/dev/null | sed 's/dkms-//'), kipsec $VERSION"
printf '%s\n' "$kout" | sed -e 's/^/# /'

# The DKMS source tree is the same for every kernel.
check "make dkms-source stages dkms.conf, Kbuild, kmod/ and uapi/" \
	make -s -C "$TOP" dkms-source DESTDIR="$tmp/src"
src=$tmp/src/usr/src/kipsec-$VERSION
eq "dkms.conf names the module's version" \
	"$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$src/dkms.conf" 2>/dev/null)" "$VERSION"

for s in $KERNELS; do
	kdir=$(cat "$CACHE/kernels/$s/kdir")
	kver=$(cat "$CACHE/kernels/$s/kver")
	dk=(-m kipsec -v "$VERSION" --sourcetree "$tmp/src/usr/src"
	    --dkmstree "$tmp/dkms-$s" --installtree "$tmp/inst-$s")
	mkdir -p "$tmp/dkms-$s" "$tmp/inst-$s/$kver"
	t0=$(date +%s)
	check "$s: dkms add" dkms add "${dk[@]}"
	check "$s: dkms build -k $kver --kernelsourcedir <cached headers>" \
		dkms build "${dk[@]}" -k "$kver" --kernelsourcedir "$kdir"
	check "$s: dkms install into a private tree" \
		dkms install "${dk[@]}" -k "$kver" --no-depmod
	echo "# $s: dkms add, build and install took $(( $(date +%s) - t0 )) s"
	ko=$(find "$tmp/inst-$s/$kver" -name 'kipsec.ko*' | head -1)
	if [ -n "$ko" ]; then
		ok "$s: module installed by dkms (${ko#"$tmp/inst-$s/"})"
		eq "$s: its vermagic is the kernel's" \
			"$(modinfo -F vermagic "$ko" | cut -d' ' -f1)" "$kver"
		# modinfo lists parmtype for every parameter and parm only for
		# those with a MODULE_PARM_DESC.
		eq "$s: every module parameter has a description" \
			"$(modinfo "$ko" | sed -n 's/^parm: *\([^:]*\):[^ (].*/\1/p' | sort)" \
			"$(modinfo -F parmtype "$ko" | cut -d: -f1 | sort)"
		check "$s: the module has parameters (the check above is not vacuous)" \
			test -n "$(modinfo -F parmtype "$ko")"
	else
		nok "$s: module installed by dkms" "$(find "$tmp/inst-$s")"
	fi
	eq "$s: dkms status" "$(dkms status "${dk[@]}" 2>/dev/null)" \
		"kipsec/$VERSION, $kver, x86_64: installed"
	check "$s: dkms remove" dkms remove "${dk[@]}" -k "$kver" --no-depmod
	check "$s: nothing left in the private install tree" \
		test -z "$(find "$tmp/inst-$s" -name 'kipsec.ko*')"

	# make install / uninstall, staged
	root=$tmp/root-$s
	check "$s: make install DESTDIR=... KDIR=<cached headers>" \
		make -s -C "$TOP" install DESTDIR="$root" KDIR="$kdir"
	eq "$s: make install laid out exactly the expected files" \
		"$(cd "$root" 2>/dev/null && find . -type f | sort)" \
		"$(printf '%s\n' "./lib/modules/$kver/extra/kipsec.ko" \
			./usr/local/bin/kipsec \
			./usr/local/share/bash-completion/completions/kipsec \
			./usr/local/share/man/man8/kipsec.8 | sort)"
	eq "$s: the installed module is for $kver" \
		"$(modinfo -F vermagic "$root/lib/modules/$kver/extra/kipsec.ko" 2>/dev/null | cut -d' ' -f1)" "$kver"
	check "$s: the installed CLI runs" "$root/usr/local/bin/kipsec" -V
	check "$s: the installed man page renders" \
		sh -c "MANWIDTH=80 man -l '$root/usr/local/share/man/man8/kipsec.8' | grep -q explain"
	check "$s: the installed completion completes live SPIs, ids, algorithms (tools/completion/test.sh)" \
		bash "$TOP/tools/completion/test.sh" "$root/usr/local/share/bash-completion/completions/kipsec"
	check "$s: make uninstall DESTDIR=..." \
		make -s -C "$TOP" uninstall DESTDIR="$root" KDIR="$kdir"
	eq "$s: make uninstall removed every file" \
		"$(cd "$root" && find . -type f)" ""
done

echo "1..$N"
echo "$((N - FAILED)) passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
