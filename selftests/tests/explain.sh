#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `kipsec explain` agrees with the datapath. Namespace a carries a rich
# policy table (exact hosts, prefixes, port ranges, ICMP type, priorities
# and ties, bypass, discard, protect with and without an SA, IPv4 and
# IPv6, the default action); b is a kipsec peer that decrypts what a
# protects and sends ESP to a. For each tuple:
#   1. the verdict, policy (named by its priority, unique per direction
#      but for a deliberate tie) and SA that `kipsec -j explain` prints
#      equal the expected ones written in the tuple table (the oracle);
#   2. one real packet with exactly that tuple is sent, and what happened to
#      it, read only from counters (namespace stats, per-policy hits and
#      drops, per-SA packets on a and on b) and whether it reached its
#      socket, equals what explain said;
#   3. the wire (captured in m) shows an outbound tuple in clear exactly
#      when the verdict is bypass, and one ESP packet per protected tuple.
# Inbound cleartext to a protect policy is refused with or without an SA;
# ESP sent by b through an SA (or one a does not have) tells them apart.
#
#   a (a0) ---- (m0) m (m1) ---- (b0) b
#   kipsec          forwards         kipsec

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
A4B=10.0.1.2			# a's second address
T1=10.0.2.7 T2=10.0.2.8 T3=10.0.2.9	# more addresses of b

ka() { "$KIPSEC" -n a "$@"; }
kb() { "$KIPSEC" -n b "$@"; }

T0=$(date +%s)
if ! kipsec_load; then
	t_fail "load the module"
	t_done
fi
topo_hosts
ip -n a addr add $A4B/24 dev a0
for x in $T1 $T2 $T3; do ip -n b addr add $x/24 dev b0; done
# Resolve the neighbours now: later ND or ARP traffic must not run into
# the policies while counters are compared.
n a ping -c1 -W2 10.0.1.254 >/dev/null
n a ping -6 -c1 -W2 fd01::fe >/dev/null

# Policies are named by their priority, unique per direction but for the
# two policies of the tie (250), named priority-action. Template
# shorthands: reqid 1, 3 and 4 have SAs, reqid 2 has none; inbound reqid 5
# has an SA on a, reqid 6 has none.
tm() { echo "tmpl proto esp mode tunnel src $1 dst $2 reqid $3"; }
cat >/tmp/explain-a.batch <<EOF
sa add src $A4 dst $B4 proto esp spi 0x1001 mode tunnel reqid 1 $GCM
sa add src $A4 dst $B4 proto esp spi 0x3003 mode tunnel reqid 3 $GCM
sa add src $A6 dst $B6 proto esp spi 0x4004 mode tunnel reqid 4 $GCM
sa add src $B4 dst $A4 proto esp spi 0x5005 mode tunnel reqid 5 $GCM
policy add dir out src 10.0.1.0/24 dst 10.0.2.0/24 priority 1000 action bypass
policy add dir out src 10.0.1.0/24 dst 10.0.2.0/24 proto udp dport 5000-5099 priority 500 action protect $(tm $A4 $B4 1)
policy add dir out src 10.0.1.0/24 dst 10.0.2.0/24 proto udp dport 5050 priority 400 action discard
policy add dir out src 10.0.1.1 dst $T3 priority 600 action discard
policy add dir out src 10.0.1.0/24 dst 10.0.2.0/24 proto udp sport 7000-7010 priority 450 action protect $(tm $A4 $B4 1)
policy add dir out src 10.0.1.0/24 dst 10.0.2.0/24 proto tcp dport 22 priority 300 action protect $(tm $A4 $B4 2)
policy add dir out src $A4B dst 10.0.2.0/24 proto tcp priority 200 action protect $(tm $A4 $B4 3)
policy add dir out src 0.0.0.0/0 dst $T1 proto icmp type 8 priority 100 action protect $(tm $A4 $B4 1)
policy add dir out src 10.0.1.0/24 dst $T2 proto udp priority 250 action bypass
policy add dir out src 10.0.1.0/25 dst $T2 priority 250 action discard
policy add dir out src fd01::/64 dst fd02::/64 proto udp dport 6000 priority 150 action protect $(tm $A6 $B6 4)
policy add dir out src fd01::/64 dst fd02::/64 priority 900 action discard
policy add dir in src 10.0.2.0/24 dst $A4 proto udp dport 4000 priority 100 action discard
policy add dir in src 10.0.2.0/24 dst $A4 proto udp dport 4002 priority 110 action bypass
policy add dir in src 10.0.2.0/24 dst $A4 proto udp dport 4001 priority 120 action protect $(tm $B4 $A4 5)
policy add dir in src 10.0.2.0/24 dst $A4 proto udp dport 4003 priority 130 action protect $(tm $B4 $A4 6)
EOF
# b: the other end of every SA. Its IN policies accept kipsec's tunnels
# (and, with level use, cleartext); its OUT policies send ESP to a only
# from source port 4999.
cat >/tmp/explain-b.batch <<EOF
sa add src $A4 dst $B4 proto esp spi 0x1001 mode tunnel reqid 1 $GCM
sa add src $A4 dst $B4 proto esp spi 0x3003 mode tunnel reqid 3 $GCM
sa add src $A6 dst $B6 proto esp spi 0x4004 mode tunnel reqid 4 $GCM
sa add src $B4 dst $A4 proto esp spi 0x5005 mode tunnel reqid 5 $GCM
sa add src $B4 dst $A4 proto esp spi 0x5006 mode tunnel reqid 6 $GCM
policy add dir in src 10.0.1.0/24 dst 10.0.2.0/24 action protect tmpl proto esp mode tunnel src $A4 dst $B4 level use
policy add dir in src fd01::/64 dst fd02::/64 action protect tmpl proto esp mode tunnel src $A6 dst $B6 level use
policy add dir out src $B4 dst $A4 proto udp sport 4999 dport 4001 action protect $(tm $B4 $A4 5)
policy add dir out src $B4 dst $A4 proto udp sport 4999 dport 4003 action protect $(tm $B4 $A4 6)
EOF
t_check "configure a (4 SAs, 16 policies)" ka -batch /tmp/explain-a.batch
t_check "configure b (5 SAs, 4 policies)" kb -batch /tmp/explain-b.batch

