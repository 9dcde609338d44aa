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

#include "../sim/fs_mem.h"
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
    assert_int_equal(fs_mem_synced_len(x->m, CUR),
                     (int64_t)strlen("1795386838.123456789 0 done\n"
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
    wr(x->w, "1234\n", 0); /* exactly max_line: one full record */
    wr(x->w, "12345", 0);  /* max_line + 1 without newline: split, 1 byte carried */
    wr(x->w, "\n", 0);
    wr(x->w, "ab", 0); /* carry across calls then overflow */
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

/* ---- rotation ---- */

/* Writes lines "L<5 digits>-<pad>" n..n+count-1, chunk lines per logw_write call. */
static void write_lines(struct logw *w, int first, int count, int chunk, int64_t now)
{
    struct pod_buf b = {0};
    for (int i = first; i < first + count; i++) {
        pod_buf_printf(&b, "L%05d-xxxxxxxx\n", i);
        if ((i - first + 1) % chunk == 0 || i == first + count - 1) {
            struct pod_err e = POD_ERR_ZERO;
            assert_int_equal(logw_write(w, b.data, b.len, now, &e), 0);
            b.len = 0;
        }
    }
    pod_buf_free(&b);
}

/* Line numbers of all L-records in order; asserts file sizes and seq order. */
/* torn_ok: records torn by a crash may appear; tail_ok: the last file may end torn (a snapshot
 * right after a crash, before recovery). */
static int *all_nums_torn(struct fs_mem *m, int64_t max_bytes, bool torn_ok, bool tail_ok,
                          size_t *n)
{
    struct fs f = fs_mem_fs(m);
    char **paths = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_files(&f, DIR, BASE, &paths, &e), 0);
    int *v = xcalloc(1, sizeof *v);
    size_t k = 0;
    bool have_seq = false;
    uint64_t last_seq = 0;
    for (size_t i = 0; paths[i]; i++) {
        char *d = NULL;
        size_t len = 0;
        assert_int_equal(fs_mem_get(m, paths[i], &d, &len), 0);
        assert_true((int64_t)len <= max_bytes);
        bool torn = len > 0 && d[len - 1] != '\n';
        assert_true(!torn || (tail_ok && !paths[i + 1])); /* files end at record boundaries */
        bool expect_notice = false;
        for (char *p = d; *p;) {
            char *nl = strchr(p, '\n');
            if (!nl)
                break; /* a torn tail right after a crash */
            struct logw_rec r;
            if (!logw_parse_line(p, (size_t)(nl - p), &r)) {
                assert_true(torn_ok); /* a record torn inside its prefix ... */
                expect_notice = true;
                p = nl + 1;
                continue;
            }
            if (expect_notice) /* ... is followed by the repair notice */
                assert_int_equal(r.mark, '!');
            expect_notice = false;
            if (have_seq)
                assert_true(r.seq > last_seq);
            have_seq = true;
            last_seq = r.seq;
            int num;
            if (r.mark == 0 && r.msg_len == 15 && sscanf(r.msg, "L%5d-", &num) == 1) {
                v = xrealloc(v, (k + 1) * sizeof *v);
                v[k++] = num;
            }
            p = nl + 1;
        }
        free(d);
    }
    pod_strv_free(paths);
    *n = k;
    return v;
}

static int *all_nums(struct fs_mem *m, int64_t max_bytes, size_t *n)
{
    return all_nums_torn(m, max_bytes, false, false, n);
}

static void test_logw_rotate__at_line_boundaries_and_names(void **state)
{
    (void)state;
    /* records are "0.000000000 <seq> L00000-xxxxxxxx\n" = 30..31 bytes: 3 per 100-byte file */
    struct fx *x = fx_new(100, 100, 16);
    write_lines(x->w, 0, 20, 7, 0);
    size_t n = 0;
    int *nums = all_nums(x->m, 100, &n);
    assert_int_equal(n, 20);
    for (int i = 0; i < 20; i++)
        assert_int_equal(nums[i], i);
    free(nums);
    char **files = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(files), 7);
    assert_string_equal(files[0], DIR "/" BASE ".log");
    assert_string_equal(files[1], DIR "/" BASE ".log.00000001");
    assert_string_equal(files[6], DIR "/" BASE ".log.00000006");
    pod_strv_free(files);
    char *d = get(x->m, DIR "/" BASE ".log.00000001");
    assert_string_equal(d, "0.000000000 0 L00000-xxxxxxxx\n"
                           "0.000000000 1 L00001-xxxxxxxx\n"
                           "0.000000000 2 L00002-xxxxxxxx\n");
    free(d);
    struct logw_stats st = logw_stats(x->w);
    assert_int_equal(st.rotations, 6);
    /* every rotated file was fsync'd before its rename */
    assert_int_equal(fs_mem_synced_len(x->m, DIR "/" BASE ".log.00000003"), 90);
    fx_free(x);
}

static void test_logw_rotate__only_when_next_record_does_not_fit(void **state)
{
    (void)state;
    struct fx *x = fx_new(90, 100, 16); /* exactly three 30-byte records fit */
    write_lines(x->w, 0, 3, 3, 0);
    assert_int_equal(logw_stats(x->w).rotations, 0);
    write_lines(x->w, 3, 1, 1, 0);
    assert_int_equal(logw_stats(x->w).rotations, 1);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "0.000000000 3 L00003-xxxxxxxx\n");
    free(d);
    fx_free(x);
}

