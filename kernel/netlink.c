/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "kernel/cleanup.h"
#include "kernel/netlink.h"

int netlink_open(int protocol, struct nl_sock **ret)
{
        _cleanup_(nl_socket_freep) struct nl_sock *sk = nl_socket_alloc();
        int r;

        if (!sk)
                return -ENOMEM;
        nl_socket_disable_seq_check(sk);
        nl_socket_disable_auto_ack(sk);

        /* nl_connect() creates the socket with SOCK_CLOEXEC. */
        errno = 0;
        r = nl_connect(sk, protocol);
        if (r < 0)
                return netlink_errno(r, errno);
        *ret = TAKE_PTR(sk);
        return 0;
}

int netlink_errno(int nlerr, int saved_errno)
{
        int code = nlerr < 0 ? -nlerr : nlerr;

        if (saved_errno > 0 && nl_syserr2nlerr(saved_errno) == code)
                return -saved_errno;
        switch (code) {
        case NLE_INTR:
                return -EINTR;
        case NLE_BAD_SOCK:
                return -EBADF;
        case NLE_AGAIN:
                return -EAGAIN;
        case NLE_NOMEM:
                return -ENOMEM;
        case NLE_INVAL:
                return -EINVAL;
        case NLE_RANGE:
                return -ERANGE;
        case NLE_MSGSIZE:
                return -EMSGSIZE;
        case NLE_OPNOTSUPP:
                return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT:
                return -EAFNOSUPPORT;
        case NLE_OBJ_NOTFOUND:
                return -ENOENT;
        case NLE_NOADDR:
                return -EADDRNOTAVAIL;
        case NLE_MSG_TRUNC:
        case NLE_MSG_TOOSHORT:
                return -EBADMSG;
        case NLE_PROTO_MISMATCH:
                return -EPROTONOSUPPORT;
        case NLE_NOACCESS:
                return -EACCES;
        case NLE_PERM:
                return -EPERM;
        default:
                return -EIO;
        }
}
