/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Names in the config: the "names" section and the match keys on names.
 * What they mean is in docs/config.md; proxy/names/ uses them.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/names.h"
#include "kernel/cleanup.h"

static const char *const names_keys[] = { "labels", "annotations", "containerd", "storage", "docker" };
static const char *const containerd_keys[] = { "state", "namespaces" };
static const char *const storage_keys[] = { "graph_root", "run_root" };
static const char *const docker_keys[] = { "data_root" };

/*
 * A small default: names that say which application crashed. Anything else a
 * runtime keeps (annotations above all) may hold secrets and stays on the node
 * unless the host config names it.
 */
static const char *const default_labels[] = {
        "app",
        "app.kubernetes.io/name",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/version",
        "com.docker.compose.project",
        "com.docker.compose.service",
};
/* Kubernetes pods (containerd's CRI), docker's own containerd namespace, and ctr's default. */
static const char *const default_namespaces[] = { "k8s.io", "moby", "default" };

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int strv_copy(const char *const *src, size_t n, char ***ret)
{
        char **v = calloc(n ? n : 1, sizeof(*v));

        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                v[i] = strdup(src[i]);
                if (!v[i]) {
                        strv_free(v, i);
                        return -ENOMEM;
                }
        }
        *ret = v;
        return 0;
}

int names_config_init(struct names_config *n)
{
        *n = (struct names_config){
                .n_labels = ARRAY_SIZE(default_labels),
                .n_containerd_namespaces = ARRAY_SIZE(default_namespaces),
        };
        if (strv_copy(default_labels, ARRAY_SIZE(default_labels), &n->labels) < 0 ||
            strv_copy(NULL, 0, &n->annotations) < 0 ||
            strv_copy(default_namespaces, ARRAY_SIZE(default_namespaces), &n->containerd_namespaces) < 0)
                return -ENOMEM;
        n->containerd_state = strdup(CONFIG_DEFAULT_CONTAINERD_STATE);
        n->storage_graph_root = strdup(CONFIG_DEFAULT_STORAGE_GRAPH);
        n->storage_run_root = strdup(CONFIG_DEFAULT_STORAGE_RUN);
        n->docker_data_root = strdup(CONFIG_DEFAULT_DOCKER_ROOT);
        if (!n->containerd_state || !n->storage_graph_root || !n->storage_run_root || !n->docker_data_root)
                return -ENOMEM;
        return 0;
}

void names_config_done(struct names_config *n)
{
        strv_free(n->labels, n->n_labels);
        strv_free(n->annotations, n->n_annotations);
        strv_free(n->containerd_namespaces, n->n_containerd_namespaces);
        free(n->containerd_state);
        free(n->storage_graph_root);
        free(n->storage_run_root);
        free(n->docker_data_root);
        *n = (struct names_config){};
}

static void pairs_free(struct match_pair *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].key);
                free(v[i].glob);
        }
        free(v);
}

void match_names_done(struct route_match *m)
{
        free(m->pod_namespace);
        free(m->pod_name);
        free(m->container_name);
        free(m->image);
        pairs_free(m->labels, m->n_labels);
        pairs_free(m->annotations, m->n_annotations);
}

/* What a runtime could store as a key and a document could carry: no control characters or spaces. */
static bool key_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > CONFIG_NAMES_KEY_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

static void report_bad_key(struct parser *p, enum locate_target target, const char *key)
{
        parser_report(p, target,
                      "%s is not a label or annotation key (1 to %d bytes, no spaces or control characters)",
                      QUOTE(key), CONFIG_NAMES_KEY_MAX);
}

/* A list of keys: every one valid, none twice. */
static void parse_keys(struct parser *p, struct json_object *a, char ***ret, size_t *ret_n)
{
        char **v;
        size_t n;
        const char *s;

        if (parser_expect(p, a, json_type_array, "a list of keys") < 0)
                return;
        n = json_object_array_length(a);
        if (n > CONFIG_NAMES_KEYS_MAX) {
                parser_report(p, LOCATE_VALUE, "lists %zu keys; at most %d are allowed", n,
                              CONFIG_NAMES_KEYS_MAX);
                return;
        }
        v = calloc(n ? n : 1, sizeof(*v));
        if (!v) {
                p->error = -ENOMEM;
                return;
        }
        for (size_t k = 0; k < n; k++) {
                parser_push_index(p, k);
                if (parser_get_nonempty_string(p, json_object_array_get_idx(a, k), &s) >= 0) {
                        if (!key_ok(s))
                                report_bad_key(p, LOCATE_VALUE, s);
                        for (size_t j = 0; j < k; j++)
                                if (v[j] && strcmp(v[j], s) == 0)
                                        parser_report(p, LOCATE_VALUE, "%s is listed twice", QUOTE(s));
                        (void) parser_set_string(p, &v[k], s);
                }
                parser_pop(p);
        }
        strv_free(*ret, *ret_n);
        *ret = v;
        *ret_n = n;
}

/* An absolute path of a runtime's state: the daemon reads below it, never writes. */
static void parse_root(struct parser *p, struct json_object *v, char **field)
{
        const char *s;

        if (parser_get_nonempty_string(p, v, &s) < 0)
                return;
        if (s[0] != '/') {
                parser_report(p, LOCATE_VALUE, "expected an absolute path, got %s", QUOTE(s));
                return;
        }
        if (strlen(s) > 1024) {
                parser_report(p, LOCATE_VALUE, "the path is longer than 1024 bytes");
                return;
        }
        (void) parser_set_string(p, field, s);
}

/* containerd's rule for namespace names (identifiers.Validate): letters and digits joined by '.', '_', '-'.
 */