static void test_logw_rotate__retention_keeps_newest(void **state)
{
    (void)state;
    struct fx *x = fx_new(100, 2, 16);
    write_lines(x->w, 0, 30, 4, 0);
    char **files = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(files), 3);
    assert_string_equal(files[1], DIR "/" BASE ".log.00000008");
    assert_string_equal(files[2], DIR "/" BASE ".log.00000009");
    pod_strv_free(files);
    size_t n = 0;
    int *nums = all_nums(x->m, 100, &n);
    /* the newest lines, contiguous, up to the last one written */
    assert_int_equal(nums[n - 1], 29);
    for (size_t i = 1; i < n; i++)
        assert_int_equal(nums[i], nums[i - 1] + 1);
    assert_int_equal(n, 9);
    free(nums);
    fx_free(x);
}

static void test_logw_rotate__names_never_collide(void **state)
{
    (void)state;
    /* 200 rotations at one timestamp (the original overwrote rotations within a second) */
    struct fx *x = fx_new(100, 1000, 16);
    write_lines(x->w, 0, 600, 1, T0);
    /* records are 39..41 bytes here: 2 per file */
    assert_int_equal(logw_stats(x->w).rotations, 299);
    char **files = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(files), 300);
    pod_strv_free(files);
    size_t n = 0;
    int *nums = all_nums(x->m, 100, &n);
    assert_int_equal(n, 600);
    free(nums);
    /* a reopen continues the numbering after the highest existing N */
    logw_close(x->w);
    assert_int_equal(logw_open(&x->cfg, &x->w, &(struct pod_err)POD_ERR_ZERO), 0);
    write_lines(x->w, 600, 3, 1, T0);
    char *d = get(x->m, DIR "/" BASE ".log.00000300");
    assert_non_null(d);
    assert_non_null(strstr(d, " 598 L00598-xxxxxxxx\n"));
    assert_non_null(strstr(d, " 599 L00599-xxxxxxxx\n"));
    free(d);
    d = get(x->m, DIR "/" BASE ".log.00000299");
    assert_non_null(strstr(d, " 597 L00597-xxxxxxxx\n"));
    free(d);
    nums = all_nums(x->m, 100, &n);
    assert_int_equal(n, 603);
    free(nums);
    fx_free(x);
}

/* ---- crash recovery: a crash after every single fs call ---- */

struct crash_out {
    bool crashed;
    enum fs_mem_op op; /* the call the crash followed */
    uint64_t calls;    /* fs calls of the whole run without a crash */
};

static bool contains(const int *v, size_t n, int x)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == x)
            return true;
    return false;
}

/* One run: open, 12 writes of 1..3 lines with a flush point every third, crash after the k-th
 * fs call (0: never), then reopen (recovery), write 6 more lines and close.  Checks: no line
 * twice, order kept, every line covered by a successful flush point or a completed rotation
 * survives (with KEEP: every
 * line of a logw_write that returned 0), what was durable at the crash is still there, and
 * everything after recovery is written. */
static void crash_run(enum fs_mem_crash_mode mode, enum logw_sync sync, int max_files, uint64_t k,
                      struct crash_out *o)
{
    struct fs_mem *m = fs_mem_new();
    fs_mem_set_crash_mode(m, mode);
    struct logw_cfg cfg = {.fs = fs_mem_fs(m),
                           .dir = DIR,
                           .base = BASE,
                           .max_bytes = 100,
                           .max_files = max_files,
                           .max_line = 16,
                           .sync = sync,
                           .writeback_bytes = 30};
    fs_mem_crash_at(m, k);
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    int next = 0, synced_upto = 0, written_upto = 0;
    o->crashed = false;
    for (int chunk = 0; chunk < 12 && !fs_mem_is_down(m); chunk++) {
        struct pod_buf b = {0};
        int lines = chunk % 3 + 1;
        for (int i = 0; i < lines; i++)
            pod_buf_printf(&b, "L%05d-xxxxxxxx\n", next + i);
        uint64_t rot = logw_stats(w).rotations;
        int rc = logw_write(w, b.data, b.len, T0 + chunk, &e);
        pod_buf_free(&b);
        if (sync == LOGW_SYNC_ROTATE && logw_stats(w).rotations > rot && next > synced_upto)
            synced_upto = next; /* earlier lines were in the rotated file: fsync'd */
        next += lines;
        if (rc == 0)
            written_upto = next;
        if (chunk % 3 == 2 && logw_sync(w, &e) == 0)
            synced_upto = next;
    }
    if (!fs_mem_is_down(m)) {
        logw_close(w); /* the crash may also hit one of close's calls */
        w = NULL;
    }
    if (!fs_mem_is_down(m)) {
        o->calls = fs_mem_calls(m, FS_MEM_OP_ANY);
        size_t n = 0;
        int *nums = all_nums(m, 100, &n);
        assert_int_equal(nums[n - 1], next - 1);
        free(nums);
        fs_mem_free(m);
        return;
    }
    o->crashed = true;
    o->op = fs_mem_crash_op(m);
    logw_close(w); /* the dead process: every call fails */
    fs_mem_reboot(m);
    if (!w) { /* the crash hit a call of close: everything was written (and synced) */
        written_upto = next;
        if (sync == LOGW_SYNC_ROTATE)
            synced_upto = next;
    }
    size_t nd = 0;
    int *dur = all_nums_torn(m, 100, mode == FS_MEM_CRASH_TORN, mode == FS_MEM_CRASH_TORN, &nd);
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    for (int i = 0; i < 6; i++) {
        char line[32];
        int l = snprintf(line, sizeof line, "L%05d-xxxxxxxx\n", next + i);
        assert_int_equal(logw_write(w, line, (size_t)l, T0 + 100 + i, &e), 0);
    }
    logw_close(w);
    size_t nf = 0;
    int *fin = all_nums_torn(m, 100, mode == FS_MEM_CRASH_TORN, false, &nf);
    assert_true(nf > 0);
    for (size_t i = 1; i < nf; i++)
        assert_true(fin[i] > fin[i - 1]); /* no duplicate, no reordering */
    for (int x = fin[0]; x < synced_upto; x++)
        assert_true(contains(fin, nf, x)); /* nothing fsync'd is lost */
    if (mode == FS_MEM_CRASH_KEEP)
        for (int x = fin[0]; x < written_upto; x++)
            assert_true(contains(fin, nf, x)); /* a process crash loses nothing written */
    for (int x = fin[0] > next ? fin[0] : next; x < next + 6; x++)
        assert_true(contains(fin, nf, x)); /* (retention may have removed the oldest) */
    assert_int_equal(fin[nf - 1], next + 5);
    if (max_files >= 100) { /* no retention: the durable state is a prefix of the end result */
        assert_true(nd <= nf);
        for (size_t i = 0; i < nd; i++)
            assert_int_equal(dur[i], fin[i]);
    }
    struct fs f = fs_mem_fs(m);
    char **paths = NULL;
    assert_int_equal(logw_files(&f, DIR, BASE, &paths, &e), 0);
    assert_true(pod_strv_len(paths) <= (size_t)max_files + 1);
    pod_strv_free(paths);
    free(dur);
    free(fin);
    fs_mem_free(m);
}

