/* SPDX-License-Identifier: MIT */
/* sup_internal.h - what the files of the supervisor share (the .c files of src/sup only; never
 * included from outside src/sup): its state (struct sup, struct ctr), the per-step context, the
 * constants of SPEC.md 8, small readers of the resolved spec, and the functions one file calls
 * in another.  Like the rest of the supervisor it is pure: no I/O headers. */
#ifndef POD_SUP_INTERNAL_H
#define POD_SUP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/spec.h"
#include "pod/sup.h"
#include "pod/util.h"

/* ------------------------------------------------------------------ constants (SPEC.md 8) */

#define MIN_RESTART_MS 1000         /* s6's nextstart: two starts at least this far apart */
#define STOP_SLACK_MS 2000          /* after stop_timeout: sup sends SIGKILL itself */
#define KILL_GRACE_MS 5000          /* after SIGKILL: no EXITED -> considered gone */
#define CALL_RETRY_MS 1000          /* a failed stop/kill call is retried after this */
#define CREATE_TIMEOUT_MS 300000    /* CTR_START without STARTED/START_FAILED */
#define SIGNAL_CMD_TIMEOUT_MS 60000 /* signal command (exec) deadline */
#define UNKNOWN_LIMIT 3             /* consecutive UNKNOWN probe results = one failure */
#define CANCEL_ANSWER_MS 10000      /* a cancel without its EXEC_DONE this long is re-sent */
#define REMOVE_ANSWER_MS 10000      /* a removal inspect does not confirm this long is re-sent */
#define CANCEL_RETRY_MS 1000        /* a failed cancel is retried after this, doubling ... */
#define CANCEL_RETRY_MAX_MS 30000   /* ... up to this */
#define GIVEUP_RING 64              /* failure times remembered for the give-up budget */
#define SIG_KILL 9
#define NEVER INT64_MAX

/* ------------------------------------------------------------------ state */

/* The events of the container table (sup_table.c). */
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
    CE_STOP_FAILED,     /* the CTR_STOP call failed */
    CE_KILL_FAILED,     /* the CTR_KILL call failed */
    CE_RETRY_DUE,       /* time to retry the failed stop/kill call */
    CE__N
};

/* What to do when a stopping container has exited. */
/* AS_START_FAULT: podman did not answer a start (a fault of podman, not of the container). */
enum after_stop { AS_NONE = 0, AS_RESTART, AS_FAILED_START, AS_LIVENESS, AS_START_FAULT };

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

/* A probe attempt or signal command cancelled (CANCEL sent) whose end the backend has not
 * confirmed yet (its EXEC_DONE): no new one of that role starts meanwhile, so two runs never
 * coexist; the cancel is sent again while it fails or has no answer (SPEC.md 8.6). */
