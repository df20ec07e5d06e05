/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dump writer: copies a dump stream into DIR/<id>.core (under a
 * temporary name, renamed when complete, mode 0600) and writes DIR/<id>.json
 * beside it, within quotas. One module, two users: the daemon's host store
 * and coredump-collector. Thread-safe: several dumps may be written at once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "kernel/io.h"

enum store_policy {
        STORE_ROTATE, /* host store: the oldest dumps go first to make room */
        STORE_KEEP,   /* collector: keep what is there; refuse new dumps when full */
};

struct store_options {
        struct size_limit max_use;   /* bytes used by dumps in the directory */
        struct size_limit keep_free; /* free space left on the filesystem */
        unsigned max_files;          /* dumps kept at most; 0: no limit */
        enum store_policy policy;
};

enum store_cut {
        STORE_COMPLETE,    /* EOF reached: the whole dump is on disk */
        STORE_CUT_QUOTA,   /* quota or keep_free reached: truncated */
        STORE_CUT_MAX,     /* max_bytes reached: truncated */
        STORE_CUT_TIMEOUT, /* the deadline passed: truncated */
        STORE_CUT_READ,    /* the stream failed (the peer shut it down early) */
};
const char *
store_cut_to_string(enum store_cut c); /* "complete", "quota", "max-bytes", "timeout", "read-error" */

struct store_result {
        uint64_t bytes; /* bytes in <id>.core */
        enum store_cut cut;
        char *core_path;     /* absolute path of <id>.core */
        char *metadata_path; /* absolute path of <id>.json */
};
void store_result_done(struct store_result *r);

struct dump_store;

/* Opens (creating it 0700 if missing) the directory; removes temporary files left by a crash. */
int store_open(const char *directory, const struct store_options *options, struct dump_store **ret);
void store_free(struct dump_store *s);

/*
 * 0 if a new dump can be taken now, -ENOSPC (keep_free), -EDQUOT (max_use or
 * max_files) when STORE_KEEP finds the store full. With STORE_ROTATE it makes
 * room by deleting the oldest dumps and only fails if that is not enough.
 */
int store_check_room(struct dump_store *s);

/* Builds the metadata JSON once the core is on disk (bytes and cut are known then). */
typedef int (*store_metadata_fn)(void *userdata, const struct store_result *result, char **ret_json,
                                 size_t *ret_len);

/*
 * Copies src from its current position to EOF into <id>.core with splice(2)
 * (no userspace buffer), stopping early at max_bytes (0: none), at the
 * quota, or at deadline (monotonic). src may be blocking or not; it is
 * polled. A truncated dump is kept and says so in result->cut. Then writes
 * <id>.json from metadata(). Fails (-errno) only when nothing could be kept.
 */
int store_write(struct dump_store *s, const char *id, int src, uint64_t max_bytes, usec_t deadline,
                store_metadata_fn metadata, void *userdata, struct store_result *ret);

/* Bytes used by complete dumps and their metadata. */
int store_usage(struct dump_store *s, uint64_t *ret_bytes, unsigned *ret_files);
