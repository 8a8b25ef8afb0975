// SPDX-License-Identifier: GPL-2.0
/*
 * The "kipsec" generic netlink family (uapi/linux/kipsec.h): strict per-command
 * policies, requests turned into SAD/SPD calls, replies, dumps resumed by
 * cursor, and notifications (which never carry keys).
 */

#include <linux/in.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <net/genetlink.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "compat.h"
#include "netlink.h"
#include "netns.h"

enum {
	KIPSEC_MCGRP_IDX_SA,
	KIPSEC_MCGRP_IDX_POLICY,
	KIPSEC_MCGRP_IDX_ACQUIRE,
};

#define KIPSEC_NLA_ADDR NLA_POLICY_RANGE(NLA_BINARY, 4, 16)

/* A missing mandatory attribute: text for humans, type for tools. */
#define KIPSEC_MISSING(extack, nest, type, msg) do {			\
		struct netlink_ext_ack *__ack = (extack);		\
									\
		NL_SET_ERR_MSG_MOD(__ack, msg);				\
		NL_SET_ERR_ATTR_MISS(__ack, nest, type);		\
	} while (0)

static const struct nla_policy alg_policy[KIPSEC_ALG_A_MAX + 1] = {
	[KIPSEC_ALG_A_NAME] = { .type = NLA_NUL_STRING,
				.len = KIPSEC_MAX_ALG_NAME - 1 },
	[KIPSEC_ALG_A_KEY] = { .type = NLA_BINARY,
			       .len = KIPSEC_MAX_KEY_BYTES },
	[KIPSEC_ALG_A_ICV_BITS] = NLA_POLICY_RANGE(NLA_U32, 32, 512),
};

static const struct nla_policy lft_policy[KIPSEC_LFT_A_MAX + 1] = {
	[KIPSEC_LFT_A_BYTES] = { .type = NLA_U64 },
	[KIPSEC_LFT_A_PACKETS] = { .type = NLA_U64 },
	[KIPSEC_LFT_A_ADD_SECS] = { .type = NLA_U64 },
	[KIPSEC_LFT_A_USE_SECS] = { .type = NLA_U64 },
};

static const struct nla_policy encap_policy[KIPSEC_ENCAP_A_MAX + 1] = {
	[KIPSEC_ENCAP_A_TYPE] = NLA_POLICY_MAX(NLA_U8, KIPSEC_ENCAP_MAX),
	[KIPSEC_ENCAP_A_SPORT] = { .type = NLA_U16 },
	[KIPSEC_ENCAP_A_DPORT] = { .type = NLA_U16 },
	[KIPSEC_ENCAP_A_OADDR] = KIPSEC_NLA_ADDR,
};

static const struct nla_policy sel_policy[KIPSEC_SEL_A_MAX + 1] = {
	[KIPSEC_SEL_A_FAMILY] = { .type = NLA_U16 },
	[KIPSEC_SEL_A_SRC] = KIPSEC_NLA_ADDR,
	[KIPSEC_SEL_A_SRC_PLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[KIPSEC_SEL_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_SEL_A_DST_PLEN] = NLA_POLICY_MAX(NLA_U8, 128),
	[KIPSEC_SEL_A_PROTO] = { .type = NLA_U8 },
	[KIPSEC_SEL_A_SPORT_MIN] = { .type = NLA_U16 },
	[KIPSEC_SEL_A_SPORT_MAX] = { .type = NLA_U16 },
	[KIPSEC_SEL_A_DPORT_MIN] = { .type = NLA_U16 },
	[KIPSEC_SEL_A_DPORT_MAX] = { .type = NLA_U16 },
	[KIPSEC_SEL_A_ICMP_TYPE] = { .type = NLA_U8 },
	[KIPSEC_SEL_A_ICMP_CODE] = { .type = NLA_U8 },
};

static const struct nla_policy sa_policy[KIPSEC_SA_A_MAX + 1] = {
	[KIPSEC_SA_A_SPI] = { .type = NLA_BE32 },
	[KIPSEC_SA_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_SA_A_PROTO] = { .type = NLA_U8 },
	[KIPSEC_SA_A_SRC] = KIPSEC_NLA_ADDR,
	[KIPSEC_SA_A_MODE] = NLA_POLICY_MAX(NLA_U8, KIPSEC_MODE_MAX),
	[KIPSEC_SA_A_REQID] = { .type = NLA_U32 },
	[KIPSEC_SA_A_ALG_AEAD] = NLA_POLICY_NESTED(alg_policy),
	[KIPSEC_SA_A_ALG_CRYPT] = NLA_POLICY_NESTED(alg_policy),
	[KIPSEC_SA_A_ALG_AUTH] = NLA_POLICY_NESTED(alg_policy),
	[KIPSEC_SA_A_REPLAY_WINDOW] =
		NLA_POLICY_MAX(NLA_U32, KIPSEC_MAX_REPLAY_WINDOW),
	[KIPSEC_SA_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, KIPSEC_SA_F_ALL),
	[KIPSEC_SA_A_DF] = NLA_POLICY_MAX(NLA_U8, KIPSEC_DF_MAX),
	[KIPSEC_SA_A_SEQ_OUT] = { .type = NLA_U64 },
	[KIPSEC_SA_A_SEQ_IN] = { .type = NLA_U64 },
	[KIPSEC_SA_A_LIFETIME_SOFT] = NLA_POLICY_NESTED(lft_policy),
	[KIPSEC_SA_A_LIFETIME_HARD] = NLA_POLICY_NESTED(lft_policy),
	[KIPSEC_SA_A_ENCAP] = NLA_POLICY_NESTED(encap_policy),
	[KIPSEC_SA_A_SEL] = NLA_POLICY_NESTED(sel_policy),
};

/* SA_DEL, SA_GET: the key only. */
static const struct nla_policy sa_key_policy[KIPSEC_SA_A_MAX + 1] = {
	[KIPSEC_SA_A_SPI] = { .type = NLA_BE32 },
	[KIPSEC_SA_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_SA_A_PROTO] = { .type = NLA_U8 },
};

static const struct nla_policy sa_getspi_policy[KIPSEC_SA_A_MAX + 1] = {
	[KIPSEC_SA_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_SA_A_PROTO] = { .type = NLA_U8 },
	[KIPSEC_SA_A_SRC] = KIPSEC_NLA_ADDR,
	[KIPSEC_SA_A_MODE] = NLA_POLICY_MAX(NLA_U8, KIPSEC_MODE_MAX),
	[KIPSEC_SA_A_REQID] = { .type = NLA_U32 },
};

static const struct nla_policy tmpl_policy[KIPSEC_TMPL_A_MAX + 1] = {
	[KIPSEC_TMPL_A_PROTO] = { .type = NLA_U8 },
	[KIPSEC_TMPL_A_MODE] = NLA_POLICY_MAX(NLA_U8, KIPSEC_MODE_MAX),
	[KIPSEC_TMPL_A_SRC] = KIPSEC_NLA_ADDR,
	[KIPSEC_TMPL_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_TMPL_A_REQID] = { .type = NLA_U32 },
	[KIPSEC_TMPL_A_SPI] = { .type = NLA_BE32 },
	[KIPSEC_TMPL_A_LEVEL] = NLA_POLICY_MAX(NLA_U8, KIPSEC_LEVEL_MAX),
};

static const struct nla_policy tmpls_policy[KIPSEC_TMPLS_A_MAX + 1] = {
	[KIPSEC_TMPL] = NLA_POLICY_NESTED(tmpl_policy),
};

static const struct nla_policy pol_policy[KIPSEC_POL_A_MAX + 1] = {
	[KIPSEC_POL_A_ID] = { .type = NLA_U32 },
	[KIPSEC_POL_A_DIR] = NLA_POLICY_MAX(NLA_U8, KIPSEC_DIR_MAX),
	[KIPSEC_POL_A_PRIORITY] = { .type = NLA_U32 },
	[KIPSEC_POL_A_ACTION] = NLA_POLICY_MAX(NLA_U8, KIPSEC_ACTION_MAX),
	[KIPSEC_POL_A_SEL] = NLA_POLICY_NESTED(sel_policy),
	[KIPSEC_POL_A_TMPLS] = NLA_POLICY_NESTED(tmpls_policy),
};

/* POLICY_DEL, POLICY_GET: ID, or DIR + SEL (+ PRIORITY). */
static const struct nla_policy pol_key_policy[KIPSEC_POL_A_MAX + 1] = {
	[KIPSEC_POL_A_ID] = { .type = NLA_U32 },
	[KIPSEC_POL_A_DIR] = NLA_POLICY_MAX(NLA_U8, KIPSEC_DIR_MAX),
	[KIPSEC_POL_A_PRIORITY] = { .type = NLA_U32 },
	[KIPSEC_POL_A_SEL] = NLA_POLICY_NESTED(sel_policy),
};

static const struct nla_policy config_policy[KIPSEC_CONFIG_A_MAX + 1] = {
	[KIPSEC_CONFIG_A_DEFAULT_IN] =
		NLA_POLICY_MAX(NLA_U8, KIPSEC_ACTION_DISCARD),
	[KIPSEC_CONFIG_A_DEFAULT_OUT] =
		NLA_POLICY_MAX(NLA_U8, KIPSEC_ACTION_DISCARD),
	[KIPSEC_CONFIG_A_DEFAULT_FWD] =
		NLA_POLICY_MAX(NLA_U8, KIPSEC_ACTION_DISCARD),
};

static const struct nla_policy explain_policy[KIPSEC_EXPLAIN_A_MAX + 1] = {
	[KIPSEC_EXPLAIN_A_DIR] = NLA_POLICY_MAX(NLA_U8, KIPSEC_DIR_MAX),
	[KIPSEC_EXPLAIN_A_SRC] = KIPSEC_NLA_ADDR,
	[KIPSEC_EXPLAIN_A_DST] = KIPSEC_NLA_ADDR,
	[KIPSEC_EXPLAIN_A_PROTO] = { .type = NLA_U8 },
	[KIPSEC_EXPLAIN_A_SPORT] = { .type = NLA_U16 },
	[KIPSEC_EXPLAIN_A_DPORT] = { .type = NLA_U16 },
	[KIPSEC_EXPLAIN_A_ICMP_TYPE] = { .type = NLA_U8 },
	[KIPSEC_EXPLAIN_A_ICMP_CODE] = { .type = NLA_U8 },
};

/* Top-level policies, one per command family of requests. */
static const struct nla_policy set_config_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_CONFIG] = NLA_POLICY_NESTED(config_policy),
};

