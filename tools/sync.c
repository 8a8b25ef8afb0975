// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec sync-xfrm: mirrors the SAs that charon installs into the kernel's
 * native XFRM SAD into kipsec, and the traffic selectors of its CHILD_SAs
 * (from VICI) into kipsec policies. See DESIGN.md, "Keys from strongSwan".
 *
 *   XFRM NEWSA/UPDSA        -> kipsec SA add (mark and time lifetimes
 *                              stripped; placeholders without keys ignored)
 *   XFRM DELSA, hard EXPIRE -> kipsec SA del (sequence numbers kept for a
 *                              MOBIKE re-add of the same SPI)
 *   VICI list-sas, list-conns, list-policies, child-updown, child-rekey
 *                           -> kipsec policies (sync_pol.c), on demand too
 *   kipsec ACQUIRE          -> VICI initiate of an on-demand child
 *   kipsec EXPIRE soft/hard -> XFRM_MSG_EXPIRE, so charon rekeys or drops
 *   kipsec usage counters   -> XFRM_MSG_NEWAE (charon's view of the child;
 *                              with the sequence numbers, for a restart)
 *   kipsec SAs added by other means
 *                           -> native placeholders: charon's ALLOCSPI never
 *                              picks their SPIs (sync_spi.c)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#include "kipsec.h"
#include "nl.h"
#include "parse.h"
#include "sync.h"

#define DEFAULT_VICI "/var/run/charon.vici"
#define USAGE_PUSH_SECS 2
#define GONE_KEEP_SECS 60
/* more packets than one USAGE_PUSH_SECS can carry at any rate seen here */
#define SEQ_SKIP 1048576u
/* charon's configuration can change without an event (swanctl --load-all) */
#define RECONCILE_SECS 5

int sync_verbosity = LOG_INFO;

void slog(int level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	va_list ap;

	if (level > sync_verbosity)
		return;
	fprintf(stderr, "kipsec sync-xfrm: %s: ", names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- state ---------------------------------------------------------------- */

/* A mirrored SA: the native SA's identity and parameters, never its keys. */
struct msa {
	struct xsa x;
	unsigned int gen;
	uint64_t pushed_bytes;
};

/* The sequence state of a deleted SA, for a MOBIKE re-add of its SPI. */
struct gone {
	uint32_t spi;
	uint8_t proto;
	uint64_t seq_out, seq_in;
	time_t when;
};

/* An SA of charon's previous instance: not mirrored again. */
struct stale {
	uint32_t spi;
	uint8_t proto;
	uint8_t dst[16];
};

static struct {
	const char *vici_path;
	bool no_bypass;
	int vici_cmd, vici_ev;
	struct mnl_socket *kev;
	uint16_t kfamily;
	struct msa *sas;
	size_t nsas, capsas;
	struct gone gone[64];
	unsigned int ngone;
	struct stale *stale;
	size_t nstale, capstale;
	struct xsa *collided;	/* charon's SAs to rekey, keys wiped */
	size_t ncollided, capcollided;
	uint32_t *known;	/* SPIs of charon's CHILD_SAs, during a resync */
	size_t nknown, capknown;
	bool filter;
	enum on_demand on_demand;
	bool reconcile_due;
	unsigned int gen;
	time_t next_push, next_vici, next_reconcile;
} s = { .vici_cmd = -1, .vici_ev = -1 };

/* SIGINT and SIGTERM arrive on a signalfd, polled with the sockets */
static int sigfd = -1;

void *sync_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 16;
	p = realloc(p, *cap * size);
	if (!p) {
		slog(LOG_ERR, "out of memory");
		exit(1);
	}
	return p;
}

const char *astr(uint16_t family, const void *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

const char *sa_str(const struct xsa *x, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s spi 0x%08x %s -> %s reqid %u",
		 x->proto == IPPROTO_AH ? "ah" : "esp", ntohl(x->spi),
		 astr(x->family, x->src, a, sizeof(a)),
		 astr(x->family, x->dst, b, sizeof(b)), x->reqid);
	return buf;
}

static struct msa *find_sa(uint32_t spi, uint8_t proto, const uint8_t *dst,
			   unsigned int dlen)
{
	for (size_t i = 0; i < s.nsas; i++) {
		struct msa *m = &s.sas[i];

		if (m->x.spi == spi && m->x.proto == proto &&
		    alen(m->x.family) == dlen && !memcmp(m->x.dst, dst, dlen))
			return m;
	}
	return NULL;
}

bool sync_mirrored(uint32_t spi, uint8_t proto, const uint8_t *dst,
		   unsigned int dlen)
{
	return !!find_sa(spi, proto, dst, dlen);
}

static void forget_sa(struct msa *m)
{
	*m = s.sas[--s.nsas];
}

static struct stale *find_stale(const struct xsa *x)
{
	for (size_t i = 0; i < s.nstale; i++)
		if (s.stale[i].spi == x->spi && s.stale[i].proto == x->proto &&
		    !memcmp(s.stale[i].dst, x->dst, alen(x->family)))
			return &s.stale[i];
	return NULL;
}

/* --- kipsec requests ---------------------------------------------------- */

static void put_sa_key(struct nlmsghdr *nlh, const struct xsa *x)
{
	mnl_attr_put_u32(nlh, KIPSEC_SA_A_SPI, x->spi);
	mnl_attr_put(nlh, KIPSEC_SA_A_DST, alen(x->family), x->dst);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_PROTO, x->proto);
}

