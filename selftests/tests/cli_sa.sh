#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec sa: every SA attribute survives add -> get -j / show -j -k, update
# changes fields, del and flush remove, getspi allocates in range.
source "$(dirname "$0")/../cli_lib.sh"

AEAD_KEY=0x0123456789abcdef0123456789abcdef01234567	# 16 + 4 salt
AEAD_KEY2=0xfedcba9876543210fedcba9876543210cafebabe
CBC_KEY=0x00112233445566778899aabbccddeeff
SHA256_KEY=0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
SHA512_KEY=0x$(printf '%02x' $(seq 0 63))

# 1. ESP tunnel AEAD, IPv4, with every optional attribute
t_check "add esp tunnel aead v4 (all attributes)" \
	$K sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1001 mode tunnel \
	reqid 1 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128 replay-window 128 \
	flag esn noecn nodscp df set seq-out 100 seq-in 50 \
	lifetime soft bytes 1000000 packets 1000 add 3600 use 1800 \
	lifetime hard bytes 2000000 packets 2000 add 7200 use 3600 \
	sel src 10.1.0.0/24 dst 10.2.0.0/24 proto udp sport 1000-2000 dport 53

SA1='[{"src":"192.0.2.1","dst":"192.0.2.2","proto":"esp","spi":"0x00001001",
 "mode":"tunnel","reqid":1,"state":"valid","replay_window":128,
 "flags":["esn","noecn","nodscp"],"df":"set","seq_out":100,"seq_in":50,
 "aead":{"name":"rfc4106(gcm(aes))","icv_bits":128},
 "lifetime":{"soft":{"bytes":1000000,"packets":1000,"add":3600,"use":1800},
             "hard":{"bytes":2000000,"packets":2000,"add":7200,"use":3600}},
 "sel":{"family":"inet","src":"10.1.0.0/24","dst":"10.2.0.0/24","proto":"udp",
        "sport_min":1000,"sport_max":2000,"dport_min":53,"dport_max":53}}]'
t_eq "get -j returns what was set (esp tunnel aead)" \
	"$($K -j sa get dst 192.0.2.2 proto esp spi 0x1001 | jsub "$SA1")" ok
t_eq "get -j without -k has no key" \
	"$($K -j sa get dst 192.0.2.2 proto esp spi 0x1001 | jexpr '"key" in d[0]["aead"]')" False
t_eq "get -j -k has the key (salt included)" \
	"$($K -j -k sa get dst 192.0.2.2 proto esp spi 0x1001 | jexpr 'd[0]["aead"]["key"]')" \
	"$AEAD_KEY"

# 2. ESP CBC + HMAC, transport, IPv4, NAT-T encapsulation
t_check "add esp transport cbc+hmac with encap" \
	$K sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x1002 mode transport \
	reqid 2 enc 'cbc(aes)' $CBC_KEY auth-trunc 'hmac(sha256)' $SHA256_KEY 128 \
	replay-window 32 encap espinudp 4500 4501 198.51.100.7
SA2='[{"src":"192.0.2.1","dst":"192.0.2.2","proto":"esp","spi":"0x00001002",
 "mode":"transport","reqid":2,"replay_window":32,
 "enc":{"name":"cbc(aes)"},"auth":{"name":"hmac(sha256)","icv_bits":128},
 "encap":{"type":"espinudp","sport":4500,"dport":4501,"oaddr":"198.51.100.7"}}]'
t_eq "get -j returns what was set (cbc+hmac, encap)" \
	"$($K -j sa get dst 192.0.2.2 proto esp spi 0x1002 | jsub "$SA2")" ok

# 3. AH HMAC over IPv6, default truncation, and its notice
err=$($K sa add src 2001:db8::1 dst 2001:db8::2 proto ah spi 0x2001 \
	auth 'hmac(sha512)' $SHA512_KEY 2>&1 >/dev/null)
t_eq "add ah hmac(sha512) v6 succeeds" "$?" 0
t_eq "auth without length: notice names the length" "$err" \
	"kipsec: auth hmac(sha512): using 256-bit truncation"
SA3='[{"src":"2001:db8::1","dst":"2001:db8::2","proto":"ah",
 "spi":"0x00002001","auth":{"name":"hmac(sha512)","icv_bits":256}}]'
