// SPDX-License-Identifier: GPL-2.0
/*
 * SAD self-tests (debug build, #included by sa.c): add, lookup, duplicate,
 * outbound template lookup preferring the newest valid SA, delete, GETSPI
 * and flush. SAs here carry no transforms.
 */

#include <linux/inet.h>

struct st_sa {
	u32 spi;
	u8 proto;
	u16 family;
	const char *src;
	const char *dst;
	u8 mode;
	u32 reqid;
};

static const struct st_sa st_sas[] = {
	/* 0 */ { 0x1000, IPPROTO_ESP, AF_INET, "10.0.0.1", "10.0.0.2",
		  KIPSEC_MODE_TRANSPORT, 0 },
	/* 1: same SPI and destination, other protocol */
	{ 0x1000, IPPROTO_AH, AF_INET, "10.0.0.1", "10.0.0.2",
	  KIPSEC_MODE_TRANSPORT, 0 },
	/* 2, 3: two tunnel SAs of reqid 7 (a rekey), 3 is newer */
	{ 0x2000, IPPROTO_ESP, AF_INET, "192.0.2.1", "198.51.100.1",
	  KIPSEC_MODE_TUNNEL, 7 },
	{ 0x3000, IPPROTO_ESP, AF_INET, "192.0.2.1", "198.51.100.1",
	  KIPSEC_MODE_TUNNEL, 7 },
	/* 4: IPv6 */
	{ 0x1000, IPPROTO_ESP, AF_INET6, "2001:db8::1", "2001:db8::2",
	  KIPSEC_MODE_TRANSPORT, 0 },
};

static bool st_addr(u16 family, const char *s, union kipsec_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET)
		return in4_pton(s, -1, a->b, -1, NULL);
	return in6_pton(s, -1, a->b, -1, NULL);
}

static void st_cfg(const struct st_sa *s, struct kipsec_sa_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->id.spi = cpu_to_be32(s->spi);
	cfg->id.proto = s->proto;
	cfg->id.family = s->family;
	cfg->src_family = s->family;
	st_addr(s->family, s->src, &cfg->saddr);
	st_addr(s->family, s->dst, &cfg->id.daddr);
	cfg->mode = s->mode;
	cfg->reqid = s->reqid;
	cfg->present = BIT_ULL(KIPSEC_SA_A_SRC);
}

/* An SA without transforms, made VALID for the table tests. */
static struct kipsec_sa *st_make(const struct st_sa *s,
				 struct kipsec_sa_cfg *cfg)
{
	struct kipsec_sa *sa;

	st_cfg(s, cfg);
	sa = kipsec_sa_create(cfg, true, NULL);
	if (IS_ERR(sa))
		return NULL;
	sa->state = KIPSEC_SA_STATE_VALID;
	return sa;
}

#define ST_CHECK(cond, what)	KIPSEC_ST_CHECK(ok, "sa", cond, what)

static struct kipsec_sa *st_find(struct kipsec_sad *sad, u32 reqid)
{
	struct kipsec_tmpl t = {
		.proto = IPPROTO_ESP,
		.mode = KIPSEC_MODE_TUNNEL,
		.family = AF_INET,
		.reqid = reqid,
	};
	struct kipsec_flow flow = { .family = AF_INET };
	struct kipsec_sa *sa;

	st_addr(AF_INET, "192.0.2.1", &t.saddr);
	st_addr(AF_INET, "198.51.100.1", &t.daddr);
	rcu_read_lock();
	sa = kipsec_sa_find_outbound_rcu(sad, &t, &flow, NULL);
	rcu_read_unlock();
	return sa;
}

/**
 * kipsec_sa_selftest() - run the SAD self-tests
 *
 * Return: true if every test passed.
 */
