/* SPDX-License-Identifier: MIT */
/* sup_due.c - the supervisor's timers: every deadline is a field of struct ctr / cfg_burst;
 * this file says which one is next (sup_next_deadline) and handles what is due at `now`
 * (before and after each event, so a result that arrives at its deadline is never credited).
 * The deadline of a phase becomes a table event (CE_*_DUE / CE_*_TIMEOUT); pure. */

#include "sup_internal.h"

#include <string.h>

/* The deadline of container i's phase (NEVER = none). */
static int64_t phase_deadline(const struct ctr *c)
{
    switch (c->ph) {
    case SUP_CTR_CREATING:
        return c->create_deadline_mono_ms;
    case SUP_CTR_STARTING:
        return c->startup_deadline_mono_ms;
    case SUP_CTR_BACKOFF:
    case SUP_CTR_EXITED:
        return c->restart_at_mono_ms;
    case SUP_CTR_STOPPING:
        return imin(imin(c->kill_at_mono_ms, c->gone_at_mono_ms), c->retry_at_mono_ms);
    case SUP_CTR_ADOPTING: /* the removal of a start in flight (sup_inflight.c) */
        return imin(c->gone_at_mono_ms, c->removing ? c->remove_again_at_mono_ms : NEVER);
    default:
        return NEVER;
    }
}

static int64_t ctr_deadline(const struct sup *s, size_t i)
{
    const struct ctr *c = &s->c[i];
    int64_t d = imin(phase_deadline(c), sup_cancel_deadline(c));
    for (int r = 0; r < PR__N; r++)
        if (!c->cl[r].tag || c->pr[r].tag) /* a due attempt waits for the cancel's end */
            d = imin(d,
                     c->pr[r].tag ? c->pr[r].attempt_deadline_mono_ms : c->pr[r].next_at_mono_ms);
    if (c->ph == SUP_CTR_RUNNING && c->streak > 0 && c->stable_since_mono_ms >= 0)
        d = imin(d, c->stable_since_mono_ms + backoff_reset_ms(ctr_spec(s, i)));
    return d;
}

/* An attempt past its deadline: cancelled (killed inside the container), counted as a failure. */
static bool attempt_timed_out(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    for (int r = 0; r < PR__N; r++) {
        struct probe_rt *p = &c->pr[r];
        if (!p->tag || p->attempt_deadline_mono_ms > x->now_mono_ms)
            continue;
        sup_cancel_begin(x, i, r, p->tag);
        sup_note(x, POD_LOG_WARN, i, "%s %s timed out; cancelled",
                 sup_probe_role_name((enum sup_probe_role)r), r == PR_SIGCMD ? "command" : "probe");
        sup_probe_result(x, i, r, BACKEND_TIMEOUT);
        return true;
    }
    return false;
}

/* The phase's deadline as a table event: which one is due, CE__N when none. */
static enum ctr_event phase_event_due(struct ctr *c, int64_t now)
{
    switch (c->ph) {
    case SUP_CTR_CREATING:
        return c->create_deadline_mono_ms <= now ? CE_CREATE_TIMEOUT : CE__N;
    case SUP_CTR_STARTING:
        return c->startup_deadline_mono_ms <= now ? CE_STARTUP_TIMEOUT : CE__N;
    case SUP_CTR_BACKOFF:
    case SUP_CTR_EXITED:
        if (c->restart_at_mono_ms > now)
            return CE__N;
        c->restart_at_mono_ms = NEVER;
        return CE_RESTART_DUE;
    case SUP_CTR_STOPPING:
        if (c->kill_at_mono_ms <= now)
            return CE_KILL_DUE;
        if (c->gone_at_mono_ms <= now)
            return CE_GONE_DUE;
        return c->retry_at_mono_ms <= now ? CE_RETRY_DUE : CE__N;
    case SUP_CTR_ADOPTING:
        if (c->gone_at_mono_ms <= now)
            return CE_GONE_DUE;
        return c->removing && c->remove_again_at_mono_ms <= now ? CE_RETRY_DUE : CE__N;
    default:
        return CE__N;
    }
}

/* The next attempt of a probe whose period came (dropped when the phase no longer runs it). */
static bool attempt_due(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    for (int r = 0; r < PR_SIGCMD; r++) {
        struct probe_rt *p = &c->pr[r];
        if (p->tag || p->next_at_mono_ms > x->now_mono_ms || c->cl[r].tag)
            continue; /* in flight, not due, or its cancelled run not confirmed gone yet */
        bool ok_phase = r == PR_STARTUP ? c->ph == SUP_CTR_STARTING : c->ph == SUP_CTR_RUNNING;
        if (!ok_phase) {
            sup_probe_reset(p);
            continue;
        }
        sup_probe_start(x, i, r);
        return true;
    }
    return false;
}

/* Running stably for resetSeconds: the backoff streak starts afresh. */
static bool backoff_reset_due(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    int64_t reset_ms = backoff_reset_ms(ctr_spec(x->s, i));
    if (c->ph != SUP_CTR_RUNNING || c->streak == 0 || c->stable_since_mono_ms < 0 ||
        c->stable_since_mono_ms + reset_ms > x->now_mono_ms)
        return false;
    sup_note(x, POD_LOG_INFO, i, "backoff reset after %lld s stable", (long long)(reset_ms / 1000));
    c->streak = 0;
    c->backoff_ms = 0;
    return true;
}

/* Handles one thing due at x->now_mono_ms for container i; returns true if something happened. */
static bool ctr_due(struct step *x, size_t i)
{
    if (attempt_timed_out(x, i))
        return true;
    enum ctr_event e = phase_event_due(&x->s->c[i], x->now_mono_ms);
    if (e != CE__N) {
        sup_dispatch(x, i, e, NULL);
        return true;
    }
    return sup_cancel_due(x, i) || attempt_due(x, i) || backoff_reset_due(x, i);
}

void sup_process_due(struct step *x)
{
    struct sup *s = x->s;
    /* Each round handles at most one item per container; the bound only guards bugs. */
    for (int round = 0; round < 1000; round++) {
        bool any = false;
        for (size_t i = 0; i < s->n; i++)
            while (ctr_due(x, i))
                any = true;
        for (size_t v = 0; v < s->spec->n_volumes; v++) {
            struct cfg_burst *b = &s->cfg[v];
            if (sup_cfg_fireable(b) && b->quiet_at_mono_ms <= x->now_mono_ms) {
                if (pod_active(s))
                    sup_cfg_fire(x, v, "changed");
                else
                    memset(b, 0, sizeof *b);
                any = true;
            }
        }
        if (!any)
            return;
    }
}

int64_t sup_next_deadline(const struct sup *s)
{
    int64_t d = NEVER;
    for (size_t i = 0; i < s->n; i++)
        d = imin(d, ctr_deadline(s, i));
    for (size_t v = 0; v < s->spec->n_volumes; v++)
        if (sup_cfg_fireable(&s->cfg[v]))
            d = imin(d, s->cfg[v].quiet_at_mono_ms);
    return d;
}
