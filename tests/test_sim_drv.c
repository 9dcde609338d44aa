/* SPDX-License-Identifier: MIT */
/* test_sim_drv.c - the sim backend (scripted containers, faults, output path model) and the
 * driver (sup <-> backend, status file, reconcile, retries) on a fake clock and fs_mem. */
#include "sim_env.h"

#include <errno.h>

/* ------------------------------------------------------------------ backend */

static void test_backend_sim__lifecycle_and_output(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "container web\n  start-latency 300ms\n  exit 4 after 2s\n"
                                 "  stdout 2/s\n",
                            false);
    struct pod_err err = POD_ERR_ZERO;
    struct backend_event ev[16];
    assert_int_equal(e->be.ops->ctr_start(e->be.self, 0, 1, &err), 0);
    assert_int_equal(e->be.ops->next_deadline(e->be.self), 300);
    clk_fake_set(&e->clk, 299);
    assert_int_equal(poll_all(e, ev, 16), 0);
    clk_fake_set(&e->clk, 300);
    assert_int_equal(poll_all(e, ev, 16), 1);
    assert_int_equal(ev[0].type, BACKEND_EV_STARTED);
    assert_int_equal(ev[0].instance, 1);
    struct backend_ctr_state cs;
    assert_int_equal(e->be.ops->inspect(e->be.self, 0, &cs, &err), 0);
    assert_true(cs.exists && cs.running);
    /* lines at 800 and 1300 ms are delivered on the 1 s flush grid */
    clk_fake_set(&e->clk, 1000);
    int n = poll_all(e, ev, 16);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].type, BACKEND_EV_OUTPUT);
    uint64_t inst, seq;
    assert_true(sim_line_parse(ev[0].data, ev[0].len, "web", 0, &inst, &seq));
    assert_int_equal(inst, 1);
    assert_int_equal(seq, 1);
    clk_fake_set(&e->clk, 2300);
    n = poll_all(e, ev, 16);
    int exited = 0, eof = 0;
    for (int i = 0; i < n; i++) {
        if (ev[i].type == BACKEND_EV_EXITED) {
            exited++;
            assert_int_equal(ev[i].exit_code, 4);
        }
        eof += ev[i].type == BACKEND_EV_OUTPUT_EOF;
    }
    assert_int_equal(exited, 1);
    assert_int_equal(eof, 2);
    size_t na;
    const struct sim_out_acct *a = backend_sim_out(e->bs, 0, 0, &na);
    assert_int_equal(na, 1);
    assert_int_equal(a[0].emitted, 5); /* at 0.3 (start) 0.8 1.3 1.8 2.3 (exit) */
    assert_int_equal(a[0].delivered, 5);
    assert_int_equal(backend_sim_obs(e->bs, 0)->last_exit_code, 4);
    assert_true(backend_sim_obs(e->bs, 0)->last_exit_voluntary);
    env_free(e);
}

static void test_backend_sim__probes_hang_and_cancel(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "container web\n  probe readiness fail code 3 attempts 1\n"
                                 "  probe readiness hang attempts 2\n",
                            false);
    struct pod_err err = POD_ERR_ZERO;
    struct backend_event ev[8];
    assert_int_equal(e->be.ops->ctr_start(e->be.self, 0, 1, &err), 0);
    clk_fake_set(&e->clk, 100);
    assert_int_equal(poll_all(e, ev, 8), 1);
    struct backend_probe_req req = {
        .kind = BACKEND_PROBE_EXEC, .ctr = 0, .instance = 1, .tag = 7, .role = 1};
    assert_int_equal(e->be.ops->probe(e->be.self, &req, &err), 0);
    clk_fake_set(&e->clk, 110);
    assert_int_equal(poll_all(e, ev, 8), 1);
    assert_int_equal(ev[0].type, BACKEND_EV_EXEC_DONE);
    assert_int_equal(ev[0].tag, 7);
    assert_int_equal(ev[0].result, BACKEND_FAIL);
    assert_int_equal(ev[0].exit_code, 3);
    req.tag = 8;
    assert_int_equal(e->be.ops->probe(e->be.self, &req, &err), 0);
    clk_fake_set(&e->clk, 100000);
    assert_int_equal(poll_all(e, ev, 8), 0); /* hangs */
    assert_int_equal(e->be.ops->cancel(e->be.self, 8, &err), 0);
    assert_int_equal(poll_all(e, ev, 8), 0);
    /* the cancel's confirmation: its one EXEC_DONE, BACKEND_CANCELLED, 10 ms later */
    clk_fake_set(&e->clk, 100010);
    assert_int_equal(poll_all(e, ev, 8), 1);
    assert_int_equal(ev[0].type, BACKEND_EV_EXEC_DONE);
    assert_int_equal(ev[0].tag, 8);
    assert_int_equal(ev[0].result, BACKEND_CANCELLED);
    assert_int_equal(backend_sim_counters(e->bs).probes_cancelled, 1);
    /* a cancel of a request that has ended: nothing more */
    assert_int_equal(e->be.ops->cancel(e->be.self, 8, &err), 0);
    assert_int_equal(e->be.ops->cancel(e->be.self, 7, &err), 0);
    clk_fake_set(&e->clk, 200000);
    assert_int_equal(poll_all(e, ev, 8), 0);
    env_free(e);
}

