/* SPDX-License-Identifier: MIT */
/* sup_table.c - the per-container transition table (s6-supervise style): phase x event ->
 * handler, and the handlers themselves.  A NULL entry means the event is ignored in that phase.
 * Handlers only change struct ctr and append actions (through sup_ctr.c); no I/O. */

#include "sup_internal.h"

#include <stdio.h>

static const char *const ctr_event_names[CE__N] = {"go",
                                                   "started",
                                                   "start-failed",
                                                   "exited",
                                                   "create-timeout",
                                                   "startup-ok",
                                                   "startup-timeout",
                                                   "startup-fail",
                                                   "liveness-fail",
                                                   "restart-due",
                                                   "stop",
                                                   "kill",
                                                   "kill-due",
                                                   "gone-due",
                                                   "reload-config",
                                                   "reload-signal",
                                                   "rerun",
                                                   "stop-failed",
                                                   "kill-failed",
                                                   "retry-due"};

static void h_start(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_do_start(x, i);
}

static void h_started(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    c->ph = SUP_CTR_STARTING;
    c->running_since_mono_ms = x->now_mono_ms;
    c->create_deadline_mono_ms = NEVER;
    c->live = true;
    c->ready = false;
    enum spec_probe_kind sk = startup_kind(k);
    if (sk != SPEC_PROBE_EXIT && !probe_active(&k->startup)) {
        sup_dispatch(x, i, CE_STARTUP_OK, NULL);
        return;
    }
    c->startup_deadline_mono_ms = x->now_mono_ms + startup_timeout_ms(&k->startup);
    sup_note(x, POD_LOG_INFO, i, "waiting to start up (%s, timeout %lld s)",
             sk == SPEC_PROBE_EXIT ? "exit" : spec_probe_kind_name(sk),
             (long long)(startup_timeout_ms(&k->startup) / 1000));
    if (sk != SPEC_PROBE_EXIT) {
        sup_probe_reset(&c->pr[PR_STARTUP]);
        c->pr[PR_STARTUP].next_at_mono_ms =
            x->now_mono_ms + (int64_t)k->startup.initial_delay_s * 1000;
    }
}

/* EXITED while STARTED was never seen: the process ran and exited. */
static void h_exited_creating(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    h_started(x, i, NULL);
    struct ctr *c = &x->s->c[i];
    if (c->ph == SUP_CTR_STARTING || c->ph == SUP_CTR_RUNNING)
        sup_dispatch(x, i, CE_EXITED, a);
}

static void h_start_failed(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    char why[190];
    snprintf(why, sizeof why, "start failed: %s", a && a->msg && *a->msg ? a->msg : "backend");
    sup_set_exit(&x->s->c[i], NULL);
    sup_start_fault(x, i, why);
}

static void h_create_timeout(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_note(x, POD_LOG_ERROR, i, "no answer to start within %d s; stopping it",
             CREATE_TIMEOUT_MS / 1000);
    sup_do_stop(x, i, AS_START_FAULT);
}

static void h_startup_ok(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    sup_probe_cancel(x, i, PR_STARTUP);
    c->startup_deadline_mono_ms = NEVER;
    c->ph = SUP_CTR_RUNNING;
    c->started = true;
    c->live = true;
    c->ready = !probe_active(&k->readiness);
    sup_probes_schedule_running(x, i, true);
    sup_note(x, POD_LOG_OK, i, "started");
    sup_update_stable(x, i);
    c->seq_done = true;
    sup_fan_out(x, i);
    if (c->pending_reload && c->ph == SUP_CTR_RUNNING) {
        enum ctr_event e = (enum ctr_event)c->pending_reload;
        c->pending_reload = 0;
        sup_dispatch(x, i, e, NULL);
    }
    sup_advance_sequence(x);
}