static const struct nla_policy sa_new_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = NLA_POLICY_NESTED(sa_policy),
};

static const struct nla_policy sa_key_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = NLA_POLICY_NESTED(sa_key_policy),
	[KIPSEC_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, KIPSEC_F_ALL),
};

static const struct nla_policy sa_flush_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_PROTO] = { .type = NLA_U8 },
};

static const struct nla_policy sa_getspi_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = NLA_POLICY_NESTED(sa_getspi_policy),
	[KIPSEC_A_SPI_MIN] = NLA_POLICY_MIN(NLA_U32, KIPSEC_SPI_MIN),
	[KIPSEC_A_SPI_MAX] = NLA_POLICY_MIN(NLA_U32, KIPSEC_SPI_MIN),
};

static const struct nla_policy pol_new_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_POLICY] = NLA_POLICY_NESTED(pol_policy),
};

static const struct nla_policy pol_key_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_POLICY] = NLA_POLICY_NESTED(pol_key_policy),
};

static const struct nla_policy pol_flush_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_DIR] = NLA_POLICY_MAX(NLA_U8, KIPSEC_DIR_MAX),
};

static const struct nla_policy explain_req[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_EXPLAIN] = NLA_POLICY_NESTED(explain_policy),
};

static struct genl_family kipsec_family;

/* ---- parsing ---------------------------------------------------------- */

static int parse_addr(const struct nlattr *attr, union kipsec_addr *addr,
		      u16 *family, struct netlink_ext_ack *extack)
{
	int len = nla_len(attr);

	if (len != 4 && len != 16) {
		NL_SET_ERR_MSG_ATTR(extack, attr,
				    "address must be 4 (IPv4) or 16 (IPv6) bytes");
		return -EINVAL;
	}
	memset(addr, 0, sizeof(*addr));
	memcpy(addr, nla_data(attr), len);
	*family = len == 4 ? AF_INET : AF_INET6;
	return 0;
}

static int parse_sel(const struct nlattr *nest, struct kipsec_sel *sel,
		     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_SEL_A_MAX + 1];
	u16 fam;
	int err;

	err = nla_parse_nested(tb, KIPSEC_SEL_A_MAX, nest, sel_policy, extack);
	if (err)
		return err;

	memset(sel, 0, sizeof(*sel));
	sel->sport_max = U16_MAX;
	sel->dport_max = U16_MAX;
	if (tb[KIPSEC_SEL_A_FAMILY]) {
		sel->family = nla_get_u16(tb[KIPSEC_SEL_A_FAMILY]);
		if (sel->family != AF_INET && sel->family != AF_INET6) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SEL_A_FAMILY],
					    "family must be AF_INET or AF_INET6");
			return -EAFNOSUPPORT;
		}
	}
	if (tb[KIPSEC_SEL_A_SRC]) {
		err = parse_addr(tb[KIPSEC_SEL_A_SRC], &sel->saddr, &fam,
				 extack);
		if (err)
			return err;
		if (sel->family && sel->family != fam) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SEL_A_SRC],
					    "address family differs from the selector's");
			return -EAFNOSUPPORT;
		}
		sel->family = fam;
	}
	if (tb[KIPSEC_SEL_A_DST]) {
		err = parse_addr(tb[KIPSEC_SEL_A_DST], &sel->daddr, &fam,
				 extack);
		if (err)
			return err;
		if (sel->family && sel->family != fam) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SEL_A_DST],
					    "address family differs from the selector's");
			return -EAFNOSUPPORT;
		}
		sel->family = fam;
	}
	if (!sel->family) {
		KIPSEC_MISSING(extack, nest, KIPSEC_SEL_A_FAMILY,
			       "selector needs KIPSEC_SEL_A_FAMILY or an address");
		return -EINVAL;
	}

	/* An address without a length is a host; no address is "any". */
	sel->splen = tb[KIPSEC_SEL_A_SRC] ? kipsec_max_plen(sel->family) : 0;
	sel->dplen = tb[KIPSEC_SEL_A_DST] ? kipsec_max_plen(sel->family) : 0;
	if (tb[KIPSEC_SEL_A_SRC_PLEN]) {
		sel->splen = nla_get_u8(tb[KIPSEC_SEL_A_SRC_PLEN]);
		if (sel->splen > kipsec_max_plen(sel->family)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SEL_A_SRC_PLEN],
					    "prefix length too long for the family");
			return -EINVAL;
		}
	}
	if (tb[KIPSEC_SEL_A_DST_PLEN]) {
		sel->dplen = nla_get_u8(tb[KIPSEC_SEL_A_DST_PLEN]);
		if (sel->dplen > kipsec_max_plen(sel->family)) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SEL_A_DST_PLEN],
					    "prefix length too long for the family");
			return -EINVAL;
		}
	}
	if (tb[KIPSEC_SEL_A_PROTO])
		sel->proto = nla_get_u8(tb[KIPSEC_SEL_A_PROTO]);
	if (tb[KIPSEC_SEL_A_SPORT_MIN])
		sel->sport_min = nla_get_u16(tb[KIPSEC_SEL_A_SPORT_MIN]);
	if (tb[KIPSEC_SEL_A_SPORT_MAX])
		sel->sport_max = nla_get_u16(tb[KIPSEC_SEL_A_SPORT_MAX]);
	else if (tb[KIPSEC_SEL_A_SPORT_MIN])
		sel->sport_max = sel->sport_min;
	if (tb[KIPSEC_SEL_A_DPORT_MIN])
		sel->dport_min = nla_get_u16(tb[KIPSEC_SEL_A_DPORT_MIN]);
	if (tb[KIPSEC_SEL_A_DPORT_MAX])
		sel->dport_max = nla_get_u16(tb[KIPSEC_SEL_A_DPORT_MAX]);
	else if (tb[KIPSEC_SEL_A_DPORT_MIN])
		sel->dport_max = sel->dport_min;
	if (tb[KIPSEC_SEL_A_ICMP_TYPE]) {
		sel->flags |= KIPSEC_SEL_F_ICMP_TYPE;
		sel->icmp_type = nla_get_u8(tb[KIPSEC_SEL_A_ICMP_TYPE]);
	}
	if (tb[KIPSEC_SEL_A_ICMP_CODE]) {
		sel->flags |= KIPSEC_SEL_F_ICMP_CODE;
		sel->icmp_code = nla_get_u8(tb[KIPSEC_SEL_A_ICMP_CODE]);
	}
	err = kipsec_sel_check(sel, extack);
	if (err)
		NL_SET_BAD_ATTR(extack, nest);
	return err;
}

static int parse_lft(const struct nlattr *nest, struct kipsec_lifetime *lft,
		     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_LFT_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KIPSEC_LFT_A_MAX, nest, lft_policy, extack);
	if (err)
		return err;
	memset(lft, 0, sizeof(*lft));
	if (tb[KIPSEC_LFT_A_BYTES])
		lft->bytes = nla_get_u64(tb[KIPSEC_LFT_A_BYTES]);
	if (tb[KIPSEC_LFT_A_PACKETS])
		lft->packets = nla_get_u64(tb[KIPSEC_LFT_A_PACKETS]);
	if (tb[KIPSEC_LFT_A_ADD_SECS])
		lft->add_secs = nla_get_u64(tb[KIPSEC_LFT_A_ADD_SECS]);
	if (tb[KIPSEC_LFT_A_USE_SECS])
		lft->use_secs = nla_get_u64(tb[KIPSEC_LFT_A_USE_SECS]);
	return 0;
}

static int parse_encap(const struct nlattr *nest, struct kipsec_encap_cfg *encap,
		       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_ENCAP_A_MAX + 1];
	u16 fam;
	int err;

	err = nla_parse_nested(tb, KIPSEC_ENCAP_A_MAX, nest, encap_policy,
			       extack);
	if (err)
		return err;
	memset(encap, 0, sizeof(*encap));
	if (!tb[KIPSEC_ENCAP_A_TYPE]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_ENCAP_A_TYPE,
			       "KIPSEC_ENCAP_A_TYPE is mandatory");
		return -EINVAL;
	}
	encap->type = nla_get_u8(tb[KIPSEC_ENCAP_A_TYPE]);
	if (tb[KIPSEC_ENCAP_A_SPORT])
		encap->sport = nla_get_u16(tb[KIPSEC_ENCAP_A_SPORT]);
	if (tb[KIPSEC_ENCAP_A_DPORT])
		encap->dport = nla_get_u16(tb[KIPSEC_ENCAP_A_DPORT]);
	if (tb[KIPSEC_ENCAP_A_OADDR]) {
		err = parse_addr(tb[KIPSEC_ENCAP_A_OADDR], &encap->oaddr, &fam,
				 extack);
		if (err)
			return err;
		encap->oaddr_family = fam;
	}
	return 0;
}

static int parse_alg(const struct nlattr *nest, u8 kind,
		     struct kipsec_sa_cfg *cfg, struct kipsec_alg_cfg *alg,
		     struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_ALG_A_MAX + 1];
	struct kipsec_alg_attrs attrs;
	unsigned int klen = 0;
	const u8 *key = NULL;
	u32 icv = 0;
	int err;

	err = nla_parse_nested(tb, KIPSEC_ALG_A_MAX, nest, alg_policy, extack);
	if (err)
		return err;
	if (!tb[KIPSEC_ALG_A_NAME]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_ALG_A_NAME,
			       "KIPSEC_ALG_A_NAME is mandatory");
		return -EINVAL;
	}
	if (tb[KIPSEC_ALG_A_KEY]) {
		key = nla_data(tb[KIPSEC_ALG_A_KEY]);
		klen = nla_len(tb[KIPSEC_ALG_A_KEY]);
	}
	if (tb[KIPSEC_ALG_A_ICV_BITS])
		icv = nla_get_u32(tb[KIPSEC_ALG_A_ICV_BITS]);
	attrs.name = tb[KIPSEC_ALG_A_NAME];
	attrs.key = tb[KIPSEC_ALG_A_KEY];
	attrs.icv = tb[KIPSEC_ALG_A_ICV_BITS];
	return kipsec_alg_validate(alg, nla_data(tb[KIPSEC_ALG_A_NAME]), kind,
				   cfg->id.proto, cfg->flags, key, klen, icv,
				   &attrs, extack);
}

