#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, tables at scale: install rate and the cost of a large SPD.
#
# - Install rate: N SAs and N policies through one `kipsec -batch` against
#   the same through `ip -batch` into the native stack, RUNS times each,
#   alternating (seconds, median (min..max), and the ratio of the medians
#   native/kipsec: above 1 means kipsec installs faster). A stack that
#   went over the limit once is not run again at that size. Each install
#   starts once kipsec's deferred frees of the previous one are done.
#   Under TCG the absolute times are the emulator's; calibrate.sh's
#   yardstick, run on the host (by run.sh) and here, gives how much slower
#   this guest does kernel table work, and kipsec's times divided by it
#   are printed as an estimate at host speed.
# - Lookup at scale: TCP throughput a -> b (AES-GCM-128, tunnel) with N
#   filler policies installed in the stack under test, half exact (/32)
#   and half prefixes, none matching, all ahead of the matching policy in
#   priority, so that the matching one is worst-placed. The filler is
#   installed only in the stack being measured (native policies would
#   cost a lookup to kipsec's packets too), so per size the runs of
#   one stack follow each other rather than alternating. Sizes KIPSEC_BENCH_SPD
#   (default "10 1000 10000 100000").

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"
. "$(dirname "$0")/common.sh"
. "$(dirname "$0")/../leak.sh"

SIZES=${KIPSEC_BENCH_SPD:-10 1000 10000 100000}
RUNS=${KIPSEC_BENCH_RUNS:-5}
[ "$RUNS" -gt 3 ] && RUNS=3

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# filler FORMAT N: N policy (or SA) lines for kipsec or ip xfrm. Policies:
# even i exact hosts, odd i /24 prefixes, all distinct, in 10.128.0.0/9,
# never matching
# 10.0.1.0/24 -> 10.0.2.0/24.
filler() { # kipsec|native policy|sa N
	"$PY" - "$@" <<'PY'
import sys
stack, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
key = "0x0102030405060708090a0b0c0d0e0f1011121314"
out = []
for i in range(n):
    j = i >> 1
    if kind == "policy":
        if i % 2:
            s = "10.%d.%d.0/24" % (128 + ((j >> 8) & 127), j & 255)
            d = "10.%d.0.0/24" % (128 + (j >> 15))
        else:
            s = "10.%d.%d.%d/32" % (128 + ((j >> 16) & 127), (j >> 8) & 255, j & 255)
            d = "10.250.0.1/32"
        tmpl = "tmpl src 192.0.2.1 dst 192.0.2.2 proto esp mode tunnel reqid 9"
        if stack == "kipsec":
            out.append("policy add dir out src %s dst %s priority 100 action protect %s" % (s, d, tmpl))
        else:
            out.append("xfrm policy add dir out src %s dst %s priority 100 %s" % (s, d, tmpl))
    else:
        spi = 0x100000 + i
        sa = "src 192.0.2.1 dst 192.0.2.2 proto esp spi %#x mode tunnel reqid 9" % spi
        if stack == "kipsec":
            out.append("sa add %s aead 'rfc4106(gcm(aes))' %s 128" % (sa, key))
        else:
            out.append("xfrm state add %s aead 'rfc4106(gcm(aes))' %s 128" % (sa, key))
print("\n".join(out))
PY
}

# The matching SAs and policies, priority 1000 (worse than the filler's 100).
cfg() { cfg_pair "$1" "$GCM" tunnel 1000; }

# An install that takes longer than LIMIT seconds is stopped and reported
# as such rather than left to eat the boot's time (KIPSEC_BENCH_INSTALL_LIMIT).
LIMIT=${KIPSEC_BENCH_INSTALL_LIMIT:-300}

load_batch() { # STACK FILE: seconds, "over" past LIMIT, empty on failure
	local t0 rc=0
	t0=$(now)
	if [ "$1" = kipsec ]; then
		n a timeout "$LIMIT" "$KIPSEC" -batch "$2" >/dev/null || rc=$?
	else
		timeout "$LIMIT" ip -n a -batch "$2" >/dev/null || rc=$?
	fi
	case $rc in
	0) secs "$t0" ;;
	124) echo over ;;
	*) return 1 ;;
	esac
}

# fmt_runs SECS...: "median (min..max) s", or ">LIMIT s" if one run was over
fmt_runs() {
	case " $* " in
	*" over "*) printf '>%s s' "$LIMIT" ;;
	*) printf '%s s' "$(stats "$@")" ;;
	esac
}

# install_ratio "NATIVE SECS..." "KIPSEC SECS...": native/kipsec of the
# medians, n/a if either went over the limit
install_ratio() {
	case "$1 $2" in
	*over*) echo n/a ;;
	*) # shellcheck disable=SC2086 # lists of numbers
	   awk -v a="$(median $2)" -v b="$(median $1)" 'BEGIN { printf "%.2f", b / a }' ;;
	esac
}

# settle: kipsec's SAs and policies of the last flush freed (their frees
# are deferred past an RCU grace period), so that an install is not timed
# while the previous one's frees still run; at most 60 s.
settle() {
	local v
	v=$(leak_wait_objects "0 0 0" 60) ||
		t_diag "settle: kipsec's in-flight packets, live SAs and policies still '$v' after 60 s"
}

