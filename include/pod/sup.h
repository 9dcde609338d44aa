/* SPDX-License-Identifier: MIT */
/* sup.h - the supervisor: a pure, table-driven state machine per container and per pod.
 *
 * It owns every decision about containers and the pod: the startup order, restarts and
 * backoff, probes and their thresholds, the stop tiers and their deadlines (SIGKILL, "gone"),
 * what to do when a backend call failed (SUP_EV_CALL_FAILED: retry, escalate, count it as a
 * failed start or an UNKNOWN probe result), and which probe results count (the tag check).
 * It never performs I/O, never reads a clock, never sleeps, forks or includes OS headers, and
 * includes only spec, event, err and util: never backend.h, drv.h, logw.h, fs.h or sim/.  The
 * driver (daemon loop on podman, or the simulator) feeds it events together with `now`
 * (monotonic ms) and carries out the actions it returns.  Timers are internal: the driver asks
 * sup_next_deadline() and calls sup_step() with SUP_EV_TICK when that time has come.
 * Randomness (backoff jitter) comes from a seeded RNG inside struct sup, so a run is a pure
 * function of (spec, seed, event sequence).  It reads the spec as the validator resolved it
 * (every default filled in; none is re-derived here).
 * Ownership: sup borrows the spec for its whole life; actions are valid until the next
 * sup_step() call on the same struct sup; sup_free(NULL) is fine.
 */
#ifndef POD_SUP_H
#define POD_SUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/event.h"
#include "pod/spec.h"

/* ------------------------------------------------------------------ actions (sup -> driver) */

enum sup_action_type {
    SUP_ACT_POD_CREATE = 1, /* backend pod_create: only after BACKEND_EV_INFRA_DOWN, to make the
                               pod anew (SPEC.md 8.11); the CLI creates the pod */
    SUP_ACT_CTR_START,      /* backend ctr_start(ctr, instance) */
    SUP_ACT_CTR_STOP,       /* backend ctr_stop(ctr, instance, timeout_ms) */
    SUP_ACT_CTR_KILL,       /* backend ctr_kill(ctr, instance, sig) */
    SUP_ACT_CTR_REMOVE,     /* backend ctr_remove(ctr): only for a container adopted created but
                               never run (a start in flight, SPEC.md 8.9) */
    SUP_ACT_PROBE,          /* backend probe(req) — exec / tcp / http, startup/readiness/
                               liveness probes and signal commands */
    SUP_ACT_CANCEL,         /* backend cancel(tag) */
    SUP_ACT_SIGNAL,         /* backend ctr_kill(ctr, instance, sig) for a config/user signal */
    SUP_ACT_STATUS,         /* something visible changed: rewrite .pod.status */
    SUP_ACT_NOTE,           /* a human-readable line for the daemon log / trace (text) */
    SUP_ACT_POD_STOPPED,    /* stop/kill finished: nothing of the pod is running */
};

enum sup_probe_role {
    SUP_PROBE_STARTUP = 0,
    SUP_PROBE_READINESS,
    SUP_PROBE_LIVENESS,
    SUP_PROBE_SIGNAL_CMD
};

/* ------------------------------------------------------------------ events (driver -> sup) */

enum sup_event_type {
    SUP_EV_TICK = 1,       /* a deadline returned by sup_next_deadline() has passed */
    SUP_EV_START_POD,      /* `pod start` / `pod run` */
    SUP_EV_STOP_POD,       /* graceful stop of the whole pod (`pod stop`, TERM) */
    SUP_EV_KILL_POD,       /* kill the whole pod (`pod kill`, USR2) */
    SUP_EV_BACKEND,        /* a backend event (ev.backend) */
    SUP_EV_CONFIG_CHANGED, /* files of config volume `volume` changed (see cfg_* fields) */
    SUP_EV_RELOAD_CONFIGS, /* `pod reload-configs NAME...`: as a completed change burst, no
                              debounce */
    SUP_EV_SIGNAL,         /* `pod signal [ctr]`: ctr = SIZE_MAX for all */
    SUP_EV_RERUN,          /* `pod rerun ctr`: cycle one container regardless of policy */
    SUP_EV_ADOPT,          /* after a daemon restart: what inspect says about ctr.  After
                              sup_restore() the driver sends one ADOPT per container; until
                              then nothing is started for that container.  A container may stay
                              adopting after its ADOPT (created but never run: a start in
                              flight, or its removal not confirmed): the driver sends another
                              ADOPT every second while sup_status() shows it adopting. */
    SUP_EV_CALL_FAILED,    /* the backend call for an action failed, at once or later
                              (BACKEND_EV_CALL_FAILED): ev.call */
};