/*
 * What an SA and a policy template share, found under different attribute
 * numbers: the protocol, the two addresses, the mode and the reqid.
 */
struct xfrm_attrs {
	int proto, src, dst, mode, reqid;
	int blame;	/* the address at fault when the families differ */
};

static const struct xfrm_attrs sa_xfrm_attrs = {
	.proto = KIPSEC_SA_A_PROTO, .src = KIPSEC_SA_A_SRC,
	.dst = KIPSEC_SA_A_DST, .mode = KIPSEC_SA_A_MODE,
	.reqid = KIPSEC_SA_A_REQID, .blame = KIPSEC_SA_A_SRC,
};

static const struct xfrm_attrs tmpl_xfrm_attrs = {
	.proto = KIPSEC_TMPL_A_PROTO, .src = KIPSEC_TMPL_A_SRC,
	.dst = KIPSEC_TMPL_A_DST, .mode = KIPSEC_TMPL_A_MODE,
	.reqid = KIPSEC_TMPL_A_REQID, .blame = KIPSEC_TMPL_A_DST,
};

/*
 * Parse those into @x (zeroed by the caller); the protocol attribute must be
 * there, the rest is optional. @x->family comes from whichever address is
 * given, and both must agree.
 */
static int parse_xfrm(struct nlattr **tb, const struct xfrm_attrs *a,
		      struct kipsec_tmpl *x, struct netlink_ext_ack *extack)
{
	u16 sfam = 0, dfam = 0;
	int err;

	x->proto = nla_get_u8(tb[a->proto]);
	if (x->proto != IPPROTO_ESP && x->proto != IPPROTO_AH) {
		NL_SET_ERR_MSG_ATTR(extack, tb[a->proto],
				    "protocol must be IPPROTO_ESP (50) or IPPROTO_AH (51)");
		return -EPROTONOSUPPORT;
	}
	if (tb[a->dst]) {
		err = parse_addr(tb[a->dst], &x->daddr, &dfam, extack);
		if (err)
			return err;
	}
	if (tb[a->src]) {
		err = parse_addr(tb[a->src], &x->saddr, &sfam, extack);
		if (err)
			return err;
	}
	if (sfam && dfam && sfam != dfam) {
		NL_SET_ERR_MSG_ATTR(extack, tb[a->blame],
				    "source and destination families differ");
		return -EAFNOSUPPORT;
	}
	x->family = dfam ?: sfam;
	if (tb[a->mode])
		x->mode = nla_get_u8(tb[a->mode]);
	if (tb[a->reqid])
		x->reqid = nla_get_u32(tb[a->reqid]);
	return 0;
}

/* Parse KIPSEC_A_SA of SA_NEW / SA_UPDATE / GETSPI into @cfg. */
static int parse_sa(const struct nlattr *nest,
		    const struct nla_policy *policy, bool need_spi,
		    struct kipsec_sa_cfg *cfg, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_SA_A_MAX + 1];
	struct kipsec_tmpl x = {};
	int err, i;

	err = nla_parse_nested(tb, KIPSEC_SA_A_MAX, nest, policy, extack);
	if (err)
		return err;
	for (i = 1; i <= KIPSEC_SA_A_MAX; i++)
		if (tb[i])
			cfg->present |= BIT_ULL(i);

	if (need_spi && !tb[KIPSEC_SA_A_SPI]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_SA_A_SPI,
			       "KIPSEC_SA_A_SPI is mandatory");
		return -EINVAL;
	}
	if (!tb[KIPSEC_SA_A_DST]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_SA_A_DST,
			       "KIPSEC_SA_A_DST is mandatory");
		return -EINVAL;
	}
	if (!tb[KIPSEC_SA_A_PROTO]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_SA_A_PROTO,
			       "KIPSEC_SA_A_PROTO is mandatory");
		return -EINVAL;
	}
	if (tb[KIPSEC_SA_A_SPI]) {
		cfg->id.spi = nla_get_be32(tb[KIPSEC_SA_A_SPI]);
		if (be32_to_cpu(cfg->id.spi) < KIPSEC_SPI_MIN) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_SA_A_SPI],
					    "SPIs 0-255 are reserved (RFC 4303)");
			return -EINVAL;
		}
	}
	err = parse_xfrm(tb, &sa_xfrm_attrs, &x, extack);
	if (err)
		return err;
	cfg->id.proto = x.proto;
	cfg->id.daddr = x.daddr;
	cfg->id.family = x.family;
	cfg->saddr = x.saddr;
	if (tb[KIPSEC_SA_A_SRC])
		cfg->src_family = x.family;
	cfg->mode = x.mode;
	cfg->reqid = x.reqid;
	if (tb[KIPSEC_SA_A_FLAGS])
		cfg->flags = nla_get_u32(tb[KIPSEC_SA_A_FLAGS]);
	if (tb[KIPSEC_SA_A_REPLAY_WINDOW])
		cfg->replay_window = nla_get_u32(tb[KIPSEC_SA_A_REPLAY_WINDOW]);
	if (tb[KIPSEC_SA_A_DF])
		cfg->df = nla_get_u8(tb[KIPSEC_SA_A_DF]);
	if (tb[KIPSEC_SA_A_SEQ_OUT])
		cfg->seq_out = nla_get_u64(tb[KIPSEC_SA_A_SEQ_OUT]);
	if (tb[KIPSEC_SA_A_SEQ_IN])
		cfg->seq_in = nla_get_u64(tb[KIPSEC_SA_A_SEQ_IN]);
	if (tb[KIPSEC_SA_A_LIFETIME_SOFT]) {
		err = parse_lft(tb[KIPSEC_SA_A_LIFETIME_SOFT], &cfg->soft,
				extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_LIFETIME_HARD]) {
		err = parse_lft(tb[KIPSEC_SA_A_LIFETIME_HARD], &cfg->hard,
				extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_ENCAP]) {
		err = parse_encap(tb[KIPSEC_SA_A_ENCAP], &cfg->encap, extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_SEL]) {
		err = parse_sel(tb[KIPSEC_SA_A_SEL], &cfg->sel, extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_ALG_AEAD]) {
		err = parse_alg(tb[KIPSEC_SA_A_ALG_AEAD], KIPSEC_ALG_KIND_AEAD,
				cfg, &cfg->aead, extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_ALG_CRYPT]) {
		err = parse_alg(tb[KIPSEC_SA_A_ALG_CRYPT], KIPSEC_ALG_KIND_CRYPT,
				cfg, &cfg->crypt, extack);
		if (err)
			return err;
	}
	if (tb[KIPSEC_SA_A_ALG_AUTH]) {
		err = parse_alg(tb[KIPSEC_SA_A_ALG_AUTH], KIPSEC_ALG_KIND_AUTH,
				cfg, &cfg->auth, extack);
		if (err)
			return err;
	}
	return 0;
}

static void sa_cfg_free(struct kipsec_sa_cfg *cfg)
{
	kfree_sensitive(cfg);
}

/* SA_DEL / SA_GET key. */
static int parse_sa_id(const struct nlattr *nest, struct kipsec_sa_id *id,
		       struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_SA_A_MAX + 1];
	int err;

	if (!nest) {
		NL_SET_ERR_MSG_MOD(extack, "KIPSEC_A_SA is mandatory");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KIPSEC_SA_A_MAX, nest, sa_key_policy,
			       extack);
	if (err)
		return err;
	if (!tb[KIPSEC_SA_A_SPI] || !tb[KIPSEC_SA_A_DST] ||
	    !tb[KIPSEC_SA_A_PROTO]) {
		KIPSEC_MISSING(extack, nest,
			       !tb[KIPSEC_SA_A_SPI] ? KIPSEC_SA_A_SPI :
			       !tb[KIPSEC_SA_A_DST] ? KIPSEC_SA_A_DST :
			       KIPSEC_SA_A_PROTO,
			       "KIPSEC_SA_A_SPI, _DST and _PROTO are mandatory");
		return -EINVAL;
	}
	memset(id, 0, sizeof(*id));
	id->spi = nla_get_be32(tb[KIPSEC_SA_A_SPI]);
	id->proto = nla_get_u8(tb[KIPSEC_SA_A_PROTO]);
	return parse_addr(tb[KIPSEC_SA_A_DST], &id->daddr, &id->family,
			  extack);
}

static int parse_tmpl(const struct nlattr *nest, struct kipsec_tmpl *t,
		      struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_TMPL_A_MAX + 1];
	int err;

	err = nla_parse_nested(tb, KIPSEC_TMPL_A_MAX, nest, tmpl_policy,
			       extack);
	if (err)
		return err;
	memset(t, 0, sizeof(*t));
	if (!tb[KIPSEC_TMPL_A_PROTO]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_TMPL_A_PROTO,
			       "KIPSEC_TMPL_A_PROTO is mandatory");
		return -EINVAL;
	}
	err = parse_xfrm(tb, &tmpl_xfrm_attrs, t, extack);
	if (err)
		return err;
	if (tb[KIPSEC_TMPL_A_SPI])
		t->spi = nla_get_be32(tb[KIPSEC_TMPL_A_SPI]);
	if (tb[KIPSEC_TMPL_A_LEVEL])
		t->level = nla_get_u8(tb[KIPSEC_TMPL_A_LEVEL]);
	if (t->mode == KIPSEC_MODE_TUNNEL &&
	    (!tb[KIPSEC_TMPL_A_SRC] || !tb[KIPSEC_TMPL_A_DST])) {
		KIPSEC_MISSING(extack, nest,
			       tb[KIPSEC_TMPL_A_SRC] ? KIPSEC_TMPL_A_DST :
						       KIPSEC_TMPL_A_SRC,
			       "tunnel mode templates need KIPSEC_TMPL_A_SRC and _DST");
		return -EINVAL;
	}
	return 0;
}

