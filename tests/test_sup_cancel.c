/* SPDX-License-Identifier: MIT */
/* test_sup_cancel.c - supervisor: a cancelled probe attempt or signal command stays cancelling
 * until the backend confirms its end (EXEC_DONE of its tag); no new run of it meanwhile; a
 * failed cancel (at once or asynchronously) is sent again after 1 s, the wait doubling up to
 * 30 s; one without an answer is sent again every 10 s; the instance's end ends it
 * (SPEC.md 8.6, issue 10). */
#include "sup_harness.h"

/* One container `a` (always) with an exec readiness probe: timeout 2 s, period 3 s; running
 * from 0, its first attempt (tag 1) times out at 2 s and is cancelled. */
static struct h *timed_out_pod(void)
{
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 2, 3, 1);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "probe c0#1 readiness exec tag1 dl=2000");
    assert_acts(t, h_at(t, 2000), "cancel c0 tag1");
    return t;
}

static const char *h_cancelled(struct h *t, uint64_t inst, uint64_t tag)
{
    return h_done(t, 0, inst, tag, BACKEND_CANCELLED);
}

static void test_sup_cancel__failed_cancel_retried_with_bounded_backoff(void **state)
{
    (void)state;
    struct h *t = timed_out_pod();
    static const int64_t waits[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (size_t k = 0; k < sizeof waits / sizeof waits[0]; k++) {
        assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, 0, 1, 1, "podman exec: exit 125"), "");
        char want[96];
        snprintf(want, sizeof want, "failed: podman exec: exit 125; retry in %lld ms",
                 (long long)waits[k]);
        assert_true(has_note(t, want));
        int64_t at = t->now + waits[k];
        assert_int_equal(sup_next_deadline(t->s), at);
        /* meanwhile no new attempt, although its period passed long ago */
        assert_acts(t, h_at(t, at - 1), "");
        assert_acts(t, h_at(t, at), "cancel c0 tag1");
        assert_true(has_note(t, "cancel readiness probe (tag 1) again (the cancel failed)"));
    }
    /* the end is confirmed: the next attempt at once */
    t->now += 10;
    int64_t now = t->now;
    char want[64];
    snprintf(want, sizeof want, "probe c0#1 readiness exec tag2 dl=%lld", (long long)now + 2000);
    assert_acts(t, h_cancelled(t, 1, 1), want);
    assert_true(has_note(t, "cancelled readiness probe (tag 1) has ended"));
    h_free(t);
}

/* A cancel the backend never answers (podman hangs) is sent again every 10 s. */
static void test_sup_cancel__no_answer_sent_again(void **state)
{
    (void)state;
    struct h *t = timed_out_pod();
    assert_int_equal(sup_next_deadline(t->s), 12000);
    assert_acts(t, h_at(t, 11999), "");
    assert_acts(t, h_at(t, 12000), "cancel c0 tag1");
    assert_true(has_note(t, "cancel readiness probe (tag 1) again (no answer)"));
    assert_acts(t, h_at(t, 22000), "cancel c0 tag1");
    /* its own result (it ended by itself) ends it too, and is not credited */
    t->now = 22500;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "probe c0#1 readiness exec tag2 dl=24500");
    assert_false(h_cs(t, 0)->ready);
    h_free(t);
}

/* BACKEND_EV_CALL_FAILED of a cancel without its container (ctr SIZE_MAX): found by its tag. */
static void test_sup_cancel__async_failure_found_by_tag(void **state)
{
    (void)state;
    struct h *t = timed_out_pod();
    t->now = 2500;
    assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, SIZE_MAX, 0, 1, "kill: exit 1"), "");
    assert_true(has_note(t, "a: cancel of readiness probe (tag 1) failed: kill: exit 1"));
    assert_int_equal(sup_next_deadline(t->s), 3500);
    h_free(t);
}

/* The instance's end ends the cancel: nothing of a gone instance runs.  The next instance's
 * probes are not held back, and late answers about the old tag change nothing. */
static void test_sup_cancel__instance_exit_ends_it(void **state)
{
    (void)state;
    struct h *t = timed_out_pod();
    assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, 0, 1, 1, "busy"), ""); /* retry at 3 s */
    t->now = 2500;
    assert_acts(t, h_exited(t, 0, 1, 1), "start c0#2");       /* its first failure: at once */
    assert_int_equal(sup_next_deadline(t->s), 2500 + 300000); /* only its create timeout */
    assert_acts(t, h_at(t, 3000), "");
    assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, 0, 1, 1, "late"), "");
    assert_true(has_note(t, "nothing to cancel"));
    t->now = 2600;
    assert_acts(t, h_started(t, 0, 2), "probe c0#2 readiness exec tag2 dl=4600");
    t->now = 2700;
    assert_acts(t, h_cancelled(t, 1, 1), "");
    assert_true(has_note(t, "stale or cancelled probe result (tag 1) ignored"));
    h_free(t);
}

/* While stopping, a cancel is still sent again until the exit (the process may still run). */
static void test_sup_cancel__retried_while_stopping(void **state)
{
    (void)state;
    struct h *t = timed_out_pod();
    assert_acts(t, h_ev(t, SUP_EV_STOP_POD), "stop c0#1 10000");
    assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, 0, 1, 1, "busy"), "");
    assert_acts(t, h_at(t, 3000), "cancel c0 tag1");
    t->now = 3100;
    assert_acts(t, h_exited(t, 0, 1, 143), "pod-stopped");
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    h_free(t);
}

/* A signal command past its 60 s deadline is cancelled; a signal while its end is not confirmed
 * is coalesced (two runs never coexist); after the confirmation a signal runs it again. */
static void test_sup_cancel__signal_command(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].signal_cmd = h_cmd_reload;
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "probe c0#1 signal-cmd exec tag1 dl=60000");
    assert_acts(t, h_at(t, 60000), "cancel c0 tag1");
    assert_true(has_note(t, "signal-cmd command timed out; cancelled"));
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "");
    assert_true(has_note(t, "signal command still running; coalesced"));
    t->now = 60010;
    assert_acts(t, h_cancelled(t, 1, 1), "");
    assert_true(has_note(t, "cancelled signal-cmd command (tag 1) has ended"));
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "probe c0#1 signal-cmd exec tag2 dl=120010");
    h_free(t);
}

/* BACKEND_CANCELLED for a request nobody cancelled is the backend's own failure: UNKNOWN. */
static void test_sup_cancel__unasked_cancelled_result_is_unknown(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 2, 3, 1);
    h_go(t, 1);
    h_boot1(t);
    t->now = 100;
    assert_acts(t, h_cancelled(t, 1, 1), "");
    assert_true(has_note(t, "readiness probe result unknown (1 of 3)"));
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_cancel__failed_cancel_retried_with_bounded_backoff),
        cmocka_unit_test(test_sup_cancel__no_answer_sent_again),
        cmocka_unit_test(test_sup_cancel__async_failure_found_by_tag),
        cmocka_unit_test(test_sup_cancel__instance_exit_ends_it),
        cmocka_unit_test(test_sup_cancel__retried_while_stopping),
        cmocka_unit_test(test_sup_cancel__signal_command),
        cmocka_unit_test(test_sup_cancel__unasked_cancelled_result_is_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
