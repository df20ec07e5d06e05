/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"
#include "kernel/unix-listen.h"
#include "proxy/base/log.h"
#include "proxy/intake/pipe.h"
#include "proxy/protocol/pipe-handoff.h"

/*
 * How long the worker waits for the helper's commit once it said "taken":
 * the helper answers at once; only a helper that gave up does not.
 */
#define CLAIM_TIMEOUT (2 * USEC_PER_SEC)
/* An event line the helper spooled: as long as any line. */
#define SPOOLED_EVENT_MAX (64 * 1024)

/* The datagram's fds, in order. */
enum { FD_CHANNEL, FD_PIDFD, _FD_MAX };

int intake_pipe_open(const char *listen_path, char **ret_path)
{
        _cleanup_free_ char *path = NULL;
        int fd;

        if (asprintf(&path, "%s%s", listen_path, PIPE_INTAKE_SUFFIX) < 0)
                return -ENOMEM;
        /* Root only: whoever can send here hands the daemon a dump to act on. */
        fd = unix_bind(path, SOCK_DGRAM, 0600);
        if (fd < 0)
                return fd;
        *ret_path = TAKE_PTR(path);
        return fd;
}

/* The core pipe: a FIFO's read end, nothing else. */
static int check_pipe(int fd)
{
        struct stat st;
        int fl;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISFIFO(st.st_mode))
                return -EBADFD;
        fl = fcntl(fd, F_GETFL);
        if (fl < 0)
                return negative_errno();
        return (fl & O_ACCMODE) == O_RDONLY ? 0 : -EBADFD;
}

/* The reply channel: one end of an AF_UNIX SOCK_SEQPACKET pair. */
static int check_channel(int fd)
{
        int type = 0, domain = 0;
        socklen_t l1 = sizeof(type), l2 = sizeof(domain);

        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l1) < 0 ||
            getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) < 0)
                return negative_errno();
        return type == SOCK_SEQPACKET && domain == AF_UNIX ? 0 : -EBADFD;
}

/* The pidfd must name the kernel's %P: a helper cannot pass off another task as the crashed one. */
static int check_pidfd(int fd, uint32_t pid)
{
        pid_t p;
        int r = pidfd_proc_pid(fd, &p);

        if (r < 0)
                return r;
        return (uint32_t) p == pid ? 0 : -ESRCH;
}

static int check_handoff(const int *fds, size_t n, const struct pipe_facts *f)
{
        int r;

        if (n < FD_PIDFD || n > _FD_MAX)
                return -EPROTO;
        if ((n == _FD_MAX) != (f->pidfd_source != PIPE_PIDFD_NONE))
                return -EPROTO;
        r = check_channel(fds[FD_CHANNEL]);
        if (r >= 0 && n == _FD_MAX)
                r = check_pidfd(fds[FD_PIDFD], f->pid);
        return r;
}

