/* SPDX-License-Identifier: MIT */
/* test_podman_json.c - parsers of podman's JSON (src/backend/podman_json.c) on outputs recorded
 * from podman 4.3.1 on this machine (tests/data/podman/), RFC 3339 times with their own
 * offsets, and hostile input (size, depth, types). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/podman.h"
#include "pod/util.h"

#define DATA "tests/data/podman/"

static char *slurp(const char *name, size_t *len)
{
    char *path = xasprintf(DATA "%s", name);
    char *text = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(pod_read_file(path, 1 << 24, &text, len, &err), 0);
    free(path);
    return text;
}

static struct podman_ctr_info inspect_file(const char *name, bool *found)
{
    size_t len;
    char *t = slurp(name, &len);
    struct podman_ctr_info i;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(podman_parse_inspect(t, len, &i, found, &err), 0);
    free(t);
    return i;
}

static void test_time__formats(void **state)
{
    (void)state;
    int64_t ns = -1;
    assert_int_equal(podman_parse_time("2026-12-04T17:58:19.177109547Z", &ns), 0);
    assert_true(ns == 1796407099177109547LL);
    /* the same instant written by a process in Asia/Kolkata */
    assert_int_equal(podman_parse_time("2026-12-04T23:28:19.177109547+05:30", &ns), 0);
    assert_true(ns == 1796407099177109547LL);
    assert_int_equal(podman_parse_time("2026-12-04T12:58:19.1-05:00", &ns), 0);
    assert_true(ns == 1796407099100000000LL);
    assert_int_equal(podman_parse_time("2026-12-04T17:58:19Z", &ns), 0);
    assert_true(ns == 1796407099000000000LL);
    assert_int_equal(podman_parse_time("1970-01-01T00:00:01.000000001Z", &ns), 0);
    assert_true(ns == 1000000001LL);
    assert_int_equal(podman_parse_time("2024-02-29T00:00:00Z", &ns), 0);
    assert_true(ns == 1709164800000000000LL);
    /* never */
    assert_int_equal(podman_parse_time("0001-01-01T00:00:00Z", &ns), 0);
    assert_true(ns == 0);
    /* malformed: Go template form (bug B20), no zone, 10 fraction digits, junk, bad fields */
    const char *bad[] = {"2026-12-04 11:45:10.3 +0000 UTC",
                         "2026-12-04T17:58:19",
                         "2026-12-04T17:58:19.1234567891Z",
                         "2026-12-04T17:58:19.Z",
                         "2026-12-04T17:58:19Zx",
                         "2026-13-04T17:58:19Z",
                         "2026-12-04T24:58:19Z",
                         "2026-12-04T17:58:19+0530",
                         "4052-12-04T17:58:19Z", /* after 2262: no int64 ns (fuzz finding) */
                         "9999-12-31T23:59:59.999999999Z",
                         "2026-12-04T17:58:19+05:3",
                         "",
                         NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(podman_parse_time(bad[i], &ns), -1);
    assert_int_equal(podman_parse_time(NULL, &ns), -1);
}

static void test_inspect__exited(void **state)
{
    (void)state;
    bool found;
    struct podman_ctr_info i = inspect_file("inspect-exited.json", &found);
    assert_true(found);
    assert_string_equal(i.id, "63a18f900d5cf2f4e1cd01da133123132f0b889e9081abfca86aa130ecfc6d1f");
    assert_string_equal(i.name, "tbe-rec-a");
    assert_string_equal(i.ctr_label, "a");
    assert_string_equal(i.pod_label, "tbe-rec-1");
    assert_true(i.instance == 3);
    assert_int_equal(i.state, PODMAN_ST_EXITED);
    assert_int_equal(i.exit_code, 4);
    assert_int_equal(i.pid, 0);
    assert_true(i.started_wall_ns == 1796407099177109547LL);
    assert_true(i.finished_wall_ns == 1796407099175205478LL); /* podman's own order */
    podman_ctr_info_clear(&i);
}