static void crash_sweep_sync(enum fs_mem_crash_mode mode, enum logw_sync sync, int max_files)
{
    struct crash_out o;
    crash_run(mode, sync, max_files, 0, &o);
    assert_false(o.crashed);
    uint64_t total = o.calls;
    bool seen[FS_MEM_OP_COUNT_ + 1] = {0};
    for (uint64_t k = 1; k <= total; k++) {
        struct crash_out c;
        crash_run(mode, sync, max_files, k, &c);
        assert_true(c.crashed);
        seen[c.op] = true;
    }
    /* every step of open/recovery, writing and rotation was interrupted at least once */
    assert_true(seen[FS_MEM_OP_MKDIR] && seen[FS_MEM_OP_LIST] && seen[FS_MEM_OP_OPEN] &&
                seen[FS_MEM_OP_STAT] && seen[FS_MEM_OP_WRITE] && seen[FS_MEM_OP_FSYNC] &&
                seen[FS_MEM_OP_CLOSE] && seen[FS_MEM_OP_RENAME]);
    if (sync == LOGW_SYNC_ROTATE)
        assert_true(seen[FS_MEM_OP_SYNCDIR] && seen[FS_MEM_OP_WRITEBACK]);
    else /* only the explicit logw_sync calls sync (the file and the directory) */
        assert_false(seen[FS_MEM_OP_WRITEBACK]);
    if (max_files < 100)
        assert_true(seen[FS_MEM_OP_UNLINK]);
}

static void crash_sweep(enum fs_mem_crash_mode mode, int max_files)
{
    crash_sweep_sync(mode, LOGW_SYNC_ROTATE, max_files);
}

static void test_logw_crash__power_loss_after_each_call(void **state)
{
    (void)state;
    crash_sweep(FS_MEM_CRASH_DROP, 1000);
}

static void test_logw_crash__torn_tail_after_each_call(void **state)
{
    (void)state;
    crash_sweep(FS_MEM_CRASH_TORN, 1000);
}

static void test_logw_crash__process_crash_after_each_call(void **state)
{
    (void)state;
    crash_sweep(FS_MEM_CRASH_KEEP, 1000);
}

static void test_logw_crash__with_retention_after_each_call(void **state)
{
    (void)state;
    crash_sweep(FS_MEM_CRASH_DROP, 2);
    crash_sweep(FS_MEM_CRASH_TORN, 2);
}

/* sync=none: only the explicit flush points (logw_sync) make records durable; a process crash
 * still loses nothing written. */
static void test_logw_crash__sync_none_after_each_call(void **state)
{
    (void)state;
    crash_sweep_sync(FS_MEM_CRASH_KEEP, LOGW_SYNC_NONE, 1000);
    crash_sweep_sync(FS_MEM_CRASH_DROP, LOGW_SYNC_NONE, 2);
    crash_sweep_sync(FS_MEM_CRASH_TORN, LOGW_SYNC_NONE, 1000);
}

/* ---- fsync policy ---- */

static struct logw *open_cfg(struct fs_mem *m, enum logw_sync sync, int64_t writeback)
{
    struct logw_cfg cfg = {.fs = fs_mem_fs(m),
                           .dir = DIR,
                           .base = BASE,
                           .max_bytes = 200,
                           .max_files = 2,
                           .max_line = 16,
                           .sync = sync,
                           .writeback_bytes = writeback};
    struct logw *w = NULL;
    assert_int_equal(logw_open(&cfg, &w, &(struct pod_err)POD_ERR_ZERO), 0);
    return w;
}

