#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's own 6.1 and 6.12 kernels (image + headers) into an ignored
# cache, without installing them system-wide. Idempotent: a second run with
# the cache complete does nothing but print where things are.
#
# Layout of the cache, per series S (6.1, 6.12):
#   $CACHE/S/root/            dpkg -x of image, headers, -common, kbuild
#   $CACHE/S/vmlinux          decompressed ELF kernel, booted directly (PVH)
#   $CACHE/S/kver             the kernel release (uname -r in the guest)
#   $CACHE/S/kdir             the headers directory to build modules against
#   $CACHE/S/.complete        written last
#
# Usage: kernels.sh [SERIES...]   (default: 6.1 6.12)

set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KIPSEC_CACHE:-$top/.cache}/kernels
series=("$@")
[ ${#series[@]} -gt 0 ] || series=(6.1 6.12)

log() { printf 'kernels: %s\n' "$*" >&2; }
die() { printf 'kernels: error: %s\n' "$*" >&2; exit 1; }

host_pkgs=(qemu-system-x86 busybox-static cpio kmod dwarves xz-utils zstd
	   libelf-dev gcc make bc)

ensure_host_packages() {
	local missing=() p
	for p in "${host_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root)"
	log "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

apt_lists_ready() {
	# apt-cache finds nothing before the first 'apt-get update'.
	if ! apt-cache show linux-headers-amd64 >/dev/null 2>&1; then
		[ "$(id -u)" -eq 0 ] || die "apt lists are empty (run apt-get update)"
		apt-get update -qq
	fi
}

# Print the newest ABI of series $1 (e.g. 6.1.0-56 or 6.12.117+deb12) for
# which both linux-image-<abi>-amd64 and linux-headers-<abi>-amd64 exist.
resolve_abi() {
	local s=$1 re abi
	case $s in
	6.1)  re='6\.1\.0-[0-9]+' ;;
	6.12) re='6\.12\.[0-9]+\+deb12' ;;
	*) die "unknown series $s" ;;
	esac
	for abi in $(apt-cache pkgnames linux-headers-"${s}". 2>/dev/null |
		     sed -nE "s/^linux-headers-($re)-amd64\$/\\1/p" | sort -rV); do
		if apt-cache show "linux-image-$abi-amd64" >/dev/null 2>&1 ||
		   apt-cache show "linux-image-$abi-amd64-unsigned" >/dev/null 2>&1; then
			echo "$abi"
			return 0
		fi
	done
	return 1
}

# Decompress the payload of a bzImage into an ELF vmlinux.
extract_vmlinux() {
	local img=$1 out=$2 tmp off magic
	tmp=$(mktemp)
	for magic in '\3757zXZ\000:xz -dc' '(\265/\375:zstd -dc' '\037\213\010:gzip -dc'; do
		local sig=${magic%%:*} cmd=${magic#*:}
		for off in $(LC_ALL=C grep -obaP "$(printf '%b' "$sig" | od -An -tx1 |
				tr -d ' \n' | sed 's/../\\x&/g')" "$img" 2>/dev/null |
				cut -d: -f1); do
			tail -c +$((off + 1)) "$img" | $cmd >"$tmp" 2>/dev/null || true
			if [ -s "$tmp" ] && head -c 4 "$tmp" | grep -q $'\x7fELF'; then
				mv "$tmp" "$out"
				return 0
			fi
		done
	done
	rm -f "$tmp"
	return 1
}

fetch_series() {
	local s=$1 dir=$CACHE/$1 abi kver pkgs common kbuild image deb
	if [ -f "$dir/.complete" ]; then
		log "$s: cached ($(cat "$dir/kver"))"
		return 0
	fi
	abi=$(resolve_abi "$s") || die "$s: no version with both image and headers"
	kver=$abi-amd64
	log "$s: resolved $kver"

	common=$(apt-cache depends "linux-headers-$kver" |
		 sed -nE 's/^ *\|?Depends: (linux-headers-[^ ]*-common)$/\1/p' | head -1)
	kbuild=$(apt-cache depends "linux-headers-$kver" |
		 sed -nE 's/^ *\|?Depends: (linux-kbuild-[^ ]*)$/\1/p' | head -1)
	[ -n "$common" ] && [ -n "$kbuild" ] || die "$s: cannot resolve -common/kbuild"
	image=linux-image-$kver
	apt-cache show "$image" >/dev/null 2>&1 || image=$image-unsigned
	pkgs=("$image" "linux-headers-$kver" "$common" "$kbuild")

	rm -rf "$dir"
	mkdir -p "$dir/debs" "$dir/root"
	log "$s: downloading ${pkgs[*]}"
	(cd "$dir/debs" && apt-get download -q "${pkgs[@]}" >/dev/null) ||
		die "$s: apt-get download failed"
	for deb in "$dir"/debs/*.deb; do
		dpkg -x "$deb" "$dir/root"
	done

	# The -amd64 headers' Makefile includes the -common one by absolute path.
	local kdir=$dir/root/usr/src/linux-headers-$kver
	[ -f "$kdir/Makefile" ] || die "$s: no headers Makefile in $kdir"
	sed -i -E "s@(include|MAKEARGS.*:=.*-C) /usr/src/@\\1 $dir/root/usr/src/@g" "$kdir/Makefile"
	# Symlinks inside the headers tree that point into /usr/src or /usr/lib.
	local l t
	while IFS= read -r l; do
		t=$(readlink "$l")
		case $t in
		/usr/*) ln -sfn "$dir/root$t" "$l" ;;
		esac
	done < <(find "$dir/root/usr/src" "$dir/root/lib/modules" -type l 2>/dev/null)

	# modules.dep for modprobe -d in the runner and the guest.
	depmod -b "$dir/root" "$kver"

	extract_vmlinux "$dir/root/boot/vmlinuz-$kver" "$dir/vmlinux" ||
		die "$s: cannot extract an ELF vmlinux from the bzImage"

	echo "$kver" >"$dir/kver"
	echo "$kdir" >"$dir/kdir"
	rm -rf "$dir/debs"
	touch "$dir/.complete"
	log "$s: ready in $dir"
}

ensure_host_packages
apt_lists_ready
for s in "${series[@]}"; do
	fetch_series "$s"
done
