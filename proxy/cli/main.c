/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-proxy [--config FILE] [--install-pattern] [--log-level LEVEL]
 * coredump-proxy check-config FILE
 * coredump-proxy install-pattern [--config FILE]
 * coredump-proxy restore-pattern [--config FILE]
 * coredump-proxy status [--config FILE]
 * coredump-proxy list|info ID [--config FILE | --dir DIR] [--json]
 */

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config/config.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "proxy/cli/metrics.h"
#include "proxy/daemon/control.h"
#include "proxy/daemon/daemon.h"
#include "proxy/base/log.h"
#include "proxy/base/stdfds.h"
#include "proxy/cli/dumps.h"
#include "proxy/daemon/mode.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/state.h"

static void help(void)
{
        printf("Usage:\n"
               "  coredump-proxy [--config FILE] [--install-pattern] [--log-level LEVEL]\n"
               "                 [--socket PATH] [--on-takeover exit|wait]\n"
               "  coredump-proxy check-config FILE\n"
               "  coredump-proxy install-pattern [--config FILE]\n"
               "  coredump-proxy restore-pattern [--config FILE]\n"
               "  coredump-proxy status [--config FILE]\n"
               "  coredump-proxy metrics [--config FILE] --listen ADDR:PORT\n"
               "  coredump-proxy list [--config FILE | --dir DIR] [--json]\n"
               "  coredump-proxy info ID [--config FILE | --dir DIR] [--json]\n"
               "\n"
               "Receives coredumps from the kernel's coredump socket (or its pipe helper), finds each\n"
               "crashing task's container, and forwards, stores or rejects the dump as the config's\n"
               "routes say.\n"
               "\n"
               "  --config FILE       configuration (default %s, else the embedded default)\n"
               "  --install-pattern   point kernel.core_pattern at us (the socket, or before Linux 6.16\n"
               "                      the pipe helper, with kernel.core_pipe_limit); both restored on\n"
               "                      exit (by a keeper process: the daemon itself may not write them)\n"
               "  --log-level LEVEL   error, warning, info (default) or debug\n"
               "  --socket PATH       the kernel socket instead of the config's listen.path (one per\n"
               "                      instance, e.g. per pod: a new one takes core_pattern over)\n"
               "  --on-takeover WHAT  when another instance takes core_pattern over: finish the dumps\n"
               "                      in flight, then \"exit\" (default) or \"wait\" for SIGTERM\n"
               "  check-config FILE   validate FILE: exit 0, or 1 with one line per problem\n"
               "  install-pattern     point kernel.core_pattern at listen.path and exit, saving the\n"
               "                      previous pattern (socket activation: the pattern outlives the "
               "daemon)\n"
               "  restore-pattern     put back the pattern saved by install-pattern or a killed daemon\n"
               "  status              JSON from the running daemon: config, counters, dumps in flight\n"
               "  list [--dir DIR] [--json]     the dumps kept in the host store (or a collector's DIR)\n"
               "  info ID [--dir DIR] [--json]  one kept dump's metadata and file\n"
               "  metrics --listen ADDR:PORT\n"
               "                      Prometheus text on /metrics (and /healthz, /readyz) from the\n"
               "                      daemon's counters; runs unprivileged beside it\n",
               CONFIG_DEFAULT_PATH);
}

