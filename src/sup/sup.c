/* SPDX-License-Identifier: MIT */
/* sup.c - the supervisor: a pure, table-driven state machine per container and per pod.
 *
 * Pure: no I/O, no clock, no sleeping, no forking, no OS headers (lint greps for them).  The
 * driver feeds events with `now` (monotonic ms) and executes the returned actions.  Every timer
 * is a deadline field here, exposed through sup_next_deadline(); randomness comes from a seeded
 * splitmix64 inside struct sup, so a run is a function of (spec, seed, events).
 * Per container, one transition table phase x event (s6-supervise style) dispatches to small
 * handlers; the pod level (start order, stop tiers, config bursts) sits on top of it.
 * The semantics and every default are documented in SPEC.md section 8.
 */
#include "pod/sup.h"
#include "pod/util.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ constants (SPEC.md 8) */

#define MIN_RESTART_MS 1000         /* s6's nextstart: never restart faster than this */
#define STOP_SLACK_MS 2000          /* after stop_timeout: sup sends SIGKILL itself */
#define KILL_GRACE_MS 5000          /* after SIGKILL: no EXITED -> considered gone */
#define CREATE_TIMEOUT_MS 300000    /* CTR_START without STARTED/START_FAILED */
#define SIGNAL_CMD_TIMEOUT_MS 60000 /* signal command (exec) deadline */
#define UNKNOWN_LIMIT 3             /* consecutive UNKNOWN probe results = one failure */
#define GIVEUP_RING 64              /* failure times remembered for the give-up budget */
#define SIG_KILL 9
#define NEVER INT64_MAX

/* ------------------------------------------------------------------ state */

enum ctr_event {
    CE_GO = 0,          /* start now (order / restart due / rerun / reload) */
    CE_STARTED,         /* backend STARTED */
    CE_START_FAILED,    /* backend START_FAILED */
    CE_EXITED,          /* backend EXITED (code in arg) */
    CE_CREATE_TIMEOUT,  /* no answer to CTR_START */
    CE_STARTUP_OK,      /* startup probe succeeded */
    CE_STARTUP_TIMEOUT, /* overall startup deadline passed */
    CE_STARTUP_FAIL,    /* startup probe failureThreshold reached (when set) */
    CE_LIVENESS_FAIL,   /* liveness failure threshold reached */
    CE_RESTART_DUE,     /* backoff / interval timer */
    CE_STOP,            /* pod stop */
    CE_KILL,            /* pod kill */
    CE_KILL_DUE,        /* stop deadline passed: send SIGKILL */
    CE_GONE_DUE,        /* no exit after SIGKILL: consider gone */
    CE_RELOAD_CONFIG,   /* config burst complete / reload-configs */
    CE_RELOAD_SIGNAL,   /* pod signal / startup signal fan-out */
    CE_RERUN,           /* pod rerun */
    CE__N
};

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
                                                   "rerun"};

/* What to do when a stopping container has exited. */
enum after_stop { AS_NONE = 0, AS_RESTART, AS_FAILED_START, AS_LIVENESS };

enum {
    PR_STARTUP = SUP_PROBE_STARTUP,
    PR_READY = SUP_PROBE_READINESS,
    PR_LIVE = SUP_PROBE_LIVENESS,
    PR_SIGCMD = SUP_PROBE_SIGNAL_CMD,
    PR__N
};

struct probe_rt {
    uint64_t tag; /* attempt in flight, 0 = none */
    int64_t attempt_start_mono_ms;
    int64_t attempt_deadline_mono_ms;
    int64_t next_at_mono_ms; /* next attempt, NEVER = not scheduled */
    int succ, fail, unknown;
};

struct ctr {
    enum sup_ctr_phase ph;
    uint64_t instance;
    unsigned start_count, restart_count;
    bool started, ready, live;
    bool completed; /* down after a successful start and a clean exit (0): ready for the pod */
    /* This instance is a scheduled re-run of a completed container (interval timer, config
     * change, signal): it keeps counting as ready for the pod while it is created, starts and
     * runs, and across a planned restart of it, until it fails or exits (SPEC.md 8.6).
     * Persisted (sup_save), so a restarted daemon keeps counting it while adopting it and once
     * it is adopted running. */
    bool rerun_ready;
    bool seq_done; /* passed its place in the startup order */
    /* Restored (sup_restore) for an instance after the first whose startup had not completed
     * when the state was saved (it was creating or starting): adopted running it is still
     * starting up, and an adopted exit is judged like an exit before the startup completed, as
     * the daemon that saved it would have (SPEC.md 8.9).  For the first run, !seq_done says the
     * same.  Cleared by the adoption. */
    bool startup_pending;
    /* Restored: the pending restart (backoff) of the saved instance, whose exit or failed start
     * the daemon that saved the state had already judged (NEVER = none).  Cleared by the
     * adoption. */
    int64_t saved_restart_at_mono_ms;
    /* Restored for a startup pending in the saved state (NEVER = not saved): when the instance
     * was STARTED (mono ms, exact), or when its start was issued (it was creating: it cannot
     * have started before).  They outweigh inspect's wall times, which a clock step moves
     * (SPEC.md 8.9).  Cleared by the adoption. */
    int64_t saved_started_mono_ms, saved_created_mono_ms;
    bool has_exit;
    int exit_code;
    int pending_reload; /* 0, CE_RELOAD_SIGNAL or CE_RELOAD_CONFIG: applied once started */
    enum after_stop after;
    int64_t running_since_mono_ms;
    int64_t create_deadline_mono_ms;
    int64_t startup_deadline_mono_ms;
    int64_t restart_at_mono_ms;
    int64_t kill_at_mono_ms, gone_at_mono_ms;
    int64_t stable_since_mono_ms; /* started (and ready) since, -1 = not */
    /* backoff */
    unsigned streak; /* unplanned exits / failed starts since the last reset */
    int64_t backoff_ms;
    int64_t fail_mono_ms[GIVEUP_RING];
    size_t n_fail;
    bool gave_up;
    struct probe_rt pr[PR__N];
};

struct cfg_burst {
    bool open;
    bool checksum_mode; /* the volume has config/<name>.txt: wait for it */
    bool checksum_seen;
    int64_t quiet_at_mono_ms;
};

struct sup {
    const struct pod_spec *spec;
    uint64_t rng;
    enum sup_pod_phase phase;
    bool killing;
    uint64_t next_tag;
    size_t n;
    struct ctr *c;
    size_t *order; /* startup order: init+sidecar containers in spec order, then mains */
    struct cfg_burst *cfg;
    struct sup_status st;
    struct sup_ctr_status *scratch; /* status recomputed after each step, compared to st */
};

/* Per-step context. */
struct step {
    struct sup *s;
    int64_t now_mono_ms;
    struct sup_actions *out;
};

struct ctr_event_arg {
    int exit_code;
    bool has_code;
    const char *msg;
    bool has_exit_time; /* an adopted exit: it happened at exit_mono_ms (mono), not now */
    int64_t exit_mono_ms;
};

/* ------------------------------------------------------------------ small helpers */

