/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One proven dump (serve.c checked where it came from): the stream
 * written to the store, and our result. The metadata file is written from
 * the request's record by the same formatter the host store uses, so both
 * <id>.json files of a dump have one schema; the task's pid, uid and gid
 * in it are what the kernel proved, and "verified" says which those are.
 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cleanup.h"
#include "kernel/fdpass.h"
#include "proxy/base/jsonw.h"
#include "proxy/base/log.h"
#include "proxy/collector/collector.h"
#include "proxy/store/summarize.h"
#include "proxy/store/upload.h"

static int send_json(int fd, char *msg, size_t len)
{
        int r = fdpass_send(fd, msg, len, NULL, 0);
        free(msg);
        return r;
}

int session_send_answer(int fd, bool accept, const char *reason)
{
        struct collector_answer a = { .accept = accept, .reason = (char *) reason };
        char *msg;
        size_t len = 0;
        int r = collector_answer_format(&a, &msg, &len);

        return r < 0 ? r : send_json(fd, msg, len);
}

int session_send_result(int fd, const struct collector_result *res)
{
        char *msg;
        size_t len = 0;
        int r = collector_result_format(res, &msg, &len);

        return r < 0 ? r : send_json(fd, msg, len);
}

/* The keys of the metadata the kernel vouches for, and how. */
static void write_verified(struct jsonw *w, const struct auth_facts *f)
{
        jsonw_key(w, "verified");
        jsonw_object_begin(w);
        jsonw_kv_string(w, "by", auth_proof_to_string(f->proof));
        jsonw_key(w, "keys");
        jsonw_array_begin(w);
        if (f->proof == AUTH_PROOF_PIDFD)
                jsonw_string(w, "pid");
        if (f->proof != AUTH_PROOF_NONE) {
                jsonw_string(w, "uid");
                jsonw_string(w, "gid");
        }
        jsonw_array_end(w);
        jsonw_object_end(w);
}

static int write_metadata(void *userdata, const struct store_result *res, char **ret, size_t *ret_len)
{
        const struct record_limits lim = RECORD_LIMITS_NONE;
        const struct session *s = userdata;
        struct record_container container;
        struct dump_record rec;
        struct jsonw w;

        collector_request_record(&s->req, &container, &rec);
        /* The kernel's ids over the request's; the pid stays the proxy's word where it is unproven. */
        if (s->facts.proof == AUTH_PROOF_PIDFD)
                rec.ns_ids.pid = s->facts.pid;
        if (s->facts.proof != AUTH_PROOF_NONE) {
                rec.ns_ids.uid = s->facts.uid;
                rec.ns_ids.gid = s->facts.gid;
        }
        /* What was read, never what the request announced. */
        rec.kept = true;
        rec.bytes = res->bytes;
        rec.cut = res->cut == STORE_COMPLETE ? NULL : store_cut_to_string(res->cut);
        rec.compression = res->compressed ? "zstd" : "none";
        rec.stored_bytes = res->stored_bytes;
        /* The core's own notes, rather than what message 1 said. */
        if (res->cmdline[0])
                rec.cmdline = res->cmdline;

        jsonw_init(&w);
        jsonw_object_begin(&w);
        record_write_task(&w, &rec, RECORD_VIEW_CONTAINER, &lim);
        record_write_details(&w, &rec, &lim);
        record_write_result(&w, &rec);
        record_write_exposed(&w, &rec, &lim);
        write_verified(&w, &s->facts);
        jsonw_object_end(&w);
        return jsonw_finish(&w, ret, ret_len);
}

/* Message 4: what was kept, or that nothing of the stream was read (the proxy may still keep it). */
static void send_result(struct session *s, int w, const struct store_result *res, uint64_t progress)
{
        struct collector_result result = {
                .has_bytes = w >= 0,
                .bytes = res->bytes,
                .has_consumed = w<0, .consumed = progress> 0,
                .path = res->core_path,
                .error = w < 0 ? (char *) strerror(-w) : NULL,
        };

        /*
         * Close our copy before answering: the proxy shuts the stream down on
         * message 4, which lets the crashing task exit. The log line can wait.
         */
        close_many(s->fds, s->n_fds);
        s->n_fds = 0;
        (void) session_send_result(s->conn, &result);
}

/* After message 4 (the task is released): the user's command, run by the upload runner. */
static void submit_upload(struct session *s, const struct store_result *res)
{
        char f[10][512];
        const char *fields[10];
        size_t n = 0;
        int r;

        if (s->c->upload_fd < 0)
                return;
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_ID=%s", s->req.id);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_CORE=%s", res->core_path);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_METADATA=%s", res->metadata_path);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_BYTES=%llu", (unsigned long long) res->bytes);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_STORED_BYTES=%llu",
                        (unsigned long long) res->stored_bytes);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_TRUNCATED=%d", res->cut != STORE_COMPLETE);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_SIGNAL=%d", s->req.signal);
        (void) snprintf(f[n++], sizeof(f[0]), "CDP_PID=%lld", (long long) s->req.pid);
        if (s->req.comm)
                (void) snprintf(f[n++], sizeof(f[0]), "CDP_COMM=%s", s->req.comm);
        if (s->req.container_id)
                (void) snprintf(f[n++], sizeof(f[0]), "CDP_CONTAINER_ID=%s", s->req.container_id);
        for (size_t i = 0; i < n; i++)
                fields[i] = f[i];
        r = upload_submit(s->c->upload_fd, fields, n);
        if (r < 0)
                log_warning("%s: the upload command was not queued: %s", s->req.id, strerror(-r));
}

