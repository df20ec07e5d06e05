/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "proxy/base/sandbox.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(scmp_filter_ctx, seccomp_release)

/*
 * The kernel reads int arguments (socket domains and protocols, ioctl
 * requests, clone flags, namespace types, pids) from the low 32 bits only:
 * rules compare those bits, so an allowed value matches however the caller
 * widened it, and garbage above them cannot change what the kernel sees.
 */
#define LOW32 UINT64_C(0xffffffff)

/* open_by_handle_at() flags that could write, create, or open something other than a directory. */
#define HANDLE_OPEN_FLAGS (O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_DIRECTORY)

/* clone() flags that would put a new task into new namespaces. */
#define CLONE_NAMESPACES                                                                           \
        ((uint64_t) (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
                     CLONE_NEWPID | CLONE_NEWNET))

/*
 * The allowlists are built from groups of syscall names, resolved when the
 * filter is built: names a given architecture lacks (open, mkdir and the
 * other pre-*at calls on arm64) are skipped, their *at forms are listed too.
 */

/* Memory: malloc (brk, mmap, mremap for large reallocs), thread stacks and their guard pages. */
static const char *const group_memory[] = {
        "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
};

/*
 * Threads and futexes: pthread mutexes and condition variables; a new
 * thread registers its robust list and rseq area, and exits alone. clone
 * and clone3 have rules of their own (add_common()).
 */
static const char *const group_threads[] = {
        "futex", "set_robust_list", "rseq", "gettid", "getpid", "exit",
};

/*
 * Time: deadlines and timestamps when the vDSO cannot answer, and the short
 * sleeps (usleep) of a partial kernel request or a full collector backlog.
 */
static const char *const group_time[] = {
        "clock_gettime", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
};

/*
 * Signals: workers start with every signal blocked; abort() and the
 * keeper's fatal-signal handler (proxy/daemon/pattern.c) reset the action
 * and re-raise; a handler that returns does so through rt_sigreturn; a
 * sleep interrupted by a stop signal restarts. tgkill has a rule of its own.
 */
static const char *const group_signals[] = {
        "rt_sigaction",
        "rt_sigprocmask",
        "rt_sigreturn",
        "restart_syscall",
};

/* Process exit. */
static const char *const group_exit[] = {
        "exit_group",
};

/*
 * Files of the dump store: temporary files created, locked, preallocated,
 * written, truncated, synced and renamed into place (RENAME_NOREPLACE, or
 * renameat where a filesystem lacks it), the directory synced after; whose
 * dump it is kept in an extended attribute; rotation rescans the directory
 * and unlinks; quotas ask statfs. Also the log, the event log, and /proc
 * files of the crashing task read through its directory fd; glibc reads
 * /etc/localtime once (lseek).
 */
static const char *const group_files[] = {
        "openat",    "close",      "read",       "pread64",   "write",     "pwritev2",
        "lseek",     "fstat",      "newfstatat", "fstatfs",   "flock",     "fchmod",
        "ftruncate", "fallocate",  "fsync",      "fdatasync", "renameat",  "renameat2",
        "unlinkat",  "getdents64", "fcntl",      "fsetxattr", "fgetxattr",
};

/* Splice: the dump goes from the socket through a pipe (grown with F_SETPIPE_SZ) into the file. */
static const char *const group_splice[] = {
        "pipe2",
        "splice",
};

/*
 * Sockets both programs serve: accepting, messages with SCM_RIGHTS
 * (recvmsg, sendmsg), peeking at a stream (recv), waiting with deadlines.
 */
static const char *const group_sockets[] = {
        "accept4", "recvmsg", "sendmsg", "recvfrom", "poll", "ppoll",
};

/* Dump ids, and json-c's hash seed. */
static const char *const group_random[] = {
        "getrandom",
};

/*
 * The proxy's files beyond the store: SIGHUP reloads the config (whether
 * the file exists; json-c; glibc's qsort of a large array asks sysinfo for
 * the memory size); a cgroup's path is read back from /proc/self/fd/N;
 * SIGTERM unlinks the socket and the control socket. Not mkdir or getcwd
 * (realpath) any more: a reload keeps the store and the event log it
 * started with (proxy/daemon/reload.c), and core_pattern and the saved
 * pattern are the keeper's.
 */