static uint64_t rng_next(struct sup *s)
{
    uint64_t z = (s->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t imin(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static int64_t imax(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static const struct spec_container *ctr_spec(const struct sup *s, size_t i)
{
    return &s->spec->containers[i];
}

static struct sup_action *act(struct step *x, enum sup_action_type t, size_t i)
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

static void note(struct step *x, int level, size_t i, const char *fmt, ...) POD_PRINTF(4, 5);
static void note(struct step *x, int level, size_t i, const char *fmt, ...)
{
    struct sup_action *a = act(x, SUP_ACT_NOTE, i);
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

/* ---- the spec, read as the validator resolved it */

static bool is_init(const struct spec_container *c)
{
    return c->kind == SPEC_CTR_INIT;
}

/* Init containers always run to completion: their startup is an exit probe. */
static enum spec_probe_kind startup_kind(const struct spec_container *c)
{
    if (is_init(c))
        return SPEC_PROBE_EXIT;
    return c->startup.kind;
}

static bool probe_active(const struct spec_probe *p)
{
    return p->kind == SPEC_PROBE_EXEC || p->kind == SPEC_PROBE_TCP || p->kind == SPEC_PROBE_HTTP;
}

static const struct spec_probe *probe_of(const struct spec_container *c, int role)
{
    switch (role) {
    case PR_STARTUP:
        return &c->startup;
    case PR_READY:
        return &c->readiness;
    case PR_LIVE:
        return &c->liveness;
    default:
        return NULL;
    }
}

/* The knobs in ms.  The validator resolved every default (spec.h); nothing is re-derived here. */
static int64_t period_ms(const struct spec_probe *p)
{
    return (int64_t)p->period_s * 1000;
}

static int64_t attempt_timeout_ms(const struct spec_probe *p)
{
    return (int64_t)p->attempt_timeout_s * 1000;
}

static int64_t startup_timeout_ms(const struct spec_probe *p)
{
    return (int64_t)p->timeout_s * 1000;
}

static int64_t stop_timeout_ms(const struct spec_container *c)
{
    return (int64_t)c->stop_timeout_s * 1000;
}

static int64_t backoff_reset_ms(const struct spec_container *c)
{
    return (int64_t)c->backoff.reset_s * 1000;
}

static int64_t giveup_window_ms(const struct spec_container *c)
{
    return (int64_t)c->backoff.give_up_window_s * 1000;
}

static bool config_policy(const struct spec_container *c)
{
    return c->restart == SPEC_RESTART_ON_CONFIG || c->restart == SPEC_RESTART_ON_INTERVAL;
}

/* The process may be running (a new instance must not be started). */
static bool ph_up(enum sup_ctr_phase p)
{
    return p == SUP_CTR_CREATING || p == SUP_CTR_STARTING || p == SUP_CTR_RUNNING ||
           p == SUP_CTR_STOPPING || p == SUP_CTR_ADOPTING;
}

static bool pod_active(const struct sup *s)
{
    return s->phase == SUP_POD_STARTING || s->phase == SUP_POD_RUNNING;
}

/* ------------------------------------------------------------------ probes */

static void probe_reset(struct probe_rt *p)
{
    memset(p, 0, sizeof *p);
    p->next_at_mono_ms = NEVER;
}

static void probe_cancel(struct step *x, size_t i, int role)
{
    struct probe_rt *p = &x->s->c[i].pr[role];
    if (p->tag) {
        struct sup_action *a = act(x, SUP_ACT_CANCEL, i);
        a->tag = p->tag;
        a->role = (enum sup_probe_role)role;
    }
    probe_reset(p);
}

static void probes_cancel_all(struct step *x, size_t i)
{
    for (int r = 0; r < PR__N; r++)
        probe_cancel(x, i, r);
}

static const char *probe_host(const struct spec_container *c, int host_port)
{
    for (size_t k = 0; k < c->n_expose; k++)
        if (c->expose[k].host_port == host_port && c->expose[k].host_interface)
            return c->expose[k].host_interface;
    return "127.0.0.1";
}

/* Emits one attempt of probe `role` (startup/readiness/liveness). */
static void probe_start(struct step *x, size_t i, int role)
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
    struct sup_action *a = act(x, SUP_ACT_PROBE, i);
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

static void signal_cmd_start(struct step *x, size_t i)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    struct probe_rt *p = &c->pr[PR_SIGCMD];
    p->tag = s->next_tag++;
    p->attempt_start_mono_ms = x->now_mono_ms;
    p->attempt_deadline_mono_ms = x->now_mono_ms + SIGNAL_CMD_TIMEOUT_MS;
    p->next_at_mono_ms = NEVER;
    struct sup_action *a = act(x, SUP_ACT_PROBE, i);
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
static void probes_schedule_running(struct step *x, size_t i, bool with_initial_delay)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    for (int r = PR_READY; r <= PR_LIVE; r++) {
        const struct spec_probe *sp = probe_of(k, r);
        probe_reset(&c->pr[r]);
        if (!probe_active(sp))
            continue;
        int64_t first = with_initial_delay
                            ? c->running_since_mono_ms + (int64_t)sp->initial_delay_s * 1000
                            : x->now_mono_ms;
        c->pr[r].next_at_mono_ms = imax(x->now_mono_ms, first);
    }
}

/* ------------------------------------------------------------------ backoff and give-up */

static int64_t backoff_delay(struct sup *s, size_t i)
{
    const struct spec_container *k = ctr_spec(s, i);
    int64_t initial = k->backoff.initial_ms, cap = k->backoff.max_ms;
    int64_t ceiling = initial;
    for (unsigned n = 1; n < s->c[i].streak && ceiling < cap; n++)
        ceiling *= 2;
    ceiling = imin(ceiling, cap);
    int64_t r = (int64_t)(rng_next(s) % (uint64_t)(ceiling + 1));
    return imax(MIN_RESTART_MS, r);
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

/* ------------------------------------------------------------------ container transitions */

static void dispatch(struct step *x, size_t i, enum ctr_event e, const struct ctr_event_arg *a);
static void advance_sequence(struct step *x);
static void pod_stop_advance(struct step *x);

static void leave_up(struct ctr *c)
{
    c->started = false;
    c->completed = false;
    c->ready = false;
    c->stable_since_mono_ms = -1;
    c->create_deadline_mono_ms = NEVER;
    c->startup_deadline_mono_ms = NEVER;
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = NEVER;
}

/* CTR_START of a new instance.  Only called from a down phase. */
static void do_start(struct step *x, size_t i)
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
    leave_up(c);
    c->ph = SUP_CTR_CREATING;
    c->after = AS_NONE;
    c->has_exit = false;
    c->live = true;
    c->restart_at_mono_ms = NEVER;
    c->create_deadline_mono_ms = x->now_mono_ms + CREATE_TIMEOUT_MS;
    for (int r = 0; r < PR__N; r++)
        probe_reset(&c->pr[r]);
    act(x, SUP_ACT_CTR_START, i);
    note(x, POD_LOG_INFO, i, "start instance %llu", (unsigned long long)c->instance);
}

/* Graceful stop; `after` says what happens on exit. */
static void do_stop(struct step *x, size_t i, enum after_stop after)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    probes_cancel_all(x, i);
    leave_up(c);
    if (after != AS_RESTART)
        c->rerun_ready = false;
    c->ph = SUP_CTR_STOPPING;
    c->after = after;
    c->kill_at_mono_ms = x->now_mono_ms + stop_timeout_ms(k) + STOP_SLACK_MS;
    struct sup_action *a = act(x, SUP_ACT_CTR_STOP, i);
    a->timeout_ms = stop_timeout_ms(k);
}

static void do_kill(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    probes_cancel_all(x, i);
    leave_up(c);
    c->rerun_ready = false;
    c->ph = SUP_CTR_STOPPING;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    struct sup_action *a = act(x, SUP_ACT_CTR_KILL, i);
    a->sig = SIG_KILL;
}

/* Restart after an unplanned exit or a failed start: backoff, give-up. */
static void schedule_restart(struct step *x, size_t i, bool failure, const char *why)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    c->rerun_ready = false;
    c->streak++;
    if (failure && record_failure(x, i)) {
        c->ph = SUP_CTR_GAVE_UP;
        c->gave_up = true;
        c->restart_at_mono_ms = NEVER;
        note(x, POD_LOG_ERROR, i, "%s; gave up after %d failures within %d s", why,
             ctr_spec(s, i)->backoff.give_up_count, (int)(giveup_window_ms(ctr_spec(s, i)) / 1000));
        return;
    }
    int64_t d = backoff_delay(s, i);
    c->backoff_ms = d;
    c->ph = SUP_CTR_BACKOFF;
    c->restart_at_mono_ms = x->now_mono_ms + d;
    note(x, POD_LOG_INFO, i, "%s; restart in %lld ms (backoff #%u)", why, (long long)d, c->streak);
}

static void failed_start(struct step *x, size_t i, const char *why)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    leave_up(c);
    c->rerun_ready = false;
    if (ctr_spec(s, i)->restart == SPEC_RESTART_NEVER) {
        c->ph = SUP_CTR_FAILED;
        c->streak++;
        (void)record_failure(x, i);
        note(x, POD_LOG_ERROR, i, "%s; restart policy never: not retried (use rerun)", why);
        if (!c->seq_done && s->phase == SUP_POD_STARTING)
            note(x, POD_LOG_ERROR, SIZE_MAX, "pod startup blocked at container %s",
                 ctr_spec(s, i)->name);
        return;
    }
    schedule_restart(x, i, true, why);
}

/* A started container exited on its own at exit_mono_ms (now, or earlier for an instance adopted
 * exited): apply the restart policy (original 3.4).  The on-interval timer counts from the exit;
 * backoff delays count from now. */
static bool policy_restarts(const struct spec_container *k, int code)
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

static void policy_exit(struct step *x, size_t i, int code, int64_t exit_mono_ms)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    bool restart = policy_restarts(k, code);
    char why[64];
    snprintf(why, sizeof why, "exited with code %d", code);
    if (restart) {
        schedule_restart(x, i, code != 0, why);
        return;
    }
    c->ph = SUP_CTR_EXITED;
    if (k->restart == SPEC_RESTART_ON_INTERVAL && code == 0) {
        int64_t d = imax((int64_t)k->restart_interval_s * 1000, MIN_RESTART_MS);
        c->restart_at_mono_ms = imin(exit_mono_ms, x->now_mono_ms) + d;
        note(x, POD_LOG_INFO, i, "%s; restart on interval in %lld ms", why,
             (long long)imax(0, c->restart_at_mono_ms - x->now_mono_ms));
        return;
    }
    c->restart_at_mono_ms = NEVER;
    note(x, POD_LOG_INFO, i, "%s; not restarted (policy %s)", why, spec_restart_name(k->restart));
}

