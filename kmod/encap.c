// SPDX-License-Identifier: GPL-2.0
/*
 * NAT traversal: ESP in UDP (RFC 3948).
 *
 * Output: a UDP header between the (outer) IP header and ESP; checksum
 * zero over IPv4 (RFC 3948 2.1), a real one over IPv6, where zero is not
 * allowed.
 *
 * Input: the LOCAL_IN hook runs before UDP socket delivery, so kipsec takes
 * ESP in UDP whether or not an IKE daemon has a socket on the port (with or
 * without UDP_ENCAP on it). Which local ports carry ESP is a bitmap, one bit
 * per port, set while an ESP-in-UDP SA has that destination port: the hook
 * tests a bit, no lock. Writers keep a count per port in an xarray under the
 * SAD's lock. Packets with a zero non-ESP marker (IKE) and the one-byte NAT
 * keepalive are left to the socket.
 */

#include <linux/bitmap.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/netfilter_ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/xarray.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip6_checksum.h>
#include <net/ipv6.h>

#include "encap.h"

#define ENCAP_PORTS	BIT(16)

/**
 * kipsec_encap_sad_init() - empty set of encapsulation ports
 * @sad: the SAD being initialised
 *
 * Return: 0 or -ENOMEM.
 */
int kipsec_encap_sad_init(struct kipsec_sad *sad)
{
	sad->encap_ports = bitmap_zalloc(ENCAP_PORTS, GFP_KERNEL);
	if (!sad->encap_ports)
		return -ENOMEM;
	xa_init(&sad->encap_refs);
	sad->encap_count = 0;
	return 0;
}

/**
 * kipsec_encap_sad_destroy() - free the set of encapsulation ports
 * @sad: the SAD, already flushed
 */
void kipsec_encap_sad_destroy(struct kipsec_sad *sad)
{
	WARN_ON_ONCE(sad->encap_count);
	xa_destroy(&sad->encap_refs);
	bitmap_free(sad->encap_ports);
	sad->encap_ports = NULL;
}

/**
 * kipsec_encap_sad_link() - count an SA's port in the encapsulation ports
 * @sad: the SAD, its lock held
 * @sa: the SA being linked (nothing to do without encapsulation)
 *
 * Return: 0 or -ENOMEM.
 */
int kipsec_encap_sad_link(struct kipsec_sad *sad, const struct kipsec_sa *sa)
{
	u16 port = sa->encap.dport;
	unsigned long n;
	void *old;

	lockdep_assert_held(&sad->lock);
	if (!kipsec_encap_len(sa))
		return 0;
	old = xa_load(&sad->encap_refs, port);
	n = old ? xa_to_value(old) : 0;
	old = xa_store(&sad->encap_refs, port, xa_mk_value(n + 1), GFP_KERNEL);
	if (xa_is_err(old))
		return xa_err(old);
	if (!n)
		set_bit(port, sad->encap_ports);
	WRITE_ONCE(sad->encap_count, sad->encap_count + 1);
	return 0;
}

/**
 * kipsec_encap_sad_unlink() - forget an SA's port
 * @sad: the SAD, its lock held
 * @sa: the SA being unlinked, linked by kipsec_encap_sad_link() before
 */
void kipsec_encap_sad_unlink(struct kipsec_sad *sad,
			     const struct kipsec_sa *sa)
{
	u16 port = sa->encap.dport;
	unsigned long n;
	void *old;

	lockdep_assert_held(&sad->lock);
	if (!kipsec_encap_len(sa))
		return;
	old = xa_load(&sad->encap_refs, port);
	if (WARN_ON_ONCE(!old))
		return;
	n = xa_to_value(old);
	if (n == 1) {
		xa_erase(&sad->encap_refs, port);
		clear_bit(port, sad->encap_ports);
	} else {
		/* Replacing an existing entry does not allocate. */
		xa_store(&sad->encap_refs, port, xa_mk_value(n - 1), GFP_KERNEL);
	}
	WRITE_ONCE(sad->encap_count, sad->encap_count - 1);
}

