// SPDX-License-Identifier: GPL-2.0
/*
 * The SAD: SAs in a resizable hash by (SPI, destination, protocol) for the
 * inbound path, two hash indexes by destination (and reqid) for outbound
 * template lookups, an xarray as a stable dump cursor. RCU readers, one
 * mutex for writers.
 */

#include <linux/bitmap.h>
#include <linux/in.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/ipv6.h>

#include "encap.h"
#include "mem.h"
#include "sa.h"

const u8 kipsec_sa_stat_ids[__KIPSEC_SA_STAT_MAX] = {
	[KIPSEC_SA_STAT_IN_PACKETS] = KIPSEC_STAT_IN_PACKETS,
	[KIPSEC_SA_STAT_IN_BYTES] = KIPSEC_STAT_IN_BYTES,
	[KIPSEC_SA_STAT_OUT_PACKETS] = KIPSEC_STAT_OUT_PACKETS,
	[KIPSEC_SA_STAT_OUT_BYTES] = KIPSEC_STAT_OUT_BYTES,
	[KIPSEC_SA_STAT_IN_REPLAY] = KIPSEC_STAT_IN_REPLAY,
	[KIPSEC_SA_STAT_IN_AUTH_FAIL] = KIPSEC_STAT_IN_AUTH_FAIL,
	[KIPSEC_SA_STAT_IN_BAD_PAD] = KIPSEC_STAT_IN_BAD_PAD,
	[KIPSEC_SA_STAT_IN_BAD_NEXTHDR] = KIPSEC_STAT_IN_BAD_NEXTHDR,
	[KIPSEC_SA_STAT_IN_POLICY_MISMATCH] = KIPSEC_STAT_IN_POLICY_MISMATCH,
	[KIPSEC_SA_STAT_OUT_SEQ_OVERFLOW] = KIPSEC_STAT_OUT_SEQ_OVERFLOW,
	[KIPSEC_SA_STAT_OUT_SA_EXPIRED] = KIPSEC_STAT_OUT_SA_EXPIRED,
	[KIPSEC_SA_STAT_OUT_MTU] = KIPSEC_STAT_OUT_MTU,
	[KIPSEC_SA_STAT_IN_ECN_INVALID] = KIPSEC_STAT_IN_ECN_INVALID,
};

static const struct rhashtable_params sa_id_params = {
	.head_offset = offsetof(struct kipsec_sa, node),
	.key_offset = offsetof(struct kipsec_sa, id),
	.key_len = sizeof(struct kipsec_sa_id),
	.automatic_shrinking = true,
};

static const struct rhashtable_params sa_dst_params = {
	.head_offset = offsetof(struct kipsec_sa, by_dst),
	.key_offset = offsetof(struct kipsec_sa, dkey),
	.key_len = offsetof(struct kipsec_sa_dkey, reqid),
	.automatic_shrinking = true,
};

static const struct rhashtable_params sa_reqid_params = {
	.head_offset = offsetof(struct kipsec_sa, by_reqid),
	.key_offset = offsetof(struct kipsec_sa, dkey),
	.key_len = sizeof(struct kipsec_sa_dkey),
	.automatic_shrinking = true,
};

static void sad_gc_work(struct work_struct *work);
static void sa_lft_work(struct work_struct *work);
static void sad_unlink(struct kipsec_sad *sad, struct kipsec_sa *sa);

/**
 * kipsec_sad_init() - initialise an empty SAD
 * @sad: the SAD
 *
 * Return: 0 or -ENOMEM.
 */
int kipsec_sad_init(struct kipsec_sad *sad)
{
	int err;

	memset(sad, 0, sizeof(*sad));
	mutex_init(&sad->lock);
	INIT_LIST_HEAD(&sad->larval);
	INIT_DELAYED_WORK(&sad->gc, sad_gc_work);
	xa_init_flags(&sad->ids, XA_FLAGS_ALLOC);
	/* Dumps treat a zero sequence as "not set": start at 1. */
	sad->gen = 1;

	err = kipsec_encap_sad_init(sad);
	if (err)
		return err;
	err = rhashtable_init(&sad->by_id, &sa_id_params);
	if (err)
		goto err_id;
	err = rhltable_init(&sad->by_dst, &sa_dst_params);
	if (err)
		goto err_dst;
	err = rhltable_init(&sad->by_reqid, &sa_reqid_params);
	if (err)
		goto err_reqid;
	return 0;

err_reqid:
	rhltable_destroy(&sad->by_dst);
err_dst:
	rhashtable_destroy(&sad->by_id);
err_id:
	kipsec_encap_sad_destroy(sad);
	return err;
}

/**
 * kipsec_sad_destroy() - delete every SA and free the SAD
 * @sad: the SAD; no writer may run concurrently
 */
void kipsec_sad_destroy(struct kipsec_sad *sad)
{
	mutex_lock(&sad->lock);
	sad->dying = true;
	mutex_unlock(&sad->lock);
	cancel_delayed_work_sync(&sad->gc);

	kipsec_sad_flush(sad, 0);
	/* Lifetime works that were running when flushed: let them finish. */
	flush_workqueue(kipsec_wq);
	rhltable_destroy(&sad->by_reqid);
	rhltable_destroy(&sad->by_dst);
	rhashtable_destroy(&sad->by_id);
	xa_destroy(&sad->ids);
	kipsec_encap_sad_destroy(sad);
}

#define SA_ERR(extack, msg) NL_SET_ERR_MSG_MOD(extack, msg)

/**
 * kipsec_sa_cfg_check() - check the consistency of an SA request
 * @cfg: the parsed request (algorithms already validated one by one)
 * @larval: the SA is larval (GETSPI): no SPI and no algorithms yet
 * @extack: extended ACK
 *
 * Return: 0 or a negative errno with an extack message naming the
 * offending attribute.
 */
int kipsec_sa_cfg_check(struct kipsec_sa_cfg *cfg, bool larval,
			struct netlink_ext_ack *extack)
{
	bool esp = cfg->id.proto == IPPROTO_ESP;

