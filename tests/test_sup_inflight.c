/* SPDX-License-Identifier: MIT */
/* test_sup_inflight.c - supervisor: a container adopted created but never run, whose start by
 * the dead daemon may still be in flight (SPEC.md 8.8, 8.9, issue 10): waited for while the pod
 * runs, removed (CTR_REMOVE) after SUP_ADOPT_WAIT_MS or at once when the pod is stopping, and
 * adopted only once inspect shows it gone, so that a pod stop never reports POD_STOPPED while a
 * start may still complete. */
#include "sup_harness.h"

/* db (always) runs; web (always) was `creating` (its CTR_START at 100 ms) when the daemon died.
 * A new daemon restores the state at 2 s and adopts db running; web is left to the test. */
static struct h *inflight_pod(void)
{
    struct h *t = h_new();
    h_ctr(t, 0, "db", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "web", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 100;
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    h_restart(t, 7);
    t->now = 2000;
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 0};
    ev.adopt.exists = ev.adopt.running = true;
    ev.adopt.instance = 1;
    assert_acts(t, h_step(t, &ev), "");
    return t;
}

/* What inspect says about web: 'c' created (never ran), 'r' running, 'm' missing. */
static const char *adopt_web(struct h *t, char what)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 1};
    ev.adopt.exists = what != 'm';
    ev.adopt.running = what == 'r';
    ev.adopt.instance = what != 'm' ? 1 : 0;
    return h_step(t, &ev);
}

/* While the pod runs, the start in flight is waited for: it completes -> adopted running. */
static void test_sup_inflight__waited_for_while_the_pod_runs(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, adopt_web(t, 'c'), "");
    assert_true(has_note(t, "web: instance 1 is created but has not run: its start may still be "
                            "in flight; waiting up to 30 s"));
    assert_phase(t, 1, "adopting");
    for (t->now = 3000; t->now < 12000; t->now += 1000)
        assert_acts(t, adopt_web(t, 'c'), "");
    assert_acts(t, adopt_web(t, 'r'), "");
    assert_phase(t, 1, "running");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    h_free(t);
}

/* Not run within 30 s: removed, sent again when not confirmed within 10 s or when it failed
 * (1 s), and started again only once inspect shows it gone. */
static void test_sup_inflight__removed_after_the_wait_then_started(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, adopt_web(t, 'c'), "");
    t->now = 2000 + SUP_ADOPT_WAIT_MS - 1;
    assert_acts(t, adopt_web(t, 'c'), "");
    t->now = 2000 + SUP_ADOPT_WAIT_MS;
    assert_acts(t, adopt_web(t, 'c'), "ctr-remove");
    assert_true(has_note(t, "instance 1 is created but has not run (not within 30 s): removing"));
    t->now += 1000;
    assert_acts(t, adopt_web(t, 'c'), ""); /* not done yet */
    assert_int_equal(sup_next_deadline(t->s), 2000 + SUP_ADOPT_WAIT_MS + 10000);
    assert_acts(t, h_at(t, 2000 + SUP_ADOPT_WAIT_MS + 10000), "ctr-remove");
    assert_true(has_note(t, "remove instance 1 again (not confirmed gone)"));
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_REMOVE, 1, 1, 0, "podman: locked"), "");
    assert_true(has_note(t, "removal of instance 1 failed: podman: locked; retry in 1000 ms"));
    assert_acts(t, h_at(t, t->now + 1000), "ctr-remove");
    assert_true(has_note(t, "remove instance 1 again (the removal failed)"));
    /* the run in flight won the race: rm -f kills it, still waited for */
    assert_acts(t, adopt_web(t, 'r'), "");
    assert_phase(t, 1, "adopting");
    assert_acts(t, adopt_web(t, 'm'), "start c1#2");
    assert_true(has_note(t, "its removal is confirmed: adopted as missing"));
    h_free(t);
}

/* A pod stop while web's start may be in flight: removed at once, and neither db is stopped nor
 * the pod reported stopped before inspect shows web gone. */
static void test_sup_inflight__stop_removes_at_once_and_waits(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, adopt_web(t, 'c'), "");
    t->now = 5500;
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "ctr-remove");
    assert_true(has_note(t, "(the pod is stopping): removing it"));
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STOPPING);
    t->now = 6000;
    assert_acts(t, adopt_web(t, 'c'), "");
    assert_acts(t, h_at(t, 7000), "");
    assert_acts(t, adopt_web(t, 'm'), "stop c0#1 10000");
    t->now = 7010;
    assert_acts(t, h_exited(t, 0, 1, 143), "pod-stopped");
    assert_phase(t, 1, "waiting");
    h_free(t);
}

