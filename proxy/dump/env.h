/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every dump's routine shares with the others: the daemon's long-lived parts. */

#include <stdint.h>

#include "proxy/dump/concurrency.h"
#include "proxy/dump/identify.h"
#include "proxy/dump/ratelimit.h"
#include "proxy/dump/stats.h"

struct watch;
struct names;

struct dump_env {
        struct identify_context identify;
        /*
         * Inode of the host's (the initial) network namespace, as start-up found
         * it, whatever namespace the daemon runs in; 0 unknown (proxy/act/hostnet.c).
         */
        uint64_t host_netns;
        struct rate_limiter *limiter;    /* limits.per_container, kept across reloads */
        struct concurrency *concurrency; /* dumps in flight per container */
        struct proxy_stats *stats;
        struct watch *watch; /* forwarded dumps waiting for their collector's result */
        struct names *names; /* container names: registrations and a cache; NULL: none looked up */
        int upload_fd;       /* the host store's upload runner (store.exec); -EBADF none */
        int summary_fd;      /* the host store's summary runner (store.summary); -EBADF none */
        /* A container's dump claims one of the workers containers may hold; false: it must park. */
        bool (*claim_worker)(void *userdata);
        void *userdata;
};