static void put_alg(struct nlmsghdr *nlh, uint16_t type, const struct xalg *a,
		    bool icv)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put_strz(nlh, KIPSEC_ALG_A_NAME, a->name);
	mnl_attr_put(nlh, KIPSEC_ALG_A_KEY, a->key_len, a->key);
	if (icv && a->icv_bits)
		mnl_attr_put_u32(nlh, KIPSEC_ALG_A_ICV_BITS, a->icv_bits);
	mnl_attr_nest_end(nlh, n);
}

static void put_lft(struct nlmsghdr *nlh, uint16_t type, uint64_t bytes,
		    uint64_t packets)
{
	struct nlattr *n;

	if (!bytes && !packets)
		return;
	n = mnl_attr_nest_start(nlh, type);
	if (bytes)
		mnl_attr_put_u64(nlh, KIPSEC_LFT_A_BYTES, bytes);
	if (packets)
		mnl_attr_put_u64(nlh, KIPSEC_LFT_A_PACKETS, packets);
	mnl_attr_nest_end(nlh, n);
}

static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_SCTP || proto == IPPROTO_UDPLITE;
}

/* A transport-mode SA's selector (tunnel-mode selectors are empty). */
static void put_sa_sel(struct nlmsghdr *nlh, const struct xsa *x)
{
	unsigned int l = alen(x->sel_family);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_SA_A_SEL);

	mnl_attr_put_u16(nlh, KIPSEC_SEL_A_FAMILY, x->sel_family);
	if (x->sel_splen) {
		mnl_attr_put(nlh, KIPSEC_SEL_A_SRC, l, x->sel_src);
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_SRC_PLEN, x->sel_splen);
	}
	if (x->sel_dplen) {
		mnl_attr_put(nlh, KIPSEC_SEL_A_DST, l, x->sel_dst);
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_DST_PLEN, x->sel_dplen);
	}
	if (x->sel_proto) {
		mnl_attr_put_u8(nlh, KIPSEC_SEL_A_PROTO, x->sel_proto);
		if (has_ports(x->sel_proto) && x->sel_sport_mask == 0xffff) {
			mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MIN, x->sel_sport);
			mnl_attr_put_u16(nlh, KIPSEC_SEL_A_SPORT_MAX, x->sel_sport);
		}
		if (has_ports(x->sel_proto) && x->sel_dport_mask == 0xffff) {
			mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MIN, x->sel_dport);
			mnl_attr_put_u16(nlh, KIPSEC_SEL_A_DPORT_MAX, x->sel_dport);
		}
	}
	mnl_attr_nest_end(nlh, n);
}

