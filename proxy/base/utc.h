/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Timestamps for people and file names, always UTC, formatted by hand. */

#include "kernel/io.h"

#define UTC_STRING_MAX 32

/* RFC 3339 with milliseconds: "2026-11-27T13:53:00.123Z". */
void utc_format_rfc3339(usec_t wall, char buf[static UTC_STRING_MAX]);
/* Compact and sortable, for ids: "20261127T135300Z". */
void utc_format_compact(usec_t wall, char buf[static UTC_STRING_MAX]);
