// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec sync-xfrm: kipsec's policies from charon's CHILD_SAs, read over
 * VICI (the XFRM events carry no traffic selectors), and on-demand tunnels.
 *
 *   live child (list-sas)      -> out, in and (tunnel) fwd PROTECT policies
 *                                 per pair of selectors, template reqid =
 *                                 the child's
 *   configured child that is down and on demand (list-policies: charon
 *   traps it, start_action = trap; or any, --on-demand all; list-conns
 *   gives its selectors and the IKE addresses)
 *                              -> an out PROTECT policy whose template no SA
 *                                 fits (reqid SYNC_REQID): kipsec drops the
 *                                 traffic (fail closed) and sends ACQUIRE
 *   kipsec ACQUIRE for such a policy
 *                              -> VICI initiate of the child, at most once
 *                                 per child and INITIATE_HOLD_SECS, and not
 *                                 while its IKE_SA is still being set up
 *
 * When the child comes up its own policies win over the on-demand one (a
 * lower priority value for the same selectors), which then goes.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libmnl/libmnl.h>

#include "kipsec.h"
#include "nl.h"
#include "sync.h"

#define BYPASS_PRIORITY 1
#define CHILD_PRIORITY_BASE 1000
#define INITIATE_HOLD_SECS 10
#define NAME_LEN 64

/* A configured child that is on demand while it is down. */
struct od_child {
	char ike[NAME_LEN], child[NAME_LEN];
	time_t asked;		/* last initiate sent */
	bool want, warned;
};

/* A policy sync-xfrm installed; key describes it for reconciliation. */
struct ipol {
	char key[320];
	uint32_t id;
	bool want;
	bool on_demand;
	char ike[NAME_LEN], child[NAME_LEN];	/* on demand: whose */
};

static struct {
	struct ipol *pols;
	size_t npols, cappols;
	struct od_child *ods;
	size_t nods, capods;
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

/* What a policy's template says: the child's SA, or none (on demand). */
struct child {
	uint32_t reqid;
	bool tunnel;
	uint8_t proto;
	uint16_t family;
	uint8_t local[16], remote[16];
	const char *ike, *name;	/* on demand: the child to initiate */
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
	char key[320], a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
	char e[INET6_ADDRSTRLEN], f[INET6_ADDRSTRLEN];
	struct nlattr *n, *t, *tm;
	bool od = !!c->ike;
	struct nlmsghdr *nlh;
	uint32_t id = 0, prio;
	struct ipol *ip;

