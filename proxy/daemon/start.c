/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Start-up, in the order that keeps the machine safe: everything opened
 * and the pattern installed (by the keeper) while we still may, then
 * capabilities dropped, writes confined to our own directories (Landlock)
 * and the seccomp filter loaded, all before the first dump is accepted and
 * before the first thread starts.
 */

#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <libgen.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
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
#include "proxy/base/caps.h"
#include "proxy/base/confine.h"
#include "proxy/store/summarize.h"
#include "proxy/store/upload.h"
#include "proxy/base/fault.h"
#include "proxy/base/log.h"
#include "proxy/base/procaccess.h"
#include "proxy/base/sandbox.h"
#include "proxy/base/utc.h"
#include "proxy/daemon/accounting.h"
#include "proxy/daemon/control.h"
#include "proxy/daemon/pattern.h"
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

/* Tests: what code run through a parser on a worker could do to the host, the saved pattern included. */
static void probe(const struct daemon *m)
{
        _cleanup_free_ char *state = NULL;

        (void) pattern_state_path(m->socket_path, &state);
        confine_probe(state);
}

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

        if (fault_hit("sandbox-probe"))
                probe(m);
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
        struct config *c = TAKE_PTR(m->initial_config);
        int r;

        if (!c) {
                r = daemon_load_config(m->options, &c);
                if (r < 0)
                        return r;
        }
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

/*
 * The v1 hierarchies, for runtimes that use cgroup v1 only on a hybrid host: the ownership of
 * their directories is read from them. A hierarchy that cannot be opened leaves its containers
 * unrecognised (host tasks), never recognised unchecked.
 */
