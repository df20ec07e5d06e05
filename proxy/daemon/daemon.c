/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "kernel/pidfd.h"
#include "proxy/base/jsonw.h"
#include "kernel/coredump-proto.h"
#include "kernel/proc-connector.h"
#include "kernel/unix-diag.h"
#include "proxy/daemon/accounting.h"
#include "proxy/daemon/caps.h"
#include "proxy/daemon/control.h"
#include "proxy/daemon/daemon.h"
#include "proxy/dump/run.h"
#include "proxy/dump/dump.h"
#include "proxy/base/log.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/sandbox.h"
#include "proxy/daemon/setup.h"
#include "proxy/daemon/stats.h"
#include "proxy/daemon/workers.h"

/*
 * The kernel connects with O_NONBLOCK and drops the dump when the accept
 * queue is full, silently for the task: ask for a deep queue (the kernel
 * caps it at net.core.somaxconn).
 */
#define LISTEN_BACKLOG 4096
/* Accepted dumps waiting for a worker, beyond max_concurrent running ones. */
#define QUEUE_PER_WORKER 16
/* On SIGTERM, how long dumps in flight may take before their connections are shut down. */
#define STOP_GRACE (30 * USEC_PER_SEC)
/* Containers tracked by limits.per_container at once; idle ones are forgotten first. */
#define RATELIMIT_CONTAINERS 4096

struct daemon {
        const struct daemon_options *options;
        struct proxy_setup *setup;
        struct dump_env env;
        struct worker_pool *pool;

        int listen_fd;
        int lock_fd;
        int epoll_fd;
        int signal_fd;
        int cgroup2_fd;
        char *cgroup2_path;
        char *socket_path;

        struct pattern_hold pattern;

        int control_fd;
        char *control_path;
        struct proc_connector *connector; /* NULL: lost dumps are not accounted */
        struct accounting *accounting;
        struct proxy_stats *stats;
        usec_t started_wall;

        pthread_mutex_t inflight_lock;
        struct dump *inflight;
        size_t n_inflight;
};

/* ---- config -------------------------------------------------------------- */

int daemon_load_config(const struct daemon_options *o, struct config **ret)
{
        struct config_errors errors = {};
        const char *path = o->config_path ? o->config_path : CONFIG_DEFAULT_PATH;
        int r;

        if (!o->config_explicit && access(path, F_OK) < 0 && errno == ENOENT) {
                log_info("no %s, using the embedded default configuration", path);
                return config_load_default(ret);
        }
        r = config_load_file(path, ret, &errors);
        for (size_t i = 0; i < errors.n; i++)
                log_error("%s", errors.lines[i]);
        if (r < 0 && errors.n == 0)
                log_error_errno(r, "cannot load %s", path);
        config_errors_clear(&errors);
        return r;
}

/* ---- in-flight dumps ----------------------------------------------------- */

static void inflight_add(struct daemon *m, struct dump *d)
{
        pthread_mutex_lock(&m->inflight_lock);
        d->next = m->inflight;
        if (m->inflight)
                m->inflight->prev = d;
        m->inflight = d;
        m->n_inflight++;
        pthread_mutex_unlock(&m->inflight_lock);
}

static void inflight_remove(struct daemon *m, struct dump *d)
{
        pthread_mutex_lock(&m->inflight_lock);
        if (d->prev)
                d->prev->next = d->next;
        else
                m->inflight = d->next;
        if (d->next)
                d->next->prev = d->prev;
        d->prev = d->next = NULL;
        m->n_inflight--;
        pthread_mutex_unlock(&m->inflight_lock);
}

