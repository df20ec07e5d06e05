/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The upload hook: a command of the user's run for every kept dump once its
 * core and metadata are complete (`coredump-collector --exec CMD`), with the
 * paths and key fields in its environment, off the crash path (the task was
 * released before), at most max_running at once, each within a time limit
 * (then its process group is killed), its exit status and the start of its
 * output logged, and the dump removed only when asked to and CMD exited 0.
 *
 * It runs in a small process forked before the program confines itself: the
 * seccomp filter and Landlock that keep a collector from executing anything
 * stay as they are, and the runner holds nothing but the request socket and
 * the dump directory. Requests are datagrams of "CDP_KEY=value" strings; a
 * full queue drops the request (logged) rather than block a writer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "kernel/io.h"

#define UPLOAD_TIMEOUT_DEFAULT     (60 * USEC_PER_SEC)
#define UPLOAD_MAX_RUNNING_DEFAULT 2
#define UPLOAD_QUEUE_MAX           64
#define UPLOAD_FIELDS_MAX          16
#define UPLOAD_MSG_MAX             16384

struct upload_options {
        const char *command;   /* run as /bin/sh -c COMMAND */
        const char *directory; /* where the dumps are: removal is by id, beneath it only */
        usec_t timeout;
        unsigned max_running;
        bool remove; /* remove <id>.core[.zst] and <id>.json when COMMAND exits 0 */
};

/* Forks the runner: *ret_fd is the socket to submit to, *ret_pid the runner. */
int upload_start(const struct upload_options *o, int *ret_fd, pid_t *ret_pid);

/*
 * Submits one dump: fields are "CDP_KEY=value" strings, CDP_ID among them.
 * Never blocks: -EAGAIN when the runner's queue is full.
 */
int upload_submit(int fd, const char *const *fields, size_t n);

/* The runner's main loop; exposed for tests. Returns once fd is closed and every command ended. */
int upload_run(const struct upload_options *o, int fd);
