/* SPDX-License-Identifier: MIT */
/* test_logpump.c - the log pump (the daemon's log path, pod/logpump.h) with its real writer
 * thread: the files equal those of logw run inline; order; backpressure with the eventfd
 * notification; eof, sync and detach; a failing disk retried by the writer on its own; close
 * drains the queue.  The fs is fs_mem behind a wrapper that can block or fail writes (the
 * wrapper's switches are the only state the test thread shares with the writer). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../sim/fs_mem.h"
#include "pod/fs.h"
#include "pod/logpump.h"
#include "pod/logw.h"
#include "pod/util.h"

#define T0 ((int64_t)1795386838000000000)
#define LOGDIR "/pod/log"

/* ---- fs_mem behind a gate: writes can be held (blocked) or failed with ENOSPC ---- */

struct gate {
    struct fs inner;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int permits;          /* writes that may pass: -1 any, 0 none (they wait), k: k more */
    int blocked;          /* writes waiting now */
    int passed;           /* writes that passed the gate */
    atomic_bool fail;     /* writes fail with ENOSPC */
    atomic_int fail_h;    /* ... and writes to this handle (-1: none) */
    const char *fail_sub; /* g_open stores the handle of a path containing this in fail_h */
    atomic_int writes_ok; /* successful writes */
};

static struct gate *G;

static int g_open(void *self, const char *path, struct pod_err *err)
{
    (void)self;
    int h = fs_open_append(&G->inner, path, err);
    if (h >= 0 && G->fail_sub && strstr(path, G->fail_sub))
        atomic_store(&G->fail_h, h);
    return h;
}

static ssize_t g_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    (void)self;
    pthread_mutex_lock(&G->mu);
    G->blocked++;
    pthread_cond_broadcast(&G->cv);
    while (G->permits == 0)
        pthread_cond_wait(&G->cv, &G->mu);
    if (G->permits > 0)
        G->permits--;
    G->blocked--;
    G->passed++;
    pthread_cond_broadcast(&G->cv);
    pthread_mutex_unlock(&G->mu);
    if (atomic_load(&G->fail) || h == atomic_load(&G->fail_h))
        return pod_err_set(err, POD_E_IO, ENOSPC, "write: %s", strerror(ENOSPC));
    ssize_t n = fs_write(&G->inner, h, buf, len, err);
    if (n >= 0)
        atomic_fetch_add(&G->writes_ok, 1);
    return n;
}

static int g_fsync(void *self, int h, struct pod_err *err)
{
    (void)self;
    return fs_fsync(&G->inner, h, err);
}
static int g_close(void *self, int h, struct pod_err *err)
{
    (void)self;
    return fs_close(&G->inner, h, err);
}
static int g_rename(void *self, const char *a, const char *b, struct pod_err *err)
{
    (void)self;
    return fs_rename(&G->inner, a, b, err);
}
static int g_unlink(void *self, const char *path, struct pod_err *err)
{
    (void)self;
    return fs_unlink(&G->inner, path, err);
}
static int g_stat(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    (void)self;
    return fs_stat_size(&G->inner, path, size, err);
}
static int g_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    (void)self;
    return fs_list(&G->inner, dir, names, err);
}
static int g_mkdir(void *self, const char *dir, struct pod_err *err)
{
    (void)self;
    return fs_mkdir_p(&G->inner, dir, err);
}
static int g_read_at(void *self, const char *path, int64_t off, void *buf, size_t len, size_t *got,
                     struct pod_err *err)
{
    (void)self;
    return fs_read_at(&G->inner, path, off, buf, len, got, err);
}
static int g_sync_dir(void *self, const char *dir, struct pod_err *err)
{
    (void)self;
    return fs_sync_dir(&G->inner, dir, err);
}

static const struct fs_ops gate_ops = {
    .open_append = g_open,
    .write = g_write,
    .fsync = g_fsync,
    .close = g_close,
    .rename = g_rename,
    .unlink = g_unlink,
    .stat_size = g_stat,
    .list = g_list,
    .mkdir_p = g_mkdir,
    .read_at = g_read_at,
    .sync_dir = g_sync_dir,
};

static void gate_set(bool closed)
{
    pthread_mutex_lock(&G->mu);
    G->permits = closed ? 0 : -1;
    pthread_cond_broadcast(&G->cv);
    pthread_mutex_unlock(&G->mu);
}

