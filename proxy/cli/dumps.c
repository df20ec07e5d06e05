/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/config.h"
#include "config/jsonc.h"
#include "kernel/cleanup.h"
#include "proxy/base/jsonr.h"
#include "proxy/base/log.h"
#include "proxy/cli/dumps.h"
#include "proxy/daemon/daemon.h"

/* A metadata file is small; a larger one is not ours. */
#define META_MAX   (1024 * 1024)
#define META_DEPTH 16
#define DUMPS_MAX  100000

struct entry {
        char *id;
        struct json_object *meta;
};

/*
 * Every string here was chosen by whoever crashed (comm, argv, names) or,
 * with --dir, wrote the collector's directory: control characters (C0, DEL,
 * and C1 as UTF-8 encodes them) would reach the reader's terminal as escape
 * sequences. They are printed as \xNN.
 */
static char *tty_safe(const char *s)
{
        size_t n = strlen(s);
        char *out = malloc(n * 4 + 1), *p = out;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if (c < 0x20 || c == 0x7f) {
                        p += sprintf(p, "\\x%02x", c);
                } else if (c == 0xc2 && i + 1 < n && (unsigned char) s[i + 1] >= 0x80 &&
                           (unsigned char) s[i + 1] <= 0x9f) {
                        p += sprintf(p, "\\x%02x", (unsigned char) s[++i]);
                } else
                        *p++ = (char) c;
        }
        *p = 0;
        return out;
}

static const char *str(struct json_object *o, const char *key)
{
        const char *s = NULL;
        return o && jsonr_string(o, key, 4096, &s, NULL) > 0 ? s : NULL;
}

/* Oldest first: by the RFC 3339 time (milliseconds; an id is sortable only to the second). */
static int entry_compare(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        const char *tx = str(x->meta, "time"), *ty = str(y->meta, "time");
        int d = strcmp(tx ? tx : "", ty ? ty : "");

        return d != 0 ? d : strcmp(x->id, y->id);
}

static int64_t num(struct json_object *o, const char *key)
{
        int64_t v = -1;
        return o && jsonr_int(o, key, INT64_MIN, INT64_MAX, &v) > 0 ? v : -1;
}

static struct json_object *member(struct json_object *o, const char *key)
{
        struct json_object *v = NULL;
        return o && jsonr_member(o, key, json_type_object, &v) > 0 ? v : NULL;
}

/* The core beside the metadata: compressed or not; NULL when it is gone. */
static const char *core_name(int dir_fd, const char *id, char buf[static 256])
{
        static const char *const suffixes[] = { ".core.zst", ".core" };
        struct stat st;

        for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
                (void) snprintf(buf, 256, "%s%s", id, suffixes[i]);
                if (fstatat(dir_fd, buf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        return buf;
        }
        return NULL;
}

static int load(int dir_fd, struct entry **ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct entry *v = NULL;
        size_t n = 0;
        int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || !(d = fdopendir(fd))) {
                safe_close(fd);
                return -errno;
        }
        for (struct dirent *de; (de = readdir(d)) && n < DUMPS_MAX;) {
                size_t k = strlen(de->d_name);
                struct json_object *o = NULL;
                struct entry *nv;

                if (de->d_name[0] == '.' || k <= 5 || strcmp(de->d_name + k - 5, ".json") != 0)
                        continue;
                if (jsonr_read_file(dir_fd, de->d_name, META_MAX, META_DEPTH, json_type_object, &o) < 0)
                        continue; /* not a metadata file of ours */
                nv = realloc(v, (n + 1) * sizeof(*v));
                if (!nv) {
                        json_object_put(o);
                        break;
                }
                v = nv;
                v[n].id = strndup(de->d_name, k - 5);
                v[n].meta = o;
                if (!v[n].id) {
                        json_object_put(o);
                        break;
                }
                n++;
        }
        qsort(v, n, sizeof(*v), entry_compare);
        *ret = v;
        *ret_n = n;
        return 0;
}

static void entries_free(struct entry *v, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(v[i].id);
                json_object_put(v[i].meta);
        }
        free(v);
}

