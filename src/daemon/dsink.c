/* SPDX-License-Identifier: MIT */
/* dsink.c - the daemon's log path into the log pump, and its interim wiring (see pod/dsink.h).
 *
 * Buffers: each stream has at most one open pump buffer that collects the writes of a loop
 * round (submitted when full or at dsink_flush), and the sink keeps at most one spare buffer
 * (reserved by dsink_output_room).  When no buffer can be had, writes go to an in-memory FIFO,
 * in order, and every later write goes behind them until the FIFO is empty again.
 * Nothing here calls pod_log: dsink_log is itself a pod_log sink.
 */
#include "pod/dsink.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

/* Writes of one stream this close in time share a pump buffer (and its time stamp). */
#define DSINK_SAME_TIME_NS 1000000

struct obuf {
    char *buf;
    size_t len;
    int64_t ts;
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
    for (size_t k = 0; k < s->nstreams; k++)
        s->id[k] = -1;
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
            if (!o->buf)
                return done;
            o->ts = ts;
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
    size_t k = 2 * ctr + (stream ? 1u : 0u);
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    if (k >= s->nstreams || s->id[k] < 0)
        return z;
    return logpump_stats(s->cfg.pump, s->id[k], NULL, 0);
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

/* ------------------------------------------------------------------ interim: the backend */

static int b_pod_create(void *self, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->pod_create(w->inner.self, err);
}

static int b_pod_remove(void *self, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->pod_remove(w->inner.self, err);
}

static int b_ctr_start(void *self, size_t ctr, uint64_t inst, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->ctr_start(w->inner.self, ctr, inst, err);
}

static int b_ctr_stop(void *self, size_t ctr, uint64_t inst, int64_t t, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->ctr_stop(w->inner.self, ctr, inst, t, err);
}

static int b_ctr_kill(void *self, size_t ctr, uint64_t inst, int sig, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->ctr_kill(w->inner.self, ctr, inst, sig, err);
}

static int b_ctr_remove(void *self, size_t ctr, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->ctr_remove(w->inner.self, ctr, err);
}

static int b_probe(void *self, const struct backend_probe_req *req, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->probe(w->inner.self, req, err);
}

static int b_cancel(void *self, uint64_t tag, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->cancel(w->inner.self, tag, err);
}

static int b_inspect(void *self, size_t ctr, struct backend_ctr_state *out, struct pod_err *err)
{
    struct dsink_backend *w = self;
    return w->inner.ops->inspect(w->inner.self, ctr, out, err);
}

/* Output events go to the sink; the others are handed on, compacted. */
static int b_poll_events(void *self, struct backend_event *evs, size_t max, struct pod_err *err)
{
    struct dsink_backend *w = self;
    for (int round = 0; round < 1000; round++) {
        int n = w->inner.ops->poll_events(w->inner.self, evs, max, err);
        if (n <= 0)
            return n;
        size_t kept = 0;
        for (int i = 0; i < n; i++) {
            const struct backend_event *e = &evs[i];
            int stream = e->stream == BACKEND_STDERR;
            if (e->type == BACKEND_EV_OUTPUT)
                dsink_write(w->sink, e->ctr, stream, e->data, e->len,
                            clk_wall_ns(w->sink->cfg.clk));
            else if (e->type == BACKEND_EV_OUTPUT_EOF)
                dsink_eof(w->sink, e->ctr, stream, clk_wall_ns(w->sink->cfg.clk));
            else
                evs[kept++] = *e;
        }
        if (kept > 0 || (size_t)n < max)
            return (int)kept;
    }
    return 0;
}

static int64_t b_next_deadline(void *self)
{
    struct dsink_backend *w = self;
    return w->inner.ops->next_deadline(w->inner.self);
}

static const struct backend_ops wrap_ops = {
    .name = "dsink",
    .pod_create = b_pod_create,
    .pod_remove = b_pod_remove,
    .ctr_start = b_ctr_start,
    .ctr_stop = b_ctr_stop,
    .ctr_kill = b_ctr_kill,
    .ctr_remove = b_ctr_remove,
    .probe = b_probe,
    .cancel = b_cancel,
    .inspect = b_inspect,
    .poll_events = b_poll_events,
    .next_deadline = b_next_deadline,
};

struct backend dsink_backend(struct dsink_backend *wrap)
{
    struct backend b = {&wrap_ops, wrap};
    return b;
}

/* ------------------------------------------------------------------ interim: the driver's fs */

#define INERT_HANDLE 0x40000000

static bool in_log(const struct dsink_fs *f, const char *path)
{
    size_t n = strlen(f->logdir);
    return strncmp(path, f->logdir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

static int f_open_append(void *self, const char *path, struct pod_err *err)
{
    return in_log(self, path) ? INERT_HANDLE : fs_real_ops.open_append(NULL, path, err);
}

static ssize_t f_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    (void)self;
    return h == INERT_HANDLE ? (ssize_t)len : fs_real_ops.write(NULL, h, buf, len, err);
}

static int f_fsync(void *self, int h, struct pod_err *err)
{
    (void)self;
    return h == INERT_HANDLE ? 0 : fs_real_ops.fsync(NULL, h, err);
}

static int f_close(void *self, int h, struct pod_err *err)
{
    (void)self;
    return h == INERT_HANDLE ? 0 : fs_real_ops.close(NULL, h, err);
}

static int f_rename(void *self, const char *from, const char *to, struct pod_err *err)
{
    return in_log(self, from) ? 0 : fs_real_ops.rename(NULL, from, to, err);
}

static int f_unlink(void *self, const char *path, struct pod_err *err)
{
    return in_log(self, path) ? 0 : fs_real_ops.unlink(NULL, path, err);
}

static int f_stat_size(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    if (!in_log(self, path))
        return fs_real_ops.stat_size(NULL, path, size, err);
    *size = 0;
    return 0;
}

static int f_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    if (!in_log(self, dir))
        return fs_real_ops.list(NULL, dir, names, err);
    *names = xcalloc(1, sizeof **names);
    return 0;
}

static int f_mkdir_p(void *self, const char *dir, struct pod_err *err)
{
    return in_log(self, dir) ? 0 : fs_real_ops.mkdir_p(NULL, dir, err);
}

static int f_read_at(void *self, const char *path, int64_t off, void *buf, size_t len, size_t *got,
                     struct pod_err *err)
{
    if (!in_log(self, path))
        return fs_real_ops.read_at(NULL, path, off, buf, len, got, err);
    *got = 0;
    return 0;
}

static int f_sync_dir(void *self, const char *dir, struct pod_err *err)
{
    return in_log(self, dir) ? 0 : fs_real_ops.sync_dir(NULL, dir, err);
}

static int f_writeback(void *self, int h, struct pod_err *err)
{
    (void)self;
    return h == INERT_HANDLE ? 0 : fs_real_ops.writeback(NULL, h, err);
}

static const struct fs_ops drv_fs_ops = {
    .open_append = f_open_append,
    .write = f_write,
    .fsync = f_fsync,
    .close = f_close,
    .rename = f_rename,
    .unlink = f_unlink,
    .stat_size = f_stat_size,
    .list = f_list,
    .mkdir_p = f_mkdir_p,
    .read_at = f_read_at,
    .sync_dir = f_sync_dir,
    .writeback = f_writeback,
};

struct fs dsink_drv_fs(struct dsink_fs *wrap, const char *dir)
{
    wrap->logdir = pod_path_join(dir, "log");
    struct fs f = {&drv_fs_ops, wrap};
    return f;
}

void dsink_fs_free(struct dsink_fs *wrap)
{
    free(wrap->logdir);
    wrap->logdir = NULL;
}
