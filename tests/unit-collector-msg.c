/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The collector protocol's four messages: exact wire form, round trips, the
 * null/absent rules, and everything a hostile or newer peer may send.
 */

#include <errno.h>
#include <string.h>

#include "proxy/protocol/collector-msg.h"
#include "kernel/cleanup.h"
#include "tests/tap.h"

/* Message 1 as the proxy formats it: from the record a parsed request describes. */
static int format_q(const struct collector_request *q, char **ret, size_t *ret_len)
{
        struct record_container c;
        struct dump_record rec;

        collector_request_record(q, &c, &rec);
        return collector_request_format(&rec, q->max_bytes, q->deadline_ms, ret, ret_len);
}

#define FFFD "\xef\xbf\xbd"

static int parse_request(const char *s, struct collector_request *ret)
{
        return collector_request_parse(s, strlen(s), ret);
}

static int parse_answer(const char *s, struct collector_answer *ret)
{
        return collector_answer_parse(s, strlen(s), ret);
}

static int parse_result(const char *s, struct collector_result *ret)
{
        return collector_result_parse(s, strlen(s), ret);
}

static int parse_dump(const char *s, char **ret)
{
        return collector_dump_parse(s, strlen(s), ret);
}

static void test_request_roundtrip(void)
{
        _cleanup_(collector_request_done) struct collector_request back = {};
        _cleanup_free_ char *s = NULL;
        struct collector_request r = {
                .version = COLLECTOR_PROTOCOL_VERSION,
                .id = (char *) "0123456789abcdef",
                .pid = 7,
                .uid = 1000,
                .gid = 4294967295LL,
                .comm = (char *) "my \"app\"\n",
                .exe = (char *) "/usr/bin/\xc3\xa9t\xc3\xa9",
                .cmdline = (char *) "app --flag=\\x \xf0\x9f\x98\x80",
                .signal = 11,
                .time = (char *) "2025-11-27T13:56:00.123456Z",
                .mode = (char *) "request",
                .has_container = true,
                .runtime = (char *) "containerd",
                .container_id = (char *) "c0ffee",
                .pod_uid = (char *) "11111111-2222-3333-4444-555555555555",
                .max_bytes = 1ULL << 40,
                .deadline_ms = 299500,
                .host_pid = 4242,
                .host_cgroup = (char *) "/kubepods.slice/x.scope",
                .host_exe = (char *) "/var/lib/ct/rootfs/usr/bin/app",
        };
        size_t n = 0;

        is_int(format_q(&r, &s, &n), 0, "request: format a full request");
        ok(s && n == strlen(s), "request: length matches");
        is_str(s,
               "{\"version\":1,\"id\":\"0123456789abcdef\",\"time\":\"2025-11-27T13:56:00.123456Z\","
               "\"pid\":7,\"uid\":1000,\"gid\":4294967295,\"comm\":\"my \\\"app\\\"\\n\",\"signal\":11,"
               "\"mode\":\"request\",\"container\":{\"runtime\":\"containerd\","
               "\"id\":\"c0ffee\",\"pod_uid\":\"11111111-2222-3333-4444-555555555555\"},"
               "\"exe\":\"/usr/bin/\xc3\xa9t\xc3\xa9\",\"cmdline\":\"app --flag=\\\\x \xf0\x9f\x98\x80\","
               "\"max_bytes\":1099511627776,\"deadline_ms\":299500,\"host_pid\":4242,"
               "\"host_cgroup\":\"/kubepods.slice/x.scope\",\"host_exe\":\"/var/lib/ct/rootfs/usr/bin/"
               "app\"}",
               "request: wire form, field names of the interface");

        is_int(collector_request_parse(s, n, &back), 0, "request: parse it back");
        is_int(back.version, 1, "request: version");
        is_str(back.id, r.id, "request: id");
        is_int(back.pid, 7, "request: pid");
        is_int(back.uid, 1000, "request: uid");
        is_int(back.gid, 4294967295LL, "request: gid at UINT32_MAX");
        is_str(back.comm, r.comm, "request: comm with quotes and newline");
        is_str(back.exe, r.exe, "request: exe with UTF-8");
        is_str(back.cmdline, r.cmdline, "request: cmdline with backslash and emoji");
        is_int(back.signal, 11, "request: signal");
        is_str(back.time, r.time, "request: time");
        is_str(back.mode, "request", "request: mode");
        ok(back.has_container, "request: has a container");
        is_str(back.runtime, "containerd", "request: runtime");
        is_str(back.container_id, "c0ffee", "request: container id");
        is_str(back.pod_uid, r.pod_uid, "request: pod uid");
        ok(back.max_bytes == 1ULL << 40, "request: max_bytes");
        ok(back.deadline_ms == 299500, "request: deadline_ms");
        is_int(back.host_pid, 4242, "request: host_pid");
        is_str(back.host_cgroup, r.host_cgroup, "request: host_cgroup");
        is_str(back.host_exe, r.host_exe, "request: host_exe");

        collector_request_done(&back);
        ok(!back.id && back.pid == -1 && back.uid == -1 && back.host_pid == -1 && !back.has_container,
           "request: done resets to nothing known");
        collector_request_done(NULL);
}

