/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The config parser: defaults, every key, and the exact position and key path of each kind of error. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "config/locate.h"
#include "kernel/cleanup.h"
#include "tests/tap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

static int load(const char *text, struct config **ret, struct config_errors *errors)
{
        return config_load_string("t.json", text, strlen(text), ret, errors);
}

static bool starts_with(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void dump_errors(const struct config_errors *e)
{
        for (size_t i = 0; i < e->n; i++)
                tap_diag("  %s", e->lines[i]);
}

/*
 * Loads text, which must fail with exactly one problem whose line starts
 * with prefix ("t.json:LINE:COLUMN: KEY.PATH: ") and contains message.
 */
static void one_error(const char *what, const char *text, const char *prefix, const char *message)
{
        struct config_errors e = {};
        struct config *c = (struct config *) &e; /* must stay untouched */
        int r;

        r = load(text, &c, &e);
        is_int(r, -EINVAL, "%s: refused", what);
        ok(c == (struct config *) &e, "%s: ret left alone", what);
        is_int(e.n, 1, "%s: one problem", what);
        if (e.n >= 1) {
                bool good = starts_with(e.lines[0], prefix) && strstr(e.lines[0] + strlen(prefix), message);

                if (!good)
                        tap_diag("want %s...%s", prefix, message);
                ok(good, "%s: %s", what, e.lines[0]);
        }
        if (e.n != 1)
                dump_errors(&e);
        config_errors_clear(&e);
}

static void test_default(void)
{
        _cleanup_(config_freep) struct config *c = NULL;
        struct config_errors e = {};
        const struct route *r;

        is_int(config_load_default(&c), 0, "embedded default parses");
        if (!c)
                return;
        is_str(c->source, "(embedded default)", "default: source");
        is_str(c->listen_path, CONFIG_DEFAULT_LISTEN, "default: listen.path");
        is_int(c->protocol, PROTOCOL_AUTO, "default: protocol auto (the best the kernel offers)");
        is_str(c->events, "-", "default: events to stdout");
        is_str(c->store_directory, CONFIG_DEFAULT_STORE, "default: store.directory");
        ok(c->store_max_use.set && c->store_max_use.percent && c->store_max_use.value == 10,
           "default: max_use 10%%");
        ok(c->store_keep_free.set && c->store_keep_free.percent && c->store_keep_free.value == 15,
           "default: keep_free 15%%");
        is_int(c->limits.collector_timeout, 2 * USEC_PER_SEC, "default: collector_timeout 2s");
        is_int(c->limits.dump_timeout, 300 * USEC_PER_SEC, "default: dump_timeout 5m");
        is_int(c->limits.max_concurrent, 64, "default: max_concurrent 64");
        is_int(c->limits.per_container_dumps, 0, "default: no per-container limit");
        is_int(c->n_routes, 2, "default: two routes");
        if (c->n_routes != 2)
                return;

        r = &c->routes[0];
        is_str(r->name, "containers", "default: route 0 name");
        is_int(r->match.container, 1, "default: route 0 matches containers");
        is_int(r->action, ACTION_FORWARD, "default: route 0 forwards");
        is_str(r->address, CONFIG_DEFAULT_ADDRESS, "default: route 0 address");
        is_int(r->fallback, ACTION_STORE, "default: route 0 falls back to store");
        is_int(r->trust, TRUST_POD, "default: route 0 trusts the pod");
        ok(!r->pass_pidfd && !r->expose_host, "default: route 0 passes no pidfd, exposes no host data");

        r = &c->routes[1];
        is_str(r->name, "host", "default: route 1 name");
        is_int(r->match.container, -1, "default: route 1 matches anything");
        ok(r->match.runtimes == 0 && !r->match.uids && !r->match.comm, "default: route 1 has no conditions");
        is_int(r->action, ACTION_STORE, "default: route 1 stores");
        ok(!r->address, "default: route 1 has no address");

        config_free(TAKE_PTR(c));
        is_int(load(config_default_text(), &c, &e), 0, "default text parses as a string too");
        is_int(e.n, 0, "default text: no problems");
}

static void test_absent_keys(void)
{
        _cleanup_(config_freep) struct config *c = NULL;

        is_int(load("{}", &c, NULL), 0, "empty object parses");
        if (!c)
                return;
        is_str(c->source, "t.json", "source is the name given");
        is_str(c->listen_path, CONFIG_DEFAULT_LISTEN, "absent listen.path: default");
        is_str(c->events, "-", "absent events: stdout");
        is_int(c->n_routes, 0, "absent routes: none");
        ok(!c->routes, "absent routes: NULL");
        is_int(c->limits.max_concurrent, 64, "absent limits: defaults");
}

static const char full_config[] =
        "{\n"
        "  \"version\": 1,\n"
        "  \"listen\": { \"path\": \"/run/cdp/k.sock\", \"protocol\": \"plain\" },\n"
        "  \"events\": \"/var/log/cdp/events.jsonl\",\n"
        "  \"store\": { \"directory\": \"/srv/dumps\", \"max_use\": \"10G\", \"keep_free\": 1048576 },\n"
        "  \"limits\": {\n"
        "    \"collector_timeout\": \"1500ms\", \"dump_timeout\": \"2h\", \"max_concurrent\": 4096,\n"
        "    \"per_container\": { \"dumps\": 10, \"interval\": \"1m\" }\n"
        "  },\n"
        "  \"routes\": [\n"
        "    { \"name\": \"k8s\",\n"
        "      \"match\": { \"container\": true, \"runtime\": [\"cri-o\", \"containerd\", \"cri\"],\n"
        "                 \"container_id\": \"abc\", \"pod_uid\": \"1234-5678\", \"cgroup\": "
        "\"/kubepods*\",\n"
        "                 \"comm\": \"py*\", \"exe\": \"/usr/bin/*\", \"uid\": [0, 1000, 4294967294] },\n"
        "      \"action\": \"forward\", \"address\": \"/run/collector.sock\", \"fallback\": \"reject\",\n"
        "      \"trust\": \"container\", \"pass_pidfd\": true, \"expose_host\": true,\n"
        "      \"collector_uid\": \"any\" },\n"
        "    { \"name\": \"docker\", \"match\": { \"runtime\": [\"docker\"], \"rootless\": true },\n"
        "      \"action\": \"forward\", \"collector_uid\": [1000, 65532] },\n"
        "    { \"name\": \"nobody\", \"match\": { \"container\": false, \"uid\": [65534] }, \"action\": "
        "\"reject\" },\n"
        "    { \"name\": \"h\\u00f6st\", \"action\": \"store\" }\n"
        "  ]\n"
        "}\n";

static void test_full(void)
{
        _cleanup_(config_freep) struct config *c = NULL;
        struct config_errors e = {};
        const struct route *r;

        is_int(load(full_config, &c, &e), 0, "full config parses");
        dump_errors(&e);
        config_errors_clear(&e);
        if (!c)
                return;

        is_str(c->listen_path, "/run/cdp/k.sock", "full: listen.path");
        is_int(c->protocol, PROTOCOL_PLAIN, "full: listen.protocol plain");
        is_str(c->events, "/var/log/cdp/events.jsonl", "full: events");
        is_str(c->store_directory, "/srv/dumps", "full: store.directory");
        ok(c->store_max_use.set && !c->store_max_use.percent && c->store_max_use.value == 10ULL << 30,
           "full: max_use 10G");
        ok(c->store_keep_free.set && !c->store_keep_free.percent && c->store_keep_free.value == 1048576,
           "full: keep_free as a JSON integer");
        is_int(c->limits.collector_timeout, 1500 * USEC_PER_MSEC, "full: collector_timeout");
        is_int(c->limits.dump_timeout, 7200 * USEC_PER_SEC, "full: dump_timeout");
        is_int(c->limits.max_concurrent, 4096, "full: max_concurrent");
        is_int(c->limits.per_container_dumps, 10, "full: per_container.dumps");
        is_int(c->limits.per_container_interval, 60 * USEC_PER_SEC, "full: per_container.interval");
        is_int(c->n_routes, 4, "full: four routes");
        if (c->n_routes != 4)
                return;

        r = &c->routes[0];
        is_str(r->name, "k8s", "full: route 0 name");
        is_int(r->match.container, 1, "full: container true");
        is_int(r->match.runtimes, (1u << RUNTIME_CRIO) | (1u << RUNTIME_CONTAINERD) | (1u << RUNTIME_CRI),
               "full: runtime mask");
        is_str(r->match.container_id, "abc", "full: container_id");
        is_str(r->match.pod_uid, "1234-5678", "full: pod_uid");
        is_str(r->match.cgroup, "/kubepods*", "full: cgroup");
        is_str(r->match.comm, "py*", "full: comm");
        is_str(r->match.exe, "/usr/bin/*", "full: exe");
        is_int(r->match.n_uids, 3, "full: three uids");
        if (r->match.n_uids == 3)
                ok(r->match.uids[0] == 0 && r->match.uids[1] == 1000 && r->match.uids[2] == 4294967294u,
                   "full: uid values");
        is_int(r->action, ACTION_FORWARD, "full: forward");
        is_str(r->address, "/run/collector.sock", "full: path address");
        is_int(r->fallback, ACTION_REJECT, "full: fallback reject");
        is_int(r->trust, TRUST_CONTAINER, "full: trust container");
        ok(r->pass_pidfd && r->expose_host, "full: pass_pidfd and expose_host");
        is_int(r->collector_uid, COLLECTOR_UID_ANY, "full: collector_uid any");
        is_int(r->match.rootless, -1, "full: rootless absent");

        r = &c->routes[1];
        is_str(r->address, CONFIG_DEFAULT_ADDRESS, "full: forward without address gets the default");
        is_int(r->fallback, ACTION_STORE, "full: default fallback store");
        is_int(r->trust, TRUST_POD, "full: default trust pod");
        is_int(r->match.container, -1, "full: container absent means any");
        is_int(r->match.rootless, 1, "full: rootless true");
        is_int(r->collector_uid, COLLECTOR_UID_TASK,
               "full: collector_uid with a list keeps the task's rule");
        is_int(r->n_collector_uids, 2, "full: two collector uids");
        if (r->n_collector_uids == 2)
                ok(r->collector_uids[0] == 1000 && r->collector_uids[1] == 65532,
                   "full: collector uid values");

        r = &c->routes[2];
        is_int(r->match.container, 0, "full: container false");
        is_int(r->action, ACTION_REJECT, "full: reject");

        is_str(c->routes[3].name, "h\xc3\xb6st", "full: escaped name decoded");
        ok(!c->routes[3].address, "full: store route has no address");
}

/* "systemd": the host's socket by default, or one in the container's root; fallback as for forward. */
static void test_systemd(void)
{
        _cleanup_(config_freep) struct config *c = NULL;
        struct config_errors e = {};
        const char *text = "{\"routes\":[{\"name\":\"h\",\"action\":\"systemd\"},"
                           "{\"name\":\"c\",\"action\":\"systemd\",\"where\":\"container\","
                           "\"address\":\"/run/sd.sock\",\"fallback\":\"reject\"}]}";

        is_int(load(text, &c, &e), 0, "systemd: loads");
        dump_errors(&e);
        config_errors_clear(&e);
        if (!c || c->n_routes != 2)
                return;
        is_int(c->routes[0].action, ACTION_SYSTEMD, "systemd: action");
        is_int(c->routes[0].where, SYSTEMD_WHERE_HOST, "systemd: host by default");
        is_str(c->routes[0].address, CONFIG_DEFAULT_SYSTEMD_ADDRESS,
               "systemd: systemd's own socket by default");
        is_int(c->routes[0].fallback, ACTION_STORE, "systemd: falls back to the store by default");
        is_int(c->routes[1].where, SYSTEMD_WHERE_CONTAINER, "systemd: in the container");
        is_str(c->routes[1].address, "/run/sd.sock", "systemd: address");
        is_int(c->routes[1].fallback, ACTION_REJECT, "systemd: fallback reject");
        is_str(action_to_string(ACTION_SYSTEMD), "systemd", "action systemd");
}

/* store.compress (on by default) and store.exec. */
static void test_store_extras(void)
{
        _cleanup_(config_freep) struct config *c = NULL, *d = NULL;
        struct config_errors e = {};

        is_int(load("{}", &c, &e), 0, "store extras: defaults load");
        if (c) {
                is_int(c->store_compress, CONFIG_DEFAULT_COMPRESS, "store: compressed by default");
                ok(!c->store_exec.command, "store: no exec by default");
        }
        is_int(load("{\"store\":{\"compress\":0,\"exec\":{\"command\":\"upload.sh\",\"timeout\":\"5s\","
                    "\"max_concurrent\":4,\"remove\":true}}}",
                    &d, &e),
               0, "store extras: set");
        dump_errors(&e);
        config_errors_clear(&e);
        if (d) {
                is_int(d->store_compress, 0, "store: compress 0");
                is_str(d->store_exec.command, "upload.sh", "store.exec: command");
                ok(d->store_exec.timeout == 5 * USEC_PER_SEC, "store.exec: timeout");
                is_int(d->store_exec.max_concurrent, 4, "store.exec: max_concurrent");
                ok(d->store_exec.remove, "store.exec: remove");
        }
        one_error("compress out of range", "{\"store\":{\"compress\":20}}",
                  "t.json:1:22: store.compress: ", "out of range");
        one_error("exec without command", "{\"store\":{\"exec\":{\"remove\":true}}}",
                  "t.json:1:18: store.exec: ", "missing required key \"command\"");
}

static void test_errors(void)
{
        /* Unknown keys: at the key itself, with the allowed ones listed. */
        one_error("unknown top-level key", "{\n  \"listen\": {},\n  \"rutes\": []\n}", "t.json:3:3: rutes: ",
                  "unknown key \"rutes\" at the top level (expected one of: version, listen, events, store, "
                  "limits, names, routes)");
        one_error("unknown key in routes[1].match",
                  "{ \"routes\": [\n"
                  "  { \"name\": \"a\", \"action\": \"store\" },\n"
                  "  { \"name\": \"b\", \"action\": \"store\",\n"
                  "    \"match\": { \"comm\": \"x\", \"contianer\": true } }\n"
                  "] }",
                  "t.json:4:29: routes[1].match.contianer: ",
                  "unknown key \"contianer\" in routes[1].match (expected one of: container, rootless, "
                  "runtime,");
        one_error("unknown key in a route",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"forward\",\"adress\":\"@x\"}]}",
                  "t.json:1:43: routes[0].adress: ", "unknown key \"adress\" in routes[0]");

        /* Types */
        one_error("wrong type", "{\"listen\": {\"protocol\": 5}}",
                  "t.json:1:25: listen.protocol: ", "expected a string, got an integer");
        one_error("wrong type: bool",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"store\",\"match\":{\"container\":\"yes\"}}]}",
                  "t.json:1:62: routes[0].match.container: ", "expected true or false, got a string");
        one_error("wrong type: routes", "{\"routes\": {}}",
                  "t.json:1:12: routes: ", "expected a list of routes, got an object");
        one_error("root not an object", "[]", "t.json:1:1: $: ", "expected an object, got an array");
        one_error("root null", " null ", "t.json:1:2: $: ", "expected an object, got null");

        /* Enumerations */
        one_error("bad runtime",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"store\",\n"
                  "  \"match\":{\"runtime\":[\"docker\", \"dockr\"]}}]}",
                  "t.json:2:33: routes[0].match.runtime[1]: ",
                  "unknown runtime \"dockr\" (expected one of: docker, containerd, cri-o, podman, nspawn, "
                  "lxc, "
                  "cri)");
        one_error("bad protocol", "{\"listen\": {\"protocol\": \"requests\"}}",
                  "t.json:1:25: listen.protocol: ",
                  "unknown protocol \"requests\" (expected one of: request, plain, pipe, auto)");
        one_error("bad action", "{\"routes\":[{\"name\":\"a\",\"action\":\"drop\"}]}",
                  "t.json:1:33: routes[0].action: ",
                  "unknown action \"drop\" (expected one of: forward, store, reject, systemd)");
        one_error("systemd address not a path",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"systemd\",\"address\":\"@sd\"}]}",
                  "t.json:1:53: routes[0].address: ", "systemd-coredump listens at a path");
        one_error("where on a forward route",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"forward\",\"where\":\"host\"}]}",
                  "t.json:1:43: routes[0].where: ", "only valid with \"action\": \"systemd\"");
        one_error("bad where", "{\"routes\":[{\"name\":\"a\",\"action\":\"systemd\",\"where\":\"pod\"}]}",
                  "t.json:1:51: routes[0].where: ",
                  "unknown where \"pod\" (expected one of: host, container)");
        one_error("trust on a systemd route",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"systemd\",\"pass_pidfd\":true}]}",
                  "t.json:1:43: routes[0].pass_pidfd: ", "only valid with \"action\": \"forward\"");
        one_error("bad trust", "{\"routes\":[{\"name\":\"a\",\"action\":\"forward\",\"trust\":\"node\"}]}",
                  "t.json:1:51: routes[0].trust: ",
                  "unknown trust \"node\" (expected one of: pod, container)");
        one_error("empty runtime list",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"store\",\"match\":{\"runtime\":[]}}]}",
                  "t.json:1:60: routes[0].match.runtime: ", "must not be empty");
        one_error("uid out of range",
                  "{\"routes\":[{\"name\":\"a\",\"action\":\"store\",\"match\":{\"uid\":[4294967295]}}]}",
                  "t.json:1:57: routes[0].match.uid[0]: ",
                  "4294967295 is out of range (expected 0 to 4294967294)");
        one_error("version", "{\"version\": 2}",
                  "t.json:1:13: version: ", "unsupported version 2 (expected 1)");

        /* Duplicates */
        one_error("duplicate key",
                  "{\n"
                  "  \"listen\": { \"path\": \"/run/a.sock\",\n"
                  "              \"path\": \"/run/b.sock\" }\n"
                  "}",
                  "t.json:3:15: listen.path: ", "duplicate key \"path\" (first given at 2:15)");
        one_error("missing route name", "{\"routes\": [{\"action\": \"store\"}]}",
                  "t.json:1:13: routes[0]: ", "missing required key \"name\"");
        one_error("missing action", "{\"routes\": [{\"name\": \"x\"}]}",
                  "t.json:1:13: routes[0]: ", "missing required key \"action\"");
        one_error("empty route name", "{\"routes\": [{\"name\": \"\", \"action\": \"store\"}]}",
                  "t.json:1:22: routes[0].name: ", "must not be empty");
        one_error("duplicate route name",
                  "{\"routes\": [\n"
                  "  {\"name\": \"x\", \"action\": \"store\"},\n"
                  "  {\"name\": \"y\", \"action\": \"store\"},\n"
                  "  {\"name\": \"x\", \"action\": \"reject\"}\n"
                  "]}",
                  "t.json:4:12: routes[2].name: ", "duplicate route name \"x\" (also used by routes[0])");

        /* Forward-only keys */
        one_error("forward-only key on store",
                  "{\"routes\": [{\"name\": \"h\", \"action\": \"store\",\n   \"fallback\": \"reject\"}]}",
                  "t.json:2:4: routes[0].fallback: ",
                  "\"fallback\" is only valid with \"action\": \"forward\"");
        one_error("address on reject",
                  "{\"routes\": [{\"name\": \"h\", \"address\": \"@x\", \"action\": \"reject\"}]}",
                  "t.json:1:27: routes[0].address: ",
                  "\"address\" is only valid with \"action\": \"forward\"");
        one_error("relative address",
                  "{\"routes\": [{\"name\": \"h\", \"action\": \"forward\", \"address\": \"x.sock\"}]}",
                  "t.json:1:59: routes[0].address: ",
                  "expected \"@name\" (an abstract socket) or an absolute path");
        one_error("empty abstract name",
                  "{\"routes\": [{\"name\": \"h\", \"action\": \"forward\", \"address\": \"@\"}]}",
                  "t.json:1:59: routes[0].address: ", "an abstract name must be 1 to 106 bytes long, got 0");

        /* Paths */
        one_error("socket path with ..", "{\"listen\": {\"path\": \"/run/../tmp/k.sock\"}}",
                  "t.json:1:21: listen.path: ", "has a \"..\" component");
        one_error("relative socket path", "{\"listen\": {\"path\": \"k.sock\"}}",
                  "t.json:1:21: listen.path: ", "is not an absolute path");
        one_error("socket path with a space", "{\"listen\": {\"path\": \"/run/k sock\"}}",
                  "t.json:1:21: listen.path: ", "contains whitespace");
        one_error("relative events", "{\"events\": \"events.log\"}",
                  "t.json:1:12: events: ", "expected \"-\" (standard output) or an absolute path");
        one_error("relative store", "{\"store\": {\"directory\": \"dumps\"}}",
                  "t.json:1:25: store.directory: ", "expected an absolute path, got \"dumps\"");

        /* Sizes and durations */
        one_error("bad size", "{\"store\": {\"max_use\": \"10X\"}}", "t.json:1:23: store.max_use: ",
                  "invalid size \"10X\" (expected bytes, a whole number with K, M, G or T");
        one_error("percent over 100", "{\"store\": {\"keep_free\": \"101%\"}}",
                  "t.json:1:25: store.keep_free: ",
                  "percentage \"101%\" is out of range (expected 0% to 100%)");
        one_error("negative size", "{\"store\": {\"keep_free\": -1}}",
                  "t.json:1:25: store.keep_free: ", "a size cannot be negative");
        one_error("size too large", "{\"store\": {\"max_use\": \"16777216T\"}}",
                  "t.json:1:23: store.max_use: ", "size \"16777216T\" is too large");
        one_error("bad duration", "{\"limits\": {\"dump_timeout\": \"5 min\"}}",
                  "t.json:1:29: limits.dump_timeout: ",
                  "invalid duration \"5 min\" (expected a whole number with a unit: ms, s, m or h");
        one_error("zero duration", "{\"limits\": {\"collector_timeout\": \"0s\"}}",
                  "t.json:1:34: limits.collector_timeout: ", "duration must be greater than zero");
        one_error("duration as a number", "{\"limits\": {\"collector_timeout\": 2}}",
                  "t.json:1:34: limits.collector_timeout: ",
                  "expected a duration such as \"2s\", got an integer");
        one_error("max_concurrent 0", "{\"limits\": {\"max_concurrent\": 0}}",
                  "t.json:1:31: limits.max_concurrent: ", "0 is out of range (expected 1 to 4096)");
        one_error("per_container without interval", "{\"limits\": {\"per_container\": {\"dumps\": 3}}}",
                  "t.json:1:30: limits.per_container: ", "missing required key \"interval\"");

        /* JSON itself */
        one_error("trailing garbage", "{\"events\": \"-\"}\n  x",
                  "t.json:2:3: $: ", "unexpected 'x' after the end of the JSON document");
        one_error("second document", "{}{}", "t.json:1:3: $: ", "unexpected '{'");
        one_error("invalid UTF-8", "{\"routes\": [{\"name\": \"caf\xe9\", \"action\": \"store\"}]}",
                  "t.json:1:26: routes[0].name: ", "invalid UTF-8");
        one_error("invalid UTF-8 in a key", "{\"listen\": {\"p\xffth\": \"/x\"}}",
                  "t.json:1:15: listen: ", "invalid UTF-8 (byte 0xff)");
        one_error("missing comma",
                  "{\n"
                  "  \"listen\": {\n"
                  "    \"path\": \"/run/k.sock\"\n"
                  "    \"protocol\": \"plain\"\n"
                  "  }\n"
                  "}\n",
                  "t.json:4:5: listen: ", "expected ',' or '}' after a value, got '\"'");
        one_error("missing value", "{\"listen\": {\"protocol\": }}",
                  "t.json:1:25: listen.protocol: ", "unexpected '}'");
        one_error("trailing comma", "{\"routes\": [\n  {\"name\": \"a\", \"action\": \"store\"},\n]}",
                  "t.json:3:1: routes[1]: ", "trailing comma before ']'");
        one_error("single quotes", "{\"events\": '-'}", "t.json:1:12: events: ", "unexpected '''");
        one_error("comment", "{\n  // note\n}", "t.json:2:3: $: ", "comments are not allowed");
        one_error("unclosed", "{\"listen\": {\"path\": \"/x\"",
                  "t.json:1:25: listen.path: ", "unexpected end of the text");
        one_error("empty file", "", "t.json:1:1: $: ", "the config is empty");
        one_error("blank file", " \n\t\n", "t.json:1:1: $: ", "the config is empty");
        one_error("byte order mark", "\xef\xbb\xbf{}", "t.json:1:1: $: ", "byte order mark");
        one_error("too deep", "{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}",
                  "t.json:1:21: a[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]: ", "nested too deeply");
        one_error("raw tab in a string", "{\"events\": \"/var/log/a\tb\"}",
                  "t.json:1:23: events: ", "raw control character");
        one_error("NaN", "{\"limits\": {\"max_concurrent\": NaN}}",
                  "t.json:1:31: limits.max_concurrent: ", "not a JSON number");
        one_error("integer beyond 64 bits", "{\"store\": {\"max_use\": 123456789012345678901}}",
                  "t.json:1:23: store.max_use: ", "integer out of range");
        one_error("NUL in a string value", "{\"events\": \"/a\\u0000b\"}",
                  "t.json:1:12: events: ", "must not contain a NUL character");
        one_error("tokens are counted in characters", "{\"events\": \"/\xc3\xa9\xc3\xa9\", \"x\": 1}",
                  "t.json:1:19: x: ", "unknown key \"x\"");

        {
                static const char text[] = "{\"events\": \"-\"}\0garbage";
                struct config_errors e = {};
                struct config *c = NULL;

                is_int(config_load_string("t.json", text, sizeof(text) - 1, &c, &e), -EINVAL,
                       "NUL byte refused");
                ok(e.n == 1 && starts_with(e.lines[0], "t.json:1:16: $: NUL byte"), "NUL byte: position");
                if (e.n != 1)
                        dump_errors(&e);
                config_errors_clear(&e);
        }
}

static void test_collector_uid_errors(void)
{
        one_error(
                "collector_uid: a word it does not know",
                "{\"routes\": [{\"name\": \"a\", \"action\": \"forward\",\n  \"collector_uid\": \"root\"}]}",
                "t.json:2:20: routes[0].collector_uid: ", "\"root\"");
        one_error("collector_uid: a number",
                  "{\"routes\": [{\"name\": \"a\", \"action\": \"forward\", \"collector_uid\": 0}]}",
                  "t.json:1:65: routes[0].collector_uid: ", "expected \"task\", \"any\" or a list of uids");
        one_error("collector_uid: an empty list",
                  "{\"routes\": [{\"name\": \"a\", \"action\": \"forward\", \"collector_uid\": []}]}",
                  "t.json:1:65: routes[0].collector_uid: ", "must not be empty");
        one_error("collector_uid: a negative uid",
                  "{\"routes\": [{\"name\": \"a\", \"action\": \"forward\", \"collector_uid\": [1, -1]}]}",
                  "t.json:1:69: routes[0].collector_uid[1]: ", "out of range");
        one_error("collector_uid: only with forward",
                  "{\"routes\": [{\"name\": \"a\", \"action\": \"store\", \"collector_uid\": \"any\"}]}",
                  "t.json:1:46: routes[0].collector_uid: ", "only valid with \"action\": \"forward\"");
        one_error("rootless: a string",
                  "{\"routes\": [{\"name\": \"a\", \"action\": \"store\", \"match\": {\"rootless\": "
                  "\"yes\"}}]}",
                  "t.json:1:68: routes[0].match.rootless: ", "expected true or false");
}

static void test_many_errors(void)
{
        static const char text[] =
                "{\n"
                "  \"listen\": { \"path\": \"relative\", \"protocol\": \"udp\" },\n"
                "  \"store\": { \"max_use\": \"150%\" },\n"
                "  \"limits\": { \"dump_timeout\": \"soon\", \"max_concurrent\": 10000 },\n"
                "  \"routes\": [\n"
                "    { \"name\": \"a\", \"action\": \"store\", \"address\": \"@x\", \"bogus\": 1 },\n"
                "    { \"name\": \"a\", \"match\": { \"runtime\": [\"rkt\"], \"uid\": [-5] }, \"action\": 3 "
                "}\n"
                "  ],\n"
                "  \"colour\": \"blue\"\n"
                "}\n";
        static const char *const want[] = {
                "t.json:2:23: listen.path: ",
                "t.json:2:47: listen.protocol: ",
                "t.json:3:25: store.max_use: ",
                "t.json:4:31: limits.dump_timeout: ",
                "t.json:4:57: limits.max_concurrent: ",
                "t.json:6:39: routes[0].address: ",
                "t.json:6:56: routes[0].bogus: ",
                "t.json:7:15: routes[1].name: ",
                "t.json:7:43: routes[1].match.runtime[0]: ",
                "t.json:7:59: routes[1].match.uid[0]: ",
                "t.json:7:76: routes[1].action: ",
                "t.json:9:3: colour: ",
        };
        struct config_errors e = {};
        struct config *c = NULL;

        is_int(load(text, &c, &e), -EINVAL, "many errors: refused");
        is_int(e.n, ARRAY_SIZE(want), "many errors: all reported in one pass");
        for (size_t i = 0; i < ARRAY_SIZE(want) && i < e.n; i++)
                ok(starts_with(e.lines[i], want[i]), "many errors: %s", e.lines[i]);
        if (e.n != ARRAY_SIZE(want))
                dump_errors(&e);

        /* Lines are appended: a second load adds to the same list. */
        is_int(load("{\"x\": 1}", &c, &e), -EINVAL, "second load refused");
        is_int(e.n, ARRAY_SIZE(want) + 1, "second load appends its line");
        config_errors_clear(&e);
        is_int(e.n, 0, "config_errors_clear empties the list");
        ok(!e.lines, "config_errors_clear frees the lines");
        config_errors_clear(&e);
        config_errors_clear(NULL);

        is_int(load("{\"x\": 1}", &c, NULL), -EINVAL, "refused without an error list too");
}

static void test_error_cap(void)
{
        struct config_errors e = {};
        struct config *c = NULL;
        char *text;
        size_t n = 0;

        /* 150 unknown keys: the first 100 problems and one line saying more were left out. */
        text = malloc(150 * 16 + 3);
        if (!text)
                abort();
        text[n++] = '{';
        for (int i = 0; i < 150; i++)
                n += (size_t) sprintf(text + n, "%s\"k%d\": 1", i ? "," : "", i);
        text[n++] = '}';
        text[n] = 0;
        is_int(load(text, &c, &e), -EINVAL, "error cap: refused");
        is_int(e.n, 101, "error cap: 100 problems and a summary");
        if (e.n == 101)
                ok(strstr(e.lines[100], "50 more problems not shown") != NULL, "error cap: %s",
                   e.lines[100]);
        config_errors_clear(&e);
        free(text);
}

static void test_file(void)
{
        _cleanup_(config_freep) struct config *c = NULL;
        struct config_errors e = {};
        char path[] = "/tmp/unit-config-XXXXXX";
        _cleanup_close_ int fd = -EBADF;
        char *big;
        const size_t big_size = 1024 * 1024 + 1;

        fd = mkstemp(path);
        if (fd < 0) {
                ok(false, "mkstemp: %m");
                return;
        }
        ok(write(fd, "{\"events\": \"-\",\n \"routes\": 1}\n", 30) == 30, "write test file");
        is_int(config_load_file(path, &c, &e), -EINVAL, "file: refused");
        if (e.n == 1) {
                char want[64];

                snprintf(want, sizeof(want), "%s:2:12: routes: ", path);
                ok(starts_with(e.lines[0], want), "file: errors name the file: %s", e.lines[0]);
        } else {
                ok(false, "file: one error");
                dump_errors(&e);
        }
        config_errors_clear(&e);

        ok(ftruncate(fd, 0) == 0 && pwrite(fd, "{}", 2, 0) == 2, "rewrite test file");
        is_int(config_load_file(path, &c, &e), 0, "file: loads");
        if (c)
                is_str(c->source, path, "file: source is the path");

        big = malloc(big_size);
        if (!big)
                abort();
        memset(big, ' ', big_size);
        big[0] = '{';
        big[big_size - 1] = '}';
        ok(ftruncate(fd, 0) == 0 && pwrite(fd, big, big_size, 0) == (ssize_t) big_size, "write a big file");
        free(big);
        is_int(config_load_file(path, &c, &e), -EINVAL, "file: larger than 1 MiB refused");
        ok(e.n == 1 && strstr(e.lines[0], "larger than 1048576 bytes"), "file: size problem reported");
        config_errors_clear(&e);

        (void) unlink(path);
        is_int(config_load_file(path, &c, &e), -ENOENT, "file: missing file is -ENOENT");
        is_int(e.n, 0, "file: I/O errors add no lines");
}

static void test_sizes(void)
{
        static const struct {
                const char *s;
                bool percent;
                uint64_t value;
        } good[] = {
                { "0", false, 0 },
                { "123", false, 123 },
                { "10K", false, 10240 },
                { "10M", false, 10ULL << 20 },
                { "10G", false, 10ULL << 30 },
                { "1T", false, 1ULL << 40 },
                { "16777215T", false, 16777215ULL << 40 },
                { "18446744073709551615", false, UINT64_MAX },
                { "0%", true, 0 },
                { "15%", true, 15 },
                { "100%", true, 100 },
        };
        static const char *const bad[] = {
                "",
                "K",
                "10k",
                "10KB",
                "10 K",
                "-1",
                "+1",
                " 1",
                "1 ",
                "1.5G",
                "101%",
                "%",
                "10%%",
                "1000%",
                "0x10",
                "10P",
                "16777216T",
                "18446744073709551616",
                "99999999999999999999999",
                "5%G",
        };
        struct size_limit l;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                l = (struct size_limit){};
                is_int(config_parse_size(good[i].s, &l), 0, "size \"%s\" parses", good[i].s);
                ok(l.set && l.percent == good[i].percent && l.value == good[i].value, "size \"%s\" value",
                   good[i].s);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                l = (struct size_limit){ .value = 42 };
                is_int(config_parse_size(bad[i], &l), -EINVAL, "size \"%s\" refused", bad[i]);
                ok(!l.set && l.value == 42, "size \"%s\": ret untouched", bad[i]);
        }
        is_int(config_parse_size(NULL, &l), -EINVAL, "size NULL refused");

        l = (struct size_limit){};
        ok(size_limit_bytes(&l, 1000) == UINT64_MAX, "unset limit: no limit");
        l = (struct size_limit){ .set = true, .value = 4096 };
        ok(size_limit_bytes(&l, 1000) == 4096, "byte limit ignores the fs size");
        l = (struct size_limit){ .set = true, .percent = true, .value = 15 };
        ok(size_limit_bytes(&l, 1000) == 150, "15%% of 1000");
        ok(size_limit_bytes(&l, 0) == 0, "15%% of nothing");
        l.value = 100;
        ok(size_limit_bytes(&l, UINT64_MAX) == UINT64_MAX, "100%% of the largest size does not overflow");
        l.value = 10;
        ok(size_limit_bytes(&l, UINT64_MAX) == UINT64_MAX / 10, "10%% of the largest size");
}

