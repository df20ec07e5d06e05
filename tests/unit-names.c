/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Container names: the parsers of the runtimes' files with real-shaped and
 * hostile inputs, the providers on state trees made here, the filter that
 * keeps what the config asks for, the cache, registrations and their files.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "kernel/cleanup.h"
#include "proxy/names/internal.h"
#include "proxy/names/registry.h"
#include "proxy/protocol/record.h"
#include "tests/tap.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

#define ID1 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char root[] = "/tmp/cdp-unit-names.XXXXXX";

static void write_file(const char *rel, const char *text)
{
        char path[4096], cmd[4200];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
        if (system(cmd) != 0)
                abort();
        f = fopen(path, "w");
        if (!f)
                abort();
        fputs(text, f);
        fclose(f);
}

static struct config *load(const char *text)
{
        struct config *c = NULL;

        if (config_load_string("t.json", text, strlen(text), &c, NULL) < 0)
                return NULL;
        return c;
}

static const char *label(const struct container_names *n, const char *key)
{
        const struct names_pair *p = names_pairs_find(&n->labels, key);
        return p ? p->value : NULL;
}

static const char *annotation(const struct container_names *n, const char *key)
{
        const struct names_pair *p = names_pairs_find(&n->annotations, key);
        return p ? p->value : NULL;
}

static int parse_oci(const char *text, const struct names_filter *f, struct container_names *n)
{
        return names_parse_oci_config(text, strlen(text), f, n, NULL);
}

static void test_oci(void)
{
        _cleanup_(container_names_done) struct container_names n = {}, h = {};
        const struct names_filter all = {};
        _cleanup_free_ char *sandbox = NULL;
        const char *crio =
                "{\"annotations\": {\"io.kubernetes.cri-o.SandboxID\": \"" ID2 "\","
                "\"io.kubernetes.cri-o.ImageName\": \"quay.io/x/y:1\","
                "\"io.kubernetes.cri-o.Labels\": \"{\\\"io.kubernetes.container.name\\\": \\\"api\\\","
                "\\\"io.kubernetes.pod.namespace\\\": \\\"pay\\\", \\\"tier\\\": \\\"backend\\\"}\"}}";

        is_int(parse_oci("{\"ociVersion\": \"1.0.2\", \"annotations\": {"
                         "\"io.kubernetes.cri.container-name\": \"web\", "
                         "\"io.kubernetes.cri.sandbox-name\": \"shop-1\","
                         "\"io.kubernetes.cri.sandbox-namespace\": \"shop\", "
                         "\"io.kubernetes.cri.sandbox-uid\": \"u-1\","
                         "\"io.kubernetes.cri.image-name\": \"nginx:1\", \"x\": \"y\"}}",
                         &all, &n),
               0, "oci: containerd's CRI annotations parse");
        is_str(n.name, "web", "oci: container name");
        is_str(n.pod_name, "shop-1", "oci: pod name");
        is_str(n.pod_namespace, "shop", "oci: pod namespace");
        is_str(n.pod_uid, "u-1", "oci: pod uid");
        is_str(n.image, "nginx:1", "oci: image");
        is_str(annotation(&n, "x"), "y", "oci: other annotations kept when the filter keeps all");
        container_names_done(&n);

        is_int(names_parse_oci_config(crio, strlen(crio), &all, &n, &sandbox), 0,
               "oci: CRI-O's annotations parse");
        is_str(n.name, "api", "oci: CRI-O's labels give the container name");
        is_str(n.pod_namespace, "pay", "oci: and the namespace");
        is_str(n.image, "quay.io/x/y:1", "oci: CRI-O's image name");
        is_str(label(&n, "tier"), "backend", "oci: CRI-O's labels are labels");
        is_str(sandbox, ID2, "oci: the sandbox CRI-O names");
        container_names_done(&n);

        /* Hostile: each bad value spoils only itself. */
        is_int(parse_oci("{\"annotations\": {\"io.kubernetes.cri.container-name\": \"a\\u001bb\","
                         "\"io.kubernetes.cri.sandbox-name\": 5, \"io.kubernetes.cri.image-name\": \"ok\","
                         "\"io.kubernetes.cri-o.Labels\": \"{not json\"}}",
                         &all, &h),
               0, "oci: hostile values parse");
        ok(!h.name, "oci: a name with a control character is dropped");
        ok(!h.pod_name, "oci: a number is no name");
        is_str(h.image, "ok", "oci: the good value stays");
        is_int(parse_oci("{\"annotations\": [1, 2]}", &all, &n), -EBADMSG, "oci: annotations not an object");
        is_int(parse_oci("{\"annotations\": {}", &all, &n), -EBADMSG, "oci: truncated");
        is_int(parse_oci("[]", &all, &n), -EBADMSG, "oci: not an object");
        is_int(parse_oci("{\"a\": \"\xc0\xaf\"}", &all, &n), -EBADMSG, "oci: overlong UTF-8");
        is_int(parse_oci("{}", &all, &n), 0, "oci: no annotations, nothing found");
        ok(container_names_empty(&n), "oci: empty");
}

