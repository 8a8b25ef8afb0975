// SPDX-License-Identifier: GPL-2.0
/*
 * AH (RFC 4302) on top of an SA's keyed hash (HMAC, XCBC, CMAC) or
 * AES-GMAC (RFC 4543).
 *
 * The ICV covers the whole IP packet as the final destination sees it,
 * with the fields that may change in transit zeroed (RFC 4302 3.3.3.1):
 * the header part before AH is saved, cleared in place, hashed together
 * with AH (ICV zero) and the payload, then restored. With ESN the high 32
 * bits of the sequence number follow the packet in the hash input
 * (3.3.2.1), as they do for the native ah4/ah6.
 *
 * AES-GMAC as AH (RFC 4543 4) runs on the plain gcm(aes) AEAD instead
 * (the kernel's rfc4543 template takes only ESP-sized associated data):
 * the same input, the packet with its mutable fields and ICV zeroed and
 * the ESN high bits after it, is all associated data and the plaintext is
 * empty. The authentication data is an 8-byte IV, the sequence number as
 * ESP's GMAC uses it, then the 16-byte ICV (after IPv6, 4 bytes of
 * padding: erratum 3643); the IV is authenticated as sent. The nonce is
 * the SA's salt followed by the IV.
 *
 * One point of that is a reading, not a quote: erratum 3643 (verified)
 * says the field "contains both an input to the authentication algorithm
 * (the IV) and the output of the authentication algorithm (the tag)", but
 * the sentence of RFC 4543 4 on which of its bytes the AAD zeroes could
 * not be consulted. If it zeroes the IV with the tag, ah_prepare() must
 * zero iv_bytes more (and selftests/vectors/ah_vectors.py with it).
 */

#include <crypto/aead.h>
#include <crypto/algapi.h>
#include <crypto/hash.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "ah.h"
#include "compat.h"
#include "esp.h"
#include "sa.h"

#define AH_HLEN		sizeof(struct ip_auth_hdr)	/* up to the ICV */

#define AH_NONCE_MAX	16	/* GMAC: salt and IV, 12 bytes */

/*
 * One allocation per packet: request (ahash, or aead with GMAC), computed
 * ICV, received ICV, ESN high bits, GMAC nonce, a copy of the IP header
 * part before AH, then the scatterlist. The offsets depend only on the
 * transform and the header length, so a completion finds the parts again
 * without the scatterlist length.
 */
struct ah_tmp {
	void *req;
	u8 *icv;
	u8 *ricv;
	__be32 *seqhi;
	u8 *nonce;
	u8 *hdr;
	struct scatterlist *sg;
};

/* Offset of the scatterlist, and the parts before it if @t is given. */
static size_t ah_tmp_layout(u8 *tmp, const struct kipsec_sa_crypto *c,
			    unsigned int hlen, struct ah_tmp *t)
{
	size_t dlen, icv, nonce, hdr, sg;

	if (c->ahash) {
		dlen = crypto_ahash_digestsize(c->ahash);
		icv = sizeof(struct ahash_request) +
		      crypto_ahash_reqsize(c->ahash);
	} else {
		dlen = crypto_aead_authsize(c->aead);
		icv = sizeof(struct aead_request) +
		      crypto_aead_reqsize(c->aead);
	}
	dlen = ALIGN(dlen, 8);
	icv = ALIGN(icv, 8);
	nonce = icv + 2 * dlen + 8;
	hdr = nonce + AH_NONCE_MAX;
	sg = ALIGN(hdr + hlen, __alignof__(struct scatterlist));

	if (t) {
		t->req = tmp;
		t->icv = tmp + icv;
		t->ricv = tmp + icv + dlen;
		t->seqhi = (__be32 *)(tmp + icv + 2 * dlen);
		t->nonce = tmp + nonce;
		t->hdr = tmp + hdr;
		t->sg = (struct scatterlist *)(tmp + sg);
	}
	return sg;
}

