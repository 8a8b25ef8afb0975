#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The generic netlink fuzzer (genl_fuzz.c, built on the host), in a fresh
# namespace:
#   1. as root: every message is answered, replies parse, no key leaks,
#      and afterwards dumps, GET_STATS counts and per-object GETs agree;
#   2. as uid 65534 in a new user namespace, against a namespace holding
#      a few SAs and policies: nothing changes or reads state (EPERM), the
#      open commands answer, no multicast group may be joined, and the SAs
#      and policies are exactly as before; a container (user namespace root
#      with a network namespace of its own) sees and hears none of them.
#   3. no leak: kipsec's live SA and policy objects and in-flight packets
#      are 0 after the flush, and the kmalloc caches are back to their
#      usage before the module was loaded (leak.sh; the baseline follows a
#      short warm-up cycle).
# Seeded: the seed is printed; KIPSEC_FUZZ_SEED=N reproduces a run.
# make check sends GENL_FUZZ_COUNT (default 20000) messages as root and a
# fifth of that unprivileged: under TCG the kernel answers 450 to 1400 a
# second as root (5000 unprivileged, refused early) depending on the
# host's load, and the whole test (warm-up and leak check included) should
# stay near 60 s. make stress sends 1000000 of each (GENL_FUZZ_COUNT
# overrides).
# kipsec-test: stress-timeout 5400

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../leak.sh"

