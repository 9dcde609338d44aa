/* SPDX-License-Identifier: MIT */
/* backend_sim.c - the `sim` backend: scripted containers on a fake clock (see backend_sim.h).
 *
 * Work is a list of timed items (a start completing, a scripted exit, a TERM taking effect, an
 * exec finishing) processed in (time, sequence) order by poll_events; output lines are generated
 * lazily from each instance's rate and delivered on a flush grid.  No real I/O, no sleeping.
 */
#include "backend_sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

void bsim_trace(struct backend_sim *b, const char *ctr, const char *event, const char *fmt, ...)
{
    if (!b->cfg.trace)
        return;
    char d[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    b->cfg.trace(b->cfg.trace_self, now_ms(b), ctr, event, d);
}
/* ------------------------------------------------------------------ queues */

static void infra_tell(struct backend_sim *b);

static void add_item(struct backend_sim *b, const struct item *it)
{
    if (b->n_items == b->cap_items) {
        b->cap_items = b->cap_items ? b->cap_items * 2 : 16;
        b->items = xrealloc(b->items, b->cap_items * sizeof *b->items);
    }
    b->items[b->n_items] = *it;
    b->items[b->n_items].seq = ++b->item_seq;
    b->n_items++;
}

/* The call (op) returned 0 but fails: BACKEND_EV_CALL_FAILED delay_ms from now. */
static void async_fail(struct backend_sim *b, enum backend_op op, size_t ctr, uint64_t instance,
                       uint64_t tag, int sig, int64_t delay_ms)
{
    struct item it = {.at = now_ms(b) + delay_ms,
                      .kind = IT_CALL_FAILED,
                      .ctr = ctr,
                      .instance = instance,
                      .tag = tag,
                      .code = sig,
                      .op = op};
    add_item(b, &it);
}

void bsim_q_push(struct backend_sim *b, const struct backend_event *ev, const char *data)
{
    if (b->q_len == b->q_cap) {
        size_t nc = b->q_cap ? b->q_cap * 2 : 16;
        struct qev *nq = xmalloc(nc * sizeof *nq);
        for (size_t i = 0; i < b->q_len; i++)
            nq[i] = b->q[(b->q_head + i) % b->q_cap];
        free(b->q);
        b->q = nq;
        b->q_cap = nc;
        b->q_head = 0;
    }
    struct qev *e = &b->q[(b->q_head + b->q_len) % b->q_cap];
    e->ev = *ev;
    e->data = NULL;
    if (data) {
        e->data = xmalloc(ev->len ? ev->len : 1);
        memcpy(e->data, data, ev->len);
    }
    b->q_len++;
}

static enum scn_ev ev_kind(enum backend_event_type t)
{
    switch (t) {
    case BACKEND_EV_STARTED:
        return SCN_EV_STARTED;
    case BACKEND_EV_START_FAILED:
        return SCN_EV_START_FAILED;
    case BACKEND_EV_EXITED:
        return SCN_EV_EXITED;
    case BACKEND_EV_EXEC_DONE:
        return SCN_EV_EXEC_DONE;
    case BACKEND_EV_CALL_FAILED:
        return SCN_EV_CALL_FAILED;
    default:
        return SCN_EV_OUTPUT;
    }
}

/* Queues a notification for the daemon (subject to lose/dup faults; dropped while it is down). */
static void notify(struct backend_sim *b, const struct backend_event *ev)
{
    if (!b->daemon_up)
        return;
    int64_t slow = 0;
    enum fire f = bsim_fault_check(b, SCN_OP_EVENT, ev->ctr, ev_kind(ev->type), &slow);
    if (f == FIRE_LOSE) {
        b->cnt.events_lost++;
        bsim_trace(b, bsim_ctr_name(b, ev->ctr), "fault", "event lost %s instance=%llu",
                   scn_ev_name(ev_kind(ev->type)), (unsigned long long)ev->instance);
        return;
    }
    bsim_q_push(b, ev, NULL);
    if (f == FIRE_DUP) {
        b->cnt.events_dup++;
        bsim_trace(b, bsim_ctr_name(b, ev->ctr), "fault", "event dup %s instance=%llu",
                   scn_ev_name(ev_kind(ev->type)), (unsigned long long)ev->instance);
        bsim_q_push(b, ev, NULL);
    }
}

static void notify_simple(struct backend_sim *b, enum backend_event_type t, size_t ctr,
                          uint64_t instance, int code, const char *msg)
{
    struct backend_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.ctr = ctr;
    ev.instance = instance;
    ev.exit_code = code;
    if (msg)
        snprintf(ev.msg, sizeof ev.msg, "%s", msg);
    notify(b, &ev);
}

/* ------------------------------------------------------------------ state changes */

static void drop_inflight_of(struct backend_sim *b, size_t ctr)
{
    /* Execs into a container that is gone end with an error (podman exec fails). */
    for (size_t i = 0; i < b->n_fl;) {
        if (b->fl[i].ctr == ctr) {
            struct backend_event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = BACKEND_EV_EXEC_DONE;
            ev.ctr = ctr;
            ev.instance = b->fl[i].instance;
            ev.tag = b->fl[i].tag;
            ev.result = BACKEND_UNKNOWN;
            ev.exit_code = 125;
            snprintf(ev.msg, sizeof ev.msg, "container exited");
            /* a pending completion item for this tag is superseded */
            for (size_t k = 0; k < b->n_items; k++)
                if (b->items[k].kind == IT_EXEC_DONE && b->items[k].tag == b->fl[i].tag)
                    b->items[k].kind = 0;
            notify(b, &ev);
            b->fl[i] = b->fl[--b->n_fl];
        } else {
            i++;
        }
    }
}

static void ctr_exit(struct backend_sim *b, size_t ctr, int code, bool voluntary)
{
    struct sctr *c = &b->c[ctr];
    if (c->st != CS_RUNNING)
        return;
    bsim_gen_until(b, ctr, now_ms(b));
    c->st = CS_EXITED;
    c->obs.running = false;
    c->obs.exits++;
    c->obs.last_exit_code = code;
    c->obs.last_exit_voluntary = voluntary;
    c->obs.last_exit_ms = now_ms(b);
    for (int s = 0; s < 2; s++) {
        c->out[s].eof_pending = true;
        c->out[s].partial_pending = c->partial && c->out[s].per_s > 0;
        if (c->out[s].blocked && b->daemon_up) {
            /* unblocked below by the drain */
        }
    }
    drop_inflight_of(b, ctr);
    notify_simple(b, BACKEND_EV_EXITED, ctr, c->instance, code, NULL);
}

/* The event an item reports: EXEC_DONE (result, code) or CALL_FAILED (op, code = signal). */
static void notify_item(struct backend_sim *b, const struct item *it, enum backend_event_type t)
{
    struct backend_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = t;
    ev.ctr = it->ctr;
    ev.instance = it->instance;
    ev.tag = it->tag;
    ev.result = it->result;
    ev.exit_code = it->code;
    ev.op = it->op;
    if (t == BACKEND_EV_CALL_FAILED)
        snprintf(ev.msg, sizeof ev.msg, "sim: injected asynchronous failure");
    notify(b, &ev);
}

static void handle_item(struct backend_sim *b, const struct item *it)
{
    if (it->kind == IT_CALL_FAILED) {
        notify_item(b, it, BACKEND_EV_CALL_FAILED);
        return;
    }
    struct sctr *c = it->ctr < b->n ? &b->c[it->ctr] : NULL;
    if (!c)
        return;
    bool cur = c->instance == it->instance;
    switch (it->kind) {
    case IT_STARTED: {
        if (!cur || c->st != CS_CREATING)
            return;
        c->st = CS_RUNNING;
        c->obs.running = true;
        c->obs.starting = false;
        c->obs.runs++;
        c->start_ms = now_ms(b);
        c->obs.last_start_ms = c->start_ms;
        c->term_seen = false;
        memset(c->att, 0, sizeof c->att);
        const struct scn_rule *r = bsim_run_rule(b, it->ctr, c->instance);
        const struct scn_rule *pl = bsim_rule(b, it->ctr, SCN_R_PARTIAL, 0, c->instance, 0);
        c->partial = pl != NULL;
        bsim_gen_reset(b, it->ctr, c->instance);
        if (r && r->kind == SCN_R_EXIT) {
            struct item e = {.at = now_ms(b) + r->dur_ms,
                             .kind = IT_EXIT,
                             .ctr = it->ctr,
                             .instance = c->instance,
                             .code = r->code};
            add_item(b, &e);
        }
        notify_simple(b, BACKEND_EV_STARTED, it->ctr, c->instance, 0, NULL);
        break;
    }
    case IT_START_FAILED:
        if (!cur || c->st != CS_CREATING)
            return;
        c->st = CS_NONE;
        c->obs.exists = false;
        c->obs.starting = false;
        notify_simple(b, BACKEND_EV_START_FAILED, it->ctr, c->instance, 125,
                      it->code ? "sim: the pod's infra container is not running"
                               : "sim: scripted start failure");
        if (it->code)
            infra_tell(b);
        break;
    case IT_EXIT:
        if (cur)
            ctr_exit(b, it->ctr, it->code, true);
        break;
    case IT_STOP_EXIT:
        if (cur)
            ctr_exit(b, it->ctr, it->code, false);
        break;
    case IT_KILL_EXIT:
        if (cur)
            ctr_exit(b, it->ctr, 137, false);
        break;
    case IT_TERM: {
        if (!cur || c->st != CS_RUNNING)
            return;
        c->term_seen = true;
        const struct scn_rule *r = bsim_rule(b, it->ctr, SCN_R_ON_TERM, 0, c->instance, 0);
        if (r && r->ignore) {
            /* only the kill after the timeout ends it */
        } else {
            int64_t d = r ? r->dur_ms : 10;
            int code = r ? r->code : 143;
            if (d < it->timeout_ms || it->timeout_ms < 0) {
                struct item e = {.at = now_ms(b) + d,
                                 .kind = IT_STOP_EXIT,
                                 .ctr = it->ctr,
                                 .instance = c->instance,
                                 .code = code};
                add_item(b, &e);
                break;
            }
        }
        if (it->timeout_ms >= 0) {
            struct item e = {.at = now_ms(b) + it->timeout_ms,
                             .kind = IT_KILL_EXIT,
                             .ctr = it->ctr,
                             .instance = c->instance};
            add_item(b, &e);
        }
        break;
    }
    case IT_CANCEL_DONE:
        notify_item(b, it, BACKEND_EV_EXEC_DONE);
        break;
    case IT_EXEC_DONE: {
        size_t i;
        for (i = 0; i < b->n_fl; i++)
            if (b->fl[i].tag == it->tag)
                break;
        if (i == b->n_fl)
            return; /* cancelled */
        b->fl[i] = b->fl[--b->n_fl];
        notify_item(b, it, BACKEND_EV_EXEC_DONE);
        break;
    }
    default:
        break;
    }
}

/* Runs every item due at or before now, in (time, seq) order. */
static void run_items(struct backend_sim *b)
{
    int64_t t = now_ms(b);
    for (;;) {
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < b->n_items; i++) {
            const struct item *it = &b->items[i];
            if (it->at > t)
                continue;
            if (best == SIZE_MAX || it->at < b->items[best].at ||
                (it->at == b->items[best].at && it->seq < b->items[best].seq))
                best = i;
        }
        if (best == SIZE_MAX)
            break;
        struct item it = b->items[best];
        b->items[best] = b->items[--b->n_items];
        if (it.kind)
            handle_item(b, &it);
    }
}