t_eq "get -j returns what was set (ah v6)" \
	"$($K -j sa get dst 2001:db8::2 proto ah spi 0x2001 | jsub "$SA3")" ok

err=$($K sa add src 192.0.2.1 dst 192.0.2.3 proto ah spi 0x2002 \
	auth 'hmac(sha256)' $SHA256_KEY 2>&1 >/dev/null)
t_eq "auth hmac(sha256) notice (RFC 4868 vs ip xfrm)" "$err" \
	"kipsec: auth hmac(sha256): using 128-bit truncation (RFC 4868); ip xfrm's 'auth' would use 96"
t_eq "auth hmac(sha256) default is 128 bits" \
	"$($K -j sa get dst 192.0.2.3 proto ah spi 0x2002 | jexpr 'd[0]["auth"]["icv_bits"]')" 128

# 4. Mixed families: IPv6 outer, IPv4 inner selector; df clear, icmp selector
t_check "add esp tunnel v6 outer, v4 selector" \
	$K sa add src 2001:db8::1 dst 2001:db8::3 proto esp spi 0x3001 mode tunnel \
	reqid 3 aead 'rfc4106(gcm(aes))' $AEAD_KEY2 96 \
	sel src 10.3.0.0/16 dst 10.4.0.1 proto icmp type 8 code 0
SA4='[{"src":"2001:db8::1","dst":"2001:db8::3","mode":"tunnel","reqid":3,
 "aead":{"name":"rfc4106(gcm(aes))","icv_bits":96},
 "sel":{"family":"inet","src":"10.3.0.0/16","dst":"10.4.0.1/32","proto":"icmp",
        "icmp_type":8,"icmp_code":0}}]'
t_eq "get -j returns what was set (mixed families)" \
	"$($K -j sa get dst 2001:db8::3 proto esp spi 0x3001 | jsub "$SA4")" ok
t_check "add esp tunnel v4 with df clear" \
	$K sa add src 192.0.2.1 dst 192.0.2.4 proto esp spi 0x3002 mode tunnel \
	aead 'rfc4106(gcm(aes))' $AEAD_KEY 64 df clear
t_eq "df clear round trip" \
	"$($K -j sa get dst 192.0.2.4 proto esp spi 0x3002 | jexpr 'd[0]["df"]')" clear

# show -j: every SA once; keys only with -k
t_eq "show -j lists 6 SAs" "$($K -j sa show | jexpr 'len(d)')" 6
t_eq "show -j has no key anywhere" \
	"$($K -j sa show | jexpr 'any("key" in s.get(a, {}) for s in d for a in ("aead","enc","auth"))')" False
t_eq "show -j -k has every key" \
	"$($K -j -k sa show | jexpr 'sorted(s[a]["key"] for s in d for a in ("aead","enc","auth") if a in s)')" \
	"$(pyrun 'import sys; print(sorted(sys.argv[1:]))' $AEAD_KEY $CBC_KEY $SHA256_KEY $SHA512_KEY $SHA256_KEY $AEAD_KEY2 $AEAD_KEY </dev/null)"
t_eq "show -j -k round trip (esp tunnel aead)" \
	"$($K -j -k sa show | jsel '[s for s in d if s["spi"] == "0x00001001"]' | jsub "$SA1")" ok
