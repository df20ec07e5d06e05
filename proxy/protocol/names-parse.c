/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A container's names read back from JSON (message 1, registrations, OCI
 * annotations). A file of its own, apart from names.c: the writers there
 * are linked into the pipe helper, which links no json-c.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/protocol/names.h"

/* A string member that must be fit when it is there: 1 set, 0 absent, -EBADMSG, -ENOMEM. */
static int parse_text(struct json_object *o, const char *key, char **field)
{
        const char *s;
        size_t len;
        int r;

        r = jsonr_string(o, key, NAMES_STRING_MAX, &s, &len);
        if (r <= 0)
                return r;
        if (!names_text_ok(s, len, NAMES_STRING_MAX))
                return -EBADMSG;
        free(*field);
        *field = NULL;
        return names_set(field, s, len);
}

static int parse_pairs(struct json_object *o, const char *key, struct names_pairs *ret)
{
        struct json_object *m;
        int r;

        r = jsonr_member(o, key, json_type_object, &m);
        if (r <= 0)
                return r;
        if ((size_t) json_object_object_length(m) > NAMES_PAIRS_MAX)
                return -EBADMSG;
        json_object_object_foreach (m, k, v) {
                const char *s;
                size_t len;

                if (jsonr_string_value(v, NAMES_VALUE_MAX, &s, &len) < 0)
                        return -EBADMSG;
                r = names_pairs_add(ret, k, s, len, true);
                if (r < 0)
                        return r;
                /* What a sender must never send is refused, not silently dropped. */
                if (r == 0)
                        return -EBADMSG;
        }
        return 0;
}

int names_parse_members(struct json_object *o, struct container_names *ret)
{
        struct json_object *pod;
        int r;

        if ((r = parse_text(o, "name", &ret->name)) < 0 || (r = parse_text(o, "image", &ret->image)) < 0)
                return r;
        r = jsonr_member(o, "pod", json_type_object, &pod);
        if (r < 0)
                return r;
        if (r > 0 && ((r = parse_text(pod, "name", &ret->pod_name)) < 0 ||
                      (r = parse_text(pod, "namespace", &ret->pod_namespace)) < 0 ||
                      (r = parse_text(pod, "uid", &ret->pod_uid)) < 0))
                return r;
        r = parse_pairs(o, "labels", &ret->labels);
        if (r < 0)
                return r;
        return parse_pairs(o, "annotations", &ret->annotations);
}
