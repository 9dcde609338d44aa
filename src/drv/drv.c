/* SPDX-License-Identifier: MIT */
/* drv.c - the driver: sup actions -> backend calls, backend events and failed calls -> sup
 * events, output -> the log sink, inspect -> repaired events, and its I/O timers (see
 * pod/drv.h).  The two files it writes are status.c's.
 *
 * Must not: decide anything about a container (retries, kills, late results: the
 * supervisor's), poll, sleep, read the real clock, print.  Time comes from cfg.clk; all file I/O
 * goes through cfg.fs and the log sink.  Synthesised events (a failed call, a repaired lost
 * event) go through a FIFO so that sup_step is never re-entered while its actions run.
 */
#include "drv_internal.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_BATCH 64
#define MAX_ROUNDS 100000

/* ------------------------------------------------------------------ helpers */

void drv_trace(struct drv *d, const char *subject, const char *event, const char *fmt, ...)
{
    if (!d->cfg.trace)
        return;
    char details[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(details, sizeof details, fmt, ap);
    va_end(ap);
    d->cfg.trace(d->cfg.trace_self, drv_now_mono_ms(d), subject, event, details);
}

static const char *ctr_name(const struct drv *d, size_t ctr)
{
    return ctr < d->n ? d->spec->containers[ctr].name : "pod";
}

static const char *stream_name(enum backend_stream stream)
{
    return stream == BACKEND_STDERR ? "stderr" : "stdout";
}

static void pend_push(struct drv *d, const struct sup_event *ev)
{
    if (d->pend_len == d->pend_cap) {
        size_t nc = d->pend_cap ? d->pend_cap * 2 : 16;
        struct sup_event *np = xmalloc(nc * sizeof *np);
        for (size_t i = 0; i < d->pend_len; i++)
            np[i] = d->pend[(d->pend_head + i) % d->pend_cap];
        free(d->pend);
        d->pend = np;
        d->pend_cap = nc;
        d->pend_head = 0;
    }
    d->pend[(d->pend_head + d->pend_len) % d->pend_cap] = *ev;
    d->pend_len++;
}

/* Queues a backend event the driver repaired from inspect (a lost STARTED or EXITED). */
static void pend_repaired(struct drv *d, enum backend_event_type type, size_t ctr,
                          uint64_t instance, int exit_code, const char *msg)
{
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_BACKEND;
    ev.backend.type = type;
    ev.backend.ctr = ctr;
    ev.backend.instance = instance;
    ev.backend.exit_code = exit_code;
    if (msg)
        snprintf(ev.backend.msg, sizeof ev.backend.msg, "%s", msg);
    pend_push(d, &ev);
}

/* ------------------------------------------------------------------ trace of changes */

/* Traces the pod's and the containers' phase/readiness changes (a readable summary of the
 * status file). */
static void trace_changes(struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    if (d->pod_phase != (int)st->phase || d->pod_ready != (int)st->ready ||
        d->pod_healthy != (int)st->healthy) {
        d->pod_phase = (int)st->phase;
        d->pod_ready = st->ready;
        d->pod_healthy = st->healthy;
        drv_trace(d, "pod", "status", "phase=%s ready=%d healthy=%d", sup_pod_phase_name(st->phase),
                  st->ready, st->healthy);
    }
    for (size_t i = 0; i < d->n && i < st->n; i++) {
        const struct sup_ctr_status *cs = &st->ctr[i];
        struct ctr_traced *seen = &d->traced[i];
        const char *ph = sup_ctr_phase_name(cs->phase);
        if (!seen->phase_known || seen->phase != cs->phase) {
            seen->phase_known = true;
            seen->phase = cs->phase;
            if (cs->next_start_mono_ms > 0)
                drv_trace(d, ctr_name(d, i), "phase", "%s delay=%lldms failures=%u", ph,
                          (long long)(cs->next_start_mono_ms - drv_now_mono_ms(d)),
                          cs->consecutive_failures);
            else
                drv_trace(d, ctr_name(d, i), "phase", "%s", ph);
        }
        if (seen->ready != cs->ready) {
            seen->ready = cs->ready;
            drv_trace(d, ctr_name(d, i), cs->ready ? "ready" : "unready", "instance=%llu",
                      (unsigned long long)cs->instance);
        }
    }
}

/* Traces what changed in the log sink's stats of one stream (rotations, failing, drops). */
static void trace_log_stats(struct drv *d, size_t ctr, enum backend_stream stream)
{
    const struct drv_log_sink *sink = &d->cfg.log;
    char error[320];
    struct logw_stats ls = sink->ops->stats(sink->self, ctr, stream, error, sizeof error);
    struct ctr_traced *seen = &d->traced[ctr];
    const char *cn = ctr_name(d, ctr), *sn = stream_name(stream);
    int s = stream == BACKEND_STDERR ? 1 : 0;
    if (ls.rotations != seen->rotations[s]) {
        seen->rotations[s] = ls.rotations;
        drv_trace(d, cn, "log-rotated", "%s rotations=%llu", sn, (unsigned long long)ls.rotations);
    }
    if (ls.failing != seen->log_failing[s]) {
        seen->log_failing[s] = ls.failing;
        if (ls.failing)
            drv_trace(d, cn, "log-failing", "%s backlog=%llu: %s", sn,
                      (unsigned long long)ls.backlog_bytes, error);
        else
            drv_trace(d, cn, "log-recovered", "%s", sn);
    }
    if (ls.dropped_lines != seen->dropped[s]) {
        seen->dropped[s] = ls.dropped_lines;
        drv_trace(d, cn, "log-dropped", "%s lines=%llu", sn, (unsigned long long)ls.dropped_lines);
    }
}

/* ------------------------------------------------------------------ actions */

/* Makes the backend call for action a, traced under the container (or pod) it is about.
 * *call names it for the trace of a failure. */
static int call_backend(struct drv *d, const struct sup_action *a, const char **call,
                        struct pod_err *err)
{
    const struct backend *be = &d->cfg.backend;
    const char *cn = ctr_name(d, a->ctr);
    unsigned long long inst = (unsigned long long)a->instance;
    switch (a->type) {
    case SUP_ACT_POD_CREATE:
        *call = "create";
        drv_trace(d, "pod", "create", "%s", "");
        return be->ops->pod_create(be->self, err);
    case SUP_ACT_CTR_START:
        *call = "start";
        drv_trace(d, cn, "start", "instance=%llu", inst);
        return be->ops->ctr_start(be->self, a->ctr, a->instance, err);
    case SUP_ACT_CTR_STOP:
        *call = "stop";
        drv_trace(d, cn, "stop", "instance=%llu timeout=%lldms", inst, (long long)a->timeout_ms);
        return be->ops->ctr_stop(be->self, a->ctr, a->instance, a->timeout_ms, err);
    case SUP_ACT_CTR_KILL:
        *call = "kill";
        drv_trace(d, cn, "kill", "instance=%llu sig=%d", inst, a->sig);
        return be->ops->ctr_kill(be->self, a->ctr, a->instance, a->sig, err);
    case SUP_ACT_CTR_REMOVE:
        *call = "remove";
        drv_trace(d, cn, "remove", "%s", "");
        return be->ops->ctr_remove(be->self, a->ctr, err);
    case SUP_ACT_PROBE: {
        struct backend_probe_req req = a->probe;
        req.role = (int)a->role;
        *call = sup_probe_role_name(a->role);
        drv_trace(d, cn, a->role == SUP_PROBE_SIGNAL_CMD ? "exec" : "probe", "%s instance=%llu",
                  sup_probe_role_name(a->role), (unsigned long long)req.instance);
        return be->ops->probe(be->self, &req, err);
    }
    case SUP_ACT_CANCEL:
        *call = "cancel";
        drv_trace(d, cn, "cancel", "%s", sup_probe_role_name(a->role));
        return be->ops->cancel(be->self, a->tag, err);
    case SUP_ACT_SIGNAL:
        *call = "signal";
        drv_trace(d, cn, "signal", "instance=%llu sig=%d", inst, a->sig);
        return be->ops->ctr_kill(be->self, a->ctr, a->instance, a->sig, err);
    default:
        return 0;
    }
}

/* A NOTE: the daemon log and the trace (the subject column names the container already, so a
 * "name: " prefix is dropped there). */
/* Keeps text as the last problem of container ctr (the pod's when ctr is no container). */
static void remember_warning(struct drv *d, size_t ctr, const char *fmt, ...) POD_PRINTF(3, 4);
static void remember_warning(struct drv *d, size_t ctr, const char *fmt, ...)
{
    struct drv_warning *w = &d->warn[ctr < d->n ? ctr : d->n];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->text, sizeof w->text, fmt, ap);
    va_end(ap);
    int64_t s = clk_wall_ns(&d->cfg.clk) / 1000000000;
    w->wall_s = s > 0 ? s : 1;
}

