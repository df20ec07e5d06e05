/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The control socket's requests and replies (docs/architecture.md): one
 * JSON object per connection each way, the client's ended by shutting its
 * side down. Root only (the daemon checks SO_PEERCRED), bounded, strict.
 *
 *   {"request": "status"}                  -> the status document
 *   {"request": "register", "id", "pid", "bundle", "annotations": {...}}
 *        with the container process's pidfd as SCM_RIGHTS
 *                                          -> {"ok": true, "runtime", "id"} or {"ok": false, "error"}
 *   {"request": "unregister", "id"}        -> {"ok": true, "removed": N}
 *
 * An empty request (the client shut down without a byte) asks for the status,
 * as clients of the first version did by connecting alone.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/protocol/names.h"

/* No request may be larger: a hook sends its container's annotations, bounded below. */
#define CONTROL_REQUEST_MAX (64U * 1024U)
/* Annotations a registration carries at most (a hook drops what does not fit). */
#define CONTROL_ANNOTATIONS_MAX 256
/* An OCI container id: the runtime spec sets no bound, runtimes use 64 hex digits or short names. */
#define CONTROL_ID_MAX 1024

enum control_verb {
        CONTROL_STATUS,
        CONTROL_REGISTER,
        CONTROL_UNREGISTER,
        _CONTROL_VERB_MAX,
};
const char *control_verb_to_string(enum control_verb v);
int control_verb_from_string(const char *s);

struct control_request {
        enum control_verb verb;
        char *id;     /* register, unregister: the OCI container id */
        int64_t pid;  /* register: as the hook saw it (the pidfd is what counts); 0 unknown */
        char *bundle; /* register: for the log */
        struct names_pairs annotations; /* register: the OCI annotations (exported marks unused) */
};

struct control_reply {
        bool ok;
        char *error;   /* !ok: why */
        char *runtime; /* register: the runtime the cgroup named */
        char *id;
        uint64_t removed; /* unregister */
};

void control_request_done(struct control_request *q);
void control_reply_done(struct control_reply *r);

/*
 * A request as a client writes it. A registration whose annotations would not
 * fit drops the largest values first, then whatever else does not fit: the
 * names are worth more than a complete set of annotations.
 */
int control_request_format(const struct control_request *q, char **ret, size_t *ret_len);
/* -EMSGSIZE over CONTROL_REQUEST_MAX, -EBADMSG not a request; an empty buffer is a status request. */
int control_request_parse(const char *buf, size_t len, struct control_request *ret);

int control_reply_format(const struct control_reply *r, char **ret, size_t *ret_len);
int control_reply_parse(const char *buf, size_t len, struct control_reply *ret);
