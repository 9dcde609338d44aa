/* SPDX-License-Identifier: MIT */
/* drv.c - the driver: sup actions -> backend calls, backend events -> sup events, output ->
 * log writers, STATUS -> atomic .pod.status/.pod.state through the fs seam (see pod/drv.h).
 *
 * Must not: poll, sleep, read the real clock, print.  Time comes from cfg.clk; all file I/O
 * goes through cfg.fs.  Synthesised events (a failed call, a probe deadline, a repaired lost
 * event) go through a FIFO so that sup_step is never re-entered while its actions run.
 */
#include "pod/drv.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod/util.h"

#define POLL_BATCH 64
#define MAX_ROUNDS 100000

/* A status/state file write that failed: retried on its own with a bounded backoff. */
struct wr_retry {
    bool failing;      /* the last write of this file failed */
    uint64_t failures; /* consecutive failed writes */
    int64_t delay_ms;  /* delay of the next retry */
    int64_t retry_ms;  /* next retry (mono ms), INT64_MAX = none */
    int64_t tried_ms;  /* the last attempt (mono ms), -1 = none */
};

struct ctr_snap {
    bool phase_traced; /* phase holds the last phase traced */
    enum sup_ctr_phase phase;
    bool ready;
    uint64_t rotations[2], write_errors[2], dropped[2];
    bool failing[2];
};

struct drv {
    struct drv_cfg cfg;
    const struct pod_spec *spec;
    size_t n;
    struct sup *sup;
    struct sup_actions acts;
    struct logw **logs; /* 2 per container */
    char **bases;
    char *logdir, *status_path, *status_tmp, *state_path, *state_tmp;
    struct sup_event *pend; /* FIFO of synthesised events */
    size_t pend_head, pend_len, pend_cap;
    bool *adopt_pending, *adopt_waited;
    int64_t adopt_at_ms, adopt_since_ms;
    uint64_t *mism_inst; /* reconcile: a mismatch seen once (instance), 0 = none */
    int *mism_kind;
    int64_t next_reconcile_ms, next_status_ms, next_logretry_ms;
    bool status_dirty;
    bool stopped;
    int64_t created_s, started_s;
    struct ctr_snap *snap;
    struct wr_retry state_wr, status_wr;
    char *last_status;       /* last status written, for skipping identical rewrites */
    uint64_t last_sig;       /* cheap signature of what the status shows */
    uint64_t last_state_sig; /* ... of what the persisted state holds */
    int pod_phase, pod_ready, pod_healthy; /* as last traced, -1 = not yet */
};

/* ------------------------------------------------------------------ helpers */

static int64_t now_ms(const struct drv *d)
{
    return clk_mono_ms(&d->cfg.clk);
}

static void tr(struct drv *d, const char *subject, const char *event, const char *fmt, ...)
    POD_PRINTF(4, 5);

