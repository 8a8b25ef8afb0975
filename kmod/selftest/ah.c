// SPDX-License-Identifier: GPL-2.0
/*
 * AH ICV self-tests (debug build, #included at the end of ah.c), through
 * kipsec's own ICV path: transforms made by kipsec_crypto_init() as for an
 * SA, the scatterlist, ESN and GMAC nonce handling of ah_icv(), and for
 * whole packets ah_prepare()'s zeroing of mutable fields.
 *
 * ah_vecs: published vectors, the message as the whole ICV input and the
 * MAC truncated to kipsec's ICV length. The empty messages of RFC 3566
 * and RFC 4494 are left out: an AH ICV input is never empty.
 *
 * ah_kats: whole AH packets (IPv4 options, a tunnel-mode packet, IPv6
 * hop-by-hop and destination options, ESN, GMAC with 64-bit padding after
 * IPv6) and their ICV, computed by selftests/vectors/ah_vectors.py with
 * python3-cryptography and its own RFC 4302 3.3.3.1 zeroing. Each is
 * computed as output, verified as input, and must fail verification with
 * one payload bit flipped and pass with the TTL / hop limit changed.
 *
 * `selftests/vectors/ah_vectors.py check` recomputes both tables on the
 * host, so a typo in a value cannot pass.
 */

#include <linux/completion.h>
#include <linux/kernel.h>

struct ah_vec {
	const char *name;
	const char *alg;
	const char *key;
	const char *msg;
	unsigned int zeros;	/* then this many zero bytes */
	const char *nonce;	/* GMAC: salt (the key's tail) and IV */
	const char *icv;	/* truncated to kipsec's ICV length */
};

static const struct ah_vec ah_vecs[] = {
	/* RFC 2202 section 3, HMAC-SHA-1 test cases 1 and 2 (96 bits) */
	{
		.name = "RFC 2202 3 #1", .alg = "hmac(sha1)",
		.key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.msg = "4869205468657265",
		.icv = "b617318655057264e28bc0b6",
	},
	{
		.name = "RFC 2202 3 #2", .alg = "hmac(sha1)",
		.key = "4a656665",
		.msg = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		.icv = "effcdf6ae5eb2fa2d27416d5",
	},
	/* RFC 4231 section 4.2 and 4.3, test cases 1 and 2 (RFC 4868 lengths) */
	{
		.name = "RFC 4231 4.2 SHA-256", .alg = "hmac(sha256)",
		.key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.msg = "4869205468657265",
		.icv = "b0344c61d8db38535ca8afceaf0bf12b",
	},
	{
		.name = "RFC 4231 4.2 SHA-384", .alg = "hmac(sha384)",
		.key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.msg = "4869205468657265",
		.icv = "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6",
	},
	{
		.name = "RFC 4231 4.2 SHA-512", .alg = "hmac(sha512)",
		.key = "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		.msg = "4869205468657265",
		.icv =
			"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde",
	},
	{
		.name = "RFC 4231 4.3 SHA-256", .alg = "hmac(sha256)",
		.key = "4a656665",
		.msg = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		.icv = "5bdcc146bf60754e6a042426089575c7",
	},
	{
		.name = "RFC 4231 4.3 SHA-384", .alg = "hmac(sha384)",
		.key = "4a656665",
		.msg = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		.icv = "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47",
	},
	{
		.name = "RFC 4231 4.3 SHA-512", .alg = "hmac(sha512)",
		.key = "4a656665",
		.msg = "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
		.icv =
			"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554",
	},
	/* RFC 3566 section 4.6, AES-XCBC-MAC-96 test cases 2 to 7 */
	{
		.name = "RFC 3566 4.6 #2", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg = "000102",
		.icv = "5b376580ae2f19afe7219cee",
	},
	{
		.name = "RFC 3566 4.6 #3", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg = "000102030405060708090a0b0c0d0e0f",
		.icv = "d2a246fa349b68a79998a439",
	},
	{
		.name = "RFC 3566 4.6 #4", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg = "000102030405060708090a0b0c0d0e0f10111213",
		.icv = "47f51b4564966215b8985c63",
	},
	{
		.name = "RFC 3566 4.6 #5", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg =
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		.icv = "f54f0ec8d2b9f3d36807734b",
	},
	{
		.name = "RFC 3566 4.6 #6", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg =
			"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021",
		.icv = "becbb3bccdb518a30677d548",
	},
	{
		.name = "RFC 3566 4.6 #7", .alg = "xcbc(aes)",
		.key = "000102030405060708090a0b0c0d0e0f",
		.msg = "", .zeros = 1000,
		.icv = "f0dafee895db30253761103b",
	},
	/* RFC 4494 section 4 (the RFC 4493 examples), AES-CMAC-96 */
	{
		.name = "RFC 4494 4 len 16", .alg = "cmac(aes)",
		.key = "2b7e151628aed2a6abf7158809cf4f3c",
		.msg = "6bc1bee22e409f96e93d7e117393172a",
		.icv = "070a16b46b4d4144f79bdd9d",
	},
	{
		.name = "RFC 4494 4 len 40", .alg = "cmac(aes)",
		.key = "2b7e151628aed2a6abf7158809cf4f3c",
		.msg =
			"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411",
		.icv = "dfa66747de9ae63030ca3261",
	},
	{
		.name = "RFC 4494 4 len 64", .alg = "cmac(aes)",
		.key = "2b7e151628aed2a6abf7158809cf4f3c",
		.msg =
			"6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
		.icv = "51f0bebf7e3b9d92fc497417",
	},
	/*
	 * NIST CAVP gcmEncryptExtIV128.rsp, [Keylen = 128] [IVlen = 96]
	 * [PTlen = 0] [AADlen = 128] [Taglen = 128], Count 0 and 1: GCM with
	 * associated data only, which is GMAC. The key is the AES key then
	 * the salt (the IV's first 4 bytes), as an rfc4543 SA takes it.
	 */
	{
		.name = "NIST GCM AAD-only #0", .alg = "rfc4543(gcm(aes))",
		.key =
			"77be63708971c4e240d1cb79e8d77febe0e00f19",
		.nonce = "e0e00f19fed7ba0136a797f3",
		.msg = "7a43ec1d9c0a5a78a0b16533a6213cab",
		.icv = "209fcc8d3675ed938e9c7166709dd946",
	},
	{
		.name = "NIST GCM AAD-only #1", .alg = "rfc4543(gcm(aes))",
		.key =
			"7680c5d3ca6154758e510f4d25b98820f8f105f9",
		.nonce = "f8f105f9c3df4965780321f8",
		.msg = "c94c410194c765e3dcc7964379758ed3",
		.icv = "94dca8edfcf90bb74b153c8d48a17930",
	},
};

