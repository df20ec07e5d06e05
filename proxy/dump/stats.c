/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "proxy/base/utc.h"
#include "proxy/dump/stats.h"

struct lost_dump {
        uint32_t pid;
        char comm[TASK_COMM_MAX + 1];
        enum dump_reason reason;
        usec_t wall;
};

/* Upper bounds of the duration histogram's buckets, in milliseconds: a dump takes ms to minutes. */
static const uint64_t duration_bounds_ms[STATS_DURATION_BUCKETS] = {
        5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
};

struct proxy_stats {
        pthread_mutex_t lock;
        uint64_t accepted;
        uint64_t counts[_OUTCOME_MAX][_REASON_MAX];
        /* For the exporter: by runtime too (the last column is the host's), bytes and durations. */
        uint64_t by_runtime[_OUTCOME_MAX][_REASON_MAX][_RUNTIME_MAX + 1];
        uint64_t bytes;
        uint64_t duration_buckets[STATS_DURATION_BUCKETS]; /* not cumulative */
        uint64_t duration_count;
        usec_t duration_sum;
        uint64_t lost;
        struct lost_dump recent[STATS_LOST_RECENT];
};

int stats_new(struct proxy_stats **ret)
{
        struct proxy_stats *s = calloc(1, sizeof(*s));

        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        *ret = s;
        return 0;
}

void stats_free(struct proxy_stats *s)
{
        if (!s)
                return;
        pthread_mutex_destroy(&s->lock);
        free(s);
}

void stats_accepted(struct proxy_stats *s)
{
        pthread_mutex_lock(&s->lock);
        s->accepted++;
        pthread_mutex_unlock(&s->lock);
}

void stats_count(struct proxy_stats *s, enum dump_outcome outcome, enum dump_reason reason)
{
        stats_finished(s, outcome, reason, -1, 0, USEC_INFINITY);
}

void stats_finished(struct proxy_stats *s, enum dump_outcome outcome, enum dump_reason reason, int runtime,
                    uint64_t bytes, usec_t duration)
{
        unsigned column = runtime >= 0 && runtime < _RUNTIME_MAX ? (unsigned) runtime : _RUNTIME_MAX;

        if ((unsigned) outcome >= _OUTCOME_MAX || (unsigned) reason >= _REASON_MAX)
                return;
        pthread_mutex_lock(&s->lock);
        s->counts[outcome][reason]++;
        s->by_runtime[outcome][reason][column]++;
        s->bytes += bytes;
        if (duration != USEC_INFINITY) {
                size_t b = 0;
                while (b < STATS_DURATION_BUCKETS && duration > duration_bounds_ms[b] * USEC_PER_MSEC)
                        b++;
                if (b < STATS_DURATION_BUCKETS)
                        s->duration_buckets[b]++;
                s->duration_count++;
                s->duration_sum += duration;
        }
        pthread_mutex_unlock(&s->lock);
}

void stats_lost(struct proxy_stats *s, uint32_t pid, const char *comm, enum dump_reason reason, usec_t wall)
{
        pthread_mutex_lock(&s->lock);
        struct lost_dump *l = &s->recent[s->lost % STATS_LOST_RECENT];
        *l = (struct lost_dump){ .pid = pid, .reason = reason, .wall = wall };
        (void) snprintf(l->comm, sizeof(l->comm), "%s", comm ? comm : "");
        s->lost++;
        pthread_mutex_unlock(&s->lock);
}

uint64_t stats_accepted_total(struct proxy_stats *s)
{
        pthread_mutex_lock(&s->lock);
        uint64_t n = s->accepted;
        pthread_mutex_unlock(&s->lock);
        return n;
}

uint64_t stats_lost_total(struct proxy_stats *s)
{
        pthread_mutex_lock(&s->lock);
        uint64_t n = s->lost;
        pthread_mutex_unlock(&s->lock);
        return n;
}

