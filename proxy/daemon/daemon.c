/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The event loop: it accepts (never blocking: everything slow runs on a
 * worker), reads signals, serves status, swaps reloaded configs in and
 * counts lost dumps. And the way out: the pattern given back, the dumps the
 * kernel already queued taken in, the ones in flight finished.
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/proc-connector.h"
#include "proxy/act/watch.h"
#include "proxy/base/fault.h"
#include "proxy/base/log.h"
#include "proxy/daemon/accounting.h"
#include "proxy/daemon/control.h"
#include "proxy/daemon/state.h"
#include "proxy/dump/run.h"
#include "proxy/intake/pipe.h"
#include "proxy/intake/socket.h"
#include "proxy/names/names.h"

/* On SIGTERM, how long dumps in flight may take before their connections are shut down. */
#define STOP_GRACE (30 * USEC_PER_SEC)
/* After the connections are shut down, every step ends at once; this is only a bound. */
#define STOP_CUT_WAIT (10 * USEC_PER_SEC)
/*
 * After the pattern is given back, connections the kernel queued before are
 * still ours: accept them for this long after the queue was last seen empty
 * (a crash that read the old pattern may still be connecting).
 */
#define STOP_DRAIN (250 * USEC_PER_MSEC)
/* How often registrations and cached names of containers whose cgroups are gone are dropped. */
#define NAMES_SWEEP_INTERVAL (30 * USEC_PER_SEC)

/* --socket: every load, reloads too, so that a reload never sees the socket "moved". */
static int override_listen(const struct daemon_options *o, struct config *c)
{
        char *copy;
        int r;

        if (!o->listen_path)
                return 0;
        r = core_pattern_validate_socket_path(o->listen_path);
        if (r < 0)
                return log_error_errno(r,
                                       "--socket %s: not a socket path the kernel takes (absolute, shorter "
                                       "than 108 bytes, no spaces, no \"..\")",
                                       o->listen_path);
        copy = strdup(o->listen_path);
        if (!copy)
                return log_oom();
        free(c->listen_path);
        c->listen_path = copy;
        return 0;
}

int daemon_load_config(const struct daemon_options *o, struct config **ret)
{
        struct config_errors errors = {};
        const char *path = o->config_path ? o->config_path : CONFIG_DEFAULT_PATH;
        int r;

        if (!o->config_explicit && access(path, F_OK) < 0 && errno == ENOENT) {
                log_info("no %s, using the embedded default configuration", path);
                r = config_load_default(ret);
                return r < 0 ? r : override_listen(o, *ret);
        }
        r = config_load_file(path, ret, &errors);
        for (size_t i = 0; i < errors.n; i++)
                log_error("%s", errors.lines[i]);
        if (r < 0 && errors.n == 0)
                log_error_errno(r, "cannot load %s", path);
        config_errors_clear(&errors);
        return r < 0 ? r : override_listen(o, *ret);
}

/* ---- accepting ----------------------------------------------------------- */

/* Every dump taken, by the loop or by a worker: counted, settled against the connector, in flight. */
static void arrived(struct daemon *m, struct dump *d)
{
        stats_accepted(m->env.stats);
        accounting_arrived(m->accounting, d->peer_pid, d->accepted_at);
        inflight_add(&m->inflight, d);
}

static void admit(struct daemon *m, struct dump *d)
{
        arrived(m, d);
        if (workers_submit(m->pool, d) >= 0)
                return;
        /* Every worker busy and the queue full: answered at once, through the same end as any dump. */
        log_warning("%s: rejected, %zu dumps in flight fill every worker and the queue", d->id,
                    inflight_count(&m->inflight));
        dump_run_refused(d, &m->env, REASON_OVERLOAD);
        inflight_remove(&m->inflight, d);
        dump_free(d);
}

/*
 * Accepting where the dump runs (workers_accept_on()): a worker woken by the
 * listener takes the connection itself and runs it, without a hand-off from
 * the loop. The loop listens only while no worker waits (loop_listen()),
 * and then answers overload at once as before.
 */
