/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Route selection: ordered, first match wins, every match key, unknown facts never match a pattern. */

#include <string.h>

#include "config/config.h"
#include "proxy/dump/route.h"
#include "tests/tap.h"

static struct config *load(const char *routes)
{
        char text[4096];
        struct config *c = NULL;

        snprintf(text, sizeof(text), "{\"routes\": %s}", routes);
        if (config_load_string("test.json", text, strlen(text), &c, NULL) < 0)
                return NULL;
        return c;
}

static const char *pick(const struct config *c, const struct task_identity *t,
                        const struct container_info *ci)
{
        const struct route *r = route_select(c, t, ci, NULL);
        return r ? r->name : "(none)";
}

static const char *pick_names(const struct config *c, const struct task_identity *t,
                              const struct container_info *ci, const struct container_names *n)
{
        const struct route *r = route_select(c, t, ci, n);
        return r ? r->name : "(none)";
}

/* Routes on names: labels for routes, never identity; an unknown name never matches. */
static void test_names(void)
{
        struct config *c =
                load("["
                     "{\"name\":\"opt-in\",\"match\":{\"labels\":{\"coredump\":\"enabled\"}},"
                     "\"action\":\"store\"},"
                     "{\"name\":\"kube-system\",\"match\":{\"pod_namespace\":\"kube-*\"},"
                     "\"action\":\"reject\"},"
                     "{\"name\":\"image\",\"match\":{\"image\":\"*/busybox:*\",\"container_name\":\"side*\","
                     "\"pod_name\":\"web-?\"},\"action\":\"reject\"},"
                     "{\"name\":\"ann\",\"match\":{\"annotations\":{\"tier\":\"*\",\"owner\":\"team-?\"}},"
                     "\"action\":\"reject\"},"
                     "{\"name\":\"rest\",\"match\":{},\"action\":\"store\"}]");
        struct task_identity t = { .have_creds = true };
        struct container_info ci = { .runtime = RUNTIME_CRI, .id = (char *) "ab" };
        struct container_names n = {};

        if (!ok(c != NULL, "names: the config loads"))
                return;
        is_str(pick_names(c, &t, &ci, NULL), "rest", "names: none known, no key on names matches");
        names_pairs_add(&n.labels, "coredump", "enabled", 7, false);
        is_str(pick_names(c, &t, &ci, &n), "opt-in", "names: the label selects (kept, not exported)");
        is_str(pick_names(c, &t, NULL, &n), "rest", "names: a host task has no names");
        names_pairs_done(&n.labels);
        names_pairs_add(&n.labels, "coredump", "disabled", 8, false);
        is_str(pick_names(c, &t, &ci, &n), "rest", "names: the label's value must match");
        names_pairs_done(&n.labels);
        names_pairs_add(&n.annotations, "coredump", "enabled", 7, false);
        is_str(pick_names(c, &t, &ci, &n), "rest", "names: an annotation is not a label");
        names_set(&n.pod_namespace, "kube-system", 11);
        is_str(pick_names(c, &t, &ci, &n), "kube-system", "names: pod namespace glob");
        container_names_done(&n);
        names_set(&n.image, "docker.io/busybox:1.36", 22);
        names_set(&n.name, "sidecar", 7);
        is_str(pick_names(c, &t, &ci, &n), "rest", "names: every key must hold (pod name unknown)");
        names_set(&n.pod_name, "web-1", 5);
        is_str(pick_names(c, &t, &ci, &n), "image", "names: image, container and pod name together");
        container_names_done(&n);
        names_pairs_add(&n.annotations, "tier", "", 0, false);
        is_str(pick_names(c, &t, &ci, &n), "rest", "names: every annotation of the route must be there");
        names_pairs_add(&n.annotations, "owner", "team-a", 6, false);
        is_str(pick_names(c, &t, &ci, &n), "ann", "names: an empty value matches \"*\"");
        container_names_done(&n);
        config_free(c);
}

