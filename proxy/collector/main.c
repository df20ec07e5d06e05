/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-collector --dir DIR [--address @NAME] [--max-use SIZE] [--max-files N]
 *                    [--keep-free SIZE] [--max-connections N] [--log-level LEVEL]
 *
 * The reference per-namespace collector: binds the well-known address in
 * its own network namespace, takes dumps from coredump-proxy by the
 * collector protocol (docs/collector-protocol.md), and writes DIR/<id>.core
 * and DIR/<id>.json with the same writer as the host store.
 */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/config.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/unix-listen.h"
#include "proxy/base/caps.h"
#include "proxy/base/confine.h"
#include "proxy/base/log.h"
#include "proxy/base/sandbox.h"
#include "proxy/base/stdfds.h"
#include "proxy/collector/collector.h"
#include "proxy/store/store.h"

static void help(void)
{
        printf("Usage: coredump-collector --dir DIR [--address @NAME] [--max-use SIZE] [--max-files N]\n"
               "                          [--keep-free SIZE] [--max-connections N] [--log-level LEVEL]\n"
               "\n"
               "Receives coredumps of this network namespace's processes from coredump-proxy and\n"
               "writes DIR/<id>.core and DIR/<id>.json. Declines dumps when its quotas are reached.\n"
               "  --address @NAME   abstract socket name (default %s) or a socket path\n"
               "  --max-use SIZE    bytes the dumps may use (K/M/G/T suffixes, or N%%)\n"
               "  --max-files N     dumps kept at most\n"
               "  --keep-free SIZE  free space to leave on the filesystem (default 5%%)\n",
               CONFIG_DEFAULT_ADDRESS);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "dir", required_argument, NULL, 'd' },
                { "address", required_argument, NULL, 'a' },
                { "max-use", required_argument, NULL, 'u' },
                { "max-files", required_argument, NULL, 'f' },
                { "keep-free", required_argument, NULL, 'k' },
                { "max-connections", required_argument, NULL, 'c' },
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct store_options so = { .policy = STORE_KEEP };
        struct collector c = { .max_connections = 16 };
        const char *dir = NULL, *address = CONFIG_DEFAULT_ADDRESS;
        _cleanup_close_ int fd = -EBADF, sfd = -EBADF;
        sigset_t mask;
        int opt, r;

        /* As for the proxy: a crash of ours must never be dumped into the socket we serve. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                perror("prctl(PR_SET_DUMPABLE)");
                return EXIT_FAILURE;
        }
        /* Before any file is opened: a closed stderr must not become a dump file. */
        if (stdfds_ensure() < 0)
                return EXIT_FAILURE;
        log_set_program("coredump-collector");
        (void) config_parse_size("5%", &so.keep_free);

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (opt) {
                case 'd':
                        dir = optarg;
                        break;
                case 'a':
                        address = optarg;
                        break;
                case 'u':
                case 'k':
                        if (config_parse_size(optarg, opt == 'u' ? &so.max_use : &so.keep_free) < 0) {
                                log_error("invalid size '%s'", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'f':
                case 'c': {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v == 0 || v > 1000000) {
                                log_error("invalid number '%s'", optarg);
                                return EXIT_FAILURE;
                        }
                        if (opt == 'f')
                                so.max_files = (unsigned) v;
                        else
                                c.max_connections = (unsigned) v;
                        break;
                }
                case 'l': {
                        int level = log_level_from_string(optarg);
                        if (level < 0) {
                                log_error("unknown log level %s", optarg);
                                return EXIT_FAILURE;
                        }
                        log_set_level((enum log_level) level);
                        break;
                }
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        }
        if (!dir || optind < argc) {
                help();
                return EXIT_FAILURE;
        }

        r = store_open(dir, &so, &c.store);
        if (r < 0)
                return log_error_errno(r, "cannot open %s", dir), EXIT_FAILURE;

        /* A path socket only its owner (and the proxy, with CAP_DAC_OVERRIDE) may connect to. */
        fd = unix_listen(address, SOCK_SEQPACKET, 64, 0600);
        if (fd < 0)
                return log_error_errno(fd, "cannot listen on %s", address), EXIT_FAILURE;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return log_error_errno(errno, "signalfd"), EXIT_FAILURE;

        pthread_mutex_init(&c.lock, NULL);
        pthread_cond_init(&c.done, NULL);

        r = caps_reduce_collector();
        if (r < 0)
                return log_error_errno(r, "cannot drop capabilities"), EXIT_FAILURE;
        /* Writes only beneath DIR; a path socket is removed on the way out. */
        _cleanup_free_ char *sock_dir = address[0] == '/' ? strdup(address) : NULL;
        struct confine_path writable[] = { { dir, CONFINE_TREE },
                                           { sock_dir ? dirname(sock_dir) : NULL, CONFINE_REMOVE } };
        r = confine_writes(writable, sock_dir ? 2 : 1, NULL);
        if (r < 0 && !confine_unsupported(r))
                return log_error_errno(r, "cannot confine writes to %s", dir), EXIT_FAILURE;
        r = sandbox_apply_collector();
        if (r < 0)
                return log_error_errno(r, "cannot install the seccomp filter"), EXIT_FAILURE;

        log_info("listening on %s, writing to %s", address, dir);
        for (;;) {
                struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error_errno(errno, "poll");
                        break;
                }
                if (p[1].revents)
                        break;
                if (p[0].revents) {
                        int conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                        if (conn >= 0)
                                session_start(&c, conn);
                }
        }

        log_info("stopping");
        fd = safe_close(fd);
        if (address[0] == '/')
                (void) unlink(address);
        /* Dumps in flight finish within their own deadlines. */
        pthread_mutex_lock(&c.lock);
        while (c.active > 0)
                pthread_cond_wait(&c.done, &c.lock);
        pthread_mutex_unlock(&c.lock);
        store_unref(c.store);
        return EXIT_SUCCESS;
}
