/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to config/: the words and units of config values, as the parser
 * needs them beyond config.h. Each table lists an enum's words in the
 * enum's order, so that a word's index is its value.
 */

#include "config/config.h"
#include "kernel/io.h"

extern const char *const values_runtime_names[_RUNTIME_MAX];
extern const char *const values_action_names[_ACTION_MAX];
extern const char *const values_where_names[_SYSTEMD_WHERE_MAX];
extern const char *const values_protocol_names[_PROTOCOL_MAX];
extern const char *const values_trust_names[TRUST_CONTAINER + 1];
extern const char *const values_collector_uid_names[_COLLECTOR_UID_MAX];
/* The fallbacks a forward route allows: index 0 is ACTION_STORE, 1 is ACTION_REJECT. */
extern const char *const values_fallback_names[2];

/* Like config_parse_size(), but tells a value out of range (-ERANGE) from bad syntax (-EINVAL). */
int values_parse_size(const char *s, struct size_limit *ret);
/* Like config_parse_duration(), but takes zero and tells overflow (-ERANGE) from bad syntax. */
int values_parse_duration(const char *s, usec_t *ret);
