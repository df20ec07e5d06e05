/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where a program may still change the filesystem once started (Landlock):
 * write access to a few paths, and nowhere else. Reading is not confined.
 * The seccomp allowlist (sandbox.c) cannot do this: it sees openat's flags
 * but not its path, and a daemon that may create its dump files may open
 * any file for writing, /proc/sys/kernel/core_pattern and /etc included.
 */

#include <errno.h>
#include <stddef.h>

enum confine_access {
        CONFINE_TREE,   /* a directory: files created, written, truncated, renamed and removed beneath it */
        CONFINE_FILE,   /* one existing file: written and truncated */
        CONFINE_REMOVE, /* a directory: its entries removed, nothing created (a socket unlinked on stop) */
};

struct confine_path {
        const char *path;
        enum confine_access access;
};

/*
 * From now on the calling thread, and every thread and process it starts
 * later, may write only at paths (opened without following a symlink in
 * their last component). Threads started before keep their freedom: call
 * it single-threaded. Sets no_new_privs. Returns the Landlock ABI in force
 * (> 0); -EOPNOTSUPP or -ENOSYS when the kernel has no Landlock (nothing is
 * confined then: the caller decides whether to go on); -errno on failure,
 * with *ret_failed the path at fault when there is one.
 */
int confine_writes(const struct confine_path *paths, size_t n, const char **ret_failed);

/* Whether a confine_writes() error means "this kernel has no Landlock" rather than a failure. */
static inline int confine_unsupported(int r)
{
        return r == -EOPNOTSUPP || r == -ENOSYS;
}

#ifdef CDP_FAULT_INJECTION
/*
 * Tests (CDP_FAULT=sandbox-probe): tries from the calling thread what a
 * compromised daemon would, opening core_pattern, new files in /etc and
 * /tmp and an existing file also (NULL: none) for writing, and logs each
 * result. Anything it manages to create is removed at once; nothing is
 * written.
 */
void confine_probe(const char *also);
#else
static inline void confine_probe(const char *also)
{
        (void) also;
}
#endif
