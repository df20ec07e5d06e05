/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/jsonr.h"
#include "proxy/base/utc.h"
#include "proxy/names/internal.h"
#include "proxy/names/registry.h"

struct registry {
        pthread_mutex_t lock;
        int dir_fd;
        struct registry_entry *entries;
        size_t n;
};

void registry_entry_done(struct registry_entry *e)
{
        if (!e)
                return;
        free(e->id);
        free(e->cgroup_path);
        container_names_done(&e->names);
        *e = (struct registry_entry){};
}

int registry_new(int dir_fd, struct registry **ret)
{
        struct registry *r = calloc(1, sizeof(*r));

        if (!r) {
                safe_close(dir_fd);
                return -ENOMEM;
        }
        r->entries = calloc(REGISTRY_MAX, sizeof(*r->entries));
        if (!r->entries) {
                free(r);
                safe_close(dir_fd);
                return -ENOMEM;
        }
        pthread_mutex_init(&r->lock, NULL);
        r->dir_fd = dir_fd;
        *ret = r;
        return 0;
}

void registry_free(struct registry *r)
{
        if (!r)
                return;
        for (size_t i = 0; i < r->n; i++)
                registry_entry_done(&r->entries[i]);
        free(r->entries);
        safe_close(r->dir_fd);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

/* ---- the file of one registration */

int registry_entry_format(const struct registry_entry *e, char **ret, size_t *ret_len)
{
        char time[UTC_STRING_MAX];
        struct jsonw w;

        utc_format_rfc3339(e->registered, time);
        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "runtime", runtime_to_string(e->runtime));
        jsonw_kv_string(&w, "id", e->id);
        jsonw_kv_uint(&w, "cgroup_id", e->cgroup_id);
        if (e->cgroup_path)
                jsonw_kv_string(&w, "cgroup", e->cgroup_path);
        jsonw_kv_uint(&w, "registered_us", e->registered);
        jsonw_kv_string(&w, "registered", time);
        /* Every pair, exported or not: which may leave the node is the config's call at lookup time. */
        names_write_members(&w, &e->names, NULL, false);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int registry_entry_parse(const char *text, size_t len, struct registry_entry *ret)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(registry_entry_done) struct registry_entry e = {};
        const char *s;
        int64_t v;
        int r, rt;

        r = jsonr_parse(text, len, REGISTRY_FILE_MAX, 8, json_type_object, &o);
        if (r < 0)
                return r;
        if (jsonr_string(o, "runtime", 32, &s, NULL) <= 0 || (rt = runtime_from_string(s)) < 0)
                return -EBADMSG;
        e.runtime = (enum container_runtime) rt;
        if (jsonr_string(o, "id", 256, &s, NULL) <= 0 || !names_id_ok(s))
                return -EBADMSG;
        e.id = strdup(s);
        if (jsonr_int(o, "cgroup_id", 0, INT64_MAX, &v) <= 0)
                return -EBADMSG;
        e.cgroup_id = (uint64_t) v;
        if (jsonr_int(o, "registered_us", 0, INT64_MAX, &v) > 0)
                e.registered = (usec_t) v;
        r = jsonr_string(o, "cgroup", 4096, &s, NULL);
        if (r < 0)
                return r;
        if (r > 0)
                e.cgroup_path = strdup(s);
        if (!e.id || (r > 0 && !e.cgroup_path))
                return -ENOMEM;
        r = names_parse_members(o, &e.names);
        if (r < 0)
                return r;
        *ret = e;
        e = (struct registry_entry){};
        return 0;
}

/* "<runtime>-<id>.json": never a dot file, never a path (ids are checked). */
static int file_name(const struct registry_entry *e, char *buf, size_t size)
{
        int k = snprintf(buf, size, "%s-%s.json", runtime_to_string(e->runtime), e->id);
        return k > 0 && (size_t) k < size ? 0 : -ENAMETOOLONG;
}

/* Written whole and renamed into place: a restart reads a file complete, or not at all. */
static void persist(struct registry *r, const struct registry_entry *e)
{
        _cleanup_free_ char *doc = NULL;
        _cleanup_close_ int fd = -EBADF;
        char name[512], tmp[540];
        size_t len;

        if (r->dir_fd < 0 || file_name(e, name, sizeof(name)) < 0 ||
            registry_entry_format(e, &doc, &len) < 0)
                return;
        (void) snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        (void) unlinkat(r->dir_fd, tmp, 0);
        fd = openat(r->dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return;
        if (io_write_all(fd, doc, len) < 0 || renameat(r->dir_fd, tmp, r->dir_fd, name) < 0)
                (void) unlinkat(r->dir_fd, tmp, 0);
}

static void unpersist(struct registry *r, const struct registry_entry *e)
{
        char name[512];

        if (r->dir_fd >= 0 && file_name(e, name, sizeof(name)) >= 0)
                (void) unlinkat(r->dir_fd, name, 0);
}

/* ---- the table */

static ssize_t find(struct registry *r, enum container_runtime runtime, const char *id)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->entries[i].runtime == runtime && strcmp(r->entries[i].id, id) == 0)
                        return (ssize_t) i;
        return -1;
}

