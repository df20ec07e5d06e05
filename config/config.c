/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <json-c/json.h>

#include "config/config.h"
#include "config/locate.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"

#define CONFIG_MAX_SIZE ((size_t) 1024 * 1024)
/* A valid config nests 5 deep (routes[].match.runtime[]); anything far deeper is not a config. */
#define CONFIG_MAX_DEPTH 16
/* Placing a problem costs a scan of the text: bound what a hostile file can make us do. */
#define CONFIG_MAX_PROBLEMS 100
/* The deepest path the parser walks: routes[i].match.runtime[j], plus an unknown key below match. */
#define PATH_MAX_STEPS 8
#define QUOTE_MAX      72
#define SUN_PATH_SIZE  sizeof(((struct sockaddr_un *) NULL)->sun_path)
#define UID_MAX_VALID  UINT64_C(4294967294) /* (uid_t) -1 means "no uid" to the kernel */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

static const char *const runtime_names[_RUNTIME_MAX] = {
        [RUNTIME_DOCKER] = "docker", [RUNTIME_CONTAINERD] = "containerd", [RUNTIME_CRIO] = "cri-o",
        [RUNTIME_PODMAN] = "podman", [RUNTIME_NSPAWN] = "nspawn",         [RUNTIME_LXC] = "lxc",
        [RUNTIME_CRI] = "cri",
};

static const char *const action_names[_ACTION_MAX] = {
        [ACTION_FORWARD] = "forward",
        [ACTION_STORE] = "store",
        [ACTION_REJECT] = "reject",
};

static const char *const protocol_names[] = {
        [PROTOCOL_REQUEST] = "request",
        [PROTOCOL_PLAIN] = "plain",
};

static const char *const trust_names[] = {
        [TRUST_POD] = "pod",
        [TRUST_CONTAINER] = "container",
};

static const char *const fallback_names[] = { "store", "reject" };

static const char *const top_keys[] = { "version", "listen", "events", "store", "limits", "routes" };
static const char *const listen_keys[] = { "path", "protocol" };
static const char *const store_keys[] = { "directory", "max_use", "keep_free" };
static const char *const limits_keys[] = { "collector_timeout", "dump_timeout", "max_concurrent",
                                           "per_container" };
static const char *const per_container_keys[] = { "dumps", "interval" };
static const char *const route_keys[] = { "name",     "match", "action",     "address",
                                          "fallback", "trust", "pass_pidfd", "expose_host" };
static const char *const match_keys[] = { "container", "runtime", "container_id", "pod_uid",
                                          "cgroup",    "comm",    "exe",          "uid" };

const char *runtime_to_string(enum container_runtime r)
{
        if ((unsigned) r >= _RUNTIME_MAX)
                return NULL;
        return runtime_names[r];
}

