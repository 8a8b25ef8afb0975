#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Offline test aid: a tiny stand-in for the kipsec module's netlink API.

Listens on a SOCK_SEQPACKET Unix socket (argv[1]); nlshim.so connects the
CLI to it. It stores SAs and policies as the attributes it was sent and
returns them, so it checks the CLI's encoding and decoding, not kernel
semantics. Usage: mock_kernel.py /tmp/kipsec.sock &
"""
import os, random, socket, struct, sys, threading

FAMILY = 0x20
NLMSG_ERROR, NLMSG_DONE = 2, 3
F_REQUEST, F_MULTI, F_ACK, F_DUMP = 1, 2, 4, 0x300
F_CAPPED, F_ACK_TLVS = 0x100, 0x200

(C_GET_STATS, C_SET_CONFIG, C_SA_NEW, C_SA_UPDATE, C_SA_DEL, C_SA_GET,
 C_SA_FLUSH, C_SA_GETSPI, C_SA_EXPIRE, C_SA_MAPPING, C_POL_NEW, C_POL_UPDATE,
 C_POL_DEL, C_POL_GET, C_POL_FLUSH, C_ACQUIRE, C_ALGS, C_EXPLAIN) = range(1, 19)
A_VERSION, A_STATS, A_CONFIG, A_SA_COUNT, A_POL_COUNT, A_SA, A_POLICY, \
    A_FLAGS, A_PROTO, A_DIR, A_SPI_MIN, A_SPI_MAX, A_HARD, A_ALG, A_EXPLAIN = range(1, 16)
SA_SPI, SA_DST, SA_PROTO, SA_SRC, SA_MODE = 1, 2, 3, 4, 5
SA_AEAD, SA_CRYPT, SA_AUTH, SA_REPLAY = 7, 8, 9, 10
SA_STATE, SA_CURLFT, SA_STATS = 19, 20, 21
ALG_NAME, ALG_KEY, ALG_ICV = 1, 2, 3
POL_ID, POL_DIR, POL_PRIO, POL_ACTION, POL_SEL, POL_TMPLS, POL_STATS = 1, 2, 3, 4, 5, 6, 7

lock = threading.Lock()
sas = {}        # (spi bytes, dst bytes, proto) -> {type: payload}
pols = {}       # id -> {type: payload}
next_id = [1]
config = {1: 0, 2: 0, 3: 0}
ALGS = [("rfc4106(gcm(aes))", 0, 128), ("cbc(aes)", 1, 0),
        ("hmac(sha1)", 2, 96), ("hmac(sha256)", 2, 128),
        ("hmac(sha384)", 2, 192), ("hmac(sha512)", 2, 256)]


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * ((4 - n % 4) % 4)


def attrs(buf):
    out, off = [], 0
    while off + 4 <= len(buf):
        n, t = struct.unpack_from("=HH", buf, off)
        if n < 4:
            break
        out.append((t & 0x3fff, buf[off + 4:off + n]))
        off += (n + 3) & ~3
    return out


def adict(buf):
    return dict(attrs(buf))


def enc(d):
    return b"".join(attr(t, v) for t, v in sorted(d.items()))


def u8(v): return struct.pack("=B", v)
def u32(v): return struct.pack("=I", v)
def u64(v): return struct.pack("=Q", v)


class Err(Exception):
    def __init__(self, errno, msg=""):
        self.errno, self.msg = errno, msg


def msg(seq, cmd, payload, flags=0):
    body = struct.pack("=BBH", cmd, 1, 0) + payload
    return struct.pack("=IHHII", 16 + len(body), FAMILY, flags, seq, 4242) + body


def ack(hdr, errno=0, text=""):
    n, t, f, seq, pid = hdr
    tlv = attr(1, text.encode() + b"\0") if text else b""
    body = struct.pack("=i", -errno) + struct.pack("=IHHII", n, t, f, seq, pid) + tlv
    flags = F_CAPPED | (F_ACK_TLVS if tlv else 0)
    return struct.pack("=IHHII", 16 + len(body), NLMSG_ERROR, flags, seq, pid) + body


def done(seq):
    return struct.pack("=IHHII", 20, NLMSG_DONE, F_MULTI, seq, 4242) + struct.pack("=i", 0)


def sa_key(d):
    return (d.get(SA_SPI), d.get(SA_DST), d.get(SA_PROTO))


def sa_out(d, keys):
    o = dict(d)
    for a in (SA_AEAD, SA_CRYPT, SA_AUTH):
        if a in o and not keys:
            o[a] = enc({k: v for k, v in adict(o[a]).items() if k != ALG_KEY})
    o[SA_CURLFT] = enc({1: u64(0), 2: u64(0), 3: u64(1), 4: u64(0)})
    o[SA_STATS] = enc({1: u64(0), 2: u64(0), 10: u64(3)})
    return enc(o)


def sel_key(d):
    return (d.get(POL_DIR), d.get(POL_SEL), d.get(POL_PRIO, u32(0)))


def find_pol(d):
    if POL_ID in d:
        i = struct.unpack("=I", d[POL_ID])[0]
        if i in pols:
            return i
        raise Err(2, "no policy with this id")
    for i, p in pols.items():
        if sel_key(p) == sel_key(d):
            return i
    raise Err(2, "no such policy")


def handle(hdr, cmd, a, out):
    seq, flags = hdr[3], hdr[2]
    dump = (flags & F_DUMP) == F_DUMP
    if cmd in (C_SA_NEW, C_SA_UPDATE):
        d = adict(a[A_SA])
        spi = struct.unpack(">I", d.get(SA_SPI, b"\0\0\0\0"))[0]
        if spi < 256:
            raise Err(22, "SPI 0..255 are reserved")
        if SA_REPLAY in d and struct.unpack("=I", d[SA_REPLAY])[0] > 4096:
            raise Err(22, "replay window above 4096")
        for al in (SA_AEAD, SA_CRYPT, SA_AUTH):
            if al in d:
                name = adict(d[al]).get(ALG_NAME, b"")
                if b"des" in name or b"md5" in name or b"nosuch" in name:
                    raise Err(22, "algorithm %s refused" % name[:-1].decode())
        k = sa_key(d)
        if cmd == C_SA_NEW:
            if k in sas:
                raise Err(17, "SA exists")
            d[SA_STATE] = u8(1)
            sas[k] = d
        else:
            if k not in sas:
                raise Err(2, "no such SA")
            sas[k].update(d)
            sas[k][SA_STATE] = u8(1)
    elif cmd == C_SA_DEL:
        k = sa_key(adict(a[A_SA]))
        if k not in sas:
            raise Err(2, "no such SA")
        del sas[k]
    elif cmd == C_SA_GET:
        keys = A_FLAGS in a and struct.unpack("=I", a[A_FLAGS])[0] & 1
        if dump:
            for d in list(sas.values()):
                out.append(msg(seq, C_SA_GET, attr(A_SA, sa_out(d, keys)), F_MULTI))
            out.append(done(seq))
            return False
        k = sa_key(adict(a[A_SA]))
        if k not in sas:
            raise Err(2, "no such SA")
        out.append(msg(seq, C_SA_GET, attr(A_SA, sa_out(sas[k], keys))))
    elif cmd == C_SA_FLUSH:
        p = a.get(A_PROTO)
        for k in [k for k in sas if p is None or k[2] == p]:
            del sas[k]
    elif cmd == C_SA_GETSPI:
        d = adict(a[A_SA])
        lo = struct.unpack("=I", a[A_SPI_MIN])[0] if A_SPI_MIN in a else 256
        hi = struct.unpack("=I", a[A_SPI_MAX])[0] if A_SPI_MAX in a else 0xffffffff
        free = [s for s in (random.randint(lo, hi) for _ in range(64))
                if (struct.pack(">I", s), d[SA_DST], d[SA_PROTO]) not in sas]
        if not free:
            free = [s for s in range(lo, min(hi, lo + 100000) + 1)
                    if (struct.pack(">I", s), d[SA_DST], d[SA_PROTO]) not in sas]
        if not free:
            raise Err(28, "no free SPI in range")
        d[SA_SPI] = struct.pack(">I", free[0])
        d[SA_STATE] = u8(0)
        sas[sa_key(d)] = d
        out.append(msg(seq, C_SA_GETSPI, attr(A_SA, enc(d))))
    elif cmd in (C_POL_NEW, C_POL_UPDATE):
        d = adict(a[A_POLICY])
        if cmd == C_POL_NEW:
            if d.get(POL_ACTION) == u8(2) and POL_TMPLS not in d:
                raise Err(22, "protect needs a template")
            for t, tp in attrs(d.get(POL_TMPLS, b"")):
                td = adict(tp)
                if td.get(2) == u8(1) and (3 not in td or 4 not in td):
                    raise Err(22, "tunnel template needs src and dst")
            for p in pols.values():
                if sel_key(p) == sel_key(d):
                    raise Err(17, "policy exists")
            i = next_id[0]
            next_id[0] += 1
            d[POL_ID] = u32(i)
            pols[i] = d
            out.append(msg(seq, C_POL_NEW, attr(A_POLICY, attr(POL_ID, u32(i)))))
        else:
            i = find_pol(d)
            p = pols[i]
            p.update({k: v for k, v in d.items() if k != POL_ID})
            if p.get(POL_ACTION) != u8(2):
                p.pop(POL_TMPLS, None)
    elif cmd == C_POL_DEL:
        del pols[find_pol(adict(a[A_POLICY]))]
    elif cmd == C_POL_GET:
        st = enc({36: u64(0), 37: u64(0)})
        if dump:
            for d in list(pols.values()):
                o = dict(d); o[POL_STATS] = st
                out.append(msg(seq, C_POL_GET, attr(A_POLICY, enc(o)), F_MULTI))
            out.append(done(seq))
            return False
        o = dict(pols[find_pol(adict(a[A_POLICY]))]); o[POL_STATS] = st
        out.append(msg(seq, C_POL_GET, attr(A_POLICY, enc(o))))
    elif cmd == C_POL_FLUSH:
        dr = a.get(A_DIR)
        for i in [i for i, p in pols.items() if dr is None or p[POL_DIR] == dr]:
            del pols[i]
    elif cmd == C_GET_STATS:
        p = (attr(A_VERSION, b"mock\0") +
             attr(A_STATS, b"".join(attr(i, u64(i * 10 if i < 5 else 0)) for i in range(1, 38))) +
             attr(A_CONFIG, b"".join(attr(k, u8(v)) for k, v in config.items())) +
             attr(A_SA_COUNT, u32(len(sas))) + attr(A_POL_COUNT, u32(len(pols))))
        out.append(msg(seq, C_GET_STATS, p))
    elif cmd == C_SET_CONFIG:
        for k, v in attrs(a[A_CONFIG]):
            config[k] = v[0]
    elif cmd == C_ALGS:
        p = b""
        for name, kind, icv in ALGS:
            inner = attr(1, name.encode() + b"\0") + attr(2, u8(kind))
            if icv:
                inner += attr(5, u32(icv))
            inner += attr(8, b"")
            p += attr(A_ALG, inner)
        out.append(msg(seq, C_ALGS, p, F_MULTI if dump else 0))
        if dump:
            out.append(done(seq))
            return False
    elif cmd == C_EXPLAIN:
        p = attr(A_EXPLAIN, attr(9, u8(0)) + attr(12, b"no policy matched\0"))
        out.append(msg(seq, C_EXPLAIN, p))
    else:
        raise Err(95, "unsupported command")
    return True


def family(hdr, out):
    seq = hdr[3]
    grps = b"".join(attr(i + 1, attr(1, n + b"\0") + attr(2, u32(10 + i)))
                    for i, n in enumerate((b"sa", b"policy", b"acquire")))
    p = struct.pack("=BBH", 1, 1, 0) + attr(1, struct.pack("=H", FAMILY)) + attr(7, grps)
    out.append(struct.pack("=IHHII", 16 + len(p), 0x10, 0, seq, 4242) + p)
    out.append(ack(hdr))


def serve(conn):
    while True:
        try:
            buf = conn.recv(1 << 20)
        except OSError:
            return
        if not buf:
            return
        out, off = [], 0
        with lock:
            while off + 16 <= len(buf):
                hdr = struct.unpack_from("=IHHII", buf, off)
                n, t, f = hdr[0], hdr[1], hdr[2]
                body = buf[off + 16:off + n]
                off += (n + 3) & ~3
                if t == 0x10:
                    family(hdr, out)
                    continue
                cmd = body[0]
                a = adict(body[4:])
                try:
                    if handle(hdr, cmd, a, out) and f & F_ACK:
                        out.append(ack(hdr))
                except Err as e:
                    out.append(ack(hdr, e.errno, e.msg))
                except Exception as e:
                    out.append(ack(hdr, 22, "mock: %r" % e))
        chunk = b""
        for m in out:
            if len(chunk) + len(m) > 60000:
                conn.send(chunk)
                chunk = b""
            chunk += m
        if chunk:
            conn.send(chunk)


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(path)
    s.listen(64)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()
