/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A process that pretends to be coredump-proxy towards a collector, for the
 * tests of what a collector must refuse:
 *
 *   cdp-fake-proxy forge ADDRESS KIND [ID [NETNS_PID]]
 *       message 1 (a forged request for ID, deadline_ms huge), then, if
 *       accepted, message 3 with a stream socket of our own as "the dump",
 *       into which we write an ELF-looking core. KIND: socketpair (one end
 *       of a socketpair), connected (the client end of a connection to a
 *       listener of ours), accepted (the server end of it), unconnected (a
 *       stream socket never connected). The fake dump is made in our
 *       network namespace; with NETNS_PID we connect to ADDRESS in that
 *       process's network namespace (so the fake dump is not from there).
 *       Prints answer=<message 2> and result=<message 4, or eof>.
 *   cdp-fake-proxy request ADDRESS ID
 *       message 1 only, with that id; prints answer=<message 2>.
 *   cdp-fake-proxy flood ADDRESS N idle|request HOLD_MS
 *       N connections, each silent (idle) or with a message 1 whose
 *       deadline_ms is huge and then nothing (request); prints
 *       connected=N and answered=M, holds them for HOLD_MS, then prints
 *       closed=K: how many the collector has hung up on by then.
 */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "proxy/protocol/collector-msg.h"

#define WAIT (10 * USEC_PER_SEC)

static int fail(const char *what, int r)
{
        fprintf(stderr, "cdp-fake-proxy: %s: %s\n", what, strerror(-r));
        printf("error=%s\n", what);
        return 1;
}

static int connect_to(const char *address, int ns_fd)
{
        struct sockaddr_un sa;
        socklen_t len;
        int fd, r;

        r = netns_sockaddr_un(address, &sa, &len);
        if (r < 0)
                return r;
        if (ns_fd >= 0)
                return netns_connect_unix(ns_fd, SOCK_SEQPACKET, &sa, len, io_now() + WAIT);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return negative_errno();
        if (connect(fd, (struct sockaddr *) &sa, len) < 0) {
                r = negative_errno();
                safe_close(fd);
                return r;
        }
        return fd;
}

static int send_request(int fd, const char *id)
{
        char msg[512];
        int n = snprintf(msg, sizeof(msg),
                         "{\"version\":1,\"id\":\"%s\",\"pid\":1,\"uid\":0,\"gid\":0,\"comm\":\"forged\","
                         "\"exe\":\"/forged\",\"signal\":11,\"time\":\"2026-01-01T00:00:00Z\","
                         "\"container\":{\"runtime\":\"docker\",\"id\":\"forged\"},\"max_bytes\":null,"
                         "\"deadline_ms\":9007199254740991}",
                         id);
        return fdpass_send(fd, msg, (size_t) n, NULL, 0);
}

/* One message, printed as KEY=<text>, or KEY=eof. */
static int print_reply(int fd, const char *key, char *buf, size_t size)
{
        int r = io_wait(fd, POLLIN, io_now() + WAIT);
        if (r < 0)
                return r;
        ssize_t k = fdpass_recv(fd, buf, size - 1, NULL, 0, NULL, MSG_DONTWAIT);
        if (k == -ECONNRESET)
                k = 0;
        if (k < 0)
                return (int) k;
        buf[k] = 0;
        printf("%s=%s\n", key, k == 0 ? "eof" : buf);
        fflush(stdout);
        return (int) k;
}

/* A stream socket of ours to pass as the dump (*dump), and the end we write the fake core into. */
static int make_fake_dump(const char *kind, int *dump, int *writer)
{
        int sp[2];

        if (strcmp(kind, "socketpair") == 0) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                        return negative_errno();
                *dump = sp[0];
                *writer = sp[1];
                return 0;
        }
        if (strcmp(kind, "unconnected") == 0) {
                *dump = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                *writer = -EBADF;
                return *dump < 0 ? negative_errno() : 0;
        }

        char name[64];
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_close_ int c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int a, r;

        (void) snprintf(name, sizeof(name), "@cdp-fake-dump-%d", getpid());
        r = netns_sockaddr_un(name, &sa, &len);
        if (r < 0)
                return r;
        if (l < 0 || c < 0 || bind(l, (struct sockaddr *) &sa, len) < 0 || listen(l, 1) < 0 ||
            connect(c, (struct sockaddr *) &sa, len) < 0)
                return negative_errno();
        a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (a < 0)
                return negative_errno();
        if (strcmp(kind, "connected") == 0) {
                *dump = TAKE_FD(c);
                *writer = a;
        } else {
                *dump = a;
                *writer = TAKE_FD(c);
        }
        return 0;
}

