#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SA and policy churn under traffic, kipsec on both ends:
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards         kipsec
#
# While ping (with a marker) and iperf3 run from a to b across an AES-GCM
# transport SA pair, a loop rekeys: a new SA pair on both ends, the
# policies switched to the new reqids with POLICY_UPDATE, the replay window
# and lifetimes of the new inbound SA updated in place, the old SAs
# deleted; every third round flushes everything and installs it again.
# The default actions are discard, so a window without policies drops
# traffic instead of leaking it. Checked:
#   - tcpdump in m sees no IPv4 packet between a and b other than ESP
#     during the whole run (and drops none), and sees ESP;
#   - every command is accepted, and traffic gets through the churn;
#   - counters add up: each ESP packet one end sent is counted once by
#     the other (accepted, or dropped with a reason, or left to the native
#     stack in a flush round, when that end holds no SA);
#   - no leak: kipsec's live objects return to 0, and after unload the
#     kmalloc caches to their baseline (leak.sh).
# Unload under traffic and namespace teardown are unload.sh's.
#
# A round is four kipsec -batch processes entering the namespace
# themselves (kipsec -n, not ip netns exec): under TCG process starts are
# most of its cost. make check: 6 rounds; make stress: 1000
# (CHURN_ROUNDS overrides).
# kipsec-test: stress-timeout 10800

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../leak.sh"

ROUNDS=${CHURN_ROUNDS:-6}
[ "${KIPSEC_STRESS:-0}" = 1 ] && ROUNDS=${CHURN_ROUNDS:-1000}
KEY=0x0102030405060708090a0b0c0d0e0f1011121314
GCM="aead rfc4106(gcm(aes)) $KEY 128"
ERRS=/tmp/churn-errors.log
: >"$ERRS"

# The SA pair of generation G: SPIs 0x10000 + 2 G (a to b) and + 1 (b to
# a); reqids G and G + 100000.
spi_ab() { echo $((0x10000 + 2 * $1)); }
spi_ba() { echo $((0x10001 + 2 * $1)); }

sa_lines() { # G
	echo "sa add src $A4 dst $B4 proto esp spi $(spi_ab "$1") mode transport reqid $1 replay-window 64 $GCM"
	echo "sa add src $B4 dst $A4 proto esp spi $(spi_ba "$1") mode transport reqid $(($1 + 100000)) replay-window 64 $GCM"
}

del_lines() { # G
	echo "sa del dst $B4 proto esp spi $(spi_ab "$1")"
	echo "sa del dst $A4 proto esp spi $(spi_ba "$1")"
}

# upd_line NS G: an in-place update of NS's inbound SA of generation G
# (replay window and lifetimes, the attributes a live SA may change).
upd_line() {
	local dst=$A4 spi
	spi=$(spi_ba "$2")
	[ "$1" = b ] && dst=$B4 spi=$(spi_ab "$2")
	echo "sa update dst $dst proto esp spi $spi replay-window $((64 << ($2 % 3))) lifetime soft packets $((1000000 + $2)) lifetime hard packets $((2000000 + $2))"
}

pol_lines() { # NS G add|update
	local lo=$A4 re=$B4 ro=$2 ri=$(($2 + 100000))
	[ "$1" = b ] && lo=$B4 re=$A4 ro=$(($2 + 100000)) ri=$2
	echo "policy $3 dir out src $lo dst $re action protect tmpl proto esp mode transport reqid $ro"
	echo "policy $3 dir in src $re dst $lo action protect tmpl proto esp mode transport reqid $ri"
}

kb() { # NS: kipsec commands on stdin, one process (errors kept)
	"$KIPSEC" -n "$1" -batch - 2>>"$ERRS"
}

configure() { # NS G: NS from scratch
	{
		echo "config set default-in discard"
		echo "config set default-out discard"
		sa_lines "$2"
		pol_lines "$1" "$2" add
	} | kb "$1"
}

# rekey OLD NEW: in the order of an IKE rekey, a installs the new SAs,
# b installs them and switches its policies, a switches and deletes the
# old pair, b deletes it.
rekey() {
	sa_lines "$2" | kb a || return 1
	{ sa_lines "$2"; pol_lines b "$2" update; upd_line b "$2"; } | kb b || return 1
	{ pol_lines a "$2" update; upd_line a "$2"; del_lines "$1"; } | kb a || return 1
	del_lines "$1" | kb b
}

configure_both() { configure a "$1" && configure b "$1"; }

