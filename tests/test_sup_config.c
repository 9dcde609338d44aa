/* SPDX-License-Identifier: MIT */
/* test_sup_config.c - supervisor config changes: debounce window (restarted by every change,
 * one action per burst), the checksum-file rule, per-container reload actions (signal sig/cmd,
 * restart on-config/on-interval, exited restart, others alone), coalescing during restarts,
 * reload-configs (no debounce). */
#include "sup_harness.h"

/* c0 sig HUP never; c1 on-config no signal; c2 on-config (exits); c3 never no signal;
 * c4 on-config not mounting; c5 cmd signal; c6 on-interval:300 (exits 0, waits). */
static struct h *cfg_pod(void)
{
    struct h *t = h_new();
    h_volume(t, 0, "cfg");
    h_volume(t, 1, "other");
    h_ctr(t, 0, "sig", SPEC_RESTART_NEVER);
    t->c[0].signal_sig = "HUP";
    h_ctr(t, 1, "restarter", SPEC_RESTART_ON_CONFIG);
    t->c[1].stop_timeout_s = 4;
    h_ctr(t, 2, "exiter", SPEC_RESTART_ON_CONFIG);
    h_ctr(t, 3, "plain", SPEC_RESTART_NEVER);
    h_ctr(t, 4, "unmounted", SPEC_RESTART_ON_CONFIG);
    h_ctr(t, 5, "cmd", SPEC_RESTART_ALWAYS);
    t->c[5].signal_cmd = h_cmd_reload;
    h_ctr(t, 6, "interval", SPEC_RESTART_ON_INTERVAL);
    t->c[6].restart_interval_s = 300;
    for (size_t i = 0; i < 7; i++)
        if (i != 4)
            h_mount(t, i, "cfg");
    h_mount(t, 4, "other");
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 7; i++)
        h_started(t, i, 1);
    h_exited(t, 2, 1, 0);
    h_exited(t, 6, 1, 0);
    assert_phase(t, 2, "exited");
    assert_phase(t, 6, "exited");
    return t;
}

static const char *h_reload(struct h *t, size_t vol)
{
    struct sup_event ev = {.type = SUP_EV_RELOAD_CONFIGS, .volume = vol};
    return h_step(t, &ev);
}

/* The actions of one burst that fires at `now` on cfg_pod(). */
static const char *burst_actions(int64_t now)
{
    static char buf[256];
    snprintf(buf, sizeof buf,
             "signal c0#1 1; stop c1#1 4000; start c2#2; probe c5#1 signal-cmd exec tag1 dl=%lld; "
             "start c6#2",
             (long long)(now + 60000));
    return buf;
}

static void test_sup_config__debounce_one_action_per_burst(void **state)
{
    (void)state;
    struct h *t = cfg_pod();
    t->now = 0;
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_int_equal(sup_next_deadline(t->s), 2000);
    t->now = 1000;
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_int_equal(sup_next_deadline(t->s), 3000); /* the window restarts */
    assert_acts(t, h_at(t, 2500), "");
    assert_acts(t, h_at(t, 2999), "");
    assert_acts(t, h_at(t, 3000), burst_actions(3000));
    assert_true(sup_next_deadline(t->s) > 3000);
    h_free(t);
    t = cfg_pod();
    t->now = 0;
    h_cfg(t, 0, false, false);
    t->now = 1500;
    h_cfg(t, 0, false, false);
    t->now = 3000;
    h_cfg(t, 0, false, false);
    assert_acts(t, h_at(t, 4999), "");
    assert_acts(t, h_at(t, 5000), burst_actions(5000));
    assert_true(has_note(t, "config cfg changed"));
    /* Only one action per burst. */
    assert_acts(t, h_at(t, 9000), "");
    h_free(t);
}

static void test_sup_config__reload_actions_per_container(void **state)
{
    (void)state;
    struct h *t = cfg_pod();
    t->now = 2000;
    assert_acts(t, h_reload(t, 0), burst_actions(2000));
    /* c3 (running, never, no signal) is left alone; c4 does not mount the volume. */
    assert_phase(t, 3, "running");
    assert_phase(t, 4, "running");
    /* on-config without a signal: restarted (stop, then start right after the exit). */
    t->now = 2500;
    assert_acts(t, h_exited(t, 1, 1, 143), "start c1#2");
    assert_int_equal(h_cs(t, 1)->consecutive_failures, 0);
    h_free(t);
}

static void test_sup_config__unmounted_running_restarts(void **state)
{
    (void)state;
    struct h *t = cfg_pod();
    assert_acts(t, h_reload(t, 1), "stop c4#1 10000");
    /* Unknown volume index: ignored. */
    assert_acts(t, h_reload(t, 9), "");
    assert_acts(t, h_cfg(t, 9, false, false), "");
    h_free(t);
}

static void test_sup_config__checksum_file_rule(void **state)
{
    (void)state;
    struct h *t = cfg_pod();
    /* The cluster tool empties and refills the directory: no action until config/cfg.txt
     * changed, however long that takes. */
    t->now = 0;
    assert_acts(t, h_cfg(t, 0, false, true), "");
    t->now = 500;
    assert_acts(t, h_cfg(t, 0, false, true), "");
    assert_int_equal(sup_next_deadline(t->s), 300000); /* only c6's interval timer */
    assert_acts(t, h_at(t, 100000), "");
    /* The checksum file arrives: now the quiet window counts. */
    t->now = 100000;
    assert_acts(t, h_cfg(t, 0, true, true), "");
    assert_int_equal(sup_next_deadline(t->s), 102000);
    t->now = 101000;
    assert_acts(t, h_cfg(t, 0, false, true), "");
    assert_int_equal(sup_next_deadline(t->s), 103000);
    assert_acts(t, h_at(t, 103000), burst_actions(103000));
    t->now = 103100;
    assert_acts(t, h_exited(t, 1, 1, 0), "start c1#2");
    h_started(t, 1, 2);
    h_started(t, 2, 2);
    h_started(t, 6, 2);
    h_done(t, 5, 1, 1, BACKEND_OK);
    /* A new burst needs the checksum file again. */
    t->now = 200000;
    assert_acts(t, h_cfg(t, 0, false, true), "");
    assert_acts(t, h_at(t, 300000), "");
    h_free(t);
}

