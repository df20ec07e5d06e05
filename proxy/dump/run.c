/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "proxy/act/forward.h"
#include "proxy/act/reject.h"
#include "proxy/act/store.h"
#include "proxy/act/systemd.h"
#include "proxy/base/log.h"
#include "proxy/dump/finish.h"
#include "proxy/dump/resolve.h"
#include "proxy/dump/route.h"
#include "proxy/dump/run.h"
#include "proxy/intake/pipe.h"
#include "proxy/intake/socket.h"
#include "proxy/names/names.h"

/* The kernel socket: the peer's pidfd says who crashed, and whether it is a crash at all. */
static struct act_result identify_socket(struct dump *d)
{
        int r;

        r = identify_from_pidfd(d->pidfd, &d->task);
        if (r < 0) {
                log_warning("%s: PIDFD_GET_INFO failed: %s", d->id, strerror(-r));
                return act_done(OUTCOME_FAILED, REASON_IDENTIFY_ERROR);
        }
        if (!d->task.coredumped)
                /* Anyone who can reach the socket can connect; only the kernel's connections are dumps. */
                return act_done(OUTCOME_REJECTED, REASON_NOT_A_COREDUMP);

        r = intake_handshake(d);
        if (r < 0) {
                log_warning("%s: no valid request or core from the kernel: %s", d->id, strerror(-r));
                return act_done(OUTCOME_FAILED, REASON_PROTOCOL_ERROR);
        }
        return act_continue();
}

/*
 * The pipe intake: first settle with the helper who reads the pipe (a
 * helper that gave up keeps the dump: no outcome here), then the pidfd it
 * passed, with the kernel's own facts where the pidfd cannot tell.
 */
static struct act_result identify_pipe(struct dump *d)
{
        int r;

        if (intake_pipe_claim(d) < 0) {
                log_info("%s: pid %d: the pipe helper gave up waiting and keeps the dump itself", d->id,
                         (int) d->peer_pid);
                return act_done(OUTCOME_NONE, REASON_NONE);
        }
        if (d->pidfd >= 0) {
                r = identify_from_pidfd(d->pidfd, &d->task);
                if (r < 0) {
                        log_warning("%s: the task's pidfd says nothing: %s", d->id, strerror(-r));
                        return act_done(OUTCOME_FAILED, REASON_IDENTIFY_ERROR);
                }
        }
        r = intake_pipe_identify(d);
        if (r < 0 || !d->task.coredumped) {
                log_warning("%s: the pipe helper's pidfd is not a dumping task %d", d->id,
                            (int) d->peer_pid);
                return act_done(OUTCOME_REJECTED, REASON_NOT_A_COREDUMP);
        }
        return act_continue();
}

/* Who crashed, and is it a crash at all. */
static struct act_result identify(struct dump *d, const struct dump_env *env)
{
        struct act_result res;
        int r;

        res = d->mode == DUMP_MODE_PIPE ? identify_pipe(d) : identify_socket(d);
        if (res.status != ACT_CONTINUE)
                return res;

        (void) identify_from_proc(d->pidfd, &env->identify, &d->task);
        /* Containers by cgroup ancestry and ownership, never by names alone (proxy/dump/resolve.c). */
        const char *why = NULL;
        r = resolve_task(&env->identify, d->pidfd, &d->task, &d->container, &why);
        d->in_container = r > 0;
        if (why)
                log_info("%s: cgroup %s not verified (%s): a host task", d->id, d->task.cgroup_path, why);
        dump_set_state(d, DUMP_IDENTIFIED);
        return act_continue();
}

/* The container's key in the limits: its cgroup (or a rootless owner), never its name. */
static int limit_key(struct dump *d)
{
        if (!d->in_container)
                return 0;
        return resolve_limit_key(&d->container, &d->limit_key);
}

/* A crash storm or loop in one container must not flood its collector, the host store or the workers. */
static struct act_result within_limits(struct dump *d, const struct dump_env *env)
{
        const struct limits *l = &d->setup->config->limits;