static void test_logw_sync__none_never_fsyncs_on_its_own(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw *w = open_cfg(m, LOGW_SYNC_NONE, 0);
    write_lines(w, 0, 60, 3, T0);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_eof(w, T0, &e), 0);
    assert_true(logw_stats(w).rotations >= 5);
    assert_true(fs_mem_calls(m, FS_MEM_OP_UNLINK) > 0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), 0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), 0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_WRITEBACK), 0);
    assert_int_equal(logw_stats(w).syncs, 0);
    assert_int_equal(fs_mem_synced_len(m, CUR), 0);
    /* an explicit flush point still makes everything durable: the rotated files kept (never
     * fsynced), the current file and the directory */
    assert_int_equal(logw_sync(w, &e), 0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), 2 + 1);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), 1);
    char **files = fs_mem_files(m);
    assert_int_equal(pod_strv_len(files), 3);
    for (size_t i = 0; files[i]; i++) {
        char *d = get(m, files[i]);
        assert_int_equal(fs_mem_synced_len(m, files[i]), (int64_t)strlen(d));
        free(d);
    }
    pod_strv_free(files);
    assert_int_equal(logw_sync(w, &e), 0); /* nothing new: no call */
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), 3);
    wr(w, "tail\n", T0);
    logw_close(w); /* no fsync at close either */
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), 3);
    char *d;
    d = get(m, CUR);
    assert_non_null(strstr(d, " tail\n"));
    free(d);
    size_t n = 0;
    int *nums = all_nums(m, 200, &n);
    assert_true(n > 0);
    assert_int_equal(nums[n - 1], 59);
    free(nums);
    fs_mem_free(m);
}

/* sync=rotate: per rotation one fsync of the finished file and one directory sync (covering the
 * rename, the previous new file and the deletions), none per create/unlink. */
static void test_logw_sync__rotate_one_dir_sync_per_rotation(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw *w = open_cfg(m, LOGW_SYNC_ROTATE, -1);
    write_lines(w, 0, 60, 3, T0);
    uint64_t rot = logw_stats(w).rotations;
    assert_true(rot >= 5);
    assert_true(fs_mem_calls(m, FS_MEM_OP_UNLINK) >= rot - 2);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), rot);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), rot);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_WRITEBACK), 0); /* writeback_bytes < 0 */
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_eof(w, T0, &e), 0); /* the current file and its (new) name */
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), rot + 1);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), rot + 1);
    assert_int_equal(logw_stats(w).syncs, rot + 1);
    assert_int_equal(logw_stats(w).dir_syncs, rot + 1);
    assert_int_equal(logw_sync(w, &e), 0); /* nothing changed since: no call */
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC) + fs_mem_calls(m, FS_MEM_OP_SYNCDIR),
                     2 * rot + 2);
    logw_close(w);
    fs_mem_free(m);
}

/* The directory sync comes after the rename and before the new current file is created (so a
 * power loss cannot keep the new name but lose the rename); a failing one is retried. */
static void test_logw_sync__dir_synced_between_rename_and_create(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw *w = open_cfg(m, LOGW_SYNC_ROTATE, 0);
    fs_mem_fail(m, FS_MEM_OP_SYNCDIR, 1, 1, EIO);
    struct pod_buf b = {0};
    for (int i = 0; i < 8; i++)
        pod_buf_printf(&b, "L%05d-xxxxxxxx\n", i);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_write(w, b.data, b.len, T0, &e), -1);
    assert_int_equal(e.sys_errno, EIO);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_RENAME), 1);
    char *d = get(m, CUR);
    assert_null(d); /* renamed away, not created again yet */
    d = get(m, DIR "/" BASE ".log.00000001");
    assert_non_null(d);
    assert_int_equal(fs_mem_synced_len(m, DIR "/" BASE ".log.00000001"), (int64_t)strlen(d));
    free(d);
    assert_int_equal(logw_retry(w, T0, &e), 0);
    d = get(m, CUR);
    assert_non_null(d);
    free(d);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), 2);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_RENAME), 1);
    logw_close(w);
    size_t n = 0;
    int *nums = all_nums(m, 200, &n);
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(nums[i], (int)i);
    free(nums);
    pod_buf_free(&b);
    fs_mem_free(m);
}

/* Early writeback: started every writeback_bytes of the current file (default max_bytes / 8),
 * never with sync=none or writeback_bytes < 0; a failing one is ignored. */
static void test_logw_sync__writeback_every_n_bytes(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw *w = open_cfg(m, LOGW_SYNC_ROTATE, 100);
    /* 40 records of 39-40 bytes ("1795386838.123456789 NN L00000-xxxxxxxx\n"), one per call */
    write_lines(w, 0, 40, 1, T0);
    uint64_t wb = fs_mem_calls(m, FS_MEM_OP_WRITEBACK);
    assert_int_equal(logw_stats(w).writebacks, wb);
    /* 5 records per 200-byte file; a writeback after the 3rd record of each (>= 100 bytes) */
    assert_int_equal(wb, 8);
    fs_mem_fail(m, FS_MEM_OP_WRITEBACK, 1, 0, EIO);
    write_lines(w, 40, 8, 1, T0); /* ignored failures: the writes succeed */
    assert_int_equal(logw_stats(w).writebacks, wb);
    assert_int_equal(logw_stats(w).write_errors, 0);
    logw_close(w);
    fs_mem_free(m);

    m = fs_mem_new();
    w = open_cfg(m, LOGW_SYNC_ROTATE, 0); /* default: max_bytes / 8 = 25 bytes */
    write_lines(w, 0, 8, 1, T0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_WRITEBACK), 8);
    logw_close(w);
    fs_mem_free(m);
}

/* The fast path increments seq in place: digit roll-overs inside one call and across calls
 * with a line split between them. */