static void h_exited_starting(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    sup_set_exit(c, a);
    sup_probes_cancel_all(x, i);
    c->rerun_ready = false; /* completed (then `completed` counts) or a failed start */
    if (startup_kind(k) == SPEC_PROBE_EXIT && c->has_exit && c->exit_code == 0) {
        sup_leave_up(c);
        c->started = true;
        c->completed = true;
        c->seq_done = true;
        c->ph = SUP_CTR_EXITED;
        sup_note(x, POD_LOG_OK, i, "completed (exit 0)");
        c->streak = 0; /* a completed run is not a crash */
        c->backoff_ms = 0;
        sup_fan_out(x, i);
        c->pending_reload = 0; /* the next run reads the new config anyway */
        if (c->ph == SUP_CTR_EXITED)
            sup_policy_exit(x, i, 0, a && a->has_exit_time ? a->exit_mono_ms : x->now_mono_ms);
        sup_advance_sequence(x);
        return;
    }
    char why[96];
    if (c->has_exit)
        snprintf(why, sizeof why, "exited with code %d before startup completed%s", c->exit_code,
                 startup_kind(k) == SPEC_PROBE_EXIT ? " (expected 0)" : "");
    else
        snprintf(why, sizeof why, "exited before startup completed");
    sup_failed_start(x, i, why);
}

static void h_startup_timeout(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_note(x, POD_LOG_ERROR, i, "startup timed out after %lld s; stopping it",
             (long long)(startup_timeout_ms(&ctr_spec(x->s, i)->startup) / 1000));
    sup_do_stop(x, i, AS_FAILED_START);
}

static void h_startup_fail(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_note(x, POD_LOG_ERROR, i, "startup probe failed %d times; stopping it",
             ctr_spec(x->s, i)->startup.failure_threshold);
    sup_do_stop(x, i, AS_FAILED_START);
}

static void h_exited_running(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct ctr *c = &x->s->c[i];
    sup_set_exit(c, a);
    sup_probes_cancel_all(x, i);
    sup_leave_up(c);
    c->pending_reload = 0;
    c->completed = c->has_exit && c->exit_code == 0;
    c->rerun_ready = false; /* clean: `completed` counts; else a crash (backoff) */
    sup_policy_exit(x, i, c->has_exit ? c->exit_code : -1, x->now_mono_ms);
}

static void h_liveness_fail(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_note(x, POD_LOG_WARN, i, "liveness probe failed; stopping it");
    sup_do_stop(x, i, AS_LIVENESS);
    x->s->c[i].live = false;
}

static void h_stop(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_do_stop(x, i, AS_NONE);
}

static void h_kill(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_do_kill(x, i);
}

static void h_restart_planned(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_do_stop(x, i, AS_RESTART);
}

/* The stopping container is down (EXITED, START_FAILED or considered gone). */
static void h_down_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    sup_set_exit(c, a);
    sup_leave_up(c);
    enum after_stop after = c->after;
    c->after = AS_NONE;
    if (after != AS_RESTART || !pod_active(s))
        c->rerun_ready = false;
    c->ph = SUP_CTR_EXITED;
    c->restart_at_mono_ms = NEVER;
    if (!pod_active(s)) {
        if (c->has_exit)
            sup_note(x, POD_LOG_INFO, i, "stopped (exit code %d)", c->exit_code);
        else
            sup_note(x, POD_LOG_INFO, i, "stopped");
        sup_pod_stop_advance(x);
        return;
    }
    switch (after) {
    case AS_RESTART:
        sup_do_start(x, i);
        break;
    case AS_FAILED_START:
        sup_failed_start(x, i, "failed start");
        break;
    case AS_START_FAULT:
        sup_start_fault(x, i, "failed start");
        break;
    case AS_LIVENESS:
        if (ctr_spec(s, i)->restart == SPEC_RESTART_NEVER) {
            sup_note(x, POD_LOG_WARN, i,
                     "stopped after liveness failure; not restarted (policy never)");
        } else {
            sup_schedule_restart(x, i, true, "stopped after liveness failure");
        }
        break;
    default:
        sup_note(x, POD_LOG_INFO, i, "stopped");
        break;
    }
}

static void h_gone_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_note(x, POD_LOG_ERROR, i,
             "no exit reported %d ms after SIGKILL; considered gone (removing it)", KILL_GRACE_MS);
    /* the last resort before the pod may say it stopped: `podman rm -f` kills a container
     * whose kill hung or failed, and makes a start still in flight fail (SPEC 8.8) */
    sup_act(x, SUP_ACT_CTR_REMOVE, i);
    h_down_stopping(x, i, NULL);
}

static void h_kill_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    sup_note(x, POD_LOG_WARN, i, "did not stop in time; sending SIGKILL");
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    c->retry_at_mono_ms = NEVER; /* a stop still being retried: the kill supersedes it */
    struct sup_action *k = sup_act(x, SUP_ACT_CTR_KILL, i);
    k->sig = SIG_KILL;
}

