/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The store's bookkeeping: the list of complete dumps, the room left under
 * max_use, keep_free and max_files, and rotation. Everything here runs with
 * the store's lock held.
 *
 * Rotation is fair between sources (the host, each container): room is made
 * by deleting the oldest dump of the source that uses the most, so a crash
 * loop in one container deletes its own dumps first and never drives out
 * another source's while it holds more than they do.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "proxy/store/internal.h"

/*
 * Quota is reserved in chunks so that concurrent writers cannot together
 * overshoot max_use; a small quota gets smaller chunks, so that one writer
 * does not hold back room that the others need.
 */
#define RESERVE_CHUNK_MAX        ((uint64_t) 4 * 1024 * 1024)
#define RESERVE_CHUNK_MIN        ((uint64_t) 64 * 1024)
#define RESERVE_CHUNKS_PER_QUOTA 16
/*
 * Dumps removed behind the store's back (a log shipper, an operator) stay
 * in the list until a rescan, which otherwise only a full store triggers:
 * rescan whenever the list has doubled since the last one, so that its
 * memory and the lookups on every commit stay bounded by the dumps really
 * there, at an amortized cost of a few stat calls per dump.
 */
#define RESCAN_MIN_ENTRIES 256

static uint64_t add_sat(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sub_sat(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

static void set_used(struct dump_store *s, uint64_t used, size_t n)
{
        __atomic_store_n(&s->used, used, __ATOMIC_RELAXED);
        __atomic_store_n(&s->n_used, n, __ATOMIC_RELAXED);
}

void quota_entries_free(struct store_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(e[i].id);
                free(e[i].source);
        }
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
        uint64_t used = sub_sat(s->used, e->size);

        free(e->id);
        free(e->source);
        *e = s->entries[--s->n_entries];
        set_used(s, used, s->n_entries);
}

bool quota_writer_active(struct dump_store *s, const char *id)
{
        for (struct store_writer *w = s->writers; w; w = w->next)
                if (strcmp(w->id, id) == 0)
                        return true;
        return false;
}

static char *read_source(int dir_fd, const char *core)
{
        _cleanup_close_ int fd =
                openat(dir_fd, core, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        char buf[SOURCE_MAX + 1];
        ssize_t n;

        if (fd < 0)
                return NULL;
        n = fgetxattr(fd, SOURCE_XATTR, buf, SOURCE_MAX);
        if (n <= 0)
                return NULL;
        buf[n] = 0;
        return strdup(buf);
}

static int list_append(struct store_entry **list, size_t *n, size_t *allocated, struct store_entry e)
{
        if (*n >= *allocated) {
                size_t want = *allocated ? *allocated * 2 : 64;
                struct store_entry *nl = realloc(*list, want * sizeof(**list));

                if (!nl)
                        return -ENOMEM;
                *list = nl;
                *allocated = want;
        }
        (*list)[(*n)++] = e;
        return 0;
}

/* One directory entry: a complete dump's .core becomes an entry with its .json's size added. */
static int scan_one(int dir_fd, const char *name, struct store_entry **list, size_t *n, size_t *allocated,
                    uint64_t *used)
{
        char id[STORE_ID_MAX + 1], json[NAME_MAX_LEN];
        struct stat st, js;
        struct store_entry e;

        if (!store_name_to_id(name, ".core", id) && !store_name_to_id(name, ".core.zst", id))
                return 0;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (!S_ISREG(st.st_mode))
                return 0;
        e = (struct store_entry){ .id = strdup(id), .mtime = st.st_mtim, .size = (uint64_t) st.st_size };
        if (!e.id)
                return -ENOMEM;
        e.source = read_source(dir_fd, name);
        (void) snprintf(json, sizeof(json), "%s.json", id);
        if (fstatat(dir_fd, json, &js, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(js.st_mode))
                e.size += (uint64_t) js.st_size;
        if (list_append(list, n, allocated, e) < 0) {
                free(e.id);
                free(e.source);
                return -ENOMEM;
        }
        *used += e.size;
        return 0;
}

int quota_scan(struct dump_store *s, bool remove_stale)
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
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = negative_errno();
                        break;
                }
                if (remove_stale && store_is_temp_name(de->d_name)) {
                        store_remove_stale_temp(dirfd(d), de->d_name);
                        continue;
                }
                r = scan_one(dirfd(d), de->d_name, &list, &n, &allocated, &used);
                if (r < 0)
                        break;
        }

        if (r < 0) {
                quota_entries_free(list, n);
                return r;
        }
        quota_entries_free(s->entries, s->n_entries);
        s->entries = list;
        s->n_entries = n;
        s->n_allocated = allocated;
        s->rescan_at = MAX(2 * n, (size_t) RESCAN_MIN_ENTRIES);
        set_used(s, used, n);
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

static bool same_source(const char *a, const char *b)
{
        return strcmp(a ? a : "", b ? b : "") == 0;
}

static bool older(const struct store_entry *a, const struct store_entry *b)
{
        if (a->mtime.tv_sec != b->mtime.tv_sec)
                return a->mtime.tv_sec < b->mtime.tv_sec;
        if (a->mtime.tv_nsec != b->mtime.tv_nsec)
                return a->mtime.tv_nsec < b->mtime.tv_nsec;
        return strcmp(a->id, b->id) < 0;
}

static bool deletable(struct dump_store *s, const struct store_entry *e)
{
        return !e->stuck && !quota_writer_active(s, e->id);
}

static int compare_source(const void *a, const void *b)
{
        const struct store_entry *x = *(const struct store_entry *const *) a;
        const struct store_entry *y = *(const struct store_entry *const *) b;

        return strcmp(x->source ? x->source : "", y->source ? y->source : "");
}

/*
 * The source to take room from: the one that uses the most, counting what
 * the requester is about to add to its own share (need), among sources with
 * something left to delete. Ties go to the requester: it pays for itself
 * first. Sorting keeps this O(n log n) for stores of many dumps.
 */
static const char *largest_source(struct dump_store *s, const char *requester, uint64_t need)
{
        _cleanup_free_ struct store_entry **order = NULL;
        const char *best = NULL;
        uint64_t best_use = 0;

        if (s->n_entries == 0)
                return NULL;
        order = malloc(s->n_entries * sizeof(*order));
        if (!order) {
                /* No memory to be fair with: the requester's own dumps, then anyone's. */
                for (size_t i = 0; i < s->n_entries; i++)
                        if (same_source(s->entries[i].source, requester) && deletable(s, &s->entries[i]))
                                return requester ? requester : "";
                for (size_t i = 0; i < s->n_entries; i++)
                        if (deletable(s, &s->entries[i]))
                                return s->entries[i].source ? s->entries[i].source : "";
                return NULL;
        }
        for (size_t i = 0; i < s->n_entries; i++)
                order[i] = &s->entries[i];
        qsort(order, s->n_entries, sizeof(*order), compare_source);

        for (size_t i = 0; i < s->n_entries;) {
                const char *src = order[i]->source;
                uint64_t use = 0;
                bool any = false;

                for (; i < s->n_entries && same_source(order[i]->source, src); i++) {
                        use = add_sat(use, order[i]->size);
                        any = any || deletable(s, order[i]);
                }
                if (!any)
                        continue;
                if (same_source(src, requester))
                        use = add_sat(use, need);
                if (!best || use > best_use || (use == best_use && same_source(src, requester))) {
                        best = src ? src : "";
                        best_use = use;
                }
        }
        return best;
}

/* Deletes the oldest deletable dump of the largest source. 1: something changed, 0: nothing left. */
static int delete_one(struct dump_store *s, const char *requester, uint64_t need)
{
        struct store_entry *victim = NULL;
        const char *source = largest_source(s, requester, need);
        char name[NAME_MAX_LEN];

        if (!source)
                return 0;
        for (size_t i = 0; i < s->n_entries; i++) {
                struct store_entry *e = &s->entries[i];

                if (same_source(e->source, source) && deletable(s, e) && (!victim || older(e, victim)))
                        victim = e;
        }
        if (!victim)
                return 0;

        /* Compressed or not: a reload may have turned compression on or off since it was written. */
        for (unsigned k = 0; k < 2; k++) {
                (void) snprintf(name, sizeof(name), k == 0 ? "%s.core" : "%s.core.zst", victim->id);
                if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT) {
                        victim->stuck = true;
                        return 1;
                }
        }
        (void) snprintf(name, sizeof(name), "%s.json", victim->id);
        (void) unlinkat(s->dir_fd, name, 0);
        entry_remove(s, victim);
        return 1;
}

