/* SPDX-License-Identifier: MIT */
/* test_fs.c - the file-system seam: fs_real in a temporary directory, fs_mem's model and each
 * fault-injection knob (failing calls, capacity, crash modes, crash points, reboot). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>
#include <unistd.h>

#include "../sim/fs_mem.h"
#include "pod/fs.h"
#include "pod/util.h"

static char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/test_fs.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return xstrdup(d);
}

static void rm_rf(const char *dir)
{
    struct fs f = fs_real();
    char **names = NULL;
    struct pod_err e = POD_ERR_ZERO;
    if (fs_list(&f, dir, &names, &e) == 0) {
        for (size_t i = 0; names[i]; i++) {
            char *p = pod_path_join(dir, names[i]);
            if (unlink(p) < 0)
                rm_rf(p);
            free(p);
        }
        pod_strv_free(names);
    }
    rmdir(dir);
}

static void check_content(const struct fs *f, const char *path, const char *want)
{
    char buf[256];
    size_t got = 0;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(fs_read_at(f, path, 0, buf, sizeof buf - 1, &got, &e), 0);
    buf[got] = '\0';
    assert_string_equal(buf, want);
}

/* The same behaviour checks, run against both implementations. */
static void common_ops(const struct fs *f, const char *root)
{
    struct pod_err e = POD_ERR_ZERO;
    char *dir = pod_path_join(root, "a/b");
    char *p1 = pod_path_join(dir, "one.log");
    char *p2 = pod_path_join(dir, "two.log");
    assert_int_equal(fs_mkdir_p(f, dir, &e), 0);
    assert_int_equal(fs_mkdir_p(f, dir, &e), 0); /* idempotent */
    int h = fs_open_append(f, p1, &e);
    assert_true(h >= 0);
    assert_int_equal(fs_write(f, h, "hello\n", 6, &e), 6);
    assert_int_equal(fs_fsync(f, h, &e), 0);
    assert_int_equal(fs_close(f, h, &e), 0);
    h = fs_open_append(f, p1, &e); /* appends */
    assert_true(h >= 0);
    assert_int_equal(fs_write(f, h, "world\n", 6, &e), 6);
    assert_int_equal(fs_close(f, h, &e), 0);
    check_content(f, p1, "hello\nworld\n");
    int64_t size = -1;
    assert_int_equal(fs_stat_size(f, p1, &size, &e), 0);
    assert_int_equal(size, 12);
    char buf[8];
    size_t got = 0;
    assert_int_equal(fs_read_at(f, p1, 6, buf, 3, &got, &e), 0);
    assert_int_equal(got, 3);
    assert_memory_equal(buf, "wor", 3);
    assert_int_equal(fs_read_at(f, p1, 100, buf, 3, &got, &e), 0);
    assert_int_equal(got, 0);

    assert_int_equal(fs_rename(f, p1, p2, &e), 0);
    assert_int_equal(fs_stat_size(f, p1, &size, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    check_content(f, p2, "hello\nworld\n");
    /* rename replaces an existing target */
    h = fs_open_append(f, p1, &e);
    assert_true(h >= 0);
    assert_int_equal(fs_write(f, h, "x", 1, &e), 1);
    assert_int_equal(fs_close(f, h, &e), 0);
    assert_int_equal(fs_rename(f, p1, p2, &e), 0);
    check_content(f, p2, "x");

    h = fs_open_append(f, p1, &e);
    assert_true(h >= 0);
    assert_int_equal(fs_close(f, h, &e), 0);
    char **names = NULL;
    assert_int_equal(fs_list(f, dir, &names, &e), 0);
    assert_int_equal(pod_strv_len(names), 2);
    assert_string_equal(names[0], "one.log");
    assert_string_equal(names[1], "two.log");
    pod_strv_free(names);
    char *ad = pod_path_join(root, "a");
    assert_int_equal(fs_list(f, ad, &names, &e), 0);
    assert_int_equal(pod_strv_len(names), 1);
    assert_string_equal(names[0], "b");
    pod_strv_free(names);
    free(ad);

    assert_int_equal(fs_unlink(f, p1, &e), 0);
    assert_int_equal(fs_unlink(f, p1, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    assert_int_equal(fs_rename(f, p1, p2, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    char *nodir = pod_path_join(root, "nodir/x.log");
    assert_int_equal(fs_open_append(f, nodir, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    free(nodir);
    char *missing = pod_path_join(root, "missing");
    assert_int_equal(fs_list(f, missing, &names, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    /* sync_dir on a directory; writeback (a hint) on a live handle */
    assert_int_equal(fs_sync_dir(f, dir, &e), 0);
    assert_int_equal(fs_sync_dir(f, missing, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    h = fs_open_append(f, p2, &e);
    assert_true(h >= 0);
    assert_int_equal(fs_write(f, h, "y", 1, &e), 1);
    assert_int_equal(fs_writeback(f, h, &e), 0);
    assert_int_equal(fs_close(f, h, &e), 0);
    check_content(f, p2, "xy");
    free(missing);
    free(dir);
    free(p1);
    free(p2);
}

static void test_fs_real__ops(void **state)
{
    (void)state;
    char *root = tmpdir_new();
    struct fs f = fs_real();
    common_ops(&f, root);
    rm_rf(root);
    free(root);
}

static void test_fs_real__bad_handle(void **state)
{
    (void)state;
    struct fs f = fs_real();
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(fs_write(&f, 12345, "x", 1, &e), -1);
    assert_int_equal(e.sys_errno, EBADF);
    assert_int_equal(fs_fsync(&f, 12345, &e), -1);
    assert_int_equal(fs_writeback(&f, 12345, &e), -1);
    assert_int_equal(e.sys_errno, EBADF);
}

/* sync_dir and writeback are optional ops: a table without them gets a no-op. */
static void test_fs__optional_ops_default_to_noop(void **state)
{
    (void)state;
    struct fs_ops ops = fs_real_ops;
    ops.sync_dir = NULL;
    ops.writeback = NULL;
    struct fs f = {&ops, NULL};
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(fs_sync_dir(&f, "/nonexistent/dir", &e), 0);
    assert_int_equal(fs_writeback(&f, 12345, &e), 0);
}

static void test_fs_mem__ops(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    common_ops(&f, "/r");
    char **files = fs_mem_files(m);
    assert_int_equal(pod_strv_len(files), 1);
    assert_string_equal(files[0], "/r/a/b/two.log");
    pod_strv_free(files);
    assert_int_equal(fs_mem_open_handles(m), 0);
    fs_mem_free(m);
    fs_mem_free(NULL);
}

static void test_fs_mem__fail_nth_and_count(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    struct pod_err e = POD_ERR_ZERO;
    int h = fs_open_append(&f, "x", &e);
    assert_true(h >= 0);
    fs_mem_fail(m, FS_MEM_OP_WRITE, 2, 2, ENOSPC); /* the 2nd and 3rd writes from now fail */
    assert_int_equal(fs_write(&f, h, "a", 1, &e), 1);
    assert_int_equal(fs_write(&f, h, "b", 1, &e), -1);
    assert_int_equal(e.sys_errno, ENOSPC);
    assert_int_equal(fs_write(&f, h, "c", 1, &e), -1);
    assert_int_equal(fs_write(&f, h, "d", 1, &e), 1);
    char *d = NULL;
    assert_int_equal(fs_mem_get(m, "x", &d, NULL), 0);
    assert_string_equal(d, "ad"); /* failures change nothing */
    free(d);
    /* count 0 = forever, until cleared; FS_MEM_OP_ANY hits every kind */
    fs_mem_fail(m, FS_MEM_OP_ANY, 1, 0, EIO);
    for (int i = 0; i < 5; i++)
        assert_int_equal(fs_fsync(&f, h, &e), -1);
    int64_t size;
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), -1);
    assert_int_equal(e.sys_errno, EIO);
    fs_mem_fail_clear(m);
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), 0);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_WRITE), 4);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_FSYNC), 5);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_ANY), 1 + 4 + 5 + 2);
    /* every kind can be failed */
    for (int op = 0; op < FS_MEM_OP_COUNT_; op++) {
        fs_mem_fail(m, (enum fs_mem_op)op, 1, 1, EACCES);
    }
    assert_int_equal(fs_open_append(&f, "y", &e), -1);
    assert_int_equal(fs_write(&f, h, "z", 1, &e), -1);
    assert_int_equal(fs_fsync(&f, h, &e), -1);
    assert_int_equal(fs_rename(&f, "x", "y", &e), -1);
    assert_int_equal(fs_unlink(&f, "x", &e), -1);
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), -1);
    char **names = NULL;
    assert_int_equal(fs_list(&f, ".", &names, &e), -1);
    assert_int_equal(fs_mkdir_p(&f, "dd", &e), -1);
    char buf[4];
    size_t got;
    assert_int_equal(fs_read_at(&f, "x", 0, buf, 1, &got, &e), -1);
    assert_int_equal(e.sys_errno, EACCES);
    assert_int_equal(fs_sync_dir(&f, ".", &e), -1);
    assert_int_equal(e.sys_errno, EACCES);
    assert_int_equal(fs_writeback(&f, h, &e), -1);
    assert_int_equal(e.sys_errno, EACCES);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_SYNCDIR), 1);
    assert_int_equal(fs_mem_calls(m, FS_MEM_OP_WRITEBACK), 1);
    /* close reports the failure but releases the handle (close(2) on Linux) */
    assert_int_equal(fs_close(&f, h, &e), -1);
    assert_int_equal(fs_mem_open_handles(m), 0);
    assert_int_equal(fs_close(&f, h, &e), -1);
    assert_int_equal(e.sys_errno, EBADF);
    fs_mem_free(m);
}

