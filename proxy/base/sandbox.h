/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Self-confinement with a libseccomp allowlist, loaded once start-up is
 * done, on every thread (TSYNC). Each program has its own list. Which
 * paths may be written is not decided here (seccomp cannot see paths):
 * confine.c does that with Landlock.
 */

#include <sys/types.h>

int sandbox_apply_proxy(void);
/* The keeper (proxy/daemon/keeper.c): its own files, and signals to the daemon only. */
int sandbox_apply_keeper(pid_t daemon);
int sandbox_apply_collector(void);
