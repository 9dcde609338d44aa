/* SPDX-License-Identifier: MIT */
/* test_sup_restart.c - supervisor: restart policy x exit code table, crash-loop backoff
 * (a first failure at once, growth, cap, full jitter, seed determinism, 1 s between two starts,
 * reset), give-up budget, rerun. */
#include "sup_harness.h"

struct policy_row {
    enum spec_restart policy;
    int interval_s;
    int code;
    const char *phase;  /* after the exit */
    int64_t restart_at; /* 0 = no timer; 10000 (the exit) = restarted at once */
};

/* The container exits at t=10 s after running 10 s: a first failure is restarted at once
 * (SPEC.md 8.5: d = 0, and the previous start is more than 1 s ago). */
static const struct policy_row policy_rows[] = {
    {SPEC_RESTART_NEVER, 0, 0, "exited", 0},
    {SPEC_RESTART_NEVER, 0, 1, "exited", 0},
    {SPEC_RESTART_NEVER, 0, 137, "exited", 0},
    {SPEC_RESTART_ALWAYS, 0, 0, "creating", 10000},
    {SPEC_RESTART_ALWAYS, 0, 1, "creating", 10000},
    {SPEC_RESTART_ALWAYS, 0, 143, "creating", 10000},
    {SPEC_RESTART_ON_FAILURE, 0, 0, "exited", 0},
    {SPEC_RESTART_ON_FAILURE, 0, 2, "creating", 10000},
    {SPEC_RESTART_ON_CONFIG, 0, 0, "exited", 0},
    {SPEC_RESTART_ON_CONFIG, 0, 1, "creating", 10000},
    {SPEC_RESTART_ON_INTERVAL, 30, 0, "exited", 40000},
    {SPEC_RESTART_ON_INTERVAL, 30, 1, "creating", 10000},
    {SPEC_RESTART_ON_INTERVAL, 0, 0, "exited", 11000}, /* 1 s floor */
};

static void test_sup_policy__exit_code_table(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof policy_rows / sizeof policy_rows[0]; r++) {
        const struct policy_row *row = &policy_rows[r];
        struct h *t = h_new();
        h_ctr(t, 0, "a", row->policy);
        t->c[0].restart_interval_s = row->interval_s;
        h_go(t, 42);
        h_boot1(t);
        t->now = 10000;
        print_message("row %zu: %s/%d exit %d\n", r, spec_restart_name(row->policy),
                      row->interval_s, row->code);
        bool at_once = row->restart_at == t->now;
        assert_acts(t, h_exited(t, 0, 1, row->code), at_once ? "start c0#2" : "");
        assert_phase(t, 0, row->phase);
        if (at_once) { /* a new instance: no exit code of its own yet */
            assert_int_equal(h_cs(t, 0)->restart_count, 1);
            assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
            assert_int_equal(h_cs(t, 0)->backoff_ms, 0);
            assert_true(has_note(t, "restart in 0 ms (backoff #1)"));
            h_free(t);
            continue;
        }
        assert_true(h_cs(t, 0)->has_exit_code);
        assert_int_equal(h_cs(t, 0)->exit_code, row->code);
        assert_false(h_cs(t, 0)->running);
        if (row->restart_at) {
            assert_int_equal(sup_next_deadline(t->s), row->restart_at);
            assert_int_equal(h_cs(t, 0)->next_start_mono_ms, row->restart_at);
            assert_acts(t, h_at(t, row->restart_at - 1), "");
            assert_acts(t, h_at(t, row->restart_at), "start c0#2");
            assert_int_equal(h_cs(t, 0)->restart_count, 1);
        } else {
            assert_true(sup_next_deadline(t->s) == INT64_MAX);
            assert_acts(t, h_at(t, 10000000), "");
        }
        h_free(t);
    }
}

/* SPEC.md 8.5: a restart after a failure comes at max(exit + d, previous start + 1 s); d = 0
 * for the first failure, full jitter in [0, min(max, initial * 2^(n-2))] from the second. */
