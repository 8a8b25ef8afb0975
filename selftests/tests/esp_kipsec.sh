#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec on both ends (namespaces a and b, m forwards in between): AEAD and
# cbc/hmac, tunnel mode over IPv4 and IPv6, with the synchronous crypto
# path and with every transform wrapped in pcrypt() (module parameter
# async=1 of the debug build) so that the async completion runs, each with
# the parallel stage (parallel=2) and without it (parallel=0).
# Ping counters must be exact, TCP transfers checksum-verified, and the wire
# (captured in m) must carry only ESP.
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards         kipsec

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

# TCP transfers: 64 KiB in check (still GSO super-packets), 256 KiB in stress.
EK_TCP_BYTES=65536
[ "${KIPSEC_STRESS:-0}" = 1 ] && EK_TCP_BYTES=262144

ka() { "$KIPSEC" -n a "$@"; }
kb() { "$KIPSEC" -n b "$@"; }

# sa_pkts NS SPI DST in|out (net.sh's sed reader: no python start)
sa_pkts() { kipsec_sa_pkts "$@"; }

setup() { # WORDS MODE OA OB SELA SELB
	local w=$1 m=$2 oa=$3 ob=$4 sa=$5 sb=$6
	# One kipsec process per side (-batch quotes words as the shell
	# does): every process start costs under TCG.
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $oa dst $ob proto esp spi 0x1001 mode $m reqid 1 replay-window 64 $w
	sa add src $ob dst $oa proto esp spi 0x2001 mode $m reqid 2 replay-window 64 $w
	policy add dir out src $sa dst $sb action protect tmpl proto esp mode $m src $oa dst $ob reqid 1
	policy add dir in src $sb dst $sa action protect tmpl proto esp mode $m src $ob dst $oa reqid 2
	EOF
	kb -batch - <<-EOF
	sa flush
	policy flush
	sa add src $oa dst $ob proto esp spi 0x1001 mode $m reqid 1 replay-window 64 $w
	sa add src $ob dst $oa proto esp spi 0x2001 mode $m reqid 2 replay-window 64 $w
	policy add dir out src $sb dst $sa action protect tmpl proto esp mode $m src $ob dst $oa reqid 2
	policy add dir in src $sa dst $sb action protect tmpl proto esp mode $m src $oa dst $ob reqid 1
	EOF
}

run_case() { # NAME WORDS MODE OA OB SELA SELB
	local name=$1 fam=4
	[[ $6 == *:* ]] && fam=6
	if ! setup "$2" "$3" "$4" "$5" "$6" "$7"; then
		t_fail "$name: configure both ends"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	t_check "$name: ping a -> b" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$7"
	t_eq "$name: a sent 3, b accepted 3" \
		"$(sa_pkts a 0x1001 "$5" out)/$(sa_pkts b 0x1001 "$5" in)" "3/3"
	t_eq "$name: b sent 3, a accepted 3" \
		"$(sa_pkts b 0x2001 "$4" out)/$(sa_pkts a 0x2001 "$4" in)" "3/3"
	t_check "$name: TCP a -> b, $((EK_TCP_BYTES / 1024)) KiB, checksum verified" \
		tcp_transfer a b "$7" $EK_TCP_BYTES
	t_check "$name: TCP b -> a, $((EK_TCP_BYTES / 1024)) KiB, checksum verified" \
		tcp_transfer b a "$6" $EK_TCP_BYTES 5002
	capture_stop
	t_check "$name: ESP on the wire" test "$(pcap_count wire esp)" -ge 12
	t_check_fail "$name: no cleartext marker on the wire" pcap_has_text wire "$MARKER_PING"
	t_eq "$name: no TCP or ICMP echo in clear" \
		"$(pcap_count wire 'tcp or icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
}

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
CBC="enc 'cbc(aes)' $K16 auth-trunc 'hmac(sha256)' $H32 128"

# ns_stat NS NAME: a namespace counter from kipsec stats
ns_stat() { kipsec_stat "$@"; }