	if (cfg->id.proto != IPPROTO_ESP && cfg->id.proto != IPPROTO_AH) {
		SA_ERR(extack, "KIPSEC_SA_A_PROTO must be IPPROTO_ESP or IPPROTO_AH");
		return -EPROTONOSUPPORT;
	}
	if (!larval && be32_to_cpu(cfg->id.spi) < KIPSEC_SPI_MIN) {
		SA_ERR(extack, "KIPSEC_SA_A_SPI: SPIs 0-255 are reserved (RFC 4303)");
		return -EINVAL;
	}
	if (cfg->id.family != AF_INET && cfg->id.family != AF_INET6) {
		SA_ERR(extack, "KIPSEC_SA_A_DST: missing or invalid address");
		return -EINVAL;
	}
	if (!KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_SRC)) {
		SA_ERR(extack, "KIPSEC_SA_A_SRC is mandatory");
		return -EINVAL;
	}
	if (cfg->src_family != cfg->id.family) {
		SA_ERR(extack, "KIPSEC_SA_A_SRC and KIPSEC_SA_A_DST families differ");
		return -EAFNOSUPPORT;
	}
	if (cfg->replay_window > KIPSEC_MAX_REPLAY_WINDOW) {
		SA_ERR(extack, "KIPSEC_SA_A_REPLAY_WINDOW larger than 4096");
		return -ERANGE;
	}
	if ((cfg->flags & KIPSEC_SA_F_ESN) && !cfg->replay_window && !larval) {
		SA_ERR(extack, "ESN needs a replay window (KIPSEC_SA_A_REPLAY_WINDOW)");
		return -EINVAL;
	}
	if (cfg->seq_in > kipsec_seq_limit(cfg->flags & KIPSEC_SA_F_ESN)) {
		SA_ERR(extack, "KIPSEC_SA_A_SEQ_IN above 2^32 - 1 without ESN");
		return -ERANGE;
	}
	if (!(cfg->flags & KIPSEC_SA_F_ESN) && cfg->seq_out > U32_MAX) {
		SA_ERR(extack, "KIPSEC_SA_A_SEQ_OUT above 2^32 - 1 without ESN");
		return -ERANGE;
	}
	if (cfg->mode == KIPSEC_MODE_TRANSPORT &&
	    KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_SEL) &&
	    cfg->sel.family != cfg->id.family) {
		SA_ERR(extack,
		       "KIPSEC_SA_A_SEL: transport mode selector family differs from the SA's");
		return -EAFNOSUPPORT;
	}
	if (cfg->encap.type != KIPSEC_ENCAP_NONE) {
		if (!esp) {
			SA_ERR(extack, "KIPSEC_SA_A_ENCAP: UDP encapsulation is for ESP only");
			return -EINVAL;
		}
		if (!cfg->encap.sport || !cfg->encap.dport) {
			SA_ERR(extack, "KIPSEC_SA_A_ENCAP: SPORT and DPORT are mandatory");
			return -EINVAL;
		}
		if (cfg->encap.oaddr_family &&
		    cfg->encap.oaddr_family != cfg->id.family) {
			SA_ERR(extack, "KIPSEC_ENCAP_A_OADDR: family differs from the SA's");
			return -EAFNOSUPPORT;
		}
	}

	if (larval) {
		if (cfg->aead.desc || cfg->crypt.desc || cfg->auth.desc) {
			SA_ERR(extack, "a larval SA takes no algorithms");
			return -EINVAL;
		}
		return 0;
	}

	if (cfg->aead.desc && (cfg->crypt.desc || cfg->auth.desc)) {
		SA_ERR(extack,
		       "KIPSEC_SA_A_ALG_AEAD excludes KIPSEC_SA_A_ALG_CRYPT and _AUTH");
		return -EINVAL;
	}
	if (!cfg->aead.desc && !cfg->auth.desc) {
		SA_ERR(extack,
		       "missing algorithm: KIPSEC_SA_A_ALG_AEAD or KIPSEC_SA_A_ALG_AUTH");
		return -EINVAL;
	}
	if (!esp && cfg->crypt.desc) {
		SA_ERR(extack, "KIPSEC_SA_A_ALG_CRYPT: AH does not encrypt");
		return -EINVAL;
	}
	if (!esp && cfg->aead.desc && cfg->aead.desc->kind == KIPSEC_ALG_KIND_AEAD &&
	    !cfg->aead.desc->ah) {
		SA_ERR(extack, "KIPSEC_SA_A_ALG_AEAD: AH takes only rfc4543(gcm(aes))");
		return -EINVAL;
	}
	return 0;
}

static void sa_free_work(struct work_struct *work)
{
	struct kipsec_sa *sa = container_of(to_rcu_work(work),
					    struct kipsec_sa, free_work);

	kipsec_squeue_destroy(&sa->txq);
	kipsec_squeue_destroy(&sa->rxq);
	kipsec_crypto_destroy(&sa->crypto);
	kipsec_alg_cfg_wipe(&sa->aead);
	kipsec_alg_cfg_wipe(&sa->crypt);
	kipsec_alg_cfg_wipe(&sa->auth);
	kipsec_pcpu_free(sa->stats_block, sa->stats);
	dst_cache_destroy(&sa->dst_cache);
	kfree(sa->replay);
	memzero_explicit(sa, sizeof(*sa));
	kmem_cache_free(kipsec_sa_cache, sa);
	atomic_dec(&kipsec_live_sas);
}

/**
 * kipsec_sa_put() - drop a reference to an SA
 * @sa: the SA, or NULL
 *
 * The last reference frees it after an RCU grace period, in process
 * context (freeing a transform may sleep). Any context.
 */
void kipsec_sa_put(struct kipsec_sa *sa)
{
	if (sa && refcount_dec_and_test(&sa->refcnt)) {
		INIT_RCU_WORK(&sa->free_work, sa_free_work);
		queue_rcu_work(kipsec_wq, &sa->free_work);
	}
}

/* Replay state for @window packets, everything up to @seq_in seen. */
static struct kipsec_replay *sa_replay_alloc(u32 window, bool esn, u64 seq_in)
{
	struct kipsec_replay *r;

	r = kzalloc(struct_size(r, bmp, kipsec_replay_blocks(window)),
		    GFP_KERNEL);
	if (r && kipsec_replay_init(r, window, esn, seq_in)) {
		kfree(r);
		return NULL;
	}
	return r;
}

