/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

int splice_copy(const struct splice_copy *c, uint64_t *ret_copied, enum splice_stop *ret_stop)
{
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        uint64_t copied = 0, granted = 0;
        usec_t last_progress = io_now();
        size_t pipe_size;
        int p[2], r;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pipe_r = p[0];
        pipe_w = p[1];
        pipe_size = pipe_enlarge(pipe_w);

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
                *ret_copied = copied;
                *ret_stop = stop;
                return 0;
        }
}
