/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The pipe intake's conversation (kernels before 6.16, or "protocol":
 * "pipe"): the kernel runs coredump-proxy-pipe for every crash with the
 * core on its stdin; the helper hands the pipe over to the daemon and exits.
 *
 *   kernel:  |coredump-proxy-pipe LISTEN P=%P s=%s t=%t d=%d[ F=%F]
 *   helper → daemon, one datagram on <LISTEN>.pipe (SOCK_DGRAM, root only):
 *            the facts below as text, with SCM_RIGHTS: the reply channel
 *            (one end of an AF_UNIX SOCK_SEQPACKET pair), then the task's
 *            pidfd when the helper has one
 *   daemon → helper, on the channel: PIPE_TAKEN ("I will read it")
 *   helper → daemon: PIPE_COMMIT with SCM_RIGHTS: the core pipe; the
 *            helper exits
 *
 * The pipe travels only on the commit: a datagram waiting in the queue of
 * a daemon that does not answer holds no reader of the pipe, so the kernel
 * lets the task go once the helper is done with it. Each side decides at
 * one point, after shutting down its own receiving side (which makes the
 * other side's later send fail), so the two never both read the pipe and
 * never both leave it: a helper that hears no TAKEN within its bound, or
 * whose commit fails, writes the core into the host store itself. The
 * facts are the kernel's own (its pattern's specifiers); the daemon checks
 * the pid against the pidfd before it believes it.
 *
 * The datagram and the channel carry no byte of the core. Shared by the
 * daemon (proxy/intake/pipe.c) and the helper (proxy/pipe/), like the
 * settings file the daemon leaves for the helper (the host store to fall
 * back to) and the spool of dumps the helper kept while the daemon was away.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

/* Beside the daemon's listen path: its intake socket and the settings it leaves for the helper. */
#define PIPE_INTAKE_SUFFIX   ".pipe"
#define PIPE_SETTINGS_SUFFIX ".pipe-settings"
/* Below the host store: an event line for every dump the helper kept itself, until the daemon reports it. */
#define PIPE_UNREPORTED_DIR ".unreported"

/* The datagram's first line, with the version. */
#define PIPE_HANDOFF_MAGIC   "coredump-proxy-pipe"
#define PIPE_HANDOFF_VERSION 1
/* Longest datagram either side sends or takes: the facts are a few numbers. */
#define PIPE_HANDOFF_MAX 512
/* The settings file is as small. */
#define PIPE_SETTINGS_MAX 4096

/* The replies on the channel: one byte each. */
#define PIPE_TAKEN  'T'
#define PIPE_COMMIT 'C'

/* Where the helper's pidfd came from. */
enum pipe_pidfd_source {
        PIPE_PIDFD_NONE,   /* none: the task's identity could not be proven */
        PIPE_PIDFD_KERNEL, /* %F, made by the kernel for the task (6.16+) */
        PIPE_PIDFD_OPENED, /* pidfd_open(%P) while the task was held, checked to be dumping */
        _PIPE_PIDFD_MAX,
};
const char *pipe_pidfd_source_to_string(enum pipe_pidfd_source s);
int pipe_pidfd_source_from_string(const char *s);

/* The kernel's facts about one crash, as the pattern's specifiers gave them. */
struct pipe_facts {
        uint32_t pid;  /* %P: the host tgid; never 0 */
        int signal;    /* %s; 0 unknown */
        uint64_t time; /* %t: seconds since the epoch; 0 unknown */
        int dumpable;  /* %d: 0, 1, or 2 (setuid-style: sensitive); -1 unknown */
        int kernel_fd; /* %F: the fd number of the kernel's pidfd in the helper; -1 none */
        enum pipe_pidfd_source pidfd_source;
};
#define PIPE_FACTS_INIT ((struct pipe_facts){ .dumpable = -1, .kernel_fd = -1 })

/*
 * The helper's argv after its name: LISTEN, then KEY=VALUE words (P, s, t,
 * d, F). Unknown keys and empty values (a specifier an older kernel does not
 * expand) are skipped; P is required. -EINVAL on anything else.
 */
int pipe_args_parse(int argc, char *const *argv, const char **ret_listen, struct pipe_facts *ret);

/* The datagram's text; -ENOBUFS if it does not fit. */
int pipe_handoff_format(const struct pipe_facts *f, char *buf, size_t size, size_t *ret_len);
/*
 * Parses a datagram: the magic line with version 1 (-EPROTONOSUPPORT for
 * another), then "key=value" lines; unknown keys are ignored, known ones
 * must be well-formed and appear once; pid is required. -EBADMSG otherwise.
 * kernel_fd is never taken from a datagram.
 */
int pipe_handoff_parse(const char *buf, size_t len, struct pipe_facts *ret);

/* What the daemon tells the helper, for when it cannot answer. */
struct pipe_settings {
        char *store_directory;
        struct size_limit max_use;
        struct size_limit keep_free;
};
void pipe_settings_done(struct pipe_settings *s);

/* "store=DIR\nmax_use=N[%]\nkeep_free=N[%]\n" */
int pipe_settings_format(const struct pipe_settings *s, char **ret, size_t *ret_len);
/* Parses the settings file; store must be an absolute path. Unknown keys are ignored. */
int pipe_settings_parse(const char *text, size_t len, struct pipe_settings *ret);
