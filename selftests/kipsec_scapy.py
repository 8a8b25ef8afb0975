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


# --- implementation under test (kipsec, or native XFRM to validate tests) ---
#
# Datapath tests are written against Impl so that every assertion can first
# be checked against the native XFRM stack (KIPSEC_TEST_IMPL=native) before
# kipsec's datapath exists. Each drop reason has kipsec's counter name (the
# contract: uapi/linux/kipsec.h, enum kipsec_stat) and the native
# /proc/net/xfrm_stat counter that sees the same packet.

IMPL = os.environ.get("KIPSEC_TEST_IMPL", "kipsec")


def _first(d):
    return d[0] if isinstance(d, list) else d


def native_xfrm_stat():
    """/proc/net/xfrm_stat of the calling thread's namespace as a dict."""
    out = {}
    with open("/proc/self/net/xfrm_stat") as f:
        for line in f:
            k, v = line.split()
            out[k] = int(v)
    return out


def native_sa_stats(ns, src, dst, spi, proto="esp"):
    """Native SA counters: packets, and the stats line (replay-window,
    replay, failed = integrity failures)."""
    out = sh(f"ip -n {ns} -s xfrm state get src {src} dst {dst} proto {proto} spi {spi:#x}")
    lines = out.splitlines()
    res = {}
    for i, line in enumerate(lines):
        if "lifetime current" in line:
            res["packets"] = int(lines[i + 1].split()[1].split("(")[0])
        w = line.split()
        if w[:1] == ["replay-window"] and "failed" in w:
            res.update(replay_window=int(w[1]), replay=int(w[3]), failed=int(w[5]))
    return res


class Impl:
    """The IPsec implementation in namespace ns: kipsec (default) or the
    native XFRM stack, with the same calls."""

    def __init__(self, ns="a", name=IMPL):
        if name not in ("kipsec", "native"):
            raise ValueError(f"KIPSEC_TEST_IMPL={name}: kipsec or native")
        self.ns = ns
        self.name = name
        self.kipsec = name == "kipsec"

    def load(self):
        # The native modules in both cases: without esp4/esp6 the peer
        # namespace's kernel answers ESP it has no SA for with ICMP
        # "protocol unreachable" instead of dropping it, and those errors
        # reach the implementation under test as extra cleartext.
        sh(f"bash -c '. {TOP}/selftests/lib.sh >/dev/null; "
           f". {TOP}/selftests/net.sh; native_modules'")
        if self.kipsec and not os.path.isdir("/sys/module/kipsec"):
            sh(f"insmod {os.environ['KIPSEC_KO']}")

    def unload(self):
        sh("ip -all netns delete", check=False)
        if self.kipsec and os.path.isdir("/sys/module/kipsec"):
            sh("rmmod kipsec")

    def _k(self, args):
        """kipsec -n NS ARGS: the words split as the shell would (they
        hold no shell syntax), kipsec started without a shell in between
        (each process start costs under TCG); errors as sh() reports
        them."""
        cmd = f"{KIPSEC} -n {self.ns} {args}"
        p = subprocess.run([KIPSEC, "-n", self.ns] + shlex.split(args),
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd}: exit {p.returncode}: {p.stderr.strip()}")
        return p.stdout

    def flush(self):
        if self.kipsec:
            self._k("sa flush")
            self._k("policy flush")
        else:
            sh(f"ip -n {self.ns} xfrm state flush; ip -n {self.ns} xfrm policy flush")

    def sa_add(self, src, dst, spi, words, mode="transport", reqid=1,
               replay=64, esn=False, seq_in=None, sel=None, proto="esp"):
        """One SA. words: algorithm in ip-xfrm words; seq_in: highest
        inbound sequence number already seen (64 bits with esn); sel:
        (src prefix, dst prefix); proto: esp or ah."""
        extra = f" replay-window {replay}"
        if esn:
            extra += " flag esn"
        # Native AH after IPv4 takes and sends 64-bit aligned AH unless
        # told align4; kipsec sends RFC 4302's 32 bits and takes both.
        if proto == "ah" and not self.kipsec and ":" not in dst:
            extra += " flag align4"
        if seq_in is not None:
            if self.kipsec:
                extra += f" seq-in {seq_in:#x}"
            else:
                extra += f" replay-seq {seq_in & 0xffffffff:#x} replay-seq-hi {seq_in >> 32:#x}"
        if sel:
            extra += f" sel src {sel[0]} dst {sel[1]}"
        if self.kipsec:
            self._k(f"sa add src {src} dst {dst} proto {proto} spi {spi:#x} mode {mode} "
                    f"reqid {reqid} {words}{extra}")
        else:
            sh(f"ip -n {self.ns} xfrm state add src {src} dst {dst} proto {proto} spi {spi:#x} "
               f"mode {mode} reqid {reqid}{extra} {words}")

    def policy_add(self, dir, ssel, dsel, tsrc, tdst, mode="transport", reqid=1,
                   proto="esp"):
        """A PROTECT policy with one template (proto: esp or ah)."""
        if self.kipsec:
            self._k(f"policy add dir {dir} src {ssel} dst {dsel} action protect "
                    f"tmpl proto {proto} mode {mode} src {tsrc} dst {tdst} reqid {reqid}")
        else:
            sh(f"ip -n {self.ns} xfrm policy add dir {dir} src {ssel} dst {dsel} "
               f"tmpl src {tsrc} dst {tdst} proto {proto} mode {mode} reqid {reqid}")

    def counters(self):
        """Namespace counters: kipsec's `kipsec -j stats`, or the native
        /proc/net/xfrm_stat."""
        if self.kipsec:
            return dict(_first(json.loads(self._k("-j stats")))["stats"])
        with netns(self.ns):
            return native_xfrm_stat()

    def watched(self, counters):
        """The counters whose every change a datapath test accounts for:
        kipsec's inbound ones (in_packets and every drop reason), or every
        native XFRM error counter."""
        if self.kipsec:
            return [k for k in counters if k.startswith("in_") and k != "in_bytes"]
        return list(counters)

    def sa_in_packets(self, src, dst, spi, proto="esp"):
        """Packets the SA accepted."""
        if self.kipsec:
            d = _first(json.loads(self._k(f"-j -s sa get dst {dst} proto {proto} spi {spi:#x}")))
            return d["stats"]["in_packets"]
        return native_sa_stats(self.ns, src, dst, spi, proto)["packets"]

    def reading(self, sa=None):
        """(counters(), sa_in_packets(*sa) or 0): for kipsec in one
        process (each start costs under TCG)."""
        if not self.kipsec:
            return self.counters(), self.sa_in_packets(*sa) if sa else 0
        if not sa:
            return self.counters(), 0
        src, dst, spi, proto = (tuple(sa) + ("esp",))[:4]
        out = sh(f"{KIPSEC} -n {self.ns} -j stats; echo @@; "
                 f"{KIPSEC} -n {self.ns} -j -s sa get dst {dst} proto {proto} spi {spi:#x}")
        stats, sa_out = out.split("@@")
        return (dict(_first(json.loads(stats))["stats"]),
                _first(json.loads(sa_out))["stats"]["in_packets"])


