/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Landlock (5.13+): the syscalls and the ABI the running kernel speaks, no
 * policy. A process restricts itself (and every thread and process it
 * starts later); nothing can lift a restriction once it is in force.
 */

#include <linux/landlock.h>
#include <stdint.h>

/* Rights newer than the build headers (Debian 12 ships 6.1's: ABI 2). */
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* 6.2, ABI 3 */
#endif

/*
 * The filesystem rights that change something: writing into a file,
 * truncating it, creating, removing, linking or renaming entries. Reading,
 * listing and executing are left out on purpose.
 */
#define LANDLOCK_FS_WRITE_ACCESS                                                                          \
        (LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
         LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |       \
         LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |    \
         LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | LANDLOCK_ACCESS_FS_TRUNCATE)

/* Rights that apply to a file itself rather than to the entries of a directory. */
#define LANDLOCK_FS_FILE_ACCESS                                                                      \
        (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
         LANDLOCK_ACCESS_FS_TRUNCATE)

/*
 * The Landlock ABI version of the running kernel (> 0); -EOPNOTSUPP when it
 * is built in but not enabled at boot (lsm=), -ENOSYS when it is not built.
 */
int landlock_abi(void);

/* Of the rights in want, those the given ABI knows: older kernels refuse unknown bits. */
uint64_t landlock_fs_access_of_abi(int abi, uint64_t want);

/* A ruleset that handles (denies unless a rule allows) the filesystem rights in handled. */
int landlock_ruleset_new(uint64_t handled, int *ret_fd);

/*
 * Allows access beneath the directory (or on the file) fd refers to (an
 * O_PATH fd will do). A file takes only LANDLOCK_FS_FILE_ACCESS rights.
 */
int landlock_allow(int ruleset_fd, int fd, uint64_t access);

/*
 * Puts the ruleset in force for the calling thread and everything it
 * starts afterwards. Needs no_new_privs or CAP_SYS_ADMIN.
 */
int landlock_enforce(int ruleset_fd);
