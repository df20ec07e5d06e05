/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/netns.h"

/*
 * Each thread's way back to its own network namespace, opened on first use
 * and kept: workers enter a container's namespace for every forwarded dump.
 */
static __thread int thread_netns = -EBADF;

int netns_socket(int ns_fd, int domain, int type)
{
        _cleanup_close_ int fd = -EBADF;
        int self, r = 0;

        if (thread_netns < 0) {
                thread_netns = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
                if (thread_netns < 0)
                        return negative_errno();
        }
        self = thread_netns;

        if (setns(ns_fd, CLONE_NEWNET) < 0)
                return negative_errno();

        fd = socket(domain, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                r = negative_errno();

        /*
         * A thread left in a container's namespace would create the next
         * socket there: if switching back fails, nothing this process does
         * afterwards can be trusted.
         */
        if (setns(self, CLONE_NEWNET) < 0)
                abort();

        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int netns_sockaddr_un(const char *address, struct sockaddr_un *ret, socklen_t *ret_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len;

        if (!address || !address[0])
                return -EINVAL;
        len = strlen(address);
        if (address[0] == '@') {
                /* Abstract: a leading NUL, then the name without terminator. */
                if (len < 2 || len > sizeof(sa.sun_path))
                        return -EINVAL;
                sa.sun_path[0] = 0;
                memcpy(sa.sun_path + 1, address + 1, len - 1);
                *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len);
        } else if (address[0] == '/') {
                if (len >= sizeof(sa.sun_path))
                        return -ENAMETOOLONG;
                memcpy(sa.sun_path, address, len + 1);
                *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len + 1);
        } else {
                return -EINVAL;
        }
        *ret = sa;
        return 0;
}

int netns_connect_unix(int ns_fd, int type, const struct sockaddr_un *addr, socklen_t addrlen,
                       usec_t deadline)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = netns_socket(ns_fd, AF_UNIX, type | SOCK_NONBLOCK);
        if (fd < 0)
                return fd;

        if (connect(fd, (const struct sockaddr *) addr, addrlen) < 0) {
                if (errno != EINPROGRESS && errno != EAGAIN)
                        return negative_errno();
                /* AF_UNIX: EAGAIN means the listener's backlog is full; wait for room. */
                for (;;) {
                        r = io_wait(fd, POLLOUT, deadline);
                        if (r < 0)
                                return r;
                        if (connect(fd, (const struct sockaddr *) addr, addrlen) >= 0 || errno == EISCONN)
                                break;
                        if (errno != EAGAIN && errno != EINPROGRESS && errno != EALREADY)
                                return negative_errno();
                        if (io_now() >= deadline)
                                return -ETIMEDOUT;
                        (void) usleep(1000);
                }
        }

        r = io_fd_nonblock(fd, false);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int netns_inode(int ns_fd, uint64_t *ret_ino)
{
        struct stat st;

        if (fstat(ns_fd, &st) < 0)
                return negative_errno();
        *ret_ino = (uint64_t) st.st_ino;
        return 0;
}
