/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

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

/* A worker's epoll, and the listener it holds (-EBADF: none); changed under the pool's lock. */
struct worker_epoll {
        int fd;
        int listening;
};

struct worker_pool {
        pthread_mutex_t lock;
        /*
         * An item was queued or a slot freed, or stop: one token per wake-up
         * (EFD_SEMAPHORE). Idle workers wait for it in epoll, beside the
         * listener they accept from, each in an epoll of its own with both
         * EPOLLEXCLUSIVE: the kernel wakes one waiting worker per event.
         */
        int wake_fd;
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

        /* Accepting on the workers (workers_accept_on()). */
        struct worker_epoll *epolls; /* one per thread, by the index it got at its start */
        size_t n_epolls, epolls_allocated;
        unsigned idle_listening; /* idle threads whose epoll holds the listener */
        int accept_fd;           /* -EBADF: workers do not accept */
        accept_fn accept;
        saturated_fn saturated;  /* told when no worker waits for the listener any more, and again */
        bool loop_listens;       /* saturated() was last told true */
        unsigned accepting;      /* workers between a wake-up and the end of their accept */
        pthread_cond_t accepted; /* accepting dropped */
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

static void wake_one(struct worker_pool *p)
{
        (void) eventfd_write(p->wake_fd, 1);
}

static int start_thread(struct worker_pool *p);

/* Called with the lock held. Queued and parked items at the bound: a new connection is refused. */
static bool queue_full(const struct worker_pool *p)
{
        return p->queued.n + p->parked.n >= p->max_queue;
}

/* Called with the lock held: whether workers take connections now (else the event loop does). */
static bool workers_listen(const struct worker_pool *p)
{
        return p->accept_fd >= 0 && !p->stop && !queue_full(p);
}

/* Called with the lock held: the event loop accepts (and answers overload at once) from now on. */
static void loop_takes_over(struct worker_pool *p)
{
        if (p->accept_fd >= 0 && !p->loop_listens) {
                p->loop_listens = true;
                p->saturated(p->userdata, true);
        }
}

/*
 * Called with the lock held, by a worker about to run an item: somebody must
 * still be waiting for the listener, so that no connection waits unanswered
 * behind busy workers. Another thread if one may be started (it listens once
 * its epoll is up, or hands over to the loop itself), else the event loop,
 * which answers the overload at once (workers_submit()'s -EAGAIN). With the
 * queue full the loop takes over too: a connection accepted by a worker would
 * not go through that bound.
 */
static void keep_listening(struct worker_pool *p)
{
        if (p->accept_fd < 0 || p->stop)
                return;
        if (queue_full(p)) {
                loop_takes_over(p);
                return;
        }
        if (p->idle_listening > 0)
                return;
        if (p->n_threads < p->max_threads && start_thread(p) >= 0)
                return;
        loop_takes_over(p);
}

/* Called with the lock held: the listener added to (or, once off, removed from) worker i's epoll. */
static void sync_listener(struct worker_pool *p, size_t i)
{
        struct worker_epoll *w = &p->epolls[i];
        int want = workers_listen(p) ? p->accept_fd : -EBADF;

        if (w->listening == want)
                return;
        if (w->listening >= 0)
                (void) epoll_ctl(w->fd, EPOLL_CTL_DEL, w->listening, NULL);
        w->listening = -EBADF;
        if (want >= 0 &&
            epoll_ctl(w->fd, EPOLL_CTL_ADD, want,
                      &(struct epoll_event){ .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 1 }) >= 0)
                w->listening = want;
}

/* This thread's epoll, with the wake-up eventfd: its index in p->epolls, or -errno (lock held). */
static int thread_epoll(struct worker_pool *p)
{
        _cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);

        if (ep < 0)
                return -errno;
        if (epoll_ctl(ep, EPOLL_CTL_ADD, p->wake_fd,
                      &(struct epoll_event){ .events = EPOLLIN | EPOLLEXCLUSIVE, .data.u32 = 0 }) < 0)
                return -errno;
        if (p->n_epolls >= p->epolls_allocated) {
                size_t n = p->epolls_allocated ? p->epolls_allocated * 2 : 8;
                struct worker_epoll *e = realloc(p->epolls, n * sizeof(*e));
                if (!e)
                        return -ENOMEM;
                p->epolls = e;
                p->epolls_allocated = n;
        }
        p->epolls[p->n_epolls] = (struct worker_epoll){ .fd = TAKE_FD(ep), .listening = -EBADF };
        return (int) p->n_epolls++;
}

/*
 * Called with the lock held; returns with it held. Waits for a token or a
 * connection; a connection is accepted here, on the thread that will run it.
 */
