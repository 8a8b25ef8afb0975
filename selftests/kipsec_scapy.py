# SPDX-License-Identifier: GPL-2.0
"""Test helpers in Python, and an independent ESP peer on scapy's own ESP.

Datapath tests that talk to scapy are Python scripts (selftests/tests/*.py)
so that scapy is imported once per test: under TCG each import costs many
seconds. They run in the guest like the shell tests and print KTAP.

Algorithms are given as `ip xfrm` and `kipsec` take them (kernel crypto API
names, AEAD keys with their salt at the end), so one table serves the three.
"""

import copy
import ctypes
import json
import os
import shlex
import socket
import subprocess
import sys
import time

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6
from scapy.layers.ipsec import AH, ESP, CRYPT_ALGOS, SecurityAssociation
from scapy.packet import Raw
from scapy.utils import rdpcap

KIPSEC = os.environ.get("KIPSEC", "kipsec")
TOP = os.environ.get("KIPSEC_TOP", "")


class Ktap:
    """KTAP test points, as lib.sh prints them."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        print("KTAP version 1", flush=True)

    def diag(self, text):
        for line in str(text).splitlines() or [""]:
            print(f"# {line}", flush=True)

    def ok(self, desc):
        self.n += 1
        print(f"ok {self.n} {desc}", flush=True)

    def fail(self, desc, why=None):
        self.n += 1
        self.failed += 1
        print(f"not ok {self.n} {desc}", flush=True)
        if why:
            self.diag(why)

    def check(self, desc, cond, why=None):
        (self.ok if cond else self.fail)(desc, *([why] if not cond else []))
        return cond

    def eq(self, desc, got, want):
        return self.check(desc, got == want, f"got {got!r}, expected {want!r}")

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def sh(cmd, check=True):
    """Run a shell command line; return stdout. Raise with stderr on error."""
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"{cmd}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


_libc = ctypes.CDLL("libc.so.6", use_errno=True)
CLONE_NEWNET = 0x40000000


class netns:
    """with netns("b"): sockets opened inside belong to namespace b."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        self.back = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"/run/netns/{self.name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)

    def __exit__(self, *exc):
        _libc.setns(self.back, CLONE_NEWNET)
        os.close(self.back)


class Capture:
    """tcpdump in a namespace, into /tmp/NAME.pcap; packets() reads it."""

    def __init__(self, name, ns, dev):
        self.path = f"/tmp/{name}.pcap"
        log = open(f"/tmp/{name}.log", "w")
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", ns, "tcpdump", "-i", dev,
             "--immediate-mode", "-U", "-n", "-s", "0", "-w", self.path],
            stdout=log, stderr=log)
        for _ in range(200):
            if "listening on" in open(f"/tmp/{name}.log").read():
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("tcpdump did not start")

    def stop(self):
        time.sleep(0.3)
        self.p.terminate()
        self.p.wait()
        return rdpcap(self.path)


# --- algorithms -----------------------------------------------------------

AEADS = {
    "rfc4106(gcm(aes))": "AES-GCM",
    "rfc4309(ccm(aes))": "AES-CCM",
    "rfc7539esp(chacha20,poly1305)": "CHACHA20-POLY1305",
}
CIPHERS = {
    "cbc(aes)": "AES-CBC",
    "rfc3686(ctr(aes))": "AES-CTR",
    "ecb(cipher_null)": "NULL",
}
AUTHS = {
    ("hmac(sha1)", 96): "HMAC-SHA1-96",
    ("hmac(sha256)", 128): "SHA2-256-128",
    ("hmac(sha384)", 192): "SHA2-384-192",
    ("hmac(sha512)", 256): "SHA2-512-256",
    ("cmac(aes)", 96): "AES-CMAC-96",
}


def key_bytes(s):
    """A key as ip xfrm takes it: 0xHEX, or a literal string."""
    if s.startswith("0x"):
        return bytes.fromhex(s[2:])
    return s.encode()


