/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Container resolution from cgroup paths, on the names real runtimes give their cgroups: every
 * layout with both drivers, v1 and v2 shapes, nesting (the outermost container wins), monitors,
 * malformed ids and host paths; names that count only where runtimes make them (anchoring);
 * and subtrees delegated to users, whose names are theirs (rootless containers).
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/dump/container.h"
#include "tests/tap.h"

/* Container ids as runtimes print them: 64 lowercase hex digits. */
#define CID1       "faaa18f4b32fd32903a7c70196e86e06c6598ccadd126409929efa4028de2ad2"
#define CID2       "cd67cddd53b5c927ffb836a01a2ecf8f49d8b05581c4b95c4aa58e842899c597"
#define CID3       "bc7eb289e7160b29a8ebea8b3a3634328788ff6c2b4576611c4ab98d0fea16f0"
#define NODE       "e57f8d2c8dffb22b7209c5956447aae9ee30f7c21ff33e50fd140d856d1f9fdc" /* a kind node */
#define CID1_UPPER "FAAA18F4B32FD32903A7C70196E86E06C6598CCADD126409929EFA4028DE2AD2"
#define CID1_SHORT "faaa18f4b32fd32903a7c70196e86e06c6598ccadd126409929efa4028de2ad"

/* Pod uids: the API's form, and the systemd driver's (a '-' would nest the slice). */
#define POD1       "cd09841d-5098-43d8-8946-36eed6d08fb7"
#define POD1_      "cd09841d_5098_43d8_8946_36eed6d08fb7"
#define POD1_UPPER "CD09841D-5098-43D8-8946-36EED6D08FB7"
#define POD2       "04b89f20-db6b-4663-98be-7b1e10214871"
#define POD2_      "04b89f20_db6b_4663_98be_7b1e10214871"
/* A static pod's uid is the kubelet's md5 of its manifest, without dashes (seen on kind nodes). */
#define STATIC_POD "99dcb84d2a34f7e338778606703258c4"

#define KUBE_BURSTABLE(uid)  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" uid ".slice"
#define KUBE_BESTEFFORT(uid) "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" uid ".slice"
#define KUBE_GUARANTEED(uid) "/kubepods.slice/kubepods-pod" uid ".slice"
#define KIND_NODE            "/system.slice/docker-" NODE ".scope"
#define KIND_KUBEPODS        KIND_NODE "/kubelet.slice/kubelet-kubepods.slice"
#define USER_MANAGER         "/user.slice/user-1000.slice/user@1000.service"

#define HOST (-1) /* not a container */

struct sample {
        const char *what;
        const char *path;
        int runtime; /* enum container_runtime, or HOST */
        const char *id;
        const char *pod_uid; /* the container's pod; ignored for a host path */
};

