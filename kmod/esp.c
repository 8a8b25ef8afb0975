// SPDX-License-Identifier: GPL-2.0
/*
 * ESP (RFC 4303) framing on top of an SA's AEAD transform.
 *
 * Every transform kipsec uses is an AEAD (rfc4106, rfc4309, rfc4543,
 * rfc7539esp, authenc, authencesn) with the IPsec calling convention: the
 * associated data is SPI, [high sequence bits,] sequence number and IV, the
 * IV is also passed as the request's IV. Without ESN all of it is the
 * packet's, from the ESP header on, encrypted in place: a linear packet is
 * one scatterlist entry (see esp_set_sg()). With ESN the SPI/sequence part
 * comes from a scratch buffer, so that the high sequence bits, which are
 * never sent, need no room in the packet.
 *
 * IVs: counter-based modes (GCM, CCM, GMAC, ChaCha20-Poly1305, CTR) send
 * the 64-bit sequence number, unique per key as RFCs 4106, 4309, 4543,
 * 7634 and 3686 allow; CBC gets a random IV (RFC 3602).
 */

#include <crypto/aead.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/ipv6.h>

#include "compat.h"
#include "encap.h"
#include "esp.h"
#include "sa.h"

#define ESP_HLEN	8	/* SPI, sequence number */
#define ESP_AD_MAX	12	/* SPI, high sequence bits, sequence number */
#define ESP_IV_MAX	16

/* One allocation per packet: AD scratch, IV copy, request, scatterlist. */
static void *esp_alloc_tmp(struct crypto_aead *aead, int nsg)
{
	size_t len = ESP_AD_MAX + ESP_IV_MAX + crypto_tfm_ctx_alignment();

	len += sizeof(struct aead_request) + crypto_aead_reqsize(aead);
	len = ALIGN(len, __alignof__(struct scatterlist));
	len += sizeof(struct scatterlist) * nsg;
	return kmalloc(len, GFP_ATOMIC);
}

static u8 *esp_tmp_iv(void *tmp)
{
	return (u8 *)tmp + ESP_AD_MAX;
}

static struct aead_request *esp_tmp_req(void *tmp)
{
	return (void *)PTR_ALIGN((u8 *)tmp + ESP_AD_MAX + ESP_IV_MAX,
				 crypto_tfm_ctx_alignment());
}

static struct scatterlist *esp_tmp_sg(struct aead_request *req)
{
	return (void *)ALIGN((unsigned long)(req + 1) +
			     crypto_aead_reqsize(crypto_aead_reqtfm(req)),
			     __alignof__(struct scatterlist));
}

/*
 * The request's scatterlist over the ESP header at @off and the @len bytes
 * from there (IV, payload, trailer, ICV): SPI and sequence number, the
 * associated data, straight from the packet without ESN, so that a linear
 * packet is one entry as in the native stack. That matters to authenc:
 * its HMAC digests a single entry in one call and walks a list otherwise,
 * one mapping and one update per entry. With ESN they come from the
 * scratch at @ad instead, the high sequence bits of @seq between them (RFC
 * 4303 2.2.1), and the rest from the packet. Returns the associated data's
 * bytes before the IV, or a negative errno.
 */
static int esp_set_sg(struct sk_buff *skb, struct scatterlist *sg, int nsg,
		      unsigned int off, unsigned int len, __be32 *ad, u64 seq,
		      bool esn)
{
	const struct ip_esp_hdr *esph = (void *)(skb->data + off);
	int err;

	sg_init_table(sg, nsg);
	if (!esn) {
		err = skb_to_sgvec(skb, sg, off, len);
		return err < 0 ? err : ESP_HLEN;
	}
	ad[0] = esph->spi;
	ad[1] = htonl(upper_32_bits(seq));
	ad[2] = esph->seq_no;
	sg_set_buf(sg, ad, ESP_AD_MAX);
	err = skb_to_sgvec(skb, sg + 1, off + ESP_HLEN, len - ESP_HLEN);
	return err < 0 ? err : ESP_AD_MAX;
}

