/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Listening AF_UNIX sockets as NETLINK_SOCK_DIAG / UNIX_DIAG reports them.
 * The kernel answers for the network namespace the asking thread is in
 * (the diag socket is created per call, so setns() before calling works).
 *
 * For a listener, pending is the number of connections waiting in the accept
 * queue and backlog the limit given to listen(). The kernel refuses a
 * connect() once pending exceeds backlog; for the coredump socket that
 * refusal is a lost dump (the kernel connects non-blocking and never waits).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* sun_path without its leading NUL (abstract) or terminator (path): 107 bytes. */
#define UNIX_DIAG_NAME_MAX 107

/*
 * Accept queue of the listening socket with this inode (st_ino of the socket
 * fd). -ENOENT if no socket of the current network namespace has that inode,
 * or if it is not listening.
 */
int unix_diag_listener_queue(uint64_t inode, uint32_t *ret_pending, uint32_t *ret_backlog);

struct unix_diag_listener {
        uint64_t inode;
        uint32_t pending;
        uint32_t backlog;
        /*
         * "@name" for an abstract name (bytes after '@' are raw and may hold
         * NULs: name_len counts them), the path as given to bind() for a path
         * socket (may be relative), "" if the kernel sent no name.
         */
        char name[1 + UNIX_DIAG_NAME_MAX + 1];
        size_t name_len;
};

/*
 * Every listening AF_UNIX socket of the current network namespace, in the
 * kernel's order, as one malloc'ed array (free() it). -ENOBUFS beyond a
 * fixed maximum of entries: the namespace's users control how many exist.
 */
int unix_diag_list_listeners(struct unix_diag_listener **ret, size_t *ret_n);