static int parse_policy(const struct nlattr *nest, struct kipsec_policy *pol,
			bool *has_id, bool *has_prio,
			struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_POL_A_MAX + 1];
	const struct nlattr *a;
	int err, rem;

	err = nla_parse_nested(tb, KIPSEC_POL_A_MAX, nest, pol_policy, extack);
	if (err)
		return err;
	*has_id = tb[KIPSEC_POL_A_ID];
	*has_prio = tb[KIPSEC_POL_A_PRIORITY];
	if (tb[KIPSEC_POL_A_ID])
		pol->id = nla_get_u32(tb[KIPSEC_POL_A_ID]);
	if (!tb[KIPSEC_POL_A_DIR]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_POL_A_DIR,
			       "KIPSEC_POL_A_DIR is mandatory");
		return -EINVAL;
	}
	if (!tb[KIPSEC_POL_A_ACTION]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_POL_A_ACTION,
			       "KIPSEC_POL_A_ACTION is mandatory");
		return -EINVAL;
	}
	if (!tb[KIPSEC_POL_A_SEL]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_POL_A_SEL,
			       "KIPSEC_POL_A_SEL is mandatory");
		return -EINVAL;
	}
	pol->dir = nla_get_u8(tb[KIPSEC_POL_A_DIR]);
	pol->action = nla_get_u8(tb[KIPSEC_POL_A_ACTION]);
	if (tb[KIPSEC_POL_A_PRIORITY])
		pol->priority = nla_get_u32(tb[KIPSEC_POL_A_PRIORITY]);
	err = parse_sel(tb[KIPSEC_POL_A_SEL], &pol->sel, extack);
	if (err)
		return err;

	if (pol->action != KIPSEC_ACTION_PROTECT) {
		if (tb[KIPSEC_POL_A_TMPLS]) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_POL_A_TMPLS],
					    "templates only go with action protect");
			return -EINVAL;
		}
		return 0;
	}
	if (!tb[KIPSEC_POL_A_TMPLS]) {
		KIPSEC_MISSING(extack, nest, KIPSEC_POL_A_TMPLS,
			       "action protect needs KIPSEC_POL_A_TMPLS");
		return -EINVAL;
	}
	nla_for_each_nested(a, tb[KIPSEC_POL_A_TMPLS], rem) {
		if (pol->ntmpls == KIPSEC_MAX_TMPLS) {
			NL_SET_ERR_MSG_ATTR(extack, a, "too many templates");
			return -E2BIG;
		}
		err = parse_tmpl(a, &pol->tmpls[pol->ntmpls], extack);
		if (err)
			return err;
		pol->ntmpls++;
	}
	if (!pol->ntmpls) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_POL_A_TMPLS],
				    "action protect needs at least one KIPSEC_TMPL");
		return -EINVAL;
	}
	return 0;
}

/* Resolve POLICY_DEL/GET/UPDATE keys (ID, or DIR + SEL [+ PRIORITY]). */
static int policy_key_id(struct kipsec_spd *spd, const struct nlattr *nest,
			 u32 *id, struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_POL_A_MAX + 1];
	struct kipsec_policy *pol;
	struct kipsec_sel sel;
	int err;

	if (!nest) {
		NL_SET_ERR_MSG_MOD(extack, "KIPSEC_A_POLICY is mandatory");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KIPSEC_POL_A_MAX, nest, pol_key_policy,
			       extack);
	if (err)
		return err;
	if (tb[KIPSEC_POL_A_ID]) {
		*id = nla_get_u32(tb[KIPSEC_POL_A_ID]);
		return 0;
	}
	if (!tb[KIPSEC_POL_A_DIR] || !tb[KIPSEC_POL_A_SEL]) {
		KIPSEC_MISSING(extack, nest,
			       tb[KIPSEC_POL_A_DIR] ? KIPSEC_POL_A_SEL :
						      KIPSEC_POL_A_DIR,
			       "give KIPSEC_POL_A_ID, or KIPSEC_POL_A_DIR and KIPSEC_POL_A_SEL");
		return -EINVAL;
	}
	err = parse_sel(tb[KIPSEC_POL_A_SEL], &sel, extack);
	if (err)
		return err;
	mutex_lock(&spd->lock);
	pol = kipsec_spd_find(spd, nla_get_u8(tb[KIPSEC_POL_A_DIR]), &sel,
			      tb[KIPSEC_POL_A_PRIORITY],
			      tb[KIPSEC_POL_A_PRIORITY] ?
			      nla_get_u32(tb[KIPSEC_POL_A_PRIORITY]) : 0);
	if (pol)
		*id = pol->id;
	mutex_unlock(&spd->lock);
	if (!pol) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_POL_A_SEL],
				    "no policy with this direction and selector");
		return -ENOENT;
	}
	return 0;
}

/* ---- replies ----------------------------------------------------------- */

static int put_addr(struct sk_buff *skb, int type,
		    const union kipsec_addr *addr, u16 family)
{
	return nla_put(skb, type, kipsec_addr_len(family), addr);
}

