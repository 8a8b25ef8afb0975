// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded fuzzer for the "kipsec" generic netlink family.
 *
 *   genl_fuzz [--seed N] [--count N] [--unpriv] [--keep] [--timeout-ms N]
 *   genl_fuzz --snapshot
 *
 * Messages are built from the attribute policies of kmod/netlink.c
 * (mirrored below): coherent requests (real algorithms and key lengths,
 * SPIs and addresses from small pools so that adds, gets, updates and
 * deletes meet), then mutated at the attribute level (dropped, duplicated,
 * retyped, resized, boundary values, nests given flat and scalars nested,
 * extra nesting, random attributes) and at the message level (truncated,
 * oversized, random command numbers, random header flags, genl version and
 * reserved bytes). Message i depends only on (seed, i).
 *
 * Checks: every message gets its answer (NLMSG_ERROR or NLMSG_DONE, after
 * any replies) within the timeout; every kipsec reply parses; no SA reply
 * carries a key unless the request asked for keys. As root, afterwards:
 * the SA and policy dumps parse, their counts equal the counters of
 * KIPSEC_CMD_GET_STATS, each dumped object answers a GET with itself, and
 * a flush empties both (unless --keep). With --unpriv the program drops to
 * uid 65534 in a new user namespace first: then no state-changing or
 * state-reading command may succeed (EPERM is expected) while GET_STATS
 * and ALGS still answer. Before the run, root must be able to join
 * kipsec's multicast groups and the unprivileged user must not.
 *
 * --snapshot prints one line naming the SAs (SPI, destination, protocol,
 * state) and policies (IDs) of the namespace, for comparisons by the caller.
 *
 * Prints KTAP test points and "# " diagnostics; the caller prints the plan.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/kipsec.h>
#include <linux/netlink.h>

#include "lib/genl.h"

#define BUFSZ		(128 * 1024)
#define ROOM		2048	/* kept free at the end of the buffer */

/* ---- random numbers: message i depends only on (seed, i) --------------- */

static uint64_t rng;

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* True with probability @p percent. */
static bool pct(unsigned int p)
{
	return below(100) < p;
}

static void rnd_bytes(unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = rnd();
}

/* ---- attribute emission with mutations --------------------------------- */

static char msgbuf[BUFSZ];
static struct nlmsghdr *cur;
static unsigned int mut;	/* attribute mutation rate, percent */
static bool v6;			/* address family of this message */

static bool room(size_t len)
{
	return cur->nlmsg_len + NLA_HDRLEN + len + ROOM < BUFSZ;
}

static void raw_attr(uint16_t type, const void *data, size_t len)
{
	if (len > 0xffff - NLA_HDRLEN)
		len = 0xffff - NLA_HDRLEN;
	if (room(len))
		mnl_attr_put(cur, type, len, data);
}

/* A boundary or random value of @len bytes, for integer attributes. */
static void boundary(unsigned char *b, size_t len)
{
	switch (below(6)) {
	case 0:
		memset(b, 0, len);
		break;
	case 1:
		memset(b, 0xff, len);
		break;
	case 2:
		memset(b, 0, len);
		b[0] = 1;
		break;
	case 3:
		memset(b, 0xff, len);
		b[len - 1] = 0x7f;	/* host order: signed maximum */
		break;
	case 4:
		memset(b, 0, len);
		b[0] = below(2) ? 0x80 : 0x7f;
		break;
	default:
		rnd_bytes(b, len);
	}
}

/*
 * Emit one scalar attribute, perhaps mutated: dropped, duplicated, retyped,
 * resized (shorter, longer, empty), given a boundary value, or flagged as
 * nested.
 */
static void put(uint16_t type, const void *data, size_t len)
{
	unsigned char b[512];

	if (len > sizeof(b) - 64)
		len = sizeof(b) - 64;
	memcpy(b, data, len);
	if (!mut || !pct(mut)) {
		raw_attr(type, b, len);
		return;
	}
	switch (below(8)) {
	case 0:		/* dropped */
		return;
	case 1:		/* duplicated, the copy maybe different */
		raw_attr(type, b, len);
		if (len && pct(50))
			boundary(b, len);
		raw_attr(type, b, len);
		return;
	case 2:		/* another type */
		type = below(2) ? below(KIPSEC_SA_A_MAX + 4) : rnd();
		break;
	case 3:		/* another length */
		len = below(2) ? below(len + 1) : len + 1 + below(40);
		rnd_bytes(b + (len > 40 ? len - 40 : 0), len > 40 ? 40 : len);
		break;
	case 4:
	case 5:		/* a boundary value */
		if (len)
			boundary(b, len);
		break;
	case 6:		/* the nested bit, or the byte-order bit */
		type |= below(2) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER;
		break;
	default:	/* random bytes */
		rnd_bytes(b, len);
	}
	raw_attr(type, b, len);
}

static void put_u8(uint16_t type, uint8_t v)
{
	put(type, &v, 1);
}

static void put_u16(uint16_t type, uint16_t v)
{
	put(type, &v, 2);
}

static void put_u32(uint16_t type, uint32_t v)
{
	put(type, &v, 4);
}

static void put_u64(uint16_t type, uint64_t v)
{
	put(type, &v, 8);
}

static void put_str(uint16_t type, const char *s)
{
	put(type, s, strlen(s) + 1);
}

/* Nests opened one level too deep: closed with their inner nest. */
static struct { struct nlattr *inner, *outer; } twice[32];
static int ntwice;

/*
 * A nest; NULL when the mutation dropped it (its children then go to the
 * enclosing level, which is a hostile message of its own).
 */
static struct nlattr *nest_start(uint16_t type)
{
	struct nlattr *n, *o;

	if (!room(0))
		return NULL;
	if (mut && pct(mut)) {
		switch (below(5)) {
		case 0:		/* a scalar where a nest belongs */
			put_u32(type, rnd());
			return NULL;
		case 1:		/* without NLA_F_NESTED */
			n = mnl_attr_nest_start(cur, type);
			n->nla_type &= ~NLA_F_NESTED;
			return n;
		case 2:		/* one level too deep */
			if (ntwice >= 32)
				break;
			o = mnl_attr_nest_start(cur, type);
			n = mnl_attr_nest_start(cur, type);
			twice[ntwice].inner = n;
			twice[ntwice++].outer = o;
			return n;
		case 3:		/* another type */
			return mnl_attr_nest_start(cur, below(KIPSEC_A_MAX + 3));
		default:	/* dropped */
			return NULL;
		}
	}
	return mnl_attr_nest_start(cur, type);
}