static void test_sup_backoff__first_failure_at_once_after_1s_from_start(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.reset_s = 60;
    h_go(t, 3);
    h_boot1(t); /* CTR_START at 0 */
    /* a crash 300 ms after its start: the second start waits for start + 1 s */
    t->now = 300;
    assert_acts(t, h_exited(t, 0, 1, 1), "");
    assert_phase(t, 0, "backoff");
    assert_int_equal(h_cs(t, 0)->backoff_ms, 700);
    assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 1000);
    assert_true(has_note(t, "exited with code 1; restart in 700 ms (backoff #1)"));
    assert_acts(t, h_at(t, 999), "");
    assert_acts(t, h_at(t, 1000), "start c0#2");
    t->now = 1100;
    h_started(t, 0, 2);
    /* the second failure, 5 s later: jitter in [0, 1000] */
    t->now = 6100;
    h_exited(t, 0, 2, 1);
    int64_t at = h_cs(t, 0)->phase == SUP_CTR_BACKOFF ? h_cs(t, 0)->next_start_mono_ms : t->now;
    assert_true(at >= 6100 && at <= 7100);
    h_at(t, at);
    assert_int_equal(h_cs(t, 0)->instance, 3);
    t->now = at + 100;
    h_started(t, 0, 3);
    /* stable for resetSeconds: the streak starts afresh, and a crash is restarted at once */
    h_at(t, t->now + 60000);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    t->now += 5;
    assert_acts(t, h_exited(t, 0, 3, 137), "start c0#4");
    assert_true(has_note(t, "restart in 0 ms (backoff #1)"));
    h_free(t);
}

/* A start that fails at once (START_FAILED right after CTR_START): the next start comes 1 s after
 * the previous one, also for the first failure. */
static void test_sup_backoff__failed_start_waits_1s_from_its_start(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_FAILURE);
    h_go(t, 3);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 50;
    assert_acts(t, h_backend(t, BACKEND_EV_START_FAILED, 0, 1, 125), "");
    assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 1000);
    assert_acts(t, h_at(t, 1000), "start c0#2");
    /* a call that failed at once: the same */
    t->now = 1000;
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_START, 0, 2, 0, "podman gone"), "");
    assert_phase(t, 0, "backoff");
    assert_true(h_cs(t, 0)->next_start_mono_ms >= 2000);
    assert_true(h_cs(t, 0)->next_start_mono_ms <= 2000 + 1000);
    h_free(t);
}

static void test_sup_policy__on_interval_not_before_interval(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_INTERVAL);
    t->c[0].restart_interval_s = 10;
    h_go(t, 1);
    h_boot1(t);
    for (int k = 1; k <= 3; k++) {
        t->now += 500;
        assert_acts(t, h_exited(t, 0, (uint64_t)k, 0), "");
        int64_t due = t->now + 10000;
        assert_acts(t, h_at(t, due - 1), "");
        char want[32];
        snprintf(want, sizeof want, "start c0#%d", k + 1);
        assert_acts(t, h_at(t, due), want);
        h_started(t, 0, (uint64_t)k + 1);
    }
    /* Clean interval restarts do not build up backoff. */
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    h_free(t);
}

/* Runs a crash loop (start, exit 1 right away) and records the restart delays. */
static void crash_loop(uint64_t seed, int64_t initial_ms, int64_t max_ms, int64_t *delays, int n)
{
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.initial_ms = (int)initial_ms;
    t->c[0].backoff.max_ms = (int)max_ms;
    h_go(t, seed);
    h_boot1(t);
    for (int k = 0; k < n; k++) {
        t->now += 100;
        h_exited(t, 0, (uint64_t)k + 1, 1);
        assert_phase(t, 0, "backoff");
        assert_int_equal(h_cs(t, 0)->consecutive_failures, k + 1);
        delays[k] = h_cs(t, 0)->backoff_ms;
        assert_int_equal(h_cs(t, 0)->next_start_mono_ms, t->now + delays[k]);
        char want[32];
        snprintf(want, sizeof want, "start c0#%d", k + 2);
        assert_acts(t, h_at(t, t->now + delays[k]), want);
        h_started(t, 0, (uint64_t)k + 2);
    }
    h_free(t);
}