static void test_durations(void)
{
        static const struct {
                const char *s;
                usec_t usec;
        } good[] = {
                { "1ms", 1000 },
                { "500ms", 500000 },
                { "2s", 2000000 },
                { "5m", 300000000 },
                { "1h", 3600000000ULL },
                { "007s", 7000000 },
                /* The longest a config may give: no deadline computed from it can wrap. */
                { "24h", 86400000000ULL },
                { "1440m", 86400000000ULL },
                { "86400000ms", 86400000000ULL },
        };
        static const char *const bad[] = {
                "",
                "s",
                "5",
                "5x",
                "5 s",
                " 5s",
                "5s ",
                "-5s",
                "+5s",
                "5S",
                "5min",
                "1.5s",
                "0s",
                "0ms",
                "0h",
                "5us",
                "1d",
                "5sm",
                "5ms5",
                "25h",
                "86401s",
                "86400001ms",
                "18446744073709ms",
                "18446744073709552ms",
                "5124095577h",
                "99999999999999999999999s",
        };
        usec_t u;

        for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
                u = 0;
                is_int(config_parse_duration(good[i].s, &u), 0, "duration \"%s\" parses", good[i].s);
                ok(u == good[i].usec, "duration \"%s\" is %llu us", good[i].s,
                   (unsigned long long) good[i].usec);
        }
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                u = 42;
                is_int(config_parse_duration(bad[i], &u), -EINVAL, "duration \"%s\" refused", bad[i]);
                ok(u == 42, "duration \"%s\": ret untouched", bad[i]);
        }
        is_int(config_parse_duration(NULL, &u), -EINVAL, "duration NULL refused");
}