/**
 * kipsec_sa_create() - build an SA, with its transforms, from a request
 * @cfg: a request that passed kipsec_sa_cfg_check()
 * @larval: make a larval SA (no transforms)
 * @extack: extended ACK
 *
 * Return: the SA with one reference, not linked anywhere, or an ERR_PTR.
 */
struct kipsec_sa *kipsec_sa_create(const struct kipsec_sa_cfg *cfg,
				   bool larval,
				   struct netlink_ext_ack *extack)
{
	struct kipsec_sa *sa;
	int cpu, err;

	sa = kmem_cache_zalloc(kipsec_sa_cache, GFP_KERNEL);
	if (!sa)
		return ERR_PTR(-ENOMEM);
	atomic_inc(&kipsec_live_sas);
	/* A larval SA may lack a window: it never receives anything. */
	sa->replay = sa_replay_alloc(cfg->replay_window,
				     (cfg->flags & KIPSEC_SA_F_ESN) &&
				     cfg->replay_window, cfg->seq_in);
	if (!sa->replay) {
		err = -ENOMEM;
		goto err_free;
	}
	/* sa->dst_cache is set up on the first packet out (out_dst_cache()). */
	sa->stats = kipsec_pcpu_alloc(&kipsec_sa_stats_pool, &sa->stats_block);
	if (!sa->stats) {
		err = -ENOMEM;
		goto err_free;
	}
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(sa->stats, cpu)->syncp);

	sa->id = cfg->id;
	sa->id.pad = 0;
	sa->dkey.daddr = cfg->id.daddr;
	sa->dkey.family = cfg->id.family;
	sa->dkey.proto = cfg->id.proto;
	sa->dkey.reqid = cfg->reqid;
	sa->saddr = cfg->saddr;
	sa->mode = cfg->mode;
	sa->df = cfg->df;
	sa->flags = cfg->flags;
	sa->reqid = cfg->reqid;
	sa->replay_window = cfg->replay_window;
	sa->has_sel = KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_SEL);
	sa->sel = cfg->sel;
	sa->encap = cfg->encap;
	sa->soft = cfg->soft;
	sa->hard = cfg->hard;
	sa->add_time = ktime_get_real_seconds();
	atomic64_set(&sa->seq_out, cfg->seq_out);
	kipsec_squeue_init(&sa->txq, &kipsec_qops_out);
	kipsec_squeue_init(&sa->rxq, &kipsec_qops_in);
	spin_lock_init(&sa->lock);
	INIT_LIST_HEAD(&sa->larval_list);
	INIT_DELAYED_WORK(&sa->lft_work, sa_lft_work);
	refcount_set(&sa->refcnt, 1);

	if (larval) {
		sa->state = KIPSEC_SA_STATE_LARVAL;
		return sa;
	}

	err = kipsec_crypto_init(&sa->crypto, cfg->id.proto,
				 cfg->flags & KIPSEC_SA_F_ESN, &cfg->aead,
				 &cfg->crypt, &cfg->auth, extack);
	if (err)
		goto err_free;
	/* Keys are kept only for KIPSEC_F_WITH_KEYS readers (resync). */
	sa->aead = cfg->aead;
	sa->crypt = cfg->crypt;
	sa->auth = cfg->auth;
	sa->state = KIPSEC_SA_STATE_VALID;
	return sa;

err_free:
	kipsec_pcpu_free(sa->stats_block, sa->stats);
	dst_cache_destroy(&sa->dst_cache);
	kfree(sa->replay);
	memzero_explicit(sa, sizeof(*sa));
	kmem_cache_free(kipsec_sa_cache, sa);
	atomic_dec(&kipsec_live_sas);
	return ERR_PTR(err);
}

/* Seconds since @sa was added (0 if the clock went backwards). */
static u64 sa_age(const struct kipsec_sa *sa)
{
	time64_t age = ktime_get_real_seconds() - sa->add_time;

	return age > 0 ? age : 0;
}

static u64 secs_left(u64 limit, u64 age)
{
	return limit > age ? limit - age : 0;
}

/* Seconds since the first use of @sa, or -1 if it was never used. */
static s64 sa_used_for(const struct kipsec_sa *sa)
{
	time64_t used = READ_ONCE(sa->use_time), t;

	if (!used)
		return -1;
	t = ktime_get_real_seconds() - used;
	return t > 0 ? t : 0;
}

/* Seconds until the next time lifetime of @sa, or -1 if none is set. */
static s64 sa_lft_next(const struct kipsec_sa *sa)
{
	u64 age = sa_age(sa), next = U64_MAX;
	s64 used = sa_used_for(sa);
	bool any = false;

	if (sa->state == KIPSEC_SA_STATE_VALID && sa->soft.add_secs) {
		next = secs_left(sa->soft.add_secs, age);
		any = true;
	}
	if (sa->hard.add_secs) {
		next = min(next, secs_left(sa->hard.add_secs, age));
		any = true;
	}
	if (used >= 0 && sa->state == KIPSEC_SA_STATE_VALID &&
	    sa->soft.use_secs) {
		next = min(next, secs_left(sa->soft.use_secs, used));
		any = true;
	}
	if (used >= 0 && sa->hard.use_secs) {
		next = min(next, secs_left(sa->hard.use_secs, used));
		any = true;
	}
	if (!any)
		return -1;
	return min_t(u64, next, MAX_JIFFY_OFFSET / HZ);
}

/* Has @sa reached the limits in @lft (a time limit of 0 is none)? */
static bool sa_lft_reached(const struct kipsec_sa *sa,
			   const struct kipsec_lifetime *lft)
{
	u64 packets = atomic64_read(&sa->lft_packets);
	u64 bytes = atomic64_read(&sa->lft_bytes);
	s64 used = sa_used_for(sa);

	return (lft->add_secs && sa_age(sa) >= lft->add_secs) ||
	       (lft->use_secs && used >= 0 && used >= lft->use_secs) ||
	       (lft->packets && packets >= lft->packets) ||
	       (lft->bytes && bytes >= lft->bytes);
}

/* Run the lifetime work now (from the datapath: any context). */
static void sa_lft_kick(struct kipsec_sa *sa)
{
	kipsec_sa_hold(sa);
	/* Already pending: it owns a reference already. */
	if (mod_delayed_work(kipsec_wq, &sa->lft_work, 0))
		kipsec_sa_put(sa);
}

