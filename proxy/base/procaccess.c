/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "kernel/io.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"
#include "proxy/base/procaccess.h"

#ifndef PID_FS_MAGIC
#define PID_FS_MAGIC 0x50494446 /* 6.9: pidfds on a filesystem of their own */
#endif

/*
 * /proc/<pid>/stat is a few hundred bytes; a link target is at most PATH_MAX: OP_TASK carries three.
 * OP_SOCKETS carries up to PIDFD_PROC_SOCKETS_MAX inodes.
 */
#define DATA_MAX MAX(3 * PATH_MAX + 256, PIDFD_PROC_SOCKETS_MAX * 8)
/* The keeper answers from memory the kernel already has: anything slower means it is gone. */
#define BROKER_TIMEOUT (5 * USEC_PER_SEC)

enum op {
        OP_NETNS,
        OP_ROOT,
        OP_EXE,
        OP_STAT,
        OP_USERNS_INO,
        OP_TASK,
        OP_SOCKETS,
        _OP_MAX,
};

struct request {
        uint32_t seq;
        uint32_t op;
};

struct reply {
        uint32_t seq;
        int32_t error; /* 0 or -errno */
        char data[DATA_MAX];
};

static int broker = -EBADF;
static pthread_mutex_t broker_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t broker_seq;

/* ---- the calls themselves, made by whoever may ---------------------------- */

/* OP_TASK's answer: the errors, the namespace, then stat, exe and root, each NUL-terminated. */
struct task_wire {
        int32_t stat_error, exe_error, root_error, userns_error, netns_error;
        uint32_t pad;
        uint64_t userns_ino;
        char text[];
};

static int direct(enum op op, int fd, int *ret_fd, char *data, size_t *ret_len);

/* Appends a NUL-terminated piece to the answer; its error when the fact could not be had. */
static int32_t put_text(enum op op, int fd, char *data, size_t *len)
{
        size_t n = 0;
        int r;

        if (*len + PATH_MAX + 1 > DATA_MAX)
                return -EMSGSIZE;
        r = direct(op, fd, NULL, data + *len, &n);
        if (r < 0 || n > PATH_MAX) {
                data[(*len)++] = 0;
                return r < 0 ? r : -ENAMETOOLONG;
        }
        data[*len + n] = 0;
        *len += n + 1;
        return 0;
}

static int task_facts(int fd, int *ret_fd, char *data, size_t *ret_len)
{
        struct task_wire w = {};
        size_t len = sizeof(w), n = 0;
        char link[PATH_MAX];
        int root;
        ssize_t k;

        w.stat_error = put_text(OP_STAT, fd, data, &len);
        w.exe_error = put_text(OP_EXE, fd, data, &len);
        /* The root as a path: the link's target, read here (it is ptrace-checked too). */
        k = readlinkat(fd, "root", link, sizeof(link) - 1);
        if (k > 0) {
                memcpy(data + len, link, (size_t) k);
                data[len + (size_t) k] = 0;
                len += (size_t) k + 1;
        } else {
                w.root_error = k < 0 ? negative_errno() : -ENOENT;
                data[len++] = 0;
        }
        w.userns_error = direct(OP_USERNS_INO, fd, NULL, (char *) &w.userns_ino, &n);
        root = openat(fd, "ns/net", O_RDONLY | O_CLOEXEC);
        w.netns_error = root < 0 ? negative_errno() : 0;
        *ret_fd = root;
        memcpy(data, &w, sizeof(w));
        *ret_len = len;
        return 0;
}