static void test_request_unknown(void)
{
        _cleanup_(collector_request_done) struct collector_request back = {};
        _cleanup_free_ char *s = NULL;
        struct collector_request r = {
                .id = (char *) "x",
                .pid = -1,
                .uid = -1,
                .gid = -1,
                .host_pid = -1,
                .deadline_ms = 5,
        };

        is_int(format_q(&r, &s, NULL), 0, "unknown: format a request that knows little");
        is_str(s,
               "{\"version\":1,\"id\":\"x\",\"time\":null,\"pid\":null,\"uid\":null,\"gid\":null,"
               "\"comm\":null,\"signal\":null,\"mode\":null,\"container\":null,\"exe\":null,"
               "\"cmdline\":null,\"max_bytes\":null,\"deadline_ms\":5}",
               "unknown: nulls, and no host fields");
        is_int(parse_request(s, &back), 0, "unknown: parse it back");
        ok(back.pid == -1 && back.uid == -1 && back.gid == -1 && back.host_pid == -1,
           "unknown: null ids are -1");
        ok(back.signal == 0 && back.max_bytes == 0 && !back.has_container,
           "unknown: signal, limit, container");
        ok(!back.comm && !back.exe && !back.cmdline && !back.time && !back.host_cgroup,
           "unknown: null strings are NULL");
        collector_request_done(&back);

        /* a container whose pod is unknown: pod_uid is left out */
        s = mfree_str(s);
        r.has_container = true;
        r.runtime = (char *) "docker";
        is_int(format_q(&r, &s, NULL), 0, "unknown: format a container without pod");
        ok(s && strstr(s, "\"container\":{\"runtime\":\"docker\",\"id\":null}"), "unknown: no pod_uid key");
        is_int(parse_request(s, &back), 0, "unknown: parse it back");
        ok(back.has_container && !back.pod_uid && !back.container_id, "unknown: container, no pod uid");
        is_str(back.runtime, "docker", "unknown: runtime");
        collector_request_done(&back);

        /* the smallest request a peer may send: everything optional left out */
        is_int(parse_request("{\"version\":1,\"id\":\"m\"}", &back), 0, "minimal: version and id only");
        ok(back.pid == -1 && back.host_pid == -1 && back.deadline_ms == 0 && !back.has_container,
           "minimal: defaults");
        collector_request_done(&back);
        is_int(parse_request("{\"id\":\"m\",\"version\":1,\"container\":{},\"pid\":0,\"signal\":0}", &back),
               0, "minimal: empty container object, pid 0, signal 0");
        ok(back.has_container && !back.runtime && back.pid == 0 && back.signal == 0,
           "minimal: an empty container is still a container");
}

static void test_request_format_errors(void)
{
        char *s = (char *) "sentinel";
        struct collector_request r = { .id = (char *) "x", .pid = -1, .uid = -1, .gid = -1, .host_pid = -1 };

        r.id = NULL;
        is_int(format_q(&r, &s, NULL), -EINVAL, "format: a request needs an id");
        r.id = (char *) "";
        is_int(format_q(&r, &s, NULL), -EINVAL, "format: an empty id");
        r.id = (char *) "x";
        r.uid = 4294967296LL;
        is_int(format_q(&r, &s, NULL), -EINVAL, "format: uid above UINT32_MAX");
        r.uid = -1;
        r.pid = 1LL << 40;
        is_int(format_q(&r, &s, NULL), -EINVAL, "format: pid beyond pid_t");
        r.pid = -1;
        r.signal = -3;
        is_int(format_q(&r, &s, NULL), -EINVAL, "format: negative signal");
        r.signal = 0;
        is_str(s, "sentinel", "format: ret untouched on failure");
}

