/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One forward: where the collector is (the task's own network namespace,
 * never the host's), who listens there (trust), then the collector
 * protocol: request and answer while the kernel still waits for its ack,
 * the stream handed over, and the collector's result.
 */

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

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/fdpass.h"
#include "kernel/netns.h"
#include "kernel/pidfd.h"
#include "proxy/act/forward.h"
#include "proxy/act/hostnet.h"
#include "proxy/act/trust.h"
#include "proxy/act/watch.h"
#include "proxy/base/log.h"
#include "proxy/base/procaccess.h"
#include "proxy/intake/socket.h"
#include "proxy/protocol/collector-msg.h"

/* How long a worker waits for a collector's result itself before the watch takes over. */
#define FORWARD_RESULT_INLINE (50 * USEC_PER_MSEC)

/*
 * A path address names a socket inside the task's root. It is resolved
 * with RESOLVE_IN_ROOT from the task's /proc/<pid>/root, so ".." and
 * symlinks cannot leave the container, and connected to through
 * /proc/self/fd: no chroot, no setns into its mount namespace, no exec.
 */
int forward_resolve_path(struct dump *d, const char *path, int *ret_fd, struct sockaddr_un *ret_sa,
                         socklen_t *ret_len)
{
        _cleanup_close_ int root = -EBADF, sock = -EBADF;
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        char proc[64];
        struct stat st;
        int r;

        /* Only reached with proc_valid: identify kept /proc/<pid>, bound to the task. */
        if (!d->task.have_proc_dir)
                return -ESRCH;
        root = procaccess_root(d->task.proc_dir_fd);
        if (root < 0)
                return root;
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
        r = netns_sockaddr_un(proc, ret_sa, ret_len);
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(sock);
        return 0;
}

/* sock was made inside the task's namespace: that is where abstract names are looked up. */
static int connect_collector(struct dump *d, int sock, usec_t deadline)
{
        _cleanup_close_ int path_fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t len;
        int r;

        if (d->collector_address[0] == '/')
                r = forward_resolve_path(d, d->collector_address, &path_fd, &sa, &len);
        else
                r = netns_sockaddr_un(d->collector_address, &sa, &len);
        if (r < 0)
                return r;
        return netns_connect_wait(sock, &sa, len, deadline);
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

/*
 * Where the collector can be: the task's own network namespace, never the host's. *ret_sock is
 * made there, and says who sends each message it receives.
 */
static struct act_result locate(struct dump *d, const struct dump_env *env, int *ret_sock)
{
        _cleanup_close_ int netns = -EBADF, sock = -EBADF;
        const char *why = NULL;

        if (!d->in_container)
                return act_fallback(REASON_HOST_TASK);
        if (!d->task.proc_valid)
                return act_fallback(REASON_TASK_GONE);
        /* Taken with the task's other facts while it was held (identify), or asked for now. */
        if (d->task.have_netns) {
                netns = TAKE_FD(d->task.netns_fd);
                d->task.have_netns = false;
        } else {
                netns = procaccess_netns(d->pidfd);
        }
        if (netns < 0 || identify_namespace_facts(d->pidfd, &env->identify, &d->task) < 0)
                return act_fallback(REASON_TASK_GONE);
        /* The ids the collector sees are known now. */
        dump_describe(d);
        sock = netns_socket(netns, AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK);
        if (sock < 0 || trust_prepare_socket(sock) < 0)
                return act_fallback(REASON_COLLECTOR_ERROR);
        if (hostnet_check(d, env, netns, sock, &why) != 0) {
                log_info("%s: not forwarded into the task's network namespace: %s", d->id, why);
                return act_fallback(REASON_HOST_NETWORK);
        }
        *ret_sock = TAKE_FD(sock);
        return act_continue();
}

/* Connects, and makes sure the listener is the container's own (*listener: its pidfd). */
static struct act_result reach(struct dump *d, const struct dump_env *env, int *sock, int *listener,
                               uint32_t *listener_pid, usec_t deadline)
{
        _cleanup_free_ char *why = NULL;
        int r;

        r = connect_collector(d, *sock, deadline);
        if (r < 0) {
                log_debug("%s: no collector at %s: %s", d->id, d->collector_address, strerror(-r));
                return act_fallback(r == -ETIMEDOUT ? REASON_COLLECTOR_TIMEOUT : REASON_NO_COLLECTOR);
        }
        /* Published for a stop that shuts down every dump in flight. */
        __atomic_store_n(&d->collector_fd, TAKE_FD(*sock), __ATOMIC_RELEASE);

        r = trust_check_listener(d, d->collector_fd, env, listener, listener_pid, &why);
        if (r <= 0) {
                log_warning("%s: refusing collector at %s: %s", d->id, d->collector_address,
                            r < 0 ? strerror(-r)
                            : why ? why
                                  : "not in the task's container");
                return act_fallback(REASON_UNTRUSTED_COLLECTOR);
        }
        return act_continue();
}

/*
 * Message 2, and whether whoever sent it may have the dump: the same rules as for the listener,
 * for the process the kernel names as its sender. -EPERM: not trusted.
 */
static int recv_answer(struct dump *d, const struct dump_env *env, int listener, uint32_t listener_pid,
                       char *buf, usec_t deadline, size_t *ret_len)
{
        _cleanup_free_ char *why = NULL;
        struct fdpass_sender sender = { .pidfd = -EBADF };
        ssize_t k;
        int r;

        r = io_wait(d->collector_fd, POLLIN, deadline);
        if (r < 0)
                return r;
        k = fdpass_recv_sender(d->collector_fd, buf, COLLECTOR_MSG_MAX + 1, &sender, MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        trust_end_credentials(d->collector_fd);
        r = k == 0 ? -EPIPE : trust_check_sender(d, env, &sender, listener, listener_pid, &why);
        sender.pidfd = safe_close(sender.pidfd);
        if (r <= 0 && k > 0) {
                log_warning("%s: refusing the answer of the collector at %s: %s", d->id,
                            d->collector_address,
                            r < 0 ? strerror(-r)
                            : why ? why
                                  : "untrusted sender");
                return -EPERM;
        }
        if (r < 0)
                return r;
        *ret_len = (size_t) k;
        return 0;
}

/* Messages 1 and 2: the kernel still waits for its ack, so a no costs nothing. */
static struct act_result offer(struct dump *d, const struct dump_env *env, int listener,
                               uint32_t listener_pid, char *buf, usec_t deadline)
{
        _cleanup_free_ char *msg = NULL;
        struct collector_answer answer = {};
        usec_t now = io_now();
        size_t len = 0;
        int r;

        r = collector_request_format(
                &d->record, 0, d->deadline > now ? (d->deadline - now) / USEC_PER_MSEC : 0, &msg, &len);
        if (r >= 0)
                r = fdpass_send(d->collector_fd, msg, len, NULL, 0);
        if (r < 0)
                return act_fallback(REASON_COLLECTOR_ERROR);

        r = recv_answer(d, env, listener, listener_pid, buf, deadline, &len);
        if (r == -ETIMEDOUT)
                return act_fallback(REASON_COLLECTOR_TIMEOUT);
        if (r == -EPERM)
                return act_fallback(REASON_UNTRUSTED_COLLECTOR);
        if (r >= 0)
                r = collector_answer_parse(buf, len, &answer);
        if (r < 0) {
                log_warning("%s: collector at %s answered badly: %s", d->id, d->collector_address,
                            strerror(-r));
                return act_fallback(REASON_COLLECTOR_ERROR);
        }
        if (!answer.accept) {
                log_info("%s: collector declined: %s", d->id, answer.reason ? answer.reason : "(no reason)");
                collector_answer_done(&answer);
                return act_fallback(REASON_COLLECTOR_DECLINED);
        }
        collector_answer_done(&answer);
        return act_continue();
}

/* Message 3: the stream, positioned at the ELF start (ack and mark come first). */
static struct act_result hand_over(struct dump *d)
{
        _cleanup_free_ char *msg = NULL;
        int fds[2] = { d->fd, d->pidfd };
        size_t len = 0;
        int r;

        r = intake_ack(d, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0)
                return act_done(OUTCOME_FAILED, intake_failure_reason(r));
        r = collector_dump_format(d->id, &msg, &len);
        if (r >= 0)
                r = fdpass_send(d->collector_fd, msg, len, fds,
                                d->route->pass_pidfd && d->pidfd >= 0 ? 2 : 1);
        if (r < 0) {
                /* Nothing was read from the stream yet: the fallback still gets all of it. */
                log_warning("%s: passing the dump to the collector failed: %s", d->id, strerror(-r));
                return act_fallback(REASON_COLLECTOR_ERROR);
        }
        dump_set_state(d, DUMP_STREAMING);
        return act_continue();
}

/*
 * A collector that failed before reading says so ("consumed": false); the
 * stream's head still being the ELF magic confirms it, so the fallback gets
 * the whole core. Both are needed: a mistaken collector must not make the
 * fallback keep a core that starts in its middle.
 */
static bool stream_untouched(struct dump *d, const struct collector_result *res)
{
        if (!res->has_consumed || res->consumed)
                return false;
        /* A pipe is looked at through tee(2), which consumes nothing. */
        if (d->mode == DUMP_MODE_PIPE)
                return io_pipe_starts_with_elf(d->fd, MIN(d->deadline, io_now() + USEC_PER_SEC)) > 0;
        return coredump_conn_is_request(d->fd, MIN(d->deadline, io_now() + USEC_PER_SEC)) == 0;
}

struct act_result forward_collect(struct dump *d)
{
        _cleanup_free_ char *buf = malloc(COLLECTOR_MSG_MAX + 1);
        struct collector_result res = {};
        struct act_result out;
        size_t len = 0;
        int r;

        if (!buf)
                return act_done(OUTCOME_FAILED, REASON_COLLECTOR_ERROR);
        r = recv_message(d->collector_fd, buf, COLLECTOR_MSG_MAX + 1, io_now(), &len);
        if (r >= 0)
                r = collector_result_parse(buf, len, &res);
        if (r < 0) {
                log_warning("%s: collector ended without a result: %s", d->id, strerror(-r));
                return act_done(OUTCOME_FAILED, REASON_COLLECTOR_ERROR);
        }

        if (res.error)
                log_warning("%s: collector reports: %s", d->id, res.error);
        if (res.has_bytes && !res.error) {
                d->record.kept = true;
                d->record.bytes = res.bytes;
                d->collector_path = TAKE_PTR(res.path);
                out = act_done(OUTCOME_DELIVERED, REASON_ROUTE);
        } else if (stream_untouched(d, &res)) {
                out = act_fallback(REASON_COLLECTOR_ERROR);
        } else {
                out = act_done(OUTCOME_FAILED, REASON_COLLECTOR_ERROR);
        }
        collector_result_done(&res);
        return out;
}

struct act_result act_forward(struct dump *d, const struct dump_env *env)
{
        const struct limits *lim = &d->setup->config->limits;
        _cleanup_close_ int sock = -EBADF, listener = -EBADF;
        uint32_t listener_pid = 0;
        /* On the worker's stack: every forward needs it, and messages are bounded. */
        char buf[COLLECTOR_MSG_MAX + 1];
        struct act_result res;
        usec_t answer_deadline;

        d->collector_address = strdup(d->route->address ? d->route->address : CONFIG_DEFAULT_ADDRESS);
        if (!d->collector_address)
                return act_fallback(REASON_COLLECTOR_ERROR);

        /*
         * With the host store behind the forward every byte is kept whatever the
         * collector says, and nothing is read before the fd passes: the kernel may
         * write while we find and ask the collector. A reject fallback (or no store)
         * keeps the ack for after the collector's yes, so that a no costs nothing.
         * A store found full later fails the dump that a REJECT would have lost too.
         */
        if (d->route->fallback == ACTION_STORE && d->setup->store) {
                int r = intake_ack_early(d);
                if (r < 0)
                        return act_done(OUTCOME_FAILED, intake_failure_reason(r));
        }

        res = locate(d, env, &sock);
        if (res.status != ACT_CONTINUE)
                return res;
        answer_deadline = MIN(d->deadline, io_now() + lim->collector_timeout);
        res = reach(d, env, &sock, &listener, &listener_pid, answer_deadline);
        if (res.status != ACT_CONTINUE)
                return res;
        res = offer(d, env, listener, listener_pid, buf, answer_deadline);
        if (res.status != ACT_CONTINUE)
                return res;
        res = hand_over(d);
        if (res.status != ACT_CONTINUE)
                return res;
        /*
         * Most dumps are written within milliseconds: their result is taken here,
         * without waking another thread. A collector that takes longer (a large
         * core, a slow disk, a collector that never answers) is left to the
         * watch, and this worker goes on to the next dump.
         */
        if (io_wait(d->collector_fd, POLLIN, MIN(d->deadline, io_now() + FORWARD_RESULT_INLINE)) > 0)
                return forward_collect(d);
        return watch_add(env->watch, d) >= 0 ? act_watch() : act_done(OUTCOME_FAILED, REASON_OVERLOAD);
}