/* "docker:0123456789ab", or the pod and container names when known. */
static void container_text(struct json_object *m, char *buf, size_t size)
{
        struct json_object *c = member(m, "container"), *pod = member(c, "pod");
        const char *name = str(c, "name"), *id = str(c, "id");

        if (!c)
                (void) snprintf(buf, size, "-");
        else if (pod && str(pod, "namespace") && str(pod, "name"))
                (void) snprintf(buf, size, "%s/%s%s%s", str(pod, "namespace"), str(pod, "name"),
                                name ? "/" : "", name ? name : "");
        else if (name)
                (void) snprintf(buf, size, "%s", name);
        else
                (void) snprintf(buf, size, "%s:%.12s", str(c, "runtime") ? str(c, "runtime") : "?",
                                id ? id : "?");
}

static void size_text(int64_t bytes, char *buf, size_t size)
{
        static const char units[] = "BKMGT";
        double v = (double) bytes;
        unsigned u = 0;

        if (bytes < 0) {
                (void) snprintf(buf, size, "-");
                return;
        }
        while (v >= 1024 && u < sizeof(units) - 2) {
                v /= 1024;
                u++;
        }
        (void) snprintf(buf, size, u == 0 ? "%.0f%c" : "%.1f%c", v, units[u]);
}

/* The list's short summary: the top frame's function, else the summary's status ("-": none yet). */
static const char *top_text(struct json_object *m)
{
        struct json_object *sum = member(m, "summary"), *frames = NULL;
        const char *f = NULL;

        if (!sum)
                return "-";
        if (jsonr_member(sum, "frames", json_type_array, &frames) > 0 &&
            json_object_array_length(frames) > 0)
                f = str(json_object_array_get_idx(frames, 0), "function");
        return f ? f : str(sum, "status") ? str(sum, "status") : "?";
}

static int list(int dir_fd, const struct entry *v, size_t n, bool json)
{
        if (json) {
                _cleanup_(json_object_putp) struct json_object *a = json_object_new_array();
                char core[256];

                for (size_t i = 0; a && i < n; i++) {
                        struct json_object *o = json_object_get(v[i].meta);
                        const char *f = core_name(dir_fd, v[i].id, core);
                        json_object_object_add(o, "core_file", f ? json_object_new_string(f) : NULL);
                        json_object_array_add(a, o);
                }
                if (!a)
                        return EXIT_FAILURE;
                puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
                return EXIT_SUCCESS;
        }
        printf("%-24s %7s %4s %-16s %-32s %-24s %8s %8s %s\n", "TIME", "PID", "SIG", "COMM", "CONTAINER",
               "TOP", "SIZE", "STORED", "ID");
        for (size_t i = 0; i < n; i++) {
                struct json_object *m = v[i].meta;
                char ct[128], size[32], stored[32], core[256];
                const char *f = core_name(dir_fd, v[i].id, core);

                container_text(m, ct, sizeof(ct));
                size_text(num(m, "bytes"), size, sizeof(size));
                size_text(f ? num(m, "stored_bytes") >= 0 ? num(m, "stored_bytes") : num(m, "bytes") : -1,
                          stored, sizeof(stored));
                _cleanup_free_ char *t = tty_safe(str(m, "time") ? str(m, "time") : "-"),
                                    *c = tty_safe(str(m, "comm") ? str(m, "comm") : "-"), *cs = tty_safe(ct),
                                    *top = tty_safe(top_text(m)), *id = tty_safe(v[i].id);

                if (!t || !c || !cs || !top || !id)
                        return EXIT_FAILURE;
                printf("%-24s %7" PRId64 " %4" PRId64 " %-16s %-32s %-24.24s %8s %8s %s%s\n", t,
                       num(m, "pid"), num(m, "signal"), c, cs, top, size, f ? stored : "gone", id,
                       json_object_get_boolean(json_object_object_get(m, "truncated")) ? " (truncated)"
                                                                                       : "");
        }
        return EXIT_SUCCESS;
}

static void print_value(const char *key, struct json_object *v, int indent)
{
        _cleanup_free_ char *k = tty_safe(key), *text = NULL;

        if (!k)
                return;
        if (json_object_is_type(v, json_type_object)) {
                printf("%*s%s:\n", indent, "", k);
                json_object_object_foreach (v, kk, x)
                        print_value(kk, x, indent + 2);
                return;
        }
        text = tty_safe(v ? json_object_is_type(v, json_type_string)
                                        ? json_object_get_string(v)
                                        : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN)
                          : "-");
        printf("%*s%s: %s\n", indent, "", k, text ? text : "?");
}

