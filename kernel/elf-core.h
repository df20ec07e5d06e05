/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Facts the kernel wrote into a core file itself: the start of the task's
 * command line, from its NT_PRPSINFO note (pr_psargs). Reading them from
 * the core costs nothing on the dump path, where reading
 * /proc/<pid>/cmdline would copy the crashing task's own memory (which it
 * can make a read block on for ever). The core is parsed with every
 * offset, count and size bounded; only cores of this machine's own ELF
 * class and machine are read.
 */

#include <stddef.h>

/* pr_psargs: the first 80 bytes of argv, NULs turned into spaces by the kernel. */
#define ELF_CORE_PSARGS_MAX 80

/* The command line from the core open at fd (read with pread); -ENOMSG when the core has none. */
int elf_core_psargs(int fd, char ret[static ELF_CORE_PSARGS_MAX + 1]);

/* The same on a buffer holding the start of a core (for the fuzz target): len bytes from offset 0. */
int elf_core_psargs_buf(const void *buf, size_t len, char ret[static ELF_CORE_PSARGS_MAX + 1]);
