/* SPDX-License-Identifier: MIT */
/* logpump.c - log writers on a writer thread (include/pod/logpump.h, SPEC.md 9.9).
 *
 * One mutex guards everything shared: the item queue (a growable ring), the free-buffer stack,
 * the per-stream stats snapshots and the counters.  The writer takes one item at a time, runs
 * the logw call without the lock, then publishes the stream's stats and gives the buffer back.
 * Wake-ups: `work` (caller -> writer: an item was queued, or stop), `freed` (writer -> a caller
 * in logpump_reserve_wait), `done` (writer -> a caller in logpump_flush), and the eventfd for
 * an event loop that found the pool empty (logpump_reserve returned NULL).
 */
#include "pod/logpump.h"
#include "pod/util.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum item_kind { IT_DATA, IT_EOF, IT_SYNC, IT_DETACH };

struct item {
    enum item_kind kind;
    int id;
    void *buf;
    size_t n;
    int64_t ts;
};

struct stream {
    struct logw *w;       /* NULL once closed (by the writer) */
    bool detaching;       /* logpump_detach was called: no more items */
    struct logw_stats st; /* snapshot, under mu */
    char err[sizeof(((struct pod_err *)0)->msg)];
};

struct logpump {
    pthread_mutex_t mu;
    pthread_cond_t work, freed, done;
    pthread_t thr;
    int efd;

    struct item *q; /* ring: q[(head + i) % cap], i < len */
    size_t qcap, qhead, qlen;

    char *pool;
    void **free_bufs;
    size_t nfree, nbufs, buf_size;
    size_t wake_at; /* a starved caller is woken when this many buffers are free (or idle) */
    bool starved;   /* logpump_reserve returned NULL: signal the eventfd on the next free */

    struct stream **streams;
    size_t nstreams;

    uint64_t queued, processed;
    int flush_waiters, reserve_waiters;
    bool stop;

    int64_t retry_ms;
    const struct clk *clk;
};

/* ---- the writer thread ---- */

/* Streams whose logw keeps a backlog (the disk failed): retried on a timer.  Under mu. */
static bool any_backlog(const struct logpump *p)
{
    for (size_t i = 0; i < p->nstreams; i++) {
        const struct stream *s = p->streams[i];
        if (s->w && (s->st.backlog_bytes || s->st.failing))
            return true;
    }
    return false;
}

static void publish(struct logpump *p, struct stream *s, struct logw *w, bool failed,
                    const struct pod_err *e)
{
    struct logw_stats st = logw_stats(w);
    pthread_mutex_lock(&p->mu);
    s->st = st;
    if (failed)
        snprintf(s->err, sizeof s->err, "%s", e->msg[0] ? e->msg : logw_last_error(w));
    pthread_mutex_unlock(&p->mu);
}

/* Runs one item's logw call (without mu). */
static void run_item(struct logpump *p, struct stream *s, const struct item *it)
{
    struct logw *w = s->w;
    struct pod_err e = POD_ERR_ZERO;
    int rc = 0;
    if (!w)
        return;
    switch (it->kind) {
    case IT_DATA:
        rc = logw_write(w, it->buf, it->n, it->ts, &e);
        break;
    case IT_EOF:
        rc = logw_eof(w, it->ts, &e);
        break;
    case IT_SYNC:
        rc = logw_sync(w, &e);
        break;
    case IT_DETACH: {
        (void)logw_retry(w, clk_wall_ns(p->clk), &e); /* a last try for a backlog */
        publish(p, s, w, false, &e);
        logw_close(w);
        pthread_mutex_lock(&p->mu);
        s->w = NULL;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    }
    publish(p, s, w, rc < 0, &e);
}

/* logw_retry on every stream with a backlog (without mu; the stream array may grow meanwhile,
 * so each stream pointer is fetched under mu). */
static void retry_all(struct logpump *p)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&p->mu);
        struct stream *s = i < p->nstreams ? p->streams[i] : NULL;
        bool due = s && s->w && (s->st.backlog_bytes || s->st.failing);
        pthread_mutex_unlock(&p->mu);
        if (!s)
            return;
        if (due) {
            struct pod_err e = POD_ERR_ZERO;
            int rc = logw_retry(s->w, clk_wall_ns(p->clk), &e);
            publish(p, s, s->w, rc < 0, &e);
        }
    }
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *writer_main(void *arg)
{
    struct logpump *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->qlen == 0) {
            if (p->stop)
                break;
            if (any_backlog(p)) {
                struct timespec dl;
                deadline_after(&dl, p->retry_ms);
                int rc = 0;
                while (p->qlen == 0 && !p->stop && rc != ETIMEDOUT)
                    rc = pthread_cond_timedwait(&p->work, &p->mu, &dl);
                if (p->qlen == 0) {
                    pthread_mutex_unlock(&p->mu);
                    retry_all(p);
                    pthread_mutex_lock(&p->mu);
                }
            } else {
                pthread_cond_wait(&p->work, &p->mu);
            }
            continue;
        }
        struct item it = p->q[p->qhead];
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        struct stream *s = p->streams[it.id];
        pthread_mutex_unlock(&p->mu);

        run_item(p, s, &it);

        pthread_mutex_lock(&p->mu);
        if (it.buf) {
            p->free_bufs[p->nfree++] = it.buf;
            /* Wake a starved caller only once half the pool is free: it then reads a burst
             * instead of waking (a context switch) for every buffer. */
            bool wake = p->nfree >= p->wake_at || p->qlen == 0;
            if (p->reserve_waiters && wake)
                pthread_cond_signal(&p->freed);
            if (p->starved && wake) {
                p->starved = false;
                uint64_t one = 1;
                ssize_t wr = write(p->efd, &one, sizeof one); /* fails only if it overflows */
                (void)wr;
            }
        }
        p->processed++;
        if (p->flush_waiters)
            pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the caller's side ---- */

