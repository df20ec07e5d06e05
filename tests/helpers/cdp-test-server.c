/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A minimal coredump socket server built on kernel/, for the real-kernel
 * tests of that layer (the daemon has its own tests).
 *
 *   cdp-test-server --socket PATH --out DIR [--mode request|plain]
 *                   [--action kernel|reject|userspace] [--no-wait]
 *                   [--ack-size N] [--ack-mask HEX] [--count N]
 *
 * Handles connections one at a time. For connection n it writes DIR/n.core
 * (the bytes after the handshake) and then DIR/n.info (key=value lines,
 * renamed into place when complete). --ack-size/--ack-mask send a raw,
 * unvalidated ack to exercise the kernel's marks. DIR/ready appears once the
 * socket listens.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
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
#include "kernel/pidfd.h"

struct options {
        const char *socket_path;
        const char *out;
        bool request;
        uint64_t action;
        bool wait;
        long ack_size;
        bool has_ack_mask;
        uint64_t ack_mask;
        unsigned count;
};

static int read_signal_from_stat(uint32_t pid, int pidfd)
{
        _cleanup_close_ int dirfd = pidfd_open_proc_dir(pidfd, pid);
        _cleanup_free_ char *stat = NULL;
        int sig = -1;

        if (dirfd < 0 || io_read_file_at(dirfd, "stat", 4096, &stat, NULL) < 0)
                return -1;
        /* Field 52 (exit_code) holds the signal while the crashing task is held. */
        char *p = strrchr(stat, ')');
        for (int field = 2; p && field < 52; field++)
                p = strchr(p + 1, ' ');
        if (p)
                sig = atoi(p + 1);
        if (pidfd_is_alive(pidfd) != 1)
                return -1;
        return sig;
}

