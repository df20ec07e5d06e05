/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Tries syscalls inside the sandbox of one of our programs.
 *
 *   cdp-try-syscall proxy|collector [--no-sandbox]
 *
 * Drops capabilities and loads the seccomp filter exactly as the program
 * does (caps_reduce_*() and sandbox_apply_*()), then makes each call of a
 * list and prints one line per call:
 *   <name>=<errno name, or OK> expect=allowed|blocked
 * Arguments are chosen so that nothing happens if the call goes through:
 * an allowed call fails harmlessly (EBADF, EFAULT, EINVAL, ...) or does
 * nothing; a blocked one fails with EPERM (the filter's default) or ENOSYS
 * (clone3). --no-sandbox makes the same calls without caps_reduce_*() and
 * sandbox_apply_*(): run as root, it shows that the arguments alone do not
 * produce EPERM, so an EPERM in the sandbox comes from the sandbox.
 * Lines of calls whose result without the sandbox depends on the kernel's
 * configuration or sysctls (kexec, modules, io_uring, userfaultfd) end in
 * " unchecked".
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "proxy/base/caps.h"
#include "proxy/base/sandbox.h"

enum expect {
        ALLOWED,
        BLOCKED,
};

/* What the sanitizer runtimes need is allowed in sanitizer builds only. */
#ifdef CDP_SANITIZERS
#define SAN_ONLY ALLOWED
#else
#define SAN_ONLY BLOCKED
#endif

struct probe {
        const char *name;
        enum expect proxy;
        enum expect collector;
        bool unchecked; /* without the sandbox, EPERM/ENOSYS may come from the kernel's configuration */
        long (*call)(void);
};

static char buf[64];
static const char *const no_args[] = { NULL };

/* A call that may create an fd: closed at once, reported as success. */
static long closing(long fd)
{
        if (fd >= 0) {
                safe_close((int) fd);
                return 0;
        }
        return fd;
}

#define PROBE(id, expr)               \
        static long probe_##id(void)  \
        {                             \
                return (long) (expr); \
        }

/* ---- calls our programs make -------------------------------------------- */
PROBE(read, syscall(SYS_read, -1, buf, sizeof(buf)))
PROBE(write, syscall(SYS_write, -1, buf, 1))
PROBE(openat, syscall(SYS_openat, -1, "x", O_RDONLY | O_CLOEXEC))
PROBE(close, syscall(SYS_close, -1))
PROBE(newfstatat, syscall(SYS_newfstatat, -1, "", buf, AT_EMPTY_PATH))
PROBE(lseek, syscall(SYS_lseek, -1, 0, SEEK_SET))
PROBE(fcntl, syscall(SYS_fcntl, -1, F_GETFL))
PROBE(fstatfs, syscall(SYS_fstatfs, -1, buf))
PROBE(flock, syscall(SYS_flock, -1, 0))
PROBE(fchmod, syscall(SYS_fchmod, -1, 0600))
PROBE(ftruncate, syscall(SYS_ftruncate, -1, 0))
PROBE(fallocate, syscall(SYS_fallocate, -1, 0, 0, 1))
PROBE(renameat2, syscall(SYS_renameat2, -1, "a", -1, "b", 0))
PROBE(unlinkat, syscall(SYS_unlinkat, -1, "x", 0))
PROBE(getdents64, syscall(SYS_getdents64, -1, buf, sizeof(buf)))
PROBE(pipe2, syscall(SYS_pipe2, NULL, O_CLOEXEC))
PROBE(splice, syscall(SYS_splice, -1, NULL, -1, NULL, 1, 0))
PROBE(accept4, syscall(SYS_accept4, -1, NULL, NULL, SOCK_CLOEXEC))
PROBE(recvmsg, syscall(SYS_recvmsg, -1, NULL, 0))
PROBE(sendmsg, syscall(SYS_sendmsg, -1, NULL, 0))
PROBE(shutdown, syscall(SYS_shutdown, -1, SHUT_RDWR))
PROBE(getsockopt, syscall(SYS_getsockopt, -1, SOL_SOCKET, SO_PEERPIDFD, NULL, NULL))
PROBE(getsockopt_netns_cookie, syscall(SYS_getsockopt, -1, SOL_SOCKET, SO_NETNS_COOKIE, NULL, NULL))
/* The collector asks only what auth.c needs; the option is read as 32 bits. */
PROBE(getsockopt_rcvbuf, syscall(SYS_getsockopt, -1, SOL_SOCKET, SO_RCVBUF, NULL, NULL))
PROBE(getsockopt_peercred_high,
      syscall(SYS_getsockopt, -1, SOL_SOCKET, 0xffffffff00000000UL | SO_PEERCRED, NULL, NULL))
PROBE(poll, syscall(SYS_poll, NULL, 0, 0))
PROBE(futex, syscall(SYS_futex, NULL, 1 /* FUTEX_WAKE */, 1, NULL, NULL, 0))
PROBE(mmap, syscall(SYS_mmap, NULL, 4096, 1 /* PROT_READ */, 2 /* MAP_PRIVATE */, -1, 0))
PROBE(munmap, syscall(SYS_munmap, 1, 1))
PROBE(mprotect, syscall(SYS_mprotect, 1, 1, 0))
PROBE(madvise, syscall(SYS_madvise, 1, 1, 4 /* MADV_DONTNEED */))
PROBE(clock_nanosleep, syscall(SYS_clock_nanosleep, -1, 0, NULL, NULL))
PROBE(getrandom, syscall(SYS_getrandom, NULL, 0, 0))
PROBE(rt_sigaction, syscall(SYS_rt_sigaction, -1, NULL, NULL, 8))
PROBE(rt_sigprocmask, syscall(SYS_rt_sigprocmask, 99, buf, NULL, 8))
PROBE(tgkill_self, syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), 0))
PROBE(clone_thread, syscall(SYS_clone, CLONE_THREAD, NULL, NULL, NULL, 0))
PROBE(ioctl_tcgets, syscall(SYS_ioctl, -1, TCGETS, buf))
/* The kernel reads the request as 32 bits: garbage above them must not matter to the filter either. */
PROBE(ioctl_tcgets_high, syscall(SYS_ioctl, -1, 0xffffffff00000000UL | TCGETS, buf))
/* The proxy only. */
PROBE(socket_unix, closing(syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)))
PROBE(socket_netlink_connector,
      closing(syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_CONNECTOR)))
