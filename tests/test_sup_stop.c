/* SPDX-License-Identifier: MIT */
/* test_sup_stop.c - supervisor stop/kill: tiers (mains in parallel in reverse order, then
 * sidecars one by one in reverse order), CTR_STOP timeouts, sup-side SIGKILL deadline, a
 * backend that never answers, kill, stop during startup, no restarts while stopping, probes
 * cancelled, stop before start, restore mid-stop. */
#include "sup_harness.h"

/* app(main) side1(sidecar) web(main) side2(sidecar) init(init, completes). */
static struct h *tier_pod(void)
{
    struct h *t = h_new();
    h_ctr(t, 0, "app", SPEC_RESTART_ALWAYS);
    t->c[0].stop_timeout_s = 5;
    h_ctr(t, 1, "side1", SPEC_RESTART_ALWAYS);
    t->c[1].kind = SPEC_CTR_SIDECAR;
    h_ctr(t, 2, "web", SPEC_RESTART_ALWAYS);
    t->c[2].stop_timeout_s = 7;
    h_ctr(t, 3, "side2", SPEC_RESTART_ALWAYS);
    t->c[3].kind = SPEC_CTR_SIDECAR;
    h_ctr(t, 4, "init", SPEC_RESTART_NEVER);
    t->c[4].kind = SPEC_CTR_INIT;
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c1#1");
    assert_acts(t, h_started(t, 1, 1), "start c3#1");
    assert_acts(t, h_started(t, 3, 1), "start c4#1");
    h_started(t, 4, 1);
    assert_acts(t, h_exited(t, 4, 1, 0), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "start c2#1");
    assert_acts(t, h_started(t, 2, 1), "");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    return t;
}

static void test_sup_stop__tiers_and_order(void **state)
{
    (void)state;
    struct h *t = tier_pod();
    t->now = 1000;
    /* Mains in parallel, issued in reverse spec order. */
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c2#1 7000; stop c0#1 5000");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STOPPING);
    assert_false(sup_status(t->s)->ready);
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), ""); /* idempotent */
    t->now = 2000;
    assert_acts(t, h_exited(t, 0, 1, 143), ""); /* no restart while stopping */
    assert_phase(t, 0, "exited");
    /* Then the sidecars, one by one, in reverse spec order. */
    assert_acts(t, h_exited(t, 2, 1, 0), "stop c3#1 10000");
    assert_acts(t, h_exited(t, 3, 1, 0), "stop c1#1 10000");
    assert_acts(t, h_exited(t, 1, 1, 0), "pod-stopped");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_EXITED);
    assert_true(has_note(t, "pod stopped"));
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    /* Everything after the end is ignored. */
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "");
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "");
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "");
    h_free(t);
}

static void test_sup_stop__backend_never_answers(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    t->c[1].kind = SPEC_CTR_SIDECAR;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 1, 1);
    h_started(t, 0, 1);
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c0#1 10000");
    /* stop timeout (10 s) + 2 s slack: sup sends SIGKILL itself. */
    assert_int_equal(sup_next_deadline(t->s), 12000);
    assert_acts(t, h_at(t, 11999), "");
    assert_acts(t, h_at(t, 12000), "kill c0#1 9");
    assert_true(has_note(t, "did not stop in time; sending SIGKILL"));
    /* 5 s after SIGKILL without an exit: removed (podman rm -f, the last resort) and
     * considered gone, the stop goes on. */
    assert_acts(t, h_at(t, 17000), "ctr-remove; stop c1#1 10000");
    assert_true(has_note(t, "considered gone"));
    assert_acts(t, h_at(t, 29000), "kill c1#1 9");
    assert_acts(t, h_at(t, 34000), "ctr-remove; pod-stopped");
    bool err = false;
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == SUP_ACT_NOTE && strstr(t->a.v[k].text, "considered gone"))
            err = t->a.v[k].level == POD_LOG_ERROR;
    assert_true(err);
    /* A very late EXITED changes nothing. */
    assert_acts(t, h_exited(t, 0, 1, 137), "");
    h_free(t);
}

