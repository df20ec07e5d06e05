/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
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

int netns_connect_wait(int fd, const struct sockaddr_un *addr, socklen_t addrlen, usec_t deadline)
{
        int r;

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
        return io_fd_nonblock(fd, false);
}

int netns_connect_unix(int ns_fd, int type, const struct sockaddr_un *addr, socklen_t addrlen,
                       usec_t deadline)
{
        _cleanup_close_ int fd = -EBADF;
        int r;

        fd = netns_socket(ns_fd, AF_UNIX, type | SOCK_NONBLOCK);
        if (fd < 0)
                return fd;
        r = netns_connect_wait(fd, addr, addrlen, deadline);
        if (r < 0)
                return r;
        return TAKE_FD(fd);
}

int netns_cookie(int sock, uint64_t *ret_cookie)
{
        uint64_t cookie = 0;
        socklen_t len = sizeof(cookie);

        if (getsockopt(sock, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
                return negative_errno();
        if (len != sizeof(cookie))
                return -EPROTO;
        *ret_cookie = cookie;
        return 0;
}

/* PF_KTHREAD in the flags field of /proc/<pid>/stat. */
#define PF_KTHREAD_COMPAT 0x00200000UL

/* Whether /proc/2 is kthreadd: the kernel thread that kernel threads are forked from. */
static bool proc2_is_kthreadd(void)
{
        _cleanup_free_ char *stat = NULL;
        const char *p;
        unsigned long flags;

        if (io_read_file_at(AT_FDCWD, "/proc/2/stat", 4096, &stat, NULL) < 0)
                return false;
        if (strncmp(stat, "2 (kthreadd) ", 13) != 0)
                return false;
        /* After "pid (comm) ": state ppid pgrp session tty_nr tpgid flags. */
        p = stat + 13;
        for (int field = 3; field < 9; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return false;
                p++;
        }
        if (sscanf(p, "%lu", &flags) != 1)
                return false;
        return (flags & PF_KTHREAD_COMPAT) != 0;
}

static int ns_inode_at(const char *path, uint64_t *ret)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return negative_errno();
        *ret = (uint64_t) st.st_ino;
        return 0;
}

int netns_find_initial(uint64_t *ret_ino, const char **ret_how)
{
        uint64_t self = 0, pidns = 0, ino = 0;

        if (ns_inode_at("/proc/self/ns/net", &self) >= 0 && self == NET_NS_INIT_INO_COMPAT) {
                *ret_ino = self;
                *ret_how = "own namespace (initial inode number)";
                return 0;
        }
        /*
         * A process of the initial pid namespace sees /proc/self only in that
         * namespace's procfs: then /proc/2 and /proc/1 are the host's. Kernel
         * threads run in the initial namespaces; kthreadd is one.
         */
        if (ns_inode_at("/proc/self/ns/pid", &pidns) < 0 || pidns != PID_NS_INIT_INO_COMPAT)
                return -ENOENT;
        if (ns_inode_at("/proc/2/ns/net", &ino) >= 0 && proc2_is_kthreadd()) {
                *ret_ino = ino;
                *ret_how = "kthreadd";
                return 0;
        }
        if (ns_inode_at("/proc/1/ns/net", &ino) >= 0) {
                *ret_ino = ino;
                *ret_how = "PID 1";
                return 0;
        }
        return -ENOENT;
}

int mntns_open_initial(int *ret_fd, const char **ret_how)
{
        static const struct {
                const char *path, *how;
        } candidates[] = {
                { "/proc/2/ns/mnt", "kthreadd" },
                { "/proc/1/ns/mnt", "PID 1" },
        };
        uint64_t self = 0, pidns = 0;
        struct stat st;
        int r = -ENOENT;

        if (ns_inode_at("/proc/self/ns/mnt", &self) < 0)
                return -ENOENT;
        if (self == MNT_NS_INIT_INO_COMPAT) {
                *ret_fd = -EBADF;
                return 0;
        }
        /* Only the initial pid namespace's /proc shows the host's kthreadd and PID 1. */
        if (ns_inode_at("/proc/self/ns/pid", &pidns) < 0 || pidns != PID_NS_INIT_INO_COMPAT)
                return -ENOENT;
        for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
                if (i == 0 && !proc2_is_kthreadd())
                        continue;
                _cleanup_close_ int fd = open(candidates[i].path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        /* PID 1 often refuses even root (EACCES): remember why, try the next. */
                        r = negative_errno();
                        continue;
                }
                if (fstat(fd, &st) < 0)
                        return negative_errno();
                if ((uint64_t) st.st_ino == self) {
                        *ret_fd = -EBADF;
                        return 0;
                }
                *ret_fd = TAKE_FD(fd);
                *ret_how = candidates[i].how;
                return 1;
        }
        return r;
}

int netns_inode(int ns_fd, uint64_t *ret_ino)
{
        struct stat st;

        if (fstat(ns_fd, &st) < 0)
                return negative_errno();
        *ret_ino = (uint64_t) st.st_ino;
        return 0;
}