static void test_fs_mem__capacity_enospc(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    struct pod_err e = POD_ERR_ZERO;
    fs_mem_set_capacity(m, 10);
    int h = fs_open_append(&f, "x", &e);
    assert_int_equal(fs_write(&f, h, "12345678", 8, &e), 8);
    assert_int_equal(fs_write(&f, h, "abc", 3, &e), -1); /* all or nothing */
    assert_int_equal(e.sys_errno, ENOSPC);
    assert_int_equal(fs_mem_used(m), 8);
    assert_int_equal(fs_write(&f, h, "ab", 2, &e), 2);
    assert_int_equal(fs_close(&f, h, &e), 0);
    /* deleting frees space */
    assert_int_equal(fs_unlink(&f, "x", &e), 0);
    assert_int_equal(fs_mem_used(m), 0);
    h = fs_open_append(&f, "y", &e);
    assert_int_equal(fs_write(&f, h, "0123456789", 10, &e), 10);
    fs_mem_set_capacity(m, -1);
    assert_int_equal(fs_write(&f, h, "more", 4, &e), 4);
    assert_int_equal(fs_close(&f, h, &e), 0);
    fs_mem_free(m);
}

static void write_two(struct fs_mem *m, struct fs *f)
{
    struct pod_err e = POD_ERR_ZERO;
    int h = fs_open_append(f, "d/x", &e);
    assert_true(h >= 0);
    assert_int_equal(fs_write(f, h, "synced\n", 7, &e), 7);
    assert_int_equal(fs_fsync(f, h, &e), 0);
    assert_int_equal(fs_write(f, h, "unsynced\n", 9, &e), 9);
    assert_int_equal(fs_mem_synced_len(m, "d/x"), 7);
}