static void note(struct drv *d, const struct sup_action *a)
{
    const char *cn = ctr_name(d, a->ctr);
    const char *text = a->text;
    size_t cl = strlen(cn);
    int level = a->level ? a->level : POD_LOG_INFO;
    pod_log(level, "%s", a->text);
    if (a->ctr < d->n && strncmp(text, cn, cl) == 0 && text[cl] == ':' && text[cl + 1] == ' ')
        text += cl + 2;
    if (level <= POD_LOG_WARN)
        remember_warning(d, a->ctr, "%s", text);
    drv_trace(d, cn, "note", "%s", text);
}

/* Carries out one action.  A backend call that fails is traced, logged and answered by the
 * supervisor: it becomes a CALL_FAILED event, queued (sup_step is never re-entered). */
static void exec_action(struct drv *d, const struct sup_action *a)
{
    struct pod_err err = POD_ERR_ZERO;
    const char *call = "";
    switch (a->type) {
    case SUP_ACT_STATUS:
        d->files.dirty = true;
        return;
    case SUP_ACT_NOTE:
        note(d, a);
        return;
    case SUP_ACT_POD_STOPPED:
        drv_trace(d, "pod", "stopped", "%s", "");
        d->stopped = true;
        d->files.dirty = true;
        return;
    case SUP_ACT_POD_CREATE:
    case SUP_ACT_CTR_START:
        d->stopped = false;
        if (!d->started_wall_s)
            d->started_wall_s = clk_wall_ns(&d->cfg.clk) / 1000000000;
        break;
    default:
        break;
    }
    if (call_backend(d, a, &call, &err) == 0)
        return;
    const char *cn = ctr_name(d, a->ctr);
    drv_trace(d, cn, "call-failed", "%s: %s", call, err.msg);
    pod_log(POD_LOG_WARN, "%s: %s failed: %s", cn, call, err.msg);
    remember_warning(d, a->ctr, "%s failed: %s", call, err.msg);
    struct sup_event ev = sup_call_failed_event(a, err.msg);
    pend_push(d, &ev);
}

