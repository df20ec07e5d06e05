/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * json-c's objects and tokeners as owned locals, for the modules that parse
 * with json-c (the config here, the collector protocol in proxy/protocol/).
 * json_object itself never leaves those modules.
 */

#include <json-c/json.h>

#include "kernel/cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_object *, json_object_put);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_tokener *, json_tokener_free);
