/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel's coredump socket: what a dump is when it arrives there, and
 * the conversation with the kernel that decides whether and how it writes
 * the core ("@@": request, ack, mark; "@": nothing to say).
 */

#include <stdint.h>

#include "proxy/dump/dump.h"

/*
 * Takes one connection from the listener, with its peer's pidfd and pid,
 * as a new dump. Never blocks. -EAGAIN when the queue is empty.
 */
int intake_socket_accept(int listen_fd, struct proxy_setup *setup, struct dump **ret);

/*
 * Tells "@@" from "@" by the connection's first bytes (never by the
 * installed pattern, which an administrator may change under us) and, in
 * request mode, reads and checks the kernel's request. Bounded by a short
 * protocol timeout within the dump's deadline.
 */
int intake_handshake(struct dump *d);

/*
 * Answers the kernel: in request mode sends the ack for mask and reads its
 * mark (a no-op once acked); in plain mode there is nothing to answer.
 * -ESRCH when the task died meanwhile (after an early ack: before its mark
 * is read, since the core it left is cut).
 */
int intake_ack(struct dump *d, uint64_t mask);

/*
 * Request mode: sends the ack KERNEL|WAIT now and leaves its mark to the next
 * intake_ack(), so that the kernel starts writing while we talk to a
 * collector. Only where every byte would be kept anyway (a forward whose
 * fallback is the host store): once sent, the dump can no longer be refused.
 * A no-op in the other modes and once acked.
 */
int intake_ack_early(struct dump *d);

/*
 * Refuses the dump before any byte: REJECT in request mode; in plain and pipe mode closing does it.
 * After an early ack nothing can be refused: the caller's shutdown ends the stream.
 */
int intake_reject(struct dump *d);

/* The reason for a failed intake_ack(): task-gone when the task died, else protocol-error. */
enum dump_reason intake_failure_reason(int error);