	snprintf(key, sizeof(key), "%s %s/%u %s/%u %u %u-%u %u-%u %s %s>%s %u %u%s%s%s%s",
		 dir_name(dir), astr(src->family, src->addr, a, sizeof(a)),
		 src->plen, astr(dst->family, dst->addr, b, sizeof(b)),
		 dst->plen, src->proto | dst->proto, src->pmin, src->pmax,
		 dst->pmin, dst->pmax, c->tunnel ? "tunnel" : "transport",
		 astr(c->family, ts, e, sizeof(e)),
		 astr(c->family, td, f, sizeof(f)), c->proto, c->reqid,
		 od ? " on demand " : "", od ? c->ike : "", od ? "/" : "",
		 od ? c->name : "");
	for (size_t i = 0; i < p.npols; i++) {
		if (!strcmp(p.pols[i].key, key)) {
			p.pols[i].want = true;
			return;
		}
	}
	/*
	 * More specific selectors first (a lower value wins); for the same
	 * selectors a live child's policy before an on-demand one.
	 */
	prio = CHILD_PRIORITY_BASE + 4 * (256 - src->plen - dst->plen) +
	       2 * od + !(src->proto | dst->proto);
	nlh = nl_msg(buf, KIPSEC_CMD_POLICY_NEW, NLM_F_ECHO);
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
	memset(ip, 0, sizeof(*ip));
	snprintf(ip->key, sizeof(ip->key), "%s", key);
	ip->id = id;
	ip->want = true;
	if (od) {
		ip->on_demand = true;
		snprintf(ip->ike, sizeof(ip->ike), "%s", c->ike);
		snprintf(ip->child, sizeof(ip->child), "%s", c->name);
	}
}

/* The name of a child section: 5.9 names it NAME-UNIQUEID, with name = NAME. */
static const char *child_name(const struct vici_node *ch)
{
	const char *n = vici_str(ch, "name");

	return n ? n : ch->name;
}

/* Policies for each pair of local and remote selectors (lists lts, rts). */
static void want_pairs(const struct child *c, const char *name,
		       const struct vici_node *lts, const struct vici_node *rts)
{
	for (struct vici_node *l = lts->child; l; l = l->next) {
		for (struct vici_node *r = rts->child; r; r = r->next) {
			struct ts tl, tr;

			if (!l->value || !r->value)
				continue;
			if (!parse_ts(l->value, &tl) || !parse_ts(r->value, &tr)) {
				slog(LOG_WARN, "child %s: traffic selectors %s === %s "
				     "not supported", name, l->value, r->value);
				continue;
			}
			if (tl.family != tr.family)
				continue;
			want_policy(c, KIPSEC_DIR_OUT, &tl, &tr);
			if (c->ike)
				continue;	/* on demand: out only */
			want_policy(c, KIPSEC_DIR_IN, &tr, &tl);
			if (c->tunnel)
				want_policy(c, KIPSEC_DIR_FWD, &tr, &tl);
		}
	}
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
		slog(LOG_WARN, "child %s: mode %s not supported",
		     child_name(ch), mode);
		return;
	}
	c.proto = proto && !strcmp(proto, "AH") ? IPPROTO_AH : IPPROTO_ESP;
	c.family = strchr(lh, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(c.family, lh, c.local) != 1 ||
	    inet_pton(c.family, rh, c.remote) != 1)
		return;
	want_pairs(&c, child_name(ch), lts, rts);
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

/* Names "IKE/CHILD", collected from VICI answers. */
struct names {
	char (*v)[2 * NAME_LEN];
	size_t n, cap;
};

static void names_add(struct names *ns, const char *ike, const char *child)
{
	ns->v = sync_grow(ns->v, &ns->cap, ns->n, sizeof(*ns->v));
	snprintf(ns->v[ns->n++], sizeof(*ns->v), "%s/%s", ike, child);
}

static bool names_has(const struct names *ns, const char *ike,
		      const char *child)
{
	char k[2 * NAME_LEN];

	snprintf(k, sizeof(k), "%s/%s", ike, child);
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], k))
			return true;
	return false;
}

struct walk {
	const char *except;
	struct names live, trapped;
};

static void list_child(const struct vici_node *ike, const struct vici_node *ch,
		       void *data)
{
	const char *id = vici_str(ch, "uniqueid");
	struct walk *w = data;

	if (!child_live(vici_str(ch, "state")))
		return;
	if (w->except && id && !strcmp(id, w->except))
		return;
	names_add(&w->live, ike->name, child_name(ch));
	want_child(ike, ch);
}

static void list_sa_cb(const char *name, struct vici_node *msg, void *data)
{
	if (!strcmp(name, "list-sa"))
		walk_children(msg, list_child, data);
}

/* list-policy {NAME {child = C, ike = I, mode = ...}}: charon's traps */
static void list_policy_cb(const char *name, struct vici_node *msg, void *data)
{
	struct walk *w = data;

	if (strcmp(name, "list-policy"))
		return;
	for (struct vici_node *n = msg->child; n; n = n->next) {
		const char *ike = vici_str(n, "ike"), *child = vici_str(n, "child");

		if (n->kind == VICI_SECTION && ike && child)
			names_add(&w->trapped, ike, child);
	}
}

static struct od_child *od_find(const char *ike, const char *child)
{
	for (size_t i = 0; i < p.nods; i++)
		if (!strcmp(p.ods[i].ike, ike) && !strcmp(p.ods[i].child, child))
			return &p.ods[i];
	return NULL;
}

static struct od_child *od_get(const char *ike, const char *child)
{
	struct od_child *o = od_find(ike, child);

	if (o)
		return o;
	p.ods = sync_grow(p.ods, &p.capods, p.nods, sizeof(*p.ods));
	o = &p.ods[p.nods++];
	memset(o, 0, sizeof(*o));
	snprintf(o->ike, sizeof(o->ike), "%s", ike);
	snprintf(o->child, sizeof(o->child), "%s", child);
	return o;
}

/* The first item of a list, if it is an IP address. */
static bool first_addr(const struct vici_node *list, uint16_t *family,
		       uint8_t *addr)
{
	const char *v = list && list->child ? list->child->value : NULL;

	if (!v)
		return false;
	*family = strchr(v, ':') ? AF_INET6 : AF_INET;
	return inet_pton(*family, v, addr) == 1;
}

