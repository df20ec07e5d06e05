/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The config's sections: what each key means, its default, and the checks
 * that cannot wait for the daemon (the kernel's rules for socket paths, a
 * forward-only key on another action, two routes with one name). Reading
 * the JSON text is syntax.c's, and the parser's state and getters parser.c's.
 */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <json-c/json.h>

#include "config/jsonc.h"

#include "config/config.h"
#include "config/locate.h"
#include "config/names.h"
#include "config/parser.h"
#include "config/syntax.h"
#include "config/values.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *) NULL)->sun_path)
#define UID_MAX_VALID UINT64_C(4294967294) /* (uid_t) -1 means "no uid" to the kernel */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

static const char *const top_keys[] = {
        "version", "listen", "events", "store", "limits", "names", "routes"
};
static const char *const listen_keys[] = { "path", "protocol", "pipe_helper" };
static const char *const store_keys[] = {
        "directory", "max_use", "keep_free", "compress", "exec", "summary"
};
static const char *const exec_keys[] = { "command", "timeout", "max_concurrent", "remove" };
static const char *const limits_keys[] = { "collector_timeout", "dump_timeout", "stall_timeout",
                                           "max_concurrent", "per_container" };
static const char *const per_container_keys[] = { "dumps", "interval", "concurrent" };
static const char *const route_keys[] = { "name",  "match",      "action",      "address",       "fallback",
                                          "trust", "pass_pidfd", "expose_host", "collector_uid", "where" };
static const char *const match_keys[] = { "container", "rootless",      "runtime",    "container_id",
                                          "pod_uid",   "cgroup",        "comm",       "exe",
                                          "uid",       "pod_namespace", "pod_name",   "container_name",
                                          "image",     "labels",        "annotations" };

static void route_done(struct route *r)
{
        free(r->name);
        free(r->match.container_id);
        free(r->match.pod_uid);
        free(r->match.cgroup);
        free(r->match.uids);
        free(r->match.comm);
        free(r->match.exe);
        match_names_done(&r->match);
        free(r->address);
        free(r->collector_uids);
}

void config_free(struct config *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_routes; i++)
                route_done(&c->routes[i]);
        free(c->routes);
        free(c->source);
        free(c->listen_path);
        free(c->pipe_helper);
        free(c->events);
        free(c->store_directory);
        free(c->store_exec.command);
        names_config_done(&c->names);
        free(c);
}

void config_errors_clear(struct config_errors *e)
{
        if (!e)
                return;
        for (size_t i = 0; i < e->n; i++)
                free(e->lines[i]);
        free(e->lines);
        e->lines = NULL;
        e->n = 0;
}

static int config_new(const char *source, struct config **ret)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->source = strdup(source);
        c->listen_path = strdup(CONFIG_DEFAULT_LISTEN);
        c->events = strdup("-");
        c->store_directory = strdup(CONFIG_DEFAULT_STORE);
        if (!c->source || !c->listen_path || !c->events || !c->store_directory ||
            names_config_init(&c->names) < 0)
                return -ENOMEM;
        c->protocol = PROTOCOL_AUTO;
        /* Close to systemd-coredump's defaults (MaxUse 10%, KeepFree 15%). */
        c->store_max_use = (struct size_limit){ .set = true, .percent = true, .value = 10 };
        c->store_keep_free = (struct size_limit){ .set = true, .percent = true, .value = 15 };
        c->store_compress = CONFIG_DEFAULT_COMPRESS;
        c->store_summary = true;
        c->store_exec = (struct store_exec){ .timeout = CONFIG_DEFAULT_EXEC_TIMEOUT,
                                             .max_concurrent = CONFIG_DEFAULT_EXEC_MAX };
        c->limits = (struct limits){
                .collector_timeout = 2 * USEC_PER_SEC,
                .dump_timeout = 5 * 60 * USEC_PER_SEC,
                .stall_timeout = 30 * USEC_PER_SEC,
                .max_concurrent = 64,
                .per_container_concurrent = CONFIG_DEFAULT_PER_CONTAINER_CONCURRENT,
        };
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- the sections */

