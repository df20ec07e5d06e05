/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"

int coredump_req_parse(const void *buf, size_t len, struct coredump_req *ret, size_t *ret_consume)
{
        struct coredump_req req = {};
        uint32_t size;

        if (len < sizeof(size))
                return -EAGAIN;
        memcpy(&size, buf, sizeof(size));
        if (size < COREDUMP_REQ_SIZE_VER0 || size > COREDUMP_REQ_SIZE_MAX)
                return -EBADMSG;
        if (len < size)
                return -EAGAIN;

        /* A newer kernel may send more; the fields we know are at the front. */
        memcpy(&req, buf, sizeof(req));
        *ret = req;
        *ret_consume = size;
        return 0;
}

int coredump_req_validate(const struct coredump_req *req)
{
        if (req->size < COREDUMP_REQ_SIZE_VER0)
                return -EBADMSG;
        if (req->size_ack < COREDUMP_ACK_SIZE_VER0)
                return -EPROTO;
        if ((req->mask & (COREDUMP_KERNEL | COREDUMP_REJECT)) != (COREDUMP_KERNEL | COREDUMP_REJECT))
                return -EOPNOTSUPP;
        return 0;
}

int coredump_ack_build(const struct coredump_req *req, uint64_t mask, struct coredump_ack *ret)
{
        uint64_t kind = mask & (COREDUMP_KERNEL | COREDUMP_USERSPACE | COREDUMP_REJECT);

        if (req->size_ack < COREDUMP_ACK_SIZE_VER0)
                return -EPROTO;
        if (mask & ~req->mask)
                return -EOPNOTSUPP;
        if (__builtin_popcountll(kind) != 1)
                return -EINVAL;

        *ret = (struct coredump_ack){
                .size = sizeof(struct coredump_ack),
                .spare = 0,
                .mask = mask,
        };
        return 0;
}

int coredump_mark_to_errno(uint32_t mark)
{
        switch (mark) {
        case COREDUMP_MARK_REQACK:
                return 0;
        case COREDUMP_MARK_MINSIZE:
                return -EMSGSIZE;
        case COREDUMP_MARK_MAXSIZE:
                return -E2BIG;
        case COREDUMP_MARK_UNSUPPORTED:
                return -EOPNOTSUPP;
        case COREDUMP_MARK_CONFLICTING:
                return -EINVAL;
        default:
                return -EPROTO;
        }
}

const char *coredump_mark_to_string(uint32_t mark)
{
        switch (mark) {
        case COREDUMP_MARK_REQACK:
                return "reqack";
        case COREDUMP_MARK_MINSIZE:
                return "minsize";
        case COREDUMP_MARK_MAXSIZE:
                return "maxsize";
        case COREDUMP_MARK_UNSUPPORTED:
                return "unsupported";
        case COREDUMP_MARK_CONFLICTING:
                return "conflicting";
        default:
                return "unknown";
        }
}

/* Peeks until want bytes are queued, so that nothing is consumed before we know the size. */
static int peek_at_least(int fd, void *buf, size_t want, usec_t deadline)
{
        for (;;) {
                ssize_t k = recv(fd, buf, want, MSG_PEEK | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return negative_errno();
                        int r = io_wait(fd, POLLIN, deadline);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k == 0)
                        return -EPIPE; /* EOF before the whole record */
                if ((size_t) k >= want)
                        return 0;

                /*
                 * The kernel sends each record with one sendmsg(), so a partial
                 * one is all but impossible; poll() cannot wait for "more" while
                 * some bytes are queued, so back off briefly, and give up if the
                 * peer shut down mid-record.
                 */
                struct pollfd p = { .fd = fd, .events = POLLRDHUP };
                if (poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP)))
                        return -EPIPE;
                if (deadline != USEC_INFINITY && io_now() >= deadline)
                        return -ETIMEDOUT;
                (void) usleep(1000);
        }
}

int coredump_conn_is_request(int fd, usec_t deadline)
{
        uint8_t magic[4];
        int r;

        r = peek_at_least(fd, magic, sizeof(magic), deadline);
        if (r < 0)
                return r;
        return memcmp(magic, "\177ELF", sizeof(magic)) != 0;
}

int coredump_req_recv(int fd, struct coredump_req *ret, usec_t deadline)
{
        uint8_t buf[COREDUMP_REQ_SIZE_MAX];
        struct coredump_req req;
        size_t consume;
        int r;

        r = peek_at_least(fd, buf, sizeof(uint32_t), deadline);
        if (r < 0)
                return r;
        r = coredump_req_parse(buf, sizeof(uint32_t), &req, &consume);
        if (r != -EAGAIN && r < 0)
                return r;

        uint32_t size;
        memcpy(&size, buf, sizeof(size));
        r = peek_at_least(fd, buf, size, deadline);
        if (r < 0)
                return r;
        r = coredump_req_parse(buf, size, &req, &consume);
        if (r < 0)
                return r;

        /* Consume exactly req.size bytes: what follows belongs to the mark and the core. */
        ssize_t k = RETRY_EINTR(recv(fd, buf, consume, MSG_DONTWAIT));
        if (k < 0)
                return negative_errno();
        if ((size_t) k != consume)
                return -EIO;

        *ret = req;
        return 0;
}

int coredump_ack_send(int fd, const struct coredump_req *req, uint64_t mask)
{
        struct coredump_ack ack;
        int r;

        r = coredump_ack_build(req, mask, &ack);
        if (r < 0)
                return r;

        ssize_t k = RETRY_EINTR(send(fd, &ack, sizeof(ack), MSG_NOSIGNAL));
        if (k < 0)
                return negative_errno();
        if ((size_t) k != sizeof(ack))
                return -EIO;
        return 0;
}

int coredump_mark_recv(int fd, uint32_t *ret_mark, usec_t deadline)
{
        uint32_t mark;
        int r;

        r = peek_at_least(fd, &mark, sizeof(mark), deadline);
        if (r < 0)
                return r;
        ssize_t k = RETRY_EINTR(recv(fd, &mark, sizeof(mark), MSG_DONTWAIT));
        if (k < 0)
                return negative_errno();
        if ((size_t) k != sizeof(mark))
                return -EIO;

        *ret_mark = mark;
        return coredump_mark_to_errno(mark);
}