reflush() { # G: everything flushed and installed again, one end at a time
	local ns
	for ns in a b; do
		{ printf 'sa flush\npolicy flush\n'; } | kb "$ns" || return 1
		configure "$ns" "$1" || return 1
	done
}

# A capture of what must never be there: IPv4 between a and b that is not
# ESP. A second one keeps the first 50 ESP packets, to show ESP passed.
LEAK_FILTER="ip and host $A4 and host $B4 and not esp"
cap_pids=()
cap_start() { # NAME FILTER [COUNT]
	local i
	ip netns exec m tcpdump -i m0 --immediate-mode -U -n -s 256 \
		${3:+-c "$3"} -w "/tmp/$1.pcap" "$2" >"/tmp/$1.log" 2>&1 &
	cap_pids+=("$!")
	for ((i = 0; i < 400; i++)); do
		file_has "/tmp/$1.log" 'listening on' && return 0
		nap 0.05
	done
	return 1
}

# ESP one end sent against what the other counted: in_packets and each
# inbound drop that an ESP packet can take.
esp_in_sum() { # NS
	"$KIPSEC" -n "$1" -j stats | sed 's/[,{}]/\n/g' | awk -F: '
		/"in_(packets|no_sa|sa_invalid|truncated|replay|auth_fail|bad_pad|bad_nexthdr|policy_mismatch|ecn_invalid|nomem|crypto_error)"/ { s += $2 }
		END { print s + 0 }'
}

# Where packets went, for a failed count: kipsec's non-zero counters and
# the IP and link counters of every hop.
flow_diag() {
	local ns
	for ns in a b; do
		t_diag "$ns: $("$KIPSEC" -n "$ns" -j stats | sed 's/[,{}]/\n/g' | grep -v ':0$' | grep -E '"(in|out|hook)_' | tr '\n' ' ')"
	done
	for ns in a m b; do
		ip netns exec "$ns" awk '/^Ip: / { if (h) { for (i = 2; i <= NF; i++) if ($i) printf "%s=%s ", k[i], $i; print "" } else { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 } }' /proc/net/snmp | sed "s/^/# $ns snmp: /"
		ip netns exec "$ns" awk '/^IpExt: / { if (h) { for (i = 2; i <= NF; i++) if ($i) printf "%s=%s ", k[i], $i; print "" } else { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 } }' /proc/net/netstat | sed "s/^/# $ns netstat: /"
		ip -n "$ns" -s -o link | sed -n "s/^[0-9]*: \([a-z0-9]*\)@[^ ]* .*RX:[^0-9]*\([0-9 ]*\).*TX:[^0-9]*\([0-9 ]*\).*/# $ns \1 RX \2 TX \3/p"
	done
}

# ESP that reached NS while it held no SA at all: kipsec leaves it to the
# native stack (kmod/input.c in_esp), which has no ESP handler here
# (InUnknownProtos) or, with esp4 loaded, no state (XfrmInNoStates). That
# happens in the flush rounds.
native_esp() { # NS
	ip netns exec "$1" cat /proc/net/snmp /proc/net/xfrm_stat 2>/dev/null | awk '
		/^Ip: / { if (h) { for (i = 2; i <= NF; i++) if (k[i] == "InUnknownProtos") s += $i }
			  else { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 } }
		/^XfrmInNoStates/ { s += $2 }
		END { print s + 0 }'
}

out_pkts() { # NS
	"$KIPSEC" -n "$1" -j stats | sed -n 's/.*"out_packets": *\([0-9]*\).*/\1/p'
}

# --- warm-up and leak baseline -------------------------------------------
# The algorithms' first use, the programs read once from 9p, the
# namespaces' first creation: all of that stays and is not a leak.
base=$(mktemp)
warm_up() {
	topo_hosts
	kipsec_load
	configure_both 1
	ip netns exec a ping -c 3 -i 0.2 -W 2 "$B4" >/dev/null 2>&1
	ip netns exec b iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	wait_listener b t 5201
	ip netns exec a iperf3 -c "$B4" -p 5201 -t 1 >/dev/null 2>&1
	wait
	rekey 1 2 && reflush 3
	"$KIPSEC" -n a -j -s sa show >/dev/null
	esp_in_sum a >/dev/null
	netns_cleanup
	leak_wait_objects "0 0 0"
	kipsec_unload
}
warm_up >/dev/null
sleep 1
leak_slab_snapshot "$base"
leak_slab_snapshot "$base"

