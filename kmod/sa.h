/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The security association database (SAD): SAs of one namespace, looked up
 * by (SPI, destination, protocol) inbound and by template outbound.
 */

#ifndef _KIPSEC_SA_H
#define _KIPSEC_SA_H

#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include <net/dst_cache.h>

#include "crypto.h"
#include "kipsec.h"
#include "mem.h"
#include "queue.h"
#include "replay.h"

/**
 * struct kipsec_sa_id - the key of an SA (RFC 4301 4.1)
 * @daddr: destination (outer) address
 * @spi: security parameter index
 * @family: family of @daddr
 * @proto: IPPROTO_ESP or IPPROTO_AH
 * @pad: zero
 */
struct kipsec_sa_id {
	union kipsec_addr daddr;
	__be32 spi;
	u16 family;
	u8 proto;
	u8 pad;
};

/**
 * struct kipsec_sa_dkey - key of the outbound indexes
 * @daddr: destination (outer) address
 * @family: family of @daddr
 * @proto: IPPROTO_ESP or IPPROTO_AH
 * @pad: zero
 * @reqid: request id; last, so that the by-destination index can hash the
 *	bytes before it and the by-reqid index the whole key
 */
struct kipsec_sa_dkey {
	union kipsec_addr daddr;
	u16 family;
	u8 proto;
	u8 pad;
	u32 reqid;
};

/**
 * struct kipsec_lifetime - lifetime limits, or usage
 * @bytes: bytes (0: no limit)
 * @packets: packets
 * @add_secs: seconds after the SA was added
 * @use_secs: seconds after the SA was first used
 */
struct kipsec_lifetime {
	u64 bytes;
	u64 packets;
	u64 add_secs;
	u64 use_secs;
};

/**
 * struct kipsec_encap_cfg - NAT-T encapsulation (RFC 3948)
 * @type: enum kipsec_encap
 * @oaddr_family: family of @oaddr, 0 if none
 * @sport: UDP source port, host order
 * @dport: UDP destination port, host order
 * @oaddr: original address, for the transport mode checksum fix-up
 */
struct kipsec_encap_cfg {
	u8 type;
	u8 oaddr_family;
	u16 sport;
	u16 dport;
	union kipsec_addr oaddr;
};

/* The subset of enum kipsec_stat that an SA counts (compact per-CPU array). */
enum kipsec_sa_stat {
	KIPSEC_SA_STAT_IN_PACKETS,
	KIPSEC_SA_STAT_IN_BYTES,
	KIPSEC_SA_STAT_OUT_PACKETS,
	KIPSEC_SA_STAT_OUT_BYTES,
	KIPSEC_SA_STAT_IN_REPLAY,
	KIPSEC_SA_STAT_IN_AUTH_FAIL,
	KIPSEC_SA_STAT_IN_BAD_PAD,
	KIPSEC_SA_STAT_IN_BAD_NEXTHDR,
	KIPSEC_SA_STAT_IN_POLICY_MISMATCH,
	KIPSEC_SA_STAT_OUT_SEQ_OVERFLOW,
	KIPSEC_SA_STAT_OUT_SA_EXPIRED,
	KIPSEC_SA_STAT_OUT_MTU,
	KIPSEC_SA_STAT_IN_ECN_INVALID,
	__KIPSEC_SA_STAT_MAX
};

extern const u8 kipsec_sa_stat_ids[__KIPSEC_SA_STAT_MAX];

/**
 * struct kipsec_sa_pcpu_stats - per-CPU counters of an SA
 * @cnt: counters, indexed by enum kipsec_sa_stat
 * @syncp: 64-bit consistency on 32-bit hosts
 */
struct kipsec_sa_pcpu_stats {
	u64_stats_t cnt[__KIPSEC_SA_STAT_MAX];
	struct u64_stats_sync syncp;
};

/* Bits of struct kipsec_sa_cfg.present: attributes given in the request. */
#define KIPSEC_SA_HAS(cfg, attr)	((cfg)->present & BIT_ULL(attr))

