/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The forward action: hand the kernel connection to the container's own
 * collector (docs/collector-protocol.md), never copying a byte of it.
 */

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/*
 * Done: delivered, or failed once the stream was handed over. Fallback:
 * the reason the forward did not happen; then no byte of the stream has
 * been read (and in request mode the kernel is still waiting for its ack,
 * unless the collector took the stream and gave it back unread).
 */
struct act_result act_forward(struct dump *d, const struct dump_env *env);
