/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Socket activation: the listening socket a service manager (systemd, or
 * systemd-socket-activate) passes as fd 3 with LISTEN_PID and LISTEN_FDS.
 * Our own small reading of the protocol, no libsystemd.
 */

#define ACTIVATION_FD_START 3

/*
 * Takes the one socket passed to this process: 1 and its fd (made
 * close-on-exec) when LISTEN_PID is our pid and LISTEN_FDS is 1; 0 when
 * nothing was passed to us; -E2BIG when more than one was, -EBADF when fd 3
 * is not open, -EINVAL when the variables do not parse. The variables are
 * removed from the environment either way: our children were not passed
 * anything.
 */
int activation_take(int *ret_fd);

/*
 * Whether fd is what the daemon serves the kernel on: a socket
 * (-ENOTSOCK), AF_UNIX (-EAFNOSUPPORT), SOCK_STREAM (-EPROTOTYPE),
 * listening (-ENOTCONN), bound to path (-EADDRNOTAVAIL; then, and only then, the path it is
 * bound to in *bound_found, allocated, when it has one: for the error message). Also makes it
 * non-blocking: the daemon accepts until EAGAIN.
 */
int activation_check(int fd, const char *path, char **bound_found);
