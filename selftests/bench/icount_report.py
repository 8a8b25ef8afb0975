#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""icount's report: guest kernel instructions per packet, per function.

icount_report.py RESULTS: reads RESULTS/icount.manifest (lines "NAME STACK
ALG ROUND PACKETS LOST", written by icount.sh), the plugin's snapshots
NAME.start.counts and NAME.end.counts, and RESULTS/kallsyms. A phase's
instructions are its end snapshot minus its start, attributed to the
symbol at or below each block's address, minus the idle phase of the same
round, divided by the packets delivered (sums over the rounds). Blocks
executed per packet are printed beside instructions: under TCG each block
costs a dispatch of its own (an indirect jump or a return looks its target
up), so of two paths with as many instructions, the one with more, shorter
blocks runs slower.
"""

import bisect
import collections
import os
import sys

TOP = int(os.environ.get('KIPSEC_ICOUNT_TOP', '25'))
STACKS = ('kipsec-1cpu', 'native', 'kipsec')


def load_symbols(path):
    syms = []
    for line in open(path):
        f = line.split()
        if len(f) < 3 or f[1] in 'aAuUwWvV':
            continue
        addr = int(f[0], 16)
        if addr:
            syms.append((addr, f[2] + (' ' + f[3] if len(f) > 3 else '')))
    syms.sort()
    return [a for a, _ in syms], [s for _, s in syms]


def load_counts(path):
    counts = {}
    for line in open(path):
        va, insns, execs = line.split()
        counts[(int(va, 16), int(insns))] = int(execs)
    return counts


def phase_insns(res, name, addrs, names):
    """Instructions per symbol that ran between NAME's two snapshots, and
    the blocks executed."""
    start = load_counts(os.path.join(res, name + '.start.counts'))
    end = load_counts(os.path.join(res, name + '.end.counts'))
    per = collections.Counter()
    blocks = 0
    for (va, insns), execs in end.items():
        d = execs - start.get((va, insns), 0)
        if d > 0:
            i = bisect.bisect_right(addrs, va) - 1
            per[names[i] if i >= 0 else '?'] += d * insns
            blocks += d
    return per, blocks


def obj(sym):
    if sym.endswith('[kipsec]'):
        return 'kipsec'
    return 'modules' if sym.endswith(']') else 'vmlinux'


def main():
    res = sys.argv[1]
    addrs, names = load_symbols(os.path.join(res, 'kallsyms'))
    phases = [l.split() for l in open(os.path.join(res, 'icount.manifest'))]
    idle = {}
    for name, stack, alg, rnd, pk, lost in phases:
        if stack == 'idle':
            idle[rnd] = phase_insns(res, name, addrs, names)
    algs = []
    for p in phases:
        if p[1] != 'idle' and p[2] not in algs:
            algs.append(p[2])
    for alg in algs:
        net = {s: collections.Counter() for s in STACKS}
        nblocks = collections.Counter()
        gross = collections.Counter()
        pkts = collections.Counter()
        rounds = collections.defaultdict(list)
        for name, stack, a, rnd, pk, lost in phases:
            if a != alg or stack not in net:
                continue
            per, blk = phase_insns(res, name, addrs, names)
            n = int(pk) - int(lost)
            base, bblk = idle.get(rnd, (collections.Counter(), 0))
            nblocks[stack] += blk - bblk
            for k in set(per) | set(base):
                net[stack][k] += per.get(k, 0) - base.get(k, 0)
            gross[stack] += sum(per.values())
            pkts[stack] += n
            rounds[stack].append((sum(per.values()) - sum(base.values())) / n)
        stacks = [s for s in STACKS if pkts[s]]
        per_pkt = {s: {k: v / pkts[s] for k, v in net[s].items()} for s in stacks}
        print(f'{alg}: guest kernel instructions per packet '
              '(net of idle; gross; each round net; blocks net)')
        for s in stacks:
            by = collections.Counter()
            for k, v in per_pkt[s].items():
                by[obj(k)] += v
            print(f'  {s:<12} {sum(per_pkt[s].values()):8.0f}; '
                  f'{gross[s] / pkts[s]:8.0f}; '
                  + ' '.join(f'{r:.0f}' for r in rounds[s])
                  + f'; {nblocks[s] / pkts[s]:.0f} blocks'
                  + '  (vmlinux %.0f, kipsec %.0f, other modules %.0f)'
                  % (by['vmlinux'], by['kipsec'], by['modules']))
        if 'native' in per_pkt:
            tot = {s: sum(per_pkt[s].values()) for s in stacks}
            print('  per packet against native: ' + ', '.join(
                f'{s} {tot[s] / tot["native"]:.3f} '
                f'({nblocks[s] / pkts[s] / (nblocks["native"] / pkts["native"]):.3f} in blocks)'
                for s in stacks if s != 'native'))
        keys = set().union(*(per_pkt[s] for s in stacks))
        print(f'  busiest functions: {" ".join(f"{s:>11}" for s in stacks)}')
        for k in sorted(keys, key=lambda k: -max(per_pkt[s].get(k, 0)
                                                  for s in stacks))[:TOP]:
            print(f'    {k[:44]:<44} '
                  + ' '.join(f'{per_pkt[s].get(k, 0):11.0f}' for s in stacks))
        if 'kipsec-1cpu' in per_pkt and 'native' in per_pkt:
            a, b = per_pkt['kipsec-1cpu'], per_pkt['native']
            print('  kipsec-1cpu against native, largest differences '
                  '(kipsec-1cpu, native, difference):')
            for k in sorted(keys, key=lambda k: -abs(a.get(k, 0)
                                                    - b.get(k, 0)))[:TOP]:
                print(f'    {k[:44]:<44} {a.get(k, 0):9.0f} '
                      f'{b.get(k, 0):9.0f} {a.get(k, 0) - b.get(k, 0):+9.0f}')


if __name__ == '__main__':
    main()
