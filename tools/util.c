// SPDX-License-Identifier: GPL-2.0
/*
 * Printing of the objects the kernel sends (SAs, policies, selectors,
 * counters), shared by show, get, explain and monitor; and the plumbing
 * of get, show and flush that sa and policy share.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"

static const char *const stat_names[KIPSEC_STAT_MAX + 1] = {
	[KIPSEC_STAT_IN_PACKETS] = "in_packets",
	[KIPSEC_STAT_IN_BYTES] = "in_bytes",
	[KIPSEC_STAT_OUT_PACKETS] = "out_packets",
	[KIPSEC_STAT_OUT_BYTES] = "out_bytes",
	[KIPSEC_STAT_HOOK_IN] = "hook_in",
	[KIPSEC_STAT_HOOK_OUT] = "hook_out",
	[KIPSEC_STAT_IN_NO_SA] = "in_no_sa",
	[KIPSEC_STAT_IN_SA_INVALID] = "in_sa_invalid",
	[KIPSEC_STAT_IN_TRUNCATED] = "in_truncated",
	[KIPSEC_STAT_IN_REPLAY] = "in_replay",
	[KIPSEC_STAT_IN_AUTH_FAIL] = "in_auth_fail",
	[KIPSEC_STAT_IN_BAD_PAD] = "in_bad_pad",
	[KIPSEC_STAT_IN_BAD_NEXTHDR] = "in_bad_nexthdr",
	[KIPSEC_STAT_IN_POLICY_MISMATCH] = "in_policy_mismatch",
	[KIPSEC_STAT_IN_CLEARTEXT] = "in_cleartext",
	[KIPSEC_STAT_IN_POLICY_DISCARD] = "in_policy_discard",
	[KIPSEC_STAT_IN_ECN_INVALID] = "in_ecn_invalid",
	[KIPSEC_STAT_IN_BAD_ENCAP] = "in_bad_encap",
	[KIPSEC_STAT_IN_UNSUPPORTED] = "in_unsupported",
	[KIPSEC_STAT_IN_NOMEM] = "in_nomem",
	[KIPSEC_STAT_IN_CRYPTO_ERROR] = "in_crypto_error",
	[KIPSEC_STAT_OUT_NO_SA] = "out_no_sa",
	[KIPSEC_STAT_OUT_POLICY_DISCARD] = "out_policy_discard",
	[KIPSEC_STAT_OUT_SEQ_OVERFLOW] = "out_seq_overflow",
	[KIPSEC_STAT_OUT_SA_EXPIRED] = "out_sa_expired",
	[KIPSEC_STAT_OUT_NO_ROUTE] = "out_no_route",
	[KIPSEC_STAT_OUT_MTU] = "out_mtu",
	[KIPSEC_STAT_OUT_NOMEM] = "out_nomem",
	[KIPSEC_STAT_OUT_CRYPTO_ERROR] = "out_crypto_error",
	[KIPSEC_STAT_OUT_GSO_ERROR] = "out_gso_error",
	[KIPSEC_STAT_OUT_ERROR] = "out_error",
	[KIPSEC_STAT_ACQUIRE_SENT] = "acquire_sent",
	[KIPSEC_STAT_ACQUIRE_LIMITED] = "acquire_limited",
	[KIPSEC_STAT_ICMP_PMTU] = "icmp_pmtu",
	[KIPSEC_STAT_ICMP_OTHER] = "icmp_other",
	[KIPSEC_STAT_POL_HITS] = "pol_hits",
	[KIPSEC_STAT_POL_DROPS] = "pol_drops",
	[KIPSEC_STAT_IN_QUEUE_FULL] = "in_queue_full",
	[KIPSEC_STAT_OUT_QUEUE_FULL] = "out_queue_full",
};

const char *stat_name(unsigned int i)
{
	return i <= KIPSEC_STAT_MAX ? stat_names[i] : NULL;
}

static const char *name_of(const char *const *tab, size_t n, unsigned int i)
{
	return i < n && tab[i] ? tab[i] : "unknown";
}

const char *dir_name(unsigned int d)
{
	static const char *const n[] = { "in", "out", "fwd" };

	return name_of(n, ARRAY_SIZE(n), d);
}

const char *action_name(unsigned int a)
{
	static const char *const n[] = { "bypass", "discard", "protect" };

	return name_of(n, ARRAY_SIZE(n), a);
}

const char *mode_name(unsigned int m)
{
	static const char *const n[] = { "transport", "tunnel" };

	return name_of(n, ARRAY_SIZE(n), m);
}

const char *verdict_name(unsigned int v)
{
	static const char *const n[] = { "bypass", "discard", "protect", "no-sa" };

	return name_of(n, ARRAY_SIZE(n), v);
}

static const char *state_name(unsigned int s)
{
	static const char *const n[] = { "larval", "valid", "dying", "dead" };

	return name_of(n, ARRAY_SIZE(n), s);
}

static const char *df_name(unsigned int d)
{
	static const char *const n[] = { "copy", "set", "clear" };

	return name_of(n, ARRAY_SIZE(n), d);
}

static const char *level_name(unsigned int l)
{
	static const char *const n[] = { "required", "use" };

	return name_of(n, ARRAY_SIZE(n), l);
}

static const char *ipsec_proto_name(unsigned int p)
{
	return p == IPPROTO_ESP ? "esp" : p == IPPROTO_AH ? "ah" : "unknown";
}

/* Attribute tables, one per nesting level. */
static const enum mnl_attr_data_type sa_types[KIPSEC_SA_A_MAX + 1] = {
	[KIPSEC_SA_A_SPI] = MNL_TYPE_U32,
	[KIPSEC_SA_A_DST] = MNL_TYPE_BINARY,
	[KIPSEC_SA_A_PROTO] = MNL_TYPE_U8,
	[KIPSEC_SA_A_SRC] = MNL_TYPE_BINARY,
	[KIPSEC_SA_A_MODE] = MNL_TYPE_U8,
	[KIPSEC_SA_A_REQID] = MNL_TYPE_U32,
	[KIPSEC_SA_A_ALG_AEAD] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_ALG_CRYPT] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_ALG_AUTH] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_REPLAY_WINDOW] = MNL_TYPE_U32,
	[KIPSEC_SA_A_FLAGS] = MNL_TYPE_U32,
	[KIPSEC_SA_A_DF] = MNL_TYPE_U8,
	[KIPSEC_SA_A_SEQ_OUT] = MNL_TYPE_U64,
	[KIPSEC_SA_A_SEQ_IN] = MNL_TYPE_U64,
	[KIPSEC_SA_A_LIFETIME_SOFT] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_LIFETIME_HARD] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_ENCAP] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_SEL] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_STATE] = MNL_TYPE_U8,
	[KIPSEC_SA_A_PMTU] = MNL_TYPE_U32,
	[KIPSEC_SA_A_CURLFT] = MNL_TYPE_NESTED,
	[KIPSEC_SA_A_STATS] = MNL_TYPE_NESTED,
};