/* CALL_FAILED: the backend call the driver made to carry out one action returned an error, or
 * returned 0 and failed later (the backend's BACKEND_EV_CALL_FAILED; nothing was done either
 * way).  It names the action, not the backend function.  The supervisor
 * decides what follows (SPEC.md 8.8, 10.1): CTR_START -> a failed start (backoff); PROBE -> an
 * UNKNOWN result; CTR_STOP / CTR_KILL -> retried after 1 s until the exit or the next
 * escalation; CANCEL -> sent again after 1 s .. 30 s until the request's end is confirmed;
 * CTR_REMOVE (of a start in flight) -> sent again after 1 s; SIGNAL, POD_CREATE -> a NOTE, not
 * retried. */
struct sup_call_failure {
    enum sup_action_type action; /* CTR_START, CTR_STOP, CTR_KILL, SIGNAL, PROBE, CANCEL, ... */
    size_t ctr;                  /* SIZE_MAX: the pod */
    uint64_t instance;           /* the action's instance */
    uint64_t tag;                /* PROBE, CANCEL: the request's tag */
    int sig;                     /* CTR_KILL, SIGNAL */
    char msg[160];               /* the backend's error */
};

struct sup_event {
    enum sup_event_type type;
    size_t ctr;                     /* SIGNAL, RERUN, ADOPT */
    struct backend_event backend;   /* BACKEND */
    size_t volume;                  /* CONFIG_CHANGED, RELOAD_CONFIGS: spec volume index */
    bool cfg_checksum_file;         /* CONFIG_CHANGED: the change is config/<name>.txt itself */
    bool cfg_has_checksum_file;     /* CONFIG_CHANGED: config/<name>.txt exists (cluster-managed) */
    struct backend_ctr_state adopt; /* ADOPT */
    int64_t wall_ns;                /* ADOPT: the wall clock (Unix ns) at now_mono_ms, to place
                                       inspect's started/finished times on the monotonic axis
                                       (0 = unknown: an exit counts as happening at now) */
    struct sup_call_failure call;   /* CALL_FAILED */
};

struct sup_action {
    enum sup_action_type type;
    size_t ctr;
    uint64_t instance;
    int64_t timeout_ms;             /* CTR_STOP */
    int sig;                        /* CTR_KILL, SIGNAL: Linux signal number */
    enum sup_probe_role role;       /* PROBE, CANCEL */
    struct backend_probe_req probe; /* PROBE (argv/host/path borrowed from the spec) */
    uint64_t tag;                   /* PROBE, CANCEL */
    int level;                      /* NOTE: POD_LOG_* */
    char text[200];                 /* NOTE */
};

struct sup_actions {
    struct sup_action *v;
    size_t n, cap;
};
void sup_actions_clear(struct sup_actions *a);
void sup_actions_free(struct sup_actions *a);

/* ------------------------------------------------------------------ status (for .pod.status) */

enum sup_pod_phase {
    SUP_POD_CREATED = 0,
    SUP_POD_STARTING,
    SUP_POD_RUNNING,
    SUP_POD_STOPPING,
    SUP_POD_EXITED
};

/* A container's phase (SPEC.md 8.2); sup_ctr_phase_name() gives the word the status file and
 * the trace print. */
