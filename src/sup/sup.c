/* SPDX-License-Identifier: MIT */
/* sup.c - the supervisor's API: sup_new/sup_step/sup_status, the routing of one event to the
 * container table, the pod level, the timers or the adoption, the status recomputed after every
 * step, and the names of its enums (see pod/sup.h).
 *
 * Pure: no I/O, no clock, no sleeping, no forking, no OS headers (lint greps for them).  The
 * driver feeds events with `now` (monotonic ms) and executes the returned actions.  Every timer
 * is a deadline field (sup_due.c), randomness comes from a seeded splitmix64 inside struct sup,
 * so a run is a function of (spec, seed, events).  The semantics are SPEC.md section 8.
 * The files of the supervisor (one internal header, src/sup/sup_internal.h):
 *   sup.c        API, event routing, status, names
 *   sup_table.c  the container transition table (phase x event) and its handlers
 *   sup_ctr.c    what the handlers do: start/stop/kill, restart policy, backoff, give-up, signals
 *   sup_probe.c  probe attempts and their results
 *   sup_cancel.c a cancelled attempt or signal command until its end is confirmed
 *   sup_pod.c    the pod level: startup order, stop tiers, pod start/stop/kill, rerun, signal
 *   sup_config.c config-change bursts
 *   sup_due.c    deadlines: what is due at `now`, the next deadline
 *   sup_adopt.c  save/restore and the adoption after a daemon restart
 *   sup_inflight.c  adopting a container whose start may still be in flight: wait, remove
 */

#include "sup_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ actions out */

struct sup_action *sup_act(struct step *x, enum sup_action_type t, size_t i)
{
    struct sup_actions *a = x->out;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    struct sup_action *r = &a->v[a->n++];
    memset(r, 0, sizeof *r);
    r->type = t;
    r->ctr = i;
    if (i < x->s->n)
        r->instance = x->s->c[i].instance;
    return r;
}

