/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounded pool of worker threads fed from a bounded FIFO and, where
 * workers_accept_on() was called, from the listener itself: an idle worker
 * accepts the connection it runs. Everything that may block (the
 * handshake, /proc, the store, a collector's answer) runs on a worker. Threads are started on
 * demand up to the limit and then stay, so an idle daemon stays small.
 *
 * Workers are shared fairly between host and container dumps: a running
 * item that turns out to be a container's claims one of a limited number of
 * container slots (workers_claim_container()); when none is free it is
 * parked, holding no thread, and resumes as soon as a slot frees. So the
 * remaining workers always serve host dumps, whatever containers do.
 */

#include <stdbool.h>
#include <stddef.h>

struct worker_pool;

enum worker_result {
        WORKER_DONE,   /* the item is finished */
        WORKER_PARKED, /* no container slot was free: run the item again when one is */
        WORKER_TAKEN,  /* someone else owns the item now (it ends elsewhere) */
};

typedef enum worker_result (*worker_fn)(void *item, void *userdata);

/*
 * Accepting where the dump runs: called on a worker woken by the listener, with
 * the listener's fd; returns the new item, or NULL (nothing there, or refused
 * and answered by the callback).
 */
typedef void *(*accept_fn)(int listen_fd, void *userdata);
/* true: no worker waits for the listener, the event loop must (and answer overload); false: it need not. */
typedef void (*saturated_fn)(void *userdata, bool saturated);

int workers_new(unsigned max_threads, unsigned max_container, size_t max_queue, worker_fn fn, void *userdata,
                struct worker_pool **ret);

/* -EAGAIN when the queue is full: the caller decides what a refused item means. */
int workers_submit(struct worker_pool *p, void *item);

/*
 * Called by the running item: true when it holds a container slot (now or
 * already); false when all are taken, and the item must return
 * WORKER_PARKED. The slot is given back when the item returns DONE or TAKEN.
 */
bool workers_claim_container(struct worker_pool *p);

/*
 * From now on idle workers accept from fd themselves (one woken per
 * connection) and run what they accept: no hand-off from the event loop.
 * Whenever no worker is left waiting for it and no thread may be started, or
 * the queue is full, saturated(true) asks the event loop to accept (and to
 * answer overload at once, through workers_submit()); saturated(false) when
 * a worker waits for it again.
 */
void workers_accept_on(struct worker_pool *p, int fd, accept_fn accept, saturated_fn saturated);

/* No worker accepts any more once this returns (before the listener is closed). */
void workers_accept_off(struct worker_pool *p);

/* Items waiting (queued and parked) and items being worked on. */
void workers_counts(struct worker_pool *p, size_t *ret_queued, size_t *ret_running);

/* Changes the limits (config reload); running threads are not stopped. */
void workers_set_limits(struct worker_pool *p, unsigned max_threads, unsigned max_container);

/* Waits until nothing is queued, parked or running, or until deadline; -ETIMEDOUT then. */
int workers_wait_idle(struct worker_pool *p, unsigned long long deadline_usec);

/* Stops the threads after the queue drained (call workers_wait_idle first) and frees the pool. */
void workers_free(struct worker_pool *p);
