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
# Bundles with a tunnel-mode SA, the native form being `ip xfrm policy ...
# tmpl proto esp mode transport tmpl proto ah mode tunnel`:
#
#   - ESP transport inside an AH tunnel between a and b (the outer SA in
#     tunnel mode), IPv4 and IPv6: on the wire AH whose next header is IP,
#     and inside it the inner IP header carrying ESP;
#   - ESP tunnel inside AH transport between the same gateways (the layout
#     strongSwan installs for an AH+ESP tunnel child), the inner traffic
#     between 10.1.0.1/fd11::1 on a and 10.2.0.1/fd12::1 on b: on the wire
#     AH carrying ESP between a and b, the inner addresses never seen;
#   - pings both ways with every SA of the bundle counting each packet on
#     both sides, TCP both ways (check: once per layout);
#   - the native peer sending only one of the two layers (ESP without the
#     AH tunnel, or the AH tunnel without ESP): dropped by kipsec as
#     in_policy_mismatch, every packet counted.
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

ka() { "$KIPSEC" -n a "$@"; }

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
SHA="auth-trunc 'hmac(sha256)' $H32 128"

# sa_pkts PROTO SPI DST in|out: a kipsec SA's packets
sa_pkts() { kipsec_sa_pkts a "$2" "$3" "$4" "$1"; }
# nat_pkts PROTO SRC DST SPI: a native SA's packets
nat_pkts() { native_pkts b "$2" "$3" "$4" "$1"; }

# nat_policy DIR SRC DST REQID_ESP REQID_AH [esp-only]
nat_policy() {
	local ah="tmpl src $2 dst $3 proto ah mode transport reqid $5"
	[ "${6:-}" = esp-only ] && ah=""
	# shellcheck disable=SC2086
	ip -n b xfrm policy add dir "$1" src "$2" dst "$3" \
		tmpl src "$2" dst "$3" proto esp mode transport reqid "$4" $ah
}

# setup OA OB [AH_LEVEL]: the bundle's four SAs on each side, and policies
# (one kipsec and one ip -batch: every process start costs under TCG; the
# native policies are nat_policy's words)
setup() {
	local oa=$1 ob=$2 lvl=${3:-required} align=""
	[[ $oa == *:* ]] || align="flag align4"
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $oa dst $ob proto esp spi 0x3001 mode transport reqid 3 replay-window 64 $GCM
	sa add src $ob dst $oa proto esp spi 0x4001 mode transport reqid 4 replay-window 64 $GCM
	sa add src $oa dst $ob proto ah spi 0x1001 mode transport reqid 1 replay-window 64 $SHA
	sa add src $ob dst $oa proto ah spi 0x2001 mode transport reqid 2 replay-window 64 $SHA
	policy add dir out src $oa dst $ob action protect tmpl proto esp mode transport reqid 3 tmpl proto ah mode transport reqid 1
	policy add dir in src $ob dst $oa action protect tmpl proto esp mode transport reqid 4 tmpl proto ah mode transport reqid 2 level $lvl
	EOF
	# native takes RFC 4302's 32-bit aligned IPv4 AH only with align4
	ip -n b -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src $oa dst $ob proto esp spi 0x3001 mode transport reqid 3 replay-window 64 $GCM
	xfrm state add src $ob dst $oa proto esp spi 0x4001 mode transport reqid 4 replay-window 64 $GCM
	xfrm state add src $oa dst $ob proto ah spi 0x1001 mode transport reqid 1 replay-window 64 $SHA $align
	xfrm state add src $ob dst $oa proto ah spi 0x2001 mode transport reqid 2 replay-window 64 $SHA
	xfrm policy add dir in src $oa dst $ob tmpl src $oa dst $ob proto esp mode transport reqid 3 tmpl src $oa dst $ob proto ah mode transport reqid 1
	xfrm policy add dir out src $ob dst $oa tmpl src $ob dst $oa proto esp mode transport reqid 4 tmpl src $ob dst $oa proto ah mode transport reqid 2
	EOF
}

