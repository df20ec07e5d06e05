/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The "@@" request/ack/mark handling, on buffers and over a socketpair standing in for the kernel. */

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "tests/tap.h"

static void put_req(uint8_t *buf, uint32_t size, uint32_t size_ack, uint64_t mask)
{
        memcpy(buf, &size, 4);
        memcpy(buf + 4, &size_ack, 4);
        memcpy(buf + 8, &mask, 8);
}

static void test_parse(void)
{
        uint8_t buf[64] = {};
        struct coredump_req req;
        size_t consume = 0;

        put_req(buf, 16, 16, 0xF);
        is_int(coredump_req_parse(buf, 3, &req, &consume), -EAGAIN,
               "parse: fewer than 4 bytes waits for more");
        is_int(coredump_req_parse(buf, 10, &req, &consume), -EAGAIN,
               "parse: a partial request waits for more");
        is_int(coredump_req_parse(buf, 16, &req, &consume), 0, "parse: a 16 byte request");
        is_int(consume, 16, "parse: consumes exactly req.size");
        is_int(req.size_ack, 16, "parse: size_ack");
        is_int(req.mask, 0xF, "parse: mask");

        put_req(buf, 8, 16, 0xF);
        is_int(coredump_req_parse(buf, 16, &req, &consume), -EBADMSG, "parse: size below VER0 is malformed");
        put_req(buf, 0, 16, 0xF);
        is_int(coredump_req_parse(buf, 16, &req, &consume), -EBADMSG, "parse: size 0 is malformed");
        put_req(buf, COREDUMP_REQ_SIZE_MAX + 1, 16, 0xF);
        is_int(coredump_req_parse(buf, 64, &req, &consume), -EBADMSG, "parse: oversized request is refused");
        put_req(buf, UINT32_MAX, 16, 0xF);
        is_int(coredump_req_parse(buf, 64, &req, &consume), -EBADMSG, "parse: size 2^32-1 is refused");

        /* A newer kernel's 32 byte request (drafts add memory_types): the front is what we know. */
        put_req(buf, 32, 24, 0x7F);
        memset(buf + 16, 0xAA, 16);
        is_int(coredump_req_parse(buf, 24, &req, &consume), -EAGAIN,
               "parse: 32 byte request needs 32 bytes");
        is_int(coredump_req_parse(buf, 40, &req, &consume), 0, "parse: 32 byte request from a newer kernel");
        is_int(consume, 32, "parse: consumes the newer request whole");
        is_int(req.mask, 0x7F, "parse: keeps unknown mask bits for validation");
}

static void test_validate_and_ack(void)
{
        struct coredump_req req = { .size = 16, .size_ack = 16, .mask = COREDUMP_MASK_KNOWN };
        struct coredump_ack ack;

        is_int(coredump_req_validate(&req), 0, "validate: the 6.17 request");
        req.size_ack = 8;
        is_int(coredump_req_validate(&req), -EPROTO, "validate: an ack smaller than VER0 cannot be sent");
        req.size_ack = 16;
        req.mask = COREDUMP_KERNEL | COREDUMP_WAIT;
        is_int(coredump_req_validate(&req), -EOPNOTSUPP, "validate: a kernel without REJECT is refused");
        req.mask = COREDUMP_MASK_KNOWN | (1ULL << 4);
        is_int(coredump_req_validate(&req), 0, "validate: extra (future) bits are fine");

        req.mask = COREDUMP_MASK_KNOWN;
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL | COREDUMP_WAIT, &ack), 0, "ack: KERNEL|WAIT");
        is_int(ack.size, 16, "ack: size is the 16 bytes we know");
        is_int(ack.spare, 0, "ack: spare is zero");
        is_int(ack.mask, COREDUMP_KERNEL | COREDUMP_WAIT, "ack: mask");
        is_int(coredump_ack_build(&req, COREDUMP_REJECT, &ack), 0, "ack: REJECT alone");
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL | COREDUMP_REJECT, &ack), -EINVAL,
               "ack: two kinds conflict");
        is_int(coredump_ack_build(&req, COREDUMP_WAIT, &ack), -EINVAL, "ack: no kind conflicts");
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL | (1ULL << 63), &ack), -EOPNOTSUPP,
               "ack: a bit the kernel did not offer is refused");
        req.mask = COREDUMP_KERNEL | COREDUMP_REJECT;
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL | COREDUMP_WAIT, &ack), -EOPNOTSUPP,
               "ack: WAIT only when offered");
        req.mask = COREDUMP_MASK_KNOWN;
        req.size_ack = 24;
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL, &ack), 0, "ack: larger size_ack accepted");
        is_int(ack.size, 16, "ack: still sends the 16 bytes it knows");
        req.size_ack = 12;
        is_int(coredump_ack_build(&req, COREDUMP_KERNEL, &ack), -EPROTO, "ack: size_ack below 16");
}

