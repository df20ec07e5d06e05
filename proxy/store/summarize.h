/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Crash summaries (docs/metadata.md, "summary"): for every kept dump, once
 * its core and metadata are complete and the task released, a runner runs
 * coredump-proxy-summary on the core (it confines itself: nobody, seccomp,
 * rlimits; proxy/summary/main.c), kills it at a wall-clock limit, checks
 * what it printed, and merges it into <id>.json under "summary" (a new file
 * renamed over the old one). A summary that fails or times out says so
 * there and never touches the core.
 *
 * Like the upload runner (upload.c) it is forked before the program confines
 * itself (the sandbox forbids exec) and holds only its socket and the store's
 * directory. One summary at a time; a full socket drops a request (logged).
 */

#include <sys/types.h>

#include "kernel/io.h"

#define SUMMARY_TIMEOUT_DEFAULT (10 * USEC_PER_SEC)
#define SUMMARY_OUTPUT_MAX      (256 * 1024)
#define SUMMARY_PROGRAM_NAME    "coredump-proxy-summary"

struct summarize_options {
        const char *program;   /* NULL: found by summarize_program_path() */
        const char *directory; /* the store's */
        usec_t timeout;
};

/* The summary program: next to the running one (a build tree), else in LIBEXECDIR/coredump-proxy/. */
int summarize_program_path(char **ret);

/* Forks the runner: *ret_fd is the socket to submit to, *ret_pid the runner. */
int summarize_start(const struct summarize_options *o, int *ret_fd, pid_t *ret_pid);

/* Asks for the summary of dump id. Never blocks: -EAGAIN when the runner is behind. */
int summarize_submit(int fd, const char *id);

/* The runner's loop; exposed for tests. Returns once fd is closed. */
int summarize_run(const struct summarize_options *o, int fd);
