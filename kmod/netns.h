/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state: SAD, SPD, configuration, counters, hooks.
 */

#ifndef _KIPSEC_NETNS_H
#define _KIPSEC_NETNS_H

#include <linux/completion.h>
#include <linux/percpu-refcount.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "kipsec.h"
#include "policy.h"
#include "sa.h"

/**
 * struct kipsec_net - what kipsec keeps per network namespace
 * @net: the namespace
 * @sad: security association database
 * @spd: security policy database
 * @default_action: enum kipsec_action per enum kipsec_dir, for traffic no
 *	policy matches; read locklessly (READ_ONCE) by the datapath
 * @config_lock: serialises configuration writers
 * @stats: namespace counters
 * @dev: kipsec0, the device decrypted packets are received on
 * @inflight: one reference per packet inside crypto; exit kills it and
 *	waits for @inflight_done
 * @inflight_done: completed when @inflight is released
 * @inflight_cnt: packets inside crypto, for GET_STATS: the same count as
 *	@inflight, which cannot be read; per CPU, and a packet may leave on
 *	another CPU than it entered on, so only the sum means anything
 */
struct kipsec_net {
	struct net *net;
	struct kipsec_sad sad;
	struct kipsec_spd spd;
	u8 default_action[__KIPSEC_DIR_MAX];
	struct mutex config_lock; /* serialises SET_CONFIG */
	struct kipsec_pcpu_stats __percpu *stats;
	struct net_device *dev;
	struct percpu_ref inflight;
	struct completion inflight_done;
	long __percpu *inflight_cnt;
};

extern unsigned int kipsec_net_id;

static inline struct kipsec_net *kipsec_pernet(const struct net *net)
{
	return net_generic(net, kipsec_net_id);
}

/* The namespace an SA belongs to (its SAD is part of the pernet state). */
static inline struct kipsec_net *kipsec_sa_pernet(const struct kipsec_sa *sa)
{
	return container_of(sa->sad, struct kipsec_net, sad);
}

/**
 * kipsec_dir_passes() - whether every packet of a direction passes
 * @kn: the namespace
 * @dir: enum kipsec_dir
 * @family: the packet's, AF_INET or AF_INET6
 *
 * Return: true if @dir has no policy for @family and its default action
 * is not discard: a hook can then let the packet go without parsing it
 * (kipsec_spd_idle()).
 */
static inline bool kipsec_dir_passes(const struct kipsec_net *kn, u8 dir,
				     u16 family)
{
	return kipsec_spd_idle(&kn->spd, dir, family) &&
	       READ_ONCE(kn->default_action[dir]) != KIPSEC_ACTION_DISCARD;
}

/**
 * kipsec_inflight_get() - a packet of @kn enters crypto
 * @kn: its namespace: from a hook, which namespace exit unregisters before
 *	it waits, or for a packet that holds a count already (a bundle's
 *	next SA)
 *
 * The counts are per CPU: a packet writes no cache line that the packets
 * on the other CPUs write (an atomic count per namespace was one line
 * written twice per packet, on every CPU).
 */
static inline void kipsec_inflight_get(struct kipsec_net *kn)
{
	percpu_ref_get(&kn->inflight);
	this_cpu_inc(*kn->inflight_cnt);
}

/**
 * kipsec_inflight_put() - a packet of @kn is done with crypto
 * @kn: its namespace, which may be gone once this returns
 *
 * The packet's last use of @kn: namespace exit goes on once the last
 * packet has called this.
 */
static inline void kipsec_inflight_put(struct kipsec_net *kn)
{
	this_cpu_dec(*kn->inflight_cnt);
	percpu_ref_put(&kn->inflight);
}

static inline void kipsec_net_stat_inc(const struct net *net,
				       enum kipsec_stat idx)
{
	kipsec_stats_inc(kipsec_pernet(net)->stats, idx);
}

u32 kipsec_inflight_read(struct kipsec_net *kn);
int kipsec_netns_init(void);
void kipsec_netns_exit(void);

#endif /* _KIPSEC_NETNS_H */
