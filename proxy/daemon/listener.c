/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>

#include "kernel/activation.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"
#include "kernel/unix-listen.h"
#include "proxy/base/log.h"
#include "proxy/daemon/state.h"

/*
 * The kernel connects with O_NONBLOCK and drops the dump when the accept
 * queue is full, silently for the task: ask for a deep queue (the kernel
 * caps it at net.core.somaxconn).
 */
#define LISTEN_BACKLOG 4096

/* One daemon per socket: a second one would unlink the first one's socket. */
static int take_lock(const char *path, int *ret_fd)
{
        _cleanup_free_ char *lock_path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (asprintf(&lock_path, "%s.lock", path) < 0)
                return log_oom();
        /* O_NOFOLLOW: a symlink at the lock's name must not make root create or lock another file. */
        fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0)
                return log_error_errno(errno, "cannot open %s", lock_path);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return log_error_errno(errno == EWOULDBLOCK ? EBUSY : errno,
                                       "another coredump-proxy is serving %s", path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static const char *activation_error(int r)
{
        switch (r) {
        case -E2BIG:
                return "LISTEN_FDS passes more than one socket; coredump-proxy takes exactly one";
        case -EINVAL:
                return "LISTEN_PID or LISTEN_FDS does not parse";
        case -EBADF:
                return "LISTEN_FDS passes fd 3, which is not open";
        case -ENOTSOCK:
                return "the passed fd is not a socket";
        case -EAFNOSUPPORT:
                return "the passed socket is not AF_UNIX";
        case -EPROTOTYPE:
                return "the passed socket is not SOCK_STREAM (ListenStream=)";
        case -ENOTCONN:
                return "the passed socket is not listening";
        case -EADDRNOTAVAIL:
                return "the passed socket is not bound to listen.path";
        default:
                return "the passed socket cannot be used";
        }
}

int listener_take_activated(const char *path, int *ret_fd)
{
        _cleanup_free_ char *bound = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        r = activation_take(&fd);
        if (r == 0)
                return 0;
        if (r > 0)
                r = activation_check(fd, path, &bound);
        if (r < 0)
                return log_error_errno(r, "socket activation: %s (%s; listen.path is %s)",
                                       activation_error(r), bound ? bound : "not bound to a path", path);
        *ret_fd = TAKE_FD(fd);
        return 1;
}

/*
 * A socket the service manager holds: its backlog outlives us, so we
 * neither create nor remove it. The lock still keeps a second daemon off it.
 */
static int adopt(struct daemon *m, const char *path)
{
        _cleanup_close_ int lock = -EBADF;
        int r;

        r = take_lock(path, &lock);
        if (r < 0)
                return r;
        m->socket_path = strdup(path);
        if (!m->socket_path)
                return log_oom();
        m->lock_fd = TAKE_FD(lock);
        log_info("socket-activated: serving the passed socket %s (fd %d); its backlog outlives us", path,
                 m->listen_fd);
        return 0;
}

int listener_open(struct daemon *m, const char *path)
{
        _cleanup_close_ int lock = -EBADF;
        unsigned somaxconn;
        int fd, r;

        if (m->activated)
                return adopt(m, path);
        r = io_mkdir_parents(path);
        if (r < 0)
                return log_error_errno(r, "cannot create the directory of %s", path);
        r = core_pattern_check_no_symlinks(path);
        if (r < 0)
                return log_error_errno(r, "%s: the kernel resolves the socket path without symlinks", path);
        r = take_lock(path, &lock);
        if (r < 0)
                return r;

        /* Root only: the kernel ignores the mode, but any other process that connects is a spoofer. */
        fd = unix_listen(path, SOCK_STREAM, LISTEN_BACKLOG, 0600);
        if (fd == -EEXIST)
                return log_error_errno(EEXIST, "%s exists and is not a socket; not removing it", path);
        if (fd < 0)
                return log_error_errno(fd, "cannot listen on %s", path);

        if (core_pattern_read_sysctl_uint("/proc/sys/net/core/somaxconn", &somaxconn) >= 0 &&
            somaxconn < 1024)
                log_warning("net.core.somaxconn is %u: a burst of more crashes than that loses dumps",
                            somaxconn);

        m->socket_path = strdup(path);
        if (!m->socket_path) {
                safe_close(fd);
                return log_oom();
        }
        m->lock_fd = TAKE_FD(lock);
        m->listen_fd = fd;
        return 0;
}