/**
 * struct kipsec_sa_cfg - a parsed SA request (SA_NEW, SA_UPDATE, GETSPI)
 * @id: SPI, destination, protocol
 * @saddr: source address (same family as @id.daddr)
 * @src_family: family of @saddr
 * @present: BIT_ULL(KIPSEC_SA_A_*) of the attributes given
 * @mode: enum kipsec_mode
 * @df: enum kipsec_df
 * @reqid: request id
 * @flags: KIPSEC_SA_F_*
 * @replay_window: anti-replay window in packets
 * @seq_out: last outbound sequence number used
 * @seq_in: highest inbound sequence number seen
 * @soft: soft lifetime limits
 * @hard: hard lifetime limits
 * @encap: NAT-T encapsulation
 * @mapping_next: jiffies before which no NAT-T mapping change is reported
 * @sel: selector (valid if KIPSEC_SA_A_SEL is present)
 * @aead: AEAD algorithm
 * @crypt: cipher
 * @auth: integrity algorithm
 */
struct kipsec_sa_cfg {
	struct kipsec_sa_id id;
	union kipsec_addr saddr;
	u16 src_family;
	u64 present;
	u8 mode;
	u8 df;
	u32 reqid;
	u32 flags;
	u32 replay_window;
	u64 seq_out;
	u64 seq_in;
	struct kipsec_lifetime soft;
	struct kipsec_lifetime hard;
	struct kipsec_encap_cfg encap;
	struct kipsec_sel sel;
	struct kipsec_alg_cfg aead;
	struct kipsec_alg_cfg crypt;
	struct kipsec_alg_cfg auth;
};

/**
 * enum kipsec_sa_dst_cache_state - whether an SA's route cache is set up
 * @KIPSEC_SA_DST_CACHE_NONE: not yet (or its allocation failed)
 * @KIPSEC_SA_DST_CACHE_BUSY: one CPU is setting it up
 * @KIPSEC_SA_DST_CACHE_READY: set up, usable by every CPU
 */
enum kipsec_sa_dst_cache_state {
	KIPSEC_SA_DST_CACHE_NONE,
	KIPSEC_SA_DST_CACHE_BUSY,
	KIPSEC_SA_DST_CACHE_READY,
};

/**
 * struct kipsec_sa - a security association
 * @node: SAD, by @id
 * @id: the key
 * @mode: enum kipsec_mode
 * @df: enum kipsec_df
 * @state: enum kipsec_sa_state; READ_ONCE on the packet path
 * @has_sel: @sel is set
 * @flags: KIPSEC_SA_F_*
 * @reqid: request id
 * @replay_window: anti-replay window in packets (0: no check); changes
 *	under @lock
 * @stats: per-CPU counters
 * @replay: inbound anti-replay state, under @lock; replaced (not resized)
 *	by SA_UPDATE under @lock
 * @crypto: transforms
 * @saddr: source (outer) address
 * @encap: NAT-T encapsulation
 * @soft: soft lifetime limits (WRITE_ONCE by SA_UPDATE)
 * @hard: hard lifetime limits
 * @by_dst: outbound index by (daddr, family, proto)
 * @by_reqid: outbound index by (daddr, family, proto, reqid)
 * @dkey: key of the outbound indexes
 * @add_seq: insertion order in the SAD (newest preferred outbound)
 * @sel: traffic the SA may carry (checked on input)
 * @use_time: wall-clock seconds of first use, 0 if never used
 * @dst_cache_state: enum kipsec_sa_dst_cache_state
 * @pmtu: outer path MTU learnt from ICMP about this SA's own packets
 *	(RFC 4301 8.2.1), 0 if none; see kipsec_sa_pmtu()
 * @dst_cache: outer route (tunnel mode), per CPU; set up by the datapath
 *	on the SA's first tunnel-mode packet (see @dst_cache_state)
 * @pmtu_expires: jiffies when @pmtu ages out (RFC 4301 8.2.2)
 * @add_time: wall-clock seconds when added
 * @mapping_next: jiffies before which no further NAT-T mapping change is
 *	reported (0: none reported yet)
 * @stats_block: the block @stats comes from (kipsec_pcpu_free())
 * @sad: the SAD the SA was added to (for its lifetime timer)
 * @dump_id: position in the SAD's dump index
 * @txq: outbound packets in the parallel stage, in sequence order
 * @refcnt: references; the SAD holds one while the SA is linked
 * @lock: protects the inbound replay state
 * @seq_out: last outbound sequence number used (lock-free; under @txq's
 *	lock for packets queued for parallel crypto)
 * @rxq: inbound packets in the parallel stage, in arrival order
 * @lft_packets: packets counted against the byte/packet lifetimes (only
 *	while the SA has such a limit)
 * @lft_bytes: their bytes
 * @aead: AEAD algorithm and key
 * @crypt: cipher and key
 * @auth: integrity algorithm and key
 * @larval_list: FIFO of larval SAs to expire
 * @larval_expires: jiffies when a larval SA is deleted
 * @lft_work: fires at the next time lifetime, or at once when the datapath
 *	sees a limit reached or the first use; holds a reference while pending
 * @free_work: frees the SA after a grace period, in process context
 *
 * Laid out for the packet path, which may run on every CPU at once (the
 * parallel stage): first what it only reads, packed into the first six
 * cache lines (the inbound lookup's key and what every packet reads, then
 * the transforms and addresses, the lifetime limits, the outbound
 * lookup's index and key, then per-route data); then, from a cache line of
 * their own, what every packet writes (the SA's queues, the reference
 * count, the sequence number or the replay lock, the lifetime counters), so
 * that those writes do not take the read-mostly lines away from the CPUs
 * doing the crypto; control-plane data (the keys as configured, timers)
 * last. pahole on the module shows the offsets.
 */
