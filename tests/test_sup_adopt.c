/* SPDX-License-Identifier: MIT */
/* test_sup_adopt.c - supervisor: a container adopted running whose startup had not completed
 * when the state was saved (SPEC.md 8.3, 8.9).  Each test runs the same pod twice: a daemon
 * that does not restart (`ref`) and one that dies and whose successor restores the saved state
 * and adopts (`t`); from the adoption on both get the same events and must decide the same
 * (action lines, phases, pod readiness, backoff, exit codes), in particular: an init or
 * `exit: true` container adopted running still gates the startup order until its exit 0, its
 * startup signal fan-out happens at that exit, once, and an exit != 0 is a failed start; a
 * cmd/tcp/http startup probe that had not passed is probed again and still gates the order. */
#include "sup_harness.h"

/* wall clock = 1.7e9 s + mono */
#define W0_NS 1700000000000000000LL
#define WALL(ms) (W0_NS + (int64_t)(ms) * (int64_t)1000000)

/* The daemon dies at t->now; a new one restores what it saved (adoption is up to the test). */
static void restart_daemon(struct h *t)
{
    h_restart(t, 7);
}

/* A new daemon restores `saved` (freed). */
static void restore_saved(struct h *t, char *saved)
{
    h_restore(t, saved, 7);
}

/* ADOPT of container i running since started_ms (mono, by the wall clock at the start) after
 * the wall clock stepped by jump_ms since then. */
static const char *adopt_running_jumped(struct h *t, size_t i, uint64_t inst, int64_t started_ms,
                                        int64_t jump_ms)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = i};
    ev.adopt.exists = ev.adopt.running = true;
    ev.adopt.instance = inst;
    ev.adopt.started_wall_ns = WALL(started_ms);
    ev.wall_ns = WALL(t->now + jump_ms);
    return h_step(t, &ev);
}

/* ADOPT of container i at t->now: missing (inst 0), running since started_ms (mono; < 0: no
 * start time known) or exited. */
static const char *adopt_running(struct h *t, size_t i, uint64_t inst, int64_t started_ms)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = i};
    ev.adopt.exists = inst > 0;
    ev.adopt.running = inst > 0;
    ev.adopt.instance = inst;
    if (inst > 0 && started_ms >= 0) {
        ev.adopt.started_wall_ns = WALL(started_ms);
        ev.wall_ns = WALL(t->now);
    }
    return h_step(t, &ev);
}

/* Container i decides the same in both supervisors (SPEC 8.9: "as the daemon that did not
 * restart"). */
static void assert_same_ctr(const struct h *ref, const struct h *t, size_t i)
{
    const struct sup_ctr_status *a = h_cs(ref, i), *b = h_cs(t, i);
    if (a->phase != b->phase)
        fail_msg("container %zu: phase %s without the restart, %s with it", i,
                 sup_ctr_phase_name(a->phase), sup_ctr_phase_name(b->phase));
    assert_int_equal(a->instance, b->instance);
    assert_int_equal(a->start_count, b->start_count);
    assert_int_equal(a->started, b->started);
    assert_int_equal(a->ready, b->ready);
    assert_int_equal(a->has_exit_code, b->has_exit_code);
    if (a->has_exit_code) /* else a leftover of an earlier instance, not saved */
        assert_int_equal(a->exit_code, b->exit_code);
    assert_int_equal(a->consecutive_failures, b->consecutive_failures);
    assert_int_equal(a->next_start_mono_ms, b->next_start_mono_ms);
    assert_int_equal(a->rerun, b->rerun);
}

static void assert_same(const struct h *ref, const struct h *t)
{
    const struct sup_status *a = sup_status(ref->s), *b = sup_status(t->s);
    assert_int_equal(a->phase, b->phase);
    assert_int_equal(a->ready, b->ready);
    assert_int_equal(a->healthy, b->healthy);
    for (size_t i = 0; i < a->n; i++)
        assert_same_ctr(ref, t, i);
    assert_int_equal(sup_next_deadline(ref->s), sup_next_deadline(t->s));
}

