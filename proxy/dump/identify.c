/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd.h"
#include "proxy/base/procaccess.h"
#include "proxy/dump/identify.h"

void identify_done(struct task_identity *t)
{
        if (!t)
                return;
        free(t->exe);
        free(t->host_exe);
        free(t->cgroup_path);
        free(t->cgroup_v1_controllers);
        t->exe = t->host_exe = t->cgroup_path = t->cgroup_v1_controllers = NULL;
        if (t->have_proc_dir)
                t->proc_dir_fd = safe_close(t->proc_dir_fd);
        if (t->have_netns)
                t->netns_fd = safe_close(t->netns_fd);
        t->have_netns = false;
        t->have_proc_dir = false;
}

int identify_from_pidfd(int pidfd, struct task_identity *t)
{
        struct cdp_pidfd_info info;
        int r;

        /*
         * EXIT is asked for as well: in plain mode without core_pipe_limit the
         * task may already be reaped, and then only EXIT info (cgroup at exit)
         * and the coredump mask remain.
         */
        r = pidfd_get_info(pidfd,
                           PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID | PIDFD_INFO_EXIT |
                                   PIDFD_INFO_COREDUMP | PIDFD_INFO_COREDUMP_SIGNAL,
                           &info);
        if (r < 0)
                return r;

        t->coredump_mask = info.coredump_mask;
        t->coredumped = (info.mask & PIDFD_INFO_COREDUMP) && (info.coredump_mask & PIDFD_COREDUMPED);
        if (info.mask & PIDFD_INFO_PID)
                t->pid = info.tgid;
        if (info.mask & PIDFD_INFO_CREDS) {
                t->have_creds = true;
                t->ruid = info.ruid;
                t->rgid = info.rgid;
                t->euid = info.euid;
                t->egid = info.egid;
                t->suid = info.suid;
                t->sgid = info.sgid;
                t->fsuid = info.fsuid;
                t->fsgid = info.fsgid;
        }
        if (info.mask & PIDFD_INFO_CGROUPID)
                t->cgroup_id = info.cgroupid;
        if (info.mask & PIDFD_INFO_COREDUMP_SIGNAL)
                t->signal = (int) info.coredump_signal; /* 6.19+ */
        return 0;
}

int identify_parse_stat_exit_code(const char *stat, int *ret)
{
        /* comm may hold spaces and parentheses: fields are counted from the last ')'. */
        const char *p = strrchr(stat, ')');
        char *end;

        if (!p)
                return -EBADMSG;
        /* After ") " comes field 3; exit_code is field 52. */
        for (int field = 2; field < 52; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        errno = 0;
        long v = strtol(p + 1, &end, 10);
        if (errno != 0 || end == p + 1 || v < 0 || v > INT_MAX)
                return -EBADMSG;
        *ret = (int) v;
        return 0;
}

int identify_parse_nspid(const char *status, uint32_t *ret)
{
        const char *p = strstr(status, "\nNSpid:");
        uint32_t last = 0;
        bool any = false;

        if (!p)
                return -ENOENT; /* kernels before 4.1 */
        p += strlen("\nNSpid:");
        for (;;) {
                char *end;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p == '\n' || *p == 0)
                        break;
                errno = 0;
                unsigned long v = strtoul(p, &end, 10);
                if (errno != 0 || end == p || v > UINT32_MAX)
                        return -EBADMSG;
                last = (uint32_t) v;
                any = true;
                p = end;
        }
        if (!any)
                return -EBADMSG;
        *ret = last;
        return 0;
}

int identify_map_id(const char *map, uint32_t id, int64_t *ret)
{
        /* Lines of uid_map/gid_map as read from the initial namespace: "inside outside count". */
        for (const char *p = map; *p;) {
                unsigned long inside, outside, count;
                int n = 0;

                if (sscanf(p, "%lu %lu %lu%n", &inside, &outside, &count, &n) != 3)
                        return -EBADMSG;
                if (id >= outside && (uint64_t) id - outside < count) {
                        *ret = (int64_t) (inside + (id - outside));
                        return 0;
                }
                p = strchr(p + n, '\n');
                if (!p)
                        break;
                p++;
        }
        *ret = -1; /* unmapped: the container sees the overflow id */
        return 0;
}

