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

static int parse_spi(const char *word, uint32_t *spi)
{
	return parse_u32(word, "spi", spi);
}

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

static int parse_sa(int argc, char **argv, struct sa_req *r, const char *ctx,
		    bool getspi)
{
	static const char *const modes[] = { "transport", "tunnel", NULL };
	static const char *const dfs[] = { "copy", "set", "clear", NULL };

	for (; argc > 0; argc--, argv++) {
		int rc;

		if (matches(*argv, "src")) {
			NEXT_ARG(ctx);
			if (parse_addr(*argv, "src", &r->src))
				return -1;
			r->has_src = true;
		} else if (matches(*argv, "dst")) {
			NEXT_ARG(ctx);
			if (parse_addr(*argv, "dst", &r->dst))
				return -1;
			r->has_dst = true;
		} else if (matches(*argv, "proto")) {
			NEXT_ARG(ctx);
			if (parse_ipsec_proto(*argv, &r->proto))
				return -1;
			r->has_proto = true;
		} else if (matches(*argv, "spi") && !getspi) {
			NEXT_ARG(ctx);
			if (parse_spi(*argv, &r->spi))
				return -1;
			r->has_spi = true;
		} else if (matches(*argv, "mode")) {
			NEXT_ARG(ctx);
			rc = parse_choice(*argv, "mode", modes);
			if (rc < 0)
				return -1;
			r->mode = rc;
			r->has_mode = true;
		} else if (matches(*argv, "reqid")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "reqid", &r->reqid))
				return -1;
			r->has_reqid = true;
		} else if (getspi && matches(*argv, "min")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "min", &r->spi_min))
				return -1;
			r->has_min = true;
		} else if (getspi && matches(*argv, "max")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "max", &r->spi_max))
				return -1;
			r->has_max = true;
		} else if (getspi) {
			return unknown_keyword(ctx, *argv);
		} else if (matches(*argv, "aead")) {
			if (parse_alg(&argc, &argv, &r->aead, ctx, 3))
				return -1;
		} else if (matches(*argv, "enc")) {
			if (parse_alg(&argc, &argv, &r->crypt, ctx, 2))
				return -1;
		} else if (matches(*argv, "auth")) {
			if (parse_alg(&argc, &argv, &r->auth, ctx, 2))
				return -1;
		} else if (matches(*argv, "auth-trunc")) {
			if (parse_alg(&argc, &argv, &r->auth, ctx, 3))
				return -1;
		} else if (matches(*argv, "replay-window")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "replay-window", &r->replay))
				return -1;
			r->has_replay = true;
		} else if (matches(*argv, "flag")) {
			if (parse_flags(&argc, &argv, r, ctx))
				return -1;
		} else if (matches(*argv, "esn")) {
			r->flags |= KIPSEC_SA_F_ESN;
			r->has_flags = true;
		} else if (matches(*argv, "df")) {
			NEXT_ARG(ctx);
			rc = parse_choice(*argv, "df", dfs);
			if (rc < 0)
				return -1;
			r->df = rc;
			r->has_df = true;
		} else if (matches(*argv, "seq-out")) {
			NEXT_ARG(ctx);
			if (parse_u64(*argv, "seq-out", &r->seq_out))
				return -1;
			r->has_seq_out = true;
		} else if (matches(*argv, "seq-in")) {
			NEXT_ARG(ctx);
			if (parse_u64(*argv, "seq-in", &r->seq_in))
				return -1;
			r->has_seq_in = true;
		} else if (matches(*argv, "encap")) {
			static const char *const types[] = { "espinudp", NULL };

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
				if (parse_addr(*argv, "encap address",
					       &r->encap.oaddr))
					return -1;
				r->encap.has_oaddr = true;
			}
			r->encap.set = true;
		} else if (matches(*argv, "lifetime")) {
			if (parse_lft(&argc, &argv, r, ctx))
				return -1;
		} else if (matches(*argv, "sel")) {
			char sctx[64];

			snprintf(sctx, sizeof(sctx), "%s sel", ctx);
			r->sel.set = true;
			while (argc > 1) {
				argc--;
				argv++;
				rc = sel_parse_word(&argc, &argv, &r->sel, sctx);
				if (rc < 0)
					return -1;
				if (rc == 0) {	/* not a selector word */
					argc++;
					argv--;
					break;
				}
			}
			if (sel_finish(&r->sel))
				return -1;
		} else {
			return unknown_keyword(ctx, *argv);
		}
	}
	if (r->has_src && r->has_dst && families_agree(&r->src, &r->dst))
		return -1;
	return 0;
}

