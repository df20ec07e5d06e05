/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small JSON writer for event lines, metadata files and collector
 * messages. Strings come from crashing processes (comm, exe, cmdline) and
 * may hold any bytes: control characters are escaped and bytes that are not
 * valid UTF-8 become U+FFFD, so every document written is valid JSON.
 * Errors (ENOMEM) are sticky and reported once by jsonw_finish().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
        char *buf;
        size_t len;
        size_t allocated;
        int error; /* first error, negative errno */
        unsigned depth;
        uint64_t need_comma; /* one bit per nesting level */
        bool after_key;
};

void jsonw_init(struct jsonw *w);
void jsonw_done(struct jsonw *w); /* frees the buffer if not finished */

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_string(struct jsonw *w, const char *s); /* NULL writes null */
void jsonw_string_len(struct jsonw *w, const char *s, size_t len);
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);
void jsonw_bool(struct jsonw *w, bool v); /* json_bool is a json-c typedef */
void jsonw_null(struct jsonw *w);

/* key + value shorthands */
void jsonw_kv_string(struct jsonw *w, const char *key, const char *s);
void jsonw_kv_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_kv_uint(struct jsonw *w, const char *key, uint64_t v);
void jsonw_kv_bool(struct jsonw *w, const char *key, bool v);
void jsonw_kv_null(struct jsonw *w, const char *key);

/* Hands out the NUL-terminated document (caller frees) or the first error. */
int jsonw_finish(struct jsonw *w, char **ret, size_t *ret_len);
