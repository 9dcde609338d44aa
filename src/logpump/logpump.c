/* SPDX-License-Identifier: MIT */
/* logpump.c - log writers on a writer thread (include/pod/logpump.h, SPEC.md 9.9).
 *
 * One mutex (mu) guards everything shared: the item queue (a growable ring), the free-buffer
 * stack, the stream slots and their stats snapshots, the counters.  The writer takes one item
 * at a time, runs the logw call without the lock, then publishes the stream's stats and gives
 * the buffer back.  A stream's `w` is written only by the writer thread after attach (and read
 * by the caller only after the writer has stopped), so the writer uses it without the lock.
 *
 * Wake-ups: `work` (caller -> writer: an item was queued, or stop), `freed` (writer -> a caller
 * in logpump_reserve_wait), `done` (writer -> a caller in logpump_flush), and the eventfd for
 * an event loop that found the pool empty.  A starved caller is woken once half the pool is
 * free, or when no buffer is queued or being written any more (nbusy == 0: then no later free
 * would come), so it reads a burst instead of waking for every buffer.
 *
 * Retries: while some stream's logw keeps a backlog (nbacklog > 0), an absolute deadline
 * (next_retry_mono_ms, CLOCK_MONOTONIC) makes the writer call logw_retry on those streams every
 * retry_ms, checked between items too, so other streams' traffic cannot starve it.
 */
#include "pod/logpump.h"
#include "pod/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

enum item_kind { IT_DATA, IT_EOF, IT_SYNC, IT_DETACH };
enum { B_FREE, B_CALLER, B_BUSY };

struct item {
    enum item_kind kind;
    int id;
    void *buf;
    size_t n;
    int64_t ts_wall_ns; /* when the caller read the data (IT_DATA, IT_EOF) */
};

struct stream {
    struct logw *w;       /* NULL once closed (by the writer) */
    bool detaching;       /* logpump_detach was called: no more items */
    bool released;        /* logpump_release: the slot may be reused by attach */
    bool in_backlog;      /* counted in nbacklog */
    struct logw_stats st; /* snapshot, under mu */
    char err[sizeof(((struct pod_err *)0)->msg)];
};

struct logpump {
    pthread_mutex_t mu;
    pthread_cond_t work, freed, done;
    pthread_t thr;
    int efd;

    struct item *q; /* ring: q[(qhead + i) % qcap], i < qlen */
    size_t qcap, qhead, qlen;

    char *pool;
    unsigned char *bstate; /* per buffer: B_FREE, B_CALLER (reserved), B_BUSY (queued) */
    void **free_bufs;
    size_t nfree, nbufs, buf_size;
    size_t nbusy;   /* buffers queued or being written */
    size_t wake_at; /* a starved caller is woken when this many buffers are free */
    bool starved;   /* logpump_reserve returned NULL: write the eventfd on the next wake */

    struct stream **streams;
    size_t nstreams;
    size_t nbacklog; /* streams whose logw keeps a backlog */

    uint64_t queued, processed;
    int flush_waiters, reserve_waiters;
    bool stop;

    int64_t retry_ms;
    int64_t next_retry_mono_ms; /* CLOCK_MONOTONIC ms; INT64_MAX: none armed */
    const struct clk *clk;
};

/* Thread timing: the real monotonic clock (CLOCK_MONOTONIC, the clock of the `work` condvar),
 * whatever cfg.clk is. */
static int64_t now_mono_ms(void)
{
    return clk_mono_ms(&clk_real);
}

/* A caller bug that would corrupt memory (a buffer given back twice, or not from the pool):
 * stop here instead (as x* allocators do on OOM).
 * Why abort: a broken invariant of the calling code, never bad input or a failing disk. */
static void misuse(const char *what)
{
    (void)fprintf(stderr, "logpump: misuse: %s\n", what);
    abort();
}

/* ---- the writer thread ---- */

