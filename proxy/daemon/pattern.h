/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The hold on kernel.core_pattern: installing ours, remembering exactly
 * what was there (also on disk, for `restore-pattern` after a SIGKILL of
 * the keeper), and giving it back on every way out. Policy on top of
 * kernel/core-pattern; the keeper (keeper.c) is the one process that uses
 * it, the daemon only reads core_pattern (pattern_points_at, pattern_check).
 */

#include <stdbool.h>

struct pattern_hold {
        bool installed;
        char *previous;   /* what to restore */
        char *ours;       /* what we wrote, as the kernel reads it back */
        char *state_path; /* <listen path>.previous-pattern */
};

/* Where the pattern that was there before ours is kept while we run. */
int pattern_state_path(const char *listen_path, char **ret);

/*
 * Reads it back (without the newline): -EPERM unless it is a regular file
 * of ours that nobody else may write, never through a symlink.
 */
int pattern_state_read(const char *state_path, char **ret);

/* Installs "@@path" (or "@path") and arms the restore-on-crash handler. Logs its errors. */
int pattern_install(struct pattern_hold *h, const char *listen_path, bool want_request);

/* Restores the previous pattern unless someone else changed it meanwhile. Idempotent. */
void pattern_restore(struct pattern_hold *h);

void pattern_hold_done(struct pattern_hold *h);

/* Whether the kernel sends its dumps to listen_path now (and in which mode). */
bool pattern_points_at(const char *listen_path, bool *ret_request);

/* Warns when the kernel will not send dumps here, or will not hold tasks in plain mode. */
void pattern_check(const char *listen_path);
