/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The two netlink modules against the real kernel: the proc connector's
 * PROC_EVENT_COREDUMP for crashing children (plain, multi-threaded,
 * non-dumpable), and UNIX_DIAG accept-queue numbers of a real listener.
 *
 * Layout: the main process saves core_pattern, points it at an empty temp
 * dir, runs every test in a forked worker and restores the pattern however
 * the worker ends (failure, sanitizer abort, timeout, signal).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/proc-connector.h"
#include "kernel/unix-diag.h"
#include "tests/tap.h"

#define CORE_PATTERN     "/proc/sys/kernel/core_pattern"
#define TESTS_LOCK       "/run/coredump-proxy-tests.lock" /* shared with tests/lib.sh */
#define WORKER_TIMEOUT_S 120
#define EVENT_TIMEOUT_MS 3000
#define QUIET_WINDOW_MS  300
#define MAX_EVENTS       256
#define CRASHER_THREADS  4
#define MANY_LISTENERS   300

/* Created by main() before the worker starts; holds core files (none expected) and test sockets. */
static char tmpdir[] = "/tmp/cdp-netlink-XXXXXX";

/* ---- helpers ------------------------------------------------------------ */

static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        return n - 1; /* the directory's own fd */
}

static uint64_t now_ns(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* Waits for a child; returns its raw wait status, or -1. */
static int reap(pid_t pid)
{
        int status;

        if (RETRY_EINTR(waitpid(pid, &status, 0)) != pid)
                return -1;
        return status;
}

/* ---- crashing children ---------------------------------------------------- */

enum crash_kind {
        CRASH_PLAIN,
        CRASH_THREAD,      /* a non-leader thread takes the signal */
        CRASH_NONDUMPABLE, /* PR_SET_DUMPABLE 0: the kernel never starts a dump */
};

static int crash_report_fd = -EBADF;

static _noreturn_ void crash_self(void)
{
        struct sigaction sa = { .sa_handler = SIG_DFL };
        sigset_t set;

        /*
         * Sanitizer builds install their own SIGSEGV handler; the default
         * action is what makes the kernel dump. tgkill() rather than a NULL
         * store: UBSan would turn that into an abort.
         */
        (void) sigaction(SIGSEGV, &sa, NULL);
        sigemptyset(&set);
        sigaddset(&set, SIGSEGV);
        (void) pthread_sigmask(SIG_UNBLOCK, &set, NULL);
        (void) syscall(SYS_tgkill, getpid(), gettid(), SIGSEGV);
        _exit(99);
}

static void *crash_thread(void *arg)
{
        pid_t tid = gettid();

        /* The parent learns which thread crashed: the event must name it. */
        if (write(crash_report_fd, &tid, sizeof(tid)) != sizeof(tid))
                _exit(98);
        crash_self();
}

static void *idle_thread(void *arg)
{
        for (;;)
                pause();
        return NULL;
}

/*
 * Forks a child that crashes with SIGSEGV; *ret_tid is the thread that takes
 * the signal. RLIMIT_CORE 0 keeps the file pattern from writing anything.
 */
static pid_t spawn_crasher(enum crash_kind kind, pid_t *ret_tid)
{
        int p[2];
        pid_t pid, tid = 0;

        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        pid = fork();
        if (pid < 0) {
                (void) close(p[0]);
                (void) close(p[1]);
                return -1;
        }
        if (pid == 0) {
                struct rlimit rl = { 0, 0 };
                pthread_t t;

                (void) close(p[0]);
                crash_report_fd = p[1];
                (void) setrlimit(RLIMIT_CORE, &rl);
                (void) prctl(PR_SET_NAME, "cdp-nl-crasher");

                if (kind == CRASH_NONDUMPABLE && prctl(PR_SET_DUMPABLE, 0) < 0)
                        _exit(97);
                if (kind == CRASH_THREAD) {
                        for (int i = 0; i < CRASHER_THREADS - 1; i++)
                                if (pthread_create(&t, NULL, idle_thread, NULL) != 0)
                                        _exit(96);
                        if (pthread_create(&t, NULL, crash_thread, NULL) != 0)
                                _exit(96);
                        for (;;)
                                pause();
                }
                crash_thread(NULL);
                _exit(95);
        }
        (void) close(p[1]);
        if (RETRY_EINTR(read(p[0], &tid, sizeof(tid))) != sizeof(tid))
                tid = 0;
        (void) close(p[0]);
        *ret_tid = tid;
        return pid;
}

/* ---- reading events -------------------------------------------------------- */

struct collected {
        struct proc_coredump_event match[MAX_EVENTS]; /* events of the tgid we wait for */
        size_t n_match;
        size_t n_total;
        bool lost;
        unsigned invalid;
};

/*
 * Drains the connector and keeps the events of tgid, until the queue stayed
 * empty for QUIET_WINDOW_MS. With wait_for_match, first waits up to
 * EVENT_TIMEOUT_MS for an event of tgid to arrive.
 */
static int collect(struct proc_connector *pc, pid_t tgid, bool wait_for_match, struct collected *c)
{
        struct proc_coredump_event ev[64];
        uint64_t deadline = now_ns() + (uint64_t) EVENT_TIMEOUT_MS * 1000000ULL;
        struct pollfd pfd = { .fd = proc_connector_fd(pc), .events = POLLIN };

        memset(c, 0, sizeof(*c));
        for (;;) {
                bool waiting = wait_for_match && c->n_match == 0;
                int wait_ms = QUIET_WINDOW_MS;
                struct proc_connector_result res;
                int r;

                if (waiting) {
                        uint64_t now = now_ns();
                        if (now >= deadline)
                                return 0;
                        wait_ms = (int) ((deadline - now) / 1000000ULL) + 1;
                }
                r = RETRY_EINTR(poll(&pfd, 1, wait_ms));
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        if (!waiting)
                                return 0;
                        continue;
                }
                r = proc_connector_read(pc, ev, ARRAY_SIZE(ev), &res);
                if (r < 0)
                        return r;
                c->lost |= res.lost;
                c->invalid += res.invalid;
                c->n_total += res.n_events;
                for (size_t i = 0; i < res.n_events; i++)
                        if (ev[i].process_tgid == tgid && c->n_match < ARRAY_SIZE(c->match))
                                c->match[c->n_match++] = ev[i];
        }
}

