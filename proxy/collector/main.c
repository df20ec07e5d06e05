/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-collector --dir DIR [--address @NAME] [--max-use SIZE] [--max-files N]
 *                    [--keep-free SIZE] [--max-connections N] [--max-dump-time TIME]
 *                    [--require-task-proof] [--allow-host-peer] [--accept-pipe]
 *                    [--log-level LEVEL]
 *
 * The reference per-namespace collector: binds the well-known address in
 * its own network namespace, takes dumps from coredump-proxy by the
 * collector protocol (docs/collector-protocol.md), and writes DIR/<id>.core
 * and DIR/<id>.json with the same writer as the host store.
 */

#include <errno.h>
#include <getopt.h>
#include <sys/wait.h>
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
#include "kernel/sockopt.h"
#include "kernel/unix-listen.h"
#include "proxy/base/caps.h"
#include "proxy/base/confine.h"
#include "proxy/base/log.h"
#include "proxy/base/sandbox.h"
#include "proxy/base/stdfds.h"
#include "proxy/collector/collector.h"
#include "proxy/store/store.h"
#include "proxy/store/summarize.h"
#include "proxy/store/upload.h"

/* The proxy's own default dump_timeout: no dump needs longer from us unless we are told. */
#define DEFAULT_MAX_DUMP_TIME (5 * 60 * USEC_PER_SEC)

