/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The control socket behind `coredump-proxy status`: an AF_UNIX stream
 * socket beside the kernel socket (<listen.path>.control), mode 0600, and
 * each client must be uid 0 (SO_PEERCRED). A client connects and reads one
 * JSON document to EOF.
 */

#include <stddef.h>

int control_path(const char *listen_path, char **ret);
int control_listen(const char *path);

typedef int (*control_build_fn)(void *userdata, char **ret, size_t *ret_len);

/* Serves every pending client without blocking: a client that does not read is dropped. */
void control_serve(int listen_fd, control_build_fn build, void *userdata);

/* Client side: the status document of the daemon listening on path. */
int control_query(const char *path, char **ret);
