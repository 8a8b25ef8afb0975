#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Router-grade tunnels (RFC 4301 8, RFC 6040, RFC 4301 6.2): kipsec on both
# gateways, the link m -- gb has MTU 1400, everything else 1500.
#
#   ha --- ga ============ m ============ gb --- hb
#          kipsec      1500 | 1400       kipsec
#
#   1. PMTU, IPv4 and IPv6: a DF packet too big for the SA is refused with
#      ICMP "fragmentation needed" / "packet too big" carrying the MTU left
#      after this SA's overhead (AES-GCM-128, 8-byte IV, 16-byte ICV, 4-byte
#      padding block: outer header + 8 (SPI, seq) + 8 + payload padded with
#      its 2-byte trailer to 4 + 16 = MTU, so 1446 / 1426 on a 1500-byte
#      path and 1346 / 1326 on 1400; NAT-T adds 8: 1438, 1338), the
#      inner route learns it; m's ICMP about the outer packet lowers ga's
#      outer path MTU (route exception) and the next inner MTU follows
#      (1346 / 1326); packets of exactly that size pass.
#   2. Without DF the outer packet is fragmented and reassembled by gb.
#   3. TCP across the tunnel from cold caches converges (no black hole).
#   4. DSCP and ECN are copied to the outer header; CE set on the outer
#      header by m reaches the inner packet at ga; CE on a Not-ECT inner
#      packet is dropped and counted (in_ecn_invalid).
#   5. An ICMP error about inner traffic (TTL exceeded at gb) travels back
#      through the tunnel (matched on the quoted packet), never in clear.
#   6. The same PMTU steps with ESP in UDP (NAT-T): the UDP header is part
#      of the overhead, and ICMP quoting UDP 4500 is matched by its port.
#      Then the peer's port changes: one sa_mapping event on the monitor.
#   7. Host-to-host tunnel mode, then transport mode (kipsec on both,
#      IPv4): ga's own TCP to gb settles on the MTU the SA leaves on the
#      1400-byte path, and the ESP packets fill that path without fragments.
#   8. tools/nft/kipsec-failclosed.nft on ga: harmless with kipsec loaded;
#      with kipsec unloaded, nothing to the protected prefixes leaves the
#      WAN in clear.
#   Also: an SA with DF clear fragments instead of sending ICMP.
#
# Sections 1 to 4 and 6 run twice: first against the native XFRM stack on
# gb (without 5, as native sends its ICMP errors about forwarded traffic
# outside its policies, and without the mapping event, which is kipsec's),
# then with kipsec on both gateways. make check runs only 1 and 6 against
# native: what the native peer must take from ga (outer packets of the
# path's full 1400 bytes, IPv4 and IPv6; ga's outer fragments, DF clear;
# ESP in UDP). Sections 2 to 4 assert ga's own behaviour (fragments, TCP
# PMTU, DSCP/ECN copy and decapsulation), the same whatever gb runs: the
# kipsec pass asserts them, and make stress runs them against native too.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
STRESS=${KIPSEC_STRESS:-0}
TCP_BYTES=262144
[ "$STRESS" = 1 ] && TCP_BYTES=4194304

kipsec_load || { t_fail "load kipsec"; t_done; }
native_modules

topo() {
	topo_gateways
	ip -n m link set dev m1 mtu 1400
	ip -n gb link set dev gb0 mtu 1400
}

