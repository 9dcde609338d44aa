/* SPDX-License-Identifier: MIT */
/* test_sup.c - supervisor: startup order (init, sidecar, startupProbe gating), fan-out, status,
 * names, stale events, save/restore and adoption.  Table-style: each test feeds events with
 * explicit `now` values and asserts the exact action line (see sup_harness.h). */
#include "sup_harness.h"
#include <jansson.h>

static void test_sup_new__initial_status(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    const struct sup_status *st = sup_status(t->s);
    assert_int_equal(st->phase, SUP_POD_CREATED);
    assert_int_equal(st->n, 2);
    assert_false(st->ready);
    assert_false(st->healthy);
    assert_phase(t, 0, "waiting");
    assert_phase(t, 1, "waiting");
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    /* Nothing happens before START_POD. */
    t->now = 5000;
    assert_acts(t, h_ev(t, SUP_EV_TICK), "");
    h_free(t);
}

static void test_sup_start__spec_order_no_probes(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_ctr(t, 1, "b", SPEC_RESTART_NEVER);
    h_ctr(t, 2, "c", SPEC_RESTART_NEVER);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_true(has_status(t));
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STARTING);
    assert_phase(t, 0, "creating");
    t->now = 100;
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    assert_phase(t, 0, "running");
    assert_acts(t, h_started(t, 1, 1), "start c2#1");
    assert_false(sup_status(t->s)->ready);
    assert_acts(t, h_started(t, 2, 1), "");
    assert_true(has_note(t, "pod running"));
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    assert_true(sup_status(t->s)->ready);
    assert_true(sup_status(t->s)->healthy);
    assert_int_equal(h_cs(t, 2)->start_count, 1);
    assert_int_equal(h_cs(t, 2)->restart_count, 0);
    assert_true(h_cs(t, 2)->running);
    /* A second START_POD is ignored. */
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "");
    h_free(t);
}

static void test_sup_start__init_and_sidecar_order(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "app", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "side", SPEC_RESTART_ALWAYS);
    t->c[1].kind = SPEC_CTR_SIDECAR;
    h_ctr(t, 2, "init1", SPEC_RESTART_NEVER);
    t->c[2].kind = SPEC_CTR_INIT;
    h_ctr(t, 3, "init2", SPEC_RESTART_ON_FAILURE);
    t->c[3].kind = SPEC_CTR_INIT;
    h_go(t, 1);
    /* init/sidecar containers in spec order, then the mains. */
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c1#1");
    assert_acts(t, h_started(t, 1, 1), "start c2#1");
    /* An init container is "started" only once it exited 0. */
    assert_acts(t, h_started(t, 2, 1), "");
    assert_phase(t, 2, "starting");
    t->now = 1000;
    assert_acts(t, h_exited(t, 2, 1, 0), "start c3#1");
    assert_phase(t, 2, "exited");
    assert_true(h_cs(t, 2)->started);
    /* init2 fails: retried per its policy (on-failure) with backoff, mains wait (its first
     * failure, 500 ms after its start: the retry comes 1 s after that start). */
    h_started(t, 3, 1);
    t->now = 1500;
    assert_acts(t, h_exited(t, 3, 1, 1), "");
    assert_phase(t, 3, "backoff");
    assert_true(has_note(t, "exited with code 1 before startup completed (expected 0)"));
    assert_int_equal(sup_next_deadline(t->s), 2000);
    assert_acts(t, h_at(t, 2000), "start c3#2");
    h_started(t, 3, 2);
    assert_acts(t, h_exited(t, 3, 2, 0), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    /* Completed init containers count as ready (exit 0). */
    assert_true(sup_status(t->s)->ready);
    h_free(t);
}

static void test_sup_start__exit_probe_gates_next(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "job", SPEC_RESTART_NEVER);
    t->c[0].startup.kind = SPEC_PROBE_EXIT;
    t->c[0].startup.timeout_s = 60;
    h_ctr(t, 1, "app", SPEC_RESTART_NEVER);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "");
    assert_int_equal(sup_next_deadline(t->s), 60000);
    t->now = 5000;
    assert_acts(t, h_exited(t, 0, 1, 0), "start c1#1");
    assert_phase(t, 0, "exited");
    assert_true(h_cs(t, 0)->has_exit_code);
    assert_int_equal(h_cs(t, 0)->exit_code, 0);
    h_free(t);
}

static void test_sup_start__exit_probe_failure_never_blocks_until_rerun(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "job", SPEC_RESTART_NEVER);
    t->c[0].startup.kind = SPEC_PROBE_EXIT;
    t->c[0].startup.timeout_s = 60;
    h_ctr(t, 1, "app", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    t->now = 1000;
    assert_acts(t, h_exited(t, 0, 1, 3), "");
    assert_phase(t, 0, "failed");
    assert_true(has_note(t, "pod startup blocked at container job"));
    assert_false(sup_status(t->s)->healthy);
    assert_true(sup_next_deadline(t->s) == INT64_MAX);
    assert_acts(t, h_at(t, 600000), "");
    /* rerun cycles it regardless of policy and the order resumes. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "start c0#2");
    h_started(t, 0, 2);
    assert_acts(t, h_exited(t, 0, 2, 0), "start c1#1");
    h_free(t);
}

static void test_sup_start__startup_timeout_is_failed_start(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "job", SPEC_RESTART_ON_FAILURE);
    t->c[0].startup.kind = SPEC_PROBE_EXIT;
    t->c[0].startup.timeout_s = 60;
    t->c[0].startup.signal_targets = NULL;
    h_ctr(t, 1, "app", SPEC_RESTART_NEVER);
    h_go(t, 7);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    assert_acts(t, h_at(t, 59999), "");
    assert_acts(t, h_at(t, 60000), "stop c0#1 10000");
    assert_true(has_note(t, "startup timed out after 60 s"));
    assert_phase(t, 0, "stopping");
    assert_false(sup_status(t->s)->ready);
    t->now = 61000;
    assert_acts(t, h_exited(t, 0, 1, 143), "start c0#2"); /* a first failure: at once */
    assert_phase(t, 0, "creating");
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
    h_free(t);
}

static char *fan_targets[] = {"a", "job", "plain", "waiting", "nosuch", NULL};

static void test_sup_start__signal_fan_out(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].signal_sig = "HUP";
    h_ctr(t, 1, "job", SPEC_RESTART_ON_CONFIG);
    t->c[1].startup.kind = SPEC_PROBE_EXIT;
    t->c[1].startup.timeout_s = 60;
    h_ctr(t, 2, "plain", SPEC_RESTART_ALWAYS);
    h_ctr(t, 3, "sig", SPEC_RESTART_NEVER);
    t->c[3].startup.signal_targets = fan_targets;
    h_ctr(t, 4, "waiting", SPEC_RESTART_ON_CONFIG);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    h_started(t, 1, 1);
    h_exited(t, 1, 1, 0);
    assert_phase(t, 1, "exited");
    h_started(t, 2, 1);
    /* c3 starts up: a (running, sig) gets HUP; job (exited, on-config) is restarted; plain
     * (running, no signal) and waiting (never started) are left alone. */
    assert_acts(t, h_started(t, 3, 1), "signal c0#1 1; start c1#2; start c4#1");
    assert_true(has_note(t, "startup signal target nosuch does not exist"));
    h_free(t);
}

static void test_sup_start__signal_cmd_fan_out_and_coalesce(void **state)
{
    (void)state;
    struct h *t = h_new();
    static char *targets[] = {"a", NULL};
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].signal_cmd = h_cmd_reload;
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    t->c[1].startup.signal_targets = targets;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    assert_acts(t, h_started(t, 1, 1), "probe c0#1 signal-cmd exec tag1 dl=60000");
    assert_ptr_equal(h_find(t, SUP_ACT_PROBE)->probe.argv, h_cmd_reload);
    /* Another signal while the command is still running is coalesced. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "");
    assert_true(has_note(t, "coalesced"));
    t->now = 500;
    assert_acts(t, h_done(t, 0, 1, 1, BACKEND_OK), "");
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "probe c0#1 signal-cmd exec tag2 dl=60500");
    /* A hung signal command is cancelled at its deadline. */
    assert_acts(t, h_at(t, 60500), "cancel c0 tag2");
    assert_true(has_note(t, "signal-cmd command timed out"));
    h_free(t);
}

