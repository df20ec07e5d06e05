/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Small peers for the real-kernel tests of kernel/:
 *
 *   cdp-test-peer connect PATH [HOLD_MS]   connect to a stream socket and hold it (a spoofed
 *                                          "crash" on the kernel socket); prints connected=1
 *   cdp-test-peer listen ADDRESS           SOCK_SEQPACKET listener in the current netns; takes one
 *                                          connection, one message with one fd, prints
 *                                          payload=... fd_type=... content=...
 *   cdp-test-peer send PID ADDRESS FILE    connect to ADDRESS inside PID's network namespace (via its
 *                                          pidfd) and pass FILE's fd with SCM_RIGHTS
 *   cdp-test-peer send-here ADDRESS FILE   the same without entering a namespace
 *   cdp-test-peer cgroup-id DIR            prints the cgroup id of a cgroup2 directory
 *   cdp-test-peer cgroup-path ID           prints the cgroup2 path of an id
 *   cdp-test-peer cgroup-walk MOUNT PATH ID
 *                                          walks PATH below the hierarchy mounted at MOUNT (ID: the
 *                                          cgroup it must end at, 0 none); prints "id uid" per level
 *   cdp-test-peer cgroup-lines PID         prints /proc/PID/cgroup as parsed: H|controllers|path
 *   cdp-test-peer pattern-install PATH request|plain
 *                                          installs a socket pattern, prints what was installed,
 *                                          restores, prints what is there afterwards
 *   cdp-test-peer pattern-check PATTERN    prints valid=1 if kernel/ accepts the pattern
 *   cdp-test-peer core-modes               prints the modes the kernel lists
 *   cdp-test-peer coredump-mask PID        prints the pidfd's coredump_mask (dumpability of a live task)
 *   cdp-test-peer pidfd-ioctl PID          the kernel's own PIDFD_GET_INFO, no fallback: mask=... or
 *                                          error=...
 *   cdp-test-peer pidfd-facts PID          what kernel/pidfd.c says of PID, with its fallbacks: pid=
 *                                          tgid= ruid= euid= cgroup_id= netns_ino= alive=
 *   cdp-test-peer collector ADDRESS MODE   a misbehaving collector (SOCK_SEQPACKET listener) for every
 *                                          connection: MODE decline (answers no), decline-late (the same
 *                                          1 s later), silent (never answers),
 *                                          stall (accepts, takes the dump, never reads it), garbage
 *                                          (answers with non-JSON), close (accepts, then closes at once
 *                                          after message 3), fail-unread (takes the dump, reads nothing,
 *                                          answers message 4 {"error":"quota","consumed":false}),
 *                                          fail-partial (reads 4 KiB, then answers an error with those
 *                                          bytes), keep (a good one: reads the dump to its
 *                                          end, answers {"bytes": N}, prints kept=N; it keeps its
 *                                          capabilities, unlike coredump-collector), handoff:UID (keep,
 *                                          but a child that switched to UID answers for the listener);
 *                                          prints one line per connection
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/core-pattern.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "kernel/pidfd.h"

static int fail(const char *what, int r)
{
        fprintf(stderr, "%s: %s\n", what, strerror(-r));
        printf("error=%d\n", r);
        return 1;
}

static int do_connect(const char *path, unsigned hold_ms)
{
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int r = netns_sockaddr_un(path, &sa, &len);

        if (r < 0)
                return fail("address", r);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, len) < 0)
                return fail("connect", negative_errno());
        printf("connected=1\n");
        fflush(stdout);
        (void) usleep(hold_ms * 1000U);
        return 0;
}

