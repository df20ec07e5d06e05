/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The vocabulary of outcomes and reasons is a public interface: every
 * value has a name, names round-trip, and docs/events.md lists each one
 * (and no other), so users learn of a new reason when it appears.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/dump/outcome.h"
#include "tests/tap.h"

/* Whether the document has a table row starting with `name`. */
static bool documented(const char *doc, const char *name)
{
        char row[128];

        (void) snprintf(row, sizeof(row), "\n| `%s` |", name);
        return strstr(doc, row) != NULL;
}

/* Every `word` in the first column of the tables under a heading: each must be a known name. */
static unsigned count_unknown(const char *doc, const char *heading, int (*from_string)(const char *))
{
        const char *p = strstr(doc, heading), *end;
        unsigned unknown = 0;

        if (!p)
                return 1;
        end = strstr(p + strlen(heading), "\n## ");
        for (p = strstr(p, "\n| `"); p && (!end || p < end); p = strstr(p + 1, "\n| `")) {
                char name[64];
                const char *q = p + 4, *e = strchr(q, '`');

                if (!e || (size_t) (e - q) >= sizeof(name))
                        continue;
                memcpy(name, q, (size_t) (e - q));
                name[e - q] = 0;
                if (from_string(name) < 0) {
                        tap_diag("documented but unknown: %s", name);
                        unknown++;
                }
        }
        return unknown;
}

int main(void)
{
        _cleanup_free_ char *doc = NULL, *path = NULL;
        const char *top = getenv("top_srcdir");

        for (int o = 0; o < _OUTCOME_MAX; o++) {
                const char *s = dump_outcome_to_string(o);
                ok(s && dump_outcome_from_string(s) == o, "outcome %d has a name that round-trips (%s)", o,
                   s ? s : "?");
        }
        for (int r = 0; r < _REASON_MAX; r++) {
                const char *s = dump_reason_to_string(r);
                ok(s && dump_reason_from_string(s) == r, "reason %d has a name that round-trips (%s)", r,
                   s ? s : "?");
        }
        ok(!dump_reason_to_string(_REASON_MAX) && dump_reason_from_string("no-such-reason") == -EINVAL,
           "out of range: no name, no value");

        if (asprintf(&path, "%s/docs/events.md", top ? top : ".") < 0)
                return 1;
        is_int(io_read_file_at(AT_FDCWD, path, 1 << 20, &doc, NULL), 0, "docs/events.md is there");
        if (!doc)
                return tap_done();
        for (int o = OUTCOME_DELIVERED; o < _OUTCOME_MAX; o++)
                ok(documented(doc, dump_outcome_to_string(o)), "docs/events.md lists outcome %s",
                   dump_outcome_to_string(o));
        /* "none" is internal: it never reaches a line. */
        for (int r = REASON_NONE + 1; r < _REASON_MAX; r++)
                ok(documented(doc, dump_reason_to_string(r)), "docs/events.md lists reason %s",
                   dump_reason_to_string(r));
        is_int(count_unknown(doc, "## Reasons", dump_reason_from_string), 0,
               "docs/events.md lists no reason the daemon does not have");
        is_int(count_unknown(doc, "## Outcomes", dump_outcome_from_string), 0,
               "docs/events.md lists no outcome the daemon does not have");
        return tap_done();
}