static void set_exit(struct ctr *c, const struct ctr_event_arg *a)
{
    c->has_exit = a && a->has_code;
    c->exit_code = c->has_exit ? a->exit_code : 0;
}

static void update_stable(struct step *x, size_t i)
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
static bool deliver_signal(struct step *x, size_t i, const char *why)
{
    const struct spec_container *k = ctr_spec(x->s, i);
    struct ctr *c = &x->s->c[i];
    if (k->signal_sig) {
        int sig = sup_signal_number(k->signal_sig);
        if (sig <= 0) {
            note(x, POD_LOG_ERROR, i, "unknown signal %s", k->signal_sig);
            return true;
        }
        struct sup_action *a = act(x, SUP_ACT_SIGNAL, i);
        a->sig = sig;
        note(x, POD_LOG_INFO, i, "signal %s (%s)", k->signal_sig, why);
        return true;
    }
    if (k->signal_cmd) {
        if (c->pr[PR_SIGCMD].tag) {
            note(x, POD_LOG_INFO, i, "signal command still running; coalesced (%s)", why);
            return true;
        }
        signal_cmd_start(x, i);
        note(x, POD_LOG_INFO, i, "signal command (%s)", why);
        return true;
    }
    return false;
}

/* Startup signal fan-out (PODSPEC startupProbe.signal). */
static void fan_out(struct step *x, size_t i)
{
    const struct spec_container *k = ctr_spec(x->s, i);
    if (!k->startup.signal_targets)
        return;
    for (char **t = k->startup.signal_targets; *t; t++) {
        int j = spec_find_container(x->s->spec, *t);
        if (j < 0) {
            note(x, POD_LOG_WARN, i, "startup signal target %s does not exist", *t);
            continue;
        }
        if ((size_t)j == i)
            continue;
        dispatch(x, (size_t)j, CE_RELOAD_SIGNAL, NULL);
    }
}

/* A scheduled re-run (interval timer, config change, signal) of a down container: when it had
 * completed, the new instance keeps the pod ready until it fails (SPEC.md 8.6). */
static void start_scheduled_rerun(struct step *x, size_t i)
{
    struct ctr *c = &x->s->c[i];
    bool was_completed = c->completed && c->has_exit && c->exit_code == 0;
    do_start(x, i);
    c->rerun_ready = was_completed && c->ph == SUP_CTR_CREATING;
}

/* ---- handlers (table entries) */

static void h_start(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    do_start(x, i);
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
        dispatch(x, i, CE_STARTUP_OK, NULL);
        return;
    }
    c->startup_deadline_mono_ms = x->now_mono_ms + startup_timeout_ms(&k->startup);
    note(x, POD_LOG_INFO, i, "waiting to start up (%s, timeout %lld s)",
         sk == SPEC_PROBE_EXIT ? "exit" : spec_probe_kind_name(sk),
         (long long)(startup_timeout_ms(&k->startup) / 1000));
    if (sk != SPEC_PROBE_EXIT) {
        probe_reset(&c->pr[PR_STARTUP]);
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
        dispatch(x, i, CE_EXITED, a);
}

static void h_start_failed(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    char why[190];
    snprintf(why, sizeof why, "start failed: %s", a && a->msg && *a->msg ? a->msg : "backend");
    set_exit(&x->s->c[i], NULL);
    failed_start(x, i, why);
}

static void h_create_timeout(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    note(x, POD_LOG_ERROR, i, "no answer to start within %d s; stopping it",
         CREATE_TIMEOUT_MS / 1000);
    do_stop(x, i, AS_FAILED_START);
}

static void h_startup_ok(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    probe_cancel(x, i, PR_STARTUP);
    c->startup_deadline_mono_ms = NEVER;
    c->ph = SUP_CTR_RUNNING;
    c->started = true;
    c->live = true;
    c->ready = !probe_active(&k->readiness);
    probes_schedule_running(x, i, true);
    note(x, POD_LOG_OK, i, "started");
    update_stable(x, i);
    c->seq_done = true;
    fan_out(x, i);
    if (c->pending_reload && c->ph == SUP_CTR_RUNNING) {
        enum ctr_event e = (enum ctr_event)c->pending_reload;
        c->pending_reload = 0;
        dispatch(x, i, e, NULL);
    }
    advance_sequence(x);
}

static void h_exited_starting(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    set_exit(c, a);
    probes_cancel_all(x, i);
    c->rerun_ready = false; /* completed (then `completed` counts) or a failed start */
    if (startup_kind(k) == SPEC_PROBE_EXIT && c->has_exit && c->exit_code == 0) {
        leave_up(c);
        c->started = true;
        c->completed = true;
        c->seq_done = true;
        c->ph = SUP_CTR_EXITED;
        note(x, POD_LOG_OK, i, "completed (exit 0)");
        c->streak = 0; /* a completed run is not a crash */
        c->backoff_ms = 0;
        fan_out(x, i);
        c->pending_reload = 0; /* the next run reads the new config anyway */
        if (c->ph == SUP_CTR_EXITED)
            policy_exit(x, i, 0, a && a->has_exit_time ? a->exit_mono_ms : x->now_mono_ms);
        advance_sequence(x);
        return;
    }
    char why[96];
    if (c->has_exit)
        snprintf(why, sizeof why, "exited with code %d before startup completed%s", c->exit_code,
                 startup_kind(k) == SPEC_PROBE_EXIT ? " (expected 0)" : "");
    else
        snprintf(why, sizeof why, "exited before startup completed");
    failed_start(x, i, why);
}

static void h_startup_timeout(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    note(x, POD_LOG_ERROR, i, "startup timed out after %lld s; stopping it",
         (long long)(startup_timeout_ms(&ctr_spec(x->s, i)->startup) / 1000));
    do_stop(x, i, AS_FAILED_START);
}

static void h_startup_fail(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    note(x, POD_LOG_ERROR, i, "startup probe failed %d times; stopping it",
         ctr_spec(x->s, i)->startup.failure_threshold);
    do_stop(x, i, AS_FAILED_START);
}

static void h_exited_running(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct ctr *c = &x->s->c[i];
    set_exit(c, a);
    probes_cancel_all(x, i);
    leave_up(c);
    c->pending_reload = 0;
    c->completed = c->has_exit && c->exit_code == 0;
    c->rerun_ready = false; /* clean: `completed` counts; else a crash (backoff) */
    policy_exit(x, i, c->has_exit ? c->exit_code : -1, x->now_mono_ms);
}

static void h_liveness_fail(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    note(x, POD_LOG_WARN, i, "liveness probe failed; stopping it");
    do_stop(x, i, AS_LIVENESS);
    x->s->c[i].live = false;
}

static void h_stop(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    do_stop(x, i, AS_NONE);
}

static void h_kill(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    do_kill(x, i);
}

static void h_restart_planned(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    do_stop(x, i, AS_RESTART);
}

/* The stopping container is down (EXITED, START_FAILED or considered gone). */
static void h_down_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    set_exit(c, a);
    leave_up(c);
    enum after_stop after = c->after;
    c->after = AS_NONE;
    if (after != AS_RESTART || !pod_active(s))
        c->rerun_ready = false;
    c->ph = SUP_CTR_EXITED;
    c->restart_at_mono_ms = NEVER;
    if (!pod_active(s)) {
        if (c->has_exit)
            note(x, POD_LOG_INFO, i, "stopped (exit code %d)", c->exit_code);
        else
            note(x, POD_LOG_INFO, i, "stopped");
        pod_stop_advance(x);
        return;
    }
    switch (after) {
    case AS_RESTART:
        do_start(x, i);
        break;
    case AS_FAILED_START:
        failed_start(x, i, "failed start");
        break;
    case AS_LIVENESS:
        if (ctr_spec(s, i)->restart == SPEC_RESTART_NEVER) {
            note(x, POD_LOG_WARN, i,
                 "stopped after liveness failure; not restarted (policy never)");
        } else {
            schedule_restart(x, i, true, "stopped after liveness failure");
        }
        break;
    default:
        note(x, POD_LOG_INFO, i, "stopped");
        break;
    }
}