static int do_listen(const char *address)
{
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), conn = -EBADF;
        int fds[4], r;
        size_t n_fds = 0;
        char payload[256] = {};

        r = netns_sockaddr_un(address, &sa, &len);
        if (r < 0)
                return fail("address", r);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 16) < 0)
                return fail("listen", negative_errno());
        printf("listening=1\n");
        fflush(stdout);

        conn = RETRY_EINTR(accept4(fd, NULL, NULL, SOCK_CLOEXEC));
        if (conn < 0)
                return fail("accept", negative_errno());
        ssize_t k = fdpass_recv(conn, payload, sizeof(payload) - 1, fds, ARRAY_SIZE(fds), &n_fds, 0);
        if (k < 0)
                return fail("recv", (int) k);
        printf("payload=%.*s\nn_fds=%zu\n", (int) k, payload, n_fds);
        if (n_fds == 1) {
                _cleanup_close_ int file = fds[0];
                _cleanup_free_ char *content = NULL;
                struct stat st;

                if (fstat(file, &st) < 0)
                        return fail("fstat", negative_errno());
                printf("fd_type=%s\n", S_ISREG(st.st_mode)    ? "file"
                                       : S_ISSOCK(st.st_mode) ? "socket"
                                                              : "other");
                printf("cloexec=%d\n", (fcntl(file, F_GETFD) & FD_CLOEXEC) ? 1 : 0);
                char proc[64];
                (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", file);
                r = io_read_file_at(AT_FDCWD, proc, 1 << 20, &content, NULL);
                if (r < 0)
                        return fail("read", r);
                printf("content=%s\n", content);
        } else {
                close_many(fds, n_fds);
        }
        return 0;
}

static int do_send(int ns_fd, const char *address, const char *file)
{
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int conn = -EBADF, fd = -EBADF;
        int r;

        r = netns_sockaddr_un(address, &sa, &len);
        if (r < 0)
                return fail("address", r);
        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return fail("open", negative_errno());

        if (ns_fd >= 0)
                conn = netns_connect_unix(ns_fd, SOCK_SEQPACKET, &sa, len, io_now() + 5 * USEC_PER_SEC);
        else {
                conn = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
                if (conn >= 0 && connect(conn, (struct sockaddr *) &sa, len) < 0)
                        conn = safe_close(conn), conn = negative_errno();
        }
        if (conn < 0)
                return fail("connect", conn);

        r = fdpass_send(conn, "hello", 5, &fd, 1);
        if (r < 0)
                return fail("send", r);
        printf("sent=1\n");
        return 0;
}

/*
 * A collector whose write failed: before reading anything (the stream is
 * untouched, it says so) or after reading part of it (the bytes are gone).
 */
static void collector_fail(int conn, int *fds, size_t n_fds, bool partial)
{
        char result[128], chunk[4096];
        ssize_t got = 0;

        if (partial && n_fds > 0)
                got = io_read_exact(fds[0], chunk, sizeof(chunk), io_now() + 5 * USEC_PER_SEC) < 0
                              ? -1
                              : (ssize_t) sizeof(chunk);
        if (partial)
                (void) snprintf(result, sizeof(result), "{\"error\":\"disk full\",\"bytes\":%zd}",
                                got < 0 ? 0 : got);
        else
                (void) snprintf(result, sizeof(result), "{\"error\":\"quota\",\"consumed\":false}");
        printf("read=%zd\n", got);
        fflush(stdout);
        (void) fdpass_send(conn, result, strlen(result), NULL, 0);
        close_many(fds, n_fds);
        safe_close(conn);
}

/* One good session: message 1 read, accept, the dump read to its end, message 4. */
static void keep_session(int conn, char *buf, size_t size)
{
        static const char yes[] = "{\"accept\":true}";
        char result[64];
        int fds[4];
        size_t n_fds = 0;
        uint64_t total = 0;

        (void) fdpass_send(conn, yes, sizeof(yes) - 1, NULL, 0);
        if (fdpass_recv(conn, buf, size, fds, ARRAY_SIZE(fds), &n_fds, 0) < 0 || n_fds == 0) {
                printf("kept=-1\n");
                fflush(stdout);
                return;
        }
        for (;;) {
                ssize_t k = read(fds[0], buf, size);
                if (k <= 0)
                        break;
                total += (uint64_t) k;
        }
        close_many(fds, n_fds);
        int len = snprintf(result, sizeof(result), "{\"bytes\":%llu}", (unsigned long long) total);
        /* Said before message 4: once the daemon's event is out, a test may count these lines. */
        printf("kept=%llu\n", (unsigned long long) total);
        fflush(stdout);
        (void) fdpass_send(conn, result, (size_t) len, NULL, 0);
}

/* handoff: the listener's child, as another uid, answers and takes the dump. */
static void handoff_session(int conn, uid_t uid, char *buf, size_t size)
{
        pid_t pid = fork();

        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(1);
                keep_session(conn, buf, size);
                _exit(0);
        }
        if (pid > 0)
                (void) waitpid(pid, NULL, 0);
}

