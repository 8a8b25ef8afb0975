// SPDX-License-Identifier: GPL-2.0
/*
 * Hand-built malformed and hostile requests to the "kipsec" generic netlink
 * family. Each must fail with the expected errno and an extack message
 * (printed), and must leave the SAD and SPD empty. Each malformed request
 * is one change away from a valid one, which is sent first as a control.
 * Prints KTAP test points ("ok N desc"); the caller prints the plan.
 */

#include <errno.h>
#include <stdarg.h>
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

/* ---- the valid base requests and their knobs --------------------------- */

struct sa_req {
	int cmd;
	bool no_sa;		/* omit KIPSEC_A_SA */
	bool sa_flat;		/* KIPSEC_A_SA as a u32 instead of a nest */
	bool sa_short;		/* KIPSEC_A_SA nested, 4-byte payload */
	int top_unknown;	/* extra top-level attribute type */
	int sa_unknown;		/* extra attribute type inside KIPSEC_A_SA */
	bool no_spi;
	uint32_t spi;
	int dst_len;		/* 4, 16 or anything (bytes of 0x0a) */
	int src_len;
	int proto;
	int mode;
	const char *aead;	/* NULL: cipher + auth */
	int aead_key;
	int aead_icv;		/* 0: omit */
	const char *crypt;	/* NULL: omit */
	int crypt_key;
	const char *auth;
	int auth_key;
	int auth_icv;
	long long replay;	/* < 0: omit */
	long long flags;	/* < 0: omit */
	long long seq_out;	/* < 0: omit */
	int name_pad;		/* > 0: algorithm name padded to this length */
};

static struct sa_req sa_base(void)
{
	struct sa_req r = {
		.cmd = KIPSEC_CMD_SA_NEW,
		.spi = 0x1000,
		.dst_len = 4,
		.src_len = 4,
		.proto = IPPROTO_ESP,
		.mode = KIPSEC_MODE_TUNNEL,
		.aead = "rfc4106(gcm(aes))",
		.aead_key = 20,
		.aead_icv = 128,
		.replay = 64,
		.flags = -1,
		.seq_out = -1,
	};
	return r;
}

struct tmpl_req {
	int proto;
	int mode;
	bool no_src, no_dst;
};

struct pol_req {
	int cmd;
	bool with_id;
	bool no_dir;
	int dir;
	int action;
	int sel_src_len, sel_dst_len;
	int src_plen;		/* < 0: omit */
	int proto;		/* < 0: omit */
	int dport;		/* < 0: omit */
	int ntmpls;
	struct tmpl_req tmpl;
};

static struct pol_req pol_base(void)
{
	struct pol_req r = {
		.cmd = KIPSEC_CMD_POLICY_NEW,
		.dir = KIPSEC_DIR_OUT,
		.action = KIPSEC_ACTION_PROTECT,
		.sel_src_len = 4,
		.sel_dst_len = 4,
		.src_plen = 24,
		.proto = IPPROTO_TCP,
		.dport = 22,
		.ntmpls = 1,
		.tmpl = { .proto = IPPROTO_ESP, .mode = KIPSEC_MODE_TUNNEL },
	};
	return r;
}

/* ---- message building ------------------------------------------------- */

static void put_alg(struct nlmsghdr *nlh, int type, const char *name,
		    int keylen, int icv, int name_pad)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);
	char padded[256];

	if (name_pad > 0) {
		memset(padded, 'a', sizeof(padded));
		padded[name_pad] = '\0';
		mnl_attr_put_strz(nlh, KIPSEC_ALG_A_NAME, padded);
	} else {
		mnl_attr_put_strz(nlh, KIPSEC_ALG_A_NAME, name);
	}
	if (keylen)
		put_bytes(nlh, KIPSEC_ALG_A_KEY, keylen, 0x42);
	if (icv)
		mnl_attr_put_u32(nlh, KIPSEC_ALG_A_ICV_BITS, icv);
	mnl_attr_nest_end(nlh, n);
}