/**
 * kipsec_encap_push() - fill in the UDP header of an ESP-in-UDP packet
 * @sa: the SA
 * @uh: where the header goes
 * @len: UDP length (header, ESP and everything after it)
 *
 * The checksum is zero; over IPv6, kipsec_encap_csum6() sets it once the
 * payload is encrypted.
 */
void kipsec_encap_push(const struct kipsec_sa *sa, struct udphdr *uh,
		       unsigned int len)
{
	uh->source = htons(sa->encap.sport);
	uh->dest = htons(sa->encap.dport);
	uh->len = htons(len);
	uh->check = 0;
}

/**
 * kipsec_encap_csum6() - UDP checksum of an encrypted ESP-in-UDP/IPv6 packet
 * @skb: the packet, network header at the (outer) IPv6 header
 * @uoff: offset of the UDP header from the network header
 *
 * Computed in software: IPv6 NAT-T is rare, and a checksum left to the
 * device would be wrong in captures taken before it.
 */
void kipsec_encap_csum6(struct sk_buff *skb, unsigned int uoff)
{
	const struct ipv6hdr *ip6h = ipv6_hdr(skb);
	unsigned int off = skb_network_offset(skb) + uoff;
	unsigned int len = skb->len - off;
	struct udphdr *uh = (struct udphdr *)(skb->data + off);
	__wsum csum;

	uh->check = 0;
	csum = skb_checksum(skb, off, len, 0);
	uh->check = csum_ipv6_magic(&ip6h->saddr, &ip6h->daddr, len,
				    IPPROTO_UDP, csum);
	if (!uh->check)
		uh->check = CSUM_MANGLED_0;
	skb->ip_summed = CHECKSUM_NONE;
}

/**
 * kipsec_encap_classify() - is a UDP packet ESP in UDP for kipsec?
 * @sad: the namespace's SAD
 * @skb: the packet, skb->data at its IP header
 * @off: offset of the UDP header
 * @family: AF_INET or AF_INET6
 * @uh: set to a copy of the UDP header for KIPSEC_ENCAP_RX_ESP
 *
 * Only ports in the encapsulation set are looked at. A zero non-ESP marker
 * (IKE), a NAT keepalive (one byte 0xff) or anything shorter than a marker
 * is UDP's. ESP in UDP must have a consistent length and a valid checksum
 * (optional over IPv4, mandatory over IPv6).
 *
 * Return: enum kipsec_encap_rx.
 */
enum kipsec_encap_rx kipsec_encap_classify(struct kipsec_sad *sad,
					   struct sk_buff *skb,
					   unsigned int off, u16 family,
					   struct udphdr *uh)
{
	const struct udphdr *h;
	struct udphdr _h;
	unsigned int len;
	__be32 marker;

	h = skb_header_pointer(skb, off, sizeof(_h), &_h);
	if (!h || !kipsec_encap_port_rcu(sad, ntohs(h->dest)))
		return KIPSEC_ENCAP_RX_PASS;
	len = skb->len - off;
	if (len < sizeof(*h) + sizeof(marker) ||
	    skb_copy_bits(skb, off + sizeof(*h), &marker, sizeof(marker)) ||
	    !marker)
		return KIPSEC_ENCAP_RX_PASS;
	/* ESP header (SPI, sequence number) complete, length consistent. */
	if (len < sizeof(*h) + 8 || ntohs(h->len) != len)
		return KIPSEC_ENCAP_RX_BAD;
	*uh = *h;
	if (family == AF_INET) {
		if (uh->check && nf_ip_checksum(skb, NF_INET_LOCAL_IN, off,
						IPPROTO_UDP))
			return KIPSEC_ENCAP_RX_BAD;
	} else if (nf_ip6_checksum(skb, NF_INET_LOCAL_IN, off, IPPROTO_UDP)) {
		return KIPSEC_ENCAP_RX_BAD;
	}
	return KIPSEC_ENCAP_RX_ESP;
}