/* After message 4 as well: the crash summary, merged into <id>.json by its runner. */
static void submit_summary(struct session *s)
{
        int r;

        if (s->c->summary_fd < 0)
                return;
        r = summarize_submit(s->c->summary_fd, s->req.id);
        if (r < 0)
                log_warning("%s: no crash summary: the runner is behind (%s)", s->req.id, strerror(-r));
}

static void run_session(struct session *s)
{
        struct store_result res = {};
        uint64_t progress = 0;
        int w;

        struct store_request sr = {
                .id = s->req.id,
                .src = s->fds[0],
                .max_bytes = s->req.max_bytes,
                .deadline = s->deadline,
                .metadata = write_metadata,
                .userdata = s,
                .progress = &progress,
        };
        w = store_write(s->c->store, &sr, &res);
        send_result(s, w, &res, progress);
        if (w < 0)
                log_error("%s: writing the dump failed: %s", s->req.id, strerror(-w));
        else
                log_info("%s: %s (%s) %llu bytes, verified by %s%s%s", s->req.id,
                         s->req.comm ? s->req.comm : "?", s->req.container_id ? s->req.container_id : "-",
                         (unsigned long long) res.bytes, auth_proof_to_string(s->facts.proof),
                         res.cut != STORE_COMPLETE ? ", truncated: " : "",
                         res.cut != STORE_COMPLETE ? store_cut_to_string(res.cut) : "");
        if (w >= 0) {
                submit_upload(s, &res);
                submit_summary(s);
        }
        store_result_done(&res);
}

void session_free(struct session *s)
{
        if (!s)
                return;
        close_many(s->fds, s->n_fds);
        collector_request_done(&s->req);
        safe_close(s->conn);
        free(s);
}

/*
 * The writers: threads started as dumps come, up to --max-connections, that
 * then stay and wait for the next one. A dump costs a wake-up, not a
 * thread's creation and teardown.
 */
static void *writer_main(void *arg)
{
        struct collector *c = arg;

        pthread_mutex_lock(&c->lock);
        for (;;) {
                while (c->queued == 0) {
                        c->idle_writers++;
                        pthread_cond_wait(&c->work, &c->lock);
                        c->idle_writers--;
                }
                struct session *s = c->queue[c->queue_head];
                c->queue_head = (c->queue_head + 1) % c->max_dumps;
                c->queued--;
                pthread_mutex_unlock(&c->lock);

                run_session(s);
                session_free(s);

                pthread_mutex_lock(&c->lock);
                c->dumping--;
                pthread_cond_broadcast(&c->done);
        }
        return NULL;
}

/* Called with the lock held. */
static int start_writer(struct collector *c)
{
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        (void) pthread_attr_setstacksize(&attr, 256 * 1024);
        r = pthread_create(&t, &attr, writer_main, c);
        pthread_attr_destroy(&attr);
        if (r != 0)
                return -r;
        c->writers++;
        return 0;
}

bool session_room(struct collector *c)
{
        bool room;

        pthread_mutex_lock(&c->lock);
        room = c->dumping < c->max_dumps;
        pthread_mutex_unlock(&c->lock);
        return room;
}

int session_start(struct session *s)
{
        struct collector *c = s->c;
        int r = 0;

        pthread_mutex_lock(&c->lock);
        if (c->dumping >= c->max_dumps) {
                pthread_mutex_unlock(&c->lock);
                return -EBUSY;
        }
        if (!c->queue) {
                c->queue = calloc(c->max_dumps, sizeof(*c->queue));
                if (!c->queue) {
                        pthread_mutex_unlock(&c->lock);
                        return -ENOMEM;
                }
        }
        if (c->idle_writers <= c->queued && c->writers < c->max_dumps)
                r = start_writer(c);
        if (r < 0 && c->writers == 0) {
                /* Nobody would ever write it: still the caller's. */
                pthread_mutex_unlock(&c->lock);
                return r;
        }
        /* At most max_dumps in flight, so the ring (max_dumps places) never overflows. */
        c->dumping++;
        c->queue[(c->queue_head + c->queued) % c->max_dumps] = s;
        c->queued++;
        pthread_cond_signal(&c->work);
        pthread_mutex_unlock(&c->lock);
        return 0;
}

void session_wait_all(struct collector *c)
{
        pthread_mutex_lock(&c->lock);
        while (c->dumping > 0)
                pthread_cond_wait(&c->done, &c->lock);
        pthread_mutex_unlock(&c->lock);
}