# at_host SECS...: the median at host speed by the yardstick, "" without it
at_host() {
	case "$*" in
	*over*) ;;
	*) [ -n "$FACTOR" ] && awk -v t="$(median "$@")" -v f="$FACTOR" \
		'BEGIN { printf "  at host speed about %.2f s", t / f }' ;;
	esac
}

FACTOR=""
GUEST_CAL=""
# Without the host's figure the guest's is of no use: not measured.
[ -n "${KIPSEC_BENCH_HOST_CAL:-}" ] && GUEST_CAL=$("$(dirname "$0")/calibrate.sh")
if [ -n "$GUEST_CAL" ]; then
	FACTOR=$(awk -v g="$GUEST_CAL" -v h="$KIPSEC_BENCH_HOST_CAL" \
		'BEGIN { printf "%.2f", g / h }')
	t_diag "yardstick (calibrate.sh, 100k routes): host $KIPSEC_BENCH_HOST_CAL s, guest $GUEST_CAL s: this guest is ${FACTOR}x slower at table work (an estimate: the host's kernel is not this one)"
else
	t_diag "yardstick (calibrate.sh): host '${KIPSEC_BENCH_HOST_CAL:-}' s, guest '$GUEST_CAL' s: no host-speed estimates"
fi

bench_start
t_diag "kernel $(uname -r); SPD sizes $SIZES; $RUNS runs of ${SECS} s per size and stack"

for N in $SIZES; do
	for kind in sa policy; do
		what=SAs; [ $kind = policy ] && what=policies
		filler kipsec $kind "$N" >/tmp/kipsec.batch
		filler native $kind "$N" >/tmp/native.batch
		TK=(); TN=(); bad=""
		for _ in $(seq 1 "$RUNS"); do
			for stack in kipsec native; do
				[ $stack = kipsec ] && [[ ${TK[*]} = *over* ]] && continue
				[ $stack = native ] && [[ ${TN[*]} = *over* ]] && continue
				flush_all
				settle
				if ! t=$(load_batch $stack /tmp/$stack.batch) ||
				   [ -z "$t" ]; then
					bad="$bad $stack"
					continue
				fi
				if [ $stack = kipsec ]; then TK+=("$t"); else TN+=("$t"); fi
			done
		done
		flush_all
		if [ -n "$bad" ] || [ ${#TK[@]} -eq 0 ] || [ ${#TN[@]} -eq 0 ]; then
			t_fail "install $N $what (failed:${bad:- none}; kipsec '${TK[*]}' s, native '${TN[*]}' s)"
			continue
		fi
		t_diag "$(printf 'install %6d %-8s  kipsec %s  native %s  native/kipsec %s%s' \
			"$N" "$what" "$(fmt_runs "${TK[@]}")" "$(fmt_runs "${TN[@]}")" \
			"$(install_ratio "${TN[*]}" "${TK[*]}")" "$(at_host "${TK[@]}")")"
		t_ok "install $N $what in both stacks (or stopped after $LIMIT s)"
	done

	filler kipsec policy "$N" >/tmp/kipsec.batch
	filler native policy "$N" >/tmp/native.batch
	K=(); X=(); over=""
	for stack in kipsec native; do
		flush_all
		if ! t=$(load_batch "$stack" "/tmp/$stack.batch") ||
		   ! cfg "$stack"; then
			t_fail "$stack: configure with $N filler policies"
			continue
		fi
		if [ "$t" = over ]; then
			t_diag "$stack: $N filler policies not installed within $LIMIT s: no throughput figure"
			over="$over $stack"
			continue
		fi
		for _ in $(seq 1 "$RUNS"); do
			v=$(tcp_mbps)
			[ -n "$v" ] && [ "$v" != 0 ] || continue
			if [ $stack = kipsec ]; then K+=("$v"); else X+=("$v"); fi
		done
	done
	broken=""
	[[ $over != *kipsec* ]] && [ ${#K[@]} -eq 0 ] && broken="$broken kipsec"
	[[ $over != *native* ]] && [ ${#X[@]} -eq 0 ] && broken="$broken native"
	if [ -n "$broken" ]; then
		t_fail "tcp with $N filler policies carried traffic (no run of:$broken)"
		continue
	fi
	mk=n/a; mx=n/a; ratio=n/a
	[ ${#K[@]} -gt 0 ] && mk=$(median "${K[@]}")
	[ ${#X[@]} -gt 0 ] && mx=$(median "${X[@]}")
	[ "$mk" != n/a ] && [ "$mx" != n/a ] &&
		ratio=$(awk -v a="$mk" -v b="$mx" 'BEGIN { printf "%.2f", a / b }')
	t_diag "$(printf 'tcp gcm128 tunnel, %6d policies  kipsec %8s Mbit/s  native %8s Mbit/s  ratio %s' \
		"$N" "$mk" "$mx" "$ratio")"
	t_ok "tcp with $N filler policies carried traffic where installed"
done

bench_end
