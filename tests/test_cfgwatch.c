/* SPDX-License-Identifier: MIT */
/* test_cfgwatch.c - config change detection (src/daemon/cfgwatch.c) with real files on a real
 * loop: a same-size edit, a new nested directory then a file in it, a directory replaced by a
 * rename (and swapped with RENAME_EXCHANGE), deletions, the checksum file, config/ replaced or
 * missing, many files, an inotify queue overflow (forced with more events than the queue
 * holds), and the checksum polling fallback (forced, and by running out of watches). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pod/cfgwatch.h"
#include "pod/util.h"

#define V1 3 /* spec index of cfg1 */
#define V2 5 /* spec index of cfg2 */

struct ev {
    size_t vol;
    bool txt, has;
};

struct fx {
    char dir[64];
    struct loop *loop;
    struct cfgwatch *w;
    struct ev ev[256];
    size_t n;
};

static void on_change(void *arg, size_t vol, bool txt, bool has)
{
    struct fx *f = arg;
    if (f->n < 256)
        f->ev[f->n++] = (struct ev){vol, txt, has};
}

static void sh(const struct fx *f, const char *fmt, ...) POD_PRINTF(2, 3);
static void sh(const struct fx *f, const char *fmt, ...)
{
    struct pod_buf b = {0};
    pod_buf_printf(&b, "cd '%s' && ", f->dir);
    va_list ap;
    va_start(ap, fmt);
    pod_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    assert_int_equal(system(b.data), 0);
    pod_buf_free(&b);
}

static void put(const struct fx *f, const char *rel, const char *text)
{
    char *p = xasprintf("%s/%s", f->dir, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(p);
}

static struct fx *fx_new(bool with_config)
{
    struct fx *f = xcalloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/tdm-cfg-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    if (with_config) {
        sh(f, "mkdir -p config/cfg1/sub config/cfg2");
        put(f, "config/cfg1/a", "bbbb");
        put(f, "config/cfg1/sub/b", "x");
        put(f, "config/cfg2/c", "y");
    }
    struct pod_err err = POD_ERR_ZERO;
    f->loop = loop_new(&err);
    return f;
}

static void fx_watch(struct fx *f, bool force_poll, size_t max_watches)
{
    static const struct cfgwatch_vol vols[] = {{V1, "cfg1"}, {V2, "cfg2"}};
    struct cfgwatch_cfg c = {.loop = f->loop,
                             .clk = &clk_real,
                             .dir = f->dir,
                             .vols = vols,
                             .n = 2,
                             .fn = on_change,
                             .arg = f,
                             .poll_ms = 100,
                             .force_poll = force_poll,
                             .max_watches = max_watches};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(cfgwatch_new(&c, &f->w, &err), 0);
}

static void fx_free(struct fx *f)
{
    cfgwatch_free(f->w);
    loop_free(f->loop);
    char *cmd = xasprintf("rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(f);
}

/* Runs the loop until at least one callback came and then nothing for quiet_ms, or until
 * max_ms.  Returns the callbacks seen (kept in f->ev from index 0). */
static size_t settle(struct fx *f, int64_t quiet_ms, int64_t max_ms)
{
    f->n = 0;
    struct pod_err err = POD_ERR_ZERO;
    int64_t t0 = clk_mono_ms(&clk_real), last = t0;
    size_t seen = 0;
    for (;;) {
        int64_t now = clk_mono_ms(&clk_real);
        if (now - t0 >= max_ms || (f->n > 0 && now - last >= quiet_ms))
            break;
        int64_t dl = cfgwatch_next_deadline(f->w);
        int64_t soon = now + 20;
        assert_true(loop_run_once(f->loop, &clk_real, dl < soon ? dl : soon, &err) >= 0);
        cfgwatch_run(f->w);
        if (f->n != seen) {
            seen = f->n;
            last = clk_mono_ms(&clk_real);
        }
    }
    return f->n;
}

static bool saw(const struct fx *f, size_t vol, bool txt)
{
    for (size_t i = 0; i < f->n; i++)
        if (f->ev[i].vol == vol && f->ev[i].txt == txt)
            return true;
    return false;
}

static bool saw_vol(const struct fx *f, size_t vol)
{
    return saw(f, vol, false) || saw(f, vol, true);
}

/* ------------------------------------------------------------------ inotify */

static void test_cfgwatch__same_size_edit(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    assert_false(cfgwatch_polling(f->w));
    assert_int_equal(cfgwatch_next_deadline(f->w), INT64_MAX); /* no timer: idle is idle */
    assert_int_equal(settle(f, 50, 150), 0);
    put(f, "config/cfg1/a", "aaaa");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    assert_false(saw_vol(f, V2));
    assert_false(f->ev[0].has);
    fx_free(f);
}

static void test_cfgwatch__new_nested_dir_then_file(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    sh(f, "mkdir config/cfg2/new");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V2, false));
    put(f, "config/cfg2/new/file", "1");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V2, false));
    /* a whole tree at once: the deepest directory is watched too */
    sh(f, "mkdir -p config/cfg2/x/y/z && echo 1 > config/cfg2/x/y/z/f");
    assert_true(settle(f, 50, 2000) >= 1);
    put(f, "config/cfg2/x/y/z/f", "2");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V2, false));
    assert_false(saw_vol(f, V1));
    fx_free(f);
}

