/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "kipsec" generic netlink family: configuration and notifications.
 */

#ifndef _KIPSEC_NETLINK_H
#define _KIPSEC_NETLINK_H

#include <linux/types.h>

struct net;
struct kipsec_sa;

struct kipsec_net;
struct kipsec_policy;
struct kipsec_flow;
union kipsec_addr;

int kipsec_genl_init(void);
void kipsec_acquire(struct kipsec_net *kn, struct kipsec_policy *pol,
		    const struct kipsec_flow *flow);
void kipsec_genl_exit(void);
void kipsec_nl_mapping(struct net *net, struct kipsec_sa *sa,
		       const union kipsec_addr *addr, __be16 port);
void kipsec_nl_notify_sa(struct net *net, u8 cmd, struct kipsec_sa *sa,
			 bool hard);

#endif /* _KIPSEC_NETLINK_H */
