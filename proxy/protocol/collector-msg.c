/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config/jsonc.h"

#include "proxy/protocol/collector-msg.h"
#include "proxy/base/jsonw.h"
#include "kernel/cleanup.h"

/*
 * Raw bytes we send of one string. Identifiers longer than this are refused;
 * text from the crashing process (comm, exe, host cgroup) and free text
 * (reason, path, error) is cut, since losing its tail is better than losing
 * the dump. cmdline is only cut as far as the message bound needs.
 */
#define SEND_STRING_MAX 4096U
/*
 * What a parser accepts of one string, after JSON unescaping: SEND_STRING_MAX
 * bytes in which every byte was replaced by the three bytes of U+FFFD.
 */
#define RECV_STRING_MAX (4U * SEND_STRING_MAX)

static void jsonw_donep(struct jsonw *w)
{
        jsonw_done(w);
}

bool collector_id_valid(const char *id)
{
        size_t n;

        if (!id)
                return false;
        n = strspn(id, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-");
        return n > 0 && n <= COLLECTOR_ID_MAX && id[n] == '\0';
}

void collector_request_done(struct collector_request *r)
{
        if (!r)
                return;
        free(r->id);
        free(r->comm);
        free(r->exe);
        free(r->cmdline);
        free(r->time);
        free(r->mode);
        free(r->runtime);
        free(r->container_id);
        free(r->pod_uid);
        container_names_done(&r->names);
        free(r->host_cgroup);
        free(r->host_exe);
        /* back to "nothing known", which for the ids is -1, not 0 */
        *r = (struct collector_request){
                .pid = -1,
                .uid = -1,
                .gid = -1,
                .host_pid = -1,
        };
}

void collector_answer_done(struct collector_answer *a)
{
        if (!a)
                return;
        free(a->reason);
        *a = (struct collector_answer){};
}

void collector_result_done(struct collector_result *r)
{
        if (!r)
                return;
        free(r->path);
        free(r->error);
        *r = (struct collector_result){};
}

/* ---- formatting */

static void put_cut_string(struct jsonw *w, const char *key, const char *s, size_t max)
{
        jsonw_key(w, key);
        if (s)
                jsonw_string_len(w, s, record_cut_length(s, max));
        else
                jsonw_null(w);
}

static bool identifier_ok(const char *s)
{
        return !s || strlen(s) <= SEND_STRING_MAX;
}

static int request_check(const struct dump_record *r)
{
        /* The id names files in the collector's directory: only what the protocol promises. */
        if (!collector_id_valid(r->id) || !identifier_ok(r->time_text) || !identifier_ok(r->mode))
                return -EINVAL;
        /* what the parser would refuse is refused here, so every message we send parses */
        if (r->ns_ids.pid > INT32_MAX || r->host_ids.pid > INT32_MAX)
                return -EINVAL;
        if (r->ns_ids.uid > (int64_t) UINT32_MAX || r->ns_ids.gid > (int64_t) UINT32_MAX)
                return -EINVAL;
        if (r->signal < 0)
                return -EINVAL;
        if (r->container && (!identifier_ok(r->container->runtime) || !identifier_ok(r->container->id) ||
                             !identifier_ok(r->container->pod_uid)))
                return -EINVAL;
        return 0;
}

static int request_write(const struct dump_record *r, uint64_t max_bytes, uint64_t deadline_ms,
                         size_t cmdline_len, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};
        struct record_limits lim = { .string_max = SEND_STRING_MAX, .cmdline_max = cmdline_len };

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_uint(&w, "version", COLLECTOR_PROTOCOL_VERSION);
        record_write_task(&w, r, RECORD_VIEW_CONTAINER, &lim);
        record_write_details(&w, r, &lim);
        if (max_bytes > 0)
                jsonw_kv_uint(&w, "max_bytes", max_bytes);
        else
                jsonw_kv_null(&w, "max_bytes");
        jsonw_kv_uint(&w, "deadline_ms", deadline_ms);
        record_write_exposed(&w, r, &lim);
        jsonw_object_end(&w);

        return jsonw_finish(&w, ret, ret_len);
}

