/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/protocol/control-msg.h"
#include "proxy/protocol/oci-state.h"

void oci_state_done(struct oci_state *s)
{
        if (!s)
                return;
        free(s->id);
        free(s->status);
        free(s->bundle);
        names_pairs_done(&s->annotations);
        *s = (struct oci_state){};
}

static bool names_something(const char *key)
{
        return strncmp(key, "io.kubernetes.", strlen("io.kubernetes.")) == 0;
}

/* Two passes: the keys that name a container or pod first, so that a bound drops only the others. */
static int parse_annotations(struct json_object *a, struct names_pairs *ret)
{
        for (int pass = 0; pass < 2; pass++) {
                json_object_object_foreach (a, key, v) {
                        const char *s;
                        size_t len;
                        int r;

                        if (names_something(key) != (pass == 0))
                                continue;
                        /* A value of the wrong type or size spoils only itself. */
                        if (jsonr_string_value(v, CONTROL_REQUEST_MAX, &s, &len) < 0)
                                continue;
                        r = names_pairs_append_raw(ret, key, s, len, CONTROL_ANNOTATIONS_MAX);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int dup_string(struct json_object *o, const char *key, size_t max, bool required, char **ret)
{
        const char *s;
        int r;

        r = jsonr_string(o, key, max, &s, NULL);
        if (r < 0 || (r == 0 && required) || (r > 0 && required && !s[0]))
                return -EBADMSG;
        if (r == 0)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int oci_state_parse(const char *text, size_t len, struct oci_state *ret)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(oci_state_done) struct oci_state s = {};
        struct json_object *a;
        int r;

        r = jsonr_parse(text, len, OCI_STATE_MAX, 16, json_type_object, &o);
        if (r < 0)
                return r;
        if ((r = dup_string(o, "id", CONTROL_ID_MAX, true, &s.id)) < 0 ||
            (r = dup_string(o, "status", 64, false, &s.status)) < 0 ||
            (r = dup_string(o, "bundle", NAMES_VALUE_MAX, false, &s.bundle)) < 0)
                return r;
        if (jsonr_int(o, "pid", 0, INT32_MAX, &s.pid) < 0)
                return -EBADMSG;
        r = jsonr_member(o, "annotations", json_type_object, &a);
        if (r < 0)
                return r;
        if (r > 0) {
                r = parse_annotations(a, &s.annotations);
                if (r < 0)
                        return r;
        }
        *ret = s;
        s = (struct oci_state){};
        return 0;
}
