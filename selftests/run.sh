#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec selftest runner: boots Debian's own 6.1 and 6.12 kernels in QEMU,
# loads the freshly built debug module, runs selftests/tests/*.sh inside the
# guest and reports KTAP, ending with a plain "N passed, N failed" line.
#
#   run.sh [--kernels "6.1 6.12"] [--tests "load genl"] [--stress]
#          [--no-selfcheck] [--timeout SECS] [--mem MiB] [--bench]
#          [--icount]
#
# --bench runs selftests/bench/*.sh instead (make bench): the release
# module, no slub_debug, the kernels one after the other so that they do
# not compete for the CPUs. --icount runs the benchmark icount.sh the same
# way, with QEMU's instruction-count plugin (selftests/bench/icount/,
# built here) loaded: make icount.
#
# Every test is followed by harness checks in the guest: the module must
# unload, the kernel log must have no WARNING/BUG/Oops and no bytes of the
# tests' keys, and the taint must be O|E at most. The guest boots with
# panic_on_warn=1 oops=panic panic=-1 and QEMU with -no-reboot, so a
# warning ends QEMU (status 1) once the panic is on the console, and fails
# the run. Results and logs: selftests/results/<series>/
# (make stress: selftests/results/<series>/<test>/, one boot per test).
#
# Environment: KIPSEC_SMP (vCPUs per guest), KIPSEC_XTRACE=1 (shell tests
# under bash -x with timestamps, in NAME.err), KIPSEC_MODPARAMS (module
# parameters for every kipsec_load), KIPSEC_APPEND (more kernel command
# line), KIPSEC_FUZZ_SEED, KIPSEC_TEST_TIMEOUT, KIPSEC_BOOT_TIMEOUT,
# KIPSEC_BENCH_INSTALL_LIMIT (make bench: seconds an spd install may take).

set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KIPSEC_CACHE:-$TOP/.cache}
KERNELS="6.1 6.12"
TESTS=""
STRESS=0
BENCH=0
ICOUNT=0
SELFCHECK=1
# One boot runs every test of a kernel (about 30 min under TCG); each test
# has its own limit inside the guest (TEST_TIMEOUT). make stress boots once
# per test instead, with the limits of stress_limits().
BOOT_TIMEOUT=${KIPSEC_BOOT_TIMEOUT:-3600}
BOOT_FIXED=${KIPSEC_BOOT_TIMEOUT:-}
TEST_TIMEOUT=${KIPSEC_TEST_TIMEOUT:-900}
MEM=${KIPSEC_MEM:-3072}
SMP=${KIPSEC_SMP:-}
RESULTS=${KIPSEC_RESULTS:-$TOP/selftests/results}

while [ $# -gt 0 ]; do
	case $1 in
	--kernels) KERNELS=$2; shift ;;
	--tests) TESTS=$2; SELFCHECK=0; shift ;;
	--stress) STRESS=1 ;;
	--icount) ICOUNT=1; TESTS=icount ;&	# and what --bench sets
	--bench) BENCH=1; SELFCHECK=0; TEST_TIMEOUT=${KIPSEC_TEST_TIMEOUT:-3600}
		BOOT_TIMEOUT=${KIPSEC_BOOT_TIMEOUT:-5400} ;;
	--no-selfcheck) SELFCHECK=0 ;;
	--selfcheck-only) SELFCHECK=2 ;;
	--timeout) BOOT_TIMEOUT=$2; BOOT_FIXED=$2; shift ;;
	--mem) MEM=$2; shift ;;
	*) echo "run.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done

