/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/landlock.h"

/* The syscall numbers are the same on every architecture (the unified table). */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444 /* 5.13 */
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445 /* 5.13 */
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446 /* 5.13 */
#endif

int landlock_abi(void)
{
        long v = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

        if (v < 0)
                return negative_errno();
        return v > 0 ? (int) v : -EOPNOTSUPP;
}

uint64_t landlock_fs_access_of_abi(int abi, uint64_t want)
{
        /* ABI 1 (5.13): execute .. make_sym; each later ABI added one right. */
        uint64_t known = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;

        if (abi <= 0)
                return 0;
        if (abi >= 2)
                known |= LANDLOCK_ACCESS_FS_REFER; /* 5.19 */
        if (abi >= 3)
                known |= LANDLOCK_ACCESS_FS_TRUNCATE; /* 6.2 */
        return want & known;
}

int landlock_ruleset_new(uint64_t handled, int *ret_fd)
{
        struct landlock_ruleset_attr attr = { .handled_access_fs = handled };
        long fd = syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);

        if (fd < 0)
                return negative_errno();
        *ret_fd = (int) fd;
        return 0;
}

int landlock_allow(int ruleset_fd, int fd, uint64_t access)
{
        struct landlock_path_beneath_attr rule = { .allowed_access = access, .parent_fd = fd };

        if (syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0)
                return negative_errno();
        return 0;
}

int landlock_enforce(int ruleset_fd)
{
        if (syscall(__NR_landlock_restrict_self, ruleset_fd, 0) < 0)
                return negative_errno();
        return 0;
}
