/* SPDX-License-Identifier: MIT */
/* sup_ctr.c - what the container handlers do: start a new instance, stop, kill, apply the
 * restart policy after an exit, the crash-loop backoff (with seeded jitter) and the give-up
 * budget, deliver a configured signal, the startup signal fan-out (SPEC.md 8.3-8.5, 8.7).
 * Pure: state changes and actions only. */

#include "sup_internal.h"

#include <stdio.h>
#include <string.h>

static uint64_t rng_next(struct sup *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The jittered part of the delay after the streak's n-th consecutive failure (SPEC.md 8.5): 0
 * for the first (kubelet restarts a first crash at once), then full jitter, uniform in
 * [0, min(maxSeconds, initialSeconds * 2^(n-2))]. */
static int64_t backoff_jitter(struct sup *s, size_t i)
{
    const struct spec_container *k = ctr_spec(s, i);
    int64_t initial = k->backoff.initial_ms, cap = k->backoff.max_ms;
    if (s->c[i].streak <= 1)
        return 0;
    int64_t ceiling = initial;
    for (unsigned n = 2; n < s->c[i].streak && ceiling < cap; n++)
        ceiling *= 2;
    ceiling = imin(ceiling, cap);
    return (int64_t)(rng_next(s) % (uint64_t)(ceiling + 1));
}

/* When a restart after a failure may come: the jittered delay after now (the exit or the failed
 * start), but never sooner than MIN_RESTART_MS after the previous start (s6's nextstart). */
static int64_t restart_time(struct step *x, size_t i)
{
    const struct ctr *c = &x->s->c[i];
    int64_t at = x->now_mono_ms + backoff_jitter(x->s, i);
    if (c->last_start_mono_ms != NEVER)
        at = imax(at, c->last_start_mono_ms + MIN_RESTART_MS);
    return at;
}

/* Records a failure; returns true when the give-up budget is exhausted. */
static bool record_failure(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    if (c->n_fail == GIVEUP_RING) {
        memmove(c->fail_mono_ms, c->fail_mono_ms + 1,
                (GIVEUP_RING - 1) * sizeof c->fail_mono_ms[0]);
        c->n_fail--;
    }
    c->fail_mono_ms[c->n_fail++] = x->now_mono_ms;
    if (k->backoff.give_up_count <= 0)
        return false;
    int limit = k->backoff.give_up_count < GIVEUP_RING ? k->backoff.give_up_count : GIVEUP_RING;
    int64_t since = x->now_mono_ms - giveup_window_ms(k);
    int in_window = 0;
    for (size_t f = 0; f < c->n_fail; f++)
        if (c->fail_mono_ms[f] > since)
            in_window++;
    return in_window >= limit;
}

void sup_leave_up(struct ctr *c)
{
    c->started = false;
    c->completed = false;
    c->ready = false;
    c->stable_since_mono_ms = -1;
    c->create_deadline_mono_ms = NEVER;
    c->startup_deadline_mono_ms = NEVER;
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = NEVER;
    c->retry_at_mono_ms = NEVER;
}

/* CTR_START of a new instance.  Only called from a down phase. */
void sup_do_start(struct step *x, size_t i)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    if (!pod_active(s)) {
        c->ph = SUP_CTR_EXITED;
        return;
    }
    c->instance++;
    c->start_count++;
    if (c->start_count > 1)
        c->restart_count++;
    sup_leave_up(c);
    c->ph = SUP_CTR_CREATING;
    c->after = AS_NONE;
    c->has_exit = false;
    c->live = true;
    c->restart_at_mono_ms = NEVER;
    c->create_deadline_mono_ms = x->now_mono_ms + CREATE_TIMEOUT_MS;
    c->last_start_mono_ms = x->now_mono_ms;
    /* a reload left pending by an instance that never got running (a failed or hung start)
     * is not for this one: it reads the current files (SPEC 8.7) */
    c->pending_reload = 0;
    for (int r = 0; r < PR__N; r++)
        sup_probe_reset(&c->pr[r]);
    sup_cancels_end(c); /* of the previous instance, which is gone */
    sup_act(x, SUP_ACT_CTR_START, i);
    sup_note(x, POD_LOG_INFO, i, "start instance %llu", (unsigned long long)c->instance);
}

