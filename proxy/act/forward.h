/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The forward action: hand the kernel connection to the container's own collector. */

#include "proxy/dump/run.h"

/*
 * Returns 1 when the dump is finished (delivered, or failed after the fd
 * was handed over: the outcome is set), 0 when the fallback must run
 * (d->reason says why; the kernel has not been acked in request mode and no
 * byte of the stream was read).
 */
int forward_dump(struct dump *d, const struct dump_env *env);
