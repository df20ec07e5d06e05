/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* One line of /proc/<pid>/cgroup: "hierarchy-id:controllers:path". */
struct cgroup_line {
        unsigned hierarchy; /* 0 for the cgroup2 line */
        char *controllers;  /* "" for cgroup2, "name=systemd", "cpu,cpuacct", ... */
        char *path;         /* relative to the reader's cgroup namespace root */
};

void cgroup_lines_free(struct cgroup_line *lines, size_t n);

/* Parses the text of /proc/<pid>/cgroup (v1 and v2 lines); -EBADMSG on a malformed line. */
int cgroup_parse_proc(const char *text, struct cgroup_line **ret, size_t *ret_n);

/*
 * Finds the cgroup2 mount point in the text of a mountinfo file: the first
 * mount of type cgroup2 (the first field after the " - " separator) whose
 * root is the hierarchy's root "/", never a bind mount of a subtree. On
 * hybrid hosts it is /sys/fs/cgroup/unified. -ENOENT if there is none.
 */
int cgroup2_find_mount_in(const char *mountinfo, char **ret_path);
/* The same on /proc/self/mountinfo. */
int cgroup2_find_mount(char **ret_path);

/*
 * cgroup id (the kernfs inode number that PIDFD_GET_INFO reports) to the
 * cgroup's path relative to the cgroup2 root ("/" for the root). mount_fd is
 * an open directory of the cgroup2 mount at mount_path. Needs
 * CAP_DAC_READ_SEARCH; -ESTALE if the cgroup was removed.
 */
int cgroup_id_to_path(int mount_fd, const char *mount_path, uint64_t id, char **ret_path);

/* The cgroup id of a cgroup2 directory (name_to_handle_at). */
int cgroup_id_from_path(const char *path, uint64_t *ret_id);