static void advance(struct backend_sim *b)
{
    run_items(b);
    for (size_t i = 0; i < b->n; i++) {
        bsim_gen_until(b, i, now_ms(b));
        bsim_deliver(b, i, false);
    }
}

/* ------------------------------------------------------------------ ops */

static void infra_tell(struct backend_sim *b)
{
    if (!b->infra_down || b->infra_told || !b->daemon_up)
        return;
    b->infra_told = true;
    struct backend_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = BACKEND_EV_INFRA_DOWN;
    ev.ctr = SIZE_MAX;
    snprintf(ev.msg, sizeof ev.msg, "sim: the infra container's process exited");
    bsim_q_push(b, &ev, NULL);
}

void backend_sim_infra_down(struct backend_sim *b)
{
    b->infra_down = true;
    b->infra_told = false;
    bsim_trace(b, "pod", "infra-down", "the infra container died");
    infra_tell(b);
}

/* With the infra down: `pod rm -f` + `pod create` (the podman backend runs them after the
 * stops the supervisor issued before; the simulated containers are left to those stops). */
static int op_pod_create(void *self, struct pod_err *err)
{
    struct backend_sim *b = self;
    int64_t d;
    int r = bsim_call_fault(b, SCN_OP_POD_CREATE, SIZE_MAX, &d, err);
    if (r == 2)
        async_fail(b, BACKEND_OP_POD_CREATE, SIZE_MAX, 0, 0, 0, d);
    b->infra_told = false; /* a start that fails after this tells again */
    if (r == 0 && b->infra_down) {
        b->infra_down = false;
        bsim_trace(b, "pod", "infra-up", "the pod was made anew");
    }
    return r < 0 ? -1 : 0;
}