static void test_names(void)
{
        for (int r = 0; r < _RUNTIME_MAX; r++) {
                const char *s = runtime_to_string((enum container_runtime) r);

                ok(s && runtime_from_string(s) == r, "runtime %d round-trips as \"%s\"", r,
                   s ? s : "(null)");
        }
        is_str(runtime_to_string(RUNTIME_CRIO), "cri-o", "cri-o is spelled with a dash");
        is_str(runtime_to_string(RUNTIME_CRI), "cri", "cri");
        ok(!runtime_to_string(_RUNTIME_MAX), "runtime out of range: NULL");
        is_int(runtime_from_string("dockr"), -EINVAL, "unknown runtime");
        is_int(runtime_from_string("Docker"), -EINVAL, "runtime names are case-sensitive");
        is_int(runtime_from_string(NULL), -EINVAL, "runtime NULL");
        is_str(action_to_string(ACTION_FORWARD), "forward", "action forward");
        is_str(action_to_string(ACTION_STORE), "store", "action store");
        is_str(action_to_string(ACTION_REJECT), "reject", "action reject");
        ok(!action_to_string(_ACTION_MAX), "action out of range: NULL");
        config_free(NULL);
}

/* The names section and the match keys on names (issue 12). */
static void test_names_section(void)
{
        struct config_errors e = {};
        struct config *c = NULL;

        is_int(config_load_default(&c), 0, "names: the default loads");
        if (c) {
                is_str(c->names.containerd_state, "/run/containerd", "names: containerd's state by default");
                is_int(c->names.n_containerd_namespaces, 3, "names: k8s.io, moby, default");
                is_str(c->names.storage_graph_root, "/var/lib/containers/storage",
                       "names: storage graph root");
                is_str(c->names.storage_run_root, "/run/containers/storage", "names: storage run root");
                is_str(c->names.docker_data_root, "/var/lib/docker", "names: docker's data root");
                ok(c->names.n_labels > 0 && strcmp(c->names.labels[0], "app") == 0,
                   "names: a small label default");
                is_int(c->names.n_annotations, 0, "names: no annotation leaves the node by default");
        }
        config_free(c);
        c = NULL;

        is_int(load("{\"names\": {\"labels\": [], \"annotations\": [\"a/b\"],"
                    "\"containerd\": {\"state\": \"/s\", \"namespaces\": [\"k8s.io\"]},"
                    "\"storage\": {\"graph_root\": \"/g\", \"run_root\": \"/r\"},"
                    "\"docker\": {\"data_root\": \"/d\"}},"
                    "\"routes\": [{\"name\": \"x\", \"action\": \"reject\", \"match\": {"
                    "\"pod_namespace\": \"kube-*\", \"pod_name\": \"p\", \"container_name\": \"c\","
                    "\"image\": \"*:latest\", \"labels\": {\"coredump\": \"enabled\"},"
                    "\"annotations\": {\"a/b\": \"?\"}}}]}",
                    &c, &e),
               0, "names: every key");
        if (c) {
                is_int(c->names.n_labels, 0, "names: labels can be emptied");
                is_str(c->names.annotations[0], "a/b", "names: annotations listed");
                is_str(c->names.containerd_state, "/s", "names: containerd state");
                is_str(c->names.storage_run_root, "/r", "names: run root");
                is_str(c->names.docker_data_root, "/d", "names: docker");
                is_str(c->routes[0].match.pod_namespace, "kube-*", "match: pod_namespace");
                is_str(c->routes[0].match.image, "*:latest", "match: image");
                ok(c->routes[0].match.n_labels == 1 &&
                           strcmp(c->routes[0].match.labels[0].key, "coredump") == 0 &&
                           strcmp(c->routes[0].match.labels[0].glob, "enabled") == 0,
                   "match: labels");
                is_int(c->routes[0].match.n_annotations, 1, "match: annotations");
        }
        dump_errors(&e);
        config_errors_clear(&e);
        config_free(c);

        one_error("names: relative root", "{\"names\": {\"docker\": {\"data_root\": \"var/lib\"}}}",
                  "t.json:1:36: names.docker.data_root: ", "expected an absolute path");
        one_error("names: bad namespace", "{\"names\": {\"containerd\": {\"namespaces\": [\"k8s..io\"]}}}",
                  "t.json:1:42: names.containerd.namespaces[0]: ", "not a containerd namespace name");
        one_error("names: a key twice", "{\"names\": {\"labels\": [\"a\", \"a\"]}}",
                  "t.json:1:28: names.labels[1]: ", "listed twice");
        one_error("names: a key with a space", "{\"names\": {\"annotations\": [\"a b\"]}}",
                  "t.json:1:28: names.annotations[0]: ", "is not a label or annotation key");
        one_error("names: unknown key", "{\"names\": {\"podman\": {}}}",
                  "t.json:1:12: names.podman: ", "unknown key \"podman\"");
        one_error("match: empty labels",
                  "{\"routes\": [{\"name\": \"x\", \"action\": \"store\", "
                  "\"match\": {\"labels\": {}}}]}",
                  "t.json:1:66: routes[0].match.labels: ", "must not be empty");
        one_error("match: empty glob",
                  "{\"routes\": [{\"name\": \"x\", \"action\": \"store\", "
                  "\"match\": {\"labels\": {\"app\": \"\"}}}]}",
                  "t.json:1:74: routes[0].match.labels.app: ", "must not be empty");
        one_error("match: a glob that is not a string",
                  "{\"routes\": [{\"name\": \"x\", \"action\": \"store\", "
                  "\"match\": {\"pod_name\": 3}}]}",
                  "t.json:1:68: routes[0].match.pod_name: ", "expected a string");
}

