/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * core_pattern written from the host's mount namespace when the keeper runs
 * in another one (a DaemonSet pod with hostPID): the kernel takes a socket
 * pattern only from the initial mount namespace (EINVAL otherwise) and
 * resolves its path from the host's root, so the socket directory is
 * mounted at the same path on both sides. A writer process, forked by the
 * keeper before it drops its capabilities, enters the host's mount
 * namespace, drops every capability and does nothing but write the two
 * sysctls it knows (core_pattern, core_pipe_limit) with the values the
 * keeper sends, and say whether a pipe helper at a path is fit for the
 * kernel to run (pipe mode names a helper in the host's root): the keeper
 * itself stays in the pod's view of the files.
 */

#include <sys/types.h>

/*
 * In the keeper, before it confines itself. When it runs outside the
 * initial mount namespace and can reach it, starts the writer and routes
 * every core_pattern and core_pipe_limit write through it
 * (core_pattern_set_writer). Says at start when it cannot (no host pid
 * namespace, no access): a socket pattern then fails with EINVAL. Returns
 * 0 when writes will come from the host's namespace (ours or the writer's),
 * a negative errno when they cannot; never fatal on its own.
 */
int hostmnt_start(void);

/*
 * Checks a pipe helper with mode_helper_check() where the kernel will look
 * for it: through the writer in the host's mount namespace when there is
 * one, here when we are in it (or hostmnt_start() was never called: the
 * CLI). -EXDEV when hostmnt_start() found us outside and could not start
 * the writer: our view is not the kernel's. Only a stat: the writer opens
 * nothing it is sent.
 */
int hostmnt_check_helper(const char *path);

/* Ends the writer (the keeper is done with core_pattern). */
void hostmnt_stop(void);
