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
        ROLE_CONTEXT,   /* names nothing itself; only gives meaning to the components below */
        ROLE_CONTAINER, /* a container: everything below belongs to it */
        ROLE_POD,       /* a Kubernetes pod; its containers are the components below it */
        /*
         * A host-side process of a runtime (conmon, lxc monitor) or a VM's emulator: never a
         * container. Listed so that a looser row below cannot claim it.
         */
        ROLE_MONITOR,
};

/*
 * Where a component is: what its parent was. A row matches only in the places it lists, so a
 * name counts only where its runtime makes it.
 */
enum place {
        AT_NONE = 0,                /* below something no row names: nothing is anchored there */
        AT_TOP = 1 << 0,            /* directly below the hierarchy's root */
        AT_PLAIN_TOP = 1 << 1,      /* below a top-level directory no row names (kubelet's cgroup root) */
        AT_SLICE = 1 << 2,          /* in a systemd slice whose chain of slices starts at the root */
        AT_POD_SLICE = 1 << 3,      /* in a pod's slice (the systemd driver) */
        AT_SLICE_SERVICE = 1 << 4,  /* in a service directly in such a slice (podman --cgroups=split) */
        AT_DOCKER_DIR = 1 << 5,     /* in /docker */
        AT_KUBEPODS_DIR = 1 << 6,   /* in kubelet's cgroupfs kubepods */
        AT_QOS_DIR = 1 << 7,        /* in its burstable or besteffort */
        AT_POD_DIR = 1 << 8,        /* in a pod's directory (the cgroupfs driver) */
        AT_LXC_DIR = 1 << 9,        /* in /lxc.payload (LXC 3.1, 3.2) or /lxc (before) */
        AT_LIBPOD_PARENT = 1 << 10, /* in /libpod_parent (podman's cgroupfs driver) */
        AT_LIBPOD_POD = 1 << 11,    /* in a podman pod's directory there */
};

#define AT_SLICES (AT_SLICE | AT_POD_SLICE)
/*
 * Below a cgroup delegated to a user, its owner places cgroups where it likes: every row that
 * is anchored to the root or to a slice applies at any depth there.
 */
#define AT_ANY (AT_TOP | AT_PLAIN_TOP | AT_SLICES | AT_SLICE_SERVICE)

struct layout {
        unsigned at;        /* enum place bits */
        const char *prefix; /* NULL: none */
        const char *suffix; /* NULL: none; the id runs to the end of the component */
        enum id_kind id;
        enum role role;
        enum container_runtime runtime; /* ROLE_CONTAINER only */
        enum place then;                /* where the components below a CONTEXT or POD row are */
        const char *monitor_child;      /* ROLE_CONTAINER: the runtime's own process right below it */
};

/*
 * First match wins, so monitors come before the container rows they resemble. Cgroup names are
 * what the runtimes themselves create, where they create them:
 *   docker      systemd driver "<slice>/docker-<id>.scope" (system.slice unless --cgroup-parent
 *               names another slice), cgroupfs "/docker/<id>"
 *   containerd  CRI via kubelet "<pod slice>/cri-containerd-<id>.scope"; nerdctl's systemd driver
 *               "system.slice/nerdctl-<id>.scope" (its cgroupfs default, "/<namespace>/<id>", has
 *               nothing to recognise it by)
 *   CRI-O       systemd "<pod slice>/crio-<id>.scope", cgroupfs "<pod dir>/crio-<id>"; conmon
 *               "crio-conmon-<id>[.scope]" beside it
 *   podman      systemd "machine.slice/libpod-<id>.scope" (pods: "machine.slice/
 *               machine-libpod_pod_<pod id>.slice/libpod-<id>.scope"), cgroupfs
 *               "/libpod_parent/libpod-<id>" (pods: "/libpod_parent/<pod id>/libpod-<id>"),
 *               --cgroups=split (quadlet's default) "<slice>/<unit>.service/libpod-payload-<id>";
 *               conmon "libpod-conmon-<id>.scope" or "/libpod_parent/conmon"
 *   Kubernetes  systemd "/kubepods.slice/kubepods[-<qos>].slice/kubepods[-<qos>]-pod<uid_>.slice"
 *               (kubelet's --cgroup-root prefixes every slice: "/kubelet.slice/kubelet-kubepods.slice/
 *               ..."), cgroupfs "/kubepods[/<qos>]/pod<uid>/<id>" (or "/<cgroup root>/kubepods/...")
 *   nspawn      "machine.slice/systemd-nspawn@<name>.service" or machined's
 *               "machine.slice/machine-<name>.scope", each with "payload" and "supervisor" below
 *   LXC         "/lxc.payload.<name>" and "/lxc.monitor.<name>" (4.0+), "/lxc.payload/<name>" and
 *               "/lxc.monitor/<name>" (3.1, 3.2), "/lxc/<name>" before that
 * A slice counts only in a chain of slices from the root, each named after its parent as systemd
 * names them ("a.slice/a-b.slice/a-b-c.slice"): only root makes cgroups at the top, and a
 * service's own subtree (Delegate=yes) cannot pass for one. Sub-cgroups need no rows: crun's
 * "container" below a scope, nspawn's "payload", a container's own init.scope all belong to
 * the container above them.
 */
