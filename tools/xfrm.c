// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's XFRM netlink for sync-xfrm: SA events (NEWSA, UPDSA, DELSA,
 * EXPIRE) decoded into struct xsa, a GETSA dump to resynchronise, and the
 * two messages sync-xfrm sends back: EXPIRE (kipsec counted a byte or
 * packet limit) and NEWAE (kipsec's usage counters).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <libmnl/libmnl.h>

#include "sync.h"

/* charon's bursts at start-up and rekeys must not overrun it */
#define EVENT_RCVBUF (4 << 20)
#define RECV_SIZE (64 * 1024)

/*
 * Three sockets, each with its own buffer: events, dumps and requests. An
 * event or a dumped SA can make sync-xfrm send a request (a placeholder, an
 * expire) or even dump again (FLUSHSA) before the buffer it came in is
 * done with.
 */
static struct {
	struct mnl_socket *ev, *dump, *req;
	uint32_t seq;
} x;

static uint8_t evbuf[RECV_SIZE] __attribute__((aligned(8)));
static uint8_t dbuf[RECV_SIZE] __attribute__((aligned(8)));
static uint8_t rbuf[RECV_SIZE] __attribute__((aligned(8)));

static struct mnl_socket *open_sock(unsigned int groups)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_XFRM);
	int one = 1;

	if (!s)
		return NULL;
	if (mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(s);
		return NULL;
	}
	mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
	return s;
}

int xfrm_open(void)
{
	int rcv = EVENT_RCVBUF;

	x.ev = open_sock((1u << (XFRMNLGRP_SA - 1)) |
			 (1u << (XFRMNLGRP_EXPIRE - 1)));
	x.dump = open_sock(0);
	x.req = open_sock(0);
	if (!x.ev || !x.dump || !x.req) {
		slog(LOG_ERR, "XFRM netlink: %s (is xfrm_user loaded?)",
		     strerror(errno));
		return -1;
	}
	if (setsockopt(mnl_socket_get_fd(x.ev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcv, sizeof(rcv)) < 0)
		setsockopt(mnl_socket_get_fd(x.ev), SOL_SOCKET, SO_RCVBUF,
			   &rcv, sizeof(rcv));
	x.seq = time(NULL);
	return 0;
}

int xfrm_event_fd(void)
{
	return mnl_socket_get_fd(x.ev);
}

static uint64_t lim(uint64_t v)
{
	return v == XFRM_INF ? 0 : v;
}

static void get_alg(struct xalg *a, const char *name, const void *key,
		    unsigned int key_bits, unsigned int icv_bits,
		    size_t avail)
{
	unsigned int n = (key_bits + 7) / 8;

	if (n > sizeof(a->key) || n > avail) {
		slog(LOG_WARN, "XFRM: %s key of %u bits ignored", name,
		     key_bits);
		return;
	}
	a->set = true;
	snprintf(a->name, sizeof(a->name), "%.64s", name);
	memcpy(a->key, key, n);
	a->key_len = n;
	a->icv_bits = icv_bits;
}

static void from_info(struct xsa *sa, const struct xfrm_usersa_info *p)
{
	sa->spi = p->id.spi;
	sa->proto = p->id.proto;
	sa->family = p->family;
	memcpy(sa->dst, &p->id.daddr, 16);
	memcpy(sa->src, &p->saddr, 16);
	sa->mode = p->mode;
	sa->reqid = p->reqid;
	sa->flags = p->flags;
	sa->esn = p->flags & XFRM_STATE_ESN;
	sa->replay_window = p->replay_window;
	sa->soft_bytes = lim(p->lft.soft_byte_limit);
	sa->soft_packets = lim(p->lft.soft_packet_limit);
	sa->hard_bytes = lim(p->lft.hard_byte_limit);
	sa->hard_packets = lim(p->lft.hard_packet_limit);
	sa->add_time = p->curlft.add_time;
	if (p->sel.family) {
		sa->has_sel = true;
		sa->sel_family = p->sel.family;
		memcpy(sa->sel_src, &p->sel.saddr, 16);
		memcpy(sa->sel_dst, &p->sel.daddr, 16);
		sa->sel_splen = p->sel.prefixlen_s;
		sa->sel_dplen = p->sel.prefixlen_d;
		sa->sel_proto = p->sel.proto;
		sa->sel_sport = ntohs(p->sel.sport);
		sa->sel_sport_mask = ntohs(p->sel.sport_mask);
		sa->sel_dport = ntohs(p->sel.dport);
		sa->sel_dport_mask = ntohs(p->sel.dport_mask);
	}
}

/* Fills sa from the attributes that follow the fixed header. */
static void parse_attrs(struct xsa *sa, const struct nlmsghdr *nlh,
			size_t off, bool *have_info)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, off) {
		const void *d = mnl_attr_get_payload(a);
		size_t len = mnl_attr_get_payload_len(a);

		switch (mnl_attr_get_type(a)) {
		case XFRMA_SA:
			if (len >= sizeof(struct xfrm_usersa_info)) {
				from_info(sa, d);
				*have_info = true;
			}
			break;
		case XFRMA_ALG_AEAD: {
			const struct xfrm_algo_aead *al = d;

			if (len >= sizeof(*al))
				get_alg(&sa->aead, al->alg_name, al->alg_key,
					al->alg_key_len, al->alg_icv_len,
					len - sizeof(*al));
			break;
		}
		case XFRMA_ALG_CRYPT: {
			const struct xfrm_algo *al = d;

			if (len >= sizeof(*al))
				get_alg(&sa->crypt, al->alg_name, al->alg_key,
					al->alg_key_len, 0, len - sizeof(*al));
			break;
		}
		case XFRMA_ALG_AUTH_TRUNC: {
			const struct xfrm_algo_auth *al = d;

			if (len >= sizeof(*al))
				get_alg(&sa->auth, al->alg_name, al->alg_key,
					al->alg_key_len, al->alg_trunc_len,
					len - sizeof(*al));
			break;
		}
		case XFRMA_ALG_AUTH: {
			const struct xfrm_algo *al = d;

			/* the legacy attribute: 96 bits, as the kernel does */
			if (len >= sizeof(*al) && !sa->auth.set)
				get_alg(&sa->auth, al->alg_name, al->alg_key,
					al->alg_key_len, 96, len - sizeof(*al));
			break;
		}
		case XFRMA_ENCAP: {
			const struct xfrm_encap_tmpl *e = d;

			if (len >= sizeof(*e)) {
				sa->encap = true;
				sa->encap_type = e->encap_type;
				sa->encap_sport = ntohs(e->encap_sport);
				sa->encap_dport = ntohs(e->encap_dport);
				memcpy(sa->encap_oa, &e->encap_oa, 16);
			}
			break;
		}
		case XFRMA_REPLAY_ESN_VAL: {
			const struct xfrm_replay_state_esn *r = d;

			if (len >= sizeof(*r)) {
				sa->replay_window = r->replay_window;
				sa->esn_bmp_len = r->bmp_len;
				sa->oseq = (uint64_t)r->oseq_hi << 32 | r->oseq;
				sa->seq = (uint64_t)r->seq_hi << 32 | r->seq;
			}
			break;
		}
		case XFRMA_REPLAY_VAL: {
			const struct xfrm_replay_state *r = d;

			if (len >= sizeof(*r)) {
				sa->oseq = r->oseq;
				sa->seq = r->seq;
			}
			break;
		}
		case XFRMA_MARK: {
			const struct xfrm_mark *m = d;

			if (len >= sizeof(*m)) {
				sa->has_mark = true;
				sa->mark_v = m->v;
				sa->mark_m = m->m;
			}
			break;
		}
		}
	}
}

