/* SPDX-License-Identifier: MIT */
/* sup_probe.c - probe attempts (startup, readiness, liveness) and signal commands: one attempt
 * in flight per probe, each with a unique tag and a deadline; the results, thresholds and the
 * UNKNOWN rule (SPEC.md 8.6).  A result is credited only to the attempt in flight with its tag
 * and instance: this is the one filter of late, cancelled or duplicated results. */

#include "sup_internal.h"

#include <string.h>

void sup_probe_reset(struct probe_rt *p)
{
    memset(p, 0, sizeof *p);
    p->next_at_mono_ms = NEVER;
}

void sup_probe_cancel(struct step *x, size_t i, int role)
{
    struct probe_rt *p = &x->s->c[i].pr[role];
    if (p->tag)
        sup_cancel_begin(x, i, role, p->tag);
    sup_probe_reset(p);
}

void sup_probes_cancel_all(struct step *x, size_t i)
{
    for (int r = 0; r < PR__N; r++)
        sup_probe_cancel(x, i, r);
}

static const char *probe_host(const struct spec_container *c, int host_port)
{
    for (size_t k = 0; k < c->n_expose; k++)
        if (c->expose[k].host_port == host_port && c->expose[k].host_interface)
            return c->expose[k].host_interface;
    return "127.0.0.1";
}

/* Emits one attempt of probe `role` (startup/readiness/liveness). */
void sup_probe_start(struct step *x, size_t i, int role)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    const struct spec_probe *sp = probe_of(k, role);
    struct probe_rt *p = &c->pr[role];
    p->tag = s->next_tag++;
    p->attempt_start_mono_ms = x->now_mono_ms;
    p->attempt_deadline_mono_ms = x->now_mono_ms + attempt_timeout_ms(sp);
    if (role == PR_STARTUP)
        p->attempt_deadline_mono_ms =
            imin(p->attempt_deadline_mono_ms, c->startup_deadline_mono_ms);
    p->next_at_mono_ms = NEVER;
    struct sup_action *a = sup_act(x, SUP_ACT_PROBE, i);
    a->role = (enum sup_probe_role)role;
    a->tag = p->tag;
    a->probe.ctr = i;
    a->probe.instance = c->instance;
    a->probe.tag = p->tag;
    a->probe.deadline_mono_ms = p->attempt_deadline_mono_ms;
    switch (sp->kind) {
    case SPEC_PROBE_TCP:
    case SPEC_PROBE_HTTP: {
        int port = sp->host_port;
        a->probe.kind = sp->kind == SPEC_PROBE_TCP ? BACKEND_PROBE_TCP : BACKEND_PROBE_HTTP;
        a->probe.host = probe_host(k, port);
        a->probe.port = port;
        if (sp->kind == SPEC_PROBE_HTTP)
            a->probe.http_path = sp->http_path;
        break;
    }
    default:
        a->probe.kind = BACKEND_PROBE_EXEC;
        a->probe.argv = sp->cmd;
        break;
    }
}

void sup_signal_cmd_start(struct step *x, size_t i)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    struct probe_rt *p = &c->pr[PR_SIGCMD];
    p->tag = s->next_tag++;
    p->attempt_start_mono_ms = x->now_mono_ms;
    p->attempt_deadline_mono_ms = x->now_mono_ms + SIGNAL_CMD_TIMEOUT_MS;
    p->next_at_mono_ms = NEVER;
    struct sup_action *a = sup_act(x, SUP_ACT_PROBE, i);
    a->role = SUP_PROBE_SIGNAL_CMD;
    a->tag = p->tag;
    a->probe.kind = BACKEND_PROBE_EXEC;
    a->probe.ctr = i;
    a->probe.instance = c->instance;
    a->probe.tag = p->tag;
    a->probe.deadline_mono_ms = p->attempt_deadline_mono_ms;
    a->probe.argv = ctr_spec(s, i)->signal_cmd;
}

/* Schedules readiness and liveness after a successful startup (or adoption). */
void sup_probes_schedule_running(struct step *x, size_t i, bool with_initial_delay)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    for (int r = PR_READY; r <= PR_LIVE; r++) {
        const struct spec_probe *sp = probe_of(k, r);
        sup_probe_reset(&c->pr[r]);
        if (!probe_active(sp))
            continue;
        int64_t first = with_initial_delay
                            ? c->running_since_mono_ms + (int64_t)sp->initial_delay_s * 1000
                            : x->now_mono_ms;
        c->pr[r].next_at_mono_ms = imax(x->now_mono_ms, first);
    }
}