static void *ah_alloc_tmp(const struct kipsec_sa_crypto *c, unsigned int hlen,
			  unsigned int nsg, struct ah_tmp *t)
{
	size_t len = ah_tmp_layout(NULL, c, hlen, NULL);
	u8 *tmp;

	tmp = kmalloc(len + nsg * sizeof(struct scatterlist), GFP_ATOMIC);
	if (tmp)
		ah_tmp_layout(tmp, c, hlen, t);
	return tmp;
}

/* Bytes of AH before any padding: header, IV (GMAC), ICV. */
static unsigned int ah_unpadded(const struct kipsec_sa *sa)
{
	return AH_HLEN + sa->crypto.iv_bytes + sa->crypto.icv_bytes;
}

/* AH header and ICV, padded to 32 bits after IPv4, 64 bits after IPv6. */
static unsigned int ah_len(const struct kipsec_sa *sa, bool v4)
{
	unsigned int len = ah_unpadded(sa);

	return v4 ? ALIGN(len, 4) : ALIGN(len, 8);
}

/**
 * kipsec_ah_overhead() - bytes AH adds to a packet
 * @sa: the SA
 * @v4: the header AH follows is IPv4 (32-bit alignment, else 64-bit)
 *
 * Return: the AH header length including ICV and padding.
 */
unsigned int kipsec_ah_overhead(const struct kipsec_sa *sa, bool v4)
{
	return ah_len(sa, v4);
}

/*
 * Inbound, IPv4 AH may also come padded to 64 bits: the native stack
 * does that unless its SA has the align4 flag (RFC 4302 allows both).
 */
static bool ah_len_ok(const struct kipsec_sa *sa, bool v4, unsigned int len)
{
	return len == ah_len(sa, v4) ||
	       (v4 && len == ALIGN(ah_unpadded(sa), 8));
}

/*
 * IPv4 options: RFC 4302 Appendix A.1 lists the immutable ones; every
 * other option is zeroed. With source routing the ICV uses the final
 * destination, the last address of the route (as the native ah4 does).
 */
static int ah_clear_opts4(struct iphdr *iph)
{
	int l = iph->ihl * 4 - sizeof(*iph);
	u8 *opt = (u8 *)(iph + 1);
	int optlen;

	while (l > 0) {
		if (opt[0] == IPOPT_END)
			break;
		if (opt[0] == IPOPT_NOOP) {
			l--;
			opt++;
			continue;
		}
		if (l < 2)
			return -EINVAL;
		optlen = opt[1];
		if (optlen < 2 || optlen > l)
			return -EINVAL;
		switch (opt[0]) {
		case IPOPT_SEC:
		case 133:		/* extended security */
		case IPOPT_CIPSO:	/* commercial security */
		case IPOPT_RA:
		case 149:		/* sender directed multi-destination */
			break;
		case IPOPT_LSRR:
		case IPOPT_SSRR:
			if (optlen < 7)
				return -EINVAL;
			memcpy(&iph->daddr, opt + optlen - 4, 4);
			fallthrough;
		default:
			memset(opt, 0, optlen);
		}
		l -= optlen;
		opt += optlen;
	}
	return 0;
}

/* Hop-by-hop and destination options: zero the data of "may change" ones. */
static int ah_clear_opts6(struct ipv6_opt_hdr *h, bool dest)
{
	unsigned int len = ipv6_optlen(h), off = 2;
	u8 *opt = (u8 *)h;

	while (off < len) {
		if (opt[off] == IPV6_TLV_PAD1) {
			off++;
			continue;
		}
		if (off + 2 > len || off + 2 + opt[off + 1] > len)
			return -EINVAL;
		/* Mobile IPv6 swaps addresses around it: not supported. */
		if (dest && opt[off] == IPV6_TLV_HAO)
			return -EOPNOTSUPP;
		if (opt[off] & 0x20)
			memset(opt + off + 2, 0, opt[off + 1]);
		off += 2 + opt[off + 1];
	}
	return 0;
}

/*
 * Routing header: as the final destination will see it. Types 0 and 2
 * (the address-list layout the native stack handles) are rearranged the
 * way the hops will: the final destination in the IPv6 header, the
 * addresses visited in the list, segments left zero. Other types are
 * refused rather than guessed.
 */
