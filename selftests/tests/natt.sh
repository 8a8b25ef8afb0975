#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# NAT traversal, ESP in UDP (RFC 3948).
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec      forwards (later:  native XFRM with a UDP_ENCAP socket on
#               NAT of a's UDP    4500 (v4 and v6); kipsec in the NAT case
#               to 10.0.2.254:14500)
#
# - Interop with the native stack, tunnel v4, transport v4, tunnel v6 (and
#   transport v6 under make stress), both directions: counters exact on both sides, the wire (captured in m) has
#   UDP 4500 with the SPI after the UDP header, no ESP, no cleartext; over
#   IPv6 the UDP checksum is real (the native side verifies it, tcpdump too).
# - A plain UDP socket bound to 4500 on the kipsec side: ESP in UDP is
#   decrypted by kipsec and never reaches it; an IKE packet (zero marker)
#   and a NAT keepalive (0xff) reach it unchanged and move no drop counter.
#   Without any socket on 4500 (transport case), ESP in UDP is decrypted.
# - Plain ESP for an ESP-in-UDP SA, and ESP in UDP for a plain SA: dropped,
#   counted in in_bad_encap.
# - NAT in m (nft masquerade of a's UDP to 10.0.2.254:14500), kipsec on
#   both ends, transport mode: TCP a -> b works with the inner checksum
#   fixed up from the SA's original address on b (the stack verifies it,
#   Tcp InCsumErrors unchanged) and fails with a wrong original address
#   (InCsumErrors rises: the fix-up is what makes it work); ping b -> a.
#   b keeps the UDP_ENCAP socket on 4500 meanwhile: kipsec takes the ESP
#   before it. Then native XFRM on b behind the same mapping: counters,
#   TCP a -> b, ping b -> a.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

# make check: TCP in the tunnel v4 and NAT cases (ping elsewhere), 32 KiB;
# make stress: TCP in every case, 256 KiB.
NT_TCP_BYTES=32768
NT_TCP_ALL=0
[ "${KIPSEC_STRESS:-0}" = 1 ] && NT_TCP_BYTES=262144 NT_TCP_ALL=1
W="aead 'rfc4106(gcm(aes))' $K20 128"
NAT4=10.0.2.254

kipsec_load
native_modules
topo_hosts

ka() { "$KIPSEC" -n a "$@"; }
kb() { "$KIPSEC" -n b "$@"; }

# The native receiver needs a UDP_ENCAP (100) socket with
# UDP_ENCAP_ESPINUDP (2) on the port, as charon keeps one. (ip netns exec
# execs python, so that $! is python's pid: kill stops it.)
ip netns exec b "$PY" -c '
import socket, time
ss = []
for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, 4500))
    s.setsockopt(socket.IPPROTO_UDP, 100, 2)
    ss.append(s)
time.sleep(3600)
' &
ENCAP_PID=$!

# A plain UDP socket on a's port 4500 that logs every datagram (hex).
rm -f /tmp/natt_udp.log
ip netns exec a "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 4500))
with open("/tmp/natt_udp.log", "w") as f:
    while True:
        d = s.recv(65536)
        f.write(d.hex() + "\n"); f.flush()
' &
REC_PID=$!
wait_listener b u 4500 && wait_listener a u 4500 ||
	t_diag "UDP helpers did not start"

# udp_send NS DST PORT HEX...: one datagram per HEX from an ephemeral port
udp_send() {
	local ns=$1 dst=$2 port=$3
	shift 3
	n "$ns" "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET,
                  socket.SOCK_DGRAM)
for h in sys.argv[3:]:
    s.sendto(bytes.fromhex(h), (sys.argv[1], int(sys.argv[2])))
' "$dst" "$port" "$@"
}

# setup MODE OA OB: kipsec in a, native in b, ESP in UDP 4500 4500 (one
# batch per side: every process start is slow under TCG)
setup() {
	local m=$1 oa=$2 ob=$3 any=0.0.0.0
	[[ $oa == *:* ]] && any=::
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $oa dst $ob proto esp spi 0x1001 mode $m reqid 1 replay-window 64 $W encap espinudp 4500 4500
	sa add src $ob dst $oa proto esp spi 0x2001 mode $m reqid 2 replay-window 64 $W encap espinudp 4500 4500
	policy add dir out src $oa dst $ob action protect tmpl proto esp mode $m src $oa dst $ob reqid 1
	policy add dir in src $ob dst $oa action protect tmpl proto esp mode $m src $ob dst $oa reqid 2
	EOF
	# UDP sockets check inbound policy before ESP-in-UDP decapsulation:
	# charon's IKE sockets carry per-socket bypass policies; the helper's
	# socket gets a bypass policy for UDP to 4500 instead (it outranks
	# the protect policies: lower priority value).
	ip -n b -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src $oa dst $ob proto esp spi 0x1001 mode $m reqid 1 replay-window 64 $W encap espinudp 4500 4500 $any
	xfrm state add src $ob dst $oa proto esp spi 0x2001 mode $m reqid 2 replay-window 64 $W encap espinudp 4500 4500 $any
	xfrm policy add dir in src $oa dst $ob proto udp dport 4500 priority 10
	xfrm policy add dir in src $oa dst $ob priority 100 tmpl src $oa dst $ob proto esp mode $m reqid 1
	xfrm policy add dir out src $ob dst $oa priority 100 tmpl src $ob dst $oa proto esp mode $m reqid 2
	EOF
}

