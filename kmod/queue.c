// SPDX-License-Identifier: GPL-2.0
/*
 * Parallel crypto with in-order completion.
 *
 * Without it, a packet is encrypted or decrypted on the CPU that handles
 * it, as in the native stack: one busy SA (one tunnel carrying a few large
 * flows) keeps one CPU busy and leaves the others idle. Here the hook puts
 * the packet on its SA's queue (struct kipsec_squeue: arrival order;
 * outbound sequence numbers are assigned under the queue's lock, so the
 * queue is also in sequence order). A packet alone on a quiet SA has its
 * crypto started at once by the hook; the packets of a burst (a backlog on
 * the SA, the segments of a GSO packet) and those of a busy SA (a high
 * packet rate, even one packet at a time) go to the CPUs in turn: the hook's
 * own CPU handles its turns directly, the others through the ring of their
 * worker, which starts the crypto of each packet it takes. The hook's CPU
 * gives its own turn to the next CPU when that one's ring is empty: it is
 * the CPU that also carries the rest of the packet's path (the sender's
 * system call, the receiver's stack), so it keeps only its share of a
 * backlog. A completion, synchronous or asynchronous, marks its packet
 * done and then delivers from the head of the SA's queue every packet that
 * is done, in order, to the direction's handlers (the same ones the
 * unqueued path calls). One context delivers from a queue at a time
 * (@running); a packet completed while another context delivers is taken
 * by that one, which looks at the head again after letting go.
 *
 * Packets are delivered on one CPU per SA, its home CPU: a completion
 * elsewhere hands the delivery to the queue's work item on that CPU.
 * Delivered from whichever CPU completed the head, one SA's packets would
 * be sent (or received) from every CPU, into each CPU's own backlog of the
 * next device (veth, a tunnel; on input, kipsec0's GRO cells), and a
 * backlog whose processing is deferred is overtaken by the others: the
 * peer would see the SA's sequence numbers out of order, and drop all
 * those that fall behind its replay window (on input, the inner flows
 * would be reordered). A single packet sent from another CPU is enough,
 * if it overtakes a long backlog: so the packet alone on a quiet SA,
 * whose crypto runs where it came in, is delivered on the home CPU too.
 * The home CPU is where the SA's first packet came in, and moves to where
 * a packet comes in after the SA was idle for a second (or when it goes
 * offline): an inbound SA's packets arrive on one CPU (a NIC's receive
 * queue, the peer's own home CPU), and a flow's reply tends to come back
 * where the request went, so a request and its answer (a ping) usually
 * find each SA at home and pay no hand-over.
 *
 * Every queued packet holds a reference to its SA, where its queue lives,
 * and counts in its namespace's in-flight packets, so namespace exit and
 * module unload wait until the queues are empty. A handler may drop the
 * SA's last reference while its queue is still being looked at: delivery
 * runs under rcu_read_lock() and SAs are freed after a grace period; the
 * work item may look at the queue after its last packet is gone, and the
 * SA's free waits for it (kipsec_squeue_destroy()).
 *
 * Each CPU's ring is a ptr_ring: producers (any CPU, bottom halves off)
 * share its producer lock, only that CPU's worker consumes. When every
 * ring is full the producer does the crypto itself; the packet is on its
 * SA's queue by then, so the order holds. A producer queues the worker only
 * when it is not already emptying the ring (@draining): queueing a running
 * work item of this CPU-intensive workqueue would wake an idle kworker
 * only to hand the item back to the one running it.
 */

#include <linux/cpumask.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/ptr_ring.h>
#include <linux/rcupdate.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "esp.h"
#include "queue.h"
#include "sa.h"

#define KIPSEC_RING_LEN		1024
#define KIPSEC_WORKER_BATCH	64

/**
 * struct kipsec_cpu_queue - one CPU's share of the crypto
 * @ring: packets whose crypto this CPU starts
 * @work: the worker emptying @ring
 * @last_cpu: producers on this CPU: the CPU they gave the last packet to
 * @draining: set while @work empties @ring; it looks at @ring once more
 *	after clearing it
 */
struct kipsec_cpu_queue {
	struct ptr_ring ring;
	struct work_struct work;
	int last_cpu;
	bool draining;
};

static struct kipsec_cpu_queue __percpu *cpu_queues;
static struct workqueue_struct *crypt_wq;

