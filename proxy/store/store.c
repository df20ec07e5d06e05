/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/store/store.h"

#define STORE_ID_MAX 128
/*
 * Held back from the first reservation of every dump and preallocated on
 * disk for its .json: a dump cut by a full disk or quota still gets its
 * metadata. Larger metadata is written anyway and may overshoot by the excess.
 */
#define METADATA_RESERVE ((uint64_t) 64 * 1024)
/* A dump is not started with less room than this: a core without its first page tells nobody anything. */
#define MIN_ROOM (METADATA_RESERVE + 4096)
/*
 * Quota is reserved in chunks so that concurrent writers cannot together
 * overshoot max_use; a small quota gets smaller chunks, so that one writer
 * does not hold back room that the others need.
 */
#define RESERVE_CHUNK_MAX        ((uint64_t) 4 * 1024 * 1024)
#define RESERVE_CHUNK_MIN        ((uint64_t) 64 * 1024)
#define RESERVE_CHUNKS_PER_QUOTA 16
#define PIPE_SIZE_WANT           (1024 * 1024)
/*
 * Dumps removed behind the store's back (a log shipper, an operator) stay
 * in the list until a rescan, which otherwise only a full store triggers:
 * rescan whenever the list has doubled since the last one, so that its
 * memory and the lookups on every commit stay bounded by the dumps really
 * there, at an amortized cost of a few stat calls per dump.
 */
#define RESCAN_MIN_ENTRIES 256

/* ".<id>.core.partial": the leading dot keeps temporary names apart from any valid id. */
#define NAME_MAX_LEN (1 + STORE_ID_MAX + sizeof(".core.partial"))

struct store_entry {
        char *id;
        struct timespec mtime; /* of the .core: rotation order */
        uint64_t size;         /* .core + .json */
        bool stuck;            /* unlinkat() failed: skipped by rotation until the next scan */
};

struct store_writer {
        struct store_writer *next;
        const char *id;
        uint64_t reserved;     /* under the lock: core budget + metadata allowance */
        uint64_t written;      /* atomic: core bytes in the temporary file, read by others under the lock */
        uint64_t preallocated; /* atomic: metadata allowance already allocated on disk */
        bool committed;        /* the core is renamed and counted in used */
};

struct dump_store {
        pthread_mutex_t lock;
        int dir_fd;
        char *path;
        struct store_options options;

        /* Everything below is protected by lock. */
        struct store_entry *entries;
        size_t n_entries, n_allocated;
        size_t rescan_at;  /* n_entries that triggers the next rescan */
        uint64_t used;     /* sum of entries[].size */
        uint64_t reserved; /* sum of writers[].reserved */
        struct store_writer *writers;
        unsigned n_writing; /* writers whose core is not yet renamed: they hold a max_files slot */
};

static const char *const cut_names[] = {
        [STORE_COMPLETE] = "complete",   [STORE_CUT_QUOTA] = "quota",     [STORE_CUT_MAX] = "max-bytes",
        [STORE_CUT_TIMEOUT] = "timeout", [STORE_CUT_READ] = "read-error",
};

const char *store_cut_to_string(enum store_cut c)
{
        if ((unsigned) c >= ARRAY_SIZE(cut_names))
                return NULL;
        return cut_names[c];
}

