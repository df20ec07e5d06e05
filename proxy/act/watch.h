/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Forwarded dumps whose stream a collector holds, until its result
 * (message 4) comes: watched by one thread for all of them, so that a
 * collector that is slow, or never answers, holds no worker. Each is
 * bounded by its deadline and by the stall timeout: the kernel must keep
 * writing (the crashing task's write counter grows) or the collector keep
 * reading (the socket's queue moves); a dump that does neither for
 * limits.stall_timeout is given up, which releases the crashing task.
 */

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

struct watch;

/* How a watched dump ended; called on the watch's thread, which must not be held up long. */
typedef void (*watch_done_fn)(void *userdata, struct dump *d, struct act_result res);

int watch_new(const struct dump_env *env, watch_done_fn done, void *userdata, struct watch **ret);
/* Stops the thread; call once no dump is watched any more. */
void watch_free(struct watch *w);

/* Takes d (its collector has the stream) until done() is called for it. */
int watch_add(struct watch *w, struct dump *d);
