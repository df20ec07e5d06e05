/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <fnmatch.h>
#include <string.h>

#include "proxy/dump/route.h"

/* A glob against a fact we may not know: an unknown fact never matches a pattern. */
static bool glob_matches(const char *pattern, const char *value)
{
        if (!pattern)
                return true;
        if (!value || !value[0])
                return false;
        return fnmatch(pattern, value, 0) == 0;
}

bool route_matches(const struct route_match *m, const struct task_identity *t,
                   const struct container_info *c)
{
        if (m->container >= 0 && (c != NULL) != (m->container == 1))
                return false;
        /*
         * A rootless container's runtime, id and pod uid are names its owner chose: a route that
         * selects by them was written for system containers, unless it says otherwise.
         */
        if (m->rootless == 1 && !(c && c->rootless))
                return false;
        if (m->rootless == 0 && c && c->rootless)
                return false;
        if (m->rootless < 0 && c && c->rootless && (m->runtimes != 0 || m->container_id || m->pod_uid))
                return false;
        if (m->runtimes != 0 && (!c || !(m->runtimes & (1U << c->runtime))))
                return false;
        if (m->container_id &&
            (!c || !c->id || strncmp(c->id, m->container_id, strlen(m->container_id)) != 0))
                return false;
        if (m->pod_uid && (!c || !c->pod_uid || strcmp(c->pod_uid, m->pod_uid) != 0))
                return false;
        if (!glob_matches(m->cgroup, t->cgroup_path))
                return false;
        if (m->uids) {
                bool found = false;
                for (size_t i = 0; t->have_creds && i < m->n_uids; i++)
                        found = found || m->uids[i] == t->ruid;
                if (!found)
                        return false;
        }
        if (!glob_matches(m->comm, t->comm))
                return false;
        /* The host's view: a chroot cannot make its own /usr/sbin/sshd pass for the host's. */
        if (!glob_matches(m->exe, t->host_exe))
                return false;
        return true;
}

const struct route *route_select(const struct config *config, const struct task_identity *t,
                                 const struct container_info *c)
{
        for (size_t i = 0; i < config->n_routes; i++)
                if (route_matches(&config->routes[i].match, t, c))
                        return &config->routes[i];
        return NULL;
}
