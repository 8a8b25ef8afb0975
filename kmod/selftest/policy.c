// SPDX-License-Identifier: GPL-2.0
/*
 * SPD self-tests (debug build, #included by policy.c): precedence, ties,
 * prefixes, ports, ICMP, both families, delete and replace; and an opt-in
 * lookup benchmark at 10 to 100000 policies.
 */

#include <linux/inet.h>
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

struct pt_pol {
	u8 dir;
	u16 family;
	const char *src;
	u8 splen;
	const char *dst;
	u8 dplen;
	u8 proto;
	u16 sport_min, sport_max, dport_min, dport_max;
	int icmp_type;
	u32 priority;
	u8 action;
};

struct pt_flow {
	u8 dir;
	u16 family;
	const char *src;
	const char *dst;
	u8 proto;
	u16 sport, dport;
	u8 icmp_type;
	u8 flags;
	int expect;	/* index in pt_pols, -1 for none */
};

#define V4 AF_INET
#define V6 AF_INET6
#define OUT KIPSEC_DIR_OUT
#define IN KIPSEC_DIR_IN

static const struct pt_pol pt_pols[] = {
	/* 0 */ { OUT, V4, "10.0.0.0", 8, "0.0.0.0", 0, 0, 0, U16_MAX, 0, U16_MAX, -1, 100,
		  KIPSEC_ACTION_BYPASS },
	/* 1: more specific but a worse priority: priority wins */
	{ OUT, V4, "10.1.0.0", 16, "0.0.0.0", 0, 0, 0, U16_MAX, 0, U16_MAX, -1, 200,
	  KIPSEC_ACTION_DISCARD },
	/* 2: exact, better priority */
	{ OUT, V4, "10.1.2.3", 32, "192.168.1.1", 32, 0, 0, U16_MAX, 0, U16_MAX, -1, 10,
	  KIPSEC_ACTION_PROTECT },
	/* 3: same priority as 0, added later: 0 wins ties */
	{ OUT, V4, "0.0.0.0", 0, "8.0.0.0", 8, 0, 0, U16_MAX, 0, U16_MAX, -1, 100,
	  KIPSEC_ACTION_DISCARD },
	/* 4: TCP port 22, any address */
	{ OUT, V4, "0.0.0.0", 0, "0.0.0.0", 0, IPPROTO_TCP, 0, U16_MAX, 22, 22,
	  -1, 50, KIPSEC_ACTION_DISCARD },
	/* 5: UDP source ports 1000-2000 */
	{ OUT, V4, "0.0.0.0", 0, "0.0.0.0", 0, IPPROTO_UDP, 1000, 2000, 0,
	  U16_MAX, -1, 20, KIPSEC_ACTION_DISCARD },
	/* 6: ICMP echo request only */
	{ OUT, V4, "0.0.0.0", 0, "0.0.0.0", 0, IPPROTO_ICMP, 0, U16_MAX, 0, U16_MAX, 8, 5,
	  KIPSEC_ACTION_BYPASS },
	/* 7: IPv6 prefix */
	{ OUT, V6, "2001:db8::", 32, "::", 0, 0, 0, U16_MAX, 0, U16_MAX, -1, 5,
	  KIPSEC_ACTION_PROTECT },
	/* 8: IPv6 exact, ICMPv6 type 135 */
	{ OUT, V6, "2001:db8::1", 128, "2001:db8::2", 128, IPPROTO_ICMPV6,
	  0, U16_MAX, 0, U16_MAX, 135, 1, KIPSEC_ACTION_BYPASS },
	/* 9: another direction with the same selector as 0 */
	{ IN, V4, "10.0.0.0", 8, "0.0.0.0", 0, 0, 0, U16_MAX, 0, U16_MAX, -1, 100,
	  KIPSEC_ACTION_DISCARD },
};

