/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Nothing vanishes: every coredump the kernel starts (the proc connector)
 * is matched with a connection on our socket; those that never arrive are
 * reported, as event lines of their own.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd.h"
#include "kernel/proc-connector.h"
#include "proxy/base/log.h"
#include "proxy/daemon/accounting.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/state.h"
#include "proxy/dump/describe.h"

/* Best effort, for the report only: the task is inside get_signal() now, but nothing holds its pid for us.
 */
static void describe_started(pid_t tgid, char **ret_comm, bool *ret_skip)
{
        _cleanup_close_ int pidfd = -EBADF;
        struct cdp_pidfd_info info = {};
        char path[64];

        (void) snprintf(path, sizeof(path), "/proc/%d/comm", (int) tgid);
        if (io_read_file_at(AT_FDCWD, path, 64, ret_comm, NULL) >= 0)
                (*ret_comm)[strcspn(*ret_comm, "\n")] = 0;
        pidfd = (int) syscall(SYS_pidfd_open, tgid, 0);
        *ret_skip = pidfd >= 0 && pidfd_get_info(pidfd, PIDFD_INFO_COREDUMP, &info) >= 0 &&
                    (info.coredump_mask & PIDFD_COREDUMP_SKIP);
}

bool lost_on_connector(struct daemon *m)
{
        struct proc_coredump_event events[64];
        struct proc_connector_result res;
        int r;

        r = proc_connector_read(m->connector, events, ARRAY_SIZE(events), &res);
        if (r < 0) {
                log_warning_errno(r, "reading the proc connector");
                return false;
        }
        if (res.lost)
                log_warning("the kernel dropped process events: some crashes may go uncounted");
        for (size_t i = 0; i < res.n_events; i++) {
                pid_t tgid = events[i].process_tgid;
                _cleanup_free_ char *comm = NULL;
                bool skip = false;

                /* The common case costs nothing more: the dump already reached us. */
                if (accounting_settle(m->accounting, tgid, io_now()))
                        continue;
                /* Crashes under another handler's pattern are not ours to count. */
                if (!pattern_points_at(m->socket_path, NULL))
                        continue;
                describe_started(tgid, &comm, &skip);
                accounting_started(m->accounting, tgid, comm, skip, io_now(), io_now_realtime());
        }
        return !res.drained;
}

/*
 * The kernel announces a crash (PROC_EVENT_COREDUMP) just before it connects
 * to us. Read at once, the dump has not arrived yet, and each crash would cost
 * a wake-up of the loop, core_pattern and the task's comm. So the first event
 * only sets a time: CONNECTOR_BATCH later every event queued since is read in
 * one go, and the dumps that did arrive settle at the cost of a lookup. The
 * connector is watched one-shot and armed again once read.
 */
#define CONNECTOR_BATCH (5 * USEC_PER_MSEC)

void lost_on_wake(struct daemon *m)
{
        if (m->connector_due == USEC_INFINITY)
                m->connector_due = io_now() + CONNECTOR_BATCH;
}

void lost_read_due(struct daemon *m)
{
        struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT };

        if (!m->connector || m->connector_due == USEC_INFINITY || io_now() < m->connector_due)
                return;
        m->connector_due = USEC_INFINITY;
        /* Everything queued, before the next wake-up is armed: a storm must not outrun us. */
        for (unsigned i = 0; i < 64 && lost_on_connector(m); i++)
                ;
        ev.data.fd = proc_connector_fd(m->connector);
        if (epoll_ctl(m->epoll_fd, EPOLL_CTL_MOD, ev.data.fd, &ev) < 0)
                log_warning_errno(errno, "re-arming the proc connector: lost dumps go uncounted");
}

void lost_expire(struct daemon *m)
{
        struct lost_crash lost[32];
        size_t n;

        while ((n = accounting_expire(m->accounting, io_now(), lost, ARRAY_SIZE(lost))) > 0)
                for (size_t i = 0; i < n; i++) {
                        char *line = NULL;
                        size_t len;

                        log_warning("pid %d (%s) crashed but its dump never reached the socket: %s",
                                    (int) lost[i].tgid, lost[i].comm[0] ? lost[i].comm : "?",
                                    dump_reason_to_string(lost[i].reason));
                        stats_lost(m->env.stats, (uint32_t) lost[i].tgid, lost[i].comm, lost[i].reason,
                                   lost[i].wall);
                        if (describe_lost(lost[i].tgid, lost[i].comm, lost[i].reason, lost[i].wall, &line,
                                          &len) >= 0)
                                (void) event_log_submit(m->setup->events, line, len);
                }
}