        if (!d->in_container)
                return act_continue();
        if (limit_key(d) < 0)
                return act_done(OUTCOME_FAILED, REASON_OVERLOAD);
        if (env->concurrency &&
            !concurrency_enter(env->concurrency, d->limit_key, l->per_container_concurrent)) {
                log_warning("%s: container %s already has %u dumps in flight, rejected", d->id,
                            d->container.id, l->per_container_concurrent);
                return act_fallback(REASON_CONTAINER_BUSY);
        }
        d->holds_slot = env->concurrency != NULL;
        if (l->per_container_dumps > 0 && env->limiter &&
            !ratelimit_allow(env->limiter, d->limit_key, l->per_container_dumps, l->per_container_interval,
                             io_now())) {
                log_warning("%s: container %s exceeds %u dumps per %llu s, rejected", d->id, d->container.id,
                            l->per_container_dumps,
                            (unsigned long long) (l->per_container_interval / USEC_PER_SEC));
                return act_fallback(REASON_RATE_LIMIT);
        }
        return act_continue();
}

static void set_action(struct dump *d, enum route_action action, bool fallback)
{
        d->have_action = true;
        d->action = action;
        d->fallback = fallback;
}

/* The route's action, and its fallback when a forward cannot happen. */
static struct act_result act(struct dump *d, const struct dump_env *env)
{
        enum route_action action = d->route ? d->route->action : ACTION_STORE;
        enum dump_reason reason = d->route ? REASON_ROUTE : REASON_DEFAULT;
        struct act_result res;

        if (action == ACTION_FORWARD) {
                set_action(d, ACTION_FORWARD, false);
                if (d->task.coredump_mask & PIDFD_COREDUMP_ROOT)
                        /* setuid-style dumps are privileged: never handed to a container. */
                        res = act_fallback(REASON_SENSITIVE);
                else
                        res = act_forward(d, env);
                if (res.status != ACT_FALLBACK)
                        return res;
                /* Not forwarded: why becomes the reason of the fallback's outcome. */
                reason = res.reason;
                action = d->route->fallback;
                set_action(d, action, true);
        } else if (action == ACTION_SYSTEMD) {
                set_action(d, ACTION_SYSTEMD, false);
                res = act_systemd(d, env);
                if (res.status != ACT_FALLBACK)
                        return res;
                reason = res.reason;
                action = d->route->fallback;
                set_action(d, action, true);
        } else {
                set_action(d, action, false);
        }
        return action == ACTION_REJECT ? act_reject(d, reason) : act_store(d, reason);
}

/*
 * What people call the container, for routes and documents: on this worker,
 * bounded and cached (proxy/names/). Keyed by the identity the cgroup gave;
 * nothing found, or a state file that could not be read, is no error.
 */
static void look_up_names(struct dump *d, const struct dump_env *env)
{
        const struct names_query q = {
                .runtime = d->container.runtime,
                .id = d->container.id,
                /* The container's own cgroup, as its hook registered it (0 on cgroup v1). */
                .cgroup_id = d->container.cgroup_id,
        };
        int r;

        /*
         * A rootless container's runtime and id are names its owner chose: looking
         * them up in the system runtimes' state would lend it another container's
         * names (and labels that select routes).
         */
        if (!d->in_container || d->container.rootless || !env->names)
                return;
        r = names_lookup(env->names, d->setup->config, &q, &d->names);
        if (r < 0)
                log_warning("%s: looking up the names of container %s failed: %s", d->id, d->container.id,
                            strerror(-r));
        d->have_names = r > 0;
}

/* Identify, route, limits: once per dump, however often it is parked. */
static struct act_result prepare(struct dump *d, const struct dump_env *env)
{
        struct act_result res;

        res = identify(d, env);
        if (res.status != ACT_CONTINUE)
                return res;
        look_up_names(d, env);
        d->route = route_select(d->setup->config, &d->task, d->in_container ? &d->container : NULL,
                                d->have_names ? &d->names : NULL);
        dump_describe(d);
        dump_set_state(d, DUMP_ROUTED);
        res = within_limits(d, env);
        if (res.status == ACT_FALLBACK) {
                /* Over a limit: refused before any byte, whatever the route says. */
                set_action(d, ACTION_REJECT, false);
                return act_reject(d, res.reason);
        }
        return res;
}

