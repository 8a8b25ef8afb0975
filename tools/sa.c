// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec sa add|update|del|get|show|flush|getspi
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

struct alg {
	bool set;
	bool has_icv;
	char name[KIPSEC_MAX_ALG_NAME];
	uint8_t key[KIPSEC_MAX_KEY_BYTES];
	size_t keylen;
	uint32_t icv;
};

struct lft {
	bool set;
	bool has[KIPSEC_LFT_A_USE_SECS + 1];
	uint64_t v[KIPSEC_LFT_A_USE_SECS + 1];
};

struct sa_req {
	struct kaddr src, dst;
	bool has_src, has_dst, has_proto, has_spi, has_mode, has_reqid;
	bool has_replay, has_flags, has_df, has_seq_out, has_seq_in;
	bool has_min, has_max;
	uint8_t proto, mode, df;
	uint32_t spi, reqid, replay, flags, spi_min, spi_max;
	uint64_t seq_out, seq_in;
	struct alg aead, crypt, auth;
	struct lft soft, hard;
	struct {
		bool set, has_oaddr;
		uint16_t sport, dport;
		struct kaddr oaddr;
	} encap;
	struct sel sel;
};

static int parse_alg(int *argcp, char ***argvp, struct alg *alg,
		     const char *ctx, int nargs)
{
	char **argv = *argvp;
	const char *kw = argv[0];
	int argc = *argcp;

	if (argc <= nargs) {
		errorf("%s: \"%s\" needs %s", ctx, kw,
		       nargs == 3 ? "NAME KEY BITS" : "NAME KEY");
		return -1;
	}
	if (alg->set) {
		errorf("%s: \"%s\" given twice", ctx, kw);
		return -1;
	}
	if (strlen(argv[1]) >= sizeof(alg->name)) {
		errorf("invalid algorithm \"%s\": name too long", argv[1]);
		return -1;
	}
	strcpy(alg->name, argv[1]);
	if (parse_key(argv[2], "key", alg->key, sizeof(alg->key), &alg->keylen))
		return -1;
	if (nargs == 3) {
		if (parse_u32(argv[3], "ICV length", &alg->icv))
			return -1;
		alg->has_icv = true;
	}
	alg->set = true;
	*argcp -= nargs;
	*argvp += nargs;
	return 0;
}

static int parse_lft(int *argcp, char ***argvp, struct sa_req *r,
		     const char *ctx)
{
	static const char *const kws[] = {
		[KIPSEC_LFT_A_BYTES] = "bytes",
		[KIPSEC_LFT_A_PACKETS] = "packets",
		[KIPSEC_LFT_A_ADD_SECS] = "add",
		[KIPSEC_LFT_A_USE_SECS] = "use",
	};
	static const char *const kinds[] = { "soft", "hard", NULL };
	char **argv = *argvp;
	int argc = *argcp;
	struct lft *l;
	int kind;

	NEXT_ARG(ctx);
	kind = parse_choice(*argv, "lifetime", kinds);
	if (kind < 0)
		return -1;
	l = kind ? &r->hard : &r->soft;
	l->set = true;
	while (argc > 1) {
		int i;

		for (i = KIPSEC_LFT_A_BYTES; i <= KIPSEC_LFT_A_USE_SECS; i++)
			if (matches(argv[1], kws[i]))
				break;
		if (i > KIPSEC_LFT_A_USE_SECS)
			break;
		argc--;
		argv++;
		NEXT_ARG(ctx);
		if (parse_u64(*argv, kws[i], &l->v[i]))
			return -1;
		l->has[i] = true;
	}
	*argcp = argc;
	*argvp = argv;
	return 0;
}

static int flag_index(const char *word)
{
	static const char *const names[] = { "esn", "noecn", "nodscp",
					     "nonstd-trunc" };

	for (int i = 0; i < 4; i++)
		if (matches(word, names[i]))
			return i;
	return -1;
}