/* ---- proc connector tests ---------------------------------------------------- */

static void test_crash(struct proc_connector *pc, enum crash_kind kind, const char *what)
{
        struct collected c;
        uint64_t before, after;
        pid_t pid, tid = 0;
        int status;

        before = now_ns();
        pid = spawn_crasher(kind, &tid);
        if (!ok(pid > 0 && tid > 0, "%s: crasher started", what)) {
                if (pid > 0)
                        (void) reap(pid);
                return;
        }
        status = reap(pid);
        after = now_ns();
        ok(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV, "%s: child died of SIGSEGV",
           what);

        is_int(collect(pc, pid, true, &c), 0, "%s: reading events works", what);
        is_int(c.n_match, 1, "%s: exactly one PROC_EVENT_COREDUMP for the tgid", what);
        if (c.n_match < 1)
                return;
        is_int(c.match[0].process_tgid, pid, "%s: process_tgid is the child", what);
        is_int(c.match[0].process_pid, tid, "%s: process_pid is the thread that took the signal", what);
        if (kind == CRASH_THREAD)
                ok(c.match[0].process_pid != c.match[0].process_tgid, "%s: a non-leader thread crashed",
                   what);
        is_int(c.match[0].parent_tgid, getpid(), "%s: parent_tgid is us", what);
        ok(c.match[0].timestamp_ns >= before && c.match[0].timestamp_ns <= after,
           "%s: timestamp is CLOCK_MONOTONIC within the crash", what);
        is_int(c.invalid, 0, "%s: nothing invalid from the kernel", what);
}

