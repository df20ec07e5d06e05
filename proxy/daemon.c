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
#include "proxy/daemon.h"
#include "proxy/dump-run.h"
#include "proxy/dump.h"
#include "proxy/log.h"
#include "proxy/setup.h"
#include "proxy/workers.h"

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

        bool pattern_installed;
        char *previous_pattern;
        char *installed_pattern;
        char *pattern_state_path;

        pthread_mutex_t inflight_lock;
        struct dump *inflight;
        size_t n_inflight;
        uint64_t accepted;
};

/* ---- restoring core_pattern even when we crash ------------------------ */

/*
 * A crash of the daemon must not leave the kernel pointing at a dead
 * socket. The handler only uses async-signal-safe calls; the daemon is
 * non-dumpable, so re-raising cannot dump into ourselves.
 */
static char fatal_pattern[CORE_PATTERN_MAX + 1];
static volatile sig_atomic_t fatal_armed;

static void fatal_signal(int sig)
{
        if (fatal_armed) {
                int fd = open(CORE_PATTERN_SYSCTL, O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        size_t len = strlen(fatal_pattern);
                        ssize_t _unused_ k = write(fd, len ? fatal_pattern : "\n", len ? len : 1);
                        close(fd);
                }
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

static void arm_fatal_restore(const char *previous)
{
        static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
        struct sigaction sa = { .sa_handler = fatal_signal, .sa_flags = SA_RESETHAND | SA_NODEFER };

        (void) snprintf(fatal_pattern, sizeof(fatal_pattern), "%s", previous);
        fatal_armed = 1;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                (void) sigaction(sigs[i], &sa, NULL);
}

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

int daemon_pattern_state_path(const char *listen_path, char **ret)
{
        return asprintf(ret, "%s.previous-pattern", listen_path) < 0 ? -ENOMEM : 0;
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
        m->accepted++;

        inflight_add(m, d);
        r = workers_submit(m->pool, d);
        if (r < 0) {
                /* Every worker busy and the queue full: still one event, and no task left waiting. */
                dump_set_outcome(d, OUTCOME_FAILED, "overload");
                d->state = DUMP_DONE;
                (void) shutdown(d->fd, SHUT_RDWR);
                (void) event_log_write(d->setup->events, d);
                log_warning("%s: dropped, %zu dumps in flight", d->id, m->n_inflight);
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

/* ---- the socket ---------------------------------------------------------- */

static int mkdir_parents(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; (s = strchr(s, '/')); s++) {
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return negative_errno();
                *s = '/';
        }
        return 0;
}

static int open_listener(struct daemon *m, const char *path)
{
        _cleanup_close_ int fd = -EBADF, lock = -EBADF;
        _cleanup_free_ char *lock_path = NULL;
        struct sockaddr_un sa;
        socklen_t salen;
        struct stat st;
        int r;

        r = mkdir_parents(path, 0755);
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

/* ---- core_pattern -------------------------------------------------------- */

static int install_pattern(struct daemon *m)
{
        const struct config *c = m->setup->config;
        _cleanup_free_ char *previous = NULL, *current = NULL, *saved = NULL, *ours = NULL;
        bool request = false;
        int r;

        r = daemon_pattern_state_path(c->listen_path, &m->pattern_state_path);
        if (r < 0)
                return log_oom();

        /*
         * After an unclean stop the pattern may still be ours: then the one
         * to restore is the one saved by the previous run, not our own.
         */
        if (core_pattern_read(&current) >= 0 &&
            io_read_file_at(AT_FDCWD, m->pattern_state_path, 4096, &saved, NULL) >= 0) {
                enum core_pattern_kind kind;
                const char *path;
                if (core_pattern_parse(current, &kind, &path) >= 0 && path &&
                    strcmp(path, c->listen_path) == 0) {
                        saved[strcspn(saved, "\n")] = 0;
                        log_info("core_pattern still points at %s from an earlier run; will restore '%s'",
                                 c->listen_path, saved);
                } else {
                        saved = mfree_str(saved);
                }
        }

        r = core_pattern_install(c->listen_path, c->protocol == PROTOCOL_REQUEST, &previous, &request);
        if (r < 0)
                return log_error_errno(r, "cannot install the coredump socket pattern for %s",
                                       c->listen_path);
        if (saved) {
                free(previous);
                previous = TAKE_PTR(saved);
        }
        if (c->protocol == PROTOCOL_REQUEST && !request)
                log_warning("the kernel refuses '@@' patterns (before 6.17): installed '@', plain mode");

        r = core_pattern_read(&ours);
        if (r < 0)
                return log_error_errno(r, "cannot read back core_pattern");

        m->pattern_installed = true;
        m->previous_pattern = TAKE_PTR(previous);
        m->installed_pattern = TAKE_PTR(ours);
        arm_fatal_restore(m->previous_pattern);

        /* A SIGKILLed daemon cannot restore: `coredump-proxy restore-pattern` reads this file. */
        _cleanup_close_ int fd = open(m->pattern_state_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || io_write_all(fd, m->previous_pattern, strlen(m->previous_pattern)) < 0)
                log_warning("cannot save the previous pattern in %s", m->pattern_state_path);

        log_info("core_pattern is '%s' (was '%s')", m->installed_pattern, m->previous_pattern);
        return 0;
}

static void restore_pattern(struct daemon *m)
{
        _cleanup_free_ char *current = NULL;
        int r;

        if (!m->pattern_installed)
                return;
        m->pattern_installed = false;

        /* Someone else changed it while we ran: theirs wins. */
        if (core_pattern_read(&current) >= 0 && strcmp(current, m->installed_pattern) != 0) {
                log_warning("core_pattern was changed to '%s' while we ran; leaving it", current);
        } else {
                r = core_pattern_restore(m->previous_pattern);
                if (r < 0)
                        log_error_errno(r, "cannot restore core_pattern '%s'", m->previous_pattern);
                else
                        log_info("core_pattern restored to '%s'", m->previous_pattern);
        }
        fatal_armed = 0;
        (void) unlink(m->pattern_state_path);
}

static void check_pattern(struct daemon *m)
{
        const struct config *c = m->setup->config;
        _cleanup_free_ char *current = NULL;
        enum core_pattern_kind kind = CORE_PATTERN_FILE;
        const char *path = NULL;
        unsigned limit;

        if (core_pattern_read(&current) < 0)
                return;
        if (core_pattern_parse(current, &kind, &path) < 0 || !path || strcmp(path, c->listen_path) != 0) {
                log_warning("core_pattern is '%s', not this socket: no dump will arrive "
                            "(--install-pattern sets it)",
                            current);
                return;
        }
        /* "@" holds the task only while core_pipe_limit > 0; "@@" holds it through the ack. */
        if (kind == CORE_PATTERN_SOCKET &&
            core_pattern_read_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, &limit) >= 0 && limit == 0)
                log_warning("plain mode with kernel.core_pipe_limit=0: a crashing task may be gone before "
                            "it is identified; set it to a value > 0");
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
        m->env.identify.cgroup2_path = m->cgroup2_path;

        _cleanup_close_ int netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        if (netns < 0 || netns_inode(netns, &m->env.host_netns) < 0)
                return log_error_errno(errno, "cannot identify our network namespace");

        r = workers_new(c->limits.max_concurrent, (size_t) c->limits.max_concurrent * QUEUE_PER_WORKER,
                        worker, m, &m->pool);
        if (r < 0)
                return log_error_errno(r, "cannot create the worker pool");

        r = open_listener(m, c->listen_path);
        if (r < 0)
                return r;

        if (m->options->install_pattern) {
                r = install_pattern(m);
                if (r < 0)
                        return r;
        }
        check_pattern(m);

        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return log_error_errno(errno, "epoll_create1");
        ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = m->listen_fd };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->listen_fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");
        ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = m->signal_fd };
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, m->signal_fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");

        log_info("listening on %s (%s); events to %s; host store %s; config %s", c->listen_path,
                 c->protocol == PROTOCOL_REQUEST ? "request" : "plain", event_log_path(m->setup->events),
                 c->store_directory, c->source);
        return 0;
}

static void stop(struct daemon *m)
{
        /* New crashes go back to the previous handler at once. */
        restore_pattern(m);

        if (m->listen_fd >= 0) {
                m->listen_fd = safe_close(m->listen_fd);
                if (m->socket_path)
                        (void) unlink(m->socket_path);
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
                int n = epoll_wait(m.epoll_fd, events, ARRAY_SIZE(events), -1);
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
        free(m.previous_pattern);
        free(m.installed_pattern);
        free(m.pattern_state_path);
        pthread_mutex_destroy(&m.inflight_lock);
        return status;
}
