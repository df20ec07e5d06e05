/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The state of one parse and how it reports problems: the key path being
 * parsed, problems collected with their offsets and then sorted and placed,
 * and typed getters that check one JSON value each. What the keys mean is
 * config.c's business; this file only knows JSON values and positions.
 */

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config/config.h"
#include "config/locate.h"
#include "config/parser.h"
#include "config/values.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"

/* ---- problems: collected with their offsets, sorted and formatted at the end */

struct problem {
        size_t offset;
        size_t seq;
        char *text; /* "KEY.PATH: message" */
};

void parser_done(struct parser *p)
{
        for (size_t i = 0; i < p->n_problems; i++)
                free(p->problems[i].text);
        free(p->problems);
}

void parser_push_key(struct parser *p, const char *key)
{
        assert(p->depth < PATH_MAX_STEPS);
        p->path[p->depth++] = (struct locate_step){ .key = key };
}

void parser_push_index(struct parser *p, size_t index)
{
        assert(p->depth < PATH_MAX_STEPS);
        p->path[p->depth++] = (struct locate_step){ .index = index };
}

void parser_pop(struct parser *p)
{
        assert(p->depth > 0);
        p->depth--;
}

static void add_problem(struct parser *p, size_t offset, const char *path, const char *msg)
{
        struct problem *n;
        char *text;

        /* One problem per spot: the first (a syntax or lint problem) explains the ones that follow. */
        for (size_t i = 0; i < p->n_problems; i++)
                if (p->problems[i].offset == offset)
                        return;
        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return;
        }
        n = reallocarray(p->problems, p->n_problems + 1, sizeof(*n));
        if (!n) {
                p->error = -ENOMEM;
                return;
        }
        p->problems = n;
        if (asprintf(&text, "%s: %s", path, msg) < 0) {
                p->error = -ENOMEM;
                return;
        }
        p->problems[p->n_problems] =
                (struct problem){ .offset = offset, .seq = p->n_problems, .text = text };
        p->n_problems++;
}

_printf_(4, 5) void parser_report_at(struct parser *p, size_t offset, const char *path, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                p->error = -ENOMEM;
                return;
        }
        add_problem(p, offset, path, msg);
}

/* Reports a problem with the value (or key) at the current path. */
_printf_(3, 4) void parser_report(struct parser *p, enum locate_target target, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL, *path = NULL;
        size_t offset = 0;
        va_list ap;
        int r;

        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return;
        }
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0 || locate_format_path(p->path, p->depth, &path) < 0) {
                p->error = -ENOMEM;
                return;
        }
        /* Where the exact spot cannot be found, the nearest enclosing value still helps. */
        for (size_t n = p->depth;; n--) {
                if (locate_find(p->text, p->len, p->path, n, n == p->depth ? target : LOCATE_VALUE,
                                &offset) >= 0)
                        break;
                if (n == 0) {
                        offset = 0;
                        break;
                }
        }
        add_problem(p, offset, path, msg);
}

/* s quoted for a message: escaped, and cut short at a character boundary when long. */
const char *parser_quote(const char *s, char *buf)
{
        size_t o = 0;

        buf[o++] = '"';
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                /* Room for the longest escape (6), the ellipsis and quote (4) and the NUL. */
                if ((c & 0xC0) != 0x80 && o + 11 > QUOTE_MAX) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c < 0x20 || c == 0x7F) {
                        o += (size_t) snprintf(buf + o, QUOTE_MAX - o, "\\u%04x", c);
                } else {
                        buf[o++] = (char) c;
                }
        }
        buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

const char *parser_join(const char *const *names, size_t n, char *buf, size_t size)
{
        size_t o = 0;

        buf[0] = 0;
        for (size_t i = 0; i < n && o < size; i++)
                o += (size_t) snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", names[i]);
        return buf;
}

/* ---- typed getters: each reports what is wrong and returns -EINVAL, or 0 */

static const char *type_name(struct json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a floating-point number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "an unknown type";
}

int parser_expect(struct parser *p, struct json_object *v, enum json_type type, const char *what)
{
        if (json_object_is_type(v, type))
                return 0;
        parser_report(p, LOCATE_VALUE, "expected %s, got %s", what, type_name(v));
        return -EINVAL;
}

