/* SPDX-License-Identifier: MIT */
/* test_sup_probe.c - supervisor probes: startup (exec/tcp/http, initial delay, period, attempt
 * timeout, overall timeout, failureThreshold), readiness and liveness thresholds, timeouts with
 * CANCEL and late results never credited, UNKNOWN results, stale instances, one attempt in
 * flight, probe request fields. */
#include "sup_harness.h"

static void test_sup_probe__startup_exec_knobs(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 60, 2, 0);
    t->c[0].startup.attempt_timeout_s = 3;
    t->c[0].startup.initial_delay_s = 5;
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 4, 10, 1);
    h_ctr(t, 1, "b", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "");
    assert_phase(t, 0, "starting");
    assert_int_equal(sup_next_deadline(t->s), 5000);
    assert_acts(t, h_at(t, 4999), "");
    assert_acts(t, h_at(t, 5000), "probe c0#1 startup exec tag1 dl=8000");
    /* One attempt in flight: nothing more until it answers. */
    assert_acts(t, h_at(t, 7500), "");
    t->now = 7600;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_FAIL), "probe c0#1 startup exec tag2 dl=10600");
    /* Answer before the period ran out: the next attempt waits for the period. */
    t->now = 7700;
    assert_acts(t, h_done(t, 0, 1, 2, BACKEND_FAIL), "");
    assert_int_equal(sup_next_deadline(t->s), 9600);
    assert_acts(t, h_at(t, 9600), "probe c0#1 startup exec tag3 dl=12600");
    t->now = 9700;
    /* Success: started; the next container starts; readiness begins (not before). */
    assert_acts(t, h_done(t, 0, 1, 3, BACKEND_OK),
                "start c1#1; probe c0#1 readiness exec tag4 dl=13700");
    assert_phase(t, 0, "running");
    assert_true(h_cs(t, 0)->started);
    assert_false(h_cs(t, 0)->ready);
    assert_true(has_note(t, "a: started"));
    h_free(t);
}

static void test_sup_probe__attempt_timeout_cancel_late_result(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 60, 2, 0);
    t->c[0].startup.attempt_timeout_s = 3;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "probe c0#1 startup exec tag1 dl=3000");
    /* At the attempt deadline: cancel (the process is killed inside the container); the next
     * attempt (its period has passed) waits until the backend confirms that one gone. */
    assert_acts(t, h_at(t, 3000), "cancel c0 tag1");
    assert_true(has_note(t, "startup probe timed out; cancelled"));
    assert_acts(t, h_at(t, 3050), "");
    /* The late result of the cancelled attempt is its end, never credited: the next attempt. */
    t->now = 3100;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "probe c0#1 startup exec tag2 dl=6100");
    assert_true(has_note(t, "cancelled startup probe (tag 1) has ended"));
    assert_phase(t, 0, "starting");
    /* A result arriving at (or after) its deadline is not credited either: the deadline is
     * handled first, and the result ends the cancelled run. */
    t->now = 6100;
    assert_acts(t, h_done(t, 0, 1, 2, BACKEND_OK),
                "cancel c0 tag2; probe c0#1 startup exec tag3 dl=9100");
    assert_phase(t, 0, "starting");
    t->now = 9099;
    assert_acts(t, h_done(t, 0, 1, 3, BACKEND_OK), "");
    assert_phase(t, 0, "running");
    h_free(t);
}

static void test_sup_probe__startup_overall_timeout(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_FAILURE);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 10, 1, 0);
    t->c[0].startup.attempt_timeout_s = 120; /* clipped to the overall deadline */
    static char *targets[] = {"b", NULL};
    t->c[0].startup.signal_targets = targets;
    h_ctr(t, 1, "b", SPEC_RESTART_ON_CONFIG);
    t->c[1].signal_sig = "HUP";
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "probe c0#1 startup exec tag1 dl=10000");
    /* Hangs until the overall deadline: cancelled, the container stopped (failed start), no
     * fan-out, the next container not started. */
    assert_acts(t, h_at(t, 10000), "cancel c0 tag1; stop c0#1 10000");
    assert_true(has_note(t, "startup timed out after 10 s"));
    t->now = 10500;
    assert_acts(t, h_exited(t, 0, 1, 143), "start c0#2"); /* a failed start, its first */
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
    assert_phase(t, 1, "waiting");
    assert_false(sup_status(t->s)->ready);
    h_free(t);
}

