/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/names/cache.h"

struct entry {
        enum container_runtime runtime;
        char *id; /* NULL: a free slot */
        uint64_t cgroup_id;
        usec_t expires;
        uint64_t used; /* when it was last asked for, in lookups: the smallest goes first */
        struct container_names names;
};

struct names_cache {
        pthread_mutex_t lock;
        struct entry *entries;
        size_t max;
        uint64_t clock;
};

int names_cache_new(size_t max, struct names_cache **ret)
{
        struct names_cache *c = calloc(1, sizeof(*c));

        if (!c)
                return -ENOMEM;
        c->entries = calloc(max, sizeof(*c->entries));
        if (!c->entries) {
                free(c);
                return -ENOMEM;
        }
        c->max = max;
        pthread_mutex_init(&c->lock, NULL);
        *ret = c;
        return 0;
}

static void entry_drop(struct entry *e)
{
        free(e->id);
        container_names_done(&e->names);
        *e = (struct entry){};
}

void names_cache_free(struct names_cache *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->max; i++)
                entry_drop(&c->entries[i]);
        free(c->entries);
        pthread_mutex_destroy(&c->lock);
        free(c);
}

static struct entry *find(struct names_cache *c, enum container_runtime runtime, const char *id)
{
        for (size_t i = 0; i < c->max; i++)
                if (c->entries[i].id && c->entries[i].runtime == runtime &&
                    strcmp(c->entries[i].id, id) == 0)
                        return &c->entries[i];
        return NULL;
}

int names_cache_get(struct names_cache *c, enum container_runtime runtime, const char *id, usec_t now,
                    struct container_names *ret)
{
        struct entry *e;
        int r = 0;

        pthread_mutex_lock(&c->lock);
        e = find(c, runtime, id);
        if (e && now >= e->expires) {
                entry_drop(e);
                e = NULL;
        }
        if (e) {
                e->used = ++c->clock;
                r = container_names_merge(ret, &e->names);
                r = r < 0 ? r : 1;
        }
        pthread_mutex_unlock(&c->lock);
        return r;
}

/* A free slot, else the least recently used one, emptied. */
static struct entry *slot(struct names_cache *c)
{
        struct entry *oldest = &c->entries[0];

        for (size_t i = 0; i < c->max; i++) {
                if (!c->entries[i].id)
                        return &c->entries[i];
                if (c->entries[i].used < oldest->used)
                        oldest = &c->entries[i];
        }
        entry_drop(oldest);
        return oldest;
}

int names_cache_put(struct names_cache *c, enum container_runtime runtime, const char *id,
                    uint64_t cgroup_id, const struct container_names *n, usec_t now, usec_t ttl)
{
        _cleanup_(container_names_done) struct container_names copy = {};
        _cleanup_free_ char *key = strdup(id);
        struct entry *e;
        int r;

        if (!key)
                return -ENOMEM;
        r = container_names_merge(&copy, n);
        if (r < 0)
                return r;
        pthread_mutex_lock(&c->lock);
        /* Two workers may have looked the same container up: the later answer replaces the earlier. */
        e = find(c, runtime, id);
        if (e)
                entry_drop(e);
        else
                e = slot(c);
        *e = (struct entry){
                .runtime = runtime,
                .id = TAKE_PTR(key),
                .cgroup_id = cgroup_id,
                .expires = now + ttl,
                .used = ++c->clock,
                .names = copy,
        };
        copy = (struct container_names){};
        pthread_mutex_unlock(&c->lock);
        return 0;
}

void names_cache_clear(struct names_cache *c)
{
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->max; i++)
                entry_drop(&c->entries[i]);
        pthread_mutex_unlock(&c->lock);
}

void names_cache_sweep(struct names_cache *c, usec_t now, bool (*alive)(void *userdata, uint64_t cgroup_id),
                       void *userdata)
{
        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->max; i++) {
                struct entry *e = &c->entries[i];
                if (e->id && (now >= e->expires || (alive && !alive(userdata, e->cgroup_id))))
                        entry_drop(e);
        }
        pthread_mutex_unlock(&c->lock);
}

size_t names_cache_count(struct names_cache *c)
{
        size_t n = 0;

        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->max; i++)
                n += c->entries[i].id && !container_names_empty(&c->entries[i].names);
        pthread_mutex_unlock(&c->lock);
        return n;
}

void names_cache_write(struct names_cache *c, struct jsonw *w, size_t max)
{
        size_t n = 0;

        pthread_mutex_lock(&c->lock);
        for (size_t i = 0; i < c->max && n < max; i++) {
                const struct entry *e = &c->entries[i];
                if (!e->id || container_names_empty(&e->names))
                        continue;
                jsonw_object_begin(w);
                jsonw_kv_string(w, "runtime", runtime_to_string(e->runtime));
                jsonw_kv_string(w, "id", e->id);
                jsonw_kv_string(w, "source", "runtime");
                /* Only what documents may carry: status is root's, but it is still a document. */
                names_write_members(w, &e->names, NULL, true);
                jsonw_object_end(w);
                n++;
        }
        pthread_mutex_unlock(&c->lock);
}
