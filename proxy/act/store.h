/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The store action: the kernel writes the core into the host store, with its metadata. */

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"

/* reason: why the dump is stored (route, default, or why a forward did not happen). */
struct act_result act_store(struct dump *d, enum dump_reason reason);
