#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Host-side check of the AH ICV tables in kmod/selftest/ah.c.

The in-module self-test compares kipsec's AH ICV code with two tables:

  ah_vecs  published vectors (RFC 2202, RFC 4231, RFC 3566, RFC 4494, NIST
           CAVP GCM): the message, key and truncated MAC as the RFC gives
           them;
  ah_kats  whole AH packets whose expected ICV was computed here.

`ah_vectors.py check` parses both tables out of the C file and recomputes
every expected value with python3-cryptography and hashlib, with its own
RFC 4302 3.3.3.1 zeroing of mutable fields (written from the RFC, not from
kipsec), so a typo in the C table cannot pass. `ah_vectors.py gen` prints
the ah_kats rows (packets and ICVs) from the definitions below.
"""

import hashlib
import hmac
import re
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.cmac import CMAC


def aes_block(key, block):
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(block)


def xcbc(key, msg):
    """RFC 3566 section 4 (no XCBC in python3-cryptography)."""
    k1, k2, k3 = (aes_block(key, bytes([i]) * 16) for i in (1, 2, 3))
    xor = lambda a, b: bytes(x ^ y for x, y in zip(a, b))
    blocks = [msg[i:i + 16] for i in range(0, len(msg), 16)] or [b""]
    e = bytes(16)
    for b in blocks[:-1]:
        e = aes_block(k1, xor(e, b))
    last = blocks[-1]
    if len(last) == 16:
        last = xor(last, k2)
    else:
        last = xor(last + b"\x80" + bytes(15 - len(last)), k3)
    return aes_block(k1, xor(e, last))


def mac(alg, key, msg, nonce=None):
    if alg.startswith("hmac("):
        return hmac.new(key, msg, alg[5:-1]).digest()
    if alg == "xcbc(aes)":
        return xcbc(key, msg)
    if alg == "cmac(aes)":
        c = CMAC(algorithms.AES(key))
        c.update(msg)
        return c.finalize()
    if alg == "rfc4543(gcm(aes))":
        # key: AES key then the 4-byte salt; nonce: salt || IV
        return AESGCM(key[:-4]).encrypt(nonce, b"", msg)
    raise ValueError(alg)


# --- RFC 4302 3.3.3.1: the ICV input of a whole packet -------------------

IMMUTABLE4 = {0x82, 0x85, 0x86, 0x94, 0x95}   # RFC 4302 Appendix A.1


def zero_mutable4(p):
    ihl = (p[0] & 15) * 4
    p[1] = 0                                   # TOS
    p[6:8] = b"\0\0"                           # flags, fragment offset
    p[8] = 0                                   # TTL
    p[10:12] = b"\0\0"                         # header checksum
    off = 20
    while off < ihl:
        t = p[off]
        if t == 0:                             # end of options
            break
        if t == 1:                             # no operation
            off += 1
            continue
        n = p[off + 1]
        if t not in IMMUTABLE4:
            p[off:off + n] = bytes(n)          # the whole option
        off += n
    return ihl


def zero_mutable6(p, ah_off):
    p[0] &= 0xf0                               # traffic class
    p[1] = 0
    p[2:4] = b"\0\0"                           # flow label
    p[7] = 0                                   # hop limit
    nh, off = p[6], 40
    while off < ah_off:
        if nh not in (0, 60):                  # only options headers here
            raise ValueError("header %d" % nh)
        end = off + (p[off + 1] + 1) * 8
        o = off + 2
        while o < end:
            if p[o] == 0:                      # Pad1
                o += 1
                continue
            n = p[o + 1]
            if p[o] & 0x20:                    # may change: data zeroed
                p[o + 2:o + 2 + n] = bytes(n)
            o += 2 + n
        nh, off = p[off], end


def packet_icv(alg, key, icv_bytes, iv_bytes, esn_hi, pkt, ah_off):
    p = bytearray(pkt)
    if p[0] >> 4 == 4:
        zero_mutable4(p)
    else:
        zero_mutable6(p, ah_off)
    icv_at = ah_off + 12 + iv_bytes
    p[icv_at:icv_at + icv_bytes] = bytes(icv_bytes)
    nonce = None
    if iv_bytes:
        nonce = key[-4:] + bytes(p[ah_off + 12:ah_off + 20])
    msg = bytes(p) + (struct.pack(">I", esn_hi) if esn_hi is not None else b"")
    return mac(alg, key, msg, nonce)[:icv_bytes]


# --- the ah_kats packets ----------------------------------------------------

ICV = {"hmac(sha1)": 12, "hmac(sha256)": 16, "hmac(sha384)": 24,
       "hmac(sha512)": 32, "xcbc(aes)": 12, "cmac(aes)": 12,
       "rfc4543(gcm(aes))": 16}


def ah_hdr(nexthdr, alg, v4, seq):
    iv = 8 if alg.startswith("rfc4543") else 0
    n = 12 + iv + ICV[alg]
    n = (n + 3) // 4 * 4 if v4 else (n + 7) // 8 * 8
    h = struct.pack(">BBHII", nexthdr, n // 4 - 2, 0, 0x1001, seq & 0xffffffff)
    if iv:
        h += struct.pack(">Q", seq)
    return h + bytes(n - len(h))


def ip4(proto, payload_len, opts=b""):
    ihl = 5 + len(opts) // 4
    return struct.pack(">BBHHHBBH4s4s", 0x40 | ihl, 0xb8, ihl * 4 + payload_len,
                       0x1234, 0x4000, 63, proto, 0xbeef,
                       bytes([10, 0, 1, 1]), bytes([10, 0, 2, 1])) + opts


def ip6(nexthdr, payload_len):
    return struct.pack(">IHBB16s16s", 0x6b812345, payload_len, nexthdr, 61,
                       bytes.fromhex("fd010000000000000000000000000001"),
                       bytes.fromhex("fd020000000000000000000000000001"))


ICMP = bytes.fromhex("0800f7ff00010001") + b"kipsec AH vector"
UDP = struct.pack(">HHHH", 4500, 4500, 8 + 12, 0) + b"AH test data"


def kat(name, alg, key, seq, esn, v4, kind):
    if kind == "opts":       # router alert (immutable), record route (mutable)
        opts = bytes.fromhex("94040000") + bytes.fromhex("0707040a000101") + b"\0"
        ah = ah_hdr(1, alg, True, seq)
        pkt = ip4(51, len(ah) + len(ICMP), opts) + ah + ICMP
        ah_off = 20 + len(opts)
    elif kind == "tunnel4":  # AH around an inner IPv4 packet
        inner = ip4(17, len(UDP)) + UDP
        ah = ah_hdr(4, alg, True, seq)
        pkt = ip4(51, len(ah) + len(inner)) + ah + inner
        ah_off = 20
    elif kind == "plain4":
        ah = ah_hdr(1, alg, True, seq)
        pkt = ip4(51, len(ah) + len(ICMP)) + ah + ICMP
        ah_off = 20
    elif kind == "ext6":     # hop-by-hop router alert; destination option
        hbh = bytes([60, 0, 0x05, 0x02, 0, 0, 0x01, 0x00])      # immutable
        dst = bytes([51, 0, 0x3e, 0x04]) + b"abcd"            # may change
        ah = ah_hdr(17, alg, False, seq)
        rest = hbh + dst + ah + UDP
        pkt = ip6(0, len(rest)) + rest
        ah_off = 56
    else:                    # plain6
        ah = ah_hdr(17, alg, False, seq)
        pkt = ip6(51, len(ah) + len(UDP)) + ah + UDP
        ah_off = 40
    iv = 8 if alg.startswith("rfc4543") else 0
    icv = packet_icv(alg, key, ICV[alg], iv, (seq >> 32) if esn else None,
                     pkt, ah_off)
    return dict(name=name, alg=alg, key=key, seq=seq, esn=esn, ah_off=ah_off,
                pkt=pkt, icv=icv)


# Keys: arbitrary test keys (the same as selftests/algs.sh uses).
K16 = bytes(range(1, 17))
K20 = bytes(range(1, 21))
K36 = bytes(range(1, 37))
H = bytes(range(0xa1, 0xe1))

KATS = [
    kat("IPv4 options, hmac(sha1)", "hmac(sha1)", H[:20], 1, False, True, "opts"),
    kat("IPv4 tunnel, ESN, hmac(sha256)", "hmac(sha256)", H[:32],
        0x100000005, True, True, "tunnel4"),
    kat("IPv6 options headers, hmac(sha384)", "hmac(sha384)", H[:48], 2,
        False, False, "ext6"),
    kat("IPv6, hmac(sha512)", "hmac(sha512)", H[:64], 3, False, False, "plain6"),
    kat("IPv4 options, xcbc(aes)", "xcbc(aes)", K16, 4, False, True, "opts"),
    kat("IPv6 options headers, cmac(aes)", "cmac(aes)", K16, 5, False, False, "ext6"),
    kat("IPv4 options, GMAC-128", "rfc4543(gcm(aes))", K20, 7, False, True, "opts"),
    kat("IPv6 options headers, ESN, GMAC-256", "rfc4543(gcm(aes))", K36,
        0x200000009, True, False, "ext6"),
]


def c_hex(b):
    # a long one on a line of its own (checkpatch takes long strings there)
    h = b.hex()
    return (' "%s"' if len(h) <= 56 else '\n\t\t\t"%s"') % h


def gen():
    for k in KATS:
        print("\t{")
        print('\t\t.name = "%s", .alg = "%s",' % (k["name"], k["alg"]))
        print("\t\t.seq = %#x, .esn = %s, .ah_off = %d," %
              (k["seq"], "true" if k["esn"] else "false", k["ah_off"]))
        print("\t\t.key =%s," % c_hex(k["key"]))
        print("\t\t.pkt =%s," % c_hex(k["pkt"]))
        print("\t\t.icv =%s," % c_hex(k["icv"]))
        print("\t},")


# --- parsing the C tables ----------------------------------------------------

def c_rows(src, table):
    body = src[src.index(table + "[] = {"):]
    body = body[:body.index("\n};")]
    rows = []
    for m in re.finditer(r"\n\t\{(.*?)\n\t\}", body, re.S):
        row = {}
        for f in re.finditer(r"\.(\w+)\s*=\s*((?:\"[^\"]*\"\s*)+|[\w]+)", m.group(1)):
            v = f.group(2)
            row[f.group(1)] = ("".join(re.findall(r"\"([^\"]*)\"", v))
                               if v.startswith('"') else v)
        rows.append(row)
    return rows


def check(path):
    src = open(path).read()
    n = bad = 0
    for r in c_rows(src, "ah_vecs"):
        key = bytes.fromhex(r["key"])
        msg = bytes.fromhex(r.get("msg", "")) + bytes(int(r.get("zeros", "0"), 0))
        nonce = bytes.fromhex(r["nonce"]) if "nonce" in r else None
        want = bytes.fromhex(r["icv"])
        got = mac(r["alg"], key, msg, nonce)[:len(want)]
        n += 1
        if got != want:
            bad += 1
            print("MISMATCH %s: %s, table %s" % (r["name"], got.hex(), want.hex()))
    for r in c_rows(src, "ah_kats"):
        key = bytes.fromhex(r["key"])
        want = bytes.fromhex(r["icv"])
        iv = 8 if r["alg"].startswith("rfc4543") else 0
        seq = int(r["seq"], 0)
        got = packet_icv(r["alg"], key, len(want), iv,
                         (seq >> 32) if r["esn"] == "true" else None,
                         bytes.fromhex(r["pkt"]), int(r["ah_off"]))
        n += 1
        if got != want:
            bad += 1
            print("MISMATCH %s: %s, table %s" % (r["name"], got.hex(), want.hex()))
    print("%d checked, %d mismatches" % (n, bad))
    return 1 if bad or not n else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["gen"]:
        gen()
    else:
        sys.exit(check(sys.argv[2] if len(sys.argv) > 2 else "kmod/selftest/ah.c"))