static void h_gone_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    note(x, POD_LOG_ERROR, i, "no exit reported %d ms after SIGKILL; considered gone",
         KILL_GRACE_MS);
    h_down_stopping(x, i, NULL);
}

static void h_kill_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    note(x, POD_LOG_WARN, i, "did not stop in time; sending SIGKILL");
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    struct sup_action *k = act(x, SUP_ACT_CTR_KILL, i);
    k->sig = SIG_KILL;
}

static void h_kill_stopping(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    c->after = AS_NONE;
    c->kill_at_mono_ms = NEVER;
    c->gone_at_mono_ms = x->now_mono_ms + KILL_GRACE_MS;
    struct sup_action *k = act(x, SUP_ACT_CTR_KILL, i);
    k->sig = SIG_KILL;
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
    struct sup_action *r = act(x, SUP_ACT_CTR_STOP, i);
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
    if (deliver_signal(x, i, "reload"))
        return;
    note(x, POD_LOG_DEBUG, i, "no signal defined; ignored");
}

static void h_reload_config_running(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    const struct spec_container *k = ctr_spec(x->s, i);
    if (deliver_signal(x, i, "config changed"))
        return;
    if (config_policy(k)) {
        note(x, POD_LOG_INFO, i, "config changed; restarting (policy %s)",
             spec_restart_name(k->restart));
        do_stop(x, i, AS_RESTART);
        return;
    }
    note(x, POD_LOG_DEBUG, i, "config changed; no signal and policy %s: left alone",
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
    note(x, POD_LOG_INFO, i, "not running; rerun by restart policy %s",
         spec_restart_name(k->restart));
    start_scheduled_rerun(x, i);
}

/* The interval timer of an on-interval container that exited 0. */
static void h_interval_due(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    start_scheduled_rerun(x, i);
}

static void h_rerun_waiting(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    (void)a;
    struct ctr *c = &x->s->c[i];
    if (c->seq_done || x->s->phase == SUP_POD_RUNNING) {
        do_start(x, i);
        return;
    }
    note(x, POD_LOG_INFO, i, "not started yet; waiting for its turn");
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
            [CE_STOP] = h_stop,
            [CE_KILL] = h_kill,
            [CE_RELOAD_CONFIG] = h_reload_pending_config,
            [CE_RELOAD_SIGNAL] = h_reload_pending_signal,
        },
};

static void dispatch(struct step *x, size_t i, enum ctr_event e, const struct ctr_event_arg *a)
{
    ctr_handler *f = table[x->s->c[i].ph][e];
    if (!f) {
        if (e == CE_STARTED || e == CE_EXITED || e == CE_START_FAILED)
            note(x, POD_LOG_DEBUG, i, "%s ignored in phase %s", ctr_event_names[e],
                 sup_ctr_phase_name(x->s->c[i].ph));
        return;
    }
    f(x, i, a);
}

/* ------------------------------------------------------------------ pod level */

static void advance_sequence(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_STARTING)
        return;
    for (size_t p = 0; p < s->n; p++) {
        size_t i = s->order[p];
        struct ctr *c = &s->c[i];
        if (c->seq_done)
            continue;
        if (c->ph == SUP_CTR_WAITING)
            dispatch(x, i, CE_GO, NULL);
        if (!c->seq_done)
            return;
    }
    s->phase = SUP_POD_RUNNING;
    note(x, POD_LOG_OK, SIZE_MAX, "pod running: all containers started");
}

static void pod_finish_stop(struct step *x)
{
    struct sup *s = x->s;
    s->phase = SUP_POD_EXITED;
    s->killing = false;
    act(x, SUP_ACT_POD_STOPPED, SIZE_MAX);
    note(x, POD_LOG_INFO, SIZE_MAX, "pod stopped");
}

/* Stop tiers: init and main containers in parallel (issued in reverse spec order), then the
 * sidecars one by one in reverse spec order. */
static void pod_stop_advance(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_STOPPING)
        return;
    for (size_t i = 0; i < s->n; i++)
        if (s->c[i].ph == SUP_CTR_ADOPTING && !s->killing)
            return; /* restored mid-stop: wait until every container is adopted */
    bool busy = false;
    for (size_t r = s->n; r-- > 0;) {
        if (ctr_spec(s, r)->kind == SPEC_CTR_SIDECAR && !s->killing)
            continue;
        if (ph_up(s->c[r].ph)) {
            if (s->c[r].ph != SUP_CTR_STOPPING)
                dispatch(x, r, s->killing ? CE_KILL : CE_STOP, NULL);
            busy = true;
        }
    }
    if (busy)
        return;
    for (size_t r = s->n; r-- > 0;) {
        if (ctr_spec(s, r)->kind != SPEC_CTR_SIDECAR || !ph_up(s->c[r].ph))
            continue;
        if (s->c[r].ph != SUP_CTR_STOPPING)
            dispatch(x, r, CE_STOP, NULL);
        return;
    }
    pod_finish_stop(x);
}

static void cfg_fire(struct step *x, size_t v, const char *why)
{
    struct sup *s = x->s;
    const char *vname = s->spec->volumes[v].name;
    memset(&s->cfg[v], 0, sizeof s->cfg[v]);
    s->cfg[v].quiet_at_mono_ms = NEVER;
    note(x, POD_LOG_INFO, SIZE_MAX, "config %s %s", vname, why);
    for (size_t i = 0; i < s->n; i++) {
        const struct spec_container *k = ctr_spec(s, i);
        for (size_t m = 0; m < k->n_mounts; m++) {
            if (k->mounts[m].volume && strcmp(k->mounts[m].volume, vname) == 0) {
                dispatch(x, i, CE_RELOAD_CONFIG, NULL);
                break;
            }
        }
    }
}

static bool cfg_fireable(const struct cfg_burst *b)
{
    return b->open && (!b->checksum_mode || b->checksum_seen);
}

static void ev_config_changed(struct step *x, const struct sup_event *ev)
{
    struct sup *s = x->s;
    if (ev->volume >= s->spec->n_volumes)
        return;
    if (!pod_active(s))
        return;
    struct cfg_burst *b = &s->cfg[ev->volume];
    b->open = true;
    if (ev->cfg_has_checksum_file || ev->cfg_checksum_file)
        b->checksum_mode = true;
    if (ev->cfg_checksum_file)
        b->checksum_seen = true;
    int debounce = s->spec->config_debounce_ms;
    b->quiet_at_mono_ms = x->now_mono_ms + debounce;
    if (cfg_fireable(b) && debounce == 0)
        cfg_fire(x, ev->volume, "changed");
}

/* A wall time of inspect (an adopted instance's start or finish) on the monotonic axis: now
 * minus how long ago it was by the wall clock (ev->wall_ns is the wall clock at now).  Never
 * later than now; now when either wall time is unknown or lies in the future (clock step). */
static int64_t adopt_mono_ms(const struct step *x, const struct sup_event *ev, int64_t at_wall_ns)
{
    int64_t wall = ev->wall_ns;
    if (wall <= 0 || at_wall_ns <= 0 || at_wall_ns >= wall)
        return x->now_mono_ms;
    return x->now_mono_ms - (wall - at_wall_ns) / 1000000;
}

/* The saved monotonic evidence of the adopted instance's start (restored only for a pending
 * startup of the same instance): `*exact` when it is the STARTED time, else the time the start
 * was issued (a lower bound).  NEVER when there is none, x->now_mono_ms when it is from another
 * boot (later than now: nothing is trustworthy, count from the adoption). */
static int64_t adopt_saved_start(const struct step *x, const struct ctr *c, bool *exact)
{
    int64_t m =
        c->saved_started_mono_ms != NEVER ? c->saved_started_mono_ms : c->saved_created_mono_ms;
    *exact = c->saved_started_mono_ms != NEVER;
    if (m != NEVER && m > x->now_mono_ms) {
        *exact = true;
        return x->now_mono_ms;
    }
    return m;
}

/* The adopted instance's start on the monotonic axis: the saved STARTED time, else inspect's
 * start by the wall clock, but never before the saved time its start was issued (a forward
 * clock step makes the wall estimate too old). */
static int64_t adopt_start_mono_ms(const struct step *x, const struct ctr *c,
                                   const struct sup_event *ev)
{
    bool exact;
    int64_t m = adopt_saved_start(x, c, &exact);
    int64_t w = adopt_mono_ms(x, ev, ev->adopt.started_wall_ns);
    if (m == NEVER)
        return w;
    return exact ? m : imax(w, m);
}