int identify_map_root(const char *map, int64_t *ret)
{
        for (const char *p = map; *p;) {
                unsigned long inside, outside, count;
                int n = 0;

                if (sscanf(p, "%lu %lu %lu%n", &inside, &outside, &count, &n) != 3)
                        return -EBADMSG;
                if (inside == 0 && count > 0) {
                        *ret = (int64_t) outside;
                        return 0;
                }
                p = strchr(p + n, '\n');
                if (!p)
                        break;
                p++;
        }
        *ret = -1;
        return 0;
}

int identify_parse_cap_eff(const char *status, uint64_t *ret)
{
        const char *p = strstr(status, "\nCapEff:");
        unsigned long long v;
        char *end;

        if (!p)
                return -ENOENT;
        p += strlen("\nCapEff:");
        while (*p == ' ' || *p == '\t')
                p++;
        errno = 0;
        v = strtoull(p, &end, 16);
        if (errno != 0 || end == p || (*end != '\n' && *end != 0))
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

int identify_exe_in_root(const char *exe, const char *root, char **ret)
{
        size_t n = strlen(root);
        char *copy;

        if (strcmp(root, "/") == 0)
                copy = strdup(exe);
        else if (root[0] == '/' && strncmp(exe, root, n) == 0 && exe[n] == '/')
                /* Component-wise: "/jail" is no prefix of "/jailbreak/x". */
                copy = strdup(exe + n);
        else {
                *ret = NULL;
                return 0;
        }
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        return 0;
}

/*
 * cgroup id -> path, remembered: an id (the kernfs inode number with its
 * generation) is never given to another cgroup while the system runs, and a
 * container's crashes, and its collector's trust checks, ask for the same
 * few ids over and over. A removed cgroup's entry is merely never asked
 * for again.
 */
#define CGROUP_CACHE_SIZE 128

static struct {
        uint64_t id;
        char *path;
} cgroup_cache[CGROUP_CACHE_SIZE];
static unsigned cgroup_cache_next;
static pthread_mutex_t cgroup_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int cgroup_path_cached(const struct identify_context *ctx, uint64_t id, char **ret)
{
        char *path = NULL, *copy;
        int r;

        pthread_mutex_lock(&cgroup_cache_lock);
        for (unsigned i = 0; i < CGROUP_CACHE_SIZE && !path; i++)
                if (cgroup_cache[i].path && cgroup_cache[i].id == id)
                        path = strdup(cgroup_cache[i].path);
        pthread_mutex_unlock(&cgroup_cache_lock);
        if (path) {
                *ret = path;
                return 0;
        }

        r = cgroup_id_to_path(ctx->cgroup2_fd, ctx->cgroup2_path, id, &path);
        if (r < 0)
                return r;
        copy = strdup(path);
        if (copy) {
                pthread_mutex_lock(&cgroup_cache_lock);
                free(cgroup_cache[cgroup_cache_next].path);
                cgroup_cache[cgroup_cache_next].id = id;
                cgroup_cache[cgroup_cache_next].path = copy;
                cgroup_cache_next = (cgroup_cache_next + 1) % CGROUP_CACHE_SIZE;
                pthread_mutex_unlock(&cgroup_cache_lock);
        }
        *ret = path;
        return 0;
}

int identify_cgroup2_path(const struct identify_context *ctx, uint64_t cgroup_id, char **ret_path)
{
        if (ctx->cgroup2_fd < 0 || cgroup_id == 0)
                return -ENOENT;
        return cgroup_path_cached(ctx, cgroup_id, ret_path);
}

/*
 * The cgroup path of a task: v2 from its cgroup id; when that is the root
 * (a runtime on cgroup v1 only, on a hybrid host), the v1 lines of
 * /proc/<pid>/cgroup, read through *dirfd, which is opened from the pidfd
 * only then when it is not open yet.
 */
static void read_cgroup_path(int pidfd, uint32_t pid, int *dirfd, const struct identify_context *ctx,
                             struct task_identity *t)
{
        _cleanup_free_ char *v2 = NULL, *text = NULL;
        struct cgroup_line *lines = NULL;
        size_t n = 0;

        if (ctx->cgroup2_fd >= 0 && t->cgroup_id != 0)
                (void) cgroup_path_cached(ctx, t->cgroup_id, &v2);
        if (v2 && strcmp(v2, "/") != 0) {
                t->cgroup_path = TAKE_PTR(v2);
                return;
        }
        if (*dirfd < 0 && pid > 0) {
                int fd = pidfd_open_proc_dir(pidfd, pid);
                if (fd >= 0)
                        *dirfd = fd;
        }

        /*
         * The cgroup2 root on a hybrid host means the runtime uses v1 only:
         * the v1 lines name the container. The named systemd hierarchy is the
         * one every runtime populates, so when it is there it decides alone
         * (other controllers may hold host processes in arbitrary groups);
         * without it, the first controller with a non-root path.
         */
        if (*dirfd >= 0 && io_read_proc_file_at(*dirfd, "cgroup", 65536, &text) >= 0 &&
            cgroup_parse_proc(text, &lines, &n) >= 0) {
                const struct cgroup_line *best = NULL;
                bool have_systemd = false;
                for (size_t i = 0; i < n; i++) {
                        if (lines[i].hierarchy == 0)
                                continue;
                        if (strcmp(lines[i].controllers, "name=systemd") == 0) {
                                have_systemd = true;
                                best = &lines[i];
                                break;
                        }
                        if (!best && strcmp(lines[i].path, "/") != 0)
                                best = &lines[i];
                }
                if (best && have_systemd && strcmp(best->path, "/") == 0)
                        best = NULL;
                if (best) {
                        t->cgroup_path = strdup(best->path);
                        t->cgroup_v1_controllers = strdup(best->controllers);
                        t->cgroup_v1 = t->cgroup_path && t->cgroup_v1_controllers;
                        if (!t->cgroup_v1) {
                                t->cgroup_path = mfree_str(t->cgroup_path);
                                t->cgroup_v1_controllers = mfree_str(t->cgroup_v1_controllers);
                        }
                }
                cgroup_lines_free(lines, n);
        }
        if (!t->cgroup_path && v2)
                t->cgroup_path = TAKE_PTR(v2);
}

int identify_cgroup_path(int pidfd, const struct identify_context *ctx, uint64_t cgroup_id, uint32_t pid,
                         char **ret_path)
{
        struct task_identity t = { .cgroup_id = cgroup_id };
        _cleanup_close_ int dirfd = -EBADF;

        read_cgroup_path(pidfd, pid, &dirfd, ctx, &t);
        /* A v1 path read from /proc counts only if the process is still the one the pidfd names. */
        free(t.cgroup_v1_controllers);
        if (t.cgroup_v1 && pidfd_is_alive(pidfd) != 1) {
                free(t.cgroup_path);
                return -ESRCH;
        }
        if (!t.cgroup_path)
                return -ENOENT;
        *ret_path = t.cgroup_path;
        return 0;
}

int identify_v1_path(int pidfd, uint32_t pid, const char *controllers, char **ret_path)
{
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *text = NULL, *path = NULL;
        struct cgroup_line *lines = NULL;
        size_t n = 0;
        int r;

        dirfd = pidfd_open_proc_dir(pidfd, pid);
        if (dirfd < 0)
                return dirfd;
        r = io_read_proc_file_at(dirfd, "cgroup", 65536, &text);
        if (r < 0)
                return r;
        r = cgroup_parse_proc(text, &lines, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && !path; i++)
                if (lines[i].hierarchy != 0 && strcmp(lines[i].controllers, controllers) == 0)
                        path = strdup(lines[i].path);
        cgroup_lines_free(lines, n);
        if (!path)
                return -ENOENT;
        if (pidfd_is_alive(pidfd) != 1)
                return -ESRCH;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int identify_namespace_facts(int pidfd, const struct identify_context *ctx, struct task_identity *t)
{
        _cleanup_close_ int owned = -EBADF;
        int dirfd;
        _cleanup_free_ char *status = NULL, *uid_map = NULL, *gid_map = NULL;
        uint32_t ns_pid = 0;
        int64_t ns_uid = -1, ns_gid = -1;

        /* The dir fd identify_from_proc() kept, still bound to the task, or a new one. */
        if (t->have_proc_dir) {
                dirfd = t->proc_dir_fd;
        } else {
                owned = pidfd_open_proc_dir(pidfd, t->pid);
                if (owned < 0)
                        return owned;
                dirfd = owned;
        }
        if (io_read_proc_file_at(dirfd, "status", 65536, &status) >= 0)
                (void) identify_parse_nspid(status, &ns_pid);

        /* Most containers share our user namespace: their ids need no map. */
        uint64_t user_ns_ino = t->user_ns_ino;
        /* Usually known already (identify_from_proc asked for it with the rest). */
        bool have_ns = t->have_user_ns || procaccess_userns_ino(dirfd, &user_ns_ino) >= 0;
        int64_t ns_root = -1;
        if (have_ns && ctx->user_ns_ino != 0 && user_ns_ino == ctx->user_ns_ino) {
                ns_root = 0;
                if (t->have_creds) {
                        ns_uid = t->ruid;
                        ns_gid = t->rgid;
                }
        } else if (have_ns) {
                if (io_read_proc_file_at(dirfd, "uid_map", 65536, &uid_map) >= 0) {
                        if (t->have_creds)
                                (void) identify_map_id(uid_map, t->ruid, &ns_uid);
                        /* Whose uid is root there: trust asks it of a collector that claims privilege. */
                        (void) identify_map_root(uid_map, &ns_root);
                }
                if (t->have_creds && io_read_proc_file_at(dirfd, "gid_map", 65536, &gid_map) >= 0)
                        (void) identify_map_id(gid_map, t->rgid, &ns_gid);
        }
        if (pidfd_is_alive(pidfd) != 1)
                return -ESRCH;
        t->ns_pid = ns_pid;
        t->ns_uid = ns_uid;
        t->ns_gid = ns_gid;
        t->user_ns_ino = have_ns ? user_ns_ino : 0;
        t->ns_root_uid = ns_root;
        return 0;
}

/* comm and, before 6.19, the signal: a held crashing task's exit_code field holds it. */
static void apply_stat(struct task_identity *t, const char *stat, bool *ret_from_proc)
{
        const char *open, *close;
        int sig;

        if (!stat)
                return;
        open = strchr(stat, '(');
        close = strrchr(stat, ')');
        if (open && close && close > open)
                (void) snprintf(t->comm, sizeof(t->comm), "%.*s", (int) (close - open - 1), open + 1);
        if (t->signal == 0 && identify_parse_stat_exit_code(stat, &sig) >= 0 && sig > 0 && sig < 65) {
                t->signal = sig;
                *ret_from_proc = true;
        }
}

int identify_from_proc(int pidfd, const struct identify_context *ctx, struct task_identity *t)
{
        _cleanup_close_ int dirfd = -EBADF;
        struct procaccess_task facts = { .netns_fd = -EBADF };
        bool signal_from_proc = false;
        int r;

        if (t->pid == 0) {
                read_cgroup_path(pidfd, 0, &dirfd, ctx, t);
                return 0;
        }

        dirfd = pidfd_open_proc_dir(pidfd, t->pid);
        if (dirfd < 0) {
                read_cgroup_path(pidfd, 0, &dirfd, ctx, t);
                return 0;
        }

        /*
         * What is behind a ptrace check, in one question (procaccess: the keeper answers
         * when Landlock keeps us from asking the kernel ourselves). stat holds comm (the
         * same 15 bytes as the comm file) and, before 6.19, the signal.
         */
        if (procaccess_task(dirfd, &facts) >= 0) {
                apply_stat(t, facts.stat, &signal_from_proc);
                /*
                 * The exe link reads as a path from our root: a task that chroot()ed (or a
                 * runtime that did it for it) names its executable relative to its own
                 * root. Both are only read, never followed.
                 */
                t->host_exe = TAKE_PTR(facts.exe);
                if (t->host_exe && facts.root)
                        (void) identify_exe_in_root(t->host_exe, facts.root, &t->exe);
                if (facts.userns_error >= 0) {
                        t->user_ns_ino = facts.userns_ino;
                        t->have_user_ns = true;
                }
                /* For a forward: the netns the collector may be in, taken while the task is held. */
                if (facts.netns_fd >= 0) {
                        t->netns_fd = TAKE_FD(facts.netns_fd);
                        t->have_netns = true;
                }
                procaccess_task_done(&facts);
        }

        read_cgroup_path(pidfd, t->pid, &dirfd, ctx, t);

        r = pidfd_is_alive(pidfd);
        if (r <= 0) {
                /* Gone while we looked: keep the pidfd facts, drop what /proc said. */
                free(t->exe);
                free(t->host_exe);
                t->exe = t->host_exe = NULL;
                t->comm[0] = 0;
                t->netns_fd = safe_close(t->netns_fd);
                t->have_user_ns = false;
                if (signal_from_proc)
                        t->signal = 0;
                if (t->cgroup_v1) {
                        t->cgroup_path = mfree_str(t->cgroup_path);
                        t->cgroup_v1_controllers = mfree_str(t->cgroup_v1_controllers);
                        t->cgroup_v1 = false;
                }
                return 0;
        }
        t->proc_valid = true;
        /* Kept for identify_namespace_facts(): a forward needs more of /proc, through the same fd. */
        t->proc_dir_fd = TAKE_FD(dirfd);
        t->have_proc_dir = true;
        return 0;
}