static void feed(struct drv *d, const struct sup_event *ev)
{
    sup_actions_clear(&d->acts);
    sup_step(d->sup, ev, drv_now_mono_ms(d), &d->acts);
    for (size_t i = 0; i < d->acts.n; i++)
        exec_action(d, &d->acts.v[i]);
    sup_actions_clear(&d->acts);
}

static void drain_pending(struct drv *d)
{
    while (d->pend_len > 0) {
        struct sup_event ev = d->pend[d->pend_head];
        d->pend_head = (d->pend_head + 1) % d->pend_cap;
        d->pend_len--;
        feed(d, &ev);
    }
}

/* ------------------------------------------------------------------ backend events */

static void on_output(struct drv *d, const struct backend_event *e)
{
    const struct drv_log_sink *sink = &d->cfg.log;
    int64_t wall_ns = clk_wall_ns(&d->cfg.clk);
    if (e->ctr >= d->n)
        return;
    if (e->type == BACKEND_EV_OUTPUT)
        sink->ops->write(sink->self, e->ctr, e->stream, e->data, e->len, wall_ns);
    else
        sink->ops->eof(sink->self, e->ctr, e->stream, wall_ns);
    trace_log_stats(d, e->ctr, e->stream);
}

/* Traces a probe result under the role of the request the supervisor has in flight; one it has
 * not (late, cancelled, duplicated) is not traced here: the supervisor ignores it with a NOTE. */