/* charon's "dynamic" selector is the IKE address itself. */
static void resolve_dynamic(struct vici_node *list, uint16_t family,
			    const uint8_t *addr)
{
	for (struct vici_node *i = list->child; i; i = i->next) {
		char a[INET6_ADDRSTRLEN], *v;

		if (!i->value || strncmp(i->value, "dynamic", 7))
			continue;
		if (asprintf(&v, "%s%s", astr(family, addr, a, sizeof(a)),
			     i->value + 7) < 0)
			continue;
		free(i->value);
		i->value = v;
	}
}

struct conns {
	enum on_demand mode;
	struct walk *w;
};

/* A configured child that is down: its on-demand policy, if it is one. */
static void od_child(const struct vici_node *conn, struct vici_node *ch,
		     const struct conns *cs)
{
	const char *mode = vici_str(ch, "mode"), *ike = conn->name;
	struct vici_node *lts = vici_get(ch, "local-ts");
	struct vici_node *rts = vici_get(ch, "remote-ts");
	struct child c = { .reqid = SYNC_REQID, .proto = IPPROTO_ESP };
	uint16_t rfamily;
	struct od_child *o;

	if (names_has(&cs->w->live, ike, ch->name))
		return;
	if (cs->mode == ON_DEMAND_TRAP &&
	    !names_has(&cs->w->trapped, ike, ch->name))
		return;
	if (!mode || !lts || !rts ||
	    (strcmp(mode, "TUNNEL") && strcmp(mode, "TRANSPORT")))
		return;
	o = od_get(ike, ch->name);
	o->want = true;
	if (!first_addr(vici_get(conn, "local_addrs"), &c.family, c.local) ||
	    !first_addr(vici_get(conn, "remote_addrs"), &rfamily, c.remote) ||
	    rfamily != c.family) {
		if (!o->warned)
			slog(LOG_WARN, "child %s of %s: not on demand: local_addrs "
			     "and remote_addrs must start with IP addresses of "
			     "one family", ch->name, ike);
		o->warned = true;
		return;
	}
	c.tunnel = !strcmp(mode, "TUNNEL");
	c.ike = ike;
	c.name = ch->name;
	resolve_dynamic(lts, c.family, c.local);
	resolve_dynamic(rts, c.family, c.remote);
	want_pairs(&c, ch->name, lts, rts);
}

static void list_conn_cb(const char *name, struct vici_node *msg, void *data)
{
	const struct conns *cs = data;

	if (strcmp(name, "list-conn"))
		return;
	for (struct vici_node *conn = msg->child; conn; conn = conn->next) {
		struct vici_node *chs = vici_get(conn, "children");

		if (conn->kind != VICI_SECTION || !chs)
			continue;
		for (struct vici_node *ch = chs->child; ch; ch = ch->next)
			if (ch->kind == VICI_SECTION)
				od_child(conn, ch, cs);
	}
}

/* A VICI command that streams events; its reply is only checked. */
static int stream(int vici, const char *cmd, const struct vici_msg *m,
		  const char *event, vici_event_cb cb, void *data)
{
	struct vici_node *resp;

	if (vici_command(vici, cmd, m, event, cb, data, &resp)) {
		slog(LOG_WARN, "vici %s: %s", cmd, strerror(errno));
		return -1;
	}
	vici_free(resp);
	return 0;
}

int pol_reconcile(int vici, enum on_demand mode, const char *except)
{
	struct walk w = { .except = except };
	struct conns cs = { mode, &w };
	struct vici_msg m = { 0 };
	int err = 0;
	size_t i;

	for (i = 0; i < p.npols; i++)
		p.pols[i].want = false;
	for (i = 0; i < p.nods; i++)
		p.ods[i].want = false;
	if (stream(vici, "list-sas", NULL, "list-sa", list_sa_cb, &w))
		err = -1;
	if (!err && mode == ON_DEMAND_TRAP) {
		vici_kv(&m, "trap", "yes");
		err = stream(vici, "list-policies", &m, "list-policy",
			     list_policy_cb, &w);
		vici_msg_free(&m);
	}
	if (!err && mode != ON_DEMAND_NONE)
		err = stream(vici, "list-conns", NULL, "list-conn",
			     list_conn_cb, &cs);
	free(w.live.v);
	free(w.trapped.v);
	if (err)
		return -1;
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
	for (i = 0; i < p.nods;) {
		if (p.ods[i].want)
			i++;
		else
			p.ods[i] = p.ods[--p.nods];
	}
	return 0;
}