int runtime_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(runtime_names); i++)
                if (strcmp(s, runtime_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *action_to_string(enum route_action a)
{
        if ((unsigned) a >= _ACTION_MAX)
                return NULL;
        return action_names[a];
}

uint64_t size_limit_bytes(const struct size_limit *l, uint64_t fs_size)
{
        if (!l || !l->set)
                return UINT64_MAX;
        if (!l->percent)
                return l->value;
        /* Split so that fs_size * value cannot overflow for any filesystem size. */
        return fs_size / 100 * l->value + fs_size % 100 * l->value / 100;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Leading decimal digits of s into *ret; returns how many, and flags overflow. */
static size_t parse_digits(const char *s, uint64_t *ret, bool *ret_overflow)
{
        uint64_t v = 0;
        bool overflow = false;
        size_t n = 0;

        for (; is_digit(s[n]); n++) {
                unsigned d = (unsigned) (s[n] - '0');

                if (v > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        v = v * 10 + d;
        }
        *ret = v;
        *ret_overflow = overflow;
        return n;
}

/* Like config_parse_size(), but tells a value out of range (-ERANGE) from bad syntax (-EINVAL). */
static int parse_size(const char *s, struct size_limit *ret)
{
        uint64_t v, unit = 1;
        bool overflow;
        size_t n;

        if (!s)
                return -EINVAL;
        n = parse_digits(s, &v, &overflow);
        if (n == 0)
                return -EINVAL;

        if (strcmp(s + n, "%") == 0) {
                if (overflow || v > 100)
                        return -ERANGE;
                *ret = (struct size_limit){ .set = true, .percent = true, .value = v };
                return 0;
        }
        if (s[n] != 0 && s[n + 1] != 0)
                return -EINVAL;
        switch (s[n]) {
        case 0:
                break;
        case 'K':
                unit = UINT64_C(1) << 10;
                break;
        case 'M':
                unit = UINT64_C(1) << 20;
                break;
        case 'G':
                unit = UINT64_C(1) << 30;
                break;
        case 'T':
                unit = UINT64_C(1) << 40;
                break;
        default:
                return -EINVAL;
        }
        if (overflow || v > UINT64_MAX / unit)
                return -ERANGE;
        *ret = (struct size_limit){ .set = true, .value = v * unit };
        return 0;
}

int config_parse_size(const char *s, struct size_limit *ret)
{
        struct size_limit l;

        if (parse_size(s, &l) < 0)
                return -EINVAL;
        *ret = l;
        return 0;
}

/* Like config_parse_duration(), but takes zero and tells overflow (-ERANGE) from bad syntax. */
static int parse_duration(const char *s, usec_t *ret)
{
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "ms", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
        };
        uint64_t v;
        bool overflow;
        size_t n;

        if (!s)
                return -EINVAL;
        n = parse_digits(s, &v, &overflow);
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcmp(s + n, units[i].suffix) != 0)
                        continue;
                if (overflow || v > UINT64_MAX / units[i].usec)
                        return -ERANGE;
                *ret = v * units[i].usec;
                return 0;
        }
        return -EINVAL;
}

int config_parse_duration(const char *s, usec_t *ret)
{
        usec_t u;

        if (parse_duration(s, &u) < 0 || u == 0)
                return -EINVAL;
        *ret = u;
        return 0;
}

static void route_done(struct route *r)
{
        free(r->name);
        free(r->match.container_id);
        free(r->match.pod_uid);
        free(r->match.cgroup);
        free(r->match.uids);
        free(r->match.comm);
        free(r->match.exe);
        free(r->address);
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
        free(c->events);
        free(c->store_directory);
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
        if (!c->source || !c->listen_path || !c->events || !c->store_directory)
                return -ENOMEM;
        c->protocol = PROTOCOL_REQUEST;
        /* Close to systemd-coredump's defaults (MaxUse 10%, KeepFree 15%). */
        c->store_max_use = (struct size_limit){ .set = true, .percent = true, .value = 10 };
        c->store_keep_free = (struct size_limit){ .set = true, .percent = true, .value = 15 };
        c->limits = (struct limits){
                .collector_timeout = 2 * USEC_PER_SEC,
                .dump_timeout = 5 * 60 * USEC_PER_SEC,
                .max_concurrent = 64,
        };
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- problems: collected with their offsets, sorted and formatted at the end */

struct problem {
        size_t offset;
        size_t seq;
        char *text; /* "KEY.PATH: message" */
};

struct parser {
        const char *source;
        const char *text;
        size_t len;
        struct locate_step path[PATH_MAX_STEPS];
        size_t depth;
        struct problem *problems;
        size_t n_problems;
        size_t n_dropped;
        int error; /* a failure that is not the config's fault (ENOMEM) */
};

static void parser_done(struct parser *p)
{
        for (size_t i = 0; i < p->n_problems; i++)
                free(p->problems[i].text);
        free(p->problems);
}

static void push_key(struct parser *p, const char *key)
{
        assert(p->depth < PATH_MAX_STEPS);
        p->path[p->depth++] = (struct locate_step){ .key = key };
}

static void push_index(struct parser *p, size_t index)
{
        assert(p->depth < PATH_MAX_STEPS);
        p->path[p->depth++] = (struct locate_step){ .index = index };
}

static void pop(struct parser *p)
{
        assert(p->depth > 0);
        p->depth--;
}

static void add_problem(struct parser *p, size_t offset, const char *path, const char *msg)
{
        struct problem *n;
        char *text;

        /* One problem per spot: the first (a syntax or lint problem) explains the ones that follow. */
        for (size_t i = 0; i < p->n_problems; i++)
                if (p->problems[i].offset == offset)
                        return;
        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return;
        }
        n = reallocarray(p->problems, p->n_problems + 1, sizeof(*n));
        if (!n) {
                p->error = -ENOMEM;
                return;
        }
        p->problems = n;
        if (asprintf(&text, "%s: %s", path, msg) < 0) {
                p->error = -ENOMEM;
                return;
        }
        p->problems[p->n_problems] =
                (struct problem){ .offset = offset, .seq = p->n_problems, .text = text };
        p->n_problems++;
}

static _printf_(4, 5) void report_at(struct parser *p, size_t offset, const char *path, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0) {
                p->error = -ENOMEM;
                return;
        }
        add_problem(p, offset, path, msg);
}

/* Reports a problem with the value (or key) at the current path. */
static _printf_(3, 4) void report(struct parser *p, enum locate_target target, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL, *path = NULL;
        size_t offset = 0;
        va_list ap;
        int r;

        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return;
        }
        va_start(ap, fmt);
        r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (r < 0 || locate_format_path(p->path, p->depth, &path) < 0) {
                p->error = -ENOMEM;
                return;
        }
        /* Where the exact spot cannot be found, the nearest enclosing value still helps. */
        for (size_t n = p->depth;; n--) {
                if (locate_find(p->text, p->len, p->path, n, n == p->depth ? target : LOCATE_VALUE,
                                &offset) >= 0)
                        break;
                if (n == 0) {
                        offset = 0;
                        break;
                }
        }
        add_problem(p, offset, path, msg);
}

