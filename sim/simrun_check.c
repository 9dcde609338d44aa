/* SPDX-License-Identifier: MIT */
/* simrun_check.c - what a run checks (sim/README.md): the invariants after every step (no two
 * instances at once, restart policy and floors, backoff cap and reset, the status file parses),
 * the log accounting at the end (no line lost or duplicated beyond the output path model), and
 * the scenario's expectations with their metrics. */
#include "simrun_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ invariants */

/* Once the daemon said the pod stopped (POD_STOPPED), nothing of it runs, and nothing can start
 * any more (a created container whose `podman run` is still in flight counts: SPEC 8.8). */
static void check_after_stop(struct run *r, size_t i)
{
    const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, i);
    struct cstate *cs = &r->cs[i];
    if (!r->up || !drv_pod_stopped(r->drv) || !(ob->running || ob->starting) ||
        cs->after_stop_instance == ob->instance)
        return;
    cs->after_stop++;
    cs->after_stop_instance = ob->instance;
    simrun_violation(r, "%s: instance %llu %s after the pod stopped", r->spec->containers[i].name,
                     (unsigned long long)ob->instance, ob->running ? "runs" : "may still start");
}

/* A restart after the previous instance ran and exited on its own: what its policy allows. */
static void check_policy(struct run *r, const struct spec_container *c,
                         const struct sim_ctr_obs *ob)
{
    int64_t since = r->clk.mono_ms - ob->last_exit_ms;
    bool vol0 = ob->last_exit_voluntary && ob->last_exit_code == 0;
    switch (c->restart) {
    case SPEC_RESTART_NEVER:
        simrun_violation(r, "%s: restarted under restart: never (instance %llu)", c->name,
                         (unsigned long long)ob->instance);
        break;
    case SPEC_RESTART_ON_FAILURE:
        if (vol0)
            simrun_violation(r, "%s: restarted after a clean exit under on-failure", c->name);
        break;
    case SPEC_RESTART_ON_CONFIG:
        if (vol0)
            simrun_violation(
                r, "%s: restarted after a clean exit under on-config without a config change",
                c->name);
        break;
    case SPEC_RESTART_ON_INTERVAL:
        if (vol0 && since < (int64_t)c->restart_interval_s * 1000)
            simrun_violation(r, "%s: on-interval:%d restarted %lld ms after a clean exit", c->name,
                             c->restart_interval_s, (long long)since);
        break;
    default:
        break;
    }
}

/* A new start of container i that no user asked for: its restart policy allows it, and it
 * comes no sooner than 1 s after the previous start (SPEC.md 8.5; a restarted daemon that
 * starts a missing container at its adoption does not know the previous start). */
static void check_start(struct run *r, size_t i)
{
    const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, i);
    const struct spec_container *c = &r->spec->containers[i];
    struct cstate *cs = &r->cs[i];
    if (ob->starts == cs->starts_seen)
        return;
    bool first = cs->starts_seen == 0;
    cs->starts_seen = ob->starts;
    bool prev_ran = ob->exits > 0;
    bool excused = cs->excused || r->clk.mono_ms <= cs->excused_until;
    cs->excused = false;
    /* An instance the supervisor never saw running (its STARTED was lost and it exited
     * meanwhile) counts as a failed start: policy rules for clean exits do not apply. */
    bool failed_start = cs->sup_seen_run != cs->prev_instance;
    cs->prev_instance = ob->instance;
    if (first || excused)
        return;
    int64_t since_start = r->clk.mono_ms - ob->prev_start_call_ms;
    if (!r->restarted_now && ob->prev_start_call_ms >= 0 && since_start < 1000)
        simrun_violation(r, "%s: started %lld ms after its previous start (floor 1000 ms)", c->name,
                         (long long)since_start);
    if (prev_ran && !failed_start)
        check_policy(r, c, ob);
}

