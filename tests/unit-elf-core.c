/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The command line from a core's NT_PRPSINFO note (kernel/elf-core.c):
 * cores laid out the way the kernel writes them, and every way one can be
 * broken. With CDP_WRITE_CORPUS=DIR it also writes its cores as fuzz seeds.
 */

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/elf-core.h"
#include "tests/tap.h"

struct core {
        Elf64_Ehdr e;
        Elf64_Phdr note;
        Elf64_Phdr load;
        Elf64_Nhdr prstatus_h;
        char prstatus_name[8];
        uint8_t prstatus[336];
        Elf64_Nhdr psinfo_h;
        char psinfo_name[8];
        struct elf_prpsinfo psinfo;
} __attribute__((packed));

/* A core as the kernel writes one: headers, then the notes (PRSTATUS before PRPSINFO), then memory. */
static void make_core(struct core *c, const char *psargs)
{
        memset(c, 0, sizeof(*c));
        memcpy(c->e.e_ident, ELFMAG, SELFMAG);
        c->e.e_ident[EI_CLASS] = ELFCLASS64;
        c->e.e_ident[EI_DATA] = ELFDATA2LSB;
        c->e.e_ident[EI_VERSION] = EV_CURRENT;
        c->e.e_type = ET_CORE;
        c->e.e_machine = EM_X86_64;
        c->e.e_version = EV_CURRENT;
        c->e.e_phoff = sizeof(Elf64_Ehdr);
        c->e.e_ehsize = sizeof(Elf64_Ehdr);
        c->e.e_phentsize = sizeof(Elf64_Phdr);
        c->e.e_phnum = 2;
        c->note.p_type = PT_NOTE;
        c->note.p_offset = offsetof(struct core, prstatus_h);
        c->note.p_filesz = sizeof(*c) - c->note.p_offset;
        c->load.p_type = PT_LOAD;
        c->prstatus_h =
                (Elf64_Nhdr){ .n_namesz = 5, .n_descsz = sizeof(c->prstatus), .n_type = NT_PRSTATUS };
        memcpy(c->prstatus_name, "CORE", 5);
        c->psinfo_h = (Elf64_Nhdr){ .n_namesz = 5, .n_descsz = sizeof(c->psinfo), .n_type = NT_PRPSINFO };
        memcpy(c->psinfo_name, "CORE", 5);
        memcpy(c->psinfo.pr_fname, "app", 3);
        memcpy(c->psinfo.pr_psargs, psargs, MIN(strlen(psargs), sizeof(c->psinfo.pr_psargs)));
}

static int parse(const struct core *c, size_t len, char out[static ELF_CORE_PSARGS_MAX + 1])
{
        return elf_core_psargs_buf(c, len, out);
}

static void seed(const char *name, const void *buf, size_t len)
{
        const char *dir = getenv("CDP_WRITE_CORPUS");
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;

        if (!dir || asprintf(&path, "%s/%s", dir, name) < 0)
                return;
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd >= 0)
                (void) !write(fd, buf, len);
}

int main(void)
{
        struct core c;
        char out[ELF_CORE_PSARGS_MAX + 1];
        char full[ELF_CORE_PSARGS_MAX + 1];

        if (sizeof(void *) != 8 || EM_X86_64 != 62)
                tap_skip_all("the synthetic cores are x86_64 ones");
#if !defined(__x86_64__)
        tap_skip_all("the synthetic cores are x86_64 ones");
#endif

        make_core(&c, "/usr/bin/app --serve --port 80");
        seed("kernel-layout", &c, sizeof(c));
        is_int(parse(&c, sizeof(c), out), 0, "a kernel-layout core: found");
        is_str(out, "/usr/bin/app --serve --port 80", "the command line as the kernel wrote it");

        make_core(&c, "sh -c x   ");
        is_int(parse(&c, sizeof(c), out), 0, "trailing spaces: found");
        is_str(out, "sh -c x", "trailing spaces (the kernel's NULs) trimmed");

        memset(full, 'a', ELF_CORE_PSARGS_MAX);
        full[ELF_CORE_PSARGS_MAX] = 0;
        make_core(&c, full);
        is_int(parse(&c, sizeof(c), out), 0, "80 bytes without a NUL: found");
        is_int((int) strlen(out), ELF_CORE_PSARGS_MAX, "never more than pr_psargs holds");

        make_core(&c, "x");
        unsigned early = 0;
        for (size_t cut = 0; cut < offsetof(struct core, psinfo) + sizeof(c.psinfo); cut += 7)
                early += parse(&c, cut, out) == 0;
        is_int(early, 0,
               "a core cut anywhere before the end of its note gives nothing (and ASan sees no read "
               "beyond)");
        seed("cut-in-notes", &c, offsetof(struct core, psinfo_h) + 4);

        make_core(&c, "x");
        c.e.e_ident[EI_CLASS] = ELFCLASS32;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "another ELF class: not ours to read");
        make_core(&c, "x");
        c.e.e_machine = EM_AARCH64;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "another machine: not ours to read");
        make_core(&c, "x");
        c.e.e_type = ET_EXEC;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "not a core");

        make_core(&c, "x");
        c.psinfo_h.n_namesz = 0xfffffff0;
        seed("huge-namesz", &c, sizeof(c));
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "a note whose name runs past the segment");
        make_core(&c, "x");
        c.prstatus_h.n_descsz = 0xffffffff;
        seed("huge-descsz", &c, sizeof(c));
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "a note before it whose data runs past the segment");
        make_core(&c, "x");
        c.psinfo_h.n_descsz = 8;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "a prpsinfo too short to hold pr_psargs");
        make_core(&c, "x");
        c.e.e_phoff = UINT64_MAX - 8;
        seed("phoff-wraps", &c, sizeof(c));
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "program headers beyond the file");
        make_core(&c, "x");
        c.note.p_offset = UINT64_MAX;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "notes beyond the file");
        make_core(&c, "x");
        c.e.e_phnum = 0;
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "no program headers");
        make_core(&c, "x");
        memcpy(c.psinfo_name, "LINUX", 5);
        is_int(parse(&c, sizeof(c), out), -ENOMSG, "a prpsinfo of another owner");

        /* Through a file, as the store reads the core it just wrote. */
        char path[] = "/tmp/unit-elf-core.XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        make_core(&c, "from a file");
        ok(fd >= 0 && write(fd, &c, sizeof(c)) == (ssize_t) sizeof(c), "a core file written");
        is_int(elf_core_psargs(fd, out), 0, "read back with pread");
        is_str(out, "from a file", "the command line from the file");
        (void) unlink(path);
        return tap_done();
}
