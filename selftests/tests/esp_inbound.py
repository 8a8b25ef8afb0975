# SPDX-License-Identifier: GPL-2.0
"""Inbound ESP checks with exact counter deltas: anti-replay at windows 32,
64, 1024 and 4096 (duplicates, too old, the window's edge, far ahead); ESN
across 2^32 (AEAD and CBC+HMAC, the high bits really authenticated, the old
epoch within the window accepted once); forged ICV and ciphertext; bad
padding; truncated ESP; unknown SPI; decrypted tunnel packets outside the
policy or the SA's selectors; cleartext matching a PROTECT in policy.

Every rejected packet is counted under its own reason and nothing else
moves; no rejected echo request gets a reply on the wire (captured in m),
every accepted one gets exactly one. A forged packet never advances the
replay window. make stress adds, per window, a whole window of sequence
numbers in random order and then all of them again.

KIPSEC_TEST_IMPL=native runs the same packets against the native XFRM
stack (the check of this test itself); its counters differ where noted."""

import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.environ["KIPSEC_TOP"], "selftests"))
import kipsec_scapy as ks  # noqa: E402

A4, B4 = "10.0.1.1", "10.0.2.1"
SPI_OUT = 0x3002
T0 = time.time()

t = ks.Ktap()
imp = ks.Impl()
t.diag(f"implementation under test: {imp.name}")
ks.sh(f"bash -c '. {ks.TOP}/selftests/lib.sh >/dev/null; . {ks.TOP}/selftests/net.sh; topo_hosts'")
imp.load()
ALGS = {name: (words, alg) for name, words, alg in ks.load_algs(("gcm128", "cbc-sha256"))}
GCM_WORDS, GCM = ALGS["gcm128"]
CBC_WORDS, CBC = ALGS["cbc-sha256"]
ex = ks.Expect(t, imp)

# Every echo request built has its own ICMP sequence number; sent[desc] =
# (numbers first sent in that step, numbers that must get a reply). A resent
# packet (a replay) is byte for byte an earlier one: its delivery shows as a
# second reply, which the final "no other echo reply" check catches.
sent = {}
_icmp = [0]
_seen = set()


def echo(src=B4, dst=A4):
    _icmp[0] += 1
    return _icmp[0], ks.echo(src, dst, _icmp[0], b"KIPSEC-INBOUND")


def step(desc, items, accepted, kipsec, native, sa=None, sa_native=None,
         accepted_native=None, burst=None):
    """items: [(icmp seq or None, packet)]; accepted: the icmp seqs kipsec
    must deliver (accepted_native: native's, if different)."""
    acc = accepted if imp.kipsec or accepted_native is None else accepted_native
    new = [s for s, _ in items if s is not None and s not in _seen]
    _seen.update(new)
    sent[desc] = (new, sorted(acc))
    kipsec = dict(kipsec, in_packets=len(accepted))
    ex.step(desc, [p for _, p in items], kipsec, native, sa,
            sa_kipsec=len(accepted), sa_native=sa_native if sa_native is not None
            else (None if accepted_native is None else len(accepted_native)),
            burst=burst)


def gcm_sa(spi, mode="transport", src=B4, dst=A4):
    return ks.scapy_sa("esp", spi, GCM, mode, src, dst)


def gcm_echo(sa, seq, src=B4, dst=A4):
    s, p = echo(src, dst)
    return s, ks.encrypt(sa, p, seq)


def cbc_echo(spi, seq, esn=False, **kw):
    """A hand-built AES-CBC/HMAC-SHA256 ESP echo request (transport)."""
    s, p = echo()
    esp = ks.esp_cbc_hmac(spi, seq, CBC["crypt_key"], "hmac(sha256)", CBC["auth_key"],
                          128, bytes(p[ks.ICMP]), 1, esn=esn, **kw)
    return s, ks.ip_esp(B4, A4, esp)


REPLAY = {"in_replay": 1}
NREPLAY = {"XfrmInStateSeqError": 1}


def times(d, n):
    return {k: v * n for k, v in d.items()}


def replay_case(spi, window):
    """In order, duplicates, far ahead, too old, the window's edge."""
    imp.sa_add(B4, A4, spi, GCM_WORDS, replay=window)
    sa = gcm_sa(spi)
    ref = (B4, A4, spi)
    w = f"window {window}"
    first = [gcm_echo(sa, q) for q in range(1, 6)]
    step(f"{w}: seq 1..5 in order accepted", first, [s for s, _ in first], {}, {}, ref)
    step(f"{w}: seq 2 and 4 resent are replays", [first[1], first[3]], [],
         times(REPLAY, 2), times(NREPLAY, 2), ref)
    top = window + 100
    far = gcm_echo(sa, top)
    step(f"{w}: seq {top} far ahead accepted", [far], [far[0]], {}, {}, ref)
    old = gcm_echo(sa, top - window)
    step(f"{w}: seq {top - window} (top - window, unseen) too old", [old], [],
         REPLAY, NREPLAY, ref)
    edge = [gcm_echo(sa, top - window + 1), gcm_echo(sa, top - 1)]
    step(f"{w}: unseen seq {top - window + 1} (window edge) and {top - 1} accepted",
         edge, [s for s, _ in edge], {}, {}, ref)
    step(f"{w}: seq {top} and {top - 1} resent are replays", [far, edge[1]], [],
         times(REPLAY, 2), times(NREPLAY, 2), ref)
    if window == 64:
        # RFC 4303 3.3.3: the counter starts at 1, 0 is never sent.
        step(f"{w}: seq 0 dropped", [gcm_echo(sa, 0)], [], REPLAY, NREPLAY, ref)


