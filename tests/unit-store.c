/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The dump writer on private tmpfs mounts (a mount namespace of our own, so
 * nothing outlives the test): real socketpairs feed it, quotas, rotation,
 * a full disk and concurrent writers are exercised against real files.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/store/compress.h"
#include "proxy/store/internal.h"
#include "proxy/store/store.h"
#include "tests/tap.h"

#include <zstd.h>

#define KiB ((uint64_t) 1024)
#define MiB (1024 * KiB)

DEFINE_TRIVIAL_CLEANUP_FUNC(struct dump_store *, store_unref);
#define _cleanup_store_ _cleanup_(store_unrefp)

/* store_write() with its request spelt out, as the tests use it. */
static int write_one(struct dump_store *s, const char *id, int src, uint64_t max_bytes, usec_t deadline,
                     store_metadata_fn metadata, void *userdata, struct store_result *ret)
{
        struct store_request req = {
                .id = id,
                .src = src,
                .max_bytes = max_bytes,
                .deadline = deadline,
                .metadata = metadata,
                .userdata = userdata,
        };

        return store_write(s, &req, ret);
}

static char base[] = "/tmp/unit-store.XXXXXX";

static uint8_t pattern(uint64_t i)
{
        /* Not periodic in any power of two, so a lost or repeated pipe buffer shows. */
        return (uint8_t) (i * 131 + (i >> 10) * 7 + (i >> 20));
}

static int count_fds(void)
{
        _cleanup_closedir_ DIR *d = opendir("/proc/self/fd");
        int n = 0;

        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.')
                        n++;
        return n - 1; /* the directory's own fd */
}

/* A fresh tmpfs of its own for a test, so free-space figures are its alone. */
static char *fresh_fs(const char *name, const char *size)
{
        char opts[64];
        char *p;

        if (asprintf(&p, "%s/%s", base, name) < 0)
                return NULL;
        (void) snprintf(opts, sizeof(opts), "size=%s,mode=0755", size);
        if (mkdir(p, 0755) < 0 || mount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0) {
                printf("# mount %s: %m\n", p);
                free(p);
                return NULL;
        }
        return p;
}

static char *join(const char *dir, const char *name)
{
        char *p;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                abort();
        return p;
}

static bool exists(const char *dir, const char *name)
{
        _cleanup_free_ char *p = join(dir, name);

        return access(p, F_OK) == 0;
}

static int64_t size_of(const char *dir, const char *name)
{
        _cleanup_free_ char *p = join(dir, name);
        struct stat st;

        if (stat(p, &st) < 0)
                return -1;
        return st.st_size;
}

static int mode_of(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -1;
        return (int) (st.st_mode & 07777);
}

static int count_files(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        int n = 0;

        if (!d)
                return -1;
        for (struct dirent *de; (de = readdir(d));)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        return n;
}

static bool any_temp(const char *dir)
{
        _cleanup_closedir_ DIR *d = opendir(dir);

        if (!d)
                return true;
        for (struct dirent *de; (de = readdir(d));) {
                size_t n = strlen(de->d_name);
                if (n > 8 && strcmp(de->d_name + n - 8, ".partial") == 0)
                        return true;
        }
        return false;
}

static uint64_t fs_avail(const char *dir)
{
        struct statvfs sv;

        if (statvfs(dir, &sv) < 0)
                return 0;
        return (uint64_t) sv.f_bavail * sv.f_frsize;
}

static bool check_pattern(const char *path, uint64_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        static uint8_t buf[64 * 1024];
        uint64_t off = 0;

        if (fd < 0)
                return false;
        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0)
                        return false;
                if (k == 0)
                        return off == len;
                for (ssize_t i = 0; i < k; i++)
                        if (buf[i] != pattern(off + (uint64_t) i)) {
                                printf("# %s: byte %" PRIu64 " differs\n", path, off + (uint64_t) i);
                                return false;
                        }
                off += (uint64_t) k;
        }
}

static bool touch(const char *dir, const char *name)
{
        _cleanup_free_ char *p = join(dir, name);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        return fd >= 0 && write(fd, "x", 1) == 1;
}

static bool set_mtime(const char *dir, const char *name, time_t t)
{
        _cleanup_free_ char *p = join(dir, name);
        struct timespec ts[2] = { { .tv_sec = t }, { .tv_sec = t } };

        return utimensat(AT_FDCWD, p, ts, 0) == 0;
}

/* ---- feeding a dump through a real socketpair ---- */

struct feeder {
        int fd;
        uint64_t len;
        bool stall; /* leave the stream open after the data, like a stuck producer */
        pthread_t thread;
};

