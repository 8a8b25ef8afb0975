#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Stage 2 of the kipsec test guest: PID 1 on the overlay root. Runs the
# tests named in /results/tests one by one, and after each records its exit
# status, the kernel log it caused and the taint state. Powers off at the
# end. The host runner (selftests/run.sh) reads everything from /results.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=dumb
R=/results

poweroff_now() {
	sync
	echo o > /proc/sysrq-trigger
	# A builtin wait: once the power-off starts, running /bin/sleep from
	# the 9p root can fail, PID 1 would exit and the kernel would panic.
	read -r -t 60 _ </dev/console
}
trap poweroff_now EXIT

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /var/tmp
mount -t tmpfs tmpfs /var/log 2>/dev/null
mkdir -p /dev/pts /dev/shm /run/netns
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
# Keep the root's home writable and private to this boot.
mount -t tmpfs tmpfs /root

# shellcheck source=/dev/null
. "$R/env"
kver=$(uname -r)
mkdir -p "/lib/modules/$kver"
mount --bind "$KIPSEC_MODDIR" "/lib/modules/$kver"

hostname kipsec-guest
ip link set dev lo up
# aesni first: without udev nothing loads it and the AEADs fall back to
# aes-generic (QEMU-NOTES.md).
modprobe -q aesni_intel 2>/dev/null
echo 1 > /proc/sys/kernel/sysrq
dmesg -n 5

echo "kipsec-guest: booted $kver"
echo "$kver" > "$R/booted"

# The keys the tests configure start with these bytes (selftests/algs.sh,
# the CLI tests); none may reach the kernel log, as hex or in %ph form.
key_re='0102030405060708|01 02 03 04 05 06 07 08|0123456789abcdef|01 23 45 67 89 ab cd ef|a1a2a3a4a5a6a7a8|a1 a2 a3 a4 a5 a6 a7 a8|0011223344556677|00 11 22 33 44 55 66 77'

taint_bad() {
	# Bits allowed: O (12, out-of-tree) and E (13, unsigned).
	local t
	read -r t </proc/sys/kernel/tainted
	[ $((t & ~((1 << 12) | (1 << 13)))) -ne 0 ] && echo "$t"
}

kerr_re='WARNING:|BUG:|BUG |Oops|general protection|Call Trace|UBSAN|KFENCE|kernel BUG|refcount_t|list_add corruption|list_del corruption|stack-protector|double free|Poison overwritten|Redzone|Object padding'

# Between two tests the harness starts as few processes as it can (each
# costs 65-250 ms under TCG): times from bash's clock, files read by bash,
# one awk for the test's part of the log and one for both searches in it.

for t in $(cat "$R/tests"); do
	name=$(basename "${t%.*}")
	# KIPSEC_XTRACE=1: a shell test's trace, each line stamped with the
	# time, goes to NAME.err (to find where a test spends its time).
	run=(bash)
	[ "${KIPSEC_XTRACE:-0}" = 1 ] &&
		run=(bash -c 'PS4="+\$EPOCHREALTIME "; set -x; . "$0"')
	case $t in *.py) run=(/usr/bin/python3) ;; esac
	echo "kipsec-guest: test $name"
	echo "$EPOCHREALTIME" > "$R/$name.start"
	echo "test $name" > /dev/kmsg
	(cd /tmp && timeout -k 10 "${KIPSEC_TEST_TIMEOUT:-900}" "${run[@]}" "$t") \
		> "$R/$name.out" 2>"$R/$name.err" < /dev/null
	echo $? > "$R/$name.rc"
	echo "$EPOCHREALTIME" > "$R/$name.end"
	# Leftovers of one test must not leak into the next.
	ip -all netns delete 2>/dev/null
	pkill -9 -f -x 'iperf3.*|tcpdump.*|charon.*|socat.*' 2>/dev/null
	if [ -d /sys/module/kipsec ] && ! rmmod kipsec 2> "$R/$name.rmmod"; then
		echo "rmmod kipsec failed after the test" >> "$R/$name.harness"
		cat "$R/$name.rmmod" >> "$R/$name.harness"
	fi
	# The test's kernel log starts at its marker (the first line ending
	# in "] test NAME"); a long test's log may have wrapped past it, and
	# then all that is left is the test's.
	dmesg | awk -v m="] test $name" '
		{ l[++n] = $0 }
		!s && substr($0, length($0) - length(m) + 1) == m { s = n }
		END { for (i = s ? s : 1; i <= n; i++) print l[i] }' > "$R/$name.dmesg"
	# KFENCE's counters (6.12 runs): that it watched the test's
	# allocations, even when a long test's log wrapped past its banner.
	kf=""
	IFS= read -r -d '' kf 2>/dev/null < /sys/kernel/debug/kfence/stats
	printf '%s' "$kf" > "$R/$name.kfence"
	# Warnings and bugs (the first 5 lines), key bytes in any case (3).
	awk -v kerr="$kerr_re" -v key="$key_re" '
		$0 ~ kerr && nk < 5 { k[++nk] = $0 }
		tolower($0) ~ key && ny < 3 { y[++ny] = $0 }
		END {
			if (nk) print "kernel log has a warning or bug:"
			for (i = 1; i <= nk; i++) print k[i]
			if (ny) print "kernel log shows key bytes:"
			for (i = 1; i <= ny; i++) print y[i]
		}' "$R/$name.dmesg" >> "$R/$name.harness"
	if bad=$(taint_bad); then
		echo "kernel tainted beyond O|E: $bad" >> "$R/$name.harness"
	fi
done

dmesg > "$R/dmesg"
cat /proc/sys/kernel/tainted > "$R/tainted"
echo "kipsec-guest: done"
touch "$R/done"