static const struct pt_flow pt_flows[] = {
	{ OUT, V4, "10.9.9.9", "1.1.1.1", IPPROTO_UDP, 5, 5, 0, 0, 0 },
	{ OUT, V4, "10.1.9.9", "1.1.1.1", 0, 0, 0, 0, 0, 0 },
	{ OUT, V4, "10.1.2.3", "192.168.1.1", IPPROTO_TCP, 1, 80, 0, 0, 2 },
	{ OUT, V4, "10.1.2.3", "192.168.1.2", IPPROTO_UDP, 1, 80, 0, 0, 0 },
	{ OUT, V4, "10.9.9.9", "8.8.8.8", 0, 0, 0, 0, 0, 0 },
	{ OUT, V4, "11.0.0.1", "8.8.8.8", 0, 0, 0, 0, 0, 3 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_TCP, 999, 22, 0, 0, 4 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_TCP, 999, 23, 0, 0, -1 },
	{ OUT, V4, "10.9.9.9", "9.9.9.9", IPPROTO_TCP, 999, 22, 0, 0, 4 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_UDP, 1000, 1, 0, 0, 5 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_UDP, 2000, 1, 0, 0, 5 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_UDP, 2001, 1, 0, 0, -1 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_UDP, 999, 1, 0, 0, -1 },
	/* a non-first fragment has no ports: port policies do not match */
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_UDP, 0, 0, 0,
	  KIPSEC_FLOW_F_OPAQUE, -1 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_ICMP, 0, 0, 8, 0, 6 },
	{ OUT, V4, "11.0.0.1", "9.9.9.9", IPPROTO_ICMP, 0, 0, 0, 0, -1 },
	{ OUT, V6, "2001:db8::5", "2001:db9::1", IPPROTO_TCP, 1, 22, 0, 0, 7 },
	{ OUT, V6, "2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, 0, 0, 135, 0,
	  8 },
	{ OUT, V6, "2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, 0, 0, 136, 0,
	  7 },
	{ OUT, V6, "2001:db9::1", "2001:db8::2", 0, 0, 0, 0, 0, -1 },
	{ IN, V4, "10.9.9.9", "1.1.1.1", 0, 0, 0, 0, 0, 9 },
	{ KIPSEC_DIR_FWD, V4, "10.9.9.9", "1.1.1.1", 0, 0, 0, 0, 0, -1 },
};

static bool pt_addr(u16 family, const char *s, union kipsec_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET)
		return in4_pton(s, -1, a->b, -1, NULL);
	return in6_pton(s, -1, a->b, -1, NULL);
}

static struct kipsec_policy *pt_make(const struct pt_pol *p)
{
	struct kipsec_policy *pol = kipsec_policy_alloc();

	if (!pol)
		return NULL;
	pol->dir = p->dir;
	pol->action = p->action;
	pol->priority = p->priority;
	pol->sel.family = p->family;
	pt_addr(p->family, p->src, &pol->sel.saddr);
	pt_addr(p->family, p->dst, &pol->sel.daddr);
	pol->sel.splen = p->splen;
	pol->sel.dplen = p->dplen;
	pol->sel.proto = p->proto;
	pol->sel.sport_min = p->sport_min;
	pol->sel.sport_max = p->sport_max;
	pol->sel.dport_min = p->dport_min;
	pol->sel.dport_max = p->dport_max;
	if (p->icmp_type >= 0) {
		pol->sel.flags = KIPSEC_SEL_F_ICMP_TYPE;
		pol->sel.icmp_type = p->icmp_type;
	}
	if (kipsec_sel_check(&pol->sel, NULL)) {
		kipsec_policy_put(pol);
		return NULL;
	}
	return pol;
}

static void pt_flow(const struct pt_flow *f, struct kipsec_flow *flow)
{
	memset(flow, 0, sizeof(*flow));
	flow->family = f->family;
	pt_addr(f->family, f->src, &flow->saddr);
	pt_addr(f->family, f->dst, &flow->daddr);
	flow->proto = f->proto;
	flow->sport = f->sport;
	flow->dport = f->dport;
	flow->icmp_type = f->icmp_type;
	flow->flags = f->flags;
}

static bool pt_run_flows(struct kipsec_spd *spd, const u32 *ids,
			 int removed)
{
	struct kipsec_policy *pol;
	struct kipsec_flow flow;
	bool ok = true;
	unsigned int i;
	int expect;

	for (i = 0; i < ARRAY_SIZE(pt_flows); i++) {
		expect = pt_flows[i].expect;
		/* With policy 4 removed, TCP/22 falls back to what else fits. */
		if (removed >= 0 && expect == removed)
			expect = -2;
		pt_flow(&pt_flows[i], &flow);
		rcu_read_lock();
		pol = kipsec_policy_lookup_rcu(spd, pt_flows[i].dir, &flow);
		if (expect == -2) {
			if (pol && pol->id == ids[removed]) {
				pr_err("policy self-test: flow %u matched a deleted policy\n", i);
				ok = false;
			}
		} else if (expect < 0 ? !!pol :
			   !pol || pol->id != ids[expect]) {
			pr_err("policy self-test: flow %u: expected %d, got id %d\n",
			       i, expect, pol ? pol->id : -1);
			ok = false;
		}
		rcu_read_unlock();
	}
	return ok;
}

