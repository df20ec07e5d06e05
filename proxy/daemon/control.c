/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "kernel/unix-listen.h"
#include "proxy/daemon/control.h"
#include "proxy/base/log.h"

/* A status document is small; this only bounds what a client will read. */
#define STATUS_MAX (16U * 1024U * 1024U)

int control_path(const char *listen_path, char **ret)
{
        return asprintf(ret, "%s.control", listen_path) < 0 ? -ENOMEM : 0;
}

int control_listen(const char *path)
{
        /* Root only: the status names crashing processes and their containers. */
        return unix_listen(path, SOCK_STREAM, 16, 0600);
}

void control_serve(int listen_fd, control_build_fn build, void *userdata)
{
        for (;;) {
                _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                _cleanup_free_ char *doc = NULL;
                struct ucred cred;
                socklen_t clen = sizeof(cred);
                size_t len;

                if (fd < 0)
                        return;
                /* The status names crashing processes and their containers: root only. */
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
                        log_warning("control: refusing a client that is not root");
                        continue;
                }
                if (build(userdata, &doc, &len) < 0)
                        continue;
                doc[len] = '\n';
                /* Never block the event loop on a client: what does not fit now is cut. */
                ssize_t k = send(fd, doc, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k >= 0 && (size_t) k < len + 1)
                        log_warning("control: status cut after %zd of %zu bytes", k, len + 1);
        }
}

int control_query(const char *path, char **ret)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_free_ char *buf = NULL;
        struct sockaddr_un sa;
        socklen_t salen;
        size_t len = 0, allocated = 0;
        int r;

        if (fd < 0)
                return negative_errno();
        r = netns_sockaddr_un(path, &sa, &salen);
        if (r < 0)
                return r;
        if (connect(fd, (struct sockaddr *) &sa, salen) < 0)
                return negative_errno();

        for (;;) {
                if (len + 4096 > allocated) {
                        if (allocated >= STATUS_MAX)
                                return -EFBIG;
                        char *n = realloc(buf, allocated = allocated ? allocated * 2 : 65536);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                r = io_wait(fd, POLLIN, io_now() + 10 * USEC_PER_SEC);
                if (r < 0)
                        return r;
                ssize_t k = RETRY_EINTR(read(fd, buf + len, allocated - len - 1));
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        if (!buf)
                return -ENODATA;
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}