/* What charon is doing with connection ike and its child. */
struct ike_state {
	const char *ike, *child;
	bool live, busy;
};

static bool list_has(const struct vici_node *list, const char *item)
{
	for (struct vici_node *i = list ? list->child : NULL; i; i = i->next)
		if (i->value && !strcmp(i->value, item))
			return true;
	return false;
}

static void state_child(const struct vici_node *ike, const struct vici_node *ch,
			void *data)
{
	struct ike_state *st = data;

	if (!strcmp(ike->name, st->ike) && !strcmp(child_name(ch), st->child) &&
	    child_live(vici_str(ch, "state")))
		st->live = true;
}

static void state_cb(const char *name, struct vici_node *msg, void *data)
{
	struct ike_state *st = data;

	if (strcmp(name, "list-sa"))
		return;
	walk_children(msg, state_child, data);
	for (struct vici_node *ike = msg->child; ike; ike = ike->next) {
		const char *state = vici_str(ike, "state");

		if (ike->kind != VICI_SECTION || strcmp(ike->name, st->ike))
			continue;
		/* the IKE_SA is being set up, or creates a CHILD_SA */
		if ((state && !strcmp(state, "CONNECTING")) ||
		    list_has(vici_get(ike, "tasks-active"), "CHILD_CREATE") ||
		    list_has(vici_get(ike, "tasks-queued"), "CHILD_CREATE"))
			st->busy = true;
	}
}

void pol_acquire(int vici, uint32_t id, const char *tuple)
{
	struct ike_state st = { 0 };
	struct vici_msg m = { 0 };
	struct vici_node *resp;
	struct od_child *o;
	struct ipol *ip = NULL;
	const char *ok;
	time_t now = time(NULL);

	for (size_t i = 0; i < p.npols; i++)
		if (p.pols[i].id == id)
			ip = &p.pols[i];
	if (!ip || !ip->on_demand) {
		slog(LOG_DEBUG, "ACQUIRE %s (policy %u): not an on-demand policy",
		     tuple, id);
		return;
	}
	o = od_find(ip->ike, ip->child);
	if (!o || vici < 0)
		return;
	if (o->asked && now - o->asked < INITIATE_HOLD_SECS) {
		slog(LOG_DEBUG, "ACQUIRE %s: child %s of %s initiated %lds ago",
		     tuple, o->child, o->ike, (long)(now - o->asked));
		return;
	}
	st.ike = o->ike;
	st.child = o->child;
	vici_kv(&m, "ike", o->ike);
	if (stream(vici, "list-sas", &m, "list-sa", state_cb, &st)) {
		vici_msg_free(&m);
		return;
	}
	vici_msg_free(&m);
	if (st.live || st.busy) {
		slog(LOG_DEBUG, "ACQUIRE %s: child %s of %s is %s", tuple,
		     o->child, o->ike, st.live ? "up" : "being set up");
		return;
	}
	vici_kv(&m, "child", o->child);
	vici_kv(&m, "ike", o->ike);
	vici_kv(&m, "timeout", "-1");	/* answer at once, do not wait */
	if (vici_command(vici, "initiate", &m, NULL, NULL, NULL, &resp)) {
		slog(LOG_WARN, "vici initiate: %s", strerror(errno));
		vici_msg_free(&m);
		return;
	}
	vici_msg_free(&m);
	ok = vici_str(resp, "success");
	o->asked = now;
	if (ok && !strcmp(ok, "yes"))
		slog(LOG_INFO, "ACQUIRE %s (policy %u): initiating child %s of %s",
		     tuple, id, o->child, o->ike);
	else
		slog(LOG_WARN, "ACQUIRE %s: initiating child %s of %s failed: %s",
		     tuple, o->child, o->ike,
		     vici_str(resp, "errmsg") ? vici_str(resp, "errmsg") : "?");
	vici_free(resp);
}

static void bypass_add(uint16_t family, uint8_t dir, bool sport, uint16_t port)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_POLICY_NEW, NLM_F_ECHO);
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