static bool has_dotdot_component(const char *s)
{
        for (const char *c = s; (c = strstr(c, "..")); c++)
                if ((c == s || c[-1] == '/') && (c[2] == 0 || c[2] == '/'))
                        return true;
        return false;
}

static void parse_listen_path(struct parser *p, struct json_object *v, struct config *c)
{
        const char *s;

        if (parser_get_string(p, v, &s) < 0)
                return;
        if (core_pattern_validate_socket_path(s) >= 0) {
                (void) parser_set_string(p, &c->listen_path, s);
                return;
        }
        /* The kernel's rules for the socket in core_pattern, each with its reason. */
        if (s[0] != '/')
                parser_report(p, LOCATE_VALUE, "%s is not an absolute path (the kernel requires one)",
                              QUOTE(s));
        else if (strlen(s) >= SUN_PATH_SIZE)
                parser_report(p, LOCATE_VALUE,
                              "the path is %zu bytes long; a socket path must be shorter than %zu bytes",
                              strlen(s), SUN_PATH_SIZE);
        else if (has_dotdot_component(s))
                parser_report(p, LOCATE_VALUE, "%s has a \"..\" component (the kernel refuses those)",
                              QUOTE(s));
        else if (strpbrk(s, CORE_PATTERN_SPACES))
                parser_report(p, LOCATE_VALUE,
                              "%s contains whitespace (core_pattern reserves it for parameters)", QUOTE(s));
        else
                parser_report(p, LOCATE_VALUE, "%s is not a valid core_pattern socket path", QUOTE(s));
}

/*
 * The kernel runs it as root for every crash, from the host's root, as the
 * first word of core_pattern: absolute, one word, no '%' (the kernel would
 * expand it). Whether it is fit to run is checked at start (mode.c).
 */
static void parse_pipe_helper(struct parser *p, struct json_object *v, struct config *c)
{
        const char *s;

        if (parser_get_nonempty_string(p, v, &s) < 0)
                return;
        if (s[0] != '/')
                parser_report(p, LOCATE_VALUE,
                              "%s is not an absolute path (the kernel runs the helper from the host's root)",
                              QUOTE(s));
        else if (strpbrk(s, CORE_PATTERN_SPACES "%"))
                parser_report(p, LOCATE_VALUE,
                              "%s contains whitespace or '%%' (core_pattern splits and expands those)",
                              QUOTE(s));
        else if (strlen(s) >= CORE_PATTERN_MAX)
                parser_report(p, LOCATE_VALUE,
                              "the path is %zu bytes long; with the pattern around it, it must fit in "
                              "core_pattern's %d bytes",
                              strlen(s), CORE_PATTERN_MAX - 1);
        else if (has_dotdot_component(s))
                parser_report(p, LOCATE_VALUE, "%s has a \"..\" component", QUOTE(s));
        else if (strlen(s) >= PATH_MAX)
                parser_report(p, LOCATE_VALUE, "the path is longer than %d bytes", PATH_MAX - 1);
        else
                (void) parser_set_string(p, &c->pipe_helper, s);
}

static void parse_listen(struct parser *p, struct json_object *o, struct config *c)
{
        struct json_object *v;
        size_t i;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, listen_keys, ARRAY_SIZE(listen_keys));
        if (parser_enter(p, o, "path", &v)) {
                parse_listen_path(p, v, c);
                parser_leave(p);
        }
        if (parser_enter(p, o, "protocol", &v)) {
                if (parser_get_enum(p, v, "protocol", values_protocol_names,
                                    ARRAY_SIZE(values_protocol_names), &i) >= 0)
                        c->protocol = (enum listen_protocol) i;
                parser_leave(p);
        }
        if (parser_enter(p, o, "pipe_helper", &v)) {
                parse_pipe_helper(p, v, c);
                parser_leave(p);
        }
}

