/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: the parsers of the runtimes' state files that coredump-proxy
 * reads at dump time (proxy/names/): a bundle's config.json (containerd,
 * CRI-O, podman), containers/storage's containers.json, docker's
 * config.v2.json. Anyone who can create a container chooses much of what is
 * in them. Every input goes through each parser, with a filter that keeps
 * everything and with one that keeps nothing; whatever comes out must be fit
 * for a document and survive being written and read back.
 */

#include <errno.h>
#include <stdint.h>

#include "config/config.h"
#include "proxy/names/internal.h"
#include "tests/fuzz-names-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void one(const char *text, size_t len, const struct names_filter *f)
{
        _cleanup_(container_names_done) struct container_names a = {}, b = {}, c = {};
        _cleanup_free_ char *sandbox = NULL;
        int r;

        r = names_parse_oci_config(text, len, f, &a, &sandbox);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        check_names(&a);
        r = names_parse_storage_index(text, len, ID, &b);
        CHECK(r == 0 || r == 1 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        check_names(&b);
        r = names_parse_docker_config(text, len, f, &c);
        CHECK(r == 0 || r == -EBADMSG || r == -EMSGSIZE || r == -ENOMEM);
        check_names(&c);
        if (!f->config)
                return;
        /* A filter that keeps nothing keeps no pair. */
        CHECK(a.labels.n == 0 && a.annotations.n == 0 && c.labels.n == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct config *none;
        const struct names_filter all = {};

        if (!none) {
                static const char text[] = "{\"names\": {\"labels\": [], \"annotations\": []}}";
                if (config_load_string("fuzz", text, sizeof(text) - 1, &none, NULL) < 0)
                        abort();
        }
        one((const char *) data, size, &all);
        one((const char *) data, size, &(const struct names_filter){ .config = none });
        return 0;
}