# --- churn -----------------------------------------------------------------
topo_hosts
kipsec_load
t_check "configure both ends (generation 1)" configure_both 1

cap_start leak "$LEAK_FILTER" || t_fail "capture in m"
cap_start esp esp 50 || t_fail "ESP capture in m"
# Background jobs are started with ip netns exec itself (it execs the
# program), so that $! is the program and kill ends it.
ip netns exec b iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
srv_pid=$!
wait_listener b t 5201
# ping is stopped with SIGTERM (background jobs ignore SIGINT); replies
# are counted from its per-packet lines.
ip netns exec a ping -i 0.05 -W 1 -p "$MARKER_HEX" "$B4" >/tmp/churn-ping.log 2>&1 &
ping_pid=$!
ip netns exec a iperf3 -c "$B4" -p 5201 -b 500K -t 86400 --forceflush \
	>/tmp/churn-iperf.log 2>&1 &
iperf_pid=$!
sleep 1

fails=0
t0=$(date +%s.%N)
for g in $(seq 2 $((ROUNDS + 1))); do
	if [ $((g % 3)) = 0 ]; then
		reflush "$g" || fails=$((fails + 1))
	else
		rekey $((g - 1)) "$g" || fails=$((fails + 1))
	fi
	sleep 0.2
	# Progress of a long form, readable in the results while it runs.
	[ $((g % 100)) = 1 ] && t_diag "round $((g - 1)): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s, $fails failed"
done
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
t_diag "$ROUNDS rounds took $secs s ($(awk -v s="$secs" -v n="$ROUNDS" 'BEGIN { printf "%.2f", s / n }') s a round)"
t_eq "$ROUNDS rekey/flush rounds under traffic, every command accepted" "$fails" 0
[ -s "$ERRS" ] && sed -e 's/^/# /' "$ERRS" | head -20
g=$((ROUNDS + 1))
sleep 1
kill "$ping_pid" "$iperf_pid" "$srv_pid" 2>/dev/null
wait "$ping_pid" "$iperf_pid" "$srv_pid" 2>/dev/null
sleep 1
kill "${cap_pids[@]}" 2>/dev/null
wait "${cap_pids[@]}" 2>/dev/null

recv=$(grep -c 'bytes from' /tmp/churn-ping.log)
sent=$(sed -n 's/.*icmp_seq=\([0-9]*\).*/\1/p' /tmp/churn-ping.log | tail -n 1)
t_diag "ping: $recv answered (last answered icmp_seq ${sent:-none}); iperf3: $(grep -E 'sender|receiver' /tmp/churn-iperf.log | awk '{print $5, $6, $7, $8}' | tr '\n' ' ')"
t_check "traffic got through the churn (pings answered)" test "$recv" -gt 0
t_check "iperf3 carried data across the churn" grep -qE "sec +[0-9.]+ [KMG]Bytes" /tmp/churn-iperf.log
t_eq "ESP on the wire (the first 50 packets captured)" \
	"$(tcpdump -r /tmp/esp.pcap -n esp 2>/dev/null | wc -l)" 50
t_eq "no IPv4 packet between a and b other than ESP on the wire" \
	"$(tcpdump -r /tmp/leak.pcap -n 2>/dev/null | head -n 5)" ""
t_check "the capture dropped nothing" grep -q '^0 packets dropped by kernel' /tmp/leak.log
t_eq "the final generation carries the traffic" \
	"$(kipsec_sa_pkts a "$(spi_ab "$g")" "$B4" out | awk '{ print ($1 > 0) }')" 1
for d in a:b b:a; do
	got=$(esp_in_sum "${d#*:}")
	nat=$(native_esp "${d#*:}")
	want=$(out_pkts "${d%:*}")
	t_diag "${d%:*} sent $want ESP packets: ${d#*:} counted $got, and left $nat to the native stack while it held no SA"
	t_eq "each ESP packet ${d%:*} sent is counted once by ${d#*:} (accepted, dropped, or left to the stack with no SA)" \
		"$((got + nat))" "$want"
	[ "$((got + nat))" = "$want" ] || flow_diag
done

printf 'sa flush\npolicy flush\n' | kb a
printf 'sa flush\npolicy flush\n' | kb b
netns_cleanup
leak_objects_zero "after the flush and the namespaces' deletion"
kipsec_unload
leak_slab_check "after unload" "$base"
rm -f "$base"
t_done
