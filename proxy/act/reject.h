/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The reject action: no core at all; in request mode the kernel writes no byte. */

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"

struct act_result act_reject(struct dump *d, enum dump_reason reason);