/* Both save the same .pod.state text. */
static void assert_same_save(const struct h *ref, const struct h *t)
{
    char *a = sup_save(ref->s), *b = sup_save(t->s);
    assert_string_equal(a, b);
    free(a);
    free(b);
}

/* Both supervisors get the same event and return the same actions. */
#define both(ref, t, call, expected)                                                               \
    do {                                                                                           \
        assert_acts((ref), call(ref), (expected));                                                 \
        assert_acts((t), call(t), (expected));                                                     \
        assert_same((ref), (t));                                                                   \
    } while (0)

/* ---- an init container adopted running during the startup order */

static char *side_target[] = {"side", NULL};

/* side (sidecar, always, HUP), init (init, `policy`, fan-out to side, timeout 60 s), app (main,
 * always).  Brought to: side running, init running (started at 200 ms), app waiting. */
static struct h *init_pod(enum spec_restart policy)
{
    struct h *t = h_new();
    h_ctr(t, 0, "side", SPEC_RESTART_ALWAYS);
    t->c[0].kind = SPEC_CTR_SIDECAR;
    t->c[0].signal_sig = "HUP";
    h_ctr(t, 1, "init", policy);
    t->c[1].kind = SPEC_CTR_INIT;
    t->c[1].startup.timeout_s = 60;
    t->c[1].startup.signal_targets = side_target;
    h_ctr(t, 2, "app", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 100;
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    t->now = 200;
    assert_acts(t, h_started(t, 1, 1), "");
    assert_phase(t, 1, "starting");
    assert_phase(t, 2, "waiting");
    return t;
}

/* The daemon restarts at 10 s; the new one adopts side and init running, app missing. */
static void init_pod_restart(struct h *t)
{
    t->now = 10000;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    assert_acts(t, adopt_running(t, 1, 1, 200), "");
    /* app is not started: init has not completed (it did not at 10 s without a restart) */
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_false(has_note(t, "start instance"));
}

static const char *h_ev_tick(struct h *t)
{
    return h_ev(t, SUP_EV_TICK);
}

static const char *exit0(struct h *t)
{
    return h_exited(t, 1, 1, 0);
}

static const char *exit1(struct h *t)
{
    return h_exited(t, 1, 1, 1);
}

static const char *pod_stop(struct h *t)
{
    return h_ev(t, SUP_EV_STOP_POD);
}

static const char *exit143(struct h *t)
{
    return h_exited(t, 1, 1, 143);
}

static const char *app_started(struct h *t)
{
    return h_started(t, 2, 1);
}

/* Exit 0 while adopted: completed, the fan-out signals side (once), app starts. */
static void test_sup_adopt__running_init_gates_order_until_exit0(void **state)
{
    (void)state;
    struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
    init_pod_restart(t);
    assert_acts(ref, h_at(ref, 10000), "");
    assert_phase(t, 1, "starting");
    assert_false(h_cs(t, 1)->started);
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_STARTING);
    assert_same(ref, t);
    assert_same_save(ref, t); /* no new key: the state file is the same as without the restart */
    ref->now = t->now = 20000;
    both(ref, t, exit0, "signal c0#1 1; start c2#1");
    assert_phase(t, 1, "exited");
    assert_true(h_cs(t, 1)->started);
    assert_true(has_note(t, "completed (exit 0)"));
    ref->now = t->now = 20100;
    both(ref, t, app_started, "");
    assert_int_equal(sup_status(t->s)->phase, SUP_POD_RUNNING);
    assert_true(sup_status(t->s)->ready);
    /* the fan-out is not repeated by anything later (a save and a second restart neither) */
    t->now = 30000;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = 1};
    ev.adopt.exists = true;
    ev.adopt.instance = 1;
    ev.adopt.finished_wall_ns = WALL(20000);
    assert_acts(t, h_step(t, &ev), "");
    assert_acts(t, adopt_running(t, 2, 1, 20100), "");
    assert_phase(t, 1, "exited");
    assert_true(sup_status(t->s)->ready);
    h_free(ref);
    h_free(t);
}

