#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec policy: every policy attribute survives add -> get -j, get/del by
# id and by selector, update, flush by dir, default actions, and complete
# dumps of 10,000 policies (also while another process changes the SPD).
source "$(dirname "$0")/../cli_lib.sh"

SEL1="src 10.0.0.0/24 dst 10.1.0.0/16 proto tcp sport 1000-2000 dport 22"
t_check "add out protect v4 tcp ports, 1 template" \
	$K policy add dir out $SEL1 priority 100 action protect \
	tmpl proto esp mode tunnel src 192.0.2.1 dst 192.0.2.2 reqid 5 spi 0x1234
P1='[{"dir":"out","priority":100,"action":"protect",
 "sel":{"family":"inet","src":"10.0.0.0/24","dst":"10.1.0.0/16","proto":"tcp",
        "sport_min":1000,"sport_max":2000,"dport_min":22,"dport_max":22},
 "tmpls":[{"proto":"esp","mode":"tunnel","src":"192.0.2.1","dst":"192.0.2.2",
           "reqid":5,"spi":"0x00001234","level":"required"}]}]'
t_eq "get by selector returns what was set" \
	"$($K -j policy get dir out $SEL1 priority 100 | jsub "$P1")" ok
id1=$($K -j policy get dir out $SEL1 priority 100 | jexpr 'd[0]["id"]')
t_eq "get by id returns the same policy" \
	"$($K -j policy get id "$id1" | jsub "$P1")" ok

SEL2="src 2001:db8:1::/48 dst 2001:db8:2::/64 proto ipv6-icmp type 128 code 0"
t_check "add in discard v6 icmpv6 type/code" \
	$K policy add dir in $SEL2 priority 50 action discard
P2='[{"dir":"in","priority":50,"action":"discard","tmpls":[],
 "sel":{"family":"inet6","src":"2001:db8:1::/48","dst":"2001:db8:2::/64",
        "proto":"ipv6-icmp","icmp_type":128,"icmp_code":0}}]'
t_eq "v6 icmp policy round trip" \
	"$($K -j policy get dir in $SEL2 priority 50 | jsub "$P2")" ok

t_check "add fwd bypass any (v4)" $K policy add dir fwd src any dst any action bypass
t_eq "fwd bypass any round trip" \
	"$($K -j policy show | jsel '[p for p in d if p["dir"] == "fwd"]' | \
	   jsub '[{"action":"bypass","priority":0,"sel":{"family":"inet","src":"0.0.0.0/0","dst":"0.0.0.0/0"}}]')" ok

SEL3="src 10.5.0.1 dst 10.6.0.0/24 proto udp dport 4000-4100"
t_check "add bundle: 2 templates, level use" \
	$K policy add dir out $SEL3 priority 10 action protect \
	tmpl proto ah mode transport reqid 7 \
	tmpl proto esp mode tunnel src 2001:db8::1 dst 2001:db8::2 reqid 8 level use
P3='[{"dir":"out","priority":10,"action":"protect",
 "sel":{"src":"10.5.0.1/32","dst":"10.6.0.0/24","proto":"udp",
        "dport_min":4000,"dport_max":4100},
 "tmpls":[{"proto":"ah","mode":"transport","reqid":7,"level":"required"},
          {"proto":"esp","mode":"tunnel","src":"2001:db8::1","dst":"2001:db8::2",
           "reqid":8,"level":"use"}]}]'
t_eq "bundle round trip (innermost first)" \
	"$($K -j policy get dir out $SEL3 priority 10 | jsub "$P3")" ok

t_check "add a second policy on the same selector, other priority" \
	$K policy add dir out $SEL3 priority 20 action discard
t_eq "both priorities kept apart" \
	"$($K -j policy get dir out $SEL3 priority 20 | jexpr 'd[0]["action"]')" discard
t_eq "show -j lists 5 policies" "$($K -j policy show | jexpr 'len(d)')" 5
t_eq "ids are unique" "$($K -j policy show | jexpr 'len(set(p["id"] for p in d))')" 5
t_eq "show -s -j carries counters" \
	"$($K -j -s policy show | jexpr 'all("pol_hits" in p.get("stats", {}) for p in d)')" True

# update by selector, then by id
t_check "update by selector (new template)" \
	$K policy update dir out $SEL1 priority 100 action protect \
	tmpl proto esp mode transport reqid 42
t_eq "update by selector is visible" \
	"$($K -j policy get id "$id1" | jexpr '(d[0]["action"], [t["reqid"] for t in d[0]["tmpls"]])')" \
	"('protect', [42])"
