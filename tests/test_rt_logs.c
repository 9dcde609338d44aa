/* SPDX-License-Identifier: MIT */
/* test_rt_logs.c - `pod logs` reading files back (rt_logs_write, SPEC.md 9.3): files written by
 * the real log writer on fs_real (rotation included) or by hand (the original's format, torn
 * lines, lines longer than the read buffer); the merge order, `+` re-joining, -t with
 * sub-second precision, -l both signs, -d columns, notices, binary bytes, no log/ at all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/rt.h"
#include "pod/util.h"

#define S ((int64_t)1000000000)
#define T0 ((int64_t)1795386838 * S)

struct fx {
    char root[64];
    char *dir; /* <root>/log */
};

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof *f);
    strcpy(f->root, "/tmp/test_rt_logs.XXXXXX");
    assert_non_null(mkdtemp(f->root));
    f->dir = xasprintf("%s/log", f->root);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    char *cmd = xasprintf("rm -rf '%s'", f->root);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f->dir);
    free(f);
    return 0;
}

static struct logw *writer(struct fx *f, const char *base, int64_t max_bytes, size_t max_line)
{
    struct logw_cfg c = {.fs = fs_real(),
                         .dir = f->dir,
                         .base = base,
                         .max_bytes = max_bytes,
                         .max_files = 50,
                         .max_line = max_line,
                         .sync = LOGW_SYNC_NONE};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&c, &w, &e), 0);
    return w;
}

static void wr(struct logw *w, const void *s, size_t n, int64_t now)
{
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_write(w, s, n, now, &e), 0);
}

static void wrs(struct logw *w, const char *s, int64_t now)
{
    wr(w, s, strlen(s), now);
}

static void put_file(struct fx *f, const char *name, const char *data, size_t len)
{
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_mkdir_p(f->dir, 0755, &e), 0);
    char *p = xasprintf("%s/%s", f->dir, name);
    assert_int_equal(pod_write_file_atomic(p, data, len, 0644, &e), 0);
    free(p);
}

static const struct rt_logs_src SRCS[] = {
    {"<pod>", "p-1.0.0"}, {"web", "web-p-1.0.0"}, {"db", "db-p-1.0.0"}};
static const int COLS_TS_NAME[] = {RT_COL_TS, RT_COL_NAME};

static struct rt_logs_req req(struct fx *f)
{
    return (struct rt_logs_req){.log_dir = f->dir,
                                .srcs = SRCS,
                                .n_srcs = 3,
                                .streams = {true, true},
                                .since_ns = INT64_MIN,
                                .cols = COLS_TS_NAME,
                                .n_cols = 2,
                                .now_wall_ns = T0 + 100 * S};
}

/* Runs rt_logs_write; returns the output (NUL-terminated, *len for binary checks). */
static char *run(const struct rt_logs_req *r, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *out = open_memstream(&buf, &n);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(rt_logs_write(r, out, &e), 0);
    fclose(out);
    if (len)
        *len = n;
    return buf;
}

static void expect(const struct rt_logs_req *r, const char *want)
{
    char *got = run(r, NULL);
    assert_string_equal(got, want);
    free(got);
}

/* Two containers, both streams, the daemon: one timeline, ties by seq then source. */
static void test_rt_logs__merge_order(void **state)
{
    struct fx *f = *state;
    struct logw *wo = writer(f, "web-p-1.0.0-stdout", 0, 0);
    struct logw *we = writer(f, "web-p-1.0.0-stderr", 0, 0);
    struct logw *dbo = writer(f, "db-p-1.0.0-stdout", 0, 0);
    struct logw *pd = writer(f, "p-1.0.0-stderr", 0, 0);
    wrs(wo, "w1\n", T0 + 1);
    wrs(dbo, "d1\nd2\n", T0 + 2);
    wrs(we, "e1\n", T0 + 2);
    wrs(wo, "w2\n", T0 + 3);
    wrs(pd, "[INFO] daemon\n", T0);
    logw_close(wo);
    logw_close(we);
    logw_close(dbo);
    logw_close(pd);
    struct rt_logs_req r = req(f);
    expect(&r, "1795386838.000000000 <pod> [INFO] daemon\n"
               "1795386838.000000001 web w1\n"
               "1795386838.000000002 web e1\n" /* seq 1 (tie on ts: seq, then source) */
               "1795386838.000000002 db d1\n"
               "1795386838.000000002 db d2\n"
               "1795386838.000000003 web w2\n");
    r.streams[0] = false; /* stderr only */
    expect(&r, "1795386838.000000000 <pod> [INFO] daemon\n"
               "1795386838.000000002 web e1\n");
    r.streams[0] = true;
    r.srcs = SRCS + 2; /* db only */
    r.n_srcs = 1;
    expect(&r, "1795386838.000000002 db d1\n1795386838.000000002 db d2\n");
}