/* clang-format off */
static const struct layout layouts[] = {
        { AT_SLICES, "crio-conmon-", ".scope", ID_HEX64, ROLE_MONITOR },
        { AT_SLICES, "libpod-conmon-", ".scope", ID_HEX64, ROLE_MONITOR },
        { AT_SLICES, "docker-", ".scope", ID_HEX64, ROLE_CONTAINER, RUNTIME_DOCKER },
        { AT_SLICES, "cri-containerd-", ".scope", ID_HEX64, ROLE_CONTAINER, RUNTIME_CONTAINERD },
        { AT_SLICES, "nerdctl-", ".scope", ID_HEX64, ROLE_CONTAINER, RUNTIME_CONTAINERD },
        { AT_SLICES, "crio-", ".scope", ID_HEX64, ROLE_CONTAINER, RUNTIME_CRIO },
        { AT_SLICES, "libpod-", ".scope", ID_HEX64, ROLE_CONTAINER, RUNTIME_PODMAN },
        { AT_SLICES, "systemd-nspawn@", ".service", ID_UNIT_NAME, ROLE_CONTAINER, RUNTIME_NSPAWN,
          .monitor_child = "supervisor" },
        /* libvirt registers its VMs with machined too; qemu itself is a host process. */
        { AT_SLICES, "machine-qemu\\x2d", ".scope", ID_UNIT_NAME, ROLE_MONITOR },
        { AT_SLICES, "machine-", ".scope", ID_UNIT_NAME, ROLE_CONTAINER, RUNTIME_NSPAWN,
          .monitor_child = "supervisor" },
        { AT_SLICE_SERVICE, "libpod-payload-", NULL, ID_HEX64, ROLE_CONTAINER, RUNTIME_PODMAN },

        { AT_TOP, "docker", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_DOCKER_DIR },
        { AT_DOCKER_DIR, NULL, NULL, ID_HEX64, ROLE_CONTAINER, RUNTIME_DOCKER },

        { AT_TOP | AT_PLAIN_TOP, "kubepods", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_KUBEPODS_DIR },
        { AT_KUBEPODS_DIR, "burstable", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_QOS_DIR },
        { AT_KUBEPODS_DIR, "besteffort", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_QOS_DIR },
        { AT_KUBEPODS_DIR | AT_QOS_DIR, "pod", NULL, ID_POD_UID, ROLE_POD, .then = AT_POD_DIR },
        { AT_POD_DIR, "crio-conmon-", NULL, ID_HEX64, ROLE_MONITOR },
        { AT_POD_DIR, "crio-", NULL, ID_HEX64, ROLE_CONTAINER, RUNTIME_CRIO },
        /* kubelet's cgroupfs driver names the container by its id alone: the runtime is not in the path. */
        { AT_POD_DIR, NULL, NULL, ID_HEX64, ROLE_CONTAINER, RUNTIME_CRI },

        { AT_TOP, "lxc.monitor.", NULL, ID_NAME, ROLE_MONITOR },
        { AT_TOP, "lxc.payload.", NULL, ID_NAME, ROLE_CONTAINER, RUNTIME_LXC },
        { AT_TOP, "lxc.payload", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_LXC_DIR },
        { AT_TOP, "lxc", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_LXC_DIR },
        { AT_LXC_DIR, NULL, NULL, ID_NAME, ROLE_CONTAINER, RUNTIME_LXC },

        { AT_TOP, "libpod_parent", NULL, ID_NONE, ROLE_CONTEXT, .then = AT_LIBPOD_PARENT },
        { AT_LIBPOD_PARENT | AT_LIBPOD_POD, "libpod-", NULL, ID_HEX64, ROLE_CONTAINER, RUNTIME_PODMAN },
        { AT_LIBPOD_PARENT, NULL, NULL, ID_HEX64, ROLE_CONTEXT, .then = AT_LIBPOD_POD },
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

/* Matches the row's prefix, suffix and id against the component c of length n. */
static bool layout_match(const struct layout *l, const char *c, size_t n, char *id, size_t id_size)
{
        size_t plen = l->prefix ? strlen(l->prefix) : 0, slen = l->suffix ? strlen(l->suffix) : 0;

        if (n < plen + slen)
                return false;
        if ((plen > 0 && memcmp(c, l->prefix, plen) != 0) ||
            (slen > 0 && memcmp(c + n - slen, l->suffix, slen) != 0))
                return false;
        return id_decode(l->id, c + plen, n - plen - slen, id, id_size);
}

static bool has_suffix(const char *c, size_t n, const char *suffix, size_t *ret_stem)
{
        size_t k = strlen(suffix);

        if (n <= k || memcmp(c + n - k, suffix, k) != 0)
                return false;
        *ret_stem = n - k;
        return true;
}

/*
 * A pod's slice, the systemd driver's: "[<root>-]kubepods[-burstable|-besteffort]-pod<uid_>"
 * (stem: the name without ".slice"). The uid with '_' for '-', or a static pod's 32 hex digits.
 */
static bool pod_slice_uid(const char *stem, size_t n, char *uid, size_t uid_size)
{
        static const char *const heads[] = { "kubepods-pod", "kubepods-burstable-pod",
                                             "kubepods-besteffort-pod" };

        for (size_t i = 0; i < ARRAY_SIZE(heads); i++) {
                size_t h = strlen(heads[i]);

                for (size_t at = 0; at + h <= n; at++) {
                        /* At the start, or after a '-': a kubelet with its own cgroup root prefixes it. */
                        if (at > 0 && stem[at - 1] != '-')
                                continue;
                        if (memcmp(stem + at, heads[i], h) == 0 &&
                            id_decode(ID_POD_UID_SYSTEMD, stem + at + h, n - at - h, uid, uid_size))
                                return true;
                }
        }
        return false;
}

struct walk {
        const struct layout *container; /* the outermost container row; NULL: none (yet) */
        size_t depth;                   /* the components up to and including it */
        char id[NAME_MAX + 1];
        bool monitor;                  /* a runtime's host process, where a container would be */
        char pod_uid[POD_UID_MAX + 1]; /* the pod enclosing the container, or "" */
        size_t pod_depth;
        /* The scan's state: where the next component is, and its parent slice's name. */
        unsigned place;
        const char *slice;
        size_t slice_len;
};

/*
 * A ".slice" component (stem: without the suffix). Anchored, it must continue a chain from the
 * root: at the top a name without '-', below a slice "<parent>-<more>" with no '-' in <more>,
 * as systemd nests slices by the dashes in their names.
 */
static bool slice_step(struct walk *w, const char *c, size_t stem, bool anchored, size_t index)
{
        char uid[POD_UID_MAX + 1];

        if (anchored) {
                if (w->place == AT_TOP) {
                        if (memchr(c, '-', stem))
                                return false;
                } else if (w->place & AT_SLICES) {
                        if (stem <= w->slice_len + 1 || memcmp(c, w->slice, w->slice_len) != 0 ||
                            c[w->slice_len] != '-' ||
                            memchr(c + w->slice_len + 1, '-', stem - w->slice_len - 1))
                                return false;
                } else {
                        return false;
                }
        }
        w->slice = c;
        w->slice_len = stem;
        w->place = AT_SLICE;
        if (pod_slice_uid(c, stem, uid, sizeof(uid))) {
                memcpy(w->pod_uid, uid, sizeof(uid));
                w->pod_depth = index + 1;
                w->place = AT_POD_SLICE;
        }
        return true;
}

/*
 * One component, before any container was found. anchored: the names so far were chosen by root
 * (rows count only in their places); else by a delegated owner (every row counts anywhere).
 * Returns true when the scan is over (a container or a monitor found).
 */
static bool walk_component(struct walk *w, const char *c, size_t n, size_t index, bool anchored)
{
        unsigned place = anchored ? w->place : w->place | AT_ANY;
        char id[NAME_MAX + 1];
        size_t stem;

        for (size_t i = 0; i < ARRAY_SIZE(layouts); i++) {
                const struct layout *l = &layouts[i];

                if (!(l->at & place) || !layout_match(l, c, n, id, sizeof(id)))
                        continue;
                switch (l->role) {
                case ROLE_CONTEXT:
                        w->place = l->then;
                        return false;
                case ROLE_POD:
                        memcpy(w->pod_uid, id, sizeof(w->pod_uid));
                        w->pod_depth = index + 1;
                        w->place = l->then;
                        return false;
                case ROLE_CONTAINER:
                        w->container = l;
                        w->depth = index + 1;
                        memcpy(w->id, id, sizeof(id));
                        return true;
                case ROLE_MONITOR:
                        w->monitor = true;
                        return true;
                }
        }
        if (has_suffix(c, n, ".slice", &stem) && slice_step(w, c, stem, anchored, index))
                return false;
        if (anchored && (place & AT_SLICES) && has_suffix(c, n, ".service", &stem)) {
                w->place = AT_SLICE_SERVICE;
                return false;
        }
        if (anchored && place == AT_TOP) {
                w->place = AT_PLAIN_TOP;
                return false;
        }
        /* Nothing a runtime makes here: below it nothing is anchored (or, delegated, anything goes). */
        w->place = anchored ? AT_NONE : AT_ANY;
        return false;
}

void container_info_done(struct container_info *c)
{
        if (!c)
                return;
        c->id = mfree_str(c->id);
        c->pod_uid = mfree_str(c->pod_uid);
        c->v1_controllers = mfree_str(c->v1_controllers);
        c->cgroup_path = mfree_str(c->cgroup_path);
        c->pod_cgroup_path = mfree_str(c->pod_cgroup_path);
}

/* The next non-empty component at or after *p: its start and length; false at the end. */
static bool next_component(const char **p, const char **ret_c, size_t *ret_n)
{
        const char *c = *p, *e;

        while (*c == '/')
                c++;
        if (!*c)
                return false;
        e = strchrnul(c, '/');
        *ret_c = c;
        *ret_n = (size_t) (e - c);
        *p = e;
        return true;
}

size_t container_path_depth(const char *cgroup_path)
{
        const char *p = cgroup_path, *c;
        size_t k = 0, n;

        while (next_component(&p, &c, &n))
                k++;
        return k;
}

size_t container_path_prefix(const char *cgroup_path, size_t depth)
{
        const char *p = cgroup_path, *c;
        size_t k = 0, n;

        if (depth == 0)
                return 0;
        while (next_component(&p, &c, &n))
                if (++k == depth)
                        return (size_t) (c + n - cgroup_path);
        return strlen(cgroup_path);
}

/* The runtime's own process right below a container (nspawn's supervisor) is no part of it. */
static void check_monitor_child(struct walk *w, const char *c, size_t n)
{
        const char *m = w->container->monitor_child;

        if (m && strlen(m) == n && memcmp(c, m, n) == 0) {
                w->container = NULL;
                w->monitor = true;
        }
}

/*
 * The scan, from the root down. Components up to and including the first directory not owned
 * by root were named by root: there rows count only where they belong. Below it, when no
 * container was found above, the owner's names count anywhere, as that owner's. "." or ".." (a
 * path seen from another cgroup namespace) leave nothing trustworthy to read: host.
 */
static int walk_path(const char *path, const uint32_t *owners, size_t n_owners, struct walk *ret,
                     size_t *ret_delegated, bool *ret_rootless)
{
        struct walk w = { .place = AT_TOP };
        size_t index = 0, delegated = SIZE_MAX, n;
        const char *p = path, *c;
        bool rootless = false;

        if (owners && n_owners != container_path_depth(path))
                return -EINVAL;

        for (; next_component(&p, &c, &n); index++) {
                bool anchored = delegated == SIZE_MAX || index <= delegated;

                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
                        w = (struct walk){};
                        break;
                }
                if (w.container) {
                        if (index == w.depth)
                                check_monitor_child(&w, c, n);
                        break;
                }
                if (!anchored && !rootless) {
                        /* Below the delegation: start over, as the owner's. */
                        rootless = true;
                        w.place = AT_ANY;
                }
                if (n > NAME_MAX)
                        w.place = anchored ? AT_NONE : AT_ANY; /* nothing a runtime made */
                else if (walk_component(&w, c, n, index, anchored) && w.monitor)
                        break;
                if (owners && delegated == SIZE_MAX && owners[index] != 0)
                        delegated = index;
        }
        *ret = w;
        *ret_delegated = delegated;
        *ret_rootless = rootless && w.container;
        return 0;
}

int container_resolve(const char *cgroup_path, const uint32_t *owners, size_t n_owners,
                      struct container_info *ret)
{
        _cleanup_free_ char *id = NULL, *pod_uid = NULL;
        size_t delegated;
        bool rootless;
        struct walk w;
        int r;

        if (!cgroup_path || !ret)
                return -EINVAL;

        r = walk_path(cgroup_path, owners, n_owners, &w, &delegated, &rootless);
        if (r < 0)
                return r;
        if (!w.container)
                return 0;

        id = strdup(w.id);
        if (!id)
                return -ENOMEM;
        if (w.pod_uid[0]) {
                pod_uid = strdup(w.pod_uid);
                if (!pod_uid)
                        return -ENOMEM;
        }

        *ret = (struct container_info){
                .runtime = w.container->runtime,
                .id = TAKE_PTR(id),
                .pod_uid = TAKE_PTR(pod_uid),
                .rootless = rootless,
                .owner_uid = rootless ? owners[delegated] : 0,
                .depth = w.depth,
                .pod_depth = w.pod_uid[0] ? w.pod_depth : 0,
        };
        return 1;
}
