# SPDX-License-Identifier: GPL-2.0
"""kipsec against an independent ESP implementation and a published vector.

1. scapy's ESP (kipsec_scapy) in namespace b, with known keys, encrypts three
   ICMP echo requests to a: a's SA must accept exactly 3 with no drop counter
   moving, and the 3 echo replies must cross the wire (captured in m) as ESP
   that scapy decrypts, payload text intact, never in clear. make check: the
   ks.CHECK_ALGS subset spread over transport/tunnel and IPv4/IPv6; make
   stress: every scapy-capable algorithm x both modes x both families.
2. The AES-128-GCM ESP packet of draft-mcgrew-gcm-test-01 (the "Page 6" case:
   SPI 0x4321, 64-bit ESN 0x87654321_00000000, IV 4956ed7e3b244cfe, key
   4c80cdef..., salt 2e443b68), byte for byte as published, is accepted by an
   ESN SA holding the vector's key (inbound top set one below it, so
   the high half must be inferred from the low one); a copy with one
   ciphertext bit flipped, sent first, fails the ICV and does not consume the
   sequence number.

KIPSEC_TEST_IMPL=native runs the same checks against the native XFRM stack.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KIPSEC_TOP"], "selftests"))
import kipsec_scapy as ks  # noqa: E402

A4, B4, A6, B6 = "10.0.1.1", "10.0.2.1", "fd01::1", "fd02::1"
TEXT = b"KIPSEC-SCAPY-TEXT"
T0 = time.time()

# draft-mcgrew-gcm-test-01, section 4, the AES-128 GCM ESP packet with a
# 64-bit extended sequence number (AAD = SPI || seq hi || seq lo).
VEC_KEY = "4c80cdefbb5d10da906ac73c3613a634" "2e443b68"   # key || salt
VEC_SPI = 0x00004321
VEC_SEQ = 0x87654321_00000000
VEC_IV = "4956ed7e3b244cfe"
VEC_PLAIN = ("45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
             "00000000045f736970045f756470037369700963796265726369747902646b00"
             "0021000101020201")
VEC_CIPHER = ("fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
              "cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
              "61bc17d768fd9732")
VEC_ICV = "459018148f6cbe722fd04796562dfdb4"

t = ks.Ktap()
imp = ks.Impl()
t.diag(f"implementation under test: {imp.name}")
ks.sh(f"bash -c '. {ks.TOP}/selftests/lib.sh >/dev/null; . {ks.TOP}/selftests/net.sh; topo_hosts'")
imp.load()
ex = ks.Expect(t, imp)


def configure(words, mode, a, b):
    """a (the implementation) <-> b (scapy): SAs 0x3001 in, 0x3002 out."""
    imp.flush()
    imp.sa_add(b, a, 0x3001, words, mode)
    imp.sa_add(a, b, 0x3002, words, mode)
    imp.policy_add("in", b, a, b, a, mode)
    imp.policy_add("out", a, b, a, b, mode)


def scapy_case(label, words, alg, mode, a, b):
    configure(words, mode, a, b)
    sa_in = ks.scapy_sa("esp", 0x3001, alg, mode, b, a)
    sa_out = ks.scapy_sa("esp", 0x3002, alg, mode, a, b)
    cap = ks.Capture("wire", "m", "m0")
    pkts = [ks.encrypt(sa_in, ks.echo(b, a, i, TEXT), i) for i in (1, 2, 3)]
    ex.step(f"{label}: accepts scapy's 3 echo requests", pkts,
            {"in_packets": 3}, {}, (b, a, 0x3001), sa_kipsec=3)
    wire = cap.stop()
    r = ks.decrypt_all(sa_out, wire, 0x3002, text=TEXT)
    t.eq(f"{label}: scapy decrypts 3 replies with the text (ok, failed, text)",
         (r["ok"], r["failed"], r["text"]), (3, 0, 3))
    if alg.get("crypt_algo") != "NULL":     # ESP-NULL carries it in clear
        t.eq(f"{label}: the text never crosses the wire in clear",
             sum(TEXT in bytes(p) for p in wire), 0)


def vector_case():
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    key = bytes.fromhex(VEC_KEY)
    esp = (VEC_SPI.to_bytes(4, "big") + (VEC_SEQ & 0xffffffff).to_bytes(4, "big")
           + bytes.fromhex(VEC_IV + VEC_CIPHER + VEC_ICV))
    # The transcription itself, checked with python3-cryptography.
    aad = VEC_SPI.to_bytes(4, "big") + VEC_SEQ.to_bytes(8, "big")
    try:
        plain = AESGCM(key[:16]).decrypt(key[16:] + bytes.fromhex(VEC_IV),
                                         bytes.fromhex(VEC_CIPHER + VEC_ICV), aad).hex()
    except Exception as e:  # noqa: BLE001 - InvalidTag: a transcription error
        plain = repr(e)
    t.eq("vector: the published bytes decrypt to the published plaintext",
         plain, VEC_PLAIN)
    imp.flush()
    imp.sa_add(B4, A4, VEC_SPI, f"aead 'rfc4106(gcm(aes))' 0x{VEC_KEY} 128",
               esn=True, seq_in=VEC_SEQ - 1)
    imp.policy_add("in", B4, A4, B4, A4)
    pkt = ks.ip_esp(B4, A4, esp)
    ref = (B4, A4, VEC_SPI)
    ex.step("vector: one ciphertext bit flipped fails the ICV",
            [ks.flip_bit(pkt, 16 + 20)], {"in_auth_fail": 1},
            {"XfrmInStateProtoError": 1}, ref, sa_kipsec=0)
    # Next header 1 (ICMP) in transport mode: the inner "ICMP" is the
    # vector's junk, dropped by ICMP after ESP accepted it.
    ex.step("vector: the published packet is accepted", [pkt],
            {"in_packets": 1}, {}, ref, sa_kipsec=1)


COMBOS = (("transport", A4, B4), ("tunnel", A4, B4),
          ("transport", A6, B6), ("tunnel", A6, B6))
k = 0
for name, words, alg in ks.load_algs(None if ks.STRESS else ks.CHECK_ALGS):
    if alg is None:
        t.diag(f"{name}: scapy lacks it, skipped")
        continue
    for mode, a, b in (COMBOS if ks.STRESS else (COMBOS[k % len(COMBOS)],)):
        scapy_case(f"{name} {mode} v{6 if ':' in a else 4}", words, alg, mode, a, b)
    k += 1
t.diag(f"scapy cases took {time.time() - T0:.1f} s")
vector_case()
t.diag(f"took {time.time() - T0:.1f} s")
imp.unload()
t.done()
