/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The daemon's choice of intake at start (proxy/daemon/mode.h), the pipe
 * intake's socket and settings, and the pattern that points the kernel at
 * the chosen one, all before the sandbox is loaded; then the dumps the pipe
 * helper kept while no daemon answered.
 */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/pidfd.h"
#include "proxy/base/fault.h"
#include "proxy/base/log.h"
#include "proxy/daemon/hostmnt.h"
#include "proxy/daemon/keeper.h"
#include "proxy/daemon/mode.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/state.h"
#include "proxy/intake/pipe.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif
#define PIPE_HELPER_NAME "coredump-proxy-pipe"

static const char *const mode_names[_INTAKE_MODE_MAX] = {
        [INTAKE_REQUEST] = "request",
        [INTAKE_PLAIN] = "plain",
        [INTAKE_PIPE] = "pipe",
};

DEFINE_STRING_TABLE_LOOKUP(intake_mode, enum intake_mode, mode_names)

int mode_choose(enum listen_protocol protocol, const struct core_modes *modes, bool install,
                enum intake_mode *ret, const char **ret_why)
{
        const char *no_socket = modes->listed ? "kernel.core_modes lists no \"socket\""
                                              : "this kernel has no kernel.core_modes (before 6.16): no "
                                                "coredump socket";

        switch (protocol) {
        case PROTOCOL_REQUEST:
        case PROTOCOL_PLAIN:
                if (!modes->socket && install) {
                        *ret_why = modes->listed ? "listen.protocol asks for the coredump socket, but "
                                                   "kernel.core_modes lists no \"socket\" (use \"auto\" "
                                                   "or \"pipe\")"
                                                 : "listen.protocol asks for the coredump socket, which "
                                                   "this kernel does not have (no kernel.core_modes: "
                                                   "before 6.16; use \"auto\" or \"pipe\")";
                        return -EOPNOTSUPP;
                }
                *ret = protocol == PROTOCOL_REQUEST ? INTAKE_REQUEST : INTAKE_PLAIN;
                *ret_why = modes->socket ? "listen.protocol, and kernel.core_modes lists \"socket\""
                                         : "listen.protocol; but no dump will arrive: this kernel has no "
                                           "coredump socket";
                return 0;
        case PROTOCOL_PIPE:
                if (!modes->pipe) {
                        *ret_why = "listen.protocol is \"pipe\", but kernel.core_modes lists no \"pipe\"";
                        return -EOPNOTSUPP;
                }
                *ret = INTAKE_PIPE;
                *ret_why = "listen.protocol is \"pipe\"";
                return 0;
        case PROTOCOL_AUTO:
        default:
                if (modes->socket) {
                        *ret = INTAKE_REQUEST;
                        *ret_why = "kernel.core_modes lists \"socket\": the coredump socket (\"@@\" where "
                                   "the kernel takes it)";
                        return 0;
                }
                if (modes->pipe) {
                        *ret = INTAKE_PIPE;
                        *ret_why = no_socket;
                        return 0;
                }
                *ret_why =
                        "kernel.core_modes lists neither \"socket\" nor \"pipe\": no way to receive dumps";
                return -EOPNOTSUPP;
        }
}

