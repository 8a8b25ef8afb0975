// SPDX-License-Identifier: GPL-2.0
/*
 * Algorithm validation self-tests (debug build, #included by crypto.c):
 * accepted and refused names, key lengths, ICV lengths, RFC 8221 MUST NOTs.
 */

struct ct_case {
	const char *name;
	u8 kind;
	u8 proto;
	u32 flags;
	unsigned int key_len;
	u32 icv_bits;
	int err;
	u32 want_icv;
};

#define AEAD KIPSEC_ALG_KIND_AEAD
#define CRYPT KIPSEC_ALG_KIND_CRYPT
#define AUTH KIPSEC_ALG_KIND_AUTH
#define ESP IPPROTO_ESP
#define AH IPPROTO_AH
#define NONSTD KIPSEC_SA_F_NONSTD_TRUNC

static const struct ct_case ct_cases[] = {
	{ "rfc4106(gcm(aes))", AEAD, ESP, 0, 20, 0, 0, 128 },
	{ "rfc4106(gcm(aes))", AEAD, ESP, 0, 36, 64, 0, 64 },
	{ "rfc4106(gcm(aes))", AEAD, ESP, 0, 28, 96, 0, 96 },
	{ "rfc4106(gcm(aes))", AEAD, ESP, 0, 16, 128, -EINVAL },
	{ "rfc4106(gcm(aes))", AEAD, ESP, 0, 20, 112, -EINVAL },
	{ "rfc4106(gcm(aes))", AEAD, ESP, NONSTD, 20, 112, -EINVAL },
	{ "rfc4106(gcm(aes))", AEAD, AH, 0, 20, 128, -EINVAL },
	{ "rfc4309(ccm(aes))", AEAD, ESP, 0, 19, 0, 0, 128 },
	{ "rfc4309(ccm(aes))", AEAD, ESP, 0, 20, 0, -EINVAL },
	{ "rfc4543(gcm(aes))", AEAD, AH, 0, 20, 0, 0, 128 },
	{ "rfc4543(gcm(aes))", AEAD, ESP, 0, 36, 128, 0, 128 },
	{ "rfc4543(gcm(aes))", AEAD, ESP, 0, 36, 96, -EINVAL },
	{ "rfc7539esp(chacha20,poly1305)", AEAD, ESP, 0, 36, 0, 0, 128 },
	{ "rfc7539esp(chacha20,poly1305)", AEAD, ESP, 0, 32, 0, -EINVAL },
	{ "rfc7539esp(chacha20,poly1305)", AEAD, ESP, 0, 36, 96, -EINVAL },
	{ "cbc(aes)", CRYPT, ESP, 0, 16, 0, 0, 0 },
	{ "cbc(aes)", CRYPT, ESP, 0, 32, 0, 0, 0 },
	{ "cbc(aes)", CRYPT, ESP, 0, 20, 0, -EINVAL },
	{ "cbc(aes)", CRYPT, ESP, 0, 16, 96, -EINVAL },
	{ "cbc(aes)", AUTH, ESP, 0, 16, 0, -EINVAL },
	{ "rfc3686(ctr(aes))", CRYPT, ESP, 0, 20, 0, 0, 0 },
	{ "rfc3686(ctr(aes))", CRYPT, ESP, 0, 16, 0, -EINVAL },
	{ "ecb(cipher_null)", CRYPT, ESP, 0, 0, 0, 0, 0 },
	{ "hmac(sha1)", AUTH, ESP, 0, 20, 0, 0, 96 },
	{ "hmac(sha1)", AUTH, AH, 0, 20, 160, -EINVAL },
	{ "hmac(sha1)", AUTH, AH, NONSTD, 20, 160, 0, 160 },
	{ "hmac(sha256)", AUTH, ESP, 0, 32, 0, 0, 128 },
	{ "hmac(sha256)", AUTH, ESP, 0, 32, 96, -EINVAL },
	{ "hmac(sha256)", AUTH, ESP, NONSTD, 32, 96, 0, 96 },
	{ "hmac(sha256)", AUTH, ESP, NONSTD, 32, 264, -EINVAL },
	{ "hmac(sha256)", AUTH, ESP, NONSTD, 32, 100, -EINVAL },
	{ "hmac(sha256)", AUTH, ESP, 0, 16, 0, -EINVAL },
	{ "hmac(sha384)", AUTH, ESP, 0, 48, 0, 0, 192 },
	{ "hmac(sha512)", AUTH, AH, 0, 64, 256, 0, 256 },
	{ "xcbc(aes)", AUTH, AH, 0, 16, 0, 0, 96 },
	{ "cmac(aes)", AUTH, ESP, 0, 16, 96, 0, 96 },
	{ "cmac(aes)", AUTH, ESP, 0, 16, 128, -EINVAL },
	{ "cbc(des)", CRYPT, ESP, 0, 8, 0, -EINVAL },
	{ "cbc(des3_ede)", CRYPT, ESP, 0, 24, 0, -EINVAL },
	{ "hmac(md5)", AUTH, AH, 0, 16, 0, -EINVAL },
	{ "ecb(aes)", CRYPT, ESP, 0, 16, 0, -EOPNOTSUPP },
	{ "hmac(sha224)", AUTH, ESP, 0, 28, 0, -EOPNOTSUPP },
	{ "", AUTH, ESP, 0, 0, 0, -EOPNOTSUPP },
};

/**
 * kipsec_crypto_selftest() - run the algorithm validation self-tests
 *
 * Return: true if every case gave the expected result.
 */
bool kipsec_crypto_selftest(void)
{
	static const u8 key[KIPSEC_MAX_KEY_BYTES];
	struct kipsec_alg_cfg *cfg;
	bool ok = true;
	unsigned int i;
	int err;

	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return false;
	for (i = 0; i < ARRAY_SIZE(ct_cases); i++) {
		const struct ct_case *c = &ct_cases[i];

		memset(cfg, 0, sizeof(*cfg));
		err = kipsec_alg_validate(cfg, c->name, c->kind, c->proto,
					  c->flags, key, c->key_len,
					  c->icv_bits, NULL, NULL);
		if (err != c->err || (!err && cfg->icv_bits != c->want_icv)) {
			pr_err("crypto self-test %u (%s): got %d/%u, expected %d/%u\n",
			       i, c->name, err, cfg->icv_bits, c->err,
			       c->want_icv);
			ok = false;
		}
	}
	kfree(cfg);

	for (i = 0; i < kipsec_algs_count; i++) {
		if (strlen(kipsec_algs[i].name) >= KIPSEC_MAX_ALG_NAME ||
		    (kipsec_algs[i].kind != KIPSEC_ALG_KIND_CRYPT &&
		     !kipsec_algs[i].nicvs)) {
			pr_err("crypto self-test: bad table entry %s\n",
			       kipsec_algs[i].name);
			ok = false;
		}
	}

	if (ok)
		pr_info("crypto self-tests: pass\n");
	else
		pr_err("crypto self-tests: fail\n");
	return ok;
}
