/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdlib.h>

#include "proxy/daemon/setup.h"

int setup_new(struct config *config, struct proxy_setup **ret)
{
        struct proxy_setup *s = calloc(1, sizeof(*s));
        struct store_options options;
        int r;

        if (!s)
                return -ENOMEM;
        r = event_log_open(config->events, &s->events);
        if (r < 0) {
                free(s);
                return r;
        }

        options = (struct store_options){
                .max_use = config->store_max_use,
                .keep_free = config->store_keep_free,
                .policy = STORE_ROTATE,
        };
        s->store_error = store_open(config->store_directory, &options, &s->store);
        if (s->store_error > 0)
                s->store_error = 0;
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
        store_free(s->store);
        event_log_free(s->events);
        config_free(s->config);
        free(s);
}