static void test_locate(void)
{
        static const char text[] =
                "{ \"a\": [1, {\"b\": \"x\"}],\n  \"a\": [2, {\"b\": true, \"c.d\": 0}] }";
        const struct locate_step path_b[] = { { .key = "a" }, { .index = 1 }, { .key = "b" } };
        const struct locate_step path_odd[] = { { .key = "a" }, { .index = 1 }, { .key = "c.d" } };
        struct locate_position pos;
        size_t offset = 0;
        char *s = NULL;

        /* The last of two equal keys is the one json-c keeps. */
        is_int(locate_find(text, strlen(text), path_b, 3, LOCATE_VALUE, &offset), 0, "locate: find a value");
        pos = locate_line_column(text, strlen(text), offset);
        ok(pos.line == 2 && pos.column == 18, "locate: last duplicate wins (%u:%u)", pos.line, pos.column);
        is_int(locate_find(text, strlen(text), path_b, 3, LOCATE_KEY, &offset), 0, "locate: find a key");
        pos = locate_line_column(text, strlen(text), offset);
        ok(pos.line == 2 && pos.column == 13, "locate: key position (%u:%u)", pos.line, pos.column);
        is_int(locate_find(text, strlen(text), path_b, 2, LOCATE_KEY, &offset), -ENOENT,
               "locate: an index has no key");
        is_int(locate_find(text, strlen(text), path_odd, 2, LOCATE_VALUE, &offset), 0,
               "locate: find an element");
        is_int(locate_find("{\"a\": 1}", 8, path_odd, 3, LOCATE_VALUE, &offset), -ENOENT,
               "locate: absent path");
        is_int(locate_find("{\"a\": ", 6, path_odd, 1, LOCATE_VALUE, &offset), -EBADMSG,
               "locate: broken text");

        is_int(locate_format_path(path_odd, 3, &s), 0, "locate: format a path");
        is_str(s, "a[1][\"c.d\"]", "locate: odd keys are quoted");
        free(s);
        is_int(locate_format_path(NULL, 0, &s), 0, "locate: format the root");
        is_str(s, "$", "locate: the root is $");
        free(s);

        is_int(locate_path_at("{\"x\": {\"y\": [1, 2, ", 19, 19, &s), 0, "locate: path in broken text");
        is_str(s, "x.y[2]", "locate: innermost value being parsed");
        free(s);

        pos = locate_line_column("ab\n\xc3\xa9\xc3\xa9x", 8, 7);
        ok(pos.line == 2 && pos.column == 3, "locate: columns count characters (%u:%u)", pos.line,
           pos.column);
}

