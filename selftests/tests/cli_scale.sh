#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec -batch at scale: 100,000 policies (exact and prefix selectors
# mixed) and 100,000 AES-GCM SAs under make stress, 20,000 of each under
# make check (each 100k install costs about 40 s under TCG). Install times
# are printed as KTAP diagnostics, never asserted; the counts, the dumps
# (also while other SAs are added and deleted) and the flush are.
source "$(dirname "$0")/../lib.sh"

K="$KIPSEC"
PY=/usr/bin/python3
N=20000
[ "${KIPSEC_STRESS:-0}" = 1 ] && N=100000
N=${KIPSEC_SCALE_N:-$N}

count() {
	$K -j stats | pyrun "import json,sys; print(json.load(sys.stdin)[0]['$1'])"
}

# One python for the generator and every check (pyrun, lib.sh).
pys_start
kipsec_load
$K sa flush
$K policy flush
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# One generator call for both files (the guest is TCG-emulated: keep it cheap).
pyrun '
import sys
d, n = sys.argv[1], int(sys.argv[2])
with open(d + "/policies", "w") as f:
    w = f.write
    for i in range(n):
        a, b, c = 20 + (i >> 16), (i >> 8) & 255, i & 255
        if i % 2:
            # prefix selectors, protected through a tunnel
            w("policy add dir out src %d.%d.%d.0/24 dst 30.%d.0.0/16 priority %d "
              "action protect tmpl proto esp mode tunnel src 192.0.2.1 dst 192.0.2.2 reqid %d\n"
              % (a, b, c, b, i % 1000, 1 + i % 500))
        else:
            # exact host-to-host selectors with ports
            w("policy add dir in src %d.%d.%d.1 dst 40.0.0.1 proto tcp dport %d action bypass\n"
              % (a, b, c, 1 + i % 65535))
with open(d + "/sas", "w") as f:
    w = f.write
    for i in range(n):
        w("sa add src 192.0.2.1 dst 198.51.100.%d proto esp spi 0x%x mode tunnel reqid %d "
          "aead rfc4106(gcm(aes)) 0x%032x%08x 128\n"
          % (1 + (i % 200), 0x10000 + i, 1 + i % 500, (i * 0x9e3779b97f4a7c15) & ((1 << 128) - 1), i))
' "$TMP" "$N" </dev/null

t0=$(date +%s.%N)
$K -batch "$TMP/policies"
rc=$?
t1=$(date +%s.%N)
t_eq "-batch installs $N policies" "$rc" 0
t_diag "install $((N / 1000))k policies: $(echo "$t1 - $t0" | pyrun 'print("%.2f" % eval(input()))') s"
t_eq "stats policy_count == $N" "$(count policy_count)" "$N"

t0=$(date +%s.%N)
$K -batch "$TMP/sas"
rc=$?
t1=$(date +%s.%N)
t_eq "-batch installs $N SAs (rfc4106)" "$rc" 0
t_diag "install $((N / 1000))k SAs: $(echo "$t1 - $t0" | pyrun 'print("%.2f" % eval(input()))') s"
t_eq "stats sa_count == $N" "$(count sa_count)" "$N"

t0=$(date +%s.%N)
$K -j sa show > "$TMP/sadump"
t1=$(date +%s.%N)
t_diag "dump $((N / 1000))k SAs: $(echo "$t1 - $t0" | pyrun 'print("%.2f" % eval(input()))') s"
t_eq "SA dump is complete, no duplicates" \
	"$(pyrun 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d), len({(s["spi"], s["dst"]) for s in d}))' "$TMP/sadump" </dev/null)" \
	"$N $N"

# Dumps while other SAs come and go: every one of the N stable SAs is in
# each dump, none twice (the dump cursor is the SA's dump id, which churn
# never reuses under a running dump).
pyrun '
import sys
with open(sys.argv[1], "w") as f:
    for r in range(2):
        for i in range(1000):
            f.write("sa add src 192.0.2.1 dst 203.0.113.1 proto esp spi 0x%x mode tunnel "
                    "aead rfc4106(gcm(aes)) 0x%040x 128\n" % (0x900000 + i, i + 1))
        for i in range(1000):
            f.write("sa del dst 203.0.113.1 proto esp spi 0x%x\n" % (0x900000 + i))
' "$TMP/sachurn" </dev/null
( $K -force -batch "$TMP/sachurn" >/dev/null 2>&1 ) &
churn=$!
bad=0
for i in 1 2 3; do
	$K -j sa show > "$TMP/sadump$i" 2>/dev/null || { bad=1; continue; }
	res=$(pyrun '
import json, sys
d = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
keys = [(s["spi"], s["dst"]) for s in d]
stable = [k for k in keys if k[1] != "203.0.113.1"]
ok = len(stable) == n and len(set(keys)) == len(keys)
print("ok" if ok else "stable %d of %d, duplicates %d" % (len(set(stable)), n, len(keys) - len(set(keys))))
' "$TMP/sadump$i" "$N" </dev/null)
	[ "$res" = ok ] || { bad=1; t_diag "SA dump $i under churn: $res"; }
done
wait $churn
t_eq "SA dumps while 2000 other SAs come and go: complete, no duplicates" "$bad" 0

t0=$(date +%s.%N)
t_check "sa flush" $K sa flush
t_check "policy flush" $K policy flush
t1=$(date +%s.%N)
t_diag "flush $((N / 1000))k SAs and policies: $(echo "$t1 - $t0" | pyrun 'print("%.2f" % eval(input()))') s"
t_eq "flush brings sa_count to 0" "$(count sa_count)" 0
t_eq "flush brings policy_count to 0" "$(count policy_count)" 0

kipsec_unload
t_done
