/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "proxy/daemon/daemon.h"

/*
 * `coredump-proxy metrics --listen ADDR:PORT`: a small HTTP server, meant to
 * run unprivileged beside the daemon (a second container in its pod), that
 * reads the daemon's counters from its metrics socket
 * (<listen.path>.metrics) at every scrape and serves them as Prometheus
 * text on GET /metrics; GET /healthz answers while the exporter runs, GET
 * /readyz only while the daemon answers and the kernel sends its dumps to
 * it. The daemon itself never opens an inet socket. Runs until killed.
 */
int metrics_main(const struct daemon_options *o, const char *listen);

/*
 * The Prometheus text for a metrics document (NULL: the daemon did not
 * answer) into out; *ret_ready says whether the daemon is ready. -EBADMSG
 * when the document is not one.
 */
int metrics_render(const char *doc, size_t len, FILE *out, int *ret_ready);