enum sup_ctr_phase {
    SUP_CTR_WAITING = 0, /* not started yet (pod created, or waiting for its turn) */
    SUP_CTR_CREATING,    /* CTR_START issued, waiting for STARTED / START_FAILED */
    SUP_CTR_STARTING,    /* running, startup not yet completed */
    SUP_CTR_RUNNING,     /* started */
    SUP_CTR_STOPPING,    /* CTR_STOP / CTR_KILL issued, waiting for its exit */
    SUP_CTR_BACKOFF,     /* waiting to restart after a failure */
    SUP_CTR_EXITED,      /* down; restarted only by interval timer / config / signal / rerun */
    SUP_CTR_FAILED,      /* failed start under `never`: not retried (rerun only) */
    SUP_CTR_GAVE_UP,     /* give-up budget exhausted (rerun only) */
    SUP_CTR_ADOPTING,    /* after sup_restore: waiting for SUP_EV_ADOPT */
    SUP_CTR__N           /* the number of phases, not a phase */
};

struct sup_ctr_status {
    enum sup_ctr_phase phase;
    uint64_t instance;
    unsigned start_count; /* persisted across daemon restarts */
    unsigned restart_count;
    bool running, started, ready, live;
    bool has_exit_code;
    int exit_code;
    int64_t backoff_ms;         /* current backoff delay (0 = none) */
    int64_t next_start_mono_ms; /* when waiting in backoff, else 0 */
    unsigned consecutive_failures;
    bool gave_up;
    bool rerun; /* a scheduled re-run of a completed container: counts as ready for the pod
                   (SPEC.md 8.6); persisted by sup_save */
};

struct sup_status {
    enum sup_pod_phase phase;
    bool ready;              /* pod readiness: the pod is running and every container is running and
                                ready, or exited 0 after a successful start, or is a scheduled re-run of
                                such a completed container that has not failed (SPEC.md 8.6) */
    bool healthy;            /* every container is live and nothing gave up */
    unsigned infra_restarts; /* pod restarts after its infra container died (SPEC.md 8.11);
                                persisted by sup_save */
    size_t n;
    struct sup_ctr_status *ctr; /* n entries, owned by struct sup */
};

/* ------------------------------------------------------------------ API */

/* A container adopted created but never run (a start of the dead daemon may be in flight) is
 * waited for this long while the pod runs, then removed (SPEC.md 8.9). */
#define SUP_ADOPT_WAIT_MS 30000

struct sup;

struct sup *sup_new(const struct pod_spec *spec, uint64_t seed);
void sup_free(struct sup *s);
/* Feeds one event; appends the resulting actions to out (not cleared). */
void sup_step(struct sup *s, const struct sup_event *ev, int64_t now_mono_ms,
              struct sup_actions *out);
/* Earliest internal deadline (mono ms), or INT64_MAX. */
int64_t sup_next_deadline(const struct sup *s);
const struct sup_status *sup_status(const struct sup *s);
/* The probe or signal command in flight with this tag: its container and role (the driver
 * labels a result with them).  False when none is: a result for it will be ignored. */
bool sup_request_in_flight(const struct sup *s, uint64_t tag, size_t *ctr,
                           enum sup_probe_role *role);
const char *sup_pod_phase_name(enum sup_pod_phase p);
/* "waiting", "creating", ... ("?" for a value out of range). */
const char *sup_ctr_phase_name(enum sup_ctr_phase p);
/* Stable lower-case names for traces ("ctr-start", "probe", ... / "startup", "readiness", ...). */
const char *sup_action_type_name(enum sup_action_type t);
const char *sup_probe_role_name(enum sup_probe_role r);
const char *sup_event_type_name(enum sup_event_type t);
/* The CALL_FAILED event for action a (its ctr, instance, tag, sig) whose call failed with msg. */
struct sup_event sup_call_failed_event(const struct sup_action *a, const char *msg);
/* Linux signal number of a name as the spec stores it ("HUP"; "SIGHUP" and "1" are accepted
 * too), or -1 when unknown.  Pure table, no <signal.h>. */
int sup_signal_number(const char *name);

/* Persisted state (start counts, backoff, instance numbers, the re-run marker, a pending startup
 * of an instance after the first) so a restarted daemon re-adopts its containers: serialise to
 * a JSON text (new string) / restore into a fresh sup (same spec; the container names must
 * match), then feed SUP_EV_ADOPT for every container.  sup_restore also reads the files of
 * older versions (a missing key has its old meaning). */
char *sup_save(const struct sup *s);
int sup_restore(struct sup *s, const char *json, struct pod_err *err) POD_WUR;

#endif
