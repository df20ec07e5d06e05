/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Socket path validation as the kernel does it, and pattern parsing. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "tests/tap.h"

static void test_validate(void)
{
        char buf[200];

        is_int(core_pattern_validate_socket_path("/tmp/coredump.socket"), 0, "valid absolute path");
        is_int(core_pattern_validate_socket_path("/run/coredump-proxy/kernel.sock"), 0,
               "valid default path");
        is_int(core_pattern_validate_socket_path("/tmp/..foo"), 0, "'..foo' is not a dot-dot component");
        is_int(core_pattern_validate_socket_path("/tmp/foo../x"), 0, "'foo..' is not a dot-dot component");

        /* The invalid paths of the kernel selftests (socket_invalid_paths), without the "@". */
        is_int(core_pattern_validate_socket_path(" /tmp/coredump.socket"), -EINVAL,
               "selftest: leading space");
        is_int(core_pattern_validate_socket_path("/tmp/../coredump.socket"), -EINVAL, "selftest: /tmp/../");
        is_int(core_pattern_validate_socket_path("../coredump.socket"), -EINVAL, "selftest: relative ../");
        is_int(core_pattern_validate_socket_path("/tmp/coredump.socket/.."), -EINVAL,
               "selftest: trailing ..");
        is_int(core_pattern_validate_socket_path(".."), -EINVAL, "selftest: ..");
        is_int(core_pattern_validate_socket_path("/tmp/core dump.socket"), -EINVAL, "space inside");
        is_int(core_pattern_validate_socket_path(""), -EINVAL, "empty");
        is_int(core_pattern_validate_socket_path("tmp/coredump.socket"), -EINVAL, "relative");

        /* sun_path is 108 bytes with the terminator: 107 characters is the longest path. */
        buf[0] = '/';
        memset(buf + 1, 'a', 106);
        buf[107] = 0;
        is_int(core_pattern_validate_socket_path(buf), 0, "107 bytes fits");
        buf[107] = 'a';
        buf[108] = 0;
        is_int(core_pattern_validate_socket_path(buf), -ENAMETOOLONG, "108 bytes does not fit");
}

static void test_parse(void)
{
        enum core_pattern_kind kind;
        const char *path;

        is_int(core_pattern_parse("core", &kind, &path), 0, "parse: file pattern");
        is_int(kind, CORE_PATTERN_FILE, "parse: file kind");
        is_int(core_pattern_parse("|/usr/lib/systemd/systemd-coredump %P %u", &kind, &path), 0,
               "parse: pipe");
        is_int(kind, CORE_PATTERN_PIPE, "parse: pipe kind");
        is_int(core_pattern_parse("@/tmp/s", &kind, &path), 0, "parse: @");
        is_int(kind, CORE_PATTERN_SOCKET, "parse: @ kind");
        is_str(path, "/tmp/s", "parse: @ path");
        is_int(core_pattern_parse("@@/tmp/s", &kind, &path), 0, "parse: @@");
        is_int(kind, CORE_PATTERN_SOCKET_REQUEST, "parse: @@ kind");
        is_str(path, "/tmp/s", "parse: @@ path");

        static const char *const invalid[] = {
                "@ /tmp/coredump.socket",
                "@/tmp/../coredump.socket",
                "@../coredump.socket",
                "@/tmp/coredump.socket/..",
                "@..",
                "@@ /tmp/coredump.socket",
                "@@/tmp/../coredump.socket",
                "@@../coredump.socket",
                "@@/tmp/coredump.socket/..",
                "@@..",
                "@@@/tmp/coredump.socket",
        };
        for (size_t i = 0; i < ARRAY_SIZE(invalid); i++)
                ok(core_pattern_parse(invalid[i], &kind, &path) < 0, "parse refuses selftest pattern '%s'",
                   invalid[i]);

        char big[CORE_PATTERN_MAX + 1];
        memset(big, 'c', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        is_int(core_pattern_parse(big, &kind, &path), -EINVAL, "parse: longer than CORENAME_MAX_SIZE");
}

static void test_format(void)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        is_int(core_pattern_format_socket("/run/x.sock", true, &a), 0, "format request");
        is_str(a, "@@/run/x.sock", "format request text");
        is_int(core_pattern_format_socket("/run/x.sock", false, &b), 0, "format plain");
        is_str(b, "@/run/x.sock", "format plain text");
        is_int(core_pattern_format_socket("/run/../x.sock", false, &c), -EINVAL, "format validates");
}

static void test_symlinks(void)
{
        char dir[] = "/tmp/cdp-unit-XXXXXX", p[256];

        if (!mkdtemp(dir)) {
                ok(false, "mkdtemp");
                return;
        }
        (void) snprintf(p, sizeof(p), "%s/real", dir);
        ok(mkdir(p, 0700) == 0, "symlinks: made a directory");
        (void) snprintf(p, sizeof(p), "%s/link", dir);
        ok(symlink("real", p) == 0, "symlinks: made a symlink to it");

        (void) snprintf(p, sizeof(p), "%s/real/kernel.sock", dir);
        is_int(core_pattern_check_no_symlinks(p), 0, "symlinks: plain path (socket not there yet)");
        (void) snprintf(p, sizeof(p), "%s/link/kernel.sock", dir);
        is_int(core_pattern_check_no_symlinks(p), -ELOOP, "symlinks: a symlinked directory is refused");
        (void) snprintf(p, sizeof(p), "%s/missing/deeper/kernel.sock", dir);
        is_int(core_pattern_check_no_symlinks(p), 0, "symlinks: missing components are ours to create");

        (void) snprintf(p, sizeof(p), "%s/link", dir);
        (void) unlink(p);
        (void) snprintf(p, sizeof(p), "%s/real", dir);
        (void) rmdir(p);
        (void) rmdir(dir);
}

int main(void)
{
        test_validate();
        test_parse();
        test_format();
        test_symlinks();
        return tap_done();
}