/* Exit != 0 while adopted: a failed start, as without the restart - on-failure: backoff and a
 * retry, app keeps waiting; never: `failed`, the order blocks (no fan-out either way). */
static void test_sup_adopt__running_init_exit_nonzero_is_failed_start(void **state)
{
    (void)state;
    struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
    init_pod_restart(t);
    ref->now = t->now = 20000;
    both(ref, t, exit1, "start c1#2"); /* its first failure, long after its start: at once */
    assert_phase(t, 1, "creating");
    assert_true(has_note(t, "exited with code 1 before startup completed (expected 0)"));
    assert_int_equal(h_cs(t, 1)->consecutive_failures, 1);
    assert_phase(t, 2, "waiting");
    h_free(ref);
    h_free(t);

    ref = init_pod(SPEC_RESTART_NEVER);
    t = init_pod(SPEC_RESTART_NEVER);
    init_pod_restart(t);
    ref->now = t->now = 20000;
    both(ref, t, exit1, "");
    assert_phase(t, 1, "failed");
    assert_true(has_note(t, "pod startup blocked at container init"));
    assert_false(sup_status(t->s)->healthy);
    h_free(ref);
    h_free(t);
}

/* The startup deadline (60 s) counts from the start inspect reports (200 ms), as without the
 * restart; without a start time it counts from the adoption. */
static void test_sup_adopt__running_init_startup_deadline(void **state)
{
    (void)state;
    struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
    init_pod_restart(t);
    assert_int_equal(sup_next_deadline(t->s), 60200);
    ref->now = t->now = 60199;
    both(ref, t, h_ev_tick, "");
    ref->now = t->now = 60200;
    both(ref, t, h_ev_tick, "stop c1#1 10000");
    assert_true(has_note(t, "startup timed out after 60 s"));
    h_free(ref);
    h_free(t);

    /* no start time from inspect: the STARTED time the state saved ("started_mono_ms") */
    t = init_pod(SPEC_RESTART_ON_FAILURE);
    t->now = 10000;
    restart_daemon(t);
    adopt_running(t, 0, 1, 100);
    assert_acts(t, adopt_running(t, 1, 1, -1), "");
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_int_equal(sup_next_deadline(t->s), 60200);
    h_free(t);

    /* neither (a state of an older version): from the adoption */
    t = init_pod(SPEC_RESTART_ON_FAILURE);
    t->now = 10000;
    char *saved = sup_save(t->s);
    const char *key = ",\"started_mono_ms\":200";
    char *at = strstr(saved, key);
    assert_non_null(at);
    memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
    restore_saved(t, saved);
    adopt_running(t, 0, 1, 100);
    assert_acts(t, adopt_running(t, 1, 1, -1), "");
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_int_equal(sup_next_deadline(t->s), 70000);
    h_free(t);

    /* a daemon down past the deadline: the startup timed out meanwhile, stopped at once (a
     * failed start, as the daemon that did not restart decided at 60.2 s) */
    t = init_pod(SPEC_RESTART_ON_FAILURE);
    t->now = 65000;
    restart_daemon(t);
    adopt_running(t, 0, 1, 100);
    assert_acts(t, adopt_running(t, 1, 1, 200), "stop c1#1 10000");
    assert_true(has_note(t, "startup timed out after 60 s"));
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    t->now = 65100;
    assert_acts(t, h_exited(t, 1, 1, 137), "start c1#2");
    assert_int_equal(h_cs(t, 1)->consecutive_failures, 1);
    assert_phase(t, 2, "waiting");
    h_free(t);
}

/* A pod stop while the adopted init container starts up: stopped with the main containers,
 * the sidecar after it, as without the restart. */
static void test_sup_adopt__running_init_stop(void **state)
{
    (void)state;
    struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
    init_pod_restart(t);
    ref->now = t->now = 15000;
    both(ref, t, pod_stop, "stop c1#1 10000");
    ref->now = t->now = 15100;
    both(ref, t, exit143, "stop c0#1 10000");
    h_free(ref);
    h_free(t);
}

