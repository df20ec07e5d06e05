/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/dump/container.h"

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" */
#define POD_UID_MAX 36

enum id_kind {
        ID_NONE,            /* the component is exactly prefix + suffix */
        ID_HEX64,           /* 64 lowercase hex digits: docker, containerd, CRI-O, podman */
        ID_NAME,            /* a container name, verbatim: LXC, Incus, LXD ("project_name") */
        ID_UNIT_NAME,       /* a machine name escaped for a unit name ("\x2d" for '-'): systemd-nspawn */
        ID_POD_UID,         /* a pod uid as the API spells it: kubelet's cgroupfs driver */
        ID_POD_UID_SYSTEMD, /* the same with '_' for '-', because '-' nests slices: the systemd driver */
};

enum role {
        ROLE_CONTEXT,   /* names nothing itself; only gives meaning to the next component */
        ROLE_CONTAINER, /* a container; below it everything belongs to it until a deeper one */
        ROLE_POD,       /* a Kubernetes pod; its containers are the components below it */
        /*
         * A host-side process of a runtime (conmon, lxc monitor, the nspawn supervisor) or a VM's
         * emulator: never a container. Listed so that a looser row below cannot claim it; when it
         * qualifies its parent (after != TAG_NONE), it also undoes what the parent matched.
         */
        ROLE_MONITOR,
};

/* Names some rows give themselves, for rows that only make sense directly below them. */
enum tag {
        TAG_NONE,
        TAG_DOCKER_DIR,
        TAG_KUBEPODS_DIR,
        TAG_QOS_DIR,
        TAG_POD_DIR,
        TAG_NSPAWN,
        TAG_LXC_DIR,
};

struct layout {
        enum container_runtime runtime; /* ROLE_CONTAINER only */
        const char *prefix;             /* NULL: none */
        const char *suffix;             /* NULL: none; the id runs to the end of the component */
        enum id_kind id;
        enum role role;
        enum tag tag;   /* what a component matching this row is, for the next one */
        enum tag after; /* the parent component must have matched a row of this tag; TAG_NONE: any */
        /*
         * The prefix may also follow a '-': systemd flattens the names of the parent slices into a
         * slice's name, so a kubelet with its own --cgroup-root (kind: /kubelet) names its pods
         * "kubelet-kubepods-burstable-pod<uid>.slice".
         */
        bool flattened;
};

/*
 * First match wins, so monitors come before the container rows they resemble. Cgroup names are
 * what the runtimes themselves create:
 *   docker      systemd driver "docker-<id>.scope", cgroupfs "/docker/<id>"
 *   containerd  CRI via kubelet "cri-containerd-<id>.scope"; outside Kubernetes nerdctl's systemd
 *               driver "nerdctl-<id>.scope" (its cgroupfs default, "/<namespace>/<id>", has
 *               nothing to recognise it by)
 *   CRI-O       systemd "crio-<id>.scope", cgroupfs "crio-<id>"; conmon "crio-conmon-<id>[.scope]"
 *   podman      systemd "libpod-<id>.scope", cgroupfs "/libpod_parent/libpod-<id>", --cgroups=split
 *               (quadlet's default) "<unit>.service/libpod-payload-<id>" beside conmon's "runtime";
 *               conmon "libpod-conmon-<id>.scope" or "/libpod_parent/conmon"
 *   Kubernetes  systemd "kubepods[-<qos>]-pod<uid_>.slice", cgroupfs "/kubepods[/<qos>]/pod<uid>/<id>"
 *   nspawn      "systemd-nspawn@<name>.service" or machined's "machine-<name>.scope", each with
 *               "payload" and "supervisor" below on the unified hierarchy
 *   LXC         "lxc.payload.<name>" and "lxc.monitor.<name>" (4.0+), "lxc.payload/<name>" and
 *               "lxc.monitor/<name>" (3.1, 3.2), "/lxc/<name>" before that
 * Sub-cgroups need no rows: crun's "container" below a scope, nspawn's "payload", a container's
 * own init.scope all belong to the container above them, unless a deeper row matches.
 */