static void test_marks(void)
{
        int seen[5];

        is_int(coredump_mark_to_errno(COREDUMP_MARK_REQACK), 0, "mark: REQACK is success");
        is_int(coredump_mark_to_errno(COREDUMP_MARK_MINSIZE), -EMSGSIZE, "mark: MINSIZE");
        is_int(coredump_mark_to_errno(COREDUMP_MARK_MAXSIZE), -E2BIG, "mark: MAXSIZE");
        is_int(coredump_mark_to_errno(COREDUMP_MARK_UNSUPPORTED), -EOPNOTSUPP, "mark: UNSUPPORTED");
        is_int(coredump_mark_to_errno(COREDUMP_MARK_CONFLICTING), -EINVAL, "mark: CONFLICTING");
        is_int(coredump_mark_to_errno(5), -EPROTO, "mark: unknown");
        is_int(coredump_mark_to_errno(UINT32_MAX), -EPROTO, "mark: garbage");
        for (uint32_t m = 0; m < 5; m++)
                seen[m] = coredump_mark_to_errno(m);
        bool distinct = true;
        for (int i = 0; i < 5; i++)
                for (int j = i + 1; j < 5; j++)
                        distinct = distinct && seen[i] != seen[j];
        ok(distinct, "mark: each mark has its own errno");
}

static void test_socket_io(void)
{
        int sv[2];
        uint8_t buf[64] = {};
        struct coredump_req req;
        uint32_t mark;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                ok(false, "socketpair");
                return;
        }
        _cleanup_close_ int kernel = sv[0], server = sv[1];

        /* A 32 byte request, then a mark and core bytes: recv must leave those in place. */
        put_req(buf, 32, 16, COREDUMP_MASK_KNOWN);
        memcpy(buf + 32,
               "\0\0\0\0\x7f"
               "ELF",
               8);
        ok(write(kernel, buf, 40) == 40, "io: kernel side wrote request+mark+ELF");
        is_int(coredump_req_recv(server, &req, io_now() + USEC_PER_SEC), 0, "io: request received");
        is_int(req.size, 32, "io: request size");
        is_int(coredump_mark_recv(server, &mark, io_now() + USEC_PER_SEC), 0,
               "io: mark follows the request");
        is_int(mark, COREDUMP_MARK_REQACK, "io: mark value");
        char elf[4] = {};
        ok(read(server, elf, 4) == 4 && memcmp(elf,
                                               "\x7f"
                                               "ELF",
                                               4) == 0,
           "io: the ELF magic is next");

        is_int(coredump_ack_send(server, &req, COREDUMP_KERNEL | COREDUMP_WAIT), 0, "io: ack sent");
        struct coredump_ack ack = {};
        ok(read(kernel, &ack, sizeof(ack)) == (ssize_t) sizeof(ack), "io: kernel side read 16 bytes");
        is_int(ack.size, 16, "io: ack size on the wire");
        is_int(ack.mask, COREDUMP_KERNEL | COREDUMP_WAIT, "io: ack mask on the wire");
        is_int(coredump_ack_send(server, &req, COREDUMP_KERNEL | COREDUMP_REJECT), -EINVAL,
               "io: an invalid ack is never sent");

        uint32_t m = COREDUMP_MARK_UNSUPPORTED;
        ok(write(kernel, &m, 4) == 4, "io: kernel side wrote UNSUPPORTED");
        is_int(coredump_mark_recv(server, &mark, io_now() + USEC_PER_SEC), -EOPNOTSUPP,
               "io: UNSUPPORTED mark maps to EOPNOTSUPP");
        is_int(mark, COREDUMP_MARK_UNSUPPORTED, "io: raw mark kept");

        is_int(coredump_mark_recv(server, &mark, io_now() + 50 * USEC_PER_MSEC), -ETIMEDOUT,
               "io: silence ends at the deadline");

        /* Truncated request, then EOF. */
        put_req(buf, 16, 16, COREDUMP_MASK_KNOWN);
        ok(write(kernel, buf, 8) == 8, "io: kernel side wrote half a request");
        kernel = safe_close(kernel);
        is_int(coredump_req_recv(server, &req, io_now() + USEC_PER_SEC), -EPIPE,
               "io: EOF inside a request is an error, not a hang");
}

static void test_socket_malformed(void)
{
        int sv[2];
        uint8_t buf[16];
        struct coredump_req req;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                ok(false, "socketpair");
                return;
        }
        _cleanup_close_ int kernel = sv[0], server = sv[1];
        put_req(buf, 9000, 16, COREDUMP_MASK_KNOWN);
        ok(write(kernel, buf, 16) == 16, "io: kernel side wrote an oversized size");
        is_int(coredump_req_recv(server, &req, io_now() + USEC_PER_SEC), -EBADMSG,
               "io: oversized request refused before reading it");
        char left[16];
        is_int(recv(server, left, sizeof(left), MSG_DONTWAIT), 16,
               "io: nothing consumed from a bad request");
}

int main(void)
{
        test_parse();
        test_validate_and_ack();
        test_marks();
        test_socket_io();
        test_socket_malformed();
        return tap_done();
}
