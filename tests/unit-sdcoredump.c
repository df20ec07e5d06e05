/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The fields handed to systemd-coredump: the ones its receiving side
 * insists on are always there, ids are the view's (a container's own, never
 * the host's), nothing of the host goes into a container, and the task's
 * core limit is read from /proc/<pid>/limits.
 */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/protocol/sdcoredump.h"
#include "tests/tap.h"

static const char *field(const struct sdcoredump_fields *f, const char *name)
{
        size_t n = strlen(name);

        for (size_t i = 0; i < f->n; i++)
                if (strncmp(f->field[i], name, n) == 0 && f->field[i][n] == '=')
                        return f->field[i] + n + 1;
        return NULL;
}

static struct dump_record sample(struct record_container *c, struct container_names *names)
{
        struct dump_record r;

        record_init(&r);
        r.id = "20261202T230000Z-aaaaaaaaaaaa";
        r.wall = 1796252400123456ULL;
        r.host_ids = (struct record_ids){ 41000, 1000, 1000 };
        r.ns_ids = (struct record_ids){ 7, 0, -1 };
        r.comm = "crasher";
        r.exe = "/app/crasher";
        r.host_exe = "/var/lib/docker/overlay/x/app/crasher";
        r.signal = 11;
        *names = (struct container_names){ .name = NULL };
        *c = (struct record_container){
                .runtime = "docker",
                .id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                .names = names
        };
        r.container = c;
        return r;
}

static void test_host(void)
{
        _cleanup_(sdcoredump_fields_done) struct sdcoredump_fields f = {};
        struct record_container c;
        struct container_names names;
        struct dump_record r = sample(&c, &names);

        is_int(sdcoredump_fields_make(&r, SYSTEMD_WHERE_HOST, "node-1", 4096, &f), 0, "host: made");
        is_str(field(&f, "COREDUMP_PID"), "41000", "host: host pid");
        is_str(field(&f, "COREDUMP_UID"), "1000", "host: host uid");
        is_str(field(&f, "COREDUMP_GID"), "1000", "host: host gid");
        is_str(field(&f, "COREDUMP_SIGNAL"), "11", "host: signal");
        is_str(field(&f, "COREDUMP_SIGNAL_NAME"), "SIGSEGV", "host: signal name");
        is_str(field(&f, "COREDUMP_TIMESTAMP"), "1796252400123456", "host: timestamp in µs");
        is_str(field(&f, "COREDUMP_RLIMIT"), "4096", "host: rlimit");
        is_str(field(&f, "COREDUMP_HOSTNAME"), "node-1", "host: the host's hostname");
        is_str(field(&f, "COREDUMP_COMM"), "crasher", "host: comm");
        is_str(field(&f, "COREDUMP_EXE"), "/var/lib/docker/overlay/x/app/crasher",
               "host: the host's exe path");
        is_str(field(&f, "MESSAGE_ID"), "fc2e22bc6ee647b6b90729ab34a250b1",
               "host: coredumpctl's message id");
        ok(!field(&f, "COREDUMP_FORWARDED"), "host: not marked forwarded");
}

static void test_container(void)
{
        _cleanup_(sdcoredump_fields_done) struct sdcoredump_fields f = {}, g = {};
        struct record_container c;
        struct container_names names;
        struct dump_record r = sample(&c, &names);

        is_int(sdcoredump_fields_make(&r, SYSTEMD_WHERE_CONTAINER, NULL, UINT64_MAX, &f), 0,
               "container: made");
        is_str(field(&f, "COREDUMP_PID"), "7", "container: its own pid");
        is_str(field(&f, "COREDUMP_UID"), "0", "container: its own uid");
        is_str(field(&f, "COREDUMP_GID"), "65534", "container: an unmapped gid is the overflow id");
        is_str(field(&f, "COREDUMP_RLIMIT"), "18446744073709551615", "container: unlimited");
        is_str(field(&f, "COREDUMP_HOSTNAME"), "0123456789ab",
               "container: docker's hostname, not the host's");
        is_str(field(&f, "COREDUMP_EXE"), "/app/crasher", "container: exe inside its root");
        is_str(field(&f, "COREDUMP_FORWARDED"), "1", "container: marked forwarded");
        for (size_t i = 0; i < f.n; i++)
                ok(!strstr(f.field[i], "41000") && !strstr(f.field[i], "/var/lib/docker"),
                   "container: nothing of the host in %s", f.field[i]);

        names.name = (char *) "web";
        is_int(sdcoredump_fields_make(&r, SYSTEMD_WHERE_CONTAINER, NULL, 0, &g), 0, "named container: made");
        is_str(field(&g, "COREDUMP_HOSTNAME"), "web", "named container: its name");
}

static void test_missing(void)
{
        struct sdcoredump_fields f = {};
        struct record_container c;
        struct container_names names;
        struct dump_record r = sample(&c, &names);

        r.comm = NULL;
        is_int(sdcoredump_fields_make(&r, SYSTEMD_WHERE_HOST, "h", 0, &f), -ENODATA, "no comm: refused");
        r = sample(&c, &names);
        r.ns_ids.pid = -1;
        is_int(sdcoredump_fields_make(&r, SYSTEMD_WHERE_CONTAINER, NULL, 0, &f), -ENODATA,
               "no pid in the container's view: refused (never the host's instead)");
        is_int(f.n, 0, "nothing left behind");
}

static void test_limits(void)
{
        const char *unlimited =
                "Limit                     Soft Limit           Hard Limit           Units     \n"
                "Max cpu time              unlimited            unlimited            seconds   \n"
                "Max core file size        unlimited            unlimited            bytes     \n";
        const char *zero =
                "Max core file size        0                    unlimited            bytes     \n";
        uint64_t v = 1;

        is_int(sdcoredump_parse_core_limit(unlimited, &v), 0, "limits: parsed");
        ok(v == UINT64_MAX, "limits: unlimited");
        is_int(sdcoredump_parse_core_limit(zero, &v), 0, "limits: zero parsed");
        ok(v == 0, "limits: zero");
        is_int(sdcoredump_parse_core_limit("Max open files 5 5\n", &v), -ENODATA, "limits: no core line");
        is_int(sdcoredump_parse_core_limit("Max core file size        12x  1 bytes\n", &v), -EBADMSG,
               "limits: garbage");
}

int main(void)
{
        test_host();
        test_container();
        test_missing();
        test_limits();
        return tap_done();
}
