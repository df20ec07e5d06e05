/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A dump stream compressed with zstd into the store's file while it
 * arrives: one frame, with a checksum, that `zstd -d` turns back into
 * exactly the bytes the kernel sent. The same stops as the splice copy
 * (deadline, stall, quota, EOF), with the quota counted in compressed
 * bytes. Its own object, handed to the store through store_options, so
 * that the pipe helper, which shares the store but links only libc, does
 * not pull in libzstd.
 */

#include <stddef.h>
#include <stdint.h>

#include "kernel/splice-copy.h"

#define STORE_COMPRESS_LEVEL_DEFAULT 3
#define STORE_COMPRESS_LEVEL_MAX     19

struct store_compress {
        int src, dst;
        int level;
        usec_t deadline;         /* monotonic; USEC_INFINITY: none */
        usec_t stall_timeout;    /* 0: none */
        uint64_t max_in;         /* input bytes taken at most; 0: no limit */
        splice_budget_fn budget; /* bytes that may still be written to dst */
        void *userdata;
        uint64_t *progress; /* input bytes so far, for other threads */
        /* The stream's first bytes, kept for what is read from the core's notes. */
        void *head;
        size_t head_max;
};

struct store_compress_result {
        uint64_t in;  /* bytes read from src */
        uint64_t out; /* bytes written to dst */
        size_t head_len;
        enum splice_stop stop;
};

/*
 * 0 with why it stopped, -errno when nothing could be written at all. A
 * copy stopped by the budget, the deadline or the stream still ends its
 * frame (so the file decompresses to what arrived), which may exceed the
 * budget by what the compressor held back (at most a block).
 */
int store_compress_copy(const struct store_compress *c, struct store_compress_result *ret);