const struct nl_pol sa_nl_pol = { KIPSEC_SA_A_MAX, sa_types };

static const enum mnl_attr_data_type alg_types[KIPSEC_ALG_A_MAX + 1] = {
	[KIPSEC_ALG_A_NAME] = MNL_TYPE_NUL_STRING,
	[KIPSEC_ALG_A_KEY] = MNL_TYPE_BINARY,
	[KIPSEC_ALG_A_ICV_BITS] = MNL_TYPE_U32,
};

static const struct nl_pol alg_pol = { KIPSEC_ALG_A_MAX, alg_types };

static const enum mnl_attr_data_type lft_types[KIPSEC_LFT_A_MAX + 1] = {
	[KIPSEC_LFT_A_BYTES] = MNL_TYPE_U64,
	[KIPSEC_LFT_A_PACKETS] = MNL_TYPE_U64,
	[KIPSEC_LFT_A_ADD_SECS] = MNL_TYPE_U64,
	[KIPSEC_LFT_A_USE_SECS] = MNL_TYPE_U64,
};

const struct nl_pol lft_nl_pol = { KIPSEC_LFT_A_MAX, lft_types };

static const enum mnl_attr_data_type encap_types[KIPSEC_ENCAP_A_MAX + 1] = {
	[KIPSEC_ENCAP_A_TYPE] = MNL_TYPE_U8,
	[KIPSEC_ENCAP_A_SPORT] = MNL_TYPE_U16,
	[KIPSEC_ENCAP_A_DPORT] = MNL_TYPE_U16,
	[KIPSEC_ENCAP_A_OADDR] = MNL_TYPE_BINARY,
};

static const struct nl_pol encap_pol = { KIPSEC_ENCAP_A_MAX, encap_types };

