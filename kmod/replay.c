// SPDX-License-Identifier: GPL-2.0
/*
 * Anti-replay window and extended sequence numbers (RFC 4303 3.3.3, 3.4.3,
 * Appendix A), with the bitmap kept as a ring of words (RFC 6479).
 *
 * Inbound, per packet, under the SA's lock:
 *
 *	kipsec_replay_check()	before the ICV: infer the 64-bit number,
 *				reject what is surely a replay
 *	(unlock, verify the ICV with the inferred high bits, lock)
 *	kipsec_replay_advance()	after a good ICV: check again, since
 *				another CPU may have accepted the same number
 *				meanwhile, then mark it and move the window
 *
 * Nothing moves the window before the ICV is verified, so forged packets
 * cannot push it forward (RFC 4303 3.4.3).
 */

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <asm/byteorder.h>

#include "replay.h"

#define WORD_SHIFT	ilog2(BITS_PER_LONG)

static unsigned long bit_of(const struct kipsec_replay *r, u64 seq)
{
	return (unsigned long)seq &
	       ((unsigned long)r->nblocks * BITS_PER_LONG - 1);
}

/**
 * kipsec_replay_init() - set up the inbound state of a new SA
 * @r: state, followed by kipsec_replay_bmp_size(@size) bytes of bitmap
 * @size: window in packets, 0..%KIPSEC_REPLAY_MAX; 0 disables the check
 * @esn: extended sequence numbers
 * @seq_in: highest number already received (0 for a fresh SA)
 *
 * An SA created with a non-zero @seq_in (moved, or restored from user
 * space) has no record of which numbers below it arrived: all of them are
 * treated as seen, so a packet reordered across the move is dropped rather
 * than a replay accepted.
 *
 * ESN needs a window, because the high bits are inferred from its position
 * (Appendix A2.2): ESN with @size 0 is refused, and SA validation must
 * refuse it first with an extack message.
 *
 * Return: 0, or -EINVAL for a window above the maximum, ESN without a
 * window, or a @seq_in above 2^32 - 1 without ESN.
 */
int kipsec_replay_init(struct kipsec_replay *r, u32 size, bool esn,
		       u64 seq_in)
{
	if (size > KIPSEC_REPLAY_MAX || (esn && !size) ||
	    seq_in > kipsec_seq_limit(esn))
		return -EINVAL;

	r->top = seq_in;
	r->size = size;
	r->nblocks = kipsec_replay_blocks(size);
	r->esn = esn;
	if (!r->nblocks)
		return 0;

	if (!seq_in) {
		memset(r->bmp, 0, kipsec_replay_bmp_size(size));
		return 0;
	}

	/*
	 * Everything at or below @top counts as seen. The bits above @top in
	 * its word must stay clear: they are not cleared again before @top
	 * passes them.
	 */
	memset(r->bmp, 0xff, kipsec_replay_bmp_size(size));
	r->bmp[(seq_in >> WORD_SHIFT) & (r->nblocks - 1)] =
		BITMAP_LAST_WORD_MASK((seq_in & (BITS_PER_LONG - 1)) + 1);
	return 0;
}

/*
 * RFC 4303 Appendix A2.2: the window, of @r->size numbers ending at @top,
 * lies either within one 2^32 block of numbers (case A) or across two
 * (case B); a low half above the bottom of the window belongs to the
 * window's block, one below it to the next (A) or current (B) block.
 * Numbers before the first block or after the last cannot be sent: they
 * are rejected here instead of wrapping.
 */
static int infer_esn(const struct kipsec_replay *r, u32 lo, u64 *seq64)
{
	u32 tl = lower_32_bits(r->top);
	u32 th = upper_32_bits(r->top);
	u32 bottom = tl - r->size + 1;
	u32 hi = th;

	if (tl >= r->size - 1) {
		if (lo < bottom) {
			if (th == U32_MAX)
				return -EINVAL;
			hi = th + 1;
		}
	} else if (lo >= bottom) {
		if (!th)
			return -EINVAL;
		hi = th - 1;
	}

	*seq64 = (u64)hi << 32 | lo;
	return 0;
}

