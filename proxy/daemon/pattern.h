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
        /* The pipe intake raised kernel.core_pipe_limit: put back with the pattern. */
        bool pipe_limit_set;
        unsigned pipe_limit_previous, pipe_limit_ours;
};

/* The state file's second line, when the pipe intake changed core_pipe_limit. */
#define PATTERN_STATE_PIPE_LIMIT "core_pipe_limit="

/* Where the pattern that was there before ours is kept while we run. */
int pattern_state_path(const char *listen_path, char **ret);

/*
 * Reads it back (the pattern, without the newline; and when ret_pipe_limit
 * is given, the core_pipe_limit to restore, UINT_MAX if none was saved):
 * -EPERM unless it is a regular file of ours that nobody else may write,
 * never through a symlink.
 */
int pattern_state_read(const char *state_path, char **ret, unsigned *ret_pipe_limit);

/* Installs "@@path" (or "@path") and arms the restore-on-crash handler. Logs its errors. */
int pattern_install(struct pattern_hold *h, const char *listen_path, bool want_request);

/*
 * Installs the pipe intake's pattern (core_pattern_format_pipe()) and raises
 * core_pipe_limit to pipe_limit; both are restored together. Logs its errors.
 */
int pattern_install_pipe(struct pattern_hold *h, const char *listen_path, const char *pattern,
                         unsigned pipe_limit);

/* Restores the previous pattern unless someone else changed it meanwhile. Idempotent. */
void pattern_restore(struct pattern_hold *h);

/*
 * Gives the hold up without writing anything: the pattern was taken over
 * (by the next instance of a rollout) and is theirs now. Forgets the saved
 * pattern. Idempotent.
 */
void pattern_release(struct pattern_hold *h);

void pattern_hold_done(struct pattern_hold *h);

/*
 * The socket the current pattern sends dumps to (allocated): the path of
 * "@"/"@@", or the pipe intake's first argument; -ENOENT for any other.
 */
int pattern_current_target(char **ret);

/* Whether the kernel sends its dumps to listen_path now (and in which mode). */
bool pattern_points_at(const char *listen_path, bool *ret_request);

/* Warns when the kernel will not send dumps here, or will not hold tasks in plain mode. */
void pattern_check(const char *listen_path);
