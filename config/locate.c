/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/locate.h"
#include "kernel/cleanup.h"

/* Deeper than the nesting json-c is allowed for a config, so any text json-c took fits. */
#define WALK_MAX_DEPTH 64

/* Returned by the walk functions when they reach the stop offset: not an error. */
#define WALK_STOP 1

enum visit_kind {
        VISIT_KEY,
        VISIT_VALUE,
};

struct walker {
        const char *text;
        size_t len;
        size_t pos;
        size_t stop; /* offset at which to stop, SIZE_MAX for the whole text */
        struct locate_step path[WALK_MAX_DEPTH];
        char *keys[WALK_MAX_DEPTH]; /* owned decoded keys behind path[].key */
        size_t depth;
        bool lint;
        int (*visit)(struct walker *w, enum visit_kind kind, size_t offset);
        locate_problem_fn problem_fn;
        void *userdata;
};

struct seen_key {
        char *key;
        size_t offset;
};

struct seen {
        struct seen_key *keys;
        size_t n;
        size_t allocated;
};

static void walker_pop(struct walker *w)
{
        w->depth--;
        w->keys[w->depth] = mfree_str(w->keys[w->depth]);
}

static void walker_done(struct walker *w)
{
        while (w->depth > 0)
                walker_pop(w);
}

static void seen_done(struct seen *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->keys[i].key);
        free(s->keys);
}

static int seen_add(struct seen *s, const char *key, size_t offset)
{
        if (s->n == s->allocated) {
                size_t want = s->allocated ? s->allocated * 2 : 8;
                struct seen_key *k = reallocarray(s->keys, want, sizeof(*k));

                if (!k)
                        return -ENOMEM;
                s->keys = k;
                s->allocated = want;
        }
        s->keys[s->n].key = strdup(key);
        if (!s->keys[s->n].key)
                return -ENOMEM;
        s->keys[s->n].offset = offset;
        s->n++;
        return 0;
}