static void trace_exec_done(struct drv *d, const struct backend_event *e)
{
    size_t ctr;
    enum sup_probe_role role;
    if (!sup_request_in_flight(d->sup, e->tag, &ctr, &role))
        return;
    static const char *const names[] = {[BACKEND_OK] = "ok",
                                        [BACKEND_FAIL] = "fail",
                                        [BACKEND_UNKNOWN] = "error",
                                        [BACKEND_TIMEOUT] = "timeout",
                                        [BACKEND_CANCELLED] = "cancelled"};
    const char *result =
        (unsigned)e->result < sizeof names / sizeof names[0] ? names[e->result] : "error";
    drv_trace(d, ctr_name(d, e->ctr), role == SUP_PROBE_SIGNAL_CMD ? "exec-done" : "probe-done",
              "%s %s code=%d", sup_probe_role_name(role), result, e->exit_code);
}

/* A call that had returned 0 failed later (BACKEND_EV_CALL_FAILED): traced, logged and handed to
 * the supervisor as if it had failed at once.  A kill is a CTR_KILL when its signal is SIGKILL,
 * else a SIGNAL action (the supervisor sends SIGKILL only as CTR_KILL).  A pod removal is
 * nobody's action in the supervisor: only traced and logged. */
static void on_call_failed(struct drv *d, const struct backend_event *e)
{
    static const struct {
        enum sup_action_type type; /* 0: no action of the supervisor */
        const char *call;          /* as call_backend names it */
    } map[] = {
        [BACKEND_OP_NONE] = {0, "?"},
        [BACKEND_OP_POD_CREATE] = {SUP_ACT_POD_CREATE, "create"},
        [BACKEND_OP_POD_REMOVE] = {0, "pod-remove"},
        [BACKEND_OP_STOP] = {SUP_ACT_CTR_STOP, "stop"},
        [BACKEND_OP_KILL] = {SUP_ACT_CTR_KILL, "kill"},
        [BACKEND_OP_REMOVE] = {SUP_ACT_CTR_REMOVE, "remove"},
        [BACKEND_OP_CANCEL] = {SUP_ACT_CANCEL, "cancel"},
    };
    unsigned op = (unsigned)e->op < sizeof map / sizeof map[0] ? (unsigned)e->op : 0;
    struct sup_action a;
    memset(&a, 0, sizeof a);
    a.type = map[op].type;
    a.ctr = e->ctr < d->n && op != BACKEND_OP_POD_CREATE ? e->ctr : SIZE_MAX;
    a.instance = e->instance;
    a.tag = e->tag;
    a.sig = e->exit_code;
    const char *call = map[op].call;
    if (op == BACKEND_OP_KILL && a.sig != sup_signal_number("KILL")) {
        a.type = SUP_ACT_SIGNAL;
        call = "signal";
    }
    drv_trace(d, ctr_name(d, a.ctr), "call-failed", "%s (async): %s", call, e->msg);
    pod_log(POD_LOG_WARN, "%s: %s failed: %s", ctr_name(d, a.ctr), call, e->msg);
    remember_warning(d, a.ctr, "%s failed: %s", call, e->msg);
    if (!a.type || (a.ctr == SIZE_MAX && a.type != SUP_ACT_POD_CREATE))
        return;
    struct sup_event ev = sup_call_failed_event(&a, e->msg);
    feed(d, &ev);
    drain_pending(d);
}

