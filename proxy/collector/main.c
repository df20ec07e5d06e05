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

#include "proxy/protocol/collector-msg.h"
#include "config/config.h"
#include "proxy/base/jsonw.h"
#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "proxy/daemon/caps.h"
#include "proxy/base/log.h"
#include "proxy/daemon/sandbox.h"
#include "proxy/store/store.h"

/* How long the proxy may take between connecting and message 3: it has its own, shorter limits. */
#define HANDSHAKE_TIMEOUT (30 * USEC_PER_SEC)
/* A dump that announces no deadline gets this long. */
#define DEFAULT_DUMP_TIMEOUT (5 * 60 * USEC_PER_SEC)

struct collector {
        struct dump_store *store;
        unsigned max_connections;
        unsigned active; /* guarded by lock */
        pthread_mutex_t lock;
        pthread_cond_t done;
};

struct session {
        struct collector *c;
        int fd;
};

static int send_json(int fd, char *msg, size_t len)
{
        int r = fdpass_send(fd, msg, len, NULL, 0);
        free(msg);
        return r;
}

static int decline(int fd, const char *reason)
{
        struct collector_answer a = { .accept = false, .reason = (char *) reason };
        char *msg;
        size_t len;
        int r = collector_answer_format(&a, &msg, &len);

        return r < 0 ? r : send_json(fd, msg, len);
}

static int recv_one(int fd, char *buf, size_t size, int *fds, size_t max_fds, size_t *ret_n_fds,
                    usec_t deadline, size_t *ret_len)
{
        int r = io_wait(fd, POLLIN, deadline);
        if (r < 0)
                return r;
        ssize_t k = fdpass_recv(fd, buf, size, fds, max_fds, ret_n_fds, MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        if (k == 0)
                return -EPIPE;
        *ret_len = (size_t) k;
        return 0;
}

struct metadata_ctx {
        const struct collector_request *req;
};

static int write_metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        const struct collector_request *q = ((struct metadata_ctx *) userdata)->req;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "id", q->id);
        jsonw_kv_string(&w, "time", q->time);
        if (q->pid >= 0)
                jsonw_kv_int(&w, "pid", q->pid);
        else
                jsonw_kv_null(&w, "pid");
        if (q->uid >= 0)
                jsonw_kv_int(&w, "uid", q->uid);
        if (q->gid >= 0)
                jsonw_kv_int(&w, "gid", q->gid);
        jsonw_kv_string(&w, "comm", q->comm);
        jsonw_kv_string(&w, "exe", q->exe);
        jsonw_kv_string(&w, "cmdline", q->cmdline);
        if (q->signal > 0)
                jsonw_kv_int(&w, "signal", q->signal);
        else
                jsonw_kv_null(&w, "signal");
        jsonw_key(&w, "container");
        if (q->has_container) {
                jsonw_object_begin(&w);
                jsonw_kv_string(&w, "runtime", q->runtime);
                jsonw_kv_string(&w, "id", q->container_id);
                if (q->pod_uid)
                        jsonw_kv_string(&w, "pod_uid", q->pod_uid);
                jsonw_object_end(&w);
        } else {
                jsonw_null(&w);
        }
        /* What was read, never what the header announced. */
        jsonw_kv_uint(&w, "bytes", res->bytes);
        jsonw_kv_bool(&w, "truncated", res->cut != STORE_COMPLETE);
        if (res->cut != STORE_COMPLETE)
                jsonw_kv_string(&w, "cut", store_cut_to_string(res->cut));
        if (q->host_pid >= 0)
                jsonw_kv_int(&w, "host_pid", q->host_pid);
        if (q->host_cgroup)
                jsonw_kv_string(&w, "host_cgroup", q->host_cgroup);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

