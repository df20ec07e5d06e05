/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Type=notify. The service's main process is the keeper, which never sees
 * a dump: the daemon, its child, speaks for the service (the units set
 * NotifyAccess=all). The socket is connected before the sandbox is loaded;
 * afterwards sending on it is all we do.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/notify.h"
#include "proxy/base/log.h"
#include "proxy/daemon/state.h"

#define STATUS_INTERVAL (2 * USEC_PER_SEC)

void ready_open(struct daemon *m)
{
        int r = notify_open(&m->notify_fd);

        if (r < 0) {
                m->notify_fd = -EBADF;
                log_warning_errno(r, "NOTIFY_SOCKET is set but cannot be used: the service manager will "
                                     "not hear that we are ready");
        }
}

static void send_message(struct daemon *m, const char *message)
{
        int r = notify_send(m->notify_fd, message);

        if (r < 0)
                log_debug("notify: %s", strerror(-r));
}

static int status_line(struct daemon *m, char **ret)
{
        uint64_t accepted = stats_accepted_total(m->env.stats), lost = stats_lost_total(m->env.stats);

        if (asprintf(ret, "STATUS=%s on %s: %llu dumps accepted, %zu in flight, %llu lost",
                     m->activated ? "socket-activated" : "serving", m->socket_path ? m->socket_path : "?",
                     (unsigned long long) accepted, inflight_count(&m->inflight),
                     (unsigned long long) lost) < 0)
                return -ENOMEM;
        return 0;
}

void ready_status(struct daemon *m)
{
        _cleanup_free_ char *line = NULL;

        if (m->notify_fd < 0 || io_now() < m->notify_next)
                return;
        m->notify_next = io_now() + STATUS_INTERVAL;
        if (status_line(m, &line) < 0)
                return;
        if (m->notify_last && strcmp(m->notify_last, line) == 0)
                return;
        send_message(m, line);
        free(m->notify_last);
        m->notify_last = TAKE_PTR(line);
}

void ready_serving(struct daemon *m)
{
        _cleanup_free_ char *line = NULL, *message = NULL;

        if (m->notify_fd < 0 || status_line(m, &line) < 0)
                return;
        if (asprintf(&message, "READY=1\n%s", line) < 0)
                return;
        send_message(m, message);
        m->notify_next = io_now() + STATUS_INTERVAL;
}

void ready_stopping(struct daemon *m)
{
        _cleanup_free_ char *line = NULL, *message = NULL;

        if (m->notify_fd < 0)
                return;
        m->notify_next = 0;
        if (status_line(m, &line) < 0 || asprintf(&message, "STOPPING=1\n%s (stopping)", line) < 0) {
                send_message(m, "STOPPING=1");
                return;
        }
        send_message(m, message);
}

int ready_timeout(const struct daemon *m)
{
        usec_t now = io_now();

        if (m->notify_fd < 0)
                return -1;
        return m->notify_next <= now ? (int) (STATUS_INTERVAL / USEC_PER_MSEC)
                                     : (int) ((m->notify_next - now) / USEC_PER_MSEC + 1);
}

void ready_close(struct daemon *m)
{
        m->notify_fd = safe_close(m->notify_fd);
        m->notify_last = mfree_str(m->notify_last);
}