/* Padding block: the cipher's, at least 4 bytes (RFC 4303 2.4). */
static unsigned int esp_block(const struct kipsec_sa *sa)
{
	return ALIGN(max_t(unsigned int, sa->crypto.block_bytes, 4), 4);
}

/**
 * kipsec_esp_mtu() - the largest payload whose ESP packet fits in @room
 * @sa: the SA
 * @room: bytes available for ESP header, IV, payload, padding, trailer
 *	and ICV
 *
 * Return: the payload bytes (0 if nothing fits).
 */
unsigned int kipsec_esp_mtu(const struct kipsec_sa *sa, unsigned int room)
{
	const struct kipsec_sa_crypto *c = &sa->crypto;
	unsigned int fixed = ESP_HLEN + c->iv_bytes + c->icv_bytes;

	if (room < fixed + esp_block(sa))
		return 0;
	/* Payload and the 2-byte trailer, padded to the block. */
	return rounddown(room - fixed, esp_block(sa)) - 2;
}

static KIPSEC_CRYPTO_DONE(esp_output_cb, data)
{
	struct sk_buff *skb = KIPSEC_CRYPTO_DATA(data);

	if (err == -EINPROGRESS)	/* left the backlog; more to come */
		return;
	kfree(kipsec_cb(skb)->tmp);
	kipsec_output_done(skb, err);
}

/**
 * kipsec_xfrm_split() - where an ESP or AH header goes in an outbound packet
 * @sa: the SA
 * @skb: the packet, its network header at skb->data
 * @hlen: set to the bytes of IP header that stay in front of the new
 *	header (0 in tunnel mode: the outer header is added later)
 * @nexthdr: set to the protocol the new header announces
 * @prevoff: set to the offset of the IPv6 next-header byte to rewrite in
 *	transport mode, or left at -1
 *
 * Return: 0, or a negative errno for a malformed packet.
 */
int kipsec_xfrm_split(const struct kipsec_sa *sa, struct sk_buff *skb,
		      unsigned int *hlen, u8 *nexthdr, int *prevoff)
{
	u8 *prevhdr;
	int off;

	if (sa->mode == KIPSEC_MODE_TUNNEL) {
		*hlen = 0;
		*nexthdr = ip_hdr(skb)->version == 4 ? IPPROTO_IPIP :
						      IPPROTO_IPV6;
	} else if (ip_hdr(skb)->version == 4) {
		*hlen = ip_hdrlen(skb);
		*nexthdr = ip_hdr(skb)->protocol;
	} else {
		off = ip6_find_1stfragopt(skb, &prevhdr);
		if (off < 0)
			return off;
		*hlen = off;
		*nexthdr = *prevhdr;
		*prevoff = prevhdr - skb_network_header(skb);
	}
	return skb->len < *hlen ? -EINVAL : 0;
}

/*
 * Moves everything in @skb's buffer up to the end of its data @off bytes
 * towards the end (its headroom grows by @off, its tailroom shrinks by as
 * much), and the header offsets with it: what pskb_expand_head() would
 * give it, without a new buffer (and an unset transport header stays
 * unset). The data must be the skb's own (not cloned) and linear, with
 * @off bytes of tailroom.
 */
static void xfrm_shift(struct sk_buff *skb, unsigned int off)
{
	memmove(skb->head + off, skb->head, skb_tail_pointer(skb) - skb->head);
	skb->data += off;
	skb_set_tail_pointer(skb, skb->len);
	/* The header offsets count from skb->head, which stays. */
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		skb->csum_start += off;
	if (skb_mac_header_was_set(skb))
		skb->mac_header += off;
	skb->network_header += off;
	if (skb_transport_header_was_set(skb))
		skb->transport_header += off;
	skb->inner_mac_header += off;
	skb->inner_network_header += off;
	skb->inner_transport_header += off;
}

