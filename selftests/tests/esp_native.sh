#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ESP interoperability with the native XFRM stack: kipsec in namespace a,
# native XFRM in b, the same keys on both. For every algorithm (a covering
# subset in make check, all in make stress), transport and tunnel, IPv4,
# IPv6 and both cross-family tunnels: ping both ways and a checksum-verified
# TCP transfer (one way in make check, both in make stress) succeed, the wire (captured in m, which
# only forwards) carries ESP and never the payload marker, and both sides'
# counters moved by the expected number of packets.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

# TCP transfers: 32 KiB in make check (every algorithm, mode and family
# still carries one, in one direction), 256 KiB both ways under make
# stress.
TCP_BYTES=32768
[ "${KIPSEC_STRESS:-0}" = 1 ] && TCP_BYTES=262144

kipsec_load
native_modules
topo_hosts

ka() { "$KIPSEC" -n a "$@"; }

# setup ALGWORDS MODE SA SB [SELA SELB]: SAs and policies on both ends.
# Outer addresses SA/SB; the traffic selectors SELA/SELB default to them.
setup() {
	local words=$1 mode=$2 oa=$3 ob=$4 sela=${5:-$3} selb=${6:-$4}
	# Each side in one process (-batch quotes words as the shell does):
	# every process start costs under TCG.
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $oa dst $ob proto esp spi 0x1001 mode $mode reqid 1 replay-window 64 $words
	sa add src $ob dst $oa proto esp spi 0x2001 mode $mode reqid 2 replay-window 64 $words
	policy add dir out src $sela dst $selb action protect tmpl proto esp mode $mode src $oa dst $ob reqid 1
	policy add dir in src $selb dst $sela action protect tmpl proto esp mode $mode src $ob dst $oa reqid 2
	EOF
	# A native tunnel SA whose inner family differs from the outer one
	# needs af-unspec, or its selector takes the outer family and native
	# drops what it decrypted (XfrmInStateMismatch).
	local af=""
	if [[ $oa == *:* && $sela != *:* ]] || [[ $oa != *:* && $sela == *:* ]]; then
		af="flag af-unspec"
	fi
	# (native_sa's and native_policy's words)
	ip -n b -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src $oa dst $ob proto esp spi 0x1001 mode $mode reqid 1 replay-window 64 $words $af
	xfrm state add src $ob dst $oa proto esp spi 0x2001 mode $mode reqid 2 replay-window 64 $words $af
	xfrm policy add dir in src $sela dst $selb tmpl src $oa dst $ob proto esp mode $mode reqid 1
	xfrm policy add dir out src $selb dst $sela tmpl src $ob dst $oa proto esp mode $mode reqid 2
	EOF
}

# run_case NAME ALGWORDS MODE OA OB SELA SELB: the checks for one combination
run_case() {
	local name=$1 words=$2 mode=$3 oa=$4 ob=$5 sela=$6 selb=$7 fam=4
	[[ $sela == *:* ]] && fam=6
	if ! setup "$words" "$mode" "$oa" "$ob" "$sela" "$selb"; then
		t_fail "$name: configure kipsec and native"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	t_check "$name: ping kipsec -> native" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$selb"
	t_eq "$name: kipsec sent 3, native received 3" \
		"$(kipsec_sa_pkts a 0x1001 "$ob" out)/$(native_pkts b "$oa" "$ob" 0x1001)" "3/3"
	t_eq "$name: native sent 3 replies, kipsec accepted 3" \
		"$(native_pkts b "$ob" "$oa" 0x2001)/$(kipsec_sa_pkts a 0x2001 "$oa" in)" "3/3"
	[ "$TCP_DIRS" != out ] &&
		t_check "$name: TCP native -> kipsec, $TCP_BYTES bytes, checksum verified" \
			tcp_transfer b a "$sela" $TCP_BYTES
	[ "$TCP_DIRS" != in ] &&
		t_check "$name: TCP kipsec -> native, $TCP_BYTES bytes, checksum verified" \
			tcp_transfer a b "$selb" $TCP_BYTES 5002
	capture_stop
	t_check "$name: ESP on the wire" test "$(pcap_count wire esp)" -ge 12
	case $words in
	*rfc4543*|*cipher_null*)
		# Integrity-only ESP (GMAC, NULL encryption): the payload is
		# authenticated, not encrypted, and must be readable inside ESP.
		t_check "$name: payload readable inside ESP (no encryption)" \
			pcap_has_text wire "$MARKER_PING" ;;
	*)
		t_check_fail "$name: no cleartext marker on the wire" \
			pcap_has_text wire "$MARKER_PING" ;;
	esac
	t_eq "$name: no TCP or ICMP echo in clear" \
		"$(pcap_count wire 'tcp or icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
}

k=0
for i in "${!ALG_NAME[@]}"; do
	words=${ALG_XFRM[$i]}
	name=${ALG_NAME[$i]}
	# make check: every algorithm once, the mode × family combinations
	# spread over them; make stress: every algorithm with every combination.
	combos=("transport $A4 $B4 $A4 $B4" "tunnel $A4 $B4 $A4 $B4"
		"transport $A6 $B6 $A6 $B6" "tunnel $A6 $B6 $A6 $B6"
		"tunnel $A4 $B4 $A6 $B6" "tunnel $A6 $B6 $A4 $B4")
	# The TCP transfer: both directions in make stress; in make check
	# one, alternating, and shifted every six algorithms so that each
	# combination carries TCP both ways over the list.
	TCP_DIRS=both
	if [ "${KIPSEC_STRESS:-0}" != 1 ]; then
		TCP_DIRS=in
		[ $(((k + k / ${#combos[@]}) % 2)) = 1 ] && TCP_DIRS=out
		combos=("${combos[$((k % ${#combos[@]}))]}")
	fi
	k=$((k + 1))
	for c in "${combos[@]}"; do
		# shellcheck disable=SC2086
		set -- $c
		label="$1 v4"
		[[ $4 == *:* ]] && label="$1 v6"
		[ "$1" = tunnel ] && [[ $2 == *:* ]] && label="$label-in-v6"
		[ "$1" = tunnel ] && [[ $2 != *:* ]] && label="$label-in-v4"
		run_case "$name $label" "$words" "$1" "$2" "$3" "$4" "$5"
	done
done
netns_cleanup
kipsec_unload
t_done
