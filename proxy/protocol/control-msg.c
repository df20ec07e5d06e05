/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/protocol/control-msg.h"

static const char *const verb_names[_CONTROL_VERB_MAX] = {
        [CONTROL_STATUS] = "status",
        [CONTROL_REGISTER] = "register",
        [CONTROL_UNREGISTER] = "unregister",
};
DEFINE_STRING_TABLE_LOOKUP(control_verb, enum control_verb, verb_names)

void control_request_done(struct control_request *q)
{
        if (!q)
                return;
        free(q->id);
        free(q->bundle);
        names_pairs_done(&q->annotations);
        *q = (struct control_request){};
}

void control_reply_done(struct control_reply *r)
{
        if (!r)
                return;
        free(r->error);
        free(r->runtime);
        free(r->id);
        *r = (struct control_reply){};
}

static void jsonw_donep(struct jsonw *w)
{
        jsonw_done(w);
}

/* The request with the pairs for which keep[i] is set. */
static int write_request(const struct control_request *q, const bool *keep, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "request", control_verb_to_string(q->verb));
        if (q->id)
                jsonw_kv_string(&w, "id", q->id);
        if (q->pid > 0)
                jsonw_kv_int(&w, "pid", q->pid);
        if (q->bundle)
                jsonw_kv_string(&w, "bundle", q->bundle);
        if (q->annotations.n > 0) {
                size_t written = 0;

                jsonw_key(&w, "annotations");
                jsonw_object_begin(&w);
                for (size_t i = 0; i < q->annotations.n && written < CONTROL_ANNOTATIONS_MAX; i++)
                        if (keep[i]) {
                                jsonw_kv_string(&w, q->annotations.items[i].key,
                                                q->annotations.items[i].value);
                                written++;
                        }
                jsonw_object_end(&w);
        }
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int control_request_format(const struct control_request *q, char **ret, size_t *ret_len)
{
        _cleanup_free_ bool *keep = NULL;
        _cleanup_free_ char *doc = NULL;
        size_t len = 0;
        int r;

        if ((size_t) q->verb >= _CONTROL_VERB_MAX || (q->id && strlen(q->id) > CONTROL_ID_MAX) ||
            (q->bundle && strlen(q->bundle) > NAMES_VALUE_MAX))
                return -EINVAL;
        keep = malloc(q->annotations.n + 1);
        if (!keep)
                return -ENOMEM;
        memset(keep, 1, q->annotations.n + 1);
        for (;;) {
                size_t largest = SIZE_MAX, largest_len = 0;

                doc = mfree_str(doc);
                r = write_request(q, keep, &doc, &len);
                if (r < 0)
                        return r;
                if (len <= CONTROL_REQUEST_MAX)
                        break;
                for (size_t i = 0; i < q->annotations.n; i++) {
                        size_t l =
                                strlen(q->annotations.items[i].key) + strlen(q->annotations.items[i].value);
                        if (keep[i] && l >= largest_len) {
                                largest = i;
                                largest_len = l;
                        }
                }
                if (largest == SIZE_MAX)
                        return -EMSGSIZE;
                keep[largest] = false;
        }
        *ret = TAKE_PTR(doc);
        if (ret_len)
                *ret_len = len;
        return 0;
}

static int parse_annotations(struct json_object *o, struct names_pairs *ret)
{
        struct json_object *a;
        int r;

        r = jsonr_member(o, "annotations", json_type_object, &a);
        if (r <= 0)
                return r;
        if ((size_t) json_object_object_length(a) > CONTROL_ANNOTATIONS_MAX)
                return -EBADMSG;
        json_object_object_foreach (a, key, v) {
                const char *s;
                size_t len;

                if (jsonr_string_value(v, CONTROL_REQUEST_MAX, &s, &len) < 0)
                        return -EBADMSG;
                /* Unfit keys are the runtime's business: left out, not refused. */
                r = names_pairs_append_raw(ret, key, s, len, CONTROL_ANNOTATIONS_MAX);
                if (r < 0)
                        return r;
        }
        return 0;
}

int control_request_parse(const char *buf, size_t len, struct control_request *ret)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(control_request_done) struct control_request q = {};
        const char *s;
        int r, v;

        if (len == 0) {
                *ret = (struct control_request){ .verb = CONTROL_STATUS };
                return 0;
        }
        r = jsonr_parse(buf, len, CONTROL_REQUEST_MAX, 8, json_type_object, &o);
        if (r < 0)
                return r;
        if (jsonr_string(o, "request", 32, &s, NULL) <= 0 || (v = control_verb_from_string(s)) < 0)
                return -EBADMSG;
        q.verb = (enum control_verb) v;
        if (q.verb == CONTROL_STATUS)
                goto done;
        r = jsonr_string(o, "id", CONTROL_ID_MAX, &s, NULL);
        if (r <= 0 || !s[0])
                return -EBADMSG;
        q.id = strdup(s);
        if (!q.id)
                return -ENOMEM;
        if (q.verb == CONTROL_UNREGISTER)
                goto done;
        if (jsonr_int(o, "pid", 0, INT32_MAX, &q.pid) < 0)
                return -EBADMSG;
        r = jsonr_string(o, "bundle", NAMES_VALUE_MAX, &s, NULL);
        if (r < 0)
                return r;
        if (r > 0 && !(q.bundle = strdup(s)))
                return -ENOMEM;
        r = parse_annotations(o, &q.annotations);
        if (r < 0)
                return r;
done:
        *ret = q;
        q = (struct control_request){};
        return 0;
}

int control_reply_format(const struct control_reply *r, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_bool(&w, "ok", r->ok);
        if (r->error)
                jsonw_kv_string(&w, "error", r->error);
        if (r->runtime)
                jsonw_kv_string(&w, "runtime", r->runtime);
        if (r->id)
                jsonw_kv_string(&w, "id", r->id);
        if (r->removed > 0)
                jsonw_kv_uint(&w, "removed", r->removed);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int control_reply_parse(const char *buf, size_t len, struct control_reply *ret)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(control_reply_done) struct control_reply rep = {};
        struct json_object *v;
        const char *s;
        int64_t n = 0;
        int r;

        /* A reply ends with a newline, like the status document. */
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                len--;
        r = jsonr_parse(buf, len, CONTROL_REQUEST_MAX, 4, json_type_object, &o);
        if (r < 0)
                return r;
        if (jsonr_member(o, "ok", json_type_boolean, &v) <= 0)
                return -EBADMSG;
        rep.ok = json_object_get_boolean(v);
        if (jsonr_string(o, "error", NAMES_VALUE_MAX, &s, NULL) > 0 && !(rep.error = strdup(s)))
                return -ENOMEM;
        if (jsonr_string(o, "runtime", 32, &s, NULL) > 0 && !(rep.runtime = strdup(s)))
                return -ENOMEM;
        if (jsonr_string(o, "id", CONTROL_ID_MAX, &s, NULL) > 0 && !(rep.id = strdup(s)))
                return -ENOMEM;
        if (jsonr_int(o, "removed", 0, INT64_MAX, &n) < 0)
                return -EBADMSG;
        rep.removed = (uint64_t) n;
        *ret = rep;
        rep = (struct control_reply){};
        return 0;
}