/* clang-format off */
static const struct sample samples[] = {
        /* docker */
        { "docker, systemd driver",
          "/system.slice/docker-" CID1 ".scope",
          RUNTIME_DOCKER, CID1, NULL },
        { "docker, systemd inside the container",
          "/system.slice/docker-" CID1 ".scope/init.scope",
          RUNTIME_DOCKER, CID1, NULL },
        { "docker, cgroupfs driver (v1 hierarchy or v2)",
          "/docker/" CID1,
          RUNTIME_DOCKER, CID1, NULL },
        { "docker, cgroupfs, sub-cgroup",
          "/docker/" CID1 "/app",
          RUNTIME_DOCKER, CID1, NULL },
        { "docker in docker, cgroupfs: the outermost",
          "/docker/" CID1 "/docker/" CID2,
          RUNTIME_DOCKER, CID1, NULL },
        { "docker in docker, systemd outside: the outermost",
          "/system.slice/docker-" CID1 ".scope/docker/" CID2,
          RUNTIME_DOCKER, CID1, NULL },
        { "rootless docker's names, read as root's: not where docker puts them",
          USER_MANAGER "/user.slice/docker-" CID1 ".scope",
          HOST, NULL, NULL },
        { "docker, --cgroup-parent with a slice of its own",
          "/mydocker.slice/docker-" CID1 ".scope",
          RUNTIME_DOCKER, CID1, NULL },
        { "the docker daemon",
          "/system.slice/docker.service",
          HOST, NULL, NULL },
        { "the docker cgroupfs parent",
          "/docker",
          HOST, NULL, NULL },
        { "not an id below /docker",
          "/docker/buildkit",
          HOST, NULL, NULL },

        /* containerd */
        { "containerd CRI, burstable",
          KUBE_BURSTABLE(POD1_) "/cri-containerd-" CID1 ".scope",
          RUNTIME_CONTAINERD, CID1, POD1 },
        { "containerd CRI, besteffort",
          KUBE_BESTEFFORT(POD2_) "/cri-containerd-" CID2 ".scope",
          RUNTIME_CONTAINERD, CID2, POD2 },
        { "containerd CRI, guaranteed",
          KUBE_GUARANTEED(POD1_) "/cri-containerd-" CID3 ".scope",
          RUNTIME_CONTAINERD, CID3, POD1 },
        { "containerd CRI, sub-cgroup",
          KUBE_GUARANTEED(POD1_) "/cri-containerd-" CID3 ".scope/app",
          RUNTIME_CONTAINERD, CID3, POD1 },
        { "nerdctl, systemd driver",
          "/system.slice/nerdctl-" CID1 ".scope",
          RUNTIME_CONTAINERD, CID1, NULL },
        { "rootless nerdctl's names, read as root's",
          USER_MANAGER "/user.slice/nerdctl-" CID1 ".scope",
          HOST, NULL, NULL },
        { "containerd-<id>.scope is no runtime's layout",
          "/system.slice/containerd-" CID1 ".scope",
          HOST, NULL, NULL },
        { "the containerd daemon and its shims",
          "/system.slice/containerd.service",
          HOST, NULL, NULL },

        /* CRI-O */
        { "CRI-O, systemd driver",
          KUBE_BESTEFFORT(POD2_) "/crio-" CID2 ".scope",
          RUNTIME_CRIO, CID2, POD2 },
        { "CRI-O, crun's container sub-cgroup",
          KUBE_BESTEFFORT(POD2_) "/crio-" CID2 ".scope/container",
          RUNTIME_CRIO, CID2, POD2 },
        { "CRI-O conmon, systemd: host",
          KUBE_BESTEFFORT(POD2_) "/crio-conmon-" CID2 ".scope",
          HOST, NULL, POD2 },
        { "CRI-O, cgroupfs driver",
          "/kubepods/besteffort/pod" POD2 "/crio-" CID2,
          RUNTIME_CRIO, CID2, POD2 },
        { "CRI-O conmon, cgroupfs: host",
          "/kubepods/besteffort/pod" POD2 "/crio-conmon-" CID2,
          HOST, NULL, POD2 },
        { "the CRI-O daemon",
          "/system.slice/crio.service",
          HOST, NULL, NULL },

        /* podman */
        { "podman, systemd driver",
          "/machine.slice/libpod-" CID3 ".scope",
          RUNTIME_PODMAN, CID3, NULL },
        { "podman, crun's container sub-cgroup",
          "/machine.slice/libpod-" CID3 ".scope/container",
          RUNTIME_PODMAN, CID3, NULL },
        { "podman conmon: host",
          "/machine.slice/libpod-conmon-" CID3 ".scope",
          HOST, NULL, NULL },
        { "rootless podman's names, read as root's",
          USER_MANAGER "/user.slice/libpod-" CID3 ".scope/container",
          HOST, NULL, NULL },
        { "podman pod (not a machine)",
          "/machine.slice/machine-libpod_pod_" NODE ".slice/libpod-" CID3 ".scope",
          RUNTIME_PODMAN, CID3, NULL },
        { "podman, cgroupfs driver",
          "/libpod_parent/libpod-" CID3,
          RUNTIME_PODMAN, CID3, NULL },
        { "podman conmon, cgroupfs: host",
          "/libpod_parent/conmon",
          HOST, NULL, NULL },
        { "podman --cgroups=split (quadlet)",
          "/system.slice/web.service/libpod-payload-" CID3,
          RUNTIME_PODMAN, CID3, NULL },
        { "rootless quadlet's names, read as root's",
          USER_MANAGER "/app.slice/web.service/libpod-payload-" CID3,
          HOST, NULL, NULL },
        { "quadlet's conmon: host",
          "/system.slice/web.service/runtime",
          HOST, NULL, NULL },

        /* Kubernetes, cgroupfs driver: the runtime is not in the path */
        { "kubelet cgroupfs, burstable",
          "/kubepods/burstable/pod" POD1 "/" CID1,
          RUNTIME_CRI, CID1, POD1 },
        { "kubelet cgroupfs, besteffort",
          "/kubepods/besteffort/pod" POD2 "/" CID2,
          RUNTIME_CRI, CID2, POD2 },
        { "kubelet cgroupfs, guaranteed",
          "/kubepods/pod" POD1 "/" CID3,
          RUNTIME_CRI, CID3, POD1 },
        { "kubelet cgroupfs, own cgroup root",
          "/kubelet/kubepods/burstable/pod" POD1 "/" CID1,
          RUNTIME_CRI, CID1, POD1 },
        { "kubelet cgroupfs, sub-cgroup",
          "/kubepods/pod" POD1 "/" CID3 "/app",
          RUNTIME_CRI, CID3, POD1 },
        { "kubelet cgroupfs, pod level alone",
          "/kubepods/burstable/pod" POD1,
          HOST, NULL, POD1 },
        { "kubelet cgroupfs, id without a pod",
          "/kubepods/burstable/" CID1,
          HOST, NULL, NULL },
        { "kubelet cgroupfs, id right below kubepods",
          "/kubepods/" CID1,
          HOST, NULL, NULL },
        { "kubelet cgroupfs, static pod",
          "/kubepods/burstable/pod" STATIC_POD "/" CID1,
          RUNTIME_CRI, CID1, STATIC_POD },

        /* Kubernetes, systemd driver */
        { "systemd driver, pod level alone (sandbox)",
          KUBE_BURSTABLE(POD1_),
          HOST, NULL, POD1 },
        { "systemd driver, QoS slice",
          "/kubepods.slice/kubepods-burstable.slice",
          HOST, NULL, NULL },
        { "systemd driver, kubepods.slice",
          "/kubepods.slice",
          HOST, NULL, NULL },
        { "cri-dockerd, systemd driver",
          KUBE_BURSTABLE(POD1_) "/docker-" CID1 ".scope",
          RUNTIME_DOCKER, CID1, POD1 },
        { "systemd driver, static pod",
          KUBE_BURSTABLE(STATIC_POD) "/cri-containerd-" CID1 ".scope",
          RUNTIME_CONTAINERD, CID1, STATIC_POD },
        { "systemd driver, dashes in the uid: no slice systemd would make there",
          KUBE_GUARANTEED(POD1) "/cri-containerd-" CID1 ".scope",
          HOST, NULL, NULL },
        { "systemd driver, mixed separators: no slice systemd would make there",
          "/kubepods.slice/kubepods-podcd09841d_5098-43d8_8946_36eed6d08fb7.slice/cri-containerd-" CID1
            ".scope",
          HOST, NULL, NULL },
        { "systemd driver, uid one digit short",
          "/kubepods.slice/kubepods-podcd09841d_5098_43d8_8946_36eed6d08fb.slice/cri-containerd-" CID1
            ".scope",
          RUNTIME_CONTAINERD, CID1, NULL },
        { "systemd driver, not a uid",
          "/kubepods.slice/kubepods-podzz09841d_5098_43d8_8946_36eed6d08fb7.slice",
          HOST, NULL, NULL },
        { "cgroupfs, uppercase uid is canonicalised",
          "/kubepods/pod" POD1_UPPER "/" CID1,
          RUNTIME_CRI, CID1, POD1 },
        { "cgroupfs, malformed uid is no pod",
          "/kubepods/pod1234/" CID1,
          HOST, NULL, NULL },
        { "cgroupfs, underscores are the systemd form",
          "/kubepods/pod" POD1_ "/" CID1,
          HOST, NULL, NULL },

        /* kind: Kubernetes nodes are docker containers, kubelet with --cgroup-root=/kubelet */
        { "kind: a pod's container inside the node container is the node's",
          KIND_KUBEPODS "/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" POD2_
            ".slice/cri-containerd-" CID2 ".scope",
          RUNTIME_DOCKER, NODE, NULL },
        { "kind: guaranteed pod, the node's",
          KIND_KUBEPODS "/kubelet-kubepods-pod" POD1_ ".slice/cri-containerd-" CID1 ".scope",
          RUNTIME_DOCKER, NODE, NULL },
        { "kind: static pod, the node's",
          KIND_KUBEPODS "/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" STATIC_POD
            ".slice/cri-containerd-" CID1 ".scope",
          RUNTIME_DOCKER, NODE, NULL },
        { "kubelet with its own cgroup root (systemd driver) on a host",
          "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod"
            POD2_ ".slice/cri-containerd-" CID2 ".scope",
          RUNTIME_CONTAINERD, CID2, POD2 },
        { "kind: the node's containerd belongs to the node",
          KIND_NODE "/system.slice/containerd.service",
          RUNTIME_DOCKER, NODE, NULL },
        { "kind: pod level inside the node is still the node",
          KIND_KUBEPODS "/kubelet-kubepods-pod" POD1_ ".slice",
          RUNTIME_DOCKER, NODE, NULL },

        /* systemd-nspawn */
        { "nspawn service, payload",
          "/machine.slice/systemd-nspawn@debian.service/payload",
          RUNTIME_NSPAWN, "debian", NULL },
        { "nspawn service, a unit inside the machine",
          "/machine.slice/systemd-nspawn@debian.service/payload/system.slice/cron.service",
          RUNTIME_NSPAWN, "debian", NULL },
        { "nspawn service, supervisor: host",
          "/machine.slice/systemd-nspawn@debian.service/supervisor",
          HOST, NULL, NULL },
        { "nspawn service, no payload split (v1)",
          "/machine.slice/systemd-nspawn@debian.service",
          RUNTIME_NSPAWN, "debian", NULL },
        { "nspawn service, escaped name",
          "/machine.slice/systemd-nspawn@build\\x2dbox.service/payload",
          RUNTIME_NSPAWN, "build-box", NULL },
        { "machined scope, payload",
          "/machine.slice/machine-build\\x2dbox.scope/payload",
          RUNTIME_NSPAWN, "build-box", NULL },
        { "machined scope, uppercase escape",
          "/machine.slice/machine-a\\x2Eb.scope",
          RUNTIME_NSPAWN, "a.b", NULL },
        { "machined scope, supervisor: host",
          "/machine.slice/machine-build\\x2dbox.scope/supervisor",
          HOST, NULL, NULL },
        { "docker inside an nspawn machine: the machine",
          "/machine.slice/systemd-nspawn@debian.service/payload/system.slice/docker-" CID1 ".scope",
          RUNTIME_NSPAWN, "debian", NULL },
        { "conmon inside a machine belongs to the machine",
          "/machine.slice/systemd-nspawn@debian.service/payload/machine.slice/libpod-conmon-" CID3 ".scope",
          RUNTIME_NSPAWN, "debian", NULL },
        { "a unit called supervisor inside a machine",
          "/machine.slice/systemd-nspawn@debian.service/payload/system.slice/supervisor",
          RUNTIME_NSPAWN, "debian", NULL },
        { "nested nspawn, inner supervisor belongs to the outer machine",
          "/machine.slice/systemd-nspawn@outer.service/payload"
            "/machine.slice/systemd-nspawn@inner.service/supervisor",
          RUNTIME_NSPAWN, "outer", NULL },
        { "libvirt VM: host",
          "/machine.slice/machine-qemu\\x2d1\\x2dvm1.scope/libvirt/emulator",
          HOST, NULL, NULL },
        { "machined scope, empty name",
          "/machine.slice/machine-.scope",
          HOST, NULL, NULL },
        { "nspawn template unit",
          "/machine.slice/systemd-nspawn@.service",
          HOST, NULL, NULL },
        { "machined scope, '/' escaped into the name",
          "/machine.slice/machine-a\\x2fb.scope",
          HOST, NULL, NULL },
        { "machined scope, NUL escaped into the name",
          "/machine.slice/machine-a\\x00b.scope",
          HOST, NULL, NULL },
        { "machined scope, \"..\" escaped",
          "/machine.slice/machine-\\x2e\\x2e.scope",
          HOST, NULL, NULL },
        { "machined scope, bad escape",
          "/machine.slice/machine-a\\qb.scope",
          HOST, NULL, NULL },
        { "machined scope, truncated escape",
          "/machine.slice/machine-a\\x2.scope",
          HOST, NULL, NULL },
        { "machine.slice itself",
          "/machine.slice",
          HOST, NULL, NULL },

        /* LXC, Incus, LXD */
        { "lxc payload",
          "/lxc.payload.web01",
          RUNTIME_LXC, "web01", NULL },
        { "lxc payload, systemd inside",
          "/lxc.payload.web01/init.scope",
          RUNTIME_LXC, "web01", NULL },
        { "lxc monitor: host",
          "/lxc.monitor.web01",
          HOST, NULL, NULL },
        { "LXD project name",
          "/lxc.payload.prod_web",
          RUNTIME_LXC, "prod_web", NULL },
        { "lxc before 3.1",
          "/lxc/web01",
          RUNTIME_LXC, "web01", NULL },
        { "lxc before 3.1, sub-cgroup",
          "/lxc/web01/system.slice",
          RUNTIME_LXC, "web01", NULL },
        { "lxc 3.1 payload",
          "/lxc.payload/web01",
          RUNTIME_LXC, "web01", NULL },
        { "lxc 3.1 monitor: host",
          "/lxc.monitor/web01",
          HOST, NULL, NULL },
        { "docker inside lxc: the lxc container",
          "/lxc.payload.web01/system.slice/docker-" CID1 ".scope",
          RUNTIME_LXC, "web01", NULL },
        { "nested lxc: the outer one",
          "/lxc.payload.outer/lxc.payload.inner",
          RUNTIME_LXC, "outer", NULL },
        { "inner lxc monitor belongs to the outer container",
          "/lxc.payload.outer/lxc.monitor.inner",
          RUNTIME_LXC, "outer", NULL },
        { "lxc payload, empty name",
          "/lxc.payload.",
          HOST, NULL, NULL },
        { "lxc payload, \".\" as a name",
          "/lxc.payload..",
          HOST, NULL, NULL },
        { "lxc payload, control character",
          "/lxc.payload.a\tb",
          HOST, NULL, NULL },
        { "the lxc parent alone",
          "/lxc",
          HOST, NULL, NULL },

        /* malformed ids */
        { "docker-foo.scope",
          "/system.slice/docker-foo.scope",
          HOST, NULL, NULL },
        { "uppercase docker id",
          "/system.slice/docker-" CID1_UPPER ".scope",
          HOST, NULL, NULL },
        { "63-digit docker id",
          "/system.slice/docker-" CID1_SHORT ".scope",
          HOST, NULL, NULL },
        { "65-digit docker id",
          "/system.slice/docker-" CID1 "0.scope",
          HOST, NULL, NULL },
        { "docker id with the wrong suffix",
          "/system.slice/docker-" CID1 ".mount",
          HOST, NULL, NULL },
        { "docker id without a suffix",
          "/system.slice/docker-" CID1,
          HOST, NULL, NULL },
        { "uppercase cgroupfs docker id",
          "/docker/" CID1_UPPER,
          HOST, NULL, NULL },
        { "short podman id",
          "/machine.slice/libpod-0123abcd.scope",
          HOST, NULL, NULL },
        { "short cri-containerd id in a pod",
          KUBE_BURSTABLE(POD1_) "/cri-containerd-0123abcd.scope",
          HOST, NULL, POD1 },
        { "short kubelet cgroupfs id",
          "/kubepods/pod" POD1 "/0123abcd",
          HOST, NULL, POD1 },

        /* anchoring: names count only where the runtimes make them */
        { "a docker scope in a service's own subtree (Delegate=yes)",
          "/system.slice/ci.service/docker-" CID1 ".scope",
          HOST, NULL, NULL },
        { "a docker scope at the top, in no slice",
          "/docker-" CID1 ".scope",
          HOST, NULL, NULL },
        { "a docker scope below a directory that is no slice",
          "/cdp-test.1/system.slice/docker-" CID1 ".scope",
          HOST, NULL, NULL },
        { "kubepods in a service's own subtree",
          "/system.slice/ci.service/kubepods/burstable/pod" POD1 "/" CID1,
          HOST, NULL, NULL },
        { "kubepods two levels down",
          "/a/b/kubepods/pod" POD1 "/" CID1,
          HOST, NULL, NULL },
        { "kubepods.slice in another slice: not a slice of that chain",
          "/system.slice/kubepods.slice/kubepods-pod" POD1_ ".slice/cri-containerd-" CID1 ".scope",
          HOST, NULL, NULL },
        { "a pod slice that skips the QoS slice",
          "/kubepods.slice/kubepods-burstable-pod" POD1_ ".slice/cri-containerd-" CID1 ".scope",
          HOST, NULL, NULL },
        { "/docker below another directory",
          "/foo/docker/" CID1,
          HOST, NULL, NULL },
        { "lxc.payload below a slice",
          "/system.slice/lxc.payload.web01",
          HOST, NULL, NULL },
        { "libpod_parent below another directory",
          "/foo/libpod_parent/libpod-" CID3,
          HOST, NULL, NULL },
        { "podman pod, cgroupfs driver",
          "/libpod_parent/" NODE "/libpod-" CID3,
          RUNTIME_PODMAN, CID3, NULL },
        { "a quadlet payload directly in a slice is no payload",
          "/system.slice/libpod-payload-" CID3,
          HOST, NULL, NULL },
        { "a container's own kubepods: the container",
          "/system.slice/docker-" CID1 ".scope/kubepods.slice/kubepods-pod" POD1_ ".slice/cri-containerd-" CID2
            ".scope",
          RUNTIME_DOCKER, CID1, NULL },

        /* host */
        { "root",
          "/",
          HOST, NULL, NULL },
        { "empty path",
          "",
          HOST, NULL, NULL },
        { "init",
          "/init.scope",
          HOST, NULL, NULL },
        { "a system service",
          "/system.slice/ssh.service",
          HOST, NULL, NULL },
        { "a template instance",
          "/system.slice/system-getty.slice/getty@tty1.service",
          HOST, NULL, NULL },
        { "a login session",
          "/user.slice/user-1000.slice/session-3.scope",
          HOST, NULL, NULL },
        { "a desktop app",
          USER_MANAGER "/app.slice/app-gnome-firefox-4711.scope",
          HOST, NULL, NULL },

        /* path shapes */
        { "doubled and trailing slashes",
          "//system.slice//docker-" CID1 ".scope/",
          RUNTIME_DOCKER, CID1, NULL },
        { "no leading slash",
          "system.slice/docker-" CID1 ".scope",
          RUNTIME_DOCKER, CID1, NULL },
        { "\"..\" (another cgroup namespace): host",
          "/../../system.slice/docker-" CID1 ".scope",
          HOST, NULL, NULL },
        { "\".\" component: host",
          "/system.slice/docker-" CID1 ".scope/.",
          HOST, NULL, NULL },
};
/* clang-format on */