/* Ends every dump in flight: their workers see the connections fail and finish at once. */
static void inflight_shutdown(struct daemon *m)
{
        pthread_mutex_lock(&m->inflight_lock);
        for (struct dump *d = m->inflight; d; d = d->next) {
                if (d->fd >= 0)
                        (void) shutdown(d->fd, SHUT_RDWR);
                if (d->collector_fd >= 0)
                        (void) shutdown(d->collector_fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&m->inflight_lock);
}

static void worker(void *item, void *userdata)
{
        struct daemon *m = userdata;
        struct dump *d = item;

        dump_run(d, &m->env);
        inflight_remove(m, d);
        dump_free(d);
}

/* ---- accepting ----------------------------------------------------------- */

/*
 * Every worker busy and the accept queue full: answer at once, without
 * blocking the loop, and still write one event. In request mode the
 * request is already queued (the kernel sends it on connect), so the task
 * gets COREDUMP_REJECT and no byte is written; in plain mode closing is all
 * there is.
 */
static void reject_overloaded(struct daemon *m, struct dump *d)
{
        if (identify_from_pidfd(d->pidfd, &d->task) >= 0 && !d->task.coredumped) {
                dump_set_outcome(d, OUTCOME_REJECTED, "not-a-coredump");
        } else {
                if (coredump_conn_is_request(d->fd, io_now()) > 0) {
                        d->request = true;
                        if (coredump_req_recv(d->fd, &d->req, io_now()) >= 0 &&
                            coredump_req_validate(&d->req) >= 0)
                                (void) coredump_ack_send(d->fd, &d->req, COREDUMP_REJECT);
                }
                d->have_action = true;
                d->action = ACTION_REJECT;
                dump_set_outcome(d, OUTCOME_REJECTED, "overload");
        }
        dump_set_state(d, DUMP_DONE);
        (void) shutdown(d->fd, SHUT_RDWR);
        stats_count(m->stats, d->outcome, d->reason);
        (void) event_log_write(d->setup->events, d);
        log_warning("%s: rejected, %zu dumps in flight fill every worker and the queue", d->id,
                    m->n_inflight);
}

static void accept_one(struct daemon *m, int fd)
{
        struct dump *d = NULL;
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        int pidfd, r;

        /* The pidfd now, while the peer is certainly registered; everything slow runs on a worker. */
        pidfd = pidfd_from_peer(fd);
        (void) getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);

        r = dump_new(fd, pidfd < 0 ? -EBADF : pidfd, &d);
        if (r < 0) {
                safe_close(fd);
                safe_close(pidfd);
                log_error("out of memory accepting a dump");
                return;
        }
        d->peer_pid = cred.pid;
        d->accepted_at = io_now();
        d->accepted_wall = io_now_realtime();
        d->setup = setup_ref(m->setup);
        d->deadline = d->accepted_at + m->setup->config->limits.dump_timeout;
        dump_make_id(d->id, d->accepted_wall, (uint32_t) cred.pid);
        stats_accepted(m->stats);
        accounting_arrived(m->accounting, cred.pid, d->accepted_at);

        inflight_add(m, d);
        r = workers_submit(m->pool, d);
        if (r < 0) {
                reject_overloaded(m, d);
                inflight_remove(m, d);
                dump_free(d);
        }
}

static void on_listen(struct daemon *m)
{
        static usec_t last_warning;

        for (;;) {
                int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        if (errno == ECONNABORTED)
                                continue;
                        /* EMFILE and friends: say so, at most once a second, and retry on the next event. */
                        if (io_now() - last_warning > USEC_PER_SEC) {
                                log_error_errno(errno, "accept4");
                                last_warning = io_now();
                        }
                        return;
                }
                accept_one(m, fd);
        }
}

/* ---- accounting: crashes that never reach the socket -------------------- */

static void on_connector(struct daemon *m)
{
        struct proc_coredump_event events[64];
        struct proc_connector_result res;
        int r;

        r = proc_connector_read(m->connector, events, ARRAY_SIZE(events), &res);
        if (r < 0) {
                log_warning_errno(r, "reading the proc connector");
                return;
        }
        if (res.lost)
                log_warning("the kernel dropped process events: some crashes may go uncounted");
        for (size_t i = 0; i < res.n_events; i++) {
                pid_t tgid = events[i].process_tgid;
                _cleanup_free_ char *comm = NULL;
                _cleanup_close_ int pidfd = -EBADF;
                struct cdp_pidfd_info info = {};
                char path[64];

                /* The common case costs nothing more: the dump already reached us. */
                if (accounting_settle(m->accounting, tgid, io_now()))
                        continue;
                /* Crashes under another handler's pattern are not ours to count. */
                if (!pattern_points_at(m->setup->config->listen_path, NULL))
                        continue;

                /*
                 * Best effort, for the report only: the task is inside
                 * get_signal() now, but nothing holds its pid for us.
                 */
                (void) snprintf(path, sizeof(path), "/proc/%d/comm", (int) tgid);
                if (io_read_file_at(AT_FDCWD, path, 64, &comm, NULL) >= 0)
                        comm[strcspn(comm, "\n")] = 0;
                pidfd = (int) syscall(SYS_pidfd_open, tgid, 0);
                bool skip = pidfd >= 0 && pidfd_get_info(pidfd, PIDFD_INFO_COREDUMP, &info) >= 0 &&
                            (info.coredump_mask & PIDFD_COREDUMP_SKIP);
                accounting_started(m->accounting, tgid, comm, skip, io_now(), io_now_realtime());
        }
}

