/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Dumps in flight per container (limits.per_container.concurrent): one
 * container's crash storm, or a collector of its that never finishes, holds
 * at most that many workers, whatever the rate limit allows. Entries exist
 * only while a container has dumps in flight, so the table is bounded by
 * the dumps in flight.
 */

#include <stdbool.h>

struct concurrency;

int concurrency_new(struct concurrency **ret);
void concurrency_free(struct concurrency *c);

/* Takes a slot for key: false when key already has max in flight (max 0: no limit). Thread-safe. */
bool concurrency_enter(struct concurrency *c, const char *key, unsigned max);
/* Gives a slot of key back. */
void concurrency_leave(struct concurrency *c, const char *key);