/*
 * RFC 4301 8.2.2 ages a learnt PMTU; ten minutes, the default life of the
 * kernel's own route exceptions (net.ipv4.route.mtu_expires).
 */
#define KIPSEC_PMTU_AGE (600 * HZ)

/**
 * kipsec_sa_learn_pmtu() - record the path MTU an ICMP error reported
 * @sa: the SA whose outer packet the error quoted (RCU or a reference)
 * @mtu: the MTU the error carried
 *
 * RFC 4301 8.2.1 keeps the PMTU with the SA. Only a decrease is taken
 * while the learnt value lives; it ages out after ten minutes. As the
 * route code does, IPv4 takes anything smaller than 552 as 552, and IPv6
 * ignores anything below 1280 (RFC 8201 4). Any context.
 */
void kipsec_sa_learn_pmtu(struct kipsec_sa *sa, u32 mtu)
{
	u32 old = kipsec_sa_pmtu(sa);

	if (sa->id.family == AF_INET)
		mtu = max(mtu, 552U);
	else if (mtu < IPV6_MIN_MTU)
		return;
	if (old && mtu >= old)
		return;
	WRITE_ONCE(sa->pmtu_expires, jiffies + KIPSEC_PMTU_AGE);
	WRITE_ONCE(sa->pmtu, mtu);
}

/**
 * kipsec_sa_lft_account() - count a packet against the SA's lifetimes
 * @sa: the SA (a reference held), after its ICV verified (inbound) or
 *	before it is encrypted (outbound)
 * @len: the packet's bytes, as the SA's byte counters count them
 *
 * Records the first use, and counts packets and bytes while the SA has a
 * byte or packet limit. Reaching a soft or hard limit, or a first use with
 * a use-time limit, kicks the lifetime work, which sends the EXPIRE
 * notifications and deletes the SA at its hard limit (process context).
 * A packet that starts beyond a hard limit, before the work has run, must
 * be dropped. Any context.
 *
 * Return: false if the packet must be dropped (hard limit exceeded).
 */
bool kipsec_sa_lft_account(struct kipsec_sa *sa, unsigned int len)
{
	u64 sp = READ_ONCE(sa->soft.packets), hp = READ_ONCE(sa->hard.packets);
	u64 sb = READ_ONCE(sa->soft.bytes), hb = READ_ONCE(sa->hard.bytes);
	bool kick = false;
	u64 p, b;

	if (unlikely(!READ_ONCE(sa->use_time))) {
		/* Once: the first CPU to see it unused sets it. */
		if (!cmpxchg(&sa->use_time, 0, ktime_get_real_seconds()))
			kick = READ_ONCE(sa->soft.use_secs) ||
			       READ_ONCE(sa->hard.use_secs);
	}
	if (likely(!(sp | hp | sb | hb))) {
		if (unlikely(kick))
			sa_lft_kick(sa);
		return true;
	}
	p = atomic64_inc_return(&sa->lft_packets);
	b = atomic64_add_return(len, &sa->lft_bytes);
	if ((hp && p > hp) || (hb && b - len >= hb))
		return false;
	/* The packet that reaches a limit goes; the limit fires once. */
	if ((sp && p == sp) || (hp && p == hp) ||
	    (sb && b >= sb && b - len < sb) || (hb && b >= hb))
		kick = true;
	if (kick)
		sa_lft_kick(sa);
	return true;
}

/*
 * (Re)arm the lifetime timer of a linked SA; a pending timer holds a
 * reference. Lifetimes since first use are armed by the datapath.
 */
static void sa_lft_arm(struct kipsec_sad *sad, struct kipsec_sa *sa)
{
	s64 next;

	lockdep_assert_held(&sad->lock);

	next = sa_lft_next(sa);
	if (next < 0) {
		if (cancel_delayed_work(&sa->lft_work))
			kipsec_sa_put(sa);
		return;
	}
	kipsec_sa_hold(sa);
	/* Already pending: it owns a reference already. */
	if (mod_delayed_work(kipsec_wq, &sa->lft_work, next * HZ))
		kipsec_sa_put(sa);
}

static void sa_lft_work(struct work_struct *work)
{
	struct kipsec_sa *sa = container_of(to_delayed_work(work),
					    struct kipsec_sa, lft_work);
	struct kipsec_sad *sad = sa->sad;
	bool soft = false, hard = false;

	mutex_lock(&sad->lock);
	if (sa->state != KIPSEC_SA_STATE_DEAD && !sad->dying) {
		if (sa_lft_reached(sa, &sa->hard)) {
			/* The SAD's reference becomes ours. */
			sad_unlink(sad, sa);
			hard = true;
		} else {
			if (sa->state == KIPSEC_SA_STATE_VALID &&
			    sa_lft_reached(sa, &sa->soft)) {
				WRITE_ONCE(sa->state, KIPSEC_SA_STATE_DYING);
				sad->gen++;
				soft = true;
			}
			sa_lft_arm(sad, sa);
		}
	}
	mutex_unlock(&sad->lock);

	if ((soft || hard) && sad->expired)
		sad->expired(sad, sa, hard);
	if (hard)
		kipsec_sa_put(sa);
	/* The reference this run of the timer held. */
	kipsec_sa_put(sa);
}

/* Link @sa into every index; the SAD takes over the caller's reference. */
static int sad_link(struct kipsec_sad *sad, struct kipsec_sa *sa,
		    struct netlink_ext_ack *extack)
{
	int err;

	lockdep_assert_held(&sad->lock);