static void help(void)
{
        printf("Usage: coredump-collector --dir DIR [--address @NAME] [--max-use SIZE] [--max-files N]\n"
               "                          [--keep-free SIZE] [--max-connections N] [--max-dump-time TIME]\n"
               "                          [--require-task-proof] [--allow-host-peer] [--accept-pipe]\n"
               "                          [--compress LEVEL] [--exec CMD [--exec-timeout TIME]\n"
               "                          [--exec-max N] [--exec-remove]] [--no-summary]\n"
               "                          [--log-level LEVEL]\n"
               "\n"
               "Receives coredumps of this network namespace's processes from coredump-proxy and\n"
               "writes DIR/<id>.core.zst and DIR/<id>.json. Declines dumps when its quotas are reached.\n"
               "  --address @NAME        abstract socket name (default %s) or a socket path\n"
               "  --max-use SIZE         bytes the dumps may use (K/M/G/T suffixes, or N%%)\n"
               "  --max-files N          dumps kept at most\n"
               "  --keep-free SIZE       free space to leave on the filesystem (default 5%%)\n"
               "  --max-connections N    dumps written at once (default 16)\n"
               "  --max-dump-time TIME   the longest one dump may take, whatever the proxy allows\n"
               "                         (ms, s, m, h suffixes; default 5m)\n"
               "  --compress LEVEL       zstd level of DIR/<id>.core.zst, 1 to %d (default %d); 0:\n"
               "                         uncompressed DIR/<id>.core. Quotas count the compressed bytes\n"
               "  --exec CMD             run /bin/sh -c CMD for every dump kept, after its metadata,\n"
               "                         with CDP_ID, CDP_CORE, CDP_METADATA, CDP_BYTES, CDP_STORED_BYTES,\n"
               "                         CDP_TRUNCATED, CDP_SIGNAL, CDP_PID, CDP_COMM, CDP_CONTAINER_ID "
               "set\n"
               "  --exec-timeout TIME    kill CMD's process group after TIME (default 60s)\n"
               "  --exec-max N           commands running at once (default 2); more wait, up to 64\n"
               "  --exec-remove          remove the dump once CMD exited 0\n"
               "  --no-summary           no crash summary in <id>.json (--summary: one, the default)\n"
               "\n"
               "Only the kernel's own coredump connection is taken as a dump, passed on by a peer\n"
               "outside this pid namespace (the proxy). When this pid namespace sees the crashing\n"
               "task (a shared pid namespace), its pidfd proves the crash and gives pid, uid and\n"
               "gid; otherwise (a sidecar with a pid namespace of its own) the connection proves\n"
               "uid and gid, and the pid is the proxy's word (\"verified\" in <id>.json says which).\n"
               "  --require-task-proof   refuse dumps of tasks this pid namespace does not see\n"
               "  --allow-host-peer      accept a peer inside this pid namespace if it is root: for a\n"
               "                         collector that shares the proxy's (the host's) pid namespace\n"
               "  --accept-pipe          also take pipe-mode dumps (kernels before 6.16): the pipe\n"
               "                         proves nothing, so every key is the proxy's word\n",
               CONFIG_DEFAULT_ADDRESS, STORE_COMPRESS_LEVEL_MAX, STORE_COMPRESS_LEVEL_DEFAULT);
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
                { "max-dump-time", required_argument, NULL, 't' },
                { "require-task-proof", no_argument, NULL, 'R' },
                { "allow-host-peer", no_argument, NULL, 'H' },
                { "accept-pipe", no_argument, NULL, 'P' },
                { "compress", required_argument, NULL, 'z' },
                { "exec", required_argument, NULL, 'x' },
                { "exec-timeout", required_argument, NULL, 'T' },
                { "exec-max", required_argument, NULL, 'M' },
                { "exec-remove", no_argument, NULL, 'r' },
                { "summary", no_argument, NULL, 'S' },
                { "no-summary", no_argument, NULL, 'N' },
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct store_options so = { .policy = STORE_KEEP,
                                    .compress_level = STORE_COMPRESS_LEVEL_DEFAULT,
                                    .compressor = store_compress_copy };
        struct collector c = { .max_dumps = 16,
                               .max_dump_time = DEFAULT_MAX_DUMP_TIME,
                               .upload_fd = -EBADF,
                               .summary_fd = -EBADF };
        struct summarize_options sum = { .timeout = SUMMARY_TIMEOUT_DEFAULT };
        _cleanup_free_ char *summary_program = NULL;
        bool summary = true;
        pid_t summary_pid = 0;
        struct upload_options up = { .timeout = UPLOAD_TIMEOUT_DEFAULT,
                                     .max_running = UPLOAD_MAX_RUNNING_DEFAULT };
        pid_t upload_pid = 0;
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
                                c.max_dumps = (unsigned) v;
                        break;
                }
                case 't':
                        if (config_parse_duration(optarg, &c.max_dump_time) < 0 || c.max_dump_time == 0) {
                                log_error("invalid duration '%s'", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'z': {
                        char *end;
                        errno = 0;
                        long v = strtol(optarg, &end, 10);
                        if (errno || *end || end == optarg || v < 0 || v > STORE_COMPRESS_LEVEL_MAX) {
                                log_error("invalid compression level '%s' (0 to %d)", optarg,
                                          STORE_COMPRESS_LEVEL_MAX);
                                return EXIT_FAILURE;
                        }
                        so.compress_level = (int) v;
                        break;
                }
                case 'x':
                        up.command = optarg;
                        break;
                case 'T':
                        if (config_parse_duration(optarg, &up.timeout) < 0) {
                                log_error("invalid duration '%s'", optarg);
                                return EXIT_FAILURE;
                        }
                        break;
                case 'M': {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || *end || end == optarg || v == 0 || v > UPLOAD_QUEUE_MAX) {
                                log_error("invalid number '%s' (1 to %d)", optarg, UPLOAD_QUEUE_MAX);
                                return EXIT_FAILURE;
                        }
                        up.max_running = (unsigned) v;
                        break;
                }
                case 'r':
                        up.remove = true;
                        break;
                case 'S':
                case 'N':
                        summary = opt == 'S';
                        break;
                case 'R':
                        c.auth.require_task = true;
                        break;
                case 'H':
                        c.auth.allow_host_peer = true;
                        break;
                case 'P':
                        c.auth.accept_pipe = true;
                        break;
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

        /* Before anything is confined: the sandbox below forbids exec, the runner needs it. */
        if (up.command) {
                up.directory = dir;
                r = upload_start(&up, &c.upload_fd, &upload_pid);
                if (r < 0)
                        return log_error_errno(r, "cannot start the upload runner"), EXIT_FAILURE;
        } else if (up.remove) {
                log_error("--exec-remove needs --exec");
                return EXIT_FAILURE;
        }

        if (summary) {
                r = summarize_program_path(&summary_program);
                if (r < 0)
                        log_warning_errno(r, "no crash summaries: %s not found", SUMMARY_PROGRAM_NAME);
                sum.program = summary_program;
                sum.directory = dir;
                if (r >= 0 && (r = summarize_start(&sum, &c.summary_fd, &summary_pid)) < 0)
                        return log_error_errno(r, "cannot start the summary runner"), EXIT_FAILURE;
        }

        /* A path socket only its owner (and the proxy, with CAP_DAC_OVERRIDE) may connect to. */
        fd = unix_listen(address, SOCK_SEQPACKET, 64, 0600);
        if (fd < 0)
                return log_error_errno(fd, "cannot listen on %s", address), EXIT_FAILURE;
        /* A dump fd made in this namespace is a pod process's, never the kernel's (auth.c). */
        r = sockopt_netns_cookie(fd, &c.auth.netns_cookie);
        if (r < 0)
                return log_error_errno(r, "cannot tell dumps from forgeries here (SO_NETNS_COOKIE, 5.14)"),
                       EXIT_FAILURE;

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
        pthread_cond_init(&c.work, NULL);

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
        r = collector_serve(&c, fd, sfd);

        log_info("stopping");
        fd = safe_close(fd);
        if (address[0] == '/')
                (void) unlink(address);
        /* Dumps in flight finish within their own deadlines. */
        session_wait_all(&c);
        /* The writers wait for work that never comes: exit ends them. */
        free(c.queue);
        /* The runner finishes the commands already queued, each within its time limit. */
        c.upload_fd = safe_close(c.upload_fd);
        if (upload_pid > 0)
                (void) waitpid(upload_pid, NULL, 0);
        c.summary_fd = safe_close(c.summary_fd);
        if (summary_pid > 0)
                (void) waitpid(summary_pid, NULL, 0);
        store_unref(c.store);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
