/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One hand-off to systemd-coredump: connect (the host's socket, or the
 * path inside the task's root, resolved like a forward's path address),
 * check who listens (root on the host; in a container the forward's rules,
 * trust.c), send the fields while the kernel still waits for its ack (a
 * failure costs nothing: the route's fallback gets the whole core), ack,
 * pass the core's fd, and wait for systemd-coredump to close the
 * connection: it does once it has read the core. It reads the core
 * itself, so this worker waits like the host store's writer does.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/fdpass.h"
#include "kernel/netns.h"
#include "proxy/act/forward.h"
#include "proxy/act/systemd.h"
#include "proxy/act/trust.h"
#include "proxy/base/log.h"
#include "proxy/intake/socket.h"
#include "proxy/protocol/sdcoredump.h"

/* HOST_NAME_MAX is 64; room for a newline and more. */
#define SYSTEMD_HOSTNAME_MAX 256

static int send_field(int sock, const char *field, usec_t deadline)
{
        for (;;) {
                int r = fdpass_send(sock, field, strlen(field), NULL, 0);
                /* A unix socket queues few datagrams (net.unix.max_dgram_qlen): wait for the reader. */
                if (r != -EAGAIN)
                        return r;
                r = io_wait(sock, POLLOUT, deadline);
                if (r < 0)
                        return r;
        }
}

/* The host's listener must be root's: /run/systemd is, and a socket there is systemd's. */
static int check_host_listener(int sock)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);

        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return negative_errno();
        return cred.uid == 0;
}

static struct act_result reach(struct dump *d, const struct dump_env *env, int sock, usec_t deadline)
{
        _cleanup_close_ int path_fd = -EBADF, listener = -EBADF;
        _cleanup_free_ char *why = NULL;
        bool in = d->route->where == SYSTEMD_WHERE_CONTAINER;
        struct sockaddr_un sa;
        uint32_t listener_pid;
        socklen_t len;
        int r;

        r = in ? forward_resolve_path(d, d->collector_address, &path_fd, &sa, &len)
               : netns_sockaddr_un(d->collector_address, &sa, &len);
        if (r >= 0)
                r = netns_connect_wait(sock, &sa, len, deadline);
        if (r < 0) {
                log_info("%s: no systemd-coredump at %s: %s", d->id, d->collector_address, strerror(-r));
                return act_fallback(r == -ESRCH ? REASON_TASK_GONE : REASON_NO_SYSTEMD_COREDUMP);
        }
        r = in ? trust_check_listener(d, sock, env, &listener, &listener_pid, &why)
               : check_host_listener(sock);
        if (r <= 0) {
                log_warning("%s: refusing systemd-coredump at %s: %s", d->id, d->collector_address,
                            r < 0 ? strerror(-r)
                            : why ? why
                            : in  ? "not in the task's container"
                                  : "not root's");
                return act_fallback(REASON_UNTRUSTED_SYSTEMD_COREDUMP);
        }
        return act_continue();
}

/* The task's RLIMIT_CORE, which systemd-coredump honours (the socket itself ignores it). */
static uint64_t core_limit(const struct dump *d)
{
        _cleanup_free_ char *text = NULL;
        uint64_t v;

        if (!d->task.have_proc_dir ||
            io_read_proc_file_at(d->task.proc_dir_fd, "limits", 16384, &text) < 0 ||
            sdcoredump_parse_core_limit(text, &v) < 0)
                return UINT64_MAX;
        return v;
}

static int host_hostname(char buf[static SYSTEMD_HOSTNAME_MAX])
{
        _cleanup_free_ char *text = NULL;
        int r;

        /* Our UTS namespace is the host's; /proc rather than uname(2), which the sandbox does not allow. */
        r = io_read_proc_file_at(AT_FDCWD, "/proc/sys/kernel/hostname", SYSTEMD_HOSTNAME_MAX - 1, &text);
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';
        memcpy(buf, text, strlen(text) + 1);
        return 0;
}