static void test_sup_kill__everything_at_once(void **state)
{
    (void)state;
    struct h *t = tier_pod();
    t->now = 100;
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c3#1 9; kill c2#1 9; kill c1#1 9; kill c0#1 9");
    h_exited(t, 0, 1, 137);
    h_exited(t, 1, 1, 137);
    h_exited(t, 2, 1, 137);
    assert_acts(t, h_exited(t, 3, 1, 137), "pod-stopped");
    h_free(t);
    /* Kill with a backend that never answers still terminates. */
    t = tier_pod();
    h_ev(t, SUP_EV_KILL_POD);
    assert_int_equal(sup_next_deadline(t->s), 5000);
    assert_acts(t, h_at(t, 5000), "ctr-remove; ctr-remove; ctr-remove; ctr-remove; pod-stopped");
    h_free(t);
}

static void test_sup_kill__during_stop_escalates(void **state)
{
    (void)state;
    struct h *t = tier_pod();
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c2#1 7000; stop c0#1 5000");
    t->now = 1000;
    h_exited(t, 2, 1, 0);
    /* c0 still stopping, c3 being stopped... kill: everything still up gets SIGKILL now. */
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c3#1 9; kill c1#1 9; kill c0#1 9");
    h_exited(t, 0, 1, 137);
    h_exited(t, 1, 1, 137);
    assert_acts(t, h_exited(t, 3, 1, 137), "pod-stopped");
    h_free(t);
}

static void test_sup_stop__during_startup(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 60, 1, 0);
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    /* Stop while the container is still being created. */
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c0#1 10000");
    /* The backend may only now report it running: ask again. */
    assert_acts(t, h_started(t, 0, 1), "stop c0#1 10000");
    assert_acts(t, h_exited(t, 0, 1, 143), "pod-stopped");
    assert_phase(t, 1, "waiting");
    assert_int_equal(h_cs(t, 1)->start_count, 0);
    h_free(t);
    /* Stop during the startup probe: the probe is cancelled. */
    t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 60, 1, 0);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_started(t, 0, 1), "probe c0#1 startup exec tag1 dl=60000");
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "cancel c0 tag1; stop c0#1 10000");
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "");
    assert_acts(t, h_exited(t, 0, 1, 0), "pod-stopped");
    h_free(t);
    /* A START_FAILED answer to a stopping container counts as down. */
    t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_ev(t, SUP_EV_STOP_POD);
    assert_acts(t, h_backend(t, BACKEND_EV_START_FAILED, 0, 1, 0), "pod-stopped");
    h_free(t);
}

static void test_sup_stop__cancels_backoff_probes_and_timers(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "b", SPEC_RESTART_ON_INTERVAL);
    t->c[1].restart_interval_s = 30;
    h_ctr(t, 2, "c", SPEC_RESTART_NEVER);
    h_probe(&t->c[2].readiness, SPEC_PROBE_EXEC, 5, 10, 1);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    h_started(t, 1, 1);
    h_started(t, 2, 1); /* readiness tag1 in flight */
    t->now = 100;
    h_exited(t, 0, 1, 1); /* backoff */
    h_exited(t, 1, 1, 0); /* interval timer */
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "cancel c2 tag1; stop c2#1 10000");
    assert_phase(t, 0, "exited");
    assert_acts(t, h_exited(t, 2, 1, 0), "pod-stopped");
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    assert_acts(t, h_at(t, 1000000), "");
    h_free(t);
}

static void test_sup_stop__before_start(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "pod-stopped");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_EXITED);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "");
    h_free(t);
    t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "pod-stopped");
    h_free(t);
}

static void test_sup_stop__planned_restart_then_stop(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "stop c0#1 10000");
    /* The pod stop takes over the running stop: no second CTR_STOP, no restart after. */
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "");
    assert_acts(t, h_exited(t, 0, 1, 0), "pod-stopped");
    h_free(t);
}

static void test_sup_stop__restored_mid_stop(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    h_started(t, 1, 1);
    h_ev(t, SUP_EV_STOP_POD);
    h_exited(t, 1, 1, 0);
    char *saved = sup_save(t->s);
    sup_free(t->s);
    t->s = sup_new(&t->spec, 1);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STOPPING);
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 1};
    ev.adopt.exists = true;
    ev.adopt.exit_code = 0;
    ev.adopt.finished_wall_ns = H_FINISHED_SOMETIME_NS;
    assert_acts(t, h_step(t, &ev), "");
    /* Once every container is adopted, the stop resumes from the start (kubelet: full grace
     * period again). */
    ev.ctr = 0;
    ev.adopt.running = true;
    ev.adopt.instance = 1;
    assert_acts(t, h_step(t, &ev), "stop c0#1 10000");
    assert_acts(t, h_exited(t, 0, 1, 143), "pod-stopped");
    h_free(t);
}