/* Lets k more writes through a closed gate. */
static void gate_allow(int k)
{
    pthread_mutex_lock(&G->mu);
    G->permits = k;
    pthread_cond_broadcast(&G->cv);
    pthread_mutex_unlock(&G->mu);
}

/* Waits (hang guard: 10 s, then the test fails) until `passed` writes passed the gate and a
 * writer is blocked in it again. */
static void gate_wait_state(int passed)
{
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 10;
    pthread_mutex_lock(&G->mu);
    int rc = 0;
    while ((G->blocked == 0 || G->passed < passed) && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&G->cv, &G->mu, &dl);
    bool ok = G->blocked > 0 && G->passed >= passed;
    pthread_mutex_unlock(&G->mu);
    assert_true(ok);
}

static void gate_wait_blocked(void)
{
    gate_wait_state(0);
}

struct fx {
    struct fs_mem *m;
    struct gate g;
};

static struct fx *fx_new(void)
{
    struct fx *x = xcalloc(1, sizeof *x);
    x->m = fs_mem_new();
    x->g.inner = fs_mem_fs(x->m);
    pthread_mutex_init(&x->g.mu, NULL);
    pthread_cond_init(&x->g.cv, NULL);
    x->g.permits = -1;
    atomic_init(&x->g.fail, false);
    atomic_init(&x->g.fail_h, -1);
    atomic_init(&x->g.writes_ok, 0);
    G = &x->g;
    return x;
}

static void fx_free(struct fx *x)
{
    pthread_mutex_destroy(&x->g.mu);
    pthread_cond_destroy(&x->g.cv);
    fs_mem_free(x->m);
    free(x);
    G = NULL;
}

static struct logw *open_w(struct fs fs, const char *base, int64_t max_bytes, int max_files,
                           size_t max_line)
{
    struct logw_cfg cfg = {.fs = fs,
                           .dir = LOGDIR,
                           .base = base,
                           .max_bytes = max_bytes,
                           .max_files = max_files,
                           .max_line = max_line,
                           .retry_ms = 10};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    return w;
}

/* A pump with nbufs buffers of buf_size bytes (retry_ms 0: the default). */
static struct logpump *pump_new(size_t nbufs, size_t buf_size, int64_t retry_ms)
{
    struct logpump *p = NULL;
    struct pod_err e = POD_ERR_ZERO;
    struct logpump_cfg pc = {.nbufs = nbufs, .buf_size = buf_size, .retry_ms = retry_ms};
    assert_int_equal(logpump_new(&pc, &p, &e), 0);
    return p;
}

/* Attaches a log writer on the gated fs_mem (defaults: 10 MiB files, no rotation here). */
static int gattach(struct logpump *p, const char *base)
{
    struct fs gfs = {.ops = &gate_ops, .self = NULL};
    return logpump_attach(p, open_w(gfs, base, 0, 0, 0));
}

static char *get(struct fs_mem *m, const char *path)
{
    char *d = NULL;
    if (fs_mem_get(m, path, &d, NULL) < 0)
        return NULL;
    return d;
}

static uint64_t rng(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* A chunk of output: short and empty lines, a line longer than max_line, and no newline at the
 * end half of the time. */
static size_t make_chunk(uint64_t *s, char *buf, size_t cap)
{
    size_t n = 1 + rng(s) % cap;
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rng(s) % 100;
        buf[i] = r < 8 ? '\n' : (char)('a' + r % 26);
    }
    if (rng(s) % 4 == 0 && n > 300)
        memset(buf + 10, 'L', 290); /* one run longer than max_line (200) */
    return n;
}

/* The same chunks through the pump (3 streams, 3 small buffers: the caller waits for buffers)
 * and inline: every file is byte-identical, rotated files and retention included. */
