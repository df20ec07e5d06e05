/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * containerd (Kubernetes through its CRI plugin, docker's "moby" namespace,
 * ctr and nerdctl): while a task runs, its OCI bundle is in containerd's
 * state directory, io.containerd.runtime.v2.task/<namespace>/<id>/, and the
 * bundle's config.json carries the annotations the CRI plugin sets
 * (io.kubernetes.cri.*). The namespace is not in the cgroup path: each
 * configured one is tried (ids are unique 64-hex strings).
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/names/internal.h"

/* The shim v2 layout (containerd 1.2+) first; the v1 "linux" runtime of older releases after. */
static const char *const task_dirs[] = {
        "io.containerd.runtime.v2.task",
        "io.containerd.runtime.v1.linux",
};

static int read_bundle(int root, const char *path, const struct names_filter *f, struct container_names *n)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        r = jsonr_read_text(root, path, NAMES_OCI_CONFIG_MAX, &text, &len);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        r = names_parse_oci_config(text, len, f, n, NULL);
        if (r == -ENOMEM)
                return r;
        return 1;
}

int names_from_containerd(const struct names_source *s, struct container_names *n)
{
        const struct names_config *c = s->config;
        _cleanup_close_ int root = -EBADF;

        if (!names_id_ok(s->id) || !c->containerd_state)
                return 0;
        root = open(c->containerd_state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return 0;
        for (size_t t = 0; t < ARRAY_SIZE(task_dirs); t++)
                for (size_t i = 0; i < c->n_containerd_namespaces; i++) {
                        char path[1024];
                        int r;

                        if (snprintf(path, sizeof(path), "%s/%s/%s/config.json", task_dirs[t],
                                     c->containerd_namespaces[i], s->id) >= (int) sizeof(path))
                                continue;
                        r = read_bundle(root, path, s->filter, n);
                        if (r != 0)
                                return r;
                }
        return 0;
}