static void on_backend(struct drv *d, const struct backend_event *e)
{
    const char *cn = ctr_name(d, e->ctr);
    unsigned long long inst = (unsigned long long)e->instance;
    switch (e->type) {
    case BACKEND_EV_OUTPUT:
    case BACKEND_EV_OUTPUT_EOF:
        on_output(d, e);
        return;
    case BACKEND_EV_CALL_FAILED:
        on_call_failed(d, e);
        return;
    case BACKEND_EV_WARNING:
        drv_trace(d, cn, "warning", "%s", e->msg);
        pod_log(POD_LOG_WARN, "%s: %s", cn, e->msg);
        remember_warning(d, e->ctr, "%s", e->msg);
        return;
    case BACKEND_EV_STARTED:
        drv_trace(d, cn, "started", "instance=%llu", inst);
        break;
    case BACKEND_EV_START_FAILED:
        drv_trace(d, cn, "start-failed", "instance=%llu %s", inst, e->msg);
        remember_warning(d, e->ctr, "start failed: %s", e->msg);
        break;
    case BACKEND_EV_EXITED:
        drv_trace(d, cn, "exited", "instance=%llu code=%d", inst, e->exit_code);
        break;
    case BACKEND_EV_EXEC_DONE:
        trace_exec_done(d, e);
        break;
    case BACKEND_EV_INFRA_DOWN:
        drv_trace(d, ctr_name(d, SIZE_MAX), "infra-down", "%s", e->msg);
        pod_log(POD_LOG_WARN, "podman backend: the pod's infra container is down: %s", e->msg);
        remember_warning(d, SIZE_MAX, "infra container down: %s", e->msg);
        break;
    default:
        return;
    }
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_BACKEND;
    ev.backend = *e;
    ev.backend.data = NULL;
    ev.backend.len = 0;
    feed(d, &ev);
    drain_pending(d);
}

static bool poll_backend(struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    struct backend_event evs[POLL_BATCH];
    struct pod_err err = POD_ERR_ZERO;
    bool any = false;
    for (int round = 0; round < 1000; round++) {
        int n = be->ops->poll_events(be->self, evs, POLL_BATCH, &err);
        if (n <= 0)
            break;
        any = true;
        for (int i = 0; i < n; i++)
            on_backend(d, &evs[i]);
        if (n < POLL_BATCH)
            break;
    }
    return any;
}

/* ------------------------------------------------------------------ adoption */

/* The ADOPT line of the trace, when inspect says something new about ctr i (the supervisor may
 * keep a container adopting while a start is in flight: then it is inspected every second). */
static void trace_adopt(struct drv *d, size_t i, const struct backend_ctr_state *st)
{
    const struct backend_ctr_state *seen = &d->adopt_seen[i];
    if (d->adopt_fed[i] && seen->exists == st->exists && seen->running == st->running &&
        seen->instance == st->instance && seen->exit_code == st->exit_code &&
        (seen->finished_wall_ns > 0) == (st->finished_wall_ns > 0))
        return;
    d->adopt_seen[i] = *st;
    drv_trace(d, ctr_name(d, i), "adopt", "exists=%d running=%d instance=%llu code=%d%s",
              st->exists, st->running, (unsigned long long)st->instance, st->exit_code,
              st->exists && !st->running && !st->finished_wall_ns ? " (created, never ran)" : "");
}

/* Adopts every container still pending: SUP_EV_ADOPT with inspect's view, again every
 * DRV_ADOPT_RETRY_MS while inspect fails or the supervisor still shows the container adopting
 * (a start of the dead daemon may be in flight, or its removal not confirmed: the supervisor
 * decides, SPEC.md 8.9). */
static void adopt(struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    bool left = false;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->adopt_pending[i])
            continue;
        if (d->adopt_fed[i] && sup_status(d->sup)->ctr[i].phase != SUP_CTR_ADOPTING) {
            d->adopt_pending[i] = false; /* adopted meanwhile (e.g. considered gone) */
            continue;
        }
        struct pod_err err = POD_ERR_ZERO;
        struct sup_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SUP_EV_ADOPT;
        ev.ctr = i;
        ev.wall_ns = clk_wall_ns(&d->cfg.clk); /* places inspect's wall times at now */
        if (be->ops->inspect(be->self, i, &ev.adopt, &err) < 0) {
            drv_trace(d, ctr_name(d, i), "call-failed", "inspect: %s", err.msg);
            left = true;
            continue;
        }
        trace_adopt(d, i, &ev.adopt);
        d->adopt_fed[i] = true;
        feed(d, &ev);
        drain_pending(d);
        d->adopt_pending[i] = sup_status(d->sup)->ctr[i].phase == SUP_CTR_ADOPTING;
        left = left || d->adopt_pending[i];
    }
    d->adopt_retry_at_mono_ms = left ? drv_now_mono_ms(d) + DRV_ADOPT_RETRY_MS : INT64_MAX;
}