PROBE(socket_netlink_sock_diag,
      closing(syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)))
PROBE(connect, syscall(SYS_connect, -1, NULL, 0))
PROBE(bind, syscall(SYS_bind, -1, NULL, 0))
PROBE(setsockopt, syscall(SYS_setsockopt, -1, SOL_SOCKET, SO_RCVBUF, NULL, 0))
PROBE(epoll_wait, syscall(SYS_epoll_wait, -1, NULL, 1, 0))
PROBE(setns_net, syscall(SYS_setns, -1, CLONE_NEWNET))
PROBE(ioctl_pidfd_info_64, syscall(SYS_ioctl, -1, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER0_COMPAT), buf))
PROBE(ioctl_pidfd_info_72, syscall(SYS_ioctl, -1, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER1_COMPAT), buf))
PROBE(ioctl_pidfd_info_80, syscall(SYS_ioctl, -1, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER2_COMPAT), buf))
PROBE(ioctl_pidfd_info_88, syscall(SYS_ioctl, -1, PIDFD_GET_INFO_SIZED(PIDFD_INFO_SIZE_VER3_COMPAT), buf))
PROBE(ioctl_pidfd_net, syscall(SYS_ioctl, -1, PIDFD_GET_NET_NAMESPACE, 0))
PROBE(open_by_handle_at_dir, syscall(SYS_open_by_handle_at, -1, NULL, O_RDONLY | O_DIRECTORY | O_CLOEXEC))
PROBE(openat2, syscall(SYS_openat2, -1, NULL, NULL, 0))
PROBE(sysinfo, syscall(SYS_sysinfo, NULL))
PROBE(sendto, syscall(SYS_sendto, -1, buf, 1, MSG_NOSIGNAL, NULL, 0))
PROBE(getsockname, syscall(SYS_getsockname, -1, NULL, NULL))
PROBE(pidfd_open, closing(syscall(SYS_pidfd_open, getpid(), 0)))
/* Pipe mode: is the task still there (before 6.13), and ending a pipe dump nobody reads. */
PROBE(pidfd_send_signal_0, syscall(SYS_pidfd_send_signal, -1, 0, NULL, 0))
PROBE(pidfd_send_signal_kill, syscall(SYS_pidfd_send_signal, -1, SIGKILL, NULL, 0))
PROBE(tee, syscall(SYS_tee, -1, -1, 1, 0))

