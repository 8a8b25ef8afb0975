/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The packet path: hook functions (input.c, output.c) and what they share.
 */

#ifndef _KIPSEC_DATAPATH_H
#define _KIPSEC_DATAPATH_H

#include <linux/netfilter.h>
#include <linux/skbuff.h>

#include "kipsec.h"
#include "sa.h"

struct kipsec_net;

int kipsec_flow_parse(const struct sk_buff *skb, struct kipsec_flow *flow);
int __kipsec_flow_parse(const struct sk_buff *skb, struct kipsec_flow *flow,
			bool quote);
void kipsec_drop(struct kipsec_net *kn, struct kipsec_sa *sa,
		 struct sk_buff *skb, enum kipsec_stat stat,
		 enum kipsec_sa_stat sa_stat);

unsigned int kipsec_out_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state);
unsigned int kipsec_in_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state);
unsigned int kipsec_fwd_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state);

#endif /* _KIPSEC_DATAPATH_H */