static bool pt_functional(void)
{
	u32 ids[ARRAY_SIZE(pt_pols)];
	struct kipsec_policy *pol, *old = NULL;
	struct kipsec_spd *spd;
	bool ok = true;
	unsigned int i;

	spd = kzalloc(sizeof(*spd), GFP_KERNEL);
	if (!spd)
		return false;
	kipsec_spd_init(spd);

	for (i = 0; i < ARRAY_SIZE(pt_pols); i++) {
		pol = pt_make(&pt_pols[i]);
		if (!pol || kipsec_spd_add(spd, pol, NULL)) {
			pr_err("policy self-test: cannot add policy %u\n", i);
			kipsec_policy_put(pol);
			ok = false;
			goto out;
		}
		ids[i] = pol->id;
		kipsec_policy_put(pol);
	}
	ok &= pt_run_flows(spd, ids, -1);

	/* Same direction, selector and priority: refused. */
	pol = pt_make(&pt_pols[0]);
	if (!pol || kipsec_spd_add(spd, pol, NULL) != -EEXIST) {
		pr_err("policy self-test: duplicate policy accepted\n");
		ok = false;
	}
	kipsec_policy_put(pol);

	/* Replace keeps the id and the rank among equal priorities. */
	pol = pt_make(&pt_pols[0]);
	if (pol) {
		pol->action = KIPSEC_ACTION_DISCARD;
		if (kipsec_spd_replace(spd, pol, ids[0], &old, NULL) ||
		    pol->id != ids[0]) {
			pr_err("policy self-test: replace failed\n");
			ok = false;
		}
		kipsec_policy_put(old);
		kipsec_policy_put(pol);
	}
	ok &= pt_run_flows(spd, ids, -1);

	mutex_lock(&spd->lock);
	pol = xa_load(&spd->ids, ids[4]);
	pol = pol ? kipsec_spd_find(spd, OUT, &pol->sel, true, 50) : NULL;
	if (!pol || pol->id != ids[4]) {
		pr_err("policy self-test: find by selector failed\n");
		ok = false;
	}
	mutex_unlock(&spd->lock);

	pol = kipsec_spd_del(spd, ids[4]);
	if (!pol) {
		pr_err("policy self-test: delete failed\n");
		ok = false;
	}
	kipsec_policy_put(pol);
	if (kipsec_spd_del(spd, ids[4])) {
		pr_err("policy self-test: deleted twice\n");
		ok = false;
	}
	ok &= pt_run_flows(spd, ids, 4);

	if (kipsec_spd_flush(spd, OUT) != ARRAY_SIZE(pt_pols) - 2 ||
	    spd->count != 1) {
		pr_err("policy self-test: flush by direction miscounted\n");
		ok = false;
	}
out:
	kipsec_spd_destroy(spd);
	kfree(spd);
	return ok;
}

/*
 * Lookup benchmark. The tuple-space search costs one probe per (source,
 * destination) prefix-length class in use, so the benchmark holds the class
 * set constant and varies only the number of policies: policy i lives in
 * class i % PT_NCLASSES (class 0 exact hosts, the others prefix pairs), all
 * addresses distinct after masking, all with the same priority so that no
 * class can be skipped (the match is worst-placed: every class is probed
 * before the tie-break decides). Each timed lookup aims at a random policy
 * of the current set with host bits set, so it matches that policy (and, in
 * IPv4, sometimes a wider prefix of another class; IPv6 keeps the classes
 * apart in the second address word).
 */
static const u8 pt_plens[][2] = {
	{ 32, 32 }, { 24, 16 }, { 16, 24 }, { 24, 24 }, { 20, 20 },
	{ 16, 16 }, { 24, 28 }, { 28, 24 }, { 20, 24 },
};

#define PT_NCLASSES ARRAY_SIZE(pt_plens)

