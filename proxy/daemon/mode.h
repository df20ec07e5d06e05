/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which way the kernel hands its dumps to the daemon, chosen by what the
 * running kernel reports and accepts, never by its version:
 *
 *   request  core_pattern "@@<listen.path>"   kernel.core_modes lists "socket"
 *                                            and a write of "@@" is accepted (6.17+)
 *   plain    core_pattern "@<listen.path>"    "socket" listed, "@@" refused (6.16)
 *   pipe     core_pattern "|coredump-proxy-pipe <listen.path> ..."
 *                                            no "socket" (before 6.16), or
 *                                            "protocol": "pipe"
 */

#include <stdbool.h>

#include "config/config.h"
#include "kernel/core-pattern.h"

enum intake_mode {
        INTAKE_REQUEST,
        INTAKE_PLAIN,
        INTAKE_PIPE,
        _INTAKE_MODE_MAX,
};
const char *intake_mode_to_string(enum intake_mode m);
int intake_mode_from_string(const char *s);

/*
 * The mode for protocol on a kernel offering modes, and why (a static
 * sentence for the log). Socket modes come out as request: whether the
 * kernel takes "@@" is known only once a write probes it. -EOPNOTSUPP (with
 * why) when the kernel offers nothing the protocol allows; with install
 * false a socket protocol on a kernel without sockets is allowed (nothing
 * is written; the daemon warns that no dump will arrive).
 */
int mode_choose(enum listen_protocol protocol, const struct core_modes *modes, bool install,
                enum intake_mode *ret, const char **ret_why);

/*
 * Where the pipe helper is: next to our own program (a build tree), else
 * $(libexecdir)/coredump-proxy/. The kernel runs it as root for every
 * crash, so it must be a root-owned executable that only root can change,
 * in a directory only root can change: -EPERM otherwise, -ENOENT if absent.
 */
int mode_helper_path(char **ret);

/*
 * Checks one candidate as mode_helper_path() does (and listen.pipe_helper,
 * from the host's mount namespace): also -EACCES on a noexec mount, where
 * the kernel's exec would fail for every crash. Exposed for tests.
 */
int mode_helper_check(const char *path);

/* What mode_helper_check()'s result means, for a message. */
const char *mode_helper_problem(int r);

struct pattern_hold;

/*
 * In the keeper: installs the pattern of the mode the daemon chose (the
 * same choice from the same config and kernel), the pipe helper's with
 * kernel.core_pipe_limit raised to pipe_limit in pipe mode. pipe_helper
 * (listen.pipe_helper) is the helper's path in the host's root, checked
 * there; NULL: mode_helper_path(). Logs its errors.
 */
int mode_install_pattern(struct pattern_hold *h, const char *listen_path, enum listen_protocol protocol,
                         const char *pipe_helper, unsigned pipe_limit);