static int op_pod_remove(void *self, struct pod_err *err)
{
    (void)self;
    (void)err;
    return 0;
}

static int op_ctr_start(void *self, size_t ctr, uint64_t instance, struct pod_err *err)
{
    struct backend_sim *b = self;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    int r = bsim_call_fault(b, SCN_OP_START, ctr, &delay, err);
    if (r < 0)
        return -1;
    struct sctr *c = &b->c[ctr];
    /* podman: removes the previous container first (rm -f kills a running one). */
    if (c->st == CS_RUNNING) {
        c->obs.overlaps++;
        bsim_trace(b, c->name, "overlap", "start of instance=%llu while instance=%llu runs",
                   (unsigned long long)instance, (unsigned long long)c->instance);
        ctr_exit(b, ctr, 137, false);
    }
    bsim_gen_until(b, ctr, now_ms(b));
    bsim_deliver(b, ctr, true);
    c->instance = instance;
    c->st = CS_CREATING;
    c->obs.instance = instance;
    c->obs.exists = true;
    c->obs.running = false;
    c->obs.starting = true;
    c->obs.starts++;
    c->obs.prev_start_call_ms = c->obs.start_call_ms;
    c->obs.start_call_ms = now_ms(b);
    if (r == 1)
        return 0; /* hangs: the container stays "created" */
    if (r == 3) {
        /* hangs until the backend's deadline kills `podman run`: a failed start */
        struct item it = {
            .at = now_ms(b) + delay, .kind = IT_START_FAILED, .ctr = ctr, .instance = instance};
        add_item(b, &it);
        return 0;
    }
    const struct scn_rule *lat = bsim_rule(b, ctr, SCN_R_LATENCY, 0, instance, 0);
    const struct scn_rule *sf = bsim_rule(b, ctr, SCN_R_START_FAIL, 0, instance, 0);
    bool no_infra = b->infra_down && !b->cfg.spec->containers[ctr].network_host;
    struct item it = {.at = now_ms(b) + (lat ? lat->dur_ms : 100) + delay,
                      .kind = sf || no_infra ? IT_START_FAILED : IT_STARTED,
                      .ctr = ctr,
                      .instance = instance,
                      .code = no_infra};
    add_item(b, &it);
    return 0;
}