/* SPEC 8.8: a CTR_STOP whose call failed is retried by the supervisor every 1 s (a NOTE each
 * time) until the exit; the SIGKILL deadline of the first stop still stands. */
static void test_sup_stop__failed_stop_call_retried(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_boot1(t);
    t->now = 10000;
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c0#1 10000");
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_STOP, 0, 1, 0, "podman: timeout"), "");
    assert_int_equal(sup_next_deadline(t->s), 11000);
    assert_acts(t, h_at(t, 10999), "");
    assert_acts(t, h_at(t, 11000), "stop c0#1 10000");
    assert_true(has_note(t, "retry stop of instance 1 (the call failed)"));
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_STOP, 0, 1, 0, "podman: timeout"), "");
    assert_acts(t, h_at(t, 12000), "stop c0#1 10000");
    /* this one went through: no more retries; the exit ends the stop */
    assert_int_equal(sup_next_deadline(t->s), 22000);
    assert_acts(t, h_exited(t, 0, 1, 143), "pod-stopped");
    h_free(t);
}

/* A stop call that keeps failing: the SIGKILL deadline (stopTimeout + 2 s after the first
 * stop) supersedes the retries; a failing SIGKILL is retried every 1 s until the container is
 * considered gone, 5 s after the first SIGKILL, so the stop still terminates. */
static void test_sup_stop__failed_kill_call_retried_until_gone(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].stop_timeout_s = 2;
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c0#1 2000");
    h_call_failed(t, SUP_ACT_CTR_STOP, 0, 1, 0, "boom");
    for (int64_t at = 1000; at < 4000; at += 1000) {
        assert_acts(t, h_at(t, at), "stop c0#1 2000");
        h_call_failed(t, SUP_ACT_CTR_STOP, 0, 1, 0, "boom");
    }
    /* 2 s + 2 s: SIGKILL, and the stop retry due at the same time is dropped */
    assert_acts(t, h_at(t, 4000), "kill c0#1 9");
    assert_true(has_note(t, "did not stop in time; sending SIGKILL"));
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_KILL, 0, 1, 0, "boom"), "");
    assert_acts(t, h_at(t, 5000), "kill c0#1 9");
    assert_true(has_note(t, "retry SIGKILL of instance 1 (the call failed)"));
    h_call_failed(t, SUP_ACT_CTR_KILL, 0, 1, 0, "boom");
    assert_acts(t, h_at(t, 6000), "kill c0#1 9");
    /* the third one worked but no exit comes: gone at 4 s + 5 s, no further kill */
    assert_int_equal(sup_next_deadline(t->s), 9000);
    assert_acts(t, h_at(t, 9000), "ctr-remove; pod-stopped");
    assert_true(has_note(t, "considered gone"));
    assert_int_equal(sup_next_deadline(t->s), INT64_MAX);
    h_free(t);
}

/* A failed call about an older instance changes nothing (the new one is not stopped again). */
static void test_sup_stop__failed_call_of_old_instance_ignored(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "stop c0#1 10000");
    assert_acts(t, h_exited(t, 0, 1, 143), "start c0#2");
    h_started(t, 0, 2);
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_STOP, 0, 1, 0, "late"), "");
    assert_true(has_note(t, "event about instance 1 ignored (current 2)"));
    assert_int_equal(sup_next_deadline(t->s), INT64_MAX);
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_stop__tiers_and_order),
        cmocka_unit_test(test_sup_stop__backend_never_answers),
        cmocka_unit_test(test_sup_kill__everything_at_once),
        cmocka_unit_test(test_sup_kill__during_stop_escalates),
        cmocka_unit_test(test_sup_stop__during_startup),
        cmocka_unit_test(test_sup_stop__cancels_backoff_probes_and_timers),
        cmocka_unit_test(test_sup_stop__before_start),
        cmocka_unit_test(test_sup_stop__planned_restart_then_stop),
        cmocka_unit_test(test_sup_stop__restored_mid_stop),
        cmocka_unit_test(test_sup_stop__failed_stop_call_retried),
        cmocka_unit_test(test_sup_stop__failed_kill_call_retried_until_gone),
        cmocka_unit_test(test_sup_stop__failed_call_of_old_instance_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
