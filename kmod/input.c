// SPDX-License-Identifier: GPL-2.0
/*
 * Inbound: the LOCAL_IN hook takes ESP addressed to this host (also ESP in
 * UDP to a port of an ESP-in-UDP SA, see encap.c), checks the
 * replay window, decrypts, runs the RFC 4301 5.2 checks and re-injects the
 * inner packet on kipsec0. The same hook (and a FORWARD hook) drops
 * cleartext that a PROTECT policy says must arrive protected.
 */

#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netdevice.h>
#include <linux/netfilter.h>
#include <linux/skbuff.h>
#include <net/addrconf.h>
#include <net/ip.h>
#include <net/inet_ecn.h>
#include <net/ip6_route.h>
#include <net/ipv6.h>
#include <net/route.h>

#include "ah.h"
#include "compat.h"
#include "datapath.h"
#include "device.h"
#include "encap.h"
#include "esp.h"
#include "netlink.h"
#include "netns.h"

/*
 * Is the inner destination this host (IN policy) or elsewhere (FWD)?
 * @outer, if known, is the SA whose header came off first, whose
 * destination the packet was delivered to here: an inner packet to that
 * same address (transport mode, a tunnel between two hosts) is local
 * without a lookup.
 */
static bool in_is_local(struct net *net, const struct kipsec_sa *outer,
			const struct kipsec_flow *flow)
{
	if (outer && flow->family == outer->id.family &&
	    kipsec_addr_equal(&flow->daddr, &outer->id.daddr))
		return true;
	if (flow->family == AF_INET) {
		unsigned int type = inet_addr_type(net, flow->daddr.a4);

		return type == RTN_LOCAL || type == RTN_BROADCAST ||
		       type == RTN_MULTICAST;
	}
	return ipv6_addr_is_multicast(&flow->daddr.in6) ||
	       ipv6_chk_addr(net, &flow->daddr.in6, NULL, 0);
}

static bool tmpl_accepts(const struct kipsec_tmpl *t,
			 const struct kipsec_sa *sa)
{
	if (t->proto != sa->id.proto || t->mode != sa->mode)
		return false;
	if ((t->reqid && t->reqid != sa->reqid) ||
	    (t->spi && t->spi != sa->id.spi))
		return false;
	if (sa->mode != KIPSEC_MODE_TUNNEL || !t->family)
		return true;
	if (t->family != sa->id.family)
		return false;
	if (!kipsec_addr_any(&t->saddr) &&
	    !kipsec_addr_equal(&t->saddr, &sa->saddr))
		return false;
	return kipsec_addr_any(&t->daddr) ||
	       kipsec_addr_equal(&t->daddr, &sa->id.daddr);
}

/*
 * The SAs that protected the packet, innermost first, against the
 * policy's templates, innermost first: each SA in order matches a
 * template (protocol, mode, reqid, SPI, and the endpoints of a tunnel),
 * and templates left without an SA must be optional (USE).
 */
static bool tmpls_accept(const struct kipsec_policy *pol,
			 const struct kipsec_sa *const *sas, unsigned int n)
{
	unsigned int i, k = 0;

	for (i = 0; i < pol->ntmpls; i++) {
		if (k < n && tmpl_accepts(&pol->tmpls[i], sas[k]))
			k++;
		else if (pol->tmpls[i].level != KIPSEC_LEVEL_USE)
			return false;
	}
	return k == n;
}

/*
 * RFC 4301 5.2: the inner packet must fit the selectors of every SA that
 * protected it and an IN (local) or FWD policy that requires these SAs.
 * Without a PROTECT policy, one transport-mode SA is accepted where the
 * policy lets cleartext in, tunnel mode never (as the native stack does).
 */
static bool in_policy_ok(struct kipsec_net *kn, struct kipsec_sa *sa,
			 const struct kipsec_skb_cb *cb,
			 const struct kipsec_flow *flow)
{
	u8 dir = in_is_local(kn->net, cb->outer ?: sa, flow) ?
		 KIPSEC_DIR_IN : KIPSEC_DIR_FWD;
	const struct kipsec_sa *sas[2] = { sa, cb->outer };
	unsigned int n = cb->outer ? 2 : 1, i;
	struct kipsec_policy *pol;
	bool ok = false;
	u8 action;

	for (i = 0; i < n; i++)
		if (sas[i]->has_sel && !kipsec_sel_match(&sas[i]->sel, flow))
			return false;

	rcu_read_lock();
	pol = kipsec_policy_lookup_rcu(&kn->spd, dir, flow);
	action = pol ? pol->action : READ_ONCE(kn->default_action[dir]);
	if (action == KIPSEC_ACTION_PROTECT)
		ok = tmpls_accept(pol, sas, n);
	else if (action == KIPSEC_ACTION_BYPASS)
		ok = n == 1 && sa->mode == KIPSEC_MODE_TRANSPORT;
	if (pol)
		kipsec_policy_count(pol, !ok);
	rcu_read_unlock();
	return ok;
}