void store_result_done(struct store_result *r)
{
        if (!r)
                return;
        r->core_path = mfree_str(r->core_path);
        r->metadata_path = mfree_str(r->metadata_path);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

static bool id_valid(const char *id)
{
        size_t n;

        if (!id)
                return false;
        n = strnlen(id, STORE_ID_MAX + 1);
        return n > 0 && n <= STORE_ID_MAX && id[0] != '.' && !memchr(id, '/', n);
}

/* Extracts the id from "<id><suffix>"; false unless the id is one store_write() would accept. */
static bool name_to_id(const char *name, const char *suffix, char ret_id[static STORE_ID_MAX + 1])
{
        size_t n = strlen(name), k = strlen(suffix);

        if (n <= k || n - k > STORE_ID_MAX || strcmp(name + n - k, suffix) != 0)
                return false;
        memcpy(ret_id, name, n - k);
        ret_id[n - k] = 0;
        return id_valid(ret_id);
}

static bool is_temp_name(const char *name)
{
        char id[STORE_ID_MAX + 1];

        if (name[0] != '.')
                return false;
        return name_to_id(name + 1, ".core.partial", id) || name_to_id(name + 1, ".json.partial", id);
}

static void entries_free(struct store_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(e[i].id);
        free(e);
}

static struct store_entry *entry_find(struct dump_store *s, const char *id)
{
        /* From the end: the entry looked for is usually the one committed last. */
        for (size_t i = s->n_entries; i > 0; i--)
                if (strcmp(s->entries[i - 1].id, id) == 0)
                        return &s->entries[i - 1];
        return NULL;
}

static void entry_remove(struct dump_store *s, struct store_entry *e)
{
        s->used = sub_sat(s->used, e->size);
        free(e->id);
        *e = s->entries[--s->n_entries];
}

static bool writer_active(struct dump_store *s, const char *id)
{
        for (struct store_writer *w = s->writers; w; w = w->next)
                if (strcmp(w->id, id) == 0)
                        return true;
        return false;
}

/*
 * A temporary file is stale when nobody holds its lock: writers lock theirs
 * for their whole life, so a second store on the same directory (a reload)
 * cannot remove a dump that is still being written.
 */
static void remove_stale_temp(int dir_fd, const char *name)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat a, b;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0 || fstat(fd, &a) < 0 || !S_ISREG(a.st_mode))
                return;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return;
        if (fstatat(dir_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0 || a.st_dev != b.st_dev ||
            a.st_ino != b.st_ino)
                return;
        (void) unlinkat(dir_fd, name, 0);
}

/* Rebuilds the in-memory list of complete dumps from the directory; on failure the old list stays. */
static int scan(struct dump_store *s, bool remove_stale)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_closedir_ DIR *d = NULL;
        struct store_entry *list = NULL;
        size_t n = 0, allocated = 0;
        uint64_t used = 0;
        int r = 0;

        fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d)
                return negative_errno();
        fd = -EBADF; /* owned by d now */

        for (;;) {
                char id[STORE_ID_MAX + 1], json[NAME_MAX_LEN];
                struct stat st, js;
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = negative_errno();
                        break;
                }
                if (remove_stale && is_temp_name(de->d_name)) {
                        remove_stale_temp(dirfd(d), de->d_name);
                        continue;
                }
                if (!name_to_id(de->d_name, ".core", id))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        r = negative_errno();
                        break;
                }
                if (!S_ISREG(st.st_mode))
                        continue;

                if (n >= allocated) {
                        size_t want = allocated ? allocated * 2 : 64;
                        struct store_entry *nl = realloc(list, want * sizeof(*list));

                        if (!nl) {
                                r = -ENOMEM;
                                break;
                        }
                        list = nl;
                        allocated = want;
                }
                list[n] = (struct store_entry){
                        .id = strdup(id),
                        .mtime = st.st_mtim,
                        .size = (uint64_t) st.st_size,
                };
                if (!list[n].id) {
                        r = -ENOMEM;
                        break;
                }
                (void) snprintf(json, sizeof(json), "%s.json", id);
                if (fstatat(dirfd(d), json, &js, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(js.st_mode))
                        list[n].size += (uint64_t) js.st_size;
                used += list[n].size;
                n++;
        }

        if (r < 0) {
                entries_free(list, n);
                return r;
        }
        entries_free(s->entries, s->n_entries);
        s->entries = list;
        s->n_entries = n;
        s->n_allocated = allocated;
        s->rescan_at = MAX(2 * n, (size_t) RESCAN_MIN_ENTRIES);
        s->used = used;
        return 0;
}

/*
 * Room for new data now, which limit binds (-EDQUOT for max_use, -ENOSPC
 * for keep_free), and the chunk size to reserve in.
 */
