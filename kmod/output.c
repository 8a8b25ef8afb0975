// SPDX-License-Identifier: GPL-2.0
/*
 * Outbound: the POST_ROUTING hook. SPD lookup, SA selection, conntrack
 * confirmation, GSO, transport/tunnel encapsulation and sending the result
 * with ip_local_out() / ip6_local_out().
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <net/dsfield.h>
#include <net/dst_cache.h>
#include <net/icmp.h>
#include <net/inet_ecn.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>
#include <net/xfrm.h>

#include "ah.h"
#include "compat.h"
#include "datapath.h"
#include "encap.h"
#include "esp.h"
#include "netlink.h"
#include "netns.h"
#include "queue.h"

/* ICMP errors, which quote the packet they are about. */
static bool flow_icmp_error(u16 family, u8 type)
{
	if (family == AF_INET)
		return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
		       type == ICMP_PARAMETERPROB;
	return type < 128;
}

/* Parses the IP packet at @nhoff; returns the transport offset or < 0. */
static int flow_parse_ip(const struct sk_buff *skb, unsigned int nhoff,
			 struct kipsec_flow *flow)
{
	u8 _ver, *ver = skb_header_pointer(skb, nhoff, 1, &_ver);
	const struct ipv6hdr *ip6h;
	struct ipv6hdr _ip6h;
	__be16 frag_off = 0;
	u8 nexthdr;
	int off;

	if (!ver)
		return -EINVAL;
	if (*ver >> 4 == 4) {
		const struct iphdr *iph;
		struct iphdr _iph;

		iph = skb_header_pointer(skb, nhoff, sizeof(_iph), &_iph);
		if (!iph || iph->version != 4 || iph->ihl < 5)
			return -EINVAL;
		flow->family = AF_INET;
		flow->saddr.a4 = iph->saddr;
		flow->daddr.a4 = iph->daddr;
		flow->proto = iph->protocol;
		if (iph->frag_off & htons(IP_OFFSET))
			return -ENOENT;
		return nhoff + iph->ihl * 4;
	}

	ip6h = skb_header_pointer(skb, nhoff, sizeof(_ip6h), &_ip6h);
	if (!ip6h || ip6h->version != 6)
		return -EINVAL;
	flow->family = AF_INET6;
	flow->saddr.in6 = ip6h->saddr;
	flow->daddr.in6 = ip6h->daddr;
	nexthdr = ip6h->nexthdr;
	off = ipv6_skip_exthdr(skb, nhoff + sizeof(*ip6h), &nexthdr, &frag_off);
	flow->proto = nexthdr;
	if (off < 0 || (frag_off & htons(IP6_OFFSET)))
		return -ENOENT;
	return off;
}

/* Reads ports or ICMP type/code at @off; false if they are not there. */
static bool flow_parse_l4(const struct sk_buff *skb, int off,
			  struct kipsec_flow *flow)
{
	u8 buf[4];

	if (!kipsec_proto_has_ports(flow->proto) &&
	    !kipsec_proto_is_icmp(flow->family, flow->proto))
		return true;
	if (skb_copy_bits(skb, off, buf, sizeof(buf)))
		return false;
	if (kipsec_proto_has_ports(flow->proto)) {
		flow->sport = get_unaligned_be16(buf);
		flow->dport = get_unaligned_be16(buf + 2);
	} else {
		flow->icmp_type = buf[0];
		flow->icmp_code = buf[1];
	}
	return true;
}

/*
 * RFC 4301 6.2: an ICMP error about inner traffic is matched against the
 * SPD as the reverse of the packet it quotes (as the native stack does
 * with xfrm_decode_session_reverse), so it travels through the tunnel
 * that carried that traffic. Errors quoting ESP or AH are about outer
 * packets and keep their own flow.
 */
static void flow_icmp_quote(const struct sk_buff *skb, int off,
			    struct kipsec_flow *flow)
{
	struct kipsec_flow q = {};
	int qoff;

	qoff = flow_parse_ip(skb, off + 8, &q);
	if (qoff == -EINVAL || q.family != flow->family ||
	    q.proto == IPPROTO_ESP || q.proto == IPPROTO_AH)
		return;
	if (qoff < 0 || !flow_parse_l4(skb, qoff, &q))
		q.flags |= KIPSEC_FLOW_F_OPAQUE;
	flow->saddr = q.daddr;
	flow->daddr = q.saddr;
	flow->proto = q.proto;
	flow->sport = q.dport;
	flow->dport = q.sport;
	flow->icmp_type = q.icmp_type;
	flow->icmp_code = q.icmp_code;
	flow->flags = q.flags;
}

