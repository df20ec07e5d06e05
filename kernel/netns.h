/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "kernel/io.h"

/*
 * Creates a socket inside the network namespace of ns_fd (a pidfd or a
 * netns fd) and returns it, with the calling thread back in its own
 * namespace. The switch is per thread; the socket stays in the target
 * namespace, which is what abstract names are looked up in.
 */
int netns_socket(int ns_fd, int domain, int type);

/*
 * netns_socket() plus a non-blocking connect to addr, waited for until
 * deadline. Returns the connected socket (blocking mode, CLOEXEC).
 */
int netns_connect_unix(int ns_fd, int type, const struct sockaddr_un *addr, socklen_t addrlen,
                       usec_t deadline);

/*
 * The connect of netns_connect_unix() on a socket made before (with
 * SOCK_NONBLOCK): waits for room in a full backlog until deadline, then
 * puts the socket back in blocking mode.
 */
int netns_connect_wait(int fd, const struct sockaddr_un *addr, socklen_t addrlen, usec_t deadline);

/* SO_NETNS_COOKIE: a number that names the socket's network namespace, unique for the boot. */
int netns_cookie(int sock, uint64_t *ret_cookie);

/*
 * The inode of the initial network namespace, found from this process
 * (*ret_how says how): our own namespace when it has the initial number
 * (6.18+); else kthreadd's (pid 2 of the initial pid namespace, a kernel
 * thread, which never leaves the initial namespaces), or PID 1's, when our
 * /proc is the initial pid namespace's. -ENOENT when nothing here can tell.
 */
int netns_find_initial(uint64_t *ret_ino, const char **ret_how);

/*
 * The initial mount namespace, where the kernel takes a socket core_pattern
 * from (it refuses one written from any other with EINVAL). Returns 0 with
 * *ret_fd = -EBADF when we are in it; 1 with *ret_fd an open nsfs fd (and
 * *ret_how, static, saying whose) when we are in another one and can reach
 * the initial one through the initial pid namespace's /proc (kthreadd, else
 * PID 1); -ENOENT when we are in another one, or cannot tell, and nothing
 * here leads to it (no host pid namespace); -EACCES and the like from the
 * open.
 */
int mntns_open_initial(int *ret_fd, const char **ret_how);

/* Builds a sockaddr_un for "@name" (abstract) or "/path"; returns the address length. */
int netns_sockaddr_un(const char *address, struct sockaddr_un *ret, socklen_t *ret_len);

/* Identity of a namespace fd (or /proc/self/ns/net): its inode, for same-namespace checks. */
int netns_inode(int ns_fd, uint64_t *ret_ino);
