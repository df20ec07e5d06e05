/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Copies a stream (a socket or a pipe) into a file with splice(2), through a
 * pipe of our own: no byte passes through userspace. Bounded by a deadline,
 * by a no-progress timeout and by a budget the caller grants in steps (a
 * quota): the copy never waits longer than those on a peer that stalls.
 */

#include <stdint.h>

#include "kernel/io.h"

enum splice_stop {
        SPLICE_STOP_EOF,       /* the stream ended: everything is in the file */
        SPLICE_STOP_BUDGET,    /* the caller granted no more bytes */
        SPLICE_STOP_DEADLINE,  /* the deadline passed */
        SPLICE_STOP_STALLED,   /* no byte arrived for stall_timeout */
        SPLICE_STOP_READ,      /* the stream failed (the peer shut it down early) */
        SPLICE_STOP_FILE_FULL, /* ENOSPC, EDQUOT, EFBIG on the file */
};

/*
 * How many more bytes may be written after copied; 0 stops the copy
 * (SPLICE_STOP_BUDGET). Called whenever the previous grant is used up.
 */
typedef uint64_t (*splice_budget_fn)(void *userdata, uint64_t copied);

struct splice_copy {
        int src;
        int dst;
        usec_t deadline;      /* monotonic; USEC_INFINITY: none */
        usec_t stall_timeout; /* 0: none */
        splice_budget_fn budget;
        void *userdata;
        /* Bytes copied so far, published for readers on other threads (status, progress checks). */
        uint64_t *progress;
};

/*
 * Returns 0 with why it stopped and the bytes copied, or -errno when the
 * file could not be written at all (nothing worth keeping) or src cannot be
 * spliced from before the first byte.
 */
int splice_copy(const struct splice_copy *c, uint64_t *ret_copied, enum splice_stop *ret_stop);
