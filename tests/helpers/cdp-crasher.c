/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Crashes on purpose, for the real-kernel tests.
 *
 *   cdp-crasher [--name NAME] [--size BYTES] [--threads N] [--signal segv|abrt|bus]
 *               [--delay-ms MS] [--no-fork] [--non-dumpable] [--reap-delay-ms MS]
 *               [--wait-file PATH]
 *
 * By default it forks: the child names itself, touches --size bytes of
 * memory (so the core has that much to dump), starts --threads idle threads
 * and faults (with --wait-file, only once PATH exists: many crashers started
 * one by one then crash together); the parent reaps it and prints one line of key=value facts:
 *   pid=<child pid as the parent sees it> signal=<N> coredump=<0|1> exit=<N>
 *   coredump_mask=<hex, from the pidfd after reaping>
 * The parent must not re-raise the signal: an nsenter or a shell that
 * forwards a child's SIGSEGV would dump core itself.
 */

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Standalone on purpose (no libcdp): the crasher is built without sanitizers,
 * whose SIGSEGV handlers would turn the crash into an ordinary exit.
 */
#include "kernel/cleanup.h"
#include "kernel/compat.h"

static void *idle_thread(void *arg)
{
        for (;;)
                pause();
        return NULL;
}

static bool non_dumpable;
static const char *wait_file;

/*
 * The faulting instruction, in a function of its own that is never inlined
 * and never a tail call: the crash summaries' tests (tests/daemon-summary.sh)
 * look for it as the crashing thread's top frame.
 */
static volatile int *volatile fault_address; /* NULL, read at run time: nothing to fold */

static __attribute__((noinline, used)) void cdp_crasher_fault(void)
{
        *fault_address = 1;
        __asm__ volatile("" ::: "memory");
}

static _noreturn_ void crash(const char *name, size_t size, unsigned threads, int sig, unsigned delay_ms)
{
        if (name)
                (void) prctl(PR_SET_NAME, name);
        /* The kernel skips such a task: it never connects to the coredump socket. */
        if (non_dumpable)
                (void) prctl(PR_SET_DUMPABLE, 0);

        if (size > 0) {
                /* volatile: the optimizer must not drop memory that is never read. */
                volatile char *p =
                        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        _exit(120);
                for (size_t i = 0; i < size; i += 4096)
                        p[i] = (char) (i >> 12 | 1);
        }

        for (unsigned i = 0; i < threads; i++) {
                pthread_t t;
                if (pthread_create(&t, NULL, idle_thread, NULL) != 0)
                        _exit(121);
        }

        /* At most a minute: a test that never says go still gets its crash. */
        for (unsigned i = 0; wait_file && i < 30000 && access(wait_file, F_OK) < 0; i++)
                (void) usleep(2000);
        if (delay_ms)
                (void) usleep(delay_ms * 1000U);

        switch (sig) {
        case SIGABRT:
                abort();
        case SIGSEGV: {
                cdp_crasher_fault();
                break;
        }
        default:
                break;
        }
        (void) signal(sig, SIG_DFL);
        (void) raise(sig);
        _exit(122);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "name", required_argument, NULL, 'n' },
                { "size", required_argument, NULL, 's' },
                { "threads", required_argument, NULL, 't' },
                { "signal", required_argument, NULL, 'g' },
                { "delay-ms", required_argument, NULL, 'd' },
                { "no-fork", no_argument, NULL, 'F' },
                { "non-dumpable", no_argument, NULL, 'N' },
                { "reap-delay-ms", required_argument, NULL, 'R' },
                { "wait-file", required_argument, NULL, 'W' },
                {},
        };
        const char *name = "cdp-crasher";
        size_t size = 0;
        unsigned threads = 0, delay_ms = 0, reap_delay_ms = 0;
        int sig = SIGSEGV, c;
        bool fork_first = true;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'n':
                        name = optarg;
                        break;
                case 's':
                        size = strtoull(optarg, NULL, 0);
                        break;
                case 't':
                        threads = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'g':
                        if (strcmp(optarg, "segv") == 0)
                                sig = SIGSEGV;
                        else if (strcmp(optarg, "abrt") == 0)
                                sig = SIGABRT;
                        else if (strcmp(optarg, "bus") == 0)
                                sig = SIGBUS;
                        else {
                                fprintf(stderr, "unknown signal %s\n", optarg);
                                return 2;
                        }
                        break;
                case 'd':
                        delay_ms = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'F':
                        fork_first = false;
                        break;
                case 'N':
                        non_dumpable = true;
                        break;
                case 'R':
                        reap_delay_ms = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'W':
                        wait_file = optarg;
                        break;
                default:
                        return 2;
                }
        }

        if (!fork_first)
                crash(name, size, threads, sig, delay_ms);

        pid_t pid = fork();
        if (pid < 0) {
                perror("fork");
                return 1;
        }
        if (pid == 0)
                crash(name, size, threads, sig, delay_ms);

        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int status;

        /* A zombie keeps its /proc/<pid>/comm: lets a test see who it was after it died. */
        if (reap_delay_ms) {
                siginfo_t si;
                (void) waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT);
                (void) usleep(reap_delay_ms * 1000U);
        }
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0) {
                perror("waitpid");
                return 1;
        }

        struct cdp_pidfd_info info = { .mask = PIDFD_INFO_EXIT | PIDFD_INFO_COREDUMP };
        if (pidfd < 0 || ioctl(pidfd, PIDFD_GET_INFO_SIZED(sizeof(info)), &info) < 0 ||
            !(info.mask & PIDFD_INFO_COREDUMP))
                info.coredump_mask = 0;

        printf("pid=%d signal=%d coredump=%d exit=%d coredump_mask=0x%x\n", (int) pid,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0, WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1, info.coredump_mask);
        return 0;
}
