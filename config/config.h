/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The configuration model. json-c is parsed once, here, into these typed
 * structs; json_object never leaves config/. Keys and their meaning are
 * fixed by ../shared/reference/interface.md (docs/config.md in this tree).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/io.h"

enum container_runtime {
        RUNTIME_DOCKER,
        RUNTIME_CONTAINERD,
        RUNTIME_CRIO,
        RUNTIME_PODMAN,
        RUNTIME_NSPAWN,
        RUNTIME_LXC,
        RUNTIME_CRI, /* a Kubernetes container whose cgroup layout does not name its runtime */
        _RUNTIME_MAX,
};

/* "docker", "containerd", "cri-o", "podman", "nspawn", "lxc", "cri"; NULL when out of range. */
const char *runtime_to_string(enum container_runtime r);
/* The runtime, or -EINVAL. */
int runtime_from_string(const char *s);

enum route_action {
        ACTION_FORWARD,
        ACTION_STORE,
        ACTION_REJECT,
        ACTION_SYSTEMD, /* hand to systemd-coredump's socket, on the host or in the container */
        _ACTION_MAX,
};
const char *action_to_string(enum route_action a);

enum listen_protocol {
        PROTOCOL_REQUEST, /* core_pattern "@@", 6.17+ */
        PROTOCOL_PLAIN,   /* core_pattern "@", 6.16+ */
        PROTOCOL_PIPE,    /* core_pattern "|coredump-proxy-pipe ...", any kernel */
        PROTOCOL_AUTO,    /* the best the running kernel offers (the default) */
        _PROTOCOL_MAX,
};
/* "request", "plain", "pipe", "auto"; NULL when out of range. */
const char *protocol_to_string(enum listen_protocol p);

/* Whose systemd-coredump a "systemd" route hands dumps to. */
enum systemd_where {
        SYSTEMD_WHERE_HOST,      /* the host's: ids as the host sees the task */
        SYSTEMD_WHERE_CONTAINER, /* the one in the task's own root: ids as its namespaces see it */
        _SYSTEMD_WHERE_MAX,
};

enum trust_mode {
        TRUST_POD,       /* the listener is in the task's container or, for Kubernetes, its pod */
        TRUST_CONTAINER, /* the listener is in the task's own container */
};

/* A size given as bytes or as a percentage of the filesystem's size. */
struct size_limit {
        bool set;
        bool percent;
        uint64_t value; /* bytes, or 0..100 when percent */
};

/* Bytes a limit allows on a filesystem of fs_size bytes; UINT64_MAX when unset. */
uint64_t size_limit_bytes(const struct size_limit *l, uint64_t fs_size);

/* A label or annotation a route selects on: its key must be there, its value match the glob. */
struct match_pair {
        char *key;
        char *glob; /* fnmatch(3) */
};

struct route_match {
        int container; /* -1 any, 0 host tasks only, 1 container tasks only */
        /*
         * -1 (absent): rootless containers match unless runtime, container_id or pod_uid is given
         * (names their owners choose); 0: no rootless container; 1: rootless containers only.
         */
        int rootless;
        uint32_t runtimes;  /* bitmask of (1u << enum container_runtime); 0: any */
        char *container_id; /* prefix of the container id; NULL: any */
        char *pod_uid;      /* exact pod uid; NULL: any */
        char *cgroup;       /* fnmatch(3) glob on the cgroup path; NULL: any */
        uint32_t *uids;     /* list of uids (the task's real uid on the host); NULL: any */
        size_t n_uids;
        char *comm; /* fnmatch(3) glob; NULL: any */
        char *exe;  /* fnmatch(3) glob; NULL: any */
        /* Names (proxy/names/): labels for routes, never identity. fnmatch(3) globs; NULL: any. */
        char *pod_namespace;
        char *pod_name;
        char *container_name;
        char *image;
        struct match_pair *labels; /* every one must hold */
        size_t n_labels;
        struct match_pair *annotations;
        size_t n_annotations;
};

/* Who may answer for a collector, beyond the cgroup rule (docs/collector-protocol.md). */
enum collector_uid_mode {
        COLLECTOR_UID_TASK, /* the kernel's rule for reading the task's memory: its uid, or privileged over
                               it */
        COLLECTOR_UID_ANY,  /* any uid: the cgroup rule alone */
        _COLLECTOR_UID_MAX,
};

struct route {
        char *name;
        struct route_match match;
        enum route_action action;
        enum route_action fallback; /* forward and systemd: store (default) or reject */
        /* forward: "@name" or "/path", default "@coredump-collector"; systemd: "/path", default
           CONFIG_DEFAULT_SYSTEMD_ADDRESS */
        char *address;
        enum systemd_where where;              /* systemd only; default SYSTEMD_WHERE_HOST */
        enum trust_mode trust;                 /* forward only; default TRUST_POD */
        bool pass_pidfd;                       /* forward only; default false */
        bool expose_host;                      /* forward only; default false */
        enum collector_uid_mode collector_uid; /* forward only; default COLLECTOR_UID_TASK */
        uint32_t *collector_uids;              /* forward only: host uids also accepted; NULL none */
        size_t n_collector_uids;
};

