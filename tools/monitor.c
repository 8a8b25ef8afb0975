// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec monitor: SA, policy and acquire events as they come; with -j one
 * JSON object per line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = MNL_TYPE_NESTED,
	[KIPSEC_A_POLICY] = MNL_TYPE_NESTED,
	[KIPSEC_A_HARD] = MNL_TYPE_FLAG,
	[KIPSEC_A_EXPLAIN] = MNL_TYPE_NESTED,
	[KIPSEC_A_NEW_ADDR] = MNL_TYPE_BINARY,
	[KIPSEC_A_NEW_PORT] = MNL_TYPE_U16,
	[KIPSEC_A_PROTO] = MNL_TYPE_U8,
	[KIPSEC_A_DIR] = MNL_TYPE_U8,
};

static const struct nl_pol pol = { KIPSEC_A_MAX, types };

static const char *event_name(unsigned int cmd)
{
	switch (cmd) {
	case KIPSEC_CMD_SA_NEW: return "sa_new";
	case KIPSEC_CMD_SA_UPDATE: return "sa_update";
	case KIPSEC_CMD_SA_DEL: return "sa_del";
	case KIPSEC_CMD_SA_EXPIRE: return "sa_expire";
	case KIPSEC_CMD_SA_MAPPING: return "sa_mapping";
	case KIPSEC_CMD_POLICY_NEW: return "policy_new";
	case KIPSEC_CMD_POLICY_UPDATE: return "policy_update";
	case KIPSEC_CMD_POLICY_DEL: return "policy_del";
	case KIPSEC_CMD_ACQUIRE: return "acquire";
	case KIPSEC_CMD_SA_FLUSH: return "sa_flush";
	case KIPSEC_CMD_POLICY_FLUSH: return "policy_flush";
	default: return NULL;
	}
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const char *name = event_name(genl_cmd(nlh));
	char buf[64];

	(void)data;
	if (!name)
		return 0;
	nl_parse_msg(nlh, &pol, tb);
	json_reset();
	open_json_object(NULL);
	print_string(PRINT_ANY, "event", "[%s]", name);
	if (genl_cmd(nlh) == KIPSEC_CMD_SA_EXPIRE) {
		print_bool(PRINT_JSON, "hard", NULL, tb[KIPSEC_A_HARD]);
		print_text(tb[KIPSEC_A_HARD] ? " hard" : " soft");
	}
	/* flushes limited to one protocol or direction */
	if (tb[KIPSEC_A_PROTO])
		print_string(PRINT_ANY, "proto", " proto %s",
			     proto_name(mnl_attr_get_u8(tb[KIPSEC_A_PROTO]), buf,
					sizeof(buf)));
	if (tb[KIPSEC_A_DIR])
		print_string(PRINT_ANY, "dir", " dir %s",
			     dir_name(mnl_attr_get_u8(tb[KIPSEC_A_DIR])));
	if (tb[KIPSEC_A_NEW_ADDR]) {
		print_string(PRINT_ANY, "new_addr", " new address %s",
			     addr_str(mnl_attr_get_payload(tb[KIPSEC_A_NEW_ADDR]),
				      mnl_attr_get_payload_len(tb[KIPSEC_A_NEW_ADDR]),
				      buf, sizeof(buf)));
	}
	if (tb[KIPSEC_A_NEW_PORT])
		print_uint(PRINT_ANY, "new_port", " port %llu",
			   mnl_attr_get_u16(tb[KIPSEC_A_NEW_PORT]));
	if (tb[KIPSEC_A_EXPLAIN]) {
		print_text(" packet ");
		print_tuple(tb[KIPSEC_A_EXPLAIN], "packet");
	}
	print_text("\n");
	if (tb[KIPSEC_A_SA])
		print_sa(tb[KIPSEC_A_SA], "sa");
	if (tb[KIPSEC_A_POLICY])
		print_policy(tb[KIPSEC_A_POLICY], "policy");
	close_json_object();
	if (is_json())
		fputc('\n', kout);
	fflush(kout);
	return 0;
}

int cmd_monitor(int argc, char **argv)
{
	if (parse_show_opts(argc, argv, "monitor"))
		return 1;
	if (nl_open())
		return 1;
	if (nl_join(NL_GRP_SA) || nl_join(NL_GRP_POLICY) ||
	    nl_join(NL_GRP_ACQUIRE))
		return 1;
	for (;;) {
		int err = nl_recv_events(event_cb, NULL);

		if (err == -EINTR)
			continue;
		if (err == -ENOBUFS) {
			notef("monitor: events lost (receive buffer overrun)");
			continue;
		}
		if (err < 0) {
			errorf("monitor: %s", strerror(-err));
			return 1;
		}
	}
}