static void test_samples(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
                const struct sample *s = &samples[i];
                struct container_info c = { .runtime = _RUNTIME_MAX };
                int r;

                r = container_resolve(s->path, NULL, 0, &c);
                if (s->runtime == HOST)
                        is_int(r, 0, "%s: host", s->what);
                else
                        is_int(r, 1, "%s: container", s->what);
                if (r == 1 && s->runtime != HOST) {
                        is_int(c.runtime, s->runtime, "%s: runtime", s->what);
                        is_str(c.id, s->id, "%s: id", s->what);
                        is_str(c.pod_uid, s->pod_uid, "%s: pod uid", s->what);
                        ok(!c.rootless, "%s: not rootless", s->what);
                }
                container_info_done(&c);
        }
}

#define OWNERS_MAX 12

/* The same paths with the owners of their directories, as the daemon reads them. */
struct delegated {
        const char *what;
        const char *path;
        uint32_t owners[OWNERS_MAX]; /* one per component; 0: root */
        int runtime;                 /* or HOST */
        const char *id;
        const char *pod_uid;
        bool rootless;
        uint32_t owner_uid;
        size_t depth;
};

#define UM_OWNED(uid)     \
        {                 \
                0, 0, uid \
        } /* user.slice, user-UID.slice: root's; user@UID.service: UID's */