static int put_lft(struct sk_buff *skb, int type,
		   const struct kipsec_lifetime *lft)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest ||
	    nla_put_u64_64bit(skb, KIPSEC_LFT_A_BYTES, READ_ONCE(lft->bytes),
			      KIPSEC_LFT_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPSEC_LFT_A_PACKETS,
			      READ_ONCE(lft->packets), KIPSEC_LFT_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPSEC_LFT_A_ADD_SECS,
			      READ_ONCE(lft->add_secs), KIPSEC_LFT_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPSEC_LFT_A_USE_SECS,
			      READ_ONCE(lft->use_secs), KIPSEC_LFT_A_PAD))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_sel(struct sk_buff *skb, int type, const struct kipsec_sel *sel)
{
	struct nlattr *nest = nla_nest_start(skb, type);

	if (!nest ||
	    nla_put_u16(skb, KIPSEC_SEL_A_FAMILY, sel->family) ||
	    put_addr(skb, KIPSEC_SEL_A_SRC, &sel->saddr, sel->family) ||
	    nla_put_u8(skb, KIPSEC_SEL_A_SRC_PLEN, sel->splen) ||
	    put_addr(skb, KIPSEC_SEL_A_DST, &sel->daddr, sel->family) ||
	    nla_put_u8(skb, KIPSEC_SEL_A_DST_PLEN, sel->dplen) ||
	    nla_put_u8(skb, KIPSEC_SEL_A_PROTO, sel->proto))
		return -EMSGSIZE;
	if (kipsec_proto_has_ports(sel->proto) &&
	    (nla_put_u16(skb, KIPSEC_SEL_A_SPORT_MIN, sel->sport_min) ||
	     nla_put_u16(skb, KIPSEC_SEL_A_SPORT_MAX, sel->sport_max) ||
	     nla_put_u16(skb, KIPSEC_SEL_A_DPORT_MIN, sel->dport_min) ||
	     nla_put_u16(skb, KIPSEC_SEL_A_DPORT_MAX, sel->dport_max)))
		return -EMSGSIZE;
	if ((sel->flags & KIPSEC_SEL_F_ICMP_TYPE) &&
	    nla_put_u8(skb, KIPSEC_SEL_A_ICMP_TYPE, sel->icmp_type))
		return -EMSGSIZE;
	if ((sel->flags & KIPSEC_SEL_F_ICMP_CODE) &&
	    nla_put_u8(skb, KIPSEC_SEL_A_ICMP_CODE, sel->icmp_code))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_alg(struct sk_buff *skb, int type,
		   const struct kipsec_alg_cfg *alg, bool with_keys)
{
	struct nlattr *nest;

	if (!alg->desc)
		return 0;
	nest = nla_nest_start(skb, type);
	if (!nest || nla_put_string(skb, KIPSEC_ALG_A_NAME, alg->desc->name))
		return -EMSGSIZE;
	if (with_keys && nla_put(skb, KIPSEC_ALG_A_KEY, alg->key_len, alg->key))
		return -EMSGSIZE;
	if (alg->icv_bits &&
	    nla_put_u32(skb, KIPSEC_ALG_A_ICV_BITS, alg->icv_bits))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int put_sa(struct sk_buff *skb, int type, struct kipsec_sa *sa,
		  bool with_keys)
{
	u64 stats[__KIPSEC_SA_STAT_MAX];
	struct kipsec_lifetime cur = {};
	struct nlattr *nest, *st;
	time64_t now, used;
	u64 seq_in;
	u32 pmtu;
	int i;

	kipsec_sa_stats_fold(sa, stats);
	now = ktime_get_real_seconds();
	used = READ_ONCE(sa->use_time);
	cur.bytes = stats[KIPSEC_SA_STAT_IN_BYTES] +
		    stats[KIPSEC_SA_STAT_OUT_BYTES];
	cur.packets = stats[KIPSEC_SA_STAT_IN_PACKETS] +
		      stats[KIPSEC_SA_STAT_OUT_PACKETS];
	cur.add_secs = now - sa->add_time;
	cur.use_secs = used ? now - used : 0;
	spin_lock_bh(&sa->lock);
	seq_in = kipsec_replay_last(sa->replay);
	spin_unlock_bh(&sa->lock);

	nest = nla_nest_start(skb, type);
	if (!nest ||
	    nla_put_be32(skb, KIPSEC_SA_A_SPI, sa->id.spi) ||
	    put_addr(skb, KIPSEC_SA_A_DST, &sa->id.daddr, sa->id.family) ||
	    nla_put_u8(skb, KIPSEC_SA_A_PROTO, sa->id.proto) ||
	    put_addr(skb, KIPSEC_SA_A_SRC, &sa->saddr, sa->id.family) ||
	    nla_put_u8(skb, KIPSEC_SA_A_MODE, sa->mode) ||
	    nla_put_u32(skb, KIPSEC_SA_A_REQID, sa->reqid) ||
	    nla_put_u8(skb, KIPSEC_SA_A_STATE, READ_ONCE(sa->state)))
		return -EMSGSIZE;
	if (sa->state == KIPSEC_SA_STATE_LARVAL) {
		nla_nest_end(skb, nest);
		return 0;
	}
	if (put_alg(skb, KIPSEC_SA_A_ALG_AEAD, &sa->aead, with_keys) ||
	    put_alg(skb, KIPSEC_SA_A_ALG_CRYPT, &sa->crypt, with_keys) ||
	    put_alg(skb, KIPSEC_SA_A_ALG_AUTH, &sa->auth, with_keys) ||
	    nla_put_u32(skb, KIPSEC_SA_A_REPLAY_WINDOW, sa->replay_window) ||
	    nla_put_u32(skb, KIPSEC_SA_A_FLAGS, READ_ONCE(sa->flags)) ||
	    nla_put_u8(skb, KIPSEC_SA_A_DF, READ_ONCE(sa->df)) ||
	    nla_put_u64_64bit(skb, KIPSEC_SA_A_SEQ_OUT,
			      atomic64_read(&sa->seq_out), KIPSEC_SA_A_PAD) ||
	    nla_put_u64_64bit(skb, KIPSEC_SA_A_SEQ_IN, seq_in,
			      KIPSEC_SA_A_PAD) ||
	    put_lft(skb, KIPSEC_SA_A_LIFETIME_SOFT, &sa->soft) ||
	    put_lft(skb, KIPSEC_SA_A_LIFETIME_HARD, &sa->hard) ||
	    put_lft(skb, KIPSEC_SA_A_CURLFT, &cur))
		return -EMSGSIZE;
	pmtu = kipsec_sa_pmtu(sa);
	if (pmtu && nla_put_u32(skb, KIPSEC_SA_A_PMTU, pmtu))
		return -EMSGSIZE;
	if (sa->encap.type != KIPSEC_ENCAP_NONE) {
		struct nlattr *e = nla_nest_start(skb, KIPSEC_SA_A_ENCAP);

		if (!e ||
		    nla_put_u8(skb, KIPSEC_ENCAP_A_TYPE, sa->encap.type) ||
		    nla_put_u16(skb, KIPSEC_ENCAP_A_SPORT, sa->encap.sport) ||
		    nla_put_u16(skb, KIPSEC_ENCAP_A_DPORT, sa->encap.dport) ||
		    (sa->encap.oaddr_family &&
		     put_addr(skb, KIPSEC_ENCAP_A_OADDR, &sa->encap.oaddr,
			      sa->encap.oaddr_family)))
			return -EMSGSIZE;
		nla_nest_end(skb, e);
	}
	if (sa->has_sel && put_sel(skb, KIPSEC_SA_A_SEL, &sa->sel))
		return -EMSGSIZE;
	st = nla_nest_start(skb, KIPSEC_SA_A_STATS);
	if (!st)
		return -EMSGSIZE;
	for (i = 0; i < __KIPSEC_SA_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, kipsec_sa_stat_ids[i], stats[i],
				      KIPSEC_STAT_UNSPEC))
			return -EMSGSIZE;
	nla_nest_end(skb, st);
	nla_nest_end(skb, nest);
	return 0;
}

static int put_policy(struct sk_buff *skb, int type,
		      const struct kipsec_policy *pol)
{
	struct nlattr *nest, *tmpls, *t, *st;
	u64 hits, drops;
	unsigned int i;

	kipsec_policy_stats_fold(pol, &hits, &drops);
	nest = nla_nest_start(skb, type);
	if (!nest ||
	    nla_put_u32(skb, KIPSEC_POL_A_ID, pol->id) ||
	    nla_put_u8(skb, KIPSEC_POL_A_DIR, pol->dir) ||
	    nla_put_u32(skb, KIPSEC_POL_A_PRIORITY, pol->priority) ||
	    nla_put_u8(skb, KIPSEC_POL_A_ACTION, pol->action) ||
	    put_sel(skb, KIPSEC_POL_A_SEL, &pol->sel))
		return -EMSGSIZE;
	if (pol->ntmpls) {
		tmpls = nla_nest_start(skb, KIPSEC_POL_A_TMPLS);
		if (!tmpls)
			return -EMSGSIZE;
		for (i = 0; i < pol->ntmpls; i++) {
			const struct kipsec_tmpl *tp = &pol->tmpls[i];

			t = nla_nest_start(skb, KIPSEC_TMPL);
			if (!t ||
			    nla_put_u8(skb, KIPSEC_TMPL_A_PROTO, tp->proto) ||
			    nla_put_u8(skb, KIPSEC_TMPL_A_MODE, tp->mode) ||
			    nla_put_u32(skb, KIPSEC_TMPL_A_REQID, tp->reqid) ||
			    nla_put_be32(skb, KIPSEC_TMPL_A_SPI, tp->spi) ||
			    nla_put_u8(skb, KIPSEC_TMPL_A_LEVEL, tp->level))
				return -EMSGSIZE;
			if (tp->family &&
			    (put_addr(skb, KIPSEC_TMPL_A_SRC, &tp->saddr,
				      tp->family) ||
			     put_addr(skb, KIPSEC_TMPL_A_DST, &tp->daddr,
				      tp->family)))
				return -EMSGSIZE;
			nla_nest_end(skb, t);
		}
		nla_nest_end(skb, tmpls);
	}
	st = nla_nest_start(skb, KIPSEC_POL_A_STATS);
	if (!st ||
	    nla_put_u64_64bit(skb, KIPSEC_STAT_POL_HITS, hits,
			      KIPSEC_STAT_UNSPEC) ||
	    nla_put_u64_64bit(skb, KIPSEC_STAT_POL_DROPS, drops,
			      KIPSEC_STAT_UNSPEC))
		return -EMSGSIZE;
	nla_nest_end(skb, st);
	nla_nest_end(skb, nest);
	return 0;
}

static int put_config(struct sk_buff *skb, const struct kipsec_net *kn)
{
	struct nlattr *nest = nla_nest_start(skb, KIPSEC_A_CONFIG);

	if (!nest ||
	    nla_put_u8(skb, KIPSEC_CONFIG_A_DEFAULT_IN,
		       READ_ONCE(kn->default_action[KIPSEC_DIR_IN])) ||
	    nla_put_u8(skb, KIPSEC_CONFIG_A_DEFAULT_OUT,
		       READ_ONCE(kn->default_action[KIPSEC_DIR_OUT])) ||
	    nla_put_u8(skb, KIPSEC_CONFIG_A_DEFAULT_FWD,
		       READ_ONCE(kn->default_action[KIPSEC_DIR_FWD])))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* A reply to the requester, or a notification when @info is NULL. */
/* A message of @size payload bytes: a reply to @info, or a notification. */
static struct sk_buff *msg_new_sized(struct genl_info *info, u8 cmd,
				     size_t size, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(size, GFP_KERNEL);

	if (!skb)
		return NULL;
	if (info)
		*hdr = genlmsg_put_reply(skb, info, &kipsec_family, 0, cmd);
	else
		*hdr = genlmsg_put(skb, 0, 0, &kipsec_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static struct sk_buff *msg_new(struct genl_info *info, u8 cmd, void **hdr)
{
	return msg_new_sized(info, cmd, NLMSG_GOODSIZE, hdr);
}

/*
 * A notification for group @grp, or NULL when nobody listens: adds and
 * deletes of large tables (kipsec -batch) then build no message at all.
 */
static struct sk_buff *notify_new(struct net *net, u8 cmd, size_t size,
				  int grp, void **hdr)
{
	if (!genl_has_listeners(&kipsec_family, net, grp))
		return NULL;
	return msg_new_sized(NULL, cmd, size, hdr);
}

static void notify(struct net *net, struct sk_buff *skb, void *hdr, int grp)
{
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&kipsec_family, net, skb, 0, grp, GFP_KERNEL);
}

/* Upper bound of what put_sel() writes. */
static size_t sel_msg_size(void)
{
	return nla_total_size(0) +				/* nest */
	       nla_total_size(sizeof(u16)) +			/* family */
	       2 * nla_total_size(sizeof(struct in6_addr)) +	/* src, dst */
	       3 * nla_total_size(sizeof(u8)) +		/* plens, proto */
	       4 * nla_total_size(sizeof(u16)) +		/* ports */
	       2 * nla_total_size(sizeof(u8));			/* ICMP */
}

/* Upper bound of what put_policy() writes. */
static size_t policy_msg_size(const struct kipsec_policy *pol)
{
	size_t tmpl = nla_total_size(0) +			/* nest */
		      3 * nla_total_size(sizeof(u8)) +		/* proto, mode, level */
		      nla_total_size(sizeof(u32)) +		/* reqid */
		      nla_total_size(sizeof(__be32)) +		/* spi */
		      2 * nla_total_size(sizeof(struct in6_addr));

	return nla_total_size(0) +				/* KIPSEC_A_POLICY */
	       2 * nla_total_size(sizeof(u32)) +		/* id, priority */
	       2 * nla_total_size(sizeof(u8)) +		/* dir, action */
	       sel_msg_size() +
	       nla_total_size(0) + pol->ntmpls * tmpl +		/* templates */
	       nla_total_size(0) + 2 * nla_total_size_64bit(sizeof(u64));
}

/**
 * kipsec_acquire() - ask the IKE daemon for an SA (datapath, any context)
 * @kn: the namespace
 * @pol: the PROTECT policy without a usable SA
 * @flow: the packet's tuple
 *
 * At most one ACQUIRE per policy and second; the rest are counted as
 * KIPSEC_STAT_ACQUIRE_LIMITED. Caller holds rcu_read_lock().
 */
void kipsec_acquire(struct kipsec_net *kn, struct kipsec_policy *pol,
		    const struct kipsec_flow *flow)
{
	unsigned long next = READ_ONCE(pol->acquire_next), now = jiffies;
	struct sk_buff *skb;
	struct nlattr *nest;
	void *hdr;

	if ((next && time_before(now, next)) ||
	    cmpxchg(&pol->acquire_next, next, now + HZ) != next) {
		kipsec_stats_inc(kn->stats, KIPSEC_STAT_ACQUIRE_LIMITED);
		return;
	}
	if (!genl_has_listeners(&kipsec_family, kn->net,
				KIPSEC_MCGRP_IDX_ACQUIRE))
		goto sent;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &kipsec_family, 0, KIPSEC_CMD_ACQUIRE);
	if (!hdr)
		goto err;
	if (put_policy(skb, KIPSEC_A_POLICY, pol))
		goto err;
	nest = nla_nest_start(skb, KIPSEC_A_EXPLAIN);
	if (!nest ||
	    nla_put_u8(skb, KIPSEC_EXPLAIN_A_DIR, KIPSEC_DIR_OUT) ||
	    put_addr(skb, KIPSEC_EXPLAIN_A_SRC, &flow->saddr, flow->family) ||
	    put_addr(skb, KIPSEC_EXPLAIN_A_DST, &flow->daddr, flow->family) ||
	    nla_put_u8(skb, KIPSEC_EXPLAIN_A_PROTO, flow->proto))
		goto err;
	if (kipsec_proto_has_ports(flow->proto) &&
	    !(flow->flags & KIPSEC_FLOW_F_OPAQUE) &&
	    (nla_put_u16(skb, KIPSEC_EXPLAIN_A_SPORT, flow->sport) ||
	     nla_put_u16(skb, KIPSEC_EXPLAIN_A_DPORT, flow->dport)))
		goto err;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&kipsec_family, kn->net, skb, 0,
				KIPSEC_MCGRP_IDX_ACQUIRE, GFP_ATOMIC);
sent:
	kipsec_stats_inc(kn->stats, KIPSEC_STAT_ACQUIRE_SENT);
	return;
err:
	nlmsg_free(skb);
}

/**
 * kipsec_nl_mapping() - report a NAT-T peer's new address or port
 * @net: the namespace
 * @sa: the inbound ESP-in-UDP SA that authenticated the packet
 * @addr: the outer source address the packet came from
 * @port: its UDP source port
 *
 * Datapath, any context: at most one KIPSEC_CMD_SA_MAPPING per SA and
 * second on the "sa" group, so that an IKE daemon can move the SA pair.
 */
void kipsec_nl_mapping(struct net *net, struct kipsec_sa *sa,
		       const union kipsec_addr *addr, __be16 port)
{
	unsigned long next = READ_ONCE(sa->mapping_next), now = jiffies;
	struct sk_buff *skb;
	void *hdr;

	if ((next && time_before(now, next)) ||
	    cmpxchg(&sa->mapping_next, next, now + HZ) != next)
		return;
	if (!genl_has_listeners(&kipsec_family, net, KIPSEC_MCGRP_IDX_SA))
		return;
	skb = genlmsg_new(NLMSG_GOODSIZE, GFP_ATOMIC);
	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &kipsec_family, 0, KIPSEC_CMD_SA_MAPPING);
	if (!hdr || put_sa(skb, KIPSEC_A_SA, sa, false) ||
	    put_addr(skb, KIPSEC_A_NEW_ADDR, addr, sa->id.family) ||
	    nla_put_u16(skb, KIPSEC_A_NEW_PORT, ntohs(port))) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	genlmsg_multicast_netns(&kipsec_family, net, skb, 0,
				KIPSEC_MCGRP_IDX_SA, GFP_ATOMIC);
}

