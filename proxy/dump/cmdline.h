/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * /proc/<pid>/cmdline, read without letting the crashing task hold us.
 * Reading it copies the task's own memory, and a task can back that memory
 * with a page that never loads (a FUSE file it mapped over its argv, a
 * userfaultfd nobody answers): such a read blocks until the task is gone,
 * and killably only. So it runs on a reader thread of its own, waited for
 * a short while; a reader that hangs is left behind (it ends with the
 * task, or the daemon), and only CMDLINE_READERS can ever hang at once:
 * when all do, cmdlines are simply not read.
 */

#include "kernel/io.h"

#define CMDLINE_MAX     4096
#define CMDLINE_READERS 2
/* How long a dump waits for its cmdline. */
#define CMDLINE_TIMEOUT (500 * USEC_PER_MSEC)

/*
 * The arguments, NUL-separated as the kernel gives them, joined with spaces
 * and cut at CMDLINE_MAX bytes. dirfd is /proc/<pid> (bound to the task).
 * -ETIMEDOUT when the read hangs, -EBUSY when every reader already hangs.
 */
int cmdline_read(int dirfd, usec_t timeout, char **ret);
