/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Anyone who shares our network namespace can connect to an abstract
 * socket, write a message 1 of their choosing and pass any fd as "the
 * dump". The kernel tells the real one apart:
 *
 * - It connects to the proxy's socket from the initial network namespace
 *   (fs/coredump.c creates its socket there), so the connection the proxy
 *   accepted and passed on lives there too. A process of the pod can only
 *   make sockets in the pod's namespace, ours: such an fd is refused.
 * - The connecting end is the crashing task itself: SO_PEERPIDFD names it.
 *   When our pid namespace sees it, its pidfd must say the kernel is
 *   dumping it (PIDFD_COREDUMPED, set only on the way into the dump) and it
 *   must not have exited (the proxy holds it until we are done). When we
 *   do not see it (PIDFD_GET_INFO: ESRCH, or EREMOTE on newer kernels), as
 *   in a Kubernetes sidecar with its own pid namespace, only the two facts
 *   above and its SO_PEERCRED ids remain.
 */

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/pidfd.h"
#include "kernel/sockopt.h"
#include "proxy/collector/auth.h"

static const char *const proof_names[_AUTH_PROOF_MAX] = {
        [AUTH_PROOF_PIDFD] = "pidfd",
        [AUTH_PROOF_CONNECTION] = "connection",
        [AUTH_PROOF_NONE] = "none",
};
DEFINE_STRING_TABLE_LOOKUP(auth_proof, enum auth_proof, proof_names)

static const char *const refusal_names[_AUTH_REFUSAL_MAX] = {
        [AUTH_PEER_IN_PID_NAMESPACE] = "peer-in-pid-namespace",
        [AUTH_PEER_NOT_ROOT] = "peer-not-root",
        [AUTH_NOT_STREAM] = "not-a-stream",
        [AUTH_OWN_NETWORK] = "own-network-namespace",
        [AUTH_NO_PEER] = "no-peer",
        [AUTH_NOT_COREDUMPING] = "not-coredumping",
        [AUTH_SENSITIVE] = "sensitive",
        [AUTH_TASK_GONE] = "task-gone",
        [AUTH_TASK_NOT_VISIBLE] = "task-not-visible",
        [AUTH_PIPE] = "pipe",
};
DEFINE_STRING_TABLE_LOOKUP(auth_refusal, enum auth_refusal, refusal_names)

static int refuse(enum auth_refusal why, enum auth_refusal *ret_refusal)
{
        *ret_refusal = why;
        return -EACCES;
}

int auth_check_peer(const struct auth_policy *p, int conn_fd, enum auth_refusal *ret_refusal)
{
        struct ucred peer;
        int r;

        r = sockopt_peer_cred(conn_fd, &peer);
        if (r < 0)
                return r;
        /* pid 0: the kernel has no number for it in our pid namespace, as for the proxy on the host. */
        if (peer.pid == 0)
                return 0;
        if (!p->allow_host_peer)
                return refuse(AUTH_PEER_IN_PID_NAMESPACE, ret_refusal);
        /* Sharing the proxy's pid namespace, everyone is visible: only root may speak for the proxy. */
        if (peer.uid != 0)
                return refuse(AUTH_PEER_NOT_ROOT, ret_refusal);
        return 0;
}

/* The task is ours to see: the kernel's own word on it. */
static int check_visible(int pidfd, const struct cdp_pidfd_info *info, struct auth_facts *ret,
                         enum auth_refusal *ret_refusal)
{
        int r;

        if (!(info->mask & PIDFD_INFO_COREDUMP) || !(info->coredump_mask & PIDFD_COREDUMPED))
                return refuse(AUTH_NOT_COREDUMPING, ret_refusal);
        if (info->coredump_mask & PIDFD_COREDUMP_ROOT)
                return refuse(AUTH_SENSITIVE, ret_refusal);
        /*
         * PIDFD_COREDUMPED stays set after the dump: a task that crashed
         * earlier and is a zombie now must not lend its mark to a socket it
         * once connected. The real one is held until the proxy lets it go.
         */
        r = pidfd_has_exited(pidfd);
        if (r < 0)
                return r;
        if (r > 0 || info->tgid == 0 || !(info->mask & PIDFD_INFO_CREDS))
                return refuse(AUTH_TASK_GONE, ret_refusal);

