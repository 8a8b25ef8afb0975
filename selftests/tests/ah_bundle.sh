#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH+ESP bundles (RFC 4301 4.3) with the native XFRM stack: one policy
# whose templates are ESP (inner, AES-GCM) then AH (outer, HMAC-SHA256),
# transport mode, kipsec in a, native in b, IPv4 and IPv6.
#
#   - ping both ways: every SA of the bundle counts each packet on both
#     sides; the wire (captured in m) carries AH whose next header is ESP,
#     no ESP without AH, no cleartext;
#   - TCP both ways, checksum verified (GSO segments through both SAs);
#   - a native sender that drops AH from its policy (ESP only): kipsec
#     decrypts the ESP but the policy requires AH too, so the packets are
#     dropped and counted as in_policy_mismatch;
#   - a kipsec policy whose AH template is optional (level use) accepts
#     that ESP-only traffic.
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards        native

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

TCP_BYTES=32768
[ "${KIPSEC_STRESS:-0}" = 1 ] && TCP_BYTES=1048576

kipsec_load
native_modules
topo_hosts

ka() { ip netns exec a "$KIPSEC" "$@"; }

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
SHA="auth-trunc 'hmac(sha256)' $H32 128"

# sa_pkts PROTO SPI DST in|out: a kipsec SA's packets
sa_pkts() {
	ka -j -s sa get dst "$3" proto "$1" spi "$2" |
		sed -n "s/.*\"${4}_packets\": *\([0-9][0-9]*\).*/\1/p"
}
# nat_pkts PROTO SRC DST SPI: a native SA's packets
nat_pkts() {
	ip -n b -s xfrm state get src "$2" dst "$3" proto "$1" spi "$4" |
		awk '/lifetime current/ { getline; sub(/\(.*/, "", $2); print $2 }'
}

# nat_policy DIR SRC DST REQID_ESP REQID_AH [esp-only]
nat_policy() {
	local ah="tmpl src $2 dst $3 proto ah mode transport reqid $5"
	[ "${6:-}" = esp-only ] && ah=""
	# shellcheck disable=SC2086
	ip -n b xfrm policy add dir "$1" src "$2" dst "$3" \
		tmpl src "$2" dst "$3" proto esp mode transport reqid "$4" $ah
}

# setup OA OB [AH_LEVEL]: the bundle's four SAs on each side, and policies
setup() {
	local oa=$1 ob=$2 lvl=${3:-required} align=""
	[[ $oa == *:* ]] || align="flag align4"
	ka sa flush; ka policy flush
	ip -n b xfrm state flush; ip -n b xfrm policy flush
	eval "ka sa add src $oa dst $ob proto esp spi 0x3001 mode transport reqid 3 replay-window 64 $GCM" &&
	eval "ka sa add src $ob dst $oa proto esp spi 0x4001 mode transport reqid 4 replay-window 64 $GCM" &&
	eval "ka sa add src $oa dst $ob proto ah spi 0x1001 mode transport reqid 1 replay-window 64 $SHA" &&
	eval "ka sa add src $ob dst $oa proto ah spi 0x2001 mode transport reqid 2 replay-window 64 $SHA" &&
	ka policy add dir out src "$oa" dst "$ob" action protect \
		tmpl proto esp mode transport reqid 3 \
		tmpl proto ah mode transport reqid 1 &&
	ka policy add dir in src "$ob" dst "$oa" action protect \
		tmpl proto esp mode transport reqid 4 \
		tmpl proto ah mode transport reqid 2 level "$lvl" &&
	eval "ip -n b xfrm state add src $oa dst $ob proto esp spi 0x3001 mode transport reqid 3 replay-window 64 $GCM" &&
	eval "ip -n b xfrm state add src $ob dst $oa proto esp spi 0x4001 mode transport reqid 4 replay-window 64 $GCM" &&
	# native takes RFC 4302's 32-bit aligned IPv4 AH only with align4
	eval "ip -n b xfrm state add src $oa dst $ob proto ah spi 0x1001 mode transport reqid 1 replay-window 64 $SHA $align" &&
	eval "ip -n b xfrm state add src $ob dst $oa proto ah spi 0x2001 mode transport reqid 2 replay-window 64 $SHA" &&
	nat_policy in "$oa" "$ob" 3 1 &&
	nat_policy out "$ob" "$oa" 4 2
}

