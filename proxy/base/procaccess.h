/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the kernel lets us see of another task only after a ptrace access
 * check (ptrace_may_access): its network namespace, its root directory, its
 * exe link, the exit code in its stat (the signal, before 6.19), its
 * namespace links, its fd table (whose sockets: SO_PEERPIDFD emulated
 * before 6.5). Landlock fails every such check from a confined process
 * to a task outside its own domain, that is to every crashing task: once
 * its writes are confined (confine.c), the daemon asks its keeper, which is
 * not confined by Landlock, through a broker socket. The keeper answers a
 * fixed set of requests about a task the daemon names by an fd (a pidfd,
 * or its /proc/<pid> directory, already checked against the pidfd): it
 * returns what the kernel gave it and parses nothing.
 *
 * Whatever the daemon gets this way it could get before Landlock; none of
 * it is a way to write: a root directory fd of another mount namespace still
 * leads only to paths outside the daemon's allowed ones.
 *
 * Without a broker (tests, start-up) the calls are made directly.
 */

#include <stdint.h>

/* The network namespace of a pidfd's task (PIDFD_GET_NET_NAMESPACE). */
int procaccess_netns(int pidfd);

/* An O_PATH fd of a task's root directory (<proc dir>/root). */
int procaccess_root(int proc_dir_fd);

/* The target of <proc dir>/exe. */
int procaccess_exe(int proc_dir_fd, char **ret);

/* <proc dir>/stat, whole, with the fields only a ptrace-capable reader sees. */
int procaccess_stat(int proc_dir_fd, char **ret);

/* The inode of the task's user namespace (<proc dir>/ns/user). */
int procaccess_userns_ino(int proc_dir_fd, uint64_t *ret);

/*
 * Everything a dump needs of its task that is behind a ptrace check, in one
 * question (one round trip to the keeper instead of one per fact): its stat
 * (the signal), exe link, root (as a path), user namespace and network
 * namespace (an fd). Each fact has its own error: a task may show some.
 */
struct procaccess_task {
        int stat_error, exe_error, root_error, userns_error, netns_error;
        char *stat;
        char *exe;
        char *root;
        uint64_t userns_ino;
        int netns_fd;
};
int procaccess_task(int proc_dir_fd, struct procaccess_task *ret);
void procaccess_task_done(struct procaccess_task *t);

/* The inodes of the sockets in a task's fd table (<proc dir>/fd/N links): their count, at most max. */
int procaccess_socket_inodes(int proc_dir_fd, uint64_t *ret, size_t max);

/* In the daemon: from now on ask through fd (a SOCK_SEQPACKET to the keeper). Not thread-safe: at start-up.
 */
void procaccess_use_broker(int fd);

/*
 * In the keeper: answers one request waiting on fd. -EPIPE once the daemon
 * closed its end; a request it does not know or whose fd is of the wrong
 * kind is answered with an error, never acted on.
 */
int procaccess_serve(int fd);
