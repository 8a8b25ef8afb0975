#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs the CLI selftests (selftests/tests/cli_*.sh) against mock_kernel.py
# through the nlshim.so LD_PRELOAD shim, with a minimal KTAP lib.sh. The
# mock only stores and returns attributes: checks of kernel behaviour
# (key lengths, permissions, namespaces) are expected to fail here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tools=$(dirname "$here")
top=$(dirname "$tools")
work=$(mktemp -d)
trap 'kill $mock 2>/dev/null; rm -rf "$work"' EXIT

cc -O2 -Wall -Wextra -Werror -shared -fPIC -o "$work/nlshim.so" "$here/nlshim.c" || exit 1
python3 "$here/mock_kernel.py" "$work/sock" &
mock=$!
for _ in $(seq 50); do [ -S "$work/sock" ] && break; sleep 0.1; done

mkdir -p "$work/st/tests"
cp "$top"/selftests/tests/cli_*.sh "$work/st/tests/"
cp "$top"/selftests/cli_lib.sh "$work/st/"
cat > "$work/st/lib.sh" <<'LIB'
set -u
PY=/usr/bin/python3
_n=0; _pass=0; _fail=0
t_diag() { printf "# %s\n" "$*"; }
kipsec_load() { :; }
kipsec_unload() { :; }
t_ok() { _n=$((_n+1)); _pass=$((_pass+1)); echo "ok $_n $1"; }
t_fail() { _n=$((_n+1)); _fail=$((_fail+1)); echo "not ok $_n $1"; }
t_check() { local d=$1; shift; if "$@"; then t_ok "$d"; else t_fail "$d"; fi; }
t_check_fail() { local d=$1; shift; if "$@" 2>/dev/null; then t_fail "$d"; else t_ok "$d"; fi; }
t_eq() { if [ "$2" == "$3" ]; then t_ok "$1"; else t_fail "$1"; echo "#   got:      $2"; echo "#   expected: $3"; fi; }
t_done() { echo "# $_pass passed, $_fail failed"; [ $_fail -eq 0 ]; }
LIB
export KIPSEC="$tools/kipsec" KIPSEC_MOCK="$work/sock" LD_PRELOAD="$work/nlshim.so"
export KIPSEC_SCALE_N=${KIPSEC_SCALE_N:-5000}
rc=0
for t in cli_sa cli_policy cli_errors cli_scale; do
	echo "# $t"
	bash "$work/st/tests/$t.sh" || rc=1
done
exit $rc