/**
 * kipsec_xfrm_room() - make an outbound packet's data writable, with room
 *	for what ESP or AH adds
 * @skb: the packet, its route set (the outer one in tunnel mode)
 * @head: bytes to be pushed in front of skb->data
 * @tail: bytes to be put at the end of the data
 * @trailer: set to the buffer that takes the tail
 *
 * The headroom left also holds the link-layer reserve of the route's
 * device, as the IP output path wants it, and no more: a forwarded packet
 * usually has that much already. A linear packet short of headroom whose
 * data is not cloned, and whose buffer has the missing room plus @tail at
 * the end, moves up within its buffer: typical of a locally sent one
 * (UDP, ICMP, raw), whose route leaves only the device's reserve as it
 * knows nothing of kipsec. That costs a move rather than a new buffer
 * (4 KiB for a 1400-byte datagram, zeroed on kernels that initialise
 * allocations). Any other linear packet that is cloned, or short of room,
 * is reallocated once with room at both ends; skb_cow_data() and
 * skb_cow_head() in turn would copy it twice. A packet with page
 * fragments or a fragment list goes through skb_cow_data(), which pulls
 * them into writable memory.
 *
 * Return: the number of scatterlist entries the data takes, or a negative
 * errno.
 */
int kipsec_xfrm_room(struct sk_buff *skb, unsigned int head,
		     unsigned int tail, struct sk_buff **trailer)
{
	struct dst_entry *dst = skb_dst(skb);
	int nhead, ntail, nfrags, err;

	head += dst ? LL_RESERVED_SPACE(dst->dev) : LL_MAX_HEADER;
	if (!skb_shinfo(skb)->nr_frags && !skb_has_frag_list(skb)) {
		nhead = max_t(int, head - skb_headroom(skb), 0);
		if (nhead && !skb_cloned(skb) &&
		    skb_tailroom(skb) >= nhead + tail) {
			xfrm_shift(skb, nhead);
			nhead = 0;
		}
		ntail = max_t(int, tail - skb_tailroom(skb), 0);
		if ((nhead || ntail || skb_cloned(skb)) &&
		    pskb_expand_head(skb, ALIGN(nhead, NET_SKB_PAD), ntail,
				     GFP_ATOMIC))
			return -ENOMEM;
		*trailer = skb;
		return 1;
	}
	nfrags = skb_cow_data(skb, tail, trailer);
	if (nfrags < 0)
		return nfrags;
	err = skb_cow_head(skb, head);
	return err ? err : nfrags;
}

/**
 * kipsec_esp_output() - add ESP to a packet and encrypt it
 * @skb: the packet, skb->data at its IP header; kipsec_cb(skb)->sa is set
 * @seq: the sequence number assigned to it
 * @outer: tunnel mode: the new outer IP header, lengths unset
 * @outer_len: bytes at @outer, 0 in transport mode
 *
 * Transport mode inserts ESP after the IP header (IPv6: after hop-by-hop,
 * routing and the destination options before routing); tunnel mode puts
 * the whole packet inside. An ESP-in-UDP SA puts a UDP header in front of
 * ESP; kipsec_cb(skb)->esp_off is then its offset from the network header.
 * kipsec_output_done() is then called once, synchronously or from the
 * crypto completion.
 *
 * Return: 0 if the packet was handed on (even to a failing completion),
 * or a negative errno: the caller still owns @skb.
 */