/* The adopted exit on the monotonic axis, not before the saved evidence of its start. */
static int64_t adopt_exit_mono_ms(const struct step *x, const struct ctr *c,
                                  const struct sup_event *ev)
{
    bool exact;
    int64_t m = adopt_saved_start(x, c, &exact);
    int64_t w = adopt_mono_ms(x, ev, ev->adopt.finished_wall_ns);
    return m == NEVER ? w : imax(w, m);
}

/* The container has a startup that STARTED alone does not complete: `exit: true` / init (its
 * exit 0) or a cmd/tcp/http startup probe (its first success). */
static bool startup_gated(const struct spec_container *k)
{
    return startup_kind(k) == SPEC_PROBE_EXIT || probe_active(&k->startup);
}

/* Adopted running while the saved state says its startup had not completed: it is still
 * starting up, as for the daemon that saved the state (SPEC.md 8.9).  `exit: true` / init:
 * its exit decides (0 = completed startup, with its fan-out; else a failed start); a probe:
 * attempts again from now (its initial delay counted from the start inspect reports).  The
 * overall startup deadline counts from that start too (from now when it is unknown), so it
 * falls where it would have without the restart.  Consecutive probe results begin afresh. */
static void adopt_starting(struct step *x, size_t i, const struct sup_event *ev)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    enum spec_probe_kind sk = startup_kind(k);
    leave_up(c);
    c->ph = SUP_CTR_STARTING;
    c->live = true;
    c->has_exit = false; /* an earlier instance's (a stale state), as do_start clears it */
    c->running_since_mono_ms = adopt_start_mono_ms(x, c, ev);
    c->startup_deadline_mono_ms = c->running_since_mono_ms + startup_timeout_ms(&k->startup);
    for (int r = 0; r < PR__N; r++)
        probe_reset(&c->pr[r]);
    if (sk != SPEC_PROBE_EXIT)
        c->pr[PR_STARTUP].next_at_mono_ms = imax(
            x->now_mono_ms, c->running_since_mono_ms + (int64_t)k->startup.initial_delay_s * 1000);
    note(x, POD_LOG_INFO, i,
         "adopted running instance %llu; its startup was pending in the saved state: waiting "
         "to start up (%s, %lld s left)",
         (unsigned long long)c->instance, sk == SPEC_PROBE_EXIT ? "exit" : spec_probe_kind_name(sk),
         (long long)(imax(0, c->startup_deadline_mono_ms - x->now_mono_ms) / 1000));
}

/* An adopted instance exited while the saved state says its startup had not completed (the
 * state file may be stale: disk full, crash right after a start).  It ran: without a startup
 * probe running is being started, so it counts as started (then exited with its code, as if
 * the daemon had seen it); with a cmd/tcp/http startup probe the daemon cannot know whether
 * the probe passed, so only a clean exit (0) counts as a completed run, not as a crash; any
 * other code stays a failed start.  `exit: true` and init containers: h_exited_starting
 * decides (0 = completed). */
static bool adopt_exit_was_started(const struct spec_container *k,
                                   const struct backend_ctr_state *st)
{
    if (startup_kind(k) == SPEC_PROBE_EXIT)
        return false;
    if (st->exit_code == 0)
        return true;
    return !probe_active(&k->startup) && st->started_wall_ns > 0;
}

/* The pending restart of an instance whose exit (or failed start) the saved state had already
 * judged, at exit_mono_ms (mono, <= now): the saved deadline when it is from this boot (scheduled
 * at or before now), else the saved delay counted from the exit, never later than a full
 * delay from now.  No failure is counted again (SPEC.md 8.9). */
static void adopt_rearm_backoff(struct step *x, size_t i, int64_t exit_mono_ms)
{
    struct ctr *c = &x->s->c[i];
    int64_t at = c->saved_restart_at_mono_ms;
    if (at == NEVER || at - c->backoff_ms > x->now_mono_ms)
        at = imax(x->now_mono_ms, imin(exit_mono_ms, x->now_mono_ms) + c->backoff_ms);
    c->ph = SUP_CTR_BACKOFF;
    c->restart_at_mono_ms = at;
    note(x, POD_LOG_INFO, i,
         "its exit was already judged in the saved state: restart in %lld ms (backoff #%u)",
         (long long)imax(0, at - x->now_mono_ms), c->streak);
}

/* An adopted exit the saved state had already judged: its phase again, nothing counted. */
static void adopt_judged_exit(struct step *x, size_t i, const struct ctr_event_arg *a)
{
    struct ctr *c = &x->s->c[i];
    const struct spec_container *k = ctr_spec(x->s, i);
    set_exit(c, a);
    c->completed = c->seq_done && a->exit_code == 0;
    if (c->saved_restart_at_mono_ms != NEVER || !c->seq_done || policy_restarts(k, a->exit_code))
        adopt_rearm_backoff(x, i, a->exit_mono_ms);
    else
        policy_exit(x, i, a->exit_code, a->exit_mono_ms); /* not restarted: counts nothing */
}

static void ev_adopt(struct step *x, const struct sup_event *ev)
{
    struct sup *s = x->s;
    size_t i = ev->ctr;
    struct ctr *c = &s->c[i];
    const struct backend_ctr_state *st = &ev->adopt;
    if (c->ph != SUP_CTR_ADOPTING) {
        note(x, POD_LOG_DEBUG, i, "adopt ignored in phase %s", sup_ctr_phase_name(c->ph));
        return;
    }
    /* the saved state already judged this instance's exit: it saved a pending restart of it,
     * or its exit code (the same: an exit code is cleared when an instance is started) */
    bool same = !st->exists || !st->instance || st->instance == c->instance;
    bool judged =
        same && (c->saved_restart_at_mono_ms != NEVER ||
                 (c->has_exit && st->exists && !st->running && c->exit_code == st->exit_code));
    if (!same || !st->exists)
        c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER; /* not this instance's */
    if (st->exists && st->instance)
        c->instance = st->instance;
    bool startup_pending = c->startup_pending;
    c->startup_pending = false;
    /* the saved state says its startup had not completed: the first run (the order) or a
     * later instance that was creating or starting */
    bool pending = !c->seq_done || startup_pending;
    if (st->exists && st->running && pending && pod_active(s) && startup_gated(ctr_spec(s, i))) {
        adopt_starting(x, i, ev);
    } else if (st->exists && st->running) {
        c->ph = SUP_CTR_RUNNING;
        c->started = true;
        c->seq_done = true;
        c->live = true;
        c->has_exit = false; /* an earlier instance's (a stale state) */
        c->running_since_mono_ms = x->now_mono_ms;
        c->ready = !probe_active(&ctr_spec(s, i)->readiness);
        c->stable_since_mono_ms = -1;
        if (pod_active(s)) /* a pod restored in `stopping` only stops it */
            probes_schedule_running(x, i, false);
        update_stable(x, i);
        note(x, POD_LOG_INFO, i, "adopted running instance %llu", (unsigned long long)c->instance);
        /* STARTED was its whole startup: the fan-out the daemon that saved the state had not
         * sent yet (a stale state may make this a second one) */
        if (pending && pod_active(s))
            fan_out(x, i);
        if (c->pending_reload && c->ph == SUP_CTR_RUNNING) {
            enum ctr_event e = (enum ctr_event)c->pending_reload;
            c->pending_reload = 0;
            dispatch(x, i, e, NULL);
        }
    } else if (st->exists) {
        struct ctr_event_arg a = {.exit_code = st->exit_code,
                                  .has_code = true,
                                  .has_exit_time = true,
                                  .exit_mono_ms = adopt_exit_mono_ms(x, c, ev)};
        c->rerun_ready = false; /* it exited: completed (0) or failed, as without a restart */
        note(x, POD_LOG_INFO, i, "adopted exited instance %llu (exit code %d)",
             (unsigned long long)c->instance, st->exit_code);
        c->pending_reload = 0;
        if (s->phase == SUP_POD_STOPPING) {
            set_exit(c, &a);
            c->ph = SUP_CTR_EXITED;
        } else if (judged) {
            adopt_judged_exit(x, i, &a);
        } else if (!pending || adopt_exit_was_started(ctr_spec(s, i), st)) {
            if (pending)
                note(x, POD_LOG_INFO, i,
                     "its startup was pending in the saved state, but it ran: counted as started");
            c->seq_done = true;
            set_exit(c, &a);
            c->ph = SUP_CTR_EXITED;
            c->completed = st->exit_code == 0;
            if (pending)
                fan_out(x, i); /* its startup completed: the fan-out not sent yet */
            policy_exit(x, i, st->exit_code, a.exit_mono_ms);
        } else {
            c->ph = SUP_CTR_STARTING;
            h_exited_starting(x, i, &a);
        }
    } else {
        note(x, POD_LOG_INFO, i, "adopted: no container");
        c->pending_reload = 0;
        c->ph = SUP_CTR_WAITING;
        if (judged && c->saved_restart_at_mono_ms != NEVER && pod_active(s))
            adopt_rearm_backoff(x, i, x->now_mono_ms); /* e.g. a start that failed in podman */
        else if (c->seq_done && pod_active(s))
            do_start(x, i); /* a restored re-run marker stays: the same scheduled re-run */
        if (c->ph != SUP_CTR_CREATING)
            c->rerun_ready = false;
    }
    c->saved_restart_at_mono_ms = c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER;
    advance_sequence(x);
    pod_stop_advance(x);
}

