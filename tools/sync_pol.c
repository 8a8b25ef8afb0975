// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec sync-xfrm: kipsec's policies from charon's CHILD_SAs, read over
 * VICI (the XFRM events carry no traffic selectors).
 *
 *   live child (list-sas)      -> out, in and (tunnel) fwd PROTECT policies
 *                                 per pair of selectors, template reqid =
 *                                 the child's
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "kipsec.h"
#include "nl.h"
#include "sync.h"

#define BYPASS_PRIORITY 1
#define CHILD_PRIORITY_BASE 1000

/* A policy sync-xfrm installed; key describes it for reconciliation. */
struct ipol {
	char key[256];
	uint32_t id;
	bool want;
};

static struct {
	struct ipol *pols;
	size_t npols, cappols;
	uint32_t bypass_ids[32];
	unsigned int nbypass;
} p;

size_t pol_count(void)
{
	return p.npols;
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

static const enum mnl_attr_data_type top_types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_POLICY] = MNL_TYPE_NESTED,
};

static const struct nl_pol top_pol = { KIPSEC_A_MAX, top_types };

static int pol_id_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const struct nlattr *a[KIPSEC_POL_A_MAX + 1];

	nl_parse_msg(nlh, &top_pol, tb);
	nl_parse_nest(tb[KIPSEC_A_POLICY], &policy_nl_pol, a);
	if (a[KIPSEC_POL_A_ID])
		*(uint32_t *)data = mnl_attr_get_u32(a[KIPSEC_POL_A_ID]);
	return 0;
}

static void policy_del(uint32_t id)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_POLICY_DEL, 0);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);

	mnl_attr_put_u32(nlh, KIPSEC_POL_A_ID, id);
	mnl_attr_nest_end(nlh, n);
	nl_request(nlh, NULL, NULL, "policy del");
}

/* A traffic selector as charon prints it: PREFIX[PROTO/PORT] */
struct ts {
	uint16_t family;
	uint8_t addr[16];
	uint8_t plen;
	uint8_t proto;
	bool port;
	uint16_t pmin, pmax;
};

static bool parse_ts(const char *str, struct ts *t)
{
	char a[128], *slash, *br;
	unsigned int plen;

	memset(t, 0, sizeof(*t));
	snprintf(a, sizeof(a), "%s", str);
	br = strchr(a, '[');
	if (br) {
		char *q = br + 1, *end = strchr(q, ']'), *port;
		struct protoent *pe;

		if (!end)
			return false;
		*end = '\0';
		*br = '\0';
		port = strchr(q, '/');
		if (port)
			*port++ = '\0';
		if (*q) {
			pe = getprotobyname(q);
			if (pe)
				t->proto = pe->p_proto;
			else if (sscanf(q, "%hhu", &t->proto) != 1)
				return false;
		}
		if (port && *port && has_ports(t->proto)) {
			struct servent *se = getservbyname(port, NULL);
			unsigned int lo, hi;

			t->port = true;
			if (se) {
				t->pmin = ntohs(se->s_port);
				t->pmax = t->pmin;
			} else if (sscanf(port, "%u-%u", &lo, &hi) == 2) {
				t->pmin = lo;
				t->pmax = hi;
			} else if (sscanf(port, "%u", &lo) == 1) {
				t->pmin = lo;
				t->pmax = lo;
			} else {
				return false;
			}
		}
	}
	slash = strchr(a, '/');
	if (slash)
		*slash++ = '\0';
	t->family = strchr(a, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(t->family, a, t->addr) != 1)
		return false;	/* ranges (a..b) are not prefixes */
	plen = alen(t->family) * 8;
	if (slash && (sscanf(slash, "%u", &plen) != 1 ||
		      plen > alen(t->family) * 8))
		return false;
	t->plen = plen;
	return true;
}

struct child {
	uint32_t reqid;
	bool tunnel;
	uint8_t proto;
	uint16_t family;
	uint8_t local[16], remote[16];
};

static void put_ts_sel(struct nlmsghdr *nlh, const struct ts *src,
		       const struct ts *dst)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_POL_A_SEL);
	uint8_t proto = src->proto ? src->proto : dst->proto;

	mnl_attr_put_u16(nlh, KIPSEC_SEL_A_FAMILY, src->family);
	mnl_attr_put(nlh, KIPSEC_SEL_A_SRC, alen(src->family), src->addr);
	mnl_attr_put_u8(nlh, KIPSEC_SEL_A_SRC_PLEN, src->plen);
	mnl_attr_put(nlh, KIPSEC_SEL_A_DST, alen(dst->family), dst->addr);
	mnl_attr_put_u8(nlh, KIPSEC_SEL_A_DST_PLEN, dst->plen);
	if (proto)
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_PROTO, proto);
	if (src->port) {
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MIN, src->pmin);
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MAX, src->pmax);
	}
	if (dst->port) {
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MIN, dst->pmin);
		mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MAX, dst->pmax);
	}
	mnl_attr_nest_end(nlh, n);
}