/* s quoted for a message: escaped, and cut short at a character boundary when long. */
static const char *quote(const char *s, char *buf)
{
        size_t o = 0;

        buf[o++] = '"';
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;

                /* Room for the longest escape (6), the ellipsis and quote (4) and the NUL. */
                if ((c & 0xC0) != 0x80 && o + 11 > QUOTE_MAX) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char) c;
                } else if (c < 0x20 || c == 0x7F) {
                        o += (size_t) snprintf(buf + o, QUOTE_MAX - o, "\\u%04x", c);
                } else {
                        buf[o++] = (char) c;
                }
        }
        buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

#define QUOTE(s) quote((s), (char[QUOTE_MAX]){ 0 })

static const char *join(const char *const *names, size_t n, char *buf, size_t size)
{
        size_t o = 0;

        buf[0] = 0;
        for (size_t i = 0; i < n && o < size; i++)
                o += (size_t) snprintf(buf + o, size - o, "%s%s", i > 0 ? ", " : "", names[i]);
        return buf;
}

#define JOIN(names, n) join((names), (n), (char[256]){ 0 }, 256)

/* ---- typed getters: each reports what is wrong and returns -EINVAL, or 0 */

static const char *type_name(struct json_object *v)
{
        switch (json_object_get_type(v)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
                return "a floating-point number";
        case json_type_int:
                return "an integer";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "an unknown type";
}

static int expect(struct parser *p, struct json_object *v, enum json_type type, const char *what)
{
        if (json_object_is_type(v, type))
                return 0;
        report(p, LOCATE_VALUE, "expected %s, got %s", what, type_name(v));
        return -EINVAL;
}

static int set_string(struct parser *p, char **field, const char *s)
{
        char *copy = strdup(s);

        if (!copy) {
                p->error = -ENOMEM;
                return -ENOMEM;
        }
        free(*field);
        *field = copy;
        return 0;
}

static int get_string(struct parser *p, struct json_object *v, const char **ret)
{
        const char *s;

        if (expect(p, v, json_type_string, "a string") < 0)
                return -EINVAL;
        s = json_object_get_string(v);
        /* json-c keeps "\u0000" inside strings; every consumer of ours would cut the string there. */
        if (strlen(s) != (size_t) json_object_get_string_len(v)) {
                report(p, LOCATE_VALUE, "must not contain a NUL character (\\u0000)");
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

static int get_nonempty_string(struct parser *p, struct json_object *v, const char **ret)
{
        const char *s;

        if (get_string(p, v, &s) < 0)
                return -EINVAL;
        if (!*s) {
                report(p, LOCATE_VALUE, "must not be empty");
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

static int get_bool(struct parser *p, struct json_object *v, bool *ret)
{
        if (expect(p, v, json_type_boolean, "true or false") < 0)
                return -EINVAL;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int get_uint(struct parser *p, struct json_object *v, uint64_t min, uint64_t max, uint64_t *ret)
{
        int64_t s;
        uint64_t u;

        if (expect(p, v, json_type_int, "an integer") < 0)
                return -EINVAL;
        s = json_object_get_int64(v);
        if (s < 0) {
                report(p, LOCATE_VALUE, "%" PRId64 " is out of range (expected %" PRIu64 " to %" PRIu64 ")",
                       s, min, max);
                return -EINVAL;
        }
        u = json_object_get_uint64(v);
        if (u < min || u > max) {
                report(p, LOCATE_VALUE, "%" PRIu64 " is out of range (expected %" PRIu64 " to %" PRIu64 ")",
                       u, min, max);
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

/* The index of the string value in names. */
static int get_enum(struct parser *p, struct json_object *v, const char *what, const char *const *names,
                    size_t n, size_t *ret)
{
        const char *s;

        if (get_string(p, v, &s) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (strcmp(s, names[i]) == 0) {
                        *ret = i;
                        return 0;
                }
        report(p, LOCATE_VALUE, "unknown %s %s (expected one of: %s)", what, QUOTE(s), JOIN(names, n));
        return -EINVAL;
}

static int get_duration(struct parser *p, struct json_object *v, usec_t *ret)
{
        const char *s;
        usec_t u;
        int r;

        if (expect(p, v, json_type_string, "a duration such as \"2s\"") < 0 || get_string(p, v, &s) < 0)
                return -EINVAL;
        r = parse_duration(s, &u);
        if (r == -ERANGE) {
                report(p, LOCATE_VALUE, "duration %s is too large", QUOTE(s));
                return r;
        }
        if (r < 0) {
                report(p, LOCATE_VALUE,
                       "invalid duration %s (expected a whole number with a unit: ms, s, m or h, e.g. "
                       "\"500ms\", "
                       "\"2s\", \"5m\", \"1h\")",
                       QUOTE(s));
                return r;
        }
        if (u == 0) {
                report(p, LOCATE_VALUE, "duration must be greater than zero");
                return -EINVAL;
        }
        *ret = u;
        return 0;
}

static int get_size(struct parser *p, struct json_object *v, struct size_limit *ret)
{
        struct size_limit l;
        const char *s;
        int r;

        if (json_object_is_type(v, json_type_int)) {
                if (json_object_get_int64(v) < 0) {
                        report(p, LOCATE_VALUE, "a size cannot be negative");
                        return -EINVAL;
                }
                *ret = (struct size_limit){ .set = true, .value = json_object_get_uint64(v) };
                return 0;
        }
        if (expect(p, v, json_type_string, "a size such as \"10G\" or \"15%\", or a number of bytes") < 0 ||
            get_string(p, v, &s) < 0)
                return -EINVAL;
        r = parse_size(s, &l);
        if (r == -ERANGE && s[strlen(s) - 1] == '%') {
                report(p, LOCATE_VALUE, "percentage %s is out of range (expected 0%% to 100%%)", QUOTE(s));
                return r;
        }
        if (r == -ERANGE) {
                report(p, LOCATE_VALUE, "size %s is too large", QUOTE(s));
                return r;
        }
        if (r < 0) {
                report(p, LOCATE_VALUE,
                       "invalid size %s (expected bytes, a whole number with K, M, G or T (powers of 1024), "
                       "or a "
                       "percentage of the filesystem such as \"15%%\")",
                       QUOTE(s));
                return r;
        }
        *ret = l;
        return 0;
}

/* Reports every key of object o that is not in allowed. */
static void check_keys(struct parser *p, struct json_object *o, const char *const *allowed, size_t n)
{
        struct json_object_iterator it = json_object_iter_begin(o), end = json_object_iter_end(o);
        _cleanup_free_ char *where = NULL;

        if (p->depth > 0 && locate_format_path(p->path, p->depth, &where) < 0) {
                p->error = -ENOMEM;
                return;
        }
        for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
                const char *key = json_object_iter_peek_name(&it);
                bool known = false;

                for (size_t i = 0; i < n && !known; i++)
                        known = strcmp(key, allowed[i]) == 0;
                if (known)
                        continue;
                push_key(p, key);
                report(p, LOCATE_KEY, "unknown key %s %s%s (expected one of: %s)", QUOTE(key),
                       where ? "in " : "at the top level", where ?: "", JOIN(allowed, n));
                pop(p);
        }
}

/* Looks key up in o and, when present, makes it the current path until leave(). */
static bool enter(struct parser *p, struct json_object *o, const char *key, struct json_object **ret)
{
        if (!json_object_object_get_ex(o, key, ret))
                return false;
        push_key(p, key);
        return true;
}

static void leave(struct parser *p)
{
        pop(p);
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

        if (get_string(p, v, &s) < 0)
                return;
        if (core_pattern_validate_socket_path(s) >= 0) {
                (void) set_string(p, &c->listen_path, s);
                return;
        }
        /* The kernel's rules for the socket in core_pattern, each with its reason. */
        if (s[0] != '/')
                report(p, LOCATE_VALUE, "%s is not an absolute path (the kernel requires one)", QUOTE(s));
        else if (strlen(s) >= SUN_PATH_SIZE)
                report(p, LOCATE_VALUE,
                       "the path is %zu bytes long; a socket path must be shorter than %zu bytes", strlen(s),
                       SUN_PATH_SIZE);
        else if (has_dotdot_component(s))
                report(p, LOCATE_VALUE, "%s has a \"..\" component (the kernel refuses those)", QUOTE(s));
        else if (strpbrk(s, " \t\n"))
                report(p, LOCATE_VALUE, "%s contains whitespace (core_pattern reserves it for parameters)",
                       QUOTE(s));
        else
                report(p, LOCATE_VALUE, "%s is not a valid core_pattern socket path", QUOTE(s));
}

static void parse_listen(struct parser *p, struct json_object *o, struct config *c)
{
        struct json_object *v;
        size_t i;

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, listen_keys, ARRAY_SIZE(listen_keys));
        if (enter(p, o, "path", &v)) {
                parse_listen_path(p, v, c);
                leave(p);
        }
        if (enter(p, o, "protocol", &v)) {
                if (get_enum(p, v, "protocol", protocol_names, ARRAY_SIZE(protocol_names), &i) >= 0)
                        c->protocol = (enum listen_protocol) i;
                leave(p);
        }
}

static void parse_events(struct parser *p, struct json_object *v, struct config *c)
{
        const char *s;

        if (get_nonempty_string(p, v, &s) < 0)
                return;
        if (strcmp(s, "-") != 0 && s[0] != '/') {
                report(p, LOCATE_VALUE, "expected \"-\" (standard output) or an absolute path, got %s",
                       QUOTE(s));
                return;
        }
        (void) set_string(p, &c->events, s);
}

static void parse_store(struct parser *p, struct json_object *o, struct config *c)
{
        struct json_object *v;
        const char *s;

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, store_keys, ARRAY_SIZE(store_keys));
        if (enter(p, o, "directory", &v)) {
                if (get_nonempty_string(p, v, &s) >= 0) {
                        if (s[0] != '/')
                                report(p, LOCATE_VALUE, "expected an absolute path, got %s", QUOTE(s));
                        else
                                (void) set_string(p, &c->store_directory, s);
                }
                leave(p);
        }
        if (enter(p, o, "max_use", &v)) {
                (void) get_size(p, v, &c->store_max_use);
                leave(p);
        }
        if (enter(p, o, "keep_free", &v)) {
                (void) get_size(p, v, &c->store_keep_free);
                leave(p);
        }
}

static void parse_per_container(struct parser *p, struct json_object *o, struct limits *l)
{
        struct json_object *v;
        uint64_t u;

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, per_container_keys, ARRAY_SIZE(per_container_keys));
        /* Half a limit is a mistake, not a default: both keys are required. */
        if (enter(p, o, "dumps", &v)) {
                if (get_uint(p, v, 1, UINT32_MAX, &u) >= 0)
                        l->per_container_dumps = (unsigned) u;
                leave(p);
        } else
                report(p, LOCATE_VALUE, "missing required key \"dumps\"");
        if (enter(p, o, "interval", &v)) {
                (void) get_duration(p, v, &l->per_container_interval);
                leave(p);
        } else
                report(p, LOCATE_VALUE, "missing required key \"interval\"");
}

static void parse_limits(struct parser *p, struct json_object *o, struct limits *l)
{
        struct json_object *v;
        uint64_t u;

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, limits_keys, ARRAY_SIZE(limits_keys));
        if (enter(p, o, "collector_timeout", &v)) {
                (void) get_duration(p, v, &l->collector_timeout);
                leave(p);
        }
        if (enter(p, o, "dump_timeout", &v)) {
                (void) get_duration(p, v, &l->dump_timeout);
                leave(p);
        }
        if (enter(p, o, "max_concurrent", &v)) {
                if (get_uint(p, v, 1, 4096, &u) >= 0)
                        l->max_concurrent = (unsigned) u;
                leave(p);
        }
        if (enter(p, o, "per_container", &v)) {
                parse_per_container(p, v, l);
                leave(p);
        }
}

static void parse_runtimes(struct parser *p, struct json_object *a, uint32_t *ret)
{
        uint32_t mask = 0;
        size_t n, i;

        if (expect(p, a, json_type_array, "a list of runtime names") < 0)
                return;
        n = json_object_array_length(a);
        if (n == 0) {
                /* An empty list would match nothing, or everything: neither is what anyone means. */
                report(p, LOCATE_VALUE, "must not be empty (leave \"runtime\" out to match any runtime)");
                return;
        }
        for (size_t k = 0; k < n; k++) {
                push_index(p, k);
                if (get_enum(p, json_object_array_get_idx(a, k), "runtime", runtime_names,
                             ARRAY_SIZE(runtime_names), &i) >= 0)
                        mask |= UINT32_C(1) << i;
                pop(p);
        }
        *ret = mask;
}

static void parse_uids(struct parser *p, struct json_object *a, struct route_match *m)
{
        _cleanup_free_ uint32_t *uids = NULL;
        size_t n;
        uint64_t u;

        if (expect(p, a, json_type_array, "a list of uids") < 0)
                return;
        n = json_object_array_length(a);
        if (n == 0) {
                report(p, LOCATE_VALUE, "must not be empty (leave \"uid\" out to match any uid)");
                return;
        }
        uids = calloc(n, sizeof(*uids));
        if (!uids) {
                p->error = -ENOMEM;
                return;
        }
        for (size_t k = 0; k < n; k++) {
                push_index(p, k);
                if (get_uint(p, json_object_array_get_idx(a, k), 0, UID_MAX_VALID, &u) >= 0)
                        uids[k] = (uint32_t) u;
                pop(p);
        }
        free(m->uids);
        m->uids = TAKE_PTR(uids);
        m->n_uids = n;
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

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, match_keys, ARRAY_SIZE(match_keys));
        if (enter(p, o, "container", &v)) {
                if (get_bool(p, v, &b) >= 0)
                        m->container = b;
                leave(p);
        }
        if (enter(p, o, "runtime", &v)) {
                parse_runtimes(p, v, &m->runtimes);
                leave(p);
        }
        /* An empty pattern or prefix would match everything or nothing: always a mistake. */
        for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
                if (!enter(p, o, strings[i].key, &v))
                        continue;
                if (get_nonempty_string(p, v, &s) >= 0)
                        (void) set_string(p, strings[i].field, s);
                leave(p);
        }
        if (enter(p, o, "uid", &v)) {
                parse_uids(p, v, m);
                leave(p);
        }
}

static void parse_address(struct parser *p, struct json_object *v, struct route *r)
{
        const char *s;
        size_t n;

        if (get_nonempty_string(p, v, &s) < 0)
                return;
        n = strlen(s);
        if (s[0] == '@') {
                /* sun_path minus the leading NUL; one more byte stays free for a terminator. */
                if (n - 1 < 1 || n - 1 > SUN_PATH_SIZE - 2) {
                        report(p, LOCATE_VALUE, "an abstract name must be 1 to %zu bytes long, got %zu",
                               SUN_PATH_SIZE - 2, n - 1);
                        return;
                }
        } else if (s[0] == '/') {
                if (n >= SUN_PATH_SIZE) {
                        report(p, LOCATE_VALUE,
                               "the path is %zu bytes long; a socket path must be shorter than %zu bytes", n,
                               SUN_PATH_SIZE);
                        return;
                }
        } else {
                report(p, LOCATE_VALUE,
                       "expected \"@name\" (an abstract socket) or an absolute path, got %s", QUOTE(s));
                return;
        }
        (void) set_string(p, &r->address, s);
}

/* Forward-only keys on another action are errors: the user expects them to do something. */
static void forward_only(struct parser *p, int action, const char *key)
{
        if (action >= 0 && action != ACTION_FORWARD)
                report(p, LOCATE_KEY, "\"%s\" is only valid with \"action\": \"forward\"", key);
}

static void parse_route(struct parser *p, struct json_object *o, struct route *r)
{
        struct json_object *v;
        const char *s;
        int action = -1;
        size_t i;

        r->match.container = -1;
        r->fallback = ACTION_STORE;
        r->trust = TRUST_POD;

        if (expect(p, o, json_type_object, "an object") < 0)
                return;
        check_keys(p, o, route_keys, ARRAY_SIZE(route_keys));

        if (enter(p, o, "name", &v)) {
                if (get_nonempty_string(p, v, &s) >= 0)
                        (void) set_string(p, &r->name, s);
                leave(p);
        } else
                report(p, LOCATE_VALUE, "missing required key \"name\"");

        if (enter(p, o, "match", &v)) {
                parse_match(p, v, &r->match);
                leave(p);
        }

        if (enter(p, o, "action", &v)) {
                if (json_object_is_type(v, json_type_string) &&
                    strcmp(json_object_get_string(v), "systemd") == 0)
                        report(p, LOCATE_VALUE, "action systemd is not supported yet");
                else if (get_enum(p, v, "action", action_names, ARRAY_SIZE(action_names), &i) >= 0)
                        action = (int) i;
                leave(p);
        } else
                report(p, LOCATE_VALUE, "missing required key \"action\" (expected one of: %s)",
                       JOIN(action_names, ARRAY_SIZE(action_names)));
        if (action >= 0)
                r->action = (enum route_action) action;

        if (enter(p, o, "address", &v)) {
                forward_only(p, action, "address");
                parse_address(p, v, r);
                leave(p);
        }
        if (enter(p, o, "fallback", &v)) {
                forward_only(p, action, "fallback");
                if (get_enum(p, v, "fallback", fallback_names, ARRAY_SIZE(fallback_names), &i) >= 0)
                        r->fallback = i == 0 ? ACTION_STORE : ACTION_REJECT;
                leave(p);
        }
        if (enter(p, o, "trust", &v)) {
                forward_only(p, action, "trust");
                if (get_enum(p, v, "trust", trust_names, ARRAY_SIZE(trust_names), &i) >= 0)
                        r->trust = (enum trust_mode) i;
                leave(p);
        }
        if (enter(p, o, "pass_pidfd", &v)) {
                forward_only(p, action, "pass_pidfd");
                (void) get_bool(p, v, &r->pass_pidfd);
                leave(p);
        }
        if (enter(p, o, "expose_host", &v)) {
                forward_only(p, action, "expose_host");
                (void) get_bool(p, v, &r->expose_host);
                leave(p);
        }

        if (action == ACTION_FORWARD && !r->address)
                (void) set_string(p, &r->address, CONFIG_DEFAULT_ADDRESS);
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
                push_index(p, v[i].index);
                push_key(p, "name");
                report(p, LOCATE_VALUE, "duplicate route name %s (also used by routes[%zu])",
                       QUOTE(v[i].name), v[first].index);
                pop(p);
                pop(p);
        }
}

static void parse_routes(struct parser *p, struct json_object *a, struct config *c)
{
        size_t n;

        if (expect(p, a, json_type_array, "a list of routes") < 0)
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
                push_index(p, i);
                parse_route(p, json_object_array_get_idx(a, i), &c->routes[i]);
                pop(p);
        }
        check_route_names(p, c);
}