/* Builds a kipsec SA_NEW from a native SA; false if kipsec cannot carry it. */
static bool build_sa(struct nlmsghdr *nlh, const struct xsa *x,
		     const struct gone *g, bool from_dump)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	uint32_t flags = 0;
	char buf[160];

	if (x->mode != XFRM_MODE_TRANSPORT && x->mode != XFRM_MODE_TUNNEL) {
		slog(LOG_WARN, "%s: mode %u not supported by kipsec, not mirrored",
		     sa_str(x, buf, sizeof(buf)), x->mode);
		return false;
	}
	if (x->encap && x->encap_type != UDP_ENCAP_ESPINUDP) {
		slog(LOG_WARN, "%s: encapsulation type %u not supported, not mirrored",
		     sa_str(x, buf, sizeof(buf)), x->encap_type);
		return false;
	}
	put_sa_key(nlh, x);
	mnl_attr_put(nlh, KIPSEC_SA_A_SRC, alen(x->family), x->src);
	mnl_attr_put_u8(nlh, KIPSEC_SA_A_MODE, x->mode == XFRM_MODE_TUNNEL ?
			KIPSEC_MODE_TUNNEL : KIPSEC_MODE_TRANSPORT);
	mnl_attr_put_u32(nlh, KIPSEC_SA_A_REQID, x->reqid);
	if (x->aead.set)
		put_alg(nlh, KIPSEC_SA_A_ALG_AEAD, &x->aead, true);
	if (x->crypt.set)
		put_alg(nlh, KIPSEC_SA_A_ALG_CRYPT, &x->crypt, false);
	if (x->auth.set) {
		unsigned int def = alg_default_icv(x->auth.name);

		put_alg(nlh, KIPSEC_SA_A_ALG_AUTH, &x->auth, true);
		if (def && x->auth.icv_bits && x->auth.icv_bits != def)
			flags |= KIPSEC_SA_F_NONSTD_TRUNC;
	}
	mnl_attr_put_u32(nlh, KIPSEC_SA_A_REPLAY_WINDOW,
			 x->replay_window > KIPSEC_MAX_REPLAY_WINDOW ?
			 KIPSEC_MAX_REPLAY_WINDOW : x->replay_window);
	if (x->esn)
		flags |= KIPSEC_SA_F_ESN;
	if (x->flags & XFRM_STATE_NOECN)
		flags |= KIPSEC_SA_F_NO_ECN;
	if (flags)
		mnl_attr_put_u32(nlh, KIPSEC_SA_A_FLAGS, flags);
	if (g) {
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_OUT, g->seq_out);
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_IN, g->seq_in);
	} else if (from_dump) {
		/*
		 * An SA that may have carried traffic before this sync-xfrm
		 * ran: continue from the sequence numbers pushed to the
		 * native SA, and skip ahead of what the last push may have
		 * missed. A sequence number (a GCM/CCM/ChaCha20 nonce) must
		 * never be used twice with one key; the peer takes the gap.
		 */
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_OUT, x->oseq + SEQ_SKIP);
		mnl_attr_put_u64(nlh, KIPSEC_SA_A_SEQ_IN, x->seq);
	}
	/* Time limits stay with the native timers: only bytes and packets. */
	put_lft(nlh, KIPSEC_SA_A_LIFETIME_SOFT, x->soft_bytes, x->soft_packets);
	put_lft(nlh, KIPSEC_SA_A_LIFETIME_HARD, x->hard_bytes, x->hard_packets);
	if (x->encap) {
		struct nlattr *e = mnl_attr_nest_start(nlh, KIPSEC_SA_A_ENCAP);

		mnl_attr_put_u8(nlh, KIPSEC_ENCAP_A_TYPE, KIPSEC_ENCAP_ESPINUDP);
		mnl_attr_put_u16(nlh, KIPSEC_ENCAP_A_SPORT, x->encap_sport);
		mnl_attr_put_u16(nlh, KIPSEC_ENCAP_A_DPORT, x->encap_dport);
		mnl_attr_nest_end(nlh, e);
	}
	if (x->mode == XFRM_MODE_TRANSPORT && x->has_sel)
		put_sa_sel(nlh, x);
	mnl_attr_nest_end(nlh, n);
	return true;
}

struct sa_info {
	bool found;
	uint32_t reqid;
	uint8_t src[16];
	uint64_t seq_out, seq_in, bytes, packets, use_secs;
};

static const enum mnl_attr_data_type top_types[KIPSEC_A_MAX + 1] = {
	[KIPSEC_A_SA] = MNL_TYPE_NESTED,
	[KIPSEC_A_POLICY] = MNL_TYPE_NESTED,
	[KIPSEC_A_EXPLAIN] = MNL_TYPE_NESTED,
	[KIPSEC_A_HARD] = MNL_TYPE_FLAG,
};

static const struct nl_pol top_pol = { KIPSEC_A_MAX, top_types };

static void parse_sa_info(const struct nlattr *nest, struct sa_info *si)
{
	const struct nlattr *tb[KIPSEC_SA_A_MAX + 1];
	const struct nlattr *lt[KIPSEC_LFT_A_MAX + 1];

	nl_parse_nest(nest, &sa_nl_pol, tb);
	si->found = true;
	if (tb[KIPSEC_SA_A_REQID])
		si->reqid = mnl_attr_get_u32(tb[KIPSEC_SA_A_REQID]);
	if (tb[KIPSEC_SA_A_SRC] &&
	    mnl_attr_get_payload_len(tb[KIPSEC_SA_A_SRC]) <= sizeof(si->src))
		memcpy(si->src, mnl_attr_get_payload(tb[KIPSEC_SA_A_SRC]),
		       mnl_attr_get_payload_len(tb[KIPSEC_SA_A_SRC]));
	if (tb[KIPSEC_SA_A_SEQ_OUT])
		si->seq_out = mnl_attr_get_u64(tb[KIPSEC_SA_A_SEQ_OUT]);
	if (tb[KIPSEC_SA_A_SEQ_IN])
		si->seq_in = mnl_attr_get_u64(tb[KIPSEC_SA_A_SEQ_IN]);
	nl_parse_nest(tb[KIPSEC_SA_A_CURLFT], &lft_nl_pol, lt);
	if (lt[KIPSEC_LFT_A_BYTES])
		si->bytes = mnl_attr_get_u64(lt[KIPSEC_LFT_A_BYTES]);
	if (lt[KIPSEC_LFT_A_PACKETS])
		si->packets = mnl_attr_get_u64(lt[KIPSEC_LFT_A_PACKETS]);
	if (lt[KIPSEC_LFT_A_USE_SECS])
		si->use_secs = mnl_attr_get_u64(lt[KIPSEC_LFT_A_USE_SECS]);
}

static int sa_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];

	nl_parse_msg(nlh, &top_pol, tb);
	if (tb[KIPSEC_A_SA])
		parse_sa_info(tb[KIPSEC_A_SA], data);
	return 0;
}

