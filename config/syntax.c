/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Reading the text as JSON, before any key means anything: json-c's syntax
 * errors and what json-c accepts but JSON does not (duplicate keys, raw
 * control characters, NaN) become problems at their place in the text,
 * worded for someone who edits a config by hand.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config/jsonc.h"

#include "config/locate.h"
#include "config/parser.h"
#include "config/syntax.h"
#include "kernel/cleanup.h"

/* A valid config nests 5 deep (routes[].match.runtime[]); anything far deeper is not a config. */
#define CONFIG_MAX_DEPTH 16

static bool is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *describe_byte(char c, char *buf, size_t size)
{
        if (c > 0x20 && c < 0x7F)
                snprintf(buf, size, "'%c'", c);
        else
                snprintf(buf, size, "byte 0x%02x", (unsigned) (unsigned char) c);
        return buf;
}

/*
 * json-c reports a truncated UTF-8 sequence at the byte that broke it; the
 * user wants the sequence's first byte, the one that is really wrong.
 */
static size_t utf8_sequence_start(const char *text, size_t offset)
{
        for (size_t back = 1; back <= 3 && back <= offset; back++) {
                unsigned char c = (unsigned char) text[offset - back];
                size_t need;

                if ((c & 0xC0) == 0x80)
                        continue;
                need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                return need > back ? offset - back : offset;
        }
        return offset;
}

