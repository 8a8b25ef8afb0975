// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec explain: what the datapath would do with a packet tuple.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_EXPLAIN] = MNL_TYPE_NESTED,
};

static const struct nl_pol pol = { KIPSEC_A_MAX, types };

static const enum mnl_attr_data_type ex_types[KIPSEC_EXPLAIN_A_MAX + 1] = {
	[KIPSEC_EXPLAIN_A_DIR] = MNL_TYPE_U8,
	[KIPSEC_EXPLAIN_A_VERDICT] = MNL_TYPE_U8,
	[KIPSEC_EXPLAIN_A_POLICY] = MNL_TYPE_NESTED,
	[KIPSEC_EXPLAIN_A_SA] = MNL_TYPE_NESTED,
	[KIPSEC_EXPLAIN_A_REASON] = MNL_TYPE_NUL_STRING,
};

static const struct nl_pol ex_pol = { KIPSEC_EXPLAIN_A_MAX, ex_types };

/*
 * A packet has ports only if its protocol carries them, and an ICMP type
 * only if it is ICMP: refuse the tuples no packet can have, rather than
 * explain them as if the port were not there.
 */
static int tuple_check(const struct sel *s, const struct kaddr *src)
{
	bool icmp = s->has_proto &&
		(src->family == AF_INET6 ? s->proto == IPPROTO_ICMPV6 :
					   s->proto == IPPROTO_ICMP);
	bool ports = s->has_proto &&
		(s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP ||
		 s->proto == IPPROTO_SCTP || s->proto == IPPROTO_UDPLITE);

	if ((s->has_sp || s->has_dp) && !ports) {
		errorf("explain: \"%s\" needs proto tcp, udp, sctp or udplite",
		       s->has_sp ? "sport" : "dport");
		return -1;
	}
	if ((s->has_type || s->has_code) && !icmp) {
		errorf("explain: \"%s\" needs proto %s",
		       s->has_type ? "type" : "code",
		       src->family == AF_INET6 ? "ipv6-icmp" : "icmp");
		return -1;
	}
	return 0;
}

static int explain_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const struct nlattr *ex[KIPSEC_EXPLAIN_A_MAX + 1];

	(void)data;
	nl_parse_msg(nlh, &pol, tb);
	if (!tb[KIPSEC_A_EXPLAIN])
		return 0;
	nl_parse_nest(tb[KIPSEC_A_EXPLAIN], &ex_pol, ex);
	open_json_object(NULL);
	print_string(PRINT_ANY, "verdict", "verdict %s",
		     ex[KIPSEC_EXPLAIN_A_VERDICT] ?
		     verdict_name(mnl_attr_get_u8(ex[KIPSEC_EXPLAIN_A_VERDICT])) :
		     "unknown");
	if (ex[KIPSEC_EXPLAIN_A_REASON])
		print_string(PRINT_ANY, "reason", ": %s",
			     mnl_attr_get_str(ex[KIPSEC_EXPLAIN_A_REASON]));
	print_text("\n");
	if (ex[KIPSEC_EXPLAIN_A_POLICY]) {
		print_text("policy ");
		print_policy(ex[KIPSEC_EXPLAIN_A_POLICY], "policy");
	}
	if (ex[KIPSEC_EXPLAIN_A_SA]) {
		print_text("sa ");
		print_sa(ex[KIPSEC_EXPLAIN_A_SA], "sa");
	}
	close_json_object();
	return 0;
}

int cmd_explain(int argc, char **argv)
{
	static const char *const dirs[] = { "in", "out", "fwd", NULL };
	const char *ctx = "explain";
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct kaddr src = { 0 }, dst = { 0 };
	bool has_src = false, has_dst = false;
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct sel s = { 0 };
	int dir = -1, ret;

	for (; argc > 0; argc--, argv++) {
		if (matches(*argv, "src")) {
			NEXT_ARG(ctx);
			if (parse_addr(*argv, "src", &src))
				return 1;
			has_src = true;
		} else if (matches(*argv, "dst")) {
			NEXT_ARG(ctx);
			if (parse_addr(*argv, "dst", &dst))
				return 1;
			has_dst = true;
		} else if (matches(*argv, "dir")) {
			NEXT_ARG(ctx);
			dir = parse_choice(*argv, "dir", dirs);
			if (dir < 0)
				return 1;
		} else {
			ret = sel_parse_word(&argc, &argv, &s, ctx);
			if (ret < 0)
				return 1;
			if (!ret) {
				unknown_keyword(ctx, *argv);
				return 1;
			}
			if ((s.has_sp && s.sp[0] != s.sp[1]) ||
			    (s.has_dp && s.dp[0] != s.dp[1])) {
				errorf("invalid %s \"%s\": explain takes one port",
				       argv[-1], *argv);
				return 1;
			}
		}
	}
	if (!has_src || !has_dst) {
		errorf("%s: missing \"%s\"", ctx, has_src ? "dst" : "src");
		return 1;
	}
	if (families_agree(&src, &dst) || tuple_check(&s, &src))
		return 1;
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_EXPLAIN, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_EXPLAIN);
	if (dir >= 0)
		mnl_attr_put_u8(nlh, KIPSEC_EXPLAIN_A_DIR, dir);
	mnl_attr_put(nlh, KIPSEC_EXPLAIN_A_SRC, kaddr_len(&src), src.b);
	mnl_attr_put(nlh, KIPSEC_EXPLAIN_A_DST, kaddr_len(&dst), dst.b);
	if (s.has_proto)
		mnl_attr_put_u8(nlh, KIPSEC_EXPLAIN_A_PROTO, s.proto);
	if (s.has_sp)
		mnl_attr_put_u16(nlh, KIPSEC_EXPLAIN_A_SPORT, s.sp[0]);
	if (s.has_dp)
		mnl_attr_put_u16(nlh, KIPSEC_EXPLAIN_A_DPORT, s.dp[0]);
	if (s.has_type)
		mnl_attr_put_u8(nlh, KIPSEC_EXPLAIN_A_ICMP_TYPE, s.type);
	if (s.has_code)
		mnl_attr_put_u8(nlh, KIPSEC_EXPLAIN_A_ICMP_CODE, s.code);
	mnl_attr_nest_end(nlh, nest);
	open_json_array(NULL);
	ret = nl_request(nlh, explain_cb, NULL, ctx);
	close_json_array();
	if (is_json())
		print_nl();
	fflush(kout);
	return ret ? 1 : 0;
}
