/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Names and files of a store directory: ids, temporary files, renames that never replace. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/store/internal.h"

bool store_id_valid(const char *id)
{
        size_t n;

        if (!id)
                return false;
        n = strnlen(id, STORE_ID_MAX + 1);
        return n > 0 && n <= STORE_ID_MAX && id[0] != '.' && !memchr(id, '/', n);
}

/* Extracts the id from "<id><suffix>"; false unless the id is one store_write() would accept. */
bool store_name_to_id(const char *name, const char *suffix, char ret_id[static STORE_ID_MAX + 1])
{
        size_t n = strlen(name), k = strlen(suffix);

        if (n <= k || n - k > STORE_ID_MAX || strcmp(name + n - k, suffix) != 0)
                return false;
        memcpy(ret_id, name, n - k);
        ret_id[n - k] = 0;
        return store_id_valid(ret_id);
}

bool store_is_temp_name(const char *name)
{
        char id[STORE_ID_MAX + 1];

        if (name[0] != '.')
                return false;
        return store_name_to_id(name + 1, ".core.partial", id) ||
               store_name_to_id(name + 1, ".json.partial", id);
}

/*
 * A temporary file is stale when nobody holds its lock: writers lock theirs
 * for their whole life, so a second process on the same directory cannot
 * remove a dump that is still being written.
 */
void store_remove_stale_temp(int dir_fd, const char *name)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 || fstat(fd, &a) < 0 || !S_ISREG(a.st_mode))
                return;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return;
        if (fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
                return;
        (void) unlinkat(dir_fd, name, 0);
}

int store_file_exists(int dir_fd, const char *name)
{
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : negative_errno();
}

/*
 * Creates a temporary file and locks it for its whole life (see
 * store_remove_stale_temp()). If a stale-file sweep unlinked it between the
 * create and the lock, the name is free again: try once more.
 */
int store_create_temp(int dir_fd, const char *name, int *ret_fd)
{
        for (unsigned attempt = 0; attempt < 3; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                /* Read back too: the core's own notes say what its command line was. */
                fd = openat(dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                            0600);
                if (fd < 0)
                        return negative_errno();
                if (RETRY_EINTR(flock(fd, LOCK_EX)) < 0 || fstat(fd, &st) < 0)
                        return negative_errno();
                if (st.st_nlink == 0)
                        continue;
                /* The umask may have taken bits away: a dump is readable by its owner, and only by it. */
                if (fchmod(fd, 0600) < 0)
                        return negative_errno();
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return -EBUSY;
}

int store_rename_noreplace(int dir_fd, const char *from, const char *to)
{
        int r;

        if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return negative_errno();
        /* Filesystems without RENAME_NOREPLACE: names are unique ids, so the check is only a safety net. */
        r = store_file_exists(dir_fd, to);
        if (r != 0)
                return r > 0 ? -EEXIST : r;
        if (renameat(dir_fd, from, dir_fd, to) < 0)
                return negative_errno();
        return 0;
}

char *store_path_join(const char *dir, const char *name)
{
        char *p;
        size_t n = strlen(dir);

        if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return p;
}