def window_fill_case(spi, window):
    """make stress: a whole window of unseen numbers in random order (all
    accepted), all of them again (all replays), then two too old."""
    imp.sa_add(B4, A4, spi, GCM_WORDS, replay=window)
    sa = gcm_sa(spi)
    ref = (B4, A4, spi)
    w = f"window {window} filled"
    top = 2 * window
    seqs = list(range(top - window + 1, top + 1))
    random.shuffle(seqs)
    pkts = [gcm_echo(sa, q) for q in seqs]
    step(f"{w}: {window} unseen in random order accepted", pkts,
         [s for s, _ in pkts], {}, {}, ref, burst=64)
    random.shuffle(pkts)
    step(f"{w}: all {window} again are replays", pkts, [],
         times(REPLAY, window), times(NREPLAY, window), ref, burst=64)
    old = [gcm_echo(sa, top - window), gcm_echo(sa, 1)]
    step(f"{w}: {top - window} and 1 too old", old, [], times(REPLAY, 2),
         times(NREPLAY, 2), ref)


def esn_case(spi, name):
    """ESN SA whose inbound top is 2^32 - 16; traffic crosses 2^32."""
    base = 1 << 32
    imp.sa_add(B4, A4, spi, GCM_WORDS if name == "gcm128" else CBC_WORDS,
               replay=64, esn=True, seq_in=base - 16)
    ref = (B4, A4, spi)
    if name == "gcm128":
        sa = ks.scapy_sa("esp", spi, GCM, esn=True)

        def mk(seq, auth_seq=None):
            s, p = echo()
            if auth_seq is not None:     # authenticate another high half
                seq = (auth_seq & ~0xffffffff) | (seq & 0xffffffff)
            return s, ks.encrypt_seq64(sa, p, seq)
    else:
        def mk(seq, auth_seq=None):
            if auth_seq is not None:
                seq = (auth_seq & ~0xffffffff) | (seq & 0xffffffff)
            return cbc_echo(spi, seq, esn=True)
    e = f"ESN {name}"
    seqs = [base - 15, base - 2, base - 1, base, base + 1, base + 5]
    cross = [mk(q) for q in seqs]
    step(f"{e}: 2^32-15, -2, -1, 2^32, +1, +5 accepted", cross,
         [s for s, _ in cross], {}, {}, ref)
    back = mk(base - 8)
    step(f"{e}: 2^32-8 (previous epoch, in window, unseen) accepted", [back],
         [back[0]], {}, {}, ref)
    step(f"{e}: 2^32-8 and 2^32+1 resent are replays", [back, cross[4]], [],
         times(REPLAY, 2), times(NREPLAY, 2), ref)
    wrong = mk(base + 6, auth_seq=0)
    step(f"{e}: 2^32+6 authenticated with high half 0 fails the ICV", [wrong], [],
         {"in_auth_fail": 1}, {"XfrmInStateProtoError": 1}, ref)
    good = mk(base + 6)
    step(f"{e}: genuine 2^32+6 accepted after the forgery", [good], [good[0]],
         {}, {}, ref)


def forged_case(spi):
    imp.sa_add(B4, A4, spi, GCM_WORDS)
    sa = gcm_sa(spi)
    ref = (B4, A4, spi)
    # The forgeries carry other echo requests than the genuine packets
    # with the same ESP sequence numbers, so each reply tells which came in.
    f1, f2 = gcm_echo(sa, 1), gcm_echo(sa, 2)
    bad_icv = (f1[0], ks.flip_bit(f1[1], 1))
    bad_ct = (f2[0], ks.flip_bit(f2[1], 16 + 6))     # before the 16-byte ICV
    p1, p2 = gcm_echo(sa, 1), gcm_echo(sa, 2)
    auth = ({"in_auth_fail": 1}, {"XfrmInStateProtoError": 1})
    step("flipped ICV bit: ICV fails", [bad_icv], [], *auth, ref)
    step("flipped ciphertext bit: ICV fails", [bad_ct], [], *auth, ref)
    step("genuine seq 1 and 2 accepted after their forgeries", [p1, p2],
         [p1[0], p2[0]], {}, {}, ref)
    return sa


