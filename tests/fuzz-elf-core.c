/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The core's notes parser (kernel/elf-core.c) on arbitrary bytes: it must
 * never read out of bounds and must always return a bounded string.
 */

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernel/elf-core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char psargs[ELF_CORE_PSARGS_MAX + 1];

        memset(psargs, 'x', sizeof(psargs));
        if (elf_core_psargs_buf(data, size, psargs) == 0 &&
            strnlen(psargs, sizeof(psargs)) > ELF_CORE_PSARGS_MAX)
                __builtin_trap();
        return 0;
}