static void push(struct logpump *p, struct item it)
{
    pthread_mutex_lock(&p->mu);
    if (p->qlen == p->qcap) { /* full: grow (qcap >= 2 from logpump_new) */
        size_t cap = p->qcap < 8 ? 16 : p->qcap * 2;
        struct item *q = xcalloc(cap, sizeof *q);
        for (size_t i = 0; i < p->qlen; i++)
            q[i] = p->q[(p->qhead + i) % p->qlen]; /* qhead < qlen == old qcap */
        free(p->q);
        p->q = q;
        p->qcap = cap;
        p->qhead = 0;
    }
    p->q[(p->qhead + p->qlen) % p->qcap] = it;
    p->qlen++;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

/* Whether id names a stream that still takes items (caller's view: detach not yet queued). */
static bool live(struct logpump *p, int id)
{
    pthread_mutex_lock(&p->mu);
    bool ok = id >= 0 && (size_t)id < p->nstreams && !p->streams[id]->detaching;
    pthread_mutex_unlock(&p->mu);
    return ok;
}

/* Frees p and what it owns (its thread has stopped or never started). */
static void destroy(struct logpump *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->freed);
    pthread_cond_destroy(&p->done);
    close(p->efd);
    free(p->q);
    free(p->free_bufs);
    free(p->pool);
    free(p);
}

int logpump_new(const struct logpump_cfg *cfg, struct logpump **out, struct pod_err *err)
{
    struct logpump_cfg c = cfg ? *cfg : (struct logpump_cfg){0};
    if (!c.nbufs)
        c.nbufs = LOGPUMP_DEFAULT_NBUFS;
    if (!c.buf_size)
        c.buf_size = LOGPUMP_DEFAULT_BUF_SIZE;
    if (!c.retry_ms)
        c.retry_ms = LOGW_DEFAULT_RETRY_MS;
    if (!c.clk)
        c.clk = &clk_real;
    if (c.nbufs > 4096 || c.buf_size > ((size_t)64 << 20) || c.retry_ms < 0)
        return pod_err_set(err, POD_E_INVALID, 0, "log pump: bad configuration");
    struct logpump *p = xcalloc(1, sizeof *p);
    p->nbufs = c.nbufs;
    p->buf_size = c.buf_size;
    p->wake_at = (p->nbufs + 1) / 2;
    p->retry_ms = c.retry_ms;
    p->clk = c.clk;
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        int e = errno;
        free(p);
        return pod_err_set(err, POD_E_IO, e, "log pump: eventfd");
    }
    p->pool = xmalloc(p->nbufs * p->buf_size);
    p->free_bufs = xcalloc(p->nbufs, sizeof *p->free_bufs);
    for (size_t i = 0; i < p->nbufs; i++)
        p->free_bufs[p->nfree++] = p->pool + (p->nbufs - 1 - i) * p->buf_size;
    p->qcap = p->nbufs * 2;
    p->q = xcalloc(p->qcap, sizeof *p->q);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work, &ca);
    pthread_cond_init(&p->freed, NULL);
    pthread_cond_init(&p->done, NULL);
    pthread_condattr_destroy(&ca);
    int rc = pthread_create(&p->thr, NULL, writer_main, p);
    if (rc != 0) {
        destroy(p);
        return pod_err_set(err, POD_E_IO, rc, "log pump: cannot start the writer thread");
    }
    *out = p;
    return 0;
}

