/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The dump writer's entry points and one dump's way onto disk:
 *
 *   temporary core + metadata files → splice copy within the quota →
 *   fdatasync → metadata → rename both → fsync the directory → counted.
 *
 * A dump is kept with its metadata, durably, or not at all.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "kernel/splice-copy.h"
#include "proxy/base/fault.h"
#include "proxy/store/internal.h"

static const char *const cut_names[_STORE_CUT_MAX] = {
        [STORE_COMPLETE] = "complete",       [STORE_CUT_QUOTA] = "quota",
        [STORE_CUT_MAX] = "max-bytes",       [STORE_CUT_TIMEOUT] = "timeout",
        [STORE_CUT_STALLED] = "no-progress", [STORE_CUT_READ] = "read-error",
};

const char *store_cut_to_string(enum store_cut c)
{
        return (size_t) c < ARRAY_SIZE(cut_names) ? cut_names[c] : NULL;
}

void store_result_done(struct store_result *r)
{
        if (!r)
                return;
        r->core_path = mfree_str(r->core_path);
        r->metadata_path = mfree_str(r->metadata_path);
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

int store_open(const char *directory, const struct store_options *options, struct dump_store **ret)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *path = NULL;
        struct dump_store *s;
        int r;

        if (!directory || !*directory || !ret)
                return -EINVAL;

        r = io_mkdir_parents(directory);
        if (r >= 0 && mkdir(directory, 0700) < 0 && errno != EEXIST)
                r = negative_errno();
        if (r < 0)
                return r;
        /* O_NOFOLLOW: dumps of other users' processes must not land where a symlink points. */
        fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return negative_errno();
        /* Result paths are absolute: they end up in event lines and metadata read elsewhere. */
        path = realpath(directory, NULL);
        if (!path)
                return negative_errno();

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *s = (struct dump_store){
                .refs = 1,
                .dir_fd = TAKE_FD(fd),
                .path = TAKE_PTR(path),
                .options = options ? *options : (struct store_options){},
        };
        r = pthread_mutex_init(&s->lock, NULL);
        if (r != 0) {
                safe_close(s->dir_fd);
                free(s->path);
                free(s);
                return -r;
        }

        r = quota_scan(s, true);
        if (r < 0) {
                store_unref(s);
                return r;
        }
        *ret = s;
        return 0;
}

struct dump_store *store_ref(struct dump_store *s)
{
        if (s)
                __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
        return s;
}