static void test_logw_write__seq_rolls_over_digits(void **state)
{
    (void)state;
    struct fx *x = fx_new(1024 * 1024, 0, 0);
    struct pod_buf b = {0};
    for (int i = 0; i < 1005; i++)
        pod_buf_printf(&b, "m%d\n", i);
    wr(x->w, "", T0);
    struct pod_err e = POD_ERR_ZERO;
    size_t cut = 2001; /* inside a line ("m4xx") */
    assert_true(b.len > cut && b.data[cut - 1] != '\n' && b.data[cut] != '\n');
    assert_int_equal(logw_write(x->w, b.data, cut, T0, &e), 0);
    assert_int_equal(logw_write(x->w, b.data + cut, b.len - cut, T0, &e), 0);
    char *d = get(x->m, CUR);
    assert_non_null(strstr(d, "1795386838.123456789 9 m9\n1795386838.123456789 10 m10\n"));
    assert_non_null(strstr(d, " 99 m99\n1795386838.123456789 100 m100\n"));
    assert_non_null(strstr(d, " 999 m999\n1795386838.123456789 1000 m1000\n"));
    int i = 0;
    for (char *p = d; *p; i++) {
        char *nl = strchr(p, '\n');
        struct logw_rec r;
        assert_true(logw_parse_line(p, (size_t)(nl - p), &r));
        assert_int_equal(r.seq, (uint64_t)i);
        char want[16];
        snprintf(want, sizeof want, "m%d", i);
        assert_int_equal(r.msg_len, strlen(want));
        assert_memory_equal(r.msg, want, r.msg_len);
        p = nl + 1;
    }
    assert_int_equal(i, 1005);
    free(d);
    pod_buf_free(&b);
    fx_free(x);
}

static void test_logw_open__torn_tail_repaired_and_reported(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    fs_mem_put(m, CUR, "1.000000000 7 abc\n1.500000000 8 tor", 35, true);
    struct logw_cfg cfg = {.fs = fs_mem_fs(m), .dir = DIR, .base = BASE};
    struct logw *w = NULL;
    assert_int_equal(logw_open(&cfg, &w, &(struct pod_err)POD_ERR_ZERO), 0);
    wr(w, "x\n", T0);
    char *d = get(m, CUR);
    assert_string_equal(d, "1.000000000 7 abc\n1.500000000 8 tor\n"
                           "1.500000000 9! logw: the record before this one was cut short by "
                           "an unclean shutdown\n"
                           "1795386838.123456789 10 x\n");
    free(d);
    assert_int_equal(logw_stats(w).notices, 1);
    logw_close(w);
    /* torn inside the prefix: its seq is unknown, so one more is skipped */
    fs_mem_put(m, CUR, "1.000000000 7 abc\n1.5000", 24, true);
    assert_int_equal(logw_open(&cfg, &w, &(struct pod_err)POD_ERR_ZERO), 0);
    wr(w, "x\n", T0);
    d = get(m, CUR);
    assert_string_equal(d, "1.000000000 7 abc\n1.5000\n"
                           "1.000000000 9! logw: the record before this one was cut short by "
                           "an unclean shutdown\n"
                           "1795386838.123456789 10 x\n");
    free(d);
    logw_close(w);
    fs_mem_free(m);
}

static void test_logw_open__seq_and_numbering_from_archives(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    fs_mem_put(m, DIR "/" BASE ".log.00000003", "1.000000000 41 x\n", 17, true);
    fs_mem_put(m, DIR "/" BASE ".log.1", "not ours\n", 9, true); /* not canonical: ignored */
    fs_mem_put(m, DIR "/other.log.00000009", "1.000000000 99 y\n", 17, true);
    struct logw_cfg cfg = {.fs = fs_mem_fs(m),
                           .dir = DIR,
                           .base = BASE,
                           .max_bytes = 100,
                           .max_files = 1,
                           .max_line = 16};
    struct logw *w = NULL;
    assert_int_equal(logw_open(&cfg, &w, &(struct pod_err)POD_ERR_ZERO), 0);
    write_lines(w, 0, 4, 4, 0);
    logw_close(w);
    char **files = fs_mem_files(m);
    assert_int_equal(pod_strv_len(files), 4);
    assert_string_equal(files[0], DIR "/other.log.00000009");
    assert_string_equal(files[1], DIR "/" BASE ".log");
    assert_string_equal(files[2], DIR "/" BASE ".log.00000004"); /* after 3; 3 trimmed */
    assert_string_equal(files[3], DIR "/" BASE ".log.1");
    pod_strv_free(files);
    char *d = get(m, DIR "/" BASE ".log.00000004");
    assert_string_equal(d, "0.000000000 42 L00000-xxxxxxxx\n"
                           "0.000000000 43 L00001-xxxxxxxx\n"
                           "0.000000000 44 L00002-xxxxxxxx\n");
    free(d);
    fs_mem_free(m);
}

/* ---- disk full, backlog, retry, drops ---- */

static void test_logw_diskfull__backlog_kept_and_retried(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    fs_mem_set_capacity(x->m, fs_mem_used(x->m));
    assert_int_equal(logw_write(x->w, "a\nb\n", 4, T0, &e), -1);
    assert_int_equal(e.sys_errno, ENOSPC);
    struct logw_stats st = logw_stats(x->w);
    assert_true(st.failing);
    assert_int_equal(st.write_errors, 1);
    assert_true(st.backlog_bytes > 0);
    assert_non_null(strstr(logw_last_error(x->w), "write"));
    /* within the cooldown (1 s) a write does not touch the disk */
    uint64_t writes = fs_mem_calls(x->m, FS_MEM_OP_WRITE);
    assert_int_equal(logw_write(x->w, "c\n", 2, T0 + 500000000, &e), -1);
    assert_int_equal(fs_mem_calls(x->m, FS_MEM_OP_WRITE), writes);
    fs_mem_set_capacity(x->m, -1);
    assert_int_equal(logw_write(x->w, "d\n", 2, T0 + 600000000, &e), -1);
    assert_int_equal(fs_mem_calls(x->m, FS_MEM_OP_WRITE), writes);
    /* logw_retry always tries */
    assert_int_equal(logw_retry(x->w, T0 + 700000000, &e), 0);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 a\n"
                           "1795386838.123456789 1 b\n"
                           "1795386838.623456789 2 c\n"
                           "1795386838.723456789 3 d\n");
    free(d);
    st = logw_stats(x->w);
    assert_false(st.failing);
    assert_int_equal(st.backlog_bytes, 0);
    assert_int_equal(st.dropped_lines, 0);
    assert_int_equal(st.notices, 0);
    fx_free(x);
}

