#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Malformed and hostile generic netlink requests (genl_malformed.c, built
# on the host): each fails with the expected errno and an extack message,
# and the SAD and SPD stay empty. Runs in a fresh namespace.

. "$(dirname "$0")/../lib.sh"

bin=${KIPSEC_BIN_DIR:-}/genl_malformed
kipsec_load
ip netns add gm
if [ ! -x "$bin" ]; then
	t_fail "genl_malformed is built" "missing $bin"
else
	out=$(ip netns exec gm "$bin" 2>&1) && rc=0 || rc=$?
	t_relay <<<"$out"
	t_eq "genl_malformed exit status" "$rc" 0
fi
netns_cleanup
kipsec_unload
t_done
