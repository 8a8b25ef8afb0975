#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan end to end: ga runs charon with the shipped kipsec-side
# configuration, kipsec and `kipsec sync-xfrm`; gb runs an ordinary charon
# on the native XFRM stack (topology: topo_gateways in net.sh). IKEv2 PSK,
# tunnel mode, AES-GCM-128.
#
#   on demand  ga's child has start_action = trap: sync-xfrm installs an
#              out policy that no SA fits; the first ping from ha makes
#              kipsec send ACQUIRE, sync-xfrm initiates the child (once),
#              the tunnel comes up and later pings pass; m never sees
#              cleartext;
#   traffic    ping and TCP between ha and hb; m sees only ESP; kipsec's
#              SA counters move by the exact ping counts while the native
#              SAs on ga see no packet (mark_in); charon's view of the
#              usage is kipsec's (NEWAE);
#   SPIs       charon allocates from 32 SPIs (spi_min/spi_max), 24 of which
#              SAs added to kipsec by hand hold: sync-xfrm reserves them in
#              the native SAD, so ALLOCSPI refuses each of them and every
#              SPI charon takes is one of the 8 others;
#   rekey      a manual rekey keeps traffic flowing and leaves kipsec with
#              the new SPIs only;
#   MOBIKE     ga's WAN address moves (10.0.1.1 -> 10.0.1.3): charon
#              updates both SAs (DELSA, then NEWSA with the same SPI);
#              kipsec's copies keep their sequence numbers (gb's replay
#              window would drop a restart from 1) and the policies follow;
#   collision  while sync-xfrm is stopped an SA is added by hand with the
#              SPI of charon's inbound SA: the restarted sync-xfrm does not
#              mirror charon's, makes charon rekey it, and the hand-added
#              SA stays as it was;
#   end        terminating the child removes kipsec's SAs and its policies
#              (the on-demand one comes back), stopping sync-xfrm removes
#              the rest, placeholders included.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../ike.sh"

ka() { "$KIPSEC" -n ga "$@"; }

# SAs added by hand carry reqid 77; the helpers below see charon's only.
HAND=77
# kipsec's SAs on ga (not the hand-added ones) as "SPI:DIR:PACKETS" words
# (DIR out if ga sends)
sa_list() {
	ka -j -s sa show | jq_py "' '.join(sorted('%s:%s:%d' % (s['spi'], 'in' if s['dst'] in ('$A4', '10.0.1.3') else 'out', s.get('stats', {}).get('in_packets' if s['dst'] in ('$A4', '10.0.1.3') else 'out_packets', 0)) for s in d if s.get('reqid') != $HAND))"
}
sa_count() { sa_list | wc -w; }
hand_count() { ka -j sa show | jq_py "len([s for s in d if s.get('reqid') == $HAND])"; }
protect_count() { ka policy show | grep -c 'action protect'; }
bypass_count() { ka policy show | grep -c 'action bypass'; }
ondemand_count() { ka policy show | grep -c 'reqid 4294967280'; }
policy_count() { ka -j policy show | jq_py 'len(d)'; }
# packets of kipsec's SA with SPI, in its direction
sa_pkts() { sa_list | tr ' ' '\n' | awk -F: -v s="$1" '$1 == s { print $3 }'; }
sa_spi() { sa_list | tr ' ' '\n' | awk -F: -v d="$1" '$2 == d { print $1 }'; }
# seq_out/seq_in of kipsec's SA SPI to DST
sa_seq() { ka -j sa get dst "$2" proto esp spi "$1" | sed -n "s/.*\"$3\": *\([0-9]*\).*/\1/p"; }
# native placeholders of sync-xfrm (reqid 4294967280) on ga
placeholders() { ip -n ga xfrm state | grep -c 'reqid 4294967280'; }
sync_log() { t_diag "sync-xfrm log:"; sed -e 's/^/#   /' "$SS_DIR/ga/sync.log" | tail -n 60; }
ok_if() { if "${@:2}"; then t_ok "$1"; else t_fail "$1"; fi; }
# Predicates for wait_until, which runs its command again and again: no
# $(...) in its arguments, or it would test one value ten times.
sas_are() { [ "$(sa_count)" = "$1" ]; }
protects_are() { [ "$(protect_count)" = "$1" ]; }
placeholders_are() { [ "$(placeholders)" = "$1" ]; }
ondemand_is() { [ "$(ondemand_count)" = "$1" ]; }