struct ah_kat {
	const char *name;
	const char *alg;
	u64 seq;
	bool esn;
	unsigned int ah_off;
	const char *key;
	const char *pkt;	/* as sent, ICV field zero */
	const char *icv;
};

static const struct ah_kat ah_kats[] = {
	{
		.name = "IPv4 options, hmac(sha1)", .alg = "hmac(sha1)",
		.seq = 0x1, .esn = false, .ah_off = 32,
		.key = "a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4",
		.pkt =
			"48b80050123440003f33beef0a0001010a000201940400000707040a000101000104000000001001000000010000000000000000000000000800f7ff000100016b697073656320414820766563746f72",
		.icv = "17e454c119da27fa13665d58",
	},
	{
		.name = "IPv4 tunnel, ESN, hmac(sha256)", .alg = "hmac(sha256)",
		.seq = 0x100000005, .esn = true, .ah_off = 20,
		.key =
			"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0",
		.pkt =
			"45b80058123440003f33beef0a0001010a0002010405000000001001000000050000000000000000000000000000000045b80028123440003f11beef0a0001010a0002011194119400140000414820746573742064617461",
		.icv = "8c2f2825c2cddc0a1ec89971c9ff8113",
	},
	{
		.name = "IPv6 options headers, hmac(sha384)", .alg = "hmac(sha384)",
		.seq = 0x2, .esn = false, .ah_off = 56,
		.key =
			"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0",
		.pkt =
			"6b812345004c003dfd010000000000000000000000000001fd0200000000000000000000000000013c0005020000010033003e0461626364110800000000100100000002000000000000000000000000000000000000000000000000000000001194119400140000414820746573742064617461",
		.icv = "52f61db558001dcc0a1d171594210f0e5dd2b9a91128f108",
	},
	{
		.name = "IPv6, hmac(sha512)", .alg = "hmac(sha512)",
		.seq = 0x3, .esn = false, .ah_off = 40,
		.key =
			"a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0",
		.pkt =
			"6b8123450044333dfd010000000000000000000000000001fd020000000000000000000000000001110a000000001001000000030000000000000000000000000000000000000000000000000000000000000000000000001194119400140000414820746573742064617461",
		.icv =
			"527275b1d34e4adb143f6331bda5bd6b2509dbb277604e51e1d46435c5add4f2",
	},
	{
		.name = "IPv4 options, xcbc(aes)", .alg = "xcbc(aes)",
		.seq = 0x4, .esn = false, .ah_off = 32,
		.key = "0102030405060708090a0b0c0d0e0f10",
		.pkt =
			"48b80050123440003f33beef0a0001010a000201940400000707040a000101000104000000001001000000040000000000000000000000000800f7ff000100016b697073656320414820766563746f72",
		.icv = "ff83fa6d9e4626cc7d00591f",
	},
	{
		.name = "IPv6 options headers, cmac(aes)", .alg = "cmac(aes)",
		.seq = 0x5, .esn = false, .ah_off = 56,
		.key = "0102030405060708090a0b0c0d0e0f10",
		.pkt =
			"6b812345003c003dfd010000000000000000000000000001fd0200000000000000000000000000013c0005020000010033003e04616263641104000000001001000000050000000000000000000000001194119400140000414820746573742064617461",
		.icv = "c7c0c1b9120e324a2234e03f",
	},
	{
		.name = "IPv4 options, GMAC-128", .alg = "rfc4543(gcm(aes))",
		.seq = 0x7, .esn = false, .ah_off = 32,
		.key = "0102030405060708090a0b0c0d0e0f1011121314",
		.pkt =
			"48b8005c123440003f33beef0a0001010a000201940400000707040a000101000107000000001001000000070000000000000007000000000000000000000000000000000800f7ff000100016b697073656320414820766563746f72",
		.icv = "39c05e785426d8b013d158d2948842b0",
	},
	{
		.name = "IPv6 options headers, ESN, GMAC-256", .alg = "rfc4543(gcm(aes))",
		.seq = 0x200000009, .esn = true, .ah_off = 56,
		.key =
			"0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f2021222324",
		.pkt =
			"6b812345004c003dfd010000000000000000000000000001fd0200000000000000000000000000013c0005020000010033003e0461626364110800000000100100000009000000020000000900000000000000000000000000000000000000001194119400140000414820746573742064617461",
		.icv = "53398862aec7e7b1a9c7b153620058cb",
	},
};