static void h_kill_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    c->after = AS_NONE;
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    c->retry_at_mono_ms = NEVER;
    struct sup_action *k = sup_act(x, SUP_ACT_CTR_KILL, i);
    k->sig = SIG_KILL;
}

/* The CTR_STOP call failed: the stop signal may never have been sent.  Retried every
 * CALL_RETRY_MS until the exit; the SIGKILL deadline of the first stop (stopTimeout + 2 s)
 * still stands and supersedes the retries (SPEC.md 8.8). */
static void h_stop_failed(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    if (c->kill_at_mono_ms == NEVER)
        return; /* SIGKILL was sent meanwhile: the kill decides */
    c->retry_action = SUP_ACT_CTR_STOP;
    c->retry_at_mono_ms = x->now_mono_ms + CALL_RETRY_MS;
}

/* The CTR_KILL call failed: retried every CALL_RETRY_MS until the exit, or until the container
 * is considered gone, KILL_GRACE_MS after the first SIGKILL (a stop always terminates). */
static void h_kill_failed(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    c->retry_action = SUP_ACT_CTR_KILL;
    c->retry_at_mono_ms = x->now_mono_ms + CALL_RETRY_MS;
}

static void h_retry_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    bool stop = c->retry_action == SUP_ACT_CTR_STOP;
    c->retry_at_mono_ms = NEVER;
    sup_note(x, POD_LOG_WARN, i, "retry %s of instance %llu (the call failed)",
             stop ? "stop" : "SIGKILL", (unsigned long long)c->instance);
    struct sup_action *r = sup_act(x, c->retry_action, i);
    if (stop)
        r->timeout_ms = stop_timeout_ms(ctr_spec(x->s, i));
    else
        r->sig = SIG_KILL;
}

static void h_stop_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    x->s->c[i].after = AS_NONE;
}

/* STARTED arrived for an instance we already asked to stop: ask again (the backend may have
 * seen the stop before the container existed). */
static void h_started_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct sup_action *r = sup_act(x, SUP_ACT_CTR_STOP, i);
    r->timeout_ms = stop_timeout_ms(ctr_spec(x->s, i));
}

static void h_rerun_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    x->s->c[i].after = AS_RESTART;
}

static void h_stop_backoff(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    c->ph = SUP_CTR_EXITED;
    c->restart_at_mono_ms = NEVER;
}

static void h_stop_down(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    x->s->c[i].restart_at_mono_ms = NEVER;
}

static void h_reload_running(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    if (sup_deliver_signal(x, i, "reload"))
        return;
    sup_note(x, POD_LOG_DEBUG, i, "no signal defined; ignored");
}

static void h_reload_config_running(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    const struct spec_container *k = ctr_spec(x->s, i);
    if (sup_deliver_signal(x, i, "config changed"))
        return;
    if (config_policy(k)) {
        sup_note(x, POD_LOG_INFO, i, "config changed; restarting (policy %s)",
                 spec_restart_name(k->restart));
        sup_do_stop(x, i, AS_RESTART);
        return;
    }
    sup_note(x, POD_LOG_DEBUG, i, "config changed; no signal and policy %s: left alone",
             spec_restart_name(k->restart));
}

static void h_reload_pending_config(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    x->s->c[i].pending_reload = CE_RELOAD_CONFIG;
}

static void h_reload_pending_signal(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    if (c->pending_reload != CE_RELOAD_CONFIG)
        c->pending_reload = CE_RELOAD_SIGNAL;
}

static void h_reload_exited(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    const struct spec_container *k = ctr_spec(x->s, i);
    if (!config_policy(k))
        return;
    sup_note(x, POD_LOG_INFO, i, "not running; rerun by restart policy %s",
             spec_restart_name(k->restart));
    sup_start_scheduled_rerun(x, i);
}

/* The interval timer of an on-interval container that exited 0. */
static void h_interval_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    sup_start_scheduled_rerun(x, i);
}

static void h_rerun_waiting(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    if (c->seq_done || x->s->phase == SUP_POD_RUNNING) {
        sup_do_start(x, i);
        return;
    }
    sup_note(x, POD_LOG_INFO, i, "not started yet; waiting for its turn");
}

/* The transition table: NULL = the event is ignored in that phase. */
typedef void ctr_handler(struct step *x, size_t i, const struct ctr_event_arg *a);

