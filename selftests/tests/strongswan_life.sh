#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# strongSwan end to end, the life of CHILD_SAs on the kipsec side (ike.sh:
# ga = charon + kipsec + sync-xfrm --on-demand all, gb = charon on the
# native stack), each child on a LAN pair of its own (ss_lan):
#
#   bytes  rekey_bytes 50000 on ga only: charon's native SA never sees a
#          packet, so the rekey can only come from kipsec's byte counter
#          (EXPIRE soft -> sync-xfrm -> XFRM_MSG_EXPIRE -> charon): new
#          SPIs, the old SAs gone, a continuous ping loses at most one;
#   time   rekey_time 20s, rand_time 0: the native timer's soft expiry
#          rekeys the child under a continuous ping that runs beside the
#          cases below;
#   cbc    AES-CBC + HMAC-SHA256, brought up on demand (--on-demand all:
#          a configured child that is down gets an on-demand policy, the
#          first ping makes sync-xfrm initiate it); and ah (ah_proposals =
#          sha256): mirrored, ping across, kipsec's counters move, CBC/AH
#          on the wire;
#   weak   3DES + MD5, which charon and the native stack accept and kipsec
#          refuses (RFC 8221): sync-xfrm logs it, keeps running, the
#          child's traffic is dropped (no cleartext), the others work;
#   esn    aes128gcm16-esn: the kipsec SAs have ESN, and the sequence
#          numbers pushed to the native SAs land in their ESN state;
#   hard   a hard byte limit set on the kipsec copy: its expiry reaches
#          charon as XFRM_MSG_EXPIRE hard=1 and charon drops the child; the
#          traffic that goes on brings a new child up on demand;
#   gw6    a second IKE_SA over IPv6 (fd01::1 - fd02::1) with an IPv6
#          child (fd11::/64 - fd12::/64) and an IPv4 one: ESP over IPv6 on
#          the wire, exact counters;
#   sync-xfrm restarted (stress; SIGTERM, start): the same SAs come back, the
#          outbound ones continuing past the sequence numbers the old
#          instance pushed to the native SAs; traffic flows again;
#   kill -9 of charon on ga; sync-xfrm keeps running (DESIGN.md: it drops
#          the dead instance's SAs, keeps the policies so traffic fails
#          closed, reconnects): after the restart kipsec has exactly the
#          new SAs and policies, none from the dead instance, and a
#          sync-xfrm started then leaves the dead instance's native SAs out.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../ike.sh"

STRESS=${KIPSEC_STRESS:-0}

ka() { "$KIPSEC" -n ga "$@"; }