static void *feed_thread(void *p)
{
        struct feeder *f = p;
        uint8_t buf[16 * 1024];
        uint64_t off = 0;

        while (off < f->len) {
                size_t n = (size_t) MIN((uint64_t) sizeof(buf), f->len - off);

                for (size_t i = 0; i < n; i++)
                        buf[i] = pattern(off + i);
                /* The store may stop reading (a cut) and close its end: EPIPE ends the feed. */
                ssize_t k = send(f->fd, buf, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                off += (uint64_t) k;
        }
        if (!f->stall)
                (void) shutdown(f->fd, SHUT_WR);
        return NULL;
}

/* Starts a writer thread; returns the reading end (what the kernel's connection would be). */
static int feed_start(struct feeder *f, uint64_t len, bool stall)
{
        int sv[2];

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -1;
        f->fd = sv[1];
        f->len = len;
        f->stall = stall;
        if (pthread_create(&f->thread, NULL, feed_thread, f) != 0) {
                close(sv[0]);
                close(sv[1]);
                return -1;
        }
        return sv[0];
}

/* Waits for the whole stream to be queued (only for streams that fit the socket buffer). */
static void feed_join(struct feeder *f)
{
        pthread_join(f->thread, NULL);
        f->thread = 0;
}

static void feed_finish(struct feeder *f, int src)
{
        safe_close(src);
        if (f->thread)
                pthread_join(f->thread, NULL);
        f->fd = safe_close(f->fd);
}

struct meta_seen {
        int calls;
        uint64_t bytes;
        enum store_cut cut;
        bool core_visible;
        bool fail;
};

static int meta_cb(void *userdata, const struct store_result *r, char **ret_json, size_t *ret_len)
{
        struct meta_seen *m = userdata;
        char *j;
        int n;

        if (m) {
                m->calls++;
                m->bytes = r->bytes;
                m->cut = r->cut;
                m->core_visible = r->core_path && access(r->core_path, F_OK) == 0;
                if (m->fail)
                        return -EIO;
        }
        n = asprintf(&j, "{\"bytes\":%" PRIu64 ",\"cut\":\"%s\"}\n", r->bytes, store_cut_to_string(r->cut));
        if (n < 0)
                return -ENOMEM;
        *ret_json = j;
        *ret_len = (size_t) n;
        return 0;
}

/* Writes one dump of len pattern bytes, fed by a thread that closes its end when done. */
static int dump(struct dump_store *s, const char *id, uint64_t len, uint64_t max_bytes,
                struct store_result *res)
{
        struct feeder f = {};
        int src = feed_start(&f, len, false);
        int r;

        if (src < 0)
                return -errno;
        /* Small streams are queued whole, EOF included, before the store reads. */
        if (len <= 64 * KiB)
                feed_join(&f);
        r = write_one(s, id, src, max_bytes, USEC_INFINITY, meta_cb, NULL, res);
        feed_finish(&f, src);
        return r;
}

static struct store_options opts(enum store_policy policy, uint64_t max_use, bool use_percent,
                                 uint64_t keep_free, bool free_percent, unsigned max_files)
{
        return (struct store_options){
                .max_use = { .set = max_use > 0, .percent = use_percent, .value = max_use },
                .keep_free = { .set = keep_free > 0, .percent = free_percent, .value = keep_free },
                .max_files = max_files,
                .policy = policy,
        };
}

/* ---- the tests ---- */

static void test_complete(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "a/b/store"), *want_core = NULL, *want_json = NULL, *text = NULL;
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct store_result res = {};
        struct meta_seen m = {};
        struct feeder f = {};
        uint64_t len = 9 * MiB + 123, bytes = 0;
        unsigned files = 0;
        char expect[128];
        int src;

        is_int(store_open(dir, &o, &s), 0, "store_open creates the directory and its parents");
        is_int(mode_of(dir), 0700, "the store directory is 0700");

        src = feed_start(&f, len, false);
        is_int(write_one(s, "one", src, 0, USEC_INFINITY, meta_cb, &m, &res), 0,
               "a complete dump is written");
        feed_finish(&f, src);
        is_int(res.cut, STORE_COMPLETE, "it is complete");
        is_int(res.bytes, len, "every byte counted");
        want_core = join(dir, "one.core");
        want_json = join(dir, "one.json");
        is_str(res.core_path, want_core, "absolute core path");
        is_str(res.metadata_path, want_json, "absolute metadata path");
        ok(check_pattern(want_core, len), "the core holds exactly the stream");
        is_int(mode_of(want_core), 0600, "the core is 0600");
        is_int(mode_of(want_json), 0600, "the metadata is 0600");
        is_int(m.calls, 1, "metadata built once");
        is_int(m.bytes, len, "the callback saw the byte count");
        ok(!m.core_visible, "the core is not visible before its metadata is written: never half a dump");
        (void) snprintf(expect, sizeof(expect), "{\"bytes\":%" PRIu64 ",\"cut\":\"complete\"}\n", len);
        is_int(io_read_file_at(AT_FDCWD, want_json, 4096, &text, NULL), 0, "the metadata can be read");
        is_str(text, expect, "the metadata is what the callback returned");
        is_int(count_files(dir), 2, "nothing but the core and its metadata (no temporary file left)");
        is_int(store_usage(s, &bytes, &files), 0, "store_usage");
        is_int(bytes, len + strlen(expect), "usage counts the core and its metadata");
        is_int(files, 1, "one dump");
        store_result_done(&res);
        ok(!res.core_path && !res.metadata_path, "store_result_done frees the paths");
        store_result_done(NULL);

        is_int(dump(s, "one", 10, 0, &res), -EEXIST, "an id already in the store is refused");

        /* An empty dump is still recorded. */
        is_int(dump(s, "empty", 0, 0, &res), 0, "an empty dump is written");
        is_int(res.cut, STORE_COMPLETE, "it is complete");
        is_int(res.bytes, 0, "with 0 bytes");
        is_int(size_of(dir, "empty.core"), 0, "an empty core exists");
        ok(exists(dir, "empty.json"), "with its metadata");
        store_result_done(&res);

        /* A metadata failure keeps nothing: a dump is the pair or nothing. */
        m = (struct meta_seen){ .fail = true };
        src = feed_start(&f, 1000, false);
        is_int(write_one(s, "nometa", src, 0, USEC_INFINITY, meta_cb, &m, &res), -EIO,
               "a failing metadata callback fails the dump");
        feed_finish(&f, src);
        ok(!exists(dir, "nometa.core") && !exists(dir, "nometa.json") && !any_temp(dir),
           "and leaves neither core, metadata nor temporary files");
        is_int(store_usage(s, &bytes, &files), 0, "store_usage");
        is_int(files, 2, "the failed dump is not counted");
}

