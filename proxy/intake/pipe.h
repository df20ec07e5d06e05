/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The pipe intake (kernels before 6.16, or "protocol": "pipe"): how a dump
 * arrives when the kernel runs coredump-proxy-pipe with the core on its
 * stdin. The helper hands the pipe, a reply channel and the task's pidfd
 * over in one datagram on <listen.path>.pipe (proxy/protocol/pipe-handoff.h
 * has the conversation); what comes out is a struct dump whose fd is the
 * pipe, and from there every dump runs the same way: identify, resolve,
 * route, limits, forward (the collector gets the pipe as its dump fd),
 * store, reject (the pipe closed unread), events.
 */

#include "proxy/dump/dump.h"
#include "proxy/dump/stats.h"

/* The intake socket beside listen_path (SOCK_DGRAM, 0600); *ret_path is where it is. */
int intake_pipe_open(const char *listen_path, char **ret_path);

/*
 * Takes one hand-off off the intake socket as a new dump in pipe mode.
 * Never blocks: -EAGAIN when none is queued. A hand-off that is not well
 * formed (-EBADMSG, -EPROTO), or whose task is gone already (-ESRCH: its
 * helper gave up waiting), is dropped with every fd it carried: its helper
 * hears nothing and keeps the dump itself. *ret_pid is the crashing task's
 * pid whenever the datagram said it, for the lost-dump accounting.
 */
int intake_pipe_receive(int intake_fd, struct proxy_setup *setup, struct dump **ret, pid_t *ret_pid);

/*
 * Settles who reads the pipe, on the dump's worker: tells the helper the
 * daemon takes it and waits, briefly, for its commit. 0: ours. -ECANCELED:
 * the helper gave up waiting and keeps the dump itself (d->withdrawn).
 */
int intake_pipe_claim(struct dump *d);

/* Leaves the dump to its helper without a word (an overload): it stores the core itself. */
void intake_pipe_withdraw(struct dump *d);

/*
 * The kernel's facts from the hand-off merged into what the pidfd said:
 * the signal, the dumpability (%d: a setuid-style dump is sensitive) where
 * the pidfd cannot tell (before 6.16), and whether the task is dumping at
 * all ("CoreDumping" in /proc before 6.16). -ESRCH when the pidfd names
 * another task than the kernel's %P.
 */
int intake_pipe_identify(struct dump *d);

/* Closes our copy of the pipe, unread when nothing was read yet: the kernel's next write fails. */
void intake_pipe_close(struct dump *d);

/*
 * Writes <listen_path>.pipe-settings (0600): where the helper keeps a dump
 * when the daemon does not answer. Written at every start in pipe mode.
 */
int intake_pipe_write_settings(const char *listen_path, const struct config *c);

/*
 * The dumps the helper kept while the daemon was away, from the host
 * store's spool: each becomes the event line the helper wrote for it, is
 * counted, and is forgotten. Returns how many were reported.
 */
int intake_pipe_report_unseen(struct proxy_setup *setup, struct proxy_stats *stats);
