/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Socket activation and readiness, without a service manager: LISTEN_PID and
 * LISTEN_FDS are read as systemd sets them (only our own pid counts, one
 * socket, the variables gone afterwards), and NOTIFY_SOCKET takes a path or
 * an abstract address and nothing else.
 */

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/activation.h"
#include "kernel/cleanup.h"
#include "kernel/notify.h"
#include "tests/tap.h"

static void set_env(const char *pid, const char *fds)
{
        char self[32];

        if (pid && strcmp(pid, "self") == 0) {
                (void) snprintf(self, sizeof(self), "%d", (int) getpid());
                pid = self;
        }
        if (pid)
                setenv("LISTEN_PID", pid, 1);
        else
                unsetenv("LISTEN_PID");
        if (fds)
                setenv("LISTEN_FDS", fds, 1);
        else
                unsetenv("LISTEN_FDS");
        setenv("LISTEN_FDNAMES", "kernel", 1);
}

static void test_take(void)
{
        int fd = -EBADF, sock, saved;

        /* fd 3 is a socket of ours for these cases; whatever the harness had there is put back. */
        saved = fcntl(ACTIVATION_FD_START, F_DUPFD_CLOEXEC, 10);
        close(ACTIVATION_FD_START);
        sock = socket(AF_UNIX, SOCK_STREAM, 0);
        if (sock != ACTIVATION_FD_START) {
                ok(dup2(sock, ACTIVATION_FD_START) == ACTIVATION_FD_START, "fd 3 set up");
                close(sock);
        }

        set_env(NULL, NULL);
        is_int(activation_take(&fd), 0, "nothing passed: 0");
        set_env("1", "1");
        is_int(activation_take(&fd), 0, "passed to another pid: not ours");
        ok(!getenv("LISTEN_PID") && !getenv("LISTEN_FDS") && !getenv("LISTEN_FDNAMES"),
           "the variables are removed even so");
        set_env("self", "0");
        is_int(activation_take(&fd), 0, "LISTEN_FDS=0: nothing");
        set_env("self", "2");
        is_int(activation_take(&fd), -E2BIG, "two sockets: -E2BIG");
        set_env("self", "x");
        is_int(activation_take(&fd), -EINVAL, "LISTEN_FDS that does not parse: -EINVAL");
        set_env("-1", "1");
        is_int(activation_take(&fd), -EINVAL, "a negative LISTEN_PID: -EINVAL");
        set_env("self", "1");
        is_int(activation_take(&fd), 1, "one socket for us: 1");
        is_int(fd, ACTIVATION_FD_START, "... fd 3");
        ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "... made close-on-exec");
        ok(!getenv("LISTEN_PID"), "... and the variables are gone");
        close(ACTIVATION_FD_START);
        fd = -EBADF;
        set_env("self", "1");
        is_int(activation_take(&fd), -EBADF, "fd 3 not open: -EBADF");
        if (saved >= 0) {
                (void) dup2(saved, ACTIVATION_FD_START);
                close(saved);
        }
}

