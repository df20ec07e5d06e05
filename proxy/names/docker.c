/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * docker: each container's config.v2.json in <data-root>/containers/<id>/
 * holds its name ("Name": "/web-1"), the image as it was asked for
 * ("Config": {"Image": "nginx:1.25"}) and its labels ("Config": {"Labels":
 * {...}}). docker writes it whole (temporary file and rename), but anyone
 * with access to the daemon chooses what is in it.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/names/internal.h"

static int labels_of(struct json_object *config, const struct names_filter *f, struct container_names *n)
{
        struct json_object *labels;
        size_t seen = 0;
        int r;

        if (jsonr_member(config, "Labels", json_type_object, &labels) <= 0)
                return 0;
        json_object_object_foreach (labels, key, v) {
                enum names_keep k;
                const char *s;
                size_t len;

                if (++seen > NAMES_OBJECT_MEMBERS)
                        break;
                k = names_filter_keep(f, NAMES_LABEL, key);
                if (k == NAMES_DROP || jsonr_string_value(v, NAMES_VALUE_MAX, &s, &len) < 0)
                        continue;
                r = names_pairs_add(&n->labels, key, s, len, k == NAMES_EXPORT);
                if (r < 0)
                        return r;
        }
        return 0;
}

int names_parse_docker_config(const char *text, size_t len, const struct names_filter *f,
                              struct container_names *n)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        struct json_object *config;
        const char *s;
        size_t s_len;
        int r;

        r = jsonr_parse(text, len, NAMES_DOCKER_CONFIG_MAX, NAMES_JSON_DEPTH, json_type_object, &o);
        if (r < 0)
                return r;
        if (jsonr_string(o, "Name", NAMES_STRING_MAX + 1, &s, &s_len) > 0) {
                /* docker keeps names as paths of its old link graph: "/web-1". */
                if (s_len > 1 && s[0] == '/') {
                        s++;
                        s_len--;
                }
                r = names_set(&n->name, s, s_len);
                if (r < 0)
                        return r;
        }
        if (jsonr_member(o, "Config", json_type_object, &config) <= 0)
                return 0;
        if (jsonr_string(config, "Image", NAMES_STRING_MAX, &s, &s_len) > 0) {
                r = names_set(&n->image, s, s_len);
                if (r < 0)
                        return r;
        }
        return labels_of(config, f, n);
}

int names_from_docker(const struct names_source *s, struct container_names *n)
{
        _cleanup_close_ int root = -EBADF;
        _cleanup_free_ char *text = NULL;
        char path[512];
        size_t len = 0;
        int r;

        if (!names_id_ok(s->id) || !s->config->docker_data_root)
                return 0;
        root = open(s->config->docker_data_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return 0;
        if (snprintf(path, sizeof(path), "containers/%s/config.v2.json", s->id) >= (int) sizeof(path))
                return 0;
        r = jsonr_read_text(root, path, NAMES_DOCKER_CONFIG_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        r = names_parse_docker_config(text, len, s->filter, n);
        if (r == -ENOMEM)
                return r;
        return r >= 0;
}
