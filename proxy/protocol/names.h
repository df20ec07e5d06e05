/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What people call a container: its name, image, pod, labels and
 * annotations, as its runtime keeps them or an OCI hook registered them
 * (proxy/names/). Labels for people and routes, never identity: which
 * container a task is in comes from its cgroup alone.
 *
 * Every string is bounded, valid UTF-8 and free of control characters, and
 * a container has at most NAMES_PAIRS_MAX labels and as many annotations:
 * these come from files and hooks a user can fill with anything. A pair
 * is "exported" when the host config lets its key leave the node (the
 * documents write only those); the others are kept for routes alone.
 */

#include <stdbool.h>
#include <stddef.h>

#include "proxy/base/jsonw.h"

/* A name, an image reference, a pod field, a label or annotation key. */
#define NAMES_STRING_MAX 1024
/* A label's or annotation's value. */
#define NAMES_VALUE_MAX 4096
/* Labels, and annotations, kept of one container. */
#define NAMES_PAIRS_MAX 64

struct names_pair {
        char *key;
        char *value;
        bool exported; /* the host config lets it leave the node */
};

struct names_pairs {
        struct names_pair *items;
        size_t n;
};

struct container_names {
        char *name;
        char *image;
        char *pod_name;
        char *pod_namespace;
        char *pod_uid;
        struct names_pairs labels;
        struct names_pairs annotations;
};

void container_names_done(struct container_names *n);
bool container_names_empty(const struct container_names *n);
/* dst gets every field it lacks from src (pairs by key); -ENOMEM. */
int container_names_merge(struct container_names *dst, const struct container_names *src);

/* Whether len bytes at s may stand in a document: at most max, valid UTF-8, no control character. */
bool names_text_ok(const char *s, size_t len, size_t max);
/* *field = a copy of s when it is unset and s is fit: 1 set, 0 left as it was, -ENOMEM. */
int names_set(char **field, const char *s, size_t len);

/* Adds a pair unless its key is there, the list is full or a string unfit: 1 added, 0 not, -ENOMEM. */
int names_pairs_add(struct names_pairs *p, const char *key, const char *value, size_t value_len,
                    bool exported);
/*
 * Adds a raw pair as a runtime gave it (a hook's annotations, which the
 * daemon sorts out later): a key fit like any, a value of any text without
 * NUL, at most max_pairs. 1 added, 0 not, -ENOMEM.
 */
int names_pairs_append_raw(struct names_pairs *p, const char *key, const char *value, size_t value_len,
                           size_t max_pairs);
const struct names_pair *names_pairs_find(const struct names_pairs *p, const char *key);
size_t names_pairs_exported(const struct names_pairs *p);
void names_pairs_done(struct names_pairs *p);

/* "labels": {...} with the pairs (only the exported ones when exported_only), nothing when none. */
void names_pairs_write(struct jsonw *w, const char *key, const struct names_pairs *p, bool exported_only);

/*
 * The names members of a JSON object as names_write() writes them ("name",
 * "image", "pod": {"name", "namespace", "uid"}, "labels", "annotations"),
 * for the parsers of this tree: fields that are absent stay unset, fields
 * of the wrong type, too long or unfit are -EBADMSG, and so are more than
 * NAMES_PAIRS_MAX pairs. Parsed pairs are exported (they left a node
 * already). o is a json-c object (struct json_object *).
 */
struct json_object;
int names_parse_members(struct json_object *o, struct container_names *ret);
/*
 * Writes those members; the pod's uid is pod_uid when given (the one its
 * cgroup names, which is identity) and n->pod_uid otherwise.
 */
void names_write_members(struct jsonw *w, const struct container_names *n, const char *pod_uid,
                         bool exported_only);
