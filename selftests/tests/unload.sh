#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unload under traffic and namespace teardown with state, kipsec on both
# ends of net.sh's topo_hosts (a -- m -- b):
#
# 1. rmmod/insmod cycles under traffic. a and b hold an AES-GCM ESP pair
#    for IPv4 whose transforms are wrapped in pcrypt (async=1: requests
#    complete from padata workers, so packets are inside crypto when rmmod
#    comes) and an HMAC-SHA256 AH pair for IPv6 (synchronous); ping, ping6
#    and an iperf3 TCP stream run across. Each cycle: rmmod (it must
#    return, with no reference left behind), insmod, configure both ends.
#    Afterwards traffic is protected again.
# 2. Namespace teardown under traffic: fresh namespaces with the same SAs
#    and policies; one end pings the other, whose namespace is deleted
#    while ESP and AH arrive and its replies are in crypto (no process
#    lives in it, so the deletion destroys it). The module's live SAs and
#    policies must drop to the survivor's; when the survivor goes too, to
#    0. The ends take turns.
# 3. No leak: kipsec's live objects are 0 and, after unload, the kmalloc
#    caches are back to their baseline (leak.sh).
# make check: 3 cycles and 2 teardowns; make stress: 100 and 50, so that
# even one object leaked per cycle or teardown exceeds leak.sh's
# tolerance (UNLOAD_CYCLES, TEARDOWNS override).
# kipsec-test: stress-timeout 7200

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../leak.sh"

CYCLES=${UNLOAD_CYCLES:-3}
NTEAR=${TEARDOWNS:-2}
if [ "${KIPSEC_STRESS:-0}" = 1 ]; then
	CYCLES=${UNLOAD_CYCLES:-100}
	NTEAR=${TEARDOWNS:-50}
fi
GCM="aead rfc4106(gcm(aes)) 0x0102030405060708090a0b0c0d0e0f1011121314 128"
AH="auth-trunc hmac(sha256) 0x$(printf '%02x' $(seq 65 96)) 128"
ERRS=/tmp/unload-errors.log
: >"$ERRS"

# configure NS: two SA pairs and four policies, one kipsec process.
configure() {
	local lo4=$A4 re4=$B4 lo6=$A6 re6=$B6 o=1 i=2
	[ "$1" = b ] && lo4=$B4 re4=$A4 lo6=$B6 re6=$A6 o=2 i=1
	{
		echo "sa add src $A4 dst $B4 proto esp spi 0x7001 mode transport reqid 1 replay-window 64 $GCM"
		echo "sa add src $B4 dst $A4 proto esp spi 0x7002 mode transport reqid 2 replay-window 64 $GCM"
		echo "sa add src $A6 dst $B6 proto ah spi 0x7003 mode transport reqid 1 replay-window 64 $AH"
		echo "sa add src $B6 dst $A6 proto ah spi 0x7004 mode transport reqid 2 replay-window 64 $AH"
		echo "policy add dir out src $lo4 dst $re4 action protect tmpl proto esp mode transport reqid $o"
		echo "policy add dir in src $re4 dst $lo4 action protect tmpl proto esp mode transport reqid $i"
		echo "policy add dir out src $lo6 dst $re6 action protect tmpl proto ah mode transport reqid $o"
		echo "policy add dir in src $re6 dst $lo6 action protect tmpl proto ah mode transport reqid $i"
	} | "$KIPSEC" -n "$1" -batch - 2>>"$ERRS"
}

configure_both() { configure a && configure b; }

ns_stat() { # NS NAME: one counter of `kipsec -n NS -j stats`
	"$KIPSEC" -n "$1" -j stats 2>/dev/null |
		sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p"
}

# within_a_second CMD...: poll CMD (nap 0.1) until it succeeds or a
# second has passed since the call (EPOCHREALTIME, as sa_larval reads it)
within_a_second() {
	local dl=$((${EPOCHREALTIME/[.,]/} + 1000000))
	while ((${EPOCHREALTIME/[.,]/} < dl)); do
		"$@" && return 0
		nap 0.1
	done
	return 1
}

pids=()
traffic_start() { # FROM TO4 TO6: pings both ways of addressing, no wait
	ip netns exec "$1" ping -q -i 0.01 -W 1 "$2" >/dev/null 2>&1 &
	pids+=("$!")
	ip netns exec "$1" ping -6 -q -i 0.02 -W 1 "$3" >/dev/null 2>&1 &
	pids+=("$!")
}

# victim_received: kipsec counted inbound packets in the namespace to delete
victim_received() { [ "$(ns_stat "$victim" in_packets)" -gt 0 ] 2>/dev/null; }

traffic_stop() {
	kill "${pids[@]}" 2>/dev/null
	wait "${pids[@]}" 2>/dev/null
	pids=()
}

# --- warm-up and leak baseline ---------------------------------------------
# The algorithms' first use (pcrypt instances included), the programs read
# once from 9p, the namespaces' first creation: all of that stays.
base=$(mktemp)
{
	topo_hosts
	kipsec_load async=1
	configure_both
	traffic_start a "$B4" "$B6"
	ip netns exec b iperf3 -s -1 -p 5201 >/dev/null 2>&1 &
	pids+=("$!")
	wait_listener b t 5201
	ip netns exec a iperf3 -c "$B4" -p 5201 -t 1 >/dev/null 2>&1
	ns_stat a in_packets
	_leak_objects
	traffic_stop
	rmmod kipsec
	netns_cleanup
} >/dev/null 2>&1
sleep 1
leak_slab_snapshot "$base"
leak_slab_snapshot "$base"