# kipsec's SAs on ga as "SPI:DIR:PACKETS:REQID:PROTO" words
sa_list() {
	ka -j -s sa show | jq_py "' '.join(sorted('%s:%s:%d:%d:%s' % (s['spi'], 'out' if s['src'] in ('$A4', '$A6') else 'in', s.get('stats', {}).get('out_packets' if s['src'] in ('$A4', '$A6') else 'in_packets', 0), s.get('reqid', 0), s['proto']) for s in d))"
}
# the words of one reqid
sa_of() { sa_list | tr ' ' '\n' | awk -F: -v r="$1" '$4 == r'; }
sa_count() { ka sa show | grep -c '^src '; }
protect_count() { ka policy show | grep -c 'action protect'; }
# PROTECT policies of live children (not the on-demand ones)
live_protect() { echo $(($(protect_count) - $(ka policy show | grep -c 'reqid 4294967280'))); }
# for wait_until (it runs a command again and again: no $(...) in its args)
has_sas() { [ "$(sa_count)" = "$1" ]; }
has_sas_of() { [ "$(sa_of "$1" | grep -c ":${3:-}")" = "$2" ]; }
has_protect() { [ "$(live_protect)" = "$1" ]; }
# field 1 (SPI) of reqid R's SA in direction D
spi_of() { sa_of "$1" | awk -F: -v d="$2" '$2 == d { print $1 }'; }
pkts_of() { sa_list | tr ' ' '\n' | awk -F: -v s="$1" '$1 == s { print $3 }'; }
# reqid of a child, as charon on ga reports it
reqid_of() {
	ss_swanctl ga --list-sas --child "$1" |
		sed -n "s/^ *$1: #[0-9]*, reqid \([0-9]*\),.*/\1/p" | head -n 1
}
initiate() {
	timeout 60 bash -c ". $KIPSEC_TOP/selftests/ike.sh; SS_DIR=$SS_DIR; ss_swanctl ga --initiate --child $1 ${2:+--ike $2}"
}
# child_up NAME WHAT [IKE]: initiate a child, wait for its two kipsec SAs;
# sets R (its reqid), O and I (its outbound and inbound SPIs)
child_up() {
	t_check "CHILD_SA $1 comes up ($2)" initiate "$1" "${3:-}"
	R=$(reqid_of "$1")
	t_check "kipsec has $1's two SAs (reqid ${R:-?})" wait_until 10 has_sas_of "$R" 2
	O=$(spi_of "$R" out)
	I=$(spi_of "$R" in)
}
# none of the SPIs in $old is in kipsec, reqid $1 has exactly 2 SAs
only_new() { only_new_of "$1" "$old"; }
only_new_of() {
	local l s
	l=$(sa_list)
	for s in $2; do case " $l" in *" $s:"*) return 1 ;; esac; done
	[ "$(sa_of "$1" | wc -l)" = 2 ]
}
net_only() { has_sas_of "$rn" 2 && has_sas 2; }
sync_running() { kill -0 "$SYNC_PID" 2>/dev/null; }
sync_log() { t_diag "sync-xfrm log:"; sed -e 's/^/#   /' "$SS_DIR/ga/sync.log" | tail -n 60; }
ok_if() { if "${@:2}"; then t_ok "$1"; else t_fail "$1"; fi; }

kipsec_load
native_modules
# one python for the JSON checks (charon and sync-xfrm inherit its pipes:
# it ends when the last of them does)
pys_start
modprobe -q aesni_intel 2>/dev/null
modprobe -q des_generic 2>/dev/null
modprobe -q des3_ede_x86_64 2>/dev/null
topo_gateways
ss_lan 1 2 3 4 5 6 7 8
ss_configure

# child NAME N PROPOSAL [GA-ONLY SETTINGS...]: the same child on both ends,
# LAN pair N; lifetimes only on ga (gb would rekey natively otherwise).
child() {
	local c=$1 n=$2 p=$3
	shift 3
	ss_add_child ga "$c" "local_ts = 10.1.$n.0/24" "remote_ts = 10.2.$n.0/24" \
		"mode = tunnel" "$p" "$@"
	ss_add_child gb "$c" "local_ts = 10.2.$n.0/24" "remote_ts = 10.1.$n.0/24" \
		"mode = tunnel" "$p"
}
child bytes 1 "esp_proposals = aes128gcm16" "rekey_bytes = 50000" \
	"life_bytes = 500000" "rand_bytes = 0"
child cbc 2 "esp_proposals = aes128-sha256"
child ah 3 "ah_proposals = sha256"
child weak 4 "esp_proposals = 3des-md5"
child time 5 "esp_proposals = aes128gcm16" "rekey_time = 20s" \
	"life_time = 60s" "rand_time = 0"
child esn 7 "esp_proposals = aes128gcm16-esn"
child hard 8 "esp_proposals = aes128gcm16"
ss_add_conn ga gw6 $A6 $B6 net6 fd11::/64 fd12::/64 v4in6 10.1.6.0/24 10.2.6.0/24
ss_add_conn gb gw6 $B6 $A6 net6 fd12::/64 fd11::/64 v4in6 10.2.6.0/24 10.1.6.0/24

