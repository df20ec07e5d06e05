/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * coredump-proxy-summary: a crash summary of the core on stdin, as one JSON
 * object on stdout (docs/metadata.md, "summary"): the executable's build-id,
 * every mapped module with its build-id, and the crashing thread's frames as
 * module+offset, with the function where the module's ELF file is readable.
 *
 * A core is untrusted input and libdw a large parser: before it reads a byte
 * of ELF this program drops to nobody, sets no_new_privs, bounds its address
 * space and CPU time, and loads its own seccomp allowlist in which files can
 * only be opened for reading (the modules' ELF files). The runner
 * (proxy/store/summarize.c) adds the wall-clock limit and checks what comes
 * out; nothing here can touch the dump, which it only gets to read.
 */

#include <elfutils/libdwfl.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <grp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zstd.h>

#include "kernel/cleanup.h"
#include "proxy/base/fault.h"
#include "proxy/base/jsonw.h"

#define SUMMARY_UID         65534
#define SUMMARY_AS_MAX      (512ULL << 20)
#define SUMMARY_CPU_SEC     10
#define SUMMARY_RAW_MAX     (1ULL << 30) /* a .zst core decompressed, at most (in memory: a memfd) */
#define SUMMARY_JSON_BUDGET (192 * 1024) /* the runner takes 256 KiB */
#define SUMMARY_MODULES     256
#define SUMMARY_FRAMES      64
#define SUMMARY_NAME_MAX    1024
#define SUMMARY_BUILDID     64 /* bytes */
#define ZSTD_MAGIC          0xFD2FB528U

struct module {
        char *name;
        char build_id[2 * SUMMARY_BUILDID + 1];
        Dwarf_Addr start;
};

struct frame {
        const char *module;
        Dwarf_Addr offset;
        char *function;
};

struct summary {
        Dwfl *dwfl;
        struct module modules[SUMMARY_MODULES];
        size_t n_modules;
        struct frame frames[SUMMARY_FRAMES];
        size_t n_frames;
        const char *error;
        char error_buf[256];
};

static void hex(const unsigned char *b, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";

        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 15];
        }
        out[2 * n] = 0;
}

static char *bounded_dup(const char *s)
{
        return s ? strndup(s, SUMMARY_NAME_MAX) : NULL;
}

static int module_cb(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr start, void *arg)
{
        struct summary *s = arg;
        const unsigned char *bits;
        GElf_Addr vaddr;
        int n;

        (void) userdata;
        if (s->n_modules >= SUMMARY_MODULES)
                return DWARF_CB_ABORT;
        struct module *m = &s->modules[s->n_modules++];
        m->name = bounded_dup(name);
        m->start = start;
        n = dwfl_module_build_id(mod, &bits, &vaddr);
        if (n > 0 && n <= SUMMARY_BUILDID)
                hex(bits, (size_t) n, m->build_id);
        return DWARF_CB_OK;
}

static int frame_cb(Dwfl_Frame *state, void *arg)
{
        struct summary *s = arg;
        Dwarf_Addr pc, start;
        bool activation;
        const char *name;

        if (s->n_frames >= SUMMARY_FRAMES || !dwfl_frame_pc(state, &pc, &activation))
                return DWARF_CB_ABORT;
        /* A return address points after the call: look up the call itself. */
        Dwarf_Addr lookup = activation ? pc : pc - 1;
        struct frame *f = &s->frames[s->n_frames++];
        Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, lookup);
        f->offset = pc;
        if (!mod)
                return DWARF_CB_OK;
        name = dwfl_module_info(mod, NULL, &start, NULL, NULL, NULL, NULL, NULL);
        for (size_t i = 0; i < s->n_modules; i++)
                if (s->modules[i].start == start)
                        f->module = s->modules[i].name;
        f->offset = pc - start;
        if (!f->module)
                f->module = name; /* owned by dwfl, which lives until the output is written */
        f->function = bounded_dup(dwfl_module_addrname(mod, lookup));
        return DWARF_CB_OK;
}

/* The first thread in a core's notes is the one that took the signal. */
static int thread_cb(Dwfl_Thread *thread, void *arg)
{
        struct summary *s = arg;

        (void) dwfl_thread_getframes(thread, frame_cb, s);
        return DWARF_CB_ABORT;
}

static void fail(struct summary *s, const char *what, const char *why)
{
        (void) snprintf(s->error_buf, sizeof(s->error_buf), "%s: %s", what, why);
        s->error = s->error_buf;
}