# run_case NAME MODE OA OB [tcp]: interop checks for one mode and family
run_case() {
	local name=$1 m=$2 oa=$3 ob=$4 tcp=${5:-$NT_TCP_ALL} fam=4 u=udp spi='udp[8:4]'
	local t0=$SECONDS
	# (libpcap's udp[] indexing is IPv4 only: the SPI follows a 40-byte
	# IPv6 header and the 8-byte UDP header)
	[[ $oa == *:* ]] && fam=6 u="ip6 and udp" spi='ip6[48:4]'
	if ! setup "$m" "$oa" "$ob"; then
		t_fail "$name: configure kipsec and native"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	t_check "$name: ping kipsec -> native" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$ob"
	t_eq "$name: kipsec sent 3, native received 3" \
		"$(kipsec_sa_pkts a 0x1001 "$ob" out)/$(native_pkts b "$oa" "$ob" 0x1001)" "3/3"
	t_eq "$name: native sent 3 replies, kipsec accepted 3" \
		"$(native_pkts b "$ob" "$oa" 0x2001)/$(kipsec_sa_pkts a 0x2001 "$oa" in)" "3/3"
	t_check "$name: ping native -> kipsec" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 -p "$MARKER_HEX" "$oa"
	if [ "$tcp" = 1 ]; then
		t_check "$name: TCP kipsec -> native, $NT_TCP_BYTES bytes, checksum verified" \
			tcp_transfer a b "$ob" $NT_TCP_BYTES
	fi
	capture_stop
	t_check "$name: kipsec's ESP in UDP 4500 -> 4500 with SPI 0x1001 on the wire" \
		test "$(pcap_count wire "$u and src host $oa and src port 4500 and dst port 4500 and $spi = 0x1001")" -ge 3
	t_check "$name: native's ESP in UDP with SPI 0x2001 on the wire" \
		test "$(pcap_count wire "$u and src host $ob and dst port 4500 and $spi = 0x2001")" -ge 3
	t_eq "$name: no bare ESP, TCP or ICMP echo on the wire" \
		"$(pcap_count wire 'esp or tcp or icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
	t_check_fail "$name: no cleartext marker on the wire" \
		pcap_has_text wire "$MARKER_PING"
	if [ "$fam" = 6 ]; then
		t_eq "$name: UDP checksums valid (tcpdump -vv)" \
			"$(tcpdump -r /tmp/wire.pcap -n -vv 'ip6 and udp' 2>/dev/null | grep -c 'bad udp cksum')" 0
	else
		t_eq "$name: kipsec's UDP checksum is zero (RFC 3948 over IPv4)" \
			"$(pcap_count wire "src host $oa and udp and udp[6:2] != 0")" 0
	fi
	t_diag "$name took $((SECONDS - t0)) s"
}

# --- interop: tunnel v4, with a plain socket bound to 4500 on a ---------------
s0=$(kipsec_stat a in_bad_encap)
run_case "tunnel v4" tunnel $A4 $B4 1
t_check "sa show prints the encapsulation" \
	sh -c "ip netns exec a '$KIPSEC' sa show | grep -q 'encap espinudp 4500 4500'"
t_eq "the plain socket on a's 4500 received no ESP" "$(wc -l </tmp/natt_udp.log)" 0

# IKE (zero marker) and a NAT keepalive to a's 4500 while encap SAs exist:
# they are the socket's (policies flushed: both ends would protect them).
ka policy flush; ip -n b xfrm policy flush
s_in=$(kipsec_stat a in_packets); s_nosa=$(kipsec_stat a in_no_sa)
udp_send b $A4 4500 00000000494b452d4d41524b4552 ff
for _ in $(seq 1 50); do [ "$(wc -l </tmp/natt_udp.log)" -ge 2 ] && break; nap 0.1; done
t_eq "IKE packet and keepalive reached the socket on 4500 unchanged" \
	"$(tr '\n' ' ' </tmp/natt_udp.log)" "00000000494b452d4d41524b4552 ff "