static void test_cfgwatch__dir_replaced_by_rename(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    sh(f, "mkdir config/cfg1.new && echo new > config/cfg1.new/a");
    assert_int_equal(settle(f, 50, 200), 0); /* a sibling is none of our business */
    sh(f, "mv config/cfg1 config/cfg1.old && mv config/cfg1.new config/cfg1");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    put(f, "config/cfg1/a", "newer");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    put(f, "config/cfg1.old/a", "stale"); /* the old tree is not watched any more */
    put(f, "config/cfg1.old/sub/b", "stale");
    assert_int_equal(settle(f, 50, 300), 0);
    /* swapped with RENAME_EXCHANGE */
    char *p1 = xasprintf("%s/config/cfg1", f->dir), *p2 = xasprintf("%s/config/cfg1.old", f->dir);
    assert_int_equal(renameat2(AT_FDCWD, p1, AT_FDCWD, p2, RENAME_EXCHANGE), 0);
    free(p1);
    free(p2);
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    put(f, "config/cfg1/sub/b", "back"); /* the swapped-in tree, subdirectories included */
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    fx_free(f);
}

static void test_cfgwatch__deletion(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    sh(f, "rm config/cfg1/sub/b");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    sh(f, "rmdir config/cfg1/sub");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    sh(f, "rm -rf config/cfg1");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    sh(f, "mkdir config/cfg1");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    put(f, "config/cfg1/back", "1");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    assert_false(saw_vol(f, V2));
    fx_free(f);
}

static void test_cfgwatch__checksum_file(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    put(f, "config/cfg1.txt", "sum1");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, true));
    assert_false(saw(f, V1, false));
    assert_true(f->ev[0].has);
    put(f, "config/cfg1/a", "cccc");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false));
    assert_true(f->ev[0].has); /* cluster-managed now */
    sh(f, "rm config/cfg1.txt");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, true));
    assert_false(f->ev[f->n - 1].has);
    put(f, "config/other.txt", "x"); /* not a volume of ours */
    put(f, "config/cfg1.txt.tmp", "x");
    assert_int_equal(settle(f, 50, 300), 0);
    fx_free(f);
}

static void test_cfgwatch__config_dir_replaced_or_missing(void **state)
{
    (void)state;
    struct fx *f = fx_new(false);
    fx_watch(f, false, 0);
    assert_int_equal(cfgwatch_watches(f->w), 1); /* the pod directory, for `config` */
    sh(f, "mkdir -p config.new/cfg2 && echo 1 > config.new/cfg2/c && mv config.new config");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V2, false));
    put(f, "config/cfg2/c", "2");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V2, false));
    /* the status file the daemon rewrites does not wake the watcher up */
    put(f, ".pod.status.tmp", "x");
    sh(f, "mv .pod.status.tmp .pod.status");
    assert_int_equal(settle(f, 50, 200), 0);
    /* config/ replaced whole */
    sh(f, "mkdir -p c2/cfg1 && echo z > c2/cfg1/a && mv config config.old && mv c2 config");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V1, false) && saw(f, V2, false));
    put(f, "config/cfg1/a", "zz");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V1, false));
    fx_free(f);
}

static void test_cfgwatch__many_files(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    sh(f, "cd config/cfg2 && for d in $(seq 1 50); do mkdir d$d; for i in $(seq 1 40); do "
          "echo $i > d$d/f$i; done; done");
    fx_watch(f, false, 0);
    assert_int_equal(cfgwatch_watches(f->w), 1 + 2 + 1 + 50);
    put(f, "config/cfg2/d37/f12", "13");
    assert_true(settle(f, 50, 2000) >= 1);
    assert_true(saw(f, V2, false));
    assert_true(f->n <= 2); /* coalesced */
    sh(f, "cd config/cfg2 && for i in $(seq 1 500); do echo $i > new$i; done");
    assert_true(settle(f, 100, 5000) >= 1);
    assert_true(f->n < 100);
    for (size_t i = 0; i < f->n; i++)
        assert_int_equal(f->ev[i].vol, V2);
    fx_free(f);
}

