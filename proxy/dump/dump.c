/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "kernel/cleanup.h"
#include "proxy/dump/dump.h"

static const char *const state_names[_DUMP_STATE_MAX] = {
        [DUMP_ACCEPTED] = "accepted", [DUMP_IDENTIFIED] = "identified", [DUMP_ROUTED] = "routed",
        [DUMP_ACKED] = "acked",       [DUMP_STREAMING] = "streaming",   [DUMP_DONE] = "done",
};

static const char *const outcome_names[_OUTCOME_MAX] = {
        [OUTCOME_NONE] = "none",         [OUTCOME_DELIVERED] = "delivered", [OUTCOME_STORED] = "stored",
        [OUTCOME_REJECTED] = "rejected", [OUTCOME_FAILED] = "failed",
};

const char *dump_state_to_string(enum dump_state s)
{
        return s < _DUMP_STATE_MAX ? state_names[s] : NULL;
}

const char *dump_outcome_to_string(enum dump_outcome o)
{
        return o < _OUTCOME_MAX ? outcome_names[o] : NULL;
}

int dump_new(int fd, int pidfd, struct dump **ret)
{
        struct dump *d = calloc(1, sizeof(*d));

        if (!d)
                return -ENOMEM;
        d->fd = fd;
        d->pidfd = pidfd;
        d->collector_fd = -EBADF;
        d->task.ns_uid = d->task.ns_gid = -1;
        *ret = d;
        return 0;
}

void dump_free(struct dump *d)
{
        if (!d)
                return;
        d->fd = safe_close(d->fd);
        d->pidfd = safe_close(d->pidfd);
        d->collector_fd = safe_close(d->collector_fd);
        setup_unref(d->setup);
        identify_done(&d->task);
        container_info_done(&d->container);
        free(d->core_path);
        free(d->collector_path);
        free(d->collector_address);
        free(d);
}

void dump_set_outcome(struct dump *d, enum dump_outcome outcome, const char *reason)
{
        if (d->outcome != OUTCOME_NONE)
                return;
        d->outcome = outcome;
        d->reason = reason;
}

void dump_make_id(char id[DUMP_ID_MAX], usec_t wall, uint32_t pid)
{
        time_t t = (time_t) (wall / USEC_PER_SEC);
        struct tm tm;
        uint32_t rnd = 0;
        char stamp[32];

        /* Uniqueness only; GRND_INSECURE never blocks early at boot. */
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK | 0x0004 /* GRND_INSECURE, 5.6 */) != sizeof(rnd) &&
            getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd = (uint32_t) (wall ^ (wall >> 32)) * 2654435761U;
        /* By hand: strftime() looks at TZ on every call, and this runs for every dump. */
        gmtime_r(&t, &tm);
        (void) snprintf(stamp, sizeof(stamp), "%04u%02u%02uT%02u%02u%02uZ", (tm.tm_year + 1900u) % 10000u,
                        (tm.tm_mon + 1u) % 100u, tm.tm_mday % 100u, tm.tm_hour % 100u, tm.tm_min % 100u,
                        tm.tm_sec % 100u);
        (void) snprintf(id, DUMP_ID_MAX, "%s-%u-%08x", stamp, pid, rnd);
}