static void pump_matches_inline(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct fs_mem *ref = fs_mem_new();
    const char *bases[3] = {"a-stdout", "a-stderr", "b-stdout"};
    struct logw *inl[3];
    int id[3];
    struct logpump *p = NULL;
    struct pod_err e = POD_ERR_ZERO;
    struct logpump_cfg pc = {.nbufs = 3, .buf_size = 512};
    assert_int_equal(logpump_new(&pc, &p, &e), 0);
    assert_int_equal(logpump_buf_size(p), 512);
    struct fs gfs = {.ops = &gate_ops, .self = NULL};
    for (int i = 0; i < 3; i++) {
        inl[i] = open_w(fs_mem_fs(ref), bases[i], 2048, 3, 200);
        id[i] = logpump_attach(p, open_w(gfs, bases[i], 2048, 3, 200));
        assert_int_equal(id[i], i);
    }
    uint64_t s = 42;
    int64_t ts = T0;
    for (int k = 0; k < 600; k++) {
        int i = (int)(rng(&s) % 3);
        char *b = logpump_reserve_wait(p);
        size_t n = make_chunk(&s, b, 512);
        ts += (int64_t)(rng(&s) % 5000000);
        struct pod_err we = POD_ERR_ZERO;
        assert_int_equal(logw_write(inl[i], b, n, ts, &we), 0);
        logpump_submit(p, id[i], b, n, ts);
    }
    for (int i = 0; i < 3; i++) {
        struct pod_err we = POD_ERR_ZERO;
        assert_int_equal(logw_eof(inl[i], ts + i, &we), 0);
        logpump_eof(p, id[i], ts + i);
    }
    logpump_flush(p);
    for (int i = 0; i < 3; i++) {
        struct logw_stats a = logw_stats(inl[i]), b = logpump_stats(p, id[i], NULL, 0);
        assert_int_equal(a.lines, b.lines);
        assert_int_equal(a.partial_lines, b.partial_lines);
        assert_int_equal(a.bytes_in, b.bytes_in);
        assert_int_equal(a.rotations, b.rotations);
        assert_true(b.rotations > 3); /* retention deleted files */
        logw_close(inl[i]);
    }
    logpump_close(p);
    char **fa = fs_mem_files(ref), **fb = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(fa), pod_strv_len(fb));
    assert_int_equal(pod_strv_len(fa), 12); /* 3 streams x (current + 3 rotated) */
    for (size_t i = 0; fa[i]; i++) {
        assert_string_equal(fa[i], fb[i]);
        char *da = get(ref, fa[i]), *db = get(x->m, fb[i]);
        assert_non_null(da);
        assert_non_null(db);
        assert_string_equal(da, db);
        free(da);
        free(db);
    }
    pod_strv_free(fa);
    pod_strv_free(fb);
    assert_int_equal(fs_mem_open_handles(x->m), 0);
    fs_mem_free(ref);
    fx_free(x);
}

static bool readable(int fd, int timeout_ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};
    return poll(&pf, 1, timeout_ms) == 1 && (pf.revents & POLLIN);
}

/* All buffers queued behind a blocked disk: reserve says NULL (the loop would stop reading),
 * the fd stays quiet; once the disk moves the fd becomes readable and reserve works again;
 * the chunks land in submission order. */
static void backpressure_and_notify(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(2, 64, 0);
    int id = gattach(p, "web-stdout");
    gate_set(true);
    char *b1 = logpump_reserve(p), *b2 = logpump_reserve(p);
    assert_non_null(b1);
    assert_non_null(b2);
    memcpy(b1, "one\n", 4);
    logpump_submit(p, id, b1, 4, T0);
    gate_wait_blocked(); /* the writer holds b1 in a write */
    memcpy(b2, "two\nthree\n", 10);
    logpump_submit(p, id, b2, 10, T0 + 1);
    assert_null(logpump_reserve(p));
    assert_false(readable(logpump_fd(p), 0));
    gate_set(false);
    assert_true(readable(logpump_fd(p), 10000)); /* hang guard, not a timing assertion */
    logpump_ack_fd(p);
    assert_false(readable(logpump_fd(p), 0));
    char *b3 = logpump_reserve(p);
    assert_non_null(b3);
    logpump_submit(p, id, b3, 0, T0 + 2); /* n == 0 gives it back */
    logpump_flush(p);
    char *d = get(x->m, LOGDIR "/web-stdout.log");
    assert_non_null(d);
    assert_string_equal(d, "1795386838.000000000 0 one\n"
                           "1795386838.000000001 1 two\n"
                           "1795386838.000000001 2 three\n");
    free(d);
    /* every buffer is free again */
    char *all[2] = {logpump_reserve(p), logpump_reserve(p)};
    assert_non_null(all[0]);
    assert_non_null(all[1]);
    assert_null(logpump_reserve(p));
    logpump_submit(p, id, all[0], 0, 0);
    logpump_submit(p, id, all[1], 0, 0);
    logpump_close(p);
    fx_free(x);
}