static void *accept_on_worker(int listen_fd, void *userdata)
{
        struct daemon *m = userdata;
        struct proxy_setup *setup;
        struct dump *d = NULL;
        int r;

        /* A reload swaps the setup on the loop: take a reference under its lock. */
        pthread_mutex_lock(&m->setup_lock);
        setup = setup_ref(m->setup);
        pthread_mutex_unlock(&m->setup_lock);
        r = intake_socket_accept(listen_fd, setup, &d);
        setup_unref(setup);
        if (r == -EAGAIN || r == -EINTR || r == -ECONNABORTED)
                return NULL; /* another worker took it, or the peer gave up */
        if (r < 0) {
                /*
                 * EMFILE and friends: the listener stays readable, so say so at most once a
                 * second and give the fds a moment to come back instead of spinning on it.
                 */
                static usec_t last_warning;
                usec_t now = io_now(), last = __atomic_load_n(&last_warning, __ATOMIC_RELAXED);
                if (now - last > USEC_PER_SEC &&
                    __atomic_compare_exchange_n(&last_warning, &last, now, false, __ATOMIC_RELAXED,
                                                __ATOMIC_RELAXED))
                        log_error_errno(r, "accepting a dump");
                (void) usleep(10 * 1000);
                return NULL;
        }
        arrived(m, d);
        return d;
}

static void loop_listen(void *userdata, bool on)
{
        struct daemon *m = userdata;
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = m->listen_fd };

        if (epoll_ctl(m->epoll_fd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, m->listen_fd, &ev) < 0 &&
            errno != (on ? EEXIST : ENOENT))
                log_error_errno(errno, "epoll_ctl on the listener");
}

void daemon_accept_on_workers(struct daemon *m)
{
        if (m->pool && m->listen_fd >= 0)
                workers_accept_on(m->pool, m->listen_fd, accept_on_worker, loop_listen);
}

/* Accepts what is queued; returns how many connections were taken. */
static size_t on_listen(struct daemon *m)
{
        static usec_t last_warning;
        size_t n = 0;

        for (;;) {
                struct dump *d = NULL;
                int r = intake_socket_accept(m->listen_fd, m->setup, &d);

                if (r >= 0) {
                        admit(m, d);
                        n++;
                        continue;
                }
                if (r == -EAGAIN || r == -EINTR)
                        return n;
                if (r == -ECONNABORTED)
                        continue;
                /* EMFILE and friends: say so, at most once a second, and retry on the next event. */
                if (io_now() - last_warning > USEC_PER_SEC) {
                        log_error_errno(r, "accepting a dump");
                        last_warning = io_now();
                }
                return n;
        }
}

/* The pipe helpers' hand-offs: each one datagram, taken whole; returns how many dumps were admitted. */
static size_t on_pipe(struct daemon *m)
{
        size_t n = 0;

        for (unsigned i = 0; i < 256; i++) {
                struct dump *d = NULL;
                pid_t pid = 0;
                int r = intake_pipe_receive(m->pipe_fd, m->setup, &d, &pid);

                if (r >= 0) {
                        admit(m, d);
                        n++;
                        continue;
                }
                if (r == -EAGAIN || r == -EINTR)
                        break;
                /* Its helper hears nothing back and keeps the dump itself. */
                if (r == -ESRCH) {
                        /* It arrived, just not in time: not a lost dump, the helper reports it. */
                        accounting_arrived(m->accounting, pid, io_now());
                        log_info("a pipe helper's hand-off came too late: its task is gone, the helper kept "
                                 "the dump itself");
                } else
                        log_warning_errno(r, "dropped a pipe helper's hand-off");
        }
        return n;
}

/* ---- signals ------------------------------------------------------------- */

/* Returns the signal read, 0 if none was pending. */
static int read_signal(struct daemon *m)
{
        struct signalfd_siginfo si;

        while (read(m->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (keeper_signal_counts(&m->keeper, (pid_t) si.ssi_pid))
                        return (int) si.ssi_signo;
                log_debug("%s from pid %u ignored: the keeper forwards its own",
                          strsignal((int) si.ssi_signo), si.ssi_pid);
        }
        return 0;
}

/* false once a stop was asked for. */
static bool on_signals(struct daemon *m)
{
        bool running = true;

        for (int sig; (sig = read_signal(m)) > 0;) {
                if (sig == SIGHUP) {
                        if (reload_begin(m) > 0 &&
                            epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->reload_fd,
                                      &(struct epoll_event){ .events = EPOLLIN, .data.fd = m->reload_fd }) <
                                    0)
                                log_error_errno(errno, "epoll_ctl");
                } else {
                        log_info("%s: stopping", strsignal(sig));
                        running = false;
                }
        }
        return running;
}

/* ---- stop ---------------------------------------------------------------- */

/* The dumps the kernel queued before the pattern went back: still ours to take. */
static void drain_listener(struct daemon *m)
{
        usec_t quiet_since = io_now();

        while (io_now() - quiet_since < STOP_DRAIN) {
                if (on_listen(m) > 0 || (m->pipe_fd >= 0 && on_pipe(m) > 0))
                        quiet_since = io_now();
                else if (m->pipe_fd >= 0)
                        (void) usleep(10 * 1000); /* two sockets: a short nap instead of one wait */
                else
                        (void) io_wait(m->listen_fd, POLLIN, quiet_since + STOP_DRAIN);
        }
}

