/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/pidfd.h"
#include "proxy/base/log.h"
#include "proxy/dump/describe.h"
#include "proxy/dump/finish.h"
#include "proxy/store/summarize.h"
#include "proxy/store/upload.h"

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

/* After the task was released: the host store's upload command, run by its runner (store.exec). */
static void submit_upload(const struct dump *d, const struct dump_env *env)
{
        char f[10][512];
        const char *fields[10];
        size_t n = 0, len;
        int r;

        if (env->upload_fd < 0 || d->outcome != OUTCOME_STORED || !d->core_path)
                return;
        len = strlen(d->core_path);
        len -= len >= 9 && strcmp(d->core_path + len - 9, ".core.zst") == 0 ? 9 : MIN(len, (size_t) 5);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_ID=%s", d->id);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_CORE=%s", d->core_path);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_METADATA=%.*s.json", (int) len, d->core_path);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_BYTES=%llu", (unsigned long long) d->record.bytes);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_STORED_BYTES=%llu",
                        (unsigned long long) d->record.stored_bytes);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_TRUNCATED=%d", d->record.cut != NULL);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_SIGNAL=%d", d->record.signal);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_PID=%u", d->task.pid);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_COMM=%s", d->task.comm);
        if (d->in_container && d->container.id)
                (void) snprintf(f[n++], sizeof(f[0]), "CDP_CONTAINER_ID=%s", d->container.id);
        for (size_t i = 0; i < n; i++)
                fields[i] = f[i];
        r = upload_submit(env->upload_fd, fields, n);
        if (r < 0)
                log_warning("%s: the upload command was not queued: %s", d->id, strerror(-r));
}

/* After the task was released: the crash summary, merged into <id>.json later (store.summary). */
static void submit_summary(const struct dump *d, const struct dump_env *env)
{
        int r;

        if (env->summary_fd < 0 || d->outcome != OUTCOME_STORED || !d->core_path)
                return;
        r = summarize_submit(env->summary_fd, d->id);
        if (r < 0)
                log_warning("%s: no crash summary: the runner is behind (%s)", d->id, strerror(-r));
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
        submit_upload(d, env);
        submit_summary(d, env);
        log_message(d->outcome == OUTCOME_FAILED ? LOG_LEVEL_WARNING : LOG_LEVEL_INFO,
                    "%s: pid %u (%s) %s: %s, reason %s", d->id, d->task.pid,
                    d->task.comm[0] ? d->task.comm : "?",
                    d->in_container ? runtime_to_string(d->container.runtime) : "host",
                    dump_outcome_to_string(d->outcome), dump_reason_to_string(d->reason));
}