/* The crash summary (docs/metadata.md): its status, the executable's build-id, the frames. */
/* KEY: VALUE at INDENT, VALUE made safe for a terminal; nothing when VALUE is NULL. */
static void print_line(int indent, const char *key, const char *value)
{
        _cleanup_free_ char *v = value ? tty_safe(value) : NULL;

        if (v)
                printf("%*s%s: %s\n", indent, "", key, v);
}

static void print_summary(struct json_object *s)
{
        struct json_object *frames = NULL, *modules = NULL;

        if (!s) {
                printf("summary: (none yet)\n");
                return;
        }
        (void) jsonr_member(s, "frames", json_type_array, &frames);
        (void) jsonr_member(s, "modules", json_type_array, &modules);
        print_line(0, "summary", str(s, "status") ? str(s, "status") : "?");
        print_line(2, "error", str(s, "error"));
        print_line(2, "executable", str(s, "executable"));
        print_line(2, "build_id", str(s, "build_id"));
        if (modules)
                printf("  modules: %zu\n", json_object_array_length(modules));
        if (!frames)
                return;
        printf("  frames:\n");
        for (size_t i = 0; i < json_object_array_length(frames); i++) {
                struct json_object *fr = json_object_array_get_idx(frames, i);
                _cleanup_free_ char *mod = tty_safe(str(fr, "module") ? str(fr, "module") : "?"),
                                    *fn = tty_safe(str(fr, "function") ? str(fr, "function") : "");

                printf("    #%-2zu %s+0x%" PRIx64 "%s%s\n", i, mod ? mod : "?", num(fr, "offset"),
                       fn && *fn ? " " : "", fn ? fn : "");
        }
}

static int info(int dir_fd, const char *dir, const struct entry *v, size_t n, const char *id, bool json)
{
        char core[256];

        for (size_t i = 0; i < n; i++) {
                const char *f;

                if (strcmp(v[i].id, id) != 0)
                        continue;
                f = core_name(dir_fd, id, core);
                if (json) {
                        json_object_object_add(v[i].meta, "core_file", f ? json_object_new_string(f) : NULL);
                        puts(json_object_to_json_string_ext(v[i].meta, JSON_C_TO_STRING_PRETTY));
                        return EXIT_SUCCESS;
                }
                json_object_object_foreach (v[i].meta, k, x)
                        if (strcmp(k, "summary") != 0)
                                print_value(k, x, 0);
                printf("core_file: %s%s%s\n", f ? dir : "(gone)", f ? "/" : "", f ? f : "");
                print_summary(member(v[i].meta, "summary"));
                return EXIT_SUCCESS;
        }
        fprintf(stderr, "no dump %s in %s\n", id, dir);
        return EXIT_FAILURE;
}

int dumps_main(int argc, char **argv)
{
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "dir", required_argument, NULL, 'd' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        struct daemon_options o = {};
        const char *verb = argv[0], *dir = NULL, *id = NULL;
        struct config *c = NULL;
        struct entry *v = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        bool json = false, is_info = strcmp(verb, "info") == 0;
        size_t n = 0;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        o.config_path = optarg;
                        o.config_explicit = true;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                default:
                        return EXIT_FAILURE;
                }
        }
        if (argc - optind != (is_info ? 1 : 0)) {
                fprintf(stderr, "usage: coredump-proxy %s%s [--config FILE | --dir DIR] [--json]\n", verb,
                        is_info ? " ID" : "");
                return EXIT_FAILURE;
        }
        if (is_info)
                id = argv[optind];
        if (!dir) {
                /* The host store of the config in force (or the embedded default's). */
                log_set_level(LOG_LEVEL_WARNING);
                r = daemon_load_config(&o, &c);
                if (r < 0)
                        return EXIT_FAILURE;
                dir = c->store_directory;
        }
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0 || load(dir_fd, &v, &n) < 0) {
                fprintf(stderr, "cannot read %s: %s\n", dir, strerror(errno));
                config_free(c);
                return EXIT_FAILURE;
        }
        r = is_info ? info(dir_fd, dir, v, n, id, json) : list(dir_fd, v, n, json);
        entries_free(v, n);
        config_free(c);
        return r;
}
