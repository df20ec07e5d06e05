/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/netns.h"
#include "kernel/unix-listen.h"
#include "proxy/base/log.h"
#include "proxy/daemon/control.h"

/* A status document is small; this only bounds what a client will read. */
#define STATUS_MAX (16U * 1024U * 1024U)

struct client {
        int fd; /* -EBADF: a free slot */
        int pidfd;
        usec_t deadline;
        char *buf; /* CONTROL_REQUEST_MAX + 1 bytes, while a request comes in */
        size_t len;
};

struct control {
        int listen_fd;
        int epoll_fd;
        char *path;
        control_handler_fn handler;
        void *userdata;
        bool public; /* any uid may connect: the handler answers counters only */
        struct client clients[CONTROL_CLIENTS_MAX];
};

int control_path(const char *listen_path, char **ret)
{
        return asprintf(ret, "%s.control", listen_path) < 0 ? -ENOMEM : 0;
}

int control_metrics_path(const char *listen_path, char **ret)
{
        return asprintf(ret, "%s.metrics", listen_path) < 0 ? -ENOMEM : 0;
}

static int new_control(const char *path, bool public, int epoll_fd, control_handler_fn handler,
                       void *userdata, struct control **ret)
{
        struct control *c = calloc(1, sizeof(*c));
        int fd;

        if (!c)
                return -ENOMEM;
        c->path = strdup(path);
        if (!c->path) {
                free(c);
                return -ENOMEM;
        }
        /*
         * Root only: the status names crashing processes, and registrations name containers.
         * The public one answers counters only (its handler's business), to anyone.
         */
        fd = unix_listen(path, SOCK_STREAM, CONTROL_CLIENTS_MAX, public ? 0666 : 0600);
        if (fd < 0) {
                free(c->path);
                free(c);
                return fd;
        }
        /*
         * Anyone may connect to the public one: it must not take an fd from
         * them. The kernel closes an fd it cannot deliver inside our recvmsg(),
         * and a socket lingering over a full queue makes that close block the
         * event loop. Where the kernel cannot refuse fds (SO_PASSRIGHTS, 6.16),
         * the public socket is root's only.
         */
        if (public) {
                int zero = 0;

                if (setsockopt(fd, SOL_SOCKET, SO_PASSRIGHTS, &zero, sizeof(zero)) < 0) {
                        log_warning_errno(errno,
                                          "%s: the kernel cannot refuse fds on it (SO_PASSRIGHTS, 6.16): "
                                          "root only, the metrics exporter must run as root here",
                                          path);
                        (void) chmod(path, 0600);
                }
        }
        c->listen_fd = fd;
        c->public = public;
        c->epoll_fd = epoll_fd;
        c->handler = handler;
        c->userdata = userdata;
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                c->clients[i] = (struct client){ .fd = -EBADF, .pidfd = -EBADF };
        *ret = c;
        return 0;
}

static void client_drop(struct control *c, struct client *cl)
{
        if (cl->fd >= 0)
                (void) epoll_ctl(c->epoll_fd, EPOLL_CTL_DEL, cl->fd, NULL);
        safe_close(cl->fd);
        safe_close(cl->pidfd);
        free(cl->buf);
        *cl = (struct client){ .fd = -EBADF, .pidfd = -EBADF };
}

int control_new(const char *path, int epoll_fd, control_handler_fn handler, void *userdata,
                struct control **ret)
{
        return new_control(path, false, epoll_fd, handler, userdata, ret);
}

int control_new_public(const char *path, int epoll_fd, control_handler_fn handler, void *userdata,
                       struct control **ret)
{
        return new_control(path, true, epoll_fd, handler, userdata, ret);
}

void control_free(struct control *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                client_drop(c, &c->clients[i]);
        safe_close(c->listen_fd);
        (void) unlink(c->path);
        free(c->path);
        free(c);
}

int control_listen_fd(const struct control *c)
{
        return c->listen_fd;
}

static struct client *free_slot(struct control *c)
{
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (c->clients[i].fd < 0)
                        return &c->clients[i];
        return NULL;
}

void control_on_listen(struct control *c)
{
        for (;;) {
                _cleanup_close_ int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                struct ucred cred;
                socklen_t clen = sizeof(cred);
                struct client *cl;

                if (fd < 0)
                        return;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
                    (!c->public && cred.uid != 0)) {
                        log_warning("control: refusing a client that is not root");
                        continue;
                }
                cl = free_slot(c);
                if (!cl) {
                        /* Hooks give up at once and fail open: better than a loop that waits. */
                        log_warning("control: %d clients already waiting, one refused", CONTROL_CLIENTS_MAX);
                        continue;
                }
                cl->buf = malloc(CONTROL_REQUEST_MAX + 1);
                if (!cl->buf || epoll_ctl(c->epoll_fd, EPOLL_CTL_ADD, fd,
                                          &(struct epoll_event){ .events = EPOLLIN, .data.fd = fd }) < 0) {
                        cl->buf = mfree_str(cl->buf);
                        continue;
                }
                cl->fd = TAKE_FD(fd);
                cl->deadline = io_now() + CONTROL_CLIENT_TIMEOUT;
        }
}

/* Sends what fits now and closes: never blocks the loop on a client that does not read. */
static void reply(struct control *c, struct client *cl, char *doc, size_t len)
{
        ssize_t k;

        doc[len] = '\n';
        k = send(cl->fd, doc, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k >= 0 && (size_t) k < len + 1)
                log_warning("control: reply cut after %zd of %zu bytes", k, len + 1);
        client_drop(c, cl);
}