static void nest_end(struct nlattr *n)
{
	int i;

	if (!n)
		return;
	mnl_attr_nest_end(cur, n);
	for (i = 0; i < ntwice; i++)
		if (twice[i].inner == n)
			mnl_attr_nest_end(cur, twice[i].outer);
}

/* Random attributes: random types, lengths, contents, nests. */
static void junk(int depth, int maxtype)
{
	unsigned char b[256];
	int i, n = below(5);

	for (i = 0; i < n; i++) {
		uint16_t type = below(maxtype + 4);

		if (depth < 6 && pct(25)) {
			struct nlattr *nn = room(0) ?
				mnl_attr_nest_start(cur, type) : NULL;

			if (!nn)
				return;
			junk(depth + 1, 20);
			mnl_attr_nest_end(cur, nn);
			continue;
		}
		rnd_bytes(b, sizeof(b));
		raw_attr(type | (pct(5) ? NLA_F_NESTED : 0), b,
			 below(2) ? below(9) : below(sizeof(b)));
	}
}

/* Deep nesting, beyond what any policy (or the validator) descends. */
static void deep_nest(uint16_t type)
{
	struct nlattr *stack[64];
	int i, depth = 8 + below(56);

	for (i = 0; i < depth && room(0); i++)
		stack[i] = mnl_attr_nest_start(cur, i ? below(8) : type);
	put_u32(1, rnd());
	while (i--)
		mnl_attr_nest_end(cur, stack[i]);
}

/* ---- coherent values from small pools ---------------------------------- */

static void pool_addr(unsigned char *a, int which)
{
	memset(a, 0, 16);
	if (v6) {
		a[0] = 0xfd;
		a[15] = 1 + which;
	} else {
		a[0] = 10;
		a[3] = 1 + which;
	}
}

static void put_addr(uint16_t type, int which)
{
	unsigned char a[16];

	pool_addr(a, which);
	put(type, a, v6 ? 16 : 4);
}

static uint32_t pool_spi(void)
{
	if (pct(3))
		return below(2) ? below(KIPSEC_SPI_MIN + 1) : rnd();
	return KIPSEC_SPI_MIN + below(24);
}

static uint8_t pool_proto(void)
{
	if (pct(3))
		return rnd();
	return pct(80) ? IPPROTO_ESP : IPPROTO_AH;
}

struct alg {
	const char *name;
	int kind;	/* 0 aead, 1 crypt, 2 auth */
	int keys[3];	/* accepted key bytes, 0-terminated */
	int icvs[3];	/* ICV bits, 0: omit */
};

static const struct alg algs[] = {
	{ "rfc4106(gcm(aes))", 0, { 20, 28, 36 }, { 128, 96, 64 } },
	{ "rfc4309(ccm(aes))", 0, { 19, 27, 35 }, { 128, 96, 64 } },
	{ "rfc7539esp(chacha20,poly1305)", 0, { 36 }, { 128 } },
	{ "rfc4543(gcm(aes))", 0, { 20, 28, 36 }, { 128 } },
	{ "cbc(aes)", 1, { 16, 24, 32 }, { 0 } },
	{ "rfc3686(ctr(aes))", 1, { 20, 28, 36 }, { 0 } },
	{ "ecb(cipher_null)", 1, { 0 }, { 0 } },
	{ "hmac(sha1)", 2, { 20 }, { 96, 0 } },
	{ "hmac(sha256)", 2, { 32 }, { 128, 0 } },
	{ "hmac(sha512)", 2, { 64 }, { 256 } },
	{ "xcbc(aes)", 2, { 16 }, { 96 } },
	{ "cbc(des)", 1, { 8 }, { 0 } },	/* refused */
	{ "hmac(md5)", 2, { 16 }, { 96 } },	/* refused */
};

static const struct alg *pick_alg(int kind)
{
	const struct alg *a;

	do
		a = &algs[below(ARRAY_SIZE(algs))];
	while (a->kind != kind && !pct(3));
	return a;
}

static int pick_len(const int *v, int n)
{
	int c = 0;

	while (c < n && (v[c] || !c))
		c++;
	return v[below(c)];
}

static void put_alg(uint16_t type, const struct alg *a)
{
	struct nlattr *n = nest_start(type);
	unsigned char key[KIPSEC_MAX_KEY_BYTES + 16];
	int klen = pick_len(a->keys, 3), icv = pick_len(a->icvs, 3);
	char name[300];

	if (pct(2)) {		/* names at and beyond the limit */
		int l = KIPSEC_MAX_ALG_NAME - 2 + below(4);

		if (pct(20))
			l = 100 + below(180);
		memset(name, 'a', l);
		name[l] = '\0';
		put_str(KIPSEC_ALG_A_NAME, name);
	} else if (pct(1)) {	/* not NUL-terminated */
		put(KIPSEC_ALG_A_NAME, a->name, strlen(a->name));
	} else {
		put_str(KIPSEC_ALG_A_NAME, a->name);
	}
	if (pct(2))
		klen = below(2) ? KIPSEC_MAX_KEY_BYTES + below(2) : below(80);
	rnd_bytes(key, sizeof(key));
	if (klen || pct(20))
		put(KIPSEC_ALG_A_KEY, key, klen);
	if (pct(2))
		icv = below(2) ? 32 * below(18) : rnd();
	if (icv)
		put_u32(KIPSEC_ALG_A_ICV_BITS, icv);
	nest_end(n);
}

static void put_lft(uint16_t type)
{
	struct nlattr *n = nest_start(type);

	if (pct(50))
		put_u64(KIPSEC_LFT_A_BYTES, pct(80) ? 1ULL << 40 : rnd());
	if (pct(50))
		put_u64(KIPSEC_LFT_A_PACKETS, pct(80) ? 1ULL << 30 : rnd());
	if (pct(50))	/* a few expire during the run */
		put_u64(KIPSEC_LFT_A_ADD_SECS, pct(90) ? 3600 : 1 + below(20));
	if (pct(30))
		put_u64(KIPSEC_LFT_A_USE_SECS, pct(80) ? 3600 : rnd());
	nest_end(n);
}