/* listen.protocol: every word, each its own value; "auto" is what an absent key means. */
static void test_protocols(void)
{
        static const struct {
                const char *word;
                enum listen_protocol want;
        } cases[] = {
                { "request", PROTOCOL_REQUEST },
                { "plain", PROTOCOL_PLAIN },
                { "pipe", PROTOCOL_PIPE },
                { "auto", PROTOCOL_AUTO },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_(config_freep) struct config *c = NULL;
                char text[128];

                (void) snprintf(text, sizeof(text), "{\"listen\": {\"protocol\": \"%s\"}}", cases[i].word);
                is_int(config_load_string("t.json", text, strlen(text), &c, NULL), 0, "protocol %s parses",
                       cases[i].word);
                ok(c && c->protocol == cases[i].want, "protocol %s: its value", cases[i].word);
                is_str(protocol_to_string(cases[i].want), cases[i].word, "protocol %s: its name",
                       cases[i].word);
        }
        {
                _cleanup_(config_freep) struct config *c = NULL;
                is_int(config_load_string("t.json", "{}", 2, &c, NULL), 0, "no listen key parses");
                ok(c && c->protocol == PROTOCOL_AUTO, "no listen.protocol: auto");
        }
        ok(protocol_to_string(_PROTOCOL_MAX) == NULL, "protocol_to_string: out of range");
}