/* "flag esn noecn ...": the cursor ends on the last flag. */
static int parse_flags(int *argcp, char ***argvp, struct sa_req *r,
		       const char *ctx)
{
	static const char *const names[] = { "esn", "noecn", "nodscp",
					     "nonstd-trunc", NULL };
	char **argv = *argvp;
	int argc = *argcp, i;

	NEXT_ARG(ctx);
	i = flag_index(*argv);
	if (i < 0) {
		parse_choice(*argv, "flag", names);
		return -1;
	}
	r->flags |= 1U << i;
	while (argc > 1 && (i = flag_index(argv[1])) >= 0) {
		r->flags |= 1U << i;
		argc--;
		argv++;
	}
	r->has_flags = true;
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* "encap espinudp SPORT DPORT [OADDR]": the cursor ends on the last word. */
static int parse_encap(int *argcp, char ***argvp, struct sa_req *r,
		       const char *ctx)
{
	static const char *const types[] = { "espinudp", NULL };
	char **argv = *argvp;
	int argc = *argcp;

	NEXT_ARG(ctx);
	if (parse_choice(*argv, "encap", types) < 0)
		return -1;
	NEXT_ARG(ctx);
	if (parse_u16(*argv, "encap sport", &r->encap.sport))
		return -1;
	NEXT_ARG(ctx);
	if (parse_u16(*argv, "encap dport", &r->encap.dport))
		return -1;
	if (argc > 1 && strcmp(argv[1], "any") &&
	    (strchr(argv[1], '.') || strchr(argv[1], ':'))) {
		NEXT_ARG(ctx);
		if (parse_addr(*argv, "encap address", &r->encap.oaddr))
			return -1;
		r->encap.has_oaddr = true;
	}
	r->encap.set = true;
	*argcp = argc;
	*argvp = argv;
	return 0;
}

/* "sel SELECTOR...": the cursor ends on the last selector word. */
static int parse_sel(int *argcp, char ***argvp, struct sel *sel,
		     const char *ctx)
{
	char **argv = *argvp;
	int argc = *argcp;
	char sctx[64];

	snprintf(sctx, sizeof(sctx), "%s sel", ctx);
	sel->set = true;
	while (argc > 1) {
		int rc;

		argc--;
		argv++;
		rc = sel_parse_word(&argc, &argv, sel, sctx);
		if (rc < 0)
			return -1;
		if (rc == 0) {	/* not a selector word */
			argc++;
			argv--;
			break;
		}
	}
	*argcp = argc;
	*argvp = argv;
	return sel_finish(sel);
}

static int parse_sa(int argc, char **argv, struct sa_req *r, const char *ctx,
		    bool getspi)
{
	static const char *const modes[] = { "transport", "tunnel", NULL };
	static const char *const dfs[] = { "copy", "set", "clear", NULL };

	for (; argc > 0; argc--, argv++) {
		int rc;

		if (matches(*argv, "src")) {
			rc = next_addr(&argc, &argv, ctx, "src", &r->src,
				       &r->has_src);
		} else if (matches(*argv, "dst")) {
			rc = next_addr(&argc, &argv, ctx, "dst", &r->dst,
				       &r->has_dst);
		} else if (matches(*argv, "proto")) {
			NEXT_ARG(ctx);
			rc = parse_ipsec_proto(*argv, &r->proto);
			r->has_proto = !rc;
		} else if (matches(*argv, "spi") && !getspi) {
			rc = next_u32(&argc, &argv, ctx, "spi", &r->spi,
				      &r->has_spi);
		} else if (matches(*argv, "mode")) {
			rc = next_choice(&argc, &argv, ctx, "mode", modes,
					 &r->mode, &r->has_mode);
		} else if (matches(*argv, "reqid")) {
			rc = next_u32(&argc, &argv, ctx, "reqid", &r->reqid,
				      &r->has_reqid);
		} else if (getspi && matches(*argv, "min")) {
			rc = next_u32(&argc, &argv, ctx, "min", &r->spi_min,
				      &r->has_min);
		} else if (getspi && matches(*argv, "max")) {
			rc = next_u32(&argc, &argv, ctx, "max", &r->spi_max,
				      &r->has_max);
		} else if (getspi) {
			return unknown_keyword(ctx, *argv);
		} else if (matches(*argv, "aead")) {
			rc = parse_alg(&argc, &argv, &r->aead, ctx, 3);
		} else if (matches(*argv, "enc")) {
			rc = parse_alg(&argc, &argv, &r->crypt, ctx, 2);
		} else if (matches(*argv, "auth")) {
			rc = parse_alg(&argc, &argv, &r->auth, ctx, 2);
		} else if (matches(*argv, "auth-trunc")) {
			rc = parse_alg(&argc, &argv, &r->auth, ctx, 3);
		} else if (matches(*argv, "replay-window")) {
			rc = next_u32(&argc, &argv, ctx, "replay-window",
				      &r->replay, &r->has_replay);
		} else if (matches(*argv, "flag")) {
			rc = parse_flags(&argc, &argv, r, ctx);
		} else if (matches(*argv, "esn")) {
			r->flags |= KIPSEC_SA_F_ESN;
			r->has_flags = true;
			rc = 0;
		} else if (matches(*argv, "df")) {
			rc = next_choice(&argc, &argv, ctx, "df", dfs, &r->df,
					 &r->has_df);
		} else if (matches(*argv, "seq-out")) {
			rc = next_u64(&argc, &argv, ctx, "seq-out", &r->seq_out,
				      &r->has_seq_out);
		} else if (matches(*argv, "seq-in")) {
			rc = next_u64(&argc, &argv, ctx, "seq-in", &r->seq_in,
				      &r->has_seq_in);
		} else if (matches(*argv, "encap")) {
			rc = parse_encap(&argc, &argv, r, ctx);
		} else if (matches(*argv, "lifetime")) {
			rc = parse_lft(&argc, &argv, r, ctx);
		} else if (matches(*argv, "sel")) {
			rc = parse_sel(&argc, &argv, &r->sel, ctx);
		} else {
			return unknown_keyword(ctx, *argv);
		}
		if (rc)
			return -1;
	}
	if (r->has_src && r->has_dst && families_agree(&r->src, &r->dst))
		return -1;
	return 0;
}

static void put_addr(struct nlmsghdr *nlh, uint16_t type,
		     const struct kaddr *a)
{
	mnl_attr_put(nlh, type, kaddr_len(a), a->b);
}

static void put_alg(struct nlmsghdr *nlh, uint16_t type, struct alg *alg)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_strz(nlh, KIPSEC_ALG_A_NAME, alg->name);
	mnl_attr_put(nlh, KIPSEC_ALG_A_KEY, alg->keylen, alg->key);
	if (alg->has_icv)
		mnl_attr_put_u32(nlh, KIPSEC_ALG_A_ICV_BITS, alg->icv);
	mnl_attr_nest_end(nlh, nest);
}

