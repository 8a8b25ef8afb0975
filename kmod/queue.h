/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parallel crypto with in-order completion: the packets of one SA are
 * encrypted or decrypted on every CPU and leave the SA in the order they
 * entered it.
 */

#ifndef _KIPSEC_QUEUE_H
#define _KIPSEC_QUEUE_H

#include <linux/skbuff.h>
#include <linux/workqueue.h>

struct kipsec_qops;

/**
 * struct kipsec_squeue - the packets of one SA and direction, in order
 * @q: packets whose crypto is pending or done, oldest first; its lock
 *	also orders outbound sequence numbers
 * @running: bit 0 set while one context delivers from the head
 * @tick: the jiffy that @tick_pkts counts in (under @q's lock)
 * @tick_pkts: packets that entered the queue during @tick
 * @last_pkts: packets that entered it during the jiffy before @tick
 * @ops: the direction's handlers
 * @work: delivers from the head on @cpu
 * @cpu: the home CPU, where every packet of the queue is delivered; -1
 *	until the first packet (see kipsec_squeue_enter())
 * @strays: packets in a row that came in on another CPU than @cpu and
 *	found nothing queued or being delivered, each after the first at
 *	least %KIPSEC_STRAY_GAP_NS after the one before
 * @stray_ns: when the last of those came (ktime_get_mono_fast_ns())
 */
struct kipsec_squeue {
	struct sk_buff_head q;
	unsigned long running;
	unsigned long tick;
	unsigned int tick_pkts;
	unsigned int last_pkts;
	const struct kipsec_qops *ops;
	struct work_struct work;
	int cpu;
	unsigned int strays;
	u64 stray_ns;
};

/* At most this many packets of one SA and direction wait in the queue. */
#define KIPSEC_SQUEUE_LEN	1024

/*
 * An SA and direction carrying at least this many packets per second has
 * its packets spread over the CPUs even when they come one at a time.
 */
#define KIPSEC_SPREAD_RATE	2000

/* An SA and direction idle this long may move its home CPU (jiffies). */
#define KIPSEC_REHOME_IDLE	HZ

/*
 * So may one whose packets come in on another CPU this often in a row,
 * each at least this long (ns) after the one before.
 */
#define KIPSEC_REHOME_STRAYS	4
#define KIPSEC_STRAY_GAP_NS	(2 * NSEC_PER_MSEC)

/**
 * enum kipsec_qstate - where a packet is in the parallel stage
 *	(kipsec_cb(skb)->qstate)
 * @KIPSEC_Q_NONE: not queued: crypto runs in the caller's context
 * @KIPSEC_Q_OUT: queued on its SA's outbound queue, crypto pending
 * @KIPSEC_Q_IN: queued on its SA's inbound queue, crypto pending
 * @KIPSEC_Q_DONE: crypto completed, kipsec_cb(skb)->qerr is its result
 * @KIPSEC_Q_FAILED: crypto could not start, kipsec_cb(skb)->qerr says why
 */
enum kipsec_qstate {
	KIPSEC_Q_NONE,
	KIPSEC_Q_OUT,
	KIPSEC_Q_IN,
	KIPSEC_Q_DONE,
	KIPSEC_Q_FAILED,
};

/**
 * struct kipsec_qops - one direction of the datapath, as the queue sees it
 * @crypt: start the crypto of a packet (worker context); returns 0 if the
 *	packet was handed on (its completion will come), or a negative errno
 * @done: a packet whose crypto completed, in order (bottom halves off)
 * @failed: a packet whose crypto could not start, in order (bottom halves
 *	off); @err is what @crypt returned
 */
struct kipsec_qops {
	int (*crypt)(struct sk_buff *skb);
	void (*done)(struct sk_buff *skb, int err);
	void (*failed)(struct sk_buff *skb, int err);
};

extern const struct kipsec_qops kipsec_qops_out;
extern const struct kipsec_qops kipsec_qops_in;

void kipsec_squeue_init(struct kipsec_squeue *sq,
			const struct kipsec_qops *ops);
void kipsec_squeue_destroy(struct kipsec_squeue *sq);
bool kipsec_squeue_enter(struct kipsec_squeue *sq, struct sk_buff *skb);
bool kipsec_parallel(void);
void kipsec_queue_crypt(struct sk_buff *skb, bool spread);
void kipsec_queue_complete(struct kipsec_squeue *sq, struct sk_buff *skb,
			   int err, bool failed);
int kipsec_queue_init(void);
void kipsec_queue_exit(void);

#ifdef KIPSEC_DEBUG
bool kipsec_queue_selftest(void);
#endif

#endif /* _KIPSEC_QUEUE_H */