static void build_sa(struct nlmsghdr *nlh, const struct sa_req *r)
{
	struct nlattr *n;

	if (r->top_unknown)
		mnl_attr_put_u32(nlh, r->top_unknown, 1);
	if (r->no_sa)
		return;
	if (r->sa_flat) {
		mnl_attr_put_u32(nlh, KIPSEC_A_SA, 1);
		return;
	}
	if (r->sa_short) {
		mnl_attr_put_u32(nlh, KIPSEC_A_SA | NLA_F_NESTED, 1);
		return;
	}
	n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	if (!r->no_spi)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, htonl(r->spi));
	put_bytes(nlh, KIPSEC_SA_A_DST, r->dst_len, 0x0a);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, r->proto);
	put_bytes(nlh, KIPSEC_SA_A_SRC, r->src_len, 0x0b);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_MODE, r->mode);
	mnl_attr_put_u32(nlh, KIPSEC_SA_A_REQID, 1);
	if (r->flags >= 0)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_FLAGS, r->flags);
	if (r->aead)
		put_alg(nlh, KIPSEC_SA_A_ALG_AEAD, r->aead, r->aead_key,
			r->aead_icv, r->name_pad);
	if (r->crypt)
		put_alg(nlh, KIPSEC_SA_A_ALG_CRYPT, r->crypt, r->crypt_key, 0,
			0);
	if (r->auth)
		put_alg(nlh, KIPSEC_SA_A_ALG_AUTH, r->auth, r->auth_key,
			r->auth_icv, 0);
	if (r->replay >= 0)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_REPLAY_WINDOW, r->replay);
	if (r->seq_out >= 0)
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_OUT, r->seq_out);
	if (r->sa_unknown)
		mnl_attr_put_u8(nlh, r->sa_unknown, 1);
	mnl_attr_nest_end(nlh, n);
}

static void build_pol(struct nlmsghdr *nlh, const struct pol_req *r)
{
	struct nlattr *n, *sel, *tmpls, *t;
	int i;

	n = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	if (r->with_id)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, 1);
	if (!r->no_dir)
		mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, r->dir);
	mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, 100);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_ACTION, r->action);
	sel = mnl_attr_nest_start(nlh, KIPSEC_POL_A_SEL);
	put_bytes(nlh, KIPSEC_SEL_A_SRC, r->sel_src_len, 0x0a);
	if (r->src_plen >= 0)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_SRC_PLEN, r->src_plen);
	put_bytes(nlh, KIPSEC_SEL_A_DST, r->sel_dst_len, 0x0c);
	if (r->proto >= 0)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_PROTO, r->proto);
	if (r->dport >= 0) {
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MIN, r->dport);
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MAX, r->dport);
	}
	mnl_attr_nest_end(nlh, sel);
	if (r->ntmpls) {
		tmpls = mnl_attr_nest_start(nlh, KIPSEC_POL_A_TMPLS);
		for (i = 0; i < r->ntmpls; i++) {
			t = mnl_attr_nest_start(nlh, KIPSEC_TMPL);
			mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_PROTO, r->tmpl.proto);
			mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_MODE, r->tmpl.mode);
			if (!r->tmpl.no_src)
				put_bytes(nlh, KIPSEC_TMPL_A_SRC, 4, 0x0b);
			if (!r->tmpl.no_dst)
				put_bytes(nlh, KIPSEC_TMPL_A_DST, 4, 0x0a);
			mnl_attr_put_u32(nlh, KIPSEC_TMPL_A_REQID, 1);
			mnl_attr_nest_end(nlh, t);
		}
		mnl_attr_nest_end(nlh, tmpls);
	}
	mnl_attr_nest_end(nlh, n);
}

/* Expect -@want and an extack message (unless @need_msg is false). */
static void expect(const char *desc, struct nlmsghdr *nlh, int want,
		   bool need_msg)
{
	char ext[512];
	int err = transact(nlh, ext, sizeof(ext));

	printf("# %s: %s (%s)\n", desc, err ? strerror(-err) : "success",
	       ext[0] ? ext : "no extack message");
	report(err == -want && (!need_msg || ext[0]),
	       "%s: %s%s", desc, strerror(want),
	       need_msg ? " with an extack message" : "");
}

static void sa_case(const char *desc, const struct sa_req *r, int want)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	build_sa(msg_start(buf, r->cmd, NLM_F_ACK), r);
	expect(desc, (struct nlmsghdr *)buf, want, true);
}

static void pol_case(const char *desc, const struct pol_req *r, int want)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	build_pol(msg_start(buf, r->cmd, NLM_F_ACK), r);
	expect(desc, (struct nlmsghdr *)buf, want, true);
}