int intake_pipe_receive(int intake_fd, struct proxy_setup *setup, struct dump **ret, pid_t *ret_pid)
{
        char buf[PIPE_HANDOFF_MAX + 1];
        int fds[_FD_MAX] = { -EBADF, -EBADF };
        struct pipe_facts f;
        struct dump *d = NULL;
        size_t n = 0;
        ssize_t k;
        int r;

        k = fdpass_recv(intake_fd, buf, sizeof(buf), fds, _FD_MAX, &n, MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        *ret_pid = 0;
        r = pipe_handoff_parse(buf, (size_t) k, &f);
        if (r >= 0) {
                *ret_pid = (pid_t) f.pid;
                r = check_handoff(fds, n, &f);
        }
        if (r >= 0)
                r = dump_new(-EBADF, n == _FD_MAX ? fds[FD_PIDFD] : -EBADF, (pid_t) f.pid, setup, &d);
        if (r < 0) {
                close_many(fds, n);
                return r;
        }
        /* The dump owns the pidfd now, the channel until the hand-off is settled; the pipe comes then. */
        d->mode = DUMP_MODE_PIPE;
        d->helper_fd = fds[FD_CHANNEL];
        d->pipe_signal = f.signal;
        d->pipe_dumpable = f.dumpable;
        dump_describe(d);
        *ret = d;
        return 0;
}

/* The commit: one byte and the core pipe. -EBADMSG for anything else (its fds closed). */
static int recv_commit(int channel, int *ret_pipe)
{
        _cleanup_close_ int pipe = -EBADF;
        char answer = 0;
        size_t n = 0;
        ssize_t k;

        k = fdpass_recv(channel, &answer, 1, &pipe, 1, &n, MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        if (k != 1 || answer != PIPE_COMMIT || n != 1 || check_pipe(pipe) < 0)
                return -EBADMSG;
        *ret_pipe = TAKE_FD(pipe);
        return 0;
}

int intake_pipe_claim(struct dump *d)
{
        char taken = PIPE_TAKEN;
        int pipe = -EBADF, r = -ECONNRESET;

        if (d->helper_fd < 0)
                return d->withdrawn ? -ECANCELED : 0; /* settled before */
        if (send(d->helper_fd, &taken, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) {
                (void) io_wait(d->helper_fd, POLLIN, MIN(d->deadline, io_now() + CLAIM_TIMEOUT));
                /*
                 * The decision point: after this a commit cannot be sent any more
                 * (the helper's send fails, and it keeps the dump), and one sent
                 * before is still read below. Without it a commit arriving as we
                 * close would leave the pipe to nobody.
                 */
                (void) shutdown(d->helper_fd, SHUT_RD);
                r = recv_commit(d->helper_fd, &pipe);
        }
        d->helper_fd = safe_close(d->helper_fd);
        if (r >= 0)
                d->fd = pipe;
        if (r < 0) {
                /* It gave up on us (or never heard): it reads the pipe now, we must not. */
                d->withdrawn = true;
                return -ECANCELED;
        }
        return 0;
}

void intake_pipe_withdraw(struct dump *d)
{
        d->helper_fd = safe_close(d->helper_fd);
        d->withdrawn = true;
}

int intake_pipe_identify(struct dump *d)
{
        struct task_identity *t = &d->task;
        pid_t pid = (pid_t) d->peer_pid;

        if (d->pidfd < 0) {
                /*
                 * The helper could not prove the task's identity (its pid may
                 * have been reused): only the kernel's own facts are known, and
                 * the dump is handled as a host dump of a vanished task.
                 */
                t->coredumped = true;
        } else {
                if (t->pid != 0 && t->pid != (uint32_t) pid)
                        return -ESRCH;
                /* 6.13-6.15 answer PIDFD_GET_INFO without the coredump mask: /proc tells. */
                if (!t->coredumped) {
                        struct cdp_pidfd_info info;
                        if (pidfd_proc_info(d->pidfd, PIDFD_INFO_COREDUMP, &info) >= 0)
                                t->coredumped = (info.coredump_mask & PIDFD_COREDUMPED) != 0;
                }
        }
        if (t->signal == 0)
                t->signal = d->pipe_signal;
        /* Before 6.16 the pidfd has no dumpability: %d, taken when the dump started, has it. */
        if (!(t->coredump_mask & (PIDFD_COREDUMP_SKIP | PIDFD_COREDUMP_USER | PIDFD_COREDUMP_ROOT))) {
                if (d->pipe_dumpable == 2)
                        t->coredump_mask |= PIDFD_COREDUMP_ROOT;
                else if (d->pipe_dumpable == 1)
                        t->coredump_mask |= PIDFD_COREDUMP_USER;
                else if (d->pipe_dumpable == 0)
                        t->coredump_mask |= PIDFD_COREDUMP_SKIP;
        }
        if (t->coredumped)
                t->coredump_mask |= PIDFD_COREDUMPED;
        return 0;
}

void intake_pipe_close(struct dump *d)
{
        /*
         * Only the dump's owner touches a pipe dump's fd (a stop signals the
         * task instead), so closing it here races with nobody.
         */
        d->fd = safe_close(d->fd);
}

int intake_pipe_write_settings(const char *listen_path, const struct config *c)
{
        struct pipe_settings s = {
                .store_directory = c->store_directory,
                .max_use = c->store_max_use,
                .keep_free = c->store_keep_free,
        };
        _cleanup_free_ char *path = NULL, *tmp = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t len;
        int r;

        r = pipe_settings_format(&s, &text, &len);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s%s", listen_path, PIPE_SETTINGS_SUFFIX) < 0 ||
            asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return negative_errno();
        r = io_write_all(fd, text, len);
        if (r >= 0 && fsync(fd) < 0)
                r = negative_errno();
        /* renameat: the sandbox has no rename(2), which glibc uses for rename(3). */
        if (r >= 0 && renameat(AT_FDCWD, tmp, AT_FDCWD, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* One spooled line: a single JSON object, as the helper wrote it. */
static bool spooled_line_valid(const char *s, size_t len)
{
        if (len > 0 && s[len - 1] == '\n')
                len--;
        return len >= 2 && s[0] == '{' && s[len - 1] == '}' && !memchr(s, '\n', len) && !memchr(s, 0, len);
}

static int read_spooled(int fd, size_t size, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = malloc(size + 1);
        size_t len = 0;

        if (!buf)
                return -ENOMEM;
        while (len < size) {
                ssize_t k = read(fd, buf + len, size - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int report_one(int dir_fd, const char *name, struct proxy_setup *setup, struct proxy_stats *stats)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *line = NULL;
        struct stat st;
        size_t len;
        int r;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > SPOOLED_EVENT_MAX)
                r = -EBADMSG;
        else
                r = read_spooled(fd, (size_t) st.st_size, &line, &len);
        if (r >= 0 && !spooled_line_valid(line, len))
                r = -EBADMSG;
        if (r < 0) {
                log_warning("%s/%s/%s: not an event line, dropped", setup->config->store_directory,
                            PIPE_UNREPORTED_DIR, name);
                (void) unlinkat(dir_fd, name, 0);
                return r;
        }
        if (line[len - 1] == '\n')
                line[--len] = 0;
        log_warning("%s: a crash while the daemon did not answer: coredump-proxy-pipe stored it", name);
        if (stats)
                stats_count(stats, OUTCOME_STORED, REASON_DAEMON_UNAVAILABLE);
        r = event_log_submit(setup->events, TAKE_PTR(line), len);
        /* Reported once: the line is queued, or counted as dropped like any other. */
        (void) unlinkat(dir_fd, name, 0);
        return r;
}

int intake_pipe_report_unseen(struct proxy_setup *setup, struct proxy_stats *stats)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        int fd, n = 0;

        if (asprintf(&path, "%s/%s", setup->config->store_directory, PIPE_UNREPORTED_DIR) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : negative_errno();
        dir = fdopendir(fd);
        if (!dir) {
                safe_close(fd);
                return -ENOMEM;
        }
        /* Ids sort by time: report them in the order they happened. */
        struct dirent **names = NULL;
        int count = scandirat(dirfd(dir), ".", &names, NULL, alphasort);
        for (int i = 0; i < count; i++) {
                if (names[i]->d_name[0] != '.' &&
                    report_one(dirfd(dir), names[i]->d_name, setup, stats) >= 0)
                        n++;
                free(names[i]);
        }
        free(names);
        return count < 0 ? negative_errno() : n;
}
