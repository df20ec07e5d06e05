/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A minimal TAP producer for the C unit tests. automake's tap-driver reads
 * the output; tests/tap-wrap turns exit 77 (cannot run here) into a skip, or
 * into a failure when CDP_TESTS_MUST_RUN=1.
 */

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count;
static int tap_failures;

static inline __attribute__((format(printf, 2, 3))) bool tap_ok(bool cond, const char *fmt, ...)
{
        va_list ap;

        tap_count++;
        if (!cond)
                tap_failures++;
        printf("%s %d - ", cond ? "ok" : "not ok", tap_count);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        fflush(stdout);
        return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __VA_ARGS__)

#define is_int(got, want, ...)                                               \
        do {                                                                 \
                long long _g = (long long) (got), _w = (long long) (want);   \
                if (_g != _w)                                                \
                        printf("# %s: got %lld, want %lld\n", #got, _g, _w); \
                tap_ok(_g == _w, __VA_ARGS__);                               \
        } while (0)

#define is_str(got, want, ...)                                                              \
        do {                                                                                \
                const char *_g = (got), *_w = (want);                                       \
                bool _same = (_g && _w) ? strcmp(_g, _w) == 0 : _g == _w;                   \
                if (!_same)                                                                 \
                        printf("# %s: got \"%s\", want \"%s\"\n", #got, _g ? _g : "(null)", \
                               _w ? _w : "(null)");                                         \
                tap_ok(_same, __VA_ARGS__);                                                 \
        } while (0)

static inline __attribute__((format(printf, 1, 2))) void tap_diag(const char *fmt, ...)
{
        va_list ap;

        printf("# ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
}

/* Prints the plan at the end; the exit status says whether anything failed. */
static inline int tap_done(void)
{
        printf("1..%d\n", tap_count);
        fflush(stdout);
        return tap_failures > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline __attribute__((noreturn, format(printf, 1, 2))) void tap_skip_all(const char *fmt, ...)
{
        va_list ap;

        printf("1..0 # SKIP ");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        exit(77);
}
