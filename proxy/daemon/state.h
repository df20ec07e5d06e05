/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The daemon's long-lived state, shared by its parts (loop, start, status, reload, lost dumps). */

#include <pthread.h>
#include <stdbool.h>

#include "kernel/cgroup.h"
#include "kernel/io.h"
#include "proxy/daemon/control.h"
#include "proxy/daemon/daemon.h"
#include "proxy/daemon/inflight.h"
#include "proxy/daemon/keeper.h"
#include "proxy/daemon/mode.h"
#include "proxy/daemon/workers.h"
#include "proxy/dump/env.h"
#include "proxy/dump/setup.h"

struct proc_connector;
struct accounting;

struct daemon {
        const struct daemon_options *options;
        struct config *initial_config; /* loaded before the keeper forked us: start-up takes it */
        struct proxy_setup *setup;     /* the loop's: swapped whole by a reload, under setup_lock */
        pthread_mutex_t setup_lock;    /* workers that accept take their reference under it */
        struct dump_env env;
        struct worker_pool *pool;
        struct inflight inflight;

        int listen_fd;
        bool activated; /* listen_fd was passed by the service manager, which holds its backlog */
        int lock_fd;
        int epoll_fd;
        int signal_fd;
        int cgroup2_fd;
        char *cgroup2_path;
        /* The cgroup v1 hierarchies, open, for containers of runtimes that use v1 only. */
        struct cgroup1_mount *cgroup1_mounts;
        struct identify_v1_mount *v1_mounts;
        size_t n_v1_mounts;
        char *socket_path;

        /* Where the host's network namespace is (env.host_netns), and whether we run in it. */
        const char *host_netns_found_by; /* NULL: not found from here */
        bool in_host_netns;
        int host_netns_fd; /* outside it: the host's, for the proc connector's socket, until opened */
        const char *accounting_off; /* why lost dumps are not accounted; NULL when they are */

        /* Which intake the kernel gets (proxy/daemon/mode.c); the pipe intake's socket in pipe mode. */
        enum intake_mode mode;
        int pipe_fd;
        char *pipe_path;

        struct keeper_link keeper; /* --install-pattern: the process that owns core_pattern for us */
        pid_t upload_pid;          /* the host store's upload runner (store.exec); 0 none */
        pid_t summary_pid;         /* the host store's summary runner (store.summary); 0 none */

        /* The service manager's notify socket (proxy/daemon/ready.c); -EBADF without one. */
        int notify_fd;
        usec_t notify_next;
        char *notify_last;

        struct control *control;          /* NULL: `status` and hooks cannot reach us */
        struct control *metrics;          /* <listen.path>.metrics: counters for any local user */
        struct proc_connector *connector; /* NULL: lost dumps are not accounted */
        usec_t connector_due;             /* when the events that woke us are read; USEC_INFINITY: none */
        struct accounting *accounting;
        usec_t started_wall;

        usec_t next_sweep; /* when registrations and cached names of gone containers are dropped next */

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

/*
 * proxy/daemon/listener.c: the kernel socket, one daemon per path; with
 * m->activated the passed one, neither created nor removed by us.
 */
int listener_open(struct daemon *m, const char *path);
/*
 * In the process the service manager started (the keeper, before the
 * fork): the socket LISTEN_FDS passes, checked to be the AF_UNIX stream
 * socket listening at path. 1 and its fd; 0 when none was passed; logs and
 * returns the error otherwise.
 */
int listener_take_activated(const char *path, int *ret_fd);

/*
 * proxy/daemon/ready.c: the service manager hears READY=1 once we serve,
 * STOPPING=1, and STATUS= lines with counts (at most every few seconds).
 */
void ready_open(struct daemon *m);
void ready_serving(struct daemon *m);
void ready_stopping(struct daemon *m);
void ready_status(struct daemon *m);
/* How long the loop may sleep before ready_status() has something to say; -1: forever. */
int ready_timeout(const struct daemon *m);
void ready_close(struct daemon *m);

/* proxy/daemon/lost.c: crashes the kernel started that never reached the socket. */
/* Reads what the proc connector queued, a batch at most; true when more may be queued. */
bool lost_on_connector(struct daemon *m);
/* Socket modes: idle workers accept from the listener themselves (proxy/daemon/daemon.c). */
void daemon_accept_on_workers(struct daemon *m);
void lost_on_wake(struct daemon *m);
void lost_read_due(struct daemon *m);
void lost_expire(struct daemon *m);

/* proxy/daemon/status.c: the document `coredump-proxy status` prints. */
int status_build(void *userdata, char **ret, size_t *ret_len);
int status_metrics_handle(void *userdata, const struct control_request *q, int pidfd, char **ret,
                          size_t *ret_len);

/* proxy/daemon/hooks.c: the control socket's requests; names and registrations set up. */
int hooks_handle(void *userdata, const struct control_request *q, int pidfd, char **ret, size_t *ret_len);
int hooks_open(struct daemon *m);

/* proxy/daemon/reload.c */
int reload_begin(struct daemon *m);
void reload_finish(struct daemon *m);