/* The kipsec SA with x's key: sequence numbers and usage; quiet if absent. */
static bool kipsec_sa_get(const struct xsa *x, struct sa_info *si)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_SA_GET, 0);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	bool quiet = opts.quiet;

	put_sa_key(nlh, x);
	mnl_attr_nest_end(nlh, n);
	memset(si, 0, sizeof(*si));
	opts.quiet = true;
	nl_request(nlh, sa_get_cb, si, "sa get");
	opts.quiet = quiet;
	return si->found;
}

static void kipsec_sa_del(const struct xsa *x)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = nl_msg(buf, KIPSEC_CMD_SA_DEL, 0);
	struct nlattr *n = mnl_attr_nest_start(nlh, KIPSEC_A_SA);
	bool quiet = opts.quiet;
	char str[160];

	put_sa_key(nlh, x);
	mnl_attr_nest_end(nlh, n);
	/* hard expiries delete in kipsec too: a missing SA is fine */
	opts.quiet = true;
	if (!nl_request(nlh, NULL, NULL, "sa del"))
		slog(LOG_INFO, "deleted %s", sa_str(x, str, sizeof(str)));
	opts.quiet = quiet;
}

/* --- XFRM events ---------------------------------------------------------- */

static struct gone *take_gone(const struct xsa *x)
{
	time_t now = time(NULL);

	for (unsigned int i = 0; i < s.ngone; i++) {
		struct gone *g = &s.gone[i];

		if (g->spi == x->spi && g->proto == x->proto &&
		    now - g->when <= GONE_KEEP_SECS) {
			g->when = 0;	/* used once */
			return g;
		}
	}
	return NULL;
}

static void remember_gone(const struct xsa *x, const struct sa_info *si)
{
	struct gone *g = &s.gone[s.ngone++ % ARRAY_SIZE(s.gone)];

	if (s.ngone > ARRAY_SIZE(s.gone))
		s.ngone = ARRAY_SIZE(s.gone);
	*g = (struct gone){ x->spi, x->proto, si->seq_out, si->seq_in,
			    time(NULL) };
}

static int load_charon_spis(void);

/* During a filtered resync: is spi one of charon's current CHILD_SAs? */
static bool charon_has(uint32_t spi)
{
	if (!s.filter)
		return true;
	for (size_t i = 0; i < s.nknown; i++)
		if (s.known[i] == spi)
			return true;
	return false;
}

/* *to = *x, without x's keys: sync-xfrm keeps none */
static void wipe_keys(struct xsa *to, const struct xsa *x)
{
	*to = *x;
	explicit_bzero(&to->aead.key, sizeof(to->aead.key));
	explicit_bzero(&to->crypt.key, sizeof(to->crypt.key));
	explicit_bzero(&to->auth.key, sizeof(to->auth.key));
}

/* charon's SAs whose SPI a kipsec SA holds: charon rekeys them now. */
static void flush_collided(void)
{
	for (size_t i = 0; i < s.ncollided; i++)
		xfrm_send_expire(&s.collided[i], false);
	s.ncollided = 0;
}

static void mirror_sa(struct xsa *x, bool from_dump)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct stale *st;
	struct sa_info si;
	struct msa *m;
	struct gone *g;
	char str[160];

	if (x->proto != IPPROTO_ESP && x->proto != IPPROTO_AH)
		return;
	/* sync-xfrm's own SPI reservations (sync_spi.c) */
	if (spi_native_seen(x))
		return;
	/* charon's placeholders (ALLOCSPI, acquires) carry no keys yet */
	if (!x->spi || (!x->aead.set && !x->auth.set && !x->crypt.set))
		return;
	m = find_sa(x->spi, x->proto, x->dst, alen(x->family));
	if (m) {
		m->gen = s.gen;
		return;
	}
	st = find_stale(x);
	if (st) {
		if (from_dump)
			return;
		*st = s.stale[--s.nstale];
	}
	sa_str(x, str, sizeof(str));
	if (from_dump && !charon_has(x->spi)) {
		slog(LOG_INFO, "%s: in no CHILD_SA of charon (left by a previous "
		     "instance?), not mirrored", str);
		return;
	}
	if (kipsec_sa_get(x, &si) &&
	    (spi_is_foreign(x) || si.reqid != x->reqid ||
	     memcmp(si.src, x->src, alen(x->family)))) {
		/*
		 * Not the copy a previous sync-xfrm left: an SA added by
		 * other means holds this SPI. Keys are never mixed under one
		 * SPI: kipsec's stays, charon replaces its own.
		 */
		slog(LOG_ERR, "%s: kipsec holds an SA with this SPI that "
		     "sync-xfrm did not add; not mirrored, asking charon to "
		     "rekey (XFRM_MSG_EXPIRE soft)", str);
		/*
		 * Sent once the SPIs are reserved (flush_collided()): at
		 * start the rescan comes after this dump, and the SPI the
		 * rekey allocates must not be one of them.
		 */
		s.collided = sync_grow(s.collided, &s.capcollided, s.ncollided,
				       sizeof(*s.collided));
		wipe_keys(&s.collided[s.ncollided++], x);
		return;
	} else if (si.found) {
		slog(LOG_WARN, "%s: already in kipsec, kept as it is", str);
	} else {
		g = take_gone(x);
		nlh = nl_msg(buf, KIPSEC_CMD_SA_NEW, 0);
		if (!build_sa(nlh, x, g, from_dump))
			return;
		if (nl_request(nlh, NULL, NULL, "sa add")) {
			slog(LOG_WARN, "%s: refused by kipsec, not mirrored", str);
			explicit_bzero(buf, sizeof(buf));
			return;
		}
		explicit_bzero(buf, sizeof(buf));
		slog(LOG_INFO, "added %s%s", str,
		     g ? " (sequence numbers kept from its previous copy)" : "");
		/* a MOBIKE move: the policies' tunnel addresses change too */
		if (g)
			s.reconcile_due = true;
	}
	s.sas = sync_grow(s.sas, &s.capsas, s.nsas, sizeof(*s.sas));
	m = &s.sas[s.nsas++];
	memset(m, 0, sizeof(*m));
	wipe_keys(&m->x, x);
	m->gen = s.gen;
}

