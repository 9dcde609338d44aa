/* SPDX-License-Identifier: MIT */
/* test_util.c - util: buffers (incl. the grow-and-format-again path), string vectors, strict
 * integers, the error idiom, path helpers, the atomic whole-file write/read (staged and
 * renamed), mkdir -p. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pod/err.h"
#include "pod/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_pod_buf_printf__fits_and_grows(void **state)
{
    (void)state;
    struct pod_buf b = {0};
    pod_buf_printf(&b, "%s-%d", "a", 1);
    assert_string_equal(b.data, "a-1");
    /* Around every capacity boundary: the first format does not fit, the second must. */
    char big[300];
    for (size_t n = 1; n < sizeof big; n++) {
        memset(big, 'x', n);
        big[n] = '\0';
        struct pod_buf c = {0};
        pod_buf_adds(&c, "head:");
        pod_buf_printf(&c, "%s|%zu", big, n);
        char *want = xasprintf("head:%s|%zu", big, n);
        assert_string_equal(c.data, want);
        assert_int_equal(c.len, strlen(want));
        free(want);
        pod_buf_free(&c);
    }
    char *t = pod_buf_take(&b);
    assert_string_equal(t, "a-1");
    assert_null(b.data);
    free(t);
    t = pod_buf_take(&b); /* an empty buffer gives "" */
    assert_string_equal(t, "");
    free(t);
}

static void test_pod_strv__push_dup_contains(void **state)
{
    (void)state;
    char **v = NULL;
    assert_int_equal(pod_strv_len(v), 0);
    pod_strv_push(&v, "a");
    pod_strv_push(&v, "b");
    assert_int_equal(pod_strv_len(v), 2);
    assert_true(pod_strv_contains(v, "b"));
    assert_false(pod_strv_contains(v, "c"));
    char **d = pod_strv_dup(v);
    assert_string_equal(d[1], "b");
    assert_null(d[2]);
    pod_strv_free(v);
    pod_strv_free(d);
    pod_strv_free(NULL);
}

static void test_pod_parse_int__strict(void **state)
{
    (void)state;
    long long v = 0;
    assert_true(pod_parse_int("42", 0, 100, &v));
    assert_int_equal(v, 42);
    assert_true(pod_parse_int("-5", -10, 10, &v));
    assert_int_equal(v, -5);
    assert_false(pod_parse_int("-5", 0, 10, &v));
    assert_false(pod_parse_int("", 0, 10, &v));
    assert_false(pod_parse_int(" 1", 0, 10, &v));
    assert_false(pod_parse_int("1x", 0, 10, &v));
    assert_false(pod_parse_int("11", 0, 10, &v));
    assert_false(pod_parse_int("99999999999999999999", 0, INT64_MAX, &v));
}

static void test_pod_err__set_wrap_exit_code(void **state)
{
    (void)state;
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_err_set(&e, POD_E_IO, 2, "open `%s`", "x"), -1);
    assert_string_equal(e.msg, "open `x`: No such file or directory");
    assert_int_equal(pod_err_wrap(&e, "load %d", 7), -1);
    assert_string_equal(e.msg, "load 7: open `x`: No such file or directory");
    assert_int_equal(pod_err_exit_code(&e), POD_EXIT_SYSTEM);
    pod_err_set(&e, POD_E_USAGE, 0, "bad");
    assert_int_equal(pod_err_exit_code(&e), POD_EXIT_USAGE);
    pod_err_set(&e, POD_E_CORRUPT, 0, "bad");
    assert_int_equal(pod_err_exit_code(&e), POD_EXIT_REJECTED);
}

static void test_pod_path__dirname_basename_join(void **state)
{
    (void)state;
    char *d = pod_dirname("a/b/c");
    assert_string_equal(d, "a/b");
    free(d);
    d = pod_dirname("c");
    assert_string_equal(d, ".");
    free(d);
    d = pod_dirname("/c");
    assert_string_equal(d, "/");
    free(d);
    assert_string_equal(pod_basename("a/b/c"), "c");
    assert_string_equal(pod_basename("c"), "c");
    char *j = pod_path_join("a/", "b");
    assert_string_equal(j, "a/b");
    free(j);
    j = pod_path_join("a", "/abs");
    assert_string_equal(j, "/abs");
    free(j);
}

