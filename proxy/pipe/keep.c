/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * When the daemon does not take the dump: the helper writes it into the
 * host store itself, through the same dump writer as the daemon (atomic
 * names, quotas, metadata schema: proxy/store/, docs/metadata.md), and
 * leaves the event line for the daemon to report when it next starts
 * (<store>/.unreported/<id>). The task's facts come from the kernel's
 * specifiers and from /proc through the pidfd, checked afterwards; nothing
 * that would block on the task's memory (its cmdline) is read.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"
#include "proxy/base/jsonw.h"
#include "proxy/dump/container.h"
#include "proxy/dump/outcome.h"
#include "proxy/pipe/helper.h"
#include "proxy/protocol/record.h"
#include "proxy/store/store.h"

#define TASK_COMM_MAX 16

/* What the helper knows of the task, all of it owned here. */
struct task {
        char comm[TASK_COMM_MAX + 1];
        char *exe;
        char *cgroup;
        struct cdp_pidfd_info ids;
        bool have_ids;
        struct container_info container;
        bool in_container;
};

static void task_done(struct task *t)
{
        free(t->exe);
        free(t->cgroup);
        container_info_done(&t->container);
}

/*
 * The settings the daemon left beside its socket: only if root wrote them
 * and only root can change them. Else the defaults of an absent config.
 */
static void read_settings(const char *listen, struct pipe_settings *ret)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        char buf[PIPE_SETTINGS_MAX + 1];
        struct stat st;
        ssize_t n;

        *ret = (struct pipe_settings){
                .max_use = { .set = true, .percent = true, .value = 10 },
                .keep_free = { .set = true, .percent = true, .value = 15 },
        };
        if (listen && asprintf(&path, "%s%s", listen, PIPE_SETTINGS_SUFFIX) >= 0)
                fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && st.st_uid == 0 &&
            !(st.st_mode & (S_IWGRP | S_IWOTH)) && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
                buf[n] = 0;
                if (pipe_settings_parse(buf, (size_t) n, ret) >= 0)
                        return;
                helper_log(4, "%s: not understood; using the default store", path);
        }
        ret->store_directory = strdup(CONFIG_DEFAULT_STORE);
}

/* The task's cgroup path: cgroup2, or on a v1-only runtime the named systemd hierarchy. */
/* The task's cgroup2 path, else its name=systemd one (*ret_v1 set). */
static char *read_cgroup(int dirfd, bool *ret_v1)
{
        _cleanup_free_ char *text = NULL;
        struct cgroup_line *lines = NULL;
        char *path = NULL;
        size_t n = 0;

        *ret_v1 = false;
        if (io_read_proc_file_at(dirfd, "cgroup", 65536, &text) < 0 ||
            cgroup_parse_proc(text, &lines, &n) < 0)
                return NULL;
        for (size_t i = 0; i < n && !path; i++)
                if (lines[i].hierarchy == 0 && strcmp(lines[i].path, "/") != 0)
                        path = strdup(lines[i].path);
        for (size_t i = 0; i < n && !path; i++)
                if (strcmp(lines[i].controllers, "name=systemd") == 0) {
                        path = strdup(lines[i].path);
                        *ret_v1 = true;
                }
        cgroup_lines_free(lines, n);
        return path;
}

