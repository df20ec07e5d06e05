/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <linux/capability.h>
#include <stdint.h>

#define CAP_BIT(c) (UINT64_C(1) << (c))

/*
 * Drops every capability a program does not use, from the bounding set
 * and from the permitted/effective sets, once start-up is done. The daemon
 * and its keeper keep running as uid 0; only the capabilities listed in
 * caps.c remain (none for the keeper and the collector).
 */

int caps_reduce_proxy(void);
int caps_reduce_keeper(void);
int caps_reduce_collector(void);
int caps_reduce_all(void);
int caps_reduce_to(uint64_t keep);