ok_if "charon starts on ga (kipsec side)" ss_start_charon ga
ok_if "charon starts on gb (native)" ss_start_charon gb
t_check "swanctl loads ga's configuration (shipped + test children)" ss_swanctl ga --load-all
t_check "swanctl loads gb's configuration" ss_swanctl gb --load-all
ok_if "sync-xfrm starts on ga (--on-demand all)" ss_start_sync --on-demand all
t_check "CHILD_SA net comes up" initiate net
t_check "kipsec has net's two SAs" wait_until 10 has_sas 2
t_diag "tunnel up at ${SECONDS}s"

# --- rekey by time: runs beside the next cases -------------------------------
child_up time "rekey_time 20s"
rt=$R
old_time="$O $I"
n ha ping -c 90 -i 0.5 -W 1 -I 10.1.5.2 10.2.5.2 >/tmp/time-ping.txt 2>&1 &
time_ping=$!

# --- rekey by bytes, driven by kipsec's counters ---------------------------
child_up bytes "rekey_bytes 50000 on ga"
rb=$R
old="$O $I"
t_diag "bytes SAs before: $(sa_of "$rb" | tr '\n' ' ')"
# 80 x 1028 inner bytes: the soft limit falls after about 49 packets, the
# new SAs carry the rest (about 32 KB, below their own limit)
n ha ping -c 80 -i 0.1 -s 1000 -W 1 -I 10.1.1.2 10.2.1.2 >/tmp/bytes-ping.txt 2>&1
rx=$(ping_received /tmp/bytes-ping.txt)
t_check "kipsec ends with two new SAs for bytes, the old ones deleted" \
	wait_until 20 only_new "$rb"
t_diag "bytes SAs after: $(sa_of "$rb" | tr '\n' ' ') (at ${SECONDS}s)"
t_check "continuous ping over the byte rekey lost at most one of 80 (got ${rx:-?})" \
	test "${rx:-0}" -ge 79
soft=0
for s in $old; do
	grep -q "kipsec soft expiry of esp spi $s .*sending XFRM_MSG_EXPIRE" \
		"$SS_DIR/ga/sync.log" && soft=$((soft + 1))
done
t_check "sync-xfrm sent XFRM_MSG_EXPIRE (soft) for the old SAs ($soft of 2)" test "$soft" -ge 1
t_check "charon on ga rekeyed on that expiry (kernel EXPIRE reached it)" \
	grep -Eq "creating rekey job for CHILD_SA ESP/($(echo "$old" | sed 's/ /|/'))" \
	"$SS_DIR/ga/charon.log"
t_eq "no hard expiry (life_bytes 500000 not reached)" \
	"$(grep -c 'hard expiry' "$SS_DIR/ga/sync.log")" 0
new_out=$(spi_of "$rb" out)
t_check "the new outbound SA carried the rest of the ping" test "$(pkts_of "$new_out")" -ge 10
t_diag "byte rekey done at ${SECONDS}s"

# --- AES-CBC + HMAC-SHA256 on demand, AH, and a child kipsec refuses --------
t_eq "cbc is down" "$(reqid_of cbc)" ""
t_check "with an on-demand out policy for its selectors (--on-demand all)" \
	bash -c "ip netns exec ga $KIPSEC policy show | grep -A2 '^src 10.1.2.0/24 dst 10.2.2.0/24' | grep -q 'reqid 4294967280'"
cbc_ping() { n ha ping -c 1 -W 1 -I 10.1.2.2 10.2.2.2; }
t_check "a ping into cbc's LAN brings cbc up (aes128-sha256, on demand)" \
	wait_until 30 cbc_ping
t_check "sync-xfrm initiated cbc" grep -q "initiating child cbc of gw" "$SS_DIR/ga/sync.log"
t_check "CHILD_SA ah comes up (ah_proposals sha256)" initiate ah
t_check "CHILD_SA weak comes up in charon (3des-md5)" initiate weak
rc=$(reqid_of cbc)
rh=$(reqid_of ah)
rw=$(reqid_of weak)
t_check "kipsec has cbc's two ESP SAs" wait_until 10 has_sas_of "$rc" 2 esp
t_check "kipsec has ah's two AH SAs" wait_until 10 has_sas_of "$rh" 2 ah
t_check "charon installed weak's native SAs (3DES)" \
	bash -c "ip -n ga xfrm state | grep -q 'des3_ede'"
