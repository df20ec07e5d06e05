/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The forward action: hand the kernel connection to the container's own
 * collector (docs/collector-protocol.md), never copying a byte of it.
 */

#include <sys/socket.h>
#include <sys/un.h>

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/*
 * Watch: the collector has the stream; its result comes through the watch
 * (proxy/act/watch.c). Done: failed while handing it over. Fallback: the
 * reason the forward did not happen; then no byte of the stream has been
 * read, and in request mode the kernel still waits for its ack.
 */
struct act_result act_forward(struct dump *d, const struct dump_env *env);

/*
 * Message 4, once the collector's socket is readable (or hung up): done
 * (delivered only with a byte count and no error; failed), or fallback
 * when the collector read nothing of the stream and says so.
 */
struct act_result forward_collect(struct dump *d);

/*
 * A socket path inside the task's root (RESOLVE_IN_ROOT: no ".." or symlink
 * leads out of it): *ret_fd an O_PATH fd of the socket, kept open while
 * *ret_sa (its /proc/self/fd name) is connected to. Also used by the
 * systemd action's "where": "container".
 */
int forward_resolve_path(struct dump *d, const char *path, int *ret_fd, struct sockaddr_un *ret_sa,
                         socklen_t *ret_len);
