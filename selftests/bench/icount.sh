#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make icount: where the work goes, in guest instructions per packet and
# per kernel function, kipsec, kipsec-1cpu (parallel=0) and the native
# stack side by side. Under TCG, time per function is blurred (perf's
# cpu-clock samples land where the emulator lets the timer fire), but
# instructions are exact: QEMU's icount plugin (selftests/bench/icount/)
# counts every guest kernel block executed, on every vCPU, and writes the
# counts out when this script drops a mark into /results.
#
# Each phase is one tunnel-mode SA pair a -> b and iperf3 sending 64-byte
# UDP datagrams at a fixed 2000 per second for KIPSEC_BENCH_SECS (below
# every stack's capacity, so every packet is delivered and the per-packet
# figures compare like with like): ESP-NULL with HMAC-SHA256 (the
# datapath without the cipher) and AES-GCM-128. An idle phase as long
# gives the background (timers, the marks themselves), which is
# subtracted. kipsec stays loaded during the native phases, as in make
# bench, so they include what its hooks cost traffic it does not handle.
# icount_report.py prints instructions per packet, by object and for the
# busiest functions, and kipsec-1cpu's difference from native: the
# serial path against the native one.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"
. "$(dirname "$0")/common.sh"

R=/results
ROUNDS=${KIPSEC_ICOUNT_ROUNDS:-2}
PPS=2000
LEN=64
MANIFEST=$R/icount.manifest

# mark NAME: the plugin's snapshot, NAME.counts (false if none came)
mark() {
	local i
	: >"$R/mark.$1"
	for ((i = 0; i < 200; i++)); do
		[ -f "$R/$1.counts" ] && return 0
		sleep 0.05
	done
	return 1
}

# phase NAME STACK ALG WORDS ROUND
phase() {
	local name=$1 stack=$2 alg=$3 w=$4 round=$5 pk
	if [ "$stack" = idle ]; then
		flush_all
	elif cfg_stack "$stack" "$w" tunnel; then
		# Routes, neighbours and the SAs' first packets before counting.
		n a ping -c 2 -i 0.2 -q $B4 >/dev/null 2>&1
	else
		t_fail "$name: configured"
		return
	fi
	if ! mark "$name.start"; then
		t_fail "$name: the icount plugin answers (run as make icount)"
		t_done
	fi
	if [ "$stack" = idle ]; then
		sleep "$SECS"
		pk="0 0"
	else
		pk=$(n a iperf3 -c $B4 -u -b $((LEN * 8 * PPS)) -l $LEN -t "$SECS" -J 2>/dev/null |
			jq_py "'%d %d' % (d['end']['sum']['packets'], d['end']['sum']['lost_packets'])" 2>/dev/null)
	fi
	mark "$name.end" || { t_fail "$name: end snapshot"; return; }
	if [ -z "$pk" ] || { [ "$stack" != idle ] && [ "${pk% *}" -eq 0 ]; }; then
		t_fail "$name: traffic flowed"
		return
	fi
	echo "$name $stack $alg $round $pk" >>"$MANIFEST"
	t_diag "$name: ${pk% *} datagrams, ${pk#* } lost"
	t_ok "$name"
}

# warm STACK WORDS: one second of the same traffic, not counted: what
# the first run of a boot does once (first allocations, random pool)
# stays out of the phases.
warm() {
	cfg_stack "$1" "$2" tunnel &&
		n a iperf3 -c $B4 -u -b $((LEN * 8 * PPS)) -l $LEN -t 1 >/dev/null 2>&1
}

bench_start
rm -f "$MANIFEST" "$R"/*.counts
# Symbols with kipsec loaded (no KASLR offsets to guess: the addresses
# are the running kernel's).
cat /proc/kallsyms >"$R/kallsyms"
t_diag "kernel $(uname -r): $LEN-byte UDP at $PPS/s for $SECS s per phase, $ROUNDS rounds"
for stack in kipsec-1cpu native kipsec; do
	warm "$stack" "$NUL"
	warm "$stack" "$GCM"
done
# Each round starts with another stack, so none is always the first
# after the idle phase.
order=(kipsec-1cpu native kipsec)
for round in $(seq 1 "$ROUNDS"); do
	phase "r$round-idle" idle - - "$round"
	for alg in null-sha256 gcm128; do
		[ "$alg" = gcm128 ] && w=$GCM || w=$NUL
		for stack in "${order[@]}"; do
			phase "r$round-$alg-$stack" "$stack" "$alg" "$w" "$round"
		done
	done
	order=("${order[@]:1}" "${order[0]}")
done
if "$PY" "$(dirname "$0")/icount_report.py" "$R" >/tmp/icount.report 2>&1; then
	while IFS= read -r line; do t_diag "$line"; done </tmp/icount.report
	t_ok "report"
else
	sed 's/^/# /' /tmp/icount.report
	t_fail "report"
fi
bench_end
