/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-proxy-hook [--config FILE] STAGE
 *
 * An OCI runtime hook (crun, runc, podman and CRI-O through hooks.d,
 * containerd through its base runtime spec): STAGE is the hook's name, the
 * container's state (runtime-spec "State") is on stdin. At createRuntime
 * (or prestart, its older name) it registers the container with the
 * daemon over the control socket, passing the container process's pidfd so
 * that the daemon can check which cgroup it is in; at poststop it
 * unregisters it. Other stages do nothing.
 *
 * It fails open: whatever happens (no daemon, no socket, a daemon that
 * does not answer, garbage on stdin) it exits 0 within HOOK_BUDGET, so it
 * can never block or fail a container's creation. What went wrong is one
 * line on stderr, which runtimes keep in their logs.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/config.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/fault.h"
#include "proxy/daemon/control.h"
#include "proxy/protocol/control-msg.h"
#include "proxy/protocol/oci-state.h"

/* Everything, the daemon's answer included, within this; then it exits 0 anyway. */
#define HOOK_BUDGET (800 * USEC_PER_MSEC)
/* And this is the hard stop, should anything block where no deadline reaches. */
#define HOOK_ALARM_MS 950

static void on_alarm(int sig)
{
        static const char msg[] = "coredump-proxy-hook: out of time, giving up (the container goes on)\n";

        (void) sig;
        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(EXIT_SUCCESS);
}

static void arm_alarm(void)
{
        struct sigaction sa = { .sa_handler = on_alarm };
        struct itimerval it = { .it_value = { .tv_sec = 0, .tv_usec = HOOK_ALARM_MS * 1000 } };

        (void) sigaction(SIGALRM, &sa, NULL);
        (void) setitimer(ITIMER_REAL, &it, NULL);
}

_printf_(1, 2) static void say(const char *fmt, ...)
{
        va_list ap;

        fputs("coredump-proxy-hook: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

/* stdin, at most OCI_STATE_MAX bytes, by the deadline: a runtime that never closes it cannot hold us. */
static int read_state(usec_t deadline, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = malloc(OCI_STATE_MAX + 1);
        size_t len = 0;

        if (!buf)
                return -ENOMEM;
        (void) io_fd_nonblock(STDIN_FILENO, true);
        for (;;) {
                int r = io_wait(STDIN_FILENO, POLLIN, deadline);
                if (r < 0)
                        return r;
                ssize_t k = read(STDIN_FILENO, buf + len, OCI_STATE_MAX + 1 - len);
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > OCI_STATE_MAX)
                        return -EFBIG;
        }
        buf[len] = 0;
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The control socket of the daemon this config describes: the default when the config cannot be read. */
static char *control_socket(const char *config_path)
{
        struct config *c = NULL;
        char *path = NULL;
        int r;

        if (config_path)
                r = config_load_file(config_path, &c, NULL);
        else if (access(CONFIG_DEFAULT_PATH, F_OK) == 0)
                r = config_load_file(CONFIG_DEFAULT_PATH, &c, NULL);
        else
                r = config_load_default(&c);
        if (r < 0)
                say("cannot read %s (%s); trying the default socket", config_path ?: CONFIG_DEFAULT_PATH,
                    strerror(-r));
        (void) control_path(c ? c->listen_path : CONFIG_DEFAULT_LISTEN, &path);
        config_free(c);
        return path;
}

static int call(const char *socket_path, const struct control_request *q, int pidfd, usec_t deadline)
{
        _cleanup_(control_reply_done) struct control_reply rep = {};
        _cleanup_free_ char *request = NULL, *reply = NULL;
        size_t len = 0, reply_len = 0;
        int r;

        r = control_request_format(q, &request, &len);
        if (r < 0)
                return r;
        r = control_call(socket_path, request, len, pidfd, deadline, 65536, &reply, &reply_len);
        if (r < 0)
                return r;
        r = control_reply_parse(reply, reply_len, &rep);
        if (r < 0)
                return r;
        if (!rep.ok) {
                say("the daemon did not register %s: %s", q->id, rep.error ?: "no reason given");
                return 0;
        }
        return 1;
}

static int run(const char *config_path, const char *stage, usec_t deadline)
{
        _cleanup_(oci_state_done) struct oci_state s = {};
        _cleanup_free_ char *text = NULL, *socket_path = NULL;
        _cleanup_close_ int pidfd = -EBADF;
        struct control_request q = {};
        size_t len = 0;
        bool create;
        int r;

        /* createRuntime runs where prestart ran before runtime-spec 1.0.2: either registers. */
        create = strcmp(stage, "createRuntime") == 0 || strcmp(stage, "prestart") == 0;
        if (!create && strcmp(stage, "poststop") != 0)
                return 0;
        r = read_state(deadline, &text, &len);
        if (r < 0) {
                say("cannot read the container's state on stdin: %s", strerror(-r));
                return 0;
        }
        r = oci_state_parse(text, len, &s);
        if (r < 0) {
                say("stdin is not an OCI container state: %s", strerror(-r));
                return 0;
        }
        socket_path = control_socket(config_path);
        if (!socket_path)
                return -ENOMEM;
        q.id = s.id;
        if (create) {
                if (s.pid <= 0) {
                        say("no pid in the state of %s", s.id);
                        return 0;
                }
                /* The pidfd is what the daemon believes: it names the process, whatever its pid number. */
                pidfd = (int) syscall(SYS_pidfd_open, (pid_t) s.pid, 0);
                if (pidfd < 0) {
                        say("cannot open a pidfd for %s's process %lld: %m", s.id, (long long) s.pid);
                        return 0;
                }
                q.verb = CONTROL_REGISTER;
                q.pid = s.pid;
                q.bundle = s.bundle;
                q.annotations = s.annotations;
        } else
                q.verb = CONTROL_UNREGISTER;
        /* Tests make the daemon slow to answer. */
        if (fault_value("hook-delay") > 0)
                (void) usleep((useconds_t) MIN(fault_value("hook-delay"), 5000UL) * 1000);
        r = call(socket_path, &q, pidfd, deadline);
        if (r < 0)
                say("no answer from the daemon at %s (%s): %s goes on without it", socket_path, strerror(-r),
                    s.id);
        return 0;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        usec_t deadline = io_now() + HOOK_BUDGET;
        const char *config_path = NULL;
        int c;

        /* First, before anything can take time. */
        arm_alarm();
        /* Like the daemon: a crash of ours must not be handed to a socket we are talking to. */
        (void) prctl(PR_SET_DUMPABLE, 0);

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'h':
                        printf("Usage: coredump-proxy-hook [--config FILE] STAGE\n"
                               "An OCI runtime hook: registers a container with coredump-proxy at "
                               "createRuntime\n"
                               "and unregisters it at poststop. The container's state on stdin. Always "
                               "exits 0.\n");
                        return EXIT_SUCCESS;
                default:
                        /* A bad command line is the installer's mistake: it still must not stop a container.
                         */
                        return EXIT_SUCCESS;
                }
        }
        if (optind != argc - 1) {
                say("usage: coredump-proxy-hook [--config FILE] STAGE");
                return EXIT_SUCCESS;
        }
        if (run(config_path, argv[optind], deadline) < 0)
                say("out of memory");
        return EXIT_SUCCESS;
}
