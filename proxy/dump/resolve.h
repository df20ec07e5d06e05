/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Containers by cgroup ancestry: the crashing task's cgroup path walked one
 * real directory at a time (who owns each, and on cgroup2 each one's id,
 * the last checked against the id the task's pidfd reports), read by
 * container_resolve(); and, for whoever answers on a collector's socket,
 * whether its cgroup is the container's cgroup (or its pod's) or below it,
 * decided by cgroup ids of ancestors, never by the names it resolves to.
 */

#include <stdbool.h>
#include <stdint.h>

#include "proxy/dump/container.h"
#include "proxy/dump/identify.h"

/*
 * 1: the task is in a container, ret filled (with its cgroup's and its
 * pod's ids and paths); 0: a host task, or a cgroup that could not be
 * verified (fail closed: never a container on the strength of a name that
 * was not checked; *ret_why says what failed, static).
 */
int resolve_task(const struct identify_context *ctx, int pidfd, const struct task_identity *t,
                 struct container_info *ret, const char **ret_why);

/*
 * Whether a process (pidfd, its tgid and cgroup2 id from PIDFD_GET_INFO) is
 * in the container's cgroup or below it (pod: the pod's, when there is
 * one). 1 yes, 0 no (ret_path, when given, gets the process's cgroup path
 * for the log), -errno when it cannot be told (then no).
 */
int resolve_process_within(const struct identify_context *ctx, int pidfd, uint32_t pid, uint64_t cgroup_id,
                           const struct container_info *c, bool pod, char **ret_path);

/* The key of a container in the rate and concurrency limits: its cgroup, or its owner if rootless. */
int resolve_limit_key(const struct container_info *c, char **ret);