/**
 * kipsec_flow_parse() - the SPD tuple of an IP packet
 * @skb: the packet, network header set
 * @flow: filled in
 *
 * Ports and ICMP type/code are read when present in the first fragment;
 * later fragments are KIPSEC_FLOW_F_OPAQUE. An ICMP error gets the
 * reversed tuple of the packet it quotes (RFC 4301 6.2).
 *
 * Return: 0, or -EINVAL for a packet too short to hold its IP header.
 */
int kipsec_flow_parse(const struct sk_buff *skb, struct kipsec_flow *flow)
{
	return __kipsec_flow_parse(skb, flow, true);
}

/**
 * __kipsec_flow_parse() - the SPD tuple of an IP packet
 * @skb: the packet, network header set
 * @flow: filled in
 * @quote: an ICMP error gets the reversed tuple of the packet it quotes
 *
 * Return: 0, or -EINVAL for a packet too short to hold its IP header.
 */
int __kipsec_flow_parse(const struct sk_buff *skb, struct kipsec_flow *flow,
			bool quote)
{
	int off;

	memset(flow, 0, sizeof(*flow));
	off = flow_parse_ip(skb, skb_network_offset(skb), flow);
	if (off == -EINVAL)
		return off;
	if (off < 0 || !flow_parse_l4(skb, off, flow)) {
		flow->flags |= KIPSEC_FLOW_F_OPAQUE;
		return 0;
	}
	if (quote && kipsec_proto_is_icmp(flow->family, flow->proto) &&
	    flow_icmp_error(flow->family, flow->icmp_type))
		flow_icmp_quote(skb, off, flow);
	return 0;
}

/**
 * kipsec_drop() - drop a packet and count why
 * @kn: the namespace, whose counter @stat moves
 * @sa: the SA concerned, or NULL
 * @skb: the packet, freed
 * @stat: the namespace counter
 * @sa_stat: the SA's counter, or __KIPSEC_SA_STAT_MAX for none
 */
void kipsec_drop(struct kipsec_net *kn, struct kipsec_sa *sa,
		 struct sk_buff *skb, enum kipsec_stat stat,
		 enum kipsec_sa_stat sa_stat)
{
	kipsec_stats_inc(kn->stats, stat);
	if (sa && sa_stat < __KIPSEC_SA_STAT_MAX)
		kipsec_sa_stats_add(sa, sa_stat, 1);
	kfree_skb(skb);
}

/*
 * The SA's per-CPU route cache, set up here on its first tunnel-mode packet
 * rather than when the SA is added: an inbound SA never needs one, and an
 * install of 100k SAs spent a tenth of its time allocating them. NULL while
 * another CPU sets it up, or if the allocation failed (the next packet
 * tries again): the packet is routed without the cache.
 */
static struct dst_cache *out_dst_cache(struct kipsec_sa *sa)
{
	int st = atomic_read_acquire(&sa->dst_cache_state);

	if (likely(st == KIPSEC_SA_DST_CACHE_READY))
		return &sa->dst_cache;
	if (st != KIPSEC_SA_DST_CACHE_NONE ||
	    atomic_cmpxchg(&sa->dst_cache_state, KIPSEC_SA_DST_CACHE_NONE,
			   KIPSEC_SA_DST_CACHE_BUSY) != KIPSEC_SA_DST_CACHE_NONE)
		return NULL;
	if (dst_cache_init(&sa->dst_cache, GFP_ATOMIC | __GFP_NOWARN)) {
		atomic_set(&sa->dst_cache_state, KIPSEC_SA_DST_CACHE_NONE);
		return NULL;
	}
	/* Pairs with the acquire above: the cache is set up before it is seen. */
	atomic_set_release(&sa->dst_cache_state, KIPSEC_SA_DST_CACHE_READY);
	return &sa->dst_cache;
}

/* Outer route of a tunnel-mode SA, from its per-CPU cache. */
static struct dst_entry *out_route(struct net *net, struct kipsec_sa *sa,
				   struct sk_buff *skb)
{
	struct dst_cache *cache;
	struct dst_entry *dst;

