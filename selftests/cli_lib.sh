#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shared start of the CLI tests: lib.sh, JSON helpers for comparing what
# the CLI prints with what was configured (all run in the test's one
# python, see pyrun in lib.sh), and the module loaded with
# empty tables and a scratch directory ($TMP, removed on exit).

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

K="$KIPSEC"
PY=/usr/bin/python3

# jsub EXPECTED_JSON < actual: "ok" when every key of EXPECTED has the same
# value in the actual document (lists: same length, elementwise), else
# the first difference.
jsub() {
	pyrun '
import json, sys
def sub(e, a, p):
    if isinstance(e, dict):
        if not isinstance(a, dict):
            return "%s: expected an object, got %r" % (p or ".", a)
        for k, v in e.items():
            if k not in a:
                return "%s.%s: missing" % (p, k)
            r = sub(v, a[k], p + "." + k)
            if r:
                return r
        return None
    if isinstance(e, list):
        if not isinstance(a, list) or len(a) != len(e):
            return "%s: expected %r, got %r" % (p or ".", e, a)
        for i, (x, y) in enumerate(zip(e, a)):
            r = sub(x, y, "%s[%d]" % (p, i))
            if r:
                return r
        return None
    if e != a:
        return "%s: expected %r, got %r" % (p or ".", e, a)
    return None
try:
    a = json.load(sys.stdin)
except Exception as ex:
    print("bad JSON: %s" % ex); sys.exit(0)
print(sub(json.loads(sys.argv[1]), a, "") or "ok")' "$1"
}

# jsel PYTHON_EXPR < json: the value of the expression over d, as JSON
jsel() {
	pyrun '
import json, sys
d = json.load(sys.stdin)
print(json.dumps(eval(sys.argv[1])))' "$1"
}

# jexpr PYTHON_EXPR < json: prints the value of the expression over d
jexpr() {
	pyrun '
import json, sys
try:
    d = json.load(sys.stdin)
    print(eval(sys.argv[1]))
except Exception as ex:
    print("error: %r" % ex)' "$1"
}

# One python serves every JSON check of the test (pyrun, lib.sh).
pys_start
kipsec_load
$K sa flush
$K policy flush
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
