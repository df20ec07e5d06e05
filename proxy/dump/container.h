/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which container a cgroup path belongs to, from the names runtimes give
 * their cgroups (docker, containerd/CRI and Kubernetes pods, CRI-O, podman,
 * systemd-nspawn, LXC/Incus; systemd and cgroupfs drivers), read where the
 * runtimes make them and nowhere else, together with who owns each
 * directory of the path: a name is only as good as whoever could choose it.
 * Table-driven; no I/O (proxy/dump/resolve.c walks the real directories).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct container_info {
        enum container_runtime runtime;
        char *id;      /* 64 hex for docker/containerd/cri-o/podman, the name for nspawn/lxc */
        char *pod_uid; /* Kubernetes pod uid in its canonical dashed form; NULL when not in a pod */
        /*
         * Below a cgroup delegated to a user (a directory not owned by root,
         * such as user@UID.service): its names are that user's to choose, so
         * it is that user's container, never taken for a system container.
         */
        bool rootless;
        uint32_t owner_uid;
        /* Its cgroup is the first depth components of the path; its pod's the first pod_depth (0: none). */
        size_t depth;
        size_t pod_depth;

        /* Where those cgroups are, as resolve_task() verified them (container_resolve() leaves these). */
        bool v1;                /* a cgroup v1 hierarchy's path: no ids */
        char *v1_controllers;   /* that hierarchy, as /proc/<pid>/cgroup names it */
        uint64_t cgroup_id;     /* cgroup2 id of the container's cgroup; 0 on v1 */
        uint64_t pod_cgroup_id; /* and of its pod's; 0 on v1 or without a pod */
        char *cgroup_path;      /* the container's cgroup path */
        char *pod_cgroup_path;  /* its pod's; NULL without one */
};

void container_info_done(struct container_info *c);

/*
 * Resolves a cgroup path (v2, or a v1 hierarchy's path). owners[i] is the
 * uid that owns the directory of the path's i-th component (empty
 * components not counted); owners NULL means every directory is root's.
 *
 * - Layouts count only where the runtimes make them: e.g. "kubepods" at
 *   the top (or below kubelet's own top-level --cgroup-root), a systemd
 *   driver's "docker-<id>.scope" directly in a slice whose chain of slices
 *   starts at the root, "/docker/<id>", "/lxc.payload.<name>".
 * - The outermost container wins: whatever lies below a container's cgroup
 *   (a runtime it runs, a pod slice it made) is its own business.
 * - Below the first directory not owned by root, every name is its owner's:
 *   a container found there is rootless, owned by that uid.
 *
 * Returns 1 and fills ret (runtime, id, pod_uid, rootless, owner_uid,
 * depth, pod_depth) when the path is in a container; 0 when it is a host
 * cgroup (runtime monitors such as conmon and lxc.monitor included);
 * -EINVAL when owners does not have one entry per component; -ENOMEM.
 */
int container_resolve(const char *cgroup_path, const uint32_t *owners, size_t n_owners,
                      struct container_info *ret);

/* The number of non-empty components of a path, as container_resolve() counts them. */
size_t container_path_depth(const char *cgroup_path);

/* The byte length of the path's first depth components (without a trailing '/'). */
size_t container_path_prefix(const char *cgroup_path, size_t depth);
