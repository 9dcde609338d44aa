/* SPDX-License-Identifier: MIT */
/* simrun_int.h - what the files of the scenario runner share (sim/simrun*.c only): the state of
 * one run (struct run) and the functions one file calls in another.
 *   simrun.c        spec loading, the daemon's life, user actions, explore, the loop, the trace
 *   simrun_fs.c     the file-system wrapper: a dead daemon writes nothing, crash mid-rotation
 *   simrun_check.c  the invariants after every step, the log accounting, the expectations
 */
#ifndef POD_SIM_SIMRUN_INT_H
#define POD_SIM_SIMRUN_INT_H

#include "simrun.h"

#include "backend_sim.h"
#include "clk_fake.h"
#include "fs_mem.h"
#include "pod/clk.h"
#include "pod/drv.h"
#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/spec.h"
#include "pod/sup.h"

#define POD_DIR "pod"
#define POD_NAME "simpod"
#define LIVELOCK_STEPS 200000
#define STOP_BOUND_MS (10 * 60 * 1000)
/* A requested restart (rerun, signal, config change) may come this long after the request
 * (plus the config debounce): a graceful stop of the old instance comes first. */
#define EXCUSE_MS 60000

struct rec {
    int64_t t;
    char subject[24];
    char event[24];
    char *details;
};

struct disk_win {
    int64_t at;
    bool full; /* true: start of a disk-full window, false: its end */
};

struct crash_rot {
    uint64_t nth_lo, nth_hi;
    unsigned step;
};

/* The file-system wrapper: crash-during-rotation and "the daemon is dead" failures. */
struct simfs {
    struct fs inner;
    bool dead;     /* every call fails with EIO (the daemon process is gone) */
    bool crashed;  /* the crash point was reached: the loop must kill the daemon */
    int countdown; /* >0: calls left before the crash */
    uint64_t rotations;
    struct crash_rot *cr;
    size_t n_cr;
    unsigned rot_crashes;
};

struct cstate {
    unsigned starts_seen;
    bool excused;           /* the next start was asked for (pod start, rerun, config, signal) */
    int64_t excused_until;  /* ... and every start until then (debounce, stop of a rerun) */
    uint64_t prev_instance; /* the instance before the latest start */
    uint64_t sup_seen_run;  /* last instance the supervisor reported running */
    unsigned prev_failures;
    uint64_t lossy[2];            /* log lines may be missing: dropped / crash with backlog */
    uint64_t rot_total[2];        /* rotations over all daemon lifetimes */
    unsigned after_stop;          /* instances that ran or could still start after `pod stopped` */
    uint64_t after_stop_instance; /* the last one counted */
    unsigned max_failures;        /* the longest backoff streak seen (sweep) */
    bool ever_gave_up;            /* the supervisor gave up on it at some point (sweep) */
};

struct run {
    const struct scn *scn;
    struct sim_opts o;
    struct sim_result *res;
    struct pod_spec *spec;
    uint64_t seed;
    struct fs_mem *mem;
    struct simfs sfs;
    struct clk_fake clk;
    struct backend_sim *bs;
    struct drv *drv;
    bool up;
    int64_t restart_at;
    int64_t end_ms;
    struct scn_action *acts; /* scenario + explore actions, sorted */
    size_t n_acts, next_act;
    struct disk_win *disk;
    size_t n_disk, next_disk;
    struct sim_swarm swarm;
    bool have_swarm;
    int64_t heal_ms, final_stop_ms;
    bool snapped; /* sweep: the end state was taken (at final_stop_ms) */
    struct rec *recs;
    size_t n_recs, cap_recs;
    struct cstate *cs;
    struct pod_buf report;
    bool disk_full_now;
    bool restarted_now; /* a daemon (re)started in this step: its state may be stale (a state
                           file write fails while the disk is full) */
    const struct scn_action **deferred; /* requests that came while no daemon ran */
    size_t n_deferred;
};

/* simrun.c: one trace record; a trace line of the runner itself; an invariant violation. */
void simrun_record(struct run *r, int64_t t, const char *subject, const char *event,
                   const char *details);
void simrun_note(struct run *r, const char *subject, const char *event, const char *fmt, ...)
    POD_PRINTF(4, 5);
void simrun_violation(struct run *r, const char *fmt, ...) POD_PRINTF(2, 3);

/* simrun_fs.c: the wrapper's ops (self = struct simfs). */
extern const struct fs_ops simrun_fs_ops;

/* simrun_check.c */
void simrun_check_step(struct run *r);    /* the invariants after every step */
void simrun_check_logs(struct run *r);    /* every line handed to a daemon is in the logs */
void simrun_check_expects(struct run *r); /* the scenario's expectations, at the end */
/* sweep: the end state at the final stop, compared with the clean run's (o.sweep_ref) */
void simrun_check_sweep(struct run *r);

#endif
