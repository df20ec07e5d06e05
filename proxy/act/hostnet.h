/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The host's network namespace is the initial one, wherever the daemon
 * runs: anyone on the node can bind an abstract name there, so no dump is
 * ever forwarded into it. The proof comes from the kernel itself where it
 * can: the kernel connects to the coredump socket from the initial
 * namespace, so the kernel connection's SO_NETNS_COOKIE is the initial
 * namespace's, to compare with that of a socket made in the task's
 * namespace. Else the initial namespace's inode, found at start-up
 * (proxy/daemon/start.c), or its fixed number (6.18+). What cannot be told
 * apart from the host's is treated as the host's.
 */

#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/*
 * 0: netns_fd (the task's network namespace, where sock was made) is
 * provably not the host's. 1: it is, or it cannot be told; *ret_why
 * (static) says which.
 */
int hostnet_check(const struct dump *d, const struct dump_env *env, int netns_fd, int sock,
                  const char **ret_why);