/* Removes entry i from the table (not from disk): the last one takes its place. */
static void take_out(struct registry *r, size_t i)
{
        registry_entry_done(&r->entries[i]);
        r->entries[i] = r->entries[--r->n];
        r->entries[r->n] = (struct registry_entry){};
}

int registry_add(struct registry *r, struct registry_entry *e)
{
        ssize_t i;

        pthread_mutex_lock(&r->lock);
        i = find(r, e->runtime, e->id);
        if (i >= 0)
                registry_entry_done(&r->entries[i]);
        else if (r->n >= REGISTRY_MAX) {
                pthread_mutex_unlock(&r->lock);
                return -ENOSPC;
        } else
                i = (ssize_t) r->n++;
        r->entries[i] = *e;
        *e = (struct registry_entry){};
        persist(r, &r->entries[i]);
        pthread_mutex_unlock(&r->lock);
        return 0;
}

size_t registry_remove(struct registry *r, const char *id)
{
        size_t removed = 0;

        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n;) {
                if (strcmp(r->entries[i].id, id) != 0) {
                        i++;
                        continue;
                }
                unpersist(r, &r->entries[i]);
                take_out(r, i);
                removed++;
        }
        pthread_mutex_unlock(&r->lock);
        return removed;
}

int registry_get(struct registry *r, enum container_runtime runtime, const char *id,
                 struct container_names *ret)
{
        ssize_t i;
        int k = 0;

        pthread_mutex_lock(&r->lock);
        i = find(r, runtime, id);
        if (i >= 0) {
                k = container_names_merge(ret, &r->entries[i].names);
                k = k < 0 ? k : 1;
        }
        pthread_mutex_unlock(&r->lock);
        return k;
}

void registry_sweep(struct registry *r, bool (*keep)(void *userdata, const struct registry_entry *e),
                    void *userdata)
{
        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n;) {
                if (keep(userdata, &r->entries[i])) {
                        i++;
                        continue;
                }
                unpersist(r, &r->entries[i]);
                take_out(r, i);
        }
        pthread_mutex_unlock(&r->lock);
}

size_t registry_count(struct registry *r)
{
        size_t n;

        pthread_mutex_lock(&r->lock);
        n = r->n;
        pthread_mutex_unlock(&r->lock);
        return n;
}

/* One kept file: 1 taken, 0 refused (and deleted). */
static int load_one(struct registry *r, const char *name,
                    bool (*keep)(void *, const struct registry_entry *), void *userdata)
{
        _cleanup_(registry_entry_done) struct registry_entry e = {};
        _cleanup_free_ char *text = NULL;
        char expect[512];
        size_t len = 0;

        if (jsonr_read_text(r->dir_fd, name, REGISTRY_FILE_MAX, &text, &len) < 0 ||
            registry_entry_parse(text, len, &e) < 0 || file_name(&e, expect, sizeof(expect)) < 0 ||
            strcmp(expect, name) != 0 || !keep(userdata, &e) || r->n >= REGISTRY_MAX ||
            find(r, e.runtime, e.id) >= 0) {
                (void) unlinkat(r->dir_fd, name, 0);
                return 0;
        }
        r->entries[r->n++] = e;
        e = (struct registry_entry){};
        return 1;
}

size_t registry_load(struct registry *r, bool (*keep)(void *userdata, const struct registry_entry *e),
                     void *userdata)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        size_t taken = 0;
        int fd;

        if (r->dir_fd < 0)
                return 0;
        fd = openat(r->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return 0;
        }
        pthread_mutex_lock(&r->lock);
        /* Bounded by the table: files beyond it are deleted like stale ones. */
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.') {
                        /* A temporary file left by a crash during a write. */
                        if (strstr(de->d_name, ".tmp"))
                                (void) unlinkat(r->dir_fd, de->d_name, 0);
                        continue;
                }
                taken += (size_t) load_one(r, de->d_name, keep, userdata);
        }
        pthread_mutex_unlock(&r->lock);
        return taken;
}

void registry_write(struct registry *r, struct jsonw *w, size_t max)
{
        char time[UTC_STRING_MAX];

        pthread_mutex_lock(&r->lock);
        for (size_t i = 0; i < r->n && i < max; i++) {
                const struct registry_entry *e = &r->entries[i];

                utc_format_rfc3339(e->registered, time);
                jsonw_object_begin(w);
                jsonw_kv_string(w, "runtime", runtime_to_string(e->runtime));
                jsonw_kv_string(w, "id", e->id);
                jsonw_kv_string(w, "source", "hook");
                jsonw_kv_string(w, "registered", time);
                if (e->cgroup_path)
                        jsonw_kv_string(w, "cgroup", e->cgroup_path);
                names_write_members(w, &e->names, NULL, true);
                jsonw_object_end(w);
        }
        pthread_mutex_unlock(&r->lock);
}