# traffic NAME FAM OA OB IA IB [TCP_BYTES]: pings between the inner
# addresses IA and IB both ways, each SA of the bundle (SPIs 0x3001/0x1001
# out, 0x4001/0x2001 in, outer addresses OA and OB) counting every packet on
# both sides; then TCP both ways if TCP_BYTES is given.
traffic() {
	local name=$1 fam=$2 oa=$3 ob=$4 ia=$5 ib=$6 bytes=${7:-}
	t_check "$name: ping kipsec -> native (3)" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -I "$ia" -p "$MARKER_HEX" "$ib"
	t_eq "$name: kipsec's ESP and AH SAs each sent 3" \
		"$(sa_pkts esp 0x3001 "$ob" out)/$(sa_pkts ah 0x1001 "$ob" out)" "3/3"
	t_eq "$name: native's ESP and AH SAs each took 3" \
		"$(nat_pkts esp "$oa" "$ob" 0x3001)/$(nat_pkts ah "$oa" "$ob" 0x1001)" "3/3"
	t_eq "$name: kipsec accepted the 3 replies through both SAs" \
		"$(sa_pkts esp 0x4001 "$oa" in)/$(sa_pkts ah 0x2001 "$oa" in)" "3/3"
	t_check "$name: ping native -> kipsec (2)" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 -I "$ib" -p "$MARKER_HEX" "$ia"
	[ -n "$bytes" ] || return 0
	t_check "$name: TCP native -> kipsec, $((bytes / 1024)) KiB, checksum verified" \
		tcp_transfer b a "$ia" "$bytes"
	t_check "$name: TCP kipsec -> native, $((bytes / 1024)) KiB, checksum verified" \
		tcp_transfer a b "$ib" "$bytes" 5002
}