int quota_make_room(struct dump_store *s, const char *source, uint64_t need, uint64_t *ret_room,
                    uint64_t *ret_chunk)
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
                        (void) quota_scan(s, false); /* best effort: the old figures stay on failure */
                        continue;
                }
                if (s->options.policy == STORE_ROTATE && delete_one(s, source, need) > 0)
                        continue;
                return limit;
        }
}

int quota_make_slot(struct dump_store *s, const char *source)
{
        bool rescanned = false;

        if (s->options.max_files == 0)
                return 0;
        for (;;) {
                if (s->n_entries + s->n_writing < s->options.max_files)
                        return 0;
                if (!rescanned) {
                        rescanned = true;
                        (void) quota_scan(s, false);
                        continue;
                }
                if (s->options.policy == STORE_ROTATE && delete_one(s, source, 0) > 0)
                        continue;
                return -EDQUOT;
        }
}

int quota_add_entry(struct dump_store *s, const char *id, const char *source, const struct timespec *mtime,
                    uint64_t size)
{
        struct store_entry *e;
        char *id_copy, *source_copy = NULL;

        if (s->n_entries >= s->rescan_at && quota_scan(s, false) < 0)
                s->rescan_at = 2 * s->n_entries; /* the old list stays; try again when it has doubled */
        if (s->n_entries >= s->n_allocated) {
                size_t want = s->n_allocated ? 2 * s->n_allocated : 64;

                e = realloc(s->entries, want * sizeof(*e));
                if (!e)
                        return -ENOMEM;
                s->entries = e;
                s->n_allocated = want;
        }
        id_copy = strdup(id);
        if (source)
                source_copy = strdup(source);
        if (!id_copy || (source && !source_copy)) {
                free(id_copy);
                free(source_copy);
                return -ENOMEM;
        }
        e = entry_find(s, id); /* a stale entry of a file deleted behind our back */
        if (e)
                entry_remove(s, e);
        s->entries[s->n_entries++] = (struct store_entry){
                .id = id_copy,
                .source = source_copy,
                .mtime = *mtime,
                .size = size,
        };
        set_used(s, add_sat(s->used, size), s->n_entries);
        return 0;
}

void quota_remove_entry_by_id(struct dump_store *s, const char *id)
{
        struct store_entry *e = entry_find(s, id);

        if (e)
                entry_remove(s, e);
}