static int request_format(const struct dump_record *r, uint64_t max_bytes, uint64_t deadline_ms, char **ret,
                          size_t *ret_len)
{
        _cleanup_free_ char *doc = NULL;
        size_t doc_len, full, lo, hi;
        int k;

        k = request_check(r);
        if (k < 0)
                return k;

        /* No byte is written shorter than it came, so more raw cmdline than the bound never fits. */
        full = r->cmdline ? record_cut_length(r->cmdline, COLLECTOR_MSG_MAX) : 0;
        k = request_write(r, max_bytes, deadline_ms, full, &doc, &doc_len);
        if (k < 0)
                return k;

        if (doc_len > COLLECTOR_MSG_MAX && r->cmdline) {
                /*
                 * A long cmdline (a JVM's class path, say) must not cost the dump its
                 * collector: keep a prefix that fits. Escaping makes the output length an
                 * irregular function of the prefix (not even monotonic where a cut splits a
                 * character), hence a bisection and the final check below; it only runs
                 * for such outsized command lines.
                 */
                lo = 0;
                hi = full;
                while (lo < hi) {
                        _cleanup_free_ char *t = NULL;
                        size_t mid = lo + (hi - lo + 1) / 2, t_len;

                        k = request_write(r, max_bytes, deadline_ms, mid, &t, &t_len);
                        if (k < 0)
                                return k;
                        if (t_len <= COLLECTOR_MSG_MAX)
                                lo = mid;
                        else
                                hi = mid - 1;
                }
                doc = mfree_str(doc);
                k = request_write(r, max_bytes, deadline_ms, record_cut_length(r->cmdline, lo), &doc,
                                  &doc_len);
                if (k < 0)
                        return k;
        }
        if (doc_len > COLLECTOR_MSG_MAX)
                return -EMSGSIZE;

        if (ret_len)
                *ret_len = doc_len;
        *ret = TAKE_PTR(doc);
        return 0;
}

int collector_request_format(const struct dump_record *r, uint64_t max_bytes, uint64_t deadline_ms,
                             char **ret, size_t *ret_len)
{
        struct record_container c;
        struct container_names bare;
        struct dump_record without;
        int k;

        k = request_format(r, max_bytes, deadline_ms, ret, ret_len);
        if (k != -EMSGSIZE || !r->container || !r->container->names)
                return k;
        /*
         * Allowed labels and annotations with long values may outgrow the message: the dump
         * still goes to its collector, with the names but without them.
         */
        bare = *r->container->names;
        bare.labels = bare.annotations = (struct names_pairs){};
        c = *r->container;
        c.names = &bare;
        without = *r;
        without.container = &c;
        return request_format(&without, max_bytes, deadline_ms, ret, ret_len);
}

void collector_request_record(const struct collector_request *q, struct record_container *c,
                              struct dump_record *ret)
{
        record_init(ret);
        ret->id = q->id;
        ret->mode = q->mode;
        ret->ns_ids = (struct record_ids){ q->pid, q->uid, q->gid };
        ret->host_ids.pid = q->host_pid;
        ret->comm = q->comm;
        ret->exe = q->exe;
        ret->cmdline = q->cmdline;
        ret->signal = q->signal;
        ret->time_text = q->time;
        if (q->has_container) {
                *c = (struct record_container){
                        .runtime = q->runtime,
                        .id = q->container_id,
                        .pod_uid = q->pod_uid,
                        .names = container_names_empty(&q->names) ? NULL : &q->names,
                        .rootless = q->rootless,
                        .owner_uid = q->owner_uid,
                };
                ret->container = c;
        }
        ret->expose_host = q->host_pid >= 0 || q->host_cgroup || q->host_exe;
        ret->host_cgroup = q->host_cgroup;
        ret->host_exe = q->host_exe;
}

