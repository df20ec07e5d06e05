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
        /* The kernel's isspace(): \v, \f and the byte 0xa0 too (U+00A0 is 0xc2 0xa0 in UTF-8). */
        is_int(core_pattern_validate_socket_path("/tmp/core\vdump.socket"), -EINVAL, "vertical tab inside");
        is_int(core_pattern_validate_socket_path("/tmp/core\f"
                                                 "dump.socket"),
               -EINVAL, "form feed inside");
        is_int(core_pattern_validate_socket_path("/tmp/core\xc2\xa0"
                                                 "dump.socket"),
               -EINVAL, "no-break space inside");
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

/* kernel.core_modes as 6.16+ write it, and what its absence means. */
static void test_modes(void)
{
        struct core_modes m;

        is_int(core_modes_parse("file\npipe\nsocket\n", &m), 0, "core_modes 6.16+: parse");
        ok(m.listed && m.file && m.pipe && m.socket && m.pipe_pidfd && !m.socket_request,
           "core_modes 6.16+: file, pipe, socket, %%F; @@ still unknown");
        is_int(core_modes_parse("file pipe\n", &m), 0, "core_modes without CONFIG_UNIX: parse");
        ok(m.listed && m.pipe && !m.socket, "core_modes without socket: no socket");
        is_int(core_modes_parse("  sockets\tfile\nsock\n", &m), 0, "core_modes: words, not prefixes");
        ok(m.file && !m.socket && !m.pipe, "core_modes: 'sockets' and 'sock' are not 'socket'");
        is_int(core_modes_parse("", &m), 0, "core_modes: empty");
        ok(m.listed && !m.file && !m.pipe && !m.socket, "core_modes empty: nothing offered");
        is_int(core_modes_parse(NULL, &m), -EINVAL, "core_modes: NULL");
}

/* The pipe pattern for each kind of kernel: only the specifiers it knows. */
static void test_pipe_pattern(void)
{
        const struct core_modes k61 = { .file = true, .pipe = true };
        const struct core_modes k616 = {
                .listed = true, .file = true, .pipe = true, .socket = true, .pipe_pidfd = true
        };
        _cleanup_free_ char *a = NULL, *b = NULL, *helper = NULL, *first = NULL;
        char *c = NULL;
        char longp[CORE_PATTERN_MAX];

        is_int(core_pattern_format_pipe("/usr/libexec/coredump-proxy/coredump-proxy-pipe",
                                        "/run/coredump-proxy/kernel.sock", &k61, &a),
               0, "pipe pattern for 6.1");
        is_str(a,
               "|/usr/libexec/coredump-proxy/coredump-proxy-pipe /run/coredump-proxy/kernel.sock P=%P s=%s "
               "t=%t d=%d",
               "pipe pattern for 6.1: no %%F");
        is_int(core_pattern_format_pipe("/usr/libexec/coredump-proxy/coredump-proxy-pipe",
                                        "/run/coredump-proxy/kernel.sock", &k616, &b),
               0, "pipe pattern for 6.16+");
        is_str(b,
               "|/usr/libexec/coredump-proxy/coredump-proxy-pipe /run/coredump-proxy/kernel.sock P=%P s=%s "
               "t=%t d=%d "
               "F=%F",
               "pipe pattern for 6.16+: the pidfd too");
        ok(strlen(b) < CORE_PATTERN_MAX, "pipe pattern with the installed path fits the kernel's 128 bytes");

        is_int(core_pattern_format_pipe("/opt/my dir/helper", "/run/x.sock", &k61, &c), -EINVAL,
               "pipe pattern: a space would split the helper's path");
        is_int(core_pattern_format_pipe("/opt/my\vdir/helper", "/run/x.sock", &k61, &c), -EINVAL,
               "pipe pattern: a vertical tab in the helper (the kernel would split there)");
        is_int(core_pattern_format_pipe("/opt/\xc3\xa0/helper", "/run/x.sock", &k61, &c), -EINVAL,
               "pipe pattern: a byte 0xa0 in the helper (isspace() in the kernel's ctype)");
        is_int(core_pattern_format_pipe("/opt/helper", "/run/%p.sock", &k61, &c), -EINVAL,
               "pipe pattern: a %% would be expanded");
        is_int(core_pattern_format_pipe("helper", "/run/x.sock", &k61, &c), -EINVAL,
               "pipe pattern: relative");
        memset(longp, 'a', sizeof(longp) - 1);
        longp[0] = '/';
        longp[sizeof(longp) - 1] = 0;
        is_int(core_pattern_format_pipe("/h", longp, &k61, &c), -ENAMETOOLONG, "pipe pattern: too long");
        ok(!c, "pipe pattern refused: nothing written");

        is_int(core_pattern_parse_pipe(b, &helper, &first), 0, "parse pipe: ours");
        is_str(helper, "/usr/libexec/coredump-proxy/coredump-proxy-pipe", "parse pipe: the helper");
        is_str(first, "/run/coredump-proxy/kernel.sock", "parse pipe: the socket it names");
        free(helper);
        free(first);
        helper = first = NULL;
        is_int(core_pattern_parse_pipe("|/usr/lib/systemd/systemd-coredump %P %u %g", &helper, &first), 0,
               "parse pipe: systemd's");
        is_str(first, "%P", "parse pipe: its first argument");
        is_int(core_pattern_parse_pipe("|/bin/helper", &c, &c), -EINVAL, "parse pipe: no argument");
        is_int(core_pattern_parse_pipe("@/run/x.sock", &c, &c), -EINVAL,
               "parse pipe: a socket is not a pipe");
}

int main(void)
{
        test_validate();
        test_modes();
        test_pipe_pattern();
        test_parse();
        test_format();
        test_symlinks();
        return tap_done();
}