/*
 * RFC 6040 normal mode, tunnel egress: CE in the outer header marks the
 * inner packet, ECT(1) outer turns ECT(0) inner into ECT(1); CE outer on
 * a Not-ECT inner packet is the one combination that must be dropped.
 * Returns true for a drop. The inner header is at skb->data, writable.
 */
static bool in_ecn_decap(struct sk_buff *skb, u8 outer)
{
	bool v4 = ip_hdr(skb)->version == 4;
	bool set_ce = false;
	u8 inner;

	inner = v4 ? ipv4_get_dsfield(ip_hdr(skb)) :
		     ipv6_get_dsfield(ipv6_hdr(skb));
	if (__INET_ECN_decapsulate(outer, inner, &set_ce) == 2)
		return true;
	if (INET_ECN_is_not_ect(inner))
		return false;
	if (set_ce) {
		if (v4)
			IP_ECN_set_ce(ip_hdr(skb));
		else
			IP6_ECN_set_ce(skb, ipv6_hdr(skb));
	} else if ((outer & INET_ECN_MASK) == INET_ECN_ECT_1) {
		if (v4)
			IP_ECN_set_ect1(ip_hdr(skb));
		else
			IP6_ECN_set_ect1(skb, ipv6_hdr(skb));
	}
	return false;
}

/*
 * Puts a packet on its SA's inbound queue; false if the queue is full.
 * Sets @spread as kipsec_squeue_enter() says.
 */
static bool in_enqueue(struct kipsec_sa *sa, struct sk_buff *skb,
		       bool *spread)
{
	struct kipsec_squeue *sq = &sa->rxq;
	bool ok;

	spin_lock_bh(&sq->q.lock);
	ok = skb_queue_len(&sq->q) < KIPSEC_SQUEUE_LEN;
	if (ok) {
		kipsec_cb(skb)->qstate = KIPSEC_Q_IN;
		*spread = kipsec_squeue_enter(sq, skb);
	}
	spin_unlock_bh(&sq->q.lock);
	return ok;
}

static unsigned int in_esp(struct kipsec_net *kn, struct sk_buff *skb,
			   unsigned int off, u16 nh_off, u16 family, u8 proto,
			   const struct udphdr *uh, struct kipsec_sa *outer);
static int in_find_esp6(struct sk_buff *skb, u16 *nh_off, u8 *proto);

/*
 * The SA accepts @skb: its lifetime is charged and its counters moved, or
 * it reached a hard limit and the packet is dropped (false).
 */
static bool in_sa_accept(struct kipsec_net *kn, struct kipsec_sa *sa,
			 struct sk_buff *skb)
{
	if (unlikely(!kipsec_sa_lft_account(sa, skb->len))) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_SA_INVALID,
			    __KIPSEC_SA_STAT_MAX);
		return false;
	}
	kipsec_sa_stats_add(sa, KIPSEC_SA_STAT_IN_PACKETS, 1);
	kipsec_sa_stats_add(sa, KIPSEC_SA_STAT_IN_BYTES, skb->len);
	return true;
}

/*
 * Where ESP or AH starts in the packet at skb->data (a tunnel's inner
 * packet, or a transport-mode packet whose outer AH or ESP is gone), if
 * that is what it carries, else <= 0.
 */
static int in_inner_esp(struct sk_buff *skb, u16 *nh_off, u8 *proto)
{
	const struct iphdr *iph = ip_hdr(skb);

	if (iph->version == 6)
		return in_find_esp6(skb, nh_off, proto);
	if (iph->ihl < 5 || (iph->frag_off & htons(IP_MF | IP_OFFSET)))
		return -EINVAL;
	*proto = iph->protocol;
	*nh_off = offsetof(struct iphdr, protocol);
	return ip_hdrlen(skb);
}

/*
 * Is the packet a tunnel-mode SA left at skb->data ESP or AH for this
 * host, the inner layer of a bundle? Its IP header was checked by the
 * caller (version, and that it was pulled).
 */
static bool in_tunnel_bundle(struct kipsec_net *kn, struct sk_buff *skb)
{
	struct kipsec_flow flow = {};
	u16 nh_off;
	u8 proto;

	if (in_inner_esp(skb, &nh_off, &proto) <= 0 ||
	    (proto != IPPROTO_ESP && proto != IPPROTO_AH))
		return false;
	if (ip_hdr(skb)->version == 4) {
		flow.family = AF_INET;
		flow.daddr.a4 = ip_hdr(skb)->daddr;
	} else {
		flow.family = AF_INET6;
		flow.daddr.in6 = ipv6_hdr(skb)->daddr;
	}
	return in_is_local(kn->net, NULL, &flow);
}

