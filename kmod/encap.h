/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NAT traversal: ESP in UDP (RFC 3948). The UDP header kipsec adds on
 * output and removes on input, the set of local ports on which UDP may
 * carry ESP, and the transport-mode checksum fix-up.
 */

#ifndef _KIPSEC_ENCAP_H
#define _KIPSEC_ENCAP_H

#include <linux/bitops.h>
#include <linux/skbuff.h>
#include <linux/udp.h>

#include "sa.h"

/**
 * kipsec_encap_len() - bytes of UDP header an SA adds before ESP
 * @sa: the SA
 *
 * Return: 8 for an ESP-in-UDP SA, 0 otherwise.
 */
static inline unsigned int kipsec_encap_len(const struct kipsec_sa *sa)
{
	return sa->encap.type == KIPSEC_ENCAP_ESPINUDP ?
	       sizeof(struct udphdr) : 0;
}

/**
 * kipsec_encap_port_rcu() - may UDP to this local port carry ESP?
 * @sad: the namespace's SAD
 * @port: UDP destination port, host order
 *
 * Lock-free: a bit per port, set while an ESP-in-UDP SA of @sad has @port
 * as its destination port.
 *
 * Return: true if so.
 */
static inline bool kipsec_encap_port_rcu(const struct kipsec_sad *sad,
					 u16 port)
{
	return READ_ONCE(sad->encap_count) && test_bit(port, sad->encap_ports);
}

/* What a UDP packet to a local address is, for kipsec. */
enum kipsec_encap_rx {
	KIPSEC_ENCAP_RX_PASS,	/* not ESP in UDP: UDP's (IKE, keepalive) */
	KIPSEC_ENCAP_RX_ESP,	/* ESP in UDP: kipsec's */
	KIPSEC_ENCAP_RX_BAD,	/* malformed ESP in UDP: drop */
};

int kipsec_encap_sad_init(struct kipsec_sad *sad);
void kipsec_encap_sad_destroy(struct kipsec_sad *sad);
int kipsec_encap_sad_link(struct kipsec_sad *sad, const struct kipsec_sa *sa);
void kipsec_encap_sad_unlink(struct kipsec_sad *sad,
			     const struct kipsec_sa *sa);

void kipsec_encap_push(const struct kipsec_sa *sa, struct udphdr *uh,
		       unsigned int len);
void kipsec_encap_csum6(struct sk_buff *skb, unsigned int uoff);
enum kipsec_encap_rx kipsec_encap_classify(struct kipsec_sad *sad,
					   struct sk_buff *skb,
					   unsigned int off, u16 family,
					   struct udphdr *uh);
int kipsec_encap_strip(struct sk_buff *skb, unsigned int off, u16 nh_off,
		       u16 family);
void kipsec_encap_csum_fixup(const struct kipsec_sa *sa, struct sk_buff *skb);

#endif /* _KIPSEC_ENCAP_H */
