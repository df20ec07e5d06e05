/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Nothing vanishes: every coredump the kernel starts (the proc connector's
 * PROC_EVENT_COREDUMP) is matched with a connection on our socket. Crashes
 * that never arrive (the task was not dumpable, the accept queue was full,
 * the connect failed) are handed back for reporting after a grace period.
 * Pids here come without pidfds: they are for counting and reporting only.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kernel/io.h"
#include "proxy/dump/identify.h"
#include "proxy/dump/outcome.h"

/* How long a started coredump may take to reach the socket before it counts as lost. */
#define ACCOUNTING_GRACE (5 * USEC_PER_SEC)

struct lost_crash {
        pid_t tgid;
        char comm[TASK_COMM_MAX + 1];
        enum dump_reason reason; /* not-dumpable or not-received */
        usec_t wall;             /* when the kernel started the dump */
};

struct accounting;

int accounting_new(struct accounting **ret);
void accounting_free(struct accounting *a);

/* A connection from tgid reached the socket. */
void accounting_arrived(struct accounting *a, pid_t tgid, usec_t now);

/*
 * The kernel started dumping tgid: true when its connection already arrived
 * (settled, nothing more to do). Otherwise the caller learns what it can
 * about the task and records it with accounting_started().
 */
bool accounting_settle(struct accounting *a, pid_t tgid, usec_t now);

/* A started dump still to arrive; comm and dumpability as read when the event came. */
void accounting_started(struct accounting *a, pid_t tgid, const char *comm, bool not_dumpable, usec_t now,
                        usec_t wall);

/* Crashes started more than ACCOUNTING_GRACE ago that never arrived; removed from the table. */
size_t accounting_expire(struct accounting *a, usec_t now, struct lost_crash *out, size_t max);

/* When the next expiry is due (USEC_INFINITY when nothing is pending). */
usec_t accounting_next_expiry(struct accounting *a);
