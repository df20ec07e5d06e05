/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include "proxy/dump/ratelimit.h"
#include "tests/tap.h"

#define MIN_ (60 * USEC_PER_SEC)

int main(void)
{
        struct rate_limiter *rl = NULL;
        usec_t t0 = 1000 * USEC_PER_SEC;
        int allowed = 0;

        if (!ok(ratelimit_new(2, &rl) == 0, "limiter created"))
                return tap_done();

        /* The case: five dumps of one container in a burst, three per minute. */
        for (int i = 0; i < 5; i++)
                allowed += ratelimit_allow(rl, "docker/a", 3, MIN_, t0 + (usec_t) i * USEC_PER_SEC);
        is_int(allowed, 3, "burst of 5 with 3/min: 3 allowed");
        ok(ratelimit_allow(rl, "docker/b", 3, MIN_, t0 + 5 * USEC_PER_SEC),
           "another container has its own budget");
        ok(!ratelimit_allow(rl, "docker/a", 3, MIN_, t0 + 30 * USEC_PER_SEC),
           "still limited inside the window");

        /* One interval later the previous count still weighs on the window... */
        ok(!ratelimit_allow(rl, "docker/a", 3, MIN_, t0 + MIN_ + USEC_PER_SEC),
           "just after the interval, the sliding window still holds the burst");
        /* ...and fades out over the next interval. */
        allowed = 0;
        for (int i = 0; i < 5; i++)
                allowed += ratelimit_allow(rl, "docker/a", 3, MIN_,
                                           t0 + 2 * MIN_ + 5 * USEC_PER_SEC + (usec_t) i);
        is_int(allowed, 3, "two intervals later the budget is whole again");

        /* A full table reuses the entry idle longest. */
        ok(ratelimit_allow(rl, "lxc/c", 3, MIN_, t0 + 3 * MIN_),
           "a third key fits by reusing an idle entry");

        ok(ratelimit_allow(rl, "x", 0, MIN_, t0), "limit 0 means no limit");
        ratelimit_free(rl);
        return tap_done();
}
