/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/pidfd.h"
#include "proxy/dump/resolve.h"

/* The open v1 hierarchy that a /proc/<pid>/cgroup line's controllers name; -EBADF when none is. */
static int v1_mount_fd(const struct identify_context *ctx, const char *controllers)
{
        for (size_t i = 0; i < ctx->n_v1_mounts; i++)
                if (ctx->v1_mounts[i].fd >= 0 && cgroup1_mount_matches(ctx->v1_mounts[i].mount, controllers))
                        return ctx->v1_mounts[i].fd;
        return -EBADF;
}

/*
 * The task's cgroup path, directory by directory. On cgroup2 the last one must be the cgroup of
 * the pidfd's id, which proves every level (cgroup2 directories never move). A v1 path was read
 * from /proc/<pid>/cgroup: the task must still be the pidfd's once its directories are walked.
 */
static int walk_task(const struct identify_context *ctx, int pidfd, const struct task_identity *t,
                     struct cgroup_level **ret_levels, size_t *ret_n, const char **ret_why)
{
        int fd, r;

        if (!t->cgroup_v1) {
                if (ctx->cgroup2_fd < 0) {
                        *ret_why = "no cgroup2 mount";
                        return -ENOENT;
                }
                r = cgroup_walk(ctx->cgroup2_fd, t->cgroup_path, t->cgroup_id, ret_levels, ret_n);
                if (r < 0)
                        *ret_why = "its cgroup2 directories could not be walked to its cgroup id";
                return r;
        }
        fd = v1_mount_fd(ctx, t->cgroup_v1_controllers);
        if (fd < 0) {
                *ret_why = "its cgroup v1 hierarchy is not mounted here";
                return -ENOENT;
        }
        r = cgroup_walk(fd, t->cgroup_path, 0, ret_levels, ret_n);
        if (r < 0) {
                *ret_why = "its cgroup v1 directories could not be walked";
                return r;
        }
        if (pidfd_is_alive(pidfd) != 1) {
                free(*ret_levels);
                *ret_why = "the task vanished while its cgroup was read";
                return -ESRCH;
        }
        return 0;
}

/* The container's and its pod's cgroups, from the levels walked. */
static int place_container(const struct task_identity *t, const struct cgroup_level *levels,
                           struct container_info *c)
{
        c->v1 = t->cgroup_v1;
        c->cgroup_path = strndup(t->cgroup_path, container_path_prefix(t->cgroup_path, c->depth));
        if (!c->cgroup_path)
                return -ENOMEM;
        if (c->pod_depth > 0) {
                c->pod_cgroup_path =
                        strndup(t->cgroup_path, container_path_prefix(t->cgroup_path, c->pod_depth));
                if (!c->pod_cgroup_path)
                        return -ENOMEM;
        }
        if (c->v1) {
                c->v1_controllers = strdup(t->cgroup_v1_controllers);
                return c->v1_controllers ? 0 : -ENOMEM;
        }
        c->cgroup_id = levels[c->depth - 1].id;
        c->pod_cgroup_id = c->pod_depth > 0 ? levels[c->pod_depth - 1].id : 0;
        return 0;
}

int resolve_task(const struct identify_context *ctx, int pidfd, const struct task_identity *t,
                 struct container_info *ret, const char **ret_why)
{
        _cleanup_free_ struct cgroup_level *levels = NULL;
        _cleanup_free_ uint32_t *owners = NULL;
        struct container_info c = {};
        size_t n = 0;
        int r;

        *ret_why = NULL;
        if (!t->cgroup_path)
                return 0;
        r = walk_task(ctx, pidfd, t, &levels, &n, ret_why);
        if (r < 0)
                return 0;

        owners = calloc(n ? n : 1, sizeof(*owners));
        if (!owners)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                owners[i] = levels[i].uid;
        r = container_resolve(t->cgroup_path, owners, n, &c);
        if (r == -EINVAL) {
                *ret_why = "its cgroup path and its directories disagree";
                return 0;
        }
        if (r <= 0)
                return r;
        r = place_container(t, levels, &c);
        if (r < 0) {
                container_info_done(&c);
                return r;
        }
        *ret = c;
        return 1;
}

/* Whether path is prefix or below it, component-wise. */
static bool path_within(const char *path, const char *prefix)
{
        size_t n = strlen(prefix);

        while (n > 1 && prefix[n - 1] == '/')
                n--;
        return strncmp(path, prefix, n) == 0 && (path[n] == 0 || path[n] == '/');
}