static ctr_handler *const table[SUP_CTR__N][CE__N] = {
    [SUP_CTR_WAITING] =
        {
            [CE_GO] = h_start,
            [CE_RERUN] = h_rerun_waiting,
        },
    [SUP_CTR_CREATING] =
        {
            [CE_STARTED] = h_started,
            [CE_START_FAILED] = h_start_failed,
            [CE_EXITED] = h_exited_creating,
            [CE_CREATE_TIMEOUT] = h_create_timeout,
            [CE_STOP] = h_stop,
            [CE_KILL] = h_kill,
            [CE_RERUN] = h_restart_planned,
            [CE_RELOAD_CONFIG] = h_reload_pending_config,
            [CE_RELOAD_SIGNAL] = h_reload_pending_signal,
        },
    [SUP_CTR_STARTING] =
        {
            [CE_EXITED] = h_exited_starting,
            [CE_STARTUP_OK] = h_startup_ok,
            [CE_STARTUP_TIMEOUT] = h_startup_timeout,
            [CE_STARTUP_FAIL] = h_startup_fail,
            [CE_STOP] = h_stop,
            [CE_KILL] = h_kill,
            [CE_RERUN] = h_restart_planned,
            [CE_RELOAD_CONFIG] = h_reload_pending_config,
            [CE_RELOAD_SIGNAL] = h_reload_pending_signal,
        },
    [SUP_CTR_RUNNING] =
        {
            [CE_EXITED] = h_exited_running,
            [CE_LIVENESS_FAIL] = h_liveness_fail,
            [CE_STOP] = h_stop,
            [CE_KILL] = h_kill,
            [CE_RERUN] = h_restart_planned,
            [CE_RELOAD_CONFIG] = h_reload_config_running,
            [CE_RELOAD_SIGNAL] = h_reload_running,
        },
    [SUP_CTR_STOPPING] =
        {
            [CE_STARTED] = h_started_stopping,
            [CE_START_FAILED] = h_down_stopping,
            [CE_EXITED] = h_down_stopping,
            [CE_STOP] = h_stop_stopping,
            [CE_KILL] = h_kill_stopping,
            [CE_KILL_DUE] = h_kill_due,
            [CE_GONE_DUE] = h_gone_due,
            [CE_RERUN] = h_rerun_stopping,
            [CE_STOP_FAILED] = h_stop_failed,
            [CE_KILL_FAILED] = h_kill_failed,
            [CE_RETRY_DUE] = h_retry_due,
        },
    [SUP_CTR_BACKOFF] =
        {
            [CE_RESTART_DUE] = h_start,
            [CE_STOP] = h_stop_backoff,
            [CE_KILL] = h_stop_backoff,
            [CE_RERUN] = h_start,
        },
    [SUP_CTR_EXITED] =
        {
            [CE_RESTART_DUE] = h_interval_due,
            [CE_STOP] = h_stop_down,
            [CE_KILL] = h_stop_down,
            [CE_RERUN] = h_start,
            [CE_RELOAD_CONFIG] = h_reload_exited,
            [CE_RELOAD_SIGNAL] = h_reload_exited,
        },
    [SUP_CTR_FAILED] =
        {
            [CE_RERUN] = h_start,
        },
    [SUP_CTR_GAVE_UP] =
        {
            [CE_RERUN] = h_start,
        },
    [SUP_CTR_ADOPTING] =
        {
            [CE_STOP] = sup_h_adopt_stop,
            [CE_KILL] = sup_h_adopt_kill,
            [CE_RETRY_DUE] = sup_h_adopt_remove_again,
            [CE_GONE_DUE] = sup_h_adopt_gone,
            [CE_RELOAD_CONFIG] = h_reload_pending_config,
            [CE_RELOAD_SIGNAL] = h_reload_pending_signal,
        },
};

void sup_dispatch(struct step *x, size_t i, enum ctr_event e, const struct ctr_event_arg *a)
{
    ctr_handler *f = table[x->s->c[i].ph][e];
    if (!f) {
        if (e == CE_STARTED || e == CE_EXITED || e == CE_START_FAILED || e == CE_STOP_FAILED ||
            e == CE_KILL_FAILED)
            sup_note(x, POD_LOG_DEBUG, i, "%s ignored in phase %s", ctr_event_names[e],
                     sup_ctr_phase_name(x->s->c[i].ph));
        return;
    }
    f(x, i, a);
}
