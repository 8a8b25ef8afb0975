/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Sequence numbers: the inbound anti-replay window with extended sequence
 * numbers (RFC 4303 3.4.3 and Appendix A) and outbound assignment.
 */

#ifndef _KIPSEC_REPLAY_H
#define _KIPSEC_REPLAY_H

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/types.h>

/* Largest anti-replay window, in packets. */
#define KIPSEC_REPLAY_MAX	4096

/**
 * struct kipsec_replay - inbound anti-replay state of one SA
 * @top: highest sequence number accepted so far, all 64 bits (the ESN high
 *	half included); 0 until the first packet
 * @size: window in packets as configured, 0 to disable the check; a packet
 *	is too old when @top - seq >= @size
 * @nblocks: words in @bmp, a power of two (0 when @size is 0)
 * @esn: extended sequence numbers: infer the high 32 bits (Appendix A2.2)
 * @bmp: ring of @nblocks words; bit (seq mod (@nblocks * BITS_PER_LONG))
 *	says whether seq was accepted. Moving @top clears only the words
 *	that slide in (RFC 6479), so each packet costs O(1), and the ring
 *	has one spare word so that the word being cleared never holds a bit
 *	still inside the window.
 *
 * The bitmap is sized for the window: allocate the containing object with
 * kipsec_replay_bmp_size() extra bytes and keep this struct its last
 * member. All functions that take a non-const pointer need the owner's
 * lock; kipsec_replay_check() needs it too (it reads @top and @bmp).
 */
struct kipsec_replay {
	u64 top;
	u32 size;
	u16 nblocks;
	bool esn;
	unsigned long bmp[];
};

/**
 * kipsec_replay_blocks() - words of bitmap needed for a window
 * @size: window in packets, at most %KIPSEC_REPLAY_MAX
 *
 * Return: a power of two, or 0 for @size 0.
 */
static inline u32 kipsec_replay_blocks(u32 size)
{
	if (!size)
		return 0;
	return roundup_pow_of_two(DIV_ROUND_UP(size - 1, BITS_PER_LONG) + 1);
}

/**
 * kipsec_replay_bmp_size() - bytes of bitmap that follow struct kipsec_replay
 * @size: window in packets, at most %KIPSEC_REPLAY_MAX
 *
 * Return: 0 for @size 0, 16 bytes for 1..65 packets (64-bit), 1 KiB for 4096.
 */
static inline size_t kipsec_replay_bmp_size(u32 size)
{
	return kipsec_replay_blocks(size) * sizeof(unsigned long);
}

/**
 * kipsec_replay_seq_hi() - the high half of an inferred sequence number
 * @seq64: the number returned by kipsec_replay_check()
 *
 * Return: the 32 bits that ESN authenticates without sending them
 * (RFC 4303 2.2.1), in host order; 0 without ESN.
 */
static inline u32 kipsec_replay_seq_hi(u64 seq64)
{
	return upper_32_bits(seq64);
}

/**
 * kipsec_replay_last() - highest inbound sequence number accepted
 * @r: replay state
 *
 * Return: what SA dumps report as the inbound sequence number.
 */
static inline u64 kipsec_replay_last(const struct kipsec_replay *r)
{
	return r->top;
}

/**
 * kipsec_seq_limit() - last sequence number an SA may send
 * @esn: extended sequence numbers
 *
 * Return: 2^32 - 1 without ESN, 2^64 - 1 with ESN.
 */
static inline u64 kipsec_seq_limit(bool esn)
{
	return esn ? U64_MAX : U32_MAX;
}

int kipsec_replay_init(struct kipsec_replay *r, u32 size, bool esn,
		       u64 seq_in);
int kipsec_replay_check(const struct kipsec_replay *r, __be32 net_seq_lo,
			u64 *seq64);
int kipsec_replay_advance(struct kipsec_replay *r, u64 seq64);
int kipsec_seq_next(atomic64_t *seq, bool esn, u64 *out);

#ifdef KIPSEC_DEBUG
bool kipsec_replay_selftest(void);
#endif

#endif /* _KIPSEC_REPLAY_H */