/* Decodes one message; returns false for what is not an SA event. */
static bool decode(const struct nlmsghdr *nlh, struct xsa *sa,
		   enum xfrm_ev *ev, bool *hard)
{
	size_t plen = mnl_nlmsg_get_payload_len(nlh);
	const void *p = mnl_nlmsg_get_payload(nlh);
	bool have_info = false;

	memset(sa, 0, sizeof(*sa));
	*hard = false;
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
		if (plen < sizeof(struct xfrm_usersa_info))
			return false;
		from_info(sa, p);
		parse_attrs(sa, nlh, NLMSG_ALIGN(sizeof(struct xfrm_usersa_info)),
			    &have_info);
		*ev = nlh->nlmsg_type == XFRM_MSG_NEWSA ? XEV_NEW : XEV_UPDATE;
		return true;
	case XFRM_MSG_DELSA: {
		const struct xfrm_usersa_id *id = p;

		if (plen < sizeof(*id))
			return false;
		parse_attrs(sa, nlh, NLMSG_ALIGN(sizeof(*id)), &have_info);
		if (!have_info) {
			sa->spi = id->spi;
			sa->proto = id->proto;
			sa->family = id->family;
			memcpy(sa->dst, &id->daddr, 16);
		}
		*ev = XEV_DEL;
		return true;
	}
	case XFRM_MSG_FLUSHSA:
		*ev = XEV_FLUSH;
		return true;
	case XFRM_MSG_EXPIRE: {
		const struct xfrm_user_expire *e = p;

		if (plen < sizeof(*e))
			return false;
		from_info(sa, &e->state);
		parse_attrs(sa, nlh, NLMSG_ALIGN(sizeof(*e)), &have_info);
		*hard = e->hard;
		*ev = XEV_EXPIRE;
		return true;
	}
	}
	return false;
}

