/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/dump/event.h"
#include "proxy/daemon/stats.h"

struct reason_count {
        enum dump_outcome outcome;
        const char *reason; /* static strings: compared by content, kept by pointer */
        uint64_t count;
};

struct lost_dump {
        uint32_t pid;
        char comm[TASK_COMM_MAX + 1];
        const char *reason;
        usec_t wall;
};

struct proxy_stats {
        pthread_mutex_t lock;
        uint64_t accepted;
        uint64_t outcomes[_OUTCOME_MAX];
        struct reason_count reasons[STATS_REASONS_MAX];
        size_t n_reasons;
        uint64_t other_reasons; /* beyond the table: still counted in outcomes */
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

void stats_count(struct proxy_stats *s, enum dump_outcome outcome, const char *reason)
{
        if (outcome >= _OUTCOME_MAX)
                return;
        if (!reason)
                reason = "none";
        pthread_mutex_lock(&s->lock);
        s->outcomes[outcome]++;
        size_t i;
        for (i = 0; i < s->n_reasons; i++)
                if (s->reasons[i].outcome == outcome && strcmp(s->reasons[i].reason, reason) == 0)
                        break;
        if (i < s->n_reasons)
                s->reasons[i].count++;
        else if (s->n_reasons < STATS_REASONS_MAX)
                s->reasons[s->n_reasons++] = (struct reason_count){ outcome, reason, 1 };
        else
                s->other_reasons++;
        pthread_mutex_unlock(&s->lock);
}

void stats_lost(struct proxy_stats *s, uint32_t pid, const char *comm, const char *reason, usec_t wall)
{
        pthread_mutex_lock(&s->lock);
        struct lost_dump *l = &s->recent[s->lost % STATS_LOST_RECENT];
        *l = (struct lost_dump){ .pid = pid, .reason = reason, .wall = wall };
        (void) snprintf(l->comm, sizeof(l->comm), "%s", comm ? comm : "");
        s->lost++;
        pthread_mutex_unlock(&s->lock);
}

uint64_t stats_lost_total(struct proxy_stats *s)
{
        pthread_mutex_lock(&s->lock);
        uint64_t n = s->lost;
        pthread_mutex_unlock(&s->lock);
        return n;
}

void stats_write_json(struct proxy_stats *s, struct jsonw *w)
{
        char time[32];

        pthread_mutex_lock(&s->lock);
        jsonw_kv_uint(w, "accepted", s->accepted);
        jsonw_key(w, "outcomes");
        jsonw_object_begin(w);
        for (enum dump_outcome o = OUTCOME_DELIVERED; o < _OUTCOME_MAX; o++) {
                jsonw_key(w, dump_outcome_to_string(o));
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "total", s->outcomes[o]);
                jsonw_key(w, "reasons");
                jsonw_object_begin(w);
                for (size_t i = 0; i < s->n_reasons; i++)
                        if (s->reasons[i].outcome == o)
                                jsonw_kv_uint(w, s->reasons[i].reason, s->reasons[i].count);
                jsonw_object_end(w);
                jsonw_object_end(w);
        }
        jsonw_object_end(w);

        jsonw_key(w, "lost");
        jsonw_object_begin(w);
        jsonw_kv_uint(w, "total", s->lost);
        jsonw_key(w, "recent");
        jsonw_array_begin(w);
        uint64_t first = s->lost > STATS_LOST_RECENT ? s->lost - STATS_LOST_RECENT : 0;
        for (uint64_t n = first; n < s->lost; n++) {
                const struct lost_dump *l = &s->recent[n % STATS_LOST_RECENT];
                event_format_time(l->wall, time);
                jsonw_object_begin(w);
                jsonw_kv_uint(w, "pid", l->pid);
                jsonw_kv_string(w, "comm", l->comm[0] ? l->comm : NULL);
                jsonw_kv_string(w, "reason", l->reason);
                jsonw_kv_string(w, "time", time);
                jsonw_object_end(w);
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
        pthread_mutex_unlock(&s->lock);
}