/*
 * An SA removed, and ESP or AH for this host follows (after the
 * transport-mode header, or as the tunnel's inner packet): the outer layer
 * of a bundle (RFC 4301 4.3), counted as accepted by its SA; the inner one
 * goes through the input path again and the policy check at its end sees
 * both. One level only: deeper nesting is dropped.
 */
static void in_bundle(struct kipsec_net *kn, struct kipsec_sa *sa,
		      struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	unsigned int verdict, len;
	u16 nh_off = 0;
	u16 family;
	u8 proto;
	int off;

	if (cb->outer) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_UNSUPPORTED,
			    __KIPSEC_SA_STAT_MAX);
		return;
	}
	if (!in_sa_accept(kn, sa, skb))
		return;

	family = ip_hdr(skb)->version == 4 ? AF_INET : AF_INET6;
	len = family == AF_INET ? ntohs(ip_hdr(skb)->tot_len) :
	      ntohs(ipv6_hdr(skb)->payload_len) + sizeof(struct ipv6hdr);
	off = in_inner_esp(skb, &nh_off, &proto);
	/* A tunnel's inner header, unlike a rewritten one, says its length. */
	if (off <= 0 || len != skb->len) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_TRUNCATED,
			    __KIPSEC_SA_STAT_MAX);
		return;
	}
	/* in_esp() counted its drops; NF_ACCEPT means no SA at all. */
	verdict = in_esp(kn, skb, off, nh_off, family, proto, NULL, sa);
	if (verdict == NF_STOLEN)
		return;
	if (verdict == NF_ACCEPT)
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_NO_SA);
	kfree_skb(skb);
}

/*
 * NAT-T: an authenticated packet from another outer address or port than
 * the SA's peer means the NAT mapping changed; user space hears of it
 * (the outer IP header is still at the network header).
 */
static void in_mapping(struct kipsec_sa *sa, struct sk_buff *skb,
		       const struct kipsec_skb_cb *cb)
{
	union kipsec_addr src = {};

	if (cb->family == AF_INET)
		src.a4 = ip_hdr(skb)->saddr;
	else
		src.in6 = ipv6_hdr(skb)->saddr;
	if (kipsec_addr_equal(&src, &sa->saddr) &&
	    ntohs(cb->encap_sport) == sa->encap.sport)
		return;
	kipsec_nl_mapping(kipsec_sa_pernet(sa)->net, sa, &src,
			  cb->encap_sport);
}

/*
 * Finishes an inbound packet after its crypto (in order, when it was
 * queued): advances the replay window, removes ESP or AH, checks the inner
 * packet against the SA and the policy, and re-injects it on kipsec0.
 * Drops the references the request held (SA, kipsec0, in-flight count).
 */
static void in_done(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_net *kn = kipsec_sa_pernet(cb->sa);
	struct kipsec_sa *outer = cb->outer;
	struct net_device *dev = kn->dev;
	struct kipsec_sa *sa = cb->sa;
	struct kipsec_flow flow;
	int nexthdr;

	if (unlikely(err)) {
		if (err == -EBADMSG)
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_AUTH_FAIL,
				    KIPSEC_SA_STAT_IN_AUTH_FAIL);
		else
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_CRYPTO_ERROR,
				    __KIPSEC_SA_STAT_MAX);
		goto out;
	}

	spin_lock_bh(&sa->lock);
	err = kipsec_replay_advance(sa->replay, cb->seq);
	spin_unlock_bh(&sa->lock);
	if (err) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_REPLAY,
			    KIPSEC_SA_STAT_IN_REPLAY);
		goto out;
	}
	if (cb->encap_sport)
		in_mapping(sa, skb, cb);

	if (sa->id.proto == IPPROTO_AH)
		nexthdr = kipsec_ah_strip(skb);
	else
		nexthdr = kipsec_esp_strip(skb);
	if (nexthdr < 0) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_BAD_PAD,
			    KIPSEC_SA_STAT_IN_BAD_PAD);
		goto out;
	}

	if (sa->mode == KIPSEC_MODE_TUNNEL) {
		u8 ver = nexthdr == IPPROTO_IPIP ? 4 :
			 nexthdr == IPPROTO_IPV6 ? 6 : 0;

		if (!ver || !pskb_may_pull(skb, ver == 4 ?
					   sizeof(struct iphdr) :
					   sizeof(struct ipv6hdr)) ||
		    ip_hdr(skb)->version != ver) {
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_BAD_NEXTHDR,
				    KIPSEC_SA_STAT_IN_BAD_NEXTHDR);
			goto out;
		}
		if (!(sa->flags & KIPSEC_SA_F_NO_ECN) &&
		    in_ecn_decap(skb, cb->outer_ds)) {
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_ECN_INVALID,
				    KIPSEC_SA_STAT_IN_ECN_INVALID);
			goto out;
		}
	} else if (cb->family == AF_INET) {
		struct iphdr *iph = ip_hdr(skb);

		iph->protocol = nexthdr;
		iph->tot_len = htons(skb->len);
		ip_send_check(iph);
	} else {
		skb->data[cb->nh_off] = nexthdr;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
	}

	if (sa->mode == KIPSEC_MODE_TRANSPORT ?
	    nexthdr == IPPROTO_ESP || nexthdr == IPPROTO_AH :
	    in_tunnel_bundle(kn, skb)) {
		in_bundle(kn, sa, skb);
		goto out;
	}

	if (kipsec_flow_parse(skb, &flow)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_TRUNCATED,
			    __KIPSEC_SA_STAT_MAX);
		goto out;
	}
	if (!in_policy_ok(kn, sa, cb, &flow)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_POLICY_MISMATCH,
			    KIPSEC_SA_STAT_IN_POLICY_MISMATCH);
		goto out;
	}

	if (!in_sa_accept(kn, sa, skb))
		goto out;
	kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_PACKETS);
	kipsec_stats_add(kn->stats, KIPSEC_STAT_IN_BYTES, skb->len);

	nf_reset_ct(skb);
	skb_dst_drop(skb);
	skb->ip_summed = CHECKSUM_NONE;
	if (kipsec_encap_len(sa) && sa->mode == KIPSEC_MODE_TRANSPORT)
		kipsec_encap_csum_fixup(sa, skb);
	kipsec_dev_rx(dev, skb);
