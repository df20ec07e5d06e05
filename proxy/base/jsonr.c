/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/jsonr.h"
#include "proxy/base/utf8.h"

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int jsonr_parse(const char *buf, size_t len, size_t max_len, int max_depth, enum json_type type,
                struct json_object **ret)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        size_t end;

        if (len > max_len || len > INT32_MAX)
                return -EMSGSIZE;
        if (!buf || len == 0)
                return -EBADMSG;
        /* json-c would stop at a NUL and leave the rest unread. */
        if (memchr(buf, 0, len) || !utf8_valid(buf, len))
                return -EBADMSG;

        tok = json_tokener_new_ex(max_depth);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        obj = json_tokener_parse_ex(tok, buf, (int) len);
        /* json_tokener_continue here means the text ended inside the document. */
        if (json_tokener_get_error(tok) != json_tokener_success)
                return -EBADMSG;
        end = json_tokener_get_parse_end(tok);
        if (end > len)
                return -EBADMSG;
        for (; end < len; end++)
                if (!is_json_space(buf[end]))
                        return -EBADMSG;
        if (!obj || !json_object_is_type(obj, type))
                return -EBADMSG;
        *ret = TAKE_PTR(obj);
        return 0;
}

/* Reads what fd holds, at most max bytes: -EFBIG beyond. */
static int read_bounded(int fd, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, allocated = 0;

        for (;;) {
                if (size == allocated) {
                        size_t want = allocated ? allocated * 2 : 16384;
                        char *n;

                        if (allocated > max)
                                return -EFBIG;
                        want = MIN(want, max + 2);
                        n = realloc(buf, want);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        allocated = want;
                }
                ssize_t k = RETRY_EINTR(read(fd, buf + size, allocated - size));
                if (k < 0)
                        return negative_errno();
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
        }
        if (size == allocated) {
                char *n = realloc(buf, size + 1);
                if (!n)
                        return -ENOMEM;
                buf = n;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

int jsonr_read_text(int dirfd, const char *path, size_t max_len, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        /* O_NONBLOCK: a FIFO planted where a state file should be must not hang a worker. */
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADMSG;
        if ((uint64_t) st.st_size > max_len)
                return -EFBIG;
        /* The file may still grow while it is read: the read has its own bound. */
        return read_bounded(fd, max_len, ret, ret_len);
}

int jsonr_read_file(int dirfd, const char *path, size_t max_len, int max_depth, enum json_type type,
                    struct json_object **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        int r;

        r = jsonr_read_text(dirfd, path, max_len, &text, &size);
        if (r < 0)
                return r;
        r = jsonr_parse(text, size, max_len, max_depth, type, ret);
        return r == -EMSGSIZE ? -EFBIG : r;
}

int jsonr_member(struct json_object *o, const char *key, enum json_type type, struct json_object **ret)
{
        struct json_object *v = NULL;

        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(o, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, type))
                return -EBADMSG;
        *ret = v;
        return 1;
}

int jsonr_string_value(struct json_object *v, size_t max, const char **ret, size_t *ret_len)
{
        const char *s;
        size_t n;

        if (!v || !json_object_is_type(v, json_type_string))
                return -EBADMSG;
        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        /* "\u0000" decodes to a NUL, which would silently cut the C string. */
        if (!s || n > max || memchr(s, 0, n))
                return -EBADMSG;
        *ret = s;
        if (ret_len)
                *ret_len = n;
        return 0;
}

int jsonr_string(struct json_object *o, const char *key, size_t max, const char **ret, size_t *ret_len)
{
        struct json_object *v;
        int r;

        r = jsonr_member(o, key, json_type_string, &v);
        if (r <= 0)
                return r;
        r = jsonr_string_value(v, max, ret, ret_len);
        return r < 0 ? r : 1;
}

int jsonr_int(struct json_object *o, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        struct json_object *v;
        int64_t i;
        int r;

        r = jsonr_member(o, key, json_type_int, &v);
        if (r <= 0)
                return r;
        /* json-c clamps values beyond int64 to its limits: callers' ranges exclude them. */
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return -EBADMSG;
        *ret = i;
        return 1;
}
