/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-proxy-pipe LISTEN P=%P s=%s t=%t d=%d [F=%F]
 *
 * Run by the kernel for every crash (core_pattern "|...", installed by
 * `coredump-proxy --install-pattern` in pipe mode), as root, in the initial
 * namespaces, with the core on stdin; never by hand. It hands a pidfd of
 * the crashing task, then the pipe, to the daemon listening beside LISTEN
 * and exits (proxy/protocol/pipe-handoff.h); when the daemon is not there or
 * does not answer in time it keeps the core in the host store itself
 * (keep.c). It never loses a dump, and it trusts nothing that comes from the
 * crashing task: its facts are the kernel's pattern specifiers, its identity
 * a pidfd, its bytes are copied, never parsed.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/fdpass.h"
#include "kernel/netns.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"
#include "proxy/pipe/helper.h"

/* Bounds of the hand-off: the daemon answers from its event loop and a worker, at once when it is well. */
#define SEND_TIMEOUT   (1 * USEC_PER_SEC)
#define ANSWER_TIMEOUT (3 * USEC_PER_SEC)
/* The kernel's 64 KiB pipe, grown: fewer wakeups of the crashing task and of the reader. */
#define PIPE_SIZE (1024 * 1024)

static int kmsg_fd = -EBADF;

void helper_log(int level, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        int n;

        if (kmsg_fd < 0)
                return;
        n = snprintf(buf, sizeof(buf), "<%d>coredump-proxy-pipe[%d]: ", level, (int) getpid());
        va_start(ap, fmt);
        (void) vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);
        va_end(ap);
        ssize_t _unused_ k = write(kmsg_fd, buf, strlen(buf));
}

/*
 * The kernel starts the helper with stdin only: whatever it opens next
 * would become fd 1 or 2, where a stray write would land in the dump
 * store. Both get /dev/null first.
 */
static void std_fds(void)
{
        for (int fd = 1; fd <= 2; fd++)
                if (fcntl(fd, F_GETFD) < 0) {
                        int n = open("/dev/null", O_RDWR);
                        if (n >= 0 && n != fd) {
                                (void) dup2(n, fd);
                                close(n);
                        }
                }
        kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC | O_NOCTTY);
}

/*
 * The crashing task's pidfd: the kernel's own (%F, 6.16+), or one opened
 * from %P now. The task cannot be reaped while the kernel writes its core
 * into our stdin (and, with core_pipe_limit, until the pipe is closed), so
 * the pid is still its own, as long as /proc says it is dumping.
 */
static int task_pidfd(struct pipe_facts *f)
{
        _cleanup_close_ int fd = -EBADF;
        struct cdp_pidfd_info info;
        pid_t pid;

        if (f->kernel_fd >= 0) {
                if (pidfd_proc_pid(f->kernel_fd, &pid) >= 0 && (uint32_t) pid == f->pid) {
                        f->pidfd_source = PIPE_PIDFD_KERNEL;
                        return f->kernel_fd;
                }
                helper_log(4, "F=%d is not a pidfd of pid %u; ignored", f->kernel_fd, f->pid);
        }
        fd = (int) syscall(SYS_pidfd_open, (pid_t) f->pid, 0);
        if (fd < 0)
                return -errno;
        /* A reused pid would not be dumping: then nothing about the task is known for sure. */
        if (pidfd_proc_info(fd, PIDFD_INFO_COREDUMP, &info) < 0 || !(info.coredump_mask & PIDFD_COREDUMPED))
                return -ESRCH;
        f->pidfd_source = PIPE_PIDFD_OPENED;
        return TAKE_FD(fd);
}

static int send_handoff(int sock, const struct pipe_facts *f, int channel, int pidfd)
{
        char buf[PIPE_HANDOFF_MAX];
        int fds[2] = { channel, pidfd };
        usec_t deadline = io_now() + SEND_TIMEOUT;
        size_t len;
        int r;

        r = pipe_handoff_format(f, buf, sizeof(buf), &len);
        if (r < 0)
                return r;
        for (;;) {
                /* A full queue is a busy daemon: wait for room, briefly. */
                r = fdpass_send(sock, buf, len, fds, pidfd >= 0 ? 2 : 1);
                if (r != -EAGAIN)
                        return r;
                r = io_wait(sock, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
}

/* TAKEN within the bound, and our COMMIT with the pipe accepted: the daemon reads it, we must not. */
static int await_taken(int channel)
{
        char answer = 0, commit = PIPE_COMMIT;
        int pipe = STDIN_FILENO, r;

        r = io_wait(channel, POLLIN, io_now() + ANSWER_TIMEOUT);
        /* From here the daemon's answer is final: a TAKEN sent before is read, one sent later fails. */
        (void) shutdown(channel, SHUT_RD);
        if (recv(channel, &answer, 1, MSG_DONTWAIT) != 1 || answer != PIPE_TAKEN)
                return r < 0 ? r : -ECONNRESET;
        /* Fails (EPIPE) when the daemon gave up on us first: then the dump is still ours. */
        return fdpass_send(channel, &commit, 1, &pipe, 1);
}

/* 0 once the daemon took the dump; else why not, for the log. */
static int hand_off(const char *listen, const struct pipe_facts *f, int pidfd)
{
        _cleanup_close_ int sock = -EBADF, mine = -EBADF, theirs = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct sockaddr_un sa;
        socklen_t len;
        int pair[2], r;

        if (asprintf(&path, "%s%s", listen, PIPE_INTAKE_SUFFIX) < 0)
                return -ENOMEM;
        r = netns_sockaddr_un(path, &sa, &len);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        mine = pair[0];
        theirs = pair[1];
        sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (sock < 0)
                return -errno;
        /* Nobody bound there (ENOENT, ECONNREFUSED): no daemon. */
        if (connect(sock, (struct sockaddr *) &sa, len) < 0)
                return -errno;
        r = send_handoff(sock, f, theirs, pidfd);
        if (r < 0)
                return r;
        /* Only the daemon's copy may stay: its end closing is how we hear that it dropped us. */
        theirs = safe_close(theirs);
        return await_taken(mine);
}

int main(int argc, char **argv)
{
        usec_t started = io_now(), started_wall = io_now_realtime();
        struct pipe_facts f = PIPE_FACTS_INIT;
        const char *listen = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        int r;

        /* The kernel keeps pipe helpers from dumping into themselves (RLIMIT_CORE 1); and so do we. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        std_fds();
        /* A hard bound on the whole helper: the crashing task waits for it. */
        (void) alarm(HELPER_HARD_LIMIT_SEC);
        (void) signal(SIGPIPE, SIG_IGN);

        r = pipe_args_parse(argc - 1, argv + 1, &listen, &f);
        if (r < 0) {
                /* Not from our pattern: there is no daemon to ask, but the core is still kept. */
                helper_log(3, "unexpected arguments; keeping the dump in the default store");
                return helper_keep(NULL, &f, -EBADF, "the helper's arguments were not understood", started,
                                   started_wall);
        }
        r = task_pidfd(&f);
        if (r >= 0)
                pidfd = r;
        else
                helper_log(4, "pid %u: no pidfd (%s): its identity cannot be proven", f.pid, strerror(-r));
        (void) fcntl(STDIN_FILENO, F_SETPIPE_SZ, PIPE_SIZE);

        r = hand_off(listen, &f, pidfd);
        if (r >= 0)
                return EXIT_SUCCESS;
        return helper_keep(listen, &f, pidfd, strerror(-r), started, started_wall);
}