static int ah_rthdr6(struct ipv6hdr *ip6h, struct ipv6_rt_hdr *rt)
{
	unsigned int segments = rt->hdrlen >> 1, left = rt->segments_left;
	struct in6_addr *addrs, final;

	if (rt->type != IPV6_SRCRT_TYPE_0 && rt->type != IPV6_SRCRT_TYPE_2)
		return -EOPNOTSUPP;
	if (!left)
		return 0;
	if ((rt->hdrlen & 1) || left > segments)
		return -EINVAL;
	rt->segments_left = 0;
	addrs = ((struct rt0_hdr *)rt)->addr;
	final = addrs[segments - 1];
	addrs += segments - left;
	memmove(addrs + 1, addrs, (left - 1) * sizeof(*addrs));
	addrs[0] = ip6h->daddr;
	ip6h->daddr = final;
	return 0;
}

static int ah_clear_mutable6(u8 *nh, unsigned int hlen)
{
	struct ipv6hdr *ip6h = (struct ipv6hdr *)nh;
	unsigned int off = sizeof(*ip6h);
	u8 nexthdr = ip6h->nexthdr;
	int err;

	ip6h->priority = 0;
	memset(ip6h->flow_lbl, 0, sizeof(ip6h->flow_lbl));
	ip6h->hop_limit = 0;

	while (off < hlen) {
		struct ipv6_opt_hdr *h = (struct ipv6_opt_hdr *)(nh + off);
		unsigned int len;

		if (off + sizeof(*h) > hlen)
			return -EINVAL;
		len = ipv6_optlen(h);
		if (off + len > hlen)
			return -EINVAL;
		switch (nexthdr) {
		case NEXTHDR_HOP:
		case NEXTHDR_DEST:
			err = ah_clear_opts6(h, nexthdr == NEXTHDR_DEST);
			break;
		case NEXTHDR_ROUTING:
			err = ah_rthdr6(ip6h, (struct ipv6_rt_hdr *)h);
			break;
		default:
			err = -EOPNOTSUPP;
		}
		if (err)
			return err;
		nexthdr = h->nexthdr;
		off += len;
	}
	return 0;
}

/* Zeroes the mutable fields of the @hlen header bytes before AH. */
static int ah_clear_mutable(u8 *nh, unsigned int hlen, bool v4)
{
	struct iphdr *iph = (struct iphdr *)nh;

	if (!v4)
		return ah_clear_mutable6(nh, hlen);
	iph->tos = 0;
	iph->frag_off = 0;
	iph->ttl = 0;
	iph->check = 0;
	if (iph->ihl * 4 != hlen)
		return -EINVAL;
	return iph->ihl > 5 ? ah_clear_opts4(iph) : 0;
}

/*
 * The ICV over the whole packet, then the ESN high bits: a digest into
 * t->icv, or with GMAC the tag of an empty plaintext with all of it as
 * associated data (outbound into t->icv; inbound checked against t->ricv,
 * -EBADMSG on a mismatch). The GMAC nonce is already in t->nonce.
 * Returns 0 or -EINPROGRESS/-EBUSY (completion to come) or an error.
 */