static void put_lft(struct nlmsghdr *nlh, uint16_t type, const struct lft *l)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	for (int i = KIPSEC_LFT_A_BYTES; i <= KIPSEC_LFT_A_USE_SECS; i++)
		if (l->has[i])
			mnl_attr_put_u64(nlh, i, l->v[i]);
	mnl_attr_nest_end(nlh, nest);
}

/* The key attributes (SPI, DST, PROTO) plus SRC, MODE and REQID when given. */
static void put_sa_id(struct nlmsghdr *nlh, const struct sa_req *r)
{
	if (r->has_spi)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, htonl(r->spi));
	put_addr(nlh, KIPSEC_SA_A_DST, &r->dst);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, r->proto);
	if (r->has_src)
		put_addr(nlh, KIPSEC_SA_A_SRC, &r->src);
	if (r->has_mode)
		mnl_attr_put_u8(nlh, KIPSEC_SA_A_MODE, r->mode);
	if (r->has_reqid)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_REQID, r->reqid);
}

/*
 * "auth NAME KEY" without a length: send the default truncation (kernel's
 * algs table, else the RFCs) so what we announce is what gets configured.
 */
static void auth_notice(struct alg *auth)
{
	static char said[8][KIPSEC_MAX_ALG_NAME];
	bool seen = false;
	unsigned int icv;
	int i;

	for (i = 0; i < 8 && said[i][0]; i++)
		if (!strcmp(said[i], auth->name))
			seen = true;
	if (!seen && i < 8)
		strcpy(said[i], auth->name);
	icv = alg_default_icv(auth->name);
	if (icv) {
		auth->icv = icv;
		auth->has_icv = true;
	}
	if (seen)
		return;	/* announced once per algorithm (-batch) */
	if (!icv)
		notef("auth %s: using the kernel's default truncation",
		      auth->name);
	else if (!strcmp(auth->name, "hmac(sha256)"))
		notef("auth %s: using %u-bit truncation (RFC 4868); ip xfrm's 'auth' would use 96",
		      auth->name, icv);
	else
		notef("auth %s: using %u-bit truncation", auth->name, icv);
}

