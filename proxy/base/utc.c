/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdio.h>
#include <time.h>

#include "proxy/base/utc.h"

/* By hand: strftime() looks at TZ on every call, and this runs for every dump. */
static void split(usec_t wall, struct tm *tm)
{
        time_t t = (time_t) (wall / USEC_PER_SEC);

        gmtime_r(&t, tm);
}

void utc_format_rfc3339(usec_t wall, char buf[static UTC_STRING_MAX])
{
        struct tm tm;

        split(wall, &tm);
        (void) snprintf(buf, UTC_STRING_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
                        (tm.tm_year + 1900u) % 10000u, (tm.tm_mon + 1u) % 100u, tm.tm_mday % 100u,
                        tm.tm_hour % 100u, tm.tm_min % 100u, tm.tm_sec % 100u,
                        (unsigned) ((wall % USEC_PER_SEC) / 1000) % 1000u);
}

void utc_format_compact(usec_t wall, char buf[static UTC_STRING_MAX])
{
        struct tm tm;

        split(wall, &tm);
        (void) snprintf(buf, UTC_STRING_MAX, "%04u%02u%02uT%02u%02u%02uZ", (tm.tm_year + 1900u) % 10000u,
                        (tm.tm_mon + 1u) % 100u, tm.tm_mday % 100u, tm.tm_hour % 100u, tm.tm_min % 100u,
                        tm.tm_sec % 100u);
}
