/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What an action returns: the dump's outcome and its reason (done), or the
 * reason it could not act, for the route's fallback to run with (fallback:
 * the kernel has not been acked in request mode and no byte of the stream
 * was read). The routine (proxy/dump/run.c) concludes the dump from it; no
 * action writes a reason into the dump for another to find.
 */

#include "proxy/dump/outcome.h"

enum act_status {
        ACT_DONE,
        ACT_FALLBACK,
        ACT_CONTINUE, /* a step inside an action went well: the next one runs */
        ACT_WATCH,    /* a collector has the stream; the result comes later, through the watch */
};

struct act_result {
        enum act_status status;
        enum dump_outcome outcome; /* ACT_DONE */
        enum dump_reason reason;
};

static inline struct act_result act_done(enum dump_outcome outcome, enum dump_reason reason)
{
        return (struct act_result){ ACT_DONE, outcome, reason };
}

static inline struct act_result act_fallback(enum dump_reason reason)
{
        return (struct act_result){ ACT_FALLBACK, OUTCOME_NONE, reason };
}

static inline struct act_result act_continue(void)
{
        return (struct act_result){ ACT_CONTINUE, OUTCOME_NONE, REASON_NONE };
}

static inline struct act_result act_watch(void)
{
        return (struct act_result){ ACT_WATCH, OUTCOME_NONE, REASON_NONE };
}