/* Distinct masked addresses per class: @j is the rank within the class. */
static void pt_bench_sel(u16 family, u32 i, struct kipsec_sel *sel)
{
	const u8 *pl = pt_plens[i % PT_NCLASSES];
	u32 j = i / PT_NCLASSES + 1;
	u8 v6 = family == AF_INET6 ? 96 : 0;

	memset(sel, 0, sizeof(*sel));
	sel->family = family;
	sel->sport_max = U16_MAX;
	sel->dport_max = U16_MAX;
	sel->splen = pl[0] + v6;
	sel->dplen = pl[1] + v6;
	/* IPv6: 2001:db8:<class>::<IPv4-style low 32 bits> */
	if (family == AF_INET6) {
		sel->saddr.a6[0] = htonl(0x20010db8);
		sel->saddr.a6[1] = htonl(i % PT_NCLASSES);
		sel->daddr.a6[0] = htonl(0x20010db8);
		sel->daddr.a6[1] = htonl(0x100 | (i % PT_NCLASSES));
	}
	sel->saddr.a6[v6 / 32] = htonl(pl[0] == 32 ? 0x0a000000 | j :
				       j << (32 - pl[0]));
	sel->daddr.a6[v6 / 32] = htonl(pl[1] == 32 ? 0xac100000 | j :
				       j << (32 - pl[1]));
}

static int pt_bench_add(struct kipsec_spd *spd, u16 family, u32 i)
{
	struct kipsec_policy *pol = kipsec_policy_alloc();
	int err;

	if (!pol)
		return -ENOMEM;
	pol->dir = OUT;
	pol->action = KIPSEC_ACTION_BYPASS;
	pol->priority = 100;
	pt_bench_sel(family, i, &pol->sel);
	kipsec_sel_check(&pol->sel, NULL);
	err = kipsec_spd_add(spd, pol, NULL);
	kipsec_policy_put(pol);
	return err;
}

#define PT_SIZES	4
#define PT_ROUNDS	9
#define PT_FLOWS	20000

static const u32 pt_sizes[PT_SIZES] = { 10, 1000, 10000, 100000 };

/* A flow that policy @i matches, host bits set where it has a prefix. */
static void pt_bench_flow(u16 family, u32 i, struct kipsec_flow *flow)
{
	unsigned int v6 = family == AF_INET6 ? 3 : 0;
	struct kipsec_sel sel;

	pt_bench_sel(family, i, &sel);
	memset(flow, 0, sizeof(*flow));
	flow->family = family;
	flow->proto = IPPROTO_UDP;
	flow->saddr = sel.saddr;
	flow->daddr = sel.daddr;
	flow->saddr.a6[v6] |= htonl(sel.splen < 32 + v6 * 32);
	flow->daddr.a6[v6] |= htonl(sel.dplen < 32 + v6 * 32);
}

/* Flows aimed at random policies among the first @n. */
static void pt_bench_flows(u16 family, struct kipsec_flow *flows, u32 n)
{
	unsigned int i;

	for (i = 0; i < PT_FLOWS; i++)
		pt_bench_flow(family, get_random_u32_below(n), &flows[i]);
}

/*
 * The class filters through growth and rebuilds: PT_FILTER_N IPv6
 * policies of the benchmark's shape (one class each, so a flow matches
 * exactly its own policy) grow every filter from its smallest size; then
 * all but every tenth are deleted, which rebuilds them smaller. Every flow
 * must find its policy, and only while it exists.
 */
#define PT_FILTER_N	3000

static bool pt_filter_check(struct kipsec_spd *spd, const u32 *ids)
{
	struct kipsec_policy *pol;
	struct kipsec_flow flow;
	unsigned int i;
	bool ok = true;

	for (i = 0; i < PT_FILTER_N && ok; i++) {
		pt_bench_flow(AF_INET6, i, &flow);
		rcu_read_lock();
		pol = kipsec_policy_lookup_rcu(spd, OUT, &flow);
		if (ids[i] ? !pol || pol->id != ids[i] : !!pol) {
			pr_err("policy self-test: filter: flow %u found id %d, expected %u\n",
			       i, pol ? pol->id : -1, ids[i]);
			ok = false;
		}
		rcu_read_unlock();
	}
	return ok;
}

/*
 * Every class's filter sized for the keys it holds now: at most four times
 * the build size, with at most as many removed keys as held (or 64).
 */
static bool pt_filter_sizes(struct kipsec_spd *spd)
{
	struct kipsec_spd_filter *f;
	struct kipsec_spd_class *c;
	bool ok = true;

	mutex_lock(&spd->lock);
	hlist_for_each_entry(c, &spd->classes[OUT][fam_idx(AF_INET6)], node) {
		f = class_filter(spd, c);
		if (!f || c->stale > max(c->nbuckets, FILTER_STALE_MIN) ||
		    64ULL << f->wbits > 4ULL * FILTER_BITS_PER_KEY *
		    max_t(unsigned int, c->nbuckets + c->stale,
			  FILTER_MIN_KEYS)) {
			pr_err("policy self-test: filter of %u keys (%u removed) has %llu bits\n",
			       c->nbuckets, c->stale,
			       f ? 64ULL << f->wbits : 0);
			ok = false;
		}
	}
	mutex_unlock(&spd->lock);
	return ok;
}

