// SPDX-License-Identifier: GPL-2.0
/*
 * The netfilter hooks of a namespace; the hook functions are in input.c
 * and output.c.
 */

#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/skbuff.h>

#include "datapath.h"
#include "hooks.h"
#include "netns.h"

/*
 * Inbound: after the INPUT filter and conntrack helpers, as the native stack
 * sees ESP. Outbound: after SNAT, before conntrack's confirm at
 * NF_IP_PRI_LAST (equal priorities have no defined order).
 */
#define KIPSEC_PRI_IN	(NF_IP_PRI_LAST - 1)
#define KIPSEC_PRI_OUT	(NF_IP_PRI_LAST - 1)

static const struct nf_hook_ops kipsec_nf_ops[] = {
	{
		.hook = kipsec_in_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = KIPSEC_PRI_IN,
	}, {
		.hook = kipsec_out_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = KIPSEC_PRI_OUT,
	}, {
		.hook = kipsec_fwd_hook,
		.pf = NFPROTO_IPV4,
		.hooknum = NF_INET_FORWARD,
		.priority = KIPSEC_PRI_IN,
	}, {
		.hook = kipsec_in_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_LOCAL_IN,
		.priority = KIPSEC_PRI_IN,
	}, {
		.hook = kipsec_out_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_POST_ROUTING,
		.priority = KIPSEC_PRI_OUT,
	}, {
		.hook = kipsec_fwd_hook,
		.pf = NFPROTO_IPV6,
		.hooknum = NF_INET_FORWARD,
		.priority = KIPSEC_PRI_IN,
	},
};

/**
 * kipsec_hooks_register() - attach kipsec to a namespace's packet path
 * @net: the namespace
 *
 * Return: 0 or a negative errno.
 */
int kipsec_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, kipsec_nf_ops,
				     ARRAY_SIZE(kipsec_nf_ops));
}

/**
 * kipsec_hooks_unregister() - detach kipsec from a namespace
 * @net: the namespace
 *
 * Waits until no hook function runs (synchronize_net()).
 */
void kipsec_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, kipsec_nf_ops, ARRAY_SIZE(kipsec_nf_ops));
}
