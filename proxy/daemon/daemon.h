/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "config/config.h"

struct daemon_options {
        const char *config_path; /* NULL: CONFIG_DEFAULT_PATH, or the embedded default if it is missing */
        bool config_explicit;    /* --config given: a missing file is an error */
        bool install_pattern;
        const char *listen_path;  /* --socket: instead of the config's listen.path (one per pod) */
        bool wait_after_takeover; /* --on-takeover=wait */
};

/* Runs the daemon in the foreground until SIGTERM/SIGINT; returns the exit status. */
int daemon_main(const struct daemon_options *o);

/* Loads the config the daemon would use (file, or the embedded default). */
int daemon_load_config(const struct daemon_options *o, struct config **ret);
