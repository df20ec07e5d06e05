/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: the "@@" request and the ack built from it. The kernel is the
 * only legitimate sender, but anyone who can connect to the socket can send
 * the first bytes of a connection (the daemon checks the peer afterwards), and
 * future kernels send larger requests: parsing must hold for any bytes, and the
 * ack must never carry what the kernel did not offer. The input is a request
 * as it arrives; its last 8 bytes double as an ack mask to try.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/coredump-proto.h"

/* A broken promise of the API is a finding too: crash, so that libFuzzer keeps the input. */
#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

#define KINDS (COREDUMP_KERNEL | COREDUMP_USERSPACE | COREDUMP_REJECT)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void try_ack(const struct coredump_req *req, uint64_t mask)
{
        struct coredump_ack ack, untouched;
        int r;

        memset(&ack, 0x5a, sizeof(ack));
        untouched = ack;
        r = coredump_ack_build(req, mask, &ack);
        CHECK(r == 0 || r == -EPROTO || r == -EOPNOTSUPP || r == -EINVAL);
        if (r < 0) {
                /* out-parameters are written only on success */
                CHECK(memcmp(&ack, &untouched, sizeof(ack)) == 0);
                return;
        }
        CHECK(ack.size == COREDUMP_ACK_SIZE_VER0 && ack.spare == 0 && ack.mask == mask);
        /* the kernel answers anything else with a mark, and the dump is lost */
        CHECK(req->size_ack >= COREDUMP_ACK_SIZE_VER0);
        CHECK((mask & ~req->mask) == 0);
        CHECK(__builtin_popcountll(mask & KINDS) == 1);
}

static void fuzz_request(const struct coredump_req *req, uint64_t extra_mask)
{
        static const uint64_t masks[] = {
                COREDUMP_KERNEL,    COREDUMP_KERNEL | COREDUMP_WAIT,
                COREDUMP_REJECT,    COREDUMP_REJECT | COREDUMP_WAIT,
                COREDUMP_USERSPACE, COREDUMP_KERNEL | COREDUMP_REJECT,
                COREDUMP_WAIT,      0,
        };
        int r;

        r = coredump_req_validate(req);
        CHECK(r == 0 || r == -EBADMSG || r == -EPROTO || r == -EOPNOTSUPP);
        if (r == 0) {
                struct coredump_ack ack;

                /* validate() promises that the two answers the daemon gives can be built */
                CHECK(coredump_ack_build(req, COREDUMP_KERNEL, &ack) == 0);
                CHECK(coredump_ack_build(req, COREDUMP_REJECT, &ack) == 0);
        }
        for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
                try_ack(req, masks[i]);
        try_ack(req, extra_mask);
        try_ack(req, req->mask);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct coredump_req req, raw = {};
        uint64_t extra_mask = 0;
        uint32_t size_field = 0, mark = 0;
        size_t consume = SIZE_MAX;
        int r;

        if (size >= sizeof(extra_mask))
                memcpy(&extra_mask, data + size - sizeof(extra_mask), sizeof(extra_mask));

        memset(&req, 0x5a, sizeof(req));
        r = coredump_req_parse(data, size, &req, &consume);
        CHECK(r == 0 || r == -EAGAIN || r == -EBADMSG);
        if (size >= sizeof(size_field))
                memcpy(&size_field, data, sizeof(size_field));
        if (r == 0) {
                CHECK(req.size == size_field);
                CHECK(consume == req.size && consume <= size);
                CHECK(consume >= COREDUMP_REQ_SIZE_VER0 && consume <= COREDUMP_REQ_SIZE_MAX);
                CHECK(memcmp(&req, data, sizeof(req)) == 0);
                fuzz_request(&req, extra_mask);
        } else {
                struct coredump_req untouched;

                /* out-parameters are written only on success */
                memset(&untouched, 0x5a, sizeof(untouched));
                CHECK(memcmp(&req, &untouched, sizeof(req)) == 0 && consume == SIZE_MAX);
        }
        if (r == -EAGAIN) {
                /* more bytes can only help a request whose size is in range */
                CHECK(size < sizeof(size_field) ||
                      (size_field >= COREDUMP_REQ_SIZE_VER0 && size_field <= COREDUMP_REQ_SIZE_MAX &&
                       size < size_field));
        } else if (r == -EBADMSG) {
                CHECK(size_field < COREDUMP_REQ_SIZE_VER0 || size_field > COREDUMP_REQ_SIZE_MAX);
        }

        /*
         * validate() and the ack also see requests parse() would refuse: the
         * daemon's callers may build one another way, and must still get no
         * ack the kernel would not take.
         */
        memcpy(&raw, data, size < sizeof(raw) ? size : sizeof(raw));
        fuzz_request(&raw, extra_mask);

        /* the mark that follows the ack: every value maps to an errno and a name */
        if (size >= sizeof(mark)) {
                memcpy(&mark, data + size - sizeof(mark), sizeof(mark));
                r = coredump_mark_to_errno(mark);
                CHECK(r <= 0);
                CHECK(coredump_mark_to_string(mark) != NULL);
        }
        return 0;
}
