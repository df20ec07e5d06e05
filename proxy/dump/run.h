/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One dump's routine, on a worker thread: identify → resolve → route →
 * limits → act (with the route's fallback) → finish. Each step is a short
 * function; the outcome is set in one place and the event line written
 * once.
 */

#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

void dump_run(struct dump *d, const struct dump_env *env);

/*
 * Ends a dump that was refused before its routine ran (every worker busy,
 * the daemon stopping): the kernel gets REJECT where it can, and the dump
 * one event line like any other.
 */
void dump_run_refused(struct dump *d, const struct dump_env *env, enum dump_reason reason);