t_diag "kipsec SAs: $(sa_list) (reqids cbc $rc ah $rh weak $rw)"

capture_start wire m m0 || t_fail "capture on m"
co=$(pkts_of "$(spi_of "$rc" out)")
ci=$(pkts_of "$(spi_of "$rc" in)")
t_check "ping through cbc (3 packets)" n ha ping -c 3 -i 0.2 -W 2 -p "$MARKER_HEX" -I 10.1.2.2 10.2.2.2
t_eq "cbc's kipsec counters: 3 out, 3 in" \
	"$(($(pkts_of "$(spi_of "$rc" out)") - co))/$(($(pkts_of "$(spi_of "$rc" in)") - ci))" "3/3"
t_check "ping through ah (3 packets)" n ha ping -c 3 -i 0.2 -W 2 -I 10.1.3.2 10.2.3.2
t_eq "ah's kipsec counters: 3 out, 3 in" \
	"$(pkts_of "$(spi_of "$rh" out)")/$(pkts_of "$(spi_of "$rh" in)")" "3/3"
nosa=$(kipsec_stat ga out_no_sa)
t_check_fail "ping through weak fails (kipsec has no SA for it)" \
	n ha ping -c 3 -i 0.2 -W 1 -p "$MARKER_HEX" -I 10.1.4.2 10.2.4.2
t_eq "kipsec dropped those 3 and counted them (out_no_sa)" \
	"$(($(kipsec_stat ga out_no_sa) - nosa))" 3
capture_stop
t_check "AH on the wire (6 packets of the ah child)" test "$(pcap_count wire ah)" -ge 6
t_eq "ESP of cbc on the wire (6 packets)" \
	"$(pcap_count wire "esp and (ip[20:4] = $(spi_of "$rc" out) or ip[20:4] = $(spi_of "$rc" in))")" 6
t_check_fail "no cleartext marker on the wire (cbc and weak)" pcap_has_text wire "$MARKER_PING"
t_eq "no ICMP in clear on the wire" "$(pcap_count wire icmp)" 0
t_check "sync-xfrm logged the refused SAs" \
	grep -q "reqid $rw: refused by kipsec, not mirrored" "$SS_DIR/ga/sync.log"
t_check "with kipsec's reason (RFC 8221)" grep -q "RFC 8221" "$SS_DIR/ga/sync.log"
t_eq "kipsec has no SA of weak" "$(sa_of "$rw" | wc -l)" 0
ok_if "sync-xfrm still runs" sync_running
before=$(pkts_of "$(spi_of "$rb" out)")
t_check "the other children keep working (ping through bytes)" \
	n ha ping -c 3 -i 0.2 -W 2 -I 10.1.1.2 10.2.1.2
t_eq "bytes' outbound SA counted them" "$(($(pkts_of "$(spi_of "$rb" out)") - before))" 3
t_diag "algorithm checks done at ${SECONDS}s"

# --- ESN ------------------------------------------------------------------------
child_up esn aes128gcm16-esn
eo=$O
ei=$I
t_eq "both with ESN" "$(ka sa show | grep -A2 -E "spi ($eo|$ei) " | grep -c 'flag.*esn')" 2
t_check "ping through esn (3 packets)" n ha ping -c 3 -i 0.2 -W 2 -I 10.1.7.2 10.2.7.2
t_eq "esn's kipsec counters: 3 out, 3 in" "$(pkts_of "$eo")/$(pkts_of "$ei")" "3/3"
# the native SAs keep an ESN replay state; sync-xfrm writes kipsec's
# sequence numbers into it (XFRMA_REPLAY_ESN_VAL)
native_esn() { # SPI SRC DST [mark M]: "seq-hi:seq:oseq-hi:oseq" of the native SA
	ip -n ga xfrm state get src "$2" dst "$3" proto esp spi "$1" "${@:4}" |
		sed -n 's/.*seq-hi \(0x[0-9a-f]*\), seq \(0x[0-9a-f]*\), oseq-hi \(0x[0-9a-f]*\), oseq \(0x[0-9a-f]*\).*/\1:\2:\3:\4/p'
}
esn_out_pushed() { [ "$(native_esn "$eo" $A4 $B4)" = 0x0:0x0:0x0:0x3 ]; }
esn_in_pushed() { [ "$(native_esn "$ei" $B4 $A4 mark 0x4b)" = 0x0:0x3:0x0:0x0 ]; }
t_check "the native outbound SA's ESN state holds kipsec's seq-out 3" \
	wait_until 8 esn_out_pushed
