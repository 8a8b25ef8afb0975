/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-network-namespace state: SAD, SPD, configuration, counters, hooks.
 */

#ifndef _KIPSEC_NETNS_H
#define _KIPSEC_NETNS_H

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
 * @inflight: packets inside crypto (plus one while the namespace lives);
 *	exit waits until they are done
 */
struct kipsec_net {
	struct net *net;
	struct kipsec_sad sad;
	struct kipsec_spd spd;
	u8 default_action[__KIPSEC_DIR_MAX];
	struct mutex config_lock; /* serialises SET_CONFIG */
	struct kipsec_pcpu_stats __percpu *stats;
	struct net_device *dev;
	atomic_t inflight;
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

static inline void kipsec_net_stat_inc(const struct net *net,
				       enum kipsec_stat idx)
{
	kipsec_stats_inc(kipsec_pernet(net)->stats, idx);
}

int kipsec_netns_init(void);
void kipsec_netns_exit(void);

#endif /* _KIPSEC_NETNS_H */