	if (sad->count >= READ_ONCE(kipsec_max_sas)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "SA limit of the namespace reached (module parameter max_sas)");
		return -ENOSPC;
	}
	/*
	 * Before the first insert: from it on the datapath can find the SA
	 * (kipsec_sa_lookup_rcu(), policy resolution) and reaches its
	 * namespace through sa->sad, and ranks it by sa->add_seq. The inserts
	 * publish with release semantics, so a reader that finds the SA sees
	 * these stores. A failed link leaves a gap in add_seq, no harm.
	 */
	sa->sad = sad;
	sa->add_seq = ++sad->add_seq;
	err = rhashtable_lookup_insert_fast(&sad->by_id, &sa->node,
					    sa_id_params);
	if (err) {
		if (err == -EEXIST)
			NL_SET_ERR_MSG_MOD(extack,
					   "an SA with this SPI, destination and protocol exists");
		return err;
	}
	err = rhltable_insert(&sad->by_dst, &sa->by_dst, sa_dst_params);
	if (err)
		goto err_dst;
	err = rhltable_insert(&sad->by_reqid, &sa->by_reqid, sa_reqid_params);
	if (err)
		goto err_reqid;
	err = xa_alloc_cyclic(&sad->ids, &sa->dump_id, sa, xa_limit_32b,
			      &sad->next_dump_id, GFP_KERNEL);
	if (err < 0)
		goto err_ids;
	err = kipsec_encap_sad_link(sad, sa);
	if (err)
		goto err_encap;

	sad->count++;
	sad->gen++;
	if (sa->state != KIPSEC_SA_STATE_LARVAL)
		sa_lft_arm(sad, sa);
	if (sa->state == KIPSEC_SA_STATE_LARVAL) {
		unsigned long life = (unsigned long)max(1U, kipsec_larval_secs) * HZ;

		sa->larval_expires = jiffies + life;
		list_add_tail(&sa->larval_list, &sad->larval);
		if (!sad->dying)
			queue_delayed_work(kipsec_wq, &sad->gc, life);
	}
	return 0;

err_encap:
	xa_erase(&sad->ids, sa->dump_id);
err_ids:
	rhltable_remove(&sad->by_reqid, &sa->by_reqid, sa_reqid_params);
err_reqid:
	rhltable_remove(&sad->by_dst, &sa->by_dst, sa_dst_params);
err_dst:
	rhashtable_remove_fast(&sad->by_id, &sa->node, sa_id_params);
	NL_SET_ERR_MSG_MOD(extack, "out of memory adding the SA");
	return err;
}

/* Unlink @sa; the caller inherits the SAD's reference. */
static void sad_unlink(struct kipsec_sad *sad, struct kipsec_sa *sa)
{
	lockdep_assert_held(&sad->lock);

	rhashtable_remove_fast(&sad->by_id, &sa->node, sa_id_params);
	rhltable_remove(&sad->by_dst, &sa->by_dst, sa_dst_params);
	rhltable_remove(&sad->by_reqid, &sa->by_reqid, sa_reqid_params);
	xa_erase(&sad->ids, sa->dump_id);
	kipsec_encap_sad_unlink(sad, sa);
	list_del_init(&sa->larval_list);
	WRITE_ONCE(sa->state, KIPSEC_SA_STATE_DEAD);
	/* A running timer sees DEAD and drops its own reference. */
	if (cancel_delayed_work(&sa->lft_work))
		kipsec_sa_put(sa);
	sad->count--;
	sad->gen++;
}

/**
 * kipsec_sad_add() - add an SA
 * @sad: the SAD
 * @sa: the SA; on success the SAD takes a reference of its own
 * @extack: extended ACK
 *
 * Return: 0, -EEXIST if the key is taken, or another negative errno.
 */
int kipsec_sad_add(struct kipsec_sad *sad, struct kipsec_sa *sa,
		   struct netlink_ext_ack *extack)
{
	int err;

	kipsec_sa_hold(sa);
	mutex_lock(&sad->lock);
	err = sad_link(sad, sa, extack);
	mutex_unlock(&sad->lock);
	if (err)
		refcount_dec(&sa->refcnt);
	return err;
}

/* Attributes SA_UPDATE may change on an SA that carries traffic. */
#define SA_UPDATE_INPLACE (BIT_ULL(KIPSEC_SA_A_SPI) |			\
			   BIT_ULL(KIPSEC_SA_A_DST) |			\
			   BIT_ULL(KIPSEC_SA_A_PROTO) |			\
			   BIT_ULL(KIPSEC_SA_A_REPLAY_WINDOW) |		\
			   BIT_ULL(KIPSEC_SA_A_DF) |			\
			   BIT_ULL(KIPSEC_SA_A_FLAGS) |			\
			   BIT_ULL(KIPSEC_SA_A_LIFETIME_SOFT) |		\
			   BIT_ULL(KIPSEC_SA_A_LIFETIME_HARD))

/*
 * A new window size takes a new bitmap. Sequence numbers below the highest
 * one seen count as already received: a resize may drop a few reordered
 * packets, never accept a replay.
 */
static int sa_resize_replay(struct kipsec_sa *sa, u32 window)
{
	struct kipsec_replay *r, *old;
	bool esn = sa->flags & KIPSEC_SA_F_ESN;

	if (window == sa->replay_window)
		return 0;
	if (esn && !window)
		return -EINVAL;
	r = sa_replay_alloc(window, esn, 0);
	if (!r)
		return -ENOMEM;
	spin_lock_bh(&sa->lock);
	kipsec_replay_init(r, window, esn, kipsec_replay_last(sa->replay));
	old = sa->replay;
	sa->replay = r;
	WRITE_ONCE(sa->replay_window, window);
	spin_unlock_bh(&sa->lock);
	kfree(old);
	return 0;
}

static int sa_update_inplace(struct kipsec_sad *sad, struct kipsec_sa *sa,
			     const struct kipsec_sa_cfg *cfg,
			     struct netlink_ext_ack *extack)
{
	u64 other = cfg->present & ~SA_UPDATE_INPLACE;
	int err;