static const enum mnl_attr_data_type sel_types[KIPSEC_SEL_A_MAX + 1] = {
	[KIPSEC_SEL_A_FAMILY] = MNL_TYPE_U16,
	[KIPSEC_SEL_A_SRC] = MNL_TYPE_BINARY,
	[KIPSEC_SEL_A_SRC_PLEN] = MNL_TYPE_U8,
	[KIPSEC_SEL_A_DST] = MNL_TYPE_BINARY,
	[KIPSEC_SEL_A_DST_PLEN] = MNL_TYPE_U8,
	[KIPSEC_SEL_A_PROTO] = MNL_TYPE_U8,
	[KIPSEC_SEL_A_SPORT_MIN] = MNL_TYPE_U16,
	[KIPSEC_SEL_A_SPORT_MAX] = MNL_TYPE_U16,
	[KIPSEC_SEL_A_DPORT_MIN] = MNL_TYPE_U16,
	[KIPSEC_SEL_A_DPORT_MAX] = MNL_TYPE_U16,
	[KIPSEC_SEL_A_ICMP_TYPE] = MNL_TYPE_U8,
	[KIPSEC_SEL_A_ICMP_CODE] = MNL_TYPE_U8,
};

static const struct nl_pol sel_pol = { KIPSEC_SEL_A_MAX, sel_types };

static const enum mnl_attr_data_type pol_types[KIPSEC_POL_A_MAX + 1] = {
	[KIPSEC_POL_A_ID] = MNL_TYPE_U32,
	[KIPSEC_POL_A_DIR] = MNL_TYPE_U8,
	[KIPSEC_POL_A_PRIORITY] = MNL_TYPE_U32,
	[KIPSEC_POL_A_ACTION] = MNL_TYPE_U8,
	[KIPSEC_POL_A_SEL] = MNL_TYPE_NESTED,
	[KIPSEC_POL_A_TMPLS] = MNL_TYPE_NESTED,
	[KIPSEC_POL_A_STATS] = MNL_TYPE_NESTED,
};

const struct nl_pol policy_nl_pol = { KIPSEC_POL_A_MAX, pol_types };

static const enum mnl_attr_data_type tmpl_types[KIPSEC_TMPL_A_MAX + 1] = {
	[KIPSEC_TMPL_A_PROTO] = MNL_TYPE_U8,
	[KIPSEC_TMPL_A_MODE] = MNL_TYPE_U8,
	[KIPSEC_TMPL_A_SRC] = MNL_TYPE_BINARY,
	[KIPSEC_TMPL_A_DST] = MNL_TYPE_BINARY,
	[KIPSEC_TMPL_A_REQID] = MNL_TYPE_U32,
	[KIPSEC_TMPL_A_SPI] = MNL_TYPE_U32,
	[KIPSEC_TMPL_A_LEVEL] = MNL_TYPE_U8,
};

static const struct nl_pol tmpl_pol = { KIPSEC_TMPL_A_MAX, tmpl_types };

static const enum mnl_attr_data_type tuple_types[KIPSEC_EXPLAIN_A_MAX + 1] = {
	[KIPSEC_EXPLAIN_A_DIR] = MNL_TYPE_U8,
	[KIPSEC_EXPLAIN_A_SRC] = MNL_TYPE_BINARY,
	[KIPSEC_EXPLAIN_A_DST] = MNL_TYPE_BINARY,
	[KIPSEC_EXPLAIN_A_PROTO] = MNL_TYPE_U8,
	[KIPSEC_EXPLAIN_A_SPORT] = MNL_TYPE_U16,
	[KIPSEC_EXPLAIN_A_DPORT] = MNL_TYPE_U16,
	[KIPSEC_EXPLAIN_A_ICMP_TYPE] = MNL_TYPE_U8,
	[KIPSEC_EXPLAIN_A_ICMP_CODE] = MNL_TYPE_U8,
};

static const struct nl_pol tuple_pol = { KIPSEC_EXPLAIN_A_MAX, tuple_types };

static void print_addr(const char *key, const char *fmt,
		       const struct nlattr *a)
{
	char buf[64];

	print_string(PRINT_ANY, key, fmt,
		     addr_str(mnl_attr_get_payload(a),
			      mnl_attr_get_payload_len(a), buf, sizeof(buf)));
}

static void print_spi(const char *key, const char *fmt, uint32_t be)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%08x", ntohl(be));
	print_string(PRINT_ANY, key, fmt, buf);
}

static void print_hex(const char *key, const char *fmt,
		      const struct nlattr *a)
{
	const uint8_t *p = mnl_attr_get_payload(a);
	size_t n = mnl_attr_get_payload_len(a);
	char buf[2 * KIPSEC_MAX_KEY_BYTES + 3];

	if (n > KIPSEC_MAX_KEY_BYTES)
		n = KIPSEC_MAX_KEY_BYTES;
	strcpy(buf, "0x");
	for (size_t i = 0; i < n; i++)
		snprintf(buf + 2 + 2 * i, 3, "%02x", p[i]);
	print_string(PRINT_ANY, key, fmt, buf);
	explicit_bzero(buf, sizeof(buf));
}

static void print_proto(const char *key, const char *fmt, unsigned int p)
{
	char buf[8];

	print_string(PRINT_ANY, key, fmt, proto_name(p, buf, sizeof(buf)));
}