static int ah_icv(struct sk_buff *skb, struct kipsec_sa *sa,
		  struct ah_tmp *t, int nfrags, u64 seq, bool out,
		  crypto_completion_t done)
{
	struct kipsec_sa_crypto *c = &sa->crypto;
	bool esn = sa->flags & KIPSEC_SA_F_ESN;
	unsigned int len = skb->len;
	struct aead_request *req;
	int n;

	sg_init_table(t->sg, nfrags + 2);
	n = skb_to_sgvec_nomark(skb, t->sg, 0, skb->len);
	if (unlikely(n < 0))
		return n;
	if (esn) {
		*t->seqhi = htonl(upper_32_bits(seq));
		sg_set_buf(&t->sg[n++], t->seqhi, sizeof(*t->seqhi));
		len += sizeof(*t->seqhi);
	}

	if (c->ahash) {
		sg_mark_end(&t->sg[n - 1]);
		ahash_request_set_tfm(t->req, c->ahash);
		ahash_request_set_callback(t->req, CRYPTO_TFM_REQ_MAY_BACKLOG,
					   done, skb);
		ahash_request_set_crypt(t->req, t->sg, t->icv, len);
		return crypto_ahash_digest(t->req);
	}

	/* The tag follows the associated data: written, or read and checked. */
	sg_set_buf(&t->sg[n++], out ? t->icv : t->ricv, c->icv_bytes);
	sg_mark_end(&t->sg[n - 1]);
	req = t->req;
	aead_request_set_tfm(req, c->aead);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG, done, skb);
	aead_request_set_ad(req, len);
	aead_request_set_crypt(req, t->sg, t->sg, out ? 0 : c->icv_bytes,
			       t->nonce);
	return out ? crypto_aead_encrypt(req) : crypto_aead_decrypt(req);
}

/* GMAC: the nonce is the SA's salt, then the IV carried in AH. */
static void ah_set_nonce(const struct kipsec_sa *sa, struct ah_tmp *t,
			 const u8 *iv)
{
	memcpy(t->nonce, sa->crypto.salt, sizeof(sa->crypto.salt));
	memcpy(t->nonce + sizeof(sa->crypto.salt), iv, sa->crypto.iv_bytes);
}

/*
 * The packet at skb->data, with AH @hlen bytes in, made the ICV input: the
 * GMAC nonce taken from AH, the header part before AH saved in t->hdr and
 * its mutable fields zeroed, and inbound (@ricv) the received ICV moved to
 * t->ricv and zeroed (outbound it is zero already). The GMAC IV and any
 * padding are authenticated as sent, as the native AH does with padding.
 * On an error the header is put back.
 */
static int ah_prepare(struct sk_buff *skb, const struct kipsec_sa *sa,
		      struct ah_tmp *t, unsigned int hlen, bool v4, bool ricv)
{
	struct ip_auth_hdr *ah = (struct ip_auth_hdr *)(skb->data + hlen);
	u8 *icv = ah->auth_data + sa->crypto.iv_bytes;
	int err;

	if (sa->crypto.iv_bytes)
		ah_set_nonce(sa, t, ah->auth_data);
	memcpy(t->hdr, skb->data, hlen);
	if (ricv) {
		memcpy(t->ricv, icv, sa->crypto.icv_bytes);
		memset(icv, 0, sa->crypto.icv_bytes);
	}
	err = ah_clear_mutable(skb->data, hlen, v4);
	if (err)
		memcpy(skb->data, t->hdr, hlen);
	return err;
}

/* Puts the ICV in, the header back, and hands the packet on. */
static void ah_output_finish(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	unsigned int hlen = cb->esp_off;
	struct ip_auth_hdr *ah;
	struct ah_tmp t;

	ah_tmp_layout(cb->tmp, &sa->crypto, hlen, &t);
	ah = (struct ip_auth_hdr *)(skb_network_header(skb) + hlen);
	if (!err)
		memcpy(ah->auth_data + sa->crypto.iv_bytes, t.icv,
		       sa->crypto.icv_bytes);
	memcpy(skb_network_header(skb), t.hdr, hlen);
	kfree(cb->tmp);
	kipsec_output_done(skb, err);
}

static KIPSEC_CRYPTO_DONE(ah_output_cb, data)
{
	struct sk_buff *skb = KIPSEC_CRYPTO_DATA(data);

	if (err == -EINPROGRESS)	/* left the backlog; more to come */
		return;
	ah_output_finish(skb, err);
}