static void put_sel(uint16_t type, bool sa)
{
	struct nlattr *n = nest_start(type);
	int maxplen = v6 ? 128 : 32;
	uint8_t proto;

	if (pct(sa ? 10 : 30))
		put_u16(KIPSEC_SEL_A_FAMILY, v6 ? AF_INET6 : AF_INET);
	if (pct(80)) {
		put_addr(KIPSEC_SEL_A_SRC, 8 + below(4));
		if (pct(70))
			put_u8(KIPSEC_SEL_A_SRC_PLEN, pct(95) ?
			       below(maxplen + 1) : rnd());
	}
	if (pct(80)) {
		put_addr(KIPSEC_SEL_A_DST, 12 + below(4));
		if (pct(70))
			put_u8(KIPSEC_SEL_A_DST_PLEN, pct(95) ?
			       below(maxplen + 1) : rnd());
	}
	if (pct(60)) {
		static const uint8_t protos[] = {
			IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP,
			IPPROTO_ICMPV6, IPPROTO_SCTP, 0, IPPROTO_GRE,
		};

		proto = pct(95) ? protos[below(sizeof(protos))] : rnd();
		put_u8(KIPSEC_SEL_A_PROTO, proto);
		if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) {
			if (pct(70))
				put_u8(KIPSEC_SEL_A_ICMP_TYPE, below(256));
			if (pct(50))
				put_u8(KIPSEC_SEL_A_ICMP_CODE, below(20));
		} else if (pct(70)) {
			uint16_t lo = below(4) * 1000, hi = lo + below(2000);

			if (pct(5))
				hi = lo ? lo - 1 : 0;	/* inverted range */
			put_u16(KIPSEC_SEL_A_DPORT_MIN, lo);
			put_u16(KIPSEC_SEL_A_DPORT_MAX, hi);
			if (pct(30)) {
				put_u16(KIPSEC_SEL_A_SPORT_MIN, 1024);
				put_u16(KIPSEC_SEL_A_SPORT_MAX, 65535);
			}
		}
	}
	nest_end(n);
}

static void put_sa_key(void)
{
	put_u32(KIPSEC_SA_A_SPI, htonl(pool_spi()));
	put_addr(KIPSEC_SA_A_DST, below(3));
	put_u8(KIPSEC_SA_A_PROTO, pool_proto());
}

static void build_sa(void)
{
	struct nlattr *n = nest_start(KIPSEC_A_SA);
	bool tunnel = pct(50);

	put_sa_key();
	if (pct(97))
		put_addr(KIPSEC_SA_A_SRC, 4 + below(2));
	if (pct(90))
		put_u8(KIPSEC_SA_A_MODE, tunnel ? KIPSEC_MODE_TUNNEL :
			KIPSEC_MODE_TRANSPORT);
	if (pct(70))
		put_u32(KIPSEC_SA_A_REQID, below(4));
	if (pct(50)) {
		put_alg(KIPSEC_SA_A_ALG_AEAD, pick_alg(0));
	} else {
		if (pct(85))
			put_alg(KIPSEC_SA_A_ALG_CRYPT, pick_alg(1));
		if (pct(95))
			put_alg(KIPSEC_SA_A_ALG_AUTH, pick_alg(2));
	}
	if (pct(3))	/* all three */
		put_alg(KIPSEC_SA_A_ALG_AEAD, pick_alg(0));
	if (pct(60))
		put_u32(KIPSEC_SA_A_REPLAY_WINDOW, pct(90) ?
			below(KIPSEC_MAX_REPLAY_WINDOW + 1) : rnd());
	if (pct(40))
		put_u32(KIPSEC_SA_A_FLAGS, pct(90) ?
			below(KIPSEC_SA_F_ALL + 1) : rnd());
	if (pct(20))
		put_u8(KIPSEC_SA_A_DF, below(KIPSEC_DF_MAX + 2));
	if (pct(20))
		put_u64(KIPSEC_SA_A_SEQ_OUT, pct(50) ? below(1000) :
			below(2) ? 0xffffffffULL - below(3) : rnd());
	if (pct(20))
		put_u64(KIPSEC_SA_A_SEQ_IN, pct(50) ? below(1000) : rnd());
	if (pct(20))
		put_lft(KIPSEC_SA_A_LIFETIME_SOFT);
	if (pct(20))
		put_lft(KIPSEC_SA_A_LIFETIME_HARD);
	if (pct(10)) {
		struct nlattr *e = nest_start(KIPSEC_SA_A_ENCAP);

		put_u8(KIPSEC_ENCAP_A_TYPE, below(KIPSEC_ENCAP_MAX + 2));
		put_u16(KIPSEC_ENCAP_A_SPORT, pct(80) ? 4500 : rnd());
		put_u16(KIPSEC_ENCAP_A_DPORT, pct(80) ? 4500 : rnd());
		if (pct(30))
			put_addr(KIPSEC_ENCAP_A_OADDR, 7);
		nest_end(e);
	}
	if (pct(20))
		put_sel(KIPSEC_SA_A_SEL, true);
	if (pct(2))	/* read-only attributes */
		put_u8(KIPSEC_SA_A_STATE, below(4));
	nest_end(n);
}

static void build_policy(bool key_only)
{
	struct nlattr *n = nest_start(KIPSEC_A_POLICY), *t, *tt;
	int action = pct(95) ? below(3) : rnd();
	int i, ntmpl;

	if (key_only ? pct(50) : pct(10))
		put_u32(KIPSEC_POL_A_ID, pct(90) ? 1 + below(64) : rnd());
	if (pct(95))
		put_u8(KIPSEC_POL_A_DIR, pct(95) ? below(3) : rnd());
	if (pct(80))
		put_u32(KIPSEC_POL_A_PRIORITY, pct(90) ? below(4) * 100 :
			rnd());
	if (!key_only && pct(95))
		put_u8(KIPSEC_POL_A_ACTION, action);
	if (pct(95))
		put_sel(KIPSEC_POL_A_SEL, false);
	if (key_only) {
		nest_end(n);
		return;
	}
	if (action == KIPSEC_ACTION_PROTECT ? pct(95) : pct(5)) {
		t = nest_start(KIPSEC_POL_A_TMPLS);
		ntmpl = pct(90) ? 1 + below(2) : below(KIPSEC_MAX_TMPLS + 3);
		for (i = 0; i < ntmpl; i++) {
			bool tunnel = pct(60);

			tt = nest_start(pct(97) ? KIPSEC_TMPL : below(4));
			put_u8(KIPSEC_TMPL_A_PROTO, pool_proto());
			put_u8(KIPSEC_TMPL_A_MODE, tunnel ?
			       KIPSEC_MODE_TUNNEL : KIPSEC_MODE_TRANSPORT);
			if (tunnel ? pct(95) : pct(10)) {
				put_addr(KIPSEC_TMPL_A_SRC, 4 + below(2));
				put_addr(KIPSEC_TMPL_A_DST, below(3));
			}
			if (pct(60))
				put_u32(KIPSEC_TMPL_A_REQID, below(4));
			if (pct(20))
				put_u32(KIPSEC_TMPL_A_SPI, htonl(pool_spi()));
			if (pct(20))
				put_u8(KIPSEC_TMPL_A_LEVEL, below(3));
			nest_end(tt);
		}
		nest_end(t);
	}
	nest_end(n);
}

