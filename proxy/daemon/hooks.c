/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The control socket's requests: status, and the registrations of
 * coredump-proxy-hook. A registration is taken only for the container the
 * kernel says its process is in: the pidfd that came with it gives the
 * process's cgroup (PIDFD_GET_INFO, checked against the pidfd after any
 * /proc read), the cgroup's path gives the container (the same resolution
 * a dump gets), and the id the hook claims must be that container's. So a
 * registration can attach names to a container, never make a process a
 * container, nor another container's names its own.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "proxy/base/log.h"
#include "proxy/daemon/state.h"
#include "proxy/dump/resolve.h"
#include "proxy/dump/container.h"
#include "proxy/names/names.h"

/* The process's container as its cgroup names it: runtime and id; 0 when it is in none. */
static int container_of(struct daemon *m, int pidfd, struct container_info *ret, char **ret_path,
                        uint64_t *ret_cgroup_id, const char **ret_why)
{
        _cleanup_(identify_done) struct task_identity t = { .proc_dir_fd = -EBADF };
        _cleanup_free_ char *path = NULL;
        int r;

        if (pidfd < 0) {
                *ret_why = "no pidfd came with the registration";
                return 0;
        }
        r = identify_from_pidfd(pidfd, &t);
        if (r < 0 || t.pid == 0) {
                *ret_why = r < 0 ? "the fd is not a pidfd" : "the process is gone";
                return 0;
        }
        r = identify_cgroup_path(pidfd, &m->env.identify, t.cgroup_id, t.pid, &path);
        if (r < 0) {
                *ret_why = "the process's cgroup cannot be read";
                return 0;
        }
        t.cgroup_path = TAKE_PTR(path);
        /* The same ancestry walk as a crashing task's: no container on the strength of a name. */
        r = resolve_task(&m->env.identify, pidfd, &t, ret, ret_why);
        if (r < 0)
                return r;
        if (r == 0) {
                if (!*ret_why)
                        *ret_why = "the process is in no container's cgroup";
                return 0;
        }
        /* The container's own cgroup: its id tells when the container is gone (0 on cgroup v1). */
        *ret_cgroup_id = ret->cgroup_id;
        path = strdup(t.cgroup_path);
        if (!path)
                return -ENOMEM;
        *ret_path = TAKE_PTR(path);
        return 1;
}

static int do_register(struct daemon *m, const struct control_request *q, int pidfd,
                       struct control_reply *rep)
{
        struct container_info c = {};
        _cleanup_free_ char *path = NULL;
        const char *why = NULL;
        uint64_t cgroup_id = 0;
        int r;

        r = container_of(m, pidfd, &c, &path, &cgroup_id, &why);
        if (r < 0)
                return r;
        if (r > 0 && strcmp(c.id, q->id) != 0)
                why = "the process's cgroup is another container's";
        if (why) {
                log_warning("hook: registration of %s refused: %s", q->id, why);
                container_info_done(&c);
                rep->error = strdup(why);
                return rep->error ? 0 : -ENOMEM;
        }
        const struct names_registration reg = {
                .runtime = c.runtime,
                .id = c.id,
                .cgroup_id = cgroup_id,
                .cgroup_path = path,
                .annotations = &q->annotations,
        };
        r = names_register(m->env.names, m->setup->config, &reg);
        if (r < 0) {
                log_warning("hook: registration of %s failed: %s", q->id, strerror(-r));
                rep->error = strdup(r == -ENOSPC ? "too many registered containers" : strerror(-r));
        } else {
                log_info("hook: %s container %s registered", runtime_to_string(c.runtime), c.id);
                rep->ok = true;
                rep->runtime = strdup(runtime_to_string(c.runtime));
                rep->id = strdup(c.id);
        }
        container_info_done(&c);
        return 0;
}

int hooks_handle(void *userdata, const struct control_request *q, int pidfd, char **ret, size_t *ret_len)
{
        _cleanup_(control_reply_done) struct control_reply rep = {};
        struct daemon *m = userdata;
        int r = 0;

        switch (q->verb) {
        case CONTROL_STATUS:
                return status_build(m, ret, ret_len);
        case CONTROL_REGISTER:
                r = do_register(m, q, pidfd, &rep);
                break;
        case CONTROL_UNREGISTER:
                rep.removed = names_unregister(m->env.names, q->id);
                rep.ok = true;
                if (rep.removed > 0)
                        log_info("hook: container %s unregistered", q->id);
                break;
        case _CONTROL_VERB_MAX:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        return control_reply_format(&rep, ret, ret_len);
}

/*
 * A registration kept by an earlier run: its container's cgroup must still be
 * there. A cgroup id is never given to another cgroup, so the id alone says
 * it is the same container.
 */
static bool still_there(void *userdata, enum container_runtime runtime, const char *id, uint64_t cgroup_id)
{
        struct daemon *m = userdata;
        _cleanup_free_ char *path = NULL;

        (void) runtime;
        (void) id;
        if (cgroup_id == 0)
                return true; /* cgroup v1 only: kept until poststop, or the table's bound */
        return m->cgroup2_fd >= 0 &&
               cgroup_id_to_path(m->cgroup2_fd, m->cgroup2_path, cgroup_id, &path) >= 0;
}

int hooks_open(struct daemon *m)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        /* Beside the kernel socket, like the saved pattern: the daemon's own run directory. */
        if (asprintf(&dir, "%s.registrations", m->setup->config->listen_path) < 0)
                return log_oom();
        r = names_new(m->cgroup2_fd, m->cgroup2_path, dir, &m->env.names);
        if (r < 0) {
                log_warning_errno(r, "registrations cannot be kept in %s", dir);
                r = names_new(m->cgroup2_fd, m->cgroup2_path, NULL, &m->env.names);
                if (r < 0)
                        return log_oom();
        }
        size_t n = names_load(m->env.names, still_there, m);
        if (n > 0)
                log_info("%zu container registrations kept from the last run", n);
        return 0;
}
