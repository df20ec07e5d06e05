/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Why a process of its own rather than Landlock alone with core_pattern
 * opened before the sandbox: a daemon that holds a writable core_pattern fd
 * can still write "|/anything" through it once compromised. The keeper is
 * out of reach: it shares no memory with the daemon, reads fixed-size
 * requests from it and never writes anything the daemon sends. It stays in
 * the mount namespace it was started in: the kernel takes a socket pattern
 * only from the initial one. Because it outlives the daemon, it also
 * repairs what a crash or a SIGKILL of the daemon would otherwise leave:
 * core_pattern pointing at a socket nobody serves.
 *
 * It has a second job because of Landlock: a confined process fails every
 * ptrace access check on a task outside its domain, and the daemon needs a
 * few of those per dump (a task's network namespace, root, exe, signal).
 * The keeper is not confined by Landlock and answers them
 * (proxy/base/procaccess.c), so it runs with or without --install-pattern.
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/caps.h"
#include "proxy/base/log.h"
#include "proxy/base/procaccess.h"
#include "proxy/base/sandbox.h"
#include "kernel/core-pattern.h"
#include "proxy/daemon/hostmnt.h"
#include "proxy/daemon/keeper.h"
#include "proxy/daemon/mode.h"
#include "proxy/daemon/pattern.h"

/* Requests, one byte each, daemon to keeper. */
#define KEEPER_INSTALL 'I'
#define KEEPER_RESTORE 'R'
/* Writing a sysctl and a small file: anything slower means the keeper is gone. */
#define KEEPER_TIMEOUT (5 * USEC_PER_SEC)
/*
 * How often the keeper looks whether core_pattern is still ours (inotify
 * does not see sysctl writes): a new instance that took it over meanwhile
 * gets the crashes; this one only has to notice before it is stopped.
 */
#define TAKEOVER_POLL_MS 1000

struct keeper_reply {
        int32_t error; /* 0 or -errno */
};

struct keeper {
        const struct keeper_params *params;
        pid_t daemon;
        int link;   /* pattern requests; -EBADF once the daemon closed its end */
        int broker; /* procaccess requests; the same */
        int signal_fd;
        bool install_asked;
        bool taken_over; /* core_pattern was taken over: the daemon was told to stop */
        struct pattern_hold hold;
};

/* ---- the keeper ------------------------------------------------------------ */

/*
 * Only CAP_SYS_PTRACE (for the daemon's ptrace-checked questions; uid 0
 * may write core_pattern and its own directory without a capability), and
 * a seccomp allowlist of what the loop below calls. Not Landlock: it would
 * fail the very ptrace checks the keeper is there to pass.
 */
static int confine(struct keeper *k)
{
        int r;

        r = caps_reduce_keeper();
        if (r < 0)
                return log_error_errno(r, "keeper: cannot drop capabilities");
        r = sandbox_apply_keeper(k->daemon);
        if (r < 0)
                return log_error_errno(r, "keeper: cannot install the seccomp filter");
        return 0;
}

static void on_message(struct keeper *k)
{
        struct keeper_reply reply = {};
        char c;
        ssize_t n = recv(k->link, &c, sizeof(c), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* The daemon is ending: its exit status comes with SIGCHLD. */
                k->link = safe_close(k->link);
                return;
        }
        switch (c) {
        case KEEPER_INSTALL:
                /*
                 * Only with --install-pattern, and once: at start-up, before the
                 * daemon has read anything from outside.
                 */
                if (!k->params->install) {
                        reply.error = -EPERM;
                        break;
                }
                if (k->install_asked) {
                        reply.error = -EALREADY;
                        break;
                }
                k->install_asked = true;
                reply.error = mode_install_pattern(&k->hold, k->params->listen_path, k->params->protocol,
                                                   k->params->pipe_helper, k->params->pipe_limit);
                break;
        case KEEPER_RESTORE:
                pattern_restore(&k->hold);
                break;
        default:
                reply.error = -EBADMSG;
                break;
        }
        (void) send(k->link, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Returns 1 once the daemon has ended (its wait status in *ret_status). */
static int on_signals(struct keeper *k, int *ret_status)
{
        struct signalfd_siginfo si;

        while (read(k->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo != SIGCHLD) {
                        (void) kill(k->daemon, (int) si.ssi_signo);
                        continue;
                }
                if (waitpid(k->daemon, ret_status, WNOHANG) == k->daemon)
                        return 1;
        }
        return 0;
}

/*
 * Someone else's pattern is in force: in a rollout, the new instance's.
 * The crashes go there now; ours finish the dumps in flight (the daemon's
 * stop drains what the kernel queued before the switch) and end without
 * writing anything: a restore would take the pattern back from the new one.
 */
static void check_takeover(struct keeper *k)
{
        _cleanup_free_ char *current = NULL;

        if (!k->hold.installed || k->taken_over || core_pattern_read(&current) < 0 ||
            strcmp(current, k->hold.ours) == 0)
                return;
        log_warning("core_pattern is now '%s': taken over (by another coredump-proxy, or by hand); "
                    "finishing the dumps in flight and stopping without restoring",
                    current);
        pattern_release(&k->hold);
        k->taken_over = true;
        (void) kill(k->daemon, SIGTERM);
}

/*
 * --on-takeover=wait: after a takeover the daemon is gone but the keeper
 * stays until it is stopped. In a DaemonSet a container that ends on its
 * own is restarted, and the restarted instance would take the pattern back
 * from the new pod; the old pod ends when the rollout deletes it.
 */
static int wait_to_be_stopped(struct keeper *k)
{
        struct signalfd_siginfo si;

        log_info("taken over: the daemon has stopped; waiting for SIGTERM (--on-takeover=wait)");
        for (;;) {
                struct pollfd p = { .fd = k->signal_fd, .events = POLLIN };

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return log_error_errno(errno, "keeper: poll");
                while (read(k->signal_fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                                return 0;
        }
}

static int serve(struct keeper *k, int *ret_status)
{
        for (;;) {
                /* A closed end (-EBADF) is ignored by poll. */
                struct pollfd p[3] = {
                        { .fd = k->signal_fd, .events = POLLIN },
                        { .fd = k->link, .events = POLLIN },
                        { .fd = k->broker, .events = POLLIN },
                };

                if (poll(p, ARRAY_SIZE(p), k->hold.installed ? TAKEOVER_POLL_MS : -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return log_error_errno(errno, "keeper: poll");
                }
                check_takeover(k);
                if (p[0].revents && on_signals(k, ret_status) > 0)
                        return 0;
                if (p[1].revents)
                        on_message(k);
                if (p[2].revents && procaccess_serve(k->broker) == -EPIPE)
                        k->broker = safe_close(k->broker);
        }
}

/* The keeper ends as the daemon did: with its exit status, or killed by its signal. */
static int end_like(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status)) {
                int sig = WTERMSIG(status);
                sigset_t s;

                sigemptyset(&s);
                sigaddset(&s, sig);
                (void) signal(sig, SIG_DFL);
                (void) sigprocmask(SIG_UNBLOCK, &s, NULL);
                /* Non-dumpable since main(): no core of the keeper. */
                (void) raise(sig);
                return 128 + sig;
        }
        return EXIT_FAILURE;
}

static _noreturn_ void run_daemon(int fd, int broker, pid_t keeper, const sigset_t *mask,
                                  keeper_daemon_fn fn, void *userdata)
{
        struct keeper_link l = { .fd = fd, .broker = broker, .pid = keeper };

        (void) sigprocmask(SIG_SETMASK, mask, NULL);
        /* Never outlive the keeper: nobody else would give the pattern back when we end. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != keeper)
                _exit(EXIT_FAILURE);
        exit(fn(&l, userdata));
}

int keeper_run(const struct keeper_params *p, keeper_daemon_fn fn, void *userdata)
{
        struct keeper k = {
                .params = p,
                .link = -EBADF,
                .broker = -EBADF,
                .signal_fd = -EBADF,
        };
        sigset_t mask, old;
        int sv[2], bv[2], status = 0, r;
        pid_t self = getpid();

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        /* Blocked before the fork: a SIGTERM that comes before the loop runs is not lost. */
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return log_error_errno(errno, "sigprocmask"), EXIT_FAILURE;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return log_error_errno(errno, "socketpair"), EXIT_FAILURE;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, bv) < 0) {
                close_many(sv, 2);
                return log_error_errno(errno, "socketpair"), EXIT_FAILURE;
        }

        k.daemon = fork();
        if (k.daemon < 0) {
                close_many(sv, 2);
                close_many(bv, 2);
                return log_error_errno(errno, "fork"), EXIT_FAILURE;
        }
        if (k.daemon == 0) {
                safe_close(sv[0]);
                safe_close(bv[0]);
                run_daemon(sv[1], bv[1], self, &old, fn, userdata);
        }
        safe_close(sv[1]);
        safe_close(bv[1]);
        k.link = sv[0];
        k.broker = bv[0];

        /* Before confine(): entering the host's mount namespace takes capabilities we drop there. */
        if (p->install)
                (void) hostmnt_start();
        k.signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (k.signal_fd < 0)
                r = log_error_errno(errno, "keeper: signalfd");
        else
                r = confine(&k);
        if (r >= 0)
                r = serve(&k, &status);
        if (r < 0) {
                /* Without its keeper the daemon must not serve: nobody would restore the pattern. */
                (void) kill(k.daemon, SIGKILL);
                (void) waitpid(k.daemon, NULL, 0);
        }

        pattern_restore(&k.hold);
        pattern_hold_done(&k.hold);
        hostmnt_stop();
        if (r >= 0 && k.taken_over && p->wait_after_takeover)
                r = wait_to_be_stopped(&k);
        safe_close(k.link);
        safe_close(k.broker);
        safe_close(k.signal_fd);
        return r < 0 ? EXIT_FAILURE : end_like(status);
}

/* ---- the daemon's side ------------------------------------------------------- */

static int ask(struct keeper_link *l, char request)
{
        struct keeper_reply reply;
        ssize_t n;
        int r;

        if (send(l->fd, &request, sizeof(request), MSG_NOSIGNAL) != (ssize_t) sizeof(request))
                return negative_errno();
        r = io_wait(l->fd, POLLIN, io_now() + KEEPER_TIMEOUT);
        if (r < 0)
                return r;
        n = recv(l->fd, &reply, sizeof(reply), MSG_DONTWAIT | MSG_TRUNC);
        if (n < 0)
                return negative_errno();
        if (n != (ssize_t) sizeof(reply))
                return -EPROTO;
        return reply.error > 0 ? -EPROTO : reply.error;
}

int keeper_install(struct keeper_link *l)
{
        int r = ask(l, KEEPER_INSTALL);

        if (r == -ETIMEDOUT || r == -EPIPE || r == -ECONNRESET || r == -EPROTO)
                return log_error_errno(r, "no answer from the keeper about core_pattern");
        /* Otherwise the keeper said why it could not. */
        if (r < 0)
                return r;
        l->installed = true;
        return 0;
}

void keeper_restore(struct keeper_link *l)
{
        int r;

        if (l->fd < 0 || !l->installed)
                return;
        l->installed = false;
        r = ask(l, KEEPER_RESTORE);
        if (r < 0)
                log_warning_errno(r, "no answer from the keeper; it restores core_pattern when we exit");
}

bool keeper_signal_counts(const struct keeper_link *l, pid_t sender)
{
        return l->fd < 0 || sender == l->pid;
}