void store_unref(struct dump_store *s)
{
        if (!s || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        quota_entries_free(s->entries, s->n_entries);
        pthread_mutex_destroy(&s->lock);
        safe_close(s->dir_fd);
        free(s->path);
        free(s);
}

void store_set_options(struct dump_store *s, const struct store_options *options)
{
        pthread_mutex_lock(&s->lock);
        s->options = *options;
        pthread_mutex_unlock(&s->lock);
}

int store_check_room(struct dump_store *s, const char *source)
{
        uint64_t room;
        int r;

        if (!s)
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        r = quota_make_slot(s, source);
        if (r >= 0)
                r = quota_make_room(s, source, MIN_ROOM, &room, NULL);
        pthread_mutex_unlock(&s->lock);
        return r < 0 ? r : 0;
}

int store_usage(struct dump_store *s, uint64_t *ret_bytes, unsigned *ret_files)
{
        if (!s)
                return -EINVAL;
        if (ret_bytes)
                *ret_bytes = __atomic_load_n(&s->used, __ATOMIC_RELAXED);
        if (ret_files)
                *ret_files =
                        (unsigned) MIN(__atomic_load_n(&s->n_used, __ATOMIC_RELAXED), (size_t) UINT_MAX);
        return 0;
}

/* ---- one writer ------------------------------------------------------------ */

/* Registers a writer: a max_files slot, the metadata allowance and a first chunk of room. */
static int writer_begin(struct dump_store *s, struct store_writer *w)
{
        char core[NAME_MAX_LEN], json[NAME_MAX_LEN];
        uint64_t room, chunk;
        int r;

        char zst[NAME_MAX_LEN];

        (void) snprintf(core, sizeof(core), "%s.core", w->id);
        (void) snprintf(zst, sizeof(zst), "%s.core.zst", w->id);
        (void) snprintf(json, sizeof(json), "%s.json", w->id);

        pthread_mutex_lock(&s->lock);
        if (s->options.compressor && s->options.compress_level > 0 &&
            s->n_compressing < STORE_COMPRESS_MAX) {
                w->compress_level = s->options.compress_level;
                w->compressor = s->options.compressor;
        }
        if (quota_writer_active(s, w->id)) {
                r = -EEXIST;
                goto unlock;
        }
        r = store_file_exists(s->dir_fd, core);
        if (r == 0)
                r = store_file_exists(s->dir_fd, zst);
        if (r == 0)
                r = store_file_exists(s->dir_fd, json);
        if (r != 0) {
                r = r > 0 ? -EEXIST : r;
                goto unlock;
        }
        r = quota_make_slot(s, w->source);
        if (r < 0)
                goto unlock;
        r = quota_make_room(s, w->source, MIN_ROOM, &room, &chunk);
        if (r < 0)
                goto unlock;

        w->reserved = MIN(room, METADATA_RESERVE + (w->max_bytes > 0 ? MIN(w->max_bytes, chunk) : chunk));
        s->reserved += w->reserved;
        w->next = s->writers;
        s->writers = w;
        s->n_writing++;
        if (w->compress_level > 0) {
                w->compressing = true;
                s->n_compressing++;
        }
unlock:
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* Gives back what the writer still holds; committed says its bytes now count as used. */
static void writer_end(struct dump_store *s, struct store_writer *w)
{
        pthread_mutex_lock(&s->lock);
        s->reserved = sub_sat(s->reserved, w->reserved);
        w->reserved = 0;
        for (struct store_writer **p = &s->writers; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        if (!w->committed)
                s->n_writing--;
        if (w->compressing) {
                w->compressing = false;
                s->n_compressing--;
        }
        pthread_mutex_unlock(&s->lock);
}

struct copy_ctx {
        struct dump_store *s;
        struct store_writer *w;
};

/*
 * The copy's budget: what the reservation still covers, topped up chunk by
 * chunk within the quota; 0 at max_bytes (noted, so the cut can be told
 * from the quota's) or when the quota leaves nothing.
 */
static uint64_t writer_budget(void *userdata, uint64_t copied)
{
        struct copy_ctx *c = userdata;
        struct dump_store *s = c->s;
        struct store_writer *w = c->w;
        uint64_t budget, limit = UINT64_MAX, room, chunk;

        __atomic_store_n(&w->written, copied, __ATOMIC_RELAXED);
        /* Compressing, max_bytes counts the core's bytes: the compressor stops there itself. */
        if (w->max_bytes > 0 && w->compress_level == 0) {
                if (copied >= w->max_bytes) {
                        w->max_reached = true;
                        return 0;
                }
                limit = w->max_bytes - copied;
        }

        pthread_mutex_lock(&s->lock);
        budget = sub_sat(w->reserved, METADATA_RESERVE + copied);
        if (budget == 0 && quota_make_room(s, w->source, 1, &room, &chunk) >= 0) {
                uint64_t grant = MIN(MIN(room, chunk), limit);

                w->reserved += grant;
                s->reserved += grant;
                budget = grant;
        }
        pthread_mutex_unlock(&s->lock);
        return MIN(budget, limit);
}

/* After max_bytes: did the stream end right there? Never blocks. */
static bool at_eof(int fd)
{
        char c;
        ssize_t k = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

        if (k == 0)
                return true;
        if (k < 0 && errno == ENOTSOCK) {
                /* A pipe (the intake for older kernels): hung up with nothing left to read. */
                struct pollfd p = { .fd = fd, .events = POLLIN };

                return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLIN)) == POLLHUP;
        }
        return false;
}

static enum store_cut cut_of(enum splice_stop stop, struct store_writer *w, int src)
{
        switch (stop) {
        case SPLICE_STOP_EOF:
                return STORE_COMPLETE;
        case SPLICE_STOP_BUDGET:
                if (!w->max_reached)
                        return STORE_CUT_QUOTA;
                return at_eof(src) ? STORE_COMPLETE : STORE_CUT_MAX;
        case SPLICE_STOP_FILE_FULL:
                return STORE_CUT_QUOTA;
        case SPLICE_STOP_DEADLINE:
                return STORE_CUT_TIMEOUT;
        case SPLICE_STOP_STALLED:
                return STORE_CUT_STALLED;
        case SPLICE_STOP_READ:
                break;
        }
        return STORE_CUT_READ;
}

/* The temporary and final names of one dump's two files. */
struct names {
        char core[NAME_MAX_LEN], json[NAME_MAX_LEN];
        char core_tmp[NAME_MAX_LEN], json_tmp[NAME_MAX_LEN];
};

static void names_init(struct names *n, const char *id, bool compressed)
{
        (void) snprintf(n->core, sizeof(n->core), compressed ? "%s.core.zst" : "%s.core", id);
        (void) snprintf(n->json, sizeof(n->json), "%s.json", id);
        (void) snprintf(n->core_tmp, sizeof(n->core_tmp), ".%s.core.partial", id);
        (void) snprintf(n->json_tmp, sizeof(n->json_tmp), ".%s.json.partial", id);
}

/* The core compressed into its temporary file while it arrives. */
static int compress_core(struct dump_store *s, struct store_writer *w, const struct store_request *req,
                         int fd, struct store_result *res)
{
        _cleanup_free_ void *head = malloc(HEAD_MAX);
        struct copy_ctx ctx = { .s = s, .w = w };
        struct store_compress c = {
                .src = req->src,
                .dst = fd,
                .level = w->compress_level,
                .deadline = req->deadline,
                .stall_timeout = req->stall_timeout,
                .max_in = w->max_bytes,
                .budget = writer_budget,
                .userdata = &ctx,
                .progress = req->progress,
                .head = head,
                .head_max = head ? HEAD_MAX : 0,
        };
        struct store_compress_result z = {};
        int r;

        r = w->compressor(&c, &z);
        if (r < 0)
                return r;
        __atomic_store_n(&w->written, z.out, __ATOMIC_RELAXED);
        w->max_reached = w->max_bytes > 0 && z.in >= w->max_bytes;
        res->bytes = z.in;
        res->stored_bytes = z.out;
        res->compressed = true;
        res->cut = cut_of(z.stop, w, req->src);
        if (z.head_len > 0)
                (void) elf_core_psargs_buf(head, z.head_len, res->cmdline);
        return 0;
}

/* The core, copied into its temporary file (compressed or spliced) and on disk. */
static int write_core(struct dump_store *s, struct store_writer *w, const struct store_request *req, int fd,
                      struct store_result *res)
{
        struct copy_ctx ctx = { .s = s, .w = w };
        struct splice_copy copy = {
                .src = req->src,
                .dst = fd,
                .deadline = req->deadline,
                .stall_timeout = req->stall_timeout,
                .budget = writer_budget,
                .userdata = &ctx,
                .progress = req->progress,
        };
        enum splice_stop stop;
        uint64_t copied = 0;
        int r;

        if (w->compress_level > 0) {
                r = compress_core(s, w, req, fd, res);
                if (r < 0)
                        return r;
        } else {
                r = splice_copy(&copy, &copied, &stop);
                if (r < 0)
                        return r;
                __atomic_store_n(&w->written, copied, __ATOMIC_RELAXED);
                res->bytes = res->stored_bytes = copied;
                res->cut = cut_of(stop, w, req->src);
                /* From the page cache, just written: cheaper and safer than the task's memory. */
                if (copied > 0)
                        (void) elf_core_psargs(fd, res->cmdline);
        }
        /* Whose dump it is survives a restart of the daemon, for fair rotation. */
        if (req->source)
                (void) fsetxattr(fd, SOURCE_XATTR, req->source, strlen(req->source), 0);
        if (fdatasync(fd) < 0)
                return negative_errno();
        return 0;
}

/* The metadata, written over its preallocated room, trimmed and on disk. */
static int write_metadata(int fd, const struct store_request *req, const struct store_result *res)
{
        _cleanup_free_ char *doc = NULL;
        size_t len = 0;
        int r;

        r = req->metadata(req->userdata, res, &doc, &len);
        if (r < 0)
                return r;
        r = fault_hit("store-metadata") ? -EIO : io_write_all(fd, doc, len);
        if (r < 0)
                return r;
        /* Gives back what the preallocation did not need. */
        if (ftruncate(fd, (off_t) len) < 0 || fdatasync(fd) < 0)
                return negative_errno();
        return 0;
}

/*
 * Makes both files visible and counts them: the core first (a .json never
 * describes a core that is not there), then the metadata, then the
 * directory is synced so that both renames survive a power cut.
 */
static int commit(struct dump_store *s, struct store_writer *w, const struct names *n, int core_fd,
                  int json_fd)
{
        struct stat cs, js;
        int r;

        if (fstat(core_fd, &cs) < 0 || fstat(json_fd, &js) < 0)
                return negative_errno();

        pthread_mutex_lock(&s->lock);
        r = store_rename_noreplace(s->dir_fd, n->core_tmp, n->core);
        if (r < 0)
                goto unlock;
        r = store_rename_noreplace(s->dir_fd, n->json_tmp, n->json);
        if (r < 0) {
                (void) unlinkat(s->dir_fd, n->core, 0);
                goto unlock;
        }
        if (fsync(s->dir_fd) < 0) {
                r = negative_errno();
                (void) unlinkat(s->dir_fd, n->json, 0);
                (void) unlinkat(s->dir_fd, n->core, 0);
                goto unlock;
        }
        r = quota_add_entry(s, w->id, w->source, &cs.st_mtim, (uint64_t) cs.st_size + (uint64_t) js.st_size);
        if (r < 0)
                goto unlock;
        /* The bytes now count as used: they leave the writer's reservation. */
        uint64_t moved = MIN(w->reserved, (uint64_t) cs.st_size + (uint64_t) js.st_size);
        s->reserved = sub_sat(s->reserved, moved);
        w->reserved -= moved;
        /* Its max_files slot is now the entry's. */
        w->committed = true;
        s->n_writing--;
unlock:
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int write_dump(struct dump_store *s, struct store_writer *w, const struct store_request *req,
                      struct store_result *ret)
{
        _cleanup_close_ int core_fd = -EBADF, json_fd = -EBADF;
        _cleanup_free_ char *core_path = NULL, *json_path = NULL;
        struct store_result res = {};
        struct names n;
        int r;

        names_init(&n, w->id, w->compress_level > 0);
        core_path = store_path_join(s->path, n.core);
        json_path = store_path_join(s->path, n.json);
        if (!core_path || !json_path)
                return -ENOMEM;

        r = store_create_temp(s->dir_fd, n.core_tmp, &core_fd);
        if (r < 0)
                return r;
        r = store_create_temp(s->dir_fd, n.json_tmp, &json_fd);
        if (r < 0)
                goto fail;
        if (fallocate(json_fd, 0, 0, (off_t) METADATA_RESERVE) == 0) {
                __atomic_store_n(&w->preallocated, METADATA_RESERVE, __ATOMIC_RELAXED);
        } else if (errno == ENOSPC || errno == EDQUOT) {
                r = -ENOSPC; /* not even the metadata fits: nothing can be kept */
                goto fail;
        }
        /* Otherwise the filesystem cannot preallocate: go on without the guarantee. */

        r = write_core(s, w, req, core_fd, &res);
        if (r < 0)
                goto fail;
        res.core_path = core_path;
        res.metadata_path = json_path;
        r = write_metadata(json_fd, req, &res);
        if (r < 0)
                goto fail;
        r = commit(s, w, &n, core_fd, json_fd);
        if (r < 0)
                goto fail;

        ret->bytes = res.bytes;
        ret->stored_bytes = res.stored_bytes;
        ret->compressed = res.compressed;
        ret->cut = res.cut;
        ret->core_path = TAKE_PTR(core_path);
        ret->metadata_path = TAKE_PTR(json_path);
        return 0;

fail:
        (void) unlinkat(s->dir_fd, n.json_tmp, 0);
        (void) unlinkat(s->dir_fd, n.core_tmp, 0);
        return r;
}

int store_write(struct dump_store *s, const struct store_request *req, struct store_result *ret)
{
        struct store_writer w;
        int r;

        if (!s || !req || req->src < 0 || !req->metadata || !ret || !store_id_valid(req->id))
                return -EINVAL;

        w = (struct store_writer){ .id = req->id, .source = req->source, .max_bytes = req->max_bytes };
        r = writer_begin(s, &w);
        if (r < 0)
                return r;
        r = write_dump(s, &w, req, ret);
        writer_end(s, &w);
        return r;
}