t_check "update by id" \
	$K policy update id "$id1" action protect tmpl proto esp mode transport reqid 11
t_eq "update by id is visible" \
	"$($K -j policy get id "$id1" | jexpr '(d[0]["action"], d[0]["tmpls"][0]["reqid"], d[0]["id"])')" \
	"('protect', 11, $id1)"

# del by id and by selector
t_check "del by id" $K policy del id "$id1"
t_check_fail "get by id after del fails" $K policy get id "$id1"
t_check "del by selector" $K policy del dir out $SEL3 priority 20
t_check_fail "get by selector after del fails" $K policy get dir out $SEL3 priority 20
t_eq "priority 10 twin survives" \
	"$($K -j policy get dir out $SEL3 priority 10 | jexpr 'd[0]["action"]')" protect

# flush by dir
t_check "flush dir in" $K policy flush dir in
t_eq "no in policy left" "$($K -j policy show | jexpr 'sum(p["dir"] == "in" for p in d)')" 0
t_eq "out and fwd kept" "$($K -j policy show | jexpr 'len(d)')" 2
t_check "flush" $K policy flush
t_eq "flush empties the SPD" "$($K -j policy show | jexpr 'len(d)')" 0

# default actions
t_check "config set defaults" \
	$K config set default-in discard default-out bypass default-fwd discard
t_eq "config show -j" "$($K -j config show | jsub '[{"default_in":"discard","default_out":"bypass","default_fwd":"discard"}]')" ok
t_eq "stats -j carries the config" \
	"$($K -j stats | jexpr 'd[0]["config"]["default_fwd"]')" discard
t_check "config set default-in bypass" $K config set default-in bypass default-fwd bypass
t_eq "config show after reset" "$($K -j config show | jsub '[{"default_in":"bypass","default_out":"bypass","default_fwd":"bypass"}]')" ok

# 10,000 policies via -batch: the dump is complete, with no duplicates
pyrun '
import sys
d = sys.argv[1]
with open(d + "/stable", "w") as f:
    for i in range(10000):
        a, b = i >> 8, i & 255
        if i % 2:
            f.write("policy add dir out src 10.%d.%d.0/24 dst 172.16.0.0/12 proto tcp dport %d priority %d action bypass\n" % (a, b, 1 + i % 60000, i))
        else:
            f.write("policy add dir in src 10.%d.%d.1 dst 192.168.%d.%d action discard\n" % (a, b, a, b))
with open(d + "/churn", "w") as f:
    for r in range(3):
        for i in range(1000):
            f.write("policy add dir fwd src 100.64.%d.%d dst 100.65.0.0/16 action bypass\n" % (i >> 8, i & 255))
        for i in range(1000):
            f.write("policy del dir fwd src 100.64.%d.%d dst 100.65.0.0/16\n" % (i >> 8, i & 255))
' "$TMP" </dev/null
t_check "-batch installs 10,000 policies" $K -batch "$TMP/stable"
$K -j policy show > "$TMP/dump"
t_eq "dump of 10,000 is complete" "$(jexpr 'len(d)' < "$TMP/dump")" 10000
t_eq "dump of 10,000 has no duplicate id" \
	"$(jexpr 'len(set(p["id"] for p in d))' < "$TMP/dump")" 10000
t_eq "stats policy_count agrees" "$($K -j stats | jexpr 'd[0]["policy_count"]')" 10000
jexpr 'sorted(p["id"] for p in d)' < "$TMP/dump" > "$TMP/ids"

( for i in 1 2 3; do $K -force -batch "$TMP/churn" >/dev/null 2>&1; done ) &
churn=$!
bad=0
for i in 1 2 3 4 5; do
	$K -j policy show > "$TMP/dump$i" 2>/dev/null || { bad=1; continue; }
	res=$(pyrun '
import ast, json, sys
d = json.load(open(sys.argv[1]))
stable = set(ast.literal_eval(open(sys.argv[2]).read()))
ids = [p["id"] for p in d]
dup = len(ids) - len(set(ids))
missing = len(stable - set(ids))
print("ok" if not dup and not missing else "dup %d missing %d" % (dup, missing))
' "$TMP/dump$i" "$TMP/ids" </dev/null)
	[ "$res" = ok ] || { bad=1; t_diag "dump $i under churn: $res"; }
done
wait $churn
t_eq "dumps under churn: complete, no duplicates" "$bad" 0

t_check "flush after scale" $K policy flush
t_eq "flush leaves nothing" "$($K -j stats | jexpr 'd[0]["policy_count"]')" 0
kipsec_unload
t_done
