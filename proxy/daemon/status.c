/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The document behind `coredump-proxy status`, built on the event loop:
 * only counters and lists under short locks, never a lock a dump holds
 * while it does I/O.
 */

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/unix-diag.h"
#include "proxy/base/jsonw.h"
#include "proxy/base/utc.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/state.h"
#include "proxy/names/names.h"

#define STATUS_IN_FLIGHT_MAX 256

static void write_store(struct jsonw *w, const struct proxy_setup *s)
{
        jsonw_key(w, "store");
        jsonw_object_begin(w);
        jsonw_kv_string(w, "directory", s->config->store_directory);
        jsonw_kv_bool(w, "available", s->store != NULL);
        if (s->store) {
                uint64_t bytes = 0;
                unsigned files = 0;
                (void) store_usage(s->store, &bytes, &files);
                jsonw_kv_uint(w, "usage_bytes", bytes);
                jsonw_kv_uint(w, "files", files);
        } else {
                jsonw_kv_string(w, "error", strerror(-s->store_error));
        }
        jsonw_object_end(w);
}

static void write_limits(struct jsonw *w, const struct limits *l)
{
        jsonw_key(w, "limits");
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "collector_timeout_ms", l->collector_timeout / USEC_PER_MSEC);
        jsonw_kv_uint(w, "dump_timeout_ms", l->dump_timeout / USEC_PER_MSEC);
        jsonw_kv_uint(w, "max_concurrent", l->max_concurrent);
        jsonw_key(w, "per_container");
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "concurrent", l->per_container_concurrent);
        if (l->per_container_dumps > 0) {
                jsonw_kv_uint(w, "dumps", l->per_container_dumps);
                jsonw_kv_uint(w, "interval_ms", l->per_container_interval / USEC_PER_MSEC);
        }
        jsonw_object_end(w);
        jsonw_object_end(w);
}

