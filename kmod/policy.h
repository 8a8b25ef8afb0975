/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The security policy database (SPD): policies per direction, looked up by
 * packet flow with a tuple-space search over (source, destination) prefix
 * lengths in use.
 */

#ifndef _KIPSEC_POLICY_H
#define _KIPSEC_POLICY_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/xarray.h>

#include "kipsec.h"

struct kipsec_sad;
struct kipsec_sa;

/**
 * struct kipsec_pol_pcpu_stats - per-CPU counters of a policy
 * @hits: packets that matched
 * @drops: packets the policy caused to be dropped
 * @syncp: 64-bit consistency on 32-bit hosts
 */
struct kipsec_pol_pcpu_stats {
	u64_stats_t hits;
	u64_stats_t drops;
	struct u64_stats_sync syncp;
};

struct kipsec_pcpu_block;
struct kipsec_spd_class;
struct kipsec_spd_bucket;

/**
 * struct kipsec_policy - a security policy
 * @bnode: entry in its bucket, sorted by (@priority, @seq)
 * @stats: per-CPU counters
 * @priority: lower wins
 * @dir: enum kipsec_dir
 * @action: enum kipsec_action
 * @ntmpls: templates in use (PROTECT: at least one)
 * @sel: the selector
 * @tmpls: templates, innermost first
 * @seq: insertion order: ties in @priority go to the older policy
 * @bucket: the bucket (masked source and destination)
 * @class: the (source, destination) prefix length class
 * @stats_block: the block @stats comes from (kipsec_pcpu_free())
 * @acquire_next: jiffies before which no ACQUIRE is sent (datapath)
 * @id: identifier, for get/update/delete
 * @refcnt: references; the SPD holds one while linked
 * @rcu: deferred free
 *
 * Laid out for the packet path (the cache is cache-line aligned): a lookup
 * compares @priority and @sel, a match reads @action, @ntmpls, the first
 * template and @stats, all in the first two cache lines; nothing here is
 * written per packet. @seq is read only to break a tie in @priority.
 */
struct kipsec_policy {
	struct hlist_node bnode;
	struct kipsec_pol_pcpu_stats __percpu *stats;
	u32 priority;
	u8 dir;
	u8 action;
	u8 ntmpls;
	struct kipsec_sel sel;
	struct kipsec_tmpl tmpls[KIPSEC_MAX_TMPLS];
	u64 seq;
	struct kipsec_spd_bucket *bucket;
	struct kipsec_spd_class *class;
	struct kipsec_pcpu_block *stats_block;
	unsigned long acquire_next;
	u32 id;
	refcount_t refcnt;
	struct rcu_head rcu;
};

#define KIPSEC_SPD_FAMILIES 2	/* AF_INET, AF_INET6 */

/**
 * struct kipsec_spd - the SPD of one namespace
 * @classes: per direction and family, the RCU list of prefix-length classes
 *	(never freed before the SPD: see policy.c)
 * @ids: policies by id
 * @next_id: cyclic id allocation hint
 * @lock: serialises writers; readers use RCU
 * @seq: insertion counter
 * @gen: generation, bumped on every change (dump consistency)
 * @count: policies in the SPD
 * @npols: policies per direction and family; read locklessly by the
 *	datapath (kipsec_spd_idle())
 */
struct kipsec_spd {
	struct hlist_head classes[__KIPSEC_DIR_MAX][KIPSEC_SPD_FAMILIES];
	struct xarray ids;
	u32 next_id;
	struct mutex lock; /* writers; readers use RCU */
	u64 seq;
	unsigned int gen;
	unsigned int count;
	unsigned int npols[__KIPSEC_DIR_MAX][KIPSEC_SPD_FAMILIES];
};

/**
 * kipsec_spd_idle() - whether a direction has no policy for a family
 * @spd: the SPD
 * @dir: enum kipsec_dir
 * @family: AF_INET or AF_INET6
 *
 * For the hooks, which then pass a packet without parsing it when the
 * default action lets it pass, as the native stack skips its policy
 * checks while it has no policy: traffic of a namespace that uses kipsec
 * in one direction or family only, or not at all, pays nothing for it.
 * Lockless: a policy being added applies from the next packet on, as it
 * would had the packet's lookup run just before the add.
 *
 * Return: true if no policy of @dir and @family exists.
 */
static inline bool kipsec_spd_idle(const struct kipsec_spd *spd, u8 dir,
				   u16 family)
{
	return !READ_ONCE(spd->npols[dir][family == AF_INET ? 0 : 1]);
}

/**
 * struct kipsec_resolution - what the datapath does with a flow
 * @verdict: enum kipsec_verdict
 * @policy: the matching policy, or NULL (default action)
 * @nsa: SAs found, one per template applied
 * @sa: the SAs (outermost last), valid under RCU
 * @reason: short human-readable reason
 */
struct kipsec_resolution {
	u8 verdict;
	struct kipsec_policy *policy;
	u8 nsa;
	struct kipsec_sa *sa[KIPSEC_MAX_TMPLS];
	const char *reason;
};

void kipsec_spd_init(struct kipsec_spd *spd);
void kipsec_spd_destroy(struct kipsec_spd *spd);

struct kipsec_policy *kipsec_policy_alloc(void);
void kipsec_policy_put(struct kipsec_policy *pol);

static inline void kipsec_policy_hold(struct kipsec_policy *pol)
{
	refcount_inc(&pol->refcnt);
}

/* Datapath: count a packet that matched @pol, and whether it was dropped. */
static inline void kipsec_policy_count(struct kipsec_policy *pol, bool drop)
{
	struct kipsec_pol_pcpu_stats *s = get_cpu_ptr(pol->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_inc(&s->hits);
	if (drop)
		u64_stats_inc(&s->drops);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(pol->stats);
}

int kipsec_sel_check(struct kipsec_sel *sel, struct netlink_ext_ack *extack);
int kipsec_spd_add(struct kipsec_spd *spd, struct kipsec_policy *pol,
		   struct netlink_ext_ack *extack);
int kipsec_spd_replace(struct kipsec_spd *spd, struct kipsec_policy *pol,
		       u32 id, struct kipsec_policy **old,
		       struct netlink_ext_ack *extack);
struct kipsec_policy *kipsec_spd_find(struct kipsec_spd *spd, u8 dir,
				      const struct kipsec_sel *sel,
				      bool match_prio, u32 priority);
struct kipsec_policy *kipsec_spd_del(struct kipsec_spd *spd, u32 id);
unsigned int kipsec_spd_flush(struct kipsec_spd *spd, int dir);

struct kipsec_policy *kipsec_policy_lookup_rcu(struct kipsec_spd *spd, u8 dir,
					       const struct kipsec_flow *flow);
void kipsec_policy_resolve(struct kipsec_spd *spd, struct kipsec_sad *sad,
			   u8 default_action, u8 dir,
			   const struct kipsec_flow *flow,
			   struct kipsec_resolution *res);
void kipsec_policy_stats_fold(const struct kipsec_policy *pol, u64 *hits,
			      u64 *drops);

#ifdef KIPSEC_DEBUG
bool kipsec_policy_selftest(bool bench);
#endif

#endif /* _KIPSEC_POLICY_H */