static bool pt_filter(void)
{
	struct kipsec_policy *pol;
	struct kipsec_spd *spd;
	struct kipsec_sel sel;
	unsigned int i;
	bool ok = false;
	u32 *ids;

	spd = kzalloc(sizeof(*spd), GFP_KERNEL);
	ids = kcalloc(PT_FILTER_N, sizeof(*ids), GFP_KERNEL);
	if (!spd || !ids)
		goto free;
	kipsec_spd_init(spd);
	for (i = 0; i < PT_FILTER_N; i++) {
		if (pt_bench_add(spd, AF_INET6, i))
			goto out;
		pt_bench_sel(AF_INET6, i, &sel);
		kipsec_sel_check(&sel, NULL);
		mutex_lock(&spd->lock);
		pol = kipsec_spd_find(spd, OUT, &sel, true, 100);
		ids[i] = pol ? pol->id : 0;
		mutex_unlock(&spd->lock);
		if (!ids[i])
			goto out;
	}
	if (!pt_filter_check(spd, ids) || !pt_filter_sizes(spd))
		goto out;
	for (i = 0; i < PT_FILTER_N; i++) {
		if (!(i % 10))
			continue;
		kipsec_policy_put(kipsec_spd_del(spd, ids[i]));
		ids[i] = 0;
	}
	ok = pt_filter_check(spd, ids) && pt_filter_sizes(spd);
out:
	if (!ok)
		pr_err("policy self-test: class filters failed\n");
	kipsec_spd_destroy(spd);
free:
	kfree(ids);
	kfree(spd);
	return ok;
}

/* The lookups' work counters (policy.c), summed over the CPUs. */
static struct spd_work pt_work(void)
{
	struct spd_work sum = {};
	int cpu;

	for_each_possible_cpu(cpu) {
		const struct spd_work *w = per_cpu_ptr(&spd_work, cpu);

		sum.probes += READ_ONCE(w->probes);
		sum.passes += READ_ONCE(w->passes);
		sum.buckets += READ_ONCE(w->buckets);
		sum.pols += READ_ONCE(w->pols);
	}
	return sum;
}

/*
 * ns per lookup over the flows (@hot: the first flow every time, as one
 * busy connection sees it); false if a lookup found no policy. With
 * @work, what the lookups did (the counters' growth over the run).
 */
static bool pt_time_lookups(struct kipsec_spd *spd,
			    const struct kipsec_flow *flows, bool hot, u64 *ns,
			    struct spd_work *work)
{
	struct spd_work w0 = pt_work(), w1;
	unsigned int i, found = 0;
	u64 t0;

	rcu_read_lock();
	t0 = ktime_get_ns();
	for (i = 0; i < PT_FLOWS; i++)
		found += !!kipsec_policy_lookup_rcu(spd, OUT,
						    &flows[hot ? 0 : i]);
	*ns = div_u64(ktime_get_ns() - t0, PT_FLOWS);
	rcu_read_unlock();
	w1 = pt_work();
	if (work) {
		work->probes += w1.probes - w0.probes;
		work->passes += w1.passes - w0.passes;
		work->buckets += w1.buckets - w0.buckets;
		work->pols += w1.pols - w0.pols;
	}
	return found == PT_FLOWS;
}

static int pt_u64_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * One SPD per size, all alive at once; the timing rounds alternate between
 * them (10, 1k, 10k, 100k, 10, 1k, ...) so that a disturbance of the host
 * hits every size alike. Median and minimum of PT_ROUNDS per size.
 */
