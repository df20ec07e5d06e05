/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/sockopt.h"

/* An int option; a reply of another size means a kernel we do not understand. */
static int get_int(int fd, int option, int *ret)
{
        int v = 0;
        socklen_t len = sizeof(v);

        if (getsockopt(fd, SOL_SOCKET, option, &v, &len) < 0)
                return negative_errno();
        if (len != sizeof(v))
                return -EPROTO;
        *ret = v;
        return 0;
}

int sockopt_kind(int fd, int *ret_domain, int *ret_type)
{
        int domain, type, r;

        r = get_int(fd, SO_DOMAIN, &domain);
        if (r < 0)
                return r;
        r = get_int(fd, SO_TYPE, &type);
        if (r < 0)
                return r;
        *ret_domain = domain;
        *ret_type = type;
        return 0;
}

int sockopt_netns_cookie(int fd, uint64_t *ret)
{
        uint64_t cookie = 0;
        socklen_t len = sizeof(cookie);

        if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) < 0)
                return negative_errno();
        if (len != sizeof(cookie))
                return -EPROTO;
        *ret = cookie;
        return 0;
}

int sockopt_peer_cred(int fd, struct ucred *ret)
{
        struct ucred cred = {};
        socklen_t len = sizeof(cred);

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return negative_errno();
        if (len != sizeof(cred))
                return -EPROTO;
        *ret = cred;
        return 0;
}
