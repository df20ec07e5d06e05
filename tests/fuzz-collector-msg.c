/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: the four collector protocol parsers on one message's bytes.
 * The collector reads requests and dump messages from the proxy, the proxy
 * reads answers and results from a collector inside a container: each side is
 * the other's peer, and a container is not trusted. Every input goes through
 * all four parsers, and whatever parses must survive a round trip: formatted
 * again, it parses, loses nothing the sender keeps, and formats the same.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/protocol/collector-msg.h"
#include "kernel/cleanup.h"

/* Message 1 as the proxy formats it: from the record a parsed request describes. */
static int format_q(const struct collector_request *q, char **ret, size_t *ret_len)
{
        struct record_container c;
        struct dump_record rec;

        collector_request_record(q, &c, &rec);
        return collector_request_format(&rec, q->max_bytes, q->deadline_ms, ret, ret_len);
}

/*
 * What a sender writes of one string (collector-msg.c's SEND_STRING_MAX). A
 * parser takes up to four times as much, so the formatters cut free text to
 * this and refuse identifiers beyond it: with an id outside the protocol's
 * alphabet, the only ways a parsed message may fail to format again.
 */
#define SEND_STRING_MAX 4096U

/* A broken promise of the API is a finding too: crash, so that libFuzzer keeps the input. */
#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool str_eq(const char *a, const char *b)
{
        return a && b ? strcmp(a, b) == 0 : a == b;
}

/* b is what a formatter may keep of a: a itself, or a prefix cut at a character boundary. */
static bool str_cut_of(const char *a, const char *b)
{
        return a && b ? strncmp(a, b, strlen(b)) == 0 : a == b;
}

static bool too_long(const char *s)
{
        return s && strlen(s) > SEND_STRING_MAX;
}

/* The format of a parsed message, which must parse and format to the same bytes again. */
static void check_stable(const char *doc, size_t len, const char *again, size_t again_len)
{
        CHECK(len <= COLLECTOR_MSG_MAX);
        CHECK(again_len == len && memcmp(doc, again, len) == 0);
}

static void fuzz_request(const char *buf, size_t len)
{
        _cleanup_(collector_request_done) struct collector_request a = {}, b = {};
        _cleanup_free_ char *doc = NULL, *again = NULL;
        size_t doc_len = 0, again_len = 0;
        int r;

        r = collector_request_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -EPROTONOSUPPORT || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.version == COLLECTOR_PROTOCOL_VERSION && a.id && a.id[0]);
        CHECK(a.has_container || (!a.runtime && !a.container_id && !a.pod_uid));

        r = format_q(&a, &doc, &doc_len);
        /* An id outside the protocol's [0-9A-Za-z-]{1,128} is never sent. */
        if (r == -EINVAL && (!collector_id_valid(a.id) || too_long(a.time) || too_long(a.mode) ||
                             too_long(a.runtime) || too_long(a.container_id) || too_long(a.pod_uid)))
                return;
        if (r == -EMSGSIZE) {
                /*
                 * Free text is cut by raw bytes, and a control character takes six
                 * once escaped: four KiB of them in each of comm, exe and host_cgroup
                 * outgrow the message. The formatter shortens only the cmdline to
                 * fit, so it may give up only when no cmdline at all would fit.
                 */
                struct collector_request bare = a;
                _cleanup_free_ char *t = NULL;

                bare.cmdline = NULL;
                CHECK(format_q(&bare, &t, NULL) == -EMSGSIZE);
                return;
        }
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;

        r = collector_request_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(str_eq(a.id, b.id) && str_eq(a.time, b.time));
        CHECK(a.pid == b.pid && a.uid == b.uid && a.gid == b.gid && a.signal == b.signal);
        CHECK(a.max_bytes == b.max_bytes && a.deadline_ms == b.deadline_ms && a.host_pid == b.host_pid);
        CHECK(a.has_container == b.has_container && str_eq(a.runtime, b.runtime) &&
              str_eq(a.container_id, b.container_id) && str_eq(a.pod_uid, b.pod_uid));
        CHECK(str_cut_of(a.comm, b.comm) && str_cut_of(a.exe, b.exe) && str_cut_of(a.cmdline, b.cmdline) &&
              str_cut_of(a.host_cgroup, b.host_cgroup));
        /* Names are never cut: they come through whole, or (labels and annotations) not at all. */
        CHECK(str_eq(a.names.name, b.names.name) && str_eq(a.names.image, b.names.image) &&
              str_eq(a.names.pod_name, b.names.pod_name) &&
              str_eq(a.names.pod_namespace, b.names.pod_namespace));
        CHECK(b.names.labels.n == a.names.labels.n || b.names.labels.n == 0);

        r = format_q(&b, &again, &again_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_stable(doc, doc_len, again, again_len);
}

static void fuzz_answer(const char *buf, size_t len)
{
        _cleanup_(collector_answer_done) struct collector_answer a = {}, b = {};
        _cleanup_free_ char *doc = NULL, *again = NULL;
        size_t doc_len = 0, again_len = 0;
        int r;

        r = collector_answer_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;

        r = collector_answer_format(&a, &doc, &doc_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        r = collector_answer_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.accept == b.accept);
        /* only a decline carries its reason */
        CHECK(a.accept ? !b.reason : str_cut_of(a.reason, b.reason));

        r = collector_answer_format(&b, &again, &again_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_stable(doc, doc_len, again, again_len);
}

static void fuzz_dump(const char *buf, size_t len)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *doc = NULL, *again = NULL;
        size_t doc_len = 0, again_len = 0;
        int r;

        r = collector_dump_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a && a[0]);

        r = collector_dump_format(a, &doc, &doc_len);
        if (r == -EINVAL && !collector_id_valid(a))
                return;
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        r = collector_dump_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(str_eq(a, b));

        r = collector_dump_format(b, &again, &again_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_stable(doc, doc_len, again, again_len);
}

static void fuzz_result(const char *buf, size_t len)
{
        _cleanup_(collector_result_done) struct collector_result a = {}, b = {};
        _cleanup_free_ char *doc = NULL, *again = NULL;
        size_t doc_len = 0, again_len = 0;
        int r;

        r = collector_result_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.has_bytes || a.bytes == 0);

        r = collector_result_format(&a, &doc, &doc_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        r = collector_result_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.has_bytes == b.has_bytes && a.bytes == b.bytes);
        CHECK(str_cut_of(a.path, b.path) && str_cut_of(a.error, b.error));

        r = collector_result_format(&b, &again, &again_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                check_stable(doc, doc_len, again, again_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *) data;

        /* One corpus for all four: they share the framing and the JSON layer, and differ in fields. */
        fuzz_request(buf, size);
        fuzz_answer(buf, size);
        fuzz_dump(buf, size);
        fuzz_result(buf, size);
        return 0;
}