static void test_unrelated_events(struct proc_connector *pc)
{
        struct collected c;
        pid_t pid;

        /* fork, exec, comm change and a non-zero exit: events of every other kind. */
        pid = fork();
        if (pid == 0) {
                (void) prctl(PR_SET_NAME, "cdp-nl-quiet");
                execl("/bin/sh", "sh", "-c", "exit 3", (char *) NULL);
                _exit(127);
        }
        ok(pid > 0 && WEXITSTATUS(reap(pid)) == 3, "plain exit: child ran and exited 3");
        /* The subscription asks the kernel (6.6+) for coredump events only: nothing else wakes us. */
        struct pollfd pfd = { .fd = proc_connector_fd(pc), .events = POLLIN };
        is_int(poll(&pfd, 1, 0), 0, "plain exit: the kernel filtered its fork/exec/exit events out");
        is_int(collect(pc, pid, false, &c), 0, "plain exit: reading events works");
        is_int(c.n_match, 0, "plain exit: no event returned for a child that did not crash");
}

/* A fake coredump event unicast to our port by an ordinary netlink socket. */
static void test_spoofed_sender(struct proc_connector *pc)
{
        struct sockaddr_nl self = {}, dst = { .nl_family = AF_NETLINK };
        socklen_t len = sizeof(self);
        struct {
                struct nlmsghdr nlh;
                struct cn_msg cn;
                struct proc_event ev;
        } __attribute__((packed)) fake = {};
        struct collected c;
        const pid_t fake_tgid = 0x7ffffff0;

        _cleanup_close_ int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_CONNECTOR);
        if (!ok(s >= 0 && getsockname(proc_connector_fd(pc), (struct sockaddr *) &self, &len) == 0,
                "spoof: sockets"))
                return;
        dst.nl_pid = self.nl_pid;

        fake.nlh.nlmsg_len = sizeof(fake);
        fake.nlh.nlmsg_type = NLMSG_DONE;
        fake.cn.id.idx = CN_IDX_PROC;
        fake.cn.id.val = CN_VAL_PROC;
        fake.cn.len = sizeof(fake.ev);
        fake.ev.what = PROC_EVENT_COREDUMP;
        fake.ev.event_data.coredump.process_pid = fake_tgid;
        fake.ev.event_data.coredump.process_tgid = fake_tgid;

        ok(sendto(s, &fake, sizeof(fake), 0, (struct sockaddr *) &dst, sizeof(dst)) == sizeof(fake),
           "spoof: a user socket can unicast to the connector socket");
        is_int(collect(pc, fake_tgid, false, &c), 0, "spoof: reading works");
        is_int(c.n_match, 0, "spoof: the fake event is not returned");
        ok(c.invalid >= 1, "spoof: the datagram is counted as invalid");
}

/* Fills a tiny receive buffer with coredump events: the next read says events were lost. */
static void test_overflow(void)
{
        struct proc_connector *pc = NULL;
        struct collected c;
        int small = 1, n_ok = 0;

        if (!ok(proc_connector_open(&pc) == 0, "overflow: second connector opens"))
                return;
        ok(setsockopt(proc_connector_fd(pc), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0,
           "overflow: shrink the receive buffer");
        for (int i = 0; i < 40; i++) {
                pid_t tid, pid = spawn_crasher(CRASH_PLAIN, &tid);
                if (pid > 0 && reap(pid) != 0)
                        n_ok++;
        }
        is_int(n_ok, 40, "overflow: 40 children crashed");
        is_int(collect(pc, 0, false, &c), 0, "overflow: reading after ENOBUFS works");
        ok(c.lost, "overflow: the read reports lost events");

        /* The socket keeps working after the overflow. */
        int big = 1 << 20;
        (void) setsockopt(proc_connector_fd(pc), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
        pid_t tid, pid = spawn_crasher(CRASH_PLAIN, &tid);
        if (pid > 0)
                (void) reap(pid);
        is_int(collect(pc, pid, true, &c), 0, "overflow: reading again works");
        is_int(c.n_match, 1, "overflow: a crash after the overflow is reported");
        ok(!c.lost, "overflow: lost is reported once, not forever");
        proc_connector_free(pc);
}

static bool drop_cap_net_admin(void)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) < 0)
                return false;
        d[CAP_NET_ADMIN / 32].effective &= ~(1U << (CAP_NET_ADMIN % 32));
        return syscall(SYS_capset, &h, d) == 0;
}

