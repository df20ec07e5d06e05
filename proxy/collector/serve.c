/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The connections that have not yet brought a proven dump: one thread, one
 * poll loop, nothing that blocks. Anyone in our network namespace can
 * connect, so nothing here may be held by a peer that only waits:
 *
 * - the peer must be outside our pid namespace (auth_check_peer()), like
 *   the proxy; the rest are closed at once;
 * - each phase has a short limit: message 1 within REQUEST_TIMEOUT of the
 *   connection, message 3 within DUMP_MESSAGE_TIMEOUT of our accept (the
 *   proxy sends both at once; deadline_ms only counts once a dump is proven);
 * - at most PENDING_MAX connections wait here; a new one takes the place of
 *   the oldest, so a flood of idle connections cannot keep the proxy out:
 *   it can only push out connections older than the proxy's own, which
 *   lives for milliseconds;
 * - only a dump the kernel vouches for (auth_check_dump()) takes one of the
 *   --max-connections slots, for at most --max-dump-time.
 */

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "proxy/base/log.h"
#include "proxy/collector/collector.h"

#define PENDING_MAX          64
#define REQUEST_TIMEOUT      (5 * USEC_PER_SEC)
#define DUMP_MESSAGE_TIMEOUT (5 * USEC_PER_SEC)
/* Connections taken per wake-up, so that the ones already here get their turn. */
#define ACCEPT_BURST 16
/* Refusals are logged a few per window: a peer that loops must not flood the log. */
#define LOG_WINDOW     (10 * USEC_PER_SEC)
#define LOG_PER_WINDOW 5

enum pending_state {
        PENDING_FREE,
        PENDING_REQUEST, /* connected, waiting for message 1 */
        PENDING_DUMP,    /* accepted, waiting for message 3 */
};

struct pending {
        enum pending_state state;
        int fd;
        uint64_t seq;     /* arrival order */
        usec_t deadline;  /* of the current phase */
        usec_t requested; /* when message 1 came: deadline_ms counts from there */
        struct collector_request req;
};

struct log_limit {
        usec_t window_end;
        unsigned n;
};

struct server {
        struct collector *c;
        struct pending p[PENDING_MAX];
        uint64_t seq;
        char *buf;
        struct log_limit refusals;
};

static bool log_allowed(struct log_limit *l)
{
        usec_t now = io_now();

        if (now >= l->window_end) {
                l->window_end = now + LOG_WINDOW;
                l->n = 0;
        }
        return l->n++ < LOG_PER_WINDOW;
}

static void pending_close(struct pending *p)
{
        p->fd = safe_close(p->fd);
        collector_request_done(&p->req);
        p->state = PENDING_FREE;
}

/* Makes room by closing the connection that has waited longest; false if none waits. */
static bool pending_evict_oldest(struct server *s)
{
        struct pending *oldest = NULL;

        for (size_t i = 0; i < PENDING_MAX; i++)
                if (s->p[i].state != PENDING_FREE && (!oldest || s->p[i].seq < oldest->seq))
                        oldest = &s->p[i];
        if (!oldest)
                return false;
        pending_close(oldest);
        return true;
}

/* A free place, made by closing the oldest connection if every place is taken. */
static struct pending *pending_take(struct server *s)
{
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < PENDING_MAX; i++)
                        if (s->p[i].state == PENDING_FREE)
                                return &s->p[i];
                log_debug("%u connections wait for their messages: closing the oldest", PENDING_MAX);
                (void) pending_evict_oldest(s);
        }
        return NULL; /* not reached: a full table has an oldest entry */
}

static void on_accept(struct server *s, int listen_fd)
{
        enum auth_refusal why;

        for (unsigned i = 0; i < ACCEPT_BURST; i++) {
                _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        /*
                         * Out of fds: a waiting connection gives way, else the
                         * listener would stay readable and the loop spin.
                         */
                        if ((errno == EMFILE || errno == ENFILE) && pending_evict_oldest(s))
                                continue;
                        return;
                }
                int r = auth_check_peer(&s->c->auth, fd, &why);
                if (r < 0) {
                        if (log_allowed(&s->refusals))
                                log_warning("refusing a connection: %s",
                                            r == -EACCES ? auth_refusal_to_string(why) : strerror(-r));
                        continue;
                }
                struct pending *p = pending_take(s);
                if (!p)
                        return;
                *p = (struct pending){
                        .state = PENDING_REQUEST,
                        .fd = TAKE_FD(fd),
                        .seq = s->seq++,
                        .deadline = io_now() + REQUEST_TIMEOUT,
                };
                collector_request_done(&p->req);
        }
}