/* B11: rotated files are read, oldest first, and nothing is lost or repeated. */
static void test_rt_logs__rotated_files_included(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stdout", 400, 100);
    struct pod_buf want = {0};
    for (int i = 0; i < 60; i++) {
        char line[64];
        snprintf(line, sizeof line, "line %02d of the rotated log\n", i);
        wrs(w, line, T0 + i * S / 10);
        pod_buf_printf(&want, "%s", line);
    }
    assert_true(logw_stats(w).rotations >= 5);
    logw_close(w);
    static const int none[1] = {0};
    struct rt_logs_req r = req(f);
    r.cols = none;
    r.n_cols = 0;
    expect(&r, want.data);
    pod_buf_free(&want);
}

/* Lines cut by the writer (+ records, also across a rotation) come back whole; a stream that
 * ended without a newline shows its last line. */
static void test_rt_logs__partial_lines_rejoined(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stdout", 300, 100);
    char big[351];
    for (int i = 0; i < 350; i++)
        big[i] = (char)('a' + i % 26);
    big[350] = '\n';
    wr(w, big, sizeof big, T0 + 1 * S);          /* 4 records: 3 with '+' */
    wrs(w, "half", T0 + 2 * S);                  /* held... */
    wrs(w, " and the rest\n", T0 + 3 * S);       /* ...one record at 3 s */
    wrs(w, "no newline at the end", T0 + 4 * S); /* eof: a '+' record */
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_eof(w, T0 + 4 * S, &e), 0);
    assert_true(logw_stats(w).rotations >= 1);
    logw_close(w);
    static const int none[1] = {0};
    struct rt_logs_req r = req(f);
    r.cols = none;
    r.n_cols = 0;
    struct pod_buf want = {0};
    pod_buf_add(&want, big, sizeof big);
    pod_buf_adds(&want, "half and the rest\nno newline at the end\n");
    expect(&r, want.data);
    pod_buf_free(&want);
    r.limit = -2; /* a joined line counts once */
    expect(&r, "half and the rest\nno newline at the end\n");
}

/* The original's `<sec> <index> <line>` files merge with ours; its 10-digit rotated names
 * count as rotated files. */
static void test_rt_logs__original_format(void **state)
{
    struct fx *f = *state;
    const char *old = "1795386837 0 old a\n1795386837 1 old b\n";
    put_file(f, "web-p-1.0.0-stdout.log.1795386837", old, strlen(old));
    const char *cur = "1795386838 0 old c\n";
    put_file(f, "web-p-1.0.0-stdout.log", cur, strlen(cur));
    const char *ours = "1795386837.500000000 7 new x\n";
    put_file(f, "db-p-1.0.0-stderr.log", ours, strlen(ours));
    struct rt_logs_req r = req(f);
    expect(&r, "1795386837.000000000 web old a\n"
               "1795386837.000000000 web old b\n"
               "1795386837.500000000 db new x\n"
               "1795386838.000000000 web old c\n");
}

/* -t keeps ts >= TS, with sub-second precision. */
static void test_rt_logs__since_subsecond(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stdout", 0, 0);
    wrs(w, "a\n", T0 + S / 4);
    wrs(w, "b\n", T0 + S / 2);
    wrs(w, "c\n", T0 + S * 3 / 4);
    logw_close(w);
    struct rt_logs_req r = req(f);
    r.since_ns = T0 + S / 2;
    expect(&r, "1795386838.500000000 web b\n1795386838.750000000 web c\n");
    r.since_ns = T0 + S / 2 + 1;
    expect(&r, "1795386838.750000000 web c\n");
    r.since_ns = T0 + S;
    expect(&r, "");
}

/* -l N: the first N; -l -N: the last N (after -t). */
static void test_rt_logs__limit_both_signs(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stdout", 0, 0);
    struct logw *d = writer(f, "db-p-1.0.0-stdout", 0, 0);
    for (int i = 0; i < 5; i++) {
        char l[16];
        snprintf(l, sizeof l, "w%d\n", i);
        wrs(w, l, T0 + 2 * i * S);
        snprintf(l, sizeof l, "d%d\n", i);
        wrs(d, l, T0 + (2 * i + 1) * S);
    }
    logw_close(w);
    logw_close(d);
    static const int name[1] = {RT_COL_NAME};
    struct rt_logs_req r = req(f);
    r.cols = name;
    r.n_cols = 1;
    r.limit = 3;
    expect(&r, "web w0\ndb d0\nweb w1\n");
    r.limit = -3;
    expect(&r, "db d3\nweb w4\ndb d4\n");
    r.limit = -100;
    r.since_ns = T0 + 7 * S;
    expect(&r, "db d3\nweb w4\ndb d4\n");
    r.limit = 1;
    expect(&r, "db d3\n");
    r.limit = -1;
    r.srcs = SRCS + 1;
    r.n_srcs = 1;
    expect(&r, "web w4\n");
}