out:
	dev_put(dev);
	if (outer)
		kipsec_sa_put(outer);
	kipsec_sa_put(sa);
	kipsec_inflight_put(kn);
}

/* A packet whose crypto could not start: dropped, references released. */
static void in_failed(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *outer = cb->outer;
	struct kipsec_sa *sa = cb->sa;
	struct kipsec_net *kn = kipsec_sa_pernet(sa);

	kipsec_drop(kn, sa, skb, err == -ENOMEM ? KIPSEC_STAT_IN_NOMEM :
		    err == -EOPNOTSUPP ? KIPSEC_STAT_IN_UNSUPPORTED :
		    KIPSEC_STAT_IN_TRUNCATED, __KIPSEC_SA_STAT_MAX);
	dev_put(kn->dev);
	if (outer)
		kipsec_sa_put(outer);
	kipsec_sa_put(sa);
	kipsec_inflight_put(kn);
}

/* Verifies (AH) or decrypts (ESP) a packet; see kipsec_qops.crypt. */
static int in_crypt(struct sk_buff *skb)
{
	if (kipsec_cb(skb)->sa->id.proto == IPPROTO_AH)
		return kipsec_ah_input(skb);
	return kipsec_esp_input(skb);
}

const struct kipsec_qops kipsec_qops_in = {
	.crypt = in_crypt,
	.done = in_done,
	.failed = in_failed,
};

/**
 * kipsec_input_done() - finish an inbound ESP packet after decryption
 * @skb: the packet; kipsec_cb(skb) as kipsec_in_hook() set it
 * @err: the crypto result (-EBADMSG: bad ICV)
 *
 * Called once per packet from the sync or async crypto path. Advances the
 * replay window, removes ESP, checks the inner packet against the SA and
 * the policy, and re-injects it on kipsec0. Drops the references the
 * request held (SA, kipsec0, in-flight count). A packet of the parallel
 * stage waits for the packets queued before it on its SA.
 */
void kipsec_input_done(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);

	if (cb->qstate == KIPSEC_Q_IN)
		kipsec_queue_complete(&cb->sa->rxq, skb, err, false);
	else
		in_done(skb, err);
}

/* Offset of ESP, AH or UDP in an IPv6 packet, and of the byte naming it. */
static int in_find_esp6(struct sk_buff *skb, u16 *nh_off, u8 *proto)
{
	unsigned int off = sizeof(struct ipv6hdr);
	unsigned int nhoff = offsetof(struct ipv6hdr, nexthdr);
	u8 nexthdr = ipv6_hdr(skb)->nexthdr;

	while (nexthdr != IPPROTO_ESP && nexthdr != IPPROTO_AH &&
	       nexthdr != IPPROTO_UDP) {
		struct ipv6_opt_hdr _hdr;
		const struct ipv6_opt_hdr *hdr;

		if (nexthdr != NEXTHDR_HOP && nexthdr != NEXTHDR_ROUTING &&
		    nexthdr != NEXTHDR_DEST)
			return -ENOENT;
		hdr = skb_header_pointer(skb, off, sizeof(_hdr), &_hdr);
		if (!hdr)
			return -ENOENT;
		nhoff = off;
		off += ipv6_optlen(hdr);
		nexthdr = hdr->nexthdr;
	}
	*nh_off = nhoff;
	*proto = nexthdr;
	return off;
}