	local_bh_disable();
	cache = out_dst_cache(sa);
	if (sa->id.family == AF_INET) {
		struct flowi4 fl4 = {
			.daddr = sa->id.daddr.a4,
			.saddr = sa->saddr.a4,
			.flowi4_proto = kipsec_encap_len(sa) ? IPPROTO_UDP :
							       sa->id.proto,
			.flowi4_mark = skb->mark,
		};
		struct rtable *rt;
		__be32 saddr;

		rt = cache ? dst_cache_get_ip4(cache, &saddr) : NULL;
		if (rt) {
			dst = &rt->dst;
			goto out;
		}
		rt = ip_route_output_key(net, &fl4);
		if (IS_ERR(rt)) {
			dst = ERR_CAST(rt);
			goto out;
		}
		dst = &rt->dst;
		if (cache)
			dst_cache_set_ip4(cache, dst, fl4.saddr);
	} else {
		struct flowi6 fl6 = {
			.daddr = sa->id.daddr.in6,
			.saddr = sa->saddr.in6,
			.flowi6_proto = kipsec_encap_len(sa) ? IPPROTO_UDP :
							       sa->id.proto,
			.flowi6_mark = skb->mark,
		};
		struct in6_addr saddr;

		dst = cache ? dst_cache_get_ip6(cache, &saddr) : NULL;
		if (dst)
			goto out;
		dst = ip6_dst_lookup_flow(net, NULL, &fl6, NULL);
		if (IS_ERR(dst))
			goto out;
		if (cache)
			dst_cache_set_ip6(cache, dst, &fl6.saddr);
	}
out:
	local_bh_enable();
	return dst;
}

/*
 * RFC 6437: the outer flow label comes from the inner flow's hash, so
 * ECMP and RSS keep each inner flow on one path and spread the others.
 */
static __be32 out_flowlabel(struct net *net, struct sk_buff *skb)
{
	if (READ_ONCE(net->ipv6.sysctl.auto_flowlabels) ==
	    IP6_AUTO_FLOW_LABEL_OFF)
		return 0;
	return (__force __be32)rol32(skb_get_hash(skb), 16) &
	       IPV6_FLOWLABEL_MASK;
}

/* Builds the outer header of a tunnel-mode packet; returns its length. */
static unsigned int out_outer(struct net *net, struct kipsec_sa *sa,
			      struct sk_buff *skb, struct dst_entry *dst,
			      void *outer)
{
	u8 proto = kipsec_encap_len(sa) ? IPPROTO_UDP : sa->id.proto;
	u8 df = READ_ONCE(sa->df), dsfield, tos = 0;
	struct ipv6hdr *ip6h;
	bool inner_df;

	if (ip_hdr(skb)->version == 4) {
		dsfield = ipv4_get_dsfield(ip_hdr(skb));
		inner_df = ip_hdr(skb)->frag_off & htons(IP_DF);
	} else {
		dsfield = ipv6_get_dsfield(ipv6_hdr(skb));
		inner_df = true;
	}
	if (!(sa->flags & KIPSEC_SA_F_NO_DSCP_COPY))
		tos |= dsfield & ~INET_ECN_MASK;
	/* RFC 6040 normal mode: the outer ECN field is the inner one. */
	if (!(sa->flags & KIPSEC_SA_F_NO_ECN))
		tos |= dsfield & INET_ECN_MASK;

	if (sa->id.family == AF_INET) {
		struct iphdr *iph = outer;

		memset(iph, 0, sizeof(*iph));
		iph->version = 4;
		iph->ihl = 5;
		iph->tos = tos;
		if (df == KIPSEC_DF_SET || (df == KIPSEC_DF_COPY && inner_df))
			iph->frag_off = htons(IP_DF);
		iph->ttl = ip4_dst_hoplimit(dst);
		iph->protocol = proto;
		iph->saddr = sa->saddr.a4;
		iph->daddr = sa->id.daddr.a4;
		return sizeof(*iph);
	}
	ip6h = outer;
	memset(ip6h, 0, sizeof(*ip6h));
	ip6_flow_hdr(ip6h, tos, out_flowlabel(net, skb));
	ip6h->nexthdr = proto;
	ip6h->hop_limit = ip6_dst_hoplimit(dst);
	ip6h->saddr = sa->saddr.in6;
	ip6h->daddr = sa->id.daddr.in6;
	return sizeof(*ip6h);
}

/* Adds AH or ESP (and the outer header in tunnel mode), then the crypto. */
static int out_crypt(struct sk_buff *skb, u64 seq)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	u8 outer[sizeof(struct ipv6hdr)];
	struct kipsec_sa *sa = cb->sa;
	unsigned int outer_len = 0;

	if (sa->mode == KIPSEC_MODE_TUNNEL)
		outer_len = out_outer(cb->net, sa, skb, skb_dst(skb), outer);
	if (sa->id.proto == IPPROTO_AH)
		return kipsec_ah_output(skb, seq, outer, outer_len);
	return kipsec_esp_output(skb, seq, outer, outer_len);
}

