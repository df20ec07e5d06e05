/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to config/ (it hands json_object around): the state of one parse,
 * its key path, the problems it found, and the typed getters the sections
 * use. A getter reports what is wrong with a value at the current path and
 * returns -EINVAL, or returns 0; a failure that is not the config's fault
 * (ENOMEM) is kept in parser.error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "config/config.h"
#include "config/locate.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"

/* Placing a problem costs a scan of the text: bound what a hostile file can make us do. */
#define CONFIG_MAX_PROBLEMS 100
/* The deepest path the parser walks: routes[i].match.runtime[j], plus an unknown key below match. */
#define PATH_MAX_STEPS 8
#define QUOTE_MAX      72

struct problem;

struct parser {
        const char *source;
        const char *text;
        size_t len;
        struct locate_step path[PATH_MAX_STEPS];
        size_t depth;
        struct problem *problems;
        size_t n_problems;
        size_t n_dropped;
        int error; /* a failure that is not the config's fault (ENOMEM) */
};

void parser_done(struct parser *p);

/* The key path: push a key or an index before looking at a value, pop after. */
void parser_push_key(struct parser *p, const char *key);
void parser_push_index(struct parser *p, size_t index);
void parser_pop(struct parser *p);

/* A problem at a given offset and (formatted) path, for what the text itself gets wrong. */
_printf_(4, 5) void parser_report_at(struct parser *p, size_t offset, const char *path, const char *fmt,
                                     ...);
/* A problem with the value (or its key) at the current path. */
_printf_(3, 4) void parser_report(struct parser *p, enum locate_target target, const char *fmt, ...);

/* s quoted and escaped for a message, into buf of QUOTE_MAX bytes. */
const char *parser_quote(const char *s, char *buf);
#define QUOTE(s) parser_quote((s), (char[QUOTE_MAX]){ 0 })
/* "a, b, c", for "expected one of" messages. */
const char *parser_join(const char *const *names, size_t n, char *buf, size_t size);
#define JOIN(names, n) parser_join((names), (n), (char[256]){ 0 }, 256)

int parser_expect(struct parser *p, struct json_object *v, enum json_type type, const char *what);
/* Replaces *field with a copy of s; only ENOMEM can fail it. */
int parser_set_string(struct parser *p, char **field, const char *s);
int parser_get_string(struct parser *p, struct json_object *v, const char **ret);
int parser_get_nonempty_string(struct parser *p, struct json_object *v, const char **ret);
int parser_get_bool(struct parser *p, struct json_object *v, bool *ret);
int parser_get_uint(struct parser *p, struct json_object *v, uint64_t min, uint64_t max, uint64_t *ret);
int parser_get_enum(struct parser *p, struct json_object *v, const char *what, const char *const *names,
                    size_t n, size_t *ret);
int parser_get_duration(struct parser *p, struct json_object *v, usec_t *ret);
int parser_get_size(struct parser *p, struct json_object *v, struct size_limit *ret);
void parser_check_keys(struct parser *p, struct json_object *o, const char *const *allowed, size_t n);
bool parser_enter(struct parser *p, struct json_object *o, const char *key, struct json_object **ret);
void parser_leave(struct parser *p);

/* Appends one line to errors (a no-op when errors is NULL). */
_printf_(2, 3) int config_errors_append(struct config_errors *errors, const char *fmt, ...);
/* Appends the problems to errors as "FILE:LINE:COLUMN: KEY.PATH: message", in the order of the text. */
int parser_flush_problems(struct parser *p, struct config_errors *errors);
