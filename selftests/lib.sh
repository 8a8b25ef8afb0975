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

# kipsec_load [PARAM=VALUE...]: insmod the module under test, with
# KIPSEC_MODPARAMS (e.g. "parallel=1", from the host's environment) first,
# so that the caller's own parameters win.
kipsec_load() {
	# shellcheck disable=SC2086 # a list of words
	kipsec_loaded || insmod "$KIPSEC_KO" ${KIPSEC_MODPARAMS:-} "$@"
}

kipsec_unload() {
	kipsec_loaded || return 0
	rmmod kipsec
}

# Run a command in a network namespace: n NS CMD...
n() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# t_relay: re-number a test program's KTAP points (on stdin) into this
# test's sequence.
t_relay() {
	local line
	while IFS= read -r line; do
		case $line in
		"ok "*) t_ok "${line#ok * }" ;;
		"not ok "*) t_fail "${line#not ok * }" ;;
		"# "*) t_diag "${line#\# }" ;;
		*) t_diag "$line" ;;
		esac
	done
}

# Delete every named network namespace (test clean-up).
netns_cleanup() { ip -all netns delete 2>/dev/null || true; }

# --- waiting without processes ------------------------------------------------
#
# Under TCG /bin/sleep's own start costs more than the short waits of a
# polling loop, and on one vCPU the loop's processes take the CPU from
# what it waits for (tcpdump starting, charon, a kworker). nap sleeps in
# bash itself: a read that times out on a FIFO nobody writes to, opened
# here once (subshells and background jobs inherit it).
#
#   nap SECS            sleep SECS (fractions allowed)
#   file_has FILE TEXT  a line of FILE holds TEXT (no grep)

NAP_FD=""
if { [ -p "/tmp/.nap.$$" ] || mkfifo "/tmp/.nap.$$"; } 2>/dev/null; then
	exec {NAP_FD}<>"/tmp/.nap.$$"
fi

nap() {
	# A read that fails rather than times out (status 128 or less) falls
	# back to sleep, so that a polling loop never spins through its turns.
	if [ -z "$NAP_FD" ] || { read -r -t "$1" -u "$NAP_FD" _ 2>/dev/null; [ $? -le 128 ]; }; then
		sleep "$1"
	fi
	return 0
}

file_has() {
	local l
	[ -f "$1" ] || return 1
	while IFS= read -r l || [ -n "$l" ]; do
		[[ $l == *"$2"* ]] && return 0
	done <"$1"
	return 1
}

# --- one python per test ----------------------------------------------------
#
# A python start costs about a second under TCG, and the JSON checks of a
# test run python dozens of times. pys_start starts one python for the test
# (in the main shell, before any check: the FIFOs it opens must be
# inherited by the subshells of pipelines and command substitutions);
# pyrun then runs each snippet in it, as `python3 -c SCRIPT ARG...` would:
# stdin, sys.argv, stdout and the exit status are the snippet's own, stderr
# the test's. Without pys_start pyrun starts a python of its own. Snippets
# run one at a time (not from two background jobs at once) and in the
# network namespace the server was started in:
#
#   pys_start [NS [MODULE...]]   NS: run the server there (default: the
#                                test's own); MODULEs are imported at once,
#                                while the test goes on (scapy takes many
#                                seconds under TCG)

_PYS_SERVER='
import io, os, sys, traceback
req = open(sys.argv[1], "rb")
rsp = open(sys.argv[2], "wb")
for m in sys.argv[3:]:
    __import__(m)
def part():
    return req.read(int(req.readline())).decode("utf-8", "surrogateescape")
while True:
    head = req.readline()
    if not head:
        break
    parts = [part() for _ in range(int(head))]
    out = io.StringIO()
    saved = sys.stdin, sys.stdout, sys.argv
    sys.stdin, sys.stdout = io.StringIO(parts[-1]), out
    sys.argv = ["-c"] + parts[1:-1]
    rc = 0
    try:
        exec(compile(parts[0], "<pyrun>", "exec"), {"__name__": "__main__"})
    except SystemExit as e:
        if e.code is None:
            rc = 0
        elif isinstance(e.code, int):
            rc = e.code
        else:
            print(e.code, file=sys.stderr)
            rc = 1
    except BaseException:
        traceback.print_exc()
        rc = 1
    finally:
        sys.stdin, sys.stdout, sys.argv = saved
    b = out.getvalue().encode("utf-8", "surrogateescape")
    rsp.write(b"%d %d\n" % (rc, len(b)) + b)
    rsp.flush()
'

PYS_W=""
PYS_R=""

pys_start() {
	local d ns=${1:-}
	[ $# -gt 0 ] && shift
	d=$(mktemp -d /tmp/pys.XXXXXX) || return 1
	mkfifo "$d/req" "$d/rsp" || return 1
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$PY" -c "$_PYS_SERVER" "$d/req" "$d/rsp" "$@" &
	else
		"$PY" -c "$_PYS_SERVER" "$d/req" "$d/rsp" "$@" &
	fi
	# Both sides open req first, then rsp: no deadlock.
	exec {PYS_W}>"$d/req" {PYS_R}<"$d/rsp"
	rm -rf "$d"
}

# pyrun SCRIPT [ARG...] < input
pyrun() {
	[ -n "$PYS_W" ] || { "$PY" -c "$@"; return; }
	local LC_ALL=C in a rc len out
	in=$(cat; echo .)
	in=${in%.}
	{
		printf '%d\n' $(($# + 1))
		for a in "$@" "$in"; do printf '%d\n%s' "${#a}" "$a"; done
	} >&"$PYS_W" || return 1
	read -r -t 300 rc len <&"$PYS_R" || return 1
	# bash's read takes a pipe a byte at a time: head for long outputs
	# (the pipe holds no more than these bytes).
	if [ "$len" -gt 1024 ]; then
		head -c "$len" <&"$PYS_R"
	elif [ "$len" -gt 0 ]; then
		IFS= read -r -N "$len" -t 300 out <&"$PYS_R"
		printf '%s' "$out"
	fi
	return "$rc"
}

# JSON query with Debian's python: jq_py 'EXPR' < json  (EXPR sees `d`)
jq_py() { pyrun "import json,sys; d=json.load(sys.stdin); print($1)"; }
