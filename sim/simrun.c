/* SPDX-License-Identifier: MIT */
/* simrun.c - the discrete-event simulation of one scenario (see simrun.h).
 *
 * Layout: spec loading (the real front end: spec_compile) -> a file-system wrapper that
 * injects disk faults and crash-during-rotation -> the event loop (jump to the next deadline,
 * apply actions, drv_run) -> per-step invariants -> end-of-run log accounting and
 * expectations.  The daemon can die and come back: its driver is then rebuilt from the state
 * it persisted (.pod.state) and re-adopts the containers that the sim backend kept running.
 */
#include "simrun.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "clk_fake.h"
#include "fs_mem.h"
#include "pod/clk.h"
#include "pod/drv.h"
#include "pod/fs.h"
#include "pod/logw.h"
#include "pod/spec.h"
#include "pod/sup.h"
#include "rng.h"

#define POD_DIR "pod"
#define POD_NAME "simpod"
#define LIVELOCK_STEPS 200000
#define STOP_BOUND_MS (10 * 60 * 1000)
/* A requested restart (rerun, signal, config change) may come this long after the request
 * (plus the config debounce): a graceful stop of the old instance comes first. */
#define EXCUSE_MS 60000

/* ------------------------------------------------------------------ records */

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
    uint64_t lossy[2];     /* log lines may be missing: dropped / crash with backlog */
    uint64_t rot_total[2]; /* rotations over all daemon lifetimes */
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

static void record(struct run *r, int64_t t, const char *subject, const char *event,
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
    record(self, t, subject, event, details);
}

static void sim_trace_cb(void *self, int64_t t, const char *ctr, const char *event,
                         const char *details)
{
    record(self, t, ctr, event, details);
}

static void note(struct run *r, const char *subject, const char *event, const char *fmt, ...)
    POD_PRINTF(4, 5);

static void note(struct run *r, const char *subject, const char *event, const char *fmt, ...)
{
    char d[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    record(r, r->clk.mono_ms, subject, event, d);
}

static void violation(struct run *r, const char *fmt, ...) POD_PRINTF(2, 3);

static void violation(struct run *r, const char *fmt, ...)
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
    record(r, r->clk.mono_ms, "sim", "VIOLATION", d);
}

/* ------------------------------------------------------------------ fs wrapper */

static int dead(struct simfs *f, struct pod_err *err)
{
    (void)f;
    return pod_err_set(err, POD_E_IO, EIO, "sim: the daemon is dead");
}

static void after_call(struct simfs *f)
{
    if (f->countdown > 0 && --f->countdown == 0) {
        f->crashed = true;
        f->dead = true;
    }
}

static int w_open(void *self, const char *path, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->open_append(f->inner.self, path, err);
    after_call(f);
    return rc;
}

static ssize_t w_write(void *self, int h, const void *buf, size_t len, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    ssize_t rc = f->inner.ops->write(f->inner.self, h, buf, len, err);
    after_call(f);
    return rc;
}

static int w_fsync(void *self, int h, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->fsync(f->inner.self, h, err);
    after_call(f);
    return rc;
}

static int w_close(void *self, int h, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->close(f->inner.self, h, err);
    after_call(f);
    return rc;
}

static bool is_log_current(const char *path)
{
    size_t n = strlen(path);
    return n > 4 && strcmp(path + n - 4, ".log") == 0 && strstr(path, "/log/") != NULL;
}

static int w_rename(void *self, const char *from, const char *to, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    if (is_log_current(from)) {
        f->rotations++;
        for (size_t i = 0; i < f->n_cr && f->countdown == 0; i++) {
            const struct crash_rot *c = &f->cr[i];
            if (f->rotations < c->nth_lo || f->rotations > c->nth_hi)
                continue;
            f->rot_crashes++;
            if (c->step <= 1) { /* crash instead of the rename */
                f->crashed = f->dead = true;
                return dead(f, err);
            }
            f->countdown = (int)c->step - 1;
        }
    }
    int rc = f->inner.ops->rename(f->inner.self, from, to, err);
    after_call(f);
    return rc;
}

