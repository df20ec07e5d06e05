/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/daemon/accounting.h"

/*
 * Both tables are small rings: a burst larger than them loses accuracy of
 * the accounting (reported as lost when unsure is wrong, so pending entries
 * that fall off are counted as such), never memory.
 */
#define PENDING_MAX 1024
#define ARRIVED_MAX 1024

struct pending {
        pid_t tgid;
        bool not_dumpable;
        char comm[TASK_COMM_MAX + 1];
        usec_t started; /* monotonic */
        usec_t wall;
};

struct arrival {
        pid_t tgid;
        usec_t at;
};

/* The loop reads the connector; workers that accept record arrivals: both under the lock. */
struct accounting {
        pthread_mutex_t lock;
        struct pending pending[PENDING_MAX];
        size_t n_pending;
        struct arrival arrived[ARRIVED_MAX];
        size_t next_arrival;
};

int accounting_new(struct accounting **ret)
{
        struct accounting *a = calloc(1, sizeof(*a));

        if (!a)
                return -ENOMEM;
        pthread_mutex_init(&a->lock, NULL);
        *ret = a;
        return 0;
}

void accounting_free(struct accounting *a)
{
        if (!a)
                return;
        pthread_mutex_destroy(&a->lock);
        free(a);
}

void accounting_arrived(struct accounting *a, pid_t tgid, usec_t now)
{
        pthread_mutex_lock(&a->lock);
        /* Once the kernel's event was read first: settle it. */
        for (size_t i = 0; i < a->n_pending; i++)
                if (a->pending[i].tgid == tgid) {
                        a->pending[i] = a->pending[--a->n_pending];
                        pthread_mutex_unlock(&a->lock);
                        return;
                }
        /* Usually: remember the arrival for the event still in the connector's queue. */
        a->arrived[a->next_arrival] = (struct arrival){ .tgid = tgid, .at = now };
        a->next_arrival = (a->next_arrival + 1) % ARRIVED_MAX;
        pthread_mutex_unlock(&a->lock);
}

bool accounting_settle(struct accounting *a, pid_t tgid, usec_t now)
{
        bool found = false;

        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < ARRIVED_MAX && !found; i++)
                if (a->arrived[i].tgid == tgid && a->arrived[i].at + ACCOUNTING_GRACE > now) {
                        a->arrived[i].tgid = 0;
                        found = true;
                }
        pthread_mutex_unlock(&a->lock);
        return found;
}

void accounting_started(struct accounting *a, pid_t tgid, const char *comm, bool not_dumpable, usec_t now,
                        usec_t wall)
{
        pthread_mutex_lock(&a->lock);
        if (a->n_pending == PENDING_MAX) {
                /* Full: the oldest gives way; it is the likeliest to be lost anyway. */
                size_t oldest = 0;
                for (size_t i = 1; i < a->n_pending; i++)
                        if (a->pending[i].started < a->pending[oldest].started)
                                oldest = i;
                a->pending[oldest] = a->pending[--a->n_pending];
        }
        struct pending *p = &a->pending[a->n_pending++];
        *p = (struct pending){ .tgid = tgid, .not_dumpable = not_dumpable, .started = now, .wall = wall };
        (void) snprintf(p->comm, sizeof(p->comm), "%s", comm ? comm : "");
        pthread_mutex_unlock(&a->lock);
}

size_t accounting_expire(struct accounting *a, usec_t now, struct lost_crash *out, size_t max)
{
        size_t n = 0;

        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->n_pending && n < max;) {
                struct pending *p = &a->pending[i];
                if (p->started + ACCOUNTING_GRACE > now) {
                        i++;
                        continue;
                }
                out[n] = (struct lost_crash){
                        .tgid = p->tgid,
                        .reason = p->not_dumpable ? REASON_NOT_DUMPABLE : REASON_NOT_RECEIVED,
                        .wall = p->wall,
                };
                memcpy(out[n].comm, p->comm, sizeof(out[n].comm));
                n++;
                *p = a->pending[--a->n_pending];
        }
        pthread_mutex_unlock(&a->lock);
        return n;
}

usec_t accounting_next_expiry(struct accounting *a)
{
        usec_t next = USEC_INFINITY;

        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->n_pending; i++)
                next = MIN(next, a->pending[i].started + ACCOUNTING_GRACE);
        pthread_mutex_unlock(&a->lock);
        return next;
}