static void test_fs_mem__crash_modes(void **state)
{
    (void)state;
    static const struct {
        enum fs_mem_crash_mode mode;
        const char *want;
    } cases[] = {
        {FS_MEM_CRASH_DROP, "synced\n"},
        {FS_MEM_CRASH_TORN, "synced\nunsy"},
        {FS_MEM_CRASH_KEEP, "synced\nunsynced\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fs_mem *m = fs_mem_new();
        struct fs f = fs_mem_fs(m);
        struct pod_err e = POD_ERR_ZERO;
        assert_int_equal(fs_mkdir_p(&f, "d", &e), 0);
        fs_mem_set_crash_mode(m, cases[i].mode);
        write_two(m, &f);
        /* a renamed file keeps its content and its unsynced part; renames are durable */
        assert_int_equal(fs_rename(&f, "d/x", "d/y", &e), 0);
        fs_mem_crash(m);
        assert_int_equal(fs_mem_open_handles(m), 0);
        char *d = NULL;
        assert_int_equal(fs_mem_get(m, "d/x", &d, NULL), -1);
        assert_int_equal(fs_mem_get(m, "d/y", &d, NULL), 0);
        assert_string_equal(d, cases[i].want);
        free(d);
        /* still usable after fs_mem_crash; the old handle is dead (handles are not reused) */
        int h = fs_open_append(&f, "d/y", &e);
        assert_true(h >= 0);
        assert_int_equal(fs_write(&f, 3, "z", 1, &e), -1);
        assert_int_equal(e.sys_errno, EBADF);
        assert_int_equal(fs_close(&f, h, &e), 0);
        fs_mem_free(m);
    }
}

static void test_fs_mem__crash_at_exact_point(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    struct pod_err e = POD_ERR_ZERO;
    fs_mem_crash_at(m, 3);
    int h = fs_open_append(&f, "x", &e);
    assert_int_equal(fs_write(&f, h, "ab", 2, &e), 2);
    assert_false(fs_mem_is_down(m));
    assert_int_equal(fs_write(&f, h, "cd", 2, &e), 2); /* the 3rd call completes, then crash */
    assert_true(fs_mem_is_down(m));
    assert_int_equal(fs_write(&f, h, "ef", 2, &e), -1);
    assert_int_equal(e.sys_errno, EIO);
    int64_t size;
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), -1);
    fs_mem_reboot(m);
    assert_false(fs_mem_is_down(m));
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), 0);
    assert_int_equal(size, 0); /* nothing was synced */
    assert_int_equal(fs_write(&f, h, "gh", 2, &e), -1);
    assert_int_equal(e.sys_errno, EBADF);
    /* crash_at(0) cancels */
    fs_mem_crash_at(m, 1);
    fs_mem_crash_at(m, 0);
    assert_int_equal(fs_stat_size(&f, "x", &size, &e), 0);
    assert_false(fs_mem_is_down(m));
    fs_mem_free(m);
}