static int need(bool has, const char *ctx, const char *kw)
{
	if (!has)
		errorf("%s: missing \"%s\"", ctx, kw);
	return has ? 0 : -1;
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

/* The key attributes (SPI, DST, PROTO) plus SRC when given. */
static void put_sa_id(struct nlmsghdr *nlh, const struct sa_req *r)
{
	if (r->has_spi)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, htonl(r->spi));
	put_addr(nlh, KIPSEC_SA_A_DST, &r->dst);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, r->proto);
	if (r->has_src)
		put_addr(nlh, KIPSEC_SA_A_SRC, &r->src);
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
	if (need(r.has_dst, ctx, "dst") || need(r.has_proto, ctx, "proto") ||
	    need(r.has_spi, ctx, "spi") ||
	    (!update && need(r.has_src, ctx, "src")))
		goto out;
	if (r.auth.set && !r.auth.has_icv)
		auth_notice(&r.auth);
	if (nl_open())
		goto out;

	nlh = nl_msg(buf, update ? KIPSEC_CMD_SA_UPDATE : KIPSEC_CMD_SA_NEW, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	put_sa_id(nlh, &r);
	if (r.has_mode)
		mnl_attr_put_u8(nlh, KIPSEC_SA_A_MODE, r.mode);
	if (r.has_reqid)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_REQID, r.reqid);
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
	explicit_bzero(buf, sizeof(buf));
out:
	explicit_bzero(&r, sizeof(r));
	return ret ? 1 : 0;
}

static int sa_print_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
		[KIPSEC_A_SA] = MNL_TYPE_NESTED,
	};
	static const struct nl_pol pol = { KIPSEC_A_MAX, types };
	const struct nlattr *tb[KIPSEC_A_MAX + 1];

	nl_parse_msg(nlh, &pol, tb);
	if (tb[KIPSEC_A_SA]) {
		print_sa(tb[KIPSEC_A_SA], NULL);
		if (data)
			*(int *)data += 1;
	}
	return 0;
}

static int sa_del_get(int argc, char **argv, bool get)
{
	const char *ctx = get ? "sa get" : "sa del";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct sa_req r = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int ret;

	/* sa get accepts -k/-s/-j after its arguments too */
	while (get && argc > 0 && argv[argc - 1][0] == '-') {
		if (parse_show_opts(1, &argv[argc - 1], ctx))
			return 1;
		argc--;
	}
	if (parse_sa(argc, argv, &r, ctx, false))
		return 1;
	if (need(r.has_dst, ctx, "dst") || need(r.has_proto, ctx, "proto") ||
	    need(r.has_spi, ctx, "spi"))
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
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	open_json_array(NULL);
	ret = nl_request(nlh, sa_print_cb, NULL, ctx);
	close_json_array();
	print_nl();
	fflush(kout);
	return ret ? 1 : 0;
}

static int sa_show(int argc, char **argv)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	int count = 0;

	if (parse_show_opts(argc, argv, "sa show"))
		return 1;
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_SA_GET, 0);
	if (opts.keys)
		mnl_attr_put_u32(nlh, KIPSEC_A_FLAGS, KIPSEC_F_WITH_KEYS);
	return nl_dump_print(nlh, sa_print_cb, &count, "sa show") ? 1 : 0;
}

static int sa_flush(int argc, char **argv)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	uint8_t proto = 0;

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
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_SA_FLUSH, 0);
	if (proto)
		mnl_attr_put_u8(nlh, KIPSEC_A_PROTO, proto);
	return nl_request(nlh, NULL, NULL, "sa flush") ? 1 : 0;
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

static int sa_getspi(int argc, char **argv)
{
	const char *ctx = "sa getspi";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct sa_req r = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int got = 0, ret;

	if (parse_sa(argc, argv, &r, ctx, true))
		return 1;
	if (need(r.has_src, ctx, "src") || need(r.has_dst, ctx, "dst") ||
	    need(r.has_proto, ctx, "proto"))
		return 1;
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_SA_GETSPI, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	put_sa_id(nlh, &r);
	if (r.has_mode)
		mnl_attr_put_u8(nlh, KIPSEC_SA_A_MODE, r.mode);
	if (r.has_reqid)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_REQID, r.reqid);
	mnl_attr_nest_end(nlh, nest);
	if (r.has_min)
		mnl_attr_put_u32(nlh, KIPSEC_A_SPI_MIN, r.spi_min);
	if (r.has_max)
		mnl_attr_put_u32(nlh, KIPSEC_A_SPI_MAX, r.spi_max);
	open_json_array(NULL);
	ret = nl_request(nlh, getspi_cb, &got, ctx);
	close_json_array();
	if (is_json())
		print_nl();
	fflush(kout);
	if (!ret && !got) {
		errorf("%s: the kernel sent no SPI", ctx);
		return 1;
	}
	return ret ? 1 : 0;
}

int cmd_sa(int argc, char **argv)
{
	if (argc < 1)
		return sa_show(0, NULL);
	if (matches(*argv, "add"))
		return sa_add(argc - 1, argv + 1, false);
	if (matches(*argv, "update"))
		return sa_add(argc - 1, argv + 1, true);
	if (matches(*argv, "del") || matches(*argv, "delete"))
		return sa_del_get(argc - 1, argv + 1, false);
	if (matches(*argv, "get"))
		return sa_del_get(argc - 1, argv + 1, true);
	if (matches(*argv, "show") || matches(*argv, "list") ||
	    matches(*argv, "dump"))
		return sa_show(argc - 1, argv + 1);
	if (matches(*argv, "flush"))
		return sa_flush(argc - 1, argv + 1);
	if (matches(*argv, "getspi") || matches(*argv, "allocspi"))
		return sa_getspi(argc - 1, argv + 1);
	errorf("unknown command \"%s\" in sa: expected add, update, del, get, %s",
	       *argv, "show, flush or getspi");
	return 1;
}
