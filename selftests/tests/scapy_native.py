# SPDX-License-Identifier: GPL-2.0
"""The independent peer (kipsec_scapy, on scapy's ESP) checked against the
native XFRM stack: scapy encrypts echo requests that the native stack must
accept, and decrypts the native replies from the wire. If this fails, the
scapy interop tests of kipsec mean nothing."""

import os
import sys

sys.path.insert(0, os.path.join(os.environ["KIPSEC_TOP"], "selftests"))
import kipsec_scapy as ks  # noqa: E402

t = ks.Ktap()
ks.sh(f"bash -c '. {ks.TOP}/selftests/lib.sh >/dev/null; . {ks.TOP}/selftests/net.sh; native_modules; topo_hosts'")
A4, B4 = "10.0.1.1", "10.0.2.1"
for k, (name, words, alg) in enumerate(
        ks.load_algs(None if ks.STRESS else ks.CHECK_ALGS)):
    if alg is None:
        continue
    modes = ("transport", "tunnel") if ks.STRESS else (("transport", "tunnel")[k % 2],)
    for mode in modes:
        ks.sh("ip -n a xfrm state flush; ip -n a xfrm policy flush")
        for (s, d, spi) in ((B4, A4, 0x3001), (A4, B4, 0x3002)):
            ks.sh(f"ip -n a xfrm state add src {s} dst {d} proto esp spi {spi} "
                  f"mode {mode} reqid 1 replay-window 64 {words}")
        ks.sh(f"ip -n a xfrm policy add dir in src {B4} dst {A4} tmpl src {B4} dst {A4} proto esp mode {mode} reqid 1")
        ks.sh(f"ip -n a xfrm policy add dir out src {A4} dst {B4} tmpl src {A4} dst {B4} proto esp mode {mode} reqid 1")
        sa_in = ks.scapy_sa("esp", 0x3001, alg, mode, B4, A4)
        sa_out = ks.scapy_sa("esp", 0x3002, alg, mode, A4, B4)
        cap = ks.Capture("wire", "m", "m0")
        ks.send_in("b", [ks.encrypt(sa_in, ks.echo(B4, A4, i, b"SCAPYMARK"), i)
                         for i in (1, 2, 3)])
        pkts = cap.stop()
        t.eq(f"{name} {mode}: native accepts scapy's ESP (3 packets)",
             ks.xfrm_packets("a", B4, A4, 0x3001), 3)
        r = ks.decrypt_all(sa_out, pkts, 0x3002, text=b"SCAPYMARK")
        t.eq(f"{name} {mode}: scapy decrypts the 3 native replies",
             (r["ok"], r["failed"], r["text"]), (3, 0, 3))
t.done()
