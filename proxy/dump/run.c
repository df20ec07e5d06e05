/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/pidfd.h"
#include "proxy/dump/run.h"
#include "proxy/dump/event.h"
#include "proxy/act/forward.h"
#include "proxy/base/log.h"
#include "proxy/dump/route.h"

/* The kernel sends its request (or the first ELF bytes) right after connecting. */
#define PROTOCOL_TIMEOUT (5 * USEC_PER_SEC)

static usec_t protocol_deadline(const struct dump *d)
{
        return MIN(d->deadline, io_now() + PROTOCOL_TIMEOUT);
}

int dump_ack(struct dump *d, uint64_t mask)
{
        uint32_t mark;
        int r;

        if (!d->request || dump_get_state(d) >= DUMP_ACKED)
                return 0;
        r = coredump_ack_send(d->fd, &d->req, mask);
        if (r < 0)
                return pidfd_has_exited(d->pidfd) > 0 ? -ESRCH : r;
        r = coredump_mark_recv(d->fd, &mark, protocol_deadline(d));
        if (r < 0 && mark != COREDUMP_MARK_REQACK)
                log_warning("%s: kernel answered the ack with mark %u (%s)", d->id, mark,
                            coredump_mark_to_string(mark));
        if (r < 0)
                return r;
        dump_set_state(d, DUMP_ACKED);
        return 0;
}

const char *dump_ack_failure_reason(int error)
{
        /* A task killed (SIGKILL) while held ends the kernel's side of the handshake. */
        return error == -ESRCH ? "task-gone" : "protocol-error";
}

static void do_reject(struct dump *d, const char *reason)
{
        int r;

        /* Request mode: no byte is written and the task gets no core. Plain mode: closing does it. */
        r = dump_ack(d, COREDUMP_REJECT);
        if (r < 0) {
                dump_set_outcome(d, OUTCOME_FAILED, dump_ack_failure_reason(r));
                return;
        }
        dump_set_outcome(d, OUTCOME_REJECTED, reason);
}

struct metadata_ctx {
        struct dump *dump;
        const char *reason;
};

static int store_metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        struct metadata_ctx *m = userdata;
        struct dump *d = m->dump;

        d->have_bytes = true;
        d->bytes = res->bytes;
        d->cut = res->cut == STORE_COMPLETE ? NULL : store_cut_to_string(res->cut);
        dump_set_outcome(d, OUTCOME_STORED, m->reason);
        return event_format_metadata(d, ret, ret_len);
}

static void do_store(struct dump *d, const char *reason)
{
        struct proxy_setup *s = d->setup;
        struct store_result res = {};
        struct metadata_ctx m = { .dump = d, .reason = reason };
        int r;

        if (!s->store) {
                log_error("%s: host store %s unavailable: %s", d->id, s->config->store_directory,
                          strerror(-s->store_error));
                (void) dump_ack(d, COREDUMP_REJECT);
                dump_set_outcome(d, OUTCOME_FAILED, "store-unavailable");
                return;
        }
        r = store_check_room(s->store);
        if (r < 0) {
                /* In request mode the kernel writes nothing: better than a dump cut to zero. */
                log_error("%s: host store %s is full: %s", d->id, s->config->store_directory, strerror(-r));
                (void) dump_ack(d, COREDUMP_REJECT);
                dump_set_outcome(d, OUTCOME_FAILED, "store-full");
                return;
        }

        /* WAIT keeps the task, and so /proc/<pid>, until we shut the connection down. */
        r = dump_ack(d, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0) {
                dump_set_outcome(d, OUTCOME_FAILED, dump_ack_failure_reason(r));
                return;
        }
        dump_set_state(d, DUMP_STREAMING);
        r = store_write(s->store, d->id, d->fd, 0, d->deadline, store_metadata, &m, &res);
        if (r < 0) {
                log_error("%s: storing the dump failed: %s", d->id, strerror(-r));
                dump_set_outcome(d, OUTCOME_FAILED, "store-error");
                store_result_done(&res);
                return;
        }
        dump_set_outcome(d, OUTCOME_STORED, reason);
        d->core_path = TAKE_PTR(res.core_path);
        store_result_done(&res);
}

