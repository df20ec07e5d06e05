/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The collector's checks (proxy/collector/auth.c) on sockets a process can
 * make itself: every one is refused as a dump, for the right reason. A peer
 * outside the pid namespace (as the proxy is) is made with a child in a
 * new pid namespace, when we may make one. The real dump, the kernel's own
 * connection, is tested end to end in tests/daemon-collector-auth.sh.
 */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/sockopt.h"
#include "proxy/collector/auth.h"
#include "tests/tap.h"

static int dump_check_mode(const struct auth_policy *p, int fd, bool pipe_mode, struct auth_facts *facts,
                           const char **why)
{
        enum auth_refusal refusal;
        int r = auth_check_dump(p, fd, pipe_mode, facts, &refusal);

        *why = r == -EACCES ? auth_refusal_to_string(refusal) : NULL;
        return r;
}

static int dump_check(const struct auth_policy *p, int fd, struct auth_facts *facts, const char **why)
{
        return dump_check_mode(p, fd, false, facts, why);
}

static void test_own_sockets(uint64_t own)
{
        struct auth_policy here = { .netns_cookie = own }, elsewhere = { .netns_cookie = own + 1 };
        struct auth_facts facts = {};
        const char *why;
        int sv[2], pfd[2];

        /* What any process of the pod can make: in our own network namespace. */
        ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "a stream socketpair");
        is_int(dump_check(&here, sv[0], &facts, &why), -EACCES, "socketpair: refused");
        is_str(why, "own-network-namespace", "socketpair: made in our network namespace");

        /*
         * Pretending it came from elsewhere shows the next check: its peer is
         * ourselves, a live process the kernel is not dumping.
         */
        is_int(dump_check(&elsewhere, sv[0], &facts, &why), -EACCES, "socketpair from elsewhere: refused");
        is_str(why, "not-coredumping", "socketpair from elsewhere: its peer is not being dumped");
        close_many(sv, 2);

        ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "a seqpacket socketpair");
        is_int(dump_check(&elsewhere, sv[0], &facts, &why), -EACCES, "seqpacket: refused");
        is_str(why, "not-a-stream", "seqpacket: not a stream");
        close_many(sv, 2);

        ok(pipe2(pfd, O_CLOEXEC) == 0, "a pipe");
        is_int(dump_check(&elsewhere, pfd[0], &facts, &why), -EACCES, "pipe: refused");
        is_str(why, "pipe", "pipe: a pipe, and no --accept-pipe");
        is_int(dump_check_mode(&elsewhere, pfd[0], true, &facts, &why), -EACCES,
               "pipe in a pipe-mode request: refused without --accept-pipe");
        is_str(why, "pipe", "pipe in a pipe-mode request: no --accept-pipe");

        /* --accept-pipe: taken only when message 1 says pipe, and then nothing is proven. */
        struct auth_policy pipes = elsewhere;
        pipes.accept_pipe = true;
        is_int(dump_check(&pipes, pfd[0], &facts, &why), -EACCES,
               "--accept-pipe, request not in pipe mode: refused");
        is_str(why, "pipe", "--accept-pipe, request not in pipe mode: a socket was due");
        facts = (struct auth_facts){ .pid = 7, .uid = 7, .gid = 7 };
        is_int(dump_check_mode(&pipes, pfd[0], true, &facts, &why), 0, "--accept-pipe, pipe mode: taken");
        is_str(auth_proof_to_string(facts.proof), "none", "--accept-pipe: proven by nothing");
        ok(facts.pid == -1 && facts.uid == -1 && facts.gid == -1, "--accept-pipe: no id taken for proven");
        pipes.require_task = true;
        is_int(dump_check_mode(&pipes, pfd[0], true, &facts, &why), -EACCES,
               "--accept-pipe with --require-task-proof: refused");
        is_str(why, "task-not-visible", "--require-task-proof: a pipe proves no task");
        close_many(pfd, 2);
        facts = (struct auth_facts){};

        _cleanup_close_ int lone = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        is_int(dump_check(&elsewhere, lone, &facts, &why), -EACCES, "unconnected: refused");
        is_str(why, "no-peer", "unconnected: no peer");
        is_int(facts.proof, 0, "nothing was written into the facts");
        is_int(facts.pid, 0, "nothing was written into the facts (pid)");
}