# hand_sas FIRST N: N SAs added by hand from SPI FIRST on (ESP to ga)
hand_sas() {
	local i keys
	# all the keys in one read (20 bytes, 40 hex digits each)
	keys=$(head -c $(($2 * 20)) /dev/urandom | od -An -v -tx1 | tr -d ' \n')
	for ((i = 0; i < $2; i++)); do
		printf 'sa add src %s dst %s proto esp spi 0x%08x mode tunnel reqid %s aead rfc4106(gcm(aes)) 0x%s 128\n' \
			"$B4" "$A4" $(($1 + i)) $HAND "${keys:i * 40:40}"
	done >/tmp/hand.batch
	ka -batch /tmp/hand.batch
}
# spi_free SPI: outside the 24 hand-added ones, inside charon's range
SPI_MIN=$((0xc0000100))
spi_free() {
	local v=$(($1))
	[ "$v" -ge $((SPI_MIN + 24)) ] && [ "$v" -le $((SPI_MIN + 31)) ]
}

kipsec_load
native_modules
# one python for the JSON checks (charon and sync-xfrm inherit its pipes:
# it ends when the last of them does)
pys_start
modprobe -q aesni_intel 2>/dev/null
topo_gateways
ss_configure
ss_child_opts ga net "start_action = trap"
# charon on ga allocates its inbound SPIs from 32 values only
cat >>"$SS_DIR/ga/strongswan.conf" <<EOF
charon {
	spi_min = $(printf '0x%08x' $SPI_MIN)
	spi_max = $(printf '0x%08x' $((SPI_MIN + 31)))
}
EOF

# (not through t_check: its subshell would lose the daemons' pids)
ok_if "charon starts on ga (kipsec side)" ss_start_charon ga
ok_if "charon starts on gb (native)" ss_start_charon gb
t_diag "charons up at ${SECONDS}s"
t_check "swanctl loads ga's shipped configuration (+ start_action = trap)" \
	ss_swanctl ga --load-all
t_check "swanctl loads gb's configuration" ss_swanctl gb --load-all

out=$(ip netns exec ga "$KIPSEC" sync-xfrm --vici /nonexistent/charon.vici 2>&1)
rc=$?
t_eq "sync-xfrm without VICI exits 1" "$rc" 1
t_check "sync-xfrm without VICI says why" grep -q "VICI socket /nonexistent" <<<"$out"
out=$(ip netns exec ga "$KIPSEC" sync-xfrm --on-demand sometimes 2>&1)
rc=$?
t_eq "sync-xfrm --on-demand sometimes exits 1" "$rc" 1
t_check "and quotes the bad word in one line" \
	test "$(grep -c '"sometimes"' <<<"$out")/$(wc -l <<<"$out")" = 1/1

t_check "12 SAs added to kipsec by hand (SPIs 0xc0000100-0xc000010b)" \
	hand_sas $SPI_MIN 12
ok_if "sync-xfrm starts on ga" ss_start_sync
t_eq "IKE bypass policies (UDP 500/4500, v4/v6, in/out)" "$(bypass_count)" 16
t_check "an on-demand out policy for net (no SA fits it: reqid 4294967280)" \
	wait_until 10 ondemand_is 1
t_eq "no other PROTECT policy, no SA of charon's in kipsec" \
	"$(protect_count)/$(sa_count)" 1/0

# --- SPIs held by SAs added by hand ------------------------------------------
t_check "12 more SAs added by hand (0xc000010c-0xc0000117)" \
	hand_sas $((SPI_MIN + 12)) 12
t_check "sync-xfrm reserved all 24 SPIs in the native SAD" \
	wait_until 10 placeholders_are 24
t_eq "placeholders are not mirrored back into kipsec" \
	"$(hand_count)/$(sa_count)" 24/0
# (one ip per SPI: ip xfrm exits at its first error, even in -force -batch)
refused=0
for i in $(seq 0 23); do
	spi=$(printf '0x%08x' $((SPI_MIN + i)))
	ip -n ga xfrm state allocspi src $B4 dst $A4 proto esp mark 0x4b \
		mask 0xffffffff min "$spi" max "$spi" >/dev/null 2>&1 ||
		refused=$((refused + 1))
done
t_eq "ALLOCSPI (as charon does it, mark_in) refuses each of the 24 SPIs" "$refused" 24
t_check "ALLOCSPI still hands out a free one (0xc0000118)" \
	ip -n ga xfrm state allocspi src $B4 dst $A4 proto esp min 0xc0000118 max 0xc0000118
ip -n ga xfrm state delete src $B4 dst $A4 proto esp spi 0xc0000118

# --- on demand ---------------------------------------------------------------
capture_start wire m m0 || t_fail "capture on m"
acq=$(kipsec_stat ga acquire_sent)
nosa=$(kipsec_stat ga out_no_sa)
ping_ok() { n ha ping -c 1 -W 1 -p "$MARKER_HEX" 10.2.0.2; }
t_check "traffic from LAN A brings the tunnel up (a ping passes within 30 s)" \
	wait_until 30 ping_ok
