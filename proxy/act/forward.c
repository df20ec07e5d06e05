/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proxy/protocol/collector-msg.h"
#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/fdpass.h"
#include "kernel/netns.h"
#include "kernel/pidfd.h"
#include "proxy/dump/event.h"
#include "proxy/act/forward.h"
#include "proxy/base/log.h"

/* Why a forward did not happen: these become the event's reason when the fallback runs. */
#define REASON_HOST_TASK    "host-task"
#define REASON_TASK_GONE    "task-gone"
#define REASON_HOST_NETWORK "host-network"
#define REASON_NO_COLLECTOR "no-collector"
#define REASON_UNTRUSTED    "untrusted-collector"
#define REASON_TIMEOUT      "collector-timeout"
#define REASON_DECLINED     "collector-declined"
#define REASON_ERROR        "collector-error"

static int fallback(struct dump *d, const char *reason)
{
        d->reason = reason;
        return 0;
}

/*
 * A path address names a socket inside the task's root. It is resolved
 * with RESOLVE_IN_ROOT from the task's /proc/<pid>/root, so ".." and
 * symlinks cannot leave the container, and connected to through
 * /proc/self/fd: no chroot, no setns into its mount namespace, no exec.
 */
static int resolve_path_address(struct dump *d, const char *path, int *ret_fd, struct sockaddr_un *ret_sa,
                                socklen_t *ret_len)
{
        _cleanup_close_ int root = -EBADF, sock = -EBADF;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        char proc[64];
        struct stat st;

        /* Only reached with proc_valid: identify kept /proc/<pid>, bound to the task. */
        if (!d->task.have_proc_dir)
                return -ESRCH;
        root = openat(d->task.proc_dir_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return negative_errno();
        if (pidfd_is_alive(d->pidfd) != 1)
                return -ESRCH;

        sock = (int) syscall(SYS_openat2, root, path, &how, sizeof(how));
        if (sock < 0)
                return negative_errno();
        if (fstat(sock, &st) < 0)
                return negative_errno();
        if (!S_ISSOCK(st.st_mode))
                return -ENOTSOCK;

        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", sock);
        int r = netns_sockaddr_un(proc, ret_sa, ret_len);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(sock);
        return 0;
}

static int connect_collector(struct dump *d, int netns_fd, usec_t deadline)
{
        const char *address = d->route->address ? d->route->address : CONFIG_DEFAULT_ADDRESS;
        _cleanup_close_ int path_fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        if (address[0] == '/') {
                r = resolve_path_address(d, address, &path_fd, &sa, &len);
                if (r < 0)
                        return r;
        } else {
                r = netns_sockaddr_un(address, &sa, &len);
                if (r < 0)
                        return r;
        }
        /* Created inside the task's namespace: that is where abstract names are looked up. */
        return netns_connect_unix(netns_fd, SOCK_SEQPACKET, &sa, len, deadline);
}

/*
 * Trust: the process that listens must belong to the crashing task's own
 * container, or (trust "pod") to the same Kubernetes pod. Its identity is
 * its pidfd, taken from the connected socket; its cgroup is resolved like
 * the task's. Anything else (a host process, another container) is refused.
 */
static int check_trust(struct dump *d, int sock, const struct dump_env *env, char **ret_why)
{
        _cleanup_close_ int pidfd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct cdp_pidfd_info info;
        struct container_info peer = {};
        bool same;
        int r;

        pidfd = pidfd_from_peer(sock);
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

static int send_request(struct dump *d, int sock)
{
        _cleanup_free_ char *msg = NULL;
        const struct task_identity *t = &d->task;
        char time[32];
        size_t len = 0;
        usec_t now = io_now();
        int r;

        event_format_time(d->accepted_wall, time);
        struct collector_request req = {
                .version = COLLECTOR_PROTOCOL_VERSION,
                .id = d->id,
                .pid = t->ns_pid > 0 ? (int64_t) t->ns_pid : -1,
                .uid = t->ns_uid,
                .gid = t->ns_gid,
                .comm = t->comm[0] ? (char *) t->comm : NULL,
                .exe = t->exe,
                .cmdline = t->cmdline,
                .signal = t->signal,
                .time = time,
                .has_container = true,
                .runtime = (char *) runtime_to_string(d->container.runtime),
                .container_id = d->container.id,
                .pod_uid = d->container.pod_uid,
                .deadline_ms = d->deadline > now ? (d->deadline - now) / USEC_PER_MSEC : 0,
                .host_pid = d->route->expose_host ? (int64_t) t->pid : -1,
                .host_cgroup = d->route->expose_host ? t->cgroup_path : NULL,
        };

        r = collector_request_format(&req, &msg, &len);
        if (r < 0)
                return r;
        return fdpass_send(sock, msg, len, NULL, 0);
}

/* Receives one message of the protocol; no fds may come with it. */
static int recv_message(int sock, char *buf, size_t size, usec_t deadline, size_t *ret_len)
{
        int r = io_wait(sock, POLLIN, deadline);
        if (r < 0)
                return r;
        ssize_t k = fdpass_recv(sock, buf, size, NULL, 0, NULL, MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        if (k == 0)
                return -EPIPE; /* SEQPACKET: EOF, the collector closed */
        *ret_len = (size_t) k;
        return 0;
}

static int hand_over(struct dump *d, int sock)
{
        _cleanup_free_ char *msg = NULL;
        int fds[2] = { d->fd, d->pidfd };
        size_t len = 0;
        int r;

        r = collector_dump_format(d->id, &msg, &len);
        if (r < 0)
                return r;
        return fdpass_send(sock, msg, len, fds, d->route->pass_pidfd && d->pidfd >= 0 ? 2 : 1);
}

static int await_result(struct dump *d, int sock, char *buf)
{
        struct collector_result res = {};
        size_t len = 0;
        int r;

        r = recv_message(sock, buf, COLLECTOR_MSG_MAX + 1, d->deadline, &len);
        if (r < 0)
                return r;
        r = collector_result_parse(buf, len, &res);
        if (r < 0)
                return r;
        if (res.has_bytes) {
                d->have_bytes = true;
                d->bytes = res.bytes;
        }
        d->collector_path = TAKE_PTR(res.path);
        if (res.error)
                log_warning("%s: collector reports: %s", d->id, res.error);
        collector_result_done(&res);
        return 0;
}

int forward_dump(struct dump *d, const struct dump_env *env)
{
        const struct limits *lim = &d->setup->config->limits;
        _cleanup_close_ int netns = -EBADF;
        _cleanup_free_ char *why = NULL;
        /* On the worker's stack: every forward needs it, and messages are bounded. */
        char buf[COLLECTOR_MSG_MAX + 1];
        struct collector_answer answer = {};
        uint64_t ino;
        usec_t answer_deadline;
        size_t len = 0;
        int r;

        d->collector_address = strdup(d->route->address ? d->route->address : CONFIG_DEFAULT_ADDRESS);

        /* Only a container's own namespace can hold its collector. */
        if (!d->in_container)
                return fallback(d, REASON_HOST_TASK);
        if (!d->task.proc_valid)
                return fallback(d, REASON_TASK_GONE);
        netns = pidfd_get_namespace(d->pidfd, PIDFD_GET_NET_NAMESPACE);
        if (netns < 0 || identify_namespace_facts(d->pidfd, &env->identify, &d->task) < 0)
                return fallback(d, REASON_TASK_GONE);
        if (netns_inode(netns, &ino) < 0 || ino == env->host_netns)
                return fallback(d, REASON_HOST_NETWORK);

        answer_deadline = MIN(d->deadline, io_now() + lim->collector_timeout);
        r = connect_collector(d, netns, answer_deadline);
        if (r < 0) {
                log_debug("%s: no collector at %s: %s", d->id, d->collector_address, strerror(-r));
                return fallback(d, r == -ETIMEDOUT ? REASON_TIMEOUT : REASON_NO_COLLECTOR);
        }
        d->collector_fd = r;

        r = check_trust(d, d->collector_fd, env, &why);
        if (r <= 0) {
                log_warning("%s: refusing collector at %s: %s", d->id, d->collector_address,
                            r < 0 ? strerror(-r)
                            : why ? why
                                  : "not in the task's container");
                return fallback(d, REASON_UNTRUSTED);
        }

        /* Message 1 and 2: the kernel is still waiting for its ack, so a no costs nothing. */
        r = send_request(d, d->collector_fd);
        if (r < 0)
                return fallback(d, REASON_ERROR);
        r = recv_message(d->collector_fd, buf, COLLECTOR_MSG_MAX + 1, answer_deadline, &len);
        if (r == -ETIMEDOUT)
                return fallback(d, REASON_TIMEOUT);
        if (r >= 0)
                r = collector_answer_parse(buf, len, &answer);
        if (r < 0) {
                log_warning("%s: collector at %s answered badly: %s", d->id, d->collector_address,
                            strerror(-r));
                return fallback(d, REASON_ERROR);
        }
        if (!answer.accept) {
                log_info("%s: collector declined: %s", d->id, answer.reason ? answer.reason : "(no reason)");
                collector_answer_done(&answer);
                return fallback(d, REASON_DECLINED);
        }
        collector_answer_done(&answer);

        /* Message 3 carries the stream positioned at the ELF start: ack and mark come first. */
        r = dump_ack(d, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0) {
                dump_set_outcome(d, OUTCOME_FAILED, dump_ack_failure_reason(r));
                return 1;
        }
        r = hand_over(d, d->collector_fd);
        if (r < 0) {
                /* Nothing was read from the stream yet: the fallback still gets all of it. */
                log_warning("%s: passing the dump to the collector failed: %s", d->id, strerror(-r));
                return fallback(d, REASON_ERROR);
        }
        dump_set_state(d, DUMP_STREAMING);

        /* Message 4, until dump_timeout; our own reference keeps the stream until then. */
        r = await_result(d, d->collector_fd, buf);
        if (r == -ETIMEDOUT) {
                log_warning("%s: collector did not finish within dump_timeout", d->id);
                dump_set_outcome(d, OUTCOME_FAILED, "timeout");
        } else if (r < 0) {
                log_warning("%s: collector ended without a result: %s", d->id, strerror(-r));
                dump_set_outcome(d, OUTCOME_FAILED, "collector-error");
        } else {
                dump_set_outcome(d, OUTCOME_DELIVERED, "route");
        }
        return 1;
}
