/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A dump described: the one record behind every document about a dump,
 * the event line, the metadata file beside a kept core (<id>.json, the
 * same schema in the host store and in a collector's directory,
 * docs/metadata.md) and message 1 of the collector protocol. Built once per
 * dump as a borrowed view: it owns nothing, so it never outlives what it
 * points into. Shared by coredump-proxy and coredump-collector, so the two
 * <id>.json files of one dump cannot disagree on a key.
 */

#include <stdbool.h>
#include <stdint.h>

#include "kernel/io.h"
#include "proxy/base/jsonw.h"
#include "proxy/protocol/names.h"

/* Whose ids a document shows: the host's, or the container's own (a collector's). */
enum record_view {
        RECORD_VIEW_HOST,
        RECORD_VIEW_CONTAINER,
};

struct record_ids {
        int64_t pid; /* -1 unknown */
        int64_t uid; /* real uid; -1 unknown (or, seen from a container, unmapped) */
        int64_t gid;
};

struct record_container {
        const char *runtime;
        const char *id;
        const char *pod_uid; /* from its cgroup */
        bool rootless;       /* in a cgroup subtree delegated to a user: owner_uid is that user */
        uint32_t owner_uid;
        /*
         * What people call it: name, image, pod (its uid is pod_uid when the cgroup names
         * one), and the labels and annotations whose keys the host config lets leave the
         * node. NULL: nothing known. Labels for people and routes, never identity.
         */
        const struct container_names *names;
};

struct dump_record {
        const char *id;
        usec_t wall;           /* when the kernel's connection was accepted; 0 unknown */
        const char *time_text; /* the same as text, when it came that way (a collector's message 1) */
        const char *mode;
        struct record_ids host_ids; /* as the host sees the task */
        struct record_ids ns_ids;   /* as its own namespaces see it */
        const char *comm;
        const char *exe;      /* as the task names it, inside its root; NULL unknown */
        const char *host_exe; /* as the host sees it: the host's documents, or exposed */
        const char *cmdline;
        int signal;                               /* 0 unknown */
        const struct record_container *container; /* NULL: a host task */
        /* Seen from a container, only when the route exposes them (expose_host). */
        bool expose_host;
        const char *host_cgroup;
        /* A kept core: its size and why it may be short. */
        bool kept;
        uint64_t bytes;
        const char *cut; /* NULL: complete */
        /* How it lies on disk, when the writer knows: "zstd" or "none", and the file's size. */
        const char *compression;
        uint64_t stored_bytes;
};

/* Limits on what one document carries: strings from the crashing task are cut, never refused. */
struct record_limits {
        size_t string_max;  /* bytes of comm, exe, cgroup */
        size_t cmdline_max; /* bytes of cmdline */
};
#define RECORD_LIMITS_NONE ((struct record_limits){ SIZE_MAX, SIZE_MAX })

void record_init(struct dump_record *r);

/* "20261127T135300Z-1a2b3c4d5e6f": sortable by time, unique by 48 random bits, no host pid. */
#define RECORD_ID_MAX 48
/* A new id for a dump accepted (or, for the pipe helper, started) at wall time. */
void record_make_id(char id[static RECORD_ID_MAX], usec_t wall);

/* id, time, pid, uid, gid, comm, signal, mode, container: what every document says. */
void record_write_task(struct jsonw *w, const struct dump_record *r, enum record_view view,
                       const struct record_limits *lim);
/* exe and cmdline: metadata and message 1, never the event line (argv may hold secrets). */
void record_write_details(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim);
/* bytes, truncated, cut (and compression, stored_bytes when known): once a core is kept. */
void record_write_result(struct jsonw *w, const struct dump_record *r);
/* host_exe, always in the host's own documents (the event line excepted). */
void record_write_host_exe(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim);
/* host_pid, host_cgroup and host_exe, when exposed. */
void record_write_exposed(struct jsonw *w, const struct dump_record *r, const struct record_limits *lim);

/* Where to cut s so that it is at most max bytes and does not split a UTF-8 sequence. */
size_t record_cut_length(const char *s, size_t max);