struct cancelling {
    uint64_t tag;             /* 0 = none */
    int64_t again_at_mono_ms; /* the next CANCEL of it (no answer, or a retry after a failure) */
    int64_t delay_ms;         /* the wait before the next retry after a failure */
    bool failed;              /* the last CANCEL failed (else it waits for an answer) */
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
    /* Adopting a container that is created but never ran: a start of the dead daemon may still
     * be in flight (SPEC.md 8.9).  Since when the ADOPTs say so (NEVER = they do not), and its
     * removal (CTR_REMOVE, sent again at remove_again_at_mono_ms) until inspect shows it gone;
     * under a kill, gone_at_mono_ms bounds the wait.  Cleared by the adoption. */
    int64_t inflight_since_mono_ms;
    bool removing, remove_failed;
    int64_t remove_again_at_mono_ms;
    bool has_exit;
    int exit_code;
    int pending_reload; /* 0, CE_RELOAD_SIGNAL or CE_RELOAD_CONFIG: applied once started */
    enum after_stop after;
    int64_t running_since_mono_ms;
    /* When the current (or last) instance was started: its CTR_START, or for an adopted one the
     * start inspect and the saved state say (NEVER = not known).  A restart after a failure
     * comes no sooner than MIN_RESTART_MS after it (SPEC.md 8.5). */
    int64_t last_start_mono_ms;
    int64_t create_deadline_mono_ms;
    int64_t startup_deadline_mono_ms;
    int64_t restart_at_mono_ms;
    int64_t kill_at_mono_ms, gone_at_mono_ms;
    /* A stop or kill whose call failed: repeated at retry_at_mono_ms (NEVER = none). */
    enum sup_action_type retry_action;
    int64_t retry_at_mono_ms;
    int64_t stable_since_mono_ms; /* started (and ready) since, -1 = not */
    /* backoff */
    unsigned streak; /* unplanned exits / failed starts since the last reset */
    int64_t backoff_ms;
    int64_t fail_mono_ms[GIVEUP_RING];
    size_t n_fail;
    bool gave_up;
    struct probe_rt pr[PR__N];
    struct cancelling cl[PR__N];
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
    unsigned infra_restarts; /* BACKEND_EV_INFRA_DOWN answered (SPEC.md 8.11) */
    bool infra_down_pending; /* INFRA_DOWN heard while containers were adopting: answered once
                                the last adoption is done (sup_infra_down_resume) */
    char infra_down_why[128];
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

/* ------------------------------------------------------------------ small readers */

static inline int64_t imin(int64_t a, int64_t b)
{
    return a < b ? a : b;
}

static inline int64_t imax(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

static inline const struct spec_container *ctr_spec(const struct sup *s, size_t i)
{
    return &s->spec->containers[i];
}

static inline bool is_init(const struct spec_container *c)
{
    return c->kind == SPEC_CTR_INIT;
}

/* Init containers always run to completion: their startup is an exit probe. */
static inline enum spec_probe_kind startup_kind(const struct spec_container *c)
{
    if (is_init(c))
        return SPEC_PROBE_EXIT;
    return c->startup.kind;
}

static inline bool probe_active(const struct spec_probe *p)
{
    return p->kind == SPEC_PROBE_EXEC || p->kind == SPEC_PROBE_TCP || p->kind == SPEC_PROBE_HTTP;
}

static inline const struct spec_probe *probe_of(const struct spec_container *c, int role)
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
static inline int64_t period_ms(const struct spec_probe *p)
{
    return (int64_t)p->period_s * 1000;
}

static inline int64_t attempt_timeout_ms(const struct spec_probe *p)
{
    return (int64_t)p->attempt_timeout_s * 1000;
}

static inline int64_t startup_timeout_ms(const struct spec_probe *p)
{
    return (int64_t)p->timeout_s * 1000;
}

static inline int64_t stop_timeout_ms(const struct spec_container *c)
{
    return (int64_t)c->stop_timeout_s * 1000;
}

static inline int64_t backoff_reset_ms(const struct spec_container *c)
{
    return (int64_t)c->backoff.reset_s * 1000;
}

static inline int64_t giveup_window_ms(const struct spec_container *c)
{
    return (int64_t)c->backoff.give_up_window_s * 1000;
}

static inline bool config_policy(const struct spec_container *c)
{
    return c->restart == SPEC_RESTART_ON_CONFIG || c->restart == SPEC_RESTART_ON_INTERVAL;
}

/* The process may be running (a new instance must not be started). */
static inline bool phase_may_run(enum sup_ctr_phase p)
{
    return p == SUP_CTR_CREATING || p == SUP_CTR_STARTING || p == SUP_CTR_RUNNING ||
           p == SUP_CTR_STOPPING || p == SUP_CTR_ADOPTING;
}

static inline bool pod_active(const struct sup *s)
{
    return s->phase == SUP_POD_STARTING || s->phase == SUP_POD_RUNNING;
}

/* ------------------------------------------------------------------ functions, by file */

/* sup.c */
struct sup_action *sup_act(struct step *x, enum sup_action_type t, size_t i);
void sup_note(struct step *x, int level, size_t i, const char *fmt, ...) POD_PRINTF(4, 5);
void sup_status_compute(const struct sup *s, struct sup_status *st);
void sup_ctr_init(struct ctr *c);

/* sup_probe.c */
void sup_probe_reset(struct probe_rt *p);
void sup_probe_cancel(struct step *x, size_t i, int role);
void sup_probes_cancel_all(struct step *x, size_t i);
void sup_probe_start(struct step *x, size_t i, int role);
void sup_signal_cmd_start(struct step *x, size_t i);
void sup_probes_schedule_running(struct step *x, size_t i, bool with_initial_delay);
bool sup_find_tag(const struct sup *s, uint64_t tag, size_t *ci, int *role);
void sup_probe_result(struct step *x, size_t i, int role, enum backend_result res);
void sup_probe_done(struct step *x, size_t i, uint64_t instance, uint64_t tag,
                    enum backend_result res);

/* sup_cancel.c */
void sup_cancel_begin(struct step *x, size_t i, int role, uint64_t tag);
bool sup_cancel_confirmed(struct step *x, size_t i, uint64_t tag);
void sup_cancel_failed(struct step *x, size_t i, uint64_t tag, const char *msg);
bool sup_cancel_due(struct step *x, size_t i);
int64_t sup_cancel_deadline(const struct ctr *c);
void sup_cancels_end(struct ctr *c);

/* sup_inflight.c */
enum adopt_flight {
    AF_NONE = 0, /* nothing in flight: adopt what inspect says */
    AF_WAIT,     /* still adopting: a start may be in flight, or its removal is not confirmed */
    AF_REMOVED,  /* removed: adopt it as missing */
};
enum adopt_flight sup_adopt_in_flight(struct step *x, size_t i, const struct backend_ctr_state *st);
void sup_adopt_remove_failed(struct step *x, size_t i, const char *msg);
void sup_adopt_flight_clear(struct ctr *c);
void sup_h_adopt_stop(struct step *x, size_t i, const struct ctr_event_arg *a);
void sup_h_adopt_kill(struct step *x, size_t i, const struct ctr_event_arg *a);
void sup_h_adopt_remove_again(struct step *x, size_t i, const struct ctr_event_arg *a);
void sup_h_adopt_gone(struct step *x, size_t i, const struct ctr_event_arg *a);

/* sup_ctr.c */
void sup_leave_up(struct ctr *c);
void sup_do_start(struct step *x, size_t i);
void sup_do_stop(struct step *x, size_t i, enum after_stop after);
void sup_do_kill(struct step *x, size_t i);
void sup_schedule_restart(struct step *x, size_t i, bool failure, const char *why);
void sup_failed_start(struct step *x, size_t i, const char *why);
/* A start podman failed (START_FAILED, no answer): retried with backoff whatever the policy. */
void sup_start_fault(struct step *x, size_t i, const char *why);
bool sup_policy_restarts(const struct spec_container *k, int code);
void sup_policy_exit(struct step *x, size_t i, int code, int64_t exit_mono_ms);
void sup_set_exit(struct ctr *c, const struct ctr_event_arg *a);
void sup_update_stable(struct step *x, size_t i);
bool sup_deliver_signal(struct step *x, size_t i, const char *why);
void sup_fan_out(struct step *x, size_t i);
void sup_start_scheduled_rerun(struct step *x, size_t i);

/* sup_table.c */
void sup_dispatch(struct step *x, size_t i, enum ctr_event e, const struct ctr_event_arg *a);

/* sup_pod.c */
void sup_advance_sequence(struct step *x);
void sup_pod_stop_advance(struct step *x);
void sup_ev_pod_start(struct step *x);
void sup_ev_pod_stop(struct step *x, bool kill);
void sup_ev_rerun(struct step *x, size_t i);
void sup_ev_infra_down(struct step *x, const char *why);
void sup_infra_down_resume(struct step *x);
void sup_ev_signal(struct step *x, size_t which);

/* sup_config.c */
void sup_cfg_fire(struct step *x, size_t v, const char *why);
bool sup_cfg_fireable(const struct cfg_burst *b);
void sup_ev_config_changed(struct step *x, const struct sup_event *ev);

/* sup_due.c */
void sup_process_due(struct step *x);

/* sup_adopt.c */
void sup_ev_adopt(struct step *x, const struct sup_event *ev);

#endif