/* Message 1, answered with message 2. Leaves p closed, or waiting for message 3. */
static void on_request(struct server *s, struct pending *p)
{
        const char *decline = NULL;
        ssize_t k;
        int r;

        k = fdpass_recv(p->fd, s->buf, COLLECTOR_MSG_MAX + 1, NULL, 0, NULL, MSG_DONTWAIT);
        if (k == -EAGAIN)
                return;
        if (k <= 0) {
                pending_close(p);
                return;
        }
        r = collector_request_parse(s->buf, (size_t) k, &p->req);
        if (r == -EPROTONOSUPPORT)
                decline = "unsupported-version";
        else if (r < 0 || !collector_id_valid(p->req.id)) {
                if (log_allowed(&s->refusals))
                        log_warning("malformed request: %s",
                                    r < 0 ? strerror(-r) : "the id is not [0-9A-Za-z-]{1,128}");
                decline = "bad-request";
        } else if ((r = store_check_room(s->c->store, NULL)) < 0) {
                log_warning("%s: declined, the store is full: %s", p->req.id, strerror(-r));
                decline = r == -ENOSPC ? "disk-full" : "quota";
        } else if (!session_room(s->c)) {
                log_warning("%s: declined, %u dumps are being written", p->req.id, s->c->max_dumps);
                decline = "busy";
        }

        if (decline) {
                (void) session_send_answer(p->fd, false, decline);
                pending_close(p);
                return;
        }
        if (session_send_answer(p->fd, true, NULL) < 0) {
                pending_close(p);
                return;
        }
        p->state = PENDING_DUMP;
        p->requested = io_now();
        p->deadline = p->requested + DUMP_MESSAGE_TIMEOUT;
}

/* Message 4 for a dump we never read from: the proxy keeps the untouched stream. */
static void decline_dump(struct pending *p, const char *what, const char *detail)
{
        _cleanup_free_ char *error = NULL;
        struct collector_result res = { .has_consumed = true, .consumed = false };

        if (asprintf(&error, "%s: %s", what, detail) >= 0)
                res.error = error;
        (void) session_send_result(p->fd, &res);
        pending_close(p);
}

/* deadline_ms is the proxy's to say, but never beyond what we allow. */
static usec_t dump_deadline(const struct collector *c, const struct pending *p)
{
        uint64_t ms = p->req.deadline_ms;

        if (ms == 0 || ms > c->max_dump_time / USEC_PER_MSEC)
                return p->requested + c->max_dump_time;
        return p->requested + ms * USEC_PER_MSEC;
}

/* Hands a proven dump to a thread of its own; on failure, p is answered and closed here. */
static void start_session(struct server *s, struct pending *p, int fds[2], size_t n_fds,
                          const struct auth_facts *facts)
{
        struct session *sess = calloc(1, sizeof(*sess));
        int r = -ENOMEM;

        if (sess) {
                *sess = (struct session){
                        .c = s->c,
                        .conn = p->fd,
                        .fds = { fds[0], fds[1] },
                        .n_fds = n_fds,
                        .req = p->req,
                        .facts = *facts,
                        .deadline = dump_deadline(s->c, p),
                };
                r = session_start(sess);
        }
        if (r < 0) {
                /* Raced by other dumps since our accept, or out of memory: still nothing read. */
                free(sess);
                close_many(fds, n_fds);
                decline_dump(p, r == -EBUSY ? "busy" : "error", strerror(-r));
                return;
        }
        /* The session owns the connection, the fds and the request now. */
        p->fd = -EBADF;
        p->req = (struct collector_request){};
        pending_close(p);
}

