/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The benchmark's bare kernel-socket server: the limit of socket mode.
 *
 *   cdp-bench-server --socket PATH --out DIR [--null] [--copy splice|read|interleave]
 *                    [--chunk BYTES] [--pipe-size BYTES] [--rcvbuf BYTES] [--rcvlowat BYTES]
 *                    [--poll] [--nap-us N] [--nap-below BYTES]
 *
 * One thread per connection, no identification, no routing: read the
 * request, ack KERNEL|WAIT, read the mark, copy the core to EOF into
 * DIR/<n>.core (or /dev/null with --null), close the file, and only then
 * shut the connection down, which lets the crashing task exit: its wait
 * status means "the file is complete", as for the proxy and the pipe helper.
 *
 * --copy splice (default): socket → pipe → file with splice(2), --chunk
 * bytes per call (default: the pipe size), the pipe grown to --pipe-size
 * (default 1 MiB); the same data path as the product's dump writer.
 * --copy read: read(2)/write(2) through a --chunk byte buffer (default
 * 128 KiB). --copy interleave: drains the socket into the pipe first and
 * writes the file in --chunk slices (default 64 KiB) in between. --rcvbuf and --rcvlowat set SO_RCVBUF and
 * SO_RCVLOWAT on the accepted socket; --poll makes the socket non-blocking and waits in poll(2) before each
 * read, as a reader with a deadline does. These knobs exist to measure what the reading side can do about
 * the kernel's small in-flight window; DIR/ready appears once the socket listens.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "kernel/io.h"
#include "kernel/netns.h"

#define HANDSHAKE_TIMEOUT (5 * USEC_PER_SEC)

struct options {
        const char *out;
        bool null;
        bool splice;
        bool interleave;
        size_t chunk;
        int pipe_size;
        int rcvbuf;
        int rcvlowat;
        bool poll;
        unsigned nap_us;
        size_t nap_below;
};

static struct options opts = { .splice = true, .pipe_size = 1024 * 1024, .nap_below = 64 * 1024 };
static int out_dir = -EBADF;
static unsigned long counter;

/* With --poll the socket is non-blocking: EAGAIN means "wait in poll(2), then try again". */
static bool again(int fd)
{
        return errno == EAGAIN && io_wait(fd, POLLIN, USEC_INFINITY) > 0;
}

static int copy_read(int in, int out, size_t chunk)
{
        _cleanup_free_ char *buf = malloc(chunk);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = RETRY_EINTR(read(in, buf, chunk));
                if (k < 0 && again(in))
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return 0;
                int r = io_write_all(out, buf, (size_t) k);
                if (r < 0)
                        return r;
        }
}

static int copy_splice(int in, int out, int pipe_size, size_t chunk)
{
        _cleanup_close_ int pr = -EBADF, pw = -EBADF;
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pr = p[0];
        pw = p[1];
        int got = fcntl(pw, F_SETPIPE_SZ, pipe_size);
        if (got < 0)
                got = fcntl(pw, F_GETPIPE_SZ);
        if (chunk == 0 || chunk > (size_t) got)
                chunk = (size_t) got;

        for (;;) {
                /* For a unix socket SPLICE_F_NONBLOCK means MSG_DONTWAIT: only with --poll. */
                ssize_t k = RETRY_EINTR(splice(in, NULL, pw, NULL, chunk,
                                               SPLICE_F_MOVE | (opts.poll ? SPLICE_F_NONBLOCK : 0)));
                if (k < 0 && again(in))
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return 0;
                bool small = opts.nap_us > 0 && (size_t) k < opts.nap_below;
                while (k > 0) {
                        ssize_t m = RETRY_EINTR(splice(pr, NULL, out, NULL, (size_t) k, SPLICE_F_MOVE));
                        if (m <= 0)
                                return m < 0 ? negative_errno() : -EIO;
                        k -= m;
                }
                /* Ahead of the kernel: let it fill the socket without waking us for every page. */
                if (small)
                        (void) usleep(opts.nap_us);
        }
}

/*
 * Drains the socket first and writes the file in slices of chunk bytes in
 * between, so that the kernel's small send window is emptied while the file
 * copy goes on and the pipe (not the socket) holds the backlog.
 */
static int copy_interleave(int in, int out, int pipe_size, size_t chunk)
{
        _cleanup_close_ int pr = -EBADF, pw = -EBADF;
        size_t queued = 0, room;
        bool eof = false;
        int p[2];

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pr = p[0];
        pw = p[1];
        int got = fcntl(pw, F_SETPIPE_SZ, pipe_size);
        room = (size_t) (got > 0 ? got : fcntl(pw, F_GETPIPE_SZ));
        if (chunk == 0)
                chunk = 64 * 1024;

        for (;;) {
                if (!eof && queued < room) {
                        ssize_t k = RETRY_EINTR(splice(in, NULL, pw, NULL, room - queued,
                                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK));
                        if (k == 0)
                                eof = true;
                        else if (k > 0)
                                queued += (size_t) k;
                        else if (errno != EAGAIN)
                                return negative_errno();
                        else if (queued == 0 && io_wait(in, POLLIN, USEC_INFINITY) < 0)
                                return -EIO;
                }
                if (queued > 0) {
                        ssize_t m =
                                RETRY_EINTR(splice(pr, NULL, out, NULL, MIN(queued, chunk), SPLICE_F_MOVE));
                        if (m <= 0)
                                return m < 0 ? negative_errno() : -EIO;
                        queued -= (size_t) m;
                } else if (eof) {
                        return 0;
                }
        }
}