/* "src 10.0.0.0/24": a prefix, or the family's "any" when absent. */
static void print_prefix(const char *key, const char *fmt,
			 const struct nlattr *addr, const struct nlattr *plen,
			 int family)
{
	static const uint8_t zero[16];
	char buf[64], pfx[72];
	size_t len = addr ? mnl_attr_get_payload_len(addr) :
			    family == AF_INET6 ? 16 : 4;
	unsigned int bits = plen ? mnl_attr_get_u8(plen) : addr ? len * 8 : 0;

	addr_str(addr ? mnl_attr_get_payload(addr) : zero, len, buf,
		 sizeof(buf));
	snprintf(pfx, sizeof(pfx), "%s/%u", buf, bits);
	print_string(PRINT_ANY, key, fmt, pfx);
}

static void print_ports(const char *kw, const struct nlattr *min,
			const struct nlattr *max)
{
	char kmin[16], kmax[16], txt[24];
	unsigned int lo = min ? mnl_attr_get_u16(min) : 0;
	unsigned int hi = max ? mnl_attr_get_u16(max) : min ? lo : 65535;

	if (!min && !max)
		return;
	snprintf(kmin, sizeof(kmin), "%s_min", kw);
	snprintf(kmax, sizeof(kmax), "%s_max", kw);
	print_uint(PRINT_JSON, kmin, NULL, lo);
	print_uint(PRINT_JSON, kmax, NULL, hi);
	if (lo == hi)
		snprintf(txt, sizeof(txt), "%u", lo);
	else
		snprintf(txt, sizeof(txt), "%u-%u", lo, hi);
	print_text(" %s %s", kw, txt);
}

void print_sel(const struct nlattr *nest, const char *key)
{
	const struct nlattr *tb[KIPSEC_SEL_A_MAX + 1];
	int family = AF_INET;

	nl_parse_nest(nest, &sel_pol, tb);
	if (tb[KIPSEC_SEL_A_FAMILY])
		family = mnl_attr_get_u16(tb[KIPSEC_SEL_A_FAMILY]);
	else if (tb[KIPSEC_SEL_A_SRC] &&
		 mnl_attr_get_payload_len(tb[KIPSEC_SEL_A_SRC]) == 16)
		family = AF_INET6;
	else if (tb[KIPSEC_SEL_A_DST] &&
		 mnl_attr_get_payload_len(tb[KIPSEC_SEL_A_DST]) == 16)
		family = AF_INET6;

	open_json_object(key);
	print_string(PRINT_JSON, "family", NULL,
		     family == AF_INET6 ? "inet6" : "inet");
	print_prefix("src", "src %s", tb[KIPSEC_SEL_A_SRC],
		     tb[KIPSEC_SEL_A_SRC_PLEN], family);
	print_prefix("dst", " dst %s", tb[KIPSEC_SEL_A_DST],
		     tb[KIPSEC_SEL_A_DST_PLEN], family);
	if (tb[KIPSEC_SEL_A_PROTO] && mnl_attr_get_u8(tb[KIPSEC_SEL_A_PROTO]))
		print_proto("proto", " proto %s",
			    mnl_attr_get_u8(tb[KIPSEC_SEL_A_PROTO]));
	print_ports("sport", tb[KIPSEC_SEL_A_SPORT_MIN],
		    tb[KIPSEC_SEL_A_SPORT_MAX]);
	print_ports("dport", tb[KIPSEC_SEL_A_DPORT_MIN],
		    tb[KIPSEC_SEL_A_DPORT_MAX]);
	if (tb[KIPSEC_SEL_A_ICMP_TYPE])
		print_uint(PRINT_ANY, "icmp_type", " type %llu",
			   mnl_attr_get_u8(tb[KIPSEC_SEL_A_ICMP_TYPE]));
	if (tb[KIPSEC_SEL_A_ICMP_CODE])
		print_uint(PRINT_ANY, "icmp_code", " code %llu",
			   mnl_attr_get_u8(tb[KIPSEC_SEL_A_ICMP_CODE]));
	close_json_object();
}

