/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Start-up, in the order that keeps the machine safe: everything opened
 * and the pattern installed while we still may, then capabilities dropped
 * and the seccomp filter loaded before the first dump is accepted.
 */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/netns.h"
#include "kernel/proc-connector.h"
#include "proxy/act/watch.h"
#include "proxy/base/log.h"
#include "proxy/base/utc.h"
#include "proxy/daemon/accounting.h"
#include "proxy/base/caps.h"
#include "proxy/daemon/control.h"
#include "proxy/base/sandbox.h"
#include "proxy/daemon/state.h"
#include "proxy/dump/run.h"

/* Accepted dumps waiting for a worker, beyond max_concurrent running ones. */
#define QUEUE_PER_WORKER 16
/*
 * Workers beyond max_concurrent that only host dumps may use (container
 * dumps hold at most max_concurrent): an eighth more, two at the least.
 */
#define HOST_WORKERS_DIVISOR 8
#define HOST_WORKERS_MIN     2
/* Containers tracked by limits.per_container at once; idle ones are forgotten first. */
#define RATELIMIT_CONTAINERS 4096

static void release(struct daemon *m, struct dump *d)
{
        inflight_remove(&m->inflight, d);
        dump_free(d);
}

static enum worker_result worker(void *item, void *userdata)
{
        struct daemon *m = userdata;
        struct dump *d = item;
        enum dump_progress p;

        p = d->fallback_reason != REASON_NONE ? dump_run_fallback(d, &m->env) : dump_run(d, &m->env);
        switch (p) {
        case DUMP_PARKED:
                return WORKER_PARKED;
        case DUMP_WATCHED:
                return WORKER_TAKEN;
        case DUMP_FINISHED:
                break;
        }
        release(m, d);
        return WORKER_DONE;
}

static bool claim_worker(void *userdata)
{
        struct daemon *m = userdata;

        return workers_claim_container(m->pool);
}

/* A forwarded dump's end, on the watch's thread: anything slow (a fallback's store) goes to a worker. */
static void forwarded(void *userdata, struct dump *d, struct act_result res)
{
        struct daemon *m = userdata;

        if (dump_run_forwarded(d, &m->env, res)) {
                release(m, d);
                return;
        }
        if (workers_submit(m->pool, d) < 0) {
                (void) dump_run_forwarded(d, &m->env, act_done(OUTCOME_FAILED, REASON_OVERLOAD));
                release(m, d);
        }
}

static int open_setup(struct daemon *m)
{
        struct config *c = NULL;
        int r;

        r = daemon_load_config(m->options, &c);
        if (r < 0)
                return r;
        r = setup_new(c, NULL, &m->setup);
        if (r < 0) {
                log_error_errno(r, "cannot open the event log %s", c->events);
                config_free(c);
                return r;
        }
        if (!m->setup->store)
                log_error_errno(m->setup->store_error,
                                "host store %s unavailable; dumps routed there will fail",
                                m->setup->config->store_directory);
        return 0;
}

static int open_signals(struct daemon *m)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "sigprocmask");
        (void) signal(SIGPIPE, SIG_IGN);
        m->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->signal_fd < 0)
                return log_error_errno(errno, "signalfd");
        return 0;
}

