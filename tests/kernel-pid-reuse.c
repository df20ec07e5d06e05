/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A crashing task's pid reused by a new process while the daemon looks at it
 * must never make the new process's facts the task's. In a private pid
 * namespace the test forces the reuse (ns_last_pid): the pidfd of the dead
 * process must refuse the new process's /proc/<pid>, and a /proc dir fd
 * opened while the old one lived must not start reading the new one.
 *
 * The same for a collector's listener on kernels without SO_PEERPIDFD
 * (before 6.5): SO_PEERCRED names the process that called listen() by its
 * number only. Its pidfd counts only while that process holds the listening
 * socket: not once it passed it on, and not for a new process that got its
 * number.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"
#include "kernel/netns.h"
#include "proxy/dump/identify.h"
#include "tests/tap.h"

static pid_t spawn_named(const char *name)
{
        pid_t pid = fork();

        if (pid == 0) {
                (void) prctl(PR_SET_NAME, name);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                for (;;)
                        pause();
        }
        return pid;
}

/*
 * A listener on name: binds and listens, forks a holder that keeps the
 * socket (and pauses), then, with close_after_fork, closes its own copy;
 * returns its pid, the holder's in *ret_holder.
 */
static pid_t spawn_listener(const char *name, bool close_after_fork, pid_t *ret_holder)
{
        int ready[2];
        pid_t holder = 0;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        pid_t pid = fork();
        if (pid == 0) {
                struct sockaddr_un sa;
                socklen_t len;
                int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (fd < 0 || netns_sockaddr_un(name, &sa, &len) < 0 ||
                    bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 4) < 0)
                        _exit(1);
                /* No parent-death signal: it outlives the listener (the pid namespace's end takes it). */
                pid_t h = fork();
                if (h == 0) {
                        for (;;)
                                pause();
                }
                if (close_after_fork)
                        close(fd);
                if (write(ready[1], &h, sizeof(h)) != sizeof(h))
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        if (read(ready[0], &holder, sizeof(holder)) != sizeof(holder))
                holder = 0;
        close(ready[0]);
        *ret_holder = holder;
        return pid;
}

static int connect_to(const char *name)
{
        struct sockaddr_un sa;
        socklen_t len;
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        if (fd < 0 || netns_sockaddr_un(name, &sa, &len) < 0 ||
            connect(fd, (struct sockaddr *) &sa, len) < 0) {
                safe_close(fd);
                return -1;
        }
        return fd;
}

static void test_listener(void)
{
        char name[64], last[16];
        pid_t holder = 0, listener, reuse;
        _cleanup_close_ int sock = -EBADF, pidfd = -EBADF;

        (void) snprintf(name, sizeof(name), "@cdp-pid-reuse-%d", (int) getppid());

        /* The process that listened still holds the socket: its pidfd, proven. */
        listener = spawn_listener(name, false, &holder);
        sock = connect_to(name);
        ok(sock >= 0, "listener: connected");
        pidfd = pidfd_proc_from_listener(sock, name);
        ok(pidfd >= 0, "listener still holding its socket: proven (%s)",
           pidfd < 0 ? strerror(-pidfd) : "ok");
        if (pidfd >= 0) {
                pid_t p = 0;
                (void) pidfd_proc_pid(pidfd, &p);
                is_int(p, listener, "listener: the pidfd is the process that listened");
        }
        is_int(pidfd_proc_from_listener(sock, "@cdp-some-other-name"), -EPERM,
               "listener: a socket of another name proves nothing");
        sock = safe_close(sock);
        pidfd = safe_close(pidfd);
        kill(listener, SIGKILL);
        kill(holder, SIGKILL);
        waitpid(listener, NULL, 0);
        (void) usleep(50 * 1000);

        /* It passed the socket on and closed its own: not provable, so not trusted. */
        (void) snprintf(name, sizeof(name), "@cdp-pid-reuse-b-%d", (int) getppid());
        listener = spawn_listener(name, true, &holder);
        sock = connect_to(name);
        is_int(pidfd_proc_from_listener(sock, name), -EPERM,
               "listener that gave its socket away: not proven");
        sock = safe_close(sock);

        /* It died, and a new process has its number: never taken for it. */
        kill(listener, SIGKILL);
        waitpid(listener, NULL, 0);
        (void) snprintf(last, sizeof(last), "%d", (int) listener - 1);
        if (io_write_string_file("/proc/sys/kernel/ns_last_pid", last) < 0) {
                ok(false, "cannot write ns_last_pid");
                return;
        }
        reuse = spawn_named("new-listener");
        is_int(reuse, listener, "a new process got the listener's pid");
        sock = connect_to(name);
        ok(sock >= 0, "the socket, held by the holder, still takes connections");
        is_int(pidfd_proc_from_listener(sock, name), -EPERM, "reused pid: not proven, not trusted");
        kill(reuse, SIGKILL);
        waitpid(reuse, NULL, 0);
        kill(holder, SIGKILL);
}

