/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/jsonc.h"
#include "kernel/cleanup.h"
#include "proxy/base/caps.h"
#include "proxy/base/fault.h"
#include "proxy/base/jsonr.h"
#include "proxy/base/jsonw.h"
#include "proxy/base/log.h"
#include "proxy/store/internal.h"
#include "proxy/store/summarize.h"

#ifndef LIBEXECDIR
#define LIBEXECDIR "/usr/local/libexec"
#endif

#define METADATA_MAX (1024 * 1024)

struct outcome {
        char *text; /* the summary object as printed, or NULL */
        size_t len;
        const char *status; /* when text is NULL: "failed" or "timeout" */
        char error[160];
};

int summarize_program_path(char **ret)
{
        char self[PATH_MAX];
        char *p = NULL;
        ssize_t k;

        k = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (k > 0) {
                self[k] = 0;
                if (asprintf(&p, "%s/%s", dirname(self), SUMMARY_PROGRAM_NAME) < 0)
                        return -ENOMEM;
                if (access(p, X_OK) == 0) {
                        *ret = p;
                        return 0;
                }
                free(p);
        }
        if (access(LIBEXECDIR "/coredump-proxy/" SUMMARY_PROGRAM_NAME, X_OK) < 0)
                return negative_errno();
        p = strdup(LIBEXECDIR "/coredump-proxy/" SUMMARY_PROGRAM_NAME);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int summarize_submit(int fd, const char *id)
{
        struct iovec iov = { .iov_base = (void *) id, .iov_len = strlen(id) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        /* sendmsg: what the collector's seccomp filter allows for sending. */
        if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}

static int open_core(int dir_fd, const char *id)
{
        char name[NAME_MAX_LEN];
        int fd;

        (void) snprintf(name, sizeof(name), "%s.core.zst", id);
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0 || errno != ENOENT)
                return fd >= 0 ? fd : negative_errno();
        (void) snprintf(name, sizeof(name), "%s.core", id);
        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        return fd >= 0 ? fd : negative_errno();
}

/* The child: the core on stdin, the pipe on stdout, nothing on stderr; the program confines itself. */
static void child_exec(const char *program, int core, int out)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);

        (void) setpgid(0, 0);
        if (null < 0 || dup2(core, 0) < 0 || dup2(out, 1) < 0 || dup2(null, 2) < 0)
                _exit(127);
        (void) fcntl(0, F_SETFL, 0);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        execl(program, SUMMARY_PROGRAM_NAME, (char *) NULL);
        _exit(127);
}

/* Reads the child's output until EOF and its exit, or the deadline: then it is killed. */
static void kill_group(pid_t pid)
{
        (void) kill(-pid, SIGKILL);
        (void) kill(pid, SIGKILL);
}

static void read_some(int out, char *buf, size_t *n, bool *eof, bool *overflow)
{
        ssize_t k;

        if (*n > SUMMARY_OUTPUT_MAX) {
                *overflow = *eof = true; /* it is killed: a summary never gets that long */
                return;
        }
        k = read(out, buf + *n, SUMMARY_OUTPUT_MAX + 1 - *n);
        if (k > 0)
                *n += (size_t) k;
        else if (k == 0 || (errno != EAGAIN && errno != EINTR))
                *eof = true;
}

