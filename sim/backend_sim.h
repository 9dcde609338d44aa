/* SPDX-License-Identifier: MIT */
/* backend_sim.h - the `sim` container backend: simulated containers scripted by a scenario.
 *
 * Implements struct backend_ops over a fake clock.  Containers start after a latency, exit
 * after a scripted time with a scripted code, write numbered lines on stdout/stderr, answer
 * probes pass/fail/hang, and podman itself can be made to fail, hang or be slow and to lose or
 * duplicate events (scenario `fault` lines, or random "swarm" probabilities in explore mode).
 * The backend outlives a daemon crash (it models podman and the containers, which keep running):
 * backend_sim_daemon_down() drops what only the dead daemon could have received.
 *
 * Output path model (SPEC.md section 10): with an fd holder (the default) the read ends of the
 * containers' pipes survive a daemon crash; while no daemon reads, output accumulates in the
 * pipe up to SIM_PIPE_CAPACITY bytes and then the container's writes block (nothing is lost).
 * Without a holder (`output-path direct`), podman passthrough hands the daemon's own pipe to
 * the container: while the daemon is down writes fail with EPIPE (lines lost, counted), and an
 * instance started by a dead daemon stays without a reader for the rest of its life.
 * Nothing here sleeps or reads a real clock.  Ownership: backend_sim_free releases everything;
 * the scenario and spec are borrowed for the backend's life.
 */
#ifndef POD_SIM_BACKEND_SIM_H
#define POD_SIM_BACKEND_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pod/backend.h"
#include "pod/clk.h"
#include "pod/spec.h"
#include "clk_fake.h"
#include "fs_mem.h"
#include "scn.h"

#define SIM_PIPE_CAPACITY 65536

/* Random fault probabilities (per mille) for explore mode; zero = none. */
struct sim_swarm {
    unsigned call_fail[SCN_OP_COUNT_];
    unsigned call_hang[SCN_OP_COUNT_];
    unsigned call_slow[SCN_OP_COUNT_];
    unsigned call_fail_async[SCN_OP_COUNT_]; /* pod-create, stop, kill, remove, cancel */
    int64_t slow_max_ms;
    unsigned ev_lose, ev_dup;
    int64_t heal_ms; /* no random fault at or after this time */
};

/* One line of the backend's own trace (faults, signals received, ...). */
typedef void sim_trace_fn(void *self, int64_t mono_ms, const char *ctr, const char *event,
                          const char *details);

struct backend_sim_cfg {
    const struct scn *scn;
    const struct pod_spec *spec;
    struct clk_fake *clk;
    uint64_t seed;
    const struct sim_swarm *swarm; /* NULL: only the scenario's faults */
    sim_trace_fn *trace;
    void *trace_self;
    /* podsim sweep: the sweep_nth podman call (1-based, counted over every op that can fail:
     * start, stop, kill, remove, probe, cancel, inspect, pod-create) fails (SCN_F_FAIL) or
     * hangs (SCN_F_HANG) whatever the scenario's faults say; 0 = no such fault. */
    uint64_t sweep_nth;
    enum scn_fault_kind sweep_kind;
};

/* What happened to one instance's output on one stream (for the no-line-lost check). */
struct sim_out_acct {
    uint64_t instance;
    uint64_t emitted;   /* lines the container wrote (seq 1..emitted) */
    uint64_t delivered; /* lines handed to a daemon (seq 1..delivered, in order) */
    uint64_t epipe;     /* lines whose write failed (no reader: output-path direct) */
    bool partial;       /* an unterminated last line was written (and delivered) */
    int64_t blocked_ms; /* time the writer spent blocked on a full pipe */
};

/* Ground truth about one container, for invariants. */
struct sim_ctr_obs {
    uint64_t instance; /* current/last instance, 0 = never created */
    bool exists, running, starting;
    unsigned starts; /* ctr_start calls accepted */
    unsigned runs;   /* instances that reached running */
    unsigned exits;
    int last_exit_code;
    bool last_exit_voluntary; /* exited on its own (not stop/kill/remove) */
    int64_t last_exit_ms;
    int64_t last_start_ms;                     /* when the current/last instance began running */
    int64_t start_call_ms, prev_start_call_ms; /* the last two accepted ctr_start calls, -1 =
                                                  none */
    unsigned signals;                          /* non-TERM/KILL signals delivered while running */
    unsigned overlaps;                         /* ctr_start while the previous instance still ran */
    unsigned probe_overlaps; /* a probe (or signal command) started while an earlier run of the
                                same role and instance still ran (a cancel not yet done) */
};

struct backend_sim;

struct backend_sim *backend_sim_new(const struct backend_sim_cfg *cfg);
void backend_sim_free(struct backend_sim *b);
struct backend backend_sim_backend(struct backend_sim *b);
extern const struct backend_ops backend_sim_ops;

/* The daemon died: queued events are dropped, in-flight exec clients die (the probe process
 * inside the container is gone with its session), output stays in the pipes (holder) or its
 * readers are gone (direct). */
void backend_sim_daemon_down(struct backend_sim *b);
void backend_sim_daemon_up(struct backend_sim *b);
/* The pod's infra container dies (a host event): the containers keep running (in the dead
 * network namespace), every later start in the pod fails until pod_create makes the pod anew,
 * and the daemon is told (BACKEND_EV_INFRA_DOWN), again after a failed start while it was
 * down and after a daemon restart, as the podman backend's infra watch does (SPEC.md 8.11). */
void backend_sim_infra_down(struct backend_sim *b);
/* Advances the containers while no daemon runs (events are discarded). */
void backend_sim_idle(struct backend_sim *b);

const struct sim_ctr_obs *backend_sim_obs(const struct backend_sim *b, size_t ctr);
/* Output accounting of ctr/stream: *n records, oldest instance first. */
const struct sim_out_acct *backend_sim_out(const struct backend_sim *b, size_t ctr, int stream,
                                           size_t *n);
/* Fault/coverage counters. */
struct sim_counters {
    unsigned faults_fired, events_lost, events_dup, probes_hung, probes_cancelled, pipe_blocked,
        epipe_lines;
    uint64_t calls;       /* podman calls made (the sweep's count) */
    int64_t sweep_at_ms;  /* when the sweep's call came, -1 = not (yet) */
    enum scn_op sweep_op; /* ... which op it was */
    size_t sweep_ctr;     /* ... of which container (SIZE_MAX: the pod) */
};
struct sim_counters backend_sim_counters(const struct backend_sim *b);

/* The deterministic text of line `seq` of an instance's stream (without newline), e.g.
 * "web stdout i3 n000042 xxxx"; bytes = total length incl. the newline. */
size_t sim_line_text(char *buf, size_t cap, const char *ctr, int stream, uint64_t instance,
                     uint64_t seq, unsigned bytes);
/* Parses the "i<inst> n<seq>" tokens back out of a log message; false when absent. */
bool sim_line_parse(const char *msg, size_t len, const char *ctr, int stream, uint64_t *instance,
                    uint64_t *seq);

#endif
