#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: kipsec against the native XFRM stack in the same boot.
# Two namespaces a and b with m forwarding between them (topo_hosts); the
# same SAs and policies are configured either in kipsec or in the native
# stack, and every measurement alternates the stacks (kipsec, kipsec-1cpu,
# native, kipsec, ...), KIPSEC_BENCH_RUNS times each; kipsec-1cpu is
# kipsec with its parallel stage off (parallel=0: the crypto on the CPU
# that handles the packet, as the native stack does it). Figures are
# printed as diagnostics: median (min..max) for each stack and the ratio
# of the medians to native (above 1 is better for kipsec, for latency
# below 1 is), then how busy each vCPU is with 4 TCP streams on one SA.
# The only failures are broken measurements (no traffic).
#
# Under TCG the crypto is emulated and dominates: absolute figures mean
# little, the ratios are what count.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"
. "$(dirname "$0")/common.sh"

RUNS=${KIPSEC_BENCH_RUNS:-5}
# The packet-rate rows vary most from run to run (a UDP flood's rate is
# how the two vCPUs' time is shared between sender, crypto and receiver),
# so they take more runs: at least 9.
UDP_RUNS=${KIPSEC_BENCH_UDP_RUNS:-$((RUNS > 9 ? RUNS : 9))}

# Measurements print one number on stdout (empty if nothing flowed).
udp_pps() { # LEN: datagrams per second delivered
	n a iperf3 -c $B4 -u -b 0 -l "$1" -t "$SECS" -J 2>/dev/null | jq_py \
		"round((d['end']['sum']['packets'] - d['end']['sum']['lost_packets']) / d['end']['sum']['seconds'])" 2>/dev/null
}

rtt_us() { # median|p99 of 200 pings, in microseconds
	n a ping -n -c 200 -i 0.005 -q -W 1 $B4 >/dev/null 2>&1 || true
	n a ping -n -c 200 -i 0.005 -W 1 $B4 2>/dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -n |
		awk -v q="$1" '{ v[NR] = $1 } END {
			if (!NR) exit
			i = q == "p99" ? int(NR * 0.99 + 0.999) : int((NR + 1) / 2)
			printf "%d\n", v[i] * 1000 }'
}

# ratio A B: A / B to two decimals
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# pct A B: A as a percentage of B
pct() { awk -v a="$1" -v b="$2" 'BEGIN { print 100 * a / b }'; }

# replay_drops STACK: packets b's stack dropped for the replay window so
# far (kipsec's namespace counter, or the native XFRM MIB); both survive
# cfg_stack's flushes.
replay_drops() {
	case $1 in
	native) n b cat /proc/net/xfrm_stat |
		awk '/^XfrmInStateSeqError/ { v = $2 } END { print v + 0 }' ;;
	*) kipsec_stat b in_replay || echo 0 ;;
	esac
}

# run_ratios A B: "median (min..max)" of A_i / B_i, where A and B are two
# stacks' figures in run order (space-separated). Run i of each stack is
# measured within seconds of the other's, so a host that turns slower or
# faster for a while moves both halves of a ratio alike.
run_ratios() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) printf "%.6f\n", x[i] / y[i] }' |
		sort -g | awk '{ v[NR] = $1 } END {
		printf "%.2f (%.2f..%.2f)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# bench NAME UNIT WORDS MODE CMD...: alternate the stacks RUNS times