t_eq "no drop or decryption counted for them" \
	"$(kipsec_stat a in_packets)/$(kipsec_stat a in_no_sa)/$(kipsec_stat a in_bad_encap)" \
	"$s_in/$s_nosa/$s0"
kill "$REC_PID" 2>/dev/null; wait "$REC_PID" 2>/dev/null

# --- transport v4, no socket at all on a's 4500 --------------------------------
t_check "no socket on a's port 4500" \
	sh -c "! ip netns exec a ss -Hlun 'sport = :4500' | grep -q ."
run_case "transport v4" transport $A4 $B4

# Mismatched encapsulation, on the transport setup: native b sends plain
# ESP to a's ESP-in-UDP SA 0x2001, then ESP in UDP to a plain SA 0x2001
# (port 4500 stays an encapsulation port through a's SA 0x1001).
bad=$(kipsec_stat a in_bad_encap); auth=$(kipsec_stat a in_auth_fail)
ip -n b xfrm state delete src $B4 dst $A4 proto esp spi 0x2001
eval "native_sa b $B4 $A4 0x2001 transport 2 $W"
n b ping -c 2 -i 0.1 -W 1 $A4 >/dev/null 2>&1
t_eq "plain ESP to an ESP-in-UDP SA: 2 dropped as in_bad_encap" \
	"$(kipsec_stat a in_bad_encap)" "$((bad + 2))"
ip -n b xfrm state delete src $B4 dst $A4 proto esp spi 0x2001
eval "native_sa b $B4 $A4 0x2001 transport 2 $W encap espinudp 4500 4500 0.0.0.0"
ka sa del dst $A4 proto esp spi 0x2001
eval "ka sa add src $B4 dst $A4 proto esp spi 0x2001 mode transport reqid 2 replay-window 64 $W"
n b ping -c 2 -i 0.1 -W 1 $A4 >/dev/null 2>&1
t_eq "ESP in UDP to a plain SA: 2 more dropped as in_bad_encap" \
	"$(kipsec_stat a in_bad_encap)" "$((bad + 4))"
t_eq "neither was decrypted (no ICV failure, SA counted nothing)" \
	"$(kipsec_stat a in_auth_fail)/$(kipsec_sa_pkts a 0x2001 $A4 in)" "$auth/0"

# --- tunnel v6 (and transport v6 under make stress) ----------------------------
run_case "tunnel v6" tunnel $A6 $B6
[ "${KIPSEC_STRESS:-0}" = 1 ] && run_case "transport v6" transport $A6 $B6

ka sa flush; ka policy flush
ip -n b xfrm state flush; ip -n b xfrm policy flush

# --- NAT in m, kipsec on both ends, transport mode -------------------------------
# a (10.0.1.1:4500) is seen by b as 10.0.2.254:14500. b's inbound SA has
# a's original address for the checksum fix-up.
n m nft -f - <<EOF
table ip natt {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "m1" ip saddr 10.0.1.0/24 meta l4proto udp masquerade to :14500
	}
}
EOF
t_check "nft masquerade of a's UDP in m" n m nft list table ip natt

nat_setup() { # OADDR: b's original address for a
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $A4 dst $B4 proto esp spi 0x3001 mode transport reqid 1 replay-window 64 $W encap espinudp 4500 4500
	sa add src $B4 dst $A4 proto esp spi 0x3002 mode transport reqid 2 replay-window 64 $W encap espinudp 4500 4500
	policy add dir out src $A4 dst $B4 action protect tmpl proto esp mode transport reqid 1
	policy add dir in src $B4 dst $A4 action protect tmpl proto esp mode transport reqid 2
	EOF
	kb -batch - <<-EOF
	sa flush
	policy flush
	sa add src $NAT4 dst $B4 proto esp spi 0x3001 mode transport reqid 1 replay-window 64 $W encap espinudp 14500 4500 $1
	sa add src $B4 dst $NAT4 proto esp spi 0x3002 mode transport reqid 2 replay-window 64 $W encap espinudp 4500 14500
	policy add dir in src $NAT4 dst $B4 action protect tmpl proto esp mode transport reqid 1
	policy add dir out src $B4 dst $NAT4 action protect tmpl proto esp mode transport reqid 2
	EOF
}

# Tcp InCsumErrors of a namespace
csum_errors() {
	n "$1" awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c["InCsumErrors"] }' /proc/net/snmp
}