static unsigned int in_cleartext(struct kipsec_net *kn, struct sk_buff *skb,
				 u8 dir);

/*
 * ESP or AH at @off; or, with @uh, ESP in UDP whose UDP header (copied to
 * @uh) is at @off. @outer is the SA whose header was just removed
 * (bundles), or NULL; the request takes its own reference on it.
 */
static unsigned int in_esp(struct kipsec_net *kn, struct sk_buff *skb,
			   unsigned int off, u16 nh_off, u16 family, u8 proto,
			   const struct udphdr *uh, struct kipsec_sa *outer)
{
	unsigned int ulen = uh ? sizeof(*uh) : 0;
	union kipsec_addr daddr = {};
	bool spread = false;
	struct kipsec_skb_cb *cb;
	struct ip_esp_hdr *esph;
	struct kipsec_sa *sa;
	__be32 spi, seq_no;
	u64 seq;
	int err;

	/* AH: next header, length, reserved, then SPI and sequence number. */
	if (proto == IPPROTO_AH)
		off += 4;
	if (!pskb_may_pull(skb, off + ulen + sizeof(*esph))) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_TRUNCATED);
		return NF_DROP;
	}
	esph = (struct ip_esp_hdr *)(skb->data + off + ulen);
	spi = esph->spi;
	seq_no = esph->seq_no;
	if (proto == IPPROTO_AH)
		off -= 4;
	if (family == AF_INET)
		daddr.a4 = ip_hdr(skb)->daddr;
	else
		daddr.in6 = ipv6_hdr(skb)->daddr;

	rcu_read_lock();
	sa = kipsec_sa_lookup_rcu(&kn->sad, spi, &daddr, family, proto);
	if (sa && !refcount_inc_not_zero(&sa->refcnt))
		sa = NULL;
	rcu_read_unlock();
	if (!sa && uh) {
		/* Not one of kipsec's SPIs: the UDP socket's, if any. */
		return in_cleartext(kn, skb, KIPSEC_DIR_IN);
	} else if (!sa) {
		/*
		 * A namespace without any kipsec SA leaves ESP to the native
		 * stack (which may share the kernel); otherwise unknown SPIs
		 * are kipsec's to drop.
		 */
		if (!READ_ONCE(kn->sad.count))
			return NF_ACCEPT;
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_NO_SA);
		return NF_DROP;
	}
	if (!kipsec_sa_usable(sa)) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_SA_INVALID);
		kipsec_sa_put(sa);
		return NF_DROP;
	}
	/*
	 * ESP in UDP only for an ESP-in-UDP SA, on its port, and plain ESP
	 * only for the others. A changed source port (NAT mapping) is
	 * accepted, as the native stack does.
	 */
	if (!!uh != !!kipsec_encap_len(sa) ||
	    (uh && ntohs(uh->dest) != sa->encap.dport)) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_BAD_ENCAP);
		kipsec_sa_put(sa);
		return NF_DROP;
	}

	spin_lock_bh(&sa->lock);
	err = kipsec_replay_check(sa->replay, seq_no, &seq);
	spin_unlock_bh(&sa->lock);
	if (err) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_REPLAY,
			    KIPSEC_SA_STAT_IN_REPLAY);
		kipsec_sa_put(sa);
		return NF_STOLEN;
	}

	if (uh) {
		err = kipsec_encap_strip(skb, off, nh_off, family);
		if (err) {
			kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_NOMEM,
				    __KIPSEC_SA_STAT_MAX);
			kipsec_sa_put(sa);
			return NF_STOLEN;
		}
	}

	cb = kipsec_cb(skb);
	memset(cb, 0, sizeof(*cb));
	cb->sa = sa;
	cb->seq = seq;
	cb->esp_off = off;
	cb->nh_off = nh_off;
	cb->family = family;
	cb->outer_ds = family == AF_INET ? ipv4_get_dsfield(ip_hdr(skb)) :
					   ipv6_get_dsfield(ipv6_hdr(skb));
	if (outer) {
		kipsec_sa_hold(outer);
		cb->outer = outer;
	}
	if (uh)
		cb->encap_sport = uh->source;
	if (kipsec_parallel() && !in_enqueue(sa, skb, &spread)) {
		kipsec_drop(kn, sa, skb, KIPSEC_STAT_IN_QUEUE_FULL,
			    __KIPSEC_SA_STAT_MAX);
		if (outer)
			kipsec_sa_put(outer);
		kipsec_sa_put(sa);
		return NF_STOLEN;
	}
	/* kipsec0, where in_done() re-injects the packet, stays until then. */
	dev_hold(kn->dev);
	kipsec_inflight_get(kn);

	if (cb->qstate == KIPSEC_Q_IN) {
		/*
		 * The packet outlives this hook's RCU section: its input
		 * route may be a noref one and its device holds no
		 * reference. Neither is needed (the inner packet is routed
		 * afresh from kipsec0), so drop the route and point at
		 * kipsec0, which the request holds.
		 */
		skb_dst_drop(skb);
		skb->dev = kn->dev;
		kipsec_queue_crypt(skb, spread);
		return NF_STOLEN;
	}
	err = in_crypt(skb);
	if (err)
		in_failed(skb, err);
	return NF_STOLEN;
}

