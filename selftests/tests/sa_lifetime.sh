#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# SA lifetimes, kipsec at both ends (a -- m -- b, tunnel mode, IPv4): soft
# and hard limits by packets, bytes, seconds since add and seconds since
# first use each produce exactly one EXPIRE soft and one EXPIRE hard
# notification (seen by `kipsec monitor -j`), the SA is gone after hard,
# and traffic after hard is dropped and counted (fail closed: no
# cleartext on the wire). The inbound side enforces its own limit too.

. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../net.sh"
. "$(dirname "$0")/../algs.sh"

GCM="aead 'rfc4106(gcm(aes))' $K20 128"
ka() { "$KIPSEC" -n a "$@"; }
kb() { "$KIPSEC" -n b "$@"; }

# setup LFT_A_OUT LFT_B_IN: a's outbound SA and b's inbound SA (0x1001)
# carry the given lifetime words. (One kipsec -batch per end: every
# process start costs under TCG.)
setup() {
	ka -batch - <<-EOF &&
	sa flush
	policy flush
	sa add src $A4 dst $B4 proto esp spi 0x1001 mode tunnel reqid 1 $GCM $1
	sa add src $B4 dst $A4 proto esp spi 0x2001 mode tunnel reqid 2 $GCM
	policy add dir out src $A4 dst $B4 action protect tmpl proto esp mode tunnel src $A4 dst $B4 reqid 1
	policy add dir in src $B4 dst $A4 action protect tmpl proto esp mode tunnel src $B4 dst $A4 reqid 2
	EOF
	kb -batch - <<-EOF
	sa flush
	policy flush
	sa add src $A4 dst $B4 proto esp spi 0x1001 mode tunnel reqid 1 $GCM $2
	sa add src $B4 dst $A4 proto esp spi 0x2001 mode tunnel reqid 2 $GCM
	policy add dir out src $B4 dst $A4 action protect tmpl proto esp mode tunnel src $B4 dst $A4 reqid 2
	policy add dir in src $A4 dst $B4 action protect tmpl proto esp mode tunnel src $A4 dst $B4 reqid 1
	EOF
}

# The monitors of a and b, started once; ready when they printed an event
# for a probe SA.
monitors_start() {
	local ns i
	for ns in a b; do
		n $ns "$KIPSEC" monitor -j >/tmp/mon.$ns 2>&1 &
	done
	for i in $(seq 1 100); do
		eval "ka sa add src 192.0.2.9 dst 192.0.2.8 proto esp spi 0x9999 $GCM"
		eval "kb sa add src 192.0.2.9 dst 192.0.2.8 proto esp spi 0x9999 $GCM"
		ka sa del dst 192.0.2.8 proto esp spi 0x9999
		kb sa del dst 192.0.2.8 proto esp spi 0x9999
		file_has /tmp/mon.a sa_new && file_has /tmp/mon.b sa_new && return 0
		nap 0.2
	done
	return 1
}

# expires NS soft|hard: EXPIRE events of that kind for SPI 0x1001 so far
expires() {
	pyrun '
import json, sys
n = 0
for line in open("/tmp/mon." + sys.argv[1]):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    if isinstance(e, list):
        e = e[0] if e else {}
    sa = e.get("sa", {})
    if (e.get("event") == "sa_expire" and
            bool(e.get("hard")) == (sys.argv[2] == "hard") and
            str(sa.get("spi")) in ("0x1001", "4097", "0x00001001")):
        n += 1
print(n)' "$1" "$2" </dev/null
}

# (net.sh's one-process counter readers)
ns_stat() { kipsec_stat "$1" "$2"; }
sa_in() { kipsec_sa_pkts "$1" "$3" "$2" in; }
gone() { ! "$KIPSEC" -n "$1" sa get dst "$2" proto esp spi 0x1001 >/dev/null 2>&1; }
marks() { echo "$(expires a soft)/$(expires a hard)"; }

# wait_for CMD...: up to 10 s for CMD to succeed
wait_for() {
	local i
	for ((i = 0; i < 50; i++)); do "$@" && return 0; nap 0.2; done
	return 1
}

pys_start
kipsec_load
topo_hosts
t_check "monitors of a and b listen" monitors_start