bool kipsec_sa_selftest(void)
{
	struct kipsec_sa *sas[ARRAY_SIZE(st_sas)] = {};
	struct kipsec_sa *sa, *larval[4] = {};
	struct kipsec_sa_cfg *cfg;
	struct kipsec_sad *sad;
	union kipsec_addr a;
	bool ok = true;
	unsigned int i;

	sad = kzalloc(sizeof(*sad), GFP_KERNEL);
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!sad || !cfg || kipsec_sad_init(sad)) {
		kfree(cfg);
		kfree(sad);
		return false;
	}

	for (i = 0; i < ARRAY_SIZE(st_sas); i++) {
		sas[i] = st_make(&st_sas[i], cfg);
		ST_CHECK(sas[i] && !kipsec_sad_add(sad, sas[i], NULL), "add");
		if (!sas[i])
			goto out;
	}
	ST_CHECK(sad->count == ARRAY_SIZE(st_sas), "count after add");

	sa = st_make(&st_sas[0], cfg);
	ST_CHECK(sa && kipsec_sad_add(sad, sa, NULL) == -EEXIST,
		 "duplicate (SPI, dst, proto) refused");
	kipsec_sa_put(sa);

	rcu_read_lock();
	st_addr(AF_INET, "10.0.0.2", &a);
	ST_CHECK(kipsec_sa_lookup_rcu(sad, cpu_to_be32(0x1000), &a, AF_INET,
				      IPPROTO_ESP) == sas[0], "lookup ESP");
	ST_CHECK(kipsec_sa_lookup_rcu(sad, cpu_to_be32(0x1000), &a, AF_INET,
				      IPPROTO_AH) == sas[1], "lookup AH");
	ST_CHECK(!kipsec_sa_lookup_rcu(sad, cpu_to_be32(0x1001), &a, AF_INET,
				       IPPROTO_ESP), "lookup unknown SPI");
	ST_CHECK(!kipsec_sa_lookup_rcu(sad, cpu_to_be32(0x1000), &a, AF_INET6,
				       IPPROTO_ESP), "lookup other family");
	st_addr(AF_INET6, "2001:db8::2", &a);
	ST_CHECK(kipsec_sa_lookup_rcu(sad, cpu_to_be32(0x1000), &a, AF_INET6,
				      IPPROTO_ESP) == sas[4], "lookup IPv6");
	rcu_read_unlock();

	/* Outbound: newest valid SA of the reqid, valid before dying. */
	ST_CHECK(st_find(sad, 7) == sas[3], "reqid: newest valid");
	ST_CHECK(st_find(sad, 0) == sas[3], "any reqid: newest valid");
	ST_CHECK(!st_find(sad, 8), "other reqid: none");
	WRITE_ONCE(sas[3]->state, KIPSEC_SA_STATE_DYING);
	ST_CHECK(st_find(sad, 7) == sas[2], "reqid: valid before dying");
	WRITE_ONCE(sas[2]->state, KIPSEC_SA_STATE_DYING);
	ST_CHECK(st_find(sad, 7) == sas[3], "reqid: newest dying");
	WRITE_ONCE(sas[2]->state, KIPSEC_SA_STATE_VALID);
	WRITE_ONCE(sas[3]->state, KIPSEC_SA_STATE_VALID);

	sa = kipsec_sad_del(sad, &sas[3]->id);
	ST_CHECK(sa == sas[3] && sa->state == KIPSEC_SA_STATE_DEAD, "delete");
	kipsec_sa_put(sa);
	ST_CHECK(!kipsec_sad_del(sad, &sas[3]->id), "delete twice");
	ST_CHECK(st_find(sad, 7) == sas[2], "reqid after delete");

	/* GETSPI: four SPIs in [0x5000, 0x5003], then the range is full. */
	st_cfg(&st_sas[0], cfg);
	for (i = 0; i < ARRAY_SIZE(larval); i++) {
		ST_CHECK(!kipsec_sad_getspi(sad, cfg, 0x5000, 0x5003,
					    &larval[i], NULL), "getspi");
		if (!larval[i])
			goto out;
		ST_CHECK(larval[i]->state == KIPSEC_SA_STATE_LARVAL &&
			 be32_to_cpu(larval[i]->id.spi) >= 0x5000 &&
			 be32_to_cpu(larval[i]->id.spi) <= 0x5003,
			 "getspi range");
	}
	ST_CHECK(kipsec_sad_getspi(sad, cfg, 0x5000, 0x5003, &sa, NULL) ==
		 -ENOSPC, "getspi on a full range");
	ST_CHECK(kipsec_sad_getspi(sad, cfg, 1, 300, &sa, NULL) == -EINVAL,
		 "getspi below 256");

	/* Completing a larval SA needs algorithms. */
	cfg->id = larval[0]->id;
	ST_CHECK(kipsec_sad_update(sad, cfg, &sa, NULL) == -EINVAL,
		 "larval update without algorithms refused");
	ST_CHECK(larval[0]->state == KIPSEC_SA_STATE_LARVAL,
		 "larval SA unchanged by a refused update");

	ST_CHECK(kipsec_sad_flush(sad, IPPROTO_AH) == 1, "flush AH");
	ST_CHECK(kipsec_sad_flush(sad, 0) == 3 + ARRAY_SIZE(larval),
		 "flush all");
	ST_CHECK(sad->count == 0, "count after flush");

out:
	/* The table held its own references; these are the creator's. */
	for (i = 0; i < ARRAY_SIZE(sas); i++)
		kipsec_sa_put(sas[i]);
	for (i = 0; i < ARRAY_SIZE(larval); i++)
		kipsec_sa_put(larval[i]);
	kipsec_sad_destroy(sad);
	kfree(sad);
	kfree_sensitive(cfg);
	if (ok)
		pr_info("sa self-tests: pass\n");
	else
		pr_err("sa self-tests: fail\n");
	return ok;
}
