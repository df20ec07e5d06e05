/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Strict, bounded reading of JSON that others wrote: runtimes' state files,
 * an OCI runtime's state on a hook's stdin, control requests. For the
 * modules that parse with json-c (proxy/names/, proxy/protocol/); each of
 * them turns what it reads into plain structs, so json_object never leaves
 * them. Nothing here trusts the text: sizes, depth and UTF-8 are checked
 * before a value is handed out, and a string never holds a NUL.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/jsonc.h"

/*
 * Parses exactly len bytes as one JSON value of the given type: strict JSON,
 * valid UTF-8 (no overlongs, surrogates or code points beyond U+10FFFF), no
 * NUL byte, at most max_depth levels of nesting, nothing but whitespace
 * after it. -EMSGSIZE: longer than max_len; -EBADMSG: anything else wrong.
 */
int jsonr_parse(const char *buf, size_t len, size_t max_len, int max_depth, enum json_type type,
                struct json_object **ret);

/*
 * The text of a regular file at dirfd/path (its last component never a
 * symlink, never a FIFO that would block), NUL-terminated: -EFBIG over
 * max_len, -EBADMSG when it is not a regular file, -errno.
 */
int jsonr_read_text(int dirfd, const char *path, size_t max_len, char **ret, size_t *ret_len);

/*
 * Reads and parses a regular file at dirfd/path (its last component never a
 * symlink, never a FIFO that would block): -EFBIG over max_len, -EBADMSG
 * when it is not JSON of the type, -errno when it cannot be read.
 */
int jsonr_read_file(int dirfd, const char *path, size_t max_len, int max_depth, enum json_type type,
                    struct json_object **ret);

/*
 * A member of an object: 0 when absent or null, 1 with it (borrowed), -EBADMSG
 * when it has another type.
 */
int jsonr_member(struct json_object *o, const char *key, enum json_type type, struct json_object **ret);

/*
 * A string value: -EBADMSG when it is not a string, holds a NUL ("\u0000")
 * or is longer than max bytes. The text is borrowed from v.
 */
int jsonr_string_value(struct json_object *v, size_t max, const char **ret, size_t *ret_len);
/* The same for a member: 0 absent or null, 1 found. */
int jsonr_string(struct json_object *o, const char *key, size_t max, const char **ret, size_t *ret_len);
/* An integer member within [min, max]: 0 absent or null, 1 found, -EBADMSG otherwise. */
int jsonr_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret);
