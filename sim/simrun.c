/* SPDX-License-Identifier: MIT */
/* simrun.c - the discrete-event simulation of one scenario (see simrun.h).
 *
 * Layout: spec loading (the real front end: spec_compile) -> the daemon's life over a
 * file-system wrapper that injects disk faults and crash-during-rotation (simrun_fs.c) -> the
 * event loop (jump to the next deadline, apply actions, drv_run) -> per-step invariants ->
 * end-of-run log accounting and expectations (simrun_check.c).  The daemon can die and come
 * back: its driver is then rebuilt from the state it persisted (.pod.state) and re-adopts the
 * containers that the sim backend kept running.
 */
#include "simrun_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

/* ------------------------------------------------------------------ records */

void simrun_record(struct run *r, int64_t t, const char *subject, const char *event,
                   const char *details)
{
    if (r->o.fmt == SIM_TRACE_NONE && r->o.no_checks)
        return;
    if (r->n_recs == r->cap_recs) {
        r->cap_recs = r->cap_recs ? r->cap_recs * 2 : 256;
        r->recs = xrealloc(r->recs, r->cap_recs * sizeof *r->recs);
    }
    struct rec *x = &r->recs[r->n_recs++];
    x->t = t;
    snprintf(x->subject, sizeof x->subject, "%s", subject);
    snprintf(x->event, sizeof x->event, "%s", event);
    x->details = xstrdup(details ? details : "");
}

static void drv_trace_cb(void *self, int64_t t, const char *subject, const char *event,
                         const char *details)
{
    simrun_record(self, t, subject, event, details);
}

static void sim_trace_cb(void *self, int64_t t, const char *ctr, const char *event,
                         const char *details)
{
    simrun_record(self, t, ctr, event, details);
}

