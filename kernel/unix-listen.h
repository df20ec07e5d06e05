/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

/*
 * A listening AF_UNIX socket at address ("@name" abstract, or "/path"),
 * CLOEXEC and non-blocking. A path gets mode (the umask is set around
 * bind(): call it before any thread starts); a socket left at the path by
 * an earlier run is replaced, anything else there is refused with -EEXIST.
 */
int unix_listen(const char *address, int type, int backlog, mode_t mode);

/* The same without listen(): a bound socket, for datagrams. */
int unix_bind(const char *address, int type, mode_t mode);
