// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec0: one network device per namespace on which decrypted and checked
 * inbound packets are received, as xfrm_input() does for tunnel mode.
 *
 * skb->dev == kipsec0 is what tells the second pass through ip_rcv() /
 * ipv6_rcv() that kipsec already decrypted the packet and ran the
 * RFC 4301 5.2 checks: it cannot be forged from the wire, GRO never merges
 * across devices, firewalls can match "iifname kipsec0", and captures on
 * the WAN interface never show cleartext.
 *
 * The device never transmits: outbound ESP leaves via ip_local_out() on
 * the route's device. Whatever is routed to kipsec0 is dropped and counted.
 */

#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/inetdevice.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/gro_cells.h>
#include <net/if_inet6.h>

#include "device.h"

/**
 * struct kipsec_dev - private part of kipsec0
 * @gro_cells: per-CPU GRO queues that decrypted packets are received on
 */
struct kipsec_dev {
	struct gro_cells gro_cells;
};

static int kipsec_dev_init(struct net_device *dev)
{
	struct kipsec_dev *kd = netdev_priv(dev);

	return gro_cells_init(&kd->gro_cells, dev);
}

/*
 * Runs once the last reference is gone (or when register_netdevice() fails
 * after ndo_init): callers of kipsec_dev_rx() hold a reference or run
 * before unregistration's RCU grace period, so nothing can be queued on
 * the cells any more.
 */
static void kipsec_dev_free(struct net_device *dev)
{
	struct kipsec_dev *kd = netdev_priv(dev);

	gro_cells_destroy(&kd->gro_cells);
}

static netdev_tx_t kipsec_dev_xmit(struct sk_buff *skb,
				   struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	kfree_skb(skb);
	return NETDEV_TX_OK;
}

static const struct net_device_ops kipsec_dev_ops = {
	.ndo_init	 = kipsec_dev_init,
	.ndo_start_xmit	 = kipsec_dev_xmit,
	.ndo_get_stats64 = dev_get_tstats64,
};

static void kipsec_dev_setup(struct net_device *dev)
{
	dev->netdev_ops = &kipsec_dev_ops;
	dev->type = ARPHRD_NONE;
	dev->flags = IFF_NOARP | IFF_POINTOPOINT;
	dev->priv_flags |= IFF_NO_QUEUE;
	dev->hard_header_len = 0;
	dev->addr_len = 0;
	/*
	 * The MTU only bounds what is routed to the device, which drops it
	 * anyway. Below 1280 IPv6 would be disabled on the device and every
	 * decrypted IPv6 packet dropped by ipv6_rcv().
	 */
	dev->mtu = ETH_MAX_MTU;
	dev->min_mtu = IPV6_MIN_MTU;
	dev->max_mtu = ETH_MAX_MTU;
	dev->pcpu_stat_type = NETDEV_PCPU_STAT_TSTATS;
	dev->needs_free_netdev = true;
	dev->priv_destructor = kipsec_dev_free;
	/* netns-local: the SAs that feed it live in this namespace */
	kipsec_compat_netdev_flags(dev);
}

/*
 * Per-device settings, applied under RTNL between registration and
 * bringing the device up; IN_DEV_CONF_SET also marks rp_filter as set on
 * this device, so later changes of conf/default do not overwrite it.
 */
static void kipsec_dev_conf(struct net_device *dev)
{
	struct in_device *in_dev = __in_dev_get_rtnl(dev);
	struct inet6_dev *idev = __in6_dev_get(dev);

	/*
	 * The inner source address is routed via the WAN, not via kipsec0:
	 * strict reverse-path filtering would drop every decrypted packet.
	 * The effective value is the maximum of conf/all and this device,
	 * so conf/all/rp_filter must not be 1 either (0 or 2 are fine).
	 */
	if (in_dev)
		IN_DEV_CONF_SET(in_dev, RP_FILTER, 0);

	/*
	 * No link-local address: kipsec0 has no link to talk to, and DAD,
	 * router and MLD solicitations would only be counted as TX drops.
	 * IPv6 itself stays enabled: ipv6_rcv() drops packets received on a
	 * device where it is disabled.
	 */
	if (idev)
		WRITE_ONCE(idev->cnf.addr_gen_mode, IN6_ADDR_GEN_MODE_NONE);
}

/**
 * kipsec_dev_create() - create, register and bring up @net's kipsec0
 * @net: the namespace, being initialised (pernet .init)
 * @out: the new device
 *
 * Takes RTNL: call it without RTNL, from process context. The name is
 * fixed, the same in every namespace; a namespace that already has a
 * device of that name gets no kipsec0, and -EEXIST makes the pernet init
 * (and so module load or namespace creation) fail with a warning.
 *
 * Return: 0, or a negative errno.
 */
