/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory of SAs and policies: their slab caches, and their per-CPU
 * counters carved out of shared per-CPU blocks.
 */

#ifndef _KIPSEC_MEM_H
#define _KIPSEC_MEM_H

#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

/**
 * struct kipsec_pcpu_pool - per-CPU objects of one size, allocated in blocks
 * @lock: protects @partial and the blocks' @used maps; taken with BH off
 *	(objects are freed from RCU callbacks)
 * @partial: blocks with at least one free object
 * @size: bytes per object (a multiple of @align)
 * @align: alignment of each object
 * @nblocks: blocks allocated
 *
 * One alloc_percpu() per object costs a search of the per-CPU allocator's
 * maps under its global lock with interrupts off: at 100k policies that
 * was an eighth of the install time. A pool asks it once per
 * KIPSEC_PCPU_BLOCK objects instead. The datapath sees an ordinary per-CPU
 * pointer.
 */
struct kipsec_pcpu_pool {
	spinlock_t lock; /* @partial, blocks' used maps */
	struct list_head partial;
	size_t size;
	size_t align;
	unsigned int nblocks;
};

/* Objects per block. */
#define KIPSEC_PCPU_BLOCK	BITS_PER_LONG

/**
 * struct kipsec_pcpu_block - KIPSEC_PCPU_BLOCK per-CPU objects
 * @node: in the pool's partial list while not full
 * @base: the first object
 * @used: bit i set while object i is allocated
 * @pool: the pool
 */
struct kipsec_pcpu_block {
	struct list_head node;
	void __percpu *base;
	unsigned long used;
	struct kipsec_pcpu_pool *pool;
};

extern struct kmem_cache *kipsec_sa_cache;
extern struct kmem_cache *kipsec_policy_cache;
extern struct kipsec_pcpu_pool kipsec_sa_stats_pool;
extern struct kipsec_pcpu_pool kipsec_pol_stats_pool;

void __percpu *kipsec_pcpu_alloc(struct kipsec_pcpu_pool *pool,
				 struct kipsec_pcpu_block **blockp);
void kipsec_pcpu_free(struct kipsec_pcpu_block *block, void __percpu *p);

int kipsec_mem_init(void);
void kipsec_mem_exit(void);

#ifdef KIPSEC_DEBUG
bool kipsec_mem_selftest(void);
#endif

#endif /* _KIPSEC_MEM_H */