void print_stats(const struct nlattr *nest, const char *key, bool nonzero)
{
	const struct nlattr *a;
	int n = 0;

	open_json_object(key);
	mnl_attr_for_each_nested(a, nest) {
		unsigned int type = mnl_attr_get_type(a);
		const char *name = stat_name(type);
		char fmt[64];
		uint64_t v;

		if (!name || mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			continue;
		v = mnl_attr_get_u64(a);
		/* text skips zero drop counters; JSON keeps every key */
		if (nonzero && !is_json() && !v &&
		    type != KIPSEC_STAT_IN_PACKETS &&
		    type != KIPSEC_STAT_IN_BYTES &&
		    type != KIPSEC_STAT_OUT_PACKETS &&
		    type != KIPSEC_STAT_OUT_BYTES &&
		    type != KIPSEC_STAT_POL_HITS)
			continue;
		snprintf(fmt, sizeof(fmt), "%s%s %%llu", n++ ? " " : "", name);
		print_uint(PRINT_ANY, name, fmt, v);
	}
	close_json_object();
}

static void print_alg(const char *key, const char *kw,
		      const struct nlattr *nest)
{
	const struct nlattr *tb[KIPSEC_ALG_A_MAX + 1];

	nl_parse_nest(nest, &alg_pol, tb);
	open_json_object(key);
	print_text("\n\t%s", kw);
	if (tb[KIPSEC_ALG_A_NAME])
		print_string(PRINT_ANY, "name", " %s",
			     mnl_attr_get_str(tb[KIPSEC_ALG_A_NAME]));
	if (tb[KIPSEC_ALG_A_KEY])
		print_hex("key", " %s", tb[KIPSEC_ALG_A_KEY]);
	if (tb[KIPSEC_ALG_A_ICV_BITS])
		print_uint(PRINT_ANY, "icv_bits", " %llu",
			   mnl_attr_get_u32(tb[KIPSEC_ALG_A_ICV_BITS]));
	close_json_object();
}

static void print_lft(const char *key, const char *kw,
		      const struct nlattr *nest)
{
	static const char *const names[] = {
		[KIPSEC_LFT_A_BYTES] = "bytes",
		[KIPSEC_LFT_A_PACKETS] = "packets",
		[KIPSEC_LFT_A_ADD_SECS] = "add",
		[KIPSEC_LFT_A_USE_SECS] = "use",
	};
	const struct nlattr *tb[KIPSEC_LFT_A_MAX + 1];

	nl_parse_nest(nest, &lft_nl_pol, tb);
	open_json_object(key);
	print_text("\n\t%s", kw);
	for (int i = KIPSEC_LFT_A_BYTES; i <= KIPSEC_LFT_A_USE_SECS; i++) {
		char fmt[24];

		if (!tb[i])
			continue;
		snprintf(fmt, sizeof(fmt), " %s %%llu", names[i]);
		print_uint(PRINT_ANY, names[i], fmt, mnl_attr_get_u64(tb[i]));
	}
	close_json_object();
}

static void print_flags(uint32_t flags)
{
	static const char *const names[] = { "esn", "noecn", "nodscp",
					     "nonstd-trunc" };

	if (!flags)
		return;
	open_json_array("flags");
	print_text(" flag");
	for (unsigned int i = 0; i < 32; i++) {
		char buf[16];

		if (!(flags & (1U << i)))
			continue;
		if (i < ARRAY_SIZE(names)) {
			print_string(PRINT_ANY, NULL, " %s", names[i]);
		} else {
			snprintf(buf, sizeof(buf), "0x%x", 1U << i);
			print_string(PRINT_ANY, NULL, " %s", buf);
		}
	}
	close_json_array();
}

void print_sa(const struct nlattr *nest, const char *key)
{
	const struct nlattr *tb[KIPSEC_SA_A_MAX + 1];

	nl_parse_nest(nest, &sa_nl_pol, tb);
	open_json_object(key);
	if (tb[KIPSEC_SA_A_SRC])
		print_addr("src", "src %s ", tb[KIPSEC_SA_A_SRC]);
	if (tb[KIPSEC_SA_A_DST])
		print_addr("dst", "dst %s", tb[KIPSEC_SA_A_DST]);
	print_text("\n\t");
	if (tb[KIPSEC_SA_A_PROTO])
		print_string(PRINT_ANY, "proto", "proto %s",
			     ipsec_proto_name(mnl_attr_get_u8(tb[KIPSEC_SA_A_PROTO])));
	if (tb[KIPSEC_SA_A_SPI])
		print_spi("spi", " spi %s", mnl_attr_get_u32(tb[KIPSEC_SA_A_SPI]));
	if (tb[KIPSEC_SA_A_REQID])
		print_uint(PRINT_ANY, "reqid", " reqid %llu",
			   mnl_attr_get_u32(tb[KIPSEC_SA_A_REQID]));
	print_string(PRINT_ANY, "mode", " mode %s",
		     mode_name(tb[KIPSEC_SA_A_MODE] ?
			       mnl_attr_get_u8(tb[KIPSEC_SA_A_MODE]) :
			       KIPSEC_MODE_TRANSPORT));
	if (tb[KIPSEC_SA_A_STATE])
		print_string(PRINT_ANY, "state", " state %s",
			     state_name(mnl_attr_get_u8(tb[KIPSEC_SA_A_STATE])));
	if (tb[KIPSEC_SA_A_REPLAY_WINDOW] || tb[KIPSEC_SA_A_FLAGS] ||
	    tb[KIPSEC_SA_A_DF]) {
		print_text("\n\t");
		print_uint(PRINT_ANY, "replay_window", "replay-window %llu",
			   tb[KIPSEC_SA_A_REPLAY_WINDOW] ?
			   mnl_attr_get_u32(tb[KIPSEC_SA_A_REPLAY_WINDOW]) : 0);
		if (tb[KIPSEC_SA_A_FLAGS])
			print_flags(mnl_attr_get_u32(tb[KIPSEC_SA_A_FLAGS]));
		if (tb[KIPSEC_SA_A_DF])
			print_string(PRINT_ANY, "df", " df %s",
				     df_name(mnl_attr_get_u8(tb[KIPSEC_SA_A_DF])));
		if (tb[KIPSEC_SA_A_PMTU])
			print_uint(PRINT_ANY, "pmtu", " pmtu %llu",
				   mnl_attr_get_u32(tb[KIPSEC_SA_A_PMTU]));
	}
	if (tb[KIPSEC_SA_A_ALG_AEAD])
		print_alg("aead", "aead", tb[KIPSEC_SA_A_ALG_AEAD]);
	if (tb[KIPSEC_SA_A_ALG_CRYPT])
		print_alg("enc", "enc", tb[KIPSEC_SA_A_ALG_CRYPT]);
	if (tb[KIPSEC_SA_A_ALG_AUTH])
		print_alg("auth", "auth-trunc", tb[KIPSEC_SA_A_ALG_AUTH]);
	if (tb[KIPSEC_SA_A_ENCAP]) {
		const struct nlattr *e[KIPSEC_ENCAP_A_MAX + 1];

		nl_parse_nest(tb[KIPSEC_SA_A_ENCAP], &encap_pol, e);
		open_json_object("encap");
		print_string(PRINT_ANY, "type", "\n\tencap %s",
			     e[KIPSEC_ENCAP_A_TYPE] &&
			     mnl_attr_get_u8(e[KIPSEC_ENCAP_A_TYPE]) ==
			     KIPSEC_ENCAP_ESPINUDP ? "espinudp" : "none");
		if (e[KIPSEC_ENCAP_A_SPORT])
			print_uint(PRINT_ANY, "sport", " %llu",
				   mnl_attr_get_u16(e[KIPSEC_ENCAP_A_SPORT]));
		if (e[KIPSEC_ENCAP_A_DPORT])
			print_uint(PRINT_ANY, "dport", " %llu",
				   mnl_attr_get_u16(e[KIPSEC_ENCAP_A_DPORT]));
		if (e[KIPSEC_ENCAP_A_OADDR])
			print_addr("oaddr", " %s", e[KIPSEC_ENCAP_A_OADDR]);
		close_json_object();
	}
	if (tb[KIPSEC_SA_A_SEQ_OUT] || tb[KIPSEC_SA_A_SEQ_IN]) {
		print_text("\n\t");
		if (tb[KIPSEC_SA_A_SEQ_OUT])
			print_uint(PRINT_ANY, "seq_out", "seq-out %llu",
				   mnl_attr_get_u64(tb[KIPSEC_SA_A_SEQ_OUT]));
		if (tb[KIPSEC_SA_A_SEQ_IN])
			print_uint(PRINT_ANY, "seq_in", " seq-in %llu",
				   mnl_attr_get_u64(tb[KIPSEC_SA_A_SEQ_IN]));
	}
	if (tb[KIPSEC_SA_A_SEL]) {
		print_text("\n\tsel ");
		print_sel(tb[KIPSEC_SA_A_SEL], "sel");
	}
	if (tb[KIPSEC_SA_A_LIFETIME_SOFT] || tb[KIPSEC_SA_A_LIFETIME_HARD]) {
		open_json_object("lifetime");
		if (tb[KIPSEC_SA_A_LIFETIME_SOFT])
			print_lft("soft", "lifetime soft",
				  tb[KIPSEC_SA_A_LIFETIME_SOFT]);
		if (tb[KIPSEC_SA_A_LIFETIME_HARD])
			print_lft("hard", "lifetime hard",
				  tb[KIPSEC_SA_A_LIFETIME_HARD]);
		close_json_object();
	}
	if (tb[KIPSEC_SA_A_CURLFT])
		print_lft("current", "current", tb[KIPSEC_SA_A_CURLFT]);
	if (opts.stats && tb[KIPSEC_SA_A_STATS]) {
		print_text("\n\tstats ");
		print_stats(tb[KIPSEC_SA_A_STATS], "stats", true);
	}
	print_text("\n");
	close_json_object();
}

static void print_tmpl(const struct nlattr *nest)
{
	const struct nlattr *tb[KIPSEC_TMPL_A_MAX + 1];

	nl_parse_nest(nest, &tmpl_pol, tb);
	open_json_object(NULL);
	print_text("\n\ttmpl");
	if (tb[KIPSEC_TMPL_A_PROTO])
		print_string(PRINT_ANY, "proto", " proto %s",
			     ipsec_proto_name(mnl_attr_get_u8(tb[KIPSEC_TMPL_A_PROTO])));
	print_string(PRINT_ANY, "mode", " mode %s",
		     mode_name(tb[KIPSEC_TMPL_A_MODE] ?
			       mnl_attr_get_u8(tb[KIPSEC_TMPL_A_MODE]) : 0));
	if (tb[KIPSEC_TMPL_A_SRC])
		print_addr("src", " src %s", tb[KIPSEC_TMPL_A_SRC]);
	if (tb[KIPSEC_TMPL_A_DST])
		print_addr("dst", " dst %s", tb[KIPSEC_TMPL_A_DST]);
	if (tb[KIPSEC_TMPL_A_REQID])
		print_uint(PRINT_ANY, "reqid", " reqid %llu",
			   mnl_attr_get_u32(tb[KIPSEC_TMPL_A_REQID]));
	if (tb[KIPSEC_TMPL_A_SPI] && mnl_attr_get_u32(tb[KIPSEC_TMPL_A_SPI]))
		print_spi("spi", " spi %s", mnl_attr_get_u32(tb[KIPSEC_TMPL_A_SPI]));
	print_string(PRINT_ANY, "level", " level %s",
		     level_name(tb[KIPSEC_TMPL_A_LEVEL] ?
				mnl_attr_get_u8(tb[KIPSEC_TMPL_A_LEVEL]) : 0));
	close_json_object();
}

void print_policy(const struct nlattr *nest, const char *key)
{
	const struct nlattr *tb[KIPSEC_POL_A_MAX + 1];

	nl_parse_nest(nest, &policy_nl_pol, tb);
	open_json_object(key);
	if (tb[KIPSEC_POL_A_SEL])
		print_sel(tb[KIPSEC_POL_A_SEL], "sel");
	print_text("\n\t");
	if (tb[KIPSEC_POL_A_DIR])
		print_string(PRINT_ANY, "dir", "dir %s",
			     dir_name(mnl_attr_get_u8(tb[KIPSEC_POL_A_DIR])));
	print_uint(PRINT_ANY, "priority", " priority %llu",
		   tb[KIPSEC_POL_A_PRIORITY] ?
		   mnl_attr_get_u32(tb[KIPSEC_POL_A_PRIORITY]) : 0);
	if (tb[KIPSEC_POL_A_ACTION])
		print_string(PRINT_ANY, "action", " action %s",
			     action_name(mnl_attr_get_u8(tb[KIPSEC_POL_A_ACTION])));
	if (tb[KIPSEC_POL_A_ID])
		print_uint(PRINT_ANY, "id", " id %llu",
			   mnl_attr_get_u32(tb[KIPSEC_POL_A_ID]));
	open_json_array("tmpls");
	if (tb[KIPSEC_POL_A_TMPLS]) {
		const struct nlattr *t;

		mnl_attr_for_each_nested(t, tb[KIPSEC_POL_A_TMPLS]) {
			if (mnl_attr_get_type(t) == KIPSEC_TMPL &&
			    mnl_attr_validate(t, MNL_TYPE_NESTED) >= 0)
				print_tmpl(t);
		}
	}
	close_json_array();
	if (opts.stats && tb[KIPSEC_POL_A_STATS]) {
		print_text("\n\tstats ");
		print_stats(tb[KIPSEC_POL_A_STATS], "stats", false);
	}
	print_text("\n");
	close_json_object();
}

/* A packet tuple (explain request, acquire). */
void print_tuple(const struct nlattr *nest, const char *key)
{
	const struct nlattr *tb[KIPSEC_EXPLAIN_A_MAX + 1];

	nl_parse_nest(nest, &tuple_pol, tb);
	open_json_object(key);
	if (tb[KIPSEC_EXPLAIN_A_DIR])
		print_string(PRINT_ANY, "dir", "dir %s ",
			     dir_name(mnl_attr_get_u8(tb[KIPSEC_EXPLAIN_A_DIR])));
	if (tb[KIPSEC_EXPLAIN_A_SRC])
		print_addr("src", "src %s", tb[KIPSEC_EXPLAIN_A_SRC]);
	if (tb[KIPSEC_EXPLAIN_A_DST])
		print_addr("dst", " dst %s", tb[KIPSEC_EXPLAIN_A_DST]);
	if (tb[KIPSEC_EXPLAIN_A_PROTO])
		print_proto("proto", " proto %s",
			    mnl_attr_get_u8(tb[KIPSEC_EXPLAIN_A_PROTO]));
	if (tb[KIPSEC_EXPLAIN_A_SPORT])
		print_uint(PRINT_ANY, "sport", " sport %llu",
			   mnl_attr_get_u16(tb[KIPSEC_EXPLAIN_A_SPORT]));
	if (tb[KIPSEC_EXPLAIN_A_DPORT])
		print_uint(PRINT_ANY, "dport", " dport %llu",
			   mnl_attr_get_u16(tb[KIPSEC_EXPLAIN_A_DPORT]));
	if (tb[KIPSEC_EXPLAIN_A_ICMP_TYPE])
		print_uint(PRINT_ANY, "icmp_type", " type %llu",
			   mnl_attr_get_u8(tb[KIPSEC_EXPLAIN_A_ICMP_TYPE]));
	if (tb[KIPSEC_EXPLAIN_A_ICMP_CODE])
		print_uint(PRINT_ANY, "icmp_code", " code %llu",
			   mnl_attr_get_u8(tb[KIPSEC_EXPLAIN_A_ICMP_CODE]));
	close_json_object();
}

/* The SA or policy a reply carries, printed. */
int print_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[KIPSEC_A_MAX + 1] = {
		[KIPSEC_A_SA] = MNL_TYPE_NESTED,
		[KIPSEC_A_POLICY] = MNL_TYPE_NESTED,
	};
	static const struct nl_pol pol = { KIPSEC_A_MAX, types };
	const struct nlattr *tb[KIPSEC_A_MAX + 1];

	(void)data;
	nl_parse_msg(nlh, &pol, tb);
	if (tb[KIPSEC_A_SA])
		print_sa(tb[KIPSEC_A_SA], NULL);
	if (tb[KIPSEC_A_POLICY])
		print_policy(tb[KIPSEC_A_POLICY], NULL);
	return 0;
}

