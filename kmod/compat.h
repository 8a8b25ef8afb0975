/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels kipsec builds against (6.1 and 6.12),
 * keyed on features where the headers allow it.
 */

#ifndef _KIPSEC_COMPAT_H
#define _KIPSEC_COMPAT_H

#include <linux/crypto.h>
#include <linux/netlink.h>
#include <linux/skbuff.h>
#include <linux/version.h>
#include <linux/netfilter.h>
#include <net/genetlink.h>
#include <net/netfilter/nf_conntrack.h>

/*
 * NL_SET_ERR_MSG_FMT appeared in 6.3: older kernels get @plain, a constant
 * message saying the same without the details.
 */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define KIPSEC_ERR_FMT(extack, plain, fmt, args...) \
	NL_SET_ERR_MSG_FMT_MOD(extack, fmt, ##args)
#else
#define KIPSEC_ERR_FMT(extack, plain, fmt, args...) \
	NL_SET_ERR_MSG_MOD(extack, plain)
#endif

/* Multicast groups restricted to CAP_NET_ADMIN listeners, where supported. */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KIPSEC_MCGRP_FLAGS GENL_MCAST_CAP_NET_ADMIN
#else
#define KIPSEC_MCGRP_FLAGS 0
#endif

/*
 * Crypto completions take the request's data pointer since 6.3, the
 * request itself before; no header feature tells them apart (the typedef
 * kept its name), hence the version test.
 */
#if KERNEL_VERSION(6, 3, 0) <= LINUX_VERSION_CODE
#define KIPSEC_CRYPTO_DONE(name, arg) void name(void *arg, int err)
#define KIPSEC_CRYPTO_DATA(arg) (arg)
#else
#define KIPSEC_CRYPTO_DONE(name, arg) \
	void name(struct crypto_async_request *arg, int err)
#define KIPSEC_CRYPTO_DATA(arg) ((arg)->data)
#endif

/*
 * skb_gso_segment() moved from netdevice.h to net/gso.h in 6.5 (sparse
 * does not know __has_include).
 */
#if KERNEL_VERSION(6, 5, 0) <= LINUX_VERSION_CODE
#include <net/gso.h>
#endif

/*
 * nf_conntrack_confirm() without a module dependency on nf_conntrack:
 * both kernels expose __nf_conntrack_confirm() as nf_ct_hook->confirm;
 * the guards are nf_conntrack_confirm()'s (cached events are left to the
 * next packet of the connection).
 */
static inline int kipsec_ct_confirm(struct sk_buff *skb)
{
	const struct nf_ct_hook *ct_hook;
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct;
	int ret = NF_ACCEPT;

	ct = nf_ct_get(skb, &ctinfo);
	if (!ct || nf_ct_is_confirmed(ct))
		return NF_ACCEPT;
	rcu_read_lock();
	ct_hook = rcu_dereference(nf_ct_hook);
	if (ct_hook)
		ret = ct_hook->confirm(skb);
	rcu_read_unlock();
	return ret;
}

#endif /* _KIPSEC_COMPAT_H */