/* Message 3: the fds, and the kernel's word on the first. */
static void on_dump(struct server *s, struct pending *p)
{
        _cleanup_free_ char *id = NULL;
        int fds[2] = { -EBADF, -EBADF };
        struct auth_facts facts;
        enum auth_refusal why;
        size_t n_fds = 0;
        ssize_t k;
        int r;

        k = fdpass_recv(p->fd, s->buf, COLLECTOR_MSG_MAX + 1, fds, ARRAY_SIZE(fds), &n_fds, MSG_DONTWAIT);
        if (k == -EAGAIN)
                return;
        if (k <= 0) {
                pending_close(p);
                return;
        }
        if (collector_dump_parse(s->buf, (size_t) k, &id) < 0 || strcmp(id, p->req.id) != 0 || n_fds < 1) {
                close_many(fds, n_fds);
                if (log_allowed(&s->refusals))
                        log_warning("%s: message 3 is not a dump of this request", p->req.id);
                decline_dump(p, "bad-request", "message 3 is not a dump of this request");
                return;
        }

        r = auth_check_dump(&s->c->auth, fds[0], p->req.mode && strcmp(p->req.mode, "pipe") == 0, &facts,
                            &why);
        if (r < 0) {
                const char *detail = r == -EACCES ? auth_refusal_to_string(why) : strerror(-r);

                close_many(fds, n_fds);
                if (log_allowed(&s->refusals))
                        log_warning("%s: refusing the dump fd: %s", p->req.id, detail);
                decline_dump(p, "refused", detail);
                return;
        }
        start_session(s, p, fds, n_fds, &facts);
}

/* Closes connections whose phase is over; returns the poll timeout until the next one ends. */
static int expire(struct server *s)
{
        usec_t now = io_now(), next = USEC_INFINITY;

        for (size_t i = 0; i < PENDING_MAX; i++) {
                struct pending *p = &s->p[i];

                if (p->state == PENDING_FREE)
                        continue;
                if (p->deadline <= now) {
                        log_debug("a connection sent no %s in time",
                                  p->state == PENDING_REQUEST ? "request" : "dump");
                        pending_close(p);
                        continue;
                }
                next = MIN(next, p->deadline);
        }
        if (next == USEC_INFINITY)
                return -1;
        /* Rounded up: a wake-up just before the deadline would only poll again. */
        return (int) MIN((next - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (usec_t) 60000);
}

int collector_serve(struct collector *c, int listen_fd, int signal_fd)
{
        _cleanup_free_ char *buf = malloc(COLLECTOR_MSG_MAX + 1);
        struct server s = { .c = c, .buf = buf };
        struct pollfd pfd[2 + PENDING_MAX];
        struct pending *at[PENDING_MAX];
        int r = 0;

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < PENDING_MAX; i++) {
                s.p[i].fd = -EBADF;
                collector_request_done(&s.p[i].req);
        }

        for (;;) {
                size_t n = 2, k = 0;
                int timeout = expire(&s);

                pfd[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
                pfd[1] = (struct pollfd){ .fd = signal_fd, .events = POLLIN };
                for (size_t i = 0; i < PENDING_MAX; i++)
                        if (s.p[i].state != PENDING_FREE) {
                                at[k++] = &s.p[i];
                                pfd[n++] = (struct pollfd){ .fd = s.p[i].fd, .events = POLLIN };
                        }
                if (poll(pfd, n, timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = log_error_errno(errno, "poll");
                        break;
                }
                if (pfd[1].revents)
                        break;
                /* Those already here first: a newcomer may take the place of one of them. */
                for (size_t i = 0; i < k; i++) {
                        if (!pfd[2 + i].revents || at[i]->state == PENDING_FREE)
                                continue;
                        if (at[i]->state == PENDING_REQUEST)
                                on_request(&s, at[i]);
                        else
                                on_dump(&s, at[i]);
                }
                if (pfd[0].revents)
                        on_accept(&s, listen_fd);
        }

        for (size_t i = 0; i < PENDING_MAX; i++)
                if (s.p[i].state != PENDING_FREE)
                        pending_close(&s.p[i]);
        return r;
}
