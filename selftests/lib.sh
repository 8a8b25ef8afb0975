#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Sourced by every selftests/tests/*.sh inside the guest. Prints KTAP test
# points; the runner re-indents them under the test's name and counts them.
#
#   t_ok DESC / t_fail DESC [WHY]     record a result
#   t_check DESC CMD...               ok if CMD exits 0 (output shown on failure)
#   t_check_fail DESC CMD...          ok if CMD exits non-zero
#   t_eq DESC ACTUAL EXPECTED         ok if the strings are equal
#   t_diag TEXT                       a KTAP diagnostic line ("# TEXT")
#   t_done                            print the plan, exit 1 if anything failed
#
# Environment (written by the runner): KIPSEC_TOP, KIPSEC_KO,
# KIPSEC_TESTMOD_KO, KIPSEC (the CLI), KIPSEC_BIN_DIR (compiled test
# programs), KIPSEC_SERIES (6.1 or 6.12), KIPSEC_STRESS (1 for make stress).

set -u

T_N=0
T_FAILED=0
PY=/usr/bin/python3

echo "KTAP version 1"

t_diag() { printf '# %s\n' "$*"; }

t_ok() {
	T_N=$((T_N + 1))
	printf 'ok %d %s\n' "$T_N" "$1"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	printf 'not ok %d %s\n' "$T_N" "$1"
	[ $# -lt 2 ] || t_diag "$2"
}

_t_show() { sed -e 's/^/# | /' | tail -n 25; }

t_check() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -eq 0 ]; then
		t_ok "$desc"
	else
		t_fail "$desc" "exit $rc: $*"
		printf '%s\n' "$out" | _t_show
	fi
}

t_check_fail() {
	local desc=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" -ne 0 ]; then
		t_ok "$desc"
	else
		t_fail "$desc" "expected failure, got success: $*"
		printf '%s\n' "$out" | _t_show
	fi
}

t_eq() {
	if [ "$2" == "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1" "got '$2', expected '$3'"
	fi
}

t_done() {
	printf '1..%d\n' "$T_N"
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# --- helpers ---------------------------------------------------------------

kipsec_loaded() { [ -d /sys/module/kipsec ]; }

kipsec_load() {
	kipsec_loaded || insmod "$KIPSEC_KO" "$@"
}

kipsec_unload() {
	kipsec_loaded || return 0
	rmmod kipsec
}

# Run a command in a network namespace: n NS CMD...
n() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# Delete every named network namespace (test clean-up).
netns_cleanup() { ip -all netns delete 2>/dev/null || true; }

# JSON query with Debian's python: jq_py 'EXPR' < json  (EXPR sees `d`)
jq_py() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