static void test_sup_start__start_failed_backend(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    struct sup_event ev = {.type = SUP_EV_BACKEND};
    ev.backend.type = BACKEND_EV_START_FAILED;
    ev.backend.ctr = 0;
    ev.backend.instance = 1;
    snprintf(ev.backend.msg, sizeof ev.backend.msg, "image not found");
    assert_acts(t, h_step(t, &ev), "");
    assert_true(has_note(t, "start failed: image not found; restart in 1000 ms (backoff #1)"));
    assert_phase(t, 0, "backoff");
    assert_acts(t, h_at(t, 1000), "start c0#2");
    h_free(t);
}

static void test_sup_start__create_timeout(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_int_equal(sup_next_deadline(t->s), 300000);
    /* No STARTED ever: stop (never start a second instance while this one may run). */
    assert_acts(t, h_at(t, 300000), "stop c0#1 10000");
    t->now = 300100;
    assert_acts(t, h_exited(t, 0, 1, 0), "start c0#2"); /* a failed start (the first) */
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
    h_free(t);
}

static void test_sup_events__stale_instance_ignored(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_boot1(t);
    t->now = 10;
    assert_acts(t, h_exited(t, 0, 1, 1), "");
    assert_acts(t, h_at(t, 1010), "start c0#2");
    h_started(t, 0, 2);
    /* A duplicated / late EXITED about instance 1 changes nothing. */
    assert_acts(t, h_exited(t, 0, 1, 1), "");
    assert_true(has_note(t, "event about instance 1 ignored (current 2)"));
    assert_phase(t, 0, "running");
    /* Duplicate STARTED for the current instance is ignored too. */
    assert_acts(t, h_started(t, 0, 2), "");
    assert_phase(t, 0, "running");
    /* Events about an unknown container index are ignored. */
    assert_acts(t, h_exited(t, 7, 1, 1), "");
    h_free(t);
}

static void test_sup_events__exit_without_started(void **state)
{
    (void)state;
    /* STARTED was lost: the EXITED alone means it ran and exited. */
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ON_FAILURE);
    h_ctr(t, 1, "b", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    t->now = 10;
    assert_acts(t, h_exited(t, 0, 1, 2), "start c1#1");
    assert_phase(t, 0, "backoff");
    h_free(t);
    /* With an exit probe it is the startup result. */
    t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    t->c[0].kind = SPEC_CTR_INIT;
    h_ctr(t, 1, "b", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    assert_acts(t, h_exited(t, 0, 1, 0), "start c1#1");
    h_free(t);
}

static void test_sup_status__only_on_change(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_NEVER);
    h_go(t, 1);
    h_boot1(t);
    assert_true(has_status(t));
    h_at(t, 1000);
    assert_false(has_status(t));
    h_exited(t, 0, 1, 0);
    assert_true(has_status(t));
    h_free(t);
}

/* Runs a fixed event script and concatenates every action, notes included. */
static char *script_trace(uint64_t seed)
{
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 2, 3, 1);
    h_ctr(t, 1, "b", SPEC_RESTART_ON_FAILURE);
    h_go(t, seed);
    struct pod_buf b = {0};
    h_ev(t, SUP_EV_START_POD);
    for (int k = 0; k < 200; k++) {
        int64_t d = sup_next_deadline(t->s);
        t->now = d == INT64_MAX ? t->now + 1000 : d;
        h_ev(t, SUP_EV_TICK);
        for (size_t a = 0; a < t->a.n; a++) {
            const struct sup_action *x = &t->a.v[a];
            pod_buf_printf(&b, "%lld %s %zu %llu %s\n", (long long)t->now,
                           sup_action_type_name(x->type), x->ctr, (unsigned long long)x->instance,
                           x->text);
        }
        for (size_t i = 0; i < 2; i++) {
            const struct sup_ctr_status *cs = h_cs(t, i);
            if (cs->phase == SUP_CTR_CREATING)
                h_started(t, i, cs->instance);
            else if (cs->phase == SUP_CTR_RUNNING && k % 3 == 0)
                h_exited(t, i, cs->instance, 1);
        }
    }
    h_free(t);
    return pod_buf_take(&b);
}

static void test_sup_determinism__same_seed_same_trace(void **state)
{
    (void)state;
    char *a = script_trace(11), *b = script_trace(11), *c = script_trace(12);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    free(a);
    free(b);
    free(c);
}

static void test_sup_names__tables(void **state)
{
    (void)state;
    assert_int_equal(sup_signal_number("HUP"), 1);
    assert_int_equal(sup_signal_number("SIGHUP"), 1);
    assert_int_equal(sup_signal_number("TERM"), 15);
    assert_int_equal(sup_signal_number("KILL"), 9);
    assert_int_equal(sup_signal_number("USR1"), 10);
    assert_int_equal(sup_signal_number("USR2"), 12);
    assert_int_equal(sup_signal_number("WINCH"), 28);
    assert_int_equal(sup_signal_number("9"), 9);
    assert_int_equal(sup_signal_number("BOGUS"), -1);
    assert_int_equal(sup_signal_number(""), -1);
    assert_int_equal(sup_signal_number(NULL), -1);
    assert_int_equal(sup_signal_number("0"), -1);
    assert_string_equal(sup_pod_phase_name(SUP_POD_RUNNING), "running");
    assert_string_equal(sup_ctr_phase_name(SUP_CTR_WAITING), "waiting");
    assert_string_equal(sup_ctr_phase_name(SUP_CTR_GAVE_UP), "gave-up");
    assert_string_equal(sup_ctr_phase_name(SUP_CTR_ADOPTING), "adopting");
    assert_string_equal(sup_ctr_phase_name(SUP_CTR__N), "?");
    assert_string_equal(sup_action_type_name(SUP_ACT_CTR_START), "ctr-start");
    assert_string_equal(sup_action_type_name(SUP_ACT_POD_STOPPED), "pod-stopped");
    assert_string_equal(sup_probe_role_name(SUP_PROBE_LIVENESS), "liveness");
    assert_string_equal(sup_event_type_name(SUP_EV_ADOPT), "adopt");
    assert_string_equal(sup_event_type_name(SUP_EV_TICK), "tick");
}

static void test_sup_signal__pod_signal_rules(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "sig", SPEC_RESTART_NEVER);
    t->c[0].signal_sig = "USR1";
    h_ctr(t, 1, "plain", SPEC_RESTART_NEVER);
    h_ctr(t, 2, "cfg", SPEC_RESTART_ON_CONFIG);
    h_ctr(t, 3, "fail", SPEC_RESTART_ON_FAILURE);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 4; i++)
        h_started(t, i, 1);
    h_exited(t, 2, 1, 0);
    h_exited(t, 3, 1, 0);
    assert_phase(t, 2, "exited");
    assert_phase(t, 3, "exited");
    /* All: running+sig -> signal; exited on-config -> restart; others nothing. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, SIZE_MAX), "signal c0#1 10; start c2#2");
    /* One container. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "signal c0#1 10");
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 1), "");
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 3), "");
    h_free(t);
}

static void test_sup_signal__unknown_signal_name(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "sig", SPEC_RESTART_NEVER);
    t->c[0].signal_sig = "NOPE";
    h_go(t, 1);
    h_boot1(t);
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "");
    assert_true(has_note(t, "unknown signal NOPE"));
    h_free(t);
}

/* ---- save / restore / adoption */