static void unmirror_sa(const struct xsa *x)
{
	struct msa *m = find_sa(x->spi, x->proto, x->dst, alen(x->family));
	struct sa_info si;

	if (!m)
		return;
	if (kipsec_sa_get(&m->x, &si))
		remember_gone(&m->x, &si);
	kipsec_sa_del(&m->x);
	forget_sa(m);
}

static int resync_sas(bool charon_only);

static void xfrm_event(enum xfrm_ev ev, struct xsa *x, bool hard, void *data)
{
	char str[160];

	(void)data;
	switch (ev) {
	case XEV_NEW:
	case XEV_UPDATE:
		mirror_sa(x, false);
		break;
	case XEV_DEL:
		unmirror_sa(x);
		spi_native_gone(x);
		break;
	case XEV_FLUSH:
		slog(LOG_WARN, "native SAD flushed: resynchronising");
		resync_sas(false);
		spi_rescan();
		break;
	case XEV_EXPIRE:
		slog(LOG_DEBUG, "native %s expiry of %s", hard ? "hard" : "soft",
		     sa_str(x, str, sizeof(str)));
		/* a hard expiry deletes the native SA without a DELSA */
		if (hard) {
			unmirror_sa(x);
			spi_native_gone(x);
		}
		break;
	}
}

static void dump_cb(enum xfrm_ev ev, struct xsa *x, bool hard, void *data)
{
	(void)ev;
	(void)hard;
	(void)data;
	mirror_sa(x, true);
}

/*
 * Full resynchronisation: at start and after lost events. At start and when
 * charon came back (charon_only), the native SAD may still hold SAs of a
 * charon that died (kill -9): only the SAs of the CHILD_SAs that charon
 * lists now are mirrored. Not after lost events: a CHILD_SA that charon
 * just installed may not be listed yet, and its event is gone.
 */
static int resync_sas(bool charon_only)
{
	int err;

	s.gen++;
	s.filter = charon_only && !load_charon_spis();
	err = xfrm_dump(dump_cb, NULL);
	s.filter = false;
	if (err)
		return -1;
	for (size_t i = 0; i < s.nsas;) {
		struct msa *m = &s.sas[i];

		if (m->gen == s.gen) {
			i++;
			continue;
		}
		kipsec_sa_del(&m->x);
		forget_sa(m);
	}
	return 0;
}

/* --- kipsec events -------------------------------------------------------- */