static void del_sa(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = msg_start(buf, KIPSEC_CMD_SA_FLUSH, NLM_F_ACK);
	char ext[256];

	transact(nlh, ext, sizeof(ext));
	nlh = msg_start(buf, KIPSEC_CMD_POLICY_FLUSH, NLM_F_ACK);
	transact(nlh, ext, sizeof(ext));
}

struct pol_echo {
	int replies;
	uint32_t id;
};

/* A reply to POLICY_NEW: count it, and take the policy id it carries. */
static int pol_echo_cb(const struct nlmsghdr *r, void *data)
{
	struct pol_echo *e = data;
	struct nlattr *a, *b;

	e->replies++;
	mnl_attr_for_each(a, r, GENL_HDRLEN) {
		if (mnl_attr_get_type(a) != KIPSEC_A_POLICY)
			continue;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == KIPSEC_POL_A_ID)
				e->id = mnl_attr_get_u32(b);
	}
	return MNL_CB_OK;
}

/*
 * Send the base policy with NLM_F_ACK and @flags; return the replies that
 * came before the ack (-errno on failure) and the policy id they carried.
 */
static int pol_replies(uint16_t flags, uint32_t *id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], ext[256];
	struct pol_req p = pol_base();
	struct pol_echo e = { 0, 0 };
	struct nlmsghdr *nlh = msg_start(buf, p.cmd, NLM_F_ACK | flags);
	int err;

	build_pol(nlh, &p);
	err = transact_cb(nlh, ext, sizeof(ext), pol_echo_cb, &e);
	*id = e.id;
	return err ? err : e.replies;
}

