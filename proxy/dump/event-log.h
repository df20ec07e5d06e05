/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where event lines go: a file (O_APPEND) or stdout. A sink only: it
 * writes finished lines and knows nothing of dumps (proxy/dump/describe.c
 * formats them). Nobody on the dump path or the event loop waits for it:
 * lines are queued in memory and written by a thread of the sink's own, so
 * a stalled stdout reader or a slow disk delays lines, never dumps. When the
 * queue is full, a line is dropped and counted (status "events_dropped").
 */

#include <stddef.h>
#include <stdint.h>

#include "kernel/io.h"

/* Queued bytes at most; a line is ~0.5 KiB, so this holds thousands. */
#define EVENT_LOG_QUEUE_MAX ((size_t) 4 * 1024 * 1024)

struct event_log;

/* path "-" means stdout. A file is opened O_APPEND|O_NOFOLLOW (its directory is created 0755). */
int event_log_open(const char *path, struct event_log **ret);
struct event_log *event_log_ref(struct event_log *l);
/* The last reference flushes what is queued (for at most a few seconds) and stops the writer. */
void event_log_unref(struct event_log *l);
const char *event_log_path(const struct event_log *l);
/* Reopens a file (log rotation). */
int event_log_reopen(struct event_log *l);

/*
 * Queues one line (without its newline) and takes ownership of it. Never
 * blocks: -ENOBUFS when the queue is full (the line is dropped and counted).
 */
int event_log_submit(struct event_log *l, char *line, size_t len);

/* Lines dropped so far because the sink could not keep up. */
uint64_t event_log_dropped(struct event_log *l);

/* Waits until every queued line is written, or deadline; -ETIMEDOUT then. */
int event_log_flush(struct event_log *l, usec_t deadline);