int logpump_attach(struct logpump *p, struct logw *w)
{
    struct stream *s = xcalloc(1, sizeof *s);
    s->w = w;
    s->st = logw_stats(w); /* before the writer can touch w */
    snprintf(s->err, sizeof s->err, "%s", logw_last_error(w));
    pthread_mutex_lock(&p->mu);
    p->streams = xrealloc(p->streams, (p->nstreams + 1) * sizeof *p->streams);
    p->streams[p->nstreams] = s;
    int id = (int)p->nstreams++;
    pthread_mutex_unlock(&p->mu);
    return id;
}

size_t logpump_buf_size(const struct logpump *p)
{
    return p->buf_size;
}

void *logpump_reserve(struct logpump *p)
{
    void *b = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nfree)
        b = p->free_bufs[--p->nfree];
    else
        p->starved = true;
    pthread_mutex_unlock(&p->mu);
    return b;
}

void *logpump_reserve_wait(struct logpump *p)
{
    pthread_mutex_lock(&p->mu);
    p->reserve_waiters++;
    if (!p->nfree) {
        while (p->nfree < p->wake_at && (p->qlen || !p->nfree))
            pthread_cond_wait(&p->freed, &p->mu);
    }
    p->reserve_waiters--;
    void *b = p->free_bufs[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return b;
}

void logpump_submit(struct logpump *p, int id, void *buf, size_t n, int64_t now_wall_ns)
{
    if (n > p->buf_size)
        n = p->buf_size;
    if (n == 0 || !live(p, id)) { /* nothing to write (or a caller bug): the buffer goes back */
        pthread_mutex_lock(&p->mu);
        p->free_bufs[p->nfree++] = buf;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    push(p, (struct item){.kind = IT_DATA, .id = id, .buf = buf, .n = n, .ts = now_wall_ns});
}

void logpump_eof(struct logpump *p, int id, int64_t now_wall_ns)
{
    if (live(p, id))
        push(p, (struct item){.kind = IT_EOF, .id = id, .ts = now_wall_ns});
}

void logpump_sync(struct logpump *p, int id)
{
    if (live(p, id))
        push(p, (struct item){.kind = IT_SYNC, .id = id});
}

void logpump_detach(struct logpump *p, int id)
{
    if (!live(p, id))
        return;
    pthread_mutex_lock(&p->mu);
    p->streams[id]->detaching = true;
    pthread_mutex_unlock(&p->mu);
    push(p, (struct item){.kind = IT_DETACH, .id = id});
}

void logpump_flush(struct logpump *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t target = p->queued;
    p->flush_waiters++;
    while (p->processed < target)
        pthread_cond_wait(&p->done, &p->mu);
    p->flush_waiters--;
    pthread_mutex_unlock(&p->mu);
}

struct logw_stats logpump_stats(struct logpump *p, int id, char *errbuf, size_t errlen)
{
    struct logw_stats st = {0};
    pthread_mutex_lock(&p->mu);
    if (id >= 0 && (size_t)id < p->nstreams) {
        st = p->streams[id]->st;
        if (errbuf && errlen)
            snprintf(errbuf, errlen, "%s", p->streams[id]->err);
    } else if (errbuf && errlen) {
        errbuf[0] = 0;
    }
    pthread_mutex_unlock(&p->mu);
    return st;
}

int logpump_fd(const struct logpump *p)
{
    return p->efd;
}

void logpump_ack_fd(struct logpump *p)
{
    uint64_t v;
    ssize_t rd = read(p->efd, &v, sizeof v); /* EAGAIN: nothing to acknowledge */
    (void)rd;
}

void logpump_close(struct logpump *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thr, NULL); /* the writer empties the queue before it stops */
    for (size_t i = 0; i < p->nstreams; i++) {
        logw_close(p->streams[i]->w);
        free(p->streams[i]);
    }
    free(p->streams);
    destroy(p);
}
