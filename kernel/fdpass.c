/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/fdpass.h"

/* Room for the fds we pass (dump fd and pidfd) and a few more, so excess is seen, not dropped. */
#define FDPASS_MAX 16

int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = (void *) buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds > FDPASS_MAX)
                return -E2BIG;
        if (n_fds > 0) {
                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
        }

        ssize_t k = RETRY_EINTR(sendmsg(sock, &mh, MSG_NOSIGNAL));
        if (k < 0)
                return negative_errno();
        if ((size_t) k != len)
                return -EIO;
        return 0;
}

/* Closes every fd carried by any SCM_RIGHTS/SCM_PIDFD control message. */
static void close_all_cmsg_fds(struct msghdr *mh)
{
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD))
                        continue;
                if (c->cmsg_len < CMSG_LEN(0))
                        continue;
                size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                        /* SCM_PIDFD carries a negative errno when the kernel could not make one. */
                        (void) safe_close(fd);
                }
        }
}

ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *ret_n_fds, int flags)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        size_t n = 0;
        int found = 0;

        if (max_fds > FDPASS_MAX)
                max_fds = FDPASS_MAX;

        ssize_t k = RETRY_EINTR(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags));
        if (k < 0)
                return negative_errno();

        if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
                close_all_cmsg_fds(&mh);
                return -EMSGSIZE;
        }

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                size_t bytes;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || found++ > 0)
                        goto bad;
                if (c->cmsg_len < CMSG_LEN(0))
                        goto bad;
                bytes = c->cmsg_len - CMSG_LEN(0);
                if (bytes % sizeof(int) != 0 || bytes / sizeof(int) > max_fds)
                        goto bad;
                n = bytes / sizeof(int);
        }

        if (n > 0) {
                if (!ret_n_fds || !fds)
                        goto bad; /* the caller did not expect fds: never leak them */
                memcpy(fds, CMSG_DATA(CMSG_FIRSTHDR(&mh)), n * sizeof(int));
        }
        if (ret_n_fds)
                *ret_n_fds = n;
        return k;

bad:
        close_all_cmsg_fds(&mh);
        return -EPROTO;
}

ssize_t fdpass_recv_sender(int sock, void *buf, size_t len, struct fdpass_sender *ret_sender, int flags)
{
        /* Room for both and one more, so that an extra message is seen, not dropped. */
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int)) * 2];
        } control = {};
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        struct fdpass_sender s = { .pidfd = -EBADF };
        bool have_pidfd = false;

        ssize_t k = RETRY_EINTR(recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags));
        if (k < 0)
                return negative_errno();
        if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) {
                close_all_cmsg_fds(&mh);
                return -EMSGSIZE;
        }

        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET)
                        goto bad;
                if (c->cmsg_type == SCM_CREDENTIALS && !s.have_ucred &&
                    c->cmsg_len == CMSG_LEN(sizeof(struct ucred))) {
                        struct ucred u;
                        memcpy(&u, CMSG_DATA(c), sizeof(u));
                        s.have_ucred = true;
                        s.pid = u.pid;
                        s.uid = u.uid;
                        s.gid = u.gid;
                } else if (c->cmsg_type == SCM_PIDFD && !have_pidfd &&
                           c->cmsg_len == CMSG_LEN(sizeof(int))) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c), sizeof(fd));
                        have_pidfd = true;
                        s.pidfd = fd >= 0 ? fd : -EBADF;
                } else {
                        goto bad;
                }
        }

        *ret_sender = s;
        return k;

bad:
        close_all_cmsg_fds(&mh);
        return -EPROTO;
}