/* ---- an ordinary startup probe (cmd/tcp/http) adopted while it had not passed yet */

/* db (always, exec startup probe: timeout 120 s, period 1 s, initial delay `delay_s`), app
 * (always).  db started at 100 ms. */
static struct h *probe_pod(int delay_s)
{
    struct h *t = h_new();
    h_ctr(t, 0, "db", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].startup, SPEC_PROBE_EXEC, 120, 1, 0);
    t->c[0].startup.initial_delay_s = delay_s;
    h_ctr(t, 1, "app", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 100;
    h_started(t, 0, 1);
    return t;
}

static const char *db_probe_ok(struct h *t)
{
    return h_done(t, 0, 1, 1, BACKEND_OK);
}

/* Later containers wait for the probe after the adoption too; the initial delay and the
 * overall deadline count from the start inspect reports (without a restart: from STARTED). */
static void test_sup_adopt__running_startup_probe_gates_order(void **state)
{
    (void)state;
    struct h *ref = probe_pod(5), *t = probe_pod(5);
    t->now = 1500;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    bool noted = has_note(t, "its startup was pending in the saved state");
    assert_acts(t, adopt_running(t, 1, 0, 0), ""); /* app waits for db's startup */
    assert_true(noted);
    assert_acts(ref, h_at(ref, 1500), "");
    assert_phase(t, 0, "starting");
    assert_phase(t, 1, "waiting");
    assert_same(ref, t);
    assert_same_save(ref, t);
    ref->now = t->now = 5099;
    both(ref, t, h_ev_tick, "");
    ref->now = t->now = 5100;
    both(ref, t, h_ev_tick, "probe c0#1 startup exec tag1 dl=120100");
    ref->now = t->now = 5110;
    both(ref, t, db_probe_ok, "start c1#1");
    assert_phase(t, 0, "running");
    assert_true(h_cs(t, 0)->started);
    h_free(ref);
    h_free(t);

    /* the probe keeps failing: the start fails at the deadline, 120 s after STARTED */
    t = probe_pod(0);
    const struct sup_action *p = h_find(t, SUP_ACT_PROBE);
    assert_non_null(p);
    t->now = 110;
    h_done(t, 0, 1, p->tag, BACKEND_FAIL);
    t->now = 1500;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 1, 0, 0), "");
    assert_acts(t, adopt_running(t, 0, 1, 100), "probe c0#1 startup exec tag2 dl=120100");
    int attempts = 0;
    while (h_cs(t, 0)->phase == SUP_CTR_STARTING) {
        assert_true(t->now < 120100);
        p = h_find(t, SUP_ACT_PROBE);
        if (p) {
            attempts++;
            t->now += 10;
            assert_acts(t, h_done(t, 0, 1, p->tag, BACKEND_FAIL), "");
        }
        t->now = sup_next_deadline(t->s);
        h_ev_tick(t);
    }
    assert_int_equal(t->now, 120100);
    assert_string_equal(h_render(t), "stop c0#1 10000");
    assert_true(has_note(t, "startup timed out after 120 s"));
    assert_int_equal(attempts, 119); /* 1.5 s .. 119.5 s */
    assert_phase(t, 1, "waiting");
    h_free(t);
}

/* ---- an `exit: true` re-run (pod running, "startup_pending") adopted running */

static const char *job_exit0(struct h *t)
{
    return h_exited(t, 1, 2, 0);
}

static const char *job_exit1(struct h *t)
{
    return h_exited(t, 1, 2, 1);
}