static void test_check(void)
{
        char dir[] = "/tmp/unit-activation.XXXXXX", path[64], other[64];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_free_ char *bound = NULL;

        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        (void) snprintf(path, sizeof(path), "%s/kernel.sock", dir);
        (void) snprintf(other, sizeof(other), "%s/other.sock", dir);

        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ok(bind(s, (struct sockaddr *) &sa, sizeof(sa)) == 0, "bound");
        is_int(activation_check(s, path, &bound), -ENOTCONN, "bound, not listening: -ENOTCONN");
        ok(listen(s, 16) == 0, "listening");
        is_int(activation_check(s, other, &bound), -EADDRNOTAVAIL, "another path: -EADDRNOTAVAIL");
        is_str(bound, path, "... and the path it is bound to");
        is_int(activation_check(s, path, NULL), 0, "the right socket: 0");
        ok(fcntl(s, F_GETFL) & O_NONBLOCK, "... made non-blocking");

        _cleanup_close_ int dgram = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        is_int(activation_check(dgram, path, NULL), -EPROTOTYPE, "a datagram socket: -EPROTOTYPE");
        _cleanup_close_ int inet = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        is_int(activation_check(inet, path, NULL), -EAFNOSUPPORT, "AF_INET: -EAFNOSUPPORT");
        _cleanup_close_ int file = open("/dev/null", O_RDONLY | O_CLOEXEC);
        is_int(activation_check(file, path, NULL), -ENOTSOCK, "not a socket: -ENOTSOCK");
        _cleanup_close_ int abstract = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un an = { .sun_family = AF_UNIX };
        (void) snprintf(an.sun_path + 1, sizeof(an.sun_path) - 1, "unit-activation-%d", (int) getpid());
        ok(bind(abstract, (struct sockaddr *) &an,
                (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(an.sun_path + 1))) == 0 &&
                   listen(abstract, 1) == 0,
           "an abstract listener");
        is_int(activation_check(abstract, path, NULL), -EADDRNOTAVAIL, "an abstract one: -EADDRNOTAVAIL");

        unlink(path);
        rmdir(dir);
}

/* A notify receiver at addr; returns what one datagram said, or "" after a short wait. */
static void expect(int receiver, const char *want, const char *what)
{
        char buf[256] = "";
        ssize_t n = recv(receiver, buf, sizeof(buf) - 1, MSG_DONTWAIT);

        if (n > 0)
                buf[n] = 0;
        is_str(buf, want, "%s", what);
}

static void test_notify(void)
{
        char dir[] = "/tmp/unit-notify.XXXXXX", path[64], abstract[64];
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = -EBADF;

        unsetenv("NOTIFY_SOCKET");
        is_int(notify_open(&fd), 0, "no NOTIFY_SOCKET: 0");
        is_int(notify_send(-EBADF, "READY=1"), 0, "sending without a socket: a no-op");
        setenv("NOTIFY_SOCKET", "relative/path", 1);
        is_int(notify_open(&fd), -EINVAL, "a relative path: -EINVAL");
        setenv("NOTIFY_SOCKET", "@", 1);
        is_int(notify_open(&fd), -EINVAL, "an empty abstract name: -EINVAL");

        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        (void) snprintf(path, sizeof(path), "%s/notify", dir);
        _cleanup_close_ int p = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        (void) snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        ok(bind(p, (struct sockaddr *) &sa, sizeof(sa)) == 0, "a path receiver");
        setenv("NOTIFY_SOCKET", path, 1);
        is_int(notify_open(&fd), 1, "a path: 1");
        ok(fcntl(fd, F_GETFD) & FD_CLOEXEC, "... close-on-exec");
        is_int(notify_send(fd, "READY=1\nSTATUS=x"), 0, "sent");
        expect(p, "READY=1\nSTATUS=x", "the path receiver has it");
        fd = safe_close(fd);

        (void) snprintf(abstract, sizeof(abstract), "unit-notify-%d", (int) getpid());
        _cleanup_close_ int a = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
        memcpy(sa.sun_path + 1, abstract, strlen(abstract));
        ok(bind(a, (struct sockaddr *) &sa,
                (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(abstract))) == 0,
           "an abstract receiver");
        char env[80];
        (void) snprintf(env, sizeof(env), "@%s", abstract);
        setenv("NOTIFY_SOCKET", env, 1);
        is_int(notify_open(&fd), 1, "an abstract address: 1");
        is_int(notify_send(fd, "STOPPING=1"), 0, "sent");
        expect(a, "STOPPING=1", "the abstract receiver has it, by its exact name (no trailing NUL)");
        fd = safe_close(fd);

        unlink(path);
        rmdir(dir);
}

int main(void)
{
        test_take();
        test_check();
        test_notify();
        return tap_done();
}