void simrun_check_step(struct run *r)
{
    size_t n = r->spec->n_containers;
    const struct sup_status *st = r->up ? drv_sup_status(r->drv) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, i);
        const struct spec_container *c = &r->spec->containers[i];
        struct cstate *cs = &r->cs[i];
        if (ob->overlaps) {
            simrun_violation(r, "%s: a new instance was started while instance %llu still ran",
                             c->name, (unsigned long long)ob->instance);
            ((struct sim_ctr_obs *)ob)->overlaps = 0;
        }
        check_after_stop(r, i);
        if (ob->probe_overlaps) {
            simrun_violation(r, "%s: two runs of one probe (or signal command) at once", c->name);
            ((struct sim_ctr_obs *)ob)->probe_overlaps = 0;
        }
        check_start(r, i);
        if (st && i < st->n) {
            const struct sup_ctr_status *ss = &st->ctr[i];
            if (ss->running && ss->started)
                cs->sup_seen_run = ss->instance;
            if (ss->backoff_ms > 0 && c->backoff.max_ms > 0 && ss->backoff_ms > c->backoff.max_ms &&
                ss->backoff_ms > 1000)
                simrun_violation(r, "%s: backoff %lld ms above the cap %d ms", c->name,
                                 (long long)ss->backoff_ms, c->backoff.max_ms);
            if (c->backoff.max_ms > 0 && ss->backoff_ms >= c->backoff.max_ms / 2 &&
                c->backoff.max_ms > c->backoff.initial_ms)
                r->res->cov_backoff_cap++;
            if (ss->gave_up) {
                r->res->cov_gave_up++;
                cs->ever_gave_up = true;
            }
            if (ss->consecutive_failures > cs->max_failures)
                cs->max_failures = ss->consecutive_failures;
            /* the backoff streak resets only after resetSeconds of stable running (or when a
             * user request restarted the container) */
            int64_t reset_ms = (int64_t)(c->backoff.reset_s > 0 ? c->backoff.reset_s : 600) * 1000;
            bool completed = !ob->running && ob->last_exit_voluntary && ob->last_exit_code == 0;
            if (cs->prev_failures > 0 && ss->consecutive_failures == 0 && !r->restarted_now &&
                r->clk.mono_ms > cs->excused_until && !cs->excused && !completed &&
                (!ob->running || r->clk.mono_ms - ob->last_start_ms < reset_ms))
                simrun_violation(
                    r, "%s: backoff reset after %lld ms of running (resetSeconds %lld)", c->name,
                    (long long)(r->clk.mono_ms - ob->last_start_ms), (long long)(reset_ms / 1000));
            cs->prev_failures = ss->consecutive_failures;
        }
    }
    if (r->up && !r->o.no_checks) {
        char *txt = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, POD_DIR "/" DRV_STATUS_FILE, &txt, &len) == 0) {
            struct pod_err e = POD_ERR_ZERO;
            if (drv_status_check(txt, len, &e) < 0)
                simrun_violation(r, "status file does not parse: %s", e.msg);
            free(txt);
        }
    }
}

/* podsim sweep, at the final stop (SIM_SWEEP_SETTLE_MS after the scenario's end): the end state
 * of every container; with the clean run's (o.sweep_ref) the run must have converged to it:
 * a container that ran steadily through the whole settle time of the clean run runs here too,
 * and one fault of a container that never failed in the clean run does not make the supervisor
 * give up on it. */
void simrun_check_sweep(struct run *r)
{
    size_t n = r->spec->n_containers;
    r->snapped = true;
    r->res->ends = xcalloc(n + 1, sizeof *r->res->ends);
    r->res->n_ends = n;
    int64_t settled = r->final_stop_ms - SIM_SWEEP_SETTLE_MS;
    for (size_t i = 0; i < n; i++) {
        const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, i);
        struct sim_ctr_end *e = &r->res->ends[i];
        e->running = ob->running;
        e->running_since = ob->last_start_ms;
        e->ever_gave_up = r->cs[i].ever_gave_up;
        e->max_failures = r->cs[i].max_failures;
        const struct sup_status *st = r->up ? drv_sup_status(r->drv) : NULL;
        e->failed_never = st && i < st->n && st->ctr[i].phase == SUP_CTR_FAILED &&
                          r->spec->containers[i].restart == SPEC_RESTART_NEVER;
        const struct sim_ctr_end *ref = r->o.sweep_ref ? &r->o.sweep_ref[i] : NULL;
        const char *name = r->spec->containers[i].name;
        if (!ref)
            continue;
        if (ref->running && ref->running_since <= settled && !e->running && !e->failed_never)
            simrun_violation(r,
                             "%s: not running %lld s after the scenario's end; in the run "
                             "without the fault it runs since %lld.%03llds",
                             name, (long long)(SIM_SWEEP_SETTLE_MS / 1000),
                             (long long)(ref->running_since / 1000),
                             (long long)(ref->running_since % 1000));
        if (e->ever_gave_up && !ref->ever_gave_up && ref->max_failures == 0)
            simrun_violation(r,
                             "%s: the supervisor gave up on it after one transient podman "
                             "fault (it never failed in the run without the fault)",
                             name);
    }
}

