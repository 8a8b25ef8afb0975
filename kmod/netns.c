// SPDX-License-Identifier: GPL-2.0
/*
 * Per-namespace state: created with the namespace (or at module load for
 * existing ones), torn down in the reverse order of the datapath's needs.
 */

#include <linux/kmod.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/percpu.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <net/netfilter/ipv4/nf_defrag_ipv4.h>
#include <net/netfilter/ipv6/nf_defrag_ipv6.h>

#include "device.h"

#include "datapath.h"
#include "hooks.h"
#include "netlink.h"
#include "netns.h"

unsigned int kipsec_net_id __read_mostly;

/*
 * nf_defrag_ipv4/6 are looked up at load time rather than linked: the
 * module then loads with a plain insmod too (the symbols' modules are
 * requested here) and holds them until unload.
 */
static int (*defrag4_enable)(struct net *net);
static void (*defrag4_disable)(struct net *net);
static int (*defrag6_enable)(struct net *net);
static void (*defrag6_disable)(struct net *net);

static void defrag_put(void)
{
	if (defrag4_enable)
		symbol_put(nf_defrag_ipv4_enable);
	if (defrag4_disable)
		symbol_put(nf_defrag_ipv4_disable);
	if (defrag6_enable)
		symbol_put(nf_defrag_ipv6_enable);
	if (defrag6_disable)
		symbol_put(nf_defrag_ipv6_disable);
}

static int defrag_get(void)
{
	request_module("nf_defrag_ipv4");
	request_module("nf_defrag_ipv6");
	defrag4_enable = symbol_get(nf_defrag_ipv4_enable);
	defrag4_disable = symbol_get(nf_defrag_ipv4_disable);
	defrag6_enable = symbol_get(nf_defrag_ipv6_enable);
	defrag6_disable = symbol_get(nf_defrag_ipv6_disable);
	if (defrag4_enable && defrag4_disable && defrag6_enable &&
	    defrag6_disable)
		return 0;
	pr_err("nf_defrag_ipv4/nf_defrag_ipv6 are not available\n");
	defrag_put();
	return -ENOENT;
}

/**
 * kipsec_stats_alloc() - allocate zeroed per-CPU namespace counters
 *
 * Return: the counters or NULL.
 */
struct kipsec_pcpu_stats __percpu *kipsec_stats_alloc(void)
{
	struct kipsec_pcpu_stats __percpu *stats;
	int cpu;

	stats = alloc_percpu(struct kipsec_pcpu_stats);
	if (!stats)
		return NULL;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(stats, cpu)->syncp);
	return stats;
}

/**
 * kipsec_stats_fold() - sum per-CPU namespace counters
 * @stats: the counters
 * @out: sums, indexed by enum kipsec_stat
 */
void kipsec_stats_fold(struct kipsec_pcpu_stats __percpu *stats,
		       u64 out[__KIPSEC_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __KIPSEC_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct kipsec_pcpu_stats *s = per_cpu_ptr(stats, cpu);
		u64 v[__KIPSEC_STAT_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < __KIPSEC_STAT_MAX; i++)
				v[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < __KIPSEC_STAT_MAX; i++)
			out[i] += v[i];
	}
}

/**
 * kipsec_inflight_read() - how many packets of @kn are inside crypto
 * @kn: the namespace
 *
 * Return: a snapshot, read CPU by CPU while packets come and go (0 if
 * that makes it negative).
 */
u32 kipsec_inflight_read(struct kipsec_net *kn)
{
	long n = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		n += READ_ONCE(*per_cpu_ptr(kn->inflight_cnt, cpu));
	return n > 0 ? min_t(unsigned long, n, U32_MAX) : 0;
}

/* The last packet of a dying namespace is done (any context). */
static void kipsec_inflight_release(struct percpu_ref *ref)
{
	complete(&container_of(ref, struct kipsec_net, inflight)->inflight_done);
}

/* Time lifetimes and larval time-outs, for the IKE daemon. */
static void kipsec_net_sa_expired(struct kipsec_sad *sad, struct kipsec_sa *sa,
				  bool hard)
{
	struct kipsec_net *kn = container_of(sad, struct kipsec_net, sad);

	kipsec_nl_notify_sa(kn->net, KIPSEC_CMD_SA_EXPIRE, sa, hard);
}