/* Inside -batch, what is queued goes first: 1 if that failed (no -force). */
static int batch_sync(void)
{
	return opts.batching && nl_batch_flush() && !opts.force;
}

int print_reply(struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data,
		const char *ctx)
{
	int ret;

	if (batch_sync())
		return 1;
	open_json_array(NULL);
	ret = nl_request(nlh, cb, data, ctx);
	close_json_array();
	print_nl();
	fflush(kout);
	return ret ? 1 : 0;
}

int show_dump(int argc, char **argv, uint8_t cmd, bool keys, const char *ctx)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	if (parse_show_opts(argc, argv, ctx) || nl_open() || batch_sync())
		return 1;
	nlh = nl_msg(buf, cmd, 0);
	if (keys && opts.keys)
		mnl_attr_put_u32(nlh, KIPSEC_A_FLAGS, KIPSEC_F_WITH_KEYS);
	return nl_dump_print(nlh, print_obj_cb, NULL, ctx) ? 1 : 0;
}

int send_flush(uint8_t cmd, uint16_t type, int value, const char *ctx)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;

	if (nl_open() || batch_sync())
		return 1;
	nlh = nl_msg(buf, cmd, 0);
	if (value >= 0)
		mnl_attr_put_u8(nlh, type, value);
	return nl_request(nlh, NULL, NULL, ctx) ? 1 : 0;
}

int get_show_opts(int *argcp, char **argv, const char *ctx)
{
	while (*argcp > 0 && argv[*argcp - 1][0] == '-') {
		if (parse_show_opts(1, &argv[*argcp - 1], ctx))
			return -1;
		(*argcp)--;
	}
	return 0;
}

int run_verb(const char *obj, const struct verb *verbs, size_t n, int argc,
	     char **argv, const char *expected)
{
	if (argc < 1)
		return verbs[0].run(0, NULL, verbs[0].alt);
	for (size_t i = 0; i < n; i++)
		if (matches(*argv, verbs[i].name))
			return verbs[i].run(argc - 1, argv + 1, verbs[i].alt);
	errorf("unknown command \"%s\" in %s: expected %s", *argv, obj,
	       expected);
	return 1;
}

/* Enter network namespace @name (a name under /run/netns or a path). */
int enter_netns(const char *name)
{
	char path[4096];
	int fd;

	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errorf("cannot open network namespace \"%s\": %s", name,
		       strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		errorf("cannot enter network namespace \"%s\": %s", name,
		       strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}