/**
 * kipsec_nl_notify_sa() - tell the "sa" group about an SA (never its keys)
 * @net: the namespace
 * @cmd: KIPSEC_CMD_SA_NEW, _UPDATE, _DEL or _EXPIRE
 * @sa: the SA
 * @hard: for _EXPIRE, the expiry is hard
 */
void kipsec_nl_notify_sa(struct net *net, u8 cmd, struct kipsec_sa *sa,
			 bool hard)
{
	struct sk_buff *skb;
	void *hdr;

	skb = notify_new(net, cmd, NLMSG_GOODSIZE, KIPSEC_MCGRP_IDX_SA,
			 &hdr);
	if (!skb)
		return;
	if (put_sa(skb, KIPSEC_A_SA, sa, false) ||
	    (hard && nla_put_flag(skb, KIPSEC_A_HARD))) {
		nlmsg_free(skb);
		return;
	}
	notify(net, skb, hdr, KIPSEC_MCGRP_IDX_SA);
}

static void notify_policy(struct net *net, u8 cmd,
			  const struct kipsec_policy *pol)
{
	struct sk_buff *skb;
	void *hdr;

	skb = notify_new(net, cmd, policy_msg_size(pol),
			 KIPSEC_MCGRP_IDX_POLICY, &hdr);
	if (!skb)
		return;
	if (put_policy(skb, KIPSEC_A_POLICY, pol)) {
		nlmsg_free(skb);
		return;
	}
	notify(net, skb, hdr, KIPSEC_MCGRP_IDX_POLICY);
}

static void notify_flush(struct net *net, u8 cmd, int type, int val, int grp)
{
	struct sk_buff *skb;
	void *hdr;

	skb = notify_new(net, cmd, nla_total_size(sizeof(u8)), grp, &hdr);
	if (!skb)
		return;
	if (val >= 0 && nla_put_u8(skb, type, val)) {
		nlmsg_free(skb);
		return;
	}
	notify(net, skb, hdr, grp);
}

static int reply_sa(struct genl_info *info, struct kipsec_sa *sa,
		    bool with_keys)
{
	struct sk_buff *skb;
	void *hdr;

	skb = msg_new(info, info->genlhdr->cmd, &hdr);
	if (!skb)
		return -ENOMEM;
	if (put_sa(skb, KIPSEC_A_SA, sa, with_keys)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

static int reply_policy(struct genl_info *info,
			const struct kipsec_policy *pol)
{
	struct sk_buff *skb;
	void *hdr;

	skb = msg_new_sized(info, info->genlhdr->cmd, policy_msg_size(pol),
			    &hdr);
	if (!skb)
		return -ENOMEM;
	if (put_policy(skb, KIPSEC_A_POLICY, pol)) {
		nlmsg_free(skb);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/* ---- commands ---------------------------------------------------------- */

static int kipsec_nl_get_stats(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_net *kn = kipsec_pernet(genl_info_net(info));
	u64 stats[__KIPSEC_STAT_MAX];
	struct sk_buff *skb;
	struct nlattr *nest;
	void *hdr;
	int i;

	skb = msg_new(info, KIPSEC_CMD_GET_STATS, &hdr);
	if (!skb)
		return -ENOMEM;
	kipsec_stats_fold(kn->stats, stats);
	if (nla_put_string(skb, KIPSEC_A_VERSION, KIPSEC_VERSION))
		goto err;
	nest = nla_nest_start(skb, KIPSEC_A_STATS);
	if (!nest)
		goto err;
	for (i = 1; i < __KIPSEC_STAT_MAX; i++)
		if (nla_put_u64_64bit(skb, i, stats[i], KIPSEC_STAT_UNSPEC))
			goto err;
	nla_nest_end(skb, nest);
	if (put_config(skb, kn) ||
	    nla_put_u32(skb, KIPSEC_A_SA_COUNT, READ_ONCE(kn->sad.count)) ||
	    nla_put_u32(skb, KIPSEC_A_POLICY_COUNT, READ_ONCE(kn->spd.count)) ||
	    nla_put_u32(skb, KIPSEC_A_INFLIGHT, kipsec_inflight_read(kn)))
		goto err;
	/* Module-wide: only for whoever may see every namespace. */
	if (netlink_capable(in, CAP_NET_ADMIN) &&
	    (nla_put_u32(skb, KIPSEC_A_LIVE_SAS,
			 atomic_read(&kipsec_live_sas)) ||
	     nla_put_u32(skb, KIPSEC_A_LIVE_POLICIES,
			 atomic_read(&kipsec_live_policies))))
		goto err;
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);

err:
	nlmsg_free(skb);
	return -EMSGSIZE;
}

static int kipsec_nl_set_config(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_net *kn = kipsec_pernet(genl_info_net(info));
	static const u8 dirs[] = {
		[KIPSEC_CONFIG_A_DEFAULT_IN] = KIPSEC_DIR_IN,
		[KIPSEC_CONFIG_A_DEFAULT_OUT] = KIPSEC_DIR_OUT,
		[KIPSEC_CONFIG_A_DEFAULT_FWD] = KIPSEC_DIR_FWD,
	};
	struct nlattr *tb[KIPSEC_CONFIG_A_MAX + 1];
	int err, i;

	if (GENL_REQ_ATTR_CHECK(info, KIPSEC_A_CONFIG)) {
		NL_SET_ERR_MSG_MOD(info->extack, "KIPSEC_A_CONFIG is mandatory");
		return -EINVAL;
	}
	err = nla_parse_nested(tb, KIPSEC_CONFIG_A_MAX,
			       info->attrs[KIPSEC_A_CONFIG], config_policy,
			       info->extack);
	if (err)
		return err;
	mutex_lock(&kn->config_lock);
	for (i = KIPSEC_CONFIG_A_DEFAULT_IN; i <= KIPSEC_CONFIG_A_DEFAULT_FWD;
	     i++)
		if (tb[i])
			WRITE_ONCE(kn->default_action[dirs[i]],
				   nla_get_u8(tb[i]));
	mutex_unlock(&kn->config_lock);
	return 0;
}

static int sa_new_or_update(struct genl_info *info, bool update)
{
	struct net *net = genl_info_net(info);
	struct kipsec_net *kn = kipsec_pernet(net);
	struct kipsec_sa_cfg *cfg;
	struct kipsec_sa *sa;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KIPSEC_A_SA)) {
		NL_SET_ERR_MSG_MOD(info->extack, "KIPSEC_A_SA is mandatory");
		return -EINVAL;
	}
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	err = parse_sa(info->attrs[KIPSEC_A_SA], sa_policy, true, cfg,
		       info->extack);
	if (err)
		goto out;

	if (update) {
		err = kipsec_sad_update(&kn->sad, cfg, &sa, info->extack);
		if (err)
			goto out;
	} else {
		err = kipsec_sa_cfg_check(cfg, false, info->extack);
		if (err)
			goto out;
		sa = kipsec_sa_create(cfg, false, info->extack);
		if (IS_ERR(sa)) {
			err = PTR_ERR(sa);
			goto out;
		}
		err = kipsec_sad_add(&kn->sad, sa, info->extack);
		if (err) {
			kipsec_sa_put(sa);
			goto out;
		}
	}
	kipsec_nl_notify_sa(net, update ? KIPSEC_CMD_SA_UPDATE :
					  KIPSEC_CMD_SA_NEW, sa, false);
	kipsec_sa_put(sa);
out:
	sa_cfg_free(cfg);
	return err;
}

static int kipsec_nl_sa_new(struct sk_buff *in, struct genl_info *info)
{
	return sa_new_or_update(info, false);
}

static int kipsec_nl_sa_update(struct sk_buff *in, struct genl_info *info)
{
	return sa_new_or_update(info, true);
}

static int kipsec_nl_sa_del(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kipsec_sa_id id;
	struct kipsec_sa *sa;
	int err;

	err = parse_sa_id(info->attrs[KIPSEC_A_SA], &id, info->extack);
	if (err)
		return err;
	sa = kipsec_sad_del(&kipsec_pernet(net)->sad, &id);
	if (!sa) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KIPSEC_A_SA],
				    "no SA with this SPI, destination and protocol");
		return -ENOENT;
	}
	kipsec_nl_notify_sa(net, KIPSEC_CMD_SA_DEL, sa, false);
	kipsec_sa_put(sa);
	return 0;
}

static bool want_keys(struct nlattr **attrs)
{
	return attrs[KIPSEC_A_FLAGS] &&
	       (nla_get_u32(attrs[KIPSEC_A_FLAGS]) & KIPSEC_F_WITH_KEYS);
}

