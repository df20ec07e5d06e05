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
#include "kernel/compat.h"
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
        if (strpbrk(path, CORE_PATTERN_SPACES))
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

static core_pattern_writer_fn writer = io_write_string_file;

void core_pattern_set_writer(core_pattern_writer_fn fn)
{
        writer = fn ? fn : io_write_string_file;
}

int core_pattern_write(const char *pattern)
{
        if (strlen(pattern) >= CORE_PATTERN_MAX)
                return -ENAMETOOLONG;
        /* A zero-length write changes nothing; a lone newline stores the empty pattern. */
        return writer(CORE_PATTERN_SYSCTL, pattern[0] ? pattern : "\n");
}

int core_modes_parse(const char *text, struct core_modes *ret)
{
        struct core_modes m = { .listed = true, .pipe_pidfd = true };
        const char *p = text;

        if (!text)
                return -EINVAL;
        while (*p) {
                size_t n;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == strlen("file") && strncmp(p, "file", n) == 0)
                        m.file = true;
                else if (n == strlen("pipe") && strncmp(p, "pipe", n) == 0)
                        m.pipe = true;
                else if (n == strlen("socket") && strncmp(p, "socket", n) == 0)
                        m.socket = true;
                p += n;
        }
        *ret = m;
        return 0;
}

int core_pattern_read_modes(struct core_modes *ret)
{
        _cleanup_free_ char *s = NULL;
        int r;

        r = io_read_file_at(AT_FDCWD, CORE_MODES_SYSCTL, 4096, &s, NULL);
        if (r < 0)
                return r;
        return core_modes_parse(s, ret);
}

int core_pattern_detect_modes(struct core_modes *ret)
{
        int r;

        r = core_pattern_read_modes(ret);
        if (r != -ENOENT)
                return r;
        /* Before 6.16: the sysctl does not exist, and neither do sockets or %F. */
        *ret = (struct core_modes){ .file = true, .pipe = true };
        return 0;
}

/* A path the kernel passes through a pipe pattern unchanged, as one argument. */
static int check_pipe_word(const char *s)
{
        if (!s || s[0] != '/')
                return -EINVAL;
        if (strpbrk(s, CORE_PATTERN_SPACES "%"))
                return -EINVAL;
        return 0;
}

int core_pattern_format_pipe(const char *helper, const char *listen_path, const struct core_modes *modes,
                             char **ret)
{
        char *s;
        int r;

        r = check_pipe_word(helper);
        if (r >= 0)
                r = check_pipe_word(listen_path);
        if (r < 0)
                return r;
        /*
         * %P: the pid in the initial pid namespace (3.12); %s: the signal;
         * %t: the time of the dump; %d: its dumpability, 2 for setuid-style
         * dumps (3.7); %F: a pidfd of the task (6.16).
         */
        if (asprintf(&s, "|%s %s P=%%P s=%%s t=%%t d=%%d%s", helper, listen_path,
                     modes && modes->pipe_pidfd ? " F=%F" : "") < 0)
                return -ENOMEM;
        if (strlen(s) >= CORE_PATTERN_MAX) {
                free(s);
                return -ENAMETOOLONG;
        }
        *ret = s;
        return 0;
}

int core_pattern_parse_pipe(const char *pattern, char **ret_helper, char **ret_first_arg)
{
        _cleanup_free_ char *helper = NULL, *arg = NULL;
        const char *p;
        size_t n;

        if (!pattern || pattern[0] != '|')
                return -EINVAL;
        /* The kernel skips spaces after the '|' (since 5.x); so do we. */
        p = pattern + 1;
        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n == 0)
                return -EINVAL;
        helper = strndup(p, n);
        p += n;
        p += strspn(p, " ");
        n = strcspn(p, " ");
        if (n == 0)
                return -EINVAL;
        arg = strndup(p, n);
        if (!helper || !arg)
                return -ENOMEM;
        *ret_helper = TAKE_PTR(helper);
        *ret_first_arg = TAKE_PTR(arg);
        return 0;
}

static int ns_inode(const char *path, struct stat *ret)
{
        return stat(path, ret) < 0 ? negative_errno() : 0;
}

int core_pattern_mount_ns_initial(void)
{
        struct stat self, other;

        if (ns_inode("/proc/self/ns/mnt", &self) < 0)
                return -ENOENT;
        if (self.st_ino == MNT_NS_INIT_INO_COMPAT)
                return 1;
        /* A kernel that numbers the initial namespaces (6.18) would have numbered ours too. */
        if (ns_inode("/proc/self/ns/net", &other) >= 0 && other.st_ino == NET_NS_INIT_INO_COMPAT)
                return 0;
        /*
         * Otherwise only from the host's pid namespace: kthreadd (pid 2)
         * runs in the initial mount namespace and, unlike PID 1 on some
         * hosts, can be inspected.
         */
        if (ns_inode("/proc/self/ns/pid", &other) < 0 || other.st_ino != PID_NS_INIT_INO_COMPAT)
                return -ENOENT;
        if (ns_inode("/proc/2/ns/mnt", &other) >= 0 || ns_inode("/proc/1/ns/mnt", &other) >= 0)
                return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
        return -ENOENT;
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
        /*
         * The kernel refuses a socket pattern written from any but the
         * initial mount namespace with the EINVAL it also gives a kernel
         * without "@@": tell the two apart before writing. A writer set with
         * core_pattern_set_writer() writes from the host's mount namespace.
         */
        if (writer == io_write_string_file && core_pattern_mount_ns_initial() == 0)
                return -EXDEV;

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

static int write_sysctl_uint(const char *path, unsigned v)
{
        char buf[16];

        (void) snprintf(buf, sizeof(buf), "%u", v);
        return writer(path, buf);
}

int core_pattern_write_pipe_limit(unsigned limit)
{
        return write_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, limit);
}

int core_pattern_install_pipe(const char *pattern, unsigned pipe_limit, char **ret_previous,
                              unsigned *ret_previous_limit)
{
        _cleanup_free_ char *previous = NULL;
        unsigned limit;
        int r;

        r = core_pattern_read(&previous);
        if (r < 0)
                return r;
        r = core_pattern_read_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, &limit);
        if (r < 0)
                return r;

        /* The limit first: the first dump through the new pattern must already hold its task. */
        if (limit < pipe_limit) {
                r = write_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, pipe_limit);
                if (r < 0)
                        return r;
        }
        r = core_pattern_write(pattern);
        if (r < 0) {
                if (limit < pipe_limit)
                        (void) write_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, limit);
                return r;
        }
        *ret_previous = TAKE_PTR(previous);
        *ret_previous_limit = limit;
        return 0;
}

int core_pattern_restore_pipe(const char *previous, unsigned previous_limit, unsigned our_limit)
{
        unsigned now;
        int r;

        r = core_pattern_restore(previous);
        if (core_pattern_read_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, &now) >= 0 && now == our_limit &&
            now != previous_limit) {
                int k = write_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, previous_limit);
                if (r >= 0)
                        r = k;
        }
        return r;
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
