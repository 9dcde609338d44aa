/* SPDX-License-Identifier: MIT */
/* sim_env.h - a driver on the simulated podman for the driver tests (tests/test_sim_drv*.c):
 * a scenario text (its inline pod and container rules, faults) compiled into a spec, the sim
 * backend on a fake clock, fs_mem, and optionally a driver with a logw-inline sink, whose trace
 * is collected as "T SUBJECT EVENT DETAILS" lines in env.trace.  run_until() is the
 * discrete-event loop.  Everything is static: include it from exactly one .c per test binary.
 */
#ifndef SIM_ENV_H
#define SIM_ENV_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "../sim/backend_sim.h"
#include "../sim/clk_fake.h"
#include "../sim/fs_mem.h"
#include "../sim/scn.h"
#include "pod/drv.h"
#include "pod/fs.h"
#include "pod/util.h"

struct env {
    struct scn *scn;
    struct pod_spec *spec;
    struct clk_fake clk;
    struct backend_sim *bs;
    struct backend be;
    struct fs_mem *mem;
    struct drv *drv;
    struct pod_buf trace;
};

static inline void trace_cb(void *self, int64_t t, const char *subject, const char *event,
                            const char *details)
{
    struct env *e = self;
    pod_buf_printf(&e->trace, "%lld %s %s %s\n", (long long)t, subject, event, details);
}

static inline void sim_trace_cb(void *self, int64_t t, const char *ctr, const char *event,
                                const char *details)
{
    trace_cb(self, t, ctr, event, details);
}

static inline void quiet(void *self, int level, const char *msg)
{
    (void)self;
    (void)level;
    (void)msg;
}

/* A driver configuration on e's backend, clock and fs_mem, with a fresh logw-inline log sink
 * (drv_new takes it). */
static inline struct drv_cfg drv_cfg_of(struct env *e, uint64_t seed)
{
    struct pod_err err = POD_ERR_ZERO;
    struct drv_logw_sink_cfg lc = {.spec = e->spec, .fs = fs_mem_fs(e->mem), .dir = "pod"};
    struct drv_cfg dc = {.spec = e->spec,
                         .backend = e->be,
                         .clk = clk_fake_clock(&e->clk),
                         .fs = fs_mem_fs(e->mem),
                         .dir = "pod",
                         .seed = seed,
                         .trace = trace_cb,
                         .trace_self = e};
    assert_int_equal(drv_logw_sink_new(&lc, &dc.log, &err), 0);
    return dc;
}

static inline struct env *env_new(const char *text, bool with_drv)
{
    struct env *e = xcalloc(1, sizeof *e);
    struct pod_err err = POD_ERR_ZERO;
    pod_log_set_sink(quiet, NULL);
    if (scn_parse(text, strlen(text), "t.scn", &e->scn, &err) < 0)
        fail_msg("%s", err.msg);
    struct spec_diags dg = {0};
    struct spec_opts so = {.file = "t.scn", .pod_name = "p", .check_files = false};
    if (spec_load(e->scn->pod_text, e->scn->pod_len, &so, &dg, &e->spec) < 0)
        fail_msg("spec rejected (%zu errors)", dg.n_errors);
    spec_diags_free(&dg);
    for (size_t i = 0; i < e->scn->n_ctrs; i++)
        e->scn->ctrs[i].spec_idx = (size_t)spec_find_container(e->spec, e->scn->ctrs[i].name);
    for (size_t i = 0; i < e->scn->n_faults; i++)
        if (e->scn->faults[i].ctr)
            e->scn->faults[i].ctr_idx = (size_t)spec_find_container(e->spec, e->scn->faults[i].ctr);
    clk_fake_init(&e->clk, 1700000000LL * 1000000000LL);
    struct backend_sim_cfg bc = {.scn = e->scn,
                                 .spec = e->spec,
                                 .clk = &e->clk,
                                 .seed = 1,
                                 .trace = sim_trace_cb,
                                 .trace_self = e};
    e->bs = backend_sim_new(&bc);
    e->be = backend_sim_backend(e->bs);
    e->mem = fs_mem_new();
    if (with_drv) {
        struct drv_cfg dc = drv_cfg_of(e, 1);
        assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    }
    return e;
}

static inline void env_free(struct env *e)
{
    drv_free(e->drv);
    backend_sim_free(e->bs);
    fs_mem_free(e->mem);
    spec_free(e->spec);
    scn_free(e->scn);
    pod_buf_free(&e->trace);
    free(e);
}

/* Runs the driver's discrete-event loop until `until` (mono ms). */
static inline void run_until(struct env *e, int64_t until)
{
    for (int guard = 0; guard < 100000; guard++) {
        int64_t t = drv_next_deadline(e->drv);
        if (t > until)
            break;
        clk_fake_set(&e->clk, t);
        drv_run(e->drv);
    }
    clk_fake_set(&e->clk, until);
    drv_run(e->drv);
}

static inline int poll_all(struct env *e, struct backend_event *evs, size_t max)
{
    struct pod_err err = POD_ERR_ZERO;
    return e->be.ops->poll_events(e->be.self, evs, max, &err);
}

static inline char *status_text(struct env *e, size_t *len)
{
    char *txt = NULL;
    if (fs_mem_get(e->mem, "pod/" DRV_STATUS_FILE, &txt, len) < 0)
        return NULL;
    return txt;
}

#define POD1                                                                                       \
    "pod:\n  api: 1.0.0-beta2\n  podVersion: 1.0.0\n  containers:\n    - name: web\n"              \
    "      image: x\n      restart: always\n"

#endif
