#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The module loads on this kernel, its in-module self-tests pass, the
# generic netlink family answers, the netfilter hooks see traffic in each
# namespace, and 5 (stress: 50) load/unload cycles run while namespaces come and go.

. "$(dirname "$0")/../lib.sh"
# One python for the 13 JSON reads below (pyrun, lib.sh).
pys_start

stat_of() { # NS KEY: one namespace counter from `kipsec -j stats`
	# (one process: kipsec enters the namespace, bash's regex takes the
	# figure out, as net.sh's kipsec_stat does)
	local out
	out=$("$KIPSEC" -n "$1" -j stats) &&
		[[ $out =~ \"$2\":\ *([0-9]+) ]] && echo "${BASH_REMATCH[1]}"
}

n0=$(dmesg | wc -l)
t_check "insmod the debug build" insmod "$KIPSEC_KO"
log=$(dmesg | tail -n +$((n0 + 1)))
for st in policy sa crypto ah; do
	if grep -q "kipsec: $st self-tests: pass" <<<"$log"; then
		t_ok "in-module $st self-tests pass"
	else
		t_fail "in-module $st self-tests pass" "no '$st self-tests: pass' in dmesg"
	fi
done
t_check "no self-test failed" bash -c "! grep -qi 'self-tests: fail' <<<\"\$1\"" _ "$log"
# The AH self-test's expected values, recomputed with python3-cryptography
# (published vectors and whole packets): a typo in the table fails here.
t_check "AH ICV tables agree with python3-cryptography" \
	"$PY" "$KIPSEC_TOP/selftests/vectors/ah_vectors.py" check \
	"$KIPSEC_TOP/kmod/selftest/ah.c"

ver=$("$KIPSEC" -j stats | jq_py "d[0]['version']" 2>/dev/null)
t_eq "the CLI resolves the family; GET_STATS returns the module version" \
	"$ver" "$(cat /sys/module/kipsec/version 2>/dev/null)"

# Hooks count per namespace: 5 pings on loopback are 10 packets through
# POST_ROUTING and 10 through LOCAL_IN (requests and replies), for each
# family, and nothing in any other namespace.
ip netns add hk1
ip netns add hk2
n hk1 ip link set dev lo up
for fam in 4 6; do
	in0=$(stat_of hk1 hook_in); out0=$(stat_of hk1 hook_out)
	other0=$(stat_of hk2 hook_in)
	n hk1 ping -$fam -c 5 -i 0.05 -q "$([ $fam = 4 ] && echo 127.0.0.1 || echo ::1)" >/dev/null
	t_eq "IPv$fam: LOCAL_IN hook counted 10 packets" "$(( $(stat_of hk1 hook_in) - in0 ))" 10
	t_eq "IPv$fam: POST_ROUTING hook counted 10 packets" "$(( $(stat_of hk1 hook_out) - out0 ))" 10
	t_eq "IPv$fam: another namespace's counters did not move" "$(stat_of hk2 hook_in)" "$other0"
done
netns_cleanup
t_check "rmmod" rmmod kipsec

# Load/unload cycles while another process creates and destroys namespaces.
(
	i=0
	while [ ! -e /tmp/churn.stop ]; do
		ip netns add "churn$i" 2>/dev/null && ip -n "churn$i" link set dev lo up
		ip netns del "churn$i" 2>/dev/null
		i=$((i + 1))
	done
) &
churn=$!
ok=0
cycles=5
[ "${KIPSEC_STRESS:-0}" = 1 ] && cycles=50
for i in $(seq 1 "$cycles"); do
	insmod "$KIPSEC_KO" || break
	ip netns add cyc || break
	ip netns exec cyc "$KIPSEC" stats >/dev/null || break
	"$KIPSEC" stats >/dev/null || break
	# a namespace destroyed while the module is loaded
	ip netns del cyc || break
	rmmod kipsec || break
	ok=$i
done
touch /tmp/churn.stop
wait "$churn"
t_eq "$cycles load/unload cycles with namespaces created and destroyed meanwhile" "$ok" "$cycles"
t_check "module is gone" bash -c '! test -d /sys/module/kipsec'
t_done
