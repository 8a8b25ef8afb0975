/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The algorithm table (names, key, IV and ICV sizes), validation of the
 * algorithms of an SA and allocation of its crypto transforms.
 */

#ifndef _KIPSEC_CRYPTO_H
#define _KIPSEC_CRYPTO_H

#include <linux/netlink.h>
#include <linux/types.h>
#include "kipsec.h"

struct crypto_aead;
struct crypto_ahash;

#define KIPSEC_ALG_MAX_KEYS	3
#define KIPSEC_ALG_MAX_ICVS	3
#define KIPSEC_GMAC_SALT_BYTES	4

/**
 * struct kipsec_alg_desc - one algorithm kipsec accepts
 * @name: crypto API name, as `ip xfrm` spells it
 * @kind: enum kipsec_alg_kind
 * @nkeys: number of entries in @key_bytes
 * @key_bytes: accepted key lengths in bytes, salt or nonce included
 * @salt_bytes: trailing salt/nonce bytes of the key
 * @iv_bytes: IV carried in each ESP packet
 * @block_bytes: ESP padding block
 * @nicvs: number of entries in @icv_bits
 * @icv_bits: ICV lengths the RFCs allow
 * @default_icv_bits: ICV length when none is given
 * @digest_bits: untruncated output (bound for non-standard truncation)
 * @ah: usable with AH
 */
struct kipsec_alg_desc {
	const char *name;
	u8 kind;
	u8 nkeys;
	u8 key_bytes[KIPSEC_ALG_MAX_KEYS];
	u8 salt_bytes;
	u8 iv_bytes;
	u8 block_bytes;
	u8 nicvs;
	u16 icv_bits[KIPSEC_ALG_MAX_ICVS];
	u16 default_icv_bits;
	u16 digest_bits;
	bool ah;
};

/**
 * struct kipsec_alg_cfg - an algorithm chosen for an SA, with its key
 * @desc: the table entry, NULL when the SA has no algorithm of this kind
 * @key_len: bytes in @key
 * @icv_bits: ICV length (AEAD, auth)
 * @key: key material, wiped when the SA is freed
 */
struct kipsec_alg_cfg {
	const struct kipsec_alg_desc *desc;
	u16 key_len;
	u16 icv_bits;
	u8 key[KIPSEC_MAX_KEY_BYTES];
};

/**
 * struct kipsec_sa_crypto - the transforms of an SA
 * @aead: ESP (AEAD, authenc or authencesn), or AH with GMAC (plain
 *	gcm(aes), keyed without the salt)
 * @ahash: AH with an HMAC, XCBC or CMAC
 * @iv_bytes: IV bytes per packet (AH: 8 with GMAC, else 0)
 * @block_bytes: ESP padding block
 * @icv_bytes: ICV bytes per packet
 * @salt: AH with GMAC: the salt, first part of the nonce (RFC 4543 3.2)
 */
struct kipsec_sa_crypto {
	struct crypto_aead *aead;
	struct crypto_ahash *ahash;
	u8 iv_bytes;
	u8 block_bytes;
	u8 icv_bytes;
	u8 salt[KIPSEC_GMAC_SALT_BYTES];
};

/**
 * struct kipsec_alg_attrs - netlink attributes to blame in extack messages
 * @name: KIPSEC_ALG_A_NAME
 * @key: KIPSEC_ALG_A_KEY
 * @icv: KIPSEC_ALG_A_ICV_BITS
 */
struct kipsec_alg_attrs {
	const struct nlattr *name;
	const struct nlattr *key;
	const struct nlattr *icv;
};

extern const struct kipsec_alg_desc kipsec_algs[];
extern const unsigned int kipsec_algs_count;

const struct kipsec_alg_desc *kipsec_alg_find(const char *name);
bool kipsec_alg_available(const struct kipsec_alg_desc *desc);
int kipsec_alg_validate(struct kipsec_alg_cfg *cfg, const char *name,
			u8 kind, u8 proto, u32 sa_flags, const u8 *key,
			unsigned int key_len, u32 icv_bits,
			const struct kipsec_alg_attrs *attrs,
			struct netlink_ext_ack *extack);
int kipsec_crypto_init(struct kipsec_sa_crypto *c, u8 proto, bool esn,
		       const struct kipsec_alg_cfg *aead,
		       const struct kipsec_alg_cfg *crypt,
		       const struct kipsec_alg_cfg *auth,
		       struct netlink_ext_ack *extack);
void kipsec_crypto_destroy(struct kipsec_sa_crypto *c);
void kipsec_alg_cfg_wipe(struct kipsec_alg_cfg *cfg);

#ifdef KIPSEC_DEBUG
bool kipsec_crypto_selftest(void);
#endif

#endif /* _KIPSEC_CRYPTO_H */
