/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The words and units of config values: each enum as the JSON spells it
 * (the daemon's events and logs print the same words), and sizes and
 * durations with their units. No json-c here: the collector parses its
 * command line with the same functions.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "config/values.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"

const char *const values_runtime_names[_RUNTIME_MAX] = {
        [RUNTIME_DOCKER] = "docker", [RUNTIME_CONTAINERD] = "containerd", [RUNTIME_CRIO] = "cri-o",
        [RUNTIME_PODMAN] = "podman", [RUNTIME_NSPAWN] = "nspawn",         [RUNTIME_LXC] = "lxc",
        [RUNTIME_CRI] = "cri",
};

const char *const values_action_names[_ACTION_MAX] = {
        [ACTION_FORWARD] = "forward",
        [ACTION_STORE] = "store",
        [ACTION_REJECT] = "reject",
        [ACTION_SYSTEMD] = "systemd",
};

const char *const values_where_names[_SYSTEMD_WHERE_MAX] = {
        [SYSTEMD_WHERE_HOST] = "host",
        [SYSTEMD_WHERE_CONTAINER] = "container",
};

const char *const values_protocol_names[_PROTOCOL_MAX] = {
        [PROTOCOL_REQUEST] = "request",
        [PROTOCOL_PLAIN] = "plain",
        [PROTOCOL_PIPE] = "pipe",
        [PROTOCOL_AUTO] = "auto",
};

const char *const values_trust_names[] = {
        [TRUST_POD] = "pod",
        [TRUST_CONTAINER] = "container",
};

const char *const values_fallback_names[] = { "store", "reject" };

const char *const values_collector_uid_names[_COLLECTOR_UID_MAX] = {
        [COLLECTOR_UID_TASK] = "task",
        [COLLECTOR_UID_ANY] = "any",
};

const char *runtime_to_string(enum container_runtime r)
{
        if ((unsigned) r >= _RUNTIME_MAX)
                return NULL;
        return values_runtime_names[r];
}

int runtime_from_string(const char *s)
{
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(values_runtime_names); i++)
                if (strcmp(s, values_runtime_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

const char *action_to_string(enum route_action a)
{
        if ((unsigned) a >= _ACTION_MAX)
                return NULL;
        return values_action_names[a];
}

const char *protocol_to_string(enum listen_protocol p)
{
        if ((unsigned) p >= _PROTOCOL_MAX)
                return NULL;
        return values_protocol_names[p];
}

uint64_t size_limit_bytes(const struct size_limit *l, uint64_t fs_size)
{
        if (!l || !l->set)
                return UINT64_MAX;
        if (!l->percent)
                return l->value;
        /* Split so that fs_size * value cannot overflow for any filesystem size. */
        return fs_size / 100 * l->value + fs_size % 100 * l->value / 100;
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* Leading decimal digits of s into *ret; returns how many, and flags overflow. */
static size_t parse_digits(const char *s, uint64_t *ret, bool *ret_overflow)
{
        uint64_t v = 0;
        bool overflow = false;
        size_t n = 0;

        for (; is_digit(s[n]); n++) {
                unsigned d = (unsigned) (s[n] - '0');

                if (v > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        v = v * 10 + d;
        }
        *ret = v;
        *ret_overflow = overflow;
        return n;
}

int values_parse_size(const char *s, struct size_limit *ret)
{
        uint64_t v, unit = 1;
        bool overflow;
        size_t n;

        if (!s)
                return -EINVAL;
        n = parse_digits(s, &v, &overflow);
        if (n == 0)
                return -EINVAL;

        if (strcmp(s + n, "%") == 0) {
                if (overflow || v > 100)
                        return -ERANGE;
                *ret = (struct size_limit){ .set = true, .percent = true, .value = v };
                return 0;
        }
        if (s[n] != 0 && s[n + 1] != 0)
                return -EINVAL;
        switch (s[n]) {
        case 0:
                break;
        case 'K':
                unit = UINT64_C(1) << 10;
                break;
        case 'M':
                unit = UINT64_C(1) << 20;
                break;
        case 'G':
                unit = UINT64_C(1) << 30;
                break;
        case 'T':
                unit = UINT64_C(1) << 40;
                break;
        default:
                return -EINVAL;
        }
        if (overflow || v > UINT64_MAX / unit)
                return -ERANGE;
        *ret = (struct size_limit){ .set = true, .value = v * unit };
        return 0;
}

int config_parse_size(const char *s, struct size_limit *ret)
{
        struct size_limit l;

        if (values_parse_size(s, &l) < 0)
                return -EINVAL;
        *ret = l;
        return 0;
}

int values_parse_duration(const char *s, usec_t *ret)
{
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "ms", USEC_PER_MSEC },
                { "s", USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
        };
        uint64_t v;
        bool overflow;
        size_t n;

        if (!s)
                return -EINVAL;
        n = parse_digits(s, &v, &overflow);
        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
                if (strcmp(s + n, units[i].suffix) != 0)
                        continue;
                /* Bounded, so that no deadline computed from a duration can wrap. */
                if (overflow || v > CONFIG_DURATION_MAX / units[i].usec)
                        return -ERANGE;
                *ret = v * units[i].usec;
                return 0;
        }
        return -EINVAL;
}

int config_parse_duration(const char *s, usec_t *ret)
{
        usec_t u;

        if (values_parse_duration(s, &u) < 0 || u == 0)
                return -EINVAL;
        *ret = u;
        return 0;
}
