/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "kernel/cleanup.h"
#include "proxy/store/compress.h"

struct zstate {
        const struct store_compress *c;
        ZSTD_CCtx *cctx;
        void *out;
        size_t out_size;
        uint64_t granted; /* bytes dst may still take before the budget is asked again */
        bool budget_spent;
        struct store_compress_result res;
};

static void zstate_done(struct zstate *z)
{
        ZSTD_freeCCtx(z->cctx);
        free(z->out);
}

/* Writes what the compressor produced; the budget only decides whether more input is read. */
static int put(struct zstate *z, const void *buf, size_t n)
{
        const char *p = buf;

        while (n > 0) {
                ssize_t k = write(z->c->dst, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) {
                                z->res.stop = SPLICE_STOP_FILE_FULL;
                                return 1;
                        }
                        return negative_errno();
                }
                p += k;
                n -= (size_t) k;
                z->res.out += (uint64_t) k;
                z->granted = z->granted > (uint64_t) k ? z->granted - (uint64_t) k : 0;
        }
        if (z->granted == 0 && !z->budget_spent) {
                z->granted = z->c->budget ? z->c->budget(z->c->userdata, z->res.out) : UINT64_MAX;
                z->budget_spent = z->granted == 0;
        }
        return 0;
}

/* Feeds in (or, with ZSTD_e_end, ends the frame) and writes what comes out. */
static int feed(struct zstate *z, const void *buf, size_t n, ZSTD_EndDirective mode)
{
        ZSTD_inBuffer in = { buf, n, 0 };
        size_t left;

        do {
                ZSTD_outBuffer out = { z->out, z->out_size, 0 };
                left = ZSTD_compressStream2(z->cctx, &out, &in, mode);
                if (ZSTD_isError(left))
                        return -EIO;
                int r = put(z, z->out, out.pos);
                if (r != 0)
                        return r;
        } while (mode == ZSTD_e_end ? left > 0 : in.pos < in.size);
        return 0;
}

/* Waits for input until the deadline or the stall limit: 1 with the stop when either passed. */
static int wait_input(struct zstate *z, usec_t last_progress)
{
        const struct store_compress *c = z->c;
        usec_t stall_at = c->stall_timeout > 0 ? last_progress + c->stall_timeout : USEC_INFINITY;
        int r = io_wait(c->src, POLLIN, MIN(c->deadline, stall_at));

        if (r == -ETIMEDOUT) {
                z->res.stop = stall_at < c->deadline ? SPLICE_STOP_STALLED : SPLICE_STOP_DEADLINE;
                return 1;
        }
        if (r < 0) {
                z->res.stop = SPLICE_STOP_READ;
                return 1;
        }
        return 0;
}

/* Reads and compresses until a stop; 1 at a stop, -errno when dst failed. */
static int pump(struct zstate *z, void *in, size_t in_size)
{
        const struct store_compress *c = z->c;
        usec_t last_progress = io_now();

        for (;;) {
                size_t want = in_size;
                ssize_t k;
                int r;

                if (c->deadline != USEC_INFINITY && io_now() >= c->deadline) {
                        z->res.stop = SPLICE_STOP_DEADLINE;
                        return 1;
                }
                if (z->budget_spent || (c->max_in > 0 && z->res.in >= c->max_in)) {
                        z->res.stop = SPLICE_STOP_BUDGET;
                        return 1;
                }
                if (c->max_in > 0)
                        want = (size_t) MIN((uint64_t) want, c->max_in - z->res.in);
                r = wait_input(z, last_progress);
                if (r != 0)
                        return r;
                k = read(c->src, in, want);
                if (k == 0) {
                        z->res.stop = SPLICE_STOP_EOF;
                        return 1;
                }
                if (k < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        z->res.stop = SPLICE_STOP_READ;
                        return 1;
                }
                last_progress = io_now();
                if (z->res.head_len < c->head_max) {
                        size_t m = MIN((size_t) k, c->head_max - z->res.head_len);
                        memcpy((char *) c->head + z->res.head_len, in, m);
                        z->res.head_len += m;
                }
                z->res.in += (uint64_t) k;
                if (c->progress)
                        __atomic_store_n(c->progress, z->res.in, __ATOMIC_RELAXED);
                r = feed(z, in, (size_t) k, ZSTD_e_continue);
                if (r != 0)
                        return r;
        }
}

int store_compress_copy(const struct store_compress *c, struct store_compress_result *ret)
{
        _cleanup_free_ void *in = NULL;
        struct zstate z = { .c = c };
        size_t in_size = ZSTD_CStreamInSize();
        int r;

        z.out_size = ZSTD_CStreamOutSize();
        z.cctx = ZSTD_createCCtx();
        z.out = malloc(z.out_size);
        in = malloc(in_size);
        if (!z.cctx || !z.out || !in) {
                zstate_done(&z);
                return -ENOMEM;
        }
        if (ZSTD_isError(ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_compressionLevel, c->level)) ||
            ZSTD_isError(ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_checksumFlag, 1))) {
                zstate_done(&z);
                return -EINVAL;
        }
        z.granted = c->budget ? c->budget(c->userdata, 0) : UINT64_MAX;
        z.budget_spent = z.granted == 0;

        r = pump(&z, in, in_size);
        /* Whatever stopped the input, the frame is ended: the file decompresses to what arrived. */
        if (r > 0 && z.res.stop != SPLICE_STOP_FILE_FULL)
                r = feed(&z, NULL, 0, ZSTD_e_end);
        zstate_done(&z);
        if (r < 0)
                return r;
        *ret = z.res;
        return 0;
}