static void conclude(struct dump *d, const struct dump_env *env, struct act_result res)
{
        dump_conclude(d, res.outcome, res.reason);
        dump_finish(d, env);
}

/* Some workers always stay for host dumps: a container's dump waits for a slot of its own, on no thread. */
static bool may_run(struct dump *d, const struct dump_env *env)
{
        return !d->in_container || !env->claim_worker || env->claim_worker(env->userdata);
}

enum dump_progress dump_run(struct dump *d, const struct dump_env *env)
{
        struct act_result res;

        /* It waited past its deadline (queued or parked): the kernel is told no, before any byte. */
        if (io_now() >= d->deadline) {
                dump_run_refused(d, env, REASON_TIMEOUT);
                return DUMP_FINISHED;
        }
        if (dump_get_state(d) < DUMP_ROUTED) {
                res = prepare(d, env);
                if (d->withdrawn)
                        return DUMP_FINISHED; /* its helper keeps it, and tells */
                if (res.status != ACT_CONTINUE) {
                        conclude(d, env, res);
                        return DUMP_FINISHED;
                }
        }
        if (!may_run(d, env))
                return DUMP_PARKED;
        res = act(d, env);
        if (res.status == ACT_WATCH)
                return DUMP_WATCHED; /* the collector has it; this worker is free for the next dump */
        conclude(d, env, res);
        return DUMP_FINISHED;
}

bool dump_run_forwarded(struct dump *d, const struct dump_env *env, struct act_result res)
{
        if (res.status == ACT_FALLBACK) {
                /* Given back unread: the route's fallback keeps it, on a worker. */
                d->fallback_reason = res.reason;
                return false;
        }
        conclude(d, env, res);
        return true;
}

enum dump_progress dump_run_fallback(struct dump *d, const struct dump_env *env)
{
        enum route_action action = d->route->fallback;

        if (!may_run(d, env))
                return DUMP_PARKED;
        set_action(d, action, true);
        conclude(d, env,
                 action == ACTION_REJECT ? act_reject(d, d->fallback_reason)
                                         : act_store(d, d->fallback_reason));
        return DUMP_FINISHED;
}

void dump_run_refused(struct dump *d, const struct dump_env *env, enum dump_reason reason)
{
        struct act_result res;

        /* A pipe not yet claimed: its helper, still waiting, keeps the dump itself. Not lost. */
        if (d->mode == DUMP_MODE_PIPE && d->helper_fd >= 0) {
                log_warning("%s: pid %d: %s; left to the pipe helper", d->id, (int) d->peer_pid,
                            dump_reason_to_string(reason));
                intake_pipe_withdraw(d);
                return;
        }
        /* Only what never blocks: the pidfd and what the kernel already queued. */
        if (d->mode == DUMP_MODE_PIPE) {
                intake_pipe_close(d);
                set_action(d, ACTION_REJECT, false);
                res = act_done(OUTCOME_REJECTED, reason);
        } else if (identify_from_pidfd(d->pidfd, &d->task) >= 0 && !d->task.coredumped) {
                res = act_done(OUTCOME_REJECTED, REASON_NOT_A_COREDUMP);
        } else {
                int r = coredump_conn_is_request(d->fd, io_now());
                if (r > 0) {
                        d->mode = DUMP_MODE_REQUEST;
                        if (coredump_req_recv(d->fd, &d->req, io_now()) >= 0 &&
                            coredump_req_validate(&d->req) >= 0)
                                (void) coredump_ack_send(d->fd, &d->req, COREDUMP_REJECT);
                } else if (r == 0) {
                        d->mode = DUMP_MODE_PLAIN;
                }
                set_action(d, ACTION_REJECT, false);
                res = act_done(OUTCOME_REJECTED, reason);
        }
        dump_describe(d);
        dump_conclude(d, res.outcome, res.reason);
        dump_finish(d, env);
}