def send_paced(ns, pkts, burst=64, pause=0.05):
    """send_in in bursts, so that long series fit the receive backlog and
    the crypto queues (cryptd holds 1000 requests per CPU)."""
    for i in range(0, len(pkts), burst):
        send_in(ns, pkts[i:i + burst])
        time.sleep(pause)


def counter_delta(impl, before, after):
    """{counter: change} for the watched counters that changed."""
    return {k: after.get(k, 0) - before.get(k, 0)
            for k in impl.watched(after) if after.get(k, 0) != before.get(k, 0)}


def settle(secs=0.3):
    """Let the packets just sent cross veth, m and the (async) crypto."""
    time.sleep(secs)


# --- ESP built by hand (python3-cryptography and hmac, not scapy) ---------

_HMAC_HASHES = {"hmac(sha1)": "sha1", "hmac(sha256)": "sha256",
                "hmac(sha384)": "sha384", "hmac(sha512)": "sha512"}


def esp_cbc_hmac(spi, seq, enc_key, auth_name, auth_key, icv_bits, payload, nh,
                 esn=False, padding=None, padlen=None, iv=None):
    """The bytes of an ESP packet (header to ICV) with AES-CBC and HMAC-SHA*,
    built from RFC 4303 directly: lets a test choose the pad bytes and the
    pad length byte freely (with a valid ICV) and, with esn, authenticates
    the high 32 bits of the 64-bit seq after the packet (RFC 4303 2.2.1),
    which scapy 2.5 does not do for non-AEAD ESP."""
    import hashlib
    import hmac
    import struct
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    if padding is None:
        padding = bytes(range(1, -(len(payload) + 2) % 16 + 1))
    trailer = bytes([len(padding) if padlen is None else padlen, nh])
    plain = payload + padding + trailer
    if len(plain) % 16:
        raise ValueError("ESP payload not a multiple of the AES block")
    iv = iv or os.urandom(16)
    enc = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor()
    body = struct.pack("!II", spi, seq & 0xffffffff) + iv + enc.update(plain) + enc.finalize()
    signed = body + (struct.pack("!I", seq >> 32) if esn else b"")
    icv = hmac.new(auth_key, signed, getattr(hashlib, _HMAC_HASHES[auth_name])).digest()
    return body + icv[:icv_bits // 8]


def encrypt_seq64(sa, pkt, seq):
    """scapy ESP with a 64-bit sequence number (the SA made with esn=True):
    the low half goes on the wire, the high half into the AEAD's AAD.
    scapy treats seq_num=0 and esn=0 arguments as "not given", so the SA's
    own fields carry them."""
    sa.esn_en = True
    sa.esn = seq >> 32
    sa.seq_num = seq & 0xffffffff
    return sa.encrypt(pkt)


def ip_esp(src, dst, esp_bytes):
    """An IPv4/IPv6 packet carrying raw ESP bytes."""
    if ":" in dst:
        return IPv6(src=src, dst=dst, nh=50) / Raw(load=esp_bytes)
    return IP(src=src, dst=dst, proto=50) / Raw(load=esp_bytes)


def flip_bit(pkt, offset_from_end):
    """A copy of an IP packet with one bit flipped offset_from_end bytes
    before its end (1 = the last byte, i.e. the ICV's)."""
    raw = bytearray(bytes(pkt))
    raw[len(raw) - offset_from_end] ^= 0x01
    return pkt.__class__(bytes(raw))


def echo_replies(pkts, sa_out, spi_out, ident=0x4b50):
    """ICMP echo-reply sequence numbers seen on the wire: from ESP packets
    of spi_out (decrypted with sa_out) and in clear."""
    from scapy.layers.inet6 import ICMPv6EchoReply
    seqs = []
    for p in pkts:
        ip = p.getlayer(IPv6) or p.getlayer(IP)
        if ip is None:
            continue
        if ip.haslayer(ESP):
            if ip[ESP].spi != spi_out:
                continue
            try:
                ip = sa_out.decrypt(ip.__class__(bytes(ip)))
            except Exception:  # noqa: BLE001 - not ours to judge here
                continue
        if ip.haslayer(ICMP) and ip[ICMP].type == 0 and ip[ICMP].id == ident:
            seqs.append(ip[ICMP].seq)
        elif ip.haslayer(ICMPv6EchoReply) and ip[ICMPv6EchoReply].id == ident:
            seqs.append(ip[ICMPv6EchoReply].seq)
    return seqs


class Expect:
    """Send packets from namespace src_ns into impl and check exact deltas.

    step() reads the namespace counters (and one SA's accepted packets)
    before and after, and compares every watched counter's change with the
    expectation of the implementation under test: kipsec's counters (the
    contract) in kipsec mode, the native ones in native mode. A counter
    not named must not move.

    The reading after a step is the next step's baseline (the namespace's
    counters live as long as it does), so a counter that moves late, after
    its step's reading, fails the next step instead of going unseen. That
    lets a step read as soon as everything it expects has moved, rather
    than after a fixed settling time; it waits up to 5 s (10 s for
    bursts). A step that expects nothing to move still waits the fixed
    time."""

    def __init__(self, t, impl, src_ns="b"):
        self.t = t
        self.impl = impl
        self.src_ns = src_ns
        self.last = None

    def step(self, desc, pkts, kipsec, native, sa=None, sa_kipsec=0, sa_native=None,
             burst=None):
        """kipsec/native: {counter: delta}; sa: (src, dst, spi[, proto])
        whose accepted packets must grow by sa_kipsec (sa_native in native
        mode, default the same); burst: send that many packets at a time,
        with a pause between bursts (long series)."""
        imp = self.impl
        want = {k: v for k, v in (kipsec if imp.kipsec else native).items() if v}
        n = sa_kipsec if imp.kipsec or sa_native is None else sa_native
        before = self.last if self.last is not None else imp.counters()
        sa_before = imp.sa_in_packets(*sa) if sa else 0
        if burst:
            send_paced(self.src_ns, pkts, burst)
        else:
            send_in(self.src_ns, pkts)
        if not want and not (sa and n):
            settle(1.0 if burst else 0.3)
        deadline = time.time() + (10 if burst else 5)
        while True:
            after, sa_after = imp.reading(sa)
            delta = counter_delta(imp, before, after)
            got = sa_after - sa_before
            if (delta == want and (not sa or got == n)) or time.time() > deadline:
                break
            time.sleep(0.1)
        self.last = after
        ok = self.t.eq(f"{desc}: counters", delta, want)
        if sa:
            ok &= self.t.eq(f"{desc}: SA {sa[2]:#x} accepted {n}", got, n)
        return ok
