/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fault injection for tests of failure paths the kernel cannot be made to
 * take on demand (a thread that cannot start, a metadata write that fails,
 * a stop that is slow). Only in builds configured with
 * --enable-fault-injection (tests/run's); elsewhere every check is a
 * constant false. Faults come from the environment, read once:
 *
 *   CDP_FAULT=name[:count][,name[:count]...]
 *
 * fault_hit(name) is true for the first count calls (default 1) naming it.
 * fault_value(name) is the number given instead ("stop-delay:2000": ms).
 */

#include <stdbool.h>

#ifdef CDP_FAULT_INJECTION
bool fault_hit(const char *name);
unsigned long fault_value(const char *name);
#else
static inline bool fault_hit(const char *name)
{
        (void) name;
        return false;
}
static inline unsigned long fault_value(const char *name)
{
        (void) name;
        return 0;
}
#endif
