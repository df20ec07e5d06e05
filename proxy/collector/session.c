/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One dump, as the collector protocol delivers it (docs/collector-protocol.md):
 * the request, our answer, the stream, our result. The metadata file is
 * written from the request's record by the same formatter the host store
 * uses, so both <id>.json files of a dump have one schema.
 */

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "proxy/base/jsonw.h"
#include "proxy/base/log.h"
#include "proxy/collector/collector.h"
#include "proxy/protocol/collector-msg.h"

/* How long the proxy may take between connecting and message 3: it has its own, shorter limits. */
#define HANDSHAKE_TIMEOUT (30 * USEC_PER_SEC)
/* A dump that announces no deadline gets this long. */
#define DEFAULT_DUMP_TIMEOUT (5 * 60 * USEC_PER_SEC)

struct session {
        struct collector *c;
        int fd;
        struct collector_request req;
        int fds[2];
        size_t n_fds;
};

static int send_json(int fd, char *msg, size_t len)
{
        int r = fdpass_send(fd, msg, len, NULL, 0);
        free(msg);
        return r;
}

static int answer(int fd, bool accept, const char *reason)
{
        struct collector_answer a = { .accept = accept, .reason = (char *) reason };
        char *msg;
        size_t len = 0;
        int r = collector_answer_format(&a, &msg, &len);

        return r < 0 ? r : send_json(fd, msg, len);
}

static int recv_one(struct session *s, char *buf, int *fds, size_t max_fds, usec_t deadline, size_t *ret_len)
{
        int r = io_wait(s->fd, POLLIN, deadline);
        if (r < 0)
                return r;
        ssize_t k = fdpass_recv(s->fd, buf, COLLECTOR_MSG_MAX + 1, fds, max_fds, fds ? &s->n_fds : NULL,
                                MSG_DONTWAIT);
        if (k < 0)
                return (int) k;
        if (k == 0)
                return -EPIPE;
        *ret_len = (size_t) k;
        return 0;
}

static int write_metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        const struct record_limits lim = RECORD_LIMITS_NONE;
        const struct collector_request *q = userdata;
        struct record_container container;
        struct dump_record rec;
        struct jsonw w;

        collector_request_record(q, &container, &rec);
        /* What was read, never what the request announced. */
        rec.kept = true;
        rec.bytes = res->bytes;
        rec.cut = res->cut == STORE_COMPLETE ? NULL : store_cut_to_string(res->cut);

        jsonw_init(&w);
        jsonw_object_begin(&w);
        record_write_task(&w, &rec, RECORD_VIEW_CONTAINER, &lim);
        record_write_details(&w, &rec, &lim);
        record_write_result(&w, &rec);
        record_write_exposed(&w, &rec, &lim);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* Message 1; answers a request it cannot take. 1: accepted and answered, 0: declined, <0: failed. */
static int take_request(struct session *s, char *buf)
{
        size_t len = 0;
        int r;

        r = recv_one(s, buf, NULL, 0, io_now() + HANDSHAKE_TIMEOUT, &len);
        if (r < 0)
                return log_warning_errno(r, "reading the request failed");
        r = collector_request_parse(buf, len, &s->req);
        if (r == -EPROTONOSUPPORT) {
                (void) answer(s->fd, false, "unsupported-version");
                return 0;
        }
        if (r < 0) {
                (void) answer(s->fd, false, "bad-request");
                log_warning("malformed request: %s", strerror(-r));
                return 0;
        }
        r = store_check_room(s->c->store, NULL);
        if (r < 0) {
                log_warning("%s: declined, the store is full: %s", s->req.id, strerror(-r));
                (void) answer(s->fd, false, r == -ENOSPC ? "disk-full" : "quota");
                return 0;
        }
        r = answer(s->fd, true, NULL);
        return r < 0 ? r : 1;
}