/*
 * 0: never, 1: when more than one CPU is online, 2: always (one CPU too).
 * The debug build, which the selftests load, defaults to 2 so that guests
 * with one vCPU exercise the queues as well.
 */
#ifdef KIPSEC_DEBUG
static unsigned int parallel = 2;
#else
static unsigned int parallel = 1;
#endif
module_param(parallel, uint, 0644);
MODULE_PARM_DESC(parallel,
		 "spread each SA's crypto over the CPUs, packets kept in order: 0 never, 1 with more than one CPU (default), 2 always");

static void squeue_work(struct work_struct *work);

/**
 * kipsec_squeue_init() - initialise an empty SA queue
 * @sq: the queue
 * @ops: its direction's handlers
 */
void kipsec_squeue_init(struct kipsec_squeue *sq,
			const struct kipsec_qops *ops)
{
	skb_queue_head_init(&sq->q);
	sq->running = 0;
	sq->tick = jiffies;
	sq->tick_pkts = 0;
	sq->last_pkts = 0;
	sq->ops = ops;
	INIT_WORK(&sq->work, squeue_work);
	sq->cpu = -1;
	sq->strays = 0;
	sq->stray_ns = 0;
}

/**
 * kipsec_squeue_destroy() - wait for an SA queue's work item
 * @sq: the queue, empty: its SA is being freed
 *
 * Process context. The work item may still be looking at the queue after
 * delivering its last packet, which dropped the SA's last reference.
 */
void kipsec_squeue_destroy(struct kipsec_squeue *sq)
{
	cancel_work_sync(&sq->work);
}

/*
 * Counts a stray: a packet that came in on another CPU than the home one
 * and found nothing of the SA queued or being delivered. Returns whether
 * it is the last of %KIPSEC_REHOME_STRAYS in a row, the ones after the
 * first each %KIPSEC_STRAY_GAP_NS or more after the one before: a sparse
 * flow whose sender or receive queue moved, whose every packet would pay a
 * hand-over to the old home CPU. A faster flow keeps its home even then:
 * its packets can find nothing to deliver while the old home CPU still
 * holds a backlog of them further down the stack (its softirqs deferred),
 * which the next ones would overtake. The clock is read for strays only:
 * under emulation it may be a slow device.
 */
static bool squeue_stray(struct kipsec_squeue *sq, u64 (*clock)(void))
{
	u64 ns = clock();
	bool sparse = !sq->strays || ns - sq->stray_ns >= KIPSEC_STRAY_GAP_NS;

	sq->stray_ns = ns;
	sq->strays = sparse ? sq->strays + 1 : 1;
	return sq->strays >= KIPSEC_REHOME_STRAYS;
}

/*
 * kipsec_squeue_enter() on @cpu at jiffy @now, @clock the one
 * squeue_stray() reads: the self-tests give their own.
 */
static bool squeue_enter(struct kipsec_squeue *sq, struct sk_buff *skb,
			 int cpu, unsigned long now, u64 (*clock)(void))
{
	unsigned int busy = DIV_ROUND_UP(KIPSEC_SPREAD_RATE, HZ);
	bool pending = !skb_queue_empty(&sq->q);
	/* squeue_cpu() may move it without the lock. */
	int home = READ_ONCE(sq->cpu);

	if (pending || cpu == home || test_bit(0, &sq->running)) {
		sq->strays = 0;
	} else if (home < 0 ||
		   time_after(now, sq->tick + KIPSEC_REHOME_IDLE) ||
		   squeue_stray(sq, clock)) {
		WRITE_ONCE(sq->cpu, cpu);
		sq->strays = 0;
	}
	if (now != sq->tick) {
		sq->last_pkts = now - sq->tick == 1 ? sq->tick_pkts : 0;
		sq->tick = now;
		sq->tick_pkts = 0;
	}
	sq->tick_pkts++;
	__skb_queue_tail(&sq->q, skb);
	return pending || sq->tick_pkts >= busy || sq->last_pkts >= busy;
}