/* A .zst file decompressed: exactly len bytes of the pattern, and a complete frame (the checksum held). */
static bool check_zst_pattern(const char *path, uint64_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        static uint8_t in[64 * 1024], out[256 * 1024];
        ZSTD_DCtx *dctx = ZSTD_createDCtx();
        uint64_t off = 0;
        size_t left = 1;
        bool good = fd >= 0 && dctx;

        while (good) {
                ssize_t k = read(fd, in, sizeof(in));
                if (k <= 0) {
                        good = k == 0 && left == 0;
                        break;
                }
                ZSTD_inBuffer ib = { in, (size_t) k, 0 };
                while (good && ib.pos < ib.size) {
                        ZSTD_outBuffer ob = { out, sizeof(out), 0 };
                        left = ZSTD_decompressStream(dctx, &ob, &ib);
                        if (ZSTD_isError(left)) {
                                printf("# %s: %s\n", path, ZSTD_getErrorName(left));
                                good = false;
                        }
                        for (size_t i = 0; good && i < ob.pos; i++)
                                good = out[i] == pattern(off + i);
                        off += ob.pos;
                }
        }
        ZSTD_freeDCtx(dctx);
        if (good && off != len)
                printf("# %s: %" PRIu64 " bytes, want %" PRIu64 "\n", path, off, len);
        return good && off == len;
}

/* Compressed while it arrives: <id>.core.zst, the stream exactly, quotas in compressed bytes. */
static void test_compress(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "z"), *keep = join(fs, "zkeep"), *off = join(fs, "zoff");
        _cleanup_free_ char *want_core = NULL, *zst = NULL;
        _cleanup_store_ struct dump_store *s = NULL, *k = NULL, *o = NULL;
        struct store_options opt = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct store_result res = {};
        struct meta_seen m = {};
        struct feeder f = {};
        uint64_t len = 9 * MiB + 123, bytes = 0;
        int src;

        opt.compress_level = STORE_COMPRESS_LEVEL_DEFAULT;
        opt.compressor = store_compress_copy;
        is_int(store_open(dir, &opt, &s), 0, "compress: store opened");
        src = feed_start(&f, len, false);
        is_int(write_one(s, "z1", src, 0, USEC_INFINITY, meta_cb, &m, &res), 0, "compress: written");
        feed_finish(&f, src);
        want_core = join(dir, "z1.core.zst");
        is_str(res.core_path, want_core, "compress: <id>.core.zst");
        ok(res.compressed, "compress: said so");
        is_int(res.cut, STORE_COMPLETE, "compress: complete");
        is_int(res.bytes, len, "compress: bytes counts the core, uncompressed");
        is_int(m.bytes, len, "compress: the metadata sees the uncompressed size");
        is_int(res.stored_bytes, size_of(dir, "z1.core.zst"), "compress: stored_bytes is the file's size");
        ok(res.stored_bytes < len / 10, "compress: a compressible core takes a fraction (%" PRIu64 " bytes)",
           res.stored_bytes);
        ok(check_zst_pattern(want_core, len), "compress: it decompresses to exactly the stream");
        ok(!exists(dir, "z1.core"), "compress: no uncompressed core beside it");
        is_int(store_usage(s, &bytes, NULL), 0, "compress: store_usage");
        is_int(bytes, res.stored_bytes + (uint64_t) size_of(dir, "z1.json"),
               "compress: usage counts the file");
        store_result_done(&res);
        is_int(dump(s, "z1", 10, 0, &res), -EEXIST, "compress: an id already kept compressed is refused");

        /* max_bytes counts the core's bytes, and the frame still ends. */
        src = feed_start(&f, 3 * MiB, false);
        is_int(write_one(s, "z2", src, MiB, USEC_INFINITY, meta_cb, NULL, &res), 0,
               "compress: max_bytes written");
        feed_finish(&f, src);
        is_int(res.cut, STORE_CUT_MAX, "compress: cut at max_bytes");
        is_int(res.bytes, MiB, "compress: max_bytes of the core");
        zst = join(dir, "z2.core.zst");
        ok(check_zst_pattern(zst, MiB), "compress: a cut core still decompresses, to its first max_bytes");
        store_result_done(&res);

        /* The quota counts what is on disk: 8 MiB of core in a 2 MiB store. */
        opt = opts(STORE_KEEP, 2 * MiB, false, 0, false, 0);
        opt.compress_level = 1;
        opt.compressor = store_compress_copy;
        is_int(store_open(keep, &opt, &k), 0, "compress quota: store opened");
        is_int(dump(k, "big", 8 * MiB, 0, &res), 0, "compress quota: written");
        is_int(res.cut, STORE_COMPLETE, "compress quota: 8 MiB of core fit 2 MiB compressed, whole");
        is_int(res.bytes, 8 * MiB, "compress quota: every byte");
        store_result_done(&res);
        /* A fresh scan (a restart) finds and counts the .zst. */
        store_unref(TAKE_PTR(k));
        is_int(store_open(keep, &opt, &k), 0, "compress quota: reopened");
        is_int(store_usage(k, &bytes, NULL), 0, "compress quota: store_usage after a rescan");
        is_int(bytes, (uint64_t) size_of(keep, "big.core.zst") + (uint64_t) size_of(keep, "big.json"),
               "compress quota: a rescan counts the .zst and its metadata");

        /* Level 0: the splice path, <id>.core. */
        opt = opts(STORE_ROTATE, 0, false, 0, false, 0);
        opt.compressor = store_compress_copy;
        is_int(store_open(off, &opt, &o), 0, "compress off: store opened");
        is_int(dump(o, "raw", 100 * KiB, 0, &res), 0, "compress off: written");
        ok(!res.compressed && exists(off, "raw.core") && !exists(off, "raw.core.zst"),
           "compress off: level 0 keeps <id>.core");
        is_int(res.stored_bytes, 100 * KiB, "compress off: stored_bytes is bytes");
        store_result_done(&res);
}