static struct h *adopt_pod(void)
{
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "b", SPEC_RESTART_ON_FAILURE);
    h_ctr(t, 2, "c", SPEC_RESTART_ALWAYS);
    h_ctr(t, 3, "d", SPEC_RESTART_NEVER);
    return t;
}

static void test_sup_save__round_trip(void **state)
{
    (void)state;
    struct h *t = adopt_pod();
    t->c[0].backoff.give_up_count = 5;
    h_go(t, 3);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 4; i++)
        h_started(t, i, 1);
    t->now = 100;
    h_exited(t, 0, 1, 2);
    h_exited(t, 3, 1, 0);
    char *j1 = sup_save(t->s);
    assert_non_null(strstr(j1, "\"phase\":\"running\""));
    struct sup *s2 = sup_new(&t->spec, 99);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(s2, j1, &err), 0);
    char *j2 = sup_save(s2);
    assert_string_equal(j1, j2);
    /* sup_save writes canonical compact JSON: jansson re-dumps it byte for byte. */
    json_t *parsed = json_loads(j1, 0, NULL);
    assert_non_null(parsed);
    char *redump = json_dumps(parsed, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(redump, j1);
    assert_non_null(strstr(j1, "\"failures_mono_ms\":[100]"));
    free(redump);
    json_decref(parsed);
    const struct sup_status *st = sup_status(s2);
    assert_int_equal(st->phase, SUP_POD_RUNNING);
    assert_int_equal(st->ctr[0].phase, SUP_CTR_ADOPTING);
    assert_int_equal(st->ctr[0].instance, 1);
    assert_int_equal(st->ctr[0].consecutive_failures, 1);
    assert_int_equal(st->ctr[0].start_count, 1);
    free(j1);
    free(j2);
    sup_free(s2);
    h_free(t);
}

static void test_sup_restore__rejects_bad_state(void **state)
{
    (void)state;
    struct h *t = adopt_pod();
    h_go(t, 1);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, "not json", &err), -1);
    assert_int_equal(err.code, POD_E_INVALID);
    assert_int_equal(sup_restore(t->s, "{\"phase\":\"running\",\"containers\":[]}", &err), -1);
    assert_int_equal(sup_restore(t->s, "{\"phase\":\"bogus\",\"containers\":[{},{},{},{}]}", &err),
                     -1);
    const char *wrong_name = "{\"phase\":\"running\",\"containers\":[{\"name\":\"x\"},"
                             "{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d\"}]}";
    assert_int_equal(sup_restore(t->s, wrong_name, &err), -1);
    const char *bad_field = "{\"phase\":\"running\",\"containers\":[{\"name\":\"a\","
                            "\"instance\":-4},{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d\"}]}";
    assert_int_equal(sup_restore(t->s, bad_field, &err), -1);
    h_free(t);
}

static void test_sup_adopt__running_exited_missing(void **state)
{
    (void)state;
    struct h *t = adopt_pod();
    h_go(t, 3);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 4; i++)
        h_started(t, i, 1);
    char *saved = sup_save(t->s);
    sup_free(t->s);
    /* The daemon restarts. */
    t->s = sup_new(&t->spec, 3);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    t->now = 50000;
    /* Nothing is started before the containers are adopted. */
    assert_acts(t, h_at(t, 50000), "");
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 0};
    ev.adopt.exists = true;
    ev.adopt.running = true;
    ev.adopt.instance = 1;
    assert_acts(t, h_step(t, &ev), "");
    assert_phase(t, 0, "running");
    assert_true(h_cs(t, 0)->started);
    /* b exited with 1 while the daemon was down: on-failure -> restart with backoff (its first
     * failure, its start long ago: at once). */
    ev.ctr = 1;
    ev.adopt.running = false;
    ev.adopt.exit_code = 1;
    ev.adopt.finished_wall_ns = H_FINISHED_SOMETIME_NS;
    assert_acts(t, h_step(t, &ev), "start c1#2");
    assert_phase(t, 1, "creating");
    assert_int_equal(h_cs(t, 1)->consecutive_failures, 1);
    /* c is gone: started again (it was past its place in the order). */
    memset(&ev.adopt, 0, sizeof ev.adopt);
    ev.ctr = 2;
    assert_acts(t, h_step(t, &ev), "start c2#2");
    /* d exited 0 under never: stays exited. */
    ev.ctr = 3;
    ev.adopt.exists = true;
    ev.adopt.instance = 1;
    ev.adopt.finished_wall_ns = H_FINISHED_SOMETIME_NS;
    assert_acts(t, h_step(t, &ev), "");
    assert_phase(t, 3, "exited");
    /* A second ADOPT is ignored. */
    assert_acts(t, h_step(t, &ev), "");
    assert_acts(t, h_at(t, 51000), "");
    /* The adopted running instance keeps being supervised: exit -> restart (always). */
    assert_acts(t, h_exited(t, 0, 1, 0), "start c0#2");
    h_free(t);
}

static void test_sup_adopt__mid_startup_resumes_order(void **state)
{
    (void)state;
    struct h *t = adopt_pod();
    h_go(t, 3);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1); /* b was being created when the daemon died */
    char *saved = sup_save(t->s);
    sup_free(t->s);
    t->s = sup_new(&t->spec, 3);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STARTING);
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 0};
    ev.adopt.exists = true;
    ev.adopt.running = true;
    assert_acts(t, h_step(t, &ev), "");
    /* b turns out to be running (instance 1): adopted as started, order continues with c
     * only once c itself was adopted (it may be running). */
    ev.ctr = 1;
    ev.adopt.instance = 1;
    assert_acts(t, h_step(t, &ev), "");
    ev.ctr = 2;
    memset(&ev.adopt, 0, sizeof ev.adopt);
    assert_acts(t, h_step(t, &ev), "start c2#1");
    ev.ctr = 3;
    assert_acts(t, h_step(t, &ev), "");
    assert_acts(t, h_started(t, 2, 1), "start c3#1");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STARTING);
    assert_acts(t, h_started(t, 3, 1), "");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    h_free(t);
}

/* SPEC 8.6: a container that exited 0 after a successful start counts as ready for the pod,
 * whatever its policy; an exit != 0, or a clean exit under `always` (backoff), does not. */
static void test_sup_ready__clean_exit_after_start_counts(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "job", SPEC_RESTART_ON_FAILURE);
    h_ctr(t, 2, "once", SPEC_RESTART_NEVER);
    h_ctr(t, 3, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[3].restart_interval_s = 20;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 4; i++)
        h_started(t, i, 1);
    assert_true(sup_status(t->s)->ready);
    t->now = 1000;
    assert_acts(t, h_exited(t, 1, 1, 0), "");
    assert_phase(t, 1, "exited");
    assert_true(sup_status(t->s)->ready);
    assert_acts(t, h_exited(t, 2, 1, 0), "");
    assert_true(sup_status(t->s)->ready);
    assert_acts(t, h_exited(t, 3, 1, 0), "");
    assert_phase(t, 3, "exited");
    assert_true(sup_status(t->s)->ready);
    /* The next interval run is a scheduled re-run of a completed container: the pod stays
     * ready while it is created and started (test_sup_ready__interval_rerun_*). */
    assert_acts(t, h_at(t, 21000), "start c3#2");
    assert_true(sup_status(t->s)->ready);
    h_started(t, 3, 2);
    assert_true(sup_status(t->s)->ready);
    /* A clean exit under always is a restart (backoff, here at once): not ready. */
    assert_acts(t, h_exited(t, 0, 1, 0), "start c0#2");
    assert_phase(t, 0, "creating");
    assert_false(sup_status(t->s)->ready);
    h_started(t, 0, 2);
    assert_true(sup_status(t->s)->ready);
    /* An exit != 0 under never stays exited and is not ready. */
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 2), "start c2#2");
    h_started(t, 2, 2);
    assert_true(sup_status(t->s)->ready);
    assert_acts(t, h_exited(t, 2, 2, 3), "");
    assert_phase(t, 2, "exited");
    assert_false(sup_status(t->s)->ready);
    h_free(t);
}

