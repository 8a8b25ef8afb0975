// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec algs, and the default ICV lengths used for "auth NAME KEY".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

static const enum mnl_attr_data_type ai_types[KIPSEC_ALGINFO_A_MAX + 1] = {
	[KIPSEC_ALGINFO_A_NAME] = MNL_TYPE_NUL_STRING,
	[KIPSEC_ALGINFO_A_KIND] = MNL_TYPE_U8,
	[KIPSEC_ALGINFO_A_KEY_BITS] = MNL_TYPE_NESTED,
	[KIPSEC_ALGINFO_A_ICV_BITS] = MNL_TYPE_NESTED,
	[KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS] = MNL_TYPE_U32,
	[KIPSEC_ALGINFO_A_IV_BYTES] = MNL_TYPE_U32,
	[KIPSEC_ALGINFO_A_BLOCK_BYTES] = MNL_TYPE_U32,
	[KIPSEC_ALGINFO_A_AVAILABLE] = MNL_TYPE_FLAG,
	[KIPSEC_ALGINFO_A_AH] = MNL_TYPE_FLAG,
};

static const struct nl_pol ai_pol = { KIPSEC_ALGINFO_A_MAX, ai_types };

static const char *kind_name(unsigned int k)
{
	static const char *const n[] = { "aead", "crypt", "auth" };

	return k < 3 ? n[k] : "unknown";
}

static void print_u32_list(const char *key, const char *kw,
			   const struct nlattr *nest)
{
	const struct nlattr *a;
	int n = 0;

	open_json_array(key);
	print_text(" %s ", kw);
	mnl_attr_for_each_nested(a, nest) {
		if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
			continue;
		print_uint(PRINT_ANY, NULL, n++ ? ",%llu" : "%llu",
			   mnl_attr_get_u32(a));
	}
	close_json_array();
}

static void print_alginfo(const struct nlattr *nest)
{
	const struct nlattr *tb[KIPSEC_ALGINFO_A_MAX + 1];

	nl_parse_nest(nest, &ai_pol, tb);
	if (!tb[KIPSEC_ALGINFO_A_NAME])
		return;
	open_json_object(NULL);
	print_string(PRINT_ANY, "name", "%-32s",
		     mnl_attr_get_str(tb[KIPSEC_ALGINFO_A_NAME]));
	if (tb[KIPSEC_ALGINFO_A_KIND])
		print_string(PRINT_ANY, "kind", " %-5s",
			     kind_name(mnl_attr_get_u8(tb[KIPSEC_ALGINFO_A_KIND])));
	if (tb[KIPSEC_ALGINFO_A_KEY_BITS])
		print_u32_list("key_bits", "key", tb[KIPSEC_ALGINFO_A_KEY_BITS]);
	if (tb[KIPSEC_ALGINFO_A_ICV_BITS])
		print_u32_list("icv_bits", "icv", tb[KIPSEC_ALGINFO_A_ICV_BITS]);
	if (tb[KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS])
		print_uint(PRINT_ANY, "default_icv_bits", " default-icv %llu",
			   mnl_attr_get_u32(tb[KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS]));
	if (tb[KIPSEC_ALGINFO_A_IV_BYTES])
		print_uint(PRINT_ANY, "iv_bytes", " iv %llu",
			   mnl_attr_get_u32(tb[KIPSEC_ALGINFO_A_IV_BYTES]));
	if (tb[KIPSEC_ALGINFO_A_BLOCK_BYTES])
		print_uint(PRINT_ANY, "block_bytes", " block %llu",
			   mnl_attr_get_u32(tb[KIPSEC_ALGINFO_A_BLOCK_BYTES]));
	print_bool(PRINT_ANY, "available", NULL,
		   tb[KIPSEC_ALGINFO_A_AVAILABLE]);
	if (!tb[KIPSEC_ALGINFO_A_AVAILABLE])
		print_text(" (not available)");
	print_bool(PRINT_ANY, "ah", " ah", tb[KIPSEC_ALGINFO_A_AH]);
	print_text("\n");
	close_json_object();
}

/* One message may carry several KIPSEC_A_ALG, or one per message. */
static int algs_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	(void)data;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == KIPSEC_A_ALG &&
		    mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
			print_alginfo(a);
	}
	return 0;
}

int cmd_algs(int argc, char **argv)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	if (parse_show_opts(argc, argv, "algs"))
		return 1;
	if (nl_open())
		return 1;
	if (opts.batching && nl_batch_flush() && !opts.force)
		return 1;
	nlh = nl_msg(buf, KIPSEC_CMD_ALGS, 0);
	return nl_dump_print(nlh, algs_cb, NULL, "algs") ? 1 : 0;
}

/* Default ICV lengths: the kernel's table when it answers, else RFCs. */
static const struct {
	const char *name;
	unsigned int icv;
} builtin[] = {
	{ "hmac(sha1)", 96 },		/* RFC 2404 */
	{ "hmac(sha256)", 128 },	/* RFC 4868 */
	{ "hmac(sha384)", 192 },
	{ "hmac(sha512)", 256 },
	{ "xcbc(aes)", 96 },		/* RFC 3566 */
	{ "cmac(aes)", 96 },		/* RFC 4494 */
};

struct icv_entry {
	char name[KIPSEC_MAX_ALG_NAME];
	unsigned int icv;
};

static struct icv_entry *table;
static size_t table_len;
static bool table_loaded;

static int icv_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	(void)data;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		const struct nlattr *tb[KIPSEC_ALGINFO_A_MAX + 1];
		struct icv_entry *t;

		if (mnl_attr_get_type(a) != KIPSEC_A_ALG ||
		    mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			continue;
		nl_parse_nest(a, &ai_pol, tb);
		if (!tb[KIPSEC_ALGINFO_A_NAME] ||
		    !tb[KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS])
			continue;
		t = realloc(table, (table_len + 1) * sizeof(*table));
		if (!t)
			return -1;
		table = t;
		snprintf(table[table_len].name, sizeof(table[0].name), "%s",
			 mnl_attr_get_str(tb[KIPSEC_ALGINFO_A_NAME]));
		table[table_len++].icv =
			mnl_attr_get_u32(tb[KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS]);
	}
	return 0;
}

unsigned int alg_default_icv(const char *name)
{
	if (!table_loaded) {
		uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
		struct nlmsghdr *nlh;

		table_loaded = true;
		/* quietly: the built-in table is the fallback */
		opts.quiet = true;
		if (!nl_open()) {
			nlh = nl_msg(buf, KIPSEC_CMD_ALGS, 0);
			nl_dump(nlh, icv_cb, NULL, "algs", NULL);
		}
		opts.quiet = false;
	}
	for (size_t i = 0; i < table_len; i++)
		if (!strcmp(table[i].name, name))
			return table[i].icv;
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		if (!strcmp(builtin[i].name, name))
			return builtin[i].icv;
	return 0;
}