	/* Resending unchanged identity attributes is harmless. */
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_SRC) &&
	    kipsec_addr_equal(&cfg->saddr, &sa->saddr))
		other &= ~BIT_ULL(KIPSEC_SA_A_SRC);
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_MODE) && cfg->mode == sa->mode)
		other &= ~BIT_ULL(KIPSEC_SA_A_MODE);
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_REQID) && cfg->reqid == sa->reqid)
		other &= ~BIT_ULL(KIPSEC_SA_A_REQID);
	if (other) {
		NL_SET_ERR_MSG_MOD(extack,
				   "only the replay window, DF, flags and lifetimes of a live SA can change; add a new SA");
		return -EOPNOTSUPP;
	}
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_FLAGS) &&
	    (cfg->flags ^ sa->flags) & KIPSEC_SA_F_ESN) {
		NL_SET_ERR_MSG_MOD(extack,
				   "KIPSEC_SA_A_FLAGS: ESN of a live SA cannot change");
		return -EOPNOTSUPP;
	}

	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_REPLAY_WINDOW)) {
		err = sa_resize_replay(sa, cfg->replay_window);
		if (err == -EINVAL)
			NL_SET_ERR_MSG_MOD(extack, "ESN needs a replay window");
		else if (err)
			NL_SET_ERR_MSG_MOD(extack, "out of memory resizing the replay window");
		if (err)
			return err;
	}
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_DF))
		WRITE_ONCE(sa->df, cfg->df);
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_FLAGS))
		WRITE_ONCE(sa->flags, cfg->flags);
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_LIFETIME_SOFT)) {
		WRITE_ONCE(sa->soft.bytes, cfg->soft.bytes);
		WRITE_ONCE(sa->soft.packets, cfg->soft.packets);
		WRITE_ONCE(sa->soft.add_secs, cfg->soft.add_secs);
		WRITE_ONCE(sa->soft.use_secs, cfg->soft.use_secs);
	}
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_LIFETIME_HARD)) {
		WRITE_ONCE(sa->hard.bytes, cfg->hard.bytes);
		WRITE_ONCE(sa->hard.packets, cfg->hard.packets);
		WRITE_ONCE(sa->hard.add_secs, cfg->hard.add_secs);
		WRITE_ONCE(sa->hard.use_secs, cfg->hard.use_secs);
	}
	if (KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_LIFETIME_SOFT) ||
	    KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_LIFETIME_HARD))
		sa_lft_arm(sad, sa);
	sad->gen++;
	return 0;
}

/* Complete a larval SA: a new object replaces it in every index. */
static int sa_complete_larval(struct kipsec_sad *sad, struct kipsec_sa *old,
			      struct kipsec_sa_cfg *cfg,
			      struct kipsec_sa **result,
			      struct netlink_ext_ack *extack)
{
	struct kipsec_sa *sa;
	int err;

	if (!KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_SRC)) {
		cfg->saddr = old->saddr;
		cfg->src_family = old->id.family;
		cfg->present |= BIT_ULL(KIPSEC_SA_A_SRC);
	}
	if (!KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_MODE))
		cfg->mode = old->mode;
	if (!KIPSEC_SA_HAS(cfg, KIPSEC_SA_A_REQID))
		cfg->reqid = old->reqid;
	err = kipsec_sa_cfg_check(cfg, false, extack);
	if (err)
		return err;
	sa = kipsec_sa_create(cfg, false, extack);
	if (IS_ERR(sa))
		return PTR_ERR(sa);

	/* Before the replacement publishes it: see sad_link(). */
	sa->sad = sad;
	sa->add_seq = ++sad->add_seq;
	err = kipsec_encap_sad_link(sad, sa);
	if (err)
		goto err_put;
	err = rhashtable_replace_fast(&sad->by_id, &old->node, &sa->node,
				      sa_id_params);
	if (err)
		goto err_encap;
	err = rhltable_insert(&sad->by_dst, &sa->by_dst, sa_dst_params);
	if (err)
		goto err_dst;
	err = rhltable_insert(&sad->by_reqid, &sa->by_reqid, sa_reqid_params);
	if (err)
		goto err_reqid;
	rhltable_remove(&sad->by_dst, &old->by_dst, sa_dst_params);
	rhltable_remove(&sad->by_reqid, &old->by_reqid, sa_reqid_params);
	sa->dump_id = old->dump_id;
	xa_store(&sad->ids, sa->dump_id, sa, GFP_KERNEL);
	kipsec_encap_sad_unlink(sad, old);
	list_del_init(&old->larval_list);
	WRITE_ONCE(old->state, KIPSEC_SA_STATE_DEAD);
	sa_lft_arm(sad, sa);
	sad->gen++;
	kipsec_sa_put(old);

	kipsec_sa_hold(sa);
	*result = sa;
	return 0;

err_reqid:
	rhltable_remove(&sad->by_dst, &sa->by_dst, sa_dst_params);
err_dst:
	rhashtable_replace_fast(&sad->by_id, &sa->node, &old->node,
				sa_id_params);
err_encap:
	kipsec_encap_sad_unlink(sad, sa);
err_put:
	NL_SET_ERR_MSG_MOD(extack, "out of memory updating the SA");
	kipsec_sa_put(sa);
	return err;
}

/**
 * kipsec_sad_update() - change an SA, or complete a larval one
 * @sad: the SAD
 * @cfg: the request; the SA is found by @cfg->id
 * @result: on success, the updated SA with a reference for the caller
 * @extack: extended ACK
 *
 * A larval SA becomes a full SA (algorithms mandatory). On a live SA only
 * the replay window, DF, flags (except ESN) and lifetimes change; keys
 * never change in place.
 *
 * Return: 0 or a negative errno (-ENOENT: no such SA).
 */
int kipsec_sad_update(struct kipsec_sad *sad, struct kipsec_sa_cfg *cfg,
		      struct kipsec_sa **result,
		      struct netlink_ext_ack *extack)
{
	struct kipsec_sa *sa;
	int err;

	mutex_lock(&sad->lock);
	sa = rhashtable_lookup_fast(&sad->by_id, &cfg->id, sa_id_params);
	if (!sa) {
		NL_SET_ERR_MSG_MOD(extack, "no SA with this SPI, destination and protocol");
		err = -ENOENT;
	} else if (sa->state == KIPSEC_SA_STATE_LARVAL) {
		err = sa_complete_larval(sad, sa, cfg, result, extack);
	} else {
		err = sa_update_inplace(sad, sa, cfg, extack);
		if (!err) {
			kipsec_sa_hold(sa);
			*result = sa;
		}
	}
	mutex_unlock(&sad->lock);
	return err;
}

/**
 * kipsec_sad_del() - unlink an SA
 * @sad: the SAD
 * @id: its key
 *
 * Return: the SA, marked dead, with the SAD's former reference (the caller
 * puts it), or NULL if there is none.
 */