/* Runs proc_connector_open() in a child set up by how; returns the errno it failed with (0: opened). */
static int open_in_child(int how)
{
        pid_t pid = fork();
        int status;

        if (pid == 0) {
                struct proc_connector *pc = NULL;
                int r;

                if (how == 1 && !drop_cap_net_admin())
                        _exit(200);
                if (how == 2 && unshare(CLONE_NEWNET) < 0)
                        _exit(201);
                if (how == 3) {
                        /* A pid namespace applies to children: open from one. */
                        if (unshare(CLONE_NEWPID) < 0)
                                _exit(202);
                        pid_t inner = fork();
                        if (inner == 0) {
                                r = proc_connector_open(&pc);
                                proc_connector_free(pc);
                                _exit(r < 0 ? -r : 0);
                        }
                        status = reap(inner);
                        _exit(status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : 203);
                }
                r = proc_connector_open(&pc);
                proc_connector_free(pc);
                _exit(r < 0 ? -r : 0);
        }
        status = reap(pid);
        return status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_open_refused(void)
{
        is_int(open_in_child(1), EPERM, "open without CAP_NET_ADMIN: EPERM");
        is_int(open_in_child(2), ECONNREFUSED, "open in another network namespace: ECONNREFUSED");
        is_int(open_in_child(3), EOPNOTSUPP, "open in another pid namespace: EOPNOTSUPP");
}

static void test_proc_connector(void)
{
        struct proc_connector *pc = NULL;
        int r, fd;

        r = proc_connector_open(&pc);
        if (!ok(r == 0, "proc connector opens (r=%d)", r))
                return;
        fd = proc_connector_fd(pc);
        ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "connector socket is close-on-exec");
        ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK), "connector socket is non-blocking");

        struct proc_connector_result res = { .n_events = 99 };
        struct proc_coredump_event ev[1];
        is_int(proc_connector_read(pc, ev, 0, &res), 0, "read with max 0 succeeds");
        is_int(res.n_events, 0, "read with max 0 returns nothing");

        test_crash(pc, CRASH_PLAIN, "plain crash");
        test_crash(pc, CRASH_THREAD, "multi-threaded crash");
        test_crash(pc, CRASH_NONDUMPABLE, "non-dumpable crash");
        test_unrelated_events(pc);
        test_spoofed_sender(pc);
        proc_connector_free(pc);

        test_overflow();
        test_open_refused();
        proc_connector_free(NULL);
}

/* ---- unix_diag tests ---------------------------------------------------------- */

static uint64_t fd_inode(int fd)
{
        struct stat st;

        return fstat(fd, &st) == 0 ? (uint64_t) st.st_ino : 0;
}

static int unix_stream(void)
{
        return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static socklen_t abstract_addr(struct sockaddr_un *sa, const char *name)
{
        size_t len = strlen(name);

        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        memcpy(sa->sun_path + 1, name, len);
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + len);
}

static const struct unix_diag_listener *find_listener(const struct unix_diag_listener *l, size_t n,
                                                      uint64_t inode)
{
        for (size_t i = 0; i < n; i++)
                if (l[i].inode == inode)
                        return &l[i];
        return NULL;
}

