#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: where the time goes. The same TCP transfer (iperf3 a -> b,
# 4 streams, one tunnel-mode SA pair) under kipsec, kipsec with parallel=0
# and the native stack, each sampled with perf (cpu-clock, every vCPU,
# call graphs off); prints the busiest kernel symbols of each run, with
# the share of samples that were not idle. For ESP-NULL+HMAC-SHA256 (the
# datapath without the cipher) and AES-GCM-128. Then the per-packet cost:
# 64-byte UDP datagrams at full rate, AES-GCM-128, kipsec and native.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"
. "$(dirname "$0")/common.sh"

TOP=${KIPSEC_BENCH_TOP:-15}

if ! command -v perf >/dev/null; then
	t_diag "perf is not installed on the host (Debian package linux-perf)"
	t_fail "perf available"
	t_done
fi

bench_start
TMP=$(mktemp -d)

# profile NAME STACK WORDS [UDP_LEN]: perf over one transfer (TCP, or UDP
# datagrams of UDP_LEN bytes), the top symbols.
profile() {
	local name=$1 stack=$2 w=$3 len=${4:-} mbps load unit=Mbit/s
	if ! cfg_stack "$stack" "$w" tunnel; then
		t_fail "$name $stack: configured"
		return
	fi
	load="-P 4"
	[ -n "$len" ] && load="-u -b 0 -l $len"
	perf record -q -a -e cpu-clock -o "$TMP/perf.data" -- \
		sh -c "ip netns exec a iperf3 -c $B4 -t $SECS $load -J >$TMP/iperf.json 2>/dev/null" \
		>/dev/null 2>&1
	if [ -n "$len" ]; then
		unit=pkt/s
		mbps=$(jq_py "round((d['end']['sum']['packets'] - d['end']['sum']['lost_packets']) / d['end']['sum']['seconds'])" \
			<"$TMP/iperf.json" 2>/dev/null)
	else
		mbps=$(jq_py "round(d['end']['sum_received']['bits_per_second'] / 1e6, 1)" \
			<"$TMP/iperf.json" 2>/dev/null)
	fi
	if [ -z "$mbps" ]; then
		t_fail "$name $stack: traffic flowed"
		return
	fi
	t_diag "$name, $stack: $mbps $unit; top kernel symbols, % of busy samples:"
	perf report -i "$TMP/perf.data" --no-children --sort sym --stdio \
		-g none 2>/dev/null | "$PY" -c '
import re, sys
rows = []
for line in sys.stdin:
    m = re.match(r"\s*([\d.]+)%\s+\[(.)\]\s+(\S+)", line)
    if m:
        rows.append((float(m.group(1)), m.group(2), m.group(3)))
idle = sum(p for p, k, s in rows if re.search(r"safe_halt|default_idle|cpu_idle|poll_idle|mwait", s))
busy = 100 - idle
for p, k, s in sorted((r for r in rows if r[0] > 0), reverse=True):
    if re.search(r"safe_halt|default_idle|cpu_idle|poll_idle|mwait", s):
        continue
    print("  %5.1f%%  %s" % (100 * p / busy if busy > 0 else 0, s))
' | head -n "$TOP" | while IFS= read -r line; do t_diag "$line"; done
	t_ok "$name $stack: profiled"
}

for alg in null-sha256 gcm128; do
	[ "$alg" = gcm128 ] && w=$GCM || w=$NUL
	for stack in kipsec kipsec-1cpu native; do
		profile "tcp $alg tunnel 4 streams" "$stack" "$w"
	done
done
for stack in kipsec native; do
	profile "udp 64 B gcm128 tunnel" "$stack" "$GCM" 64
done
rm -rf "$TMP"
bench_end