static void test_sup_config__debounce_zero_is_immediate(void **state)
{
    (void)state;
    struct h *t = h_new();
    t->spec.config_debounce_ms = 0;
    h_volume(t, 0, "cfg");
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].signal_sig = "USR2";
    h_mount(t, 0, "cfg");
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_cfg(t, 0, false, false), "signal c0#1 12");
    assert_acts(t, h_cfg(t, 0, false, true), "");
    assert_acts(t, h_cfg(t, 0, true, true), "signal c0#1 12");
    h_free(t);
}

static void test_sup_config__coalesce_during_restart(void **state)
{
    (void)state;
    struct h *t = h_new();
    t->spec.config_debounce_ms = 0;
    h_volume(t, 0, "cfg");
    h_ctr(t, 0, "sig", SPEC_RESTART_ALWAYS);
    t->c[0].signal_sig = "HUP";
    h_mount(t, 0, "cfg");
    h_ctr(t, 1, "cfgpol", SPEC_RESTART_ON_CONFIG);
    h_mount(t, 1, "cfg");
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    h_started(t, 1, 1);
    /* c1 restarts for the first change; more changes while it stops add nothing. */
    assert_acts(t, h_cfg(t, 0, false, false), "signal c0#1 1; stop c1#1 10000");
    assert_acts(t, h_cfg(t, 0, false, false), "signal c0#1 1");
    assert_acts(t, h_cfg(t, 0, false, false), "signal c0#1 1");
    assert_acts(t, h_exited(t, 1, 1, 0), "start c1#2");
    /* Changes while the new instance is being created: one pending reload, applied once it
     * started. */
    t->now = 100;
    assert_acts(t, h_exited(t, 0, 1, 1), "");
    assert_acts(t, h_at(t, 1100), "start c0#2");
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_acts(t, h_started(t, 0, 2), "signal c0#2 1");
    assert_acts(t, h_started(t, 1, 2), "stop c1#2 10000");
    /* In backoff the next start reads the new config anyway: nothing to do. */
    t->now = 2000;
    h_exited(t, 0, 2, 1);
    assert_phase(t, 0, "backoff");
    assert_acts(t, h_cfg(t, 0, false, false), "");
    h_free(t);
}

/* A reload pending for an instance whose start failed is not carried over to the next
 * instance: that one reads the new files (found by podsim sweep: a hung start, then an extra
 * restart 110 ms after the retried start). */
static void test_sup_config__pending_reload_not_for_next_instance(void **state)
{
    (void)state;
    for (int sig = 0; sig < 2; sig++) {
        struct h *t = h_new();
        t->spec.config_debounce_ms = 0;
        h_volume(t, 0, "cfg");
        h_ctr(t, 0, "c", sig ? SPEC_RESTART_ALWAYS : SPEC_RESTART_ON_CONFIG);
        if (sig)
            t->c[0].signal_sig = "HUP";
        h_mount(t, 0, "cfg");
        h_go(t, 1);
        h_ev(t, SUP_EV_START_POD);
        /* creating: the change is pending for instance 1 */
        assert_acts(t, h_cfg(t, 0, false, false), "");
        h_call_failed(t, SUP_ACT_CTR_START, 0, 1, 0, "boom");
        assert_acts(t, h_at(t, 1000), "start c0#2");
        /* instance 2 started after the change: no restart, no signal */
        assert_acts(t, h_started(t, 0, 2), "");
        assert_phase(t, 0, "running");
        h_free(t);
    }
}

static void test_sup_config__ignored_when_not_running_pod(void **state)
{
    (void)state;
    struct h *t = h_new();
    t->spec.config_debounce_ms = 0;
    h_volume(t, 0, "cfg");
    h_ctr(t, 0, "a", SPEC_RESTART_ON_CONFIG);
    h_mount(t, 0, "cfg");
    h_go(t, 1);
    /* Before start: nothing runs, nothing to do. */
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_acts(t, h_reload(t, 0), "");
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "");
    h_boot1(t);
    h_ev(t, SUP_EV_STOP_POD);
    /* While stopping: nothing is restarted. */
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_acts(t, h_reload(t, 0), "");
    h_free(t);
}

static void test_sup_config__pending_burst_dropped_by_stop(void **state)
{
    (void)state;
    struct h *t = cfg_pod();
    h_cfg(t, 0, false, false);
    assert_int_equal(sup_next_deadline(t->s), 2000);
    h_ev(t, SUP_EV_STOP_POD);
    /* The stop's own deadlines remain, the burst is gone. */
    assert_true(sup_next_deadline(t->s) > 2000);
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_config__debounce_one_action_per_burst),
        cmocka_unit_test(test_sup_config__reload_actions_per_container),
        cmocka_unit_test(test_sup_config__unmounted_running_restarts),
        cmocka_unit_test(test_sup_config__checksum_file_rule),
        cmocka_unit_test(test_sup_config__debounce_zero_is_immediate),
        cmocka_unit_test(test_sup_config__coalesce_during_restart),
        cmocka_unit_test(test_sup_config__pending_reload_not_for_next_instance),
        cmocka_unit_test(test_sup_config__ignored_when_not_running_pod),
        cmocka_unit_test(test_sup_config__pending_burst_dropped_by_stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