static int op_ctr_stop(void *self, size_t ctr, uint64_t instance, int64_t timeout_ms,
                       struct pod_err *err)
{
    struct backend_sim *b = self;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    b->stop_timeout_ms = timeout_ms;
    int r = bsim_call_fault(b, SCN_OP_STOP, ctr, &delay, err);
    if (r == 2)
        async_fail(b, BACKEND_OP_STOP, ctr, instance, 0, 0, delay);
    if (r != 0)
        return r < 0 ? -1 : 0;
    struct sctr *c = &b->c[ctr];
    if (c->instance != instance)
        return 0;
    if (c->st == CS_CREATING) {
        /* stopping a container that is still being created: it never runs */
        c->st = CS_EXITED;
        c->obs.starting = false;
        c->obs.exits++;
        c->obs.last_exit_code = 137;
        c->obs.last_exit_voluntary = false;
        c->obs.last_exit_ms = now_ms(b);
        for (size_t i = 0; i < b->n_items; i++)
            if (b->items[i].ctr == ctr && b->items[i].kind == IT_STARTED)
                b->items[i].kind = 0;
        notify_simple(b, BACKEND_EV_EXITED, ctr, instance, 137, NULL);
        return 0;
    }
    if (c->st != CS_RUNNING)
        return 0;
    struct item it = {.at = now_ms(b) + delay,
                      .kind = IT_TERM,
                      .ctr = ctr,
                      .instance = instance,
                      .timeout_ms = timeout_ms};
    add_item(b, &it);
    return 0;
}