/* ------------------------------------------------------------------ probe results */

static bool find_tag(const struct sup *s, uint64_t tag, size_t *ci, int *role)
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

/* One attempt finished (ok false = failure, including timeouts). */
static void probe_result(struct step *x, size_t i, int role, enum backend_result res)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    const struct spec_container *k = ctr_spec(s, i);
    struct probe_rt *p = &c->pr[role];
    int64_t start = p->attempt_start_mono_ms;
    p->tag = 0;
    if (role == PR_SIGCMD) {
        p->next_at_mono_ms = NEVER;
        if (res != BACKEND_OK)
            note(x, POD_LOG_WARN, i, "signal command failed (%s)",
                 res == BACKEND_TIMEOUT   ? "timeout"
                 : res == BACKEND_UNKNOWN ? "unknown"
                                          : "fail");
        return;
    }
    const struct spec_probe *sp = probe_of(k, role);
    p->next_at_mono_ms = imax(start + period_ms(sp), x->now_mono_ms);
    if (res == BACKEND_UNKNOWN) {
        if (++p->unknown < UNKNOWN_LIMIT) {
            note(x, POD_LOG_DEBUG, i, "%s probe result unknown (%d of %d); not counted",
                 sup_probe_role_name((enum sup_probe_role)role), p->unknown, UNKNOWN_LIMIT);
            return;
        }
        note(x, POD_LOG_WARN, i, "%s probe result unknown %d times; counted as failure",
             sup_probe_role_name((enum sup_probe_role)role), UNKNOWN_LIMIT);
        res = BACKEND_FAIL;
    }
    p->unknown = 0;
    bool ok = res == BACKEND_OK;
    if (ok) {
        p->succ++;
        p->fail = 0;
    } else {
        p->fail++;
        p->succ = 0;
    }
    switch (role) {
    case PR_STARTUP:
        if (ok && p->succ >= k->startup.success_threshold)
            dispatch(x, i, CE_STARTUP_OK, NULL);
        else if (!ok && k->startup.failure_threshold > 0 && p->fail >= k->startup.failure_threshold)
            dispatch(x, i, CE_STARTUP_FAIL, NULL);
        break;
    case PR_READY:
        if (ok && !c->ready && p->succ >= k->readiness.success_threshold) {
            c->ready = true;
            note(x, POD_LOG_INFO, i, "ready");
        } else if (!ok && c->ready && p->fail >= k->readiness.failure_threshold) {
            c->ready = false;
            note(x, POD_LOG_WARN, i, "not ready (%d failed probes)", p->fail);
        }
        update_stable(x, i);
        break;
    case PR_LIVE:
        if (!ok && p->fail >= k->liveness.failure_threshold) {
            c->live = false;
            dispatch(x, i, CE_LIVENESS_FAIL, NULL);
        }
        break;
    default:
        break;
    }
}

static void ev_backend(struct step *x, const struct backend_event *be)
{
    struct sup *s = x->s;
    if (be->ctr >= s->n)
        return;
    size_t i = be->ctr;
    struct ctr *c = &s->c[i];
    if (be->type == BACKEND_EV_EXEC_DONE) {
        size_t ci;
        int role;
        if (!find_tag(s, be->tag, &ci, &role) || ci != i || be->instance != c->instance) {
            note(x, POD_LOG_DEBUG, i, "stale or cancelled probe result (tag %llu) ignored",
                 (unsigned long long)be->tag);
            return;
        }
        probe_result(x, i, role, be->result);
        return;
    }
    if (be->type != BACKEND_EV_STARTED && be->type != BACKEND_EV_START_FAILED &&
        be->type != BACKEND_EV_EXITED)
        return;
    if (be->instance != c->instance || c->ph == SUP_CTR_ADOPTING) {
        note(x, POD_LOG_DEBUG, i, "event about instance %llu ignored (current %llu)",
             (unsigned long long)be->instance, (unsigned long long)c->instance);
        return;
    }
    struct ctr_event_arg a = {
        .exit_code = be->exit_code, .has_code = be->type == BACKEND_EV_EXITED, .msg = be->msg};
    enum ctr_event e = be->type == BACKEND_EV_STARTED        ? CE_STARTED
                       : be->type == BACKEND_EV_START_FAILED ? CE_START_FAILED
                                                             : CE_EXITED;
    dispatch(x, i, e, &a);
}

/* ------------------------------------------------------------------ deadlines */

static int64_t ctr_deadline(const struct sup *s, size_t i)
{
    const struct ctr *c = &s->c[i];
    int64_t d = NEVER;
    switch (c->ph) {
    case SUP_CTR_CREATING:
        d = c->create_deadline_mono_ms;
        break;
    case SUP_CTR_STARTING:
        d = c->startup_deadline_mono_ms;
        break;
    case SUP_CTR_BACKOFF:
    case SUP_CTR_EXITED:
        d = c->restart_at_mono_ms;
        break;
    case SUP_CTR_STOPPING:
        d = imin(c->kill_at_mono_ms, c->gone_at_mono_ms);
        break;
    default:
        break;
    }
    for (int r = 0; r < PR__N; r++)
        d = imin(d, c->pr[r].tag ? c->pr[r].attempt_deadline_mono_ms : c->pr[r].next_at_mono_ms);
    if (c->ph == SUP_CTR_RUNNING && c->streak > 0 && c->stable_since_mono_ms >= 0)
        d = imin(d, c->stable_since_mono_ms + backoff_reset_ms(ctr_spec(s, i)));
    return d;
}

/* Handles everything due at x->now_mono_ms for container i; returns true if something happened. */
static bool ctr_due(struct step *x, size_t i)
{
    struct sup *s = x->s;
    struct ctr *c = &s->c[i];
    int64_t now = x->now_mono_ms;
    /* Attempts past their deadline: cancel (killed inside the container), count as failure. */
    for (int r = 0; r < PR__N; r++) {
        struct probe_rt *p = &c->pr[r];
        if (p->tag && p->attempt_deadline_mono_ms <= now) {
            struct sup_action *a = act(x, SUP_ACT_CANCEL, i);
            a->tag = p->tag;
            a->role = (enum sup_probe_role)r;
            note(x, POD_LOG_WARN, i, "%s %s timed out; cancelled",
                 sup_probe_role_name((enum sup_probe_role)r), r == PR_SIGCMD ? "command" : "probe");
            probe_result(x, i, r, BACKEND_TIMEOUT);
            return true;
        }
    }
    switch (c->ph) {
    case SUP_CTR_CREATING:
        if (c->create_deadline_mono_ms <= now) {
            dispatch(x, i, CE_CREATE_TIMEOUT, NULL);
            return true;
        }
        break;
    case SUP_CTR_STARTING:
        if (c->startup_deadline_mono_ms <= now) {
            dispatch(x, i, CE_STARTUP_TIMEOUT, NULL);
            return true;
        }
        break;
    case SUP_CTR_BACKOFF:
    case SUP_CTR_EXITED:
        if (c->restart_at_mono_ms <= now) {
            c->restart_at_mono_ms = NEVER;
            dispatch(x, i, CE_RESTART_DUE, NULL);
            return true;
        }
        break;
    case SUP_CTR_STOPPING:
        if (c->kill_at_mono_ms <= now) {
            dispatch(x, i, CE_KILL_DUE, NULL);
            return true;
        }
        if (c->gone_at_mono_ms <= now) {
            dispatch(x, i, CE_GONE_DUE, NULL);
            return true;
        }
        break;
    default:
        break;
    }
    for (int r = 0; r < PR_SIGCMD; r++) {
        struct probe_rt *p = &c->pr[r];
        if (!p->tag && p->next_at_mono_ms <= now) {
            bool ok_phase = r == PR_STARTUP ? c->ph == SUP_CTR_STARTING : c->ph == SUP_CTR_RUNNING;
            if (!ok_phase) {
                probe_reset(p);
                continue;
            }
            probe_start(x, i, r);
            return true;
        }
    }
    if (c->ph == SUP_CTR_RUNNING && c->streak > 0 && c->stable_since_mono_ms >= 0 &&
        c->stable_since_mono_ms + backoff_reset_ms(ctr_spec(s, i)) <= now) {
        note(x, POD_LOG_INFO, i, "backoff reset after %lld s stable",
             (long long)(backoff_reset_ms(ctr_spec(s, i)) / 1000));
        c->streak = 0;
        c->backoff_ms = 0;
        return true;
    }
    return false;
}

