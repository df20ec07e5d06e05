/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/*
 * One message with optional SCM_RIGHTS. Sending uses MSG_NOSIGNAL. Receiving
 * uses MSG_CMSG_CLOEXEC and is strict: only SOL_SOCKET/SCM_RIGHTS is
 * accepted, the payload must be a whole number of ints, at most max_fds fds,
 * no truncation (MSG_CTRUNC, MSG_TRUNC): anything else closes every fd that
 * came with the message and fails with -EPROTO (or -EMSGSIZE on truncation).
 */
int fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t n_fds);

/* Returns the number of payload bytes; *ret_n_fds fds are stored in fds. */
ssize_t fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t max_fds, size_t *ret_n_fds, int flags);