/* ------------------------------------------------------------------ reconcile */

static enum mismatch mismatch_of(const struct sup_ctr_status *cs,
                                 const struct backend_ctr_state *in)
{
    bool same = in->exists && in->instance == cs->instance;
    if (cs->running && same && !in->running && in->finished_wall_ns > 0)
        return MISMATCH_EXITED;
    if (cs->running && !same)
        return MISMATCH_GONE;
    if (!cs->running && same && in->running && cs->phase == SUP_CTR_CREATING)
        return MISMATCH_STARTED;
    return MISMATCH_NONE;
}

/* Repairs the event container i lost, as the mismatch with inspect says. */
static void repair(struct drv *d, size_t i, enum mismatch m, uint64_t inst, int exit_code)
{
    const char *cn = ctr_name(d, i);
    switch (m) {
    case MISMATCH_EXITED:
        drv_trace(d, cn, "reconcile", "exited instance=%llu code=%d (event lost)",
                  (unsigned long long)inst, exit_code);
        pend_repaired(d, BACKEND_EV_EXITED, i, inst, exit_code, NULL);
        break;
    case MISMATCH_STARTED:
        drv_trace(d, cn, "reconcile", "started instance=%llu (event lost)",
                  (unsigned long long)inst);
        pend_repaired(d, BACKEND_EV_STARTED, i, inst, 0, NULL);
        break;
    case MISMATCH_GONE:
        drv_trace(d, cn, "reconcile", "instance=%llu is gone", (unsigned long long)inst);
        pend_repaired(d, BACKEND_EV_EXITED, i, inst, 137, "container gone");
        break;
    default:
        break;
    }
}

/* Inspect is the truth: repairs lost STARTED / EXITED events.  An exit inspect shows is
 * repaired at once; the ambiguous cases only when seen in two rounds in a row. */
static void reconcile(struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    const struct sup_status *st = sup_status(d->sup);
    for (size_t i = 0; i < d->n && i < st->n; i++) {
        const struct sup_ctr_status *cs = &st->ctr[i];
        uint64_t inst = cs->instance;
        struct pod_err err = POD_ERR_ZERO;
        struct backend_ctr_state in;
        if (inst == 0 || d->adopt_pending[i] || be->ops->inspect(be->self, i, &in, &err) < 0)
            continue;
        enum mismatch m = mismatch_of(cs, &in);
        bool seen_before = d->mismatch_instance[i] == inst && d->mismatch_seen[i] == m;
        d->mismatch_instance[i] = 0;
        if (m == MISMATCH_NONE)
            continue;
        if (m != MISMATCH_EXITED && !seen_before) {
            d->mismatch_instance[i] = inst;
            d->mismatch_seen[i] = m;
            continue;
        }
        repair(d, i, m, inst, in.exit_code);
    }
    drain_pending(d);
}

/* ------------------------------------------------------------------ the log sink's retry */

static bool log_needs_retry(const struct drv *d)
{
    const struct drv_log_sink *sink = &d->cfg.log;
    for (size_t i = 0; i < d->n; i++)
        for (int s = 0; s < 2; s++) {
            struct logw_stats ls = sink->ops->stats(sink->self, i, (enum backend_stream)s, NULL, 0);
            if (ls.backlog_bytes > 0 || ls.failing)
                return true;
        }
    return false;
}

/* The sink's retry timer: retries, traces what changed; armed while a stream waits for the
 * disk.  Returns true when the retry ran. */
static bool log_retry_due(struct drv *d, int64_t now)
{
    bool ran = false;
    if (d->log_retry_at_mono_ms <= now) {
        d->log_retry_at_mono_ms = INT64_MAX;
        d->cfg.log.ops->retry(d->cfg.log.self, clk_wall_ns(&d->cfg.clk));
        for (size_t i = 0; i < d->n; i++) {
            trace_log_stats(d, i, BACKEND_STDOUT);
            trace_log_stats(d, i, BACKEND_STDERR);
        }
        ran = true;
    }
    if (d->log_retry_at_mono_ms == INT64_MAX && log_needs_retry(d))
        d->log_retry_at_mono_ms = now + LOGW_DEFAULT_RETRY_MS;
    return ran;
}

