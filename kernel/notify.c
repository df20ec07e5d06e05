/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/notify.h"

static int address(const char *s, struct sockaddr_un *ret, socklen_t *ret_len)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = strlen(s);

        if (n < 2 || (s[0] != '/' && s[0] != '@'))
                return -EINVAL;
        /* A path needs room for its NUL; an abstract name is counted by its length. */
        if (n >= sizeof(sa.sun_path) + (s[0] == '@'))
                return -EINVAL;
        memcpy(sa.sun_path, s, n);
        if (s[0] == '@')
                sa.sun_path[0] = 0;
        *ret = sa;
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (s[0] == '/'));
        return 0;
}

int notify_open(int *ret_fd)
{
        const char *s = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        if (!s || !*s)
                return 0;
        r = address(s, &sa, &len);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, len) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 1;
}

int notify_send(int fd, const char *message)
{
        size_t n = strlen(message);
        ssize_t k;

        if (fd < 0)
                return 0;
        k = send(fd, message, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0)
                return negative_errno();
        return (size_t) k == n ? 0 : -EMSGSIZE;
}
