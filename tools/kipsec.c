// SPDX-License-Identifier: GPL-2.0
/*
 * kipsec: configure the kipsec IPsec module (SAs, policies, statistics).
 * Command table, global options, -batch and -n.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "kipsec.h"
#include "nl.h"
#include "parse.h"
#include "sync.h"

struct opts opts;

static const char usage_text[] =
"Usage: kipsec [-j] [-s] [-k|--keys] [-n NETNS] [-force] [-batch FILE|-] COMMAND\n"
"\n"
"  kipsec sa add|update src ADDR dst ADDR proto esp|ah spi SPI\n"
"         [mode transport|tunnel] [reqid N]\n"
"         [aead NAME KEY ICVBITS] [enc NAME KEY] [auth NAME KEY]\n"
"         [auth-trunc NAME KEY BITS] [replay-window N]\n"
"         [flag esn|noecn|nodscp|nonstd-trunc ...] [df copy|set|clear]\n"
"         [seq-out N] [seq-in N] [encap espinudp SPORT DPORT [OADDR]]\n"
"         [lifetime soft|hard [bytes N] [packets N] [add SECS] [use SECS]]...\n"
"         [sel [src PREFIX] [dst PREFIX] [proto PROTO] [sport N[-M]]\n"
"              [dport N[-M]] [type N] [code N]]\n"
"  kipsec sa del|get [src ADDR] dst ADDR proto esp|ah spi SPI\n"
"  kipsec sa show [-s] [-k]\n"
"  kipsec sa flush [proto esp|ah]\n"
"  kipsec sa getspi src ADDR dst ADDR proto esp|ah [min N] [max N]\n"
"         [mode transport|tunnel] [reqid N]\n"
"  kipsec policy add|update dir in|out|fwd [src PREFIX] [dst PREFIX]\n"
"         [proto PROTO] [sport N[-M]] [dport N[-M]] [type N] [code N]\n"
"         [priority N] action protect|bypass|discard [id N (update)]\n"
"         [tmpl [proto esp|ah] [mode transport|tunnel] [src ADDR dst ADDR]\n"
"               [reqid N] [spi SPI] [level required|use]]...\n"
"  kipsec policy del|get id N | dir in|out|fwd SELECTOR [priority N]\n"
"  kipsec policy show [-s]\n"
"  kipsec policy flush [dir in|out|fwd]\n"
"  kipsec config set default-in|default-out|default-fwd bypass|discard ...\n"
"  kipsec config show\n"
"  kipsec stats\n"
"  kipsec algs\n"
"  kipsec explain [dir in|out|fwd] src ADDR dst ADDR [proto PROTO]\n"
"         [sport N] [dport N] [type N] [code N]\n"
"  kipsec monitor\n"
"  kipsec sync-xfrm [--vici PATH] [--netns NAME] [--no-bypass]\n"
"         [--on-demand trap|all|none] [-v|-q]\n"
"  kipsec help\n"
"\n"
"KEY is 0xHEX or a string; AEAD keys end with their salt, as ip xfrm takes\n"
"them. PREFIX is ADDR[/LEN] or any. Keys are shown only with -k.\n";

void errorf(const char *fmt, ...)
{
	va_list ap;

	if (opts.quiet)
		return;
	fflush(stdout);
	fputs("kipsec: ", stderr);
	if (opts.line)
		fprintf(stderr, "batch line %d: ", opts.line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void notef(const char *fmt, ...)
{
	va_list ap;

	fputs("kipsec: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int parse_show_opts(int argc, char **argv, const char *ctx)
{
	for (; argc > 0; argc--, argv++) {
		if (matches(*argv, "-s") || matches(*argv, "-stats") ||
		    matches(*argv, "--stats"))
			opts.stats = true;
		else if (matches(*argv, "-k") || matches(*argv, "--keys"))
			opts.keys = true;
		else if (matches(*argv, "-j") || matches(*argv, "-json") ||
			 matches(*argv, "--json"))
			opts.json = true, json_enable(true);
		else
			return unknown_keyword(ctx, *argv);
	}
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs(usage_text, stdout);
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "sa", cmd_sa },
	{ "state", cmd_sa },
	{ "policy", cmd_policy },
	{ "config", cmd_config },
	{ "stats", cmd_stats },
	{ "algs", cmd_algs },
	{ "explain", cmd_explain },
	{ "monitor", cmd_monitor },
	{ "sync-xfrm", cmd_sync_xfrm },
	{ "help", cmd_help },
};

static int run_command(int argc, char **argv)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (matches(argv[0], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1) ? 1 : 0;
	errorf("unknown command \"%s\" (try \"kipsec help\")", argv[0]);
	return 1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Splits a batch line into words: blanks separate, '...' and "..." quote,
 * backslash escapes, # at the start of a word ends the line.
 */