/* A packet whose crypto could not start: dropped, references released. */
static void out_failed(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_net *kn = kipsec_pernet(cb->net);
	struct kipsec_sa *next = cb->next;
	struct kipsec_sa *sa = cb->sa;

	kipsec_drop(kn, sa, skb, err == -ENOMEM ? KIPSEC_STAT_OUT_NOMEM :
		    KIPSEC_STAT_OUT_ERROR, __KIPSEC_SA_STAT_MAX);
	if (next)
		kipsec_sa_put(next);
	kipsec_sa_put(sa);
	kipsec_inflight_put(kn);
}

/* The parallel stage's crypto step: the sequence number is in the cb. */
static int out_queued_crypt(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	u64 seq = cb->seq;

	/* @seq shares its slot with @next; queued packets have no bundle. */
	cb->next = NULL;
	return out_crypt(skb, seq);
}

/*
 * Puts a packet on its SA's outbound queue with the next sequence number:
 * under the queue's lock, so that the queue is in sequence order. Sets
 * @spread as kipsec_squeue_enter() says.
 */
static int out_enqueue(struct kipsec_sa *sa, struct sk_buff *skb,
		       bool *spread)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_squeue *sq = &sa->txq;
	int err = 0;
	u64 seq;

	spin_lock_bh(&sq->q.lock);
	if (skb_queue_len(&sq->q) >= KIPSEC_SQUEUE_LEN) {
		err = -ENOBUFS;
	} else if (kipsec_seq_next(&sa->seq_out, sa->flags & KIPSEC_SA_F_ESN,
				   &seq)) {
		err = -EOVERFLOW;
	} else {
		cb->seq = seq;
		cb->qstate = KIPSEC_Q_OUT;
		*spread = kipsec_squeue_enter(sq, skb);
	}
	spin_unlock_bh(&sq->q.lock);
	return err;
}

/*
 * The packet before and after @sa share a route: transport mode, or
 * host-to-host tunnel mode (the inner packet goes to the outer destination).
 */
static bool out_one_host(const struct kipsec_sa *sa, struct sk_buff *skb)
{
	if (sa->mode != KIPSEC_MODE_TUNNEL)
		return true;
	if (ip_hdr(skb)->version == 4)
		return sa->id.family == AF_INET &&
		       ip_hdr(skb)->daddr == sa->id.daddr.a4;
	return sa->id.family == AF_INET6 &&
	       ipv6_addr_equal(&ipv6_hdr(skb)->daddr, &sa->id.daddr.in6);
}

/*
 * The path MTU of @sa's outer packets on their route @dst: the route's,
 * lowered by what the SA learnt from ICMP about its own packets (RFC 4301
 * 8.2.1). When the packet before and after @sa share the route
 * (@one_host), the route's learnt PMTU is the inner flow's: out_mtu_ok()
 * answers a too-big inner packet with the MTU left after the SA's
 * overhead, and a local sender lowers the shared route to it. Sized by
 * that, each outer packet would lower it again, down to the 552-byte
 * floor. An IPv4 outer packet then takes the route's own MTU (route metric
 * or device) instead, and out_done() has IP size it the same way. IPv6
 * output has no such choice: there the route's learnt PMTU rules, and
 * IPv6 transport mode is not refused (README, Limitations).
 */
static unsigned int out_path_mtu(const struct kipsec_sa *sa,
				 struct dst_entry *dst, bool one_host)
{
	unsigned int mtu, pmtu = kipsec_sa_pmtu(sa);

	/* (Not a native XFRM bundle's route, which is no rtable.) */
	if (one_host && sa->id.family == AF_INET && !dst_xfrm(dst))
		mtu = ip_dst_mtu_maybe_forward(dst, true);
	else
		mtu = dst_mtu(dst);
	return pmtu ? min(mtu, pmtu) : mtu;
}

/*
 * Encapsulates one (non-GSO) packet; consumes @skb, the SA reference,
 * @dst (the outer route in tunnel mode, else NULL) and @next (the bundle's
 * outer SA, applied by kipsec_output_done(), or NULL). Packets of a single
 * SA go through the parallel stage when it is on; bundles stay on this CPU.
 * @more: more segments of the same GSO packet follow.
 */
