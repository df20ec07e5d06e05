/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "config/config.h"
#include "config/jsonc.h"
#include "kernel/cleanup.h"
#include "kernel/io.h"
#include "proxy/base/caps.h"
#include "proxy/base/jsonr.h"
#include "proxy/base/log.h"
#include "proxy/cli/metrics.h"
#include "proxy/daemon/control.h"

/* A scrape waits this long for the daemon; a client this long for its request. */
#define METRICS_QUERY_TIMEOUT    (2 * USEC_PER_SEC)
#define METRICS_CLIENT_TIMEOUT_S 2
#define METRICS_REQUEST_MAX      4096
#define METRICS_DOC_MAX          (1024 * 1024)

static void label_value(FILE *out, const char *s)
{
        /* The exposition format escapes exactly these three. */
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        fprintf(out, "\\%c", *s);
                else if (*s == '\n')
                        fputs("\\n", out);
                else
                        fputc(*s, out);
        }
}

static void header(FILE *out, const char *name, const char *type, const char *help)
{
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static uint64_t uint_member(struct json_object *o, const char *key)
{
        int64_t v = 0;

        return jsonr_int(o, key, 0, INT64_MAX, &v) > 0 ? (uint64_t) v : 0;
}

static const char *string_member(struct json_object *o, const char *key)
{
        const char *s = NULL;

        return jsonr_string(o, key, 256, &s, NULL) > 0 ? s : "";
}

static int render_dumps(struct json_object *root, FILE *out)
{
        struct json_object *dumps = NULL;

        header(out, "coredump_proxy_dumps_total", "counter",
               "Dumps ended, by outcome, reason and container runtime (\"host\": a task on the host).");
        if (jsonr_member(root, "dumps", json_type_array, &dumps) <= 0)
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(dumps); i++) {
                struct json_object *d = json_object_array_get_idx(dumps, i);

                if (!json_object_is_type(d, json_type_object))
                        return -EBADMSG;
                fputs("coredump_proxy_dumps_total{outcome=\"", out);
                label_value(out, string_member(d, "outcome"));
                fputs("\",reason=\"", out);
                label_value(out, string_member(d, "reason"));
                fputs("\",runtime=\"", out);
                label_value(out, string_member(d, "runtime"));
                fprintf(out, "\"} %" PRIu64 "\n", uint_member(d, "count"));
        }
        return 0;
}

static int render_duration(struct json_object *root, FILE *out)
{
        struct json_object *duration = NULL, *buckets = NULL;
        const char *name = "coredump_proxy_dump_duration_seconds";

        header(out, name, "histogram", "Time from the kernel's connection to the end of a dump.");
        if (jsonr_member(root, "duration", json_type_object, &duration) <= 0 ||
            jsonr_member(duration, "buckets", json_type_array, &buckets) <= 0)
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(buckets); i++) {
                struct json_object *b = json_object_array_get_idx(buckets, i);
                uint64_t le = uint_member(b, "le_ms");

                fprintf(out, "%s_bucket{le=\"%" PRIu64 ".%03" PRIu64 "\"} %" PRIu64 "\n", name, le / 1000,
                        le % 1000, uint_member(b, "count"));
        }
        fprintf(out, "%s_bucket{le=\"+Inf\"} %" PRIu64 "\n", name, uint_member(duration, "count"));
        fprintf(out, "%s_sum %.6f\n", name, (double) uint_member(duration, "sum_us") / 1e6);
        fprintf(out, "%s_count %" PRIu64 "\n", name, uint_member(duration, "count"));
        return 0;
}

