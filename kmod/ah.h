/* SPDX-License-Identifier: GPL-2.0 */
/*
 * AH (RFC 4302) on top of an SA's keyed hash or AES-GMAC (RFC 4543): the
 * ICV over the IP header with its mutable fields zeroed, ESN high bits
 * appended, one completion for sync and async crypto (the same ones as
 * ESP).
 */

#ifndef _KIPSEC_AH_H
#define _KIPSEC_AH_H

#include <linux/skbuff.h>
#include <linux/types.h>

struct kipsec_sa;

int kipsec_ah_output(struct sk_buff *skb, u64 seq, const void *outer,
		     unsigned int outer_len);
int kipsec_ah_input(struct sk_buff *skb);
int kipsec_ah_strip(struct sk_buff *skb);
unsigned int kipsec_ah_overhead(const struct kipsec_sa *sa, bool v4);

#ifdef KIPSEC_DEBUG
bool kipsec_ah_selftest(void);
#endif

#endif /* _KIPSEC_AH_H */