static void tr(struct drv *d, const char *subject, const char *event, const char *fmt, ...)
{
    if (!d->cfg.trace)
        return;
    char det[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(det, sizeof det, fmt, ap);
    va_end(ap);
    d->cfg.trace(d->cfg.trace_self, now_ms(d), subject, event, det);
}

static const char *cname(const struct drv *d, size_t ctr)
{
    return ctr < d->n ? d->spec->containers[ctr].name : "pod";
}

static const char *role_name(int role)
{
    static const char *const n[] = {"startup", "readiness", "liveness", "signal-cmd"};
    return role >= 0 && role < 4 ? n[role] : "probe";
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

static void pend_backend(struct drv *d, enum backend_event_type t, size_t ctr, uint64_t instance,
                         uint64_t tag, enum backend_result res, int code, const char *msg)
{
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_BACKEND;
    ev.backend.type = t;
    ev.backend.ctr = ctr;
    ev.backend.instance = instance;
    ev.backend.tag = tag;
    ev.backend.result = res;
    ev.backend.exit_code = code;
    if (msg)
        snprintf(ev.backend.msg, sizeof ev.backend.msg, "%s", msg);
    pend_push(d, &ev);
}

/* ------------------------------------------------------------------ status file */

static const char *status_word(enum sup_pod_phase p)
{
    switch (p) {
    case SUP_POD_CREATED:
        return "created";
    case SUP_POD_STARTING:
        return "starting";
    case SUP_POD_RUNNING:
    case SUP_POD_STOPPING:
        return "running";
    case SUP_POD_EXITED:
        return "exited";
    }
    return "unknown";
}

/* One vsnprintf per line (pod_buf_printf measures first): the status is rendered often. */
static void bp(struct pod_buf *b, const char *fmt, ...) POD_PRINTF(2, 3);

static void bp(struct pod_buf *b, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof line) {
        pod_buf_add(b, line, (size_t)n);
        return;
    }
    va_start(ap, fmt);
    pod_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

static char *render_status(struct drv *d)
{
    const struct pod_spec *s = d->spec;
    const struct sup_status *st = sup_status(d->sup);
    struct pod_buf b = {0};
    pod_buf_reserve(&b, 512 + 640 * s->n_containers);
    int64_t now_s = clk_wall_ns(&d->cfg.clk) / 1000000000;
    char *full = spec_pod_fullname(s);
    bp(&b, "pod: %s\n", full);
    free(full);
    bp(&b, "podVersion: %s\n", s->version ? s->version : "");
    pod_buf_adds(&b, "hostPorts:");
    for (size_t i = 0; i < s->n_containers; i++)
        for (size_t k = 0; k < s->containers[i].n_expose; k++)
            if (s->containers[i].expose[k].host_port)
                bp(&b, " %d", s->containers[i].expose[k].host_port);
    pod_buf_addc(&b, '\n');
    bp(&b, "created: %lld\n", (long long)d->created_s);
    if (d->started_s)
        bp(&b, "started: %lld\n", (long long)d->started_s);
    else
        pod_buf_adds(&b, "started:\n");
    bp(&b, "updated: %lld\n", (long long)now_s);
    bp(&b, "status: %s\n", status_word(st->phase));
    bp(&b, "phase: %s\n", sup_pod_phase_name(st->phase));
    if (d->cfg.pid && st->phase != SUP_POD_EXITED)
        bp(&b, "pid: %ld\n", d->cfg.pid);
    else
        pod_buf_adds(&b, "pid:\n");
    bp(&b, "readiness: %d\n", st->ready ? 1 : 0);
    bp(&b, "healthy: %d\n", st->healthy ? 1 : 0);
    pod_buf_adds(&b, "containers:\n");
    for (size_t i = 0; i < s->n_containers && i < st->n; i++) {
        const struct spec_container *c = &s->containers[i];
        const struct sup_ctr_status *cs = &st->ctr[i];
        char *cf = spec_container_fullname(s, i);
        bp(&b, "    - name: %s\n", c->name);
        bp(&b, "      container: %s\n", cf);
        free(cf);
        bp(&b, "      image: %s\n", c->image ? c->image : "");
        if (c->restart == SPEC_RESTART_ON_INTERVAL)
            bp(&b, "      restart: on-interval:%d\n", c->restart_interval_s);
        else
            bp(&b, "      restart: %s\n", spec_restart_name(c->restart));
        bp(&b, "      kind: %s\n", spec_ctr_kind_name(c->kind));
        bp(&b, "      startCount: %u\n", cs->start_count);
        bp(&b, "      restartCount: %u\n", cs->restart_count);
        bp(&b, "      status: %s\n", sup_ctr_phase_name(cs->phase));
        bp(&b, "      instance: %llu\n", (unsigned long long)cs->instance);
        bp(&b, "      running: %d\n", cs->running ? 1 : 0);
        bp(&b, "      ready: %d\n", cs->ready ? 1 : 0);
        bp(&b, "      live: %d\n", cs->live ? 1 : 0);
        if (cs->has_exit_code && !cs->running)
            bp(&b, "      exitCode: %d\n", cs->exit_code);
        bp(&b, "      backoffMs: %lld\n", (long long)cs->backoff_ms);
        if (cs->next_start_mono_ms > 0) {
            /* wall time of the next start (stable between rewrites, unlike "in N ms") */
            int64_t at = clk_wall_ns(&d->cfg.clk) / 1000000 + (cs->next_start_mono_ms - now_ms(d));
            bp(&b, "      nextStartMs: %lld\n", (long long)at);
        }
        bp(&b, "      failures: %u\n", cs->consecutive_failures);
        bp(&b, "      gaveUp: %d\n", cs->gave_up ? 1 : 0);
    }
    return pod_buf_take(&b);
}

/* tmp + fsync + rename through the seam.  With sync_dir the rename is made durable too (a sync of
 * the pod directory): fs_real's rename does not sync the directory itself (SPEC.md 10.2). */
static int write_atomic(struct drv *d, const char *path, const char *tmp, const char *data,
                        size_t len, bool sync_dir, struct pod_err *err)
{
    const struct fs *fs = &d->cfg.fs;
    struct pod_err e2 = POD_ERR_ZERO;
    (void)fs_unlink(fs, tmp, &e2);
    int h = fs_open_append(fs, tmp, err);
    if (h < 0)
        return -1;
    if (fs_write(fs, h, data, len, err) < 0 || fs_fsync(fs, h, err) < 0) {
        (void)fs_close(fs, h, &e2);
        (void)fs_unlink(fs, tmp, &e2);
        return -1;
    }
    if (fs_close(fs, h, err) < 0)
        return -1;
    if (fs_rename(fs, tmp, path, err) < 0)
        return -1;
    return sync_dir ? fs_sync_dir(fs, d->cfg.dir, err) : 0;
}

/* Bookkeeping after a write of file (DRV_STATE_FILE / DRV_STATUS_FILE): a failure arms the
 * retry timer (unless armed: a write made for a change does not push a due retry back) and
 * doubles the next delay up to DRV_WRITE_RETRY_MAX_MS; the first failure and the recovery are
 * traced and logged once each, not every failed retry. */
static void wr_result(struct drv *d, struct wr_retry *w, const char *file, int rc,
                      const struct pod_err *err)
{
    if (rc == 0) {
        if (w->failing) {
            tr(d, "pod", "write-recovered", "%s after %llu failed writes", file,
               (unsigned long long)w->failures);
            pod_log(POD_LOG_INFO, "%s written again after %llu failed writes", file,
                    (unsigned long long)w->failures);
        }
        memset(w, 0, sizeof *w);
        w->retry_ms = INT64_MAX;
        w->tried_ms = now_ms(d);
        return;
    }
    w->tried_ms = now_ms(d);
    w->failures++;
    if (w->delay_ms <= 0)
        w->delay_ms = DRV_WRITE_RETRY_MS;
    bool first = !w->failing;
    w->failing = true;
    int64_t delay = w->delay_ms;
    if (w->retry_ms == INT64_MAX) {
        w->retry_ms = now_ms(d) + delay;
        w->delay_ms = delay * 2 < DRV_WRITE_RETRY_MAX_MS ? delay * 2 : DRV_WRITE_RETRY_MAX_MS;
    }
    if (first)
        tr(d, "pod", "write-failing", "%s: %s; retry in %lldms", file, err->msg, (long long)delay);
    /* a write for a change may fail while the retry is already due (drv_flush_status): 0 ms */
    int64_t left = w->retry_ms > now_ms(d) ? w->retry_ms - now_ms(d) : 0;
    pod_log(first ? POD_LOG_WARN : POD_LOG_DEBUG, "could not write %s/%s: %s (retry in %lld ms)",
            d->cfg.dir, file, err->msg, (long long)left);
}

static char *render_state(struct drv *d)
{
    char *sup_text = sup_save(d->sup);
    char *out =
        xasprintf("{\"created\":%lld,\"started\":%lld,\"sup\":%s}\n", (long long)d->created_s,
                  (long long)d->started_s, sup_text && *sup_text ? sup_text : "null");
    free(sup_text);
    return out;
}

/* Compares two renderings ignoring the `updated:` line. */
static bool same_but_updated(const char *a, const char *b)
{
    const char *ua = strstr(a, "\nupdated: "), *ub = strstr(b, "\nupdated: ");
    if (!ua || !ub || ua - a != ub - b || memcmp(a, b, (size_t)(ua - a)) != 0)
        return false;
    const char *ea = strchr(ua + 1, '\n'), *eb = strchr(ub + 1, '\n');
    return ea && eb && strcmp(ea, eb) == 0;
}

/* FNV-1a over everything render_status shows except the time: lets an unchanged status be
 * skipped without rendering it. */
static uint64_t status_sig(const struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    uint64_t h = 1469598103934665603ULL;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
    MIX(st->phase);
    MIX(st->ready);
    MIX(st->healthy);
    MIX(d->started_s);
    MIX(d->created_s);
    for (size_t i = 0; i < st->n; i++) {
        const struct sup_ctr_status *c = &st->ctr[i];
        MIX(c->phase);
        MIX(c->instance);
        MIX(c->start_count);
        MIX(c->restart_count);
        MIX((c->running << 0) | (c->started << 1) | (c->ready << 2) | (c->live << 3) |
            (c->has_exit_code << 4) | (c->gave_up << 5));
        MIX(c->exit_code);
        MIX(c->backoff_ms);
        MIX(c->next_start_mono_ms);
        MIX(c->consecutive_failures);
    }
#undef MIX
    return h;
}

/* The part of the status that the persisted state also holds (readiness flapping does not
 * rewrite .pod.state). */
static uint64_t state_sig(const struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    uint64_t h = 1469598103934665603ULL;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
    MIX(st->phase);
    MIX(d->started_s);
    for (size_t i = 0; i < st->n; i++) {
        const struct sup_ctr_status *c = &st->ctr[i];
        MIX(c->instance);
        MIX(c->start_count);
        MIX(c->restart_count);
        MIX(c->has_exit_code);
        MIX(c->exit_code);
        MIX(c->backoff_ms);
        MIX(c->consecutive_failures);
        MIX(c->gave_up);
        MIX(c->started); /* startup completed: the place in the order was passed */
        MIX(c->rerun);   /* a scheduled re-run keeps the pod ready (SPEC.md 8.6) */
        MIX(c->phase == SUP_CTR_FAILED);
    }
#undef MIX
    return h;
}

/* Renders the current persisted state and writes .pod.state (synced directory). */
static void write_state(struct drv *d)
{
    struct pod_err err = POD_ERR_ZERO;
    char *st = render_state(d);
    int rc = write_atomic(d, d->state_path, d->state_tmp, st, strlen(st), true, &err);
    free(st);
    wr_result(d, &d->state_wr, DRV_STATE_FILE, rc, &err);
}

/* Retries a failed .pod.state write now (its timer, or .pod.status recovered): disarms the
 * timer and writes the current state, which also covers any change made meanwhile (so
 * flush_status needs no second write for it). */
static void retry_state(struct drv *d)
{
    d->state_wr.retry_ms = INT64_MAX;
    d->last_state_sig = state_sig(d);
    write_state(d);
}

/* Rewrites the `updated:` value of an unchanged status text (no re-rendering). */
static char *patch_updated(const char *old, int64_t now_s)
{
    const char *u = strstr(old, "\nupdated: ");
    const char *e = u ? strchr(u + 1, '\n') : NULL;
    if (!e)
        return NULL;
    return xasprintf("%.*s\nupdated: %lld%s", (int)(u - old), old, (long long)now_s, e);
}

/* Writes the persisted state whenever what it holds changed (or always with force), and
 * .pod.status when it changed (or when refresh: to advance `updated:`; or with force). */
static void flush_status(struct drv *d, bool refresh, bool force)
{
    struct pod_err err = POD_ERR_ZERO;
    uint64_t sig = status_sig(d);
    /* .pod.state first, and before the early returns below: some of what it holds is not shown
     * in .pod.status (the re-run marker, `started`), so a change of only that must not wait
     * for the next refresh */
    uint64_t ssig = state_sig(d);
    if (force || ssig != d->last_state_sig) {
        d->last_state_sig = ssig; /* a failed write is retried by its timer (state_wr) */
        write_state(d);
    }
    if (!refresh && !force && d->last_status && sig == d->last_sig) {
        d->status_dirty = false;
        return;
    }
    char *txt = NULL;
    if (!force && d->last_status && sig == d->last_sig)
        txt = patch_updated(d->last_status, clk_wall_ns(&d->cfg.clk) / 1000000000);
    if (!txt)
        txt = render_status(d);
    d->last_sig = sig;
    d->status_dirty = false;
    bool changed = !d->last_status || !same_but_updated(txt, d->last_status);
    if (!changed && !refresh && !force) {
        free(txt); /* nothing visible changed; the periodic refresh updates `updated:` */
        return;
    }
    bool status_was_failing = d->status_wr.failing;
    int rc = write_atomic(d, d->status_path, d->status_tmp, txt, strlen(txt), false, &err);
    free(d->last_status);
    if (rc < 0) {
        free(txt);
        d->last_status = NULL; /* rendered afresh by the retry (status_wr) or the refresh */
    } else {
        d->last_status = txt;
    }
    wr_result(d, &d->status_wr, DRV_STATUS_FILE, rc, &err);
    /* .pod.status recovered: the disk takes writes again, so a failing .pod.state is brought
     * up to date now rather than at its retry (up to 30 s later).  Only on that recovery: when
     * .pod.status never failed, the state's own failure (e.g. its directory sync) keeps its
     * backoff instead of an attempt at every 5 s refresh.  Not twice in the same ms. */
    if (rc == 0 && status_was_failing && d->state_wr.failing && d->state_wr.tried_ms != now_ms(d))
        retry_state(d);
    d->next_status_ms = now_ms(d) + d->cfg.status_refresh_ms;
}

void drv_flush_status(struct drv *d)
{
    flush_status(d, true, true);
}

/* Traces phase/readiness changes (a readable summary of the status file). */
static void trace_changes(struct drv *d)
{
    const struct sup_status *st = sup_status(d->sup);
    const char *pp = sup_pod_phase_name(st->phase);
    if (d->pod_phase != (int)st->phase || d->pod_ready != (int)st->ready ||
        d->pod_healthy != (int)st->healthy) {
        d->pod_phase = (int)st->phase;
        d->pod_ready = st->ready;
        d->pod_healthy = st->healthy;
        tr(d, "pod", "status", "phase=%s ready=%d healthy=%d", pp, st->ready, st->healthy);
    }
    for (size_t i = 0; i < d->n && i < st->n; i++) {
        const struct sup_ctr_status *cs = &st->ctr[i];
        const char *ph = sup_ctr_phase_name(cs->phase);
        struct ctr_snap *sn = &d->snap[i];
        if (!sn->phase_traced || sn->phase != cs->phase) {
            sn->phase_traced = true;
            sn->phase = cs->phase;
            if (cs->next_start_mono_ms > 0)
                tr(d, cname(d, i), "phase", "%s delay=%lldms failures=%u", ph,
                   (long long)(cs->next_start_mono_ms - now_ms(d)), cs->consecutive_failures);
            else
                tr(d, cname(d, i), "phase", "%s", ph);
        }
        if (sn->ready != cs->ready) {
            sn->ready = cs->ready;
            tr(d, cname(d, i), cs->ready ? "ready" : "unready", "instance=%llu",
               (unsigned long long)cs->instance);
        }
    }
}

/* ------------------------------------------------------------------ actions */

/* Makes the backend call for action a, traced under the container (or pod) it is about.
 * *call names it for the trace of a failure. */
static int call_backend(struct drv *d, const struct sup_action *a, const char **call,
                        struct pod_err *err)
{
    const struct backend *be = &d->cfg.backend;
    const char *cn = cname(d, a->ctr);
    unsigned long long inst = (unsigned long long)a->instance;
    switch (a->type) {
    case SUP_ACT_POD_CREATE:
        *call = "create";
        tr(d, "pod", "create", "%s", "");
        return be->ops->pod_create(be->self, err);
    case SUP_ACT_CTR_START:
        *call = "start";
        tr(d, cn, "start", "instance=%llu", inst);
        return be->ops->ctr_start(be->self, a->ctr, a->instance, err);
    case SUP_ACT_CTR_STOP:
        *call = "stop";
        tr(d, cn, "stop", "instance=%llu timeout=%lldms", inst, (long long)a->timeout_ms);
        return be->ops->ctr_stop(be->self, a->ctr, a->instance, a->timeout_ms, err);
    case SUP_ACT_CTR_KILL:
        *call = "kill";
        tr(d, cn, "kill", "instance=%llu sig=%d", inst, a->sig);
        return be->ops->ctr_kill(be->self, a->ctr, a->instance, a->sig, err);
    case SUP_ACT_CTR_REMOVE:
        *call = "remove";
        tr(d, cn, "remove", "%s", "");
        return be->ops->ctr_remove(be->self, a->ctr, err);
    case SUP_ACT_PROBE: {
        struct backend_probe_req req = a->probe;
        req.role = (int)a->role;
        *call = role_name((int)a->role);
        tr(d, cn, a->role == SUP_PROBE_SIGNAL_CMD ? "exec" : "probe", "%s instance=%llu",
           role_name((int)a->role), (unsigned long long)req.instance);
        return be->ops->probe(be->self, &req, err);
    }
    case SUP_ACT_CANCEL:
        *call = "cancel";
        tr(d, cn, "cancel", "%s", role_name((int)a->role));
        return be->ops->cancel(be->self, a->tag, err);
    case SUP_ACT_SIGNAL:
        *call = "signal";
        tr(d, cn, "signal", "instance=%llu sig=%d", inst, a->sig);
        return be->ops->ctr_kill(be->self, a->ctr, a->instance, a->sig, err);
    default:
        return 0;
    }
}

/* A NOTE: the daemon log and the trace (the subject column names the container already, so a
 * "name: " prefix is dropped there). */
static void note(struct drv *d, const struct sup_action *a)
{
    const char *cn = cname(d, a->ctr);
    const char *txt = a->text;
    size_t cl = strlen(cn);
    pod_log(a->level ? a->level : POD_LOG_INFO, "%s", a->text);
    if (a->ctr < d->n && strncmp(txt, cn, cl) == 0 && txt[cl] == ':' && txt[cl + 1] == ' ')
        txt += cl + 2;
    tr(d, a->ctr < d->n ? cn : "pod", "note", "%s", txt);
}

/* Carries out one action.  A backend call that fails is traced, logged and answered by the
 * supervisor: it becomes a CALL_FAILED event, queued (sup_step is never re-entered). */
static void exec_action(struct drv *d, const struct sup_action *a)
{
    struct pod_err err = POD_ERR_ZERO;
    const char *call = "";
    switch (a->type) {
    case SUP_ACT_STATUS:
        d->status_dirty = true;
        return;
    case SUP_ACT_NOTE:
        note(d, a);
        return;
    case SUP_ACT_POD_STOPPED:
        tr(d, "pod", "stopped", "%s", "");
        d->stopped = true;
        d->status_dirty = true;
        return;
    case SUP_ACT_POD_CREATE:
    case SUP_ACT_CTR_START:
        d->stopped = false;
        if (!d->started_s)
            d->started_s = clk_wall_ns(&d->cfg.clk) / 1000000000;
        break;
    default:
        break;
    }
    if (call_backend(d, a, &call, &err) == 0)
        return;
    const char *cn = cname(d, a->ctr);
    tr(d, cn, "call-failed", "%s: %s", call, err.msg);
    pod_log(POD_LOG_WARN, "%s: %s failed: %s", cn, call, err.msg);
    struct sup_event ev = sup_call_failed_event(a, err.msg);
    pend_push(d, &ev);
}

static void feed(struct drv *d, const struct sup_event *ev)
{
    sup_actions_clear(&d->acts);
    sup_step(d->sup, ev, now_ms(d), &d->acts);
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

static void log_trace_stats(struct drv *d, size_t ctr, int s)
{
    struct logw *w = d->logs[2 * ctr + (size_t)s];
    if (!w)
        return;
    struct logw_stats ls = logw_stats(w);
    struct ctr_snap *sn = &d->snap[ctr];
    const char *sname = s ? "stderr" : "stdout";
    if (ls.rotations != sn->rotations[s]) {
        sn->rotations[s] = ls.rotations;
        tr(d, cname(d, ctr), "log-rotated", "%s rotations=%llu", sname,
           (unsigned long long)ls.rotations);
    }
    if (ls.failing != sn->failing[s]) {
        sn->failing[s] = ls.failing;
        if (ls.failing)
            tr(d, cname(d, ctr), "log-failing", "%s backlog=%llu: %s", sname,
               (unsigned long long)ls.backlog_bytes, logw_last_error(w));
        else
            tr(d, cname(d, ctr), "log-recovered", "%s", sname);
    }
    if (ls.dropped_lines != sn->dropped[s]) {
        sn->dropped[s] = ls.dropped_lines;
        tr(d, cname(d, ctr), "log-dropped", "%s lines=%llu", sname,
           (unsigned long long)ls.dropped_lines);
    }
}

static void on_backend(struct drv *d, const struct backend_event *e)
{
    const char *cn = cname(d, e->ctr);
    int64_t wall = clk_wall_ns(&d->cfg.clk);
    struct pod_err err = POD_ERR_ZERO;
    switch (e->type) {
    case BACKEND_EV_OUTPUT:
    case BACKEND_EV_OUTPUT_EOF: {
        if (e->ctr >= d->n)
            return;
        int s = e->stream == BACKEND_STDERR ? 1 : 0;
        struct logw *w = d->logs[2 * e->ctr + (size_t)s];
        if (!w)
            return;
        if (e->type == BACKEND_EV_OUTPUT)
            (void)logw_write(w, e->data, e->len, wall, &err);
        else
            (void)logw_eof(w, wall, &err);
        log_trace_stats(d, e->ctr, s);
        return;
    }
    case BACKEND_EV_STARTED:
        tr(d, cn, "started", "instance=%llu", (unsigned long long)e->instance);
        break;
    case BACKEND_EV_START_FAILED:
        tr(d, cn, "start-failed", "instance=%llu %s", (unsigned long long)e->instance, e->msg);
        break;
    case BACKEND_EV_EXITED:
        tr(d, cn, "exited", "instance=%llu code=%d", (unsigned long long)e->instance, e->exit_code);
        break;
    case BACKEND_EV_EXEC_DONE: {
        /* labelled with the request the supervisor has in flight; a result it has not (late,
         * cancelled, duplicated) is not traced here: the supervisor ignores it with a NOTE */
        size_t ctr;
        enum sup_probe_role role;
        if (!sup_request_in_flight(d->sup, e->tag, &ctr, &role))
            break;
        const char *ev = e->result == BACKEND_OK        ? "ok"
                         : e->result == BACKEND_FAIL    ? "fail"
                         : e->result == BACKEND_TIMEOUT ? "timeout"
                                                        : "error";
        tr(d, cn, role == SUP_PROBE_SIGNAL_CMD ? "exec-done" : "probe-done", "%s %s code=%d",
           role_name((int)role), ev, e->exit_code);
        break;
    }
    default:
        return;
    }
    struct sup_event sev;
    memset(&sev, 0, sizeof sev);
    sev.type = SUP_EV_BACKEND;
    sev.backend = *e;
    sev.backend.data = NULL;
    sev.backend.len = 0;
    feed(d, &sev);
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

/* ------------------------------------------------------------------ timers */

static void adopt(struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    bool left = false;
    for (size_t i = 0; i < d->n; i++) {
        if (!d->adopt_pending[i])
            continue;
        struct pod_err err = POD_ERR_ZERO;
        struct sup_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = SUP_EV_ADOPT;
        ev.ctr = i;
        ev.wall_ns = clk_wall_ns(&d->cfg.clk); /* places inspect's wall times at now */
        if (be->ops->inspect(be->self, i, &ev.adopt, &err) < 0) {
            tr(d, cname(d, i), "call-failed", "inspect: %s", err.msg);
            left = true;
            continue;
        }
        /* Created but never finished: a `podman run` of the dead daemon may still be starting
         * it.  Wait (bounded) instead of adopting it as exited. */
        if (ev.adopt.exists && !ev.adopt.running && ev.adopt.finished_wall_ns == 0 &&
            now_ms(d) - d->adopt_since_ms < DRV_ADOPT_WAIT_MS) {
            if (!d->adopt_waited[i])
                tr(d, cname(d, i), "adopt-wait", "instance=%llu created, not running yet",
                   (unsigned long long)ev.adopt.instance);
            d->adopt_waited[i] = true;
            left = true;
            continue;
        }
        if (ev.adopt.exists && !ev.adopt.running && ev.adopt.finished_wall_ns == 0) {
            /* still created-not-run after the wait: it never ran, so it has no exit code to
             * adopt (an init container must not count as completed): adopt it as missing, the
             * supervisor starts it again (ctr_start replaces the stuck container) */
            tr(d, cname(d, i), "adopt-stuck", "instance=%llu never ran; adopted as missing",
               (unsigned long long)ev.adopt.instance);
            memset(&ev.adopt, 0, sizeof ev.adopt);
        }
        d->adopt_pending[i] = false;
        tr(d, cname(d, i), "adopt", "exists=%d running=%d instance=%llu code=%d", ev.adopt.exists,
           ev.adopt.running, (unsigned long long)ev.adopt.instance, ev.adopt.exit_code);
        feed(d, &ev);
        drain_pending(d);
    }
    d->adopt_at_ms = left ? now_ms(d) + DRV_ADOPT_RETRY_MS : INT64_MAX;
}

/* Inspect is the truth: repair lost STARTED / EXITED / START_FAILED events. */
static void reconcile(struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    const struct sup_status *st = sup_status(d->sup);
    for (size_t i = 0; i < d->n && i < st->n; i++) {
        const struct sup_ctr_status *cs = &st->ctr[i];
        uint64_t inst = cs->instance;
        if (inst == 0 || d->adopt_pending[i])
            continue;
        struct pod_err err = POD_ERR_ZERO;
        struct backend_ctr_state in;
        if (be->ops->inspect(be->self, i, &in, &err) < 0)
            continue;
        const char *cn = cname(d, i);
        bool same = in.exists && in.instance == inst;
        int kind = 0; /* 1 exited, 2 started, 3 gone */
        if (cs->running && same && !in.running && in.finished_wall_ns > 0)
            kind = 1;
        else if (cs->running && !same)
            kind = 3;
        else if (!cs->running && same && in.running && cs->phase == SUP_CTR_CREATING)
            kind = 2;
        if (kind == 0) {
            d->mism_inst[i] = 0;
            continue;
        }
        if (kind == 1) {
            tr(d, cn, "reconcile", "exited instance=%llu code=%d (event lost)",
               (unsigned long long)inst, in.exit_code);
            pend_backend(d, BACKEND_EV_EXITED, i, inst, 0, BACKEND_OK, in.exit_code, NULL);
            d->mism_inst[i] = 0;
            continue;
        }
        /* ambiguous cases act only when seen twice in a row */
        if (d->mism_inst[i] != inst || d->mism_kind[i] != kind) {
            d->mism_inst[i] = inst;
            d->mism_kind[i] = kind;
            continue;
        }
        d->mism_inst[i] = 0;
        if (kind == 2) {
            tr(d, cn, "reconcile", "started instance=%llu (event lost)", (unsigned long long)inst);
            pend_backend(d, BACKEND_EV_STARTED, i, inst, 0, BACKEND_OK, 0, NULL);
        } else {
            tr(d, cn, "reconcile", "instance=%llu is gone", (unsigned long long)inst);
            pend_backend(d, BACKEND_EV_EXITED, i, inst, 0, BACKEND_OK, 137, "container gone");
        }
    }
    drain_pending(d);
}

/* ------------------------------------------------------------------ API */

int drv_new(const struct drv_cfg *cfg, struct drv **out, struct pod_err *err)
{
    if (!cfg->spec || !cfg->backend.ops || !cfg->clk.mono_ms || !cfg->fs.ops || !cfg->dir)
        return pod_err_set(err, POD_E_INVALID, 0, "drv_new: incomplete configuration");
    struct drv *d = xcalloc(1, sizeof *d);
    d->cfg = *cfg;
    if (d->cfg.reconcile_ms <= 0)
        d->cfg.reconcile_ms = DRV_DEFAULT_RECONCILE_MS;
    if (d->cfg.status_refresh_ms <= 0)
        d->cfg.status_refresh_ms = DRV_DEFAULT_STATUS_REFRESH_MS;
    d->spec = cfg->spec;
    d->n = cfg->spec->n_containers;
    d->sup = sup_new(cfg->spec, cfg->seed);
    d->logdir = pod_path_join(cfg->dir, "log");
    d->status_path = pod_path_join(cfg->dir, DRV_STATUS_FILE);
    d->status_tmp = xasprintf("%s.tmp", d->status_path);
    d->state_path = pod_path_join(cfg->dir, DRV_STATE_FILE);
    d->state_tmp = xasprintf("%s.tmp", d->state_path);
    d->logs = xcalloc(2 * d->n + 1, sizeof *d->logs);
    d->bases = xcalloc(2 * d->n + 1, sizeof *d->bases);
    d->adopt_pending = xcalloc(d->n + 1, sizeof *d->adopt_pending);
    d->adopt_waited = xcalloc(d->n + 1, sizeof *d->adopt_waited);
    d->mism_inst = xcalloc(d->n + 1, sizeof *d->mism_inst);
    d->mism_kind = xcalloc(d->n + 1, sizeof *d->mism_kind);
    d->snap = xcalloc(d->n + 1, sizeof *d->snap);
    d->adopt_at_ms = INT64_MAX;
    d->created_s = clk_wall_ns(&cfg->clk) / 1000000000;
    d->pod_phase = d->pod_ready = d->pod_healthy = -1;
    struct pod_err e2 = POD_ERR_ZERO;
    if (fs_mkdir_p(&cfg->fs, d->logdir, &e2) < 0)
        pod_log(POD_LOG_WARN, "could not create %s: %s", d->logdir, e2.msg);
    for (size_t i = 0; i < d->n; i++) {
        char *full = spec_container_fullname(cfg->spec, i);
        for (int s = 0; s < 2; s++) {
            size_t k = 2 * i + (size_t)s;
            d->bases[k] = xasprintf("%s-%s", full, s ? "stderr" : "stdout");
            struct logw_cfg lc;
            memset(&lc, 0, sizeof lc);
            lc.fs = cfg->fs;
            lc.dir = d->logdir;
            lc.base = d->bases[k];
            lc.max_bytes = cfg->log_max_bytes ? cfg->log_max_bytes : cfg->spec->logs.max_bytes;
            lc.max_files = cfg->log_max_files ? cfg->log_max_files : cfg->spec->logs.max_files;
            /* small rotation sizes (tests, the simulator) need shorter line splits */
            if (lc.max_bytes > 0 && lc.max_bytes < 4 * (int64_t)LOGW_DEFAULT_MAX_LINE)
                lc.max_line = (size_t)(lc.max_bytes / 4 > 64 ? lc.max_bytes / 4 : 64);
            if (logw_open(&lc, &d->logs[k], &e2) < 0) {
                pod_log(POD_LOG_WARN, "log %s: %s", d->bases[k], e2.msg);
                tr(d, cname(d, i), "log-open-failed", "%s: %s", s ? "stderr" : "stdout", e2.msg);
                d->logs[k] = NULL;
            }
        }
        free(full);
    }
    d->next_reconcile_ms = now_ms(d) + d->cfg.reconcile_ms;
    d->next_status_ms = now_ms(d);
    d->next_logretry_ms = INT64_MAX;
    d->state_wr.retry_ms = d->status_wr.retry_ms = INT64_MAX;
    d->state_wr.tried_ms = d->status_wr.tried_ms = -1;
    d->status_dirty = true;
    *out = d;
    return 0;
}

int drv_recover(struct drv *d, const char *state_text, struct pod_err *err)
{
    if (state_text && *state_text) {
        json_error_t je;
        json_t *root = json_loads(state_text, 0, &je);
        if (!root || !json_is_object(root)) {
            json_decref(root);
            return pod_err_set(err, POD_E_CORRUPT, 0, "state file: %s (line %d)", je.text, je.line);
        }
        json_t *c = json_object_get(root, "created");
        json_t *s = json_object_get(root, "started");
        if (json_is_integer(c))
            d->created_s = json_integer_value(c);
        if (json_is_integer(s))
            d->started_s = json_integer_value(s);
        json_t *sj = json_object_get(root, "sup");
        if (sj && !json_is_null(sj)) {
            char *txt = json_dumps(sj, JSON_COMPACT);
            int rc = txt ? sup_restore(d->sup, txt, err) : -1;
            free(txt);
            if (rc < 0) {
                json_decref(root);
                return pod_err_wrap(err, "restoring the supervisor state");
            }
        }
        json_decref(root);
    }
    for (size_t i = 0; i < d->n; i++)
        d->adopt_pending[i] = true;
    d->adopt_since_ms = now_ms(d);
    adopt(d);
    trace_changes(d);
    return 0;
}

void drv_input(struct drv *d, const struct sup_event *ev)
{
    feed(d, ev);
    drain_pending(d);
    trace_changes(d);
    if (d->status_dirty)
        flush_status(d, false, false);
}

void drv_run(struct drv *d)
{
    for (int round = 0; round < MAX_ROUNDS; round++) {
        bool work = false;
        int64_t t = now_ms(d);
        if (poll_backend(d))
            work = true;
        drain_pending(d);
        if (d->adopt_at_ms <= t) {
            adopt(d);
            work = true;
        }
        if (d->next_reconcile_ms <= t) {
            d->next_reconcile_ms = t + d->cfg.reconcile_ms;
            reconcile(d);
            work = true;
        }
        if (sup_next_deadline(d->sup) <= t) {
            struct sup_event ev;
            memset(&ev, 0, sizeof ev);
            ev.type = SUP_EV_TICK;
            feed(d, &ev);
            drain_pending(d);
            work = true;
        }
        if (d->next_logretry_ms <= t) {
            d->next_logretry_ms = INT64_MAX;
            for (size_t i = 0; i < 2 * d->n; i++) {
                if (!d->logs[i])
                    continue;
                struct pod_err err = POD_ERR_ZERO;
                if (logw_stats(d->logs[i]).backlog_bytes > 0 || logw_stats(d->logs[i]).failing)
                    (void)logw_retry(d->logs[i], clk_wall_ns(&d->cfg.clk), &err);
                log_trace_stats(d, i / 2, (int)(i % 2));
            }
            work = true;
        }
        bool need_retry = false;
        for (size_t i = 0; i < 2 * d->n; i++)
            if (d->logs[i] &&
                (logw_stats(d->logs[i]).backlog_bytes > 0 || logw_stats(d->logs[i]).failing))
                need_retry = true;
        if (need_retry && d->next_logretry_ms == INT64_MAX)
            d->next_logretry_ms = t + LOGW_DEFAULT_RETRY_MS;
        trace_changes(d);
        if (d->state_wr.retry_ms <= t)
            retry_state(d);
        bool status_retry = d->status_wr.retry_ms <= t;
        if (status_retry)
            d->status_wr.retry_ms = INT64_MAX;
        if (status_retry || d->next_status_ms <= t)
            flush_status(d, true, false);
        else if (d->status_dirty)
            flush_status(d, false, false);
        if (!work)
            break;
        /* loop while something is still due now */
        if (drv_next_deadline(d) > t)
            break;
    }
}

int64_t drv_next_deadline(const struct drv *d)
{
    const struct backend *be = &d->cfg.backend;
    int64_t m = be->ops->next_deadline(be->self);
    int64_t s = sup_next_deadline(d->sup);
    m = s < m ? s : m;
    if (d->adopt_at_ms < m)
        m = d->adopt_at_ms;
    if (d->next_reconcile_ms < m)
        m = d->next_reconcile_ms;
    if (d->next_status_ms < m)
        m = d->next_status_ms;
    if (d->next_logretry_ms < m)
        m = d->next_logretry_ms;
    if (d->state_wr.retry_ms < m)
        m = d->state_wr.retry_ms;
    if (d->status_wr.retry_ms < m)
        m = d->status_wr.retry_ms;
    if (d->pend_len > 0)
        m = now_ms(d);
    return m;
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
    if (ctr >= d->n || stream < 0 || stream > 1 || !d->logs[2 * ctr + (size_t)stream])
        return z;
    return logw_stats(d->logs[2 * ctr + (size_t)stream]);
}

const char *drv_log_base(const struct drv *d, size_t ctr, int stream)
{
    if (ctr >= d->n || stream < 0 || stream > 1)
        return NULL;
    return d->bases[2 * ctr + (size_t)stream];
}

void drv_free(struct drv *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < 2 * d->n; i++) {
        logw_close(d->logs[i]);
        free(d->bases[i]);
    }
    free(d->logs);
    free(d->bases);
    sup_free(d->sup);
    sup_actions_free(&d->acts);
    free(d->logdir);
    free(d->status_path);
    free(d->status_tmp);
    free(d->state_path);
    free(d->state_tmp);
    free(d->pend);
    free(d->adopt_pending);
    free(d->adopt_waited);
    free(d->mism_inst);
    free(d->mism_kind);
    free(d->snap);
    free(d->last_status);
    free(d);
}

/* ------------------------------------------------------------------ status parsing */

static bool is_key(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

/* Splits "key: value" / "key:"; returns false when the line is not of that form. */
static bool split_kv(const char *p, size_t n, size_t *klen, const char **v, size_t *vlen)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || !is_key(p, (size_t)(colon - p)))
        return false;
    *klen = (size_t)(colon - p);
    size_t rest = n - *klen - 1;
    if (rest == 0) {
        *v = colon + 1;
        *vlen = 0;
        return true;
    }
    if (colon[1] != ' ')
        return false;
    *v = colon + 2;
    *vlen = rest - 1;
    return true;
}

static bool is_num(const char *v, size_t n)
{
    if (n == 0 || n > 19)
        return false;
    for (size_t i = 0; i < n; i++)
        if (v[i] < '0' || v[i] > '9')
            return false;
    return true;
}

int drv_status_check(const char *text, size_t len, struct pod_err *err)
{
    static const char *const required[] = {"pod", "updated", "status", "readiness"};
    bool have[4] = {false, false, false, false};
    bool in_ctrs = false, in_entry = false;
    int line = 0;
    size_t pos = 0;
    if (len == 0 || text[len - 1] != '\n')
        return pod_err_set(err, POD_E_CORRUPT, 0, "status: empty or not newline-terminated");
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = (size_t)(nl - p);
        pos += n + 1;
        line++;
        size_t kl, vl;
        const char *v;
        if (!in_ctrs) {
            if (!split_kv(p, n, &kl, &v, &vl))
                return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: expected `key: value`", line);
            if (kl == 10 && memcmp(p, "containers", 10) == 0 && vl == 0) {
                in_ctrs = true;
                continue;
            }
            for (size_t k = 0; k < 4; k++)
                if (strlen(required[k]) == kl && memcmp(p, required[k], kl) == 0) {
                    have[k] = true;
                    if ((k == 1 || k == 3) && !is_num(v, vl))
                        return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: `%s` not a number",
                                           line, required[k]);
                    if (k == 3 && !(vl == 1 && (v[0] == '0' || v[0] == '1')))
                        return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: readiness not 0|1",
                                           line);
                }
            continue;
        }
        if (n > 6 && memcmp(p, "    - ", 6) == 0) {
            if (!split_kv(p + 6, n - 6, &kl, &v, &vl) || kl != 4 || memcmp(p + 6, "name", 4) ||
                vl == 0)
                return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: expected `    - name: X`",
                                   line);
            in_entry = true;
            continue;
        }
        if (in_entry && n > 6 && memcmp(p, "      ", 6) == 0 &&
            split_kv(p + 6, n - 6, &kl, &v, &vl))
            continue;
        return pod_err_set(err, POD_E_CORRUPT, 0, "status:%d: malformed container line", line);
    }
    for (size_t k = 0; k < 4; k++)
        if (!have[k])
            return pod_err_set(err, POD_E_CORRUPT, 0, "status: missing `%s:`", required[k]);
    return 0;
}

