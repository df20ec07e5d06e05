/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The control socket: an AF_UNIX stream socket beside the kernel socket
 * (<listen.path>.control), mode 0600, and each client must be uid 0
 * (SO_PEERCRED). A client sends one request (proxy/protocol/control-msg.h),
 * shuts its side down and reads the reply to EOF: `coredump-proxy status`
 * asks for the status document, coredump-proxy-hook registers containers.
 *
 * The event loop serves it without blocking: each client is watched until
 * its request is complete, at most CONTROL_CLIENTS_MAX at once, each for at
 * most CONTROL_CLIENT_TIMEOUT; a reply that does not fit the socket now is
 * cut.
 */

#include <stddef.h>

#include "kernel/io.h"
#include "proxy/protocol/control-msg.h"

#define CONTROL_CLIENTS_MAX    16
#define CONTROL_CLIENT_TIMEOUT (2 * USEC_PER_SEC)

int control_path(const char *listen_path, char **ret);
/* The public one beside it (<listen.path>.metrics): counters for `coredump-proxy metrics`. */
int control_metrics_path(const char *listen_path, char **ret);

/* The reply to a request; pidfd is the fd that came with it (-EBADF none), the handler's to use, not close.
 */
typedef int (*control_handler_fn)(void *userdata, const struct control_request *q, int pidfd, char **ret,
                                  size_t *ret_len);

struct control;

/* Listens on path; clients are added to epoll_fd as they connect. */
int control_new(const char *path, int epoll_fd, control_handler_fn handler, void *userdata,
                struct control **ret);
/* The same, mode 0666 and any peer's uid: handler answers what anyone may know, nothing else. */
int control_new_public(const char *path, int epoll_fd, control_handler_fn handler, void *userdata,
                       struct control **ret);
/* Closes every client and the socket, and unlinks it. */
void control_free(struct control *c);
int control_listen_fd(const struct control *c);

/* The listening socket is readable: takes the clients waiting, refusing those that are not root. */
void control_on_listen(struct control *c);
/* An event on fd: false when fd is not one of its clients. */
bool control_on_client(struct control *c, int fd);
/* When the next client times out (USEC_INFINITY: none waits); and drops those that did. */
usec_t control_next_deadline(const struct control *c);
void control_expire(struct control *c, usec_t now);

/*
 * Client side: sends request (with fd as SCM_RIGHTS unless -EBADF), and
 * reads the reply (at most max bytes) before deadline.
 */
int control_call(const char *path, const char *request, size_t len, int fd, usec_t deadline, size_t max,
                 char **ret, size_t *ret_len);
/* The status document of the daemon listening on path. */
int control_query(const char *path, char **ret);
