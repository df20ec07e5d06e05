/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: what the pipe intake takes from outside the daemon (proxy/
 * protocol/pipe-handoff.h). The datagram comes from the helper, a root
 * process on a root-only socket, but the daemon must hold against any bytes
 * there; the helper's own argv comes from the kernel's expansion of a pattern
 * that an administrator may have written by hand; the settings file is read
 * by the helper, as root, for every crash. Each must parse or fail cleanly,
 * never write an out-parameter on failure, and whatever parses must say what
 * its text said, within its bounds.
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/protocol/pipe-handoff.h"

#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool facts_in_bounds(const struct pipe_facts *f)
{
        return f->pid > 0 && f->pid <= INT32_MAX && f->signal >= 0 && f->signal <= 64 && f->dumpable >= -1 &&
               f->dumpable <= 2 && (unsigned) f->pidfd_source < _PIPE_PIDFD_MAX;
}

static void fuzz_handoff(const char *buf, size_t len)
{
        struct pipe_facts f, again, untouched;
        char text[PIPE_HANDOFF_MAX];
        size_t n;
        int r;

        memset(&f, 0x5a, sizeof(f));
        untouched = f;
        r = pipe_handoff_parse(buf, len, &f);
        CHECK(r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT);
        if (r < 0) {
                CHECK(memcmp(&f, &untouched, sizeof(f)) == 0);
                return;
        }
        CHECK(facts_in_bounds(&f));
        /* A datagram never names an fd of the helper's. */
        CHECK(f.kernel_fd == -1);
        /* What parses formats again, and reads back the same. */
        CHECK(pipe_handoff_format(&f, text, sizeof(text), &n) == 0);
        CHECK(pipe_handoff_parse(text, n, &again) == 0);
        CHECK(memcmp(&f, &again, sizeof(f)) == 0);
}

/* The input as argv: NUL-separated words. */
static void fuzz_args(const char *buf, size_t len)
{
        char *copy = malloc(len + 1), *argv[64];
        const char *listen = NULL;
        struct pipe_facts f, untouched;
        int argc = 0, r;

        if (!copy)
                return;
        memcpy(copy, buf, len);
        copy[len] = 0;
        for (char *p = copy; p <= copy + len && argc < 64; p += strlen(p) + 1)
                argv[argc++] = p;
        memset(&f, 0x5a, sizeof(f));
        untouched = f;
        r = pipe_args_parse(argc, argv, &listen, &f);
        CHECK(r == 0 || r == -EINVAL);
        if (r < 0) {
                CHECK(memcmp(&f, &untouched, sizeof(f)) == 0 && !listen);
        } else {
                CHECK(listen == argv[0] && listen[0] == '/');
                CHECK(facts_in_bounds(&f) && f.kernel_fd >= -1 && f.pidfd_source == PIPE_PIDFD_NONE);
        }
        free(copy);
}

static void fuzz_settings(const char *buf, size_t len)
{
        struct pipe_settings s = {}, again = {};
        char *text = NULL;
        size_t n;
        int r;

        r = pipe_settings_parse(buf, len, &s);
        CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r < 0) {
                CHECK(!s.store_directory);
                return;
        }
        CHECK(s.store_directory && s.store_directory[0] == '/');
        CHECK(!s.max_use.percent || s.max_use.value <= 100);
        CHECK(!s.keep_free.percent || s.keep_free.value <= 100);
        /* A directory with a newline cannot be written back; anything else round-trips. */
        if (!strchr(s.store_directory, '\n') && pipe_settings_format(&s, &text, &n) == 0) {
                CHECK(pipe_settings_parse(text, n, &again) == 0);
                CHECK(strcmp(again.store_directory, s.store_directory) == 0);
                CHECK(memcmp(&again.max_use, &s.max_use, sizeof(s.max_use)) == 0);
                CHECK(memcmp(&again.keep_free, &s.keep_free, sizeof(s.keep_free)) == 0);
        }
        free(text);
        pipe_settings_done(&again);
        pipe_settings_done(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *buf = (const char *) data;

        fuzz_handoff(buf, size);
        fuzz_args(buf, size);
        fuzz_settings(buf, size);
        return 0;
}
