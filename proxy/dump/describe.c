/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "config/config.h"
#include "proxy/base/jsonw.h"
#include "proxy/base/utc.h"
#include "proxy/dump/describe.h"
#include "proxy/dump/dump.h"

/* How the dump ended: what the event line and the host's metadata add to the record. */
static void write_verdict(struct jsonw *w, const struct dump *d, enum dump_outcome outcome,
                          enum dump_reason reason)
{
        jsonw_kv_string(w, "outcome", dump_outcome_to_string(outcome));
        jsonw_kv_string(w, "reason", dump_reason_to_string(reason));
        jsonw_kv_string(w, "route", d->route ? d->route->name : NULL);
        if (d->have_action)
                jsonw_kv_string(w, "action", action_to_string(d->action));
        /* The forward did not happen and the route's fallback acted: reason says why. */
        if (d->fallback)
                jsonw_kv_bool(w, "fallback", true);
        if (d->task.cgroup_path)
                jsonw_kv_string(w, "cgroup", d->task.cgroup_path);
        if (d->task.coredumped && !d->task.proc_valid)
                jsonw_kv_string(w, "identity", "vanished");
}

int describe_event(const struct dump *d, char **ret, size_t *ret_len)
{
        const struct record_limits lim = RECORD_LIMITS_NONE;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "event", "coredump");
        record_write_task(&w, &d->record, RECORD_VIEW_HOST, &lim);
        write_verdict(&w, d, d->outcome, d->reason);
        if (d->record.kept) {
                jsonw_kv_uint(&w, "bytes", d->record.bytes);
                if (d->outcome == OUTCOME_STORED) {
                        jsonw_kv_bool(&w, "truncated", d->record.cut != NULL);
                        if (d->record.cut)
                                jsonw_kv_string(&w, "cut", d->record.cut);
                }
                if (d->record.compression) {
                        jsonw_kv_string(&w, "compression", d->record.compression);
                        jsonw_kv_uint(&w, "stored_bytes", d->record.stored_bytes);
                }
        }
        if (d->core_path)
                jsonw_kv_string(&w, "core", d->core_path);
        if (d->collector_address)
                jsonw_kv_string(&w, "collector", d->collector_address);
        if (d->collector_path)
                jsonw_kv_string(&w, "collector_path", d->collector_path);
        jsonw_kv_uint(&w, "duration_ms", (io_now() - d->accepted_at) / USEC_PER_MSEC);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int describe_metadata(const struct dump *d, enum dump_outcome outcome, enum dump_reason reason, char **ret,
                      size_t *ret_len)
{
        const struct record_limits lim = RECORD_LIMITS_NONE;
        const struct task_identity *t = &d->task;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        record_write_task(&w, &d->record, RECORD_VIEW_HOST, &lim);
        record_write_details(&w, &d->record, &lim);
        record_write_host_exe(&w, &d->record, &lim);
        record_write_result(&w, &d->record);
        write_verdict(&w, d, outcome, reason);
        if (t->have_creds) {
                jsonw_kv_uint(&w, "euid", t->euid);
                jsonw_kv_uint(&w, "egid", t->egid);
        }
        if (t->ns_pid > 0)
                jsonw_kv_uint(&w, "ns_pid", t->ns_pid);
        jsonw_kv_uint(&w, "cgroup_id", t->cgroup_id);
        jsonw_kv_uint(&w, "coredump_mask", t->coredump_mask);
        jsonw_kv_bool(&w, "sensitive", (t->coredump_mask & PIDFD_COREDUMP_ROOT) != 0);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int describe_lost(int pid, const char *comm, enum dump_reason reason, usec_t wall, char **ret,
                  size_t *ret_len)
{
        char time[UTC_STRING_MAX];
        struct jsonw w;

        utc_format_rfc3339(wall, time);
        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "event", "coredump-lost");
        jsonw_kv_string(&w, "time", time);
        jsonw_kv_int(&w, "pid", pid);
        jsonw_kv_string(&w, "comm", comm && comm[0] ? comm : NULL);
        jsonw_kv_string(&w, "reason", dump_reason_to_string(reason));
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}
