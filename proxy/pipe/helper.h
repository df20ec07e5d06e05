/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* coredump-proxy-pipe: what its two halves share (main.c: the hand-off; keep.c: keeping a dump itself). */

#include <stdbool.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/protocol/pipe-handoff.h"

/* The kernel's pattern can hold at most one task per crash; the whole helper ends within this. */
#define HELPER_HARD_LIMIT_SEC 330
/* Keeping a dump itself must end before the hard limit; as the daemon's default dump_timeout. */
#define HELPER_STORE_TIMEOUT (300 * USEC_PER_SEC)
#define HELPER_STALL_TIMEOUT (30 * USEC_PER_SEC)

/* To the kernel log (/dev/kmsg): the helper has no terminal and nobody reads its stderr. */
void helper_log(int level, const char *fmt, ...) _printf_(2, 3);

/*
 * Keeps the dump on stdin in the host store (the one the daemon's settings
 * beside listen name, else the default), with its metadata and the event
 * line the daemon reports at its next start. why says why the daemon did
 * not take it. Returns the process exit status.
 */
int helper_keep(const char *listen, const struct pipe_facts *f, int pidfd, const char *why, usec_t started,
                usec_t started_wall);
