/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* coredump-collector's parts: the program (main.c) and one proxy connection (session.c). */

#include <pthread.h>

#include "proxy/store/store.h"

struct collector {
        struct dump_store *store;
        unsigned max_connections;
        unsigned active; /* guarded by lock */
        pthread_mutex_t lock;
        pthread_cond_t done;
};

/* One connection from the proxy: messages 1 to 4, the dump written to the store. Closes fd. */
void session_start(struct collector *c, int fd);
