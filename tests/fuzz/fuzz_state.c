/* SPDX-License-Identifier: MIT */
/* fuzz_state.c - libFuzzer target for the reader of .pod.state (SPEC.md 8.1, 10.2): what a
 * restarted daemon reads back to re-adopt its containers (drv_recover -> sup_restore) from a
 * file of the untrusted pod directory.
 *
 * Per input: the pod of sim/scenarios/explore-web.scn (a sidecar, probes, backoff, give-up,
 * on-interval, a config volume) runs 8 simulated seconds on the simulated podman under one
 * driver, which then dies (its containers keep running); a new driver recovers from the input
 * and runs on for 20 simulated seconds (adoption, restarts, probes, a stop), so values the
 * supervisor restores (instances, counts, backoff, times) are also computed with.
 * Whatever the bytes: no crash, no leak, no sanitizer report (UBSan: no overflow in the time
 * and backoff arithmetic); a rejection says why; what the recovered driver saves is read back
 * by a third one.
 * Seed corpus: tests/fuzz/state_corpus/ (.pod.state of that pod dumped by podsim in every
 * phase: starting, running, backoff, gave up, stopping, exited).
 */
#include "../../sim/backend_sim.h"
#include "../../sim/clk_fake.h"
#include "../../sim/fs_mem.h"
#include "../../sim/scn.h"
#include "pod/drv.h"
#include "pod/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const char scenario[] = "name fuzz-state\n"
                               "pod:\n"
                               "  api: 1.0.0-beta2\n"
                               "  podVersion: 1.0.0\n"
                               "  volumes:\n"
                               "    - name: cfg\n"
                               "      type: config\n"
                               "  containers:\n"
                               "    - name: proxy\n"
                               "      image: busybox\n"
                               "      kind: sidecar\n"
                               "      restart: always\n"
                               "      signal:\n"
                               "        - sig: HUP\n"
                               "      mounts:\n"
                               "        - volume: cfg\n"
                               "          dest: /etc/proxy\n"
                               "    - name: web\n"
                               "      image: busybox\n"
                               "      restart: always\n"
                               "      startupProbe:\n"
                               "        cmd: [ready]\n"
                               "        signal:\n"
                               "          - container: proxy\n"
                               "      readinessProbe:\n"
                               "        cmd: [check]\n"
                               "        periodSeconds: 3\n"
                               "        timeoutSeconds: 2\n"
                               "      livenessProbe:\n"
                               "        cmd: [alive]\n"
                               "        periodSeconds: 5\n"
                               "        failureThreshold: 2\n"
                               "      restartBackoff:\n"
                               "        initialSeconds: 1\n"
                               "        maxSeconds: 20\n"
                               "    - name: worker\n"
                               "      image: busybox\n"
                               "      restart: on-failure\n"
                               "      restartBackoff:\n"
                               "        initialSeconds: 1\n"
                               "        maxSeconds: 10\n"
                               "        giveUpCount: 20\n"
                               "        giveUpWindowSeconds: 120\n"
                               "    - name: cron\n"
                               "      image: busybox\n"
                               "      restart: on-interval:20\n"
                               "      mounts:\n"
                               "        - volume: cfg\n"
                               "          dest: /etc/cron\n"
                               "container web\n"
                               "  probe readiness fail attempts 5..8\n"
                               "  probe startup fail attempts 1..2\n"
                               "container worker\n"
                               "  exit 1 after 7s instances 1..4\n"
                               "  exit 0 after 40s instances 5..\n"
                               "container cron\n"
                               "  exit 0 after 3s\n";

static struct scn *scn;
static struct pod_spec *spec;
static bool verbose; /* $FUZZ_STATE_TRACE set: the drivers' traces and logs on stderr */

static void trace(void *self, int64_t t, const char *subject, const char *event,
                  const char *details)
{
    (void)self;
    fprintf(stderr, "%lld %s %s %s\n", (long long)t, subject, event, details);
}

static void quiet(void *self, int level, const char *msg)
{
    (void)self;
    (void)level;
    (void)msg;
}