static void test_backend_sim__faults(void **state)
{
    (void)state;
    struct env *e =
        env_new(POD1 "fault start fail times 1\nfault event lose type started\n", false);
    struct pod_err err = POD_ERR_ZERO;
    struct backend_event ev[8];
    assert_int_equal(e->be.ops->ctr_start(e->be.self, 0, 1, &err), -1);
    assert_non_null(strstr(err.msg, "injected"));
    assert_int_equal(e->be.ops->ctr_start(e->be.self, 0, 1, &err), 0);
    clk_fake_set(&e->clk, 500);
    assert_int_equal(poll_all(e, ev, 8), 0); /* STARTED lost ... */
    struct backend_ctr_state cs;
    assert_int_equal(e->be.ops->inspect(e->be.self, 0, &cs, &err), 0);
    assert_true(cs.running); /* ... but inspect tells the truth */
    assert_int_equal(backend_sim_counters(e->bs).events_lost, 1);
    env_free(e);
}

static void test_backend_sim__output_path_models(void **state)
{
    (void)state;
    for (int direct = 0; direct < 2; direct++) {
        char text[512];
        snprintf(text, sizeof text, "%s%s", direct ? "output-path direct\n" : "",
                 POD1 "container web\n  stdout 100/s bytes 1000\n");
        struct env *e = env_new(text, false);
        struct pod_err err = POD_ERR_ZERO;
        struct backend_event ev[64];
        assert_int_equal(e->be.ops->ctr_start(e->be.self, 0, 1, &err), 0);
        clk_fake_set(&e->clk, 100);
        poll_all(e, ev, 64);
        backend_sim_daemon_down(e->bs);
        clk_fake_set(&e->clk, 10100); /* 1000 lines of 1000 bytes while nobody reads */
        backend_sim_idle(e->bs);
        size_t na;
        const struct sim_out_acct *a = backend_sim_out(e->bs, 0, 0, &na);
        if (direct) {
            assert_int_equal(a[0].epipe, 1001); /* EPIPE: lost, counted (0.1 s .. 10.1 s) */
            assert_int_equal(a[0].emitted, 1001);
        } else {
            assert_int_equal(a[0].epipe, 0); /* the pipe fills (64 KiB) and the writer blocks */
            assert_int_equal(a[0].emitted, SIM_PIPE_CAPACITY / 1000);
            assert_int_equal(backend_sim_counters(e->bs).pipe_blocked, 1);
        }
        backend_sim_daemon_up(e->bs);
        int n = poll_all(e, ev, 64);
        uint64_t lines = 0;
        for (int i = 0; i < n; i++)
            if (ev[i].type == BACKEND_EV_OUTPUT)
                for (size_t k = 0; k < ev[i].len; k++)
                    lines += ev[i].data[k] == '\n';
        assert_int_equal(lines, direct ? 0 : SIM_PIPE_CAPACITY / 1000);
        env_free(e);
    }
}

/* ------------------------------------------------------------------ driver */

static void test_drv__start_writes_status(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "container web\n  stdout 1/s\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 5200);
    size_t len;
    char *txt = status_text(e, &len);
    assert_non_null(txt);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(drv_status_check(txt, len, &err), 0);
    char *v = drv_status_get(txt, len, "web", "status");
    assert_string_equal(v, "running");
    free(v);
    v = drv_status_get(txt, len, NULL, "readiness");
    assert_string_equal(v, "1");
    free(v);
    v = drv_status_get(txt, len, "web", "startCount");
    assert_string_equal(v, "1");
    free(v);
    v = drv_status_get(txt, len, NULL, "updated");
    assert_string_equal(v, "1700000005"); /* refreshed 5 s after the last change (0.1 s) */
    free(v);
    free(txt);
    /* the output reached the log file through the fs seam */
    char *log = NULL;
    size_t ll;
    assert_int_equal(fs_mem_get(e->mem, "pod/log/web-p-1.0.0-stdout.log", &log, &ll), 0);
    assert_non_null(strstr(log, "web stdout i1 n000001"));
    free(log);
    assert_non_null(strstr(e->trace.data, "web started instance=1"));
    env_free(e);
}

/* The last problem per container (SPEC 7.2 lastWarning): a failed start call is remembered
 * with its message and when; a container without one has none. */
static void test_drv__last_warning(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "fault start fail times 1\n", true);
    int64_t at = -1;
    assert_null(drv_last_warning(e->drv, 0, &at));
    assert_int_equal(at, 0);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 5200);
    const char *w = drv_last_warning(e->drv, 0, &at);
    assert_non_null(w);
    assert_non_null(strstr(w, "injected"));
    assert_int_equal(at, 1700000000);
    assert_null(drv_last_warning(e->drv, 1, &at)); /* the pod's own: none */
    env_free(e);
    /* a START_FAILED from the backend (the container could not run) */
    e = env_new(POD1 "container web\n  start-fail instances 1\n", true);
    drv_input(e->drv, &ev);
    run_until(e, 5200);
    w = drv_last_warning(e->drv, 0, &at);
    assert_non_null(w);
    assert_non_null(strstr(w, "start failed: sim: scripted start failure"));
    env_free(e);
}