/* ---- at most STORE_COMPRESS_MAX compress at once; the others store raw ---- */

#define BOUND_WRITERS (STORE_COMPRESS_MAX + 2)

struct bound_arg {
        struct dump_store *s;
        char id[16];
        int src;
        int r;
        bool compressed;
};

static void *bound_writer(void *p)
{
        struct bound_arg *a = p;
        struct store_result res = {};

        a->r = write_one(a->s, a->id, a->src, 0, USEC_INFINITY, meta_cb, NULL, &res);
        a->compressed = res.compressed;
        store_result_done(&res);
        return NULL;
}

static void test_compress_bound(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "zbound");
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options opt = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct bound_arg args[BOUND_WRITERS] = {};
        struct feeder f[BOUND_WRITERS] = {};
        pthread_t threads[BOUND_WRITERS];
        int compressed = 0, stored = 0;

        opt.compress_level = STORE_COMPRESS_LEVEL_DEFAULT;
        opt.compressor = store_compress_copy;
        is_int(store_open(dir, &opt, &s), 0, "bound: store opened");
        /* Every writer in flight at once: each stream stays open after its data. */
        for (int i = 0; i < BOUND_WRITERS; i++) {
                args[i].s = s;
                (void) snprintf(args[i].id, sizeof(args[i].id), "b%d", i);
                args[i].src = feed_start(&f[i], 64 * 1024, true);
                pthread_create(&threads[i], NULL, bound_writer, &args[i]);
        }
        for (int tries = 0; tries < 500; tries++) {
                pthread_mutex_lock(&s->lock);
                unsigned n = s->n_writing;
                pthread_mutex_unlock(&s->lock);
                if (n == BOUND_WRITERS)
                        break;
                (void) usleep(10000);
        }
        pthread_mutex_lock(&s->lock);
        is_int(s->n_compressing, STORE_COMPRESS_MAX, "bound: %d writers, %d of them compressing",
               BOUND_WRITERS, STORE_COMPRESS_MAX);
        pthread_mutex_unlock(&s->lock);
        for (int i = 0; i < BOUND_WRITERS; i++) {
                feed_join(&f[i]);
                (void) shutdown(f[i].fd, SHUT_WR);
        }
        for (int i = 0; i < BOUND_WRITERS; i++) {
                pthread_join(threads[i], NULL);
                feed_finish(&f[i], args[i].src);
                stored += args[i].r == 0;
                compressed += args[i].r == 0 && args[i].compressed;
        }
        is_int(stored, BOUND_WRITERS, "bound: every dump kept");
        is_int(compressed, STORE_COMPRESS_MAX, "bound: the others uncompressed, not lost");
        pthread_mutex_lock(&s->lock);
        is_int(s->n_compressing, 0, "bound: every compression counted out");
        pthread_mutex_unlock(&s->lock);
}

