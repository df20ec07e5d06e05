/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The compact JSON writer: layout, escapes, the U+FFFD policy for bytes that are
 * not UTF-8, and that whatever a crashing process puts in its strings comes out
 * as a document json-c's strict, UTF-8 validating tokener accepts.
 */

#include <errno.h>
#include <string.h>

#include <json-c/json.h>

#include "config/jsonc.h"

#include "kernel/cleanup.h"
#include "tests/tap.h"
#include "proxy/base/jsonw.h"

#define FFFD "\xef\xbf\xbd"

/* Finishes w and returns the document, or NULL after printing the error. */
static char *finish(struct jsonw *w)
{
        char *s = NULL;
        size_t n = 0;
        int r;

        r = jsonw_finish(w, &s, &n);
        if (r < 0) {
                tap_diag("jsonw_finish: %s", strerror(-r));
                return NULL;
        }
        if (strlen(s) != n)
                tap_diag("jsonw_finish: length %zu, strlen %zu", n, strlen(s));
        return s;
}

/* The document holding one string, as the writer renders it. */
static char *string_doc(const char *s, size_t len)
{
        struct jsonw w;

        jsonw_init(&w);
        jsonw_string_len(&w, s, len);
        return finish(&w);
}

static void check_string(const char *in, size_t len, const char *want, const char *what)
{
        _cleanup_free_ char *got = string_doc(in, len);

        is_str(got, want, "string: %s", what);
}

/* Parses doc the way the project parses every peer's JSON; NULL if json-c refuses it. */
static struct json_object *strict_parse(const char *doc, size_t len)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
        struct json_object *o;

        if (!tok)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        o = json_tokener_parse_ex(tok, doc, (int) len);
        if (json_tokener_get_error(tok) != json_tokener_success || json_tokener_get_parse_end(tok) != len) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

static void test_layout(void)
{
        _cleanup_(json_object_putp) struct json_object *parsed = NULL;
        _cleanup_free_ char *s = NULL;
        struct jsonw w;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_int(&w, "a", 1);
        jsonw_kv_string(&w, "b", "x");
        jsonw_key(&w, "c");
        jsonw_array_begin(&w);
        jsonw_int(&w, 1);
        jsonw_int(&w, -2);
        jsonw_object_begin(&w);
        jsonw_object_end(&w);
        jsonw_array_begin(&w);
        jsonw_array_end(&w);
        jsonw_string(&w, NULL);
        jsonw_null(&w);
        jsonw_array_end(&w);
        jsonw_kv_null(&w, "d");
        jsonw_kv_bool(&w, "e", true);
        jsonw_kv_bool(&w, "f", false);
        jsonw_kv_uint(&w, "g", UINT64_MAX);
        jsonw_kv_int(&w, "h", INT64_MIN);
        jsonw_kv_string(&w, "i", NULL);
        jsonw_key(&w, "j");
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "k", "");
        jsonw_object_end(&w);
        jsonw_object_end(&w);
        s = finish(&w);
        is_str(s,
               "{\"a\":1,\"b\":\"x\",\"c\":[1,-2,{},[],null,null],\"d\":null,\"e\":true,\"f\":false,"
               "\"g\":18446744073709551615,\"h\":-9223372036854775808,\"i\":null,\"j\":{\"k\":\"\"}}",
               "layout: nesting, commas, every kind of value, no whitespace");
        parsed = s ? strict_parse(s, strlen(s)) : NULL;
        ok(parsed, "layout: json-c accepts it");
        jsonw_done(&w);

        s = mfree_str(s);
        jsonw_init(&w);
        jsonw_array_begin(&w);
        jsonw_array_end(&w);
        s = finish(&w);
        is_str(s, "[]", "layout: empty array at the top");

        s = mfree_str(s);
        jsonw_init(&w);
        jsonw_uint(&w, 0);
        s = finish(&w);
        is_str(s, "0", "layout: a scalar document");
}

