/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KIPSEC_KIPSEC_H
#define KIPSEC_KIPSEC_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kipsec.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct nlattr;
struct nl_pol;

struct opts {
	bool json;
	bool stats;
	bool keys;
	bool force;
	bool quiet;	/* errorf() prints nothing */
	bool batching;	/* inside -batch: add/update/del are pipelined */
	int line;	/* current -batch line, 0 outside -batch */
};

extern struct opts opts;

/* "kipsec: [batch line N: ]message" on stderr, one line. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int enter_netns(const char *name);
/* A notice on stderr ("kipsec: ..."), not an error. */
void notef(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_sa(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_algs(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_monitor(int argc, char **argv);
int cmd_summary(void);

/* util.c: printing of objects shared by several commands */
void print_sa(const struct nlattr *nest, const char *key);
void print_policy(const struct nlattr *nest, const char *key);
void print_sel(const struct nlattr *nest, const char *key);
void print_tuple(const struct nlattr *nest, const char *key);
/* The attribute table of a policy (KIPSEC_POL_A_*), for nl_parse_nest(). */
extern const struct nl_pol policy_nl_pol;
/* attribute tables of an SA and of a lifetime nest, for nl_parse_nest() */
extern const struct nl_pol sa_nl_pol;
extern const struct nl_pol lft_nl_pol;
void print_stats(const struct nlattr *nest, const char *key, bool nonzero);
const char *stat_name(unsigned int i);
const char *dir_name(unsigned int d);
const char *action_name(unsigned int a);
const char *mode_name(unsigned int m);
const char *verdict_name(unsigned int v);

/* util.c: the plumbing of get, show and flush, shared by sa and policy */
struct nlmsghdr;
/* A reply callback (nl_cb_t): prints the SA or policy a message carries. */
int print_obj_cb(const struct nlmsghdr *nlh, void *data);
/* get: sends @nlh and prints the reply as a list of one; 0 or 1. */
int print_reply(struct nlmsghdr *nlh,
		int (*cb)(const struct nlmsghdr *nlh, void *data), void *data,
		const char *ctx);
/* show [-s] [-k] [-j]: dumps @cmd; @keys: -k asks the kernel for keys. */
int show_dump(int argc, char **argv, uint8_t cmd, bool keys, const char *ctx);
/* flush: @cmd, with the u8 attribute @type = @value unless @value < 0. */
int send_flush(uint8_t cmd, uint16_t type, int value, const char *ctx);
/* Takes -s/-k/-j off the end of the arguments (get); 0 or -1. */
int get_show_opts(int *argcp, char **argv, const char *ctx);

/* "kipsec OBJ VERB ...": the first verb is what OBJ alone runs. */
struct verb {
	const char *name;
	int (*run)(int argc, char **argv, bool alt);
	bool alt;	/* passed to run: update for add, get for del... */
};

int run_verb(const char *obj, const struct verb *verbs, size_t n, int argc,
	     char **argv, const char *expected);

/* algs.c: default ICV of an auth algorithm, 0 if unknown */
unsigned int alg_default_icv(const char *name);

/* Option helpers for show commands: -s, -k, -j after the command. */
int parse_show_opts(int argc, char **argv, const char *ctx);

#endif
