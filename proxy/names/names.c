/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "proxy/base/fault.h"
#include "proxy/names/cache.h"
#include "proxy/names/internal.h"
#include "proxy/names/registry.h"

/* Containers whose names are remembered; the least recently asked for go first. */
#define CACHE_MAX 1024
/* What was found stays while the cgroup exists; a re-read now and then costs little. */
#define CACHE_TTL_FOUND (10 * 60 * USEC_PER_SEC)
/* Nothing found: maybe the state was not written yet; asked again after this long. */
#define CACHE_TTL_NONE (30 * USEC_PER_SEC)
/* At most this many containers of each kind in a status document. */
#define STATUS_MAX 256

struct names {
        int cgroup2_fd;
        char *cgroup2_path;
        struct names_cache *cache;
        struct registry *registry;
};

/* ---- the filter */

static bool listed(char *const *keys, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(keys[i], key) == 0)
                        return true;
        return false;
}

static bool matched(const struct match_pair *pairs, size_t n, const char *key)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(pairs[i].key, key) == 0)
                        return true;
        return false;
}

enum names_keep names_filter_keep(const struct names_filter *f, enum names_kind kind, const char *key)
{
        const struct config *c = f ? f->config : NULL;
        bool label = kind == NAMES_LABEL;

        if (!c)
                return NAMES_EXPORT;
        if (label ? listed(c->names.labels, c->names.n_labels, key)
                  : listed(c->names.annotations, c->names.n_annotations, key))
                return NAMES_EXPORT;
        /* A key a route selects on is kept for it, and only for it. */
        for (size_t i = 0; i < c->n_routes; i++) {
                const struct route_match *m = &c->routes[i].match;
                if (label ? matched(m->labels, m->n_labels, key)
                          : matched(m->annotations, m->n_annotations, key))
                        return NAMES_KEEP;
        }
        return NAMES_DROP;
}

