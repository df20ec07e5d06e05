/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Who crashed: facts from the kernel connection's peer pidfd, never from a
 * pid number alone. /proc/<pid> is read through one directory fd opened
 * while the pidfd showed the task alive, and the pidfd is checked again
 * afterwards: a task that vanished (or whose pid could have been reused)
 * keeps only its pidfd facts, and its /proc facts count as unknown.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kernel/cgroup.h"

#define TASK_COMM_MAX 16

/* A cgroup v1 hierarchy, open: a container's v1 path is walked from it. */
struct identify_v1_mount {
        int fd;
        const struct cgroup1_mount *mount;
};

struct identify_context {
        int cgroup2_fd;           /* the cgroup2 mount, -EBADF when there is none */
        const char *cgroup2_path; /* its mount point in our mount namespace */
        uint64_t user_ns_ino;     /* our own user namespace; 0 unknown */
        const struct identify_v1_mount *v1_mounts;
        size_t n_v1_mounts;
};

struct task_identity {
        /* From the pidfd. */
        bool coredumped; /* PIDFD_COREDUMPED: the kernel started a dump of this task */
        uint32_t coredump_mask;
        uint32_t pid; /* host tgid; 0 when the task was already reaped */
        uint32_t ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
        bool have_creds;
        uint64_t cgroup_id; /* 0 unknown */

        /* From /proc/<pid>, valid only when proc_valid. */
        bool proc_valid;
        bool have_proc_dir;
        int proc_dir_fd; /* /proc/<pid>, bound to the task: kept while the dump runs */
        bool have_netns;
        int netns_fd;      /* its network namespace, when have_netns: where a collector may listen */
        bool have_user_ns; /* user_ns_ino known already */
        int signal;        /* 0 unknown */
        char comm[TASK_COMM_MAX + 1];
        /*
         * The executable as the task names it (inside its root, as chroot
         * or pivot_root made it; NULL when it lies outside), and as the
         * daemon sees it.
         */
        char *exe;
        char *host_exe;
        /* From identify_namespace_facts(). */
        uint32_t ns_pid;        /* innermost NSpid: the pid as its own pid namespace sees it */
        int64_t ns_uid, ns_gid; /* ruid/rgid mapped into the task's user namespace; -1 unmapped */
        uint64_t user_ns_ino;   /* the task's user namespace; 0 unknown */
        int64_t ns_root_uid;    /* our uid that is uid 0 in the task's user namespace; -1 none */

        /* The cgroup path used to find the container: v2, or a v1 line's when v2 says root. */
        char *cgroup_path;
        bool cgroup_v1;
        char *cgroup_v1_controllers; /* that line's hierarchy */
};

void identify_done(struct task_identity *t);

/*
 * Step one, cheap: PIDFD_GET_INFO. Fails only if the kernel refuses the
 * ioctl; a spoofed client gives coredumped == false.
 */
int identify_from_pidfd(int pidfd, struct task_identity *t);

/*
 * Step two, while the task is held: /proc facts and the cgroup path. Never
 * fails on a vanished task; it returns 0 with proc_valid false.
 */
int identify_from_proc(int pidfd, const struct identify_context *ctx, struct task_identity *t);

/*
 * The task as its own namespaces see it (NSpid, uid/gid through its user
 * namespace's maps): only a forward needs it, so it is read only then.
 */
int identify_namespace_facts(int pidfd, const struct identify_context *ctx, struct task_identity *t);

/* Parsers used above, exposed for unit tests. */
int identify_parse_stat_exit_code(const char *stat, int *ret);
int identify_parse_nspid(const char *status, uint32_t *ret);
int identify_map_id(const char *map, uint32_t id, int64_t *ret);
/* The outside id that a map gives inside id 0; *ret -1 when none does. */
int identify_map_root(const char *map, int64_t *ret);
/* CapEff of a /proc/<pid>/status text. */
int identify_parse_cap_eff(const char *status, uint64_t *ret);
/*
 * The executable's path as a task with root directory root (both as the
 * /proc links read) names it: exe itself when root is "/", exe without
 * root's prefix when it lies below root, NULL otherwise (the task cannot
 * name it). Allocated in *ret; -ENOMEM.
 */
int identify_exe_in_root(const char *exe, const char *root, char **ret);

/*
 * The cgroup path of any process given its pidfd facts (cgroup id and pid):
 * v2 from the id, or the v1 lines of /proc/<pid>/cgroup when v2 says root.
 * Used for the crashing task and for a collector's listener alike.
 */
int identify_cgroup_path(int pidfd, const struct identify_context *ctx, uint64_t cgroup_id, uint32_t pid,
                         char **ret_path);

/* A cgroup2 id's path (remembered: ids are never reused while the system runs). */
int identify_cgroup2_path(const struct identify_context *ctx, uint64_t cgroup_id, char **ret_path);

/*
 * The path of one v1 hierarchy (named by its /proc/<pid>/cgroup controllers
 * field) for a process, read through its /proc/<pid> checked against the
 * pidfd before and after.
 */
int identify_v1_path(int pidfd, uint32_t pid, const char *controllers, char **ret_path);
