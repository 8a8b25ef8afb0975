// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec policy add|update|del|get|show|flush, and the selector words
 * shared with sa and explain.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

struct tmpl {
	bool has_src, has_dst, has_reqid, has_spi, has_level;
	uint8_t proto, mode, level;
	uint32_t reqid, spi;
	struct kaddr src, dst;
};

struct pol_req {
	bool has_id, has_dir, has_prio, has_action;
	uint8_t dir, action;
	uint32_t id, prio;
	struct sel sel;
	int ntmpl;
	struct tmpl t[KIPSEC_MAX_TMPLS];
};

static const char *const dirs[] = { "in", "out", "fwd", NULL };
static const char *const actions[] = { "bypass", "discard", "protect", NULL };

int sel_parse_word(int *argcp, char ***argvp, struct sel *s, const char *ctx)
{
	char **argv = *argvp;
	int argc = *argcp;
	const char *kw = *argv;

	if (matches(kw, "src")) {
		NEXT_ARG(ctx);
		if (parse_prefix(*argv, "src", &s->src))
			return -1;
		s->has_src = true;
	} else if (matches(kw, "dst")) {
		NEXT_ARG(ctx);
		if (parse_prefix(*argv, "dst", &s->dst))
			return -1;
		s->has_dst = true;
	} else if (matches(kw, "proto")) {
		NEXT_ARG(ctx);
		if (parse_proto(*argv, "proto", &s->proto))
			return -1;
		s->has_proto = true;
	} else if (matches(kw, "sport")) {
		NEXT_ARG(ctx);
		if (parse_range(*argv, "sport", &s->sp[0], &s->sp[1]))
			return -1;
		s->has_sp = true;
	} else if (matches(kw, "dport")) {
		NEXT_ARG(ctx);
		if (parse_range(*argv, "dport", &s->dp[0], &s->dp[1]))
			return -1;
		s->has_dp = true;
	} else if (matches(kw, "type")) {
		NEXT_ARG(ctx);
		if (parse_u8(*argv, "type", &s->type))
			return -1;
		s->has_type = true;
	} else if (matches(kw, "code")) {
		NEXT_ARG(ctx);
		if (parse_u8(*argv, "code", &s->code))
			return -1;
		s->has_code = true;
	} else {
		return 0;
	}
	*argcp = argc;
	*argvp = argv;
	return 1;
}

int sel_finish(struct sel *s)
{
	if (!s->has_src) {
		s->src.any = true;
		s->src.word = "any";
	}
	if (!s->has_dst) {
		s->dst.any = true;
		s->dst.word = "any";
	}
	return families_agree(&s->src, &s->dst);
}

void sel_put(struct nlmsghdr *nlh, uint16_t type, const struct sel *s)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_u16(nlh, KIPSEC_SEL_A_FAMILY, s->src.family);
	if (!s->src.any) {
		mnl_attr_put(nlh, KIPSEC_SEL_A_SRC, kaddr_len(&s->src), s->src.b);
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_SRC_PLEN, s->src.plen);
	}
	if (!s->dst.any) {
		mnl_attr_put(nlh, KIPSEC_SEL_A_DST, kaddr_len(&s->dst), s->dst.b);
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_DST_PLEN, s->dst.plen);
	}
	if (s->has_proto)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_PROTO, s->proto);
	if (s->has_sp) {
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MIN, s->sp[0]);
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MAX, s->sp[1]);
	}
	if (s->has_dp) {
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MIN, s->dp[0]);
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MAX, s->dp[1]);
	}
	if (s->has_type)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_ICMP_TYPE, s->type);
	if (s->has_code)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_ICMP_CODE, s->code);
	mnl_attr_nest_end(nlh, nest);
}

