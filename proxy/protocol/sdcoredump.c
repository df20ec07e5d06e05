/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/protocol/record.h"
#include "proxy/protocol/sdcoredump.h"

/* SD_MESSAGE_COREDUMP: how journalctl and coredumpctl find these entries. */
#define SDCOREDUMP_MESSAGE_ID "fc2e22bc6ee647b6b90729ab34a250b1"
/* What the kernel shows for an id its user namespace does not map (overflowuid). */
#define SDCOREDUMP_OVERFLOW_ID 65534
/* docker's hostname for a container: the first 12 characters of its id. */
#define SDCOREDUMP_SHORT_ID 12

static int add(struct sdcoredump_fields *f, const char *name, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int add(struct sdcoredump_fields *f, const char *name, const char *fmt, ...)
{
        _cleanup_free_ char *value = NULL;
        va_list ap;
        int k;

        if (f->n >= SDCOREDUMP_FIELDS_MAX)
                return -E2BIG;
        va_start(ap, fmt);
        k = vasprintf(&value, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        if (asprintf(&f->field[f->n], "%s=%.*s", name,
                     (int) record_cut_length(value, SDCOREDUMP_FIELD_MAX - strlen(name) - 1), value) < 0) {
                f->field[f->n] = NULL;
                return -ENOMEM;
        }
        f->n++;
        return 0;
}

static int64_t seen_id(int64_t id, enum systemd_where where)
{
        return id < 0 && where == SYSTEMD_WHERE_CONTAINER ? SDCOREDUMP_OVERFLOW_ID : id;
}

/* A container's hostname is not ours to read (its UTS namespace): its name, or docker's default. */
static void container_hostname(const struct record_container *c, const char **ret, int *ret_len)
{
        if (c && c->names && c->names->name) {
                *ret = c->names->name;
                *ret_len = (int) strlen(c->names->name);
        } else if (c && c->id) {
                *ret = c->id;
                *ret_len = (int) MIN(strlen(c->id), (size_t) SDCOREDUMP_SHORT_ID);
        } else {
                *ret = "localhost";
                *ret_len = 9;
        }
}

int sdcoredump_fields_make(const struct dump_record *r, enum systemd_where where, const char *hostname,
                           uint64_t rlimit, struct sdcoredump_fields *ret)
{
        _cleanup_(sdcoredump_fields_done) struct sdcoredump_fields f = {};
        bool in = where == SYSTEMD_WHERE_CONTAINER;
        const struct record_ids *ids = in ? &r->ns_ids : &r->host_ids;
        const char *exe = in ? r->exe : r->host_exe;
        const char *sig = r->signal > 0 ? sigabbrev_np(r->signal) : NULL;
        const char *host = hostname;
        int host_len = hostname ? (int) strlen(hostname) : 0;
        int k = 0;

        if (ids->pid <= 0 || !r->comm || r->signal <= 0)
                return -ENODATA;
        if (in)
                container_hostname(r->container, &host, &host_len);
        else if (!hostname)
                return -ENODATA;

        k |= add(&f, "MESSAGE_ID", "%s", SDCOREDUMP_MESSAGE_ID);
        k |= add(&f, "PRIORITY", "%d", 2); /* LOG_CRIT, as systemd-coredump's own entries */
        k |= add(&f, "COREDUMP_PID", "%" PRId64, ids->pid);
        k |= add(&f, "COREDUMP_UID", "%" PRId64, seen_id(ids->uid, where));
        k |= add(&f, "COREDUMP_GID", "%" PRId64, seen_id(ids->gid, where));
        k |= add(&f, "COREDUMP_SIGNAL", "%d", r->signal);
        if (sig)
                k |= add(&f, "COREDUMP_SIGNAL_NAME", "SIG%s", sig);
        k |= add(&f, "COREDUMP_TIMESTAMP", "%" PRIu64, (uint64_t) r->wall);
        k |= add(&f, "COREDUMP_RLIMIT", "%" PRIu64, rlimit);
        k |= add(&f, "COREDUMP_HOSTNAME", "%.*s", host_len, host);
        k |= add(&f, "COREDUMP_COMM", "%s", r->comm);
        if (exe)
                k |= add(&f, "COREDUMP_EXE", "%s", exe);
        if (in)
                /* As systemd-coredump marks a dump it passed into a container itself. */
                k |= add(&f, "COREDUMP_FORWARDED", "%d", 1);
        if (k < 0)
                return -ENOMEM;
        *ret = f;
        f = (struct sdcoredump_fields){};
        return 0;
}

void sdcoredump_fields_done(struct sdcoredump_fields *f)
{
        for (size_t i = 0; i < f->n; i++)
                free(f->field[i]);
        f->n = 0;
}

int sdcoredump_parse_core_limit(const char *limits, uint64_t *ret)
{
        static const char key[] = "Max core file size";
        const char *p = limits ? strstr(limits, key) : NULL;
        unsigned long long v;
        char *end;

        if (!p)
                return -ENODATA;
        p += sizeof(key) - 1;
        p += strspn(p, " ");
        if (strncmp(p, "unlimited", 9) == 0) {
                *ret = UINT64_MAX;
                return 0;
        }
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno != 0 || end == p || (*end != ' ' && *end != '\n' && *end != '\0'))
                return -EBADMSG;
        *ret = v;
        return 0;
}
