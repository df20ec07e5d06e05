/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One coredump from the kernel, from accept to its event line. It runs as
 * one linear routine (proxy/dump/run.c), whose progress label is its state:
 *
 *   ACCEPTED → IDENTIFIED → ROUTED → (ACKED) → STREAMING → DONE
 *
 * Every path ends in DONE with exactly one outcome and reason, set in one
 * place (dump_conclude), and one event line: nothing vanishes silently.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "kernel/compat.h"
#include "kernel/elf-core.h"
#include "kernel/io.h"
#include "proxy/dump/container.h"
#include "proxy/dump/identify.h"
#include "proxy/dump/outcome.h"
#include "proxy/dump/setup.h"
#include "proxy/protocol/record.h"

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

/* How the kernel hands the dump over. */
enum dump_mode {
        DUMP_MODE_REQUEST, /* "@@": request, ack, mark, then the core */
        DUMP_MODE_PLAIN,   /* "@": the core from the first byte */
        DUMP_MODE_PIPE,    /* "|coredump-proxy-pipe": the kernel's pipe, handed over by the helper */
        _DUMP_MODE_MAX,
};
const char *dump_mode_to_string(enum dump_mode m);

/* "20261127T135300Z-1a2b3c4d5e6f": sortable by time, unique by 48 random bits, no host pid. */
#define DUMP_ID_MAX RECORD_ID_MAX

struct dump {
        char id[DUMP_ID_MAX];
        enum dump_state state;
        enum dump_mode mode;

        int fd;         /* the kernel connection (or, in pipe mode, the core pipe): closed only by
                           dump_free(), shut down before; a pipe's by its owner alone (dump_finish()) */
        int pidfd;      /* its peer: the crashing task */
        pid_t peer_pid; /* SO_PEERCRED's number, for the event line when the pidfd says nothing */
        struct coredump_req req;
        bool ack_sent; /* request mode: KERNEL|WAIT sent early (intake_ack_early), its mark not yet read */

        /* Pipe mode (proxy/intake/pipe.c): the helper's reply channel and the kernel's facts it passed on.
         */
        int helper_fd;     /* closed once the hand-off is settled */
        int pipe_signal;   /* %s; 0 unknown */
        int pipe_dumpable; /* %d; -1 unknown */
        bool withdrawn;    /* the helper kept the dump itself: no outcome, no event here */

        usec_t accepted_at;   /* monotonic */
        usec_t accepted_wall; /* realtime, for people */
        usec_t deadline;      /* accepted_at + dump_timeout */

        struct proxy_setup *setup; /* a reference: a reload does not pull config or store away */

        struct task_identity task;
        bool in_container;
        struct container_info container;
        struct container_names names; /* what people call the container (proxy/names/); never identity */
        bool have_names;
        char *limit_key; /* the container's key in the rate and concurrency limits; NULL: a host task */
        bool holds_slot; /* counted in the container's dumps in flight until it finishes */
        enum dump_reason fallback_reason; /* a collector gave it back unread: the fallback runs with this */

        /* What every document about the dump says, built once it is identified (dump_describe). */
        struct dump_record record;
        struct record_container record_container;

        const struct route *route; /* NULL: no route matched */
        bool have_action;
        enum route_action action; /* what was done in the end */
        bool fallback;            /* the action is the route's fallback */

        enum dump_outcome outcome;
        enum dump_reason reason;
        char *core_path;                            /* where the host store put it */
        char core_cmdline[ELF_CORE_PSARGS_MAX + 1]; /* from the stored core's notes; "" unknown */
        char *collector_path;                       /* where the collector says it put it */
        char *collector_address;                    /* the address a forward went to */
        int collector_fd;                           /* closed only by dump_free(), like fd */

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

/*
 * A new dump for an accepted connection; takes ownership of fd and pidfd
 * (either may be -EBADF) and a reference to setup.
 */
int dump_new(int fd, int pidfd, pid_t peer_pid, struct proxy_setup *setup, struct dump **ret);
void dump_free(struct dump *d);

/* The outcome and its reason, set once: later calls do not override it. */
void dump_conclude(struct dump *d, enum dump_outcome outcome, enum dump_reason reason);

/* Fills d->record from what is known of the task; called again as the facts grow. */
void dump_describe(struct dump *d);

/* A new id for a dump accepted at wall time. */
void dump_make_id(char id[static DUMP_ID_MAX], usec_t wall);