static void out_one(struct net *net, struct kipsec_sa *sa,
		    struct sk_buff *skb, struct dst_entry *dst,
		    struct kipsec_sa *next, bool more)
{
	struct kipsec_net *kn = kipsec_pernet(net);
	bool queued = !next && kipsec_parallel();
	bool one_host = out_one_host(sa, skb);
	bool spread = false;
	struct kipsec_skb_cb *cb;
	u64 seq = 0;
	int err;

	if (skb->ip_summed == CHECKSUM_PARTIAL && skb_checksum_help(skb)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_ERROR,
			    __KIPSEC_SA_STAT_MAX);
		goto put;
	}
	if (unlikely(!kipsec_sa_usable(sa))) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_SA_EXPIRED,
			    KIPSEC_SA_STAT_OUT_SA_EXPIRED);
		goto put;
	}
	if (unlikely(!kipsec_sa_lft_account(sa, skb->len))) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_SA_EXPIRED,
			    KIPSEC_SA_STAT_OUT_SA_EXPIRED);
		goto put;
	}

	if (dst) {
		skb_dst_drop(skb);
		skb_dst_set(skb, dst);
		dst = NULL;
	} else if (!skb_dst_force(skb)) {
		/*
		 * Transport mode sends on the packet's own route, which for
		 * forwarded traffic holds no reference; the crypto may end
		 * after this hook's RCU section (async or queued).
		 */
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_NO_ROUTE,
			    __KIPSEC_SA_STAT_MAX);
		goto put;
	}
	/*
	 * What still exceeds the path MTU once encapsulated was allowed
	 * through by out_mtu_ok() (no DF, IPv6 at the minimum MTU) or is
	 * IPv6 transport mode: IP fragments the outer packet.
	 */
	skb->ignore_df = 1;

	cb = kipsec_cb(skb);
	memset(cb, 0, sizeof(*cb));
	cb->sa = sa;
	cb->net = net;
	cb->len = skb->len;
	cb->next = next;
	cb->one_host = one_host;
	if (queued)
		err = out_enqueue(sa, skb, &spread);
	else if (kipsec_seq_next(&sa->seq_out, sa->flags & KIPSEC_SA_F_ESN,
				 &seq))
		err = -EOVERFLOW;
	else
		err = 0;
	if (unlikely(err)) {
		if (err == -EOVERFLOW)
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_SEQ_OVERFLOW,
				    KIPSEC_SA_STAT_OUT_SEQ_OVERFLOW);
		else
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_QUEUE_FULL,
				    __KIPSEC_SA_STAT_MAX);
		goto put;
	}

	kipsec_inflight_get(kn);
	if (queued) {
		kipsec_queue_crypt(skb, spread || more);
		return;
	}
	err = out_crypt(skb, seq);
	if (err)
		out_failed(skb, err);
	return;
put:
	dst_release(dst);
	if (next)
		kipsec_sa_put(next);
	kipsec_sa_put(sa);
}

/*
 * The bundle's outer SA covers the packet its inner SA produced: a new IPv4
 * header from an inner tunnel-mode ESP SA gets its ID first (AH covers it).
 * An outer tunnel-mode SA carries that header as payload, so it gets the
 * length and checksum ip_local_out() would have given it, and the outer
 * SA's route. Consumes @skb and @next.
 */
static void out_bundle_next(struct net *net, struct kipsec_net *kn,
			    struct kipsec_sa *next, struct sk_buff *skb,
			    bool new_id)
{
	bool v4 = ip_hdr(skb)->version == 4;
	struct dst_entry *dst = NULL;

	if (new_id && v4)
		ip_select_ident(net, skb, NULL);
	if (next->mode == KIPSEC_MODE_TUNNEL) {
		if (v4) {
			ip_hdr(skb)->tot_len = htons(skb->len);
			ip_send_check(ip_hdr(skb));
		} else {
			ipv6_hdr(skb)->payload_len =
				htons(skb->len - sizeof(struct ipv6hdr));
		}
		dst = out_route(net, next, skb);
		if (IS_ERR(dst)) {
			kipsec_drop(kn, next, skb, KIPSEC_STAT_OUT_NO_ROUTE,
				    __KIPSEC_SA_STAT_MAX);
			kipsec_sa_put(next);
			return;
		}
	}
	out_one(net, next, skb, dst, NULL, false);
}

