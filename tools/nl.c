// SPDX-License-Identifier: GPL-2.0
/*
 * The netlink socket: family and multicast group resolution, requests with
 * extended acks, dumps, and the pipelined batches of -batch.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RECV_SIZE (64 * 1024)
#define BATCH_BYTES (64 * 1024)
#define DUMP_RETRIES 8

static struct {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	uint16_t family;
	uint32_t grp[NL_GRP_MAX];
	unsigned int batch_max;	/* messages per sendmsg, bounded by rcvbuf */
} nl;

static uint8_t rbuf[RECV_SIZE] __attribute__((aligned(8)));

static const char *const grp_names[NL_GRP_MAX] = {
	[NL_GRP_SA] = KIPSEC_MCGRP_SA,
	[NL_GRP_POLICY] = KIPSEC_MCGRP_POLICY,
	[NL_GRP_ACQUIRE] = KIPSEC_MCGRP_ACQUIRE,
};

struct parse_data {
	const struct nl_pol *pol;
	const struct nlattr **tb;
};

static int parse_attr_cb(const struct nlattr *a, void *data)
{
	const struct parse_data *pd = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type > pd->pol->max)
		return MNL_CB_OK;	/* newer kernel: ignore */
	if (mnl_attr_validate(a, pd->pol->types[type]) < 0)
		return MNL_CB_OK;	/* malformed: treat as absent */
	pd->tb[type] = a;
	return MNL_CB_OK;
}

void nl_parse_nest(const struct nlattr *nest, const struct nl_pol *pol,
		   const struct nlattr **tb)
{
	struct parse_data pd = { pol, tb };

	memset(tb, 0, sizeof(*tb) * (pol->max + 1));
	if (nest)
		mnl_attr_parse_nested(nest, parse_attr_cb, &pd);
}

void nl_parse_msg(const struct nlmsghdr *nlh, const struct nl_pol *pol,
		  const struct nlattr **tb)
{
	struct parse_data pd = { pol, tb };

	memset(tb, 0, sizeof(*tb) * (pol->max + 1));
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), parse_attr_cb, &pd);
}

uint8_t genl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return 0;
	return g->cmd;
}

/* The kernel's error, with its extack message if it sent one. */
static void report(const struct nlmsghdr *nlh, int err, const char *what)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const char *msg = NULL;
	const struct nlattr *a;
	uint32_t miss = 0;
	char extra[64] = "";

	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		size_t off = sizeof(*e);

		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
		mnl_attr_for_each(a, nlh, off) {
			switch (mnl_attr_get_type(a)) {
			case NLMSGERR_ATTR_MSG:
				if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
					msg = mnl_attr_get_str(a);
				break;
			case 5: /* NLMSGERR_ATTR_MISS_TYPE, 6.0+ headers */
				if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
					miss = mnl_attr_get_u32(a);
				break;
			}
		}
	}
	if (miss)
		snprintf(extra, sizeof(extra), " (missing attribute %u)", miss);
	if (err == ENOENT && !msg && !strncmp(what, "generic netlink", 15))
		msg = "is the kipsec module loaded?";
	if (msg && *msg)
		errorf("%s: %s: %s%s", what, strerror(err), msg, extra);
	else
		errorf("%s: %s%s", what, strerror(err), extra);
}

struct nlmsghdr *nl_msg(void *buf, uint8_t cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = nl.family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = KIPSEC_GENL_VERSION;
	return nlh;
}