static void test_sup_adopt__running_exit_probe_rerun(void **state)
{
    (void)state;
    for (int code = 0; code < 2; code++) {
        struct h *ref = h_exit_rerun_pod(), *t = h_exit_rerun_pod();
        t->now = 25000;
        restart_daemon(t);
        assert_acts(t, adopt_running(t, 0, 1, 0), "");
        assert_acts(t, adopt_running(t, 1, 2, 21100), "");
        assert_acts(ref, h_at(ref, 25000), "");
        assert_phase(t, 1, "starting");
        assert_true(sup_status(t->s)->ready); /* the scheduled re-run counts meanwhile */
        assert_same(ref, t);
        assert_same_save(ref, t);
        ref->now = t->now = 29000;
        if (code == 0) {
            /* its exit 0 completes its startup: the fan-out (once), next run 20 s later */
            both(ref, t, job_exit0, "signal c0#1 1");
            assert_int_equal(h_cs(t, 1)->next_start_mono_ms, 49000);
            assert_true(sup_status(t->s)->ready);
        } else {
            both(ref, t, job_exit1, "start c1#3"); /* a first failure, 8 s after its start */
            assert_true(has_note(t, "exited with code 1 before startup completed (expected 0)"));
            assert_phase(t, 1, "creating");
            assert_false(sup_status(t->s)->ready);
        }
        h_free(ref);
        h_free(t);
    }
}

/* A state of the previous version (no "startup_pending") of that re-run: its adopted running
 * instance counts as started, as it did then (only the first run's !seq_done says "pending"
 * in such a file). */
static void test_sup_adopt__running_rerun_state_of_previous_version(void **state)
{
    (void)state;
    struct h *t = h_exit_rerun_pod();
    char *saved = sup_save(t->s);
    const char *key = ",\"startup_pending\":true";
    char *at = strstr(saved, key);
    assert_non_null(at);
    memmove(at, at + strlen(key), strlen(at + strlen(key)) + 1);
    sup_free(t->s);
    t->s = sup_new(&t->spec, 7);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(sup_restore(t->s, saved, &err), 0);
    free(saved);
    t->now = 25000;
    adopt_running(t, 0, 1, 0);
    assert_acts(t, adopt_running(t, 1, 2, 21100), "");
    assert_phase(t, 1, "running");
    t->now = 29000;
    assert_acts(t, h_exited(t, 1, 2, 0), "");
    h_free(t);
}

/* ---- a startup signal fan-out without a startup probe (STARTED is the whole startup) */

/* side (sidecar, always, HUP), a (always, fan-out to side, no startup probe), b (always).
 * side running (100 ms), a created (not started yet), b waiting. */
static struct h *plain_fanout_pod(void)
{
    struct h *t = h_new();
    h_ctr(t, 0, "side", SPEC_RESTART_ALWAYS);
    t->c[0].kind = SPEC_CTR_SIDECAR;
    t->c[0].signal_sig = "HUP";
    h_ctr(t, 1, "a", SPEC_RESTART_ALWAYS);
    t->c[1].startup.signal_targets = side_target;
    h_ctr(t, 2, "b", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 100;
    assert_acts(t, h_started(t, 0, 1), "start c1#1");
    return t;
}

static const char *a_started(struct h *t)
{
    return h_started(t, 1, 1);
}

static const char *a2_started(struct h *t)
{
    return h_started(t, 1, 2);
}

/* ADOPT of container i exited with `code` (started at started_ms, finished at fin_ms). */
static const char *adopt_exited(struct h *t, size_t i, uint64_t inst, int code, int64_t started_ms,
                                int64_t fin_ms)
{
    struct sup_event ev = {.type = SUP_EV_ADOPT, .ctr = i};
    ev.adopt.exists = true;
    ev.adopt.instance = inst;
    ev.adopt.exit_code = code;
    ev.adopt.started_wall_ns = WALL(started_ms);
    ev.adopt.finished_wall_ns = WALL(fin_ms);
    ev.wall_ns = WALL(t->now);
    return h_step(t, &ev);
}

/* Saved while a was creating (first run; then a restart of it, "startup_pending") and adopted
 * running: the fan-out comes at the adoption, as it came at STARTED without the restart. */
static void test_sup_adopt__running_plain_startup_fans_out(void **state)
{
    (void)state;
    struct h *ref = plain_fanout_pod(), *t = plain_fanout_pod();
    t->now = 200;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    assert_acts(t, adopt_running(t, 2, 0, 0), ""); /* b waits for a */
    assert_acts(t, adopt_running(t, 1, 1, 150), "signal c0#1 1; start c2#1");
    ref->now = 200;
    assert_acts(ref, a_started(ref), "signal c0#1 1; start c2#1");
    assert_same(ref, t);
    /* a later instance: a crashes, its restart is created, the daemon restarts */
    ref->now = t->now = 300;
    both(ref, t, app_started, "");
    ref->now = t->now = 1000;
    both(ref, t, exit1, "");
    ref->now = t->now = 2000;
    both(ref, t, h_ev_tick, "start c1#2");
    t->now = 2100;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    assert_acts(t, adopt_running(t, 2, 1, 300), "");
    assert_acts(t, adopt_running(t, 1, 2, 2050), "signal c0#1 1");
    ref->now = 2100;
    assert_acts(ref, a2_started(ref), "signal c0#1 1");
    assert_same(ref, t);
    h_free(ref);
    h_free(t);

    /* adopted exited (1, after its start): counted as started, with its fan-out, then the
     * restart policy */
    ref = plain_fanout_pod();
    t = plain_fanout_pod();
    t->now = 200;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 100), "");
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_acts(t, adopt_exited(t, 1, 1, 1, 150, 190), "signal c0#1 1; start c2#1");
    assert_true(has_note(t, "counted as started"));
    ref->now = 200;
    assert_acts(ref, a_started(ref), "signal c0#1 1; start c2#1");
    assert_acts(ref, exit1(ref), "");
    assert_same(ref, t);
    h_free(ref);
    h_free(t);

    /* a pod restored in `stopping` starts nothing and signals nobody */
    t = plain_fanout_pod();
    t->now = 150;
    h_ev(t, SUP_EV_STOP_POD);
    t->now = 200;
    restart_daemon(t);
    adopt_running(t, 0, 1, 100);
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_acts(t, adopt_running(t, 1, 1, 150), "stop c1#1 10000");
    h_free(t);
}

