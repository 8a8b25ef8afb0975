/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels kipsec builds against (6.1 and 6.12),
 * keyed on features where the headers allow it.
 */

#ifndef _KIPSEC_COMPAT_H
#define _KIPSEC_COMPAT_H

#include <linux/netlink.h>
#include <linux/version.h>
#include <net/genetlink.h>

/* NL_SET_ERR_MSG_FMT appeared in 6.3: fall back to the constant text. */
#ifdef NL_SET_ERR_MSG_FMT_MOD
#define KIPSEC_ERR_FMT(extack, fmt, args...) \
	NL_SET_ERR_MSG_FMT_MOD(extack, fmt, ##args)
#else
#define KIPSEC_ERR_FMT(extack, fmt, args...) \
	NL_SET_ERR_MSG_MOD(extack, fmt)
#endif

/* Multicast groups restricted to CAP_NET_ADMIN listeners, where supported. */
#ifdef GENL_MCAST_CAP_NET_ADMIN
#define KIPSEC_MCGRP_FLAGS GENL_MCAST_CAP_NET_ADMIN
#else
#define KIPSEC_MCGRP_FLAGS 0
#endif

/*
 * The parsed attributes of a dump request moved into a struct genl_info
 * (genl_info_dump()) with the split-ops rework in 6.2; there is no macro to
 * test, so the version is the key.
 */
static inline struct nlattr **kipsec_dump_attrs(struct netlink_callback *cb)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

#endif /* _KIPSEC_COMPAT_H */