/* Brings instance `inst` of container i (an exec startup probe) through its startup. */
static void pass_startup(struct h *t, size_t i, uint64_t inst)
{
    h_started(t, i, inst);
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    assert_int_equal(p->role, SUP_PROBE_STARTUP);
    h_done(t, i, inst, p->tag, BACKEND_OK);
    assert_phase(t, i, "running");
}

/* SPEC 8.6: the interval re-run of an on-interval container that completed keeps the pod
 * ready while it is created, starts and runs (a periodic job must not flap the pod's
 * readiness); the container's own `ready` keeps describing the instance. */
static void test_sup_ready__interval_rerun_keeps_pod_ready(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[1].restart_interval_s = 20;
    h_probe(&t->c[1].startup, SPEC_PROBE_EXEC, 30, 1, 0);
    h_probe(&t->c[1].readiness, SPEC_PROBE_EXEC, 30, 6, 1);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    pass_startup(t, 1, 1);
    /* the first run: not ready until its readiness probe succeeded */
    assert_false(sup_status(t->s)->ready);
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    assert_int_equal(p->role, SUP_PROBE_READINESS);
    h_done(t, 1, 1, p->tag, BACKEND_OK);
    assert_true(sup_status(t->s)->ready);
    t->now = 1000;
    assert_acts(t, h_exited(t, 1, 1, 0), "");
    assert_phase(t, 1, "exited");
    assert_true(sup_status(t->s)->ready);
    /* the re-run: creating, starting, running (readiness pending, then failing) */
    assert_acts(t, h_at(t, 21000), "start c1#2");
    assert_phase(t, 1, "creating");
    assert_true(sup_status(t->s)->ready);
    assert_false(h_cs(t, 1)->ready);
    t->now = 21100;
    h_started(t, 1, 2);
    assert_phase(t, 1, "starting");
    assert_true(sup_status(t->s)->ready);
    assert_false(h_cs(t, 1)->ready);
    p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    h_done(t, 1, 2, p->tag, BACKEND_OK);
    assert_phase(t, 1, "running");
    assert_true(sup_status(t->s)->ready);
    assert_false(h_cs(t, 1)->ready);
    p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    assert_int_equal(p->role, SUP_PROBE_READINESS);
    h_done(t, 1, 2, p->tag, BACKEND_FAIL);
    assert_false(h_cs(t, 1)->ready);
    assert_true(sup_status(t->s)->ready);
    /* it completes again: the next run is scheduled, the pod never was not ready */
    t->now = 30000;
    h_exited(t, 1, 2, 0);
    assert_phase(t, 1, "exited");
    assert_true(sup_status(t->s)->ready);
    assert_int_equal(h_cs(t, 1)->next_start_mono_ms, 50000);
    assert_acts(t, h_at(t, 50000), "start c1#3");
    assert_true(sup_status(t->s)->ready);
    h_free(t);
}

enum rerun_failure {
    RF_START_FAILED,
    RF_EXIT_STARTING,
    RF_STARTUP_TIMEOUT,
    RF_EXIT_RUNNING,
    RF_GIVE_UP,
    RF_LIVENESS
};

/* SPEC 8.6: a re-run that fails (start failed, exit before its startup, startup timeout, exit
 * != 0, give-up, liveness failure) makes the pod not ready at once, and its restart after the
 * failure is no scheduled re-run any more: the pod stays not ready until it has started. */
static void test_sup_ready__failing_interval_rerun_makes_pod_unready(void **state)
{
    (void)state;
    static const struct {
        enum rerun_failure how;
        const char *phase; /* right after the failure */
    } rows[] = {
        {RF_START_FAILED, "backoff"},     {RF_EXIT_STARTING, "backoff"},
        {RF_STARTUP_TIMEOUT, "stopping"}, {RF_EXIT_RUNNING, "backoff"},
        {RF_GIVE_UP, "gave-up"},          {RF_LIVENESS, "stopping"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct h *t = h_new();
        h_ctr(t, 0, "cron", SPEC_RESTART_ON_INTERVAL);
        t->c[0].restart_interval_s = 20;
        h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 30, 1, 0);
        if (rows[r].how == RF_GIVE_UP)
            t->c[0].backoff.give_up_count = 1;
        if (rows[r].how == RF_LIVENESS)
            h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 30, 6, 1);
        h_go(t, 1);
        assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
        pass_startup(t, 0, 1);
        if (rows[r].how == RF_LIVENESS) {
            const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
            assert_non_null(p);
            h_done(t, 0, 1, p->tag, BACKEND_OK);
        }
        t->now = 1000;
        h_exited(t, 0, 1, 0);
        assert_true(sup_status(t->s)->ready);
        assert_acts(t, h_at(t, 21000), "start c0#2");
        assert_true(sup_status(t->s)->ready);
        t->now = 21100;
        switch (rows[r].how) {
        case RF_START_FAILED:
            h_backend(t, BACKEND_EV_START_FAILED, 0, 2, 0);
            break;
        case RF_EXIT_STARTING:
            h_started(t, 0, 2);
            assert_true(sup_status(t->s)->ready);
            h_exited(t, 0, 2, 1);
            break;
        case RF_STARTUP_TIMEOUT:
            h_started(t, 0, 2);
            assert_true(sup_status(t->s)->ready);
            assert_acts(t, h_at(t, 51100), "cancel c0 tag2; stop c0#2 10000");
            break;
        case RF_EXIT_RUNNING:
        case RF_GIVE_UP:
            pass_startup(t, 0, 2);
            assert_true(sup_status(t->s)->ready);
            t->now = 21500; /* within 1 s of its start: the restart waits in backoff */
            h_exited(t, 0, 2, 1);
            break;
        case RF_LIVENESS: {
            pass_startup(t, 0, 2);
            assert_true(sup_status(t->s)->ready);
            const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
            assert_non_null(p);
            assert_int_equal(p->role, SUP_PROBE_LIVENESS);
            assert_acts(t, h_done(t, 0, 2, p->tag, BACKEND_FAIL), "stop c0#2 10000");
            break;
        }
        }
        if (strcmp(h_phase(t, 0), rows[r].phase) != 0)
            fprintf(stderr, "row %zu: phase %s\n", r, h_phase(t, 0));
        assert_phase(t, 0, rows[r].phase);
        assert_false(sup_status(t->s)->ready);
        if (strcmp(rows[r].phase, "stopping") == 0) {
            h_exited(t, 0, 2, 137); /* a first failure: backoff, or at once 1 s after its start */
            assert_false(sup_status(t->s)->ready);
        }
        if (strcmp(h_phase(t, 0), "backoff") == 0)
            assert_acts(t, h_at(t, h_cs(t, 0)->next_start_mono_ms), "start c0#3");
        if (strcmp(h_phase(t, 0), "creating") == 0) {
            assert_int_equal(h_cs(t, 0)->instance, 3);
            assert_false(sup_status(t->s)->ready);
            pass_startup(t, 0, 3);
            assert_true(sup_status(t->s)->ready);
        }
        h_free(t);
    }
}

/* The rule is only for scheduled re-runs of a completed container: a restart after a crash
 * (any policy, on-interval included) or after a clean exit under `always` makes the pod not
 * ready in backoff and until the new instance has started. */