static int seen_compare(const void *a, const void *b)
{
        const struct seen_key *x = a, *y = b;
        int d = strcmp(x->key, y->key);

        if (d != 0)
                return d;
        return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct walker *w)
{
        while (w->pos < w->len && is_ws(w->text[w->pos]))
                w->pos++;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool is_scalar_char(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' ||
               c == '.';
}

static bool is_simple_key_char(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
}

static int hex_value(char c)
{
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* The four hex digits after "\u" at s (n bytes left), or -1. */
static long parse_u4(const char *s, size_t n)
{
        long v = 0;

        if (n < 6 || s[0] != '\\' || s[1] != 'u')
                return -1;
        for (size_t i = 2; i < 6; i++) {
                int h = hex_value(s[i]);

                if (h < 0)
                        return -1;
                v = v * 16 + h;
        }
        return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xC0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xE0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
                out[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        out[0] = (char) (0xF0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}

/*
 * Decodes the inside of a JSON string. A "\u0000" ends the result early, as
 * json-c's keys are C strings; a lone surrogate becomes U+FFFD, as in json-c.
 * Escapes never decode to more bytes than they take, so n + 1 bytes suffice.
 */
static char *decode_string(const char *s, size_t n)
{
        char *out = malloc(n + 1);
        size_t o = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                long cp, low;

                if (s[i] != '\\' || i + 1 >= n) {
                        out[o++] = s[i++];
                        continue;
                }
                switch (s[i + 1]) {
                case 'b':
                        out[o++] = '\b';
                        break;
                case 'f':
                        out[o++] = '\f';
                        break;
                case 'n':
                        out[o++] = '\n';
                        break;
                case 'r':
                        out[o++] = '\r';
                        break;
                case 't':
                        out[o++] = '\t';
                        break;
                case 'u':
                        cp = parse_u4(s + i, n - i);
                        if (cp < 0) {
                                out[o++] = 'u';
                                break;
                        }
                        i += 4;
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                                low = parse_u4(s + i + 2, n - i - 2);
                                if (low >= 0xDC00 && low <= 0xDFFF) {
                                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                                        i += 6;
                                } else {
                                        cp = 0xFFFD;
                                }
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                                cp = 0xFFFD;
                        }
                        o += put_utf8(out + o, (unsigned long) cp);
                        break;
                default:
                        out[o++] = s[i + 1];
                        break;
                }
                i += 2;
        }
        out[o] = 0;
        return out;
}

static int walker_problem(struct walker *w, enum locate_problem_kind kind, const char *key, size_t offset,
                          size_t first_offset)
{
        _cleanup_free_ char *path = NULL;
        struct locate_problem p;
        size_t n = w->depth;
        int r;

        if (!w->problem_fn)
                return 0;
        if (key) {
                /* walk_object() only takes keys while there is room for one more step. */
                w->path[n++] = (struct locate_step){ .key = key };
        }
        r = locate_format_path(w->path, n, &path);
        if (r < 0)
                return r;
        p = (struct locate_problem){
                .kind = kind,
                .path = path,
                .key = key,
                .offset = offset,
                .first_offset = first_offset,
        };
        r = w->problem_fn(&p, w->userdata);
        return r < 0 ? r : 0;
}

/* At the opening quote; ends after the closing one. */
static int scan_string(struct walker *w, char **ret_decoded)
{
        size_t start = w->pos + 1, i = start;
        bool reported = false;
        int r;

        for (;;) {
                if (i >= w->len)
                        return -EBADMSG;
                if (w->text[i] == '"')
                        break;
                if (w->text[i] == '\\') {
                        i += 2;
                        continue;
                }
                /* json-c takes raw control characters in strings even in strict mode; JSON does not. */
                if ((unsigned char) w->text[i] < 0x20 && w->lint && !reported) {
                        r = walker_problem(w, LOCATE_CONTROL_CHARACTER, NULL, i, i);
                        if (r < 0)
                                return r;
                        reported = true;
                }
                i++;
        }
        w->pos = i + 1;
        if (ret_decoded) {
                *ret_decoded = decode_string(w->text + start, i - start);
                if (!*ret_decoded)
                        return -ENOMEM;
        }
        return 0;
}

/* Is the n digits at s more than the decimal number limit? */
static bool digits_exceed(const char *s, size_t n, const char *limit)
{
        size_t m = strlen(limit);

        if (n != m)
                return n > m;
        return memcmp(s, limit, n) > 0;
}

static int lint_scalar(struct walker *w, size_t start, size_t n)
{
        const char *s = w->text + start;
        size_t i = 0, int_start, int_len;
        bool negative = false, integer = true;

        if ((n == 4 && memcmp(s, "true", 4) == 0) || (n == 5 && memcmp(s, "false", 5) == 0) ||
            (n == 4 && memcmp(s, "null", 4) == 0))
                return 0;

        /* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
        if (i < n && s[i] == '-') {
                negative = true;
                i++;
        }
        int_start = i;
        if (i < n && s[i] == '0')
                i++;
        else if (i < n && is_digit(s[i]))
                while (i < n && is_digit(s[i]))
                        i++;
        else
                return walker_problem(w, LOCATE_NOT_JSON_NUMBER, NULL, start, start);
        int_len = i - int_start;
        if (i < n && s[i] == '.') {
                integer = false;
                i++;
                if (i >= n || !is_digit(s[i]))
                        return walker_problem(w, LOCATE_NOT_JSON_NUMBER, NULL, start, start);
                while (i < n && is_digit(s[i]))
                        i++;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
                integer = false;
                i++;
                if (i < n && (s[i] == '+' || s[i] == '-'))
                        i++;
                if (i >= n || !is_digit(s[i]))
                        return walker_problem(w, LOCATE_NOT_JSON_NUMBER, NULL, start, start);
                while (i < n && is_digit(s[i]))
                        i++;
        }
        if (i != n)
                return walker_problem(w, LOCATE_NOT_JSON_NUMBER, NULL, start, start);

        if (integer &&
            digits_exceed(s + int_start, int_len, negative ? "9223372036854775808" : "18446744073709551615"))
                return walker_problem(w, LOCATE_INTEGER_RANGE, NULL, start, start);
        return 0;
}

static int scan_scalar(struct walker *w)
{
        size_t start = w->pos;

        while (w->pos < w->len && is_scalar_char(w->text[w->pos]))
                w->pos++;
        if (w->pos == start)
                return -EBADMSG;
        if (w->lint)
                return lint_scalar(w, start, w->pos - start);
        return 0;
}

static int lint_duplicates(struct walker *w, struct seen *s)
{
        int r;

        qsort(s->keys, s->n, sizeof(s->keys[0]), seen_compare);
        for (size_t i = 1, first = 0; i < s->n; i++) {
                if (strcmp(s->keys[i].key, s->keys[first].key) != 0) {
                        first = i;
                        continue;
                }
                r = walker_problem(w, LOCATE_DUPLICATE_KEY, s->keys[i].key, s->keys[i].offset,
                                   s->keys[first].offset);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int walk_value(struct walker *w);

static int walk_object(struct walker *w)
{
        _cleanup_(seen_done) struct seen seen = {};
        int r;

        w->pos++;
        skip_ws(w);
        if (w->pos < w->stop && w->pos < w->len && w->text[w->pos] == '}') {
                w->pos++;
                return 0;
        }
        if (w->depth >= WALK_MAX_DEPTH)
                return -E2BIG;

        for (;;) {
                _cleanup_free_ char *key = NULL;
                size_t key_offset;

                skip_ws(w);
                if (w->pos >= w->stop)
                        return WALK_STOP;
                if (w->pos >= w->len || w->text[w->pos] != '"')
                        return -EBADMSG;
                key_offset = w->pos;
                r = scan_string(w, &key);
                if (r < 0)
                        return r;
                if (w->pos >= w->stop)
                        return WALK_STOP;
                if (w->lint) {
                        r = seen_add(&seen, key, key_offset);
                        if (r < 0)
                                return r;
                }

                w->keys[w->depth] = TAKE_PTR(key);
                w->path[w->depth] = (struct locate_step){ .key = w->keys[w->depth] };
                w->depth++;
                if (w->visit) {
                        r = w->visit(w, VISIT_KEY, key_offset);
                        if (r != 0)
                                return r;
                }

                skip_ws(w);
                if (w->pos >= w->stop)
                        return WALK_STOP;
                if (w->pos >= w->len || w->text[w->pos] != ':')
                        return -EBADMSG;
                w->pos++;
                r = walk_value(w);
                if (r != 0)
                        return r;
                walker_pop(w);

                skip_ws(w);
                if (w->pos >= w->stop)
                        return WALK_STOP;
                if (w->pos < w->len && w->text[w->pos] == ',') {
                        w->pos++;
                        continue;
                }
                if (w->pos < w->len && w->text[w->pos] == '}') {
                        w->pos++;
                        break;
                }
                return -EBADMSG;
        }

        if (w->lint)
                return lint_duplicates(w, &seen);
        return 0;
}

static int walk_array(struct walker *w)
{
        int r;

        w->pos++;
        skip_ws(w);
        if (w->pos < w->stop && w->pos < w->len && w->text[w->pos] == ']') {
                w->pos++;
                return 0;
        }
        if (w->depth >= WALK_MAX_DEPTH)
                return -E2BIG;

        for (size_t i = 0;; i++) {
                w->keys[w->depth] = NULL;
                w->path[w->depth] = (struct locate_step){ .index = i };
                w->depth++;
                r = walk_value(w);
                if (r != 0)
                        return r;
                walker_pop(w);

                skip_ws(w);
                if (w->pos >= w->stop)
                        return WALK_STOP;
                if (w->pos < w->len && w->text[w->pos] == ',') {
                        w->pos++;
                        continue;
                }
                if (w->pos < w->len && w->text[w->pos] == ']') {
                        w->pos++;
                        return 0;
                }
                return -EBADMSG;
        }
}

static int walk_value(struct walker *w)
{
        int r;

        skip_ws(w);
        if (w->pos >= w->stop)
                return WALK_STOP;
        if (w->pos >= w->len)
                return -EBADMSG;
        if (w->visit) {
                r = w->visit(w, VISIT_VALUE, w->pos);
                if (r != 0)
                        return r;
        }

        switch (w->text[w->pos]) {
        case '{':
                return walk_object(w);
        case '[':
                return walk_array(w);
        case '"':
                r = scan_string(w, NULL);
                break;
        default:
                r = scan_scalar(w);
                break;
        }
        if (r < 0)
                return r;
        /* A scalar that holds the stop offset, or ends right before it, is the value being parsed. */
        if (w->pos >= w->stop)
                return WALK_STOP;
        return 0;
}

static int walk(struct walker *w)
{
        int r;

        r = walk_value(w);
        if (r != 0)
                return r;
        skip_ws(w);
        if (w->pos >= w->stop)
                return WALK_STOP;
        if (w->pos < w->len)
                return -EBADMSG;
        return 0;
}

int locate_format_path(const struct locate_step *path, size_t n, char **ret)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t size = 0;

        if (n == 0) {
                char *s = strdup("$");

                if (!s)
                        return -ENOMEM;
                *ret = s;
                return 0;
        }

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *k = path[i].key;
                bool simple = k && *k;

                if (!k) {
                        fprintf(f, "[%zu]", path[i].index);
                        continue;
                }
                for (const char *c = k; *c && simple; c++)
                        simple = is_simple_key_char(*c);
                if (simple) {
                        fprintf(f, "%s%s", i > 0 ? "." : "", k);
                        continue;
                }
                fputs("[\"", f);
                for (const char *c = k; *c; c++) {
                        if (*c == '"' || *c == '\\')
                                fprintf(f, "\\%c", *c);
                        else if ((unsigned char) *c < 0x20 || *c == 0x7F)
                                fprintf(f, "\\u%04x", (unsigned) (unsigned char) *c);
                        else
                                fputc(*c, f);
                }
                fputs("\"]", f);
        }
        if (fflush(f) != 0 || ferror(f))
                return -ENOMEM;
        f = (fclose(f), NULL);
        *ret = TAKE_PTR(buf);
        return 0;
}