/* The fields, while the kernel still waits for its ack. */
static struct act_result offer(struct dump *d, int sock, usec_t deadline)
{
        _cleanup_(sdcoredump_fields_done) struct sdcoredump_fields f = {};
        char hostname[SYSTEMD_HOSTNAME_MAX] = "";
        bool in = d->route->where == SYSTEMD_WHERE_CONTAINER;
        int r;

        if (!in && host_hostname(hostname) < 0)
                return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
        r = sdcoredump_fields_make(&d->record, d->route->where, in ? NULL : hostname, core_limit(d), &f);
        if (r < 0) {
                log_warning("%s: no fields for systemd-coredump: %s", d->id, strerror(-r));
                return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
        }
        for (size_t i = 0; i < f.n; i++) {
                r = send_field(sock, f.field[i], deadline);
                if (r < 0) {
                        log_warning("%s: sending to systemd-coredump failed: %s", d->id, strerror(-r));
                        return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
                }
        }
        return act_continue();
}

/* The core's fd in a zero-length datagram, then the wait for systemd-coredump to have read it. */
static struct act_result hand_over(struct dump *d, int sock)
{
        char byte;
        int r;

        r = intake_ack(d, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0)
                return act_done(OUTCOME_FAILED, intake_failure_reason(r));
        r = fdpass_send(sock, NULL, 0, &d->fd, 1);
        if (r < 0) {
                /* Nothing was read from the stream yet: the fallback still gets all of it. */
                log_warning("%s: passing the dump to systemd-coredump failed: %s", d->id, strerror(-r));
                return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
        }
        dump_set_state(d, DUMP_STREAMING);
        for (;;) {
                r = io_wait(sock, POLLIN, d->deadline);
                if (r < 0) {
                        log_warning("%s: systemd-coredump did not finish: %s", d->id, strerror(-r));
                        return act_done(OUTCOME_FAILED,
                                        r == -ETIMEDOUT ? REASON_TIMEOUT : REASON_SYSTEMD_COREDUMP_ERROR);
                }
                ssize_t k = recv(sock, &byte, 1, MSG_DONTWAIT);
                if (k == 0 || (k < 0 && errno == ECONNRESET))
                        break; /* closed: it is done with the core */
                if (k < 0 && errno != EAGAIN && errno != EINTR)
                        return act_done(OUTCOME_FAILED, REASON_SYSTEMD_COREDUMP_ERROR);
                /* It says nothing on this socket: anything it sends is ignored. */
        }
        return act_done(OUTCOME_DELIVERED, REASON_ROUTE);
}

struct act_result act_systemd(struct dump *d, const struct dump_env *env)
{
        const struct limits *lim = &d->setup->config->limits;
        _cleanup_close_ int sock = -EBADF;
        usec_t deadline = MIN(d->deadline, io_now() + lim->collector_timeout);
        struct act_result res;

        if (d->route->where == SYSTEMD_WHERE_CONTAINER) {
                if (!d->in_container)
                        return act_fallback(REASON_HOST_TASK);
                /* setuid-style dumps are privileged: never handed to a container. */
                if (d->task.coredump_mask & PIDFD_COREDUMP_ROOT)
                        return act_fallback(REASON_SENSITIVE);
                if (!d->task.proc_valid || identify_namespace_facts(d->pidfd, &env->identify, &d->task) < 0)
                        return act_fallback(REASON_TASK_GONE);
                /* The ids as the container sees them are known now. */
                dump_describe(d);
        }
        d->collector_address =
                strdup(d->route->address ? d->route->address : CONFIG_DEFAULT_SYSTEMD_ADDRESS);
        if (!d->collector_address)
                return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
        sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (sock < 0)
                return act_fallback(REASON_SYSTEMD_COREDUMP_ERROR);
        trust_refuse_rights(sock);

        res = reach(d, env, sock, deadline);
        if (res.status != ACT_CONTINUE)
                return res;
        res = offer(d, sock, deadline);
        if (res.status != ACT_CONTINUE)
                return res;
        /* Published for a stop that shuts down every dump in flight; closed by dump_free(). */
        __atomic_store_n(&d->collector_fd, TAKE_FD(sock), __ATOMIC_RELEASE);
        return hand_over(d, d->collector_fd);
}
