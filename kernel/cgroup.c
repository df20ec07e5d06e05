/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

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

/* The fields of one mountinfo line that we need; false when the line has no " - " part. */
struct mountinfo_line {
        bool whole; /* the mount's root is the filesystem's root "/", not a bind mount of a subtree */
        const char *mountpoint;
        size_t mountpoint_len;
        const char *fstype; /* up to the next space */
        size_t fstype_len;
        const char *super_options; /* the last field */
        size_t super_options_len;
};

static bool mountinfo_parse_line(const char *p, const char *eol, struct mountinfo_line *ret)
{
        const char *sep = NULL, *f = p, *e, *src, *opts;

        /* Fields: id parent major:minor root mountpoint options [optional...] - fstype source super */
        for (const char *q = p; q + 3 <= eol; q++)
                if (q[0] == ' ' && q[1] == '-' && q[2] == ' ') {
                        sep = q;
                        break;
                }
        if (!sep)
                return false;
        /* Skip three fields to reach the root, and one more to the mount point. */
        for (int i = 0; i < 4; i++) {
                f = memchr(f, ' ', (size_t) (sep - f));
                if (!f)
                        return false;
                f++;
                if (i == 2)
                        ret->whole = f + 2 <= sep && f[0] == '/' && f[1] == ' ';
        }
        if (f >= sep)
                return false;
        e = memchr(f, ' ', (size_t) (sep - f));
        if (!e)
                e = sep;
        ret->mountpoint = f;
        ret->mountpoint_len = (size_t) (e - f);

        ret->fstype = sep + 3;
        src = memchr(ret->fstype, ' ', (size_t) (eol - ret->fstype));
        if (!src)
                return false;
        ret->fstype_len = (size_t) (src - ret->fstype);
        opts = memchr(src + 1, ' ', (size_t) (eol - src - 1));
        if (!opts)
                return false;
        ret->super_options = opts + 1;
        ret->super_options_len = (size_t) (eol - opts - 1);
        return true;
}

static bool field_is(const char *f, size_t n, const char *word)
{
        return n == strlen(word) && memcmp(f, word, n) == 0;
}

int cgroup2_find_mount_in(const char *mountinfo, char **ret_path)
{
        for (const char *p = mountinfo; *p;) {
                const char *eol = strchrnul(p, '\n');
                struct mountinfo_line l;

                /*
                 * Only a mount of the whole hierarchy: a bind mount of a subtree (a
                 * container's own /sys/fs/cgroup, say) would turn every id into a path
                 * relative to that subtree, or into nothing.
                 */
                if (mountinfo_parse_line(p, eol, &l) && l.whole &&
                    field_is(l.fstype, l.fstype_len, "cgroup2")) {
                        char *path = unescape_mountinfo(l.mountpoint, l.mountpoint_len);
                        if (!path)
                                return -ENOMEM;
                        *ret_path = path;
                        return 0;
                }
                p = *eol ? eol + 1 : eol;
        }
        return -ENOENT;
}

void cgroup1_mounts_free(struct cgroup1_mount *m, size_t n)
{
        if (!m)
                return;
        for (size_t i = 0; i < n; i++) {
                free(m[i].path);
                free(m[i].options);
        }
        free(m);
}

int cgroup1_find_mounts_in(const char *mountinfo, struct cgroup1_mount **ret, size_t *ret_n)
{
        struct cgroup1_mount *m = NULL;
        size_t n = 0;

        for (const char *p = mountinfo; *p;) {
                const char *eol = strchrnul(p, '\n');
                struct mountinfo_line l;

                if (mountinfo_parse_line(p, eol, &l) && l.whole &&
                    field_is(l.fstype, l.fstype_len, "cgroup")) {
                        struct cgroup1_mount *nm = realloc(m, (n + 1) * sizeof(*m));
                        if (!nm)
                                goto oom;
                        m = nm;
                        m[n] = (struct cgroup1_mount){
                                .path = unescape_mountinfo(l.mountpoint, l.mountpoint_len),
                                .options = strndup(l.super_options, l.super_options_len),
                        };
                        n++;
                        if (!m[n - 1].path || !m[n - 1].options)
                                goto oom;
                }
                p = *eol ? eol + 1 : eol;
        }
        *ret = m;
        *ret_n = n;
        return 0;

oom:
        cgroup1_mounts_free(m, n);
        return -ENOMEM;
}

int cgroup1_find_mounts(struct cgroup1_mount **ret, size_t *ret_n)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = io_read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 * 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        return cgroup1_find_mounts_in(text, ret, ret_n);
}

/* Whether the comma-separated list has the element w (of length n). */
static bool list_has(const char *list, const char *w, size_t n)
{
        for (const char *p = list; *p;) {
                const char *e = strchrnul(p, ',');
                if ((size_t) (e - p) == n && memcmp(p, w, n) == 0)
                        return true;
                p = *e ? e + 1 : e;
        }
        return false;
}