static void test_drv_status_check__rejects_malformed(void **state)
{
    (void)state;
    struct pod_err err = POD_ERR_ZERO;
    const char *good = "pod: p-1\nupdated: 17\nstatus: running\nreadiness: 1\ncontainers:\n"
                       "    - name: web\n      status: running\n";
    assert_int_equal(drv_status_check(good, strlen(good), &err), 0);
    const char *bad[] = {
        "pod: p-1\nupdated: x\nstatus: running\nreadiness: 1\n",
        "pod: p-1\nupdated: 1\nstatus: running\nreadiness: 2\n",
        "pod: p-1\nupdated: 1\nstatus: running\n",
        "pod: p-1\nupdated: 1\nstatus:running\nreadiness: 1\n",
        "pod: p-1\nupdated: 1\nstatus: running\nreadiness: 1\ncontainers:\n  - name: x\n",
        "pod: p-1\nupdated: 1\nstatus: running\nreadiness: 1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(drv_status_check(bad[i], strlen(bad[i]), &err), -1);
    char *v = drv_status_get(good, strlen(good), "web", "status");
    assert_string_equal(v, "running");
    free(v);
    assert_null(drv_status_get(good, strlen(good), "db", "status"));
    assert_null(drv_status_get(good, strlen(good), NULL, "nothere"));
}

static void test_drv__reconcile_repairs_lost_exit(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "container web\n  exit 1 after 2s instances 1\n"
                                 "fault event lose type exited times 1\n",
                            true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 9000);
    /* the exit at 2.1 s went unnoticed so far */
    assert_int_equal(backend_sim_obs(e->bs, 0)->starts, 1);
    run_until(e, 15000);
    assert_non_null(strstr(e->trace.data, "web reconcile exited instance=1 code=1 (event lost)"));
    assert_int_equal(backend_sim_obs(e->bs, 0)->starts, 2);
    env_free(e);
}

static void test_drv__failed_stop_is_retried(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "fault stop fail times 2\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 1000);
    ev.type = SUP_EV_STOP_POD;
    drv_input(e->drv, &ev);
    run_until(e, 30000);
    assert_false(backend_sim_obs(e->bs, 0)->running);
    assert_true(drv_pod_stopped(e->drv));
    assert_non_null(strstr(e->trace.data, "web note retry stop of instance 1 (the call failed)"));
    env_free(e);
}

static void test_drv__recover_readopts_running(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    char *state_text = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &state_text, &len), 0);
    /* the daemon dies; a new one starts from the persisted state */
    backend_sim_daemon_down(e->bs);
    drv_free(e->drv);
    e->drv = NULL;
    backend_sim_daemon_up(e->bs);
    struct pod_err err = POD_ERR_ZERO;
    struct drv_cfg dc = drv_cfg_of(e, 2);
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    assert_int_equal(drv_recover(e->drv, state_text, &err), 0);
    free(state_text);
    run_until(e, 10000);
    assert_int_equal(backend_sim_obs(e->bs, 0)->starts, 1); /* adopted, not restarted */
    assert_true(drv_sup_status(e->drv)->ctr[0].running);
    assert_non_null(strstr(e->trace.data, "web adopt exists=1 running=1 instance=1"));
    /* a damaged state file is an error, not a crash */
    struct drv *d2 = NULL;
    dc = drv_cfg_of(e, 2); /* a sink of its own: drv_new took the first */
    assert_int_equal(drv_new(&dc, &d2, &err), 0);
    assert_int_equal(drv_recover(d2, "{not json", &err), -1);
    drv_free(d2);
    env_free(e);
}

static void test_drv__recover_stuck_created_is_restarted(void **state)
{
    (void)state;
    /* a `podman run` that never completes: the container stays created, never runs */
    struct env *e = env_new(POD1 "fault start hang times 1\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 2000);
    backend_sim_daemon_down(e->bs);
    drv_free(e->drv);
    e->drv = NULL;
    backend_sim_daemon_up(e->bs);
    struct pod_err err = POD_ERR_ZERO;
    struct drv_cfg dc = drv_cfg_of(e, 2);
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    char *st = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &st, &len), 0);
    assert_int_equal(drv_recover(e->drv, st, &err), 0);
    free(st);
    run_until(e, 2000 + SUP_ADOPT_WAIT_MS - 1000);
    assert_int_equal(backend_sim_obs(e->bs, 0)->starts, 1); /* still waiting for it */
    assert_non_null(strstr(e->trace.data, "web adopt exists=1 running=0 instance=1 code=0 "
                                          "(created, never ran)"));
    assert_non_null(strstr(e->trace.data, "its start may still be in flight; waiting up to 30 s"));
    run_until(e, 2000 + SUP_ADOPT_WAIT_MS + 5000);
    /* then removed (so that the run in flight cannot complete later), and once inspect shows
     * it gone, started again */
    assert_non_null(strstr(e->trace.data, "32000 web remove"));
    assert_non_null(strstr(e->trace.data, "33000 web note its removal is confirmed"));
    assert_int_equal(backend_sim_obs(e->bs, 0)->starts, 2); /* started again */
    assert_true(backend_sim_obs(e->bs, 0)->running);
    env_free(e);
}

