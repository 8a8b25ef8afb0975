/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KIPSEC_PARSE_H
#define KIPSEC_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* An address or a prefix. family 0 with any = "any" of a family not yet known. */
struct kaddr {
	uint8_t family;		/* AF_INET, AF_INET6 or 0 */
	uint8_t plen;
	bool any;		/* the word "any": no address attribute */
	const char *word;	/* as typed, for error messages */
	uint8_t b[16];
};

static inline unsigned int kaddr_len(const struct kaddr *a)
{
	return a->family == 10 /* AF_INET6 */ ? 16 : 4;
}

/* A selector as typed: used by sa sel, policy and explain. */
struct sel {
	bool set;
	struct kaddr src, dst;
	bool has_src, has_dst, has_proto, has_sp, has_dp, has_type, has_code;
	uint8_t proto, type, code;
	uint16_t sp[2], dp[2];
};

struct nlmsghdr;

/* 1: word consumed (cursor on its value), 0: not a selector word, -1: error */
int sel_parse_word(int *argcp, char ***argvp, struct sel *s, const char *ctx);
int sel_finish(struct sel *s);
void sel_put(struct nlmsghdr *nlh, uint16_t type, const struct sel *s);

/*
 * The word is exactly the keyword. Inline, first byte tested before
 * strcmp(): a -batch line is tested against dozens of keywords per word.
 */
static inline bool matches(const char *word, const char *keyword)
{
	return word && word[0] == keyword[0] && !strcmp(word, keyword);
}

int parse_u8(const char *word, const char *what, uint8_t *v);
int parse_u16(const char *word, const char *what, uint16_t *v);
int parse_u32(const char *word, const char *what, uint32_t *v);
int parse_u64(const char *word, const char *what, uint64_t *v);
int parse_addr(const char *word, const char *what, struct kaddr *a);
int parse_prefix(const char *word, const char *what, struct kaddr *a);
int parse_range(const char *word, const char *what, uint16_t *min,
		uint16_t *max);
int parse_key(const char *word, const char *what, uint8_t *key, size_t max,
	      size_t *len);
int parse_proto(const char *word, const char *what, uint8_t *proto);
int parse_ipsec_proto(const char *word, uint8_t *proto);
/* Index of word in names (NULL-terminated), or -1 after an error. */
int parse_choice(const char *word, const char *what,
		 const char *const *names);
/* Make two addresses agree: fills in "any", errors on a mismatch. */
int families_agree(struct kaddr *a, struct kaddr *b);

const char *proto_name(unsigned int proto, char *buf, size_t len);
const char *addr_str(const void *bytes, size_t len, char *buf, size_t blen);

/* Reports a keyword with no value and returns -1. */
int missing_arg(const char *ctx, const char *keyword);
int unknown_keyword(const char *ctx, const char *word);

/* "ctx: missing \"keyword\"" unless has; 0 or -1. */
int need_word(bool has, const char *ctx, const char *keyword);

/*
 * The cursor (argc, argv) on a keyword: next_arg() moves it to the value;
 * next_u32() and the others also parse the value and set *has.
 */
int next_arg(int *argcp, char ***argvp, const char *ctx);
int next_u32(int *argcp, char ***argvp, const char *ctx, const char *what,
	     uint32_t *v, bool *has);
int next_u64(int *argcp, char ***argvp, const char *ctx, const char *what,
	     uint64_t *v, bool *has);
int next_choice(int *argcp, char ***argvp, const char *ctx, const char *what,
		const char *const *names, uint8_t *v, bool *has);
int next_addr(int *argcp, char ***argvp, const char *ctx, const char *what,
	      struct kaddr *a, bool *has);

/* Argument cursor: NEXT_ARG() moves to the value of the current keyword. */
#define NEXT_ARG(ctx)						\
	do {							\
		if (argc < 2)					\
			return missing_arg(ctx, *argv);		\
		argc--;						\
		argv++;						\
	} while (0)

#endif
