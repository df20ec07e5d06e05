/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The state an OCI runtime writes on a hook's stdin (runtime-spec
 * "State"): {"ociVersion", "id", "status", "pid", "bundle",
 * "annotations"}. Written by the runtime from the bundle's config.json,
 * whose annotations anyone who creates a container chooses: bounded and
 * checked like any other input.
 */

#include <stddef.h>
#include <stdint.h>

#include "proxy/protocol/names.h"

/* More than any runtime writes; CRI-O's annotations are the largest part. */
#define OCI_STATE_MAX (1024U * 1024U)

struct oci_state {
        char *id;
        char *status;
        int64_t pid; /* 0: none (poststop) */
        char *bundle;
        /*
         * At most CONTROL_ANNOTATIONS_MAX of them, those whose keys name
         * things first (io.kubernetes.*): what a registration can carry.
         */
        struct names_pairs annotations;
};

void oci_state_done(struct oci_state *s);

/* -EMSGSIZE over OCI_STATE_MAX; -EBADMSG not a state (no id, a field of the wrong type). */
int oci_state_parse(const char *text, size_t len, struct oci_state *ret);
