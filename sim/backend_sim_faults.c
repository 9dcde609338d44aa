/* SPDX-License-Identifier: MIT */
/* backend_sim_faults.c - what the scenario says the simulated podman does (see backend_sim.h):
 * the container rules (the last matching one wins) and the injected faults of podman calls and
 * events (scenario `fault` lines and explore's random swarm), drawn from the seeded RNG. */
#include "backend_sim_int.h"

#include <string.h>

#include "rng.h"

/* ------------------------------------------------------------------ rules */

/* Last matching rule of a kind (and role for probes), NULL when none. */
const struct scn_rule *bsim_rule(const struct backend_sim *b, size_t ctr, enum scn_rule_kind k,
                                 int role_or_stream, uint64_t instance, uint64_t attempt)
{
    const struct scn_ctr *sc = NULL;
    for (size_t i = 0; i < b->scn->n_ctrs; i++)
        if (b->scn->ctrs[i].spec_idx == ctr && strcmp(b->scn->ctrs[i].name, b->c[ctr].name) == 0)
            sc = &b->scn->ctrs[i];
    if (!sc)
        return NULL;
    const struct scn_rule *best = NULL;
    for (size_t i = 0; i < sc->n_rules; i++) {
        const struct scn_rule *r = &sc->rules[i];
        if (r->kind != k)
            continue;
        if (k == SCN_R_PROBE && r->role != SCN_ROLE_ANY && (int)r->role != role_or_stream)
            continue;
        if (k == SCN_R_OUTPUT && r->stream != role_or_stream)
            continue;
        if (k == SCN_R_EXIT || k == SCN_R_FOREVER) {
            /* handled by the caller (both kinds compete) */
        }
        if (!scn_filter_match(&r->f, now_ms(b), instance, attempt))
            continue;
        best = r;
    }
    return best;
}

/* The run rule: EXIT or FOREVER, whichever matching one comes last. */
const struct scn_rule *bsim_run_rule(const struct backend_sim *b, size_t ctr, uint64_t instance)
{
    const struct scn_rule *e = bsim_rule(b, ctr, SCN_R_EXIT, 0, instance, 0);
    const struct scn_rule *f = bsim_rule(b, ctr, SCN_R_FOREVER, 0, instance, 0);
    if (e && f)
        return e->line > f->line ? e : f;
    return e ? e : f;
}

/* ------------------------------------------------------------------ faults */

enum fire bsim_fault_check(struct backend_sim *b, enum scn_op op, size_t ctr, enum scn_ev ev,
                           int64_t *slow_ms)
{
    const struct scn *s = b->scn;
    for (size_t i = 0; i < s->n_faults; i++) {
        const struct scn_fault *f = &s->faults[i];
        if (f->op != op)
            continue;
        if (f->ctr && f->ctr_idx != ctr)
            continue;
        if (op == SCN_OP_EVENT && f->ev != SCN_EV_ANY && f->ev != ev)
            continue;
        if (!scn_filter_match(&f->f, now_ms(b), 0, 0))
            continue;
        uint64_t nth = ++b->fault_seen[i];
        if (nth < f->f.nth_lo || nth > f->f.nth_hi)
            continue;
        if (f->f.p_milli < 1000 && sim_rng_below(&b->rng, 1000) >= f->f.p_milli)
            continue;
        b->cnt.faults_fired++;
        switch (f->kind) {
        case SCN_F_FAIL:
            return FIRE_FAIL;
        case SCN_F_HANG:
            return FIRE_HANG;
        case SCN_F_SLOW:
            *slow_ms = f->dur_ms;
            return FIRE_SLOW;
        case SCN_F_LOSE:
            return FIRE_LOSE;
        case SCN_F_DUP:
            return FIRE_DUP;
        case SCN_F_FAIL_ASYNC:
            *slow_ms = f->dur_ms;
            return FIRE_FAIL_ASYNC;
        default:
            break;
        }
    }
    const struct sim_swarm *w = b->cfg.swarm;
    if (w && now_ms(b) < w->heal_ms) {
        if (op == SCN_OP_EVENT) {
            if (w->ev_lose && sim_rng_below(&b->rng, 1000) < w->ev_lose)
                return b->cnt.faults_fired++, FIRE_LOSE;
            if (w->ev_dup && sim_rng_below(&b->rng, 1000) < w->ev_dup)
                return b->cnt.faults_fired++, FIRE_DUP;
            return FIRE_NONE;
        }
        if (w->call_fail[op] && sim_rng_below(&b->rng, 1000) < w->call_fail[op])
            return b->cnt.faults_fired++, FIRE_FAIL;
        if (w->call_hang[op] && sim_rng_below(&b->rng, 1000) < w->call_hang[op])
            return b->cnt.faults_fired++, FIRE_HANG;
        if (w->call_slow[op] && w->slow_max_ms > 0 &&
            sim_rng_below(&b->rng, 1000) < w->call_slow[op]) {
            *slow_ms = 1 + (int64_t)sim_rng_below(&b->rng, (uint64_t)w->slow_max_ms);
            return b->cnt.faults_fired++, FIRE_SLOW;
        }
        if (w->call_fail_async[op] && sim_rng_below(&b->rng, 1000) < w->call_fail_async[op]) {
            *slow_ms = 1 + (int64_t)sim_rng_below(&b->rng, 2000);
            return b->cnt.faults_fired++, FIRE_FAIL_ASYNC;
        }
    }
    return FIRE_NONE;
}

