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

/* Every pair's key is there and its value matches: a key nobody set never matches. */
static bool pairs_match(const struct match_pair *want, size_t n, const struct names_pairs *have)
{
        for (size_t i = 0; i < n; i++) {
                const struct names_pair *p = have ? names_pairs_find(have, want[i].key) : NULL;
                /* fnmatch() on the value itself: an empty value matches only "" patterns such as "*". */
                if (!p || fnmatch(want[i].glob, p->value, 0) != 0)
                        return false;
        }
        return true;
}

/*
 * Names select routes the host config wrote; they never name an address or
 * an action themselves, and never decide which container a task is in.
 */
static bool names_match(const struct route_match *m, const struct container_names *n)
{
        if (!glob_matches(m->pod_namespace, n ? n->pod_namespace : NULL) ||
            !glob_matches(m->pod_name, n ? n->pod_name : NULL) ||
            !glob_matches(m->container_name, n ? n->name : NULL) ||
            !glob_matches(m->image, n ? n->image : NULL))
                return false;
        return pairs_match(m->labels, m->n_labels, n ? &n->labels : NULL) &&
               pairs_match(m->annotations, m->n_annotations, n ? &n->annotations : NULL);
}

bool route_matches(const struct route_match *m, const struct task_identity *t,
                   const struct container_info *c, const struct container_names *names)
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
        return names_match(m, c ? names : NULL);
}

const struct route *route_select(const struct config *config, const struct task_identity *t,
                                 const struct container_info *c, const struct container_names *names)
{
        for (size_t i = 0; i < config->n_routes; i++)
                if (route_matches(&config->routes[i].match, t, c, names))
                        return &config->routes[i];
        return NULL;
}
