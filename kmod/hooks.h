/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Netfilter hooks: where packets enter kipsec (LOCAL_IN, POST_ROUTING).
 */

#ifndef _KIPSEC_HOOKS_H
#define _KIPSEC_HOOKS_H

struct net;

int kipsec_hooks_register(struct net *net);
void kipsec_hooks_unregister(struct net *net);

#endif /* _KIPSEC_HOOKS_H */
