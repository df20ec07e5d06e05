/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * coredump-collector's parts: the program (main.c), the connections until
 * a dump is proven (serve.c, with the kernel's checks in auth.c), and one
 * proven dump written to the store (session.c).
 */

#include <pthread.h>
#include <stdbool.h>

#include "kernel/io.h"
#include "proxy/collector/auth.h"
#include "proxy/protocol/collector-msg.h"
#include "proxy/store/store.h"

struct collector {
        struct dump_store *store;
        struct auth_policy auth;
        unsigned max_dumps;   /* dumps written at once (--max-connections) */
        usec_t max_dump_time; /* a dump's deadline, whatever deadline_ms says (--max-dump-time) */
        pthread_mutex_t lock;
        pthread_cond_t done;
        unsigned dumping; /* guarded by lock: sessions queued or being written */
        /* The writer threads (session.c), and the proven dumps waiting for one; all under lock. */
        pthread_cond_t work;
        struct session **queue; /* a ring of max_dumps places */
        unsigned queue_head, queued;
        unsigned writers, idle_writers;
        int upload_fd;  /* the upload hook's runner (--exec); -EBADF none */
        int summary_fd; /* the crash summaries' runner (--summary, the default); -EBADF none */
};

/* A proven dump and everything its thread owns. */
struct session {
        struct collector *c;
        int conn; /* the proxy's connection, for message 4 */
        int fds[2];
        size_t n_fds;
        struct collector_request req;
        struct auth_facts facts;
        usec_t deadline;
};

/*
 * Accepts connections and runs messages 1 to 3 of each, never blocking on
 * one, until signal_fd is readable; then closes what is unfinished.
 */
int collector_serve(struct collector *c, int listen_fd, int signal_fd);

/* Whether a dump could be taken now: answered before message 2. */
bool session_room(struct collector *c);
/*
 * Writes the dump on one of the writer threads, which frees s. -EBUSY when
 * every dump slot is taken, or -errno: then s is still the caller's.
 */
int session_start(struct session *s);
/* Frees what s holds and s itself. */
void session_free(struct session *s);
/* Waits until every session has finished. */
void session_wait_all(struct collector *c);

/* Message 2. */
int session_send_answer(int fd, bool accept, const char *reason);
/* Message 4. */
int session_send_result(int fd, const struct collector_result *r);