/**
 * kipsec_squeue_enter() - put a packet at the tail of its SA's queue
 * @sq: the queue, its lock held (the caller assigns what must follow
 *	the queue's order, such as the outbound sequence number, under it)
 * @skb: the packet, its kipsec_cb(skb)->qstate set
 *
 * Return: whether the packet's crypto should go to the CPUs in turn
 * rather than stay on this one (kipsec_queue_crypt()'s @spread): other
 * packets of the SA are pending, or the SA is busy, carrying
 * %KIPSEC_SPREAD_RATE packets per second or more in this jiffy or the one
 * before. A busy SA whose packets come one at a time (a stream of small
 * datagrams, forwarded traffic from one receive queue) would otherwise
 * never have a backlog and stay on one CPU; a sparse one (a ping, a
 * request now and then) keeps the latency of being handled at once.
 *
 * The SA's first packet, the first after it was idle for
 * %KIPSEC_REHOME_IDLE, and the last of a sparse run of strays (see
 * squeue_stray()) make this CPU the queue's home CPU. After an idle
 * period, a delivery from the old home CPU may still be under way (its
 * packets came in before the SA went idle), so it may leave after this
 * packet does: one packet's reordering, once.
 */
bool kipsec_squeue_enter(struct kipsec_squeue *sq, struct sk_buff *skb)
{
	lockdep_assert_held(&sq->q.lock);
	return squeue_enter(sq, skb, raw_smp_processor_id(), jiffies,
			    ktime_get_mono_fast_ns);
}

/**
 * kipsec_parallel() - whether new packets go through the parallel stage
 *
 * Return: what the module parameter parallel says for the CPUs online.
 */
bool kipsec_parallel(void)
{
	unsigned int p = READ_ONCE(parallel);

	return p >= 2 || (p == 1 && num_online_cpus() > 1);
}

static struct kipsec_squeue *skb_squeue(struct sk_buff *skb)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);

	return cb->qstate == KIPSEC_Q_OUT ? &cb->sa->txq : &cb->sa->rxq;
}

/*
 * Moves the packets at the head of @sq whose crypto is over, at most
 * KIPSEC_WORKER_BATCH of them, to @done: one hold of the queue's lock per
 * batch rather than per packet. Bottom halves are off.
 */
static void squeue_pop_done(struct kipsec_squeue *sq,
			    struct sk_buff_head *done)
{
	struct sk_buff *skb;

	spin_lock(&sq->q.lock);
	while ((skb = skb_peek(&sq->q))) {
		/* Pairs with kipsec_queue_complete()'s release: qerr is visible. */
		if (smp_load_acquire(&kipsec_cb(skb)->qstate) < KIPSEC_Q_DONE)
			break;
		__skb_unlink(skb, &sq->q);
		__skb_queue_tail(done, skb);
		if (skb_queue_len(done) == KIPSEC_WORKER_BATCH)
			break;
	}
	spin_unlock(&sq->q.lock);
}

static bool squeue_head_done(struct kipsec_squeue *sq)
{
	struct sk_buff *skb;
	bool done;

	spin_lock_bh(&sq->q.lock);
	skb = skb_peek(&sq->q);
	/* Pairs with kipsec_queue_complete()'s release. */
	done = skb && smp_load_acquire(&kipsec_cb(skb)->qstate) >= KIPSEC_Q_DONE;
	spin_unlock_bh(&sq->q.lock);
	return done;
}

/*
 * Hands every done packet at the head of @sq to its handlers, in order,
 * at most one batch, unless another context is at it. Returns whether the
 * head was done again once it let go: the caller goes round once more.
 * Caller holds rcu_read_lock().
 *
 * A completer stores its packet's state, then tests @running (a fully
 * ordered atomic, or a full barrier then a test); the deliverer clears
 * @running, then (full barrier) looks at the head: one of them sees the
 * other's write, so no done packet is left behind.
 */
static bool squeue_deliver_once(struct kipsec_squeue *sq)
{
	const struct kipsec_qops *ops = sq->ops;
	struct sk_buff_head done;
	struct sk_buff *skb;

	if (test_and_set_bit(0, &sq->running))
		return false;
	__skb_queue_head_init(&done);
	local_bh_disable();
	squeue_pop_done(sq, &done);
	while ((skb = __skb_dequeue(&done))) {
		struct kipsec_skb_cb *cb = kipsec_cb(skb);
		bool failed = cb->qstate == KIPSEC_Q_FAILED;
		int err = cb->qerr;

		cb->qstate = KIPSEC_Q_NONE;
		if (failed)
			ops->failed(skb, err);
		else
			ops->done(skb, err);
	}
	/* The softirqs the batch raised run here. */
	local_bh_enable();
	clear_bit(0, &sq->running);
	/* Orders the clear before the look at the head (see above). */
	smp_mb__after_atomic();
	return squeue_head_done(sq);
}

