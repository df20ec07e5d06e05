/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The rate limit keys a container by "<runtime>/<id>", and ids are the
 * runtime's to choose (an LXC or nspawn name, a long cgroup scope name): two
 * containers whose keys share a long prefix must never share a bucket
 * (issue 10: the key was cut to a fixed length).
 */

#include <stdlib.h>
#include <string.h>

#include "proxy/dump/ratelimit.h"
#include "tests/tap.h"

#define MIN_ (60 * USEC_PER_SEC)

/* A key of len characters: a shared prefix of 'p', then tail. */
static char *long_key(size_t len, char tail)
{
        char *k = malloc(len + 1);

        if (!k)
                abort();
        memset(k, 'p', len - 1);
        memcpy(k, "lxc/", 4);
        k[len - 1] = tail;
        k[len] = 0;
        return k;
}

int main(void)
{
        struct rate_limiter *rl = NULL;
        usec_t t0 = 1000 * USEC_PER_SEC;
        static const size_t lengths[] = { 201, 300, 4096 };

        if (!ok(ratelimit_new(16, &rl) == 0, "limiter created"))
                return tap_done();

        for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
                char *a = long_key(lengths[i], 'a'), *b = long_key(lengths[i], 'b');
                usec_t now = t0 + (usec_t) i * 10 * MIN_;

                /* a uses up its budget of 2... */
                ok(ratelimit_allow(rl, a, 2, MIN_, now) && ratelimit_allow(rl, a, 2, MIN_, now + 1),
                   "%zu-character key: the first container's two dumps are allowed", lengths[i]);
                ok(!ratelimit_allow(rl, a, 2, MIN_, now + 2),
                   "%zu-character key: its third is over the limit", lengths[i]);
                /* ...and b, which differs only in its last character, still has its own. */
                ok(ratelimit_allow(rl, b, 2, MIN_, now + 3),
                   "%zu-character keys differing only after %zu characters: separate buckets", lengths[i],
                   lengths[i] - 1);
                ok(ratelimit_allow(rl, b, 2, MIN_, now + 4),
                   "%zu-character key: the second one's budget is whole", lengths[i]);
                free(a);
                free(b);
        }
        ratelimit_free(rl);
        return tap_done();
}