static void test_fs_mem__unlinked_open_file_lives_until_closed(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    struct pod_err e = POD_ERR_ZERO;
    int h = fs_open_append(&f, "x", &e);
    assert_int_equal(fs_unlink(&f, "x", &e), 0);
    assert_int_equal(fs_write(&f, h, "abc", 3, &e), 3);
    assert_int_equal(fs_mem_used(m), 3);
    char **files = fs_mem_files(m);
    assert_int_equal(pod_strv_len(files), 0);
    pod_strv_free(files);
    assert_int_equal(fs_close(&f, h, &e), 0);
    assert_int_equal(fs_mem_used(m), 0);
    fs_mem_free(m);
}

static void test_fs_mem__put_and_paths(void **state)
{
    (void)state;
    struct fs_mem *m = fs_mem_new();
    struct fs f = fs_mem_fs(m);
    struct pod_err e = POD_ERR_ZERO;
    fs_mem_put(m, "p/q/r.txt", "abc", 3, false);
    assert_int_equal(fs_mem_synced_len(m, "p/q/r.txt"), 0);
    assert_int_equal(fs_mem_synced_len(m, "nope"), -1);
    int64_t size;
    assert_int_equal(fs_stat_size(&f, "p/q/r.txt", &size, &e), 0);
    assert_int_equal(size, 3);
    assert_int_equal(fs_open_append(&f, "p/q", &e), -1); /* a directory */
    assert_int_equal(e.sys_errno, EISDIR);
    assert_int_equal(fs_mkdir_p(&f, "p/q/r.txt", &e), -1); /* a file */
    assert_int_equal(e.sys_errno, ENOTDIR);
    assert_int_equal(fs_open_append(&f, "p//x", &e), -1);
    assert_int_equal(fs_open_append(&f, "p/../x", &e), -1);
    fs_mem_put(m, "p/q/r.txt", "z", 1, true);
    assert_int_equal(fs_mem_synced_len(m, "p/q/r.txt"), 1);
    fs_mem_free(m);
}

/* fs_real_beneath: the same contract for plain paths under the root. */
static void test_fs_real_beneath__ops(void **state)
{
    (void)state;
    char *root = tmpdir_new();
    struct fs_root *r = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(fs_root_open(root, &r, &e), 0);
    struct fs f = fs_real_beneath(r);
    common_ops(&f, root);
    fs_root_free(r);
    rm_rf(root);
    free(root);
}