static void test_sup_probe__startup_failure_threshold(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 120, 1, 2);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    t->now = 100;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_FAIL), "");
    assert_acts(t, h_at(t, 1000), "probe c0#1 startup exec tag2 dl=120000"); /* clipped */
    t->now = 1100;
    assert_acts(t, h_done(t, 0, 1, 2, BACKEND_FAIL), "stop c0#1 10000");
    assert_true(has_note(t, "startup probe failed 2 times"));
    h_exited(t, 0, 1, 0);
    assert_phase(t, 0, "failed");
    h_free(t);
}

static void test_sup_probe__exit_before_startup_success(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 60, 1, 0);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1); /* tag1 in flight */
    t->now = 200;
    assert_acts(t, h_exited(t, 0, 1, 0), "cancel c0 tag1");
    assert_true(has_note(t, "exited with code 0 before startup completed"));
    assert_phase(t, 0, "backoff");
    h_free(t);
}

static void test_sup_probe__tcp_http_request_fields(void **state)
{
    (void)state;
    struct h *t = h_new();
    static struct spec_expose ex[2];
    memset(ex, 0, sizeof ex);
    ex[0].target_port = 80;
    ex[0].host_port = 8080;
    ex[1].target_port = 81;
    ex[1].host_port = 8081;
    ex[1].host_interface = "10.0.0.5";
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].expose = ex;
    t->c[0].n_expose = 2;
    h_probe(&t->c[0].startup, SPEC_PROBE_TCP, 60, 1, 0);
    t->c[0].startup.cmd = NULL;
    t->c[0].startup.port = 80;
    t->c[0].startup.host_port = 8080;
    h_probe(&t->c[0].readiness, SPEC_PROBE_HTTP, 5, 10, 1);
    t->c[0].readiness.cmd = NULL;
    t->c[0].readiness.port = 81;
    t->c[0].readiness.host_port = 8081;
    t->c[0].readiness.http_path = "/healthz";
    h_probe(&t->c[0].liveness, SPEC_PROBE_HTTP, 5, 10, 1);
    t->c[0].liveness.cmd = NULL;
    t->c[0].liveness.port = 80;
    t->c[0].liveness.host_port = 8080;
    t->c[0].liveness.http_path = "/"; /* the validator's default */
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "probe c0#1 startup tcp tag1 dl=60000");
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_int_equal(p->probe.kind, BACKEND_PROBE_TCP);
    assert_string_equal(p->probe.host, "127.0.0.1");
    assert_int_equal(p->probe.port, 8080);
    assert_int_equal(p->probe.ctr, 0);
    assert_int_equal(p->probe.instance, 1);
    assert_int_equal(p->probe.tag, 1);
    assert_int_equal(p->role, SUP_PROBE_STARTUP);
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK),
                "probe c0#1 readiness http tag2 dl=5000; probe c0#1 liveness http tag3 dl=5000");
    p = h_find(t, SUP_ACT_PROBE);
    assert_string_equal(p->probe.host, "10.0.0.5");
    assert_int_equal(p->probe.port, 8081);
    assert_string_equal(p->probe.http_path, "/healthz");
    p = &t->a.v[t->a.n - 1];
    while (p->type != SUP_ACT_PROBE)
        p--;
    assert_int_equal(p->role, SUP_PROBE_LIVENESS);
    assert_string_equal(p->probe.http_path, "/");
    assert_string_equal(p->probe.host, "127.0.0.1");
    assert_null(p->probe.argv);
    h_free(t);
}

static void test_sup_probe__readiness_thresholds(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 5, 10, 2);
    t->c[0].readiness.success_threshold = 2;
    t->c[0].readiness.initial_delay_s = 3;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    assert_false(sup_status(t->s)->ready); /* readiness starts false */
    assert_acts(t, h_at(t, 3000), "probe c0#1 readiness exec tag1 dl=8000");
    t->now = 3100;
    h_done(t, 0, 1, 1, BACKEND_OK);
    assert_false(h_cs(t, 0)->ready); /* 1 of 2 */
    assert_acts(t, h_at(t, 13000), "probe c0#1 readiness exec tag2 dl=18000");
    t->now = 13100;
    h_done(t, 0, 1, 2, BACKEND_OK);
    assert_true(h_cs(t, 0)->ready);
    assert_true(has_note(t, "a: ready"));
    assert_true(has_status(t));
    assert_true(sup_status(t->s)->ready);
    /* One failure is below the failure threshold. */
    h_at(t, 23000);
    t->now = 23100;
    h_done(t, 0, 1, 3, BACKEND_FAIL);
    assert_true(h_cs(t, 0)->ready);
    h_at(t, 33000);
    t->now = 33100;
    h_done(t, 0, 1, 4, BACKEND_FAIL);
    assert_false(h_cs(t, 0)->ready);
    assert_false(sup_status(t->s)->ready);
    /* Readiness failures never stop the container. */
    assert_phase(t, 0, "running");
    assert_true(sup_status(t->s)->healthy);
    h_free(t);
}