/*
 * An ICMP error quoting one of kipsec's outer packets: the SA is found by
 * the quoted SPI, destination and protocol, and must have sent it (the
 * quoted source is its source). ESP in UDP is matched by its local port
 * alone when the quote stops at the UDP header (RFC 792 promises only 8
 * bytes after the IP header). A "fragmentation needed" / "packet too big"
 * error's @mtu (0 for other errors) is kept with the SA. Returns true if
 * the packet was kipsec's.
 */
static bool in_icmp_ours(struct kipsec_net *kn, const void *qdaddr,
			 const void *qsaddr, u16 family, u8 proto,
			 const u8 *l4, unsigned int l4len, u32 mtu)
{
	union kipsec_addr daddr = {};
	struct kipsec_sa *sa;
	bool ours = false;
	__be32 spi;

	memcpy(&daddr, qdaddr, family == AF_INET ? 4 : 16);
	rcu_read_lock();
	if (proto == IPPROTO_UDP) {
		const struct udphdr *uh = (const struct udphdr *)l4;

		if (!kipsec_encap_port_rcu(&kn->sad, ntohs(uh->source)))
			goto out;
		if (l4len < sizeof(*uh) + sizeof(spi)) {
			ours = true;
			if (mtu)
				kipsec_sad_learn_pmtu_encap(&kn->sad, &daddr,
							    family,
							    ntohs(uh->source),
							    ntohs(uh->dest), mtu);
			goto out;
		}
		l4 += sizeof(*uh);
		l4len -= sizeof(*uh);
		proto = IPPROTO_ESP;
	}
	if (proto == IPPROTO_AH)
		l4 += 4;	/* next header, length, reserved */
	memcpy(&spi, l4, sizeof(spi));
	sa = kipsec_sa_lookup_rcu(&kn->sad, spi, &daddr, family, proto);
	if (sa)
		ours = !memcmp(&sa->saddr, qsaddr, family == AF_INET ? 4 : 16);
	if (ours && mtu)
		kipsec_sa_learn_pmtu(sa, mtu);
out:
	rcu_read_unlock();
	return ours;
}

/* The quoted outer protocols kipsec sends. */
static bool in_icmp_proto(u8 proto)
{
	return proto == IPPROTO_ESP || proto == IPPROTO_AH ||
	       proto == IPPROTO_UDP;
}

/*
 * ICMP "fragmentation needed" about an outer packet lowers the SA's path
 * MTU and the outer route's (a route exception); both age out by
 * themselves. The next too-big inner packet then gets the smaller inner
 * MTU from out_mtu_ok(). The error goes on to the stack afterwards, like
 * any ICMP.
 */
static void in_icmp4(struct kipsec_net *kn, struct net *net,
		     struct sk_buff *skb)
{
	unsigned int off = ip_hdrlen(skb), qoff = off + sizeof(struct icmphdr);
	const struct icmphdr *icmph;
	unsigned int l4off, l4len;
	const struct iphdr *qiph;
	bool pmtu;

	if (!pskb_may_pull(skb, qoff + sizeof(*qiph)))
		return;
	icmph = (const struct icmphdr *)(skb->data + off);
	if (icmph->type != ICMP_DEST_UNREACH &&
	    icmph->type != ICMP_TIME_EXCEEDED &&
	    icmph->type != ICMP_PARAMETERPROB)
		return;
	qiph = (const struct iphdr *)(skb->data + qoff);
	l4off = qoff + qiph->ihl * 4;
	if (qiph->version != 4 || qiph->ihl < 5 ||
	    !in_icmp_proto(qiph->protocol) || skb->len < l4off + 8)
		return;
	l4len = min(skb->len - l4off, 12U);
	if (!pskb_may_pull(skb, l4off + l4len))
		return;
	icmph = (const struct icmphdr *)(skb->data + off);
	qiph = (const struct iphdr *)(skb->data + qoff);
	pmtu = icmph->type == ICMP_DEST_UNREACH &&
	       icmph->code == ICMP_FRAG_NEEDED;
	if (!in_icmp_ours(kn, &qiph->daddr, &qiph->saddr, AF_INET,
			  qiph->protocol, skb->data + l4off, l4len,
			  pmtu ? ntohs(icmph->un.frag.mtu) : 0))
		return;
	if (!pmtu) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_ICMP_OTHER);
		return;
	}
	/* ipv4_update_pmtu() reads the quoted header at skb->data. */
	__skb_pull(skb, qoff);
	ipv4_update_pmtu(skb, net, ntohs(icmph->un.frag.mtu), 0,
			 qiph->protocol);
	__skb_push(skb, qoff);
	kipsec_stats_inc(kn->stats, KIPSEC_STAT_ICMP_PMTU);
}

