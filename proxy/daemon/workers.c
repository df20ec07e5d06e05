/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/fault.h"
#include "proxy/daemon/workers.h"

/* Workers run splice loops and small parsers, never deep recursion; small stacks keep RSS low. */
#define WORKER_STACK_SIZE (256U * 1024U)

/* A FIFO of items. */
struct ring {
        void **items;
        size_t size, head, n;
};

struct worker_pool {
        pthread_mutex_t lock;
        pthread_cond_t work; /* an item was queued or a slot freed, or stop */
        pthread_cond_t idle; /* an item finished */
        struct ring queued;  /* new items */
        struct ring parked;  /* container items waiting for a container slot */
        size_t max_queue;    /* queued + parked at most */
        size_t running;      /* items being worked on */
        unsigned containers, max_container;
        unsigned n_threads, idle_threads, max_threads;
        pthread_t *threads;
        size_t threads_allocated;
        bool stop;
        worker_fn fn;
        void *userdata;
};

/* Whether the item on this thread holds a container slot. */
static __thread bool holds_container;

static int ring_init(struct ring *r, size_t size)
{
        r->items = calloc(size, sizeof(void *));
        r->size = size;
        return r->items ? 0 : -ENOMEM;
}

static void ring_push(struct ring *r, void *item)
{
        r->items[(r->head + r->n) % r->size] = item;
        r->n++;
}

static void *ring_pop(struct ring *r)
{
        void *item = r->items[r->head];

        r->head = (r->head + 1) % r->size;
        r->n--;
        return item;
}

/* Called with the lock held: the next item to run, parked ones first when a slot is free (they came
 * earlier). */
static void *next_item(struct worker_pool *p)
{
        if (p->parked.n > 0 && p->containers < p->max_container) {
                p->containers++;
                holds_container = true;
                return ring_pop(&p->parked);
        }
        if (p->queued.n > 0)
                return ring_pop(&p->queued);
        return NULL;
}

static void *worker_main(void *arg)
{
        struct worker_pool *p = arg;

        pthread_mutex_lock(&p->lock);
        for (;;) {
                void *item;

                while (!(item = next_item(p)) && !p->stop) {
                        p->idle_threads++;
                        pthread_cond_wait(&p->work, &p->lock);
                        p->idle_threads--;
                }
                if (!item)
                        break;
                p->running++;
                pthread_mutex_unlock(&p->lock);

                enum worker_result r = p->fn(item, p->userdata);

                pthread_mutex_lock(&p->lock);
                p->running--;
                if (r == WORKER_PARKED)
                        ring_push(&p->parked, item);
                if (holds_container && r != WORKER_PARKED) {
                        p->containers--;
                        pthread_cond_signal(&p->work);
                }
                holds_container = false;
                pthread_cond_broadcast(&p->idle);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int workers_new(unsigned max_threads, unsigned max_container, size_t max_queue, worker_fn fn, void *userdata,
                struct worker_pool **ret)
{
        struct worker_pool *p;

        if (max_threads == 0 || max_queue == 0)
                return -EINVAL;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        /* Parked items were queued once: both rings together never hold more than max_queue plus the
         * running. */
        if (ring_init(&p->queued, max_queue) < 0 || ring_init(&p->parked, max_queue + max_threads + 1) < 0) {
                free(p->queued.items);
                free(p);
                return -ENOMEM;
        }
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->work, NULL);
        pthread_cond_init(&p->idle, NULL);
        p->max_queue = max_queue;
        p->max_threads = max_threads;
        p->max_container = max_container > 0 ? max_container : max_threads;
        p->fn = fn;
        p->userdata = userdata;
        *ret = p;
        return 0;
}

/* Called with the lock held. */
static int start_thread(struct worker_pool *p)
{
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        if (p->n_threads >= p->threads_allocated) {
                size_t n = p->threads_allocated ? p->threads_allocated * 2 : 8;
                pthread_t *t = realloc(p->threads, n * sizeof(pthread_t));
                if (!t)
                        return -ENOMEM;
                p->threads = t;
                p->threads_allocated = n;
        }

        pthread_attr_init(&attr);
        (void) pthread_attr_setstacksize(&attr, WORKER_STACK_SIZE);
        /* Signals belong to the event loop's signalfd: workers start with all blocked. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        /* A unit's TasksMax or a pod's pids limit makes this fail with EAGAIN. */
        r = fault_hit("pthread-create") ? EAGAIN
                                        : pthread_create(&p->threads[p->n_threads], &attr, worker_main, p);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        p->n_threads++;
        return 0;
}

int workers_submit(struct worker_pool *p, void *item)
{
        int r = 0;

        pthread_mutex_lock(&p->lock);
        if (p->queued.n + p->parked.n >= p->max_queue || p->stop) {
                pthread_mutex_unlock(&p->lock);
                return -EAGAIN;
        }
        ring_push(&p->queued, item);
        if (p->idle_threads < p->queued.n && p->n_threads < p->max_threads)
                r = start_thread(p);
        if (r < 0 && p->n_threads == 0) {
                /*
                 * Nobody would ever run it: take it back out, so that the caller,
                 * told it failed, owns the item again (it is the newest one).
                 */
                p->queued.n--;
                pthread_mutex_unlock(&p->lock);
                return r;
        }
        /* A thread that could not be started is not fatal while another one runs. */
        pthread_cond_signal(&p->work);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

bool workers_claim_container(struct worker_pool *p)
{
        bool ok = true;

        if (holds_container)
                return true;
        pthread_mutex_lock(&p->lock);
        if (p->containers < p->max_container) {
                p->containers++;
                holds_container = true;
        } else {
                ok = false;
        }
        pthread_mutex_unlock(&p->lock);
        return ok;
}

void workers_counts(struct worker_pool *p, size_t *ret_queued, size_t *ret_running)
{
        pthread_mutex_lock(&p->lock);
        if (ret_queued)
                *ret_queued = p->queued.n + p->parked.n;
        if (ret_running)
                *ret_running = p->running;
        pthread_mutex_unlock(&p->lock);
}

void workers_set_limits(struct worker_pool *p, unsigned max_threads, unsigned max_container)
{
        pthread_mutex_lock(&p->lock);
        if (max_threads > 0)
                p->max_threads = max_threads;
        if (max_container > 0)
                p->max_container = max_container;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
}

int workers_wait_idle(struct worker_pool *p, unsigned long long deadline_usec)
{
        int r = 0;

        pthread_mutex_lock(&p->lock);
        while (p->queued.n > 0 || p->parked.n > 0 || p->running > 0) {
                usec_t now = io_now();
                if (now >= deadline_usec) {
                        r = -ETIMEDOUT;
                        break;
                }
                /* pthread_cond_timedwait wants CLOCK_REALTIME; wake at least every 100 ms. */
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                usec_t wait = MIN(deadline_usec - now, 100 * USEC_PER_MSEC);
                ts.tv_nsec += (long) (wait % USEC_PER_SEC) * 1000;
                ts.tv_sec += (time_t) (wait / USEC_PER_SEC) + ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&p->idle, &p->lock, &ts);
        }
        pthread_mutex_unlock(&p->lock);
        return r;
}

void workers_free(struct worker_pool *p)
{
        if (!p)
                return;
        pthread_mutex_lock(&p->lock);
        p->stop = true;
        pthread_cond_broadcast(&p->work);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->idle);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p->queued.items);
        free(p->parked.items);
        free(p);
}
