/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to config/: the "names" section (where container names come
 * from, which labels and annotations may leave the node) and the match
 * keys on names. Split from config.c, which calls these.
 */

#include <json-c/json.h>

#include "config/config.h"
#include "config/parser.h"

/* The longest label or annotation key a config may name (proxy/protocol/names.h keeps no longer ones). */
#define CONFIG_NAMES_KEY_MAX 1024
/* Keys listed in names.labels or names.annotations, and pairs in one match. */
#define CONFIG_NAMES_KEYS_MAX 64

int names_config_init(struct names_config *n);
void names_config_done(struct names_config *n);
void match_names_done(struct route_match *m);

void config_parse_names(struct parser *p, struct json_object *o, struct names_config *n);
/* The match keys pod_namespace, pod_name, container_name, image, labels and annotations, when present. */
void config_parse_match_names(struct parser *p, struct json_object *o, struct route_match *m);
