/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The collector protocol's messages (version 1), one JSON object per
 * SOCK_SEQPACKET message; see docs/collector-protocol.md. Parsing is strict
 * about types and sizes, ignores unknown fields, and never lets json-c
 * objects out of config/.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy/protocol/record.h"

#define COLLECTOR_PROTOCOL_VERSION 1
/* No message of the protocol may be larger. */
#define COLLECTOR_MSG_MAX (64U * 1024U)
/* A dump id: 1 to this many of [0-9A-Za-z-], so that it can name files anywhere. */
#define COLLECTOR_ID_MAX 128U

/* Message 1, proxy -> collector: the dump as the container sees it (parsed, owning). */
struct collector_request {
        unsigned version;
        char *id;
        int64_t pid; /* in the task's pid namespace; -1 unknown */
        int64_t uid; /* mapped into the task's user namespace; -1 unknown */
        int64_t gid;
        char *comm;
        char *exe;
        char *cmdline;
        int signal; /* 0 unknown */
        char *time; /* RFC 3339 */
        char *mode; /* "request", "plain", "pipe" */
        bool has_container;
        char *runtime;
        char *container_id;
        char *pod_uid;
        struct container_names names; /* container.name, .image, .pod, .labels, .annotations */
        bool rootless;
        uint32_t owner_uid;   /* rootless containers only */
        uint64_t max_bytes;   /* 0: no limit */
        uint64_t deadline_ms; /* milliseconds left before dump_timeout */
        int64_t host_pid;     /* only with expose_host; -1 absent */
        char *host_cgroup;    /* only with expose_host */
        char *host_exe;       /* only with expose_host */
};

/* Message 2, collector -> proxy. */
struct collector_answer {
        bool accept;
        char *reason; /* with a decline */
};

/* Message 3, proxy -> collector: {"dump": id} plus SCM_RIGHTS. */

/*
 * Message 4, collector -> proxy. A dump is delivered only with a byte count
 * and no error. "consumed": false says the collector read nothing of the
 * stream (it failed before its first read): the proxy may then still run the
 * route's fallback on the untouched stream.
 */
struct collector_result {
        bool has_bytes;
        uint64_t bytes;
        bool has_consumed;
        bool consumed;
        char *path;  /* optional: where the collector put it */
        char *error; /* optional: what went wrong */
};

/* Whether id keeps the protocol's promise: [0-9A-Za-z-], 1 to COLLECTOR_ID_MAX bytes. */
bool collector_id_valid(const char *id);

void collector_request_done(struct collector_request *r);
void collector_answer_done(struct collector_answer *a);
void collector_result_done(struct collector_result *r);

/*
 * Message 1 from the dump's record, in the container's view: its own pid and
 * ids, the host's only when the record exposes them. A cmdline too long for
 * the message is cut, never the message refused.
 */
int collector_request_format(const struct dump_record *r, uint64_t max_bytes, uint64_t deadline_ms,
                             char **ret, size_t *ret_len);
/* The record a parsed request describes (a view into it), for the collector's own <id>.json. */
void collector_request_record(const struct collector_request *q, struct record_container *c,
                              struct dump_record *ret);
int collector_answer_format(const struct collector_answer *a, char **ret, size_t *ret_len);
int collector_dump_format(const char *id, char **ret, size_t *ret_len);
int collector_result_format(const struct collector_result *r, char **ret, size_t *ret_len);

/*
 * Parsers take exactly the bytes of one message (not NUL-terminated).
 * -EMSGSIZE: larger than COLLECTOR_MSG_MAX; -EBADMSG: not a JSON object, bad
 * UTF-8, a known field of the wrong type, or a required field missing;
 * -EPROTONOSUPPORT (request only): a version other than 1.
 */
int collector_request_parse(const char *buf, size_t len, struct collector_request *ret);
int collector_answer_parse(const char *buf, size_t len, struct collector_answer *ret);
int collector_dump_parse(const char *buf, size_t len, char **ret_id);
int collector_result_parse(const char *buf, size_t len, struct collector_result *ret);