/* Graceful stop; `after` says what happens on exit. */
void sup_do_stop(struct step *x, size_t i, enum after_stop after)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    sup_probes_cancel_all(x, i);
    sup_leave_up(c);
    if (after != AS_RESTART)
        c->rerun_ready = false;
    c->ph = SUP_CTR_STOPPING;
    c->after = after;
    c->kill_at_mono_ms = x->now_mono_ms + stop_timeout_ms(k) + STOP_SLACK_MS;
    struct sup_action *a = sup_act(x, SUP_ACT_CTR_STOP, i);
    a->timeout_ms = stop_timeout_ms(k);
}

void sup_do_kill(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    sup_probes_cancel_all(x, i);
    sup_leave_up(c);
    c->rerun_ready = false;
    c->ph = SUP_CTR_STOPPING;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    struct sup_action *a = sup_act(x, SUP_ACT_CTR_KILL, i);
    a->sig = SIG_KILL;
}

/* Restart after an unplanned exit or a failed start: backoff, give-up. */
void sup_schedule_restart(struct step *x, size_t i, bool failure, const char *why)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    c->rerun_ready = false;
    c->streak++;
    if (failure && record_failure(x, i)) {
        c->ph = SUP_CTR_GAVE_UP;
        c->gave_up = true;
        c->restart_at_mono_ms = NEVER;
        sup_note(x, POD_LOG_ERROR, i, "%s; gave up after %d failures within %d s", why,
                 ctr_spec(s, i)->backoff.give_up_count,
                 (int)(giveup_window_ms(ctr_spec(s, i)) / 1000));
        return;
    }
    c->restart_at_mono_ms = restart_time(x, i);
    c->backoff_ms = c->restart_at_mono_ms - x->now_mono_ms;
    c->ph = SUP_CTR_BACKOFF;
    sup_note(x, POD_LOG_INFO, i, "%s; restart in %lld ms (backoff #%u)", why,
             (long long)c->backoff_ms, c->streak);
}

void sup_failed_start(struct step *x, size_t i, const char *why)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    sup_leave_up(c);
    c->rerun_ready = false;
    if (ctr_spec(s, i)->restart == SPEC_RESTART_NEVER) {
        c->ph = SUP_CTR_FAILED;
        c->streak++;
        (void)record_failure(x, i);
        sup_note(x, POD_LOG_ERROR, i, "%s; restart policy never: not retried (use rerun)", why);
        if (!c->seq_done && s->phase == SUP_POD_STARTING)
            sup_note(x, POD_LOG_ERROR, SIZE_MAX, "pod startup blocked at container %s",
                     ctr_spec(s, i)->name);
        return;
    }
    sup_schedule_restart(x, i, true, why);
}

/* Podman could not start the container (SPEC 8.3): the container never ran, so this is no
 * restart in the sense of its policy; even under `never` it is retried with backoff (counted
 * for backoff and give-up), as kubelet retries a container it could not create. */
void sup_start_fault(struct step *x, size_t i, const char *why)
{
    struct ctr *c = &x->s->c[i];
    sup_leave_up(c);
    if (ctr_spec(x->s, i)->restart != SPEC_RESTART_NEVER) {
        sup_failed_start(x, i, why);
        return;
    }
    c->rerun_ready = false;
    char w[240];
    snprintf(w, sizeof w, "%s (podman's fault: retried under restart policy never too)", why);
    sup_schedule_restart(x, i, true, w);
}

/* A started container exited on its own at exit_mono_ms (now, or earlier for an instance adopted
 * exited): apply the restart policy (original 3.4).  The on-interval timer counts from the exit;
 * backoff delays count from now. */
bool sup_policy_restarts(const struct spec_container *k, int code)
{
    switch (k->restart) {
    case SPEC_RESTART_ALWAYS:
        return true;
    case SPEC_RESTART_ON_FAILURE:
    case SPEC_RESTART_ON_CONFIG:
    case SPEC_RESTART_ON_INTERVAL:
        return code != 0;
    default:
        return false;
    }
}

