/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * systemd-nspawn and LXC name their containers' cgroups after the machine
 * or container name ("machine-<name>.scope", "systemd-nspawn@<name>.service",
 * "lxc.payload.<name>"): the id the cgroup resolved to is that name, and
 * there is nothing else to read.
 */

#include <string.h>

#include "proxy/names/internal.h"

int names_from_machine(const struct names_source *s, struct container_names *n)
{
        int r;

        if (!s->id)
                return 0;
        r = names_set(&n->name, s->id, strlen(s->id));
        return r < 0 ? r : 1;
}
