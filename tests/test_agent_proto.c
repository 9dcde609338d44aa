/* SPDX-License-Identifier: MIT */
/* test_agent_proto.c - the agent protocol's frame codec (src/agent/agent_proto.c) and the pure
 * podman argument builders: limits, malformed input, random bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pod/agent.h"
#include "pod/util.h"

static void test_agent_frame__roundtrip(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0, cap = 0, plen = 0, used = 0;
    const char *f[] = {"RUN", "7", "1000", "sh", "-c", "", "exit 3"};
    agent_frame_put(&buf, &len, &cap, f, 7);
    const char *g[] = {"CANCEL", "7"};
    agent_frame_put(&buf, &len, &cap, g, 2);
    /* little-endian length, then NUL-terminated fields */
    assert_int_equal((unsigned char)buf[0], 4 + 2 + 5 + 3 + 3 + 1 + 7);
    assert_int_equal(buf[1] | buf[2] | buf[3], 0);
    assert_int_equal(agent_frame_next(buf, len, AGENT_REQ_MAX, &plen, &used), 1);
    assert_int_equal(used, 4 + plen);
    char *fields[16];
    assert_int_equal(agent_fields(buf + 4, plen, fields, 16), 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(fields[i], f[i]);
    size_t off = used;
    assert_int_equal(agent_frame_next(buf + off, len - off, AGENT_REQ_MAX, &plen, &used), 1);
    assert_int_equal(agent_fields(buf + off + 4, plen, fields, 16), 2);
    assert_string_equal(fields[0], "CANCEL");
    assert_int_equal(off + used, len);
    free(buf);
}

static void test_agent_frame__incomplete_and_bad_lengths(void **state)
{
    (void)state;
    size_t plen = 0, used = 0;
    assert_int_equal(agent_frame_next("", 0, 10, &plen, &used), 0);
    assert_int_equal(agent_frame_next("\x03\0\0", 3, 10, &plen, &used), 0);
    assert_int_equal(agent_frame_next("\x03\0\0\0a\0", 6, 10, &plen, &used), 0); /* 1 missing */
    assert_int_equal(agent_frame_next("\x03\0\0\0ab\0", 7, 10, &plen, &used), 1);
    assert_int_equal(plen, 3);
    assert_int_equal(agent_frame_next("\0\0\0\0", 4, 10, &plen, &used), -1);         /* empty */
    assert_int_equal(agent_frame_next("\x0b\0\0\0", 4, 10, &plen, &used), -1);       /* > max */
    assert_int_equal(agent_frame_next("\x0a\0\0\0", 4, 10, &plen, &used), 0);        /* == max */
    assert_int_equal(agent_frame_next("\xff\xff\xff\xff", 4, 10, &plen, &used), -1); /* 4 GiB */
}

static void test_agent_fields__malformed(void **state)
{
    (void)state;
    char *f[4];
    char a[] = "DONE\0"
               "1\0"
               "exit"; /* last field not terminated */
    assert_int_equal(agent_fields(a, sizeof a - 1, f, 4), -1);
    char b[] = "a\0\0b"; /* sizeof includes the final NUL: "a", "", "b" */
    assert_int_equal(agent_fields(b, sizeof b, f, 4), 3);
    assert_string_equal(f[1], "");
    char c[] = "1\0"
               "2\0"
               "3\0"
               "4\0"
               "5";
    assert_int_equal(agent_fields(c, sizeof c, f, 4), -1); /* more than max */
    assert_int_equal(agent_fields(c, sizeof c - 2, f, 4), 4);
    assert_int_equal(agent_fields(c, 0, f, 4), -1);
}

static void test_agent_parse_u64__strict(void **state)
{
    (void)state;
    uint64_t v = 42;
    assert_true(agent_parse_u64("0", 10, &v) && v == 0);
    assert_true(agent_parse_u64("10", 10, &v) && v == 10);
    assert_false(agent_parse_u64("11", 10, &v));
    assert_false(agent_parse_u64("9", 5, &v)); /* a digit above max */
    assert_true(agent_parse_u64("18446744073709551615", UINT64_MAX, &v) && v == UINT64_MAX);
    assert_false(agent_parse_u64("18446744073709551616", UINT64_MAX, &v));
    assert_false(agent_parse_u64("99999999999999999999999", UINT64_MAX, &v));
    const char *bad[] = {"", "01", "00", "-1", "+1", " 1", "1 ", "1x", "0x10", "1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(agent_parse_u64(bad[i], UINT64_MAX, &v));
    assert_false(agent_parse_u64(NULL, UINT64_MAX, &v));
}

/* Random bytes through the reader: never a crash or a read past len (asan/valgrind). */
static void test_agent_frame__random_bytes(void **state)
{
    (void)state;
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t len = (size_t)(rand() % 40);
        char *b = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++)
            b[i] = (char)(rand() % 4 == 0 ? 0 : rand());
        if (len >= 1 && rand() % 2)
            b[0] = (char)(len - 4); /* often a plausible length */
        size_t plen = 0, used = 0;
        int k = agent_frame_next(b, len, 32, &plen, &used);
        if (k == 1) {
            assert_true(used <= len && plen <= 32);
            char *f[6];
            int n = agent_fields(b + 4, plen, f, 6);
            assert_true(n >= -1 && n <= 6);
            for (int i = 0; i < n; i++)
                assert_true(f[i] >= b + 4 && f[i] < b + 4 + plen);
        }
        free(b);
    }
}

static void test_agent_args__podman(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    char **v = NULL;
    assert_int_equal(agent_mount_args("/srv/p/pod", "/srv/p/.pod.run/web", &v, &err), 0);
    assert_int_equal(pod_strv_len(v), 4);
    assert_string_equal(v[0], "-v");
    assert_string_equal(v[1], "/srv/p/pod:/.podc/agent:z,ro");
    assert_string_equal(v[2], "-v");
    assert_string_equal(v[3], "/srv/p/.pod.run/web:/.podc/run:z,rw");
    pod_strv_free(v);
    assert_int_equal(agent_mount_args("pod", "/r", &v, &err), -1);
    assert_int_equal(agent_mount_args("/a:b/pod", "/r", &v, &err), -1);
    assert_non_null(strstr(err.msg, "':'"));
    assert_int_equal(agent_mount_args("/pod", "/r:x", &v, &err), -1);
    char **a = agent_start_argv("podman", "web-pod-1.0");
    const char *want[] = {
        "podman", "exec", "-d", "web-pod-1.0", "/.podc/agent", "__agent", "/.podc/run/agent.sock"};
    assert_int_equal(pod_strv_len(a), 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(a[i], want[i]);
    pod_strv_free(a);
    char *d = agent_run_dir("/srv/p", "pod", "web");
    assert_string_equal(d, "/srv/p/.pod.run/web");
    free(d);
    assert_string_equal(agent_state_name(AGENT_LOST), "lost");
    assert_string_equal(agent_state_name(AGENT_OK), "ok");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_agent_frame__roundtrip),
        cmocka_unit_test(test_agent_frame__incomplete_and_bad_lengths),
        cmocka_unit_test(test_agent_fields__malformed),
        cmocka_unit_test(test_agent_parse_u64__strict),
        cmocka_unit_test(test_agent_frame__random_bytes),
        cmocka_unit_test(test_agent_args__podman),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