/* Sends an encrypted packet (in order, when it was queued). */
static void out_done(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	struct kipsec_sa *next = cb->next;
	struct net *net = cb->net;
	struct kipsec_net *kn = kipsec_pernet(net);
	unsigned int uoff = cb->esp_off;
	unsigned int len = cb->len;
	bool one_host = cb->one_host;
	bool tunnel;

	if (unlikely(err)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_CRYPTO_ERROR,
			    __KIPSEC_SA_STAT_MAX);
		if (next)
			kipsec_sa_put(next);
		goto out;
	}
	kipsec_sa_stats_add(sa, KIPSEC_SA_STAT_OUT_PACKETS, 1);
	kipsec_sa_stats_add(sa, KIPSEC_SA_STAT_OUT_BYTES, len);

	tunnel = sa->mode == KIPSEC_MODE_TUNNEL;
	if (next) {
		out_bundle_next(net, kn, next, skb, tunnel &&
				sa->id.proto != IPPROTO_AH);
		goto out;
	}
	kipsec_stats_inc(kn->stats, KIPSEC_STAT_OUT_PACKETS);
	kipsec_stats_add(kn->stats, KIPSEC_STAT_OUT_BYTES, len);

	nf_reset_ct(skb);
	skb->encapsulation = 0;
	if (ip_hdr(skb)->version == 4) {
		memset(IPCB(skb), 0, sizeof(*IPCB(skb)));
		IPCB(skb)->flags |= IPSKB_XFRM_TRANSFORMED;
		skb->protocol = htons(ETH_P_IP);
		/* AH covers the ID: kipsec_ah_output() chose it. */
		if (tunnel && sa->id.proto != IPPROTO_AH)
			ip_select_ident(net, skb, NULL);
		/*
		 * Sized by out_path_mtu(), not by the route's learnt PMTU (the
		 * inner flow's): IP must not fragment it to that. Sized as a
		 * forwarded packet, IP takes the same MTU.
		 */
		if (one_host && skb->len <= out_path_mtu(sa, skb_dst(skb), true))
			IPCB(skb)->flags |= IPSKB_FORWARDED;
		ip_local_out(net, skb->sk, skb);
	} else {
		if (kipsec_encap_len(sa))
			kipsec_encap_csum6(skb, uoff);
		memset(IP6CB(skb), 0, sizeof(*IP6CB(skb)));
		IP6CB(skb)->flags |= IP6SKB_XFRM_TRANSFORMED;
		skb->protocol = htons(ETH_P_IPV6);
		ip6_local_out(net, skb->sk, skb);
	}
out:
	kipsec_sa_put(sa);
	kipsec_inflight_put(kn);
}

const struct kipsec_qops kipsec_qops_out = {
	.crypt = out_queued_crypt,
	.done = out_done,
	.failed = out_failed,
};

/**
 * kipsec_output_done() - send a packet ESP encrypted
 * @skb: the packet; kipsec_cb(skb) as kipsec_esp_output() got it
 * @err: the crypto result
 *
 * Called once per packet from the sync or async crypto path; drops the
 * SA reference and the in-flight count. A packet of the parallel stage
 * waits for the packets queued before it on its SA.
 */
void kipsec_output_done(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);

	if (cb->qstate == KIPSEC_Q_OUT)
		kipsec_queue_complete(&cb->sa->txq, skb, err, false);
	else
		out_done(skb, err);
}

/*
 * The largest packet that fits in @mtu once @sa is applied: in tunnel
 * mode the inner packet, in transport mode the packet AH or ESP goes into
 * (its IPv4 header, or an IPv6 header without extension headers).
 */
static unsigned int out_fit(const struct kipsec_sa *sa, unsigned int mtu)
{
	bool v4 = sa->id.family == AF_INET;
	unsigned int ip = v4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	unsigned int keep = sa->mode == KIPSEC_MODE_TUNNEL ? 0 : ip;
	unsigned int hdr = ip + kipsec_encap_len(sa);

	if (mtu <= hdr)
		return 0;
	if (sa->id.proto == IPPROTO_AH)
		return mtu - min(mtu, hdr + kipsec_ah_overhead(sa, v4)) + keep;
	return kipsec_esp_mtu(sa, mtu - hdr) + keep;
}

/*
 * RFC 4301 8.2: a tunnel-mode packet, or an IPv4 transport-mode one, that
 * cannot be sent without fragmentation (IPv4 with DF, IPv6 above the
 * minimum MTU) is refused with ICMP "fragmentation needed" / "packet too
 * big" carrying the MTU left once this SA's overhead is paid, and the
 * inner route learns that MTU so local TCP and the forwarding path size
 * their packets for it. Everything else, and everything on an SA with DF
 * clear, may be fragmented after encapsulation.
 */