/* Crash loops exit 100 ms after their start: the delay is the jitter, but at least the 900 ms
 * left of the 1 s between two starts. */
static void test_sup_backoff__growth_cap_jitter(void **state)
{
    (void)state;
    int64_t d[12];
    crash_loop(7, 1000, 16000, d, 12);
    int64_t maxd = 0;
    for (int k = 1; k < 12; k++) { /* failure n = k + 1: ceiling 1000 * 2^(n-2) */
        int64_t ceiling = 1000;
        for (int e = 1; e < k && ceiling < 16000; e++)
            ceiling *= 2;
        if (ceiling > 16000)
            ceiling = 16000;
        assert_true(d[k] >= 900);
        assert_true(d[k] <= (ceiling > 900 ? ceiling : 900));
        if (d[k] > maxd)
            maxd = d[k];
    }
    assert_int_equal(d[0], 900); /* the first failure: no jitter, only the 1 s floor */
    assert_true(maxd > 8000);    /* it grew past the 4th step */
}

static void test_sup_backoff__seed_determinism(void **state)
{
    (void)state;
    int64_t a[10], b[10], c[10];
    crash_loop(1234, 1000, 300000, a, 10);
    crash_loop(1234, 1000, 300000, b, 10);
    crash_loop(1235, 1000, 300000, c, 10);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_not_equal(a, c, sizeof a);
}

static void test_sup_backoff__one_second_floor(void **state)
{
    (void)state;
    int64_t d[8];
    crash_loop(9, 0, 1, d, 8); /* no backoff configured: still 1 s between two starts */
    for (int k = 0; k < 8; k++)
        assert_int_equal(d[k], 900);
    crash_loop(9, 100, 400, d, 8);
    for (int k = 0; k < 8; k++)
        assert_int_equal(d[k], 900);
}

static void test_sup_backoff__reset_after_stable_run(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.reset_s = 60;
    h_go(t, 5);
    h_boot1(t);
    for (int k = 1; k <= 3; k++) {
        t->now += 10;
        h_exited(t, 0, (uint64_t)k, 1);
        h_at(t, h_cs(t, 0)->next_start_mono_ms);
        h_started(t, 0, (uint64_t)k + 1);
    }
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 3);
    int64_t since = t->now;
    assert_int_equal(sup_next_deadline(t->s), since + 60000);
    assert_acts(t, h_at(t, since + 59999), "");
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 3);
    assert_acts(t, h_at(t, since + 60000), "");
    assert_true(has_note(t, "backoff reset after 60 s stable"));
    assert_true(has_status(t));
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    assert_int_equal(h_cs(t, 0)->backoff_ms, 0);
    t->now += 5;
    assert_acts(t, h_exited(t, 0, 4, 1), "start c0#5"); /* a first failure again */
    assert_int_equal(h_cs(t, 0)->backoff_ms, 0);
    h_free(t);
}

/* Advances to the next deadline and answers every probe attempt with `r`. */
static void run_probes_until(struct h *t, int64_t until, enum backend_result r)
{
    while (sup_next_deadline(t->s) <= until) {
        h_at(t, sup_next_deadline(t->s));
        const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
        if (p) {
            uint64_t tag = p->tag, inst = p->probe.instance;
            size_t ctr = p->ctr;
            t->now += 10;
            h_done(t, ctr, inst, tag, r);
        }
    }
}