/* Where cgroup ids become paths, and which user namespace is ours. */
static void open_identify(struct daemon *m)
{
        struct stat user_ns;

        if (cgroup2_find_mount(&m->cgroup2_path) >= 0) {
                m->cgroup2_fd = open(m->cgroup2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (m->cgroup2_fd < 0)
                        m->cgroup2_fd = -EBADF;
        }
        if (m->cgroup2_fd < 0)
                log_warning("no cgroup2 mount: containers are recognised from cgroup v1 paths only");
        m->env.identify.cgroup2_fd = m->cgroup2_fd;
        m->env.identify.cgroup2_path = m->cgroup2_path;
        if (stat("/proc/self/ns/user", &user_ns) >= 0)
                m->env.identify.user_ns_ino = user_ns.st_ino;
}

unsigned host_workers(const struct limits *l)
{
        return MAX(HOST_WORKERS_MIN, l->max_concurrent / HOST_WORKERS_DIVISOR);
}

unsigned daemon_capacity(const struct limits *l)
{
        return l->max_concurrent + host_workers(l) + l->max_concurrent * QUEUE_PER_WORKER;
}

static int open_limits(struct daemon *m)
{
        const struct limits *l = &m->setup->config->limits;
        int r;

        r = stats_new(&m->env.stats);
        if (r >= 0)
                r = ratelimit_new(RATELIMIT_CONTAINERS, &m->env.limiter);
        if (r >= 0)
                r = concurrency_new(&m->env.concurrency);
        if (r >= 0)
                r = watch_new(&m->env, forwarded, m, &m->env.watch);
        if (r < 0)
                return log_oom();
        m->env.claim_worker = claim_worker;
        m->env.userdata = m;
        r = workers_new(l->max_concurrent + host_workers(l), l->max_concurrent,
                        (size_t) l->max_concurrent * QUEUE_PER_WORKER, worker, m, &m->pool);
        if (r < 0)
                return log_error_errno(r, "cannot create the worker pool");
        return 0;
}

static int watch(struct daemon *m, int fd)
{
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");
        return 0;
}

static int open_loop(struct daemon *m)
{
        int r;

        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return log_error_errno(errno, "epoll_create1");
        r = watch(m, m->listen_fd);
        if (r >= 0)
                r = watch(m, m->signal_fd);
        if (r >= 0 && m->control_fd >= 0)
                r = watch(m, m->control_fd);
        if (r >= 0 && m->connector)
                r = watch(m, proc_connector_fd(m->connector));
        if (r >= 0 && m->pipe_fd >= 0)
                r = watch(m, m->pipe_fd);
        return r;
}

/* Accounting and status are conveniences: the daemon serves dumps without them. */
static int open_extras(struct daemon *m)
{
        const char *listen = m->setup->config->listen_path;
        int r;

        r = accounting_new(&m->accounting);
        if (r < 0)
                return log_oom();
        r = proc_connector_open(&m->connector);
        if (r < 0)
                log_warning_errno(r,
                                  "no proc connector: dumps that never reach the socket cannot be counted");

        r = control_path(listen, &m->control_path);
        if (r >= 0)
                r = control_listen(m->control_path);
        if (r < 0)
                log_warning("no control socket (%s): `coredump-proxy status` will not work", strerror(-r));
        else
                m->control_fd = r;
        return 0;
}

int daemon_start(struct daemon *m)
{
        const struct config *c;
        int r;

        r = open_setup(m);
        if (r < 0)
                return r;
        c = m->setup->config;
        r = open_signals(m);
        if (r < 0)
                return r;
        open_identify(m);

        _cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (netns < 0 || netns_inode(netns, &m->env.host_netns) < 0)
                return log_error_errno(errno, "cannot identify our network namespace");

        r = open_limits(m);
        if (r < 0)
                return r;
        r = listener_open(m, c->listen_path);
        if (r < 0)
                return r;
        r = mode_start(m);
        if (r < 0)
                return r;
        r = open_extras(m);
        if (r >= 0)
                r = open_loop(m);
        if (r < 0)
                return r;
        m->started_wall = io_now_realtime();

        /* Everything is open: from here on the daemon needs only what serving dumps takes. */
        r = caps_reduce_proxy();
        if (r < 0)
                return log_error_errno(r, "cannot drop capabilities");
        r = sandbox_apply_proxy();
        if (r < 0)
                return log_error_errno(r, "cannot install the seccomp filter");

        mode_report_unseen(m);
        log_info("listening on %s (%s); events to %s; host store %s; config %s",
                 m->mode == INTAKE_PIPE ? m->pipe_path : c->listen_path, intake_mode_to_string(m->mode),
                 event_log_path(m->setup->events), c->store_directory, c->source);
        return 0;
}