static void build_explain(void)
{
	struct nlattr *n = nest_start(KIPSEC_A_EXPLAIN);

	if (pct(60))
		put_u8(KIPSEC_EXPLAIN_A_DIR, pct(95) ? below(3) : rnd());
	if (pct(95))
		put_addr(KIPSEC_EXPLAIN_A_SRC, 8 + below(4));
	if (pct(95))
		put_addr(KIPSEC_EXPLAIN_A_DST, 12 + below(4));
	if (pct(70))
		put_u8(KIPSEC_EXPLAIN_A_PROTO, pct(80) ? IPPROTO_TCP : rnd());
	if (pct(50))
		put_u16(KIPSEC_EXPLAIN_A_SPORT, rnd());
	if (pct(50))
		put_u16(KIPSEC_EXPLAIN_A_DPORT, below(4000));
	if (pct(20))
		put_u8(KIPSEC_EXPLAIN_A_ICMP_TYPE, rnd());
	if (pct(20))
		put_u8(KIPSEC_EXPLAIN_A_ICMP_CODE, rnd());
	nest_end(n);
}

/* ---- one message ------------------------------------------------------- */

enum strategy {
	S_VALID, S_LIGHT, S_HEAVY, S_JUNK, S_TRUNC, S_OVERSIZE, S_DEEP,
	S_RANDCMD, S_RANDHDR, S_BYTEFLIP, __S_MAX
};

static const char *const strategy_names[] = {
	"valid", "light mutation", "heavy mutation", "random attributes",
	"truncated", "oversized", "deep nesting", "random command",
	"random header", "byte flips",
};

/* Commands by weight: the stateful ones most, flushes rarely. */
static int pick_cmd(void)
{
	static const struct { int cmd, weight; } w[] = {
		{ KIPSEC_CMD_SA_NEW, 22 }, { KIPSEC_CMD_SA_UPDATE, 8 },
		{ KIPSEC_CMD_SA_DEL, 6 }, { KIPSEC_CMD_SA_GET, 6 },
		{ KIPSEC_CMD_SA_GETSPI, 4 }, { KIPSEC_CMD_POLICY_NEW, 18 },
		{ KIPSEC_CMD_POLICY_UPDATE, 5 }, { KIPSEC_CMD_POLICY_DEL, 5 },
		{ KIPSEC_CMD_POLICY_GET, 5 }, { KIPSEC_CMD_EXPLAIN, 6 },
		{ KIPSEC_CMD_GET_STATS, 3 }, { KIPSEC_CMD_SET_CONFIG, 2 },
		{ KIPSEC_CMD_ALGS, 1 }, { KIPSEC_CMD_SA_EXPIRE, 1 },
		{ KIPSEC_CMD_SA_MAPPING, 1 }, { KIPSEC_CMD_ACQUIRE, 1 },
		{ KIPSEC_CMD_UNSPEC, 1 },
	};
	int i, total = 0, r;

	/* About one flush per 500 messages keeps the tables bounded. */
	if (pct(1) && pct(40))
		return below(2) ? KIPSEC_CMD_SA_FLUSH : KIPSEC_CMD_POLICY_FLUSH;
	for (i = 0; i < (int)ARRAY_SIZE(w); i++)
		total += w[i].weight;
	r = below(total);
	for (i = 0; r >= w[i].weight; i++)
		r -= w[i].weight;
	return w[i].cmd;
}

static void build_body(int cmd)
{
	struct nlattr *n;

	switch (cmd) {
	case KIPSEC_CMD_SA_NEW:
	case KIPSEC_CMD_SA_UPDATE:
		build_sa();
		break;
	case KIPSEC_CMD_SA_DEL:
	case KIPSEC_CMD_SA_GET:
		n = nest_start(KIPSEC_A_SA);
		put_sa_key();
		nest_end(n);
		if (pct(30))
			put_u32(KIPSEC_A_FLAGS, pct(90) ? KIPSEC_F_WITH_KEYS :
				rnd());
		break;
	case KIPSEC_CMD_SA_FLUSH:
		if (pct(30))
			put_u8(KIPSEC_A_PROTO, pool_proto());
		break;
	case KIPSEC_CMD_SA_GETSPI:
		n = nest_start(KIPSEC_A_SA);
		put_addr(KIPSEC_SA_A_SRC, 4 + below(2));
		put_addr(KIPSEC_SA_A_DST, below(3));
		put_u8(KIPSEC_SA_A_PROTO, pool_proto());
		if (pct(50))
			put_u8(KIPSEC_SA_A_MODE, below(2));
		if (pct(50))
			put_u32(KIPSEC_SA_A_REQID, below(4));
		nest_end(n);
		if (pct(50))
			put_u32(KIPSEC_A_SPI_MIN, pct(90) ? 0x10000 : rnd());
		if (pct(50))
			put_u32(KIPSEC_A_SPI_MAX, pct(90) ? 0x10000 + below(8) :
				rnd());
		break;
	case KIPSEC_CMD_POLICY_NEW:
	case KIPSEC_CMD_POLICY_UPDATE:
		build_policy(false);
		break;
	case KIPSEC_CMD_POLICY_DEL:
	case KIPSEC_CMD_POLICY_GET:
		build_policy(true);
		break;
	case KIPSEC_CMD_POLICY_FLUSH:
		if (pct(30))
			put_u8(KIPSEC_A_DIR, pct(90) ? below(3) : rnd());
		break;
	case KIPSEC_CMD_SET_CONFIG:
		n = nest_start(KIPSEC_A_CONFIG);
		put_u8(KIPSEC_CONFIG_A_DEFAULT_IN + below(3), below(3));
		nest_end(n);
		break;
	case KIPSEC_CMD_EXPLAIN:
		build_explain();
		break;
	default:
		if (pct(50))
			junk(0, KIPSEC_A_MAX);
	}
}

