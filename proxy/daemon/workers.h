/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A bounded pool of worker threads fed from a bounded FIFO. The event loop
 * only enqueues; everything that may block (the handshake, /proc, the
 * store, a collector) runs on a worker. Threads are started on demand up to
 * the limit and then stay, so an idle daemon stays small.
 */

#include <stdbool.h>
#include <stddef.h>

struct worker_pool;

typedef void (*worker_fn)(void *item, void *userdata);

int workers_new(unsigned max_threads, size_t max_queue, worker_fn fn, void *userdata,
                struct worker_pool **ret);

/* -EAGAIN when the queue is full: the caller decides what a refused item means. */
int workers_submit(struct worker_pool *p, void *item);

/* Items waiting and items being worked on. */
void workers_counts(struct worker_pool *p, size_t *ret_queued, size_t *ret_running);

/* Changes the thread limit (config reload); running threads are not stopped. */
void workers_set_max_threads(struct worker_pool *p, unsigned max_threads);

/* Waits until the queue is empty and no item runs, or until deadline; returns -ETIMEDOUT then. */
int workers_wait_idle(struct worker_pool *p, unsigned long long deadline_usec);

/* Stops the threads after the queue drained (call workers_wait_idle first) and frees the pool. */
void workers_free(struct worker_pool *p);
