/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/coredump-proto.h"
#include "proxy/act/store.h"
#include "proxy/base/log.h"
#include "proxy/dump/describe.h"
#include "proxy/intake/socket.h"

struct metadata_ctx {
        struct dump *dump;
        enum dump_reason reason;
};

static int store_metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        struct metadata_ctx *m = userdata;
        struct dump *d = m->dump;

        d->record.kept = true;
        d->record.bytes = res->bytes;
        d->record.cut = res->cut == STORE_COMPLETE ? NULL : store_cut_to_string(res->cut);
        d->record.compression = res->compressed ? "zstd" : "none";
        d->record.stored_bytes = res->stored_bytes;
        memcpy(d->core_cmdline, res->cmdline, sizeof(d->core_cmdline));
        d->record.cmdline = d->core_cmdline[0] ? d->core_cmdline : NULL;
        return describe_metadata(d, OUTCOME_STORED, m->reason, ret, ret_len);
}

/* Whose dump this is, for the store's fair rotation. */
static const char *source_of(const struct dump *d)
{
        return d->limit_key ? d->limit_key : "host";
}

struct act_result act_store(struct dump *d, enum dump_reason reason)
{
        struct proxy_setup *s = d->setup;
        struct store_result res = {};
        struct metadata_ctx m = { .dump = d, .reason = reason };
        int r;

        if (!s->store) {
                log_error("%s: host store %s unavailable: %s", d->id, s->config->store_directory,
                          strerror(-s->store_error));
                (void) intake_reject(d);
                return act_done(OUTCOME_FAILED, REASON_STORE_UNAVAILABLE);
        }
        r = store_check_room(s->store, source_of(d));
        if (r < 0) {
                /* In request mode the kernel writes nothing: better than a dump cut to zero. */
                log_error("%s: host store %s is full: %s", d->id, s->config->store_directory, strerror(-r));
                (void) intake_reject(d);
                return act_done(OUTCOME_FAILED, REASON_STORE_FULL);
        }

        /* WAIT keeps the task, and so /proc/<pid>, until we shut the connection down. */
        r = intake_ack(d, COREDUMP_KERNEL | COREDUMP_WAIT);
        if (r < 0)
                return act_done(OUTCOME_FAILED, intake_failure_reason(r));
        dump_set_state(d, DUMP_STREAMING);

        struct store_request req = {
                .id = d->id,
                .src = d->fd,
                .source = source_of(d),
                .deadline = d->deadline,
                /* A kernel stream that moves no byte for this long is given up (a FUSE-backed page, say). */
                .stall_timeout = s->config->limits.stall_timeout,
                .metadata = store_metadata,
                .userdata = &m,
        };
        r = store_write(s->store, &req, &res);
        if (r < 0) {
                log_error("%s: storing the dump failed: %s", d->id, strerror(-r));
                /* Nothing was kept: the event must not describe a core. */
                d->record.kept = false;
                store_result_done(&res);
                return act_done(OUTCOME_FAILED, REASON_STORE_ERROR);
        }
        d->core_path = TAKE_PTR(res.core_path);
        store_result_done(&res);
        return act_done(OUTCOME_STORED, reason);
}
