/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * A crash whose argv is backed by a page that never loads (issue 10: a
 * worker reading /proc/<pid>/cmdline hung for ever).
 *
 *   cdp-fuse-crasher --dir EMPTY-DIR [--name NAME] [--slow-pages N --slow-ms MS | --hold-mm MS]
 *
 * In a mount namespace of its own (so its mount never shows elsewhere and
 * goes away with it), it mounts a tiny FUSE filesystem on DIR, served by a
 * child that answers everything except READ, which it takes and never
 * answers (the FUSE server a hostile container can run). A second child
 * maps a file of it MAP_FIXED over the pages that hold the tail of its own
 * argv and crashes. Anyone who reads its /proc/<pid>/cmdline past the
 * first bytes blocks in that read until the server goes away.
 *
 * The kernel's own dump does not touch those pages: a private file mapping
 * is not dumped with the default coredump_filter, its file offset is not 0
 * (no ELF-header peek), and the ELF note's argv copy (pr_psargs) takes only
 * the first 80 bytes, which stay in ordinary memory. So the crash itself
 * completes; only a reader of the whole cmdline hangs.
 *
 * The parent reaps the crash and prints, like cdp-crasher:
 *   pid=<N> signal=<N> coredump=<0|1> blocked=<bytes of argv made unreadable>
 * then stops the server (which fails every read still waiting) and removes
 * its mount. The argv tail is a padding argument this program adds by
 * re-executing itself.
 *
 * With --slow-pages, argv is left alone: the crash maps N pages of the file
 * instead and asks for file mappings in its core (coredump_filter bit 2), and
 * the server answers each read after MS milliseconds: a dump whose stream
 * flows slowly, for as long as a test needs one in flight.
 *
 * Linux 4.18 closed the argv hole itself (CVE-2018-1120): /proc/<pid>/cmdline
 * reads with FOLL_ANON, which refuses file mappings, so a reader gets the
 * part before the FUSE page instead of blocking (userfaultfd does not block
 * it either: remote reads cannot wait for a fault handler). What still
 * blocks every reader of the task's memory is its mmap_lock: with --hold-mm,
 * a reader of /proc/<pid>/mem waits on the FUSE page while holding the lock
 * for reading, and a process sharing the task's memory (clone(CLONE_VM),
 * another thread group, so the crash does not kill it) queues for writing;
 * from then on /proc/<pid>/cmdline blocks, and so does the kernel's own dump
 * once it reads the task's memory. The hold starts 0.7 s after the crash
 * ("held up" on stderr): a daemon that is to meet it must not have read the
 * task yet (a test stops it meanwhile). After MS milliseconds (0: never) the
 * server goes away and everything moves again.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fuse.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/param.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAD_OPTION "--pad="
#define PAD_BYTES  (4 * 4096)
#define FILE_SIZE  (1024 * 1024)
#define NODE_FILE  2
#define FILE_NAME  "argv"

static unsigned slow_pages, slow_ms;
static int hold_ms = -1;

/* ---- the FUSE server -------------------------------------------------------- */

static void reply(int fuse_fd, uint64_t unique, int error, const void *out, size_t out_len)
{
        struct fuse_out_header h = { .len = (uint32_t) (sizeof(h) + out_len),
                                     .error = error,
                                     .unique = unique };
        char buf[sizeof(h) + 4096];

        if (out_len > sizeof(buf) - sizeof(h))
                return;
        memcpy(buf, &h, sizeof(h));
        if (out_len)
                memcpy(buf + sizeof(h), out, out_len);
        if (write(fuse_fd, buf, h.len) < 0 && errno != ENOENT)
                perror("cdp-fuse-crasher: reply");
}

static void fill_attr(uint64_t node, struct fuse_attr *a)
{
        *a = (struct fuse_attr){ .ino = node, .nlink = 1, .blksize = 4096 };
        if (node == NODE_FILE) {
                a->mode = S_IFREG | 0444;
                a->size = FILE_SIZE;
                a->blocks = FILE_SIZE / 512;
        } else {
                a->mode = S_IFDIR | 0755;
                a->nlink = 2;
        }
}