struct kipsec_sa {
	/* Read by every packet, and the inbound lookup's key. */
	struct rhash_head node;
	struct kipsec_sa_id id;
	u8 mode;
	u8 df;
	u8 state;
	bool has_sel;
	u32 flags;
	u32 reqid;
	u32 replay_window;
	struct kipsec_sa_pcpu_stats __percpu *stats;
	struct kipsec_replay *replay;
	struct kipsec_sa_crypto crypto;
	union kipsec_addr saddr;
	struct kipsec_encap_cfg encap;
	struct kipsec_lifetime soft;
	struct kipsec_lifetime hard;
	/* The outbound lookup (per GSO packet). */
	struct rhlist_head by_dst;
	struct rhlist_head by_reqid;
	struct kipsec_sa_dkey dkey;
	u64 add_seq;
	/* Per packet with selectors, per route. */
	struct kipsec_sel sel;
	time64_t use_time;
	atomic_t dst_cache_state;
	u32 pmtu;
	struct dst_cache dst_cache;
	unsigned long pmtu_expires;
	/* Control plane, filling the line. */
	time64_t add_time;
	unsigned long mapping_next;
	struct kipsec_pcpu_block *stats_block;
	struct kipsec_sad *sad;
	u32 dump_id;

	/*
	 * Written by every packet: an outbound SA's in two cache lines, an
	 * inbound SA's in three (an SA carries one direction).
	 */
	struct kipsec_squeue txq ____cacheline_aligned_in_smp;
	refcount_t refcnt;
	spinlock_t lock; /* inbound replay state */
	atomic64_t seq_out;
	struct kipsec_squeue rxq;
	atomic64_t lft_packets;
	atomic64_t lft_bytes;

	/* Control plane. */
	struct kipsec_alg_cfg aead;
	struct kipsec_alg_cfg crypt;
	struct kipsec_alg_cfg auth;
	struct list_head larval_list;
	unsigned long larval_expires;
	struct delayed_work lft_work;
	struct rcu_work free_work;
};

/**
 * struct kipsec_sad - the SAD of one namespace
 * @by_id: SAs by struct kipsec_sa_id (inbound lookup)
 * @by_dst: SAs by destination (outbound, templates without reqid)
 * @by_reqid: SAs by destination and reqid (outbound)
 * @ids: SAs by dump id: dump cursor, flush
 * @next_dump_id: cyclic allocation hint for @ids
 * @larval: larval SAs, oldest first (they all live kipsec_larval_secs)
 * @gc: deletes expired larval SAs
 * @lock: serialises writers; readers use RCU
 * @add_seq: insertion counter
 * @gen: generation, bumped on every change (dump consistency)
 * @count: SAs in the SAD
 * @dying: set at teardown: @gc no longer re-arms
 * @encap_ports: bitmap of UDP ports that ESP-in-UDP SAs receive on (their
 *	destination port); tested without lock on the packet path
 * @encap_refs: ESP-in-UDP SAs per port (xarray values), under @lock
 * @encap_count: ESP-in-UDP SAs in the SAD (READ_ONCE on the packet path)
 * @expired: called (process context, no lock held) when an SA reaches a
 *	soft time limit, and for each SA the SAD deletes by itself (@hard:
 *	hard time limit, larval SA timed out); may be NULL
 */