static int direct(enum op op, int fd, int *ret_fd, char *data, size_t *ret_len)
{
        struct stat st;
        ssize_t k;
        char *s = NULL;
        int r;

        switch (op) {
        case OP_NETNS:
                r = pidfd_get_namespace(fd, PIDFD_GET_NET_NAMESPACE);
                if (r < 0)
                        return r;
                *ret_fd = r;
                return 0;
        case OP_ROOT:
                r = openat(fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (r < 0)
                        return negative_errno();
                *ret_fd = r;
                return 0;
        case OP_EXE:
                k = readlinkat(fd, "exe", data, PATH_MAX);
                if (k < 0)
                        return negative_errno();
                *ret_len = (size_t) k;
                return 0;
        case OP_STAT:
                r = io_read_proc_file_at(fd, "stat", PATH_MAX, &s);
                if (r < 0)
                        return r;
                *ret_len = strlen(s);
                memcpy(data, s, *ret_len);
                free(s);
                return 0;
        case OP_USERNS_INO:
                if (fstatat(fd, "ns/user", &st, 0) < 0)
                        return negative_errno();
                *ret_len = sizeof(uint64_t);
                memcpy(data, &(uint64_t){ st.st_ino }, sizeof(uint64_t));
                return 0;
        case OP_TASK:
                return task_facts(fd, ret_fd, data, ret_len);
        case OP_SOCKETS: {
                uint64_t inodes[PIDFD_PROC_SOCKETS_MAX];
                r = pidfd_proc_socket_inodes(fd, inodes, ARRAY_SIZE(inodes));
                if (r < 0)
                        return r;
                *ret_len = (size_t) r * sizeof(uint64_t);
                memcpy(data, inodes, *ret_len);
                return 0;
        }
        case _OP_MAX:
                break;
        }
        return -EOPNOTSUPP;
}

/* ---- the daemon's side ------------------------------------------------------ */

static int ask_locked(enum op op, int fd, int *ret_fd, struct reply *reply, size_t *ret_len)
{
        struct request req = { .seq = ++broker_seq, .op = op };
        usec_t deadline = io_now() + BROKER_TIMEOUT;
        int r;

        r = fdpass_send(broker, &req, sizeof(req), &fd, 1);
        if (r < 0)
                return r;
        for (;;) {
                int fds[1] = { -EBADF };
                size_t n_fds = 0;
                ssize_t n;

                r = io_wait(broker, POLLIN, deadline);
                if (r < 0)
                        return r;
                n = fdpass_recv(broker, reply, sizeof(*reply), fds, 1, &n_fds, MSG_DONTWAIT);
                if (n == -EAGAIN || n == -EINTR)
                        continue;
                if (n < 0)
                        return (int) n;
                if (n == 0 && n_fds == 0)
                        return -EPIPE;
                /* An answer to an earlier request that timed out: not ours. */
                if ((size_t) n < offsetof(struct reply, data) || reply->seq != req.seq) {
                        close_many(fds, n_fds);
                        continue;
                }
                if (reply->error < 0 || (ret_fd && op != OP_TASK && n_fds != 1) || (!ret_fd && n_fds != 0) ||
                    n_fds > 1) {
                        close_many(fds, n_fds);
                        return reply->error < 0 ? reply->error : -EPROTO;
                }
                if (ret_fd)
                        *ret_fd = n_fds == 1 ? fds[0] : -EBADF;
                *ret_len = (size_t) n - offsetof(struct reply, data);
                return 0;
        }
}

/* Through the broker when there is one; directly otherwise. */
static int request(enum op op, int fd, int *ret_fd, char *data, size_t *ret_len)
{
        _cleanup_free_ struct reply *reply = NULL;
        size_t len = 0;
        int r;

        if (broker < 0)
                return direct(op, fd, ret_fd, data, ret_len);

        reply = malloc(sizeof(*reply));
        if (!reply)
                return -ENOMEM;
        pthread_mutex_lock(&broker_lock);
        r = ask_locked(op, fd, ret_fd, reply, &len);
        pthread_mutex_unlock(&broker_lock);
        if (r < 0)
                return r;
        if (data)
                memcpy(data, reply->data, len);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int procaccess_netns(int pidfd)
{
        int fd = -EBADF, r;

        r = request(OP_NETNS, pidfd, &fd, NULL, NULL);
        return r < 0 ? r : fd;
}

int procaccess_root(int proc_dir_fd)
{
        int fd = -EBADF, r;

        r = request(OP_ROOT, proc_dir_fd, &fd, NULL, NULL);
        return r < 0 ? r : fd;
}

static int text(enum op op, int proc_dir_fd, char **ret)
{
        _cleanup_free_ char *data = malloc(DATA_MAX);
        size_t len = 0;
        int r;

        if (!data)
                return -ENOMEM;
        r = request(op, proc_dir_fd, NULL, data, &len);
        if (r < 0)
                return r;
        if (len >= DATA_MAX)
                return -EMSGSIZE;
        data[len] = 0;
        *ret = TAKE_PTR(data);
        return 0;
}

int procaccess_exe(int proc_dir_fd, char **ret)
{
        return text(OP_EXE, proc_dir_fd, ret);
}

int procaccess_stat(int proc_dir_fd, char **ret)
{
        return text(OP_STAT, proc_dir_fd, ret);
}

int procaccess_userns_ino(int proc_dir_fd, uint64_t *ret)
{
        uint64_t ino;
        char data[sizeof(ino)];
        size_t len = 0;
        int r;

        r = request(OP_USERNS_INO, proc_dir_fd, NULL, data, &len);
        if (r < 0)
                return r;
        if (len != sizeof(ino))
                return -EPROTO;
        memcpy(&ino, data, sizeof(ino));
        *ret = ino;
        return 0;
}

/* The next NUL-terminated piece of an OP_TASK answer, or NULL when it is empty or runs off the end. */
static char *take_text(const char *data, size_t len, size_t *off, int error)
{
        const char *p = data + *off, *nul;

        if (*off >= len)
                return NULL;
        nul = memchr(p, 0, len - *off);
        if (!nul)
                return NULL;
        *off += (size_t) (nul - p) + 1;
        return error < 0 || nul == p ? NULL : strdup(p);
}

int procaccess_task(int proc_dir_fd, struct procaccess_task *ret)
{
        _cleanup_free_ char *data = malloc(DATA_MAX);
        struct task_wire w;
        size_t len = 0, off = sizeof(w);
        int fd = -EBADF, r;

        if (!data)
                return -ENOMEM;
        r = request(OP_TASK, proc_dir_fd, &fd, data, &len);
        if (r < 0)
                return r;
        if (len < sizeof(w)) {
                safe_close(fd);
                return -EPROTO;
        }
        memcpy(&w, data, sizeof(w));
        *ret = (struct procaccess_task){
                .stat_error = w.stat_error,
                .exe_error = w.exe_error,
                .root_error = w.root_error,
                .userns_error = w.userns_error,
                .netns_error = fd >= 0 ? w.netns_error : (w.netns_error < 0 ? w.netns_error : -EPROTO),
                .userns_ino = w.userns_ino,
                .netns_fd = fd,
        };
        ret->stat = take_text(data, len, &off, w.stat_error);
        ret->exe = take_text(data, len, &off, w.exe_error);
        ret->root = take_text(data, len, &off, w.root_error);
        return 0;
}

void procaccess_task_done(struct procaccess_task *t)
{
        if (!t)
                return;
        free(t->stat);
        free(t->exe);
        free(t->root);
        t->stat = t->exe = t->root = NULL;
        t->netns_fd = safe_close(t->netns_fd);
}

int procaccess_socket_inodes(int proc_dir_fd, uint64_t *ret, size_t max)
{
        _cleanup_free_ char *data = malloc(DATA_MAX);
        size_t len = 0;
        int r;

        if (!data)
                return -ENOMEM;
        r = request(OP_SOCKETS, proc_dir_fd, NULL, data, &len);
        if (r < 0)
                return r;
        if (len % sizeof(uint64_t) != 0)
                return -EPROTO;
        if (len / sizeof(uint64_t) > max)
                return -E2BIG;
        memcpy(ret, data, len);
        return (int) (len / sizeof(uint64_t));
}

void procaccess_use_broker(int fd)
{
        broker = fd;
        /* kernel/pidfd-proc.c's SO_PEERPIDFD emulation (before 6.5) reads a listener's fd table. */
        pidfd_proc_set_socket_inodes(fd >= 0 ? procaccess_socket_inodes : NULL);
}

/* ---- the keeper's side ------------------------------------------------------ */

/* The fd names a task the way the request says: a pidfd, or a directory of /proc. */
static int check_target(enum op op, int fd)
{
        struct statfs sfs;
        struct stat st;

        if (fstatfs(fd, &sfs) < 0 || fstat(fd, &st) < 0)
                return negative_errno();
        if (op == OP_NETNS)
                return sfs.f_type == PID_FS_MAGIC || sfs.f_type == ANON_INODE_FS_MAGIC ? 0 : -EBADF;
        return sfs.f_type == PROC_SUPER_MAGIC && S_ISDIR(st.st_mode) ? 0 : -EBADF;
}

int procaccess_serve(int fd)
{
        _cleanup_free_ struct reply *reply = calloc(1, sizeof(*reply));
        struct request req;
        int fds[1] = { -EBADF }, out = -EBADF;
        size_t n_fds = 0, len = 0;
        ssize_t n;
        int r;

        if (!reply)
                return -ENOMEM;
        n = fdpass_recv(fd, &req, sizeof(req), fds, 1, &n_fds, MSG_DONTWAIT);
        if (n == -EAGAIN || n == -EINTR)
                return 0;
        if (n < 0 && n != -EPROTO && n != -EMSGSIZE)
                return (int) n;
        if (n == 0 && n_fds == 0)
                return -EPIPE;

        reply->seq = n == (ssize_t) sizeof(req) ? req.seq : 0;
        if (n != (ssize_t) sizeof(req) || n_fds != 1 || req.op >= _OP_MAX)
                r = -EBADMSG;
        else
                r = check_target((enum op) req.op, fds[0]);
        if (r >= 0)
                r = direct((enum op) req.op, fds[0], &out, reply->data, &len);
        close_many(fds, n_fds);
        reply->error = r < 0 ? r : 0;
        if (r < 0)
                len = 0;

        r = fdpass_send(fd, reply, offsetof(struct reply, data) + len, &out, out >= 0 ? 1 : 0);
        safe_close(out);
        return r == -EPIPE ? r : 0;
}
