/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Ownership helpers shared by every module: cleanup attributes for owned
 * locals and TAKE_FD/TAKE_PTR to hand ownership on. An empty fd is -EBADF.
 * close() is never retried on EINTR: on Linux the descriptor is gone either way.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>

#define _cleanup_(f)         __attribute__((cleanup(f)))
#define _unused_             __attribute__((unused))
#define _noreturn_           __attribute__((noreturn))
#define _printf_(a, b)       __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b)     ((a) < (b) ? (a) : (b))
#define MAX(a, b)     ((a) > (b) ? (a) : (b))

/* errno as a negative return value; never 0, so a failed call cannot look like success. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd)
{
        *fd = safe_close(*fd);
}

static inline void freep(void *p)
{
        free(*(void **) p);
        *(void **) p = NULL;
}

static inline void fclosep(FILE **f)
{
        if (*f)
                (void) fclose(*f);
        *f = NULL;
}

static inline void closedirp(DIR **d)
{
        if (*d)
                (void) closedir(*d);
        *d = NULL;
}

/* Closes every fd of a -EBADF terminated or counted array; used for SCM_RIGHTS leftovers. */
static inline void close_many(int *fds, size_t n)
{
        for (size_t i = 0; i < n; i++)
                fds[i] = safe_close(fds[i]);
}

#define _cleanup_close_    _cleanup_(closep)
#define _cleanup_free_     _cleanup_(freep)
#define _cleanup_fclose_   _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Defines <func>p(type *) that calls func on a non-NULL value, for _cleanup_(<func>p). */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
        static inline void func##p(type *p)     \
        {                                       \
                if (*p)                         \
                        func(*p);               \
        }

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -EBADF;   \
                _fd_;            \
        })

#define TAKE_PTR(p)                  \
        ({                           \
                typeof(p) _p_ = (p); \
                (p) = NULL;          \
                _p_;                 \
        })

/* Retries a syscall expression while it fails with EINTR. */
#define RETRY_EINTR(expr)                          \
        ({                                         \
                typeof(expr) _r_;                  \
                do                                 \
                        _r_ = (expr);              \
                while (_r_ < 0 && errno == EINTR); \
                _r_;                               \
        })

/* Frees and returns NULL, for reassignment in one expression. */
static inline char *mfree_str(char *p)
{
        free(p);
        return NULL;
}

/*
 * A vocabulary that is a public interface (outcomes, reasons, runtimes,
 * modes) is an enum with one string table: these define its lookups.
 */
#define DEFINE_STRING_TABLE_LOOKUP(name, type, table)                       \
        const char *name##_to_string(type v)                                \
        {                                                                   \
                if ((size_t) v >= ARRAY_SIZE(table))                        \
                        return NULL;                                        \
                return table[v];                                            \
        }                                                                   \
        int name##_from_string(const char *s)                               \
        {                                                                   \
                for (size_t i = 0; s && i < ARRAY_SIZE(table); i++)         \
                        if (table[i] && __builtin_strcmp(table[i], s) == 0) \
                                return (int) i;                             \
                return -EINVAL;                                             \
        }
