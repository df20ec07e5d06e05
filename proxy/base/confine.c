/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/landlock.h"
#include "proxy/base/confine.h"
#include "proxy/base/log.h"

/*
 * What each kind of path allows. Not MAKE_DIR, MAKE_SYM, MAKE_SOCK or the
 * device nodes anywhere: our programs create only regular files once
 * started. Not REFER: a rename stays within its directory (the store's
 * temporary file into its final name), so no file can be moved into or out
 * of an allowed place.
 */
static uint64_t access_of(enum confine_access a)
{
        switch (a) {
        case CONFINE_TREE:
                return LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                       LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_REMOVE_FILE;
        case CONFINE_FILE:
                return LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;
        case CONFINE_REMOVE:
                return LANDLOCK_ACCESS_FS_REMOVE_FILE;
        }
        return 0;
}

static int add_path(int ruleset, int abi, const struct confine_path *p)
{
        int flags = O_PATH | O_CLOEXEC | O_NOFOLLOW | (p->access == CONFINE_FILE ? 0 : O_DIRECTORY);
        _cleanup_close_ int fd = open(p->path, flags);
        struct stat st;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Directory rights on a file are refused (EINVAL); a device or socket is never "one file" we write.
         */
        if (p->access == CONFINE_FILE && !S_ISREG(st.st_mode))
                return -EBADFD;
        return landlock_allow(ruleset, fd, landlock_fs_access_of_abi(abi, access_of(p->access)));
}

int confine_writes(const struct confine_path *paths, size_t n, const char **ret_failed)
{
        _cleanup_close_ int ruleset = -EBADF;
        int abi, r;

        /* Landlock needs it without CAP_SYS_ADMIN; the seccomp filter sets it anyway. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return negative_errno();

        abi = landlock_abi();
        if (abi < 0)
                return abi;
        r = landlock_ruleset_new(landlock_fs_access_of_abi(abi, LANDLOCK_FS_WRITE_ACCESS), &ruleset);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = add_path(ruleset, abi, &paths[i]);
                if (r < 0) {
                        if (ret_failed)
                                *ret_failed = paths[i].path;
                        return r;
                }
        }
        r = landlock_enforce(ruleset);
        if (r < 0)
                return r;
        return abi;
}

#ifdef CDP_FAULT_INJECTION
static void probe_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

        if (fd < 0) {
                const char *name = strerrorname_np(errno);
                log_info("sandbox-probe: open %s for writing: refused (%s)", path, name ? name : "?");
                return;
        }
        log_warning("sandbox-probe: open %s for writing: ALLOWED", path);
        safe_close(fd);
        if (flags & O_CREAT)
                (void) unlink(path);
}

void confine_probe(const char *also)
{
        char path[64];

        probe_open(CORE_PATTERN_SYSCTL, O_WRONLY);
        if (also)
                probe_open(also, O_WRONLY);
        (void) snprintf(path, sizeof(path), "/etc/cdp-sandbox-probe.%d", (int) getpid());
        probe_open(path, O_WRONLY | O_CREAT | O_EXCL);
        (void) snprintf(path, sizeof(path), "/tmp/cdp-sandbox-probe.%d", (int) getpid());
        probe_open(path, O_WRONLY | O_CREAT | O_EXCL);
}
#endif