int main(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], ext[512];
	struct nlmsghdr *nlh;
	struct sa_req s;
	struct pol_req p;
	int err;

	if (genl_open()) {
		report(false, "resolve the kipsec family with CTRL_CMD_GETFAMILY");
		printf("1..%d\n", tests);
		return 1;
	}
	report(true, "resolve the kipsec family with CTRL_CMD_GETFAMILY");

	/* Controls: the base requests are valid. */
	s = sa_base();
	build_sa(msg_start(buf, s.cmd, NLM_F_ACK), &s);
	err = transact((struct nlmsghdr *)buf, ext, sizeof(ext));
	printf("# control SA: %s %s\n", strerror(-err), ext);
	report(!err, "control: the base SA request is accepted");
	p = pol_base();
	build_pol(msg_start(buf, p.cmd, NLM_F_ACK), &p);
	err = transact((struct nlmsghdr *)buf, ext, sizeof(ext));
	printf("# control policy: %s %s\n", strerror(-err), ext);
	report(!err, "control: the base policy request is accepted");
	del_sa();

	/* POLICY_NEW replies with the policy only when asked (NLM_F_ECHO). */
	{
		uint32_t id;
		int r = pol_replies(0, &id);

		printf("# policy add without NLM_F_ECHO: %d replies\n", r);
		report(r == 0, "POLICY_NEW without NLM_F_ECHO: the ack alone");
		del_sa();
		r = pol_replies(NLM_F_ECHO, &id);
		printf("# policy add with NLM_F_ECHO: %d replies, id %u\n",
		       r, id);
		report(r == 1 && id, "POLICY_NEW with NLM_F_ECHO: one reply with the policy's id");
		del_sa();
	}
	report(dump_count(KIPSEC_CMD_SA_GET) == 0 &&
	       dump_count(KIPSEC_CMD_POLICY_GET) == 0,
	       "control: flushed, both tables empty");

	/* Attribute layer (netlink core, from the policies). */
	s = sa_base(); s.top_unknown = KIPSEC_A_MAX + 5;
	sa_case("unknown top-level attribute type", &s, EINVAL);
	s = sa_base(); s.top_unknown = KIPSEC_A_VERSION;
	sa_case("attribute not accepted by this command", &s, EINVAL);
	s = sa_base(); s.sa_unknown = KIPSEC_SA_A_STATE;
	sa_case("read-only attribute inside the SA", &s, EINVAL);
	s = sa_base(); s.sa_flat = true;
	sa_case("nested KIPSEC_A_SA given as a flat u32", &s, EINVAL);
	s = sa_base(); s.sa_short = true;
	sa_case("nested KIPSEC_A_SA with a 4-byte payload", &s, EINVAL);
	s = sa_base(); s.replay = 5000;
	sa_case("replay window 5000 (max 4096)", &s, ERANGE);
	s = sa_base(); s.flags = 1u << 20;
	sa_case("unknown SA flag bit", &s, EINVAL);
	s = sa_base(); s.name_pad = 100;
	sa_case("algorithm name longer than 63 bytes", &s, EINVAL);
	s = sa_base(); s.dst_len = 20;
	sa_case("address of 20 bytes", &s, ERANGE);
	s = sa_base(); s.mode = 7;
	sa_case("mode out of range", &s, ERANGE);

	/* Semantic layer (kipsec). */
	s = sa_base(); s.dst_len = 5;
	sa_case("address of 5 bytes", &s, EINVAL);
	s = sa_base(); s.spi = 0;
	sa_case("SPI 0", &s, EINVAL);
	s = sa_base(); s.spi = 100;
	sa_case("SPI 100 (reserved range)", &s, EINVAL);
	s = sa_base(); s.no_spi = true;
	sa_case("missing SPI", &s, EINVAL);
	s = sa_base(); s.no_sa = true;
	sa_case("missing KIPSEC_A_SA", &s, EINVAL);
	s = sa_base(); s.proto = IPPROTO_UDP;
	sa_case("protocol UDP", &s, EPROTONOSUPPORT);
	s = sa_base(); s.src_len = 16;
	sa_case("IPv4 destination with an IPv6 source", &s, EAFNOSUPPORT);
	s = sa_base(); s.aead = "foo(bar)";
	sa_case("unknown algorithm", &s, EOPNOTSUPP);
	s = sa_base(); s.aead = NULL; s.crypt = "cbc(des)"; s.crypt_key = 8;
	s.auth = "hmac(sha256)"; s.auth_key = 32;
	sa_case("DES refused (RFC 8221 MUST NOT)", &s, EINVAL);
	s = sa_base(); s.aead = NULL; s.crypt = "cbc(des3_ede)";
	s.crypt_key = 24; s.auth = "hmac(sha256)"; s.auth_key = 32;
	sa_case("3DES refused (RFC 8221 MUST NOT)", &s, EINVAL);
	s = sa_base(); s.aead = NULL; s.auth = "hmac(md5)"; s.auth_key = 16;
	sa_case("MD5 refused (RFC 8221 MUST NOT)", &s, EINVAL);
	s = sa_base(); s.aead_key = 16;
	sa_case("AES-GCM key without its salt", &s, EINVAL);
	s = sa_base(); s.aead = NULL; s.crypt = "cbc(aes)"; s.crypt_key = 15;
	s.auth = "hmac(sha256)"; s.auth_key = 32;
	sa_case("cbc(aes) key of 15 bytes", &s, EINVAL);
	s = sa_base(); s.aead_icv = 112;
	sa_case("AES-GCM ICV of 112 bits", &s, EINVAL);
	s = sa_base(); s.aead = NULL; s.auth = "hmac(sha256)"; s.auth_key = 32;
	s.auth_icv = 96;
	sa_case("hmac(sha256) truncated to 96 bits without NONSTD_TRUNC", &s,
		EINVAL);
	s = sa_base(); s.aead = NULL; s.crypt = "cbc(aes)"; s.crypt_key = 16;
	sa_case("cipher without integrity", &s, EINVAL);
	s = sa_base(); s.crypt = "cbc(aes)"; s.crypt_key = 16;
	sa_case("AEAD together with a cipher", &s, EINVAL);
	s = sa_base(); s.proto = IPPROTO_AH;
	sa_case("AH with AES-GCM (not GMAC)", &s, EINVAL);
	s = sa_base(); s.aead = "hmac(sha256)"; s.aead_key = 32; s.aead_icv = 0;
	sa_case("integrity algorithm given as AEAD", &s, EINVAL);
	s = sa_base(); s.seq_out = 1LL << 33;
	sa_case("outbound sequence above 2^32 without ESN", &s, ERANGE);

	s = sa_base(); s.cmd = KIPSEC_CMD_SA_UPDATE;
	sa_case("update of a missing SA", &s, ENOENT);
	s = sa_base(); s.cmd = KIPSEC_CMD_SA_DEL;
	nlh = msg_start(buf, KIPSEC_CMD_SA_DEL, NLM_F_ACK);
	s = (struct sa_req){
		.spi = 0x1000, .dst_len = 4, .src_len = 4,
		.proto = IPPROTO_ESP, .replay = -1, .flags = -1,
		.seq_out = -1, .cmd = KIPSEC_CMD_SA_DEL,
	};
	build_sa(nlh, &s);
	expect("delete with attributes beyond the key", nlh, EINVAL, true);

	nlh = msg_start(buf, KIPSEC_CMD_SA_GET, NLM_F_ACK);
	mnl_attr_put_u32(nlh, KIPSEC_A_FLAGS, 0x80);
	expect("unknown request flag bit", nlh, EINVAL, true);

	nlh = msg_start(buf, KIPSEC_CMD_SA_GETSPI, NLM_F_ACK);
	mnl_attr_put_u32(nlh, KIPSEC_A_SPI_MIN, 100);
	expect("GETSPI minimum below 256", nlh, ERANGE, true);

	nlh = msg_start(buf, KIPSEC_CMD_SET_CONFIG, NLM_F_ACK);
	{
		struct nlattr *c = mnl_attr_nest_start(nlh, KIPSEC_A_CONFIG);

		mnl_attr_put_u8(nlh, KIPSEC_CONFIG_A_DEFAULT_OUT,
				KIPSEC_ACTION_PROTECT);
		mnl_attr_nest_end(nlh, c);
	}
	expect("default action protect", nlh, ERANGE, true);

	/* Policies. */
	p = pol_base(); p.src_plen = 33;
	pol_case("IPv4 selector prefix length 33", &p, EINVAL);
	p = pol_base(); p.sel_dst_len = 16;
	pol_case("selector with IPv4 source and IPv6 destination", &p,
		 EAFNOSUPPORT);
	p = pol_base(); p.tmpl.no_dst = true;
	pol_case("tunnel template without a destination", &p, EINVAL);
	p = pol_base(); p.no_dir = true;
	pol_case("policy without a direction", &p, EINVAL);
	p = pol_base(); p.dir = 3;
	pol_case("direction out of range", &p, ERANGE);
	p = pol_base(); p.with_id = true;
	pol_case("POLICY_NEW with an ID", &p, EINVAL);
	p = pol_base(); p.ntmpls = 0;
	pol_case("protect without templates", &p, EINVAL);
	p = pol_base(); p.action = KIPSEC_ACTION_BYPASS;
	pol_case("bypass with templates", &p, EINVAL);
	p = pol_base(); p.ntmpls = KIPSEC_MAX_TMPLS + 1;
	pol_case("too many templates", &p, E2BIG);
	p = pol_base(); p.tmpl.proto = IPPROTO_UDP;
	pol_case("template protocol UDP", &p, EPROTONOSUPPORT);
	p = pol_base(); p.proto = IPPROTO_ICMP;
	pol_case("ports with protocol ICMP", &p, EINVAL);
	p = pol_base(); p.cmd = KIPSEC_CMD_POLICY_UPDATE;
	pol_case("update of a missing policy", &p, ENOENT);

	nlh = msg_start(buf, KIPSEC_CMD_EXPLAIN, NLM_F_ACK);
	{
		struct nlattr *e = mnl_attr_nest_start(nlh, KIPSEC_A_EXPLAIN);

		put_bytes(nlh, KIPSEC_EXPLAIN_A_SRC, 4, 1);
		mnl_attr_nest_end(nlh, e);
	}
	expect("explain without a destination", nlh, EINVAL, true);

	/* The core answers unknown commands without an extack message. */
	nlh = msg_start(buf, 99, NLM_F_ACK);
	expect("unknown command number", nlh, EOPNOTSUPP, false);
	nlh = msg_start(buf, KIPSEC_CMD_ACQUIRE, NLM_F_ACK);
	expect("notification-only command as a request", nlh, EOPNOTSUPP,
	       false);

	report(dump_count(KIPSEC_CMD_SA_GET) == 0,
	       "the SAD is still empty");
	report(dump_count(KIPSEC_CMD_POLICY_GET) == 0,
	       "the SPD is still empty");

	mnl_socket_close(nl);
	printf("# %d tests, %d failed\n", tests, failed);
	return failed ? 1 : 0;
}