static void test_sup_probe__liveness_failure_restarts_unless_never(void **state)
{
    (void)state;
    static const struct {
        enum spec_restart policy;
        int code;
        const char *phase;
    } rows[] = {
        {SPEC_RESTART_ALWAYS, 143, "backoff"},   {SPEC_RESTART_ON_FAILURE, 143, "backoff"},
        {SPEC_RESTART_ON_FAILURE, 0, "backoff"}, /* differs from the original */
        {SPEC_RESTART_ON_CONFIG, 0, "backoff"},  {SPEC_RESTART_ON_INTERVAL, 137, "backoff"},
        {SPEC_RESTART_NEVER, 143, "exited"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct h *t = h_new();
        h_ctr(t, 0, "a", rows[r].policy);
        t->c[0].restart_interval_s = 60;
        t->c[0].stop_timeout_s = 7;
        h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 10, 1);
        h_go(t, 1);
        h_ev(t, SUP_EV_START_POD);
        assert_acts(t, h_started(t, 0, 1), "probe c0#1 liveness exec tag1 dl=5000");
        assert_true(h_cs(t, 0)->live);
        t->now = 100;
        /* One failure is enough by default (as in the original). */
        assert_acts(t, h_done(t, 0, 1, 1, BACKEND_FAIL), "stop c0#1 7000");
        assert_false(h_cs(t, 0)->live);
        assert_false(sup_status(t->s)->healthy);
        assert_true(has_note(t, "liveness probe failed; stopping it"));
        t->now = 200;
        h_exited(t, 0, 1, rows[r].code);
        assert_phase(t, 0, rows[r].phase);
        if (!strcmp(rows[r].phase, "backoff")) {
            assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
            assert_acts(t, h_at(t, 1200), "start c0#2");
            h_started(t, 0, 2);
            assert_true(h_cs(t, 0)->live); /* a new instance starts live */
        }
        h_free(t);
    }
}

static void test_sup_probe__liveness_threshold_and_recovery(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 10, 3);
    h_go(t, 1);
    h_boot1(t);
    uint64_t tag = 1;
    enum backend_result seq[] = {BACKEND_FAIL, BACKEND_FAIL, BACKEND_OK, BACKEND_FAIL,
                                 BACKEND_FAIL};
    for (size_t k = 0; k < 5; k++) {
        if (k)
            h_at(t, (int64_t)k * 10000);
        t->now = (int64_t)k * 10000 + 50;
        assert_acts(t, h_done(t, 0, 1, tag++, seq[k]), "");
    }
    assert_phase(t, 0, "running");
    h_at(t, 50000);
    t->now = 50050;
    assert_acts(t, h_done(t, 0, 1, tag, BACKEND_FAIL), "stop c0#1 10000");
    h_free(t);
}

static void test_sup_probe__liveness_timeout_counts_as_failure(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 10, 1);
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_at(t, 5000), "cancel c0 tag1; stop c0#1 10000");
    assert_true(has_note(t, "liveness probe timed out; cancelled"));
    h_free(t);
}

static void test_sup_probe__unknown_results(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 10, 1);
    h_go(t, 1);
    h_boot1(t);
    /* Two unknowns (podman 125/126/127) are neither success nor failure. */
    t->now = 50;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_UNKNOWN), "");
    assert_true(has_note(t, "liveness probe result unknown (1 of 3); not counted"));
    h_at(t, 10000);
    t->now = 10050;
    assert_acts(t, h_done(t, 0, 1, 2, BACKEND_UNKNOWN), "");
    /* A real result in between resets the unknown run. */
    h_at(t, 20000);
    t->now = 20050;
    assert_acts(t, h_done(t, 0, 1, 3, BACKEND_OK), "");
    for (uint64_t k = 4; k <= 5; k++) {
        h_at(t, (int64_t)(k - 1) * 10000);
        t->now += 50;
        assert_acts(t, h_done(t, 0, 1, k, BACKEND_UNKNOWN), "");
    }
    /* The third consecutive unknown counts as one failure. */
    h_at(t, 50000);
    t->now = 50050;
    assert_acts(t, h_done(t, 0, 1, 6, BACKEND_UNKNOWN), "stop c0#1 10000");
    assert_true(has_note(t, "counted as failure"));
    h_free(t);
}

