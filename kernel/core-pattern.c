/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"

#define UNIX_PATH_MAX_COMPAT (sizeof(((struct sockaddr_un *) 0)->sun_path))

static bool has_dotdot_component(const char *path)
{
        for (const char *p = path; (p = strstr(p, "..")); p += 2) {
                bool starts = p == path || p[-1] == '/';
                bool ends = p[2] == 0 || p[2] == '/';
                if (starts && ends)
                        return true;
        }
        return false;
}

int core_pattern_validate_socket_path(const char *path)
{
        if (!path || path[0] != '/')
                return -EINVAL;
        if (strlen(path) >= UNIX_PATH_MAX_COMPAT)
                return -ENAMETOOLONG;
        /* The kernel refuses "..": 6.17 at write time, every version at dump time. */
        if (has_dotdot_component(path))
                return -EINVAL;
        /* Spaces are reserved for future parameters of the socket pattern. */
        if (strpbrk(path, " \t\n"))
                return -EINVAL;
        return 0;
}

int core_pattern_check_no_symlinks(const char *path)
{
        char buf[PATH_MAX];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);

        /* Walk every prefix that ends at a '/' and finally the whole path. */
        for (size_t i = 1; i <= len; i++) {
                if (buf[i] != '/' && buf[i] != 0)
                        continue;
                char saved = buf[i];
                struct stat st;

                buf[i] = 0;
                if (lstat(buf, &st) < 0) {
                        int r = negative_errno();
                        buf[i] = saved;
                        if (r == -ENOENT)
                                return 0; /* later components will be created by us */
                        return r;
                }
                buf[i] = saved;
                if (S_ISLNK(st.st_mode))
                        return -ELOOP;
        }
        return 0;
}

int core_pattern_parse(const char *pattern, enum core_pattern_kind *ret_kind, const char **ret_path)
{
        enum core_pattern_kind kind;
        const char *path = NULL;
        int r;

        if (!pattern || strlen(pattern) >= CORE_PATTERN_MAX)
                return -EINVAL;

        if (pattern[0] == '|') {
                kind = CORE_PATTERN_PIPE;
        } else if (pattern[0] == '@') {
                if (pattern[1] == '@') {
                        kind = CORE_PATTERN_SOCKET_REQUEST;
                        path = pattern + 2;
                } else {
                        kind = CORE_PATTERN_SOCKET;
                        path = pattern + 1;
                }
                r = core_pattern_validate_socket_path(path);
                if (r < 0)
                        return r;
        } else {
                kind = CORE_PATTERN_FILE;
        }

        *ret_kind = kind;
        if (ret_path)
                *ret_path = path;
        return 0;
}

int core_pattern_format_socket(const char *path, bool request, char **ret)
{
        char *s;
        int r;

        r = core_pattern_validate_socket_path(path);
        if (r < 0)
                return r;
        if (asprintf(&s, "%s%s", request ? "@@" : "@", path) < 0)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int core_pattern_read(char **ret)
{
        char *s;
        size_t len;
        int r;

        r = io_read_file_at(AT_FDCWD, CORE_PATTERN_SYSCTL, 4096, &s, &len);
        if (r < 0)
                return r;
        if (len > 0 && s[len - 1] == '\n')
                s[len - 1] = 0;
        *ret = s;
        return 0;
}

int core_pattern_write(const char *pattern)
{
        if (strlen(pattern) >= CORE_PATTERN_MAX)
                return -ENAMETOOLONG;
        /* A zero-length write changes nothing; a lone newline stores the empty pattern. */
        return io_write_string_file(CORE_PATTERN_SYSCTL, pattern[0] ? pattern : "\n");
}

int core_pattern_read_modes(struct core_modes *ret)
{
        _cleanup_free_ char *s = NULL;
        struct core_modes m = {};
        int r;

        r = io_read_file_at(AT_FDCWD, CORE_MODES_SYSCTL, 4096, &s, NULL);
        if (r < 0)
                return r;

        for (char *save = NULL, *tok = strtok_r(s, " \t\n", &save); tok;
             tok = strtok_r(NULL, " \t\n", &save)) {
                if (strcmp(tok, "file") == 0)
                        m.file = true;
                else if (strcmp(tok, "pipe") == 0)
                        m.pipe = true;
                else if (strcmp(tok, "socket") == 0)
                        m.socket = true;
        }
        *ret = m;
        return 0;
}

int core_pattern_install(const char *path, bool want_request, char **ret_previous, bool *ret_request)
{
        _cleanup_free_ char *previous = NULL, *pattern = NULL;
        bool request = want_request;
        int r;

        r = core_pattern_validate_socket_path(path);
        if (r < 0)
                return r;
        r = core_pattern_check_no_symlinks(path);
        if (r < 0)
                return r;
        r = core_pattern_read(&previous);
        if (r < 0)
                return r;

        r = core_pattern_format_socket(path, request, &pattern);
        if (r < 0)
                return r;
        r = core_pattern_write(pattern);
        if (r == -EINVAL && request) {
                /* Feature detection: a 6.16 kernel refuses "@@" when it is written. */
                request = false;
                pattern = mfree_str(pattern);
                r = core_pattern_format_socket(path, request, &pattern);
                if (r < 0)
                        return r;
                r = core_pattern_write(pattern);
        }
        if (r < 0)
                return r;

        *ret_previous = TAKE_PTR(previous);
        if (ret_request)
                *ret_request = request;
        return 0;
}

int core_pattern_restore(const char *previous)
{
        return core_pattern_write(previous);
}

int core_pattern_read_sysctl_uint(const char *path, unsigned *ret)
{
        _cleanup_free_ char *s = NULL;
        char *end;
        int r;

        r = io_read_file_at(AT_FDCWD, path, 64, &s, NULL);
        if (r < 0)
                return r;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || end == s || (*end != '\n' && *end != 0) || v > UINT_MAX)
                return -EBADMSG;
        *ret = (unsigned) v;
        return 0;
}