static void run_cbs(const void *buf, int len, xfrm_cb cb, void *data)
{
	const struct nlmsghdr *nlh;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		struct xsa sa;
		enum xfrm_ev ev;
		bool hard;

		if (decode(nlh, &sa, &ev, &hard))
			cb(ev, &sa, hard, data);
		explicit_bzero(&sa, sizeof(sa));
	}
}

int xfrm_recv(xfrm_cb cb, void *data)
{
	ssize_t n = recv(mnl_socket_get_fd(x.ev), evbuf, sizeof(evbuf),
			 MSG_DONTWAIT);

	if (n < 0)
		return errno == EAGAIN ? 0 : -errno;
	run_cbs(evbuf, n, cb, data);
	explicit_bzero(evbuf, n);
	return 0;
}

/*
 * Reads replies to seq from sk into buf until the ack or NLMSG_DONE; dump
 * rows go to cb.
 */
static int run_req(struct mnl_socket *sk, uint8_t *buf, uint32_t seq,
		   xfrm_cb cb, void *data, const char *what)
{
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(sk, buf, RECV_SIZE);
		const struct nlmsghdr *nlh;
		int len = n;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			slog(LOG_ERR, "XFRM %s: %s", what, strerror(errno));
			return -1;
		}
		for (nlh = (void *)buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_DONE) {
				explicit_bzero(buf, n);
				return 0;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(nlh);

				explicit_bzero(buf, n);
				if (e->error) {
					errno = -e->error;
					return -1;
				}
				return 0;
			}
			if (cb)
				run_cbs(nlh, nlh->nlmsg_len, cb, data);
		}
		explicit_bzero(buf, n);
	}
}