struct locate_position locate_line_column(const char *text, size_t len, size_t offset)
{
        struct locate_position p = { .line = 1, .column = 1 };

        if (offset > len)
                offset = len;
        for (size_t i = 0; i < offset; i++) {
                unsigned char c = (unsigned char) text[i];

                if (c == '\n') {
                        p.line++;
                        p.column = 1;
                } else if ((c & 0xC0) != 0x80) {
                        /* Continuation bytes belong to the character they continue. */
                        p.column++;
                }
        }
        return p;
}

struct find {
        const struct locate_step *path;
        size_t n;
        enum visit_kind kind;
        bool found;
        size_t offset;
};

static int find_visit(struct walker *w, enum visit_kind kind, size_t offset)
{
        struct find *f = w->userdata;

        if (kind != f->kind || w->depth != f->n)
                return 0;
        for (size_t i = 0; i < f->n; i++) {
                const struct locate_step *a = &w->path[i], *b = &f->path[i];

                if (!a->key != !b->key)
                        return 0;
                if (a->key ? strcmp(a->key, b->key) != 0 : a->index != b->index)
                        return 0;
        }
        /* No early exit: a later equal key replaces this one, as in json-c. */
        f->found = true;
        f->offset = offset;
        return 0;
}

int locate_find(const char *text, size_t len, const struct locate_step *path, size_t n,
                enum locate_target target, size_t *ret_offset)
{
        struct find f = {
                .path = path,
                .n = n,
                .kind = target == LOCATE_KEY ? VISIT_KEY : VISIT_VALUE,
        };
        struct walker w = {
                .text = text,
                .len = len,
                .stop = SIZE_MAX,
                .visit = find_visit,
                .userdata = &f,
        };
        int r;

        if (target == LOCATE_KEY && (n == 0 || !path[n - 1].key))
                return -ENOENT;

        r = walk(&w);
        walker_done(&w);
        if (r < 0)
                return r;
        if (!f.found)
                return -ENOENT;
        *ret_offset = f.offset;
        return 0;
}

int locate_path_at(const char *text, size_t len, size_t offset, char **ret_path)
{
        struct walker w = {
                .text = text,
                .len = len,
                .stop = offset,
        };
        int r;

        /* The text is broken somewhere: wherever the walk gives up, its path is the best guess. */
        r = walk(&w);
        if (r == -ENOMEM) {
                walker_done(&w);
                return r;
        }
        r = locate_format_path(w.path, w.depth, ret_path);
        walker_done(&w);
        return r;
}

int locate_lint(const char *text, size_t len, locate_problem_fn fn, void *userdata)
{
        struct walker w = {
                .text = text,
                .len = len,
                .stop = SIZE_MAX,
                .lint = true,
                .problem_fn = fn,
                .userdata = userdata,
        };
        int r;

        r = walk(&w);
        walker_done(&w);
        return r < 0 ? r : 0;
}