static void open_v1_mounts(struct daemon *m)
{
        size_t n = 0;

        if (cgroup1_find_mounts(&m->cgroup1_mounts, &n) < 0 || n == 0)
                return;
        m->v1_mounts = calloc(n, sizeof(*m->v1_mounts));
        if (!m->v1_mounts) {
                cgroup1_mounts_free(m->cgroup1_mounts, n);
                m->cgroup1_mounts = NULL;
                return;
        }
        for (size_t i = 0; i < n; i++) {
                m->v1_mounts[i].mount = &m->cgroup1_mounts[i];
                m->v1_mounts[i].fd = open(m->cgroup1_mounts[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        m->n_v1_mounts = n;
        m->env.identify.v1_mounts = m->v1_mounts;
        m->env.identify.n_v1_mounts = n;
}

/* Where cgroup ids become paths, and which user namespace is ours. */
static void open_identify(struct daemon *m)
{
        struct stat user_ns;

        open_v1_mounts(m);

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

/*
 * The host's network namespace is the initial one, wherever we run (a DaemonSet pod without
 * hostNetwork has one of its own): no dump is forwarded into it (proxy/act/hostnet.c), and the
 * proc connector answers only there.
 */
/* The host's network namespace itself, by kthreadd's or PID 1's link checked against its inode. */
static int open_host_netns(uint64_t ino)
{
        static const char *const candidates[] = { "/proc/2/ns/net", "/proc/1/ns/net" };
        struct stat st;

        if (fault_hit("host-netns-closed"))
                return -EACCES;
        for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
                _cleanup_close_ int fd = open(candidates[i], O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && fstat(fd, &st) >= 0 && (uint64_t) st.st_ino == ino)
                        return TAKE_FD(fd);
        }
        return -ENOENT;
}

static void find_host_netns(struct daemon *m)
{
        struct stat self;
        int r;

        /* The fault: as outside the host's pid namespace on a kernel before 6.18. */
        r = fault_hit("host-netns-unknown")
                    ? -ENOENT
                    : netns_find_initial(&m->env.host_netns, &m->host_netns_found_by);
        if (r < 0) {
                m->env.host_netns = 0;
                m->host_netns_found_by = NULL;
                log_warning(
                        "the host's network namespace cannot be found from here (not in the host's pid "
                        "namespace, and the kernel predates fixed namespace numbers): a dump is forwarded "
                        "only where the kernel's own connection proves the namespace is not the host's");
                return;
        }
        m->in_host_netns =
                stat("/proc/self/ns/net", &self) >= 0 && (uint64_t) self.st_ino == m->env.host_netns;
        log_debug("host network namespace: inode %llu (found by %s); ours %s",
                  (unsigned long long) m->env.host_netns, m->host_netns_found_by,
                  m->in_host_netns ? "is it" : "is another");
        if (!m->in_host_netns) {
                /* A pod of its own network (no hostNetwork) with hostPID: the host's is at hand. */
                m->host_netns_fd = open_host_netns(m->env.host_netns);
                if (m->host_netns_fd >= 0) {
                        log_info("outside the host's network namespace: the proc connector is opened in "
                                 "the host's, found through /proc");
                        return;
                }
                m->accounting_off = "the daemon is not in the host's network namespace (the proc connector "
                                    "works only there), and cannot open it (no host pid namespace)";
                log_warning(
                        "coredump-proxy runs outside the host's network namespace: lost-dump accounting "
                        "cannot work here, so crashes that never reach the socket are not reported; dumps "
                        "of tasks in the host's network namespace are never forwarded");
        }
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

static int watch_with(struct daemon *m, int fd, uint32_t events)
{
        struct epoll_event ev = { .events = events, .data.fd = fd };

        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                return log_error_errno(errno, "epoll_ctl");
        return 0;
}

static int watch(struct daemon *m, int fd)
{
        return watch_with(m, fd, EPOLLIN);
}

static int open_loop(struct daemon *m)
{
        int r;

        r = watch(m, m->listen_fd);
        if (r >= 0)
                r = watch(m, m->signal_fd);
        if (r >= 0 && m->control)
                r = watch(m, control_listen_fd(m->control));
        if (r >= 0 && m->metrics)
                r = watch(m, control_listen_fd(m->metrics));
        if (r >= 0 && m->connector)
                /* One wake-up, then read in batches (lost_read_due()): a crash storm is not one wake per
                 * crash.
                 */
                r = watch_with(m, proc_connector_fd(m->connector), EPOLLIN | EPOLLONESHOT);
        if (r >= 0 && m->pipe_fd >= 0)
                r = watch(m, m->pipe_fd);
        return r;
}

/*
 * The proc connector answers only sockets of the initial network namespace:
 * from a namespace of our own, its socket is made in the host's (a netlink
 * socket stays in the namespace it was made in).
 */
static int open_connector(struct daemon *m)
{
        _cleanup_close_ int self = -EBADF;
        int r;

        if (m->host_netns_fd < 0)
                return proc_connector_open(&m->connector);
        self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return negative_errno();
        if (setns(m->host_netns_fd, CLONE_NEWNET) < 0)
                return negative_errno();
        r = proc_connector_open(&m->connector);
        /* Left in the host's namespace, every socket made later would be made there. */
        if (setns(self, CLONE_NEWNET) < 0)
                abort();
        m->host_netns_fd = safe_close(m->host_netns_fd);
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
        if (!m->accounting_off) {
                r = open_connector(m);
                if (r < 0) {
                        m->accounting_off = "the proc connector cannot be opened";
                        log_warning_errno(
                                r, "no proc connector: dumps that never reach the socket cannot be counted");
                }
        }

        r = hooks_open(m);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = NULL;
        r = control_path(listen, &path);
        if (r >= 0)
                r = control_new(path, m->epoll_fd, hooks_handle, m, &m->control);
        if (r < 0)
                log_warning("no control socket (%s): `coredump-proxy status` and hooks will not work",
                            strerror(-r));
        path = mfree_str(path);
        r = control_metrics_path(listen, &path);
        if (r >= 0)
                r = control_new_public(path, m->epoll_fd, status_metrics_handle, m, &m->metrics);
        if (r < 0)
                log_warning("no metrics socket (%s): `coredump-proxy metrics` will not work", strerror(-r));
        return 0;
}

/*
 * Once started, the daemon writes dump files beneath its store, lines to
 * its event log, container registrations beneath their directory (read
 * back only as claims, each checked against the kernel at the next start),
 * and removes its sockets on the way out: nothing else. Not
 * the kernel socket's directory beyond removals: the saved pattern there is
 * read back into core_pattern by `restore-pattern`, so a compromised daemon
 * must not be able to rewrite it. The event log is allowed as a file, not
 * its directory, for the same reason when both share one. A reload cannot
 * name another store or event log (reload.c).
 */
static int confine(struct daemon *m)
{
        const struct config *c = m->setup->config;
        _cleanup_free_ char *run_dir = strdup(c->listen_path), *registrations = NULL;
        struct confine_path paths[4];
        const char *failed = NULL;
        size_t n = 0;
        int r;

        if (!run_dir)
                return log_oom();
        /* Landlock fails every ptrace access check on a crashing task: the keeper answers those. */
        if (m->keeper.broker >= 0)
                procaccess_use_broker(m->keeper.broker);
        /* An unavailable store gets no rule: dumps routed there fail whatever we allow. */
        if (m->setup->store)
                paths[n++] = (struct confine_path){ c->store_directory, CONFINE_TREE };
        if (strcmp(c->events, "-") != 0)
                paths[n++] = (struct confine_path){ c->events, CONFINE_FILE };
        if (asprintf(&registrations, "%s.registrations", c->listen_path) >= 0 &&
            access(registrations, F_OK) >= 0)
                paths[n++] = (struct confine_path){ registrations, CONFINE_TREE };
        paths[n++] = (struct confine_path){ dirname(run_dir), CONFINE_REMOVE };

        r = confine_writes(paths, n, &failed);
        if (confine_unsupported(r)) {
                log_warning("this kernel has no Landlock (%s): writes are not confined, a compromised "
                            "daemon could write any file",
                            strerror(-r));
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "cannot confine writes%s%s", failed ? " to " : "",
                                       failed ? failed : "");
        log_info("writes confined (Landlock ABI %d): files beneath %s, the event log %s, removals in %s", r,
                 m->setup->store ? c->store_directory : "(no store)", c->events, paths[n - 1].path);
        return 0;
}

/*
 * store.exec: the runner is forked now, before any thread and before the
 * sandbox, which forbids exec; it holds only its socket and the store's
 * directory, and ends when the daemon does (EOF).
 */
static int open_upload(struct daemon *m)
{
        const struct config *c = m->setup->config;
        struct upload_options o = {
                .command = c->store_exec.command,
                .directory = c->store_directory,
                .timeout = c->store_exec.timeout,
                .max_running = c->store_exec.max_concurrent,
                .remove = c->store_exec.remove,
        };
        int r;

        m->env.upload_fd = -EBADF;
        if (!o.command || !m->setup->store)
                return 0;
        r = upload_start(&o, &m->env.upload_fd, &m->upload_pid);
        if (r < 0)
                return log_error_errno(r, "cannot start the upload runner for store.exec");
        return 0;
}

/* store.summary: the same, for crash summaries (proxy/store/summarize.h). */
static int open_summary(struct daemon *m)
{
        const struct config *c = m->setup->config;
        _cleanup_free_ char *program = NULL;
        int r;

        m->env.summary_fd = -EBADF;
        if (!c->store_summary || !m->setup->store)
                return 0;
        r = summarize_program_path(&program);
        if (r < 0) {
                log_warning_errno(r, "no crash summaries: %s not found", SUMMARY_PROGRAM_NAME);
                return 0;
        }
        struct summarize_options o = {
                .program = program,
                .directory = c->store_directory,
                .timeout = SUMMARY_TIMEOUT_DEFAULT,
        };
        r = summarize_start(&o, &m->env.summary_fd, &m->summary_pid);
        if (r < 0)
                return log_error_errno(r, "cannot start the summary runner for store.summary");
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
        r = open_upload(m);
        if (r < 0)
                return r;
        r = open_summary(m);
        if (r < 0)
                return r;
        r = open_signals(m);
        if (r < 0)
                return r;
        open_identify(m);
        find_host_netns(m);

        r = open_limits(m);
        if (r < 0)
                return r;
        r = listener_open(m, c->listen_path);
        if (r < 0)
                return r;
        r = mode_start(m);
        if (r < 0)
                return r;
        ready_open(m);
        /* Control clients join the loop as they connect: the loop's epoll comes first. */
        m->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epoll_fd < 0)
                return log_error_errno(errno, "epoll_create1");
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
        r = confine(m);
        if (r < 0)
                return r;
        r = sandbox_apply_proxy();
        if (r < 0)
                return log_error_errno(r, "cannot install the seccomp filter");

        mode_report_unseen(m);
        /* After the filter: the threads this starts are confined like every other. */
        if (m->mode != INTAKE_PIPE)
                daemon_accept_on_workers(m);
        log_info("listening on %s (%s); events to %s; host store %s; config %s%s%s",
                 m->mode == INTAKE_PIPE ? m->pipe_path : c->listen_path, intake_mode_to_string(m->mode),
                 event_log_path(m->setup->events), c->store_directory, c->source,
                 m->accounting_off ? "; lost-dump accounting off: " : "",
                 m->accounting_off ? m->accounting_off : "");
        ready_serving(m);
        return 0;
}
