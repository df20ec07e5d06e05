/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/elf-core.h"

#if __SIZEOF_POINTER__ == 8
#define ELF_NATIVE_CLASS ELFCLASS64
typedef Elf64_Ehdr ehdr_t;
typedef Elf64_Phdr phdr_t;
typedef Elf64_Nhdr nhdr_t;
#else
#define ELF_NATIVE_CLASS ELFCLASS32
typedef Elf32_Ehdr ehdr_t;
typedef Elf32_Phdr phdr_t;
typedef Elf32_Nhdr nhdr_t;
#endif

#if defined(__x86_64__)
#define ELF_NATIVE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define ELF_NATIVE_MACHINE EM_AARCH64
#elif defined(__i386__)
#define ELF_NATIVE_MACHINE EM_386
#elif defined(__s390x__)
#define ELF_NATIVE_MACHINE EM_S390
#elif defined(__powerpc64__)
#define ELF_NATIVE_MACHINE EM_PPC64
#elif defined(__riscv)
#define ELF_NATIVE_MACHINE EM_RISCV
#else
#define ELF_NATIVE_MACHINE EM_NONE
#endif

/*
 * The kernel writes the program headers right after the ELF header and the
 * notes first; a core whose notes start further in, or that has more
 * headers before them, is not one the kernel wrote.
 */
#define PHDRS_SCANNED 64
#define NOTES_READ    (64U * 1024U)

/* Reads exactly n bytes at off from either a file or a buffer. */
struct source {
        int fd;
        const uint8_t *buf;
        size_t len;
};

static int source_read(const struct source *s, uint64_t off, void *out, size_t n)
{
        if (s->buf) {
                if (off > s->len || n > s->len - off)
                        return -ENOMSG;
                memcpy(out, s->buf + off, n);
                return 0;
        }
        if (off > (uint64_t) INT64_MAX)
                return -ENOMSG;
        ssize_t k = pread(s->fd, out, n, (off_t) off);
        if (k < 0)
                return negative_errno();
        return (size_t) k == n ? 0 : -ENOMSG;
}

static size_t align4(size_t n)
{
        return (n + 3) & ~(size_t) 3;
}

/* Walks the notes for NT_PRPSINFO of owner "CORE". */
static int find_psargs(const uint8_t *notes, size_t len, char ret[static ELF_CORE_PSARGS_MAX + 1])
{
        for (size_t off = 0; len - off >= sizeof(nhdr_t);) {
                nhdr_t h;
                size_t name_at, desc_at, next;

                memcpy(&h, notes + off, sizeof(h));
                name_at = off + sizeof(h);
                if (h.n_namesz > len - name_at)
                        break;
                desc_at = name_at + align4(h.n_namesz);
                if (desc_at > len || h.n_descsz > len - desc_at)
                        break;
                next = desc_at + align4(h.n_descsz);
                if (h.n_type == NT_PRPSINFO && h.n_namesz == 5 && memcmp(notes + name_at, "CORE", 5) == 0 &&
                    h.n_descsz >= sizeof(struct elf_prpsinfo)) {
                        const char *psargs =
                                (const char *) notes + desc_at + offsetof(struct elf_prpsinfo, pr_psargs);
                        size_t n = strnlen(psargs, ELF_CORE_PSARGS_MAX);

                        memcpy(ret, psargs, n);
                        ret[n] = 0;
                        /* The kernel leaves trailing spaces where argv ended in NULs. */
                        while (n > 0 && ret[n - 1] == ' ')
                                ret[--n] = 0;
                        return 0;
                }
                if (next <= off || next > len)
                        break;
                off = next;
        }
        return -ENOMSG;
}

static int psargs_from(const struct source *s, char ret[static ELF_CORE_PSARGS_MAX + 1])
{
        _cleanup_free_ uint8_t *notes = NULL;
        ehdr_t e;
        int r;

        r = source_read(s, 0, &e, sizeof(e));
        if (r < 0)
                return r;
        if (memcmp(e.e_ident, ELFMAG, SELFMAG) != 0 || e.e_ident[EI_CLASS] != ELF_NATIVE_CLASS ||
            e.e_type != ET_CORE || e.e_machine != ELF_NATIVE_MACHINE || e.e_phentsize != sizeof(phdr_t))
                return -ENOMSG;
        for (unsigned i = 0; i < MIN((unsigned) e.e_phnum, (unsigned) PHDRS_SCANNED); i++) {
                phdr_t p;

                r = source_read(s, (uint64_t) e.e_phoff + (uint64_t) i * sizeof(p), &p, sizeof(p));
                if (r < 0)
                        return r;
                if (p.p_type != PT_NOTE)
                        continue;
                size_t n = (size_t) MIN((uint64_t) p.p_filesz, (uint64_t) NOTES_READ);
                notes = malloc(n > 0 ? n : 1);
                if (!notes)
                        return -ENOMEM;
                r = source_read(s, p.p_offset, notes, n);
                if (r < 0)
                        return r;
                return find_psargs(notes, n, ret);
        }
        return -ENOMSG;
}

int elf_core_psargs(int fd, char ret[static ELF_CORE_PSARGS_MAX + 1])
{
        struct source s = { .fd = fd };

        return psargs_from(&s, ret);
}

int elf_core_psargs_buf(const void *buf, size_t len, char ret[static ELF_CORE_PSARGS_MAX + 1])
{
        struct source s = { .fd = -EBADF, .buf = buf, .len = len };

        return psargs_from(&s, ret);
}