static void write_outcomes(struct proxy_stats *s, struct jsonw *w)
{
        jsonw_key(w, "outcomes");
        jsonw_object_begin(w);
        for (enum dump_outcome o = OUTCOME_DELIVERED; o < _OUTCOME_MAX; o++) {
                uint64_t total = 0;

                for (enum dump_reason r = 0; r < _REASON_MAX; r++)
                        total += s->counts[o][r];
                jsonw_key(w, dump_outcome_to_string(o));
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "total", total);
                jsonw_key(w, "reasons");
                jsonw_object_begin(w);
                for (enum dump_reason r = 0; r < _REASON_MAX; r++)
                        if (s->counts[o][r] > 0)
                                jsonw_kv_uint(w, dump_reason_to_string(r), s->counts[o][r]);
                jsonw_object_end(w);
                jsonw_object_end(w);
        }
        jsonw_object_end(w);
}

static void write_lost(struct proxy_stats *s, struct jsonw *w)
{
        char time[UTC_STRING_MAX];

        jsonw_key(w, "lost");
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "total", s->lost);
        jsonw_key(w, "recent");
        jsonw_array_begin(w);
        uint64_t first = s->lost > STATS_LOST_RECENT ? s->lost - STATS_LOST_RECENT : 0;
        for (uint64_t n = first; n < s->lost; n++) {
                const struct lost_dump *l = &s->recent[n % STATS_LOST_RECENT];
                utc_format_rfc3339(l->wall, time);
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "pid", l->pid);
                jsonw_kv_string(w, "comm", l->comm[0] ? l->comm : NULL);
                jsonw_kv_string(w, "reason", dump_reason_to_string(l->reason));
                jsonw_kv_string(w, "time", time);
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
}

void stats_write_json(struct proxy_stats *s, struct jsonw *w)
{
        pthread_mutex_lock(&s->lock);
        jsonw_kv_uint(w, "accepted", s->accepted);
        write_outcomes(s, w);
        write_lost(s, w);
        pthread_mutex_unlock(&s->lock);
}

/* Counts only: nothing that names a task or a container, for a reader that is not root. */
void stats_write_metrics_json(struct proxy_stats *s, struct jsonw *w)
{
        uint64_t cumulative = 0;

        pthread_mutex_lock(&s->lock);
        jsonw_kv_uint(w, "accepted", s->accepted);
        jsonw_key(w, "dumps");
        jsonw_array_begin(w);
        for (enum dump_outcome o = OUTCOME_DELIVERED; o < _OUTCOME_MAX; o++)
                for (enum dump_reason r = 0; r < _REASON_MAX; r++)
                        for (unsigned rt = 0; rt <= _RUNTIME_MAX; rt++) {
                                if (s->by_runtime[o][r][rt] == 0)
                                        continue;
                                jsonw_object_begin(w);
                                jsonw_kv_string(w, "outcome", dump_outcome_to_string(o));
                                jsonw_kv_string(w, "reason", dump_reason_to_string(r));
                                jsonw_kv_string(w, "runtime",
                                                rt < _RUNTIME_MAX
                                                        ? runtime_to_string((enum container_runtime) rt)
                                                        : "host");
                                jsonw_kv_uint(w, "count", s->by_runtime[o][r][rt]);
                                jsonw_object_end(w);
                        }
        jsonw_array_end(w);
        jsonw_kv_uint(w, "bytes", s->bytes);
        jsonw_key(w, "duration");
        jsonw_object_begin(w);
        jsonw_key(w, "buckets");
        jsonw_array_begin(w);
        for (size_t b = 0; b < STATS_DURATION_BUCKETS; b++) {
                cumulative += s->duration_buckets[b];
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "le_ms", duration_bounds_ms[b]);
                jsonw_kv_uint(w, "count", cumulative);
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_kv_uint(w, "count", s->duration_count);
        jsonw_kv_uint(w, "sum_us", s->duration_sum);
        jsonw_object_end(w);
        jsonw_kv_uint(w, "lost", s->lost);
        pthread_mutex_unlock(&s->lock);
}
