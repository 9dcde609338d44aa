/* SPDX-License-Identifier: MIT */
/* dsink.c - the daemon's log path into the log pump, the driver's log sink (see pod/dsink.h).
 *
 * Buffers: each stream has at most one open pump buffer that collects its writes across loop
 * rounds; dsink_round_end submits it at once when the stream's previous buffer went more than
 * DSINK_HOLD_MS earlier (a lone write), else - in a burst - once it is half full or
 * DSINK_HOLD_MS old (so the pump's writer thread wakes once per batch, not once per pipe read),
 * fill() when it is full or a write comes more than DSINK_SAME_TIME_NS after its first, dsink_flush
 * at once.  The sink keeps at most one spare buffer (reserved by dsink_output_room).  When no
 * buffer can be had, writes go to an in-memory FIFO, in order, and every later write goes behind
 * them until the FIFO is empty again. Nothing here calls pod_log: dsink_log is itself a pod_log
 * sink.
 */
#include "pod/dsink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

/* Writes of one stream this close in time share a pump buffer (and its time stamp). */
#define DSINK_SAME_TIME_NS 1000000
/* An open buffer goes to the pump at the end of the loop round once it is this old (monotonic
 * ms; at most ~2 ms of added latency, measured from its first write). */
#define DSINK_HOLD_MS 2

struct obuf {
    char *buf;
    size_t len;
    int64_t ts;
    int64_t since_mono_ms;       /* when buf was taken */
    int64_t last_submit_mono_ms; /* when the stream's previous buffer went to the pump */
};

struct qitem {
    size_t k; /* stream index */
    char *data;
    size_t len;
    int64_t ts;
    bool eof;
};

struct room_cb {
    void (*fn)(void *arg);
    void *arg;
};

struct dsink {
    struct dsink_cfg cfg;
    size_t nstreams; /* 2 per container + the daemon's log */
    int *id;         /* pump stream ids, -1 when its writer could not be opened */
    struct obuf *ob;
    char *spare;
    size_t bufsz;
    struct qitem *q;
    size_t qhead, qlen, qcap;
    size_t q_bytes, q_daemon_bytes;
    uint64_t daemon_dropped;
    bool starved; /* said "no room": call the room callbacks when it returns */
    struct room_cb *cb;
    size_t ncb;
};

static size_t daemon_k(const struct dsink *s)
{
    return s->nstreams - 1;
}

/* ------------------------------------------------------------------ setup */

static int open_stream(struct dsink *s, size_t k, const char *base, struct pod_err *err)
{
    const struct pod_spec *sp = s->cfg.spec;
    char *dir = pod_path_join(s->cfg.dir, "log");
    struct logw_cfg lc;
    memset(&lc, 0, sizeof lc);
    lc.fs = s->cfg.fs;
    lc.dir = dir;
    lc.base = base;
    lc.max_bytes = sp->logs.max_bytes;
    lc.max_files = sp->logs.max_files;
    if (lc.max_bytes > 0 && lc.max_bytes < 4 * (int64_t)LOGW_DEFAULT_MAX_LINE)
        lc.max_line = (size_t)(lc.max_bytes / 4 > 64 ? lc.max_bytes / 4 : 64);
    struct logw *w;
    int rc = logw_open(&lc, &w, err);
    free(dir);
    if (rc < 0)
        return -1;
    s->id[k] = logpump_attach(s->cfg.pump, w);
    return 0;
}

