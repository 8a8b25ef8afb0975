/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One print call serves the human output and -j, as iproute2's json_print:
 * print_string(PRINT_ANY, "key", " key %s", value).
 */
#ifndef KIPSEC_JSON_H
#define KIPSEC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum print_type {
	PRINT_ANY,	/* text with fmt, JSON with key */
	PRINT_JSON,	/* JSON only */
	PRINT_FP,	/* text only */
};

extern FILE *kout;

void json_enable(bool on);
bool is_json(void);
void json_reset(void);

void open_json_array(const char *key);
void close_json_array(void);
void open_json_object(const char *key);
void close_json_object(void);

void print_string(enum print_type t, const char *key, const char *fmt,
		  const char *value);
void print_uint(enum print_type t, const char *key, const char *fmt,
		uint64_t value);
void print_bool(enum print_type t, const char *key, const char *fmt,
		bool value);
void print_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends a top-level JSON value with a newline (nothing in text mode). */
void print_nl(void);

#endif