static void analyze(struct summary *s, int fd)
{
        static char *debuginfo_path = NULL;
        static const Dwfl_Callbacks callbacks = {
                .find_elf = dwfl_build_id_find_elf,
                .find_debuginfo = dwfl_standard_find_debuginfo,
                .debuginfo_path = &debuginfo_path,
        };
        Elf *core;

        elf_version(EV_CURRENT);
        core = elf_begin(fd, ELF_C_READ, NULL);
        if (!core || elf_kind(core) != ELF_K_ELF)
                return fail(s, "not an ELF core", elf_errmsg(-1));
        s->dwfl = dwfl_begin(&callbacks);
        if (!s->dwfl)
                return fail(s, "dwfl_begin", dwfl_errmsg(-1));
        if (dwfl_core_file_report(s->dwfl, core, NULL) < 0)
                return fail(s, "dwfl_core_file_report", dwfl_errmsg(-1));
        (void) dwfl_report_end(s->dwfl, NULL, NULL);
        (void) dwfl_getmodules(s->dwfl, module_cb, s, 0);
        if (dwfl_core_file_attach(s->dwfl, core) < 0)
                return fail(s, "dwfl_core_file_attach", dwfl_errmsg(-1));
        if (dwfl_getthreads(s->dwfl, thread_cb, s) < 0 && s->n_frames == 0)
                return fail(s, "unwinding", dwfl_errmsg(-1));
}

/* The executable: the lowest mapped file (below the libraries for PIE and non-PIE alike). */
static const struct module *executable(const struct summary *s)
{
        const struct module *best = NULL;

        for (size_t i = 0; i < s->n_modules; i++)
                if (s->modules[i].name && s->modules[i].name[0] == '/' &&
                    (!best || s->modules[i].start < best->start))
                        best = &s->modules[i];
        return best;
}

static int print(const struct summary *s)
{
        const struct module *exe = executable(s);
        _cleanup_free_ char *out = NULL;
        struct jsonw w;
        bool cut = false;
        size_t len;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "status", s->error ? (s->n_modules > 0 ? "partial" : "failed") : "ok");
        if (s->error)
                jsonw_kv_string(&w, "error", s->error);
        if (exe && exe->build_id[0])
                jsonw_kv_string(&w, "build_id", exe->build_id);
        if (exe)
                jsonw_kv_string(&w, "executable", exe->name);
        /* Frames first: over the budget (the runner takes 256 KiB), the rest is left out and flagged. */
        jsonw_key(&w, "frames");
        jsonw_array_begin(&w);
        for (size_t i = 0; i < s->n_frames && !(cut = w.len > SUMMARY_JSON_BUDGET); i++) {
                jsonw_object_begin(&w);
                jsonw_kv_string(&w, "module", s->frames[i].module);
                jsonw_kv_uint(&w, "offset", s->frames[i].offset);
                if (s->frames[i].function)
                        jsonw_kv_string(&w, "function", s->frames[i].function);
                jsonw_object_end(&w);
        }
        jsonw_array_end(&w);
        jsonw_key(&w, "modules");
        jsonw_array_begin(&w);
        for (size_t i = 0; i < s->n_modules && !(cut = cut || w.len > SUMMARY_JSON_BUDGET); i++) {
                jsonw_object_begin(&w);
                jsonw_kv_string(&w, "name", s->modules[i].name);
                if (s->modules[i].build_id[0])
                        jsonw_kv_string(&w, "build_id", s->modules[i].build_id);
                jsonw_kv_uint(&w, "start", s->modules[i].start);
                jsonw_object_end(&w);
        }
        jsonw_array_end(&w);
        if (cut || s->n_modules == SUMMARY_MODULES || s->n_frames == SUMMARY_FRAMES)
                jsonw_kv_bool(&w, "cut", true);
        jsonw_object_end(&w);
        if (jsonw_finish(&w, &out, &len) < 0)
                return -ENOMEM;
        for (size_t off = 0; off < len;) {
                ssize_t k = write(STDOUT_FILENO, out + off, len - off);
                if (k <= 0)
                        return -EIO;
                off += (size_t) k;
        }
        return 0;
}

/* A .core.zst: decompressed into a memfd, at most SUMMARY_RAW_MAX bytes (then cut: still a summary). */
static int decompress(int in, int *ret_fd)
{
        _cleanup_close_ int out = memfd_create("core", MFD_CLOEXEC);
        ZSTD_DStream *z = ZSTD_createDStream();
        static char ibuf[1 << 17], obuf[1 << 17];
        unsigned long long total = 0;
        ssize_t k;
        int r = 0;

        if (out < 0 || !z) {
                ZSTD_freeDStream(z);
                return out < 0 ? -errno : -ENOMEM;
        }
        while (r == 0 && total < SUMMARY_RAW_MAX && (k = read(in, ibuf, sizeof(ibuf))) > 0) {
                ZSTD_inBuffer ib = { ibuf, (size_t) k, 0 };
                while (ib.pos < ib.size) {
                        ZSTD_outBuffer ob = { obuf, sizeof(obuf), 0 };
                        if (ZSTD_isError(ZSTD_decompressStream(z, &ob, &ib))) {
                                r = -EBADMSG;
                                break;
                        }
                        if (ob.pos > 0 && write(out, obuf, ob.pos) != (ssize_t) ob.pos) {
                                r = -EIO;
                                break;
                        }
                        total += ob.pos;
                }
        }
        ZSTD_freeDStream(z);
        if (r < 0 && total == 0)
                return r;
        *ret_fd = TAKE_FD(out);
        return 0;
}

