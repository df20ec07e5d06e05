/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the kernel says about a socket and its peer (SOL_SOCKET options),
 * each as a plain query: no policy here.
 */

#include <stdint.h>
#include <sys/socket.h>

/* SO_DOMAIN and SO_TYPE (without SOCK_NONBLOCK/SOCK_CLOEXEC). */
int sockopt_kind(int fd, int *ret_domain, int *ret_type);

/*
 * SO_NETNS_COOKIE (5.14): the network namespace the socket was created in,
 * as a number unique per boot. -ENOPROTOOPT on older kernels.
 */
int sockopt_netns_cookie(int fd, uint64_t *ret);

/*
 * SO_PEERCRED: the peer's tgid, effective uid and gid at connect() (or
 * socketpair()), as the caller's namespaces see them: pid 0 when the peer is
 * outside the caller's pid namespace, ids unmapped in the caller's user
 * namespace read as the overflow ids (65534). An unconnected socket reads
 * pid 0 and ids -1.
 */
int sockopt_peer_cred(int fd, struct ucred *ret);
