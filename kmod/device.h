/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kipsec0: the per-namespace device that decrypted inbound packets are
 * received on.
 */

#ifndef _KIPSEC_DEVICE_H
#define _KIPSEC_DEVICE_H

#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>

#define KIPSEC_DEV_NAME	"kipsec0"

int kipsec_dev_create(struct net *net, struct net_device **out);
void kipsec_dev_destroy(struct net_device *dev, struct list_head *kill_list);
int kipsec_dev_rx(struct net_device *dev, struct sk_buff *skb);
bool kipsec_dev_is(const struct net_device *dev);

/*
 * Compat (to move into compat.h): 6.12 turned the NETIF_F_NETNS_LOCAL and
 * NETIF_F_LLTX feature bits into net_device fields (netns_local, renamed
 * netns_immutable in 6.15 and in 6.12.y; Debian's 6.12 has the new name).
 */
static inline void kipsec_compat_netdev_flags(struct net_device *dev)
{
#ifdef NETIF_F_NETNS_LOCAL
	dev->features |= NETIF_F_NETNS_LOCAL;
#else
	dev->netns_immutable = true;
#endif
#ifdef NETIF_F_LLTX
	dev->features |= NETIF_F_LLTX;
#else
	dev->lltx = true;
#endif
}

#endif /* _KIPSEC_DEVICE_H */
