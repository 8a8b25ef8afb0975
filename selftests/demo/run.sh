#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: boots the newest cached Debian kernel in QEMU (the selftest
# runner, selftests/run.sh, which also installs what it needs and fetches
# the kernel) and runs gateway.sh there, printing its narration as it comes.
# Exits 0 if every check of the demo passed.

set -uo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${KIPSEC_CACHE:-$TOP/.cache}
export KIPSEC_CACHE=$CACHE
K=${KIPSEC_DEMO_KERNEL:-$(ls "$CACHE/kernels" 2>/dev/null | sort -V | tail -n 1)}
K=${K:-6.12}
R=$TOP/selftests/results/demo
t0=$(date +%s)

echo "kipsec demo: preparing (packages, Debian $K kernel, module, QEMU) ..."
rm -rf "$R"
mkdir -p "$R"
KIPSEC_RESULTS=$R "$TOP/selftests/run.sh" --kernels "$K" \
	--tests "$TOP/selftests/demo/gateway.sh" >"$R/run.log" 2>&1 &
pid=$!
out=$R/$K/gateway.out
while kill -0 "$pid" 2>/dev/null && [ ! -f "$out" ]; do sleep 0.5; done
echo "kipsec demo: booted Debian $K in QEMU after $(($(date +%s) - t0)) s"
[ -f "$out" ] && tail -n +1 -F --pid="$pid" "$out" 2>/dev/null |
	grep --line-buffered -vE '^(KTAP version|1\.\.)'
wait "$pid"
rc=$?
if [ "$rc" -eq 0 ]; then
	echo "kipsec demo: passed in $(($(date +%s) - t0)) s"
else
	echo "kipsec demo: FAILED (exit $rc); the runner said:"
	grep -E 'not ok|error|stderr' "$R/run.log" | head -n 30
	echo "kipsec demo: logs in $R/"
fi
exit "$rc"
