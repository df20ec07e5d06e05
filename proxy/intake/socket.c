/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/pidfd.h"
#include "proxy/base/log.h"
#include "proxy/intake/pipe.h"
#include "proxy/intake/socket.h"

/* The kernel sends its request (or the first ELF bytes) right after connecting. */
#define PROTOCOL_TIMEOUT (5 * USEC_PER_SEC)

static usec_t protocol_deadline(const struct dump *d)
{
        return MIN(d->deadline, io_now() + PROTOCOL_TIMEOUT);
}

int intake_socket_accept(int listen_fd, struct proxy_setup *setup, struct dump **ret)
{
        _cleanup_close_ int fd = -EBADF, pidfd = -EBADF;
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        int r;

        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        /* The pidfd now, while the peer is certainly registered; everything slow runs on a worker. */
        pidfd = pidfd_from_peer(fd);
        (void) getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len);

        r = dump_new(fd, pidfd, cred.pid, setup, ret);
        if (r < 0)
                return r;
        fd = pidfd = -EBADF; /* the dump owns them */
        return 0;
}

int intake_handshake(struct dump *d)
{
        int r;

        /* A pipe has nothing to say before the core; its hand-off was settled by intake_pipe_claim(). */
        if (d->mode == DUMP_MODE_PIPE)
                return 0;

        r = coredump_conn_is_request(d->fd, protocol_deadline(d));
        if (r < 0)
                return r;
        d->mode = r > 0 ? DUMP_MODE_REQUEST : DUMP_MODE_PLAIN;
        if (d->mode == DUMP_MODE_PLAIN)
                return 0;
        r = coredump_req_recv(d->fd, &d->req, protocol_deadline(d));
        if (r < 0)
                return r;
        return coredump_req_validate(&d->req);
}

int intake_ack_early(struct dump *d)
{
        int r;

        if (d->mode != DUMP_MODE_REQUEST || dump_get_state(d) >= DUMP_ACKED || d->ack_sent)
                return 0;
        r = coredump_ack_send(d->fd, &d->req, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0)
                return pidfd_has_exited(d->pidfd) > 0 ? -ESRCH : r;
        d->ack_sent = true;
        return 0;
}

int intake_ack(struct dump *d, uint64_t mask)
{
        uint32_t mark = COREDUMP_MARK_REQACK;
        int r;

        /* A pipe is refused by closing it unread: the kernel's next write fails. */
        if (d->mode == DUMP_MODE_PIPE && mask == COREDUMP_REJECT)
                intake_pipe_close(d);
        if (d->mode != DUMP_MODE_REQUEST || dump_get_state(d) >= DUMP_ACKED)
                return 0;
        /* Acked early: the kernel writes already; only its mark is left to read, and no refusal. */
        if (d->ack_sent && mask == COREDUMP_REJECT)
                return 0;
        /*
         * WAIT holds the task until we let it go: gone since the early ack, it was killed, and
         * the kernel stopped writing its core part way. Not a core, whoever would read it.
         */
        if (d->ack_sent && pidfd_has_exited(d->pidfd) > 0) {
                log_warning("%s: the task was killed after the early ack; its core is incomplete", d->id);
                return -ESRCH;
        }
        r = d->ack_sent ? 0 : coredump_ack_send(d->fd, &d->req, mask);
        if (r < 0)
                return pidfd_has_exited(d->pidfd) > 0 ? -ESRCH : r;
        r = coredump_mark_recv(d->fd, &mark, protocol_deadline(d));
        if (r < 0 && mark != COREDUMP_MARK_REQACK)
                log_warning("%s: kernel answered the ack with mark %u (%s)", d->id, mark,
                            coredump_mark_to_string(mark));
        if (r < 0)
                return pidfd_has_exited(d->pidfd) > 0 ? -ESRCH : r;
        dump_set_state(d, DUMP_ACKED);
        return 0;
}

int intake_reject(struct dump *d)
{
        return intake_ack(d, COREDUMP_REJECT);
}

enum dump_reason intake_failure_reason(int error)
{
        /* A task killed (SIGKILL) while held ends the kernel's side of the handshake. */
        if (error == -ESRCH)
                return REASON_TASK_GONE;
        /* The dump's deadline passed (spent waiting for a collector, say): not the kernel's fault. */
        if (error == -ETIMEDOUT)
                return REASON_TIMEOUT;
        return REASON_PROTOCOL_ERROR;
}