static int op_ctr_kill(void *self, size_t ctr, uint64_t instance, int sig, struct pod_err *err)
{
    struct backend_sim *b = self;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    int r = bsim_call_fault(b, SCN_OP_KILL, ctr, &delay, err);
    if (r == 2)
        async_fail(b, BACKEND_OP_KILL, ctr, instance, 0, sig, delay);
    if (r != 0)
        return r < 0 ? -1 : 0;
    struct sctr *c = &b->c[ctr];
    if (c->instance != instance || c->st != CS_RUNNING)
        return pod_err_set(err, POD_E_BACKEND, 0, "sim: container %s is not running", c->name);
    if (sig == 9) {
        struct item it = {
            .at = now_ms(b) + delay + 10, .kind = IT_KILL_EXIT, .ctr = ctr, .instance = instance};
        add_item(b, &it);
    } else if (sig == 15) {
        struct item it = {.at = now_ms(b) + delay,
                          .kind = IT_TERM,
                          .ctr = ctr,
                          .instance = instance,
                          .timeout_ms = -1};
        add_item(b, &it);
    } else {
        c->obs.signals++;
        bsim_trace(b, c->name, "signalled", "sig=%d instance=%llu", sig,
                   (unsigned long long)instance);
    }
    return 0;
}

static int op_ctr_remove(void *self, size_t ctr, struct pod_err *err)
{
    struct backend_sim *b = self;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    int r = bsim_call_fault(b, SCN_OP_REMOVE, ctr, &delay, err);
    if (r == 2)
        async_fail(b, BACKEND_OP_REMOVE, ctr, b->c[ctr].instance, 0, 0, delay);
    if (r != 0)
        return r < 0 ? -1 : 0;
    struct sctr *c = &b->c[ctr];
    if (c->st == CS_RUNNING)
        ctr_exit(b, ctr, 137, false);
    bsim_gen_until(b, ctr, now_ms(b));
    bsim_deliver(b, ctr, true);
    if (c->st == CS_CREATING) {
        for (size_t i = 0; i < b->n_items; i++)
            if (b->items[i].ctr == ctr &&
                (b->items[i].kind == IT_STARTED || b->items[i].kind == IT_START_FAILED))
                b->items[i].kind = 0;
        c->obs.starting = false;
    }
    c->st = CS_NONE;
    c->obs.exists = false;
    return 0;
}

static int op_probe(void *self, const struct backend_probe_req *req, struct pod_err *err)
{
    struct backend_sim *b = self;
    size_t ctr = req->ctr;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    int r = bsim_call_fault(b, SCN_OP_PROBE, ctr, &delay, err);
    if (r < 0)
        return -1;
    struct sctr *c = &b->c[ctr];
    if (b->n_fl == b->cap_fl) {
        b->cap_fl = b->cap_fl ? b->cap_fl * 2 : 8;
        b->fl = xrealloc(b->fl, b->cap_fl * sizeof *b->fl);
    }
    int role = req->role >= 0 && req->role <= 3 ? req->role : 3;
    for (size_t i = 0; i < b->n_fl; i++)
        if (b->fl[i].ctr == ctr && b->fl[i].instance == req->instance && b->fl[i].role == role) {
            c->obs.probe_overlaps++;
            bsim_trace(b, c->name, "overlap", "%s tag=%llu while tag=%llu still runs",
                       scn_role_name((enum scn_role)role), (unsigned long long)req->tag,
                       (unsigned long long)b->fl[i].tag);
        }
    b->fl[b->n_fl++] = (struct inflight){req->tag, ctr, req->instance, role};
    if (r == 1) {
        b->cnt.probes_hung++;
        return 0;
    }
    uint64_t att = c->instance == req->instance ? ++c->att[role] : 0;
    struct item it = {.kind = IT_EXEC_DONE, .ctr = ctr, .instance = req->instance, .tag = req->tag};
    if (c->instance != req->instance || c->st != CS_RUNNING) {
        it.at = now_ms(b) + 10 + delay;
        it.result = req->kind == BACKEND_PROBE_EXEC ? BACKEND_UNKNOWN : BACKEND_FAIL;
        it.code = req->kind == BACKEND_PROBE_EXEC ? 125 : 1;
        add_item(b, &it);
        return 0;
    }
    const struct scn_rule *pr = bsim_rule(b, ctr, SCN_R_PROBE, role, req->instance, att);
    enum scn_result res = pr ? pr->result : SCN_PASS;
    if (res == SCN_HANG) {
        b->cnt.probes_hung++;
        return 0;
    }
    it.at = now_ms(b) + (pr ? pr->dur_ms : 10) + delay;
    it.result = res == SCN_PASS ? BACKEND_OK : BACKEND_FAIL;
    it.code = res == SCN_PASS ? 0 : (pr ? pr->code : 1);
    add_item(b, &it);
    return 0;
}