/**
 * kipsec_encap_strip() - remove the UDP header in front of ESP
 * @skb: the packet, skb->data at its IP header, the UDP header linear
 * @off: offset of the UDP header
 * @nh_off: offset of the byte that says UDP (IPv4 protocol, IPv6 next
 *	header); it is rewritten to ESP
 * @family: AF_INET or AF_INET6
 *
 * The IP header moves up over the UDP header, so that the packet looks
 * as if ESP had arrived directly.
 *
 * Return: 0 or a negative errno.
 */
int kipsec_encap_strip(struct sk_buff *skb, unsigned int off, u16 nh_off,
		       u16 family)
{
	int err;

	err = skb_ensure_writable(skb, off + sizeof(struct udphdr));
	if (err)
		return err;
	memmove(skb->data + sizeof(struct udphdr), skb->data, off);
	__skb_pull(skb, sizeof(struct udphdr));
	skb_reset_network_header(skb);
	skb->data[nh_off] = IPPROTO_ESP;
	if (family == AF_INET) {
		ip_hdr(skb)->tot_len = htons(skb->len);
		ip_send_check(ip_hdr(skb));
	} else {
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
	}
	/* Decryption in place invalidates any checksum state. */
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/**
 * kipsec_encap_csum_fixup() - inner TCP/UDP checksum after transport-mode
 *	NAT-T decapsulation (RFC 3948 3.1.2)
 * @sa: the SA
 * @skb: the decapsulated packet, network header at skb->data
 *
 * A NAT changed the outer addresses, so the inner checksum, computed over
 * the peer's own addresses, no longer matches the IP header. With the
 * peer's original source address on the SA, the checksum is updated
 * incrementally from it to the received source and the stack still
 * verifies it; without it, the checksum is not verified (ESP's ICV
 * protects the payload), as the native stack does.
 */
void kipsec_encap_csum_fixup(const struct kipsec_sa *sa, struct sk_buff *skb)
{
	const struct kipsec_encap_cfg *e = &sa->encap;
	unsigned int coff;
	__sum16 *check;
	int off;
	u8 proto;

	if (!e->oaddr_family) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		return;
	}
	if (ip_hdr(skb)->version == 4) {
		const struct iphdr *iph = ip_hdr(skb);

		if (iph->frag_off & htons(IP_OFFSET))
			return;
		off = ip_hdrlen(skb);
		proto = iph->protocol;
	} else {
		__be16 frag_off = 0;

		proto = ipv6_hdr(skb)->nexthdr;
		off = ipv6_skip_exthdr(skb, sizeof(struct ipv6hdr), &proto,
				       &frag_off);
		if (off < 0 || (frag_off & htons(IP6_OFFSET)))
			return;
	}
	if (proto == IPPROTO_TCP)
		coff = off + offsetof(struct tcphdr, check);
	else if (proto == IPPROTO_UDP)
		coff = off + offsetof(struct udphdr, check);
	else
		return;
	if (skb_ensure_writable(skb, coff + sizeof(*check)))
		return;
	check = (__sum16 *)(skb->data + coff);
	/* A zero UDP checksum over IPv4 means none. */
	if (proto == IPPROTO_UDP && !*check)
		return;
	if (ip_hdr(skb)->version == 4)
		inet_proto_csum_replace4(check, skb, e->oaddr.a4,
					 ip_hdr(skb)->saddr, true);
	else
		inet_proto_csum_replace16(check, skb, e->oaddr.in6.s6_addr32,
					  ipv6_hdr(skb)->saddr.s6_addr32, true);
	if (proto == IPPROTO_UDP && !*check)
		*check = CSUM_MANGLED_0;
}
