/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * cgroup ids become paths relative to the cgroup2 root, so the mount the
 * daemon opens must show the whole hierarchy: a bind mount of a subtree
 * (its mountinfo root is not "/") would make every path wrong, and listed
 * first it must not be the one taken (issue 10).
 */

#include <errno.h>

#include "kernel/cgroup.h"
#include "kernel/cleanup.h"
#include "tests/tap.h"

int main(void)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *none = NULL;

        /* A subtree bound into a container's view first, the real hierarchy after it. */
        const char *subtree_first =
                "22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
                "30 22 0:24 /sub /run/delegated rw,nosuid,nodev,noexec,relatime shared:12 - cgroup2 "
                "cgroup2 rw,nsdelegate\n"
                "31 22 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:10 - cgroup2 "
                "cgroup2 rw,nsdelegate\n";
        is_int(cgroup2_find_mount_in(subtree_first, &a), 0, "a subtree mount listed first: found one");
        is_str(a, "/sys/fs/cgroup/unified", "the mount of the root is chosen, not the subtree's");

        /* The root mount first stays the answer. */
        const char *root_first = "31 22 0:24 / /sys/fs/cgroup rw,relatime shared:10 - cgroup2 cgroup2 rw\n"
                                 "30 22 0:24 /a/b /mnt/b rw,relatime shared:12 - cgroup2 cgroup2 rw\n";
        is_int(cgroup2_find_mount_in(root_first, &b), 0, "root mount listed first: found");
        is_str(b, "/sys/fs/cgroup", "root mount listed first: chosen");

        /* A root that only starts with "/" is not "/". */
        const char *deeper = "30 22 0:24 /x /mnt/x rw - cgroup2 cgroup2 rw\n"
                             "32 22 0:24 / /mnt/whole rw - cgroup2 cgroup2 rw\n";
        is_int(cgroup2_find_mount_in(deeper, &c), 0, "\"/x\" then \"/\": found");
        is_str(c, "/mnt/whole", "\"/x\" then \"/\": the whole hierarchy");

        /* Only subtrees: no mount can resolve every cgroup id. */
        const char *only_subtrees = "30 22 0:24 /sub /run/delegated rw - cgroup2 cgroup2 rw\n"
                                    "33 22 0:24 /other /run/other rw - cgroup2 cgroup2 rw\n";
        is_int(cgroup2_find_mount_in(only_subtrees, &none), -ENOENT, "only subtree mounts: -ENOENT");
        ok(none == NULL, "only subtree mounts: nothing returned");
        return tap_done();
}