static int drop_privileges(void)
{
        struct rlimit as = { SUMMARY_AS_MAX, SUMMARY_AS_MAX }, cpu = { SUMMARY_CPU_SEC, SUMMARY_CPU_SEC };
        struct rlimit none = { 0, 0 };

        if (getuid() == 0 || geteuid() == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(SUMMARY_UID, SUMMARY_UID, SUMMARY_UID) < 0 ||
                    setresuid(SUMMARY_UID, SUMMARY_UID, SUMMARY_UID) < 0)
                        return -errno;
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        if (setrlimit(RLIMIT_AS, &as) < 0 || setrlimit(RLIMIT_CPU, &cpu) < 0 ||
            setrlimit(RLIMIT_CORE, &none) < 0 || setrlimit(RLIMIT_NPROC, &none) < 0)
                return -errno;
        return 0;
}

/*
 * What libdw needs to read ELF, and no more: files may be opened for
 * reading only (EACCES otherwise, which libdw reports), output goes to
 * stdout and stderr only, anything else kills the process.
 */
static int confine(void)
{
        static const int allowed[] = {
                SCMP_SYS(read),
                SCMP_SYS(pread64),
                SCMP_SYS(lseek),
                SCMP_SYS(close),
                SCMP_SYS(fstat),
                SCMP_SYS(newfstatat),
                SCMP_SYS(statx),
                SCMP_SYS(mmap),
                SCMP_SYS(munmap),
                SCMP_SYS(mremap),
                SCMP_SYS(brk),
                SCMP_SYS(madvise),
                SCMP_SYS(mprotect),
                SCMP_SYS(exit),
                SCMP_SYS(exit_group),
                SCMP_SYS(rt_sigreturn),
                SCMP_SYS(futex),
                SCMP_SYS(getpid),
                SCMP_SYS(gettid),
                SCMP_SYS(readlink),
                SCMP_SYS(readlinkat),
                SCMP_SYS(getcwd),
                SCMP_SYS(access),
                SCMP_SYS(faccessat),
                SCMP_SYS(faccessat2),
                SCMP_SYS(fcntl),
                SCMP_SYS(getrandom),
                SCMP_SYS(clock_gettime),
                SCMP_SYS(rt_sigprocmask),
                SCMP_SYS(getdents64),
        };
        const unsigned long writes = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND | O_TMPFILE;
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        int r = ctx ? 0 : -ENOMEM;

        for (size_t i = 0; r == 0 && i < ARRAY_SIZE(allowed); i++)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, writes, O_RDONLY));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, writes & ~(unsigned long) O_ACCMODE, 0));
        for (unsigned long bit = O_CREAT; r == 0 && bit <= O_TMPFILE; bit <<= 1)
                if (writes & bit)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 1,
                                             SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
        /*
         * libdebuginfod's client (libdwfl begins one when a module's files are
         * not found locally) makes sockets at once: refused, it is not begun,
         * and the summary goes on with what is local. Never a network.
         */
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socketpair), 0);
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 0);
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_LE, 2));
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

int main(void)
{
        static struct summary s;
        _cleanup_close_ int raw = -EBADF;
        uint32_t magic = 0;
        int fd = STDIN_FILENO, r;

        /* libdw would ask a debuginfod server: no network here (the filter would kill it). */
        (void) unsetenv("DEBUGINFOD_URLS");
        r = drop_privileges();
        if (r < 0)
                fail(&s, "cannot drop privileges", strerror(-r));
        if (!s.error && pread(fd, &magic, sizeof(magic), 0) == (ssize_t) sizeof(magic) &&
            magic == ZSTD_MAGIC) {
                r = decompress(fd, &raw);
                if (r < 0)
                        fail(&s, "cannot decompress", strerror(-r));
                fd = raw;
        }
        if (fault_hit("summary-sleep"))
                (void) sleep(3600);
        /*
         * libdwfl dlopen()s libdebuginfod the first time a module's files are
         * not found locally (a stripped /bin/sh without its debug package),
         * and that library's dependencies (libcurl, gnutls) run their
         * initialisers then: socketpair, config files, more. Loaded here,
         * before the filter, they have done so; with DEBUGINFOD_URLS unset the
         * client asks no server (-ENOSYS before any cache or socket).
         */
        (void) dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_GLOBAL);
        if (!s.error) {
                r = confine();
                if (r < 0)
                        fail(&s, "cannot load the seccomp filter", strerror(-r));
        }
        if (fault_hit("summary-open-write")) {
                int t = open("/tmp/cdp-summary-write-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
                fail(&s, "open for writing", t >= 0 ? "allowed" : strerror(errno));
        }
        if (fault_hit("summary-garbage")) {
                /* Cut short, as from a parser gone wrong: the runner must refuse it. */
                return fputs("{\"status\":\"ok\",", stdout) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }
        if (fault_hit("summary-crash"))
                abort();
        if (!s.error)
                analyze(&s, fd);
        return print(&s) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