int collector_answer_format(const struct collector_answer *a, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_bool(&w, "accept", a->accept);
        if (!a->accept && a->reason)
                put_cut_string(&w, "reason", a->reason, SEND_STRING_MAX);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int collector_dump_format(const char *id, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};

        if (!collector_id_valid(id))
                return -EINVAL;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        jsonw_kv_string(&w, "dump", id);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

int collector_result_format(const struct collector_result *r, char **ret, size_t *ret_len)
{
        _cleanup_(jsonw_donep) struct jsonw w = {};

        jsonw_init(&w);
        jsonw_object_begin(&w);
        if (r->has_bytes)
                jsonw_kv_uint(&w, "bytes", r->bytes);
        if (r->has_consumed)
                jsonw_kv_bool(&w, "consumed", r->consumed);
        if (r->path)
                put_cut_string(&w, "path", r->path, SEND_STRING_MAX);
        if (r->error)
                put_cut_string(&w, "error", r->error, SEND_STRING_MAX);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* ---- parsing */

static bool is_json_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * json-c's JSON_TOKENER_VALIDATE_UTF8 checks only the lead/continuation byte
 * pattern: overlongs, encoded surrogates and code points above U+10FFFF pass it.
 * (Escaped lone surrogates are fine: json-c turns them into U+FFFD.)
 */
static bool utf8_valid(const unsigned char *s, size_t n)
{
        size_t i = 0;

        while (i < n) {
                unsigned char c = s[i];
                uint32_t cp, min;
                size_t k, seq;

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
                for (k = 1; k < seq; k++) {
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

static int parse_object(const char *buf, size_t len, struct json_object **ret)
{
        _cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        size_t end;

        if (len > COLLECTOR_MSG_MAX)
                return -EMSGSIZE;
        if (!buf || len == 0)
                return -EBADMSG;
        /* json-c would stop at a NUL and leave the rest unread; a message has none */
        if (memchr(buf, 0, len))
                return -EBADMSG;
        if (!utf8_valid((const unsigned char *) buf, len))
                return -EBADMSG;

        tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);

        obj = json_tokener_parse_ex(tok, buf, (int) len);
        /* json_tokener_continue here means the message ended inside the document */
        if (json_tokener_get_error(tok) != json_tokener_success)
                return -EBADMSG;

        /* RFC 8259 allows whitespace after the value; anything else is a second document */
        end = json_tokener_get_parse_end(tok);
        if (end > len)
                return -EBADMSG;
        for (; end < len; end++)
                if (!is_json_space(buf[end]))
                        return -EBADMSG;

        if (!obj || !json_object_is_type(obj, json_type_object))
                return -EBADMSG;

        *ret = TAKE_PTR(obj);
        return 0;
}

/*
 * Field lookups: 0 when the field is absent or null (the same thing for every
 * optional field, as senders in other languages write null for "unset"), 1 with
 * the value, -EBADMSG when it has the wrong type or range.
 */
static int field_get(struct json_object *obj, const char *key, json_type type, struct json_object **ret)
{
        struct json_object *v = NULL;

        if (!json_object_object_get_ex(obj, key, &v) || !v)
                return 0;
        if (!json_object_is_type(v, type))
                return -EBADMSG;
        *ret = v;
        return 1;
}

static int field_string(struct json_object *obj, const char *key, size_t max, char **ret)
{
        struct json_object *v;
        const char *s;
        size_t n;
        char *copy;
        int r;

        r = field_get(obj, key, json_type_string, &v);
        if (r <= 0)
                return r;

        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        /* "\u0000" decodes to a NUL, which would silently cut the C string */
        if (n > max || memchr(s, 0, n))
                return -EBADMSG;
        copy = strndup(s, n);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 1;
}

static int field_int(struct json_object *obj, const char *key, int64_t min, int64_t max, int64_t *ret)
{
        struct json_object *v;
        int64_t i;
        int r;

        r = field_get(obj, key, json_type_int, &v);
        if (r <= 0)
                return r;

        /* json-c clamps values beyond int64 to its limits; the ranges used here exclude them */
        i = json_object_get_int64(v);
        if (i < min || i > max)
                return -EBADMSG;
        *ret = i;
        return 1;
}

static int field_uint(struct json_object *obj, const char *key, uint64_t *ret)
{
        struct json_object *v;
        int r;

        r = field_get(obj, key, json_type_int, &v);
        if (r <= 0)
                return r;

        /* get_int64 keeps the sign that get_uint64 would hide as 0 */
        if (json_object_get_int64(v) < 0)
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 1;
}

static int field_bool(struct json_object *obj, const char *key, bool *ret)
{
        struct json_object *v;
        int r;

        r = field_get(obj, key, json_type_boolean, &v);
        if (r <= 0)
                return r;
        *ret = json_object_get_boolean(v);
        return 1;
}

static int field_required_id(struct json_object *obj, const char *key, char **ret)
{
        int r;

        r = field_string(obj, key, RECV_STRING_MAX, ret);
        if (r < 0)
                return r;
        if (r == 0 || (*ret)[0] == '\0')
                return -EBADMSG;
        return 0;
}

static int parse_container(struct json_object *obj, struct collector_request *req)
{
        struct json_object *c = NULL;
        int r;

        r = field_get(obj, "container", json_type_object, &c);
        if (r <= 0)
                return r;

        req->has_container = true;
        r = field_string(c, "runtime", RECV_STRING_MAX, &req->runtime);
        if (r < 0)
                return r;
        r = field_string(c, "id", RECV_STRING_MAX, &req->container_id);
        if (r < 0)
                return r;
        r = field_string(c, "pod_uid", RECV_STRING_MAX, &req->pod_uid);
        if (r < 0)
                return r;
        r = names_parse_members(c, &req->names);
        if (r < 0)
                return r;
        int64_t owner = 0;
        r = field_int(c, "owner_uid", 0, UINT32_MAX, &owner);
        if (r < 0)
                return r;
        req->rootless = r > 0;
        req->owner_uid = (uint32_t) owner;
        return 0;
}

int collector_request_parse(const char *buf, size_t len, struct collector_request *ret)
{
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        _cleanup_(collector_request_done) struct collector_request req = {};
        int64_t version = 0, signal = 0;
        int r;

        collector_request_done(&req);

        r = parse_object(buf, len, &obj);
        if (r < 0)
                return r;

        /* The version decides how to read everything else, so it is checked first. */
        r = field_int(obj, "version", INT64_MIN, INT64_MAX, &version);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        if (version != COLLECTOR_PROTOCOL_VERSION)
                return -EPROTONOSUPPORT;
        req.version = COLLECTOR_PROTOCOL_VERSION;

        r = field_required_id(obj, "id", &req.id);
        if (r < 0)
                return r;

        if ((r = field_int(obj, "pid", 0, INT32_MAX, &req.pid)) < 0 ||
            (r = field_int(obj, "uid", 0, UINT32_MAX, &req.uid)) < 0 ||
            (r = field_int(obj, "gid", 0, UINT32_MAX, &req.gid)) < 0 ||
            (r = field_int(obj, "signal", 0, INT_MAX, &signal)) < 0 ||
            (r = field_int(obj, "host_pid", 0, INT32_MAX, &req.host_pid)) < 0)
                return r;
        req.signal = (int) signal;

        if ((r = field_string(obj, "comm", RECV_STRING_MAX, &req.comm)) < 0 ||
            (r = field_string(obj, "exe", RECV_STRING_MAX, &req.exe)) < 0 ||
            (r = field_string(obj, "cmdline", COLLECTOR_MSG_MAX, &req.cmdline)) < 0 ||
            (r = field_string(obj, "time", RECV_STRING_MAX, &req.time)) < 0 ||
            (r = field_string(obj, "mode", RECV_STRING_MAX, &req.mode)) < 0 ||
            (r = field_string(obj, "host_cgroup", RECV_STRING_MAX, &req.host_cgroup)) < 0 ||
            (r = field_string(obj, "host_exe", RECV_STRING_MAX, &req.host_exe)) < 0)
                return r;

        if ((r = field_uint(obj, "max_bytes", &req.max_bytes)) < 0 ||
            (r = field_uint(obj, "deadline_ms", &req.deadline_ms)) < 0)
                return r;

        r = parse_container(obj, &req);
        if (r < 0)
                return r;

        *ret = req;
        req = (struct collector_request){};
        return 0;
}

int collector_answer_parse(const char *buf, size_t len, struct collector_answer *ret)
{
        static const char canonical_accept[] = "{\"accept\":true}";
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        _cleanup_(collector_answer_done) struct collector_answer a = {};
        int r;

        /*
         * The answer every dump waits for, byte for byte as our own writer
         * makes it: no tokener for it. Any other spelling takes the full path.
         */
        if (len == sizeof(canonical_accept) - 1 && memcmp(buf, canonical_accept, len) == 0) {
                *ret = (struct collector_answer){ .accept = true };
                return 0;
        }

        r = parse_object(buf, len, &obj);
        if (r < 0)
                return r;

        r = field_bool(obj, "accept", &a.accept);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        r = field_string(obj, "reason", RECV_STRING_MAX, &a.reason);
        if (r < 0)
                return r;

        *ret = a;
        a = (struct collector_answer){};
        return 0;
}

int collector_dump_parse(const char *buf, size_t len, char **ret_id)
{
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        _cleanup_free_ char *id = NULL;
        int r;

        r = parse_object(buf, len, &obj);
        if (r < 0)
                return r;

        r = field_required_id(obj, "dump", &id);
        if (r < 0)
                return r;

        *ret_id = TAKE_PTR(id);
        return 0;
}

int collector_result_parse(const char *buf, size_t len, struct collector_result *ret)
{
        _cleanup_(json_object_putp) struct json_object *obj = NULL;
        _cleanup_(collector_result_done) struct collector_result res = {};
        int r;

        r = parse_object(buf, len, &obj);
        if (r < 0)
                return r;

        r = field_uint(obj, "bytes", &res.bytes);
        if (r < 0)
                return r;
        res.has_bytes = r > 0;
        r = field_bool(obj, "consumed", &res.consumed);
        if (r < 0)
                return r;
        res.has_consumed = r > 0;

        if ((r = field_string(obj, "path", RECV_STRING_MAX, &res.path)) < 0 ||
            (r = field_string(obj, "error", RECV_STRING_MAX, &res.error)) < 0)
                return r;

        *ret = res;
        res = (struct collector_result){};
        return 0;
}
