/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The benchmark's classic pipe helper (core_pattern "|/path/cdp-bench-pipe DIR %P [MODE]").
 *
 * The kernel starts it for every crash with the core on stdin. It copies
 * stdin to DIR/.<name>.partial, renames that to DIR/<name>.core and only
 * then closes stdin: with kernel.core_pipe_limit > 0 the kernel waits for
 * exactly that close before the crashing task may exit, so the task's wait
 * status means "the file is complete", as it does for the socket servers.
 *
 * MODE "splice" (default): grows the pipe to 1 MiB (F_SETPIPE_SZ; the kernel
 * creates it with 16 pages) and splices it into the file, no userspace copy:
 * the best a pipe helper can do, so the comparison does not flatter the
 * socket modes. MODE "read": read(2)/write(2) through a 128 KiB buffer,
 * what most helpers written in any language do.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "kernel/cleanup.h"

#define PIPE_SIZE  (1024 * 1024)
#define READ_CHUNK (128 * 1024)

static int copy_read(int in, int out)
{
        _cleanup_free_ char *buf = malloc(READ_CHUNK);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = RETRY_EINTR(read(in, buf, READ_CHUNK));
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        return 0;
                for (ssize_t off = 0; off < k;) {
                        ssize_t m = RETRY_EINTR(write(out, buf + off, (size_t) (k - off)));
                        if (m < 0)
                                return negative_errno();
                        off += m;
                }
        }
}

static int copy_splice(int in, int out)
{
        (void) fcntl(in, F_SETPIPE_SZ, PIPE_SIZE);
        for (;;) {
                ssize_t k = RETRY_EINTR(splice(in, NULL, out, NULL, PIPE_SIZE, SPLICE_F_MOVE));
                if (k < 0)
                        return errno == EINVAL ? copy_read(in, out) : negative_errno();
                if (k == 0)
                        return 0;
        }
}

int main(int argc, char **argv)
{
        char tmp[4096], final[4096];
        _cleanup_close_ int dir = -EBADF, out = -EBADF;
        int r;

        /* A helper that crashes must never feed itself to the kernel's dump path. */
        (void) prctl(PR_SET_DUMPABLE, 0);
        if (argc < 3 || argc > 4 || strchr(argv[2], '/')) {
                fprintf(stderr, "usage: cdp-bench-pipe DIR NAME [splice|read]\n");
                return 2;
        }
        dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return 1;
        (void) snprintf(tmp, sizeof(tmp), ".%s.partial", argv[2]);
        (void) snprintf(final, sizeof(final), "%s.core", argv[2]);
        out = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return 1;

        r = argc == 4 && strcmp(argv[3], "read") == 0 ? copy_read(STDIN_FILENO, out)
                                                      : copy_splice(STDIN_FILENO, out);
        out = safe_close(out);
        if (r < 0 || renameat(dir, tmp, dir, final) < 0) {
                (void) unlinkat(dir, tmp, 0);
                return 1;
        }
        /* Now the kernel may let the crashing task exit. */
        (void) close(STDIN_FILENO);
        return 0;
}