/*
 * The home CPU of @sq (set by kipsec_squeue_enter()), or this one if that
 * went offline (the SA's packets may then leave out of order once). A
 * hint that races with CPU hotplug: a work item queued on a CPU going
 * down still runs.
 */
static int squeue_cpu(struct kipsec_squeue *sq)
{
	int cpu = READ_ONCE(sq->cpu);

	if (likely(cpu >= 0 && cpu_online(cpu)))
		return cpu;
	cpu = raw_smp_processor_id();
	WRITE_ONCE(sq->cpu, cpu);
	return cpu;
}

/* Delivers from @sq on its home CPU, in process context. */
static void squeue_work(struct work_struct *work)
{
	struct kipsec_squeue *sq = container_of(work, struct kipsec_squeue,
						work);
	bool again;

	do {
		rcu_read_lock();
		again = squeue_deliver_once(sq);
		rcu_read_unlock();
		cond_resched();
	} while (again);
}

/*
 * Has the work item deliver from @sq on the home CPU, unless another
 * context is delivering (it will see the packet just completed), the work
 * item is queued and not started yet (it will too: the workqueue clears
 * the pending bit, then a full barrier, before it starts the item) or the
 * head is still pending (its completion will look again).
 */
static void squeue_kick(struct kipsec_squeue *sq)
{
	/* The packet's state before @running (see squeue_deliver_once()). */
	smp_mb();
	if (test_bit(0, &sq->running) || work_pending(&sq->work) ||
	    !squeue_head_done(sq))
		return;
	queue_work_on(squeue_cpu(sq), crypt_wq, &sq->work);
}

/**
 * kipsec_queue_complete() - a queued packet's crypto is over
 * @sq: its SA's queue for its direction
 * @skb: the packet; may be gone when this returns
 * @err: the crypto result, or why it could not start
 * @failed: the crypto could not start (@err is from kipsec_qops.crypt)
 *
 * Softirq or process context. Delivers what is now deliverable at the head
 * of @sq: one batch here on the SA's home CPU, the rest (or everything,
 * on another CPU) through the queue's work item there, so that a busy SA
 * does not keep a softirq delivering. With parallel=2 the home CPU hands
 * everything to the work item too, so that a guest with one vCPU
 * exercises it.
 */
void kipsec_queue_complete(struct kipsec_squeue *sq, struct sk_buff *skb,
			   int err, bool failed)
{
	struct kipsec_skb_cb *cb = kipsec_cb(skb);
	int cpu;

	/* Bottom halves off: no migration between the CPU test and the rest. */
	local_bh_disable();
	rcu_read_lock();
	cb->qerr = err;
	/* qerr before the state: the deliverer reads them in that order. */
	smp_store_release(&cb->qstate,
			  failed ? KIPSEC_Q_FAILED : KIPSEC_Q_DONE);
	cpu = squeue_cpu(sq);
	if (smp_processor_id() != cpu || READ_ONCE(parallel) >= 2)
		squeue_kick(sq);
	else if (squeue_deliver_once(sq))
		/* More is done: the work item takes it from here. */
		queue_work_on(cpu, crypt_wq, &sq->work);
	rcu_read_unlock();
	local_bh_enable();
}

/* Starts the crypto of a queued packet, or reports why it cannot. */
static void crypt_one(struct sk_buff *skb)
{
	struct kipsec_squeue *sq = skb_squeue(skb);
	int err;

	err = sq->ops->crypt(skb);
	/* 0: the completion has the packet (it may be gone already). */
	if (err)
		kipsec_queue_complete(sq, skb, err, true);
}

static void crypt_worker(struct work_struct *work)
{
	struct kipsec_cpu_queue *cq = container_of(work, struct kipsec_cpu_queue,
						   work);
	unsigned int n = 0;
	struct sk_buff *skb;

	for (;;) {
		WRITE_ONCE(cq->draining, true);
		while ((skb = ptr_ring_consume_bh(&cq->ring))) {
			crypt_one(skb);
			if (!(++n % KIPSEC_WORKER_BATCH))
				cond_resched();
		}
		WRITE_ONCE(cq->draining, false);
		/*
		 * The flag before the look at the ring; pairs with
		 * kipsec_queue_crypt()'s barrier: a packet produced meanwhile
		 * is either seen here or its producer sees the flag clear and
		 * queues this work again.
		 */
		smp_mb();
		if (ptr_ring_empty_bh(&cq->ring))
			break;
	}
}