/* clang-format off */
static const struct delegated delegated[] = {
        /* Forgeries in a subtree systemd delegated to a user: that user's, never the victim's. */
        { "a user's docker scope named like a system container's",
          USER_MANAGER "/app.slice/docker-" CID1 ".scope", UM_OWNED(1000),
          RUNTIME_DOCKER, CID1, NULL, true, 1000, 5 },
        { "a user's pod slice named like a real pod's",
          USER_MANAGER "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD1_
            ".slice/cri-containerd-" CID1 ".scope", UM_OWNED(1000),
          RUNTIME_CONTAINERD, CID1, POD1, true, 1000, 7 },
        { "a user's cgroupfs kubepods",
          USER_MANAGER "/kubepods/burstable/pod" POD1 "/" CID1, UM_OWNED(1000),
          RUNTIME_CRI, CID1, POD1, true, 1000, 7 },
        { "a user's lxc.payload deep down",
          USER_MANAGER "/a/b/lxc.payload.web01", UM_OWNED(1000),
          RUNTIME_LXC, "web01", NULL, true, 1000, 6 },

        /* What rootless runtimes really make. */
        { "rootless docker",
          USER_MANAGER "/user.slice/docker-" CID1 ".scope", UM_OWNED(1000),
          RUNTIME_DOCKER, CID1, NULL, true, 1000, 5 },
        { "rootless nerdctl",
          USER_MANAGER "/user.slice/nerdctl-" CID1 ".scope", UM_OWNED(1000),
          RUNTIME_CONTAINERD, CID1, NULL, true, 1000, 5 },
        { "rootless podman, crun's sub-cgroup",
          USER_MANAGER "/user.slice/libpod-" CID3 ".scope/container", UM_OWNED(1000),
          RUNTIME_PODMAN, CID3, NULL, true, 1000, 5 },
        { "rootless quadlet",
          USER_MANAGER "/app.slice/web.service/libpod-payload-" CID3, UM_OWNED(1000),
          RUNTIME_PODMAN, CID3, NULL, true, 1000, 6 },
        { "rootless podman's conmon: host",
          USER_MANAGER "/user.slice/libpod-conmon-" CID3 ".scope", UM_OWNED(1000),
          HOST, NULL, NULL, false, 0, 0 },
        { "rootless, the outermost wins",
          USER_MANAGER "/user.slice/libpod-" CID3 ".scope/docker/" CID1, UM_OWNED(1000),
          RUNTIME_PODMAN, CID3, NULL, true, 1000, 5 },
        { "the user's own processes: host",
          USER_MANAGER "/app.slice/app-gnome-firefox-4711.scope", UM_OWNED(1000),
          HOST, NULL, NULL, false, 0, 0 },
        { "the user manager itself: host",
          USER_MANAGER "/init.scope", UM_OWNED(1000),
          HOST, NULL, NULL, false, 0, 0 },
        { "the first owner decides",
          USER_MANAGER "/x/docker/" CID1, { 0, 0, 1000, 2000 },
          RUNTIME_DOCKER, CID1, NULL, true, 1000, 6 },
        { "a service delegated to a user",
          "/system.slice/ci.service/docker-" CID1 ".scope", { 0, 1001 },
          RUNTIME_DOCKER, CID1, NULL, true, 1001, 3 },

        /* A directory's own name is its parent's owner's: a container whose cgroup root chowned. */
        { "a container in a user namespace owns its cgroup",
          "/system.slice/docker-" CID1 ".scope/container", { 0, 100000, 100000 },
          RUNTIME_DOCKER, CID1, NULL, false, 0, 2 },
        { "an unprivileged LXC container",
          "/lxc.payload.web01/init.scope", { 100000, 100000 },
          RUNTIME_LXC, "web01", NULL, false, 0, 1 },
        { "a pod's container chowned for its user namespace",
          KUBE_BURSTABLE(POD1_) "/cri-containerd-" CID1 ".scope", { 0, 0, 0, 65536 },
          RUNTIME_CONTAINERD, CID1, POD1, false, 0, 4 },
        { "a delegation inside a system container changes nothing",
          "/system.slice/docker-" CID1 ".scope/sub/docker-" CID2 ".scope", { 0, 0, 1000, 1000 },
          RUNTIME_DOCKER, CID1, NULL, false, 0, 2 },
        { "a monitor's sub-cgroup delegated: still a monitor",
          "/machine.slice/systemd-nspawn@debian.service/supervisor/x", { 0, 0, 1000, 1000 },
          HOST, NULL, NULL, false, 0, 0 },
};
/* clang-format on */