static int do_forge(const char *address, const char *kind, const char *id, int ns_fd)
{
        _cleanup_(collector_answer_done) struct collector_answer answer = {};
        _cleanup_close_ int conn = -EBADF, dump = -EBADF, writer = -EBADF;
        static char buf[65536];
        char msg[256];
        int r;

        r = make_fake_dump(kind, &dump, &writer);
        if (r < 0)
                return fail("fake dump", r);
        conn = connect_to(address, ns_fd);
        if (conn < 0)
                return fail("connect", conn);
        r = send_request(conn, id);
        if (r == -EPIPE || r == -ECONNRESET) {
                /* Closed before our request arrived: the same answer as an EOF. */
                printf("answer=eof\n");
                return 0;
        }
        if (r < 0)
                return fail("message 1", r);
        r = print_reply(conn, "answer", buf, sizeof(buf));
        if (r <= 0 || collector_answer_parse(buf, (size_t) r, &answer) < 0 || !answer.accept)
                return 0;

        int n = snprintf(msg, sizeof(msg), "{\"dump\":\"%s\"}", id);
        r = fdpass_send(conn, msg, (size_t) n, &dump, 1);
        if (r < 0)
                return fail("message 3", r);
        dump = safe_close(dump);
        if (writer >= 0) {
                /* What a collector that believed us would keep as the core. */
                static const char core[] = "\177ELF forged core";
                /* The collector may have refused and closed its copy already: no SIGPIPE. */
                (void) send(writer, core, sizeof(core) - 1, MSG_NOSIGNAL);
                writer = safe_close(writer);
        }
        r = print_reply(conn, "result", buf, sizeof(buf));
        return r < 0 ? fail("message 4", r) : 0;
}

static int do_request(const char *address, const char *id)
{
        _cleanup_close_ int conn = connect_to(address, -EBADF);
        static char buf[65536];
        int r;

        if (conn < 0)
                return fail("connect", conn);
        r = send_request(conn, id);
        if (r < 0)
                return fail("message 1", r);
        r = print_reply(conn, "answer", buf, sizeof(buf));
        return r < 0 ? fail("message 2", r) : 0;
}

static int do_flood(const char *address, unsigned n, const char *mode, unsigned hold_ms)
{
        bool request = strcmp(mode, "request") == 0;
        unsigned connected = 0, answered = 0, closed = 0;
        static char buf[65536];
        _cleanup_free_ int *fds = calloc(n, sizeof(int));

        if (!fds)
                return fail("calloc", -ENOMEM);
        for (unsigned i = 0; i < n; i++) {
                char id[32];
                int fd = connect_to(address, -EBADF);
                if (fd < 0)
                        continue;
                fds[connected++] = fd;
                if (!request)
                        continue;
                (void) snprintf(id, sizeof(id), "flood-%u", i);
                if (send_request(fd, id) < 0 || io_wait(fd, POLLIN, io_now() + WAIT) < 0)
                        continue;
                if (fdpass_recv(fd, buf, sizeof(buf), NULL, 0, NULL, MSG_DONTWAIT) > 0)
                        answered++;
        }
        printf("connected=%u\nanswered=%u\n", connected, answered);
        fflush(stdout);
        (void) usleep(hold_ms * 1000U);

        /* How many the collector has hung up on by now. */
        for (unsigned i = 0; i < connected; i++) {
                ssize_t k = recv(fds[i], buf, sizeof(buf), MSG_DONTWAIT);
                if (k == 0 || (k < 0 && errno == ECONNRESET))
                        closed++;
                safe_close(fds[i]);
        }
        printf("closed=%u\n", closed);
        return 0;
}

int main(int argc, char **argv)
{
        (void) signal(SIGPIPE, SIG_IGN);
        if (argc >= 4 && argc <= 6 && strcmp(argv[1], "forge") == 0) {
                _cleanup_close_ int ns_fd = -EBADF;
                if (argc == 6) {
                        ns_fd = (int) syscall(SYS_pidfd_open, atoi(argv[5]), 0);
                        if (ns_fd < 0)
                                return fail("pidfd_open", negative_errno());
                }
                return do_forge(argv[2], argv[3], argc >= 5 ? argv[4] : "20260101T000000Z-forged", ns_fd);
        }
        if (argc == 4 && strcmp(argv[1], "request") == 0)
                return do_request(argv[2], argv[3]);
        if (argc == 6 && strcmp(argv[1], "flood") == 0)
                return do_flood(argv[2], (unsigned) atoi(argv[3]), argv[4], (unsigned) atoi(argv[5]));
        fprintf(stderr, "usage: see the comment at the top of cdp-fake-proxy.c\n");
        return 2;
}
