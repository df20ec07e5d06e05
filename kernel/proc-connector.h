/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel's process events connector (NETLINK_CONNECTOR, CN_IDX_PROC),
 * reduced to PROC_EVENT_COREDUMP. The kernel sends that event from
 * get_signal() before it looks at dumpability, core_pattern or the coredump
 * socket, so it also names crashes whose dump never reaches the socket
 * (non-dumpable tasks, failed connects, a full accept queue).
 *
 * Pids are in the initial pid namespace and come without a pidfd: by the
 * time an event is read the task may be gone and its pid reused. Use them
 * to count and correlate, never to act on a process.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct proc_connector;

struct proc_coredump_event {
        pid_t process_pid;  /* the thread that took the fatal signal */
        pid_t process_tgid; /* its thread group: what the coredump socket sees */
        pid_t parent_pid;   /* real parent; 0 if the task was already unhashed */
        pid_t parent_tgid;
        uint64_t timestamp_ns; /* CLOCK_MONOTONIC (ktime_get_ns) when the kernel sent it */
};

struct proc_connector_result {
        size_t n_events;  /* entries written to events[] */
        bool lost;        /* the kernel dropped messages (ENOBUFS): crashes may be missing */
        unsigned invalid; /* datagrams not from the kernel, malformed messages: skipped */
        bool drained;     /* the socket was read empty: nothing more is queued now */
};

/*
 * Opens a non-blocking, close-on-exec connector socket and subscribes to
 * process events; returns only once the kernel has acknowledged the
 * subscription. Needs CAP_NET_ADMIN (-EPERM), the initial network namespace
 * (-ECONNREFUSED: the connector exists only there) and the initial user and
 * pid namespaces (-EOPNOTSUPP: the kernel ignores other subscribers, as it
 * does on kernels without CONFIG_PROC_EVENTS).
 */
int proc_connector_open(struct proc_connector **ret);

/* The socket, for epoll (EPOLLIN, level-triggered). Owned by pc. */
int proc_connector_fd(const struct proc_connector *pc);

/*
 * Reads what is queued and returns the PROC_EVENT_COREDUMP events, at most
 * max of them; other event types are dropped. Reads a bounded number of
 * messages per call: while more are queued the fd stays readable, so call it
 * again on the next EPOLLIN. Returns 0 and fills *ret (also when nothing was
 * queued). A receive error ends the call: with events or a loss already
 * collected it still returns 0 (a lasting error shows again next call), else
 * -errno.
 */
int proc_connector_read(struct proc_connector *pc, struct proc_coredump_event *events, size_t max,
                        struct proc_connector_result *ret);

/* Unsubscribes (PROC_CN_MCAST_IGNORE), closes and frees; accepts NULL. */
void proc_connector_free(struct proc_connector *pc);