/* Message 3: the dump fd first, then optionally the task's pidfd. */
static int take_dump(struct session *s, char *buf, usec_t deadline)
{
        _cleanup_free_ char *dump_id = NULL;
        size_t len = 0;
        int r;

        r = recv_one(s, buf, s->fds, ARRAY_SIZE(s->fds), deadline, &len);
        if (r < 0)
                return log_warning_errno(r, "%s: no dump followed the accept", s->req.id);
        r = collector_dump_parse(buf, len, &dump_id);
        /* The kernel's connection, or in pipe mode ("mode": "pipe" in message 1) the kernel's pipe. */
        if (r < 0 || strcmp(dump_id, s->req.id) != 0 || s->n_fds < 1 ||
            (io_fd_check_type(s->fds[0], S_IFSOCK) < 0 && io_fd_check_type(s->fds[0], S_IFIFO) < 0)) {
                log_warning("%s: message 3 is not a dump of this request", s->req.id);
                return -EBADMSG;
        }
        return 0;
}

/* Message 4: what was kept, or that nothing of the stream was read (the proxy may still keep it). */
static void send_result(struct session *s, int w, const struct store_result *res, uint64_t progress)
{
        struct collector_result result = {
                .has_bytes = w >= 0,
                .bytes = res->bytes,
                .has_consumed = w<0, .consumed = progress> 0,
                .path = res->core_path,
                .error = w < 0 ? (char *) strerror(-w) : NULL,
        };
        char *msg;
        size_t len = 0;

        /*
         * Close our copy before answering: the proxy shuts the stream down on
         * message 4, which lets the crashing task exit. The log line can wait.
         */
        close_many(s->fds, s->n_fds);
        s->n_fds = 0;
        if (collector_result_format(&result, &msg, &len) >= 0)
                (void) send_json(s->fd, msg, len);
}

static void run_session(struct session *s)
{
        _cleanup_free_ char *buf = malloc(COLLECTOR_MSG_MAX + 1);
        struct store_result res = {};
        uint64_t progress = 0;
        usec_t deadline;
        int r, w;

        if (!buf || take_request(s, buf) <= 0)
                return;
        deadline = io_now() +
                   (s->req.deadline_ms > 0 ? s->req.deadline_ms * USEC_PER_MSEC : DEFAULT_DUMP_TIMEOUT);
        r = take_dump(s, buf, deadline);
        if (r < 0)
                return;

        struct store_request sr = {
                .id = s->req.id,
                .src = s->fds[0],
                .max_bytes = s->req.max_bytes,
                .deadline = deadline,
                .metadata = write_metadata,
                .userdata = &s->req,
                .progress = &progress,
        };
        w = store_write(s->c->store, &sr, &res);
        send_result(s, w, &res, progress);
        if (w < 0)
                log_error("%s: writing the dump failed: %s", s->req.id, strerror(-w));
        else
                log_info("%s: %s (%s) %llu bytes%s%s", s->req.id, s->req.comm ? s->req.comm : "?",
                         s->req.container_id ? s->req.container_id : "-", (unsigned long long) res.bytes,
                         res.cut != STORE_COMPLETE ? ", truncated: " : "",
                         res.cut != STORE_COMPLETE ? store_cut_to_string(res.cut) : "");
        store_result_done(&res);
}

static void *session_main(void *arg)
{
        struct session *s = arg;
        struct collector *c = s->c;

        run_session(s);
        close_many(s->fds, s->n_fds);
        collector_request_done(&s->req);
        safe_close(s->fd);
        free(s);

        pthread_mutex_lock(&c->lock);
        c->active--;
        pthread_cond_broadcast(&c->done);
        pthread_mutex_unlock(&c->lock);
        return NULL;
}

void session_start(struct collector *c, int fd)
{
        struct session *s;
        pthread_attr_t attr;
        pthread_t t;

        pthread_mutex_lock(&c->lock);
        if (c->active >= c->max_connections) {
                pthread_mutex_unlock(&c->lock);
                (void) answer(fd, false, "busy");
                safe_close(fd);
                return;
        }
        c->active++;
        pthread_mutex_unlock(&c->lock);

        s = calloc(1, sizeof(*s));
        if (s) {
                *s = (struct session){ .c = c, .fd = fd, .fds = { -EBADF, -EBADF } };
                collector_request_done(&s->req);
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