/* "tmpl proto esp mode tunnel src A dst B reqid N spi S level use" */
static int parse_tmpl(int *argcp, char ***argvp, struct pol_req *r,
		      const char *ctx)
{
	static const char *const modes[] = { "transport", "tunnel", NULL };
	static const char *const levels[] = { "required", "use", NULL };
	char **argv = *argvp;
	int argc = *argcp, rc;
	struct tmpl *t;

	if (r->ntmpl == KIPSEC_MAX_TMPLS) {
		errorf("%s: at most %d templates", ctx, KIPSEC_MAX_TMPLS);
		return -1;
	}
	t = &r->t[r->ntmpl++];
	t->proto = IPPROTO_ESP;
	t->mode = KIPSEC_MODE_TRANSPORT;
	while (argc > 1) {
		const char *kw = argv[1];

		if (!matches(kw, "proto") && !matches(kw, "mode") &&
		    !matches(kw, "src") && !matches(kw, "dst") &&
		    !matches(kw, "reqid") && !matches(kw, "spi") &&
		    !matches(kw, "level"))
			break;
		argc--;
		argv++;
		NEXT_ARG(ctx);
		if (matches(kw, "proto")) {
			if (parse_ipsec_proto(*argv, &t->proto))
				return -1;
		} else if (matches(kw, "mode")) {
			rc = parse_choice(*argv, "mode", modes);
			if (rc < 0)
				return -1;
			t->mode = rc;
		} else if (matches(kw, "src")) {
			if (parse_addr(*argv, "tmpl src", &t->src))
				return -1;
			t->has_src = true;
		} else if (matches(kw, "dst")) {
			if (parse_addr(*argv, "tmpl dst", &t->dst))
				return -1;
			t->has_dst = true;
		} else if (matches(kw, "reqid")) {
			if (parse_u32(*argv, "reqid", &t->reqid))
				return -1;
			t->has_reqid = true;
		} else if (matches(kw, "spi")) {
			if (parse_u32(*argv, "spi", &t->spi))
				return -1;
			t->has_spi = true;
		} else {
			rc = parse_choice(*argv, "level", levels);
			if (rc < 0)
				return -1;
			t->level = rc;
			t->has_level = true;
		}
	}
	if (t->has_src && t->has_dst && families_agree(&t->src, &t->dst))
		return -1;
	*argcp = argc;
	*argvp = argv;
	return 0;
}

static int parse_policy(int argc, char **argv, struct pol_req *r,
			const char *ctx)
{
	for (; argc > 0; argc--, argv++) {
		int rc = sel_parse_word(&argc, &argv, &r->sel, ctx);

		if (rc < 0)
			return -1;
		if (rc > 0) {
			r->sel.set = true;
			continue;
		}
		if (matches(*argv, "dir")) {
			NEXT_ARG(ctx);
			rc = parse_choice(*argv, "dir", dirs);
			if (rc < 0)
				return -1;
			r->dir = rc;
			r->has_dir = true;
		} else if (matches(*argv, "action")) {
			NEXT_ARG(ctx);
			rc = parse_choice(*argv, "action", actions);
			if (rc < 0)
				return -1;
			r->action = rc;
			r->has_action = true;
		} else if (matches(*argv, "priority")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "priority", &r->prio))
				return -1;
			r->has_prio = true;
		} else if (matches(*argv, "id") || matches(*argv, "index")) {
			NEXT_ARG(ctx);
			if (parse_u32(*argv, "id", &r->id))
				return -1;
			r->has_id = true;
		} else if (matches(*argv, "tmpl")) {
			if (parse_tmpl(&argc, &argv, r, ctx))
				return -1;
		} else {
			return unknown_keyword(ctx, *argv);
		}
	}
	return sel_finish(&r->sel);
}

static void put_tmpls(struct nlmsghdr *nlh, const struct pol_req *r)
{
	struct nlattr *list = mnl_attr_nest_start(nlh, KIPSEC_POL_A_TMPLS);

	for (int i = 0; i < r->ntmpl; i++) {
		const struct tmpl *t = &r->t[i];
		struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_TMPL);

		mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_PROTO, t->proto);
		mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_MODE, t->mode);
		if (t->has_src)
			mnl_attr_put(nlh, KIPSEC_TMPL_A_SRC, kaddr_len(&t->src),
				     t->src.b);
		if (t->has_dst)
			mnl_attr_put(nlh, KIPSEC_TMPL_A_DST, kaddr_len(&t->dst),
				     t->dst.b);
		if (t->has_reqid)
			mnl_attr_put_u32(nlh, KIPSEC_TMPL_A_REQID, t->reqid);
		if (t->has_spi)
			mnl_attr_put_u32(nlh, KIPSEC_TMPL_A_SPI, htonl(t->spi));
		if (t->has_level)
			mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_LEVEL, t->level);
		mnl_attr_nest_end(nlh, n);
	}
	mnl_attr_nest_end(nlh, list);
}