# (kipsec, kipsec-1cpu, native, kipsec, ...). Packets that arrive too far
# out of order for the SA's replay window (64) are dropped and show as
# lost traffic; their count over the runs is printed when there are any.
# Under the medians' line, the ratios run by run (run_ratios): how far
# one run's ratio strays from the others'.
bench() {
	local name=$1 unit=$2 w=$3 m=$4 i s v ok=1 mk mi mn r0
	shift 4
	local -a K=() I=() N=()
	local -A D=([kipsec]=0 [kipsec-1cpu]=0 [native]=0)
	for i in $(seq 1 "$RUNS"); do
		for s in kipsec kipsec-1cpu native; do
			if ! cfg_stack "$s" "$w" "$m"; then
				ok=0; continue
			fi
			r0=$(replay_drops "$s")
			v=$("$@")
			D[$s]=$((D[$s] + $(replay_drops "$s") - r0))
			if [ -z "$v" ] || [ "$v" = 0 ]; then
				ok=0; continue
			fi
			case $s in
			kipsec) K+=("$v") ;;
			kipsec-1cpu) I+=("$v") ;;
			*) N+=("$v") ;;
			esac
		done
	done
	if [ "$ok" = 0 ] || [ ${#K[@]} -eq 0 ] || [ ${#I[@]} -eq 0 ] ||
	   [ ${#N[@]} -eq 0 ]; then
		t_fail "$name: every run carried traffic (kipsec ${#K[@]}, kipsec-1cpu ${#I[@]}, native ${#N[@]} of $RUNS)"
		return
	fi
	mk=$(median "${K[@]}"); mi=$(median "${I[@]}"); mn=$(median "${N[@]}")
	t_diag "$(printf '%-30s kipsec %-24s 1cpu %-24s native %-24s ratio %s (1cpu %s)' \
		"$name [$unit]" "$(stats "${K[@]}")" "$(stats "${I[@]}")" \
		"$(stats "${N[@]}")" "$(ratio "$mk" "$mn")" "$(ratio "$mi" "$mn")")"
	t_diag "$(printf '%-30s ratio run by run: kipsec %s, 1cpu %s (%s runs)' \
		"" "$(run_ratios "${K[*]}" "${N[*]}")" \
		"$(run_ratios "${I[*]}" "${N[*]}")" "${#K[@]}")"
	if [ $((D[kipsec] + D[kipsec-1cpu] + D[native])) -gt 0 ]; then
		t_diag "$(printf '%-30s replay-window drops at b over the runs: kipsec %s, 1cpu %s, native %s' \
			"" "${D[kipsec]}" "${D[kipsec-1cpu]}" "${D[native]}")"
	fi
	t_ok "$name: every run carried traffic"
	LAST_KIPSEC=$mk
	LAST_NATIVE=$mn
}

# busy_jiffies: jiffies the vCPUs spent busy, and in all, "BUSY TOTAL"
# (summed over the vCPUs, from /proc/stat: user, nice, system, irq and
# softirq are busy; idle, iowait and steal are not).
busy_jiffies() {
	awk '/^cpu[0-9]/ { for (i = 2; i <= 9; i++) t += $i; b += $2 + $3 + $4 + $7 + $8 }
		END { print b, t }' /proc/stat
}

# plain_tcp: one TCP stream a -> b with no IPsec at all, "MBPS COST":
# Mbit/s, and the vCPU-seconds the path spent per Mbit (how busy the
# vCPUs were, in vCPUs, over the Mbit/s).
plain_tcp() {
	local b0 b1 v
	flush_all
	b0=$(busy_jiffies)
	v=$(tcp_mbps 1)
	b1=$(busy_jiffies)
	[ -n "$v" ] && [ "$v" != 0 ] || return 0
	awk -v v="$v" -v b0="${b0% *}" -v t0="${b0#* }" -v b1="${b1% *}" \
		-v t1="${b1#* }" -v n="$(nproc)" 'BEGIN {
		busy = n * (b1 - b0) / (t1 - t0)
		printf "%s %.6f\n", v, busy / v }'
}

# cpu_share CMD...: run CMD (its output discarded) and print how busy each
# vCPU was meanwhile, "cpuN busy% (softirq%)", from /proc/stat.
cpu_share() {
	local t
	t=$(mktemp -d)
	grep '^cpu[0-9]' /proc/stat >"$t/before"
	"$@" >/dev/null
	grep '^cpu[0-9]' /proc/stat >"$t/after"
	paste -d' ' "$t/before" "$t/after" | awk '{
		n = (NF - 2) / 2; b = 0; a = 0
		for (i = 2; i <= n + 1; i++) { b += $i; a += $(i + n + 1) }
		idle = ($(n + 6) + $(n + 7)) - ($5 + $6)
		soft = $(n + 9) - $8
		tot = a - b
		if (tot > 0)
			printf "%s %d%% (softirq %d%%)  ", $1, 100 * (tot - idle) / tot, 100 * soft / tot
	}'
	rm -rf "$t"
}

bench_start
t_diag "kernel $(uname -r), $(nproc) vCPUs, $RUNS runs of ${SECS} s each, alternating kipsec, kipsec-1cpu and native"
t_diag "under TCG the crypto is emulated: read the ratios, not the absolute figures"

for mode in tunnel transport; do
	bench "tcp gcm128 $mode 1 stream" Mbit/s "$GCM" $mode tcp_mbps 1
	[ "$mode" = tunnel ] && GCM_TCP=$LAST_KIPSEC GCM_NAT=$LAST_NATIVE
	bench "tcp gcm128 $mode 4 streams" Mbit/s "$GCM" $mode tcp_mbps 4
	bench "tcp null-sha256 $mode 1 stream" Mbit/s "$NUL" $mode tcp_mbps 1
	bench "tcp null-sha256 $mode 4 streams" Mbit/s "$NUL" $mode tcp_mbps 4
done
RUNS=$UDP_RUNS bench "udp 64 B gcm128 tunnel" pkt/s "$GCM" tunnel udp_pps 64
RUNS=$UDP_RUNS bench "udp 1400 B gcm128 tunnel" pkt/s "$GCM" tunnel udp_pps 1400
RUNS=$UDP_RUNS bench "udp 64 B null-sha256 tunnel" pkt/s "$NUL" tunnel udp_pps 64
bench "rtt median gcm128 tunnel" us "$GCM" tunnel rtt_us median
bench "rtt p99 gcm128 tunnel" us "$GCM" tunnel rtt_us p99

# CPU scaling: one SA pair carrying 4 TCP streams; how busy each vCPU is.
for s in kipsec kipsec-1cpu native; do
	if cfg_stack "$s" "$GCM" tunnel; then
		t_diag "$(printf 'cpu use, tcp gcm128 tunnel 4 streams, %-12s %s' "$s:" \
			"$(cpu_share tcp_mbps 4)")"
	fi
done

# What a tunnel-mode TCP run leaves in a's route to b: the path MTU that
# TCP's packets were sized by (cfg_stack flushes it before every run).
for s in kipsec native; do
	if cfg_stack "$s" "$GCM" tunnel; then
		tcp_mbps 1 >/dev/null
		mtu=$(ip -n a -4 route get $B4 | grep -o 'mtu.*' | tr -s ' ')
		t_diag "$(printf 'path mtu a -> b after tcp gcm128 tunnel, %-7s %s' \
			"$s:" "${mtu:-none learnt (the interface MTU)}")"
	fi
done

# The crypto ceiling: tcrypt's rfc4106(gcm(aes)) speed test (mode 211),
# 128-bit key, 1424-byte blocks (what a 1500-byte tunnel packet carries),
# in the same boot. The module never stays loaded (-EAGAIN by design).
dmesg -C
modprobe tcrypt mode=211 sec=1 >/dev/null 2>&1
# The sections are "testing speed of rfc4106(gcm(aes)) (DRIVER) encryption"
# (and decryption), lines "test N (K bit key, S byte blocks): X operations
# in T seconds (B bytes)"; the first key size and the block size nearest
# 1424 count. Prints "ENC_MBPS BLOCK DEC_MBPS" (DEC_MBPS 0 if missing).
ceil=$(dmesg | "$PY" -c '
import re, sys
on, key, best = None, None, {}
for line in sys.stdin:
    if "testing speed of" in line:
        on = None
        if "rfc4106(gcm(aes))" in line:
            on = "enc" if "encryption" in line else "dec" if "decryption" in line else None
        continue
    m = re.search(r"\((\d+) bit key, (\d+) byte blocks\).*in (\d+) seconds? \((\d+) bytes\)", line)
    if not on or not m:
        continue
    k, bs, secs, nbytes = map(int, m.groups())
    key = key or k
    b = best.get(on)
    if k == key and (b is None or abs(bs - 1424) < b[0]):
        best[on] = (abs(bs - 1424), bs, nbytes * 8 / secs / 1e6)
if "enc" in best:
    dec = best.get("dec")
    print("%.1f %d %.1f" % (best["enc"][2], best["enc"][1],
                            dec[2] if dec and dec[1] == best["enc"][1] else 0))
')
read -r ceil CEIL_BS ceil_dec <<<"$ceil"
if [ -n "$ceil" ]; then
	t_diag "$(printf 'tcrypt rfc4106(gcm(aes)) 128-bit %s B: %.1f Mbit/s one CPU; kipsec tunnel 1 stream: %s Mbit/s = %.0f%% of it' \
		"$CEIL_BS" "$ceil" "${GCM_TCP:-0}" "$(pct "${GCM_TCP:-0}" "$ceil")")"
	t_ok "tcrypt ceiling measured"
	# What this VM's path allows any IPsec stack. With no IPsec, a -> b
	# costs COST vCPU-seconds per Mbit (plain_tcp); a tunnel adds the
	# cipher twice (a encrypts, b decrypts, same VM), 1/ENC + 1/DEC more.
	# With N vCPUs all busy no stack carries more than N / (COST + 1/ENC
	# + 1/DEC) Mbit/s (more packets per Mbit under IPsec only lower it).
	P=(); C=()
	for _ in $(seq 1 "$RUNS"); do
		read -r v c <<<"$(plain_tcp)"
		[ -n "$v" ] && P+=("$v") && C+=("$c")
	done
	if [ ${#P[@]} -gt 0 ] && [ "${ceil_dec:-0}" != 0 ]; then
		mp=$(median "${P[@]}"); mc=$(median "${C[@]}")
		bound=$(awk -v n="$(nproc)" -v c="$mc" -v e="$ceil" -v d="$ceil_dec" \
			'BEGIN { printf "%.1f", n / (c + 1 / e + 1 / d) }')
		t_diag "$(printf 'tcp with no IPsec, 1 stream: %s Mbit/s, %.2f vCPUs busy; tcrypt decryption %.1f Mbit/s' \
			"$(stats "${P[@]}")" "$(awk -v a="$mp" -v c="$mc" 'BEGIN { print a * c }')" "$ceil_dec")"
		t_diag "$(printf 'ceiling of this VM path for any IPsec stack: %s Mbit/s = %.0f%% of tcrypt; kipsec reaches %.0f%% of it, native %.0f%%' \
			"$bound" "$(pct "$bound" "$ceil")" \
			"$(pct "${GCM_TCP:-0}" "$bound")" \
			"$(pct "${GCM_NAT:-0}" "$bound")")"
		t_ok "path ceiling measured"
	else
		t_fail "path ceiling measured (plain runs ${#P[@]}, decryption '${ceil_dec}')"
	fi
else
	t_diag "tcrypt printed: $(dmesg | grep -i 'speed\|byte blocks' | head -5 | tr '\n' '|')"
	t_fail "tcrypt ceiling measured"
fi

bench_end