/* ------------------------------------------------------------------ API */

/* A status/state file name: NULL (the default) or a plain, non-empty name in the pod dir. */
static bool file_name_ok(const char *name)
{
    return !name || (*name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."));
}

int drv_new(const struct drv_cfg *cfg, struct drv **out, struct pod_err *err)
{
    const char *why = NULL;
    if (!cfg->spec || !cfg->backend.ops || !cfg->clk.mono_ms || !cfg->fs.ops || !cfg->dir ||
        !cfg->log.ops)
        why = "incomplete configuration";
    else if (!file_name_ok(cfg->status_file) || !file_name_ok(cfg->state_file))
        why = "the status and state files must be plain file names";
    if (why) {
        if (cfg->log.ops)
            cfg->log.ops->close(cfg->log.self);
        return pod_err_set(err, POD_E_INVALID, 0, "drv_new: %s", why);
    }
    struct drv *d = xcalloc(1, sizeof *d);
    d->cfg = *cfg;
    if (d->cfg.reconcile_ms <= 0)
        d->cfg.reconcile_ms = DRV_DEFAULT_RECONCILE_MS;
    if (d->cfg.status_refresh_ms <= 0)
        d->cfg.status_refresh_ms = DRV_DEFAULT_STATUS_REFRESH_MS;
    d->spec = cfg->spec;
    d->n = cfg->spec->n_containers;
    d->sup = sup_new(cfg->spec, cfg->seed);
    d->adopt_pending = xcalloc(d->n + 1, sizeof *d->adopt_pending);
    d->adopt_fed = xcalloc(d->n + 1, sizeof *d->adopt_fed);
    d->adopt_seen = xcalloc(d->n + 1, sizeof *d->adopt_seen);
    d->mismatch_instance = xcalloc(d->n + 1, sizeof *d->mismatch_instance);
    d->mismatch_seen = xcalloc(d->n + 1, sizeof *d->mismatch_seen);
    d->traced = xcalloc(d->n + 1, sizeof *d->traced);
    d->warn = xcalloc(d->n + 1, sizeof *d->warn);
    d->adopt_retry_at_mono_ms = INT64_MAX;
    d->created_wall_s = clk_wall_ns(&cfg->clk) / 1000000000;
    d->pod_phase = d->pod_ready = d->pod_healthy = -1;
    d->reconcile_at_mono_ms = drv_now_mono_ms(d) + d->cfg.reconcile_ms;
    d->log_retry_at_mono_ms = INT64_MAX;
    drv_files_init(d);
    *out = d;
    return 0;
}

/* Reads `created`, `started` and the supervisor's state from the text of .pod.state. */
static int restore_state(struct drv *d, const char *state_text, struct pod_err *err)
{
    json_error_t je;
    json_t *root = json_loads(state_text, 0, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return pod_err_set(err, POD_E_CORRUPT, 0, "state file: %s (line %d)", je.text, je.line);
    }
    json_t *created = json_object_get(root, "created");
    json_t *started = json_object_get(root, "started");
    if (json_is_integer(created))
        d->created_wall_s = json_integer_value(created);
    if (json_is_integer(started))
        d->started_wall_s = json_integer_value(started);
    json_t *sup_state = json_object_get(root, "sup");
    int rc = 0;
    if (sup_state && !json_is_null(sup_state)) {
        char *text = json_dumps(sup_state, JSON_COMPACT);
        rc = text ? sup_restore(d->sup, text, err) : -1;
        free(text);
        if (rc < 0)
            rc = pod_err_wrap(err, "restoring the supervisor state");
    }
    json_decref(root);
    return rc;
}

int drv_recover(struct drv *d, const char *state_text, struct pod_err *err)
{
    if (state_text && *state_text && restore_state(d, state_text, err) < 0)
        return -1;
    for (size_t i = 0; i < d->n; i++)
        d->adopt_pending[i] = true;
    adopt(d);
    trace_changes(d);
    /* the previous daemon died after the pod stopped (before it could exit): it stays stopped,
     * and this daemon has nothing to supervise either (SPEC 10.1) */
    if (sup_status(d->sup)->phase == SUP_POD_EXITED)
        d->stopped = true;
    return 0;
}

void drv_input(struct drv *d, const struct sup_event *ev)
{
    const struct backend *be = &d->cfg.backend;
    if (ev->type == SUP_EV_RERUN && be->ops->ctr_renew && ev->ctr < d->n)
        be->ops->ctr_renew(be->self, ev->ctr); /* before the supervisor's stop and start */
    feed(d, ev);
    drain_pending(d);
    trace_changes(d);
    if (d->files.dirty)
        drv_files_write(d, false, false);
}

/* One round of drv_run: everything due at now; true when something was done. */
static bool run_due(struct drv *d, int64_t now)
{
    bool work = poll_backend(d);
    drain_pending(d);
    if (d->adopt_retry_at_mono_ms <= now) {
        adopt(d);
        work = true;
    }
    int64_t near = d->cfg.status_refresh_ms / 2;
    bool refresh_due = d->files.refresh_at_mono_ms <= now;
    if (d->reconcile_at_mono_ms <= now ||
        (d->cfg.coalesce_timers && refresh_due && d->reconcile_at_mono_ms - now <= near)) {
        d->reconcile_at_mono_ms = now + d->cfg.reconcile_ms;
        reconcile(d);
        work = true;
        if (d->cfg.coalesce_timers && !refresh_due && d->files.refresh_at_mono_ms - now <= near)
            d->files.refresh_at_mono_ms = now; /* rewritten by drv_files_due below */
    }
    if (sup_next_deadline(d->sup) <= now) {
        struct sup_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SUP_EV_TICK;
        feed(d, &ev);
        drain_pending(d);
        work = true;
    }
    if (log_retry_due(d, now))
        work = true;
    trace_changes(d);
    drv_files_due(d, now);
    return work;
}

void drv_run(struct drv *d)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        int64_t now = drv_now_mono_ms(d);
        /* loop while something is still due now */
        if (!run_due(d, now) || drv_next_deadline(d) > now)
            break;
    }
}