run_case() { # FAM OA OB
	local fam=$1 oa=$2 ob=$3 ahnh okpkt
	# AH whose next header is ESP; okpkt also lets the fragments of such
	# packets through (transport mode: kipsec's TCP segments leave as
	# fragments, README "Limitations")
	if [ "$fam" = 4 ]; then
		ahnh='ip proto 51 and ip[20] = 50'
		okpkt="ip proto 51 and (ip[6:2] & 0x1fff != 0 or ip[20] = 50)"
	else
		ahnh='ip6 proto 51 and ip6[40] = 50'
		okpkt="($ahnh) or (ip6[6] = 44 and ((ip6[42:2] & 0xfff8) != 0 or (ip6[40] = 51 and ip6[48] = 50)))"
	fi
	t_check "IPv$fam: configure the bundle on kipsec and native" setup "$oa" "$ob"
	capture_start wire m m0 || t_fail "IPv$fam: capture"
	t_check "IPv$fam: ping kipsec -> native (3)" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$ob"
	t_eq "IPv$fam: kipsec's ESP and AH SAs each sent 3" \
		"$(sa_pkts esp 0x3001 "$ob" out)/$(sa_pkts ah 0x1001 "$ob" out)" "3/3"
	t_eq "IPv$fam: native's ESP and AH SAs each took 3" \
		"$(nat_pkts esp "$oa" "$ob" 0x3001)/$(nat_pkts ah "$oa" "$ob" 0x1001)" "3/3"
	t_eq "IPv$fam: kipsec accepted the 3 replies through both SAs" \
		"$(sa_pkts esp 0x4001 "$oa" in)/$(sa_pkts ah 0x2001 "$oa" in)" "3/3"
	t_check "IPv$fam: ping native -> kipsec (2)" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 -p "$MARKER_HEX" "$oa"
	t_check "IPv$fam: TCP native -> kipsec, $((TCP_BYTES / 1024)) KiB, checksum verified" \
		tcp_transfer b a "$oa" $TCP_BYTES
	t_check "IPv$fam: TCP kipsec -> native, $((TCP_BYTES / 1024)) KiB, checksum verified" \
		tcp_transfer a b "$ob" $TCP_BYTES 5002
	capture_stop
	t_check "IPv$fam: AH carrying ESP on the wire, both ways" \
		test "$(pcap_count wire "src $oa and $ahnh")" -ge 5 -a \
		"$(pcap_count wire "src $ob and $ahnh")" -ge 5
	other="(ip or ip6) and not ($okpkt) and not (icmp6 and ip6[40] >= 133)"
	t_eq "IPv$fam: nothing on the wire but AH around ESP" \
		"$(pcap_count wire "$other")" 0
	tcpdump -r /tmp/wire.pcap -n -v "$other" 2>/dev/null | head -n 4 | _t_show
	t_check_fail "IPv$fam: no cleartext" pcap_has_text wire "$MARKER_PING"

	# The native peer stops applying AH: ESP alone does not satisfy
	# kipsec's policy.
	ip -n b xfrm policy flush
	nat_policy in "$oa" "$ob" 3 1
	nat_policy out "$ob" "$oa" 4 2 esp-only
	local m0 e0
	m0=$(kipsec_stat a in_policy_mismatch)
	e0=$(sa_pkts esp 0x4001 "$oa" in)
	n b ping -"$fam" -c 3 -i 0.1 -W 1 "$oa" >/dev/null 2>&1
	t_eq "IPv$fam: ESP without the required AH dropped (in_policy_mismatch +3)" \
		"$(kipsec_stat a in_policy_mismatch)" $((m0 + 3))
	t_eq "IPv$fam: ... after ESP was verified (nothing accepted)" \
		"$(sa_pkts esp 0x4001 "$oa" in)" "$e0"
	ka policy flush
	ka policy add dir out src "$oa" dst "$ob" action protect \
		tmpl proto esp mode transport reqid 3 \
		tmpl proto ah mode transport reqid 1
	ka policy add dir in src "$ob" dst "$oa" action protect \
		tmpl proto esp mode transport reqid 4 \
		tmpl proto ah mode transport reqid 2 level use
	t_check "IPv$fam: with the AH template optional (level use), ESP alone passes" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 "$oa"
}

run_case 4 $A4 $B4
run_case 6 $A6 $B6

netns_cleanup
kipsec_unload
t_done