static bool namespace_ok(const char *s)
{
        size_t n = strlen(s);
        bool after_sep = true;

        if (n == 0 || n > 76)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

                if (alnum) {
                        after_sep = false;
                        continue;
                }
                if ((c != '.' && c != '_' && c != '-') || after_sep)
                        return false;
                after_sep = true;
        }
        return !after_sep;
}

static void parse_namespaces(struct parser *p, struct json_object *a, struct names_config *n)
{
        parse_keys(p, a, &n->containerd_namespaces, &n->n_containerd_namespaces);
        for (size_t i = 0; i < n->n_containerd_namespaces; i++) {
                const char *s = n->containerd_namespaces[i];
                if (!s || namespace_ok(s))
                        continue;
                parser_push_index(p, i);
                parser_report(p, LOCATE_VALUE, "%s is not a containerd namespace name", QUOTE(s));
                parser_pop(p);
        }
}

static void parse_containerd(struct parser *p, struct json_object *o, struct names_config *n)
{
        struct json_object *v;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, containerd_keys, ARRAY_SIZE(containerd_keys));
        if (parser_enter(p, o, "state", &v)) {
                parse_root(p, v, &n->containerd_state);
                parser_leave(p);
        }
        if (parser_enter(p, o, "namespaces", &v)) {
                parse_namespaces(p, v, n);
                parser_leave(p);
        }
}

static void parse_storage(struct parser *p, struct json_object *o, struct names_config *n)
{
        struct json_object *v;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, storage_keys, ARRAY_SIZE(storage_keys));
        if (parser_enter(p, o, "graph_root", &v)) {
                parse_root(p, v, &n->storage_graph_root);
                parser_leave(p);
        }
        if (parser_enter(p, o, "run_root", &v)) {
                parse_root(p, v, &n->storage_run_root);
                parser_leave(p);
        }
}

static void parse_docker(struct parser *p, struct json_object *o, struct names_config *n)
{
        struct json_object *v;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, docker_keys, ARRAY_SIZE(docker_keys));
        if (parser_enter(p, o, "data_root", &v)) {
                parse_root(p, v, &n->docker_data_root);
                parser_leave(p);
        }
}

void config_parse_names(struct parser *p, struct json_object *o, struct names_config *n)
{
        struct json_object *v;

        if (parser_expect(p, o, json_type_object, "an object") < 0)
                return;
        parser_check_keys(p, o, names_keys, ARRAY_SIZE(names_keys));
        if (parser_enter(p, o, "labels", &v)) {
                parse_keys(p, v, &n->labels, &n->n_labels);
                parser_leave(p);
        }
        if (parser_enter(p, o, "annotations", &v)) {
                parse_keys(p, v, &n->annotations, &n->n_annotations);
                parser_leave(p);
        }
        if (parser_enter(p, o, "containerd", &v)) {
                parse_containerd(p, v, n);
                parser_leave(p);
        }
        if (parser_enter(p, o, "storage", &v)) {
                parse_storage(p, v, n);
                parser_leave(p);
        }
        if (parser_enter(p, o, "docker", &v)) {
                parse_docker(p, v, n);
                parser_leave(p);
        }
}

/* "labels": {"key": "glob", ...}: every key valid, every glob non-empty. */
static void parse_pairs(struct parser *p, struct json_object *o, struct match_pair **ret, size_t *ret_n)
{
        struct match_pair *v;
        size_t n, k = 0;

        if (parser_expect(p, o, json_type_object, "an object of keys and globs") < 0)
                return;
        n = (size_t) json_object_object_length(o);
        if (n == 0) {
                parser_report(p, LOCATE_VALUE, "must not be empty (leave the key out to match anything)");
                return;
        }
        if (n > CONFIG_NAMES_KEYS_MAX) {
                parser_report(p, LOCATE_VALUE, "has %zu keys; at most %d are allowed", n,
                              CONFIG_NAMES_KEYS_MAX);
                return;
        }
        v = calloc(n, sizeof(*v));
        if (!v) {
                p->error = -ENOMEM;
                return;
        }
        json_object_object_foreach (o, key, val) {
                const char *s;

                parser_push_key(p, key);
                if (!key_ok(key))
                        report_bad_key(p, LOCATE_KEY, key);
                if (parser_get_nonempty_string(p, val, &s) >= 0 && k < n) {
                        (void) parser_set_string(p, &v[k].key, key);
                        (void) parser_set_string(p, &v[k].glob, s);
                }
                parser_pop(p);
                k++;
        }
        pairs_free(*ret, *ret_n);
        *ret = v;
        *ret_n = n;
}

void config_parse_match_names(struct parser *p, struct json_object *o, struct route_match *m)
{
        const struct {
                const char *key;
                char **field;
        } globs[] = {
                { "pod_namespace", &m->pod_namespace },
                { "pod_name", &m->pod_name },
                { "container_name", &m->container_name },
                { "image", &m->image },
        };
        struct json_object *v;
        const char *s;

        /* An empty glob would match nothing a runtime names: always a mistake. */
        for (size_t i = 0; i < ARRAY_SIZE(globs); i++) {
                if (!parser_enter(p, o, globs[i].key, &v))
                        continue;
                if (parser_get_nonempty_string(p, v, &s) >= 0)
                        (void) parser_set_string(p, globs[i].field, s);
                parser_leave(p);
        }
        if (parser_enter(p, o, "labels", &v)) {
                parse_pairs(p, v, &m->labels, &m->n_labels);
                parser_leave(p);
        }
        if (parser_enter(p, o, "annotations", &v)) {
                parse_pairs(p, v, &m->annotations, &m->n_annotations);
                parser_leave(p);
        }
}