# on_wire NAME FAM OA OB IA IB TCP_BYTES LAYOUT OK: traffic() captured in m;
# packets of the bundle's LAYOUT (a tcpdump filter) seen both ways, none
# outside OK (LAYOUT, or fragments of it), no cleartext. ICMPv6 of type
# 133 and above (neighbour discovery) and whatever goes to IPv6 link-scope
# multicast (MLD reports, which follow a hop-by-hop header, so that `icmp6`
# does not match them) are the link's own and are not counted.
on_wire() {
	local name=$1 layout=$8 other
	other="(ip or ip6) and not ($9) and not (icmp6 and ip6[40] >= 133) and not dst net ff02::/16"
	capture_start wire m m0 || t_fail "$name: capture"
	traffic "$1" "$2" "$3" "$4" "$5" "$6" "$7"
	capture_stop
	t_check "$name: the bundle's layout on the wire, both ways" \
		test "$(pcap_count wire "src $3 and $layout")" -ge 5 -a \
		"$(pcap_count wire "src $4 and $layout")" -ge 5
	t_eq "$name: nothing else on the wire" "$(pcap_count wire "$other")" 0
	tcpdump -r /tmp/wire.pcap -n -v "$other" 2>/dev/null | head -n 4 | _t_show
	t_check_fail "$name: no cleartext" pcap_has_text wire "$MARKER_PING"
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
	on_wire "IPv$fam" "$fam" "$oa" "$ob" "$oa" "$ob" "$TCP_BYTES" "$ahnh" "$okpkt"

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

# --- bundles with a tunnel-mode SA ---------------------------------------

# tbatch_k/tbatch_n EM AM OA OB IA IB [LAYERS]: the SAs (ESP in mode EM,
# AH in mode AM, outer addresses OA/OB) and policies (inner addresses
# IA/IB) of one end as a -batch script: kipsec (a) and native (b). The
# tunnel template carries the endpoints; LAYERS (esp or ah: only its
# policies then) is what native's out policy applies.
tmpl_words() { # PROTO MODE SRC DST REQID: one template, kipsec and ip xfrm alike
	if [ "$2" = tunnel ]; then
		echo "tmpl src $3 dst $4 proto $1 mode tunnel reqid $5"
	else
		echo "tmpl proto $1 mode transport reqid $5"
	fi
}
tbatch_sas() { # EM AM OA OB ALIGN
	printf '%s\n' \
		"add src $3 dst $4 proto esp spi 0x3001 mode $1 reqid 3 replay-window 64 $GCM" \
		"add src $4 dst $3 proto esp spi 0x4001 mode $1 reqid 4 replay-window 64 $GCM" \
		"add src $3 dst $4 proto ah spi 0x1001 mode $2 reqid 1 replay-window 64 $SHA $5" \
		"add src $4 dst $3 proto ah spi 0x2001 mode $2 reqid 2 replay-window 64 $SHA"
}
tbatch_k() {
	local em=$1 am=$2 oa=$3 ob=$4 ia=$5 ib=$6
	echo "sa flush"; echo "policy flush"
	tbatch_sas "$em" "$am" "$oa" "$ob" "" | sed 's/^/sa /'
	echo "policy add dir out src $ia dst $ib action protect" \
		"$(tmpl_words esp "$em" "$oa" "$ob" 3) $(tmpl_words ah "$am" "$oa" "$ob" 1)"
	echo "policy add dir in src $ib dst $ia action protect" \
		"$(tmpl_words esp "$em" "$ob" "$oa" 4) $(tmpl_words ah "$am" "$ob" "$oa" 2)"
}
tbatch_n() {
	local em=$1 am=$2 oa=$3 ob=$4 ia=$5 ib=$6 layers=${7:-both} out align=""
	[[ $oa == *:* ]] || align="flag align4"
	# with LAYERS, only the policies change: new SAs would restart their
	# sequence numbers, which kipsec would count as replays
	if [ "$layers" = both ]; then
		echo "xfrm state flush"
		tbatch_sas "$em" "$am" "$oa" "$ob" "$align" | sed 's/^/xfrm state /'
	fi
	echo "xfrm policy flush"
	echo "xfrm policy add dir in src $ia dst $ib" \
		"$(tmpl_words esp "$em" "$oa" "$ob" 3) $(tmpl_words ah "$am" "$oa" "$ob" 1)"
	case $layers in
	esp) out="$(tmpl_words esp "$em" "$ob" "$oa" 4)" ;;
	ah) out="$(tmpl_words ah "$am" "$ob" "$oa" 2)" ;;
	*) out="$(tmpl_words esp "$em" "$ob" "$oa" 4) $(tmpl_words ah "$am" "$ob" "$oa" 2)" ;;
	esac
	echo "xfrm policy add dir out src $ib dst $ia $out"
}

# run_tcase NAME EM AM OA OB IA IB WIREFILTER ONE-LAYER-CASES [TCP_BYTES]
run_tcase() {
	local name=$1 em=$2 am=$3 oa=$4 ob=$5 ia=$6 ib=$7 wire=$8 one=$9
	local tcp=${10:-} fam=4
	local m0 p0 lyr
	[[ $oa == *:* ]] && fam=6
	tbatch_k "$em" "$am" "$oa" "$ob" "$ia" "$ib" >/tmp/k.batch
	tbatch_n "$em" "$am" "$oa" "$ob" "$ia" "$ib" >/tmp/n.batch
	if ! ka -batch /tmp/k.batch || ! ip -n b -batch /tmp/n.batch; then
		t_fail "$name: configure kipsec and native"
		return
	fi
	t_ok "$name: configure kipsec and native"
	# (or fragments of such packets)
	on_wire "$name" "$fam" "$oa" "$ob" "$ia" "$ib" "$tcp" "$wire" \
		"($wire) or (ip proto 51 and ip[6:2] & 0x1fff != 0) or (ip6 and ip6[6] = 44)"
	[ "$ia" != "$oa" ] && t_eq "$name: the inner addresses never on the wire" \
		"$(pcap_count wire "host $ia or host $ib")" 0

	# native applies one layer only: kipsec must refuse what it decodes
	for lyr in $one; do
		tbatch_n "$em" "$am" "$oa" "$ob" "$ia" "$ib" "$lyr" >/tmp/n.batch
		ip -n b -batch /tmp/n.batch
		m0=$(kipsec_stat a in_policy_mismatch)
		p0=$(kipsec_stat a in_packets)
		n b ping -"$fam" -c 3 -i 0.1 -W 1 -I "$ib" "$ia" >/dev/null 2>&1
		t_eq "$name: only $lyr from native: in_policy_mismatch +3, nothing accepted" \
			"$(( $(kipsec_stat a in_policy_mismatch) - m0 ))/$(( $(kipsec_stat a in_packets) - p0 ))" "3/0"
	done
}

