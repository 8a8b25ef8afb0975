// SPDX-License-Identifier: GPL-2.0
/*
 * Parsers for the words of the command line. Each reports its own error,
 * one line quoting the word, and returns -1.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kipsec.h"
#include "parse.h"

int missing_arg(const char *ctx, const char *keyword)
{
	errorf("%s: missing value after \"%s\"", ctx, keyword);
	return -1;
}

int unknown_keyword(const char *ctx, const char *word)
{
	errorf("unknown keyword \"%s\" in %s", word, ctx);
	return -1;
}

int need_word(bool has, const char *ctx, const char *keyword)
{
	if (!has)
		errorf("%s: missing \"%s\"", ctx, keyword);
	return has ? 0 : -1;
}

int next_arg(int *argcp, char ***argvp, const char *ctx)
{
	if (*argcp < 2)
		return missing_arg(ctx, **argvp);
	(*argcp)--;
	(*argvp)++;
	return 0;
}

int next_u32(int *argcp, char ***argvp, const char *ctx, const char *what,
	     uint32_t *v, bool *has)
{
	if (next_arg(argcp, argvp, ctx) || parse_u32(**argvp, what, v))
		return -1;
	*has = true;
	return 0;
}

int next_u64(int *argcp, char ***argvp, const char *ctx, const char *what,
	     uint64_t *v, bool *has)
{
	if (next_arg(argcp, argvp, ctx) || parse_u64(**argvp, what, v))
		return -1;
	*has = true;
	return 0;
}

int next_choice(int *argcp, char ***argvp, const char *ctx, const char *what,
		const char *const *names, uint8_t *v, bool *has)
{
	int i;

	if (next_arg(argcp, argvp, ctx))
		return -1;
	i = parse_choice(**argvp, what, names);
	if (i < 0)
		return -1;
	*v = i;
	*has = true;
	return 0;
}

int next_addr(int *argcp, char ***argvp, const char *ctx, const char *what,
	      struct kaddr *a, bool *has)
{
	if (next_arg(argcp, argvp, ctx) || parse_addr(**argvp, what, a))
		return -1;
	*has = true;
	return 0;
}

static int parse_num(const char *word, const char *what, uint64_t max,
		     uint64_t *v)
{
	unsigned long long n;
	int base = 10;
	char *end;

	if (!word || !*word || !isdigit((unsigned char)*word))
		goto bad;
	if (word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
		base = 16;
		if (!isxdigit((unsigned char)word[2]))
			goto bad;
	}
	errno = 0;
	n = strtoull(word, &end, base);
	if (*end)
		goto bad;
	if (errno == ERANGE || n > max) {
		errorf("invalid %s \"%s\": out of range (maximum %llu)", what,
		       word, (unsigned long long)max);
		return -1;
	}
	*v = n;
	return 0;
bad:
	errorf("invalid %s \"%s\": expected a number", what, word ? word : "");
	return -1;
}

int parse_u8(const char *word, const char *what, uint8_t *v)
{
	uint64_t n;

	if (parse_num(word, what, UINT8_MAX, &n))
		return -1;
	*v = n;
	return 0;
}

int parse_u16(const char *word, const char *what, uint16_t *v)
{
	uint64_t n;

	if (parse_num(word, what, UINT16_MAX, &n))
		return -1;
	*v = n;
	return 0;
}

int parse_u32(const char *word, const char *what, uint32_t *v)
{
	uint64_t n;

	if (parse_num(word, what, UINT32_MAX, &n))
		return -1;
	*v = n;
	return 0;
}

int parse_u64(const char *word, const char *what, uint64_t *v)
{
	return parse_num(word, what, UINT64_MAX, v);
}

static int addr_only(const char *s, struct kaddr *a)
{
	if (inet_pton(AF_INET, s, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

int parse_addr(const char *word, const char *what, struct kaddr *a)
{
	memset(a, 0, sizeof(*a));
	a->word = word;
	if (addr_only(word, a)) {
		errorf("invalid %s \"%s\": expected an IPv4 or IPv6 address",
		       what, word);
		return -1;
	}
	a->plen = a->family == AF_INET ? 32 : 128;
	return 0;
}

int parse_prefix(const char *word, const char *what, struct kaddr *a)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned int max;
	uint8_t plen;
	size_t n;

	memset(a, 0, sizeof(*a));
	a->word = word;
	if (matches(word, "any")) {
		a->any = true;
		return 0;
	}
	slash = strchr(word, '/');
	n = slash ? (size_t)(slash - word) : strlen(word);
	if (n >= sizeof(buf))
		goto bad;
	memcpy(buf, word, n);
	buf[n] = '\0';
	if (addr_only(buf, a))
		goto bad;
	max = a->family == AF_INET ? 32 : 128;
	a->plen = max;
	if (slash) {
		uint64_t v;

		/* quiet parse: the error must quote the whole prefix */
		if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
			goto bad;
		v = strtoull(slash + 1, NULL, 10);
		for (const char *p = slash + 1; *p; p++)
			if (!isdigit((unsigned char)*p))
				goto bad;
		if (v > max) {
			errorf("invalid %s \"%s\": prefix length above %u",
			       what, word, max);
			return -1;
		}
		plen = v;
		a->plen = plen;
	}
	return 0;