static int kipsec_nl_sa_get(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_net *kn = kipsec_pernet(genl_info_net(info));
	struct kipsec_sa_id id;
	struct kipsec_sa *sa;
	int err;

	err = parse_sa_id(info->attrs[KIPSEC_A_SA], &id, info->extack);
	if (err)
		return err;
	sa = kipsec_sa_get(&kn->sad, &id);
	if (!sa) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KIPSEC_A_SA],
				    "no SA with this SPI, destination and protocol");
		return -ENOENT;
	}
	err = reply_sa(info, sa, want_keys(info->attrs));
	kipsec_sa_put(sa);
	return err;
}

/* cb->args[0]: next dump id to visit. */
static int kipsec_nl_sa_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kipsec_net *kn = kipsec_pernet(sock_net(skb->sk));
	struct kipsec_sad *sad = &kn->sad;
	struct nlattr *tb[KIPSEC_A_MAX + 1];
	unsigned long idx = cb->args[0];
	struct kipsec_sa *sa;
	bool keys;
	void *hdr;

	/*
	 * The core validated the request already; parsing it here again
	 * avoids the 6.1/6.12 difference in where dumps find their
	 * attributes.
	 */
	if (nlmsg_parse(cb->nlh, GENL_HDRLEN, tb, KIPSEC_A_MAX, sa_key_req,
			NULL))
		return -EINVAL;
	keys = want_keys(tb);

	mutex_lock(&sad->lock);
	cb->seq = sad->gen;
	xa_for_each_start(&sad->ids, idx, sa, cb->args[0]) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kipsec_family,
				  NLM_F_MULTI, KIPSEC_CMD_SA_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (put_sa(skb, KIPSEC_A_SA, sa, keys)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = idx + 1;
	}
	mutex_unlock(&sad->lock);
	return skb->len;
}

static int kipsec_nl_sa_flush(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	int proto = -1;

	if (info->attrs[KIPSEC_A_PROTO]) {
		proto = nla_get_u8(info->attrs[KIPSEC_A_PROTO]);
		if (proto != IPPROTO_ESP && proto != IPPROTO_AH) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[KIPSEC_A_PROTO],
					    "protocol must be IPPROTO_ESP or IPPROTO_AH");
			return -EPROTONOSUPPORT;
		}
	}
	kipsec_sad_flush(&kipsec_pernet(net)->sad, proto < 0 ? 0 : proto);
	notify_flush(net, KIPSEC_CMD_SA_FLUSH, KIPSEC_A_PROTO, proto,
		     KIPSEC_MCGRP_IDX_SA);
	return 0;
}

static int kipsec_nl_sa_getspi(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_net *kn = kipsec_pernet(genl_info_net(info));
	u32 spi_min = KIPSEC_SPI_MIN, spi_max = U32_MAX;
	struct kipsec_sa_cfg *cfg;
	struct kipsec_sa *sa;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KIPSEC_A_SA)) {
		NL_SET_ERR_MSG_MOD(info->extack, "KIPSEC_A_SA is mandatory");
		return -EINVAL;
	}
	if (info->attrs[KIPSEC_A_SPI_MIN])
		spi_min = nla_get_u32(info->attrs[KIPSEC_A_SPI_MIN]);
	if (info->attrs[KIPSEC_A_SPI_MAX])
		spi_max = nla_get_u32(info->attrs[KIPSEC_A_SPI_MAX]);
	if (spi_min > spi_max) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KIPSEC_A_SPI_MIN],
				    "KIPSEC_A_SPI_MIN above KIPSEC_A_SPI_MAX");
		return -EINVAL;
	}
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL);
	if (!cfg)
		return -ENOMEM;
	err = parse_sa(info->attrs[KIPSEC_A_SA], sa_getspi_policy, false, cfg,
		       info->extack);
	if (!err)
		err = kipsec_sa_cfg_check(cfg, true, info->extack);
	if (!err)
		err = kipsec_sad_getspi(&kn->sad, cfg, spi_min, spi_max, &sa,
					info->extack);
	if (!err) {
		err = reply_sa(info, sa, false);
		kipsec_sa_put(sa);
	}
	sa_cfg_free(cfg);
	return err;
}

static int kipsec_nl_policy_new(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kipsec_spd *spd = &kipsec_pernet(net)->spd;
	struct kipsec_policy *pol, *old = NULL;
	bool update = info->genlhdr->cmd == KIPSEC_CMD_POLICY_UPDATE;
	bool has_id, has_prio;
	u32 id = 0;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KIPSEC_A_POLICY)) {
		NL_SET_ERR_MSG_MOD(info->extack, "KIPSEC_A_POLICY is mandatory");
		return -EINVAL;
	}
	pol = kipsec_policy_alloc();
	if (!pol)
		return -ENOMEM;
	err = parse_policy(info->attrs[KIPSEC_A_POLICY], pol, &has_id,
			   &has_prio, info->extack);
	if (err)
		goto out;

	if (!update) {
		if (has_id) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    info->attrs[KIPSEC_A_POLICY],
					    "KIPSEC_POL_A_ID is assigned by the kernel");
			err = -EINVAL;
			goto out;
		}
		err = kipsec_spd_add(spd, pol, info->extack);
	} else {
		id = pol->id;
		if (!has_id) {
			struct kipsec_policy *cur;

			mutex_lock(&spd->lock);
			cur = kipsec_spd_find(spd, pol->dir, &pol->sel,
					      has_prio, pol->priority);
			if (cur)
				id = cur->id;
			mutex_unlock(&spd->lock);
			if (!cur) {
				NL_SET_ERR_MSG_ATTR(info->extack,
						    info->attrs[KIPSEC_A_POLICY],
						    "no policy with this direction and selector");
				err = -ENOENT;
				goto out;
			}
		}
		err = kipsec_spd_replace(spd, pol, id, &old, info->extack);
	}
	if (err)
		goto out;

	notify_policy(net, update ? KIPSEC_CMD_POLICY_UPDATE :
				    KIPSEC_CMD_POLICY_NEW, pol);
	kipsec_policy_put(old);
	/* The policy as added (with its id) only to a requester who asks. */
	if (info->nlhdr->nlmsg_flags & NLM_F_ECHO)
		err = reply_policy(info, pol);
out:
	kipsec_policy_put(pol);
	return err;
}

static int kipsec_nl_policy_del(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct kipsec_spd *spd = &kipsec_pernet(net)->spd;
	struct kipsec_policy *pol;
	u32 id;
	int err;

	err = policy_key_id(spd, info->attrs[KIPSEC_A_POLICY], &id,
			    info->extack);
	if (err)
		return err;
	pol = kipsec_spd_del(spd, id);
	if (!pol) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KIPSEC_A_POLICY],
				    "no such policy");
		return -ENOENT;
	}
	notify_policy(net, KIPSEC_CMD_POLICY_DEL, pol);
	kipsec_policy_put(pol);
	return 0;
}

static int kipsec_nl_policy_get(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_spd *spd = &kipsec_pernet(genl_info_net(info))->spd;
	struct kipsec_policy *pol;
	u32 id;
	int err;

	err = policy_key_id(spd, info->attrs[KIPSEC_A_POLICY], &id,
			    info->extack);
	if (err)
		return err;
	mutex_lock(&spd->lock);
	pol = xa_load(&spd->ids, id);
	if (pol)
		kipsec_policy_hold(pol);
	mutex_unlock(&spd->lock);
	if (!pol) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KIPSEC_A_POLICY],
				    "no such policy");
		return -ENOENT;
	}
	err = reply_policy(info, pol);
	kipsec_policy_put(pol);
	return err;
}

/* cb->args[0]: next policy id to visit. */
static int kipsec_nl_policy_dump(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct kipsec_spd *spd = &kipsec_pernet(sock_net(skb->sk))->spd;
	unsigned long id = cb->args[0];
	struct kipsec_policy *pol;
	void *hdr;

	mutex_lock(&spd->lock);
	cb->seq = spd->gen;
	xa_for_each_start(&spd->ids, id, pol, cb->args[0]) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kipsec_family,
				  NLM_F_MULTI, KIPSEC_CMD_POLICY_GET);
		if (!hdr)
			break;
		genl_dump_check_consistent(cb, hdr);
		if (put_policy(skb, KIPSEC_A_POLICY, pol)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = id + 1;
	}
	mutex_unlock(&spd->lock);
	return skb->len;
}

static int kipsec_nl_policy_flush(struct sk_buff *in, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	int dir = -1;

	if (info->attrs[KIPSEC_A_DIR])
		dir = nla_get_u8(info->attrs[KIPSEC_A_DIR]);
	kipsec_spd_flush(&kipsec_pernet(net)->spd, dir);
	notify_flush(net, KIPSEC_CMD_POLICY_FLUSH, KIPSEC_A_DIR, dir,
		     KIPSEC_MCGRP_IDX_POLICY);
	return 0;
}

static int put_alginfo(struct sk_buff *skb, const struct kipsec_alg_desc *d)
{
	struct nlattr *nest, *list;
	unsigned int i;

	nest = nla_nest_start(skb, KIPSEC_A_ALG);
	if (!nest ||
	    nla_put_string(skb, KIPSEC_ALGINFO_A_NAME, d->name) ||
	    nla_put_u8(skb, KIPSEC_ALGINFO_A_KIND, d->kind) ||
	    nla_put_u32(skb, KIPSEC_ALGINFO_A_IV_BYTES, d->iv_bytes) ||
	    nla_put_u32(skb, KIPSEC_ALGINFO_A_BLOCK_BYTES, d->block_bytes))
		return -EMSGSIZE;
	list = nla_nest_start(skb, KIPSEC_ALGINFO_A_KEY_BITS);
	if (!list)
		return -EMSGSIZE;
	for (i = 0; i < d->nkeys; i++)
		if (nla_put_u32(skb, i + 1, d->key_bytes[i] * 8))
			return -EMSGSIZE;
	nla_nest_end(skb, list);
	if (d->nicvs) {
		list = nla_nest_start(skb, KIPSEC_ALGINFO_A_ICV_BITS);
		if (!list)
			return -EMSGSIZE;
		for (i = 0; i < d->nicvs; i++)
			if (nla_put_u32(skb, i + 1, d->icv_bits[i]))
				return -EMSGSIZE;
		nla_nest_end(skb, list);
		if (nla_put_u32(skb, KIPSEC_ALGINFO_A_DEFAULT_ICV_BITS,
				d->default_icv_bits))
			return -EMSGSIZE;
	}
	if ((kipsec_alg_available(d) &&
	     nla_put_flag(skb, KIPSEC_ALGINFO_A_AVAILABLE)) ||
	    (d->ah && nla_put_flag(skb, KIPSEC_ALGINFO_A_AH)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int kipsec_nl_algs(struct sk_buff *in, struct genl_info *info)
{
	struct sk_buff *skb;
	unsigned int i;
	void *hdr;

	skb = msg_new(info, KIPSEC_CMD_ALGS, &hdr);
	if (!skb)
		return -ENOMEM;
	for (i = 0; i < kipsec_algs_count; i++) {
		if (put_alginfo(skb, &kipsec_algs[i])) {
			nlmsg_free(skb);
			return -EMSGSIZE;
		}
	}
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);
}

/* cb->args[0]: next table index (the table is static). */
static int kipsec_nl_algs_dump(struct sk_buff *skb,
			       struct netlink_callback *cb)
{
	void *hdr;

	for (; cb->args[0] < kipsec_algs_count; cb->args[0]++) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid,
				  cb->nlh->nlmsg_seq, &kipsec_family,
				  NLM_F_MULTI, KIPSEC_CMD_ALGS);
		if (!hdr)
			break;
		if (put_alginfo(skb, &kipsec_algs[cb->args[0]])) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
	}
	return skb->len;
}

