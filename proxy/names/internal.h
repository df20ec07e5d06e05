/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to proxy/names/: the providers, one per runtime, and the parsers
 * of the files they read (exposed for the unit tests and the fuzz targets).
 * A provider fills only what is still unset in its names, so the first
 * source to know a field wins; each returns 1 when it found the container,
 * 0 when not, -ENOMEM. A state file that is missing, too large, truncated
 * or hostile is the same as no file: nothing in one can fail a dump.
 */

#include <stddef.h>

#include "config/config.h"
#include "proxy/names/names.h"

/* Bounds on what the daemon reads of a runtime's files. */
#define NAMES_OCI_CONFIG_MAX (4U * 1024U * 1024U) /* a bundle's config.json (seccomp profiles are large) */
#define NAMES_STORAGE_INDEX_MAX \
        (16U * 1024U * 1024U) /* containers/storage's containers.json: every container */
#define NAMES_DOCKER_CONFIG_MAX (4U * 1024U * 1024U) /* docker's config.v2.json */
#define NAMES_NESTED_JSON_MAX   (64U * 1024U)        /* a JSON document inside a string (CRI-O's labels) */
#define NAMES_JSON_DEPTH        32                   /* OCI specs nest about 8 deep */
#define NAMES_OBJECT_MEMBERS    4096                 /* annotations or labels looked at in one object */
#define NAMES_INDEX_ENTRIES     65536                /* containers looked at in containers.json */

struct names_source {
        const struct names_config *config;
        const struct names_filter *filter;
        enum container_runtime runtime;
        const char *id;
};

int names_from_containerd(const struct names_source *s, struct container_names *n);
int names_from_storage(const struct names_source *s, struct container_names *n);
int names_from_docker(const struct names_source *s, struct container_names *n);
int names_from_machine(const struct names_source *s, struct container_names *n);

/* Whether an id is fit to be a path component in a runtime's state directory. */
bool names_id_ok(const char *id);

/*
 * One OCI annotation: the names it carries (CRI's, CRI-O's, the kubelet's
 * keys), CRI-O's JSON-in-a-string labels and annotations, and the pair
 * itself when the filter keeps it. -ENOMEM only.
 */
int names_from_annotation(struct container_names *n, const struct names_filter *f, const char *key,
                          const char *value, size_t value_len);

/* ---- parsers of one file's text: 0 parsed (whatever it held), -EBADMSG/-EMSGSIZE unreadable, -ENOMEM */

/* A bundle's config.json: its annotations. *ret_sandbox (may be NULL): CRI-O's sandbox id, when it names
 * one. */
int names_parse_oci_config(const char *text, size_t len, const struct names_filter *f,
                           struct container_names *n, char **ret_sandbox);
/* containers/storage's containers.json: the entry of id (1 found, 0 not). */
int names_parse_storage_index(const char *text, size_t len, const char *id, struct container_names *n);
/* docker's config.v2.json. */
int names_parse_docker_config(const char *text, size_t len, const struct names_filter *f,
                              struct container_names *n);
