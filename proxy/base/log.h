/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's and the collector's log: one line per message on stderr.
 * Only programs log; library code (kernel/, config/) returns errors.
 */

#include "kernel/cleanup.h"

enum log_level {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
void log_set_program(const char *name);
int log_level_from_string(const char *s);

_printf_(2, 3) void log_message(enum log_level level, const char *fmt, ...);

/* These return -abs(error) so that `return log_error_errno(r, ...)` reads naturally. */
_printf_(2, 3) int log_error_errno(int error, const char *fmt, ...);
_printf_(2, 3) int log_warning_errno(int error, const char *fmt, ...);

#define log_error(...)   log_message(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)    log_message(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)   log_message(LOG_LEVEL_DEBUG, __VA_ARGS__)

#define log_oom() log_error_errno(ENOMEM, "out of memory")
