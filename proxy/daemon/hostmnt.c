/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "proxy/base/caps.h"
#include "proxy/base/fault.h"
#include "proxy/base/log.h"
#include "proxy/daemon/hostmnt.h"
#include "proxy/daemon/mode.h"

/*
 * Requests, keeper to writer: one byte naming the sysctl, then the value; or
 * CHECK_HELPER and a path that is only stat()ed. Nothing is ever written to a
 * path the keeper sends.
 */
#define WRITE_PATTERN    'P'
#define WRITE_PIPE_LIMIT 'L'
#define CHECK_HELPER     'H'
#define WRITER_TIMEOUT   (5 * USEC_PER_SEC)

static int writer_link = -EBADF;

/*
 * hostmnt_start() found us outside the host's mount namespace and the writer could not
 * start: nothing here shows the host's files. (Never asked, as in the CLI: our view is taken.)
 */
static bool host_unseen;
static pid_t writer_pid = -1;

static int send_status(int link, int32_t r)
{
        return send(link, &r, sizeof(r), MSG_NOSIGNAL) == (ssize_t) sizeof(r) ? 0 : negative_errno();
}

/* The writer: in the host's mount namespace, without capabilities, until the keeper hangs up. */
static _noreturn_ void writer_main(int mnt_fd, int link, pid_t keeper)
{
        char buf[1 + CORE_PATTERN_MAX + 2];
        int r;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != keeper)
                _exit(EXIT_FAILURE);
        /* Needs CAP_SYS_ADMIN and CAP_SYS_CHROOT, still ours here; nothing after it does. */
        r = fault_hit("hostmnt-setns") ? -EPERM : (setns(mnt_fd, CLONE_NEWNS) < 0 ? negative_errno() : 0);
        if (r >= 0)
                r = caps_reduce_all();
        if (r >= 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = negative_errno();
        (void) send_status(link, r);
        if (r < 0)
                _exit(EXIT_FAILURE);
        /* Nothing of the keeper's: not its link to the daemon, not the namespace. */
        if (link != 3 && dup3(link, 3, O_CLOEXEC) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(4, ~0U, 0);

        for (;;) {
                ssize_t n = recv(3, buf, sizeof(buf) - 1, 0);
                const char *path;

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(EXIT_SUCCESS);
                buf[n] = 0;
                path = buf[0] == WRITE_PATTERN      ? CORE_PATTERN_SYSCTL
                       : buf[0] == WRITE_PIPE_LIMIT ? CORE_PIPE_LIMIT_SYSCTL
                                                    : NULL;
                if (strlen(buf + 1) != (size_t) n - 1)
                        r = -EBADMSG;
                else if (buf[0] == CHECK_HELPER)
                        r = mode_helper_check(buf + 1);
                else
                        r = path ? io_write_string_file(path, buf + 1) : -EBADMSG;
                if (send_status(3, r) < 0)
                        _exit(EXIT_FAILURE);
        }
}

static int read_status(int link)
{
        int32_t status;
        ssize_t n;
        int r;

        r = io_wait(link, POLLIN, io_now() + WRITER_TIMEOUT);
        if (r < 0)
                return r;
        n = recv(link, &status, sizeof(status), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
                return negative_errno();
        if (n != (ssize_t) sizeof(status) || status > 0)
                return -EPROTO;
        return status;
}

static int ask_writer(char request, const char *value)
{
        char buf[1 + CORE_PATTERN_MAX + 2];
        size_t len = strlen(value);

        /* The kernel keeps at most CORE_PATTERN_MAX - 1 bytes: longer is refused, never cut. */
        if (len > CORE_PATTERN_MAX)
                return -ENAMETOOLONG;
        buf[0] = request;
        memcpy(buf + 1, value, len);
        if (send(writer_link, buf, 1 + len, MSG_NOSIGNAL) != (ssize_t) (1 + len))
                return negative_errno();
        return read_status(writer_link);
}

static int write_from_host(const char *sysctl_path, const char *value)
{
        if (strcmp(sysctl_path, CORE_PATTERN_SYSCTL) == 0)
                return ask_writer(WRITE_PATTERN, value);
        if (strcmp(sysctl_path, CORE_PIPE_LIMIT_SYSCTL) == 0)
                return ask_writer(WRITE_PIPE_LIMIT, value);
        return -EPERM;
}

int hostmnt_check_helper(const char *path)
{
        /* A helper path that does not fit in core_pattern fails there anyway. */
        if (writer_link >= 0)
                return ask_writer(CHECK_HELPER, path);
        /* Our own view is not the kernel's: a file only the pod sees would pass. Refused, not guessed. */
        if (host_unseen)
                return -EXDEV;
        return mode_helper_check(path);
}

int hostmnt_start(void)
{
        _cleanup_close_ int mnt_fd = -EBADF;
        const char *how = NULL;
        int sv[2], r;
        pid_t keeper = getpid();

        host_unseen = true;
        r = mntns_open_initial(&mnt_fd, &how);
        if (r == 0) {
                host_unseen = false;
                return 0;
        }
        if (r < 0) {
                log_warning_errno(
                        r, "coredump-proxy runs outside the host's mount namespace (or cannot tell) "
                           "and cannot reach it: the kernel refuses a socket core_pattern written from "
                           "here (EINVAL). In a pod: hostPID: true, the socket directory as a hostPath "
                           "at the same path, and CAP_SYS_ADMIN and CAP_SYS_CHROOT");
                return r;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(errno, "socketpair");
        writer_pid = fork();
        if (writer_pid < 0) {
                close_many(sv, 2);
                return log_error_errno(errno, "fork");
        }
        if (writer_pid == 0) {
                safe_close(sv[0]);
                writer_main(mnt_fd, sv[1], keeper);
        }
        safe_close(sv[1]);
        writer_link = sv[0];
        r = read_status(writer_link);
        if (r < 0) {
                hostmnt_stop();
                log_warning_errno(r,
                                  "coredump-proxy runs outside the host's mount namespace and cannot enter "
                                  "it (through %s's; CAP_SYS_ADMIN and CAP_SYS_CHROOT are needed): the "
                                  "kernel refuses a socket core_pattern written from here (EINVAL)",
                                  how);
                return r;
        }
        core_pattern_set_writer(write_from_host);
        host_unseen = false;
        log_info("outside the host's mount namespace: core_pattern is written from the host's (entered "
                 "through %s's) by a process that does nothing else",
                 how);
        return 0;
}

void hostmnt_stop(void)
{
        core_pattern_set_writer(NULL);
        writer_link = safe_close(writer_link);
        if (writer_pid > 0)
                (void) waitpid(writer_pid, NULL, 0);
        writer_pid = -1;
}