/* eof flushes the partial last line; sync makes it durable; detach closes the file, keeps the
 * stats and ignores later items (their buffers go back to the pool). */
static void eof_sync_detach(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(1, 64, 0);
    int id = gattach(p, "job-stderr");
    char *b = logpump_reserve_wait(p);
    memcpy(b, "half", 4);
    logpump_submit(p, id, b, 4, T0);
    logpump_flush(p);
    char *d = get(x->m, LOGDIR "/job-stderr.log");
    assert_string_equal(d, ""); /* an unterminated line waits */
    free(d);
    logpump_eof(p, id, T0 + 5);
    logpump_sync(p, id);
    logpump_flush(p);
    d = get(x->m, LOGDIR "/job-stderr.log");
    assert_string_equal(d, "1795386838.000000005 0+ half\n");
    assert_int_equal(fs_mem_synced_len(x->m, LOGDIR "/job-stderr.log"), (int64_t)strlen(d));
    free(d);
    assert_int_equal(logpump_stats(p, id, NULL, 0).partial_lines, 1);
    logpump_detach(p, id);
    logpump_flush(p);
    assert_int_equal(fs_mem_open_handles(x->m), 0);
    b = logpump_reserve_wait(p);
    memcpy(b, "late\n", 5);
    logpump_submit(p, id, b, 5, T0 + 9); /* ignored */
    logpump_eof(p, id, T0 + 9);
    logpump_flush(p);
    assert_non_null(logpump_reserve(p)); /* the buffer came back */
    struct logw_stats st = logpump_stats(p, id, NULL, 0);
    assert_int_equal(st.bytes_in, 4);
    assert_int_equal(st.partial_lines, 1);
    char msg[64] = "x";
    (void)logpump_stats(p, 7, msg, sizeof msg); /* no such stream */
    assert_string_equal(msg, "");
    logpump_close(p);
    d = get(x->m, LOGDIR "/job-stderr.log");
    assert_string_equal(d, "1795386838.000000005 0+ half\n");
    free(d);
    fx_free(x);
}

/* The disk fails: the stats say so with the error text; with no more input the writer retries
 * on its own timer and, once the disk works, writes the backlog. */
static void failing_disk_retried(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(2, 64, 5);
    int id = gattach(p, "db-stdout");
    atomic_store(&G->fail, true);
    char *b = logpump_reserve_wait(p);
    memcpy(b, "kept\n", 5);
    logpump_submit(p, id, b, 5, T0);
    logpump_flush(p);
    char msg[512];
    struct logw_stats st = logpump_stats(p, id, msg, sizeof msg);
    assert_true(st.failing);
    assert_true(st.write_errors >= 1);
    assert_int_equal(st.backlog_bytes, strlen("1795386838.000000000 0 kept\n"));
    assert_non_null(strstr(msg, "No space left"));
    atomic_store(&G->fail, false);
    /* hang guard 10 s: the writer's own retry timer (5 ms) must drain the backlog */
    for (int i = 0; i < 2000 && logpump_stats(p, id, NULL, 0).backlog_bytes; i++)
        usleep(5000);
    st = logpump_stats(p, id, NULL, 0);
    assert_int_equal(st.backlog_bytes, 0);
    assert_false(st.failing);
    logpump_close(p);
    char *d = get(x->m, LOGDIR "/db-stdout.log");
    assert_string_equal(d, "1795386838.000000000 0 kept\n");
    free(d);
    fx_free(x);
}

/* logpump_close without a flush still writes everything queued, in order (also when the queue
 * had to grow), and closes files. */
