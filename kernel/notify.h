/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The service manager's readiness protocol (sd_notify): datagrams of
 * "KEY=VALUE" lines to the AF_UNIX socket NOTIFY_SOCKET names, a path or,
 * with a leading '@', an abstract address. Our own small implementation.
 */

/*
 * A datagram socket connected to NOTIFY_SOCKET, opened while the process
 * may still connect anywhere (before the sandbox): 1 and the fd; 0 when
 * NOTIFY_SOCKET is unset (nobody listens); -EINVAL for an address that is
 * neither a path nor abstract or is too long.
 */
int notify_open(int *ret_fd);

/* Sends one message ("READY=1\nSTATUS=..."); never blocks. */
int notify_send(int fd, const char *message);
