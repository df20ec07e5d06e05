/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"

int pidfd_from_peer(int sockfd)
{
        int pidfd = -EBADF;
        socklen_t len = sizeof(pidfd);

        if (getsockopt(sockfd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
                return negative_errno();
        if (len != sizeof(pidfd) || pidfd < 0)
                return -EPROTO;
        return pidfd;
}

static unsigned forced;

void pidfd_compat_force(unsigned features)
{
        __atomic_store_n(&forced, features, __ATOMIC_RELAXED);
}

static bool compat(unsigned feature)
{
        return __atomic_load_n(&forced, __ATOMIC_RELAXED) & feature;
}

int pidfd_from_listener(int sockfd, const char *name)
{
        int r = compat(PIDFD_COMPAT_PEERPIDFD) ? -ENOPROTOOPT : pidfd_from_peer(sockfd);

        /* Before 6.5 the kernel knows no SO_PEERPIDFD. */
        return r == -ENOPROTOOPT ? pidfd_proc_from_listener(sockfd, name) : r;
}

/*
 * Set once the kernel refused PIDFD_GET_INFO in every size (before 6.13):
 * from then on /proc answers without asking the kernel again.
 */
static bool no_get_info;

static bool ioctl_absent(int r)
{
        /* 6.1 and older: no pidfd ioctls (ENOTTY); 6.11/6.12 refuse a non-zero argument first (EINVAL). */
        return r == -ENOTTY || r == -EINVAL;
}

int pidfd_get_info(int pidfd, uint64_t mask, struct cdp_pidfd_info *ret)
{
        static const size_t sizes[] = {
                PIDFD_INFO_SIZE_VER3_COMPAT,
                PIDFD_INFO_SIZE_VER1_COMPAT,
                PIDFD_INFO_SIZE_VER0_COMPAT,
        };
        struct cdp_pidfd_info info;
        int r = -ENOTTY;

        /*
         * Larger sizes are zero-filled by every kernel since 6.13; the smaller
         * retries only matter if a kernel ever refuses a size it does not know.
         */
        if (compat(PIDFD_COMPAT_GET_INFO))
                __atomic_store_n(&no_get_info, true, __ATOMIC_RELAXED);
        for (size_t i = 0; i < ARRAY_SIZE(sizes) && !__atomic_load_n(&no_get_info, __ATOMIC_RELAXED); i++) {
                memset(&info, 0, sizeof(info));
                info.mask = mask;
                if (ioctl(pidfd, PIDFD_GET_INFO_SIZED(sizes[i]), &info) >= 0) {
                        r = 0;
                        break;
                }
                r = negative_errno();
                if (!ioctl_absent(r))
                        return r;
        }
        if (r < 0 && ioctl_absent(r) && pidfd >= 0) {
                /* Only a pidfd makes an absent ioctl mean an older kernel, not a wrong fd. */
                pid_t pid;
                if (pidfd_proc_pid(pidfd, &pid) == -EBADF)
                        return -EBADF;
                __atomic_store_n(&no_get_info, true, __ATOMIC_RELAXED);
                r = pidfd_proc_info(pidfd, mask, &info);
        }
        if (r < 0)
                return r;

        /*
         * 6.16-6.18 report PIDFD_INFO_COREDUMP even when it was not asked for
         * (and would not fit a 64 byte struct): trust a field only when its bit
         * is in the returned mask, and zero those the kernel did not claim.
         */
        if (!(info.mask & (PIDFD_INFO_PID)))
                info.pid = info.tgid = info.ppid = 0;
        if (!(info.mask & PIDFD_INFO_CGROUPID))
                info.cgroupid = 0;
        if (!(info.mask & PIDFD_INFO_EXIT))
                info.exit_code = 0;
        if (!(info.mask & PIDFD_INFO_COREDUMP))
                info.coredump_mask = 0;
        if (!(info.mask & PIDFD_INFO_COREDUMP_SIGNAL))
                info.coredump_signal = 0;

        /* 6.19/7.0 put supported_mask at offset 72, 7.1 at 80 (after coredump_code/pad). */
        uint64_t at72;
        memcpy(&at72, &info.coredump_code, sizeof(at72));
        if (!(info.mask & PIDFD_INFO_SUPPORTED_MASK))
                info.supported_mask = 0;
        else if (info.supported_mask == 0)
                info.supported_mask = at72;
        if (!(info.mask & PIDFD_INFO_COREDUMP_CODE))
                info.coredump_code = info.coredump_pad = 0;

        *ret = info;
        return 0;
}

int pidfd_get_namespace(int pidfd, unsigned long request)
{
        int fd = compat(PIDFD_COMPAT_NAMESPACES) ? (errno = ENOTTY, -1) : ioctl(pidfd, request, 0);
        if (fd >= 0)
                return fd;
        fd = negative_errno();
        /* Before 6.11: the same through /proc/<pid>/ns, checked against the pidfd. */
        return ioctl_absent(fd) ? pidfd_proc_namespace(pidfd, request) : fd;
}

int pidfd_is_alive(int pidfd)
{
        struct cdp_pidfd_info info = { .mask = PIDFD_INFO_PID };

        /*
         * PIDFD_GET_INFO without PIDFD_INFO_EXIT fails with ESRCH once the
         * task is reaped. Unlike a signal-0 pidfd_send_signal() it checks no
         * permission, so the daemon needs no CAP_KILL for other users' tasks.
         */
        if (__atomic_load_n(&no_get_info, __ATOMIC_RELAXED) || compat(PIDFD_COMPAT_GET_INFO))
                return pidfd_proc_is_alive(pidfd);
        if (ioctl(pidfd, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER0_COMPAT), &info) < 0) {
                if (errno == ESRCH || errno == EREMOTE)
                        return 0;
                /* Before 6.13: signal 0 asks the same, and EPERM still means "there". */
                if (ioctl_absent(negative_errno()))
                        return pidfd_proc_is_alive(pidfd);
                return negative_errno();
        }
        return 1;
}

int pidfd_kill(int pidfd)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
                return errno == ESRCH ? 0 : negative_errno();
        return 0;
}

int pidfd_has_exited(int pidfd)
{
        struct pollfd p = { .fd = pidfd, .events = POLLIN };

        int r = RETRY_EINTR(poll(&p, 1, 0));
        if (r < 0)
                return negative_errno();
        return r > 0 && (p.revents & (POLLIN | POLLHUP)) ? 1 : 0;
}

int pidfd_open_proc_dir(int pidfd, uint32_t pid)
{
        _cleanup_close_ int dirfd = -EBADF;
        char path[32];
        int r;

        if (pid == 0)
                return -ESRCH;
        (void) snprintf(path, sizeof(path), "/proc/%u", pid);
        dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return negative_errno();

        /*
         * The pid cannot have been reused while the pidfd's process is not
         * reaped; a /proc dir fd opened before that check stays bound to it.
         */
        r = pidfd_is_alive(pidfd);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        return TAKE_FD(dirfd);
}
