/* SPDX-License-Identifier: MIT */
/* simrun.h - one simulated run of a scenario: the discrete-event loop over a fake clock that
 * drives the real driver + supervisor + log writer against the sim backend and an in-memory
 * file system, records the trace, checks invariants after every step and evaluates the
 * scenario's expectations at the end.
 *
 * Nothing sleeps: the clock jumps to the next deadline (supervisor, driver, backend, scenario
 * action, disk fault window).  A run is a pure function of (scenario, seed, explore seed).
 * Ownership: sim_result_free releases what sim_run put into a struct sim_result.
 */
#ifndef POD_SIM_SIMRUN_H
#define POD_SIM_SIMRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/err.h"
#include "pod/util.h"
#include "scn.h"

enum sim_trace_fmt { SIM_TRACE_NONE = 0, SIM_TRACE_TEXT, SIM_TRACE_JSON };

struct sim_opts {
    bool seed_set;
    uint64_t seed; /* overrides the scenario's seed when seed_set */
    bool explore;  /* random fault schedule derived from explore_seed */
    uint64_t explore_seed;
    enum sim_trace_fmt fmt; /* what sim_result.trace holds */
    bool no_checks;         /* bench: skip per-step invariant checks */
    int64_t run_for_ms;     /* overrides the scenario's run-for when > 0 */
    const char *dump_dir;   /* when set: the simulated pod directory (.pod.status, log/...) is
                               copied there at the end of the run (podsim run --dump) */
    /* podsim sweep: the scenario, then SIM_SWEEP_SETTLE_MS more, the end state is compared
     * with sweep_ref (the clean run's; NULL in the clean run itself), then a stop that must end
     * the pod within 10 minutes.  Expectations are not evaluated (the fault changes counts). */
    bool sweep;
    uint64_t sweep_nth;             /* this podman call fails or hangs (0 = none: clean run) */
    enum scn_fault_kind sweep_kind; /* SCN_F_FAIL or SCN_F_HANG */
    const struct sim_ctr_end *sweep_ref;
};

#define SIM_SWEEP_SETTLE_MS (10 * 60 * 1000)

/* A container at the end of a sweep run's settle time (the moment of the final stop). */
struct sim_ctr_end {
    bool running;          /* the simulated podman's truth */
    int64_t running_since; /* when that instance began running */
    bool ever_gave_up;     /* the supervisor gave up on it at some point of the run */
    unsigned max_failures; /* the longest backoff streak of the run */
    bool failed_never;     /* `failed` under restart: never (a failed start is not retried,
                              SPEC 8.4: only `rerun` starts it again) */
};

struct sim_result {
    char *trace;         /* rendered trace (fmt), "" when SIM_TRACE_NONE */
    size_t n_events;     /* trace records */
    unsigned violations; /* invariant violations */
    unsigned failed_expects;
    char *report;   /* one line per violation / failed expectation */
    char *params;   /* explore: the derived fault parameters (one line) */
    int64_t sim_ms; /* simulated time covered */
    uint64_t steps; /* loop iterations */
    /* coverage ("sometimes") counters */
    char *dump_error; /* dump_dir: why the copy failed, NULL when it worked */
    unsigned cov_crashes, cov_faults, cov_lost, cov_dup, cov_backoff_cap, cov_gave_up,
        cov_probe_timeout, cov_rotations, cov_disk_full, cov_rotation_crash, cov_signals,
        cov_pipe_blocked;
    /* sweep */
    uint64_t calls;           /* podman calls of the run */
    int64_t sweep_at_ms;      /* when the swept call came (-1: never) */
    char sweep_call[48];      /* "start web", "inspect db", ... */
    struct sim_ctr_end *ends; /* one per container (sweep runs), owned */
    size_t n_ends;
};

/* Runs the scenario.  Returns -1 only when it cannot run at all (spec rejected, unknown
 * container in the scenario, unreadable pod-file): err says why as "file:line:col: msg".
 * Violations and failed expectations are results, not errors. */
int sim_run(const struct scn *scn, const struct sim_opts *o, struct sim_result *res,
            struct pod_err *err) POD_WUR;
void sim_result_free(struct sim_result *r);

#endif
