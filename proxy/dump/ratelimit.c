/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/dump/ratelimit.h"

struct bucket {
        char *key;         /* whole, however long: two containers must never share a bucket by truncation */
        usec_t start;      /* start of the current fixed interval */
        unsigned current;  /* dumps counted in it */
        unsigned previous; /* dumps of the interval before */
        usec_t last;       /* last dump seen, to pick an entry to reuse */
};

struct rate_limiter {
        pthread_mutex_t lock;
        struct bucket *buckets;
        size_t n, max;
};

int ratelimit_new(size_t max_keys, struct rate_limiter **ret)
{
        struct rate_limiter *rl = calloc(1, sizeof(*rl));

        if (!rl || max_keys == 0) {
                free(rl);
                return max_keys == 0 ? -EINVAL : -ENOMEM;
        }
        rl->buckets = calloc(max_keys, sizeof(struct bucket));
        if (!rl->buckets) {
                free(rl);
                return -ENOMEM;
        }
        rl->max = max_keys;
        pthread_mutex_init(&rl->lock, NULL);
        *ret = rl;
        return 0;
}

void ratelimit_free(struct rate_limiter *rl)
{
        if (!rl)
                return;
        pthread_mutex_destroy(&rl->lock);
        for (size_t i = 0; i < rl->n; i++)
                free(rl->buckets[i].key);
        free(rl->buckets);
        free(rl);
}

/* Moves the fixed window forward to the interval that holds now. */
static void advance(struct bucket *b, usec_t interval, usec_t now)
{
        if (now < b->start + interval)
                return;
        if (now < b->start + 2 * interval) {
                b->previous = b->current;
                b->start += interval;
        } else {
                b->previous = 0;
                b->start = now;
        }
        b->current = 0;
}

static struct bucket *find_or_take(struct rate_limiter *rl, const char *key, usec_t now)
{
        struct bucket *oldest;
        char *copy;

        for (size_t i = 0; i < rl->n; i++)
                if (strcmp(rl->buckets[i].key, key) == 0)
                        return &rl->buckets[i];

        copy = strdup(key);
        if (!copy)
                return NULL;
        if (rl->n < rl->max) {
                oldest = &rl->buckets[rl->n++];
        } else {
                /* Full: reuse the entry idle longest; one idle for two intervals limits nothing. */
                oldest = &rl->buckets[0];
                for (size_t i = 1; i < rl->n; i++)
                        if (rl->buckets[i].last < oldest->last)
                                oldest = &rl->buckets[i];
                free(oldest->key);
        }
        *oldest = (struct bucket){ .key = copy, .start = now };
        return oldest;
}

bool ratelimit_allow(struct rate_limiter *rl, const char *key, unsigned limit, usec_t interval, usec_t now)
{
        struct bucket *b;
        bool allowed;

        if (limit == 0 || interval == 0)
                return true;

        pthread_mutex_lock(&rl->lock);
        b = find_or_take(rl, key, now);
        if (!b) {
                /* Out of memory: counting nothing would let a crash loop through. */
                pthread_mutex_unlock(&rl->lock);
                return false;
        }
        advance(b, interval, now);

        /*
         * The part of the previous interval still inside the sliding window,
         * rounded up: the estimate may refuse a dump early, never let one
         * too many through.
         */
        usec_t into = now - b->start;
        uint64_t carried = ((uint64_t) b->previous * (interval - into) + interval - 1) / interval;
        allowed = carried + b->current < limit;
        if (allowed)
                b->current++;
        b->last = now;
        pthread_mutex_unlock(&rl->lock);
        return allowed;
}
