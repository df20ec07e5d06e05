/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to proxy/names/: the containers OCI runtime hooks registered,
 * each with the names its annotations carry. Bounded; kept on disk, one
 * file per container in a directory of the daemon's own, so that a restart
 * keeps them; dropped at poststop, or when the cgroup is gone. Its own
 * lock: the event loop registers, workers look up.
 */

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "proxy/base/jsonw.h"
#include "proxy/protocol/names.h"

/* Containers registered at once: more than a node runs. */
#define REGISTRY_MAX 4096
/* The largest registration file read back. */
#define REGISTRY_FILE_MAX (256U * 1024U)

struct registry;

struct registry_entry {
        enum container_runtime runtime;
        char *id;
        uint64_t cgroup_id; /* 0: named by a cgroup v1 path only */
        char *cgroup_path;
        usec_t registered; /* realtime */
        struct container_names names;
};

void registry_entry_done(struct registry_entry *e);

/* dir_fd: where registrations are kept (taken over; -EBADF: nowhere). */
int registry_new(int dir_fd, struct registry **ret);
void registry_free(struct registry *r);

/* Takes e over (on success). -ENOSPC when full. */
int registry_add(struct registry *r, struct registry_entry *e);
size_t registry_remove(struct registry *r, const char *id);
/* 1: its names merged into ret; 0: not registered. */
int registry_get(struct registry *r, enum container_runtime runtime, const char *id,
                 struct container_names *ret);
/* Drops the entries keep() refuses. */
void registry_sweep(struct registry *r, bool (*keep)(void *userdata, const struct registry_entry *e),
                    void *userdata);
size_t registry_count(struct registry *r);
/* Reads the kept files; keep() decides which stay (the others are deleted). How many were taken. */
size_t registry_load(struct registry *r, bool (*keep)(void *userdata, const struct registry_entry *e),
                     void *userdata);
void registry_write(struct registry *r, struct jsonw *w, size_t max);

/* The file of one registration, and back (for the tests and the fuzz target). */
int registry_entry_format(const struct registry_entry *e, char **ret, size_t *ret_len);
int registry_entry_parse(const char *text, size_t len, struct registry_entry *ret);