static int parse_explain(const struct nlattr *nest, u8 *dir,
			 struct kipsec_flow *flow,
			 struct netlink_ext_ack *extack)
{
	struct nlattr *tb[KIPSEC_EXPLAIN_A_MAX + 1];
	u16 fam;
	int err;

	err = nla_parse_nested(tb, KIPSEC_EXPLAIN_A_MAX, nest, explain_policy,
			       extack);
	if (err)
		return err;
	if (!tb[KIPSEC_EXPLAIN_A_SRC] || !tb[KIPSEC_EXPLAIN_A_DST]) {
		KIPSEC_MISSING(extack, nest,
			       tb[KIPSEC_EXPLAIN_A_SRC] ? KIPSEC_EXPLAIN_A_DST :
							  KIPSEC_EXPLAIN_A_SRC,
			       "KIPSEC_EXPLAIN_A_SRC and _DST are mandatory");
		return -EINVAL;
	}
	memset(flow, 0, sizeof(*flow));
	*dir = tb[KIPSEC_EXPLAIN_A_DIR] ? nla_get_u8(tb[KIPSEC_EXPLAIN_A_DIR]) :
					  KIPSEC_DIR_OUT;
	err = parse_addr(tb[KIPSEC_EXPLAIN_A_SRC], &flow->saddr, &flow->family,
			 extack);
	if (err)
		return err;
	err = parse_addr(tb[KIPSEC_EXPLAIN_A_DST], &flow->daddr, &fam, extack);
	if (err)
		return err;
	if (fam != flow->family) {
		NL_SET_ERR_MSG_ATTR(extack, tb[KIPSEC_EXPLAIN_A_DST],
				    "source and destination families differ");
		return -EAFNOSUPPORT;
	}
	if (tb[KIPSEC_EXPLAIN_A_PROTO])
		flow->proto = nla_get_u8(tb[KIPSEC_EXPLAIN_A_PROTO]);
	if (tb[KIPSEC_EXPLAIN_A_SPORT])
		flow->sport = nla_get_u16(tb[KIPSEC_EXPLAIN_A_SPORT]);
	if (tb[KIPSEC_EXPLAIN_A_DPORT])
		flow->dport = nla_get_u16(tb[KIPSEC_EXPLAIN_A_DPORT]);
	if (tb[KIPSEC_EXPLAIN_A_ICMP_TYPE])
		flow->icmp_type = nla_get_u8(tb[KIPSEC_EXPLAIN_A_ICMP_TYPE]);
	if (tb[KIPSEC_EXPLAIN_A_ICMP_CODE])
		flow->icmp_code = nla_get_u8(tb[KIPSEC_EXPLAIN_A_ICMP_CODE]);
	return 0;
}

static int kipsec_nl_explain(struct sk_buff *in, struct genl_info *info)
{
	struct kipsec_net *kn = kipsec_pernet(genl_info_net(info));
	struct kipsec_resolution res;
	struct kipsec_flow flow;
	struct sk_buff *skb;
	struct nlattr *nest;
	unsigned int i;
	void *hdr;
	u8 dir;
	int err;

	if (GENL_REQ_ATTR_CHECK(info, KIPSEC_A_EXPLAIN)) {
		NL_SET_ERR_MSG_MOD(info->extack, "KIPSEC_A_EXPLAIN is mandatory");
		return -EINVAL;
	}
	err = parse_explain(info->attrs[KIPSEC_A_EXPLAIN], &dir, &flow,
			    info->extack);
	if (err)
		return err;
	skb = msg_new(info, KIPSEC_CMD_EXPLAIN, &hdr);
	if (!skb)
		return -ENOMEM;

	rcu_read_lock();
	kipsec_policy_resolve(&kn->spd, &kn->sad,
			      READ_ONCE(kn->default_action[dir]), dir, &flow,
			      &res);
	nest = nla_nest_start(skb, KIPSEC_A_EXPLAIN);
	err = -EMSGSIZE;
	if (!nest ||
	    nla_put_u8(skb, KIPSEC_EXPLAIN_A_DIR, dir) ||
	    put_addr(skb, KIPSEC_EXPLAIN_A_SRC, &flow.saddr, flow.family) ||
	    put_addr(skb, KIPSEC_EXPLAIN_A_DST, &flow.daddr, flow.family) ||
	    nla_put_u8(skb, KIPSEC_EXPLAIN_A_PROTO, flow.proto) ||
	    nla_put_u8(skb, KIPSEC_EXPLAIN_A_VERDICT, res.verdict) ||
	    nla_put_string(skb, KIPSEC_EXPLAIN_A_REASON, res.reason) ||
	    (res.policy &&
	     put_policy(skb, KIPSEC_EXPLAIN_A_POLICY, res.policy)))
		goto err_unlock;
	for (i = 0; i < res.nsa; i++)
		if (put_sa(skb, KIPSEC_EXPLAIN_A_SA, res.sa[i], false))
			goto err_unlock;
	rcu_read_unlock();
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return genlmsg_reply(skb, info);

err_unlock:
	rcu_read_unlock();
	nlmsg_free(skb);
	return err;
}

#define KIPSEC_OP(_cmd, _doit, _dumpit, _policy, _flags) {		\
		.cmd = _cmd,						\
		.doit = _doit,						\
		.dumpit = _dumpit,					\
		.policy = _policy,					\
		.maxattr = KIPSEC_A_MAX,				\
		.flags = _flags,					\
	}

/* No attribute accepted: without a policy the core refuses them all. */
#define KIPSEC_OP_NOATTR(_cmd, _doit, _dumpit, _flags) {		\
		.cmd = _cmd,						\
		.doit = _doit,						\
		.dumpit = _dumpit,					\
		.flags = _flags,					\
	}

static const struct genl_ops kipsec_ops[] = {
	/* Counters and configuration reveal nothing about peers or keys. */
	KIPSEC_OP_NOATTR(KIPSEC_CMD_GET_STATS, kipsec_nl_get_stats, NULL, 0),
	KIPSEC_OP(KIPSEC_CMD_SET_CONFIG, kipsec_nl_set_config, NULL,
		  set_config_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_NEW, kipsec_nl_sa_new, NULL, sa_new_req,
		  GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_UPDATE, kipsec_nl_sa_update, NULL, sa_new_req,
		  GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_DEL, kipsec_nl_sa_del, NULL, sa_key_req,
		  GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_GET, kipsec_nl_sa_get, kipsec_nl_sa_dump,
		  sa_key_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_FLUSH, kipsec_nl_sa_flush, NULL, sa_flush_req,
		  GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_SA_GETSPI, kipsec_nl_sa_getspi, NULL,
		  sa_getspi_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_POLICY_NEW, kipsec_nl_policy_new, NULL,
		  pol_new_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_POLICY_UPDATE, kipsec_nl_policy_new, NULL,
		  pol_new_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_POLICY_DEL, kipsec_nl_policy_del, NULL,
		  pol_key_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_POLICY_GET, kipsec_nl_policy_get,
		  kipsec_nl_policy_dump, pol_key_req, GENL_UNS_ADMIN_PERM),
	KIPSEC_OP(KIPSEC_CMD_POLICY_FLUSH, kipsec_nl_policy_flush, NULL,
		  pol_flush_req, GENL_UNS_ADMIN_PERM),
	/* The algorithm list is public, as /proc/crypto is. */
	KIPSEC_OP_NOATTR(KIPSEC_CMD_ALGS, kipsec_nl_algs, kipsec_nl_algs_dump,
			 0),
	KIPSEC_OP(KIPSEC_CMD_EXPLAIN, kipsec_nl_explain, NULL, explain_req,
		  GENL_UNS_ADMIN_PERM),
};

static const struct genl_multicast_group kipsec_mcgrps[] = {
	[KIPSEC_MCGRP_IDX_SA] = { .name = KIPSEC_MCGRP_SA,
				  .flags = KIPSEC_MCGRP_FLAGS },
	[KIPSEC_MCGRP_IDX_POLICY] = { .name = KIPSEC_MCGRP_POLICY,
				      .flags = KIPSEC_MCGRP_FLAGS },
	[KIPSEC_MCGRP_IDX_ACQUIRE] = { .name = KIPSEC_MCGRP_ACQUIRE,
				       .flags = KIPSEC_MCGRP_FLAGS },
};

static struct genl_family kipsec_family __ro_after_init = {
	.name = KIPSEC_GENL_NAME,
	.version = KIPSEC_GENL_VERSION,
	.netnsok = true,
	/* Strict validation (header, attributes) for every command. */
	.resv_start_op = 0,
	.ops = kipsec_ops,
	.n_ops = ARRAY_SIZE(kipsec_ops),
	.mcgrps = kipsec_mcgrps,
	.n_mcgrps = ARRAY_SIZE(kipsec_mcgrps),
	.module = THIS_MODULE,
};

/**
 * kipsec_genl_init() - register the "kipsec" family
 *
 * Return: 0 or a negative errno.
 */
int __init kipsec_genl_init(void)
{
	return genl_register_family(&kipsec_family);
}

/**
 * kipsec_genl_exit() - unregister the "kipsec" family
 *
 * Waits for running handlers; none starts afterwards.
 */
void kipsec_genl_exit(void)
{
	genl_unregister_family(&kipsec_family);
}