struct ah_st_wait {
	struct completion done;
	int err;
};

static KIPSEC_CRYPTO_DONE(ah_st_done, data)
{
	struct sk_buff *skb = KIPSEC_CRYPTO_DATA(data);
	struct ah_st_wait *w = *(struct ah_st_wait **)skb->cb;

	if (err == -EINPROGRESS)
		return;
	w->err = err;
	complete(&w->done);
}

/* A hex string into a new buffer of its length in bytes (@len). */
static u8 *ah_st_hex(const char *hex, unsigned int extra, unsigned int *len)
{
	unsigned int n = strlen(hex) / 2;
	u8 *buf = kzalloc(n + extra + 1, GFP_KERNEL);

	if (buf && hex2bin(buf, hex, n)) {
		kfree(buf);
		return NULL;
	}
	*len = n + extra;
	return buf;
}

/* An SA with just the transform of @alg keyed with @key, as netlink makes it. */
static struct kipsec_sa *ah_st_sa(const char *alg, const u8 *key,
				  unsigned int key_len, unsigned int icv_bytes,
				  bool esn)
{
	struct kipsec_alg_cfg *cfg, *none;
	struct kipsec_sa *sa;
	int err;

	sa = kzalloc(sizeof(*sa), GFP_KERNEL);
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	none = kzalloc(sizeof(*none), GFP_KERNEL);
	if (!sa || !cfg || !none || key_len > sizeof(cfg->key))
		goto fail;
	cfg->desc = kipsec_alg_find(alg);
	if (!cfg->desc)
		goto fail;
	cfg->key_len = key_len;
	cfg->icv_bits = icv_bytes * 8;
	memcpy(cfg->key, key, key_len);
	if (esn)
		sa->flags |= KIPSEC_SA_F_ESN;
	if (cfg->desc->kind == KIPSEC_ALG_KIND_AEAD)
		err = kipsec_crypto_init(&sa->crypto, IPPROTO_AH, esn, cfg,
					 none, none, NULL);
	else
		err = kipsec_crypto_init(&sa->crypto, IPPROTO_AH, esn, none,
					 none, cfg, NULL);
	if (err)
		goto fail;
	kipsec_alg_cfg_wipe(cfg);
	kfree(cfg);
	kfree(none);
	return sa;
fail:
	if (cfg)
		kipsec_alg_cfg_wipe(cfg);
	kfree(cfg);
	kfree(none);
	kfree(sa);
	return NULL;
}