/* The hierarchy's mount, open: cgroup2's, or the name=systemd v1 one. */
static int open_hierarchy(bool v1)
{
        _cleanup_free_ char *path = NULL;
        struct cgroup1_mount *mounts = NULL;
        size_t n = 0;
        int fd = -ENOENT;

        if (!v1) {
                if (cgroup2_find_mount(&path) < 0)
                        return -ENOENT;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                return fd < 0 ? negative_errno() : fd;
        }
        if (cgroup1_find_mounts(&mounts, &n) < 0)
                return -ENOENT;
        for (size_t i = 0; i < n && fd < 0; i++)
                if (cgroup1_mount_matches(&mounts[i], "name=systemd")) {
                        fd = open(mounts[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0)
                                fd = negative_errno();
                }
        cgroup1_mounts_free(mounts, n);
        return fd;
}

/*
 * The container the cgroup path names, by the daemon's rules: who owns
 * each directory decides whose names count (a container below a user's
 * directory is that user's, rootless), so a cgroup named like another
 * container's is not taken for it. Only a label here: the helper routes
 * nothing. 1: in a container; 0: a host task, or the walk failed.
 */
static int resolve(const char *cgroup, bool v1, struct container_info *ret)
{
        _cleanup_close_ int mount_fd = open_hierarchy(v1);
        _cleanup_free_ struct cgroup_level *levels = NULL;
        _cleanup_free_ uint32_t *owners = NULL;
        size_t n = 0;

        if (mount_fd < 0 || cgroup_walk(mount_fd, cgroup, 0, &levels, &n) < 0)
                return 0;
        owners = calloc(n ? n : 1, sizeof(*owners));
        if (!owners)
                return 0;
        for (size_t i = 0; i < n; i++)
                owners[i] = levels[i].uid;
        return container_resolve(cgroup, owners, n, ret) > 0;
}

/* /proc/<pid> through the pidfd; every fact dropped unless the pidfd still names it afterwards. */
static void read_task(int pidfd, uint32_t pid, struct task *t)
{
        _cleanup_close_ int dirfd = -EBADF;
        _cleanup_free_ char *stat = NULL, *status = NULL;
        char exe[4096];
        bool v1 = false;
        int dumping;

        dirfd = pidfd_open_proc_dir(pidfd, pid);
        if (dirfd < 0)
                return;
        if (io_read_proc_file_at(dirfd, "stat", 4096, &stat) >= 0) {
                const char *open = strchr(stat, '('), *close = strrchr(stat, ')');
                if (open && close && close > open)
                        (void) snprintf(t->comm, sizeof(t->comm), "%.*s", (int) (close - open - 1),
                                        open + 1);
        }
        if (io_read_proc_file_at(dirfd, "status", 65536, &status) >= 0 &&
            pidfd_proc_parse_status(status, &t->ids, &dumping) >= 0)
                t->have_ids = true;
        ssize_t k = readlinkat(dirfd, "exe", exe, sizeof(exe) - 1);
        if (k > 0) {
                exe[k] = 0;
                t->exe = strdup(exe);
        }
        t->cgroup = read_cgroup(dirfd, &v1);
        if (pidfd_is_alive(pidfd) != 1) {
                task_done(t);
                *t = (struct task){};
                return;
        }
        if (t->cgroup)
                t->in_container = resolve(t->cgroup, v1, &t->container) > 0;
}

struct keep {
        struct dump_record record;
        struct record_container container;
        const struct task *task;
        const struct pipe_facts *facts;
        const char *core_path;
        usec_t started;
};

static void write_verdict(struct jsonw *w, const struct keep *k)
{
        jsonw_kv_string(w, "outcome", dump_outcome_to_string(OUTCOME_STORED));
        jsonw_kv_string(w, "reason", dump_reason_to_string(REASON_DAEMON_UNAVAILABLE));
        jsonw_kv_null(w, "route");
        jsonw_kv_string(w, "action", action_to_string(ACTION_STORE));
        if (k->task->cgroup)
                jsonw_kv_string(w, "cgroup", k->task->cgroup);
        if (!k->task->have_ids)
                jsonw_kv_string(w, "identity", "vanished");
}

/* <id>.json, from the record: the same schema as the daemon's host store. */
static int metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        struct keep *k = userdata;
        const struct record_limits lim = RECORD_LIMITS_NONE;
        struct jsonw w;

        k->record.kept = true;
        k->record.bytes = res->bytes;
        k->record.cut = res->cut == STORE_COMPLETE ? NULL : store_cut_to_string(res->cut);
        jsonw_init(&w);
        jsonw_object_begin(&w);
        record_write_task(&w, &k->record, RECORD_VIEW_HOST, &lim);
        record_write_details(&w, &k->record, &lim);
        record_write_result(&w, &k->record);
        write_verdict(&w, k);
        if (k->task->have_ids) {
                jsonw_kv_uint(&w, "euid", k->task->ids.euid);
                jsonw_kv_uint(&w, "egid", k->task->ids.egid);
        }
        jsonw_kv_bool(&w, "sensitive", k->facts->dumpable == 2);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* The event line the daemon reports at its next start, as it would have written it. */
static int event_line(const struct keep *k, char **ret, size_t *ret_len)
{
        const struct record_limits lim = RECORD_LIMITS_NONE;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "event", "coredump");
        record_write_task(&w, &k->record, RECORD_VIEW_HOST, &lim);
        write_verdict(&w, k);
        jsonw_kv_uint(&w, "bytes", k->record.bytes);
        jsonw_kv_bool(&w, "truncated", k->record.cut != NULL);
        if (k->record.cut)
                jsonw_kv_string(&w, "cut", k->record.cut);
        jsonw_kv_string(&w, "core", k->core_path);
        jsonw_kv_uint(&w, "duration_ms", (io_now() - k->started) / USEC_PER_MSEC);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* <store>/.unreported/<id>: written whole under a temporary name, then renamed. */
static int spool(const char *store, const char *id, const char *line, size_t len)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        char tmp[RECORD_ID_MAX + 8];
        int r;

        if (asprintf(&dir, "%s/%s", store, PIPE_UNREPORTED_DIR) < 0)
                return -ENOMEM;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        (void) snprintf(tmp, sizeof(tmp), ".%s.tmp", id);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = io_write_all(fd, line, len);
        if (r >= 0)
                r = io_write_all(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dfd, tmp, dfd, id) < 0)
                r = -errno;
        if (r >= 0 && fsync(dfd) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dfd, tmp, 0);
        return r;
}