/* ---- a restart during backoff: the exit the saved state judged is not counted again */

static const char *c0_exit1(struct h *t)
{
    return h_exited(t, 0, 1, 1);
}

static const char *c0_exit0(struct h *t)
{
    return h_exited(t, 0, 1, 0);
}

/* Restart `always`, give up after 2 failures: one crash (exit `code` at 0.5 s), the daemon
 * restarts at 0.6 s and adopts that instance exited: still one failure, the same restart at 1 s
 * (1 s after its start). */
static void test_sup_adopt__backoff_exit_not_counted_twice(void **state)
{
    (void)state;
    for (int code = 0; code < 2; code++) {
        struct h *ref = h_new(), *t = h_new();
        struct h *both_[2] = {ref, t};
        for (int k = 0; k < 2; k++) {
            h_ctr(both_[k], 0, "a", SPEC_RESTART_ALWAYS);
            both_[k]->c[0].backoff.give_up_count = 2;
            h_go(both_[k], 1);
            h_boot1(both_[k]);
        }
        const char *(*crash)(struct h *) = code ? c0_exit1 : c0_exit0;
        ref->now = t->now = 500;
        both(ref, t, crash, "");
        assert_phase(t, 0, "backoff");
        assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
        t->now = 600;
        restart_daemon(t);
        assert_acts(t, adopt_exited(t, 0, 1, code, 0, 500), "");
        assert_false(has_note(t, "gave up"));
        assert_true(has_note(t, "already judged"));
        assert_acts(ref, h_at(ref, 600), "");
        assert_same(ref, t);
        assert_same_save(ref, t);
        assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 1000);
        ref->now = t->now = 1000;
        both(ref, t, h_ev_tick, "start c0#2");
        h_free(ref);
        h_free(t);
    }
}

/* A state file without "restart_at_mono_ms" (older versions): the saved exit code says the
 * exit was judged; the restart comes after the saved delay counted from the exit. */