int kipsec_esp_output(struct sk_buff *skb, u64 seq, const void *outer,
		      unsigned int outer_len)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	struct kipsec_sa_crypto *c = &sa->crypto;
	unsigned int hlen, plen, clen, padlen, tailen, i;
	bool esn = sa->flags & KIPSEC_SA_F_ESN;
	unsigned int ulen = kipsec_encap_len(sa);
	unsigned int ivlen = c->iv_bytes;
	struct aead_request *req;
	struct ip_esp_hdr *esph;
	struct sk_buff *trailer;
	struct scatterlist *sg;
	int nfrags, prevoff = -1, adlen, err;
	u8 nexthdr, *tail, *iv;
	void *tmp;

	err = kipsec_xfrm_split(sa, skb, &hlen, &nexthdr, &prevoff);
	if (err)
		return err;

	plen = skb->len - hlen;
	clen = ALIGN(plen + 2, esp_block(sa));
	padlen = clen - plen - 2;
	tailen = padlen + 2 + c->icv_bytes;

	nfrags = kipsec_xfrm_room(skb, outer_len + ulen + ESP_HLEN + ivlen,
				  tailen, &trailer);
	if (nfrags < 0)
		return nfrags;
	tmp = esp_alloc_tmp(c->aead, nfrags + 1);
	if (!tmp)
		return -ENOMEM;

	tail = pskb_put(skb, trailer, tailen);
	for (i = 0; i < padlen; i++)
		tail[i] = i + 1;
	tail[padlen] = padlen;
	tail[padlen + 1] = nexthdr;

	skb_push(skb, ulen + ESP_HLEN + ivlen);
	if (hlen)
		memmove(skb->data, skb->data + ulen + ESP_HLEN + ivlen, hlen);
	skb_reset_network_header(skb);
	if (hlen && prevoff < 0)
		ip_hdr(skb)->protocol = ulen ? IPPROTO_UDP : IPPROTO_ESP;
	else if (hlen)
		skb->data[prevoff] = ulen ? IPPROTO_UDP : IPPROTO_ESP;
	if (ulen)
		kipsec_encap_push(sa, (struct udphdr *)(skb->data + hlen),
				  skb->len - hlen);
	esph = (struct ip_esp_hdr *)(skb->data + hlen + ulen);
	esph->spi = sa->id.spi;
	esph->seq_no = htonl(lower_32_bits(seq));

	iv = esp_tmp_iv(tmp);
	if (ivlen) {
		if (c->block_bytes > 4) {
			get_random_bytes(iv, ivlen);
		} else {
			__be64 s = cpu_to_be64(seq);

			memset(iv, 0, ivlen);
			memcpy(iv + ivlen - sizeof(s), &s, sizeof(s));
		}
		memcpy(esph->enc_data, iv, ivlen);
	}

	req = esp_tmp_req(tmp);
	aead_request_set_tfm(req, c->aead);
	sg = esp_tmp_sg(req);
	adlen = esp_set_sg(skb, sg, nfrags + 1, hlen + ulen,
			   ESP_HLEN + ivlen + clen + c->icv_bytes, tmp, seq, esn);
	if (unlikely(adlen < 0)) {
		kfree(tmp);
		return adlen;
	}

	if (outer_len) {
		memcpy(skb_push(skb, outer_len), outer, outer_len);
		skb_reset_network_header(skb);
	}
	cb->esp_off = outer_len + hlen;

	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
				  esp_output_cb, skb);
	aead_request_set_crypt(req, sg, sg, clen, iv);
	aead_request_set_ad(req, adlen + ivlen);
	cb->tmp = tmp;

	err = crypto_aead_encrypt(req);
	if (err == -EINPROGRESS || err == -EBUSY)
		return 0;
	kfree(tmp);
	kipsec_output_done(skb, err);
	return 0;
}

static KIPSEC_CRYPTO_DONE(esp_input_cb, data)
{
	struct sk_buff *skb = KIPSEC_CRYPTO_DATA(data);

	if (err == -EINPROGRESS)
		return;
	kfree(kipsec_cb(skb)->tmp);
	kipsec_input_done(skb, err);
}

/**
 * kipsec_esp_input() - verify and decrypt an ESP packet in place
 * @skb: the packet, skb->data at the outer IP header; kipsec_cb(skb) has
 *	@sa, @esp_off and @seq (from the replay check) set
 *
 * kipsec_input_done() is called once, synchronously or from the crypto
 * completion, with -EBADMSG if the ICV did not verify.
 *
 * Return: 0 if the packet was handed on, or a negative errno (-EINVAL:
 * truncated): the caller still owns @skb.
 */
