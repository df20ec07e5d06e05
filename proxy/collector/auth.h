/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Who may talk to the collector, and whether a dump fd is the kernel's:
 * what the kernel proves, with no word of the peer taken for it. The rules
 * and which facts hold in which case are in docs/collector-protocol.md
 * ("How the collector knows a dump is real").
 */

#include <stdbool.h>
#include <stdint.h>

struct auth_policy {
        uint64_t netns_cookie; /* our own network namespace (the listening socket's) */
        bool allow_host_peer;  /* a peer in our pid namespace, if it is root (a collector on the host) */
        bool require_task;     /* refuse dumps of tasks our pid namespace does not see */
        bool accept_pipe;      /* take a pipe as the dump when message 1 says "pipe" (unproven) */
};

/* How much of a dump's origin the kernel proved. */
enum auth_proof {
        /*
         * The task is in our pid namespace (or below it): its pidfd says the
         * kernel is dumping it, and pid, uid and gid are the pidfd's.
         */
        AUTH_PROOF_PIDFD,
        /*
         * The task is out of sight: the fd is a connection made in another
         * network namespace by a task outside our pid namespace; uid and gid
         * are its peer credentials, the pid is unproven.
         */
        AUTH_PROOF_CONNECTION,
        /*
         * A pipe (the pipe intake of kernels before 6.16), taken with
         * --accept-pipe: nothing the kernel shows tells the kernel's pipe
         * from one any process made, so every key is the proxy's word.
         */
        AUTH_PROOF_NONE,
        _AUTH_PROOF_MAX,
};
/* "pidfd", "connection", "none" */
const char *auth_proof_to_string(enum auth_proof p);
int auth_proof_from_string(const char *s);

enum auth_refusal {
        AUTH_PEER_IN_PID_NAMESPACE, /* the connecting process is one of ours: not the proxy */
        AUTH_PEER_NOT_ROOT,         /* --allow-host-peer, and a peer other than root */
        AUTH_NOT_STREAM,            /* the dump is no AF_UNIX stream socket */
        AUTH_OWN_NETWORK,           /* made in our own network namespace: by one of the pod's processes */
        AUTH_NO_PEER,               /* not connected, or no peer pidfd */
        AUTH_NOT_COREDUMPING,       /* the peer is a visible task the kernel is not dumping */
        AUTH_SENSITIVE,             /* a setuid-style dump: the proxy never forwards those */
        AUTH_TASK_GONE,             /* the peer task has exited: no crash is being dumped through it */
        AUTH_TASK_NOT_VISIBLE,      /* --require-task-proof, and a task out of sight */
        AUTH_PIPE,                  /* a pipe, and no --accept-pipe (or message 1 is no pipe-mode dump) */
        _AUTH_REFUSAL_MAX,
};
/* "peer-in-pid-namespace", "peer-not-root", "not-a-stream", ... */
const char *auth_refusal_to_string(enum auth_refusal r);
int auth_refusal_from_string(const char *s);

/* The dump's task as the kernel shows it to us. */
struct auth_facts {
        enum auth_proof proof;
        int64_t pid; /* our pid namespace's view; -1 when not proven */
        int64_t uid; /* our user namespace's view */
        int64_t gid;
};

/*
 * The process at the other end of a new connection (SO_PEERCRED): it must
 * be outside our pid namespace, as the proxy is. 0: it may go on; -EACCES:
 * refused, *ret_refusal says why; other -errno: the kernel did not answer.
 */
int auth_check_peer(const struct auth_policy *p, int conn_fd, enum auth_refusal *ret_refusal);

/*
 * The fd that came as the dump: the kernel's coredump connection, or not.
 * pipe_mode: message 1 said "mode": "pipe". 0 with *ret filled; -EACCES
 * with *ret_refusal; other -errno.
 */
int auth_check_dump(const struct auth_policy *p, int dump_fd, bool pipe_mode, struct auth_facts *ret,
                    enum auth_refusal *ret_refusal);