static void parse_root(struct parser *p, struct json_object *root, struct config *c)
{
        struct json_object *v;
        uint64_t u;

        if (expect(p, root, json_type_object, "an object") < 0)
                return;
        check_keys(p, root, top_keys, ARRAY_SIZE(top_keys));
        if (enter(p, root, "version", &v)) {
                if (get_uint(p, v, 0, UINT64_MAX, &u) >= 0 && u != 1)
                        report(p, LOCATE_VALUE, "unsupported version %" PRIu64 " (expected 1)", u);
                leave(p);
        }
        if (enter(p, root, "listen", &v)) {
                parse_listen(p, v, c);
                leave(p);
        }
        if (enter(p, root, "events", &v)) {
                parse_events(p, v, c);
                leave(p);
        }
        if (enter(p, root, "store", &v)) {
                parse_store(p, v, c);
                leave(p);
        }
        if (enter(p, root, "limits", &v)) {
                parse_limits(p, v, &c->limits);
                leave(p);
        }
        if (enter(p, root, "routes", &v)) {
                parse_routes(p, v, c);
                leave(p);
        }
}

/* ---- JSON syntax */

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *describe_byte(char c, char *buf, size_t size)
{
        if (c > 0x20 && c < 0x7F)
                snprintf(buf, size, "'%c'", c);
        else
                snprintf(buf, size, "byte 0x%02x", (unsigned) (unsigned char) c);
        return buf;
}