static int w_unlink(void *self, const char *path, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->unlink(f->inner.self, path, err);
    after_call(f);
    return rc;
}

static int w_stat(void *self, const char *path, int64_t *size, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->stat_size(f->inner.self, path, size, err);
    after_call(f);
    return rc;
}

static int w_list(void *self, const char *dir, char ***names, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->list(f->inner.self, dir, names, err);
    after_call(f);
    return rc;
}

static int w_mkdir(void *self, const char *dir, struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->mkdir_p(f->inner.self, dir, err);
    after_call(f);
    return rc;
}

static int w_read(void *self, const char *path, int64_t off, void *buf, size_t len, size_t *got,
                  struct pod_err *err)
{
    struct simfs *f = self;
    if (f->dead)
        return dead(f, err);
    int rc = f->inner.ops->read_at(f->inner.self, path, off, buf, len, got, err);
    after_call(f);
    return rc;
}

static const struct fs_ops simfs_ops = {
    .open_append = w_open,
    .write = w_write,
    .fsync = w_fsync,
    .close = w_close,
    .rename = w_rename,
    .unlink = w_unlink,
    .stat_size = w_stat,
    .list = w_list,
    .mkdir_p = w_mkdir,
    .read_at = w_read,
};

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
    struct fs wfs = {&simfs_ops, &r->sfs};
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
        violation(r, "drv_new failed: %s", err.msg);
        return -1;
    }
    r->up = true;
    if (recover) {
        char *state = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, POD_DIR "/" DRV_STATE_FILE, &state, &len) < 0)
            state = NULL;
        if (drv_recover(r->drv, state, &err) < 0)
            violation(r, "drv_recover: %s", err.msg);
        free(state);
    }
    return 0;
}