/* -d: the columns in the order given; age = now - ts in whole seconds; none. */
static void test_rt_logs__columns(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stderr", 0, 0);
    wrs(w, "x\n", T0 + 40 * S + 123456789);
    logw_close(w);
    static const int cols[4] = {RT_COL_STREAM, RT_COL_AGE, RT_COL_TS, RT_COL_NAME};
    struct rt_logs_req r = req(f);
    r.cols = cols;
    r.n_cols = 4;
    expect(&r, "stderr 59 1795386878.123456789 web x\n");
    r.n_cols = 0;
    expect(&r, "x\n");
}

/* A writer notice is shown marked; a torn line (not a record) is shown as is, in place. */
static void test_rt_logs__notices_and_torn_lines(void **state)
{
    struct fx *f = *state;
    const char *t = "1795386838.000000000 1 one\n"
                    "1795386838.0000\n"
                    "1795386838.000000000 2! logw: the record before this one was cut short\n"
                    "1795386839.000000000 3 two\n";
    put_file(f, "web-p-1.0.0-stdout.log", t, strlen(t));
    const char *d = "1795386838.000000001 1 db\n";
    put_file(f, "db-p-1.0.0-stdout.log", d, strlen(d));
    static const int name[1] = {RT_COL_NAME};
    struct rt_logs_req r = req(f);
    r.cols = name;
    r.n_cols = 1;
    expect(&r, "web one\n"
               "web 1795386838.0000\n"
               "web ! logw: the record before this one was cut short\n"
               "db db\n"
               "web two\n");
}

/* Messages come back byte for byte: NUL, CR, invalid UTF-8. */
static void test_rt_logs__binary_bytes(void **state)
{
    struct fx *f = *state;
    struct logw *w = writer(f, "web-p-1.0.0-stdout", 0, 0);
    const char data[] = "a\0b\r\xff\xfe\n\0\n";
    wr(w, data, sizeof data - 1, T0);
    logw_close(w);
    static const int none[1] = {0};
    struct rt_logs_req r = req(f);
    r.cols = none;
    r.n_cols = 0;
    size_t len;
    char *got = run(&r, &len);
    assert_int_equal(len, sizeof data - 1);
    assert_memory_equal(got, data, len);
    free(got);
}

/* A line longer than the read buffer (the original's files have no cut) passes in pieces. */
static void test_rt_logs__line_longer_than_buffer(void **state)
{
    struct fx *f = *state;
    size_t n = 200000;
    struct pod_buf b = {0};
    pod_buf_adds(&b, "1795386838 0 ");
    for (size_t i = 0; i < n; i++)
        pod_buf_addc(&b, (char)('0' + i % 10));
    pod_buf_adds(&b, "\n1795386839 0 after\n");
    put_file(f, "web-p-1.0.0-stdout.log", b.data, b.len);
    static const int none[1] = {0};
    struct rt_logs_req r = req(f);
    r.cols = none;
    r.n_cols = 0;
    size_t len;
    char *got = run(&r, &len);
    assert_int_equal(len, n + 1 + 6);
    assert_memory_equal(got, b.data + 13, n + 1);
    assert_string_equal(got + n + 1, "after\n");
    free(got);
    r.limit = -1;
    expect(&r, "after\n");
    pod_buf_free(&b);
}

static void test_rt_logs__no_log_dir(void **state)
{
    struct fx *f = *state;
    struct rt_logs_req r = req(f);
    expect(&r, "");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest t[] = {
        T(test_rt_logs__merge_order),
        T(test_rt_logs__rotated_files_included),
        T(test_rt_logs__partial_lines_rejoined),
        T(test_rt_logs__original_format),
        T(test_rt_logs__since_subsecond),
        T(test_rt_logs__limit_both_signs),
        T(test_rt_logs__columns),
        T(test_rt_logs__notices_and_torn_lines),
        T(test_rt_logs__binary_bytes),
        T(test_rt_logs__line_longer_than_buffer),
        T(test_rt_logs__no_log_dir),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