t_check "the native inbound SA's ESN state holds kipsec's seq-in 3" \
	wait_until 8 esn_in_pushed
t_diag "ESN checks done at ${SECONDS}s"

# --- a hard byte limit in kipsec drops charon's child ---------------------------
# charon's native SA never counts a byte, so the limit is kipsec's: set on
# the mirrored outbound SA. kipsec's hard expiry deletes it, sync-xfrm sends
# XFRM_MSG_EXPIRE hard=1, the kernel drops the native SA and charon the
# child; the traffic that goes on finds the on-demand policy and brings a
# new child up (--on-demand all).
child_up hard aes128gcm16
ho=$O
hi=$I
t_check "kipsec takes a hard limit of 20000 bytes on hard's outbound SA" \
	ka sa update src $A4 dst $B4 proto esp spi "$ho" lifetime hard bytes 20000
capture_start wire8 m m0 || t_fail "capture on m"
# The 12 s of pings run while the expiry, the drop and the new child are
# checked (each check waits for its event), not before them.
n ha ping -c 60 -i 0.2 -s 1000 -W 1 -p "$MARKER_HEX" -I 10.1.8.2 10.2.8.2 \
	>/tmp/hard-ping.txt 2>&1 &
hard_ping=$!
hard_sent() {
	grep -q "kipsec hard expiry of esp spi $ho .*sending XFRM_MSG_EXPIRE" \
		"$SS_DIR/ga/sync.log"
}
t_check "sync-xfrm passed kipsec's hard expiry on as XFRM_MSG_EXPIRE hard" \
	wait_until 20 hard_sent
old_gone() {
	! ss_swanctl ga --list-sas --child hard | grep -q "${ho#0x}" &&
		! ip -n ga xfrm state | grep -qE "spi ($ho|$hi) "
}
t_check "charon dropped the child: its SPIs are gone from charon and the native SAD" \
	wait_until 20 old_gone
t_eq "and from kipsec" "$(sa_list | grep -cE "($ho|$hi):")" 0
hard_again() { local r; r=$(reqid_of hard); [ -n "$r" ] && has_sas_of "$r" 2; }
t_check "the ping went on: the on-demand policy brought a new child up" \
	wait_until 20 hard_again
wait "$hard_ping"
capture_stop
t_check "some of the 60 pings passed after the drop (got $(ping_received /tmp/hard-ping.txt))" \
	test "$(ping_received /tmp/hard-ping.txt)" -gt 20
t_check_fail "no cleartext marker on the wire meanwhile" pcap_has_text wire8 "$MARKER_PING"
t_eq "no ICMP in clear" "$(pcap_count wire8 icmp)" 0
t_diag "hard expiry checks done at ${SECONDS}s"

# --- IPv6: an IKE_SA over IPv6, an IPv6 and an IPv4 child in it ----------------
t_check "CHILD_SA net6 comes up over IPv6 (fd11::/64 - fd12::/64)" initiate net6 gw6
t_check "CHILD_SA v4in6 comes up in the same IKE_SA (IPv4 over IPv6)" initiate v4in6 gw6
r6=$(reqid_of net6)
r46=$(reqid_of v4in6)
t_check "kipsec has net6's two SAs" wait_until 10 has_sas_of "$r6" 2
t_check "kipsec has v4in6's two SAs" wait_until 10 has_sas_of "$r46" 2
t_eq "between fd01::1 and fd02::1" \
	"$(ka sa show | grep -cE '^src (fd01::1 dst fd02::1|fd02::1 dst fd01::1)$')" 4