/* ---- calls nobody makes ----------------------------------------------- */
PROBE(clone3, syscall(SYS_clone3, NULL, 0))
/* CLONE_SIGHAND without CLONE_VM: EINVAL, so even an allowed call starts nothing. */
PROBE(clone_process, syscall(SYS_clone, CLONE_SIGHAND | SIGCHLD, NULL, NULL, NULL, 0))
/* A thread in a new pid namespace: EINVAL from the kernel if it ever got there. */
PROBE(clone_thread_newpid, syscall(SYS_clone, CLONE_THREAD | CLONE_NEWPID, NULL, NULL, NULL, 0))
PROBE(mount, syscall(SYS_mount, NULL, NULL, NULL, 0, NULL))
PROBE(umount2, syscall(SYS_umount2, NULL, 0))
PROBE(ptrace, syscall(SYS_ptrace, 2 /* PTRACE_PEEKDATA */, 0, NULL, buf))
PROBE(socket_inet, closing(syscall(SYS_socket, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)))
PROBE(socket_inet6, closing(syscall(SYS_socket, AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)))
PROBE(socket_packet, closing(syscall(SYS_socket, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)))
PROBE(socket_netlink_route, closing(syscall(SYS_socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)))
PROBE(socketpair, syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, NULL))
PROBE(ioctl_tiocsti, syscall(SYS_ioctl, -1, TIOCSTI, buf))
PROBE(ioctl_fionbio, syscall(SYS_ioctl, -1, FIONBIO, buf))
PROBE(ioctl_pidfd_info_56, syscall(SYS_ioctl, -1, PIDFD_GET_INFO_SIZED(56), buf))
PROBE(ioctl_pidfd_mnt, syscall(SYS_ioctl, -1, PIDFD_GET_MNT_NAMESPACE, 0))
PROBE(ioctl_pidfd_user, syscall(SYS_ioctl, -1, PIDFD_GET_USER_NAMESPACE, 0))
PROBE(setns_mnt, syscall(SYS_setns, -1, CLONE_NEWNS))
PROBE(setns_user, syscall(SYS_setns, -1, CLONE_NEWUSER))
/* nstype 0 joins whatever namespace the fd names. */
PROBE(setns_any, syscall(SYS_setns, -1, 0))
PROBE(unshare, syscall(SYS_unshare, -1))
PROBE(tgkill_other, syscall(SYS_tgkill, 1, 1, 0))
PROBE(kill_self, syscall(SYS_kill, getpid(), 0))
PROBE(pidfd_getfd, syscall(SYS_pidfd_getfd, -1, 0, 0))
PROBE(pidfd_send_signal_term, syscall(SYS_pidfd_send_signal, -1, SIGTERM, NULL, 0))
PROBE(process_vm_readv, syscall(SYS_process_vm_readv, 0, NULL, 0, NULL, 0, 0))
PROBE(kexec_load, syscall(SYS_kexec_load, 0, 0, NULL, 0x10 /* no such flag */))
PROBE(init_module, syscall(SYS_init_module, NULL, 0, ""))
PROBE(bpf, syscall(SYS_bpf, -1, NULL, 0))
PROBE(perf_event_open, syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0))
PROBE(io_uring_setup, syscall(SYS_io_uring_setup, 0, NULL))
PROBE(userfaultfd, syscall(SYS_userfaultfd, -1))
PROBE(keyctl, syscall(SYS_keyctl, -1, 0, 0, 0, 0))
PROBE(personality, syscall(SYS_personality, 0xffffffffUL))
PROBE(execve, syscall(SYS_execve, NULL, no_args, no_args))
PROBE(chroot, syscall(SYS_chroot, NULL))
PROBE(setuid, syscall(SYS_setuid, -1))
PROBE(capset, syscall(SYS_capset, NULL, NULL))
PROBE(prctl, syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0))
PROBE(seccomp, syscall(SYS_seccomp, 2 /* SECCOMP_SET_MODE_FILTER */, 0, NULL))
PROBE(memfd_create, syscall(SYS_memfd_create, NULL, 0))
PROBE(linkat, syscall(SYS_linkat, -1, "a", -1, "b", 0))
PROBE(fchownat, syscall(SYS_fchownat, -1, "x", 0, 0, 0))
PROBE(clock_settime, syscall(SYS_clock_settime, CLOCK_REALTIME, NULL))
PROBE(reboot, syscall(SYS_reboot, 0, 0, 0, NULL))
PROBE(fsopen, syscall(SYS_fsopen, NULL, 0))
PROBE(sigaltstack, syscall(SYS_sigaltstack, NULL, NULL))
/* By handle, only a directory, read-only: never a file, never for writing. */
PROBE(open_by_handle_at_file, syscall(SYS_open_by_handle_at, -1, NULL, O_RDONLY | O_CLOEXEC))
PROBE(open_by_handle_at_write, syscall(SYS_open_by_handle_at, -1, NULL, O_RDWR | O_DIRECTORY))
/* The exe link of a task is the keeper's to read (Landlock fails the daemon's ptrace check). */
PROBE(readlinkat, syscall(SYS_readlinkat, -1, "x", buf, sizeof(buf)))
/* A reload keeps the store and event log it started with: no directory is created after start-up. */
PROBE(mkdir, syscall(SYS_mkdir, NULL, 0700))
PROBE(mkdirat, syscall(SYS_mkdirat, -1, "x", 0700))
PROBE(getcwd, syscall(SYS_getcwd, NULL, 0))

