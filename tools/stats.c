// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec stats, kipsec config set|show, and the no-argument summary.
 */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_VERSION] = MNL_TYPE_NUL_STRING,
	[KIPSEC_A_STATS] = MNL_TYPE_NESTED,
	[KIPSEC_A_CONFIG] = MNL_TYPE_NESTED,
	[KIPSEC_A_SA_COUNT] = MNL_TYPE_U32,
	[KIPSEC_A_POLICY_COUNT] = MNL_TYPE_U32,
	[KIPSEC_A_INFLIGHT] = MNL_TYPE_U32,
	[KIPSEC_A_LIVE_SAS] = MNL_TYPE_U32,
	[KIPSEC_A_LIVE_POLICIES] = MNL_TYPE_U32,
};

static const struct nl_pol pol = { KIPSEC_A_MAX, types };

static const enum mnl_attr_data_type cfg_types[KIPSEC_CONFIG_A_MAX + 1] = {
	[KIPSEC_CONFIG_A_DEFAULT_IN] = MNL_TYPE_U8,
	[KIPSEC_CONFIG_A_DEFAULT_OUT] = MNL_TYPE_U8,
	[KIPSEC_CONFIG_A_DEFAULT_FWD] = MNL_TYPE_U8,
};

static const struct nl_pol cfg_pol = { KIPSEC_CONFIG_A_MAX, cfg_types };

enum show { SHOW_STATS, SHOW_CONFIG, SHOW_SUMMARY };

static void print_config(const struct nlattr *nest, const char *key)
{
	static const char *const keys[] = {
		[KIPSEC_CONFIG_A_DEFAULT_IN] = "default_in",
		[KIPSEC_CONFIG_A_DEFAULT_OUT] = "default_out",
		[KIPSEC_CONFIG_A_DEFAULT_FWD] = "default_fwd",
	};
	static const char *const fmts[] = {
		[KIPSEC_CONFIG_A_DEFAULT_IN] = "default-in %s",
		[KIPSEC_CONFIG_A_DEFAULT_OUT] = " default-out %s",
		[KIPSEC_CONFIG_A_DEFAULT_FWD] = " default-fwd %s",
	};
	const struct nlattr *tb[KIPSEC_CONFIG_A_MAX + 1];

	nl_parse_nest(nest, &cfg_pol, tb);
	open_json_object(key);
	for (int i = KIPSEC_CONFIG_A_DEFAULT_IN; i <= KIPSEC_CONFIG_A_DEFAULT_FWD; i++)
		print_string(PRINT_ANY, keys[i], fmts[i],
			     action_name(tb[i] ? mnl_attr_get_u8(tb[i]) :
					 KIPSEC_ACTION_BYPASS));
	close_json_object();
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	enum show what = *(enum show *)data;
	const struct nlattr *tb[KIPSEC_A_MAX + 1];

	nl_parse_msg(nlh, &pol, tb);
	if (what == SHOW_CONFIG) {
		if (tb[KIPSEC_A_CONFIG]) {
			print_config(tb[KIPSEC_A_CONFIG], NULL);
			print_text("\n");
		}
		return 0;
	}
	open_json_object(NULL);
	print_string(PRINT_ANY, "version", "kipsec %s",
		     tb[KIPSEC_A_VERSION] ? mnl_attr_get_str(tb[KIPSEC_A_VERSION]) :
		     "unknown");
	print_uint(PRINT_ANY, "sa_count", ": %llu SAs",
		   tb[KIPSEC_A_SA_COUNT] ? mnl_attr_get_u32(tb[KIPSEC_A_SA_COUNT]) : 0);
	print_uint(PRINT_ANY, "policy_count", ", %llu policies",
		   tb[KIPSEC_A_POLICY_COUNT] ?
		   mnl_attr_get_u32(tb[KIPSEC_A_POLICY_COUNT]) : 0);
	print_text("\n");
	if (tb[KIPSEC_A_CONFIG])
		print_config(tb[KIPSEC_A_CONFIG], "config");
	print_text("\n");
	if (what == SHOW_STATS && tb[KIPSEC_A_INFLIGHT]) {
		static const struct { int type; const char *name; } objs[] = {
			{ KIPSEC_A_INFLIGHT, "inflight" },
			{ KIPSEC_A_LIVE_SAS, "live_sas" },
			{ KIPSEC_A_LIVE_POLICIES, "live_policies" },
		};

		/* Live objects are module-wide: shown to the host's admin. */
		open_json_object("objects");
		for (size_t i = 0; i < ARRAY_SIZE(objs); i++) {
			if (!tb[objs[i].type])
				continue;
			print_text("  %-20s", objs[i].name);
			print_uint(PRINT_ANY, objs[i].name, "%llu\n",
				   mnl_attr_get_u32(tb[objs[i].type]));
		}
		close_json_object();
	}
	if (what == SHOW_STATS && tb[KIPSEC_A_STATS]) {
		const struct nlattr *a;

		open_json_object("stats");
		mnl_attr_for_each_nested(a, tb[KIPSEC_A_STATS]) {
			const char *name = stat_name(mnl_attr_get_type(a));

			if (!name || mnl_attr_validate(a, MNL_TYPE_U64) < 0)
				continue;
			print_text("  %-20s", name);
			print_uint(PRINT_ANY, name, "%llu\n", mnl_attr_get_u64(a));
		}
		close_json_object();
	}
	close_json_object();
	return 0;
}

static int stats_show(enum show what)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	int ret;

	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_GET_STATS, 0);
	open_json_array(NULL);
	ret = nl_request(nlh, stats_cb, &what,
			 what == SHOW_CONFIG ? "config show" : "stats");
	close_json_array();
	if (is_json())
		print_nl();
	fflush(kout);
	return ret ? 1 : 0;
}

int cmd_stats(int argc, char **argv)
{
	if (parse_show_opts(argc, argv, "stats"))
		return 1;
	return stats_show(SHOW_STATS);
}

int cmd_summary(void)
{
	return stats_show(SHOW_SUMMARY);
}

int cmd_config(int argc, char **argv)
{
	static const char *const keys[] = { "default-in", "default-out",
					    "default-fwd", NULL };
	static const char *const acts[] = { "bypass", "discard", NULL };
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int n = 0;

	if (argc < 1 || matches(*argv, "show")) {
		if (argc > 1 && parse_show_opts(argc - 1, argv + 1, "config show"))
			return 1;
		return stats_show(SHOW_CONFIG);
	}
	if (!matches(*argv, "set")) {
		errorf("unknown command \"%s\" in config: expected set or show",
		       *argv);
		return 1;
	}
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_SET_CONFIG, 0);
	nest = mnl_attr_nest_start(nlh, KIPSEC_A_CONFIG);
	for (argc--, argv++; argc > 0; argc--, argv++) {
		int k = -1, a;

		for (int i = 0; keys[i]; i++)
			if (matches(*argv, keys[i]))
				k = i;
		if (k < 0) {
			unknown_keyword("config set", *argv);
			return 1;
		}
		NEXT_ARG("config set");
		a = parse_choice(*argv, keys[k], acts);
		if (a < 0)
			return 1;
		mnl_attr_put_u8(nlh, KIPSEC_CONFIG_A_DEFAULT_IN + k, a);
		n++;
	}
	mnl_attr_nest_end(nlh, nest);
	if (!n) {
		errorf("config set: expected default-in|default-out|default-fwd bypass|discard");
		return 1;
	}
	return nl_request(nlh, NULL, NULL, "config set") ? 1 : 0;
}
