/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/io.h"
#include "proxy/base/log.h"
#include "proxy/daemon/pattern.h"

/*
 * All of this runs in the keeper (keeper.c), the only process of ours that
 * may write core_pattern. A crash of the daemon is the keeper's to repair
 * when it reaps it; this handler covers a crash of the keeper itself (an
 * abort() of glibc's, a SIGSEGV sent by hand), after which the daemon dies
 * too (PR_SET_PDEATHSIG). It only uses async-signal-safe calls; the keeper is
 * non-dumpable, so re-raising cannot dump into our own socket.
 */
static char fatal_pattern[CORE_PATTERN_MAX + 1];
static char fatal_pipe_limit[16]; /* "" unless the pipe intake raised it */
static volatile sig_atomic_t fatal_armed;

static void fatal_signal(int sig)
{
        if (fatal_armed) {
                int fd = open(CORE_PATTERN_SYSCTL, O_WRONLY | O_CLOEXEC);
                if (fd >= 0) {
                        size_t len = strlen(fatal_pattern);
                        ssize_t _unused_ k = write(fd, len ? fatal_pattern : "\n", len ? len : 1);
                        close(fd);
                }
                if (fatal_pipe_limit[0]) {
                        fd = open(CORE_PIPE_LIMIT_SYSCTL, O_WRONLY | O_CLOEXEC);
                        if (fd >= 0) {
                                ssize_t _unused_ k = write(fd, fatal_pipe_limit, strlen(fatal_pipe_limit));
                                close(fd);
                        }
                }
        }
        signal(sig, SIG_DFL);
        raise(sig);
}

static void arm_fatal_restore(const char *previous, const struct pattern_hold *h)
{
        static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
        struct sigaction sa = { .sa_handler = fatal_signal, .sa_flags = SA_RESETHAND | SA_NODEFER };

        (void) snprintf(fatal_pattern, sizeof(fatal_pattern), "%s", previous);
        fatal_pipe_limit[0] = 0;
        if (h->pipe_limit_set)
                (void) snprintf(fatal_pipe_limit, sizeof(fatal_pipe_limit), "%u", h->pipe_limit_previous);
        fatal_armed = 1;
        for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
                (void) sigaction(sigs[i], &sa, NULL);
}

int pattern_state_path(const char *listen_path, char **ret)
{
        return asprintf(ret, "%s.previous-pattern", listen_path) < 0 ? -ENOMEM : 0;
}