static void handle(int conn, unsigned long n)
{
        _cleanup_close_ int out = -EBADF;
        struct coredump_req req;
        uint32_t mark;
        char name[64];
        int r;

        if (opts.rcvbuf > 0)
                (void) setsockopt(conn, SOL_SOCKET, SO_RCVBUF, &opts.rcvbuf, sizeof(opts.rcvbuf));
        if (opts.rcvlowat > 0)
                (void) setsockopt(conn, SOL_SOCKET, SO_RCVLOWAT, &opts.rcvlowat, sizeof(opts.rcvlowat));

        r = coredump_req_recv(conn, &req, io_now() + HANDSHAKE_TIMEOUT);
        if (r >= 0)
                r = coredump_ack_send(conn, &req, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r >= 0)
                r = coredump_mark_recv(conn, &mark, io_now() + HANDSHAKE_TIMEOUT);
        if (r < 0) {
                fprintf(stderr, "cdp-bench-server: connection %lu: handshake: %s\n", n, strerror(-r));
                return;
        }

        if (opts.poll && io_fd_nonblock(conn, true) < 0)
                return;
        if (opts.null) {
                out = open("/dev/null", O_WRONLY | O_CLOEXEC);
        } else {
                (void) snprintf(name, sizeof(name), "%lu.core", n);
                out = openat(out_dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        }
        if (out < 0) {
                fprintf(stderr, "cdp-bench-server: connection %lu: open: %m\n", n);
                return;
        }
        if (opts.interleave)
                r = copy_interleave(conn, out, opts.pipe_size, opts.chunk);
        else if (opts.splice)
                r = copy_splice(conn, out, opts.pipe_size, opts.chunk);
        else
                r = copy_read(conn, out, opts.chunk ? opts.chunk : 128 * 1024);
        if (r < 0)
                fprintf(stderr, "cdp-bench-server: connection %lu: copy: %s\n", n, strerror(-r));
}

static void *connection_main(void *arg)
{
        int conn = (int) (intptr_t) arg;

        handle(conn, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
        /* The file is closed: now the task may go (WAIT ends only with a shutdown). */
        (void) shutdown(conn, SHUT_RDWR);
        safe_close(conn);
        return NULL;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "out", required_argument, NULL, 'o' },
                { "null", no_argument, NULL, 'N' },
                { "copy", required_argument, NULL, 'c' },
                { "chunk", required_argument, NULL, 'k' },
                { "pipe-size", required_argument, NULL, 'p' },
                { "rcvbuf", required_argument, NULL, 'r' },
                { "rcvlowat", required_argument, NULL, 'L' },
                { "poll", no_argument, NULL, 'P' },
                { "nap-us", required_argument, NULL, 'z' },
                { "nap-below", required_argument, NULL, 'b' },
                {},
        };
        const char *socket_path = NULL;
        _cleanup_close_ int fd = -EBADF, ready = -EBADF;
        struct sockaddr_un sa;
        socklen_t salen;
        pthread_attr_t attr;
        int opt, r;

        /* The kernel has no recursion guard: a crash of ours must not connect to ourselves. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                perror("prctl");
                return 1;
        }
        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case 's':
                        socket_path = optarg;
                        break;
                case 'o':
                        opts.out = optarg;
                        break;
                case 'N':
                        opts.null = true;
                        break;
                case 'c':
                        opts.splice = strcmp(optarg, "read") != 0;
                        opts.interleave = strcmp(optarg, "interleave") == 0;
                        break;
                case 'k':
                        opts.chunk = (size_t) strtoull(optarg, NULL, 0);
                        break;
                case 'p':
                        opts.pipe_size = (int) strtol(optarg, NULL, 0);
                        break;
                case 'r':
                        opts.rcvbuf = (int) strtol(optarg, NULL, 0);
                        break;
                case 'L':
                        opts.rcvlowat = (int) strtol(optarg, NULL, 0);
                        break;
                case 'P':
                        opts.poll = true;
                        break;
                case 'z':
                        opts.nap_us = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'b':
                        opts.nap_below = (size_t) strtoull(optarg, NULL, 0);
                        break;
                default:
                        return 2;
                }
        }
        if (!socket_path || !opts.out || optind < argc) {
                fprintf(stderr, "usage: cdp-bench-server --socket PATH --out DIR [--null] [--copy "
                                "splice|read|interleave] "
                                "[--chunk BYTES] [--pipe-size BYTES] [--rcvbuf BYTES] [--rcvlowat BYTES] "
                                "[--poll]\n");
                return 2;
        }

        out_dir = open(opts.out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out_dir < 0) {
                perror(opts.out);
                return 1;
        }
        r = netns_sockaddr_un(socket_path, &sa, &salen);
        if (r < 0) {
                fprintf(stderr, "bad socket path %s\n", socket_path);
                return 1;
        }
        (void) unlink(socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, salen) < 0 || listen(fd, 4096) < 0) {
                perror("listen");
                return 1;
        }
        (void) signal(SIGPIPE, SIG_IGN);
        ready = openat(out_dir, "ready", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        for (;;) {
                int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                pthread_t t;

                if (conn < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        perror("accept4");
                        return 1;
                }
                if (pthread_create(&t, &attr, connection_main, (void *) (intptr_t) conn) != 0) {
                        (void) shutdown(conn, SHUT_RDWR);
                        safe_close(conn);
                }
        }
}
