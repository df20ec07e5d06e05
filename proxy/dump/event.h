/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The record of a dump: one JSON event line per dump (interface.md, "Event
 * lines") to a file or stdout, and the metadata written beside a stored
 * core. Both describe the same struct dump, so they are built here.
 */

#include <stddef.h>

#include "kernel/io.h"

struct dump;

struct event_log;

/* path "-" means stdout. A file is opened O_APPEND (its directory is created 0755). */
int event_log_open(const char *path, struct event_log **ret);
/* Reopens a file (log rotation, SIGHUP). */
int event_log_reopen(struct event_log *l);
void event_log_free(struct event_log *l);
const char *event_log_path(const struct event_log *l);

/* Formats and writes the dump's event line with one write(); thread-safe. */
int event_log_write(struct event_log *l, const struct dump *d);

/*
 * The line for a coredump the kernel started that never reached the socket
 * (event "coredump-lost"): pid, comm, reason, time.
 */
int event_log_write_lost(struct event_log *l, int pid, const char *comm, const char *reason, usec_t wall);

/* The event line's JSON without the newline. */
int event_format(const struct dump *d, char **ret, size_t *ret_len);

/* The metadata of a stored dump (DIR/<id>.json): the event's facts plus exe, cmdline, ids, cgroup. */
int event_format_metadata(const struct dump *d, char **ret, size_t *ret_len);

/* RFC 3339 UTC with milliseconds: "2026-11-27T13:53:00.123Z". */
void event_format_time(usec_t wall, char buf[32]);
