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
#include "proxy/dump/cmdline.h"

struct reader {
        bool started;
        bool busy;      /* a request is in this reader's hands */
        bool done;      /* its answer is ready */
        bool abandoned; /* the asker gave up: the reader cleans up after itself */
        int dirfd;
        char *text;
        int error;
        pthread_t thread;
};

static struct reader readers[CMDLINE_READERS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t asked = PTHREAD_COND_INITIALIZER;    /* a reader has a request */
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER; /* a reader has an answer */

static int read_text(int dirfd, char **ret)
{
        _cleanup_close_ int fd = openat(dirfd, "cmdline", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (fd < 0)
                return negative_errno();
        buf = malloc(CMDLINE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        /* Bounded: the arguments of a crashing process are its own to make huge. */
        while (len < CMDLINE_MAX) {
                size_t want = CMDLINE_MAX - len;
                ssize_t k = read(fd, buf + len, want);
                if (k <= 0)
                        break;
                len += (size_t) k;
                /* The kernel fills what was asked for while arguments remain: short means done. */
                if ((size_t) k < want)
                        break;
        }
        while (len > 0 && buf[len - 1] == 0)
                len--;
        for (size_t i = 0; i < len; i++)
                if (buf[i] == 0)
                        buf[i] = ' ';
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

static void *reader_main(void *arg)
{
        struct reader *r = arg;

        pthread_mutex_lock(&lock);
        for (;;) {
                while (!r->busy || r->done)
                        pthread_cond_wait(&asked, &lock);
                int dirfd = r->dirfd;
                pthread_mutex_unlock(&lock);

                char *text = NULL;
                int error = read_text(dirfd, &text);
                safe_close(dirfd);

                pthread_mutex_lock(&lock);
                if (r->abandoned) {
                        free(text);
                        r->busy = r->abandoned = false;
                } else {
                        r->text = text;
                        r->error = error;
                        r->done = true;
                        pthread_cond_broadcast(&answered);
                }
        }
        return NULL;
}

static int start_reader(struct reader *r)
{
        pthread_attr_t attr;
        sigset_t all, old;
        int e;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 64 * 1024);
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        e = pthread_create(&r->thread, &attr, reader_main, r);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (e != 0)
                return -e;
        r->started = true;
        return 0;
}

/* Called with the lock held: a reader free to take a request, started if need be. */
static struct reader *free_reader(int *ret_error)
{
        for (size_t i = 0; i < CMDLINE_READERS; i++) {
                struct reader *r = &readers[i];

                if (r->busy)
                        continue;
                if (!r->started) {
                        *ret_error = start_reader(r);
                        if (*ret_error < 0)
                                return NULL;
                }
                return r;
        }
        *ret_error = -EBUSY;
        return NULL;
}

static void deadline_to_timespec(usec_t deadline, struct timespec *ts)
{
        usec_t now = io_now(), wait = deadline > now ? deadline - now : 0;

        clock_gettime(CLOCK_REALTIME, ts);
        ts->tv_nsec += (long) (wait % USEC_PER_SEC) * 1000;
        ts->tv_sec += (time_t) (wait / USEC_PER_SEC) + ts->tv_nsec / 1000000000L;
        ts->tv_nsec %= 1000000000L;
}

int cmdline_read(int dirfd, usec_t timeout, char **ret)
{
        usec_t deadline = io_now() + timeout;
        struct reader *r;
        struct timespec ts;
        int error = 0, fd;

        fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return negative_errno();

        pthread_mutex_lock(&lock);
        r = free_reader(&error);
        if (!r) {
                pthread_mutex_unlock(&lock);
                safe_close(fd);
                return error;
        }
        *r = (struct reader){ .started = true, .busy = true, .dirfd = fd, .thread = r->thread };
        pthread_cond_broadcast(&asked);

        deadline_to_timespec(deadline, &ts);
        while (!r->done && io_now() < deadline)
                if (pthread_cond_timedwait(&answered, &lock, &ts) == ETIMEDOUT)
                        break;
        if (!r->done) {
                /* It hangs: whoever it waits for, it is not us any more. */
                r->abandoned = true;
                pthread_mutex_unlock(&lock);
                return -ETIMEDOUT;
        }
        error = r->error;
        *ret = TAKE_PTR(r->text);
        r->busy = r->done = false;
        pthread_mutex_unlock(&lock);
        return error < 0 ? error : 0;
}
