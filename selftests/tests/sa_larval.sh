#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# GETSPI reserves an SPI with a larval SA; one never completed by an update
# is deleted after the larval lifetime (module parameter larval_secs,
# KIPSEC_LARVAL_SECS = 30 s by default, 10 s here so that the test does
# not wait half a minute) and reported as a hard expiry on the "sa"
# multicast group. A completed one stays.

. "$(dirname "$0")/../lib.sh"

LARVAL=10
kipsec_load larval_secs=$LARVAL
t_eq "larval_secs=$LARVAL taken at load" \
	"$(cat /sys/module/kipsec/parameters/larval_secs 2>&1)" "$LARVAL"
K=$KIPSEC
"$K" -j monitor >/tmp/mon.json 2>/tmp/mon.err &
mon=$!
sleep 1
t0=$EPOCHREALTIME
spi1=$("$K" sa getspi src 192.0.2.1 dst 192.0.2.9 proto esp min 0x5000 max 0x5fff)
spi2=$("$K" sa getspi src 192.0.2.1 dst 192.0.2.9 proto esp min 0x5000 max 0x5fff)
t_check "two SPIs allocated" test -n "$spi1" -a -n "$spi2" -a "$spi1" != "$spi2"
t_check "the second larval SA is completed" "$K" sa update src 192.0.2.1 dst 192.0.2.9 \
	proto esp spi "$spi2" mode tunnel reqid 7 \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
state() { "$K" -j sa get dst 192.0.2.9 proto esp spi "$1" 2>/dev/null | jq_py 'd[0]["state"]'; }
t_eq "the first is larval" "$(state "$spi1")" larval
# Poll (every 0.2 s, up to 20 s beyond the lifetime) instead of one
# fixed wait; when it went is checked against when it was made.
for _ in $(seq 1 $(((LARVAL + 20) * 5))); do
	"$K" sa get dst 192.0.2.9 proto esp spi "$spi1" >/dev/null 2>&1 || break
	nap 0.2
done
gone_after=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", b - a }')
t_check_fail "the uncompleted larval SA is gone" "$K" sa get dst 192.0.2.9 proto esp spi "$spi1"
t_check "... not before its $LARVAL s (gone after ${gone_after} s)" \
	test "$gone_after" -ge "$LARVAL"
t_eq "the completed SA stays" "$(state "$spi2")" valid
kill "$mon"; wait "$mon" 2>/dev/null
n=$("$PY" -c '
import json, sys
n = 0
for line in open("/tmp/mon.json"):
    e = json.loads(line)
    if e.get("event") == "sa_expire" and e.get("hard") and int(e["sa"]["spi"], 16) == int(sys.argv[1], 0):
        n += 1
print(n)' "$spi1" 2>/tmp/py.err || cat /tmp/py.err)
t_eq "exactly one hard expire event for it" "$n" 1
"$K" sa flush
kipsec_unload
t_done