static void answer(struct control *c, struct client *cl)
{
        _cleanup_(control_request_done) struct control_request q = {};
        _cleanup_free_ char *doc = NULL;
        size_t len = 0;
        int r;

        r = control_request_parse(cl->buf, cl->len, &q);
        if (r < 0) {
                struct control_reply rep = { .error = (char *) "not a request" };
                log_warning("control: a request that does not parse: %s", strerror(-r));
                r = control_reply_format(&rep, &doc, &len);
        } else
                r = c->handler(c->userdata, &q, cl->pidfd, &doc, &len);
        if (r < 0) {
                client_drop(c, cl);
                return;
        }
        reply(c, cl, doc, len);
}

/* Reads what came; the request is complete at EOF. */
static void on_readable(struct control *c, struct client *cl)
{
        for (;;) {
                int fds[1];
                size_t n_fds = 0;
                ssize_t k = fdpass_recv(cl->fd, cl->buf + cl->len, CONTROL_REQUEST_MAX + 1 - cl->len, fds, 1,
                                        &n_fds, MSG_DONTWAIT);

                if (k == -EAGAIN || k == -EINTR)
                        return;
                if (k < 0) {
                        /* More than one fd, or anything else unexpected: fdpass closed them all. */
                        client_drop(c, cl);
                        return;
                }
                if (n_fds > 0) {
                        if (cl->pidfd >= 0) {
                                close_many(fds, n_fds);
                                client_drop(c, cl);
                                return;
                        }
                        cl->pidfd = fds[0];
                }
                if (k == 0) {
                        answer(c, cl);
                        return;
                }
                cl->len += (size_t) k;
                if (cl->len > CONTROL_REQUEST_MAX) {
                        log_warning("control: a request larger than %u bytes, refused", CONTROL_REQUEST_MAX);
                        client_drop(c, cl);
                        return;
                }
        }
}

bool control_on_client(struct control *c, int fd)
{
        for (size_t i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (c->clients[i].fd >= 0 && c->clients[i].fd == fd) {
                        on_readable(c, &c->clients[i]);
                        return true;
                }
        return false;
}

usec_t control_next_deadline(const struct control *c)
{
        usec_t next = USEC_INFINITY;

        for (size_t i = 0; c && i < CONTROL_CLIENTS_MAX; i++)
                if (c->clients[i].fd >= 0)
                        next = MIN(next, c->clients[i].deadline);
        return next;
}

void control_expire(struct control *c, usec_t now)
{
        for (size_t i = 0; c && i < CONTROL_CLIENTS_MAX; i++)
                if (c->clients[i].fd >= 0 && now >= c->clients[i].deadline) {
                        log_warning("control: a client sent no complete request in time, dropped");
                        client_drop(c, &c->clients[i]);
                }
}

/* ---- the client side */

static void set_timeouts(int fd, usec_t deadline)
{
        usec_t now = io_now(), left = deadline > now ? deadline - now : 1;
        struct timeval tv = { .tv_sec = (time_t) (left / USEC_PER_SEC),
                              .tv_usec = (suseconds_t) (left % USEC_PER_SEC) };

        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int control_call(const char *path, const char *request, size_t len, int fd, usec_t deadline, size_t max,
                 char **ret, size_t *ret_len)
{
        _cleanup_close_ int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        _cleanup_free_ char *buf = NULL;
        struct sockaddr_un sa;
        socklen_t salen;
        size_t got = 0, allocated = 0;
        int r;

        if (s < 0)
                return negative_errno();
        r = netns_sockaddr_un(path, &sa, &salen);
        if (r < 0)
                return r;
        /* Every blocking step below (connect to a full backlog too) ends by the deadline. */
        set_timeouts(s, deadline);
        if (connect(s, (struct sockaddr *) &sa, salen) < 0)
                return negative_errno();
        r = fdpass_send(s, request, len, fd >= 0 ? &fd : NULL, fd >= 0 ? 1 : 0);
        if (r < 0)
                return r;
        if (shutdown(s, SHUT_WR) < 0)
                return negative_errno();
        for (;;) {
                if (got + 4096 > allocated) {
                        if (allocated >= max)
                                return -EFBIG;
                        char *n = realloc(buf, allocated = MIN(max, allocated ? allocated * 2 : 65536) + 1);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                }
                if (io_now() >= deadline)
                        return -ETIMEDOUT;
                set_timeouts(s, deadline);
                ssize_t k = RETRY_EINTR(read(s, buf + got, allocated - got - 1));
                if (k < 0)
                        return errno == EAGAIN ? -ETIMEDOUT : negative_errno();
                if (k == 0)
                        break;
                got += (size_t) k;
        }
        if (got == 0)
                return -ENODATA;
        buf[got] = 0;
        if (ret_len)
                *ret_len = got;
        *ret = TAKE_PTR(buf);
        return 0;
}

int control_query(const char *path, char **ret)
{
        _cleanup_free_ char *request = NULL;
        struct control_request q = { .verb = CONTROL_STATUS };
        size_t len = 0;
        int r;

        r = control_request_format(&q, &request, &len);
        if (r < 0)
                return r;
        return control_call(path, request, len, -EBADF, io_now() + 10 * USEC_PER_SEC, STATUS_MAX, ret, NULL);
}