void sup_policy_exit(struct step *x, size_t i, int code, int64_t exit_mono_ms)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    bool restart = sup_policy_restarts(k, code);
    char why[64];
    snprintf(why, sizeof why, "exited with code %d", code);
    if (restart) {
        sup_schedule_restart(x, i, code != 0, why);
        return;
    }
    c->ph = SUP_CTR_EXITED;
    if (k->restart == SPEC_RESTART_ON_INTERVAL && code == 0) {
        int64_t d = imax((int64_t)k->restart_interval_s * 1000, MIN_RESTART_MS);
        c->restart_at_mono_ms = imin(exit_mono_ms, x->now_mono_ms) + d;
        sup_note(x, POD_LOG_INFO, i, "%s; restart on interval in %lld ms", why,
                 (long long)imax(0, c->restart_at_mono_ms - x->now_mono_ms));
        return;
    }
    c->restart_at_mono_ms = NEVER;
    sup_note(x, POD_LOG_INFO, i, "%s; not restarted (policy %s)", why,
             spec_restart_name(k->restart));
}

void sup_set_exit(struct ctr *c, const struct ctr_event_arg *a)
{
    c->has_exit = a && a->has_code;
    c->exit_code = c->has_exit ? a->exit_code : 0;
}

void sup_update_stable(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    bool ok = c->ph == SUP_CTR_RUNNING && c->started &&
              (!probe_active(&ctr_spec(x->s, i)->readiness) || c->ready);
    if (ok && c->stable_since_mono_ms < 0)
        c->stable_since_mono_ms = x->now_mono_ms;
    else if (!ok)
        c->stable_since_mono_ms = -1;
}

/* Delivers the container's configured signal (sig or cmd); false if it has none. */
bool sup_deliver_signal(struct step *x, size_t i, const char *why)
{
    const struct spec_container *k = ctr_spec(x->s, i);
    struct ctr *c = &x->s->c[i];
    if (k->signal_sig) {
        int sig = sup_signal_number(k->signal_sig);
        if (sig <= 0) {
            sup_note(x, POD_LOG_ERROR, i, "unknown signal %s", k->signal_sig);
            return true;
        }
        struct sup_action *a = sup_act(x, SUP_ACT_SIGNAL, i);
        a->sig = sig;
        sup_note(x, POD_LOG_INFO, i, "signal %s (%s)", k->signal_sig, why);
        return true;
    }
    if (k->signal_cmd) {
        if (c->pr[PR_SIGCMD].tag || c->cl[PR_SIGCMD].tag) {
            sup_note(x, POD_LOG_INFO, i, "signal command still running; coalesced (%s)", why);
            return true;
        }
        sup_signal_cmd_start(x, i);
        sup_note(x, POD_LOG_INFO, i, "signal command (%s)", why);
        return true;
    }
    return false;
}

/* Startup signal fan-out (PODSPEC startupProbe.signal). */
void sup_fan_out(struct step *x, size_t i)
{
    const struct spec_container *k = ctr_spec(x->s, i);
    if (!k->startup.signal_targets)
        return;
    for (char **t = k->startup.signal_targets; *t; t++) {
        int j = spec_find_container(x->s->spec, *t);
        if (j < 0) {
            sup_note(x, POD_LOG_WARN, i, "startup signal target %s does not exist", *t);
            continue;
        }
        if ((size_t)j == i)
            continue;
        sup_dispatch(x, (size_t)j, CE_RELOAD_SIGNAL, NULL);
    }
}

/* A scheduled re-run (interval timer, config change, signal) of a down container: when it had
 * completed, the new instance keeps the pod ready until it fails (SPEC.md 8.6). */
void sup_start_scheduled_rerun(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    bool was_completed = c->completed && c->has_exit && c->exit_code == 0;
    sup_do_start(x, i);
    c->rerun_ready = was_completed && c->ph == SUP_CTR_CREATING;
}
