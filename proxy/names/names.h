/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Names of containers (docs/architecture.md "where names come from"): what
 * people call a container, read at dump time from what its runtime already
 * keeps (containerd's task bundles, containers/storage for CRI-O and
 * podman, docker's config.v2.json, the cgroup for nspawn and LXC) and from
 * what an OCI runtime hook registered (coredump-proxy-hook). Lookups run on
 * a worker, never on the event loop, and are cached per container; a cache
 * entry and a registration live as long as the container's cgroup.
 *
 * Names are labels for people and routes. Which container a task is in
 * comes from its cgroup alone (proxy/dump/container.c): a lookup is keyed by
 * that identity, and a registration is only taken for the container whose
 * cgroup the registering process is in (proxy/daemon/hooks.c checks).
 */

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "kernel/io.h"
#include "proxy/base/jsonw.h"
#include "proxy/protocol/names.h"

/* ---- which labels and annotations a lookup keeps */

enum names_kind {
        NAMES_LABEL,
        NAMES_ANNOTATION,
};

enum names_keep {
        NAMES_DROP,   /* nobody asked for it */
        NAMES_KEEP,   /* a route matches on it: kept, never written into a document */
        NAMES_EXPORT, /* names.labels / names.annotations lets it leave the node */
};

/* config NULL: keep everything (tests and fuzzers). */
struct names_filter {
        const struct config *config;
};

enum names_keep names_filter_keep(const struct names_filter *f, enum names_kind kind, const char *key);

/* ---- the daemon's names: its cache and its registrations */

struct names;

/*
 * cgroup2_fd/cgroup2_path: where cgroup ids are looked up, to tell when a
 * container is gone (-EBADF: never). registrations_dir: where registrations
 * are kept across restarts (NULL: not kept); made 0700 if missing.
 */
int names_new(int cgroup2_fd, const char *cgroup2_path, const char *registrations_dir, struct names **ret);
void names_free(struct names *n);

struct names_query {
        enum container_runtime runtime;
        const char *id;
        uint64_t cgroup_id; /* the task's cgroup2 id (0 unknown): a cache entry lives as long as it */
};

/*
 * On a worker: the names of the container that q identifies, from its
 * registration and its runtime's state files (cached), keeping the labels
 * and annotations the config asks for and marking those it exports. 1 with
 * something in ret, 0 nothing known, -ENOMEM. Nothing a state file holds
 * makes it fail.
 */
int names_lookup(struct names *n, const struct config *c, const struct names_query *q,
                 struct container_names *ret);

/* After a reload: what the cache kept was chosen by the old config. */
void names_forget_cache(struct names *n);

/* ---- registrations (from OCI runtime hooks) */

struct names_registration {
        enum container_runtime runtime; /* as the registering process's cgroup resolves */
        const char *id;
        uint64_t cgroup_id;                    /* that cgroup's id; 0 when only a cgroup v1 path names it */
        const char *cgroup_path;               /* for status */
        const struct names_pairs *annotations; /* the OCI annotations the hook sent */
};

/* Registration checks the daemon makes against the kernel, for registrations kept across a restart. */
typedef bool (*names_check_fn)(void *userdata, enum container_runtime runtime, const char *id,
                               uint64_t cgroup_id);

/*
 * Takes a registration checked by the caller; replaces one of the same
 * container. -ENOSPC when the table is full of live containers, -ENOMEM.
 */
int names_register(struct names *n, const struct config *c, const struct names_registration *reg);
/* Drops the registrations of this container id (any runtime): how many were dropped. */
size_t names_unregister(struct names *n, const char *id);
/* Reads the registrations kept by an earlier run; those check refuses are deleted. How many were kept. */
size_t names_load(struct names *n, names_check_fn check, void *userdata);
/* Drops registrations and cache entries whose cgroup is gone, and stale cache entries. */
void names_sweep(struct names *n);
size_t names_registered(struct names *n);

/* "containers": the registered and cached containers `coredump-proxy status` lists. */
void names_write_status(struct names *n, struct jsonw *w);