static _Noreturn void serve(int fuse_fd)
{
        static char buf[FUSE_MIN_READ_BUFFER + 128 * 1024];

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (;;) {
                ssize_t k = read(fuse_fd, buf, sizeof(buf));
                const struct fuse_in_header *in = (const void *) buf;
                const void *arg = buf + sizeof(*in);

                if (k < 0 && (errno == EINTR || errno == ENOENT))
                        continue;
                if (k < (ssize_t) sizeof(*in))
                        _exit(0); /* unmounted */

                switch (in->opcode) {
                case FUSE_INIT: {
                        const struct fuse_init_in *ii = arg;
                        struct fuse_init_out o = {
                                .major = FUSE_KERNEL_VERSION,
                                .minor = FUSE_KERNEL_MINOR_VERSION,
                                /* One page a read: a slow stream is slow page by page. */
                                .max_readahead = slow_ms ? 4096 : ii->max_readahead,
                                .max_background = 16,
                                .congestion_threshold = 12,
                                .max_write = 4096,
                        };
                        reply(fuse_fd, in->unique, 0, &o, sizeof(o));
                        break;
                }
                case FUSE_LOOKUP: {
                        struct fuse_entry_out o = { .nodeid = NODE_FILE,
                                                    .attr_valid = 3600,
                                                    .entry_valid = 3600 };
                        if (in->nodeid != FUSE_ROOT_ID || strcmp(arg, FILE_NAME) != 0) {
                                reply(fuse_fd, in->unique, -ENOENT, NULL, 0);
                                break;
                        }
                        fill_attr(NODE_FILE, &o.attr);
                        reply(fuse_fd, in->unique, 0, &o, sizeof(o));
                        break;
                }
                case FUSE_GETATTR: {
                        struct fuse_attr_out o = { .attr_valid = 3600 };
                        fill_attr(in->nodeid, &o.attr);
                        reply(fuse_fd, in->unique, 0, &o, sizeof(o));
                        break;
                }
                case FUSE_OPEN: {
                        struct fuse_open_out o = { .fh = 1 };
                        reply(fuse_fd, in->unique, 0, &o, sizeof(o));
                        break;
                }
                case FUSE_READ: {
                        static char zeros[4096];
                        const struct fuse_read_in *ri = arg;
                        if (slow_ms) {
                                (void) usleep(slow_ms * 1000U);
                                reply(fuse_fd, in->unique, 0, zeros, MIN(ri->size, sizeof(zeros)));
                                break;
                        }
                        /* Taken from the queue and never answered: the reader waits for us. */
                        fprintf(stderr, "cdp-fuse-crasher: read by pid %u, never answered\n", in->pid);
                        break;
                }
                case FUSE_FORGET:
                case FUSE_BATCH_FORGET:
                case FUSE_INTERRUPT:
                        break; /* no answer expected; an interrupted READ stays unanswered */
                case FUSE_FLUSH:
                case FUSE_RELEASE:
                case FUSE_RELEASEDIR:
                case FUSE_DESTROY:
                        reply(fuse_fd, in->unique, 0, NULL, 0);
                        break;
                default:
                        reply(fuse_fd, in->unique, -ENOSYS, NULL, 0);
                        break;
                }
        }
}

/* ---- the crash ----------------------------------------------------------------- */

/* Fields 48 and 49 of /proc/self/stat: where argv's strings start and end. */
static int argv_bounds(unsigned long *ret_start, unsigned long *ret_end)
{
        char buf[2048], *p;
        ssize_t k;
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        k = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (k <= 0)
                return -EIO;
        buf[k] = 0;
        /* Field 2 (comm) may hold spaces: count from after its closing parenthesis (field 3 on). */
        p = strrchr(buf, ')');
        if (!p)
                return -EBADMSG;
        p++;
        for (int field = 3; field < 48; field++) {
                p = strchr(p + 1, ' ');
                if (!p)
                        return -EBADMSG;
        }
        if (sscanf(p, " %lu %lu", ret_start, ret_end) != 2)
                return -EBADMSG;
        return 0;
}

