/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* /proc/<pid>/cgroup and mountinfo parsing, with real samples of v1, v2 and hybrid hosts. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "tests/tap.h"

static void test_proc_cgroup(void)
{
        struct cgroup_line *l = NULL;
        size_t n = 0;

        /* A pure cgroup2 host (Kubernetes node with containerd, systemd driver). */
        const char *v2 = "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f1c_aa.slice/"
                         "cri-containerd-0123abcd.scope\n";
        is_int(cgroup_parse_proc(v2, &l, &n), 0, "v2: parses");
        is_int(n, 1, "v2: one line");
        is_int(l[0].hierarchy, 0, "v2: hierarchy 0");
        is_str(l[0].controllers, "", "v2: no controllers");
        ok(strstr(l[0].path, "cri-containerd-0123abcd.scope") != NULL, "v2: path kept whole");
        cgroup_lines_free(l, n);

        /* A hybrid host (this machine's layout) with a docker container under the v1 hierarchies. */
        const char *hybrid = "12:pids:/docker/4f1e\n"
                             "11:cpu,cpuacct:/docker/4f1e\n"
                             "10:memory:/docker/4f1e\n"
                             "1:name=systemd:/docker/4f1e\n"
                             "0::/\n";
        is_int(cgroup_parse_proc(hybrid, &l, &n), 0, "hybrid: parses");
        is_int(n, 5, "hybrid: five lines");
        is_int(l[1].hierarchy, 11, "hybrid: hierarchy id");
        is_str(l[1].controllers, "cpu,cpuacct", "hybrid: several controllers");
        is_str(l[3].controllers, "name=systemd", "hybrid: named hierarchy");
        is_str(l[4].path, "/", "hybrid: v2 root");
        cgroup_lines_free(l, n);

        /* No trailing newline, and a path with ':' in it (systemd escapes, nspawn names). */
        is_int(cgroup_parse_proc("0::/machine.slice/a:b", &l, &n), 0, "colon in path: parses");
        is_str(n == 1 ? l[0].path : NULL, "/machine.slice/a:b", "colon in path: kept");
        cgroup_lines_free(l, n);

        /* A cgroup namespace shows paths relative to its root, possibly above it. */
        is_int(cgroup_parse_proc("0::/../../other\n", &l, &n), 0, "cgroupns relative path parses");
        cgroup_lines_free(l, n);

        is_int(cgroup_parse_proc("", &l, &n), 0, "empty text: no lines");
        is_int(n, 0, "empty text: zero");
        cgroup_lines_free(l, n);

        static const char *const bad[] = {
                "garbage\n",        "1:cpu\n",   "x:cpu:/a\n",           "0:cpu:/a\n", "3::/a\n",
                "1:cpu:relative\n", ":cpu:/a\n", "99999999999:cpu:/a\n", "1:cpu:\n",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                l = NULL;
                n = 0;
                is_int(cgroup_parse_proc(bad[i], &l, &n), -EBADMSG, "malformed line %zu refused", i);
        }
}

static void test_mountinfo(void)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        const char *hybrid =
                "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
                "24 22 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755\n"
                "25 24 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
                "cgroup2 rw,nsdelegate\n"
                "26 24 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
                "cgroup rw,xattr,name=systemd\n";
        is_int(cgroup2_find_mount_in(hybrid, &a), 0, "mountinfo: hybrid host");
        is_str(a, "/sys/fs/cgroup/unified", "mountinfo: hybrid host has cgroup2 at unified");

        const char *unified =
                "35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 "
                "cgroup2 rw,nsdelegate,memory_recursiveprot\n";
        is_int(cgroup2_find_mount_in(unified, &b), 0, "mountinfo: unified host");
        is_str(b, "/sys/fs/cgroup", "mountinfo: unified host path");

        const char *escaped = "40 1 0:40 / /mnt/my\\040cgroup rw - cgroup2 none rw\n";
        is_int(cgroup2_find_mount_in(escaped, &c), 0, "mountinfo: escaped mount point");
        is_str(c, "/mnt/my cgroup", "mountinfo: octal escapes undone");

        const char *v1only =
                "26 24 0:25 / /sys/fs/cgroup/systemd rw shared:11 - cgroup cgroup rw,name=systemd\n";
        char *d = NULL;
        is_int(cgroup2_find_mount_in(v1only, &d), -ENOENT, "mountinfo: v1-only host has none");
        /* A filesystem whose source is named cgroup2 is not the type cgroup2. */
        const char *tricky = "26 24 0:25 / /x rw - tmpfs cgroup2 rw\n";
        is_int(cgroup2_find_mount_in(tricky, &d), -ENOENT, "mountinfo: matches the type, not the source");
}

static void test_v1_mounts(void)
{
        struct cgroup1_mount *m = NULL;
        size_t n = 0;

        /* This machine's hybrid layout: cgroup2 at unified, the v1 controllers beside it. */
        const char *hybrid =
                "25 24 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
                "cgroup2 rw,nsdelegate\n"
                "26 24 0:25 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:11 - cgroup "
                "cgroup rw,xattr,name=systemd\n"
                "29 24 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup "
                "cgroup rw,cpu,cpuacct\n"
                "30 24 0:29 / /sys/fs/cgroup/my\\040mem rw - cgroup cgroup rw,memory\n"
                "31 1 0:30 / /srv rw - tmpfs cgroup rw\n";
        is_int(cgroup1_find_mounts_in(hybrid, &m, &n), 0, "v1 mounts: parse");
        is_int(n, 3, "v1 mounts: three hierarchies, not cgroup2, not a tmpfs named cgroup");
        if (n == 3) {
                is_str(m[0].path, "/sys/fs/cgroup/systemd", "v1 mounts: named hierarchy path");
                is_str(m[0].options, "rw,xattr,name=systemd", "v1 mounts: its super options");
                is_str(m[2].path, "/sys/fs/cgroup/my mem", "v1 mounts: escapes undone");
                ok(cgroup1_mount_matches(&m[0], "name=systemd"), "v1 match: name=systemd");
                ok(!cgroup1_mount_matches(&m[0], "cpu,cpuacct"), "v1 match: not another hierarchy");
                ok(cgroup1_mount_matches(&m[1], "cpu,cpuacct"), "v1 match: both controllers");
                ok(cgroup1_mount_matches(&m[1], "cpuacct,cpu"), "v1 match: in any order");
                ok(!cgroup1_mount_matches(&m[1], "cpu,cpuacct,memory"), "v1 match: a controller it lacks");
                ok(!cgroup1_mount_matches(&m[1], ""), "v1 match: an empty field names nothing");
                ok(!cgroup1_mount_matches(&m[1], "cpu,"), "v1 match: an empty name");
                ok(cgroup1_mount_matches(&m[2], "memory"), "v1 match: memory");
        }
        cgroup1_mounts_free(m, n);

        is_int(cgroup1_find_mounts_in("", &m, &n), 0, "v1 mounts: none");
        is_int(n, 0, "v1 mounts: zero");
        cgroup1_mounts_free(m, n);
}

int main(void)
{
        test_proc_cgroup();
        test_mountinfo();
        test_v1_mounts();
        return tap_done();
}