bool sup_find_tag(const struct sup *s, uint64_t tag, size_t *ci, int *role)
{
    if (!tag)
        return false;
    for (size_t i = 0; i < s->n; i++)
        for (int r = 0; r < PR__N; r++)
            if (s->c[i].pr[r].tag == tag) {
                *ci = i;
                *role = r;
                return true;
            }
    return false;
}

/* The result of request `tag` for container i's instance: credited only to the attempt in
 * flight with that tag (the one filter of late, cancelled and duplicated results). */
void sup_probe_done(struct step *x, size_t i, uint64_t instance, uint64_t tag,
                    enum backend_result res)
{
    size_t ci;
    int role;
    if (!sup_find_tag(x->s, tag, &ci, &role) || ci != i || instance != x->s->c[i].instance) {
        if (!sup_cancel_confirmed(x, i, tag))
            sup_note(x, POD_LOG_DEBUG, i, "stale or cancelled probe result (tag %llu) ignored",
                     (unsigned long long)tag);
        return;
    }
    sup_probe_result(x, i, role, res);
}

/* One attempt finished (ok false = failure, including timeouts). */
/* A counted result of probe `role`: its thresholds decide (startup ok / failed, ready or not,
 * liveness failed). */
static void probe_counted(struct step *x, size_t i, int role, bool ok)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    struct probe_rt *p = &c->pr[role];
    p->succ = ok ? p->succ + 1 : 0;
    p->fail = ok ? 0 : p->fail + 1;
    switch (role) {
    case PR_STARTUP:
        if (ok && p->succ >= k->startup.success_threshold)
            sup_dispatch(x, i, CE_STARTUP_OK, NULL);
        else if (!ok && k->startup.failure_threshold > 0 && p->fail >= k->startup.failure_threshold)
            sup_dispatch(x, i, CE_STARTUP_FAIL, NULL);
        break;
    case PR_READY:
        if (ok && !c->ready && p->succ >= k->readiness.success_threshold) {
            c->ready = true;
            sup_note(x, POD_LOG_INFO, i, "ready");
        } else if (!ok && c->ready && p->fail >= k->readiness.failure_threshold) {
            c->ready = false;
            sup_note(x, POD_LOG_WARN, i, "not ready (%d failed probes)", p->fail);
        }
        sup_update_stable(x, i);
        break;
    case PR_LIVE:
        if (!ok && p->fail >= k->liveness.failure_threshold) {
            c->live = false;
            sup_dispatch(x, i, CE_LIVENESS_FAIL, NULL);
        }
        break;
    default:
        break;
    }
}

void sup_probe_result(struct step *x, size_t i, int role, enum backend_result res)
{
    struct probe_rt *p = &x->s->c[i].pr[role];
    const char *name = sup_probe_role_name((enum sup_probe_role)role);
    p->tag = 0;
    if (role == PR_SIGCMD) {
        p->next_at_mono_ms = NEVER;
        if (res != BACKEND_OK)
            sup_note(x, POD_LOG_WARN, i, "signal command failed (%s)",
                     res == BACKEND_TIMEOUT   ? "timeout"
                     : res == BACKEND_UNKNOWN ? "unknown"
                                              : "fail");
        return;
    }
    const struct spec_probe *sp = probe_of(ctr_spec(x->s, i), role);
    p->next_at_mono_ms = imax(p->attempt_start_mono_ms + period_ms(sp), x->now_mono_ms);
    if (res == BACKEND_CANCELLED) /* nobody asked for it: as a failure of the backend itself */
        res = BACKEND_UNKNOWN;
    if (res == BACKEND_UNKNOWN) {
        if (++p->unknown < UNKNOWN_LIMIT) {
            sup_note(x, POD_LOG_DEBUG, i, "%s probe result unknown (%d of %d); not counted", name,
                     p->unknown, UNKNOWN_LIMIT);
            return;
        }
        sup_note(x, POD_LOG_WARN, i, "%s probe result unknown %d times; counted as failure", name,
                 UNKNOWN_LIMIT);
        res = BACKEND_FAIL;
    }
    p->unknown = 0;
    probe_counted(x, i, role, res == BACKEND_OK);
}
