/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "kernel/compat.h"
#include "kernel/io.h"

void cgroup_lines_free(struct cgroup_line *lines, size_t n)
{
        if (!lines)
                return;
        for (size_t i = 0; i < n; i++) {
                free(lines[i].controllers);
                free(lines[i].path);
        }
        free(lines);
}

int cgroup_parse_proc(const char *text, struct cgroup_line **ret, size_t *ret_n)
{
        struct cgroup_line *lines = NULL;
        size_t n = 0;
        int r = 0;

        for (const char *p = text; *p;) {
                const char *eol = strchrnul(p, '\n');
                const char *c1 = memchr(p, ':', (size_t) (eol - p));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t) (eol - c1 - 1)) : NULL;
                char *end;

                if (eol == p) { /* empty line, e.g. the trailing one */
                        p = *eol ? eol + 1 : eol;
                        continue;
                }
                /* The path itself may contain ':'; only the first two separate fields. */
                if (!c1 || !c2 || c1 == p || c2 + 1 >= eol || c2[1] != '/') {
                        r = -EBADMSG;
                        goto fail;
                }

                errno = 0;
                unsigned long h = strtoul(p, &end, 10);
                if (errno != 0 || end != c1 || h > UINT_MAX) {
                        r = -EBADMSG;
                        goto fail;
                }

                struct cgroup_line *nl = realloc(lines, (n + 1) * sizeof(*lines));
                if (!nl) {
                        r = -ENOMEM;
                        goto fail;
                }
                lines = nl;
                lines[n] = (struct cgroup_line){
                        .hierarchy = (unsigned) h,
                        .controllers = strndup(c1 + 1, (size_t) (c2 - c1 - 1)),
                        .path = strndup(c2 + 1, (size_t) (eol - c2 - 1)),
                };
                n++;
                if (!lines[n - 1].controllers || !lines[n - 1].path) {
                        r = -ENOMEM;
                        goto fail;
                }
                /* cgroup2 lines are "0::/path"; a v1 hierarchy always names controllers. */
                if ((h == 0) != (lines[n - 1].controllers[0] == 0)) {
                        r = -EBADMSG;
                        goto fail;
                }
                p = *eol ? eol + 1 : eol;
        }

        *ret = lines;
        *ret_n = n;
        return 0;

fail:
        cgroup_lines_free(lines, n);
        return r;
}

/* Undoes mountinfo's octal escapes ("\040" for a space). */
static char *unescape_mountinfo(const char *s, size_t len)
{
        char *out = malloc(len + 1), *o = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '\\' && i + 3 < len + 1 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
                    s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
                        *o++ = (char) (((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
                        i += 3;
                } else {
                        *o++ = s[i];
                }
        }
        *o = 0;
        return out;
}

int cgroup2_find_mount_in(const char *mountinfo, char **ret_path)
{
        for (const char *p = mountinfo; *p;) {
                const char *eol = strchrnul(p, '\n');
                const char *sep = NULL;

                /* Fields: id parent major:minor root mountpoint options [optional...] - fstype source super
                 */
                for (const char *q = p; q + 3 <= eol; q++)
                        if (q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
                                sep = q;
                                break;
                        }
                if (sep && (size_t) (eol - (sep + 3)) >= 8 && strncmp(sep + 3, "cgroup2 ", 8) == 0) {
                        const char *f = p;
                        /* Skip three fields to reach the root, and one more to the mount point. */
                        for (int i = 0; i < 3 && f && f < sep; i++) {
                                f = memchr(f, ' ', (size_t) (sep - f));
                                if (f)
                                        f++;
                        }
                        /*
                         * Only a mount of the whole hierarchy: a bind mount of a subtree (a
                         * container's own /sys/fs/cgroup, say) would turn every id into a path
                         * relative to that subtree, or into nothing.
                         */
                        if (f && f + 2 <= sep && f[0] == '/' && f[1] == ' ') {
                                const char *m = f + 2;
                                const char *e = memchr(m, ' ', (size_t) (sep - m));
                                if (!e)
                                        e = sep;
                                char *path = unescape_mountinfo(m, (size_t) (e - m));
                                if (!path)
                                        return -ENOMEM;
                                *ret_path = path;
                                return 0;
                        }
                }
                p = *eol ? eol + 1 : eol;
        }
        return -ENOENT;
}

int cgroup2_find_mount(char **ret_path)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = io_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        return cgroup2_find_mount_in(text, ret_path);
}

int cgroup_id_to_path(int mount_fd, const char *mount_path, uint64_t id, char **ret_path)
{
        struct {
                struct file_handle fh;
                uint64_t id;
        } h = { .fh = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS } };
        _cleanup_close_ int fd = -EBADF;
        char link[64], target[PATH_MAX];
        size_t mlen = strlen(mount_path);

        memcpy(h.fh.f_handle, &id, sizeof(id));
        fd = open_by_handle_at(mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        (void) snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
        ssize_t k = readlink(link, target, sizeof(target) - 1);
        if (k < 0)
                return negative_errno();
        if ((size_t) k >= sizeof(target) - 1)
                return -ENAMETOOLONG;
        target[k] = 0;

        while (mlen > 1 && mount_path[mlen - 1] == '/')
                mlen--;
        if (strncmp(target, mount_path, mlen) != 0 || (target[mlen] != 0 && target[mlen] != '/'))
                return -EXDEV; /* outside our view of the mount: a cgroup namespace or a moved mount */

        char *rel = strdup(target[mlen] ? target + mlen : "/");
        if (!rel)
                return -ENOMEM;
        *ret_path = rel;
        return 0;
}

int cgroup_id_from_path(const char *path, uint64_t *ret_id)
{
        struct {
                struct file_handle fh;
                uint64_t id;
        } h = { .fh = { .handle_bytes = sizeof(uint64_t) } };
        int mount_id;

        if (name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) < 0)
                return negative_errno();
        if (h.fh.handle_type != FILEID_KERNFS || h.fh.handle_bytes != sizeof(uint64_t))
                return -EOPNOTSUPP;
        memcpy(ret_id, h.fh.f_handle, sizeof(*ret_id));
        return 0;
}