static void test_peers(void)
{
        struct auth_policy strict = {}, host = { .allow_host_peer = true };
        enum auth_refusal why = _AUTH_REFUSAL_MAX;
        int sv[2];

        ok(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0, "a seqpacket socketpair");
        is_int(auth_check_peer(&strict, sv[0], &why), -EACCES, "a peer in our pid namespace: refused");
        is_str(auth_refusal_to_string(why), "peer-in-pid-namespace", "... because it is one of ours");
        if (geteuid() == 0) {
                is_int(auth_check_peer(&host, sv[0], &why), 0, "--allow-host-peer: root may");
        } else {
                is_int(auth_check_peer(&host, sv[0], &why), -EACCES, "--allow-host-peer: not root, refused");
                is_str(auth_refusal_to_string(why), "peer-not-root", "... because it is not root");
        }
        close_many(sv, 2);
}

/* What a process in a pid namespace of its own sees of a peer outside it. */
struct hidden_result {
        int peer, dump, strict;
        int strict_why;
        int proof;
        int64_t pid, uid, gid;
};

static void check_from_inside(int fd, uint64_t other_cookie, int out)
{
        struct auth_policy p = { .netns_cookie = other_cookie }, strict = p;
        struct hidden_result res = {};
        struct auth_facts facts = { .pid = -2 };
        enum auth_refusal why = 0;

        strict.require_task = true;
        res.peer = auth_check_peer(&p, fd, &why);
        res.dump = auth_check_dump(&p, fd, false, &facts, &why);
        res.proof = facts.proof;
        res.pid = facts.pid;
        res.uid = facts.uid;
        res.gid = facts.gid;
        res.strict = auth_check_dump(&strict, fd, false, &facts, &why);
        res.strict_why = why;
        (void) !write(out, &res, sizeof(res));
}

static void test_hidden_peer(uint64_t own)
{
        struct hidden_result res = {};
        int sv[2], pfd[2], status = 0;
        pid_t child;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(pfd, O_CLOEXEC) < 0)
                return (void) ok(false, "socketpair and pipe");
        child = fork();
        if (child == 0) {
                /* The grandchild is in the new pid namespace; we (its parent's peer) are not. */
                if (unshare(CLONE_NEWPID) < 0)
                        _exit(77);
                pid_t inner = fork();
                if (inner == 0) {
                        check_from_inside(sv[1], own + 1, pfd[1]);
                        _exit(0);
                }
                _exit(inner > 0 && waitpid(inner, &status, 0) == inner && status == 0 ? 0 : 1);
        }
        safe_close(pfd[1]);
        bool got = read(pfd[0], &res, sizeof(res)) == (ssize_t) sizeof(res);
        safe_close(pfd[0]);
        waitpid(child, &status, 0);
        close_many(sv, 2);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
                ok(true, "# SKIP no new pid namespace here (needs CAP_SYS_ADMIN)");
                return;
        }
        ok(got, "the child in its own pid namespace reported");
        is_int(res.peer, 0, "a peer outside our pid namespace may talk to us");
        is_int(res.dump, 0,
               "a task out of sight, a stream from elsewhere: what the connection proves holds");
        is_int(res.proof, AUTH_PROOF_CONNECTION, "... proven by the connection only");
        is_int(res.pid, -1, "... the pid is not proven");
        is_int(res.uid, (int64_t) geteuid(), "... the uid is the peer's");
        is_int(res.gid, (int64_t) getegid(), "... the gid is the peer's");
        is_int(res.strict, -EACCES, "--require-task-proof: refused");
        is_str(auth_refusal_to_string(res.strict_why), "task-not-visible", "... the task is out of sight");
}

int main(void)
{
        uint64_t own = 0;
        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (sockopt_netns_cookie(probe, &own) < 0)
                tap_skip_all("no SO_NETNS_COOKIE (5.14)");
        test_own_sockets(own);
        test_peers();
        test_hidden_peer(own);

        is_str(auth_proof_to_string(AUTH_PROOF_PIDFD), "pidfd", "proof names: pidfd");
        is_str(auth_proof_to_string(AUTH_PROOF_CONNECTION), "connection", "proof names: connection");
        for (int i = 0; i < _AUTH_REFUSAL_MAX; i++)
                ok(auth_refusal_to_string((enum auth_refusal) i), "refusal %d has a name", i);
        return tap_done();
}