static void test_logw_diskfull__write_retries_after_cooldown(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    fs_mem_fail(x->m, FS_MEM_OP_WRITE, 1, 1, ENOSPC);
    assert_int_equal(logw_write(x->w, "a\n", 2, T0, &e), -1);
    assert_int_equal(logw_write(x->w, "b\n", 2, T0 + 1000000000, &e), 0);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "1795386838.123456789 0 a\n1795386839.123456789 1 b\n");
    free(d);
    fx_free(x);
}

static void test_logw_diskfull__overflow_drops_newest_with_notice(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw_cfg cfg = {
        .fs = fs_mem_fs(m), .dir = DIR, .base = BASE, .max_line = 16, .max_backlog = 200};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    fs_mem_set_capacity(m, 0);
    for (int i = 0; i < 10; i++) {
        char line[32];
        int l = snprintf(line, sizeof line, "L%05d-xxxxxxxx\n", i);
        assert_int_equal(logw_write(w, line, (size_t)l, 0, &e), -1);
    }
    struct logw_stats st = logw_stats(w);
    assert_int_equal(st.dropped_lines, 5);
    assert_int_equal(st.dropped_bytes, 80);
    assert_true(st.backlog_bytes <= 200);
    fs_mem_set_capacity(m, -1);
    wr(w, "after\n", 2000000000);
    char *d = get(m, CUR);
    assert_string_equal(d, "0.000000000 0 L00000-xxxxxxxx\n"
                           "0.000000000 1 L00001-xxxxxxxx\n"
                           "0.000000000 2 L00002-xxxxxxxx\n"
                           "0.000000000 3 L00003-xxxxxxxx\n"
                           "0.000000000 4 L00004-xxxxxxxx\n"
                           "2.000000000 10! logw: dropped 80 bytes in 5 lines while the disk "
                           "failed (No space left on device)\n"
                           "2.000000000 11 after\n");
    free(d);
    assert_int_equal(logw_stats(w).notices, 1);
    logw_close(w);
    fs_mem_free(m);
}

static void test_logw_diskfull__big_failed_batch_cut_to_backlog(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw_cfg cfg = {
        .fs = fs_mem_fs(m), .dir = DIR, .base = BASE, .max_line = 16, .max_backlog = 100};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    fs_mem_fail(m, FS_MEM_OP_WRITE, 1, 1, EIO);
    struct pod_buf b = {0};
    for (int i = 0; i < 10; i++)
        pod_buf_printf(&b, "L%05d-xxxxxxxx\n", i);
    assert_int_equal(logw_write(w, b.data, b.len, 0, &e), -1);
    pod_buf_free(&b);
    assert_int_equal(logw_stats(w).dropped_lines, 7);
    assert_int_equal(logw_retry(w, 5, &e), 0);
    char *d = get(m, CUR);
    assert_string_equal(d, "0.000000000 0 L00000-xxxxxxxx\n"
                           "0.000000000 1 L00001-xxxxxxxx\n"
                           "0.000000000 2 L00002-xxxxxxxx\n"
                           "0.000000005 10! logw: dropped 112 bytes in 7 lines while the disk "
                           "failed (Input/output error)\n");
    free(d);
    logw_close(w);
    fs_mem_free(m);
}

static void test_logw_rotate__failed_step_is_retried(void **state)
{
    (void)state;
    static const enum fs_mem_op ops[] = {FS_MEM_OP_FSYNC, FS_MEM_OP_RENAME, FS_MEM_OP_OPEN};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        struct fx *x = fx_new(100, 100, 16);
        struct pod_err e = POD_ERR_ZERO;
        write_lines(x->w, 0, 3, 3, 0); /* the file is full */
        fs_mem_fail(x->m, ops[i], 1, 2, EIO);
        char line[] = "L00003-xxxxxxxx\n";
        assert_int_equal(logw_write(x->w, line, sizeof line - 1, 0, &e), -1);
        assert_int_equal(logw_retry(x->w, 1, &e), -1); /* fails a second time */
        assert_int_equal(logw_retry(x->w, 2, &e), 0);  /* resumes from the failed step */
        assert_int_equal(logw_stats(x->w).rotations, 1);
        assert_int_equal(logw_stats(x->w).write_errors, 2);
        size_t n = 0;
        int *nums = all_nums(x->m, 100, &n);
        assert_int_equal(n, 4);
        for (int j = 0; j < 4; j++)
            assert_int_equal(nums[j], j);
        free(nums);
        fx_free(x);
    }
}