static int kipsec_events_open(void)
{
	/* nl_open() resolved the family and its groups already. */
	uint32_t grp = nl_group_id(NL_GRP_SA), acq = nl_group_id(NL_GRP_ACQUIRE);
	int rcv = 4 << 20;

	s.kfamily = nl_family_id();
	s.kev = mnl_socket_open(NETLINK_GENERIC);
	if (!s.kev || mnl_socket_bind(s.kev, 0, MNL_SOCKET_AUTOPID) < 0)
		goto err;
	if (!grp || !acq || !s.kfamily) {
		errno = ENOENT;
		goto err;
	}
	if (mnl_socket_setsockopt(s.kev, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0 ||
	    mnl_socket_setsockopt(s.kev, NETLINK_ADD_MEMBERSHIP, &acq,
				  sizeof(acq)) < 0)
		goto err;
	if (setsockopt(mnl_socket_get_fd(s.kev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcv, sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(s.kev), SOL_SOCKET, SO_RCVBUF,
			   &rcv, sizeof(rcv));
	return 0;
err:
	slog(LOG_ERR, "kipsec \"sa\" and \"acquire\" events: %s",
	     strerror(errno));
	return -1;
}

/* kipsec counted a byte or packet limit: tell the native SA's owner. */
static void kipsec_expire(const struct nlattr *sa, bool hard)
{
	const struct nlattr *tb[KIPSEC_SA_A_MAX + 1];
	struct msa *m;
	char str[160];

	nl_parse_nest(sa, &sa_nl_pol, tb);
	if (!tb[KIPSEC_SA_A_SPI] || !tb[KIPSEC_SA_A_DST] || !tb[KIPSEC_SA_A_PROTO])
		return;
	m = find_sa(mnl_attr_get_u32(tb[KIPSEC_SA_A_SPI]),
		    mnl_attr_get_u8(tb[KIPSEC_SA_A_PROTO]),
		    mnl_attr_get_payload(tb[KIPSEC_SA_A_DST]),
		    mnl_attr_get_payload_len(tb[KIPSEC_SA_A_DST]));
	if (!m)
		return;
	sa_str(&m->x, str, sizeof(str));
	slog(LOG_INFO, "kipsec %s expiry of %s: sending XFRM_MSG_EXPIRE",
	     hard ? "hard" : "soft", str);
	xfrm_send_expire(&m->x, hard);
	if (hard)
		forget_sa(m);	/* kipsec deleted it already */
}

/* kipsec found no SA for a PROTECT policy: maybe an on-demand child. */
static void kipsec_acquire(const struct nlattr *pol, const struct nlattr *ex)
{
	static const enum mnl_attr_data_type et[KIPSEC_EXPLAIN_A_MAX + 1] = {
		[KIPSEC_EXPLAIN_A_PROTO] = MNL_TYPE_U8,
	};
	static const struct nl_pol ep = { KIPSEC_EXPLAIN_A_MAX, et };
	const struct nlattr *p[KIPSEC_POL_A_MAX + 1];
	const struct nlattr *e[KIPSEC_EXPLAIN_A_MAX + 1];
	char a[INET6_ADDRSTRLEN] = "?", b[INET6_ADDRSTRLEN] = "?", tuple[128];
	const struct nlattr *src, *dst;

	nl_parse_nest(pol, &policy_nl_pol, p);
	nl_parse_nest(ex, &ep, e);
	if (!p[KIPSEC_POL_A_ID])
		return;
	src = e[KIPSEC_EXPLAIN_A_SRC];
	dst = e[KIPSEC_EXPLAIN_A_DST];
	if (src && dst) {
		uint16_t fam = mnl_attr_get_payload_len(src) == 16 ? AF_INET6 :
								     AF_INET;

		astr(fam, mnl_attr_get_payload(src), a, sizeof(a));
		astr(fam, mnl_attr_get_payload(dst), b, sizeof(b));
	}
	snprintf(tuple, sizeof(tuple), "%s -> %s proto %u", a, b,
		 e[KIPSEC_EXPLAIN_A_PROTO] ?
		 mnl_attr_get_u8(e[KIPSEC_EXPLAIN_A_PROTO]) : 0);
	pol_acquire(s.vici_cmd, mnl_attr_get_u32(p[KIPSEC_POL_A_ID]), tuple);
}

static int kipsec_event_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	uint8_t cmd = genl_cmd(nlh);

	(void)data;
	if (nlh->nlmsg_type != s.kfamily)
		return 0;
	nl_parse_msg(nlh, &top_pol, tb);
	switch (cmd) {
	case KIPSEC_CMD_ACQUIRE:
		if (tb[KIPSEC_A_POLICY])
			kipsec_acquire(tb[KIPSEC_A_POLICY], tb[KIPSEC_A_EXPLAIN]);
		break;
	case KIPSEC_CMD_SA_EXPIRE:
		if (tb[KIPSEC_A_SA])
			kipsec_expire(tb[KIPSEC_A_SA], tb[KIPSEC_A_HARD]);
		spi_kipsec_event(cmd, tb[KIPSEC_A_SA], tb[KIPSEC_A_HARD]);
		break;
	case KIPSEC_CMD_SA_NEW:
	case KIPSEC_CMD_SA_UPDATE:
	case KIPSEC_CMD_SA_DEL:
	case KIPSEC_CMD_SA_FLUSH:
		spi_kipsec_event(cmd, tb[KIPSEC_A_SA], false);
		break;
	}
	return 0;
}

static int kipsec_events_read(void)
{
	static uint8_t buf[64 * 1024] __attribute__((aligned(8)));
	ssize_t n = recv(mnl_socket_get_fd(s.kev), buf, sizeof(buf),
			 MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	return mnl_cb_run(buf, n, 0, 0, kipsec_event_cb, NULL) < 0 ? -errno : 0;
}

/* kipsec's usage counters pushed to the native SAs, so charon sees them. */
static int usage_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[KIPSEC_A_MAX + 1];
	const struct nlattr *st[KIPSEC_SA_A_MAX + 1];
	struct sa_info si = { 0 };
	struct msa *m;

	(void)data;
	nl_parse_msg(nlh, &top_pol, tb);
	if (!tb[KIPSEC_A_SA])
		return 0;
	nl_parse_nest(tb[KIPSEC_A_SA], &sa_nl_pol, st);
	if (!st[KIPSEC_SA_A_SPI] || !st[KIPSEC_SA_A_DST] || !st[KIPSEC_SA_A_PROTO])
		return 0;
	m = find_sa(mnl_attr_get_u32(st[KIPSEC_SA_A_SPI]),
		    mnl_attr_get_u8(st[KIPSEC_SA_A_PROTO]),
		    mnl_attr_get_payload(st[KIPSEC_SA_A_DST]),
		    mnl_attr_get_payload_len(st[KIPSEC_SA_A_DST]));
	if (!m)
		return 0;
	parse_sa_info(tb[KIPSEC_A_SA], &si);
	if (si.bytes == m->pushed_bytes)
		return 0;
	if (!xfrm_send_usage(&m->x, si.bytes, si.packets,
			     si.use_secs ? time(NULL) - si.use_secs : 0,
			     si.seq_out, si.seq_in))
		m->pushed_bytes = si.bytes;
	return 0;
}

static void push_usage(void)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));

	if (!s.nsas)
		return;
	nl_dump(nl_msg(buf, KIPSEC_CMD_SA_GET, 0), usage_cb, NULL, "sa dump",
		NULL);
}

