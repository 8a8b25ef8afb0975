/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ESP (RFC 4303) on top of an SA's AEAD: framing, padding, sequence
 * numbers in the associated data, one completion for sync and async crypto.
 */

#ifndef _KIPSEC_ESP_H
#define _KIPSEC_ESP_H

#include <linux/skbuff.h>
#include <linux/types.h>

struct kipsec_sa;
struct net;
struct net_device;

/**
 * struct kipsec_skb_cb - kipsec's state of a stolen packet, in skb->cb
 * @sa: the SA (one reference held); inbound, the namespace (and its
 *	kipsec0, on which one reference is held) are the SA's:
 *	kipsec_sa_pernet()
 * @net: outbound: the namespace (kept alive by the in-flight count)
 * @outer: inbound bundle: the SA removed before this one (one reference
 *	held), NULL if none
 * @tmp: crypto request allocation, while the request runs
 * @qerr: parallel stage: the crypto result once the request is over
 * @seq: inbound: the inferred 64-bit sequence number; outbound, queued
 *	for parallel crypto: the assigned sequence number
 * @next: outbound bundle: the SA to apply next (one reference held)
 * @len: outbound: bytes counted for the SA (inner packet)
 * @encap_sport: inbound ESP in UDP: the UDP source port, else 0
 * @family: inbound: family of the outer header
 * @outer_ds: inbound: DS field of the outer header (RFC 6040)
 * @esp_off: inbound: offset of the ESP or AH header from the network
 *	header; outbound AH: bytes of IP header before AH; outbound ESP in
 *	UDP: offset of the UDP header
 * @nh_off: inbound transport mode: offset of the byte that says ESP
 * @qstate: enum kipsec_qstate (queue.h): where the packet is in the
 *	parallel stage
 * @one_host: outbound: the packet before and after the SA shares a route
 *	(transport mode, or host-to-host tunnel mode), see out_one_host()
 */
struct kipsec_skb_cb {
	struct kipsec_sa *sa;
	union {
		struct net *net;
		struct kipsec_sa *outer;
	};
	union {
		void *tmp;
		long qerr;
	};
	union {
		u64 seq;
		struct kipsec_sa *next;
	};
	union {
		u32 len;
		struct {
			__be16 encap_sport;
			u8 family;
			u8 outer_ds;
		};
	};
	u16 esp_off;
	u16 nh_off;
	u8 qstate;
	bool one_host;
};

static inline struct kipsec_skb_cb *kipsec_cb(struct sk_buff *skb)
{
	BUILD_BUG_ON(sizeof(struct kipsec_skb_cb) > sizeof(skb->cb));
	return (struct kipsec_skb_cb *)skb->cb;
}

int kipsec_xfrm_split(const struct kipsec_sa *sa, struct sk_buff *skb,
		      unsigned int *hlen, u8 *nexthdr, int *prevoff);
int kipsec_xfrm_room(struct sk_buff *skb, unsigned int head,
		     unsigned int tail, struct sk_buff **trailer);
int kipsec_esp_output(struct sk_buff *skb, u64 seq, const void *outer,
		      unsigned int outer_len);
int kipsec_esp_input(struct sk_buff *skb);
int kipsec_esp_strip(struct sk_buff *skb);
unsigned int kipsec_esp_mtu(const struct kipsec_sa *sa, unsigned int room);

/* Completions, called once per packet whether crypto ran sync or async. */
void kipsec_output_done(struct sk_buff *skb, int err);
void kipsec_input_done(struct sk_buff *skb, int err);

#endif /* _KIPSEC_ESP_H */
