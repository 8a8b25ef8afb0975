#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Leak checks for the stress tests, sourced after lib.sh:
#
#   leak_slab_snapshot FILE      kmalloc cache usage (after a shrink) into FILE
#   leak_objects_zero DESC       kipsec's own live objects (SAs, policies,
#                                packets in crypto) reach 0 within 10 s
#   leak_wait_objects WANT [SECS] the same without a test point: they reach
#                                WANT ("inflight sas policies") within SECS
#                                (default 10) seconds, or the last reading
#                                is printed (status 1)
#   leak_slab_check DESC BEFORE  kmalloc usage is back to the snapshot BEFORE
#                                within 15 s (kfree_rcu() batches frees for
#                                seconds; module exit's rcu_barrier() does
#                                not wait for those batches on 6.1)
#
# kipsec's selector classes, replay windows and the rest come from the
# kmalloc caches, so those are compared. Its SAs and policies have caches
# of their own (kipsec_sa, kipsec_policy: kmod/mem.c), destroyed at rmmod;
# an object still in one then is a WARN in kmem_cache_destroy(), which
# fails the run. (The checks here all run after rmmod.)
# A snapshot first shrinks the caches (flushing the per-CPU slabs into the
# node lists), so /proc/slabinfo's active_objs counts objects in use, not
# slabs parked on a CPU.
#
# Tolerance (LEAK_TOL, default 48 objects per cache): the rest of the guest
# allocates too while a test runs (netns teardown finishing in a kworker,
# RCU-deferred frees, the shell and ip). A leak per request, even on a path
# one message in a hundred takes, is hundreds of objects over the fuzzers'
# tens of thousands of messages, well above it; so is one object per round,
# cycle or teardown in the long forms of churn (1000) and unload (100 and
# 50). The tolerance is for what kipsec does not own; kipsec's own
# counters above must be exactly 0.
#
# Take the baseline after one warm-up cycle of the same test (module load,
# the algorithms' first use, netns add and delete, unload): the crypto API
# keeps algorithm instances and the modules it loaded, which is not a leak.

LEAK_TOL=${LEAK_TOL:-48}

leak_slab_snapshot() {
	local f
	for f in /sys/kernel/slab/kmalloc-*/shrink; do
		echo 1 >"$f" 2>/dev/null
	done
	awk '$1 ~ /^kmalloc-/ { print $1, $2, $4 }' /proc/slabinfo >"$1"
}

# The module-wide counters are visible to the initial namespace's root.
# (sed, not python: a python start costs seconds under TCG)
_leak_objects() {
	"$KIPSEC" -j stats | sed -n \
		's/.*"objects":{"inflight":\([0-9]*\),"live_sas":\([0-9]*\),"live_policies":\([0-9]*\)}.*/\1 \2 \3/p'
}

leak_wait_objects() {
	local v
	for _ in $(seq 1 $(( ${2:-10} * 5 ))); do
		v=$(_leak_objects 2>/dev/null)
		[ "$v" = "$1" ] && return 0
		nap 0.2
	done
	echo "$v"
	return 1
}

leak_objects_zero() {
	local v
	v=$(leak_wait_objects "0 0 0") && v="0 0 0"
	t_eq "$1: kipsec's in-flight packets, live SAs and live policies are 0" \
		"$v" "0 0 0"
}

leak_slab_check() {
	local desc=$1 before=$2 after worst i
	after=$(mktemp)
	for i in $(seq 1 15); do
		leak_slab_snapshot "$after"
		# name delta-objects delta-bytes, largest growth first
		worst=$(awk 'NR == FNR { n[$1] = $2; next }
			     { d = $2 - n[$1]; if (d != 0) print $1, d, d * $3 }' \
			"$before" "$after" | sort -k2,2nr)
		printf '%s\n' "$worst" | awk -v t="$LEAK_TOL" '$2 > t { f = 1 } END { exit f }' &&
			break
		nap 1
	done
	rm -f "$after"
	t_diag "$desc: measured after $i snapshot(s)"
	if [ -n "$worst" ]; then
		t_diag "$desc: kmalloc cache deltas (objects, bytes):"
		printf '%s\n' "$worst" | head -n 8 | sed -e 's/^/#   /'
	fi
	worst=$(printf '%s\n' "$worst" | awk -v t="$LEAK_TOL" '$2 > t' | head -n 3)
	if [ -z "$worst" ]; then
		t_ok "$desc: kmalloc caches back to baseline (tolerance $LEAK_TOL objects each)"
	else
		t_fail "$desc: kmalloc caches back to baseline (tolerance $LEAK_TOL objects each)" \
			"grew: $(tr '\n' ' ' <<<"$worst")"
	fi
}
