/* SPDX-License-Identifier: MIT */
/* life.h - the pod's lifecycle actions on the command line (module life, src/life/; SPEC.md 7):
 * create, start, run, rerun, stop, kill, rm, signal, reload-configs, ps, readiness.
 *
 * The command line decides from facts (is the supervisor alive: the lock; what podman has: the
 * pod and our containers; what the pod directory holds: .<b>.status, .<b>.state, .<b>.hostif)
 * and then acts: podman calls through rt_podman_run (argv arrays, deadlines, the pod directory
 * as cwd), the supervisor through spawn.h (start, stop and wait) and the control socket
 * (ctl.h).  Everything here blocks (it is the command line); nothing runs in the daemon.
 * The decisions are pure functions of struct life_facts (life_plan_*), tested without podman.
 * Output: the answer on e->out (ps only), diagnostics through pod_log ("[LEVEL] message").
 * Exit codes: 0 ok, 1 failed, 100 usage, 111 system (podman missing or broken).
 * Ownership: everything is borrowed for the call; results named *_free are the caller's.
 */
#ifndef POD_LIFE_H
#define POD_LIFE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "pod/err.h"
#include "pod/spec.h"

/* ------------------------------------------------------------------ the actions */

struct life_env {
    const struct pod_spec *spec;
    const char *exe;    /* absolute path of the pod executable */
    const char *dir;    /* its directory (absolute) */
    const char *name;   /* <b>: its base name (.<b>.status, .<b>.lock, ...) */
    const char *podman; /* NULL: $POD_PODMAN, else "podman" */
    FILE *out;          /* the answer (ps) */
};

/* Parses the words after the action, runs it, returns the exit code. */
typedef int life_action_fn(const struct life_env *e, const char *action, int argc, char **argv);
life_action_fn life_create, life_start, life_run, life_rerun, life_stop, life_kill, life_rm,
    life_signal, life_reload_configs, life_ps, life_readiness;

/* ------------------------------------------------------------------ command lines (pure) */

struct life_args {
    bool kill;           /* -k|--kill (rm, rerun) */
    bool json;           /* --json (ps) */
    const char *host_if; /* --host-interface=IP (create, run, rerun); NULL: not given */
    char **names;        /* containers (rerun, signal) or configs (reload-configs); strv */
};

/* The words after action.  Usage errors (POD_E_USAGE, exit 100): an unknown option, a value
 * that is not a dotted IPv4 address, `-k` or `--host-interface` together with container names
 * (rerun), no config (reload-configs), any word where none is taken.  Unknown container or
 * config names are not a usage error (life_check_names). */
int life_parse(const char *action, int argc, char **argv, struct life_args *a,
               struct pod_err *err) POD_WUR;
void life_args_free(struct life_args *a);
/* Every name must be a container (configs false) or a config volume (true) of the spec:
 * 0, or -1 with POD_E_NOTFOUND and a message listing the known names. */
int life_check_names(const struct pod_spec *s, char *const *names, bool configs,
                     struct pod_err *err) POD_WUR;

/* ------------------------------------------------------------------ decisions (pure) */

/* What the command line knows before it acts.  -1 = not looked at (podman not asked). */
struct life_facts {
    bool supervisor;         /* .<b>.lock is held: holder and daemon are alive */
    bool traces;             /* any of .<b>.status/.state/.lock/.hostif exists */
    const char *status_word; /* `status:` of .<b>.status ("" when none) */
    bool state_live;         /* .<b>.state was saved in a phase other than exited */
    int pod_exists;          /* podman pod exists */
    int running;             /* our containers running now */
    int containers;          /* our containers that exist (any state) */
    const char *stored_if;   /* the host interface the pod was created with ("" = none) */
    const char *want_if;     /* --host-interface given (NULL: not given) */
};

enum life_up_plan {
    LIFE_UP_KEEP = 1, /* the supervisor runs: nothing to create (run: ask it to start) */
    LIFE_UP_ASK,      /* podman must be asked first (pod_exists/running/containers unknown) */
    LIFE_UP_ADOPT,    /* no supervisor, the pod's containers run: a new one re-adopts them */
    LIFE_UP_CREATE,   /* nothing of the pod exists: create it */
    LIFE_UP_RECREATE, /* leftovers without a supervisor (a bad state): destroy, then create */
};
/* create (adopt false) or run (adopt true). */
enum life_up_plan life_plan_up(const struct life_facts *f, bool adopt);

enum life_down_plan {
    LIFE_DOWN_NOTHING = 1, /* never created, or already stopped/removed: exit 0, no podman */
    LIFE_DOWN_SUPERVISOR,  /* stop/kill through the supervisor, then make sure */
    LIFE_DOWN_DIRECT,      /* no supervisor but maybe containers: podman directly */
};
/* stop/kill (rm false) or rm (true). */
enum life_down_plan life_plan_down(const struct life_facts *f, bool rm);

/* How long `stop` (kill false) or `kill` waits for the supervisor: the SPEC 8.8 schedule of
 * the spec's containers plus LIFE_STOP_MARGIN_MS. */
#define LIFE_STOP_MARGIN_MS 10000
int64_t life_stop_budget_ms(const struct pod_spec *s, bool kill);

/* ------------------------------------------------------------------ ps (pure) */

/* The live status (the daemon's `status json` object, as text) -> ps text / ps --json text
 * (with "daemon": alive).  New string, NULL when json is malformed. */
char *life_ps_live(const char *json, bool as_json, int64_t now_wall_s);
/* Without a daemon: the status file's text (NULL: none) -> ps text / JSON with `daemon: dead`.
 * pod is "<name>-<version>" (for a pod without a status file).  New string. */
char *life_ps_dead(const char *status_text, const char *pod, bool as_json);

/* ------------------------------------------------------------------ files (pod directory) */

/* Rewrites .<name>.status to say `status: <word>` (and phase), `pid:` empty, `readiness: 0`,
 * `updated: <now>`, the rest unchanged; a missing file is written minimal (pod, podVersion,
 * the keys above, `containers:`).  tmp + rename. */
int life_status_mark(const struct pod_spec *s, const char *dir, const char *name, const char *word,
                     struct pod_err *err) POD_WUR;
/* The text life_status_mark writes for an existing status text (pure; fuzzed): the pod-level
 * status/phase/pid/readiness/healthy/updated lines rewritten, containers' running/ready 0.
 * New string. */
char *life_status_marked(const char *text, const char *word, long long now_wall_s);

#endif