static void ah_st_sa_free(struct kipsec_sa *sa)
{
	kipsec_crypto_destroy(&sa->crypto);
	kfree(sa);
}

/*
 * One ICV computation on @skb: with @hlen >= 0 the whole-packet
 * preparation first (@in: the received ICV is checked), else the bytes as
 * they are, with @iv as the GMAC IV. Returns the crypto result (-EBADMSG:
 * the received ICV did not verify); the ICV computed is in @t, whose
 * allocation the caller frees.
 */
static int ah_st_icv(struct kipsec_sa *sa, struct sk_buff *skb, u64 seq,
		     int hlen, bool in, const u8 *iv, void **tmpp,
		     struct ah_tmp *t)
{
	bool v4 = (skb->data[0] >> 4) == 4;
	struct sk_buff *trailer;
	struct ah_st_wait w;
	int nfrags, err;

	nfrags = skb_cow_data(skb, 0, &trailer);
	if (nfrags < 0)
		return nfrags;
	*tmpp = ah_alloc_tmp(&sa->crypto, max(hlen, 0), nfrags + 2, t);
	if (!*tmpp)
		return -ENOMEM;
	if (hlen >= 0) {
		err = ah_prepare(skb, sa, t, hlen, v4, in);
		if (err)
			return err;
	} else if (iv) {
		ah_set_nonce(sa, t, iv);
	}
	init_completion(&w.done);
	*(struct ah_st_wait **)skb->cb = &w;
	err = ah_icv(skb, sa, t, nfrags, seq, !in, ah_st_done);
	if (err == -EINPROGRESS || err == -EBUSY) {
		wait_for_completion(&w.done);
		err = w.err;
	}
	if (!err && in && sa->crypto.ahash &&
	    crypto_memneq(t->icv, t->ricv, sa->crypto.icv_bytes))
		err = -EBADMSG;
	if (hlen > 0)
		memcpy(skb->data, t->hdr, hlen);
	return err;
}

static struct sk_buff *ah_st_skb(const u8 *data, unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len, GFP_KERNEL);

	if (skb) {
		skb_put_data(skb, data, len);
		skb_reset_network_header(skb);
	}
	return skb;
}

static bool ah_st_vec(const struct ah_vec *v)
{
	unsigned int key_len, msg_len, icv_len, n = 0;
	u8 *key, *msg, *icv, *nonce = NULL;
	struct kipsec_sa *sa = NULL;
	struct sk_buff *skb = NULL;
	void *tmp = NULL;
	struct ah_tmp t;
	bool ok = false;
	int err = -ENOMEM;

	key = ah_st_hex(v->key, 0, &key_len);
	msg = ah_st_hex(v->msg, v->zeros, &msg_len);
	icv = ah_st_hex(v->icv, 0, &icv_len);
	if (v->nonce)
		nonce = ah_st_hex(v->nonce, 0, &n);
	if (!key || !msg || !icv || (v->nonce && !nonce))
		goto out;
	sa = ah_st_sa(v->alg, key, key_len, icv_len, false);
	skb = ah_st_skb(msg, msg_len);
	if (!sa || !skb)
		goto out;
	/* GMAC: the salt kipsec took from the key, then the IV. */
	err = -EINVAL;
	if (nonce && (n != KIPSEC_GMAC_SALT_BYTES + sa->crypto.iv_bytes ||
		      memcmp(nonce, sa->crypto.salt, KIPSEC_GMAC_SALT_BYTES)))
		goto out;
	err = ah_st_icv(sa, skb, 0, -1, false,
			nonce ? nonce + KIPSEC_GMAC_SALT_BYTES : NULL, &tmp, &t);
	if (err)
		goto out;
	ok = !memcmp(t.icv, icv, icv_len);
	if (!ok)
		pr_err("ah self-test %s: ICV %*phN, expected %*phN\n", v->name,
		       icv_len, t.icv, icv_len, icv);
out:
	if (err)
		pr_err("ah self-test %s: error %d\n", v->name, err);
	kfree(tmp);
	kfree_skb(skb);
	if (sa)
		ah_st_sa_free(sa);
	kfree_sensitive(key);
	kfree(msg);
	kfree(icv);
	kfree(nonce);
	return ok;
}

