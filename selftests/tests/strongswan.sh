#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan end to end: ga runs charon with the shipped kipsec-side
# configuration, kipsec and `kipsec sync-xfrm`; gb runs an ordinary charon
# on the native XFRM stack (topology: topo_gateways in net.sh). IKEv2 PSK,
# tunnel mode, AES-GCM-128. The CHILD_SA comes up; ping and TCP between
# ha and hb pass; m sees only ESP; kipsec's SA counters moved by the exact
# ping counts while the native SAs on ga saw no packet (mark_in); charon's
# view of the usage is kipsec's (NEWAE); a manual rekey keeps traffic
# flowing and leaves kipsec with the new SPIs only; terminating the child
# removes kipsec's SAs and policies, stopping sync-xfrm removes the rest.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../ike.sh"

ka() { ip netns exec ga "$KIPSEC" "$@"; }

# kipsec's SAs on ga as "SPI:DIR:PACKETS" words (DIR out if ga sends)
sa_list() {
	ka -j -s sa show | jq_py "' '.join(sorted('%s:%s:%d' % (s['spi'], 'out' if s['src'] == '$A4' else 'in', s.get('stats', {}).get('out_packets' if s['src'] == '$A4' else 'in_packets', 0)) for s in d))"
}
sa_count() { ka sa show | grep -c '^src '; }
protect_count() { ka policy show | grep -c 'action protect'; }
policy_count() { ka -j policy show | jq_py 'len(d)'; }
# packets of kipsec's SA with SPI, in its direction
sa_pkts() { sa_list | tr ' ' '\n' | awk -F: -v s="$1" '$1 == s { print $3 }'; }
sa_spi() { sa_list | tr ' ' '\n' | awk -F: -v d="$1" '$2 == d { print $1 }'; }
sync_log() { t_diag "sync-xfrm log:"; sed -e 's/^/#   /' "$SS_DIR/ga/sync.log" | tail -n 40; }

kipsec_load
native_modules
modprobe -q aesni_intel 2>/dev/null
topo_gateways
ss_configure

# (not through t_check: its subshell would lose the daemons' pids)
ok_if() { if "${@:2}"; then t_ok "$1"; else t_fail "$1"; fi; }
ok_if "charon starts on ga (kipsec side)" ss_start_charon ga
ok_if "charon starts on gb (native)" ss_start_charon gb
t_diag "charons up at ${SECONDS}s"
t_check "swanctl loads ga's shipped configuration" ss_swanctl ga --load-all
t_check "swanctl loads gb's configuration" ss_swanctl gb --load-all

out=$(ip netns exec ga "$KIPSEC" sync-xfrm --vici /nonexistent/charon.vici 2>&1)
rc=$?
t_eq "sync-xfrm without VICI exits 1" "$rc" 1
t_check "sync-xfrm without VICI says why" grep -q "VICI socket /nonexistent" <<<"$out"

ok_if "sync-xfrm starts on ga" ss_start_sync
t_eq "IKE bypass policies (UDP 500/4500, v4/v6, in/out)" "$(policy_count)" 16

t_check "CHILD_SA net comes up (initiated by ga)" \
	timeout 60 bash -c ". $KIPSEC_TOP/selftests/ike.sh; ss_swanctl ga --initiate --child net"
# Predicates for wait_until, which runs its command again and again: no
# $(...) in its arguments, or it would test one value ten times.
sas_are() { [ "$(sa_count)" = "$1" ]; }
protects_are() { [ "$(protect_count)" = "$1" ]; }
t_check "kipsec has the two SAs" wait_until 10 sas_are 2
t_check "kipsec has out, in and fwd PROTECT policies" wait_until 10 protects_are 3
t_diag "kipsec SAs: $(sa_list) (tunnel up at ${SECONDS}s)"
out_spi=$(sa_spi out)
in_spi=$(sa_spi in)
native_out=$(ip -n ga xfrm state | awk '/^src 10.0.1.1 dst 10.0.2.1/ { getline; print $4 }')
t_eq "kipsec's outbound SPI is charon's" "$out_spi" "$(printf '0x%08x' "$native_out")"

capture_start wire m m0 || t_fail "capture on m"
t_check "ping ha -> hb through the tunnel (5 packets)" \
	n ha ping -c 5 -i 0.2 -W 2 -p "$MARKER_HEX" 10.2.0.2
t_eq "kipsec SA counters on ga: 5 out, 5 in" \
	"$(sa_pkts "$out_spi")/$(sa_pkts "$in_spi")" "5/5"
