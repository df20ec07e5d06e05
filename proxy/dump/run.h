/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One dump's routine, on a worker thread: identify → resolve → route →
 * limits → act (with the route's fallback) → finish. Each step is a short
 * function; the outcome is set in one place and the event line written
 * once.
 */

#include <stdbool.h>

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

enum dump_progress {
        DUMP_FINISHED, /* the caller frees it */
        DUMP_PARKED,   /* a container's dump waits for a worker slot of its own: run it again then */
        DUMP_WATCHED,  /* a collector has the stream; the watch (proxy/act/watch.c) ends it */
};

enum dump_progress dump_run(struct dump *d, const struct dump_env *env);

/*
 * The watch's result for a forwarded dump: true when it is finished; false
 * when the collector gave the stream back unread and the route's fallback
 * must still run, on a worker: dump_run_fallback().
 */
bool dump_run_forwarded(struct dump *d, const struct dump_env *env, struct act_result res);
enum dump_progress dump_run_fallback(struct dump *d, const struct dump_env *env);

/*
 * Ends a dump that was refused before its routine ran (every worker busy,
 * the daemon stopping): the kernel gets REJECT where it can, and the dump
 * one event line like any other.
 */
void dump_run_refused(struct dump *d, const struct dump_env *env, enum dump_reason reason);