struct msg {
	int cmd;
	enum strategy strat;
	bool dump;
	bool want_keys;
	bool admin;		/* a GENL_UNS_ADMIN_PERM command */
	bool reaches_family;	/* the genl core would look the op up */
};

static bool is_admin(int cmd)
{
	return cmd >= KIPSEC_CMD_SET_CONFIG && cmd <= KIPSEC_CMD_EXPLAIN &&
	       cmd != KIPSEC_CMD_ALGS && cmd != KIPSEC_CMD_SA_EXPIRE &&
	       cmd != KIPSEC_CMD_SA_MAPPING && cmd != KIPSEC_CMD_ACQUIRE;
}

/* Did the final message ask for keys (KIPSEC_A_FLAGS with the bit)? */
static bool asks_keys(const struct nlmsghdr *nlh)
{
	const struct nlattr *a;

	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return false;
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if ((a->nla_type & NLA_TYPE_MASK) == KIPSEC_A_FLAGS &&
		    mnl_attr_get_payload_len(a) >= 4 &&
		    (*(uint32_t *)mnl_attr_get_payload(a) & KIPSEC_F_WITH_KEYS))
			return true;
	}
	return false;
}

static void build_msg(uint64_t seed, unsigned long i, struct msg *m)
{
	static const uint8_t weights[__S_MAX] = {
		24, 28, 14, 8, 8, 2, 2, 3, 6, 5,
	};
	struct genlmsghdr *g;
	uint16_t flags = NLM_F_ACK;
	int r, s;

	rng = splitmix(seed ^ splitmix(i + 1));
	if (!rng)
		rng = 1;
	r = below(100);
	for (s = 0; r >= weights[s]; s++)
		r -= weights[s];
	memset(m, 0, sizeof(*m));
	ntwice = 0;
	m->strat = s;
	m->cmd = pick_cmd();
	v6 = pct(30);
	mut = s == S_LIGHT ? 4 : s == S_HEAVY ? 25 : 0;

	/* Gets and algorithm lists as dumps now and then. */
	if ((m->cmd == KIPSEC_CMD_SA_GET || m->cmd == KIPSEC_CMD_POLICY_GET ||
	     m->cmd == KIPSEC_CMD_ALGS) && pct(25))
		flags |= NLM_F_DUMP;
	cur = msg_start(msgbuf, m->cmd, flags);
	if (s == S_JUNK)
		junk(0, KIPSEC_A_MAX);
	else
		build_body(m->cmd);
	if (s == S_DEEP)
		deep_nest(below(KIPSEC_A_MAX + 1));
	if (s == S_OVERSIZE) {
		static unsigned char big[0x10000];
		size_t len = 4096 + below(0xffff - 4096 - NLA_HDRLEN);

		rnd_bytes(big, 64);
		raw_attr(below(KIPSEC_A_MAX + 2), big, len);
		while (pct(70) && room(len))
			raw_attr(below(KIPSEC_A_MAX + 2), big, len);
	}

	g = mnl_nlmsg_get_payload(cur);
	switch (s) {
	case S_TRUNC:
		/* A consistent nlmsg_len, cut anywhere from the bare header. */
		cur->nlmsg_len = NLMSG_HDRLEN +
			below(cur->nlmsg_len - NLMSG_HDRLEN + 1);
		break;
	case S_RANDCMD:
		g->cmd = pct(50) ? below(KIPSEC_CMD_MAX + 4) : rnd();
		break;
	case S_RANDHDR:
		if (pct(50))
			g->version = rnd();
		if (pct(40))
			g->reserved = rnd();
		if (pct(60))	/* any flags, but always an answer */
			cur->nlmsg_flags = (rnd() & 0xffff) | NLM_F_ACK;
		if (pct(10))	/* control message types (NOOP, DONE...) */
			cur->nlmsg_type = below(NLMSG_MIN_TYPE);
		break;
	case S_BYTEFLIP: {
		unsigned char *p = (unsigned char *)cur;
		int k, n = 1 + below(8);

		for (k = 0; k < n; k++)
			p[NLMSG_HDRLEN + below(cur->nlmsg_len - NLMSG_HDRLEN)] ^=
				1 << below(8);
		break;
	}
	default:
		break;
	}
	m->cmd = cur->nlmsg_len >= NLMSG_HDRLEN + GENL_HDRLEN ? g->cmd : -1;
	m->dump = (cur->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	m->want_keys = asks_keys(cur);
	m->reaches_family = cur->nlmsg_type == family &&
			    (cur->nlmsg_flags & NLM_F_REQUEST) && m->cmd >= 0;
	m->admin = m->reaches_family && is_admin(m->cmd);
}

/* ---- answers ----------------------------------------------------------- */

static unsigned long n_ok, n_err[256], n_replies, n_bad_reply, n_key_leak,
	n_unanswered, n_admin_ok, n_admin_replies, n_open_ok, n_strat[__S_MAX],
	n_cmd[256];
static bool unpriv;
static int timeout_ms = 10000;

/* Any KIPSEC_ALG_A_KEY inside the SA nest @sa? */
static bool sa_has_key(const struct nlattr *sa)
{
	const struct nlattr *a, *b;

	mnl_attr_for_each_nested(a, sa) {
		int t = mnl_attr_get_type(a);

		if (t != KIPSEC_SA_A_ALG_AEAD && t != KIPSEC_SA_A_ALG_CRYPT &&
		    t != KIPSEC_SA_A_ALG_AUTH)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == KIPSEC_ALG_A_KEY)
				return true;
	}
	return false;
}

/* Every attribute of a reply, nested ones included, lies within it. */
static int walk_ok(const void *payload, int len, int depth)
{
	const struct nlattr *a = payload;

	while (len >= (int)NLA_HDRLEN) {
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len)
			return -1;
		if ((a->nla_type & NLA_F_NESTED) && depth < 8 &&
		    walk_ok(mnl_attr_get_payload(a),
			    a->nla_len - NLA_HDRLEN, depth + 1))
			return -1;
		len -= MNL_ALIGN(a->nla_len);
		a = (const void *)((const char *)a + MNL_ALIGN(a->nla_len));
	}
	return len == 0 || len < 0 ? 0 : -1;
}