static int inside(void)
{
        struct identify_context ctx = { .cgroup2_fd = -EBADF };
        struct task_identity t = {};
        _cleanup_free_ char *comm = NULL;
        char last[16];

        /* Our own /proc for this pid namespace, invisible outside. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
            mount("proc", "/proc", "proc", 0, NULL) < 0)
                tap_skip_all("cannot mount a private /proc: %s", strerror(errno));

        pid_t old = spawn_named("old-task");
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, old, 0);
        ok(pidfd >= 0, "pidfd of the first process (pid %d)", (int) old);
        (void) usleep(100 * 1000);

        _cleanup_close_ int dirfd = pidfd_open_proc_dir(pidfd, (uint32_t) old);
        ok(dirfd >= 0, "its /proc dir opens while it lives");
        is_int(pidfd_is_alive(pidfd), 1, "it is alive");

        kill(old, SIGKILL);
        waitpid(old, NULL, 0);
        is_int(pidfd_is_alive(pidfd), 0, "reaped: the pidfd says gone");
        is_int(pidfd_has_exited(pidfd), 1, "reaped: the pidfd polls readable");

        /* Force the next fork to take the same pid number. */
        (void) snprintf(last, sizeof(last), "%d", (int) old - 1);
        if (io_write_string_file("/proc/sys/kernel/ns_last_pid", last) < 0)
                tap_skip_all("cannot write ns_last_pid");
        pid_t reuse = spawn_named("new-task");
        is_int(reuse, old, "a new process got the same pid");
        (void) usleep(100 * 1000);

        is_int(pidfd_open_proc_dir(pidfd, (uint32_t) old), -ESRCH,
               "the dead process's pidfd refuses /proc/<pid> of the new one");
        ok(io_read_file_at(dirfd, "comm", 64, &comm, NULL) < 0,
           "a /proc dir fd of the dead process does not read the new one");

        t.pid = (uint32_t) old;
        t.have_creds = true;
        is_int(identify_from_proc(pidfd, &ctx, &t), 0, "identify on the dead task's pidfd returns");
        ok(!t.proc_valid, "identify marks the /proc facts invalid");
        ok(t.comm[0] == 0 && !t.exe, "and takes none of the new process's facts");
        identify_done(&t);

        kill(reuse, SIGKILL);
        waitpid(reuse, NULL, 0);
        test_listener();
        return tap_done();
}

int main(void)
{
        int status;

        if (geteuid() != 0)
                tap_skip_all("needs root for a pid namespace and ns_last_pid");
        if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
                tap_skip_all("unshare(CLONE_NEWPID|CLONE_NEWNS): %s", strerror(errno));

        fflush(stdout);
        pid_t init = fork();
        if (init < 0)
                return 1;
        if (init == 0)
                exit(inside());
        if (waitpid(init, &status, 0) < 0)
                _exit(1);
        /*
         * _exit: after unshare(CLONE_NEWPID) this process's new children land
         * in the namespace, and LeakSanitizer's exit-time tracer would be one
         * of them, unable to see us. The process inside does exit normally.
         */
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}
