/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/netns.h"
#include "kernel/unix-listen.h"

int unix_bind(const char *address, int type, mode_t mode)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        struct stat st;
        int r;

        r = netns_sockaddr_un(address, &sa, &len);
        if (r < 0)
                return r;
        if (address[0] == '/' && lstat(address, &st) >= 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                (void) unlink(address);
        }
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        mode_t old = umask(~mode & 0777);
        r = bind(fd, (struct sockaddr *) &sa, len);
        umask(old);
        if (r < 0)
                return negative_errno();
        return TAKE_FD(fd);
}

int unix_listen(const char *address, int type, int backlog, mode_t mode)
{
        _cleanup_close_ int fd = unix_bind(address, type, mode);

        if (fd < 0)
                return fd;
        if (listen(fd, backlog) < 0)
                return negative_errno();
        return TAKE_FD(fd);
}
