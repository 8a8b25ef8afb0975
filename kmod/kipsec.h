/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types shared by every part of the module: addresses, packet flows,
 * selectors, templates and per-CPU counters.
 */

#ifndef _KIPSEC_KIPSEC_H
#define _KIPSEC_KIPSEC_H

#include <linux/atomic.h>
#include <linux/in6.h>
#include <linux/percpu.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <linux/kipsec.h>

#define KIPSEC_VERSION "0.1.0"

/* Module-wide workqueue: deferred frees that may sleep, SA timers. */
extern struct workqueue_struct *kipsec_wq;

/* Per-namespace limits (module parameters, read with READ_ONCE). */
extern unsigned int kipsec_max_sas;
extern unsigned int kipsec_max_policies;
/* Lifetime of larval SAs (module parameter, fixed at load). */
extern unsigned int kipsec_larval_secs;

/* SA and policy objects allocated and not yet freed, for leak checks. */
extern atomic_t kipsec_live_sas;
extern atomic_t kipsec_live_policies;

/*
 * An IPv4 or IPv6 address. IPv4 addresses use the first four bytes and the
 * rest is zero, so that hashing and comparing 16 bytes works for both.
 */
union kipsec_addr {
	__be32 a4;
	__be32 a6[4];
	struct in6_addr in6;
	u8 b[16];
};

static inline unsigned int kipsec_addr_len(u16 family)
{
	return family == AF_INET ? 4 : 16;
}

static inline unsigned int kipsec_max_plen(u16 family)
{
	return family == AF_INET ? 32 : 128;
}

static inline bool kipsec_addr_equal(const union kipsec_addr *a,
				     const union kipsec_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static inline bool kipsec_addr_any(const union kipsec_addr *a)
{
	return !(a->a6[0] | a->a6[1] | a->a6[2] | a->a6[3]);
}

void kipsec_addr_mask(union kipsec_addr *dst, const union kipsec_addr *src,
		      u16 family, u8 plen);

/**
 * struct kipsec_flow - the tuple the SPD is searched with
 * @saddr: source address
 * @daddr: destination address
 * @family: AF_INET or AF_INET6
 * @proto: upper-layer protocol (0 if unknown)
 * @icmp_type: ICMP or ICMPv6 type, if @proto is ICMP
 * @icmp_code: ICMP or ICMPv6 code, if @proto is ICMP
 * @sport: source port, host order (0 if none)
 * @dport: destination port, host order (0 if none)
 * @flags: KIPSEC_FLOW_F_*
 */
struct kipsec_flow {
	union kipsec_addr saddr;
	union kipsec_addr daddr;
	u16 family;
	u8 proto;
	u8 icmp_type;
	u8 icmp_code;
	u8 flags;
	u16 sport;
	u16 dport;
};

/* No ports or ICMP type known (non-first fragment): port selectors miss. */
#define KIPSEC_FLOW_F_OPAQUE	BIT(0)

#define KIPSEC_SEL_F_ICMP_TYPE	BIT(0)
#define KIPSEC_SEL_F_ICMP_CODE	BIT(1)

/**
 * struct kipsec_sel - a traffic selector (policy or SA)
 * @saddr: source prefix, host bits cleared
 * @daddr: destination prefix, host bits cleared
 * @family: AF_INET or AF_INET6
 * @splen: source prefix length
 * @dplen: destination prefix length
 * @proto: upper-layer protocol, 0 for any
 * @flags: KIPSEC_SEL_F_* (which ICMP fields are set)
 * @icmp_type: ICMP type, if KIPSEC_SEL_F_ICMP_TYPE
 * @icmp_code: ICMP code, if KIPSEC_SEL_F_ICMP_CODE
 * @sport_min: lowest source port (host order)
 * @sport_max: highest source port
 * @dport_min: lowest destination port
 * @dport_max: highest destination port
 */
struct kipsec_sel {
	union kipsec_addr saddr;
	union kipsec_addr daddr;
	u16 family;
	u8 splen;
	u8 dplen;
	u8 proto;
	u8 flags;
	u8 icmp_type;
	u8 icmp_code;
	u16 sport_min;
	u16 sport_max;
	u16 dport_min;
	u16 dport_max;
};

bool kipsec_sel_match(const struct kipsec_sel *sel,
		      const struct kipsec_flow *flow);
bool kipsec_proto_has_ports(u8 proto);
bool kipsec_proto_is_icmp(u16 family, u8 proto);

/**
 * struct kipsec_tmpl - a policy template: which SA must protect the flow
 * @saddr: tunnel source (tunnel mode), or any
 * @daddr: tunnel destination (tunnel mode), or any
 * @family: family of @saddr/@daddr, 0 when none is given
 * @proto: IPPROTO_ESP or IPPROTO_AH
 * @mode: enum kipsec_mode
 * @level: enum kipsec_level
 * @reqid: request id, 0 for any
 * @spi: SPI, 0 for any
 */
struct kipsec_tmpl {
	union kipsec_addr saddr;
	union kipsec_addr daddr;
	u16 family;
	u8 proto;
	u8 mode;
	u8 level;
	u32 reqid;
	__be32 spi;
};

/**
 * struct kipsec_pcpu_stats - per-CPU counters, indexed by enum kipsec_stat
 * @cnt: the counters
 * @syncp: makes 64-bit reads consistent on 32-bit hosts
 */
struct kipsec_pcpu_stats {
	u64_stats_t cnt[__KIPSEC_STAT_MAX];
	struct u64_stats_sync syncp;
};

/*
 * Counters may be bumped from process context (local output) and softirq on
 * the same CPU: the irqsave variant keeps the 32-bit seqcount sane and costs
 * nothing on 64-bit.
 */
static inline void kipsec_stats_add(struct kipsec_pcpu_stats __percpu *stats,
				    enum kipsec_stat idx, u64 val)
{
	struct kipsec_pcpu_stats *s = get_cpu_ptr(stats);
	unsigned long flags;

	flags = u64_stats_update_begin_irqsave(&s->syncp);
	u64_stats_add(&s->cnt[idx], val);
	u64_stats_update_end_irqrestore(&s->syncp, flags);
	put_cpu_ptr(stats);
}

static inline void kipsec_stats_inc(struct kipsec_pcpu_stats __percpu *stats,
				    enum kipsec_stat idx)
{
	kipsec_stats_add(stats, idx, 1);
}

struct kipsec_pcpu_stats __percpu *kipsec_stats_alloc(void);
void kipsec_stats_fold(struct kipsec_pcpu_stats __percpu *stats,
		       u64 out[__KIPSEC_STAT_MAX]);

#ifdef KIPSEC_DEBUG
/*
 * In a debug build's self-test: when @cond is false, log @what as a
 * failure of the self-test @name and clear the caller's @ok.
 */
#define KIPSEC_ST_CHECK(ok, name, cond, what) do {			\
		if (!(cond)) {						\
			pr_err("%s self-test: %s\n", name, what);	\
			(ok) = false;					\
		}							\
	} while (0)
#endif

#endif /* _KIPSEC_KIPSEC_H */