static void capture_log(void *self, int level, const char *msg)
{
    (void)level;
    pod_buf_printf(self, "%s\n", msg);
}

/* SPEC 10.2: the rename of .pod.state is made durable with a sync of the pod directory (fs_real's
 * rename does not sync it); .pod.status is not synced (its next rewrite is at most 5 s away). */
static void test_drv__state_write_syncs_dir(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, true);
    struct pod_buf logged = {0};
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    pod_log_set_sink(capture_log, &logged);
    /* a forced flush writes both files: two renames, one directory sync (the state's) */
    uint64_t sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR);
    uint64_t rn = fs_mem_calls(e->mem, FS_MEM_OP_RENAME);
    drv_flush_status(e->drv);
    assert_int_equal(fs_mem_calls(e->mem, FS_MEM_OP_RENAME) - rn, 2);
    assert_int_equal(fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR) - sd, 1);
    assert_null(logged.data); /* the sync of "pod" (the directory exists) succeeded */
    /* the periodic refresh rewrites only .pod.status: no directory sync */
    sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR);
    rn = fs_mem_calls(e->mem, FS_MEM_OP_RENAME);
    run_until(e, 9000);
    assert_true(fs_mem_calls(e->mem, FS_MEM_OP_RENAME) - rn >= 1);
    assert_int_equal(fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR) - sd, 0);
    /* the sync follows the rename, and its failure is reported */
    fs_mem_fail(e->mem, FS_MEM_OP_SYNCDIR, 1, 1, EIO);
    fs_mem_put(e->mem, "pod/" DRV_STATE_FILE, "old", 3, true);
    drv_flush_status(e->drv);
    char *st = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &st, &len), 0);
    assert_non_null(strstr(st, "\"sup\":{")); /* renamed into place before the sync */
    free(st);
    assert_non_null(logged.data);
    assert_non_null(strstr(logged.data, "could not write pod/" DRV_STATE_FILE));
    assert_null(strstr(logged.data, DRV_STATUS_FILE));
    pod_log_set_sink(quiet, NULL);
    pod_buf_free(&logged);
    env_free(e);
}

/* Collects the "retry in N ms" of every failed .pod.state write the daemon log reports. */
struct retry_log {
    int64_t delays[64];
    size_t n;
};

static void capture_state_retries(void *self, int level, const char *msg)
{
    (void)level;
    struct retry_log *rl = self;
    const char *r = strstr(msg, "(retry in ");
    if (strstr(msg, "could not write pod/" DRV_STATE_FILE ": ") == msg && r && rl->n < 64)
        rl->delays[rl->n++] = strtoll(r + 10, NULL, 10);
}

static char *state_text(struct env *e)
{
    char *st = NULL;
    size_t len;
    if (fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &st, &len) < 0)
        return NULL;
    return st;
}

/* SPEC 10.2: a failed .pod.state write is retried on its own, 1 s doubling to 30 s, without a
 * state change; the driver's next deadline includes the retry; failure and recovery are traced
 * once each; the file ends up current. */