static int split_line(char *line, char **argv, int max)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		char quote = 0;

		while (is_blank(*r))
			r++;
		if (!*r || *r == '#')
			return argc;
		if (argc == max) {
			errorf("too many words");
			return -1;
		}
		argv[argc++] = w;
		for (; *r && (quote || !is_blank(*r)); r++) {
			if (quote) {
				if (*r == quote)
					quote = 0;
				else
					*w++ = *r;
			} else if (*r == '\'' || *r == '"') {
				quote = *r;
			} else if (*r == '\\' && r[1]) {
				*w++ = *++r;
			} else {
				*w++ = *r;
			}
		}
		if (quote) {
			errorf("unterminated quote");
			return -1;
		}
		if (*r)
			r++;
		*w++ = '\0';
	}
}

static int run_batch(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	int errors = 0;

	if (!f) {
		errorf("cannot open batch file \"%s\": %s", path, strerror(errno));
		return 1;
	}
	opts.batching = true;
	while (getline(&line, &cap, f) >= 0) {
		char *argv[256];
		int argc;

		opts.line++;
		argc = split_line(line, argv, 256);
		if (argc == 0)
			continue;
		if (argc < 0 || run_command(argc, argv)) {
			errors++;
			if (!opts.force)
				break;
		}
	}
	if (line)
		explicit_bzero(line, cap);
	free(line);
	if (f != stdin)
		fclose(f);
	opts.line = 0;
	/* flush what is queued, even after an error: earlier lines apply */
	nl_batch_flush();
	errors += nl_batch_errors();
	opts.batching = false;
	return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *batch = NULL;
	bool version = false;
	int ret;

	kout = stdout;
	for (argc--, argv++; argc > 0 && argv[0][0] == '-'; argc--, argv++) {
		const char *o = argv[0];

		if (o[1] == '-' && o[2])	/* --keys == -keys */
			o++;
		if (matches(o, "-j") || matches(o, "-json")) {
			opts.json = true;
		} else if (matches(o, "-s") || matches(o, "-stats")) {
			opts.stats = true;
		} else if (matches(o, "-k") || matches(o, "-keys")) {
			opts.keys = true;
		} else if (matches(o, "-force")) {
			opts.force = true;
		} else if (matches(o, "-n") || matches(o, "-netns")) {
			if (argc < 2)
				return missing_arg("options", argv[0]) ? 1 : 0;
			argc--;
			argv++;
			if (enter_netns(argv[0]))
				return 1;
		} else if (matches(o, "-b") || matches(o, "-batch")) {
			if (argc < 2)
				return missing_arg("options", argv[0]) ? 1 : 0;
			argc--;
			argv++;
			batch = argv[0];
		} else if (matches(o, "-h") || matches(o, "-help")) {
			return cmd_help(0, NULL);
		} else if (matches(o, "-V") || matches(o, "-version")) {
			version = true;
		} else {
			errorf("unknown option \"%s\" (try \"kipsec help\")",
			       argv[0]);
			return 1;
		}
	}
	if (version) {
		printf("kipsec tools, netlink API version %d\n",
		       KIPSEC_GENL_VERSION);
		return 0;
	}
	json_enable(opts.json);
	if (batch) {
		if (argc > 0) {
			errorf("-batch takes no command, got \"%s\"", argv[0]);
			return 1;
		}
		ret = run_batch(batch);
	} else if (argc == 0) {
		ret = cmd_summary();
		if (ret)
			fputs(usage_text, stderr);
	} else {
		ret = run_command(argc, argv);
	}
	nl_close();
	if (fflush(stdout) == EOF || ferror(stdout)) {
		errorf("writing output: %s", strerror(errno));
		ret = 1;
	}
	return ret;
}