static bool out_mtu_ok(struct kipsec_sa *sa, struct kipsec_sa *next,
		       struct sk_buff *skb, struct dst_entry *dst)
{
	struct kipsec_sa *osa = sa;
	unsigned int mtu;
	bool one_host;

	/* @dst is the outermost tunnel's route, whose SA says DF. */
	if (next && next->mode == KIPSEC_MODE_TUNNEL)
		osa = next;
	/* DF clear: the operator wants outer fragments, not PMTU discovery. */
	if (READ_ONCE(osa->df) == KIPSEC_DF_CLEAR)
		return true;
	one_host = out_one_host(osa, skb);
	mtu = out_path_mtu(osa, dst, one_host);
	if (next)
		mtu = out_fit(next, mtu);
	mtu = out_fit(sa, mtu);
	bool v4 = ip_hdr(skb)->version == 4;

	if (v4) {
		if (!(ip_hdr(skb)->frag_off & htons(IP_DF)) || skb->ignore_df)
			return true;
		mtu = max_t(unsigned int, mtu, 68);
	} else {
		mtu = max_t(unsigned int, mtu, IPV6_MIN_MTU);
	}
	if (skb_is_gso(skb) ? skb_gso_validate_network_len(skb, mtu) :
	    skb->len <= mtu)
		return true;

	/*
	 * Not when the inner and the outer destination are one host: that
	 * route is the outer packet's too (the inner source, if local,
	 * teaches it the smaller MTU from the ICMP error all the same).
	 */
	if (skb_dst(skb) && !one_host)
		skb_dst_update_pmtu_no_confirm(skb, mtu);
	if (v4)
		icmp_ndo_send(skb, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
			      htonl(mtu));
	else
		icmpv6_ndo_send(skb, ICMPV6_PKT_TOOBIG, 0, mtu);
	return false;
}

/*
 * One SPD decision per GSO super-packet, then one ESP packet per segment.
 * Consumes @skb and the references on @sa and @next (NULL without bundle).
 */
static void out_skb(struct net *net, struct kipsec_sa *sa,
		    struct kipsec_sa *next, struct sk_buff *skb)
{
	struct kipsec_net *kn = kipsec_pernet(net);
	struct kipsec_sa *osa = sa;
	struct dst_entry *dst = NULL;
	struct sk_buff *segs, *nskb;

	/* The outermost tunnel-mode SA's route decides the path MTU. */
	if (next && next->mode == KIPSEC_MODE_TUNNEL)
		osa = next;
	if (osa->mode == KIPSEC_MODE_TUNNEL) {
		dst = out_route(net, osa, skb);
		if (IS_ERR(dst)) {
			kipsec_drop(kn, osa, skb, KIPSEC_STAT_OUT_NO_ROUTE,
				    __KIPSEC_SA_STAT_MAX);
			dst = NULL;
			goto put;
		}
		if (!out_mtu_ok(sa, next, skb, dst)) {
			kipsec_drop(kn, osa, skb, KIPSEC_STAT_OUT_MTU,
				    KIPSEC_SA_STAT_OUT_MTU);
			goto put;
		}
	} else if (osa->id.family == AF_INET && skb_dst(skb) &&
		   !out_mtu_ok(sa, next, skb, skb_dst(skb))) {
		/* Transport mode: the packet's own route is the path. */
		kipsec_drop(kn, osa, skb, KIPSEC_STAT_OUT_MTU,
			    KIPSEC_SA_STAT_OUT_MTU);
		goto put;
	}
	/* The outer SA's route is taken again once the inner one is done. */
	if (osa != sa) {
		dst_release(dst);
		dst = NULL;
		if (sa->mode == KIPSEC_MODE_TUNNEL) {
			dst = out_route(net, sa, skb);
			if (IS_ERR(dst)) {
				kipsec_drop(kn, sa, skb,
					    KIPSEC_STAT_OUT_NO_ROUTE,
					    __KIPSEC_SA_STAT_MAX);
				dst = NULL;
				goto put;
			}
		}
	}
	if (!skb_is_gso(skb)) {
		out_one(net, sa, skb, dst, next, false);
		return;
	}
	segs = skb_gso_segment(skb, 0);
	if (IS_ERR_OR_NULL(segs)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_OUT_GSO_ERROR,
			    __KIPSEC_SA_STAT_MAX);
		goto put;
	}
	consume_skb(skb);
	skb_list_walk_safe(segs, skb, nskb) {
		skb_mark_not_on_list(skb);
		kipsec_sa_hold(sa);
		if (next)
			kipsec_sa_hold(next);
		out_one(net, sa, skb, dst ? dst_clone(dst) : NULL, next,
			nskb);
	}