/*
 * Makes sure the PROTECT policy for (dir, src -> dst) of child c exists;
 * marks it wanted. Outbound: local -> remote; in and fwd: remote -> local.
 */
static void want_policy(const struct child *c, uint8_t dir,
			const struct ts *src, const struct ts *dst)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	const uint8_t *ts = dir == KIPSEC_DIR_OUT ? c->local : c->remote;
	const uint8_t *td = dir == KIPSEC_DIR_OUT ? c->remote : c->local;
	char key[256], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char e[INET6_ADDRSTRLEN], f[INET6_ADDRSTRLEN];
	struct nlmsghdr *nlh;
	struct nlattr *n, *t, *tm;
	uint32_t id = 0, prio;
	struct ipol *ip;

	snprintf(key, sizeof(key), "%s %s/%u %s/%u %u %u-%u %u-%u %s %s>%s %u %u",
		 dir_name(dir), astr(src->family, src->addr, a, sizeof(a)),
		 src->plen, astr(dst->family, dst->addr, b, sizeof(b)),
		 dst->plen, src->proto | dst->proto, src->pmin, src->pmax,
		 dst->pmin, dst->pmax, c->tunnel ? "tunnel" : "transport",
		 astr(c->family, ts, e, sizeof(e)),
		 astr(c->family, td, f, sizeof(f)), c->proto, c->reqid);
	for (size_t i = 0; i < p.npols; i++) {
		if (!strcmp(p.pols[i].key, key)) {
			p.pols[i].want = true;
			return;
		}
	}
	/* more specific selectors first (lower priority value wins) */
	prio = CHILD_PRIORITY_BASE + 2 * (256 - src->plen - dst->plen) +
	       !(src->proto | dst->proto);
	nlh = nl_msg(buf, KIPSEC_CMD_POLICY_NEW, 0);
	n = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, dir);
	mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, prio);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_ACTION, KIPSEC_ACTION_PROTECT);
	put_ts_sel(nlh, src, dst);
	t = mnl_attr_nest_start(nlh, KIPSEC_POL_A_TMPLS);
	tm = mnl_attr_nest_start(nlh, KIPSEC_TMPL);
	mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_PROTO, c->proto);
	mnl_attr_put_u8(nlh, KIPSEC_TMPL_A_MODE, c->tunnel ? KIPSEC_MODE_TUNNEL :
			KIPSEC_MODE_TRANSPORT);
	if (c->tunnel) {
		mnl_attr_put(nlh, KIPSEC_TMPL_A_SRC, alen(c->family), ts);
		mnl_attr_put(nlh, KIPSEC_TMPL_A_DST, alen(c->family), td);
	}
	mnl_attr_put_u32(nlh, KIPSEC_TMPL_A_REQID, c->reqid);
	mnl_attr_nest_end(nlh, tm);
	mnl_attr_nest_end(nlh, t);
	mnl_attr_nest_end(nlh, n);
	if (nl_request(nlh, pol_id_cb, &id, "policy add") || !id) {
		slog(LOG_WARN, "policy %s: refused by kipsec", key);
		return;
	}
	slog(LOG_INFO, "added policy %u: %s", id, key);
	p.pols = sync_grow(p.pols, &p.cappols, p.npols, sizeof(*p.pols));
	ip = &p.pols[p.npols++];
	snprintf(ip->key, sizeof(ip->key), "%s", key);
	ip->id = id;
	ip->want = true;
}

static void want_child(const struct vici_node *ike, const struct vici_node *ch)
{
	const char *reqid = vici_str(ch, "reqid"), *mode = vici_str(ch, "mode");
	const char *proto = vici_str(ch, "protocol");
	const char *lh = vici_str(ike, "local-host");
	const char *rh = vici_str(ike, "remote-host");
	struct vici_node *lts = vici_get(ch, "local-ts");
	struct vici_node *rts = vici_get(ch, "remote-ts");
	struct child c = { 0 };

	if (!reqid || !mode || !lh || !rh || !lts || !rts)
		return;
	c.reqid = strtoul(reqid, NULL, 10);
	c.tunnel = !strcmp(mode, "TUNNEL");
	if (!c.tunnel && strcmp(mode, "TRANSPORT")) {
		slog(LOG_WARN, "child %s: mode %s not supported", ch->name, mode);
		return;
	}
	c.proto = proto && !strcmp(proto, "AH") ? IPPROTO_AH : IPPROTO_ESP;
	c.family = strchr(lh, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, lh, c.local) != 1 ||
	    inet_pton(c.family, rh, c.remote) != 1)
		return;
	for (struct vici_node *l = lts->child; l; l = l->next) {
		for (struct vici_node *r = rts->child; r; r = r->next) {
			struct ts tl, tr;

			if (!l->value || !r->value)
				continue;
			if (!parse_ts(l->value, &tl) || !parse_ts(r->value, &tr)) {
				slog(LOG_WARN, "child %s: traffic selectors %s === %s "
				     "not supported", ch->name, l->value, r->value);
				continue;
			}
			if (tl.family != tr.family)
				continue;
			want_policy(&c, KIPSEC_DIR_OUT, &tl, &tr);
			want_policy(&c, KIPSEC_DIR_IN, &tr, &tl);
			if (c.tunnel)
				want_policy(&c, KIPSEC_DIR_FWD, &tr, &tl);
		}
	}
}