static void write_routes(struct jsonw *w, const struct config *c)
{
        jsonw_key(w, "routes");
        jsonw_array_begin(w);
        for (size_t i = 0; i < c->n_routes; i++) {
                const struct route *r = &c->routes[i];
                jsonw_object_begin(w);
                jsonw_kv_string(w, "name", r->name);
                jsonw_kv_string(w, "action", action_to_string(r->action));
                if (r->action == ACTION_SYSTEMD) {
                        jsonw_kv_string(w, "address", r->address);
                        jsonw_kv_string(w, "where", r->where == SYSTEMD_WHERE_HOST ? "host" : "container");
                        jsonw_kv_string(w, "fallback", action_to_string(r->fallback));
                }
                if (r->action == ACTION_FORWARD) {
                        jsonw_kv_string(w, "address", r->address);
                        jsonw_kv_string(w, "fallback", action_to_string(r->fallback));
                        jsonw_kv_string(w, "trust", r->trust == TRUST_POD ? "pod" : "container");
                        jsonw_key(w, "collector_uid");
                        if (r->collector_uids) {
                                jsonw_array_begin(w);
                                for (size_t k = 0; k < r->n_collector_uids; k++)
                                        jsonw_uint(w, r->collector_uids[k]);
                                jsonw_array_end(w);
                        } else {
                                jsonw_string(w, r->collector_uid == COLLECTOR_UID_ANY ? "any" : "task");
                        }
                }
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
}

static void write_config(struct daemon *m, struct jsonw *w)
{
        const struct proxy_setup *s = m->setup;
        const struct config *c = s->config;
        _cleanup_free_ char *pattern = NULL;

        jsonw_key(w, "config");
        jsonw_object_begin(w);
        jsonw_kv_string(w, "source", c->source);
        jsonw_kv_string(w, "listen", c->listen_path);
        jsonw_kv_string(w, "protocol", protocol_to_string(c->protocol));
        /* What "auto" (or a probe) made of it on this kernel. */
        jsonw_kv_string(w, "mode", intake_mode_to_string(m->mode));
        jsonw_kv_string(w, "core_pattern", core_pattern_read(&pattern) >= 0 ? pattern : NULL);
        jsonw_kv_bool(w, "pattern_installed", m->keeper.installed);
        jsonw_kv_string(w, "events", event_log_path(s->events));
        jsonw_kv_uint(w, "events_dropped", event_log_dropped(s->events));
        write_store(w, s);
        write_limits(w, &c->limits);
        write_routes(w, c);
        jsonw_object_end(w);
}

static void write_in_flight(struct daemon *m, struct jsonw *w)
{
        struct inflight *l = &m->inflight;
        usec_t now = io_now();
        size_t n = 0;

        pthread_mutex_lock(&l->lock);
        jsonw_kv_uint(w, "in_flight_total", l->n);
        jsonw_key(w, "in_flight");
        jsonw_array_begin(w);
        for (struct dump *d = l->head; d && n < STATUS_IN_FLIGHT_MAX; d = d->next, n++) {
                jsonw_object_begin(w);
                jsonw_kv_string(w, "id", d->id);
                jsonw_kv_string(w, "state", dump_state_to_string(dump_get_state(d)));
                jsonw_kv_uint(w, "age_ms", (now - d->accepted_at) / USEC_PER_MSEC);
                /* A worker writes the other fields as we read: only what was set at accept. */
                jsonw_kv_int(w, "pid", d->peer_pid);
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        pthread_mutex_unlock(&l->lock);
}

/* How full the kernel socket's accept queue is: past the backlog, the kernel drops dumps. */
static void write_kernel_queue(struct daemon *m, struct jsonw *w)
{
        uint32_t pending, backlog;
        struct stat st;

        jsonw_key(w, "kernel_queue");
        if (m->listen_fd < 0 || fstat(m->listen_fd, &st) < 0 ||
            unix_diag_listener_queue(st.st_ino, &pending, &backlog) < 0) {
                jsonw_null(w);
                return;
        }
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "pending", pending);
        jsonw_kv_uint(w, "backlog", backlog);
        jsonw_object_end(w);
}

/* Where the host's network namespace is, and what works from ours. */
static void write_namespaces(struct daemon *m, struct jsonw *w)
{
        jsonw_key(w, "host_network");
        jsonw_object_begin(w);
        jsonw_kv_bool(w, "found", m->host_netns_found_by != NULL);
        jsonw_kv_string(w, "found_by", m->host_netns_found_by);
        jsonw_key(w, "daemon_in_it");
        if (m->host_netns_found_by)
                jsonw_bool(w, m->in_host_netns);
        else
                jsonw_null(w);
        jsonw_object_end(w);

        jsonw_key(w, "lost_dump_accounting");
        jsonw_object_begin(w);
        jsonw_kv_bool(w, "active", m->connector != NULL);
        jsonw_kv_string(w, "off_because", m->connector ? NULL : m->accounting_off);
        jsonw_object_end(w);
}

int status_build(void *userdata, char **ret, size_t *ret_len)
{
        struct daemon *m = userdata;
        char started[UTC_STRING_MAX];
        size_t queued = 0, running = 0;
        struct jsonw w;

        utc_format_rfc3339(m->started_wall, started);
        workers_counts(m->pool, &queued, &running);

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "version", PACKAGE_VERSION);
        /* The process to signal: the keeper when there is one (it forwards); then the daemon itself. */
        jsonw_kv_int(&w, "pid", m->keeper.fd >= 0 ? m->keeper.pid : getpid());
        jsonw_kv_int(&w, "daemon_pid", getpid());
        jsonw_kv_string(&w, "started", started);
        write_config(m, &w);
        write_namespaces(m, &w);
        stats_write_json(m->env.stats, &w);
        jsonw_kv_uint(&w, "queued", queued);
        jsonw_kv_uint(&w, "running", running);
        write_kernel_queue(m, &w);
        write_in_flight(m, &w);
        if (m->env.names) {
                /* The list says what is known now: containers that are gone leave it first. */
                names_sweep(m->env.names);
                names_write_status(m->env.names, &w);
        }
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/*
 * The metrics socket's answer (<listen.path>.metrics, any local user, for
 * `coredump-proxy metrics`): counters and gauges, nothing that names a task
 * or a container, and no request but this one.
 */
int status_metrics_handle(void *userdata, const struct control_request *q, int pidfd, char **ret,
                          size_t *ret_len)
{
        struct daemon *m = userdata;
        struct jsonw w;
        size_t in_flight;

        (void) pidfd;
        if (q->verb != CONTROL_STATUS) {
                struct control_reply rep = { .error = (char *) "this socket answers status requests only" };
                return control_reply_format(&rep, ret, ret_len);
        }
        pthread_mutex_lock(&m->inflight.lock);
        in_flight = m->inflight.n;
        pthread_mutex_unlock(&m->inflight.lock);

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "version", PACKAGE_VERSION);
        jsonw_kv_string(&w, "mode", intake_mode_to_string(m->mode));
        /* Ready: the kernel sends its dumps here (not yet, or no longer after a takeover: not ready). */
        jsonw_kv_bool(&w, "pattern_ours", pattern_points_at(m->setup->config->listen_path, NULL));
        stats_write_metrics_json(m->env.stats, &w);
        jsonw_kv_uint(&w, "in_flight", in_flight);
        write_kernel_queue(m, &w);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}