static void collect(struct outcome *res, pid_t pid, int pidfd, int out, usec_t deadline)
{
        char *buf = malloc(SUMMARY_OUTPUT_MAX + 1);
        size_t n = 0;
        bool eof = false, exited = false, killed = false, overflow = false;
        int status = 0;

        while (buf && !exited) {
                struct pollfd p[2] = { { .fd = pidfd, .events = POLLIN },
                                       { .fd = eof ? -1 : out, .events = POLLIN } };
                usec_t now = io_now();
                if ((now >= deadline || overflow) && !killed) {
                        kill_group(pid);
                        killed = true;
                }
                int timeout = killed ? -1 : (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
                if (poll(p, 2, timeout) < 0 && errno != EINTR)
                        break;
                if (!eof && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
                        read_some(out, buf, &n, &eof, &overflow);
                if (p[0].revents & POLLIN) {
                        /* Exited: what is left in the pipe is read without waiting for more. */
                        (void) fcntl(out, F_SETFL, O_NONBLOCK);
                        while (!eof)
                                read_some(out, buf, &n, &eof, &overflow);
                        exited = true;
                }
        }
        if (!exited)
                kill_group(pid); /* no buffer, or poll failed: it must not outlive its limit */
        (void) waitpid(pid, &status, 0);
        if (overflow || !buf) {
                res->status = "failed";
                (void) snprintf(res->error, sizeof(res->error), "output %s", buf ? "too long" : "not read");
        } else if (killed) {
                res->status = "timeout";
                (void) snprintf(res->error, sizeof(res->error), "killed at the time limit");
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                res->status = "failed";
                (void) snprintf(res->error, sizeof(res->error), "%s %d",
                                WIFSIGNALED(status) ? "killed by signal" : "exit status",
                                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
        } else {
                res->text = TAKE_PTR(buf);
                res->len = n;
        }
        free(buf);
}

/* What the program printed is checked like anything else from a process that read hostile input. */
static void check_output(struct outcome *res)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        const char *status;

        if (!res->text)
                return;
        if (jsonr_parse(res->text, res->len, SUMMARY_OUTPUT_MAX, 4, json_type_object, &o) < 0 ||
            jsonr_string(o, "status", 16, &status, NULL) != 1 ||
            (strcmp(status, "ok") != 0 && strcmp(status, "partial") != 0 && strcmp(status, "failed") != 0)) {
                free(res->text);
                res->text = NULL;
                res->status = "failed";
                (void) snprintf(res->error, sizeof(res->error), "malformed output");
        }
}

static int run_one(const struct summarize_options *o, int dir_fd, const char *id, struct outcome *res)
{
        _cleanup_close_ int core = -EBADF, out_r = -EBADF, out_w = -EBADF, pidfd = -EBADF;
        int p[2];
        pid_t pid;

        core = open_core(dir_fd, id);
        if (core < 0)
                return core;
        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        out_r = p[0];
        out_w = p[1];
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child_exec(o->program, core, out_w);
        out_w = safe_close(out_w);
        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                int e = negative_errno();
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return e;
        }
        usec_t timeout = o->timeout;
        if (fault_value("summary-timeout-ms") > 0) /* the timeout test need not wait 10 s */
                timeout = fault_value("summary-timeout-ms") * USEC_PER_MSEC;
        collect(res, pid, pidfd, out_r, io_now() + timeout);
        check_output(res);
        return 0;
}

/* <id>.json with "summary" added: a new file renamed over the old one, never a half-written one. */
static int merge(int dir_fd, const char *id, const char *summary, size_t len)
{
        _cleanup_(json_object_putp) struct json_object *o = NULL;
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        char name[NAME_MAX_LEN + 16], temp[NAME_MAX_LEN + 16];
        size_t n;
        int r;

        (void) snprintf(name, sizeof(name), "%s.json", id);
        (void) snprintf(temp, sizeof(temp), ".%s.json.partial", id);
        r = jsonr_read_text(dir_fd, name, METADATA_MAX, &text, &n);
        if (r < 0)
                return r;
        r = jsonr_parse(text, n, METADATA_MAX, 64, json_type_object, &o);
        if (r < 0)
                return r;
        if (json_object_object_get_ex(o, "summary", NULL))
                return -EEXIST;
        while (n > 0 && text[n - 1] != '}')
                n--;
        r = store_create_temp(dir_fd, temp, &fd);
        if (r < 0)
                return r;
        bool empty = text[strspn(text, " \t\r\n{")] == '}';
        if (dprintf(fd, "%.*s%s\"summary\":%.*s}\n", (int) (n - 1), text, empty ? "" : ",", (int) len,
                    summary) < 0 ||
            fsync(fd) < 0 || renameat(dir_fd, temp, dir_fd, name) < 0) {
                r = negative_errno();
                (void) unlinkat(dir_fd, temp, 0);
                return r;
        }
        /* Removed meanwhile (the quota, an upload hook's remove): no metadata without its core. */
        (void) snprintf(temp, sizeof(temp), "%s.core.zst", id);
        bool gone = store_file_exists(dir_fd, temp) == 0;
        (void) snprintf(temp, sizeof(temp), "%s.core", id);
        if (gone && store_file_exists(dir_fd, temp) == 0) {
                (void) unlinkat(dir_fd, name, 0);
                return -ENOENT;
        }
        return 0;
}

static void summarize_one(const struct summarize_options *o, int dir_fd, const char *id)
{
        struct outcome res = {};
        _cleanup_free_ char *fallback = NULL;
        usec_t started = io_now();
        int r;

        r = run_one(o, dir_fd, id, &res);
        if (r < 0) {
                res.status = "failed";
                (void) snprintf(res.error, sizeof(res.error), "cannot run: %s", strerror(-r));
        }
        if (!res.text) {
                struct jsonw w;
                jsonw_init(&w);
                jsonw_object_begin(&w);
                jsonw_kv_string(&w, "status", res.status);
                jsonw_kv_string(&w, "error", res.error);
                jsonw_object_end(&w);
                if (jsonw_finish(&w, &fallback, &res.len) < 0)
                        return;
        }
        r = merge(dir_fd, id, res.text ? res.text : fallback, res.len);
        if (r < 0)
                log_warning("summary %s: not added to %s.json: %s", id, id, strerror(-r));
        else
                log_info("summary %s: %s%s%s (%llu ms)", id, res.text ? "done" : res.status,
                         res.text ? "" : ": ", res.text ? "" : res.error,
                         (unsigned long long) ((io_now() - started) / USEC_PER_MSEC));
        free(res.text);
}

int summarize_run(const struct summarize_options *o, int fd)
{
        _cleanup_close_ int dir_fd = open(o->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char id[STORE_ID_MAX + 2];

        if (dir_fd < 0)
                return log_error_errno(errno, "summary: cannot open %s", o->directory);
        for (;;) {
                ssize_t k = recv(fd, id, sizeof(id) - 1, MSG_TRUNC);
                if (k == 0)
                        return 0;
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if ((size_t) k >= sizeof(id) - 1 || (id[k] = 0, !store_id_valid(id))) {
                        log_warning("summary: malformed request dropped");
                        continue;
                }
                summarize_one(o, dir_fd, id);
        }
}

int summarize_start(const struct summarize_options *o, int *ret_fd, pid_t *ret_pid)
{
        int sv[2];
        pid_t pid;

        if (!o->program || !o->directory || o->timeout == 0)
                return -EINVAL;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return negative_errno();
        pid = fork();
        if (pid < 0) {
                int e = negative_errno();
                close(sv[0]);
                close(sv[1]);
                return e;
        }
        if (pid == 0) {
                close(sv[0]);
                (void) prctl(PR_SET_NAME, "cdp-summary");
                /*
                 * Forked before the daemon confines itself, it parses what an
                 * untrusted program printed: it keeps no fd but its socket (and
                 * stdio), and of its capabilities only those the summary program
                 * needs to become nobody and CAP_KILL, to end it at its time limit
                 * once it is nobody's; no_new_privs, so that the program execs with
                 * no more.
                 */
                if ((sv[1] > 3 && close_range(3, (unsigned) sv[1] - 1, 0) < 0) ||
                    close_range((unsigned) sv[1] + 1, ~0U, 0) < 0)
                        _exit(EXIT_FAILURE);
                if (caps_reduce_to(CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID) | CAP_BIT(CAP_KILL)) < 0 ||
                    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                        log_error("summary: cannot drop privileges; no summary is made");
                        _exit(EXIT_FAILURE);
                }
                _exit(summarize_run(o, sv[1]) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        close(sv[1]);
        *ret_fd = sv[0];
        *ret_pid = pid;
        return 0;
}
