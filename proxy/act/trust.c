/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/pidfd.h"
#include "proxy/act/trust.h"

int trust_check_listener(const struct dump *d, int sock, const struct dump_env *env, char **ret_why)
{
        _cleanup_close_ int pidfd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct cdp_pidfd_info info;
        struct container_info peer = {};
        bool same;
        int r;

        /* Before 6.5 the listener's pid, proven to be the process that holds the listening socket. */
        pidfd = pidfd_from_listener(sock, d->collector_address);
        if (pidfd < 0)
                return pidfd;
        r = pidfd_get_info(pidfd, PIDFD_INFO_PID | PIDFD_INFO_CGROUPID, &info);
        if (r < 0)
                return r;
        r = identify_cgroup_path(pidfd, &env->identify, info.cgroupid, info.tgid, &path);
        if (r < 0)
                return r;
        r = container_resolve(path, &peer);
        if (r < 0)
                return r;

        if (r == 0)
                same = false;
        else if (peer.runtime == d->container.runtime && strcmp(peer.id, d->container.id) == 0)
                same = true;
        else
                same = d->route->trust == TRUST_POD && peer.pod_uid && d->container.pod_uid &&
                       strcmp(peer.pod_uid, d->container.pod_uid) == 0;

        if (!same && asprintf(ret_why, "listener pid %u in cgroup %s", info.tgid, path) < 0)
                *ret_why = NULL;
        container_info_done(&peer);
        return same;
}