capture_start wire6 m m0 || t_fail "capture on m"
t_check "ping fd11::2 -> fd12::2 through net6 (3 packets)" \
	n ha ping -6 -c 3 -i 0.2 -W 2 -p "$MARKER_HEX" fd12::2
t_check "ping 10.1.6.2 -> 10.2.6.2 through v4in6 (3 packets)" \
	n ha ping -c 3 -i 0.2 -W 2 -p "$MARKER_HEX" -I 10.1.6.2 10.2.6.2
capture_stop
t_eq "net6's kipsec counters: 3 out, 3 in" \
	"$(pkts_of "$(spi_of "$r6" out)")/$(pkts_of "$(spi_of "$r6" in)")" "3/3"
t_eq "v4in6's kipsec counters: 3 out, 3 in" \
	"$(pkts_of "$(spi_of "$r46" out)")/$(pkts_of "$(spi_of "$r46" in)")" "3/3"
t_eq "ESP over IPv6 on the wire (12 packets)" "$(pcap_count wire6 'ip6 and esp')" 12
t_check_fail "no cleartext marker on the wire" pcap_has_text wire6 "$MARKER_PING"
t_eq "no ICMP or ICMPv6 echo in clear" \
	"$(pcap_count wire6 'icmp or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
t_diag "IPv6 checks done at ${SECONDS}s"

# --- the rekey by time happened meanwhile --------------------------------------
t_check "kipsec ends with two new SAs for time, the old ones deleted" \
	wait_until 40 only_new_of "$rt" "$old_time"
wait $time_ping
rx=$(ping_received /tmp/time-ping.txt)
t_check "continuous ping over the time rekey lost at most one of 90 (got ${rx:-?})" \
	test "${rx:-0}" -ge 89
t_check "charon rekeyed on the native soft expiry" \
	grep -Eq "creating rekey job for CHILD_SA ESP/($(echo "$old_time" | sed 's/ /|/'))" \
	"$SS_DIR/ga/charon.log"
t_diag "time rekey checked at ${SECONDS}s"

# --- sync-xfrm restarted under live children (stress) ------------------------
# SIGTERM removes what it mirrored; a new instance takes the SAs from the
# native SAD again. The outbound SAs have sent packets: the new copies must
# continue past the sequence numbers sync-xfrm pushed to the native SAs
# (from 1 again would be replays at gb, and reused AES-GCM nonces).
if [ "$STRESS" = 1 ]; then
	seq_out() {
		ka -j sa get dst $B4 proto "${2:-esp}" spi "$1" |
			sed -n 's/.*"seq_out": *\([0-9]*\).*/\1/p'
	}
	before=$(sa_list | tr ' ' '\n' | cut -d: -f1,2,4,5 | tr '\n' ' ')
	bseq=$(seq_out "$(spi_of "$rb" out)")
	ok_if "sync-xfrm stops (SIGTERM)" ss_stop_sync
	t_eq "it removed every SA it mirrored" "$(sa_count)" 0
	ok_if "a new sync-xfrm starts under the live children" ss_start_sync --on-demand all
	t_eq "it mirrors the same SAs again (weak refused again)" \
		"$(sa_list | tr ' ' '\n' | cut -d: -f1,2,4,5 | tr '\n' ' ')" "$before"
	sq=$(seq_out "$(spi_of "$rb" out)")
	t_check "bytes' outbound SA continues beyond its sequence number $bseq (now ${sq:-?})" \
		test "${sq:-0}" -gt $((bseq + 1048576 - 1))
	sq=$(seq_out "$(spi_of "$rh" out)" ah)
	t_check "so does ah's (${sq:-?})" test "${sq:-0}" -gt $((3 + 1048576 - 1))
	t_check "ping through bytes after the restart (3 packets)" \
		n ha ping -c 3 -i 0.2 -W 2 -I 10.1.1.2 10.2.1.2
	t_check "ping through ah after the restart (3 packets)" \
		n ha ping -c 3 -i 0.2 -W 2 -I 10.1.3.2 10.2.3.2
	t_check "refused weak again, logged" \
		grep -q "reqid $rw: refused by kipsec, not mirrored" "$SS_DIR/ga/sync.log"
	t_diag "sync-xfrm restart done at ${SECONDS}s"
