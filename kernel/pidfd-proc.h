/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a pidfd tells on kernels that cannot say it themselves, from /proc,
 * with the same guarantee: every fact read through /proc/<pid> counts only
 * if the pidfd's process was still there (not reaped, so its pid was not
 * reused) after the read. kernel/pidfd.c falls back to these when the
 * kernel refuses its ioctls:
 *
 *   PIDFD_GET_INFO            6.13  (6.1: ENOTTY; 6.11/6.12: EINVAL, their
 *                                    namespace ioctls refuse any argument
 *                                    before looking at the command)
 *   PIDFD_GET_*_NAMESPACE     6.11
 *
 * and a process is found from its pidfd by the pidfd's fdinfo ("Pid:", 5.3).
 */

#include <stdint.h>
#include <sys/types.h>

#include "kernel/compat.h"

/* The pid (in our pid namespace) of a pidfd's process; -ESRCH once it is reaped, -EBADF if not a pidfd. */
int pidfd_proc_pid(int pidfd, pid_t *ret);

/*
 * 1 while the process is not reaped, 0 once it is: pidfd_send_signal() with
 * signal 0 (5.1). EPERM means it exists, so no CAP_KILL is needed.
 */
int pidfd_proc_is_alive(int pidfd);

/*
 * PIDFD_GET_INFO emulated: PID (pid, tgid, ppid), CREDS and, when asked
 * for, CGROUPID (the inode of its cgroup2 directory, which is its id) from
 * /proc/<pid>/status and /proc/<pid>/cgroup; COREDUMP says COREDUMPED while
 * the kernel dumps its core ("CoreDumping: 1", 4.15; the dumpability bits
 * stay unknown). Never EXIT: a reaped process gives -ESRCH.
 */
int pidfd_proc_info(int pidfd, uint64_t mask, struct cdp_pidfd_info *ret);

/*
 * A namespace fd of the pidfd's process, PIDFD_GET_*_NAMESPACE emulated:
 * /proc/<pid>/ns/<name> opened, then the pidfd checked.
 */
int pidfd_proc_namespace(int pidfd, unsigned long request);

/*
 * SO_PEERPIDFD emulated (before 6.5) for a socket connected to a listener
 * named name ("@abstract" or "/path", as the listener bound it): SO_PEERCRED
 * names the process that called listen(), but only by a pid number, which
 * may have been reused since. The pidfd of that number counts only if its
 * process holds a listening AF_UNIX socket of that name in its network
 * namespace (its fd table against /proc/<pid>/net/unix), checked against the
 * pidfd afterwards. -EPERM when that cannot be proven.
 */
int pidfd_proc_from_listener(int sock, const char *name);

/*
 * The inodes of the sockets in the fd table of the process behind proc_dir
 * (its /proc/<pid> directory), at most max: their count, -E2BIG when there
 * are more. Reading another process's fd links is ptrace-checked, which a
 * process confined by Landlock always fails: such a process sets a function
 * that asks someone who may (proxy/base/procaccess.c); NULL resets it.
 */
#define PIDFD_PROC_SOCKETS_MAX 1024
int pidfd_proc_socket_inodes(int proc_dir, uint64_t *ret, size_t max);
typedef int (*pidfd_proc_inodes_fn)(int proc_dir, uint64_t *ret, size_t max);
void pidfd_proc_set_socket_inodes(pidfd_proc_inodes_fn fn);

/* Parsers used above, exposed for unit tests. */
int pidfd_proc_parse_fdinfo(const char *fdinfo, pid_t *ret);
int pidfd_proc_parse_status(const char *status, struct cdp_pidfd_info *info, int *ret_core_dumping);
/*
 * The inodes of the listening sockets named name in the text of
 * /proc/<pid>/net/unix (abstract names shown with a leading '@'); returns how
 * many were found (at most max), -EBADMSG on a malformed line.
 */
int pidfd_proc_parse_net_unix(const char *text, const char *name, uint64_t *ret_inodes, size_t max);
