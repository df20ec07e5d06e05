/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/act/forward.h"
#include "proxy/act/watch.h"
#include "proxy/base/log.h"

/* How often progress is looked at. */
#define TICK (1 * USEC_PER_SEC)

struct watched {
        struct watched *prev, *next;
        struct dump *d;
        usec_t last_progress;
        uint64_t wchar; /* the crashing task's bytes written, as last seen; UINT64_MAX unknown */
        int queued;     /* bytes waiting in the stream, as last seen; -1 unknown */
};

struct watch {
        const struct dump_env *env;
        watch_done_fn done;
        void *userdata;
        int epoll_fd;
        int stop_fd; /* an eventfd: the thread ends when it is written */
        pthread_mutex_t lock;
        struct watched *head; /* under lock */
        bool started;
        pthread_t thread;
};

/* The kernel's count of bytes the crashing task wrote: its dump, as the kernel writes it. */
static uint64_t read_wchar(const struct dump *d)
{
        _cleanup_free_ char *text = NULL;
        const char *p;
        uint64_t v;

        if (!d->task.have_proc_dir || io_read_proc_file_at(d->task.proc_dir_fd, "io", 4096, &text) < 0)
                return UINT64_MAX;
        p = strstr(text, "wchar:");
        if (!p || sscanf(p, "wchar: %" SCNu64, &v) != 1)
                return UINT64_MAX;
        return v;
}

static int read_queued(const struct dump *d)
{
        int n = 0;

        return ioctl(d->fd, FIONREAD, &n) < 0 ? -1 : n;
}

/* Whether anything moved since the last look: the kernel writing, or the collector reading. */
static bool moved(struct watched *w)
{
        uint64_t wchar = read_wchar(w->d);
        int queued = read_queued(w->d);
        bool any = (wchar != UINT64_MAX && wchar != w->wchar) || queued != w->queued;

        w->wchar = wchar;
        w->queued = queued;
        return any;
}

static void unlink_watched(struct watch *wt, struct watched *w)
{
        pthread_mutex_lock(&wt->lock);
        if (w->prev)
                w->prev->next = w->next;
        else
                wt->head = w->next;
        if (w->next)
                w->next->prev = w->prev;
        pthread_mutex_unlock(&wt->lock);
        (void) epoll_ctl(wt->epoll_fd, EPOLL_CTL_DEL, w->d->collector_fd, NULL);
}

static void end(struct watch *wt, struct watched *w, struct act_result res)
{
        struct dump *d = w->d;

        unlink_watched(wt, w);
        free(w);
        wt->done(wt->userdata, d, res);
}

/* Deadlines and progress, once a tick: ends the dumps that ran out, one at a time. */
static void check_progress(struct watch *wt)
{
        usec_t now = io_now();

        for (;;) {
                struct watched *expired = NULL;
                struct act_result res = {};

                pthread_mutex_lock(&wt->lock);
                for (struct watched *w = wt->head; w && !expired; w = w->next) {
                        usec_t stall = w->d->setup->config->limits.stall_timeout;

                        if (moved(w))
                                w->last_progress = now;
                        if (now >= w->d->deadline) {
                                expired = w;
                                res = act_done(OUTCOME_FAILED, REASON_TIMEOUT);
                        } else if (now - w->last_progress >= stall) {
                                expired = w;
                                res = act_done(OUTCOME_FAILED, REASON_NO_PROGRESS);
                        }
                }
                pthread_mutex_unlock(&wt->lock);
                if (!expired)
                        return;
                log_warning("%s: the collector %s; the dump is given up", expired->d->id,
                            res.reason == REASON_TIMEOUT ? "did not finish within dump_timeout"
                                                         : "moved no byte for stall_timeout");
                end(wt, expired, res);
        }
}

static void *watch_main(void *arg)
{
        struct watch *wt = arg;
        usec_t next_tick = io_now() + TICK;

        for (;;) {
                struct epoll_event events[16];
                usec_t now = io_now();
                int timeout =
                        next_tick > now ? (int) ((next_tick - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC) : 0;
                int n = epoll_wait(wt->epoll_fd, events, ARRAY_SIZE(events), timeout);

                if (n < 0 && errno != EINTR) {
                        log_error_errno(errno, "watch: epoll_wait");
                        (void) usleep(100 * 1000);
                }
                for (int i = 0; i < n; i++) {
                        struct watched *w = events[i].data.ptr;

                        if (!w)
                                return NULL; /* the stop eventfd */
                        end(wt, w, forward_collect(w->d));
                }
                if (io_now() >= next_tick) {
                        check_progress(wt);
                        next_tick = io_now() + TICK;
                }
        }
}

int watch_new(const struct dump_env *env, watch_done_fn done, void *userdata, struct watch **ret)
{
        _cleanup_free_ struct watch *wt = calloc(1, sizeof(*wt));
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };

        if (!wt)
                return -ENOMEM;
        *wt = (struct watch){
                .env = env, .done = done, .userdata = userdata, .epoll_fd = -EBADF, .stop_fd = -EBADF
        };
        wt->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        wt->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wt->epoll_fd < 0 || wt->stop_fd < 0 ||
            epoll_ctl(wt->epoll_fd, EPOLL_CTL_ADD, wt->stop_fd, &ev) < 0) {
                int r = negative_errno();
                safe_close(wt->epoll_fd);
                safe_close(wt->stop_fd);
                return r;
        }
        pthread_mutex_init(&wt->lock, NULL);
        *ret = TAKE_PTR(wt);
        return 0;
}

/* Started with the first dump: after start-up has reduced privileges, which are per thread. */
static int start_thread(struct watch *wt)
{
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        pthread_attr_init(&attr);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = pthread_create(&wt->thread, &attr, watch_main, wt);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        wt->started = true;
        return 0;
}

int watch_add(struct watch *wt, struct dump *d)
{
        struct watched *w = calloc(1, sizeof(*w));
        struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
        int r = 0;

        if (!w)
                return -ENOMEM;
        *w = (struct watched){ .d = d, .last_progress = io_now(), .wchar = UINT64_MAX, .queued = -1 };
        ev.data.ptr = w;

        /* One-shot: the result is read once, by the thread that ends the dump. */
        ev.events |= EPOLLONESHOT;
        /* Listed and polled under one lock: the thread cannot end it before both are done. */
        pthread_mutex_lock(&wt->lock);
        if (!wt->started)
                r = start_thread(wt);
        if (r >= 0 && epoll_ctl(wt->epoll_fd, EPOLL_CTL_ADD, d->collector_fd, &ev) < 0)
                r = negative_errno();
        if (r >= 0) {
                w->next = wt->head;
                if (wt->head)
                        wt->head->prev = w;
                wt->head = w;
        }
        pthread_mutex_unlock(&wt->lock);
        if (r < 0)
                free(w);
        return r;
}

void watch_free(struct watch *wt)
{
        if (!wt)
                return;
        if (wt->started) {
                uint64_t one = 1;
                ssize_t _unused_ k = write(wt->stop_fd, &one, sizeof(one));
                pthread_join(wt->thread, NULL);
        }
        safe_close(wt->epoll_fd);
        safe_close(wt->stop_fd);
        pthread_mutex_destroy(&wt->lock);
        free(wt);
}
