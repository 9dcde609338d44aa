/* SPDX-License-Identifier: MIT */
/* test_sim_scn.c - the scenario parser: every statement, durations, filters, ordering of
 * actions, and the "file:line:col: message" of every kind of error, bounds included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/scn.h"
#include "pod/util.h"

static struct scn *parse_ok(const char *text)
{
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    int rc = scn_parse(text, strlen(text), "t.scn", &s, &err);
    if (rc != 0)
        fail_msg("unexpected parse error: %s", err.msg);
    return s;
}

static void expect_err(const char *text, const char *msg)
{
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (scn_parse(text, strlen(text), "t.scn", &s, &err) == 0) {
        scn_free(s);
        fail_msg("parsed, expected `%s`: %s", msg, text);
    }
    assert_null(s);
    if (strstr(err.msg, msg) == NULL)
        fail_msg("error `%s` does not contain `%s`", err.msg, msg);
}

#define POD "pod:\n  api: 1.0.0-beta2\n  containers:\n    - name: web\n      image: x\n"

static void test_scn_parse__full(void **state)
{
    (void)state;
    struct scn *s = parse_ok("# comment\n"
                             "name a \"quoted\" name\n"
                             "seed 42\n"
                             "run-for 10m\n"
                             "output-path direct\n"
                             "log-max-bytes 4096\n" POD "\n"
                             "container web\n"
                             "  start-latency 250ms\n"
                             "  exit 3 after 1.5s instances 2..4\n"
                             "  run forever instances 5..\n"
                             "  stdout 10/s bytes 100\n"
                             "  probe readiness fail after 2s code 7 attempts 3 from 1s to 9s\n"
                             "  on-term ignore\n"
                             "fault start fail times 2 ctr web\n"
                             "fault event lose type exited nth 3..4 p 500\n"
                             "fault disk crash-rotation step 3 nth 2\n"
                             "at 30s stop\n"
                             "at 10s config-change cfg checksum-file\n"
                             "at 10s rerun web\n"
                             "expect at 12.000s web started instance=3\n"
                             "expect no web start after 1s before 5s\n"
                             "expect log web stdout lines >= 100\n");
    assert_string_equal(s->name, "a quoted name");
    assert_int_equal(s->seed, 42);
    assert_int_equal(s->run_for_ms, 600000);
    assert_true(s->output_direct);
    assert_int_equal(s->log_max_bytes, 4096);
    assert_non_null(strstr(s->pod_text, "- name: web"));
    assert_int_equal(s->pod_line, 8);
    assert_int_equal(s->n_ctrs, 1);
    const struct scn_ctr *c = &s->ctrs[0];
    assert_int_equal(c->n_rules, 6);
    assert_int_equal(c->rules[0].kind, SCN_R_LATENCY);
    assert_int_equal(c->rules[0].dur_ms, 250);
    assert_int_equal(c->rules[1].kind, SCN_R_EXIT);
    assert_int_equal(c->rules[1].code, 3);
    assert_int_equal(c->rules[1].dur_ms, 1500);
    assert_int_equal(c->rules[1].f.inst_lo, 2);
    assert_int_equal(c->rules[1].f.inst_hi, 4);
    assert_int_equal(c->rules[2].f.inst_hi, UINT64_MAX);
    assert_int_equal(c->rules[3].per_s, 10);
    assert_int_equal(c->rules[3].bytes, 100);
    assert_int_equal(c->rules[4].role, SCN_ROLE_READINESS);
    assert_int_equal(c->rules[4].result, SCN_FAIL);
    assert_int_equal(c->rules[4].code, 7);
    assert_int_equal(c->rules[4].dur_ms, 2000);
    assert_int_equal(c->rules[4].f.att_lo, 3);
    assert_int_equal(c->rules[4].f.from_ms, 1000);
    assert_int_equal(c->rules[4].f.to_ms, 9000);
    assert_true(c->rules[5].ignore);
    assert_int_equal(s->n_faults, 3);
    assert_int_equal(s->faults[0].op, SCN_OP_START);
    assert_string_equal(s->faults[0].ctr, "web");
    assert_int_equal(s->faults[0].f.nth_hi, 2);
    assert_int_equal(s->faults[1].ev, SCN_EV_EXITED);
    assert_int_equal(s->faults[1].f.p_milli, 500);
    assert_int_equal(s->faults[2].kind, SCN_F_CRASH_ROTATE);
    assert_int_equal(s->faults[2].step, 3);
    /* actions are sorted by time, stable for equal times */
    assert_int_equal(s->n_actions, 3);
    assert_int_equal(s->actions[0].kind, SCN_A_CONFIG_CHANGE);
    assert_true(s->actions[0].checksum_file);
    assert_int_equal(s->actions[1].kind, SCN_A_RERUN);
    assert_int_equal(s->actions[2].kind, SCN_A_STOP);
    assert_int_equal(s->n_expects, 3);
    assert_int_equal(s->expects[0].kind, SCN_X_AT);
    assert_int_equal(s->expects[0].at_ms, 12000);
    assert_string_equal(s->expects[0].text, "instance=3");
    assert_int_equal(s->expects[1].after_ms, 1000);
    assert_int_equal(s->expects[1].before_ms, 5000);
    assert_int_equal(s->expects[2].op, SCN_GE);
    assert_int_equal(s->expects[2].n_words, 4);
    assert_string_equal(s->expects[2].value, "100");
    scn_free(s);
}