# --- packets: soft 3, hard 5; 8 pings, b decrypts exactly 5 ----------------
lft_case() { # NAME LFT PINGS WANT_B_IN
	local name=$1 d0 d1 s0 s1 ea
	ea=$(marks)
	if ! setup "$2" ""; then
		t_fail "$name: configure"
		return
	fi
	capture_start wire m m0 || { t_fail "$name: capture"; return; }
	d0=$(ns_stat a out_no_sa); s0=$(ns_stat a out_sa_expired)
	n a ping -q -c "$3" -i 0.2 -W 1 -p "$MARKER_HEX" $B4 >/dev/null 2>&1
	d1=$(ns_stat a out_no_sa); s1=$(ns_stat a out_sa_expired)
	capture_stop
	t_eq "$name: b decrypted exactly $4" "$(sa_in b $B4 0x1001)" "$4"
	t_check "$name: a's SA is gone after its hard limit" gone a $B4
	t_eq "$name: one soft and one hard EXPIRE (before: $ea)" \
		"$(marks)" "$((${ea%/*} + 1))/$((${ea#*/} + 1))"
	t_eq "$name: the $(($3 - $4)) pings after hard dropped and counted" \
		"$(((d1 - d0) + (s1 - s0)))" "$(($3 - $4))"
	t_check_fail "$name: no cleartext marker on the wire" \
		pcap_has_text wire "$MARKER_PING"
}

lft_case "packets soft 3 hard 5" "lifetime soft packets 3 lifetime hard packets 5" 8 5
# 84-byte inner packets: 252 crosses soft 200; the 5th (420) starts below
# hard 400 and goes; the 6th would start beyond it.
lft_case "bytes soft 200 hard 400" "lifetime soft bytes 200 lifetime hard bytes 400" 8 5

# --- seconds since add: soft 2, hard 4, no traffic ---------------------------
ea=$(marks)
if setup "lifetime soft add 2 lifetime hard add 4" ""; then
	t_check "add time: a's SA is gone within 10 s" wait_for gone a $B4
	t_eq "add time: one soft and one hard EXPIRE" \
		"$(marks)" "$((${ea%/*} + 1))/$((${ea#*/} + 1))"
else
	t_fail "add time: configure"
fi

# --- seconds since first use: nothing before use; soft 2, hard 4 after -----
# Two seconds between soft and hard, as for add time: a lifetime check that
# runs when both are due sends only the hard EXPIRE (as XFRM does), and
# with one second between them a run on a busy host once got the hard one
# alone.
ea=$(marks)
if setup "lifetime soft use 2 lifetime hard use 4" ""; then
	sleep 4
	t_eq "use time: no EXPIRE before the first use" "$(marks)" "$ea"
	t_check "use time: SA still there before the first use" \
		ka sa get dst $B4 proto esp spi 0x1001
	t_check "use time: first use" n a ping -c 1 -W 2 $B4
	t_check "use time: a's SA is gone within 10 s of its first use" \
		wait_for gone a $B4
	t_eq "use time: one soft and one hard EXPIRE" \
		"$(marks)" "$((${ea%/*} + 1))/$((${ea#*/} + 1))"
else
	t_fail "use time: configure"
fi

# --- inbound: b's SA hard packets 2; a sends 4 ------------------------------
eb="$(expires b hard)"
if setup "" "lifetime hard packets 2"; then
	i0=$(($(ns_stat b in_no_sa) + $(ns_stat b in_sa_invalid)))
	n a ping -q -c 4 -i 0.2 -W 1 $B4 >/dev/null 2>&1
	i1=$(($(ns_stat b in_no_sa) + $(ns_stat b in_sa_invalid)))
	t_check "inbound: b's SA is gone after 2 packets" gone b $B4
	t_eq "inbound: b's hard EXPIRE" "$(expires b hard)" "$((eb + 1))"
	t_eq "inbound: the 2 packets after hard dropped and counted at b" \
		"$((i1 - i0))" 2
else
	t_fail "inbound: configure"
fi

pkill -f "kipsec monitor -j" 2>/dev/null
netns_cleanup
kipsec_unload
t_done
