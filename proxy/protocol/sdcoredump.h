/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What systemd-coredump's socket (/run/systemd/coredump, SOCK_SEQPACKET)
 * takes: one datagram per journal field "COREDUMP_...=value", then a
 * zero-length datagram that carries the core's fd (SCM_RIGHTS). Its
 * receiving side (systemd 252 to now) insists on PID, UID, GID, SIGNAL,
 * TIMESTAMP (µs), RLIMIT, HOSTNAME and COMM; the rest is for people.
 *
 * The fields come from the dump's record alone. Seen from a container
 * (SYSTEMD_WHERE_CONTAINER) every id is the one its own namespaces give,
 * and nothing of the host (its hostname, paths, cgroup) is sent: the
 * container's systemd-coredump writes what its users read.
 */

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "proxy/protocol/record.h"

/* A field is cut to this many bytes: systemd-coredump's socket takes larger ones, our memory need not. */
#define SDCOREDUMP_FIELD_MAX 4096
/* Most fields one dump sends. */
#define SDCOREDUMP_FIELDS_MAX 16

struct sdcoredump_fields {
        size_t n;
        char *field[SDCOREDUMP_FIELDS_MAX]; /* "NAME=value", allocated */
};

/*
 * The fields for r as seen from where. hostname: the host's, for host
 * dumps (a container's is its name, or its id's first 12 characters as
 * docker makes it); rlimit: the task's RLIMIT_CORE soft limit (UINT64_MAX
 * unlimited or unknown). -ENOMEM, or -ENODATA when a field systemd
 * insists on is not known (no comm, no pid in that view).
 */
int sdcoredump_fields_make(const struct dump_record *r, enum systemd_where where, const char *hostname,
                           uint64_t rlimit, struct sdcoredump_fields *ret);
void sdcoredump_fields_done(struct sdcoredump_fields *f);

/* The soft "Max core file size" of a /proc/<pid>/limits text, in bytes; UINT64_MAX for unlimited. */
int sdcoredump_parse_core_limit(const char *limits, uint64_t *ret);