static void test_cuts(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "cuts");
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct store_result res = {};
        struct feeder f = {};
        char buf[5000];
        int src, sv[2];

        is_int(store_open(dir, &o, &s), 0, "store_open");

        is_int(dump(s, "max", 100000, 4096, &res), 0, "a dump longer than max_bytes");
        is_int(res.cut, STORE_CUT_MAX, "is cut at max_bytes");
        is_int(res.bytes, 4096, "after exactly max_bytes");
        ok(check_pattern(res.core_path, 4096), "the kept part is the stream's start");
        store_result_done(&res);

        is_int(dump(s, "max-big", 3 * MiB, MiB + 1, &res), 0, "a long dump with max_bytes");
        is_int(res.cut, STORE_CUT_MAX, "is cut at max_bytes");
        is_int(res.bytes, MiB + 1, "after exactly max_bytes");
        ok(check_pattern(res.core_path, MiB + 1), "with the right bytes");
        store_result_done(&res);

        is_int(dump(s, "exact", 4096, 4096, &res), 0, "a dump of exactly max_bytes");
        is_int(res.cut, STORE_COMPLETE, "is complete, not cut");
        store_result_done(&res);

        /* A stalled writer: the partial dump is kept, blocking socket or not. */
        for (int nb = 0; nb <= 1; nb++) {
                const char *id = nb ? "stall-nonblock" : "stall";
                usec_t start;

                src = feed_start(&f, 10000, true);
                feed_join(&f); /* everything queued, the writer's end stays open */
                if (nb)
                        (void) io_fd_nonblock(src, true);
                start = io_now();
                is_int(write_one(s, id, src, 0, start + 300 * USEC_PER_MSEC, meta_cb, NULL, &res), 0,
                       "%s: a stalled dump is written", id);
                ok(io_now() - start >= 290 * USEC_PER_MSEC && io_now() - start < 5 * USEC_PER_SEC,
                   "%s: store_write returned at the deadline", id);
                is_int(res.cut, STORE_CUT_TIMEOUT, "%s: cut by the deadline", id);
                is_int(res.bytes, 10000, "%s: what arrived is kept", id);
                ok(check_pattern(res.core_path, 10000), "%s: the kept part is intact", id);
                store_result_done(&res);
                feed_finish(&f, src);
        }

        /*
         * A read error: an AF_UNIX stream peer that closes with unread data of
         * its own makes our end fail with ECONNRESET once the queue is drained.
         */
        ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        for (size_t i = 0; i < sizeof(buf); i++)
                buf[i] = (char) pattern(i);
        ok(write(sv[0], "x", 1) == 1 && write(sv[1], buf, sizeof(buf)) == (ssize_t) sizeof(buf),
           "queue data both ways");
        safe_close(sv[1]);
        is_int(write_one(s, "reset", sv[0], 0, USEC_INFINITY, meta_cb, NULL, &res), 0,
               "a dump whose stream fails is still written");
        is_int(res.cut, STORE_CUT_READ, "cut by the read error");
        is_int(res.bytes, sizeof(buf), "the data before the error is kept");
        ok(check_pattern(res.core_path, sizeof(buf)), "and intact");
        store_result_done(&res);
        safe_close(sv[0]);

        is_int(write_one(s, "notastream", -1, 0, USEC_INFINITY, meta_cb, NULL, &res), -EINVAL,
               "a negative fd is refused");
        ok(!any_temp(dir), "no temporary file left behind by any of these");
}

static void test_rotate(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "rotate"), *dir2 = join(fs, "rotate-cut");
        _cleanup_store_ struct dump_store *s = NULL, *s2 = NULL;
        struct store_options o = opts(STORE_ROTATE, 4 * MiB, false, 0, false, 0);
        struct store_result res = {};
        uint64_t bytes = 0;
        unsigned files = 0;

        is_int(store_open(dir, &o, &s), 0, "store_open (rotate, max_use 4M)");
        ok(dump(s, "old1", MiB, 0, &res) == 0 && res.cut == STORE_COMPLETE, "old1 written");
        store_result_done(&res);
        ok(dump(s, "old2", MiB, 0, &res) == 0 && res.cut == STORE_COMPLETE, "old2 written");
        store_result_done(&res);
        ok(dump(s, "old3", MiB, 0, &res) == 0 && res.cut == STORE_COMPLETE, "old3 written");
        store_result_done(&res);
        /* Age decides, not the order of writing; the store only learns it by rescanning. */
        ok(set_mtime(dir, "old2.core", 1000) && set_mtime(dir, "old1.core", 2000) &&
                   set_mtime(dir, "old3.core", 3000),
           "old2 is made the oldest");
        ok(touch(dir, "notes.txt") && touch(dir, "README.json") && set_mtime(dir, "notes.txt", 1) &&
                   set_mtime(dir, "README.json", 1),
           "files that are not ours, older than any dump");

        is_int(dump(s, "new", MiB + MiB / 2, 0, &res), 0, "a dump that needs room");
        is_int(res.cut, STORE_COMPLETE, "fits completely after rotation");
        store_result_done(&res);
        ok(!exists(dir, "old2.core") && !exists(dir, "old2.json"),
           "the oldest dump went, core and metadata");
        ok(exists(dir, "old1.core") && exists(dir, "old3.core") && exists(dir, "new.core"),
           "the others stayed");
        ok(exists(dir, "notes.txt") && exists(dir, "README.json"),
           "files that are not ours are never deleted");
        is_int(store_usage(s, &bytes, &files), 0, "store_usage");
        is_int(files, 3, "three dumps");
        ok(bytes <= 4 * MiB, "within max_use");

        /* Nothing left to delete: the current dump is cut, never deleted. */
        o.max_use.value = MiB;
        is_int(store_open(dir2, &o, &s2), 0, "store_open (rotate, max_use 1M)");
        ok(dump(s2, "small", 100 * KiB, 0, &res) == 0, "a small dump");
        store_result_done(&res);
        is_int(dump(s2, "huge", 3 * MiB, 0, &res), 0, "a dump larger than max_use");
        is_int(res.cut, STORE_CUT_QUOTA, "is cut by the quota");
        ok(res.bytes > 512 * KiB && res.bytes < MiB, "after using what room there was (%" PRIu64 ")",
           res.bytes);
        ok(check_pattern(res.core_path, res.bytes), "the kept part is intact");
        ok(!exists(dir2, "small.core") && !exists(dir2, "small.json"), "the older dump was rotated away");
        ok(exists(dir2, "huge.core") && exists(dir2, "huge.json"), "the current dump was kept");
        store_result_done(&res);
        is_int(store_usage(s2, &bytes, &files), 0, "store_usage");
        ok(bytes <= MiB && files == 1, "within max_use, one dump");
}

