# SPDX-License-Identifier: GPL-2.0
"""kipsec's AH (RFC 4302) against scapy's independent AH.

1. scapy's AH in namespace b signs three ICMP echo requests to a with every
   AH algorithm scapy and kipsec share (HMAC-SHA1-96, SHA2-256-128,
   SHA2-384-192, SHA2-512-256, AES-CMAC-96): a's SA must accept exactly 3
   with no drop counter moving, and the 3 AH echo replies captured in m must
   pass scapy's ICV check with the payload text readable. make check spreads
   transport/tunnel x IPv4/IPv6 over the algorithms; KIPSEC_STRESS=1 runs
   every combination.
2. IPv6 (transport) with a destination options header (an immutable option
   0x1e and a "may change" option 0x3e, both RFC 3692 experimental types
   that a receiver skips) and a routing header type 2, segments left 0,
   before AH: accepted; one byte of the immutable option changed after
   signing: dropped as an ICV failure; the may-change option's data changed
   after signing: accepted. A segment routing header (type 4), which ah.c
   refuses to guess, is dropped as in_unsupported.
3. IPv4 with router alert (immutable) and record route (mutable, m also
   records its address in it when forwarding) before AH: accepted; the
   record route contents changed after signing: accepted; the router
   alert value changed: dropped as an ICV failure. The echo replies, which
   carry the record route option back, pass scapy's ICV check.

KIPSEC_TEST_IMPL=native runs the same checks against the native XFRM stack.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KIPSEC_TOP"], "selftests"))
import kipsec_scapy as ks  # noqa: E402
from scapy.layers.inet import IP, IPOption_Router_Alert, IPOption_RR  # noqa: E402
from scapy.layers.ipsec import AH  # noqa: E402
from scapy.layers.inet6 import (HBHOptUnknown, IPv6, IPv6ExtHdrDestOpt,  # noqa: E402
                                IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting)

A4, B4, A6, B6 = "10.0.1.1", "10.0.2.1", "fd01::1", "fd02::1"
TEXT = b"KIPSEC-AH-SCAPY-TEXT"
T0 = time.time()

H20 = "0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4"
H32 = "0xa1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0"
H48 = H32 + "c1c2c3c4c5c6c7c8c9cacbcccdcecfd0"
H64 = H48 + "d1d2d3d4d5d6d7d8d9dadbdcdddedfe0"
K16 = "0x0102030405060708090a0b0c0d0e0f10"
# The AH algorithms of both (xcbc(aes) is kipsec's only, scapy lacks it).
AH_ALGS = (("sha1", f"auth-trunc 'hmac(sha1)' {H20} 96"),
           ("sha256", f"auth-trunc 'hmac(sha256)' {H32} 128"),
           ("sha384", f"auth-trunc 'hmac(sha384)' {H48} 192"),
           ("sha512", f"auth-trunc 'hmac(sha512)' {H64} 256"),
           ("cmac", f"auth-trunc 'cmac(aes)' {K16} 96"))
SHA256 = AH_ALGS[1]

t = ks.Ktap()
imp = ks.Impl()
t.diag(f"implementation under test: {imp.name}")
ks.sh(f"bash -c '. {ks.TOP}/selftests/lib.sh >/dev/null; . {ks.TOP}/selftests/net.sh; topo_hosts'")
imp.load()
ex = ks.Expect(t, imp)
AUTH_FAIL = ({"in_auth_fail": 1}, {"XfrmInStateProtoError": 1})


def configure(words, mode, a, b):
    """a (the implementation) <-> b (scapy): AH SAs 0x4001 in, 0x4002 out."""
    imp.flush()
    imp.sa_add(b, a, 0x4001, words, mode, proto="ah")
    imp.sa_add(a, b, 0x4002, words, mode, proto="ah")
    imp.policy_add("in", b, a, b, a, mode, proto="ah")
    imp.policy_add("out", a, b, a, b, mode, proto="ah")
    return (b, a, 0x4001, "ah")


def sas(words, mode, a, b):
    alg = ks.parse_alg(words)
    return (ks.scapy_sa("ah", 0x4001, alg, mode, b, a),
            ks.scapy_sa("ah", 0x4002, alg, mode, a, b))


def check_replies(label, sa_out, wire, n):
    r = ks.decrypt_all(sa_out, wire, 0x4002, proto="ah", text=TEXT)
    t.eq(f"{label}: scapy verifies {n} AH replies with the text (packets, ok, text)",
         (r["packets"], r["ok"], r["text"]), (n, n, n))
    if r["errors"]:
        t.diag(f"{label}: {r['errors']}")


def scapy_case(label, words, mode, a, b):
    ref = configure(words, mode, a, b)
    sa_in, sa_out = sas(words, mode, a, b)
    cap = ks.Capture("wire", "m", "m0")
    pkts = [ks.encrypt(sa_in, ks.echo(b, a, i, TEXT), i) for i in (1, 2, 3)]
    ex.step(f"{label}: accepts scapy's 3 echo requests", pkts,
            {"in_packets": 3}, {}, ref, sa_kipsec=3)
    check_replies(label, sa_out, cap.stop(), 3)


def patch(raw, old, new):
    """raw with the one occurrence of old replaced by new (same length)."""
    assert raw.count(old) == 1 and len(old) == len(new), (old, raw)
    return raw.replace(old, new)


# Destination options: 0x1e (action bits 00: skip if unknown, change bit 0)
# and 0x3e (the same with the "may change" bit 0x20 set).
IMM6, MUT6 = b"\x1e\x04IMM6", b"\x3e\x04MUT6"


def v6_ext_case():
    ref = configure(SHA256[1], "transport", A6, B6)
    sa_in, _ = sas(SHA256[1], "transport", A6, B6)
    # The native stack drops a type 2 routing header it did not process
    # itself (MIP6, a home address it does not own) before AH sees it;
    # type 0 with segments left 0 it ignores. ah.c and scapy compute both
    # alike (segments left 0, the one address the destination's own).
    rtype = 2 if imp.kipsec else 0

    def signed(seq, rh=None):
        dopt = IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x1e, optdata=b"IMM6"),
                                          HBHOptUnknown(otype=0x3e, optdata=b"MUT6")])
        rh = rh or IPv6ExtHdrRouting(type=rtype, segleft=0, addresses=[A6])
        p = IPv6(src=B6, dst=A6) / dopt / rh / ks.echo(B6, A6, seq, TEXT)[IPv6].payload
        return bytes(ks.encrypt(sa_in, IPv6(bytes(p)), seq))

    ok = signed(1)
    ex.step(f"v6 dest-opts + routing type {rtype}: accepted", [IPv6(ok)],
            {"in_packets": 1}, {}, ref, sa_kipsec=1)
    bad = patch(signed(2), IMM6, IMM6[:-1] + b"X")
    ex.step("v6 immutable dest option changed after signing: ICV fails",
            [IPv6(bad)], *AUTH_FAIL, ref, sa_kipsec=0)
    mut = patch(signed(3), MUT6, MUT6[:2] + b"CHG!")
    ex.step("v6 may-change dest option changed after signing: accepted",
            [IPv6(mut)], {"in_packets": 1}, {}, ref, sa_kipsec=1)
    # SRH: kipsec cannot know the final view of it; the native stack
    # (seg6_enabled 0) drops it before AH, counted outside xfrm_stat.
    srh = IPv6ExtHdrSegmentRouting(addresses=[A6], segleft=0, lastentry=0)
    pkt = ks.encrypt(sa_in, ks.echo(B6, A6, 4, TEXT), 4)
    pkt = IPv6(bytes(IPv6(src=B6, dst=A6) / srh / pkt[IPv6].payload))
    ex.step("v6 segment routing header before AH: dropped as unsupported",
            [pkt], {"in_unsupported": 1}, {}, ref, sa_kipsec=0)


RA = bytes([0x94, 0x04, 0x00, 0x00])


def v4_opts_case():
    ref = configure(SHA256[1], "transport", A4, B4)
    sa_in, sa_out = sas(SHA256[1], "transport", A4, B4)

    def signed(seq):
        p = ks.echo(B4, A4, seq, TEXT)
        p = IP(src=B4, dst=A4, options=[IPOption_Router_Alert(),
                                        IPOption_RR(routers=["0.0.0.0"] * 2)]) / p[IP].payload
        return bytes(ks.encrypt(sa_in, IP(bytes(p)), seq))

    cap = ks.Capture("wire", "m", "m0")
    ok = signed(1)
    ex.step("v4 router alert + record route (m records in it): accepted",
            [IP(ok)], {"in_packets": 1}, {}, ref, sa_kipsec=1)
    # Record route, 2 slots, pointer 4: fill the first one after signing.
    rr_old = bytes([0x07, 11, 4]) + bytes(8)
    rr_new = bytes([0x07, 11, 8]) + bytes([192, 0, 2, 99]) + bytes(4)
    mut = patch(signed(2), rr_old, rr_new)
    ex.step("v4 record route changed after signing: accepted",
            [IP(mut)], {"in_packets": 1}, {}, ref, sa_kipsec=1)
    bad = patch(signed(3), RA, RA[:3] + b"\x01")
    ex.step("v4 router alert value changed after signing: ICV fails",
            [IP(bad)], *AUTH_FAIL, ref, sa_kipsec=0)
    wire = cap.stop()
    # m forwarded the requests to a0 with its own address recorded: the
    # option did change in transit after scapy signed it.
    rr = {p[AH].seq: (o.pointer, o.routers) for p in wire if p.haslayer(AH)
          and p[AH].spi == 0x4001 for o in p[IP].options if o.option == 7}
    t.eq("v4 record route as a received it (AH seq: pointer, routers)", rr,
         {1: (8, ["10.0.1.254", "0.0.0.0"]), 2: (12, ["192.0.2.99", "10.0.1.254"]),
          3: (8, ["10.0.1.254", "0.0.0.0"])})
    # The replies echo the record route option (RFC 791) and carry it in
    # the ICV as zeroes.
    check_replies("v4 options", sa_out, wire, 2)


COMBOS = (("transport", A4, B4), ("tunnel", A4, B4),
          ("transport", A6, B6), ("tunnel", A6, B6))
for k, (name, words) in enumerate(AH_ALGS):
    for mode, a, b in (COMBOS if ks.STRESS else (COMBOS[k % len(COMBOS)],)):
        scapy_case(f"{name} {mode} v{6 if ':' in a else 4}", words, mode, a, b)
t.diag(f"scapy cases took {time.time() - T0:.1f} s")
v6_ext_case()
v4_opts_case()
t.diag(f"took {time.time() - T0:.1f} s")
imp.unload()
t.done()
