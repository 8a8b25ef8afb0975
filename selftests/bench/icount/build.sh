#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build.sh OUT CACHE: builds the icount QEMU plugin (icount.c) into OUT.
# Its one header, qemu-plugin.h, comes from the source of the QEMU that is
# installed (Debian's qemu package: the upstream tarball, from the Debian
# archive's pool), kept in CACHE/qemu-plugin/VERSION/.

set -euo pipefail

out=$1
cache=$2
here=$(cd "$(dirname "$0")" && pwd)
ver=$(dpkg-query -W -f='${source:Upstream-Version}' qemu-system-x86)
inc=$cache/qemu-plugin/$ver
mirror=${KIPSEC_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ ! -f "$inc/qemu-plugin.h" ]; then
	mkdir -p "$inc"
	tarball=qemu_$ver.orig.tar.xz
	echo "# fetching $tarball for qemu-plugin.h" >&2
	python3 - "$mirror/pool/main/q/qemu/$tarball" "$inc/$tarball" <<-'PY'
	import sys, urllib.request
	urllib.request.urlretrieve(sys.argv[1], sys.argv[2])
	PY
	tar -xJf "$inc/$tarball" -C "$inc" --no-same-owner --wildcards --strip-components=3 \
		'*/include/qemu/qemu-plugin.h'
	rm -f "$inc/$tarball"
fi
[ "$out" -nt "$here/icount.c" ] && [ "$out" -nt "$inc/qemu-plugin.h" ] && exit 0
mkdir -p "$(dirname "$out")"
cc -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC -I"$inc" -o "$out" "$here/icount.c" -lpthread
