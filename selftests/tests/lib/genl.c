// SPDX-License-Identifier: GPL-2.0
/*
 * Shared plumbing of the C test programs that talk to the "kipsec" generic
 * netlink family: see genl.h.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/kipsec.h>
#include <linux/netlink.h>

#include "genl.h"

struct mnl_socket *nl;
unsigned int seq;
uint16_t family;
int tests, failed;

struct nlmsghdr *msg_start(char *buf, int cmd, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = KIPSEC_GENL_VERSION;
	return nlh;
}

void put_bytes(struct nlmsghdr *nlh, int type, int len, int fill)
{
	unsigned char b[64];

	memset(b, fill, sizeof(b));
	mnl_attr_put(nlh, type, len, b);
}

int transact_cb(struct nlmsghdr *nlh, char *ext, size_t extlen,
		mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	unsigned int portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *r;
	int n, err = 0;

	ext[0] = '\0';
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		for (r = (struct nlmsghdr *)buf; mnl_nlmsg_ok(r, n);
		     r = mnl_nlmsg_next(r, &n)) {
			struct nlmsgerr *e;
			struct nlattr *a;

			if (r->nlmsg_seq != nlh->nlmsg_seq ||
			    r->nlmsg_pid != portid)
				continue;
			if (r->nlmsg_type != NLMSG_ERROR) {
				if (cb)
					cb(r, data);
				continue;
			}
			e = mnl_nlmsg_get_payload(r);
			err = e->error;
			if (r->nlmsg_flags & NLM_F_ACK_TLVS) {
				mnl_attr_for_each(a, r, sizeof(*e)) {
					if (mnl_attr_get_type(a) ==
					    NLMSGERR_ATTR_MSG)
						snprintf(ext, extlen, "%s",
							 mnl_attr_get_str(a));
				}
			}
			return err;
		}
	}
}

int transact(struct nlmsghdr *nlh, char *ext, size_t extlen)
{
	return transact_cb(nlh, ext, extlen, NULL, NULL);
}

void report(bool ok, const char *fmt, ...)
{
	va_list ap;

	tests++;
	if (!ok)
		failed++;
	printf("%s %d ", ok ? "ok" : "not ok", tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static int family_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID)
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_cb, data);
	return MNL_CB_OK;
}

static int resolve_family(void)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;
	int n;

	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = ++seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, KIPSEC_GENL_NAME);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0)
		return -1;
	if (mnl_cb_run(buf, n, seq, mnl_socket_get_portid(nl), family_msg_cb,
		       &family) < 0)
		return -1;
	return family ? 0 : -1;
}

int genl_open(void)
{
	int one = 1;

	nl = mnl_socket_open(NETLINK_GENERIC);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		perror("netlink");
		return -1;
	}
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	seq = time(NULL);
	return resolve_family();
}

struct dump_ctx {
	mnl_cb_t cb;
	void *data;
	bool *intr;
	int count;
};

static int dump_entry_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		*d->intr = true;
	d->count++;
	return d->cb ? d->cb(nlh, d->data) : MNL_CB_OK;
}

int dump_each(int cmd, uint32_t req_flags, mnl_cb_t cb, void *data,
	      bool *intr)
{
	/*
	 * The kernel sizes dump parts after the largest receive buffer
	 * seen on the socket (up to 32 KiB): take whole parts.
	 */
	static char buf[64 * 1024];
	struct nlmsghdr *nlh = msg_start(buf, cmd, NLM_F_DUMP);
	struct dump_ctx d = { .cb = cb, .data = data, .intr = intr };
	unsigned int s = nlh->nlmsg_seq;
	bool dummy = false;
	int n, ret;

	if (!d.intr)
		d.intr = &dummy;
	if (req_flags)
		mnl_attr_put_u32(nlh, KIPSEC_A_FLAGS, req_flags);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, s, mnl_socket_get_portid(nl),
				 dump_entry_cb, &d);
	} while (ret > 0);
	return ret < 0 ? -errno : d.count;
}

int dump_count(int cmd)
{
	return dump_each(cmd, 0, NULL, NULL, NULL);
}
