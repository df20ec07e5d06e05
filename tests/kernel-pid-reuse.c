/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A crashing task's pid reused by a new process while the daemon looks at it
 * must never make the new process's facts the task's. In a private pid
 * namespace the test forces the reuse (ns_last_pid): the pidfd of the dead
 * process must refuse the new process's /proc/<pid>, and a /proc dir fd
 * opened while the old one lived must not start reading the new one.
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd.h"
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
