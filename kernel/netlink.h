/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * libnl folds errnos into its own codes and loses some on the way
 * (ECONNREFUSED becomes NLE_FAILURE, ENOBUFS becomes NLE_NOMEM). Right after
 * a failed libnl call errno still holds the syscall's value: the -errno is
 * that value when it is the one that maps to libnl's code, else the code
 * translated. Shared by the proc connector and UNIX_DIAG.
 */
int netlink_errno(int nlerr, int saved_errno);

#include <netlink/msg.h>
#include <netlink/socket.h>

#include "kernel/cleanup.h"

/* libnl's sockets and messages as owned locals, for the netlink users in kernel/. */
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);

/*
 * A libnl socket connected to protocol (SOCK_CLOEXEC), with libnl's own
 * sequence checks and auto-acks off: the connector's multicasts carry the
 * kernel's sequence numbers, and sock_diag replies are checked by the caller.
 */
int netlink_open(int protocol, struct nl_sock **ret);
