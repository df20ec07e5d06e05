/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a config brings with it: the config itself, the host store and the
 * event log. A reload builds a new setup and swaps it in whole; dumps in
 * flight keep a reference to the one they started with, so nothing is
 * pulled away under them. A store or event log whose path did not change is
 * shared with the previous setup, never opened twice: two store instances on
 * one directory would each miss the other's reservations and overshoot the
 * quota.
 */

#include "config/config.h"
#include "proxy/dump/event-log.h"
#include "proxy/store/store.h"

struct proxy_setup {
        unsigned refs;
        struct config *config;
        struct dump_store *store; /* NULL when it could not be opened: store_error says why */
        int store_error;
        struct event_log *events;
};

/*
 * Takes ownership of config on success. The event log must open (a dump must
 * never go unrecorded); a store that cannot open is reported through
 * store_error, so forwarding still works while the disk is unusable.
 * previous (may be NULL) lends its store and event log when the paths match.
 */
int setup_new(struct config *config, const struct proxy_setup *previous, struct proxy_setup **ret);
struct proxy_setup *setup_ref(struct proxy_setup *s);
void setup_unref(struct proxy_setup *s);