int64_t drv_next_deadline(const struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    int64_t m = be->ops->next_deadline(be->self);
    int64_t timers[] = {sup_next_deadline(d->sup), d->adopt_retry_at_mono_ms,
                        d->reconcile_at_mono_ms, d->log_retry_at_mono_ms,
                        drv_files_next_deadline(d)};
    for (size_t i = 0; i < sizeof timers / sizeof timers[0]; i++)
        if (timers[i] < m)
            m = timers[i];
    if (d->pend_len > 0)
        m = drv_now_mono_ms(d);
    return m;
}

const char *drv_last_warning(const struct drv *d, size_t ctr, int64_t *wall_s)
{
    const struct drv_warning *w = &d->warn[ctr < d->n ? ctr : d->n];
    *wall_s = w->wall_s;
    return w->wall_s ? w->text : NULL;
}

const struct sup_status *drv_sup_status(const struct drv *d)
{
    return sup_status(d->sup);
}

bool drv_pod_stopped(const struct drv *d)
{
    return d->stopped;
}

struct logw_stats drv_log_stats(const struct drv *d, size_t ctr, int stream)
{
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    if (ctr >= d->n || stream < 0 || stream > 1)
        return z;
    return d->cfg.log.ops->stats(d->cfg.log.self, ctr, (enum backend_stream)stream, NULL, 0);
}

void drv_free(struct drv *d)
{
    if (!d)
        return;
    d->cfg.log.ops->close(d->cfg.log.self);
    sup_free(d->sup);
    sup_actions_free(&d->acts);
    drv_files_free(&d->files);
    free(d->pend);
    free(d->adopt_pending);
    free(d->adopt_fed);
    free(d->adopt_seen);
    free(d->mismatch_instance);
    free(d->mismatch_seen);
    free(d->traced);
    free(d->warn);
    free(d);
}