int dsink_new(const struct dsink_cfg *cfg, struct dsink **out, struct pod_err *err)
{
    struct dsink *s = xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    size_t n = cfg->spec->n_containers;
    s->nstreams = 2 * n + 1;
    s->id = xcalloc(s->nstreams, sizeof *s->id);
    s->ob = xcalloc(s->nstreams, sizeof *s->ob);
    s->bufsz = logpump_buf_size(cfg->pump);
    for (size_t k = 0; k < s->nstreams; k++) {
        s->id[k] = -1;
        s->ob[k].last_submit_mono_ms = INT64_MIN / 2; /* no burst yet */
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        for (int st = 0; st < 2 && rc == 0; st++) {
            char *full = spec_container_fullname(cfg->spec, i);
            char *base = xasprintf("%s-%s", full, st ? "stderr" : "stdout");
            rc = open_stream(s, 2 * i + (size_t)st, base, err);
            free(base);
            free(full);
        }
    if (rc == 0) {
        char *pod = spec_pod_fullname(cfg->spec);
        char *base = xasprintf("%s-stderr", pod);
        rc = open_stream(s, daemon_k(s), base, err);
        free(base);
        free(pod);
    }
    if (rc < 0) {
        dsink_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

/* ------------------------------------------------------------------ buffers and the queue */

static char *take_buf(struct dsink *s)
{
    if (s->spare)
        return pod_steal_ptr(&s->spare);
    return logpump_reserve(s->cfg.pump);
}

static void submit(struct dsink *s, size_t k)
{
    struct obuf *o = &s->ob[k];
    if (!o->buf)
        return;
    logpump_submit(s->cfg.pump, s->id[k], o->buf, o->len, o->ts);
    o->last_submit_mono_ms = clk_mono_ms(s->cfg.clk);
    o->buf = NULL;
    o->len = 0;
}

static void q_push(struct dsink *s, size_t k, const void *data, size_t len, int64_t ts, bool eof)
{
    if (s->qhead + s->qlen == s->qcap) {
        if (s->qhead > 0) {
            memmove(s->q, s->q + s->qhead, s->qlen * sizeof *s->q);
            s->qhead = 0;
        } else {
            s->qcap = s->qcap ? 2 * s->qcap : 16;
            s->q = xrealloc(s->q, s->qcap * sizeof *s->q);
        }
    }
    char *copy = len ? xmalloc(len) : NULL;
    if (len)
        memcpy(copy, data, len);
    s->q[s->qhead + s->qlen++] = (struct qitem){k, copy, len, ts, eof};
    s->q_bytes += len;
    if (k == daemon_k(s))
        s->q_daemon_bytes += len;
}

/* Copies into stream k's buffers; returns the bytes taken (less when no buffer was free). */
static size_t fill(struct dsink *s, size_t k, const char *p, size_t len, int64_t ts)
{
    size_t done = 0;
    while (done < len) {
        struct obuf *o = &s->ob[k];
        if (o->buf && ts - o->ts > DSINK_SAME_TIME_NS)
            submit(s, k); /* a later read: its lines get their own time */
        if (!o->buf) {
            o->buf = take_buf(s);
            if (!o->buf) {
                dsink_flush(s); /* the other streams' open buffers go: the pool comes back */
                return done;
            }
            o->ts = ts;
            o->since_mono_ms = clk_mono_ms(s->cfg.clk);
        }
        size_t n = len - done < s->bufsz - o->len ? len - done : s->bufsz - o->len;
        memcpy(o->buf + o->len, p + done, n);
        o->len += n;
        done += n;
        if (o->len == s->bufsz)
            submit(s, k);
    }
    return done;
}

/* Moves queued items into buffers while there are any.  Returns true when the queue is empty. */
static bool drain(struct dsink *s)
{
    while (s->qlen) {
        struct qitem *it = &s->q[s->qhead];
        if (it->eof) {
            submit(s, it->k);
            logpump_eof(s->cfg.pump, s->id[it->k], it->ts);
        } else {
            size_t n = fill(s, it->k, it->data, it->len, it->ts);
            s->q_bytes -= n;
            if (it->k == daemon_k(s))
                s->q_daemon_bytes -= n;
            if (n < it->len) {
                memmove(it->data, it->data + n, it->len - n);
                it->len -= n;
                return false;
            }
        }
        free(it->data);
        s->qhead++;
        s->qlen--;
    }
    s->qhead = 0;
    return true;
}

/* ------------------------------------------------------------------ writing */

static void write_k(struct dsink *s, size_t k, const void *data, size_t len, int64_t ts)
{
    if (k >= s->nstreams || s->id[k] < 0 || len == 0)
        return;
    if (s->qlen) {
        q_push(s, k, data, len, ts, false);
        return;
    }
    size_t n = fill(s, k, data, len, ts);
    if (n < len)
        q_push(s, k, (const char *)data + n, len - n, ts, false);
}

void dsink_write(struct dsink *s, size_t ctr, int stream, const void *data, size_t len,
                 int64_t wall_ns)
{
    write_k(s, 2 * ctr + (stream ? 1u : 0u), data, len, wall_ns);
}

void dsink_eof(struct dsink *s, size_t ctr, int stream, int64_t wall_ns)
{
    size_t k = 2 * ctr + (stream ? 1u : 0u);
    if (k >= s->nstreams || s->id[k] < 0)
        return;
    if (s->qlen) {
        q_push(s, k, NULL, 0, wall_ns, true);
        return;
    }
    submit(s, k);
    logpump_eof(s->cfg.pump, s->id[k], wall_ns);
}

struct logw_stats dsink_stats(struct dsink *s, size_t ctr, int stream)
{
    return dsink_stats_err(s, ctr, stream, NULL, 0);
}

struct logw_stats dsink_stats_err(struct dsink *s, size_t ctr, int stream, char *errbuf,
                                  size_t errlen)
{
    size_t k = 2 * ctr + (stream ? 1u : 0u);
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    if (errbuf && errlen)
        errbuf[0] = 0;
    if (k >= s->nstreams || s->id[k] < 0)
        return z;
    return logpump_stats(s->cfg.pump, s->id[k], errbuf, errlen);
}

bool dsink_output_room(struct dsink *s)
{
    if (!s->qlen && (s->spare || (s->spare = logpump_reserve(s->cfg.pump))))
        return true;
    s->starved = true; /* logpump_reserve failed: the pump's eventfd will say when */
    return false;
}

void dsink_on_room(struct dsink *s, void (*fn)(void *arg), void *arg)
{
    s->cb = xrealloc(s->cb, (s->ncb + 1) * sizeof *s->cb);
    s->cb[s->ncb++] = (struct room_cb){fn, arg};
}

void dsink_flush(struct dsink *s)
{
    for (size_t k = 0; k < s->nstreams; k++)
        submit(s, k);
}

void dsink_round_end(struct dsink *s, int64_t now_mono_ms)
{
    for (size_t k = 0; k < s->nstreams; k++) {
        const struct obuf *o = &s->ob[k];
        /* held only within a burst (the stream's previous buffer went less than DSINK_HOLD_MS
         * before this one was opened): a lone write goes at once, costing no extra wake-up */
        if (o->buf && (o->len >= s->bufsz / 2 || now_mono_ms - o->since_mono_ms >= DSINK_HOLD_MS ||
                       o->since_mono_ms - o->last_submit_mono_ms >= DSINK_HOLD_MS))
            submit(s, k);
    }
}

int64_t dsink_next_deadline(const struct dsink *s)
{
    int64_t m = INT64_MAX;
    for (size_t k = 0; k < s->nstreams; k++)
        if (s->ob[k].buf && s->ob[k].since_mono_ms + DSINK_HOLD_MS < m)
            m = s->ob[k].since_mono_ms + DSINK_HOLD_MS;
    return m;
}

static void log_drops(struct dsink *s)
{
    if (!s->daemon_dropped)
        return;
    char line[128];
    int n = snprintf(line, sizeof line, "[WARN]  %llu daemon log lines dropped (the disk hung)\n",
                     (unsigned long long)s->daemon_dropped);
    s->daemon_dropped = 0;
    write_k(s, daemon_k(s), line, (size_t)n, clk_wall_ns(s->cfg.clk));
}

void dsink_pump_ready(struct dsink *s)
{
    logpump_ack_fd(s->cfg.pump);
    if (!drain(s))
        return; /* still short of buffers: the eventfd fires again */
    log_drops(s);
    dsink_flush(s);
    if (s->starved && dsink_output_room(s)) {
        s->starved = false;
        for (size_t i = 0; i < s->ncb; i++)
            s->cb[i].fn(s->cb[i].arg);
    }
}

void dsink_log(void *self, int level, const char *msg)
{
    struct dsink *s = self;
    static const char *const hdr[] = {"",         "[ERROR] ", "[WARN]  ",
                                      "[OK]    ", "[INFO]  ", "[DEBUG] "};
    if (s->q_daemon_bytes > DSINK_MAX_DAEMON_BACKLOG) {
        s->daemon_dropped++;
        return;
    }
    struct pod_buf b = {0};
    pod_buf_printf(&b, "%s%s\n", hdr[level >= 1 && level <= 5 ? level : 0], msg);
    write_k(s, daemon_k(s), b.data, b.len, clk_wall_ns(s->cfg.clk));
    pod_buf_free(&b);
}

size_t dsink_backlog(const struct dsink *s)
{
    return s->q_bytes;
}

void dsink_free(struct dsink *s)
{
    if (!s)
        return;
    /* what is still queued in memory goes to the pump now, waiting for buffers if need be */
    while (!drain(s)) {
        dsink_flush(s); /* what we hold goes out, so a buffer comes back */
        s->spare = logpump_reserve_wait(s->cfg.pump);
        if (!s->spare)
            break; /* can't happen: nothing of ours is held any more */
    }
    dsink_flush(s);
    if (s->spare)
        logpump_submit(s->cfg.pump, -1, s->spare, 0, 0); /* 0 bytes: back to the pool */
    for (size_t k = 0; k < s->nstreams; k++)
        if (s->id[k] >= 0) {
            logpump_detach(s->cfg.pump, s->id[k]);
            logpump_release(s->cfg.pump, s->id[k]);
        }
    for (size_t i = 0; i < s->qlen; i++)
        free(s->q[s->qhead + i].data);
    free(s->q);
    free(s->id);
    free(s->ob);
    free(s->cb);
    free(s);
}

/* ------------------------------------------------------------------ the driver's log sink */

static void sink_write(void *self, size_t ctr, enum backend_stream stream, const char *data,
                       size_t len, int64_t wall_ns)
{
    dsink_write(self, ctr, stream == BACKEND_STDERR, data, len, wall_ns);
}

static void sink_eof(void *self, size_t ctr, enum backend_stream stream, int64_t wall_ns)
{
    dsink_eof(self, ctr, stream == BACKEND_STDERR, wall_ns);
}

static void sink_retry(void *self, int64_t wall_ns)
{
    (void)self; /* the pump's writer thread retries on its own */
    (void)wall_ns;
}

static struct logw_stats sink_stats(void *self, size_t ctr, enum backend_stream stream,
                                    char *errbuf, size_t errlen)
{
    struct dsink *s = self;
    size_t k = 2 * ctr + (stream == BACKEND_STDERR ? 1u : 0u);
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (k >= s->nstreams - 1 || s->id[k] < 0)
        return z;
    return logpump_stats(s->cfg.pump, s->id[k], errbuf, errlen);
}

static void sink_close(void *self)
{
    (void)self; /* the daemon frees the dsink after the driver (its own log needs it) */
}

static const struct drv_log_sink_ops dsink_sink_ops = {sink_write, sink_eof, sink_retry, sink_stats,
                                                       sink_close};

struct drv_log_sink dsink_drv_sink(struct dsink *s)
{
    struct drv_log_sink k = {&dsink_sink_ops, s};
    return k;
}