/* --- VICI ----------------------------------------------------------------- */

static void spi_child(const struct vici_node *ike, const struct vici_node *ch,
		      void *data)
{
	static const char *const keys[] = { "spi-in", "spi-out" };

	(void)ike;
	(void)data;
	for (unsigned int i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = vici_str(ch, keys[i]);

		if (!v)
			continue;
		s.known = sync_grow(s.known, &s.capknown, s.nknown, sizeof(*s.known));
		s.known[s.nknown++] = htonl(strtoul(v, NULL, 16));
	}
}

static void spi_sa_cb(const char *name, struct vici_node *msg, void *data)
{
	if (!strcmp(name, "list-sa"))
		walk_children(msg, spi_child, data);
}

/* The SPIs of every CHILD_SA charon lists, into s.known; -1 without VICI. */
static int load_charon_spis(void)
{
	struct vici_node *resp;

	s.nknown = 0;
	if (s.vici_cmd < 0 ||
	    vici_command(s.vici_cmd, "list-sas", NULL, "list-sa", spi_sa_cb,
			 NULL, &resp))
		return -1;
	vici_free(resp);
	return 0;
}

static void reconcile(const char *except)
{
	if (s.vici_cmd >= 0 && !pol_reconcile(s.vici_cmd, s.on_demand, except)) {
		s.reconcile_due = false;
		s.next_reconcile = time(NULL) + RECONCILE_SECS;
	}
}

static void find_down(const struct vici_node *ike, const struct vici_node *ch,
		      void *data)
{
	const char *id = vici_str(ch, "uniqueid");

	(void)ike;
	if (id)
		snprintf(data, 32, "%s", id);
}

static void vici_event(const char *name, struct vici_node *msg, void *data)
{
	char down[32] = "";
	bool up = vici_str(msg, "up") && !strcmp(vici_str(msg, "up"), "yes");

	(void)data;
	slog(LOG_DEBUG, "vici event %s%s", name,
	     strcmp(name, "child-updown") ? "" : up ? " (up)" : " (down)");
	if (!strcmp(name, "child-updown") && !up)
		walk_children(msg, find_down, down);
	if (!strcmp(name, "ike-update")) {
		/* raised before the addresses change: look again soon */
		s.next_reconcile = time(NULL) + 1;
		return;
	}
	reconcile(*down ? down : NULL);
}

static void vici_close(void)
{
	if (s.vici_cmd >= 0)
		close(s.vici_cmd);
	if (s.vici_ev >= 0)
		close(s.vici_ev);
	s.vici_cmd = -1;
	s.vici_ev = -1;
}

static int vici_open(void)
{
	s.vici_cmd = vici_connect(s.vici_path);
	if (s.vici_cmd < 0)
		return -1;
	s.vici_ev = vici_connect(s.vici_path);
	if (s.vici_ev < 0 || vici_register(s.vici_ev, "child-updown") ||
	    vici_register(s.vici_ev, "child-rekey")) {
		int e = errno;

		vici_close();
		errno = e;
		return -1;
	}
	/* MOBIKE address updates, if this charon raises the event */
	if (vici_register(s.vici_ev, "ike-update"))
		slog(LOG_DEBUG, "vici: no ike-update event; MOBIKE moves are "
		     "seen in the SA events");
	return 0;
}

/*
 * charon went away. Its SAs stay in the native SAD (kill -9) but belong to
 * no one: they leave kipsec now and are not mirrored again. The policies
 * stay until the next charon says what it has, so traffic fails closed.
 */
static void charon_gone(void)
{
	slog(LOG_WARN, "lost the VICI connection to charon; "
	     "removing its SAs from kipsec, reconnecting");
	vici_close();
	while (s.nsas) {
		struct msa *m = &s.sas[0];
		struct stale *st;

		s.stale = sync_grow(s.stale, &s.capstale, s.nstale, sizeof(*s.stale));
		st = &s.stale[s.nstale++];
		st->spi = m->x.spi;
		st->proto = m->x.proto;
		memcpy(st->dst, m->x.dst, 16);
		kipsec_sa_del(&m->x);
		forget_sa(m);
	}
	s.next_vici = time(NULL) + 1;
}