/* A dump that reads slow_pages pages of the file, each answered after slow_ms. */
static _Noreturn void slow_crash(const char *dir, unsigned long page)
{
        char path[4096];
        int fd;

        (void) snprintf(path, sizeof(path), "%s/" FILE_NAME, dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                _exit(122);
        if (mmap(NULL, slow_pages * page, PROT_READ, MAP_PRIVATE, fd, (off_t) page) == MAP_FAILED)
                _exit(123);
        close(fd);
        /* Default 0x33 plus bit 2: private file mappings go into the core. */
        fd = open("/proc/self/coredump_filter", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0x37", 4) != 4)
                _exit(125);
        close(fd);

        volatile int *null = NULL;
        *null = 1;
        _exit(124);
}

static _Noreturn void crash(const char *dir, const char *name)
{
        unsigned long start, end, page = (unsigned long) sysconf(_SC_PAGESIZE), first, last;
        char path[4096];
        int fd;

        (void) prctl(PR_SET_NAME, name);
        if (slow_pages)
                slow_crash(dir, page);
        if (argv_bounds(&start, &end) < 0)
                _exit(120);
        /*
         * Whole pages only, past the first 256 bytes (what the kernel copies
         * into the ELF notes stays readable, and a careful reader gets a
         * partial cmdline), ending before the page of argv's last byte
         * (the first one /proc/<pid>/cmdline looks at).
         */
        first = (start + 256 + page - 1) & ~(page - 1);
        last = (end - 1) & ~(page - 1);
        if (last <= first)
                _exit(121);
        (void) snprintf(path, sizeof(path), "%s/" FILE_NAME, dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                _exit(122);
        /* Offset one page: a mapping at offset 0 would be peeked at for an ELF header. */
        if (mmap((void *) first, last - first, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, (off_t) page) ==
            MAP_FAILED)
                _exit(123);
        close(fd);
        fprintf(stderr, "cdp-fuse-crasher: argv %#lx-%#lx, %#lx-%#lx never loads\n", start, end, first,
                last);

        volatile int *null = NULL;
        *null = 1;
        _exit(124);
}

/* ---- --hold-mm: the task's mmap_lock held up ------------------------------------ */

struct hold_pipes {
        int ready[2]; /* crash -> parent: the address of the FUSE page */
        int go_writer[2], go_crash[2];
};

static int sharer_main(void *arg)
{
        struct hold_pipes *p = arg;
        char x;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        /* Queues for the lock for writing behind the stuck reader; never gets it while the hold lasts. */
        if (read(p->go_writer[0], &x, 1) == 1)
                (void) mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        for (;;)
                pause();
        return 0;
}

static _Noreturn void held_crash(const char *dir, const char *name, struct hold_pipes *p)
{
        static char stack[64 * 1024] __attribute__((aligned(16)));
        unsigned long page = (unsigned long) sysconf(_SC_PAGESIZE);
        char path[4096], x;
        void *addr;
        int fd;

        (void) prctl(PR_SET_NAME, name);
        (void) snprintf(path, sizeof(path), "%s/" FILE_NAME, dir);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                _exit(122);
        addr = mmap(NULL, page, PROT_READ, MAP_PRIVATE, fd, (off_t) page);
        if (addr == MAP_FAILED)
                _exit(123);
        close(fd);
        /* Shares our memory, not our thread group: the crash leaves it running. */
        if (clone(sharer_main, stack + sizeof(stack), CLONE_VM | SIGCHLD, p) < 0)
                _exit(126);
        if (write(p->ready[1], &addr, sizeof(addr)) != (ssize_t) sizeof(addr) ||
            read(p->go_crash[0], &x, 1) != 1)
                _exit(127);

        volatile int *null = NULL;
        *null = 1;
        _exit(124);
}

/*
 * Returns the crashed child's pid; the reader's goes to *ret_reader. The crash
 * comes first: the kernel lists the task's mappings under the same lock
 * before it connects to the coredump socket, so a hold in place before the
 * crash would stop the dump before the daemon sees it. Held up while the
 * kernel waits for the daemon's answer, it stops the daemon's readers.
 */
static pid_t hold_mm(const char *dir, const char *name, pid_t *ret_reader)
{
        struct hold_pipes p;
        pid_t child, reader;
        void *addr = NULL;

        if (pipe2(p.ready, O_CLOEXEC) < 0 || pipe2(p.go_writer, O_CLOEXEC) < 0 ||
            pipe2(p.go_crash, O_CLOEXEC) < 0)
                return -1;
        child = fork();
        if (child < 0)
                return -1;
        if (child == 0)
                held_crash(dir, name, &p);
        if (read(p.ready[0], &addr, sizeof(addr)) != (ssize_t) sizeof(addr) ||
            write(p.go_crash[1], "c", 1) != 1)
                return -1;
        (void) usleep(300 * 1000);

        /* The reader: waits on the FUSE page with the task's mmap_lock held for reading. */
        reader = fork();
        if (reader < 0)
                return -1;
        if (reader == 0) {
                char mem[64], b;
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                (void) snprintf(mem, sizeof(mem), "/proc/%d/mem", (int) child);
                int fd = open(mem, O_RDONLY | O_CLOEXEC);
                _exit(fd >= 0 && pread(fd, &b, 1, (off_t) (uintptr_t) addr) == 1 ? 0 : 1);
        }
        *ret_reader = reader;
        (void) usleep(300 * 1000);
        /* Then a writer queues; readers that come after it wait too. */
        if (write(p.go_writer[1], "w", 1) != 1)
                return -1;
        (void) usleep(100 * 1000);
        fprintf(stderr, "cdp-fuse-crasher: mmap_lock of pid %d held up\n", (int) child);
        return child;
}

/* ---- set-up -------------------------------------------------------------------- */

static int mount_fuse(const char *dir)
{
        char opts[128];
        int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);

        if (fd < 0) {
                perror("cdp-fuse-crasher: /dev/fuse");
                return -1;
        }
        (void) snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
        if (mount("cdp-fuse", dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
                perror("cdp-fuse-crasher: mount");
                close(fd);
                return -1;
        }
        return fd;
}

/* The padding argument makes argv span several pages; added by re-executing once. */
static void ensure_padding(int argc, char **argv)
{
        char **nargv;
        char *pad;

        if (argc > 1 && strncmp(argv[argc - 1], PAD_OPTION, strlen(PAD_OPTION)) == 0)
                return;
        nargv = calloc((size_t) argc + 2, sizeof(char *));
        pad = malloc(strlen(PAD_OPTION) + PAD_BYTES + 1);
        if (!nargv || !pad)
                exit(1);
        strcpy(pad, PAD_OPTION);
        memset(pad + strlen(PAD_OPTION), 'x', PAD_BYTES);
        pad[strlen(PAD_OPTION) + PAD_BYTES] = 0;
        memcpy(nargv, argv, (size_t) argc * sizeof(char *));
        nargv[argc] = pad;
        execv("/proc/self/exe", nargv);
        perror("cdp-fuse-crasher: re-exec");
        exit(1);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "dir", required_argument, NULL, 'd' },
                { "name", required_argument, NULL, 'n' },
                { "pad", required_argument, NULL, 'p' },
                { "slow-pages", required_argument, NULL, 'P' },
                { "slow-ms", required_argument, NULL, 'M' },
                { "hold-mm", required_argument, NULL, 'H' },
                {},
        };
        const char *dir = NULL, *name = "fuse-argv";
        int c, fuse_fd, status;
        pid_t server, child, reader = -1;

        ensure_padding(argc, argv);
        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'n':
                        name = optarg;
                        break;
                case 'p':
                        break;
                case 'P':
                        slow_pages = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'M':
                        slow_ms = (unsigned) strtoul(optarg, NULL, 0);
                        break;
                case 'H':
                        hold_ms = atoi(optarg);
                        break;
                default:
                        return 2;
                }
        }
        if (!dir) {
                fprintf(stderr, "usage: cdp-fuse-crasher --dir EMPTY-DIR [--name NAME] [--slow-pages N "
                                "--slow-ms MS | --hold-mm MS]\n");
                return 2;
        }

        /* A private mount namespace: the mount is nobody else's to see, and dies with us. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                perror("cdp-fuse-crasher: mount namespace");
                return 1;
        }
        fuse_fd = mount_fuse(dir);
        if (fuse_fd < 0)
                return 1;

        server = fork();
        if (server < 0)
                return 1;
        if (server == 0)
                serve(fuse_fd);
        close(fuse_fd);

        if (hold_ms >= 0) {
                child = hold_mm(dir, name, &reader);
                if (child < 0)
                        return 1;
                if (hold_ms > 0) {
                        /* The hold ends: the server's end closing fails the reader's read. */
                        (void) usleep((useconds_t) hold_ms * 1000U);
                        kill(server, SIGKILL);
                }
        } else {
                child = fork();
                if (child < 0)
                        return 1;
                if (child == 0)
                        crash(dir, name);
        }

        while (waitpid(child, &status, 0) < 0)
                if (errno != EINTR) {
                        perror("cdp-fuse-crasher: waitpid");
                        return 1;
                }
        printf("pid=%d signal=%d coredump=%d exit=%d\n", (int) child,
               WIFSIGNALED(status) ? WTERMSIG(status) : 0, WIFSIGNALED(status) && WCOREDUMP(status) ? 1 : 0,
               WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        fflush(stdout);

        /* The server's end closing fails every read still waiting on it. */
        kill(server, SIGKILL);
        (void) waitpid(server, NULL, 0);
        if (reader > 0) {
                kill(reader, SIGKILL);
                (void) waitpid(reader, NULL, 0);
        }
        (void) umount2(dir, MNT_DETACH);
        return 0;
}