static void test_request_long_strings(void)
{
        _cleanup_(collector_request_done) struct collector_request back = {};
        _cleanup_free_ char *s = NULL, *cmd = NULL, *exe = NULL;
        struct collector_request r = { .id = (char *) "long", .pid = 1, .uid = 0, .gid = 0, .host_pid = -1 };
        size_t n = 0, i;

        /* a JVM-sized command line: cut to fit the message, the dump still goes out */
        cmd = malloc(200001);
        exe = malloc(10001);
        if (!cmd || !exe)
                tap_skip_all("out of memory");
        for (i = 0; i < 200000; i++)
                cmd[i] = (char) ('a' + i % 26);
        cmd[i] = '\0';
        r.cmdline = cmd;
        is_int(format_q(&r, &s, &n), 0, "long: 200 KB cmdline still formats");
        ok(n <= COLLECTOR_MSG_MAX, "long: message within COLLECTOR_MSG_MAX (%zu)", n);
        ok(n > COLLECTOR_MSG_MAX - 64, "long: and close to it");
        is_int(collector_request_parse(s, n, &back), 0, "long: parses");
        ok(back.cmdline && strncmp(back.cmdline, cmd, strlen(back.cmdline)) == 0,
           "long: cmdline is a prefix");
        collector_request_done(&back);
        s = mfree_str(s);

        /* controls expand sixfold when escaped */
        memset(cmd, '\x01', 200000);
        is_int(format_q(&r, &s, &n), 0, "long: 200 KB of control characters");
        ok(n <= COLLECTOR_MSG_MAX && n > COLLECTOR_MSG_MAX - 64, "long: fits tightly (%zu)", n);
        is_int(collector_request_parse(s, n, &back), 0, "long: parses");
        ok(back.cmdline && strlen(back.cmdline) > 10000, "long: keeps %zu bytes",
           back.cmdline ? strlen(back.cmdline) : 0);
        collector_request_done(&back);
        s = mfree_str(s);

        /* cut between code points, never inside one */
        for (i = 0; i + 1 < 200000; i += 2) {
                cmd[i] = '\xc3';
                cmd[i + 1] = '\xa9';
        }
        is_int(format_q(&r, &s, &n), 0, "long: 100000 two-byte characters");
        is_int(collector_request_parse(s, n, &back), 0, "long: parses");
        ok(back.cmdline && strlen(back.cmdline) % 2 == 0 && !strstr(back.cmdline, FFFD),
           "long: no character cut in half");
        collector_request_done(&back);
        s = mfree_str(s);
        r.cmdline = NULL;

        /* exe from a hostile process: cut, and even 4096 invalid bytes parse again */
        memset(exe, '\xff', 10000);
        exe[10000] = '\0';
        r.exe = exe;
        r.comm = exe;
        is_int(format_q(&r, &s, &n), 0, "long: 10000 invalid bytes in exe and comm");
        is_int(collector_request_parse(s, n, &back), 0, "long: parses");
        is_int(back.exe ? strlen(back.exe) : 0, 4096 * 3, "long: exe cut to 4096 bytes, each one U+FFFD");
        collector_request_done(&back);
        s = mfree_str(s);
        r.exe = r.comm = NULL;

        /* identifiers are never cut: a changed id would not match message 3 */
        memset(exe, 'i', 10000);
        r.id = exe;
        is_int(format_q(&r, &s, &n), -EINVAL, "long: an oversized id is refused");
        is_int(collector_dump_format(exe, &s, &n), -EINVAL, "long: also in message 3");
}

