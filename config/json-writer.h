/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small JSON writer for event lines, metadata files and collector
 * messages. Strings come from crashing processes (comm, exe, cmdline) and
 * may hold any bytes: control characters are escaped and bytes that are not
 * valid UTF-8 become U+FFFD, so every document written is valid JSON.
 * Errors (ENOMEM) are sticky and reported once by json_writer_finish().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer {
        char *buf;
        size_t len;
        size_t allocated;
        int error; /* first error, negative errno */
        unsigned depth;
        uint64_t need_comma; /* one bit per nesting level */
        bool after_key;
};

void json_writer_init(struct json_writer *w);
void json_writer_done(struct json_writer *w); /* frees the buffer if not finished */

void json_object_begin(struct json_writer *w);
void json_object_end(struct json_writer *w);
void json_array_begin(struct json_writer *w);
void json_array_end(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);

void json_string(struct json_writer *w, const char *s); /* NULL writes null */
void json_string_len(struct json_writer *w, const char *s, size_t len);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_write_bool(struct json_writer *w, bool v); /* json_bool is a json-c typedef */
void json_null(struct json_writer *w);

/* key + value shorthands */
void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_int(struct json_writer *w, const char *key, int64_t v);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
void json_kv_null(struct json_writer *w, const char *key);

/* Hands out the NUL-terminated document (caller frees) or the first error. */
int json_writer_finish(struct json_writer *w, char **ret, size_t *ret_len);
