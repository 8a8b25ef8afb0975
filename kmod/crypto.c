// SPDX-License-Identifier: GPL-2.0
/*
 * The algorithms kipsec accepts (RFC 8221 subset, named as the crypto API and
 * `ip xfrm` name them), their validation, and the transforms of an SA.
 */

#include <crypto/aead.h>
#include <crypto/authenc.h>
#include <crypto/hash.h>
#include <linux/crypto.h>
#include <linux/in.h>
#include <linux/moduleparam.h>
#include <linux/rtnetlink.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "compat.h"
#include "crypto.h"

const struct kipsec_alg_desc kipsec_algs[] = {
	{
		.name = "rfc4106(gcm(aes))", .kind = KIPSEC_ALG_KIND_AEAD,
		.nkeys = 3, .key_bytes = { 20, 28, 36 }, .salt_bytes = 4,
		.iv_bytes = 8, .block_bytes = 4,
		.nicvs = 3, .icv_bits = { 64, 96, 128 },
		.default_icv_bits = 128, .digest_bits = 128,
	}, {
		.name = "rfc4309(ccm(aes))", .kind = KIPSEC_ALG_KIND_AEAD,
		.nkeys = 3, .key_bytes = { 19, 27, 35 }, .salt_bytes = 3,
		.iv_bytes = 8, .block_bytes = 4,
		.nicvs = 3, .icv_bits = { 64, 96, 128 },
		.default_icv_bits = 128, .digest_bits = 128,
	}, {
		.name = "rfc4543(gcm(aes))", .kind = KIPSEC_ALG_KIND_AEAD,
		.nkeys = 3, .key_bytes = { 20, 28, 36 }, .salt_bytes = 4,
		.iv_bytes = 8, .block_bytes = 4,
		.nicvs = 1, .icv_bits = { 128 },
		.default_icv_bits = 128, .digest_bits = 128, .ah = true,
	}, {
		.name = "rfc7539esp(chacha20,poly1305)",
		.kind = KIPSEC_ALG_KIND_AEAD,
		.nkeys = 1, .key_bytes = { 36 }, .salt_bytes = 4,
		.iv_bytes = 8, .block_bytes = 4,
		.nicvs = 1, .icv_bits = { 128 },
		.default_icv_bits = 128, .digest_bits = 128,
	}, {
		.name = "cbc(aes)", .kind = KIPSEC_ALG_KIND_CRYPT,
		.nkeys = 3, .key_bytes = { 16, 24, 32 },
		.iv_bytes = 16, .block_bytes = 16,
	}, {
		.name = "rfc3686(ctr(aes))", .kind = KIPSEC_ALG_KIND_CRYPT,
		.nkeys = 3, .key_bytes = { 20, 28, 36 }, .salt_bytes = 4,
		.iv_bytes = 8, .block_bytes = 4,
	}, {
		.name = "ecb(cipher_null)", .kind = KIPSEC_ALG_KIND_CRYPT,
		.nkeys = 1, .key_bytes = { 0 },
		.iv_bytes = 0, .block_bytes = 4,
	}, {
		.name = "hmac(sha1)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 20 },
		.nicvs = 1, .icv_bits = { 96 },
		.default_icv_bits = 96, .digest_bits = 160, .ah = true,
	}, {
		.name = "hmac(sha256)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 32 },
		.nicvs = 1, .icv_bits = { 128 },
		.default_icv_bits = 128, .digest_bits = 256, .ah = true,
	}, {
		.name = "hmac(sha384)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 48 },
		.nicvs = 1, .icv_bits = { 192 },
		.default_icv_bits = 192, .digest_bits = 384, .ah = true,
	}, {
		.name = "hmac(sha512)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 64 },
		.nicvs = 1, .icv_bits = { 256 },
		.default_icv_bits = 256, .digest_bits = 512, .ah = true,
	}, {
		.name = "xcbc(aes)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 16 },
		.nicvs = 1, .icv_bits = { 96 },
		.default_icv_bits = 96, .digest_bits = 128, .ah = true,
	}, {
		.name = "cmac(aes)", .kind = KIPSEC_ALG_KIND_AUTH,
		.nkeys = 1, .key_bytes = { 16 },
		.nicvs = 1, .icv_bits = { 96 },
		.default_icv_bits = 96, .digest_bits = 128, .ah = true,
	},
};