/* backend.h: the cancelled request's process is killed; its one EXEC_DONE follows with
 * BACKEND_CANCELLED (10 ms later, plus a slow fault's delay).  A request that already ended has
 * reported (or queued) its own result: nothing more.  Faults: fail (-1), fail-async (the
 * request goes on, CALL_FAILED later), hang (the request goes on, nothing answers). */
static int op_cancel(void *self, uint64_t tag, struct pod_err *err)
{
    struct backend_sim *b = self;
    int64_t delay;
    size_t f = 0;
    while (f < b->n_fl && b->fl[f].tag != tag)
        f++;
    size_t ctr = f < b->n_fl ? b->fl[f].ctr : SIZE_MAX;
    int r = bsim_call_fault(b, SCN_OP_CANCEL, ctr, &delay, err);
    if (r < 0)
        return -1;
    if (f == b->n_fl || r == 1)
        return 0;
    struct inflight req = b->fl[f];
    if (r == 2) {
        async_fail(b, BACKEND_OP_CANCEL, req.ctr, req.instance, tag, 0, delay);
        return 0;
    }
    b->fl[f] = b->fl[--b->n_fl];
    b->cnt.probes_cancelled++;
    for (size_t i = 0; i < b->n_items; i++)
        if (b->items[i].kind == IT_EXEC_DONE && b->items[i].tag == tag)
            b->items[i].kind = 0;
    struct item it = {.at = now_ms(b) + 10 + delay,
                      .kind = IT_CANCEL_DONE,
                      .ctr = req.ctr,
                      .instance = req.instance,
                      .tag = tag,
                      .result = BACKEND_CANCELLED,
                      .code = 137};
    add_item(b, &it);
    return 0;
}

static int op_inspect(void *self, size_t ctr, struct backend_ctr_state *out, struct pod_err *err)
{
    struct backend_sim *b = self;
    if (ctr >= b->n)
        return pod_err_set(err, POD_E_INVALID, 0, "sim: no container %zu", ctr);
    int64_t delay;
    int r = bsim_call_fault(b, SCN_OP_INSPECT, ctr, &delay, err);
    if (r != 0)
        return r < 0 ? -1 : pod_err_set(err, POD_E_TIMEOUT, 0, "sim: inspect timed out (injected)");
    run_items(b);
    const struct sctr *c = &b->c[ctr];
    memset(out, 0, sizeof *out);
    out->exists = c->st != CS_NONE;
    out->running = c->st == CS_RUNNING;
    out->instance = out->exists ? c->instance : 0;
    out->exit_code = c->st == CS_EXITED ? c->obs.last_exit_code : 0;
    int64_t w0 = b->cfg.clk->wall0_ns;
    out->started_wall_ns = w0 + c->start_ms * 1000000;
    out->finished_wall_ns = c->st == CS_EXITED ? w0 + c->obs.last_exit_ms * 1000000 : 0;
    return 0;
}

static int op_poll_events(void *self, struct backend_event *evs, size_t max, struct pod_err *err)
{
    (void)err;
    struct backend_sim *b = self;
    for (size_t i = 0; i < b->n_ret; i++)
        free(b->ret[i]);
    b->n_ret = 0;
    advance(b);
    size_t n = 0;
    while (n < max && b->q_len > 0) {
        struct qev e = b->q[b->q_head];
        b->q_head = (b->q_head + 1) % b->q_cap;
        b->q_len--;
        if (e.ev.type == 0) {
            free(e.data);
            continue;
        }
        evs[n] = e.ev;
        evs[n].data = e.data;
        if (e.data) {
            if (b->n_ret == b->cap_ret) {
                b->cap_ret = b->cap_ret ? b->cap_ret * 2 : 16;
                b->ret = xrealloc(b->ret, b->cap_ret * sizeof *b->ret);
            }
            b->ret[b->n_ret++] = e.data;
        }
        n++;
    }
    return (int)n;
}

static int64_t op_next_deadline(void *self)
{
    struct backend_sim *b = self;
    if (b->q_len > 0 && b->daemon_up)
        return now_ms(b);
    int64_t d = INT64_MAX;
    for (size_t i = 0; i < b->n_items; i++)
        if (b->items[i].kind && b->items[i].at < d)
            d = b->items[i].at;
    for (size_t i = 0; i < b->n; i++) {
        int64_t g = bsim_gen_deadline(b, i);
        d = g < d ? g : d;
    }
    return d;
}