/*
 * Every dump in flight finished: queued, on a worker, or waiting for its
 * collector. After the grace period (or a second SIGTERM) their connections
 * are shut down, which ends every step; false if some still did not end.
 */
static bool wait_for_dumps(struct daemon *m)
{
        usec_t grace = io_now() + STOP_GRACE, cut_at = USEC_INFINITY;

        while (inflight_count(&m->inflight) > 0) {
                (void) usleep(50 * 1000);
                int sig = m->signal_fd >= 0 ? read_signal(m) : 0;
                if (cut_at == USEC_INFINITY && (io_now() >= grace || sig == SIGTERM || sig == SIGINT)) {
                        log_warning("stopping: shutting down %zu dumps in flight",
                                    inflight_count(&m->inflight));
                        inflight_shutdown(&m->inflight);
                        cut_at = io_now();
                }
                if (cut_at != USEC_INFINITY && io_now() - cut_at > STOP_CUT_WAIT) {
                        log_error("stopping: %zu dumps did not end; exiting without them",
                                  inflight_count(&m->inflight));
                        return false;
                }
        }
        return true;
}

static void stop(struct daemon *m)
{
        /* Tests widen the window in which crashes queue up unaccepted before the pattern goes back. */
        if (fault_value("stop-delay") > 0)
                (void) usleep((useconds_t) MIN(fault_value("stop-delay"), 60000UL) * 1000);

        ready_stopping(m);
        /* From here on only the loop accepts (the drain below), and the listener can be closed. */
        if (m->pool)
                workers_accept_off(m->pool);
        /* New crashes go back to the previous handler at once. */
        keeper_restore(&m->keeper);

        if (m->activated) {
                /*
                 * The pattern stays, and the socket's backlog is the service
                 * manager's: queued crashes wait there for the next instance.
                 * Draining would chase a crash storm that never goes quiet.
                 */
                m->listen_fd = safe_close(m->listen_fd);
        } else if (m->listen_fd >= 0) {
                if (m->pool)
                        drain_listener(m);
                m->listen_fd = safe_close(m->listen_fd);
                if (m->socket_path)
                        (void) unlink(m->socket_path);
        }
        if (m->pipe_fd >= 0) {
                /* Hand-offs still queued go back to their helpers: they store the dumps themselves. */
                m->pipe_fd = safe_close(m->pipe_fd);
                (void) unlink(m->pipe_path);
        }
        control_free(m->control);
        m->control = NULL;
        control_free(m->metrics);
        m->metrics = NULL;
        if (m->pool && wait_for_dumps(m)) {
                (void) workers_wait_idle(m->pool, io_now() + STOP_GRACE);
                workers_free(m->pool);
                m->pool = NULL;
                watch_free(m->env.watch);
                m->env.watch = NULL;
        }
        /* Otherwise threads still hold dumps: exit() ends them, and frees what they hold. */
}

static void free_state(struct daemon *m)
{
        safe_close(m->host_netns_fd);
        safe_close(m->epoll_fd);
        safe_close(m->signal_fd);
        safe_close(m->cgroup2_fd);
        for (size_t i = 0; i < m->n_v1_mounts; i++)
                safe_close(m->v1_mounts[i].fd);
        free(m->v1_mounts);
        cgroup1_mounts_free(m->cgroup1_mounts, m->n_v1_mounts);
        safe_close(m->lock_fd);
        safe_close(m->reload_fd);
        ready_close(m);
        /* Its runner finishes what it started (each within its time limit) and ends. */
        safe_close(m->env.upload_fd);
        safe_close(m->env.summary_fd);
        safe_close(m->keeper.fd);
        safe_close(m->keeper.broker);
        config_free(m->initial_config);
        setup_unref(m->setup);
        free(m->cgroup2_path);
        free(m->socket_path);
        free(m->pipe_path);
        proc_connector_free(m->connector);
        accounting_free(m->accounting);
        ratelimit_free(m->env.limiter);
        concurrency_free(m->env.concurrency);
        stats_free(m->env.stats);
        names_free(m->env.names);
        inflight_done(&m->inflight);
}

/* ---- the loop ------------------------------------------------------------ */

static int loop_timeout(struct daemon *m)
{
        usec_t next = accounting_next_expiry(m->accounting), now = io_now();
        int status = ready_timeout(m), t;

        next = MIN(next, control_next_deadline(m->control));
        next = MIN(next, control_next_deadline(m->metrics));
        next = MIN(next, m->next_sweep);
        next = MIN(next, m->connector_due);
        if (next == USEC_INFINITY)
                return status;
        t = next <= now ? 0 : (int) ((next - now) / USEC_PER_MSEC + 1);
        return status >= 0 ? MIN(t, status) : t;
}