# --- 1. rmmod/insmod under traffic ------------------------------------------
topo_hosts
kipsec_load async=1
t_check "configure both ends" configure_both
t_check "ESP transforms are asynchronous (pcrypt)" grep -q '^driver *: pcrypt(' /proc/crypto
ip netns exec b iperf3 -s -p 5201 >/dev/null 2>&1 &
srv_pid=$!
wait_listener b t 5201
traffic_start a "$B4" "$B6"
ip netns exec a iperf3 -c "$B4" -p 5201 -b 2M -t 86400 >/dev/null 2>&1 &
iperf_pid=$!
sleep 1
t_check "ESP and AH carry the traffic before the first cycle" test \
	"$(kipsec_sa_pkts a 0x7001 "$B4" out)" -gt 0 -a \
	"$(ip netns exec a "$KIPSEC" -j -s sa get dst "$B6" proto ah spi 0x7003 |
		sed -n 's/.*"out_packets": *\([0-9][0-9]*\).*/\1/p')" -gt 0

bad=0 busy=0 inflight=0
t0=$(date +%s.%N)
for i in $(seq 1 "$CYCLES"); do
	v=$(ns_stat a inflight)
	[ "${v:-0}" -gt 0 ] && busy=$((busy + 1)) inflight=$((inflight + v))
	if ! rmmod kipsec; then
		bad=$((bad + 1))
		break
	fi
	insmod "$KIPSEC_KO" async=1 || { bad=$((bad + 1)); break; }
	configure_both || bad=$((bad + 1))
	sleep 0.3
	[ $((i % 20)) = 0 ] && t_diag "cycle $i: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s, $bad failed"
done
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
t_diag "$CYCLES cycles took $secs s; a had packets in crypto just before rmmod in $busy of them ($inflight in all)"
t_eq "$CYCLES rmmod/insmod cycles under traffic, each rmmod and reconfiguration succeeded" "$bad" 0
# One sample a cycle: in a few cycles all may miss the packets in crypto,
# in the long form some must not.
[ "$CYCLES" -ge 20 ] &&
	t_check "packets were in crypto just before rmmod in some cycles" test "$busy" -gt 0
[ -s "$ERRS" ] && sed -e 's/^/# /' "$ERRS" | head -20
# The same second as before for the traffic to find the last SAs, but
# over as soon as both SAs counted a packet.
both_protected() {
	[ "$(kipsec_sa_pkts a 0x7001 "$B4" out)" -gt 0 ] 2>/dev/null &&
		[ "$(kipsec_sa_pkts a 0x7003 "$B6" out ah)" -gt 0 ] 2>/dev/null
}
within_a_second both_protected
t_check "after the cycles, IPv4 is protected again (ESP, async)" \
	test "$(kipsec_sa_pkts a 0x7001 "$B4" out)" -gt 0
t_check "after the cycles, IPv6 is protected again (AH)" test \
	"$(ip netns exec a "$KIPSEC" -j -s sa get dst "$B6" proto ah spi 0x7003 |
		sed -n 's/.*"out_packets": *\([0-9][0-9]*\).*/\1/p')" -gt 0
traffic_stop
kill "$iperf_pid" "$srv_pid" 2>/dev/null
wait "$iperf_pid" "$srv_pid" 2>/dev/null
netns_cleanup
t_check "after the namespaces' deletion no SA, policy or packet is left" leak_wait_objects "0 0 0"

# --- 2. namespace teardown under traffic ------------------------------------
bad=0 idle=0
t0=$(date +%s.%N)
for i in $(seq 1 "$NTEAR"); do
	if [ $((i % 2)) = 1 ]; then
		victim=a peer=b to4=$A4 to6=$A6
	else
		victim=b peer=a to4=$B4 to6=$B6
	fi
	topo_hosts
	configure_both || { bad=$((bad + 1)); netns_cleanup; continue; }
	traffic_start "$peer" "$to4" "$to6"
	# the same second as before for the victim to receive, but deleted
	# as soon as it does
	within_a_second victim_received
	victim_received || idle=$((idle + 1))
	ip netns delete "$victim"
	if ! v=$(leak_wait_objects "0 4 4"); then
		bad=$((bad + 1))
		t_diag "teardown $i ($victim deleted): live objects '$v', expected the peer's 4 SAs and 4 policies"
	fi
	traffic_stop
	netns_cleanup
	if ! v=$(leak_wait_objects "0 0 0"); then
		bad=$((bad + 1))
		t_diag "teardown $i: after the peer's deletion live objects '$v'"
	fi
	[ $((i % 10)) = 0 ] && t_diag "teardown $i: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }') s, $bad failed"
done
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
t_diag "$NTEAR teardowns took $secs s"
t_eq "$NTEAR namespaces receiving traffic before their deletion" "$idle" 0
t_eq "$NTEAR namespaces deleted under traffic released their SAs and policies" "$bad" 0

kipsec_unload
leak_slab_check "after unload" "$base"
rm -f "$base"
t_done