static const char *const group_proxy_files[] = {
        "access", "faccessat", "readlink", "unlink", "sysinfo",
};

/*
 * The event loop: the kernel socket, signals, the control socket and the
 * proc connector; a reload's result fd is added while it runs. The workers
 * that accept from the kernel socket.
 */
static const char *const group_proxy_loop[] = {
        "epoll_wait",
        "epoll_pwait",
        "epoll_ctl",
        /* Each worker waits for the listener and its pool's eventfd in an epoll of its own. */
        "epoll_create1",
};

/*
 * The proxy's own use of sockets: the kernel connection (ack with send,
 * SO_PEERPIDFD, shutdown), connections to collectors and control clients
 * (SO_PEERCRED), and netlink through libnl (an automatic port bound and
 * read back, buffer sizes). socket() has a rule of its own.
 */
static const char *const group_proxy_sockets[] = {
        "sendto", "shutdown", "getsockopt", "setsockopt", "connect", "bind", "getsockname",
};

/*
 * pidfds and namespaces: a cgroup id to its path (open_by_handle_at on
 * cgroup2, readlink of /proc/self/fd/N) and the ids of the directories on
 * that path (name_to_handle_at), a path address resolved inside the
 * container (openat2 RESOLVE_IN_ROOT), and a pidfd for a crash the proc
 * connector announces (lost-dump accounting asks whether the task was
 * dumpable). ioctl, setns and open_by_handle_at have rules of their own.
 * Not readlinkat: the task's exe link is ptrace-checked, which Landlock
 * fails, so the keeper reads it (proxy/base/procaccess.c).
 */
static const char *const group_proxy_pidfd[] = {
        "name_to_handle_at",
        "openat2",
        "pidfd_open",
};

/*
 * The pipe intake: a forward's fallback looks at the head of a core pipe
 * without consuming it (tee into a pipe of our own). pidfd_send_signal has
 * a rule of its own.
 */
static const char *const group_proxy_pipe[] = {
        "tee",
};

/*
 * The keeper: reads one byte per request from the daemon and answers;
 * reads and writes core_pattern, writes, reads back and unlinks the saved
 * pattern (lstat of the socket path's components first; the saved one
 * must be ours: geteuid); waits for the daemon on a signalfd; answers the
 * daemon's ptrace-checked questions about a task (proxy/base/procaccess.c:
 * fstatfs checks the fd it is given, readlinkat reads exe); and for the
 * pipe intake's pattern finds its helper (readlink of /proc/self/exe, stat
 * of the candidates), reads kernel.core_modes and writes
 * kernel.core_pipe_limit; lists a task's fd table (getdents64: its
 * sockets, before 6.5). kill, pidfd_send_signal and ioctl have rules of
 * their own.
 */
static const char *const group_keeper[] = {
        "read",       "write",   "openat",   "close",      "fstat",  "newfstatat", "fstatfs",
        "readlinkat", "lseek",   "fcntl",    "ftruncate",  "fchmod", "unlink",     "unlinkat",
        "poll",       "ppoll",   "recvfrom", "recvmsg",    "sendto", "sendmsg",    "wait4",
        "waitid",     "geteuid", "readlink", "getdents64",
};

/* The collector unlinks its path socket on the way out, and reaps its upload runner (--exec). */
static const char *const group_collector_files[] = {
        "unlink",
        "wait4",
};

#ifdef CDP_SANITIZERS
/*
 * ASan, LSan and UBSan make raw syscalls of their own, the pre-*at ones on
 * x86_64: every new thread gets an alternate signal stack, and its stack
 * bounds from pthread_getattr_np (which asks the CPU affinity); reports
 * read /proc/self/exe. LeakSanitizer's exit-time check makes the process
 * dumpable and names its tracer (prctl), and the tracer (a task of its own,
 * see the clone rule) lists /proc/<pid>/task, ptraces and waits for every
 * thread and spins with sched_yield.
 */