        *ret = (struct auth_facts){
                .proof = AUTH_PROOF_PIDFD,
                .pid = info->tgid,
                .uid = info->ruid,
                .gid = info->rgid,
        };
        return 0;
}

/* The task is out of sight: what the connection itself proves. */
static int check_hidden(const struct auth_policy *p, const struct ucred *peer, struct auth_facts *ret,
                        enum auth_refusal *ret_refusal)
{
        /* A number in our pid namespace but no info: it has been reaped, so it is no crash in progress. */
        if (peer->pid != 0)
                return refuse(AUTH_TASK_GONE, ret_refusal);
        if (p->require_task)
                return refuse(AUTH_TASK_NOT_VISIBLE, ret_refusal);

        *ret = (struct auth_facts){
                .proof = AUTH_PROOF_CONNECTION,
                .pid = -1,
                .uid = peer->uid,
                .gid = peer->gid,
        };
        return 0;
}

/*
 * A pipe-mode dump: the helper's stdin, which the kernel fills. A pipe has
 * no network namespace and no peer, so nothing tells it from a pipe a
 * process of the pod made; it is taken only where the operator said so.
 */
static int check_pipe(const struct auth_policy *p, bool pipe_mode, struct auth_facts *ret,
                      enum auth_refusal *ret_refusal)
{
        if (!p->accept_pipe || !pipe_mode)
                return refuse(AUTH_PIPE, ret_refusal);
        if (p->require_task)
                return refuse(AUTH_TASK_NOT_VISIBLE, ret_refusal);
        *ret = (struct auth_facts){ .proof = AUTH_PROOF_NONE, .pid = -1, .uid = -1, .gid = -1 };
        return 0;
}

int auth_check_dump(const struct auth_policy *p, int dump_fd, bool pipe_mode, struct auth_facts *ret,
                    enum auth_refusal *ret_refusal)
{
        _cleanup_close_ int pidfd = -EBADF;
        struct cdp_pidfd_info info;
        struct ucred peer;
        struct stat st;
        uint64_t cookie;
        int domain, type, r;

        if (fstat(dump_fd, &st) < 0)
                return -errno;
        if (S_ISFIFO(st.st_mode))
                return check_pipe(p, pipe_mode, ret, ret_refusal);
        r = sockopt_kind(dump_fd, &domain, &type);
        if (r == -ENOTSOCK || (r >= 0 && (domain != AF_UNIX || type != SOCK_STREAM)))
                return refuse(AUTH_NOT_STREAM, ret_refusal);
        if (r < 0)
                return r;
        r = sockopt_netns_cookie(dump_fd, &cookie);
        if (r < 0)
                return r;
        if (cookie == p->netns_cookie)
                return refuse(AUTH_OWN_NETWORK, ret_refusal);

        r = sockopt_peer_cred(dump_fd, &peer);
        if (r < 0)
                return r;
        pidfd = pidfd_from_peer(dump_fd);
        /* ENODATA: never connected; ESRCH, EINVAL: kernels before 6.16 once the peer was reaped. */
        if (pidfd == -ENODATA || pidfd == -ESRCH || pidfd == -EINVAL)
                return refuse(AUTH_NO_PEER, ret_refusal);
        if (pidfd < 0)
                return pidfd;

        r = pidfd_get_info(pidfd, PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_COREDUMP, &info);
        if (r == -ESRCH || r == -EREMOTE)
                return check_hidden(p, &peer, ret, ret_refusal);
        if (r < 0)
                return r;
        return check_visible(pidfd, &info, ret, ret_refusal);
}