char *drv_status_get(const char *text, size_t len, const char *ctr, const char *key)
{
    bool in_ctrs = false, in_want = false;
    size_t pos = 0, klen = strlen(key);
    while (pos < len) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + 1;
        size_t kl, vl;
        const char *v;
        if (!in_ctrs) {
            if (!split_kv(p, n, &kl, &v, &vl))
                continue;
            if (kl == 10 && memcmp(p, "containers", 10) == 0 && vl == 0) {
                in_ctrs = true;
                continue;
            }
            if (!ctr && kl == klen && memcmp(p, key, kl) == 0)
                return xstrndup(v, vl);
            continue;
        }
        if (!ctr)
            return NULL;
        if (n > 6 && memcmp(p, "    - ", 6) == 0) {
            in_want = split_kv(p + 6, n - 6, &kl, &v, &vl) && vl == strlen(ctr) &&
                      memcmp(v, ctr, vl) == 0;
            if (in_want && klen == 4 && strcmp(key, "name") == 0)
                return xstrndup(v, vl);
            continue;
        }
        if (in_want && n > 6 && split_kv(p + 6, n - 6, &kl, &v, &vl) && kl == klen &&
            memcmp(p + 6, key, kl) == 0)
            return xstrndup(v, vl);
    }
    return NULL;
}
