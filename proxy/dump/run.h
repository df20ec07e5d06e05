/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Drives one dump through its states on a worker thread, ending in one event line. */

#include <stdint.h>

#include "proxy/dump/dump.h"
#include "proxy/dump/identify.h"
#include "proxy/dump/ratelimit.h"
#include "proxy/daemon/stats.h"

struct dump_env {
        struct identify_context identify;
        uint64_t host_netns;          /* inode of the daemon's own network namespace */
        struct rate_limiter *limiter; /* limits.per_container, kept across reloads */
        struct proxy_stats *stats;
};

void dump_run(struct dump *d, const struct dump_env *env);

/*
 * Acks the kernel (request mode) with mask and checks its mark. A no-op in
 * plain mode and when already acked. Shared by every action.
 */
int dump_ack(struct dump *d, uint64_t mask);
/* The event reason for a failed dump_ack(): "task-gone" when the task died, else "protocol-error". */
const char *dump_ack_failure_reason(int error);
