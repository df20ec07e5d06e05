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

static void fuzz_path(const char *path)
{
        _cleanup_(container_info_donep) struct container_info info = {};
        _cleanup_free_ char *uid = NULL;
        int r, k;

        r = container_resolve(path, &info);
        CHECK(r == 0 || r == 1 || r == -ENOMEM);
        k = container_pod_uid(path, &uid);
        CHECK(k == 0 || k == 1 || k == -ENOMEM);
        if (r == 1) {
                size_t n;

                CHECK(info.id && (unsigned) info.runtime < _RUNTIME_MAX);
                n = strlen(info.id);
                /* Ids end up in file names and events: never empty, never a path. */
                CHECK(n > 0 && !strchr(info.id, '/') && strcmp(info.id, ".") != 0 &&
                      strcmp(info.id, "..") != 0);
                if (info.runtime == RUNTIME_NSPAWN || info.runtime == RUNTIME_LXC)
                        for (size_t i = 0; i < n; i++)
                                CHECK((unsigned char) info.id[i] >= 0x20 && info.id[i] != 0x7f);
                else
                        CHECK(n == 64 && is_lower_hex(info.id, n));
                CHECK(!info.pod_uid || pod_uid_canonical(info.pod_uid));
                /* The pod trust checks use must be the pod the container was resolved in. */
                if (k >= 0)
                        CHECK(k == 1 ? info.pod_uid && strcmp(uid, info.pod_uid) == 0 : !info.pod_uid);
        }
        if (k == 1)
                CHECK(uid && pod_uid_canonical(uid));
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
