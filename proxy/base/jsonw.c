/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/jsonw.h"
#include "kernel/cleanup.h"

/* One bit of need_comma per level below the top, so at most 64 open containers. */
#define JSON_WRITER_DEPTH_MAX 64U

void jsonw_init(struct jsonw *w)
{
        *w = (struct jsonw){};
}

void jsonw_done(struct jsonw *w)
{
        if (!w)
                return;
        free(w->buf);
        jsonw_init(w);
}

static void set_error(struct jsonw *w, int error)
{
        if (w->error == 0)
                w->error = error;
}

/* Makes room for n more bytes plus the terminating NUL that finish() writes. */
static bool reserve(struct jsonw *w, size_t n)
{
        size_t need, size;
        char *p;

        if (w->error < 0)
                return false;
        if (n > SIZE_MAX - 1 - w->len) {
                set_error(w, -ENOMEM);
                return false;
        }
        need = w->len + n + 1;
        if (need <= w->allocated)
                return true;

        size = MAX(w->allocated, (size_t) 256);
        while (size < need) {
                if (size > SIZE_MAX / 2) {
                        size = need;
                        break;
                }
                size *= 2;
        }
        p = realloc(w->buf, size);
        if (!p) {
                set_error(w, -ENOMEM);
                return false;
        }
        w->buf = p;
        w->allocated = size;
        return true;
}

static void put(struct jsonw *w, const void *p, size_t n)
{
        if (!reserve(w, n))
                return;
        memcpy(w->buf + w->len, p, n);
        w->len += n;
}

static void put_char(struct jsonw *w, char c)
{
        put(w, &c, 1);
}

/*
 * Called before every value and key: writes the separator the position needs.
 * A value right after its key needs none; at the top level only one value may
 * be written, since an event line or a message is a single document.
 */
static bool begin_item(struct jsonw *w, bool is_key)
{
        uint64_t bit;

        if (w->error < 0)
                return false;

        if (w->after_key) {
                if (is_key) {
                        set_error(w, -EINVAL);
                        return false;
                }
                w->after_key = false;
                return true;
        }

        if (w->depth == 0) {
                if (is_key || w->len > 0) {
                        set_error(w, -EINVAL);
                        return false;
                }
                return true;
        }

        bit = UINT64_C(1) << (w->depth - 1);
        if (w->need_comma & bit)
                put_char(w, ',');
        else
                w->need_comma |= bit;
        return w->error == 0;
}

static void open_container(struct jsonw *w, char c)
{
        if (!begin_item(w, false))
                return;
        if (w->depth >= JSON_WRITER_DEPTH_MAX) {
                set_error(w, -E2BIG);
                return;
        }
        put_char(w, c);
        if (w->error < 0)
                return;
        w->depth++;
        w->need_comma &= ~(UINT64_C(1) << (w->depth - 1));
}

static void close_container(struct jsonw *w, char c)
{
        if (w->error < 0)
                return;
        /* A dangling key or a close without an open would make the document invalid. */
        if (w->depth == 0 || w->after_key) {
                set_error(w, -EINVAL);
                return;
        }
        put_char(w, c);
        if (w->error < 0)
                return;
        w->need_comma &= ~(UINT64_C(1) << (w->depth - 1));
        w->depth--;
}

void jsonw_object_begin(struct jsonw *w)
{
        open_container(w, '{');
}

void jsonw_object_end(struct jsonw *w)
{
        close_container(w, '}');
}

void jsonw_array_begin(struct jsonw *w)
{
        open_container(w, '[');
}

void jsonw_array_end(struct jsonw *w)
{
        close_container(w, ']');
}

static const char hex[] = "0123456789abcdef";

static void put_escaped_ascii(struct jsonw *w, unsigned char c)
{
        char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xf] };

        switch (c) {
        case '"':
                put(w, "\\\"", 2);
                return;
        case '\\':
                put(w, "\\\\", 2);
                return;
        case '\b':
                put(w, "\\b", 2);
                return;
        case '\f':
                put(w, "\\f", 2);
                return;
        case '\n':
                put(w, "\\n", 2);
                return;
        case '\r':
                put(w, "\\r", 2);
                return;
        case '\t':
                put(w, "\\t", 2);
                return;
        default:
                put(w, esc, sizeof(esc));
                return;
        }
}

static bool needs_escape(unsigned char c)
{
        return c < 0x20 || c == '"' || c == '\\' || c == 0x7f;
}

/*
 * Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is not one;
 * then *ret_bad is the length of its maximal ill-formed subpart, which becomes a
 * single U+FFFD as Unicode recommends. The ranges of the second byte shut out
 * overlongs (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
 */