static void describe(struct keep *k, const char *id, usec_t wall)
{
        const struct task *t = k->task;
        struct dump_record *r = &k->record;

        record_init(r);
        r->id = id;
        r->wall = wall;
        r->mode = "pipe";
        r->host_ids.pid = k->facts->pid > 0 ? (int64_t) k->facts->pid : -1;
        if (t->have_ids) {
                r->host_ids.uid = t->ids.ruid;
                r->host_ids.gid = t->ids.rgid;
        }
        r->comm = t->comm[0] ? t->comm : NULL;
        r->exe = t->exe;
        r->signal = k->facts->signal;
        if (t->in_container) {
                k->container = (struct record_container){
                        .runtime = runtime_to_string(t->container.runtime),
                        .id = t->container.id,
                        .pod_uid = t->container.pod_uid,
                };
                r->container = &k->container;
        }
}

int helper_keep(const char *listen, const struct pipe_facts *f, int pidfd, const char *why, usec_t started,
                usec_t started_wall)
{
        struct pipe_settings settings = {};
        struct dump_store *store = NULL;
        struct store_result res = {};
        struct task t = {};
        struct keep k = { .task = &t, .facts = f, .started = started };
        char id[RECORD_ID_MAX];
        _cleanup_free_ char *line = NULL;
        size_t len;
        int r;

        if (pidfd >= 0)
                read_task(pidfd, f->pid, &t);
        read_settings(listen, &settings);
        record_make_id(id, started_wall);
        describe(&k, id, started_wall);

        struct store_options options = { .max_use = settings.max_use,
                                         .keep_free = settings.keep_free,
                                         .policy = STORE_ROTATE };
        r = settings.store_directory ? store_open(settings.store_directory, &options, &store) : -ENOMEM;
        if (r >= 0)
                r = store_check_room(store, "host");
        if (r >= 0) {
                struct store_request req = {
                        .id = id,
                        .src = STDIN_FILENO,
                        .source = "host",
                        .deadline = started + HELPER_STORE_TIMEOUT,
                        .stall_timeout = HELPER_STALL_TIMEOUT,
                        .metadata = metadata,
                        .userdata = &k,
                };
                r = store_write(store, &req, &res);
        }
        if (r < 0) {
                helper_log(3,
                           "pid %u (%s): the daemon did not take the dump (%s), and it could not be kept in "
                           "%s: %s",
                           f->pid, t.comm[0] ? t.comm : "?", why,
                           settings.store_directory ? settings.store_directory : "?", strerror(-r));
                goto out;
        }
        k.core_path = res.core_path;
        helper_log(4, "pid %u (%s): the daemon did not take the dump (%s); kept as %s", f->pid,
                   t.comm[0] ? t.comm : "?", why, res.core_path);
        r = event_line(&k, &line, &len);
        if (r >= 0)
                r = spool(settings.store_directory, id, line, len);
        if (r < 0)
                helper_log(3, "%s: the event line for the daemon could not be spooled: %s", id,
                           strerror(-r));
        r = 0;
out:
        store_result_done(&res);
        store_unref(store);
        pipe_settings_done(&settings);
        task_done(&t);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
