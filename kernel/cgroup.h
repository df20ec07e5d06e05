/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
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
/* The same for an open directory (an O_PATH fd will do). */
int cgroup_id_from_fd(int fd, uint64_t *ret_id);

/* One level of a cgroup path as the filesystem shows it: who owns the directory, and its id. */
struct cgroup_level {
        uint64_t id;  /* the cgroup id (cgroup2); the inode number on a v1 hierarchy */
        uint32_t uid; /* the directory's owner: who may name the cgroups below it */
        size_t end;   /* this level's path is the first end bytes of the path walked */
};

/*
 * Walks rel_path (relative to the hierarchy's root, "/" for the root itself)
 * one directory at a time from mount_fd, without following symlinks or
 * crossing into another mount, and records each level's owner and id: one
 * level per component, the root not included. "." and ".." are refused
 * (-EINVAL). With expect_id != 0 the last directory (mount_fd itself for "/")
 * must be the cgroup of that id, else -ESTALE: cgroup2 directories are
 * never renamed or moved, so a match proves that every level walked was
 * that cgroup's real ancestor when it was walked, whatever the names say.
 */
int cgroup_walk(int mount_fd, const char *rel_path, uint64_t expect_id, struct cgroup_level **ret_levels,
                size_t *ret_n);

/* A cgroup v1 hierarchy's mount: where it is and what it holds. */
struct cgroup1_mount {
        char *path;
        char *options; /* its super options, which name it: "rw,cpu,cpuacct", "rw,xattr,name=systemd" */
};

void cgroup1_mounts_free(struct cgroup1_mount *m, size_t n);

/* The v1 hierarchies ("cgroup" mounts) in the text of a mountinfo file; none is not an error. */
int cgroup1_find_mounts_in(const char *mountinfo, struct cgroup1_mount **ret, size_t *ret_n);
int cgroup1_find_mounts(struct cgroup1_mount **ret, size_t *ret_n);

/*
 * Whether a mount is the hierarchy of a /proc/<pid>/cgroup line's
 * controllers field: each of its names is among the mount's options. A
 * controller (or a name=) belongs to one hierarchy only, so one shared name
 * decides; the options that are not controllers ("rw", "xattr") never
 * appear in the field.
 */
bool cgroup1_mount_matches(const struct cgroup1_mount *m, const char *line_controllers);
