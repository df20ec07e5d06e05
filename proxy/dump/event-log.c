/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/base/log.h"
#include "proxy/dump/event-log.h"

/* How long the last reference waits for queued lines to reach the sink. */
#define FLUSH_ON_CLOSE (5 * USEC_PER_SEC)

struct line {
        struct line *next;
        size_t len;  /* the text and its newline */
        size_t done; /* bytes already written (a partial write of a long line) */
        char text[];
};

struct event_log {
        unsigned refs;
        char *path; /* NULL: stdout */
        pthread_mutex_t lock;
        pthread_cond_t wake;    /* a line was queued, or stop */
        pthread_cond_t drained; /* the queue became empty */
        int fd;                 /* under lock: reopen swaps it */
        bool regular;           /* a file: writes never wait for a reader */
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
                struct stat st;

                l->fd = STDOUT_FILENO;
                l->regular = fstat(l->fd, &st) >= 0 && S_ISREG(st.st_mode);
        } else {
                l->regular = true;
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

/* Writes what is left of a line; called without the lock, by the writer thread. */
static int write_line(int fd, const struct line *ln)
{
        return io_write_all(fd, ln->text + ln->done, ln->len - ln->done);
}

/*
 * Writes without waiting for a reader: a regular file takes the line at
 * once (it never waits for anyone to read it); a pipe, socket or terminal
 * only what fits now (RWF_NOWAIT). Returns the bytes written, 0 when
 * nothing could be, -errno.
 */
static ssize_t write_now(struct event_log *l, const char *text, size_t len)
{
        struct iovec iov = { .iov_base = (void *) text, .iov_len = len };
        ssize_t k;

        if (l->regular)
                return io_write_all(l->fd, text, len) < 0 ? negative_errno() : (ssize_t) len;
        k = pwritev2(l->fd, &iov, 1, -1, RWF_NOWAIT);
        if (k >= 0)
                return k;
        /* Full, or a kernel whose pipes do not know RWF_NOWAIT: the writer thread waits instead. */
        if (errno == EAGAIN || errno == EOPNOTSUPP || errno == EINTR)
                return 0;
        return negative_errno();
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

                int r = write_line(fd, ln);

                pthread_mutex_lock(&l->lock);
                l->queued -= ln->len - ln->done;
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

/* Called with the lock held: appends what is left of a line to the queue for the writer thread. */
static int enqueue(struct event_log *l, const char *text, size_t len, size_t done)
{
        struct line *ln;
        int r;

        if (!l->thread_started) {
                r = start_writer(l);
                if (r < 0)
                        return r;
        }
        ln = malloc(sizeof(*ln) + len);
        if (!ln)
                return -ENOMEM;
        *ln = (struct line){ .len = len, .done = done };
        memcpy(ln->text, text, len);
        if (l->tail)
                l->tail->next = ln;
        else
                l->head = ln;
        l->tail = ln;
        l->queued += len - done;
        pthread_cond_signal(&l->wake);
        return 0;
}

int event_log_submit(struct event_log *l, char *text, size_t len)
{
        _cleanup_free_ char *owned = text;
        ssize_t k = 0;
        int r = 0;

        owned[len++] = '\n'; /* the writer's NUL: the line is written by length */
        pthread_mutex_lock(&l->lock);
        if (l->queued + len > EVENT_LOG_QUEUE_MAX) {
                if (l->dropped++ == 0)
                        log_error(
                                "events to %s back up beyond %zu bytes: dropping lines (counted in status)",
                                event_log_path(l), EVENT_LOG_QUEUE_MAX);
                pthread_mutex_unlock(&l->lock);
                return -ENOBUFS;
        }
        /* Nothing ahead of it: written here at once unless it would wait; in order either way. */
        if (!l->head && !l->writing)
                k = write_now(l, owned, len);
        if (k >= 0 && (size_t) k < len) {
                r = enqueue(l, owned, len, (size_t) k);
                if (r < 0)
                        l->dropped++;
        } else if (k < 0) {
                r = (int) k;
        }
        pthread_mutex_unlock(&l->lock);
        return r;
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