static void close_drains_queue(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(4, 16, 0);
    int id = gattach(p, "q-stdout");
    gate_set(true);
    for (int i = 0; i < 4; i++) {
        char *b = logpump_reserve(p);
        assert_non_null(b);
        int n = snprintf(b, 16, "line %d\n", i);
        logpump_submit(p, id, b, (size_t)n, T0 + i);
    }
    gate_wait_blocked();
    for (int i = 0; i < 50; i++) /* more items than the queue's first capacity: it grows */
        logpump_sync(p, id);
    gate_set(false);
    logpump_close(p);
    char *d = get(x->m, LOGDIR "/q-stdout.log");
    /* the syncs ran after the data (order kept across the growth) */
    assert_int_equal(fs_mem_synced_len(x->m, LOGDIR "/q-stdout.log"), (int64_t)strlen(d));
    assert_string_equal(d, "1795386838.000000000 0 line 0\n"
                           "1795386838.000000001 1 line 1\n"
                           "1795386838.000000002 2 line 2\n"
                           "1795386838.000000003 3 line 3\n");
    free(d);
    assert_int_equal(fs_mem_open_handles(x->m), 0);
    fx_free(x);
}

/* A queue that ends in a control item (sync, eof) still wakes a starved caller: reserve_wait
 * returns once the data buffer is free, and the eventfd fires; with every buffer in the
 * caller's hands reserve_wait says NULL instead of waiting forever. */
static void wake_after_trailing_control_item(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(3, 64, 0);
    int id = gattach(p, "t-stdout");
    char *a = logpump_reserve(p), *b = logpump_reserve(p), *c = logpump_reserve(p);
    memcpy(a, "x\n", 2);
    logpump_submit(p, id, a, 2, T0);
    logpump_sync(p, id);
    char *d = logpump_reserve_wait(p); /* the hang guard (alarm) fails the test if it waits */
    assert_ptr_equal(d, a);
    assert_null(logpump_reserve_wait(p)); /* b, c, d: the caller holds all three */
    memcpy(d, "y\n", 2);
    gate_set(true);
    logpump_submit(p, id, d, 2, T0 + 1);
    gate_wait_blocked(); /* the writer holds d */
    logpump_eof(p, id, T0 + 2);
    assert_null(logpump_reserve(p)); /* starved: 1 buffer will come back, less than half */
    assert_false(readable(logpump_fd(p), 0));
    gate_set(false);
    assert_true(readable(logpump_fd(p), 10000)); /* the last busy buffer came back */
    logpump_ack_fd(p);
    logpump_submit(p, id, b, 0, 0);
    logpump_submit(p, id, c, 0, 0);
    logpump_close(p);
    fx_free(x);
}

/* A starved caller is woken when half the pool is free, not for every buffer. */
static void wake_at_half_pool(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(4, 64, 0);
    int id = gattach(p, "h-stdout");
    gate_set(true);
    for (int i = 0; i < 4; i++) {
        char *b = logpump_reserve(p);
        int n = snprintf(b, 64, "%d\n", i);
        logpump_submit(p, id, b, (size_t)n, T0 + i);
    }
    assert_null(logpump_reserve(p));
    gate_allow(1);
    gate_wait_state(1); /* one write done, the writer waits in the next: 1 of 4 free */
    assert_false(readable(logpump_fd(p), 0));
    gate_allow(1);
    assert_true(readable(logpump_fd(p), 10000)); /* 2 of 4 free */
    gate_set(false);
    logpump_close(p);
    fx_free(x);
}

/* A stream whose disk failed is retried on its own timer while another stream keeps the
 * writer busy (items every 2 ms, retry every 20 ms). */
static void retry_not_starved_by_traffic(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(4, 64, 20);
    G->fail_sub = "bad-stdout";
    int a = gattach(p, "good-stdout");
    int b = gattach(p, "bad-stdout");
    char *buf = logpump_reserve_wait(p);
    memcpy(buf, "kept\n", 5);
    logpump_submit(p, b, buf, 5, T0);
    logpump_flush(p);
    assert_true(logpump_stats(p, b, NULL, 0).failing);
    atomic_store(&G->fail_h, -1); /* the disk works again */
    int i = 0;
    for (; i < 5000 && logpump_stats(p, b, NULL, 0).backlog_bytes; i++) { /* guard: 10 s */
        char *q = logpump_reserve_wait(p);
        memcpy(q, "busy\n", 5);
        logpump_submit(p, a, q, 5, T0 + i);
        usleep(2000);
    }
    assert_int_equal(logpump_stats(p, b, NULL, 0).backlog_bytes, 0);
    logpump_close(p);
    char *d = get(x->m, LOGDIR "/bad-stdout.log");
    assert_string_equal(d, "1795386838.000000000 0 kept\n");
    free(d);
    fx_free(x);
}

