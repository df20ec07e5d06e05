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

/*
 * What the kernel takes for whitespace when it splits a pipe pattern into
 * argv (argv_split(), isspace() of its Latin-1 ctype table: 0xa0 too) and
 * what a socket pattern reserves for parameters: never inside a path.
 */
#define CORE_PATTERN_SPACES " \t\n\v\f\r\xa0"

enum core_pattern_kind {
        CORE_PATTERN_FILE,
        CORE_PATTERN_PIPE,           /* "|helper ..." */
        CORE_PATTERN_SOCKET,         /* "@/path", 6.16 */
        CORE_PATTERN_SOCKET_REQUEST, /* "@@/path", 6.17 */
};

struct core_modes {
        bool listed; /* kernel.core_modes exists (6.16+): what follows is what it says */
        bool file;
        bool pipe;
        bool socket;         /* core_modes lists "socket": "@" works (6.16+) */
        bool socket_request; /* "@@" was accepted by a write (6.17+); only known after a probe */
        bool pipe_pidfd;     /* the kernel expands %F, the crashing task's pidfd, for pipe helpers (6.16) */
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

/*
 * Every write of core_pattern and core_pipe_limit below goes through fn
 * (sysctl path, the value): a process outside the initial mount namespace
 * has them written from there (proxy/daemon/hostmnt.c). NULL: plain writes.
 */
typedef int (*core_pattern_writer_fn)(const char *sysctl_path, const char *value);
void core_pattern_set_writer(core_pattern_writer_fn fn);

/* Reads kernel.core_modes (6.16+); -ENOENT on older kernels (no socket mode). */
int core_pattern_read_modes(struct core_modes *ret);

/*
 * The words of kernel.core_modes ("file\npipe\nsocket"); unknown words are
 * skipped. Sets listed and, since %F came with the file, pipe_pidfd.
 */
int core_modes_parse(const char *text, struct core_modes *ret);

/*
 * What the running kernel offers, by what it says, never by its version:
 * kernel.core_modes when it exists; without it (before 6.16) files and
 * pipes only, which every kernel since 2.6.19 has. socket_request stays
 * unknown (false) until a write probes it.
 */
int core_pattern_detect_modes(struct core_modes *ret);

/*
 * The pipe pattern of the pipe intake:
 *
 *   |HELPER LISTEN P=%P s=%s t=%t d=%d[ F=%F]
 *
 * LISTEN is the daemon's socket path, from which the helper finds the
 * daemon; the kernel's facts come as KEY=VALUE words, so a helper can tell
 * which ones this kernel expanded. %F only where the kernel knows it
 * (modes->pipe_pidfd): an older kernel drops an unknown specifier silently.
 * Neither path may hold whitespace (the kernel splits the arguments there)
 * or '%' (it would be expanded); -ENAMETOOLONG beyond CORE_PATTERN_MAX.
 */
int core_pattern_format_pipe(const char *helper, const char *listen_path, const struct core_modes *modes,
                             char **ret);

/*
 * The helper and the first argument of a pipe pattern (both allocated);
 * -EINVAL for a pattern that is not a pipe or has no argument.
 */
int core_pattern_parse_pipe(const char *pattern, char **ret_helper, char **ret_first_arg);

/*
 * Whether this process runs in the initial mount namespace: 1 yes, 0 no,
 * -ENOENT when it cannot be told from here (outside the host's pid
 * namespace on a kernel before 6.18, which numbers the initial namespaces).
 */
int core_pattern_mount_ns_initial(void);

/*
 * Installs a socket pattern for path and returns the pattern that was there
 * before, to be given back to core_pattern_restore(). With want_request the
 * "@@" form is tried first and, if the kernel refuses it (6.16: EINVAL at
 * write time), "@" is used; *ret_request says which one is in force.
 * -EXDEV, before anything is written, from a mount namespace other than the
 * initial one: the kernel refuses every socket pattern written from there.
 */
int core_pattern_install(const char *path, bool want_request, char **ret_previous, bool *ret_request);

/* Writes back a previous pattern exactly. */
int core_pattern_restore(const char *previous);

/*
 * Installs a pipe pattern (core_pattern_format_pipe()) and raises
 * kernel.core_pipe_limit to at least pipe_limit first: only with a limit
 * above 0 does the kernel keep the crashing task until every reader of the
 * pipe has closed it, and it skips the dumps beyond that many at once.
 * Returns the previous pattern and limit for core_pattern_restore_pipe();
 * on failure nothing is left changed.
 */
int core_pattern_install_pipe(const char *pattern, unsigned pipe_limit, char **ret_previous,
                              unsigned *ret_previous_limit);

/*
 * Writes back the previous pattern, then the previous core_pipe_limit, but
 * the limit only while it still is ours (someone who changed it since wins).
 */
int core_pattern_restore_pipe(const char *previous, unsigned previous_limit, unsigned our_limit);

/* Sets kernel.core_pipe_limit. */
int core_pattern_write_pipe_limit(unsigned limit);

/* Reads an unsigned sysctl such as core_pipe_limit. */
int core_pattern_read_sysctl_uint(const char *path, unsigned *ret);