/* ID, or DIR + SEL (+ PRIORITY): how del, get and update find a policy. */
static void put_pol_id(struct nlmsghdr *nlh, const struct pol_req *r)
{
	if (r->has_id)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, r->id);
	if (r->has_dir)
		mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, r->dir);
	if (r->has_prio)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, r->prio);
	if (r->sel.set || !r->has_id)
		sel_put(nlh, KIPSEC_POL_A_SEL, &r->sel);
}

/* The current policy, for update: what the command line does not change. */
struct cur_pol {
	bool got, has_prio, has_tmpls;
	uint8_t dir, action;
	uint32_t id, prio;
	uint16_t sel_len, tmpls_len;
	uint8_t sel[1024], tmpls[2048];
};

static int cur_pol_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
		[KIPSEC_A_POLICY] = MNL_TYPE_NESTED,
	};
	static const struct nl_pol pol = { KIPSEC_A_MAX, types };
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const struct nlattr *p[KIPSEC_POL_A_MAX + 1];
	struct cur_pol *c = data;

	nl_parse_msg(nlh, &pol, tb);
	nl_parse_nest(tb[KIPSEC_A_POLICY], &policy_nl_pol, p);
	if (!p[KIPSEC_POL_A_ID] || !p[KIPSEC_POL_A_DIR] ||
	    !p[KIPSEC_POL_A_ACTION] || !p[KIPSEC_POL_A_SEL])
		return 0;
	c->id = mnl_attr_get_u32(p[KIPSEC_POL_A_ID]);
	c->dir = mnl_attr_get_u8(p[KIPSEC_POL_A_DIR]);
	c->action = mnl_attr_get_u8(p[KIPSEC_POL_A_ACTION]);
	if (p[KIPSEC_POL_A_PRIORITY]) {
		c->prio = mnl_attr_get_u32(p[KIPSEC_POL_A_PRIORITY]);
		c->has_prio = true;
	}
	c->sel_len = mnl_attr_get_payload_len(p[KIPSEC_POL_A_SEL]);
	if (c->sel_len > sizeof(c->sel))
		return -1;
	memcpy(c->sel, mnl_attr_get_payload(p[KIPSEC_POL_A_SEL]), c->sel_len);
	if (p[KIPSEC_POL_A_TMPLS]) {
		c->tmpls_len = mnl_attr_get_payload_len(p[KIPSEC_POL_A_TMPLS]);
		if (c->tmpls_len > sizeof(c->tmpls))
			return -1;
		memcpy(c->tmpls, mnl_attr_get_payload(p[KIPSEC_POL_A_TMPLS]),
		       c->tmpls_len);
		c->has_tmpls = true;
	}
	c->got = true;
	return 0;
}

/*
 * The kernel replaces a policy as a whole; "update" changes only what is
 * given, so fetch the policy and keep the rest.
 */
static int fetch_policy(const struct pol_req *r, struct cur_pol *c,
			const char *ctx)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	if (opts.batching && nl_batch_flush() && !opts.force)
		return -1;
	nlh = nl_msg(buf, KIPSEC_CMD_POLICY_GET, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	if (r->has_id) {
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, r->id);
	} else {
		mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, r->dir);
		if (r->has_prio)
			mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, r->prio);
		sel_put(nlh, KIPSEC_POL_A_SEL, &r->sel);
	}
	mnl_attr_nest_end(nlh, nest);
	if (nl_request(nlh, cur_pol_cb, c, ctx))
		return -1;
	if (!c->got) {
		errorf("%s: the kernel sent no policy", ctx);
		return -1;
	}
	return 0;
}