/* Detach is logw_close as inline: the held partial line is written with the stream's last
 * read time, and the final stats include it. */
static void detach_matches_inline_close(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct fs_mem *ref = fs_mem_new();
    struct logpump *p = pump_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    int id = gattach(p, "d-stdout");
    struct logw *inl = open_w(fs_mem_fs(ref), "d-stdout", 0, 0, 0);
    char *b = logpump_reserve_wait(p);
    memcpy(b, "one\ntail", 8);
    assert_int_equal(logw_write(inl, b, 8, T0 + 7, &e), 0);
    logpump_submit(p, id, b, 8, T0 + 7);
    logw_close(inl);
    logpump_detach(p, id);
    logpump_flush(p);
    struct logw_stats st = logpump_stats(p, id, NULL, 0);
    assert_int_equal(st.lines, 1);
    assert_int_equal(st.partial_lines, 1);
    char *want = get(ref, LOGDIR "/d-stdout.log"), *got = get(x->m, LOGDIR "/d-stdout.log");
    assert_string_equal(want, "1795386838.000000007 0 one\n1795386838.000000007 1+ tail\n");
    assert_string_equal(got, want);
    free(want);
    free(got);
    logpump_close(p);
    fs_mem_free(ref);
    fx_free(x);
}

/* Items for a detached or unknown stream are dropped at once (the buffer is back before the
 * writer, blocked in a write, gets to them); a released slot is reused by the next attach. */
static void ignored_items_and_release(void **state)
{
    (void)state;
    struct fx *x = fx_new();
    struct logpump *p = pump_new(2, 64, 0);
    int a = gattach(p, "a-stdout");
    int gone = gattach(p, "gone-stdout");
    gate_set(true);
    char *b1 = logpump_reserve(p);
    memcpy(b1, "a\n", 2);
    logpump_submit(p, a, b1, 2, T0);
    gate_wait_blocked();
    logpump_detach(p, gone);
    char *b2 = logpump_reserve(p);
    memcpy(b2, "late\n", 5);
    logpump_submit(p, gone, b2, 5, T0);
    assert_ptr_equal(logpump_reserve(p), b2); /* back at once */
    logpump_submit(p, 99, b2, 5, T0);         /* no such stream */
    assert_ptr_equal(logpump_reserve(p), b2);
    logpump_submit(p, -1, b2, 5, T0);
    gate_set(false);
    logpump_flush(p);
    logpump_release(p, gone);
    int again = gattach(p, "new-stdout");
    assert_int_equal(again, gone);
    char *b3 = logpump_reserve_wait(p);
    memcpy(b3, "new\n", 4);
    logpump_submit(p, again, b3, 4, T0 + 1);
    logpump_close(p);
    char *d = get(x->m, LOGDIR "/gone-stdout.log");
    assert_string_equal(d, "");
    free(d);
    d = get(x->m, LOGDIR "/new-stdout.log");
    assert_string_equal(d, "1795386838.000000001 0 new\n");
    free(d);
    fx_free(x);
}

/* Buffer misuse that would corrupt memory aborts (in a child process). */
static void misuse_aborts(void **state)
{
    (void)state;
    for (int k = 0; k < 3; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct logpump *p = NULL;
            struct pod_err e = POD_ERR_ZERO;
            struct logpump_cfg pc = {.nbufs = 2, .buf_size = 16};
            if (logpump_new(&pc, &p, &e) < 0)
                _exit(3);
            char *b = logpump_reserve(p), other[16];
            if (k == 0) { /* given back twice */
                logpump_submit(p, 0, b, 0, 0);
                logpump_submit(p, 0, b, 0, 0);
            } else if (k == 1) { /* not from the pool */
                logpump_submit(p, 0, other, 0, 0);
            } else { /* more than a buffer holds */
                logpump_submit(p, 0, b, 17, 0);
            }
            _exit(0);
        }
        int st = 0;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGABRT);
    }
}

/* The tids of this process's threads, as a string " 1 2 3 ". */
static void list_tids(char *out, size_t cap)
{
    DIR *dir = opendir("/proc/self/task");
    assert_non_null(dir);
    size_t n = (size_t)snprintf(out, cap, " ");
    struct dirent *de;
    while ((de = readdir(dir)) != NULL)
        if (de->d_name[0] != '.' && n < cap)
            n += (size_t)snprintf(out + n, cap - n, "%s ", de->d_name);
    closedir(dir);
}