static int room_left(struct dump_store *s, uint64_t *ret_room, int *ret_limit, uint64_t *ret_chunk)
{
        struct statvfs sv;
        uint64_t fs_size, avail, max_use, room_use, room_free = UINT64_MAX;

        if (fstatvfs(s->dir_fd, &sv) < 0)
                return negative_errno();
        fs_size = (uint64_t) sv.f_blocks * sv.f_frsize;
        avail = (uint64_t) sv.f_bavail * sv.f_frsize;

        max_use = size_limit_bytes(&s->options.max_use, fs_size);
        room_use = sub_sat(max_use, add_sat(s->used, s->reserved));

        if (s->options.keep_free.set) {
                /* Free space already shows what writers have written: subtract what they may still add. */
                uint64_t outstanding = 0;

                for (struct store_writer *w = s->writers; w; w = w->next) {
                        uint64_t on_disk = __atomic_load_n(&w->written, __ATOMIC_RELAXED) +
                                           __atomic_load_n(&w->preallocated, __ATOMIC_RELAXED);
                        outstanding = add_sat(outstanding, sub_sat(w->reserved, on_disk));
                }
                room_free = sub_sat(avail,
                                    add_sat(size_limit_bytes(&s->options.keep_free, fs_size), outstanding));
        }

        *ret_room = MIN(room_use, room_free);
        *ret_limit = room_free < room_use ? -ENOSPC : -EDQUOT;
        if (ret_chunk)
                *ret_chunk = MAX(MIN(MIN(max_use, fs_size) / RESERVE_CHUNKS_PER_QUOTA, RESERVE_CHUNK_MAX),
                                 RESERVE_CHUNK_MIN);
        return 0;
}

/* Deletes the oldest complete dump that nobody is writing. 1: something changed, 0: nothing left. */
static int delete_oldest(struct dump_store *s)
{
        struct store_entry *oldest = NULL;
        char name[NAME_MAX_LEN];

        for (size_t i = 0; i < s->n_entries; i++) {
                struct store_entry *e = &s->entries[i];

                if (e->stuck || writer_active(s, e->id))
                        continue;
                if (!oldest || e->mtime.tv_sec < oldest->mtime.tv_sec ||
                    (e->mtime.tv_sec == oldest->mtime.tv_sec &&
                     (e->mtime.tv_nsec < oldest->mtime.tv_nsec ||
                      (e->mtime.tv_nsec == oldest->mtime.tv_nsec && strcmp(e->id, oldest->id) < 0))))
                        oldest = e;
        }
        if (!oldest)
                return 0;

        (void) snprintf(name, sizeof(name), "%s.core", oldest->id);
        if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT) {
                oldest->stuck = true;
                return 1;
        }
        (void) snprintf(name, sizeof(name), "%s.json", oldest->id);
        (void) unlinkat(s->dir_fd, name, 0);
        entry_remove(s, oldest);
        return 1;
}

/*
 * Makes sure at least need bytes of room exist: first by rescanning (files
 * may have been deleted behind our back), then, with STORE_ROTATE, by
 * deleting the oldest dumps. Returns the room, which may exceed need.
 */
static int make_room(struct dump_store *s, uint64_t need, uint64_t *ret_room, uint64_t *ret_chunk)
{
        bool rescanned = false;

        for (;;) {
                uint64_t room, chunk;
                int limit, r;

                r = room_left(s, &room, &limit, &chunk);
                if (r < 0)
                        return r;
                if (room >= need) {
                        *ret_room = room;
                        if (ret_chunk)
                                *ret_chunk = chunk;
                        return 0;
                }
                if (!rescanned) {
                        rescanned = true;
                        (void) scan(s, false); /* best effort: the old figures stay on failure */
                        continue;
                }
                if (s->options.policy == STORE_ROTATE && delete_oldest(s) > 0)
                        continue;
                return limit;
        }
}