static void setup(void)
{
    struct pod_err err = POD_ERR_ZERO;
    verbose = getenv("FUZZ_STATE_TRACE") != NULL;
    if (!verbose)
        pod_log_set_sink(quiet, NULL);
    if (scn_parse(scenario, strlen(scenario), "fuzz.scn", &scn, &err) < 0)
        abort();
    struct spec_diags dg = {0};
    struct spec_opts so = {.file = "fuzz.scn", .pod_name = "p", .check_files = false};
    if (spec_load(scn->pod_text, scn->pod_len, &so, &dg, &spec) < 0)
        abort();
    spec_diags_free(&dg);
    for (size_t i = 0; i < scn->n_ctrs; i++)
        scn->ctrs[i].spec_idx = (size_t)spec_find_container(spec, scn->ctrs[i].name);
}

struct world {
    struct clk_fake clk;
    struct backend_sim *bs;
    struct fs_mem *mem;
};

static struct drv *driver(struct world *w)
{
    struct pod_err err = POD_ERR_ZERO;
    struct drv_logw_sink_cfg lc = {.spec = spec, .fs = fs_mem_fs(w->mem), .dir = "pod"};
    struct drv_cfg dc = {.spec = spec,
                         .backend = backend_sim_backend(w->bs),
                         .clk = clk_fake_clock(&w->clk),
                         .fs = fs_mem_fs(w->mem),
                         .dir = "pod",
                         .seed = 7,
                         .trace = verbose ? trace : NULL};
    struct drv *d = NULL;
    if (drv_logw_sink_new(&lc, &dc.log, &err) < 0 || drv_new(&dc, &d, &err) < 0)
        abort();
    return d;
}

static void run_until(struct world *w, struct drv *d, int64_t until)
{
    for (int guard = 0; guard < 20000; guard++) {
        int64_t t = drv_next_deadline(d);
        if (t > until)
            break;
        if (t > w->clk.mono_ms)
            clk_fake_set(&w->clk, t);
        drv_run(d);
    }
    if (until > w->clk.mono_ms)
        clk_fake_set(&w->clk, until);
    drv_run(d);
}

static void crash(struct world *w, struct drv **d)
{
    backend_sim_daemon_down(w->bs);
    drv_free(*d);
    *d = NULL;
    fs_mem_set_crash_mode(w->mem, FS_MEM_CRASH_KEEP);
    fs_mem_crash(w->mem);
    backend_sim_daemon_up(w->bs);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    if (!spec)
        setup();
    struct world w;
    memset(&w, 0, sizeof w);
    clk_fake_init(&w.clk, 1700000000LL * 1000000000LL);
    struct backend_sim_cfg bc = {.scn = scn, .spec = spec, .clk = &w.clk, .seed = 1};
    w.bs = backend_sim_new(&bc);
    w.mem = fs_mem_new();

    /* a pod that runs, then its daemon dies */
    struct drv *d = driver(&w);
    struct sup_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = SUP_EV_START_POD;
    drv_input(d, &ev);
    run_until(&w, d, 8000);
    crash(&w, &d);
    clk_fake_advance(&w.clk, 1000);

    /* the new daemon reads the input as its .pod.state (a C string, as pod_read_file gives) */
    char *text = xstrndup((const char *)data, size);
    struct pod_err err = POD_ERR_ZERO;
    d = driver(&w);
    if (drv_recover(d, text, &err) < 0) {
        if (verbose)
            fprintf(stderr, "recover: %s\n", err.msg);
        if (!err.msg[0])
            abort(); /* a rejection says why */
        drv_free(d);
        d = driver(&w); /* the daemon starts afresh */
    }
    run_until(&w, d, w.clk.mono_ms + 8000);
    ev.type = SUP_EV_STOP_POD;
    drv_input(d, &ev);
    run_until(&w, d, w.clk.mono_ms + 12000);
    drv_flush_status(d);

    /* what it saved, a third daemon reads back */
    char *saved = NULL;
    size_t len = 0;
    crash(&w, &d);
    if (fs_mem_get(w.mem, "pod/" DRV_STATE_FILE, &saved, &len) == 0) {
        d = driver(&w);
        if (drv_recover(d, saved, &err) < 0)
            abort(); /* what we wrote, we must read back */
        drv_free(d);
        free(saved);
    }
    free(text);
    backend_sim_free(w.bs);
    fs_mem_free(w.mem);
    return 0;
}