#define P(id, proxy, collector)                          \
        {                                                \
#id, proxy, collector, false, probe_##id \
        }
#define U(id, proxy, collector)                         \
        {                                               \
#id, proxy, collector, true, probe_##id \
        }

static const struct probe probes[] = {
        P(read, ALLOWED, ALLOWED),
        P(write, ALLOWED, ALLOWED),
        P(openat, ALLOWED, ALLOWED),
        P(close, ALLOWED, ALLOWED),
        P(newfstatat, ALLOWED, ALLOWED),
        P(lseek, ALLOWED, ALLOWED),
        P(fcntl, ALLOWED, ALLOWED),
        P(fstatfs, ALLOWED, ALLOWED),
        P(flock, ALLOWED, ALLOWED),
        P(fchmod, ALLOWED, ALLOWED),
        P(ftruncate, ALLOWED, ALLOWED),
        P(fallocate, ALLOWED, ALLOWED),
        P(renameat2, ALLOWED, ALLOWED),
        P(unlinkat, ALLOWED, ALLOWED),
        P(getdents64, ALLOWED, ALLOWED),
        P(pipe2, ALLOWED, ALLOWED),
        P(splice, ALLOWED, ALLOWED),
        P(accept4, ALLOWED, ALLOWED),
        P(recvmsg, ALLOWED, ALLOWED),
        P(sendmsg, ALLOWED, ALLOWED),
        P(poll, ALLOWED, ALLOWED),
        P(futex, ALLOWED, ALLOWED),
        P(mmap, ALLOWED, ALLOWED),
        P(munmap, ALLOWED, ALLOWED),
        P(mprotect, ALLOWED, ALLOWED),
        P(madvise, ALLOWED, ALLOWED),
        P(clock_nanosleep, ALLOWED, ALLOWED),
        P(getrandom, ALLOWED, ALLOWED),
        P(rt_sigaction, ALLOWED, ALLOWED),
        P(rt_sigprocmask, ALLOWED, ALLOWED),
        P(tgkill_self, ALLOWED, ALLOWED),
        P(clone_thread, ALLOWED, ALLOWED),
        P(ioctl_tcgets, ALLOWED, ALLOWED),
        P(ioctl_tcgets_high, ALLOWED, ALLOWED),
        P(socket_unix, ALLOWED, BLOCKED),
        P(socket_netlink_connector, ALLOWED, BLOCKED),
        P(socket_netlink_sock_diag, ALLOWED, BLOCKED),
        P(connect, ALLOWED, BLOCKED),
        P(bind, ALLOWED, BLOCKED),
        P(setsockopt, ALLOWED, BLOCKED),
        P(epoll_wait, ALLOWED, BLOCKED),
        P(setns_net, ALLOWED, BLOCKED),
        P(ioctl_pidfd_info_64, ALLOWED, ALLOWED),
        P(ioctl_pidfd_info_72, ALLOWED, ALLOWED),
        P(ioctl_pidfd_info_80, ALLOWED, ALLOWED),
        P(ioctl_pidfd_info_88, ALLOWED, ALLOWED),
        P(ioctl_pidfd_net, ALLOWED, BLOCKED),
        P(open_by_handle_at_dir, ALLOWED, BLOCKED),
        P(openat2, ALLOWED, BLOCKED),
        P(sysinfo, ALLOWED, BLOCKED),
        P(sendto, ALLOWED, BLOCKED),
        P(shutdown, ALLOWED, BLOCKED),
        P(getsockopt, ALLOWED, ALLOWED),
        P(getsockopt_netns_cookie, ALLOWED, ALLOWED),
        P(getsockopt_peercred_high, ALLOWED, ALLOWED),
        P(getsockopt_rcvbuf, ALLOWED, BLOCKED),
        P(getsockname, ALLOWED, BLOCKED),
        P(pidfd_open, ALLOWED, BLOCKED),
        P(pidfd_send_signal_0, ALLOWED, BLOCKED),
        P(pidfd_send_signal_kill, ALLOWED, BLOCKED),
        P(tee, ALLOWED, BLOCKED),

        P(clone3, BLOCKED, BLOCKED),
        P(clone_process, SAN_ONLY, SAN_ONLY),
        P(clone_thread_newpid, BLOCKED, BLOCKED),
        P(mount, BLOCKED, BLOCKED),
        P(umount2, BLOCKED, BLOCKED),
        P(ptrace, SAN_ONLY, SAN_ONLY),
        P(socket_inet, BLOCKED, BLOCKED),
        P(socket_inet6, BLOCKED, BLOCKED),
        P(socket_packet, BLOCKED, BLOCKED),
        P(socket_netlink_route, BLOCKED, BLOCKED),
        P(socketpair, BLOCKED, BLOCKED),
        P(ioctl_tiocsti, BLOCKED, BLOCKED),
        P(ioctl_fionbio, BLOCKED, BLOCKED),
        P(ioctl_pidfd_info_56, BLOCKED, BLOCKED),
        P(ioctl_pidfd_mnt, BLOCKED, BLOCKED),
        P(ioctl_pidfd_user, BLOCKED, BLOCKED),
        P(setns_mnt, BLOCKED, BLOCKED),
        P(setns_user, BLOCKED, BLOCKED),
        P(setns_any, BLOCKED, BLOCKED),
        P(unshare, BLOCKED, BLOCKED),
        P(tgkill_other, BLOCKED, BLOCKED),
        P(kill_self, BLOCKED, BLOCKED),
        P(pidfd_getfd, BLOCKED, BLOCKED),
        P(pidfd_send_signal_term, BLOCKED, BLOCKED),
        P(process_vm_readv, BLOCKED, BLOCKED),
        U(kexec_load, BLOCKED, BLOCKED),
        U(init_module, BLOCKED, BLOCKED),
        P(bpf, BLOCKED, BLOCKED),
        P(perf_event_open, BLOCKED, BLOCKED),
        U(io_uring_setup, BLOCKED, BLOCKED),
        U(userfaultfd, BLOCKED, BLOCKED),
        P(keyctl, BLOCKED, BLOCKED),
        P(personality, BLOCKED, BLOCKED),
        P(execve, BLOCKED, BLOCKED),
        P(chroot, BLOCKED, BLOCKED),
        P(setuid, BLOCKED, BLOCKED),
        P(capset, BLOCKED, BLOCKED),
        P(prctl, SAN_ONLY, SAN_ONLY),
        P(seccomp, BLOCKED, BLOCKED),
        P(memfd_create, BLOCKED, BLOCKED),
        P(linkat, BLOCKED, BLOCKED),
        P(fchownat, BLOCKED, BLOCKED),
        P(clock_settime, BLOCKED, BLOCKED),
        P(reboot, BLOCKED, BLOCKED),
        P(fsopen, BLOCKED, BLOCKED),
        P(sigaltstack, SAN_ONLY, SAN_ONLY),
        P(open_by_handle_at_file, BLOCKED, BLOCKED),
        P(open_by_handle_at_write, BLOCKED, BLOCKED),
        P(readlinkat, BLOCKED, BLOCKED),
        P(mkdir, BLOCKED, BLOCKED),
        P(mkdirat, BLOCKED, BLOCKED),
        P(getcwd, BLOCKED, BLOCKED),
};

