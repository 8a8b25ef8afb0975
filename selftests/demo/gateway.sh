#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, inside the guest: the gateway-to-gateway VPN of
# tests/strongswan.sh, narrated. LAN A (ha) - gateway A (kipsec, charon,
# kipsec sync-xfrm) - WAN (m) - gateway B (charon, native XFRM) - LAN B (hb).
# Prints every command it runs and what it shows; the checks are KTAP test
# points, so the runner fails the demo if the VPN does not work.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../ike.sh"

say() { printf '\n== %s\n' "$*"; }
# on NS CMD...: print "NS# CMD", run it in NS, indent its output
on() {
	local ns=$1 rc
	shift
	printf '%s# %s\n' "$ns" "$*"
	ip netns exec "$ns" "$@" 2>&1 | sed -e 's/^/    /'
	rc=${PIPESTATUS[0]}
	return "$rc"
}
export PATH=$(dirname "$KIPSEC"):$PATH
wire_clean() { [ "$(pcap_count wire 'tcp or icmp')" = 0 ] && ! pcap_has_text wire "$MARKER"; }
kcount() { ip netns exec ga kipsec "$@" show | grep -c "${KPAT:-^src }"; }
# predicates for wait_until (it runs them again and again)
sas_are() { [ "$(kcount sa)" = "$1" ]; }
tunnel_gone() { [ "$(kcount sa)$(KPAT='action protect' kcount policy)" = 00 ]; }
check() { if "${@:2}"; then t_ok "$1"; else t_fail "$1"; fi; }

cat <<'TXT'
kipsec demo: a gateway-to-gateway VPN negotiated by strongSwan (IKEv2, PSK,
ESP tunnel, AES-GCM-128). Gateway A runs kipsec as its IPsec datapath, fed by
`kipsec sync-xfrm`; gateway B runs an ordinary charon on Linux's own XFRM.

   ha ---- ga ================ m ================ gb ---- hb
 10.1.0.2  10.1.0.1|10.0.1.1  (WAN)   10.0.2.1|10.2.0.1  10.2.0.2
           kipsec + charon             native XFRM + charon
TXT

say "Load kipsec on gateway A, build the five namespaces"
printf 'ga# insmod kipsec.ko\n'
kipsec_load
native_modules
modprobe -q aesni_intel 2>/dev/null
topo_gateways
ss_configure

say "Start strongSwan on both gateways (ga: tools/strongswan/*.conf as shipped)"
grep -E '^\s+(policies|mark_in|mark_in_sa) =' "$KIPSEC_TOP/tools/strongswan/swanctl.conf" |
	sed -e 's/^\s*/    ga swanctl.conf: /'
check "charon runs on ga" ss_start_charon ga
check "charon runs on gb" ss_start_charon gb
printf 'ga# swanctl --load-all; gb# swanctl --load-all\n'
ss_swanctl ga --load-all >/dev/null && ss_swanctl gb --load-all >/dev/null
check "swanctl loaded both configurations" test $? = 0

say "Start the bridge: kipsec sync-xfrm (XFRM netlink + VICI -> kipsec)"
printf 'ga# kipsec sync-xfrm --vici %s &\n' "$SS_DIR/ga/charon.vici"
check "sync-xfrm runs" ss_start_sync
sed -e 's/^/    /' "$SS_DIR/ga/sync.log"

say "Bring the tunnel up from gateway A"
printf 'ga# swanctl --initiate --child net\n'
ss_swanctl ga --initiate --child net 2>&1 | grep -E 'established|installed|failed' | sed -e 's/^/    /'
check "CHILD_SA net is up, kipsec has its two SAs" wait_until 10 sas_are 2
sleep 0.5
sed -n '/added/p' "$SS_DIR/ga/sync.log" | sed -e 's/^/    /'

say "What kipsec holds on gateway A"
on ga kipsec sa show
printf 'ga# kipsec policy show   (the PROTECT ones)\n'
ip netns exec ga kipsec policy show | grep -B1 -A1 'action protect' | sed -e 's/^/    /' 
printf '    (and 16 bypass policies for IKE, UDP 500/4500)\n'

say "Traffic from LAN A to LAN B, watched on the WAN"
capture_start wire m m0 || t_fail "tcpdump on the WAN"
check "ping ha -> hb" on ha ping -c 4 -i 0.3 -p "$MARKER_HEX" 10.2.0.2
if command -v iperf3 >/dev/null; then
	ip netns exec hb iperf3 -s -1 -D -B 10.2.0.2 >/dev/null 2>&1
	sleep 1
	check "iperf3 ha -> hb" on ha iperf3 -c 10.2.0.2 -t 3 -f m
fi
capture_stop
printf 'm# tcpdump -n -i m0   (first packets; ESP only, no cleartext)\n'
tcpdump -r /tmp/wire.pcap -n 2>/dev/null | head -n 8 | sed -e 's/^/    /'
esp=$(pcap_count wire esp)
check "the WAN carried ESP ($esp packets)" test "$esp" -gt 10
check "no cleartext on the WAN (no TCP/ICMP, no payload marker)" wire_clean

say "Counters: kipsec did the work, the native SAs on gateway A saw none of it"
on ga kipsec -s sa show
printf 'ga# cat /proc/net/xfrm_stat   (native XFRM errors, all zero)\n'
check "native XFRM counters on ga are zero" \
	test "$(ip netns exec ga awk '{ s += $2 } END { print s + 0 }' /proc/net/xfrm_stat)" = 0
sleep 2
printf 'ga# swanctl --list-sas   (usage pushed back to charon by sync-xfrm)\n'
ss_swanctl ga --list-sas 2>&1 | sed -e 's/^/    /'

say "Tear down"
printf 'ga# swanctl --terminate --ike gw\n'
ss_swanctl ga --terminate --ike gw >/dev/null 2>&1
check "kipsec's SAs and policies left with the tunnel" \
	wait_until 10 tunnel_gone
ss_stop_all
netns_cleanup
kipsec_unload
say "Done: the VPN worked; kipsec carried every packet on gateway A."
t_done