static void test_request_parse_errors(void)
{
        _cleanup_(collector_request_done) struct collector_request back = {};
        unsigned written = 0;
        static const struct {
                const char *json;
                int want;
                const char *what;
        } cases[] = {
                { "{\"version\":2,\"id\":\"x\"}", -EPROTONOSUPPORT, "version 2" },
                { "{\"version\":0,\"id\":\"x\"}", -EPROTONOSUPPORT, "version 0" },
                { "{\"version\":2,\"id\":7,\"pid\":\"a\"}", -EPROTONOSUPPORT,
                  "version 2 decides before types" },
                { "{\"version\":\"1\",\"id\":\"x\"}", -EBADMSG, "version as a string" },
                { "{\"version\":1.0,\"id\":\"x\"}", -EBADMSG, "version as a double" },
                { "{\"version\":null,\"id\":\"x\"}", -EBADMSG, "version null" },
                { "{\"id\":\"x\"}", -EBADMSG, "version missing" },
                { "{\"version\":1}", -EBADMSG, "id missing" },
                { "{\"version\":1,\"id\":null}", -EBADMSG, "id null" },
                { "{\"version\":1,\"id\":\"\"}", -EBADMSG, "id empty" },
                { "{\"version\":1,\"id\":5}", -EBADMSG, "id a number" },
                { "{\"version\":1,\"id\":\"x\",\"pid\":\"7\"}", -EBADMSG, "pid a string" },
                { "{\"version\":1,\"id\":\"x\",\"pid\":-1}", -EBADMSG, "pid negative (unknown is null)" },
                { "{\"version\":1,\"id\":\"x\",\"pid\":2147483648}", -EBADMSG, "pid beyond pid_t" },
                { "{\"version\":1,\"id\":\"x\",\"uid\":4294967296}", -EBADMSG, "uid above UINT32_MAX" },
                { "{\"version\":1,\"id\":\"x\",\"gid\":-5}", -EBADMSG, "gid negative" },
                { "{\"version\":1,\"id\":\"x\",\"signal\":11.5}", -EBADMSG, "signal a double" },
                { "{\"version\":1,\"id\":\"x\",\"signal\":-11}", -EBADMSG, "signal negative" },
                { "{\"version\":1,\"id\":\"x\",\"signal\":4294967296}", -EBADMSG, "signal beyond int" },
                { "{\"version\":1,\"id\":\"x\",\"comm\":[]}", -EBADMSG, "comm an array" },
                { "{\"version\":1,\"id\":\"x\",\"exe\":true}", -EBADMSG, "exe a bool" },
                { "{\"version\":1,\"id\":\"x\",\"cmdline\":{}}", -EBADMSG, "cmdline an object" },
                { "{\"version\":1,\"id\":\"x\",\"time\":1}", -EBADMSG, "time a number" },
                { "{\"version\":1,\"id\":\"x\",\"container\":[]}", -EBADMSG, "container an array" },
                { "{\"version\":1,\"id\":\"x\",\"container\":\"docker\"}", -EBADMSG, "container a string" },
                { "{\"version\":1,\"id\":\"x\",\"container\":{\"id\":1}}", -EBADMSG,
                  "container id a number" },
                { "{\"version\":1,\"id\":\"x\",\"container\":{\"pod_uid\":[]}}", -EBADMSG,
                  "pod_uid an array" },
                { "{\"version\":1,\"id\":\"x\",\"max_bytes\":-1}", -EBADMSG, "max_bytes negative" },
                { "{\"version\":1,\"id\":\"x\",\"max_bytes\":1e9}", -EBADMSG, "max_bytes a double" },
                { "{\"version\":1,\"id\":\"x\",\"deadline_ms\":\"5s\"}", -EBADMSG, "deadline_ms a string" },
                { "{\"version\":1,\"id\":\"x\",\"host_pid\":-1}", -EBADMSG, "host_pid negative" },
                { "{\"version\":1,\"id\":\"x\",\"host_cgroup\":0}", -EBADMSG, "host_cgroup a number" },
                { "{\"version\":1,\"id\":\"x\",\"host_exe\":[]}", -EBADMSG, "host_exe an array" },
                { "{\"version\":1,\"id\":\"x\",\"comm\":\"a\\u0000b\"}", -EBADMSG,
                  "\\u0000 inside a string" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                back.id = (char *) "sentinel";
                is_int(parse_request(cases[i].json, &back), cases[i].want, "request parse: %s",
                       cases[i].what);
                if (!back.id || strcmp(back.id, "sentinel") != 0) {
                        written++;
                        continue;
                }
                back.id = NULL;
        }
        is_int(written, 0, "request parse: ret untouched by every failure");

        is_int(parse_request(
                       "{\"version\":1,\"id\":\"x\",\"future\":{\"deep\":[1,{\"a\":null}]},\"labels\":[],"
                       "\"container\":{\"names\":[\"web\"],\"labels\":{\"k\":\"v\"},\"id\":\"c\"},"
                       "\"pid\":3,\"zzz\":1.5}",
                       &back),
               0, "request parse: unknown fields at both levels are ignored");
        is_str(back.container_id, "c", "request parse: known fields still read next to unknown ones");
        is_int(back.pid, 3, "request parse: pid after unknown fields");
        collector_request_done(&back);

        is_int(parse_request(
                       "{\"version\":1,\"id\":\"x\",\"uid\":4294967295,\"max_bytes\":18446744073709551615}",
                       &back),
               0, "request parse: largest uid and max_bytes");
        ok(back.uid == 4294967295LL && back.max_bytes == UINT64_MAX, "request parse: values kept");
}

static void test_answer(void)
{
        _cleanup_(collector_answer_done) struct collector_answer back = {};
        _cleanup_free_ char *s = NULL;
        struct collector_answer a = { .accept = true, .reason = (char *) "ignored with an accept" };

        is_int(collector_answer_format(&a, &s, NULL), 0, "answer: format accept");
        is_str(s, "{\"accept\":true}", "answer: accept wire form");
        is_int(parse_answer(s, &back), 0, "answer: parse accept");
        ok(back.accept && !back.reason, "answer: accept round trip");
        collector_answer_done(&back);

        s = mfree_str(s);
        a = (struct collector_answer){ .accept = false, .reason = (char *) "disk \"full\"" };
        is_int(collector_answer_format(&a, &s, NULL), 0, "answer: format decline");
        is_str(s, "{\"accept\":false,\"reason\":\"disk \\\"full\\\"\"}", "answer: decline wire form");
        is_int(parse_answer(s, &back), 0, "answer: parse decline");
        ok(!back.accept, "answer: declined");
        is_str(back.reason, "disk \"full\"", "answer: reason");
        collector_answer_done(&back);

        s = mfree_str(s);
        a.reason = NULL;
        is_int(collector_answer_format(&a, &s, NULL), 0, "answer: decline without reason");
        is_str(s, "{\"accept\":false}", "answer: no reason key");

        is_int(parse_answer("{\"accept\":false,\"reason\":null,\"retry_after\":5}", &back), 0,
               "answer: null reason, unknown field");
        ok(!back.accept && !back.reason, "answer: values");
        collector_answer_done(&back);
        is_int(parse_answer("{}", &back), -EBADMSG, "answer: accept is required");
        is_int(parse_answer("{\"accept\":null}", &back), -EBADMSG, "answer: accept null");
        is_int(parse_answer("{\"accept\":\"true\"}", &back), -EBADMSG, "answer: accept a string");
        is_int(parse_answer("{\"accept\":1}", &back), -EBADMSG, "answer: accept a number");
        is_int(parse_answer("{\"accept\":true,\"reason\":3}", &back), -EBADMSG, "answer: reason a number");
        collector_answer_done(NULL);
}

static void test_dump(void)
{
        _cleanup_free_ char *s = NULL, *id = NULL;

        is_int(collector_dump_format("abc-1", &s, NULL), 0, "dump: format");
        is_str(s, "{\"dump\":\"abc-1\"}", "dump: wire form");
        is_int(parse_dump(s, &id), 0, "dump: parse");
        is_str(id, "abc-1", "dump: id");
        id = mfree_str(id);
        is_int(collector_dump_format(NULL, &s, NULL), -EINVAL, "dump: NULL id");
        is_int(parse_dump("{\"dump\":\"x\",\"fds\":2}", &id), 0, "dump: unknown field ignored");
        id = mfree_str(id);
        is_int(parse_dump("{}", &id), -EBADMSG, "dump: id required");
        is_int(parse_dump("{\"dump\":null}", &id), -EBADMSG, "dump: id null");
        is_int(parse_dump("{\"dump\":1}", &id), -EBADMSG, "dump: id a number");
        is_int(parse_dump("{\"dump\":\"\"}", &id), -EBADMSG, "dump: id empty");
        ok(!id, "dump: ret_id untouched on failure");
}

static void test_result(void)
{
        _cleanup_(collector_result_done) struct collector_result back = {};
        _cleanup_free_ char *s = NULL;
        struct collector_result r = {
                .has_bytes = true,
                .bytes = 123456789012ULL,
                .path = (char *) "/var/crash/x.core",
                .error = (char *) "short write",
        };

        is_int(collector_result_format(&r, &s, NULL), 0, "result: format");
        is_str(s, "{\"bytes\":123456789012,\"path\":\"/var/crash/x.core\",\"error\":\"short write\"}",
               "result: wire form");
        is_int(parse_result(s, &back), 0, "result: parse");
        ok(back.has_bytes && back.bytes == 123456789012ULL, "result: bytes");
        is_str(back.path, r.path, "result: path");
        is_str(back.error, r.error, "result: error");
        collector_result_done(&back);

        s = mfree_str(s);
        r = (struct collector_result){ .has_bytes = true, .bytes = 0 };
        is_int(collector_result_format(&r, &s, NULL), 0, "result: zero bytes");
        is_str(s, "{\"bytes\":0}", "result: zero bytes wire form");
        is_int(parse_result(s, &back), 0, "result: parse zero bytes");
        ok(back.has_bytes && back.bytes == 0, "result: zero is known, not absent");
        collector_result_done(&back);

        s = mfree_str(s);
        r = (struct collector_result){};
        is_int(collector_result_format(&r, &s, NULL), 0, "result: nothing known");
        is_str(s, "{}", "result: empty object");
        is_int(parse_result(s, &back), 0, "result: parse empty object");
        ok(!back.has_bytes && !back.path && !back.error, "result: all absent");

        is_int(parse_result("{\"bytes\":5,\"sha256\":\"ab\",\"path\":null}", &back), 0,
               "result: unknown field, null path");
        ok(back.has_bytes && back.bytes == 5 && !back.path, "result: values");
        collector_result_done(&back);
        is_int(parse_result("{\"bytes\":-1}", &back), -EBADMSG, "result: negative bytes");
        is_int(parse_result("{\"bytes\":-9223372036854775808}", &back), -EBADMSG, "result: INT64_MIN bytes");
        is_int(parse_result("{\"bytes\":\"5\"}", &back), -EBADMSG, "result: bytes a string");
        is_int(parse_result("{\"bytes\":5.5}", &back), -EBADMSG, "result: bytes a double");
        is_int(parse_result("{\"bytes\":true}", &back), -EBADMSG, "result: bytes a bool");
        is_int(parse_result("{\"path\":[\"a\"]}", &back), -EBADMSG, "result: path an array");
        is_int(parse_result("{\"error\":{}}", &back), -EBADMSG, "result: error an object");
        is_int(parse_result("{\"bytes\":18446744073709551615}", &back), 0, "result: UINT64_MAX bytes");
        ok(back.bytes == UINT64_MAX, "result: UINT64_MAX kept");
        collector_result_done(NULL);
}

/* Framing rules shared by all four parsers. */
static void test_framing(void)
{
        _cleanup_(collector_answer_done) struct collector_answer a = {};
        _cleanup_(collector_request_done) struct collector_request req = {};
        _cleanup_(collector_result_done) struct collector_result res = {};
        _cleanup_free_ char *big = NULL, *id = NULL;
        static const char *const bad[] = {
                "",
                " ",
                "[]",
                "[{\"accept\":true}]",
                "1",
                "\"x\"",
                "null",
                "true",
                "{",
                "{\"accept\":tru",
                "{\"accept\":true",
                "{\"accept\":true}x",
                "{}{}",
                "{\"accept\":true,}",
                "{\"accept\":true}\n{}",
                "{\"accept\" true}",
                "{\"accept\":true}]",
                "\xef\xbb\xbf{\"accept\":true}",
        };
        static const char nul_after[] = "{\"accept\":true}\0";
        static const char nul_inside[] = "{\"dump\":\"a\0b\"}";
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad); i++)
                is_int(parse_answer(bad[i], &a), -EBADMSG, "framing: rejects malformed message %zu", i);

        is_int(parse_answer("{\"accept\":true}\n", &a), 0, "framing: trailing newline is JSON whitespace");
        is_int(parse_answer(" \t{\"accept\":true} \r\n", &a), 0, "framing: surrounding whitespace");
        is_int(collector_answer_parse(nul_after, sizeof(nul_after) - 1, &a), -EBADMSG,
               "framing: NUL after the object");
        is_int(collector_dump_parse(nul_inside, sizeof(nul_inside) - 1, &id), -EBADMSG,
               "framing: NUL inside a string");
        is_int(parse_dump("{\"dump\":\"\xff\"}", &id), -EBADMSG, "framing: invalid UTF-8");
        is_int(parse_dump("{\"dump\":\"\xed\xa0\x80\"}", &id), -EBADMSG, "framing: encoded surrogate");
        is_int(parse_dump("{\"dump\":\"\xc0\xaf\"}", &id), -EBADMSG, "framing: overlong");
        is_int(parse_dump("{\"dump\":\"\xf4\x90\x80\x80\"}", &id), -EBADMSG, "framing: above U+10FFFF");
        is_int(parse_dump("{\"dump\":\"x\",\"\xed\xbf\xbf\":1}", &id), -EBADMSG,
               "framing: surrogate in an unknown key");
        is_int(parse_dump("{\"dump\":\"\xf0\x9f\x98\x80\"}", &id), 0, "framing: 4-byte character accepted");
        id = mfree_str(id);
        is_int(parse_dump("{\"dump\":\"\\ud800\"}", &id), 0, "framing: escaped lone surrogate");
        is_str(id, FFFD, "framing: json-c turns it into U+FFFD");
        id = mfree_str(id);
        is_int(collector_dump_parse(NULL, 0, &id), -EBADMSG, "framing: no buffer");

        /* exactly COLLECTOR_MSG_MAX bytes is a message; one more is not */
        big = malloc(COLLECTOR_MSG_MAX + 1);
        if (!big)
                tap_skip_all("out of memory");
        memset(big, ' ', COLLECTOR_MSG_MAX + 1);
        memcpy(big, "{\"accept\":true}", 15);
        is_int(collector_answer_parse(big, COLLECTOR_MSG_MAX, &a), 0, "framing: COLLECTOR_MSG_MAX bytes");
        is_int(collector_answer_parse(big, COLLECTOR_MSG_MAX + 1, &a), -EMSGSIZE, "framing: one byte more");
        is_int(collector_request_parse(big, COLLECTOR_MSG_MAX + 1, &req), -EMSGSIZE,
               "framing: request too big");
        is_int(collector_dump_parse(big, COLLECTOR_MSG_MAX + 1, &id), -EMSGSIZE, "framing: dump too big");
        is_int(collector_result_parse(big, COLLECTOR_MSG_MAX + 1, &res), -EMSGSIZE,
               "framing: result too big");
        is_int(collector_result_parse(big, SIZE_MAX, &res), -EMSGSIZE, "framing: SIZE_MAX length");

        /* a long string within the message: cmdline may use it, short fields may not */
        memset(big, 'a', COLLECTOR_MSG_MAX);
        memcpy(big, "{\"version\":1,\"id\":\"x\",\"cmdline\":\"", 33);
        memcpy(big + COLLECTOR_MSG_MAX - 2, "\"}", 2);
        is_int(collector_request_parse(big, COLLECTOR_MSG_MAX, &req), 0, "framing: 64 KiB cmdline accepted");
        collector_request_done(&req);
        memcpy(big, "{\"version\":1,\"id\":\"x\",\"comm\":\"", 30);
        memset(big + 30, 'a', 3);
        is_int(collector_request_parse(big, COLLECTOR_MSG_MAX, &req), -EBADMSG,
               "framing: 64 KiB comm refused");

        /* deeper nesting than json-c's limit in an unknown field */
        memset(big, '[', 100);
        memset(big + 100, ']', 100);
        {
                _cleanup_free_ char *deep = NULL;

                if (asprintf(&deep, "{\"version\":1,\"id\":\"x\",\"f\":%.*s}", 200, big) < 0)
                        deep = NULL;
                is_int(deep ? parse_request(deep, &req) : -ENOMEM, -EBADMSG,
                       "framing: nesting beyond the limit");
        }
}