static void check_reply(const struct nlmsghdr *r, const struct msg *m)
{
	const struct nlattr *a;

	n_replies++;
	if (m->admin)
		n_admin_replies++;
	if (r->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN ||
	    walk_ok((const char *)mnl_nlmsg_get_payload(r) + GENL_HDRLEN,
		    r->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, 0)) {
		n_bad_reply++;
		return;
	}
	mnl_attr_for_each(a, r, GENL_HDRLEN) {
		int t = mnl_attr_get_type(a);

		if ((t == KIPSEC_A_SA ||
		     (t == KIPSEC_A_EXPLAIN && m->cmd == KIPSEC_CMD_EXPLAIN)) &&
		    !m->want_keys) {
			const struct nlattr *b;

			if (t == KIPSEC_A_SA && sa_has_key(a))
				n_key_leak++;
			if (t == KIPSEC_A_EXPLAIN)
				mnl_attr_for_each_nested(b, a)
					if (mnl_attr_get_type(b) ==
						    KIPSEC_EXPLAIN_A_SA &&
					    sa_has_key(b))
						n_key_leak++;
		}
	}
}

/* Wait for the answer to @s: 0 answered, -1 timed out or socket error. */
static int await(unsigned int s, const struct msg *m, unsigned long idx)
{
	static char buf[256 * 1024];
	struct pollfd pfd = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	unsigned int portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *r;
	int n, err;

	for (;;) {
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			printf("# message %lu (seq %u, cmd %d, %s): no answer in %d ms\n",
			       idx, s, m->cmd, strategy_names[m->strat],
			       timeout_ms);
			return -1;
		}
		n = recv(pfd.fd, buf, sizeof(buf), 0);
		if (n < 0) {
			printf("# message %lu: recv: %s\n", idx, strerror(errno));
			if (errno == ENOBUFS)
				continue;
			return -1;
		}
		for (r = (struct nlmsghdr *)buf; mnl_nlmsg_ok(r, n);
		     r = mnl_nlmsg_next(r, &n)) {
			if (r->nlmsg_seq != s || r->nlmsg_pid != portid)
				continue;
			if (r->nlmsg_type == NLMSG_ERROR ||
			    r->nlmsg_type == NLMSG_DONE) {
				err = 0;
				if (r->nlmsg_len >= NLMSG_HDRLEN + sizeof(int))
					err = *(int *)mnl_nlmsg_get_payload(r);
				if (err > 0 || err < -255)
					err = -255;
				if (err)
					n_err[-err]++;
				else
					n_ok++;
				if (m->admin && !err && r->nlmsg_type == NLMSG_ERROR)
					n_admin_ok++;
				if (m->admin && !err &&
				    r->nlmsg_type == NLMSG_DONE)
					n_admin_ok++;
				if (!m->admin && m->reaches_family && !err)
					n_open_ok++;
				return 0;
			}
			if (r->nlmsg_type == family)
				check_reply(r, m);
		}
	}
}

/* ---- the state afterwards ---------------------------------------------- */

struct sa_key {
	uint32_t spi;
	uint8_t proto, dlen, state;
	unsigned char dst[16];
};

#define MAX_OBJS 100000

static struct sa_key sas[MAX_OBJS];
static uint32_t pols[MAX_OBJS];
static int nsas, npols, bad_entries;

static int sa_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *b;
	bool spi = false, dst = false, proto = false;
	struct sa_key k;

	(void)data;
	memset(&k, 0, sizeof(k));	/* padding too: it is hashed */
	k.state = 255;
	if (walk_ok((const char *)mnl_nlmsg_get_payload(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, 0)) {
		bad_entries++;
		return MNL_CB_OK;
	}
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != KIPSEC_A_SA)
			continue;
		mnl_attr_for_each_nested(b, a) {
			switch (mnl_attr_get_type(b)) {
			case KIPSEC_SA_A_SPI:
				spi = mnl_attr_get_payload_len(b) == 4;
				k.spi = mnl_attr_get_u32(b);
				break;
			case KIPSEC_SA_A_DST:
				k.dlen = mnl_attr_get_payload_len(b);
				dst = k.dlen == 4 || k.dlen == 16;
				if (dst)
					memcpy(k.dst, mnl_attr_get_payload(b),
					       k.dlen);
				break;
			case KIPSEC_SA_A_PROTO:
				proto = true;
				k.proto = mnl_attr_get_u8(b);
				break;
			case KIPSEC_SA_A_STATE:
				k.state = mnl_attr_get_u8(b);
				break;
			}
		}
		if (sa_has_key(a))
			n_key_leak++;
	}
	if (!spi || !dst || !proto || nsas >= MAX_OBJS)
		bad_entries++;
	else
		sas[nsas++] = k;
	return MNL_CB_OK;
}

static int pol_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a, *b;
	bool id = false, dir = false, action = false, sel = false;
	uint32_t v = 0;

	(void)data;
	if (walk_ok((const char *)mnl_nlmsg_get_payload(nlh) + GENL_HDRLEN,
		    nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, 0)) {
		bad_entries++;
		return MNL_CB_OK;
	}
	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != KIPSEC_A_POLICY)
			continue;
		mnl_attr_for_each_nested(b, a) {
			switch (mnl_attr_get_type(b)) {
			case KIPSEC_POL_A_ID:
				id = true;
				v = mnl_attr_get_u32(b);
				break;
			case KIPSEC_POL_A_DIR:
				dir = true;
				break;
			case KIPSEC_POL_A_ACTION:
				action = true;
				break;
			case KIPSEC_POL_A_SEL:
				sel = true;
				break;
			}
		}
	}
	if (!id || !dir || !action || !sel || npols >= MAX_OBJS)
		bad_entries++;
	else
		pols[npols++] = v;
	return MNL_CB_OK;
}

struct counts {
	uint32_t sas, pols;
	bool have;
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct counts *c = data;
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) == KIPSEC_A_SA_COUNT)
			c->sas = mnl_attr_get_u32(a);
		if (mnl_attr_get_type(a) == KIPSEC_A_POLICY_COUNT) {
			c->pols = mnl_attr_get_u32(a);
			c->have = true;
		}
	}
	return MNL_CB_OK;
}

static int get_counts(struct counts *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, KIPSEC_CMD_GET_STATS, 0);
	static char rbuf[64 * 1024];
	int n;

	memset(c, 0, sizeof(*c));
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	n = mnl_socket_recvfrom(nl, rbuf, sizeof(rbuf));
	if (n < 0)
		return -errno;
	if (mnl_cb_run(rbuf, n, seq, mnl_socket_get_portid(nl), stats_cb,
		       c) < 0)
		return -errno;
	return c->have ? 0 : -ENODATA;
}