bad:
	errorf("invalid %s \"%s\": expected an address, a prefix or \"any\"",
	       what, word);
	return -1;
}

int families_agree(struct kaddr *a, struct kaddr *b)
{
	if (a->any && b->any) {
		a->family = AF_INET;
		b->family = AF_INET;
		return 0;
	}
	if (a->any)
		a->family = b->family;
	else if (b->any)
		b->family = a->family;
	if (a->family != b->family) {
		errorf("address family of \"%s\" does not match \"%s\"",
		       b->word, a->word);
		return -1;
	}
	return 0;
}

int parse_range(const char *word, const char *what, uint16_t *min,
		uint16_t *max)
{
	const char *dash = strchr(word, '-');
	char buf[16];

	if (!dash) {
		if (parse_u16(word, what, min))
			return -1;
		*max = *min;
		return 0;
	}
	if ((size_t)(dash - word) >= sizeof(buf))
		goto bad;
	memcpy(buf, word, dash - word);
	buf[dash - word] = '\0';
	if (parse_u16(buf, what, min) || parse_u16(dash + 1, what, max))
		return -1;
	if (*min > *max)
		goto bad;
	return 0;
bad:
	errorf("invalid %s \"%s\": expected N or N-M with N <= M", what, word);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* 0xHEX (even number of digits) or a literal string, as ip xfrm takes keys. */
int parse_key(const char *word, const char *what, uint8_t *key, size_t max,
	      size_t *len)
{
	size_t n = strlen(word);

	if (n > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X')) {
		const char *h = word + 2;

		n -= 2;
		if (n % 2) {
			errorf("invalid %s \"%s\": odd number of hex digits",
			       what, word);
			return -1;
		}
		if (n / 2 > max)
			goto toolong;
		for (size_t i = 0; i < n / 2; i++) {
			int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

			if (hi < 0 || lo < 0) {
				errorf("invalid %s \"%s\": not a hex string",
				       what, word);
				return -1;
			}
			key[i] = hi << 4 | lo;
		}
		*len = n / 2;
		return 0;
	}
	if (n > max)
		goto toolong;
	memcpy(key, word, n);
	*len = n;
	return 0;
toolong:
	errorf("invalid %s \"%.16s...\": longer than %zu bytes", what, word,
	       max);
	return -1;
}

static const struct {
	const char *name;
	uint8_t proto;
} protos[] = {
	{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP }, { "gre", IPPROTO_GRE },
	{ "esp", IPPROTO_ESP }, { "ah", IPPROTO_AH },
	{ "ipv6-icmp", IPPROTO_ICMPV6 }, { "icmpv6", IPPROTO_ICMPV6 },
	{ "sctp", IPPROTO_SCTP }, { "udplite", IPPROTO_UDPLITE },
	{ "ipip", IPPROTO_IPIP }, { "ipv6", IPPROTO_IPV6 },
};

int parse_proto(const char *word, const char *what, uint8_t *proto)
{
	struct protoent *pe;

	if (isdigit((unsigned char)*word))
		return parse_u8(word, what, proto);
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++) {
		if (!strcmp(word, protos[i].name)) {
			*proto = protos[i].proto;
			return 0;
		}
	}
	pe = getprotobyname(word);
	if (pe && pe->p_proto >= 0 && pe->p_proto <= 255) {
		*proto = pe->p_proto;
		return 0;
	}
	errorf("invalid %s \"%s\": expected a protocol name or number", what,
	       word);
	return -1;
}

int parse_ipsec_proto(const char *word, uint8_t *proto)
{
	if (matches(word, "esp") || matches(word, "50")) {
		*proto = IPPROTO_ESP;
		return 0;
	}
	if (matches(word, "ah") || matches(word, "51")) {
		*proto = IPPROTO_AH;
		return 0;
	}
	errorf("invalid proto \"%s\": expected esp or ah", word);
	return -1;
}

const char *proto_name(unsigned int proto, char *buf, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(protos); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

int parse_choice(const char *word, const char *what,
		 const char *const *names)
{
	char expect[128] = "";
	size_t off = 0;

	for (int i = 0; names[i]; i++)
		if (!strcmp(word, names[i]))
			return i;
	for (int i = 0; names[i] && off < sizeof(expect); i++)
		off += snprintf(expect + off, sizeof(expect) - off, "%s%s",
				i ? "|" : "", names[i]);
	errorf("invalid %s \"%s\": expected %s", what, word, expect);
	return -1;
}

const char *addr_str(const void *bytes, size_t len, char *buf, size_t blen)
{
	if (len == 4 && inet_ntop(AF_INET, bytes, buf, blen))
		return buf;
	if (len == 16 && inet_ntop(AF_INET6, bytes, buf, blen))
		return buf;
	snprintf(buf, blen, "(bad address)");
	return buf;
}
