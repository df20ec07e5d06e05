/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_SEC  ((usec_t) 1000000ULL)
#define USEC_PER_MSEC ((usec_t) 1000ULL)

/* CLOCK_MONOTONIC in microseconds; deadlines in the daemon use this clock. */
usec_t io_now(void);
/* CLOCK_REALTIME in microseconds, for timestamps people read. */
usec_t io_now_realtime(void);

/*
 * Waits until fd has one of events or the monotonic deadline passes.
 * Returns the revents (> 0), -ETIMEDOUT, or -errno.
 */
int io_wait(int fd, short events, usec_t deadline);

/* Reads a whole file relative to dirfd (AT_FDCWD for cwd), NUL-terminated, at most max bytes. */
int io_read_file_at(int dirfd, const char *path, size_t max, char **ret, size_t *ret_size);
/*
 * The same for the seq_file-backed files of /proc (stat, status, cgroup,
 * uid_map...): they hand out everything that fits in one read, so a read
 * shorter than the buffer is the whole file and no second read for EOF is
 * needed. A full buffer falls back to io_read_file_at().
 */
int io_read_proc_file_at(int dirfd, const char *path, size_t max, char **ret);
/*
 * Creates the directories leading to path's last component (mode 0755, like
 * any system directory), not the last component itself. Existing ones are
 * fine.
 */
int io_mkdir_parents(const char *path);
/* Writes all of buf, retrying short writes and EINTR. */
int io_write_all(int fd, const void *buf, size_t len);
/* Writes a string to a file that must already exist (sysctls, cgroup.procs). */
int io_write_string_file(const char *path, const char *s);
/* Reads exactly len bytes from a stream fd, waiting at most until deadline; -EPIPE on EOF. */
int io_read_exact(int fd, void *buf, size_t len, usec_t deadline);
/* Checks that fd refers to an inode of the given S_IFMT type; -ENOTSOCK, -EBADFD otherwise. */
int io_fd_check_type(int fd, mode_t type);
/*
 * 1 when a pipe's first unread bytes are the ELF magic, 0 when they are
 * something else, -errno when they cannot be seen by deadline. Consumes
 * nothing: the bytes are duplicated with tee(2) into a pipe of our own.
 */
int io_pipe_starts_with_elf(int fd, usec_t deadline);
/* Sets or clears O_NONBLOCK. */
int io_fd_nonblock(int fd, bool nonblock);