static void test_keep(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "keep"), *dir2 = join(fs, "files-keep");
        _cleanup_free_ char *dir3 = join(fs, "files-rot");
        _cleanup_free_ char *core = NULL, *json = NULL;
        _cleanup_store_ struct dump_store *s = NULL, *s2 = NULL, *s3 = NULL;
        struct store_options o = opts(STORE_KEEP, MiB, false, 0, false, 0);
        struct store_result res = {};
        uint64_t bytes = 0;
        unsigned files = 0;

        is_int(store_open(dir, &o, &s), 0, "store_open (keep, max_use 1M)");
        is_int(store_check_room(s, NULL), 0, "an empty store has room");
        is_int(dump(s, "k1", 3 * MiB, 0, &res), 0, "a dump larger than the room");
        is_int(res.cut, STORE_CUT_QUOTA, "is cut by the quota");
        ok(res.bytes > 512 * KiB && res.bytes < MiB, "after using the room (%" PRIu64 ")", res.bytes);
        store_result_done(&res);
        is_int(store_check_room(s, NULL), -EDQUOT, "a full store refuses with EDQUOT");
        is_int(dump(s, "k2", 1000, 0, &res), -EDQUOT, "and so does store_write");
        ok(!exists(dir, "k2.core") && !exists(dir, "k2.json") && !any_temp(dir), "leaving nothing behind");
        ok(exists(dir, "k1.core"), "the kept dump was not touched");

        /* Someone makes room behind our back: the store notices. */
        core = join(dir, "k1.core");
        json = join(dir, "k1.json");
        ok(unlink(core) == 0 && unlink(json) == 0, "the dump is deleted by hand");
        is_int(store_check_room(s, NULL), 0, "the store has room again");
        is_int(store_usage(s, &bytes, &files), 0, "store_usage");
        ok(bytes == 0 && files == 0, "and knows it is empty");

        /* max_files, keeping. */
        o = opts(STORE_KEEP, 0, false, 0, false, 2);
        is_int(store_open(dir2, &o, &s2), 0, "store_open (keep, max_files 2)");
        ok(dump(s2, "f1", 1000, 0, &res) == 0, "first dump");
        store_result_done(&res);
        ok(dump(s2, "f2", 1000, 0, &res) == 0, "second dump");
        store_result_done(&res);
        is_int(store_check_room(s2, NULL), -EDQUOT, "max_files reached: EDQUOT");
        is_int(dump(s2, "f3", 1000, 0, &res), -EDQUOT, "a third dump is refused");
        is_int(count_files(dir2), 4, "two dumps, nothing else");

        /* max_files, rotating. */
        o.policy = STORE_ROTATE;
        is_int(store_open(dir3, &o, &s3), 0, "store_open (rotate, max_files 2)");
        ok(dump(s3, "r1", 1000, 0, &res) == 0, "first dump");
        store_result_done(&res);
        ok(dump(s3, "r2", 1000, 0, &res) == 0, "second dump");
        store_result_done(&res);
        ok(set_mtime(dir3, "r2.core", 1000) && set_mtime(dir3, "r1.core", 2000), "r2 is made the oldest");
        is_int(store_check_room(s3, NULL), 0, "a rotating store makes room");
        ok(!exists(dir3, "r2.core") && exists(dir3, "r1.core"), "by deleting the oldest");
        ok(dump(s3, "r3", 1000, 0, &res) == 0 && res.cut == STORE_COMPLETE, "third dump");
        store_result_done(&res);
        ok(dump(s3, "r4", 1000, 0, &res) == 0 && res.cut == STORE_COMPLETE, "fourth dump");
        store_result_done(&res);
        ok(exists(dir3, "r3.core") && exists(dir3, "r4.core") && !exists(dir3, "r1.core"),
           "the newest two stay");
        is_int(store_usage(s3, &bytes, &files), 0, "store_usage");
        is_int(files, 2, "two dumps");
}

static void test_keep_free(void)
{
        _cleanup_free_ char *fs = fresh_fs("keepfree", "16m");
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(STORE_KEEP, 0, false, 50, true, 0);
        struct store_result res = {};

        if (!ok(fs, "a 16M tmpfs for keep_free"))
                return;
        is_int(store_open(fs, &o, &s), 0, "store_open (keep, keep_free 50%%)");
        is_int(dump(s, "kf", 12 * MiB, 0, &res), 0, "a 12M dump on a 16M filesystem");
        is_int(res.cut, STORE_CUT_QUOTA, "is cut to keep half the filesystem free");
        ok(res.bytes > 7 * MiB && res.bytes <= 8 * MiB, "after about 8M (%" PRIu64 ")", res.bytes);
        ok(fs_avail(fs) >= 8 * MiB, "8M are still free (%" PRIu64 ")", fs_avail(fs));
        ok(check_pattern(res.core_path, res.bytes), "the kept part is intact");
        store_result_done(&res);
        is_int(store_check_room(s, NULL), -ENOSPC, "the store refuses more with ENOSPC");
}

