/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One coredump connection from the kernel, from accept to its event line.
 * Each is a small state machine driven by one worker thread:
 *
 *   ACCEPTED → IDENTIFIED → ROUTED → (ACKED) → STREAMING → DONE
 *
 * Every path ends in DONE with exactly one outcome and reason, and one
 * event line: nothing vanishes silently.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "kernel/compat.h"
#include "kernel/io.h"
#include "proxy/dump/container.h"
#include "proxy/dump/identify.h"
#include "proxy/daemon/setup.h"

enum dump_state {
        DUMP_ACCEPTED,   /* connection and pidfd taken by the event loop */
        DUMP_IDENTIFIED, /* the task's facts are known (or known to be gone) */
        DUMP_ROUTED,     /* container resolved, route and action chosen */
        DUMP_ACKED,      /* request mode: the kernel answered the ack with a mark */
        DUMP_STREAMING,  /* bytes flow to the store or to a collector */
        DUMP_DONE,       /* outcome decided, connection shut down, event written */
        _DUMP_STATE_MAX,
};
const char *dump_state_to_string(enum dump_state s);

enum dump_outcome {
        OUTCOME_NONE,
        OUTCOME_DELIVERED,
        OUTCOME_STORED,
        OUTCOME_REJECTED,
        OUTCOME_FAILED,
        _OUTCOME_MAX,
};
const char *dump_outcome_to_string(enum dump_outcome o);

#define DUMP_ID_MAX 48

struct dump {
        char id[DUMP_ID_MAX];
        enum dump_state state;

        int fd;         /* the kernel connection */
        int pidfd;      /* its peer: the crashing task */
        pid_t peer_pid; /* SO_PEERCRED's number, for the event line only */
        bool request;   /* "@@": a request was read and an ack is owed */
        struct coredump_req req;

        usec_t accepted_at;   /* monotonic */
        usec_t accepted_wall; /* realtime, for people */
        usec_t deadline;      /* accepted_at + dump_timeout */

        struct proxy_setup *setup; /* a reference: a reload does not pull config or store away */

        struct task_identity task;
        bool in_container;
        struct container_info container;

        const struct route *route; /* NULL: no route matched */
        bool have_action;
        enum route_action action; /* what was done in the end */
        bool fallback;            /* the action is the route's fallback */

        enum dump_outcome outcome;
        const char *reason; /* a short machine word, static */
        bool have_bytes;
        uint64_t bytes;
        const char *cut;         /* why a stored dump is truncated; NULL when complete */
        char *core_path;         /* where the host store put it */
        char *collector_path;    /* where the collector says it put it */
        char *collector_address; /* the address a forward went to */

        /* Descriptors another thread may shut down (daemon stop, status). */
        int collector_fd;

        struct dump *prev, *next; /* the daemon's in-flight list */
};

/* The state is read by `status` from the event loop while a worker moves it on. */
static inline void dump_set_state(struct dump *d, enum dump_state s)
{
        __atomic_store_n(&d->state, s, __ATOMIC_RELEASE);
}

static inline enum dump_state dump_get_state(const struct dump *d)
{
        return __atomic_load_n(&d->state, __ATOMIC_ACQUIRE);
}

/* A new dump for an accepted connection; takes ownership of fd and pidfd. */
int dump_new(int fd, int pidfd, struct dump **ret);
void dump_free(struct dump *d);

/* Sets the final outcome once; later calls do not override it. */
void dump_set_outcome(struct dump *d, enum dump_outcome outcome, const char *reason);

/* "20261127T135300Z-4097-1a2b3c4d": sortable by time, unique by pid and 32 random bits. */
void dump_make_id(char id[DUMP_ID_MAX], usec_t wall, uint32_t pid);