static void test_pod_write_file_atomic__replaces_and_reads_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/pod-test-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = pod_path_join(dir, "f");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(path, "one", 3, 0600, &e), 0);
    assert_int_equal(pod_write_file_atomic(path, "second", 6, 0755, &e), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(pod_read_file(path, 100, &data, &len, &e), 0);
    assert_int_equal(len, 6);
    assert_string_equal(data, "second");
    free(data);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    assert_int_equal(pod_read_file(path, 3, &data, &len, &e), -1); /* larger than the limit */
    assert_int_equal(e.code, POD_E_INVALID);
    assert_int_equal(pod_unlink_if_exists(path, &e), 0);
    assert_int_equal(pod_unlink_if_exists(path, &e), 0); /* missing is fine */
    assert_int_equal(pod_read_file(path, 100, &data, &len, &e), -1);
    assert_int_equal(e.code, POD_E_NOTFOUND);
    char *missing = pod_path_join(dir, "no/such/dir/f");
    assert_int_equal(pod_write_file_atomic(missing, "x", 1, 0644, &e), -1);
    assert_int_equal(e.code, POD_E_IO);
    free(missing);
    assert_int_equal(rmdir(dir), 0); /* no temporary file was left behind */
    free(path);
}

/* Fails after writing a little, like a full disk. */
static int fill_then_fail(void *self, int fd)
{
    (void)self;
    if (pod_write_all(fd, "part", 4) < 0)
        return -1;
    errno = ENOSPC;
    return -1;
}

static void test_pod_stage_file__rename_later_or_nothing_left(void **state)
{
    (void)state;
    char dir[] = "/tmp/pod-test-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *path = pod_path_join(dir, "out");
    struct pod_err e = POD_ERR_ZERO;
    struct pod_bytes bytes = {"data", 4};
    char *tmp = NULL;
    assert_int_equal(pod_stage_file(path, 0751, POD_SYNC_NONE, pod_fill_bytes, &bytes, &tmp, &e),
                     0);
    assert_non_null(tmp);
    char *tmp_dir = pod_dirname(tmp);
    assert_string_equal(tmp_dir, dir); /* next to it: the rename stays on one file system */
    free(tmp_dir);
    assert_int_equal(access(path, F_OK), -1); /* nothing in place until the caller renames */
    struct stat st;
    assert_int_equal(stat(tmp, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0751);
    assert_int_equal(rename(tmp, path), 0);
    free(tmp);
    tmp = NULL;
    assert_int_equal(pod_stage_file(path, 0644, POD_SYNC_DATA, fill_then_fail, NULL, &tmp, &e), -1);
    assert_null(tmp);
    assert_int_equal(e.sys_errno, ENOSPC);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0); /* the failed temporary was removed */
    free(path);
}

