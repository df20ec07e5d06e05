/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Per-container dump rate limit (limits.per_container): at most N dumps
 * per interval for each container. A sliding window estimated from two
 * fixed buckets (the current interval's count plus the previous one's,
 * weighted by how much of it still overlaps the window): O(1) memory per
 * container whatever N is, exact for bursts inside one interval. The
 * table of containers is bounded; idle entries are reused first.
 */

#include <stdbool.h>
#include <stddef.h>

#include "kernel/io.h"

struct rate_limiter;

int ratelimit_new(size_t max_keys, struct rate_limiter **ret);
void ratelimit_free(struct rate_limiter *rl);

/* Counts a dump of key at now and says whether it is within the limit. Thread-safe. */
bool ratelimit_allow(struct rate_limiter *rl, const char *key, unsigned limit, usec_t interval, usec_t now);
