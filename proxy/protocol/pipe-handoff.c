/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "proxy/protocol/pipe-handoff.h"

static const char *const pidfd_source_names[_PIPE_PIDFD_MAX] = {
        [PIPE_PIDFD_NONE] = "none",
        [PIPE_PIDFD_KERNEL] = "kernel",
        [PIPE_PIDFD_OPENED] = "opened",
};

DEFINE_STRING_TABLE_LOOKUP(pipe_pidfd_source, enum pipe_pidfd_source, pidfd_source_names)

/* A decimal number in [0, max], nothing else: no sign, no spaces, no leading garbage. */
static int parse_u64(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                unsigned d = (unsigned) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -EINVAL;
                v = v * 10 + d;
        }
        if (v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* One fact, by its key (the pattern's specifier letter or the datagram's word). */
enum fact {
        FACT_PID,
        FACT_SIGNAL,
        FACT_TIME,
        FACT_DUMPABLE,
        FACT_KERNEL_FD,
        FACT_PIDFD,
        _FACT_MAX,
};

static int fact_set(struct pipe_facts *f, enum fact k, const char *v, size_t len)
{
        uint64_t n;
        int r;

        switch (k) {
        case FACT_PID:
                r = parse_u64(v, len, INT_MAX, &n);
                if (r < 0 || n == 0)
                        return -EINVAL;
                f->pid = (uint32_t) n;
                return 0;
        case FACT_SIGNAL:
                /* Signals are 1..64; 0 would say nothing. */
                r = parse_u64(v, len, 64, &n);
                if (r < 0)
                        return r;
                f->signal = (int) n;
                return 0;
        case FACT_TIME:
                r = parse_u64(v, len, UINT64_MAX / 1000000, &n);
                if (r < 0)
                        return r;
                f->time = n;
                return 0;
        case FACT_DUMPABLE:
                r = parse_u64(v, len, 2, &n);
                if (r < 0)
                        return r;
                f->dumpable = (int) n;
                return 0;
        case FACT_KERNEL_FD:
                r = parse_u64(v, len, INT_MAX, &n);
                if (r < 0)
                        return r;
                f->kernel_fd = (int) n;
                return 0;
        case FACT_PIDFD: {
                char word[16];
                if (len >= sizeof(word))
                        return -EINVAL;
                memcpy(word, v, len);
                word[len] = 0;
                r = pipe_pidfd_source_from_string(word);
                if (r < 0)
                        return r;
                f->pidfd_source = (enum pipe_pidfd_source) r;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

static const char *const arg_keys[_FACT_MAX] = {
        [FACT_PID] = "P",      [FACT_SIGNAL] = "s",    [FACT_TIME] = "t",
        [FACT_DUMPABLE] = "d", [FACT_KERNEL_FD] = "F",
};

static const char *const handoff_keys[_FACT_MAX] = {
        [FACT_PID] = "pid",           [FACT_SIGNAL] = "signal", [FACT_TIME] = "time",
        [FACT_DUMPABLE] = "dumpable", [FACT_PIDFD] = "pidfd",
};

static int fact_lookup(const char *const *keys, const char *k, size_t len)
{
        for (int i = 0; i < _FACT_MAX; i++)
                if (keys[i] && strlen(keys[i]) == len && strncmp(keys[i], k, len) == 0)
                        return i;
        return -ENOENT;
}

int pipe_args_parse(int argc, char *const *argv, const char **ret_listen, struct pipe_facts *ret)
{
        struct pipe_facts f = PIPE_FACTS_INIT;
        unsigned seen = 0;

        if (argc < 1 || !argv[0] || argv[0][0] != '/')
                return -EINVAL;
        for (int i = 1; i < argc; i++) {
                const char *eq = strchr(argv[i], '=');
                int k;

                if (!eq)
                        return -EINVAL;
                k = fact_lookup(arg_keys, argv[i], (size_t) (eq - argv[i]));
                /* A newer pattern's fact, or a specifier this kernel left empty. */
                if (k < 0 || eq[1] == 0)
                        continue;
                if (seen & (1u << k))
                        return -EINVAL;
                seen |= 1u << k;
                if (fact_set(&f, (enum fact) k, eq + 1, strlen(eq + 1)) < 0)
                        return -EINVAL;
        }
        if (f.pid == 0)
                return -EINVAL;
        *ret_listen = argv[0];
        *ret = f;
        return 0;
}

int pipe_handoff_format(const struct pipe_facts *f, char *buf, size_t size, size_t *ret_len)
{
        char dumpable[32] = "";
        int n;

        if (f->dumpable >= 0)
                (void) snprintf(dumpable, sizeof(dumpable), "dumpable=%d\n", f->dumpable);
        n = snprintf(buf, size, "%s %d\npid=%" PRIu32 "\nsignal=%d\ntime=%" PRIu64 "\n%spidfd=%s\n",
                     PIPE_HANDOFF_MAGIC, PIPE_HANDOFF_VERSION, f->pid, f->signal, f->time, dumpable,
                     pipe_pidfd_source_to_string(f->pidfd_source));
        if (n < 0 || (size_t) n >= size)
                return -ENOBUFS;
        *ret_len = (size_t) n;
        return 0;
}

int pipe_handoff_parse(const char *buf, size_t len, struct pipe_facts *ret)
{
        struct pipe_facts f = PIPE_FACTS_INIT;
        const char *p = buf, *end = buf + len;
        unsigned seen = 0;
        bool first = true;

        if (!buf || len == 0 || len > PIPE_HANDOFF_MAX || memchr(buf, 0, len))
                return -EBADMSG;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                size_t n;

                if (!eol)
                        return -EBADMSG; /* every line ends with a newline */
                n = (size_t) (eol - p);
                if (first) {
                        size_t m = strlen(PIPE_HANDOFF_MAGIC);
                        uint64_t version;
                        if (n <= m + 1 || strncmp(p, PIPE_HANDOFF_MAGIC, m) != 0 || p[m] != ' ' ||
                            parse_u64(p + m + 1, n - m - 1, UINT32_MAX, &version) < 0)
                                return -EBADMSG;
                        if (version != PIPE_HANDOFF_VERSION)
                                return -EPROTONOSUPPORT;
                        first = false;
                } else {
                        const char *eq = memchr(p, '=', n);
                        int k;

                        if (!eq || eq == p)
                                return -EBADMSG;
                        k = fact_lookup(handoff_keys, p, (size_t) (eq - p));
                        if (k >= 0) {
                                if (seen & (1u << k))
                                        return -EBADMSG;
                                seen |= 1u << k;
                                if (fact_set(&f, (enum fact) k, eq + 1, (size_t) (eol - eq - 1)) < 0)
                                        return -EBADMSG;
                        }
                }
                p = eol + 1;
        }
        if (first || f.pid == 0)
                return -EBADMSG;
        f.kernel_fd = -1;
        *ret = f;
        return 0;
}

void pipe_settings_done(struct pipe_settings *s)
{
        if (!s)
                return;
        s->store_directory = mfree_str(s->store_directory);
}

static int format_size(const struct size_limit *l, char *buf, size_t size)
{
        if (!l->set)
                return snprintf(buf, size, "none");
        return snprintf(buf, size, "%" PRIu64 "%s", l->value, l->percent ? "%" : "");
}

int pipe_settings_format(const struct pipe_settings *s, char **ret, size_t *ret_len)
{
        char max_use[32], keep_free[32];
        int n;

        if (!s->store_directory || s->store_directory[0] != '/' || strchr(s->store_directory, '\n'))
                return -EINVAL;
        (void) format_size(&s->max_use, max_use, sizeof(max_use));
        (void) format_size(&s->keep_free, keep_free, sizeof(keep_free));
        n = asprintf(ret, "store=%s\nmax_use=%s\nkeep_free=%s\n", s->store_directory, max_use, keep_free);
        if (n < 0)
                return -ENOMEM;
        if ((size_t) n > PIPE_SETTINGS_MAX) {
                *ret = mfree_str(*ret);
                return -ENAMETOOLONG;
        }
        *ret_len = (size_t) n;
        return 0;
}

static int parse_size(const char *v, size_t len, struct size_limit *ret)
{
        uint64_t n;

        if (len == 4 && strncmp(v, "none", 4) == 0) {
                *ret = (struct size_limit){};
                return 0;
        }
        if (len > 1 && v[len - 1] == '%') {
                if (parse_u64(v, len - 1, 100, &n) < 0)
                        return -EINVAL;
                *ret = (struct size_limit){ .set = true, .percent = true, .value = n };
                return 0;
        }
        if (parse_u64(v, len, UINT64_MAX, &n) < 0)
                return -EINVAL;
        *ret = (struct size_limit){ .set = true, .value = n };
        return 0;
}

int pipe_settings_parse(const char *text, size_t len, struct pipe_settings *ret)
{
        struct pipe_settings s = {};
        const char *p = text, *end = text + len;
        int r = 0;

        if (!text || len > PIPE_SETTINGS_MAX || memchr(text, 0, len))
                return -EBADMSG;
        while (p < end && r >= 0) {
                const char *eol = memchr(p, '\n', (size_t) (end - p));
                const char *eq;

                if (!eol)
                        eol = end;
                eq = memchr(p, '=', (size_t) (eol - p));
                if (eq) {
                        size_t k = (size_t) (eq - p), vlen = (size_t) (eol - eq - 1);
                        if (k == 5 && strncmp(p, "store", 5) == 0) {
                                free(s.store_directory);
                                s.store_directory = strndup(eq + 1, vlen);
                                if (!s.store_directory)
                                        r = -ENOMEM;
                                else if (s.store_directory[0] != '/')
                                        r = -EBADMSG;
                        } else if (k == 7 && strncmp(p, "max_use", 7) == 0) {
                                r = parse_size(eq + 1, vlen, &s.max_use) < 0 ? -EBADMSG : 0;
                        } else if (k == 9 && strncmp(p, "keep_free", 9) == 0) {
                                r = parse_size(eq + 1, vlen, &s.keep_free) < 0 ? -EBADMSG : 0;
                        }
                }
                p = eol + 1;
        }
        if (r >= 0 && !s.store_directory)
                r = -EBADMSG;
        if (r < 0) {
                pipe_settings_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}