static void test_disk_full(void)
{
        _cleanup_free_ char *fs = fresh_fs("full", "4m"), *filler = NULL, *text = NULL;
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct store_result res = {};
        _cleanup_close_ int fd = -EBADF;
        uint64_t fill;
        char expect[128];

        if (!ok(fs, "a 4M tmpfs to fill"))
                return;
        filler = join(fs, "filler");
        fd = open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        fill = fs_avail(fs) - 512 * KiB;
        ok(fd >= 0 && fallocate(fd, 0, 0, (off_t) fill) == 0, "fill all but 512K");

        is_int(store_open(fs, &o, &s), 0, "store_open (no quota)");
        is_int(dump(s, "full", 4 * MiB, 0, &res), 0, "a dump larger than the free space");
        is_int(res.cut, STORE_CUT_QUOTA, "is marked as cut by the quota when the disk fills up");
        ok(res.bytes > 256 * KiB && res.bytes < 512 * KiB, "what fit was kept (%" PRIu64 ")", res.bytes);
        is_int(size_of(fs, "full.core"), res.bytes, "the core has exactly those bytes");
        ok(check_pattern(res.core_path, res.bytes), "and they are intact");
        (void) snprintf(expect, sizeof(expect), "{\"bytes\":%" PRIu64 ",\"cut\":\"quota\"}\n", res.bytes);
        is_int(io_read_file_at(AT_FDCWD, res.metadata_path, 4096, &text, NULL), 0,
               "the metadata was written on a full disk");
        is_str(text, expect, "and says so");
        ok(!any_temp(fs), "no temporary file left");
        store_result_done(&res);
}

/* ---- concurrency ---- */

#define N_WRITERS 4
#define N_ROUNDS  3

struct conc {
        struct dump_store *store;
        const char *dir;
        uint64_t len;
        int rounds;
        uint64_t max_use;
        bool done;
        uint64_t max_seen;
        uint64_t max_over;
        int results[N_WRITERS][N_ROUNDS];
        enum store_cut cuts[N_WRITERS][N_ROUNDS];
};

struct conc_arg {
        struct conc *c;
        int index;
};

static void *conc_writer(void *p)
{
        struct conc_arg *a = p;

        for (int round = 0; round < a->c->rounds; round++) {
                struct store_result res = {};
                char id[32];

                (void) snprintf(id, sizeof(id), "c%d-%d", a->index, round);
                a->c->results[a->index][round] = dump(a->c->store, id, a->c->len, 0, &res);
                a->c->cuts[a->index][round] = res.cut;
                store_result_done(&res);
        }
        return NULL;
}

/*
 * Samples the filesystem's used space: an atomic snapshot (summing file sizes
 * one stat at a time counts a rotated dump and its successor both). tmpfs
 * allocates whole pages, so each file may hold up to one page more than its
 * size; the file count is not atomic, hence a small margin.
 */
static void *conc_monitor(void *p)
{
        struct conc *c = p;

        while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE)) {
                struct statvfs sv;
                int files = count_files(c->dir);

                if (statvfs(c->dir, &sv) == 0 && files >= 0) {
                        uint64_t used = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
                        uint64_t slack = (uint64_t) (files + 8) * sv.f_frsize;

                        c->max_seen = MAX(c->max_seen, used);
                        if (used > c->max_use + slack)
                                c->max_over = MAX(c->max_over, used - c->max_use - slack);
                }
                (void) usleep(200);
        }
        return NULL;
}

static void test_concurrent(enum store_policy policy, uint64_t len, int rounds)
{
        _cleanup_free_ char *fs = fresh_fs(policy == STORE_KEEP ? "conc-keep" : "conc-rotate", "16m");
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(policy, 6 * MiB, false, 0, false, 0);
        const char *name = policy == STORE_KEEP ? "keep" : "rotate";
        struct conc c = { .dir = fs, .len = len, .rounds = rounds, .max_use = 6 * MiB };
        struct conc_arg args[N_WRITERS];
        pthread_t threads[N_WRITERS], monitor;
        int stored = 0, refused = 0, other = 0;
        uint64_t bytes = 0, on_disk = 0;
        unsigned files = 0;

        if (!ok(fs, "%s: a 16M tmpfs for concurrent writers", name))
                return;
        is_int(store_open(fs, &o, &s), 0, "%s: store_open (max_use 6M)", name);
        c.store = s;
        pthread_create(&monitor, NULL, conc_monitor, &c);
        for (int i = 0; i < N_WRITERS; i++) {
                args[i] = (struct conc_arg){ .c = &c, .index = i };
                pthread_create(&threads[i], NULL, conc_writer, &args[i]);
        }
        for (int i = 0; i < N_WRITERS; i++)
                pthread_join(threads[i], NULL);
        __atomic_store_n(&c.done, true, __ATOMIC_RELEASE);
        pthread_join(monitor, NULL);

        for (int i = 0; i < N_WRITERS; i++)
                for (int round = 0; round < rounds; round++) {
                        int r = c.results[i][round];
                        if (r == 0)
                                stored++;
                        else if (r == -EDQUOT)
                                refused++;
                        else
                                other++;
                }
        ok(stored > 0 && other == 0, "%s: %d dumps stored, %d refused, no other outcome", name, stored,
           refused);
        is_int(c.max_over, 0, "%s: the writers together never exceeded max_use (at most %" PRIu64 " used)",
               name, c.max_seen);
        is_int(store_usage(s, &bytes, &files), 0, "%s: store_usage", name);
        {
                _cleanup_closedir_ DIR *d = opendir(fs);
                for (struct dirent *de; d && (de = readdir(d));)
                        if (de->d_name[0] != '.') {
                                int64_t sz = size_of(fs, de->d_name);
                                on_disk += sz > 0 ? (uint64_t) sz : 0;
                        }
        }
        is_int(bytes, on_disk, "%s: the accounting matches the directory", name);
        ok(bytes <= 6 * MiB, "%s: within max_use at the end", name);
        ok(!any_temp(fs), "%s: no temporary file left", name);
}