static int policy_add(int argc, char **argv, bool update)
{
	const char *ctx = update ? "policy update" : "policy add";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct pol_req r = { 0 };
	struct cur_pol cur;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	uint8_t action;

	/* Not the 3 KiB of buffers: only what fetch_policy() fills is read. */
	memset(&cur, 0, offsetof(struct cur_pol, sel));
	if (parse_policy(argc, argv, &r, ctx))
		return 1;
	if (r.has_id && !update) {
		errorf("%s: \"id\" is assigned by the kernel", ctx);
		return 1;
	}
	if ((!r.has_id && need_word(r.has_dir, ctx, "dir")) ||
	    (!update && need_word(r.has_action, ctx, "action")))
		return 1;
	if (nl_open())
		return 1;
	if (update && fetch_policy(&r, &cur, ctx))
		return 1;
	action = r.has_action ? r.action : cur.action;

	nlh = nl_msg(buf, update ? KIPSEC_CMD_POLICY_UPDATE :
				   KIPSEC_CMD_POLICY_NEW, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	if (update)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, cur.id);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, r.has_dir ? r.dir : cur.dir);
	if (r.has_prio)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, r.prio);
	else if (cur.has_prio)
		mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, cur.prio);
	if (!update || (r.has_id && r.sel.set))
		sel_put(nlh, KIPSEC_POL_A_SEL, &r.sel);
	else
		mnl_attr_put(nlh, KIPSEC_POL_A_SEL | NLA_F_NESTED, cur.sel_len,
			     cur.sel);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_ACTION, action);
	if (r.ntmpl)
		put_tmpls(nlh, &r);
	else if (action == KIPSEC_ACTION_PROTECT && cur.has_tmpls)
		mnl_attr_put(nlh, KIPSEC_POL_A_TMPLS | NLA_F_NESTED,
			     cur.tmpls_len, cur.tmpls);
	mnl_attr_nest_end(nlh, nest);
	return nl_submit(nlh, ctx) ? 1 : 0;
}

static int policy_del_get(int argc, char **argv, bool get)
{
	const char *ctx = get ? "policy get" : "policy del";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct pol_req r = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	if (get && get_show_opts(&argc, argv, ctx))
		return 1;
	if (parse_policy(argc, argv, &r, ctx))
		return 1;
	if (r.has_action || r.ntmpl) {
		errorf("%s: \"%s\" not allowed here", ctx,
		       r.ntmpl ? "tmpl" : "action");
		return 1;
	}
	if (!r.has_id && need_word(r.has_dir, ctx, "dir"))
		return 1;
	if (nl_open())
		return 1;
	nlh = nl_msg(buf, get ? KIPSEC_CMD_POLICY_GET : KIPSEC_CMD_POLICY_DEL, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	put_pol_id(nlh, &r);
	mnl_attr_nest_end(nlh, nest);
	if (!get)
		return nl_submit(nlh, ctx) ? 1 : 0;
	return print_reply(nlh, print_obj_cb, NULL, ctx);
}

static int policy_show(int argc, char **argv, bool keys)
{
	return show_dump(argc, argv, KIPSEC_CMD_POLICY_GET, keys,
			 "policy show");
}

static int policy_flush(int argc, char **argv, bool unused)
{
	int dir = -1;

	(void)unused;
	for (; argc > 0; argc--, argv++) {
		if (matches(*argv, "dir")) {
			NEXT_ARG("policy flush");
			dir = parse_choice(*argv, "dir", dirs);
			if (dir < 0)
				return 1;
		} else {
			unknown_keyword("policy flush", *argv);
			return 1;
		}
	}
	return send_flush(KIPSEC_CMD_POLICY_FLUSH, KIPSEC_A_DIR, dir,
			  "policy flush");
}

int cmd_policy(int argc, char **argv)
{
	/* policies carry no keys: show -k changes nothing */
	static const struct verb verbs[] = {
		{ "show", policy_show, false },
		{ "list", policy_show, false },
		{ "dump", policy_show, false },
		{ "add", policy_add, false },
		{ "update", policy_add, true },
		{ "del", policy_del_get, false },
		{ "delete", policy_del_get, false },
		{ "get", policy_del_get, true },
		{ "flush", policy_flush, false },
	};

	return run_verb("policy", verbs, ARRAY_SIZE(verbs), argc, argv,
			"add, update, del, get, show or flush");
}
