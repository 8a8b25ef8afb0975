#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# GETSPI reserves an SPI with a larval SA; one never completed by an update
# is deleted after KIPSEC_LARVAL_SECS (30 s) and reported as a hard expiry
# on the "sa" multicast group. A completed one stays.

. "$(dirname "$0")/../lib.sh"

kipsec_load
K=$KIPSEC
"$K" -j monitor >/tmp/mon.json 2>/tmp/mon.err &
mon=$!
sleep 1
spi1=$("$K" sa getspi src 192.0.2.1 dst 192.0.2.9 proto esp min 0x5000 max 0x5fff)
spi2=$("$K" sa getspi src 192.0.2.1 dst 192.0.2.9 proto esp min 0x5000 max 0x5fff)
t_check "two SPIs allocated" test -n "$spi1" -a -n "$spi2" -a "$spi1" != "$spi2"
t_check "the second larval SA is completed" "$K" sa update src 192.0.2.1 dst 192.0.2.9 \
	proto esp spi "$spi2" mode tunnel reqid 7 \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
state() { "$K" -j sa get dst 192.0.2.9 proto esp spi "$1" 2>/dev/null | jq_py 'd[0]["state"]'; }
t_eq "the first is larval" "$(state "$spi1")" larval
sleep 33
t_check_fail "the uncompleted larval SA is gone after 30 s" "$K" sa get dst 192.0.2.9 proto esp spi "$spi1"
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