static int check_config(const char *path)
{
        struct config_errors errors = {};
        struct config *c = NULL;
        int r;

        r = config_load_file(path, &c, &errors);
        for (size_t i = 0; i < errors.n; i++)
                printf("%s\n", errors.lines[i]);
        if (r < 0 && errors.n == 0)
                printf("%s: %s\n", path, strerror(-r));
        if (r >= 0)
                printf("%s: ok (%zu routes)\n", path, c->n_routes);
        config_errors_clear(&errors);
        config_free(c);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int restore_pattern(const struct daemon_options *o)
{
        _cleanup_free_ char *state = NULL, *saved = NULL, *current = NULL, *target = NULL;
        struct config *c = NULL;
        const char *owner;
        unsigned limit = UINT_MAX;
        int r;

        r = daemon_load_config(o, &c);
        if (r < 0)
                return EXIT_FAILURE;
        /*
         * The socket the pattern points at, when it saved a pattern: in a
         * cluster each pod has a socket of its own, and the last one may have
         * been killed; else the config's (or --listen's).
         */
        owner = c->listen_path;
        if (pattern_current_target(&target) >= 0 && pattern_state_path(target, &state) >= 0 &&
            access(state, F_OK) >= 0)
                owner = target;
        state = mfree_str(state);
        r = pattern_state_path(owner, &state);
        if (r >= 0)
                r = pattern_state_read(state, &saved, &limit);
        if (r == -ENOENT) {
                printf("nothing to restore: no %s\n", state);
                config_free(c);
                return EXIT_SUCCESS;
        }
        if (r < 0) {
                log_error_errno(r, "cannot read the saved pattern %s%s", state,
                                r == -EPERM ? " (not a regular file of root's that only root may write)"
                                            : "");
                config_free(c);
                return EXIT_FAILURE;
        }

        /* Only undo our own pattern: anything else was set by someone after us. */
        if (!pattern_points_at(owner, NULL) && core_pattern_read(&current) >= 0) {
                printf("core_pattern is '%s', not ours: left alone\n", current);
        } else {
                if (limit != UINT_MAX && core_pattern_write_pipe_limit(limit) >= 0)
                        printf("core_pipe_limit restored to %u\n", limit);
                r = core_pattern_restore(saved);
                if (r < 0) {
                        log_error_errno(r, "cannot write core_pattern");
                        config_free(c);
                        return EXIT_FAILURE;
                }
                printf("core_pattern restored to '%s'\n", saved);
        }
        (void) unlink(state);
        config_free(c);
        return EXIT_SUCCESS;
}

/*
 * For socket activation: the pattern is installed once, after the socket
 * exists, and stays through every restart of the daemon; restore-pattern
 * (the unit's ExecStop=) gives back the one saved here.
 */
static int install_pattern(const struct daemon_options *o)
{
        struct pattern_hold hold = {};
        struct config *c = NULL;
        int r;

        r = daemon_load_config(o, &c);
        if (r < 0)
                return EXIT_FAILURE;
        r = mode_install_pattern(&hold, c->listen_path, c->protocol, c->pipe_helper,
                                 daemon_capacity(&c->limits));
        if (r >= 0)
                printf("core_pattern is '%s' (was '%s')\n", hold.ours, hold.previous);
        pattern_hold_done(&hold);
        config_free(c);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

static int status(const struct daemon_options *o)
{
        _cleanup_free_ char *path = NULL, *doc = NULL;
        struct config *c = NULL;
        int r;

        r = daemon_load_config(o, &c);
        if (r < 0)
                return EXIT_FAILURE;
        r = control_path(c->listen_path, &path);
        if (r >= 0)
                r = control_query(path, &doc);
        if (r < 0) {
                log_error_errno(r, "no running daemon answers on %s", path ? path : c->listen_path);
                config_free(c);
                return EXIT_FAILURE;
        }
        fputs(doc, stdout);
        config_free(c);
        return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "install-pattern", no_argument, NULL, 'i' },
                { "log-level", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "socket", required_argument, NULL, 'S' },
                { "listen", required_argument, NULL, 'L' },
                { "on-takeover", required_argument, NULL, 'T' },
                {},
        };
        struct daemon_options o = {};
        const char *metrics_listen = NULL;
        int c;

        /*
         * First: the kernel has no recursion guard for socket dumps, so a
         * crash of ours while dumpable would connect to ourselves and hang.
         */
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                perror("prctl(PR_SET_DUMPABLE)");
                return EXIT_FAILURE;
        }
        /* Before any file is opened: a closed stdout must not become the lock file. */
        if (stdfds_ensure() < 0)
                return EXIT_FAILURE;
        /* Reading kept dumps has options of its own: the verb comes first. */
        if (argc > 1 && (strcmp(argv[1], "list") == 0 || strcmp(argv[1], "info") == 0))
                return dumps_main(argc - 1, argv + 1);

        while ((c = getopt_long(argc, argv, "hV", options, NULL)) >= 0) {
                switch (c) {
                case 'c':
                        o.config_path = optarg;
                        o.config_explicit = true;
                        break;
                case 'i':
                        o.install_pattern = true;
                        break;
                case 'l': {
                        int level = log_level_from_string(optarg);
                        if (level < 0) {
                                fprintf(stderr, "unknown log level %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        log_set_level((enum log_level) level);
                        break;
                }
                case 'S':
                        o.listen_path = optarg;
                        break;
                case 'L':
                        metrics_listen = optarg;
                        break;
                case 'T':
                        if (strcmp(optarg, "exit") != 0 && strcmp(optarg, "wait") != 0) {
                                fprintf(stderr, "--on-takeover: \"exit\" or \"wait\", not %s\n", optarg);
                                return EXIT_FAILURE;
                        }
                        o.wait_after_takeover = strcmp(optarg, "wait") == 0;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                case 'V':
                        printf("coredump-proxy %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                default:
                        return EXIT_FAILURE;
                }
        }

        if (optind < argc) {
                const char *verb = argv[optind];
                if (strcmp(verb, "check-config") == 0) {
                        if (argc - optind != 2) {
                                fprintf(stderr, "usage: coredump-proxy check-config FILE\n");
                                return EXIT_FAILURE;
                        }
                        return check_config(argv[optind + 1]);
                }
                if (strcmp(verb, "install-pattern") == 0)
                        return install_pattern(&o);
                if (strcmp(verb, "restore-pattern") == 0)
                        return restore_pattern(&o);
                if (strcmp(verb, "metrics") == 0)
                        return metrics_main(&o, metrics_listen);
                if (strcmp(verb, "status") == 0) {
                        /* Only the daemon's own messages would be noise here. */
                        log_set_level(LOG_LEVEL_WARNING);
                        return status(&o);
                }
                fprintf(stderr, "unknown command '%s' (see --help)\n", verb);
                return EXIT_FAILURE;
        }

        return daemon_main(&o);
}