static void parse_events(struct parser *p, struct json_object *v, struct config *c)
{
        const char *s;

        if (parser_get_nonempty_string(p, v, &s) < 0)
                return;
        if (strcmp(s, "-") != 0 && s[0] != '/') {
                parser_report(p, LOCATE_VALUE,
                              "expected \"-\" (standard output) or an absolute path, got %s", QUOTE(s));
                return;
        }
        (void) parser_set_string(p, &c->events, s);
}

static void parse_exec(struct parser *p, struct json_object *o, struct store_exec *e)
{
        struct json_object *v;
        const char *s;
        uint64_t u;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, exec_keys, ARRAY_SIZE(exec_keys));
        if (parser_enter(p, o, "command", &v)) {
                if (parser_get_nonempty_string(p, v, &s) >= 0)
                        (void) parser_set_string(p, &e->command, s);
                parser_leave(p);
        } else
                parser_report(p, LOCATE_VALUE, "missing required key \"command\"");
        if (parser_enter(p, o, "timeout", &v)) {
                (void) parser_get_duration(p, v, &e->timeout);
                parser_leave(p);
        }
        if (parser_enter(p, o, "max_concurrent", &v)) {
                if (parser_get_uint(p, v, 1, CONFIG_EXEC_MAX, &u) >= 0)
                        e->max_concurrent = (unsigned) u;
                parser_leave(p);
        }
        if (parser_enter(p, o, "remove", &v)) {
                (void) parser_get_bool(p, v, &e->remove);
                parser_leave(p);
        }
}

static void parse_store(struct parser *p, struct json_object *o, struct config *c)
{
        struct json_object *v;
        const char *s;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, store_keys, ARRAY_SIZE(store_keys));
        if (parser_enter(p, o, "directory", &v)) {
                if (parser_get_nonempty_string(p, v, &s) >= 0) {
                        if (s[0] != '/')
                                parser_report(p, LOCATE_VALUE, "expected an absolute path, got %s",
                                              QUOTE(s));
                        else
                                (void) parser_set_string(p, &c->store_directory, s);
                }
                parser_leave(p);
        }
        if (parser_enter(p, o, "max_use", &v)) {
                (void) parser_get_size(p, v, &c->store_max_use);
                parser_leave(p);
        }
        if (parser_enter(p, o, "keep_free", &v)) {
                (void) parser_get_size(p, v, &c->store_keep_free);
                parser_leave(p);
        }
        if (parser_enter(p, o, "exec", &v)) {
                parse_exec(p, v, &c->store_exec);
                parser_leave(p);
        }
        if (parser_enter(p, o, "summary", &v)) {
                (void) parser_get_bool(p, v, &c->store_summary);
                parser_leave(p);
        }
        if (parser_enter(p, o, "compress", &v)) {
                uint64_t u;

                if (parser_get_uint(p, v, 0, CONFIG_COMPRESS_MAX, &u) >= 0)
                        c->store_compress = (int) u;
                parser_leave(p);
        }
}

static void parse_per_container(struct parser *p, struct json_object *o, struct limits *l)
{
        struct json_object *v;
        bool dumps, interval;
        uint64_t u;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, per_container_keys, ARRAY_SIZE(per_container_keys));
        dumps = json_object_object_get_ex(o, "dumps", NULL);
        interval = json_object_object_get_ex(o, "interval", NULL);
        /* Half a rate is a mistake, not a default: "dumps" and "interval" come together. */
        if (dumps != interval)
                parser_report(p, LOCATE_VALUE,
                              "missing required key \"%s\" (a rate needs both \"dumps\" and "
                              "\"interval\")",
                              dumps ? "interval" : "dumps");
        if (parser_enter(p, o, "dumps", &v)) {
                if (parser_get_uint(p, v, 1, UINT32_MAX, &u) >= 0)
                        l->per_container_dumps = (unsigned) u;
                parser_leave(p);
        }
        if (parser_enter(p, o, "interval", &v)) {
                (void) parser_get_duration(p, v, &l->per_container_interval);
                parser_leave(p);
        }
        if (parser_enter(p, o, "concurrent", &v)) {
                if (parser_get_uint(p, v, 1, 4096, &u) >= 0)
                        l->per_container_concurrent = (unsigned) u;
                parser_leave(p);
        }
}