# gw NS LOCAL REMOTE LOCAL_LAN REMOTE_LAN SPI_OUT SPI_IN: a kipsec gateway
# (one kipsec -batch: every process start costs under TCG)
gw() {
	local ns=$1 lo=$2 ro=$3 ll=$4 rl=$5 so=$6 si=$7
	"$KIPSEC" -n "$ns" -batch - <<-EOF
	sa add src $lo dst $ro proto esp spi $so mode tunnel replay-window 64 $GCM
	sa add src $ro dst $lo proto esp spi $si mode tunnel replay-window 64 $GCM
	policy add dir out src $ll dst $rl action protect tmpl proto esp mode tunnel src $lo dst $ro
	policy add dir fwd src $rl dst $ll action protect tmpl proto esp mode tunnel src $ro dst $lo
	EOF
}
# gw_native: the same with the native XFRM stack (native_sa and
# native_policy's words, one ip -batch)
gw_native() {
	local ns=$1 lo=$2 ro=$3 ll=$4 rl=$5 so=$6 si=$7
	ip -n "$ns" -batch - <<-EOF
	xfrm state add src $lo dst $ro proto esp spi $so mode tunnel reqid 0 replay-window 64 $GCM
	xfrm state add src $ro dst $lo proto esp spi $si mode tunnel reqid 0 replay-window 64 $GCM
	xfrm policy add dir out src $ll dst $rl tmpl src $lo dst $ro proto esp mode tunnel reqid 0
	xfrm policy add dir fwd src $rl dst $ll tmpl src $ro dst $lo proto esp mode tunnel reqid 0
	EOF
}
setup() {
	local g=gw
	[ "$PEER" = native ] && g=gw_native
	gw ga $A4 $B4 10.1.0.0/24 10.2.0.0/24 0x1004 0x2004 &&
	gw ga $A6 $B6 fd11::/64 fd12::/64 0x1006 0x2006 &&
	$g gb $B4 $A4 10.2.0.0/24 10.1.0.0/24 0x2004 0x1004 &&
	$g gb $B6 $A6 fd12::/64 fd11::/64 0x2006 0x1006
}

