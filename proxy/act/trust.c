/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/io.h"
#include "kernel/pidfd.h"
#include "proxy/act/trust.h"
#include "proxy/base/procaccess.h"
#include "proxy/base/fault.h"
#include "proxy/dump/resolve.h"

/*
 * No collector sends us an fd. One that did could send a socket whose close
 * blocks (SO_LINGER over a full send queue, a FUSE file never flushed): the
 * kernel closes fds it cannot deliver in the receiver's recvmsg(), which would
 * hold a worker past every deadline. 6.16+ refuses them at the sender (EPERM);
 * before, nothing can.
 */
void trust_refuse_rights(int sock)
{
        int zero = 0;

        (void) setsockopt(sock, SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero));
}

int trust_prepare_socket(int sock)
{
        int one = 1;

        if (setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
                return negative_errno();
        trust_refuse_rights(sock);
        /*
         * 6.5+: the sender itself, immune to pid reuse. Before, SCM_CREDENTIALS alone (see
         * trust_check_sender()); the fault plays such a kernel.
         */
        if (fault_hit("no-passpidfd"))
                return 0;
        if (setsockopt(sock, SOL_SOCKET, SO_PASSPIDFD, &one, sizeof(one)) < 0 && errno != ENOPROTOOPT &&
            errno != EINVAL)
                return negative_errno();
        return 0;
}

void trust_end_credentials(int sock)
{
        int zero = 0;

        (void) setsockopt(sock, SOL_SOCKET, SO_PASSPIDFD, &zero, sizeof(zero));
        (void) setsockopt(sock, SOL_SOCKET, SO_PASSCRED, &zero, sizeof(zero));
}

/* The same uid and gid throughout, on both sides: what ptrace access asks of an unprivileged caller. */
static bool same_user(const struct task_identity *t, const struct cdp_pidfd_info *p)
{
        uint32_t u = t->ruid, g = t->rgid;

        if (t->euid != u || t->suid != u || t->egid != g || t->sgid != g)
                return false;
        return p->ruid == u && p->euid == u && p->fsuid == u && p->rgid == g && p->egid == g &&
               p->fsgid == g;
}

/* A route's list of host uids: the process runs as one of them throughout. */
static bool listed_user(const struct route *r, const struct cdp_pidfd_info *p)
{
        for (size_t i = 0; i < r->n_collector_uids; i++)
                if (p->ruid == r->collector_uids[i] && p->euid == p->ruid && p->fsuid == p->ruid)
                        return true;
        return false;
}

/*
 * uid 0 with CAP_SYS_PTRACE in the task's user namespace, or in the initial one, which is above
 * every other: privileged over the task. Read from its /proc/<pid>, checked against its pidfd.
 */
static int privileged_over(const struct task_identity *t, const struct identify_context *ctx, int pidfd,
                           const struct cdp_pidfd_info *p)
{
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *status = NULL;
        uint64_t caps = 0, user_ns_ino = 0;
        bool in_task_ns, in_initial_ns;
        int r;

        dirfd = pidfd_open_proc_dir(pidfd, p->tgid);
        if (dirfd < 0)
                return dirfd;
        r = io_read_proc_file_at(dirfd, "status", 65536, &status);
        if (r >= 0)
                r = identify_parse_cap_eff(status, &caps);
        if (r < 0)
                return r;
        /* Behind a ptrace check, which Landlock fails for us: the keeper reads it (procaccess). */
        r = procaccess_userns_ino(dirfd, &user_ns_ino);
        if (r < 0)
                return r;
        if (pidfd_is_alive(pidfd) != 1)
                return -ESRCH;

        if (!(caps & (UINT64_C(1) << CAP_SYS_PTRACE)))
                return 0;
        /* Its euid as we see it must be the one that is 0 in that namespace. */
        in_task_ns = t->user_ns_ino != 0 && user_ns_ino == t->user_ns_ino && t->ns_root_uid >= 0 &&
                     (int64_t) p->euid == t->ns_root_uid;
        in_initial_ns = user_ns_ino == USER_NS_INIT_INO_COMPAT &&
                        ctx->user_ns_ino == USER_NS_INIT_INO_COMPAT && p->euid == 0;
        return in_task_ns || in_initial_ns;
}

static int check_credentials(const struct dump *d, const struct dump_env *env, int pidfd,
                             const struct cdp_pidfd_info *p, char **ret_why)
{
        const struct task_identity *t = &d->task;
        int r;

        if (d->route->collector_uid == COLLECTOR_UID_ANY)
                return 1;
        if (listed_user(d->route, p))
                return 1;
        if (t->have_creds && same_user(t, p))
                return 1;
        r = privileged_over(t, &env->identify, pidfd, p);
        if (r > 0)
                return 1;
        if (r == 0 &&
            asprintf(ret_why,
                     "wrong uid: pid %u runs as uid %u (euid %u, gid %u), the task as uid %u (gid %u), "
                     "and it is not uid 0 with CAP_SYS_PTRACE over the task",
                     p->tgid, p->ruid, p->euid, p->rgid, t->ruid, t->rgid) < 0)
                *ret_why = NULL;
        return r;
}

/* Both rules for one process, named by its pidfd. */
static int check_process(const struct dump *d, const struct dump_env *env, int pidfd, char **ret_why)
{
        _cleanup_free_ char *path = NULL;
        struct cdp_pidfd_info info;
        int r;

        r = pidfd_get_info(pidfd, PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID, &info);
        if (r < 0)
                return r;
        if (!(info.mask & PIDFD_INFO_CREDS) || !(info.mask & PIDFD_INFO_CGROUPID) || info.tgid == 0)
                return -ESRCH;
        r = resolve_process_within(&env->identify, pidfd, info.tgid, info.cgroupid, &d->container,
                                   d->route->trust == TRUST_POD, &path);
        if (r == 0 &&
            asprintf(ret_why, "wrong cgroup: pid %u in cgroup %s, not in the task's %s %s", info.tgid,
                     path ? path : "(unknown)", d->route->trust == TRUST_POD ? "pod" : "container",
                     d->route->trust == TRUST_POD && d->container.pod_cgroup_path
                             ? d->container.pod_cgroup_path
                             : d->container.cgroup_path) < 0)
                *ret_why = NULL;
        if (r <= 0)
                return r;
        return check_credentials(d, env, pidfd, &info, ret_why);
}

int trust_check_listener(const struct dump *d, int sock, const struct dump_env *env, int *ret_pidfd,
                         uint32_t *ret_pid, char **ret_why)
{
        _cleanup_close_ int pidfd = -EBADF;
        struct cdp_pidfd_info info;
        int r;

        /* Before 6.5 the listener's pid, proven to be the process that holds the listening socket. */
        pidfd = pidfd_from_listener(sock, d->collector_address);
        if (pidfd < 0)
                return pidfd;
        r = pidfd_get_info(pidfd, PIDFD_INFO_PID, &info);
        if (r < 0)
                return r;
        r = check_process(d, env, pidfd, ret_why);
        if (r <= 0)
                return r;
        *ret_pid = info.tgid;
        *ret_pidfd = TAKE_FD(pidfd);
        return 1;
}

int trust_check_sender(const struct dump *d, const struct dump_env *env, const struct fdpass_sender *sender,
                       int listener_pidfd, uint32_t listener_pid, char **ret_why)
{
        if (sender->pidfd >= 0)
                return check_process(d, env, sender->pidfd, ret_why);
        /*
         * SCM_CREDENTIALS alone names a pid, which may have been reused since the message was
         * sent: believed only for the listener, whose pidfd we hold and which is still alive, so
         * its pid names no one else.
         */
        if (sender->have_ucred && sender->pid > 0 && (uint32_t) sender->pid == listener_pid &&
            pidfd_is_alive(listener_pidfd) == 1)
                return check_process(d, env, listener_pidfd, ret_why);
        if (asprintf(ret_why, "no credentials: the answer came %s",
                     sender->have_ucred ? "from another process than the listener, without SCM_PIDFD"
                                        : "without SCM_CREDENTIALS") < 0)
                *ret_why = NULL;
        return 0;
}
