/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dump writer: copies a dump stream into DIR/<id>.core (under a
 * temporary name, renamed when complete, mode 0600) and writes DIR/<id>.json
 * beside it, within quotas. One module, two users: the daemon's host store
 * and coredump-collector. Thread-safe: several dumps may be written at once.
 * Both files are durable (fsync'd, the directory too) before a write is
 * reported as done: "stored" means a power cut keeps it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kernel/elf-core.h"
#include "kernel/io.h"
#include "proxy/store/compress.h"

/* store_compress_copy(), given by programs that link libzstd (the pipe helper links only libc). */
typedef int (*store_compress_fn)(const struct store_compress *c, struct store_compress_result *ret);

enum store_policy {
        STORE_ROTATE, /* host store: old dumps go to make room, the largest source's first */
        STORE_KEEP,   /* collector: keep what is there; refuse new dumps when full */
};

struct store_options {
        struct size_limit max_use;   /* bytes used by dumps in the directory */
        struct size_limit keep_free; /* free space left on the filesystem */
        unsigned max_files;          /* dumps kept at most; 0: no limit */
        enum store_policy policy;
        /* zstd level, 1..STORE_COMPRESS_LEVEL_MAX: <id>.core.zst; 0 (or no compressor): <id>.core */
        int compress_level;
        store_compress_fn compressor;
};

enum store_cut {
        STORE_COMPLETE,    /* EOF reached: the whole dump is on disk */
        STORE_CUT_QUOTA,   /* quota or keep_free reached: truncated */
        STORE_CUT_MAX,     /* max_bytes reached: truncated */
        STORE_CUT_TIMEOUT, /* the deadline passed: truncated */
        STORE_CUT_STALLED, /* no byte arrived for the stall timeout: truncated */
        STORE_CUT_READ,    /* the stream failed (the peer shut it down early) */
        _STORE_CUT_MAX,
};
/* "complete", "quota", "max-bytes", "timeout", "no-progress", "read-error" */
const char *store_cut_to_string(enum store_cut c);

struct store_result {
        uint64_t bytes;        /* bytes of the core (uncompressed) */
        uint64_t stored_bytes; /* bytes of the file on disk (compressed, or bytes) */
        bool compressed;       /* <id>.core.zst */
        enum store_cut cut;
        /* The start of the command line, from the core's own notes; "" when it has none. */
        char cmdline[ELF_CORE_PSARGS_MAX + 1];
        char *core_path;     /* absolute path of <id>.core */
        char *metadata_path; /* absolute path of <id>.json */
};
void store_result_done(struct store_result *r);

struct dump_store;

/* Opens (creating it 0700 if missing) the directory; removes temporary files left by a crash. */
int store_open(const char *directory, const struct store_options *options, struct dump_store **ret);
struct dump_store *store_ref(struct dump_store *s);
void store_unref(struct dump_store *s);
/* New quotas for a store kept across a reload. */
void store_set_options(struct dump_store *s, const struct store_options *options);

/*
 * 0 if a new dump can be taken now, -ENOSPC (keep_free), -EDQUOT (max_use or
 * max_files) when STORE_KEEP finds the store full. With STORE_ROTATE it makes
 * room by deleting old dumps (the largest source's first) and only fails if
 * that is not enough.
 */
int store_check_room(struct dump_store *s, const char *source);

/* Builds the metadata JSON once the core is on disk (bytes and cut are known then). */
typedef int (*store_metadata_fn)(void *userdata, const struct store_result *result, char **ret_json,
                                 size_t *ret_len);

struct store_request {
        const char *id;
        int src;              /* the stream, read from its current position to EOF */
        const char *source;   /* whose dump, for rotation: "host", a container's key; NULL: unknown */
        uint64_t max_bytes;   /* 0: no limit */
        usec_t deadline;      /* monotonic; USEC_INFINITY: none */
        usec_t stall_timeout; /* no byte for this long ends the copy; 0: none */
        store_metadata_fn metadata;
        void *userdata;
        uint64_t *progress; /* optional: bytes copied so far, for other threads */
};

/*
 * Copies the stream into <id>.core with splice(2) (no userspace buffer), or
 * compresses it into <id>.core.zst while it arrives (compress_level),
 * stopping early at max_bytes, at the quota, at the deadline or when the
 * stream stalls. A truncated dump is kept and says so in result->cut. Then
 * writes <id>.json from metadata(), makes both durable and visible. Fails
 * (-errno) when nothing could be kept: then neither file exists.
 */
int store_write(struct dump_store *s, const struct store_request *req, struct store_result *ret);

/* Bytes used by complete dumps and their metadata; never waits for a writer. */
int store_usage(struct dump_store *s, uint64_t *ret_bytes, unsigned *ret_files);
