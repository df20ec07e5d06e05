/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The last step of every dump: the kernel connection (and any collector's)
 * shut down, which releases the crashing task even when a collector still
 * holds a copy; the dump's limits given back; counted; one event line.
 */

#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

void dump_finish(struct dump *d, const struct dump_env *env);