static void test_escapes(void)
{
        check_string("plain", 5, "\"plain\"", "plain ASCII");
        check_string("\"\\/", 3, "\"\\\"\\\\/\"", "quote and backslash escaped, slash left alone");
        check_string("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"", "short escapes");
        check_string("\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"", "other controls and DEL as \\u00XX");
        check_string("a\0b", 3, "\"a\\u0000b\"", "NUL inside a counted string");
        check_string("", 0, "\"\"", "empty string");
        check_string(NULL, 0, "null", "NULL writes null");
}

static void test_utf8(void)
{
        /* well-formed sequences at the edges of each range stay as they are */
        check_string("\xc2\x80", 2, "\"\xc2\x80\"", "U+0080");
        check_string("\xc3\xa9", 2, "\"\xc3\xa9\"", "U+00E9");
        check_string("\xe0\xa0\x80", 3, "\"\xe0\xa0\x80\"", "U+0800");
        check_string("\xed\x9f\xbf", 3, "\"\xed\x9f\xbf\"", "U+D7FF, last before the surrogates");
        check_string("\xee\x80\x80", 3, "\"\xee\x80\x80\"", "U+E000, first after the surrogates");
        check_string("\xef\xbf\xbf", 3, "\"\xef\xbf\xbf\"", "U+FFFF");
        check_string("\xf0\x9f\x98\x80", 4, "\"\xf0\x9f\x98\x80\"", "a 4-byte emoji stays intact");
        check_string("\xf4\x8f\xbf\xbf", 4, "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF");
        check_string("\xe2\x82\xac\xc3\xa9x", 6, "\"\xe2\x82\xac\xc3\xa9x\"", "mixed valid run");

        /* each maximal ill-formed subpart becomes one U+FFFD */
        check_string("\x80", 1, "\"" FFFD "\"", "lone continuation byte");
        check_string("a\xbf\x80z", 4, "\"a" FFFD FFFD "z\"", "two stray continuation bytes");
        check_string("\xc0\x80", 2, "\"" FFFD FFFD "\"", "overlong NUL (C0 80)");
        check_string("\xc1\xbf", 2, "\"" FFFD FFFD "\"", "overlong 2-byte (C1)");
        check_string("\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"", "overlong 3-byte (E0 80 AF)");
        check_string("\xf0\x80\x80\xaf", 4, "\"" FFFD FFFD FFFD FFFD "\"", "overlong 4-byte (F0 80..)");
        check_string("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"", "high surrogate U+D800");
        check_string("\xed\xbf\xbf", 3, "\"" FFFD FFFD FFFD "\"", "low surrogate U+DFFF");
        check_string("\xed\xa0\xbd\xed\xb8\x80", 6, "\"" FFFD FFFD FFFD FFFD FFFD FFFD "\"",
                     "CESU-8 surrogate pair");
        check_string("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"", "U+110000, above the range");
        check_string("\xf5\x80\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\"", "F5 lead byte");
        check_string("\xfe\xff", 2, "\"" FFFD FFFD "\"", "FE and FF");
        check_string("\xe2\x82", 2, "\"" FFFD "\"", "3-byte sequence truncated at the end");
        check_string("\xf0\x9f\x98", 3, "\"" FFFD "\"", "4-byte sequence truncated at the end");
        check_string("\xc3", 1, "\"" FFFD "\"", "2-byte sequence truncated at the end");
        check_string("\xe2\x82Z", 3, "\"" FFFD "Z\"", "truncated sequence before ASCII");
        check_string("\xf0\x9f\x98\n", 4, "\"" FFFD "\\n\"", "truncated sequence before a control");
        check_string("\xc3\xc3\xa9", 3, "\"" FFFD "\xc3\xa9\"", "truncated sequence before a valid one");
}

/* xorshift64*: the same bytes on every run and every libc */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        return rng_state * 0x2545f4914f6cdd1dULL;
}

static size_t encode_utf8(uint32_t cp, char *out)
{
        if (cp < 0x80) {
                out[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                out[0] = (char) (0xc0 | (cp >> 6));
                out[1] = (char) (0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                out[0] = (char) (0xe0 | (cp >> 12));
                out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
                out[2] = (char) (0x80 | (cp & 0x3f));
                return 3;
        }
        out[0] = (char) (0xf0 | (cp >> 18));
        out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char) (0x80 | (cp & 0x3f));
        return 4;
}

/*
 * json-c's UTF-8 check passes overlongs, surrogates and code points above
 * U+10FFFF, so the output is also decoded here, independently of the writer.
 */
static bool utf8_strict(const unsigned char *s)
{
        while (*s) {
                uint32_t cp;
                unsigned extra;

                if (*s < 0x80) {
                        s++;
                        continue;
                }
                if ((*s & 0xe0) == 0xc0)
                        extra = 1;
                else if ((*s & 0xf0) == 0xe0)
                        extra = 2;
                else if ((*s & 0xf8) == 0xf0)
                        extra = 3;
                else
                        return false;
                cp = *s & (0x3f >> extra);
                s++;
                for (unsigned k = 0; k < extra; k++, s++) {
                        if ((*s & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (*s & 0x3f);
                }
                if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) || (extra == 3 && cp < 0x10000))
                        return false;
                if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
        }
        return true;
}

static void test_random_bytes(void)
{
        unsigned bad = 0, raw_control = 0, ill_formed = 0;

        for (unsigned i = 0; i < 5000; i++) {
                _cleanup_(json_object_putp) struct json_object *o = NULL;
                _cleanup_free_ char *doc = NULL;
                char in[96];
                size_t len = rng() % sizeof(in);

                for (size_t j = 0; j < len; j++) {
                        uint64_t x = rng();

                        /* mostly high bytes and controls, where the writer's decisions are */
                        if (x % 4 == 0)
                                in[j] = (char) (0x80 | (x >> 8) % 0x80);
                        else if (x % 4 == 1)
                                in[j] = (char) ((x >> 8) % 0x20);
                        else
                                in[j] = (char) (x >> 8);
                }

                doc = string_doc(in, len);
                if (!doc) {
                        bad++;
                        continue;
                }
                for (const char *p = doc; *p; p++)
                        if ((unsigned char) *p < 0x20)
                                raw_control++;
                if (!utf8_strict((const unsigned char *) doc))
                        ill_formed++;
                o = strict_parse(doc, strlen(doc));
                if (!o || !json_object_is_type(o, json_type_string)) {
                        if (bad++ < 5)
                                tap_diag("rejected by json-c: %s", doc);
                }
        }
        is_int(bad, 0, "random bytes: 5000 strings all parse with the strict UTF-8 tokener");
        is_int(raw_control, 0, "random bytes: no raw control character reaches the output");
        ok(utf8_strict((const unsigned char *) "a\xc3\xa9\xf0\x9f\x98\x80") &&
                   !utf8_strict((const unsigned char *) "\xed\xa0\x80") &&
                   !utf8_strict((const unsigned char *) "\xe0\x80\x80") &&
                   !utf8_strict((const unsigned char *) "\xf4\x90\x80\x80") &&
                   !utf8_strict((const unsigned char *) "\xe2\x82"),
           "random bytes: the independent decoder tells good from bad");
        is_int(ill_formed, 0, "random bytes: the output is well-formed UTF-8 by an independent decoder");
}

static void test_random_utf8(void)
{
        unsigned bad = 0;

        for (unsigned i = 0; i < 2000; i++) {
                _cleanup_(json_object_putp) struct json_object *o = NULL;
                _cleanup_free_ char *doc = NULL;
                char in[32 * 4];
                size_t len = 0, n = rng() % 32;

                for (size_t j = 0; j < n; j++) {
                        uint64_t x = rng();
                        uint32_t cp;

                        switch (x % 4) {
                        case 0:
                                cp = (uint32_t) ((x >> 8) % 0x80);
                                break;
                        case 1:
                                cp = (uint32_t) ((x >> 8) % 0x800);
                                break;
                        case 2:
                                cp = (uint32_t) ((x >> 8) % 0x10000);
                                break;
                        default:
                                cp = (uint32_t) (0x10000 + (x >> 8) % 0x100000);
                                break;
                        }
                        if (cp >= 0xd800 && cp <= 0xdfff)
                                cp = 0xfffd;
                        len += encode_utf8(cp, in + len);
                }

                doc = string_doc(in, len);
                o = doc ? strict_parse(doc, strlen(doc)) : NULL;
                if (!o || !json_object_is_type(o, json_type_string) ||
                    (size_t) json_object_get_string_len(o) != len ||
                    memcmp(json_object_get_string(o), in, len) != 0)
                        bad++;
        }
        is_int(bad, 0, "random UTF-8: 2000 valid strings, controls and NULs included, round-trip exactly");
}

static void test_errors(void)
{
        _cleanup_free_ char *s = NULL;
        struct jsonw w;
        size_t len, n = 0;
        int r;

        jsonw_init(&w);
        jsonw_key(&w, "k");
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: a key outside an object");
        ok(!s, "errors: nothing handed out on failure");

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_object_end(&w);
        jsonw_object_begin(&w);
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: a second top-level value");

        jsonw_init(&w);
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: a close without an open");

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key(&w, "a");
        jsonw_key(&w, "b");
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: two keys in a row");

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_key(&w, "a");
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: a key without a value");

        jsonw_init(&w);
        jsonw_array_begin(&w);
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: an unclosed array");

        jsonw_init(&w);
        is_int(jsonw_finish(&w, &s, &n), -EINVAL, "errors: an empty document");
        jsonw_done(&w);
        jsonw_done(&w);
        jsonw_done(NULL);
        ok(true, "errors: done is idempotent and NULL-safe");

        /* malloc cannot be made to fail portably here, so inject the first error directly */
        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_int(&w, "a", 1);
        w.error = -ENOMEM;
        len = w.len;
        jsonw_kv_string(&w, "b", "more");
        jsonw_object_end(&w);
        is_int(w.len, len, "errors: nothing is written after an error");
        is_int(w.depth, 1, "errors: nothing is tracked after an error");
        jsonw_object_begin(&w);
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), -ENOMEM, "errors: the first error is sticky and reported");
        ok(!w.buf && w.len == 0, "errors: a failed finish releases the buffer");

        jsonw_init(&w);
        for (unsigned i = 0; i < 65; i++)
                jsonw_array_begin(&w);
        for (unsigned i = 0; i < 70; i++)
                jsonw_array_end(&w);
        jsonw_key(&w, "k");
        r = jsonw_finish(&w, &s, &n);
        is_int(r, -E2BIG, "errors: later mistakes do not replace the first error");
        ok(!s, "errors: still nothing handed out");
}

static void test_depth(void)
{
        _cleanup_free_ char *s = NULL;
        struct jsonw w;
        size_t n = 0;
        unsigned i;

        jsonw_init(&w);
        for (i = 0; i < 64; i++)
                jsonw_array_begin(&w);
        jsonw_int(&w, 7);
        jsonw_int(&w, 8);
        for (i = 0; i < 64; i++)
                jsonw_array_end(&w);
        is_int(jsonw_finish(&w, &s, &n), 0, "depth: 64 levels are fine");
        is_int(n, 64 * 2 + 3, "depth: length of the 64-level document");
        ok(s && strncmp(s + 63, "[7,8]", 5) == 0, "depth: commas at the deepest level");

        s = mfree_str(s);
        jsonw_init(&w);
        for (i = 0; i < 63; i++) {
                jsonw_object_begin(&w);
                jsonw_key(&w, "x");
        }
        jsonw_array_begin(&w);
        jsonw_array_begin(&w);
        is_int(w.error, -E2BIG, "depth: the 65th level is -E2BIG");
        jsonw_array_end(&w);
        for (i = 0; i < 63; i++)
                jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), -E2BIG, "depth: and stays the error");
}

static void test_finish(void)
{
        _cleanup_(json_object_putp) struct json_object *parsed = NULL;
        _cleanup_free_ char *s = NULL;
        struct jsonw w;
        size_t n = 0;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        for (unsigned i = 0; i < 2000; i++)
                jsonw_kv_string(&w, "key", "a value long enough to need a few reallocations");
        jsonw_object_end(&w);
        is_int(jsonw_finish(&w, &s, &n), 0, "finish: a large document");
        ok(s && n == strlen(s) && s[n] == '\0', "finish: NUL-terminated, length without the NUL");
        ok(!w.buf && w.len == 0, "finish: the writer no longer owns the buffer");
        jsonw_done(&w);
        parsed = s ? strict_parse(s, n) : NULL;
        ok(parsed, "finish: json-c accepts the large document");

        s = mfree_str(s);
        jsonw_init(&w);
        jsonw_null(&w);
        is_int(jsonw_finish(&w, &s, NULL), 0, "finish: the length is optional");
        is_str(s, "null", "finish: null document");
}

int main(void)
{
        test_layout();
        test_escapes();
        test_utf8();
        test_random_bytes();
        test_random_utf8();
        test_errors();
        test_depth();
        test_finish();
        return tap_done();
}