/* The same for ICMPv6 "packet too big" (RFC 8201). */
static void in_icmp6(struct kipsec_net *kn, struct net *net,
		     struct sk_buff *skb)
{
	unsigned int qoff = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	unsigned int l4off = qoff + sizeof(struct ipv6hdr), l4len;
	const struct icmp6hdr *icmp6h;
	const struct ipv6hdr *qip6h;
	__be32 mtu;
	bool pmtu;

	if (skb->len < l4off + 8)
		return;
	l4len = min(skb->len - l4off, 12U);
	if (!pskb_may_pull(skb, l4off + l4len))
		return;
	icmp6h = (const struct icmp6hdr *)(skb->data + sizeof(struct ipv6hdr));
	if (icmp6h->icmp6_type >= 128)	/* informational */
		return;
	qip6h = (const struct ipv6hdr *)(skb->data + qoff);
	pmtu = icmp6h->icmp6_type == ICMPV6_PKT_TOOBIG;
	if (qip6h->version != 6 || !in_icmp_proto(qip6h->nexthdr) ||
	    !in_icmp_ours(kn, &qip6h->daddr, &qip6h->saddr, AF_INET6,
			  qip6h->nexthdr, skb->data + l4off, l4len,
			  pmtu ? ntohl(icmp6h->icmp6_mtu) : 0))
		return;
	if (!pmtu) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_ICMP_OTHER);
		return;
	}
	mtu = icmp6h->icmp6_mtu;
	__skb_pull(skb, qoff);
	ip6_update_pmtu(skb, net, mtu, 0, skb->mark, sock_net_uid(net, NULL));
	__skb_push(skb, qoff);
	kipsec_stats_inc(kn->stats, KIPSEC_STAT_ICMP_PMTU);
}

/* UDP to a local address: ESP in UDP is kipsec's, the rest is UDP's. */
static unsigned int in_udp(struct kipsec_net *kn, struct sk_buff *skb,
			   unsigned int off, u16 nh_off, u16 family)
{
	struct udphdr uh;

	switch (kipsec_encap_classify(&kn->sad, skb, off, family, &uh)) {
	case KIPSEC_ENCAP_RX_ESP:
		return in_esp(kn, skb, off, nh_off, family, IPPROTO_ESP, &uh,
			      NULL);
	case KIPSEC_ENCAP_RX_BAD:
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_IN_BAD_ENCAP);
		return NF_DROP;
	default:
		return in_cleartext(kn, skb, KIPSEC_DIR_IN);
	}
}

/*
 * The counter a cleartext packet with this tuple is dropped under, or 0
 * if it may come in. Caller holds rcu_read_lock().
 */
static u8 cleartext_drop(struct kipsec_net *kn, u8 dir,
			 const struct kipsec_flow *flow,
			 struct kipsec_policy **polp)
{
	struct kipsec_policy *pol;
	unsigned int i;
	u8 action;

	pol = kipsec_policy_lookup_rcu(&kn->spd, dir, flow);
	*polp = pol;
	action = pol ? pol->action : READ_ONCE(kn->default_action[dir]);
	if (action == KIPSEC_ACTION_DISCARD)
		return KIPSEC_STAT_IN_POLICY_DISCARD;
	if (action != KIPSEC_ACTION_PROTECT)
		return 0;
	/* Optional (USE) templates let cleartext in. */
	for (i = 0; i < pol->ntmpls; i++)
		if (pol->tmpls[i].level != KIPSEC_LEVEL_USE)
			return KIPSEC_STAT_IN_CLEARTEXT;
	return 0;
}

