/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Counters for `coredump-proxy status`: dumps per outcome and reason, and dumps that never arrived. */

#include <stdint.h>

#include "kernel/io.h"
#include "proxy/base/jsonw.h"
#include "proxy/dump/identify.h"
#include "proxy/dump/outcome.h"

#define STATS_LOST_RECENT 16

struct proxy_stats;

int stats_new(struct proxy_stats **ret);
void stats_free(struct proxy_stats *s);

void stats_accepted(struct proxy_stats *s);
void stats_count(struct proxy_stats *s, enum dump_outcome outcome, enum dump_reason reason);
/*
 * A dump ended: counted as stats_count() does, and for the exporter by
 * runtime (-1: a host task), with the bytes of its core (0 none) and its
 * time from accept to end (USEC_INFINITY unknown).
 */
void stats_finished(struct proxy_stats *s, enum dump_outcome outcome, enum dump_reason reason, int runtime,
                    uint64_t bytes, usec_t duration);
/* A dump the kernel started (proc connector) that never reached the socket. */
void stats_lost(struct proxy_stats *s, uint32_t pid, const char *comm, enum dump_reason reason, usec_t wall);
uint64_t stats_lost_total(struct proxy_stats *s);
uint64_t stats_accepted_total(struct proxy_stats *s);

/* Writes "accepted", "outcomes" {outcome: {"total", "reasons": {...}}} and "lost" {...} as keys. */
void stats_write_json(struct proxy_stats *s, struct jsonw *w);

#define STATS_DURATION_BUCKETS 14
/*
 * For `coredump-proxy metrics`: "accepted", "dumps" [{outcome, reason,
 * runtime, count}], "bytes", "duration" {buckets [{le_ms, count}]
 * (cumulative), count, sum_us}, "lost". Counts only.
 */
void stats_write_metrics_json(struct proxy_stats *s, struct jsonw *w);