static void test_sup_ready__crash_restart_still_unready(void **state)
{
    (void)state;
    static const struct {
        enum spec_restart policy;
        int code;
    } rows[] = {
        {SPEC_RESTART_ALWAYS, 1},
        {SPEC_RESTART_ALWAYS, 0},
        {SPEC_RESTART_ON_FAILURE, 1},
        {SPEC_RESTART_ON_INTERVAL, 1},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct h *t = h_new();
        h_ctr(t, 0, "c", rows[r].policy);
        t->c[0].restart_interval_s = 20;
        h_go(t, 1);
        h_boot1(t);
        assert_true(sup_status(t->s)->ready);
        t->now = 500; /* 1 s after its start comes the restart */
        assert_acts(t, h_exited(t, 0, 1, rows[r].code), "");
        assert_phase(t, 0, "backoff");
        assert_false(sup_status(t->s)->ready);
        assert_acts(t, h_at(t, 1000), "start c0#2");
        assert_phase(t, 0, "creating");
        assert_false(sup_status(t->s)->ready);
        h_started(t, 0, 2);
        assert_true(sup_status(t->s)->ready);
        h_free(t);
    }
}

/* SPEC 8.6/8.7: a config change (or `pod signal`) that re-runs a completed on-config container
 * keeps the pod ready, also across a planned restart of that re-run; a failing re-run makes it
 * not ready.  `pod rerun` is an operator's cycle, not a scheduled re-run. */
static void test_sup_ready__config_rerun_of_completed_keeps_pod_ready(void **state)
{
    (void)state;
    struct h *t = h_new();
    t->spec.config_debounce_ms = 0;
    h_volume(t, 0, "cfg");
    h_ctr(t, 0, "job", SPEC_RESTART_ON_CONFIG);
    h_mount(t, 0, "cfg");
    h_go(t, 1);
    h_boot1(t);
    t->now = 1000;
    assert_acts(t, h_exited(t, 0, 1, 0), "");
    assert_phase(t, 0, "exited");
    assert_true(sup_status(t->s)->ready);
    t->now = 5000;
    assert_acts(t, h_cfg(t, 0, false, false), "start c0#2");
    assert_true(sup_status(t->s)->ready);
    assert_false(h_cs(t, 0)->ready);
    /* a second change while it is being created: restarted once it started, still ready */
    assert_acts(t, h_cfg(t, 0, false, false), "");
    assert_acts(t, h_started(t, 0, 2), "stop c0#2 10000");
    assert_phase(t, 0, "stopping");
    assert_true(sup_status(t->s)->ready);
    assert_acts(t, h_exited(t, 0, 2, 143), "start c0#3");
    assert_true(sup_status(t->s)->ready);
    h_started(t, 0, 3);
    assert_true(sup_status(t->s)->ready);
    t->now = 6000;
    assert_acts(t, h_exited(t, 0, 3, 0), "");
    assert_true(sup_status(t->s)->ready);
    /* `pod signal` re-runs it as well */
    assert_acts(t, h_ctr_ev(t, SUP_EV_SIGNAL, 0), "start c0#4");
    assert_true(sup_status(t->s)->ready);
    /* ... and a failure of the re-run makes the pod not ready */
    h_started(t, 0, 4);
    t->now = 6500;
    assert_acts(t, h_exited(t, 0, 4, 2), "");
    assert_phase(t, 0, "backoff");
    assert_false(sup_status(t->s)->ready);
    assert_acts(t, h_at(t, h_cs(t, 0)->next_start_mono_ms), "start c0#5");
    assert_false(sup_status(t->s)->ready);
    h_started(t, 0, 5);
    t->now = 9000;
    assert_acts(t, h_exited(t, 0, 5, 0), "");
    assert_true(sup_status(t->s)->ready);
    /* `pod rerun` of the completed container: not ready until it has started */
    assert_acts(t, h_ctr_ev(t, SUP_EV_RERUN, 0), "start c0#6");
    assert_false(sup_status(t->s)->ready);
    h_started(t, 0, 6);
    assert_true(sup_status(t->s)->ready);
    h_free(t);
}

/* Restores a one-container pod whose state was saved while container 0 was still `creating`
 * (its startup pending), as a stale .pod.state after a full disk leaves it. */
static void restore_mid_create(struct h *t)
{
    h_go(t, 5);
    t->now = 10000;
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    char *saved = sup_save(t->s);
    sup_free(t->s);
    t->s = sup_new(&t->spec, 5);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    assert_phase(t, 0, "adopting");
}

/* wall clock = 1.7e9 s + mono */
#define W0_NS 1700000000000000000LL
#define WALL(ms) (W0_NS + (int64_t)(ms) * (int64_t)1000000)

static const char *adopt_exited(struct h *t, int code, int64_t started_ms, int64_t finished_ms)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 0};
    ev.adopt.exists = true;
    ev.adopt.instance = 1;
    ev.adopt.exit_code = code;
    ev.adopt.started_wall_ns = WALL(started_ms);
    ev.adopt.finished_wall_ns = WALL(finished_ms);
    ev.wall_ns = WALL(t->now);
    return h_step(t, &ev);
}

/* SPEC 8.9 (explore-web seeds 686, 956): an on-interval container ran and exited 0 while the
 * daemon was down, but the saved state still says its startup was pending.  It was started
 * (no startup probe): not a failed start (no backoff), and the interval counts from its exit
 * as inspect reports it, not from the adoption. */
static void test_sup_adopt__clean_exit_with_stale_pending_startup(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[0].restart_interval_s = 20;
    restore_mid_create(t);
    t->now = 26624;
    assert_acts(t, adopt_exited(t, 0, 10100, 13289), "");
    assert_phase(t, 0, "exited");
    assert_true(has_note(t, "counted as started"));
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 33289);
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    assert_true(sup_status(t->s)->ready);
    assert_acts(t, h_at(t, 33288), "");
    assert_acts(t, h_at(t, 33289), "start c0#2");
    h_free(t);
}

/* The same with a long downtime: the interval has passed, the restart is due at once.  Without
 * the wall clock (wall_ns 0) the exit counts as happening at the adoption. */
static void test_sup_adopt__interval_from_exit_time(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[0].restart_interval_s = 20;
    restore_mid_create(t);
    t->now = 90000;
    assert_acts(t, adopt_exited(t, 0, 10100, 13289), "start c0#2");
    h_free(t);

    t = h_new();
    h_ctr(t, 0, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[0].restart_interval_s = 20;
    restore_mid_create(t);
    t->now = 90000;
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 0};
    ev.adopt.exists = true;
    ev.adopt.instance = 1;
    ev.adopt.finished_wall_ns = WALL(13289);
    assert_acts(t, h_step(t, &ev), "");
    assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 110000);
    h_free(t);

    /* A container past its startup (saved running) that exited while the daemon was down:
     * the interval counts from its exit too. */
    t = h_new();
    h_ctr(t, 0, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[0].restart_interval_s = 20;
    h_go(t, 5);
    t->now = 10000;
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    char *saved = sup_save(t->s);
    sup_free(t->s);
    t->s = sup_new(&t->spec, 5);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    t->now = 26624;
    assert_acts(t, adopt_exited(t, 0, 10100, 13289), "");
    assert_false(has_note(t, "counted as started"));
    assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 33289);
    h_free(t);
}

/* With a cmd startup probe the daemon cannot know whether the probe passed: a clean exit is a
 * completed run, an exit != 0 stays a failed start (never: `failed`, the order blocks).
 * Without a startup probe an exit != 0 is a crash of a started container (never: `exited`).
 * An `exit: true` container keeps its rule: 0 = completed, else a failed start. */
