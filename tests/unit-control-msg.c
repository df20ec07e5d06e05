/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The control socket's requests and replies, and the OCI state a hook reads. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/protocol/control-msg.h"
#include "proxy/protocol/oci-state.h"
#include "tests/tap.h"

static void test_requests(void)
{
        _cleanup_(control_request_done) struct control_request back = {}, q = {};
        _cleanup_free_ char *doc = NULL, *big = NULL;
        size_t len = 0;

        q.verb = CONTROL_REGISTER;
        q.id = strdup("abc");
        q.pid = 42;
        q.bundle = strdup("/run/b");
        names_pairs_append_raw(&q.annotations, "io.kubernetes.cri.container-name", "web", 3, 256);
        names_pairs_append_raw(&q.annotations, "multi", "line\nvalue", 10, 256);
        is_int(control_request_format(&q, &doc, &len), 0, "register: formats");
        is_int(control_request_parse(doc, len, &back), 0, "register: parses");
        ok(back.verb == CONTROL_REGISTER && strcmp(back.id, "abc") == 0 && back.pid == 42,
           "register: round trip");
        is_str(back.bundle, "/run/b", "register: bundle");
        is_int(back.annotations.n, 2, "register: annotations");
        is_str(names_pairs_find(&back.annotations, "multi")->value, "line\nvalue",
               "register: raw values keep what the runtime wrote");
        control_request_done(&back);
        doc = mfree_str(doc);

        /* Too much: the largest values go first, the short ones that name things stay. */
        big = malloc(40000);
        memset(big, 'x', 39999);
        big[39999] = 0;
        names_pairs_append_raw(&q.annotations, "huge-1", big, strlen(big), 256);
        names_pairs_append_raw(&q.annotations, "huge-2", big, strlen(big), 256);
        is_int(control_request_format(&q, &doc, &len), 0, "register: too large, still formats");
        ok(len <= CONTROL_REQUEST_MAX, "register: within the bound (%zu)", len);
        is_int(control_request_parse(doc, len, &back), 0, "register: parses");
        ok(names_pairs_find(&back.annotations, "io.kubernetes.cri.container-name") != NULL,
           "register: the name survives");
        ok(!names_pairs_find(&back.annotations, "huge-1") || !names_pairs_find(&back.annotations, "huge-2"),
           "register: a large value was dropped");
        control_request_done(&back);

        is_int(control_request_parse("", 0, &back), 0, "an empty request parses");
        is_int(back.verb, CONTROL_STATUS, "an empty request is a status request");
        is_int(control_request_parse("{\"request\":\"status\"}", 20, &back), 0, "status parses");
        is_int(control_request_parse("{\"request\":\"reboot\"}", 20, &back), -EBADMSG, "unknown verb");
        is_int(control_request_parse("{\"request\":\"register\"}", 22, &back), -EBADMSG,
               "register without id");
        is_int(control_request_parse("{\"request\":\"unregister\",\"id\":\"\"}", 32, &back), -EBADMSG,
               "an empty id");
        is_int(control_request_parse("{\"request\":\"register\",\"id\":\"a\",\"pid\":-1}", 40, &back),
               -EBADMSG, "a negative pid");
        is_int(control_request_parse("{\"request\":\"register\",\"id\":\"a\",\"annotations\":{\"k\":1}}", 52,
                                     &back),
               -EBADMSG, "an annotation that is not a string");
        is_int(control_request_parse("{\"request\":\"status\"} {}", 23, &back), -EBADMSG, "two documents");
}

static void test_replies(void)
{
        _cleanup_(control_reply_done) struct control_reply back = {};
        _cleanup_free_ char *doc = NULL;
        struct control_reply r = { .ok = false,
                                   .error = (char *) "the process's cgroup is another container's" };
        size_t len;

        is_int(control_reply_format(&r, &doc, &len), 0, "reply: formats");
        is_int(control_reply_parse(doc, len, &back), 0, "reply: parses");
        ok(!back.ok && strcmp(back.error, r.error) == 0, "reply: round trip");
        control_reply_done(&back);
        is_int(control_reply_parse("{\"ok\":true,\"runtime\":\"cri\",\"id\":\"x\"}\n", 37, &back), 0,
               "reply: with the newline the daemon sends");
        is_str(back.runtime, "cri", "reply: runtime");
        is_int(control_reply_parse("{\"ok\":\"yes\"}", 12, &back), -EBADMSG, "reply: ok must be a boolean");
}

static int state(const char *s, struct oci_state *ret)
{
        return oci_state_parse(s, strlen(s), ret);
}

static void test_state(void)
{
        _cleanup_(oci_state_done) struct oci_state s = {};

        is_int(state("{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"pid\":11892,\"root\":\"rootfs\",\"bundle\":\"/"
                     "b\","
                     "\"status\":\"created\",\"annotations\":{\"z\":\"1\",\"io.kubernetes.cri.sandbox-"
                     "name\":\"p\","
                     "\"n\":5}}",
                     &s),
               0, "state: crun's createRuntime state parses");
        ok(strcmp(s.id, "c1") == 0 && s.pid == 11892 && strcmp(s.bundle, "/b") == 0,
           "state: id, pid, bundle");
        is_int(s.annotations.n, 2, "state: string annotations only");
        is_str(s.annotations.items[0].key, "io.kubernetes.cri.sandbox-name",
               "state: the keys that name things first");
        oci_state_done(&s);
        is_int(state("{\"ociVersion\":\"1.0\",\"id\":\"c1\",\"pid\":0,\"status\":\"stopped\"}", &s), 0,
               "state: poststop's (pid 0)");
        oci_state_done(&s);
        is_int(state("{\"id\":\"\"}", &s), -EBADMSG, "state: an empty id");
        is_int(state("{\"pid\":1}", &s), -EBADMSG, "state: no id");
        is_int(state("{\"id\":\"a\",\"pid\":\"1\"}", &s), -EBADMSG, "state: a pid that is a string");
        is_int(state("{\"id\":\"a\",\"pid\":4294967296}", &s), -EBADMSG, "state: a pid out of range");
        is_int(state("\x89PNG\r\n", &s), -EBADMSG, "state: garbage");
        is_int(oci_state_parse("", 0, &s), -EBADMSG, "state: nothing");
}

int main(void)
{
        test_requests();
        test_replies();
        test_state();
        return tap_done();
}