def truncated_case(spi, sa):
    ref = (B4, A4, spi)
    full = bytes(ks.encrypt(sa, ks.echo(B4, A4, 0), 10)[ks.ESP])
    hdr_only = ks.ip_esp(B4, A4, full[:8])
    short = ks.ip_esp(B4, A4, ks.ESP(spi=spi, seq=11).build() + b"\0" * 16)
    spi_only = ks.ip_esp(B4, A4, full[:4])
    # Native counts both under its one protocol-error counter.
    step("ESP header only: truncated", [(None, hdr_only)], [],
         {"in_truncated": 1}, {"XfrmInStateProtoError": 1}, ref)
    step("ESP shorter than IV + ICV: truncated", [(None, short)], [],
         {"in_truncated": 1}, {"XfrmInStateProtoError": 1}, ref)
    step("ESP shorter than its header: truncated", [(None, spi_only)], [],
         {"in_truncated": 1}, {"XfrmInHdrError": 1})


def padding_case(spi):
    imp.sa_add(B4, A4, spi, CBC_WORDS)
    ref = (B4, A4, spi)
    # A 56-byte ICMP echo needs 6 pad bytes: 1..6 by RFC 4303 2.4.
    bad = cbc_echo(spi, 1, padding=b"\x07" * 6)
    # Linux's native ESP does not inspect the pad bytes: there the packet
    # is delivered, which proves its ICV and layout are right.
    step("pad bytes not 1, 2, 3...: bad padding", [bad], [], {"in_bad_pad": 1}, {},
         ref, accepted_native=[bad[0]])
    huge = cbc_echo(spi, 2, padlen=250)
    step("pad length beyond the payload: bad padding", [huge], [],
         {"in_bad_pad": 1}, {"XfrmInStateProtoError": 1}, ref)
    good = cbc_echo(spi, 3)
    step("hand-built CBC/HMAC ESP with RFC padding accepted", [good], [good[0]],
         {}, {}, ref)


def unknown_spi_case():
    p = gcm_echo(gcm_sa(0x3999), 1)
    step("unknown SPI: no SA", [p], [], {"in_no_sa": 1}, {"XfrmInNoStates": 1})


def selector_case(spi):
    """Tunnel SAs of reqid 2; an IN policy 10.9.9.0/24 -> a uses them."""
    imp.policy_add("in", "10.9.9.0/24", A4, B4, A4, "tunnel", reqid=2)
    imp.sa_add(B4, A4, spi, GCM_WORDS, mode="tunnel", reqid=2)
    imp.sa_add(B4, A4, spi + 1, GCM_WORDS, mode="tunnel", reqid=2,
               sel=("10.9.9.1/32", f"{A4}/32"))
    for k, (inner_bad, native_reason, what) in enumerate((
            ("10.8.8.8", "XfrmInNoPols", "no IN policy for the inner header"),
            ("10.9.9.2", "XfrmInStateMismatch", "inner header outside the SA's selector"))):
        s = spi + k
        sa = gcm_sa(s, "tunnel")
        ref = (B4, A4, s)
        good = gcm_echo(sa, 1, src="10.9.9.1")
        step(f"tunnel SA {s:#x}: inner 10.9.9.1 accepted", [good], [good[0]], {}, {}, ref)
        bad = gcm_echo(sa, 2, src=inner_bad)
        # Native counts the packet on the SA (decrypted) before its policy
        # check drops it; kipsec counts only what it accepts.
        step(f"tunnel SA {s:#x}: inner {inner_bad}: {what}", [bad], [],
             {"in_policy_mismatch": 1}, {native_reason: 1}, ref, sa_native=1)


def cleartext_case():
    s, p = echo()
    step("cleartext echo matching the PROTECT in policy dropped", [(s, p)], [],
         {"in_cleartext": 1}, {"XfrmInTmplMismatch": 1})


imp.sa_add(A4, B4, SPI_OUT, GCM_WORDS)
imp.policy_add("out", A4, B4, A4, B4)
imp.policy_add("in", B4, A4, B4, A4)
sa_out = gcm_sa(SPI_OUT, src=A4, dst=B4)
cap = ks.Capture("inbound", "m", "m0")
t.diag(f"setup took {time.time() - T0:.1f} s")

for i, w in enumerate((32, 64, 1024, 4096)):
    replay_case(0x3100 + i, w)
if ks.STRESS:
    for i, w in enumerate((32, 64, 1024, 4096)):
        window_fill_case(0x3110 + i, w)
t.diag(f"replay took {time.time() - T0:.1f} s")
esn_case(0x3200, "gcm128")
esn_case(0x3201, "cbc-sha256")
t.diag(f"esn took {time.time() - T0:.1f} s")
sa_f = forged_case(0x3300)
truncated_case(0x3300, sa_f)
padding_case(0x3400)
unknown_spi_case()
selector_case(0x3500)
cleartext_case()
t.diag(f"drops took {time.time() - T0:.1f} s")

replies = ks.echo_replies(cap.stop(), sa_out, SPI_OUT)
for desc, (seqs, want) in sent.items():
    if seqs:
        t.eq(f"{desc}: echo replies on the wire", sorted(q for q in replies if q in seqs), want)
everything = sorted(q for _, want in sent.values() for q in want)
t.eq("no other echo reply on the wire", sorted(replies), everything)
t.diag(f"took {time.time() - T0:.1f} s")
imp.unload()
t.done()