/* A path listener plus enough abstract ones that the dump spans several datagrams. */
static void test_many_listeners(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fds[MANY_LISTENERS];
        uint64_t inodes[MANY_LISTENERS];
        int made = 0, found = 0;

        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                fds[i] = -EBADF;

        _cleanup_close_ int pfd = unix_stream();
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/listener.sock", tmpdir);
        if (!ok(pfd >= 0 && bind(pfd, (struct sockaddr *) &sa, sizeof(sa)) == 0 && listen(pfd, 2) == 0,
                "path listener"))
                return;

        for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
                struct sockaddr_un a;
                char name[64];

                (void) snprintf(name, sizeof(name), "cdp-netlink-many-%d-%zu", (int) getpid(), i);
                socklen_t len = abstract_addr(&a, name);
                fds[i] = unix_stream();
                if (fds[i] >= 0 && bind(fds[i], (struct sockaddr *) &a, len) == 0 && listen(fds[i], 1) == 0)
                        made++;
                inodes[i] = fd_inode(fds[i]);
        }
        is_int(made, MANY_LISTENERS, "%d abstract listeners", MANY_LISTENERS);

        struct unix_diag_listener *l = NULL;
        size_t n = 0;
        is_int(unix_diag_list_listeners(&l, &n), 0, "list of many listeners");
        for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
                if (find_listener(l, n, inodes[i]))
                        found++;
        is_int(found, MANY_LISTENERS, "every abstract listener is listed");
        const struct unix_diag_listener *p = find_listener(l, n, fd_inode(pfd));
        ok(p != NULL, "the path listener is listed");
        if (p) {
                is_str(p->name, sa.sun_path, "path listener: name is the path");
                is_int(p->backlog, 2, "path listener: backlog 2");
        }
        free(l);
        close_many(fds, ARRAY_SIZE(fds));
        (void) unlink(sa.sun_path);
}

static void test_unix_diag(void)
{
        struct sockaddr_un sa;
        char name[64], expect[80];
        uint32_t pending = 99, backlog = 99;
        socklen_t salen;
        int clients[3] = { -EBADF, -EBADF, -EBADF };

        (void) snprintf(name, sizeof(name), "cdp-netlink-test-%d", (int) getpid());
        salen = abstract_addr(&sa, name);

        _cleanup_close_ int lfd = unix_stream();
        if (!ok(lfd >= 0 && bind(lfd, (struct sockaddr *) &sa, salen) == 0 && listen(lfd, 8) == 0,
                "listener with backlog 8"))
                return;
        uint64_t ino = fd_inode(lfd);

        is_int(unix_diag_listener_queue(ino, &pending, &backlog), 0, "idle listener: found");
        is_int(pending, 0, "idle listener: pending 0");
        is_int(backlog, 8, "idle listener: backlog 8");

        int connected = 0;
        for (size_t i = 0; i < ARRAY_SIZE(clients); i++) {
                clients[i] = unix_stream();
                if (clients[i] >= 0 && connect(clients[i], (struct sockaddr *) &sa, salen) == 0)
                        connected++;
        }
        is_int(connected, 3, "three clients connect");
        is_int(unix_diag_listener_queue(ino, &pending, &backlog), 0, "busy listener: found");
        is_int(pending, 3, "busy listener: pending 3");
        is_int(backlog, 8, "busy listener: backlog 8");

        struct unix_diag_listener *l = NULL;
        size_t n = 0;
        is_int(unix_diag_list_listeners(&l, &n), 0, "list listeners");
        const struct unix_diag_listener *me = find_listener(l, n, ino);
        ok(me != NULL, "list: our listener is in it (%zu listeners)", n);
        (void) snprintf(expect, sizeof(expect), "@%s", name);
        if (me) {
                is_str(me->name, expect, "list: abstract name as @name");
                is_int(me->name_len, strlen(expect), "list: name length");
                is_int(me->pending, 3, "list: pending 3");
                is_int(me->backlog, 8, "list: backlog 8");
        }
        free(l);

        int accepted = 0;
        for (int i = 0; i < 3; i++) {
                int a = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (a >= 0) {
                        accepted++;
                        (void) close(a);
                }
        }
        is_int(accepted, 3, "three connections accepted");
        is_int(unix_diag_listener_queue(ino, &pending, &backlog), 0, "drained listener: found");
        is_int(pending, 0, "drained listener: pending 0");

        /* Not listeners, or not sockets of this namespace at all. */
        is_int(unix_diag_listener_queue(fd_inode(clients[0]), &pending, &backlog), -ENOENT,
               "connected client socket: ENOENT");
        _cleanup_close_ int bound = unix_stream();
        struct sockaddr_un sb;
        char bname[80];
        (void) snprintf(bname, sizeof(bname), "%s-bound", name);
        socklen_t sblen = abstract_addr(&sb, bname);
        if (ok(bound >= 0 && bind(bound, (struct sockaddr *) &sb, sblen) == 0, "bound, not listening"))
                is_int(unix_diag_listener_queue(fd_inode(bound), &pending, &backlog), -ENOENT,
                       "bound but not listening: ENOENT");
        is_int(unix_diag_listener_queue(0, &pending, &backlog), -ENOENT, "inode 0: ENOENT");
        is_int(unix_diag_listener_queue(UINT64_C(1) << 40, &pending, &backlog), -ENOENT,
               "inode beyond 32 bits: ENOENT");
        int gone = unix_stream();
        uint64_t gone_ino = fd_inode(gone);
        (void) listen(gone, 1);
        (void) close(gone);
        is_int(unix_diag_listener_queue(gone_ino, &pending, &backlog), -ENOENT, "closed listener: ENOENT");

        /* The listener lives in this network namespace only. */
        pid_t pid = fork();
        if (pid == 0) {
                uint32_t p, b;
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(200);
                _exit(-unix_diag_listener_queue(ino, &p, &b));
        }
        int status = reap(pid);
        is_int(status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, ENOENT,
               "from another network namespace: ENOENT");

        test_many_listeners();

        is_int(pending, 0, "out-parameters untouched by failures");
        close_many(clients, ARRAY_SIZE(clients));
}