/* Calls fn for every record of ctr's stream s in the log files, oldest file first.  -1 when the
 * files cannot be listed (err says why); *n_files their number. */
static int log_records(struct run *r, size_t ctr, int s,
                       void (*fn)(void *, const struct logw_rec *), void *ctx, size_t *n_files,
                       struct pod_err *err)
{
    struct fs mfs = fs_mem_fs(r->mem);
    char **paths = NULL;
    char *base = drv_log_base_name(r->spec, ctr, (enum backend_stream)s);
    int rc = logw_files(&mfs, POD_DIR "/log", base, &paths, err);
    free(base);
    if (rc < 0)
        return -1;
    *n_files = pod_strv_len(paths);
    for (char **p = paths; p && *p; p++) {
        char *txt = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, *p, &txt, &len) < 0)
            continue;
        for (size_t pos = 0; pos < len;) {
            const char *l = txt + pos;
            const char *nl = memchr(l, '\n', len - pos);
            size_t ll = nl ? (size_t)(nl - l) : len - pos;
            pos += ll + 1;
            struct logw_rec rec;
            if (logw_parse_line(l, ll, &rec))
                fn(ctx, &rec);
        }
        free(txt);
    }
    pod_strv_free(paths);
    return 0;
}

/* What the log files of one stream hold, against what the simulated container wrote. */
struct log_check {
    struct run *r;
    const char *name, *base;
    int s;
    const struct sim_out_acct *acct;
    size_t nacct;
    uint64_t *found; /* lines per accounting record (instance) */
    bool *partial;   /* its unterminated last line was found */
    uint64_t last_i, last_s;
    bool order_ok;
};

static void check_record(void *self, const struct logw_rec *rec)
{
    struct log_check *c = self;
    uint64_t in, sq;
    if (rec->mark == '!' || !sim_line_parse(rec->msg, rec->msg_len, c->name, c->s, &in, &sq))
        return;
    if (in < c->last_i || (in == c->last_i && sq <= c->last_s)) {
        if (c->order_ok)
            simrun_violation(c->r,
                             "%s: line i%llu n%llu after i%llu n%llu (duplicate or out of "
                             "order)",
                             c->base, (unsigned long long)in, (unsigned long long)sq,
                             (unsigned long long)c->last_i, (unsigned long long)c->last_s);
        c->order_ok = false;
    }
    c->last_i = in;
    c->last_s = sq;
    /* a split long line carries its tokens in its first ('+') piece; the unterminated last line
     * of an instance has seq emitted + 1 */
    for (size_t k = 0; k < c->nacct; k++)
        if (c->acct[k].instance == in) {
            if (c->acct[k].partial && sq == c->acct[k].emitted + 1)
                c->partial[k] = true;
            else
                c->found[k]++;
            return;
        }
}

/* Lines missing from ctr's stream s are allowed only where the output model says so. */
static void check_stream(struct run *r, size_t i, int s)
{
    struct log_check c = {.r = r, .name = r->spec->containers[i].name, .s = s, .order_ok = true};
    char *base = drv_log_base_name(r->spec, i, (enum backend_stream)s);
    c.base = base;
    c.acct = backend_sim_out(r->bs, i, s, &c.nacct);
    c.found = xcalloc(c.nacct + 1, sizeof *c.found);
    c.partial = xcalloc(c.nacct + 1, sizeof *c.partial);
    struct pod_err err = POD_ERR_ZERO;
    size_t n_files;
    if (log_records(r, i, s, check_record, &c, &n_files, &err) < 0) {
        simrun_violation(r, "%s: cannot list logs: %s", base, err.msg);
        goto out;
    }
    struct logw_stats ls = drv_log_stats(r->drv, i, s);
    uint64_t rot = r->cs[i].rot_total[s] + ls.rotations;
    int max_files = r->scn->log_max_files ? r->scn->log_max_files : r->spec->logs.max_files;
    bool excused = rot > (uint64_t)max_files /* retention */ || r->cs[i].lossy[s] ||
                   ls.dropped_lines || ls.backlog_bytes;
    for (size_t k = 0; k < c.nacct; k++) {
        const struct sim_out_acct *a = &c.acct[k];
        unsigned long long inst = (unsigned long long)a->instance;
        if (c.found[k] > a->delivered)
            simrun_violation(r, "%s: instance %llu: %llu lines in the logs, only %llu written",
                             base, inst, (unsigned long long)c.found[k],
                             (unsigned long long)a->delivered);
        else if (c.found[k] < a->delivered && !excused)
            simrun_violation(r, "%s: instance %llu: %llu of %llu lines lost", base, inst,
                             (unsigned long long)(a->delivered - c.found[k]),
                             (unsigned long long)a->delivered);
        if (a->partial && !c.partial[k] && !excused)
            simrun_violation(r, "%s: instance %llu: the unterminated last line is missing", base,
                             inst);
    }
out:
    free(c.found);
    free(c.partial);
    free(base);
}