const unsigned int kipsec_algs_count = ARRAY_SIZE(kipsec_algs);

/**
 * kipsec_alg_find() - look an algorithm up by its crypto API name
 * @name: the name
 *
 * Return: the table entry, or NULL if kipsec does not support it.
 */
const struct kipsec_alg_desc *kipsec_alg_find(const char *name)
{
	unsigned int i;

	for (i = 0; i < kipsec_algs_count; i++)
		if (!strcmp(kipsec_algs[i].name, name))
			return &kipsec_algs[i];
	return NULL;
}

/*
 * RFC 8221 section 5/6: DES, 3DES and MD5 are MUST NOT. Match them as a
 * component of a template name ("cbc(des3_ede)", "hmac(md5)") so that a
 * clear refusal replaces a generic "unknown algorithm".
 */
static bool alg_forbidden(const char *name)
{
	static const char * const bad[] = { "des", "des3_ede", "md5" };
	const char *p = name;

	while (*p) {
		size_t len = strcspn(p, "(),");
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(bad); i++)
			if (len == strlen(bad[i]) && !strncmp(p, bad[i], len))
				return true;
		p += len;
		if (*p)
			p++;
	}
	return false;
}

/**
 * kipsec_alg_available() - whether the running kernel's crypto API has it
 * @desc: the algorithm
 *
 * May load crypto modules; process context only.
 *
 * Return: true if a transform could be allocated.
 */
bool kipsec_alg_available(const struct kipsec_alg_desc *desc)
{
	switch (desc->kind) {
	case KIPSEC_ALG_KIND_AEAD:
		return crypto_has_alg(desc->name, CRYPTO_ALG_TYPE_AEAD,
				      CRYPTO_ALG_TYPE_MASK);
	case KIPSEC_ALG_KIND_CRYPT:
		return crypto_has_alg(desc->name, CRYPTO_ALG_TYPE_SKCIPHER,
				      CRYPTO_ALG_TYPE_MASK);
	default:
		return crypto_has_ahash(desc->name, 0, 0);
	}
}

static bool icv_allowed(const struct kipsec_alg_desc *desc, u32 bits,
			u32 sa_flags)
{
	unsigned int i;

	for (i = 0; i < desc->nicvs; i++)
		if (desc->icv_bits[i] == bits)
			return true;
	/*
	 * Other truncations only on request, and only for integrity
	 * algorithms: AEAD tag sizes are fixed by their RFCs.
	 */
	return (sa_flags & KIPSEC_SA_F_NONSTD_TRUNC) &&
	       desc->kind == KIPSEC_ALG_KIND_AUTH &&
	       bits >= 32 && bits <= desc->digest_bits && !(bits % 8);
}

/**
 * kipsec_alg_validate() - check a requested algorithm and fill @cfg
 * @cfg: filled on success
 * @name: the requested crypto API name
 * @kind: the attribute it was given in (enum kipsec_alg_kind)
 * @proto: IPPROTO_ESP or IPPROTO_AH
 * @sa_flags: KIPSEC_SA_F_* of the SA (truncation policy)
 * @key: key material (salt/nonce last)
 * @key_len: bytes in @key
 * @icv_bits: requested ICV length, 0 for the default
 * @attrs: attributes to blame in extack messages (may be NULL)
 * @extack: extended ACK
 *
 * Return: 0 or a negative errno with an extack message.
 */