int parser_set_string(struct parser *p, char **field, const char *s)
{
        char *copy = strdup(s);

        if (!copy) {
                p->error = -ENOMEM;
                return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

int parser_get_string(struct parser *p, struct json_object *v, const char **ret)
{
        const char *s;

        if (parser_expect(p, v, json_type_string, "a string") < 0)
                return -EINVAL;
        s = json_object_get_string(v);
        /* json-c keeps "\u0000" inside strings; every consumer of ours would cut the string there. */
        if (strlen(s) != (size_t) json_object_get_string_len(v)) {
                parser_report(p, LOCATE_VALUE, "must not contain a NUL character (\\u0000)");
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

int parser_get_nonempty_string(struct parser *p, struct json_object *v, const char **ret)
{
        const char *s;

        if (parser_get_string(p, v, &s) < 0)
                return -EINVAL;
        if (!*s) {
                parser_report(p, LOCATE_VALUE, "must not be empty");
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

int parser_get_bool(struct parser *p, struct json_object *v, bool *ret)
{
        if (parser_expect(p, v, json_type_boolean, "true or false") < 0)
                return -EINVAL;
        *ret = json_object_get_boolean(v);
        return 0;
}

int parser_get_uint(struct parser *p, struct json_object *v, uint64_t min, uint64_t max, uint64_t *ret)
{
        int64_t s;
        uint64_t u;

        if (parser_expect(p, v, json_type_int, "an integer") < 0)
                return -EINVAL;
        s = json_object_get_int64(v);
        if (s < 0) {
                parser_report(p, LOCATE_VALUE,
                              "%" PRId64 " is out of range (expected %" PRIu64 " to %" PRIu64 ")", s, min,
                              max);
                return -EINVAL;
        }
        u = json_object_get_uint64(v);
        if (u < min || u > max) {
                parser_report(p, LOCATE_VALUE,
                              "%" PRIu64 " is out of range (expected %" PRIu64 " to %" PRIu64 ")", u, min,
                              max);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

/* The index of the string value in names. */
int parser_get_enum(struct parser *p, struct json_object *v, const char *what, const char *const *names,
                    size_t n, size_t *ret)
{
        const char *s;

        if (parser_get_string(p, v, &s) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = i;
                        return 0;
                }
        parser_report(p, LOCATE_VALUE, "unknown %s %s (expected one of: %s)", what, QUOTE(s),
                      JOIN(names, n));
        return -EINVAL;
}

int parser_get_duration(struct parser *p, struct json_object *v, usec_t *ret)
{
        const char *s;
        usec_t u;
        int r;

        if (parser_expect(p, v, json_type_string, "a duration such as \"2s\"") < 0 ||
            parser_get_string(p, v, &s) < 0)
                return -EINVAL;
        r = values_parse_duration(s, &u);
        if (r == -ERANGE) {
                parser_report(p, LOCATE_VALUE, "duration %s is too large", QUOTE(s));
                return r;
        }
        if (r < 0) {
                parser_report(p, LOCATE_VALUE,
                              "invalid duration %s (expected a whole number with a unit: ms, s, m or h, "
                              "e.g. \"500ms\", \"2s\", \"5m\", \"1h\")",
                              QUOTE(s));
                return r;
        }
        if (u == 0) {
                parser_report(p, LOCATE_VALUE, "duration must be greater than zero");
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

int parser_get_size(struct parser *p, struct json_object *v, struct size_limit *ret)
{
        struct size_limit l;
        const char *s;
        int r;

        if (json_object_is_type(v, json_type_int)) {
                if (json_object_get_int64(v) < 0) {
                        parser_report(p, LOCATE_VALUE, "a size cannot be negative");
                        return -EINVAL;
                }
                *ret = (struct size_limit){ .set = true, .value = json_object_get_uint64(v) };
                return 0;
        }
        if (parser_expect(p, v, json_type_string,
                          "a size such as \"10G\" or \"15%\", or a number of bytes") < 0 ||
            parser_get_string(p, v, &s) < 0)
                return -EINVAL;
        r = values_parse_size(s, &l);
        if (r == -ERANGE && s[strlen(s) - 1] == '%') {
                parser_report(p, LOCATE_VALUE, "percentage %s is out of range (expected 0%% to 100%%)",
                              QUOTE(s));
                return r;
        }
        if (r == -ERANGE) {
                parser_report(p, LOCATE_VALUE, "size %s is too large", QUOTE(s));
                return r;
        }
        if (r < 0) {
                parser_report(p, LOCATE_VALUE,
                              "invalid size %s (expected bytes, a whole number with K, M, G or T "
                              "(powers of 1024), or a percentage of the filesystem such as \"15%%\")",
                              QUOTE(s));
                return r;
        }
        *ret = l;
        return 0;
}

/* Reports every key of object o that is not in allowed. */
void parser_check_keys(struct parser *p, struct json_object *o, const char *const *allowed, size_t n)
{
        struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
        _cleanup_free_ char *where = NULL;

        if (p->depth > 0 && locate_format_path(p->path, p->depth, &where) < 0) {
                p->error = -ENOMEM;
                return;
        }
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                bool known = false;

                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (known)
                        continue;
                parser_push_key(p, key);
                parser_report(p, LOCATE_KEY, "unknown key %s %s%s (expected one of: %s)", QUOTE(key),
                              where ? "in " : "at the top level", where ?: "", JOIN(allowed, n));
                parser_pop(p);
        }
}

/* Looks key up in o and, when present, makes it the current path until parser_leave(). */
bool parser_enter(struct parser *p, struct json_object *o, const char *key, struct json_object **ret)
{
        if (!json_object_object_get_ex(o, key, ret))
                return false;
        parser_push_key(p, key);
        return true;
}

void parser_leave(struct parser *p)
{
        parser_pop(p);
}
/* ---- handing the problems over: sorted by their place in the text */

static int problem_compare(const void *a, const void *b)
{
        const struct problem *x = a, *y = b;

        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

_printf_(2, 3) int config_errors_append(struct config_errors *errors, const char *fmt, ...)
{
        char **lines, *line;
        va_list ap;
        int r;

        if (!errors)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        lines = reallocarray(errors->lines, errors->n + 1, sizeof(*lines));
        if (!lines) {
                free(line);
                return -ENOMEM;
        }
        errors->lines = lines;
        errors->lines[errors->n++] = line;
        return 0;
}

/* Hands the problems over as lines in the order of their position in the text. */
int parser_flush_problems(struct parser *p, struct config_errors *errors)
{
        struct locate_position pos = { 1, 1 };
        int r;

        qsort(p->problems, p->n_problems, sizeof(*p->problems), problem_compare);
        for (size_t i = 0; i < p->n_problems; i++) {
                pos = locate_line_column(p->text, p->len, p->problems[i].offset);
                r = config_errors_append(errors, "%s:%u:%u: %s", p->source, pos.line, pos.column,
                                         p->problems[i].text);
                if (r < 0)
                        return r;
        }
        if (p->n_dropped > 0)
                return config_errors_append(errors, "%s:%u:%u: $: %zu more problems not shown", p->source,
                                            pos.line, pos.column, p->n_dropped);
        return 0;
}
