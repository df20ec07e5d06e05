/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the fuzz targets of the names parsers check of every result: each
 * string fit for a document, the pairs bounded, and what a document says of
 * them (names_write_members) parsed back to the same names.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/protocol/names.h"

#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

static inline bool fit_or_null(const char *s)
{
        return !s || names_text_ok(s, strlen(s), NAMES_STRING_MAX);
}

static inline bool str_same(const char *a, const char *b)
{
        return a && b ? strcmp(a, b) == 0 : a == b;
}

static inline void check_pairs(const struct names_pairs *p)
{
        CHECK(p->n <= NAMES_PAIRS_MAX);
        for (size_t i = 0; i < p->n; i++) {
                CHECK(names_text_ok(p->items[i].key, strlen(p->items[i].key), NAMES_STRING_MAX));
                CHECK(!p->items[i].value[0] ||
                      names_text_ok(p->items[i].value, strlen(p->items[i].value), NAMES_VALUE_MAX));
                for (size_t j = 0; j < i; j++)
                        CHECK(strcmp(p->items[i].key, p->items[j].key) != 0);
        }
}

static inline void check_names(const struct container_names *n)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_(container_names_done) struct container_names back = {};
        _cleanup_free_ char *doc = NULL;
        struct jsonw w;
        size_t len = 0;

        CHECK(fit_or_null(n->name) && fit_or_null(n->image) && fit_or_null(n->pod_name) &&
              fit_or_null(n->pod_namespace) && fit_or_null(n->pod_uid));
        check_pairs(&n->labels);
        check_pairs(&n->annotations);

        jsonw_init(&w);
        jsonw_object_begin(&w);
        names_write_members(&w, n, NULL, false);
        jsonw_object_end(&w);
        if (jsonw_finish(&w, &doc, &len) < 0)
                return; /* ENOMEM */
        CHECK(jsonr_parse(doc, len, SIZE_MAX, 8, json_type_object, &o) == 0);
        CHECK(names_parse_members(o, &back) == 0);
        CHECK(str_same(n->name, back.name) && str_same(n->image, back.image) &&
              str_same(n->pod_name, back.pod_name) && str_same(n->pod_namespace, back.pod_namespace) &&
              str_same(n->pod_uid, back.pod_uid));
        CHECK(n->labels.n == back.labels.n && n->annotations.n == back.annotations.n);
}
