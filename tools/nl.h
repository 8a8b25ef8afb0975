/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KIPSEC_NL_H
#define KIPSEC_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

/* Big enough for any request: keys are at most KIPSEC_MAX_KEY_BYTES. */
#define NL_REQ_SIZE 8192

enum nl_group { NL_GRP_SA, NL_GRP_POLICY, NL_GRP_ACQUIRE, NL_GRP_MAX };

/* Called for each reply message; return < 0 to stop with an error. */
typedef int (*nl_cb_t)(const struct nlmsghdr *nlh, void *data);

int nl_open(void);
void nl_close(void);
int nl_fd(void);
int nl_join(enum nl_group grp);
uint16_t nl_family_id(void);
uint32_t nl_group_id(enum nl_group grp);

/* A kipsec request header in buf (NL_REQ_SIZE bytes). */
struct nlmsghdr *nl_msg(void *buf, uint8_t cmd, uint16_t flags);

/* Sends a request with NLM_F_ACK, runs cb on replies; errors are printed. */
int nl_request(struct nlmsghdr *nlh, nl_cb_t cb, void *data,
	       const char *what);
/* A dump: cb runs for every message; *intr tells NLM_F_DUMP_INTR was seen. */
int nl_dump(struct nlmsghdr *nlh, nl_cb_t cb, void *data, const char *what,
	    bool *intr);
/*
 * A dump printed as one JSON array (or text): output goes to memory and
 * the whole dump is retried when the kernel marks it interrupted.
 */
int nl_dump_print(struct nlmsghdr *nlh, nl_cb_t cb, void *data,
		  const char *what);
/* add/update/del: pipelined inside -batch, else nl_request(). */
int nl_submit(struct nlmsghdr *nlh, const char *what);
/* Sends what -batch queued and reads the acks; returns the error count. */
int nl_batch_flush(void);
/* Kernel errors reported by all flushes so far. */
int nl_batch_errors(void);

/* Receives one buffer of messages for monitor; calls cb on each. */
int nl_recv_events(nl_cb_t cb, void *data);

/*
 * Attribute tables: parse the attributes of a nest (or of a genl message)
 * into tb[0..max], dropping those whose type fails validation.
 */
struct nl_pol {
	unsigned int max;
	const enum mnl_attr_data_type *types;
};

void nl_parse_nest(const struct nlattr *nest, const struct nl_pol *pol,
		   const struct nlattr **tb);
void nl_parse_msg(const struct nlmsghdr *nlh, const struct nl_pol *pol,
		  const struct nlattr **tb);
uint8_t genl_cmd(const struct nlmsghdr *nlh);

#endif