/* Every line handed to a daemon is in the log files exactly once, in order; missing lines
 * only where the documented output model allows it. */
void simrun_check_logs(struct run *r)
{
    if (!r->drv)
        return;
    for (size_t i = 0; i < r->spec->n_containers; i++)
        for (int s = 0; s < 2; s++)
            check_stream(r, i, s);
}

/* ------------------------------------------------------------------ expectations */

static bool num(const char *s, long long *v)
{
    if (!s || !*s)
        return false;
    if (s[0] == '-')
        return pod_parse_int(s + 1, 0, INT64_MAX, v) ? (*v = -*v, true) : false;
    return pod_parse_int(s, 0, INT64_MAX, v);
}

static bool compare(const char *have, enum scn_cmp op, const char *want)
{
    long long a, b;
    if (num(have, &a) && num(want, &b)) {
        switch (op) {
        case SCN_EQ:
            return a == b;
        case SCN_NE:
            return a != b;
        case SCN_LT:
            return a < b;
        case SCN_LE:
            return a <= b;
        case SCN_GT:
            return a > b;
        case SCN_GE:
            return a >= b;
        }
    }
    int c = strcmp(have ? have : "", want);
    return op == SCN_EQ ? c == 0 : op == SCN_NE ? c != 0 : false;
}

struct log_count {
    char mark; /* the records counted: 0 lines, '+' partial pieces, '!' notices */
    uint64_t n;
};

static void count_record(void *self, const struct logw_rec *rec)
{
    struct log_count *c = self;
    c->n += rec->mark == c->mark;
}

static uint64_t count_log(struct run *r, size_t ctr, int s, const char *what)
{
    struct pod_err err = POD_ERR_ZERO;
    struct log_count c = {.mark = !strcmp(what, "partial")   ? '+'
                                  : !strcmp(what, "notices") ? '!'
                                                             : 0};
    size_t n_files = 0;
    if (!r->drv || log_records(r, ctr, s, count_record, &c, &n_files, &err) < 0)
        return 0;
    return strcmp(what, "files") == 0 ? n_files : c.n;
}