# Delete the SAs while packets are in flight (in the async pass: queued in
# padata): nothing leaks, the drops are counted, and the module still
# unloads cleanly afterwards (the harness checks the kernel log and taint).
delete_under_traffic() { # NAME
	local name=$1 before after
	if ! setup "$GCM" tunnel $A4 $B4 $A4 $B4; then
		t_fail "$name: configure both ends"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	before=$(ns_stat a out_no_sa)
	# (ip netns exec execs ping: $! is ping's own pid, for kill -INT)
	ip netns exec a ping -q -c 300 -i 0.01 -W 1 -p "$MARKER_HEX" "$B4" >/dev/null 2>&1 &
	local p1=$! mid i
	ip netns exec b ping -q -c 300 -i 0.01 -W 1 -p "$MARKER_HEX" "$A4" >/dev/null 2>&1 &
	local p2=$!
	# Delete once both flows demonstrably run through the SAs (a fixed
	# second was both too long and, on a loaded host, no proof).
	for ((i = 0; i < 50; i++)); do
		[ "$(sa_pkts a 0x1001 "$B4" out)" -ge 10 ] &&
			[ "$(sa_pkts b 0x2001 "$A4" out)" -ge 10 ] && break
		nap 0.1
	done
	t_check "$name: delete a's outbound SA under traffic" \
		ka sa del dst "$B4" proto esp spi 0x1001
	t_check "$name: delete a's inbound SA under traffic" \
		ka sa del dst "$A4" proto esp spi 0x2001
	t_check "$name: flush b's SAs under traffic" kb sa flush
	# Once 20 more of a's requests were dropped after the last deletion
	# (both pings ran on with every SA gone) the point is made: SIGINT
	# ends the pings early, as esp_gateway's fail-closed case does.
	mid=$(ns_stat a out_no_sa)
	for ((i = 0; i < 50; i++)); do
		kill -0 "$p1" 2>/dev/null || break
		[ "$(ns_stat a out_no_sa)" -ge $((mid + 20)) ] && break
		nap 0.2
	done
	kill -INT "$p1" "$p2" 2>/dev/null
	wait "$p1" "$p2"
	after=$(ns_stat a out_no_sa)
	capture_stop
	t_check "$name: a counted its fail-closed drops (out_no_sa $before -> $after)" \
		test "$after" -gt "$before"
	t_check_fail "$name: no cleartext marker on the wire" pcap_has_text wire "$MARKER_PING"
	t_eq "$name: no ICMP echo in clear" "$(pcap_count wire icmp)" 0
}

# pcrypt_refs: sum of the refcounts of pcrypt instances in /proc/crypto
# (each live tfm holds one beyond the instance's own).
pcrypt_refs() {
	awk '/^driver/ { p = ($3 ~ /^pcrypt\(/) } p && /^refcnt/ { n += $3 - 1 }
	     END { print n + 0 }' /proc/crypto
}

# Pass async=1 wraps every transform in pcrypt(), whose requests always
# complete from padata's worker: the async completion path, which the
# aesni AEADs take on real machines but hardly ever under TCG. parallel=2
# (the debug build's default) sends every packet through the parallel
# stage (per-SA queues, per-CPU workers) even on one vCPU; parallel=0
# keeps the crypto in the hook's context, as on a one-CPU machine.
# make check: three passes (the parallel stage with sync and with async
# completions, and no parallel stage with sync ones); make stress adds
# async completions without the parallel stage ("1 0").
passes=("0 2" "1 2" "0 0")
[ "${KIPSEC_STRESS:-0}" = 1 ] && passes+=("1 0")
for pass in "${passes[@]}"; do
	read -r async par <<<"$pass"
	kipsec_unload 2>/dev/null
	if [ "$async" = 1 ] && ! modprobe pcrypt; then
		t_fail "modprobe pcrypt"
		continue
	fi
	if ! kipsec_load async="$async" parallel="$par"; then
		t_fail "load with async=$async parallel=$par"
		continue
	fi
	topo_hosts
	p="async=$async parallel=$par"
	run_case "$p gcm128 tunnel v4" "$GCM" tunnel $A4 $B4 $A4 $B4
	[ "$async" = 1 ] &&
		t_check "$p: the SAs' transforms are pcrypt instances" \
			test "$(pcrypt_refs)" -ge 4
	run_case "$p cbc-sha256 tunnel v6" "$CBC" tunnel $A6 $B6 $A6 $B6
	# The other passes differ in the completion only: two cases (AEAD
	# and authenc, v4 and v6) cover them in check, all four in stress.
	if [ "$pass" = "0 2" ] || [ "${KIPSEC_STRESS:-0}" = 1 ]; then
		run_case "$p gcm128 tunnel v6-in-v4" "$GCM" tunnel $A4 $B4 $A6 $B6
		run_case "$p cbc-sha256 transport v4" "$CBC" transport $A4 $B4 $A4 $B4
	fi
	delete_under_traffic "$p gcm128 tunnel v4"
	netns_cleanup
done
kipsec_unload
# The pcrypt instances outrank the plain implementations: remove them so
# that later tests see the normal algorithms.
t_check "pcrypt unloads (no transform left behind)" modprobe -r pcrypt
t_done
