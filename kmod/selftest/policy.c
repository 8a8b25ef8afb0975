// SPDX-License-Identifier: GPL-2.0
/*
 * SPD self-tests (debug build, #included by policy.c): precedence, ties,
 * prefixes, ports, ICMP, both families, delete and replace; and an opt-in
 * lookup benchmark at 10 and 100000 policies.
 */

#include <linux/inet.h>
#include <linux/ktime.h>
#include <linux/random.h>
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

/* ns per lookup over a fixed set of flows, half of them matching. */
static u64 pt_time_lookups(struct kipsec_spd *spd, struct kipsec_flow *flows,
			   unsigned int n)
{
	unsigned int i, found = 0;
	u64 t0, t1;

	rcu_read_lock();
	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		found += !!kipsec_policy_lookup_rcu(spd, OUT, &flows[i]);
	t1 = ktime_get_ns();
	rcu_read_unlock();
	pr_info("policy bench: %u lookups, %u matched\n", n, found);
	return div_u64(t1 - t0, n);
}

static const u8 pt_plens[][2] = {
	{ 24, 16 }, { 16, 24 }, { 24, 24 }, { 20, 20 },
	{ 16, 16 }, { 24, 28 }, { 28, 24 }, { 20, 24 },
};

/*
 * Policy i: even i an exact host pair, odd i a prefix pair of one of 8
 * length pairs; addresses are distinct after masking.
 */
static void pt_bench_sel(u32 i, struct kipsec_sel *sel)
{
	u32 j = i >> 1;

	memset(sel, 0, sizeof(*sel));
	sel->family = AF_INET;
	sel->sport_max = U16_MAX;
	sel->dport_max = U16_MAX;
	if (i & 1) {
		sel->splen = pt_plens[j & 7][0];
		sel->dplen = pt_plens[j & 7][1];
		sel->saddr.a4 = htonl(j << (32 - sel->splen));
		sel->daddr.a4 = htonl(j << (32 - sel->dplen));
	} else {
		sel->splen = 32;
		sel->dplen = 32;
		sel->saddr.a4 = htonl(0x0a000000 | i);
		sel->daddr.a4 = htonl(0xac100000 | i);
	}
}

static int pt_bench_add(struct kipsec_spd *spd, u32 i)
{
	struct kipsec_policy *pol = kipsec_policy_alloc();
	int err;

	if (!pol)
		return -ENOMEM;
	pol->dir = OUT;
	pol->action = KIPSEC_ACTION_BYPASS;
	pol->priority = i & 1023;
	pt_bench_sel(i, &pol->sel);
	kipsec_sel_check(&pol->sel, NULL);
	err = kipsec_spd_add(spd, pol, NULL);
	kipsec_policy_put(pol);
	return err;
}

static void pt_bench(void)
{
	const unsigned int nflows = 100000, npol = 100000;
	struct kipsec_flow *flows;
	struct kipsec_spd *spd;
	struct kipsec_sel sel;
	u64 ns10, ns100k;
	unsigned int i;

	spd = kzalloc(sizeof(*spd), GFP_KERNEL);
	flows = vmalloc(array_size(nflows, sizeof(*flows)));
	if (!spd || !flows)
		goto out;
	kipsec_spd_init(spd);
	/* Flows aimed at random policies of the full set (host bits set). */
	for (i = 0; i < nflows; i++) {
		pt_bench_sel(get_random_u32_below(npol), &sel);
		memset(&flows[i], 0, sizeof(flows[i]));
		flows[i].family = AF_INET;
		flows[i].proto = IPPROTO_UDP;
		flows[i].saddr.a4 = sel.saddr.a4 | htonl(sel.splen < 32);
		flows[i].daddr.a4 = sel.daddr.a4 | htonl(sel.dplen < 32);
	}
	for (i = 0; i < 10; i++)
		if (pt_bench_add(spd, i))
			goto destroy;
	ns10 = pt_time_lookups(spd, flows, nflows);
	for (; i < npol; i++) {
		if (pt_bench_add(spd, i))
			goto destroy;
		if (!(i & 4095))
			cond_resched();
	}
	ns100k = pt_time_lookups(spd, flows, nflows);
	pr_info("policy bench: %llu ns/lookup with 10 policies, %llu ns/lookup with %u policies\n",
		ns10, ns100k, spd->count);
destroy:
	kipsec_spd_destroy(spd);
out:
	vfree(flows);
	kfree(spd);
}

/**
 * kipsec_policy_selftest() - run the SPD self-tests
 * @bench: also run the lookup benchmark
 *
 * Return: true if every test passed.
 */
bool kipsec_policy_selftest(bool bench)
{
	bool ok = pt_functional();

	if (ok && bench)
		pt_bench();
	if (ok)
		pr_info("policy self-tests: pass\n");
	else
		pr_err("policy self-tests: fail\n");
	return ok;
}