static void cleanup(void)
{
	/* the native SAs keep the last usage and sequence numbers */
	push_usage();
	slog(LOG_INFO, "stopping: removing %zu SAs and %zu policies", s.nsas,
	     pol_count());
	while (s.nsas) {
		kipsec_sa_del(&s.sas[0].x);
		forget_sa(&s.sas[0]);
	}
	pol_cleanup();
	spi_cleanup();
}

/* --- main ------------------------------------------------------------------ */

static int parse_args(int argc, char **argv)
{
	for (; argc > 0; argc--, argv++) {
		const char *o = argv[0];

		if (!strcmp(o, "--vici") || !strcmp(o, "vici")) {
			if (argc < 2)
				return missing_arg("sync-xfrm", o);
			s.vici_path = *++argv;
			argc--;
		} else if (!strcmp(o, "--netns") || !strcmp(o, "netns")) {
			if (argc < 2)
				return missing_arg("sync-xfrm", o);
			if (enter_netns(*++argv))
				return -1;
			argc--;
		} else if (!strcmp(o, "--no-bypass")) {
			s.no_bypass = true;
		} else if (!strcmp(o, "--on-demand")) {
			/* the order of enum on_demand */
			static const char *const modes[] = { "trap", "all",
							     "none", NULL };
			uint8_t v;
			bool has;

			if (next_choice(&argc, &argv, "sync-xfrm", "--on-demand",
					modes, &v, &has))
				return -1;
			s.on_demand = v;
		} else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
			sync_verbosity = LOG_DEBUG;
		} else if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
			sync_verbosity = LOG_WARN;
		} else {
			return unknown_keyword("sync-xfrm", o);
		}
	}
	return 0;
}

static void loop(void)
{
	for (;;) {
		struct pollfd p[4] = {
			{ .fd = xfrm_event_fd(), .events = POLLIN },
			{ .fd = mnl_socket_get_fd(s.kev), .events = POLLIN },
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = s.vici_ev, .events = POLLIN },
		};
		time_t now = time(NULL);
		int err;

		if (poll(p, s.vici_ev >= 0 ? 4 : 3, 500) < 0 && errno != EINTR) {
			slog(LOG_ERR, "poll: %s", strerror(errno));
			return;
		}
		if (p[2].revents)
			return;	/* SIGINT or SIGTERM */
		if (p[0].revents) {
			err = xfrm_recv(xfrm_event, NULL);
			if (err == -ENOBUFS) {
				slog(LOG_WARN, "XFRM events lost: resynchronising");
				resync_sas(false);
				spi_rescan();
			} else if (err < 0) {
				slog(LOG_ERR, "XFRM events: %s", strerror(-err));
				return;
			}
		}
		if (p[1].revents) {
			err = kipsec_events_read();
			if (err == -ENOBUFS) {
				slog(LOG_WARN, "kipsec events lost (expiries may be "
				     "missed): SPI reservations checked again");
				spi_rescan();
			} else if (err < 0) {
				slog(LOG_WARN, "kipsec events: %s", strerror(-err));
			}
		}
		if (s.vici_ev >= 0 && p[3].revents &&
		    vici_read_event(s.vici_ev, vici_event, NULL))
			charon_gone();
		if (s.vici_ev < 0 && now >= s.next_vici) {
			if (!vici_open()) {
				slog(LOG_INFO, "reconnected to charon at %s",
				     s.vici_path);
				resync_sas(true);
				reconcile(NULL);
			} else {
				s.next_vici = now + 1;
			}
		}
		if (s.vici_ev >= 0 && (s.reconcile_due || now >= s.next_reconcile))
			reconcile(NULL);
		flush_collided();
		if (now >= s.next_push) {
			push_usage();
			s.next_push = now + USAGE_PUSH_SECS;
		}
	}
}

int cmd_sync_xfrm(int argc, char **argv)
{
	sigset_t mask;

	s.vici_path = DEFAULT_VICI;
	if (parse_args(argc, argv))
		return 1;
	if (nl_open() || kipsec_events_open() || xfrm_open())
		return 1;
	if (vici_open()) {
		slog(LOG_ERR, "cannot connect to charon's VICI socket %s: %s "
		     "(is charon running with the vici plugin?)",
		     s.vici_path, strerror(errno));
		return 1;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sigfd < 0) {
		slog(LOG_ERR, "signalfd: %s", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!s.no_bypass)
		pol_bypass_install();
	if (resync_sas(true) ||
	    pol_reconcile(s.vici_cmd, s.on_demand, NULL)) {
		cleanup();
		return 1;
	}
	s.next_reconcile = time(NULL) + RECONCILE_SECS;
	/* after the dump: SAs a killed sync-xfrm left are charon's, not foreign */
	spi_rescan();
	flush_collided();
	slog(LOG_INFO, "running: %zu SAs, %zu policies mirrored", s.nsas,
	     pol_count());
	loop();
	cleanup();
	return 0;
}