/* Makes sure one more dump fits within max_files. */
static int make_slot(struct dump_store *s)
{
        bool rescanned = false;

        if (s->options.max_files == 0)
                return 0;
        for (;;) {
                if (s->n_entries + s->n_writing < s->options.max_files)
                        return 0;
                if (!rescanned) {
                        rescanned = true;
                        (void) scan(s, false);
                        continue;
                }
                if (s->options.policy == STORE_ROTATE && delete_oldest(s) > 0)
                        continue;
                return -EDQUOT;
        }
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
        fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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

        r = scan(s, true);
        if (r < 0) {
                store_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

void store_free(struct dump_store *s)
{
        if (!s)
                return;
        entries_free(s->entries, s->n_entries);
        pthread_mutex_destroy(&s->lock);
        safe_close(s->dir_fd);
        free(s->path);
        free(s);
}

int store_check_room(struct dump_store *s)
{
        uint64_t room;
        int r;

        if (!s)
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        r = make_slot(s);
        if (r >= 0)
                r = make_room(s, MIN_ROOM, &room, NULL);
        pthread_mutex_unlock(&s->lock);
        return r < 0 ? r : 0;
}

int store_usage(struct dump_store *s, uint64_t *ret_bytes, unsigned *ret_files)
{
        uint64_t bytes;
        size_t files;

        if (!s)
                return -EINVAL;
        pthread_mutex_lock(&s->lock);
        bytes = s->used;
        files = s->n_entries;
        pthread_mutex_unlock(&s->lock);

        if (ret_bytes)
                *ret_bytes = bytes;
        if (ret_files)
                *ret_files = (unsigned) MIN(files, (size_t) UINT_MAX);
        return 0;
}

static int file_exists(int dir_fd, const char *name)
{
        struct stat st;

        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return 1;
        return errno == ENOENT ? 0 : negative_errno();
}

/* Registers a writer: a max_files slot, the metadata allowance and a first chunk of room. */
static int writer_begin(struct dump_store *s, struct store_writer *w, uint64_t max_bytes)
{
        char core[NAME_MAX_LEN], json[NAME_MAX_LEN];
        uint64_t room, chunk;
        int r;

        (void) snprintf(core, sizeof(core), "%s.core", w->id);
        (void) snprintf(json, sizeof(json), "%s.json", w->id);

        pthread_mutex_lock(&s->lock);
        if (writer_active(s, w->id)) {
                r = -EEXIST;
                goto unlock;
        }
        r = file_exists(s->dir_fd, core);
        if (r == 0)
                r = file_exists(s->dir_fd, json);
        if (r != 0) {
                r = r > 0 ? -EEXIST : r;
                goto unlock;
        }
        r = make_slot(s);
        if (r < 0)
                goto unlock;
        r = make_room(s, MIN_ROOM, &room, &chunk);
        if (r < 0)
                goto unlock;

        w->reserved = MIN(room, METADATA_RESERVE + (max_bytes > 0 ? MIN(max_bytes, chunk) : chunk));
        s->reserved += w->reserved;
        w->next = s->writers;
        s->writers = w;
        s->n_writing++;
unlock:
        pthread_mutex_unlock(&s->lock);
        return r;
}

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
        pthread_mutex_unlock(&s->lock);
}

/* More room for the core: a chunk, at most limit bytes; -EDQUOT/-ENOSPC when the quota leaves none. */
static int writer_reserve(struct dump_store *s, struct store_writer *w, uint64_t limit)
{
        uint64_t room, chunk;
        int r;

        pthread_mutex_lock(&s->lock);
        r = make_room(s, 1, &room, &chunk);
        if (r >= 0) {
                uint64_t grant = MIN(MIN(room, chunk), limit);

                w->reserved += grant;
                s->reserved += grant;
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

static uint64_t core_budget(struct store_writer *w)
{
        return sub_sat(w->reserved, add_sat(METADATA_RESERVE, w->written));
}

static int rename_noreplace(int dir_fd, const char *from, const char *to)
{
        int r;

        if (renameat2(dir_fd, from, dir_fd, to, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return negative_errno();
        /* Filesystems without RENAME_NOREPLACE: names are unique ids, so the check is only a safety net. */
        r = file_exists(dir_fd, to);
        if (r != 0)
                return r > 0 ? -EEXIST : r;
        if (renameat(dir_fd, from, dir_fd, to) < 0)
                return negative_errno();
        return 0;
}

/*
 * Creates a temporary file and locks it for its whole life (see
 * remove_stale_temp()). If a stale-file sweep unlinked it between the
 * create and the lock, the name is free again: try once more.
 */
static int create_temp(int dir_fd, const char *name, int *ret_fd)
{
        for (unsigned attempt = 0; attempt < 3; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
                            0600);
                if (fd < 0)
                        return negative_errno();
                if (RETRY_EINTR(flock(fd, LOCK_EX)) < 0 || fstat(fd, &st) < 0)
                        return negative_errno();
                if (st.st_nlink == 0)
                        continue;
                /* The umask may have taken bits away: a dump is readable by its owner, and only by it. */
                if (fchmod(fd, 0600) < 0)
                        return negative_errno();
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return -EBUSY;
}

static size_t pipe_enlarge(int fd)
{
        /* Unprivileged writers are bounded by fs.pipe-max-size and per-user pipe pages: settle for less. */
        for (int size = PIPE_SIZE_WANT; size >= 64 * 1024; size /= 4) {
                int r = fcntl(fd, F_SETPIPE_SZ, size);

                if (r > 0)
                        return (size_t) r;
        }
        int r = fcntl(fd, F_GETPIPE_SZ);
        return r > 0 ? (size_t) r : 64 * 1024;
}

/* After max_bytes: did the stream end right there? Never blocks. */
static bool at_eof(int fd)
{
        char c;
        ssize_t k = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

        if (k == 0)
                return true;
        if (k < 0 && errno == ENOTSOCK) {
                /* A pipe (the shim for older kernels): hung up with nothing left to read. */
                struct pollfd p = { .fd = fd, .events = POLLIN };

                return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLIN)) == POLLHUP;
        }
        return false;
}

/* Copies src into dst through a pipe until a stop condition; -errno only when the file cannot be written. */
static int copy_stream(struct dump_store *s, struct store_writer *w, int src, int dst, uint64_t max_bytes,
                       usec_t deadline, enum store_cut *ret_cut)
{
        _cleanup_close_ int pipe_r = -EBADF, pipe_w = -EBADF;
        int p[2];
        size_t pipe_size;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        pipe_r = p[0];
        pipe_w = p[1];
        pipe_size = pipe_enlarge(pipe_w);

        for (;;) {
                uint64_t budget, written = w->written;
                ssize_t k;
                int r;

                if (max_bytes > 0 && written >= max_bytes) {
                        *ret_cut = at_eof(src) ? STORE_COMPLETE : STORE_CUT_MAX;
                        return 0;
                }
                if (deadline != USEC_INFINITY && io_now() >= deadline) {
                        *ret_cut = STORE_CUT_TIMEOUT;
                        return 0;
                }
                budget = core_budget(w);
                if (budget == 0) {
                        if (writer_reserve(s, w, max_bytes > 0 ? max_bytes - written : UINT64_MAX) < 0) {
                                *ret_cut = STORE_CUT_QUOTA;
                                return 0;
                        }
                        continue;
                }
                if (max_bytes > 0)
                        budget = MIN(budget, max_bytes - written);

                /* SPLICE_F_NONBLOCK: the socket may be blocking, and only poll() knows the deadline. */
                k = splice(src, NULL, pipe_w, NULL, (size_t) MIN(budget, (uint64_t) pipe_size),
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (k == 0) {
                        *ret_cut = STORE_COMPLETE;
                        return 0;
                }
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                r = io_wait(src, POLLIN, deadline);
                                if (r == -ETIMEDOUT) {
                                        *ret_cut = STORE_CUT_TIMEOUT;
                                        return 0;
                                }
                                if (r < 0) {
                                        *ret_cut = STORE_CUT_READ;
                                        return 0;
                                }
                                continue;
                        }
                        /* Not a stream we can splice from at all: the caller's mistake, nothing to keep. */
                        if ((errno == EBADF || errno == EINVAL) && written == 0)
                                return negative_errno();
                        *ret_cut = STORE_CUT_READ;
                        return 0;
                }

                for (size_t left = (size_t) k; left > 0;) {
                        ssize_t m = splice(pipe_r, NULL, dst, NULL, left, SPLICE_F_MOVE);

                        if (m < 0) {
                                if (errno == EINTR)
                                        continue;
                                /* The disk (or a filesystem quota) is full: keep what made it. */
                                if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG) {
                                        *ret_cut = STORE_CUT_QUOTA;
                                        return 0;
                                }
                                return negative_errno();
                        }
                        if (m == 0)
                                return -EIO;
                        left -= (size_t) m;
                        written += (uint64_t) m;
                        __atomic_store_n(&w->written, written, __ATOMIC_RELAXED);
                }
        }
}

/* Renames the core into place and moves its bytes from the writer's reservation to the store's usage. */
static int commit_core(struct dump_store *s, struct store_writer *w, const char *tmp, const char *name,
                       const struct timespec *mtime)
{
        _cleanup_free_ char *id = strdup(w->id);
        struct store_entry *e;
        int r = 0;

        if (!id)
                return -ENOMEM;

        pthread_mutex_lock(&s->lock);
        if (s->n_entries >= s->rescan_at && scan(s, false) < 0)
                s->rescan_at = 2 * s->n_entries; /* the old list stays; try again when it has doubled */
        /* Grow first: once renamed, the dump must be accounted for. */
        if (s->n_entries >= s->n_allocated) {
                size_t want = s->n_allocated ? 2 * s->n_allocated : 64;

                e = realloc(s->entries, want * sizeof(*e));
                if (!e) {
                        r = -ENOMEM;
                        goto unlock;
                }
                s->entries = e;
                s->n_allocated = want;
        }
        r = rename_noreplace(s->dir_fd, tmp, name);
        if (r < 0)
                goto unlock;

        e = entry_find(s, id); /* a stale entry of a file deleted behind our back */
        if (e)
                entry_remove(s, e);
        s->entries[s->n_entries++] = (struct store_entry){
                .id = TAKE_PTR(id),
                .mtime = *mtime,
                .size = w->written,
        };
        s->used += w->written;
        s->reserved = sub_sat(s->reserved, w->written);
        w->reserved = sub_sat(w->reserved, w->written);
        __atomic_store_n(&w->written, 0, __ATOMIC_RELAXED);
        w->committed = true;
        s->n_writing--;
unlock:
        pthread_mutex_unlock(&s->lock);
        return r;
}

static int commit_metadata(struct dump_store *s, struct store_writer *w, const char *tmp, const char *name,
                           uint64_t len)
{
        struct store_entry *e;
        int r;

        pthread_mutex_lock(&s->lock);
        r = rename_noreplace(s->dir_fd, tmp, name);
        if (r >= 0) {
                e = entry_find(s, w->id);
                if (e) {
                        e->size += len;
                        s->used += len;
                }
        }
        pthread_mutex_unlock(&s->lock);
        return r;
}

static void discard_core(struct dump_store *s, struct store_writer *w, const char *name)
{
        struct store_entry *e;

        pthread_mutex_lock(&s->lock);
        (void) unlinkat(s->dir_fd, name, 0);
        e = entry_find(s, w->id);
        if (e)
                entry_remove(s, e);
        pthread_mutex_unlock(&s->lock);
}

static char *path_join(const char *dir, const char *name)
{
        char *p;
        size_t n = strlen(dir);

        if (asprintf(&p, "%s%s%s", dir, n > 0 && dir[n - 1] == '/' ? "" : "/", name) < 0)
                return NULL;
        return p;
}

static int write_dump(struct dump_store *s, struct store_writer *w, int src, uint64_t max_bytes,
                      usec_t deadline, store_metadata_fn metadata, void *userdata, struct store_result *ret)
{
        char core[NAME_MAX_LEN], json[NAME_MAX_LEN], core_tmp[NAME_MAX_LEN], json_tmp[NAME_MAX_LEN];
        _cleanup_close_ int core_fd = -EBADF, json_fd = -EBADF;
        _cleanup_free_ char *core_path = NULL, *json_path = NULL, *doc = NULL;
        struct store_result result = {};
        size_t doc_len = 0;
        struct stat st;
        int r;

        (void) snprintf(core, sizeof(core), "%s.core", w->id);
        (void) snprintf(json, sizeof(json), "%s.json", w->id);
        (void) snprintf(core_tmp, sizeof(core_tmp), ".%s.core.partial", w->id);
        (void) snprintf(json_tmp, sizeof(json_tmp), ".%s.json.partial", w->id);

        core_path = path_join(s->path, core);
        json_path = path_join(s->path, json);
        if (!core_path || !json_path)
                return -ENOMEM;

        r = create_temp(s->dir_fd, core_tmp, &core_fd);
        if (r < 0)
                return r;
        r = create_temp(s->dir_fd, json_tmp, &json_fd);
        if (r < 0)
                goto fail_core_tmp;
        if (fallocate(json_fd, 0, 0, (off_t) METADATA_RESERVE) == 0)
                __atomic_store_n(&w->preallocated, METADATA_RESERVE, __ATOMIC_RELAXED);
        else if (errno == ENOSPC || errno == EDQUOT) {
                r = -ENOSPC; /* not even the metadata fits: nothing can be kept */
                goto fail_tmp;
        }
        /* Otherwise the filesystem cannot preallocate: go on without the guarantee. */

        r = copy_stream(s, w, src, core_fd, max_bytes, deadline, &result.cut);
        if (r < 0)
                goto fail_tmp;
        if (fstat(core_fd, &st) < 0) {
                r = negative_errno();
                goto fail_tmp;
        }
        result.bytes = w->written;
        r = commit_core(s, w, core_tmp, core, &st.st_mtim);
        if (r < 0)
                goto fail_tmp;

        result.core_path = core_path;
        result.metadata_path = json_path;
        r = metadata(userdata, &result, &doc, &doc_len);
        if (r < 0)
                goto fail_committed;
        r = io_write_all(json_fd, doc, doc_len);
        if (r < 0)
                goto fail_committed;
        /* Gives back what the preallocation did not need. */
        if (ftruncate(json_fd, (off_t) doc_len) < 0) {
                r = negative_errno();
                goto fail_committed;
        }
        r = commit_metadata(s, w, json_tmp, json, doc_len);
        if (r < 0)
                goto fail_committed;

        ret->bytes = result.bytes;
        ret->cut = result.cut;
        ret->core_path = TAKE_PTR(core_path);
        ret->metadata_path = TAKE_PTR(json_path);
        return 0;

        /* A dump is kept with its metadata or not at all. */
fail_committed:
        discard_core(s, w, core);
        (void) unlinkat(s->dir_fd, json_tmp, 0);
        return r;
fail_tmp:
        (void) unlinkat(s->dir_fd, json_tmp, 0);
fail_core_tmp:
        (void) unlinkat(s->dir_fd, core_tmp, 0);
        return r;
}

int store_write(struct dump_store *s, const char *id, int src, uint64_t max_bytes, usec_t deadline,
                store_metadata_fn metadata, void *userdata, struct store_result *ret)
{
        struct store_writer w = { .id = id };
        int r;

        if (!s || src < 0 || !metadata || !ret || !id_valid(id))
                return -EINVAL;

        r = writer_begin(s, &w, max_bytes);
        if (r < 0)
                return r;
        r = write_dump(s, &w, src, max_bytes, deadline, metadata, userdata, ret);
        writer_end(s, &w);
        return r;
}
