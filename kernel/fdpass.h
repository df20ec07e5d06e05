/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
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

/*
 * Who sent a message, as the kernel attached it to a receiver that enabled
 * SO_PASSCRED and SO_PASSPIDFD: SCM_CREDENTIALS (pid in our pid namespace,
 * uid and gid in our user namespace: the sender's real ones unless it
 * claimed others it may use) and SCM_PIDFD (6.5+: the sending process
 * itself, or -EBADF when none came or the kernel could not make one).
 */
struct fdpass_sender {
        bool have_ucred;
        pid_t pid;
        uid_t uid;
        gid_t gid;
        int pidfd;
};

/*
 * One message whose only ancillary data may be one SCM_CREDENTIALS and at
 * most one SCM_PIDFD, each of exactly its size. SCM_RIGHTS, anything else,
 * a repeat or truncation: every fd that came is closed, -EPROTO (-EMSGSIZE
 * on truncation). On success the caller owns ret_sender->pidfd.
 */
ssize_t fdpass_recv_sender(int sock, void *buf, size_t len, struct fdpass_sender *ret_sender, int flags);
