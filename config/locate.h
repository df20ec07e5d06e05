/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Positions of keys and values in a JSON text, for error messages: json-c
 * keeps no positions for what it parsed, and silently keeps the last of two
 * equal keys. This is a small scanner of its own over the same text. Each
 * call walks the whole text once: callers bound how often they ask.
 */

#include <stddef.h>

/* One step of a key path: a key of an object, or (key == NULL) an index into an array. */
struct locate_step {
        const char *key;
        size_t index;
};

/* "$" for the root, else e.g. "routes[1].match.runtime[0]"; odd keys are quoted: `a["x.y"]`. */
int locate_format_path(const struct locate_step *path, size_t n, char **ret);

struct locate_position {
        unsigned line;   /* 1-based */
        unsigned column; /* 1-based, in characters (UTF-8 sequences count once, a tab counts once) */
};

/* The line and column of a byte offset (clamped to len). */
struct locate_position locate_line_column(const char *text, size_t len, size_t offset);

enum locate_target {
        LOCATE_VALUE, /* the first byte of the value */
        LOCATE_KEY,   /* the opening quote of the key that names the value */
};

/*
 * Finds where the value at path starts (or its key). Where an object repeats
 * a key, the last one counts, as in json-c. -ENOENT when the path is not in
 * the text, -EBADMSG when the text is not well-formed.
 */
int locate_find(const char *text, size_t len, const struct locate_step *path, size_t n,
                enum locate_target target, size_t *ret_offset);

/*
 * The key path of the value being parsed at offset, in a text that may be
 * broken there (for syntax errors): the innermost key or index whose value
 * had started before offset, "$" when none.
 */
int locate_path_at(const char *text, size_t len, size_t offset, char **ret_path);

enum locate_problem_kind {
        LOCATE_DUPLICATE_KEY,     /* offset: the repeated key; first_offset: its first use */
        LOCATE_CONTROL_CHARACTER, /* a raw byte < 0x20 inside a string */
        LOCATE_NOT_JSON_NUMBER,   /* NaN, Infinity and friends: json-c takes them, JSON does not */
        LOCATE_INTEGER_RANGE,     /* an integer beyond 64 bits: json-c would clamp it silently */
};

struct locate_problem {
        enum locate_problem_kind kind;
        const char *path; /* formatted as by locate_format_path() */
        const char *key;  /* LOCATE_DUPLICATE_KEY: the key, else NULL */
        size_t offset;
        size_t first_offset;
};

/* Called for each problem found; a negative return stops the scan and is returned. */
typedef int (*locate_problem_fn)(const struct locate_problem *problem, void *userdata);

/*
 * Finds what json-c accepts but we do not: duplicate keys within one object,
 * raw control characters in strings, non-standard numbers. The text must
 * already have been parsed by json-c (-EBADMSG otherwise).
 */
int locate_lint(const char *text, size_t len, locate_problem_fn fn, void *userdata);
