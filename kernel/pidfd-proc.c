/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/pidfd-proc.h"
#include "kernel/pidfd.h"

int pidfd_proc_parse_fdinfo(const char *fdinfo, pid_t *ret)
{
        const char *p;
        char *end;
        long v;

        /* "Pid:" at the start of a line; "NSpid:" must not match. */
        if (strncmp(fdinfo, "Pid:", 4) == 0)
                p = fdinfo;
        else if ((p = strstr(fdinfo, "\nPid:")))
                p++;
        else
                return -EBADF; /* not a pidfd */
        p += strlen("Pid:");
        errno = 0;
        v = strtol(p, &end, 10);
        if (errno != 0 || end == p || (*end != '\n' && *end != 0) || v < -1 || v == 0 || v > INT_MAX)
                return -EBADMSG;
        /* -1: the process is gone (or not in our pid namespace). */
        if (v < 0)
                return -ESRCH;
        *ret = (pid_t) v;
        return 0;
}

int pidfd_proc_pid(int pidfd, pid_t *ret)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        int r;

        if (pidfd < 0)
                return -EBADF;
        (void) snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
        r = io_read_proc_file_at(AT_FDCWD, path, 4096, &text);
        if (r < 0)
                return r;
        return pidfd_proc_parse_fdinfo(text, ret);
}

int pidfd_proc_is_alive(int pidfd)
{
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0)
                return 1;
        /* The permission check comes after the lookup: EPERM means it is there. */
        if (errno == EPERM)
                return 1;
        if (errno == ESRCH)
                return 0;
        return negative_errno();
}

/* "Key:\tv1\tv2..." fields as unsigned numbers; returns how many were read. */
static int status_numbers(const char *status, const char *key, uint32_t *out, int max)
{
        size_t klen = strlen(key);
        const char *p = status;
        int n = 0;

        for (; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, key, klen) == 0)
                        break;
        if (!p)
                return 0;
        p += klen;
        while (n < max) {
                char *end;
                unsigned long v;

                p += strspn(p, " \t");
                if (*p == '\n' || *p == 0)
                        break;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (errno != 0 || end == p || v > UINT32_MAX)
                        return -EBADMSG;
                out[n++] = (uint32_t) v;
                p = end;
        }
        return n;
}

int pidfd_proc_parse_status(const char *status, struct cdp_pidfd_info *info, int *ret_core_dumping)
{
        uint32_t tgid[1], ppid[1], pid[1], uid[4], gid[4], dumping[1];
        int r;

        if (status_numbers(status, "Tgid:", tgid, 1) != 1 || status_numbers(status, "Pid:", pid, 1) != 1 ||
            status_numbers(status, "PPid:", ppid, 1) != 1 || status_numbers(status, "Uid:", uid, 4) != 4 ||
            status_numbers(status, "Gid:", gid, 4) != 4)
                return -EBADMSG;
        info->tgid = tgid[0];
        info->pid = pid[0];
        info->ppid = ppid[0];
        info->ruid = uid[0];
        info->euid = uid[1];
        info->suid = uid[2];
        info->fsuid = uid[3];
        info->rgid = gid[0];
        info->egid = gid[1];
        info->sgid = gid[2];
        info->fsgid = gid[3];
        /* 4.15+; absent before. */
        r = status_numbers(status, "CoreDumping:", dumping, 1);
        if (r < 0)
                return r;
        *ret_core_dumping = r == 1 ? (int) dumping[0] : -1;
        return 0;
}

/* The cgroup2 mount, looked up once: the fallback runs for every dump on older kernels. */
static pthread_mutex_t cgroup2_lock = PTHREAD_MUTEX_INITIALIZER;
static char *cgroup2_mount;
static bool cgroup2_looked;

