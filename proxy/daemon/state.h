/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's long-lived state, shared by its parts (loop, start, status, reload, lost dumps). */

#include <stdbool.h>

#include "kernel/io.h"
#include "proxy/daemon/daemon.h"
#include "proxy/daemon/inflight.h"
#include "proxy/daemon/mode.h"
#include "proxy/daemon/pattern.h"
#include "proxy/daemon/workers.h"
#include "proxy/dump/env.h"
#include "proxy/dump/setup.h"

struct proc_connector;
struct accounting;

struct daemon {
        const struct daemon_options *options;
        struct proxy_setup *setup; /* the loop's: swapped whole by a reload */
        struct dump_env env;
        struct worker_pool *pool;
        struct inflight inflight;

        int listen_fd;
        int lock_fd;
        int epoll_fd;
        int signal_fd;
        int cgroup2_fd;
        char *cgroup2_path;
        char *socket_path;

        struct pattern_hold pattern;
        /* Which intake the kernel gets (proxy/daemon/mode.c); the pipe intake's socket in pipe mode. */
        enum intake_mode mode;
        int pipe_fd;
        char *pipe_path;

        int control_fd;
        char *control_path;
        struct proc_connector *connector; /* NULL: lost dumps are not accounted */
        struct accounting *accounting;
        usec_t started_wall;

        /* A reload runs off the loop: its result comes back through this fd. */
        int reload_fd;
        bool reloading;
};

/* proxy/daemon/start.c */
int daemon_start(struct daemon *m);
/* Workers only host dumps may use, beyond max_concurrent. */
unsigned host_workers(const struct limits *l);
/* Dumps the daemon holds at once, running and queued: what core_pipe_limit must allow in pipe mode. */
unsigned daemon_capacity(const struct limits *l);

/* proxy/daemon/mode.c: the mode and why, the pipe intake, the pattern (before the sandbox). */
int mode_start(struct daemon *m);
/*
 * The dumps the pipe helper kept while no daemon answered, as event lines:
 * once started (the event log's writer is a thread, and threads come after
 * the capabilities are reduced).
 */
void mode_report_unseen(struct daemon *m);

/* proxy/daemon/listener.c: the kernel socket, one daemon per path. */
int listener_open(struct daemon *m, const char *path);

/* proxy/daemon/lost.c: crashes the kernel started that never reached the socket. */
void lost_on_connector(struct daemon *m);
void lost_expire(struct daemon *m);

/* proxy/daemon/status.c: the document `coredump-proxy status` prints. */
int status_build(void *userdata, char **ret, size_t *ret_len);

/* proxy/daemon/reload.c */
int reload_begin(struct daemon *m);
void reload_finish(struct daemon *m);
