/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <string.h>

#include "config/config.h"

/*
 * The config in force when no file exists. It goes through the same parser
 * as a file, so it cannot drift from what a file may say; docs/config.md
 * shows it. Container dumps go to the container's own collector and, when
 * there is none, to the host store like host dumps.
 */
static const char default_text[] =
        "{\n"
        "  \"version\": 1,\n"
        "  \"listen\": { \"path\": \"" CONFIG_DEFAULT_LISTEN "\", \"protocol\": \"auto\" },\n"
        "  \"events\": \"-\",\n"
        "  \"store\": {\n"
        "    \"directory\": \"" CONFIG_DEFAULT_STORE "\",\n"
        "    \"max_use\": \"10%\",\n"
        "    \"keep_free\": \"15%\"\n"
        "  },\n"
        "  \"routes\": [\n"
        "    {\n"
        "      \"name\": \"containers\",\n"
        "      \"match\": { \"container\": true },\n"
        "      \"action\": \"forward\",\n"
        "      \"address\": \"" CONFIG_DEFAULT_ADDRESS "\",\n"
        "      \"fallback\": \"store\"\n"
        "    },\n"
        "    { \"name\": \"host\", \"match\": {}, \"action\": \"store\" }\n"
        "  ]\n"
        "}\n";

const char *config_default_text(void)
{
        return default_text;
}

int config_load_default(struct config **ret)
{
        return config_load_string("(embedded default)", default_text, strlen(default_text), ret, NULL);
}
