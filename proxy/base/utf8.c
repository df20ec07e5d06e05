/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <stdint.h>

#include "proxy/base/utf8.h"

/*
 * json-c's JSON_TOKENER_VALIDATE_UTF8 checks only the lead/continuation byte
 * pattern: overlongs, encoded surrogates and code points above U+10FFFF pass it.
 */
bool utf8_valid(const char *text, size_t n)
{
        const unsigned char *s = (const unsigned char *) text;
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i];
                uint32_t cp, min;
                size_t seq;

                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        seq = 2;
                        cp = c & 0x1f;
                        min = 0x80;
                } else if (c >= 0xe0 && c <= 0xef) {
                        seq = 3;
                        cp = c & 0x0f;
                        min = 0x800;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        seq = 4;
                        cp = c & 0x07;
                        min = 0x10000;
                } else
                        return false;
                if (seq > n - i)
                        return false;
                for (size_t k = 1; k < seq; k++) {
                        if ((s[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + k] & 0x3f);
                }
                if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += seq;
        }
        return true;
}