/* One request with NLM_F_ACK; @cb sees its replies. */
static int get_one(struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	static char buf[64 * 1024];
	int n, ret;

	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, req->nlmsg_seq,
				 mnl_socket_get_portid(nl), cb, data);
	} while (ret > 0);
	return ret < 0 ? -errno : 0;
}

static int snapshot(bool *intr)
{
	int a, b;

	nsas = 0;
	npols = 0;
	bad_entries = 0;
	*intr = false;
	a = dump_each(KIPSEC_CMD_SA_GET, 0, sa_dump_cb, NULL, intr);
	b = dump_each(KIPSEC_CMD_POLICY_GET, 0, pol_dump_cb, NULL, intr);
	return a < 0 ? a : b < 0 ? b : 0;
}

static void check_state(bool keep)
{
	struct counts c = { 0 };
	struct sa_key got;
	int i, tries, err = 0, get_fail = 0, gone = 0, pget_fail = 0;
	bool intr = false, match = false;

	/* SAs may expire (larval ones, short lifetimes) while we look. */
	for (tries = 0; tries < 5 && !match; tries++) {
		err = snapshot(&intr);
		if (!err)
			err = get_counts(&c);
		match = !err && !intr && c.sas == (uint32_t)nsas &&
			c.pols == (uint32_t)npols;
		if (!match)
			usleep(200000);
	}
	printf("# afterwards: %d SAs and %d policies dumped; GET_STATS says %u and %u (%d tries)\n",
	       nsas, npols, c.sas, c.pols, tries);
	report(!err && !bad_entries, "the SA and policy dumps parse (%d malformed entries)",
	       bad_entries);
	report(match, "dumped SA and policy counts equal the GET_STATS counters");

	for (i = 0; i < nsas; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = msg_start(buf, KIPSEC_CMD_SA_GET,
						 NLM_F_ACK);
		struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
		int saved = nsas;

		mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, sas[i].spi);
		mnl_attr_put(nlh, KIPSEC_SA_A_DST, sas[i].dlen, sas[i].dst);
		mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, sas[i].proto);
		mnl_attr_nest_end(nlh, n);
		/* The reply is parsed by the dump callback into sas[nsas]. */
		err = get_one(nlh, sa_dump_cb, NULL);
		if (!err && nsas == saved + 1) {
			got = sas[saved];
			if (got.spi != sas[i].spi || got.proto != sas[i].proto ||
			    memcmp(got.dst, sas[i].dst, sas[i].dlen))
				get_fail++;
		} else if (err == -ENOENT) {
			/* Expired since the dump: larval, or short-lived. */
			gone++;
		} else {
			get_fail++;
		}
		nsas = saved;
	}
	report(!get_fail, "each of the %d dumped SAs answers SA_GET with itself (%d expired since)",
	       nsas, gone);
	for (i = 0; i < npols; i++) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = msg_start(buf, KIPSEC_CMD_POLICY_GET,
						 NLM_F_ACK);
		struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
		int saved = npols;

		mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, pols[i]);
		mnl_attr_nest_end(nlh, n);
		err = get_one(nlh, pol_dump_cb, NULL);
		if (err || npols != saved + 1 || pols[saved] != pols[i])
			pget_fail++;
		npols = saved;
	}
	report(!pget_fail, "each of the %d dumped policies answers POLICY_GET with itself",
	       npols);

	/* With keys asked, as root: the same SAs, now with keys. */
	nsas = 0;
	err = dump_each(KIPSEC_CMD_SA_GET, KIPSEC_F_WITH_KEYS, NULL, NULL,
			NULL);
	report(err >= 0, "an SA dump with keys answers (%d entries)", err);

	if (keep)
		return;
	{
		char buf[MNL_SOCKET_BUFFER_SIZE], ext[256];

		transact(msg_start(buf, KIPSEC_CMD_SA_FLUSH, NLM_F_ACK), ext,
			 sizeof(ext));
		transact(msg_start(buf, KIPSEC_CMD_POLICY_FLUSH, NLM_F_ACK),
			 ext, sizeof(ext));
	}
	err = snapshot(&intr);
	if (!err)
		err = get_counts(&c);
	report(!err && !nsas && !npols && !c.sas && !c.pols,
	       "after SA_FLUSH and POLICY_FLUSH both tables are empty (%d/%u SAs, %d/%u policies)",
	       nsas, c.sas, npols, c.pols);
}

/* FNV-1a over the sorted SA keys and policy IDs. */
static int cmp_sa(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct sa_key));
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int print_snapshot(void)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	const unsigned char *p;
	bool intr;
	size_t k;
	int i;

	memset(sas, 0, sizeof(sas));
	if (snapshot(&intr) || intr || bad_entries)
		return 1;
	qsort(sas, nsas, sizeof(sas[0]), cmp_sa);
	qsort(pols, npols, sizeof(pols[0]), cmp_u32);
	for (i = 0; i < nsas; i++)
		for (p = (const void *)&sas[i], k = 0; k < sizeof(sas[i]); k++)
			h = (h ^ p[k]) * 0x100000001b3ULL;
	for (i = 0; i < npols; i++)
		for (p = (const void *)&pols[i], k = 0; k < 4; k++)
			h = (h ^ p[k]) * 0x100000001b3ULL;
	printf("%d SAs, %d policies, fingerprint %016llx\n", nsas, npols,
	       (unsigned long long)h);
	return 0;
}

/* ---- the multicast groups ------------------------------------------------- */

struct groups {
	int n;
	uint32_t id[8];
	char names[64];
};

static int group_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *g, *b;
	struct groups *gr = data;

	if (mnl_attr_get_type(a) != CTRL_ATTR_MCAST_GROUPS)
		return MNL_CB_OK;
	mnl_attr_for_each_nested(g, a) {
		const char *name = NULL;
		uint32_t id = 0;

		mnl_attr_for_each_nested(b, g) {
			if (mnl_attr_get_type(b) == CTRL_ATTR_MCAST_GRP_NAME)
				name = mnl_attr_get_str(b);
			if (mnl_attr_get_type(b) == CTRL_ATTR_MCAST_GRP_ID)
				id = mnl_attr_get_u32(b);
		}
		if (!name || !id || gr->n == ARRAY_SIZE(gr->id))
			continue;
		gr->id[gr->n++] = id;
		snprintf(gr->names + strlen(gr->names),
			 sizeof(gr->names) - strlen(gr->names), "%s%s",
			 gr->n > 1 ? ", " : "", name);
	}
	return MNL_CB_OK;
}