static void test_delegated(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(delegated); i++) {
                const struct delegated *s = &delegated[i];
                struct container_info c = { .runtime = _RUNTIME_MAX };
                size_t n = container_path_depth(s->path);
                int r;

                if (!ok(n <= OWNERS_MAX, "%s: %zu components fit the table", s->what, n))
                        continue;
                r = container_resolve(s->path, s->owners, n, &c);
                is_int(r, s->runtime == HOST ? 0 : 1, "%s: %s", s->what,
                       s->runtime == HOST ? "host" : "container");
                if (r == 1 && s->runtime != HOST) {
                        is_int(c.runtime, s->runtime, "%s: runtime", s->what);
                        is_str(c.id, s->id, "%s: id", s->what);
                        is_str(c.pod_uid, s->pod_uid, "%s: pod uid", s->what);
                        is_int(c.rootless, s->rootless, "%s: rootless", s->what);
                        is_int(c.owner_uid, s->owner_uid, "%s: owner uid", s->what);
                        is_int(c.depth, s->depth, "%s: depth of its cgroup", s->what);
                }
                container_info_done(&c);
        }
}

static void test_depths(void)
{
        static const char pod[] = KUBE_BURSTABLE(POD1_) "/cri-containerd-" CID1 ".scope/app";
        struct container_info c = {};

        /* The container's and the pod's cgroups are prefixes of the path: their ids come from the walk. */
        is_int(container_resolve(pod, NULL, 0, &c), 1, "pod path: container");
        is_int(c.depth, 4, "pod path: the container's cgroup is the 4th component");
        is_int(c.pod_depth, 3, "pod path: the pod's the 3rd");
        is_int(container_path_prefix(pod, c.depth),
               strlen(KUBE_BURSTABLE(POD1_) "/cri-containerd-" CID1 ".scope"),
               "pod path: the container's prefix");
        is_int(container_path_prefix(pod, c.pod_depth), strlen(KUBE_BURSTABLE(POD1_)),
               "pod path: the pod's prefix");
        container_info_done(&c);

        is_int(container_resolve("//docker//" CID1 "//x/", NULL, 0, &c), 1, "doubled slashes: container");
        is_int(c.depth, 2, "doubled slashes: depth counts components");
        is_int(container_path_prefix("//docker//" CID1 "//x/", 2), strlen("//docker//" CID1),
               "doubled slashes: the prefix ends at the component");
        is_int(c.pod_depth, 0, "no pod: pod depth 0");
        container_info_done(&c);

        is_int(container_path_depth("/"), 0, "root: no components");
        is_int(container_path_depth(""), 0, "empty: no components");
        is_int(container_path_depth("a/b//c/"), 3, "three components");
        is_int(container_path_prefix("/a/b", 0), 0, "depth 0: empty prefix");
}