const char *bsim_ctr_name(const struct backend_sim *b, size_t ctr)
{
    return ctr < b->n ? b->c[ctr].name : "pod";
}

/* The podman backend's deadline of a call (SPEC 7.8): a hung call is killed then and fails. */
static int64_t sweep_deadline_ms(const struct backend_sim *b, enum scn_op op)
{
    switch (op) {
    case SCN_OP_START:
        return 120000;
    case SCN_OP_STOP:
        return ((b->stop_timeout_ms + 999) / 1000) * 1000 + 30000;
    case SCN_OP_POD_CREATE:
        return 60000;
    default:
        return 30000;
    }
}

/* Call fault: returns -1 (FAIL), 1 (HANG: do nothing), 2 (FAIL_ASYNC: do nothing, the caller
 * reports the failure *delay_ms later with async_fail), 3 (start only: hangs, START_FAILED
 * *delay_ms later), 0 (go on; *delay_ms set). */
int bsim_call_fault(struct backend_sim *b, enum scn_op op, size_t ctr, int64_t *delay_ms,
                    struct pod_err *err)
{
    int64_t slow = 0;
    *delay_ms = 0;
    enum fire fire;
    if (++b->cnt.calls == b->cfg.sweep_nth) {
        /* podsim sweep: this call fails or hangs, whatever the scenario says */
        b->cnt.sweep_at_ms = now_ms(b);
        b->cnt.sweep_op = op;
        b->cnt.sweep_ctr = ctr;
        b->cnt.faults_fired++;
        bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "sweep: call %llu",
                   (unsigned long long)b->cnt.calls);
        if (b->cfg.sweep_kind == SCN_F_HANG) {
            /* hangs until the podman backend's deadline kills it (SPEC 7.8), then fails */
            int64_t dl = sweep_deadline_ms(b, op);
            bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "%s hang until its deadline (%lldms)",
                       scn_op_name(op), (long long)dl);
            *delay_ms = dl;
            return op == SCN_OP_START ? 3 : op == SCN_OP_PROBE || op == SCN_OP_INSPECT ? 1 : 2;
        }
        fire = FIRE_FAIL;
    } else {
        fire = bsim_fault_check(b, op, ctr, SCN_EV_ANY, &slow);
    }
    switch (fire) {
    case FIRE_FAIL:
        bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "%s fail", scn_op_name(op));
        return pod_err_set(err, POD_E_BACKEND, 0, "sim: injected failure of %s", scn_op_name(op));
    case FIRE_HANG:
        bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "%s hang", scn_op_name(op));
        return 1;
    case FIRE_SLOW:
        bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "%s slow %lldms", scn_op_name(op),
                   (long long)slow);
        *delay_ms = slow;
        return 0;
    case FIRE_FAIL_ASYNC:
        bsim_trace(b, bsim_ctr_name(b, ctr), "fault", "%s fail-async after %lldms", scn_op_name(op),
                   (long long)slow);
        *delay_ms = slow;
        return 2;
    default:
        return 0;
    }
}