static int next_online_cpu(int cpu)
{
	cpu = cpumask_next(cpu, cpu_online_mask);
	return cpu < nr_cpu_ids ? cpu : cpumask_first(cpu_online_mask);
}

/**
 * kipsec_queue_crypt() - start a queued packet's crypto
 * @skb: the packet, on its SA's queue with kipsec_cb(skb)->qstate
 *	KIPSEC_Q_OUT or KIPSEC_Q_IN; it belongs to the queue from here on
 * @spread: other packets of the SA are pending or follow at once (a
 *	backlog, the segments of a GSO packet), or the SA is busy (see
 *	kipsec_squeue_enter())
 *
 * Softirq or process context. A packet alone on a quiet SA has its crypto
 * done here and now: handing it to another CPU would add a wake-up to its
 * latency (its delivery may still take one: kipsec_queue_complete()).
 * Packets of a burst or of a busy SA go to the CPUs in turn; this CPU's
 * turns are handled here, the others by their workers (here too when a
 * ring is full). This CPU's turn goes to the next CPU instead when that
 * one's ring is empty. With parallel=2 this CPU's turns go through its
 * worker as well, so that a guest with one vCPU exercises the rings and
 * workers.
 */
void kipsec_queue_crypt(struct sk_buff *skb, bool spread)
{
	struct kipsec_cpu_queue *self, *cq;
	int cpu, this, next;

	if (!spread)
		goto here;
	local_bh_disable();
	self = this_cpu_ptr(cpu_queues);
	this = smp_processor_id();
	cpu = next_online_cpu(self->last_cpu);
	if (cpu == this) {
		next = next_online_cpu(cpu);
		/*
		 * A hint, read without the consumer's lock (the ring is
		 * never resized): a stale answer only moves one packet's
		 * crypto to the other CPU.
		 */
		if (next != this &&
		    __ptr_ring_empty(&per_cpu_ptr(cpu_queues, next)->ring))
			cpu = next;
	}
	self->last_cpu = cpu;
	if (cpu == this && READ_ONCE(parallel) < 2) {
		local_bh_enable();
		goto here;
	}
	cq = per_cpu_ptr(cpu_queues, cpu);
	if (likely(!ptr_ring_produce(&cq->ring, skb))) {
		/*
		 * The packet before the look at the worker's flag; pairs
		 * with crypt_worker()'s barrier.
		 */
		smp_mb();
		if (!READ_ONCE(cq->draining))
			queue_work_on(cpu, crypt_wq, &cq->work);
		local_bh_enable();
		return;
	}
	local_bh_enable();
here:
	crypt_one(skb);
}

static void queue_free_rings(void)
{
	int cpu;

	for_each_possible_cpu(cpu)
		ptr_ring_cleanup(&per_cpu_ptr(cpu_queues, cpu)->ring, NULL);
	free_percpu(cpu_queues);
}

/**
 * kipsec_queue_init() - the workers and their rings
 *
 * Return: 0 or -ENOMEM.
 */
int kipsec_queue_init(void)
{
	int cpu;

	cpu_queues = alloc_percpu(struct kipsec_cpu_queue);
	if (!cpu_queues)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct kipsec_cpu_queue *cq = per_cpu_ptr(cpu_queues, cpu);

		if (ptr_ring_init(&cq->ring, KIPSEC_RING_LEN, GFP_KERNEL))
			goto err;
		INIT_WORK(&cq->work, crypt_worker);
		cq->last_cpu = -1;
	}
	crypt_wq = alloc_workqueue("kipsec-crypt",
				   WQ_CPU_INTENSIVE | WQ_MEM_RECLAIM, 0);
	if (!crypt_wq)
		goto err;
	return 0;
err:
	queue_free_rings();
	return -ENOMEM;
}

/**
 * kipsec_queue_exit() - stop the workers
 *
 * Every namespace is gone, so every queued packet has been delivered. A
 * completion may still be about to queue its SA's work item: it does so
 * under rcu_read_lock() after its packet has left the in-flight count.
 */
void kipsec_queue_exit(void)
{
	synchronize_rcu();
	destroy_workqueue(crypt_wq);
	queue_free_rings();
}

#ifdef KIPSEC_DEBUG
#include "selftest/queue.c"
#endif
