/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon runs as two processes. The keeper (the process that was
 * started, whose pid a service manager knows) alone writes
 * kernel.core_pattern (with --install-pattern) and remembers the pattern to
 * give back; it parses nothing from outside and keeps only CAP_SYS_PTRACE,
 * for the few ptrace-checked facts about a crashing task that Landlock
 * denies the daemon (proxy/base/procaccess.h). The daemon, its child,
 * serves dumps under Landlock and seccomp and cannot open core_pattern for
 * writing: code run through any of its parsers cannot point the kernel at
 * a helper of its choosing. Over a socketpair the daemon asks the keeper
 * to install the pattern once it listens and to give it back when it
 * stops; the keeper forwards SIGTERM, SIGINT and SIGHUP to it, and when the
 * daemon ends for any reason (SIGKILL and crashes included) gives the
 * pattern back and exits with the daemon's status.
 */

#include <errno.h>
#include <stdbool.h>
#include <sys/types.h>

#include "config/config.h"

/* The daemon's side. */
struct keeper_link {
        int fd;         /* pattern requests; -EBADF: no keeper, the pattern is not ours */
        int broker;     /* procaccess requests */
        pid_t pid;      /* the keeper's */
        bool installed; /* the keeper installed our pattern and has not given it back yet */
};

typedef int (*keeper_daemon_fn)(struct keeper_link *link, void *userdata);

/* What the keeper installs, all from the config it was started with: never from the daemon. */
struct keeper_params {
        const char *listen_path;
        bool install;                  /* --install-pattern: the daemon may ask for the pattern, once */
        enum listen_protocol protocol; /* the mode is chosen as the daemon chooses it (mode.c) */
        const char *pipe_helper;       /* listen.pipe_helper, or NULL */
        unsigned pipe_limit;           /* pipe mode: kernel.core_pipe_limit at least this */
        bool wait_after_takeover;      /* --on-takeover=wait: stay until SIGTERM once taken over */
};

/*
 * Forks the daemon, which runs fn and exits with its return value, and
 * keeps core_pattern (and in pipe mode kernel.core_pipe_limit) for it.
 * Returns the daemon's exit status; when the daemon was killed by a signal
 * the keeper dies of the same signal (a shell or service manager sees the
 * daemon's own end). Logs its errors.
 */
int keeper_run(const struct keeper_params *p, keeper_daemon_fn fn, void *userdata);

/* In the daemon, once the kernel socket listens (--install-pattern): the keeper installs the pattern. */
int keeper_install(struct keeper_link *l);

/* In the daemon, on the way out: the keeper gives the pattern back now; waits for it. Idempotent. */
void keeper_restore(struct keeper_link *l);

/*
 * Whether the daemon acts on a stop or reload signal from sender. Under a
 * keeper only the keeper's count: a terminal's Ctrl-C or a service
 * manager's SIGTERM to every process of the service reaches both, and the
 * keeper forwards its own; acting on both would take the second one for
 * "stop now, do not wait for dumps in flight".
 */
bool keeper_signal_counts(const struct keeper_link *l, pid_t sender);
