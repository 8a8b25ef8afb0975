#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan through a NAT (RFC 3948): as strongswan.sh (ga = charon +
# kipsec + sync-xfrm with the shipped configuration, gb = charon on the
# native stack), but m masquerades ga's WAN address as 10.0.2.254 towards
# gb. The charons detect the NAT and move to UDP 4500; sync-xfrm mirrors
# the SAs with their ESP-in-UDP encapsulation; outside the NAT (on m1) the
# wire carries UDP 4500 from 10.0.2.254 and no plain ESP and no cleartext;
# kipsec's SAs count the exact pings; TCP crosses both ways; IKE keeps
# working over port 4500 through kipsec's receive path (a manual rekey
# succeeds, the new SAs carry traffic); terminate removes everything.
#
#   ha --- ga ====== (m0) m (m1) ====== gb --- hb
#          kipsec     NAT 10.0.1.0/24     native
#                     -> 10.0.2.254

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../ike.sh"

NAT4=10.0.2.254

ka() { "$KIPSEC" -n ga "$@"; }
sa_count() { ka sa show | grep -c '^src '; }
protect_count() { ka policy show | grep -c 'action protect'; }
# kipsec's SAs on ga whose encapsulation is ESP in UDP 4500 -> 4500
encap_count() {
	ka -j sa show | jq_py "len([s for s in d if s.get('encap', {}).get('sport') == 4500 and s.get('encap', {}).get('dport') == 4500])"
}
# "SPI" of kipsec's SA in direction out (from ga) or in
sa_spi() {
	ka -j sa show | jq_py "' '.join(s['spi'] for s in d if (s['src'] == '$A4') == ('$1' == 'out'))"
}
sa_pkts() { # SPI DST out|in
	ka -j -s sa get dst "$2" proto esp spi "$1" |
		sed -n "s/.*\"${3}_packets\": *\([0-9][0-9]*\).*/\1/p"
}
# predicates for wait_until (it runs them again and again)
sas_are() { [ "$(sa_count)" = "$1" ]; }
encap_are() { [ "$(encap_count)" = "$1" ]; }
protects_are() { [ "$(protect_count)" = "$1" ]; }
no_old_spis() {
	local s l
	l=" $(sa_spi out) $(sa_spi in) "
	for s in $old; do case $l in *" $s "*) return 1 ;; esac; done
	[ "$(sa_count)" = 2 ]
}
ok_if() { if "${@:2}"; then t_ok "$1"; else t_fail "$1"; fi; }
sync_log() { t_diag "sync-xfrm log:"; sed -e 's/^/#   /' "$SS_DIR/ga/sync.log" | tail -n 30; }

kipsec_load
native_modules
# one python for the JSON checks (charon and sync-xfrm inherit its pipes:
# it ends when the last of them does)
pys_start
modprobe -q aesni_intel 2>/dev/null
topo_gateways
ss_configure
n m nft -f - <<-EOF
	table ip nat {
		chain post {
			type nat hook postrouting priority srcnat;
			oifname "m1" ip saddr 10.0.1.0/24 masquerade
		}
	}
EOF
# gb answers whatever address the NAT gives ga.
sed -i 's/remote_addrs = 10.0.1.1/remote_addrs = %any/' "$SS_DIR/gb/swanctl/swanctl.conf"

ok_if "charon starts on ga (kipsec side)" ss_start_charon ga
ok_if "charon starts on gb (native)" ss_start_charon gb
t_check "swanctl loads both configurations" \
	bash -c ". $KIPSEC_TOP/selftests/ike.sh; SS_DIR=$SS_DIR; ss_swanctl ga --load-all && ss_swanctl gb --load-all"
ok_if "sync-xfrm starts on ga" ss_start_sync

t_check "CHILD_SA net comes up through the NAT (initiated by ga)" \
	timeout 60 bash -c ". $KIPSEC_TOP/selftests/ike.sh; SS_DIR=$SS_DIR; ss_swanctl ga --initiate --child net"
t_check "kipsec has the two SAs" wait_until 10 sas_are 2
t_check "both are ESP in UDP 4500 -> 4500 (charon detected the NAT)" wait_until 5 encap_are 2
t_check "kipsec has out, in and fwd PROTECT policies" wait_until 10 protects_are 3
t_check "gb's native SAs go to the NAT's address in UDP" \
	bash -c "ip -n gb xfrm state | grep -A6 'dst $NAT4' | grep -q 'encap type espinudp sport 4500 dport'"
out_spi=$(sa_spi out)
in_spi=$(sa_spi in)
t_diag "kipsec SAs: out $out_spi in $in_spi (tunnel up at ${SECONDS}s)"

capture_start wan m m1 || t_fail "capture on m1"
t_check "ping ha -> hb through the tunnel and the NAT (5 packets)" \
	n ha ping -c 5 -i 0.2 -W 2 -p "$MARKER_HEX" 10.2.0.2
t_eq "kipsec SA counters on ga: 5 out, 5 in" \
	"$(sa_pkts "$out_spi" $B4 out)/$(sa_pkts "$in_spi" $A4 in)" "5/5"
t_check "TCP ha -> hb, 64 KiB, checksum verified" tcp_transfer ha hb 10.2.0.2 65536
t_check "TCP hb -> ha, 64 KiB, checksum verified" tcp_transfer hb ha 10.1.0.2 65536 5002
capture_stop
t_check "outside the NAT: ESP in UDP 4500 from $NAT4" \
	test "$(pcap_count wan "src $NAT4 and udp src port 4500 and udp dst port 4500")" -ge 10
t_check "... and from gb to $NAT4" \
	test "$(pcap_count wan "dst $NAT4 and udp src port 4500 and udp dst port 4500")" -ge 10
t_eq "no plain ESP, no TCP or ICMP in clear" "$(pcap_count wan 'esp or tcp or icmp')" 0
t_check_fail "no cleartext marker on the wire" pcap_has_text wan "$MARKER"
t_eq "native XFRM error counters on ga all zero" \
	"$(ip netns exec ga awk '{ s += $2 } END { print s + 0 }' /proc/net/xfrm_stat)" 0

# IKE on UDP 4500 (zero non-ESP marker) passes kipsec to charon's socket.
old="$out_spi $in_spi"
t_check "swanctl --rekey --child net (IKE over 4500 through the NAT)" ss_swanctl ga --rekey --child net
t_check "kipsec ends with two new SAs, the old ones deleted" wait_until 25 no_old_spis
t_check "the new SAs are ESP in UDP too" wait_until 5 encap_are 2
new_out=$(sa_spi out)
before=$(sa_pkts "$new_out" $B4 out)
t_check "ping after the rekey (3 packets)" n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_eq "the new outbound SA carried them" "$(($(sa_pkts "$new_out" $B4 out) - before))" 3

t_check "swanctl --terminate --child net" ss_swanctl ga --terminate --child net
t_check "kipsec's SAs are gone" wait_until 10 sas_are 0
t_check "kipsec's PROTECT policies are gone" wait_until 10 protects_are 0
ok_if "sync-xfrm stops cleanly on SIGTERM" ss_stop_sync
t_eq "sync-xfrm logged no error" "$(grep -c 'error:' "$SS_DIR/ga/sync.log")" 0
[ "$T_FAILED" -eq 0 ] || sync_log

ss_stop_all
netns_cleanup
kipsec_unload
t_done
