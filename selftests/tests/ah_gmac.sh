#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# AES-GMAC as AH (RFC 4543 4), kipsec on both ends (no native or scapy
# implementation has it): transport and tunnel, IPv4 and IPv6, the three
# AES key sizes, once with ESN above 2^32, and once with the transforms
# wrapped in pcrypt() (debug parameter async=1) so that the asynchronous
# completion runs.
#
#   - ping both ways: each SA counts exactly the packets sent through it,
#     on both ends;
#   - the wire (captured in m, which only forwards) carries AH alone, the
#     payload readable, AH 12 + 8 (IV) + 16 (ICV) = 36 bytes after IPv4 and
#     40 after IPv6 (padded to 64 bits: RFC 4302 2.6, RFC 4543 erratum 3643);
#   - every captured ICV is recomputed in python3-cryptography, not from
#     kipsec: AES-GCM with an empty plaintext, nonce = salt || IV, the
#     packet as associated data with the mutable fields (RFC 4302 3.3.3.1)
#     and the ICV zeroed, the ESN high bits after it; the IV must be the
#     64-bit sequence number;
#   - a packet held back in m and resent with one payload bit flipped is
#     dropped as in_auth_fail; the same packet resent intact is accepted
#     (so the resend itself works).
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards        kipsec

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

K28=0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c

ka() { "$KIPSEC" -n a "$@"; }
kb() { "$KIPSEC" -n b "$@"; }

