/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Fuzz target: cgroup paths and the files they come from. A crashing task
 * picks its own cgroup names inside a delegated subtree (rootless podman, a
 * container's own systemd) and, through its cgroup namespace, what
 * /proc/<pid>/cgroup shows; the container resolver, the /proc/<pid>/cgroup
 * parser and the mountinfo reader all see peer-chosen bytes. The input is
 * used both as one path and as the text of those files.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "proxy/dump/container.h"

/* A broken promise of the API is a finding too: crash, so that libFuzzer keeps the input. */
#define CHECK(cond)                                                                                  \
        do {                                                                                         \
                if (!(cond)) {                                                                       \
                        fprintf(stderr, "%s:%d: broken invariant: %s\n", __FILE__, __LINE__, #cond); \
                        abort();                                                                     \
                }                                                                                    \
        } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void container_info_donep(struct container_info *c)
{
        container_info_done(c);
}

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/* The canonical forms container.h promises: 32 hex digits, or 36 with dashes at 8, 13, 18, 23. */
static bool pod_uid_canonical(const char *s)
{
        size_t n = strlen(s);

        if (n == 32)
                return is_lower_hex(s, n);
        if (n != 36)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;

                if (dash ? s[i] != '-' : !is_lower_hex(s + i, 1))
                        return false;
        }
        return true;
}

/* The invariants of one result; owners NULL: every directory root's. */
static void check_info(const char *path, size_t depth, const uint32_t *owners, int r,
                       const struct container_info *info)
{
        size_t n;

        CHECK(r == 0 || r == 1 || r == -ENOMEM);
        if (r != 1)
                return;
        CHECK(info->id && (unsigned) info->runtime < _RUNTIME_MAX);
        n = strlen(info->id);
        /* Ids end up in file names and events: never empty, never a path. */
        CHECK(n > 0 && !strchr(info->id, '/') && strcmp(info->id, ".") != 0 && strcmp(info->id, "..") != 0);
        if (info->runtime == RUNTIME_NSPAWN || info->runtime == RUNTIME_LXC)
                for (size_t i = 0; i < n; i++)
                        CHECK((unsigned char) info->id[i] >= 0x20 && info->id[i] != 0x7f);
        else
                CHECK(n == 64 && is_lower_hex(info->id, n));
        CHECK(!info->pod_uid || pod_uid_canonical(info->pod_uid));
        /* The container's cgroup is on the path; its pod's above it. */
        CHECK(info->depth >= 1 && info->depth <= depth);
        CHECK((info->pod_depth > 0) == (info->pod_uid != NULL));
        CHECK(info->pod_depth < info->depth);
        CHECK(container_path_prefix(path, info->depth) <= strlen(path));
        if (!owners) {
                CHECK(!info->rootless);
                return;
        }
        /* Rootless exactly when the container lies strictly below the first directory a user owns. */
        size_t delegated = SIZE_MAX;
        for (size_t i = 0; i < depth && delegated == SIZE_MAX; i++)
                if (owners[i] != 0)
                        delegated = i;
        CHECK(info->rootless == (delegated != SIZE_MAX && info->depth > delegated + 1));
        CHECK(!info->rootless || info->owner_uid == owners[delegated]);
}

static void fuzz_path(const char *path)
{
        _cleanup_(container_info_donep) struct container_info plain = {}, owned = {};
        _cleanup_free_ uint32_t *owners = NULL;
        size_t depth = container_path_depth(path), i = 0;
        int r, k;

        r = container_resolve(path, NULL, 0, &plain);
        check_info(path, depth, NULL, r, &plain);

        /* Owners from the bytes themselves: a component with '@' or '~' in it is a user's directory. */
        owners = calloc(depth ? depth : 1, sizeof(*owners));
        if (!owners)
                return;
        for (const char *p = path; *p; i++) {
                const char *e;

                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                e = strchrnul(p, '/');
                if (i < depth && (memchr(p, '@', (size_t) (e - p)) || memchr(p, '~', (size_t) (e - p))))
                        owners[i] = 1000 + (uint32_t) i;
                p = e;
        }
        k = container_resolve(path, owners, depth, &owned);
        check_info(path, depth, owners, k, &owned);
        /* Ownership only ever demotes: a system container found with it is the one found without. */
        if (k == 1 && !owned.rootless && r == 1)
                CHECK(plain.runtime == owned.runtime && strcmp(plain.id, owned.id) == 0 &&
                      plain.depth == owned.depth);
        if (k == 1 && !owned.rootless)
                CHECK(r == 1 || r == -ENOMEM);
        /* One entry per component, exactly. */
        if (depth > 0)
                CHECK(container_resolve(path, owners, depth - 1, &plain) == -EINVAL);
}

struct cgroup_lines {
        struct cgroup_line *lines;
        size_t n;
};

static void cgroup_lines_done(struct cgroup_lines *l)
{
        cgroup_lines_free(l->lines, l->n);
        *l = (struct cgroup_lines){};
}

static void fuzz_proc_cgroup(const char *text)
{
        _cleanup_(cgroup_lines_done) struct cgroup_lines l = {};
        int r;

        r = cgroup_parse_proc(text, &l.lines, &l.n);
        CHECK(r == 0 || r == -EBADMSG || r == -ENOMEM);
        if (r < 0)
                return;
        for (size_t i = 0; i < l.n; i++) {
                const struct cgroup_line *line = &l.lines[i];

                CHECK(line->controllers && line->path && line->path[0] == '/');
                CHECK((line->hierarchy == 0) == (line->controllers[0] == 0));
                CHECK(!strchr(line->path, '\n'));
                /* what the daemon does next with each line */
                fuzz_path(line->path);
        }
}

static void fuzz_mountinfo(const char *text)
{
        _cleanup_free_ char *mount = NULL;
        int r;

        r = cgroup2_find_mount_in(text, &mount);
        CHECK(r == 0 || r == -ENOENT || r == -ENOMEM);
        CHECK((r == 0) == !!mount);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = NULL;

        /* Paths and these files are C strings: a NUL ends them, as it does for the kernel. */
        text = strndup((const char *) data, size);
        if (!text)
                return 0;

        fuzz_path(text);
        fuzz_proc_cgroup(text);
        fuzz_mountinfo(text);
        return 0;
}