static void daemon_crash(struct run *r, int64_t down_ms, const char *why)
{
    if (!r->up)
        return;
    note(r, "daemon", "crash", "%s; restart in %lldms", why, (long long)down_ms);
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
    static const char *const names[] = {"?",     "start",         "stop",
                                        "kill",  "signal",        "reload-configs",
                                        "rerun", "config-change", "daemon-crash"};
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
    note(r, "user", names[a->kind], "%s", d.data ? d.data : "");
    pod_buf_free(&d);
    if (a->kind == SCN_A_CRASH) {
        daemon_crash(r, a->down_ms, "killed");
        return;
    }
    if (!r->up) {
        /* the request waits for the daemon (the CLI's signal/action file is read on start) */
        note(r, "user", "deferred", "no daemon running; applied when it is back");
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
            note(r, "daemon", "exit", "pod stopped; a new daemon starts afresh");
            if (daemon_start(r, false) < 0)
                return;
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

/* ------------------------------------------------------------------ invariants */

static void check_step(struct run *r)
{
    size_t n = r->spec->n_containers;
    const struct sup_status *st = r->up ? drv_sup_status(r->drv) : NULL;
    for (size_t i = 0; i < n; i++) {
        const struct sim_ctr_obs *ob = backend_sim_obs(r->bs, i);
        const struct spec_container *c = &r->spec->containers[i];
        struct cstate *cs = &r->cs[i];
        if (ob->overlaps) {
            violation(r, "%s: a new instance was started while instance %llu still ran", c->name,
                      (unsigned long long)ob->instance);
            ((struct sim_ctr_obs *)ob)->overlaps = 0;
        }
        if (ob->starts != cs->starts_seen) {
            bool first = cs->starts_seen == 0;
            cs->starts_seen = ob->starts;
            bool prev_ran = ob->exits > 0;
            bool excused = cs->excused || r->clk.mono_ms <= cs->excused_until;
            /* An instance the supervisor never saw running (its STARTED was lost and it exited
             * meanwhile) counts as a failed start: policy rules for clean exits do not apply. */
            bool failed_start = cs->sup_seen_run != cs->prev_instance;
            cs->prev_instance = ob->instance;
            if (!first && !excused && prev_ran && !failed_start) {
                int64_t since = r->clk.mono_ms - ob->last_exit_ms;
                bool vol0 = ob->last_exit_voluntary && ob->last_exit_code == 0;
                switch (c->restart) {
                case SPEC_RESTART_NEVER:
                    violation(r, "%s: restarted under restart: never (instance %llu)", c->name,
                              (unsigned long long)ob->instance);
                    break;
                case SPEC_RESTART_ON_FAILURE:
                    if (vol0)
                        violation(r, "%s: restarted after a clean exit under on-failure", c->name);
                    break;
                case SPEC_RESTART_ON_CONFIG:
                    if (vol0)
                        violation(r,
                                  "%s: restarted after a clean exit under on-config without a "
                                  "config change",
                                  c->name);
                    break;
                case SPEC_RESTART_ON_INTERVAL:
                    if (vol0 && since < (int64_t)c->restart_interval_s * 1000)
                        violation(r, "%s: on-interval:%d restarted %lld ms after a clean exit",
                                  c->name, c->restart_interval_s, (long long)since);
                    break;
                default:
                    break;
                }
                if (since < 1000 && ob->last_exit_voluntary)
                    violation(r, "%s: restarted %lld ms after it crashed (floor 1000 ms)", c->name,
                              (long long)since);
            }
            cs->excused = false;
        }
        if (st && i < st->n) {
            const struct sup_ctr_status *ss = &st->ctr[i];
            if (ss->running && ss->started)
                cs->sup_seen_run = ss->instance;
            if (ss->backoff_ms > 0 && c->backoff.max_ms > 0 && ss->backoff_ms > c->backoff.max_ms &&
                ss->backoff_ms > 1000)
                violation(r, "%s: backoff %lld ms above the cap %d ms", c->name,
                          (long long)ss->backoff_ms, c->backoff.max_ms);
            if (c->backoff.max_ms > 0 && ss->backoff_ms >= c->backoff.max_ms / 2 &&
                c->backoff.max_ms > c->backoff.initial_ms)
                r->res->cov_backoff_cap++;
            if (ss->gave_up)
                r->res->cov_gave_up++;
            /* the backoff streak resets only after resetSeconds of stable running (or when a
             * user request restarted the container) */
            int64_t reset_ms = (int64_t)(c->backoff.reset_s > 0 ? c->backoff.reset_s : 600) * 1000;
            bool completed = !ob->running && ob->last_exit_voluntary && ob->last_exit_code == 0;
            if (cs->prev_failures > 0 && ss->consecutive_failures == 0 && !r->restarted_now &&
                r->clk.mono_ms > cs->excused_until && !cs->excused && !completed &&
                (!ob->running || r->clk.mono_ms - ob->last_start_ms < reset_ms))
                violation(r, "%s: backoff reset after %lld ms of running (resetSeconds %lld)",
                          c->name, (long long)(r->clk.mono_ms - ob->last_start_ms),
                          (long long)(reset_ms / 1000));
            cs->prev_failures = ss->consecutive_failures;
        }
    }
    if (r->up && !r->o.no_checks) {
        char *txt = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, POD_DIR "/" DRV_STATUS_FILE, &txt, &len) == 0) {
            struct pod_err e = POD_ERR_ZERO;
            if (drv_status_check(txt, len, &e) < 0)
                violation(r, "status file does not parse: %s", e.msg);
            free(txt);
        }
    }
}

/* Every line handed to a daemon is in the log files exactly once, in order; missing lines
 * only where the documented output model allows it. */