static void expire_lost(struct daemon *m)
{
        struct lost_crash lost[32];
        size_t n;

        while ((n = accounting_expire(m->accounting, io_now(), lost, ARRAY_SIZE(lost))) > 0)
                for (size_t i = 0; i < n; i++) {
                        log_warning("pid %d (%s) crashed but its dump never reached the socket: %s",
                                    (int) lost[i].tgid, lost[i].comm[0] ? lost[i].comm : "?",
                                    lost[i].reason);
                        stats_lost(m->stats, (uint32_t) lost[i].tgid, lost[i].comm, lost[i].reason,
                                   lost[i].wall);
                        (void) event_log_write_lost(m->setup->events, lost[i].tgid, lost[i].comm,
                                                    lost[i].reason, lost[i].wall);
                }
}

/* ---- the socket ---------------------------------------------------------- */

static int open_listener(struct daemon *m, const char *path)
{
        _cleanup_close_ int fd = -EBADF, lock = -EBADF;
        _cleanup_free_ char *lock_path = NULL;
        struct sockaddr_un sa;
        socklen_t salen;
        struct stat st;
        int r;

        r = io_mkdir_parents(path);
        if (r < 0)
                return log_error_errno(r, "cannot create the directory of %s", path);
        r = core_pattern_check_no_symlinks(path);
        if (r < 0)
                return log_error_errno(r, "%s: the kernel resolves the socket path without symlinks", path);

        /* One daemon per socket: a second one would unlink the first one's socket. */
        if (asprintf(&lock_path, "%s.lock", path) < 0)
                return log_oom();
        lock = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (lock < 0)
                return log_error_errno(errno, "cannot open %s", lock_path);
        if (flock(lock, LOCK_EX | LOCK_NB) < 0)
                return log_error_errno(errno == EWOULDBLOCK ? EBUSY : errno,
                                       "another coredump-proxy is serving %s", path);

        if (lstat(path, &st) >= 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(EEXIST, "%s exists and is not a socket; not removing it",
                                               path);
                (void) unlink(path);
        }

        r = netns_sockaddr_un(path, &sa, &salen);
        if (r < 0)
                return log_error_errno(r, "bad socket path %s", path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "socket");
        /* Root only: the kernel ignores the mode, but any other process that connects is a spoofer. */
        mode_t old = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, salen);
        umask(old);
        if (r < 0)
                return log_error_errno(errno, "cannot bind %s", path);
        if (listen(fd, LISTEN_BACKLOG) < 0)
                return log_error_errno(errno, "listen on %s", path);

        unsigned somaxconn;
        if (core_pattern_read_sysctl_uint("/proc/sys/net/core/somaxconn", &somaxconn) >= 0 &&
            somaxconn < 1024)
                log_warning("net.core.somaxconn is %u: a burst of more crashes than that loses dumps",
                            somaxconn);

        m->socket_path = strdup(path);
        if (!m->socket_path)
                return log_oom();
        m->lock_fd = TAKE_FD(lock);
        m->listen_fd = TAKE_FD(fd);
        return 0;
}

/* ---- signals and reload -------------------------------------------------- */

static void reload(struct daemon *m)
{
        struct config *c = NULL;
        struct proxy_setup *s = NULL, *old;
        int r;

        r = daemon_load_config(m->options, &c);
        if (r < 0) {
                log_error("reload failed; the previous configuration stays in force");
                return;
        }
        if (strcmp(c->listen_path, m->setup->config->listen_path) != 0 ||
            c->protocol != m->setup->config->protocol)
                log_warning("listen.path and listen.protocol take effect on restart only");
        r = setup_new(c, &s);
        if (r < 0) {
                log_error_errno(r,
                                "reload failed: cannot open the event log %s; the previous configuration "
                                "stays in force",
                                c->events);
                config_free(c);
                return;
        }
        if (!s->store)
                log_error_errno(s->store_error, "host store %s unavailable", s->config->store_directory);
        old = m->setup;
        m->setup = s;
        setup_unref(old);
        workers_set_max_threads(m->pool, s->config->limits.max_concurrent);
        log_info("configuration reloaded from %s", s->config->source);
}

