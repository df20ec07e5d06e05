/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
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

#include "kernel/cleanup.h"
#include "proxy/base/caps.h"
#include "proxy/base/log.h"
#include "proxy/store/internal.h"
#include "proxy/store/upload.h"

/* Output of a command kept for its log line. */
#define OUTPUT_MAX 2048

struct job {
        char *msg; /* NUL-separated fields */
        size_t len;
        char id[STORE_ID_MAX + 1];
};

struct running {
        struct job job;
        pid_t pid;
        int pidfd, out;
        usec_t deadline;
        bool killed;
        char output[OUTPUT_MAX + 1];
        size_t n_output;
};

struct runner {
        const struct upload_options *o;
        int dir_fd;
        struct job queue[UPLOAD_QUEUE_MAX];
        size_t n_queued;
        struct running *run;
        size_t n_running;
};

int upload_submit(int fd, const char *const *fields, size_t n)
{
        char buf[UPLOAD_MSG_MAX];
        size_t len = 0;

        for (size_t i = 0; i < n; i++) {
                size_t k = strlen(fields[i]) + 1;
                if (len + k > sizeof(buf))
                        return -EMSGSIZE;
                memcpy(buf + len, fields[i], k);
                len += k;
        }
        struct iovec iov = { .iov_base = buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        /* sendmsg: what the collector's seccomp filter allows for sending. */
        if (sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
                return negative_errno();
        return 0;
}

/* Whether PATH is DIR/ID followed by one of the suffixes (a NULL-terminated list). */
static bool path_of_dump(const char *path, const char *dir, const char *id, const char *const *suffixes)
{
        size_t d = strlen(dir), i = strlen(id);

        if (strncmp(path, dir, d) != 0 || path[d] != '/' || strncmp(path + d + 1, id, i) != 0)
                return false;
        for (; *suffixes; suffixes++)
                if (strcmp(path + d + 1 + i, *suffixes) == 0)
                        return true;
        return false;
}

/*
 * CDP_ID of a request, checked like a store id: removal names files by it.
 * The paths the command is given must be that dump's, beneath the store: the
 * runner is not confined, and a compromised daemon must not make an
 * administrator's hook upload or remove another file.
 */
static bool job_parse(const struct upload_options *o, struct job *j)
{
        static const char *const core_suffixes[] = { ".core", ".core.zst", NULL };
        static const char *const meta_suffixes[] = { ".json", NULL };
        const char *core = NULL, *meta = NULL;

        for (size_t off = 0; off < j->len;) {
                const char *f = j->msg + off;
                size_t k = strnlen(f, j->len - off);
                if (k == j->len - off || strncmp(f, "CDP_", 4) != 0 || !strchr(f, '='))
                        return false; /* every field NUL-terminated and ours */
                if (strncmp(f, "CDP_ID=", 7) == 0 && k - 7 <= STORE_ID_MAX)
                        memcpy(j->id, f + 7, k - 7 + 1);
                else if (strncmp(f, "CDP_CORE=", 9) == 0)
                        core = f + 9;
                else if (strncmp(f, "CDP_METADATA=", 13) == 0)
                        meta = f + 13;
                off += k + 1;
        }
        if (!store_id_valid(j->id))
                return false;
        return (!core || path_of_dump(core, o->directory, j->id, core_suffixes)) &&
               (!meta || path_of_dump(meta, o->directory, j->id, meta_suffixes));
}

static void child_exec(const struct upload_options *o, const struct job *j, int out)
{
        char *env[UPLOAD_FIELDS_MAX + 2];
        size_t n = 0;

        env[n++] = (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (size_t off = 0; off < j->len && n < UPLOAD_FIELDS_MAX + 1; off += strlen(j->msg + off) + 1)
                env[n++] = j->msg + off;
        env[n] = NULL;
        /* Its own process group, killed whole at the time limit. */
        (void) setpgid(0, 0);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
                _exit(127);
        sigset_t all;
        sigemptyset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
        signal(SIGPIPE, SIG_DFL);
        execle("/bin/sh", "sh", "-c", o->command, (char *) NULL, env);
        _exit(127);
}

static int spawn(struct runner *r, struct job *j)
{
        _cleanup_close_ int out_r = -EBADF, out_w = -EBADF;
        struct running *x = &r->run[r->n_running];
        int p[2];
        pid_t pid;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        out_r = p[0];
        out_w = p[1];
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child_exec(r->o, j, out_w);
        *x = (struct running){
                .job = *j, .pid = pid, .out = TAKE_FD(out_r), .deadline = io_now() + r->o->timeout
        };
        x->pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (x->pidfd < 0) {
                /* Cannot watch it: kill and reap it now, and say so. */
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                safe_close(x->out);
                return -errno;
        }
        (void) fcntl(x->out, F_SETFL, O_NONBLOCK);
        *j = (struct job){};
        r->n_running++;
        log_info("upload %s: started (pid %d)", x->job.id, (int) pid);
        return 0;
}

static void drain(struct running *x)
{
        char buf[1024];
        ssize_t k;

        while ((k = read(x->out, buf, sizeof(buf))) > 0) {
                size_t m = MIN((size_t) k, OUTPUT_MAX - x->n_output);
                memcpy(x->output + x->n_output, buf, m);
                x->n_output += m;
        }
}

static void remove_dump(struct runner *r, const char *id)
{
        static const char *const suffixes[] = { ".core.zst", ".core", ".json" };
        char name[NAME_MAX_LEN];

        for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
                (void) snprintf(name, sizeof(name), "%s%s", id, suffixes[i]);
                if (unlinkat(r->dir_fd, name, 0) < 0 && errno != ENOENT)
                        log_warning("upload %s: cannot remove %s: %m", id, name);
        }
}

/* The command ended: its status and output logged, the dump removed when asked and it succeeded. */
static void finish(struct runner *r, size_t i)
{
        struct running *x = &r->run[i];
        int status = 0;

        drain(x);
        (void) waitpid(x->pid, &status, 0);
        for (size_t k = 0; k < x->n_output; k++)
                if (x->output[k] == '\n' || (unsigned char) x->output[k] < 0x20)
                        x->output[k] = ' ';
        x->output[x->n_output] = '\0';
        bool ok = !x->killed && WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (x->killed)
                log_warning("upload %s: killed after %llu s; dump kept; output: %s", x->job.id,
                            (unsigned long long) (r->o->timeout / USEC_PER_SEC), x->output);
        else if (WIFEXITED(status))
                log_message(ok ? LOG_LEVEL_INFO : LOG_LEVEL_WARNING,
                            "upload %s: exit status %d%s; output: %s", x->job.id, WEXITSTATUS(status),
                            ok ? "" : "; dump kept", x->output);
        else
                log_warning("upload %s: killed by signal %d; dump kept; output: %s", x->job.id,
                            WIFSIGNALED(status) ? WTERMSIG(status) : 0, x->output);
        if (ok && r->o->remove) {
                remove_dump(r, x->job.id);
                log_info("upload %s: dump removed", x->job.id);
        }
        free(x->job.msg);
        safe_close(x->pidfd);
        safe_close(x->out);
        r->run[i] = r->run[--r->n_running];
}

static void receive(struct runner *r, int fd, bool *eof)
{
        char buf[UPLOAD_MSG_MAX];
        ssize_t k = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
                *eof = true;
                return;
        }
        if (k < 0)
                return;
        if ((size_t) k > sizeof(buf) || r->n_queued >= UPLOAD_QUEUE_MAX) {
                log_warning("upload: request dropped (%s)",
                            (size_t) k > sizeof(buf) ? "too long" : "queue full");
                return;
        }
        struct job j = { .msg = malloc((size_t) k), .len = (size_t) k };
        if (!j.msg)
                return;
        memcpy(j.msg, buf, (size_t) k);
        if (!job_parse(r->o, &j)) {
                log_warning("upload: malformed request dropped");
                free(j.msg);
                return;
        }
        r->queue[r->n_queued++] = j;
}

/* Starts what the concurrency bound allows, oldest first. */
static void start_queued(struct runner *r)
{
        while (r->n_queued > 0 && r->n_running < r->o->max_running) {
                struct job j = r->queue[0];
                memmove(r->queue, r->queue + 1, (r->n_queued - 1) * sizeof(r->queue[0]));
                r->n_queued--;
                int e = spawn(r, &j);
                if (e < 0) {
                        log_error("upload %s: cannot run the command: %s", j.id, strerror(-e));
                        free(j.msg);
                }
        }
}

static void kill_overdue(struct runner *r, usec_t now)
{
        for (size_t i = 0; i < r->n_running; i++)
                if (!r->run[i].killed && now >= r->run[i].deadline) {
                        (void) kill(-r->run[i].pid, SIGKILL);
                        (void) kill(r->run[i].pid, SIGKILL);
                        r->run[i].killed = true;
                }
}

static int wait_events(struct runner *r, int fd, bool eof)
{
        struct pollfd p[1 + 2 * UPLOAD_QUEUE_MAX];
        usec_t now = io_now(), next = USEC_INFINITY;
        size_t n = 0;
        int timeout = -1;

        if (!eof)
                p[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
        for (size_t i = 0; i < r->n_running; i++) {
                p[n++] = (struct pollfd){ .fd = r->run[i].pidfd, .events = POLLIN };
                p[n++] = (struct pollfd){ .fd = r->run[i].out, .events = POLLIN };
                if (!r->run[i].killed)
                        next = MIN(next, r->run[i].deadline);
        }
        if (next != USEC_INFINITY)
                timeout = next > now ? (int) ((next - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC) : 0;
        if (poll(p, n, timeout) < 0 && errno != EINTR)
                return negative_errno();
        return 0;
}

int upload_run(const struct upload_options *o, int fd)
{
        struct runner r = { .o = o };
        bool eof = false;
        int e = 0;

        r.dir_fd = open(o->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.dir_fd < 0)
                return log_error_errno(errno, "upload: cannot open %s", o->directory);
        r.run = calloc(MAX(o->max_running, 1u), sizeof(*r.run));
        if (!r.run) {
                safe_close(r.dir_fd);
                return log_oom();
        }
        while (!eof || r.n_running > 0 || r.n_queued > 0) {
                e = wait_events(&r, fd, eof);
                if (e < 0)
                        break;
                if (!eof)
                        receive(&r, fd, &eof);
                for (size_t i = 0; i < r.n_running;) {
                        struct pollfd pf = { .fd = r.run[i].pidfd, .events = POLLIN };
                        drain(&r.run[i]);
                        if (poll(&pf, 1, 0) == 1) {
                                finish(&r, i);
                                continue;
                        }
                        i++;
                }
                kill_overdue(&r, io_now());
                start_queued(&r);
        }
        for (size_t i = 0; i < r.n_queued; i++)
                free(r.queue[i].msg);
        safe_close(r.dir_fd);
        free(r.run);
        return e;
}

int upload_start(const struct upload_options *o, int *ret_fd, pid_t *ret_pid)
{
        int sv[2];
        pid_t pid;

        if (!o->command || !o->directory || o->max_running == 0 || o->max_running > UPLOAD_QUEUE_MAX)
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
                (void) prctl(PR_SET_NAME, "cdp-upload");
                /*
                 * Forked before the daemon confines itself, it must not keep what
                 * the daemon has: no fd but its socket (and stdio), no capability
                 * (the bounding set too, so that a root command execs without
                 * any), no gaining them through a setuid program. Its commands
                 * read and remove the store's files as their owner.
                 */
                if ((sv[1] > 3 && close_range(3, (unsigned) sv[1] - 1, 0) < 0) ||
                    close_range((unsigned) sv[1] + 1, ~0U, 0) < 0)
                        _exit(EXIT_FAILURE);
                if (caps_reduce_all() < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                        log_error("upload: cannot drop privileges; no command runs");
                        _exit(EXIT_FAILURE);
                }
                /* Its parent gone, it finishes what runs (EOF on the socket) and ends. */
                _exit(upload_run(o, sv[1]) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        }
        close(sv[1]);
        *ret_fd = sv[0];
        *ret_pid = pid;
        return 0;
}