static void test_inspect__running_other_zone(void **state)
{
    (void)state;
    bool found;
    struct podman_ctr_info i = inspect_file("inspect-running.json", &found);
    assert_true(found);
    assert_int_equal(i.state, PODMAN_ST_RUNNING);
    assert_int_equal(i.pid, 5186);
    assert_int_equal(i.conmon_pid, 5176);
    assert_true(i.instance == 12);
    /* "2026-12-04T23:28:19.311876515+05:30" */
    assert_true(i.started_wall_ns == 1796407099311876515LL);
    assert_true(i.finished_wall_ns == 0);
    podman_ctr_info_clear(&i);
    i = inspect_file("inspect-stopped.json", &found);
    assert_int_equal(i.state, PODMAN_ST_EXITED);
    assert_int_equal(i.exit_code, 137);
    assert_true(i.started_wall_ns == 1796407099311876515LL);
    assert_true(i.finished_wall_ns > i.started_wall_ns);
    podman_ctr_info_clear(&i);
    i = inspect_file("inspect-created.json", &found);
    assert_int_equal(i.state, PODMAN_ST_CREATED);
    assert_true(i.started_wall_ns == 0 && i.finished_wall_ns == 0);
    assert_true(i.instance == 1);
    podman_ctr_info_clear(&i);
}

static void test_inspect__missing(void **state)
{
    (void)state;
    bool found = true;
    struct podman_ctr_info i = inspect_file("inspect-missing.json", &found);
    assert_false(found);
    assert_null(i.id);
}

static void test_ps__recorded(void **state)
{
    (void)state;
    size_t len, n;
    char *t = slurp("ps-pod.json", &len);
    struct podman_ctr_info *v;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(podman_parse_ps(t, len, &v, &n, &err), 0);
    free(t);
    assert_int_equal(n, 3);
    /* the infra container carries the pod label but no container label */
    assert_string_equal(v[0].name, "472c45a0c786-infra");
    assert_null(v[0].ctr_label);
    assert_true(v[0].is_infra); /* `IsInfra`: what the infra lookup looks for (SPEC 7.8) */
    assert_false(v[1].is_infra);
    assert_false(v[2].is_infra);
    assert_string_equal(v[1].name, "tbe-rec-a");
    assert_int_equal(v[1].state, PODMAN_ST_EXITED);
    assert_int_equal(v[1].exit_code, 4);
    assert_true(v[1].finished_wall_ns == 1796407099000000000LL);
    assert_true(v[1].instance == 3);
    assert_int_equal(v[2].state, PODMAN_ST_RUNNING);
    assert_int_equal(v[2].pid, 5186);
    assert_true(v[2].started_wall_ns == 1796407099000000000LL);
    assert_true(v[2].finished_wall_ns == 0); /* ExitedAt -62135596800: never */
    podman_ctr_infos_free(v, n);
    t = slurp("ps-pod-later.json", &len);
    assert_int_equal(podman_parse_ps(t, len, &v, &n, &err), 0);
    free(t);
    assert_int_equal(n, 3);
    assert_int_equal(v[1].exit_code, 137);
    assert_int_equal(v[2].state, PODMAN_ST_CREATED);
    assert_true(v[2].started_wall_ns == 0 && v[2].finished_wall_ns == 0);
    podman_ctr_infos_free(v, n);
}

