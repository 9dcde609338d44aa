/* SPDX-License-Identifier: MIT */
/* test_logw.c - the container log writer on fs_mem: record format, line splitting, partial
 * lines, seq rules, size rotation and retention, crash recovery after every fs call of a
 * rotation, disk full with backlog/retry/drop notices, close.  One test on fs_real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/util.h"

#define T0 ((int64_t)1795386838123456789)
#define DIR "/pod/log"
#define BASE "web-mypod-1.0.0-stdout"
#define CUR DIR "/" BASE ".log"

struct fx {
    struct fs_mem *m;
    struct logw_cfg cfg;
    struct logw *w;
};

static struct fx *fx_new(int64_t max_bytes, int max_files, size_t max_line)
{
    struct fx *x = xcalloc(1, sizeof *x);
    x->m = fs_mem_new();
    x->cfg.fs = fs_mem_fs(x->m);
    x->cfg.dir = DIR;
    x->cfg.base = BASE;
    x->cfg.max_bytes = max_bytes;
    x->cfg.max_files = max_files;
    x->cfg.max_line = max_line;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&x->cfg, &x->w, &e), 0);
    return x;
}

static void fx_free(struct fx *x)
{
    logw_close(x->w);
    fs_mem_free(x->m);
    free(x);
}

static char *get(struct fs_mem *m, const char *path)
{
    char *d = NULL;
    if (fs_mem_get(m, path, &d, NULL) < 0)
        return NULL;
    return d;
}

static void wr(struct logw *w, const char *s, int64_t now)
{
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_write(w, s, strlen(s), now, &e), 0);
}

/* All records of BASE in order (rotated files by N, then current), messages joined by '\n'. */
static char *all_msgs(struct fs_mem *m)
{
    struct fs f = fs_mem_fs(m);
    char **paths = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_files(&f, DIR, BASE, &paths, &e), 0);
    struct pod_buf b = {0};
    for (size_t i = 0; paths[i]; i++) {
        char *d = get(m, paths[i]);
        assert_non_null(d);
        for (char *p = d; *p;) {
            char *nl = strchr(p, '\n');
            assert_non_null(nl);
            struct logw_rec r;
            assert_true(logw_parse_line(p, (size_t)(nl - p), &r));
            pod_buf_add(&b, r.msg, r.msg_len);
            pod_buf_addc(&b, '\n');
            p = nl + 1;
        }
        free(d);
    }
    pod_strv_free(paths);
    return pod_buf_take(&b);
}

/* ---- format ---- */

static void test_logw_write__format_exact(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    wr(x->w, "hello\nworld\n", T0);
    wr(x->w, "\n", T0 + 1);
    wr(x->w, "x\n", 5);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 hello\n"
                           "1795386838.123456789 1 world\n"
                           "1795386838.123456790 2 \n"
                           "0.000000005 3 x\n");
    free(d);
    struct logw_stats st = logw_stats(x->w);
    assert_int_equal(st.lines, 4);
    assert_int_equal(st.bytes_in, 15);
    assert_int_equal(st.partial_lines, 0);
    fx_free(x);
}

static void test_logw_write__one_fs_write_per_call(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    uint64_t before = fs_mem_calls(x->m, FS_MEM_OP_WRITE);
    wr(x->w, "a\nb\nc\nd\n", T0);
    assert_int_equal(fs_mem_calls(x->m, FS_MEM_OP_WRITE) - before, 1);
    assert_int_equal(fs_mem_calls(x->m, FS_MEM_OP_STAT), 1); /* only at open */
    fx_free(x);
}

static void test_logw_write__lines_split_across_chunks(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    wr(x->w, "hel", T0);
    wr(x->w, "lo wo", T0 + 10);
    wr(x->w, "rld\nsecond", T0 + 20);
    wr(x->w, "\n", T0 + 30);
    char *d = get(x->m, CUR);
    /* a line is stamped with the time its newline was read */
    assert_string_equal(d, "1795386838.123456809 0 hello world\n"
                           "1795386838.123456819 1 second\n");
    free(d);
    fx_free(x);
}

static void test_logw_write__nul_and_cr_kept(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_write(x->w, "a\0b\r\n", 5, 0, &e), 0);
    char *d = NULL;
    size_t len = 0;
    assert_int_equal(fs_mem_get(x->m, CUR, &d, &len), 0);
    assert_int_equal(len, 19);
    assert_memory_equal(d, "0.000000000 0 a\0b\r\n", 19);
    free(d);
    fx_free(x);
}