/* listen.pipe_helper: the first word of a pipe core_pattern, as the host's root has it. */
static void test_pipe_helper(void)
{
        {
                _cleanup_(config_freep) struct config *c = NULL;
                const char *t =
                        "{\"listen\": {\"pipe_helper\": \"/opt/coredump-proxy/coredump-proxy-pipe\"}}";

                is_int(config_load_string("t.json", t, strlen(t), &c, NULL), 0, "pipe_helper parses");
                is_str(c ? c->pipe_helper : NULL, "/opt/coredump-proxy/coredump-proxy-pipe",
                       "pipe_helper: its value");
        }
        {
                _cleanup_(config_freep) struct config *c = NULL;
                is_int(config_load_string("t.json", "{}", 2, &c, NULL), 0, "no pipe_helper parses");
                ok(c && !c->pipe_helper, "no pipe_helper: none (the daemon finds its own)");
        }
        one_error("pipe_helper relative", "{\"listen\": {\"pipe_helper\": \"bin/pipe\"}}",
                  "t.json:1:28: listen.pipe_helper: ",
                  "\"bin/pipe\" is not an absolute path (the kernel runs the helper from the host's root)");
        one_error("pipe_helper with a space", "{\"listen\": {\"pipe_helper\": \"/opt/a b\"}}",
                  "t.json:1:28: listen.pipe_helper: ",
                  "\"/opt/a b\" contains whitespace or '%' (core_pattern splits and expands those)");
        one_error("pipe_helper with a %", "{\"listen\": {\"pipe_helper\": \"/opt/%p\"}}",
                  "t.json:1:28: listen.pipe_helper: ",
                  "\"/opt/%p\" contains whitespace or '%' (core_pattern splits and expands those)");
        one_error("pipe_helper with ..", "{\"listen\": {\"pipe_helper\": \"/opt/../x\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "\"/opt/../x\" has a \"..\" component");
        one_error("pipe_helper empty", "{\"listen\": {\"pipe_helper\": \"\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "");
        /* The kernel's isspace() splits there too: \v, \f and the byte 0xa0 (in U+00A0, U+00E0, ...). */
        one_error("pipe_helper with a vertical tab", "{\"listen\": {\"pipe_helper\": \"/opt/a\\u000bb\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "contains whitespace or '%'");
        one_error("pipe_helper with a form feed", "{\"listen\": {\"pipe_helper\": \"/opt/a\\fb\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "contains whitespace or '%'");
        one_error("pipe_helper with a no-break space", "{\"listen\": {\"pipe_helper\": \"/opt/a\\u00a0b\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "contains whitespace or '%'");
        one_error("pipe_helper with an a-grave (0xc3 0xa0)",
                  "{\"listen\": {\"pipe_helper\": \"/opt/\\u00e0\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "contains whitespace or '%'");
        one_error("pipe_helper longer than core_pattern",
                  "{\"listen\": {\"pipe_helper\": \"/opt/"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                  "aaa"
                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}}",
                  "t.json:1:28: listen.pipe_helper: ", "must fit in core_pattern's 127 bytes");
        one_error("listen.path with a vertical tab", "{\"listen\": {\"path\": \"/run/a\\u000bb\"}}",
                  "t.json:1:21: listen.path: ", "contains whitespace");
}

int main(void)
{
        test_default();
        test_protocols();
        test_pipe_helper();
        test_absent_keys();
        test_full();
        test_errors();
        test_systemd();
        test_store_extras();
        test_collector_uid_errors();
        test_many_errors();
        test_error_cap();
        test_file();
        test_sizes();
        test_durations();
        test_names();
        test_names_section();
        test_locate();
        return tap_done();
}