struct kipsec_sad {
	struct rhashtable by_id;
	struct rhltable by_dst;
	struct rhltable by_reqid;
	struct xarray ids;
	u32 next_dump_id;
	struct list_head larval;
	struct delayed_work gc;
	struct mutex lock; /* writers; readers use RCU */
	u64 add_seq;
	unsigned int gen;
	unsigned int count;
	bool dying;
	unsigned long *encap_ports;
	struct xarray encap_refs;
	unsigned int encap_count;
	void (*expired)(struct kipsec_sad *sad, struct kipsec_sa *sa,
			bool hard);
};

int kipsec_sad_init(struct kipsec_sad *sad);
void kipsec_sad_destroy(struct kipsec_sad *sad);

int kipsec_sa_cfg_check(struct kipsec_sa_cfg *cfg, bool larval,
			struct netlink_ext_ack *extack);
struct kipsec_sa *kipsec_sa_create(const struct kipsec_sa_cfg *cfg,
				   bool larval,
				   struct netlink_ext_ack *extack);
void kipsec_sa_put(struct kipsec_sa *sa);

static inline void kipsec_sa_hold(struct kipsec_sa *sa)
{
	refcount_inc(&sa->refcnt);
}

static inline bool kipsec_sa_usable(const struct kipsec_sa *sa)
{
	u8 state = READ_ONCE(sa->state);

	return state == KIPSEC_SA_STATE_VALID || state == KIPSEC_SA_STATE_DYING;
}

bool kipsec_sa_lft_account(struct kipsec_sa *sa, unsigned int len);
void kipsec_sa_learn_pmtu(struct kipsec_sa *sa, u32 mtu);
void kipsec_sad_learn_pmtu_encap(struct kipsec_sad *sad,
				 const union kipsec_addr *daddr, u16 family,
				 u16 sport, u16 dport, u32 mtu);

/* The outer path MTU @sa learnt and that has not aged out, or 0. */
static inline u32 kipsec_sa_pmtu(const struct kipsec_sa *sa)
{
	u32 mtu = READ_ONCE(sa->pmtu);

	if (mtu && time_after(jiffies, READ_ONCE(sa->pmtu_expires)))
		return 0;
	return mtu;
}

/* Datapath: add @val to counter @idx of @sa. */
static inline void kipsec_sa_stats_add(struct kipsec_sa *sa,
				       enum kipsec_sa_stat idx, u64 val)
{
	struct kipsec_sa_pcpu_stats *s = get_cpu_ptr(sa->stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->cnt[idx], val);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(sa->stats);
}

int kipsec_sad_add(struct kipsec_sad *sad, struct kipsec_sa *sa,
		   struct netlink_ext_ack *extack);
int kipsec_sad_update(struct kipsec_sad *sad, struct kipsec_sa_cfg *cfg,
		      struct kipsec_sa **result,
		      struct netlink_ext_ack *extack);
struct kipsec_sa *kipsec_sad_del(struct kipsec_sad *sad,
				 const struct kipsec_sa_id *id);
unsigned int kipsec_sad_flush(struct kipsec_sad *sad, u8 proto);
int kipsec_sad_getspi(struct kipsec_sad *sad, const struct kipsec_sa_cfg *cfg,
		      u32 spi_min, u32 spi_max, struct kipsec_sa **result,
		      struct netlink_ext_ack *extack);

struct kipsec_sa *kipsec_sa_lookup_rcu(struct kipsec_sad *sad, __be32 spi,
				       const union kipsec_addr *daddr,
				       u16 family, u8 proto);
struct kipsec_sa *kipsec_sa_get(struct kipsec_sad *sad,
				const struct kipsec_sa_id *id);
struct kipsec_sa *kipsec_sa_find_outbound_rcu(struct kipsec_sad *sad,
					      const struct kipsec_tmpl *tmpl,
					      const struct kipsec_flow *flow,
					      const struct kipsec_flow *ep);
void kipsec_sa_stats_fold(const struct kipsec_sa *sa,
			  u64 out[__KIPSEC_SA_STAT_MAX]);

#ifdef KIPSEC_DEBUG
bool kipsec_sa_selftest(void);
#endif

#endif /* _KIPSEC_SA_H */
