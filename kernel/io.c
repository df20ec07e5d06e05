/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"

static usec_t clock_usec(clockid_t clock)
{
        struct timespec ts;

        (void) clock_gettime(clock, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

usec_t io_now(void)
{
        return clock_usec(CLOCK_MONOTONIC);
}

usec_t io_now_realtime(void)
{
        return clock_usec(CLOCK_REALTIME);
}

int io_wait(int fd, short events, usec_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int timeout_ms = -1;

                if (deadline != USEC_INFINITY) {
                        usec_t now = io_now();

                        if (now >= deadline)
                                timeout_ms = 0;
                        else
                                timeout_ms = (int) MIN((deadline - now + 999) / 1000, (usec_t) 86400000);
                }

                int r = poll(&p, 1, timeout_ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (r > 0) {
                        if (p.revents & POLLNVAL)
                                return -EBADF;
                        return p.revents;
                }
                if (deadline != USEC_INFINITY && io_now() >= deadline)
                        return -ETIMEDOUT;
        }
}

int io_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        for (;;) {
                if (size + 1 >= allocated) {
                        size_t want = allocated ? allocated * 2 : 4096;
                        char *n;

                        if (want > max + 1)
                                want = max + 1;
                        if (want <= size + 1)
                                return -EFBIG;
                        n = realloc(buf, want);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        allocated = want;
                }

                ssize_t k = read(fd, buf + size, allocated - 1 - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                size += (size_t) k;
        }

        buf[size] = 0;
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

int io_read_proc_file_at(int dirfd, const char *path, size_t max, char **ret)
{
        char stack[4096];
        size_t size = MIN(max + 1, sizeof(stack));
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        ssize_t k;

        if (fd < 0)
                return negative_errno();
        k = RETRY_EINTR(read(fd, stack, size - 1));
        if (k < 0)
                return negative_errno();
        if ((size_t) k == size - 1)
                return io_read_file_at(dirfd, path, max, ret, NULL);

        char *s = malloc((size_t) k + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, stack, (size_t) k);
        s[k] = 0;
        *ret = s;
        return 0;
}

int io_mkdir_parents(const char *path)
{
        _cleanup_free_ char *p = strdup(path);
        size_t n;

        if (!p)
                return -ENOMEM;
        n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = 0;

        /* Every prefix ending before a '/' (repeated slashes skipped) except the whole path. */
        for (char *s = p + 1; *s; s++) {
                if (*s != '/' || s[-1] == '/')
                        continue;
                *s = 0;
                int r = mkdir(p, 0755) < 0 && errno != EEXIST ? negative_errno() : 0;
                *s = '/';
                if (r < 0)
                        return r;
        }
        return 0;
}

int io_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int io_write_string_file(const char *path, const char *s)
{
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(s);

        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();

        /* sysctl and cgroup files take one write(); a short one means the value was refused. */
        ssize_t k = RETRY_EINTR(write(fd, s, len));
        if (k < 0)
                return negative_errno();
        if ((size_t) k != len)
                return -EIO;
        return 0;
}

int io_read_exact(int fd, void *buf, size_t len, usec_t deadline)
{
        char *p = buf;

        while (len > 0) {
                ssize_t k = read(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                int r = io_wait(fd, POLLIN, deadline);
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        return negative_errno();
                }
                if (k == 0)
                        return -EPIPE;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int io_fd_check_type(int fd, mode_t type)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if ((st.st_mode & S_IFMT) == type)
                return 0;
        return type == S_IFSOCK ? -ENOTSOCK : -EBADFD;
}

int io_fd_nonblock(int fd, bool nonblock)
{
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return negative_errno();
        int nflags = nonblock ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
        if (nflags != flags && fcntl(fd, F_SETFL, nflags) < 0)
                return negative_errno();
        return 0;
}

int io_pipe_starts_with_elf(int fd, usec_t deadline)
{
        static const char magic[4] = { 0x7f, 'E', 'L', 'F' };
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        int p[2];
        char head[sizeof(magic)];
        size_t have = 0;

        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return negative_errno();
        out = p[0];
        in = p[1];
        /*
         * tee() duplicates what is in the pipe now; while fewer than four
         * bytes are there, wait for more and duplicate again from the start.
         */
        for (;;) {
                ssize_t k = tee(fd, in, sizeof(magic), SPLICE_F_NONBLOCK);
                if (k > 0) {
                        ssize_t n = read(out, head + have, sizeof(head) - have);
                        if (n < 0)
                                return negative_errno();
                        have += (size_t) n;
                        if (have >= sizeof(magic))
                                return memcmp(head, magic, sizeof(magic)) == 0;
                        /* Fewer than four: drop them, wait, and look at the start again. */
                        have = 0;
                } else if (k == 0) {
                        return 0; /* the writer is gone: empty, not a core */
                } else if (errno != EAGAIN && errno != EINTR) {
                        return negative_errno();
                }
                int r = io_wait(fd, POLLIN, deadline);
                if (r < 0)
                        return r;
                if (k > 0)
                        (void) usleep(1000);
        }
}