/* clang-format off */
static const struct layout layouts[] = {
        { .prefix = "docker-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_DOCKER },
        { .prefix = "docker", .id = ID_NONE, .role = ROLE_CONTEXT, .tag = TAG_DOCKER_DIR },
        { .after = TAG_DOCKER_DIR, .id = ID_HEX64, .role = ROLE_CONTAINER, .runtime = RUNTIME_DOCKER },

        { .prefix = "cri-containerd-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_CONTAINERD },
        { .prefix = "nerdctl-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_CONTAINERD },

        { .prefix = "crio-conmon-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_MONITOR },
        { .prefix = "crio-conmon-", .id = ID_HEX64, .role = ROLE_MONITOR },
        { .prefix = "crio-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_CRIO },
        { .prefix = "crio-", .id = ID_HEX64, .role = ROLE_CONTAINER, .runtime = RUNTIME_CRIO },

        { .prefix = "libpod-conmon-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_MONITOR },
        { .prefix = "libpod-", .suffix = ".scope", .id = ID_HEX64, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_PODMAN },
        { .prefix = "libpod-", .id = ID_HEX64, .role = ROLE_CONTAINER, .runtime = RUNTIME_PODMAN },
        { .prefix = "libpod-payload-", .id = ID_HEX64, .role = ROLE_CONTAINER, .runtime = RUNTIME_PODMAN },

        { .prefix = "kubepods-pod", .suffix = ".slice", .id = ID_POD_UID_SYSTEMD, .role = ROLE_POD,
          .flattened = true },
        { .prefix = "kubepods-burstable-pod", .suffix = ".slice", .id = ID_POD_UID_SYSTEMD,
          .role = ROLE_POD, .flattened = true },
        { .prefix = "kubepods-besteffort-pod", .suffix = ".slice", .id = ID_POD_UID_SYSTEMD,
          .role = ROLE_POD, .flattened = true },
        { .prefix = "kubepods", .id = ID_NONE, .role = ROLE_CONTEXT, .tag = TAG_KUBEPODS_DIR },
        { .after = TAG_KUBEPODS_DIR, .prefix = "burstable", .id = ID_NONE, .role = ROLE_CONTEXT,
          .tag = TAG_QOS_DIR },
        { .after = TAG_KUBEPODS_DIR, .prefix = "besteffort", .id = ID_NONE, .role = ROLE_CONTEXT,
          .tag = TAG_QOS_DIR },
        { .after = TAG_KUBEPODS_DIR, .prefix = "pod", .id = ID_POD_UID, .role = ROLE_POD,
          .tag = TAG_POD_DIR },
        { .after = TAG_QOS_DIR, .prefix = "pod", .id = ID_POD_UID, .role = ROLE_POD, .tag = TAG_POD_DIR },
        /* kubelet's cgroupfs driver names the container by its id alone: the runtime is not in the path. */
        { .after = TAG_POD_DIR, .id = ID_HEX64, .role = ROLE_CONTAINER, .runtime = RUNTIME_CRI },

        { .prefix = "systemd-nspawn@", .suffix = ".service", .id = ID_UNIT_NAME, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_NSPAWN, .tag = TAG_NSPAWN },
        /* libvirt registers its VMs with machined too; qemu itself is a host process. */
        { .prefix = "machine-qemu\\x2d", .suffix = ".scope", .id = ID_UNIT_NAME, .role = ROLE_MONITOR },
        { .prefix = "machine-", .suffix = ".scope", .id = ID_UNIT_NAME, .role = ROLE_CONTAINER,
          .runtime = RUNTIME_NSPAWN, .tag = TAG_NSPAWN },
        { .after = TAG_NSPAWN, .prefix = "supervisor", .id = ID_NONE, .role = ROLE_MONITOR },

        { .prefix = "lxc.monitor.", .id = ID_NAME, .role = ROLE_MONITOR },
        { .prefix = "lxc.payload.", .id = ID_NAME, .role = ROLE_CONTAINER, .runtime = RUNTIME_LXC },
        { .prefix = "lxc.payload", .id = ID_NONE, .role = ROLE_CONTEXT, .tag = TAG_LXC_DIR },
        { .prefix = "lxc", .id = ID_NONE, .role = ROLE_CONTEXT, .tag = TAG_LXC_DIR },
        { .after = TAG_LXC_DIR, .id = ID_NAME, .role = ROLE_CONTAINER, .runtime = RUNTIME_LXC },
};
/* clang-format on */

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -EINVAL;
}

static bool is_lower_hex(const char *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

/*
 * A name ends up in events, file names and the collector's header: no '/', no control characters,
 * and nothing a path would read as a directory reference.
 */
static bool name_is_valid(const char *s, size_t n)
{
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || (unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

/* Undoes systemd's unit name escaping; a '\' that is not "\xNN" makes the name invalid. */
static bool unit_name_unescape(const char *s, size_t n, char *out, size_t out_size)
{
        size_t k = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '\\') {
                        int hi, lo;

                        if (n - i < 4 || s[i + 1] != 'x')
                                return false;
                        hi = unhex(s[i + 2]);
                        lo = unhex(s[i + 3]);
                        if (hi < 0 || lo < 0)
                                return false;
                        c = (char) (hi << 4 | lo);
                        i += 3;
                }
                if (k + 1 >= out_size)
                        return false;
                out[k++] = c;
        }
        out[k] = 0;
        return name_is_valid(out, k);
}

/*
 * Kubernetes uids are RFC 4122 UUIDs, written lowercase with dashes (the API's form). A static pod's
 * uid is the kubelet's 32-hex-digit hash of its manifest instead: it is kept as the kubelet spells
 * it, since that is also what the runtime and the OCI hook see.
 */
static bool pod_uid_canonicalize(const char *s, size_t n, char sep, char *out, size_t out_size)
{
        size_t k = 0;

        if (n != 32 && n != POD_UID_MAX)
                return false;
        if (out_size <= n)
                return false;
        for (size_t i = 0; i < n; i++) {
                bool dash = n == POD_UID_MAX && (i == 8 || i == 13 || i == 18 || i == 23);
                int v;

                if (dash) {
                        if (s[i] != sep)
                                return false;
                        out[k++] = '-';
                        continue;
                }
                v = unhex(s[i]);
                if (v < 0)
                        return false;
                out[k++] = "0123456789abcdef"[v];
        }
        out[k] = 0;
        return true;
}

static bool id_decode(enum id_kind kind, const char *s, size_t n, char *out, size_t out_size)
{
        switch (kind) {
        case ID_NONE:
                if (n != 0)
                        return false;
                out[0] = 0;
                return true;
        case ID_HEX64:
                /* Runtimes print ids lowercase: anything else is another cgroup that merely looks alike. */
                if (n != 64 || !is_lower_hex(s, n) || out_size <= n)
                        return false;
                memcpy(out, s, n);
                out[n] = 0;
                return true;
        case ID_NAME:
                if (!name_is_valid(s, n) || out_size <= n)
                        return false;
                memcpy(out, s, n);
                out[n] = 0;
                return true;
        case ID_UNIT_NAME:
                return unit_name_unescape(s, n, out, out_size);
        case ID_POD_UID:
                return pod_uid_canonicalize(s, n, '-', out, out_size);
        case ID_POD_UID_SYSTEMD:
                return pod_uid_canonicalize(s, n, '_', out, out_size);
        }
        return false;
}

/* Matches the row's prefix at offset start of the component c (length n), then suffix and id. */
static bool layout_match_at(const struct layout *l, const char *c, size_t n, size_t start, char *id,
                            size_t id_size)
{
        size_t plen = l->prefix ? strlen(l->prefix) : 0, slen = l->suffix ? strlen(l->suffix) : 0;

        if (n - start < plen + slen)
                return false;
        if ((plen > 0 && memcmp(c + start, l->prefix, plen) != 0) ||
            (slen > 0 && memcmp(c + n - slen, l->suffix, slen) != 0))
                return false;
        return id_decode(l->id, c + start + plen, n - start - plen - slen, id, id_size);
}

static bool layout_match(const struct layout *l, const char *c, size_t n, char *id, size_t id_size)
{
        if (layout_match_at(l, c, n, 0, id, id_size))
                return true;
        if (!l->flattened)
                return false;
        for (size_t i = 1; i < n; i++)
                if (c[i - 1] == '-' && layout_match_at(l, c, n, i, id, id_size))
                        return true;
        return false;
}

struct walk {
        const struct layout *container; /* the innermost container row so far; NULL: host */
        char id[NAME_MAX + 1];
        char container_pod_uid[POD_UID_MAX + 1]; /* the innermost pod enclosing that container, or "" */
        char pod_uid[POD_UID_MAX + 1];           /* the innermost pod component so far, or "" */
        enum tag tag;                            /* what the previous component was */
};

/* Applies one component; before is the state as it was before the previous component. */
static void walk_component(struct walk *w, const struct walk *before, const char *c, size_t n)
{
        char id[NAME_MAX + 1];

        for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
                const struct layout *l = &layouts[i];

                if (l->after != TAG_NONE && l->after != w->tag)
                        continue;
                if (!layout_match(l, c, n, id, sizeof(id)))
                        continue;

                switch (l->role) {
                case ROLE_CONTEXT:
                        break;
                case ROLE_CONTAINER:
                        w->container = l;
                        memcpy(w->id, id, sizeof(id));
                        memcpy(w->container_pod_uid, w->pod_uid, sizeof(w->pod_uid));
                        break;
                case ROLE_POD:
                        memcpy(w->pod_uid, id, sizeof(w->pod_uid));
                        break;
                case ROLE_MONITOR:
                        if (l->after != TAG_NONE)
                                *w = *before;
                        break;
                }
                w->tag = l->tag;
                return;
        }
        w->tag = TAG_NONE;
}

/*
 * Walks the components from the root down, so the innermost container wins and a container's pod
 * is the innermost pod above it. "." or ".." (a path seen from another cgroup namespace) leaves
 * nothing trustworthy to read: host.
 */
static void walk_path(const char *path, struct walk *ret)
{
        struct walk w = {}, before = {};

        for (const char *p = path; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t) (e - p);

                if (n > 0) {
                        struct walk saved;

                        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.')) {
                                *ret = (struct walk){};
                                return;
                        }
                        saved = w;
                        /* Longer than any cgroup name can be: nothing a runtime made. */
                        if (n > NAME_MAX)
                                w.tag = TAG_NONE;
                        else
                                walk_component(&w, &before, p, n);
                        before = saved;
                }
                p = *e ? e + 1 : e;
        }
        *ret = w;
}

void container_info_done(struct container_info *c)
{
        if (!c)
                return;
        c->id = mfree_str(c->id);
        c->pod_uid = mfree_str(c->pod_uid);
}

int container_resolve(const char *cgroup_path, struct container_info *ret)
{
        _cleanup_free_ char *id = NULL, *pod_uid = NULL;
        struct walk w;

        if (!cgroup_path || !ret)
                return -EINVAL;

        walk_path(cgroup_path, &w);
        if (!w.container)
                return 0;

        id = strdup(w.id);
        if (!id)
                return -ENOMEM;
        if (w.container_pod_uid[0]) {
                pod_uid = strdup(w.container_pod_uid);
                if (!pod_uid)
                        return -ENOMEM;
        }

        *ret = (struct container_info){
                .runtime = w.container->runtime,
                .id = TAKE_PTR(id),
                .pod_uid = TAKE_PTR(pod_uid),
        };
        return 1;
}

int container_pod_uid(const char *cgroup_path, char **ret_uid)
{
        struct walk w;
        const char *uid;
        char *copy;

        if (!cgroup_path || !ret_uid)
                return -EINVAL;

        walk_path(cgroup_path, &w);
        /*
         * The pod that container_resolve() reports for a container; for a process in a pod's cgroup
         * but in no container (pod level, a monitor) the innermost pod around it.
         */
        uid = w.container ? w.container_pod_uid : w.pod_uid;
        if (!uid[0])
                return 0;

        copy = strdup(uid);
        if (!copy)
                return -ENOMEM;
        *ret_uid = copy;
        return 1;
}