static void handle_session(struct collector *c, int fd)
{
        _cleanup_free_ char *buf = malloc(COLLECTOR_MSG_MAX + 1), *dump_id = NULL, *msg = NULL;
        struct collector_request req = {};
        struct store_result res = {};
        struct metadata_ctx m = { .req = &req };
        int fds[2] = { -EBADF, -EBADF };
        size_t len, n_fds = 0;
        usec_t deadline = io_now() + HANDSHAKE_TIMEOUT;
        int r;

        if (!buf)
                return;

        /* Message 1: no fds may come with it. */
        r = recv_one(fd, buf, COLLECTOR_MSG_MAX + 1, NULL, 0, NULL, deadline, &len);
        if (r < 0) {
                log_warning("reading the request failed: %s", strerror(-r));
                return;
        }
        r = collector_request_parse(buf, len, &req);
        if (r == -EPROTONOSUPPORT) {
                (void) decline(fd, "unsupported-version");
                return;
        }
        if (r < 0) {
                (void) decline(fd, "bad-request");
                log_warning("malformed request: %s", strerror(-r));
                return;
        }

        r = store_check_room(c->store);
        if (r < 0) {
                log_warning("%s: declined, the store is full: %s", req.id, strerror(-r));
                (void) decline(fd, r == -ENOSPC ? "disk-full" : "quota");
                goto out;
        }

        struct collector_answer yes = { .accept = true };
        r = collector_answer_format(&yes, &msg, &len);
        if (r >= 0)
                r = send_json(fd, TAKE_PTR(msg), len);
        if (r < 0)
                goto out;

        /* Message 3: the dump fd first, then optionally the task's pidfd. */
        usec_t dump_deadline =
                io_now() + (req.deadline_ms > 0 ? req.deadline_ms * USEC_PER_MSEC : DEFAULT_DUMP_TIMEOUT);
        r = recv_one(fd, buf, COLLECTOR_MSG_MAX + 1, fds, ARRAY_SIZE(fds), &n_fds, dump_deadline, &len);
        if (r < 0) {
                log_warning("%s: no dump followed the accept: %s", req.id, strerror(-r));
                goto out;
        }
        r = collector_dump_parse(buf, len, &dump_id);
        if (r < 0 || strcmp(dump_id, req.id) != 0 || n_fds < 1 || io_fd_check_type(fds[0], S_IFSOCK) < 0) {
                log_warning("%s: message 3 is not a dump of this request", req.id);
                goto out;
        }

        int w = store_write(c->store, req.id, fds[0], req.max_bytes, dump_deadline, write_metadata, &m,
                            &res);
        struct collector_result result = {
                .has_bytes = w >= 0,
                .bytes = res.bytes,
                .path = res.core_path,
                .error = w < 0 ? (char *) strerror(-w) : NULL,
        };

        /*
         * Close our copy before answering: the proxy shuts the stream down on
         * message 4, which lets the crashing task exit. The log line can wait.
         */
        close_many(fds, n_fds);
        n_fds = 0;
        r = collector_result_format(&result, &msg, &len);
        if (r >= 0)
                (void) send_json(fd, TAKE_PTR(msg), len);

        if (w < 0)
                log_error("%s: writing the dump failed: %s", req.id, strerror(-w));
        else
                log_info("%s: %s (%s) %llu bytes%s%s", req.id, req.comm ? req.comm : "?",
                         req.container_id ? req.container_id : "-", (unsigned long long) res.bytes,
                         res.cut != STORE_COMPLETE ? ", truncated: " : "",
                         res.cut != STORE_COMPLETE ? store_cut_to_string(res.cut) : "");

out:
        close_many(fds, n_fds);
        store_result_done(&res);
        collector_request_done(&req);
}

static void *session_main(void *arg)
{
        struct session *s = arg;
        struct collector *c = s->c;

        handle_session(c, s->fd);
        safe_close(s->fd);
        free(s);

        pthread_mutex_lock(&c->lock);
        c->active--;
        pthread_cond_broadcast(&c->done);
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

static void start_session(struct collector *c, int fd)
{
        struct session *s;
        pthread_attr_t attr;
        pthread_t t;

        pthread_mutex_lock(&c->lock);
        if (c->active >= c->max_connections) {
                pthread_mutex_unlock(&c->lock);
                (void) decline(fd, "busy");
                safe_close(fd);
                return;
        }
        c->active++;
        pthread_mutex_unlock(&c->lock);

        s = malloc(sizeof(*s));
        if (s) {
                *s = (struct session){ .c = c, .fd = fd };
                pthread_attr_init(&attr);
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                (void) pthread_attr_setstacksize(&attr, 256 * 1024);
                if (pthread_create(&t, &attr, session_main, s) == 0) {
                        pthread_attr_destroy(&attr);
                        return;
                }
                pthread_attr_destroy(&attr);
                free(s);
        }
        safe_close(fd);
        pthread_mutex_lock(&c->lock);
        c->active--;
        pthread_mutex_unlock(&c->lock);
}

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
        struct sockaddr_un sa;
        socklen_t salen;
        sigset_t mask;
        int opt, r;

        /* As for the proxy: a crash of ours must never be dumped into the socket we serve. */
        if (prctl(PR_SET_DUMPABLE, 0) < 0) {
                perror("prctl(PR_SET_DUMPABLE)");
                return EXIT_FAILURE;
        }
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

        r = netns_sockaddr_un(address, &sa, &salen);
        if (r < 0)
                return log_error_errno(r, "invalid address '%s'", address), EXIT_FAILURE;
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return log_error_errno(errno, "socket"), EXIT_FAILURE;
        if (address[0] == '/') {
                struct stat st;
                if (lstat(address, &st) >= 0 && S_ISSOCK(st.st_mode))
                        (void) unlink(address);
        }
        if (bind(fd, (struct sockaddr *) &sa, salen) < 0 || listen(fd, 64) < 0)
                return log_error_errno(errno, "cannot listen on %s", address), EXIT_FAILURE;

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
                                start_session(&c, conn);
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
        store_free(c.store);
        return EXIT_SUCCESS;
}