/* Stores s's stats (and error) and keeps nbacklog and the retry deadline current.  Under mu. */
static void set_stats(struct logpump *p, struct stream *s, const struct logw_stats *st, bool live,
                      const char *err)
{
    s->st = *st;
    if (err)
        snprintf(s->err, sizeof s->err, "%s", err);
    bool b = live && (st->backlog_bytes || st->failing);
    if (b != s->in_backlog) {
        s->in_backlog = b;
        p->nbacklog += b ? 1 : (size_t)-1;
    }
    if (!p->nbacklog)
        p->next_retry_mono_ms = INT64_MAX;
    else if (p->next_retry_mono_ms == INT64_MAX)
        p->next_retry_mono_ms = now_mono_ms() + p->retry_ms;
}

static void publish(struct logpump *p, struct stream *s, int rc, const struct pod_err *e)
{
    struct logw_stats st = logw_stats(s->w);
    const char *err = rc < 0 ? (e->msg[0] ? e->msg : logw_last_error(s->w)) : NULL;
    pthread_mutex_lock(&p->mu);
    set_stats(p, s, &st, true, err);
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
        rc = logw_write(w, it->buf, it->n, it->ts_wall_ns, &e);
        break;
    case IT_EOF:
        rc = logw_eof(w, it->ts_wall_ns, &e);
        break;
    case IT_SYNC:
        rc = logw_sync(w, &e);
        break;
    case IT_DETACH: {
        /* As logw_close inline: a held partial line gets the writer's last time (that of the
         * stream's last read, or of a later retry), and the final stats include what the close
         * itself did. */
        char msg[sizeof s->err];
        struct logw_stats st = logw_finish(w, msg, sizeof msg);
        pthread_mutex_lock(&p->mu);
        s->w = NULL;
        set_stats(p, s, &st, false, msg[0] ? msg : NULL);
        pthread_mutex_unlock(&p->mu);
        return;
    }
    }
    publish(p, s, rc, &e);
}

/* logw_retry on every live stream with a backlog (without mu while retrying; the slot array
 * may grow meanwhile, so each slot is fetched under mu). */
static void retry_all(struct logpump *p)
{
    for (size_t i = 0;; i++) {
        pthread_mutex_lock(&p->mu);
        struct stream *s = i < p->nstreams ? p->streams[i] : NULL;
        bool due = s && s->w && s->in_backlog;
        pthread_mutex_unlock(&p->mu);
        if (!s)
            return;
        if (due) {
            struct pod_err e = POD_ERR_ZERO;
            int rc = logw_retry(s->w, clk_wall_ns(p->clk), &e);
            publish(p, s, rc, &e);
        }
    }
}

static void abs_deadline(struct timespec *ts, int64_t at_mono_ms)
{
    ts->tv_sec = (time_t)(at_mono_ms / 1000);
    ts->tv_nsec = (long)(at_mono_ms % 1000) * 1000000L;
}

/* A retry is due now (under mu). */
static bool retry_due(const struct logpump *p)
{
    return p->next_retry_mono_ms != INT64_MAX && now_mono_ms() >= p->next_retry_mono_ms;
}