void sup_note(struct step *x, int level, size_t i, const char *fmt, ...)
{
    struct sup_action *a = sup_act(x, SUP_ACT_NOTE, i);
    a->level = level;
    size_t off = 0;
    if (i < x->s->n) {
        int k = snprintf(a->text, sizeof a->text, "%s: ", ctr_spec(x->s, i)->name);
        off = k > 0 && (size_t)k < sizeof a->text ? (size_t)k : 0;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text + off, sizeof a->text - off, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------------ events in */

/* A backend event or a failed call about container i's instance: the table decides, unless it
 * is about another instance (a late or duplicated event) or the container is being adopted. */
static void ctr_event(struct step *x, size_t i, uint64_t instance, enum ctr_event e,
                      const struct ctr_event_arg *a)
{
    struct ctr *c = &x->s->c[i];
    if (instance != c->instance || c->ph == SUP_CTR_ADOPTING) {
        sup_note(x, POD_LOG_DEBUG, i, "event about instance %llu ignored (current %llu)",
                 (unsigned long long)instance, (unsigned long long)c->instance);
        return;
    }
    sup_dispatch(x, i, e, a);
}

static void ev_backend(struct step *x, const struct backend_event *be)
{
    if (be->type == BACKEND_EV_INFRA_DOWN) {
        sup_ev_infra_down(x, be->msg);
        return;
    }
    if (be->ctr >= x->s->n)
        return;
    struct ctr_event_arg a = {
        .exit_code = be->exit_code, .has_code = be->type == BACKEND_EV_EXITED, .msg = be->msg};
    switch (be->type) {
    case BACKEND_EV_EXEC_DONE:
        sup_probe_done(x, be->ctr, be->instance, be->tag, be->result);
        return;
    case BACKEND_EV_STARTED:
        ctr_event(x, be->ctr, be->instance, CE_STARTED, &a);
        return;
    case BACKEND_EV_START_FAILED:
        ctr_event(x, be->ctr, be->instance, CE_START_FAILED, &a);
        return;
    case BACKEND_EV_EXITED:
        ctr_event(x, be->ctr, be->instance, CE_EXITED, &a);
        return;
    default:
        return; /* output is the driver's (log writers) */
    }
}

/* A backend call failed at once: the supervisor's answer (sup.h, struct sup_call_failure). */
static void ev_call_failed(struct step *x, const struct sup_call_failure *f)
{
    const char *what = sup_action_type_name(f->action);
    size_t i = f->ctr < x->s->n ? f->ctr : SIZE_MAX;
    struct ctr_event_arg a = {.msg = f->msg};
    for (size_t k = 0; i == SIZE_MAX && f->action == SUP_ACT_CANCEL && k < x->s->n; k++)
        for (int r = 0; r < PR__N; r++)
            if (f->tag && x->s->c[k].cl[r].tag == f->tag)
                i = k; /* a cancel whose container the backend did not say */
    if (i == SIZE_MAX && f->action != SUP_ACT_POD_CREATE)
        return;
    switch (f->action) {
    case SUP_ACT_CTR_START: /* as START_FAILED: a failed start, retried with backoff */
        ctr_event(x, i, f->instance, CE_START_FAILED, &a);
        return;
    case SUP_ACT_CTR_STOP:
        ctr_event(x, i, f->instance, CE_STOP_FAILED, &a);
        return;
    case SUP_ACT_CTR_KILL:
        ctr_event(x, i, f->instance, CE_KILL_FAILED, &a);
        return;
    case SUP_ACT_PROBE: /* as podman exec's own failure (125): an UNKNOWN result */
        sup_probe_done(x, i, f->instance, f->tag, BACKEND_UNKNOWN);
        return;
    case SUP_ACT_CANCEL: /* sent again later, until its end is confirmed */
        sup_cancel_failed(x, i, f->tag, f->msg);
        return;
    case SUP_ACT_CTR_REMOVE: /* the removal of a start in flight is sent again */
        sup_adopt_remove_failed(x, i, f->msg);
        return;
    case SUP_ACT_SIGNAL: /* a notification, not retried: the next change signals again */
        sup_note(x, POD_LOG_WARN, i, "signal %d failed: %s", f->sig, f->msg);
        return;
    default:
        sup_note(x, POD_LOG_ERROR, i, "%s failed: %s", what, f->msg);
        return;
    }
}

/* ------------------------------------------------------------------ status */

static bool ctr_ok_for_ready(const struct sup *s, size_t i)
{
    const struct ctr *c = &s->c[i];
    switch (c->ph) {
    case SUP_CTR_ADOPTING: /* restored from a daemon that counted it (sup_restore) */
    case SUP_CTR_CREATING:
    case SUP_CTR_STARTING:
        return c->rerun_ready;
    case SUP_CTR_RUNNING:
        return (c->started && c->ready) || c->rerun_ready;
    case SUP_CTR_STOPPING:
        return c->rerun_ready && c->after == AS_RESTART;
    case SUP_CTR_EXITED:
        return c->completed && c->has_exit && c->exit_code == 0;
    default:
        return false;
    }
}

void sup_status_compute(const struct sup *s, struct sup_status *st)
{
    st->phase = s->phase;
    bool ready = s->phase == SUP_POD_RUNNING, healthy = true;
    for (size_t i = 0; i < s->n; i++) {
        const struct ctr *c = &s->c[i];
        struct sup_ctr_status *o = &st->ctr[i];
        o->phase = c->ph;
        o->instance = c->instance;
        o->start_count = c->start_count;
        o->restart_count = c->restart_count;
        o->running =
            c->ph == SUP_CTR_STARTING || c->ph == SUP_CTR_RUNNING || c->ph == SUP_CTR_STOPPING;
        o->started = c->started;
        o->ready = c->ready && c->ph == SUP_CTR_RUNNING;
        o->live = c->live;
        o->has_exit_code = c->has_exit;
        o->exit_code = c->exit_code;
        o->backoff_ms = c->backoff_ms;
        o->next_start_mono_ms =
            (c->ph == SUP_CTR_BACKOFF || c->ph == SUP_CTR_EXITED) && c->restart_at_mono_ms != NEVER
                ? c->restart_at_mono_ms
                : 0;
        o->consecutive_failures = c->streak;
        o->gave_up = c->ph == SUP_CTR_GAVE_UP;
        o->rerun = c->rerun_ready;
        if (!ctr_ok_for_ready(s, i))
            ready = false;
        if (c->ph == SUP_CTR_GAVE_UP || c->ph == SUP_CTR_FAILED || !c->live)
            healthy = false;
    }
    st->ready = ready;
    st->infra_restarts = s->infra_restarts;
    st->healthy = healthy && (s->phase == SUP_POD_STARTING || s->phase == SUP_POD_RUNNING);
}

static bool status_equal(const struct sup_status *a, const struct sup_status *b, size_t n)
{
    if (a->phase != b->phase || a->ready != b->ready || a->healthy != b->healthy ||
        a->infra_restarts != b->infra_restarts)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct sup_ctr_status *x = &a->ctr[i], *y = &b->ctr[i];
        if (x->phase != y->phase || x->instance != y->instance ||
            x->start_count != y->start_count || x->restart_count != y->restart_count ||
            x->running != y->running || x->started != y->started || x->ready != y->ready ||
            x->live != y->live || x->has_exit_code != y->has_exit_code ||
            x->exit_code != y->exit_code || x->backoff_ms != y->backoff_ms ||
            x->next_start_mono_ms != y->next_start_mono_ms ||
            x->consecutive_failures != y->consecutive_failures || x->gave_up != y->gave_up ||
            x->rerun != y->rerun)
            return false;
    }
    return true;
}

/* ------------------------------------------------------------------ API */

void sup_actions_clear(struct sup_actions *a)
{
    a->n = 0;
}

void sup_actions_free(struct sup_actions *a)
{
    free(a->v);
    a->v = NULL;
    a->n = a->cap = 0;
}

void sup_ctr_init(struct ctr *c)
{
    memset(c, 0, sizeof *c);
    c->ph = SUP_CTR_WAITING;
    c->live = true;
    c->stable_since_mono_ms = -1;
    c->create_deadline_mono_ms = c->startup_deadline_mono_ms = c->restart_at_mono_ms = NEVER;
    c->saved_restart_at_mono_ms = c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER;
    c->kill_at_mono_ms = c->gone_at_mono_ms = c->retry_at_mono_ms = NEVER;
    c->last_start_mono_ms = NEVER;
    sup_adopt_flight_clear(c);
    for (int r = 0; r < PR__N; r++)
        sup_probe_reset(&c->pr[r]);
}

struct sup *sup_new(const struct pod_spec *spec, uint64_t seed)
{
    struct sup *s = xcalloc(1, sizeof *s);
    s->spec = spec;
    s->rng = seed;
    s->phase = SUP_POD_CREATED;
    s->next_tag = 1;
    s->n = spec->n_containers;
    size_t n1 = s->n ? s->n : 1;
    s->c = xcalloc(n1, sizeof *s->c);
    s->order = xcalloc(n1, sizeof *s->order);
    s->cfg = xcalloc(spec->n_volumes ? spec->n_volumes : 1, sizeof *s->cfg);
    for (size_t v = 0; v < spec->n_volumes; v++)
        s->cfg[v].quiet_at_mono_ms = NEVER;
    size_t p = 0;
    for (size_t i = 0; i < s->n; i++)
        if (spec->containers[i].kind != SPEC_CTR_MAIN)
            s->order[p++] = i;
    for (size_t i = 0; i < s->n; i++)
        if (spec->containers[i].kind == SPEC_CTR_MAIN)
            s->order[p++] = i;
    for (size_t i = 0; i < s->n; i++)
        sup_ctr_init(&s->c[i]);
    s->st.n = s->n;
    s->st.ctr = xcalloc(n1, sizeof *s->st.ctr);
    s->scratch = xcalloc(n1, sizeof *s->scratch);
    sup_status_compute(s, &s->st);
    return s;
}

void sup_free(struct sup *s)
{
    if (!s)
        return;
    free(s->c);
    free(s->order);
    free(s->cfg);
    free(s->st.ctr);
    free(s->scratch);
    free(s);
}

static void route_event(struct step *x, const struct sup_event *ev)
{
    struct sup *s = x->s;
    switch (ev->type) {
    case SUP_EV_TICK:
        break;
    case SUP_EV_START_POD:
        sup_ev_pod_start(x);
        break;
    case SUP_EV_STOP_POD:
        sup_ev_pod_stop(x, false);
        break;
    case SUP_EV_KILL_POD:
        sup_ev_pod_stop(x, true);
        break;
    case SUP_EV_BACKEND:
        ev_backend(x, &ev->backend);
        break;
    case SUP_EV_CONFIG_CHANGED:
        sup_ev_config_changed(x, ev);
        break;
    case SUP_EV_RELOAD_CONFIGS:
        if (ev->volume < s->spec->n_volumes && pod_active(s))
            sup_cfg_fire(x, ev->volume, "reload requested");
        break;
    case SUP_EV_SIGNAL:
        sup_ev_signal(x, ev->ctr);
        break;
    case SUP_EV_RERUN:
        sup_ev_rerun(x, ev->ctr);
        break;
    case SUP_EV_ADOPT:
        if (ev->ctr < s->n)
            sup_ev_adopt(x, ev);
        break;
    case SUP_EV_CALL_FAILED:
        ev_call_failed(x, &ev->call);
        break;
    }
}

void sup_step(struct sup *s, const struct sup_event *ev, int64_t now_mono_ms,
              struct sup_actions *out)
{
    struct step x = {.s = s, .now_mono_ms = now_mono_ms, .out = out};
    /* Deadlines that passed are handled before the event: a late result is never credited. */
    sup_process_due(&x);
    route_event(&x, ev);
    sup_process_due(&x);
    struct sup_status nst = {.n = s->n, .ctr = s->scratch};
    sup_status_compute(s, &nst);
    if (status_equal(&nst, &s->st, s->n))
        return;
    s->st.phase = nst.phase;
    s->st.ready = nst.ready;
    s->st.healthy = nst.healthy;
    s->st.infra_restarts = nst.infra_restarts;
    memcpy(s->st.ctr, s->scratch, s->n * sizeof *s->scratch);
    sup_act(&x, SUP_ACT_STATUS, SIZE_MAX);
}

const struct sup_status *sup_status(const struct sup *s)
{
    return &s->st;
}

bool sup_request_in_flight(const struct sup *s, uint64_t tag, size_t *ctr,
                           enum sup_probe_role *role)
{
    int r;
    if (!sup_find_tag(s, tag, ctr, &r))
        return false;
    *role = (enum sup_probe_role)r;
    return true;
}

struct sup_event sup_call_failed_event(const struct sup_action *a, const char *msg)
{
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_CALL_FAILED;
    ev.call.action = a->type;
    ev.call.ctr = a->ctr;
    ev.call.instance = a->type == SUP_ACT_PROBE ? a->probe.instance : a->instance;
    ev.call.tag = a->type == SUP_ACT_PROBE ? a->probe.tag : a->tag;
    ev.call.sig = a->sig;
    snprintf(ev.call.msg, sizeof ev.call.msg, "%s", msg ? msg : "");
    return ev;
}

/* ------------------------------------------------------------------ names */

const char *sup_ctr_phase_name(enum sup_ctr_phase p)
{
    static const char *const names[SUP_CTR__N] = {"waiting",  "creating", "starting", "running",
                                                  "stopping", "backoff",  "exited",   "failed",
                                                  "gave-up",  "adopting"};
    return (unsigned)p < SUP_CTR__N ? names[p] : "?";
}

const char *sup_pod_phase_name(enum sup_pod_phase p)
{
    static const char *const names[] = {"created", "starting", "running", "stopping", "exited"};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "?";
}

const char *sup_action_type_name(enum sup_action_type t)
{
    static const char *const names[] = {"?",        "pod-create", "ctr-start", "ctr-stop",
                                        "ctr-kill", "ctr-remove", "probe",     "cancel",
                                        "signal",   "status",     "note",      "pod-stopped"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

const char *sup_probe_role_name(enum sup_probe_role r)
{
    static const char *const names[] = {"startup", "readiness", "liveness", "signal-cmd"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *sup_event_type_name(enum sup_event_type t)
{
    static const char *const names[] = {"?",        "tick",    "start-pod",      "stop-pod",
                                        "kill-pod", "backend", "config-changed", "reload-configs",
                                        "signal",   "rerun",   "adopt",          "call-failed"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int sup_signal_number(const char *name)
{
    static const struct {
        const char *name;
        int num;
    } sigs[] = {{"HUP", 1},   {"INT", 2},     {"QUIT", 3},  {"ILL", 4},    {"TRAP", 5},
                {"ABRT", 6},  {"IOT", 6},     {"BUS", 7},   {"FPE", 8},    {"KILL", 9},
                {"USR1", 10}, {"SEGV", 11},   {"USR2", 12}, {"PIPE", 13},  {"ALRM", 14},
                {"TERM", 15}, {"STKFLT", 16}, {"CHLD", 17}, {"CONT", 18},  {"STOP", 19},
                {"TSTP", 20}, {"TTIN", 21},   {"TTOU", 22}, {"URG", 23},   {"XCPU", 24},
                {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28}, {"IO", 29},
                {"POLL", 29}, {"PWR", 30},    {"SYS", 31}};
    if (!name || !*name)
        return -1;
    long long v;
    if (pod_parse_int(name, 1, 64, &v))
        return (int)v;
    if (strncmp(name, "SIG", 3) == 0)
        name += 3;
    for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
        if (strcmp(sigs[k].name, name) == 0)
            return sigs[k].num;
    return -1;
}