static void test_logw_eof__partial_last_line_marked(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    wr(x->w, "done\nno newline", T0);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 done\n"); /* held back until eof */
    free(d);
    uint64_t syncs = fs_mem_calls(x->m, FS_MEM_OP_FSYNC);
    assert_int_equal(logw_eof(x->w, T0 + 1, &e), 0);
    assert_int_equal(fs_mem_calls(x->m, FS_MEM_OP_FSYNC), syncs + 1); /* a flush point */
    d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 done\n"
                           "1795386838.123456790 1+ no newline\n");
    free(d);
    assert_int_equal(fs_mem_synced_len(x->m, CUR), (int64_t)strlen(
                                                       "1795386838.123456789 0 done\n"
                                                       "1795386838.123456790 1+ no newline\n"));
    /* eof with nothing pending writes nothing; the stream may start again (new container) */
    assert_int_equal(logw_eof(x->w, T0 + 2, &e), 0);
    wr(x->w, "again\n", T0 + 3);
    d = get(x->m, CUR);
    assert_non_null(strstr(d, "1795386838.123456792 2 again\n"));
    free(d);
    struct logw_stats st = logw_stats(x->w);
    assert_int_equal(st.partial_lines, 1);
    assert_int_equal(st.lines, 2);
    fx_free(x);
}

static void test_logw_write__long_line_split_marked(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 4);
    wr(x->w, "abcdefghij\n", 0);
    wr(x->w, "1234\n", 0);  /* exactly max_line: one full record */
    wr(x->w, "12345", 0);   /* max_line + 1 without newline: split, 1 byte carried */
    wr(x->w, "\n", 0);
    wr(x->w, "ab", 0);      /* carry across calls then overflow */
    wr(x->w, "cdef\n", 0);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "0.000000000 0+ abcd\n"
                           "0.000000000 1+ efgh\n"
                           "0.000000000 2 ij\n"
                           "0.000000000 3 1234\n"
                           "0.000000000 4+ 1234\n"
                           "0.000000000 5 5\n"
                           "0.000000000 6+ abcd\n"
                           "0.000000000 7 ef\n");
    free(d);
    char *msgs = all_msgs(x->m);
    free(msgs);
    fx_free(x);
}

static void test_logw_close__flushes_partial_and_syncs(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    wr(x->w, "a\nb", T0);
    logw_close(x->w);
    x->w = NULL;
    char *d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 a\n1795386838.123456789 1+ b\n");
    assert_int_equal(fs_mem_synced_len(x->m, CUR), (int64_t)strlen(d));
    free(d);
    assert_int_equal(fs_mem_open_handles(x->m), 0);
    fx_free(x);
}

/* ---- seq across restarts ---- */

static void test_logw_open__seq_continues_after_reopen(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    wr(x->w, "a\nb\n", 1000);
    logw_close(x->w);
    assert_int_equal(logw_open(&x->cfg, &x->w, &(struct pod_err)POD_ERR_ZERO), 0);
    wr(x->w, "c\n", 1000); /* same timestamp (a fake clock): seq still orders */
    char *d = get(x->m, CUR);
    assert_string_equal(d, "0.000001000 0 a\n0.000001000 1 b\n0.000001000 2 c\n");
    free(d);
    fx_free(x);
}

static void test_logw_parse_line__forms(void **state)
{
    (void)state;
    struct logw_rec r;
    const char *l = "1795386838.123456789 42+ msg x";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.ts_ns, T0);
    assert_int_equal(r.seq, 42);
    assert_int_equal(r.mark, '+');
    assert_int_equal(r.msg_len, 5);
    assert_memory_equal(r.msg, "msg x", 5);
    l = "1795386838 3 original podc";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.ts_ns, (int64_t)1795386838 * 1000000000);
    assert_int_equal(r.mark, 0);
    l = "1.5 0! n";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.ts_ns, 1500000000);
    assert_int_equal(r.mark, '!');
    l = "1 0 ";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.msg_len, 0);
    const char *bad[] = {"", "x 0 m", "1 x m", "1 0", "1 0m", "1. 0 m", "1 0+m", "-1 0 m",
                         "1.1234567891 0 m"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(logw_parse_line(bad[i], strlen(bad[i]), &r));
}

static void test_logw_open__bad_config(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw_cfg c = {.fs = fs_mem_fs(m), .dir = DIR, .base = BASE};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    const char *bases[] = {"", "a/b", ".hidden", NULL};
    for (size_t i = 0; i < 4; i++) {
        c.base = bases[i];
        assert_int_equal(logw_open(&c, &w, &e), -1);
        assert_int_equal(e.code, POD_E_INVALID);
    }
    c.base = BASE;
    c.max_bytes = 100; /* smaller than one record of the default max_line */
    assert_int_equal(logw_open(&c, &w, &e), -1);
    c.max_bytes = 0;
    c.max_files = -1;
    assert_int_equal(logw_open(&c, &w, &e), -1);
    assert_null(w);
    fs_mem_free(m);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_logw_write__format_exact),
        cmocka_unit_test(test_logw_write__one_fs_write_per_call),
        cmocka_unit_test(test_logw_write__lines_split_across_chunks),
        cmocka_unit_test(test_logw_write__nul_and_cr_kept),
        cmocka_unit_test(test_logw_eof__partial_last_line_marked),
        cmocka_unit_test(test_logw_write__long_line_split_marked),
        cmocka_unit_test(test_logw_close__flushes_partial_and_syncs),
        cmocka_unit_test(test_logw_open__seq_continues_after_reopen),
        cmocka_unit_test(test_logw_parse_line__forms),
        cmocka_unit_test(test_logw_open__bad_config),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