/* Cleartext that a PROTECT policy wants protected, or a DISCARD policy. */
static unsigned int in_cleartext(struct kipsec_net *kn, struct sk_buff *skb,
				 u8 dir)
{
	struct kipsec_policy *pol, *own_pol;
	struct kipsec_flow flow, own;
	u8 stat;

	/*
	 * Loopback traffic never crossed a wire: e.g. the ICMP "too big"
	 * kipsec sends a local source, which quotes a protected flow (the
	 * native stack skips lo likewise: its disable_policy is set).
	 */
	if (skb->dev && (skb->dev->flags & IFF_LOOPBACK))
		return NF_ACCEPT;
	if (kipsec_dir_passes(kn, dir, skb->protocol == htons(ETH_P_IPV6) ?
				       AF_INET6 : AF_INET))
		return NF_ACCEPT;
	if (kipsec_flow_parse(skb, &flow))
		return NF_ACCEPT;
	if (flow.proto == IPPROTO_ESP || flow.proto == IPPROTO_AH)
		return NF_ACCEPT;

	rcu_read_lock();
	stat = cleartext_drop(kn, dir, &flow, &pol);
	/*
	 * An ICMP error is judged by the reversed quote (RFC 4301 6.2) and
	 * by its own tuple: like the native stack, either may let it in
	 * (a router's error about a host's cleartext reply must get through).
	 */
	if (stat && kipsec_proto_is_icmp(flow.family, flow.proto) &&
	    !__kipsec_flow_parse(skb, &own, false) &&
	    memcmp(&own, &flow, sizeof(own)) &&
	    !cleartext_drop(kn, dir, &own, &own_pol))
		stat = 0;
	if (stat)
		kipsec_stats_inc(kn->stats, stat);
	if (pol)
		kipsec_policy_count(pol, stat);
	rcu_read_unlock();
	return stat ? NF_DROP : NF_ACCEPT;
}

/**
 * kipsec_in_hook() - LOCAL_IN: take ESP, drop unprotected cleartext
 * @priv: unused
 * @skb: the packet, skb->data at its IP header
 * @state: hook state
 *
 * Packets received on kipsec0 were decrypted and checked already.
 *
 * Return: NF_STOLEN for ESP and ESP in UDP (consumed), NF_DROP or
 * NF_ACCEPT.
 */
unsigned int kipsec_in_hook(void *priv, struct sk_buff *skb,
			    const struct nf_hook_state *state)
{
	struct kipsec_net *kn = kipsec_pernet(state->net);
	u16 nh_off = 0;
	u8 proto;
	int off;

	kipsec_stats_inc(kn->stats, KIPSEC_STAT_HOOK_IN);
	if (kipsec_dev_is(skb->dev))
		return NF_ACCEPT;
	/* No SA and nothing for in_cleartext() to check: not kipsec's. */
	if (!READ_ONCE(kn->sad.count) &&
	    kipsec_dir_passes(kn, KIPSEC_DIR_IN,
			      state->pf == NFPROTO_IPV4 ? AF_INET : AF_INET6))
		return NF_ACCEPT;
	if (unlikely(skb_network_offset(skb)))
		return in_cleartext(kn, skb, KIPSEC_DIR_IN);

	if (state->pf == NFPROTO_IPV4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->frag_off & htons(IP_MF | IP_OFFSET))
			return in_cleartext(kn, skb, KIPSEC_DIR_IN);
		if (iph->protocol == IPPROTO_ESP || iph->protocol == IPPROTO_AH)
			return in_esp(kn, skb, ip_hdrlen(skb),
				      offsetof(struct iphdr, protocol),
				      AF_INET, iph->protocol, NULL, NULL);
		if (iph->protocol == IPPROTO_UDP &&
		    READ_ONCE(kn->sad.encap_count))
			return in_udp(kn, skb, ip_hdrlen(skb),
				      offsetof(struct iphdr, protocol), AF_INET);
		if (iph->protocol == IPPROTO_ICMP)
			in_icmp4(kn, state->net, skb);
	} else {
		off = in_find_esp6(skb, &nh_off, &proto);
		if (off > 0 && proto != IPPROTO_UDP)
			return in_esp(kn, skb, off, nh_off, AF_INET6, proto,
				      NULL, NULL);
		if (off > 0 && READ_ONCE(kn->sad.encap_count))
			return in_udp(kn, skb, off, nh_off, AF_INET6);
		if (ipv6_hdr(skb)->nexthdr == IPPROTO_ICMPV6)
			in_icmp6(kn, state->net, skb);
	}
	return in_cleartext(kn, skb, KIPSEC_DIR_IN);
}

/**
 * kipsec_fwd_hook() - FORWARD: drop cleartext a FWD policy wants protected
 * @priv: unused
 * @skb: the packet
 * @state: hook state
 *
 * Return: NF_DROP or NF_ACCEPT.
 */
unsigned int kipsec_fwd_hook(void *priv, struct sk_buff *skb,
			     const struct nf_hook_state *state)
{
	if (state->in && kipsec_dev_is(state->in))
		return NF_ACCEPT;
	return in_cleartext(kipsec_pernet(state->net), skb, KIPSEC_DIR_FWD);
}