/* The writer thread blocks the daemon's signals (they must reach the daemon's thread). */
static void writer_blocks_signals(void **state)
{
    (void)state;
    char before[4096], after[4096];
    list_tids(before, sizeof before);
    struct logpump *p = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logpump_new(NULL, &p, &e), 0);
    /* Let the writer run an item first: a thread that is still starting up has every signal
     * blocked by glibc whatever its own mask will be. */
    struct fs_mem *m = fs_mem_new();
    int id = logpump_attach(p, open_w(fs_mem_fs(m), "s-stdout", 0, 0, 0));
    char *b = logpump_reserve_wait(p);
    memcpy(b, "x\n", 2);
    logpump_submit(p, id, b, 2, T0);
    logpump_flush(p);
    list_tids(after, sizeof after);
    int seen = 0;
    for (char *t = strtok(after, " "); t; t = strtok(NULL, " ")) {
        char key[32];
        snprintf(key, sizeof key, " %s ", t);
        if (strstr(before, key))
            continue; /* not new: this thread, or a sanitizer's */
        char path[64], *txt = NULL;
        snprintf(path, sizeof path, "/proc/self/task/%s/status", t);
        assert_int_equal(pod_read_file(path, 65536, &txt, NULL, &e), 0);
        const char *blk = strstr(txt, "SigBlk:");
        assert_non_null(blk);
        unsigned long long mask = strtoull(blk + 7, NULL, 16);
        assert_true(mask & (1ULL << (SIGCHLD - 1)));
        assert_true(mask & (1ULL << (SIGTERM - 1)));
        assert_true(mask & (1ULL << (SIGHUP - 1)));
        free(txt);
        seen++;
    }
    assert_int_equal(seen, 1); /* the writer */
    logpump_close(p);
    fs_mem_free(m);
}

/* pthread_create failing: logpump_new reports it and frees everything. */
static bool fail_create;
int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
    if (fail_create)
        return EAGAIN;
    return __real_pthread_create(t, a, fn, arg);
}

static void thread_start_fails(void **state)
{
    (void)state;
    struct logpump *p = NULL;
    struct pod_err e = POD_ERR_ZERO;
    fail_create = true;
    assert_int_equal(logpump_new(NULL, &p, &e), -1);
    fail_create = false;
    assert_null(p);
    assert_non_null(strstr(e.msg, "cannot start the writer thread"));
}

static void bad_config(void **state)
{
    (void)state;
    struct logpump *p = NULL;
    struct pod_err e = POD_ERR_ZERO;
    struct logpump_cfg pc = {.nbufs = 100000};
    assert_int_equal(logpump_new(&pc, &p, &e), -1);
    assert_null(p);
    assert_non_null(strstr(e.msg, "bad configuration"));
    assert_int_equal(logpump_new(NULL, &p, &e), 0); /* defaults */
    assert_int_equal(logpump_buf_size(p), LOGPUMP_DEFAULT_BUF_SIZE);
    logpump_close(p);
    logpump_close(NULL);
}

/* Random operations (tiny pools, up to 12 streams, data/eof/sync/detach, buffers taken through
 * the eventfd path or reserve_wait, some streams with failing writes) against logw inline: the
 * files of every stream without injected faults are identical, no wake-up is lost (a lost one
 * hangs: the alarm fails the test), nothing stays open.  Also run under ThreadSanitizer. */
#define RS_MAX 12
static uint64_t rs_seed;
static uint64_t rs(void)
{
    return rng(&rs_seed);
}

static void *rs_buf(struct logpump *p)
{
    if (rs() % 2)
        return logpump_reserve_wait(p);
    for (;;) {
        void *b = logpump_reserve(p);
        if (b)
            return b;
        assert_true(readable(logpump_fd(p), 10000));
        logpump_ack_fd(p);
    }
}