/**
 * kipsec_ah_output() - add AH to a packet and compute its ICV
 * @skb: the packet, skb->data at its IP header; kipsec_cb(skb) has @sa
 *	and @net set
 * @seq: the sequence number assigned to it
 * @outer: tunnel mode: the new outer IP header, lengths unset
 * @outer_len: bytes at @outer, 0 in transport mode
 *
 * Transport mode inserts AH after the IP header (IPv6: after hop-by-hop,
 * routing and the destination options before routing); tunnel mode puts
 * the whole packet inside. The lengths and, for a new IPv4 outer header,
 * the ID are set here since the ICV covers them. kipsec_output_done() is
 * then called once, synchronously or from the crypto completion.
 *
 * Return: 0 if the packet was handed on (even to a failing completion),
 * or a negative errno (-EOPNOTSUPP: a header AH cannot protect): the
 * caller still owns @skb.
 */
int kipsec_ah_output(struct sk_buff *skb, u64 seq, const void *outer,
		     unsigned int outer_len)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	unsigned int hlen, ahlen;
	struct ip_auth_hdr *ah;
	struct sk_buff *trailer;
	int nfrags, prevoff = -1, err;
	struct ah_tmp t;
	u8 nexthdr;
	void *tmp;
	bool v4;

	if (!sa->crypto.ahash && !sa->crypto.aead)
		return -EOPNOTSUPP;
	err = kipsec_xfrm_split(sa, skb, &hlen, &nexthdr, &prevoff);
	if (err)
		return err;
	/* The family of the header the ICV covers: the outer one in tunnel mode. */
	v4 = sa->mode == KIPSEC_MODE_TUNNEL ? sa->id.family == AF_INET :
					      ip_hdr(skb)->version == 4;
	ahlen = ah_len(sa, v4);

	nfrags = kipsec_xfrm_room(skb, outer_len + ahlen, 0, &trailer);
	if (nfrags < 0)
		return nfrags;

	skb_push(skb, ahlen);
	if (hlen)
		memmove(skb->data, skb->data + ahlen, hlen);
	skb_reset_network_header(skb);
	if (hlen && prevoff < 0)
		ip_hdr(skb)->protocol = IPPROTO_AH;
	else if (hlen)
		skb->data[prevoff] = IPPROTO_AH;
	if (outer_len) {
		memcpy(skb_push(skb, outer_len), outer, outer_len);
		skb_reset_network_header(skb);
		hlen = outer_len;
		if (v4)
			ip_hdr(skb)->protocol = IPPROTO_AH;
		else
			ipv6_hdr(skb)->nexthdr = IPPROTO_AH;
	}

	ah = (struct ip_auth_hdr *)(skb->data + hlen);
	ah->nexthdr = nexthdr;
	ah->hdrlen = (ahlen >> 2) - 2;
	ah->reserved = 0;
	ah->spi = sa->id.spi;
	ah->seq_no = htonl(lower_32_bits(seq));
	memset(ah->auth_data, 0, ahlen - AH_HLEN);
	if (sa->crypto.iv_bytes) {
		/* GMAC: the sequence number is the IV (unique per key). */
		__be64 iv = cpu_to_be64(seq);

		memcpy(ah->auth_data, &iv, sizeof(iv));
	}

	if (v4) {
		ip_hdr(skb)->tot_len = htons(skb->len);
		if (outer_len)
			ip_select_ident(cb->net, skb, NULL);
	} else {
		if (skb->len - sizeof(struct ipv6hdr) > IPV6_MAXPLEN)
			return -EMSGSIZE;
		ipv6_hdr(skb)->payload_len =
			htons(skb->len - sizeof(struct ipv6hdr));
	}

	tmp = ah_alloc_tmp(&sa->crypto, hlen, nfrags + 2, &t);
	if (!tmp)
		return -ENOMEM;
	err = ah_prepare(skb, sa, &t, hlen, v4, false);
	if (err) {
		kfree(tmp);
		return err;
	}
	cb->esp_off = hlen;
	cb->tmp = tmp;

	err = ah_icv(skb, sa, &t, nfrags, seq, true, ah_output_cb);
	if (err == -EINPROGRESS || err == -EBUSY)
		return 0;
	ah_output_finish(skb, err);
	return 0;
}