bool cgroup1_mount_matches(const struct cgroup1_mount *m, const char *line_controllers)
{
        const char *p = line_controllers;

        if (!m || !m->options || !p)
                return false;
        for (;;) {
                const char *e = strchrnul(p, ',');
                size_t n = (size_t) (e - p);

                if (n == 0 || !list_has(m->options, p, n))
                        return false;
                if (!*e)
                        return true;
                p = e + 1;
        }
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

static int cgroup_id_at(int dirfd, const char *path, int flags, uint64_t *ret_id)
{
        struct {
                struct file_handle fh;
                uint64_t id;
        } h = { .fh = { .handle_bytes = sizeof(uint64_t) } };
        int mount_id;

        if (name_to_handle_at(dirfd, path, &h.fh, &mount_id, flags) < 0)
                return negative_errno();
        if (h.fh.handle_type != FILEID_KERNFS || h.fh.handle_bytes != sizeof(uint64_t))
                return -EOPNOTSUPP;
        memcpy(ret_id, h.fh.f_handle, sizeof(*ret_id));
        return 0;
}

int cgroup_id_from_path(const char *path, uint64_t *ret_id)
{
        return cgroup_id_at(AT_FDCWD, path, 0, ret_id);
}

int cgroup_id_from_fd(int fd, uint64_t *ret_id)
{
        return cgroup_id_at(fd, "", AT_EMPTY_PATH, ret_id);
}

/* Owner and id of one directory of the walk, which must be on the hierarchy's filesystem. */
static int level_of(int fd, dev_t dev, bool v2, struct cgroup_level *ret)
{
        struct stat st;
        uint64_t id;
        int r;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
                return -EXDEV; /* something mounted over a cgroup: not the hierarchy's own directory */
        if (v2) {
                r = cgroup_id_from_fd(fd, &id);
                if (r < 0)
                        return r;
        } else {
                id = (uint64_t) st.st_ino;
        }
        *ret = (struct cgroup_level){ .id = id, .uid = (uint32_t) st.st_uid };
        return 0;
}

/*
 * rel_path below mount_fd, one level per component. By handles: each
 * directory opened (O_NOFOLLOW) from the previous one, its id from its file
 * handle. By inode: one fstatat() of the path up to each component, its id
 * the inode number, which on a 64-bit kernel is the whole kernfs node id
 * (kernfs_ino(), generation included; a 32-bit kernel truncates it): only
 * good for cgroup2 (no rename there, no symlinks) and only once the leaf's
 * matches an id the kernel reported, which proves the rule and the walk.
 */
static int walk(int mount_fd, dev_t dev, bool v2, const char *rel_path, bool by_inode,
                struct cgroup_level **ret_levels, size_t *ret_n)
{
        _cleanup_free_ struct cgroup_level *levels = NULL;
        _cleanup_close_ int fd = -EBADF;
        const char *base = rel_path + strspn(rel_path, "/");
        int cur = mount_fd, r;
        size_t n = 0;

        for (const char *p = base; *p;) {
                const char *e = strchrnul(p, '/');
                size_t len = (size_t) (e - p);
                char name[PATH_MAX];
                struct cgroup_level *nl;

                if (len == 0) {
                        p = *e ? e + 1 : e;
                        continue;
                }
                if (len > NAME_MAX)
                        return -ENAMETOOLONG;
                if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                nl = realloc(levels, (n + 1) * sizeof(*levels));
                if (!nl)
                        return -ENOMEM;
                levels = nl;

                if (by_inode) {
                        size_t plen = (size_t) (e - base);
                        struct stat st;

                        if (plen >= sizeof(name))
                                return -ENAMETOOLONG;
                        memcpy(name, base, plen);
                        name[plen] = 0;
                        if (fstatat(mount_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                return negative_errno();
                        if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
                                return -EXDEV;
                        levels[n] = (struct cgroup_level){ .id = (uint64_t) st.st_ino,
                                                           .uid = (uint32_t) st.st_uid };
                } else {
                        memcpy(name, p, len);
                        name[len] = 0;
                        int next = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (next < 0)
                                return negative_errno();
                        safe_close(fd);
                        cur = fd = next;
                        r = level_of(fd, dev, v2, &levels[n]);
                        if (r < 0)
                                return r;
                }
                levels[n].end = (size_t) (e - rel_path);
                n++;
                p = *e ? e + 1 : e;
        }
        *ret_levels = TAKE_PTR(levels);
        *ret_n = n;
        return 0;
}

int cgroup_walk(int mount_fd, const char *rel_path, uint64_t expect_id, struct cgroup_level **ret_levels,
                size_t *ret_n)
{
        _cleanup_free_ struct cgroup_level *levels = NULL;
        struct cgroup_level root = {};
        struct statfs sfs;
        struct stat st;
        size_t n = 0;
        bool v2;
        int r;

        if (mount_fd < 0 || !rel_path)
                return -EINVAL;
        if (fstat(mount_fd, &st) < 0 || fstatfs(mount_fd, &sfs) < 0)
                return negative_errno();
        /*
         * Only cgroup2 directories have the ids pidfds report (v1 hierarchies
         * are kernfs too, with handles of their own): a v1 one is walked by inode.
         */
        v2 = sfs.f_type == CGROUP2_SUPER_MAGIC_COMPAT;
        if (!v2 && sfs.f_type != CGROUP_SUPER_MAGIC_COMPAT)
                return -EMEDIUMTYPE;
        if (expect_id != 0 && !v2)
                return -EOPNOTSUPP;

        /* By inode first: a syscall per level instead of four. Anything short of the id: by handles. */
        if (v2 && expect_id != 0) {
                r = walk(mount_fd, st.st_dev, v2, rel_path, true, &levels, &n);
                if (r >= 0 && n > 0 && levels[n - 1].id == expect_id) {
                        *ret_levels = TAKE_PTR(levels);
                        *ret_n = n;
                        return 0;
                }
                free(levels);
                levels = NULL;
                n = 0;
        }
        if (v2) {
                r = cgroup_id_from_fd(mount_fd, &root.id);
                if (r < 0)
                        return r;
        }
        r = walk(mount_fd, st.st_dev, v2, rel_path, false, &levels, &n);
        if (r < 0)
                return r;
        if (expect_id != 0 && (n > 0 ? levels[n - 1].id : root.id) != expect_id)
                return -ESTALE; /* removed, and another made under the same name since */
        *ret_levels = TAKE_PTR(levels);
        *ret_n = n;
        return 0;
}
