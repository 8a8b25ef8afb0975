// SPDX-License-Identifier: GPL-2.0
/*
 * Memory of SAs and policies. Each has a slab cache of its exact size
 * (kmalloc would round an SA up to 2 KiB and a policy to 512 bytes), and
 * per-CPU counters taken from blocks of KIPSEC_PCPU_BLOCK objects.
 */

#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/string.h>

#include "mem.h"
#include "policy.h"
#include "sa.h"

struct kmem_cache *kipsec_sa_cache __read_mostly;
struct kmem_cache *kipsec_policy_cache __read_mostly;

struct kipsec_pcpu_pool kipsec_sa_stats_pool;
struct kipsec_pcpu_pool kipsec_pol_stats_pool;

static void pool_init(struct kipsec_pcpu_pool *pool, size_t size,
		      size_t align)
{
	spin_lock_init(&pool->lock);
	INIT_LIST_HEAD(&pool->partial);
	pool->size = size;	/* sizeof() is a multiple of the alignment */
	pool->align = align;
	pool->nblocks = 0;
}

static struct kipsec_pcpu_block *block_alloc(struct kipsec_pcpu_pool *pool)
{
	struct kipsec_pcpu_block *b;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return NULL;
	b->base = __alloc_percpu(pool->size * KIPSEC_PCPU_BLOCK, pool->align);
	if (!b->base) {
		kfree(b);
		return NULL;
	}
	b->pool = pool;
	return b;
}

static void block_free(struct kipsec_pcpu_block *b)
{
	free_percpu(b->base);
	kfree(b);
}

/**
 * kipsec_pcpu_alloc() - allocate one zeroed per-CPU object from a pool
 * @pool: the pool
 * @blockp: set to the object's block, which kipsec_pcpu_free() needs
 *
 * Process context (may sleep).
 *
 * Return: the object, or NULL.
 */
void __percpu *kipsec_pcpu_alloc(struct kipsec_pcpu_pool *pool,
				 struct kipsec_pcpu_block **blockp)
{
	struct kipsec_pcpu_block *b;
	void __percpu *p;
	unsigned int i;
	int cpu;

	might_sleep();
	spin_lock_bh(&pool->lock);
	b = list_first_entry_or_null(&pool->partial, struct kipsec_pcpu_block,
				     node);
	if (!b) {
		spin_unlock_bh(&pool->lock);
		b = block_alloc(pool);
		if (!b)
			return NULL;
		spin_lock_bh(&pool->lock);
		list_add(&b->node, &pool->partial);
		pool->nblocks++;
	}
	i = ffz(b->used);
	b->used |= BIT(i);
	if (!~b->used)
		list_del_init(&b->node);
	spin_unlock_bh(&pool->lock);

	p = (char __percpu *)b->base + i * pool->size;
	for_each_possible_cpu(cpu)
		memset(per_cpu_ptr(p, cpu), 0, pool->size);
	*blockp = b;
	return p;
}

/**
 * kipsec_pcpu_free() - return a per-CPU object to its pool
 * @block: the block kipsec_pcpu_alloc() gave, or NULL (nothing to free)
 * @p: the object
 *
 * A block left empty is freed unless it is the pool's only one with room,
 * so that a count going back and forth across a block boundary does not
 * allocate and free a block each time. Process or softirq context.
 */
void kipsec_pcpu_free(struct kipsec_pcpu_block *block, void __percpu *p)
{
	struct kipsec_pcpu_pool *pool;
	bool release = false;
	unsigned long off;
	unsigned int i;

	if (!block)
		return;
	pool = block->pool;
	off = (__force unsigned long)p - (__force unsigned long)block->base;
	i = off / pool->size;
	if (WARN_ON_ONCE(off % pool->size || i >= KIPSEC_PCPU_BLOCK))
		return;

	spin_lock_bh(&pool->lock);
	if (WARN_ON_ONCE(!(block->used & BIT(i)))) {
		spin_unlock_bh(&pool->lock);
		return;
	}
	if (!~block->used)
		list_add(&block->node, &pool->partial);
	block->used &= ~BIT(i);
	if (!block->used && !list_is_singular(&pool->partial)) {
		list_del(&block->node);
		pool->nblocks--;
		release = true;
	}
	spin_unlock_bh(&pool->lock);
	if (release)
		block_free(block);
}

/* Module unload: every object is back, so every block is empty. */
static void pool_destroy(struct kipsec_pcpu_pool *pool)
{
	struct kipsec_pcpu_block *b, *tmp;

	list_for_each_entry_safe(b, tmp, &pool->partial, node) {
		if (WARN_ON_ONCE(b->used))
			continue;	/* leak rather than free memory in use */
		list_del(&b->node);
		pool->nblocks--;
		block_free(b);
	}
	WARN_ON_ONCE(pool->nblocks);
}

/**
 * kipsec_mem_init() - set up the per-CPU pools and create the slab caches
 *
 * Return: 0 or -ENOMEM.
 */
int kipsec_mem_init(void)
{
	pool_init(&kipsec_sa_stats_pool, sizeof(struct kipsec_sa_pcpu_stats),
		  __alignof__(struct kipsec_sa_pcpu_stats));
	pool_init(&kipsec_pol_stats_pool, sizeof(struct kipsec_pol_pcpu_stats),
		  __alignof__(struct kipsec_pol_pcpu_stats));
	kipsec_sa_cache = KMEM_CACHE(kipsec_sa, SLAB_HWCACHE_ALIGN);
	if (!kipsec_sa_cache)
		return -ENOMEM;
	kipsec_policy_cache = KMEM_CACHE(kipsec_policy, SLAB_HWCACHE_ALIGN);
	if (!kipsec_policy_cache) {
		kmem_cache_destroy(kipsec_sa_cache);
		return -ENOMEM;
	}
	return 0;
}

/**
 * kipsec_mem_exit() - free the pools and the caches
 *
 * Every SA and policy must be freed already (RCU callbacks and deferred
 * frees drained).
 */
void kipsec_mem_exit(void)
{
	pool_destroy(&kipsec_sa_stats_pool);
	pool_destroy(&kipsec_pol_stats_pool);
	kmem_cache_destroy(kipsec_policy_cache);
	kmem_cache_destroy(kipsec_sa_cache);
}

#ifdef KIPSEC_DEBUG
#include "selftest/mem.c"
#endif