static void check_logs(struct run *r)
{
    if (!r->drv)
        return;
    struct fs mfs = fs_mem_fs(r->mem);
    for (size_t i = 0; i < r->spec->n_containers; i++) {
        const char *name = r->spec->containers[i].name;
        for (int s = 0; s < 2; s++) {
            char *base = drv_log_base_name(r->spec, i, (enum backend_stream)s);
            char **paths = NULL;
            struct pod_err err = POD_ERR_ZERO;
            size_t nacct = 0;
            const struct sim_out_acct *acct = backend_sim_out(r->bs, i, s, &nacct);
            uint64_t *found = xcalloc(nacct + 1, sizeof *found);
            bool *partial = xcalloc(nacct + 1, sizeof *partial);
            if (logw_files(&mfs, POD_DIR "/log", base, &paths, &err) < 0) {
                violation(r, "%s: cannot list logs: %s", base, err.msg);
                free(found);
                free(partial);
                free(base);
                continue;
            }
            uint64_t last_i = 0, last_s = 0;
            bool order_ok = true;
            for (char **p = paths; p && *p; p++) {
                char *txt = NULL;
                size_t len = 0;
                if (fs_mem_get(r->mem, *p, &txt, &len) < 0)
                    continue;
                size_t pos = 0;
                while (pos < len) {
                    const char *l = txt + pos;
                    const char *nl = memchr(l, '\n', len - pos);
                    size_t ll = nl ? (size_t)(nl - l) : len - pos;
                    pos += ll + 1;
                    struct logw_rec rec;
                    uint64_t in, sq;
                    if (!logw_parse_line(l, ll, &rec) || rec.mark == '!')
                        continue;
                    if (!sim_line_parse(rec.msg, rec.msg_len, name, s, &in, &sq))
                        continue;
                    if (in < last_i || (in == last_i && sq <= last_s)) {
                        if (order_ok)
                            violation(r,
                                      "%s: line i%llu n%llu after i%llu n%llu (duplicate or "
                                      "out of order)",
                                      base, (unsigned long long)in, (unsigned long long)sq,
                                      (unsigned long long)last_i, (unsigned long long)last_s);
                        order_ok = false;
                    }
                    last_i = in;
                    last_s = sq;
                    /* a split long line carries its tokens in its first ('+') piece; the
                     * unterminated last line of an instance has seq emitted + 1 */
                    for (size_t k = 0; k < nacct; k++)
                        if (acct[k].instance == in) {
                            if (acct[k].partial && sq == acct[k].emitted + 1)
                                partial[k] = true;
                            else
                                found[k]++;
                            break;
                        }
                }
                free(txt);
            }
            pod_strv_free(paths);
            struct logw_stats ls = drv_log_stats(r->drv, i, s);
            uint64_t rot = r->cs[i].rot_total[s] + ls.rotations;
            int max_files = r->scn->log_max_files ? r->scn->log_max_files : r->spec->logs.max_files;
            bool retention = rot > (uint64_t)max_files;
            bool lossy = r->cs[i].lossy[s] || ls.dropped_lines || ls.backlog_bytes;
            for (size_t k = 0; k < nacct; k++) {
                const struct sim_out_acct *a = &acct[k];
                if (found[k] > a->delivered)
                    violation(r, "%s: instance %llu: %llu lines in the logs, only %llu written",
                              base, (unsigned long long)a->instance, (unsigned long long)found[k],
                              (unsigned long long)a->delivered);
                else if (found[k] < a->delivered && !retention && !lossy)
                    violation(r, "%s: instance %llu: %llu of %llu lines lost", base,
                              (unsigned long long)a->instance,
                              (unsigned long long)(a->delivered - found[k]),
                              (unsigned long long)a->delivered);
                if (a->partial && !partial[k] && !retention && !lossy)
                    violation(r, "%s: instance %llu: the unterminated last line is missing", base,
                              (unsigned long long)a->instance);
            }
            free(found);
            free(partial);
            free(base);
        }
    }
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

static uint64_t count_log(struct run *r, size_t ctr, int s, const char *what)
{
    struct fs mfs = fs_mem_fs(r->mem);
    char **paths = NULL;
    struct pod_err err = POD_ERR_ZERO;
    if (!r->drv)
        return 0;
    char *base = drv_log_base_name(r->spec, ctr, (enum backend_stream)s);
    int rc = logw_files(&mfs, POD_DIR "/log", base, &paths, &err);
    free(base);
    if (rc < 0)
        return 0;
    uint64_t n = 0;
    if (strcmp(what, "files") == 0) {
        n = pod_strv_len(paths);
        pod_strv_free(paths);
        return n;
    }
    for (char **p = paths; *p; p++) {
        char *txt = NULL;
        size_t len = 0;
        if (fs_mem_get(r->mem, *p, &txt, &len) < 0)
            continue;
        size_t pos = 0;
        while (pos < len) {
            const char *l = txt + pos;
            const char *nl = memchr(l, '\n', len - pos);
            size_t ll = nl ? (size_t)(nl - l) : len - pos;
            pos += ll + 1;
            struct logw_rec rec;
            if (!logw_parse_line(l, ll, &rec))
                continue;
            if (strcmp(what, "lines") == 0 && rec.mark == 0)
                n++;
            else if (strcmp(what, "partial") == 0 && rec.mark == '+')
                n++;
            else if (strcmp(what, "notices") == 0 && rec.mark == '!')
                n++;
        }
        free(txt);
    }
    pod_strv_free(paths);
    return n;
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

static void check_expects(struct run *r)
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
                                 .trace_self = r};
    r->bs = backend_sim_new(&bc);
    if (res->params)
        note(r, "sim", "explore", "%s", res->params);
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
                violation(r, "livelock: no progress at this time after %d steps", LIVELOCK_STEPS);
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
            note(r, "disk", full ? "full" : "space", "%s", full ? "no space left" : "freed");
            if (full)
                res->cov_disk_full++;
        }
        if (!r->up && r->restart_at <= t) {
            note(r, "daemon", "restart", "re-adopting from the persisted state");
            if (daemon_start(r, true) < 0)
                break;
            r->restarted_now = true;
            size_t nd = r->n_deferred;
            r->n_deferred = 0;
            for (size_t k = 0; k < nd && r->up; k++)
                apply_action(r, r->deferred[k]);
        }
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
            check_step(r);
    }
    clk_fake_set(&r->clk, r->end_ms);
    res->sim_ms = r->end_ms;
    if (!r->up && r->restart_at <= r->end_ms + 60000) {
        /* a daemon that was still down at the end comes back for the final checks */
        clk_fake_set(&r->clk, r->restart_at > r->end_ms ? r->restart_at : r->end_ms);
        note(r, "daemon", "restart", "re-adopting from the persisted state");
        if (daemon_start(r, true) == 0)
            drv_run(r->drv);
    }
    if (!o->no_checks) {
        check_logs(r);
        if (o->explore && r->drv) {
            bool any = false;
            for (size_t i = 0; i < r->spec->n_containers; i++)
                if (backend_sim_obs(r->bs, i)->running)
                    any = true;
            if (!drv_pod_stopped(r->drv) || any)
                violation(r,
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
    for (size_t i = 0; i < r->n_recs; i++) {
        if (strcmp(r->recs[i].event, "cancel") == 0 ||
            (strcmp(r->recs[i].event, "probe-done") == 0 && strstr(r->recs[i].details, "timeout")))
            res->cov_probe_timeout++;
        else if (strcmp(r->recs[i].event, "log-rotated") == 0)
            res->cov_rotations++;
        else if (strcmp(r->recs[i].event, "signal") == 0)
            res->cov_signals++;
    }
    check_expects(r);
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
    memset(r, 0, sizeof *r);
}
