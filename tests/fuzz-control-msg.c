/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: what reaches the daemon's control socket and a hook's stdin,
 * and what the daemon keeps across restarts: control requests and replies,
 * the OCI state a runtime hands its hooks, and registration files. Whatever
 * parses must format again and parse to the same thing.
 */

#include <errno.h>
#include <stdint.h>

#include "proxy/names/registry.h"
#include "proxy/protocol/control-msg.h"
#include "proxy/protocol/oci-state.h"
#include "tests/fuzz-names-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_request(const char *buf, size_t len)
{
        _cleanup_(control_request_done) struct control_request a = {}, b = {};
        _cleanup_free_ char *doc = NULL;
        size_t doc_len = 0;
        int r;

        r = control_request_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.verb == CONTROL_STATUS || (a.id && a.id[0]));
        CHECK(a.annotations.n <= CONTROL_ANNOTATIONS_MAX);
        r = control_request_format(&a, &doc, &doc_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(doc_len <= CONTROL_REQUEST_MAX);
        r = control_request_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.verb == b.verb && str_same(a.id, b.id) && str_same(a.bundle, b.bundle));
        CHECK(b.annotations.n <= a.annotations.n);
}

static void fuzz_reply(const char *buf, size_t len)
{
        _cleanup_(control_reply_done) struct control_reply a = {}, b = {};
        _cleanup_free_ char *doc = NULL;
        size_t doc_len = 0;
        int r;

        r = control_reply_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        r = control_reply_format(&a, &doc, &doc_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        r = control_reply_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                CHECK(a.ok == b.ok && str_same(a.error, b.error) && str_same(a.id, b.id) &&
                      a.removed == b.removed);
}

static void fuzz_state(const char *buf, size_t len)
{
        _cleanup_(oci_state_done) struct oci_state s = {};
        int r;

        r = oci_state_parse(buf, len, &s);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(s.id && s.id[0] && s.pid >= 0 && s.annotations.n <= CONTROL_ANNOTATIONS_MAX);
}

static void fuzz_registration(const char *buf, size_t len)
{
        _cleanup_(registry_entry_done) struct registry_entry a = {}, b = {};
        _cleanup_free_ char *doc = NULL;
        size_t doc_len = 0;
        int r;

        r = registry_entry_parse(buf, len, &a);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        if (r < 0)
                return;
        CHECK(a.id && !strchr(a.id, '/'));
        check_names(&a.names);
        r = registry_entry_format(&a, &doc, &doc_len);
        CHECK(r == 0 || r == -ENOMEM);
        if (r < 0)
                return;
        r = registry_entry_parse(doc, doc_len, &b);
        CHECK(r == 0 || r == -ENOMEM);
        if (r == 0)
                CHECK(a.runtime == b.runtime && str_same(a.id, b.id) && a.cgroup_id == b.cgroup_id &&
                      str_same(a.names.name, b.names.name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *) data;

        fuzz_request(buf, size);
        fuzz_reply(buf, size);
        fuzz_state(buf, size);
        fuzz_registration(buf, size);
        return 0;
}