void simrun_note(struct run *r, const char *subject, const char *event, const char *fmt, ...)
{
    char d[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    simrun_record(r, r->clk.mono_ms, subject, event, d);
}

void simrun_violation(struct run *r, const char *fmt, ...)
{
    char d[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    r->res->violations++;
    if (r->res->violations <= 20)
        pod_buf_printf(&r->report, "violation at %lld.%03llds: %s\n",
                       (long long)(r->clk.mono_ms / 1000), (long long)(r->clk.mono_ms % 1000), d);
    simrun_record(r, r->clk.mono_ms, "sim", "VIOLATION", d);
}

/* ------------------------------------------------------------------ spec */

/* The first error of a rejected spec (diags are sorted), as the scenario's error.  An inline
 * spec's position is mapped back into the scenario file (2 columns of indentation). */
static void first_error(const struct scn *scn, const char *fname, const struct spec_diags *dg,
                        struct pod_err *err)
{
    const struct spec_diag *first = NULL;
    for (size_t i = 0; i < dg->n && !first; i++)
        if (dg->v[i].sev == SPEC_SEV_ERROR)
            first = &dg->v[i];
    if (!first) {
        pod_err_set(err, POD_E_INVALID, 0, "%s: the pod spec was rejected", fname);
    } else if (!scn->pod_file && first->line > 0 && !first->file) {
        pod_err_set(err, POD_E_INVALID, 0, "%s:%d:%d: error: %s%s%s", scn->file,
                    scn->pod_line + first->line - 1, first->col + 2,
                    first->path && *first->path ? first->path : "",
                    first->path && *first->path ? ": " : "", first->msg);
    } else {
        char *m = spec_diag_format(fname, first);
        pod_err_set(err, POD_E_INVALID, 0, "%s", m);
        free(m);
    }
}

static int load_spec(const struct scn *scn, struct pod_spec **out, struct pod_err *err)
{
    char *dir = pod_dirname(scn->file);
    char *text = NULL, *fname = NULL;
    size_t len = 0;
    int rc = -1;
    if (scn->pod_file) {
        fname = pod_path_join(dir, scn->pod_file);
        struct pod_err e2 = POD_ERR_ZERO;
        if (pod_read_file(fname, SPEC_MAX_INPUT_BYTES, &text, &len, &e2) < 0) {
            pod_err_set(err, POD_E_IO, 0, "%s:%d:%d: cannot read pod-file: %s", scn->file,
                        scn->pod_file_line, scn->pod_file_col, e2.msg);
            goto out;
        }
    } else {
        fname = xstrdup(scn->file);
        text = xstrndup(scn->pod_text, scn->pod_len);
        len = scn->pod_len;
    }
    struct spec_kv *vars = xcalloc(scn->n_vars + 1, sizeof *vars);
    for (size_t i = 0; i < scn->n_vars; i++)
        vars[i] = (struct spec_kv){scn->var_names[i], scn->var_values[i]}; /* borrowed */
    struct spec_source src = {.file = fname, .text = text, .len = len};
    struct spec_compile_opts so = {.pod_name = POD_NAME,
                                   .srcdir = dir,
                                   .builddir = dir,
                                   .preprocess = true,
                                   .vars = vars,
                                   .n_vars = scn->n_vars};
    struct spec_diags dg = {0};
    if (spec_compile(&src, &so, &dg, out) == 0)
        rc = 0;
    else
        first_error(scn, fname, &dg, err);
    spec_diags_free(&dg);
    free(vars);
out:
    free(text);
    free(fname);
    free(dir);
    return rc;
}

/* Resolves the scenario's container names against the spec (fills spec_idx / ctr_idx). */
static int bind_names(struct scn *scn, const struct pod_spec *spec, struct pod_err *err)
{
    for (size_t i = 0; i < scn->n_ctrs; i++) {
        int k = spec_find_container(spec, scn->ctrs[i].name);
        if (k < 0)
            return pod_err_set(err, POD_E_INVALID, 0, "%s:%d:%d: no container `%s` in the pod",
                               scn->file, scn->ctrs[i].line, scn->ctrs[i].col, scn->ctrs[i].name);
        scn->ctrs[i].spec_idx = (size_t)k;
    }
    for (size_t i = 0; i < scn->n_faults; i++) {
        if (!scn->faults[i].ctr)
            continue;
        int k = spec_find_container(spec, scn->faults[i].ctr);
        if (k < 0)
            return pod_err_set(err, POD_E_INVALID, 0, "%s:%d:1: no container `%s` in the pod",
                               scn->file, scn->faults[i].line, scn->faults[i].ctr);
        scn->faults[i].ctr_idx = (size_t)k;
    }
    for (size_t i = 0; i < scn->n_actions; i++) {
        const struct scn_action *a = &scn->actions[i];
        if (a->ctr && spec_find_container(spec, a->ctr) < 0)
            return pod_err_set(err, POD_E_INVALID, 0, "%s:%d:1: no container `%s` in the pod",
                               scn->file, a->line, a->ctr);
        for (char **v = a->vols; v && *v; v++) {
            const struct spec_volume *vol = spec_find_volume(spec, *v);
            if (!vol || vol->type != SPEC_VOL_CONFIG)
                return pod_err_set(err, POD_E_INVALID, 0,
                                   "%s:%d:1: no config volume `%s` in the pod", scn->file, a->line,
                                   *v);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ daemon life */

static int daemon_start(struct run *r, bool recover)
{
    struct pod_err err = POD_ERR_ZERO;
    struct drv_cfg dc;
    memset(&dc, 0, sizeof dc);
    dc.spec = r->spec;
    dc.backend = backend_sim_backend(r->bs);
    dc.clk = clk_fake_clock(&r->clk);
    struct fs wfs = {&simrun_fs_ops, &r->sfs};
    dc.fs = wfs;
    dc.dir = POD_DIR;
    dc.seed = sim_rng_sub(r->seed, 2 + r->res->cov_crashes);
    dc.pid = 4242;
    dc.reconcile_ms = r->scn->reconcile_ms;
    struct drv_logw_sink_cfg lc = {.spec = r->spec,
                                   .fs = wfs,
                                   .dir = POD_DIR,
                                   .max_bytes = r->scn->log_max_bytes,
                                   .max_files = r->scn->log_max_files};
    dc.trace = r->o.fmt != SIM_TRACE_NONE || !r->o.no_checks ? drv_trace_cb : NULL;
    dc.trace_self = r;
    r->sfs.dead = r->sfs.crashed = false;
    r->sfs.countdown = 0;
    backend_sim_daemon_up(r->bs);
    if (drv_logw_sink_new(&lc, &dc.log, &err) < 0 || drv_new(&dc, &r->drv, &err) < 0) {
        simrun_violation(r, "drv_new failed: %s", err.msg);
        return -1;
    }
    r->up = true;
    if (recover) {
        char *state = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, POD_DIR "/" DRV_STATE_FILE, &state, &len) < 0)
            state = NULL;
        if (drv_recover(r->drv, state, &err) < 0)
            simrun_violation(r, "drv_recover: %s", err.msg);
        free(state);
    }
    return 0;
}

static void daemon_crash(struct run *r, int64_t down_ms, const char *why)
{
    if (!r->up)
        return;
    simrun_note(r, "daemon", "crash", "%s; restart in %lldms", why, (long long)down_ms);
    r->res->cov_crashes++;
    for (size_t i = 0; i < r->spec->n_containers; i++)
        for (int s = 0; s < 2; s++) {
            struct logw_stats ls = drv_log_stats(r->drv, i, s);
            if (ls.backlog_bytes > 0 || ls.dropped_lines > 0)
                r->cs[i].lossy[s]++;
            r->cs[i].rot_total[s] += ls.rotations;
        }
    backend_sim_daemon_down(r->bs);
    r->sfs.dead = true; /* a dead process writes nothing more */
    drv_free(r->drv);
    r->drv = NULL;
    fs_mem_set_crash_mode(r->mem, FS_MEM_CRASH_KEEP);
    fs_mem_crash(r->mem); /* closes the dead process's handles; the kernel kept the data */
    r->up = false;
    r->restart_at = r->clk.mono_ms + down_ms;
}

/* ------------------------------------------------------------------ actions */

static int ctr_index(const struct run *r, const char *name)
{
    return name ? spec_find_container(r->spec, name) : -1;
}

static bool mounts_volume(const struct spec_container *c, const char *vol)
{
    for (size_t k = 0; k < c->n_mounts; k++)
        if (c->mounts[k].volume && strcmp(c->mounts[k].volume, vol) == 0)
            return true;
    return false;
}

static void apply_action(struct run *r, const struct scn_action *a)
{
    static const char *const names[] = {
        "?",     "start",         "stop",         "kill",      "signal", "reload-configs",
        "rerun", "config-change", "daemon-crash", "infra-down"};
    struct pod_buf d = {0};
    if (a->ctr)
        pod_buf_adds(&d, a->ctr);
    for (char **v = a->vols; v && *v; v++) {
        if (d.len)
            pod_buf_addc(&d, ' ');
        pod_buf_adds(&d, *v);
    }
    if (a->kind == SCN_A_CONFIG_CHANGE && a->checksum_file)
        pod_buf_adds(&d, " checksum-file");
    else if (a->kind == SCN_A_CONFIG_CHANGE && a->managed)
        pod_buf_adds(&d, " managed");
    simrun_note(r, "user", names[a->kind], "%s", d.data ? d.data : "");
    pod_buf_free(&d);
    if (a->kind == SCN_A_CRASH) {
        daemon_crash(r, a->down_ms, "killed");
        return;
    }
    if (a->kind == SCN_A_INFRA_DOWN) {
        /* a host event: the daemon learns it from the backend (now, or when it is back) */
        for (size_t i = 0; i < r->spec->n_containers; i++) {
            r->cs[i].excused = true;
            r->cs[i].excused_until = r->clk.mono_ms + EXCUSE_MS;
        }
        backend_sim_infra_down(r->bs);
        return;
    }
    if (!r->up) {
        /* the request waits for the daemon (the CLI's signal/action file is read on start) */
        simrun_note(r, "user", "deferred", "no daemon running; applied when it is back");
        r->deferred = xrealloc(r->deferred, (r->n_deferred + 1) * sizeof *r->deferred);
        r->deferred[r->n_deferred++] = a;
        return;
    }
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    size_t n = r->spec->n_containers;
    switch (a->kind) {
    case SCN_A_START:
        if (drv_pod_stopped(r->drv)) {
            /* the daemon of a stopped pod has exited; `pod start` runs a new one */
            for (size_t i = 0; i < n; i++)
                for (int s = 0; s < 2; s++)
                    r->cs[i].rot_total[s] += drv_log_stats(r->drv, i, s).rotations;
            drv_free(r->drv);
            r->drv = NULL;
            r->up = false;
            /* sup accepts START only in phase created, so the new daemon starts afresh
             * (no state restore): instance numbers and counts begin again */
            simrun_note(r, "daemon", "exit", "pod stopped; a new daemon starts afresh");
            if (daemon_start(r, false) < 0)
                return;
            r->restarted_now = true; /* its backoff streak begins at 0 */
        }
        ev.type = SUP_EV_START_POD;
        for (size_t i = 0; i < n; i++)
            r->cs[i].excused = true;
        break;
    case SCN_A_STOP:
        ev.type = SUP_EV_STOP_POD;
        break;
    case SCN_A_KILL:
        ev.type = SUP_EV_KILL_POD;
        break;
    case SCN_A_SIGNAL:
        ev.type = SUP_EV_SIGNAL;
        ev.ctr = a->ctr ? (size_t)ctr_index(r, a->ctr) : SIZE_MAX;
        for (size_t i = 0; i < n; i++)
            if (ev.ctr == SIZE_MAX || ev.ctr == i) {
                r->cs[i].excused = true;
                r->cs[i].excused_until = r->clk.mono_ms + EXCUSE_MS;
            }
        break;
    case SCN_A_RERUN:
        ev.type = SUP_EV_RERUN;
        ev.ctr = (size_t)ctr_index(r, a->ctr);
        r->cs[ev.ctr].excused = true;
        r->cs[ev.ctr].excused_until = r->clk.mono_ms + EXCUSE_MS;
        break;
    case SCN_A_RELOAD:
    case SCN_A_CONFIG_CHANGE:
        for (char **v = a->vols; v && *v; v++) {
            const struct spec_volume *vol = spec_find_volume(r->spec, *v);
            memset(&ev, 0, sizeof ev);
            ev.type = a->kind == SCN_A_RELOAD ? SUP_EV_RELOAD_CONFIGS : SUP_EV_CONFIG_CHANGED;
            ev.volume = (size_t)(vol - r->spec->volumes);
            ev.cfg_checksum_file = a->checksum_file;
            ev.cfg_has_checksum_file = a->managed;
            for (size_t i = 0; i < n; i++)
                if (mounts_volume(&r->spec->containers[i], *v)) {
                    r->cs[i].excused = true;
                    r->cs[i].excused_until =
                        r->clk.mono_ms + r->spec->config_debounce_ms + EXCUSE_MS;
                }
            drv_input(r->drv, &ev);
        }
        return;
    default:
        return;
    }
    drv_input(r->drv, &ev);
}

/* ------------------------------------------------------------------ explore */

static void explore_setup(struct run *r)
{
    uint64_t g = sim_rng_sub(r->o.explore_seed, 77);
    struct sim_swarm *w = &r->swarm;
    memset(w, 0, sizeof *w);
    int64_t run = r->end_ms;
    r->heal_ms = run * 6 / 10;
    w->heal_ms = r->heal_ms;
    w->slow_max_ms = 1 + (int64_t)sim_rng_below(&g, 8000);
    struct pod_buf p = {0};
    pod_buf_printf(&p, "EXPLORE_SEED=%llu heal=%llds", (unsigned long long)r->o.explore_seed,
                   (long long)(r->heal_ms / 1000));
    for (int op = 0; op < SCN_OP_EVENT; op++) {
        if (sim_rng_below(&g, 2))
            w->call_fail[op] = (unsigned)sim_rng_below(&g, 120);
        if (sim_rng_below(&g, 4) == 0)
            w->call_hang[op] = (unsigned)sim_rng_below(&g, 20);
        if (sim_rng_below(&g, 2))
            w->call_slow[op] = (unsigned)sim_rng_below(&g, 200);
        if (w->call_fail[op] || w->call_hang[op] || w->call_slow[op])
            pod_buf_printf(&p, " %s=%u/%u/%u", scn_op_name((enum scn_op)op), w->call_fail[op],
                           w->call_hang[op], w->call_slow[op]);
    }
    if (sim_rng_below(&g, 2))
        w->ev_lose = (unsigned)sim_rng_below(&g, 150);
    if (sim_rng_below(&g, 2))
        w->ev_dup = (unsigned)sim_rng_below(&g, 150);
    pod_buf_printf(&p, " lose=%u dup=%u slowmax=%lldms", w->ev_lose, w->ev_dup,
                   (long long)w->slow_max_ms);
    /* calls that return 0 and fail later (BACKEND_EV_CALL_FAILED) */
    static const enum scn_op async_ops[] = {SCN_OP_STOP, SCN_OP_KILL, SCN_OP_REMOVE, SCN_OP_CANCEL};
    for (size_t k = 0; k < sizeof async_ops / sizeof async_ops[0]; k++) {
        enum scn_op op = async_ops[k];
        if (sim_rng_below(&g, 2) == 0)
            continue;
        w->call_fail_async[op] = (unsigned)sim_rng_below(&g, 100);
        pod_buf_printf(&p, " %s-async=%u", scn_op_name(op), w->call_fail_async[op]);
    }
    r->have_swarm = true;
    /* daemon crashes */
    unsigned crashes = (unsigned)sim_rng_below(&g, 4);
    for (unsigned k = 0; k < crashes; k++) {
        struct scn_action a;
        memset(&a, 0, sizeof a);
        a.kind = SCN_A_CRASH;
        a.at_ms = (int64_t)sim_rng_below(&g, (uint64_t)r->heal_ms);
        a.down_ms = 500 + (int64_t)sim_rng_below(&g, 15000);
        r->acts = xrealloc(r->acts, (r->n_acts + 1) * sizeof *r->acts);
        r->acts[r->n_acts++] = a;
        pod_buf_printf(&p, " crash@%lldms+%lldms", (long long)a.at_ms, (long long)a.down_ms);
    }
    /* a disk-full window */
    if (sim_rng_below(&g, 3) == 0) {
        int64_t a = (int64_t)sim_rng_below(&g, (uint64_t)r->heal_ms);
        int64_t d = 1000 + (int64_t)sim_rng_below(&g, 60000);
        if (a + d > r->heal_ms)
            d = r->heal_ms - a;
        r->disk = xrealloc(r->disk, (r->n_disk + 2) * sizeof *r->disk);
        r->disk[r->n_disk++] = (struct disk_win){a, true};
        r->disk[r->n_disk++] = (struct disk_win){a + d, false};
        pod_buf_printf(&p, " diskfull@%lldms+%lldms", (long long)a, (long long)d);
    }
    /* a crash in the middle of a rotation */
    if (sim_rng_below(&g, 3) == 0) {
        r->sfs.cr = xrealloc(r->sfs.cr, (r->sfs.n_cr + 1) * sizeof *r->sfs.cr);
        struct crash_rot *c = &r->sfs.cr[r->sfs.n_cr++];
        c->nth_lo = c->nth_hi = 1 + sim_rng_below(&g, 5);
        c->step = 1 + (unsigned)sim_rng_below(&g, 4);
        pod_buf_printf(&p, " crashrot=%llu/step%u", (unsigned long long)c->nth_lo, c->step);
    }
    /* the liveness check: stop once the faults healed */
    struct scn_action st;
    memset(&st, 0, sizeof st);
    st.kind = SCN_A_STOP;
    st.at_ms = r->heal_ms + 1000;
    r->final_stop_ms = st.at_ms;
    r->acts = xrealloc(r->acts, (r->n_acts + 1) * sizeof *r->acts);
    r->acts[r->n_acts++] = st;
    if (r->end_ms < st.at_ms + STOP_BOUND_MS)
        r->end_ms = st.at_ms + STOP_BOUND_MS;
    r->res->params = pod_buf_take(&p);
}

/* podsim sweep: SIM_SWEEP_SETTLE_MS after the scenario's end the end state is taken and a stop
 * requested, which must end the pod within STOP_BOUND_MS (as explore's). */
static void sweep_setup(struct run *r)
{
    struct scn_action st;
    memset(&st, 0, sizeof st);
    st.kind = SCN_A_STOP;
    st.at_ms = r->end_ms + SIM_SWEEP_SETTLE_MS;
    r->final_stop_ms = st.at_ms;
    r->acts = xrealloc(r->acts, (r->n_acts + 1) * sizeof *r->acts);
    r->acts[r->n_acts++] = st;
    r->end_ms = st.at_ms + STOP_BOUND_MS;
}

static int cmp_act(const void *a, const void *b)
{
    const struct scn_action *x = a, *y = b;
    if (x->at_ms != y->at_ms)
        return x->at_ms < y->at_ms ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

static int cmp_disk(const void *a, const void *b)
{
    const struct disk_win *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* ------------------------------------------------------------------ rendering */

static void render(struct run *r)
{
    struct pod_buf b = {0};
    for (size_t i = 0; i < r->n_recs; i++) {
        const struct rec *e = &r->recs[i];
        long long s = (long long)(e->t / 1000), ms = (long long)(e->t % 1000);
        if (r->o.fmt == SIM_TRACE_JSON) {
            pod_buf_printf(&b, "{\"t_ms\":%lld,\"subject\":\"%s\",\"event\":\"%s\",\"details\":\"",
                           (long long)e->t, e->subject, e->event);
            for (const char *p = e->details; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c == '"' || c == '\\')
                    pod_buf_printf(&b, "\\%c", c);
                else if (c < 0x20)
                    pod_buf_printf(&b, "\\u%04x", c);
                else
                    pod_buf_addc(&b, (char)c);
            }
            pod_buf_adds(&b, "\"}\n");
        } else {
            size_t before = b.len;
            pod_buf_printf(&b, "%6lld.%03lld %-10s %-12s %s", s, ms, e->subject, e->event,
                           e->details);
            while (b.len > before && b.data[b.len - 1] == ' ')
                b.data[--b.len] = 0;
            pod_buf_addc(&b, '\n');
        }
    }
    r->res->trace = pod_buf_take(&b);
}

/* Copies every file of the simulated file system under dir (the demo shows them).  Returns
 * NULL, or a new string saying what failed. */
static char *dump_files(const struct fs_mem *m, const char *dir)
{
    struct fs real = fs_real();
    struct pod_err e = POD_ERR_ZERO;
    char **files = fs_mem_files(m);
    char *failure = NULL;
    for (size_t i = 0; files && files[i] && !failure; i++) {
        char *data = NULL;
        size_t len = 0;
        if (fs_mem_get(m, files[i], &data, &len) < 0)
            continue;
        char *dst = pod_path_join(dir, files[i][0] == '/' ? files[i] + 1 : files[i]);
        char *parent = pod_dirname(dst);
        if (real.ops->mkdir_p(real.self, parent, &e) < 0 ||
            pod_write_file_atomic(dst, data, len, 0644, &e) < 0)
            failure = xstrdup(e.msg);
        free(parent);
        free(dst);
        free(data);
    }
    pod_strv_free(files);
    return failure;
}

/* ------------------------------------------------------------------ the loop */

static int64_t next_time(struct run *r)
{
    int64_t t = INT64_MAX;
    if (r->next_act < r->n_acts)
        t = r->acts[r->next_act].at_ms;
    if (r->next_disk < r->n_disk && r->disk[r->next_disk].at < t)
        t = r->disk[r->next_disk].at;
    if (!r->up && r->restart_at < t)
        t = r->restart_at;
    int64_t d = r->up ? drv_next_deadline(r->drv) : backend_sim_ops.next_deadline(r->bs);
    return d < t ? d : t;
}

int sim_run(const struct scn *scn_in, const struct sim_opts *o, struct sim_result *res,
            struct pod_err *err)
{
    memset(res, 0, sizeof *res);
    struct scn *scn = (struct scn *)scn_in; /* bind_names fills the index fields only */
    struct run R;
    struct run *r = &R;
    memset(r, 0, sizeof *r);
    r->scn = scn;
    r->o = *o;
    r->res = res;
    if (load_spec(scn, &r->spec, err) < 0)
        return -1;
    if (bind_names(scn, r->spec, err) < 0) {
        spec_free(r->spec);
        return -1;
    }
    r->seed = o->seed_set ? o->seed : scn->seed;
    r->end_ms = o->run_for_ms > 0 ? o->run_for_ms : scn->run_for_ms;
    r->cs = xcalloc(r->spec->n_containers + 1, sizeof *r->cs);
    r->mem = fs_mem_new();
    r->sfs.inner = fs_mem_fs(r->mem);
    clk_fake_init(&r->clk, scn->wall0_s * 1000000000LL);
    /* actions: autostart, the scenario's, explore's */
    if (scn->autostart) {
        r->acts = xrealloc(r->acts, (r->n_acts + 1) * sizeof *r->acts);
        memset(&r->acts[r->n_acts], 0, sizeof *r->acts);
        r->acts[r->n_acts].kind = SCN_A_START;
        r->acts[r->n_acts].line = 0;
        r->n_acts++;
    }
    for (size_t i = 0; i < scn->n_actions; i++) {
        r->acts = xrealloc(r->acts, (r->n_acts + 1) * sizeof *r->acts);
        r->acts[r->n_acts] = scn->actions[i];
        r->acts[r->n_acts].ctr = scn->actions[i].ctr;
        r->n_acts++;
    }
    for (size_t i = 0; i < scn->n_faults; i++) {
        const struct scn_fault *f = &scn->faults[i];
        if (f->op != SCN_OP_DISK)
            continue;
        if (f->kind == SCN_F_FULL) {
            r->disk = xrealloc(r->disk, (r->n_disk + 2) * sizeof *r->disk);
            r->disk[r->n_disk++] = (struct disk_win){f->f.from_ms, true};
            if (f->f.to_ms != INT64_MAX)
                r->disk[r->n_disk++] = (struct disk_win){f->f.to_ms, false};
        } else if (f->kind == SCN_F_CRASH_ROTATE) {
            r->sfs.cr = xrealloc(r->sfs.cr, (r->sfs.n_cr + 1) * sizeof *r->sfs.cr);
            r->sfs.cr[r->sfs.n_cr++] = (struct crash_rot){f->f.nth_lo, f->f.nth_hi, f->step};
        }
    }
    if (o->explore)
        explore_setup(r);
    else if (o->sweep)
        sweep_setup(r);
    /* sort (stable by line; explore actions have line 0 and come after same-time ones) */
    for (size_t i = 0; i < r->n_acts; i++)
        if (r->acts[i].line == 0 && !(scn->autostart && i == 0))
            r->acts[i].line = 1000000 + (int)i;
    if (r->n_acts > 1)
        qsort(r->acts, r->n_acts, sizeof *r->acts, cmp_act);
    if (r->n_disk > 1)
        qsort(r->disk, r->n_disk, sizeof *r->disk, cmp_disk);

    struct backend_sim_cfg bc = {.scn = scn,
                                 .spec = r->spec,
                                 .clk = &r->clk,
                                 .seed = r->seed,
                                 .swarm = r->have_swarm ? &r->swarm : NULL,
                                 .trace = o->fmt != SIM_TRACE_NONE || !o->no_checks ? sim_trace_cb
                                                                                    : NULL,
                                 .trace_self = r,
                                 .sweep_nth = o->sweep ? o->sweep_nth : 0,
                                 .sweep_kind = o->sweep_kind};
    r->bs = backend_sim_new(&bc);
    if (res->params)
        simrun_note(r, "sim", "explore", "%s", res->params);
    if (daemon_start(r, false) < 0)
        goto done;
    int64_t last_t = -1;
    uint64_t same = 0;
    for (;;) {
        int64_t t = next_time(r);
        if (t > r->end_ms)
            break;
        if (t < r->clk.mono_ms)
            t = r->clk.mono_ms;
        if (t == last_t) {
            if (++same > LIVELOCK_STEPS) {
                simrun_violation(r, "livelock: no progress at this time after %d steps",
                                 LIVELOCK_STEPS);
                break;
            }
        } else {
            same = 0;
            last_t = t;
        }
        clk_fake_set(&r->clk, t);
        res->steps++;
        r->restarted_now = false;
        while (r->next_disk < r->n_disk && r->disk[r->next_disk].at <= t) {
            bool full = r->disk[r->next_disk++].full;
            r->disk_full_now = full;
            fs_mem_set_capacity(r->mem, full ? fs_mem_used(r->mem) : -1);
            simrun_note(r, "disk", full ? "full" : "space", "%s", full ? "no space left" : "freed");
            if (full)
                res->cov_disk_full++;
        }
        if (!r->up && r->restart_at <= t) {
            simrun_note(r, "daemon", "restart", "re-adopting from the persisted state");
            if (daemon_start(r, true) < 0)
                break;
            r->restarted_now = true;
            size_t nd = r->n_deferred;
            r->n_deferred = 0;
            for (size_t k = 0; k < nd && r->up; k++)
                apply_action(r, r->deferred[k]);
        }
        if (o->sweep && !r->snapped && t >= r->final_stop_ms)
            simrun_check_sweep(r);
        while (r->next_act < r->n_acts && r->acts[r->next_act].at_ms <= t)
            apply_action(r, &r->acts[r->next_act++]);
        if (r->up)
            drv_run(r->drv);
        else
            backend_sim_idle(r->bs);
        if (r->up && r->sfs.crashed) {
            res->cov_rotation_crash++;
            daemon_crash(r, 1000, "crashed in the middle of a log rotation");
        }
        if (!o->no_checks)
            simrun_check_step(r);
    }
    clk_fake_set(&r->clk, r->end_ms);
    res->sim_ms = r->end_ms;
    if (!r->up && r->restart_at <= r->end_ms + 60000) {
        /* a daemon that was still down at the end comes back for the final checks */
        clk_fake_set(&r->clk, r->restart_at > r->end_ms ? r->restart_at : r->end_ms);
        simrun_note(r, "daemon", "restart", "re-adopting from the persisted state");
        if (daemon_start(r, true) == 0)
            drv_run(r->drv);
    }
    if (o->sweep && !r->snapped)
        simrun_check_sweep(r);
    if (!o->no_checks) {
        simrun_check_logs(r);
        if ((o->explore || o->sweep) && r->drv) {
            bool any = false;
            for (size_t i = 0; i < r->spec->n_containers; i++)
                if (backend_sim_obs(r->bs, i)->running)
                    any = true;
            if (!drv_pod_stopped(r->drv) || any)
                simrun_violation(r,
                                 "the pod did not stop within %d s of a stop request after the "
                                 "faults healed",
                                 STOP_BOUND_MS / 1000);
        }
    }
    struct sim_counters sc = backend_sim_counters(r->bs);
    res->cov_faults = sc.faults_fired;
    res->cov_lost = sc.events_lost;
    res->cov_dup = sc.events_dup;
    res->cov_pipe_blocked = sc.pipe_blocked;
    res->calls = sc.calls;
    res->sweep_at_ms = sc.sweep_at_ms;
    if (sc.sweep_at_ms >= 0)
        snprintf(res->sweep_call, sizeof res->sweep_call, "%s %s", scn_op_name(sc.sweep_op),
                 sc.sweep_ctr < r->spec->n_containers ? r->spec->containers[sc.sweep_ctr].name
                                                      : "pod");
    for (size_t i = 0; i < r->n_recs; i++) {
        if (strcmp(r->recs[i].event, "cancel") == 0 ||
            (strcmp(r->recs[i].event, "probe-done") == 0 && strstr(r->recs[i].details, "timeout")))
            res->cov_probe_timeout++;
        else if (strcmp(r->recs[i].event, "log-rotated") == 0)
            res->cov_rotations++;
        else if (strcmp(r->recs[i].event, "signal") == 0)
            res->cov_signals++;
    }
    if (!o->sweep)
        simrun_check_expects(r);
    if (o->dump_dir)
        res->dump_error = dump_files(r->mem, o->dump_dir);
done:
    res->n_events = r->n_recs;
    render(r);
    res->report = pod_buf_take(&r->report);
    drv_free(r->drv);
    backend_sim_free(r->bs);
    fs_mem_free(r->mem);
    for (size_t i = 0; i < r->n_recs; i++)
        free(r->recs[i].details);
    free(r->recs);
    free(r->acts);
    free(r->disk);
    free(r->deferred);
    free(r->sfs.cr);
    free(r->cs);
    spec_free(r->spec);
    return 0;
}

void sim_result_free(struct sim_result *r)
{
    free(r->trace);
    free(r->report);
    free(r->params);
    free(r->dump_error);
    free(r->ends);
    memset(r, 0, sizeof *r);
}