static int do_collector(const char *address, const char *mode)
{
        struct sockaddr_un sa;
        socklen_t len;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        int r = netns_sockaddr_un(address, &sa, &len);

        if (r < 0)
                return fail("address", r);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 16) < 0)
                return fail("listen", negative_errno());
        printf("listening=1\n");
        fflush(stdout);

        /* Connections are kept open (leaked on purpose) for the modes that must hold them. */
        for (;;) {
                int conn = RETRY_EINTR(accept4(fd, NULL, NULL, SOCK_CLOEXEC));
                char buf[65536];
                int fds[4];
                size_t n_fds = 0;

                if (conn < 0)
                        return fail("accept", negative_errno());
                ssize_t k = fdpass_recv(conn, buf, sizeof(buf), NULL, 0, NULL, 0);
                printf("request=%zd\n", k);
                fflush(stdout);
                if (strcmp(mode, "silent") == 0)
                        continue;
                /* decline-late: the kernel, acked early, has filled the socket by the time we say no. */
                if (strcmp(mode, "decline-late") == 0)
                        (void) usleep(1000 * 1000);
                if (strcmp(mode, "decline") == 0 || strcmp(mode, "decline-late") == 0) {
                        static const char no[] = "{\"accept\":false,\"reason\":\"testing\"}";
                        (void) fdpass_send(conn, no, sizeof(no) - 1, NULL, 0);
                        safe_close(conn);
                        continue;
                }
                if (strcmp(mode, "garbage") == 0) {
                        (void) fdpass_send(conn, "\x01\x02 not json", 11, NULL, 0);
                        continue;
                }
                if (strcmp(mode, "keep") == 0) {
                        keep_session(conn, buf, sizeof(buf));
                        safe_close(conn);
                        continue;
                }
                if (strncmp(mode, "handoff:", 8) == 0) {
                        handoff_session(conn, (uid_t) atoi(mode + 8), buf, sizeof(buf));
                        safe_close(conn);
                        continue;
                }
                static const char yes[] = "{\"accept\":true}";
                (void) fdpass_send(conn, yes, sizeof(yes) - 1, NULL, 0);
                k = fdpass_recv(conn, buf, sizeof(buf), fds, ARRAY_SIZE(fds), &n_fds, 0);
                printf("dump=%zd fds=%zu\n", k, n_fds);
                fflush(stdout);
                if (strcmp(mode, "close") == 0) {
                        close_many(fds, n_fds);
                        safe_close(conn);
                }
                if (strcmp(mode, "fail-unread") == 0 || strcmp(mode, "fail-partial") == 0)
                        collector_fail(conn, fds, n_fds, strcmp(mode, "fail-partial") == 0);
                /* stall: keep the dump fd and the connection, read nothing. */
        }
}

