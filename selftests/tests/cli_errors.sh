#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kipsec: each class of bad input is refused with exit status 1 and one line
# on stderr that quotes the bad word or carries the kernel's message, and
# leaves the SAD and SPD unchanged. Unprivileged callers are refused;
# root in a user namespace may configure its own network namespace.
source "$(dirname "$0")/../lib.sh"

K="$KIPSEC"
PY=/usr/bin/python3

kipsec_load
$K sa flush
$K policy flush
TMP=$(mktemp -d)
chmod 755 "$TMP"
trap 'rm -rf "$TMP"' EXIT

AEAD_KEY=0x0123456789abcdef0123456789abcdef01234567
A="src 192.0.2.1 dst 192.0.2.2 proto esp"

# Some state, so "unchanged" means something.
$K sa add $A spi 0x1000 mode tunnel aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
$K policy add dir out src 10.0.0.0/24 dst 10.1.0.0/24 action protect \
	tmpl proto esp mode tunnel src 192.0.2.1 dst 192.0.2.2

quiet() { "$@" >/dev/null; }

# The tables, without what changes by itself (the SA's age in "current",
# counters in "stats"; both are flat objects), compared as printed rather
# than through python twice per case.
snapshot() {
	{ $K -j sa show; $K -j policy show; } |
		sed -E 's/"(current|stats)":\{[^}]*\},?//g'
}

# expect_err DESC NEEDLE CMD...: exit status 1, exactly one line on stderr
# containing NEEDLE, nothing on stdout, tables unchanged.
expect_err() {
	local desc=$1 needle=$2 before after out rc
	shift 2
	before=$(snapshot)
	out=$("$@" 2>"$TMP/err")
	rc=$?
	after=$(snapshot)
	local lines; lines=$(wc -l < "$TMP/err")
	local msg; msg=$(cat "$TMP/err")
	if [ $rc -ne 1 ]; then
		t_fail "$desc: exit status $rc, expected 1"
	elif [ "$lines" -ne 1 ]; then
		t_fail "$desc: $lines lines on stderr: $msg"
	elif [[ "$msg" != kipsec:* || "$msg" != *"$needle"* ]]; then
		t_fail "$desc: stderr \"$msg\" lacks \"$needle\""
	elif [ -n "$out" ]; then
		t_fail "$desc: output on stdout: $out"
	elif [ "$before" != "$after" ]; then
		t_fail "$desc: tables changed"
	else
		t_ok "$desc"
	fi
}

# Kernel-side rejections: the kernel's extack message follows the errno text.
expect_err "unknown algorithm" "sa add: " \
	$K sa add $A spi 0x2000 aead 'rfc4106(gcm(nosuch))' $AEAD_KEY 128
expect_err "wrong key length" "sa add: " \
	$K sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' 0x0123456789abcdef0123456789abcdef01 128
expect_err "ICV length not allowed" "sa add: " \
	$K sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' $AEAD_KEY 100
expect_err "replay window 5000" "sa add: " \
	$K sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128 replay-window 5000
expect_err "spi 0" "sa add: " \
	$K sa add $A spi 0 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "spi 255" "sa add: " \
	$K sa add $A spi 255 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "duplicate SA (EEXIST)" "File exists" \
	$K sa add $A spi 0x1000 mode tunnel aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "DES refused" "sa add: " \
	$K sa add $A spi 0x2000 enc 'cbc(des)' 0x0011223344556677 \
	auth-trunc 'hmac(sha256)' 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 128
expect_err "MD5 refused" "sa add: " \
	$K sa add $A spi 0x2000 enc 'cbc(aes)' 0x00112233445566778899aabbccddeeff \
	auth-trunc 'hmac(md5)' 0x00112233445566778899aabbccddeeff 96
expect_err "protect without template" "policy add: " \
	$K policy add dir out src 10.2.0.0/24 dst 10.3.0.0/24 action protect
expect_err "tunnel template without endpoints" "policy add: " \
	$K policy add dir out src 10.2.0.0/24 dst 10.3.0.0/24 action protect \
	tmpl proto esp mode tunnel
expect_err "sa del of a missing SA" "sa del: " \
	$K sa del $A spi 0x9999
expect_err "policy del of a missing id" "policy del: " \
	$K policy del id 4000000000

# Parse-time rejections: the bad word is quoted.
expect_err "prefix /33 for IPv4" '"10.2.0.0/33"' \
	$K policy add dir out src 10.2.0.0/33 dst 10.3.0.0/24 action bypass
expect_err "mismatched families (sa)" '"2001:db8::2"' \
	$K sa add src 192.0.2.1 dst 2001:db8::2 proto esp spi 0x2000 \
	aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "mismatched families (policy)" '"2001:db8::/32"' \
	$K policy add dir out src 10.2.0.0/24 dst 2001:db8::/32 action bypass
