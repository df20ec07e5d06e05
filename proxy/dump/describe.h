/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A dump's documents on the host, all from its one record (d->record):
 * the event line (interface.md, "Event lines"; docs/events.md) and the
 * metadata beside a core the host store keeps (docs/metadata.md). Message 1
 * to a collector is built from the same record by the protocol
 * (proxy/protocol/collector-msg.c). Formatting only: lines go to the sink
 * in proxy/dump/event-log.c.
 */

#include <stddef.h>

#include "kernel/io.h"
#include "proxy/dump/outcome.h"

struct dump;

/* The event line's JSON, without the newline. */
int describe_event(const struct dump *d, char **ret, size_t *ret_len);

/*
 * The metadata of a dump the host store keeps (<id>.json), written before
 * the dump's outcome is final: the outcome it will have if the store
 * succeeds is passed in.
 */
int describe_metadata(const struct dump *d, enum dump_outcome outcome, enum dump_reason reason, char **ret,
                      size_t *ret_len);

/* The line for a coredump the kernel started that never reached the socket ("coredump-lost"). */
int describe_lost(int pid, const char *comm, enum dump_reason reason, usec_t wall, char **ret,
                  size_t *ret_len);