static void pt_report(u16 family, const char *what, u64 (*ns)[PT_ROUNDS],
		      const struct spd_work *work)
{
	unsigned int s;
	u64 med0 = 1;

	for (s = 0; s < PT_SIZES; s++) {
		u64 med;

		sort(ns[s], PT_ROUNDS, sizeof(u64), pt_u64_cmp, NULL);
		med = ns[s][PT_ROUNDS / 2];
		if (!s)
			med0 = max_t(u64, med, 1);
		pr_info("policy bench: IPv%u %s, %u policies in %zu classes: %llu ns/lookup (min %llu, max %llu; %llu%% of the cost at %u)\n",
			family == AF_INET ? 4 : 6, what, pt_sizes[s],
			PT_NCLASSES, med, ns[s][0], ns[s][PT_ROUNDS - 1],
			div64_u64(med * 100, med0), pt_sizes[0]);
		if (work) {
			/* Per lookup, in hundredths. */
			u64 n = (u64)PT_ROUNDS * PT_FLOWS;
			u64 p = div64_u64(work[s].probes * 100, n);
			u64 f = div64_u64(work[s].passes * 100, n);
			u64 b = div64_u64(work[s].buckets * 100, n);
			u64 c = div64_u64(work[s].pols * 100, n);

			pr_info("policy bench: IPv%u %s, %u policies, per lookup: %llu.%02llu classes probed, %llu.%02llu filter passes, %llu.%02llu buckets found, %llu.%02llu policies compared\n",
				family == AF_INET ? 4 : 6, what, pt_sizes[s],
				p / 100, p % 100, f / 100, f % 100,
				b / 100, b % 100, c / 100, c % 100);
		}
	}
}

/*
 * One SPD per size, all alive at once; the timing rounds alternate between
 * them (10, 1k, 10k, 100k, 10, 1k, ...) so that a disturbance of the host
 * hits every size alike. Median, minimum and maximum of PT_ROUNDS per size,
 * for random flows (cold caches) and for one repeated flow (hot).
 */
static void pt_bench_family(u16 family, struct kipsec_flow *flows)
{
	u64 (*cold)[PT_ROUNDS], (*hot)[PT_ROUNDS];
	struct spd_work work[PT_SIZES] = {};
	struct kipsec_spd *spds;
	unsigned int s, r, i;
	u64 t0, t_add = 0;

	spds = kcalloc(PT_SIZES, sizeof(*spds), GFP_KERNEL);
	cold = kcalloc(PT_SIZES, sizeof(*cold), GFP_KERNEL);
	hot = kcalloc(PT_SIZES, sizeof(*hot), GFP_KERNEL);
	if (!spds || !cold || !hot)
		goto out;
	for (s = 0; s < PT_SIZES; s++)
		kipsec_spd_init(&spds[s]);
	for (s = 0; s < PT_SIZES; s++) {
		t0 = ktime_get_ns();
		for (i = 0; i < pt_sizes[s]; i++) {
			if (pt_bench_add(&spds[s], family, i))
				goto destroy;
			if (!(i & 4095))
				cond_resched();
		}
		if (s == PT_SIZES - 1)
			t_add = ktime_get_ns() - t0;
	}
	for (r = 0; r < PT_ROUNDS; r++) {
		for (s = 0; s < PT_SIZES; s++) {
			struct kipsec_flow *f = flows + s * PT_FLOWS;

			pt_bench_flows(family, f, pt_sizes[s]);
			if (!pt_time_lookups(&spds[s], f, false, &cold[s][r],
					     &work[s]) ||
			    !pt_time_lookups(&spds[s], f, true, &hot[s][r],
					     NULL)) {
				pr_err("policy bench: a lookup found no policy\n");
				goto destroy;
			}
			cond_resched();
		}
	}
	pt_report(family, "random flows", cold, work);
	pt_report(family, "one flow", hot, NULL);
	pr_info("policy bench: IPv%u, %u policies added in %llu ms\n",
		family == AF_INET ? 4 : 6, pt_sizes[PT_SIZES - 1],
		div_u64(t_add, NSEC_PER_MSEC));
destroy:
	for (s = 0; s < PT_SIZES; s++)
		kipsec_spd_destroy(&spds[s]);
out:
	kfree(hot);
	kfree(cold);
	kfree(spds);
}

static void pt_bench(void)
{
	struct kipsec_flow *flows;

	flows = vmalloc(array_size(PT_SIZES * PT_FLOWS, sizeof(*flows)));
	if (!flows)
		return;
	pt_bench_family(AF_INET, flows);
	pt_bench_family(AF_INET6, flows);
	vfree(flows);
}

/**
 * kipsec_policy_selftest() - run the SPD self-tests
 * @bench: also run the lookup benchmark
 *
 * Return: true if every test passed.
 */
bool kipsec_policy_selftest(bool bench)
{
	bool ok = pt_functional() && pt_filter();

	if (ok && bench)
		pt_bench();
	if (ok)
		pr_info("policy self-tests: pass\n");
	else
		pr_err("policy self-tests: fail\n");
	return ok;
}
