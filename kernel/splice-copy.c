/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/splice-copy.h"

#define PIPE_SIZE_WANT (1024 * 1024)

static size_t pipe_enlarge(int fd)
{
        /* Unprivileged writers are bounded by fs.pipe-max-size and per-user pipe pages: settle for less. */
        for (int size = PIPE_SIZE_WANT; size >= 64 * 1024; size /= 4) {
                int r = fcntl(fd, F_SETPIPE_SZ, size);

                if (r > 0)
                        return (size_t) r;
        }
        int r = fcntl(fd, F_GETPIPE_SZ);
        return r > 0 ? (size_t) r : 64 * 1024;
}

/* Waits for input until the deadline or the stall limit, whichever comes first. */
static int wait_input(const struct splice_copy *c, usec_t last_progress, enum splice_stop *ret_stop)
{
        usec_t stall_at = c->stall_timeout > 0 ? last_progress + c->stall_timeout : USEC_INFINITY;
        int r = io_wait(c->src, POLLIN, MIN(c->deadline, stall_at));

        if (r == -ETIMEDOUT) {
                *ret_stop = stall_at < c->deadline ? SPLICE_STOP_STALLED : SPLICE_STOP_DEADLINE;
                return 1;
        }
        if (r < 0) {
                *ret_stop = SPLICE_STOP_READ;
                return 1;
        }
        return 0;
}

/* Drains what the pipe holds into the file. */
static int drain_pipe(int pipe_r, int dst, size_t n, uint64_t *copied, uint64_t *progress,
                      enum splice_stop *ret_stop)
{
        while (n > 0) {
                ssize_t m = splice(pipe_r, NULL, dst, NULL, n, SPLICE_F_MOVE);

                if (m < 0) {
                        if (errno == EINTR)
                                continue;
                        /* The disk (or a filesystem quota) is full: keep what made it. */
                        if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) {
                                *ret_stop = SPLICE_STOP_FILE_FULL;
                                return 1;
                        }
                        return negative_errno();
                }
                if (m == 0)
                        return -EIO;
                n -= (size_t) m;
                *copied += (uint64_t) m;
                if (progress)
                        __atomic_store_n(progress, *copied, __ATOMIC_RELAXED);
        }
        return 0;
}

/*
 * Each thread keeps its pipe for the next copy: the writers of the daemon and
 * of the collector stay, and a pipe (grown to 1 MiB) costs three syscalls and
 * its page array for every dump otherwise. Kept only when a copy ended with
 * it drained, so no byte of one dump can reach the next; closed with its thread.
 */
struct thread_pipe {
        int r, w;
        size_t size;
};

static pthread_key_t pipe_key;
static pthread_once_t pipe_key_once = PTHREAD_ONCE_INIT;

static void thread_pipe_free(void *p)
{
        struct thread_pipe *tp = p;

        safe_close(tp->r);
        safe_close(tp->w);
        free(tp);
}

static void pipe_key_init(void)
{
        (void) pthread_key_create(&pipe_key, thread_pipe_free);
}

/* This thread's pipe, taken out of its keeping (given back by pipe_keep()). */
static int pipe_take(struct thread_pipe *ret)
{
        struct thread_pipe *tp;
        int p[2];

        (void) pthread_once(&pipe_key_once, pipe_key_init);
        tp = pthread_getspecific(pipe_key);
        if (tp && tp->r >= 0) {
                *ret = *tp;
                tp->r = tp->w = -EBADF;
                return 0;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        *ret = (struct thread_pipe){ .r = p[0], .w = p[1], .size = pipe_enlarge(p[1]) };
        return 0;
}

/* A drained pipe back into this thread's keeping; closed if it cannot be kept. */
static void pipe_keep(struct thread_pipe *p)
{
        struct thread_pipe *tp = pthread_getspecific(pipe_key);

        if (!tp) {
                tp = malloc(sizeof(*tp));
                if (!tp || pthread_setspecific(pipe_key, tp) != 0) {
                        free(tp);
                        safe_close(p->r);
                        safe_close(p->w);
                        return;
                }
        } else {
                safe_close(tp->r);
                safe_close(tp->w);
        }
        *tp = *p;
}

int splice_copy(const struct splice_copy *c, uint64_t *ret_copied, enum splice_stop *ret_stop)
{
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        uint64_t copied = 0, granted = 0;
        usec_t last_progress = io_now();
        struct thread_pipe tp;
        size_t pipe_size;
        int r;

        r = pipe_take(&tp);
        if (r < 0)
                return r;
        pipe_r = tp.r;
        pipe_w = tp.w;
        pipe_size = tp.size;

        for (;;) {
                enum splice_stop stop = SPLICE_STOP_EOF;
                ssize_t k;

                if (c->deadline != USEC_INFINITY && io_now() >= c->deadline) {
                        stop = SPLICE_STOP_DEADLINE;
                        goto done;
                }
                if (granted == 0) {
                        granted = c->budget ? c->budget(c->userdata, copied) : UINT64_MAX;
                        if (granted == 0) {
                                stop = SPLICE_STOP_BUDGET;
                                goto done;
                        }
                }

                /* SPLICE_F_NONBLOCK: the socket may be blocking, and only poll() knows the deadline. */
                k = splice(c->src, NULL, pipe_w, NULL, (size_t) MIN(granted, (uint64_t) pipe_size),
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (k == 0)
                        goto done;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                if (wait_input(c, last_progress, &stop) > 0)
                                        goto done;
                                continue;
                        }
                        /* Not a stream we can splice from at all: the caller's mistake, nothing to keep. */
                        if ((errno == EBADF || errno == EINVAL) && copied == 0)
                                return negative_errno();
                        stop = SPLICE_STOP_READ;
                        goto done;
                }
                granted -= (uint64_t) k;
                last_progress = io_now();
                r = drain_pipe(pipe_r, c->dst, (size_t) k, &copied, c->progress, &stop);
                if (r < 0)
                        return r;
                if (r > 0)
                        goto done;
                continue;
        done:
                /* Everything spliced in was drained, except when the file filled up. */
                if (stop != SPLICE_STOP_FILE_FULL) {
                        pipe_keep(&(struct thread_pipe){
                                .r = TAKE_FD(pipe_r), .w = TAKE_FD(pipe_w), .size = pipe_size });
                }
                *ret_copied = copied;
                *ret_stop = stop;
                return 0;
        }
}