static int open_signals(struct daemon *m)
{
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();
        (void) signal(SIGPIPE, SIG_IGN);
        m->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->signal_fd < 0)
                return negative_errno();
        return 0;
}

/* Returns the signal read, 0 if none was pending. */
static int read_signal(struct daemon *m)
{
        struct signalfd_siginfo si;
        ssize_t k = read(m->signal_fd, &si, sizeof(si));

        if (k != (ssize_t) sizeof(si))
                return 0;
        return (int) si.ssi_signo;
}

/* ---- status ------------------------------------------------------------- */

#define STATUS_IN_FLIGHT_MAX 256

static void status_config(struct daemon *m, struct jsonw *w)
{
        const struct proxy_setup *s = m->setup;
        const struct config *c = s->config;
        _cleanup_free_ char *pattern = NULL;

        jsonw_key(w, "config");
        jsonw_object_begin(w);
        jsonw_kv_string(w, "source", c->source);
        jsonw_kv_string(w, "listen", c->listen_path);
        jsonw_kv_string(w, "protocol", c->protocol == PROTOCOL_REQUEST ? "request" : "plain");
        jsonw_kv_string(w, "core_pattern", core_pattern_read(&pattern) >= 0 ? pattern : NULL);
        jsonw_kv_bool(w, "pattern_installed", m->pattern.installed);
        jsonw_kv_string(w, "events", event_log_path(s->events));

        jsonw_key(w, "store");
        jsonw_object_begin(w);
        jsonw_kv_string(w, "directory", c->store_directory);
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

        jsonw_key(w, "limits");
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "collector_timeout_ms", c->limits.collector_timeout / USEC_PER_MSEC);
        jsonw_kv_uint(w, "dump_timeout_ms", c->limits.dump_timeout / USEC_PER_MSEC);
        jsonw_kv_uint(w, "max_concurrent", c->limits.max_concurrent);
        jsonw_key(w, "per_container");
        if (c->limits.per_container_dumps > 0) {
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "dumps", c->limits.per_container_dumps);
                jsonw_kv_uint(w, "interval_ms", c->limits.per_container_interval / USEC_PER_MSEC);
                jsonw_object_end(w);
        } else {
                jsonw_null(w);
        }
        jsonw_object_end(w);

        jsonw_key(w, "routes");
        jsonw_array_begin(w);
        for (size_t i = 0; i < c->n_routes; i++) {
                const struct route *r = &c->routes[i];
                jsonw_object_begin(w);
                jsonw_kv_string(w, "name", r->name);
                jsonw_kv_string(w, "action", action_to_string(r->action));
                if (r->action == ACTION_FORWARD) {
                        jsonw_kv_string(w, "address", r->address);
                        jsonw_kv_string(w, "fallback", action_to_string(r->fallback));
                        jsonw_kv_string(w, "trust", r->trust == TRUST_POD ? "pod" : "container");
                }
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
}

static void status_in_flight(struct daemon *m, struct jsonw *w)
{
        usec_t now = io_now();
        size_t n = 0;

        pthread_mutex_lock(&m->inflight_lock);
        jsonw_kv_uint(w, "in_flight_total", m->n_inflight);
        jsonw_key(w, "in_flight");
        jsonw_array_begin(w);
        for (struct dump *d = m->inflight; d && n < STATUS_IN_FLIGHT_MAX; d = d->next, n++) {
                jsonw_object_begin(w);
                jsonw_kv_string(w, "id", d->id);
                jsonw_kv_string(w, "state", dump_state_to_string(dump_get_state(d)));
                jsonw_kv_uint(w, "age_ms", (now - d->accepted_at) / USEC_PER_MSEC);
                /* A worker writes the other fields as we read: only what was set at accept. */
                jsonw_kv_int(w, "pid", d->peer_pid);
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        pthread_mutex_unlock(&m->inflight_lock);
}

/* How full the kernel socket's accept queue is: past the backlog, the kernel drops dumps. */
static void status_kernel_queue(struct daemon *m, struct jsonw *w)
{
        uint32_t pending, backlog;
        struct stat st;

        jsonw_key(w, "kernel_queue");
        if (fstat(m->listen_fd, &st) < 0 || unix_diag_listener_queue(st.st_ino, &pending, &backlog) < 0) {
                jsonw_null(w);
                return;
        }
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "pending", pending);
        jsonw_kv_uint(w, "backlog", backlog);
        jsonw_object_end(w);
}