# One tuple a line: NAME DIR FROM PROTO SRC SPORT DST DPORT EXPECTED
# (EXPECTED: verdict/policy priority/SA; "-" for none). The sender
# namespace is a for out, b for in.
cat >/tmp/explain.tuples <<EOF
range-protect    out a udp  $A4  40001 $B4 5010 protect/500/0x00001001
exact-port-wins  out a udp  $A4  40002 $B4 5050 discard/400/-
range-edge       out a udp  $A4  40003 $B4 5100 bypass/1000/-
sport-range      out a udp  $A4  7005  $B4 9999 protect/450/0x00001001
prio-beats-host  out a udp  $A4  40005 $T3 5010 protect/500/0x00001001
exact-host       out a tcp  $A4  40006 $T3 80   discard/600/-
protect-no-sa    out a tcp  $A4  40007 $B4 22   no-sa/300/-
src-host-sa      out a tcp  $A4B 40008 $B4 22   protect/200/0x00003003
icmp-type        out a icmp $A4  0     $T1 8    protect/100/0x00001001
icmp-other-host  out a icmp $A4  0     $B4 8    bypass/1000/-
tie-first-added  out a udp  $A4  40011 $T2 9999 bypass/250-bypass/-
tie-other-proto  out a tcp  $A4  40012 $T2 80   discard/250-discard/-
tie-icmp         out a icmp $A4  0     $T2 8    discard/250-discard/-
no-policy        out a udp  $A4  40013 10.0.3.1 9999 bypass/-/-
v6-protect       out a udp  $A6  40014 $B6 6000 protect/150/0x00004004
v6-discard       out a udp  $A6  40015 $B6 6001 discard/900/-
in-discard       in  b udp  $B4  4998  $A4 4000 discard/100/-
in-bypass        in  b udp  $B4  4998  $A4 4002 bypass/110/-
in-no-policy     in  b udp  $B4  4998  $A4 4010 bypass/-/-
in-clear-to-sa   in  b udp  $B4  4998  $A4 4001 protect/120/0x00005005
in-esp-to-sa     in  b udp  $B4  4999  $A4 4001 protect/120/0x00005005
in-clear-no-sa   in  b udp  $B4  4998  $A4 4003 no-sa/130/-
in-esp-no-sa     in  b udp  $B4  4999  $A4 4003 no-sa/130/-
EOF