int metrics_render(const char *doc, size_t len, FILE *out, int *ret_ready)
{
        _cleanup_(json_object_putp) struct json_object *root = NULL;
        struct json_object *queue = NULL;
        struct json_object *ours = NULL;
        int r;

        *ret_ready = 0;
        header(out, "coredump_proxy_up", "gauge", "Whether the daemon answered this scrape.");
        if (!doc || jsonr_parse(doc, len, METRICS_DOC_MAX, 8, json_type_object, &root) < 0) {
                fprintf(out, "coredump_proxy_up 0\n");
                header(out, "coredump_proxy_build_info", "gauge", "The exporter's version.");
                fprintf(out, "coredump_proxy_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
                return doc ? -EBADMSG : 0;
        }
        fprintf(out, "coredump_proxy_up 1\n");
        header(out, "coredump_proxy_build_info", "gauge",
               "The exporter's version, the daemon's and its intake mode.");
        fprintf(out, "coredump_proxy_build_info{version=\"%s\",daemon_version=\"", PACKAGE_VERSION);
        label_value(out, string_member(root, "version"));
        fputs("\",mode=\"", out);
        label_value(out, string_member(root, "mode"));
        fputs("\"} 1\n", out);

        r = render_dumps(root, out);
        if (r < 0)
                return r;
        header(out, "coredump_proxy_dump_bytes_total", "counter",
               "Bytes of the cores kept (stored or delivered).");
        fprintf(out, "coredump_proxy_dump_bytes_total %" PRIu64 "\n", uint_member(root, "bytes"));
        r = render_duration(root, out);
        if (r < 0)
                return r;
        header(out, "coredump_proxy_dumps_lost_total", "counter",
               "Crashes the kernel began to dump that never reached the daemon.");
        fprintf(out, "coredump_proxy_dumps_lost_total %" PRIu64 "\n", uint_member(root, "lost"));
        header(out, "coredump_proxy_dumps_in_flight", "gauge", "Dumps accepted and not yet ended.");
        fprintf(out, "coredump_proxy_dumps_in_flight %" PRIu64 "\n", uint_member(root, "in_flight"));
        header(out, "coredump_proxy_accept_queue_length", "gauge",
               "Connections the kernel queued on the coredump socket, not yet accepted.");
        (void) jsonr_member(root, "kernel_queue", json_type_object, &queue);
        fprintf(out, "coredump_proxy_accept_queue_length %" PRIu64 "\n",
                queue ? uint_member(queue, "pending") : 0);

        *ret_ready = jsonr_member(root, "pattern_ours", json_type_boolean, &ours) > 0 &&
                     json_object_get_boolean(ours);
        return 0;
}

/* ---- the HTTP side: one request per connection, one connection at a time ---- */

static void respond(int fd, const char *status, const char *type, const char *body, size_t len)
{
        /* The bodies below are short literals: their length is strlen's, when not given. */
        len = len ? len : strlen(body);
        _cleanup_free_ char *head = NULL;
        int n = asprintf(
                &head, "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                status, type, len);

        if (n < 0)
                return;
        if (io_write_all(fd, head, (size_t) n) >= 0)
                (void) io_write_all(fd, body, len);
}

static void scrape(const char *socket_path, bool want_body, int fd)
{
        _cleanup_free_ char *doc = NULL, *body = NULL;
        size_t body_len = 0;
        int ready = 0;
        FILE *out;

        if (control_query(socket_path, &doc) < 0)
                doc = mfree_str(doc);
        out = open_memstream(&body, &body_len);
        if (!out)
                return respond(fd, "500 Internal Server Error", "text/plain", "", 0);
        if (metrics_render(doc, doc ? strlen(doc) : 0, out, &ready) < 0)
                log_warning("metrics: the daemon's document does not parse");
        if (fclose(out) != 0)
                return respond(fd, "500 Internal Server Error", "text/plain", "", 0);
        if (want_body)
                respond(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, body_len);
        else if (ready)
                respond(fd, "200 OK", "text/plain", "ready\n", 6);
        else {
                const char *why = doc ? "not ready: core_pattern does not point at the daemon\n"
                                      : "not ready: the daemon does not answer\n";
                respond(fd, "503 Service Unavailable", "text/plain", why, strlen(why));
        }
}

static void serve_one(int fd, const char *socket_path)
{
        char buf[METRICS_REQUEST_MAX + 1], method[8], target[256];
        struct timeval tv = { .tv_sec = METRICS_CLIENT_TIMEOUT_S };
        size_t got = 0;

        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        /*
         * The request line and headers, up to the blank line; no body is ever
         * read. One deadline for the whole request: a client that sends a
         * byte now and then must not hold the only server of the probes.
         */
        usec_t deadline = io_now() + METRICS_CLIENT_TIMEOUT_S * USEC_PER_SEC;
        while (got < METRICS_REQUEST_MAX) {
                if (io_wait(fd, POLLIN, deadline) <= 0)
                        return;
                ssize_t k = read(fd, buf + got, METRICS_REQUEST_MAX - got);
                if (k <= 0)
                        return;
                got += (size_t) k;
                buf[got] = 0;
                if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
                        break;
        }
        buf[got] = 0;
        if (sscanf(buf, "%7s %255s HTTP/1.%*c", method, target) != 2)
                return respond(fd, "400 Bad Request", "text/plain", "bad request\n", 12);
        target[strcspn(target, "?")] = 0;
        if (strcmp(method, "GET") != 0)
                return respond(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
        if (strcmp(target, "/metrics") == 0)
                return scrape(socket_path, true, fd);
        if (strcmp(target, "/readyz") == 0)
                return scrape(socket_path, false, fd);
        if (strcmp(target, "/healthz") == 0)
                return respond(fd, "200 OK", "text/plain", "ok\n", 3);
        respond(fd, "404 Not Found", "text/plain", "/metrics, /healthz, /readyz\n", 28);
}

static int listen_on(const char *address)
{
        _cleanup_free_ char *copy = strdup(address);
        struct addrinfo hints = { .ai_family = AF_UNSPEC,
                                  .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *ai = NULL;
        char *host, *port;
        int fd, one = 1, r;

        if (!copy)
                return -ENOMEM;
        /* HOST:PORT, [V6]:PORT or :PORT (every address). */
        port = strrchr(copy, ':');
        if (!port)
                return -EINVAL;
        *port++ = 0;
        host = copy;
        if (host[0] == '[' && host[strlen(host) - 1] == ']') {
                host[strlen(host) - 1] = 0;
                host++;
        }
        r = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
        if (r != 0)
                return -EINVAL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                r = negative_errno();
                freeaddrinfo(ai);
                return r;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
                r = negative_errno();
                freeaddrinfo(ai);
                safe_close(fd);
                return r;
        }
        freeaddrinfo(ai);
        return fd;
}

int metrics_main(const struct daemon_options *o, const char *listen)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct config *c = NULL;
        int r;

        if (!listen) {
                log_error("metrics: --listen ADDR:PORT is required");
                return EXIT_FAILURE;
        }
        r = daemon_load_config(o, &c);
        if (r < 0)
                return EXIT_FAILURE;
        r = control_metrics_path(c->listen_path, &path);
        config_free(c);
        if (r < 0)
                return log_oom(), EXIT_FAILURE;
        fd = listen_on(listen);
        if (fd < 0) {
                log_error_errno(fd, "metrics: cannot listen on %s (ADDR:PORT, [V6ADDR]:PORT or :PORT)",
                                listen);
                return EXIT_FAILURE;
        }
        /* Whoever started it: nothing here needs a capability, or a new privilege. */
        r = caps_reduce_all();
        if (r >= 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                r = negative_errno();
        if (r < 0) {
                log_error_errno(r, "metrics: cannot drop privileges");
                return EXIT_FAILURE;
        }
        (void) signal(SIGPIPE, SIG_IGN);
        log_info("metrics: serving /metrics, /healthz and /readyz on %s from %s", listen, path);
        for (;;) {
                _cleanup_close_ int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (client < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        return log_error_errno(errno, "metrics: accept"), EXIT_FAILURE;
                }
                serve_one(client, path);
        }
}