static void test_hostile(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    struct podman_ctr_info i, *v;
    size_t n;
    bool found;
    /* depth */
    struct pod_buf b = {0};
    for (int k = 0; k < 40; k++)
        pod_buf_addc(&b, '[');
    for (int k = 0; k < 40; k++)
        pod_buf_addc(&b, ']');
    assert_int_equal(podman_parse_ps(b.data, b.len, &v, &n, &err), -1);
    assert_non_null(strstr(err.msg, "deeply"));
    pod_buf_free(&b);
    /* brackets inside strings do not count */
    const char *s = "[{\"Id\":\"x[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\",\"Names\":[\"n\"]}]";
    assert_int_equal(podman_parse_ps(s, strlen(s), &v, &n, &err), 0);
    assert_int_equal(n, 1);
    podman_ctr_infos_free(v, n);
    /* size */
    assert_int_equal(podman_parse_ps("[]", PODMAN_JSON_MAX_BYTES + 1, &v, &n, &err), -1);
    /* not JSON, wrong shapes, wrong types */
    const char *bad[] = {"", "{", "{}", "[1,2]", "nul", "[{\"Id\":1}, {}]", NULL};
    for (int k = 0; bad[k]; k++)
        assert_int_equal(podman_parse_inspect(bad[k], strlen(bad[k]), &i, &found, &err), -1);
    assert_int_equal(podman_parse_ps("{}", 2, &v, &n, &err), -1);
    /* entries without Id/Names are skipped; mistyped fields read as unknown */
    s = "[1, {\"Id\":\"a\"}, {\"Id\":\"b\",\"Names\":[\"b\"],\"State\":7,\"ExitCode\":\"9\","
        "\"Pid\":-5,\"Labels\":{\"podc.instance\":\"-3\",\"podc.container\":5}}]";
    assert_int_equal(podman_parse_ps(s, strlen(s), &v, &n, &err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].state, PODMAN_ST_UNKNOWN);
    assert_int_equal(v[0].exit_code, 0);
    assert_int_equal(v[0].pid, 0);
    assert_true(v[0].instance == 0);
    assert_null(v[0].ctr_label);
    podman_ctr_infos_free(v, n);
    s = "[{\"Id\":\"a\",\"Name\":\"n\",\"State\":{\"Running\":false,\"Status\":\"running\","
        "\"ExitCode\":99999,\"StartedAt\":\"garbage\"}}]";
    assert_int_equal(podman_parse_inspect(s, strlen(s), &i, &found, &err), 0);
    assert_int_equal(i.state, PODMAN_ST_OTHER);
    assert_int_equal(i.exit_code, 255);
    assert_true(i.started_wall_ns == 0);
    podman_ctr_info_clear(&i);
    /* embedded NUL in the text: jansson refuses it */
    assert_int_equal(podman_parse_inspect("[]\0[]", 5, &i, &found, &err), -1);
}

static void test_wait_and_error_line(void **state)
{
    (void)state;
    int code = -1;
    assert_int_equal(podman_parse_wait("137\n", &code), 0);
    assert_int_equal(code, 137);
    assert_int_equal(podman_parse_wait("0", &code), 0);
    assert_int_equal(code, 0);
    assert_int_equal(podman_parse_wait("", &code), -1);
    assert_int_equal(podman_parse_wait("x\n", &code), -1);
    assert_int_equal(podman_parse_wait(NULL, &code), -1);
    char buf[64];
    const char *e = "time=\"...\" level=error msg=\"runc create failed\"\n"
                    "Error: localhost/nonexist:1: image not known\n\n";
    podman_error_line(e, strlen(e), buf, sizeof buf);
    assert_string_equal(buf, "Error: localhost/nonexist:1: image not known");
    e = "  warning one\r\n  last words \t\n";
    podman_error_line(e, strlen(e), buf, sizeof buf);
    assert_string_equal(buf, "last words");
    e = "Error: a\x1b[31mred\n";
    podman_error_line(e, strlen(e), buf, 12);
    assert_string_equal(buf, "Error: a?[3");
    podman_error_line("", 0, buf, sizeof buf);
    assert_string_equal(buf, "");
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_time__formats),
        cmocka_unit_test(test_inspect__exited),
        cmocka_unit_test(test_inspect__running_other_zone),
        cmocka_unit_test(test_inspect__missing),
        cmocka_unit_test(test_ps__recorded),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_wait_and_error_line),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
