#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the SPD lookup itself, timed in the module (the debug build's
# selftest_bench=1 runs kipsec_policy_lookup_rcu() over 100,000 random
# flows at 10, 1k, 10k and 100k policies, IPv4 and IPv6, with the same nine
# prefix-length classes at every size and every class probed per lookup).
# Prints the kernel's figures, with what the random-flow lookups did at
# each size (classes probed, filter passes, buckets found, policies
# compared): the same work at every size means that the difference in
# time is the memory's. Fails only if the benchmark did not run.

. "$(dirname "$0")/../lib.sh"

dmesg -C
if ! insmod "$KIPSEC_DEBUG_KO" selftest_bench=1; then
	t_fail "load the debug build with selftest_bench=1"
	t_done
fi
out=$(dmesg | sed -n 's/.*kipsec: policy bench: //p')
rmmod kipsec
while IFS= read -r line; do
	t_diag "$line"
done <<<"$out"
for f in 4 6; do
	if grep -q "IPv$f random flows, 100000 policies in .* ns/lookup" <<<"$out" &&
	   grep -q "IPv$f one flow, 100000 policies in .* ns/lookup" <<<"$out"; then
		t_ok "IPv$f lookups timed at 10 to 100k policies"
	else
		t_fail "IPv$f lookups timed at 10 to 100k policies"
	fi
done
t_done