static bool msg_has(const struct pod_err *e, const char *what)
{
    return strstr(e->msg, what) != NULL;
}

/* SPEC 7.5.1: a link anywhere below the root is refused, never followed or written through;
 * a FIFO is refused without blocking; a path outside the root is refused. */
static void test_fs_real_beneath__refuses_links_and_fifos(void **state)
{
    (void)state;
    char *root = tmpdir_new(), *victim = tmpdir_new();
    char *vfile = pod_path_join(victim, "keep");
    FILE *vf = fopen(vfile, "w");
    assert_non_null(vf);
    fputs("precious", vf);
    fclose(vf);
    struct fs_root *r = NULL;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(fs_root_open(root, &r, &e), 0);
    struct fs f = fs_real_beneath(r);
    char *log = pod_path_join(root, "log");
    char *inlog = pod_path_join(root, "log/x.log");
    char *keep = pod_path_join(root, "log/keep");
    /* log -> victim */
    assert_int_equal(symlink(victim, log), 0);
    assert_int_equal(fs_open_append(&f, inlog, &e), -1);
    assert_true(msg_has(&e, "`log` in the pod directory is a symbolic link: refused"));
    assert_int_equal(fs_mkdir_p(&f, log, &e), -1);
    assert_true(msg_has(&e, "symbolic link"));
    char **names = NULL;
    assert_int_equal(fs_list(&f, log, &names, &e), -1);
    int64_t size;
    assert_int_equal(fs_stat_size(&f, keep, &size, &e), -1);
    assert_int_equal(fs_unlink(&f, keep, &e), -1);
    char buf[16];
    size_t got;
    assert_int_equal(fs_read_at(&f, keep, 0, buf, sizeof buf, &got, &e), -1);
    char *top = pod_path_join(root, "top.log");
    int h = fs_open_append(&f, top, &e);
    assert_true(h >= 0);
    assert_int_equal(fs_close(&f, h, &e), 0);
    assert_int_equal(fs_rename(&f, top, keep, &e), -1); /* into the link: refused */
    assert_int_equal(fs_sync_dir(&f, log, &e), -1);
    /* log/x.log -> victim/keep (log a real directory) */
    assert_int_equal(unlink(log), 0);
    assert_int_equal(mkdir(log, 0755), 0);
    assert_int_equal(symlink(vfile, inlog), 0);
    assert_int_equal(fs_open_append(&f, inlog, &e), -1);
    assert_true(msg_has(&e, "`log/x.log` in the pod directory is a symbolic link"));
    assert_int_equal(fs_stat_size(&f, inlog, &size, &e), -1);
    assert_int_equal(fs_read_at(&f, inlog, 0, buf, sizeof buf, &got, &e), -1);
    /* rename over the link replaces the link, not its target */
    assert_int_equal(fs_rename(&f, top, inlog, &e), 0);
    /* a FIFO: refused at once, for append and for reading */
    char *fifo = pod_path_join(root, "log/f.log");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(fs_open_append(&f, fifo, &e), -1);
    assert_int_equal(fs_read_at(&f, fifo, 0, buf, sizeof buf, &got, &e), -1);
    assert_true(msg_has(&e, "fifo"));
    /* outside the root */
    assert_int_equal(fs_open_append(&f, vfile, &e), -1);
    assert_true(msg_has(&e, "outside the pod directory"));
    /* the plain fs_real refuses a link and a FIFO as the last component too */
    struct fs plain = fs_real();
    assert_int_equal(unlink(inlog), 0);
    assert_int_equal(symlink(vfile, inlog), 0);
    assert_int_equal(fs_open_append(&plain, inlog, &e), -1);
    assert_int_equal(fs_open_append(&plain, fifo, &e), -1);
    /* the victim is untouched */
    vf = fopen(vfile, "r");
    assert_non_null(vf);
    assert_non_null(fgets(buf, sizeof buf, vf));
    fclose(vf);
    assert_string_equal(buf, "precious");
    assert_int_equal(fs_list(&plain, victim, &names, &e), 0);
    assert_int_equal(pod_strv_len(names), 1);
    pod_strv_free(names);
    fs_root_free(r);
    free(fifo);
    free(top);
    free(keep);
    free(inlog);
    free(log);
    rm_rf(root);
    rm_rf(victim);
    free(vfile);
    free(root);
    free(victim);
}

