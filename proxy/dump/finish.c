/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/pidfd.h"
#include "proxy/base/log.h"
#include "proxy/dump/describe.h"
#include "proxy/dump/finish.h"

static void write_event(struct dump *d)
{
        char *line = NULL;
        size_t len = 0;
        int r;

        r = describe_event(d, &line, &len);
        if (r >= 0)
                r = event_log_submit(d->setup->events, line, len);
        if (r < 0 && r != -ENOBUFS)
                log_error("%s: the event line could not be written to %s: %s", d->id,
                          event_log_path(d->setup->events), strerror(-r));
}

/*
 * A pipe cannot be shut down: the kernel keeps the task until every reader
 * has closed it (core_pipe_limit > 0). Ours goes now; a dump that failed may
 * still sit in a collector that stopped reading, or the kernel may still be
 * writing: SIGKILL to the task ends both, as the shutdown does for a socket.
 * Only then: a kill before the kernel's wait ends would clear WCOREDUMP of a
 * core that was delivered.
 */
static void release_pipe(struct dump *d)
{
        d->fd = safe_close(d->fd);
        if (d->outcome == OUTCOME_FAILED && d->pidfd >= 0 && pidfd_has_exited(d->pidfd) == 0)
                (void) pidfd_kill(d->pidfd);
}

void dump_finish(struct dump *d, const struct dump_env *env)
{
        dump_set_state(d, DUMP_DONE);
        /*
         * shutdown, not only close: a collector may still hold a copy of the
         * connection, and only a shutdown releases a task in COREDUMP_WAIT.
         * The fds themselves stay open until dump_free(), so that nobody else
         * (a stop shutting down every dump in flight) can hit a reused number.
         */
        if (d->mode == DUMP_MODE_PIPE)
                release_pipe(d);
        else if (d->fd >= 0)
                (void) shutdown(d->fd, SHUT_RDWR);
        if (d->collector_fd >= 0)
                (void) shutdown(d->collector_fd, SHUT_RDWR);

        if (d->holds_slot && env->concurrency)
                concurrency_leave(env->concurrency, d->limit_key);
        if (env->stats)
                stats_finished(env->stats, d->outcome, d->reason,
                               d->in_container ? (int) d->container.runtime : -1,
                               d->record.kept ? d->record.bytes : 0, io_now() - d->accepted_at);
        write_event(d);
        log_message(d->outcome == OUTCOME_FAILED ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
                    "%s: pid %u (%s) %s: %s, reason %s", d->id, d->task.pid,
                    d->task.comm[0] ? d->task.comm : "?",
                    d->in_container ? runtime_to_string(d->container.runtime) : "host",
                    dump_outcome_to_string(d->outcome), dump_reason_to_string(d->reason));
}