static int build_status(void *userdata, char **ret, size_t *ret_len)
{
        struct daemon *m = userdata;
        struct jsonw w;
        char started[32];
        size_t queued = 0, running = 0;

        event_format_time(m->started_wall, started);
        workers_counts(m->pool, &queued, &running);

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "version", PACKAGE_VERSION);
        jsonw_kv_int(&w, "pid", getpid());
        jsonw_kv_string(&w, "started", started);
        status_config(m, &w);
        stats_write_json(m->stats, &w);
        jsonw_kv_uint(&w, "queued", queued);
        jsonw_kv_uint(&w, "running", running);
        status_kernel_queue(m, &w);
        status_in_flight(m, &w);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* ---- start and stop ------------------------------------------------------ */

static int start(struct daemon *m)
{
        struct config *c = NULL;
        struct epoll_event ev;
        int r;

        r = daemon_load_config(m->options, &c);
        if (r < 0)
                return r;
        r = setup_new(c, &m->setup);
        if (r < 0) {
                config_free(c);
                return log_error_errno(r, "cannot open the event log %s", c->events);
        }
        if (!m->setup->store)
                log_error_errno(m->setup->store_error,
                                "host store %s unavailable; dumps routed there will fail",
                                m->setup->config->store_directory);

        r = open_signals(m);
        if (r < 0)
                return log_error_errno(r, "signalfd");

        r = cgroup2_find_mount(&m->cgroup2_path);
        if (r >= 0) {
                m->cgroup2_fd = open(m->cgroup2_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (m->cgroup2_fd < 0)
                        m->cgroup2_fd = -EBADF;
        }
        if (m->cgroup2_fd < 0)
                log_warning("no cgroup2 mount: containers are recognised from cgroup v1 paths only");
        m->env.identify.cgroup2_fd = m->cgroup2_fd;
        struct stat user_ns;
        if (stat("/proc/self/ns/user", &user_ns) >= 0)
                m->env.identify.user_ns_ino = user_ns.st_ino;
        m->env.identify.cgroup2_path = m->cgroup2_path;

        _cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (netns < 0 || netns_inode(netns, &m->env.host_netns) < 0)
                return log_error_errno(errno, "cannot identify our network namespace");

        r = stats_new(&m->stats);
        if (r < 0)
                return log_oom();
        m->env.stats = m->stats;
        r = ratelimit_new(RATELIMIT_CONTAINERS, &m->env.limiter);
        if (r < 0)
                return log_oom();

        r = workers_new(c->limits.max_concurrent, (size_t) c->limits.max_concurrent * QUEUE_PER_WORKER,
                        worker, m, &m->pool);
        if (r < 0)
                return log_error_errno(r, "cannot create the worker pool");

        r = open_listener(m, c->listen_path);
        if (r < 0)
                return r;

        if (m->options->install_pattern) {
                r = pattern_install(&m->pattern, c->listen_path, c->protocol == PROTOCOL_REQUEST);
                if (r < 0)
                        return r;
        }
        pattern_check(c->listen_path);

        r = accounting_new(&m->accounting);
        if (r < 0)
                return log_oom();
        r = proc_connector_open(&m->connector);
        if (r < 0)
                log_warning_errno(r,
                                  "no proc connector: dumps that never reach the socket cannot be counted");

        /* Status is a convenience: the daemon serves dumps without it. */
        r = control_path(c->listen_path, &m->control_path);
        if (r >= 0)
                r = control_listen(m->control_path);
        if (r < 0)
                log_warning("no control socket (%s): `coredump-proxy status` will not work", strerror(-r));
        else
                m->control_fd = r;

        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return log_error_errno(errno, "epoll_create1");
        ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = m->listen_fd };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");
        ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = m->signal_fd };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->signal_fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");
        if (m->control_fd >= 0) {
                ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = m->control_fd };
                if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->control_fd, &ev) < 0)
                        return log_error_errno(errno, "epoll_ctl");
        }
        if (m->connector) {
                ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = proc_connector_fd(m->connector) };
                if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, proc_connector_fd(m->connector), &ev) < 0)
                        return log_error_errno(errno, "epoll_ctl");
        }
        m->started_wall = io_now_realtime();

        /* Everything is open: from here on the daemon needs only what serving dumps takes. */
        r = caps_reduce_proxy();
        if (r < 0)
                return log_error_errno(r, "cannot drop capabilities");
        r = sandbox_apply_proxy();
        if (r < 0)
                return log_error_errno(r, "cannot install the seccomp filter");

        log_info("listening on %s (%s); events to %s; host store %s; config %s", c->listen_path,
                 c->protocol == PROTOCOL_REQUEST ? "request" : "plain", event_log_path(m->setup->events),
                 c->store_directory, c->source);
        return 0;
}

