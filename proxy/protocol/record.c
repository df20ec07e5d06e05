/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "proxy/base/utc.h"
#include "proxy/protocol/record.h"

void record_init(struct dump_record *r)
{
        *r = (struct dump_record){
                .host_ids = { -1, -1, -1 },
                .ns_ids = { -1, -1, -1 },
        };
}

size_t record_cut_length(const char *s, size_t max)
{
        size_t n = strlen(s);

        if (n <= max)
                return n;
        for (unsigned i = 0; i < 3 && max > 0 && ((unsigned char) s[max] & 0xc0) == 0x80; i++)
                max--;
        return max;
}

static void put_string(struct jsonw *w, const char *key, const char *s, size_t max)
{
        jsonw_key(w, key);
        if (s)
                jsonw_string_len(w, s, record_cut_length(s, max));
        else
                jsonw_null(w);
}

static void put_id(struct jsonw *w, const char *key, int64_t v)
{
        if (v < 0)
                jsonw_kv_null(w, key);
        else
                jsonw_kv_int(w, key, v);
}

static void write_container(struct jsonw *w, const struct record_container *c,
                            const struct record_limits *lim)
{
        jsonw_key(w, "container");
        if (!c) {
                jsonw_null(w);
                return;
        }
        jsonw_object_begin(w);
        put_string(w, "runtime", c->runtime, lim->string_max);
        put_string(w, "id", c->id, lim->string_max);
        if (c->pod_uid)
                put_string(w, "pod_uid", c->pod_uid, lim->string_max);
        /* Bounded where they are read (NAMES_*_MAX): never cut, so a route's glob and a reader agree. */
        if (c->names)
                names_write_members(w, c->names, c->pod_uid, true);
        if (c->rootless)
                jsonw_kv_uint(w, "owner_uid", c->owner_uid);
        jsonw_object_end(w);
}

void record_write_task(struct jsonw *w, const struct dump_record *r, enum record_view view,
                       const struct record_limits *lim)
{
        const struct record_ids *ids = view == RECORD_VIEW_HOST ? &r->host_ids : &r->ns_ids;
        char time[UTC_STRING_MAX];

        jsonw_kv_string(w, "id", r->id);
        if (r->time_text || r->wall == 0) {
                put_string(w, "time", r->time_text, lim->string_max);
        } else {
                utc_format_rfc3339(r->wall, time);
                jsonw_kv_string(w, "time", time);
        }
        put_id(w, "pid", ids->pid);
        put_id(w, "uid", ids->uid);
        put_id(w, "gid", ids->gid);
        put_string(w, "comm", r->comm, lim->string_max);
        put_id(w, "signal", r->signal > 0 ? r->signal : -1);
        put_string(w, "mode", r->mode, lim->string_max);
        write_container(w, r->container, lim);
}

void record_write_details(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim)
{
        put_string(w, "exe", r->exe, lim->string_max);
        put_string(w, "cmdline", r->cmdline, lim->cmdline_max);
}

void record_write_host_exe(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim)
{
        put_string(w, "host_exe", r->host_exe, lim->string_max);
}

void record_write_result(struct jsonw *w, const struct dump_record *r)
{
        if (!r->kept)
                return;
        jsonw_kv_uint(w, "bytes", r->bytes);
        jsonw_kv_bool(w, "truncated", r->cut != NULL);
        if (r->cut)
                jsonw_kv_string(w, "cut", r->cut);
        if (r->compression) {
                jsonw_kv_string(w, "compression", r->compression);
                jsonw_kv_uint(w, "stored_bytes", r->stored_bytes);
        }
}

void record_write_exposed(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim)
{
        if (!r->expose_host)
                return;
        put_id(w, "host_pid", r->host_ids.pid);
        put_string(w, "host_cgroup", r->host_cgroup, lim->string_max);
        record_write_host_exe(w, r, lim);
}

void record_make_id(char id[static RECORD_ID_MAX], usec_t wall)
{
        char stamp[UTC_STRING_MAX];
        uint64_t rnd = 0;

        /* Uniqueness only; GRND_INSECURE never blocks early at boot. */
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK | 0x0004 /* GRND_INSECURE, 5.6 */) != sizeof(rnd) &&
            getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd = (wall ^ (wall >> 29)) * UINT64_C(0x9e3779b97f4a7c15);
        utc_format_compact(wall, stamp);
        (void) snprintf(id, RECORD_ID_MAX, "%s-%012llx", stamp,
                        (unsigned long long) (rnd & UINT64_C(0xffffffffffff)));
}
