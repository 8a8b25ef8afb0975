// SPDX-License-Identifier: GPL-2.0
/*
 * A tiny JSON writer: compact output, one value per top-level line.
 */
#include <stdarg.h>
#include <string.h>

#include "json.h"

#define MAX_DEPTH 16

FILE *kout;

static bool json;
static int depth;
static bool need_comma[MAX_DEPTH];

void json_enable(bool on)
{
	json = on;
}

bool is_json(void)
{
	return json;
}

void json_reset(void)
{
	depth = 0;
	need_comma[0] = false;
}

static void put_escaped(const char *s)
{
	fputc('"', kout);
	for (; *s; s++) {
		unsigned char c = *s;

		switch (c) {
		case '"':
			fputs("\\\"", kout);
			break;
		case '\\':
			fputs("\\\\", kout);
			break;
		case '\n':
			fputs("\\n", kout);
			break;
		case '\t':
			fputs("\\t", kout);
			break;
		default:
			if (c < 0x20)
				fprintf(kout, "\\u%04x", c);
			else
				fputc(c, kout);
		}
	}
	fputc('"', kout);
}

/* Comma and key before a value at the current level. */
static void json_key(const char *key)
{
	/* Top-level values (one per -batch command) are separate documents. */
	if (need_comma[depth] && depth > 0)
		fputc(',', kout);
	need_comma[depth] = true;
	if (key && depth > 0) {
		put_escaped(key);
		fputc(':', kout);
	}
}

static void json_push(char c)
{
	fputc(c, kout);
	if (depth < MAX_DEPTH - 1)
		depth++;
	need_comma[depth] = false;
}

static void json_pop(char c)
{
	fputc(c, kout);
	if (depth > 0)
		depth--;
}

void open_json_array(const char *key)
{
	if (!json)
		return;
	json_key(key);
	json_push('[');
}

void close_json_array(void)
{
	if (json)
		json_pop(']');
}

void open_json_object(const char *key)
{
	if (!json)
		return;
	json_key(key);
	json_push('{');
}

void close_json_object(void)
{
	if (json)
		json_pop('}');
}

void print_string(enum print_type t, const char *key, const char *fmt,
		  const char *value)
{
	if (json) {
		if (t == PRINT_FP)
			return;
		json_key(key);
		put_escaped(value ? value : "");
	} else if (t != PRINT_JSON && fmt) {
		fprintf(kout, fmt, value);
	}
}

void print_uint(enum print_type t, const char *key, const char *fmt,
		uint64_t value)
{
	if (json) {
		if (t == PRINT_FP)
			return;
		json_key(key);
		fprintf(kout, "%llu", (unsigned long long)value);
	} else if (t != PRINT_JSON && fmt) {
		fprintf(kout, fmt, (unsigned long long)value);
	}
}

void print_bool(enum print_type t, const char *key, const char *fmt,
		bool value)
{
	if (json) {
		if (t == PRINT_FP)
			return;
		json_key(key);
		fputs(value ? "true" : "false", kout);
	} else if (t != PRINT_JSON && fmt && value) {
		fputs(fmt, kout);
	}
}

void print_text(const char *fmt, ...)
{
	va_list ap;

	if (json)
		return;
	va_start(ap, fmt);
	vfprintf(kout, fmt, ap);
	va_end(ap);
}

void print_nl(void)
{
	if (json && depth == 0)
		fputc('\n', kout);
}