txt=$($K sa show)
case "$txt" in *${AEAD_KEY#0x}*) t_fail "text show hides keys";; *) t_ok "text show hides keys";; esac
txt=$($K -k sa show)
case "$txt" in *${AEAD_KEY#0x}*) t_ok "text show -k shows keys";; *) t_fail "text show -k shows keys";; esac

# update changes fields
# (a live SA changes only its DF, flags and lifetimes; GETSPI's larval
# SAs are completed by update further down)
t_check "update df, flags and soft lifetime" \
	$K sa update dst 192.0.2.2 proto esp spi 0x1001 df clear flag esn \
	lifetime soft bytes 5000
t_eq "update is visible" \
	"$($K -j sa get dst 192.0.2.2 proto esp spi 0x1001 | jexpr '(d[0]["df"], d[0]["flags"], d[0]["lifetime"]["soft"]["bytes"])')" \
	"('clear', ['esn'], 5000)"
t_eq "update keeps the rest" \
	"$($K -j sa get dst 192.0.2.2 proto esp spi 0x1001 | jexpr 'd[0]["aead"]["name"], d[0]["reqid"]')" \
	"('rfc4106(gcm(aes))', 1)"

# del removes
t_check "del" $K sa del src 192.0.2.1 dst 192.0.2.4 proto esp spi 0x3002
t_check_fail "get after del fails" $K sa get dst 192.0.2.4 proto esp spi 0x3002
t_eq "show -j lists 5 SAs after del" "$($K -j sa show | jexpr 'len(d)')" 5

# flush proto ah only flushes AH
t_check "flush proto ah" $K sa flush proto ah
t_eq "no AH left" "$($K -j sa show | jexpr 'sum(s["proto"] == "ah" for s in d)')" 0
t_eq "ESP SAs kept" "$($K -j sa show | jexpr 'sum(s["proto"] == "esp" for s in d)')" 3
t_check "flush" $K sa flush
t_eq "flush empties the SAD" "$($K -j sa show | jexpr 'len(d)')" 0

# getspi: in range, no duplicates, larval, completed by update
spis=()
bad=0
for i in $(seq 50); do
	spi=$($K sa getspi src 192.0.2.1 dst 192.0.2.9 proto esp min 0x5000 max 0x50ff) || bad=1
	spis+=("$spi")
	(( spi >= 0x5000 && spi <= 0x50ff )) || bad=1
done
t_eq "getspi x50 within [min,max]" "$bad" 0
t_eq "getspi x50 never duplicates" \
	"$(printf '%s\n' "${spis[@]}" | sort -u | wc -l)" 50
spi=${spis[0]}
t_eq "getspi makes a larval SA" \
	"$($K -j sa get dst 192.0.2.9 proto esp spi $spi | jexpr 'd[0]["state"]')" larval
t_check "update completes the larval SA" \
	$K sa update src 192.0.2.1 dst 192.0.2.9 proto esp spi $spi mode tunnel \
	reqid 9 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
t_eq "completed SA is valid" \
	"$($K -j sa get dst 192.0.2.9 proto esp spi $spi | jexpr '(d[0]["state"], d[0]["reqid"])')" \
	"('valid', 9)"
t_eq "getspi with min == max gives that SPI" \
	"$($K sa getspi src 192.0.2.1 dst 192.0.2.10 proto esp min 0x6000 max 0x6000)" \
	0x00006000
t_check_fail "getspi in an exhausted range fails" \
	$K sa getspi src 192.0.2.1 dst 192.0.2.10 proto esp min 0x6000 max 0x6000
t_eq "getspi -j gives the SA" \
	"$($K -j sa getspi src 192.0.2.1 dst 192.0.2.10 proto esp min 0x7000 max 0x7000 | jexpr 'd[0]["spi"]')" \
	0x00007000

# monitor -j: one JSON object per event, keys never included
$K sa flush
$K -j monitor > "$TMP/events" 2>&1 &
mon=$!
sleep 1
$K sa add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x4001 mode tunnel \
	aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
$K sa del dst 192.0.2.2 proto esp spi 0x4001
$K policy add dir out src 10.7.0.0/24 dst 10.8.0.0/24 action bypass
$K policy flush
sleep 1
kill $mon
wait $mon 2>/dev/null
t_eq "monitor -j: sa_new, sa_del, policy_new, policy_flush in order" \
	"$(pyrun '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print([e["event"] for e in ev])' "$TMP/events" </dev/null 2>&1)" \
	"['sa_new', 'sa_del', 'policy_new', 'policy_flush']"
t_eq "monitor events carry the SA, without keys" \
	"$(pyrun '
import json, sys
e = json.loads(open(sys.argv[1]).readline())
print(e["sa"]["spi"], "key" in e["sa"].get("aead", {}))' "$TMP/events" </dev/null 2>&1)" \
	"0x00004001 False"
t_check_fail "monitor output has no byte of the key, in any form" \
	grep -Eiq "${AEAD_KEY#0x}|0123456789abcdef|01:23:45:67|01 23 45 67" "$TMP/events"

$K sa flush
kipsec_unload
t_done