/* Root's alone: owned by root, writable by nobody else. */
static bool root_only(const struct stat *st)
{
        return st->st_uid == 0 && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/*
 * A directory on the way to the helper: root's alone, or sticky (then only root
 * may rename or remove root's entries in it, as in /tmp).
 */
static bool safe_ancestor(const struct stat *st)
{
        return st->st_uid == 0 && (!(st->st_mode & (S_IWGRP | S_IWOTH)) || (st->st_mode & S_ISVTX));
}

/* At most this many symbolic links on the way, as the kernel's own limit (MAXSYMLINKS). */
#define HELPER_MAX_LINKS 40

/*
 * Whether the kernel may run path as root for every crash: every directory from
 * / down is safe_ancestor(), every symbolic link on the way is root's (in a
 * directory that is safe: only root could have made or changed it) and is
 * followed the same way, and the file itself is a root-only executable regular
 * file on a mount that allows exec. Walked one component at a time from an fd
 * of the previous one, so that what is checked is what the kernel will find.
 */
int mode_helper_check(const char *path)
{
        _cleanup_close_ int dir = -EBADF, fd = -EBADF;
        _cleanup_free_ char *todo = NULL;
        unsigned links = 0;
        struct statvfs fs;
        struct stat st;
        const char *p;

        if (path[0] != '/')
                return -EINVAL;
        todo = strdup(path);
        if (!todo)
                return -ENOMEM;
        /* One open per component, then its fd: the keeper's filter has fstatfs, not statfs. */
        dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dir < 0)
                return negative_errno();
        if (fstat(dir, &st) < 0)
                return negative_errno();
        if (!safe_ancestor(&st))
                return -EPERM;

        for (p = todo;;) {
                char name[NAME_MAX + 1], target[PATH_MAX];
                const char *e;
                size_t len;
                ssize_t k;

                while (*p == '/')
                        p++;
                e = strchrnul(p, '/');
                len = (size_t) (e - p);
                if (len == 0)
                        return -ENOEXEC; /* a trailing slash: a directory, not a program */
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                /* "." and ".." (in a link's target, say) are opened and checked like any directory. */
                memcpy(name, p, len);
                name[len] = 0;
                while (*e == '/')
                        e++;

                safe_close(fd);
                fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                if (fstat(fd, &st) < 0)
                        return negative_errno();

                if (S_ISLNK(st.st_mode)) {
                        /* Only root could have made it where it is (dir is safe); its target is walked too.
                         */
                        if (st.st_uid != 0)
                                return -EPERM;
                        if (++links > HELPER_MAX_LINKS)
                                return -ELOOP;
                        k = readlinkat(fd, "", target, sizeof(target) - 1);
                        if (k <= 0)
                                return k < 0 ? negative_errno() : -ENOENT;
                        target[k] = 0;
                        char *next = NULL;
                        if (asprintf(&next, "%s%s%s", target, *e ? "/" : "", e) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = next;
                        p = todo;
                        if (target[0] == '/') {
                                safe_close(dir);
                                dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                                if (dir < 0)
                                        return negative_errno();
                        }
                        continue;
                }
                if (*e == 0)
                        break; /* fd is the last component */
                if (!S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                if (!safe_ancestor(&st))
                        return -EPERM;
                safe_close(dir);
                dir = TAKE_FD(fd);
                p = e;
        }

        if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
                return -ENOEXEC;
        if (!root_only(&st))
                return -EPERM;
        /* The kernel's exec would fail with EACCES for every crash: no core anywhere. */
        if (fstatvfs(fd, &fs) < 0)
                return negative_errno();
        if (fs.f_flag & ST_NOEXEC)
                return -EACCES;
        return 0;
}

const char *mode_helper_problem(int r)
{
        switch (r) {
        case -ENOENT:
                return "it does not exist";
        case -EINVAL:
                return "not an absolute path";
        case -ENOEXEC:
                return "not an executable regular file";
        case -EPERM:
                return "it, or a directory or symbolic link on its path, is not root's alone (owned by "
                       "root, writable by nobody else, or sticky)";
        case -ELOOP:
                return "too many symbolic links on its path";
        case -ENOTDIR:
                return "a component of its path is not a directory";
        case -ENAMETOOLONG:
                return "its path is too long (for core_pattern's 127 bytes, or a component over 255)";
        case -EXDEV:
                return "the host's files cannot be seen from here (outside the host's mount namespace, "
                       "and its writer could not enter it)";
        case -EACCES:
                return "it is on a noexec mount, where the kernel cannot run it";
        default:
                return "cannot be checked";
        }
}

int mode_helper_path(char **ret)
{
        char self[PATH_MAX];
        _cleanup_free_ char *next = NULL;
        ssize_t k;
        int r;

        k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k > 0) {
                self[k] = 0;
                if (asprintf(&next, "%s/%s", dirname(self), PIPE_HELPER_NAME) < 0)
                        return -ENOMEM;
                r = mode_helper_check(next);
                if (r >= 0) {
                        *ret = TAKE_PTR(next);
                        return 0;
                }
                if (r != -ENOENT)
                        log_warning_errno(r, "%s is not fit to be run by the kernel as root", next);
        }
        r = mode_helper_check(LIBEXECDIR "/coredump-proxy/" PIPE_HELPER_NAME);
        if (r < 0)
                return r;
        *ret = strdup(LIBEXECDIR "/coredump-proxy/" PIPE_HELPER_NAME);
        return *ret ? 0 : -ENOMEM;
}

/* The pipe intake: its socket and the settings for its helper; the keeper installs the pattern. */
static int start_pipe(struct daemon *m)
{
        const struct config *c = m->setup->config;
        _cleanup_free_ char *helper = NULL;
        int r;

        r = intake_pipe_open(c->listen_path, &m->pipe_path);
        if (r < 0)
                return log_error_errno(r, "cannot open the pipe intake beside %s", c->listen_path);
        m->pipe_fd = r;
        /*
         * Written now, before anything from outside was read, and never
         * again: the sandbox lets the daemon write nothing beside its socket
         * (the helper runs as root and writes where these settings say).
         */
        r = intake_pipe_write_settings(c->listen_path, c);
        if (r < 0)
                log_warning_errno(r,
                                  "cannot write the pipe helper's settings beside %s: when the daemon "
                                  "does not answer, the helper stores in %s",
                                  c->listen_path, CONFIG_DEFAULT_STORE);

        /*
         * A configured helper is a path in the host's root, which this
         * process may not see (a pod): the keeper checks it from the host's
         * mount namespace before it writes the pattern.
         */
        if (c->pipe_helper) {
                log_info("pipe helper %s (listen.pipe_helper, in the host's root); intake %s",
                         c->pipe_helper, m->pipe_path);
                return 0;
        }
        r = mode_helper_path(&helper);
        if (r < 0) {
                if (!m->options->install_pattern) {
                        log_warning_errno(r, "no usable %s: a pipe pattern cannot point at it",
                                          PIPE_HELPER_NAME);
                        return 0;
                }
                return log_error_errno(r,
                                       "no usable %s next to coredump-proxy or in %s/coredump-proxy/ (%s); "
                                       "core_pattern left alone",
                                       PIPE_HELPER_NAME, LIBEXECDIR, mode_helper_problem(r));
        }
        log_info("pipe helper %s; intake %s", helper, m->pipe_path);
        return 0;
}

/* What the kernel offers; a kernel whose sysctl cannot be read is taken for one without sockets. */
static void detect_modes(struct core_modes *ret)
{
        int r = core_pattern_detect_modes(ret);

        if (r < 0) {
                log_warning_errno(r, "cannot read kernel.core_modes");
                *ret = (struct core_modes){ .file = true, .pipe = true };
        }
}

int mode_install_pattern(struct pattern_hold *h, const char *listen_path, enum listen_protocol protocol,
                         const char *pipe_helper, unsigned pipe_limit)
{
        _cleanup_free_ char *helper = NULL, *pattern = NULL;
        struct core_modes modes = {};
        enum intake_mode mode;
        const char *why = NULL;
        int r;

        detect_modes(&modes);
        r = mode_choose(protocol, &modes, true, &mode, &why);
        if (r < 0)
                return log_error_errno(r, "%s; core_pattern left alone", why);
        if (mode != INTAKE_PIPE)
                return pattern_install(h, listen_path, mode == INTAKE_REQUEST);

        if (pipe_helper) {
                /* Where the kernel will look: the host's root (through the writer in a pod). */
                r = hostmnt_check_helper(pipe_helper);
                if (r < 0)
                        return log_error_errno(r,
                                               "listen.pipe_helper %s is not fit to be run by the kernel as "
                                               "root from the host's root: %s; core_pattern left alone",
                                               pipe_helper, mode_helper_problem(r));
                helper = strdup(pipe_helper);
                if (!helper)
                        return log_oom();
        } else {
                r = mode_helper_path(&helper);
                if (r < 0)
                        return log_error_errno(r, "no usable %s (%s); core_pattern left alone",
                                               PIPE_HELPER_NAME, mode_helper_problem(r));
        }
        r = core_pattern_format_pipe(helper, listen_path, &modes, &pattern);
        if (r < 0)
                return log_error_errno(r,
                                       "cannot make a pipe pattern of %s and %s (at most %d bytes, "
                                       "no spaces); core_pattern left alone",
                                       helper, listen_path, CORE_PATTERN_MAX - 1);
        return pattern_install_pipe(h, listen_path, pattern, pipe_limit);
}

void mode_report_unseen(struct daemon *m)
{
        int r;

        /* Whatever the mode now: the kernel may have been upgraded since the helper kept them. */
        r = intake_pipe_report_unseen(m->setup, m->env.stats);
        if (r < 0)
                log_warning_errno(r, "cannot read the pipe helper's spool in %s",
                                  m->setup->config->store_directory);
        else if (r > 0)
                log_warning("%d dumps were kept by coredump-proxy-pipe while no daemon answered: reported",
                            r);
}

int mode_start(struct daemon *m)
{
        const struct config *c = m->setup->config;
        struct core_modes modes = {};
        const char *why = NULL;
        bool request = false;
        int r;

        /* Tests: the /proc fallbacks of older kernels on this one (CDP_FAULT=pidfd-compat:BITS). */
        if (fault_value("pidfd-compat") > 0) {
                pidfd_compat_force((unsigned) fault_value("pidfd-compat"));
                log_warning("fault injection: pidfd features %#lx taken for absent",
                            fault_value("pidfd-compat"));
        }
        detect_modes(&modes);
        r = mode_choose(c->protocol, &modes, m->options->install_pattern, &m->mode, &why);
        if (r < 0)
                return log_error_errno(r, "%s; core_pattern left alone", why);
        log_info("mode %s: %s", intake_mode_to_string(m->mode), why);

        if (m->mode == INTAKE_PIPE) {
                r = start_pipe(m);
                if (r < 0)
                        return r;
        }
        /* The keeper chooses the same mode from the same config and kernel, and writes its pattern. */
        if (m->options->install_pattern) {
                r = keeper_install(&m->keeper);
                if (r < 0)
                        return r;
        }
        /* The keeper's write probe decided between "@@" and "@". */
        if (m->mode != INTAKE_PIPE && m->keeper.installed && pattern_points_at(c->listen_path, &request))
                m->mode = request ? INTAKE_REQUEST : INTAKE_PLAIN;
        pattern_check(c->listen_path);
        return 0;
}