static void test_sup_adopt__backoff_state_of_previous_version(void **state)
{
    (void)state;
    /* without the key (older versions), and with a deadline from another boot (scheduled
     * after now): the saved delay counted from the exit */
    const char *keys[] = {"", ",\"restart_at_mono_ms\":9999999"};
    for (int k = 0; k < 2; k++) {
        struct h *t = h_new();
        h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
        t->c[0].backoff.give_up_count = 2;
        h_go(t, 1);
        h_boot1(t);
        t->now = 500;
        h_exited(t, 0, 1, 1);
        char *saved = sup_save(t->s);
        const char *key = ",\"restart_at_mono_ms\":1000";
        char *at = strstr(saved, key);
        assert_non_null(at);
        struct pod_buf b = {0};
        pod_buf_printf(&b, "%.*s%s%s", (int)(at - saved), saved, keys[k], at + strlen(key));
        free(saved);
        sup_free(t->s);
        t->s = sup_new(&t->spec, 7);
        struct pod_err err = POD_ERR_ZERO;
        assert_int_equal(sup_restore(t->s, b.data, &err), 0);
        pod_buf_free(&b);
        t->now = 600;
        assert_acts(t, adopt_exited(t, 0, 1, 1, 0, 500), "");
        assert_false(has_note(t, "gave up"));
        assert_phase(t, 0, "backoff");
        assert_int_equal(h_cs(t, 0)->consecutive_failures, 1);
        assert_int_equal(h_cs(t, 0)->next_start_mono_ms, 1000);
        h_free(t);
    }
}

/* A first-run init container whose start failed (exit 1 before its startup; podman could not
 * start it) and the daemon restarts during its backoff: one failure, the order still waits. */
static void test_sup_adopt__init_failed_start_backoff(void **state)
{
    (void)state;
    for (int how = 0; how < 2; how++) {
        struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
        ref->c[1].backoff.give_up_count = t->c[1].backoff.give_up_count = 2 + how;
        ref->now = t->now = 600; /* 500 ms after its start: the retry comes at 1.1 s */
        both(ref, t, exit1, "");
        uint64_t inst = 1;
        if (how == 1) { /* its retry cannot be started at all */
            ref->now = t->now = 1100;
            both(ref, t, h_ev_tick, "start c1#2");
            ref->now = t->now = 1150;
            assert_acts(ref, h_backend(ref, BACKEND_EV_START_FAILED, 1, 2, 0), "");
            assert_acts(t, h_backend(t, BACKEND_EV_START_FAILED, 1, 2, 0), "");
            inst = 2;
        }
        assert_phase(t, 1, "backoff");
        assert_int_equal(h_cs(t, 1)->consecutive_failures, inst);
        t->now = how ? 1200 : 700;
        restart_daemon(t);
        assert_acts(t, adopt_running(t, 0, 1, 100), "");
        assert_acts(t, adopt_running(t, 2, 0, 0), "");
        if (how == 0)
            assert_acts(t, adopt_exited(t, 1, 1, 1, 200, 600), "");
        else
            assert_acts(t, adopt_running(t, 1, 0, 0), ""); /* no container */
        assert_false(has_note(t, "gave up"));
        assert_true(has_note(t, "already judged"));
        assert_acts(ref, h_at(ref, t->now), "");
        assert_phase(t, 1, "backoff");
        assert_phase(t, 2, "waiting");
        assert_same(ref, t);
        assert_same_save(ref, t);
        ref->now = t->now = h_cs(ref, 1)->next_start_mono_ms;
        char want[32];
        snprintf(want, sizeof want, "start c1#%llu", (unsigned long long)inst + 1);
        assert_acts(ref, h_ev_tick(ref), want);
        assert_acts(t, h_ev_tick(t), want);
        assert_same(ref, t);
        h_free(ref);
        h_free(t);
    }
}

/* The wall clock stepped forward 1 h (NTP) while the daemon was down: the startup deadline
 * still counts from the saved monotonic evidence, the healthy container is not stopped. */