# sa_stat NS SPI DST NAME: one counter of a kipsec SA (one process:
# kipsec enters the namespace, bash's regex takes the figure out)
sa_stat() {
	local out
	out=$("$KIPSEC" -n "$1" -j -s sa get dst "$3" proto esp spi "$2") &&
		[[ $out =~ \"$4\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

# route_has NS 4|6 DST TEXT: ip route get's answer holds TEXT (one process)
route_has() { [[ $(ip -n "$1" -"$2" route get "$3") == *"$4"* ]]; }


# suite: sections 1 to 6 with kipsec on ga and $PEER on gb. The point
# names of the native run start with "native gb: ".
suite() {
	# --- 1. path MTU ------------------------------------------------------

	pmtu_case() { # FAM HB OB SPI PINGSIZE_1500 MTU1 SIZE1 MTU2 SIZE2 TOOBIG_TEXT
		local fam=$1 hb=$2 ob=$3 spi=$4 big=$5 mtu1=$6 size1=$7 mtu2=$8 size2=$9
		local text=${10} out icmp0 mtu0

		mtu0=$(sa_stat ga "$spi" "$ob" out_mtu)
		icmp0=$(kipsec_stat ga icmp_pmtu)
		out=$(n ha ping "-$fam" -c1 -W3 -M do -s "$big" "$hb" 2>&1)
		t_check "${P}IPv$fam: a 1500-byte DF packet gets '$text$mtu1' from ga" \
			grep -q "$text$mtu1" <<<"$out"
		t_eq "${P}IPv$fam: the SA counted it in out_mtu" \
			"$(sa_stat ga "$spi" "$ob" out_mtu)" $((mtu0 + 1))
		t_check "${P}IPv$fam: ga's route to $hb learnt mtu $mtu1" \
			route_has ga "$fam" "$hb" "mtu $mtu1"
		t_check "${P}IPv$fam: ha's route to $hb learnt mtu $mtu1" \
			route_has ha "$fam" "$hb" "mtu $mtu1"

		# A packet of exactly mtu1 fills a 1500-byte outer packet, which m
		# cannot forward onto its 1400-byte link: m tells ga.
		n ha ping "-$fam" -c1 -W1 -M do -s "$size1" "$hb" >/dev/null 2>&1
		t_eq "${P}IPv$fam: m's ICMP about the outer packet counted in icmp_pmtu" \
			"$(kipsec_stat ga icmp_pmtu)" $((icmp0 + 1))
		t_eq "${P}IPv$fam: ... and the SA learnt path MTU 1400 from it" \
			"$(sa_stat ga "$spi" "$ob" pmtu)" 1400
		t_check "${P}IPv$fam: ga's outer route to $ob learnt mtu 1400" \
			route_has ga "$fam" "$ob" "mtu 1400"
		out=$(n ha ping "-$fam" -c1 -W3 -M do -s "$size1" "$hb" 2>&1)
		t_check "${P}IPv$fam: the next $size1-byte ping gets '$text$mtu2' from ga" \
			grep -q "$text$mtu2" <<<"$out"
		n ha ping "-$fam" -c3 -i0.3 -W3 -M do -s "$size2" "$hb" >/tmp/mtu.ping 2>&1
		t_eq "${P}IPv$fam: pings of exactly mtu $mtu2 cross the tunnel" \
			"$(ping_received /tmp/mtu.ping)" 3
		[ "$(ping_received /tmp/mtu.ping)" = 3 ] || _t_show </tmp/mtu.ping
	}

	# tmtu PATH_MTU OUTER_HEADER [UDP]: the largest inner packet an AES-GCM-128
	# SA carries in PATH_MTU: ESP header 8, IV 8, ICV 16, the payload and its
	# 2-byte trailer padded to 4 bytes (RFC 4106, RFC 4303 2.4)
	tmtu() {
		local room=$(($1 - $2 - ${3:-0} - 8 - 8 - 16))
		echo $((room / 4 * 4 - 2))
	}
	M4=$(tmtu 1500 20); M4S=$(tmtu 1400 20)	# 1446, 1346
	M6=$(tmtu 1500 40); M6S=$(tmtu 1400 40)	# 1426, 1326
	pmtu_case 4 10.2.0.2 $B4 0x1004 1472 $M4 $((M4 - 28)) $M4S $((M4S - 28)) "mtu = "
	pmtu_case 6 fd12::2 $B6 0x1006 1452 $M6 $((M6 - 48)) $M6S $((M6S - 48)) "mtu="

	# An SA with DF clear fragments instead (cold caches: no learnt MTU).
	n ga "$KIPSEC" sa update dst $B4 proto esp spi 0x1004 df clear
	for ns in ha ga; do ip -n $ns route flush cache; done
	mtu0=$(sa_stat ga 0x1004 $B4 out_mtu)
	capture_start dfc m m0
	n ha ping -4 -c2 -i0.3 -W3 -M do -s 1472 10.2.0.2 >/tmp/dfc.ping 2>&1
	capture_stop
	t_eq "${P}IPv4, SA with DF clear: 1500-byte DF pings are answered" \
		"$(ping_received /tmp/dfc.ping)" 2
	t_eq "${P}IPv4, SA with DF clear: no ICMP, nothing counted in out_mtu" \
		"$(sa_stat ga 0x1004 $B4 out_mtu)" "$mtu0"
	t_check "${P}IPv4, SA with DF clear: the outer packets leave as fragments without DF" \
		test "$(pcap_count dfc 'src 10.0.1.1 and ip[6:2] & 0x2000 != 0 and ip[6:2] & 0x4000 = 0')" -ge 2
	n ga "$KIPSEC" sa update dst $B4 proto esp spi 0x1004 df copy

	t_diag "took $SECONDS s so far"
	# Sections 2 to 4 against native in make stress only (see the top).
	if [ "$PEER" = kipsec ] || [ "$STRESS" = 1 ]; then
		# --- 2. fragmentation without DF --------------------------------------

		capture_start frag m m0
		n ha ping -4 -c2 -i0.3 -W3 -M dont -s 1472 -p "$MARKER_HEX" 10.2.0.2 >/tmp/frag.ping 2>&1
		capture_stop
		t_eq "${P}IPv4 without DF: 1500-byte pings (above the tunnel MTU) are answered" \
			"$(ping_received /tmp/frag.ping)" 2
		t_check "${P}IPv4 without DF: ga's outer packets are fragments on the wire" \
			test "$(pcap_count frag 'src 10.0.1.1 and ip[6:2] & 0x3fff != 0')" -ge 4
		t_check_fail "${P}IPv4 without DF: no cleartext on the wire" pcap_has_text frag "$MARKER_PING"

		t_diag "took $SECONDS s so far"
		# --- 3. TCP from cold caches ------------------------------------------

		for ns in ha ga m gb hb; do
			ip -n $ns route flush cache; ip -n $ns -6 route flush cache
		done
		capture_start tcp m m0
		t_check "${P}IPv4 TCP ($TCP_BYTES bytes) ha -> hb converges from cold caches" \
			tcp_transfer ha hb 10.2.0.2 $TCP_BYTES
		t_check "${P}IPv6 TCP ($TCP_BYTES bytes) ha -> hb converges from cold caches" \
			tcp_transfer ha hb fd12::2 $TCP_BYTES 5002
		capture_stop
		t_check_fail "${P}TCP: no cleartext on the wire" pcap_has_text tcp "$MARKER"

		t_diag "took $SECONDS s so far"
		# --- 4. DSCP and ECN --------------------------------------------------

		capture_start ds m m0
		n ha ping -4 -c2 -i0.3 -W3 -Q 0xba 10.2.0.2 >/dev/null 2>&1
		n ha ping -6 -c2 -i0.3 -W3 -Q 0xba fd12::2 >/dev/null 2>&1
		capture_stop
		t_eq "${P}DSCP EF + ECT(0) copied to the outer IPv4 header" \
			"$(pcap_count ds 'src 10.0.1.1 and esp and ip[1] = 0xba')" 2
		t_eq "${P}DSCP EF + ECT(0) copied to the outer IPv6 header" \
			"$(pcap_count ds 'src fd01::1 and esp and (ip6[0:2] & 0x0ff0) = 0x0ba0')" 2

		# m marks congestion on every ESP packet towards ga.
		n m nft -f - <<-EOF
			table inet ce {
				chain set_ce {
					type filter hook forward priority 0;
					ip daddr $A4 meta l4proto esp ip ecn set ce
					ip6 daddr $A6 meta l4proto esp ip6 ecn set ce
				}
			}
		EOF
		capture_start ce ha ha0
		n hb ping -4 -c3 -i0.3 -W3 -Q 0x02 10.1.0.2 >/dev/null 2>&1
		n hb ping -6 -c3 -i0.3 -W3 -Q 0x02 fd11::2 >/dev/null 2>&1
		capture_stop
		t_eq "${P}ECN: outer CE on an ECT(0) IPv4 packet marks it CE at ha" \
			"$(pcap_count ce 'icmp[0] = 8 and ip[1] & 3 = 3')" 3
		t_eq "${P}ECN: outer CE on an ECT(0) IPv6 packet marks it CE at ha" \
			"$(pcap_count ce 'icmp6 and ip6[40] = 128 and (ip6[1] & 0x30) = 0x30')" 3
		e0=$(kipsec_stat ga in_ecn_invalid)
		s0=$(sa_stat ga 0x2004 $A4 in_ecn_invalid)
		n hb ping -4 -c3 -i0.3 -W1 10.1.0.2 >/tmp/ce.ping 2>&1
		t_eq "${P}ECN: Not-ECT inner with outer CE is dropped (RFC 6040)" \
			"$(ping_received /tmp/ce.ping)" 0
		t_eq "${P}ECN: ... and counted in in_ecn_invalid" \
			"$(kipsec_stat ga in_ecn_invalid)" $((e0 + 3))
		t_eq "${P}ECN: ... and in the SA's in_ecn_invalid" \
			"$(sa_stat ga 0x2004 $A4 in_ecn_invalid)" $((s0 + 3))
		n m nft flush ruleset

		t_diag "took $SECONDS s so far"
	fi
	# --- 5. ICMP errors about inner traffic -------------------------------

	# Native XFRM sends an ICMP error about forwarded traffic from its WAN
	# address, outside its policies (unless the policy has the icmp flag):
	# kipsec gateways only.
	if [ "$PEER" = kipsec ]; then

		m0=$(kipsec_stat ga in_policy_mismatch)
		capture_start icmp m m1
		out=$(n ha ping -4 -c1 -W3 -t 2 10.2.0.2 2>&1)
		capture_stop
		t_check "${P}TTL exceeded at gb reaches ha through the tunnel" \
			grep -q "Time to live exceeded" <<<"$out"
		t_eq "${P}... never in clear on the wire" "$(pcap_count icmp 'icmp')" 0
		t_eq "${P}... and ga accepted it (in_policy_mismatch unchanged)" \
			"$(kipsec_stat ga in_policy_mismatch)" "$m0"

		t_diag "took $SECONDS s so far"
	fi

	# --- 6. PMTU with ESP in UDP (NAT-T) ----------------------------------

	# The IPv4 SAs again, UDP-encapsulated: 8 more bytes of overhead, and m's
	# ICMP quotes UDP, matched by the local encapsulation port.
	natt_sas() { # NS LOCAL REMOTE SPI_OUT SPI_IN (one kipsec -batch)
		"$KIPSEC" -n "$1" -batch - <<-EOF
		sa delete dst $3 proto esp spi $4
		sa delete dst $2 proto esp spi $5
		sa add src $2 dst $3 proto esp spi $4 mode tunnel replay-window 64 $GCM encap espinudp 4500 4500
		sa add src $3 dst $2 proto esp spi $5 mode tunnel replay-window 64 $GCM encap espinudp 4500 4500
		EOF
	}
	# natt_native: gb's native SAs the same way; native ESP in UDP also needs
	# a UDP_ENCAP socket (UDP_ENCAP_ESPINUDP) on the port, as charon keeps one.
	natt_native() {
		ip -n gb -batch - <<-EOF
		xfrm state delete src $B4 dst $A4 proto esp spi 0x2004
		xfrm state add src $B4 dst $A4 proto esp spi 0x2004 mode tunnel reqid 0 replay-window 64 $GCM encap espinudp 4500 4500 0.0.0.0
		xfrm state delete src $A4 dst $B4 proto esp spi 0x1004
		xfrm state add src $A4 dst $B4 proto esp spi 0x1004 mode tunnel reqid 0 replay-window 64 $GCM encap espinudp 4500 4500 0.0.0.0
		EOF
	}
	natt_ga_native() { natt_sas ga $A4 $B4 0x1004 0x2004 && natt_native; }
	natt_both() { natt_sas ga "$A4" "$B4" 0x1004 0x2004 && natt_sas gb "$B4" "$A4" 0x2004 0x1004; }
	if [ "$PEER" = kipsec ]; then
		t_check "${P}NAT-T: the IPv4 SAs become ESP in UDP on both gateways" natt_both
	else
		n gb "$PY" -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 4500))
s.setsockopt(socket.IPPROTO_UDP, 100, 2)
time.sleep(3600)
' &
		ENCAP_PID=$!
		t_check "${P}NAT-T: gb's UDP_ENCAP socket listens on 4500" wait_listener gb u 4500
		t_check "${P}NAT-T: the IPv4 SAs become ESP in UDP on both gateways" \
			natt_ga_native
	fi
	for ns in ha ga; do ip -n $ns route flush cache; done
	icmp0=$(kipsec_stat ga icmp_pmtu)
	MU=$(tmtu 1500 20 8); MUS=$(tmtu 1400 20 8)	# 1438, 1338
	out=$(n ha ping -4 -c1 -W3 -M do -s 1472 10.2.0.2 2>&1)
	t_check "${P}NAT-T: a 1500-byte DF packet gets 'mtu = $MU' (UDP header counted)" \
		grep -q "mtu = $MU" <<<"$out"
	n ha ping -4 -c1 -W1 -M do -s $((MU - 28)) 10.2.0.2 >/dev/null 2>&1
	t_eq "${P}NAT-T: m's ICMP quoting UDP 4500 counted in icmp_pmtu" \
		"$(kipsec_stat ga icmp_pmtu)" $((icmp0 + 1))
	out=$(n ha ping -4 -c1 -W3 -M do -s $((MU - 28)) 10.2.0.2 2>&1)
	t_check "${P}NAT-T: the next $MU-byte ping gets 'mtu = $MUS'" \
		grep -q "mtu = $MUS" <<<"$out"
	capture_start natt m m1
	n ha ping -4 -c3 -i0.3 -W3 -M do -s $((MUS - 28)) 10.2.0.2 >/tmp/mtu.ping 2>&1
	capture_stop
	t_eq "${P}NAT-T: pings of exactly mtu $MUS cross the tunnel" \
		"$(ping_received /tmp/mtu.ping)" 3
	t_check "${P}NAT-T: as 1400-byte UDP 4500 packets on the wire" \
		test "$(pcap_count natt 'src 10.0.1.1 and udp port 4500 and ip[2:2] = 1400')" -ge 3

	if [ "$PEER" != kipsec ]; then
		kill "$ENCAP_PID" 2>/dev/null; wait "$ENCAP_PID" 2>/dev/null
		return
	fi

	# The NAT mapping changes: ga now sends from port 4501 while gb's inbound
	# SA knows 4500. gb accepts the authenticated packets and reports the new
	# port once (at most one report per SA and second).
	n gb "$KIPSEC" monitor -j >/tmp/mon.gb 2>&1 &
	mon=$!
	remap() {
		n ga "$KIPSEC" sa delete dst $B4 proto esp spi 0x1004 &&
		n gb "$KIPSEC" sa delete dst $B4 proto esp spi 0x1004 &&
		eval "n ga \"\$KIPSEC\" sa add src $A4 dst $B4 proto esp spi 0x1004 mode tunnel replay-window 64 $GCM encap espinudp 4501 4500" &&
		eval "n gb \"\$KIPSEC\" sa add src $A4 dst $B4 proto esp spi 0x1004 mode tunnel replay-window 64 $GCM encap espinudp 4500 4500"
	}
	mon_ready() { # probe SAs until the monitor printed one
		local i
		for i in $(seq 1 50); do
			eval "n gb \"\$KIPSEC\" sa add src 192.0.2.9 dst 192.0.2.8 proto esp spi 0x9999 $GCM"
			n gb "$KIPSEC" sa delete dst 192.0.2.8 proto esp spi 0x9999
			file_has /tmp/mon.gb sa_new && return 0
			nap 0.2
		done
		return 1
	}
	t_check "${P}NAT-T mapping: gb's monitor listens" mon_ready
	t_check "${P}NAT-T mapping: ga's SA now sends from UDP port 4501" remap
	n ha ping -4 -c3 -i0.1 -W3 10.2.0.2 >/tmp/map.ping 2>&1
	t_eq "${P}NAT-T mapping: pings from the new port are answered" \
		"$(ping_received /tmp/map.ping)" 3
	sleep 0.5
	kill $mon 2>/dev/null; wait $mon 2>/dev/null
	t_eq "${P}NAT-T mapping: gb reported the change once" \
		"$(grep -Ec '"event": ?"sa_mapping"' /tmp/mon.gb)" 1
	t_check "${P}NAT-T mapping: ... with the new address and port" \
		grep -Eq '"event": ?"sa_mapping".*"new_addr": ?"10.0.1.1".*"new_port": ?4501' /tmp/mon.gb

	t_diag "took $SECONDS s so far"
}

# Against the native stack on gb first: ga's PMTU, fragmentation, DSCP and
# ECN decapsulation must hold whatever the peer is, and the native peer must
# take what ga sends (fragments, 1400-byte outer packets, ESP in UDP).
PEER=native P="native gb: "
topo
t_check "${P}setup: kipsec on ga, native XFRM on gb, IPv4 and IPv6" setup
suite
netns_cleanup

# Then kipsec on both gateways (sections 7 and 8 go on from this one).
PEER=kipsec P=""
topo
t_check "setup: kipsec tunnels ga <-> gb, IPv4 and IPv6" setup
suite

# --- 7. host-to-host tunnel mode, transport mode ----------------------------

# strongSwan's default between two hosts: tunnel mode whose inner
# destination is the outer one, so inner and outer packets share ga's route
# to gb. ga's ICMP error teaches that route the inner MTU; the outer packets
# must keep the path's (1400, from m's ICMP), or each round lowers the route
# again, down to 552, and ESP leaves in fragments. In IPv4 transport mode the
# packet's own route is the path, and the same holds: kipsec refuses a
# too-big DF packet with the MTU left after the SA's overhead (M4S + 20: the
# IPv4 header stays), as native XFRM sizes it.
h2h() { # NS MODE LOCAL REMOTE SPI_OUT SPI_IN REQID_OUT REQID_IN
	local ns=$1 m=$2 lo=$3 ro=$4 ep=""
	[ "$m" = tunnel ] && ep="src $lo dst $ro"
	# the previous case's TCP policies, if there are any
	"$KIPSEC" -n "$ns" -force -batch - 2>/dev/null <<-EOF
	policy del dir out src $lo dst $ro proto tcp
	policy del dir in src $ro dst $lo proto tcp
	EOF
	"$KIPSEC" -n "$ns" -batch - <<-EOF
	sa add src $lo dst $ro proto esp spi $5 mode $m reqid $7 replay-window 64 $GCM
	sa add src $ro dst $lo proto esp spi $6 mode $m reqid $8 replay-window 64 $GCM
	policy add dir out src $lo dst $ro proto tcp action protect tmpl proto esp mode $m $ep reqid $7
	policy add dir in src $ro dst $lo proto tcp action protect tmpl proto esp mode $m ${ep:+src $ro dst $lo} reqid $8
	EOF
}
# h2h_pair MODE SPI_OUT SPI_IN REQID_OUT REQID_IN: both ends, ga's view
h2h_pair() { h2h ga "$1" "$A4" "$B4" "$2" "$3" "$4" "$5" && h2h gb "$1" "$B4" "$A4" "$3" "$2" "$5" "$4"; }
reasm() { n gb nstat -saz IpReasmReqds | awk '$1 == "IpReasmReqds" { print $2 }'; }
# h2h_case MODE SPI_OUT SPI_IN REQID_OUT REQID_IN PORT MTU: two 1 MiB TCP
# transfers ga -> gb over fresh SAs and TCP policies.
h2h_case() {
	local m=$1 mtu=$7 port=$6 p="host to host, $1 mode: " icmp0 mtu0 r0
	t_check "${p}SAs and TCP policies between ga and gb" \
		h2h_pair "$m" "$2" "$3" "$4" "$5"
	for ns in ga m gb; do ip -n $ns route flush cache; done
	icmp0=$(kipsec_stat ga icmp_pmtu)
	mtu0=$(sa_stat ga "$2" $B4 out_mtu)
	# The first connection learns the path: what ga had encrypted for
	# 1500 bytes when m's ICMP came back leaves in fragments, not lost.
	capture_start h2h m m0
	t_check "${p}1 MiB of TCP from ga to gb" tcp_transfer ga gb $B4 1048576 "$port"
	capture_stop
	t_diag "${p}$(pcap_count h2h "src $A4 and ip[6:2] & 0x3fff != 0") fragments while learning"
	t_check "${p}m's ICMP about a 1500-byte ESP packet counted in icmp_pmtu" \
		test "$(kipsec_stat ga icmp_pmtu)" -gt "$icmp0"
	t_eq "${p}the SA learnt the path MTU from it" \
		"$(sa_stat ga "$2" $B4 pmtu)" 1400
	t_check "${p}ga refused too-big segments (the SA's out_mtu moved)" \
		test "$(sa_stat ga "$2" $B4 out_mtu)" -gt "$mtu0"
	t_check "${p}ga's route to gb holds the SA's MTU, $mtu, not less" \
		route_has ga 4 "$B4" "mtu $mtu "
	# The next connection finds the MTU learnt and keeps it.
	r0=$(reasm)
	capture_start h2h m m0
	t_check "${p}1 MiB more in a new connection" \
		tcp_transfer ga gb $B4 1048576 $((port + 1))
	capture_stop
	t_check "${p}full-size ESP packets fill the 1400-byte path" \
		test "$(pcap_count h2h "src $A4 and esp and ip[2:2] = 1400")" -ge 100
	t_eq "${p}no ESP packet leaves ga in fragments" \
		"$(pcap_count h2h "src $A4 and ip[6:2] & 0x3fff != 0")" 0
	t_eq "${p}gb reassembled nothing" "$(reasm)" "$r0"
	t_check "${p}ga's route to gb still holds $mtu" \
		route_has ga 4 "$B4" "mtu $mtu "
	t_check_fail "${p}no cleartext on the wire" pcap_has_text h2h "$MARKER"
	t_diag "ga: $(ip -n ga route get $B4 | tr '\n' ' ')"
}
h2h_case tunnel 0x1104 0x2104 7 8 5003 "$M4S"
h2h_case transport 0x1204 0x2204 9 10 5005 $((M4S + 20))

# --- 8. the shipped fail-closed nft recipe -------------------------------------

# ga's LAN prefixes to hb's side must never leave its WAN in clear, even
# with kipsec unloaded.
sed -e 's/^define KIPSEC_WAN = .*/define KIPSEC_WAN = "ga0"/' \
	"$KIPSEC_TOP/tools/nft/kipsec-failclosed.nft" >/tmp/failclosed.nft
t_check "fail-closed recipe loads on ga" n ga nft -f /tmp/failclosed.nft
t_check "with kipsec loaded, ha -> hb still works through the tunnel" \
	n ha ping -4 -c2 -i0.3 -W3 10.2.0.2
t_eq "... and the recipe stopped nothing" \
	"$(n ga nft list table inet kipsec_failclosed | grep -o 'packets [0-9]*' | head -1)" "packets 0"
netns_cleanup
topo_gateways
kipsec_unload
t_check "kipsec unloaded" test ! -d /sys/module/kipsec
n ga nft -f /tmp/failclosed.nft
capture_start fc m m0
n ha ping -4 -c3 -i0.3 -W1 -p "$MARKER_HEX" 10.2.0.2 >/dev/null 2>&1
n ha ping -6 -c3 -i0.3 -W1 -p "$MARKER_HEX" fd12::2 >/dev/null 2>&1
capture_stop
t_eq "without kipsec, nothing to the protected prefixes leaves ga's WAN" \
	"$(pcap_count fc 'src 10.1.0.2 or src fd11::2')" 0
t_check_fail "... no cleartext marker on the wire" pcap_has_text fc "$MARKER_PING"
t_eq "... the recipe's counters took the 6 pings" \
	"$(n ga nft list table inet kipsec_failclosed | grep -o 'packets [0-9]*' | awk '{ s += $2 } END { print s }')" 6

t_diag "took $SECONDS s"
netns_cleanup
t_done