static void test_sup_adopt__stale_pending_startup_by_probe_kind(void **state)
{
    (void)state;
    static const struct {
        enum spec_probe_kind startup;
        int code;
        const char *phase;
        bool ready;
    } rows[] = {
        {SPEC_PROBE_EXEC, 0, "exited", true}, {SPEC_PROBE_EXEC, 1, "failed", false},
        {SPEC_PROBE_NONE, 0, "exited", true}, {SPEC_PROBE_NONE, 1, "exited", false},
        {SPEC_PROBE_EXIT, 0, "exited", true}, {SPEC_PROBE_EXIT, 1, "failed", false},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct h *t = h_new();
        h_ctr(t, 0, "one", SPEC_RESTART_NEVER);
        h_ctr(t, 1, "two", SPEC_RESTART_ALWAYS);
        if (rows[r].startup == SPEC_PROBE_EXEC)
            h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 30, 1, 0);
        else
            t->c[0].startup.kind = rows[r].startup;
        restore_mid_create(t);
        struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 1};
        assert_acts(t, h_step(t, &ev), ""); /* `two`: missing, not reached by the order yet */
        t->now = 20000;
        const char *acts = adopt_exited(t, rows[r].code, 10100, 13000);
        if (strcmp(h_phase(t, 0), rows[r].phase) != 0)
            fprintf(stderr, "row %zu: phase %s\n", r, h_phase(t, 0));
        assert_phase(t, 0, rows[r].phase);
        /* the order goes on unless the start failed */
        assert_string_equal(acts, strcmp(rows[r].phase, "failed") == 0 ? "" : "start c1#1");
        h_started(t, 1, 1);
        assert_int_equal(sup_status(t->s)->ready, rows[r].ready);
        h_free(t);
    }
}

/* ---- the re-run marker across a daemon restart (SPEC.md 8.6, 8.9) */

enum rerun_point { RP_CREATING, RP_STARTING, RP_RUNNING };

/* web (always) and cron (on-interval 20 s, exec startup and readiness probes): cron completes
 * its first run, and its interval re-run (instance 2) is brought up to `upto`.  At
 * RP_STARTING, *startup_tag (when not NULL) is the tag of the re-run's startup probe attempt. */
static struct h *rerun_pod(enum rerun_point upto, uint64_t *startup_tag)
{
    struct h *t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "cron", SPEC_RESTART_ON_INTERVAL);
    t->c[1].restart_interval_s = 20;
    h_probe(&t->c[1].startup, SPEC_PROBE_EXEC, 30, 1, 0);
    h_probe(&t->c[1].readiness, SPEC_PROBE_EXEC, 30, 6, 1);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    pass_startup(t, 1, 1);
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    h_done(t, 1, 1, p->tag, BACKEND_OK);
    t->now = 1000;
    h_exited(t, 1, 1, 0);
    assert_acts(t, h_at(t, 21000), "start c1#2");
    t->now = 21100;
    if (upto == RP_STARTING) {
        h_started(t, 1, 2);
        p = h_find(t, SUP_ACT_PROBE);
        assert_non_null(p);
        assert_int_equal(p->role, SUP_PROBE_STARTUP);
        if (startup_tag)
            *startup_tag = p->tag;
    } else if (upto == RP_RUNNING)
        pass_startup(t, 1, 2);
    assert_true(sup_status(t->s)->ready); /* the daemon that does not restart: ready */
    assert_true(h_cs(t, 1)->rerun);
    return t;
}

/* The daemon dies and a new one restores `saved` (its adoption is up to the test). */
static void restore_from(struct h *t, const char *saved)
{
    sup_free(t->s);
    t->s = sup_new(&t->spec, 7);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
}

static const char *adopt_as(struct h *t, size_t i, bool exists, bool running, int code)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = i};
    ev.adopt.exists = exists;
    ev.adopt.running = running;
    ev.adopt.finished_wall_ns = exists && !running ? H_FINISHED_SOMETIME_NS : 0;
    ev.adopt.instance = exists ? (i == 0 ? 1 : 2) : 0;
    ev.adopt.exit_code = code;
    return h_step(t, &ev);
}

enum adopt_as { AA_RUNNING, AA_MISSING, AA_EXIT0, AA_EXIT1 };

/* What a daemon that did not restart sees where the restarted one adopts `as` (at 30 s):
 * running - it started (from creating), else nothing new; missing - from creating its start is
 * still in flight, from starting/running the reconcile finds the container gone (exit 137);
 * exit 0 - it started, its startup probe passed, it exited 0 (the reading SPEC 8.9 adopts for
 * an exit 0 with a startup probe whose result nobody saw); exit 1 - it exited 1. */
static void no_restart_events(struct h *t, enum rerun_point at, uint64_t startup_tag,
                              enum adopt_as as)
{
    switch (as) {
    case AA_RUNNING:
        if (at == RP_CREATING)
            h_started(t, 1, 2);
        break;
    case AA_MISSING:
        if (at != RP_CREATING)
            h_exited(t, 1, 2, 137);
        break;
    case AA_EXIT0:
        if (at == RP_CREATING)
            pass_startup(t, 1, 2);
        else if (at == RP_STARTING)
            h_done(t, 1, 2, startup_tag, BACKEND_OK);
        h_exited(t, 1, 2, 0);
        break;
    case AA_EXIT1:
        h_exited(t, 1, 2, 1);
        break;
    }
}

/* How a restarted daemon's outcome compares with that of a daemon that did not restart. */
enum vs_no_restart {
    VS_SAME,    /* phase, pod readiness, re-run marker, backoff streak, next start, exit code */
    VS_DIFFERS, /* documented in SPEC 8.9: a missing container is started again */
};

/* A daemon restart during a scheduled re-run, saved while the re-run was creating, starting
 * or running and adopted running, missing, exited 0 or exited 1: the restored supervisor
 * decides as the daemon that did not restart does (compared row by row), except where SPEC 8.9
 * says why it cannot.  The re-run marker keeps the pod ready while adopting and once adopted
 * running or started again; the saved "startup_pending" makes an exit of a re-run whose
 * startup was pending count as an exit before its startup completed (exit 1: a failed start,
 * as without the restart; exit 0 with a cmd startup probe: completed, as the probe passing
 * before the exit). */