/* Ids name files in a collector's directory: the protocol promises [0-9A-Za-z-], 1 to 128 bytes. */
static void test_ids(void)
{
        static const char *const good[] = { "20261127T135300Z-0123456789ab", "x", "A-z-0-9", "-" };
        static const char *const bad[] = { "",    "../x",        "a/b", "..", ".hidden",
                                           "a b", "caf\xc3\xa9", "x\n", "a_b" };
        char longest[COLLECTOR_ID_MAX + 2];
        _cleanup_free_ char *s = NULL;
        struct collector_request r = { .pid = -1, .uid = -1, .gid = -1, .host_pid = -1 };
        size_t n;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++)
                ok(collector_id_valid(good[i]), "id '%s' is valid", good[i]);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                ok(!collector_id_valid(bad[i]), "bad id %zu is not valid", i);
        ok(!collector_id_valid(NULL), "no id is not valid");
        memset(longest, 'i', sizeof(longest));
        longest[COLLECTOR_ID_MAX] = '\0';
        ok(collector_id_valid(longest), "an id of %u bytes is valid", COLLECTOR_ID_MAX);
        longest[COLLECTOR_ID_MAX] = 'i';
        longest[COLLECTOR_ID_MAX + 1] = '\0';
        ok(!collector_id_valid(longest), "one byte more is not");

        /* What the proxy sends keeps the promise: such an id is never formatted. */
        r.id = (char *) "../x";
        is_int(format_q(&r, &s, &n), -EINVAL, "a request with id '../x' is not formatted");
        is_int(collector_dump_format("../x", &s, &n), -EINVAL, "nor message 3");
}

