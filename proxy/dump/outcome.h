/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * How a dump ended, and why: the `outcome` and `reason` of every event line
 * (docs/events.md lists them all; tests/unit-outcome checks the list against
 * these tables). Each is an enum with one string table: no call site spells
 * a reason as a string.
 */

enum dump_outcome {
        OUTCOME_NONE, /* not decided yet */
        OUTCOME_DELIVERED,
        OUTCOME_STORED,
        OUTCOME_REJECTED,
        OUTCOME_FAILED,
        _OUTCOME_MAX,
};

enum dump_reason {
        REASON_NONE,
        /* The route acted as written. */
        REASON_ROUTE,
        REASON_DEFAULT, /* no route matched: stored */
        /* Refused before any byte. */
        REASON_NOT_A_COREDUMP,
        REASON_RATE_LIMIT,
        REASON_CONTAINER_BUSY, /* limits.per_container.concurrent */
        REASON_OVERLOAD,
        REASON_SHUTDOWN,
        /* Why a forward did not happen (the fallback acted). */
        REASON_SENSITIVE,
        REASON_HOST_TASK,
        REASON_TASK_GONE,
        REASON_HOST_NETWORK,
        REASON_NO_COLLECTOR,
        REASON_UNTRUSTED_COLLECTOR,
        REASON_COLLECTOR_TIMEOUT,
        REASON_COLLECTOR_DECLINED,
        REASON_COLLECTOR_ERROR,
        REASON_NO_SYSTEMD_COREDUMP,        /* nothing listens at systemd-coredump's socket */
        REASON_UNTRUSTED_SYSTEMD_COREDUMP, /* who listens there may not have the dump */
        REASON_SYSTEMD_COREDUMP_ERROR,     /* the hand-off failed, or it did not take the dump in time */
        /* Failures. */
        REASON_TIMEOUT,
        REASON_NO_PROGRESS,
        REASON_PROTOCOL_ERROR,
        REASON_IDENTIFY_ERROR,
        REASON_STORE_UNAVAILABLE,
        REASON_STORE_FULL,
        REASON_STORE_ERROR,
        /* Pipe mode: the helper kept the core in the host store itself, the daemon did not answer. */
        REASON_DAEMON_UNAVAILABLE,
        /* "coredump-lost" lines: the kernel started a dump that never reached us. */
        REASON_NOT_DUMPABLE,
        REASON_NOT_RECEIVED,
        _REASON_MAX,
};

const char *dump_outcome_to_string(enum dump_outcome o);
int dump_outcome_from_string(const char *s);
const char *dump_reason_to_string(enum dump_reason r);
int dump_reason_from_string(const char *s);