static void *writer_main(void *arg)
{
    struct logpump *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (retry_due(p)) {
            p->next_retry_mono_ms = INT64_MAX; /* re-armed by set_stats while a backlog remains */
            pthread_mutex_unlock(&p->mu);
            retry_all(p);
            pthread_mutex_lock(&p->mu);
            if (p->nbacklog && p->next_retry_mono_ms == INT64_MAX)
                p->next_retry_mono_ms = now_mono_ms() + p->retry_ms;
            continue;
        }
        if (p->qlen == 0) {
            if (p->stop)
                break;
            if (p->next_retry_mono_ms != INT64_MAX) {
                struct timespec dl;
                abs_deadline(&dl, p->next_retry_mono_ms);
                (void)pthread_cond_timedwait(&p->work, &p->mu, &dl);
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
            p->bstate[((char *)it.buf - p->pool) / p->buf_size] = B_FREE;
            p->free_bufs[p->nfree++] = it.buf;
            p->nbusy--;
            bool wake = p->nfree >= p->wake_at || p->nbusy == 0;
            if (p->reserve_waiters && wake)
                pthread_cond_signal(&p->freed);
            if (p->starved && wake) {
                p->starved = false;
                uint64_t one = 1;
                ssize_t wr = write(p->efd, &one, sizeof one); /* fails only on overflow */
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

/* Queues it (under mu). */
static void push_locked(struct logpump *p, struct item it)
{
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
}

/* Whether id names a stream that still takes items (under mu). */
static bool live_locked(const struct logpump *p, int id)
{
    return id >= 0 && (size_t)id < p->nstreams && !p->streams[id]->detaching;
}

/* Queues a control item for id if it is live. */
static void push_ctl(struct logpump *p, enum item_kind kind, int id, int64_t ts_wall_ns)
{
    pthread_mutex_lock(&p->mu);
    if (live_locked(p, id)) {
        if (kind == IT_DETACH)
            p->streams[id]->detaching = true;
        push_locked(p, (struct item){.kind = kind, .id = id, .ts_wall_ns = ts_wall_ns});
    }
    pthread_mutex_unlock(&p->mu);
}

/* Frees p and what it owns (its thread has stopped or never started). */
static void destroy(struct logpump *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->freed);
    pthread_cond_destroy(&p->done);
    if (p->efd >= 0)
        close(p->efd);
    for (size_t i = 0; i < p->nstreams; i++)
        free(p->streams[i]);
    free(p->streams);
    free(p->q);
    free(p->free_bufs);
    free(p->bstate);
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
    if (c.nbufs > LOGPUMP_MAX_NBUFS || c.buf_size > LOGPUMP_MAX_POOL ||
        c.nbufs * c.buf_size > LOGPUMP_MAX_POOL || c.retry_ms < 0)
        return pod_err_set(err, POD_E_INVALID, 0,
                           "log pump: bad configuration (nbufs %zu x %zu bytes; at most %d "
                           "buffers and %zu MiB)",
                           c.nbufs, c.buf_size, LOGPUMP_MAX_NBUFS, LOGPUMP_MAX_POOL >> 20);
    struct logpump *p = xcalloc(1, sizeof *p);
    p->nbufs = c.nbufs;
    p->buf_size = c.buf_size;
    p->wake_at = (p->nbufs + 1) / 2;
    p->retry_ms = c.retry_ms;
    p->next_retry_mono_ms = INT64_MAX;
    p->clk = c.clk;
    p->pool = xmalloc(p->nbufs * p->buf_size);
    p->free_bufs = xcalloc(p->nbufs, sizeof *p->free_bufs);
    p->bstate = xcalloc(p->nbufs, 1); /* B_FREE */
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
    p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->efd < 0) {
        int e = errno;
        destroy(p);
        return pod_err_set(err, POD_E_IO, e, "log pump: eventfd");
    }
    /* The writer blocks every signal: the daemon's signals (SIGCHLD, SIGTERM, ... for its
     * signalfd or handlers) must reach the daemon's own thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&p->thr, NULL, writer_main, p);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        destroy(p);
        return pod_err_set(err, POD_E_IO, rc, "log pump: cannot start the writer thread");
    }
    *out = p;
    return 0;
}

int logpump_attach(struct logpump *p, struct logw *w)
{
    if (!w)
        misuse("attach of a NULL log writer");
    struct stream *s = xcalloc(1, sizeof *s);
    s->w = w;
    s->st = logw_stats(w); /* before the writer can touch w */
    snprintf(s->err, sizeof s->err, "%s", logw_last_error(w));
    pthread_mutex_lock(&p->mu);
    size_t id = 0;
    while (id < p->nstreams && !(p->streams[id]->released && !p->streams[id]->w))
        id++; /* a released slot is reused once its detach has run (w == NULL) */
    if (id == p->nstreams) {
        p->streams = xrealloc(p->streams, (p->nstreams + 1) * sizeof *p->streams);
        p->nstreams++;
    } else {
        free(p->streams[id]);
    }
    p->streams[id] = s;
    if (s->st.backlog_bytes || s->st.failing) /* e.g. log/ could not be used at open */
        set_stats(p, s, &s->st, true, NULL);
    pthread_mutex_unlock(&p->mu);
    return (int)id;
}

/* Pops a free buffer for the caller (nfree > 0).  Under mu. */
static void *take_locked(struct logpump *p)
{
    void *b = p->free_bufs[--p->nfree];
    p->bstate[((char *)b - p->pool) / p->buf_size] = B_CALLER;
    return b;
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
        b = take_locked(p);
    else
        p->starved = true;
    pthread_mutex_unlock(&p->mu);
    return b;
}

void *logpump_reserve_wait(struct logpump *p)
{
    void *b = NULL;
    pthread_mutex_lock(&p->mu);
    p->reserve_waiters++;
    if (!p->nfree) {
        while (p->nfree < p->wake_at && p->nbusy)
            pthread_cond_wait(&p->freed, &p->mu);
    }
    p->reserve_waiters--;
    if (p->nfree) /* else the caller itself holds every buffer */
        b = take_locked(p);
    pthread_mutex_unlock(&p->mu);
    return b;
}

/* The index of buf, a buffer the caller holds (else a misuse).  Under mu. */
static size_t held_index(const struct logpump *p, const void *buf)
{
    const char *b = buf;
    if (!b || b < p->pool || b >= p->pool + p->nbufs * p->buf_size ||
        (size_t)(b - p->pool) % p->buf_size != 0 ||
        p->bstate[(size_t)(b - p->pool) / p->buf_size] != B_CALLER)
        misuse("a buffer that is not from logpump_reserve, or given back twice");
    return (size_t)(b - p->pool) / p->buf_size;
}

void logpump_submit(struct logpump *p, int id, void *buf, size_t n, int64_t now_wall_ns)
{
    if (n > p->buf_size)
        misuse("submit of more bytes than a buffer holds");
    pthread_mutex_lock(&p->mu);
    size_t i = held_index(p, buf);
    if (n == 0 || !live_locked(p, id)) { /* nothing to write, or no such stream: buffer back */
        p->bstate[i] = B_FREE;
        p->free_bufs[p->nfree++] = buf;
    } else {
        p->bstate[i] = B_BUSY;
        p->nbusy++;
        push_locked(p,
                    (struct item){
                        .kind = IT_DATA, .id = id, .buf = buf, .n = n, .ts_wall_ns = now_wall_ns});
    }
    pthread_mutex_unlock(&p->mu);
}

void logpump_eof(struct logpump *p, int id, int64_t now_wall_ns)
{
    push_ctl(p, IT_EOF, id, now_wall_ns);
}

void logpump_sync(struct logpump *p, int id)
{
    push_ctl(p, IT_SYNC, id, 0);
}

void logpump_detach(struct logpump *p, int id)
{
    push_ctl(p, IT_DETACH, id, 0);
}

void logpump_release(struct logpump *p, int id)
{
    pthread_mutex_lock(&p->mu);
    if (id >= 0 && (size_t)id < p->nstreams && p->streams[id]->detaching)
        p->streams[id]->released = true; /* reused by attach once its detach has run */
    pthread_mutex_unlock(&p->mu);
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
    bool ok = id >= 0 && (size_t)id < p->nstreams;
    if (ok)
        st = p->streams[id]->st;
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s", ok ? p->streams[id]->err : "");
    pthread_mutex_unlock(&p->mu);
    return st;
}

uint64_t logpump_queued(struct logpump *p)
{
    pthread_mutex_lock(&p->mu);
    uint64_t n = p->queued;
    pthread_mutex_unlock(&p->mu);
    return n;
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
    for (size_t i = 0; i < p->nstreams; i++)
        logw_close(p->streams[i]->w);
    destroy(p);
}