static void test_sup_backoff__reset_needs_readiness(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.reset_s = 60;
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 5, 100, 1);
    h_go(t, 5);
    h_boot1(t); /* readiness probe tag1 in flight */
    t->now = 10;
    h_exited(t, 0, 1, 1);
    h_at(t, 1010);
    h_started(t, 0, 2);
    const struct sup_action *p0 = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p0);
    uint64_t tag0 = p0->tag;
    t->now += 10;
    h_done(t, 0, 2, tag0, BACKEND_FAIL);
    /* Never ready: no reset even after a long run. */
    run_probes_until(t, 500000, BACKEND_FAIL);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
    assert_false(h_cs(t, 0)->ready);
    /* Ready from the next success on: reset 60 s later. */
    h_at(t, sup_next_deadline(t->s));
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    uint64_t tag = p->tag;
    t->now += 10;
    int64_t ready_at = t->now;
    h_done(t, 0, 2, tag, BACKEND_OK);
    assert_true(h_cs(t, 0)->ready);
    run_probes_until(t, ready_at + 59999, BACKEND_OK);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
    assert_int_equal(sup_next_deadline(t->s), ready_at + 60000);
    h_at(t, ready_at + 60000);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    h_free(t);
}

static void test_sup_giveup__budget_exhausted(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.give_up_count = 3;
    t->c[0].backoff.give_up_window_s = 60;
    h_go(t, 5);
    h_boot1(t);
    for (int k = 1; k <= 2; k++) {
        t->now += 10;
        h_exited(t, 0, (uint64_t)k, 1);
        assert_phase(t, 0, "backoff");
        assert_true(sup_status(t->s)->healthy); /* within its budget */
        h_at(t, h_cs(t, 0)->next_start_mono_ms);
        h_started(t, 0, (uint64_t)k + 1);
    }
    t->now += 10;
    assert_acts(t, h_exited(t, 0, 3, 1), "");
    assert_phase(t, 0, "gave-up");
    assert_true(h_cs(t, 0)->gave_up);
    assert_true(has_note(t, "gave up after 3 failures within 60 s"));
    bool err_level = false;
    for (size_t k = 0; k < t->a.n; k++)
        if (t->a.v[k].type == SUP_ACT_NOTE && strstr(t->a.v[k].text, "gave up"))
            err_level = t->a.v[k].level == POD_LOG_ERROR;
    assert_true(err_level);
    assert_false(sup_status(t->s)->healthy);
    assert_false(sup_status(t->s)->ready);
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    /* Only rerun brings it back, with a fresh budget. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "");
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "start c0#4");
    assert_false(h_cs(t, 0)->gave_up);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    h_started(t, 0, 4);
    t->now += 10;
    h_exited(t, 0, 4, 1);
    assert_phase(t, 0, "backoff");
    h_free(t);
}

static void test_sup_giveup__window_and_clean_exits(void **state)
{
    (void)state;
    /* Failures spread wider than the window never give up. */
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.give_up_count = 2;
    t->c[0].backoff.give_up_window_s = 5;
    h_go(t, 5);
    h_boot1(t);
    for (int k = 1; k <= 5; k++) {
        t->now += 6000;
        h_exited(t, 0, (uint64_t)k, 1);
        assert_true(h_cs(t, 0)->phase == SUP_CTR_BACKOFF || h_cs(t, 0)->phase == SUP_CTR_CREATING);
        if (h_cs(t, 0)->phase == SUP_CTR_BACKOFF)
            h_at(t, h_cs(t, 0)->next_start_mono_ms);
        assert_phase(t, 0, "creating");
        h_started(t, 0, (uint64_t)k + 1);
    }
    h_free(t);
    /* Clean exits (0) under always restart but are not failures. */
    t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    t->c[0].backoff.give_up_count = 2;
    t->c[0].backoff.give_up_window_s = 600;
    h_go(t, 5);
    h_boot1(t);
    for (int k = 1; k <= 5; k++) {
        t->now += 10;
        h_exited(t, 0, (uint64_t)k, 0);
        assert_phase(t, 0, "backoff");
        h_at(t, h_cs(t, 0)->next_start_mono_ms);
        h_started(t, 0, (uint64_t)k + 1);
    }
    h_free(t);
}