static void test_sup_probe__stale_instance_and_exit_cancels(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 5, 10, 1);
    h_go(t, 1);
    h_boot1(t); /* readiness tag1 */
    t->now = 100;
    /* The container exits while the probe runs: the probe is cancelled. */
    assert_acts(t, h_exited(t, 0, 1, 1), "cancel c0 tag1");
    h_at(t, 1100);
    assert_acts(t, h_started(t, 0, 2), "probe c0#2 readiness exec tag2 dl=6100");
    /* The result of the old instance's attempt is ignored. */
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "");
    assert_false(h_cs(t, 0)->ready);
    /* A result carrying the right tag but the wrong instance is ignored too. */
    assert_acts(t, h_done(t, 0, 1, 2, BACKEND_OK), "");
    assert_false(h_cs(t, 0)->ready);
    /* A tag never issued is ignored. */
    assert_acts(t, h_done(t, 0, 2, 99, BACKEND_OK), "");
    assert_false(h_cs(t, 0)->ready);
    assert_acts(t, h_done(t, 0, 2, 2, BACKEND_OK), "");
    assert_true(h_cs(t, 0)->ready);
    h_free(t);
}

static void test_sup_probe__one_attempt_in_flight(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 30, 1, 1); /* period < attempt timeout */
    h_go(t, 1);
    h_boot1(t);
    for (int64_t at = 1000; at < 30000; at += 1000)
        assert_acts(t, h_at(t, at), "");
    t->now = 29000;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "probe c0#1 readiness exec tag2 dl=59000");
    h_free(t);
}

/* SPEC 10.1: a probe call that failed (the backend could not even start it) is an UNKNOWN
 * result for the supervisor, as podman exec's own 125; the request is no longer in flight. */
static void test_sup_probe__probe_call_failed_is_unknown(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 10, 1);
    h_go(t, 1);
    h_boot1(t); /* liveness tag1 */
    size_t ctr = 99;
    enum sup_probe_role role = SUP_PROBE_STARTUP;
    assert_true(sup_request_in_flight(t->s, 1, &ctr, &role));
    assert_int_equal(ctr, 0);
    assert_int_equal(role, SUP_PROBE_LIVENESS);
    assert_acts(t, h_call_failed(t, SUP_ACT_PROBE, 0, 1, 1, "exec: no such container"), "");
    assert_true(has_note(t, "liveness probe result unknown (1 of 3); not counted"));
    assert_false(sup_request_in_flight(t->s, 1, &ctr, &role));
    /* the next attempt after the period, as after any result */
    assert_acts(t, h_at(t, 10000), "probe c0#1 liveness exec tag2 dl=15000");
    /* a failed call about a request no longer in flight is ignored like a late result */
    assert_acts(t, h_call_failed(t, SUP_ACT_PROBE, 0, 1, 1, "late"), "");
    assert_true(has_note(t, "stale or cancelled probe result (tag 1) ignored"));
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_probe__startup_exec_knobs),
        cmocka_unit_test(test_sup_probe__attempt_timeout_cancel_late_result),
        cmocka_unit_test(test_sup_probe__startup_overall_timeout),
        cmocka_unit_test(test_sup_probe__startup_failure_threshold),
        cmocka_unit_test(test_sup_probe__exit_before_startup_success),
        cmocka_unit_test(test_sup_probe__tcp_http_request_fields),
        cmocka_unit_test(test_sup_probe__readiness_thresholds),
        cmocka_unit_test(test_sup_probe__liveness_failure_restarts_unless_never),
        cmocka_unit_test(test_sup_probe__liveness_threshold_and_recovery),
        cmocka_unit_test(test_sup_probe__liveness_timeout_counts_as_failure),
        cmocka_unit_test(test_sup_probe__unknown_results),
        cmocka_unit_test(test_sup_probe__stale_instance_and_exit_cancels),
        cmocka_unit_test(test_sup_probe__one_attempt_in_flight),
        cmocka_unit_test(test_sup_probe__probe_call_failed_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