static void test_storage_and_docker(void)
{
        _cleanup_(container_names_done) struct container_names n = {};
        const struct names_filter all = {};
        const char *index =
                "[{\"id\": \"" ID2 "\", \"names\": [\"other\"]},"
                "{\"id\": \"" ID1 "\", \"names\": [\"k8s_api_pod_ns_uid_0\"], \"metadata\": "
                "\"{\\\"pod-name\\\":\\\"billing\\\",\\\"image-name\\\":\\\"q/api:2\\\","
                "\\\"name\\\":\\\"k8s_api_pod_ns_uid_0\\\",\\\"metadata-name\\\":\\\"api\\\"}\"}]";
        const char *docker =
                "{\"ID\": \"" ID1 "\", \"Name\": \"/web-1\", \"Config\": {\"Image\": \"nginx:1.25\","
                "\"Labels\": {\"app\": \"web\", \"n\": 5}}, \"State\": {\"Running\": true}}";

        is_int(names_parse_storage_index(index, strlen(index), ID1, &n), 1, "storage: the entry is found");
        is_str(n.name, "api", "storage: CRI-O's metadata-name before the k8s_ name");
        is_str(n.pod_name, "billing", "storage: pod name from the metadata");
        is_str(n.image, "q/api:2", "storage: image from the metadata");
        container_names_done(&n);
        is_int(names_parse_storage_index(index, strlen(index), "nope", &n), 0,
               "storage: an unknown id: none");
        is_int(names_parse_storage_index("{}", 2, ID1, &n), -EBADMSG, "storage: not a list");

        is_int(names_parse_docker_config(docker, strlen(docker), &all, &n), 0,
               "docker: config.v2.json parses");
        is_str(n.name, "web-1", "docker: the name without its slash");
        is_str(n.image, "nginx:1.25", "docker: the image asked for");
        is_str(label(&n, "app"), "web", "docker: a label");
        ok(!label(&n, "n"), "docker: a label that is not a string is dropped");
        container_names_done(&n);
        is_int(names_parse_docker_config("{\"Name\": \"/\"}", 13, &all, &n), 0,
               "docker: a name of '/' alone");
        is_str(n.name, "/", "docker: kept as it is");
}

static void test_filter(void)
{
        _cleanup_(config_freep) struct config *c =
                load("{\"names\": {\"labels\": [\"app\"], \"annotations\": [\"owner\"]},"
                     "\"routes\": [{\"name\": \"r\", \"action\": \"store\", \"match\": {\"labels\": "
                     "{\"opt\": \"in\"},"
                     "\"annotations\": {\"secret-route\": \"*\"}}}]}");
        const struct names_filter f = { .config = c };

        if (!ok(c != NULL, "filter: the config loads"))
                return;
        is_int(names_filter_keep(&f, NAMES_LABEL, "app"), NAMES_EXPORT,
               "filter: an allowed label is exported");
        is_int(names_filter_keep(&f, NAMES_LABEL, "opt"), NAMES_KEEP,
               "filter: a route's label is kept, not exported");
        is_int(names_filter_keep(&f, NAMES_LABEL, "owner"), NAMES_DROP,
               "filter: an annotation key is no label key");
        is_int(names_filter_keep(&f, NAMES_ANNOTATION, "owner"), NAMES_EXPORT,
               "filter: an allowed annotation");
        is_int(names_filter_keep(&f, NAMES_ANNOTATION, "secret-route"), NAMES_KEEP,
               "filter: a route's annotation");
        is_int(names_filter_keep(&f, NAMES_ANNOTATION, "password"), NAMES_DROP,
               "filter: anything else is dropped");
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct names *, names_free);

