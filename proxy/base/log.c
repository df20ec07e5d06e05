/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/base/log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static const char *program = "coredump-proxy";

static const char *const level_names[] = {
        [LOG_LEVEL_ERROR] = "error",
        [LOG_LEVEL_WARNING] = "warning",
        [LOG_LEVEL_INFO] = "info",
        [LOG_LEVEL_DEBUG] = "debug",
};

void log_set_level(enum log_level level)
{
        max_level = level;
}

void log_set_program(const char *name)
{
        program = name;
}

int log_level_from_string(const char *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(level_names); i++)
                if (strcmp(s, level_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

static void log_va(enum log_level level, int error, const char *fmt, va_list ap)
{
        char line[2048];
        int n;

        if (level > max_level)
                return;

        n = snprintf(line, sizeof(line), "%s: %s: ", program, level_names[level]);
        if (n < 0 || (size_t) n >= sizeof(line))
                return;
        int k = vsnprintf(line + n, sizeof(line) - (size_t) n, fmt, ap);
        if (k > 0)
                n = (size_t) (n + k) >= sizeof(line) ? (int) sizeof(line) - 1 : n + k;
        if (error != 0 && (size_t) n < sizeof(line) - 1) {
                k = snprintf(line + n, sizeof(line) - (size_t) n, ": %s", strerror(abs(error)));
                if (k > 0)
                        n = (size_t) (n + k) >= sizeof(line) ? (int) sizeof(line) - 1 : n + k;
        }
        /* One fputs of a whole line: stdio's lock keeps lines of different threads apart. */
        if ((size_t) n >= sizeof(line) - 1)
                n = (int) sizeof(line) - 2;
        line[n] = '\n';
        line[n + 1] = 0;
        fputs(line, stderr);
}

void log_message(enum log_level level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(level, 0, fmt, ap);
        va_end(ap);
}

int log_error_errno(int error, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(LOG_LEVEL_ERROR, error, fmt, ap);
        va_end(ap);
        return -abs(error);
}

int log_warning_errno(int error, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_va(LOG_LEVEL_WARNING, error, fmt, ap);
        va_end(ap);
        return -abs(error);
}
