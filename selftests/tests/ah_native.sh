#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AH (RFC 4302) interoperability with the native XFRM stack: kipsec in
# namespace a, native ah4/ah6 in b, the same keys on both. Every algorithm
# both support once, the transport/tunnel × IPv4/IPv6 combinations spread
# over them (all of them in make stress), both directions: ping counters
# exact on both sides, TCP checksum-verified once per family, and the wire
# (captured in m, which only forwards) carries AH with the payload readable
# (AH does not encrypt). One case uses ESN with sequence numbers above 2^32,
# so the high bits must enter the ICV the same way on both sides.
#
# Tampering, with packets native sent that m kept from reaching a and
# then resends with scapy: one bit flipped in an immutable header field,
# in the payload, in the ICV: counted as in_auth_fail; TTL/hop limit and
# flow label changed: accepted; the same packet twice: in_replay.
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards        native

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

# TCP transfers: 32 KiB in check, 256 KiB in stress.
AH_TCP_BYTES=32768
[ "${KIPSEC_STRESS:-0}" = 1 ] && AH_TCP_BYTES=262144

kipsec_load
native_modules
topo_hosts
pys_start m

ka() { "$KIPSEC" -n a "$@"; }

# kipsec_stat SPI DST NAME: one counter of a kipsec AH SA, 0 when the
# output leaves it out (one process: see net.sh's counter readers)
kipsec_stat() {
	local out
	out=$("$KIPSEC" -n a -j -s sa get dst "$2" proto ah spi "$1")
	if [[ $out =~ \"$3\":\ *([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# Names and `ip xfrm`/kipsec words of the algorithms native AH also has.
AH_NAME=(sha1 sha256 sha384 sha512 xcbc cmac)
AH_WORDS=("auth-trunc 'hmac(sha1)' $H20 96"
	"auth-trunc 'hmac(sha256)' $H32 128"
	"auth-trunc 'hmac(sha384)' $H48 192"
	"auth-trunc 'hmac(sha512)' $H64 256"
	"auth-trunc 'xcbc(aes)' $K16 96"
	"auth-trunc 'cmac(aes)' $K16 96")

# setup WORDS MODE OA OB [KEXTRA_OUT KEXTRA_IN NEXTRA_IN NEXTRA_OUT]:
# AH SAs and policies on both ends (selectors = outer addresses), with
# extra words for kipsec's out/in SA and native's in/out SA. Native pads
# IPv4 AH to 64 bits unless told align4; kipsec sends RFC 4302's 32 bits
# and takes both. By default native receives with align4 (as strongSwan
# installs IPv4 AH SAs) and sends its 64-bit default.
setup() {
	local w=$1 mode=$2 oa=$3 ob=$4 nin=${7-} nout=${8-}
	[ $# -lt 7 ] && [[ $oa != *:* ]] && nin="flag align4"
	# Each side in one process (-batch quotes words as the shell does):
	# every process start costs under TCG.
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $oa dst $ob proto ah spi 0x1001 mode $mode reqid 1 replay-window 64 $w ${5:-}
	sa add src $ob dst $oa proto ah spi 0x2001 mode $mode reqid 2 replay-window 64 $w ${6:-}
	policy add dir out src $oa dst $ob action protect tmpl proto ah mode $mode src $oa dst $ob reqid 1
	policy add dir in src $ob dst $oa action protect tmpl proto ah mode $mode src $ob dst $oa reqid 2
	EOF
	# (native_policy's words)
	ip -n b -batch - <<-EOF
	xfrm state flush
	xfrm policy flush
	xfrm state add src $oa dst $ob proto ah spi 0x1001 mode $mode reqid 1 replay-window 64 $w $nin
	xfrm state add src $ob dst $oa proto ah spi 0x2001 mode $mode reqid 2 replay-window 64 $w $nout
	xfrm policy add dir in src $oa dst $ob tmpl src $oa dst $ob proto ah mode $mode reqid 1
	xfrm policy add dir out src $ob dst $oa tmpl src $ob dst $oa proto ah mode $mode reqid 2
	EOF
}

# run_case NAME WORDS MODE OA OB TCP [EXTRA...]: the checks for one case
run_case() {
	local name=$1 words=$2 mode=$3 oa=$4 ob=$5 tcp=$6 fam=4
	shift 6
	[[ $oa == *:* ]] && fam=6
	if ! setup "$words" "$mode" "$oa" "$ob" "$@"; then
		t_fail "$name: configure kipsec and native"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	t_check "$name: ping kipsec -> native" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$ob"
	t_eq "$name: kipsec sent 3, native received 3" \
		"$(kipsec_stat 0x1001 "$ob" out_packets)/$(native_pkts b "$oa" "$ob" 0x1001 ah)" "3/3"
	t_eq "$name: native sent 3 replies, kipsec accepted 3" \
		"$(native_pkts b "$ob" "$oa" 0x2001 ah)/$(kipsec_stat 0x2001 "$oa" in_packets)" "3/3"
	t_check "$name: ping native -> kipsec" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 -p "$MARKER_HEX" "$oa"
	t_eq "$name: kipsec accepted 5, sent 5, no drops" \
		"$(kipsec_stat 0x2001 "$oa" in_packets)/$(kipsec_stat 0x1001 "$ob" out_packets)/$(kipsec_stat 0x2001 "$oa" in_auth_fail)" "5/5/0"
	# One TCP transfer per family: IPv4 into kipsec, IPv6 out of it (GSO).
	if [ "$tcp" = tcp ] && [ $fam = 4 ]; then
		t_check "$name: TCP native -> kipsec, $((AH_TCP_BYTES / 1024)) KiB, checksum verified" \
			tcp_transfer b a "$oa" $AH_TCP_BYTES
	elif [ "$tcp" = tcp ]; then
		t_check "$name: TCP kipsec -> native, $((AH_TCP_BYTES / 1024)) KiB, checksum verified" \
			tcp_transfer a b "$ob" $AH_TCP_BYTES
	fi
	capture_stop
	t_check "$name: AH on the wire" \
		test "$(pcap_count wire 'ip proto 51 or ip6 proto 51')" -ge 10
	t_check "$name: payload readable inside AH (no encryption)" \
		pcap_has_text wire "${MARKER:0:16}"
	t_eq "$name: nothing outside AH" \
		"$(pcap_count wire 'tcp or udp or icmp or ip proto 50 or ip6 proto 50 or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
}

k=0
combos=("transport $A4 $B4" "tunnel $A6 $B6" "transport $A6 $B6" "tunnel $A4 $B4")
declare -A tcp_done
for i in "${!AH_NAME[@]}"; do
	todo=("${combos[$((k % ${#combos[@]}))]}")
	[ "${KIPSEC_STRESS:-0}" = 1 ] && todo=("${combos[@]}")
	k=$((k + 1))
	for c in "${todo[@]}"; do
		# shellcheck disable=SC2086
		set -- $c
		fam=v4
		[[ $2 == *:* ]] && fam=v6
		tcp=no
		[ -z "${tcp_done[$fam]:-}" ] && tcp=tcp && tcp_done[$fam]=1
		run_case "${AH_NAME[$i]} $1 $fam" "${AH_WORDS[$i]}" "$1" "$2" "$3" $tcp
	done
done

# ESN: both ends start above 2^32; the high half is never sent, only hashed.
run_case "sha256 transport v4 esn" "${AH_WORDS[1]}" transport "$A4" "$B4" no \
	"esn seq-out 0x100000010" "esn seq-in 0x200000020" \
	"flag esn align4 replay-seq-hi 1 replay-seq 0x10" \
	"flag esn align4 replay-oseq-hi 2 replay-oseq 0x20"

# --- tampering ---------------------------------------------------------------

# One python in m for both tamper runs. The pcap file is read and the
# frames sent by hand, as ah_gmac does: scapy is not needed here, and its
# import costs many seconds of the guest's one vCPU under TCG.
AH_TAMPER=$(cat <<'PY'
import socket, struct, sys, time

pcap, iface, dmac = sys.argv[1:4]
data = open(pcap, "rb").read()
off, frames = 24, []
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    frames.append(data[off + 16:off + 16 + caplen])
    off += 16 + caplen
pkts = [f[14:] for f in frames if f[12:14] in (b"\x08\x00", b"\x86\xdd")]
pkts = [p for p in pkts if (p[9] if p[0] >> 4 == 4 else p[6]) == 51]
if len(pkts) < 5:
    sys.exit("only %d AH packets captured" % len(pkts))

def csum4(p):
    h = bytearray(p[:(p[0] & 15) * 4])
    h[10:12] = b"\0\0"
    s = sum(int.from_bytes(h[i:i + 2], "big") for i in range(0, len(h), 2))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    h[10:12] = (~s & 0xffff).to_bytes(2, "big")
    return bytes(h) + p[len(h):]

def flip(p, off, bit=1):
    b = bytearray(p)
    b[off] ^= bit
    return bytes(b)

sk = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
sk.bind((iface, 0))
smac = sk.getsockname()[4]         # iface's own address

def send(p):
    t = b"\x08\x00" if p[0] >> 4 == 4 else b"\x86\xdd"
    sk.send(bytes.fromhex(dmac.replace(":", "")) + smac + t + p)
    time.sleep(0.3)

v4 = pkts[0][0] >> 4 == 4
hl = (pkts[0][0] & 15) * 4 if v4 else 40
icv = hl + 12                 # first ICV byte (no options, no ext headers)
if v4:
    send(csum4(flip(pkts[0], 5)))          # IPv4 ID: immutable
else:
    send(flip(pkts[0], 23))                # IPv6 source address: immutable
send(flip(pkts[1], len(pkts[1]) - 1))      # last payload byte
send(flip(pkts[2], icv, 0x80))             # ICV
if v4:                                     # TTL, TOS: mutable
    b = bytearray(pkts[3]); b[8] = 7; b[1] = 0x20
    send(csum4(bytes(b)))
else:                                      # hop limit, traffic class, flow label
    b = bytearray(pkts[3]); b[7] = 7; b[1] ^= 0x80; b[3] ^= 0x55
    send(bytes(b))
send(pkts[4])
send(pkts[4])                              # replay
PY
)

# tamper NAME MODE OA OB: native's packets to a kept back in m, then resent
tamper() {
	local name=$1 mode=$2 oa=$3 ob=$4 fam=4 mac
	[[ $oa == *:* ]] && fam=6
	local al=""
	[[ $oa != *:* ]] && al="flag align4"
	if ! setup "${AH_WORDS[1]}" "$mode" "$oa" "$ob" "" "" "$al" "$al"; then
		t_fail "$name: configure kipsec and native"
		return
	fi
	mac=$(ip -n a -br link show dev a0 | awk '{ print $3 }')
	# m keeps AH from b back, after the capture has seen it.
	hold_start m1 || { t_fail "$name: capture"; return; }
	n b ping -"$fam" -c 5 -i 0.1 -W 1 -p "$MARKER_HEX" "$oa" >/dev/null 2>&1
	hold_stop m1
	t_check "$name: resend 7 altered packets from m" \
		pyrun "$AH_TAMPER" /tmp/held.pcap m0 "$mac" </dev/null
	t_eq "$name: header, payload, ICV bit flips: in_auth_fail 3" \
		"$(kipsec_stat 0x2001 "$oa" in_auth_fail)" 3
	t_eq "$name: mutable fields changed: accepted 2" \
		"$(kipsec_stat 0x2001 "$oa" in_packets)" 2
	t_eq "$name: the same packet twice: in_replay 1" \
		"$(kipsec_stat 0x2001 "$oa" in_replay)" 1
}

tamper "tamper transport v4" transport "$A4" "$B4"
tamper "tamper tunnel v6" tunnel "$A6" "$B6"

netns_cleanup
kipsec_unload
t_done
