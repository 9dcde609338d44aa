/* SPDX-License-Identifier: MIT */
/* test_sup_rerun.c - supervisor: pod readiness (SPEC.md 8.6) and the scheduled re-run of a
 * completed on-interval/on-config container, which keeps the pod ready until it fails; also
 * across a daemon restart (the persisted marker, stale pending startups, adopted exits,
 * state files of earlier versions: SPEC.md 8.9). */
#include "sup_harness.h"

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

/* SPEC 8.11: the pod's infra container died (BACKEND_EV_INFRA_DOWN): a pod-level restart.  Every
 * container of the pod that may run in the dead namespace gets a planned restart (stop, then a
 * new instance at once: not a failure), then POD_CREATE; `network: host` containers and
 * containers that are down are left alone; the count is in the status and survives a daemon
 * restart; a report while the pod is not active is ignored. */
static void test_sup_pod__infra_down_restarts_the_pod(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    h_ctr(t, 1, "job", SPEC_RESTART_NEVER);
    h_ctr(t, 2, "hostnet", SPEC_RESTART_ALWAYS);
    t->c[2].network_host = true;
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    for (size_t i = 0; i < 3; i++)
        h_started(t, i, 1);
    t->now = 2000;
    assert_acts(t, h_exited(t, 1, 1, 0), "");
    assert_phase(t, 1, "exited");
    t->now = 5000;
    assert_acts(t, h_backend(t, BACKEND_EV_INFRA_DOWN, SIZE_MAX, 0, 0),
                "stop c0#1 10000; pod-create");
    assert_true(has_note(t, "infra container down"));
    assert_int_equal(sup_status(t->s)->infra_restarts, 1);
    assert_phase(t, 0, "stopping");
    assert_phase(t, 1, "exited");
    assert_phase(t, 2, "running");
    /* the stopped instance comes back at once, as a planned restart */
    t->now = 5100;
    assert_acts(t, h_exited(t, 0, 1, 143), "start c0#2");
    assert_int_equal(h_cs(t, 0)->restart_count, 1);
    assert_int_equal(h_cs(t, 0)->consecutive_failures, 0);
    h_started(t, 0, 2);
    assert_phase(t, 0, "running");
    /* persisted */
    h_restart(t, 2);
    assert_int_equal(sup_status(t->s)->infra_restarts, 1);
    char *saved = sup_save(t->s);
    assert_non_null(strstr(saved, "\"infra_restarts\":1,"));
    free(saved);
    h_free(t);
    /* before the start and after the stop: ignored */
    t = h_new();
    h_ctr(t, 0, "web", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_backend(t, BACKEND_EV_INFRA_DOWN, SIZE_MAX, 0, 0), "");
    assert_int_equal(sup_status(t->s)->infra_restarts, 0);
    saved = sup_save(t->s);
    assert_null(strstr(saved, "infra_restarts"));
    free(saved);
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
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
        cmocka_unit_test(test_sup_pod__infra_down_restarts_the_pod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