static void random_ops_match_inline(void **state)
{
    (void)state;
    rs_seed = 7;
    for (int round = 0; round < 30; round++) {
        struct fs_mem *m[RS_MAX], *ref[RS_MAX];
        struct logw *inl[RS_MAX];
        int id[RS_MAX];
        bool live[RS_MAX] = {0}, faulty[RS_MAX] = {0};
        int n = 0, nlive = 0;
        struct logpump *p = pump_new(1 + rs() % 5, 1 + rs() % 48, 1 + (int64_t)(rs() % 3));
        struct pod_err e = POD_ERR_ZERO;
        int64_t ts = T0;
        for (int k = 0; k < 2000; k++) {
            unsigned a = (unsigned)(rs() % 100);
            if ((a < 4 || nlive == 0) && n < RS_MAX) {
                char base[32];
                snprintf(base, sizeof base, "s%d-stdout", n);
                m[n] = fs_mem_new();
                ref[n] = fs_mem_new();
                inl[n] = open_w(fs_mem_fs(ref[n]), base, 512, 2, 64);
                struct logw *w = open_w(fs_mem_fs(m[n]), base, 512, 2, 64);
                faulty[n] = rs() % 4 == 0;
                if (faulty[n])
                    fs_mem_fail(m[n], FS_MEM_OP_WRITE, 1 + rs() % 5, 1 + rs() % 4, ENOSPC);
                id[n] = logpump_attach(p, w);
                assert_int_equal(id[n], n);
                live[n] = true;
                n++;
                nlive++;
                continue;
            }
            if (nlive == 0)
                break;
            int i = (int)(rs() % (unsigned)n);
            while (!live[i])
                i = (i + 1) % n;
            ts += (int64_t)(rs() % 1000);
            if (a < 82) {
                char *b = rs_buf(p);
                size_t len = rs() % (logpump_buf_size(p) + 1);
                for (size_t j = 0; j < len; j++)
                    b[j] = rs() % 7 == 0 ? '\n' : (char)('a' + rs() % 26);
                if (len)
                    (void)logw_write(inl[i], b, len, ts, &e);
                logpump_submit(p, id[i], b, len, ts);
            } else if (a < 88) {
                (void)logw_eof(inl[i], ts, &e);
                logpump_eof(p, id[i], ts);
            } else if (a < 93) {
                (void)logw_sync(inl[i], &e);
                logpump_sync(p, id[i]);
            } else if (a < 96) {
                logw_close(inl[i]);
                logpump_detach(p, id[i]);
                live[i] = false;
                nlive--;
            } else {
                logpump_flush(p);
                struct logw_stats x = logw_stats(inl[i]), y = logpump_stats(p, id[i], NULL, 0);
                if (!faulty[i]) {
                    assert_int_equal(x.lines, y.lines);
                    assert_int_equal(x.partial_lines, y.partial_lines);
                }
                assert_int_equal(x.bytes_in, y.bytes_in);
            }
        }
        for (int i = 0; i < n; i++)
            if (live[i])
                logw_close(inl[i]);
        logpump_close(p);
        for (int q = 0; q < n; q++) {
            assert_int_equal(fs_mem_open_handles(m[q]), 0);
            if (!faulty[q]) {
                char **fa = fs_mem_files(ref[q]), **fb = fs_mem_files(m[q]);
                assert_int_equal(pod_strv_len(fa), pod_strv_len(fb));
                for (size_t f = 0; fa[f]; f++) {
                    assert_string_equal(fa[f], fb[f]);
                    char *da = get(ref[q], fa[f]), *db = get(m[q], fb[f]);
                    assert_string_equal(da, db);
                    free(da);
                    free(db);
                }
                pod_strv_free(fa);
                pod_strv_free(fb);
            }
            fs_mem_free(m[q]);
            fs_mem_free(ref[q]);
        }
    }
}

/* Hang guard: a test that waits forever is killed (SIGALRM) and so fails. */
static int guard(void **state)
{
    (void)state;
    alarm(60);
    return 0;
}

#define T(f) cmocka_unit_test_setup(f, guard)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(pump_matches_inline),
        T(backpressure_and_notify),
        T(eof_sync_detach),
        T(failing_disk_retried),
        T(close_drains_queue),
        T(wake_after_trailing_control_item),
        T(wake_at_half_pool),
        T(retry_not_starved_by_traffic),
        T(detach_matches_inline_close),
        T(ignored_items_and_release),
        T(misuse_aborts),
        T(writer_blocks_signals),
        T(thread_start_fails),
        T(bad_config),
        T(random_ops_match_inline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