static void parse_limits(struct parser *p, struct json_object *o, struct limits *l)
{
        struct json_object *v;
        uint64_t u;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, limits_keys, ARRAY_SIZE(limits_keys));
        if (parser_enter(p, o, "collector_timeout", &v)) {
                (void) parser_get_duration(p, v, &l->collector_timeout);
                parser_leave(p);
        }
        if (parser_enter(p, o, "dump_timeout", &v)) {
                (void) parser_get_duration(p, v, &l->dump_timeout);
                parser_leave(p);
        }
        if (parser_enter(p, o, "stall_timeout", &v)) {
                (void) parser_get_duration(p, v, &l->stall_timeout);
                parser_leave(p);
        }
        if (parser_enter(p, o, "max_concurrent", &v)) {
                if (parser_get_uint(p, v, 1, 4096, &u) >= 0)
                        l->max_concurrent = (unsigned) u;
                parser_leave(p);
        }
        if (parser_enter(p, o, "per_container", &v)) {
                parse_per_container(p, v, l);
                parser_leave(p);
        }
}

static void parse_runtimes(struct parser *p, struct json_object *a, uint32_t *ret)
{
        uint32_t mask = 0;
        size_t n, i;

        if (parser_expect(p, a, json_type_array, "a list of runtime names") < 0)
                return;
        n = json_object_array_length(a);
        if (n == 0) {
                /* An empty list would match nothing, or everything: neither is what anyone means. */
                parser_report(p, LOCATE_VALUE,
                              "must not be empty (leave \"runtime\" out to match any runtime)");
                return;
        }
        for (size_t k = 0; k < n; k++) {
                parser_push_index(p, k);
                if (parser_get_enum(p, json_object_array_get_idx(a, k), "runtime", values_runtime_names,
                                    ARRAY_SIZE(values_runtime_names), &i) >= 0)
                        mask |= UINT32_C(1) << i;
                parser_pop(p);
        }
        *ret = mask;
}

/* A non-empty list of uids; key names the key to leave out instead of an empty list. */
static void parse_uids(struct parser *p, struct json_object *a, const char *key, uint32_t **ret_uids,
                       size_t *ret_n)
{
        _cleanup_free_ uint32_t *uids = NULL;
        size_t n;
        uint64_t u;

        if (parser_expect(p, a, json_type_array, "a list of uids") < 0)
                return;
        n = json_object_array_length(a);
        if (n == 0) {
                parser_report(p, LOCATE_VALUE, "must not be empty (leave \"%s\" out instead)", key);
                return;
        }
        uids = calloc(n, sizeof(*uids));
        if (!uids) {
                p->error = -ENOMEM;
                return;
        }
        for (size_t k = 0; k < n; k++) {
                parser_push_index(p, k);
                if (parser_get_uint(p, json_object_array_get_idx(a, k), 0, UID_MAX_VALID, &u) >= 0)
                        uids[k] = (uint32_t) u;
                parser_pop(p);
        }
        free(*ret_uids);
        *ret_uids = TAKE_PTR(uids);
        *ret_n = n;
}