/* Containers gone without a poststop: their registrations and cached names go too. */
static void sweep_names(struct daemon *m)
{
        if (!m->env.names || io_now() < m->next_sweep)
                return;
        names_sweep(m->env.names);
        m->next_sweep = io_now() + NAMES_SWEEP_INTERVAL;
}

static int run(struct daemon *m)
{
        for (bool running = true; running;) {
                struct epoll_event events[8];
                int n = epoll_wait(m->epoll_fd, events, ARRAY_SIZE(events), loop_timeout(m));

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "epoll_wait");
                }
                for (int i = 0; i < n; i++) {
                        int fd = events[i].data.fd;

                        if (fd == m->listen_fd)
                                (void) on_listen(m);
                        else if (fd == m->pipe_fd)
                                (void) on_pipe(m);
                        else if (m->connector && fd == proc_connector_fd(m->connector))
                                lost_on_wake(m);
                        else if (m->control && fd == control_listen_fd(m->control))
                                control_on_listen(m->control);
                        else if (m->metrics && fd == control_listen_fd(m->metrics))
                                control_on_listen(m->metrics);
                        else if (fd == m->reload_fd)
                                reload_finish(m);
                        else if (fd == m->signal_fd)
                                running = on_signals(m) && running;
                        else if (!(m->control && control_on_client(m->control, fd)) && m->metrics)
                                (void) control_on_client(m->metrics, fd);
                }
                lost_read_due(m);
                lost_expire(m);
                control_expire(m->control, io_now());
                control_expire(m->metrics, io_now());
                sweep_names(m);
                ready_status(m);
        }
        return 0;
}

struct serve_args {
        const struct daemon_options *options;
        struct config *config;
        int listen_fd; /* passed by the service manager; -EBADF: we bind our own */
};

static int serve(struct keeper_link *keeper, void *userdata)
{
        struct serve_args *a = userdata;
        struct daemon m = {
                .options = a->options,
                .initial_config = a->config,
                .keeper = *keeper,
                .listen_fd = a->listen_fd,
                .activated = a->listen_fd >= 0,
                .notify_fd = -EBADF,
                .lock_fd = -EBADF,
                .epoll_fd = -EBADF,
                .signal_fd = -EBADF,
                .cgroup2_fd = -EBADF,
                .reload_fd = -EBADF,
                .pipe_fd = -EBADF,
                .host_netns_fd = -EBADF,
                .connector_due = USEC_INFINITY,
                .env.upload_fd = -EBADF,
                .env.summary_fd = -EBADF,
        };
        int r;

        inflight_init(&m.inflight);
        pthread_mutex_init(&m.setup_lock, NULL);
        r = daemon_start(&m);
        if (r >= 0)
                r = run(&m);
        stop(&m);
        free_state(&m);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int daemon_main(const struct daemon_options *o)
{
        struct daemon_options effective = *o;
        struct serve_args a = { .options = &effective, .listen_fd = -EBADF };
        int r;

        /* Loaded once, here: the keeper needs the socket's path, the daemon (a copy by fork) the rest. */
        r = daemon_load_config(o, &a.config);
        if (r < 0)
                return EXIT_FAILURE;
        /* Here, in the process the service manager started: LISTEN_PID names it, not the daemon. */
        r = listener_take_activated(a.config->listen_path, &a.listen_fd);
        if (r < 0) {
                config_free(a.config);
                return EXIT_FAILURE;
        }
        /*
         * The pattern belongs with the socket that outlives us (the units'
         * coredump-proxy-pattern.service): given back whenever one daemon
         * stops, it would send the crashes of a restart elsewhere.
         */
        if (r > 0 && effective.install_pattern) {
                log_warning(
                        "socket-activated: --install-pattern ignored, core_pattern is installed with the "
                        "socket (coredump-proxy install-pattern) and outlives each daemon");
                effective.install_pattern = false;
        }
        struct keeper_params kp = {
                .listen_path = a.config->listen_path,
                .install = effective.install_pattern,
                .protocol = a.config->protocol,
                .pipe_helper = a.config->pipe_helper,
                .pipe_limit = daemon_capacity(&a.config->limits),
                .wait_after_takeover = o->wait_after_takeover,
        };
        r = keeper_run(&kp, serve, &a);
        config_free(a.config);
        safe_close(a.listen_fd);
        return r;
}
