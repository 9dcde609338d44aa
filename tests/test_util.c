/* SPDX-License-Identifier: MIT */
/* test_util.c - util: buffers (incl. the grow-and-format-again path), string vectors, strict
 * integers, the error idiom, path helpers and the atomic whole-file write/read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "pod/err.h"
#include "pod/util.h"

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

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_pod_buf_printf__fits_and_grows),
        cmocka_unit_test(test_pod_strv__push_dup_contains),
        cmocka_unit_test(test_pod_parse_int__strict),
        cmocka_unit_test(test_pod_err__set_wrap_exit_code),
        cmocka_unit_test(test_pod_path__dirname_basename_join),
        cmocka_unit_test(test_pod_write_file_atomic__replaces_and_reads_back),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