static size_t utf8_sequence(const unsigned char *s, size_t len, size_t *ret_bad)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n, i;

        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                n = 2;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                n = 3;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                n = 4;
        else {
                /* a stray continuation byte, C0/C1 (always overlong) or F5..FF */
                *ret_bad = 1;
                return 0;
        }

        if (s[0] == 0xe0)
                lo = 0xa0;
        else if (s[0] == 0xed)
                hi = 0x9f;
        else if (s[0] == 0xf0)
                lo = 0x90;
        else if (s[0] == 0xf4)
                hi = 0x8f;

        for (i = 1; i < n; i++) {
                if (i >= len || s[i] < lo || s[i] > hi) {
                        *ret_bad = i;
                        return 0;
                }
                lo = 0x80;
                hi = 0xbf;
        }
        return n;
}

static void put_string_body(struct jsonw *w, const unsigned char *s, size_t len)
{
        static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
        size_t run = 0, i = 0;

        /* Runs of bytes that need no change are copied in one go. */
        while (i < len && w->error == 0) {
                unsigned char c = s[i];
                size_t n, bad = 0;

                if (c < 0x80 && !needs_escape(c)) {
                        i++;
                        run++;
                        continue;
                }
                if (c >= 0x80) {
                        n = utf8_sequence(s + i, len - i, &bad);
                        if (n > 0) {
                                i += n;
                                run += n;
                                continue;
                        }
                }

                put(w, s + i - run, run);
                run = 0;
                if (c < 0x80) {
                        put_escaped_ascii(w, c);
                        i++;
                } else {
                        put(w, replacement, sizeof(replacement) - 1);
                        i += bad;
                }
        }
        put(w, s + i - run, run);
}

static void put_string(struct jsonw *w, const char *s, size_t len)
{
        put_char(w, '"');
        put_string_body(w, (const unsigned char *) s, len);
        put_char(w, '"');
}

void jsonw_key(struct jsonw *w, const char *key)
{
        if (!key) {
                set_error(w, -EINVAL);
                return;
        }
        if (!begin_item(w, true))
                return;
        put_string(w, key, strlen(key));
        put_char(w, ':');
        if (w->error == 0)
                w->after_key = true;
}

void jsonw_null(struct jsonw *w)
{
        if (!begin_item(w, false))
                return;
        put(w, "null", 4);
}

void jsonw_string_len(struct jsonw *w, const char *s, size_t len)
{
        if (!s) {
                jsonw_null(w);
                return;
        }
        if (!begin_item(w, false))
                return;
        put_string(w, s, len);
}

void jsonw_string(struct jsonw *w, const char *s)
{
        jsonw_string_len(w, s, s ? strlen(s) : 0);
}

void jsonw_int(struct jsonw *w, int64_t v)
{
        char b[32];
        int n;

        if (!begin_item(w, false))
                return;
        n = snprintf(b, sizeof(b), "%" PRId64, v);
        put(w, b, (size_t) n);
}

void jsonw_uint(struct jsonw *w, uint64_t v)
{
        char b[32];
        int n;

        if (!begin_item(w, false))
                return;
        n = snprintf(b, sizeof(b), "%" PRIu64, v);
        put(w, b, (size_t) n);
}

void jsonw_bool(struct jsonw *w, bool v)
{
        if (!begin_item(w, false))
                return;
        if (v)
                put(w, "true", 4);
        else
                put(w, "false", 5);
}

void jsonw_kv_string(struct jsonw *w, const char *key, const char *s)
{
        jsonw_key(w, key);
        jsonw_string(w, s);
}

void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v)
{
        jsonw_key(w, key);
        jsonw_int(w, v);
}

void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v)
{
        jsonw_key(w, key);
        jsonw_uint(w, v);
}

void jsonw_kv_bool(struct jsonw *w, const char *key, bool v)
{
        jsonw_key(w, key);
        jsonw_bool(w, v);
}

void jsonw_kv_null(struct jsonw *w, const char *key)
{
        jsonw_key(w, key);
        jsonw_null(w);
}

/*
 * Either way the writer is left empty, so a later jsonw_done() is harmless.
 * A document that is still open, or empty, is -EINVAL: it would not parse.
 */
int jsonw_finish(struct jsonw *w, char **ret, size_t *ret_len)
{
        int r = w->error;

        if (r == 0 && (w->len == 0 || w->depth > 0 || w->after_key))
                r = -EINVAL;
        if (r == 0 && !reserve(w, 0))
                r = w->error;
        if (r < 0) {
                jsonw_done(w);
                return r;
        }

        w->buf[w->len] = '\0';
        if (ret_len)
                *ret_len = w->len;
        *ret = TAKE_PTR(w->buf);
        jsonw_init(w);
        return 0;
}
