#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the benchmarks share, sourced after lib.sh, net.sh and algs.sh
# (topo_hosts: a -- m -- b).

# Shared settings: seconds per measurement, the two algorithm sets the
# benchmarks compare (AES-GCM-128, and ESP-NULL with HMAC-SHA256 for the
# datapath without the cipher), and the parallel stage's switch.
SECS=${KIPSEC_BENCH_SECS:-4}
GCM="aead 'rfc4106(gcm(aes))' $K20 128"
NUL="enc 'ecb(cipher_null)' \"\" auth-trunc 'hmac(sha256)' $H32 128"
PARAM=/sys/module/kipsec/parameters/parallel

# flush_all: no SA and no policy in either stack, in a and b, and no
# path MTU learnt by an earlier run: a route exception outlives the SAs
# (10 minutes), and one stack's would size the next stack's packets.
flush_all() {
	local ns
	for ns in a b; do
		ip -n $ns xfrm state flush; ip -n $ns xfrm policy flush
		ip netns exec $ns "$KIPSEC" sa flush
		ip netns exec $ns "$KIPSEC" policy flush
		ip -n $ns -4 route flush cache; ip -n $ns -6 route flush cache
	done
}

# cfg_pair STACK WORDS MODE [PRIO]: the SAs and policies of a <-> b in one
# stack (kipsec or native), ALG WORDS as algs.sh writes them, a's policies
# at priority PRIO (default: each stack's default).
cfg_pair() {
	local stack=$1 w=$2 m=$3 prio=${4:+priority $4} k
	if [ "$stack" = kipsec ]; then
		for k in a b; do
			eval "n $k $KIPSEC sa add src $A4 dst $B4 proto esp spi 0x1001 mode $m reqid 1 replay-window 64 $w" || return 1
			eval "n $k $KIPSEC sa add src $B4 dst $A4 proto esp spi 0x2001 mode $m reqid 2 replay-window 64 $w" || return 1
		done
		# shellcheck disable=SC2086
		n a "$KIPSEC" policy add dir out src $A4 dst $B4 $prio action protect \
			tmpl proto esp mode "$m" src $A4 dst $B4 reqid 1 &&
		n a "$KIPSEC" policy add dir in src $B4 dst $A4 $prio action protect \
			tmpl proto esp mode "$m" src $B4 dst $A4 reqid 2 &&
		n b "$KIPSEC" policy add dir out src $B4 dst $A4 action protect \
			tmpl proto esp mode "$m" src $B4 dst $A4 reqid 2 &&
		n b "$KIPSEC" policy add dir in src $A4 dst $B4 action protect \
			tmpl proto esp mode "$m" src $A4 dst $B4 reqid 1
	else
		eval "native_sa a $A4 $B4 0x1001 $m 1 $w" &&
		eval "native_sa a $B4 $A4 0x2001 $m 2 $w" &&
		eval "native_sa b $A4 $B4 0x1001 $m 1 $w" &&
		eval "native_sa b $B4 $A4 0x2001 $m 2 $w" &&
		# shellcheck disable=SC2086
		ip -n a xfrm policy add dir out src $A4/32 dst $B4/32 $prio \
			tmpl src $A4 dst $B4 proto esp mode "$m" reqid 1 &&
		ip -n a xfrm policy add dir in src $B4/32 dst $A4/32 $prio \
			tmpl src $B4 dst $A4 proto esp mode "$m" reqid 2 &&
		native_policy b out $B4/32 $A4/32 $B4 $A4 "$m" 2 &&
		native_policy b in $A4/32 $B4/32 $A4 $B4 "$m" 1
	fi
}

# cfg_stack STACK WORDS MODE: the pair in one stack, nothing in the other.
# STACK kipsec: the module's default (parallel stage on with 2+ vCPUs);
# kipsec-1cpu: parallel=0, each packet's crypto on the CPU that handles
# it, as the native stack does it; native: ip xfrm.
cfg_stack() {
	local s=$1
	shift
	flush_all
	case $s in
	kipsec) echo 1 >"$PARAM" ;;
	kipsec-1cpu) echo 0 >"$PARAM"; s=kipsec ;;
	esac
	cfg_pair "$s" "$@"
}

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# stats VALUES...: "median (min..max)"
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		printf "%s (%s..%s)", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# tcp_mbps [STREAMS]: iperf3 a -> b for KIPSEC_BENCH_SECS, Mbit/s received
# (empty if nothing flowed).
tcp_mbps() {
	n a iperf3 -c $B4 -t "$SECS" -P "${1:-1}" -J 2>/dev/null | jq_py \
		"round(d['end']['sum_received']['bits_per_second'] / 1e6, 1)" 2>/dev/null
}

# bench_start: native modules, kipsec, the a -- m -- b topology and an
# iperf3 server in b.
bench_start() {
	native_modules
	if ! kipsec_load; then
		t_fail "load kipsec"
		t_done
	fi
	topo_hosts
	n b iperf3 -s -D -p 5201 >/dev/null 2>&1
	sleep 1
}

bench_end() {
	n b pkill iperf3 2>/dev/null
	flush_all
	netns_cleanup
	kipsec_unload
	t_done
}