static void test_sup_adopt__restart_during_interval_rerun_keeps_pod_ready(void **state)
{
    (void)state;
    static const char pending[] =
        "its startup was pending in the saved state, but it ran: counted as started";
    static const struct {
        enum rerun_point at;
        enum adopt_as as;
        bool ready;               /* pod readiness right after the adoption */
        const char *phase, *acts; /* acts NULL: a readiness probe (checked below) */
        const char *note;         /* a NOTE of the adoption, NULL = none checked */
        enum vs_no_restart vs;
    } rows[] = {
        /* its startup was pending: still starting up, its startup probe runs again */
        {RP_CREATING, AA_RUNNING, true, "starting", NULL, "its startup was pending", VS_SAME},
        {RP_STARTING, AA_RUNNING, true, "starting", NULL, "its startup was pending", VS_SAME},
        {RP_RUNNING, AA_RUNNING, true, "running", NULL, NULL, VS_SAME},
        /* the re-run's start never reached podman: started again, still the same re-run */
        {RP_CREATING, AA_MISSING, true, "creating", "start c1#3", NULL, VS_SAME},
        /* it was started and is gone: started again too (no daemon saw it end) */
        {RP_STARTING, AA_MISSING, true, "creating", "start c1#3", NULL, VS_DIFFERS},
        {RP_RUNNING, AA_MISSING, true, "creating", "start c1#3", NULL, VS_DIFFERS},
        /* it finished while no daemon ran: completed (0) is ready, a failure is not */
        {RP_CREATING, AA_EXIT0, true, "exited", "", pending, VS_SAME},
        {RP_STARTING, AA_EXIT0, true, "exited", "", pending, VS_SAME},
        {RP_RUNNING, AA_EXIT0, true, "exited", "", NULL, VS_SAME},
        {RP_CREATING, AA_EXIT1, false, "creating", "start c1#3",
         "exited with code 1 before startup completed", VS_SAME},
        {RP_STARTING, AA_EXIT1, false, "creating", "start c1#3",
         "exited with code 1 before startup completed", VS_SAME},
        {RP_RUNNING, AA_EXIT1, false, "creating", "start c1#3", "exited with code 1; restart in",
         VS_SAME},
    };
    for (size_t r = 0; r < sizeof rows / sizeof *rows; r++) {
        /* the daemon that does not restart */
        uint64_t tag = 0;
        struct h *ref = rerun_pod(rows[r].at, &tag);
        ref->now = 30000;
        no_restart_events(ref, rows[r].at, tag, rows[r].as);
        /* the daemon that dies and a new one that adopts */
        struct h *t = rerun_pod(rows[r].at, NULL);
        char *saved = sup_save(t->s);
        assert_non_null(strstr(saved, "\"rerun_ready\":true"));
        assert_int_equal(strstr(saved, "\"startup_pending\":true") != NULL,
                         rows[r].at != RP_RUNNING);
        t->now = 30000;
        restore_from(t, saved);
        free(saved);
        assert_true(h_cs(t, 1)->rerun);
        assert_false(sup_status(t->s)->ready); /* web still adopting */
        assert_acts(t, adopt_as(t, 0, true, true, 0), "");
        /* cron's adoption may wait (a start in flight): the re-run keeps counting meanwhile,
         * and a save meanwhile keeps both markers */
        assert_phase(t, 1, "adopting");
        assert_true(sup_status(t->s)->ready);
        saved = sup_save(t->s);
        assert_int_equal(strstr(saved, "\"startup_pending\":true") != NULL,
                         rows[r].at != RP_RUNNING);
        restore_from(t, saved);
        free(saved);
        assert_acts(t, adopt_as(t, 0, true, true, 0), "");
        switch (rows[r].as) {
        case AA_RUNNING:
            adopt_as(t, 1, true, true, 0);
            break;
        case AA_MISSING:
            assert_acts(t, adopt_as(t, 1, false, false, 0), rows[r].acts);
            break;
        case AA_EXIT0:
        case AA_EXIT1:
            assert_acts(t, adopt_as(t, 1, true, false, rows[r].as == AA_EXIT0 ? 0 : 1),
                        rows[r].acts);
            break;
        }
        if (rows[r].note && !has_note(t, rows[r].note))
            fail_msg("row %zu: no note \"%s\"", r, rows[r].note);
        if (rows[r].as == AA_EXIT0 && rows[r].at == RP_RUNNING)
            assert_false(has_note(t, "startup was pending"));
        assert_phase(t, 1, rows[r].phase);
        assert_int_equal(sup_status(t->s)->ready, rows[r].ready);
        assert_int_equal(h_cs(t, 1)->rerun, rows[r].as == AA_RUNNING || rows[r].as == AA_MISSING);
        /* compared with the daemon that did not restart */
        const struct sup_ctr_status *a = h_cs(t, 1), *b = h_cs(ref, 1);
        if (rows[r].vs == VS_SAME) {
            assert_int_equal(sup_status(t->s)->ready, sup_status(ref->s)->ready);
            assert_int_equal(a->rerun, b->rerun);
            assert_int_equal(a->consecutive_failures, b->consecutive_failures);
            assert_int_equal(a->phase, b->phase);
            assert_int_equal(a->next_start_mono_ms, b->next_start_mono_ms);
            assert_int_equal(a->has_exit_code, b->has_exit_code);
            assert_int_equal(a->exit_code, b->exit_code);
            assert_int_equal(a->started, b->started);
        } else if (rows[r].vs == VS_DIFFERS) {
            /* SPEC 8.9: the daemon that did not restart saw the container go (137): a failure
             * (restarted at once: its first) */
            assert_int_equal(b->phase, SUP_CTR_CREATING);
            assert_int_equal(b->consecutive_failures, 1);
            assert_false(sup_status(ref->s)->ready);
        }
        h_free(ref);
        if (rows[r].as == AA_RUNNING) {
            const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
            if (rows[r].at != RP_RUNNING) {
                /* its startup probe is checked again (the pod stays ready meanwhile) and
                 * passes; then its readiness probe runs */
                assert_non_null(p);
                assert_int_equal(p->role, SUP_PROBE_STARTUP);
                assert_int_equal(p->probe.instance, 2);
                /* 30 s from its STARTED (21.1 s) saved in the state; from creating: no start
                 * time known (inspect's is not given here): 30 s from the adoption */
                assert_int_equal(p->probe.deadline_mono_ms,
                                 rows[r].at == RP_STARTING ? 51100 : 60000);
                h_done(t, 1, 2, p->tag, BACKEND_OK);
                assert_phase(t, 1, "running");
                assert_true(h_cs(t, 1)->started);
                assert_true(sup_status(t->s)->ready);
                p = h_find(t, SUP_ACT_PROBE);
            }
            /* the adopted instance's own readiness is re-checked and fails: the pod stays
             * ready, as it would without the restart; it completes; the next run comes */
            assert_false(h_cs(t, 1)->ready);
            assert_non_null(p);
            assert_int_equal(p->role, SUP_PROBE_READINESS);
            assert_int_equal(p->probe.instance, 2);
            h_done(t, 1, 2, p->tag, BACKEND_FAIL);
            assert_true(sup_status(t->s)->ready);
            t->now = 33000; /* before its next readiness attempt (36 s) */
            assert_acts(t, h_exited(t, 1, 2, 0), "");
            assert_phase(t, 1, "exited");
            assert_true(sup_status(t->s)->ready);
            assert_acts(t, h_at(t, 53000), "start c1#3");
            assert_true(sup_status(t->s)->ready);
        }
        h_free(t);
    }
}

/* An `exit: true` re-run (its startup = its exit 0) saved while starting, that completed while
 * no daemon ran: a completed startup, as the daemon that did not restart counts it - `started`,
 * its startup signal fan-out (web gets HUP), and the interval counted from inspect's exit time.
 * Before "startup_pending" was saved the adopted exit skipped the startup (no fan-out). */
static void test_sup_adopt__exit_probe_rerun_completed_while_down(void **state)
{
    (void)state;
    for (int restart = 0; restart < 2; restart++) {
        struct h *t = h_exit_rerun_pod();
        assert_true(sup_status(t->s)->ready);
        const char *acts;
        if (!restart) {
            t->now = 29000;
            acts = h_exited(t, 1, 2, 0);
        } else {
            char *saved = sup_save(t->s);
            assert_non_null(strstr(saved, "\"startup_pending\":true"));
            t->now = 30000;
            restore_from(t, saved);
            free(saved);
            assert_acts(t, adopt_as(t, 0, true, true, 0), "");
            struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 1};
            ev.adopt.exists = true;
            ev.adopt.instance = 2;
            ev.adopt.started_wall_ns = WALL(21100);
            ev.adopt.finished_wall_ns = WALL(29000);
            ev.wall_ns = WALL(30000);
            acts = h_step(t, &ev);
        }
        assert_string_equal(acts, "signal c0#1 1");
        assert_phase(t, 1, "exited");
        assert_true(h_cs(t, 1)->started);
        assert_true(sup_status(t->s)->ready);
        assert_int_equal(h_cs(t, 1)->next_start_mono_ms, 49000); /* 20 s after its exit */
        h_free(t);
    }
}

/* .pod.state as the previous version wrote it with cron's interval re-run running (rerun_pod
 * RP_RUNNING): no "rerun_ready" key. */
static const char old_state_rerun_running[] =
    "{\"version\":1,\"phase\":\"running\",\"next_tag\":5,\"containers\":[{\"name\":\"web\","
    "\"instance\":1,\"start_count\":1,\"restart_count\":0,\"seq_done\":true,\"streak\":0,"
    "\"backoff_ms\":0,\"gave_up\":false,\"failed\":false,\"failures_mono_ms\":[]},{\"name\":"
    "\"cron\",\"instance\":2,\"start_count\":2,\"restart_count\":1,\"seq_done\":true,"
    "\"streak\":0,\"backoff_ms\":0,\"gave_up\":false,\"failed\":false,\"failures_mono_ms\":[]}]}";