/*
 * One pass of a packet through the ICV path: @in false computes (the ICV
 * into @icv, and the packet must come back unchanged), @in true verifies.
 */
static int ah_st_pkt(struct kipsec_sa *sa, const struct ah_kat *k,
		     const u8 *pkt, unsigned int len, bool in, u8 *icv)
{
	struct sk_buff *skb = ah_st_skb(pkt, len);
	void *tmp = NULL;
	struct ah_tmp t;
	int err;

	if (!skb)
		return -ENOMEM;
	err = ah_st_icv(sa, skb, k->seq, k->ah_off, in, NULL, &tmp, &t);
	if (!err && !in) {
		memcpy(icv, t.icv, sa->crypto.icv_bytes);
		if (memcmp(skb->data, pkt, len))
			err = -EFAULT;
	}
	kfree(tmp);
	kfree_skb(skb);
	return err;
}

static bool ah_st_kat(const struct ah_kat *k)
{
	unsigned int key_len, len, icv_len, at;
	u8 *key, *pkt, *icv, got[32];
	struct kipsec_sa *sa = NULL;
	int err = -ENOMEM, e[3];
	bool ok = false, v4;

	key = ah_st_hex(k->key, 0, &key_len);
	pkt = ah_st_hex(k->pkt, 0, &len);
	icv = ah_st_hex(k->icv, 0, &icv_len);
	if (!key || !pkt || !icv || icv_len > sizeof(got))
		goto out;
	sa = ah_st_sa(k->alg, key, key_len, icv_len, k->esn);
	if (!sa)
		goto out;
	at = k->ah_off + sizeof(struct ip_auth_hdr) + sa->crypto.iv_bytes;
	err = -EINVAL;
	if (at + icv_len > len)
		goto out;

	/* Outbound: the ICV computed over the packet as sent. */
	err = ah_st_pkt(sa, k, pkt, len, false, got);
	if (err)
		goto out;
	if (memcmp(got, icv, icv_len)) {
		pr_err("ah self-test %s: ICV %*phN, expected %*phN\n", k->name,
		       icv_len, got, icv_len, icv);
		goto out;
	}
	/* Inbound: it verifies, one payload bit less does not, a TTL does. */
	memcpy(pkt + at, icv, icv_len);
	e[0] = ah_st_pkt(sa, k, pkt, len, true, NULL);
	pkt[len - 1] ^= 1;
	e[1] = ah_st_pkt(sa, k, pkt, len, true, NULL);
	pkt[len - 1] ^= 1;
	v4 = (pkt[0] >> 4) == 4;
	pkt[v4 ? 8 : 7]--;
	e[2] = ah_st_pkt(sa, k, pkt, len, true, NULL);
	ok = !e[0] && e[1] == -EBADMSG && !e[2];
	if (!ok)
		pr_err("ah self-test %s: verify %d, flipped bit %d, TTL changed %d\n",
		       k->name, e[0], e[1], e[2]);
	err = 0;
out:
	if (err)
		pr_err("ah self-test %s: error %d\n", k->name, err);
	if (sa)
		ah_st_sa_free(sa);
	kfree_sensitive(key);
	kfree(pkt);
	kfree(icv);
	return ok;
}

/**
 * kipsec_ah_selftest() - run the AH ICV self-tests
 *
 * Return: true if every published vector and every packet gave the
 * expected ICV.
 */
bool kipsec_ah_selftest(void)
{
	unsigned int i, fails = 0;

	for (i = 0; i < ARRAY_SIZE(ah_vecs); i++)
		fails += !ah_st_vec(&ah_vecs[i]);
	for (i = 0; i < ARRAY_SIZE(ah_kats); i++)
		fails += !ah_st_kat(&ah_kats[i]);
	if (fails) {
		pr_err("ah self-tests: fail (%u of %zu)\n", fails,
		       ARRAY_SIZE(ah_vecs) + ARRAY_SIZE(ah_kats));
		return false;
	}
	pr_info("ah self-tests: pass\n");
	return true;
}
