/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * containers/storage, shared by CRI-O and podman: the graph root's
 * <driver>-containers/containers.json lists every container with its
 * "names" and a "metadata" string (a JSON document of its own: the image
 * and, for CRI-O, the pod and the container's name in the pod spec), and
 * each container's <driver>-containers/<id>/userdata/config.json (in the
 * graph root, or the run root) is its OCI spec, whose annotations are
 * CRI-O's and the kubelet's. podman 4 keeps no name in the spec: only
 * containers.json has it. A CRI-O container's pod labels are on its
 * sandbox, which its own spec names.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/names/internal.h"

/* The graph drivers whose containers live in "<driver>-containers". */
static const char *const drivers[] = { "overlay", "vfs", "btrfs", "zfs" };

/* The "metadata" string: CRI-O's container name and pod, podman's name, the image both. */
static int metadata_of(const char *text, size_t len, struct container_names *n)
{
        static const struct {
                const char *key;
                size_t field;
        } keys[] = {
                /* CRI-O's name in the pod spec comes before its "k8s_..." name; podman has only "name". */
                { "metadata-name", offsetof(struct container_names, name) },
                { "name", offsetof(struct container_names, name) },
                { "image-name", offsetof(struct container_names, image) },
                { "pod-name", offsetof(struct container_names, pod_name) },
        };
        _cleanup_(json_object_putp) struct json_object *o = NULL;

        if (jsonr_parse(text, len, NAMES_NESTED_JSON_MAX, 4, json_type_object, &o) < 0)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const char *s;
                size_t s_len;
                int r;

                if (jsonr_string(o, keys[i].key, NAMES_STRING_MAX, &s, &s_len) <= 0)
                        continue;
                r = names_set((char **) ((char *) n + keys[i].field), s, s_len);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int entry_of(struct json_object *e, struct container_names *n)
{
        struct json_object *names;
        const char *s;
        size_t len;
        int r;

        if (jsonr_string(e, "metadata", NAMES_NESTED_JSON_MAX, &s, &len) > 0) {
                r = metadata_of(s, len, n);
                if (r < 0)
                        return r;
        }
        /* A container's first name is the one people gave it. */
        if (jsonr_member(e, "names", json_type_array, &names) > 0 && json_object_array_length(names) > 0 &&
            jsonr_string_value(json_object_array_get_idx(names, 0), NAMES_STRING_MAX, &s, &len) >= 0) {
                r = names_set(&n->name, s, len);
                if (r < 0)
                        return r;
        }
        return 1;
}

int names_parse_storage_index(const char *text, size_t len, const char *id, struct container_names *n)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        size_t count;
        int r;

        r = jsonr_parse(text, len, NAMES_STORAGE_INDEX_MAX, NAMES_JSON_DEPTH, json_type_array, &o);
        if (r < 0)
                return r;
        count = MIN(json_object_array_length(o), (size_t) NAMES_INDEX_ENTRIES);
        for (size_t i = 0; i < count; i++) {
                struct json_object *e = json_object_array_get_idx(o, i);
                const char *s;

                if (!json_object_is_type(e, json_type_object) || jsonr_string(e, "id", 256, &s, NULL) <= 0 ||
                    strcmp(s, id) != 0)
                        continue;
                return entry_of(e, n);
        }
        return 0;
}

/* A spec from userdata/config.json in the graph root, else in the run root. 1 read, 0 none. */
static int read_spec(int graph, int run, const char *driver, const char *id, const struct names_filter *f,
                     struct container_names *n, char **ret_sandbox)
{
        const int roots[] = { graph, run };
        char path[512];

        if (snprintf(path, sizeof(path), "%s-containers/%s/userdata/config.json", driver, id) >=
            (int) sizeof(path))
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                int r;

                if (roots[i] < 0)
                        continue;
                r = jsonr_read_text(roots[i], path, NAMES_OCI_CONFIG_MAX, &text, &len);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue;
                r = names_parse_oci_config(text, len, f, n, ret_sandbox);
                if (r == -ENOMEM)
                        return r;
                if (r >= 0)
                        return 1;
        }
        return 0;
}

static int read_index(int graph, const char *driver, const char *id, struct container_names *n)
{
        _cleanup_free_ char *text = NULL;
        char path[128];
        size_t len = 0;
        int r;

        (void) snprintf(path, sizeof(path), "%s-containers/containers.json", driver);
        r = jsonr_read_text(graph, path, NAMES_STORAGE_INDEX_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        r = names_parse_storage_index(text, len, id, n);
        return r == -ENOMEM ? r : MAX(r, 0);
}

/* The pod's labels and annotations, on the sandbox CRI-O put the container in. */
static int read_sandbox(int graph, int run, const char *driver, const char *sandbox, const char *id,
                        const struct names_filter *f, struct container_names *n)
{
        _cleanup_(container_names_done) struct container_names pod = {};
        int r;

        if (!sandbox || !names_id_ok(sandbox) || strcmp(sandbox, id) == 0)
                return 0;
        r = read_spec(graph, run, driver, sandbox, f, &pod, NULL);
        if (r <= 0)
                return r;
        /* Only what the pod has in common with its containers: its labels, annotations, name. */
        pod.name = mfree_str(pod.name);
        pod.image = mfree_str(pod.image);
        return container_names_merge(n, &pod);
}

int names_from_storage(const struct names_source *s, struct container_names *n)
{
        const struct names_config *c = s->config;
        _cleanup_close_ int graph = -EBADF, run = -EBADF;
        int found = 0, r;

        if (!names_id_ok(s->id))
                return 0;
        if (c->storage_graph_root)
                graph = open(c->storage_graph_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->storage_run_root)
                run = open(c->storage_run_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (graph < 0 && run < 0)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(drivers) && !found; i++) {
                _cleanup_free_ char *sandbox = NULL;

                r = read_spec(graph, run, drivers[i], s->id, s->filter, n, &sandbox);
                if (r < 0)
                        return r;
                found |= r;
                if (graph >= 0) {
                        r = read_index(graph, drivers[i], s->id, n);
                        if (r < 0)
                                return r;
                        found |= r;
                }
                if (found) {
                        r = read_sandbox(graph, run, drivers[i], sandbox, s->id, s->filter, n);
                        if (r < 0)
                                return r;
                }
        }
        return found;
}