static void test_drv__state_write_retried_with_backoff(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    struct retry_log rl = {{0}, 0};
    pod_log_set_sink(capture_state_retries, &rl);
    pod_log_set_level(POD_LOG_DEBUG);
    fs_mem_fail(e->mem, FS_MEM_OP_WRITE, 1, 0, ENOSPC); /* every write fails from now on */
    drv_flush_status(e->drv);
    /* the retry is the driver's next deadline (the status refresh and reconcile come later) */
    assert_int_equal(drv_next_deadline(e->drv), 3000 + DRV_WRITE_RETRY_MS);
    assert_non_null(strstr(e->trace.data, "3000 pod write-failing " DRV_STATE_FILE ": write "));
    run_until(e, 3000 + DRV_WRITE_RETRY_MS);
    assert_int_equal(drv_next_deadline(e->drv), 3000 + 3 * DRV_WRITE_RETRY_MS); /* doubled */
    /* nothing changes for 100 s: retries at 3 4 6 10 18 34 64 94 s, the delay capped at 30 s */
    run_until(e, 103000);
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    assert_int_equal(rl.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < rl.n; i++)
        assert_int_equal(rl.delays[i], want[i]);
    /* a change while the disk fails: a rerun starts instance 2, the state on disk is stale */
    ev.type = SUP_EV_RERUN;
    ev.ctr = 0;
    drv_input(e->drv, &ev);
    run_until(e, 110000);
    assert_int_equal(drv_sup_status(e->drv)->ctr[0].start_count, 2);
    char *st = state_text(e);
    assert_non_null(st);
    assert_non_null(strstr(st, "\"start_count\":1,"));
    free(st);
    /* the disk recovers; nothing changes any more.  The next .pod.status write (its refresh at
     * 113.11 s) succeeds, and .pod.state is written at once with it: not only at its own retry
     * (124 s), which a daemon dying in between would not have had (SPEC 10.2) */
    fs_mem_fail_clear(e->mem);
    run_until(e, 113109);
    st = state_text(e);
    assert_non_null(strstr(st, "\"start_count\":1,"));
    free(st);
    assert_null(strstr(e->trace.data, "write-recovered"));
    run_until(e, 113110);
    assert_non_null(strstr(e->trace.data, "113110 pod write-recovered " DRV_STATUS_FILE " after "));
    assert_non_null(strstr(e->trace.data, "113110 pod write-recovered " DRV_STATE_FILE " after "));
    /* traced once each: one failing, one recovered */
    const char *p = strstr(e->trace.data, "write-failing " DRV_STATE_FILE);
    assert_null(strstr(p + 1, "write-failing " DRV_STATE_FILE));
    st = state_text(e);
    assert_non_null(strstr(st, "\"start_count\":2,"));
    /* current: identical to what a forced write renders now */
    drv_flush_status(e->drv);
    char *st2 = state_text(e);
    assert_string_equal(st, st2);
    free(st);
    free(st2);
    /* and the retry timer is off again: nothing changes, so no .pod.state write (each one
     * syncs the directory) until 200 s, none at its old retry time (124 s) either */
    rl.n = 0;
    uint64_t sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR);
    run_until(e, 200000);
    assert_int_equal(rl.n, 0);
    assert_int_equal(fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR), sd);
    pod_log_set_level(POD_LOG_INFO);
    pod_log_set_sink(quiet, NULL);
    env_free(e);
}

/* A failed .pod.status write is retried after 1 s too (not only at the 5 s refresh). */
static void test_drv__status_write_retried(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    fs_mem_fail(e->mem, FS_MEM_OP_WRITE, 2, 1, EIO); /* a forced flush: state ok, status fails */
    drv_flush_status(e->drv);
    assert_non_null(strstr(e->trace.data, "3000 pod write-failing " DRV_STATUS_FILE ": "));
    assert_null(strstr(e->trace.data, "write-failing " DRV_STATE_FILE));
    assert_int_equal(drv_next_deadline(e->drv), 3000 + DRV_WRITE_RETRY_MS);
    run_until(e, 3000 + DRV_WRITE_RETRY_MS);
    assert_non_null(strstr(e->trace.data,
                           "4000 pod write-recovered " DRV_STATUS_FILE " after 1 failed writes"));
    size_t len;
    char *txt = status_text(e, &len);
    char *v = drv_status_get(txt, len, NULL, "updated");
    assert_string_equal(v, "1700000004");
    free(v);
    free(txt);
    env_free(e);
}

/* SPEC 10.2: .pod.state is brought up to date at once only when .pod.status recovers (the disk
 * takes writes again).  When only the state fails (here its directory sync) while .pod.status
 * is written fine every 5 s, the state keeps its own backoff (1, 2, 4, ... 30 s), not an attempt
 * at every refresh. */
static void test_drv__state_only_failure_keeps_backoff(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    struct retry_log rl = {{0}, 0};
    pod_log_set_sink(capture_state_retries, &rl);
    pod_log_set_level(POD_LOG_DEBUG);
    fs_mem_fail(e->mem, FS_MEM_OP_SYNCDIR, 1, 0, EIO); /* only .pod.state syncs the directory */
    uint64_t sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR);
    drv_flush_status(e->drv);
    run_until(e, 103000);
    assert_null(strstr(e->trace.data, "write-failing " DRV_STATUS_FILE));
    /* attempts at 3 4 6 10 18 34 64 94 s: the forced one and its 7 retries, nothing more */
    assert_int_equal(fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR) - sd, 8);
    static const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    assert_int_equal(rl.n, sizeof want / sizeof *want);
    for (size_t i = 0; i < rl.n; i++)
        assert_int_equal(rl.delays[i], want[i]);
    /* a failing write for a change while the retry is overdue (a forced flush between two
     * runs of the driver; the next retry is at 124 s) logs "retry in 0 ms", not a negative
     * delay */
    run_until(e, 123000);
    clk_fake_set(&e->clk, 124500);
    rl.n = 0;
    drv_flush_status(e->drv);
    assert_int_equal(rl.n, 1);
    assert_int_equal(rl.delays[0], 0);
    pod_log_set_level(POD_LOG_INFO);
    pod_log_set_sink(quiet, NULL);
    env_free(e);
}

/* Directory syncs made at 4.0 s, when web exits (started at 0.1 s); with fail_at_3s a .pod.state
 * write at 3 s fails once, so its retry falls due at 4.0 s as well. */