static void finish(struct dump *d, const struct dump_env *env)
{
        int r;

        dump_set_state(d, DUMP_DONE);
        /*
         * shutdown, not only close: a collector may still hold a copy of the
         * connection, and only a shutdown releases a task in COREDUMP_WAIT.
         */
        if (d->fd >= 0)
                (void) shutdown(d->fd, SHUT_RDWR);
        d->fd = safe_close(d->fd);
        if (d->collector_fd >= 0)
                (void) shutdown(d->collector_fd, SHUT_RDWR);

        if (env->stats)
                stats_count(env->stats, d->outcome, d->reason);
        r = event_log_write(d->setup->events, d);
        if (r < 0)
                log_error("%s: writing the event to %s failed: %s", d->id, event_log_path(d->setup->events),
                          strerror(-r));
        log_message(d->outcome == OUTCOME_FAILED ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
                    "%s: pid %u (%s) %s: %s, reason %s", d->id, d->task.pid,
                    d->task.comm[0] ? d->task.comm : "?",
                    d->in_container ? runtime_to_string(d->container.runtime) : "host",
                    dump_outcome_to_string(d->outcome), d->reason);
}

static bool within_rate_limit(struct dump *d, const struct dump_env *env)
{
        const struct limits *l = &d->setup->config->limits;
        char key[160];

        if (l->per_container_dumps == 0 || !env->limiter)
                return true;
        (void) snprintf(key, sizeof(key), "%s/%s", runtime_to_string(d->container.runtime), d->container.id);
        return ratelimit_allow(env->limiter, key, l->per_container_dumps, l->per_container_interval,
                               io_now());
}

void dump_run(struct dump *d, const struct dump_env *env)
{
        const struct config *c = d->setup->config;
        enum route_action action;
        const char *reason;
        int r;

        r = identify_from_pidfd(d->pidfd, &d->task);
        if (r < 0) {
                log_warning("%s: PIDFD_GET_INFO failed: %s", d->id, strerror(-r));
                dump_set_outcome(d, OUTCOME_FAILED, "identify-error");
                goto done;
        }
        if (!d->task.coredumped) {
                /* Anyone who can reach the socket can connect; only the kernel's connections are dumps. */
                dump_set_outcome(d, OUTCOME_REJECTED, "not-a-coredump");
                goto done;
        }

        /* Per connection, not from the installed pattern, which an administrator may change under us. */
        r = coredump_conn_is_request(d->fd, protocol_deadline(d));
        if (r < 0) {
                log_warning("%s: no request and no core from the kernel: %s", d->id, strerror(-r));
                dump_set_outcome(d, OUTCOME_FAILED, "protocol-error");
                goto done;
        }
        d->request = r > 0;
        if (d->request) {
                r = coredump_req_recv(d->fd, &d->req, protocol_deadline(d));
                if (r >= 0)
                        r = coredump_req_validate(&d->req);
                if (r < 0) {
                        log_warning("%s: bad coredump request: %s", d->id, strerror(-r));
                        dump_set_outcome(d, OUTCOME_FAILED, "protocol-error");
                        goto done;
                }
        }

        (void) identify_from_proc(d->pidfd, &env->identify, &d->task);
        dump_set_state(d, DUMP_IDENTIFIED);

        if (d->task.cgroup_path) {
                r = container_resolve(d->task.cgroup_path, &d->container);
                d->in_container = r > 0;
        }

        d->route = route_select(c, &d->task, d->in_container ? &d->container : NULL);
        action = d->route ? d->route->action : ACTION_STORE;
        reason = d->route ? "route" : "default";
        dump_set_state(d, DUMP_ROUTED);

        /* A crash loop in one container must not flood its collector or the host store. */
        if (d->in_container && action != ACTION_REJECT && !within_rate_limit(d, env)) {
                log_warning("%s: container %s exceeds %u dumps per %llu s, rejected", d->id, d->container.id,
                            c->limits.per_container_dumps,
                            (unsigned long long) (c->limits.per_container_interval / USEC_PER_SEC));
                d->have_action = true;
                d->action = ACTION_REJECT;
                do_reject(d, "rate-limit");
                goto done;
        }

        if (action == ACTION_FORWARD) {
                if (d->task.coredump_mask & PIDFD_COREDUMP_ROOT) {
                        /* setuid-style dumps are privileged: never handed to a container. */
                        reason = "sensitive";
                } else {
                        d->have_action = true;
                        d->action = ACTION_FORWARD;
                        r = forward_dump(d, env);
                        if (r > 0)
                                goto done;
                        /* Not forwarded: why becomes the reason of the fallback's outcome. */
                        reason = d->reason;
                        d->reason = NULL;
                }
                action = d->route->fallback;
                d->fallback = true;
        }

        d->have_action = true;
        d->action = action;
        if (action == ACTION_REJECT)
                do_reject(d, reason);
        else
                do_store(d, reason);

done:
        finish(d, env);
}