bin=${KIPSEC_BIN_DIR:-}/genl_fuzz
count=${GENL_FUZZ_COUNT:-20000}
ucount=$((count / 5))
[ "${KIPSEC_STRESS:-0}" = 1 ] && count=${GENL_FUZZ_COUNT:-1000000} ucount=$count
seed=${KIPSEC_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
t_diag "seed $seed"

if [ ! -x "$bin" ]; then
	t_fail "genl_fuzz is built" "missing $bin"
	t_done
fi

K="n gf $KIPSEC"
# A few objects the unprivileged run must leave alone.
few_objects() {
	$K sa add src 10.0.0.5 dst 10.0.0.1 proto esp spi 0x5001 mode tunnel reqid 1 \
		aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
	$K sa add src 10.0.0.1 dst 10.0.0.5 proto ah spi 0x5002 mode transport \
		auth-trunc 'hmac(sha256)' 0x$(printf '%02x' $(seq 1 32)) 128
	$K policy add dir out src 10.1.0.0/24 dst 10.2.0.0/24 action protect \
		tmpl proto esp mode tunnel src 10.0.0.5 dst 10.0.0.1 reqid 1
	$K policy add dir in src 10.2.0.0/24 dst 10.1.0.0/24 action discard
}
# The kernel log from a marker on, or all of it if a long run wrapped
# past the marker.
log_since() {
	local log
	log=$(dmesg)
	if grep -qF "$1" <<<"$log"; then
		sed -n "/$1/,\$p" <<<"$log"
	else
		printf '%s\n' "$log"
	fi
}

sa_key() {
	$K -j -k sa get dst 10.0.0.1 proto esp spi 0x5001 |
		sed -n 's/.*"aead":{[^}]*"key":"\(0x[0-9a-f]*\)".*/\1/p'
}

# Warm-up: the algorithms' first use loads crypto modules and instances,
# uid 65534's first user namespace leaves per-user state, and each program
# first read from the host's 9p root leaves cached inodes: all of that
# stays. So the same steps run once before the baseline is taken.
base=$(mktemp)
kipsec_load
ip netns add gf
n gf "$bin" --seed $((seed + 1)) --count 1000 >/dev/null 2>&1
few_objects >/dev/null 2>&1
n gf "$bin" --snapshot >/dev/null 2>&1
n gf "$bin" --seed $((seed + 1)) --count 200 --unpriv >/dev/null 2>&1
sa_key >/dev/null 2>&1
$K sa flush
$K policy flush
netns_cleanup
leak_wait_objects "0 0 0" >/dev/null
kipsec_unload
sleep 1
leak_slab_snapshot "$base"
leak_slab_snapshot "$base"

kipsec_load
ip netns add gf

# kipsec's longest formatted extack messages (the longest algorithm name,
# three-digit lengths) arrive whole; the kernel would log "truncated
# extack" otherwise (checked at the end, for the fuzzed messages too).
echo "genl_fuzz: fuzzing starts" >/dev/kmsg
chacha="src 10.0.0.5 dst 10.0.0.1 proto esp spi 0x5003 mode tunnel aead rfc7539esp(chacha20,poly1305)"
# 6.1 has no formatted extack: its constant messages end the same way.
for c in "128 128 *salt/nonce)|*salt/nonce included)" \
	 "36 448 *(default 128)|*not allowed for the algorithm"; do
	read -r kb icv ends <<<"$c"
	# shellcheck disable=SC2086
	msg=$($K sa add $chacha "0x$(printf "%0$((kb * 2))d" 0)" "$icv" 2>&1)
	t_diag "$msg"
	# shellcheck disable=SC2254
	case $msg in
	${ends%|*}|${ends#*|}) t_ok "chacha20-poly1305 with a $kb-byte key, $icv-bit ICV: the extack arrives whole" ;;
	*) t_fail "chacha20-poly1305 with a $kb-byte key, $icv-bit ICV: the extack arrives whole" ;;
	esac
done

t0=$(date +%s.%N)
out=$(n gf "$bin" --seed "$seed" --count "$count" 2>&1) && rc=0 || rc=$?
t_relay <<<"$out"
t_eq "genl_fuzz as root: exit status" "$rc" 0
t_diag "root run took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

few_objects

# A container (root of a user namespace, in a network namespace of its
# own) has tables of its own: its dumps show none of gf's SAs and
# policies, and its monitor hears none of gf's events (while gf adds and
# deletes an SA) but its own (which shows it was listening).
cdir=$(mktemp -d)
# shellcheck disable=SC2016
unshare -U -r -n bash -c '
	k=$1 d=$2
	"$k" -j monitor >"$d/mon" 2>&1 &
	for _ in $(seq 1 150); do
		"$k" sa add src 10.9.0.1 dst 10.9.0.2 proto esp spi 0x9999 mode transport \
			aead "rfc4106(gcm(aes))" 0x0102030405060708090a0b0c0d0e0f1011121314 128
		grep -q 0x00009999 "$d/mon" && break
		"$k" sa flush
		sleep 0.2
	done >/dev/null 2>&1
	touch "$d/ready"
	for _ in $(seq 1 300); do [ -e "$d/done" ] && break; sleep 0.1; done
	sleep 1
	"$k" -j sa show >"$d/sas" 2>&1
	"$k" -j policy show >"$d/pols" 2>&1
	kill %1' _ "$KIPSEC" "$cdir" &
cpid=$!
for _ in $(seq 1 300); do [ -e "$cdir/ready" ] && break; sleep 0.1; done
$K sa add src 10.0.0.5 dst 10.0.0.1 proto esp spi 0x5007 mode tunnel reqid 1 \
	aead 'rfc4106(gcm(aes))' 0x0102030405060708090a0b0c0d0e0f1011121314 128
$K sa del dst 10.0.0.1 proto esp spi 0x5007
touch "$cdir/done"
wait "$cpid"
t_check "a container's monitor hears its own SA" grep -q 0x00009999 "$cdir/mon"
t_check_fail "a container's monitor hears none of another namespace's events" \
	grep -qE '0x0000500[0-9]|10\.0\.0\.' "$cdir/mon"
t_check "a container's SA dump shows its own SA" grep -q 0x00009999 "$cdir/sas"
t_check_fail "a container's SA and policy dumps show none of another namespace's" \
	grep -qE '0x0000500[0-9]|10\.[12]\.0\.0|10\.0\.0\.' "$cdir/sas" "$cdir/pols"
rm -rf "$cdir"

before=$(n gf "$bin" --snapshot)
t_eq "state before the unprivileged run" "${before% fingerprint*}" "2 SAs, 2 policies,"

t0=$(date +%s.%N)
out=$(n gf "$bin" --unpriv --seed "$seed" --count "$ucount" 2>&1) &&
	rc=0 || rc=$?
t_relay <<<"$out"
t_eq "genl_fuzz unprivileged: exit status" "$rc" 0
t_diag "unprivileged run took $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
t_eq "the unprivileged run changed no SA or policy" \
	"$(n gf "$bin" --snapshot)" "$before"
t_eq "the SA key is still the one installed" "$(sa_key)" \
	0x0102030405060708090a0b0c0d0e0f1011121314

$K sa flush
$K policy flush
netns_cleanup
leak_objects_zero "after the flush and the namespace's deletion"
kipsec_unload
t_check_fail "no extack message was truncated (kernel log)" \
	grep -q 'truncated extack' <<<"$(log_since "genl_fuzz: fuzzing starts")"
leak_slab_check "after unload" "$base"
rm -f "$base"
t_done
