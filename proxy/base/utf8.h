/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * UTF-8 as JSON documents of ours must carry it. Apart from jsonr.c, which
 * wraps json-c: the names' checks use it in the pipe helper too, which
 * links no json-c.
 */

#include <stdbool.h>
#include <stddef.h>

/* Whether s (len bytes) is well-formed UTF-8: no overlongs, surrogates or code points above U+10FFFF. */
bool utf8_valid(const char *s, size_t len);
