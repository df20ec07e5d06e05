/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdint.h>

#include "kernel/compat.h"
#include "kernel/netns.h"
#include "proxy/act/hostnet.h"
#include "proxy/base/fault.h"

int hostnet_check(const struct dump *d, const struct dump_env *env, int netns_fd, int sock,
                  const char **ret_why)
{
        uint64_t ino = 0, kernel_cookie = 0, cookie = 0;

        if (netns_inode(netns_fd, &ino) < 0) {
                *ret_why = "its network namespace cannot be identified";
                return 1;
        }
        if (ino == NET_NS_INIT_INO_COMPAT || (env->host_netns != 0 && ino == env->host_netns)) {
                *ret_why = "it is the initial network namespace";
                return 1;
        }
        /* A socket intake's connection comes from the kernel, made in the initial namespace. */
        if (!fault_hit("kernel-netns-cookie") && netns_cookie(d->fd, &kernel_cookie) >= 0 &&
            netns_cookie(sock, &cookie) >= 0) {
                *ret_why = "it is the network namespace the kernel's connection came from";
                return cookie == kernel_cookie;
        }
        if (env->host_netns != 0)
                return 0;
        *ret_why = "the host's network namespace is unknown here, and nothing shows this is not it";
        return 1;
}