/* Backward compatibility: a state file of the previous version restores, and its adopted
 * instance counts by its own readiness, as it did then; the new format only adds the key, and
 * only while a re-run is marked (every other state is written exactly as before). */
static void test_sup_restore__state_of_previous_version(void **state)
{
    (void)state;
    struct h *t = rerun_pod(RP_RUNNING, NULL);
    char *saved = sup_save(t->s);
    const char *key = ",\"rerun_ready\":true";
    char *at = strstr(saved, key);
    assert_non_null(at);
    assert_null(strstr(at + 1, key));
    memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
    assert_string_equal(saved, old_state_rerun_running);
    free(saved);
    t->now = 30000;
    restore_from(t, old_state_rerun_running);
    assert_false(h_cs(t, 1)->rerun);
    assert_acts(t, adopt_as(t, 0, true, true, 0), "");
    assert_false(sup_status(t->s)->ready); /* cron adopting, not known as a re-run */
    adopt_as(t, 1, true, true, 0);
    assert_phase(t, 1, "running");
    assert_false(sup_status(t->s)->ready); /* its readiness probe has not passed yet */
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    h_done(t, 1, 2, p->tag, BACKEND_OK);
    assert_true(sup_status(t->s)->ready);
    /* no marker, no key: the saved text is what the previous version wrote */
    t->now = 33000;
    h_exited(t, 1, 2, 0);
    saved = sup_save(t->s);
    assert_null(strstr(saved, "rerun_ready"));
    free(saved);
    h_free(t);
    /* a re-run saved while starting, by the previous version (no "startup_pending"): its
     * adopted exit 1 counts as after its startup (a crash), as it did then */
    t = rerun_pod(RP_STARTING, NULL);
    saved = sup_save(t->s);
    key = ",\"startup_pending\":true";
    at = strstr(saved, key);
    assert_non_null(at);
    memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
    t->now = 30000;
    restore_from(t, saved);
    free(saved);
    assert_acts(t, adopt_as(t, 0, true, true, 0), "");
    assert_acts(t, adopt_as(t, 1, true, false, 1), "start c1#3");
    assert_true(has_note(t, "exited with code 1; restart in 0 ms (backoff #1)"));
    assert_false(has_note(t, "before startup completed"));
    h_free(t);
}

/* SPEC 10.1: a ctr_start call that failed (CALL_FAILED) is the supervisor's failed start, as a
 * START_FAILED event: backoff, the backend's message in the NOTE. */
static void test_sup_start__start_call_failed(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "b", SPEC_RESTART_NEVER);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_START, 0, 1, 0, "podman run: exit 125"), "");
    assert_true(has_note(t, "start failed: podman run: exit 125; restart in 1000 ms (backoff #1)"));
    assert_phase(t, 0, "backoff");
    assert_acts(t, h_at(t, 1000), "start c0#2");
    /* under `never`: failed, not retried */
    h_started(t, 0, 2);
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_START, 1, 1, 0, "no such image"), "");
    assert_phase(t, 1, "failed");
    h_free(t);
}

/* Failed calls the supervisor does not retry: a NOTE says what failed. */
static void test_sup_events__signal_and_cancel_call_failed(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_boot1(t);
    struct sup_event ev = {.type = SUP_EV_CALL_FAILED};
    ev.call.action = SUP_ACT_SIGNAL;
    ev.call.ctr = 0;
    ev.call.instance = 1;
    ev.call.sig = 1;
    snprintf(ev.call.msg, sizeof ev.call.msg, "gone");
    assert_acts(t, h_step(t, &ev), "");
    assert_true(has_note(t, "a: signal 1 failed: gone"));
    /* a cancel of a request that is not being cancelled (any more): nothing to retry */
    assert_acts(t, h_call_failed(t, SUP_ACT_CANCEL, 0, 1, 7, "hung"), "");
    assert_true(has_note(t, "cancel of request 7 failed (hung): nothing to cancel"));
    assert_phase(t, 0, "running");
    assert_int_equal(sup_next_deadline(t->s), INT64_MAX);
    h_free(t);
}

/* sup_call_failed_event copies what the driver needs from the action. */
static void test_sup_events__call_failed_event_from_action(void **state)
{
    (void)state;
    struct sup_action a = {.type = SUP_ACT_PROBE, .ctr = 2, .instance = 9};
    a.probe.instance = 4;
    a.probe.tag = 17;
    struct sup_event ev = sup_call_failed_event(&a, "exec failed");
    assert_int_equal(ev.type, SUP_EV_CALL_FAILED);
    assert_int_equal(ev.call.action, SUP_ACT_PROBE);
    assert_int_equal(ev.call.ctr, 2);
    assert_int_equal(ev.call.instance, 4);
    assert_int_equal(ev.call.tag, 17);
    assert_string_equal(ev.call.msg, "exec failed");
    struct sup_action k = {.type = SUP_ACT_CTR_KILL, .ctr = 1, .instance = 3, .sig = 9};
    ev = sup_call_failed_event(&k, NULL);
    assert_int_equal(ev.call.instance, 3);
    assert_int_equal(ev.call.sig, 9);
    assert_string_equal(ev.call.msg, "");
    assert_string_equal(sup_event_type_name(SUP_EV_CALL_FAILED), "call-failed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_new__initial_status),
        cmocka_unit_test(test_sup_start__spec_order_no_probes),
        cmocka_unit_test(test_sup_start__init_and_sidecar_order),
        cmocka_unit_test(test_sup_start__exit_probe_gates_next),
        cmocka_unit_test(test_sup_start__exit_probe_failure_never_blocks_until_rerun),
        cmocka_unit_test(test_sup_start__startup_timeout_is_failed_start),
        cmocka_unit_test(test_sup_start__signal_fan_out),
        cmocka_unit_test(test_sup_start__signal_cmd_fan_out_and_coalesce),
        cmocka_unit_test(test_sup_start__start_failed_backend),
        cmocka_unit_test(test_sup_start__create_timeout),
        cmocka_unit_test(test_sup_start__start_call_failed),
        cmocka_unit_test(test_sup_events__signal_and_cancel_call_failed),
        cmocka_unit_test(test_sup_events__call_failed_event_from_action),
        cmocka_unit_test(test_sup_events__stale_instance_ignored),
        cmocka_unit_test(test_sup_events__exit_without_started),
        cmocka_unit_test(test_sup_status__only_on_change),
        cmocka_unit_test(test_sup_determinism__same_seed_same_trace),
        cmocka_unit_test(test_sup_names__tables),
        cmocka_unit_test(test_sup_signal__pod_signal_rules),
        cmocka_unit_test(test_sup_signal__unknown_signal_name),
        cmocka_unit_test(test_sup_save__round_trip),
        cmocka_unit_test(test_sup_restore__rejects_bad_state),
        cmocka_unit_test(test_sup_adopt__running_exited_missing),
        cmocka_unit_test(test_sup_adopt__mid_startup_resumes_order),
        cmocka_unit_test(test_sup_ready__clean_exit_after_start_counts),
        cmocka_unit_test(test_sup_ready__interval_rerun_keeps_pod_ready),
        cmocka_unit_test(test_sup_ready__failing_interval_rerun_makes_pod_unready),
        cmocka_unit_test(test_sup_ready__crash_restart_still_unready),
        cmocka_unit_test(test_sup_ready__config_rerun_of_completed_keeps_pod_ready),
        cmocka_unit_test(test_sup_adopt__clean_exit_with_stale_pending_startup),
        cmocka_unit_test(test_sup_adopt__interval_from_exit_time),
        cmocka_unit_test(test_sup_adopt__stale_pending_startup_by_probe_kind),
        cmocka_unit_test(test_sup_adopt__restart_during_interval_rerun_keeps_pod_ready),
        cmocka_unit_test(test_sup_adopt__exit_probe_rerun_completed_while_down),
        cmocka_unit_test(test_sup_restore__state_of_previous_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
