/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The benchmark's crash driver: keeps N crashes in flight and times each one.
 *
 *   cdp-bench-crash --count N [--inflight K] [--size BYTES] [--name NAME]
 *                   [--latencies FILE] [--timeout-s S]
 *
 * The driver touches --size bytes of private anonymous memory once, then
 * forks one child per crash. A child inherits those pages (present, so the
 * kernel dumps them), names itself, stores the monotonic time in a shared
 * slot and faults at once: no per-crash page touching in the timed path,
 * and the same crasher for every mode under test. The driver reaps each
 * child and starts the next one, so that exactly K are crashing at any time
 * until N have started.
 *
 * A crash's latency runs from the child's timestamp (just before the fault)
 * to the moment waitpid() returns its status. The task exits only after its
 * dump is complete in every mode the benchmark compares (a socket server
 * shuts the connection down after closing its file; a pipe helper, with
 * kernel.core_pipe_limit > 0, is waited for until it closes its stdin), so
 * the wait status is the "dump complete" event.
 *
 * Prints one line of key=value facts: count, coredumped (WCOREDUMP set),
 * elapsed_us (first fork to last reap), rate (crashes/s), lat_min_us,
 * lat_median_us, lat_p99_us, lat_max_us. --latencies appends "<us> <core>"
 * per crash. Standalone (no libcdp, no sanitizers): the crash must be real.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"

#define INFLIGHT_MAX 64

static pid_t running[INFLIGHT_MAX];
static unsigned n_running;

static uint64_t now_ns(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

/* A crash that never completes must not hold the benchmark (and its lock) forever. */
static void on_alarm(int sig)
{
        static const char msg[] = "cdp-bench-crash: timeout, killing the crashes in flight\n";

        for (unsigned i = 0; i < n_running; i++)
                if (running[i] > 0)
                        (void) kill(running[i], SIGKILL);
        (void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
        _exit(3);
}

static _noreturn_ void crash(const char *name, volatile uint64_t *slot)
{
        (void) prctl(PR_SET_NAME, name);
        *slot = now_ns();
        volatile int *null = NULL;
        *null = 1;
        /* Not reached unless SIGSEGV is ignored; the parent then sees an exit, not a core. */
        _exit(122);
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static uint64_t percentile(const uint64_t *v, size_t n, unsigned pct)
{
        size_t rank = (n * pct + 99) / 100;

        return n == 0 ? 0 : v[rank > 0 ? rank - 1 : 0];
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "count", required_argument, NULL, 'c' },
                { "inflight", required_argument, NULL, 'k' },
                { "size", required_argument, NULL, 's' },
                { "name", required_argument, NULL, 'n' },
                { "latencies", required_argument, NULL, 'l' },
                { "timeout-s", required_argument, NULL, 't' },
                {},
        };
        const char *name = "cdp-bench", *lat_path = NULL;
        unsigned long count = 0, inflight = 1, timeout_s = 600;
        size_t size = 0;
        int opt;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        count = strtoul(optarg, NULL, 0);
                        break;
                case 'k':
                        inflight = strtoul(optarg, NULL, 0);
                        break;
                case 's':
                        size = (size_t) strtoull(optarg, NULL, 0);
                        break;
                case 'n':
                        name = optarg;
                        break;
                case 'l':
                        lat_path = optarg;
                        break;
                case 't':
                        timeout_s = strtoul(optarg, NULL, 0);
                        break;
                default:
                        return 2;
                }
        }
        if (count == 0 || inflight == 0 || inflight > INFLIGHT_MAX || optind < argc) {
                fprintf(stderr,
                        "usage: cdp-bench-crash --count N [--inflight 1..%d] [--size BYTES] "
                        "[--name NAME] [--latencies FILE] [--timeout-s S]\n",
                        INFLIGHT_MAX);
                return 2;
        }

        /* Touched once here; every child dumps these pages without faulting them in again. */
        if (size > 0) {
                volatile char *p =
                        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        perror("mmap");
                        return 1;
                }
                for (size_t i = 0; i < size; i += 4096)
                        p[i] = (char) (i >> 12 | 1);
        }

        /* Shared with the children: each writes its start time into its own slot. */
        volatile uint64_t *slots = mmap(NULL, count * sizeof(uint64_t), PROT_READ | PROT_WRITE,
                                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        _cleanup_free_ uint64_t *lat = calloc(count, sizeof(uint64_t));
        _cleanup_free_ unsigned long *slot_of = calloc(INFLIGHT_MAX, sizeof(unsigned long));
        if (slots == MAP_FAILED || !lat || !slot_of) {
                perror("allocating");
                return 1;
        }

        _cleanup_fclose_ FILE *lf = NULL;
        if (lat_path) {
                lf = fopen(lat_path, "ae");
                if (!lf) {
                        perror(lat_path);
                        return 1;
                }
        }

        struct sigaction sa = { .sa_handler = on_alarm };
        (void) sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned) timeout_s);

        unsigned long started = 0, done = 0, cored = 0;
        uint64_t first = now_ns(), last = first;

        while (done < count) {
                while (started < count && n_running < inflight) {
                        pid_t pid = fork();
                        if (pid < 0) {
                                perror("fork");
                                return 1;
                        }
                        if (pid == 0)
                                crash(name, &slots[started]);
                        running[n_running] = pid;
                        slot_of[n_running] = started;
                        n_running++;
                        started++;
                }

                int status;
                pid_t pid = RETRY_EINTR(waitpid(-1, &status, 0));
                uint64_t t = now_ns();
                if (pid < 0) {
                        perror("waitpid");
                        return 1;
                }
                for (unsigned i = 0; i < n_running; i++) {
                        if (running[i] != pid)
                                continue;
                        unsigned long s = slot_of[i];
                        bool core = WIFSIGNALED(status) && WCOREDUMP(status);
                        /* A child killed before its timestamp counts from the fork loop's view: 0. */
                        lat[done] = slots[s] && t > slots[s] ? (t - slots[s]) / 1000 : 0;
                        if (lf)
                                fprintf(lf, "%llu %d\n", (unsigned long long) lat[done], core ? 1 : 0);
                        cored += core;
                        done++;
                        running[i] = running[n_running - 1];
                        slot_of[i] = slot_of[n_running - 1];
                        n_running--;
                        break;
                }
                last = t;
        }
        alarm(0);

        qsort(lat, count, sizeof(uint64_t), cmp_u64);
        uint64_t elapsed_us = (last - first) / 1000;
        printf("count=%lu coredumped=%lu elapsed_us=%llu rate=%.1f lat_min_us=%llu lat_median_us=%llu "
               "lat_p99_us=%llu lat_max_us=%llu\n",
               count, cored, (unsigned long long) elapsed_us,
               elapsed_us ? (double) count * 1e6 / (double) elapsed_us : 0.0, (unsigned long long) lat[0],
               (unsigned long long) percentile(lat, count, 50),
               (unsigned long long) percentile(lat, count, 99), (unsigned long long) lat[count - 1]);
        return 0;
}
