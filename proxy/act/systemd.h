/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The systemd action: hand the dump to systemd-coredump's socket, so that
 * coredumpctl keeps working on a node (or in a system container that runs
 * systemd) whose core_pattern belongs to the proxy. The fields come from
 * the dump's record (proxy/protocol/sdcoredump.h), the core is passed as
 * an fd: never copied by us.
 */

#include "proxy/act/act.h"
#include "proxy/dump/dump.h"
#include "proxy/dump/env.h"

/*
 * Done: delivered once systemd-coredump closed the connection (it has read
 * the core and exited), failed when the hand-off broke after the ack.
 * Fallback: nothing listens, the listener is not trusted, or the fields or
 * the fd could not be sent; then no byte of the core has been read.
 */
struct act_result act_systemd(struct dump *d, const struct dump_env *env);