static int groups_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), group_cb, data);
	return MNL_CB_OK;
}

/*
 * kipsec's notifications (SA and policy events, ACQUIREs) are for
 * CAP_NET_ADMIN in the namespace's owner: root may join every group, the
 * unprivileged user none.
 */
static void check_groups(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	int i, n, fd = mnl_socket_get_fd(nl), joined = 0, eperm = 0;
	struct groups gr = { 0 };
	struct genlmsghdr *g;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPSEC_GENL_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n > 0)
			mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl),
				   groups_msg_cb, &gr);
	}
	for (i = 0; i < gr.n; i++) {
		if (!setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
				&gr.id[i], sizeof(gr.id[i]))) {
			joined++;
			setsockopt(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP,
				   &gr.id[i], sizeof(gr.id[i]));
		} else if (errno == EPERM) {
			eperm++;
		}
	}
	if (unpriv)
		report(gr.n == 3 && eperm == 3,
		       "unprivileged: joining the multicast groups (%s) is refused with EPERM (%d of %d)",
		       gr.names, eperm, gr.n);
	else
		report(gr.n == 3 && joined == 3,
		       "root may join the multicast groups (%s) (%d of %d)",
		       gr.names, joined, gr.n);
}

/* ---- main ---------------------------------------------------------------- */

static int drop_privileges(void)
{
	gid_t g = 65534;

	if (setgroups(1, &g) || setresgid(g, g, g) || setresuid(g, g, g)) {
		perror("drop privileges");
		return -1;
	}
	if (unshare(CLONE_NEWUSER)) {
		perror("unshare(CLONE_NEWUSER)");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long count = 1000, i, unanswered_shown = 0;
	uint64_t seed = 0;
	bool have_seed = false, keep = false, snap = false;
	struct timespec t0, t1;
	struct msg m;
	double secs;
	int k, rcvbuf = 4 << 20;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--seed") && k + 1 < argc) {
			seed = strtoull(argv[++k], NULL, 0);
			have_seed = true;
		} else if (!strcmp(argv[k], "--count") && k + 1 < argc) {
			count = strtoul(argv[++k], NULL, 0);
		} else if (!strcmp(argv[k], "--timeout-ms") && k + 1 < argc) {
			timeout_ms = atoi(argv[++k]);
		} else if (!strcmp(argv[k], "--unpriv")) {
			unpriv = true;
		} else if (!strcmp(argv[k], "--keep")) {
			keep = true;
		} else if (!strcmp(argv[k], "--snapshot")) {
			snap = true;
		} else {
			fprintf(stderr,
				"usage: genl_fuzz [--seed N] [--count N] [--unpriv] [--keep]\n"
				"                 [--timeout-ms N] | --snapshot\n");
			return 2;
		}
	}
	if (snap)
		return genl_open() ? 1 : print_snapshot();
	if (!have_seed) {
		clock_gettime(CLOCK_REALTIME, &t0);
		seed = (uint64_t)t0.tv_sec * 1000000007ULL ^ t0.tv_nsec;
	}
	printf("# seed %llu, %lu messages%s; reproduce with: genl_fuzz --seed %llu --count %lu%s\n",
	       (unsigned long long)seed, count, unpriv ? ", unprivileged" : "",
	       (unsigned long long)seed, count, unpriv ? " --unpriv" : "");
	if (unpriv && drop_privileges()) {
		report(false, "drop to uid 65534 in a new user namespace");
		return 1;
	}
	if (unpriv)
		report(true, "drop to uid 65534 in a new user namespace");
	if (genl_open()) {
		report(false, "resolve the kipsec family with CTRL_CMD_GETFAMILY");
		return 1;
	}
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
		   sizeof(rcvbuf));
	check_groups();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < count; i++) {
		build_msg(seed, i, &m);
		n_strat[m.strat]++;
		if (m.cmd >= 0)
			n_cmd[m.cmd & 0xff]++;
		if (mnl_socket_sendto(nl, cur, cur->nlmsg_len) < 0) {
			/* The socket refuses only what it cannot carry. */
			if (errno == EMSGSIZE || errno == ENOBUFS)
				continue;
			printf("# message %lu: send: %s\n", i, strerror(errno));
			n_unanswered++;
			continue;
		}
		if (await(cur->nlmsg_seq, &m, i)) {
			n_unanswered++;
			if (++unanswered_shown > 20)
				break;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("# %lu messages in %.1f s (%.0f/s): %lu succeeded, %lu replies\n",
	       i, secs, i / (secs > 0 ? secs : 1), n_ok, n_replies);
	for (k = 0; k < __S_MAX; k++)
		printf("# strategy %-18s %lu\n", strategy_names[k], n_strat[k]);
	for (k = 0; k < 256; k++)
		if (n_cmd[k])
			printf("# command %3d: %lu\n", k, n_cmd[k]);
	for (k = 1; k < 256; k++)
		if (n_err[k])
			printf("# errno %-16s %lu\n", strerrorname_np(k) ?
			       strerrorname_np(k) : "?", n_err[k]);

	report(i == count && !n_unanswered,
	       "every one of %lu messages is answered (reply or error) within %d ms (%lu not)",
	       count, timeout_ms, n_unanswered);
	report(!n_bad_reply, "every kipsec reply parses (%lu replies, %lu malformed)",
	       n_replies, n_bad_reply);
	report(!n_key_leak, "no SA reply carries a key unless keys were asked for (%lu did)",
	       n_key_leak);
	if (unpriv) {
		report(!n_admin_ok && !n_admin_replies,
		       "unprivileged: no state-changing or state-reading command succeeds (%lu did, %lu replies)",
		       n_admin_ok, n_admin_replies);
		report(n_err[EPERM] > 0 && !n_err[EEXIST] && !n_err[ENOENT],
		       "unprivileged: EPERM for %lu requests, never EEXIST or ENOENT (%lu, %lu)",
		       n_err[EPERM], n_err[EEXIST], n_err[ENOENT]);
		report(n_open_ok > 0, "unprivileged: GET_STATS and ALGS answer (%lu succeeded)",
		       n_open_ok);
	} else {
		check_state(keep);
	}
	mnl_socket_close(nl);
	printf("# %d tests, %d failed\n", tests, failed);
	return failed ? 1 : 0;
}