# vCPUs per guest. make check boots its kernels side by side, and a guest
# given more vCPUs than the host has cores for it runs slower, not faster:
# its vCPUs spin on locks and IPIs while a sibling vCPU is descheduled.
# Measured on a 2-core host, esp_native with both kernels in parallel:
# 300-311 s with 2 vCPUs per guest, 111-121 s with 1 (90 s for one guest
# alone with 2). So each guest gets the cores that are its share, 1 or 2;
# benchmarks boot one kernel at a time and get 2 (CPU scaling is one of
# their figures). KIPSEC_SMP overrides.
if [ -z "$SMP" ]; then
	guests=$(wc -w <<<"$KERNELS")
	[ "$BENCH" = 1 ] && guests=1
	SMP=$(($(nproc) / guests))
	[ "$SMP" -lt 1 ] && SMP=1
	[ "$SMP" -gt 2 ] && SMP=2
fi

log() { printf '# %s\n' "$*"; }
die() { printf 'run.sh: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- host preparation --------------------------------------------------------

host_pkgs=(qemu-system-x86 busybox-static cpio kmod dwarves xz-utils zstd gcc
	   make bc libelf-dev libmnl-dev pkg-config iproute2 iperf3 tcpdump
	   python3-scapy strongswan-charon strongswan-swanctl nftables iptables
	   util-linux procps psmisc iputils-ping)

ensure_packages() {
	local missing=() p
	for p in "${host_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing packages: ${missing[*]} (run as root)"
	log "installing ${missing[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
		die "apt-get install failed"
}

# Each selftests/tests/*.c is one program, linked with the shared helpers
# of selftests/tests/lib/*.c.
build_test_programs() {
	local c out l newer
	mkdir -p "$TOP/selftests/bin"
	for c in "$TOP"/selftests/tests/*.c; do
		[ -e "$c" ] || continue
		out=$TOP/selftests/bin/$(basename "$c" .c)
		newer=1
		for l in "$c" "$TOP/uapi/linux/kipsec.h" "$TOP"/selftests/tests/lib/*; do
			[ "$out" -nt "$l" ] || newer=0
		done
		[ "$newer" = 1 ] && continue
		# shellcheck disable=SC2046
		cc -O2 -g -Wall -Wextra -Werror -I"$TOP/uapi" -o "$out" "$c" \
			"$TOP"/selftests/tests/lib/*.c \
			$(pkg-config --cflags --libs libmnl) || die "cannot build $c"
	done
}

series_dir() { echo "$CACHE/kernels/$1"; }

build_module() {
	mkdir -p "$TOP/build"
	local s=$1 kdir
	kdir=$(cat "$(series_dir "$s")/kdir")
	make -s -C "$TOP" kbuild KDIR="$kdir" BUILD="$TOP/build/debug-$s" \
		DEBUG=1 TESTMOD=1 >"$TOP/build/debug-$s.log" 2>&1 || {
		cat "$TOP/build/debug-$s.log" >&2
		die "module build for $s failed"
	}
	grep -E 'warning:|error:' "$TOP/build/debug-$s.log" >&2 &&
		die "module build for $s has warnings"
	[ "$BENCH" = 1 ] || return 0
	make -s -C "$TOP" kbuild KDIR="$kdir" BUILD="$TOP/build/bench-$s" \
		>"$TOP/build/bench-$s.log" 2>&1 || {
		cat "$TOP/build/bench-$s.log" >&2
		die "release module build for $s failed"
	}
}

# The initramfs: busybox, stage-1 init, and the modules needed to mount the
# host root (virtio, 9p, overlay).
build_initrd() {
	local s=$1 dir kver root tmp m line ko
	dir=$(series_dir "$s")
	kver=$(cat "$dir/kver")
	root=$dir/root
	tmp=$(mktemp -d)
	mkdir -p "$tmp"/{bin,proc,sys,dev,modules}
	cp /bin/busybox "$tmp/bin/busybox"
	cp "$TOP/selftests/guest/init" "$tmp/init"
	: >"$tmp/modules.order"
	for m in virtio virtio_ring virtio_pci 9pnet 9pnet_virtio netfs fscache \
		 9p overlay; do
		while read -r line; do
			case $line in
			insmod\ *) ko=$(echo "$line" | awk '{ print $2 }') ;;
			*) continue ;;
			esac
			local base
			base=$(basename "$ko")
			base=${base%.xz}
			grep -qx "$base" "$tmp/modules.order" && continue
			case $ko in
			*.xz) xz -dc "$ko" >"$tmp/modules/$base" ;;
			*.zst) zstd -qdc "$ko" >"$tmp/modules/${base%.zst}"; base=${base%.zst} ;;
			*) cp "$ko" "$tmp/modules/$base" ;;
			esac
			echo "$base" >>"$tmp/modules.order"
		done < <(modprobe -d "$root" -S "$kver" --show-depends "$m" 2>/dev/null)
	done
	# Renamed into place: the cache may be shared, and a QEMU still
	# loading the old file (mapped) dies of SIGBUS if it is rewritten.
	(cd "$tmp" && find . | cpio -o -H newc --quiet) >"$dir/initrd.cpio.$$"
	mv -f "$dir/initrd.cpio.$$" "$dir/initrd.cpio"
	rm -rf "$tmp"
}

# /dev/kvm exists on these machines but may have no backend (-accel kvm
# hangs). A kernel with no root panics at once under a working KVM.
ACCEL=tcg
probe_kvm() {
	local stamp=$CACHE/kvm-probe boot_id
	boot_id=$(cat /proc/sys/kernel/random/boot_id)
	if [ -f "$stamp" ] && [ "$(head -1 "$stamp")" = "$boot_id" ]; then
		ACCEL=$(sed -n 2p "$stamp")
		return
	fi
	ACCEL=tcg
	if [ -w /dev/kvm ]; then
		timeout 8 qemu-system-x86_64 -machine q35,accel=kvm -cpu host -m 128 \
			-nodefaults -display none -serial none -no-reboot \
			-kernel "$(series_dir "${KERNELS%% *}")/vmlinux" \
			-append "panic=-1" >/dev/null 2>&1 && ACCEL=kvm
	fi
	printf '%s\n%s\n' "$boot_id" "$ACCEL" >"$stamp"
}

# --- one boot ----------------------------------------------------------------

# boot SERIES RESDIR TESTFILE...
boot() {
	local s=$1 res=$2 dir kver cpu rc
	shift 2
	dir=$(series_dir "$s")
	kver=$(cat "$dir/kver")
	rm -rf "$res"
	mkdir -p "$res"
	printf '%s\n' "$@" >"$res/tests"
	cat >"$res/env" <<-EOF
	export KIPSEC_TOP=$TOP
	export KIPSEC_KO=$TOP/build/$([ "$BENCH" = 1 ] && echo bench || echo debug)-$s/kipsec.ko
	export KIPSEC_TESTMOD_KO=$TOP/build/debug-$s/selftests/testmod/kipsec_testmod.ko
	export KIPSEC_DEBUG_KO=$TOP/build/debug-$s/kipsec.ko
	export KIPSEC=$TOP/tools/kipsec
	export KIPSEC_BIN_DIR=$TOP/selftests/bin
	export KIPSEC_SERIES=$s
	export KIPSEC_STRESS=$STRESS
	export KIPSEC_BENCH_RUNS=${KIPSEC_BENCH_RUNS:-5}
	export KIPSEC_BENCH_SECS=${KIPSEC_BENCH_SECS:-4}
	export KIPSEC_BENCH_SPD="${KIPSEC_BENCH_SPD:-10 1000 10000 100000}"
	export KIPSEC_TEST_TIMEOUT=$TEST_TIMEOUT
	export KIPSEC_MODDIR=$dir/root/lib/modules/$kver
	export KIPSEC_TEST_IMPL=${KIPSEC_TEST_IMPL:-kipsec}
	export KIPSEC_FUZZ_SEED=${KIPSEC_FUZZ_SEED:-}
	export KIPSEC_XTRACE=${KIPSEC_XTRACE:-0}
	EOF
	# Sizes of the hostile-input tests, when given (their files say
	# which), e.g. CHURN_ROUNDS=250 make stress TESTS=churn.
	# KIPSEC_MODPARAMS: parameters for every kipsec_load, e.g.
	# KIPSEC_MODPARAMS=parallel=1 to run the tests with the parallel
	# stage as the release build sets it.
	for v in GENL_FUZZ_COUNT CHURN_ROUNDS UNLOAD_CYCLES TEARDOWNS KIPSEC_MODPARAMS \
		 KIPSEC_BENCH_INSTALL_LIMIT KIPSEC_BENCH_HOST_CAL KIPSEC_BENCH_UDP_RUNS \
		 KIPSEC_ICOUNT_ROUNDS KIPSEC_ICOUNT_TOP; do
		[ -n "${!v:-}" ] && echo "export $v=\"${!v}\"" >>"$res/env"
	done
	cpu=max
	[ "$ACCEL" = kvm ] && cpu=host
	# Tests: slab debugging, and no zeroing of new allocations
	# (init_on_alloc, on in Debian's kernels): a read of memory kipsec
	# never wrote then finds slub_debug's poison, not zeroes that hide
	# it, and the run is about 4% faster under TCG. Benchmarks boot as a
	# router would, with Debian's defaults.
	local slub=" slub_debug=FZPU init_on_alloc=0" plugin=""
	[ "$BENCH" = 1 ] && slub=""
	[ "$ICOUNT" = 1 ] && plugin=$TOP/build/icount.so
	timeout -k 10 "$BOOT_TIMEOUT" qemu-system-x86_64 \
		-machine q35,accel="$ACCEL" -cpu "$cpu" -smp "$SMP" -m "$MEM" \
		-nodefaults -display none -no-reboot -no-user-config \
		-serial "file:$res/console.log" \
		-kernel "$dir/vmlinux" -initrd "$dir/initrd.cpio" \
		-append "console=ttyS0 panic=-1 panic_on_warn=1 oops=panic$slub mitigations=off loglevel=5 kfence.sample_interval=100${KIPSEC_APPEND:+ $KIPSEC_APPEND} kipsec.stage2=$TOP/selftests/guest/stage2.sh" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$res,mount_tag=results,security_model=none,multidevs=remap" \
		${plugin:+-plugin "$plugin,dir=$res"} \
		>"$res/qemu.log" 2>&1
	rc=$?
	# A panic reboots the guest and -no-reboot ends QEMU with 0, after
	# the kernel wrote the panic to the console. (A pvpanic device ended
	# QEMU earlier, from the panic notifiers, before the console was
	# flushed: an unload long form died with nothing in console.log.)
	[ "$rc" = 0 ] && grep -q 'Kernel panic - not syncing' "$res/console.log" && rc=1
	echo "$rc" >"$res/qemu.rc"
	return 0
}

# --- reporting ---------------------------------------------------------------
#
# KTAP layout: kernels at level 0, tests at level 1 (4 spaces), test points
# at level 2 (8 spaces). The functions below print a test at level 0 and its
# points at level 1; main indents by one level. The closing totals are
# counted from the innermost level of the KTAP itself.

# report_test RESDIR NAME INDEX: the test's KTAP and its result line.
# Harness findings, a missing exit status, a non-zero exit without a failed
# point and a test with no points are failures of their own.
report_test() {
	local res=$1 name=$2 idx=$3 ind='    ' p=0 f=0 n rc line
	echo "KTAP version 1"
	echo "# Subtest: $name"
	if [ -f "$res/$name.out" ]; then
		while IFS= read -r line; do
			case $line in
			"KTAP version"*|1..*) continue ;;
			"ok "*) p=$((p + 1)) ;;
			"not ok "*) f=$((f + 1)) ;;
			esac
			printf '%s%s\n' "$ind" "$line"
		done <"$res/$name.out"
		[ -s "$res/$name.err" ] &&
			sed -e "s/^/$ind# stderr: /" "$res/$name.err" | tail -n 15
	fi
	n=$((p + f))
	rc=$(cat "$res/$name.rc" 2>/dev/null || echo none)
	_point() {
		n=$((n + 1))
		if [ "$1" = ok ]; then
			p=$((p + 1)); printf '%sok %d %s\n' "$ind" "$n" "$2"
		else
			f=$((f + 1)); printf '%snot ok %d %s\n' "$ind" "$n" "$2"
		fi
	}
	if [ ! -f "$res/$name.start" ]; then
		_point fail "not run: the guest died before this test"
	elif [ "$rc" = none ]; then
		_point fail "the guest died during the test (panic, WARN or timeout)"
		grep -E -B2 -A12 'WARNING:|BUG|Oops|Kernel panic|general protection' \
			"$res/console.log" 2>/dev/null | head -n 40 |
			sed -e "s/^/$ind# console: /"
	else
		if [ "$rc" != 0 ] && [ "$f" -eq 0 ]; then
			_point fail "the test exited with status $rc"
		elif [ "$n" -eq 0 ]; then
			_point fail "the test reported no test points"
		fi
		if [ -s "$res/$name.harness" ]; then
			_point fail "harness: module unloads, kernel log, keys and taint clean"
			sed -e "s/^/$ind# /" "$res/$name.harness"
		else
			_point ok "harness: module unloads, kernel log, keys and taint clean"
		fi
	fi
	printf '%s1..%d\n' "$ind" "$n"
	[ -f "$res/$name.end" ] && printf '# %s took %s s\n' "$name" \
		"$(awk -v a="$(cat "$res/$name.start")" -v b="$(cat "$res/$name.end")" \
			'BEGIN { printf "%.1f", b - a }')"
	if [ "$f" -eq 0 ]; then
		echo "ok $idx $name"
	else
		echo "not ok $idx $name"
	fi
}

# run_series SERIES RESDIR FIRST_INDEX TESTS...: boot (retried once if the
# guest never reached its first marker) and report each test.
run_series() {
	local s=$1 res=$2 i=$3 t0 t
	shift 3
	t0=$(now)
	boot "$s" "$res" "$@"
	if [ ! -f "$res/booted" ]; then
		echo "# $s: the guest never reached its first marker; retrying once"
		sed -e 's/^/# console: /' "$res/console.log" | tail -n 20
		boot "$s" "$res" "$@"
		[ -f "$res/booted" ] || echo "# $s: the retry did not boot either"
	fi
	echo "# $s: boot and tests took $(elapsed "$t0") s (qemu exit $(cat "$res/qemu.rc"), accel $ACCEL, $SMP vCPUs)"
	for t in "$@"; do
		report_test "$res" "$(basename "${t%.*}")" "$i"
		i=$((i + 1))
	done
}

# --- the runner's own check --------------------------------------------------

# Runs selftests/harness/ (a failing test, a tainting test, a test that logs
# key bytes, a WARNing test) in a boot of its own and checks that each is
# reported as a failure, so the runner cannot pass silently. Printed as one test of its own.
selfcheck() {
	local s=$1 idx=$2 out n=0 f=0
	local res=$RESULTS/$s-selfcheck
	out=$(run_series "$s" "$res" 1 "$TOP/selftests/harness/fails.sh" \
		"$TOP/selftests/harness/taints.sh" "$TOP/selftests/harness/keylog.sh" \
		"$TOP/selftests/harness/warns.sh")
	echo "KTAP version 1"
	echo "# Subtest: runner-selfcheck"
	_sc() {
		n=$((n + 1))
		if eval "$2"; then
			echo "    ok $n $1"
		else
			f=$((f + 1)); echo "    not ok $n $1"
		fi
	}
	_sc "a passing test point is reported ok" \
		'grep -q "^    ok 1 this assertion holds" <<<"$out"'
	_sc "a failing test point is reported not ok" \
		'grep -q "^    not ok 2 deliberate failure" <<<"$out"'
	_sc "a test with a failing point is reported as failed" \
		'grep -q "^not ok 1 fails" <<<"$out"'
	_sc "a taint beyond O|E fails the test" \
		'grep -q "kernel tainted beyond O|E" <<<"$out" && grep -q "^not ok 2 taints" <<<"$out"'
	_sc "key bytes in the kernel log fail the test" \
		'grep -q "kernel log shows key bytes" <<<"$out" && grep -q "^not ok 3 keylog" <<<"$out"'
	_sc "a WARN panics the guest, ends QEMU with an error and fails the test" \
		'grep -q "^not ok 4 warns" <<<"$out" && [ "$(cat "$res/qemu.rc")" != 0 ] && grep -q "deliberate warning" "$res/console.log"'
	_sc "nothing runs after the WARN" \
		'! grep -q "after the warning" <<<"$out"'
	echo "    1..$n"
	if [ "$f" -ne 0 ]; then
		sed -e 's/^/    # | /' <<<"$out"
		echo "not ok $idx runner-selfcheck"
	else
		echo "ok $idx runner-selfcheck"
	fi
}

# --- main ----------------------------------------------------------------------

main() {
	local t0 s tests=() skipped=() i

	t0=$(now)
	ensure_packages
	# shellcheck disable=SC2086
	"$TOP/selftests/kernels.sh" $KERNELS || die "kernel fetch failed"
	log "stage: kernels ready in $(elapsed "$t0") s"

	t0=$(now)
	if [ -f "$TOP/tools/Makefile" ]; then
		make -s -C "$TOP/tools" >/dev/null || die "tools build failed"
	fi
	build_test_programs
	if [ "$ICOUNT" = 1 ]; then
		"$TOP/selftests/bench/icount/build.sh" "$TOP/build/icount.so" "$CACHE" ||
			die "cannot build the icount plugin"
	fi
	for s in $KERNELS; do
		build_module "$s"
		build_initrd "$s"
	done
	log "stage: module, tools and initramfs built in $(elapsed "$t0") s"
	probe_kvm

	if [ "$BENCH" = 1 ]; then
		# Sourced or run by the benchmarks, not benchmarks themselves.
		local helpers=" common calibrate "
		for i in ${TESTS:-$(cd "$TOP/selftests/bench" && ls -- *.sh | sed 's/\.sh$//')}; do
			if [[ $helpers == *" $i "* ]]; then
				[ -z "$TESTS" ] && continue
				die "'$i' is a helper of the benchmarks, not one"
			fi
			# icount needs the plugin, which slows the others down.
			if [ "$i" = icount ] && [ "$ICOUNT" = 0 ]; then
				[ -z "$TESTS" ] && continue
				die "icount runs on its own: make icount"
			fi
			[ -f "$TOP/selftests/bench/$i.sh" ] || die "no benchmark named '$i'"
			tests+=("$TOP/selftests/bench/$i.sh")
		done
		# spd.sh's yardstick, on the host while no guest runs.
		if [[ " ${tests[*]} " == */spd.sh\ * ]]; then
			KIPSEC_BENCH_HOST_CAL=$("$TOP/selftests/bench/calibrate.sh")
			export KIPSEC_BENCH_HOST_CAL
			log "host yardstick (calibrate.sh): ${KIPSEC_BENCH_HOST_CAL:-could not run} s"
		fi
	elif [ -n "$TESTS" ]; then
		for i in $TESTS; do
			if [ -f "$TOP/selftests/tests/$i.sh" ]; then
				tests+=("$TOP/selftests/tests/$i.sh")
			elif [ -f "$TOP/selftests/tests/$i.py" ]; then
				tests+=("$TOP/selftests/tests/$i.py")
			elif [ -f "$i" ] && [[ $i == /* ]]; then
				tests+=("$i")	# a script elsewhere (the demo)
			else
				die "no test named '$i'"
			fi
		done
	else
		# A test whose file says "kipsec-test: pending REASON" is reported
		# as skipped with its reason (KTAP # SKIP) unless named in TESTS:
		# work in progress stays visible without turning CI red.
		for i in "$TOP"/selftests/tests/*.sh "$TOP"/selftests/tests/*.py; do
			[ -e "$i" ] || continue
			if grep -q '^# kipsec-test: pending' "$i"; then
				skipped+=("$i")
			else
				tests+=("$i")
			fi
		done
	fi

	# The kernels boot in parallel (each guest is mostly single-threaded
	# under TCG); their KTAP is printed in order once all are done.
	for s in $KERNELS; do
		{
			series_block "$s" "${tests[@]}"
			n=$((${#tests[@]} + (SELFCHECK > 0 ? 1 : 0)))
			for i in "${skipped[@]}"; do
				n=$((n + 1))
				echo "ok $n $(basename "${i%.*}") # SKIP $(sed -n 's/^# kipsec-test: pending //p' "$i" | head -1)"
			done
		} >"$RESULTS/$s.ktap" 2>&1 &
		[ "$BENCH" = 1 ] && wait
	done
	wait
	echo "KTAP version 1"
	# shellcheck disable=SC2086
	echo "1..$(echo $KERNELS | wc -w)"
	i=0
	for s in $KERNELS; do
		i=$((i + 1))
		sed -e 's/^/    /' "$RESULTS/$s.ktap"
		# The kernel's own plan and result follow from what was printed.
		echo "    1..$(grep -cE '^(not )?ok ' "$RESULTS/$s.ktap")"
		if grep -qE '^not ok |^    not ok ' "$RESULTS/$s.ktap"; then
			echo "not ok $i $s"
		else
			echo "ok $i $s"
		fi
	done
}

# series_block SERIES TESTS...: one kernel's KTAP, at level 0.
series_block() {
	local s=$1 kver t0 j=1
	shift
	kver=$(cat "$(series_dir "$s")/kver")
	echo "KTAP version 1"
	echo "# Subtest: $s ($kver)"
	if [ "$SELFCHECK" -ne 0 ]; then
		t0=$(now)
		selfcheck "$s" 1
		echo "# $s: runner self-check took $(elapsed "$t0") s"
		j=2
	fi
	[ "$SELFCHECK" -eq 2 ] && return
	if [ "$STRESS" = 0 ]; then
		run_series "$s" "$RESULTS/$s" "$j" "$@"
		return
	fi
	# make stress: one boot per test, so that a long form has a fresh
	# kernel for its leak baseline and a limit of its own, and a panic
	# ends only its own test. Results: RESULTS/SERIES/TEST/.
	for t in "$@"; do
		stress_limits "$t"
		run_series "$s" "$RESULTS/$s/$(basename "${t%.*}")" "$j" "$t"
		j=$((j + 1))
	done
}

# stress_limits TEST: a long form names its limit in its file, a line
# "# kipsec-test: stress-timeout SECS" (its measured time on a busy 2-core
# host with a margin); others keep the default. The boot gets 600 s more
# for booting and the harness checks. KIPSEC_TEST_TIMEOUT and
# KIPSEC_BOOT_TIMEOUT (or --timeout) still override.
stress_limits() {
	local secs
	secs=$(sed -n 's/^# kipsec-test: stress-timeout \([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
	TEST_TIMEOUT=${KIPSEC_TEST_TIMEOUT:-${secs:-900}}
	BOOT_TIMEOUT=${BOOT_FIXED:-$((TEST_TIMEOUT + 600))}
}

mkdir -p "$RESULTS"
main 2>&1 | tee "$RESULTS/run.ktap"
status=${PIPESTATUS[0]}
for s in $KERNELS; do
	f=$RESULTS/$s.ktap
	[ -f "$f" ] || continue
	echo "# kernel $s: $(grep -cE '^    ok ' "$f") passed, $(grep -cE '^    not ok ' "$f") failed"
done
pass=$(grep -cE '^        ok ' "$RESULTS/run.ktap")
fail=$(grep -cE '^        not ok ' "$RESULTS/run.ktap")
skip=$(grep -cE '^    ok [0-9]+ [^ ]+ # SKIP' "$RESULTS/run.ktap")
if [ "$status" -ne 0 ]; then
	echo "# the runner itself failed (status $status)"
	fail=$((fail + 1))
fi
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