static const char *const group_sanitizers[] = {
        "sigaltstack", "sched_getaffinity", "readlink", "prctl", "open",
        "getdents",    "getppid",           "ptrace",   "wait4", "sched_yield",
};
#endif

/* ioctl requests the proxy makes. */
static const unsigned long proxy_ioctls[] = {
        /* The task's identity, credentials, cgroup and coredump mask: each struct size we may pass. */
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER0_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER1_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER2_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER3_COMPAT),
        /* The crashing task's network namespace, where its collector listens. */
        PIDFD_GET_NET_NAMESPACE,
        /* Bytes still queued in a forwarded dump's stream: whether its collector reads (proxy/act/watch.c).
         */
        FIONREAD,
        /* stdio asks whether stdout is a terminal before its first buffered write. */
        TCGETS,
};

static const unsigned long collector_ioctls[] = {
        /* Whether the task behind a dump fd is being dumped (proxy/collector/auth.c): each size we pass. */
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER0_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER1_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER2_COMPAT),
        PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER3_COMPAT),
        TCGETS,
};

/*
 * What the collector asks of its sockets (getsockopt at SOL_SOCKET, nothing
 * else): who connected, and where a dump fd comes from (its type, its
 * network namespace, its peer's credentials and pidfd).
 */
static const int collector_sockopts[] = {
        SO_PEERCRED, SO_PEERPIDFD, SO_NETNS_COOKIE, SO_DOMAIN, SO_TYPE,
};

static const unsigned long keeper_ioctls[] = {
        /* A crashing task's network namespace, for the daemon. */
        PIDFD_GET_NET_NAMESPACE,
        TCGETS,
};

static int allow_names(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int nr = seccomp_syscall_resolve_name(names[i]);
                int r;

                /* A misspelt name is our bug; a pseudo number, a syscall this architecture lacks. */
                if (nr == __NR_SCMP_ERROR)
                        return -EINVAL;
                if (nr < 0)
                        continue;
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define ALLOW_GROUP(ctx, group) allow_names((ctx), (group), ARRAY_SIZE(group))

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *requests, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                         SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) requests[i] & LOW32));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* What every program needs: memory, threads only as threads, time, signals only to ourselves, exit. */
static int add_base(scmp_filter_ctx ctx)
{
        int r;

        r = ALLOW_GROUP(ctx, group_memory);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_threads);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_time);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_signals);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_exit);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_random);
        if (r < 0)
                return r;

        /*
         * clone3 passes its flags in memory, where seccomp cannot look:
         * ENOSYS makes glibc's pthread_create fall back to clone, whose
         * flags the rule below checks.
         */
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
        if (r < 0)
                return r;
#ifdef CDP_SANITIZERS
        /* LeakSanitizer's tracer is a task of its own (CLONE_VM without CLONE_THREAD); still no namespaces.
         */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NAMESPACES, 0));
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_sanitizers);
#else
        /* Threads only: no new process (fork), no task in new namespaces. */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD | CLONE_NAMESPACES, CLONE_THREAD));
#endif
        if (r < 0)
                return r;

        /* raise() and abort() signal a thread of our own process; nobody else is signalled. */
        return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
                                SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) getpid() & LOW32));
}

/* What both serving programs need besides: their files, the splice copier, sockets they accept on. */
static int add_common(scmp_filter_ctx ctx)
{
        int r;

        r = add_base(ctx);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_files);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_splice);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_sockets);
        return r;
}

static int new_filter_empty(scmp_filter_ctx *ret)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
        if (!ctx)
                return -ENOMEM;
        /* The kernel's errno on failure, not libseccomp's catch-all -ECANCELED. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (r < 0)
                return r;
        /*
         * Every thread, those started before the filter included; threads
         * started later inherit it. NO_NEW_PRIVS stays on (libseccomp's
         * default): nothing we run may gain privileges through exec.
         */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int new_filter(scmp_filter_ctx *ret)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        r = new_filter_empty(&ctx);
        if (r < 0)
                return r;
        r = add_common(ctx);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ctx);
        return 0;
}