/* A pod stop before web was inspected: the stop waits for its ADOPT; adopted running (its start
 * completed meanwhile) it is stopped with the others; adopted created it is removed. */
static void test_sup_inflight__stop_before_the_adoption(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "");
    assert_acts(t, adopt_web(t, 'r'), "stop c1#1 10000; stop c0#1 10000");
    h_free(t);
    t = inflight_pod();
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "");
    assert_acts(t, adopt_web(t, 'c'), "ctr-remove");
    assert_acts(t, adopt_web(t, 'm'), "stop c0#1 10000");
    h_free(t);
}

/* A pod kill: removed too, but a kill always terminates: without a confirmation within 5 s it
 * is considered gone.  One not inspected yet gets SIGKILL (below: it stays adopting). */
static void test_sup_inflight__kill_bounded(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, adopt_web(t, 'c'), "");
    t->now = 5000;
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "ctr-remove; kill c0#1 9");
    t->now = 5010;
    assert_acts(t, h_exited(t, 0, 1, 137), "");
    assert_acts(t, h_at(t, 9999), "");
    assert_acts(t, h_at(t, 10000), "pod-stopped");
    assert_true(
        has_note(t, "its removal was not confirmed 5000 ms after the kill; considered gone"));
    h_free(t);
    t = inflight_pod();
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c1#1 9; kill c0#1 9");
    h_free(t);
}

/* A pod kill before web was inspected (the new daemon's first listing had not answered; found
 * on real podman by tests/e2e/t_faulty.sh): web gets SIGKILL in case it runs, but stays
 * adopting, so that an ADOPT showing its start in flight still removes it before the pod is
 * stopped; never inspected, it is considered gone 5 s after the kill; adopted running, it is
 * killed again as any running container. */
static void test_sup_inflight__kill_before_the_adoption(void **state)
{
    (void)state;
    struct h *t = inflight_pod();
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c1#1 9; kill c0#1 9");
    assert_phase(t, 1, "adopting");
    t->now = 2010;
    assert_acts(t, h_exited(t, 0, 1, 137), ""); /* db: the pod waits for web */
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_KILL, 1, 1, 9, "instance 1 is not running"), "");
    t->now = 3000;
    assert_acts(t, adopt_web(t, 'c'), "ctr-remove");
    assert_true(has_note(t, "(the pod is stopping): removing it so that its start cannot"));
    t->now = 4000;
    assert_acts(t, adopt_web(t, 'c'), ""); /* not done yet */
    assert_acts(t, adopt_web(t, 'm'), "pod-stopped");
    assert_true(has_note(t, "its removal is confirmed: adopted as missing"));
    h_free(t);

    t = inflight_pod(); /* never inspected: bounded by the kill's 5 s */
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c1#1 9; kill c0#1 9");
    t->now = 2010;
    assert_acts(t, h_exited(t, 0, 1, 137), "");
    assert_int_equal(sup_next_deadline(t->s), 7000);
    assert_acts(t, h_at(t, 6999), "");
    assert_acts(t, h_at(t, 7000), "pod-stopped");
    assert_true(has_note(t, "web: not inspected 5000 ms after the kill; considered gone"));
    h_free(t);

    t = inflight_pod(); /* its start completed: killed as a running container */
    assert_acts(t, h_ev(t, SUP_EV_KILL_POD), "kill c1#1 9; kill c0#1 9");
    t->now = 2500;
    assert_acts(t, adopt_web(t, 'r'), "kill c1#1 9");
    t->now = 2510;
    assert_acts(t, h_exited(t, 0, 1, 137), "");
    assert_acts(t, h_exited(t, 1, 1, 137), "pod-stopped");
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_inflight__waited_for_while_the_pod_runs),
        cmocka_unit_test(test_sup_inflight__removed_after_the_wait_then_started),
        cmocka_unit_test(test_sup_inflight__stop_removes_at_once_and_waits),
        cmocka_unit_test(test_sup_inflight__stop_before_the_adoption),
        cmocka_unit_test(test_sup_inflight__kill_bounded),
        cmocka_unit_test(test_sup_inflight__kill_before_the_adoption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
