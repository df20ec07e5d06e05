/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* SCM_RIGHTS passing over real socketpairs: strict checks, CLOEXEC, nothing leaked. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/fdpass.h"
#include "kernel/pidfd.h"
#include "tests/tap.h"

static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        return n - 1; /* the directory's own fd */
}

static bool make_pair(int type, int sv[2])
{
        return socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) == 0;
}

/* Who sent it: SCM_CREDENTIALS and SCM_PIDFD, strictly. */
static void test_sender(int a, int b, int some_fd)
{
        struct fdpass_sender s = { .pidfd = -EBADF };
        int on = 1, before;
        char buf[64];
        bool have_pidfd;

        before = count_fds();
        /* b has SO_PASSCRED from the test above. */
        is_int(fdpass_send(a, "who", 3, NULL, 0), 0, "sender: send");
        is_int(fdpass_recv_sender(b, buf, sizeof(buf), &s, 0), 3, "sender: received with credentials");
        ok(s.have_ucred && s.pid == getpid() && s.uid == getuid() && s.gid == getgid(),
           "sender: SCM_CREDENTIALS names us");
        ok(s.pidfd < 0, "sender: no SCM_PIDFD without SO_PASSPIDFD");

        have_pidfd = setsockopt(b, SOL_SOCKET, SO_PASSPIDFD, &on, sizeof(on)) == 0;
        if (have_pidfd) {
                struct cdp_pidfd_info info;

                is_int(fdpass_send(a, "who", 3, NULL, 0), 0, "sender: send again");
                is_int(fdpass_recv_sender(b, buf, sizeof(buf), &s, 0), 3, "sender: with a pidfd");
                ok(s.pidfd >= 0 && (fcntl(s.pidfd, F_GETFD) & FD_CLOEXEC),
                   "sender: SCM_PIDFD, close-on-exec");
                ok(s.pidfd >= 0 && pidfd_get_info(s.pidfd, PIDFD_INFO_PID, &info) >= 0 &&
                           info.tgid == (uint32_t) getpid(),
                   "sender: the pidfd is ours");
                s.pidfd = safe_close(s.pidfd);
        } else {
                tap_diag("no SO_PASSPIDFD here (before 6.5)");
        }

        /* fds beside credentials: refused, and closed. */
        is_int(fdpass_send(a, "fd", 2, &some_fd, 1), 0, "sender: send an fd along");
        is_int(fdpass_recv_sender(b, buf, sizeof(buf), &s, 0), -EPROTO, "sender: SCM_RIGHTS refused");
        is_int(count_fds(), before, "sender: the fds that came were closed");

        /* Truncation: refused, the pidfd closed. */
        char big[100] = {};
        is_int(fdpass_send(a, big, sizeof(big), NULL, 0), 0, "sender: send 100 bytes");
        is_int(fdpass_recv_sender(b, buf, 10, &s, 0), -EMSGSIZE, "sender: truncated refused");
        is_int(count_fds(), before, "sender: nothing left open");

        /* Without SO_PASSCRED nothing names the sender. */
        int off = 0;
        (void) setsockopt(b, SOL_SOCKET, SO_PASSPIDFD, &off, sizeof(off));
        (void) setsockopt(b, SOL_SOCKET, SO_PASSCRED, &off, sizeof(off));
        is_int(fdpass_send(a, "anon", 4, NULL, 0), 0, "sender: send without credentials");
        is_int(fdpass_recv_sender(b, buf, sizeof(buf), &s, 0), 4, "sender: received");
        ok(!s.have_ucred && s.pidfd < 0, "sender: nobody named");
}

int main(void)
{
        int sv[2], fds[4] = { -1, -1, -1, -1 }, sent[2];
        size_t n = 99;
        char buf[64];
        int before;

        if (!make_pair(SOCK_SEQPACKET, sv))
                tap_skip_all("no AF_UNIX SOCK_SEQPACKET");
        _cleanup_close_ int a = sv[0], b = sv[1];
        _cleanup_close_ int f1 = open("/dev/null", O_RDONLY | O_CLOEXEC),
                            f2 = open("/", O_RDONLY | O_CLOEXEC);
        sent[0] = f1;
        sent[1] = f2;

        before = count_fds();
        is_int(fdpass_send(a, "two", 3, sent, 2), 0, "send two fds");
        ssize_t k = fdpass_recv(b, buf, sizeof(buf), fds, 4, &n, 0);
        is_int(k, 3, "payload length");
        is_int(n, 2, "two fds arrive");
        ok(n == 2 && (fcntl(fds[0], F_GETFD) & FD_CLOEXEC) && (fcntl(fds[1], F_GETFD) & FD_CLOEXEC),
           "received fds are close-on-exec");
        close_many(fds, n);
        is_int(count_fds(), before, "no fd left behind after closing them");

        /* More fds than the receiver allows: all of them are closed, none leak. */
        before = count_fds();
        is_int(fdpass_send(a, "x", 1, sent, 2), 0, "send two to a receiver that takes one");
        is_int(fdpass_recv(b, buf, sizeof(buf), fds, 1, &n, 0), -EPROTO, "too many fds refused");
        is_int(count_fds(), before, "the refused fds were closed");

        /* fds nobody asked for. */
        is_int(fdpass_send(a, "x", 1, sent, 1), 0, "send one to a receiver that takes none");
        is_int(fdpass_recv(b, buf, sizeof(buf), NULL, 0, NULL, 0), -EPROTO, "unexpected fd refused");
        is_int(count_fds(), before, "the unexpected fd was closed");

        /* Truncated datagram: the message is not what the sender meant. */
        char big[100] = {};
        is_int(fdpass_send(a, big, sizeof(big), sent, 1), 0, "send a 100 byte message with an fd");
        is_int(fdpass_recv(b, buf, 10, fds, 4, &n, 0), -EMSGSIZE, "truncated message refused");
        is_int(count_fds(), before, "its fd was closed");

        /* Plain messages still work. */
        is_int(fdpass_send(a, "plain", 5, NULL, 0), 0, "send without fds");
        n = 99;
        is_int(fdpass_recv(b, buf, sizeof(buf), fds, 4, &n, 0), 5, "receive without fds");
        is_int(n, 0, "no fds reported");

        /* Credentials nobody asked for are an unexpected control message. */
        int on = 1;
        ok(setsockopt(b, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)) == 0, "enable SO_PASSCRED on receiver");
        is_int(fdpass_send(a, "c", 1, sent, 1), 0, "send with credentials attached by the kernel");
        is_int(fdpass_recv(b, buf, sizeof(buf), fds, 4, &n, 0), -EPROTO, "SCM_CREDENTIALS refused");
        is_int(count_fds(), before, "the fd beside the credentials was closed");

        is_int(fdpass_send(a, "x", 1, sent, 20), -E2BIG, "sending more than we support is refused");

        test_sender(a, b, f1);
        return tap_done();
}
