/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to proxy/names/: what the runtimes' files said about a container,
 * remembered so that a crash loop does not reread them for every dump.
 * Bounded (the least recently used entry goes first); an entry lives while
 * the cgroup it was looked up for exists, and no longer than its ttl. Its
 * own lock, never held while a file is read.
 */

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "kernel/io.h"
#include "proxy/base/jsonw.h"
#include "proxy/protocol/names.h"

struct names_cache;

int names_cache_new(size_t max, struct names_cache **ret);
void names_cache_free(struct names_cache *c);

/* 1: a copy of the entry in ret (which may be empty: nothing was found); 0: not cached; -ENOMEM. */
int names_cache_get(struct names_cache *c, enum container_runtime runtime, const char *id, usec_t now,
                    struct container_names *ret);
/* Remembers n (copied) until now + ttl, or until cgroup_id is gone. */
int names_cache_put(struct names_cache *c, enum container_runtime runtime, const char *id,
                    uint64_t cgroup_id, const struct container_names *n, usec_t now, usec_t ttl);
void names_cache_clear(struct names_cache *c);
/* Drops expired entries and those whose cgroup alive() says is gone. */
void names_cache_sweep(struct names_cache *c, usec_t now, bool (*alive)(void *userdata, uint64_t cgroup_id),
                       void *userdata);
size_t names_cache_count(struct names_cache *c);
/* The entries that name something, as status objects, at most max of them. */
void names_cache_write(struct names_cache *c, struct jsonw *w, size_t max);