static uint64_t syncs_at_exit(bool fail_at_3s, char **state_out)
{
    struct env *e = env_new(POD1 "container web\n  exit 1 after 3900ms instances 1\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    if (fail_at_3s)
        fs_mem_fail(e->mem, FS_MEM_OP_SYNCDIR, 1, 1, EIO); /* this one .pod.state write fails */
    drv_flush_status(e->drv);
    if (fail_at_3s)
        assert_int_equal(drv_next_deadline(e->drv), 3000 + DRV_WRITE_RETRY_MS);
    run_until(e, 3999);
    uint64_t sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR);
    run_until(e, 4000);
    assert_non_null(strstr(e->trace.data, "4000 web exited instance=1 code=1"));
    if (fail_at_3s)
        assert_non_null(strstr(e->trace.data, "4000 pod write-recovered " DRV_STATE_FILE));
    sd = fs_mem_calls(e->mem, FS_MEM_OP_SYNCDIR) - sd;
    *state_out = state_text(e);
    env_free(e);
    return sd;
}

/* A .pod.state retry that falls due in the same run of the driver as a change of the state
 * writes the file once (the retry renders the change already), not twice in the same ms: as
 * many directory syncs (one per .pod.state write, the rest are the log files') as when no
 * write had failed, and the same content. */
static void test_drv__state_retry_and_change_write_once(void **state)
{
    (void)state;
    char *plain = NULL, *retried = NULL;
    uint64_t n_plain = syncs_at_exit(false, &plain);
    uint64_t n_retried = syncs_at_exit(true, &retried);
    assert_true(n_plain >= 1);
    assert_int_equal(n_retried, n_plain);
    assert_non_null(strstr(retried, "\"streak\":1,")); /* the exit is in it */
    assert_string_equal(retried, plain);
    free(plain);
    free(retried);
}

/* .pod.state is rewritten at once when only what .pod.status does not show changes (here the
 * re-run marker: `pod rerun` of a scheduled re-run that is stopping for a planned restart,
 * while the pod is not ready anyway), not at the next 5 s refresh. */
static void test_drv__state_written_when_only_hidden_fields_change(void **state)
{
    (void)state;
    struct env *e =
        env_new("pod:\n  api: 1.0.0-beta2\n  podVersion: 1.0.0\n  volumes:\n    - name: cfg\n"
                "      type: config\n  containers:\n    - name: web\n      image: x\n"
                "      restart: always\n      readinessProbe:\n        cmd: [ready]\n"
                "    - name: cron\n      image: x\n      restart: on-interval:5\n      mounts:\n"
                "        - volume: cfg\n          dest: /etc/cron\n"
                "container web\n  probe readiness fail\n"
                "container cron\n  exit 0 after 1s instances 1\n  on-term ignore\n",
                true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 8000); /* cron completed at 1.2 s, its re-run (instance 2) runs from 6.3 s */
    assert_true(drv_sup_status(e->drv)->ctr[1].rerun);
    assert_false(drv_sup_status(e->drv)->ready); /* web never gets ready */
    ev.type = SUP_EV_RELOAD_CONFIGS;             /* a planned restart: stopping, still a re-run */
    ev.volume = 0;
    drv_input(e->drv, &ev);
    run_until(e, 9000);
    assert_int_equal(drv_sup_status(e->drv)->ctr[1].phase, SUP_CTR_STOPPING);
    char *st = state_text(e);
    assert_non_null(strstr(st, "\"rerun_ready\":true"));
    free(st);
    size_t len;
    char *before = status_text(e, &len);
    /* the operator's cycle: no longer a scheduled re-run; nothing .pod.status shows changes */
    ev.type = SUP_EV_RERUN;
    ev.ctr = 1;
    drv_input(e->drv, &ev);
    assert_false(drv_sup_status(e->drv)->ctr[1].rerun);
    assert_int_equal(drv_sup_status(e->drv)->ctr[1].phase, SUP_CTR_STOPPING);
    char *after = status_text(e, &len);
    assert_string_equal(before, after);
    free(before);
    free(after);
    st = state_text(e);
    assert_null(strstr(st, "rerun_ready"));
    free(st);
    env_free(e);
}

/* SPEC 8.6/8.9: .pod.state carries the re-run marker and is rewritten when only the marker
 * changes (the re-run's startup times out: its stop changes nothing else the state holds
 * until the exit, 10 s later when it ignores SIGTERM). */
static void test_drv__state_file_tracks_rerun_marker(void **state)
{
    (void)state;
    struct env *e = env_new("pod:\n  api: 1.0.0-beta2\n  podVersion: 1.0.0\n  containers:\n"
                            "    - name: cron\n      image: x\n      restart: on-interval:5\n"
                            "      startupProbe:\n        timeout: 3\n        cmd: [ready]\n"
                            "container cron\n  exit 0 after 1s instances 1\n"
                            "  on-term ignore\n  probe startup fail instances 2\n",
                            true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 8000); /* completed at 1.1 s, re-run (instance 2) from 6.1 s */
    assert_true(drv_sup_status(e->drv)->ctr[0].rerun);
    assert_true(drv_sup_status(e->drv)->ready);
    char *st = state_text(e);
    assert_non_null(strstr(st, "\"instance\":2,"));
    assert_non_null(strstr(st, "\"rerun_ready\":true"));
    free(st);
    run_until(e, 12000); /* startup timed out at 9.2 s: stopping, SIGTERM ignored */
    assert_int_equal(drv_sup_status(e->drv)->ctr[0].phase, SUP_CTR_STOPPING);
    assert_false(drv_sup_status(e->drv)->ctr[0].rerun);
    assert_false(drv_sup_status(e->drv)->ready);
    st = state_text(e);
    assert_non_null(strstr(st, "\"instance\":2,"));
    assert_null(strstr(st, "rerun_ready"));
    free(st);
    env_free(e);
}