static void test_logw_rotate__close_and_trim_failures_do_not_block(void **state)
{
    (void)state;
    struct fx *x = fx_new(100, 1, 16);
    fs_mem_fail(x->m, FS_MEM_OP_CLOSE, 1, 1, EIO);
    fs_mem_fail(x->m, FS_MEM_OP_UNLINK, 1, 0, EIO);
    write_lines(x->w, 0, 12, 1, 0); /* every write succeeds (asserted inside) */
    struct logw_stats st = logw_stats(x->w);
    assert_int_equal(st.rotations, 3);
    assert_true(st.write_errors >= 2);
    assert_false(st.failing);
    char **files = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(files), 4); /* trim could not delete */
    pod_strv_free(files);
    fs_mem_fail_clear(x->m);
    write_lines(x->w, 12, 1, 1, 0);
    files = fs_mem_files(x->m);
    assert_int_equal(pod_strv_len(files), 2); /* current + 1 rotated file */
    pod_strv_free(files);
    fx_free(x);
}

static void test_logw_open__unusable_dir_then_recovers_and_renumbers(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    fs_mem_put(m, CUR, "1.000000000 5 old\n", 18, true);
    fs_mem_fail(m, FS_MEM_OP_LIST, 1, 1, EACCES);
    struct logw_cfg cfg = {.fs = fs_mem_fs(m), .dir = DIR, .base = BASE};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    assert_true(logw_stats(w).failing);
    assert_non_null(strstr(logw_last_error(w), "list"));
    assert_int_equal(logw_write(w, "a\n", 2, 500000000, &e), -1); /* queued, numbered 0 */
    assert_int_equal(logw_retry(w, 600000000, &e), 0);
    char *d = get(m, CUR);
    assert_string_equal(d, "1.000000000 5 old\n0.500000000 6 a\n");
    free(d);
    logw_close(w);
    fs_mem_free(m);
}

static void test_logw_write__lost_handle_is_reopened(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    wr(x->w, "a\n", 1);
    fs_mem_set_crash_mode(x->m, FS_MEM_CRASH_KEEP);
    fs_mem_crash(x->m); /* closes every handle under the live writer */
    assert_int_equal(logw_write(x->w, "b\n", 2, 2, &e), -1);
    assert_int_equal(e.sys_errno, EBADF);
    assert_int_equal(logw_retry(x->w, 3, &e), 0);
    wr(x->w, "c\n", 4);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "0.000000001 0 a\n0.000000002 1 b\n0.000000004 2 c\n");
    free(d);
    fx_free(x);
}

/* A file system that dies under the live writer (every call EIO, as after ext4's shutdown or a
 * journal abort) and is then replaced by an empty one (the log directory remounted): the writer
 * gives up the dead handle, opens the new directory's file and goes on with seq where it was
 * (the dropped lines' seq stays used).  With the old handle kept it would write on into the
 * dead (here: unlinked) file forever.  SPEC 9.5. */
static void test_logw_eio__dead_fs_replaced_reopens_and_keeps_seq(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct logw_cfg cfg = {
        .fs = fs_mem_fs(m), .dir = DIR, .base = BASE, .max_line = 16, .max_backlog = 100};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    wr(w, "a\n", 1);
    uint64_t opens = fs_mem_calls(m, FS_MEM_OP_OPEN);
    fs_mem_fail(m, FS_MEM_OP_ANY, 1, 0, EIO);
    struct pod_buf b = {0};
    for (int i = 0; i < 10; i++)
        pod_buf_printf(&b, "L%05d-xxxxxxxx\n", i);
    assert_int_equal(logw_write(w, b.data, b.len, 2, &e), -1);
    pod_buf_free(&b);
    assert_int_equal(e.sys_errno, EIO);
    assert_int_equal(fs_mem_open_handles(m), 0); /* the dead handle is closed */
    assert_int_equal(logw_retry(w, 3, &e), -1);  /* still dead: recovery fails, nothing lost */
    struct logw_stats st = logw_stats(w);
    assert_true(st.failing);
    assert_int_equal(st.dropped_lines, 7);
    /* the "new disk": the old file is gone, the calls work again */
    fs_mem_fail_clear(m);
    struct fs f = fs_mem_fs(m);
    assert_int_equal(fs_unlink(&f, CUR, &e), 0);
    assert_int_equal(logw_retry(w, 4, &e), 0);
    assert_true(fs_mem_calls(m, FS_MEM_OP_OPEN) > opens);
    wr(w, "after\n", 5);
    char *d = get(m, CUR);
    assert_string_equal(d, "0.000000002 1 L00000-xxxxxxxx\n"
                           "0.000000002 2 L00001-xxxxxxxx\n"
                           "0.000000002 3 L00002-xxxxxxxx\n"
                           "0.000000004 11! logw: dropped 112 bytes in 7 lines while the disk "
                           "failed (Input/output error)\n"
                           "0.000000005 12 after\n");
    free(d);
    st = logw_stats(w);
    assert_false(st.failing);
    assert_int_equal(st.backlog_bytes, 0);
    assert_int_equal(fs_mem_open_handles(m), 1);
    logw_close(w);
    fs_mem_free(m);
}

/* A transient EIO on the same file system: the file is opened again, nothing is written twice
 * and seq goes on without a gap. */
static void test_logw_eio__transient_reopens_same_file(void **state)
{
    (void)state;
    struct fx *x = fx_new(0, 0, 0);
    struct pod_err e = POD_ERR_ZERO;
    wr(x->w, "a\nb\n", 1);
    fs_mem_fail(x->m, FS_MEM_OP_WRITE, 1, 2, EIO);
    assert_int_equal(logw_write(x->w, "c\n", 2, 2, &e), -1);
    assert_int_equal(logw_retry(x->w, 3, &e), -1);
    assert_int_equal(logw_retry(x->w, 4, &e), 0);
    wr(x->w, "d\n", 5);
    char *d = get(x->m, CUR);
    assert_string_equal(d, "0.000000001 0 a\n0.000000001 1 b\n0.000000002 2 c\n"
                           "0.000000005 3 d\n");
    free(d);
    struct logw_stats st = logw_stats(x->w);
    assert_int_equal(st.write_errors, 2);
    assert_int_equal(st.dropped_lines, 0);
    assert_int_equal(fs_mem_open_handles(x->m), 1);
    fx_free(x);
}