static void report_syntax(struct parser *p, enum json_tokener_error err, size_t offset)
{
        _cleanup_free_ char *path = NULL;
        char what[16], c;
        size_t prev;

        if (err == json_tokener_error_parse_utf8_string)
                offset = utf8_sequence_start(p->text, offset);
        c = offset < p->len ? p->text[offset] : 0;
        prev = offset;
        if (locate_path_at(p->text, p->len, offset, &path) < 0) {
                p->error = -ENOMEM;
                return;
        }
        while (prev > 0 && is_ws(p->text[prev - 1]))
                prev--;

        switch (err) {
        case json_tokener_continue:
        case json_tokener_error_parse_eof:
                parser_report_at(p, offset, path,
                                 "unexpected end of the text (an object, array or string is not closed)");
                break;
        case json_tokener_error_depth:
                parser_report_at(p, offset, path, "nested too deeply (at most %d levels)", CONFIG_MAX_DEPTH);
                break;
        case json_tokener_error_parse_utf8_string:
                parser_report_at(p, offset, path, "invalid UTF-8 (%s)",
                                 describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_comment:
                parser_report_at(p, offset, path, "comments are not allowed in JSON");
                break;
        case json_tokener_error_parse_unexpected:
        case json_tokener_error_parse_array:
        case json_tokener_error_parse_object_key_name:
                if ((c == '}' || c == ']') && prev > 0 && p->text[prev - 1] == ',') {
                        parser_report_at(p, offset, path,
                                         "trailing comma before '%c' (JSON does not allow one)", c);
                        break;
                }
                if (c == '/') {
                        parser_report_at(p, offset, path, "comments are not allowed in JSON");
                        break;
                }
                if (err == json_tokener_error_parse_object_key_name)
                        parser_report_at(p, offset, path, "expected a key in double quotes, got %s",
                                         describe_byte(c, what, sizeof(what)));
                else if (err == json_tokener_error_parse_array)
                        parser_report_at(p, offset, path, "expected ',' or ']' in an array, got %s",
                                         describe_byte(c, what, sizeof(what)));
                else
                        parser_report_at(p, offset, path, "unexpected %s",
                                         describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_object_key_sep:
                parser_report_at(p, offset, path, "expected ':' after a key, got %s",
                                 describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_object_value_sep:
                parser_report_at(p, offset, path, "expected ',' or '}' after a value, got %s",
                                 describe_byte(c, what, sizeof(what)));
                break;
        case json_tokener_error_parse_null:
        case json_tokener_error_parse_boolean:
                parser_report_at(p, offset, path, "invalid literal (expected true, false or null)");
                break;
        case json_tokener_error_parse_number:
                parser_report_at(p, offset, path,
                                 "invalid number (JSON allows no leading zeros, '+' or hex)");
                break;
        default:
                parser_report_at(p, offset, path, "%s", json_tokener_error_desc(err));
                break;
        }
}

static int lint_problem(const struct locate_problem *lp, void *userdata)
{
        struct parser *p = userdata;
        struct locate_position first;

        if (p->n_problems >= CONFIG_MAX_PROBLEMS) {
                p->n_dropped++;
                return 0;
        }
        switch (lp->kind) {
        case LOCATE_DUPLICATE_KEY:
                first = locate_line_column(p->text, p->len, lp->first_offset);
                parser_report_at(p, lp->offset, lp->path, "duplicate key %s (first given at %u:%u)",
                                 QUOTE(lp->key), first.line, first.column);
                break;
        case LOCATE_CONTROL_CHARACTER:
                parser_report_at(
                        p, lp->offset, lp->path,
                        "raw control character in a string (write it as an escape such as \\t or \\n)");
                break;
        case LOCATE_NOT_JSON_NUMBER:
                parser_report_at(p, lp->offset, lp->path,
                                 "not a JSON number (NaN and Infinity are not JSON)");
                break;
        case LOCATE_INTEGER_RANGE:
                parser_report_at(p, lp->offset, lp->path, "integer out of range (more than 64 bits)");
                break;
        }
        return p->error;
}

/* Parses the text into *ret; syntax problems become problems of p, and leave *ret NULL. */
static int parse_json(struct parser *p, struct json_object **ret)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        enum json_tokener_error err;
        const char *nul;
        size_t i, start, end;

        if (p->len > CONFIG_MAX_SIZE) {
                parser_report_at(p, 0, "$", "the config is %zu bytes long; at most %zu are allowed", p->len,
                                 CONFIG_MAX_SIZE);
                return 0;
        }
        if (p->len >= 3 && memcmp(p->text, "\xEF\xBB\xBF", 3) == 0) {
                parser_report_at(p, 0, "$",
                                 "the text starts with a byte order mark (save it as UTF-8 without one)");
                return 0;
        }
        /* json-c would stop at a NUL byte and take what came before it as the whole document. */
        nul = memchr(p->text, 0, p->len);
        if (nul) {
                _cleanup_free_ char *path = NULL;

                if (locate_path_at(p->text, p->len, (size_t) (nul - p->text), &path) < 0)
                        return -ENOMEM;
                parser_report_at(p, (size_t) (nul - p->text), path, "NUL byte in the text");
                return 0;
        }
        for (i = 0; i < p->len && is_ws(p->text[i]); i++)
                ;
        if (i == p->len) {
                parser_report_at(p, 0, "$", "the config is empty (expected a JSON object)");
                return 0;
        }
        start = i;

        tok = json_tokener_new_ex(CONFIG_MAX_DEPTH);
        if (!tok)
                return -ENOMEM;
        /* Trailing text is checked below, for a message that says what is wrong with it. */
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8 |
                                            JSON_TOKENER_ALLOW_TRAILING_CHARS);
        root = json_tokener_parse_ex(tok, p->text, (int) p->len);
        err = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        if (err == json_tokener_continue) {
                /* json-c only ends a top-level scalar ("null", "5") at a NUL: give it one. */
                root = json_tokener_parse_ex(tok, "", 1);
                err = json_tokener_get_error(tok);
                end = p->len;
        }
        if (err != json_tokener_success) {
                report_syntax(p, err, end);
                return 0;
        }
        for (i = end; i < p->len; i++)
                if (!is_ws(p->text[i])) {
                        parser_report_at(p, i, "$", "unexpected %s after the end of the JSON document",
                                         describe_byte(p->text[i], (char[16]){ 0 }, 16));
                        return 0;
                }
        if (!root) {
                /* The whole text was "null". */
                parser_report_at(p, start, "$", "expected an object, got null");
                return 0;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

int syntax_parse(struct parser *p, struct json_object **ret)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        int r;

        r = parse_json(p, &root);
        if (r < 0)
                return r;
        if (!root)
                return 0;
        r = locate_lint(p->text, p->len, lint_problem, p);
        if (r < 0 && r != -EBADMSG)
                return r;
        *ret = TAKE_PTR(root);
        return 0;
}