static void stop(struct daemon *m)
{
        /* New crashes go back to the previous handler at once. */
        pattern_restore(&m->pattern);

        if (m->listen_fd >= 0) {
                m->listen_fd = safe_close(m->listen_fd);
                if (m->socket_path)
                        (void) unlink(m->socket_path);
        }
        if (m->control_fd >= 0) {
                m->control_fd = safe_close(m->control_fd);
                (void) unlink(m->control_path);
        }

        if (m->pool) {
                usec_t grace = io_now() + STOP_GRACE;
                bool cut = false;

                while (workers_wait_idle(m->pool, io_now() + 200 * USEC_PER_MSEC) < 0) {
                        int sig = m->signal_fd >= 0 ? read_signal(m) : 0;
                        if (!cut && (io_now() >= grace || sig == SIGTERM || sig == SIGINT)) {
                                log_warning("stopping: shutting down %zu dumps in flight", m->n_inflight);
                                inflight_shutdown(m);
                                cut = true;
                        }
                }
                workers_free(m->pool);
                m->pool = NULL;
        }
}

int daemon_main(const struct daemon_options *o)
{
        struct daemon m = {
                .options = o,
                .listen_fd = -EBADF,
                .lock_fd = -EBADF,
                .epoll_fd = -EBADF,
                .signal_fd = -EBADF,
                .cgroup2_fd = -EBADF,
                .control_fd = -EBADF,
        };
        int r, status = EXIT_SUCCESS;

        pthread_mutex_init(&m.inflight_lock, NULL);

        r = start(&m);
        if (r < 0) {
                status = EXIT_FAILURE;
                goto out;
        }

        for (bool running = true; running;) {
                struct epoll_event events[8];
                usec_t next = accounting_next_expiry(m.accounting), now = io_now();
                int timeout = next == USEC_INFINITY ? -1
                              : next <= now         ? 0
                                                    : (int) ((next - now) / USEC_PER_MSEC + 1);
                int n = epoll_wait(m.epoll_fd, events, ARRAY_SIZE(events), timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(errno, "epoll_wait");
                        status = EXIT_FAILURE;
                        break;
                }
                for (int i = 0; i < n; i++) {
                        if (events[i].data.fd == m.listen_fd) {
                                on_listen(&m);
                        } else if (m.connector && events[i].data.fd == proc_connector_fd(m.connector)) {
                                on_connector(&m);
                        } else if (events[i].data.fd == m.control_fd) {
                                control_serve(m.control_fd, build_status, &m);
                        } else if (events[i].data.fd == m.signal_fd) {
                                for (int sig; (sig = read_signal(&m)) > 0;) {
                                        if (sig == SIGHUP) {
                                                reload(&m);
                                        } else {
                                                log_info("%s: stopping", strsignal(sig));
                                                running = false;
                                        }
                                }
                        }
                }
                expire_lost(&m);
        }

out:
        stop(&m);
        safe_close(m.epoll_fd);
        safe_close(m.signal_fd);
        safe_close(m.cgroup2_fd);
        safe_close(m.lock_fd);
        setup_unref(m.setup);
        free(m.cgroup2_path);
        free(m.socket_path);
        pattern_hold_done(&m.pattern);
        free(m.control_path);
        proc_connector_free(m.connector);
        accounting_free(m.accounting);
        ratelimit_free(m.env.limiter);
        stats_free(m.stats);
        pthread_mutex_destroy(&m.inflight_lock);
        return status;
}