/* ---- on a real disk ---- */

static void test_logw_real__rotation_on_disk(void **state)
{
    (void)state;
    char tmpl[] = "/tmp/test_logw.XXXXXX";
    char *root = mkdtemp(tmpl);
    assert_non_null(root);
    char *dir = pod_path_join(root, "log");
    struct logw_cfg cfg = {.fs = fs_real(),
                           .dir = dir,
                           .base = BASE,
                           .max_bytes = 100,
                           .max_files = 2,
                           .max_line = 16};
    struct logw *w = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(logw_open(&cfg, &w, &e), 0);
    write_lines(w, 0, 20, 3, 0);
    assert_int_equal(logw_eof(w, 0, &e), 0);
    logw_close(w);
    char **paths = NULL;
    assert_int_equal(logw_files(&cfg.fs, dir, BASE, &paths, &e), 0);
    assert_int_equal(pod_strv_len(paths), 3);
    char *want = xasprintf("%s/%s.log.00000006", dir, BASE);
    assert_string_equal(paths[1], want);
    free(want);
    char *content = NULL;
    assert_int_equal(pod_read_file(paths[2], 1000, &content, NULL, &e), 0);
    assert_string_equal(content, "0.000000000 18 L00018-xxxxxxxx\n"
                                 "0.000000000 19 L00019-xxxxxxxx\n");
    free(content);
    for (size_t i = 0; paths[i]; i++)
        unlink(paths[i]);
    pod_strv_free(paths);
    rmdir(dir);
    rmdir(root);
    free(dir);
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
    assert_int_equal(r.ts_wall_ns, T0);
    assert_int_equal(r.seq, 42);
    assert_int_equal(r.mark, '+');
    assert_int_equal(r.msg_len, 5);
    assert_memory_equal(r.msg, "msg x", 5);
    l = "1795386838 3 original podc";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.ts_wall_ns, (int64_t)1795386838 * 1000000000);
    assert_int_equal(r.mark, 0);
    l = "1.5 0! n";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.ts_wall_ns, 1500000000);
    assert_int_equal(r.mark, '!');
    l = "1 0 ";
    assert_true(logw_parse_line(l, strlen(l), &r));
    assert_int_equal(r.msg_len, 0);
    const char *bad[] = {"",      "x 0 m",  "1 x m",           "1 0", "1 0m", "1. 0 m",
                         "1 0+m", "-1 0 m", "1.1234567891 0 m"};
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
    c.max_files = 0;
    c.sync = (enum logw_sync)7;
    assert_int_equal(logw_open(&c, &w, &e), -1);
    assert_int_equal(e.code, POD_E_INVALID);
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
        cmocka_unit_test(test_logw_rotate__at_line_boundaries_and_names),
        cmocka_unit_test(test_logw_rotate__only_when_next_record_does_not_fit),
        cmocka_unit_test(test_logw_rotate__retention_keeps_newest),
        cmocka_unit_test(test_logw_rotate__names_never_collide),
        cmocka_unit_test(test_logw_crash__power_loss_after_each_call),
        cmocka_unit_test(test_logw_crash__torn_tail_after_each_call),
        cmocka_unit_test(test_logw_crash__process_crash_after_each_call),
        cmocka_unit_test(test_logw_crash__with_retention_after_each_call),
        cmocka_unit_test(test_logw_crash__sync_none_after_each_call),
        cmocka_unit_test(test_logw_sync__none_never_fsyncs_on_its_own),
        cmocka_unit_test(test_logw_sync__rotate_one_dir_sync_per_rotation),
        cmocka_unit_test(test_logw_sync__dir_synced_between_rename_and_create),
        cmocka_unit_test(test_logw_sync__writeback_every_n_bytes),
        cmocka_unit_test(test_logw_write__seq_rolls_over_digits),
        cmocka_unit_test(test_logw_open__torn_tail_repaired_and_reported),
        cmocka_unit_test(test_logw_open__seq_and_numbering_from_archives),
        cmocka_unit_test(test_logw_diskfull__backlog_kept_and_retried),
        cmocka_unit_test(test_logw_diskfull__write_retries_after_cooldown),
        cmocka_unit_test(test_logw_diskfull__overflow_drops_newest_with_notice),
        cmocka_unit_test(test_logw_diskfull__big_failed_batch_cut_to_backlog),
        cmocka_unit_test(test_logw_rotate__failed_step_is_retried),
        cmocka_unit_test(test_logw_rotate__close_and_trim_failures_do_not_block),
        cmocka_unit_test(test_logw_open__unusable_dir_then_recovers_and_renumbers),
        cmocka_unit_test(test_logw_write__lost_handle_is_reopened),
        cmocka_unit_test(test_logw_eio__dead_fs_replaced_reopens_and_keeps_seq),
        cmocka_unit_test(test_logw_eio__transient_reopens_same_file),
        cmocka_unit_test(test_logw_real__rotation_on_disk),
        cmocka_unit_test(test_logw_open__seq_continues_after_reopen),
        cmocka_unit_test(test_logw_parse_line__forms),
        cmocka_unit_test(test_logw_open__bad_config),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
