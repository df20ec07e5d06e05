/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kernel/compat.h"

/*
 * For tests on a newer kernel: behave as one without these features, so the
 * /proc fallbacks (kernel/pidfd-proc.h) run where the kernel would not make
 * them. Never called outside fault injection.
 */
enum {
        PIDFD_COMPAT_GET_INFO = 1 << 0,   /* as before 6.13 */
        PIDFD_COMPAT_NAMESPACES = 1 << 1, /* as before 6.11 */
        PIDFD_COMPAT_PEERPIDFD = 1 << 2,  /* as before 6.5 */
};
void pidfd_compat_force(unsigned features);

/* The pidfd of the process at the other end of a connected AF_UNIX socket (SO_PEERPIDFD). */
int pidfd_from_peer(int sockfd);

/*
 * The same for a socket connected to a listener bound to name ("@abstract"
 * or "/path"): SO_PEERPIDFD, or before 6.5 the listener's pid from
 * SO_PEERCRED proven to be the same process (pidfd_proc_from_listener()).
 */
int pidfd_from_listener(int sockfd, const char *name);

/*
 * PIDFD_GET_INFO with the largest layout we know, so that every kernel fills
 * what it has and zeroes the rest. Fields are valid only where ret->mask says
 * so; fields of bits the kernel did not return are zeroed here, never guessed.
 */
int pidfd_get_info(int pidfd, uint64_t mask, struct cdp_pidfd_info *ret);

/* A namespace fd (PIDFD_GET_*_NAMESPACE ioctl) of a live task. */
int pidfd_get_namespace(int pidfd, unsigned long request);

/*
 * 1 while the process has not been reaped (its pid cannot be reused, so a
 * /proc/<pid> opened before this check names it), 0 once it is gone.
 */
int pidfd_is_alive(int pidfd);

/*
 * SIGKILL to the process, which ends a coredump the kernel is writing or
 * waiting on (its pipe readers); 0 when it is gone already.
 */
int pidfd_kill(int pidfd);

/* 1 once the process has exited (a zombie included): its pidfd polls readable. */
int pidfd_has_exited(int pidfd);

/* Opens /proc/<pid> as a directory fd and checks that it still names the pidfd's process. */
int pidfd_open_proc_dir(int pidfd, uint32_t pid);
