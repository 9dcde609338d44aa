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
    /* under `never` too: podman's failure is no run of the container, so it is retried
     * (SPEC 8.3); the pod's startup does not stay blocked at it */
    h_started(t, 0, 2);
    assert_acts(t, h_call_failed(t, SUP_ACT_CTR_START, 1, 1, 0, "no such image"), "");
    assert_phase(t, 1, "backoff");
    assert_true(has_note(t, "podman's fault: retried under restart policy never too"));
    assert_acts(t, h_at(t, 3000), "start c1#2");
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