static int handle(int conn, unsigned n, const struct options *o)
{
        char path[4096], tmp[4096];
        _cleanup_fclose_ FILE *info = NULL;
        _cleanup_close_ int pidfd = -EBADF, core = -EBADF;
        struct cdp_pidfd_info pi = {};
        int r;

        (void) snprintf(tmp, sizeof(tmp), "%s/%u.info.tmp", o->out, n);
        info = fopen(tmp, "we");
        if (!info)
                return negative_errno();

        pidfd = pidfd_from_peer(conn);
        if (pidfd < 0) {
                fprintf(info, "error=peerpidfd:%d\n", pidfd);
                goto done;
        }
        r = pidfd_get_info(pidfd, PIDFD_INFO_CGROUPID | PIDFD_INFO_COREDUMP | PIDFD_INFO_COREDUMP_SIGNAL,
                           &pi);
        if (r < 0) {
                fprintf(info, "error=pidfd_info:%d\n", r);
                goto done;
        }
        fprintf(info, "tgid=%u\ncgroupid=%llu\ninfo_mask=0x%llx\ncoredump_mask=0x%x\n", pi.tgid,
                (unsigned long long) pi.cgroupid, (unsigned long long) pi.mask, pi.coredump_mask);
        if (!(pi.coredump_mask & PIDFD_COREDUMPED)) {
                fprintf(info, "kind=not-a-coredump\n");
                goto done;
        }
        fprintf(info, "kind=coredump\n");
        fprintf(info, "signal=%d\n", read_signal_from_stat(pi.tgid, pidfd));

        if (o->request) {
                struct coredump_req req;
                uint32_t mark = UINT32_MAX;

                r = coredump_req_recv(conn, &req, io_now() + 5 * USEC_PER_SEC);
                if (r < 0) {
                        fprintf(info, "error=req:%d\n", r);
                        goto done;
                }
                fprintf(info, "req_size=%u\nreq_size_ack=%u\nreq_mask=0x%llx\nreq_valid=%d\n", req.size,
                        req.size_ack, (unsigned long long) req.mask, coredump_req_validate(&req));

                uint64_t mask = o->action | (o->wait ? COREDUMP_WAIT : 0);
                if (o->ack_size >= 0 || o->has_ack_mask) {
                        /* Deliberately unvalidated: the kernel must answer with the right mark. */
                        size_t size = o->ack_size >= 0 ? (size_t) o->ack_size : sizeof(struct coredump_ack);
                        _cleanup_free_ char *raw = calloc(1, MAX(size, sizeof(struct coredump_ack)));
                        struct coredump_ack ack = {
                                .size = (uint32_t) size,
                                .mask = o->has_ack_mask ? o->ack_mask : mask,
                        };
                        if (!raw)
                                return -ENOMEM;
                        memcpy(raw, &ack, sizeof(ack));
                        if (send(conn, raw, size, MSG_NOSIGNAL) != (ssize_t) size) {
                                fprintf(info, "error=ack:%d\n", negative_errno());
                                goto done;
                        }
                } else {
                        r = coredump_ack_send(conn, &req, mask);
                        if (r < 0) {
                                fprintf(info, "error=ack:%d\n", r);
                                goto done;
                        }
                }
                r = coredump_mark_recv(conn, &mark, io_now() + 5 * USEC_PER_SEC);
                fprintf(info, "mark=%u\nmark_name=%s\nmark_errno=%d\n", mark, coredump_mark_to_string(mark),
                        r);
                if (r < 0 && mark == UINT32_MAX)
                        goto done;
        }

        (void) snprintf(path, sizeof(path), "%s/%u.core", o->out, n);
        core = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (core < 0)
                return negative_errno();

        uint64_t bytes = 0;
        char buf[65536];
        for (;;) {
                ssize_t k = RETRY_EINTR(read(conn, buf, sizeof(buf)));
                if (k < 0) {
                        fprintf(info, "error=read:%d\n", negative_errno());
                        break;
                }
                if (k == 0)
                        break;
                r = io_write_all(core, buf, (size_t) k);
                if (r < 0)
                        return r;
                bytes += (uint64_t) k;
        }
        fprintf(info, "bytes=%llu\n", (unsigned long long) bytes);

done:
        if (fflush(info) != 0)
                return negative_errno();
        (void) snprintf(path, sizeof(path), "%s/%u.info", o->out, n);
        if (rename(tmp, path) < 0)
                return negative_errno();
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "out", required_argument, NULL, 'o' },
                { "mode", required_argument, NULL, 'm' },
                { "action", required_argument, NULL, 'a' },
                { "no-wait", no_argument, NULL, 'W' },
                { "ack-size", required_argument, NULL, 'S' },
                { "ack-mask", required_argument, NULL, 'M' },
                { "count", required_argument, NULL, 'c' },
                {},
        };
        struct options o = {
                .request = true, .action = COREDUMP_KERNEL, .wait = true, .ack_size = -1, .count = 1
        };
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;
        socklen_t salen;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 's':
                        o.socket_path = optarg;
                        break;
                case 'o':
                        o.out = optarg;
                        break;
                case 'm':
                        o.request = strcmp(optarg, "plain") != 0;
                        break;
                case 'a':
                        o.action = strcmp(optarg, "reject") == 0      ? COREDUMP_REJECT
                                   : strcmp(optarg, "userspace") == 0 ? COREDUMP_USERSPACE
                                                                      : COREDUMP_KERNEL;
                        break;
                case 'W':
                        o.wait = false;
                        break;
                case 'S':
                        o.ack_size = strtol(optarg, NULL, 0);
                        break;
                case 'M':
                        o.ack_mask = strtoull(optarg, NULL, 0);
                        o.has_ack_mask = true;
                        break;
                case 'c':
                        o.count = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                default:
                        return 2;
                }
        }
        if (!o.socket_path || !o.out) {
                fprintf(stderr, "usage: cdp-test-server --socket PATH --out DIR [...]\n");
                return 2;
        }

        /* The kernel has no recursion guard: a crash of this server must not dump into itself. */
        (void) prctl(PR_SET_DUMPABLE, 0);

        r = netns_sockaddr_un(o.socket_path, &sa, &salen);
        if (r < 0) {
                fprintf(stderr, "bad socket path: %s\n", strerror(-r));
                return 1;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void) unlink(o.socket_path);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, salen) < 0 || listen(fd, 128) < 0) {
                perror("socket");
                return 1;
        }

        char ready[4096];
        (void) snprintf(ready, sizeof(ready), "%s/ready", o.out);
        _cleanup_close_ int rfd = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        for (unsigned n = 0; n < o.count; n++) {
                _cleanup_close_ int conn = RETRY_EINTR(accept4(fd, NULL, NULL, SOCK_CLOEXEC));
                if (conn < 0) {
                        perror("accept4");
                        return 1;
                }
                r = handle(conn, n, &o);
                if (r < 0) {
                        fprintf(stderr, "connection %u: %s\n", n, strerror(-r));
                        return 1;
                }
        }
        (void) unlink(o.socket_path);
        return 0;
}
