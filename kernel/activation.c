/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/activation.h"
#include "kernel/cleanup.h"

static int parse_uint(const char *s, unsigned long *ret)
{
        char *end = NULL;
        unsigned long v;

        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || v > INT_MAX)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int take(int *ret_fd)
{
        unsigned long pid = 0, n = 0;
        const char *p = getenv("LISTEN_PID");

        if (!p)
                return 0;
        if (parse_uint(p, &pid) < 0 || parse_uint(getenv("LISTEN_FDS"), &n) < 0)
                return -EINVAL;
        /* Passed to a process before us, which exec'd us without clearing them: not ours. */
        if ((pid_t) pid != getpid())
                return 0;
        if (n == 0)
                return 0;
        if (n > 1)
                return -E2BIG;
        if (fcntl(ACTIVATION_FD_START, F_SETFD, FD_CLOEXEC) < 0)
                return negative_errno();
        *ret_fd = ACTIVATION_FD_START;
        return 1;
}

int activation_take(int *ret_fd)
{
        int r = take(ret_fd);

        (void) unsetenv("LISTEN_PID");
        (void) unsetenv("LISTEN_FDS");
        (void) unsetenv("LISTEN_FDNAMES");
        return r;
}

static int sockopt_int(int fd, int name, int *ret)
{
        socklen_t len = sizeof(*ret);

        if (getsockopt(fd, SOL_SOCKET, name, ret, &len) < 0)
                return negative_errno();
        return len == sizeof(*ret) ? 0 : -EPROTO;
}

/* The path a unix socket is bound to; NULL for an unbound or abstract one. */
static int bound_path(int fd, char **ret)
{
        struct sockaddr_un sa = {};
        socklen_t len = sizeof(sa);
        size_t n;

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return negative_errno();
        *ret = NULL;
        if (len <= offsetof(struct sockaddr_un, sun_path) || sa.sun_path[0] == 0)
                return 0;
        n = strnlen(sa.sun_path,
                    MIN((size_t) len - offsetof(struct sockaddr_un, sun_path), sizeof(sa.sun_path)));
        *ret = strndup(sa.sun_path, n);
        return *ret ? 0 : -ENOMEM;
}

int activation_check(int fd, const char *path, char **bound_found)
{
        _cleanup_free_ char *bound = NULL;
        struct stat st;
        int v, r, flags;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;
        r = sockopt_int(fd, SO_DOMAIN, &v);
        if (r < 0)
                return r;
        if (v != AF_UNIX)
                return -EAFNOSUPPORT;
        r = sockopt_int(fd, SO_TYPE, &v);
        if (r < 0)
                return r;
        if (v != SOCK_STREAM)
                return -EPROTOTYPE;
        r = sockopt_int(fd, SO_ACCEPTCONN, &v);
        if (r < 0)
                return r;
        if (!v)
                return -ENOTCONN;
        r = bound_path(fd, &bound);
        if (r < 0)
                return r;
        if (!bound || strcmp(bound, path) != 0) {
                if (bound_found)
                        *bound_found = TAKE_PTR(bound);
                return -EADDRNOTAVAIL;
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return negative_errno();
        return 0;
}
