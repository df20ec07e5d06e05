/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the files of the dump writer share; nothing outside proxy/store/ includes this. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "proxy/store/store.h"

#define STORE_ID_MAX 128
/*
 * Held back from the first reservation of every dump and preallocated on
 * disk for its .json: a dump cut by a full disk or quota still gets its
 * metadata. Larger metadata is written anyway and may overshoot by the excess.
 */
#define METADATA_RESERVE ((uint64_t) 64 * 1024)
/* A dump is not started with less room than this: a core without its first page tells nobody anything. */
#define MIN_ROOM (METADATA_RESERVE + 4096)
/* ".<id>.core.partial": the leading dot keeps temporary names apart from any valid id. */
#define NAME_MAX_LEN (1 + STORE_ID_MAX + sizeof(".core.partial"))
/* The first bytes of a compressed core kept in memory: its notes (the command line) are read from them. */
#define HEAD_MAX ((size_t) 256 * 1024)
/* The extended attribute that remembers whose dump a core is, across restarts. */
#define SOURCE_XATTR "user.coredump_proxy.source"
#define SOURCE_MAX   256

struct store_entry {
        char *id;
        char *source;          /* NULL: unknown (written before sources, or no xattrs) */
        struct timespec mtime; /* of the .core: rotation order */
        uint64_t size;         /* .core + .json */
        bool stuck;            /* unlinkat() failed: skipped by rotation until the next scan */
};

struct store_writer {
        struct store_writer *next;
        const char *id;
        const char *source;
        uint64_t reserved;     /* under the lock: core budget + metadata allowance */
        uint64_t written;      /* atomic: core bytes in the temporary file, read by others under the lock */
        uint64_t preallocated; /* atomic: metadata allowance already allocated on disk */
        uint64_t max_bytes;
        bool max_reached;   /* the budget stopped at max_bytes, not at the quota */
        int compress_level; /* taken from the options when it began: 0 uncompressed */
        store_compress_fn compressor;
        bool committed;   /* renamed into place and counted as an entry */
        bool compressing; /* counted in dump_store.n_compressing */
};

/*
 * A zstd stream context costs about 3.5 MiB at level 3 (more at higher
 * levels): beyond this many at once, cores are stored uncompressed, so that a
 * crash storm cannot take the daemon past its memory limit (a pod's).
 */
#define STORE_COMPRESS_MAX 8

struct dump_store {
        unsigned refs;
        pthread_mutex_t lock;
        int dir_fd;
        char *path;

        /* Everything below is protected by lock. */
        struct store_options options;
        struct store_entry *entries;
        size_t n_entries, n_allocated;
        size_t rescan_at;  /* n_entries that triggers the next rescan */
        uint64_t reserved; /* sum of writers[].reserved */
        struct store_writer *writers;
        unsigned n_writing;     /* writers not yet committed: each holds a max_files slot */
        unsigned n_compressing; /* writers compressing: at most STORE_COMPRESS_MAX */

        /* Written under lock, read without it (status must never wait for a writer). */
        uint64_t used; /* sum of entries[].size */
        size_t n_used; /* n_entries */
};

/* proxy/store/files.c: names and files of the store directory. */
bool store_id_valid(const char *id);
bool store_name_to_id(const char *name, const char *suffix, char ret_id[static STORE_ID_MAX + 1]);
bool store_is_temp_name(const char *name);
void store_remove_stale_temp(int dir_fd, const char *name);
int store_file_exists(int dir_fd, const char *name);
int store_create_temp(int dir_fd, const char *name, int *ret_fd);
int store_rename_noreplace(int dir_fd, const char *from, const char *to);
char *store_path_join(const char *dir, const char *name);

/* proxy/store/quota.c: the entries, room and rotation; all called with s->lock held. */
int quota_scan(struct dump_store *s, bool remove_stale);
int quota_make_room(struct dump_store *s, const char *source, uint64_t need, uint64_t *ret_room,
                    uint64_t *ret_chunk);
int quota_make_slot(struct dump_store *s, const char *source);
int quota_add_entry(struct dump_store *s, const char *id, const char *source, const struct timespec *mtime,
                    uint64_t size);
void quota_remove_entry_by_id(struct dump_store *s, const char *id);
bool quota_writer_active(struct dump_store *s, const char *id);
void quota_entries_free(struct store_entry *e, size_t n);