static void parse_match(struct parser *p, struct json_object *o, struct route_match *m)
{
        const struct {
                const char *key;
                char **field;
        } strings[] = {
                { "container_id", &m->container_id },
                { "pod_uid", &m->pod_uid },
                { "cgroup", &m->cgroup },
                { "comm", &m->comm },
                { "exe", &m->exe },
        };
        struct json_object *v;
        const char *s;
        bool b;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, match_keys, ARRAY_SIZE(match_keys));
        if (parser_enter(p, o, "container", &v)) {
                if (parser_get_bool(p, v, &b) >= 0)
                        m->container = b;
                parser_leave(p);
        }
        if (parser_enter(p, o, "rootless", &v)) {
                if (parser_get_bool(p, v, &b) >= 0)
                        m->rootless = b;
                parser_leave(p);
        }
        if (parser_enter(p, o, "runtime", &v)) {
                parse_runtimes(p, v, &m->runtimes);
                parser_leave(p);
        }
        /* An empty pattern or prefix would match everything or nothing: always a mistake. */
        for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
                if (!parser_enter(p, o, strings[i].key, &v))
                        continue;
                if (parser_get_nonempty_string(p, v, &s) >= 0)
                        (void) parser_set_string(p, strings[i].field, s);
                parser_leave(p);
        }
        if (parser_enter(p, o, "uid", &v)) {
                parse_uids(p, v, "uid", &m->uids, &m->n_uids);
                parser_leave(p);
        }
        config_parse_match_names(p, o, m);
}

/* "task" (the default), "any", or a list of host uids accepted besides the task's rule. */
static void parse_collector_uid(struct parser *p, struct json_object *v, struct route *r)
{
        size_t i;

        if (json_object_is_type(v, json_type_array)) {
                parse_uids(p, v, "collector_uid", &r->collector_uids, &r->n_collector_uids);
                return;
        }
        if (!json_object_is_type(v, json_type_string)) {
                parser_report(p, LOCATE_VALUE, "expected \"task\", \"any\" or a list of uids");
                return;
        }
        if (parser_get_enum(p, v, "collector_uid", values_collector_uid_names,
                            ARRAY_SIZE(values_collector_uid_names), &i) >= 0)
                r->collector_uid = (enum collector_uid_mode) i;
}

static void parse_address(struct parser *p, struct json_object *v, struct route *r)
{
        const char *s;
        size_t n;

        if (parser_get_nonempty_string(p, v, &s) < 0)
                return;
        n = strlen(s);
        if (s[0] == '@') {
                /* sun_path minus the leading NUL; one more byte stays free for a terminator. */
                if (n - 1 < 1 || n - 1 > SUN_PATH_SIZE - 2) {
                        parser_report(p, LOCATE_VALUE,
                                      "an abstract name must be 1 to %zu bytes long, got %zu",
                                      SUN_PATH_SIZE - 2, n - 1);
                        return;
                }
        } else if (s[0] == '/') {
                if (n >= SUN_PATH_SIZE) {
                        parser_report(
                                p, LOCATE_VALUE,
                                "the path is %zu bytes long; a socket path must be shorter than %zu bytes",
                                n, SUN_PATH_SIZE);
                        return;
                }
        } else {
                parser_report(p, LOCATE_VALUE,
                              "expected \"@name\" (an abstract socket) or an absolute path, got %s",
                              QUOTE(s));
                return;
        }
        (void) parser_set_string(p, &r->address, s);
}

/* Forward-only keys on another action are errors: the user expects them to do something. */
static void forward_only(struct parser *p, int action, const char *key)
{
        if (action >= 0 && action != ACTION_FORWARD)
                parser_report(p, LOCATE_KEY, "\"%s\" is only valid with \"action\": \"forward\"", key);
}

/* Keys of the actions that hand a dump to someone (forward, systemd), and that may not reach them. */
static void handing_only(struct parser *p, int action, const char *key)
{
        if (action >= 0 && action != ACTION_FORWARD && action != ACTION_SYSTEMD)
                parser_report(p, LOCATE_KEY,
                              "\"%s\" is only valid with \"action\": \"forward\" or \"systemd\"", key);
}

static void systemd_only(struct parser *p, int action, const char *key)
{
        if (action >= 0 && action != ACTION_SYSTEMD)
                parser_report(p, LOCATE_KEY, "\"%s\" is only valid with \"action\": \"systemd\"", key);
}

