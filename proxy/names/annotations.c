/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * OCI annotations into names: the keys containerd's CRI plugin, CRI-O and
 * the kubelet put on a container, from a bundle's config.json or from the
 * state an OCI runtime hands its hooks. Only the keys below name anything;
 * every other annotation is kept only when the filter asks for it.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/names/internal.h"

enum field {
        FIELD_NAME,
        FIELD_IMAGE,
        FIELD_POD_NAME,
        FIELD_POD_NAMESPACE,
        FIELD_POD_UID,
};

static const struct {
        const char *key;
        enum field field;
} known[] = {
        /* containerd's CRI plugin (pkg/cri/annotations) */
        { "io.kubernetes.cri.container-name", FIELD_NAME },
        { "io.kubernetes.cri.image-name", FIELD_IMAGE },
        { "io.kubernetes.cri.sandbox-name", FIELD_POD_NAME },
        { "io.kubernetes.cri.sandbox-namespace", FIELD_POD_NAMESPACE },
        { "io.kubernetes.cri.sandbox-uid", FIELD_POD_UID },
        /* the kubelet's own keys, which CRI-O passes on (and keeps in its labels) */
        { "io.kubernetes.container.name", FIELD_NAME },
        { "io.kubernetes.pod.name", FIELD_POD_NAME },
        { "io.kubernetes.pod.namespace", FIELD_POD_NAMESPACE },
        { "io.kubernetes.pod.uid", FIELD_POD_UID },
        /* CRI-O's (internal/annotations): the image as the pod spec names it */
        { "io.kubernetes.cri-o.ImageName", FIELD_IMAGE },
};

/* CRI-O keeps the kubelet's labels and annotations as JSON objects inside one annotation each. */
#define CRIO_LABELS      "io.kubernetes.cri-o.Labels"
#define CRIO_ANNOTATIONS "io.kubernetes.cri-o.Annotations"
/* CRI-O's way to say which pod sandbox a container belongs to. */
#define CRIO_SANDBOX_ID "io.kubernetes.cri-o.SandboxID"

static char **field_of(struct container_names *n, enum field f)
{
        switch (f) {
        case FIELD_NAME:
                return &n->name;
        case FIELD_IMAGE:
                return &n->image;
        case FIELD_POD_NAME:
                return &n->pod_name;
        case FIELD_POD_NAMESPACE:
                return &n->pod_namespace;
        case FIELD_POD_UID:
                return &n->pod_uid;
        }
        return &n->name;
}

static int known_field(struct container_names *n, const char *key, const char *value, size_t len)
{
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                if (strcmp(known[i].key, key) == 0)
                        return names_set(field_of(n, known[i].field), value, len);
        return 0;
}

static int keep_pair(struct container_names *n, const struct names_filter *f, enum names_kind kind,
                     const char *key, const char *value, size_t len)
{
        enum names_keep k = names_filter_keep(f, kind, key);

        if (k == NAMES_DROP)
                return 0;
        return names_pairs_add(kind == NAMES_LABEL ? &n->labels : &n->annotations, key, value, len,
                               k == NAMES_EXPORT);
}

/* A JSON object of strings inside a string: each member a label (or annotation), and a name when it is one.
 */
static int nested_pairs(struct container_names *n, const struct names_filter *f, enum names_kind kind,
                        const char *text, size_t len)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        size_t seen = 0;
        int r;

        if (jsonr_parse(text, len, NAMES_NESTED_JSON_MAX, 4, json_type_object, &o) < 0)
                return 0;
        json_object_object_foreach (o, key, v) {
                const char *s;
                size_t n_s;

                if (++seen > NAMES_OBJECT_MEMBERS)
                        break;
                if (jsonr_string_value(v, NAMES_VALUE_MAX, &s, &n_s) < 0)
                        continue;
                r = known_field(n, key, s, n_s);
                if (r >= 0)
                        r = keep_pair(n, f, kind, key, s, n_s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int names_from_annotation(struct container_names *n, const struct names_filter *f, const char *key,
                          const char *value, size_t value_len)
{
        int r;

        if (strcmp(key, CRIO_LABELS) == 0)
                return nested_pairs(n, f, NAMES_LABEL, value, value_len);
        if (strcmp(key, CRIO_ANNOTATIONS) == 0)
                return nested_pairs(n, f, NAMES_ANNOTATION, value, value_len);
        r = known_field(n, key, value, value_len);
        if (r < 0)
                return r;
        return keep_pair(n, f, NAMES_ANNOTATION, key, value, value_len);
}

int names_parse_oci_config(const char *text, size_t len, const struct names_filter *f,
                           struct container_names *n, char **ret_sandbox)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct json_object *a;
        size_t seen = 0;
        int r;

        r = jsonr_parse(text, len, NAMES_OCI_CONFIG_MAX, NAMES_JSON_DEPTH, json_type_object, &o);
        if (r < 0)
                return r;
        r = jsonr_member(o, "annotations", json_type_object, &a);
        if (r <= 0)
                return r == 0 ? 0 : -EBADMSG;
        json_object_object_foreach (a, key, v) {
                const char *s;
                size_t n_s;

                if (++seen > NAMES_OBJECT_MEMBERS)
                        break;
                /* One value of the wrong type spoils only itself. */
                if (jsonr_string_value(v, NAMES_NESTED_JSON_MAX, &s, &n_s) < 0)
                        continue;
                if (ret_sandbox && !*ret_sandbox && strcmp(key, CRIO_SANDBOX_ID) == 0) {
                        *ret_sandbox = strndup(s, n_s);
                        if (!*ret_sandbox)
                                return -ENOMEM;
                }
                r = names_from_annotation(n, f, key, s, n_s);
                if (r < 0)
                        return r;
        }
        return 0;
}