static void *wait_for_work(struct worker_pool *p, size_t i)
{
        struct epoll_event ev[2];
        bool listening, token = false;
        void *item = NULL;
        int n, ep;

        sync_listener(p, i);
        listening = p->epolls[i].listening >= 0;
        /* Only a worker that really waits for the listener relieves the event loop. */
        if (listening && p->loop_listens) {
                p->loop_listens = false;
                p->saturated(p->userdata, false);
        }
        /* Its epoll could not take the listener (ENOMEM, max_user_watches) and none other holds it. */
        if (!listening && workers_listen(p) && p->idle_listening == 0)
                loop_takes_over(p);
        ep = p->epolls[i].fd;
        p->idle_threads++;
        p->idle_listening += listening;
        pthread_mutex_unlock(&p->lock);
        n = epoll_wait(ep, ev, ARRAY_SIZE(ev), -1);
        pthread_mutex_lock(&p->lock);
        p->idle_threads--;
        p->idle_listening -= listening;

        for (int k = 0; k < n; k++) {
                if (ev[k].data.u32 == 0) {
                        eventfd_t v;
                        /* One token; EAGAIN: another worker took it. */
                        token = eventfd_read(p->wake_fd, &v) >= 0;
                        continue;
                }
                /* Turned off (and maybe closed) since the wake-up, or the queue filled: the loop accepts. */
                if (!workers_listen(p) || item)
                        continue;
                p->accepting++;
                int fd = p->accept_fd;
                pthread_mutex_unlock(&p->lock);
                item = p->accept(fd, p->userdata);
                pthread_mutex_lock(&p->lock);
                if (--p->accepting == 0)
                        pthread_cond_broadcast(&p->accepted);
        }
        /* The token was for a queued item, and this worker runs a connection instead: pass it on. */
        if (token && item && (p->queued.n > 0 || p->parked.n > 0))
                wake_one(p);
        return item;
}

static void *worker_main(void *arg)
{
        struct worker_pool *p = arg;
        int i;

        pthread_mutex_lock(&p->lock);
        i = thread_epoll(p);
        for (;;) {
                void *item = next_item(p);

                if (!item && p->stop)
                        break;
                if (!item && i >= 0)
                        item = wait_for_work(p, (size_t) i);
                else if (!item) {
                        /* No epoll of our own (out of fds): a slow poll of the queue, and the loop listens.
                         */
                        loop_takes_over(p);
                        pthread_mutex_unlock(&p->lock);
                        (void) usleep(10 * 1000);
                        pthread_mutex_lock(&p->lock);
                }
                if (!item)
                        continue;
                p->running++;
                keep_listening(p);
                pthread_mutex_unlock(&p->lock);

                enum worker_result r = p->fn(item, p->userdata);

                pthread_mutex_lock(&p->lock);
                p->running--;
                if (r == WORKER_PARKED) {
                        /* Bounded: a worker accepts only while queued + parked < max_queue. */
                        ring_push(&p->parked, item);
                        if (queue_full(p))
                                loop_takes_over(p);
                }
                if (holds_container && r != WORKER_PARKED) {
                        p->containers--;
                        if (p->parked.n > 0)
                                wake_one(p);
                }
                holds_container = false;
                pthread_cond_broadcast(&p->idle);
        }
        /* Pass the stop on: one token woke us, the others wait for theirs. */
        wake_one(p);
        if (i >= 0) {
                p->epolls[i].fd = safe_close(p->epolls[i].fd);
                p->epolls[i].listening = -EBADF;
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
        p->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE);
        if (p->wake_fd < 0) {
                int r = -errno;
                free(p->queued.items);
                free(p->parked.items);
                free(p);
                return r;
        }
        p->accept_fd = -EBADF;
        pthread_mutex_init(&p->lock, NULL);
        pthread_cond_init(&p->idle, NULL);
        pthread_cond_init(&p->accepted, NULL);
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
        wake_one(p);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

void workers_accept_on(struct worker_pool *p, int fd, accept_fn accept, saturated_fn saturated)
{
        pthread_mutex_lock(&p->lock);
        p->accept = accept;
        p->saturated = saturated;
        p->accept_fd = fd;
        /* Until a worker waits for it, the loop listens (the first dump starts the first worker). */
        p->loop_listens = true;
        /* Waiting workers take the listener into their epoll at their next wake-up. */
        for (unsigned i = 0; i < p->n_threads; i++)
                wake_one(p);
        pthread_mutex_unlock(&p->lock);
}

void workers_accept_off(struct worker_pool *p)
{
        pthread_mutex_lock(&p->lock);
        p->accept_fd = -EBADF;
        /*
         * Out of every epoll now, while the fd is still open: a listener that
         * the service manager also holds would stay in them after our close,
         * and wake idle workers for connections they no longer take.
         */
        for (size_t i = 0; i < p->n_epolls; i++)
                if (p->epolls[i].fd >= 0 && p->epolls[i].listening >= 0) {
                        (void) epoll_ctl(p->epolls[i].fd, EPOLL_CTL_DEL, p->epolls[i].listening, NULL);
                        p->epolls[i].listening = -EBADF;
                }
        while (p->accepting > 0)
                pthread_cond_wait(&p->accepted, &p->lock);
        pthread_mutex_unlock(&p->lock);
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
        for (size_t i = 0; i < p->parked.n && i < p->n_threads; i++)
                wake_one(p);
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
        p->accept_fd = -EBADF;
        wake_one(p);
        pthread_mutex_unlock(&p->lock);
        for (unsigned i = 0; i < p->n_threads; i++)
                pthread_join(p->threads[i], NULL);
        close(p->wake_fd);
        free(p->epolls);
        pthread_cond_destroy(&p->idle);
        pthread_cond_destroy(&p->accepted);
        pthread_mutex_destroy(&p->lock);
        free(p->threads);
        free(p->queued.items);
        free(p->parked.items);
        free(p);
}