static void test_scn_parse__defaults_and_pod_file(void **state)
{
    (void)state;
    struct scn *s = parse_ok("pod-file ../pods/pod.yaml\npod-var A=1\n");
    assert_null(s->pod_text);
    assert_string_equal(s->pod_file, "../pods/pod.yaml");
    assert_int_equal(s->n_vars, 1);
    assert_string_equal(s->var_values[0], "1");
    assert_int_equal(s->run_for_ms, 60000);
    assert_true(s->autostart);
    assert_false(s->output_direct);
    assert_int_equal(s->output_flush_ms, 1000);
    scn_free(s);
}

static void test_scn_parse_duration__units(void **state)
{
    (void)state;
    int64_t ms;
    assert_true(scn_parse_duration("250ms", &ms));
    assert_int_equal(ms, 250);
    assert_true(scn_parse_duration("1.5s", &ms));
    assert_int_equal(ms, 1500);
    assert_true(scn_parse_duration("12.345s", &ms));
    assert_int_equal(ms, 12345);
    assert_true(scn_parse_duration("5m", &ms));
    assert_int_equal(ms, 300000);
    assert_true(scn_parse_duration("2h", &ms));
    assert_int_equal(ms, 7200000);
    assert_true(scn_parse_duration("1d", &ms));
    assert_int_equal(ms, 86400000);
    assert_false(scn_parse_duration("5", &ms));
    assert_false(scn_parse_duration("s", &ms));
    assert_false(scn_parse_duration("1.s", &ms));
    assert_false(scn_parse_duration("-1s", &ms));
    assert_false(scn_parse_duration("40d", &ms));
    assert_false(scn_parse_duration("99999999999999999999d", &ms));
}

static void test_scn_parse__errors_have_positions(void **state)
{
    (void)state;
    expect_err("bogus 1\n", "t.scn:1:1: unknown statement `bogus`");
    expect_err(POD "run-for 10x\n", "t.scn:6:9: bad duration `10x`");
    expect_err(POD "seed 1\n  exit 1 after 2s\n",
               "t.scn:7:3: indented line outside a `container` block");
    expect_err("seed 1\n", "t.scn:1:1: no pod spec");
    expect_err(POD "name \"open\n", "t.scn:6:6: unterminated string");
    expect_err(POD "container web\n  exit 1 after\n", "t.scn:7:");
    expect_err(POD "container web\n  probe readiness maybe\n",
               "t.scn:7:19: expected pass|fail|hang");
    expect_err(POD "fault start explode\n", "t.scn:6:13: call faults are");
    expect_err(POD "at 5s dance\n", "t.scn:6:7: unknown action `dance`");
    expect_err(POD "expect starts web\n", "expected `expect METRIC... OP VALUE`");
    expect_err(POD "container web\n  exit 1 after 2s from 5s to 3s\n", "empty time window");
    expect_err(POD "container web\n  stdout 5000/s\n", "rate must be 0..1000");
    expect_err(POD "pod-file x\n", "the pod spec is given twice");
    expect_err(POD "container web\n  exit 1 after 2s instances 5..2\n", "bad range `5..2`");
    expect_err(POD "fault start fail-async\n", "t.scn:6:13: `fail-async` applies to");
    expect_err(POD "fault probe fail-async\n", "t.scn:6:13: `fail-async` applies to");
    expect_err(POD "fault stop fail-async after\n", "t.scn:6:");
    expect_err(POD "fault event lose type bogus\n", "exec-done|output|call-failed)");
}