static void test_leftovers(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "leftovers");
        _cleanup_store_ struct dump_store *s = NULL;
        static const char *const names[] = { ".old.core.partial", ".old.json.partial", "notes.txt",
                                             ".hidden",           "x.core.partial",    ".busy.core.partial",
                                             "prev.core",         "prev.json" };
        struct store_options o = opts(STORE_ROTATE, 0, false, 0, false, 0);
        _cleanup_close_ int busy = -EBADF;
        uint64_t bytes = 0;
        unsigned files = 0;
        bool made = mkdir(dir, 0700) == 0;

        for (size_t i = 0; made && i < ARRAY_SIZE(names); i++) {
                _cleanup_free_ char *p = join(dir, names[i]);
                int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

                made = fd >= 0 && write(fd, "0123456789", 10) == 10;
                if (strcmp(names[i], ".busy.core.partial") == 0)
                        busy = fd; /* a writer of another store instance still holds this one */
                else
                        safe_close(fd);
        }
        ok(made && flock(busy, LOCK_EX) == 0, "leftover, foreign and in-use files prepared");

        is_int(store_open(dir, &o, &s), 0, "store_open");
        ok(!exists(dir, ".old.core.partial") && !exists(dir, ".old.json.partial"),
           "temporary files of a crashed writer are removed");
        ok(exists(dir, ".busy.core.partial"), "a temporary file still being written is not");
        ok(exists(dir, "notes.txt") && exists(dir, ".hidden") && exists(dir, "x.core.partial"),
           "files that are not ours are left alone");
        is_int(store_usage(s, &bytes, &files), 0, "store_usage");
        is_int(files, 1, "the earlier dump is counted");
        is_int(bytes, 20, "with its core and metadata");
}

static void test_ids(const char *fs)
{
        _cleanup_free_ char *dir = join(fs, "ids");
        _cleanup_store_ struct dump_store *s = NULL;
        struct store_options o = opts(STORE_ROTATE, 0, false, 0, false, 0);
        struct store_result res = {};
        char long_id[130];
        static const char *const bad[] = { "", "a/b", ".hidden", "..", "/abs" };

        is_int(store_open(dir, &o, &s), 0, "store_open");
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                is_int(dump(s, bad[i], 10, 0, &res), -EINVAL, "id \"%s\" is refused", bad[i]);
        is_int(write_one(s, NULL, 0, 0, USEC_INFINITY, meta_cb, NULL, &res), -EINVAL,
               "a NULL id is refused");
        memset(long_id, 'a', 129);
        long_id[129] = 0;
        is_int(dump(s, long_id, 10, 0, &res), -EINVAL, "a 129-byte id is refused");
        long_id[128] = 0;
        is_int(dump(s, long_id, 10, 0, &res), 0, "a 128-byte id is accepted");
        store_result_done(&res);
        is_int(count_files(dir), 2, "only the accepted dump was written");
}

int main(void)
{
        _cleanup_free_ char *fs = NULL;
        int before;

        if (geteuid() != 0)
                tap_skip_all("needs root to mount a private tmpfs");
        if (unshare(CLONE_NEWNS) < 0)
                tap_skip_all("cannot create a mount namespace: %m");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                tap_skip_all("cannot make mounts private: %m");
        if (!mkdtemp(base))
                tap_skip_all("mkdtemp: %m");
        /* One tmpfs holds all the others: detaching it at the end takes them along. */
        if (mount("tmpfs", base, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0755") < 0) {
                (void) rmdir(base);
                tap_skip_all("cannot mount tmpfs: %m");
        }

        before = count_fds();

        is_str(store_cut_to_string(STORE_COMPLETE), "complete", "cut names: complete");
        is_str(store_cut_to_string(STORE_CUT_QUOTA), "quota", "cut names: quota");
        is_str(store_cut_to_string(STORE_CUT_MAX), "max-bytes", "cut names: max-bytes");
        is_str(store_cut_to_string(STORE_CUT_TIMEOUT), "timeout", "cut names: timeout");
        is_str(store_cut_to_string(STORE_CUT_READ), "read-error", "cut names: read-error");
        ok(store_cut_to_string((enum store_cut) 99) == NULL, "cut names: out of range");

        fs = fresh_fs("main", "40m");
        if (!ok(fs, "a 40M tmpfs for the basic tests")) {
                (void) umount2(base, MNT_DETACH);
                (void) rmdir(base);
                return tap_done();
        }
        test_complete(fs);
        test_compress(fs);
        test_compress_bound(fs);
        test_cuts(fs);
        test_rotate(fs);
        test_keep(fs);
        test_leftovers(fs);
        test_ids(fs);
        test_keep_free();
        test_disk_full();
        test_concurrent(STORE_KEEP, 3 * MiB, 1);
        test_concurrent(STORE_ROTATE, MiB + MiB / 2, N_ROUNDS);

        is_int(count_fds(), before, "no fd leaked");

        (void) umount2(base, MNT_DETACH);
        (void) rmdir(base);
        return tap_done();
}
