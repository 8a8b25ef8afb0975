// SPDX-License-Identifier: GPL-2.0
/*
 * Self-tests of the per-CPU pools; included at the end of mem.c in the
 * debug build. A private pool of odd-sized objects: objects never
 * overlap (each carries its own tag on every CPU), come back zeroed when
 * reused, and blocks are freed once empty except for one spare.
 */

#include <linux/slab.h>

#define MT_CHECK(cond, what)	KIPSEC_ST_CHECK(ok, "mem", cond, what)

struct mt_obj {
	u64 tag;
	u32 more[3];
};

#define MT_N	(3 * KIPSEC_PCPU_BLOCK + 5)

static bool mt_zero(void __percpu *p)
{
	int cpu;

	for_each_possible_cpu(cpu)
		if (memchr_inv(per_cpu_ptr(p, cpu), 0, sizeof(struct mt_obj)))
			return false;
	return true;
}

/**
 * kipsec_mem_selftest() - run the per-CPU pool self-tests
 *
 * Return: true if every test passed.
 */
bool kipsec_mem_selftest(void)
{
	struct kipsec_pcpu_block **blk;
	struct kipsec_pcpu_pool pool;
	struct mt_obj __percpu **o;
	bool ok = true;
	unsigned int i;
	int cpu;

	o = kcalloc(MT_N, sizeof(*o), GFP_KERNEL);
	blk = kcalloc(MT_N, sizeof(*blk), GFP_KERNEL);
	if (!o || !blk) {
		kfree(o);
		kfree(blk);
		return false;
	}
	pool_init(&pool, sizeof(struct mt_obj), __alignof__(struct mt_obj));

	for (i = 0; i < MT_N; i++) {
		o[i] = kipsec_pcpu_alloc(&pool, &blk[i]);
		if (!o[i]) {
			MT_CHECK(false, "allocation");
			goto out;
		}
		MT_CHECK(mt_zero(o[i]), "new object zeroed");
		for_each_possible_cpu(cpu)
			per_cpu_ptr(o[i], cpu)->tag = (u64)i << 16 | cpu;
	}
	MT_CHECK(pool.nblocks == DIV_ROUND_UP(MT_N, KIPSEC_PCPU_BLOCK),
		 "blocks in use");
	for (i = 0; i < MT_N; i++)
		for_each_possible_cpu(cpu)
			MT_CHECK(per_cpu_ptr(o[i], cpu)->tag == ((u64)i << 16 | cpu),
				 "objects do not overlap");

	/* Every other object, then the rest: blocks go back when empty. */
	for (i = 0; i < MT_N; i += 2) {
		kipsec_pcpu_free(blk[i], o[i]);
		o[i] = NULL;
	}
	for (i = 0; i < MT_N; i += 2) {
		o[i] = kipsec_pcpu_alloc(&pool, &blk[i]);
		MT_CHECK(o[i] && mt_zero(o[i]), "reused object zeroed");
	}
	MT_CHECK(pool.nblocks == DIV_ROUND_UP(MT_N, KIPSEC_PCPU_BLOCK),
		 "freed objects reused before a new block");
	for (i = 0; i < MT_N; i++) {
		kipsec_pcpu_free(blk[i], o[i]);
		o[i] = NULL;
	}
	MT_CHECK(pool.nblocks == 1, "empty blocks freed but one");

	/* Across a block boundary and back: the spare block stays. */
	for (i = 0; i <= KIPSEC_PCPU_BLOCK; i++)
		o[i] = kipsec_pcpu_alloc(&pool, &blk[i]);
	for (i = 0; i < 3; i++) {
		kipsec_pcpu_free(blk[KIPSEC_PCPU_BLOCK], o[KIPSEC_PCPU_BLOCK]);
		o[KIPSEC_PCPU_BLOCK] = kipsec_pcpu_alloc(&pool,
							 &blk[KIPSEC_PCPU_BLOCK]);
		MT_CHECK(pool.nblocks == 2, "boundary: two blocks");
	}
out:
	for (i = 0; i < MT_N; i++)
		if (o[i])
			kipsec_pcpu_free(blk[i], o[i]);
	pool_destroy(&pool);
	kfree(o);
	kfree(blk);
	return ok;
}