int kipsec_dev_create(struct net *net, struct net_device **out)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(struct kipsec_dev), KIPSEC_DEV_NAME,
			   NET_NAME_PREDICTABLE, kipsec_dev_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, net);

	rtnl_lock();
	err = register_netdevice(dev);
	if (err)
		goto err_free;

	kipsec_dev_conf(dev);

	err = dev_open(dev, NULL);
	if (err)
		goto err_unregister;
	rtnl_unlock();

	*out = dev;
	return 0;

err_unregister:
	/* needs_free_netdev: freed by rtnl_unlock() once unregistered */
	unregister_netdevice(dev);
	rtnl_unlock();
	return err;

err_free:
	rtnl_unlock();
	free_netdev(dev);
	if (err == -EEXIST)
		pr_warn("namespace %u already has a device named %s\n",
			net->ns.inum, KIPSEC_DEV_NAME);
	return err;
}

/**
 * kipsec_dev_destroy() - unregister kipsec0
 * @dev: the device from kipsec_dev_create()
 * @kill_list: the dev_kill_list of a pernet .exit_batch_rtnl callback
 *	(RTNL held; the caller's unregister_netdevice_many() unregisters it
 *	with the rest of the batch), or NULL to unregister now, taking RTNL
 *
 * Either way the device is freed, and its GRO cells destroyed, after the
 * last reference is dropped: in-flight requests that hold one delay the
 * end of unregistration, not the other way round. @dev must not be used
 * by the caller afterwards.
 */
void kipsec_dev_destroy(struct net_device *dev, struct list_head *kill_list)
{
	if (kill_list)
		unregister_netdevice_queue(dev, kill_list);
	else
		unregister_netdev(dev);
}

/**
 * kipsec_dev_rx() - receive a decrypted inner packet on kipsec0
 * @dev: the namespace's kipsec0
 * @skb: the packet, with skb->data at the inner IPv4 or IPv6 header. The
 *	caller has set ip_summed for the inner packet (CHECKSUM_NONE after
 *	decryption, CHECKSUM_UNNECESSARY only where RFC 3948 says to ignore
 *	the inner checksum).
 *
 * Clears what belonged to the outer packet (route, conntrack entry, skb
 * extensions, VLAN tag, flow hash, queue), marks the packet as addressed
 * to this host on kipsec0 and queues it for GRO and ip_rcv() / ipv6_rcv().
 *
 * Callable from softirq or process context (not hard IRQ), with @dev
 * held by the caller or within the RCU read section in which the caller
 * found it. The skb is consumed in every case.
 *
 * Return: 0 if queued; -EINVAL if it is not an IP packet, -ENOBUFS if
 * the device is down or its queue full. Drops are counted in the device's
 * rx_dropped.
 */
int kipsec_dev_rx(struct net_device *dev, struct sk_buff *skb)
{
	struct kipsec_dev *kd = netdev_priv(dev);
	unsigned int len;
	__be16 proto;
	int err = 0;

	if (unlikely(!pskb_may_pull(skb, 1)))
		goto drop;
	switch (skb->data[0] >> 4) {
	case 4:
		proto = htons(ETH_P_IP);
		break;
	case 6:
		proto = htons(ETH_P_IPV6);
		break;
	default:
		goto drop;
	}

	/* Same namespace: keep the mark and the receive timestamp. */
	skb_scrub_packet(skb, false);
	__vlan_hwaccel_clear_tag(skb);
	/* The outer hash is the SA's: let RPS and GRO hash the inner flow. */
	skb_clear_hash(skb);
	skb_set_queue_mapping(skb, 0);
	skb->encapsulation = 0;
	/* A checksum state of the outer packet says nothing about this one. */
	if (skb->ip_summed != CHECKSUM_UNNECESSARY)
		skb->ip_summed = CHECKSUM_NONE;

	skb->dev = dev;
	skb->protocol = proto;
	skb_reset_network_header(skb);
	skb_reset_mac_header(skb);
	len = skb->len;

	/*
	 * Async crypto may complete in process context: the cells, the
	 * backlog and the per-CPU counters want BH off.
	 */
	local_bh_disable();
	if (likely(gro_cells_receive(&kd->gro_cells, skb) == NET_RX_SUCCESS))
		dev_sw_netstats_rx_add(dev, len);
	else
		err = -ENOBUFS;
	local_bh_enable();
	return err;

drop:
	dev_core_stats_rx_dropped_inc(dev);
	kfree_skb(skb);
	return -EINVAL;
}

/**
 * kipsec_dev_is() - is this a kipsec0 device?
 * @dev: any device
 *
 * Recognises packets kipsec already decrypted and checked (skb->dev).
 * It compares the operations, not the name, which an administrator can
 * change.
 *
 * Return: true for a kipsec0 device of any namespace.
 */
bool kipsec_dev_is(const struct net_device *dev)
{
	return dev->netdev_ops == &kipsec_dev_ops;
}