# ah_stat NS SPI DST NAME: one counter of a kipsec AH SA, 0 when the
# output leaves it out (one process: kipsec enters the namespace, bash's
# regex takes the figure out, as net.sh's counter readers do)
ah_stat() {
	local out
	out=$("$KIPSEC" -n "$1" -j -s sa get dst "$3" proto ah spi "$2")
	if [[ $out =~ \"$4\":\ *([0-9]+) ]]; then
		echo "${BASH_REMATCH[1]}"
	else
		echo 0
	fi
}

# gmac_batch OA OB MODE WORDS X1001 X2001 LOCAL REMOTE REQID_OUT REQID_IN:
# one end's -batch script: both SAs (0x1001 OA->OB, 0x2001 OB->OA, with
# extra words each) and the out/in policies seen from LOCAL
gmac_batch() {
	printf '%s\n' "sa flush" "policy flush" \
		"sa add src $1 dst $2 proto ah spi 0x1001 mode $3 reqid 1 replay-window 64 $4 $5" \
		"sa add src $2 dst $1 proto ah spi 0x2001 mode $3 reqid 2 replay-window 64 $4 $6" \
		"policy add dir out src $7 dst $8 action protect tmpl proto ah mode $3 src $7 dst $8 reqid $9" \
		"policy add dir in src $8 dst $7 action protect tmpl proto ah mode $3 src $8 dst $7 reqid ${10}"
}

# setup KEY MODE OA OB [AOUT BIN BOUT AIN]: GMAC AH SAs and policies on
# both ends (selectors = the addresses), extra words per SA
setup() {
	local m=$2 oa=$3 ob=$4 w="aead 'rfc4543(gcm(aes))' $1 128"
	gmac_batch "$oa" "$ob" "$m" "$w" "${5:-}" "${8:-}" "$oa" "$ob" 1 2 | ka -batch - &&
	gmac_batch "$oa" "$ob" "$m" "$w" "${6:-}" "${7:-}" "$ob" "$oa" 2 1 | kb -batch -
}

# The independent ICV check: reads a pcap (Ethernet), recomputes the ICV
# of every AH packet. Arguments: pcap, key (hex, salt last), the expected
# AH length, then SPI=HIGHBITS for ESN SAs (0 when absent). Prints the
# number of packets checked; exits non-zero on the first mismatch.
GMAC_CHECK=$(cat <<'PY'
import struct, sys
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

pcap, keyhex, ahlen = sys.argv[1], sys.argv[2], int(sys.argv[3])
hi = {int(k, 0): int(v, 0) for k, v in (a.split("=") for a in sys.argv[4:])}
key = bytes.fromhex(keyhex[2:])
gcm, salt = AESGCM(key[:-4]), key[-4:]

data = open(pcap, "rb").read()
assert struct.unpack("<I", data[:4])[0] == 0xa1b2c3d4, "not a pcap"
off, n = 24, 0
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    etype = frame[12:14]
    p = bytearray(frame[14:])
    if etype == b"\x08\x00" and p[9] == 51:
        h = (p[0] & 15) * 4
        assert h == 20, "IPv4 options not expected here"
        p[1] = 0                     # TOS
        p[6:8] = b"\0\0"             # flags, fragment offset
        p[8] = 0                     # TTL
        p[10:12] = b"\0\0"           # header checksum
    elif etype == b"\x86\xdd" and p[6] == 51:
        h = 40
        p[0] &= 0xf0                 # traffic class, flow label
        p[1:4] = b"\0\0\0"
        p[7] = 0                     # hop limit
    else:
        continue
    got = (p[h + 1] + 2) * 4
    if got != ahlen:
        sys.exit("AH length %d, expected %d" % (got, ahlen))
    spi, seq = struct.unpack(">II", p[h + 4:h + 12])
    iv = bytes(p[h + 12:h + 20])
    icv = bytes(p[h + 20:h + 36])
    seqhi = hi.get(spi, 0)
    if iv != struct.pack(">Q", seqhi << 32 | seq):
        sys.exit("SPI %#x seq %#x: IV %s is not the sequence number"
                 % (spi, seq, iv.hex()))
    p[h + 20:h + 36] = bytes(16)     # ICV zeroed; IV and padding kept
    aad = bytes(p) + (struct.pack(">I", seqhi) if spi in hi else b"")
    want = gcm.encrypt(salt + iv, b"", aad)
    if want != icv:
        sys.exit("SPI %#x seq %#x: ICV %s, expected %s"
                 % (spi, seq, icv.hex(), want.hex()))
    n += 1
print(n)
PY
)

# run_case NAME KEY MODE OA OB [EXTRA WORDS... as setup, then SPI=HI...]
run_case() {
	local name=$1 key=$2 mode=$3 oa=$4 ob=$5 fam=4 ahlen=36 n
	local esnargs=()
	[[ $oa == *:* ]] && fam=6 && ahlen=40
	[ $# -gt 9 ] && esnargs=("${@:10}")
	if ! setup "$key" "$mode" "$oa" "$ob" "${6:-}" "${7:-}" "${8:-}" "${9:-}"; then
		t_fail "$name: configure both ends"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	t_check "$name: ping a -> b" \
		n a ping -"$fam" -c 3 -i 0.1 -W 2 -p "$MARKER_HEX" "$ob"
	t_check "$name: ping b -> a" \
		n b ping -"$fam" -c 2 -i 0.1 -W 2 -p "$MARKER_HEX" "$oa"
	capture_stop
	t_eq "$name: a sent 5, b accepted 5 (0x1001)" \
		"$(ah_stat a 0x1001 "$ob" out_packets)/$(ah_stat b 0x1001 "$ob" in_packets)" "5/5"
	t_eq "$name: b sent 5, a accepted 5 (0x2001)" \
		"$(ah_stat b 0x2001 "$oa" out_packets)/$(ah_stat a 0x2001 "$oa" in_packets)" "5/5"
	t_eq "$name: no ICV failures on either end" \
		"$(ah_stat a 0x2001 "$oa" in_auth_fail)/$(ah_stat b 0x1001 "$ob" in_auth_fail)" "0/0"
	t_eq "$name: 10 AH packets on the wire" \
		"$(pcap_count wire 'ip proto 51 or ip6 proto 51')" 10
	t_eq "$name: nothing outside AH" \
		"$(pcap_count wire 'tcp or udp or icmp or ip proto 50 or ip6 proto 50 or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))')" 0
	t_check "$name: payload readable inside AH (no encryption)" \
		pcap_has_text wire "$MARKER_PING"
	n=$(pyrun "$GMAC_CHECK" /tmp/wire.pcap "$key" "$ahlen" "${esnargs[@]}" </dev/null)
	t_eq "$name: python3-cryptography computes the same ICV, AH $ahlen bytes, IV = sequence number" \
		"$n" 10
}

# tamper NAME KEY MODE OA OB: a's pings kept back in m, then resent to b,
# once with one payload bit flipped, once intact.
TAMPER=$(cat <<'PY'
import socket, struct, sys

pcap, iface, dmac, smac = sys.argv[1:5]
data = open(pcap, "rb").read()
off, frames = 24, []
while off + 16 <= len(data):
    caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
    f = data[off + 16:off + 16 + caplen]
    off += 16 + caplen
    if (f[12:14] == b"\x08\x00" and f[14 + 9] == 51) or \
       (f[12:14] == b"\x86\xdd" and f[14 + 6] == 51):
        frames.append(f)
if not frames:
    sys.exit("no AH packet held back")
f = bytes.fromhex(dmac.replace(":", "")) + \
    bytes.fromhex(smac.replace(":", "")) + frames[0][12:]
bad = bytearray(f)
bad[-1] ^= 1                              # last payload byte
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
s.send(bytes(bad))
s.send(f)
PY
)

tamper() {
	local name=$1 key=$2 mode=$3 oa=$4 ob=$5 fam=4 dmac smac
	[[ $oa == *:* ]] && fam=6
	if ! setup "$key" "$mode" "$oa" "$ob"; then
		t_fail "$name: configure both ends"
		return
	fi
	dmac=$(ip -n b -br link show dev b0 | awk '{ print $3 }')
	smac=$(ip -n m -br link show dev m1 | awk '{ print $3 }')
	# m keeps AH from a back, after the capture has seen it.
	hold_start m0 || { t_fail "$name: capture"; return; }
	n a ping -"$fam" -c 1 -W 1 -p "$MARKER_HEX" "$ob" >/dev/null 2>&1
	hold_stop m0
	t_eq "$name: b saw nothing while m held the packet back" \
		"$(ah_stat b 0x1001 "$ob" in_packets)" 0
	t_check "$name: resend it from m, bit-flipped then intact" \
		n m "$PY" -c "$TAMPER" /tmp/held.pcap m1 "$dmac" "$smac" </dev/null
	sleep 0.5
	t_eq "$name: flipped payload bit: in_auth_fail 1" \
		"$(ah_stat b 0x1001 "$ob" in_auth_fail)" 1
	t_eq "$name: the intact packet: accepted 1" \
		"$(ah_stat b 0x1001 "$ob" in_packets)" 1
}

# pcrypt_refs: sum of the refcounts of pcrypt instances in /proc/crypto
pcrypt_refs() {
	awk '/^driver/ { p = ($3 ~ /^pcrypt\(/) } p && /^refcnt/ { n += $3 - 1 }
	     END { print n + 0 }' /proc/crypto
}

# One python for the ICV checks (pyrun, lib.sh): python3-cryptography is
# imported once, not once per case.
pys_start
kipsec_load
topo_hosts

run_case "transport v4 aes128" "$K20" transport "$A4" "$B4"
run_case "tunnel v6 aes256" "$K36" tunnel "$A6" "$B6"
# make check: every mode, family and key size once (the async pass below
# adds tunnel v4); make stress adds tunnel v4 without async and the tunnel
# v6 and async tamper cases.
STRESS=${KIPSEC_STRESS:-0}
run_case "transport v6 aes192" "$K28" transport "$A6" "$B6"
[ "$STRESS" = 1 ] && run_case "tunnel v4 aes128" "$K20" tunnel "$A4" "$B4"
# ESN: a sends from 0x100000010, b from 0x200000020; only the low half is
# in the header, the IV carries all 64 bits, the ICV the high half too.
run_case "transport v4 esn" "$K20" transport "$A4" "$B4" \
	"esn seq-out 0x100000010" "esn seq-in 0x100000010" \
	"esn seq-out 0x200000020" "esn seq-in 0x200000020" \
	0x1001=1 0x2001=2
tamper "tamper transport v4" "$K20" transport "$A4" "$B4"
[ "$STRESS" = 1 ] && tamper "tamper tunnel v6" "$K36" tunnel "$A6" "$B6"
netns_cleanup
kipsec_unload

# The async completion: every request completes from padata's worker.
if modprobe pcrypt && kipsec_load async=1; then
	topo_hosts
	run_case "async=1 tunnel v4 aes128" "$K20" tunnel "$A4" "$B4"
	t_check "async=1: the SAs' transforms are pcrypt instances" \
		test "$(pcrypt_refs)" -ge 4
	[ "$STRESS" = 1 ] && tamper "async=1 tamper transport v6" "$K20" transport "$A6" "$B6"
	netns_cleanup
	kipsec_unload
else
	t_fail "load with async=1 (pcrypt)"
fi
# The pcrypt instances outrank the plain implementations: remove them.
t_check "pcrypt unloads (no transform left behind)" modprobe -r pcrypt
t_done