static int load(scmp_filter_ctx ctx)
{
        int r = seccomp_load(ctx);

        /* With TSYNC, a positive value is a thread that could not take the filter. */
        return r > 0 ? -EBUSY : r;
}

int sandbox_apply_proxy(void)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        static const int netlink_protocols[] = { NETLINK_CONNECTOR, NETLINK_SOCK_DIAG };
        int r;

        r = new_filter(&ctx);
        if (r < 0)
                return r;
        r = ALLOW_GROUP(ctx, group_proxy_files);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_proxy_loop);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_proxy_sockets);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_proxy_pidfd);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_proxy_pipe);
        if (r >= 0)
                r = allow_ioctls(ctx, proxy_ioctls, ARRAY_SIZE(proxy_ioctls));
        if (r < 0)
                return r;

        /*
         * socket(): AF_UNIX for collectors; netlink only for the proc
         * connector and sock_diag (UNIX_DIAG). No IP or packet sockets, no
         * other netlink family (routing, audit, uevents, ...).
         */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) AF_UNIX));
        if (r < 0)
                return r;
        for (size_t i = 0; i < ARRAY_SIZE(netlink_protocols); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) AF_NETLINK),
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) netlink_protocols[i]));
                if (r < 0)
                        return r;
        }

        /*
         * pidfd_send_signal() with signal 0 only asks whether a task is still
         * there (before 6.13, where PIDFD_GET_INFO cannot); SIGKILL ends a
         * pipe dump the kernel would otherwise hold for a reader that
         * stopped (a pipe has no shutdown). No other signal, to anyone.
         */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pidfd_send_signal), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, 0));
        if (r >= 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pidfd_send_signal), 1,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) SIGKILL));
        if (r < 0)
                return r;

        /*
         * setns() only into a network namespace (a container's, where its
         * collector listens) and back; never a mount, user or pid namespace
         * (trust rule 6), nor nstype 0, which takes whatever the fd is.
         */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setns), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) CLONE_NEWNET));
        if (r < 0)
                return r;

        /*
         * open_by_handle_at() (a cgroup id to its path) only opens a
         * directory, read-only: with CAP_DAC_READ_SEARCH it could otherwise
         * open any file by handle, past every path check.
         */
        r = seccomp_rule_add(
                ctx, SCMP_ACT_ALLOW, SCMP_SYS(open_by_handle_at), 1,
                SCMP_A2(SCMP_CMP_MASKED_EQ, (uint64_t) HANDLE_OPEN_FLAGS, (uint64_t) O_DIRECTORY));
        if (r < 0)
                return r;

        return load(ctx);
}

int sandbox_apply_keeper(pid_t daemon)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGKILL };
        int r;

        r = new_filter_empty(&ctx);
        if (r >= 0)
                r = add_base(ctx);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_keeper);
        if (r >= 0)
                r = allow_ioctls(ctx, keeper_ioctls, ARRAY_SIZE(keeper_ioctls));
        if (r < 0)
                return r;
        /* kill(): the signals it forwards, and SIGKILL when it must give up, to the daemon only. */
        for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++) {
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(kill), 2,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) daemon & LOW32),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) forwarded[i]));
                if (r < 0)
                        return r;
        }
        /* Signal 0 only: whether a task is still there (/proc fallbacks before 6.13). */
        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(pidfd_send_signal), 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, 0));
        if (r < 0)
                return r;
        return load(ctx);
}

int sandbox_apply_collector(void)
{
        _cleanup_(seccomp_releasep) scmp_filter_ctx ctx = NULL;
        int r;

        /*
         * No socket, connect, setns, netlink, file handles or pidfd_open: it
         * only accepts on its own socket and asks what it was given.
         */
        r = new_filter(&ctx);
        if (r >= 0)
                r = ALLOW_GROUP(ctx, group_collector_files);
        if (r >= 0)
                r = allow_ioctls(ctx, collector_ioctls, ARRAY_SIZE(collector_ioctls));
        for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(collector_sockopts); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(getsockopt), 2,
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) SOL_SOCKET),
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, (uint64_t) collector_sockopts[i]));
        if (r < 0)
                return r;
        return load(ctx);
}
