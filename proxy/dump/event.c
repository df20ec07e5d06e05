/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proxy/base/jsonw.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/event.h"

struct event_log {
        pthread_mutex_t lock;
        char *path; /* NULL: stdout */
        int fd;
};

static int open_log(const char *path)
{
        int r = io_mkdir_parents(path);
        if (r < 0)
                return r;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
        if (fd < 0)
                return negative_errno();
        return fd;
}

int event_log_open(const char *path, struct event_log **ret)
{
        struct event_log *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        if (strcmp(path, "-") == 0) {
                l->fd = STDOUT_FILENO;
        } else {
                l->path = strdup(path);
                if (!l->path) {
                        event_log_free(l);
                        return -ENOMEM;
                }
                r = open_log(path);
                if (r < 0) {
                        l->fd = -EBADF;
                        event_log_free(l);
                        return r;
                }
                l->fd = r;
        }
        *ret = l;
        return 0;
}

int event_log_reopen(struct event_log *l)
{
        int r;

        if (!l->path)
                return 0;
        r = open_log(l->path);
        if (r < 0)
                return r;
        pthread_mutex_lock(&l->lock);
        safe_close(l->fd);
        l->fd = r;
        pthread_mutex_unlock(&l->lock);
        return 0;
}

void event_log_free(struct event_log *l)
{
        if (!l)
                return;
        if (l->path)
                safe_close(l->fd);
        pthread_mutex_destroy(&l->lock);
        free(l->path);
        free(l);
}

const char *event_log_path(const struct event_log *l)
{
        return l->path ? l->path : "-";
}

void event_format_time(usec_t wall, char buf[32])
{
        time_t t = (time_t) (wall / USEC_PER_SEC);
        struct tm tm;

        /* By hand: strftime() looks at TZ on every call, and this runs for every dump. */
        gmtime_r(&t, &tm);
        (void) snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (tm.tm_year + 1900u) % 10000u,
                        (tm.tm_mon + 1u) % 100u, tm.tm_mday % 100u, tm.tm_hour % 100u, tm.tm_min % 100u,
                        tm.tm_sec % 100u, (unsigned) ((wall % USEC_PER_SEC) / 1000) % 1000u);
}

static void write_container(struct jsonw *w, const struct dump *d)
{
        jsonw_key(w, "container");
        if (!d->in_container) {
                jsonw_null(w);
                return;
        }
        jsonw_object_begin(w);
        jsonw_kv_string(w, "runtime", runtime_to_string(d->container.runtime));
        jsonw_kv_string(w, "id", d->container.id);
        if (d->container.pod_uid)
                jsonw_kv_string(w, "pod_uid", d->container.pod_uid);
        jsonw_object_end(w);
}

/* The fields the event line and the metadata share. */
static void write_common(struct jsonw *w, const struct dump *d)
{
        char time[32];
        const struct task_identity *t = &d->task;

        event_format_time(d->accepted_wall, time);
        jsonw_kv_string(w, "id", d->id);
        jsonw_kv_string(w, "time", time);
        jsonw_kv_string(w, "outcome", dump_outcome_to_string(d->outcome));
        jsonw_kv_string(w, "reason", d->reason);
        jsonw_kv_string(w, "route", d->route ? d->route->name : NULL);
        if (d->have_action)
                jsonw_kv_string(w, "action", action_to_string(d->action));
        /* The forward did not happen and the route's fallback acted: reason says why. */
        if (d->fallback)
                jsonw_kv_bool(w, "fallback", true);
        if (t->pid > 0)
                jsonw_kv_uint(w, "pid", t->pid);
        else if (d->peer_pid > 0)
                jsonw_kv_int(w, "pid", d->peer_pid);
        else
                jsonw_kv_null(w, "pid");
        jsonw_kv_string(w, "comm", t->comm[0] ? t->comm : NULL);
        if (t->signal > 0)
                jsonw_kv_int(w, "signal", t->signal);
        else
                jsonw_kv_null(w, "signal");
        write_container(w, d);
        if (d->have_bytes)
                jsonw_kv_uint(w, "bytes", d->bytes);
        if (t->have_creds) {
                jsonw_kv_uint(w, "uid", t->ruid);
                jsonw_kv_uint(w, "gid", t->rgid);
        }
        jsonw_kv_string(w, "mode", d->request ? "request" : "plain");
        if (t->cgroup_path)
                jsonw_kv_string(w, "cgroup", t->cgroup_path);
        if (d->outcome == OUTCOME_STORED) {
                jsonw_kv_bool(w, "truncated", d->cut != NULL);
                if (d->cut)
                        jsonw_kv_string(w, "cut", d->cut);
        }
        if (d->task.coredumped && !t->proc_valid)
                jsonw_kv_string(w, "identity", "vanished");
}

int event_format(const struct dump *d, char **ret, size_t *ret_len)
{
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "event", "coredump");
        write_common(&w, d);
        if (d->core_path)
                jsonw_kv_string(&w, "core", d->core_path);
        if (d->collector_address)
                jsonw_kv_string(&w, "collector", d->collector_address);
        if (d->collector_path)
                jsonw_kv_string(&w, "collector_path", d->collector_path);
        jsonw_kv_uint(&w, "duration_ms", (io_now() - d->accepted_at) / USEC_PER_MSEC);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int event_format_metadata(const struct dump *d, char **ret, size_t *ret_len)
{
        const struct task_identity *t = &d->task;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        write_common(&w, d);
        jsonw_kv_string(&w, "exe", t->exe);
        jsonw_kv_string(&w, "cmdline", t->cmdline);
        if (t->have_creds) {
                jsonw_kv_uint(&w, "euid", t->euid);
                jsonw_kv_uint(&w, "egid", t->egid);
        }
        if (t->ns_pid > 0)
                jsonw_kv_uint(&w, "ns_pid", t->ns_pid);
        jsonw_kv_uint(&w, "cgroup_id", t->cgroup_id);
        jsonw_kv_uint(&w, "coredump_mask", t->coredump_mask);
        jsonw_kv_bool(&w, "sensitive", (t->coredump_mask & PIDFD_COREDUMP_ROOT) != 0);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

static int write_line(struct event_log *l, char *line, size_t len)
{
        int r;

        line[len] = '\n'; /* the writer's NUL; the line is written by length */
        pthread_mutex_lock(&l->lock);
        r = io_write_all(l->fd, line, len + 1);
        pthread_mutex_unlock(&l->lock);
        return r;
}

int event_log_write_lost(struct event_log *l, int pid, const char *comm, const char *reason, usec_t wall)
{
        _cleanup_free_ char *line = NULL;
        struct jsonw w;
        char time[32];
        size_t len;
        int r;

        event_format_time(wall, time);
        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "event", "coredump-lost");
        jsonw_kv_string(&w, "time", time);
        jsonw_kv_int(&w, "pid", pid);
        jsonw_kv_string(&w, "comm", comm && comm[0] ? comm : NULL);
        jsonw_kv_string(&w, "reason", reason);
        jsonw_object_end(&w);
        r = jsonw_finish(&w, &line, &len);
        if (r < 0)
                return r;
        return write_line(l, line, len);
}

int event_log_write(struct event_log *l, const struct dump *d)
{
        _cleanup_free_ char *line = NULL;
        size_t len;
        int r;

        r = event_format(d, &line, &len);
        if (r < 0)
                return r;
        return write_line(l, line, len);
}