int kipsec_alg_validate(struct kipsec_alg_cfg *cfg, const char *name,
			u8 kind, u8 proto, u32 sa_flags, const u8 *key,
			unsigned int key_len, u32 icv_bits,
			const struct kipsec_alg_attrs *attrs,
			struct netlink_ext_ack *extack)
{
	const struct nlattr *a_name = attrs ? attrs->name : NULL;
	const struct nlattr *a_icv = attrs ? attrs->icv : NULL;
	const struct nlattr *a_key = attrs ? attrs->key : NULL;
	const struct kipsec_alg_desc *desc;
	unsigned int i;

	if (alg_forbidden(name)) {
		NL_SET_ERR_MSG_ATTR(extack, a_name,
				    "DES, 3DES and MD5 are forbidden by RFC 8221 (MUST NOT)");
		return -EINVAL;
	}
	desc = kipsec_alg_find(name);
	if (!desc) {
		NL_SET_ERR_MSG_ATTR(extack, a_name,
				    "unknown algorithm (see kipsec algs)");
		return -EOPNOTSUPP;
	}
	if (desc->kind != kind) {
		NL_SET_ERR_MSG_ATTR(extack, a_name,
				    "algorithm given in the wrong attribute (aead, crypt or auth)");
		return -EINVAL;
	}
	if (proto == IPPROTO_AH && !desc->ah) {
		NL_SET_ERR_MSG_ATTR(extack, a_name, "algorithm not usable with AH");
		return -EINVAL;
	}

	/*
	 * The formatted messages below must fit NETLINK_MAX_FMTMSG_LEN (80,
	 * "kipsec: " included) or the kernel truncates them: the longest
	 * name is rfc7539esp(chacha20,poly1305), and the attribute policies
	 * keep keys and ICV lengths to three digits (genl_fuzz.sh checks).
	 */
	for (i = 0; i < desc->nkeys; i++)
		if (desc->key_bytes[i] == key_len)
			break;
	if (i == desc->nkeys) {
		KIPSEC_ERR_FMT(extack,
			       "wrong key length for the algorithm (salt/nonce included)",
			       "%s: %u-byte key invalid (incl. salt/nonce)",
			       desc->name, key_len);
		NL_SET_BAD_ATTR(extack, a_key ?: a_name);
		return -EINVAL;
	}

	if (desc->kind != KIPSEC_ALG_KIND_CRYPT) {
		if (!icv_bits)
			icv_bits = desc->default_icv_bits;
		if (!icv_allowed(desc, icv_bits, sa_flags)) {
			KIPSEC_ERR_FMT(extack,
				       "ICV length not allowed for the algorithm",
				       "%s: %u-bit ICV not allowed (default %u)",
				       desc->name, icv_bits,
				       desc->default_icv_bits);
			NL_SET_BAD_ATTR(extack, a_icv ?: a_name);
			return -EINVAL;
		}
	} else if (icv_bits) {
		NL_SET_ERR_MSG_ATTR(extack, a_icv, "a cipher has no ICV length");
		return -EINVAL;
	}

	cfg->desc = desc;
	cfg->key_len = key_len;
	cfg->icv_bits = icv_bits;
	memcpy(cfg->key, key, key_len);
	return 0;
}

/**
 * kipsec_alg_cfg_wipe() - forget the key of an algorithm configuration
 * @cfg: the configuration
 */
void kipsec_alg_cfg_wipe(struct kipsec_alg_cfg *cfg)
{
	memzero_explicit(cfg->key, sizeof(cfg->key));
	cfg->key_len = 0;
}

#ifdef KIPSEC_DEBUG
/*
 * Debug knob: wrap every transform in pcrypt() so that requests complete
 * asynchronously (from padata's serial worker), as the aesni AEADs may do
 * on real hardware but rarely under TCG. pcrypt rather than cryptd: the
 * cryptd AEAD of 6.1 fails the crypto manager's self-test (it changes the
 * caller's request), which WARNs.
 */
static bool kipsec_async;
module_param_named(async, kipsec_async, bool, 0644);
MODULE_PARM_DESC(async, "debug: allocate ESP transforms as pcrypt(...) to run the async completion path");