static long max_queued(void)
{
    FILE *q = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
    long n = 16384;
    if (q) {
        if (fscanf(q, "%ld", &n) != 1)
            n = 16384;
        fclose(q);
    }
    return n;
}

static void test_cfgwatch__queue_overflow(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 0);
    put(f, "config/cfg1/a", "dddd"); /* cfg1 changes, is reported, and has a stale checksum */
    assert_true(settle(f, 50, 2000) >= 1);
    /* more events than the queue holds, while the loop does not read: IN_Q_OVERFLOW */
    long files = max_queued() + 200; /* removing them: one event each */
    sh(f, "cd config/cfg2 && seq -f m%%.0f 1 %ld | xargs touch", files);
    assert_true(settle(f, 100, 10000) >= 1);
    assert_int_equal(cfgwatch_overflows(f->w), 1);
    assert_false(cfgwatch_polling(f->w));
    assert_true(saw(f, V2, false));
    /* after the overflow, inotify goes on */
    put(f, "config/cfg2/m1", "x");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V2, false));
    assert_false(saw_vol(f, V1));
    /* an overflow with nothing changed in a volume since its checksums reports nothing there */
    sh(f, "cd config/cfg2 && seq -f m%%.0f 1 %ld | xargs rm", files);
    assert_true(settle(f, 100, 10000) >= 1);
    assert_int_equal(cfgwatch_overflows(f->w), 2);
    assert_true(saw(f, V2, false));
    assert_false(saw_vol(f, V1));
    fx_free(f);
}

/* ------------------------------------------------------------------ polling */

static void poll_cases(struct fx *f)
{
    assert_true(cfgwatch_polling(f->w));
    assert_true(cfgwatch_next_deadline(f->w) != INT64_MAX);
    assert_int_equal(settle(f, 50, 350), 0);
    /* same size, and the mtime put back: only the content tells */
    struct stat st;
    char *a = xasprintf("%s/config/cfg1/a", f->dir);
    assert_int_equal(stat(a, &st), 0);
    put(f, "config/cfg1/a", "eeee");
    struct timespec ts[2] = {st.st_atim, st.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, a, ts, 0), 0);
    free(a);
    assert_true(settle(f, 50, 1000) >= 1);
    assert_true(saw(f, V1, false));
    assert_false(saw_vol(f, V2));
    sh(f, "mkdir -p config/cfg2/n/m && echo 1 > config/cfg2/n/m/f");
    assert_true(settle(f, 50, 1000) >= 1 && saw(f, V2, false));
    put(f, "config/cfg2.txt", "sum");
    assert_true(settle(f, 50, 1000) >= 1);
    assert_true(saw(f, V2, true));
    assert_false(saw(f, V2, false));
    assert_true(f->ev[0].has);
    sh(f, "rm -rf config/cfg2/n");
    assert_true(settle(f, 50, 1000) >= 1 && saw(f, V2, false));
    assert_int_equal(settle(f, 50, 350), 0); /* nothing changed: nothing reported */
}

static void test_cfgwatch__poll_fallback_forced(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, true, 0);
    poll_cases(f);
    fx_free(f);
}

static void test_cfgwatch__out_of_watches_falls_back(void **state)
{
    (void)state;
    struct fx *f = fx_new(true);
    fx_watch(f, false, 4); /* config, cfg1, cfg1/sub, cfg2: exactly enough */
    assert_false(cfgwatch_polling(f->w));
    sh(f, "mkdir config/cfg2/one-too-many");
    assert_true(settle(f, 50, 2000) >= 1 && saw(f, V2, false));
    assert_true(cfgwatch_polling(f->w));
    poll_cases(f);
    fx_free(f);
}

int main(void)
{
    pod_log_set_level(0);
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_cfgwatch__same_size_edit),
        cmocka_unit_test(test_cfgwatch__new_nested_dir_then_file),
        cmocka_unit_test(test_cfgwatch__dir_replaced_by_rename),
        cmocka_unit_test(test_cfgwatch__deletion),
        cmocka_unit_test(test_cfgwatch__checksum_file),
        cmocka_unit_test(test_cfgwatch__config_dir_replaced_or_missing),
        cmocka_unit_test(test_cfgwatch__many_files),
        cmocka_unit_test(test_cfgwatch__queue_overflow),
        cmocka_unit_test(test_cfgwatch__poll_fallback_forced),
        cmocka_unit_test(test_cfgwatch__out_of_watches_falls_back),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
