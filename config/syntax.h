/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Internal to config/: the JSON text of a config into a json_object, with
 * every syntax problem placed in the text and reported to the parser.
 */

#include <json-c/json.h>

#include "config/parser.h"

#define CONFIG_MAX_SIZE ((size_t) 1024 * 1024)

/*
 * Parses p->text into *ret and lints it. Problems with the text become
 * problems of p and leave *ret untouched (the caller starts it at NULL);
 * a failure that is not the text's fault is returned as -errno.
 */
int syntax_parse(struct parser *p, struct json_object **ret);