const struct backend_ops backend_sim_ops = {
    .name = "sim",
    .pod_create = op_pod_create,
    .pod_remove = op_pod_remove,
    .ctr_start = op_ctr_start,
    .ctr_stop = op_ctr_stop,
    .ctr_kill = op_ctr_kill,
    .ctr_remove = op_ctr_remove,
    .probe = op_probe,
    .cancel = op_cancel,
    .inspect = op_inspect,
    .poll_events = op_poll_events,
    .next_deadline = op_next_deadline,
};

/* ------------------------------------------------------------------ lifecycle */

struct backend_sim *backend_sim_new(const struct backend_sim_cfg *cfg)
{
    struct backend_sim *b = xcalloc(1, sizeof *b);
    b->cfg = *cfg;
    b->scn = cfg->scn;
    b->n = cfg->spec->n_containers;
    b->c = xcalloc(b->n ? b->n : 1, sizeof *b->c);
    for (size_t i = 0; i < b->n; i++) {
        b->c[i].name = cfg->spec->containers[i].name;
        b->c[i].obs.start_call_ms = b->c[i].obs.prev_start_call_ms = -1;
    }
    b->fault_seen = xcalloc(b->scn->n_faults + 1, sizeof *b->fault_seen);
    b->rng = sim_rng_sub(cfg->seed, 1);
    b->daemon_up = true;
    b->cnt.sweep_at_ms = -1;
    b->cnt.sweep_ctr = SIZE_MAX;
    return b;
}

void backend_sim_free(struct backend_sim *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_ret; i++)
        free(b->ret[i]);
    free(b->ret);
    for (size_t i = 0; i < b->q_len; i++)
        free(b->q[(b->q_head + i) % b->q_cap].data);
    free(b->q);
    for (size_t i = 0; i < b->n; i++) {
        free(b->c[i].acct[0]);
        free(b->c[i].acct[1]);
    }
    free(b->c);
    free(b->items);
    free(b->fl);
    free(b->fault_seen);
    free(b);
}

struct backend backend_sim_backend(struct backend_sim *b)
{
    struct backend be = {&backend_sim_ops, b};
    return be;
}

void backend_sim_daemon_down(struct backend_sim *b)
{
    /* Output not yet handed over stays in the pipes (holder) or is lost (direct): mark the
     * daemon gone first so that advance() does not deliver it to nobody. */
    b->daemon_up = false;
    advance(b);
    for (size_t i = 0; i < b->n_ret; i++)
        free(b->ret[i]);
    b->n_ret = 0;
    /* Events nobody read are gone; so is output a dead daemon had read but not written:
     * the sim delivers output only at poll time, so nothing is half-read here. */
    while (b->q_len > 0) {
        struct qev *e = &b->q[b->q_head];
        if (e->ev.type == BACKEND_EV_OUTPUT || e->ev.type == BACKEND_EV_OUTPUT_EOF) {
            /* already counted as delivered: the daemon read it from the pipe */
        }
        free(e->data);
        b->q_head = (b->q_head + 1) % b->q_cap;
        b->q_len--;
    }
    /* exec clients die with the daemon; their results can never be reported */
    for (size_t i = 0; i < b->n_items; i++)
        if (b->items[i].kind == IT_EXEC_DONE || b->items[i].kind == IT_CANCEL_DONE)
            b->items[i].kind = 0;
    b->n_fl = 0;
    b->daemon_up = false;
    if (b->scn->output_direct)
        for (size_t i = 0; i < b->n; i++)
            for (int s = 0; s < 2; s++)
                b->c[i].out[s].orphaned = true;
}

void backend_sim_daemon_up(struct backend_sim *b)
{
    b->daemon_up = true;
    b->infra_told = false; /* the new daemon's backend looks the infra up */
    infra_tell(b);
}

void backend_sim_idle(struct backend_sim *b)
{
    advance(b);
    while (b->q_len > 0) {
        free(b->q[b->q_head].data);
        b->q_head = (b->q_head + 1) % b->q_cap;
        b->q_len--;
    }
}

const struct sim_ctr_obs *backend_sim_obs(const struct backend_sim *b, size_t ctr)
{
    return ctr < b->n ? &b->c[ctr].obs : NULL;
}

struct sim_counters backend_sim_counters(const struct backend_sim *b)
{
    return b->cnt;
}