/* Entries of dir (not . and ..). */
static int entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_pod_write_file_at__writes_beneath_replaces_and_leaves_nothing(void **state)
{
    (void)state;
    char dir[] = "/tmp/pod-test-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_mkdir_beneath(dfd, "sub", 0700, &e), 0);
    assert_int_equal(pod_write_file_atomic_at(dfd, "sub/f", "one", 3, 0600, &e), 0);
    assert_int_equal(pod_write_file_atomic_at(dfd, "sub/f", "second", 6, 0640, &e), 0);
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(pod_read_file_at(dfd, "sub/f", 100, &data, &len, &e), 0);
    assert_string_equal(data, "second");
    free(data);
    struct stat st;
    assert_int_equal(fstatat(dfd, "sub/f", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    char *sub = pod_path_join(dir, "sub");
    assert_int_equal(entries(sub), 1); /* no temporary left */
    /* a failing fill leaves nothing and keeps the old content */
    struct pod_err e2 = POD_ERR_ZERO;
    assert_int_equal(
        pod_write_file_at(dfd, "sub/f", 0644, POD_SYNC_NONE, fill_then_fail, NULL, &e2), -1);
    assert_int_equal(e2.sys_errno, ENOSPC);
    assert_int_equal(entries(sub), 1);
    /* not a plain name: refused, nothing written */
    assert_int_equal(pod_write_file_atomic_at(dfd, "../f", "x", 1, 0644, &e2), -1);
    assert_int_equal(pod_write_file_atomic_at(dfd, "/tmp/f", "x", 1, 0644, &e2), -1);
    assert_int_equal(pod_write_file_atomic_at(dfd, "no/such/f", "x", 1, 0644, &e2), -1);
    assert_int_equal(e2.code, POD_E_NOTFOUND);
    assert_int_equal(pod_unlink_beneath(dfd, "sub/f", &e), 0);
    assert_int_equal(pod_unlink_beneath(dfd, "sub/f", &e), 0);     /* missing is fine */
    assert_int_equal(pod_unlink_beneath(dfd, "no/such/f", &e), 0); /* so is its directory */
    assert_int_equal(entries(sub), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
    free(sub);
    close(dfd);
}

/* A directory on the way that is a link to a directory outside (a git sync, or a swap while
 * the pod runs): the write and the unlink are refused and nothing outside changes; a link as
 * the last component is replaced, never written through. */
static void test_pod_write_file_at__link_on_the_way_refused_outside_untouched(void **state)
{
    (void)state;
    char dir[] = "/tmp/pod-test-util-XXXXXX", out[] = "/tmp/pod-test-util-out-XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(out));
    int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(dfd >= 0);
    char *victim = pod_path_join(out, "f");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic(victim, "victim", 6, 0644, &e), 0);
    assert_int_equal(symlinkat(out, dfd, "run"), 0);
    struct pod_err e2 = POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic_at(dfd, "run/f", "evil", 4, 0644, &e2), -1);
    assert_int_equal(e2.sys_errno, ELOOP);
    assert_non_null(strstr(e2.msg, "`run` in the pod directory is a symbolic link"));
    e2 = (struct pod_err)POD_ERR_ZERO;
    assert_int_equal(pod_write_file_atomic_at(dfd, "run/new", "evil", 4, 0644, &e2), -1);
    e2 = (struct pod_err)POD_ERR_ZERO;
    assert_int_equal(pod_unlink_beneath(dfd, "run/f", &e2), -1);
    assert_int_equal(e2.sys_errno, ELOOP);
    char *data = NULL;
    assert_int_equal(pod_read_file(victim, 100, &data, NULL, &e), 0);
    assert_string_equal(data, "victim"); /* neither written nor removed */
    free(data);
    assert_int_equal(entries(out), 1); /* and no temporary was made there */
    /* the last component a link to the outside file: replaced by a regular file */
    assert_int_equal(symlinkat(victim, dfd, "g"), 0);
    assert_int_equal(pod_write_file_atomic_at(dfd, "g", "mine", 4, 0644, &e), 0);
    struct stat st;
    assert_int_equal(fstatat(dfd, "g", &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(pod_read_file(victim, 100, &data, NULL, &e), 0);
    assert_string_equal(data, "victim");
    free(data);
    assert_int_equal(unlinkat(dfd, "g", 0), 0);
    assert_int_equal(unlinkat(dfd, "run", 0), 0);
    assert_int_equal(unlink(victim), 0);
    assert_int_equal(rmdir(out), 0);
    assert_int_equal(rmdir(dir), 0);
    free(victim);
    close(dfd);
}

static void test_pod_mkdir_p__parents_existing_and_in_the_way(void **state)
{
    (void)state;
    char dir[] = "/tmp/pod-test-util-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *deep = pod_path_join(dir, "a/b/c/");
    struct pod_err e = POD_ERR_ZERO;
    assert_int_equal(pod_mkdir_p(deep, 0755, &e), 0);
    assert_int_equal(pod_mkdir_p(deep, 0755, &e), 0); /* existing is fine */
    struct stat st;
    assert_int_equal(stat(deep, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(pod_sync_dir(deep, &e), 0);
    char *file = pod_path_join(dir, "a/f");
    assert_int_equal(pod_write_file_atomic(file, "x", 1, 0644, &e), 0);
    char *under_file = pod_path_join(dir, "a/f/g");
    assert_int_equal(pod_mkdir_p(under_file, 0755, &e), -1);
    assert_int_equal(e.code, POD_E_IO);
    assert_int_equal(pod_mkdir_p(file, 0755, &e), -1); /* a file where the directory goes */
    assert_int_equal(e.sys_errno, ENOTDIR);
    assert_int_equal(unlink(file), 0);
    char *b = pod_path_join(dir, "a/b");
    char *a = pod_path_join(dir, "a");
    assert_int_equal(rmdir(deep), 0);
    assert_int_equal(rmdir(b), 0);
    assert_int_equal(rmdir(a), 0);
    assert_int_equal(rmdir(dir), 0);
    free(a);
    free(b);
    free(under_file);
    free(file);
    free(deep);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_pod_buf_printf__fits_and_grows),
        cmocka_unit_test(test_pod_strv__push_dup_contains),
        cmocka_unit_test(test_pod_parse_int__strict),
        cmocka_unit_test(test_pod_err__set_wrap_exit_code),
        cmocka_unit_test(test_pod_path__dirname_basename_join),
        cmocka_unit_test(test_pod_write_file_atomic__replaces_and_reads_back),
        cmocka_unit_test(test_pod_stage_file__rename_later_or_nothing_left),
        cmocka_unit_test(test_pod_write_file_at__writes_beneath_replaces_and_leaves_nothing),
        cmocka_unit_test(test_pod_write_file_at__link_on_the_way_refused_outside_untouched),
        cmocka_unit_test(test_pod_mkdir_p__parents_existing_and_in_the_way),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
