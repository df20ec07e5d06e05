/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "kernel/cleanup.h"
#include "proxy/base/utc.h"
#include "proxy/dump/dump.h"

static const char *const state_names[_DUMP_STATE_MAX] = {
        [DUMP_ACCEPTED] = "accepted", [DUMP_IDENTIFIED] = "identified", [DUMP_ROUTED] = "routed",
        [DUMP_ACKED] = "acked",       [DUMP_STREAMING] = "streaming",   [DUMP_DONE] = "done",
};

static const char *const mode_names[_DUMP_MODE_MAX] = {
        [DUMP_MODE_REQUEST] = "request",
        [DUMP_MODE_PLAIN] = "plain",
        [DUMP_MODE_PIPE] = "pipe",
};

const char *dump_state_to_string(enum dump_state s)
{
        return (size_t) s < ARRAY_SIZE(state_names) ? state_names[s] : NULL;
}

const char *dump_mode_to_string(enum dump_mode m)
{
        return (size_t) m < ARRAY_SIZE(mode_names) ? mode_names[m] : NULL;
}

int dump_new(int fd, int pidfd, pid_t peer_pid, struct proxy_setup *setup, struct dump **ret)
{
        struct dump *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->fd = fd;
        d->pidfd = pidfd;
        d->peer_pid = peer_pid;
        d->collector_fd = -EBADF;
        d->helper_fd = -EBADF;
        d->pipe_dumpable = -1;
        d->task.ns_uid = d->task.ns_gid = d->task.ns_root_uid = -1;
        d->accepted_at = io_now();
        d->accepted_wall = io_now_realtime();
        /* Saturating: a configured dump_timeout is bounded, but a deadline must never wrap. */
        d->deadline =
                d->accepted_at + MIN(setup->config->limits.dump_timeout, USEC_INFINITY - d->accepted_at);
        d->setup = setup_ref(setup);
        dump_make_id(d->id, d->accepted_wall);
        dump_describe(d);
        *ret = d;
        return 0;
}

void dump_free(struct dump *d)
{
        if (!d)
                return;
        d->fd = safe_close(d->fd);
        d->pidfd = safe_close(d->pidfd);
        d->collector_fd = safe_close(d->collector_fd);
        d->helper_fd = safe_close(d->helper_fd);
        setup_unref(d->setup);
        identify_done(&d->task);
        container_info_done(&d->container);
        container_names_done(&d->names);
        free(d->limit_key);
        free(d->core_path);
        free(d->collector_path);
        free(d->collector_address);
        free(d);
}

void dump_conclude(struct dump *d, enum dump_outcome outcome, enum dump_reason reason)
{
        if (d->outcome != OUTCOME_NONE || outcome == OUTCOME_NONE)
                return;
        d->outcome = outcome;
        d->reason = reason;
}

void dump_describe(struct dump *d)
{
        const struct task_identity *t = &d->task;
        struct dump_record *r = &d->record;
        bool kept = r->kept;
        uint64_t bytes = r->bytes;
        const char *cut = r->cut;

        record_init(r);
        r->id = d->id;
        r->wall = d->accepted_wall;
        r->mode = dump_mode_to_string(d->mode);
        r->host_ids.pid = t->pid > 0 ? (int64_t) t->pid : d->peer_pid > 0 ? (int64_t) d->peer_pid : -1;
        if (t->have_creds) {
                r->host_ids.uid = t->ruid;
                r->host_ids.gid = t->rgid;
        }
        r->ns_ids = (struct record_ids){ t->ns_pid > 0 ? (int64_t) t->ns_pid : -1, t->ns_uid, t->ns_gid };
        r->comm = t->comm[0] ? t->comm : NULL;
        r->exe = t->exe;
        r->host_exe = t->host_exe;
        /* Never from /proc: reading it copies the task's memory, which it can make hang. */
        r->cmdline = d->core_cmdline[0] ? d->core_cmdline : NULL;
        r->signal = t->signal;
        if (d->in_container) {
                d->record_container = (struct record_container){
                        .runtime = runtime_to_string(d->container.runtime),
                        .id = d->container.id,
                        .pod_uid = d->container.pod_uid,
                        .names = d->have_names ? &d->names : NULL,
                        .rootless = d->container.rootless,
                        .owner_uid = d->container.owner_uid,
                };
                r->container = &d->record_container;
        }
        r->expose_host = d->route && d->route->expose_host;
        r->host_cgroup = t->cgroup_path;
        /* What an action found out about a kept core outlives a new description of the task. */
        r->kept = kept;
        r->bytes = bytes;
        r->cut = cut;
}

void dump_make_id(char id[static DUMP_ID_MAX], usec_t wall)
{
        record_make_id(id, wall);
}