/* ------------------------------------------------------------------ the log sink */

/* A sink that records what the driver hands it and reports stats a test sets, like an
 * asynchronous sink (the log pump) whose stats lag behind its writes. */
struct rec_sink {
    struct pod_buf calls; /* "write 0 stdout 1700000000100000000 <data>|eof 0 stderr ..." */
    struct logw_stats stats[2];
    char error[64];
    int retries, closes;
};

static void rec_write(void *self, size_t ctr, enum backend_stream stream, const char *data,
                      size_t len, int64_t wall_ns)
{
    struct rec_sink *r = self;
    pod_buf_printf(&r->calls, "write %zu %s %lld %.*s|", ctr,
                   stream == BACKEND_STDERR ? "stderr" : "stdout", (long long)wall_ns, (int)len,
                   data);
}

static void rec_eof(void *self, size_t ctr, enum backend_stream stream, int64_t wall_ns)
{
    struct rec_sink *r = self;
    pod_buf_printf(&r->calls, "eof %zu %s %lld|", ctr,
                   stream == BACKEND_STDERR ? "stderr" : "stdout", (long long)wall_ns);
}

static void rec_retry(void *self, int64_t wall_ns)
{
    (void)wall_ns;
    ((struct rec_sink *)self)->retries++;
}

static struct logw_stats rec_stats(void *self, size_t ctr, enum backend_stream stream, char *errbuf,
                                   size_t errlen)
{
    struct rec_sink *r = self;
    if (errbuf)
        snprintf(errbuf, errlen, "%s", r->error);
    struct logw_stats z;
    memset(&z, 0, sizeof z);
    return ctr == 0 ? r->stats[stream == BACKEND_STDERR ? 1 : 0] : z;
}

static void rec_close(void *self)
{
    ((struct rec_sink *)self)->closes++;
}

static const struct drv_log_sink_ops rec_ops = {
    .write = rec_write, .eof = rec_eof, .retry = rec_retry, .stats = rec_stats, .close = rec_close};

/* A rerun of a container asks the backend to drop what it prepared ahead for it (ctr_renew,
 * SPEC 7.8.2: a warm standby made from the image of then) as the request comes in, before the
 * supervisor's stop and start; no other input does, nor a rerun of no container. */
static size_t renew_calls, renew_last_ctr, renew_starts_before;
static struct env *renew_env;

static void rec_renew(void *self, size_t ctr)
{
    (void)self;
    renew_calls++;
    renew_last_ctr = ctr;
    renew_starts_before = drv_sup_status(renew_env->drv)->ctr[0].start_count;
}

static void test_drv__rerun_renews_the_backend(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, false);
    static struct backend_ops ops;
    ops = *e->be.ops;
    ops.ctr_renew = rec_renew;
    e->be.ops = &ops;
    struct drv_cfg dc = drv_cfg_of(e, 1);
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    renew_env = e;
    renew_calls = 0;
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    ev.type = SUP_EV_SIGNAL;
    ev.ctr = 0;
    drv_input(e->drv, &ev);
    assert_int_equal(renew_calls, 0);
    ev.type = SUP_EV_RERUN;
    drv_input(e->drv, &ev);
    assert_int_equal(renew_calls, 1);
    assert_int_equal(renew_last_ctr, 0);
    assert_int_equal(renew_starts_before, 1); /* before the start of instance 2 */
    run_until(e, 10000);
    assert_int_equal(drv_sup_status(e->drv)->ctr[0].start_count, 2);
    ev.ctr = 7; /* no such container */
    drv_input(e->drv, &ev);
    assert_int_equal(renew_calls, 1);
    env_free(e);
}

/* The driver hands every output event to its sink (container, stream, bytes, the clock's wall
 * time), traces what the sink's stats say changed, calls the sink's retry every 1 s while a
 * stream has a backlog or fails, and closes the sink when it is freed. */
