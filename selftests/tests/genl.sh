#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Permissions of the generic netlink family: every state-changing or
# key-revealing command needs CAP_NET_ADMIN in the user namespace that owns
# the network namespace.

. "$(dirname "$0")/../lib.sh"

kipsec_load
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"; }

t_check "the family is visible to genl's controller" \
	bash -c "ip -j link >/dev/null; $KIPSEC stats >/dev/null"
t_check "an unprivileged user may read the version and counters" nobody "$KIPSEC" stats

for cmd in "sa flush" "policy flush" "sa show" "policy show"; do
	# shellcheck disable=SC2086
	out=$(nobody "$KIPSEC" $cmd 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ] && grep -qi 'not permitted' <<<"$out"; then
		t_ok "unprivileged '$cmd' is refused with EPERM"
	else
		t_fail "unprivileged '$cmd' is refused with EPERM" "rc=$rc: $out"
	fi
	# shellcheck disable=SC2086
	out=$(unshare -U -r "$KIPSEC" $cmd 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ] && grep -qi 'not permitted' <<<"$out"; then
		t_ok "user-namespace root acting on the init namespace: '$cmd' refused"
	else
		t_fail "user-namespace root acting on the init namespace: '$cmd' refused" "rc=$rc: $out"
	fi
done
t_check "user-namespace root in its own network namespace may configure it" \
	unshare -U -r -n "$KIPSEC" policy flush
t_done