static void test_sup_giveup__failed_starts_count(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_FAILURE);
    t->c[0].backoff.give_up_count = 2;
    t->c[0].backoff.give_up_window_s = 600;
    h_go(t, 5);
    h_ev(t, SUP_EV_START_POD);
    h_backend(t, BACKEND_EV_START_FAILED, 0, 1, 0);
    assert_phase(t, 0, "backoff");
    h_at(t, h_cs(t, 0)->next_start_mono_ms);
    h_backend(t, BACKEND_EV_START_FAILED, 0, 2, 0);
    assert_phase(t, 0, "gave-up");
    h_free(t);
}

static void test_sup_rerun__cycles_regardless_of_policy(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].stop_timeout_s = 3;
    h_go(t, 5);
    h_boot1(t);
    /* Running: stop, then start right after the exit (no backoff, not a failure). */
    t->now = 1000;
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "stop c0#1 3000");
    t->now = 1500;
    assert_acts(t, h_exited(t, 0, 1, 143), "start c0#2");
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    h_started(t, 0, 2);
    /* Exited under never: started now. */
    h_exited(t, 0, 2, 0);
    assert_phase(t, 0, "exited");
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "start c0#3");
    /* In backoff: started now, the timer is dropped. */
    t->c[0].restart = SPEC_RESTART_ALWAYS;
    h_started(t, 0, 3);
    t->now = 2000;
    h_exited(t, 0, 3, 1);
    assert_phase(t, 0, "backoff");
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "start c0#4");
    assert_acts(t, h_at(t, 100000), "");
    /* While a rerun stop is in progress, a second rerun changes nothing. */
    h_started(t, 0, 4);
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "stop c0#4 3000");
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "");
    assert_acts(t, h_exited(t, 0, 4, 0), "start c0#5");
    /* Unknown container index: ignored. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 9), "");
    h_free(t);
}

static void test_sup_rerun__never_two_instances(void **state)
{
    (void)state;
    /* Whatever sequence of reruns/signals arrives, a start never follows a start of the same
     * container without an exit (or a considered-gone) in between. */
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_CONFIG);
    h_go(t, 5);
    h_boot1(t);
    int up = 1;
    for (int k = 0; k < 50; k++) {
        t->now += 100;
        const struct sup_event evs[] = {
            {.type = SUP_EV_RERUN}, {.type = SUP_EV_SIGNAL}, {.type = SUP_EV_TICK}};
        h_step(t, &evs[k % 3]);
        for (size_t a = 0; a < t->a.n; a++)
            if (t->a.v[a].type == SUP_ACT_CTR_START) {
                assert_int_equal(up, 0);
                up = 1;
            }
        if (k % 4 == 1 && h_cs(t, 0)->running) {
            h_exited(t, 0, h_cs(t, 0)->instance, 0);
            up = 0;
            for (size_t a = 0; a < t->a.n; a++)
                if (t->a.v[a].type == SUP_ACT_CTR_START)
                    up = 1;
        }
        if (h_cs(t, 0)->phase == SUP_CTR_CREATING)
            h_started(t, 0, h_cs(t, 0)->instance);
    }
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_policy__exit_code_table),
        cmocka_unit_test(test_sup_policy__on_interval_not_before_interval),
        cmocka_unit_test(test_sup_backoff__first_failure_at_once_after_1s_from_start),
        cmocka_unit_test(test_sup_backoff__failed_start_waits_1s_from_its_start),
        cmocka_unit_test(test_sup_backoff__growth_cap_jitter),
        cmocka_unit_test(test_sup_backoff__seed_determinism),
        cmocka_unit_test(test_sup_backoff__one_second_floor),
        cmocka_unit_test(test_sup_backoff__reset_after_stable_run),
        cmocka_unit_test(test_sup_backoff__reset_needs_readiness),
        cmocka_unit_test(test_sup_giveup__budget_exhausted),
        cmocka_unit_test(test_sup_giveup__window_and_clean_exits),
        cmocka_unit_test(test_sup_giveup__failed_starts_count),
        cmocka_unit_test(test_sup_rerun__cycles_regardless_of_policy),
        cmocka_unit_test(test_sup_rerun__never_two_instances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