int xfrm_dump(xfrm_cb cb, void *data)
{
	uint8_t buf[MNL_SOCKET_BUFFER_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = XFRM_MSG_GETSA;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++x.seq;
	if (mnl_socket_sendto(x.dump, nlh, nlh->nlmsg_len) < 0) {
		slog(LOG_ERR, "XFRM GETSA dump: %s", strerror(errno));
		return -1;
	}
	if (run_req(x.dump, dbuf, nlh->nlmsg_seq, cb, data, "GETSA dump")) {
		slog(LOG_ERR, "XFRM GETSA dump: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void put_mark(struct nlmsghdr *nlh, const struct xsa *sa)
{
	struct xfrm_mark m = { sa->mark_v, sa->mark_m };

	if (sa->has_mark)
		mnl_attr_put(nlh, XFRMA_MARK, sizeof(m), &m);
}

/* A request and its ack: 0 or -errno, nothing logged. */
static int request_err(struct nlmsghdr *nlh, const char *what)
{
	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++x.seq;
	if (mnl_socket_sendto(x.req, nlh, nlh->nlmsg_len) < 0 ||
	    run_req(x.req, rbuf, nlh->nlmsg_seq, NULL, NULL, what))
		return -errno;
	return 0;
}

static int request(struct nlmsghdr *nlh, const char *what)
{
	int err = request_err(nlh, what);

	if (err)
		slog(LOG_WARN, "XFRM %s: %s", what, strerror(-err));
	return err ? -1 : 0;
}

/*
 * An SA that only holds an SPI (sync_spi.c): the key of sa, tunnel mode
 * from its source, reqid SYNC_REQID, no mark, no limits, and a random key
 * that nobody keeps (AES-GCM for ESP, HMAC-SHA256 for AH). 0 or -errno.
 */
int xfrm_add_placeholder(const struct xsa *sa)
{
	uint8_t buf[1024] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	union {
		struct xfrm_algo_aead aead;
		struct xfrm_algo_auth auth;
		uint8_t raw[sizeof(struct xfrm_algo_auth) + 32];
	} al = { 0 };
	bool esp = sa->proto == IPPROTO_ESP;
	unsigned int klen = esp ? 20 : 32;
	struct xfrm_usersa_info *p;
	uint8_t *key;
	int err;

	nlh->nlmsg_type = XFRM_MSG_NEWSA;
	p = mnl_nlmsg_put_extra_header(nlh, sizeof(*p));
	memcpy(&p->id.daddr, sa->dst, 16);
	memcpy(&p->saddr, sa->src, 16);
	p->id.spi = sa->spi;
	p->id.proto = sa->proto;
	p->family = sa->family;
	p->mode = XFRM_MODE_TUNNEL;
	p->reqid = SYNC_REQID;
	p->lft.soft_byte_limit = XFRM_INF;
	p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;
	if (esp) {
		strcpy(al.aead.alg_name, "rfc4106(gcm(aes))");
		al.aead.alg_key_len = klen * 8;
		al.aead.alg_icv_len = 128;
		key = (uint8_t *)al.aead.alg_key;
	} else {
		strcpy(al.auth.alg_name, "hmac(sha256)");
		al.auth.alg_key_len = klen * 8;
		al.auth.alg_trunc_len = 128;
		key = (uint8_t *)al.auth.alg_key;
	}
	if (getrandom(key, klen, 0) != (ssize_t)klen) {
		explicit_bzero(&al, sizeof(al));
		return -EIO;
	}
	if (esp)
		mnl_attr_put(nlh, XFRMA_ALG_AEAD, sizeof(al.aead) + klen, &al);
	else
		mnl_attr_put(nlh, XFRMA_ALG_AUTH_TRUNC, sizeof(al.auth) + klen,
			     &al);
	explicit_bzero(&al, sizeof(al));
	err = request_err(nlh, "NEWSA (placeholder)");
	explicit_bzero(buf, sizeof(buf));
	return err;
}

int xfrm_del_sa(const struct xsa *sa)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_usersa_id *id;

	nlh->nlmsg_type = XFRM_MSG_DELSA;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	memcpy(&id->daddr, sa->dst, 16);
	id->spi = sa->spi;
	id->family = sa->family;
	id->proto = sa->proto;
	return request(nlh, "DELSA");
}

int xfrm_send_expire(const struct xsa *sa, bool hard)
{
	uint8_t buf[1024] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_user_expire *e;
	int err;

	nlh->nlmsg_type = XFRM_MSG_EXPIRE;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	memcpy(&e->state.id.daddr, sa->dst, 16);
	memcpy(&e->state.saddr, sa->src, 16);
	e->state.id.spi = sa->spi;
	e->state.id.proto = sa->proto;
	e->state.family = sa->family;
	e->state.reqid = sa->reqid;
	e->hard = hard;
	put_mark(nlh, sa);
	err = request_err(nlh, "EXPIRE");
	/* both SAs of a child expire; charon deletes the pair on the first */
	if (err == -ENOENT)
		slog(LOG_INFO, "XFRM EXPIRE: the native SA is gone already");
	else if (err)
		slog(LOG_WARN, "XFRM EXPIRE (%s): %s", hard ? "hard" : "soft",
		     strerror(-err));
	return err ? -1 : 0;
}

/*
 * The sequence numbers go with the usage: the native SA is where a later
 * sync-xfrm (after a restart) finds them again. The native SA never carries
 * a packet, so its replay bitmap is left empty.
 */
static void put_replay(struct nlmsghdr *nlh, const struct xsa *sa,
		       uint64_t oseq, uint64_t seq)
{
	if (sa->esn_bmp_len) {
		uint32_t words[512 / sizeof(uint32_t)] = { 0 };
		struct xfrm_replay_state_esn *r = (void *)words;
		size_t len = sizeof(*r) + sa->esn_bmp_len * sizeof(uint32_t);

		if (len > sizeof(words))
			return;
		r->bmp_len = sa->esn_bmp_len;
		r->replay_window = sa->replay_window;
		r->oseq = oseq;
		r->oseq_hi = oseq >> 32;
		r->seq = seq;
		r->seq_hi = seq >> 32;
		mnl_attr_put(nlh, XFRMA_REPLAY_ESN_VAL, len, r);
	} else {
		struct xfrm_replay_state r = { .oseq = oseq, .seq = seq };

		mnl_attr_put(nlh, XFRMA_REPLAY_VAL, sizeof(r), &r);
	}
}

int xfrm_send_usage(const struct xsa *sa, uint64_t bytes, uint64_t packets,
		    uint64_t use_time, uint64_t oseq, uint64_t seq)
{
	uint8_t buf[2048] __attribute__((aligned(8)));
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct xfrm_lifetime_cur cur = {
		.bytes = bytes, .packets = packets,
		.add_time = sa->add_time, .use_time = use_time,
	};
	struct xfrm_aevent_id *ae;

	nlh->nlmsg_type = XFRM_MSG_NEWAE;
	nlh->nlmsg_flags = NLM_F_REPLACE;
	ae = mnl_nlmsg_put_extra_header(nlh, sizeof(*ae));
	memcpy(&ae->sa_id.daddr, sa->dst, 16);
	memcpy(&ae->saddr, sa->src, 16);
	ae->sa_id.spi = sa->spi;
	ae->sa_id.proto = sa->proto;
	ae->sa_id.family = sa->family;
	ae->reqid = sa->reqid;
	ae->flags = XFRM_AE_LVAL | XFRM_AE_RVAL;
	mnl_attr_put(nlh, XFRMA_LTIME_VAL, sizeof(cur), &cur);
	put_replay(nlh, sa, oseq, seq);
	put_mark(nlh, sa);
	return request(nlh, "NEWAE");
}