t_check "TCP ha -> hb, 256 KiB, checksum verified" tcp_transfer ha hb 10.2.0.2 262144
t_check "TCP hb -> ha, 256 KiB, checksum verified" tcp_transfer hb ha 10.1.0.2 262144 5002
capture_stop
t_check "ESP on the wire" test "$(pcap_count wire esp)" -ge 40
t_check_fail "no cleartext marker on the wire" pcap_has_text wire "$MARKER"
t_eq "no TCP or ICMP in clear on the wire" "$(pcap_count wire 'tcp or icmp')" 0

# The native SAs on ga are charon's bookkeeping: the native datapath never
# saw a packet (no XFRM error counter moved). sync-xfrm keeps kipsec's
# sequence numbers there (with the usage, below), for its own restart.
t_eq "native XFRM error counters on ga all zero" \
	"$(ip netns exec ga awk '{ s += $2 } END { print s + 0 }' /proc/net/xfrm_stat)" 0
native_oseq() {
	ip -n ga xfrm state get src $A4 dst $B4 proto esp spi "$out_spi" |
		sed -n 's/.*oseq \(0x[0-9a-f]*\).*/\1/p'
}
kipsec_oseq() {
	printf '0x%x' "$(ka -j sa get dst $B4 proto esp spi "$out_spi" |
		sed -n 's/.*"seq_out": *\([0-9]*\).*/\1/p')"
}
oseq_pushed() { [ "$(native_oseq)" = "$(kipsec_oseq)" ]; }
t_check "the native outbound SA holds kipsec's sequence number (pushed)" \
	wait_until 6 oseq_pushed
# sync-xfrm pushes kipsec's usage to the native SAs (XFRM_MSG_NEWAE)
kpkts=$(($(sa_pkts "$out_spi") + $(sa_pkts "$in_spi")))
native_pkts_sum() {
	ip -n ga -s xfrm state | awk '/lifetime current:/ { getline; sub(/\(packets\)/, "", $2); s += $2 } END { print s + 0 }'
}
native_usage_is() { [ "$(native_pkts_sum)" = "$1" ]; }
t_check "charon's view of the usage is kipsec's (NEWAE, $kpkts packets)" \
	wait_until 6 native_usage_is "$kpkts"
t_check "swanctl on ga reports the traffic" \
	bash -c ". $KIPSEC_TOP/selftests/ike.sh; ss_swanctl ga --list-sas | grep -Eq 'in .*[1-9][0-9]* packets'"

t_diag "traffic checks done at ${SECONDS}s"
# A manual rekey under a continuous ping.
old="$out_spi $in_spi"
n ha ping -c 50 -i 0.2 -W 1 10.2.0.2 >/tmp/rekey-ping.txt 2>&1 &
ping_pid=$!
sleep 1
t_check "swanctl --rekey --child net" ss_swanctl ga --rekey --child net
no_old_spis() {
	local l s
	l=$(sa_list)
	for s in $old; do case " $l" in *" $s:"*) return 1 ;; esac; done
	[ "$(sa_count)" = 2 ]
}
t_check "kipsec ends with two new SAs, the old ones deleted" wait_until 25 no_old_spis
wait $ping_pid
rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' /tmp/rekey-ping.txt)
t_check "continuous ping over the rekey lost at most one of 50 (got ${rx:-?})" \
	test "${rx:-0}" -ge 49
t_diag "kipsec SAs after rekey: $(sa_list)"
new_out=$(sa_spi out)
new_in=$(sa_spi in)
before=$(sa_pkts "$new_out")
t_check "ping after the rekey (3 packets)" n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_eq "the new outbound SA carried them" "$(($(sa_pkts "$new_out") - before))" 3
t_check "still exactly 3 PROTECT policies" test "$(protect_count)" = 3

t_diag "rekey checks done at ${SECONDS}s"
t_check "swanctl --terminate --child net" ss_swanctl ga --terminate --child net
t_check "kipsec's SAs are gone" wait_until 10 sas_are 0
t_check "kipsec's PROTECT policies are gone" wait_until 10 protects_are 0

ok_if "sync-xfrm stops cleanly on SIGTERM" ss_stop_sync
t_eq "sync-xfrm removed its bypass policies" "$(policy_count)" 0
t_eq "sync-xfrm logged no error" "$(grep -c 'error:' "$SS_DIR/ga/sync.log")" 0
[ "$T_FAILED" -eq 0 ] || sync_log

ss_stop_all
netns_cleanup
kipsec_unload
t_done