static void process_due(struct step *x)
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
            if (cfg_fireable(b) && b->quiet_at_mono_ms <= x->now_mono_ms) {
                if (pod_active(s))
                    cfg_fire(x, v, "changed");
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
        if (cfg_fireable(&s->cfg[v]))
            d = imin(d, s->cfg[v].quiet_at_mono_ms);
    return d;
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

static void status_compute(const struct sup *s, struct sup_status *st)
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
    st->healthy = healthy && (s->phase == SUP_POD_STARTING || s->phase == SUP_POD_RUNNING);
}

static bool status_equal(const struct sup_status *a, const struct sup_status *b, size_t n)
{
    if (a->phase != b->phase || a->ready != b->ready || a->healthy != b->healthy)
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

static void ctr_init(struct ctr *c)
{
    memset(c, 0, sizeof *c);
    c->ph = SUP_CTR_WAITING;
    c->live = true;
    c->stable_since_mono_ms = -1;
    c->create_deadline_mono_ms = c->startup_deadline_mono_ms = c->restart_at_mono_ms = NEVER;
    c->saved_restart_at_mono_ms = c->saved_started_mono_ms = c->saved_created_mono_ms = NEVER;
    c->kill_at_mono_ms = c->gone_at_mono_ms = NEVER;
    for (int r = 0; r < PR__N; r++)
        probe_reset(&c->pr[r]);
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
        ctr_init(&s->c[i]);
    s->st.n = s->n;
    s->st.ctr = xcalloc(n1, sizeof *s->st.ctr);
    s->scratch = xcalloc(n1, sizeof *s->scratch);
    status_compute(s, &s->st);
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

static void ev_pod_start(struct step *x)
{
    struct sup *s = x->s;
    if (s->phase != SUP_POD_CREATED) {
        note(x, POD_LOG_DEBUG, SIZE_MAX, "start ignored in phase %s", sup_pod_phase_name(s->phase));
        return;
    }
    s->phase = SUP_POD_STARTING;
    note(x, POD_LOG_INFO, SIZE_MAX, "pod starting");
    advance_sequence(x);
}

static void pod_enter_stopping(struct step *x, bool kill)
{
    struct sup *s = x->s;
    s->phase = SUP_POD_STOPPING;
    s->killing = kill;
    for (size_t v = 0; v < s->spec->n_volumes; v++) {
        memset(&s->cfg[v], 0, sizeof s->cfg[v]);
        s->cfg[v].quiet_at_mono_ms = NEVER;
    }
    for (size_t i = 0; i < s->n; i++) {
        struct ctr *c = &s->c[i];
        if (!ph_up(c->ph))
            dispatch(x, i, CE_STOP, NULL); /* cancels restart timers */
    }
}

static void ev_pod_stop(struct step *x, bool kill)
{
    struct sup *s = x->s;
    switch (s->phase) {
    case SUP_POD_CREATED:
        note(x, POD_LOG_INFO, SIZE_MAX, "pod %s before start", kill ? "killed" : "stopped");
        s->phase = SUP_POD_STOPPING;
        pod_finish_stop(x);
        return;
    case SUP_POD_EXITED:
        return;
    case SUP_POD_STOPPING:
        if (!kill || s->killing)
            return;
        note(x, POD_LOG_INFO, SIZE_MAX, "pod kill during stop");
        s->killing = true;
        for (size_t i = s->n; i-- > 0;)
            if (ph_up(s->c[i].ph))
                dispatch(x, i, CE_KILL, NULL);
        pod_stop_advance(x);
        return;
    default:
        break;
    }
    note(x, POD_LOG_INFO, SIZE_MAX, "pod %s", kill ? "kill" : "stop");
    pod_enter_stopping(x, kill);
    if (kill)
        for (size_t i = s->n; i-- > 0;)
            if (ph_up(s->c[i].ph))
                dispatch(x, i, CE_KILL, NULL);
    pod_stop_advance(x);
}

static void ev_rerun(struct step *x, size_t i)
{
    struct sup *s = x->s;
    if (i >= s->n)
        return;
    if (!pod_active(s)) {
        note(x, POD_LOG_INFO, i, "rerun ignored: pod is %s", sup_pod_phase_name(s->phase));
        return;
    }
    struct ctr *c = &s->c[i];
    note(x, POD_LOG_INFO, i, "rerun requested");
    c->rerun_ready = false; /* an operator's cycle, not a scheduled re-run */
    c->gave_up = false;
    c->n_fail = 0;
    c->streak = 0;
    c->backoff_ms = 0;
    dispatch(x, i, CE_RERUN, NULL);
}

static void ev_signal(struct step *x, size_t which)
{
    struct sup *s = x->s;
    if (!pod_active(s))
        return;
    for (size_t i = 0; i < s->n; i++)
        if (which == SIZE_MAX || which == i)
            dispatch(x, i, CE_RELOAD_SIGNAL, NULL);
}

void sup_step(struct sup *s, const struct sup_event *ev, int64_t now_mono_ms,
              struct sup_actions *out)
{
    struct step x = {.s = s, .now_mono_ms = now_mono_ms, .out = out};
    /* Deadlines that passed are handled before the event: a late result is never credited. */
    process_due(&x);
    switch (ev->type) {
    case SUP_EV_TICK:
        break;
    case SUP_EV_START_POD:
        ev_pod_start(&x);
        break;
    case SUP_EV_STOP_POD:
        ev_pod_stop(&x, false);
        break;
    case SUP_EV_KILL_POD:
        ev_pod_stop(&x, true);
        break;
    case SUP_EV_BACKEND:
        ev_backend(&x, &ev->backend);
        break;
    case SUP_EV_CONFIG_CHANGED:
        ev_config_changed(&x, ev);
        break;
    case SUP_EV_RELOAD_CONFIGS:
        if (ev->volume < s->spec->n_volumes && pod_active(s))
            cfg_fire(&x, ev->volume, "reload requested");
        break;
    case SUP_EV_SIGNAL:
        ev_signal(&x, ev->ctr);
        break;
    case SUP_EV_RERUN:
        ev_rerun(&x, ev->ctr);
        break;
    case SUP_EV_ADOPT:
        if (ev->ctr < s->n)
            ev_adopt(&x, ev);
        break;
    }
    process_due(&x);
    struct sup_status nst = {.n = s->n, .ctr = s->scratch};
    status_compute(s, &nst);
    bool changed = !status_equal(&nst, &s->st, s->n);
    if (changed) {
        s->st.phase = nst.phase;
        s->st.ready = nst.ready;
        s->st.healthy = nst.healthy;
        memcpy(s->st.ctr, s->scratch, s->n * sizeof *s->scratch);
    }
    if (changed)
        act(&x, SUP_ACT_STATUS, SIZE_MAX);
}

const struct sup_status *sup_status(const struct sup *s)
{
    return &s->st;
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
                                        "signal",   "rerun",   "adopt"};
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

/* ------------------------------------------------------------------ save / restore */

/* Appends a JSON string literal (the names are validated, but escape anyway). */
static void save_str(struct pod_buf *b, const char *v)
{
    pod_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p == '"' || *p == '\\')
            pod_buf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            pod_buf_printf(b, "\\u%04x", *p);
        else
            pod_buf_addc(b, (char)*p);
    }
    pod_buf_addc(b, '"');
}

/* The same compact JSON jansson would write (sup_restore reads it with jansson), built
 * directly: the driver persists it after every visible change, so it is on the hot path. */