def parse_alg(words):
    """ip-xfrm words ("aead NAME KEY BITS" / "enc NAME KEY auth-trunc NAME
    KEY BITS") into a dict usable by scapy_sa(); None if scapy lacks it."""
    w = shlex.split(words) if isinstance(words, str) else list(words)
    kw = {}
    i = 0
    while i < len(w):
        if w[i] == "aead":
            name, key, bits = w[i + 1], w[i + 2], int(w[i + 3])
            # scapy 2.5 keeps the last bytes of the AEAD tag, not the first,
            # when the ICV is truncated: only full-length tags interoperate.
            if name not in AEADS or bits != 128:
                return None
            algo = copy.copy(CRYPT_ALGOS[AEADS[name]])
            algo.icv_size = bits // 8
            tag = f"kipsec-{name}-{bits}"
            CRYPT_ALGOS[tag] = algo
            kw.update(crypt_algo=tag, crypt_key=key_bytes(key))
            i += 4
        elif w[i] == "enc":
            if w[i + 1] not in CIPHERS:
                return None
            kw.update(crypt_algo=CIPHERS[w[i + 1]], crypt_key=key_bytes(w[i + 2]))
            i += 3
        elif w[i] in ("auth-trunc", "auth"):
            alg = AUTHS.get((w[i + 1], int(w[i + 3])))
            if not alg:
                return None
            kw.update(auth_algo=alg, auth_key=key_bytes(w[i + 2]))
            i += 4
        else:
            raise ValueError(f"unknown algorithm word {w[i]!r}")
    return kw


def scapy_sa(proto, spi, alg_kw, mode="transport", src=None, dst=None,
             esn=False, udp_encap=None):
    kw = dict(alg_kw)
    kw["spi"] = spi
    if esn:
        kw["esn_en"] = True
    if udp_encap:
        kw["nat_t_header"] = UDP(sport=udp_encap[0], dport=udp_encap[1])
    if mode == "tunnel":
        kw["tunnel_header"] = (IPv6 if ":" in src else IP)(src=src, dst=dst)
    return SecurityAssociation(ESP if proto == "esp" else AH, **kw)


def echo(src, dst, seq, payload=b"KIPSEC-SCAPY", size=48):
    data = Raw(load=(payload * (size // len(payload) + 1))[:size])
    if ":" in dst:
        return IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=0x4b50, seq=seq) / data
    return IP(src=src, dst=dst) / ICMP(id=0x4b50, seq=seq) / data


def encrypt(sa, pkt, seq):
    return sa.encrypt(pkt, seq_num=seq)


def send_in(ns, pkts):
    """Send IP packets, headers as built, from network namespace ns.

    Raw IPPROTO_RAW sockets (header included, for IPv6 too) opened inside
    the namespace: scapy's own send() routes with the table it read at
    import time, in the namespace the test started in."""
    with netns(ns):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    try:
        for p in pkts:
            if p.haslayer(IPv6):
                s6.sendto(bytes(p), (p[IPv6].dst, 0))
            else:
                s4.sendto(bytes(p), (p[IP].dst, 0))
    finally:
        s4.close()
        s6.close()


def decrypt_all(sa, pkts, spi, proto="esp", text=None):
    """Decrypt every packet of SPI in pkts: {packets, ok, failed, text, seqs}."""
    layer = ESP if proto == "esp" else AH
    res = {"packets": 0, "ok": 0, "failed": 0, "text": 0, "seqs": [],
           "errors": []}
    for p in pkts:
        ip = p.getlayer(IPv6) or p.getlayer(IP)
        if ip is None or not ip.haslayer(layer) or ip[layer].spi != spi:
            continue
        res["packets"] += 1
        res["seqs"].append(ip[layer].seq)
        try:
            inner = sa.decrypt(ip.__class__(bytes(ip)))
            res["ok"] += 1
            if text and text in bytes(inner):
                res["text"] += 1
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            res["failed"] += 1
            if len(res["errors"]) < 3:
                res["errors"].append(repr(e))
    return res


def xfrm_packets(ns, src, dst, spi, proto="esp"):
    """Packets counted by a native XFRM SA (ip -s xfrm state get)."""
    out = sh(f"ip -n {ns} -s xfrm state get src {src} dst {dst} proto {proto} spi {spi:#x}")
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if "lifetime current" in line:
            return int(lines[i + 1].split()[1].split("(")[0])
    raise RuntimeError(f"no counters in: {out}")


def load_algs(subset=None):
    """The algorithm table of selftests/algs.sh: [(name, xfrm words, scapy)],
    only the names in subset if given."""
    out = sh(f"bash -c '. {TOP}/selftests/algs.sh; for i in \"${{!ALG_NAME[@]}}\"; do "
             f"printf \"%s\\t%s\\n\" \"${{ALG_NAME[$i]}}\" \"${{ALG_XFRM[$i]}}\"; done'")
    table = []
    for line in out.splitlines():
        name, words = line.split("\t")
        if subset and name not in subset:
            continue
        table.append((name, words, parse_alg(words)))
    return table


# make check runs a covering subset of the algorithm table, make stress all.
CHECK_ALGS = ("gcm128", "ccm128", "chacha", "cbc-sha256", "ctr-sha256",
              "null-sha256")
STRESS = os.environ.get("KIPSEC_STRESS") == "1"


def jsonout(cmd):
    return json.loads(sh(cmd))
