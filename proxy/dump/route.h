/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Routing: the first route of the config whose match holds. */

#include "config/config.h"
#include "proxy/dump/container.h"
#include "proxy/dump/identify.h"
#include "proxy/protocol/names.h"

/*
 * Whether every key of m holds for the task (container NULL for a host task;
 * names NULL when none are known: then no key on names holds).
 */
bool route_matches(const struct route_match *m, const struct task_identity *t,
                   const struct container_info *c, const struct container_names *names);

/* The first matching route, or NULL: then the dump is stored (interface.md). */
const struct route *route_select(const struct config *config, const struct task_identity *t,
                                 const struct container_info *c, const struct container_names *names);