static int sa_add(int argc, char **argv, bool update)
{
	const char *ctx = update ? "sa update" : "sa add";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct sa_req r = { 0 };
	struct nlattr *nest;
	int ret = -1;

	if (parse_sa(argc, argv, &r, ctx, false))
		goto out;
	if (need_word(r.has_dst, ctx, "dst") ||
	    need_word(r.has_proto, ctx, "proto") ||
	    need_word(r.has_spi, ctx, "spi") ||
	    (!update && need_word(r.has_src, ctx, "src")))
		goto out;
	if (r.auth.set && !r.auth.has_icv)
		auth_notice(&r.auth);
	if (nl_open())
		goto out;

	nlh = nl_msg(buf, update ? KIPSEC_CMD_SA_UPDATE : KIPSEC_CMD_SA_NEW, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	put_sa_id(nlh, &r);
	if (r.aead.set)
		put_alg(nlh, KIPSEC_SA_A_ALG_AEAD, &r.aead);
	if (r.crypt.set)
		put_alg(nlh, KIPSEC_SA_A_ALG_CRYPT, &r.crypt);
	if (r.auth.set)
		put_alg(nlh, KIPSEC_SA_A_ALG_AUTH, &r.auth);
	if (r.has_replay)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_REPLAY_WINDOW, r.replay);
	if (r.has_flags)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_FLAGS, r.flags);
	if (r.has_df)
		mnl_attr_put_u8(nlh, KIPSEC_SA_A_DF, r.df);
	if (r.has_seq_out)
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_OUT, r.seq_out);
	if (r.has_seq_in)
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_IN, r.seq_in);
	if (r.soft.set)
		put_lft(nlh, KIPSEC_SA_A_LIFETIME_SOFT, &r.soft);
	if (r.hard.set)
		put_lft(nlh, KIPSEC_SA_A_LIFETIME_HARD, &r.hard);
	if (r.encap.set) {
		struct nlattr *e = mnl_attr_nest_start(nlh, KIPSEC_SA_A_ENCAP);

		mnl_attr_put_u8(nlh, KIPSEC_ENCAP_A_TYPE, KIPSEC_ENCAP_ESPINUDP);
		mnl_attr_put_u16(nlh, KIPSEC_ENCAP_A_SPORT, r.encap.sport);
		mnl_attr_put_u16(nlh, KIPSEC_ENCAP_A_DPORT, r.encap.dport);
		if (r.encap.has_oaddr)
			put_addr(nlh, KIPSEC_ENCAP_A_OADDR, &r.encap.oaddr);
		mnl_attr_nest_end(nlh, e);
	}
	if (r.sel.set)
		sel_put(nlh, KIPSEC_SA_A_SEL, &r.sel);
	mnl_attr_nest_end(nlh, nest);
	ret = nl_submit(nlh, ctx);
	/* The keys are in the message; nothing was written beyond it. */
	explicit_bzero(buf, nlh->nlmsg_len);
out:
	explicit_bzero(&r, sizeof(r));
	return ret ? 1 : 0;
}

static int sa_del_get(int argc, char **argv, bool get)
{
	const char *ctx = get ? "sa get" : "sa del";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct sa_req r = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	/* sa get accepts -k/-s/-j after its arguments too */
	if (get && get_show_opts(&argc, argv, ctx))
		return 1;
	if (parse_sa(argc, argv, &r, ctx, false))
		return 1;
	if (need_word(r.has_dst, ctx, "dst") ||
	    need_word(r.has_proto, ctx, "proto") ||
	    need_word(r.has_spi, ctx, "spi"))
		return 1;
	if (nl_open())
		return 1;
	nlh = nl_msg(buf, get ? KIPSEC_CMD_SA_GET : KIPSEC_CMD_SA_DEL, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, htonl(r.spi));
	put_addr(nlh, KIPSEC_SA_A_DST, &r.dst);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, r.proto);
	mnl_attr_nest_end(nlh, nest);
	if (!get)
		return nl_submit(nlh, ctx) ? 1 : 0;
	if (opts.keys)
		mnl_attr_put_u32(nlh, KIPSEC_A_FLAGS, KIPSEC_F_WITH_KEYS);
	return print_reply(nlh, print_obj_cb, NULL, ctx);
}

