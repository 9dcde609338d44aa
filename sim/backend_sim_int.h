/* SPDX-License-Identifier: MIT */
/* backend_sim_int.h - what the files of the simulated podman share (sim/backend_sim*.c only):
 * its state (timed work items, containers, output generators, requests in flight, the event
 * queue) and the functions one file calls in another.
 *   backend_sim.c        the event queue, container state changes, the ops table, lifecycle
 *   backend_sim_faults.c the scenario's container rules and the injected faults
 *   backend_sim_out.c    container output: numbered lines, pipes, delivery on the flush grid
 */
#ifndef POD_SIM_BACKEND_SIM_INT_H
#define POD_SIM_BACKEND_SIM_INT_H

#include "backend_sim.h"

#include <stdarg.h>

#include "pod/util.h"

enum item_kind {
    IT_STARTED = 1,
    IT_START_FAILED,
    IT_EXIT,      /* scripted voluntary exit (code) */
    IT_TERM,      /* a (slow) stop's TERM arrives now */
    IT_STOP_EXIT, /* exit caused by TERM (code) */
    IT_KILL_EXIT, /* SIGKILL: exit 137 */
    IT_EXEC_DONE,
    IT_CALL_FAILED, /* a call that returned 0 fails now (op, ctr, instance, tag, code = sig) */
    IT_CANCEL_DONE, /* a cancelled request's process is gone: EXEC_DONE(tag, CANCELLED) */
};

struct item {
    int64_t at;
    uint64_t seq;
    enum item_kind kind;
    size_t ctr;
    uint64_t instance;
    uint64_t tag;
    int code;
    int64_t timeout_ms; /* IT_TERM */
    enum backend_result result;
    enum backend_op op; /* IT_CALL_FAILED */
};

enum cstate { CS_NONE = 0, CS_CREATING, CS_RUNNING, CS_EXITED };

struct gen {
    unsigned per_s, bytes;
    uint64_t base_k; /* line number at base_ms */
    int64_t base_ms;
    uint64_t emitted; /* lines written by the current instance (seq 1..emitted) */
    uint64_t pending; /* written, still in the pipe (the highest seqs) */
    int64_t first_pending_ms;
    bool blocked;
    int64_t blocked_since;
    bool orphaned;    /* direct: no reader for this instance any more */
    bool eof_pending; /* the instance ended; pipe closes after the pending data */
    bool partial_pending;
    size_t acct; /* index into the ctr's accounting */
};

struct sctr {
    const char *name;
    enum cstate st;
    uint64_t instance;
    int64_t start_ms;
    bool term_seen;
    bool partial;
    struct gen out[2];
    uint64_t att[5];
    struct sim_ctr_obs obs;
    struct sim_out_acct *acct[2];
    size_t n_acct[2], cap_acct[2];
};

struct inflight {
    uint64_t tag;
    size_t ctr;
    uint64_t instance;
    int role; /* the request's (probe role, 3 = signal command) */
};

struct qev {
    struct backend_event ev;
    char *data; /* owned */
};

struct backend_sim {
    struct backend_sim_cfg cfg;
    const struct scn *scn;
    size_t n;
    struct sctr *c;
    struct item *items;
    size_t n_items, cap_items;
    uint64_t item_seq;
    struct inflight *fl;
    size_t n_fl, cap_fl;
    struct qev *q;
    size_t q_head, q_len, q_cap;
    char **ret; /* data of returned events, freed at the next poll */
    size_t n_ret, cap_ret;
    uint64_t *fault_seen; /* per scenario fault: matching calls seen */
    uint64_t rng;
    bool daemon_up;
    /* The pod's infra container is dead (scenario action `infra-down`) until the next
     * pod_create; infra_told: INFRA_DOWN reported since (SPEC.md 8.11) */
    bool infra_down, infra_told;
    struct sim_counters cnt;
    int64_t stop_timeout_ms; /* of the ctr_stop being made (its deadline, for the sweep) */
};

static inline int64_t now_ms(const struct backend_sim *b)
{
    return b->cfg.clk->mono_ms;
}

/* backend_sim.c */
void bsim_trace(struct backend_sim *b, const char *ctr, const char *event, const char *fmt, ...)
    POD_PRINTF(4, 5);
/* Queues an event for the daemon as it is (no faults); data (ev->len bytes) is copied. */
void bsim_q_push(struct backend_sim *b, const struct backend_event *ev, const char *data);

/* backend_sim_faults.c */
enum fire { FIRE_NONE = 0, FIRE_FAIL, FIRE_HANG, FIRE_SLOW, FIRE_LOSE, FIRE_DUP, FIRE_FAIL_ASYNC };
/* Last matching rule of a kind (and role for probes / stream for output), NULL when none. */
const struct scn_rule *bsim_rule(const struct backend_sim *b, size_t ctr, enum scn_rule_kind k,
                                 int role_or_stream, uint64_t instance, uint64_t attempt);
/* The run rule of an instance: EXIT or FOREVER, whichever matching one comes last. */
const struct scn_rule *bsim_run_rule(const struct backend_sim *b, size_t ctr, uint64_t instance);
/* The fault that fires for this call (op, ctr) or event (SCN_OP_EVENT, ev); *slow_ms its delay. */
enum fire bsim_fault_check(struct backend_sim *b, enum scn_op op, size_t ctr, enum scn_ev ev,
                           int64_t *slow_ms);
/* A call's fault: -1 (FAIL, err set), 1 (HANG: do nothing), 2 (FAIL_ASYNC: do nothing, report
 * the failure *delay_ms later), 3 (start: hang until the deadline, START_FAILED *delay_ms
 * later), 0 (go on, *delay_ms later). */
int bsim_call_fault(struct backend_sim *b, enum scn_op op, size_t ctr, int64_t *delay_ms,
                    struct pod_err *err);
const char *bsim_ctr_name(const struct backend_sim *b, size_t ctr);

/* backend_sim_out.c */
struct sim_out_acct *bsim_acct(struct backend_sim *b, size_t ctr, int s);
/* A new instance's output generators (its rules) and accounting records. */
void bsim_gen_reset(struct backend_sim *b, size_t ctr, uint64_t instance);
/* Writes the instance's lines due up to time t into its pipes. */
void bsim_gen_until(struct backend_sim *b, size_t ctr, int64_t t);
/* Hands pending pipe content to the daemon (all of it when force or the flush time came). */
void bsim_deliver(struct backend_sim *b, size_t ctr, bool force);
/* When the container's output next needs the loop (a line, a flush), INT64_MAX = never. */
int64_t bsim_gen_deadline(const struct backend_sim *b, size_t ctr);

#endif
