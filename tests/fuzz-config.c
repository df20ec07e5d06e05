/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: the config parser on arbitrary bytes. A config file is
 * written by an administrator, but check-config and SIGHUP reloads feed it
 * whatever is in the file, and the parser (json-c plus our own scanner for
 * positions and duplicate keys) must neither crash nor leak on any of it.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "kernel/cleanup.h"

#define SOURCE "fuzz.json"

/* A broken promise of the API is a finding too: crash, so that libFuzzer keeps the input. */
#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_config(const struct config *c)
{
        CHECK(c->source && strcmp(c->source, SOURCE) == 0);
        CHECK(c->listen_path && c->listen_path[0] == '/');
        CHECK(c->events && c->store_directory);
        CHECK(c->limits.max_concurrent > 0);
        CHECK(c->n_routes == 0 || c->routes);
        for (size_t i = 0; i < c->n_routes; i++) {
                const struct route *r = &c->routes[i];

                CHECK(r->name && r->name[0]);
                CHECK((unsigned) r->action < _ACTION_MAX);
                /* a forward or systemd route always knows where to go; no other route has an address */
                CHECK((r->action == ACTION_FORWARD || r->action == ACTION_SYSTEMD) == !!r->address);
                CHECK(r->action != ACTION_SYSTEMD || r->address[0] == '/');
                CHECK(r->match.n_uids == 0 || r->match.uids);
        }
}

/* The text as one value of a key: the size and duration syntax, which JSON strings reach. */
static void fuzz_values(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        struct size_limit l;
        usec_t u;

        s = strndup((const char *) data, size);
        if (!s)
                return;
        if (config_parse_size(s, &l) == 0)
                CHECK(l.set && (!l.percent || l.value <= 100));
        if (config_parse_duration(s, &u) == 0)
                CHECK(u > 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(config_freep) struct config *quiet = NULL, *c = NULL;
        _cleanup_(config_errors_clear) struct config_errors errors = {};
        const char *text = (const char *) data;
        int r_quiet, r;

        /* Without an error list first: nothing may depend on having one. */
        r_quiet = config_load_string(SOURCE, text, size, &quiet, NULL);
        CHECK(r_quiet == 0 || r_quiet == -EINVAL || r_quiet == -ENOMEM);
        CHECK((r_quiet == 0) == !!quiet);

        r = config_load_string(SOURCE, text, size, &c, &errors);
        CHECK(r == r_quiet || r == -ENOMEM || r_quiet == -ENOMEM);
        if (r == 0) {
                CHECK(c && errors.n == 0);
                check_config(c);
        } else {
                CHECK(!c);
                /* A refused config says why, at a position in this file. */
                CHECK(r != -EINVAL || errors.n > 0);
                for (size_t i = 0; i < errors.n; i++)
                        CHECK(strncmp(errors.lines[i], SOURCE ":", strlen(SOURCE ":")) == 0);
        }

        fuzz_values(data, size);
        return 0;
}