/*
 * A pcrypt instance keeps the name of the algorithm it wraps (only its
 * driver name says pcrypt), so it is requested by the driver name of the
 * implementation that the plain name resolved to. Once it exists it has
 * the higher priority, and the plain name resolves to it.
 */
static struct crypto_aead *wrap_pcrypt(struct crypto_aead *tfm)
{
	const char *drv = crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm));
	char name[CRYPTO_MAX_ALG_NAME];

	if (!strncmp(drv, "pcrypt(", 7))
		return tfm;
	if (snprintf(name, sizeof(name), "pcrypt(%s)", drv) >= sizeof(name)) {
		crypto_free_aead(tfm);
		return ERR_PTR(-ENAMETOOLONG);
	}
	crypto_free_aead(tfm);
	return crypto_alloc_aead(name, 0, 0);
}
#endif

static struct crypto_aead *alloc_aead(const char *name, const u8 *key,
				      unsigned int key_len, unsigned int icv,
				      struct netlink_ext_ack *extack)
{
	struct crypto_aead *tfm;
	int err;

	tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "algorithm not available in the running kernel");
		return tfm;
	}
#ifdef KIPSEC_DEBUG
	if (kipsec_async)
		tfm = wrap_pcrypt(tfm);
	if (IS_ERR(tfm)) {
		NL_SET_ERR_MSG_MOD(extack, "debug: cannot wrap the transform in pcrypt()");
		return tfm;
	}
#endif
	err = crypto_aead_setkey(tfm, key, key_len);
	if (!err)
		err = crypto_aead_setauthsize(tfm, icv);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "crypto API refused the key or ICV length");
		crypto_free_aead(tfm);
		return ERR_PTR(err);
	}
	return tfm;
}

/*
 * authenc()/authencesn() take one key blob: an rtattr carrying the cipher
 * key length, then the authentication key, then the cipher key
 * (crypto/authenc.c, crypto_authenc_extractkeys()).
 */
static struct crypto_aead *alloc_authenc(bool esn,
					 const struct kipsec_alg_cfg *crypt,
					 const struct kipsec_alg_cfg *auth,
					 struct netlink_ext_ack *extack)
{
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_authenc_key_param *param;
	struct crypto_aead *tfm;
	unsigned int len;
	struct rtattr *rta;
	u8 *blob, *p;

	if (snprintf(name, sizeof(name), "%s(%s,%s)",
		     esn ? "authencesn" : "authenc", auth->desc->name,
		     crypt->desc->name) >= sizeof(name)) {
		NL_SET_ERR_MSG_MOD(extack, "algorithm names too long");
		return ERR_PTR(-ENAMETOOLONG);
	}

	len = RTA_SPACE(sizeof(*param)) + auth->key_len + crypt->key_len;
	blob = kmalloc(len, GFP_KERNEL);
	if (!blob)
		return ERR_PTR(-ENOMEM);
	rta = (struct rtattr *)blob;
	rta->rta_type = CRYPTO_AUTHENC_KEYA_PARAM;
	rta->rta_len = RTA_LENGTH(sizeof(*param));
	param = RTA_DATA(rta);
	param->enckeylen = cpu_to_be32(crypt->key_len);
	p = blob + RTA_SPACE(sizeof(*param));
	memcpy(p, auth->key, auth->key_len);
	memcpy(p + auth->key_len, crypt->key, crypt->key_len);

	tfm = alloc_aead(name, blob, len, auth->icv_bits / 8, extack);
	kfree_sensitive(blob);
	return tfm;
}

/**
 * kipsec_crypto_init() - allocate and key the transforms of an SA
 * @c: zeroed; filled on success
 * @proto: IPPROTO_ESP or IPPROTO_AH
 * @esn: the SA uses extended sequence numbers
 * @aead: AEAD algorithm, or one with a NULL desc
 * @crypt: cipher (ESP), or one with a NULL desc (null encryption)
 * @auth: integrity algorithm, or one with a NULL desc
 * @extack: extended ACK
 *
 * The combination must already be validated (one of @aead or @auth set).
 * Process context: may sleep and load crypto modules.
 *
 * Return: 0 or a negative errno with an extack message.
 */
