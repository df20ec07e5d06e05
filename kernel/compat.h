/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Kernel uapi newer than the build headers (Debian 12 ships 6.1 headers).
 * Each definition names the kernel version that introduced it; once the
 * oldest supported build headers have it, the definition can go. The system
 * header wins whenever it has the name (see configure.ac's checks).
 */

#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/types.h>

/*
 * <linux/pidfd.h> is not included: it pulls <linux/fcntl.h>, which clashes
 * with glibc's <fcntl.h>. glibc's <sys/pidfd.h> (2.36) has the wrappers.
 */
#if defined(HAVE_SYS_PIDFD_H)
#include <sys/pidfd.h>
#endif

/* ---- sockets ---------------------------------------------------------- */

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76 /* 6.5 */
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* 6.5 */
#endif
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04 /* 6.5 */
#endif
#ifndef SO_PASSRIGHTS
#define SO_PASSRIGHTS 83 /* 6.16: a receiver that clears it refuses SCM_RIGHTS with EPERM */
#endif
#ifndef SCM_MAX_FD
#define SCM_MAX_FD 253 /* fds per SCM_RIGHTS message, all kernels */
#endif

/* ---- pidfd ------------------------------------------------------------ */

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* 6.9 */
#endif

#define PIDFS_IOCTL_MAGIC_COMPAT 0xFF

/* Namespace ioctls on a pidfd: 6.11. */
#ifndef PIDFD_GET_CGROUP_NAMESPACE
#define PIDFD_GET_CGROUP_NAMESPACE            _IO(PIDFS_IOCTL_MAGIC_COMPAT, 1)
#define PIDFD_GET_IPC_NAMESPACE               _IO(PIDFS_IOCTL_MAGIC_COMPAT, 2)
#define PIDFD_GET_MNT_NAMESPACE               _IO(PIDFS_IOCTL_MAGIC_COMPAT, 3)
#define PIDFD_GET_NET_NAMESPACE               _IO(PIDFS_IOCTL_MAGIC_COMPAT, 4)
#define PIDFD_GET_PID_NAMESPACE               _IO(PIDFS_IOCTL_MAGIC_COMPAT, 5)
#define PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE  _IO(PIDFS_IOCTL_MAGIC_COMPAT, 6)
#define PIDFD_GET_TIME_NAMESPACE              _IO(PIDFS_IOCTL_MAGIC_COMPAT, 7)
#define PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE _IO(PIDFS_IOCTL_MAGIC_COMPAT, 8)
#define PIDFD_GET_USER_NAMESPACE              _IO(PIDFS_IOCTL_MAGIC_COMPAT, 9)
#define PIDFD_GET_UTS_NAMESPACE               _IO(PIDFS_IOCTL_MAGIC_COMPAT, 10)
#endif

/* PIDFD_GET_INFO request bits. */
#ifndef PIDFD_INFO_PID
#define PIDFD_INFO_PID      (1ULL << 0) /* 6.13 */
#define PIDFD_INFO_CREDS    (1ULL << 1) /* 6.13 */
#define PIDFD_INFO_CGROUPID (1ULL << 2) /* 6.13 */
#endif
#ifndef PIDFD_INFO_EXIT
#define PIDFD_INFO_EXIT (1ULL << 3) /* 6.15 */
#endif
#ifndef PIDFD_INFO_COREDUMP
#define PIDFD_INFO_COREDUMP (1ULL << 4) /* 6.16 */
#endif
#ifndef PIDFD_INFO_SUPPORTED_MASK
#define PIDFD_INFO_SUPPORTED_MASK (1ULL << 5) /* 6.19 */
#endif
#ifndef PIDFD_INFO_COREDUMP_SIGNAL
#define PIDFD_INFO_COREDUMP_SIGNAL (1ULL << 6) /* 6.19 */
#endif
#ifndef PIDFD_INFO_COREDUMP_CODE
#define PIDFD_INFO_COREDUMP_CODE (1ULL << 7) /* 7.1 */
#endif

/* pidfd_info.coredump_mask bits: 6.16. */
#ifndef PIDFD_COREDUMPED
#define PIDFD_COREDUMPED    (1U << 0) /* the task did crash and a dump was started */
#define PIDFD_COREDUMP_SKIP (1U << 1) /* dumpable == 0 */
#define PIDFD_COREDUMP_USER (1U << 2) /* dumpable == 1 */
#define PIDFD_COREDUMP_ROOT (1U << 3) /* dumpable == 2 (suid_dumpable=2): privileged only */
#endif

/* Sizes the kernel has known for struct pidfd_info. */
#define PIDFD_INFO_SIZE_VER0_COMPAT 64 /* 6.13 */
#define PIDFD_INFO_SIZE_VER1_COMPAT 72 /* 6.16: coredump_mask */
#define PIDFD_INFO_SIZE_VER2_COMPAT 80 /* 6.19 */
#define PIDFD_INFO_SIZE_VER3_COMPAT 88 /* 7.1 */

/*
 * Always our own type, never the system's struct pidfd_info: build headers
 * may carry an older, shorter layout. This is the 7.1 layout; offsets 0..71
 * are the same on every kernel. 6.19/7.0 put supported_mask at offset 72,
 * 7.1 moved it to 80 (see pidfd_get_info()).
 */
struct cdp_pidfd_info {
        uint64_t mask;
        uint64_t cgroupid;
        uint32_t pid;
        uint32_t tgid;
        uint32_t ppid;
        uint32_t ruid;
        uint32_t rgid;
        uint32_t euid;
        uint32_t egid;
        uint32_t suid;
        uint32_t sgid;
        uint32_t fsuid;
        uint32_t fsgid;
        int32_t exit_code;        /* 6.15 */
        uint32_t coredump_mask;   /* 6.16 */
        uint32_t coredump_signal; /* 6.19; spare before */
        uint32_t coredump_code;   /* 7.1; low half of supported_mask on 6.19/7.0 */
        uint32_t coredump_pad;    /* 7.1 */
        uint64_t supported_mask;  /* 7.1 position */
};
_Static_assert(sizeof(struct cdp_pidfd_info) == PIDFD_INFO_SIZE_VER3_COMPAT, "pidfd_info layout");

/* The ioctl number encodes the size we pass: 6.13. */
#define PIDFD_GET_INFO_SIZED(size) _IOC(_IOC_READ | _IOC_WRITE, PIDFS_IOCTL_MAGIC_COMPAT, 11, (size))

/* ---- coredump socket protocol: <linux/coredump.h>, 6.17 -------------- */

#if defined(HAVE_LINUX_COREDUMP_H)
#include <linux/coredump.h>
#else
enum {
        COREDUMP_KERNEL = 1ULL << 0,    /* the kernel writes the ELF core into the socket */
        COREDUMP_USERSPACE = 1ULL << 1, /* the server makes the dump itself */
        COREDUMP_REJECT = 1ULL << 2,    /* no dump at all */
        COREDUMP_WAIT = 1ULL << 3,      /* hold the task until the server closes */
};

struct coredump_req {
        __u32 size;
        __u32 size_ack;
        __u64 mask;
};

enum {
        COREDUMP_REQ_SIZE_VER0 = 16U,
};

struct coredump_ack {
        __u32 size;
        __u32 spare;
        __u64 mask;
};

enum {
        COREDUMP_ACK_SIZE_VER0 = 16U,
};

enum coredump_mark {
        COREDUMP_MARK_REQACK = 0U,
        COREDUMP_MARK_MINSIZE = 1U,
        COREDUMP_MARK_MAXSIZE = 2U,
        COREDUMP_MARK_UNSUPPORTED = 3U,
        COREDUMP_MARK_CONFLICTING = 4U,
        __COREDUMP_MARK_MAX = (1U << 31),
};
#endif

_Static_assert(sizeof(struct coredump_req) == 16, "coredump_req layout");
_Static_assert(sizeof(struct coredump_ack) == 16, "coredump_ack layout");

/* ---- misc ------------------------------------------------------------- */

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000 /* 4.6 */
#endif

/* Filesystem magic numbers (statfs f_type) of the cgroup hierarchies; <linux/magic.h> has them too. */
#define CGROUP_SUPER_MAGIC_COMPAT  0x27e0eb   /* v1, 2.6.24 */
#define CGROUP2_SUPER_MAGIC_COMPAT 0x63677270 /* v2, 4.5 */

/*
 * Inode numbers of the initial namespaces (<linux/nsfs.h>, enum init_ns_ino).
 * Dynamic namespace inodes are allocated from 0xF0000000 up on every kernel,
 * so a namespace with one of these numbers is the initial one wherever it is
 * seen. User, pid, uts and ipc have had theirs since 3.8, cgroup since 4.6,
 * time since 5.6; the initial network and mount namespaces only since 6.18
 * (before, they were numbered like any other).
 */
#define USER_NS_INIT_INO_COMPAT 0xEFFFFFFDU /* 3.8 */
#define PID_NS_INIT_INO_COMPAT  0xEFFFFFFCU /* 3.8 */
#define NET_NS_INIT_INO_COMPAT  0xEFFFFFF9U /* 6.18 */
#define MNT_NS_INIT_INO_COMPAT  0xEFFFFFF8U /* 6.18 */

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71 /* 5.14 */
#endif

/* File handle type of kernfs (cgroup2) inodes: 8 bytes holding the cgroup id. 4.13. */
#ifndef FILEID_KERNFS
#define FILEID_KERNFS 0xfe
#endif