static bool child_live(const char *state)
{
	return state && (!strcmp(state, "INSTALLED") ||
			 !strcmp(state, "UPDATING") ||
			 !strcmp(state, "REKEYING") || !strcmp(state, "REKEYED"));
}

void walk_children(const struct vici_node *msg, child_fn fn, void *data)
{
	for (struct vici_node *ike = msg->child; ike; ike = ike->next) {
		struct vici_node *chs;

		if (ike->kind != VICI_SECTION)
			continue;
		chs = vici_get(ike, "child-sas");
		for (struct vici_node *ch = chs ? chs->child : NULL; ch;
		     ch = ch->next)
			if (ch->kind == VICI_SECTION)
				fn(ike, ch, data);
	}
}

static void list_child(const struct vici_node *ike, const struct vici_node *ch,
		       void *data)
{
	const char *except = data, *id = vici_str(ch, "uniqueid");

	if (!child_live(vici_str(ch, "state")))
		return;
	if (except && id && !strcmp(id, except))
		return;
	want_child(ike, ch);
}

static void list_sa_cb(const char *name, struct vici_node *msg, void *data)
{
	if (!strcmp(name, "list-sa"))
		walk_children(msg, list_child, data);
}

/*
 * Policies follow charon's live children: every policy they need is
 * installed, every other one sync-xfrm installed is removed. except is a
 * child reported down that list-sas may still show.
 */
int pol_reconcile(int vici, const char *except)
{
	struct vici_node *resp;
	size_t i;

	for (i = 0; i < p.npols; i++)
		p.pols[i].want = false;
	if (vici_command(vici, "list-sas", NULL, "list-sa", list_sa_cb,
			 (void *)except, &resp)) {
		slog(LOG_WARN, "vici list-sas: %s", strerror(errno));
		return -1;
	}
	vici_free(resp);
	for (i = 0; i < p.npols;) {
		if (p.pols[i].want) {
			i++;
			continue;
		}
		slog(LOG_INFO, "removing policy %u: %s", p.pols[i].id,
		     p.pols[i].key);
		policy_del(p.pols[i].id);
		p.pols[i] = p.pols[--p.npols];
	}
	return 0;
}

static void bypass_add(uint16_t family, uint8_t dir, bool sport, uint16_t port)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_POLICY_NEW, 0);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_POLICY);
	struct nlattr *sel;
	uint32_t id = 0;

	mnl_attr_put_u8(nlh, KIPSEC_POL_A_DIR, dir);
	mnl_attr_put_u32(nlh, KIPSEC_POL_A_PRIORITY, BYPASS_PRIORITY);
	mnl_attr_put_u8(nlh, KIPSEC_POL_A_ACTION, KIPSEC_ACTION_BYPASS);
	sel = mnl_attr_nest_start(nlh, KIPSEC_POL_A_SEL);
	mnl_attr_put_u16(nlh, KIPSEC_SEL_A_FAMILY, family);
	mnl_attr_put_u8(nlh, KIPSEC_SEL_A_PROTO, IPPROTO_UDP);
	mnl_attr_put_u16(nlh, sport ? KIPSEC_SEL_A_SPORT_MIN :
			 KIPSEC_SEL_A_DPORT_MIN, port);
	mnl_attr_put_u16(nlh, sport ? KIPSEC_SEL_A_SPORT_MAX :
			 KIPSEC_SEL_A_DPORT_MAX, port);
	mnl_attr_nest_end(nlh, sel);
	mnl_attr_nest_end(nlh, n);
	if (!nl_request(nlh, pol_id_cb, &id, "bypass policy add") && id &&
	    p.nbypass < ARRAY_SIZE(p.bypass_ids))
		p.bypass_ids[p.nbypass++] = id;
}

/* IKE (UDP 500 and 4500) is never held by a PROTECT policy. */
void pol_bypass_install(void)
{
	static const uint16_t fams[] = { AF_INET, AF_INET6 };
	static const uint16_t ports[] = { 500, 4500 };

	for (unsigned int f = 0; f < ARRAY_SIZE(fams); f++)
		for (uint8_t d = KIPSEC_DIR_IN; d <= KIPSEC_DIR_OUT; d++)
			for (unsigned int i = 0; i < ARRAY_SIZE(ports); i++) {
				bypass_add(fams[f], d, true, ports[i]);
				bypass_add(fams[f], d, false, ports[i]);
			}
	slog(LOG_INFO, "installed %u IKE bypass policies (UDP 500, 4500)",
	     p.nbypass);
}

void pol_cleanup(void)
{
	for (size_t i = 0; i < p.npols; i++)
		policy_del(p.pols[i].id);
	for (unsigned int i = 0; i < p.nbypass; i++)
		policy_del(p.bypass_ids[i]);
	p.npols = 0;
	p.nbypass = 0;
}