static void test_drv__log_sink_gets_output_and_is_retried(void **state)
{
    (void)state;
    struct env *e =
        env_new(POD1 "container web\n  stdout 1/s\n  exit 0 after 2500ms instances 1\n", false);
    struct rec_sink rec;
    memset(&rec, 0, sizeof rec);
    struct drv_cfg dc = drv_cfg_of(e, 1);
    dc.log.ops->close(dc.log.self); /* replaced by the recording sink */
    dc.log = (struct drv_log_sink){&rec_ops, &rec};
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 2000);
    /* one line per second, stamped with the wall clock at the read */
    assert_non_null(
        strstr(rec.calls.data, "write 0 stdout 1700000001000000000 web stdout i1 n000001"));
    assert_int_equal(rec.retries, 0);
    /* the sink reports a failing disk (as the pump would, some time after the write) */
    rec.stats[0].failing = true;
    rec.stats[0].backlog_bytes = 42;
    snprintf(rec.error, sizeof rec.error, "disk full");
    run_until(e, 2300); /* no output now, but the retry is armed: 1 s later */
    assert_int_equal(drv_log_stats(e->drv, 0, 0).backlog_bytes, 42);
    run_until(e, 3000); /* the exit at 2.6 s ended both streams; the trace shows the stats */
    assert_non_null(strstr(rec.calls.data, "eof 0 stdout 1700000002600000000|"));
    assert_non_null(strstr(rec.calls.data, "eof 0 stderr 1700000002600000000|"));
    assert_non_null(strstr(e->trace.data, "2600 web log-failing stdout backlog=42: disk full"));
    run_until(e, 4000);
    assert_int_equal(rec.retries, 1); /* at 3.3 s */
    rec.stats[0].failing = false;
    rec.stats[0].backlog_bytes = 0;
    run_until(e, 6000);
    assert_int_equal(rec.retries, 2);
    assert_non_null(strstr(e->trace.data, "4300 web log-recovered stdout"));
    run_until(e, 9000);
    assert_int_equal(rec.retries, 2); /* nothing waits: no more retries */
    drv_free(e->drv);
    e->drv = NULL;
    assert_int_equal(rec.closes, 1);
    pod_buf_free(&rec.calls);
    env_free(e);
}

/* The logw-inline sink: <dir>/log/<base>.log per stream, base from drv_log_base_name; stats
 * and the last error through the ops. */
static void test_drv_logw_sink__files_and_stats(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, false);
    struct pod_err err = POD_ERR_ZERO;
    struct drv_logw_sink_cfg lc = {.spec = e->spec, .fs = fs_mem_fs(e->mem), .dir = "pod"};
    struct drv_log_sink sink;
    assert_int_equal(drv_logw_sink_new(&lc, &sink, &err), 0);
    char *base = drv_log_base_name(e->spec, 0, BACKEND_STDERR);
    assert_string_equal(base, "web-p-1.0.0-stderr");
    free(base);
    sink.ops->write(sink.self, 0, BACKEND_STDERR, "oops\npart", 9, 1700000000000000000LL);
    sink.ops->eof(sink.self, 0, BACKEND_STDERR, 1700000001000000000LL);
    sink.ops->write(sink.self, 7, BACKEND_STDOUT, "ignored\n", 8, 1); /* no such container */
    char errbuf[32] = "x";
    struct logw_stats ls = sink.ops->stats(sink.self, 0, BACKEND_STDERR, errbuf, sizeof errbuf);
    assert_int_equal(ls.lines, 1);
    assert_int_equal(ls.partial_lines, 1);
    assert_string_equal(errbuf, "");
    assert_int_equal(sink.ops->stats(sink.self, 0, BACKEND_STDOUT, NULL, 0).lines, 0);
    sink.ops->retry(sink.self, 1700000002000000000LL); /* nothing waits: a no-op */
    sink.ops->close(sink.self);
    char *log = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/log/web-p-1.0.0-stderr.log", &log, &len), 0);
    assert_non_null(strstr(log, "1700000000.000000000 0 oops\n"));
    assert_non_null(strstr(log, "1700000001.000000000 1+ part\n"));
    free(log);
    assert_int_equal(drv_logw_sink_new(&(struct drv_logw_sink_cfg){0}, &sink, &err), -1);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_backend_sim__lifecycle_and_output),
        cmocka_unit_test(test_backend_sim__probes_hang_and_cancel),
        cmocka_unit_test(test_backend_sim__faults),
        cmocka_unit_test(test_backend_sim__output_path_models),
        cmocka_unit_test(test_drv__start_writes_status),
        cmocka_unit_test(test_drv__last_warning),
        cmocka_unit_test(test_drv_status_check__rejects_malformed),
        cmocka_unit_test(test_drv__reconcile_repairs_lost_exit),
        cmocka_unit_test(test_drv__failed_stop_is_retried),
        cmocka_unit_test(test_drv__recover_readopts_running),
        cmocka_unit_test(test_drv__recover_stuck_created_is_restarted),
        cmocka_unit_test(test_drv__state_write_syncs_dir),
        cmocka_unit_test(test_drv__state_write_retried_with_backoff),
        cmocka_unit_test(test_drv__status_write_retried),
        cmocka_unit_test(test_drv__state_only_failure_keeps_backoff),
        cmocka_unit_test(test_drv__state_retry_and_change_write_once),
        cmocka_unit_test(test_drv__state_written_when_only_hidden_fields_change),
        cmocka_unit_test(test_drv__state_file_tracks_rerun_marker),
        cmocka_unit_test(test_drv__rerun_renews_the_backend),
        cmocka_unit_test(test_drv__log_sink_gets_output_and_is_retried),
        cmocka_unit_test(test_drv_logw_sink__files_and_stats),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