bool names_id_ok(const char *id)
{
        size_t n = id ? strlen(id) : 0;

        if (n == 0 || n > 255 || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (id[i] == '/' || (unsigned char) id[i] < 0x20 || id[i] == 0x7f)
                        return false;
        return true;
}

/* ---- the daemon's names */

int names_new(int cgroup2_fd, const char *cgroup2_path, const char *registrations_dir, struct names **ret)
{
        _cleanup_close_ int dir = -EBADF;
        struct names *n;
        int r;

        if (registrations_dir) {
                /* Root's alone: what is in it decides what names a container carries. */
                if (mkdir(registrations_dir, 0700) < 0 && errno != EEXIST)
                        return negative_errno();
                dir = open(registrations_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (dir < 0)
                        return negative_errno();
                (void) fchmod(dir, 0700);
        }
        n = calloc(1, sizeof(*n));
        if (!n)
                return -ENOMEM;
        n->cgroup2_fd = cgroup2_fd;
        n->cgroup2_path = cgroup2_path ? strdup(cgroup2_path) : NULL;
        r = names_cache_new(CACHE_MAX, &n->cache);
        if (r >= 0)
                r = registry_new(TAKE_FD(dir), &n->registry);
        if (r < 0 || (cgroup2_path && !n->cgroup2_path)) {
                names_free(n);
                return r < 0 ? r : -ENOMEM;
        }
        *ret = n;
        return 0;
}

void names_free(struct names *n)
{
        if (!n)
                return;
        names_cache_free(n->cache);
        registry_free(n->registry);
        free(n->cgroup2_path);
        free(n);
}

/* Whether a cgroup still exists: a removed one's id never comes back while the system runs. */
static bool cgroup_alive(void *userdata, uint64_t cgroup_id)
{
        struct names *n = userdata;
        _cleanup_free_ char *path = NULL;

        if (cgroup_id == 0 || n->cgroup2_fd < 0)
                return true;
        return cgroup_id_to_path(n->cgroup2_fd, n->cgroup2_path, cgroup_id, &path) != -ESTALE;
}

/* The runtime's own files, by what the cgroup said the runtime is. */
static int from_runtime(const struct names_source *s, struct container_names *out)
{
        struct names_source other = *s;
        int r = 0;

        switch (s->runtime) {
        case RUNTIME_DOCKER:
                r = names_from_docker(s, out);
                /* Its task bundle is in docker's containerd namespace, with any annotations. */
                if (r >= 0)
                        r = names_from_containerd(s, out);
                break;
        case RUNTIME_CONTAINERD:
                r = names_from_containerd(s, out);
                break;
        case RUNTIME_CRI:
                /* kubelet's cgroupfs driver does not say which CRI runtime: either may know it. */
                r = names_from_containerd(s, out);
                if (r == 0)
                        r = names_from_storage(&other, out);
                break;
        case RUNTIME_CRIO:
        case RUNTIME_PODMAN:
                r = names_from_storage(s, out);
                break;
        case RUNTIME_NSPAWN:
        case RUNTIME_LXC:
                r = names_from_machine(s, out);
                break;
        case _RUNTIME_MAX:
                break;
        }
        return r < 0 ? r : 0;
}

/* The exported marks follow the config of this dump, whoever found the pair and when. */
static void mark_exported(struct names_pairs *p, const struct names_filter *f, enum names_kind kind)
{
        for (size_t i = 0; i < p->n; i++)
                p->items[i].exported = names_filter_keep(f, kind, p->items[i].key) == NAMES_EXPORT;
}

int names_lookup(struct names *n, const struct config *c, const struct names_query *q,
                 struct container_names *ret)
{
        _cleanup_(container_names_done) struct container_names out = {}, found = {};
        const struct names_filter filter = { .config = c };
        usec_t now = io_now();
        int r;

        if (!q->id)
                return 0;
        /* Tests delete a container's state between its crash and this lookup. */
        if (fault_value("names-lookup-delay") > 0)
                (void) usleep((useconds_t) MIN(fault_value("names-lookup-delay"), 10000UL) * 1000);

        /* What the hook registered first: the runtime's account of the container, as it started it. */
        r = registry_get(n->registry, q->runtime, q->id, &out);
        if (r < 0)
                return r;
        r = names_cache_get(n->cache, q->runtime, q->id, now, &found);
        if (r < 0)
                return r;
        if (r == 0) {
                const struct names_source s = {
                        .config = &c->names,
                        .filter = &filter,
                        .runtime = q->runtime,
                        .id = q->id,
                };
                r = from_runtime(&s, &found);
                if (r < 0)
                        return r;
                r = names_cache_put(n->cache, q->runtime, q->id, q->cgroup_id, &found, now,
                                    container_names_empty(&found) ? CACHE_TTL_NONE : CACHE_TTL_FOUND);
                if (r < 0)
                        return r;
        }
        r = container_names_merge(&out, &found);
        if (r < 0)
                return r;
        mark_exported(&out.labels, &filter, NAMES_LABEL);
        mark_exported(&out.annotations, &filter, NAMES_ANNOTATION);
        if (container_names_empty(&out))
                return 0;
        container_names_done(ret);
        *ret = out;
        out = (struct container_names){};
        return 1;
}

void names_forget_cache(struct names *n)
{
        names_cache_clear(n->cache);
}

int names_register(struct names *n, const struct config *c, const struct names_registration *reg)
{
        _cleanup_(registry_entry_done) struct registry_entry e = {
                .runtime = reg->runtime,
                .cgroup_id = reg->cgroup_id,
                .registered = io_now_realtime(),
        };
        const struct names_filter filter = { .config = c };
        int r;

        if (!names_id_ok(reg->id))
                return -EINVAL;
        e.id = strdup(reg->id);
        e.cgroup_path = reg->cgroup_path ? strdup(reg->cgroup_path) : NULL;
        if (!e.id || (reg->cgroup_path && !e.cgroup_path))
                return -ENOMEM;
        for (size_t i = 0; reg->annotations && i < reg->annotations->n; i++) {
                const struct names_pair *p = &reg->annotations->items[i];
                r = names_from_annotation(&e.names, &filter, p->key, p->value, strlen(p->value));
                if (r < 0)
                        return r;
        }
        r = registry_add(n->registry, &e);
        if (r == -ENOSPC) {
                /* Full: containers that ended without a poststop make room first. */
                names_sweep(n);
                r = registry_add(n->registry, &e);
        }
        return r;
}

size_t names_unregister(struct names *n, const char *id)
{
        return registry_remove(n->registry, id);
}

struct load_check {
        struct names *names;
        names_check_fn check;
        void *userdata;
};

static bool load_keep(void *userdata, const struct registry_entry *e)
{
        struct load_check *l = userdata;

        return cgroup_alive(l->names, e->cgroup_id) &&
               (!l->check || l->check(l->userdata, e->runtime, e->id, e->cgroup_id));
}

size_t names_load(struct names *n, names_check_fn check, void *userdata)
{
        struct load_check l = { .names = n, .check = check, .userdata = userdata };

        return registry_load(n->registry, load_keep, &l);
}

static bool sweep_keep(void *userdata, const struct registry_entry *e)
{
        return cgroup_alive(userdata, e->cgroup_id);
}

void names_sweep(struct names *n)
{
        registry_sweep(n->registry, sweep_keep, n);
        names_cache_sweep(n->cache, io_now(), cgroup_alive, n);
}

size_t names_registered(struct names *n)
{
        return registry_count(n->registry);
}

void names_write_status(struct names *n, struct jsonw *w)
{
        jsonw_kv_uint(w, "containers_registered", registry_count(n->registry));
        jsonw_kv_uint(w, "containers_cached", names_cache_count(n->cache));
        jsonw_key(w, "containers");
        jsonw_array_begin(w);
        registry_write(n->registry, w, STATUS_MAX);
        names_cache_write(n->cache, w, STATUS_MAX);
        jsonw_array_end(w);
}