int kipsec_crypto_init(struct kipsec_sa_crypto *c, u8 proto, bool esn,
		       const struct kipsec_alg_cfg *aead,
		       const struct kipsec_alg_cfg *crypt,
		       const struct kipsec_alg_cfg *auth,
		       struct netlink_ext_ack *extack)
{
	struct kipsec_alg_cfg null_crypt = {};
	struct crypto_ahash *ahash;
	struct crypto_aead *tfm;
	int err;

	if (aead->desc && proto == IPPROTO_AH) {
		/*
		 * rfc4543() takes ESP-sized associated data only: AH uses
		 * gcm(aes) itself, the whole packet as associated data, and
		 * builds the nonce (salt, then the IV) per packet.
		 */
		tfm = alloc_aead("gcm(aes)", aead->key,
				 aead->key_len - KIPSEC_GMAC_SALT_BYTES,
				 aead->icv_bits / 8, extack);
		if (IS_ERR(tfm))
			return PTR_ERR(tfm);
		c->aead = tfm;
		c->iv_bytes = aead->desc->iv_bytes;
		c->icv_bytes = aead->icv_bits / 8;
		memcpy(c->salt, aead->key + aead->key_len - KIPSEC_GMAC_SALT_BYTES,
		       KIPSEC_GMAC_SALT_BYTES);
		return 0;
	}
	if (aead->desc) {
		tfm = alloc_aead(aead->desc->name, aead->key, aead->key_len,
				 aead->icv_bits / 8, extack);
		if (IS_ERR(tfm))
			return PTR_ERR(tfm);
		c->aead = tfm;
		c->iv_bytes = aead->desc->iv_bytes;
		c->block_bytes = aead->desc->block_bytes;
		c->icv_bytes = aead->icv_bits / 8;
		return 0;
	}

	if (proto == IPPROTO_AH) {
		ahash = crypto_alloc_ahash(auth->desc->name, 0, 0);
		if (IS_ERR(ahash)) {
			NL_SET_ERR_MSG_MOD(extack,
					   "algorithm not available in the running kernel");
			return PTR_ERR(ahash);
		}
		err = crypto_ahash_setkey(ahash, auth->key, auth->key_len);
		if (err) {
			NL_SET_ERR_MSG_MOD(extack, "crypto API refused the key");
			crypto_free_ahash(ahash);
			return err;
		}
		c->ahash = ahash;
		c->icv_bytes = auth->icv_bits / 8;
		return 0;
	}

	/* ESP with integrity only: RFC 4303 null encryption (RFC 2410). */
	if (!crypt->desc) {
		null_crypt.desc = kipsec_alg_find("ecb(cipher_null)");
		crypt = &null_crypt;
	}
	tfm = alloc_authenc(esn, crypt, auth, extack);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	c->aead = tfm;
	c->iv_bytes = crypt->desc->iv_bytes;
	c->block_bytes = crypt->desc->block_bytes;
	c->icv_bytes = auth->icv_bits / 8;
	return 0;
}

/**
 * kipsec_crypto_destroy() - free the transforms of an SA
 * @c: the transforms; no request may be in flight
 *
 * The crypto API wipes the expanded keys when it frees a transform; the
 * GMAC salt kept here is wiped too.
 */
void kipsec_crypto_destroy(struct kipsec_sa_crypto *c)
{
	crypto_free_aead(c->aead);
	crypto_free_ahash(c->ahash);
	c->aead = NULL;
	c->ahash = NULL;
	memzero_explicit(c->salt, sizeof(c->salt));
}

#ifdef KIPSEC_DEBUG
#include "selftest/crypto.c"
#endif