/* Message 1's names (issue 12): exported pairs only, the pod's uid the cgroup's, bounds on the way in. */
static void test_request_names(void)
{
        _cleanup_(collector_request_done) struct collector_request back = {};
        _cleanup_free_ char *s = NULL, *big = NULL;
        struct container_names n = {};
        struct record_container c = { .runtime = "containerd", .id = "abc", .pod_uid = "u-1", .names = &n };
        struct dump_record rec;
        size_t len = 0;

        names_set(&n.name, "web", 3);
        names_set(&n.image, "nginx:1", 7);
        names_set(&n.pod_name, "shop-1", 6);
        names_set(&n.pod_namespace, "shop", 4);
        names_pairs_add(&n.labels, "app", "shop", 4, true);
        names_pairs_add(&n.labels, "coredump", "enabled", 7, false);
        names_pairs_add(&n.annotations, "owner", "team-a", 6, true);
        record_init(&rec);
        rec.id = "d1";
        rec.container = &c;
        is_int(collector_request_format(&rec, 0, 1000, &s, &len), 0, "names: message 1 formats");
        is_int(collector_request_parse(s, len, &back), 0, "names: message 1 parses");
        is_str(back.names.name, "web", "names: container.name");
        is_str(back.names.image, "nginx:1", "names: container.image");
        is_str(back.names.pod_name, "shop-1", "names: container.pod.name");
        is_str(back.names.pod_namespace, "shop", "names: container.pod.namespace");
        is_str(back.names.pod_uid, "u-1", "names: container.pod.uid is the cgroup's");
        ok(names_pairs_find(&back.names.labels, "app") && !names_pairs_find(&back.names.labels, "coredump"),
           "names: only exported labels leave the node");
        is_str(names_pairs_find(&back.names.annotations, "owner")->value, "team-a",
               "names: an exported annotation");
        collector_request_done(&back);
        s = mfree_str(s);

        /* Labels too large for the message: the dump still goes, with its names but not them. */
        big = malloc(NAMES_VALUE_MAX + 1);
        memset(big, 'v', NAMES_VALUE_MAX);
        big[NAMES_VALUE_MAX] = 0;
        for (int i = 0; i < NAMES_PAIRS_MAX; i++) {
                char key[16];
                snprintf(key, sizeof(key), "k%d", i);
                names_pairs_add(&n.annotations, key, big, NAMES_VALUE_MAX, true);
        }
        is_int(collector_request_format(&rec, 0, 1000, &s, &len), 0,
               "names: too many long annotations: formats");
        ok(len <= COLLECTOR_MSG_MAX, "names: within the message bound");
        is_int(collector_request_parse(s, len, &back), 0, "names: parses");
        is_str(back.names.name, "web", "names: the name stays");
        is_int(back.names.annotations.n, 0, "names: the annotations went");
        collector_request_done(&back);
        container_names_done(&n);

        is_int(parse_request("{\"version\":1,\"id\":\"x\",\"container\":{\"name\":\"a\\u0007\"}}", &back),
               -EBADMSG, "names: a control character in a name is refused");
        is_int(parse_request("{\"version\":1,\"id\":\"x\",\"container\":{\"labels\":{\"a\":1}}}", &back),
               -EBADMSG, "names: a label that is not a string is refused");
        is_int(parse_request("{\"version\":1,\"id\":\"x\",\"container\":{\"pod\":\"p\"}}", &back), -EBADMSG,
               "names: pod must be an object");
}

int main(void)
{
        test_ids();
        test_request_names();
        test_request_roundtrip();
        test_request_unknown();
        test_request_format_errors();
        test_request_long_strings();
        test_request_parse_errors();
        test_answer();
        test_dump();
        test_result();
        test_framing();
        return tap_done();
}
