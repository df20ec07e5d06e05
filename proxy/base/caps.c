/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/caps.h"

/*
 * What the daemon keeps once it serves dumps. It stays uid 0, so what it
 * owns itself (its socket, store and event log) needs no capability; these
 * are for other users' tasks and files. Each was checked against what the
 * daemon does after start-up (issue 9); none lets it write outside its
 * directories: Landlock (confine.c) stops the file writes that uid 0 and
 * CAP_DAC_OVERRIDE would otherwise allow, and the seccomp filter the
 * administrative calls that CAP_SYS_ADMIN would.
 */
static const uint64_t proxy_keep =
        /*
         * setns() into a container's network namespace, to reach its
         * collector there: the kernel asks for CAP_SYS_ADMIN both in our
         * user namespace and in the one that owns the target namespace.
         */
        CAP_BIT(CAP_SYS_ADMIN) |
        /*
         * Ptrace access checks on tasks of other users, and on root tasks
         * whose capabilities are not a subset of ours (most of them, once
         * ours are reduced): /proc/<pid>/exe and /proc/<pid>/root,
         * PIDFD_GET_NET_NAMESPACE.
         */
        CAP_BIT(CAP_SYS_PTRACE) |
        /* open_by_handle_at() on the cgroup2 mount turns a cgroup id into its path (read-only: sandbox.c).
         */
        CAP_BIT(CAP_DAC_READ_SEARCH) |
        /*
         * connect() needs write access to a collector's socket inode, owned by
         * a container user (mode 0600). Landlock does not confine connecting
         * to a socket, only creating files.
         */
        CAP_BIT(CAP_DAC_OVERRIDE) |
        /*
         * Pipe mode: a pipe cannot be shut down, so a dump that failed while a
         * collector (or the kernel) still holds the crashing task is ended by
         * SIGKILL to that task, of any user (the seccomp filter allows no other
         * signal).
         */
        CAP_BIT(CAP_KILL);
/*
 * Not CAP_NET_ADMIN: since 6.6 the proc connector's process events need
 * none (and socket dumps need 6.16); its socket is set up, receive buffer
 * (SO_RCVBUFFORCE) included, before capabilities are reduced. Liveness
 * checks need no CAP_KILL: PIDFD_GET_INFO checks no permission, and the
 * signal-0 fallback before 6.13 reads EPERM as "there". Not CAP_SETPCAP,
 * CAP_CHOWN, CAP_FOWNER: the store's files are created by us.
 */

/*
 * The keeper (proxy/daemon/keeper.c) writes core_pattern and a file in the
 * socket's directory, both root's, and signals its own child: uid 0 needs
 * no capability for any of it. It answers the daemon's ptrace-checked
 * questions about crashing tasks (proxy/base/procaccess.c), which need
 * CAP_SYS_PTRACE for the same reason as above; nothing else.
 */
static const uint64_t keeper_keep = CAP_BIT(CAP_SYS_PTRACE);

/* The collector only accepts on its own socket and writes into its own directory. */
static const uint64_t collector_keep = 0;

static int last_cap(void)
{
        _cleanup_free_ char *text = NULL;
        char *end;
        long v;

        /* The running kernel may know more capabilities than our headers. */
        if (io_read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 32, &text, NULL) >= 0) {
                errno = 0;
                v = strtol(text, &end, 10);
                if (errno == 0 && end != text && v >= 0 && v < 64)
                        return (int) v;
        }
        return CAP_LAST_CAP;
}

/*
 * Capability sets, the bounding set included, belong to each thread, and
 * capset() changes only the caller's: threads started earlier would keep
 * everything. New threads inherit the reduced sets, so reducing before the
 * first thread starts covers them all.
 */
static int check_single_threaded(void)
{
        _cleanup_free_ char *status = NULL;
        const char *p;
        int r;

        r = io_read_file_at(AT_FDCWD, "/proc/self/status", 65536, &status, NULL);
        /*
         * A collector in a container without /proc cannot look: this check
         * guards our own call order (reduce before the first thread), which
         * does not depend on the machine, so not knowing is no reason to fail.
         */
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        p = strstr(status, "\nThreads:");
        if (!p)
                return -EBADMSG;
        p += strlen("\nThreads:");
        p += strspn(p, " \t");
        return strncmp(p, "1\n", 2) == 0 ? 0 : -EBUSY;
}

static int caps_get(uint64_t *ret_effective, uint64_t *ret_permitted)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

        if (syscall(SYS_capget, &h, d) < 0)
                return negative_errno();
        *ret_effective = (uint64_t) d[1].effective << 32 | d[0].effective;
        *ret_permitted = (uint64_t) d[1].permitted << 32 | d[0].permitted;
        return 0;
}

static int caps_set(uint64_t caps)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {
                { .effective = (uint32_t) caps, .permitted = (uint32_t) caps },
                { .effective = (uint32_t) (caps >> 32), .permitted = (uint32_t) (caps >> 32) },
        };

        if (syscall(SYS_capset, &h, d) < 0)
                return negative_errno();
        return 0;
}

/*
 * Removes everything but keep from the bounding set. Without CAP_SETPCAP
 * that is only possible if someone (a service manager) did it already:
 * required reports what is left, optional leaves it.
 */
static int bounding_reduce(uint64_t keep, bool can_drop, bool required)
{
        for (int c = 0, last = last_cap(); c <= last; c++) {
                if (keep & CAP_BIT(c))
                        continue;
                int in = prctl(PR_CAPBSET_READ, (unsigned long) c, 0, 0, 0);
                if (in < 0) {
                        if (errno == EINVAL) /* beyond what this kernel knows */
                                break;
                        return negative_errno();
                }
                if (in == 0)
                        continue;
                if (!can_drop) {
                        if (required)
                                return -EPERM;
                        return 0;
                }
                if (prctl(PR_CAPBSET_DROP, (unsigned long) c, 0, 0, 0) < 0)
                        return negative_errno();
        }
        return 0;
}

/*
 * Bounding set first, while CAP_SETPCAP is still effective; then
 * permitted = effective = keep (of what we have: capset never adds),
 * inheritable empty; then the ambient set. The daemons never exec, so the
 * bounding and ambient sets only guard against one that someday does.
 */
static int reduce(uint64_t keep, bool bounding_required)
{
        uint64_t effective, permitted;
        int r;

        r = check_single_threaded();
        if (r < 0)
                return r;
        r = caps_get(&effective, &permitted);
        if (r < 0)
                return r;
        r = bounding_reduce(keep, effective & CAP_BIT(CAP_SETPCAP), bounding_required);
        if (r < 0)
                return r;
        r = caps_set(keep & permitted);
        if (r < 0)
                return r;
        /* EINVAL: a kernel before 4.3, without ambient capabilities. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return negative_errno();
        return 0;
}

int caps_reduce_proxy(void)
{
        return reduce(proxy_keep, true);
}

int caps_reduce_keeper(void)
{
        return reduce(keeper_keep, true);
}

/* The keeper's core_pattern writer in the host's mount namespace (proxy/daemon/hostmnt.c): none. */
int caps_reduce_all(void)
{
        return reduce(0, false);
}

/* Only KEEP (CAP_BIT()s), the bounding set included where CAP_SETPCAP allows. */
int caps_reduce_to(uint64_t keep)
{
        return reduce(keep, false);
}

int caps_reduce_collector(void)
{
        /*
         * It may run as any user, without CAP_SETPCAP: then the bounding set
         * stays, which matters only for exec, and it never execs (and the
         * no_new_privs bit that comes with its seccomp filter forbids gaining
         * privileges through one).
         */
        return reduce(collector_keep, false);
}
