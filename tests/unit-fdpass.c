/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* SCM_RIGHTS passing over real socketpairs: strict checks, CLOEXEC, nothing leaked. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/fdpass.h"
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
        return tap_done();
}
