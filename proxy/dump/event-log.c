/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/base/log.h"
#include "proxy/dump/event-log.h"

/* How long the last reference waits for queued lines to reach the sink. */
#define FLUSH_ON_CLOSE (5 * USEC_PER_SEC)

struct line {
        struct line *next;
        size_t len;
        char text[]; /* len bytes and the newline */
};

struct event_log {
        unsigned refs;
        char *path; /* NULL: stdout */
        pthread_mutex_t lock;
        pthread_cond_t wake;    /* a line was queued, or stop */
        pthread_cond_t drained; /* the queue became empty */
        int fd;                 /* under lock: reopen swaps it */
        struct line *head, *tail;
        size_t queued;       /* bytes in the queue */
        bool writing;        /* the writer holds a line outside the queue */
        bool thread_started; /* started on the first line, after start-up has dropped privileges */
        bool stop;
        pthread_t thread;
        uint64_t dropped;
        int last_error; /* reported once per change */
};

static int open_log(const char *path)
{
        int r = io_mkdir_parents(path);
        if (r < 0)
                return r;
        /* O_NOFOLLOW: a symlink planted at the log's name must not redirect root's appends. */
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        if (fd < 0)
                return negative_errno();
        return fd;
}

int event_log_open(const char *path, struct event_log **ret)
{
        _cleanup_free_ struct event_log *l = calloc(1, sizeof(*l));
        int r;

        if (!l)
                return -ENOMEM;
        if (strcmp(path, "-") == 0) {
                l->fd = STDOUT_FILENO;
        } else {
                l->path = strdup(path);
                if (!l->path)
                        return -ENOMEM;
                r = open_log(path);
                if (r < 0) {
                        free(l->path);
                        return r;
                }
                l->fd = r;
        }
        pthread_mutex_init(&l->lock, NULL);
        pthread_cond_init(&l->wake, NULL);
        pthread_cond_init(&l->drained, NULL);
        l->refs = 1;
        *ret = TAKE_PTR(l);
        return 0;
}

struct event_log *event_log_ref(struct event_log *l)
{
        if (l)
                __atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
        return l;
}

const char *event_log_path(const struct event_log *l)
{
        return l->path ? l->path : "-";
}

int event_log_reopen(struct event_log *l)
{
        int r;

        if (!l->path)
                return 0;
        r = open_log(l->path);
        if (r < 0)
                return r;
        pthread_mutex_lock(&l->lock);
        safe_close(l->fd);
        l->fd = r;
        pthread_mutex_unlock(&l->lock);
        return 0;
}

/* Writes one line; called without the lock (the fd may be swapped meanwhile: then by number once more). */
static int write_line(struct event_log *l, int fd, const struct line *ln)
{
        return io_write_all(fd, ln->text, ln->len + 1);
}

static void *writer_main(void *arg)
{
        struct event_log *l = arg;

        pthread_mutex_lock(&l->lock);
        for (;;) {
                while (!l->head && !l->stop)
                        pthread_cond_wait(&l->wake, &l->lock);
                if (!l->head)
                        break;
                struct line *ln = l->head;
                l->head = ln->next;
                if (!l->head)
                        l->tail = NULL;
                l->writing = true;
                int fd = l->fd;
                pthread_mutex_unlock(&l->lock);

                int r = write_line(l, fd, ln);

                pthread_mutex_lock(&l->lock);
                l->queued -= ln->len + 1;
                l->writing = false;
                if (r < 0 && r != l->last_error)
                        log_error("writing events to %s failed: %s", event_log_path(l), strerror(-r));
                l->last_error = r < 0 ? r : 0;
                free(ln);
                if (!l->head)
                        pthread_cond_broadcast(&l->drained);
        }
        pthread_mutex_unlock(&l->lock);
        return NULL;
}

/* Called with the lock held. */
static int start_writer(struct event_log *l)
{
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        pthread_attr_init(&attr);
        (void) pthread_attr_setstacksize(&attr, 64 * 1024);
        /* Signals belong to the event loop's signalfd. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = pthread_create(&l->thread, &attr, writer_main, l);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        l->thread_started = true;
        return 0;
}

int event_log_submit(struct event_log *l, char *text, size_t len)
{
        _cleanup_free_ char *owned = text;
        struct line *ln;
        int r;

        pthread_mutex_lock(&l->lock);
        if (l->queued + len + 1 > EVENT_LOG_QUEUE_MAX) {
                if (l->dropped++ == 0)
                        log_error(
                                "events to %s back up beyond %zu bytes: dropping lines (counted in status)",
                                event_log_path(l), EVENT_LOG_QUEUE_MAX);
                pthread_mutex_unlock(&l->lock);
                return -ENOBUFS;
        }
        if (!l->thread_started) {
                r = start_writer(l);
                if (r < 0) {
                        /* No thread to spare (a pids limit): this line goes out the slow way. */
                        int fd = l->fd;
                        pthread_mutex_unlock(&l->lock);
                        owned[len] = '\n';
                        return io_write_all(fd, owned, len + 1);
                }
        }
        ln = malloc(sizeof(*ln) + len + 1);
        if (!ln) {
                l->dropped++;
                pthread_mutex_unlock(&l->lock);
                return -ENOMEM;
        }
        memcpy(ln->text, owned, len);
        ln->text[len] = '\n';
        ln->len = len;
        ln->next = NULL;
        if (l->tail)
                l->tail->next = ln;
        else
                l->head = ln;
        l->tail = ln;
        l->queued += len + 1;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
        return 0;
}

uint64_t event_log_dropped(struct event_log *l)
{
        pthread_mutex_lock(&l->lock);
        uint64_t n = l->dropped;
        pthread_mutex_unlock(&l->lock);
        return n;
}

int event_log_flush(struct event_log *l, usec_t deadline)
{
        int r = 0;

        pthread_mutex_lock(&l->lock);
        while (l->head || l->writing) {
                usec_t now = io_now();
                struct timespec ts;

                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                /* pthread_cond_timedwait wants CLOCK_REALTIME; wake at least every 100 ms. */
                clock_gettime(CLOCK_REALTIME, &ts);
                usec_t wait = MIN(deadline - now, 100 * USEC_PER_MSEC);
                ts.tv_nsec += (long) (wait % USEC_PER_SEC) * 1000;
                ts.tv_sec += (time_t) (wait / USEC_PER_SEC) + ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                pthread_cond_timedwait(&l->drained, &l->lock, &ts);
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

void event_log_unref(struct event_log *l)
{
        if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;

        if (event_log_flush(l, io_now() + FLUSH_ON_CLOSE) < 0)
                log_error("events to %s: the sink did not take the last lines", event_log_path(l));
        pthread_mutex_lock(&l->lock);
        l->stop = true;
        pthread_cond_broadcast(&l->wake);
        bool joined = l->thread_started && !l->writing && !l->head;
        pthread_mutex_unlock(&l->lock);
        if (!joined && l->thread_started) {
                /* The writer is stuck in write(2) on a sink that takes nothing: leave it to exit(). */
                return;
        }
        if (l->thread_started)
                pthread_join(l->thread, NULL);
        for (struct line *ln = l->head, *next; ln; ln = next) {
                next = ln->next;
                free(ln);
        }
        if (l->path)
                safe_close(l->fd);
        pthread_cond_destroy(&l->wake);
        pthread_cond_destroy(&l->drained);
        pthread_mutex_destroy(&l->lock);
        free(l->path);
        free(l);
}
