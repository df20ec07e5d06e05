/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which container a cgroup path belongs to, from the names runtimes give
 * their cgroups (docker, containerd/CRI and Kubernetes pods, CRI-O, podman,
 * systemd-nspawn, LXC/Incus; systemd and cgroupfs drivers). Table-driven;
 * no I/O.
 */

#include "config/config.h"

struct container_info {
        enum container_runtime runtime;
        char *id;      /* 64 hex for docker/containerd/cri-o/podman, the name for nspawn/lxc */
        char *pod_uid; /* Kubernetes pod uid in its canonical dashed form; NULL when not in a pod */
};

void container_info_done(struct container_info *c);

/*
 * Resolves a cgroup path (v2, or a v1 hierarchy's path). Returns 1 and fills
 * ret when a component names a container (the innermost one wins; a pod uid
 * comes from any enclosing pod slice), 0 when the path is a host cgroup
 * (including runtime monitors such as conmon and lxc.monitor), -ENOMEM.
 */
int container_resolve(const char *cgroup_path, struct container_info *ret);

/* Just the Kubernetes pod uid of a path, for trust checks; 1 found, 0 none. */
int container_pod_uid(const char *cgroup_path, char **ret_uid);