# Inner addresses behind the ESP tunnel, the source each end picks for the
# other's (as on a gateway); m has no route to them.
ip -n a addr add 10.1.0.1/32 dev lo
ip -n a addr add fd11::1/128 dev lo
ip -n b addr add 10.2.0.1/32 dev lo
ip -n b addr add fd12::1/128 dev lo
ip -n a route add 10.2.0.1/32 via 10.0.1.254 src 10.1.0.1
ip -n a -6 route add fd12::1/128 via fd01::fe src fd11::1
ip -n b route add 10.1.0.1/32 via 10.0.2.254 src 10.2.0.1
ip -n b -6 route add fd11::1/128 via fd02::fe src fd12::1
# On the wire: AH carrying IP carrying ESP; AH carrying ESP whose SPI is
# the tunnel SA's. AH is 28 bytes with HMAC-SHA256-128, or 32 (native's
# 64-bit alignment, and after IPv6): its length field says which.
AH4='20 + (ip[21] + 2) * 4'
AH6='40 + (ip6[41] + 2) * 4'
W4T="ip proto 51 and ip[20] = 4 and ip[$AH4 + 9] = 50"
W6T="ip6 proto 51 and ip6[40] = 41 and ip6[$AH6 + 6] = 50"
W4E="ip proto 51 and ip[20] = 50 and (ip[$AH4:4] = 0x3001 or ip[$AH4:4] = 0x4001)"
W6E="ip6 proto 51 and ip6[40] = 50 and (ip6[$AH6:4] = 0x3001 or ip6[$AH6:4] = 0x4001)"
# Native cannot send AH transport alone there: with the ESP tunnel gone its
# AH SA would be looked up between the inner addresses.
run_tcase "esp transport in ah tunnel v4" transport tunnel $A4 $B4 $A4 $B4 "$W4T" "esp ah" "$TCP_BYTES"
# make check: each layout and family once, each one-layer case once per
# layout; make stress: all of them, TCP everywhere, tunnel inside tunnel.
if [ "${KIPSEC_STRESS:-0}" != 1 ]; then
	run_tcase "esp transport in ah tunnel v6" transport tunnel $A6 $B6 $A6 $B6 "$W6T" ah
	run_tcase "esp tunnel in ah transport v4" tunnel transport $A4 $B4 10.1.0.1 10.2.0.1 "$W4E" esp
	run_tcase "esp tunnel in ah transport v6" tunnel transport $A6 $B6 fd11::1 fd12::1 "$W6E" "" "$TCP_BYTES"
else
	run_tcase "esp transport in ah tunnel v6" transport tunnel $A6 $B6 $A6 $B6 "$W6T" "esp ah" "$TCP_BYTES"
	run_tcase "esp tunnel in ah transport v4" tunnel transport $A4 $B4 10.1.0.1 10.2.0.1 "$W4E" esp "$TCP_BYTES"
	run_tcase "esp tunnel in ah transport v6" tunnel transport $A6 $B6 fd11::1 fd12::1 "$W6E" esp "$TCP_BYTES"
	run_tcase "esp tunnel in ah tunnel v4" tunnel tunnel $A4 $B4 10.1.0.1 10.2.0.1 \
		"$W4T" "esp ah" "$TCP_BYTES"
	run_tcase "esp tunnel in ah tunnel v6" tunnel tunnel $A6 $B6 fd11::1 fd12::1 \
		"$W6T" "esp ah" "$TCP_BYTES"
fi

netns_cleanup
kipsec_unload
t_done
