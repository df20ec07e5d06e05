/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * SIGHUP: a new config, checked whole before it replaces the old one. The
 * work (parsing, opening a new store directory, which scans it) runs on a
 * thread of its own, never on the event loop; the loop swaps the result in.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/base/fault.h"
#include "proxy/base/log.h"
#include "proxy/daemon/state.h"
#include "proxy/names/names.h"

struct reload_job {
        const struct daemon_options *options;
        struct proxy_setup *previous; /* a reference */
        int fd;                       /* where the result goes */
};

/*
 * Once started, the daemon may write only to the store and the event log it
 * started with (start.c, confine()): a reload that names others could not
 * open them, and is refused whole, like a broken config.
 */
static bool same_string(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

static int check_writable(const struct config *c, const struct config *running)
{
        if (strcmp(c->store_directory, running->store_directory) != 0) {
                log_error("reload: store.directory %s: the sandbox lets the daemon write only to %s; a new "
                          "store takes effect on restart",
                          c->store_directory, running->store_directory);
                return -EACCES;
        }
        if (!same_string(c->store_exec.command, running->store_exec.command) ||
            c->store_exec.timeout != running->store_exec.timeout ||
            c->store_exec.max_concurrent != running->store_exec.max_concurrent ||
            c->store_exec.remove != running->store_exec.remove) {
                log_error(
                        "reload: store.exec: its runner was started with the daemon, outside the sandbox; a "
                        "new store.exec takes effect on restart");
                return -EACCES;
        }
        if (c->store_summary != running->store_summary) {
                log_error("reload: store.summary: its runner was started with the daemon, outside the "
                          "sandbox; a new store.summary takes effect on restart");
                return -EACCES;
        }
        if (strcmp(c->events, running->events) != 0) {
                log_error("reload: events %s: the sandbox lets the daemon write only to %s; a new event log "
                          "takes effect on restart",
                          c->events, running->events);
                return -EACCES;
        }
        return 0;
}

static void *reload_main(void *arg)
{
        struct reload_job *job = arg;
        struct proxy_setup *s = NULL;
        struct config *c = NULL;
        int r;

        /* Tests: a slow reload (a config on a slow disk, a store to scan) must not hold the loop. */
        if (fault_value("reload-delay") > 0)
                (void) usleep((useconds_t) MIN(fault_value("reload-delay"), 60000UL) * 1000);
        r = daemon_load_config(job->options, &c);
        if (r >= 0) {
                r = check_writable(c, job->previous->config);
                if (r < 0)
                        config_free(c);
        }
        if (r >= 0) {
                r = setup_new(c, job->previous, &s);
                if (r < 0) {
                        log_error_errno(r, "cannot open the event log %s", c->events);
                        config_free(c);
                }
        }
        setup_unref(job->previous);
        /* The pointer itself travels: the loop is in this process. */
        if (write(job->fd, &s, sizeof(s)) != (ssize_t) sizeof(s))
                setup_unref(s);
        safe_close(job->fd);
        free(job);
        return NULL;
}

int reload_begin(struct daemon *m)
{
        _cleanup_free_ struct reload_job *job = NULL;
        pthread_attr_t attr;
        sigset_t all, old;
        pthread_t t;
        int p[2], r;

        if (m->reloading) {
                log_info("a reload is already running; this SIGHUP is folded into it");
                return 0;
        }
        job = malloc(sizeof(*job));
        if (!job)
                return log_oom();
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_error_errno(errno, "reload: pipe2");

        *job = (struct reload_job){ .options = m->options, .previous = setup_ref(m->setup), .fd = p[1] };
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = pthread_create(&t, &attr, reload_main, job);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                setup_unref(job->previous);
                safe_close(p[0]);
                safe_close(p[1]);
                return log_error_errno(r, "reload: cannot start a thread; the configuration stays");
        }
        TAKE_PTR(job);
        m->reload_fd = p[0];
        m->reloading = true;
        return 1;
}

/* The loop's half: called when reload_fd is readable. */
void reload_finish(struct daemon *m)
{
        struct proxy_setup *s = NULL, *old;
        ssize_t k = read(m->reload_fd, &s, sizeof(s));

        if (k < 0 && errno == EAGAIN)
                return;
        m->reload_fd = safe_close(m->reload_fd);
        m->reloading = false;
        if (k != (ssize_t) sizeof(s) || !s) {
                log_error("reload failed; the previous configuration stays in force");
                return;
        }
        if (strcmp(s->config->listen_path, m->setup->config->listen_path) != 0 ||
            s->config->protocol != m->setup->config->protocol)
                log_warning("listen.path and listen.protocol take effect on restart only");
        if (!s->store)
                log_error_errno(s->store_error, "host store %s unavailable", s->config->store_directory);
        pthread_mutex_lock(&m->setup_lock);
        old = m->setup;
        m->setup = s;
        pthread_mutex_unlock(&m->setup_lock);
        setup_unref(old);
        /* Cached names kept the labels the old config asked for. */
        if (m->env.names)
                names_forget_cache(m->env.names);
        workers_set_limits(m->pool, s->config->limits.max_concurrent + host_workers(&s->config->limits),
                           s->config->limits.max_concurrent);
        /*
         * The pipe helper's settings stay those of the start (mode.c): the
         * sandbox lets us write nothing beside the socket, and a reload cannot
         * move the store. New store quotas reach the helper at the next start.
         */
        log_info("configuration reloaded from %s", s->config->source);
}