/* Reads replies to seq until its ack, NLMSG_DONE or an error. */
static int run(uint32_t seq, nl_cb_t cb, void *data, const char *what,
	       bool *intr)
{
	int ret = 0;

	for (;;) {
		const struct nlmsghdr *nlh;
		ssize_t n = mnl_socket_recvfrom(nl.sock, rbuf, sizeof(rbuf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errorf("%s: receive: %s", what, strerror(errno));
			return -1;
		}
		int len = n;

		for (nlh = (void *)rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq != seq)
				continue;	/* stale or multicast */
			if ((nlh->nlmsg_flags & NLM_F_DUMP_INTR) && intr)
				*intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e =
					mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
					errorf("%s: truncated error message", what);
					return -1;
				}
				if (e->error) {
					report(nlh, -e->error, what);
					return -1;
				}
				return ret;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				const int *err = mnl_nlmsg_get_payload(nlh);

				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int)) &&
				    *err < 0) {
					report(nlh, -*err, what);
					return -1;
				}
				return ret;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (cb && !ret && cb(nlh, data) < 0)
				ret = -1;	/* keep reading to the end */
		}
	}
}

static int send_msg(struct nlmsghdr *nlh, const char *what)
{
	nlh->nlmsg_seq = ++nl.seq;
	if (mnl_socket_sendto(nl.sock, nlh, nlh->nlmsg_len) < 0) {
		errorf("%s: send: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

int nl_request(struct nlmsghdr *nlh, nl_cb_t cb, void *data,
	       const char *what)
{
	int ret;

	nlh->nlmsg_flags |= NLM_F_ACK;
	if (send_msg(nlh, what))
		return -1;
	ret = run(nlh->nlmsg_seq, cb, data, what, NULL);
	explicit_bzero(rbuf, sizeof(rbuf));
	return ret;
}

int nl_dump(struct nlmsghdr *nlh, nl_cb_t cb, void *data, const char *what,
	    bool *intr)
{
	int ret;

	nlh->nlmsg_flags |= NLM_F_DUMP;
	if (send_msg(nlh, what))
		return -1;
	ret = run(nlh->nlmsg_seq, cb, data, what, intr);
	explicit_bzero(rbuf, sizeof(rbuf));
	return ret;
}

int nl_dump_print(struct nlmsghdr *nlh, nl_cb_t cb, void *data,
		  const char *what)
{
	FILE *saved = kout;
	int ret;

	for (int tries = 0;; tries++) {
		char *mem = NULL;
		size_t len = 0;
		bool intr = false;
		FILE *f = open_memstream(&mem, &len);

		if (!f) {
			errorf("%s: %s", what, strerror(errno));
			return -1;
		}
		kout = f;
		json_reset();
		open_json_array(NULL);
		ret = nl_dump(nlh, cb, data, what, &intr);
		close_json_array();
		print_nl();
		fclose(f);
		kout = saved;
		if (!ret && intr && tries < DUMP_RETRIES) {
			explicit_bzero(mem, len);
			free(mem);
			continue;
		}
		if (!ret) {
			fwrite(mem, 1, len, kout);
			if (intr)
				notef("%s: dump was interrupted %d times and may be inconsistent",
				      what, tries + 1);
		}
		explicit_bzero(mem, len);
		free(mem);
		fflush(kout);
		return ret;
	}
}

/*
 * -batch: many requests per sendmsg. Only the last request of a write asks
 * for an ack: the kernel handles the requests of one write in order, in
 * the writer's context, and acks every failed one whether asked or not, so
 * the last ack follows every error of the write. One ack per write instead
 * of one per request.
 */
struct pending {
	uint32_t seq;
	int line;
	const char *what;
};

static struct {
	uint8_t *buf;
	size_t len;
	size_t last;	/* offset of the last request in buf */
	struct pending *p;
	unsigned int n, cap;
	int reported;
	int errors;	/* kernel errors over the whole -batch run */
} batch;

int nl_batch_errors(void)
{
	return batch.errors;
}

int nl_submit(struct nlmsghdr *nlh, const char *what)
{
	if (!opts.batching)
		return nl_request(nlh, NULL, NULL, what);
	if (!batch.buf) {
		batch.buf = malloc(BATCH_BYTES);
		batch.cap = nl.batch_max;
		batch.p = calloc(batch.cap, sizeof(*batch.p));
		if (!batch.buf || !batch.p) {
			errorf("%s: out of memory", what);
			return -1;
		}
	}
	if (batch.len + nlh->nlmsg_len > BATCH_BYTES || batch.n == batch.cap) {
		if (nl_batch_flush())
			return opts.force ? 0 : -1;
	}
	nlh->nlmsg_flags &= ~NLM_F_ACK;
	nlh->nlmsg_seq = ++nl.seq;
	memcpy(batch.buf + batch.len, nlh, nlh->nlmsg_len);
	batch.last = batch.len;
	batch.len += NLMSG_ALIGN(nlh->nlmsg_len);
	batch.p[batch.n++] = (struct pending){ nlh->nlmsg_seq, opts.line, what };
	return 0;
}

static struct pending *find_pending(uint32_t seq)
{
	unsigned int lo = 0, hi = batch.n;

	while (lo < hi) {
		unsigned int mid = (lo + hi) / 2;

		if (batch.p[mid].seq == seq)
			return &batch.p[mid];
		if (batch.p[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int nl_batch_flush(void)
{
	int errors = 0, saved_line = opts.line;
	bool done = false;
	uint32_t last_seq;
	ssize_t sent;

	if (!batch.n)
		return 0;
	last_seq = batch.p[batch.n - 1].seq;
	((struct nlmsghdr *)(batch.buf + batch.last))->nlmsg_flags |= NLM_F_ACK;
	sent = mnl_socket_sendto(nl.sock, batch.buf, batch.len);
	explicit_bzero(batch.buf, batch.len);
	if (sent < 0) {
		errorf("batch: send: %s", strerror(errno));
		batch.n = 0;
		batch.len = 0;
		batch.errors++;
		return 1;
	}
	while (!done) {
		const struct nlmsghdr *nlh;
		ssize_t n = mnl_socket_recvfrom(nl.sock, rbuf, sizeof(rbuf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			errorf("batch: receive: %s%s", strerror(errno),
			       errno == ENOBUFS ? " (acknowledgements lost)" : "");
			errors++;
			break;
		}
		int len = n;

		for (nlh = (void *)rbuf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			struct pending *p;

			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;	/* replies (policy ids) */
			p = find_pending(nlh->nlmsg_seq);
			if (!p)
				continue;
			done |= p->seq == last_seq;
			if (!e->error)
				continue;
			errors++;
			if (opts.force || !batch.reported++) {
				opts.line = p->line;
				report(nlh, -e->error, p->what);
				opts.line = saved_line;
			}
		}
	}
	batch.n = 0;
	batch.len = 0;
	batch.errors += errors;
	return errors;
}

int nl_recv_events(nl_cb_t cb, void *data)
{
	const struct nlmsghdr *nlh;
	ssize_t n = mnl_socket_recvfrom(nl.sock, rbuf, sizeof(rbuf));

	int len = n;

	if (n < 0)
		return -errno;
	for (nlh = (void *)rbuf; mnl_nlmsg_ok(nlh, len);
	     nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type == nl.family)
			cb(nlh, data);
	}
	return 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	static const enum mnl_attr_data_type types[CTRL_ATTR_MAX + 1] = {
		[CTRL_ATTR_FAMILY_ID] = MNL_TYPE_U16,
		[CTRL_ATTR_MCAST_GROUPS] = MNL_TYPE_NESTED,
	};
	static const enum mnl_attr_data_type gtypes[CTRL_ATTR_MCAST_GRP_MAX + 1] = {
		[CTRL_ATTR_MCAST_GRP_NAME] = MNL_TYPE_NUL_STRING,
		[CTRL_ATTR_MCAST_GRP_ID] = MNL_TYPE_U32,
	};
	static const struct nl_pol pol = { CTRL_ATTR_MAX, types };
	static const struct nl_pol gpol = { CTRL_ATTR_MCAST_GRP_MAX, gtypes };
	const struct nlattr *tb[CTRL_ATTR_MAX + 1];
	const struct nlattr *a;

	(void)data;
	nl_parse_msg(nlh, &pol, tb);
	if (tb[CTRL_ATTR_FAMILY_ID])
		nl.family = mnl_attr_get_u16(tb[CTRL_ATTR_FAMILY_ID]);
	if (!tb[CTRL_ATTR_MCAST_GROUPS])
		return 0;
	mnl_attr_for_each_nested(a, tb[CTRL_ATTR_MCAST_GROUPS]) {
		const struct nlattr *g[CTRL_ATTR_MCAST_GRP_MAX + 1];

		nl_parse_nest(a, &gpol, g);
		if (!g[CTRL_ATTR_MCAST_GRP_NAME] || !g[CTRL_ATTR_MCAST_GRP_ID])
			continue;
		for (int i = 0; i < NL_GRP_MAX; i++)
			if (!strcmp(mnl_attr_get_str(g[CTRL_ATTR_MCAST_GRP_NAME]),
				    grp_names[i]))
				nl.grp[i] = mnl_attr_get_u32(g[CTRL_ATTR_MCAST_GRP_ID]);
	}
	return 0;
}

int nl_open(void)
{
	uint8_t buf[NL_REQ_SIZE] __attribute__((aligned(8)));
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	int one = 1, rcv = 8 << 20;

	if (nl.sock)
		return 0;
	nl.sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl.sock) {
		errorf("netlink socket: %s", strerror(errno));
		return -1;
	}
	if (mnl_socket_bind(nl.sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		errorf("netlink bind: %s", strerror(errno));
		goto err;
	}
	nl.portid = mnl_socket_get_portid(nl.sock);
	nl.seq = time(NULL);
	mnl_socket_setsockopt(nl.sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl.sock, NETLINK_CAP_ACK, &one, sizeof(one));
	/*
	 * Every failed pipelined request queues an error ack (with its
	 * extended ack); a full receive buffer would drop them, so size
	 * batches to it.
	 */
	if (setsockopt(mnl_socket_get_fd(nl.sock), SOL_SOCKET, SO_RCVBUFFORCE,
		       &rcv, sizeof(rcv)) == 0) {
		nl.batch_max = 1024;
	} else {
		rcv = 1 << 20;
		setsockopt(mnl_socket_get_fd(nl.sock), SOL_SOCKET, SO_RCVBUF,
			   &rcv, sizeof(rcv));
		nl.batch_max = 96;
	}

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPSEC_GENL_NAME);
	if (nl_request(nlh, family_cb, NULL,
		       "generic netlink family \"" KIPSEC_GENL_NAME "\""))
		goto err;
	if (!nl.family) {
		errorf("generic netlink family \"%s\": no id in reply",
		       KIPSEC_GENL_NAME);
		goto err;
	}
	return 0;
err:
	mnl_socket_close(nl.sock);
	nl.sock = NULL;
	return -1;
}

void nl_close(void)
{
	if (nl.sock)
		mnl_socket_close(nl.sock);
	nl.sock = NULL;
	free(batch.buf);
	free(batch.p);
	batch.buf = NULL;
	batch.p = NULL;
}

int nl_fd(void)
{
	return mnl_socket_get_fd(nl.sock);
}

/* The family id and a multicast group id, as nl_open() resolved them (0: none). */
uint16_t nl_family_id(void)
{
	return nl.family;
}

uint32_t nl_group_id(enum nl_group grp)
{
	return nl.grp[grp];
}

int nl_join(enum nl_group grp)
{
	if (!nl.grp[grp]) {
		errorf("monitor: the kernel has no \"%s\" multicast group",
		       grp_names[grp]);
		return -1;
	}
	if (mnl_socket_setsockopt(nl.sock, NETLINK_ADD_MEMBERSHIP, &nl.grp[grp],
				  sizeof(nl.grp[grp])) < 0) {
		errorf("monitor: joining group \"%s\": %s", grp_names[grp],
		       strerror(errno));
		return -1;
	}
	return 0;
}