t_diag "tunnel up at ${SECONDS}s"
t_check "kipsec sent ACQUIRE for it" test "$(kipsec_stat ga acquire_sent)" -gt "$acq"
t_check "and dropped the pings that found no SA (out_no_sa)" \
	test "$(kipsec_stat ga out_no_sa)" -gt "$nosa"
t_eq "sync-xfrm initiated the child once" \
	"$(grep -c 'initiating child net of gw' "$SS_DIR/ga/sync.log")" 1
t_eq "charon has one CHILD_SA net" \
	"$(ss_swanctl ga --list-sas | grep -c ' net: #')" 1
t_check "kipsec has the two SAs" wait_until 10 sas_are 2
t_check "kipsec has out, in and fwd PROTECT policies, not the on-demand one" \
	wait_until 10 protects_are 3
t_eq "(no on-demand policy left)" "$(ondemand_count)" 0
t_diag "kipsec SAs: $(sa_list)"
out_spi=$(sa_spi out)
in_spi=$(sa_spi in)
native_out=$(ip -n ga xfrm state | awk '/^src 10.0.1.1 dst 10.0.2.1/ { getline; print $4 }')
t_eq "kipsec's outbound SPI is charon's" "$out_spi" "$(printf '0x%08x' "$native_out")"
t_check "charon's inbound SPI $in_spi is none of the 24 held by hand" spi_free "$in_spi"

# --- traffic -------------------------------------------------------------------
o=$(sa_pkts "$out_spi")
i=$(sa_pkts "$in_spi")
t_check "ping ha -> hb through the tunnel (5 packets)" \
	n ha ping -c 5 -i 0.2 -W 2 -p "$MARKER_HEX" 10.2.0.2
t_eq "kipsec SA counters on ga: 5 out, 5 in" \
	"$(($(sa_pkts "$out_spi") - o))/$(($(sa_pkts "$in_spi") - i))" "5/5"
t_check "TCP ha -> hb, 256 KiB, checksum verified" tcp_transfer ha hb 10.2.0.2 262144
t_check "TCP hb -> ha, 256 KiB, checksum verified" tcp_transfer hb ha 10.1.0.2 262144 5002
capture_stop
t_check "ESP on the wire" test "$(pcap_count wire esp)" -ge 40
t_check_fail "no cleartext marker on the wire (on-demand pings included)" \
	pcap_has_text wire "$MARKER_PING"
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
kipsec_oseq() { printf '0x%x' "$(sa_seq "$out_spi" $B4 seq_out)"; }
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
rx=$(ping_received /tmp/rekey-ping.txt)
t_check "continuous ping over the rekey lost at most one of 50 (got ${rx:-?})" \
	test "${rx:-0}" -ge 49
t_diag "kipsec SAs after rekey: $(sa_list)"
new_out=$(sa_spi out)
new_in=$(sa_spi in)
t_check "the new inbound SPI $new_in is none of the 24 held by hand" spi_free "$new_in"
before=$(sa_pkts "$new_out")
t_check "ping after the rekey (3 packets)" n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_eq "the new outbound SA carried them" "$(($(sa_pkts "$new_out") - before))" 3
t_check "still exactly 3 PROTECT policies" test "$(protect_count)" = 3
t_diag "rekey checks done at ${SECONDS}s"

# --- MOBIKE: ga's WAN address moves ------------------------------------------
# Only IPv4 on ga's WAN, and the new address survives the old one (the
# secondary is promoted): charon can only move to 10.0.1.3.
ip -n ga -6 addr flush dev ga0
ip netns exec ga sysctl -qw net.ipv4.conf.ga0.promote_secondaries=1
n ha ping -c 40 -i 0.05 -W 1 10.2.0.2 >/dev/null 2>&1
so=$(sa_seq "$new_out" $B4 seq_out)
si=$(sa_seq "$new_in" $A4 seq_in)
t_diag "before the move: seq-out $so, seq-in $si"
ip -n ga addr add 10.0.1.3/24 dev ga0
ip -n ga addr del $A4/24 dev ga0
moved() {
	ka sa show | grep -q "^src 10.0.1.3 dst $B4" &&
		ka sa show | grep -q "^src $B4 dst 10.0.1.3" && [ "$(sa_count)" = 2 ]
}
t_check "charon moved both SAs to 10.0.1.3 (MOBIKE), kipsec follows" wait_until 30 moved
t_eq "with the same SPIs" "$(sa_spi out) $(sa_spi in)" "$new_out $new_in"
t_check "sync-xfrm kept their sequence numbers across DELSA/NEWSA" \
	test "$(grep -c "spi $new_out .*sequence numbers kept\|spi $new_in .*sequence numbers kept" "$SS_DIR/ga/sync.log")" = 2