static void test_sup_adopt__running_init_wall_clock_step(void **state)
{
    (void)state;
    const int64_t hour = 3600 * 1000;
    struct h *ref = init_pod(SPEC_RESTART_ON_FAILURE), *t = init_pod(SPEC_RESTART_ON_FAILURE);
    t->now = 10000;
    restart_daemon(t);
    assert_acts(t, adopt_running_jumped(t, 0, 1, 100, hour), "");
    assert_acts(t, adopt_running_jumped(t, 1, 1, 200, hour), "");
    assert_acts(t, adopt_running(t, 2, 0, 0), "");
    assert_acts(ref, h_at(ref, 10000), "");
    assert_phase(t, 1, "starting");
    assert_same(ref, t);
    assert_int_equal(sup_next_deadline(t->s), 60200);
    ref->now = t->now = 20000;
    both(ref, t, exit0, "signal c0#1 1; start c2#1");
    h_free(ref);
    h_free(t);

    /* saved while it was creating (start issued at 100 ms, STARTED at 150 ms): not older than
     * its start was issued */
    t = h_new();
    h_ctr(t, 0, "init", SPEC_RESTART_ON_FAILURE);
    t->c[0].kind = SPEC_CTR_INIT;
    t->c[0].startup.timeout_s = 60;
    h_ctr(t, 1, "app", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    t->now = 100;
    assert_acts(t, h_ev(t, SUP_EV_START_POD), "start c0#1");
    t->now = 10000;
    restart_daemon(t);
    assert_acts(t, adopt_running_jumped(t, 0, 1, 150, hour), "");
    assert_phase(t, 0, "starting");
    assert_int_equal(sup_next_deadline(t->s), 60100);
    h_free(t);

    /* the saved monotonic time is from another boot (later than now): from the adoption */
    t = init_pod(SPEC_RESTART_ON_FAILURE);
    restart_daemon(t);
    t->now = 150;
    adopt_running(t, 0, 1, 100);
    assert_acts(t, adopt_running(t, 1, 1, 100), "");
    assert_int_equal(sup_next_deadline(t->s), 60150);
    h_free(t);
}

/* A pod restored in `stopping` does not probe the containers it adopts running: it stops
 * them (once all are adopted). */
static void test_sup_adopt__stopping_pod_no_probes(void **state)
{
    (void)state;
    struct h *t = h_new();
    h_ctr(t, 0, "a", SPEC_RESTART_ALWAYS);
    h_probe(&t->c[0].liveness, SPEC_PROBE_EXEC, 5, 5, 3);
    h_probe(&t->c[0].readiness, SPEC_PROBE_EXEC, 5, 5, 3);
    h_ctr(t, 1, "b", SPEC_RESTART_ALWAYS);
    h_go(t, 1);
    h_ev(t, SUP_EV_START_POD);
    h_started(t, 0, 1);
    h_started(t, 1, 1);
    t->now = 1000;
    h_ev(t, SUP_EV_STOP_POD);
    t->now = 1100;
    restart_daemon(t);
    assert_acts(t, adopt_running(t, 0, 1, 0), "");
    assert_acts(t, adopt_running(t, 1, 1, 0), "stop c1#1 10000; stop c0#1 10000");
    t->now = 5000;
    assert_acts(t, h_ev_tick(t), "");
    h_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sup_adopt__running_init_gates_order_until_exit0),
        cmocka_unit_test(test_sup_adopt__running_init_exit_nonzero_is_failed_start),
        cmocka_unit_test(test_sup_adopt__running_init_startup_deadline),
        cmocka_unit_test(test_sup_adopt__running_init_stop),
        cmocka_unit_test(test_sup_adopt__running_startup_probe_gates_order),
        cmocka_unit_test(test_sup_adopt__running_exit_probe_rerun),
        cmocka_unit_test(test_sup_adopt__running_rerun_state_of_previous_version),
        cmocka_unit_test(test_sup_adopt__running_plain_startup_fans_out),
        cmocka_unit_test(test_sup_adopt__backoff_exit_not_counted_twice),
        cmocka_unit_test(test_sup_adopt__backoff_state_of_previous_version),
        cmocka_unit_test(test_sup_adopt__init_failed_start_backoff),
        cmocka_unit_test(test_sup_adopt__running_init_wall_clock_step),
        cmocka_unit_test(test_sup_adopt__stopping_pod_no_probes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