fi

# --- kill -9 charon on ga, restart ------------------------------------------------
old=$(sa_list | tr ' ' '\n' | cut -d: -f1 | tr '\n' ' ')
old_net=$(spi_of "$(reqid_of net)" out)
npol=$(protect_count)
kill -9 "$SS_CHARON_ga"
wait "$SS_CHARON_ga" 2>/dev/null
t_check "sync-xfrm sees charon gone" \
	wait_until 10 grep -q "lost the VICI connection" "$SS_DIR/ga/sync.log"
t_check "the dead instance's SAs leave kipsec" wait_until 10 has_sas 0
t_eq "its PROTECT policies stay (traffic fails closed)" "$(protect_count)" "$npol"
t_check_fail "no traffic through net while charon is down" \
	n ha ping -c 2 -i 0.2 -W 1 10.2.0.2
ok_if "sync-xfrm keeps running" sync_running
ok_if "charon restarts on ga" ss_start_charon ga
t_check "swanctl loads ga's configuration again" ss_swanctl ga --load-all
t_check "sync-xfrm reconnects" \
	wait_until 15 grep -q "reconnected to charon" "$SS_DIR/ga/sync.log"
t_check "CHILD_SA net comes up again" initiate net
rn=$(reqid_of net)
t_check "kipsec has exactly net's two new SAs" wait_until 10 net_only
stale=0
for s in $old; do
	case " $(sa_list)" in *" $s:"*) stale=$((stale + 1)) ;; esac
done
t_eq "no SA of the dead instance in kipsec" "$stale" 0
t_check "(net's old ones are still in the native SAD: not mirrored again)" \
	bash -c "ip -n ga xfrm state | grep -q 'spi $old_net '"
t_check "exactly net's PROTECT policies (out, in, fwd)" \
	wait_until 10 has_protect 3
t_check "ping through net after the restart (3 packets)" \
	n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_eq "the new outbound SA counted them" "$(pkts_of "$(spi_of "$rn" out)")" 3
# A sync-xfrm started now finds the dead instance's SAs in the
# native SAD (with keys) and must not take them for charon's.
ok_if "sync-xfrm stops (SIGTERM)" ss_stop_sync
ok_if "a new sync-xfrm starts beside the stale native SAs" ss_start_sync --on-demand all
t_check "it has exactly net's two SAs" wait_until 10 net_only
t_check "it says why it left the others out" \
	grep -q "in no CHILD_SA of charon" "$SS_DIR/ga/sync.log"
t_check "and net's three PROTECT policies" wait_until 10 has_protect 3
t_check "ping through net (3 packets)" n ha ping -c 3 -i 0.2 -W 2 10.2.0.2
t_diag "kill -9 cycle done at ${SECONDS}s"

ok_if "sync-xfrm stops cleanly on SIGTERM" ss_stop_sync
t_eq "kipsec is empty afterwards (SAs/policies)" "$(sa_count)/$(ka -j policy show | jq_py 'len(d)')" 0/0
t_eq "sync-xfrm logged no error but the refused SAs" \
	"$(cat "$SS_DIR/ga/sync.old.log" "$SS_DIR/ga/sync.log" | grep 'error:' |
		grep -vc 'RFC 8221')" 0
[ "$T_FAILED" -eq 0 ] || sync_log

ss_stop_all
netns_cleanup
kipsec_unload
t_done