int kipsec_esp_input(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	struct kipsec_sa_crypto *c = &sa->crypto;
	unsigned int ivlen = c->iv_bytes, off = cb->esp_off;
	bool esn = sa->flags & KIPSEC_SA_F_ESN;
	struct aead_request *req;
	struct ip_esp_hdr *esph;
	struct sk_buff *trailer;
	struct scatterlist *sg;
	int elen, nfrags, adlen, err;
	void *tmp;

	elen = skb->len - off - ESP_HLEN - ivlen - c->icv_bytes;
	if (elen < 2 || elen % esp_block(sa))
		return -EINVAL;
	if (!pskb_may_pull(skb, off + ESP_HLEN + ivlen))
		return -EINVAL;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	tmp = esp_alloc_tmp(c->aead, nfrags + 1);
	if (!tmp)
		return -ENOMEM;

	esph = (struct ip_esp_hdr *)(skb->data + off);
	memcpy(esp_tmp_iv(tmp), esph->enc_data, ivlen);

	req = esp_tmp_req(tmp);
	aead_request_set_tfm(req, c->aead);
	sg = esp_tmp_sg(req);
	adlen = esp_set_sg(skb, sg, nfrags + 1, off,
			   ESP_HLEN + ivlen + elen + c->icv_bytes, tmp, cb->seq,
			   esn);
	if (unlikely(adlen < 0)) {
		kfree(tmp);
		return adlen;
	}

	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_BACKLOG,
				  esp_input_cb, skb);
	aead_request_set_crypt(req, sg, sg, elen + c->icv_bytes,
			       esp_tmp_iv(tmp));
	aead_request_set_ad(req, adlen + ivlen);
	cb->tmp = tmp;

	err = crypto_aead_decrypt(req);
	if (err == -EINPROGRESS || err == -EBUSY)
		return 0;
	kfree(tmp);
	kipsec_input_done(skb, err);
	return 0;
}

/**
 * kipsec_esp_strip() - remove the ESP trailer of a decrypted packet
 * @skb: the packet as kipsec_esp_input() left it
 *
 * Checks the pad length and the padding content (1, 2, 3, ... as
 * RFC 4303 2.4 says the receiver SHOULD), trims padding, trailer and ICV,
 * and pulls the outer headers up to the payload in tunnel mode, or moves
 * the IP header up to it in transport mode (the caller rewrites the
 * protocol and lengths). ESP header and IV are gone afterwards.
 *
 * Return: the next header, or -EBADMSG for bad padding.
 */
int kipsec_esp_strip(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	struct kipsec_sa *sa = cb->sa;
	unsigned int ivlen = sa->crypto.iv_bytes;
	unsigned int icv = sa->crypto.icv_bytes;
	unsigned int hlen = cb->esp_off;
	unsigned int start = hlen + ESP_HLEN + ivlen;
	u8 trl[2], pad[256];
	unsigned int i, tlen;

	if (skb_copy_bits(skb, skb->len - icv - 2, trl, 2))
		return -EBADMSG;
	tlen = trl[0] + 2 + icv;
	if (skb->len < start + tlen)
		return -EBADMSG;
	if (trl[0]) {
		if (skb_copy_bits(skb, skb->len - tlen, pad, trl[0]))
			return -EBADMSG;
		for (i = 0; i < trl[0]; i++)
			if (pad[i] != (u8)(i + 1))
				return -EBADMSG;
	}
	if (pskb_trim(skb, skb->len - tlen))
		return -EBADMSG;

	if (sa->mode == KIPSEC_MODE_TUNNEL) {
		__skb_pull(skb, start);
	} else {
		memmove(skb->data + ESP_HLEN + ivlen, skb->data, hlen);
		__skb_pull(skb, ESP_HLEN + ivlen);
	}
	skb_reset_network_header(skb);
	return trl[1];
}