int main(int argc, char **argv)
{
        if (argc >= 3 && strcmp(argv[1], "connect") == 0)
                return do_connect(argv[2], argc > 3 ? (unsigned) atoi(argv[3]) : 1000);
        if (argc == 3 && strcmp(argv[1], "listen") == 0)
                return do_listen(argv[2]);
        if (argc == 5 && strcmp(argv[1], "send") == 0) {
                _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[2]), 0);
                if (pidfd < 0)
                        return fail("pidfd_open", negative_errno());
                return do_send(pidfd, argv[3], argv[4]);
        }
        if (argc == 4 && strcmp(argv[1], "send-here") == 0)
                return do_send(-EBADF, argv[2], argv[3]);
        if (argc == 3 && strcmp(argv[1], "cgroup-id") == 0) {
                uint64_t id;
                int r = cgroup_id_from_path(argv[2], &id);
                if (r < 0)
                        return fail("cgroup-id", r);
                printf("%llu\n", (unsigned long long) id);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "cgroup-path") == 0) {
                _cleanup_free_ char *mnt = NULL, *path = NULL;
                _cleanup_close_ int mfd = -EBADF;
                int r = cgroup2_find_mount(&mnt);
                if (r < 0)
                        return fail("cgroup2 mount", r);
                mfd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (mfd < 0)
                        return fail("open", negative_errno());
                r = cgroup_id_to_path(mfd, mnt, strtoull(argv[2], NULL, 10), &path);
                if (r < 0)
                        return fail("cgroup-path", r);
                printf("%s\n", path);
                return 0;
        }
        if (argc == 5 && strcmp(argv[1], "cgroup-walk") == 0) {
                _cleanup_free_ struct cgroup_level *levels = NULL;
                _cleanup_close_ int mfd = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                size_t n = 0;
                int r;
                if (mfd < 0)
                        return fail("open", negative_errno());
                r = cgroup_walk(mfd, argv[3], strtoull(argv[4], NULL, 10), &levels, &n);
                if (r < 0)
                        return fail("cgroup-walk", r);
                for (size_t i = 0; i < n; i++)
                        printf("%llu %u %.*s\n", (unsigned long long) levels[i].id, levels[i].uid,
                               (int) levels[i].end, argv[3]);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "cgroup-lines") == 0) {
                _cleanup_free_ char *text = NULL, *p = NULL;
                struct cgroup_line *lines;
                size_t n;
                if (asprintf(&p, "/proc/%s/cgroup", argv[2]) < 0)
                        return 1;
                int r = io_read_file_at(AT_FDCWD, p, 65536, &text, NULL);
                if (r < 0)
                        return fail("read", r);
                r = cgroup_parse_proc(text, &lines, &n);
                if (r < 0)
                        return fail("parse", r);
                for (size_t i = 0; i < n; i++)
                        printf("%u|%s|%s\n", lines[i].hierarchy, lines[i].controllers, lines[i].path);
                cgroup_lines_free(lines, n);
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "pattern-install") == 0) {
                _cleanup_free_ char *previous = NULL, *installed = NULL, *restored = NULL;
                bool request = false;
                int r = core_pattern_install(argv[2], strcmp(argv[3], "request") == 0, &previous, &request);
                if (r < 0)
                        return fail("install", r);
                r = core_pattern_read(&installed);
                printf("previous=%s\nrequest=%d\ninstalled=%s\n", previous, request, r < 0 ? "" : installed);
                r = core_pattern_restore(previous);
                if (r < 0)
                        return fail("restore", r);
                r = core_pattern_read(&restored);
                if (r < 0)
                        return fail("read", r);
                printf("restored=%s\n", restored);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "pattern-check") == 0) {
                enum core_pattern_kind kind;
                printf("valid=%d\n", core_pattern_parse(argv[2], &kind, NULL) >= 0);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "core-modes") == 0) {
                struct core_modes m;
                int r = core_pattern_read_modes(&m);
                if (r < 0)
                        return fail("core_modes", r);
                printf("file=%d\npipe=%d\nsocket=%d\n", m.file, m.pipe, m.socket);
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "collector") == 0)
                return do_collector(argv[2], argv[3]);
        if (argc == 3 && strcmp(argv[1], "coredump-mask") == 0) {
                _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[2]), 0);
                struct cdp_pidfd_info info;
                if (pidfd < 0)
                        return fail("pidfd_open", negative_errno());
                int r = pidfd_get_info(pidfd, PIDFD_INFO_COREDUMP, &info);
                if (r < 0)
                        return fail("pidfd_info", r);
                printf("%u\n", info.coredump_mask);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "pidfd-ioctl") == 0) {
                _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[2]), 0);
                struct cdp_pidfd_info info = { .mask = PIDFD_INFO_PID };
                if (pidfd < 0)
                        return fail("pidfd_open", negative_errno());
                if (ioctl(pidfd, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER0_COMPAT), &info) < 0)
                        return fail("PIDFD_GET_INFO", negative_errno());
                printf("mask=0x%llx\n", (unsigned long long) info.mask);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "pidfd-facts") == 0) {
                _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, atoi(argv[2]), 0), ns = -EBADF;
                struct cdp_pidfd_info info;
                uint64_t ino = 0;
                if (pidfd < 0)
                        return fail("pidfd_open", negative_errno());
                int r = pidfd_get_info(pidfd, PIDFD_INFO_PID | PIDFD_INFO_CREDS | PIDFD_INFO_CGROUPID,
                                       &info);
                if (r < 0)
                        return fail("pidfd_get_info", r);
                ns = pidfd_get_namespace(pidfd, PIDFD_GET_NET_NAMESPACE);
                if (ns < 0)
                        return fail("pidfd_get_namespace", ns);
                (void) netns_inode(ns, &ino);
                printf("pid=%u tgid=%u ruid=%u euid=%u cgroup_id=%llu netns_ino=%llu alive=%d\n", info.pid,
                       info.tgid, info.ruid, info.euid, (unsigned long long) info.cgroupid,
                       (unsigned long long) ino, pidfd_is_alive(pidfd));
                return 0;
        }
        fprintf(stderr, "usage: see the comment at the top of cdp-test-peer.c\n");
        return 2;
}