static int window_check(const struct kipsec_replay *r, u64 seq64)
{
	if (!r->size || seq64 > r->top)
		return 0;
	if (!seq64 || r->top - seq64 >= r->size)
		return -EINVAL;
	if (test_bit(bit_of(r, seq64), r->bmp))
		return -EINVAL;
	return 0;
}

/**
 * kipsec_replay_check() - may a received packet be processed?
 * @r: state (under the SA's lock)
 * @net_seq_lo: the sequence number field of the packet, network order
 * @seq64: the full 64-bit sequence number; without ESN the high half is
 *	0, with ESN it is inferred and must go into the ICV computation
 *	(kipsec_replay_seq_hi()). Set whenever 0 is returned.
 *
 * Nothing is recorded: call kipsec_replay_advance() with @seq64 once the
 * ICV is good.
 *
 * Return: 0 if the packet may be processed; -EINVAL if it is a replay,
 * older than the window, number 0 with the check enabled (the first
 * packet is number 1), or would lie outside the ESN number space.
 */
int kipsec_replay_check(const struct kipsec_replay *r, __be32 net_seq_lo,
			u64 *seq64)
{
	u32 lo = be32_to_cpu(net_seq_lo);
	u64 seq = lo;
	int err;

	if (r->esn) {
		err = infer_esn(r, lo, &seq);
		if (err)
			return err;
	}

	err = window_check(r, seq);
	if (!err)
		*seq64 = seq;
	return err;
}

/* Clear the words that enter the window as @top moves up to @seq64. */
static void slide(struct kipsec_replay *r, u64 seq64)
{
	u64 from = r->top >> WORD_SHIFT;
	u64 to = seq64 >> WORD_SHIFT;
	u32 mask = r->nblocks - 1;

	if (to - from >= r->nblocks) {
		memset(r->bmp, 0, r->nblocks * sizeof(r->bmp[0]));
		return;
	}
	while (from++ < to)
		r->bmp[from & mask] = 0;
}

/**
 * kipsec_replay_advance() - record a packet whose ICV was verified
 * @r: state (under the SA's lock)
 * @seq64: the number kipsec_replay_check() returned for the packet
 *
 * The check is repeated because the lock was dropped for the ICV
 * verification: another CPU may have accepted the same number, or moved
 * the window past it, in between.
 *
 * Return: 0 if recorded (deliver the packet), -EINVAL if it is now a
 * replay or too old (drop it and count a replay).
 */
int kipsec_replay_advance(struct kipsec_replay *r, u64 seq64)
{
	int err;

	err = window_check(r, seq64);
	if (err)
		return err;

	if (r->size) {
		if (seq64 > r->top)
			slide(r, seq64);
		__set_bit(bit_of(r, seq64), r->bmp);
	}
	if (seq64 > r->top)
		r->top = seq64;
	return 0;
}

/**
 * kipsec_seq_next() - take the next outbound sequence number
 * @seq: the SA's last number sent (0 for a fresh SA), shared by all CPUs
 * @esn: extended sequence numbers
 * @out: the number to send (low half on the wire, high half in the ICV
 *	with ESN)
 *
 * Lock-free. The counter stops at kipsec_seq_limit() instead of wrapping:
 * RFC 4303 3.3.3 forbids cycling the counter, so once it is exhausted
 * every call fails until the SA is replaced, and @seq still reads as the
 * last number actually sent.
 *
 * Return: 0, or -EOVERFLOW when the SA has sent its last number (count
 * KIPSEC_SA_STAT_OUT_SEQ_OVERFLOW, drop the packet, expire the SA).
 */
int kipsec_seq_next(atomic64_t *seq, bool esn, u64 *out)
{
	u64 limit = kipsec_seq_limit(esn);
	u64 last;

	last = atomic64_fetch_add_unless(seq, 1, (s64)limit);
	if (unlikely(last >= limit))
		return -EOVERFLOW;

	*out = last + 1;
	return 0;
}

#ifdef KIPSEC_DEBUG
#include "selftest/replay.c"
#endif
