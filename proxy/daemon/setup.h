/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a config brings with it: the config itself, the host store and the
 * event log. A reload builds a new setup and swaps it in whole; dumps in
 * flight keep a reference to the one they started with, so nothing is
 * pulled away under them.
 */

#include "config/config.h"
#include "proxy/dump/event.h"
#include "proxy/store/store.h"

struct proxy_setup {
        unsigned refs;
        struct config *config;
        struct dump_store *store; /* NULL when it could not be opened: store_error says why */
        int store_error;
        struct event_log *events;
};

/*
 * Takes ownership of config on success. The event log must open (a dump must never go
 * unrecorded); a store that cannot open is reported through store_error, so
 * forwarding still works while the disk is unusable.
 */
int setup_new(struct config *config, struct proxy_setup **ret);
struct proxy_setup *setup_ref(struct proxy_setup *s);
void setup_unref(struct proxy_setup *s);