capture_start wire m m0 || t_fail "capture in m"
t_diag "setup took $(( $(date +%s) - T0 )) s"

# The driver: for each tuple, explain, snapshot the counters, send the
# packet from the sender namespace, wait until the datapath is done with
# it, snapshot again, and classify what happened from the deltas alone.
# Prints: NAME EXPLAINED PREDICTED OBSERVED (each verdict/policy
# priority/SA); PREDICTED is what EXPLAINED means for the counters.
cat >/tmp/explain-driver.py <<'PY'
import ctypes, json, os, select, socket, subprocess, sys, time

KIPSEC = os.environ["KIPSEC"]
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def in_ns(ns, fn):
    """Run fn() with the calling thread in network namespace ns."""
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns " + ns)
        return fn()
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(fd)
        os.close(home)


def k(ns, *args):
    out = subprocess.run([KIPSEC, "-n", ns, "-j"] + list(args),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def kbatch(ns, *lines):
    """Several commands in one kipsec process: their JSON documents."""
    out = subprocess.run([KIPSEC, "-n", ns, "-j", "-s", "-batch", "-"],
                         input="".join(l + "\n" for l in lines), check=True,
                         capture_output=True, text=True).stdout
    docs, dec, i = [], json.JSONDecoder(), 0
    while True:
        # documents are separated by blanks (and, in some versions of the
        # CLI's JSON writer, a stray comma)
        while i < len(out) and out[i] in " \t\n,":
            i += 1
        if i == len(out):
            return docs
        d, i = dec.raw_decode(out, i)
        docs.append(d)


def one(d):
    return d[0] if isinstance(d, list) else d


def label(p, prios):
    """A policy's name: its priority, plus its action on a tie."""
    if prios.count((p["dir"], p["priority"])) > 1:
        return "%d-%s" % (p["priority"], p["action"])
    return str(p["priority"])


def sa_dict(sas):
    return {s["spi"]: (s["stats"].get("in_packets", 0),
                       s["stats"].get("out_packets", 0)) for s in sas}


def sa_snap(ns):
    return sa_dict(k(ns, "-s", "sa", "show"))


def snap(ns, *more):
    """Policy, SA and namespace counters (one process), then more queries."""
    docs = kbatch(ns, "policy show", "sa show", "stats", *more)
    ps = docs[0]
    global PRIOS
    PRIOS = [(p["dir"], p["priority"]) for p in ps]
    pols = {(p["dir"], label(p, PRIOS)): (p["stats"]["pol_hits"],
                                          p["stats"]["pol_drops"])
            for p in ps}
    return (pols, sa_dict(docs[1]), one(docs[2])["stats"]), docs[3:]


def delta(a, b):
    return {key: tuple(y - x for x, y in zip(a[key], b[key]))
            for key in b if key in a and a[key] != b[key]}


def fam(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def send(proto, src, sport, dst, dport):
    f = fam(src)
    payload = b"KIPSEC-CLEARTEXT-MARKER"
    try:
        if proto == "udp":
            s = socket.socket(f, socket.SOCK_DGRAM)
            s.bind((src, sport))
            s.sendto(payload, (dst, dport))
        elif proto == "tcp":
            s = socket.socket(f, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, sport))
            try:
                s.connect((dst, dport))
            except BlockingIOError:
                pass
            # The SYN went through the hooks in connect(): close so that
            # no retransmission reaches the next tuple's counters.
        else:
            s = socket.socket(f, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
            s.bind((src, 0))
            s.sendto(bytes([dport, 0, 0, 0, 0, 0, 0, 1]) + payload, (dst, 0))
        s.close()
    except OSError:
        pass  # NF_DROP in the sender's own path: EPERM


def classify_out(d_pol, d_sa_a, d_sa_b, d_st):
    """What happened to a packet a sent, from a's and b's counters."""
    hit = [key[1] for key, (h, _) in d_pol.items() if key[0] == "out" and h]
    pol = str(hit[0]) if len(hit) == 1 else ",".join(map(str, hit)) or "-"
    sent = [spi for spi, (_, o) in d_sa_a.items() if o]
    if d_st.get("out_no_sa"):
        return "no-sa/%s/-" % pol
    if d_st.get("out_policy_discard"):
        return "discard/%s/-" % pol
    if len(sent) == 1 and d_sa_b.get(sent[0], (0, 0))[0] == 1:
        return "protect/%s/%s" % (pol, sent[0])
    if sent:
        return "encrypted-not-received/%s/%s" % (pol, ",".join(sent))
    if d_st.get("hook_out"):
        return "bypass/%s/-" % pol
    return "not-seen/%s/-" % pol


def classify_in(d_pol, d_sa_a, d_st, got):
    hit = [key[1] for key, (h, _) in d_pol.items() if key[0] == "in" and h]
    pol = str(hit[0]) if len(hit) == 1 else ",".join(map(str, hit)) or "-"
    acc = [spi for spi, (i, _) in d_sa_a.items() if i]
    if d_st.get("in_no_sa"):
        return "no-sa/-/-"  # never decrypted: no policy was consulted
    if d_st.get("in_policy_discard") and not got:
        return "discard/%s/-" % pol
    if acc and got:
        return "protect/%s/%s" % (pol, ",".join(acc))
    if d_st.get("in_cleartext") and not got:
        return "refused/%s/-" % pol
    if got:
        return "bypass/%s/-" % pol
    return "lost/%s/-" % pol


def explained(e):
    pol = label(e["policy"], PRIOS) if "policy" in e else "-"
    sa = e["sa"]["spi"] if "sa" in e else "-"
    return "%s/%s/%s" % (e["verdict"], pol, sa)


def expected_obs(ex, d, sport):
    """What explain's answer predicts the counters will show."""
    verdict, pol, _ = ex.split("/")
    if d != "in" or verdict not in ("protect", "no-sa"):
        return ex
    if sport != 4999:
        # cleartext to a PROTECT policy is refused, with or without an SA
        return "refused/%s/-" % pol
    if verdict == "no-sa":
        # ESP for an SA a does not have: dropped before any policy
        return "no-sa/-/-"
    return ex


def main():
    # a's receivers for the inbound tuples
    rx = {}
    for port in (4000, 4001, 4002, 4003, 4010):
        def mk(port=port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((sys.argv[2], port))
            s.setblocking(False)
            return s
        rx[port] = in_ns("a", mk)
    for line in open(sys.argv[1]):
        w = line.split()
        if not w:
            continue
        name, d, sender, proto, src, sport, dst, dport = w[:8]
        sport, dport = int(sport), int(dport)
        q = "explain dir %s src %s dst %s proto %s " % (d, src, dst, proto)
        if proto == "icmp":
            q += "type %d" % dport
        else:
            q += "sport %d dport %d" % (sport, dport)
        (a0, more), b0 = snap("a", q), sa_snap("b")
        ex = explained(one(more[0]))
        in_ns(sender, lambda: send(proto, src, sport, dst, dport))
        got = False
        prev = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3:
            time.sleep(0.02)
            a1 = snap("a")[0]
            d_pol, d_sa_a = delta(a0[0], a1[0]), delta(a0[1], a1[1])
            # b's counters matter only once a encrypted something
            d_sa_b = delta(b0, sa_snap("b")) if d_sa_a else {}
            d_st = {key: v[0] for key, v in delta(
                {x: (y,) for x, y in a0[2].items()},
                {x: (y,) for x, y in a1[2].items()}).items()}
            if d == "in" and dport in rx:
                try:
                    got = got or bool(rx[dport].recv(2048))
                except BlockingIOError:
                    pass
            if d == "out":
                obs = classify_out(d_pol, d_sa_a, d_sa_b, d_st)
                done = not obs.startswith(("encrypted-", "not-seen"))
            else:
                obs = classify_in(d_pol, d_sa_a, d_st, got)
                done = not obs.startswith("lost")
            # bypass shows no counter but hook_out: take it only when
            # seen twice, giving a late (async) SA counter a chance
            if done and (not obs.startswith("bypass") or
                         (obs == prev and time.monotonic() - t0 > 0.3)):
                break
            prev = obs
        print(name, ex, expected_obs(ex, d, sport), obs, flush=True)


main()
PY
t_start=$(date +%s)
/usr/bin/python3 /tmp/explain-driver.py /tmp/explain.tuples $A4 \
	>/tmp/explain.out 2>/tmp/explain.err ||
	t_fail "driver" "$(tail -n 5 /tmp/explain.err)"

# The default action: the unmatched tuple again, with default-out discard.
t_check "config set default-out discard" ka config set default-out discard
echo "default-discard out a udp $A4 40016 10.0.3.1 9999 discard/-/-" >/tmp/explain.tuples2
/usr/bin/python3 /tmp/explain-driver.py /tmp/explain.tuples2 $A4 \
	>>/tmp/explain.out 2>>/tmp/explain.err ||
	t_fail "driver (default discard)" "$(tail -n 5 /tmp/explain.err)"
capture_stop
t_end=$(date +%s)

# The capture as text, once: "IP 10.0.1.1.40003 > 10.0.2.1.5100: UDP, ...",
# "IP 10.0.1.1 > 10.0.2.7: ICMP echo request, ...",
# "IP 10.0.1.1 > 10.0.2.1: ESP(spi=0x00001001,seq=0x1), ...".
tcpdump -r /tmp/wire.pcap -n 2>/dev/null >/tmp/wire.txt
wire() { grep -cF -- "$1" /tmp/wire.txt; }

# on_wire PROTO SRC SPORT DST DPORT: times the tuple crossed in clear
on_wire() {
	local ip=IP
	[[ $2 == *:* ]] && ip=IP6
	case $1 in
	icmp) wire "IP $2 > $4: ICMP echo request" ;;
	*) wire "$ip $2.$3 > $4.$5: " ;;
	esac
}

declare -A esp_want=()
cat /tmp/explain.tuples /tmp/explain.tuples2 >/tmp/explain.all
t_diag "driver: $(wc -l </tmp/explain.out) tuples in $((t_end - t_start)) s"
sed -e 's/^/driver: /' /tmp/explain.out | while read -r l; do t_diag "$l"; done
while read -r name d _ proto src sport dst dport want; do
	read -r oname ex pred obs <<<"$(grep "^$name " /tmp/explain.out)"
	if [ "${oname:-}" != "$name" ]; then
		t_fail "$name: no result from the driver"
		continue
	fi
	t_eq "$name: explain says $want" "$ex" "$want"
	t_eq "$name: the packet agrees with explain" "$obs" "$pred"
	clear=$(on_wire "$proto" "$src" "$sport" "$dst" "$dport")
	if [ "$d" = out ]; then
		[[ $want == bypass/* ]] && w=1 || w=0
		t_eq "$name: in clear on the wire $w time(s)" "$clear" "$w"
	elif [ "$sport" = 4998 ]; then
		t_eq "$name: sent in clear once" "$clear" 1
	else
		t_eq "$name: never in clear" "$clear" 0
	fi
	spi=${want##*/}
	[[ $want == protect/* ]] && [ "$d" = out ] &&
		esp_want[$spi]=$(( ${esp_want[$spi]:-0} + 1 ))
done </tmp/explain.all

for spi in 0x00001001 0x00003003; do
	t_eq "ESP $spi from a on the wire once per tuple it protects" \
		"$(wire "IP $A4 > $B4: ESP(spi=$spi,")" "${esp_want[$spi]:-0}"
done
t_eq "ESP 0x00004004 (IPv6) from a on the wire once" \
	"$(wire "IP6 $A6 > $B6: ESP(spi=0x00004004,")" "${esp_want[0x00004004]:-0}"
t_eq "ESP 0x00005005 and 0x00005006 from b, once each" \
	"$(wire "IP $B4 > $A4: ESP(spi=0x00005005,")/$(wire "IP $B4 > $A4: ESP(spi=0x00005006,")" 1/1
t_eq "no other ESP on the wire" "$(grep -c 'ESP(spi=' /tmp/wire.txt)" \
	$(( ${esp_want[0x00001001]:-0} + ${esp_want[0x00003003]:-0} + ${esp_want[0x00004004]:-0} + 2 ))
t_check_fail "the marker never crosses the wire inside ESP in clear" \
	sh -c "tcpdump -r /tmp/wire.pcap -n -A 'ip[9] = 50 or ip6[6] = 50' 2>/dev/null | grep -qF $MARKER"

t_diag "checks took $(( $(date +%s) - t_end )) s, the whole test $(( $(date +%s) - T0 )) s"
netns_cleanup
kipsec_unload
t_done
