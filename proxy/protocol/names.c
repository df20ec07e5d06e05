/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/utf8.h"
#include "proxy/protocol/names.h"

void names_pairs_done(struct names_pairs *p)
{
        for (size_t i = 0; i < p->n; i++) {
                free(p->items[i].key);
                free(p->items[i].value);
        }
        free(p->items);
        *p = (struct names_pairs){};
}

void container_names_done(struct container_names *n)
{
        if (!n)
                return;
        free(n->name);
        free(n->image);
        free(n->pod_name);
        free(n->pod_namespace);
        free(n->pod_uid);
        names_pairs_done(&n->labels);
        names_pairs_done(&n->annotations);
        *n = (struct container_names){};
}

bool container_names_empty(const struct container_names *n)
{
        return !n->name && !n->image && !n->pod_name && !n->pod_namespace && !n->pod_uid &&
               n->labels.n == 0 && n->annotations.n == 0;
}

bool names_text_ok(const char *s, size_t len, size_t max)
{
        if (!s || len == 0 || len > max)
                return false;
        /* Documents escape them anyway; people reading a name never want them. */
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return utf8_valid(s, len);
}

int names_set(char **field, const char *s, size_t len)
{
        char *copy;

        if (*field || !names_text_ok(s, len, NAMES_STRING_MAX))
                return 0;
        copy = strndup(s, len);
        if (!copy)
                return -ENOMEM;
        *field = copy;
        return 1;
}

const struct names_pair *names_pairs_find(const struct names_pairs *p, const char *key)
{
        for (size_t i = 0; i < p->n; i++)
                if (strcmp(p->items[i].key, key) == 0)
                        return &p->items[i];
        return NULL;
}

size_t names_pairs_exported(const struct names_pairs *p)
{
        size_t n = 0;

        for (size_t i = 0; i < p->n; i++)
                n += p->items[i].exported;
        return n;
}

int names_pairs_add(struct names_pairs *p, const char *key, const char *value, size_t value_len,
                    bool exported)
{
        _cleanup_free_ char *k = NULL, *v = NULL;
        struct names_pair *items;

        if (p->n >= NAMES_PAIRS_MAX || !key || !names_text_ok(key, strlen(key), NAMES_STRING_MAX))
                return 0;
        /* An empty value is a value (a label "canary": ""); only unfit bytes are refused. */
        if (!value || (value_len > 0 && !names_text_ok(value, value_len, NAMES_VALUE_MAX)) ||
            memchr(value, 0, value_len))
                return 0;
        if (names_pairs_find(p, key))
                return 0;
        k = strdup(key);
        v = strndup(value, value_len);
        if (!k || !v)
                return -ENOMEM;
        items = reallocarray(p->items, p->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        p->items = items;
        p->items[p->n++] =
                (struct names_pair){ .key = TAKE_PTR(k), .value = TAKE_PTR(v), .exported = exported };
        return 1;
}

int names_pairs_append_raw(struct names_pairs *p, const char *key, const char *value, size_t value_len,
                           size_t max_pairs)
{
        _cleanup_free_ char *k = NULL, *v = NULL;
        struct names_pair *items;

        if (p->n >= max_pairs || !key || !names_text_ok(key, strlen(key), NAMES_STRING_MAX) || !value ||
            memchr(value, 0, value_len) || !utf8_valid(value, value_len) || names_pairs_find(p, key))
                return 0;
        k = strdup(key);
        v = strndup(value, value_len);
        if (!k || !v)
                return -ENOMEM;
        items = reallocarray(p->items, p->n + 1, sizeof(*items));
        if (!items)
                return -ENOMEM;
        p->items = items;
        p->items[p->n++] = (struct names_pair){ .key = TAKE_PTR(k), .value = TAKE_PTR(v) };
        return 1;
}

static int set_copy(char **dst, const char *src)
{
        return src ? names_set(dst, src, strlen(src)) : 0;
}

static int merge_pairs(struct names_pairs *dst, const struct names_pairs *src)
{
        for (size_t i = 0; i < src->n; i++) {
                const struct names_pair *q = &src->items[i];
                int r = names_pairs_add(dst, q->key, q->value, strlen(q->value), q->exported);
                if (r < 0)
                        return r;
        }
        return 0;
}

int container_names_merge(struct container_names *dst, const struct container_names *src)
{
        int r;

        if ((r = set_copy(&dst->name, src->name)) < 0 || (r = set_copy(&dst->image, src->image)) < 0 ||
            (r = set_copy(&dst->pod_name, src->pod_name)) < 0 ||
            (r = set_copy(&dst->pod_namespace, src->pod_namespace)) < 0 ||
            (r = set_copy(&dst->pod_uid, src->pod_uid)) < 0)
                return r;
        r = merge_pairs(&dst->labels, &src->labels);
        if (r < 0)
                return r;
        return merge_pairs(&dst->annotations, &src->annotations);
}

void names_pairs_write(struct jsonw *w, const char *key, const struct names_pairs *p, bool exported_only)
{
        if (!p || (exported_only ? names_pairs_exported(p) : p->n) == 0)
                return;
        jsonw_key(w, key);
        jsonw_object_begin(w);
        for (size_t i = 0; i < p->n; i++)
                if (!exported_only || p->items[i].exported)
                        jsonw_kv_string(w, p->items[i].key, p->items[i].value);
        jsonw_object_end(w);
}

void names_write_members(struct jsonw *w, const struct container_names *n, const char *pod_uid,
                         bool exported_only)
{
        pod_uid = pod_uid ?: n->pod_uid;
        if (n->name)
                jsonw_kv_string(w, "name", n->name);
        if (n->image)
                jsonw_kv_string(w, "image", n->image);
        if (n->pod_name || n->pod_namespace || pod_uid) {
                jsonw_key(w, "pod");
                jsonw_object_begin(w);
                if (n->pod_name)
                        jsonw_kv_string(w, "name", n->pod_name);
                if (n->pod_namespace)
                        jsonw_kv_string(w, "namespace", n->pod_namespace);
                if (pod_uid)
                        jsonw_kv_string(w, "uid", pod_uid);
                jsonw_object_end(w);
        }
        names_pairs_write(w, "labels", &n->labels, exported_only);
        names_pairs_write(w, "annotations", &n->annotations, exported_only);
}
