/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/dump/setup.h"

static struct store_options store_options_of(const struct config *c)
{
        return (struct store_options){
                .max_use = c->store_max_use,
                .keep_free = c->store_keep_free,
                .policy = STORE_ROTATE,
                .compress_level = c->store_compress,
                .compressor = store_compress_copy,
        };
}

static int open_events(const struct config *c, const struct proxy_setup *previous, struct event_log **ret)
{
        if (previous && strcmp(c->events, event_log_path(previous->events)) == 0) {
                *ret = event_log_ref(previous->events);
                return 0;
        }
        return event_log_open(c->events, ret);
}

static int open_store(const struct config *c, const struct proxy_setup *previous, struct dump_store **ret)
{
        struct store_options options = store_options_of(c);

        if (previous && previous->store &&
            strcmp(c->store_directory, previous->config->store_directory) == 0) {
                *ret = store_ref(previous->store);
                store_set_options(*ret, &options);
                return 0;
        }
        return store_open(c->store_directory, &options, ret);
}

int setup_new(struct config *config, const struct proxy_setup *previous, struct proxy_setup **ret)
{
        struct proxy_setup *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        r = open_events(config, previous, &s->events);
        if (r < 0) {
                free(s);
                return r;
        }
        r = open_store(config, previous, &s->store);
        s->store_error = r < 0 ? r : 0;
        s->config = config;
        s->refs = 1;
        *ret = s;
        return 0;
}

struct proxy_setup *setup_ref(struct proxy_setup *s)
{
        if (s)
                __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
        return s;
}

void setup_unref(struct proxy_setup *s)
{
        if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        store_unref(s->store);
        event_log_unref(s->events);
        config_free(s->config);
        free(s);
}