static void parse_route(struct parser *p, struct json_object *o, struct route *r)
{
        struct json_object *v;
        const char *s;
        int action = -1;
        size_t i;

        r->match.container = -1;
        r->match.rootless = -1;
        r->fallback = ACTION_STORE;
        r->trust = TRUST_POD;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, route_keys, ARRAY_SIZE(route_keys));

        if (parser_enter(p, o, "name", &v)) {
                if (parser_get_nonempty_string(p, v, &s) >= 0)
                        (void) parser_set_string(p, &r->name, s);
                parser_leave(p);
        } else
                parser_report(p, LOCATE_VALUE, "missing required key \"name\"");

        if (parser_enter(p, o, "match", &v)) {
                parse_match(p, v, &r->match);
                parser_leave(p);
        }

        if (parser_enter(p, o, "action", &v)) {
                if (parser_get_enum(p, v, "action", values_action_names, ARRAY_SIZE(values_action_names),
                                    &i) >= 0)
                        action = (int) i;
                parser_leave(p);
        } else
                parser_report(p, LOCATE_VALUE, "missing required key \"action\" (expected one of: %s)",
                              JOIN(values_action_names, ARRAY_SIZE(values_action_names)));
        if (action >= 0)
                r->action = (enum route_action) action;

        if (parser_enter(p, o, "address", &v)) {
                handing_only(p, action, "address");
                parse_address(p, v, r);
                if (action == ACTION_SYSTEMD && r->address && r->address[0] != '/')
                        parser_report(p, LOCATE_VALUE, "systemd-coredump listens at a path, got %s",
                                      QUOTE(r->address));
                parser_leave(p);
        }
        if (parser_enter(p, o, "where", &v)) {
                systemd_only(p, action, "where");
                if (parser_get_enum(p, v, "where", values_where_names, ARRAY_SIZE(values_where_names), &i) >=
                    0)
                        r->where = (enum systemd_where) i;
                parser_leave(p);
        }
        if (parser_enter(p, o, "fallback", &v)) {
                handing_only(p, action, "fallback");
                if (parser_get_enum(p, v, "fallback", values_fallback_names,
                                    ARRAY_SIZE(values_fallback_names), &i) >= 0)
                        r->fallback = i == 0 ? ACTION_STORE : ACTION_REJECT;
                parser_leave(p);
        }
        if (parser_enter(p, o, "trust", &v)) {
                forward_only(p, action, "trust");
                if (parser_get_enum(p, v, "trust", values_trust_names, ARRAY_SIZE(values_trust_names), &i) >=
                    0)
                        r->trust = (enum trust_mode) i;
                parser_leave(p);
        }
        if (parser_enter(p, o, "pass_pidfd", &v)) {
                forward_only(p, action, "pass_pidfd");
                (void) parser_get_bool(p, v, &r->pass_pidfd);
                parser_leave(p);
        }
        if (parser_enter(p, o, "expose_host", &v)) {
                forward_only(p, action, "expose_host");
                (void) parser_get_bool(p, v, &r->expose_host);
                parser_leave(p);
        }
        if (parser_enter(p, o, "collector_uid", &v)) {
                forward_only(p, action, "collector_uid");
                parse_collector_uid(p, v, r);
                parser_leave(p);
        }

        if (action == ACTION_FORWARD && !r->address)
                (void) parser_set_string(p, &r->address, CONFIG_DEFAULT_ADDRESS);
        if (action == ACTION_SYSTEMD && !r->address)
                (void) parser_set_string(p, &r->address, CONFIG_DEFAULT_SYSTEMD_ADDRESS);
}

struct named_route {
        const char *name;
        size_t index;
};

static int named_route_compare(const void *a, const void *b)
{
        const struct named_route *x = a, *y = b;
        int d = strcmp(x->name, y->name);

        if (d != 0)
                return d;
        return x->index < y->index ? -1 : x->index > y->index;
}