static int within_v1(int pidfd, uint32_t pid, const struct container_info *c, const char *target,
                     char **ret_path)
{
        _cleanup_free_ char *path = NULL;
        int r;

        r = identify_v1_path(pidfd, pid, c->v1_controllers, &path);
        if (r < 0)
                return r;
        r = path_within(path, target);
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return r;
}

/*
 * The ids of a cgroup2 directory's ancestors, remembered: a directory never
 * moves and its id is never given to another while the system runs, so its
 * ancestry, once walked up to the id, stays true (owners may change; they are
 * not kept here). The collectors are asked about for every forward, twice
 * (the listener and the sender of its answer): their walks are done once.
 */
#define ANCESTRY_CACHE_SIZE 64
#define ANCESTRY_MAX        32

struct ancestry {
        uint64_t id;
        size_t n;
        uint64_t ids[ANCESTRY_MAX]; /* from the top level down to id itself */
};

static struct ancestry ancestry_cache[ANCESTRY_CACHE_SIZE];
static unsigned ancestry_next;
static pthread_mutex_t ancestry_lock = PTHREAD_MUTEX_INITIALIZER;

static bool ancestry_lookup(uint64_t id, uint64_t target, bool *ret_within)
{
        bool found = false;

        pthread_mutex_lock(&ancestry_lock);
        for (size_t i = 0; i < ANCESTRY_CACHE_SIZE && !found; i++) {
                const struct ancestry *a = &ancestry_cache[i];
                if (a->id != id || a->n == 0)
                        continue;
                found = true;
                *ret_within = false;
                for (size_t k = 0; k < a->n && !*ret_within; k++)
                        *ret_within = a->ids[k] == target;
        }
        pthread_mutex_unlock(&ancestry_lock);
        return found;
}

static void ancestry_remember(uint64_t id, const struct cgroup_level *levels, size_t n)
{
        struct ancestry *a;

        if (n == 0 || n > ANCESTRY_MAX)
                return;
        pthread_mutex_lock(&ancestry_lock);
        a = &ancestry_cache[ancestry_next];
        ancestry_next = (ancestry_next + 1) % ANCESTRY_CACHE_SIZE;
        a->id = id;
        a->n = n;
        for (size_t i = 0; i < n; i++)
                a->ids[i] = levels[i].id;
        pthread_mutex_unlock(&ancestry_lock);
}

int resolve_process_within(const struct identify_context *ctx, int pidfd, uint32_t pid, uint64_t cgroup_id,
                           const struct container_info *c, bool pod, char **ret_path)
{
        _cleanup_free_ struct cgroup_level *levels = NULL;
        _cleanup_free_ char *path = NULL;
        bool use_pod = pod && c->pod_depth > 0, within = false, known;
        uint64_t target = use_pod ? c->pod_cgroup_id : c->cgroup_id;
        size_t n = 0;
        int r;

        if (c->v1)
                return within_v1(pidfd, pid, c, use_pod ? c->pod_cgroup_path : c->cgroup_path, ret_path);
        if (target == 0)
                return -ENOENT;
        if (cgroup_id == target)
                return 1;
        /* Known, and inside: no path needed (only a refusal names it). */
        known = ancestry_lookup(cgroup_id, target, &within);
        if (known && within)
                return 1;
        r = identify_cgroup2_path(ctx, cgroup_id, &path);
        if (r < 0)
                return r;
        if (!known) {
                /* Its ancestors, by id: whatever they are called, the walk ends at its own cgroup. */
                r = cgroup_walk(ctx->cgroup2_fd, path, cgroup_id, &levels, &n);
                if (r < 0)
                        return r;
                ancestry_remember(cgroup_id, levels, n);
                for (size_t i = 0; i < n && !within; i++)
                        within = levels[i].id == target;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(path);
        return within;
}

int resolve_limit_key(const struct container_info *c, char **ret)
{
        int r;

        /*
         * A rootless owner may make a new cgroup for every crash: all its containers share one
         * key, so that no name and no new cgroup escapes its limits. A system container's cgroup
         * is the runtime's, for the container's life.
         */
        if (c->rootless)
                r = asprintf(ret, "user:%" PRIu32, c->owner_uid);
        else if (c->v1)
                r = asprintf(ret, "v1:%s:%s", c->v1_controllers, c->cgroup_path);
        else
                r = asprintf(ret, "cg2:%" PRIu64, c->cgroup_id);
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}