/* The readers of the pod directory's files: no link, no FIFO, a size cap checked first. */
static void test_pod_read_file_at__limits(void **state)
{
    (void)state;
    char *root = tmpdir_new();
    int dfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    struct pod_err e = POD_ERR_ZERO;
    char *p = pod_path_join(root, ".pod.status");
    FILE *fp = fopen(p, "w");
    fputs("pid: 1\n", fp);
    fclose(fp);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(pod_read_file_at(dfd, ".pod.status", 64, &text, &len, &e), 0);
    assert_string_equal(text, "pid: 1\n");
    free(text);
    assert_int_equal(pod_read_file_at(dfd, ".pod.status", 3, &text, &len, &e), -1);
    assert_true(msg_has(&e, "`.pod.status` in the pod directory is larger than 3 bytes: refused"));
    assert_int_equal(pod_read_file_at(dfd, "missing", 64, &text, &len, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    char path[512];
    snprintf(path, sizeof path, "%s/.pod.state", root);
    assert_int_equal(symlink("/etc/hostname", path), 0);
    assert_int_equal(pod_read_file_at(dfd, ".pod.state", 64, &text, &len, &e), -1);
    assert_int_equal(e.code, POD_E_FAILED);
    assert_true(msg_has(&e, "`.pod.state` in the pod directory is a symbolic link"));
    char *fifo = pod_path_join(root, ".pod.pid");
    assert_int_equal(mkfifo(fifo, 0644), 0);
    assert_int_equal(pod_read_file_at(dfd, ".pod.pid", 64, &text, &len, &e), -1);
    assert_true(msg_has(&e, "is a fifo, not a regular file"));
    assert_int_equal(pod_read_file_at(dfd, "../x", 64, &text, &len, &e), -1);
    assert_int_equal(e.code, POD_E_INVALID);
    /* pod_check_beneath: kinds, links in the middle, missing */
    bool exists = true;
    assert_int_equal(pod_check_beneath(dfd, "log/x", S_IFDIR, &exists, &e), 0);
    assert_false(exists);
    snprintf(path, sizeof path, "%s/log", root);
    assert_int_equal(symlink("/etc", path), 0);
    assert_int_equal(pod_check_beneath(dfd, "log/x", S_IFREG, &exists, &e), -1);
    assert_true(msg_has(&e, "`log` in the pod directory is a symbolic link"));
    assert_int_equal(pod_check_beneath(dfd, ".pod.pid", S_IFREG, &exists, &e), -1);
    assert_int_equal(pod_check_beneath(dfd, ".pod.status", S_IFREG, &exists, &e), 0);
    assert_true(exists);
    assert_int_equal(pod_mkdir_beneath(dfd, "log/sub", 0755, &e), -1);
    assert_int_equal(pod_mkdir_beneath(dfd, "d/e/f", 0755, &e), 0);
    assert_int_equal(pod_check_beneath(dfd, "d/e/f", S_IFDIR, &exists, &e), 0);
    assert_true(exists);
    close(dfd);
    snprintf(path, sizeof path, "%s/d", root);
    rm_rf(path);
    rm_rf(root);
    free(fifo);
    free(p);
    free(root);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_fs_real__ops),
        cmocka_unit_test(test_fs_real__bad_handle),
        cmocka_unit_test(test_fs_real_beneath__ops),
        cmocka_unit_test(test_fs_real_beneath__refuses_links_and_fifos),
        cmocka_unit_test(test_pod_read_file_at__limits),
        cmocka_unit_test(test_fs__optional_ops_default_to_noop),
        cmocka_unit_test(test_fs_mem__ops),
        cmocka_unit_test(test_fs_mem__fail_nth_and_count),
        cmocka_unit_test(test_fs_mem__capacity_enospc),
        cmocka_unit_test(test_fs_mem__crash_modes),
        cmocka_unit_test(test_fs_mem__crash_at_exact_point),
        cmocka_unit_test(test_fs_mem__unlinked_open_file_lives_until_closed),
        cmocka_unit_test(test_fs_mem__put_and_paths),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