static void test_providers(void)
{
        char text[8192];
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(names_freep) struct names *n = NULL;
        _cleanup_(container_names_done) struct container_names got = {};
        struct names_query q = { .runtime = RUNTIME_CONTAINERD, .id = ID1 };

        snprintf(text, sizeof(text),
                 "{\"names\": {\"labels\": [\"app\"], \"annotations\": [\"owner\"],"
                 "\"containerd\": {\"state\": \"%s/ctrd\", \"namespaces\": [\"moby\", \"k8s.io\"]},"
                 "\"storage\": {\"graph_root\": \"%s/graph\", \"run_root\": \"%s/run\"},"
                 "\"docker\": {\"data_root\": \"%s/docker\"}}}",
                 root, root, root, root);
        c = load(text);
        if (!ok(c != NULL, "providers: the config loads"))
                return;
        is_int(names_new(-EBADF, NULL, NULL, &n), 0, "providers: names without a cgroup2 mount");

        write_file("ctrd/io.containerd.runtime.v2.task/k8s.io/" ID1 "/config.json",
                   "{\"annotations\": {\"io.kubernetes.cri.container-name\": \"web\", \"owner\": \"team-a\","
                   "\"password\": \"x\"}}");
        is_int(names_lookup(n, c, &q, &got), 1, "containerd: found in the second namespace");
        is_str(got.name, "web", "containerd: name");
        is_str(annotation(&got, "owner"), "team-a", "containerd: the allowed annotation");
        ok(names_pairs_find(&got.annotations, "owner")->exported, "containerd: and it is exported");
        ok(!annotation(&got, "password"), "containerd: nothing else");
        container_names_done(&got);

        /* Cached: the file going away changes nothing until the entry does. */
        snprintf(text, sizeof(text), "%s/ctrd/io.containerd.runtime.v2.task/k8s.io/" ID1 "/config.json",
                 root);
        unlink(text);
        is_int(names_lookup(n, c, &q, &got), 1, "cache: a second lookup is answered from the cache");
        is_str(got.name, "web", "cache: the same name");
        container_names_done(&got);
        names_forget_cache(n);
        is_int(names_lookup(n, c, &q, &got), 0, "cache: forgotten, the state is gone: nothing");

        q = (struct names_query){ .runtime = RUNTIME_PODMAN, .id = ID2 };
        write_file("graph/vfs-containers/containers.json",
                   "[{\"id\": \"" ID2
                   "\", \"names\": [\"db\"], \"metadata\": \"{\\\"image-name\\\":\\\"pg:16\\\"}\"}]");
        write_file("run/vfs-containers/" ID2 "/userdata/config.json",
                   "{\"annotations\": {\"owner\": \"dba\"}}");
        is_int(names_lookup(n, c, &q, &got), 1, "podman: found (vfs driver, spec in the run root)");
        is_str(got.name, "db", "podman: name from containers.json");
        is_str(got.image, "pg:16", "podman: image");
        is_str(annotation(&got, "owner"), "dba", "podman: annotation from the run root's spec");
        container_names_done(&got);

        q = (struct names_query){ .runtime = RUNTIME_DOCKER, .id = ID1 };
        write_file("docker/containers/" ID1 "/config.v2.json",
                   "{\"Name\": \"/web-1\", \"Config\": {\"Image\": \"nginx\", \"Labels\": {\"app\": "
                   "\"web\", \"x\": \"y\"}}}");
        write_file("ctrd/io.containerd.runtime.v2.task/moby/" ID1 "/config.json",
                   "{\"annotations\": {\"owner\": \"ops\"}}");
        is_int(names_lookup(n, c, &q, &got), 1, "docker: found");
        is_str(got.name, "web-1", "docker: name");
        is_str(label(&got, "app"), "web", "docker: allowed label");
        ok(!label(&got, "x"), "docker: other labels dropped");
        is_str(annotation(&got, "owner"), "ops", "docker: moby bundle's annotation");
        container_names_done(&got);

        q = (struct names_query){ .runtime = RUNTIME_LXC, .id = "web" };
        is_int(names_lookup(n, c, &q, &got), 1, "lxc: found");
        is_str(got.name, "web", "lxc: the name is the cgroup's");
        container_names_done(&got);

        /* A path in an id never reaches the file system. */
        q = (struct names_query){ .runtime = RUNTIME_DOCKER, .id = "../../etc" };
        is_int(names_lookup(n, c, &q, &got), 0, "an id with a path in it: nothing read");
        ok(!names_id_ok("..") && !names_id_ok("a/b") && !names_id_ok("") && names_id_ok(ID1), "ids checked");
}