int pattern_state_read(const char *state_path, char **ret, unsigned *ret_pipe_limit)
{
        const char *line;
        char buf[CORE_PATTERN_MAX + 1];
        struct stat st;
        ssize_t n;

        /*
         * What this file says is written into core_pattern by root: only a
         * regular file of our own that nobody else may write counts. Not a
         * symlink, not a FIFO that would block the read.
         */
        _cleanup_close_ int fd = open(state_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        n = read(fd, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof(buf))
                return -EFBIG;
        buf[n] = 0;
        /* The pipe intake also raised core_pipe_limit: its old value is the second line. */
        if (ret_pipe_limit) {
                line = strstr(buf, "\n" PATTERN_STATE_PIPE_LIMIT);
                if (!line || sscanf(line + 1, PATTERN_STATE_PIPE_LIMIT "%u", ret_pipe_limit) != 1)
                        *ret_pipe_limit = UINT_MAX;
        }
        buf[strcspn(buf, "\n")] = 0;
        *ret = strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int state_write(const char *state_path, const char *content)
{
        struct stat st;

        /* O_NOFOLLOW: a symlink planted at the name must not make root write elsewhere. */
        _cleanup_close_ int fd =
                open(state_path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (ftruncate(fd, 0) < 0 || fchmod(fd, 0600) < 0)
                return negative_errno();
        return io_write_all(fd, content, strlen(content));
}

bool pattern_points_at(const char *listen_path, bool *ret_request)
{
        _cleanup_free_ char *current = NULL, *helper = NULL, *first = NULL;
        enum core_pattern_kind kind;
        const char *path = NULL;

        if (core_pattern_read(&current) < 0 || core_pattern_parse(current, &kind, &path) < 0)
                return false;
        /* The pipe intake's pattern names our socket as its helper's first argument. */
        if (kind == CORE_PATTERN_PIPE && core_pattern_parse_pipe(current, &helper, &first) >= 0 &&
            strcmp(first, listen_path) == 0) {
                if (ret_request)
                        *ret_request = false;
                return true;
        }
        if (!path || strcmp(path, listen_path) != 0)
                return false;
        if (ret_request)
                *ret_request = kind == CORE_PATTERN_SOCKET_REQUEST;
        return true;
}

int pattern_current_target(char **ret)
{
        _cleanup_free_ char *current = NULL, *helper = NULL, *first = NULL;
        enum core_pattern_kind kind;
        const char *path = NULL;
        int r;

        r = core_pattern_read(&current);
        if (r < 0)
                return r;
        r = core_pattern_parse(current, &kind, &path);
        if (r < 0)
                return r;
        if (kind == CORE_PATTERN_PIPE) {
                /* Ours names the socket as its helper's first argument; any other pipe names no socket. */
                if (core_pattern_parse_pipe(current, &helper, &first) < 0 || first[0] != '/')
                        return -ENOENT;
                *ret = TAKE_PTR(first);
                return 0;
        }
        if (!path)
                return -ENOENT;
        *ret = strdup(path);
        return *ret ? 0 : -ENOMEM;
}

static bool same_directory(const char *a, const char *b)
{
        const char *sa = strrchr(a, '/'), *sb = strrchr(b, '/');

        return sa && sb && sa - a == sb - b && strncmp(a, b, (size_t) (sa - a)) == 0;
}

/*
 * Whether only root can have put files in PATH's directory: the saved pattern
 * found there goes back into core_pattern, where "|..." runs as root.
 */
static bool directory_root_only(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash = dir ? strrchr(dir, '/') : NULL;
        struct stat st;

        if (!slash)
                return false;
        *(slash == dir ? slash + 1 : slash) = 0;
        return lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == 0 && (st.st_mode & 022) == 0;
}

/*
 * The pattern is another coredump-proxy's (a rollout: the new instance
 * starts beside the old one on a socket of its own; or the old one was
 * SIGKILLed): what to restore is what that one saved, the pattern from
 * before any coredump-proxy, never its socket. Its saved file says so; a
 * socket in our own directory without one is taken for a proxy's too.
 */
static int adopt_previous(const char *listen_path, char **ret_saved, unsigned *ret_limit)
{
        _cleanup_free_ char *target = NULL, *state = NULL, *saved = NULL;
        int r;

        *ret_saved = NULL;
        if (pattern_current_target(&target) < 0)
                return 0;
        if (!directory_root_only(target)) {
                log_debug("core_pattern points at %s, in a directory others may write: not adopted", target);
                return 0;
        }
        r = pattern_state_path(target, &state);
        if (r < 0)
                return log_oom();
        r = pattern_state_read(state, &saved, ret_limit);
        if (r >= 0) {
                log_info("core_pattern points at another coredump-proxy's %s: taking over; will restore "
                         "'%s', which it saved",
                         target, saved);
                *ret_saved = TAKE_PTR(saved);
                return 0;
        }
        if (!same_directory(target, listen_path))
                return 0;
        saved = strdup(CORE_PATTERN_DEFAULT);
        if (!saved)
                return log_oom();
        log_warning("core_pattern points at %s, beside our socket, and it saved no earlier pattern; will "
                    "restore the kernel default '%s'",
                    target, CORE_PATTERN_DEFAULT);
        *ret_saved = TAKE_PTR(saved);
        return 0;
}

/*
 * After an unclean stop the pattern may still be ours: then the one to
 * restore is the one saved by the previous run, not our own; the same when
 * it is another coredump-proxy's (adopt_previous). NULL in *ret_saved when
 * the pattern is nobody's of ours.
 */
static int saved_previous(struct pattern_hold *h, const char *listen_path, char **ret_saved,
                          unsigned *ret_limit)
{
        _cleanup_free_ char *saved = NULL;

        *ret_saved = NULL;
        if (!pattern_points_at(listen_path, NULL))
                return adopt_previous(listen_path, ret_saved, ret_limit);
        /* And the core_pipe_limit that run found, when it raised it. */
        if (pattern_state_read(h->state_path, &saved, ret_limit) >= 0) {
                log_info("core_pattern still points at %s from an earlier run; will restore '%s'",
                         listen_path, saved);
        } else {
                /*
                 * Ours, and nothing saved: "restoring" what is there would leave the
                 * kernel pointing at a socket nobody serves once we stop.
                 */
                saved = strdup(CORE_PATTERN_DEFAULT);
                if (!saved)
                        return log_oom();
                log_warning("core_pattern already points at %s and no earlier pattern was saved; "
                            "will restore the kernel default '%s'",
                            listen_path, CORE_PATTERN_DEFAULT);
        }
        *ret_saved = TAKE_PTR(saved);
        return 0;
}

/* Ours is in force: remember it, what to restore, and arm the restore on a crash. */
static int hold(struct pattern_hold *h, char *previous)
{
        _cleanup_free_ char *prev = previous, *ours = NULL;
        int r;

        r = core_pattern_read(&ours);
        if (r < 0) {
                if (h->pipe_limit_set)
                        (void) core_pattern_restore_pipe(prev, h->pipe_limit_previous, h->pipe_limit_ours);
                else
                        (void) core_pattern_restore(prev);
                return log_error_errno(r, "cannot read back core_pattern");
        }

        h->installed = true;
        h->previous = TAKE_PTR(prev);
        h->ours = TAKE_PTR(ours);
        arm_fatal_restore(h->previous, h);

        /* A SIGKILL of the keeper leaves the pattern: `coredump-proxy restore-pattern` reads this file. */
        _cleanup_free_ char *state = NULL;
        if (h->pipe_limit_set)
                r = asprintf(&state, "%s\n" PATTERN_STATE_PIPE_LIMIT "%u\n", h->previous,
                             h->pipe_limit_previous);
        else
                r = asprintf(&state, "%s", h->previous);
        r = r < 0 ? -ENOMEM : state_write(h->state_path, state);
        if (r < 0)
                log_warning_errno(r, "cannot save the previous pattern in %s", h->state_path);

        log_info("core_pattern is '%s' (was '%s')", h->ours, h->previous);
        return 0;
}

int pattern_install(struct pattern_hold *h, const char *listen_path, bool want_request)
{
        _cleanup_free_ char *previous = NULL, *saved = NULL;
        bool request = false;
        int r;

        r = pattern_state_path(listen_path, &h->state_path);
        if (r < 0)
                return log_oom();
        r = saved_previous(h, listen_path, &saved, NULL);
        if (r < 0)
                return r;

        r = core_pattern_install(listen_path, want_request, &previous, &request);
        if (r == -EXDEV)
                return log_error_errno(r,
                                       "cannot install the coredump socket pattern for %s: this process "
                                       "runs in a mount namespace other than the initial one (a unit with "
                                       "PrivateTmp=, ProtectHome=, ProtectSystem=, ...), from which the "
                                       "kernel refuses socket patterns; let coredump-proxy.socket and "
                                       "coredump-proxy-pattern.service install it",
                                       listen_path);
        if (r < 0)
                return log_error_errno(r, "cannot install the coredump socket pattern for %s", listen_path);
        if (saved) {
                free(previous);
                previous = TAKE_PTR(saved);
        }
        if (want_request && !request)
                log_warning("the kernel refuses '@@' patterns (before 6.17): installed '@', plain mode");
        return hold(h, TAKE_PTR(previous));
}

int pattern_install_pipe(struct pattern_hold *h, const char *listen_path, const char *pattern,
                         unsigned pipe_limit)
{
        _cleanup_free_ char *previous = NULL, *saved = NULL;
        unsigned previous_limit = 0, saved_limit = UINT_MAX;
        int r;

        r = pattern_state_path(listen_path, &h->state_path);
        if (r < 0)
                return log_oom();
        r = saved_previous(h, listen_path, &saved, &saved_limit);
        if (r < 0)
                return r;

        r = core_pattern_install_pipe(pattern, pipe_limit, &previous, &previous_limit);
        if (r < 0)
                return log_error_errno(r, "cannot install the pipe pattern '%s'", pattern);
        if (saved) {
                free(previous);
                previous = TAKE_PTR(saved);
        }
        /* The limit raised by an earlier run is ours too: give back what that run found. */
        if (saved_limit != UINT_MAX)
                previous_limit = saved_limit;
        h->pipe_limit_set = true;
        h->pipe_limit_previous = previous_limit;
        /* What is in force now is what a restore may replace: anything else was set by someone else. */
        if (core_pattern_read_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, &h->pipe_limit_ours) < 0)
                h->pipe_limit_ours = MAX(pipe_limit, previous_limit);
        if (previous_limit < pipe_limit)
                log_info("kernel.core_pipe_limit is %u (was %u): the kernel holds each crashing task until "
                         "its pipe is read and closed",
                         pipe_limit, previous_limit);
        return hold(h, TAKE_PTR(previous));
}

void pattern_restore(struct pattern_hold *h)
{
        _cleanup_free_ char *current = NULL;
        int r;

        if (!h->installed)
                return;
        h->installed = false;

        /* Someone else changed it while we ran: theirs wins. */
        if (core_pattern_read(&current) >= 0 && strcmp(current, h->ours) != 0) {
                log_warning("core_pattern was changed to '%s' while we ran; leaving it", current);
        } else if (h->pipe_limit_set) {
                r = core_pattern_restore_pipe(h->previous, h->pipe_limit_previous, h->pipe_limit_ours);
                if (r < 0)
                        log_error_errno(r, "cannot restore core_pattern '%s' and core_pipe_limit %u",
                                        h->previous, h->pipe_limit_previous);
                else
                        log_info("core_pattern restored to '%s', core_pipe_limit to %u", h->previous,
                                 h->pipe_limit_previous);
        } else {
                r = core_pattern_restore(h->previous);
                if (r < 0)
                        log_error_errno(r, "cannot restore core_pattern '%s'", h->previous);
                else
                        log_info("core_pattern restored to '%s'", h->previous);
        }
        fatal_armed = 0;
        (void) unlink(h->state_path);
}

void pattern_release(struct pattern_hold *h)
{
        if (!h->installed)
                return;
        h->installed = false;
        fatal_armed = 0;
        /* Whoever took over read it before writing theirs (adopt_previous); it keeps its own copy. */
        (void) unlink(h->state_path);
}

void pattern_hold_done(struct pattern_hold *h)
{
        free(h->previous);
        free(h->ours);
        free(h->state_path);
        *h = (struct pattern_hold){};
}

void pattern_check(const char *listen_path)
{
        _cleanup_free_ char *current = NULL;
        bool request = false;
        unsigned limit;

        if (!pattern_points_at(listen_path, &request)) {
                if (core_pattern_read(&current) >= 0)
                        log_warning("core_pattern is '%s', not this socket: no dump will arrive "
                                    "(--install-pattern sets it)",
                                    current);
                return;
        }
        /* "@" and pipes hold the task only while core_pipe_limit > 0; "@@" holds it through the ack. */
        if (!request && core_pattern_read_sysctl_uint(CORE_PIPE_LIMIT_SYSCTL, &limit) >= 0 && limit == 0)
                log_warning("plain or pipe mode with kernel.core_pipe_limit=0: a crashing task may be gone "
                            "before it is identified; set it to a value > 0");
}