/* Compares the ICVs, puts the header back, and hands the packet on. */
static void ah_input_finish(struct sk_buff *skb, int err)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	unsigned int hlen = cb->esp_off;
	struct ah_tmp t;

	ah_tmp_layout(cb->tmp, &sa->crypto, hlen, &t);
	/* GMAC: the AEAD compared the tags itself (-EBADMSG). */
	if (!err && sa->crypto.ahash &&
	    crypto_memneq(t.icv, t.ricv, sa->crypto.icv_bytes))
		err = -EBADMSG;
	memcpy(skb->data, t.hdr, hlen);
	kfree(cb->tmp);
	kipsec_input_done(skb, err);
}

static KIPSEC_CRYPTO_DONE(ah_input_cb, data)
{
	struct sk_buff *skb = KIPSEC_CRYPTO_DATA(data);

	if (err == -EINPROGRESS)
		return;
	ah_input_finish(skb, err);
}

/**
 * kipsec_ah_input() - verify the ICV of an AH packet
 * @skb: the packet, skb->data at the outer IP header; kipsec_cb(skb) has
 *	@sa, @esp_off (offset of AH), @family and @seq (from the replay
 *	check) set
 *
 * kipsec_input_done() is called once, synchronously or from the crypto
 * completion, with -EBADMSG if the ICV did not verify. The packet keeps
 * its AH header; kipsec_ah_strip() removes it.
 *
 * Return: 0 if the packet was handed on, or a negative errno (-EINVAL:
 * truncated or malformed, -EOPNOTSUPP: a header before AH that kipsec
 * cannot compute the ICV over): the caller still owns @skb.
 */
int kipsec_ah_input(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	bool v4 = cb->family == AF_INET;
	unsigned int hlen = cb->esp_off;
	struct ip_auth_hdr *ah;
	unsigned int ahlen;
	struct sk_buff *trailer;
	struct ah_tmp t;
	int nfrags, err;
	void *tmp;

	if (!sa->crypto.ahash && !sa->crypto.aead)
		return -EOPNOTSUPP;
	if (!pskb_may_pull(skb, hlen + AH_HLEN))
		return -EINVAL;
	ah = (struct ip_auth_hdr *)(skb->data + hlen);
	ahlen = (ah->hdrlen + 2) << 2;
	if (!ah_len_ok(sa, v4, ahlen) || !pskb_may_pull(skb, hlen + ahlen))
		return -EINVAL;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	tmp = ah_alloc_tmp(&sa->crypto, hlen, nfrags + 2, &t);
	if (!tmp)
		return -ENOMEM;

	err = ah_prepare(skb, sa, &t, hlen, v4, true);
	if (err) {
		kfree(tmp);
		return err;
	}
	cb->tmp = tmp;

	err = ah_icv(skb, sa, &t, nfrags, cb->seq, false, ah_input_cb);
	if (err == -EINPROGRESS || err == -EBUSY)
		return 0;
	ah_input_finish(skb, err);
	return 0;
}

/**
 * kipsec_ah_strip() - remove AH from a verified packet
 * @skb: the packet as kipsec_ah_input() left it
 *
 * Pulls the outer headers up to the payload in tunnel mode, or moves the
 * IP header up to it in transport mode (the caller rewrites the protocol
 * and lengths).
 *
 * Return: the next header.
 */
int kipsec_ah_strip(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	unsigned int hlen = cb->esp_off;
	struct ip_auth_hdr *ah;
	unsigned int ahlen;
	u8 nexthdr;

	ah = (struct ip_auth_hdr *)(skb->data + hlen);
	ahlen = (ah->hdrlen + 2) << 2;
	nexthdr = ah->nexthdr;
	if (cb->sa->mode == KIPSEC_MODE_TUNNEL) {
		__skb_pull(skb, hlen + ahlen);
	} else {
		memmove(skb->data + ahlen, skb->data, hlen);
		__skb_pull(skb, ahlen);
	}
	skb_reset_network_header(skb);
	return nexthdr;
}

#ifdef KIPSEC_DEBUG
#include "selftest/ah.c"
#endif