/* Names identify routes in events and logs: two routes with one name would make those ambiguous. */
static void check_route_names(struct parser *p, const struct config *c)
{
        _cleanup_free_ struct named_route *v = NULL;
        size_t n = 0;

        v = calloc(c->n_routes, sizeof(*v));
        if (!v) {
                p->error = -ENOMEM;
                return;
        }
        for (size_t i = 0; i < c->n_routes; i++)
                if (c->routes[i].name)
                        v[n++] = (struct named_route){ .name = c->routes[i].name, .index = i };
        qsort(v, n, sizeof(*v), named_route_compare);

        for (size_t i = 1, first = 0; i < n; i++) {
                if (strcmp(v[i].name, v[first].name) != 0) {
                        first = i;
                        continue;
                }
                parser_push_index(p, v[i].index);
                parser_push_key(p, "name");
                parser_report(p, LOCATE_VALUE, "duplicate route name %s (also used by routes[%zu])",
                              QUOTE(v[i].name), v[first].index);
                parser_pop(p);
                parser_pop(p);
        }
}

static void parse_routes(struct parser *p, struct json_object *a, struct config *c)
{
        size_t n;

        if (parser_expect(p, a, json_type_array, "a list of routes") < 0)
                return;
        n = json_object_array_length(a);
        if (n == 0)
                return;
        c->routes = calloc(n, sizeof(*c->routes));
        if (!c->routes) {
                p->error = -ENOMEM;
                return;
        }
        c->n_routes = n;
        for (size_t i = 0; i < n; i++) {
                parser_push_index(p, i);
                parse_route(p, json_object_array_get_idx(a, i), &c->routes[i]);
                parser_pop(p);
        }
        check_route_names(p, c);
}

static void parse_root(struct parser *p, struct json_object *root, struct config *c)
{
        struct json_object *v;
        uint64_t u;

        if (parser_expect(p, root, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, root, top_keys, ARRAY_SIZE(top_keys));
        if (parser_enter(p, root, "version", &v)) {
                if (parser_get_uint(p, v, 0, UINT64_MAX, &u) >= 0 && u != 1)
                        parser_report(p, LOCATE_VALUE, "unsupported version %" PRIu64 " (expected 1)", u);
                parser_leave(p);
        }
        if (parser_enter(p, root, "listen", &v)) {
                parse_listen(p, v, c);
                parser_leave(p);
        }
        if (parser_enter(p, root, "events", &v)) {
                parse_events(p, v, c);
                parser_leave(p);
        }
        if (parser_enter(p, root, "store", &v)) {
                parse_store(p, v, c);
                parser_leave(p);
        }
        if (parser_enter(p, root, "limits", &v)) {
                parse_limits(p, v, &c->limits);
                parser_leave(p);
        }
        if (parser_enter(p, root, "names", &v)) {
                config_parse_names(p, v, &c->names);
                parser_leave(p);
        }
        if (parser_enter(p, root, "routes", &v)) {
                parse_routes(p, v, c);
                parser_leave(p);
        }
}

int config_load_string(const char *name, const char *text, size_t len, struct config **ret,
                       struct config_errors *errors)
{
        _cleanup_(parser_done) struct parser p = {
                .source = name ?: "(string)",
                .text = text ?: "",
                .len = text ? len : 0,
        };
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        int r;

        assert(ret);

        r = config_new(p.source, &c);
        if (r < 0)
                return r;
        r = syntax_parse(&p, &root);
        if (r < 0)
                return r;
        if (root)
                parse_root(&p, root, c);
        if (p.error < 0)
                return p.error;
        if (p.n_problems > 0 || p.n_dropped > 0) {
                r = parser_flush_problems(&p, errors);
                return r < 0 ? r : -EINVAL;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_file(const char *path, struct config **ret, struct config_errors *errors)
{
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        /* One byte over the limit is enough to know the file is too large. */
        r = io_read_file_at(AT_FDCWD, path, CONFIG_MAX_SIZE + 1, &text, &size);
        if (r == -EFBIG) {
                r = config_errors_append(errors, "%s:1:1: $: the file is larger than %zu bytes", path,
                                         CONFIG_MAX_SIZE);
                return r < 0 ? r : -EINVAL;
        }
        if (r < 0)
                return r;
        return config_load_string(path, text, size, ret, errors);
}
