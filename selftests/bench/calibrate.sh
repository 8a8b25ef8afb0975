#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the yardstick for install times. 100,000 blackhole routes
# through one `ip -batch` into a fresh network namespace: kernel table
# work of the same kind as an SA or policy install (one netlink request,
# one allocation and one table insert each) that depends on neither
# stack. Three runs; prints the median in seconds, or nothing if it could
# not run (no netns here, say). run.sh runs it on the host before the
# benchmark boots and spd.sh in the guest: guest / host is how much
# slower the guest does such work, and spd.sh divides its install times
# by it to estimate them at host speed. An estimate: the host's kernel is
# not the guest's.

set -u
N=${KIPSEC_CAL_ROUTES:-100000}
ns=kipsec-cal-$$
f=$(mktemp) || exit 0
trap 'ip netns del "$ns" 2>/dev/null; rm -f "$f"' EXIT
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "route add blackhole 10.%d.%d.%d/32\n",
		int(i / 65536), int(i / 256) % 256, i % 256 }' >"$f"
t=()
for _ in 1 2 3; do
	ip netns add "$ns" 2>/dev/null || exit 0
	t0=$(date +%s.%N)
	ip -n "$ns" -batch "$f" >/dev/null 2>&1 || exit 0
	t+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')")
	# Freed here, untimed, rather than by the namespace's deferred cleanup
	# while the next run is timed.
	ip -n "$ns" route flush table main 2>/dev/null
	ip netns del "$ns"
done
printf '%s\n' "${t[@]}" | sort -g | sed -n 2p