static void test_out_params(void)
{
        static const uint32_t owners[2] = { 0, 0 };
        struct container_info c = { .runtime = _RUNTIME_MAX };

        /* Out-parameters are written only when something was found. */
        is_int(container_resolve("/system.slice/ssh.service", NULL, 0, &c), 0, "host: returns 0");
        ok(c.runtime == _RUNTIME_MAX && !c.id && !c.pod_uid, "host: info left untouched");

        is_int(container_resolve(NULL, NULL, 0, &c), -EINVAL, "NULL path: -EINVAL");
        is_int(container_resolve("/", NULL, 0, NULL), -EINVAL, "NULL info: -EINVAL");
        is_int(container_resolve("/system.slice/docker-" CID1 ".scope/x", owners, 2, &c), -EINVAL,
               "owners not one per component: -EINVAL");
        ok(!c.id, "-EINVAL: info left untouched");

        /* The destructor takes NULL, and a cleared struct twice. */
        is_int(container_resolve(KUBE_BURSTABLE(POD1_) "/cri-containerd-" CID1 ".scope", NULL, 0, &c), 1,
               "pod: found");
        container_info_done(&c);
        ok(!c.id && !c.pod_uid, "done clears the fields");
        container_info_done(&c);
        container_info_done(NULL);
        ok(true, "done is idempotent and takes NULL");
}

static void test_long_component(void)
{
        static const char prefix[] = "/lxc.payload.";
        struct container_info c = { .runtime = _RUNTIME_MAX };
        char path[1 + NAME_MAX + 2];
        size_t plen = strlen(prefix);

        /* The longest cgroup name there can be still resolves, whole. */
        memcpy(path, prefix, plen);
        memset(path + plen, 'b', 1 + NAME_MAX - plen);
        path[1 + NAME_MAX] = 0;
        is_int(container_resolve(path, NULL, 0, &c), 1, "NAME_MAX component: container");
        is_int(c.id ? strlen(c.id) : 0, 1 + NAME_MAX - plen, "NAME_MAX component: whole name");
        container_info_done(&c);

        /* One byte more is no cgroup name any runtime could have made. */
        path[1 + NAME_MAX] = 'b';
        path[2 + NAME_MAX] = 0;
        is_int(container_resolve(path, NULL, 0, &c), 0, "overlong component: host");
}

int main(void)
{
        test_samples();
        test_delegated();
        test_depths();
        test_out_params();
        test_long_component();
        return tap_done();
}
