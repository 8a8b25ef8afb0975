#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make style: W=1 C=1 (sparse) builds of the module for both cached kernels
# and checkpatch.pl --strict (from Debian's linux-source package) on kmod/,
# uapi/ and tools/. Fails on any finding.

set -euo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KIPSEC_CACHE:-$TOP/.cache}
KERNELS=${KERNELS:-6.1 6.12}
CP=$CACHE/checkpatch/scripts/checkpatch.pl
fail=0

need() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

need sparse linux-source-6.1 libmnl-dev pkg-config
# shellcheck disable=SC2086
"$TOP/selftests/kernels.sh" $KERNELS

if [ ! -x "$CP" ]; then
	mkdir -p "$CACHE/checkpatch"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$CACHE/checkpatch" \
		--strip-components=1 linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

mkdir -p "$TOP/build"
for s in $KERNELS; do
	kdir=$(cat "$CACHE/kernels/$s/kdir")
	out=$TOP/build/style-$s
	rm -rf "$out"
	echo "style: W=1 C=1 build for $s"
	if ! make -s -C "$TOP" kbuild KDIR="$kdir" BUILD="$out" DEBUG=1 \
		EXTRA="W=1 C=1" >"$out.log" 2>&1; then
		cat "$out.log"; fail=1; continue
	fi
	# Findings in kipsec's own files only (kernel headers are not ours).
	if grep -E '^(kmod|uapi|selftests/testmod)/.*(warning|error):|\./(kmod|uapi).*(warning|error):|'"$out"'.*(warning|error):' "$out.log"; then
		fail=1
	fi
done

echo "style: checkpatch --strict"
cp_args=(--strict --no-tree --quiet --show-types --terse -f)
mapfile -t kfiles < <(cd "$TOP" && ls kmod/*.[ch] kmod/*/*.[ch] uapi/linux/*.h selftests/testmod/*.c 2>/dev/null)
for f in "${kfiles[@]}"; do
	extra=()
	# compat.h is the one place for version tests: the crypto completion
	# signature (6.3) and skb_gso_segment's header (6.5) leave no feature
	# macro to test, and sparse has no __has_include. Its completion macro
	# declares a function, whose parameter name cannot be parenthesised.
	[ "$f" = kmod/compat.h ] && extra=(--ignore LINUX_VERSION_CODE,MACRO_ARG_PRECEDENCE)
	(cd "$TOP" && "$CP" "${cp_args[@]}" "${extra[@]}" "$f") || fail=1
done
# User-space C follows the kernel style too, minus the rules that are about
# kernel-only APIs (u32 types, kernel printk/alloc helpers) and the
# iproute2 argument-cursor idiom (NEXT_ARG returns from the parser).
mapfile -t ufiles < <(cd "$TOP" && ls tools/*.[ch] selftests/tests/*.c selftests/tests/lib/*.[ch] 2>/dev/null)
for f in "${ufiles[@]}"; do
	(cd "$TOP" && "$CP" "${cp_args[@]}" \
		--ignore PREFER_KERNEL_TYPES,SPLIT_STRING,NEW_TYPEDEFS,FILE_PATH_CHANGES,PREFER_PACKED,PREFER_FALLTHROUGH,SSCANF_TO_KSTRTO,PREFER_DEFINED_ATTRIBUTE_MACRO,MACRO_WITH_FLOW_CONTROL \
		"$f") || fail=1
done

if [ "$fail" -ne 0 ]; then
	echo "style: FAILED"
	exit 1
fi
echo "style: clean"
