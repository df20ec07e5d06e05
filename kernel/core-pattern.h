/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#define CORE_PATTERN_SYSCTL    "/proc/sys/kernel/core_pattern"
#define CORE_MODES_SYSCTL      "/proc/sys/kernel/core_modes"
#define CORE_PIPE_LIMIT_SYSCTL "/proc/sys/kernel/core_pipe_limit"
/* What the kernel starts with. */
#define CORE_PATTERN_DEFAULT "core"
/* The kernel's CORENAME_MAX_SIZE. */
#define CORE_PATTERN_MAX 128

enum core_pattern_kind {
        CORE_PATTERN_FILE,
        CORE_PATTERN_PIPE,           /* "|helper ..." */
        CORE_PATTERN_SOCKET,         /* "@/path", 6.16 */
        CORE_PATTERN_SOCKET_REQUEST, /* "@@/path", 6.17 */
};

struct core_modes {
        bool file;
        bool pipe;
        bool socket;         /* core_modes lists "socket": "@" works (6.16+) */
        bool socket_request; /* "@@" was accepted by a write (6.17+); only known after a probe */
};

/*
 * Validates a socket path the way the kernel does when the pattern is
 * written and when it dumps: absolute, shorter than 108 bytes, no ".."
 * component, no spaces (reserved for future parameters). -EINVAL otherwise.
 */
int core_pattern_validate_socket_path(const char *path);

/*
 * The kernel resolves the socket path with LOOKUP_NO_SYMLINKS from init's
 * root: a symlink anywhere in it makes every dump fail with ELOOP. Checks
 * the components that exist; -ELOOP if one is a symlink.
 */
int core_pattern_check_no_symlinks(const char *path);

/* Splits a whole pattern into its kind and, for sockets, the path (a pointer into pattern). */
int core_pattern_parse(const char *pattern, enum core_pattern_kind *ret_kind, const char **ret_path);

/* Builds "@@path" or "@path" after validating path. */
int core_pattern_format_socket(const char *path, bool request, char **ret);

/* Reads the current pattern without the trailing newline. */
int core_pattern_read(char **ret);
int core_pattern_write(const char *pattern);

/* Reads kernel.core_modes (6.16+); -ENOENT on older kernels (no socket mode). */
int core_pattern_read_modes(struct core_modes *ret);

/*
 * Installs a socket pattern for path and returns the pattern that was there
 * before, to be given back to core_pattern_restore(). With want_request the
 * "@@" form is tried first and, if the kernel refuses it (6.16: EINVAL at
 * write time), "@" is used; *ret_request says which one is in force.
 */
int core_pattern_install(const char *path, bool want_request, char **ret_previous, bool *ret_request);

/* Writes back a previous pattern exactly. */
int core_pattern_restore(const char *previous);

/* Reads an unsigned sysctl such as core_pipe_limit. */
int core_pattern_read_sysctl_uint(const char *path, unsigned *ret);
