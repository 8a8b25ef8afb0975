/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared plumbing of the C test programs that talk to the "kipsec" generic
 * netlink family (genl_malformed.c, genl_fuzz.c): the socket, message
 * headers, request/ACK transactions with extack, dumps, KTAP points.
 */

#ifndef KIPSEC_TEST_GENL_H
#define KIPSEC_TEST_GENL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

extern struct mnl_socket *nl;
extern unsigned int seq;
extern uint16_t family;
extern int tests, failed;

/* Open the socket (extack and capped ACKs on) and resolve the family. */
int genl_open(void);
/* Start a kipsec request: header, genl header, ++seq. */
struct nlmsghdr *msg_start(char *buf, int cmd, uint16_t flags);
/* An attribute of @len bytes, all @fill (len <= 64). */
void put_bytes(struct nlmsghdr *nlh, int type, int len, int fill);
/* Send, wait for the ACK; return -errno (0 on success), copy extack. */
int transact(struct nlmsghdr *nlh, char *ext, size_t extlen);
/* The same, calling @cb (if not NULL) on each reply before the ACK. */
int transact_cb(struct nlmsghdr *nlh, char *ext, size_t extlen,
		mnl_cb_t cb, void *data);
/* Entries a dump of @cmd returns, or -errno. */
int dump_count(int cmd);
/*
 * Dump @cmd, calling @cb on each entry; *@intr is set if a part was
 * marked NLM_F_DUMP_INTR. Return: entries, or -errno.
 */
int dump_each(int cmd, uint32_t req_flags, mnl_cb_t cb, void *data,
	      bool *intr);
/* A KTAP test point. */
void report(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