static void usage(void)
{
        fprintf(stderr, "usage: cdp-try-syscall proxy|collector [--no-sandbox]\n");
}

int main(int argc, char **argv)
{
        bool proxy, sandbox;
        int r;

        if (argc < 2 || argc > 3 || (strcmp(argv[1], "proxy") != 0 && strcmp(argv[1], "collector") != 0) ||
            (argc == 3 && strcmp(argv[2], "--no-sandbox") != 0)) {
                usage();
                return 2;
        }
        proxy = strcmp(argv[1], "proxy") == 0;
        sandbox = argc == 2;

        /* The same order as the programs: capabilities first, then the filter. */
        if (sandbox) {
                r = proxy ? caps_reduce_proxy() : caps_reduce_collector();
                if (r < 0) {
                        fprintf(stderr, "caps_reduce: %s\n", strerror(-r));
                        return 1;
                }
                r = proxy ? sandbox_apply_proxy() : sandbox_apply_collector();
                if (r < 0) {
                        fprintf(stderr, "sandbox_apply: %s\n", strerror(-r));
                        return 1;
                }
        }

        for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
                const struct probe *p = &probes[i];
                enum expect e = proxy ? p->proxy : p->collector;
                const char *name;

                errno = 0;
                long k = p->call();
                int error = k < 0 ? errno : 0;
                name = error == 0 ? "OK" : strerrorname_np(error);
                printf("%s=%s expect=%s%s\n", p->name, name ? name : "?",
                       e == ALLOWED ? "allowed" : "blocked", p->unchecked ? " unchecked" : "");
        }
        return fflush(stdout) == 0 ? 0 : 1;
}