static int __net_init kipsec_net_init(struct net *net)
{
	struct kipsec_net *kn = kipsec_pernet(net);
	int err, d;

	kn->net = net;
	mutex_init(&kn->config_lock);
	for (d = 0; d < __KIPSEC_DIR_MAX; d++)
		kn->default_action[d] = KIPSEC_ACTION_BYPASS;

	kn->stats = kipsec_stats_alloc();
	if (!kn->stats)
		return -ENOMEM;
	kn->inflight_cnt = alloc_percpu(long);
	if (!kn->inflight_cnt) {
		err = -ENOMEM;
		goto err_cnt;
	}
	init_completion(&kn->inflight_done);
	err = percpu_ref_init(&kn->inflight, kipsec_inflight_release, 0,
			      GFP_KERNEL);
	if (err)
		goto err_ref;
	err = kipsec_sad_init(&kn->sad);
	if (err)
		goto err_sad;
	kn->sad.expired = kipsec_net_sa_expired;
	kipsec_spd_init(&kn->spd);

	err = kipsec_dev_create(net, &kn->dev);
	if (err)
		goto err_dev;
	/* ESP is reassembled before LOCAL_IN (IPv6 would be only after). */
	err = defrag4_enable(net);
	if (err)
		goto err_defrag4;
	err = defrag6_enable(net);
	if (err)
		goto err_defrag6;
	err = kipsec_hooks_register(net);
	if (err)
		goto err_hooks;
	return 0;

err_hooks:
	defrag6_disable(net);
err_defrag6:
	defrag4_disable(net);
err_defrag4:
	kipsec_dev_destroy(kn->dev, NULL);
err_dev:
	kipsec_spd_destroy(&kn->spd);
	kipsec_sad_destroy(&kn->sad);
err_sad:
	percpu_ref_exit(&kn->inflight);
err_ref:
	free_percpu(kn->inflight_cnt);
err_cnt:
	free_percpu(kn->stats);
	return err;
}

/*
 * No packet reaches kipsec after this (synchronize_net inside). The kill
 * drops the namespace's own in-flight reference; the grace period after
 * which the count becomes a shared one that knows its zero runs alongside
 * the one the namespace's cleanup waits for next.
 */
static void __net_exit kipsec_net_pre_exit(struct net *net)
{
	kipsec_hooks_unregister(net);
	percpu_ref_kill(&kipsec_pernet(net)->inflight);
}

static void __net_exit kipsec_net_exit_batch_rtnl(struct list_head *net_list,
						  struct list_head *kill_list)
{
	struct net *net;

	list_for_each_entry(net, net_list, exit_list)
		kipsec_dev_destroy(kipsec_pernet(net)->dev, kill_list);
}

static void __net_exit kipsec_net_exit(struct net *net)
{
	struct kipsec_net *kn = kipsec_pernet(net);

	defrag6_disable(net);
	defrag4_disable(net);
	/* Packets inside crypto hold SAs and kipsec0: let them finish. */
	wait_for_completion(&kn->inflight_done);
	percpu_ref_exit(&kn->inflight);
	free_percpu(kn->inflight_cnt);
	kipsec_sad_destroy(&kn->sad);
	kipsec_spd_destroy(&kn->spd);
	free_percpu(kn->stats);
}

static struct pernet_operations kipsec_net_ops = {
	.init = kipsec_net_init,
	.pre_exit = kipsec_net_pre_exit,
	.exit_batch_rtnl = kipsec_net_exit_batch_rtnl,
	.exit = kipsec_net_exit,
	.id = &kipsec_net_id,
	.size = sizeof(struct kipsec_net),
};

/**
 * kipsec_netns_init() - create the state of every namespace, now and later
 *
 * Return: 0 or a negative errno.
 */
int kipsec_netns_init(void)
{
	int err;

	err = defrag_get();
	if (err)
		return err;
	err = register_pernet_device(&kipsec_net_ops);
	if (err)
		defrag_put();
	return err;
}

/**
 * kipsec_netns_exit() - tear down the state of every namespace
 */
void kipsec_netns_exit(void)
{
	unregister_pernet_device(&kipsec_net_ops);
	defrag_put();
}