struct kipsec_sa *kipsec_sad_del(struct kipsec_sad *sad,
				 const struct kipsec_sa_id *id)
{
	struct kipsec_sa *sa;

	mutex_lock(&sad->lock);
	sa = rhashtable_lookup_fast(&sad->by_id, id, sa_id_params);
	if (sa)
		sad_unlink(sad, sa);
	mutex_unlock(&sad->lock);
	return sa;
}

/* Unlinks @sa from @sad (under its lock) and drops the SAD's reference. */
static void sad_flush_one(struct kipsec_sad *sad, struct kipsec_sa *sa)
{
	sad_unlink(sad, sa);
	kipsec_sa_put(sa);
	cond_resched();
}

/**
 * kipsec_sad_flush() - delete SAs
 * @sad: the SAD
 * @proto: only SAs of this protocol, 0 for all
 *
 * Return: the number of SAs deleted.
 */
unsigned int kipsec_sad_flush(struct kipsec_sad *sad, u8 proto)
{
	unsigned int n = 0, cap, taken = 0;
	struct kipsec_sa **all = NULL, *sa;
	unsigned long idx;

	mutex_lock(&sad->lock);
	/*
	 * Newest first. The by-destination and by-reqid lists keep the SAs
	 * of one key newest first, and unlinking an SA walks its key's list
	 * up to it: in insertion order, every SA of a big key (100k SAs to
	 * one peer, a concentrator's inbound SAs) cost a walk over all the
	 * others, and the flush was quadratic. Dump ids follow insertion
	 * order (cyclic: after a wrap, only slower). Without memory for the
	 * list, in id order.
	 */
	cap = sad->count;
	if (cap)
		all = kvmalloc_array(cap, sizeof(*all), GFP_KERNEL);
	xa_for_each(&sad->ids, idx, sa) {
		if (proto && sa->id.proto != proto)
			continue;
		if (all && taken < cap) {
			all[taken++] = sa;
			continue;
		}
		sad_flush_one(sad, sa);
		n++;
	}
	for (; taken; n++)
		sad_flush_one(sad, all[--taken]);
	kvfree(all);
	mutex_unlock(&sad->lock);
	return n;
}

static void sad_gc_work(struct work_struct *work)
{
	struct kipsec_sad *sad = container_of(to_delayed_work(work),
					      struct kipsec_sad, gc);
	struct kipsec_sa *sa, *tmp;
	LIST_HEAD(expired);

	mutex_lock(&sad->lock);
	list_for_each_entry_safe(sa, tmp, &sad->larval, larval_list) {
		if (time_before(jiffies, sa->larval_expires)) {
			if (!sad->dying)
				queue_delayed_work(kipsec_wq, &sad->gc,
						   sa->larval_expires - jiffies);
			break;
		}
		sad_unlink(sad, sa);
		/* Unlinked: larval_list is free to carry it to @expired. */
		list_add_tail(&sa->larval_list, &expired);
	}
	mutex_unlock(&sad->lock);

	list_for_each_entry_safe(sa, tmp, &expired, larval_list) {
		list_del_init(&sa->larval_list);
		if (sad->expired)
			sad->expired(sad, sa, true);
		kipsec_sa_put(sa);
	}
}

/**
 * kipsec_sad_getspi() - allocate a free SPI and a larval SA holding it
 * @sad: the SAD
 * @cfg: destination, protocol and optional source, mode, reqid
 * @spi_min: lowest acceptable SPI (at least KIPSEC_SPI_MIN)
 * @spi_max: highest acceptable SPI
 * @result: the larval SA with a reference for the caller
 * @extack: extended ACK
 *
 * Return: 0, -ENOSPC if no SPI in the range is free, or another errno.
 */
int kipsec_sad_getspi(struct kipsec_sad *sad, const struct kipsec_sa_cfg *cfg,
		      u32 spi_min, u32 spi_max, struct kipsec_sa **result,
		      struct netlink_ext_ack *extack)
{
	u32 span = spi_max - spi_min, tries, spi, i;
	struct kipsec_sa *sa;
	int err = -ENOSPC;

	if (spi_min < KIPSEC_SPI_MIN || spi_min > spi_max) {
		NL_SET_ERR_MSG_MOD(extack, "KIPSEC_A_SPI_MIN/MAX: empty or reserved range");
		return -EINVAL;
	}
	sa = kipsec_sa_create(cfg, true, extack);
	if (IS_ERR(sa))
		return PTR_ERR(sa);

	/* Small ranges are scanned from a random start, large ones sampled. */
	tries = span < 1024 ? span + 1 : 256;
	spi = get_random_u32_inclusive(spi_min, spi_max);
	mutex_lock(&sad->lock);
	for (i = 0; i < tries; i++) {
		sa->id.spi = cpu_to_be32(spi);
		err = sad_link(sad, sa, extack);
		if (err != -EEXIST)
			break;
		if (span < 1024)
			spi = spi == spi_max ? spi_min : spi + 1;
		else
			spi = get_random_u32_inclusive(spi_min, spi_max);
	}
	if (!err) {
		kipsec_sa_hold(sa);
		*result = sa;
	}
	mutex_unlock(&sad->lock);

	if (err) {
		if (err == -EEXIST) {
			err = -ENOSPC;
			NL_SET_ERR_MSG_MOD(extack, "no free SPI in the range");
		}
		kipsec_sa_put(sa);
	}
	return err;
}

/**
 * kipsec_sa_lookup_rcu() - inbound lookup (RFC 4301 4.1)
 * @sad: the SAD
 * @spi: SPI from the packet
 * @daddr: destination address from the packet (zero-padded for IPv4)
 * @family: AF_INET or AF_INET6
 * @proto: IPPROTO_ESP or IPPROTO_AH
 *
 * Caller holds rcu_read_lock(); the SA may be in any state.
 *
 * Return: the SA or NULL.
 */
struct kipsec_sa *kipsec_sa_lookup_rcu(struct kipsec_sad *sad, __be32 spi,
				       const union kipsec_addr *daddr,
				       u16 family, u8 proto)
{
	struct kipsec_sa_id id = {
		.daddr = *daddr,
		.spi = spi,
		.family = family,
		.proto = proto,
	};

	return rhashtable_lookup(&sad->by_id, &id, sa_id_params);
}