/* ---- main: core_pattern guard, worker ------------------------------------------- */

static char saved_pattern[256];
static size_t saved_pattern_len;
static volatile sig_atomic_t pattern_changed;
static volatile pid_t worker_pid;

/* Async-signal-safe: also runs from the signal handler. */
static void restore_pattern(void)
{
        int fd;

        if (!pattern_changed)
                return;
        fd = open(CORE_PATTERN, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, saved_pattern, saved_pattern_len) == (ssize_t) saved_pattern_len)
                        pattern_changed = 0;
                (void) close(fd);
        }
        if (pattern_changed) {
                static const char msg[] = "kernel-netlink: could not restore core_pattern\n";
                (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        }
}

static volatile sig_atomic_t got_signal;

/*
 * Once the worker runs, main() is in waitpid(): killing the worker hands
 * the cleanup back to it. Before that, only the pattern can need restoring.
 */
static void on_signal(int sig)
{
        got_signal = sig;
        if (worker_pid > 0) {
                (void) kill(worker_pid, SIGKILL);
                return;
        }
        restore_pattern();
        _exit(128 + sig);
}

static int write_pattern(const char *s)
{
        _cleanup_close_ int fd = open(CORE_PATTERN, O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (write(fd, s, strlen(s)) != (ssize_t) strlen(s))
                return -errno;
        return 0;
}

static void remove_tmpdir(void)
{
        _cleanup_close_ int dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;

        if (dfd < 0)
                return;
        d = fdopendir(dfd);
        if (d) {
                dfd = -EBADF; /* owned by d now */
                for (struct dirent *de; (de = readdir(d));)
                        if (de->d_name[0] != '.')
                                (void) unlinkat(dirfd(d), de->d_name, 0);
                (void) closedir(d);
        }
        (void) rmdir(tmpdir);
}

static int worker(void)
{
        struct proc_connector *probe = NULL;
        int before, r;

        before = count_fds();

        r = proc_connector_open(&probe);
        if (r == -EOPNOTSUPP || r == -ECONNREFUSED || r == -EPROTONOSUPPORT)
                tap_skip_all("no proc connector here (%s): not the initial namespaces, or no "
                             "CONFIG_PROC_EVENTS",
                             strerror(-r));
        proc_connector_free(probe);

        test_proc_connector();
        test_unix_diag();

        is_int(count_fds(), before, "no fd leaked");
        return tap_done();
}

int main(void)
{
        char pattern[128];
        int status;

        if (geteuid() != 0)
                tap_skip_all("needs root (core_pattern, the proc connector's CAP_NET_ADMIN)");
        {
                /* One mode per line: "file\npipe\nsocket\n" (6.16+). */
                _cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/core_modes", "re");
                char modes[256] = "";

                if (!f || fread(modes, 1, sizeof(modes) - 1, f) == 0 || !strstr(modes, "socket"))
                        tap_skip_all("kernel without socket coredumps (no \"socket\" in kernel.core_modes)");
        }

        /* Tests that change core_pattern take the lock of tests/lib.sh. */
        _cleanup_close_ int lock = open(TESTS_LOCK, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0 || flock(lock, LOCK_EX) < 0) {
                printf("Bail out! cannot take %s: %s\n", TESTS_LOCK, strerror(errno));
                return EXIT_FAILURE;
        }

        {
                _cleanup_close_ int fd = open(CORE_PATTERN, O_RDONLY | O_CLOEXEC);
                ssize_t n = fd >= 0 ? read(fd, saved_pattern, sizeof(saved_pattern) - 1) : -1;

                if (n <= 0) {
                        printf("Bail out! cannot read %s\n", CORE_PATTERN);
                        return EXIT_FAILURE;
                }
                /* The kernel appends a newline when reading; it is not part of the pattern. */
                if (saved_pattern[n - 1] == '\n')
                        n--;
                saved_pattern[n] = '\0';
                saved_pattern_len = (size_t) n;
        }

        if (!mkdtemp(tmpdir)) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return EXIT_FAILURE;
        }
        (void) snprintf(pattern, sizeof(pattern), "%s/core.%%p", tmpdir);

        static const int guarded[] = { SIGINT, SIGTERM, SIGHUP, SIGALRM };
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t block, old;

        sigemptyset(&block);
        for (size_t i = 0; i < ARRAY_SIZE(guarded); i++) {
                sigaddset(&block, guarded[i]);
                (void) sigaction(guarded[i], &sa, NULL);
        }

        pattern_changed = 1;
        int r = write_pattern(pattern);
        if (r < 0) {
                pattern_changed = 0;
                remove_tmpdir();
                printf("Bail out! cannot set core_pattern: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        /* Blocked until worker_pid is known: the handler must see either no worker or this one. */
        (void) sigprocmask(SIG_BLOCK, &block, &old);
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                /* The worker is an ordinary process: default signals, no guard duties. */
                for (size_t i = 0; i < ARRAY_SIZE(guarded); i++)
                        (void) signal(guarded[i], SIG_DFL);
                (void) sigprocmask(SIG_SETMASK, &old, NULL);
                /* exit(), not _exit(): LeakSanitizer checks from an exit handler. */
                exit(worker());
        }
        worker_pid = pid;
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        (void) alarm(WORKER_TIMEOUT_S);
        status = pid > 0 ? reap(pid) : -1;
        (void) alarm(0);

        restore_pattern();
        remove_tmpdir();

        if (got_signal) {
                printf("Bail out! %s\n", got_signal == SIGALRM ? "timeout" : "interrupted by a signal");
                return 128 + got_signal;
        }
        if (status < 0 || !WIFEXITED(status)) {
                printf("Bail out! worker died (status 0x%x)\n", status);
                return EXIT_FAILURE;
        }
        return WEXITSTATUS(status);
}