/*
 * json-c reports a truncated UTF-8 sequence at the byte that broke it; the
 * user wants the sequence's first byte, the one that is really wrong.
 */
static size_t utf8_sequence_start(const char *text, size_t offset)
{
        for (size_t back = 1; back <= 3 && back <= offset; back++) {
                unsigned char c = (unsigned char) text[offset - back];
                size_t need;

                if ((c & 0xC0) == 0x80)
                        continue;
                need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                return need > back ? offset - back : offset;
        }
        return offset;
}

static void report_syntax(struct parser *p, enum json_tokener_error err, size_t offset)
{
        _cleanup_free_ char *path = NULL;
        char what[16], c;
        size_t prev;

        if (err == json_tokener_error_parse_utf8_string)
                offset = utf8_sequence_start(p->text, offset);
        c = offset < p->len ? p->text[offset] : 0;
        prev = offset;
        if (locate_path_at(p->text, p->len, offset, &path) < 0) {
                p->error = -ENOMEM;
                return;
        }
        while (prev > 0 && is_ws(p->text[prev - 1]))
                prev--;

        switch (err) {
        case json_tokener_continue:
        case json_tokener_error_parse_eof:
                report_at(p, offset, path,
                          "unexpected end of the text (an object, array or string is not closed)");
                break;
        case json_tokener_error_depth:
                report_at(p, offset, path, "nested too deeply (at most %d levels)", CONFIG_MAX_DEPTH);
                break;
        case json_tokener_error_parse_utf8_string:
                report_at(p, offset, path, "invalid UTF-8 (%s)", describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_comment:
                report_at(p, offset, path, "comments are not allowed in JSON");
                break;
        case json_tokener_error_parse_unexpected:
        case json_tokener_error_parse_array:
        case json_tokener_error_parse_object_key_name:
                if ((c == '}' || c == ']') && prev > 0 && p->text[prev - 1] == ',') {
                        report_at(p, offset, path, "trailing comma before '%c' (JSON does not allow one)",
                                  c);
                        break;
                }
                if (c == '/') {
                        report_at(p, offset, path, "comments are not allowed in JSON");
                        break;
                }
                if (err == json_tokener_error_parse_object_key_name)
                        report_at(p, offset, path, "expected a key in double quotes, got %s",
                                  describe_byte(c, what, sizeof(what)));
                else if (err == json_tokener_error_parse_array)
                        report_at(p, offset, path, "expected ',' or ']' in an array, got %s",
                                  describe_byte(c, what, sizeof(what)));
                else
                        report_at(p, offset, path, "unexpected %s", describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_object_key_sep:
                report_at(p, offset, path, "expected ':' after a key, got %s",
                          describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_object_value_sep:
                report_at(p, offset, path, "expected ',' or '}' after a value, got %s",
                          describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_null:
        case json_tokener_error_parse_boolean:
                report_at(p, offset, path, "invalid literal (expected true, false or null)");
                break;
        case json_tokener_error_parse_number:
                report_at(p, offset, path, "invalid number (JSON allows no leading zeros, '+' or hex)");
                break;
        default:
                report_at(p, offset, path, "%s", json_tokener_error_desc(err));
                break;
        }
}

static int lint_problem(const struct locate_problem *lp, void *userdata)
{
        struct parser *p = userdata;
        struct locate_position first;

        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return 0;
        }
        switch (lp->kind) {
        case LOCATE_DUPLICATE_KEY:
                first = locate_line_column(p->text, p->len, lp->first_offset);
                report_at(p, lp->offset, lp->path, "duplicate key %s (first given at %u:%u)", QUOTE(lp->key),
                          first.line, first.column);
                break;
        case LOCATE_CONTROL_CHARACTER:
                report_at(p, lp->offset, lp->path,
                          "raw control character in a string (write it as an escape such as \\t or \\n)");
                break;
        case LOCATE_NOT_JSON_NUMBER:
                report_at(p, lp->offset, lp->path, "not a JSON number (NaN and Infinity are not JSON)");
                break;
        case LOCATE_INTEGER_RANGE:
                report_at(p, lp->offset, lp->path, "integer out of range (more than 64 bits)");
                break;
        }
        return p->error;
}

/* Parses the text into *ret; syntax problems become problems of p, and leave *ret NULL. */
static int parse_json(struct parser *p, struct json_object **ret)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        enum json_tokener_error err;
        const char *nul;
        size_t i, start, end;

        if (p->len > CONFIG_MAX_SIZE) {
                report_at(p, 0, "$", "the config is %zu bytes long; at most %zu are allowed", p->len,
                          CONFIG_MAX_SIZE);
                return 0;
        }
        if (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0) {
                report_at(p, 0, "$",
                          "the text starts with a byte order mark (save it as UTF-8 without one)");
                return 0;
        }
        /* json-c would stop at a NUL byte and take what came before it as the whole document. */
        nul = memchr(p->text, 0, p->len);
        if (nul) {
                _cleanup_free_ char *path = NULL;

                if (locate_path_at(p->text, p->len, (size_t) (nul - p->text), &path) < 0)
                        return -ENOMEM;
                report_at(p, (size_t) (nul - p->text), path, "NUL byte in the text");
                return 0;
        }
        for (i = 0; i < p->len && is_ws(p->text[i]); i++)
                ;
        if (i == p->len) {
                report_at(p, 0, "$", "the config is empty (expected a JSON object)");
                return 0;
        }
        start = i;

        tok = json_tokener_new_ex(CONFIG_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        /* Trailing text is checked below, for a message that says what is wrong with it. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
                                            JSON_TOKENER_ALLOW_TRAILING_CHARS);
        root = json_tokener_parse_ex(tok, p->text, (int) p->len);
        err = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (err == json_tokener_continue) {
                /* json-c only ends a top-level scalar ("null", "5") at a NUL: give it one. */
                root = json_tokener_parse_ex(tok, "", 1);
                err = json_tokener_get_error(tok);
                end = p->len;
        }
        if (err != json_tokener_success) {
                report_syntax(p, err, end);
                return 0;
        }
        for (i = end; i < p->len; i++)
                if (!is_ws(p->text[i])) {
                        report_at(p, i, "$", "unexpected %s after the end of the JSON document",
                                  describe_byte(p->text[i], (char[16]){ 0 }, 16));
                        return 0;
                }
        if (!root) {
                /* The whole text was "null". */
                report_at(p, start, "$", "expected an object, got null");
                return 0;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

static int problem_compare(const void *a, const void *b)
{
        const struct problem *x = a, *y = b;

        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static _printf_(2, 3) int errors_append(struct config_errors *errors, const char *fmt, ...)
{
        char **lines, *line;
        va_list ap;
        int r;

        if (!errors)
                return 0;
        va_start(ap, fmt);
        r = vasprintf(&line, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        lines = reallocarray(errors->lines, errors->n + 1, sizeof(*lines));
        if (!lines) {
                free(line);
                return -ENOMEM;
        }
        errors->lines = lines;
        errors->lines[errors->n++] = line;
        return 0;
}

/* Hands the problems over as lines in the order of their position in the text. */
static int flush_problems(struct parser *p, struct config_errors *errors)
{
        struct locate_position pos = { 1, 1 };
        int r;

        qsort(p->problems, p->n_problems, sizeof(*p->problems), problem_compare);
        for (size_t i = 0; i < p->n_problems; i++) {
                pos = locate_line_column(p->text, p->len, p->problems[i].offset);
                r = errors_append(errors, "%s:%u:%u: %s", p->source, pos.line, pos.column,
                                  p->problems[i].text);
                if (r < 0)
                        return r;
        }
        if (p->n_dropped > 0)
                return errors_append(errors, "%s:%u:%u: $: %zu more problems not shown", p->source, pos.line,
                                     pos.column, p->n_dropped);
        return 0;
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
        r = parse_json(&p, &root);
        if (r < 0)
                return r;
        if (root) {
                r = locate_lint(p.text, p.len, lint_problem, &p);
                if (r < 0 && r != -EBADMSG)
                        return r;
                parse_root(&p, root, c);
        }
        if (p.error < 0)
                return p.error;
        if (p.n_problems > 0 || p.n_dropped > 0) {
                r = flush_problems(&p, errors);
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
                r = errors_append(errors, "%s:1:1: $: the file is larger than %zu bytes", path,
                                  CONFIG_MAX_SIZE);
                return r < 0 ? r : -EINVAL;
        }
        if (r < 0)
                return r;
        return config_load_string(path, text, size, ret, errors);
}