/* `fail-async [after D]`: the call returns 0 and fails D later (100 ms by default). */
static void test_scn_parse__fail_async(void **state)
{
    (void)state;
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    const char *text = POD "fault stop fail-async times 2\n"
                           "fault cancel fail-async after 2s ctr web\n"
                           "fault event dup type call-failed\n";
    assert_int_equal(scn_parse(text, strlen(text), "t.scn", &s, &err), 0);
    assert_int_equal(s->n_faults, 3);
    assert_int_equal(s->faults[0].kind, SCN_F_FAIL_ASYNC);
    assert_int_equal(s->faults[0].dur_ms, 100);
    assert_int_equal(s->faults[0].f.nth_hi, 2);
    assert_int_equal(s->faults[1].op, SCN_OP_CANCEL);
    assert_int_equal(s->faults[1].dur_ms, 2000);
    assert_string_equal(s->faults[1].ctr, "web");
    assert_int_equal(s->faults[2].ev, SCN_EV_CALL_FAILED);
    scn_free(s);
}

static void test_scn_parse__bounds(void **state)
{
    (void)state;
    /* NUL bytes, overlong lines, too many containers */
    const char nul[] = "seed 1\nna\0me x\n";
    struct scn *s = NULL;
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(scn_parse(nul, sizeof nul - 1, "t.scn", &s, &err), -1);
    assert_non_null(strstr(err.msg, "t.scn:2:1: NUL byte"));
    struct pod_buf b = {0};
    pod_buf_adds(&b, "name ");
    for (int i = 0; i < SCN_MAX_LINE + 10; i++)
        pod_buf_addc(&b, 'x');
    pod_buf_addc(&b, '\n');
    assert_int_equal(scn_parse(b.data, b.len, "t.scn", &s, &err), -1);
    assert_non_null(strstr(err.msg, "line too long"));
    pod_buf_free(&b);
    pod_buf_adds(&b, POD);
    for (int i = 0; i <= SCN_MAX_CTRS; i++)
        pod_buf_printf(&b, "container c%d\n", i);
    assert_int_equal(scn_parse(b.data, b.len, "t.scn", &s, &err), -1);
    assert_non_null(strstr(err.msg, "too many containers"));
    pod_buf_free(&b);
    char *big = xcalloc(SCN_MAX_BYTES + 2, 1);
    memset(big, '#', SCN_MAX_BYTES + 1);
    assert_int_equal(scn_parse(big, SCN_MAX_BYTES + 1, "t.scn", &s, &err), -1);
    assert_non_null(strstr(err.msg, "too large"));
    free(big);
}

static void test_scn_filter_match__windows(void **state)
{
    (void)state;
    struct scn_filter f;
    scn_filter_any(&f);
    assert_true(scn_filter_match(&f, 0, 1, 1));
    f.from_ms = 1000;
    f.to_ms = 2000;
    f.inst_lo = 2;
    f.inst_hi = 3;
    f.att_lo = 5;
    f.att_hi = 5;
    assert_false(scn_filter_match(&f, 999, 2, 5));
    assert_true(scn_filter_match(&f, 1000, 2, 5));
    assert_false(scn_filter_match(&f, 2000, 2, 5)); /* [from, to) */
    assert_false(scn_filter_match(&f, 1500, 4, 5));
    assert_false(scn_filter_match(&f, 1500, 3, 6));
    assert_true(scn_filter_match(&f, 1500, 3, 0)); /* 0 = not asked */
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_scn_parse__full),
        cmocka_unit_test(test_scn_parse__defaults_and_pod_file),
        cmocka_unit_test(test_scn_parse__fail_async),
        cmocka_unit_test(test_scn_parse_duration__units),
        cmocka_unit_test(test_scn_parse__errors_have_positions),
        cmocka_unit_test(test_scn_parse__bounds),
        cmocka_unit_test(test_scn_filter_match__windows),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