int main(void)
{
        struct config *c =
                load("["
                     "{\"name\":\"ctrd\",\"match\":{\"runtime\":[\"containerd\"],\"container_id\":\"ab\"},"
                     "\"action\":\"forward\"},"
                     "{\"name\":\"pod\",\"match\":{\"pod_uid\":\"11111111-2222-3333-4444-555555555555\"},"
                     "\"action\":\"reject\"},"
                     "{\"name\":\"uids\",\"match\":{\"uid\":[1000,1001],\"comm\":\"py*\"},"
                     "\"action\":\"reject\"},"
                     "{\"name\":\"exe\",\"match\":{\"exe\":\"/opt/*/bin/*\"},\"action\":\"reject\"},"
                     "{\"name\":\"cg\",\"match\":{\"cgroup\":\"/system.slice/*.service\"},"
                     "\"action\":\"reject\"},"
                     "{\"name\":\"containers\",\"match\":{\"container\":true},\"action\":\"store\"},"
                     "{\"name\":\"host\",\"match\":{\"container\":false},\"action\":\"store\"}"
                     "]");
        struct task_identity t = { .have_creds = true, .ruid = 0 };
        struct container_info ci = { .runtime = RUNTIME_CONTAINERD, .id = (char *) "abcdef" };

        if (!ok(c != NULL, "the test config loads"))
                return tap_done();

        is_str(pick(c, &t, &ci), "ctrd", "runtime + id prefix");
        ci.id = (char *) "cdef";
        is_str(pick(c, &t, &ci), "containers", "id prefix must match");
        ci.runtime = RUNTIME_CRIO;
        ci.id = (char *) "abcdef";
        is_str(pick(c, &t, &ci), "containers", "runtime must match");
        ci.pod_uid = (char *) "11111111-2222-3333-4444-555555555555";
        is_str(pick(c, &t, &ci), "pod", "pod uid");
        ci.pod_uid = NULL;

        strcpy(t.comm, "python3");
        t.ruid = 1001;
        is_str(pick(c, &t, NULL), "uids", "uid list and comm glob together");
        t.ruid = 1002;
        is_str(pick(c, &t, NULL), "host", "uid not in the list");
        t.ruid = 1000;
        t.have_creds = false;
        is_str(pick(c, &t, NULL), "host", "unknown credentials never match a uid list");
        t.have_creds = true;
        strcpy(t.comm, "bash");
        is_str(pick(c, &t, NULL), "host", "comm glob must match");

        t.host_exe = (char *) "/opt/app/bin/server";
        is_str(pick(c, &t, NULL), "exe", "exe glob (the host's view)");
        t.host_exe = (char *) "/srv/jail/usr/bin/x";
        t.exe = (char *) "/opt/app/bin/server";
        is_str(pick(c, &t, NULL), "host", "exe glob: a chroot's own path does not count");
        t.host_exe = t.exe = NULL;
        is_str(pick(c, &t, NULL), "host", "unknown exe never matches a glob");

        t.cgroup_path = (char *) "/system.slice/nginx.service";
        is_str(pick(c, &t, NULL), "cg", "cgroup glob");
        t.cgroup_path = (char *) "/user.slice/user-1000.slice";
        is_str(pick(c, &t, NULL), "host", "cgroup glob must match");

        is_str(pick(c, &t, &ci), "containers", "container: true");
        is_str(pick(c, &t, NULL), "host", "container: false");

        struct config *empty = load("[]");
        ok(empty && route_select(empty, &t, NULL, NULL) == NULL, "no routes: no match (the daemon stores)");
        config_free(empty);

        /*
         * Rootless containers: their runtime, id and pod uid are their owner's to choose. Routes
         * that select by them match system containers only, unless they say "rootless".
         */
        struct config *rl =
                load("["
                     "{\"name\":\"by-id\",\"match\":{\"container_id\":\"ab\"},\"action\":\"store\"},"
                     "{\"name\":\"by-runtime\",\"match\":{\"runtime\":[\"docker\"]},\"action\":\"store\"},"
                     "{\"name\":\"by-pod\",\"match\":{\"pod_uid\":\"p\"},\"action\":\"store\"},"
                     "{\"name\":\"rootless-id\",\"match\":{\"rootless\":true,\"container_id\":\"ab\"},"
                     "\"action\":\"store\"},"
                     "{\"name\":\"any-container\",\"match\":{\"container\":true},\"action\":\"store\"},"
                     "{\"name\":\"host\",\"match\":{},\"action\":\"store\"}"
                     "]");
        struct config *sys =
                load("[{\"name\":\"system\",\"match\":{\"rootless\":false},\"action\":\"store\"},"
                     "{\"name\":\"other\",\"match\":{},\"action\":\"store\"}]");
        struct container_info sysc = { .runtime = RUNTIME_DOCKER, .id = (char *) "abcd" };
        struct container_info user = {
                .runtime = RUNTIME_DOCKER, .id = (char *) "abcd", .rootless = true, .owner_uid = 1000
        };
        if (ok(rl && sys, "the rootless configs load")) {
                is_str(pick(rl, &t, &sysc), "by-id", "system container: its id selects");
                is_str(pick(rl, &t, &user), "rootless-id",
                       "rootless: id, runtime, pod uid select only with rootless");
                user.id = (char *) "ffff";
                is_str(pick(rl, &t, &user), "any-container", "rootless: still a container");
                user.pod_uid = (char *) "p";
                is_str(pick(rl, &t, &user), "any-container", "rootless: a pod uid it chose does not select");
                is_str(pick(rl, &t, NULL), "host", "host task: not rootless");
                is_str(pick(sys, &t, &user), "other", "rootless false: not a rootless container");
                is_str(pick(sys, &t, &sysc), "system", "rootless false: a system container");
                is_str(pick(sys, &t, NULL), "system", "rootless false: a host task");
        }
        config_free(rl);
        config_free(sys);

        struct config *all = load("[{\"name\":\"all\",\"match\":{},\"action\":\"reject\"},"
                                  "{\"name\":\"never\",\"match\":{},\"action\":\"store\"}]");
        is_str(all ? pick(all, &t, &ci) : NULL, "all", "an empty match matches everything, first wins");
        config_free(all);
        config_free(c);
        test_names();
        return tap_done();
}