t0=$SECONDS
t_check "NAT: configure kipsec on a and b (b with original address $A4)" \
	nat_setup $A4
capture_start nat m m1 || t_fail "NAT: capture"
ce=$(csum_errors b)
t_check "NAT: TCP a -> b, $NT_TCP_BYTES bytes, checksum verified" \
	tcp_transfer a b $B4 $NT_TCP_BYTES
t_eq "NAT: b's TCP saw no checksum error (fix-up from $A4 to $NAT4)" \
	"$(csum_errors b)" "$ce"
t_check "NAT: ping b -> a through the mapping" \
	n b ping -c 2 -i 0.1 -W 2 $NAT4
capture_stop
t_check "NAT: b received ESP in UDP from $NAT4:14500 (SPI 0x3001)" \
	test "$(pcap_count nat "src host $NAT4 and udp src port 14500 and dst port 4500 and udp[8:4] = 0x3001")" -ge 5
t_check "NAT: b's answers to $NAT4:14500 (SPI 0x3002)" \
	test "$(pcap_count nat "dst host $NAT4 and udp src port 4500 and dst port 14500 and udp[8:4] = 0x3002")" -ge 5
t_eq "NAT: nothing else on the wire" \
	"$(pcap_count nat "tcp or icmp or esp")" 0
t_check_fail "NAT: no cleartext marker on the wire" pcap_has_text nat "$MARKER"

# The same with a wrong original address: the fix-up makes the checksum
# wrong, so TCP must fail and b count checksum errors.
t_check "NAT: reconfigure b with a wrong original address" \
	nat_setup 10.0.1.99
ip netns exec b timeout 20 "$PY" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("'$B4'", 5009)); s.listen(1); s.settimeout(15); s.accept()
' >/dev/null 2>&1 &
lpid=$!
wait_listener b t 5009
ce=$(csum_errors b)
t_check_fail "NAT: TCP a -> b (listening) fails with a wrong original address" \
	n a timeout 10 "$PY" -c '
import socket; socket.create_connection(("'$B4'", 5009), timeout=3)'
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
t_check "NAT: b counted TCP checksum errors" test "$(csum_errors b)" -gt "$ce"

# Native XFRM on b behind the same NAT mapping (the issue's gateway case:
# kipsec inside the NAT, the native stack outside).
native_nat() {
	kb sa flush && kb policy flush &&
	ip -n b -batch - <<-EOF
	xfrm state add src $NAT4 dst $B4 proto esp spi 0x3001 mode transport reqid 1 replay-window 64 $W encap espinudp 14500 4500 0.0.0.0
	xfrm state add src $B4 dst $NAT4 proto esp spi 0x3002 mode transport reqid 2 replay-window 64 $W encap espinudp 4500 14500 0.0.0.0
	xfrm policy add dir in src $NAT4 dst $B4 proto udp dport 4500 priority 10
	xfrm policy add dir in src $NAT4 dst $B4 priority 100 tmpl src $NAT4 dst $B4 proto esp mode transport reqid 1
	xfrm policy add dir out src $B4 dst $NAT4 priority 100 tmpl src $B4 dst $NAT4 proto esp mode transport reqid 2
	EOF
}
t_check "NAT, native b: configure" native_nat
o0=$(kipsec_sa_pkts a 0x3001 $B4 out); i0=$(kipsec_sa_pkts a 0x3002 $A4 in)
t_check "NAT, native b: ping a -> b" n a ping -c 3 -i 0.1 -W 2 $B4
t_eq "NAT, native b: kipsec sent 3, native received 3" \
	"$(($(kipsec_sa_pkts a 0x3001 $B4 out) - o0))/$(native_pkts b $NAT4 $B4 0x3001)" "3/3"
t_eq "NAT, native b: native sent 3 replies, kipsec accepted 3" \
	"$(native_pkts b $B4 $NAT4 0x3002)/$(($(kipsec_sa_pkts a 0x3002 $A4 in) - i0))" "3/3"
t_check "NAT, native b: TCP a -> b, $NT_TCP_BYTES bytes, checksum verified" \
	tcp_transfer a b $B4 $NT_TCP_BYTES 5003
t_check "NAT, native b: ping b -> a through the mapping" \
	n b ping -c 2 -i 0.1 -W 2 $NAT4

t_diag "NAT cases took $((SECONDS - t0)) s"

kill "$ENCAP_PID" 2>/dev/null; wait "$ENCAP_PID" 2>/dev/null
n m nft delete table ip natt
netns_cleanup
kipsec_unload
t_done