expect_err "missing dst" '"dst"' \
	$K sa add src 192.0.2.1 proto esp spi 0x2000 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "unknown keyword" '"foo"' \
	$K sa add $A spi 0x2000 foo bar
expect_err "garbage number" '"12abc"' \
	$K sa add $A spi 0x2000 reqid 12abc aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "garbage spi" '"0xZZ"' \
	$K sa add $A spi 0xZZ aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "odd hex key" '"0x123"' \
	$K sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' 0x123 128
expect_err "bad direction" '"sideways"' \
	$K policy add dir sideways src any dst any action bypass
expect_err "bad address" '"192.0.2.300"' \
	$K sa add src 192.0.2.300 dst 192.0.2.2 proto esp spi 0x2000
expect_err "unknown command" '"frobnicate"' $K frobnicate
printf 'sa add %s spi 0x3000 aead rfc4106(gcm(aes)) %s 128\nsa add %s spi 0x3001 bogus\n' \
	"$A" "$AEAD_KEY" "$A" > "$TMP/batch"
before=$(snapshot)
$K -batch "$TMP/batch" 2>"$TMP/err"
rc=$?
t_eq "batch error: exit status 1" "$rc" 1
t_eq "batch error names the line" "$(cat "$TMP/err")" \
	'kipsec: batch line 2: unknown keyword "bogus" in sa add'
t_check "batch lines before the error were applied" quiet $K sa get $A spi 0x3000
$K sa del $A spi 0x3000

# Kernel errors inside one pipelined write: only the write's last request
# asks for an ack, so each error must still come back, named by its line,
# whether it is the last request or not; -force applies the rest.
SA3="aead rfc4106(gcm(aes)) $AEAD_KEY 128"
for spi in 0x3002 0x3002 0x3003 0x3003 0x3004 0x3004; do
	echo "sa add $A spi $spi $SA3"
done > "$TMP/batch"
$K -force -batch "$TMP/batch" 2>"$TMP/err"
rc=$?
t_eq "batch kernel errors: exit status 1" "$rc" 1
t_eq "batch kernel errors: each named by its line (2, 4, 6)" \
	"$(sed -n 's/^kipsec: batch line \([0-9]*\): sa add: File exists.*/\1/p' "$TMP/err" | tr '\n' ' ')" \
	"2 4 6 "
t_eq "batch kernel errors: nothing else reported" "$(wc -l < "$TMP/err")" 3
t_check "batch lines after a kernel error were applied" \
	quiet $K sa get $A spi 0x3004
for spi in 0x3002 0x3003 0x3004; do $K sa del $A spi $spi; done

# Unprivileged: no CAP_NET_ADMIN, no change, no keys.
# (a copy nobody can surely execute, wherever $KIPSEC lives)
NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all"
install -m 0755 "$K" "$TMP/kipsec"
expect_err "unprivileged sa add (EPERM)" "Operation not permitted" \
	$NOBODY "$TMP/kipsec" sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
expect_err "unprivileged policy add (EPERM)" "Operation not permitted" \
	$NOBODY "$TMP/kipsec" policy add dir out src any dst any action bypass
expect_err "unprivileged sa show -k" "Operation not permitted" \
	$NOBODY "$TMP/kipsec" -k sa show
expect_err "unprivileged sa flush" "Operation not permitted" \
	$NOBODY "$TMP/kipsec" sa flush
# Root of a user namespace acting on the initial network namespace.
expect_err "user-ns root on init netns (EPERM)" "Operation not permitted" \
	unshare -U -r $K sa add $A spi 0x2000 aead 'rfc4106(gcm(aes))' $AEAD_KEY 128
# Root of a user namespace in its own network namespace: a container.
before=$(snapshot)
out=$(unshare -U -r -n sh -c "
	$K sa add $A spi 0x2000 mode tunnel aead 'rfc4106(gcm(aes))' $AEAD_KEY 128 &&
	$K policy add dir out src 10.9.0.0/24 dst 10.8.0.0/24 action protect \
		tmpl proto esp mode tunnel src 192.0.2.1 dst 192.0.2.2 &&
	$K -j stats" 2>&1)
t_eq "user-ns root in its own netns can add an SA and a policy" \
	"$(echo "$out" | "$PY" -c '
import json, sys
text = sys.stdin.read()
try:
    d = json.loads(text)[0]
    print(d["sa_count"], d["policy_count"])
except Exception:
    print("failed: " + " | ".join(text.splitlines()))')" \
	"1 1"
t_eq "the container's state stays in its netns" "$(snapshot)" "$before"

$K sa flush
$K policy flush
kipsec_unload
t_done