put:
	dst_release(dst);
	if (next)
		kipsec_sa_put(next);
	kipsec_sa_put(sa);
}

/* A socket with a native per-socket policy (IKE daemons) bypasses kipsec. */
static bool out_sk_bypass(const struct sk_buff *skb)
{
#ifdef CONFIG_XFRM
	const struct sock *sk = skb->sk;

	return sk && sk_fullsock(sk) && rcu_access_pointer(sk->sk_policy[1]);
#else
	return false;
#endif
}

/**
 * kipsec_out_hook() - POST_ROUTING: protect what the OUT policies say
 * @priv: unused
 * @skb: the packet
 * @state: hook state
 *
 * Return: NF_ACCEPT (bypass, or kipsec's own output), NF_DROP (discard,
 * no SA) or NF_STOLEN (encapsulated and sent).
 */
unsigned int kipsec_out_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	struct net *net = state->net;
	struct kipsec_net *kn = kipsec_pernet(net);
	struct kipsec_resolution res;
	struct kipsec_sa *sa, *next;
	struct kipsec_flow flow;

	kipsec_stats_inc(kn->stats, KIPSEC_STAT_HOOK_OUT);
	if (state->pf == NFPROTO_IPV4 ?
	    IPCB(skb)->flags & IPSKB_XFRM_TRANSFORMED :
	    IP6CB(skb)->flags & IP6SKB_XFRM_TRANSFORMED)
		return NF_ACCEPT;
	if (kipsec_dir_passes(kn, KIPSEC_DIR_OUT,
			      state->pf == NFPROTO_IPV4 ? AF_INET : AF_INET6))
		return NF_ACCEPT;
	if (out_sk_bypass(skb))
		return NF_ACCEPT;
	if (kipsec_flow_parse(skb, &flow)) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_OUT_ERROR);
		return NF_DROP;
	}

	rcu_read_lock();
	kipsec_policy_resolve(&kn->spd, &kn->sad,
			      READ_ONCE(kn->default_action[KIPSEC_DIR_OUT]),
			      KIPSEC_DIR_OUT, &flow, &res);
	switch (res.verdict) {
	case KIPSEC_VERDICT_PROTECT:
		break;
	case KIPSEC_VERDICT_DISCARD:
		if (res.policy)
			kipsec_policy_count(res.policy, true);
		rcu_read_unlock();
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_OUT_POLICY_DISCARD);
		return NF_DROP;
	case KIPSEC_VERDICT_NO_SA:
		kipsec_policy_count(res.policy, true);
		kipsec_acquire(kn, res.policy, &flow);
		rcu_read_unlock();
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_OUT_NO_SA);
		return NF_DROP;
	default:
		if (res.policy)
			kipsec_policy_count(res.policy, false);
		rcu_read_unlock();
		return NF_ACCEPT;
	}
	if (!res.nsa) {		/* only optional (USE) templates, none found */
		kipsec_policy_count(res.policy, false);
		rcu_read_unlock();
		return NF_ACCEPT;
	}
	/*
	 * Bundles (RFC 4301 4.3): two SAs, the first template innermost,
	 * each in transport or tunnel mode (e.g. ESP inside AH, ESP
	 * transport inside an AH tunnel), without UDP encapsulation.
	 * Anything else is refused, fail closed.
	 */
	if (res.nsa > 2 ||
	    (res.nsa == 2 && (kipsec_encap_len(res.sa[0]) ||
			      kipsec_encap_len(res.sa[1])))) {
		kipsec_policy_count(res.policy, true);
		rcu_read_unlock();
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_OUT_ERROR);
		return NF_DROP;
	}
	sa = res.sa[0];
	kipsec_sa_hold(sa);
	next = res.nsa == 2 ? res.sa[1] : NULL;
	if (next)
		kipsec_sa_hold(next);
	kipsec_policy_count(res.policy, false);
	rcu_read_unlock();

	/* Stateful firewalls and NAT see the inner flow as established. */
	if (kipsec_ct_confirm(skb) != NF_ACCEPT) {
		if (next)
			kipsec_sa_put(next);
		kipsec_sa_put(sa);
		return NF_DROP;
	}
	out_skb(net, sa, next, skb);
	return NF_STOLEN;
}
