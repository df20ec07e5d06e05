/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The dumps in flight, for `status` and for a stop that must end them. A
 * dump is in the list from accept until its worker has finished it; its
 * fds stay open while it is listed, so shutting them down from here never
 * hits a reused number.
 */

#include <pthread.h>
#include <stddef.h>

#include "proxy/dump/dump.h"

struct inflight {
        pthread_mutex_t lock;
        struct dump *head;
        size_t n;
};

void inflight_init(struct inflight *l);
void inflight_done(struct inflight *l);
void inflight_add(struct inflight *l, struct dump *d);
void inflight_remove(struct inflight *l, struct dump *d);
size_t inflight_count(struct inflight *l);
/* Shuts every dump's connections down: their workers see them fail and finish at once. */
void inflight_shutdown(struct inflight *l);