/* Evaluates a metric; returns a new string or NULL when the metric is unknown. */
static char *metric(struct run *r, const struct scn_expect *x)
{
    const char *w0 = x->words[0];
    const char *w1 = x->n_words > 1 ? x->words[1] : NULL;
    int ci = w1 ? spec_find_container(r->spec, w1) : -1;
    if (strcmp(w0, "violations") == 0 && x->n_words == 1)
        return xasprintf("%u", r->res->violations);
    if (strcmp(w0, "pod") == 0 && w1 && strcmp(w1, "stopped") == 0 && x->n_words == 2)
        return xasprintf("%d", r->drv && drv_pod_stopped(r->drv));
    if (strcmp(w0, "trace") == 0 && x->n_words == 3) {
        unsigned n = 0;
        for (size_t i = 0; i < r->n_recs; i++)
            if (strcmp(r->recs[i].subject, w1) == 0 && strcmp(r->recs[i].event, x->words[2]) == 0)
                n++;
        return xasprintf("%u", n);
    }
    if (strcmp(w0, "status") == 0 && x->n_words == 3) {
        char *txt = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, POD_DIR "/" DRV_STATUS_FILE, &txt, &len) < 0)
            return xstrdup("(no status file)");
        char *v = drv_status_get(txt, len, strcmp(w1, "pod") == 0 ? NULL : w1, x->words[2]);
        free(txt);
        return v ? v : xstrdup("(absent)");
    }
    if (ci < 0)
        return NULL;
    const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, (size_t)ci);
    if (x->n_words == 2) {
        if (strcmp(w0, "starts") == 0)
            return xasprintf("%u", ob->starts);
        if (strcmp(w0, "restarts") == 0)
            return xasprintf("%u", ob->starts ? ob->starts - 1 : 0);
        if (strcmp(w0, "runs") == 0)
            return xasprintf("%u", ob->runs);
        if (strcmp(w0, "exits") == 0)
            return xasprintf("%u", ob->exits);
        if (strcmp(w0, "running") == 0)
            return xasprintf("%d", ob->running);
        if (strcmp(w0, "exit-code") == 0)
            return xasprintf("%d", ob->last_exit_code);
        if (strcmp(w0, "signals") == 0)
            return xasprintf("%u", ob->signals);
        if (strcmp(w0, "running-after-stop") == 0)
            return xasprintf("%u", r->cs[ci].after_stop);
    }
    if (strcmp(w0, "log") == 0 && x->n_words == 4) {
        int s = strcmp(x->words[2], "stdout") == 0   ? 0
                : strcmp(x->words[2], "stderr") == 0 ? 1
                                                     : -1;
        if (s < 0)
            return NULL;
        const char *what = x->words[3];
        if (!strcmp(what, "lines") || !strcmp(what, "partial") || !strcmp(what, "files") ||
            !strcmp(what, "notices"))
            return xasprintf("%llu", (unsigned long long)count_log(r, (size_t)ci, s, what));
        struct logw_stats ls =
            r->drv ? drv_log_stats(r->drv, (size_t)ci, s) : (struct logw_stats){0};
        if (!strcmp(what, "rotations"))
            return xasprintf("%llu", (unsigned long long)(r->cs[ci].rot_total[s] + ls.rotations));
        if (!strcmp(what, "dropped"))
            return xasprintf("%llu", (unsigned long long)ls.dropped_lines);
        size_t na = 0;
        const struct sim_out_acct *a = backend_sim_out(r->bs, (size_t)ci, s, &na);
        uint64_t em = 0, dl = 0, ep = 0;
        for (size_t k = 0; k < na; k++) {
            em += a[k].emitted;
            dl += a[k].delivered;
            ep += a[k].epipe;
        }
        if (!strcmp(what, "lost")) {
            uint64_t found = count_log(r, (size_t)ci, s, "lines");
            return xasprintf("%lld", (long long)dl - (long long)found);
        }
        if (!strcmp(what, "emitted"))
            return xasprintf("%llu", (unsigned long long)em);
        if (!strcmp(what, "delivered"))
            return xasprintf("%llu", (unsigned long long)dl);
        if (!strcmp(what, "epipe"))
            return xasprintf("%llu", (unsigned long long)ep);
    }
    return NULL;
}

void simrun_check_expects(struct run *r)
{
    static const char *const ops[] = {"==", "!=", "<", "<=", ">", ">="};
    for (size_t i = 0; i < r->scn->n_expects; i++) {
        const struct scn_expect *x = &r->scn->expects[i];
        bool ok = false;
        char *why = NULL;
        if (x->kind == SCN_X_AT || x->kind == SCN_X_NO) {
            size_t hits = 0;
            for (size_t k = 0; k < r->n_recs; k++) {
                const struct rec *e = &r->recs[k];
                if (strcmp(e->subject, x->ctr) || strcmp(e->event, x->event))
                    continue;
                if (x->text && !strstr(e->details, x->text))
                    continue;
                if (x->kind == SCN_X_AT && e->t != x->at_ms)
                    continue;
                if (x->kind == SCN_X_NO && (e->t <= x->after_ms || e->t >= x->before_ms))
                    continue;
                hits++;
            }
            ok = x->kind == SCN_X_AT ? hits > 0 : hits == 0;
            if (!ok)
                why = x->kind == SCN_X_AT ? xstrdup("no such trace event")
                                          : xasprintf("%zu matching trace events", hits);
        } else {
            char *have = metric(r, x);
            if (!have) {
                why = xstrdup("unknown metric");
            } else {
                ok = compare(have, x->op, x->value);
                if (!ok)
                    why = xasprintf("got %s, want %s %s", have, ops[x->op], x->value);
                free(have);
            }
        }
        if (!ok) {
            r->res->failed_expects++;
            pod_buf_printf(&r->report, "%s:%d: expectation failed: %s\n", r->scn->file, x->line,
                           why);
        }
        free(why);
    }
}