tmpl_moved() {
	[ "$(ka policy show | grep -c 'tmpl.*10.0.1.3')" = 3 ] &&
		! ka policy show | grep -q "tmpl.*$A4"
}
t_check "the PROTECT policies' templates moved to 10.0.1.3" wait_until 10 tmpl_moved
t_check "ping after the move (5 packets; a sequence restart would be replayed)" \
	n ha ping -c 5 -i 0.2 -W 2 10.2.0.2
t_eq "kipsec's outbound SA continued: seq-out $so + 5" \
	"$(sa_seq "$new_out" $B4 seq_out)" $((so + 5))
t_eq "its inbound SA too: seq-in $si + 5" \
	"$(sa_seq "$new_in" 10.0.1.3 seq_in)" $((si + 5))
t_diag "MOBIKE checks done at ${SECONDS}s"

# --- an SA added by hand with the SPI of charon's inbound SA ------------------
ok_if "sync-xfrm stops (SIGTERM)" ss_stop_sync
t_eq "its placeholders are gone, the SAs added by hand stay" \
	"$(placeholders)/$(hand_count)" 0/24
key=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
t_check "an SA added by hand with charon's inbound SPI $new_in" \
	ka sa add src $B4 dst 10.0.1.3 proto esp spi "$new_in" mode tunnel reqid $HAND \
	aead 'rfc4106(gcm(aes))' "$key" 128
ok_if "sync-xfrm starts again" ss_start_sync
if grep -q "spi $new_in .*kipsec holds an SA with this SPI that sync-xfrm did not add" \
	"$SS_DIR/ga/sync.log"; then
	t_ok "it refuses to mirror charon's SA over it, and says so"
else
	# Seen once (stop 29, 6.1): the restarted sync-xfrm's dump of the
	# native SAD lacked charon's SA, and the SPI was reserved as a
	# hand-added SA's instead. sync_log's tail is too short to show it
	# whole; what the native SAD and charon did with the SPI says why.
	t_fail "it refuses to mirror charon's SA over it, and says so"
	t_diag "sync-xfrm on $new_in, before and after the restart:"
	grep -h -- "$new_in" "$SS_DIR/ga/sync.old.log" "$SS_DIR/ga/sync.log" |
		sed -e 's/^/#   /'
	t_diag "ga's native SAD on $new_in now:"
	ip -n ga xfrm state | grep -B1 -A1 -- "spi $new_in" | sed -e 's/^/#   /'
	t_diag "ga's charon log, last 40 lines:"
	tail -n 40 "$SS_DIR/ga/charon.log" | sed -e 's/^/#   /'
fi
no_collision() {
	local l
	l=$(sa_list)
	case " $l" in *" $new_in:"* | *" $new_out:"*) return 1 ;; esac
	[ "$(sa_count)" = 2 ]
}
t_check "charon rekeyed: kipsec has two new SAs of charon's" wait_until 25 no_collision
t_eq "the SA added by hand is still there, as it was" \
	"$(ka -j sa get dst 10.0.1.3 proto esp spi "$new_in" | jq_py "d[0]['reqid']")" $HAND
t_check "its SPI is reserved once charon's old SA is gone" wait_until 15 placeholders_are 25
t_check "ping through the new SAs (3 packets)" n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_check "charon's new inbound SPI is a free one" spi_free "$(sa_spi in)"
t_diag "collision checks done at ${SECONDS}s"

t_check "swanctl --terminate --child net" ss_swanctl ga --terminate --child net
t_check "kipsec's SAs of charon are gone" wait_until 10 sas_are 0
t_check "the on-demand policy is back, the child's are gone" \
	wait_until 10 protects_are 1
t_eq "(it is the on-demand one)" "$(ondemand_count)" 1

ok_if "sync-xfrm stops cleanly on SIGTERM" ss_stop_sync
t_eq "sync-xfrm removed its policies and placeholders" \
	"$(policy_count)/$(placeholders)" 0/0
t_eq "the SAs added by hand stay in kipsec" "$(hand_count)" 25
errs=$(cat "$SS_DIR/ga/sync.old.log" "$SS_DIR/ga/sync.log" | grep 'error:' |
	grep -v "spi $new_in .*\(kipsec holds an SA\|native SAD holds this SPI\)")
t_eq "sync-xfrm logged no error but the collision" "$errs" ""
[ "$T_FAILED" -eq 0 ] || sync_log

ka sa flush
ss_stop_all
netns_cleanup
kipsec_unload
t_done