static int sa_show(int argc, char **argv, bool keys)
{
	return show_dump(argc, argv, KIPSEC_CMD_SA_GET, keys, "sa show");
}

static int sa_flush(int argc, char **argv, bool unused)
{
	uint8_t proto = 0;

	(void)unused;
	for (; argc > 0; argc--, argv++) {
		if (matches(*argv, "proto")) {
			NEXT_ARG("sa flush");
			if (parse_ipsec_proto(*argv, &proto))
				return 1;
		} else {
			unknown_keyword("sa flush", *argv);
			return 1;
		}
	}
	return send_flush(KIPSEC_CMD_SA_FLUSH, KIPSEC_A_PROTO,
			  proto ? proto : -1, "sa flush");
}

static int getspi_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
		[KIPSEC_A_SA] = MNL_TYPE_NESTED,
	};
	static const enum mnl_attr_data_type satypes[KIPSEC_SA_A_MAX + 1] = {
		[KIPSEC_SA_A_SPI] = MNL_TYPE_U32,
	};
	static const struct nl_pol pol = { KIPSEC_A_MAX, types };
	static const struct nl_pol sapol = { KIPSEC_SA_A_MAX, satypes };
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const struct nlattr *sa[KIPSEC_SA_A_MAX + 1];

	nl_parse_msg(nlh, &pol, tb);
	if (!tb[KIPSEC_A_SA])
		return 0;
	nl_parse_nest(tb[KIPSEC_A_SA], &sapol, sa);
	if (!sa[KIPSEC_SA_A_SPI])
		return 0;
	*(int *)data = 1;
	if (is_json())
		print_sa(tb[KIPSEC_A_SA], NULL);
	else
		fprintf(kout, "0x%08x\n", ntohl(mnl_attr_get_u32(sa[KIPSEC_SA_A_SPI])));
	return 0;
}

static int sa_getspi(int argc, char **argv, bool unused)
{
	const char *ctx = "sa getspi";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct sa_req r = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int got = 0;

	(void)unused;
	if (parse_sa(argc, argv, &r, ctx, true))
		return 1;
	if (need_word(r.has_src, ctx, "src") ||
	    need_word(r.has_dst, ctx, "dst") ||
	    need_word(r.has_proto, ctx, "proto"))
		return 1;
	if (nl_open())
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_SA_GETSPI, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	put_sa_id(nlh, &r);
	mnl_attr_nest_end(nlh, nest);
	if (r.has_min)
		mnl_attr_put_u32(nlh, KIPSEC_A_SPI_MIN, r.spi_min);
	if (r.has_max)
		mnl_attr_put_u32(nlh, KIPSEC_A_SPI_MAX, r.spi_max);
	if (print_reply(nlh, getspi_cb, &got, ctx))
		return 1;
	if (!got) {
		errorf("%s: the kernel sent no SPI", ctx);
		return 1;
	}
	return 0;
}

int cmd_sa(int argc, char **argv)
{
	static const struct verb verbs[] = {
		{ "show", sa_show, true },
		{ "list", sa_show, true },
		{ "dump", sa_show, true },
		{ "add", sa_add, false },
		{ "update", sa_add, true },
		{ "del", sa_del_get, false },
		{ "delete", sa_del_get, false },
		{ "get", sa_del_get, true },
		{ "flush", sa_flush, false },
		{ "getspi", sa_getspi, false },
		{ "allocspi", sa_getspi, false },
	};

	return run_verb("sa", verbs, ARRAY_SIZE(verbs), argc, argv,
			"add, update, del, get, show, flush or getspi");
}