static void test_registry(void)
{
        _cleanup_(registry_entry_done) struct registry_entry e = {}, back = {};
        _cleanup_(config_freep) struct config *c = load("{\"names\": {\"annotations\": [\"owner\"]}}");
        _cleanup_(container_names_done) struct container_names got = {};
        _cleanup_free_ char *doc = NULL;
        struct names_pairs ann = {};
        struct names *n = NULL;
        char dir[4200];
        size_t len;

        names_pairs_append_raw(&ann, "io.kubernetes.cri.container-name", "cart", 4, 16);
        names_pairs_append_raw(&ann, "owner", "team-c", 6, 16);
        names_pairs_append_raw(&ann, "token", "s3cret", 6, 16);
        snprintf(dir, sizeof(dir), "%s/registrations", root);
        is_int(names_new(-EBADF, NULL, dir, &n), 0, "registry: names with a directory");
        const struct names_registration reg = { .runtime = RUNTIME_CRI, .id = ID1, .annotations = &ann };
        is_int(names_register(n, c, &reg), 0, "registry: registered");
        is_int(names_registered(n), 1, "registry: one");
        names_free(n);
        n = NULL;

        is_int(names_new(-EBADF, NULL, dir, &n), 0, "registry: a new daemon");
        is_int(names_load(n, NULL, NULL), 1, "registry: the registration is read back");
        const struct names_query q = { .runtime = RUNTIME_CRI, .id = ID1 };
        is_int(names_lookup(n, c, &q, &got), 1, "registry: looked up");
        is_str(got.name, "cart", "registry: the name the annotations gave");
        is_str(annotation(&got, "owner"), "team-c", "registry: an allowed annotation");
        ok(!annotation(&got, "token"), "registry: annotations nobody asked for are not kept");
        is_int(names_unregister(n, ID1), 1, "registry: unregistered");
        is_int(names_registered(n), 0, "registry: none left");
        names_free(n);
        n = NULL;
        is_int(names_new(-EBADF, NULL, dir, &n), 0, "registry: another daemon");
        is_int(names_load(n, NULL, NULL), 0, "registry: the file went with the registration");
        names_free(n);
        names_pairs_done(&ann);

        e.runtime = RUNTIME_DOCKER;
        e.id = strdup(ID2);
        e.cgroup_id = 77;
        e.cgroup_path = strdup("/system.slice/docker-x.scope");
        names_set(&e.names.name, "web", 3);
        names_pairs_add(&e.names.labels, "app", "web", 3, true);
        is_int(registry_entry_format(&e, &doc, &len), 0, "registry file: formats");
        is_int(registry_entry_parse(doc, len, &back), 0, "registry file: parses");
        ok(back.runtime == RUNTIME_DOCKER && strcmp(back.id, ID2) == 0 && back.cgroup_id == 77,
           "registry file: round trip");
        is_str(back.names.name, "web", "registry file: names round trip");
        is_int(registry_entry_parse("{\"runtime\": \"docker\", \"id\": \"../x\", \"cgroup_id\": 1}", 52,
                                    &back),
               -EBADMSG, "registry file: a path for an id is refused");
}

static void test_record(void)
{
        struct container_names n = {};
        struct record_container c = { .runtime = "cri", .id = ID1, .pod_uid = "u-cg", .names = &n };
        struct dump_record r;
        struct jsonw w;
        _cleanup_free_ char *doc = NULL;
        const struct record_limits lim = RECORD_LIMITS_NONE;

        names_set(&n.name, "web", 3);
        names_set(&n.pod_uid, "u-annotation", 12);
        names_set(&n.pod_namespace, "shop", 4);
        names_pairs_add(&n.labels, "app", "web", 3, true);
        names_pairs_add(&n.labels, "secret", "x", 1, false);
        record_init(&r);
        r.id = "d1";
        r.container = &c;
        jsonw_init(&w);
        jsonw_object_begin(&w);
        record_write_task(&w, &r, RECORD_VIEW_HOST, &lim);
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &doc, NULL), 0, "record: written");
        ok(strstr(doc, "\"name\":\"web\"") != NULL, "record: container name");
        ok(strstr(doc, "\"pod\":{\"namespace\":\"shop\",\"uid\":\"u-cg\"}") != NULL,
           "record: the pod's uid is the cgroup's");
        ok(strstr(doc, "\"labels\":{\"app\":\"web\"}") != NULL, "record: exported labels only");
        ok(!strstr(doc, "secret"), "record: a label kept for routes stays out");
        container_names_done(&n);
}

int main(void)
{
        char cmd[128];

        if (!mkdtemp(root))
                return 99;
        test_oci();
        test_storage_and_docker();
        test_filter();
        test_providers();
        test_registry();
        test_record();
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                tap_diag("could not remove %s", root);
        return tap_done();
}