static int cgroup2_dir_fd(void)
{
        int fd = -ENOENT;

        pthread_mutex_lock(&cgroup2_lock);
        if (!cgroup2_looked) {
                (void) cgroup2_find_mount(&cgroup2_mount);
                cgroup2_looked = true;
        }
        if (cgroup2_mount) {
                fd = open(cgroup2_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        fd = negative_errno();
        }
        pthread_mutex_unlock(&cgroup2_lock);
        return fd;
}

/* The cgroup id of a process: the inode of its cgroup2 directory, named by /proc/<pid>/cgroup. */
static int read_cgroup_id(int dirfd, uint64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int mount = -EBADF;
        struct cgroup_line *lines = NULL;
        size_t n = 0;
        int r = -ENOENT;

        if (io_read_proc_file_at(dirfd, "cgroup", 65536, &text) < 0 ||
            cgroup_parse_proc(text, &lines, &n) < 0)
                return -ENOENT;
        mount = cgroup2_dir_fd();
        for (size_t i = 0; i < n && mount >= 0; i++) {
                struct stat st;

                if (lines[i].hierarchy != 0 || lines[i].controllers[0] != 0)
                        continue;
                /* The path is absolute, the mount is its root: look it up below the mount. */
                const char *rel = lines[i].path + strspn(lines[i].path, "/");
                if (fstatat(mount, rel[0] ? rel : ".", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(st.st_mode)) {
                        *ret = (uint64_t) st.st_ino;
                        r = 0;
                }
                break;
        }
        cgroup_lines_free(lines, n);
        return r;
}

int pidfd_proc_info(int pidfd, uint64_t mask, struct cdp_pidfd_info *ret)
{
        _cleanup_free_ char *status = NULL;
        _cleanup_close_ int dirfd = -EBADF;
        struct cdp_pidfd_info info = {};
        int dumping = -1;
        uint64_t cgid;
        pid_t pid;
        int r;

        r = pidfd_proc_pid(pidfd, &pid);
        if (r < 0)
                return r;
        dirfd = pidfd_open_proc_dir(pidfd, (uint32_t) pid);
        if (dirfd < 0)
                return dirfd;
        r = io_read_proc_file_at(dirfd, "status", 65536, &status);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        r = pidfd_proc_parse_status(status, &info, &dumping);
        if (r < 0)
                return r;
        info.mask = PIDFD_INFO_PID | PIDFD_INFO_CREDS;
        if ((mask & PIDFD_INFO_CGROUPID) && read_cgroup_id(dirfd, &cgid) >= 0) {
                info.cgroupid = cgid;
                info.mask |= PIDFD_INFO_CGROUPID;
        }
        if ((mask & PIDFD_INFO_COREDUMP) && dumping >= 0) {
                info.coredump_mask = dumping > 0 ? PIDFD_COREDUMPED : 0;
                info.mask |= PIDFD_INFO_COREDUMP;
        }

        /* Everything above counts only if the pid still names the pidfd's process. */
        r = pidfd_proc_is_alive(pidfd);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        *ret = info;
        return 0;
}

static const char *namespace_name(unsigned long request)
{
        switch (request) {
        case PIDFD_GET_CGROUP_NAMESPACE:
                return "ns/cgroup";
        case PIDFD_GET_IPC_NAMESPACE:
                return "ns/ipc";
        case PIDFD_GET_MNT_NAMESPACE:
                return "ns/mnt";
        case PIDFD_GET_NET_NAMESPACE:
                return "ns/net";
        case PIDFD_GET_PID_NAMESPACE:
                return "ns/pid";
        case PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE:
                return "ns/pid_for_children";
        case PIDFD_GET_TIME_NAMESPACE:
                return "ns/time";
        case PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE:
                return "ns/time_for_children";
        case PIDFD_GET_USER_NAMESPACE:
                return "ns/user";
        case PIDFD_GET_UTS_NAMESPACE:
                return "ns/uts";
        default:
                return NULL;
        }
}

int pidfd_proc_namespace(int pidfd, unsigned long request)
{
        _cleanup_close_ int dirfd = -EBADF, fd = -EBADF;
        const char *name = namespace_name(request);
        pid_t pid;
        int r;

        if (!name)
                return -EINVAL;
        r = pidfd_proc_pid(pidfd, &pid);
        if (r < 0)
                return r;
        dirfd = pidfd_open_proc_dir(pidfd, (uint32_t) pid);
        if (dirfd < 0)
                return dirfd;
        fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        r = pidfd_proc_is_alive(pidfd);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        return TAKE_FD(fd);
}

/* /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path"; Flags has __SO_ACCEPTCON when listening.
 */
#define UNIX_ACCEPTCON 0x10000

int pidfd_proc_parse_net_unix(const char *text, const char *name, uint64_t *ret_inodes, size_t max)
{
        size_t found = 0;
        const char *line = strchr(text, '\n'); /* the header */

        while (line && *++line) {
                const char *eol = strchrnul(line, '\n');
                unsigned long refs, proto, flags, type, state;
                unsigned long long ino;
                int n = 0;

                if (sscanf(line, "%*[0-9a-fA-F]: %lx %lx %lx %lx %lx %llu%n", &refs, &proto, &flags, &type,
                           &state, &ino, &n) != 6 ||
                    line + n > eol)
                        return -EBADMSG;
                const char *path = line + n;
                if (*path == ' ') {
                        path++;
                        if ((flags & UNIX_ACCEPTCON) && (size_t) (eol - path) == strlen(name) &&
                            strncmp(path, name, strlen(name)) == 0 && found < max)
                                ret_inodes[found++] = ino;
                }
                line = *eol ? eol : NULL;
        }
        return (int) found;
}

int pidfd_proc_socket_inodes(int proc_dir, uint64_t *ret, size_t max)
{
        _cleanup_closedir_ DIR *d = NULL;
        int fd = openat(proc_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        unsigned seen = 0;
        size_t found = 0;

        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                safe_close(fd);
                return -ENOMEM;
        }
        for (struct dirent *e; (e = readdir(d)) && seen < 65536; seen++) {
                char link[64];
                unsigned long long ino;
                ssize_t k = readlinkat(dirfd(d), e->d_name, link, sizeof(link) - 1);

                if (k <= 0)
                        continue;
                link[k] = 0;
                if (sscanf(link, "socket:[%llu]", &ino) != 1)
                        continue;
                if (found == max)
                        return -E2BIG;
                ret[found++] = ino;
        }
        return (int) found;
}

static pidfd_proc_inodes_fn socket_inodes = pidfd_proc_socket_inodes;

void pidfd_proc_set_socket_inodes(pidfd_proc_inodes_fn fn)
{
        socket_inodes = fn ? fn : pidfd_proc_socket_inodes;
}

/* Whether the process behind proc_dir has one of the sockets in its fd table. */
static int holds_socket(int proc_dir, const uint64_t *inodes, size_t n)
{
        _cleanup_free_ uint64_t *held = calloc(PIDFD_PROC_SOCKETS_MAX, sizeof(*held));
        int k;

        if (!held)
                return -ENOMEM;
        k = socket_inodes(proc_dir, held, PIDFD_PROC_SOCKETS_MAX);
        if (k < 0)
                return k;
        for (int i = 0; i < k; i++)
                for (size_t j = 0; j < n; j++)
                        if (held[i] == inodes[j])
                                return 1;
        return 0;
}

int pidfd_proc_from_listener(int sock, const char *name)
{
        _cleanup_close_ int pidfd = -EBADF, dirfd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct ucred cred = {};
        socklen_t len = sizeof(cred);
        uint64_t inodes[8];
        int n, r;

        if (!name || !name[0])
                return -EINVAL;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return negative_errno();
        if (cred.pid <= 0)
                return -EPERM; /* the listener is in a pid namespace we cannot see into */
        pidfd = (int) syscall(SYS_pidfd_open, cred.pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? -EPERM : negative_errno();
        dirfd = pidfd_open_proc_dir(pidfd, (uint32_t) cred.pid);
        if (dirfd < 0)
                return dirfd == -ESRCH ? -EPERM : dirfd;

        if (io_read_file_at(dirfd, "net/unix", 16 * 1024 * 1024, &text, NULL) < 0)
                return -EPERM;
        n = pidfd_proc_parse_net_unix(text, name, inodes, ARRAY_SIZE(inodes));
        if (n <= 0)
                return -EPERM;
        r = holds_socket(dirfd, inodes, (size_t) n);
        if (r <= 0)
                return -EPERM;
        /* The fd table was that of the pidfd's process only if it is still there now. */
        if (pidfd_is_alive(pidfd) != 1)
                return -EPERM;
        return TAKE_FD(pidfd);
}