/**
 * kipsec_sa_get() - find an SA by its key and take a reference
 * @sad: the SAD
 * @id: the key
 *
 * Return: the SA or NULL.
 */
struct kipsec_sa *kipsec_sa_get(struct kipsec_sad *sad,
				const struct kipsec_sa_id *id)
{
	struct kipsec_sa *sa;

	rcu_read_lock();
	sa = rhashtable_lookup(&sad->by_id, id, sa_id_params);
	if (sa && !refcount_inc_not_zero(&sa->refcnt))
		sa = NULL;
	rcu_read_unlock();
	return sa;
}

static bool sa_fits_tmpl(const struct kipsec_sa *sa,
			 const struct kipsec_tmpl *tmpl,
			 const struct kipsec_flow *flow,
			 const struct kipsec_flow *ep)
{
	if (sa->mode != tmpl->mode || !kipsec_sa_usable(sa))
		return false;
	if (tmpl->spi && sa->id.spi != tmpl->spi)
		return false;
	if (tmpl->mode == KIPSEC_MODE_TUNNEL) {
		if (!kipsec_addr_any(&tmpl->saddr) &&
		    !kipsec_addr_equal(&tmpl->saddr, &sa->saddr))
			return false;
	} else if (!kipsec_addr_equal(&ep->saddr, &sa->saddr)) {
		return false;
	}
	return !sa->has_sel || kipsec_sel_match(&sa->sel, flow);
}

/* Prefer VALID over DYING (RFC 4301: use the new SA during a rekey), then
 * the newest.
 */
static bool sa_better(const struct kipsec_sa *sa, const struct kipsec_sa *best)
{
	u8 s = READ_ONCE(sa->state), b;

	if (!best)
		return true;
	b = READ_ONCE(best->state);
	if (s != b)
		return s == KIPSEC_SA_STATE_VALID;
	return sa->add_seq > best->add_seq;
}

/**
 * kipsec_sa_find_outbound_rcu() - the SA a template asks for
 * @sad: the SAD
 * @tmpl: the policy template
 * @flow: the packet, which the SA's selectors must match
 * @ep: transport mode: the SA's addresses; the packet's (NULL), or in a
 *	bundle after a tunnel-mode SA that SA's endpoints
 *
 * Caller holds rcu_read_lock(). Among usable SAs that fit the template,
 * a VALID one is preferred to a DYING one, then the most recently added.
 *
 * Return: the SA (no reference taken) or NULL.
 */
struct kipsec_sa *kipsec_sa_find_outbound_rcu(struct kipsec_sad *sad,
					      const struct kipsec_tmpl *tmpl,
					      const struct kipsec_flow *flow,
					      const struct kipsec_flow *ep)
{
	struct kipsec_sa *sa, *best = NULL;
	struct kipsec_sa_dkey key = {};
	struct rhlist_head *list, *pos;

	if (!ep)
		ep = flow;
	if (tmpl->mode == KIPSEC_MODE_TUNNEL) {
		key.daddr = tmpl->daddr;
		key.family = tmpl->family;
	} else {
		key.daddr = ep->daddr;
		key.family = ep->family;
	}
	key.proto = tmpl->proto;
	key.reqid = tmpl->reqid;

	if (tmpl->reqid) {
		list = rhltable_lookup(&sad->by_reqid, &key, sa_reqid_params);
		rhl_for_each_entry_rcu(sa, pos, list, by_reqid)
			if (sa_fits_tmpl(sa, tmpl, flow, ep) && sa_better(sa, best))
				best = sa;
	} else {
		list = rhltable_lookup(&sad->by_dst, &key, sa_dst_params);
		rhl_for_each_entry_rcu(sa, pos, list, by_dst)
			if (sa_fits_tmpl(sa, tmpl, flow, ep) && sa_better(sa, best))
				best = sa;
	}
	return best;
}

/**
 * kipsec_sad_learn_pmtu_encap() - a path MTU for ESP-in-UDP SAs by port
 * @sad: the SAD
 * @daddr: the quoted outer destination
 * @family: its family
 * @sport: the quoted UDP source port (host order)
 * @dport: the quoted UDP destination port (host order)
 * @mtu: the MTU the error carried
 *
 * An ICMP error whose quote stops at the UDP header names no SPI: every
 * ESP-in-UDP SA to @daddr between these ports takes the MTU. Caller holds
 * rcu_read_lock().
 */
void kipsec_sad_learn_pmtu_encap(struct kipsec_sad *sad,
				 const union kipsec_addr *daddr, u16 family,
				 u16 sport, u16 dport, u32 mtu)
{
	struct kipsec_sa_dkey key = {
		.daddr = *daddr,
		.family = family,
		.proto = IPPROTO_ESP,
	};
	struct rhlist_head *list, *pos;
	struct kipsec_sa *sa;

	list = rhltable_lookup(&sad->by_dst, &key, sa_dst_params);
	rhl_for_each_entry_rcu(sa, pos, list, by_dst)
		if (sa->encap.type == KIPSEC_ENCAP_ESPINUDP &&
		    sa->encap.sport == sport && sa->encap.dport == dport)
			kipsec_sa_learn_pmtu(sa, mtu);
}

/**
 * kipsec_sa_stats_fold() - sum the per-CPU counters of an SA
 * @sa: the SA
 * @out: sums, indexed by enum kipsec_sa_stat
 */
void kipsec_sa_stats_fold(const struct kipsec_sa *sa,
			  u64 out[__KIPSEC_SA_STAT_MAX])
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __KIPSEC_SA_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct kipsec_sa_pcpu_stats *s = per_cpu_ptr(sa->stats, cpu);
		u64 v[__KIPSEC_SA_STAT_MAX];
		unsigned int start;

		do {
			start = u64_stats_fetch_begin(&s->syncp);
			for (i = 0; i < __KIPSEC_SA_STAT_MAX; i++)
				v[i] = u64_stats_read(&s->cnt[i]);
		} while (u64_stats_fetch_retry(&s->syncp, start));
		for (i = 0; i < __KIPSEC_SA_STAT_MAX; i++)
			out[i] += v[i];
	}
}

#ifdef KIPSEC_DEBUG
#include "selftest/sa.c"
#endif