char *sup_save(const struct sup *s)
{
    struct pod_buf b = {0};
    pod_buf_printf(&b, "{\"version\":1,\"phase\":");
    save_str(&b, sup_pod_phase_name(s->phase));
    pod_buf_printf(&b, ",\"next_tag\":%llu,\"containers\":[", (unsigned long long)s->next_tag);
    for (size_t i = 0; i < s->n; i++) {
        const struct ctr *c = &s->c[i];
        pod_buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
        save_str(&b, ctr_spec(s, i)->name ? ctr_spec(s, i)->name : "");
        pod_buf_printf(&b,
                       ",\"instance\":%llu,\"start_count\":%lld,\"restart_count\":%lld,"
                       "\"seq_done\":%s,\"streak\":%lld,\"backoff_ms\":%lld,\"gave_up\":%s,"
                       "\"failed\":%s",
                       (unsigned long long)c->instance, (long long)c->start_count,
                       (long long)c->restart_count, c->seq_done ? "true" : "false",
                       (long long)c->streak, (long long)c->backoff_ms,
                       c->ph == SUP_CTR_GAVE_UP ? "true" : "false",
                       c->ph == SUP_CTR_FAILED ? "true" : "false");
        if (c->has_exit)
            pod_buf_printf(&b, ",\"exit_code\":%lld", (long long)c->exit_code);
        if (c->rerun_ready) /* only when set: older readers and files stay as they were */
            pod_buf_adds(&b, ",\"rerun_ready\":true");
        /* likewise: a pending restart (backoff) of a judged exit or failed start */
        int64_t rat = c->ph == SUP_CTR_BACKOFF    ? c->restart_at_mono_ms
                      : c->ph == SUP_CTR_ADOPTING ? c->saved_restart_at_mono_ms
                                                  : NEVER;
        if (rat != NEVER)
            pod_buf_printf(&b, ",\"restart_at_mono_ms\":%lld", (long long)rat);
        /* likewise, only while its startup is pending: when it started / its start was issued */
        int64_t sm = c->ph == SUP_CTR_STARTING   ? c->running_since_mono_ms
                     : c->ph == SUP_CTR_ADOPTING ? c->saved_started_mono_ms
                                                 : NEVER;
        int64_t cm = c->ph == SUP_CTR_CREATING && c->create_deadline_mono_ms != NEVER
                         ? c->create_deadline_mono_ms - CREATE_TIMEOUT_MS
                     : c->ph == SUP_CTR_ADOPTING ? c->saved_created_mono_ms
                                                 : NEVER;
        if (sm != NEVER)
            pod_buf_printf(&b, ",\"started_mono_ms\":%lld", (long long)sm);
        else if (cm != NEVER)
            pod_buf_printf(&b, ",\"created_mono_ms\":%lld", (long long)cm);
        /* likewise; for the first run !seq_done says it (and is all older versions know) */
        if (c->seq_done && (c->ph == SUP_CTR_CREATING || c->ph == SUP_CTR_STARTING ||
                            (c->ph == SUP_CTR_ADOPTING && c->startup_pending)))
            pod_buf_adds(&b, ",\"startup_pending\":true");
        pod_buf_adds(&b, ",\"failures_mono_ms\":[");
        for (size_t k = 0; k < c->n_fail; k++)
            pod_buf_printf(&b, k ? ",%lld" : "%lld", (long long)c->fail_mono_ms[k]);
        pod_buf_adds(&b, "]}");
    }
    pod_buf_adds(&b, "]}");
    return pod_buf_take(&b);
}

static int get_int(json_t *o, const char *key, long long min, long long max, long long *out)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return -1;
    *out = json_integer_value(v);
    return 0;
}

int sup_restore(struct sup *s, const char *json, struct pod_err *err)
{
    json_error_t je;
    json_t *root = json_loads(json, 0, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return pod_err_set(err, POD_E_INVALID, 0, "supervisor state: not a JSON object");
    }
    int rc = -1;
    long long v = 0;
    json_t *ph = json_object_get(root, "phase");
    json_t *arr = json_object_get(root, "containers");
    enum sup_pod_phase phase = SUP_POD_CREATED;
    bool found = false;
    if (!json_is_string(ph) || !json_is_array(arr)) {
        pod_err_set(err, POD_E_INVALID, 0, "supervisor state: missing phase or containers");
        goto out;
    }
    for (int p = 0; p <= SUP_POD_EXITED; p++)
        if (strcmp(json_string_value(ph), sup_pod_phase_name((enum sup_pod_phase)p)) == 0) {
            phase = (enum sup_pod_phase)p;
            found = true;
        }
    if (!found || json_array_size(arr) != s->n) {
        pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad phase or container count");
        goto out;
    }
    if (get_int(root, "next_tag", 1, INT64_MAX, &v) < 0) {
        pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad next_tag");
        goto out;
    }
    s->next_tag = v > 0 ? (uint64_t)v : 1;
    for (size_t i = 0; i < s->n; i++) {
        json_t *o = json_array_get(arr, i);
        json_t *nm = json_object_get(o, "name");
        if (!json_is_object(o) || !json_is_string(nm) ||
            strcmp(json_string_value(nm), ctr_spec(s, i)->name ? ctr_spec(s, i)->name : "") != 0) {
            pod_err_set(err, POD_E_INVALID, 0, "supervisor state: container %zu does not match", i);
            goto out;
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        json_t *o = json_array_get(arr, i);
        struct ctr *c = &s->c[i];
        ctr_init(c);
        long long inst = 0, sc_ = 0, rc_ = 0, streak = 0, bo = 0, code = 0;
        if (get_int(o, "instance", 0, INT64_MAX, &inst) < 0 ||
            get_int(o, "start_count", 0, UINT32_MAX, &sc_) < 0 ||
            get_int(o, "restart_count", 0, UINT32_MAX, &rc_) < 0 ||
            get_int(o, "streak", 0, UINT32_MAX, &streak) < 0 ||
            get_int(o, "backoff_ms", 0, INT64_MAX, &bo) < 0 ||
            get_int(o, "exit_code", -1000, 1000, &code) < 0) {
            pod_err_set(err, POD_E_INVALID, 0, "supervisor state: bad field in container %zu", i);
            goto out;
        }
        c->instance = (uint64_t)inst;
        c->start_count = (unsigned)sc_;
        c->restart_count = (unsigned)rc_;
        c->streak = (unsigned)streak;
        c->backoff_ms = bo;
        c->seq_done = json_is_true(json_object_get(o, "seq_done"));
        if (json_object_get(o, "exit_code")) {
            c->has_exit = true;
            c->exit_code = (int)code;
        }
        json_t *f = json_object_get(o, "failures_mono_ms");
        for (size_t k = 0; json_is_array(f) && k < json_array_size(f) && k < GIVEUP_RING; k++) {
            json_t *t = json_array_get(f, k);
            if (json_is_integer(t))
                c->fail_mono_ms[c->n_fail++] = json_integer_value(t);
        }
        if (json_is_true(json_object_get(o, "gave_up"))) {
            c->ph = SUP_CTR_GAVE_UP;
            c->gave_up = true;
        } else if (json_is_true(json_object_get(o, "failed"))) {
            c->ph = SUP_CTR_FAILED;
        } else if (phase == SUP_POD_STARTING || phase == SUP_POD_RUNNING ||
                   phase == SUP_POD_STOPPING) {
            c->ph = SUP_CTR_ADOPTING;
            /* absent in files of older versions: false, the adopted instance counts by its
             * own readiness as it did then */
            c->rerun_ready =
                phase != SUP_POD_STOPPING && json_is_true(json_object_get(o, "rerun_ready"));
            /* absent in older files: an exit of this instance counts as after its startup,
             * as it did then */
            c->startup_pending = c->seq_done && json_is_true(json_object_get(o, "startup_pending"));
            /* absent in older files: a saved exit code says "judged" for an exited instance */
            long long rat = 0;
            if (json_object_get(o, "restart_at_mono_ms") &&
                get_int(o, "restart_at_mono_ms", INT64_MIN, INT64_MAX - 1, &rat) == 0)
                c->saved_restart_at_mono_ms = rat;
            if (json_object_get(o, "started_mono_ms") &&
                get_int(o, "started_mono_ms", INT64_MIN, INT64_MAX - 1, &rat) == 0)
                c->saved_started_mono_ms = rat;
            if (json_object_get(o, "created_mono_ms") &&
                get_int(o, "created_mono_ms", INT64_MIN, INT64_MAX - 1, &rat) == 0)
                c->saved_created_mono_ms = rat;
        } else {
            c->ph = c->start_count ? SUP_CTR_EXITED : SUP_CTR_WAITING;
        }
    }
    s->phase = phase;
    status_compute(s, &s->st);
    rc = 0;
out:
    json_decref(root);
    return rc;
}