struct limits {
        usec_t collector_timeout;     /* default 2 s */
        usec_t dump_timeout;          /* default 5 min, from accept to the end of the dump */
        usec_t stall_timeout;         /* default 30 s: a dump moving no byte for this long is given up */
        unsigned max_concurrent;      /* default 64 */
        unsigned per_container_dumps; /* 0: no per-container rate limit */
        usec_t per_container_interval;
        unsigned per_container_concurrent; /* dumps of one container in flight at once; default 8 */
};

/*
 * Where container names come from (proxy/names/) and which of their labels
 * and annotations may leave the node. Every state root has the runtime's
 * own default.
 */
struct names_config {
        char **labels; /* label keys that documents may carry */
        size_t n_labels;
        char **annotations; /* annotation keys that documents may carry (none by default) */
        size_t n_annotations;
        char *containerd_state; /* containerd's state directory: its task bundles */
        char **containerd_namespaces;
        size_t n_containerd_namespaces;
        char *storage_graph_root; /* containers/storage (CRI-O, podman): graph root and run root */
        char *storage_run_root;
        char *docker_data_root;
};

#define CONFIG_DEFAULT_CONTAINERD_STATE "/run/containerd"
#define CONFIG_DEFAULT_STORAGE_GRAPH    "/var/lib/containers/storage"
#define CONFIG_DEFAULT_STORAGE_RUN      "/run/containers/storage"
#define CONFIG_DEFAULT_DOCKER_ROOT      "/var/lib/docker"

/* The longest duration a config may give: deadlines computed from it never wrap. */
#define CONFIG_DURATION_MAX                     ((usec_t) 24 * 3600 * USEC_PER_SEC)
#define CONFIG_DEFAULT_PER_CONTAINER_CONCURRENT 8

/* Fixed by interface.md, whatever the build prefix. */
#define CONFIG_DEFAULT_PATH            "/etc/coredump-proxy/config.json"
#define CONFIG_DEFAULT_LISTEN          "/run/coredump-proxy/kernel.sock"
#define CONFIG_DEFAULT_STORE           "/var/lib/coredump-proxy"
#define CONFIG_DEFAULT_ADDRESS         "@coredump-collector"
#define CONFIG_DEFAULT_SYSTEMD_ADDRESS "/run/systemd/coredump"
/* zstd's own default level: about the speed of a disk, a core in a fraction of its size. */
#define CONFIG_DEFAULT_COMPRESS 3
#define CONFIG_COMPRESS_MAX     19

/* The host store's upload hook (store.exec): a command run for every dump it keeps. */
struct store_exec {
        char *command; /* NULL: none */
        usec_t timeout;
        unsigned max_concurrent;
        bool remove;
};
#define CONFIG_DEFAULT_EXEC_TIMEOUT (60 * USEC_PER_SEC)
#define CONFIG_DEFAULT_EXEC_MAX     2
#define CONFIG_EXEC_MAX             64

struct config {
        char *source; /* the file it came from, or "(embedded default)" */
        char *listen_path;
        enum listen_protocol protocol;
        char *pipe_helper; /* listen.pipe_helper, in the host's root; NULL: found (mode.c) */
        char *events;      /* file path, or "-" for stdout */
        char *store_directory;
        struct size_limit store_max_use;
        struct size_limit store_keep_free;
        int store_compress; /* zstd level of <id>.core.zst; 0: uncompressed <id>.core */
        struct store_exec store_exec;
        bool store_summary; /* a crash summary in <id>.json (proxy/store/summarize.h) */
        struct limits limits;
        struct names_config names;
        struct route *routes;
        size_t n_routes;
};

/* Problems found while loading, one line each: "FILE:LINE:COLUMN: KEY.PATH: message". */
struct config_errors {
        char **lines;
        size_t n;
};
void config_errors_clear(struct config_errors *e);

/*
 * Loads and validates a config. On failure returns -EINVAL (or -errno for
 * I/O) and, when errors is not NULL, appends every problem found (not just
 * the first) to it. Unknown keys are errors: a typo must not silently
 * disable a route.
 */
int config_load_file(const char *path, struct config **ret, struct config_errors *errors);
int config_load_string(const char *name, const char *text, size_t len, struct config **ret,
                       struct config_errors *errors);

/* The embedded default: used when no config file exists. */
const char *config_default_text(void);
int config_load_default(struct config **ret);

void config_free(struct config *c);

/* "123", "10K", "10G", "1T" (powers of 1024), "15%": -EINVAL on anything else. */
int config_parse_size(const char *s, struct size_limit *ret);
/* "500ms", "2s", "5m", "1h": -EINVAL on anything else or zero. */
int config_parse_duration(const char *s, usec_t *ret);
